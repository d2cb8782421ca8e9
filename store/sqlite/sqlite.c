/* \summary: SQLite store: the log file, its statements and commits */
/*
 * Rows are written with prepared statements inside transactions that are
 * committed every STORE_COMMIT_WALL_US of wall time (and at the end), in
 * WAL mode, so that a reader can query the log while mailsift runs and a
 * crash loses at most the last uncommitted second.
 *
 * Session ids are the run's flow ids plus the largest id already in the
 * log, so a log can be appended to by later runs and no map from flow to
 * row is needed.  Message bytes are never held: each piece is hashed and
 * written out as it arrives (sqlite_msgs.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/analyse/analyse.h"
#include "store/backend.h"
#include "store/keep.h"
#include "store/owner.h"
#include "store/query.h"
#include "schema.h"
#include "store/sqlite/sqlite_priv.h"

/* A message's header columns and part counts (msg_head_write), and
 * what its end gives (msg_finished): one UPDATE, or the two together
 * (ST_MSG_END_HEAD: the end's 16, the head's 17, the row). */
#define MSG_HEAD_SET                                                       \
	"subject=coalesce(subject,?), from_addr=coalesce(from_addr,?),"    \
	" to_addrs=coalesce(to_addrs,?), cc_addrs=coalesce(cc_addrs,?),"   \
	" bcc_addrs=coalesce(bcc_addrs,?), reply_to=coalesce(reply_to,?)," \
	" date_raw=coalesce(date_raw,?), msg_id=coalesce(msg_id,?),"       \
	" in_reply_to=coalesce(in_reply_to,?), refs=coalesce(refs,?),"     \
	" mailer=coalesce(mailer,?), return_path=coalesce(return_path,?)," \
	" date_utc=coalesce(date_utc,?), dkim=max(dkim,?),"                \
	" auth_results=max(auth_results,?), parts=parts+?,"                \
	" attachments=attachments+?"
#define MSG_END_SET                                                       \
	"end_ts=?, size=?, sha256=?, complete=?, extract_path=?, kept=?," \
	" last_frame=?, last_offset=?, gap_bytes=?, body_sha256=?,"       \
	" capture_file=?, first_frame=?, first_offset=?, findings=?,"     \
	" received_path=?, x_originating_ip=?"
/* The counts of the session id's rows (sqlite_counts.c): whole messages,
 * pieces left out; COUNTS_SET, those of the session ?11 */
#define COUNTS_OF(id)                                                    \
	"n_commands=(SELECT count(*) FROM commands WHERE session_id=" id \
	"), n_messages=(SELECT count(*) FROM messages WHERE"             \
	" session_id=" id " AND partial=0),"                             \
	" n_auths=(SELECT count(*) FROM auth WHERE session_id=" id ")"
#define COUNTS_SET COUNTS_OF("?11")
/* What the replies to the sent message M say of it (sqlite_counts.c
 * keeps it in messages.sent_outcome): an IMAP APPEND's tagged reply;
 * SMTP's reply to the end of its data; else LMTP's, one a recipient */
#define SENT_OUTCOME_OF(m)                                                    \
	"CASE WHEN " m ".proto = 'imap' THEN coalesce((SELECT CASE"           \
	" c.reply_status WHEN 'ok' THEN 'accepted' WHEN 'no' THEN 'rejected'" \
	" WHEN 'bad' THEN 'rejected' END FROM commands c WHERE c.session_id"  \
	" = " m ".session_id AND c.seq = " m ".seq), 'unknown') ELSE"         \
	" coalesce((SELECT CASE WHEN t.final_code BETWEEN 200 AND 299 THEN"   \
	" 'accepted' WHEN t.final_code >= 400 THEN 'rejected' END FROM"       \
	" transactions t WHERE " m ".proto = 'smtp' AND t.session_id = " m    \
	".session_id AND t.tx = " m ".tx), (SELECT CASE WHEN"                 \
	" count(r.delivery_code) = 0 THEN 'unknown' WHEN"                     \
	" min(r.delivery_code) >= 400 THEN 'rejected' WHEN"                   \
	" max(r.delivery_code) < 300 THEN 'accepted' ELSE 'partly accepted'"  \
	" END FROM recipients r WHERE r.session_id = " m ".session_id AND"    \
	" r.tx = " m ".tx)) END"
/* A session's banner and HELO that waited (waiting_hello): ?12 and ?16
 * say whether each did, ?11 is the row; alone (ST_HELLO) or with its
 * end's columns (ST_SESSION_END_HELLO, ?1 to ?10 as ST_SESSION_END's) */
#define HELLO_SET                                                     \
	"banner_code=CASE WHEN ?12 THEN ?13 ELSE banner_code END,"    \
	" banner=CASE WHEN ?12 THEN ?14 ELSE banner END,"             \
	" banner_frame=CASE WHEN ?12 THEN ?15 ELSE banner_frame END," \
	" helo=CASE WHEN ?16 THEN ?17 ELSE helo END"

/* ST_EXTENSIONS writes its rows out: a bound past them would bind
 * nothing, and those keywords would be lost without a word */
_Static_assert(EXTS_WAITING == 8, "ST_EXTENSIONS has 8 rows");

