-- The sent messages whose outcome as the log keeps it (v_messages, read
-- from messages.sent_outcome) is not what the replies' rows say, worked
-- out as PostgreSQL's v_messages works it out (and SQLite's did before
-- the writer kept it): an IMAP APPEND's tagged reply; SMTP's reply to
-- the end of the data; else LMTP's, one a recipient. outcomes.sh puts
-- that view's CASE in place of @PG_OUTCOME@. Must be 0.
SELECT count(*) FROM messages m
JOIN v_messages v ON v.message_id = m.id
LEFT JOIN transactions t ON m.proto = 'smtp' AND t.session_id = m.session_id
     AND t.tx = m.tx
LEFT JOIN commands c ON m.proto = 'imap' AND c.session_id = m.session_id
     AND c.seq = m.seq
WHERE m.direction = 'c2s' AND v.outcome IS NOT
  CASE
@PG_OUTCOME@
  END;
