-- mailsift log schema, version 7 (PRAGMA user_version).
-- Times are Unix epoch seconds with microseconds (REAL), capture time.
-- Provenance: *frame columns number packets from 1 in the capture file
-- (as Wireshark does), *offset columns give where that packet's record
-- begins in the file (NULL when read from a pipe).  A row's frame is the
-- packet that completed it (the end of a command line, say).
-- Every table is documented in README.md; views answer common questions.

CREATE TABLE IF NOT EXISTS runs (
	id		INTEGER PRIMARY KEY,
	started		TEXT NOT NULL,		-- wall clock, UTC, ISO 8601
	finished	TEXT,
	version		TEXT NOT NULL,
	command		TEXT NOT NULL,		-- argv, space separated
	status		INTEGER,		-- exit status; -1: killed (a later
						-- run found it unfinished)
	owner		TEXT,			-- HOST/BOOT/PID/START of its process
	blobs		TEXT			-- where it kept message bytes
);

-- The capture files each run read, so that evidence can be traced to
-- them: frames in the other tables count packets of these files.
CREATE TABLE IF NOT EXISTS captures (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id),
	path		TEXT NOT NULL,		-- as given ("-": standard input)
	size		INTEGER,		-- bytes; NULL for a pipe
	sha256		TEXT,			-- of the whole file; NULL for a pipe
	link_type	TEXT,			-- EN10MB, LINUX_SLL2, ...
	packets		INTEGER NOT NULL,	-- records read
	first_ts	REAL,			-- first and last packet times
	last_ts		REAL,
	damaged		INTEGER NOT NULL DEFAULT 0 -- 1: not readable to its end
);

-- What each run read and lost, per status interval of mailsift live
-- and for the whole run (total = 1; mailsift read writes that row
-- only).  Times are wall clock, UTC.  A row with kernel_dropped > 0 says
-- the log of that interval is incomplete.
CREATE TABLE IF NOT EXISTS capture_stats (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id),
	since		TEXT NOT NULL,
	until		TEXT NOT NULL,
	total		INTEGER NOT NULL DEFAULT 0,
	packets		INTEGER NOT NULL,	-- read by mailsift
	bytes		INTEGER NOT NULL,
	kernel_received	INTEGER,		-- live: passed the filter
	kernel_dropped	INTEGER,		-- live: no room in the buffer
	if_dropped	INTEGER,		-- live: dropped by the interface
	gap_bytes	INTEGER NOT NULL,	-- stream bytes lost (holes)
	streams_evicted	INTEGER NOT NULL,	-- ended by a cap or timeout
	detect_over_budget INTEGER NOT NULL,	-- connections not dissected:
						-- detection memory spent
	reserved_v4	INTEGER NOT NULL,	-- 240.0.0.0/10 packets dropped
	store_errors	INTEGER,		-- live: writes of the log that failed
	messages_lost	INTEGER			-- live: messages a failed write lost
);

CREATE TABLE IF NOT EXISTS sessions (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id),
	proto		TEXT NOT NULL,		-- smtp|pop3|imap
	capture_file	TEXT,			-- file where the session began
	client_ip	TEXT NOT NULL,
	client_port	INTEGER NOT NULL,
	server_ip	TEXT NOT NULL,
	server_port	INTEGER NOT NULL,
	start_ts	REAL NOT NULL,
	end_ts		REAL,
	banner_code	INTEGER,		-- SMTP greeting code
	banner		TEXT,			-- greeting text
	banner_frame	INTEGER,		-- the greeting's packet
	helo		TEXT,			-- last HELO/EHLO/LHLO name
	username	TEXT,			-- last user who logged in
	state		TEXT,			-- last POP3/IMAP state
	mailbox		TEXT,			-- last IMAP mailbox selected
	client_id	TEXT,			-- IMAP ID of the client
	server_id	TEXT,			-- IMAP ID of the server
	compression	TEXT,			-- deflate (IMAP COMPRESS)
	tls		TEXT NOT NULL DEFAULT 'none', -- none|starttls|implicit
	midstream	INTEGER NOT NULL DEFAULT 0, -- 1: began before the capture
	end_reason	TEXT,			-- quit|close|reset|timeout|capture_end|error
						-- |rotated|killed
	bytes_c2s	INTEGER,		-- stream bytes client to server
	bytes_s2c	INTEGER,
	tls_bytes_c2s	INTEGER,		-- of those, after TLS began
	tls_bytes_s2c	INTEGER,
	first_frame	INTEGER,		-- the client's SYN (the first
	first_offset	INTEGER,		--   packet seen, mid-stream)
	last_frame	INTEGER,		-- its last packet with data, FIN
	last_offset	INTEGER,		--   or RST
	last_capture_file TEXT,			-- file of last_frame
	gap_bytes	INTEGER NOT NULL DEFAULT 0, -- bytes the capture lost
	-- its rows, counted at each commit (sqlite_counts.c)
	n_commands	INTEGER NOT NULL DEFAULT 0,
	n_messages	INTEGER NOT NULL DEFAULT 0, -- whole: pieces left out
	n_auths		INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS extensions (	-- EHLO, CAPA, CAPABILITY
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	keyword		TEXT NOT NULL,
	params		TEXT
);