const char *const stmt_sql[ST_COUNT] = {
	[ST_SESSION] =
	    "INSERT INTO sessions (id, run_id, proto, capture_file,"
	    " client_ip, client_port, server_ip, server_port, start_ts, tls,"
	    " midstream, first_frame, first_offset)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_GREETING] = "UPDATE sessions SET banner_code=?, banner=?,"
			" banner_frame=? WHERE id=?",
	[ST_HELO] = "UPDATE sessions SET helo=? WHERE id=?",
	[ST_SESSION_END] =
	    "UPDATE sessions SET end_ts=?1, end_reason=?2, tls=?3,"
	    " bytes_c2s=?4, bytes_s2c=?5, tls_bytes_c2s=?6, tls_bytes_s2c=?7,"
	    " last_frame=?8, last_offset=?9, last_capture_file=?10, " COUNTS_SET
	    " WHERE id=?11",
	[ST_SESSION_END_HELLO] =
	    "UPDATE sessions SET end_ts=?1, end_reason=?2, tls=?3,"
	    " bytes_c2s=?4, bytes_s2c=?5, tls_bytes_c2s=?6, tls_bytes_s2c=?7,"
	    " last_frame=?8, last_offset=?9, last_capture_file=?10, " HELLO_SET
	    ", " COUNTS_SET " WHERE id=?11",
	[ST_HELLO] = "UPDATE sessions SET " HELLO_SET " WHERE id=?11",
	/* EXTS_WAITING rows (asserted below); those not bound are NULL
	 * and left out */
	[ST_EXTENSIONS] = "INSERT INTO extensions SELECT column1, column2,"
			  " column3 FROM (VALUES (?,?,?), (?,?,?), (?,?,?),"
			  " (?,?,?), (?,?,?), (?,?,?), (?,?,?), (?,?,?))"
			  " WHERE column1 IS NOT NULL",
	[ST_COMMAND] =
	    "INSERT OR REPLACE INTO commands (session_id, seq, ts,"
	    " verb, args, tag, frame, offset, reply_code, reply_status,"
	    " reply_text, reply_ts, reply_frame, reply_offset)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_REPLY] = "UPDATE commands SET reply_code=?, reply_status=?,"
		     " reply_text=?, reply_ts=?, reply_frame=?, reply_offset=?"
		     " WHERE session_id=? AND seq=?",
	[ST_AUTH] =
	    "INSERT INTO auth (session_id, seq, ts, mechanism,"
	    " username, password, challenge, proof, reply_code, outcome,"
	    " redacted, frame, offset) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_TX] = "INSERT OR REPLACE INTO transactions (session_id, tx,"
		  " mail_seq, ts, mail_from, mail_params) VALUES (?,?,?,?,?,?)",
	[ST_TX_IMPLICIT] = "INSERT OR IGNORE INTO transactions (session_id,"
			   " tx, ts) VALUES (?,?,?)",
	[ST_TX_REPLY] = "UPDATE transactions SET final_code=?, final_reply=?,"
			" queue_id=? WHERE session_id=? AND tx=?",
	[ST_RCPT] = "INSERT OR REPLACE INTO recipients (session_id, tx, seq,"
		    " address, params) VALUES (?,?,?,?,?)",
	[ST_DELIVERY] = "UPDATE recipients SET delivery_code=?,"
			" delivery_reply=? WHERE session_id=? AND seq=?",
	[ST_MSG] =
	    "INSERT OR REPLACE INTO messages (session_id, tx, seq,"
	    " proto, method, direction, begin_ts, assembled) VALUES (?1,?2,?3,"
	    " (SELECT proto FROM sessions WHERE id=?1),?4,?5,?6,?7)",
	[ST_MSG_META] =
	    "UPDATE messages SET mailbox=coalesce(?1,mailbox),"
	    " flags=coalesce(?2,flags), section=coalesce(?3,section),"
	    " msgno=coalesce(?4,msgno), uid=coalesce(?5,uid),"
	    " partial=max(partial,?6), body_sha256=CASE WHEN ?6 THEN NULL"
	    " ELSE body_sha256 END WHERE session_id=?7 AND tx=?8",
	[ST_MSG_HEAD] = "UPDATE messages SET " MSG_HEAD_SET " WHERE id=?",
	[ST_BLOB_INLINE] = "INSERT OR IGNORE INTO blob_bytes (sha256, bytes)"
			   " VALUES (?,?)",
	[ST_ITEM] = "INSERT INTO items (session_id, seq, ts, action, msgno,"
		    " size, uid, flags, deletion) VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_DELETION] = "UPDATE items SET deletion=? WHERE session_id=? AND"
			" action='dele' AND deletion='marked'",
	[ST_MAILBOX] = "INSERT OR REPLACE INTO mailboxes VALUES"
		       " (?,?,?,?,?,?,?,?,?,?)",
	[ST_RESPONSE] = "INSERT INTO responses (session_id, seq, ts, keyword,"
			" number, text) VALUES (?,?,?,?,?,?)",
	[ST_USER] = "UPDATE sessions SET username=? WHERE id=?",
	[ST_STATE] = "UPDATE sessions SET state=? WHERE id=?",
	[ST_SELECTED] = "UPDATE sessions SET mailbox=? WHERE id=?",
	[ST_CLIENT_ID] = "UPDATE sessions SET client_id=? WHERE id=?",
	[ST_SERVER_ID] = "UPDATE sessions SET server_id=? WHERE id=?",
	[ST_COMPRESSION] = "UPDATE sessions SET compression=? WHERE id=?",
	[ST_HEADER] = "INSERT OR REPLACE INTO headers VALUES (?,?,?,?,?)",
	[ST_PART] = "INSERT OR REPLACE INTO parts (message_id, part, path,"
		    " content_type, charset, encoding, disposition, filename)"
		    " VALUES (?,?,?,?,?,?,?,?)",
	[ST_PART_END] =
	    "UPDATE parts SET encoded_size=?, size=?, md5=?,"
	    " sha256=?, complete=?, extract_path=?, magic_type=?, findings=?,"
	    " sha1=?, archive_password=? WHERE message_id=? AND part=?",
	/* ST_PART_END's columns, numbered as there, then ST_PART's */
	[ST_PART_WHOLE] = "INSERT OR REPLACE INTO parts (encoded_size, size,"
			  " md5, sha256, complete, extract_path, magic_type,"
			  " findings, sha1, archive_password, message_id,"
			  " part, path, content_type, charset, encoding,"
			  " disposition, filename) VALUES (?,?,?,?,?,?,?,?,"
			  "?,?,?,?,?,?,?,?,?,?)",
	[ST_ARCHIVE_ENTRY] = "INSERT OR REPLACE INTO archive_entries"
			     " (message_id, part, n, path, depth, size,"
			     " encrypted, sha256, magic_type)"
			     " VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_YARA] =
	    "INSERT OR REPLACE INTO yara_matches (message_id, part,"
	    " entry, rule, namespace, tags, meta) VALUES (?,?,?,?,?,?,?)",
	[ST_MSG_AUTH] =
	    "INSERT OR REPLACE INTO message_auth (message_id, n,"
	    " kind, instance, authserv, method, result, domain,"
	    " selector, algorithm, canonicalization, signed_headers,"
	    " body_hash, body_length, detail)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_MSG_AUTH_CHECK] = "UPDATE message_auth SET body_hash_check=?"
			      " WHERE message_id=? AND n=?",
	[ST_URL] = "INSERT OR REPLACE INTO urls (message_id, n, part, kind,"
		   " url, host, shown_text, findings, truncated)"
		   " VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_TEXT] = "INSERT OR REPLACE INTO message_text (rowid, subject, body)"
		    " VALUES (?,?,?)",
	[ST_ADDRS_ROW] = "SELECT from_addr, to_addrs, cc_addrs FROM messages"
			 " WHERE id = ?",
	/* VALUES, not a SELECT: a statement that may write more than one
	 * row opens a savepoint, and FTS5 writes out all it holds at each */
	[ST_ADDRS] = "INSERT OR REPLACE INTO message_addrs (rowid, from_addr,"
		     " to_addrs, cc_addrs) VALUES (?,?,?,?)",
	[ST_MSG_END] = "UPDATE messages SET " MSG_END_SET " WHERE id=?",
	[ST_MSG_END_HEAD] =
	    "UPDATE messages SET " MSG_END_SET ", " MSG_HEAD_SET " WHERE id=?",
	[ST_ANOMALY] = "INSERT INTO anomalies (session_id, ts, direction,"
		       " name, detail, frame) VALUES (?,?,?,?,?,?)",
	[ST_SESSION_GAP] = "UPDATE sessions SET gap_bytes=gap_bytes+? WHERE"
			   " id=?",
	[ST_SESSION_COUNTS] = "UPDATE sessions SET " COUNTS_SET " WHERE id=?11",
	[ST_SENT_OUTCOMES] =
	    "UPDATE messages SET sent_outcome=" SENT_OUTCOME_OF(
		"messages") " WHERE session_id=?1 AND direction='c2s'",
	[ST_CAPTURE] = "INSERT INTO captures (run_id, path, size, sha256,"
		       " link_type, packets, first_ts, last_ts, damaged)"
		       " VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_TLS_CLIENT] =
	    "INSERT INTO tls (session_id, ts, sni,"
	    " client_version, versions_offered, ciphers_offered,"
	    " groups_offered, alpn_offered, client_exts, sig_algs,"
	    " client_session_id, ticket_offered, psk_offered, ja3,"
	    " ja3_string, ja4) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	    "?,?) ON CONFLICT(session_id) DO UPDATE SET"
	    " sni=excluded.sni, client_version=excluded.client_version,"
	    " versions_offered=excluded.versions_offered,"
	    " ciphers_offered=excluded.ciphers_offered,"
	    " groups_offered=excluded.groups_offered,"
	    " alpn_offered=excluded.alpn_offered,"
	    " client_exts=excluded.client_exts,"
	    " sig_algs=excluded.sig_algs,"
	    " client_session_id=excluded.client_session_id,"
	    " ticket_offered=excluded.ticket_offered,"
	    " psk_offered=excluded.psk_offered, ja3=excluded.ja3,"
	    " ja3_string=excluded.ja3_string, ja4=excluded.ja4",
	[ST_TLS_SERVER] =
	    "INSERT INTO tls (session_id, ts, version, cipher,"
	    " curve, alpn, server_exts, server_session_id, ja3s,"
	    " ja3s_string, hrr) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT(session_id) DO UPDATE SET"
	    " version=excluded.version, cipher=excluded.cipher,"
	    " curve=excluded.curve, alpn=excluded.alpn,"
	    " server_exts=excluded.server_exts,"
	    " server_session_id=excluded.server_session_id,"
	    " ja3s=excluded.ja3s, ja3s_string=excluded.ja3s_string,"
	    " hrr=max(hrr, excluded.hrr)",
	[ST_TLS_CERT] = "INSERT OR REPLACE INTO certificates VALUES (?,?,?,?,?,"
			"?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_TLS_ALERT] = "INSERT INTO tls (session_id, ts, last_alert, alerts)"
			 " VALUES (?,?,?,1) ON CONFLICT(session_id) DO UPDATE"
			 " SET last_alert=excluded.last_alert,"
			 " alerts=alerts+1",
	[ST_TLS_CHAIN] = "SELECT sender, sha256, der FROM certificates WHERE"
			 " session_id=? ORDER BY sender DESC, idx",
	[ST_TLS_NAMES] = "SELECT t.sni, t.ts, s.banner FROM sessions s LEFT"
			 " JOIN tls t ON t.session_id = s.id WHERE s.id=?",
	[ST_TLS_END] = "INSERT INTO tls (session_id, ts, established, resumed,"
		       " curve, records_c2s, records_s2c, cert_chain_fps,"
		       " client_cert_chain_fps, validation, sni_matches_cert,"
		       " greeting_matches_cert, decryption)"
		       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
		       " ON CONFLICT(session_id) DO UPDATE SET"
		       " established=excluded.established,"
		       " resumed=excluded.resumed,"
		       " curve=coalesce(curve, excluded.curve),"
		       " records_c2s=excluded.records_c2s,"
		       " records_s2c=excluded.records_s2c,"
		       " cert_chain_fps=excluded.cert_chain_fps,"
		       " client_cert_chain_fps=excluded.client_cert_chain_fps,"
		       " validation=excluded.validation,"
		       " sni_matches_cert=excluded.sni_matches_cert,"
		       " greeting_matches_cert=excluded.greeting_matches_cert,"
		       " decryption=excluded.decryption",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
};

