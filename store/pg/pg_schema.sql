-- mailsift log schema for PostgreSQL, version 7 (table mailsift_schema).
-- The same tables, columns and views as store/sqlite/schema.sql (SQLite), with
-- PostgreSQL's own types: times are timestamptz (capture time, UTC),
-- addresses inet, certificates bytea; full-text search is a tsvector
-- with a GIN index.  Ids are unique across every writer: a run takes
-- its id from a sequence and the ids of its rows are run_id * 2^32 + n.
-- Foreign keys are documented, not enforced, as in the SQLite log: many
-- sensors write at once and a row may arrive before the row it cites.
-- The tables that grow with traffic and carry a time (sessions,
-- commands, auth, messages, items, responses, anomalies) are partitioned
-- by month of that time, so that retention drops partitions
-- (mailsift_drop_before); their keys include the time.
-- Created by the first mailsift that writes into the database; a
-- database of another version is refused.

CREATE TABLE IF NOT EXISTS mailsift_schema (
	version		integer NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS runs_id_seq;

CREATE TABLE IF NOT EXISTS runs (
	id		bigint PRIMARY KEY,
	started		text NOT NULL,
	finished	text,
	version		text NOT NULL,
	command		text NOT NULL,
	status		bigint,
	sensor		text,			-- --sensor, default the host name
	owner		text,			-- HOST/BOOT/PID/START of its process
	blobs		text			-- SQLite logs: where message bytes are
);

CREATE TABLE IF NOT EXISTS captures (
	id		bigint PRIMARY KEY,
	run_id		bigint NOT NULL,
	path		text NOT NULL,
	size		bigint,
	sha256		text,
	link_type	text,
	packets		bigint NOT NULL,
	first_ts	timestamptz,
	last_ts		timestamptz,
	damaged		bigint NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS capture_stats (
	id		bigint PRIMARY KEY,
	run_id		bigint NOT NULL,
	since		text NOT NULL,
	until		text NOT NULL,
	total		bigint NOT NULL DEFAULT 0,
	packets		bigint NOT NULL,
	bytes		bigint NOT NULL,
	kernel_received	bigint,
	kernel_dropped	bigint,
	if_dropped	bigint,
	gap_bytes	bigint NOT NULL,
	streams_evicted	bigint NOT NULL,
	detect_over_budget bigint NOT NULL,
	reserved_v4	bigint NOT NULL,
	store_errors	bigint,
	messages_lost	bigint
);

CREATE TABLE IF NOT EXISTS sessions (
	id		bigint NOT NULL,
	run_id		bigint NOT NULL,
	proto		text NOT NULL,
	capture_file	text,
	client_ip	inet NOT NULL,
	client_port	bigint NOT NULL,
	server_ip	inet NOT NULL,
	server_port	bigint NOT NULL,
	start_ts	timestamptz NOT NULL,
	end_ts		timestamptz,
	banner_code	bigint,
	banner		text,
	banner_frame	bigint,
	helo		text,
	username	text,
	state		text,
	mailbox		text,
	client_id	text,
	server_id	text,
	compression	text,
	tls		text NOT NULL DEFAULT 'none',
	midstream	bigint NOT NULL DEFAULT 0,
	end_reason	text,
	bytes_c2s	bigint,
	bytes_s2c	bigint,
	tls_bytes_c2s	bigint,
	tls_bytes_s2c	bigint,
	first_frame	bigint,
	first_offset	bigint,
	last_frame	bigint,
	last_offset	bigint,
	last_capture_file text,
	gap_bytes	bigint NOT NULL DEFAULT 0,
	sensor		text,			-- the run's sensor
	-- the SQLite writer's counts of its rows, shipped with it; this
	-- log's v_sessions counts the rows themselves (a log written
	-- before they came holds none)
	n_commands	bigint NOT NULL DEFAULT 0,
	n_messages	bigint NOT NULL DEFAULT 0,
	n_auths		bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (id, start_ts)
) PARTITION BY RANGE (start_ts);
CREATE TABLE IF NOT EXISTS sessions_default PARTITION OF sessions DEFAULT;

CREATE TABLE IF NOT EXISTS extensions (
	id		bigint PRIMARY KEY,	-- the row's own: replays are
	session_id	bigint NOT NULL,	-- idempotent
	keyword		text NOT NULL,
	params		text
);

CREATE TABLE IF NOT EXISTS commands (
	session_id	bigint NOT NULL,
	seq		bigint NOT NULL,
	ts		timestamptz NOT NULL,
	verb		text NOT NULL,
	args		text,
	tag		text,
	reply_code	bigint,
	reply_status	text,
	reply_text	text,
	reply_ts	timestamptz,
	frame		bigint,
	"offset"	bigint,
	reply_frame	bigint,
	reply_offset	bigint,
	PRIMARY KEY (session_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS commands_default PARTITION OF commands DEFAULT;

CREATE TABLE IF NOT EXISTS auth (
	id		bigint NOT NULL,
	session_id	bigint NOT NULL,
	seq		bigint,
	ts		timestamptz NOT NULL,
	mechanism	text NOT NULL,
	username	text,
	password	text,
	challenge	text,
	proof		text,
	reply_code	bigint,
	outcome		text NOT NULL,
	redacted	bigint NOT NULL DEFAULT 0,
	frame		bigint,
	"offset"	bigint,
	PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS auth_default PARTITION OF auth DEFAULT;

CREATE TABLE IF NOT EXISTS transactions (
	session_id	bigint NOT NULL,
	tx		bigint NOT NULL,
	mail_seq	bigint,
	ts		timestamptz NOT NULL,
	mail_from	text,
	mail_params	text,
	final_code	bigint,
	final_reply	text,
	queue_id	text,
	PRIMARY KEY (session_id, tx)
);

CREATE TABLE IF NOT EXISTS recipients (
	session_id	bigint NOT NULL,
	tx		bigint NOT NULL,
	seq		bigint NOT NULL,
	address		text,
	params		text,
	delivery_code	bigint,
	delivery_reply	text,
	PRIMARY KEY (session_id, seq)
);

CREATE TABLE IF NOT EXISTS messages (
	id		bigint NOT NULL,
	session_id	bigint NOT NULL,
	tx		bigint NOT NULL,
	seq		bigint,
	proto		text NOT NULL,
	method		text NOT NULL,
	direction	text NOT NULL,
	begin_ts	timestamptz NOT NULL,
	end_ts		timestamptz,
	size		bigint,
	sha256		text,
	complete	bigint NOT NULL DEFAULT 0,
	partial		bigint NOT NULL DEFAULT 0,
	section		text,
	mailbox		text,
	msgno		bigint,
	uid		bigint,
	flags		text,
	extract_path	text,
	kept		bigint NOT NULL DEFAULT 0,
	subject		text,
	from_addr	text,
	to_addrs	text,
	cc_addrs	text,
	bcc_addrs	text,
	reply_to	text,
	date_raw	text,
	date_utc	text,
	msg_id		text,
	in_reply_to	text,
	refs		text,
	mailer		text,
	return_path	text,
	dkim		bigint NOT NULL DEFAULT 0,
	auth_results	bigint NOT NULL DEFAULT 0,
	parts		bigint NOT NULL DEFAULT 0,
	attachments	bigint NOT NULL DEFAULT 0,
	capture_file	text,
	first_frame	bigint,
	first_offset	bigint,
	last_frame	bigint,
	last_offset	bigint,
	gap_bytes	bigint NOT NULL DEFAULT 0,
	body_sha256	text,
	assembled	text,
	findings	text,
	received_path	text,
	x_originating_ip text,
	-- as SQLite's writer keeps it (shipped with the row); v_messages
	-- here works the outcome out from the replies' rows
	sent_outcome	text,
	UNIQUE (session_id, tx, begin_ts),
	PRIMARY KEY (id, begin_ts)
) PARTITION BY RANGE (begin_ts);
CREATE TABLE IF NOT EXISTS messages_default PARTITION OF messages DEFAULT;

CREATE TABLE IF NOT EXISTS headers (
	message_id	bigint NOT NULL,
	n		bigint NOT NULL,
	name		text NOT NULL,
	value		text,
	decoded		text,
	PRIMARY KEY (message_id, n)
);

CREATE TABLE IF NOT EXISTS parts (
	message_id	bigint NOT NULL,
	part		bigint NOT NULL,
	path		text NOT NULL,
	content_type	text NOT NULL,
	charset		text,
	encoding	text,
	disposition	text,
	filename	text,
	encoded_size	bigint,
	size		bigint,
	md5		text,
	sha256		text,
	complete	bigint NOT NULL DEFAULT 0,
	extract_path	text,
	magic_type	text,
	findings	text,
	sha1		text,
	archive_password text,
	PRIMARY KEY (message_id, part)
);

CREATE TABLE IF NOT EXISTS archive_entries (
	message_id	bigint NOT NULL,
	part		bigint NOT NULL,
	n		bigint NOT NULL,
	path		text NOT NULL,
	depth		bigint NOT NULL,
	size		bigint,
	encrypted	bigint NOT NULL DEFAULT 0,
	sha256		text,
	magic_type	text,
	PRIMARY KEY (message_id, part, n)
);
CREATE INDEX IF NOT EXISTS archive_entries_sha256 ON archive_entries(sha256);

CREATE TABLE IF NOT EXISTS yara_matches (
	message_id	bigint NOT NULL,
	part		bigint NOT NULL,
	entry		bigint NOT NULL,
	rule		text NOT NULL,
	namespace	text NOT NULL,
	tags		text,
	meta		text,
	PRIMARY KEY (message_id, part, entry, namespace, rule)
);
CREATE INDEX IF NOT EXISTS yara_matches_rule ON yara_matches(rule);

-- Signatures and verdicts of each message (SQLite's message_auth).
CREATE TABLE IF NOT EXISTS message_auth (
	message_id	bigint NOT NULL,
	n		bigint NOT NULL,
	kind		text NOT NULL,
	instance	bigint,
	authserv	text,
	method		text,
	result		text,
	domain		text,
	selector	text,
	algorithm	text,
	canonicalization text,
	signed_headers	text,
	body_hash	text,
	body_length	bigint,
	body_hash_check	text,
	detail		text,
	PRIMARY KEY (message_id, n)
);

-- Links in the text of messages (SQLite's urls: see doc/schema.md).
CREATE TABLE IF NOT EXISTS urls (
	message_id	bigint NOT NULL,
	n		bigint NOT NULL,
	part		bigint,
	kind		text NOT NULL,
	url		text NOT NULL,
	host		text,
	shown_text	text,
	findings	text,
	truncated	bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (message_id, n)
);
CREATE INDEX IF NOT EXISTS urls_host ON urls(host);

-- The text of the full-text index: subject and readable body of each
-- message (SQLite's message_text, an FTS5 table there).
CREATE TABLE IF NOT EXISTS message_text (
	message_id	bigint PRIMARY KEY,
	subject		text,
	body		text,
	tsv		tsvector GENERATED ALWAYS AS (to_tsvector('simple',
			    coalesce(subject, '') || ' ' ||
			    coalesce(body, ''))) STORED
);
CREATE INDEX IF NOT EXISTS message_text_tsv ON message_text USING gin (tsv);

-- Kept message bytes, by the SHA-256 that names them: stored once
-- whichever sensors saw the message, in chunks of 1 MiB from 0.
CREATE TABLE IF NOT EXISTS blobs (
	sha256		text NOT NULL,
	chunk		integer NOT NULL,
	data		bytea NOT NULL,
	PRIMARY KEY (sha256, chunk)
);
-- Mail is mostly base64 of compressed files: trying to compress it again
-- costs the server more than it saves (1.6x faster without).
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE IF NOT EXISTS items (
	id		bigint NOT NULL,
	session_id	bigint NOT NULL,
	seq		bigint,
	ts		timestamptz NOT NULL,
	action		text NOT NULL,
	msgno		bigint,
	size		bigint,
	uid		text,
	flags		text,
	deletion	text,
	PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS items_default PARTITION OF items DEFAULT;

CREATE TABLE IF NOT EXISTS mailboxes (
	session_id	bigint NOT NULL,
	seq		bigint NOT NULL,
	ts		timestamptz NOT NULL,
	command		text NOT NULL,
	mailbox		text,
	status		text,
	messages	bigint,
	uidvalidity	bigint,
	uidnext		bigint,
	recent		bigint,
	PRIMARY KEY (session_id, seq)
);

CREATE TABLE IF NOT EXISTS responses (
	id		bigint NOT NULL,
	session_id	bigint NOT NULL,
	seq		bigint,
	ts		timestamptz NOT NULL,
	keyword		text NOT NULL,
	number		bigint,
	text		text,
	PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS responses_default PARTITION OF responses DEFAULT;

CREATE TABLE IF NOT EXISTS anomalies (
	id		bigint NOT NULL,
	session_id	bigint NOT NULL,
	ts		timestamptz NOT NULL,
	direction	text NOT NULL,
	name		text NOT NULL,
	detail		text,
	frame		bigint,
	PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS anomalies_default PARTITION OF anomalies DEFAULT;

CREATE TABLE IF NOT EXISTS tls (
	session_id	bigint PRIMARY KEY,
	ts		timestamptz NOT NULL,
	sni		text,
	client_version	text,
	versions_offered text,
	ciphers_offered	text,
	groups_offered	text,
	alpn_offered	text,
	client_exts	text,
	sig_algs	text,
	client_session_id text,
	ticket_offered	bigint,
	psk_offered	bigint,
	ja3		text,
	ja3_string	text,
	ja4		text,
	version		text,
	cipher		text,
	curve		text,
	alpn		text,
	server_exts	text,
	server_session_id text,
	ja3s		text,
	ja3s_string	text,
	hrr		bigint NOT NULL DEFAULT 0,
	resumed		bigint,
	established	bigint,
	last_alert	text,
	alerts		bigint NOT NULL DEFAULT 0,
	records_c2s	bigint,
	records_s2c	bigint,
	cert_chain_fps	text,
	client_cert_chain_fps text,
	validation	text,
	sni_matches_cert bigint,
	greeting_matches_cert bigint,
	decryption	text
);

CREATE TABLE IF NOT EXISTS certificates (
	session_id	bigint NOT NULL,
	sender		text NOT NULL,
	idx		bigint NOT NULL,
	ts		timestamptz NOT NULL,
	sha256		text NOT NULL,
	version		bigint,
	serial		text,
	subject		text,
	issuer		text,
	not_before	timestamptz,
	not_after	timestamptz,
	key_alg		text,
	key_type	text,
	key_bits	bigint,
	exponent	text,
	curve		text,
	sig_alg		text,
	san_dns		text,
	san_ip		text,
	san_email	text,
	san_uri		text,
	is_ca		bigint,
	path_len	bigint,
	der		bytea NOT NULL,
	PRIMARY KEY (session_id, sender, idx)
);

CREATE INDEX IF NOT EXISTS sessions_start ON sessions(start_ts);
CREATE INDEX IF NOT EXISTS extensions_session ON extensions(session_id);
CREATE INDEX IF NOT EXISTS auth_session ON auth(session_id);
CREATE INDEX IF NOT EXISTS messages_sha256 ON messages(sha256);
CREATE INDEX IF NOT EXISTS messages_msg_id ON messages(msg_id);
CREATE INDEX IF NOT EXISTS messages_body ON messages(body_sha256);
-- the pieces alone (POP3 TOP, partial FETCH): the messages listing's
-- total is every message less these
CREATE INDEX IF NOT EXISTS messages_pieces ON messages(session_id)
    WHERE partial <> 0;
CREATE INDEX IF NOT EXISTS anomalies_session ON anomalies(session_id);
CREATE INDEX IF NOT EXISTS anomalies_name ON anomalies(name, session_id);
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
CREATE INDEX IF NOT EXISTS responses_session ON responses(session_id, seq);
-- the analyst's pivots: a host's sessions, the largest messages, first
CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client_ip);
CREATE INDEX IF NOT EXISTS sessions_server ON sessions(server_ip);
CREATE INDEX IF NOT EXISTS messages_size ON messages(size);
-- ... and a part of an address (--from x, from:, to:, addr:), an ILIKE
-- '%x%' that no B-tree answers: pg_trgm's GIN indexes do (SQLite's
-- message_addrs).  pg_trgm comes with the server's Debian package and is
-- a trusted extension (a database's owner may create it); where it
-- cannot be had, such a filter reads every message, as before.
DO $$
BEGIN
	CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'no pg_trgm (%): a part of an address reads every message',
	    SQLERRM;
END $$;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
		CREATE INDEX IF NOT EXISTS messages_from_trgm ON messages
		    USING gin (from_addr gin_trgm_ops);
		CREATE INDEX IF NOT EXISTS messages_to_trgm ON messages
		    USING gin (to_addrs gin_trgm_ops);
		CREATE INDEX IF NOT EXISTS messages_cc_trgm ON messages
		    USING gin (cc_addrs gin_trgm_ops);
	END IF;
END $$;
-- ... and the longest sessions: v_sessions' duration, as it computes it
CREATE INDEX IF NOT EXISTS sessions_duration
    ON sessions((round(extract(epoch FROM coalesce(end_ts, start_ts) -
      start_ts)::numeric, 3)::double precision));
CREATE INDEX IF NOT EXISTS certificates_sha256 ON certificates(sha256);

-- The month partitions that rows of these months need (UTC, as the
-- first instant of each), made before they are written: the writer
-- calls it for each batch with the months its rows fall in, so an
-- archive that spans years gets the months it has, not every month
-- between.  An advisory lock orders writers that would make the same.
CREATE OR REPLACE FUNCTION mailsift_month_partitions(months timestamp[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	t text;
	m timestamp;
	name text;
BEGIN
	IF months IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(7270618);
	FOREACH t IN ARRAY ARRAY['sessions', 'commands', 'auth', 'messages',
	    'items', 'responses', 'anomalies'] LOOP
		FOREACH m IN ARRAY months LOOP
			name := t || '_' || to_char(m, 'YYYYMM');
			IF to_regclass(name) IS NULL THEN
				EXECUTE format('CREATE TABLE %I PARTITION OF %I'
				    ' FOR VALUES FROM (%L) TO (%L)', name, t,
				    m AT TIME ZONE 'UTC',
				    (m + interval '1 month') AT TIME ZONE 'UTC');
			END IF;
		END LOOP;
	END LOOP;
END $$;

-- Retention: drops the month partitions wholly before cutoff, and first
-- the rows of other tables that belong to their sessions and messages;
-- kept bytes no message cites any more go too.  Returns the partitions
-- dropped.  SELECT mailsift_drop_before(now() - interval '90 days');
CREATE OR REPLACE FUNCTION mailsift_drop_before(cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	p record;
	n integer := 0;
BEGIN
	PERFORM pg_advisory_xact_lock(7270618);
	FOR p IN SELECT c.relname AS name FROM pg_inherits i
	    JOIN pg_class c ON c.oid = i.inhrelid
	    WHERE i.inhparent = 'sessions'::regclass
	      AND c.relname ~ '^sessions_[0-9]{6}$'
	      AND to_date(substr(c.relname, 10), 'YYYYMM')
	          + interval '1 month' <= cutoff LOOP
		EXECUTE format('DELETE FROM headers WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM parts WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM urls WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM archive_entries WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM yara_matches WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM message_auth WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM message_text WHERE message_id IN (SELECT id FROM messages WHERE session_id IN (SELECT id FROM %I))', p.name);
		EXECUTE format('DELETE FROM extensions WHERE session_id IN (SELECT id FROM %I)', p.name);
		EXECUTE format('DELETE FROM transactions WHERE session_id IN (SELECT id FROM %I)', p.name);
		EXECUTE format('DELETE FROM recipients WHERE session_id IN (SELECT id FROM %I)', p.name);
		EXECUTE format('DELETE FROM mailboxes WHERE session_id IN (SELECT id FROM %I)', p.name);
		EXECUTE format('DELETE FROM tls WHERE session_id IN (SELECT id FROM %I)', p.name);
		EXECUTE format('DELETE FROM certificates WHERE session_id IN (SELECT id FROM %I)', p.name);
	END LOOP;
	FOR p IN SELECT c.relname AS name FROM pg_inherits i
	    JOIN pg_class c ON c.oid = i.inhrelid
	    JOIN pg_class r ON r.oid = i.inhparent
	    WHERE r.relname IN ('sessions', 'commands', 'auth', 'messages',
	        'items', 'responses', 'anomalies')
	      AND c.relname ~ '_[0-9]{6}$'
	      AND to_date(right(c.relname, 6), 'YYYYMM')
	          + interval '1 month' <= cutoff LOOP
		EXECUTE format('DROP TABLE %I', p.name);
		n := n + 1;
	END LOOP;
	DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM messages m
	    WHERE m.sha256 = b.sha256 AND m.kept = 1);
	RETURN n;
END $$;

-- SQLite's datetime(t, 'unixepoch'), so that the CLI's queries read
-- both logs: a time as "YYYY-MM-DD HH:MM:SS" in UTC.
CREATE OR REPLACE FUNCTION datetime(t timestamptz, modifier text)
RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') $$;
-- The newest first: messages' time and sessions' start as the views
-- compute them, indexed (after the function they name), ties by id as
-- the pages break them (SQLite's rowid does that there)
CREATE INDEX IF NOT EXISTS messages_time
    ON messages(datetime(begin_ts, 'unixepoch'), id);
CREATE INDEX IF NOT EXISTS sessions_start_time
    ON sessions(datetime(start_ts, 'unixepoch'), id);

-- Whether address a is in the network n ("10.7.29.0/24", or one address):
-- the CLI's --host filter, the same in SQLite (a function of mailsift's).
CREATE OR REPLACE FUNCTION in_net(a inet, n text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT a <<= n::inet $$;

-- SQLite's json_group_array: the values of a group as a JSON array.
CREATE OR REPLACE FUNCTION mailsift_json_array_final(a text[])
RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(array_to_json(a)::text, '[]') $$;
DO $$ BEGIN
	CREATE AGGREGATE json_group_array(text) (SFUNC = array_append,
	    STYPE = text[], FINALFUNC = mailsift_json_array_final,
	    INITCOND = '{}');
EXCEPTION WHEN duplicate_function THEN NULL;
END $$;

-- Columns added to version 7 after its first release: a log made before
-- them takes them when a newer mailsift opens it (this file is run again
-- on every log of this version).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner text;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS blobs text;
ALTER TABLE capture_stats ADD COLUMN IF NOT EXISTS store_errors bigint;
ALTER TABLE capture_stats ADD COLUMN IF NOT EXISTS messages_lost bigint;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS findings text;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS received_path text;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS x_originating_ip text;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS sent_outcome text;
ALTER TABLE parts ADD COLUMN IF NOT EXISTS magic_type text;
ALTER TABLE parts ADD COLUMN IF NOT EXISTS findings text;
ALTER TABLE parts ADD COLUMN IF NOT EXISTS sha1 text;
ALTER TABLE parts ADD COLUMN IF NOT EXISTS archive_password text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS n_commands bigint NOT NULL
    DEFAULT 0;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS n_messages bigint NOT NULL
    DEFAULT 0;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS n_auths bigint NOT NULL
    DEFAULT 0;

CREATE OR REPLACE VIEW v_recipients AS
SELECT r.session_id, r.tx, r.seq, r.address, r.params,
       c.reply_code, c.reply_text,
       CASE WHEN c.reply_code IS NULL THEN NULL
            WHEN c.reply_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END
         AS accepted,
       r.delivery_code, r.delivery_reply
FROM recipients r
LEFT JOIN commands c ON c.session_id = r.session_id AND c.seq = r.seq;

CREATE OR REPLACE VIEW v_smtp_messages AS
SELECT m.id AS message_id, m.session_id, m.tx,
       datetime(m.begin_ts, 'unixepoch') AS time,
       s.client_ip, s.server_ip, s.server_port, s.helo,
       t.mail_from,
       (SELECT string_agg(address, ', ') FROM v_recipients v
         WHERE v.session_id = m.session_id AND v.tx = m.tx
           AND coalesce(v.accepted, 1) = 1) AS rcpt_to,
       (SELECT count(*) FROM v_recipients v
         WHERE v.session_id = m.session_id AND v.tx = m.tx
           AND v.accepted = 0) AS rcpt_rejected,
       m.method, m.size, m.sha256, m.complete,
       t.final_code, t.queue_id, s.tls, m.extract_path
FROM messages m
JOIN sessions s ON s.id = m.session_id
LEFT JOIN transactions t ON t.session_id = m.session_id AND t.tx = m.tx
WHERE m.proto = 'smtp';

CREATE OR REPLACE VIEW v_messages AS
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
       CASE
         WHEN m.direction = 's2c' THEN
           CASE WHEN m.complete = 1 THEN 'retrieved' ELSE 'incomplete' END
         WHEN m.proto = 'imap' THEN
           CASE c.reply_status WHEN 'ok' THEN 'accepted'
             WHEN 'no' THEN 'rejected' WHEN 'bad' THEN 'rejected'
             ELSE 'unknown' END
         WHEN t.final_code BETWEEN 200 AND 299 THEN 'accepted'
         WHEN t.final_code >= 400 THEN 'rejected'
         ELSE (SELECT CASE WHEN count(r.delivery_code) = 0 THEN 'unknown'
                 WHEN min(r.delivery_code) >= 400 THEN 'rejected'
                 WHEN max(r.delivery_code) < 300 THEN 'accepted'
                 ELSE 'partly accepted' END
               FROM recipients r
               WHERE r.session_id = m.session_id AND r.tx = m.tx)
       END AS outcome,
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

CREATE OR REPLACE VIEW v_attachments AS
SELECT p.message_id, m.session_id, datetime(m.begin_ts, 'unixepoch') AS time,
       m.proto, m.method, m.from_addr AS "from", m.subject, p.path,
       p.filename, p.content_type, p.size, p.md5, p.sha256, p.complete,
       p.extract_path, p.magic_type, p.findings, p.sha1, p.archive_password
FROM parts p JOIN messages m ON m.id = p.message_id
WHERE p.filename IS NOT NULL;

CREATE OR REPLACE VIEW v_urls AS
SELECT u.message_id, m.session_id, datetime(m.begin_ts, 'unixepoch') AS time,
       m.proto, m.method, m.from_addr AS "from", m.subject, u.n, u.part,
       u.kind, u.url, u.host, u.shown_text, u.findings, u.truncated
FROM urls u JOIN messages m ON m.id = u.message_id;

CREATE OR REPLACE VIEW v_received AS
SELECT h.message_id,
       row_number() OVER (PARTITION BY h.message_id ORDER BY h.n) AS hop,
       h.value
FROM headers h WHERE lower(h.name) = 'received';

CREATE OR REPLACE VIEW v_pop3_deletions AS
SELECT i.session_id, datetime(i.ts, 'unixepoch') AS time, s.username AS user,
       s.client_ip, s.server_ip, i.msgno,
       (SELECT u.uid FROM items u WHERE u.session_id = i.session_id
         AND u.action = 'uidl' AND u.msgno = i.msgno
         ORDER BY u.id DESC LIMIT 1) AS uidl,
       i.deletion
FROM items i JOIN sessions s ON s.id = i.session_id
WHERE i.action = 'dele';

CREATE OR REPLACE VIEW v_credentials AS
SELECT a.id, a.session_id, datetime(a.ts, 'unixepoch') AS time, s.proto,
       s.client_ip, s.server_ip, s.server_port, c.verb AS command,
       a.mechanism, a.username, a.password, a.outcome, a.reply_code,
       s.tls, a.challenge, a.proof, a.redacted, a.frame
FROM auth a JOIN sessions s ON s.id = a.session_id
LEFT JOIN commands c ON c.session_id = a.session_id AND c.seq = a.seq;

CREATE OR REPLACE VIEW v_sessions AS
SELECT s.id, s.proto, datetime(s.start_ts, 'unixepoch') AS start,
       round(extract(epoch FROM coalesce(s.end_ts, s.start_ts) -
         s.start_ts)::numeric, 3)::double precision AS duration,
       s.client_ip, s.client_port, s.server_ip, s.server_port, s.helo,
       s.username AS user, s.tls, s.end_reason,
       (SELECT count(*) FROM commands c WHERE c.session_id = s.id) AS commands,
       (SELECT count(*) FROM messages m WHERE m.session_id = s.id
         AND m.partial = 0) AS messages,
       (SELECT count(*) FROM auth a WHERE a.session_id = s.id) AS auth_attempts,
       s.sensor
FROM sessions s;

-- every client and server, with what it did: each session's counts read
-- once, then taken for each of its two ends (SQLite keeps these sums as
-- it writes, sqlite_hosts.c; here they are summed as asked, in parallel)
CREATE OR REPLACE VIEW v_hosts AS
SELECT ip AS host, count(*) AS sessions, sum(c) AS as_client,
       count(*) - sum(c) AS as_server,
       datetime(min(start_ts), 'unixepoch') AS first,
       datetime(max(start_ts), 'unixepoch') AS last,
       count(DISTINCT username) AS users, sum(messages) AS messages,
       sum(auths) AS auths, sum(tls) AS tls
FROM (SELECT CASE e.c WHEN 1 THEN s.client_ip ELSE s.server_ip END AS ip,
	     e.c, s.start_ts, s.username, s.messages, s.auths, s.tls
      FROM (SELECT client_ip, server_ip, start_ts, username,
		   CASE WHEN tls <> 'none' THEN 1 ELSE 0 END AS tls,
		   (SELECT count(*) FROM messages m WHERE m.session_id = s.id
		     AND m.partial = 0) AS messages,
		   (SELECT count(*) FROM auth a
		     WHERE a.session_id = s.id) AS auths
	    FROM sessions s) AS s
      CROSS JOIN (SELECT 1 AS c UNION ALL SELECT 0) AS e) AS x
GROUP BY ip;

-- stats' and the overview's groups (SQLite keeps these sums as it
-- writes, sqlite_stats.c; here they are summed as asked)
CREATE OR REPLACE VIEW v_stat_protos AS
SELECT proto, count(*) AS sessions,
       sum(CASE WHEN tls <> 'none' THEN 1 ELSE 0 END) AS tls,
       sum(midstream) AS midstream
FROM sessions GROUP BY proto;
CREATE OR REPLACE VIEW v_stat_kinds AS
SELECT proto, method, count(*) AS messages, sum(complete) AS complete,
       sum(size) AS bytes, sum(attachments) AS attachments,
       sum(CASE WHEN from_addr IS NULL THEN 1 ELSE 0 END) AS no_from,
       sum(CASE WHEN to_addrs IS NULL THEN 1 ELSE 0 END) AS no_to
FROM messages WHERE partial = 0 GROUP BY 1, 2;
CREATE OR REPLACE VIEW v_stat_senders AS
SELECT from_addr AS addr, count(*) AS messages FROM messages
WHERE from_addr IS NOT NULL AND partial = 0 GROUP BY 1;
CREATE OR REPLACE VIEW v_stat_recipients AS
SELECT to_addrs AS addr, count(*) AS messages FROM messages
WHERE to_addrs IS NOT NULL AND partial = 0 GROUP BY 1;
CREATE OR REPLACE VIEW v_stat_servers AS
SELECT server_ip AS ip, server_port AS port, proto, count(*) AS sessions
FROM sessions GROUP BY 1, 2, 3;
CREATE OR REPLACE VIEW v_stat_clients AS
SELECT client_ip AS ip, count(*) AS sessions FROM sessions GROUP BY 1;
CREATE OR REPLACE VIEW v_stat_auths AS
SELECT s.proto, a.mechanism, a.outcome, count(*) AS attempts,
       count(a.password) AS in_clear
FROM auth a JOIN sessions s ON s.id = a.session_id GROUP BY 1, 2, 3;
CREATE OR REPLACE VIEW v_stat_anomalies AS
SELECT name, count(*) AS count FROM anomalies GROUP BY 1;
CREATE OR REPLACE VIEW v_stat_hours AS
SELECT hour, proto, sum(s) AS sessions, sum(m) AS messages
FROM (SELECT substr(datetime(start_ts, 'unixepoch'), 1, 13) AS hour,
	     proto, 1 AS s, 0 AS m FROM sessions
      UNION ALL
      SELECT substr(datetime(begin_ts, 'unixepoch'), 1, 13), proto, 0, 1
      FROM messages WHERE partial = 0) AS t
GROUP BY 1, 2;

CREATE OR REPLACE VIEW v_message_journeys AS
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
         AND lower(h.name) = 'received') AS received_headers
FROM keyed k JOIN sessions s ON s.id = k.session_id
WHERE k.journey IS NOT NULL;

CREATE OR REPLACE VIEW v_tls AS
SELECT t.session_id, s.proto, datetime(t.ts, 'unixepoch') AS time,
	s.client_ip, s.server_ip, s.server_port, s.tls AS mode, t.sni,
	t.version, t.cipher, t.curve, t.alpn, t.resumed, t.established,
	t.last_alert, t.ja3, t.ja3s, t.ja4, t.validation, t.sni_matches_cert,
	t.decryption,
	c.subject, c.issuer, c.not_after, c.san_dns, c.sha256 AS cert_sha256
FROM tls t JOIN sessions s ON s.id = t.session_id
LEFT JOIN certificates c ON c.session_id = t.session_id
	AND c.sender = 'server' AND c.idx = 0;

-- (its session's time, protocol and ends last: the findings listing
-- filters on them; SQLite's is made by sqlite_findings.c)
CREATE OR REPLACE VIEW v_tls_findings AS
WITH upgrade AS (
	SELECT session_id, min(seq) AS seq FROM commands
	WHERE verb IN ('STARTTLS', 'STLS') AND reply_code = 220
		OR verb IN ('STARTTLS', 'STLS') AND reply_status = 'ok'
	GROUP BY session_id),
found AS (
SELECT s.id AS session_id, 'starttls_not_used' AS finding,
	'the server offered ' || e.keyword || '; the session stayed in clear'
	AS detail
FROM sessions s JOIN extensions e ON e.session_id = s.id
WHERE s.tls = 'none' AND upper(e.keyword) IN ('STARTTLS', 'STLS')
	AND (EXISTS (SELECT 1 FROM auth a WHERE a.session_id = s.id)
	OR EXISTS (SELECT 1 FROM transactions t WHERE t.session_id = s.id)
	OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id))
UNION ALL
SELECT a.session_id, 'credentials_before_tls',
	a.mechanism || coalesce(' ' || a.username, '')
FROM auth a JOIN upgrade u ON u.session_id = a.session_id
WHERE a.seq < u.seq
UNION ALL
SELECT t.session_id, 'mail_before_tls', coalesce(t.mail_from, '')
FROM transactions t JOIN upgrade u ON u.session_id = t.session_id
WHERE t.mail_seq < u.seq
UNION ALL
SELECT session_id, 'tls_below_1_2', version FROM tls
WHERE version IN ('SSLv2', 'SSLv3', 'TLSv10', 'TLSv11')
UNION ALL
SELECT session_id, 'tls_weak_cipher', cipher FROM tls
WHERE cipher LIKE '%\_NULL\_%' ESCAPE '\' OR cipher LIKE '%\_anon\_%' ESCAPE '\'
	OR cipher LIKE '%EXPORT%' OR cipher LIKE '%RC4%' OR cipher LIKE '%DES%'
	OR cipher LIKE '%\_RC2\_%' ESCAPE '\'
UNION ALL
SELECT session_id, 'tls_cert_invalid', validation FROM tls
WHERE validation IS NOT NULL AND validation <> 'ok'
UNION ALL
SELECT session_id, 'tls_cert_name_mismatch', sni FROM tls
WHERE sni_matches_cert = 0
UNION ALL
SELECT t.session_id, 'tls_cert_greeting_mismatch', s.banner FROM tls t
JOIN sessions s ON s.id = t.session_id WHERE t.greeting_matches_cert = 0)
SELECT f.session_id, f.finding, f.detail,
	datetime(s.start_ts, 'unixepoch') AS time, s.proto,
	s.client_ip AS client, s.server_ip AS server, s.username AS "user"
FROM found f JOIN sessions s ON s.id = f.session_id;

-- the findings by kind and protocol (SQLite keeps these sums as it
-- writes, sqlite_findings.c; here they are summed as asked)
CREATE OR REPLACE VIEW v_stat_findings AS
SELECT finding, proto, count(*) AS n FROM v_tls_findings GROUP BY 1, 2;