CREATE TABLE IF NOT EXISTS commands (
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	seq		INTEGER NOT NULL,	-- order in the session, from 1
	ts		REAL NOT NULL,
	verb		TEXT NOT NULL,		-- upper case, as sent otherwise
	args		TEXT,			-- IMAP literals shown as {n}
	tag		TEXT,			-- IMAP tag
	reply_code	INTEGER,		-- SMTP code; NULL: none seen
	reply_status	TEXT,			-- POP3/IMAP: ok|no|bad
	reply_text	TEXT,			-- multi-line replies joined by LF
	reply_ts	REAL,
	frame		INTEGER,		-- packet that ended the command
	offset		INTEGER,		-- where its record begins
	reply_frame	INTEGER,		-- packet that ended the reply
	reply_offset	INTEGER,
	PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS auth (
	id		INTEGER PRIMARY KEY,
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	seq		INTEGER,		-- the command that began it
	ts		REAL NOT NULL,		-- when the verdict came
	mechanism	TEXT NOT NULL,		-- SASL name; USER, APOP, LOGIN
	username	TEXT,
	password	TEXT,			-- only when it crossed in clear
	challenge	TEXT,			-- CRAM-MD5 challenge, APOP stamp
	proof		TEXT,			-- digest, OAuth token
	reply_code	INTEGER,		-- SMTP code
	outcome		TEXT NOT NULL,		-- success|failure|cancelled|unknown
	redacted	INTEGER NOT NULL DEFAULT 0, -- 1: read --redact dropped
						-- the password or token
	frame		INTEGER,		-- packet of the verdict
	offset		INTEGER
);

CREATE TABLE IF NOT EXISTS transactions (	-- SMTP MAIL ... final reply
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	tx		INTEGER NOT NULL,	-- order in the session, from 1
	mail_seq	INTEGER,		-- the MAIL command (commands.seq)
	ts		REAL NOT NULL,
	mail_from	TEXT,			-- reverse-path without <>
	mail_params	TEXT,			-- SIZE=, BODY=, ...
	final_code	INTEGER,		-- reply to the end of data
	final_reply	TEXT,
	queue_id	TEXT,			-- as the server named it
	PRIMARY KEY (session_id, tx)
);

CREATE TABLE IF NOT EXISTS recipients (
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	tx		INTEGER NOT NULL,
	seq		INTEGER NOT NULL,	-- the RCPT command
	address		TEXT,			-- forward-path without <>
	params		TEXT,
	delivery_code	INTEGER,		-- LMTP: this recipient's reply
	delivery_reply	TEXT,			-- after the data (RFC 2033)
	PRIMARY KEY (session_id, seq)
);

CREATE TABLE IF NOT EXISTS messages (
	id		INTEGER PRIMARY KEY,
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	tx		INTEGER NOT NULL,	-- SMTP: transactions.tx;
						-- POP3/IMAP: order in session
	seq		INTEGER,		-- the command that carried it
	proto		TEXT NOT NULL,		-- smtp|pop3|imap
	method		TEXT NOT NULL,		-- DATA|BDAT|RETR|TOP|FETCH|APPEND
	direction	TEXT NOT NULL,		-- c2s: sent/uploaded, s2c: fetched
	begin_ts	REAL NOT NULL,
	end_ts		REAL,
	size		INTEGER,		-- bytes after dot-unstuffing
	sha256		TEXT,			-- of exactly those bytes
	complete	INTEGER NOT NULL DEFAULT 0, -- 1: end of data seen
	partial		INTEGER NOT NULL DEFAULT 0, -- 1: a part (TOP, BODY[1])
	section		TEXT,			-- IMAP section; TOP line count
	mailbox		TEXT,			-- IMAP mailbox
	msgno		INTEGER,		-- POP3/IMAP message number
	uid		INTEGER,		-- IMAP UID
	flags		TEXT,			-- IMAP flags
	extract_path	TEXT,			-- with --extract
	kept		INTEGER NOT NULL DEFAULT 0, -- bytes kept in LOG.blobs
	-- from the message's own header (first field of each name),
	-- RFC 2047 words decoded to UTF-8
	subject		TEXT,
	from_addr	TEXT,
	to_addrs	TEXT,
	cc_addrs	TEXT,
	bcc_addrs	TEXT,
	reply_to	TEXT,
	date_raw	TEXT,			-- Date as sent
	date_utc	TEXT,			-- Date in UTC, YYYY-MM-DD HH:MM:SS
	msg_id		TEXT,			-- Message-ID
	in_reply_to	TEXT,
	refs		TEXT,			-- References
	mailer		TEXT,			-- X-Mailer or User-Agent
	return_path	TEXT,
	dkim		INTEGER NOT NULL DEFAULT 0, -- DKIM-Signature present
	auth_results	INTEGER NOT NULL DEFAULT 0, -- Authentication-Results
	parts		INTEGER NOT NULL DEFAULT 0, -- MIME parts
	attachments	INTEGER NOT NULL DEFAULT 0, -- of those, with a file name
	-- provenance and completeness
	capture_file	TEXT,			-- file of first_frame
	first_frame	INTEGER,		-- packet with its first bytes
	first_offset	INTEGER,
	last_frame	INTEGER,		-- packet with its last bytes
	last_offset	INTEGER,
	gap_bytes	INTEGER NOT NULL DEFAULT 0, -- lost inside it
	-- identity across hops: SHA-256 of the body after the header
	-- block, CRLF as LF, trailing line ends dropped; NULL for parts,
	-- messages cut short and messages without a body
	body_sha256	TEXT,
	-- IMAP: rebuilt whole from the pieces a client fetched (chunks
	-- "<0.65536>+<65536.1200>", or "HEADER+TEXT"); NULL: crossed as is
	assembled	TEXT,
	-- signs of a sender pretending to be another, and a body changed
	-- after signing: display_name_address,reply_to_domain,
	-- return_path_domain,lookalike_domain,dkim_body_changed
	findings	TEXT,
	-- the addresses of its Received fields, newest hop first, as
	-- Zeek's smtp.log path has them after the connection's hosts
	received_path	TEXT,
	x_originating_ip TEXT,
	-- what the replies to a sent message say of it (accepted,
	-- rejected, partly accepted, unknown), kept by the writer as they
	-- come (sqlite_counts.c); NULL for messages fetched
	sent_outcome	TEXT,
	UNIQUE (session_id, tx)
);

-- Every field of a message's top-level header, in order.
CREATE TABLE IF NOT EXISTS headers (
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	n		INTEGER NOT NULL,	-- place in the header, from 0
	name		TEXT NOT NULL,
	value		TEXT,			-- unfolded, as sent
	decoded		TEXT,			-- RFC 2047 words decoded
	PRIMARY KEY (message_id, n)
) WITHOUT ROWID;

-- One row per MIME part (multipart containers are not parts).
CREATE TABLE IF NOT EXISTS parts (
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	part		INTEGER NOT NULL,	-- order in the message, from 1
	path		TEXT NOT NULL,		-- IMAP numbering: 1, 2.1, ...; P/n: file n inside part P
	content_type	TEXT NOT NULL,
	charset		TEXT,
	encoding	TEXT,			-- Content-Transfer-Encoding
	disposition	TEXT,			-- inline|attachment
	filename	TEXT,			-- as the sender named it, decoded
	encoded_size	INTEGER,		-- bytes as sent
	size		INTEGER,		-- bytes decoded
	md5		TEXT,			-- of the decoded bytes
	sha256		TEXT,
	complete	INTEGER NOT NULL DEFAULT 0,
	extract_path	TEXT,			-- with --extract: a safe name
	magic_type	TEXT,			-- MIME type by content (libmagic)
	findings	TEXT,			-- executable_disguised,extension_mismatch,type_mismatch
	sha1		TEXT,			-- with --sha1
	archive_password TEXT,			-- the word of the text that opened it
	PRIMARY KEY (message_id, part)
) WITHOUT ROWID;

-- The files inside archive parts (zip, 7z, rar, tar, gzip, ...), archives
-- inside archives opened to three levels.
CREATE TABLE IF NOT EXISTS archive_entries (
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	part		INTEGER NOT NULL,	-- parts.part of the archive
	n		INTEGER NOT NULL,	-- order in the part, from 1
	path		TEXT NOT NULL,		-- inner archives' names joined by "/"
	depth		INTEGER NOT NULL,	-- 1: in the part itself
	size		INTEGER,		-- as the archive says
	encrypted	INTEGER NOT NULL DEFAULT 0,
	sha256		TEXT,			-- of its bytes, when they could be read
	magic_type	TEXT,			-- MIME type by content
	PRIMARY KEY (message_id, part, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS archive_entries_sha256 ON archive_entries(sha256);

-- What the YARA rules of --yara matched: a part, a file inside an archive
-- part, or the whole message.
CREATE TABLE IF NOT EXISTS yara_matches (
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	part		INTEGER NOT NULL,	-- parts.part; 0: the whole message
	entry		INTEGER NOT NULL,	-- archive_entries.n; 0: the part itself
	rule		TEXT NOT NULL,
	namespace	TEXT NOT NULL,
	tags		TEXT,			-- comma-separated
	meta		TEXT,			-- the rule's metadata, a JSON object
	PRIMARY KEY (message_id, part, entry, namespace, rule)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS yara_matches_rule ON yara_matches(rule);

-- Who sent a message, as its header tells (RFC 6376, 8601, 8617, 7208):
-- each DKIM and ARC signature, and each verdict a receiving server
-- recorded (Authentication-Results, ARC-Authentication-Results,
-- Received-SPF), one row per method.
CREATE TABLE IF NOT EXISTS message_auth (
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	n		INTEGER NOT NULL,	-- order in the message, from 1
	kind		TEXT NOT NULL,		-- dkim-signature|arc-message-signature|arc-seal|authentication-results|arc-authentication-results|received-spf
	instance	INTEGER,		-- ARC's i=
	authserv	TEXT,			-- the server that recorded a verdict
	method		TEXT,			-- spf|dkim|dmarc|arc|...
	result		TEXT,			-- pass|fail|softfail|none|... (ARC-Seal: cv=)
	domain		TEXT,			-- d=, or the domain a verdict is about
	selector	TEXT,			-- s=, header.s
	algorithm	TEXT,			-- a=
	canonicalization TEXT,			-- c=
	signed_headers	TEXT,			-- h=
	body_hash	TEXT,			-- bh=
	body_length	INTEGER,		-- l=
	body_hash_check	TEXT,			-- match|mismatch: bh= against the body that crossed
	detail		TEXT,			-- a verdict's properties (smtp.mailfrom=..., header.i=...)
	PRIMARY KEY (message_id, n)
) WITHOUT ROWID;

-- Links in the text of messages (text/plain and text/html parts, after
-- transfer decoding, charset conversion and HTML entities): bare URLs and
-- mailto: addresses in text, the URL attributes of HTML (href, src,
-- action, background, ...) with the text an <a> shows.
CREATE TABLE IF NOT EXISTS urls (
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	n		INTEGER NOT NULL,	-- order in the message, from 1
	part		INTEGER,		-- parts.part it is in
	kind		TEXT NOT NULL,		-- text|mailto|href|src|action|background|...
	url		TEXT NOT NULL,		-- as written, entities decoded
	host		TEXT,			-- lower case; a mailto's domain
	shown_text	TEXT,			-- what an HTML link shows
	findings	TEXT,			-- text_host_mismatch,punycode,mixed_script
	truncated	INTEGER NOT NULL DEFAULT 0, -- longer than 2048 bytes: cut
	PRIMARY KEY (message_id, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS urls_host ON urls(host);

-- Full-text index of the messages' subjects and readable text (text/plain
-- and text/html parts, HTML stripped); rowid = messages.id.
CREATE VIRTUAL TABLE IF NOT EXISTS message_text USING fts5(subject, body);

-- The bytes of kept messages of 16 KiB or less (most mail: notifications,
-- replies, text without attachments), by their SHA-256 (messages.sha256
-- of a row with kept = 1); larger ones are files, LOG.blobs/AB/ABCD...
-- Not one file created per small message: creating them was a seventh of
-- reading small mail.  A spool's are shipped with the rows naming them
-- (sqlite_ship.c); not carried at rotation (a message's bytes go to the
-- file its row ends in).
CREATE TABLE IF NOT EXISTS blob_bytes (
	sha256		TEXT PRIMARY KEY,
	bytes		BLOB NOT NULL
);

-- What happened to messages of a maildrop or mailbox.
CREATE TABLE IF NOT EXISTS items (
	id		INTEGER PRIMARY KEY,
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	seq		INTEGER,		-- the command
	ts		REAL NOT NULL,
	action		TEXT NOT NULL,		-- list|uidl|dele|flags|expunge|vanished
	msgno		INTEGER,		-- message sequence number
	size		INTEGER,		-- POP3 LIST
	uid		TEXT,			-- POP3 UIDL; IMAP VANISHED set
	flags		TEXT,			-- IMAP flags after STORE
	deletion	TEXT			-- dele: marked|committed|reset
);

-- IMAP SELECT and EXAMINE with what the server said of the mailbox.
CREATE TABLE IF NOT EXISTS mailboxes (
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	seq		INTEGER NOT NULL,
	ts		REAL NOT NULL,
	command		TEXT NOT NULL,		-- SELECT|EXAMINE
	mailbox		TEXT,
	status		TEXT,			-- ok|no|bad
	messages	INTEGER,		-- EXISTS
	uidvalidity	INTEGER,
	uidnext		INTEGER,
	recent		INTEGER,
	PRIMARY KEY (session_id, seq)
);

-- IMAP untagged responses and continuation requests.
CREATE TABLE IF NOT EXISTS responses (
	id		INTEGER PRIMARY KEY,
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	seq		INTEGER,		-- the command answered; NULL: none
	ts		REAL NOT NULL,
	keyword		TEXT NOT NULL,		-- EXISTS, FETCH, SEARCH, +, ...
	number		INTEGER,		-- "* n KEYWORD"; SEARCH: results
	text		TEXT			-- the line, literals as {n}
);

CREATE TABLE IF NOT EXISTS anomalies (
	id		INTEGER PRIMARY KEY,
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	ts		REAL NOT NULL,
	direction	TEXT NOT NULL,		-- c2s|s2c
	name		TEXT NOT NULL,
	detail		TEXT,
	frame		INTEGER			-- packet that showed it
);

CREATE INDEX IF NOT EXISTS auth_session ON auth(session_id);
CREATE INDEX IF NOT EXISTS messages_sha256 ON messages(sha256);
CREATE INDEX IF NOT EXISTS anomalies_session ON anomalies(session_id);
-- the sessions of one anomaly (sessions --anomaly, the overview's bars)
CREATE INDEX IF NOT EXISTS anomalies_name ON anomalies(name, session_id);
CREATE INDEX IF NOT EXISTS extensions_session ON extensions(session_id);
CREATE INDEX IF NOT EXISTS items_session ON items(session_id);
CREATE INDEX IF NOT EXISTS parts_sha256 ON parts(sha256);
-- the attachments alone (the files and attachments listings): most parts
-- are message text, which a scan of parts_sha256 would visit one by one
CREATE INDEX IF NOT EXISTS parts_attachments ON parts(sha256)
    WHERE filename IS NOT NULL;
-- ... and in the attachments listing's order, which otherwise walks
-- every part of the log to find its first page
CREATE INDEX IF NOT EXISTS parts_attachments_order ON parts(message_id, path)
    WHERE filename IS NOT NULL;
-- ... and by the MD5 or SHA-1 an analyst pastes (attachments --hash,
-- files --hash): the attachments' alone, which small mail has few of
CREATE INDEX IF NOT EXISTS parts_attachments_md5 ON parts(md5)
    WHERE filename IS NOT NULL;
CREATE INDEX IF NOT EXISTS parts_attachments_sha1 ON parts(sha1)
    WHERE filename IS NOT NULL AND sha1 IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_msg_id ON messages(msg_id);
CREATE INDEX IF NOT EXISTS messages_body ON messages(body_sha256);
-- the pieces alone (POP3 TOP, partial FETCH): the messages listing's
-- total is every message less these
CREATE INDEX IF NOT EXISTS messages_pieces ON messages(session_id)
    WHERE partial <> 0;
CREATE INDEX IF NOT EXISTS responses_session ON responses(session_id, seq);
-- the analyst's pivots: a host's sessions, the largest messages, first
CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client_ip);
CREATE INDEX IF NOT EXISTS sessions_server ON sessions(server_ip);
CREATE INDEX IF NOT EXISTS messages_size ON messages(size);
-- ... and the longest sessions: v_sessions' duration, as it computes it
CREATE INDEX IF NOT EXISTS sessions_duration
    ON sessions(round(coalesce(end_ts, start_ts) - start_ts, 3));
-- ... and the newest first: v_messages' time and v_sessions' start, as
-- they compute them (a sort by time read and sorted every row: 0.64 s at
-- a million messages).  For the sort only: a span of time is read in the
-- listing's own order (LISTING_SPAN_TIME in cli/listings.h says
-- why).  Keys that
-- mostly grow: most rows' entries go at the index's end
CREATE INDEX IF NOT EXISTS messages_time
    ON messages(datetime(begin_ts, 'unixepoch'));
CREATE INDEX IF NOT EXISTS sessions_start_time
    ON sessions(datetime(start_ts, 'unixepoch'));

-- TLS as read without keys: one row a session that spoke TLS (after
-- STARTTLS, or from its first byte on 465, 993, 995).  Lists are
-- comma-separated 4-digit hex code points in the order sent, GREASE
-- included; names follow the IANA registry (cipher) and Zeek (version).
CREATE TABLE IF NOT EXISTS tls (
	session_id	INTEGER PRIMARY KEY REFERENCES sessions(id),
	ts		REAL NOT NULL,		-- the first hello
	sni		TEXT,			-- server_name the client asked for
	client_version	TEXT,			-- highest it offered: TLSv13
	versions_offered TEXT,			-- supported_versions
	ciphers_offered	TEXT,
	groups_offered	TEXT,			-- supported_groups
	alpn_offered	TEXT,			-- protocols, comma-separated
	client_exts	TEXT,			-- extension types
	sig_algs	TEXT,			-- signature_algorithms
	client_session_id TEXT,			-- hex; a resumption attempt
	ticket_offered	INTEGER,		-- 1: it presented a session ticket
	psk_offered	INTEGER,		-- 1: pre_shared_key (TLS 1.3)
	ja3		TEXT,			-- MD5 of ja3_string
	ja3_string	TEXT,
	ja4		TEXT,
	version		TEXT,			-- negotiated: TLSv12, TLSv13
	cipher		TEXT,			-- chosen suite (0xNNNN if unnamed)
	curve		TEXT,			-- key exchange group: x25519, secp256r1
	alpn		TEXT,			-- the protocol chosen
	server_exts	TEXT,
	server_session_id TEXT,
	ja3s		TEXT,
	ja3s_string	TEXT,
	hrr		INTEGER NOT NULL DEFAULT 0, -- HelloRetryRequest sent
	resumed		INTEGER,		-- 1: an earlier session resumed
	established	INTEGER,		-- 1: the handshake completed
	last_alert	TEXT,			-- alert in clear: handshake_failure
	alerts		INTEGER NOT NULL DEFAULT 0,
	records_c2s	INTEGER,
	records_s2c	INTEGER,
	cert_chain_fps	TEXT,			-- server's chain, SHA-256, leaf first
	client_cert_chain_fps TEXT,
	validation	TEXT,			-- ok, self-signed, expired, not yet
						-- valid, unknown issuer, ...
	sni_matches_cert INTEGER,		-- NULL: no SNI or no certificate
	greeting_matches_cert INTEGER,		-- the host name in the server's
						-- greeting against the certificate
	decryption	TEXT			-- with --keylog: decrypted, no key for
						-- this client random, bad record MAC,
						-- suite not decrypted: NAME, ...
);

-- Certificates sent in clear (TLS 1.2 and older; TLS 1.3 encrypts them),
-- as libcrypto reads them.  Times are Unix seconds.
CREATE TABLE IF NOT EXISTS certificates (
	session_id	INTEGER NOT NULL REFERENCES sessions(id),
	sender		TEXT NOT NULL,		-- server or client
	idx		INTEGER NOT NULL,	-- place in the chain, 0: the sender's own
	ts		REAL NOT NULL,
	sha256		TEXT NOT NULL,		-- fingerprint of the DER bytes
	version		INTEGER,
	serial		TEXT,			-- hex, upper case
	subject		TEXT,			-- RFC 2253: CN=...,O=...,C=..
	issuer		TEXT,
	not_before	REAL,
	not_after	REAL,
	key_alg		TEXT,			-- rsaEncryption, id-ecPublicKey
	key_type	TEXT,			-- rsa, ecdsa, dsa, ed25519
	key_bits	INTEGER,
	exponent	TEXT,			-- RSA public exponent
	curve		TEXT,			-- EC key's curve
	sig_alg		TEXT,			-- sha256WithRSAEncryption, ...
	san_dns		TEXT,			-- subject alternative names,
	san_ip		TEXT,			-- comma-separated
	san_email	TEXT,
	san_uri		TEXT,
	is_ca		INTEGER,		-- basic constraints; NULL: absent
	path_len	INTEGER,
	der		BLOB NOT NULL,		-- the certificate as sent
	PRIMARY KEY (session_id, sender, idx)
);
CREATE INDEX IF NOT EXISTS certificates_sha256 ON certificates(sha256);

-- Recipients with the server's answer to each RCPT.
CREATE VIEW IF NOT EXISTS v_recipients AS
SELECT r.session_id, r.tx, r.seq, r.address, r.params,
       c.reply_code, c.reply_text,
       CASE WHEN c.reply_code IS NULL THEN NULL
            ELSE c.reply_code BETWEEN 200 AND 299 END AS accepted,
       r.delivery_code, r.delivery_reply
FROM recipients r
LEFT JOIN commands c ON c.session_id = r.session_id AND c.seq = r.seq;

-- Who sent what to whom: one row per SMTP message.
CREATE VIEW IF NOT EXISTS v_smtp_messages AS
SELECT m.id AS message_id, m.session_id, m.tx,
       datetime(m.begin_ts, 'unixepoch') AS time,
       s.client_ip, s.server_ip, s.server_port, s.helo,
       t.mail_from,
       (SELECT group_concat(address, ', ') FROM v_recipients v
         WHERE v.session_id = m.session_id AND v.tx = m.tx
           AND coalesce(v.accepted, 1)) AS rcpt_to,
       (SELECT count(*) FROM v_recipients v
         WHERE v.session_id = m.session_id AND v.tx = m.tx
           AND v.accepted = 0) AS rcpt_rejected,
       m.method, m.size, m.sha256, m.complete,
       t.final_code, t.queue_id, s.tls, m.extract_path
FROM messages m
JOIN sessions s ON s.id = m.session_id
LEFT JOIN transactions t ON t.session_id = m.session_id AND t.tx = m.tx
WHERE m.proto = 'smtp';

-- Every message that crossed the wire, however it travelled.
-- recreated at every open: a log made by an earlier mailsift gets
-- the columns added since (outcome, outcome_reply, queue_id) and the
-- outcome kept in the row
DROP VIEW IF EXISTS v_messages;
CREATE VIEW IF NOT EXISTS v_messages AS
SELECT m.id AS message_id, m.session_id,
       datetime(m.begin_ts, 'unixepoch') AS time, m.proto, m.method,
       m.direction, s.client_ip, s.server_ip, s.server_port,
       s.username AS user, m.from_addr AS "from", m.to_addrs AS "to",
       m.subject, m.date_utc, m.msg_id, m.attachments,
       (SELECT coalesce(sum(p.size), 0) FROM parts p
         WHERE p.message_id = m.id AND p.filename IS NOT NULL)
         AS attachment_bytes,
       m.mailbox, m.msgno, m.uid, m.flags, m.partial, m.section, m.size,
       m.sha256, m.complete, m.gap_bytes, m.body_sha256, s.tls,
       m.extract_path,
       -- the expression of the index messages_sort_outcome, which
       -- the writer builds as it closes the log: sorts and filters by
       -- outcome read it (kept alike, or the index answers nothing)
       CASE WHEN m.direction = 's2c' THEN
           CASE WHEN m.complete = 1 THEN 'retrieved' ELSE 'incomplete' END
         ELSE coalesce(m.sent_outcome, 'unknown') END AS outcome,
       CASE WHEN m.direction = 's2c' THEN NULL
         WHEN m.proto = 'imap' THEN upper(c.reply_status) || ' ' || c.reply_text
         ELSE CAST(t.final_code AS TEXT) || ' ' || t.final_reply
       END AS outcome_reply,
       t.queue_id
FROM messages m JOIN sessions s ON s.id = m.session_id
LEFT JOIN transactions t ON m.proto = 'smtp' AND t.session_id = m.session_id
     AND t.tx = m.tx
LEFT JOIN commands c ON m.proto = 'imap' AND c.session_id = m.session_id
     AND c.seq = m.seq;

-- Attachments: parts with a file name, with what they hash to.
CREATE VIEW IF NOT EXISTS v_attachments AS
SELECT p.message_id, m.session_id, datetime(m.begin_ts, 'unixepoch') AS time,
       m.proto, m.method, m.from_addr AS "from", m.subject, p.path,
       p.filename, p.content_type, p.size, p.md5, p.sha256, p.complete,
       p.extract_path, p.magic_type, p.findings, p.sha1, p.archive_password
FROM parts p JOIN messages m ON m.id = p.message_id
WHERE p.filename IS NOT NULL;

-- Every link with its message; the suspicious ones have findings.
CREATE VIEW IF NOT EXISTS v_urls AS
SELECT u.message_id, m.session_id, datetime(m.begin_ts, 'unixepoch') AS time,
       m.proto, m.method, m.from_addr AS "from", m.subject, u.n, u.part,
       u.kind, u.url, u.host, u.shown_text, u.findings, u.truncated
FROM urls u JOIN messages m ON m.id = u.message_id;

-- The Received chain of each message, newest hop (the top field) first.
CREATE VIEW IF NOT EXISTS v_received AS
SELECT h.message_id,
       row_number() OVER (PARTITION BY h.message_id ORDER BY h.n) AS hop,
       h.value
FROM headers h WHERE h.name = 'Received' COLLATE NOCASE;

-- Messages marked for deletion over POP3, and whether QUIT made it so.
CREATE VIEW IF NOT EXISTS v_pop3_deletions AS
SELECT i.session_id, datetime(i.ts, 'unixepoch') AS time, s.username AS user,
       s.client_ip, s.server_ip, i.msgno,
       (SELECT u.uid FROM items u WHERE u.session_id = i.session_id
         AND u.action = 'uidl' AND u.msgno = i.msgno
         ORDER BY u.id DESC LIMIT 1) AS uidl,
       i.deletion
FROM items i JOIN sessions s ON s.id = i.session_id
WHERE i.action = 'dele';

-- Credentials seen on the wire, with where and whether they worked.
CREATE VIEW IF NOT EXISTS v_credentials AS
SELECT a.id, a.session_id, datetime(a.ts, 'unixepoch') AS time, s.proto,
       s.client_ip, s.server_ip, s.server_port, c.verb AS command,
       a.mechanism, a.username, a.password, a.outcome, a.reply_code,
       s.tls, a.challenge, a.proof, a.redacted, a.frame
FROM auth a JOIN sessions s ON s.id = a.session_id
LEFT JOIN commands c ON c.session_id = a.session_id AND c.seq = a.seq;

-- Sessions with their transcript size and TLS state (recreated at every
-- open: messages counts whole messages, not pieces, since version 7's
-- later builds; the counts are the session's own columns since they
-- were added, so that a sort by them reads an index).
DROP VIEW IF EXISTS v_sessions;
CREATE VIEW IF NOT EXISTS v_sessions AS
SELECT s.id, s.proto, datetime(s.start_ts, 'unixepoch') AS start,
       round(coalesce(s.end_ts, s.start_ts) - s.start_ts, 3) AS duration,
       s.client_ip, s.client_port, s.server_ip, s.server_port, s.helo,
       s.username AS user, s.tls, s.end_reason, s.n_commands AS commands,
       s.n_messages AS messages, s.n_auths AS auth_attempts
FROM sessions s;

-- One message across hops: submission, relay, IMAP APPEND, FETCH, POP3
-- RETR.  Copies are linked by the body hash (relays add header fields,
-- the body crosses intact) together with the Message-ID; a copy without
-- a Message-ID (a client that left it to its submission server) joins
-- the one Message-ID its body travelled under, when there is just one;
-- a header-only or cut copy joins by Message-ID the one body that
-- Message-ID carried.  One row per hop, in time order.
CREATE VIEW IF NOT EXISTS v_message_journeys AS
WITH ids AS (
	SELECT body_sha256, min(msg_id) AS msg_id,
	       count(DISTINCT msg_id) AS n
	FROM messages WHERE body_sha256 IS NOT NULL GROUP BY body_sha256),
bodies AS (
	SELECT msg_id, min(body_sha256) AS body_sha256,
	       count(DISTINCT body_sha256) AS n
	FROM messages WHERE msg_id IS NOT NULL AND body_sha256 IS NOT NULL
	GROUP BY msg_id),
keyed AS (
	SELECT m.*, CASE
	  WHEN m.body_sha256 IS NOT NULL THEN m.body_sha256 || ' ' ||
	       coalesce(m.msg_id, CASE WHEN i.n = 1 THEN i.msg_id END, '')
	  WHEN m.msg_id IS NOT NULL THEN
	       coalesce(CASE WHEN b.n = 1 THEN b.body_sha256 END, '') ||
	       ' ' || m.msg_id
	  END AS journey
	FROM messages m
	LEFT JOIN ids i ON i.body_sha256 = m.body_sha256
	LEFT JOIN bodies b ON b.msg_id = m.msg_id)
SELECT k.journey,
       row_number() OVER (PARTITION BY k.journey
                          ORDER BY k.begin_ts, k.id) AS hop,
       count(*) OVER (PARTITION BY k.journey) AS hops,
       datetime(k.begin_ts, 'unixepoch') AS time, k.begin_ts AS ts,
       k.proto, k.method, k.direction, s.client_ip, s.client_port,
       s.server_ip, s.server_port, s.username AS user, s.helo,
       k.mailbox, k.msg_id, k.subject, k.from_addr AS "from",
       k.to_addrs AS "to", k.size, k.sha256, k.body_sha256, k.partial,
       k.complete, k.id AS message_id, k.session_id,
       (SELECT count(*) FROM headers h WHERE h.message_id = k.id
         AND h.name = 'Received' COLLATE NOCASE) AS received_headers
FROM keyed k JOIN sessions s ON s.id = k.session_id
WHERE k.journey IS NOT NULL;

-- Each TLS session with its endpoints and the server's certificate.
-- (recreated at every open: its rows in the order of tls itself, which
-- a log of rare TLS would otherwise find by reading every session)
DROP VIEW IF EXISTS v_tls;
CREATE VIEW IF NOT EXISTS v_tls AS
SELECT t.session_id, s.proto, datetime(t.ts, 'unixepoch') AS time,
	s.client_ip, s.server_ip, s.server_port, s.tls AS mode, t.sni,
	t.version, t.cipher, t.curve, t.alpn, t.resumed, t.established,
	t.last_alert, t.ja3, t.ja3s, t.ja4, t.validation, t.sni_matches_cert,
	t.decryption,
	c.subject, c.issuer, c.not_after, c.san_dns, c.sha256 AS cert_sha256
FROM tls t JOIN sessions s ON s.id = t.session_id
LEFT JOIN certificates c ON c.session_id = t.session_id
	AND c.sender = 'server' AND c.idx = 0;

-- What TLS leaves exposed or weak, one row a finding: v_tls_findings,
-- made by store/sqlite/sqlite_findings.c (a log opened read-only that
-- predates its session columns gets it as a view of the connection).
-- Each of its checks reads its candidates in session order from one of
-- these, which hold only them: the findings listing's first page is then
-- its checks merged as read, not every finding of the log sorted.
CREATE INDEX IF NOT EXISTS sessions_clear ON sessions(id) WHERE tls = 'none';
CREATE INDEX IF NOT EXISTS extensions_starttls ON extensions(session_id, keyword)
    WHERE upper(keyword) IN ('STARTTLS', 'STLS');
CREATE INDEX IF NOT EXISTS commands_upgrade ON commands(session_id, seq)
    WHERE verb IN ('STARTTLS', 'STLS');
CREATE INDEX IF NOT EXISTS tls_old ON tls(session_id)
    WHERE version IN ('SSLv2', 'SSLv3', 'TLSv10', 'TLSv11');
CREATE INDEX IF NOT EXISTS tls_weak ON tls(session_id)
    WHERE (cipher LIKE '%\_NULL\_%' ESCAPE '\' OR cipher LIKE '%\_anon\_%' ESCAPE '\'
	OR cipher LIKE '%EXPORT%' OR cipher LIKE '%RC4%' OR cipher LIKE '%DES%'
	OR cipher LIKE '%\_RC2\_%' ESCAPE '\');
CREATE INDEX IF NOT EXISTS tls_invalid ON tls(session_id)
    WHERE validation IS NOT NULL AND validation <> 'ok';
CREATE INDEX IF NOT EXISTS tls_name_mismatch ON tls(session_id)
    WHERE sni_matches_cert = 0;
CREATE INDEX IF NOT EXISTS tls_greeting_mismatch ON tls(session_id)
    WHERE greeting_matches_cert = 0;