void
db_fail(struct sqlite_store *s, const char *what)
{
	int e = sqlite3_errcode(s->db);

	s->stats.errors++;
	if (e == SQLITE_FULL || e == SQLITE_IOERR)
		s->stats.storage_failed = s->stats.storage_failing =
		    s->storage_fail_in_txn = 1;
	if (e == SQLITE_IOERR)
		disk_failed(s);
	snprintf(s->error, sizeof(s->error), "%s: %s", what,
	    sqlite3_errmsg(s->db));
	/* the transaction rolled back: the sums of its rows go too */
	if (sqlite3_get_autocommit(s->db)) {
		hosts_forget(s);
		stats_forget(s);
		findings_forget(s);
	}
}

void
io_fail(struct sqlite_store *s)
{
	s->stats.errors++;
	if (errno == ENOSPC || errno == EDQUOT || errno == EIO ||
	    errno == EFBIG)
		s->stats.storage_failed = s->stats.storage_failing =
		    s->storage_fail_in_txn = 1;
	if (errno == EIO)
		disk_failed(s);
}

/*
 * The disk failed after a COMMIT had succeeded that no sync of the whole
 * file system has confirmed: that COMMIT's fsync said done, yet a
 * failing device can have lost the WAL's last frames (e2e.sh: once in
 * some thirty runs the last commit's tail read back as zeros once the
 * device worked again, and the log held what the commit before had
 * held).  Whatever road the failure came by (a syncfs, a statement, a
 * COMMIT), the run says so with what it says the log holds.
 */
static void
commit_doubted(struct sqlite_store *s)
{
	if (s->commit_unsynced)
		s->stats.commit_unconfirmed = 1;
	s->commit_unsynced = 0;
}

/*
 * After an I/O error Linux may report a later fsync as done although the
 * pages never reached the disk.  A checkpoint would then copy the WAL
 * into pages that are lost and drop the WAL that holds what was
 * committed: the log on the disk would say less than the run did, and
 * less than it said it kept.  So no checkpoint from then on, during the
 * run or at its close; the WAL stays and the next open reads it.
 */
void
disk_failed(struct sqlite_store *s)
{
	commit_doubted(s);
	if (s->disk_failed || s->db == NULL)
		return;
	s->disk_failed = 1;
	sqlite3_wal_autocheckpoint(s->db, 0);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
}

/* Closes the log, its WAL folded into it unless the disk failed. */
int
db_close_file(struct sqlite_store *s)
{
	int rc;

	if (!s->disk_failed)
		sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
		    NULL, NULL);
	rc = sqlite3_close(s->db);
	s->db = NULL;
	return rc;
}

static void
bind_bytes(sqlite3_stmt *st, int i, struct md_bytes b,
    sqlite3_destructor_type how)
{
	if (b.p == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, (const char *)b.p, (int)b.len, how);
}

void
db_bind_bytes(sqlite3_stmt *st, int i, struct md_bytes b)
{
	bind_bytes(st, i, b, SQLITE_TRANSIENT);
}

void
db_bind_bytes_now(sqlite3_stmt *st, int i, struct md_bytes b)
{
	bind_bytes(st, i, b, SQLITE_STATIC);
}

int
db_copy_bytes(struct md_bytes b, int empty_null, char **p, size_t *len)
{
	*p = NULL;
	*len = 0;
	if (b.p == NULL || (empty_null && b.len == 0))
		return 0;
	if ((*p = malloc(b.len + 1)) == NULL)
		return -1;
	memcpy(*p, b.p, b.len);
	(*p)[b.len] = '\0';
	*len = b.len;
	return 0;
}

void
db_bind_copy(sqlite3_stmt *st, int i, const char *p, size_t len)
{
	if (p != NULL)
		sqlite3_bind_text(st, i, p, (int)len, SQLITE_STATIC);
}

void
db_bind_text(sqlite3_stmt *st, int i, struct md_bytes b)
{
	if (b.len == 0)
		sqlite3_bind_null(st, i);
	else
		db_bind_bytes(st, i, b);
}

/* Provenance: NULL when the bytes came from no capture file. */
void
db_bind_frame(sqlite3_stmt *st, int i, uint64_t frame)
{
	if (frame != 0)
		sqlite3_bind_int64(st, i, (sqlite3_int64)frame);
}

void
db_bind_offset(sqlite3_stmt *st, int i, uint64_t frame, int64_t offset)
{
	if (frame != 0 && offset >= 0)
		sqlite3_bind_int64(st, i, offset);
}

/* Runs a bound statement once and resets it. */
int
db_run(struct sqlite_store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	int	      rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(s, stmt_sql[id]);
		rc = -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

void
db_bind_u64(sqlite3_stmt *st, int i, uint64_t v, uint64_t none)
{
	if (v != none)
		sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

/* Monotonic wall time in microseconds; the coarse clock costs a few ns. */
static uint64_t
wall_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/*
 * Kept message bytes reach the disk before the rows that say they are
 * kept.  The blob files are written through the page cache, and a disk
 * that fails writes loses them silently: on ext4 over a failing device
 * every kept file of a run came back as zeros while its rows said kept
 * (e2e.sh).  One syncfs a commit (at most one a second, as the WAL's
 * fsync) flushes the files of that second together; an fsync per file
 * would cost small mail dearly.  syncfs reports the errors since the
 * descriptor was opened, hence blob_fd, opened with the folder.
 * Returns 0, or -1 (counted, the disk said failing): the transaction
 * must then not commit.
 */
static int
blobs_durable(struct sqlite_store *s)
{
	if (!s->blobs_unsynced)
		return 0;
	s->blobs_unsynced = 0;
	if (s->blob_fd >= 0 && syncfs(s->blob_fd) == 0) {
		s->commit_unsynced = 0;
		return 0;
	}
	if (s->blob_fd < 0)
		errno = EIO; /* the folder could not be opened: unknown */
	snprintf(s->error, sizeof(s->error),
	    "%s: the kept bytes did not reach the disk: %s", s->blob_dir,
	    strerror(errno));
	io_fail(s);
	/* whatever errno: written pages were lost, as after an EIO */
	s->stats.storage_failed = s->stats.storage_failing = 1;
	disk_failed(s);
	return -1;
}

/* The transaction is gone (rolled back): its messages counted lost. */
static void
txn_lost(struct sqlite_store *s, uint64_t pending)
{
	s->stats.messages_lost += pending;
	s->msgs_committed_mark = s->stats.messages;
	lost_committed(s, 1);
}

/* Rolls back what may not be committed: kept bytes not on the disk. */
static int
commit_refused(struct sqlite_store *s, uint64_t pending)
{
	if (blobs_durable(s) == 0)
		return 0;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	txn_lost(s, pending);
	return 1;
}

/* What waits for the commit, written (with no log: freed): the parts
 * still waiting for their results, the messages' header columns and the
 * sessions' banner and HELO for their end, a reply's keywords, the
 * commands for their reply, the messages' text for the index, the sums
 * of the rows written since the last. */
static void
waiting_write(struct sqlite_store *s)
{
	parts_write_waiting(s);
	heads_write_waiting(s);
	hellos_write_waiting(s);
	exts_write_waiting(s);
	cmds_write_waiting(s);
	counts_write_waiting(s);
	texts_write_waiting(s);
	addrs_write_waiting(s);
	hosts_write_waiting(s);
	stats_write_waiting(s);
	findings_write_waiting(s);
}

void
db_commit_last(struct sqlite_store *s)
{
	waiting_write(s);
	if (!commit_refused(s, s->stats.messages - s->msgs_committed_mark))
		db_run(s, ST_COMMIT);
}

/*
 * A COMMIT the disk refuses may leave the transaction open (its rows
 * wait for the next one: nothing lost yet) or roll it back (SQLite does
 * after some SQLITE_FULL and SQLITE_IOERR): then the messages begun in
 * it are counted lost.  Writing goes on with the next transaction, so
 * a disk that has room again is written again.
 */
void
db_commit(struct sqlite_store *s)
{
	uint64_t pending = s->stats.messages - s->msgs_committed_mark;

	waiting_write(s);
	if (commit_refused(s, pending)) {
		/* rolled back: counted */
	} else if (sqlite3_step(s->st[ST_COMMIT]) == SQLITE_DONE) {
		/* a COMMIT after a statement failed for the disk commits
		 * what SQLite kept of the transaction, if anything: the disk
		 * is still failing, and what was written then not whole */
		s->stats.messages_logged += pending;
		s->stats.commits += !s->storage_fail_in_txn;
		s->commit_unsynced = !s->storage_fail_in_txn;
		s->msgs_committed_mark = s->stats.messages;
		s->stats.storage_failing = s->storage_fail_in_txn;
		s->ended_committed = s->nended;
		s->fin_out_committed = s->fin_out;
		lost_committed(s, 0);
	} else {
		/* storage_failing stays until a COMMIT succeeds: after a
		 * statement's SQLITE_FULL rolled the transaction back, this
		 * COMMIT fails for want of one */
		db_fail(s, "COMMIT");
		if (sqlite3_get_autocommit(s->db)) /* rolled back */
			txn_lost(s, pending);
	}
	sqlite3_reset(s->st[ST_COMMIT]);
	s->storage_fail_in_txn = 0;
	if (sqlite3_get_autocommit(s->db))
		db_run(s, ST_BEGIN);
	s->last_commit_wall = wall_now_us();
	s->events_since_commit = 0;
}

/*
 * Commits every STORE_COMMIT_WALL_US of wall time: a capture of a few
 * seconds can take minutes to read, and what was read before a crash or a
 * kill must stay.  Not by capture time: a file is read many times faster
 * than it was recorded, and every commit writes again each index page its
 * rows touched (hashes and addresses land on pages at random), so commits
 * every two seconds of a dense capture wrote the log's indexes over and
 * over as the log grew (doc/performance.md, round eleven).
 */
void
db_maybe_commit(struct sqlite_store *s)
{
	if (++s->events_since_commit >= STORE_COMMIT_EVENTS ||
	    wall_now_us() - s->last_commit_wall >= STORE_COMMIT_WALL_US)
		db_commit(s);
}

static int
exec_sql(struct sqlite_store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The number a PRAGMA (or any one-value query) answers; none when it
 * answers nothing. */
int64_t
db_pragma(sqlite3 *db, const char *sql, int64_t none)
{
	sqlite3_stmt *st;
	int64_t	      v = none;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return none;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* WAL_CHECKPOINT_BYTES in pages of the log's own size: a log made
 * before its pages were 8 KiB keeps its 4 */
static int
checkpoint_pages(sqlite3 *db)
{
	int64_t size = db_pragma(db, "PRAGMA page_size", 4096);

	return (int)(WAL_CHECKPOINT_BYTES / (size > 0 ? size : 4096));
}

static int
schema_version(struct sqlite_store *s)
{
	return (int)db_pragma(s->db, "PRAGMA user_version", -1);
}

/* Whether table lacks a column of that name (for upgrades in place). */
static int
lacks_column(struct sqlite_store *s, const char *table, const char *column)
{
	return sqlite_has_column(s->db, table, column) != 1;
}

/* Whether the database is another program's: schema version 0 with
 * tables (a new log has none yet); said in err.  Asked before anything
 * is written to it, the journal mode included. */
static int
foreign(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int	      found = 1;

	if (schema_version(s) != 0)
		return 0;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master LIMIT 1", -1,
		&st, NULL) == SQLITE_OK) {
		found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (found)
		snprintf(err, errlen,
		    "not a mailsift log (a database of other tables): "
		    "refused, with or without --replace");
	return found;
}

#define SESSION_COUNTS_ADDED                                             \
	"ALTER TABLE sessions ADD COLUMN n_commands INTEGER NOT NULL"    \
	" DEFAULT 0; ALTER TABLE sessions ADD COLUMN n_messages INTEGER" \
	" NOT NULL DEFAULT 0; ALTER TABLE sessions ADD COLUMN n_auths"   \
	" INTEGER NOT NULL DEFAULT 0; UPDATE sessions SET " COUNTS_OF(   \
	    "sessions.id") ";"
#define SENT_OUTCOMES_ADDED                                                  \
	"ALTER TABLE messages ADD COLUMN sent_outcome TEXT; UPDATE messages" \
	" SET sent_outcome=" SENT_OUTCOME_OF(                                \
	    "messages") " WHERE direction='c2s';"

static int
schema_steps(struct sqlite_store *s, char *err, size_t errlen)
{
	char sql[64];
	int  v = schema_version(s);

	if (v < 0) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	/* version 6 added capture_stats, the LMTP delivery columns and
	 * messages.assembled: a version 5 log takes them; version 7 added
	 * the tls and certificates tables, which the schema creates */
	if (v != 0 && v != 5 && v != 6 && v != STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
		    "the log has schema version %d; this "
		    "mailsift writes version %d (use another file)",
		    v, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v == 0 && foreign(s, err, errlen))
		return -1;
	if (v == 5 && lacks_column(s, "recipients", "delivery_code") &&
	    exec_sql(s,
		"ALTER TABLE recipients ADD COLUMN"
		" delivery_code INTEGER; ALTER TABLE recipients ADD COLUMN"
		" delivery_reply TEXT; DROP VIEW IF EXISTS v_recipients;",
		err, errlen) != 0)
		return -1;
	if (v == 5 && lacks_column(s, "messages", "assembled") &&
	    exec_sql(s, "ALTER TABLE messages ADD COLUMN assembled TEXT;", err,
		errlen) != 0)
		return -1;
	/* ... a log made before the sessions kept their counts takes
	 * them, counted once (the view below reads them) */
	if (v != 0 && lacks_column(s, "sessions", "n_commands") &&
	    exec_sql(s, SESSION_COUNTS_ADDED, err, errlen) != 0)
		return -1;
	/* ... and before the messages kept their outcomes (v_messages) */
	if (v != 0 && lacks_column(s, "messages", "sent_outcome") &&
	    exec_sql(s, SENT_OUTCOMES_ADDED, err, errlen) != 0)
		return -1;
	if (exec_sql(s, STORE_SCHEMA_SQL, err, errlen) != 0)
		return -1;
	/* a version 7 log written before decryption came */
	if (lacks_column(s, "tls", "decryption") &&
	    exec_sql(s, "ALTER TABLE tls ADD COLUMN decryption TEXT;", err,
		errlen) != 0)
		return -1;
	/* ... or before messages had findings */
	if (lacks_column(s, "messages", "findings") &&
	    exec_sql(s,
		"ALTER TABLE messages ADD COLUMN findings TEXT;"
		" ALTER TABLE messages ADD COLUMN received_path TEXT;"
		" ALTER TABLE messages ADD COLUMN x_originating_ip TEXT;",
		err, errlen) != 0)
		return -1;
	/* ... or before runs said which process wrote them */
	if (lacks_column(s, "runs", "owner") &&
	    exec_sql(s,
		"ALTER TABLE runs ADD COLUMN owner TEXT;"
		" ALTER TABLE runs ADD COLUMN blobs TEXT;"
		" ALTER TABLE capture_stats ADD COLUMN store_errors INTEGER;"
		" ALTER TABLE capture_stats ADD COLUMN messages_lost INTEGER;",
		err, errlen) != 0)
		return -1;
	/* ... or before parts were typed by content */
	if (lacks_column(s, "parts", "magic_type") &&
	    exec_sql(s,
		"ALTER TABLE parts ADD COLUMN magic_type TEXT;"
		" ALTER TABLE parts ADD COLUMN findings TEXT;"
		" ALTER TABLE parts ADD COLUMN sha1 TEXT;"
		" ALTER TABLE parts ADD COLUMN archive_password TEXT;"
		" DROP VIEW IF EXISTS v_attachments;",
		err, errlen) != 0)
		return -1;
	if (sqlite_findings_schema(s->db, err, errlen) != 0)
		return -1;
	/* the text index merges its segments 8 at a time, not 4: each
	 * commit writes one, and merging was a share of the writer's work
	 * (a log of 200,000 notifications 2.4% faster to write, its
	 * searches as fast; doc/performance.md) */
	if (exec_sql(s,
		"INSERT INTO message_text (message_text, rank)"
		" VALUES ('automerge', 8)",
		err, errlen) != 0)
		return -1;
	/* a worker's spool sums no hosts: the log it ships to does */
	if (!s->is_spool &&
	    (sqlite_hosts_schema(s->db, err, errlen) != 0 ||
		sqlite_stats_schema(s->db, err, errlen) != 0 ||
		sqlite_findings_sums_schema(s->db, err, errlen) != 0 ||
		sqlite_addrs_schema(s->db, err, errlen) != 0))
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
	    STORE_SCHEMA_VERSION);
	return exec_sql(s, sql, err, errlen);
}

/* The schema made or brought up to date in one transaction: a log is
 * never left half made, and the pages its statements touch go to the
 * WAL once, not once a statement (the demo capture read into a new log
 * wanted 1.2 MB of disk before, 0.55 MB after). */
static int
store_schema(struct sqlite_store *s, char *err, size_t errlen)
{
	if (exec_sql(s, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	if (schema_steps(s, err, errlen) == 0 &&
	    exec_sql(s, "COMMIT", err, errlen) == 0)
		return 0;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int64_t
run_started(sqlite3 *db, const char *command)
{
	sqlite3_stmt *st;
	char	      now[32];
	int64_t	      id = -1;
	char	      owner[512];

	owner_clock(now, sizeof(now));
	owner_self(owner, sizeof(owner));
	if (sqlite3_prepare_v2(db,
		"INSERT INTO runs (started, version,"
		" command, owner) VALUES (?,?,?,?)",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, MAILSIFT_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, command ? command : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, owner, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	return id;
}

static int
store_begin_run(struct sqlite_store *s, const char *command, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;

	if ((s->run_id = run_started(s->db, command)) < 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db,
		"SELECT coalesce(max(id), 0) FROM"
		" sessions",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		s->id_base = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	return -1;
}

/*
 * A run whose process was killed never finished: its row is closed now
 * (status -1, finished when this was found) and its sessions still open
 * end as 'killed', so that no query takes them for connections that go
 * on.  Runs of another host, or whose process still runs, are left be.
 */
int
runs_mark_killed(sqlite3 *db)
{
	sqlite3_stmt *st;
	char	      now[32];
	int64_t	      dead[64];
	int	      n = 0;

	if (sqlite3_prepare_v2(db,
		"SELECT id, owner FROM runs WHERE finished IS NULL"
		" AND owner IS NOT NULL",
		-1, &st, NULL) != SQLITE_OK)
		return 0;
	while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
		if (!owner_alive((const char *)sqlite3_column_text(st, 1)))
			dead[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	owner_clock(now, sizeof(now));
	for (int i = 0; i < n; i++)
		run_end_killed(db, dead[i], now);
	/* their sessions ended, and their rows will not change: summed,
	 * where the log keeps the findings' sums (a spool does not) */
	if (n > 0)
		(void)sqlite_findings_settle(db);
	return n;
}

/* The UPDATEs of runs_mark_killed for one run (the receiver of a killed
 * worker's spool runs them too). */
void
run_end_killed(sqlite3 *db, int64_t run_id, const char *now)
{
	static const char *const sql[] = {
		"UPDATE runs SET finished = ?2, status = -1"
		" WHERE id = ?1 AND finished IS NULL",
		"UPDATE sessions SET end_reason = 'killed'"
		" WHERE run_id = ?1 AND end_ts IS NULL AND end_reason IS NULL",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
}

/*
 * Where this run keeps message bytes, as an absolute path: a log moved
 * away from its blobs (logrotate), or one of the files of live --rotate
 * (which share one store), finds them by it.
 */
static int
run_note_blobs(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char	     *abs;
	int	      rc;

	if (s->is_spool || s->blob_dir == NULL ||
	    (abs = realpath(s->blob_dir, NULL)) == NULL)
		return 0;
	rc = sqlite3_prepare_v2(s->db, "UPDATE runs SET blobs = ? WHERE id = ?",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, abs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, s->run_id);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(st);
	}
	free(abs);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "runs: %s", sqlite3_errmsg(s->db));
	return rc == SQLITE_OK ? 0 : -1;
}

/* Records the end of a run in its log. */
void
run_finished(sqlite3 *db, int64_t run_id, int status)
{
	sqlite3_stmt *st;
	char	      now[32];

	owner_clock(now, sizeof(now));
	if (sqlite3_prepare_v2(db,
		"UPDATE runs SET finished=?, status=?"
		" WHERE id=?",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, status);
	sqlite3_bind_int64(st, 3, run_id);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/*
 * A log to write rows into without a run of its own (the receiver of
 * spooled rows, sqlite_ship.c): created when asked, its schema brought
 * up to date.  Workers that start together would meet in SQLite's switch
 * to WAL and the schema, where it answers "locked" at once instead of
 * waiting; so this takes an flock on the file for that moment.  *fdp
 * gets the descriptor that holds it: it must stay open until the
 * database is closed (closing a descriptor of the file would drop the
 * POSIX locks SQLite holds on it), then be closed.  NULL with err set.
 */
sqlite3 *
sqlite_log_open(const char *path, int create, int *fdp, char *err,
    size_t errlen)
{
	struct sqlite_store s = { .db = NULL };
	int		    ok;

	*fdp = -1;
	if (create && create_private(path, 0, err, errlen) != 0)
		return NULL;
	if ((*fdp = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    flock(*fdp, LOCK_EX) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (*fdp >= 0)
			close(*fdp);
		*fdp = -1;
		return NULL;
	}
	ok = sqlite3_open_v2(path, &s.db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK;
	if (!ok)
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s.db));
	/* other workers commit too: wait their turn */
	sqlite3_busy_timeout(s.db, 30000);
	ok = ok && !foreign(&s, err, errlen) &&
	    exec_sql(&s,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		" PRAGMA temp_store=MEMORY; " SQLITE_HOSTS_PRAGMA,
		err, errlen) == 0 &&
	    store_schema(&s, err, errlen) == 0;
	flock(*fdp, LOCK_UN);
	if (!ok) {
		sqlite3_close(s.db);
		close(*fdp);
		*fdp = -1;
		return NULL;
	}
	return s.db;
}

/*
 * Whether the file at path may become or stay a log: absent, empty, or a
 * SQLite database of a schema version mailsift writes.  Anything else (a
 * capture file given as -o by mistake, another program's database, a
 * log of an unknown version) is refused with or without --replace, so
 * that no option ever destroys or alters it.  The header says it
 * (SQLite's magic, and user_version at offset 60), before anything is
 * opened, created or removed.
 */
static int
may_be_log(const char *path, int replace, char *err, size_t errlen)
{
	unsigned char h[100];
	struct stat   sb;
	uint32_t      v;
	int	      fd;
	ssize_t	      n;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file: refused", path);
		return -1;
	}
	if (sb.st_size == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0) {
		snprintf(err, errlen,
		    "%s: not a mailsift log (a capture file? another "
		    "program's file?): refused, with or without --replace",
		    path);
		return -1;
	}
	v = (uint32_t)h[60] << 24 | (uint32_t)h[61] << 16 |
	    (uint32_t)h[62] << 8 | h[63];
	if (v == 0 && replace) { /* no schema of ours: another's database */
		snprintf(err, errlen,
		    "%s: not a mailsift log (another program's database?): "
		    "refused, with or without --replace",
		    path);
		return -1;
	}
	if (v != 0 && (v < 5 || v > STORE_SCHEMA_VERSION)) {
		snprintf(err, errlen,
		    "%s: a log of schema version %u; this mailsift writes "
		    "version %d: refused (use another file)",
		    path, v, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0; /* version 0: store_schema checks it holds no tables */
}

/*
 * live --rotate, starting: the file the last run wrote (LOG.db's link)
 * gets its killed run closed there, not only in the file this run
 * starts, and session ids go on after its last (JSON uids and -x names
 * stay unique across restarts).
 */
int
sqlite_take_over(const char *path, int64_t *last_session, char *err,
    size_t errlen)
{
	struct sqlite_store s = { .db = NULL };
	sqlite3_stmt	   *st;
	int		    ok;

	*last_session = 0;
	err[0] = '\0';
	if (may_be_log(path, 0, err, errlen) != 0)
		return -1;
	ok = sqlite3_open_v2(path, &s.db, SQLITE_OPEN_READWRITE, NULL) ==
		SQLITE_OK &&
	    !foreign(&s, err, errlen) &&
	    schema_version(&s) == STORE_SCHEMA_VERSION;
	if (ok) {
		sqlite3_busy_timeout(s.db, 5000);
		runs_mark_killed(s.db);
		if (sqlite3_prepare_v2(s.db,
			"SELECT coalesce(max(id), 0) FROM sessions", -1, &st,
			NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				*last_session = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	} else if (s.db != NULL && err[0] == '\0') {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s.db));
	}
	sqlite3_close(s.db);
	return ok ? 0 : -1;
}

/* Removes a log's file and those SQLite keeps beside it: 0, or -1 with
 * err said (err NULL: every one tried, none said) at the first that is
 * there and will not go. */
static int
unlink_log(const char *path, char *err, size_t errlen)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char			 p[4096];

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		if (unlink(p) != 0 && errno != ENOENT && err != NULL) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The log holds credentials: it is created readable by its owner only. */
int
create_private(const char *path, int force, char *err, size_t errlen)
{
	int fd;

	if (may_be_log(path, force, err, errlen) != 0 ||
	    (force && unlink_log(path, err, errlen) != 0))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int
db_prepare_each(sqlite3 *db, const char *const sql[], sqlite3_stmt *st[], int n,
    char *err, size_t errlen)
{
	for (int i = 0; i < n; i++)
		if (sqlite3_prepare_v3(db, sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", sql[i],
			    sqlite3_errmsg(db));
			return -1;
		}
	return 0;
}

void
db_finalize_each(sqlite3_stmt *st[], int n)
{
	for (int i = 0; i < n; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
}

/* Prepared statements of the open log. */
static int
prepare_all(struct sqlite_store *s, char *err, size_t errlen)
{
	return db_prepare_each(s->db, stmt_sql, s->st,
	    s->is_spool ? ST_ADDRS : ST_COUNT, err, errlen);
}

void
finalize_all(struct sqlite_store *s)
{
	db_finalize_each(s->st, ST_COUNT);
	hosts_writer_close(s);
	stats_writer_close(s);
	findings_writer_close(s);
}

/*
 * Creates or opens the log file at path (and its blobs folder), with the
 * schema, a run row and the statements; a transaction is left open.
 */
int
db_open(struct sqlite_store *s, const char *path, int force, int keep,
    const char *command, char *err, size_t errlen)
{
	if (create_private(path, force, err, errlen) != 0)
		return -1;
	free(s->blob_dir);
	s->blob_dir = NULL;
	/* one thread at a time writes through this connection (the
	 * writer's, or the caller's once handoff.c drained it): no mutex
	 * per call */
	if (sqlite3_open_v2(path, &s->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (foreign(s, err, errlen)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (keep) { /* once the file is known to be a log */
		char bd[4096];

		if (s->blob_base != NULL)
			snprintf(bd, sizeof(bd), "%s", s->blob_base);
		else
			snprintf(bd, sizeof(bd), "%s.blobs", path);
		if (keep_dir(bd, err, errlen) != 0)
			return -1;
		if ((s->blob_dir = strdup(bd)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (s->blob_fd >= 0)
			close(s->blob_fd);
		s->blob_fd = open(bd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* what a killed run left half-written; not, at a rotation,
		 * the files of the messages this run carries over */
		keep_clean(bd, s->blob_seq == 0);
	}
	/* 16 MB of page cache (SQLite's default is 2 MB): the indexes of
	 * small mail's many rows were read back from the kernel page by
	 * page (20,000 notifications 5.44 to 5.23 s; 8, 32 and 64 MB were
	 * slower) */
	/* pages of 8 KiB, not 4, in a log made now (an older log keeps
	 * its own): every byte goes to the WAL and then to the file, and
	 * half as many pages is half the kernel's work per write and
	 * fewer B-tree splits (20,000 notifications, 6 runs each, median
	 * 4.46 to 4.10 s; a million-message log's pages as fast, a scan
	 * faster; doc/performance.md, round eighteen) */
	/* a checkpoint once the WAL holds some 40 MB (WAL_CHECKPOINT_BYTES,
	 * in pages of the log's own size) rather than 4 MB:
	 * small mail's commits (one a second) each passed SQLite's 1,000
	 * pages, and the pages every batch touches (index interiors, the
	 * full-text index's) went to the file at each (20,000
	 * notifications, best of 3: 4.30 to 4.0 s) */
	/* no zeroing of what a write frees (Debian builds SQLite with
	 * SECURE_DELETE): the writer frees the cells its UPDATEs replace
	 * and the full-text index's merged segments, whose content the
	 * log holds anyway; 3% of the writer's instructions */
	if (exec_sql(s,
		"PRAGMA page_size=8192; PRAGMA journal_mode=WAL;"
		" PRAGMA synchronous=FULL;"
		" PRAGMA secure_delete=OFF;"
		" PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF;"
		" PRAGMA cache_size=-16384;"
		" " SQLITE_HOSTS_PRAGMA,
		err, errlen) != 0)
		return -1;
	sqlite3_wal_autocheckpoint(s->db, checkpoint_pages(s->db));
	if (store_schema(s, err, errlen) != 0)
		return -1;
	runs_mark_killed(s->db); /* before this run's own row */
	if (store_begin_run(s, command, err, errlen) != 0 ||
	    run_note_blobs(s, err, errlen) != 0 ||
	    (!s->is_spool &&
		(hosts_writer_open(s, err, errlen) != 0 ||
		    stats_writer_open(s, err, errlen) != 0 ||
		    findings_writer_open(s, err, errlen) != 0)) ||
	    prepare_all(s, err, errlen) != 0)
		return -1;
	snprintf(s->path, sizeof(s->path), "%s", path);
	db_run(s, ST_BEGIN);
	s->last_commit_wall = wall_now_us();
	return 0;
}

/* SQLite counts every allocation under a global mutex for
 * sqlite3_status(), which mailsift never asks: on small mail some 5% of
 * a run's CPU.  Only before SQLite is first used (it says MISUSE after,
 * harmlessly). */
static void
sqlite_library_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* A rotation's next log made first (db_make_file); not a SIGHUP's at
 * the name of the log in use, whose WAL may still lie beside that name
 * (logrotate moves the file alone): the new file would take it for its
 * own.  That one is made as the rotation closes the old. */
static int
sqlite_rotate_ready(void *arg, const char *path, char *err, size_t errlen)
{
	struct sqlite_store *s = arg;

	if (s->db == NULL || strcmp(path, s->path) == 0)
		return 0;
	return db_make_file(path, err, errlen);
}

int
db_make_file(const char *path, char *err, size_t errlen)
{
	struct sqlite_store *probe;
	struct stat	     sb;
	char		     wal[4100];
	int		     rc, existed = stat(path, &sb) == 0;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (!existed && stat(wal, &sb) == 0)
		return 0; /* another file's WAL at the name: not touched */

	if ((probe = calloc(1, sizeof(*probe))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = create_private(path, 0, err, errlen);
	if (rc == 0 &&
	    sqlite3_open_v2(path, &probe->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    sqlite3_errmsg(probe->db));
		rc = -1;
	}
	if (rc == 0)
		rc = exec_sql(probe, "PRAGMA journal_mode=WAL;", err, errlen) ||
		    store_schema(probe, err, errlen);
	sqlite3_close(probe->db);
	free(probe);
	if (rc != 0 && !existed)
		unlink_log(path, NULL, 0); /* not left for a later run */
	return rc == 0 ? 0 : -1;
}

static void *
sqlite_open(const struct store_opts *o, char *err, size_t errlen)
{
	struct sqlite_store *s;

	struct analysis_opts ao = { .rules = o->rules, /* compiled once */
		.sha1 = o->sha1,
		.workers = hasher_workers_for_cpus() };

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->an = analysis_new(&ao, msgs_result, s)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->blob_fd = -1;
	if (o->extract_dir != NULL) {
		if (keep_dir(o->extract_dir, err, errlen) != 0) {
			char why[4200];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "--extract %s", why);
			goto fail;
		}
		if ((s->extract_dir = strdup(o->extract_dir)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	s->redact = o->redact;
	s->command = o->command;
	s->is_spool = o->spool;
	s->spool_blob_bytes = o->spool_blob_bytes;
	s->keep = !o->no_keep;
	s->track_ended = o->track_ended;
	if (o->blob_dir != NULL &&
	    (s->blob_base = strdup(o->blob_dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (db_open(s, o->path, o->force, !o->no_keep, o->command, err,
		errlen) != 0)
		goto fail;
	if (o->session_base > s->id_base)
		s->id_base = o->session_base;
	return s;
fail:
	if (s->blob_fd >= 0)
		close(s->blob_fd);
	finalize_all(s);
	sqlite3_close(s->db);
	analysis_free(s->an);
	free(s->extract_dir);
	free(s->blob_dir);
	free(s->blob_base);
	free(s->ended);
	free(s);
	return NULL;
}

/* Commits what is pending now (live capture: at least once a second),
 * with the ends whose digests came since the last event: a quiet link
 * sends no event to write them. */
static void
sqlite_flush(void *arg)
{
	struct sqlite_store *s = arg;

	if (s->db == NULL) /* a rotation that found no room left none */
		return;
	msgs_settle(s, 0);
	db_commit(s);
}

/* The sessions ended whose rows are all in the log: their ids, in the
 * order they ended; at most cap, the rest wait for the next call. */
static size_t
sqlite_take_ended(void *arg, int64_t *ids, size_t cap)
{
	struct sqlite_store *s = arg;
	size_t		     n = 0;

	while (n < cap && n < s->ended_committed &&
	    s->ended[n].seq <= s->fin_out_committed) {
		ids[n] = s->ended[n].id;
		n++;
	}
	if (n == 0)
		return 0;
	memmove(s->ended, s->ended + n, (s->nended - n) * sizeof(*s->ended));
	s->nended -= n;
	s->ended_committed -= n;
	return n;
}

static void
sqlite_settle(void *arg)
{
	msgs_settle(arg, 1);
}

/* Sessions that begin from now on are credited to this capture file. */
static void
sqlite_set_capture_file(void *arg, const char *path)
{
	struct sqlite_store *s = arg;
	s->capture_file = path;
}

/* SHA-256 of a regular file. */
static int
file_sha256(const struct store_capture *c, char hex[HASH_HEX_MAX],
    int64_t *size)
{
	int fd = c->fd >= 0 ? c->fd : open(c->path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	int	    rc = -1;

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    an_fd_sha256(fd, hex, NULL) == 0) {
		*size = sb.st_size;
		rc = 0;
	}
	if (fd >= 0 && c->fd < 0)
		close(fd);
	return rc;
}

static void
sqlite_add_capture(void *arg, const struct store_capture *c)
{
	struct sqlite_store *s = arg;
	sqlite3_stmt	    *st = s->st[ST_CAPTURE];
	char		     hex[HASH_HEX_MAX];
	int64_t		     size;

	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_text(st, 2, c->path, -1, SQLITE_STATIC);
	if (c->sha256 != NULL) {
		sqlite3_bind_int64(st, 3, (sqlite3_int64)c->size);
		sqlite3_bind_text(st, 4, c->sha256, -1, SQLITE_TRANSIENT);
	} else if (file_sha256(c, hex, &size) == 0) {
		sqlite3_bind_int64(st, 3, size);
		sqlite3_bind_text(st, 4, hex, -1, SQLITE_TRANSIENT);
	}
	if (c->link_type != NULL)
		sqlite3_bind_text(st, 5, c->link_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->packets);
	if (c->first_us != 0) {
		sqlite3_bind_double(st, 7, ts_sec(c->first_us));
		sqlite3_bind_double(st, 8, ts_sec(c->last_us));
	}
	sqlite3_bind_int(st, 9, c->damaged);
	db_run(s, ST_CAPTURE);
}

static void
utc_of(uint64_t us, char *buf, size_t len)
{
	time_t	  t = (time_t)(us / 1000000u);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
sqlite_add_interval(void *arg, const struct store_interval *iv)
{
	struct sqlite_store *s = arg;
	static const char    sql[] =
	    "INSERT INTO capture_stats (run_id, since,"
	    " until, total, packets, bytes, kernel_received, kernel_dropped,"
	    " if_dropped, gap_bytes, streams_evicted, detect_over_budget,"
	    " reserved_v4, store_errors, messages_lost)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	char	      since[32], until[32];

	if (s->db == NULL ||
	    sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		s->stats.errors++;
		return;
	}
	utc_of(iv->since_us, since, sizeof(since));
	utc_of(iv->until_us, until, sizeof(until));
	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_text(st, 2, since, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, until, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, iv->total);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)iv->packets);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)iv->bytes);
	if (iv->live) {
		sqlite3_bind_int64(st, 7, (sqlite3_int64)iv->kernel_received);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)iv->kernel_dropped);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)iv->if_dropped);
	}
	sqlite3_bind_int64(st, 10, (sqlite3_int64)iv->gap_bytes);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)iv->streams_evicted);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)iv->detect_over_budget);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)iv->reserved_v4);
	if (iv->live) {
		sqlite3_bind_int64(st, 14, (sqlite3_int64)iv->store_errors);
		sqlite3_bind_int64(st, 15, (sqlite3_int64)iv->messages_lost);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "capture_stats: %s",
		    sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
}

/* v_messages' outcome, written as the view has it */
#define OUTCOME_INDEX_SQL                                     \
	"CREATE INDEX IF NOT EXISTS messages_sort_outcome ON" \
	" messages(" QUERY_SQLITE_OUTCOME("") ");"

/*
 * The analyst's sorts by a column of messages or sessions (the web
 * view's, listings --sort) read its index from the first row they show:
 * a few milliseconds at a million messages, where reading every row and
 * sorting took 0.3-0.4 s.  Built when the writer closes the log, in one
 * pass over its rows, not kept up as each row is written: three of them
 * kept up row by row cost 4% of writing 200,000 notifications, these
 * twelve built at the close of a million take 5 s of a 309 s read (and
 * 200 MB of its 6.5 GB); the sessions' counts (sqlite_counts.c) have
 * three more, the messages' outcomes one.  A log being written sorts by
 * reading its rows until then; a log that has them keeps them up as it
 * grows (another read into it).  The time, size and duration sorts'
 * indexes are the schema's: their keys mostly grow, so they cost little
 * as rows come.
 */
static const char sort_indexes_sql[] = OUTCOME_INDEX_SQL
    "CREATE INDEX IF NOT EXISTS messages_sort_proto ON messages(proto);"
    "CREATE INDEX IF NOT EXISTS messages_sort_method ON messages(method);"
    "CREATE INDEX IF NOT EXISTS messages_sort_from ON messages(from_addr);"
    "CREATE INDEX IF NOT EXISTS messages_sort_to ON messages(to_addrs);"
    "CREATE INDEX IF NOT EXISTS messages_sort_subject ON messages(subject);"
    "CREATE INDEX IF NOT EXISTS messages_sort_attachments"
    " ON messages(attachments);"
    "CREATE INDEX IF NOT EXISTS messages_sort_complete ON messages(complete);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_proto ON sessions(proto);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_port ON sessions(server_port);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_user ON sessions(username);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_tls ON sessions(tls);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_end ON sessions(end_reason);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_commands"
    " ON sessions(n_commands);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_messages"
    " ON sessions(n_messages);"
    "CREATE INDEX IF NOT EXISTS sessions_sort_auths ON sessions(n_auths);";

/* Why a log has no sort indexes, and what that means, into err. */
static void
sort_indexes_missing(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen,
	    "the log's sort indexes were not built (%s):"
	    " its sorts by a column read every row",
	    why);
}

/* The sort indexes built on db, in one transaction: a kill or a full
 * disk leaves the log as it was, only without them (said, not an error
 * of the run: every row is there).  0, or -1 with err said. */
static int
sort_indexes_build(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;

	/* sorted in temporary files, not in memory: at a million messages
	 * the largest took 99 MB of memory to sort there, 38 MB this way
	 * (and 0.8 s, not 1.4) */
	if (sqlite3_exec(db, "PRAGMA temp_store=FILE; BEGIN IMMEDIATE", NULL,
		NULL, &msg) != SQLITE_OK) {
		/* another writer held the log past the busy wait */
		sort_indexes_missing(err, errlen,
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	if (sqlite3_exec(db, sort_indexes_sql, NULL, NULL, &msg) == SQLITE_OK &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	sort_indexes_missing(err, errlen, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Commits, records the run's end and closes.  Returns 0, or -1 when some
 * write failed along the way (store_last_error says which).
 */
static int
sqlite_close(void *arg, int status)
{
	struct sqlite_store *s = arg;
	int		     rc = -1;
	char		     err[512];

	if (s->db == NULL) /* a rotation that failed left no log */
		goto free;
	msgs_settle(s, 1);
	db_commit_last(s);
	run_finished(s->db, s->run_id, status);
	finalize_all(s);
	/* not after the disk failed: nothing more is written then */
	if (!s->is_spool && !s->disk_failed && !s->stats.storage_failed &&
	    sort_indexes_build(s->db, err, sizeof(err)) != 0)
		fprintf(stderr, "mailsift: %s\n", err);
	rc = db_close_file(s) == SQLITE_OK && s->stats.errors == 0 ? 0 : -1;
free:
	if (s->blob_fd >= 0)
		close(s->blob_fd);
	waiting_write(s); /* no log: freed only */
	free(s->texts);
	free(s->addrs);
	counts_free(s);
	msgs_free_all(s);
	lost_free(s);
	analysis_free(s->an);
	free(s->extract_dir);
	free(s->blob_dir);
	free(s->blob_base);
	free(s->ended);
	hosts_writer_free(s);
	stats_writer_free(s);
	findings_writer_free(s);
	free(s);
	return rc;
}

static const struct store_stats *
sqlite_stats(const void *arg)
{
	const struct sqlite_store *s = arg;
	return &s->stats;
}

static long
sqlite_run_id(const void *arg)
{
	const struct sqlite_store *s = arg;
	return (long)s->run_id;
}

static const char *
sqlite_last_error(const void *arg)
{
	const struct sqlite_store *s = arg;
	return s->error;
}

static int
sqlite_prepare(const struct store_opts *o, char *err, size_t errlen)
{
	sqlite3 *db;
	int	 fd;

	if (create_private(o->path, o->force, err, errlen) != 0 ||
	    (db = sqlite_log_open(o->path, 1, &fd, err, errlen)) == NULL)
		return -1;
	sqlite3_close(db);
	close(fd);
	return 0;
}

/* The sort indexes one writer builds as it closes the log, built on a
 * log no writer has open: after writers that ran together have all
 * ended (read --jobs, live --workers), or one live --rotate closed. */
static int
sqlite_finish(const struct store_opts *o, char *err, size_t errlen)
{
	sqlite3 *db;
	char	 why[512];
	int	 fd, rc;

	if ((db = sqlite_log_open(o->path, 0, &fd, why, sizeof(why))) == NULL) {
		sort_indexes_missing(err, errlen, why);
		return -1;
	}
	rc = sort_indexes_build(db, err, errlen);
	sqlite3_close(db);
	close(fd);
	return rc;
}

/* A log file: any name that is not a URI (scheme://...). */
static int
sqlite_takes(const char *where)
{
	const char *p = where;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return p == where || strncmp(p, "://", 3) != 0;
}

const struct store_backend store_backend_sqlite = {
	.name = "sqlite",
	.takes = sqlite_takes,
	.open = sqlite_open,
	.emit = db_emit,
	.set_capture_file = sqlite_set_capture_file,
	.add_capture = sqlite_add_capture,
	.add_interval = sqlite_add_interval,
	.rotate = sqlite_rotate,
	.rotate_ready = sqlite_rotate_ready,
	.library_init = sqlite_library_init,
	.flush = sqlite_flush,
	.settle = sqlite_settle,
	.take_ended = sqlite_take_ended,
	.take_over = sqlite_take_over,
	.finish = sqlite_finish,
	.stats = sqlite_stats,
	.run_id = sqlite_run_id,
	.last_error = sqlite_last_error,
	.close = sqlite_close,
	.prepare = sqlite_prepare,
	.query_open = sqlite_query_open,
};
