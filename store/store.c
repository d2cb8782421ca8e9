/* \summary: SQLite sink for dissector events */
/*
 * Rows are written with prepared statements inside transactions that are
 * committed every STORE_COMMIT_US of capture time (and at the end), in WAL
 * mode, so that a reader can query the log while mailsift runs and a crash
 * loses at most the last uncommitted seconds.
 *
 * Session ids are the run's flow ids plus the largest id already in the
 * log, so a log can be appended to by later runs and no map from flow to
 * row is needed.  Message bytes are never held: each piece is hashed and
 * written out as it arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bodynorm.h"
#include "hasher.h"
#include "safename.h"
#include "schema.h"
#include "store.h"
#include "util.h"

#define STORE_COMMIT_US	    2000000 /* capture time between commits */
#define STORE_COMMIT_EVENTS 200000  /* or this many events */
#define STORE_COMMIT_WALL_US 1000000 /* or this much wall time */
#define MSG_BUCKETS	    4096    /* open-message hash table */

enum stmt_id {
	ST_SESSION, ST_GREETING, ST_HELO, ST_SESSION_END, ST_EXTENSION,
	ST_COMMAND, ST_REPLY, ST_AUTH, ST_TX, ST_TX_IMPLICIT, ST_TX_REPLY,
	ST_RCPT, ST_DELIVERY, ST_MSG, ST_MSG_META, ST_MSG_END, ST_ITEM, ST_DELETION,
	ST_MAILBOX, ST_RESPONSE, ST_USER, ST_STATE, ST_SELECTED,
	ST_CLIENT_ID, ST_SERVER_ID, ST_COMPRESSION, ST_HEADER, ST_DATE_UTC,
	ST_DKIM, ST_AUTH_RESULTS, ST_PART, ST_PART_END, ST_PART_COUNT,
	ST_TEXT, ST_ANOMALY, ST_SESSION_GAP, ST_CAPTURE, ST_BEGIN, ST_COMMIT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SESSION] = "INSERT INTO sessions (id, run_id, proto, capture_file,"
	    " client_ip, client_port, server_ip, server_port, start_ts, tls,"
	    " midstream, first_frame, first_offset)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_GREETING] = "UPDATE sessions SET banner_code=?, banner=?,"
	    " banner_frame=? WHERE id=?",
	[ST_HELO] = "UPDATE sessions SET helo=? WHERE id=?",
	[ST_SESSION_END] = "UPDATE sessions SET end_ts=?, end_reason=?, tls=?,"
	    " bytes_c2s=?, bytes_s2c=?, tls_bytes_c2s=?, tls_bytes_s2c=?,"
	    " last_frame=?, last_offset=?, last_capture_file=? WHERE id=?",
	[ST_EXTENSION] = "INSERT INTO extensions VALUES (?,?,?)",
	[ST_COMMAND] = "INSERT OR REPLACE INTO commands (session_id, seq, ts,"
	    " verb, args, tag, frame, offset) VALUES (?,?,?,?,?,?,?,?)",
	[ST_REPLY] = "UPDATE commands SET reply_code=?, reply_status=?,"
	    " reply_text=?, reply_ts=?, reply_frame=?, reply_offset=?"
	    " WHERE session_id=? AND seq=?",
	[ST_AUTH] = "INSERT INTO auth (session_id, seq, ts, mechanism,"
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
	[ST_MSG] = "INSERT OR REPLACE INTO messages (session_id, tx, seq,"
	    " proto, method, direction, begin_ts, assembled) VALUES (?1,?2,?3,"
	    " (SELECT proto FROM sessions WHERE id=?1),?4,?5,?6,?7)",
	[ST_MSG_META] = "UPDATE messages SET mailbox=coalesce(?1,mailbox),"
	    " flags=coalesce(?2,flags), section=coalesce(?3,section),"
	    " msgno=coalesce(?4,msgno), uid=coalesce(?5,uid),"
	    " partial=max(partial,?6), body_sha256=CASE WHEN ?6 THEN NULL"
	    " ELSE body_sha256 END WHERE session_id=?7 AND tx=?8",
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
	[ST_DATE_UTC] = "UPDATE messages SET date_utc=coalesce(date_utc, ?)"
	    " WHERE id=?",
	[ST_DKIM] = "UPDATE messages SET dkim=1 WHERE id=?",
	[ST_AUTH_RESULTS] = "UPDATE messages SET auth_results=1 WHERE id=?",
	[ST_PART] = "INSERT OR REPLACE INTO parts (message_id, part, path,"
	    " content_type, charset, encoding, disposition, filename)"
	    " VALUES (?,?,?,?,?,?,?,?)",
	[ST_PART_END] = "UPDATE parts SET encoded_size=?, size=?, md5=?,"
	    " sha256=?, complete=?, extract_path=? WHERE message_id=? AND"
	    " part=?",
	[ST_PART_COUNT] = "UPDATE messages SET parts=parts+1,"
	    " attachments=attachments+? WHERE id=?",
	[ST_TEXT] = "INSERT OR REPLACE INTO message_text (rowid, subject, body)"
	    " VALUES (?,?,?)",
	[ST_MSG_END] = "UPDATE messages SET end_ts=?, size=?, sha256=?,"
	    " complete=?, extract_path=?, kept=?, last_frame=?, last_offset=?,"
	    " gap_bytes=?, body_sha256=?, capture_file=?, first_frame=?,"
	    " first_offset=? WHERE id=?",
	[ST_ANOMALY] = "INSERT INTO anomalies (session_id, ts, direction,"
	    " name, detail, frame) VALUES (?,?,?,?,?,?)",
	[ST_SESSION_GAP] = "UPDATE sessions SET gap_bytes=gap_bytes+? WHERE"
	    " id=?",
	[ST_CAPTURE] = "INSERT INTO captures (run_id, path, size, sha256,"
	    " link_type, packets, first_ts, last_ts, damaged)"
	    " VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
};

/* The MIME part of a message whose decoded bytes are arriving. */
struct open_part {
	uint32_t	no;
	struct hstream *hash; /* SHA-256 and MD5 */
	FILE	       *out;
	char	       *path;
};

/* A message whose bytes are still arriving. */
struct open_msg {
	struct open_msg *next;
	uint64_t	 flow_id;
	uint32_t	 tx;
	int64_t		 row;
	int64_t		 sid;
	struct hstream	*sha;
	FILE		*out;
	char		*path;
	FILE		*blob; /* the bytes, kept until their hash names them */
	char		*blob_tmp;
	uint64_t	 size;
	enum md_dir	 dir;
	uint64_t	 first_frame; /* the packet of its first bytes */
	int64_t		 first_offset;
	const char	*capture_file;
	uint64_t	 gap;	  /* bytes the capture lost inside it */
	int		 partial; /* a part, TOP: no body identity */
	struct body_norm body;	  /* the body's transport-proof form */
	struct hstream	*body_sha;
	/* one open of each kind (md_part_kind): a forwarded message stays
	 * open around its parts, a part around the files inside it */
	struct open_part part[MD_PART_KINDS];
	char		*parts_dir; /* --extract: where its attachments go */
	char		*text;	    /* for the full-text index */
	size_t		 tlen, tcap;
	char		*subject;
};

/* Header fields kept in messages columns: the first of each name. */
static const struct {
	const char *field, *column;
} msg_fields[] = {
	{ "Subject", "subject" },	  { "From", "from_addr" },
	{ "To", "to_addrs" },		  { "Cc", "cc_addrs" },
	{ "Bcc", "bcc_addrs" },		  { "Reply-To", "reply_to" },
	{ "Date", "date_raw" },		  { "Message-ID", "msg_id" },
	{ "In-Reply-To", "in_reply_to" }, { "References", "refs" },
	{ "X-Mailer", "mailer" },	  { "User-Agent", "mailer" },
	{ "Return-Path", "return_path" },
};

#define NFIELDS (sizeof(msg_fields) / sizeof(msg_fields[0]))

struct store {
	sqlite3		   *db;
	sqlite3_stmt	   *st[ST_COUNT];
	int64_t		    run_id;
	int64_t		    id_base;
	const char	   *capture_file;
	int		    redact;
	const char	   *command;
	char		    path[4096];
	char		   *extract_dir;
	char		   *blob_dir; /* LOG.blobs: message bytes by SHA-256 */
	uint64_t	    last_commit_ts;
	uint64_t	    last_commit_wall; /* wall_now_us() at the last commit */
	uint64_t	    events_since_commit;
	struct open_msg	   *msgs[MSG_BUCKETS];
	struct hasher	   *hasher;
	sqlite3_stmt	   *field_st[NFIELDS];
	struct store_stats  stats;
	char		    error[4400];
};

/* ------------------------------------------------------------- helpers */

static void
store_fail(struct store *s, const char *what)
{
	s->stats.errors++;
	snprintf(s->error, sizeof(s->error), "%s: %s", what,
	    sqlite3_errmsg(s->db));
}

static double
ts_sec(uint64_t us)
{
	return (double)us / 1e6;
}

static int64_t
session_id(const struct store *s, const struct md_event *ev)
{
	return s->id_base + (int64_t)ev->flow->id;
}

static void
bind_bytes(sqlite3_stmt *st, int i, struct md_bytes b)
{
	if (b.p == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, (const char *)b.p, (int)b.len,
		    SQLITE_TRANSIENT);
}

static void
bind_text_or_null(sqlite3_stmt *st, int i, struct md_bytes b)
{
	if (b.len == 0)
		sqlite3_bind_null(st, i);
	else
		bind_bytes(st, i, b);
}

/* Provenance: NULL when the bytes came from no capture file. */
static void
bind_frame(sqlite3_stmt *st, int i, uint64_t frame)
{
	if (frame != 0)
		sqlite3_bind_int64(st, i, (sqlite3_int64)frame);
}

static void
bind_offset(sqlite3_stmt *st, int i, uint64_t frame, int64_t offset)
{
	if (frame != 0 && offset >= 0)
		sqlite3_bind_int64(st, i, offset);
}

/* Runs a bound statement once and resets it. */
static void
run(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	if (sqlite3_step(st) != SQLITE_DONE)
		store_fail(s, stmt_sql[id]);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void
addr_str(const struct md_flow *f, const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(f->family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* --------------------------------------------------------- transactions */

/* Monotonic wall time in microseconds; the coarse clock costs a few ns. */
static uint64_t
wall_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void
store_commit(struct store *s, uint64_t ts)
{
	run(s, ST_COMMIT);
	run(s, ST_BEGIN);
	s->last_commit_ts = ts;
	s->last_commit_wall = wall_now_us();
	s->events_since_commit = 0;
}

/*
 * Commits every STORE_COMMIT_US of capture time and every
 * STORE_COMMIT_WALL_US of wall time: a capture of a few seconds can take
 * minutes to read, and what was read before a crash or a kill must stay.
 */
static void
maybe_commit(struct store *s, uint64_t ts)
{
	if (++s->events_since_commit >= STORE_COMMIT_EVENTS ||
	    (ts > s->last_commit_ts + STORE_COMMIT_US) ||
	    ts + STORE_COMMIT_US < s->last_commit_ts ||
	    wall_now_us() - s->last_commit_wall >= STORE_COMMIT_WALL_US)
		store_commit(s, ts);
}

/* ------------------------------------------------------- open messages */

static struct open_msg **
msg_slot(struct store *s, uint64_t flow_id, uint32_t tx)
{
	struct open_msg **pp;

	pp = &s->msgs[(flow_id * 31 + tx) % MSG_BUCKETS];
	while (*pp != NULL && ((*pp)->flow_id != flow_id || (*pp)->tx != tx))
		pp = &(*pp)->next;
	return pp;
}

/* Creates DIR/<session>-<tx>.eml, never overwriting a file. */
static FILE *
extract_open(struct store *s, int64_t sid, uint32_t tx, char **pathp)
{
	char path[4096];
	int fd = -1;
	FILE *f;

	for (int n = 1; n < 100 && fd < 0; n++) {
		if (n == 1)
			snprintf(path, sizeof(path), "%s/%lld-%u.eml",
			    s->extract_dir, (long long)sid, tx);
		else
			snprintf(path, sizeof(path), "%s/%lld-%u.%d.eml",
			    s->extract_dir, (long long)sid, tx, n);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((*pathp = strdup(path)) == NULL || (f = fdopen(fd, "wb")) == NULL) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: %s", path,
		    strerror(errno));
		free(*pathp);
		*pathp = NULL;
		close(fd);
		unlink(path);
		return NULL;
	}
	return f;
}

/*
 * Message bytes are kept beside the log, content-addressed: LOG.blobs/
 * AB/ABCD... by SHA-256, so a message seen many times is stored once and
 * mailsift extract can write it (and its attachments) later.  The bytes go
 * to a temporary file until their hash is known.
 */
static void
blob_open(struct store *s, struct open_msg *m)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/tmp-%d-%lld", s->blob_dir,
	    (int)getpid(), (long long)m->row);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || (m->blob = fdopen(fd, "wb")) == NULL) {
		if (fd >= 0)
			close(fd);
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: %s", path,
		    strerror(errno));
		return;
	}
	/* a larger buffer: fewer writes for bodies that come in segments */
	setvbuf(m->blob, NULL, _IOFBF, 64 * 1024);
	if ((m->blob_tmp = strdup(path)) == NULL) { /* blob_keep needs it */
		fclose(m->blob);
		m->blob = NULL;
		unlink(path);
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "out of memory");
	}
}

/* Names the kept bytes by their hash; returns 1 when they are kept. */
static int
blob_keep(struct store *s, struct open_msg *m, const char *sha)
{
	char dir[4096], path[4200];
	struct stat sb;
	int ok;

	if (m->blob == NULL)
		return 0;
	ok = fclose(m->blob) == 0;
	m->blob = NULL;
	snprintf(dir, sizeof(dir), "%s/%.2s", s->blob_dir, sha);
	snprintf(path, sizeof(path), "%s/%s", dir, sha);
	if (ok && (mkdir(dir, 0700) == 0 || errno == EEXIST)) {
		if (stat(path, &sb) == 0) /* seen before: one copy is enough */
			unlink(m->blob_tmp);
		else
			ok = rename(m->blob_tmp, path) == 0;
	} else
		ok = 0;
	if (!ok) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: %s", path,
		    strerror(errno));
		unlink(m->blob_tmp);
	}
	return ok;
}

static void open_msg_free(struct open_msg *);

/* Where a message's first bytes came from (its begin, until they do). */
static void
msg_provenance(const struct store *s, struct open_msg *m,
    const struct md_flow *f)
{
	m->first_frame = f->frame;
	m->first_offset = f->offset;
	m->capture_file = s->capture_file;
}

static void
body_hash_update(void *arg, const uint8_t *p, size_t n)
{
	hstream_update(arg, p, n);
}

static void
msg_begin(struct store *s, const struct md_event *ev)
{
	int64_t sid = session_id(s, ev);
	sqlite3_stmt *st;
	struct open_msg *m, **pp;

	if (ev->num[0]) {
		/* SMTP: a body whose MAIL was not captured still has a
		 * transaction to belong to. */
		st = s->st[ST_TX_IMPLICIT];
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, ev->tx);
		sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
		run(s, ST_TX_IMPLICIT);
	}
	st = s->st[ST_MSG];
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, ev->tx);
	if (ev->seq)
		sqlite3_bind_int64(st, 3, ev->seq);
	bind_bytes(st, 4, ev->name);
	sqlite3_bind_text(st, 5, ev->dir == MD_C2S ? "c2s" : "s2c", -1,
	    SQLITE_STATIC);
	sqlite3_bind_double(st, 6, ts_sec(ev->ts_us));
	bind_text_or_null(st, 7, ev->extra);
	run(s, ST_MSG);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->flow_id = ev->flow->id;
	m->tx = ev->tx;
	m->sid = sid;
	m->dir = ev->dir;
	msg_provenance(s, m, ev->flow);
	m->row = sqlite3_last_insert_rowid(s->db);
	if ((m->sha = hstream_new(s->hasher, 0)) == NULL ||
	    (m->body_sha = hstream_new(s->hasher, 0)) == NULL) {
		open_msg_free(m);
		return;
	}
	body_norm_init(&m->body, body_hash_update, m->body_sha);
	if (s->extract_dir != NULL)
		m->out = extract_open(s, sid, ev->tx, &m->path);
	if (s->blob_dir != NULL)
		blob_open(s, m);
	pp = msg_slot(s, m->flow_id, m->tx);
	if (*pp != NULL) /* a dissector bug; keep the newer one */
		m->next = (*pp)->next;
	*pp = m;
	s->stats.messages++;
}

static void
msg_data(struct store *s, const struct md_event *ev)
{
	struct open_msg *m = *msg_slot(s, ev->flow->id, ev->tx);

	if (m == NULL)
		return;
	if (m->size == 0)
		msg_provenance(s, m, ev->flow);
	hstream_update(m->sha, ev->arg.p, ev->arg.len);
	body_norm_feed(&m->body, ev->arg.p, ev->arg.len);
	m->size += ev->arg.len;
	if (m->out != NULL && fwrite(ev->arg.p, 1, ev->arg.len, m->out) !=
	    ev->arg.len) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: write failed",
		    m->path);
		fclose(m->out);
		m->out = NULL;
	}
	if (m->blob != NULL && fwrite(ev->arg.p, 1, ev->arg.len, m->blob) !=
	    ev->arg.len) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: write failed",
		    m->blob_tmp);
		fclose(m->blob);
		m->blob = NULL;
		unlink(m->blob_tmp);
	}
}

static void part_close(struct store *, struct open_msg *, struct open_part *,
    int complete, uint64_t enc, uint64_t dec);
static void text_index(struct store *, struct open_msg *);

static void
part_free(struct open_part *pt)
{
	if (pt->hash != NULL)
		hstream_finish(pt->hash, NULL, NULL);
	if (pt->out != NULL)
		fclose(pt->out);
	free(pt->path);
	memset(pt, 0, sizeof(*pt));
}

static void
open_msg_free(struct open_msg *m)
{
	if (m->sha != NULL)
		hstream_finish(m->sha, NULL, NULL);
	if (m->body_sha != NULL)
		hstream_finish(m->body_sha, NULL, NULL);
	for (int k = 0; k < MD_PART_KINDS; k++)
		part_free(&m->part[k]);
	if (m->out != NULL)
		fclose(m->out);
	if (m->blob != NULL) {
		fclose(m->blob);
		unlink(m->blob_tmp);
	}
	free(m->blob_tmp);
	free(m->parts_dir);
	free(m->text);
	free(m->subject);
	free(m->path);
	free(m);
}

static void
msg_end(struct store *s, const struct md_event *ev)
{
	struct open_msg **pp = msg_slot(s, ev->flow->id, ev->tx), *m = *pp;
	char hex[HASH_HEX_MAX] = "", body[HASH_HEX_MAX] = "";
	sqlite3_stmt *st = s->st[ST_MSG_END];
	int complete;

	if (m == NULL)
		return;
	m->gap += ev->num[1]; /* missing, though the capture lost nothing */
	complete = ev->code != 0 && m->gap == 0;
	*pp = m->next;
	for (int k = MD_PART_KINDS - 1; k >= 0; k--) /* left open by the tap */
		if (m->part[k].no != 0)
			part_close(s, m, &m->part[k], 0, 0, 0);
	text_index(s, m);
	hstream_finish(m->sha, hex, NULL);
	m->sha = NULL;
	/* Only a whole message has an identity to link hops by. */
	if (body_norm_finish(&m->body) && complete && !m->partial)
		hstream_finish(m->body_sha, body, NULL);
	else
		hstream_finish(m->body_sha, NULL, NULL);
	m->body_sha = NULL;
	if (m->out != NULL && fclose(m->out) != 0)
		s->stats.errors++;
	m->out = NULL;
	sqlite3_bind_int(st, 6, blob_keep(s, m, hex));
	sqlite3_bind_double(st, 1, ts_sec(ev->ts_us));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)m->size);
	sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, complete);
	if (m->path != NULL)
		sqlite3_bind_text(st, 5, m->path, -1, SQLITE_TRANSIENT);
	bind_frame(st, 7, ev->flow->frame);
	bind_offset(st, 8, ev->flow->frame, ev->flow->offset);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)m->gap);
	if (body[0] != '\0')
		sqlite3_bind_text(st, 10, body, -1, SQLITE_TRANSIENT);
	if (m->capture_file != NULL && m->first_frame != 0)
		sqlite3_bind_text(st, 11, m->capture_file, -1, SQLITE_STATIC);
	bind_frame(st, 12, m->first_frame);
	bind_offset(st, 13, m->first_frame, m->first_offset);
	sqlite3_bind_int64(st, 14, m->row);
	run(s, ST_MSG_END);
	s->stats.message_bytes += m->size;
	if (complete)
		s->stats.messages_complete++;
	open_msg_free(m);
}

/* ------------------------------------------------------------ MIME */

static struct open_msg *
msg_of(struct store *s, const struct md_event *ev)
{
	return *msg_slot(s, ev->flow->id, ev->tx);
}

/* A top-level header field: its row, and the messages column it fills. */
static void
on_header(struct store *s, const struct md_event *ev)
{
	struct open_msg *m = msg_of(s, ev);
	sqlite3_stmt *st = s->st[ST_HEADER];

	if (m == NULL)
		return;
	sqlite3_bind_int64(st, 1, m->row);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ev->num[0]);
	bind_bytes(st, 3, ev->name);
	bind_bytes(st, 4, ev->arg);
	bind_bytes(st, 5, ev->extra);
	run(s, ST_HEADER);
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!md_ci_equal(ev->name.p, ev->name.len, msg_fields[i].field))
			continue;
		st = s->field_st[i];
		bind_bytes(st, 1, ev->extra);
		sqlite3_bind_int64(st, 2, m->row);
		if (sqlite3_step(st) != SQLITE_DONE)
			store_fail(s, "header column");
		sqlite3_reset(st);
		if (i == 0 && m->subject == NULL)
			m->subject = strndup((const char *)ev->extra.p,
			    ev->extra.len);
	}
	if (ev->aux.len > 0) { /* Date in UTC */
		st = s->st[ST_DATE_UTC];
		bind_bytes(st, 1, ev->aux);
		sqlite3_bind_int64(st, 2, m->row);
		run(s, ST_DATE_UTC);
	}
	if (md_ci_equal(ev->name.p, ev->name.len, "DKIM-Signature") ||
	    md_ci_equal(ev->name.p, ev->name.len, "Authentication-Results")) {
		enum stmt_id id = ev->name.p[0] == 'D' || ev->name.p[0] == 'd' ?
		    ST_DKIM : ST_AUTH_RESULTS;
		sqlite3_bind_int64(s->st[id], 1, m->row);
		run(s, id);
	}
}

/* DIR/S-T.parts/NAME for an attachment, never overwriting, never outside. */
static FILE *
attachment_open(struct store *s, struct open_msg *m, const char *filename,
    const char *path, char **pathp)
{
	char dir[4096], fb[160];
	FILE *f;

	if (m->parts_dir == NULL) {
		snprintf(dir, sizeof(dir), "%s/%lld-%u.parts", s->extract_dir,
		    (long long)m->sid, m->tx);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return NULL;
		if ((m->parts_dir = strdup(dir)) == NULL)
			return NULL;
	}
	snprintf(fb, sizeof(fb), "part-%s", path);
	if ((f = safe_create(m->parts_dir, filename, fb, pathp)) == NULL) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s/%s: %s", m->parts_dir,
		    filename, strerror(errno));
	}
	return f;
}

static void
on_part_begin(struct store *s, const struct md_event *ev)
{
	struct open_msg *m = msg_of(s, ev);
	sqlite3_stmt *st = s->st[ST_PART];
	const char *disp = md_disposition_str((enum md_disposition)ev->code);
	int attachment = ev->extra.len > 0;
	struct open_part *pt;

	if (m == NULL)
		return;
	pt = &m->part[ev->num[1] < MD_PART_KINDS ? ev->num[1] : MD_PART_LEAF];
	if (pt->no != 0)
		part_close(s, m, pt, 0, 0, 0);
	sqlite3_bind_int64(st, 1, m->row);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ev->num[0]);
	bind_bytes(st, 3, ev->name);
	bind_bytes(st, 4, ev->arg);
	bind_text_or_null(st, 5, ev->aux);
	bind_text_or_null(st, 6, ev->proof);
	if (disp != NULL)
		sqlite3_bind_text(st, 7, disp, -1, SQLITE_STATIC);
	bind_text_or_null(st, 8, ev->extra);
	run(s, ST_PART);
	st = s->st[ST_PART_COUNT];
	sqlite3_bind_int(st, 1, attachment);
	sqlite3_bind_int64(st, 2, m->row);
	run(s, ST_PART_COUNT);
	pt->no = (uint32_t)ev->num[0];
	if ((pt->hash = hstream_new(s->hasher, 1)) == NULL)
		s->stats.errors++;
	if (s->extract_dir != NULL && (attachment ||
	    ev->code == MD_DISP_ATTACHMENT)) {
		char fn[1024], pth[128];

		snprintf(fn, sizeof(fn), "%.*s", (int)ev->extra.len,
		    (const char *)ev->extra.p);
		snprintf(pth, sizeof(pth), "%.*s", (int)ev->name.len,
		    (const char *)ev->name.p);
		pt->out = attachment_open(s, m, fn, pth, &pt->path);
	}
}

/* The open part an event names: the current one, or the forwarded
 * message around it. */
static struct open_part *
part_of(struct open_msg *m, uint64_t no)
{
	if (m == NULL || no == 0)
		return NULL;
	for (int k = 0; k < MD_PART_KINDS; k++)
		if (m->part[k].no == no)
			return &m->part[k];
	return NULL;
}

static void
on_part_data(struct store *s, const struct md_event *ev)
{
	struct open_part *pt = part_of(msg_of(s, ev), ev->num[0]);

	if (pt == NULL || pt->hash == NULL)
		return;
	hstream_update(pt->hash, ev->arg.p, ev->arg.len);
	if (pt->out != NULL && fwrite(ev->arg.p, 1, ev->arg.len, pt->out) !=
	    ev->arg.len) {
		s->stats.errors++;
		fclose(pt->out);
		pt->out = NULL;
	}
}

static void
part_close(struct store *s, struct open_msg *m, struct open_part *pt,
    int complete, uint64_t enc, uint64_t dec)
{
	sqlite3_stmt *st = s->st[ST_PART_END];
	char sha[HASH_HEX_MAX] = "", md5[HASH_HEX_MAX] = "";

	if (pt->hash != NULL)
		hstream_finish(pt->hash, sha, md5);
	if (pt->out != NULL && fclose(pt->out) != 0)
		s->stats.errors++;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)enc);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)dec);
	if (md5[0] != '\0')
		sqlite3_bind_text(st, 3, md5, -1, SQLITE_TRANSIENT);
	if (sha[0] != '\0')
		sqlite3_bind_text(st, 4, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, complete);
	if (pt->path != NULL)
		sqlite3_bind_text(st, 6, pt->path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, m->row);
	sqlite3_bind_int64(st, 8, pt->no);
	run(s, ST_PART_END);
	free(pt->path);
	memset(pt, 0, sizeof(*pt));
}

static void
on_part_end(struct store *s, const struct md_event *ev)
{
	struct open_msg *m = msg_of(s, ev);
	struct open_part *pt = part_of(m, ev->num[0]);

	if (pt != NULL)
		part_close(s, m, pt, ev->code != 0, ev->num[1], ev->num[2]);
}

/* Readable text is gathered (the tap caps it) and indexed at the end. */
static void
on_text(struct store *s, const struct md_event *ev)
{
	struct open_msg *m = msg_of(s, ev);
	char *nt;

	if (m == NULL || m->tlen + ev->arg.len > MD_MIME_TEXT_MAX)
		return;
	if (m->tlen + ev->arg.len > m->tcap) {
		/* grown by a quarter, not doubled: thousands of messages can
		 * be open, each holding its text (the tap bounds the sum) */
		size_t cap = m->tcap ? m->tcap + m->tcap / 4 : 4096;
		while (cap < m->tlen + ev->arg.len)
			cap += cap / 4;
		if ((nt = realloc(m->text, cap)) == NULL)
			return;
		m->text = nt;
		m->tcap = cap;
	}
	memcpy(m->text + m->tlen, ev->arg.p, ev->arg.len);
	m->tlen += ev->arg.len;
	(void)s;
}

static void
text_index(struct store *s, struct open_msg *m)
{
	sqlite3_stmt *st = s->st[ST_TEXT];

	if (m->tlen == 0 && m->subject == NULL)
		return;
	sqlite3_bind_int64(st, 1, m->row);
	if (m->subject != NULL)
		sqlite3_bind_text(st, 2, m->subject, -1, SQLITE_STATIC);
	if (m->tlen > 0)
		sqlite3_bind_text(st, 3, m->text, (int)m->tlen, SQLITE_STATIC);
	run(s, ST_TEXT);
}

/* -------------------------------------------------------------- events */

static void
on_session_begin(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_SESSION];
	char cli[INET6_ADDRSTRLEN], srv[INET6_ADDRSTRLEN];

	addr_str(ev->flow, ev->flow->cli_addr, cli, sizeof(cli));
	addr_str(ev->flow, ev->flow->srv_addr, srv, sizeof(srv));
	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, s->run_id);
	bind_bytes(st, 3, ev->name);
	if (s->capture_file != NULL)
		sqlite3_bind_text(st, 4, s->capture_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, cli, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, ev->flow->cli_port);
	sqlite3_bind_text(st, 7, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, ev->flow->srv_port);
	/* the connection's first packet (the SYN), not the first bytes */
	sqlite3_bind_double(st, 9, ts_sec(ev->flow->first_ts != 0 &&
	    ev->flow->first_ts < ev->ts_us ? ev->flow->first_ts : ev->ts_us));
	sqlite3_bind_text(st, 10, md_tls_str(ev->tls), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, ev->num[0] != 0);
	bind_frame(st, 12, ev->flow->first_frame);
	bind_offset(st, 13, ev->flow->first_frame, ev->flow->first_offset);
	run(s, ST_SESSION);
	s->stats.sessions++;
	s->stats.by_proto[ev->flow->proto]++;
}

static void
on_session_end(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_SESSION_END];

	sqlite3_bind_double(st, 1, ts_sec(ev->ts_us));
	sqlite3_bind_text(st, 2, md_end_str((enum md_end)ev->code), -1,
	    SQLITE_STATIC);
	bind_bytes(st, 3, ev->name);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_int64(st, 4 + i, (sqlite3_int64)ev->num[i]);
	bind_frame(st, 8, ev->flow->frame);
	bind_offset(st, 9, ev->flow->frame, ev->flow->offset);
	if (s->capture_file != NULL && ev->flow->frame != 0)
		sqlite3_bind_text(st, 10, s->capture_file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, session_id(s, ev));
	run(s, ST_SESSION_END);
	if (ev->tls != MD_TLS_NONE)
		s->stats.tls_sessions++;
}

static void
on_command(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_COMMAND];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	bind_bytes(st, 4, ev->name);
	bind_text_or_null(st, 5, ev->arg);
	bind_text_or_null(st, 6, ev->extra);
	bind_frame(st, 7, ev->flow->frame);
	bind_offset(st, 8, ev->flow->frame, ev->flow->offset);
	run(s, ST_COMMAND);
	s->stats.commands++;
}

static void
on_reply(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_REPLY];

	if (ev->seq == 0) /* unsolicited: the anomaly row tells */
		return;
	if (ev->flow->proto == MD_PROTO_SMTP) /* its number says more */
		sqlite3_bind_int(st, 1, ev->code);
	else
		sqlite3_bind_text(st, 2, md_status_str(ev->status), -1,
		    SQLITE_STATIC);
	bind_bytes(st, 3, ev->arg);
	sqlite3_bind_double(st, 4, ts_sec(ev->ts_us));
	bind_frame(st, 5, ev->flow->frame);
	bind_offset(st, 6, ev->flow->frame, ev->flow->offset);
	sqlite3_bind_int64(st, 7, session_id(s, ev));
	sqlite3_bind_int64(st, 8, ev->seq);
	run(s, ST_REPLY);
}

/* One sessions column set from an event. */
static void
on_session_text(struct store *s, enum stmt_id id, const struct md_event *ev,
    struct md_bytes value)
{
	sqlite3_stmt *st = s->st[id];

	bind_text_or_null(st, 1, value);
	sqlite3_bind_int64(st, 2, session_id(s, ev));
	run(s, id);
}

static void
bind_u64_or_null(sqlite3_stmt *st, int i, uint64_t v, uint64_t none)
{
	if (v != none)
		sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static void
on_msg_meta(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_MSG_META];
	struct open_msg *m;

	bind_text_or_null(st, 1, ev->arg);
	bind_text_or_null(st, 2, ev->extra);
	bind_text_or_null(st, 3, ev->aux);
	bind_u64_or_null(st, 4, ev->num[0], 0);
	bind_u64_or_null(st, 5, ev->num[1], 0);
	sqlite3_bind_int(st, 6, ev->code != 0);
	sqlite3_bind_int64(st, 7, session_id(s, ev));
	sqlite3_bind_int64(st, 8, ev->tx);
	run(s, ST_MSG_META);
	if (ev->code != 0 && (m = msg_of(s, ev)) != NULL)
		m->partial = 1;
}

/*
 * Bytes the capture lost: counted against the session and against the
 * message that was crossing in that direction, which is then incomplete.
 */
static void
on_gap(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_SESSION_GAP];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)ev->num[0]);
	sqlite3_bind_int64(st, 2, session_id(s, ev));
	run(s, ST_SESSION_GAP);
	for (size_t b = 0; b < MSG_BUCKETS; b++)
		for (struct open_msg *m = s->msgs[b]; m != NULL; m = m->next)
			if (m->flow_id == ev->flow->id && m->dir == ev->dir)
				m->gap += ev->num[0];
}

/*
 * A maildrop fact.  POP3 RSET and QUIT do not name messages: they settle
 * every deletion still marked in the session (RFC 1939 6 and 8).
 */
static void
on_item(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_ITEM];
	int64_t sid = session_id(s, ev);
	int is_dele = md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_DELE);

	if (md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_RESET) ||
	    md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_COMMIT)) {
		st = s->st[ST_DELETION];
		sqlite3_bind_text(st, 1, md_ci_equal(ev->name.p, ev->name.len,
		    MD_ITEM_COMMIT) ? "committed" : "reset", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, sid);
		run(s, ST_DELETION);
		return;
	}
	sqlite3_bind_int64(st, 1, sid);
	if (ev->seq)
		sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	bind_bytes(st, 4, ev->name);
	bind_u64_or_null(st, 5, ev->num[0], 0);
	if (md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_LIST))
		sqlite3_bind_int64(st, 6, (sqlite3_int64)ev->num[1]);
	bind_text_or_null(st, 7, ev->arg);
	bind_text_or_null(st, 8, ev->extra);
	if (is_dele)
		sqlite3_bind_text(st, 9, "marked", -1, SQLITE_STATIC);
	run(s, ST_ITEM);
}

static void
on_mailbox(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_MAILBOX];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	bind_bytes(st, 4, ev->name);
	bind_bytes(st, 5, ev->arg);
	sqlite3_bind_text(st, 6, md_status_str(ev->status), -1, SQLITE_STATIC);
	for (int i = 0; i < 4; i++)
		bind_u64_or_null(st, 7 + i, ev->num[i], UINT64_MAX);
	run(s, ST_MAILBOX);
	if (ev->status == MD_ST_OK)
		on_session_text(s, ST_SELECTED, ev, ev->arg);
}

static void
on_response(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_RESPONSE];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	if (ev->seq)
		sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	bind_bytes(st, 4, ev->name);
	if (ev->code)
		sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->num[0]);
	bind_text_or_null(st, 6, ev->arg);
	run(s, ST_RESPONSE);
}

/* SASL mechanisms whose proof is a token that logs in as is. */
static int
is_bearer(struct md_bytes mech)
{
	return md_ci_equal(mech.p, mech.len, "XOAUTH2") ||
	    md_ci_equal(mech.p, mech.len, "OAUTHBEARER");
}

static void
on_auth(struct store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_AUTH];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	bind_bytes(st, 4, ev->name);
	bind_text_or_null(st, 5, ev->arg);
	bind_text_or_null(st, 7, ev->aux);
	if (ev->code != 0) /* SMTP's number; POP3/IMAP say the outcome */
		sqlite3_bind_int(st, 9, ev->code);
	sqlite3_bind_text(st, 10,
	    md_auth_outcome_str((enum md_auth_outcome)ev->num[0]), -1,
	    SQLITE_STATIC);
	/* --redact keeps nothing that logs in as is: passwords and bearer
	 * tokens.  Challenge-response digests stay (useless to replay). */
	if (s->redact && (ev->extra.len > 0 || is_bearer(ev->name))) {
		sqlite3_bind_int(st, 11, 1);
		if (!is_bearer(ev->name))
			bind_text_or_null(st, 8, ev->proof);
	} else {
		bind_text_or_null(st, 6, ev->extra);
		bind_text_or_null(st, 8, ev->proof);
		sqlite3_bind_int(st, 11, 0);
	}
	bind_frame(st, 12, ev->flow->frame);
	bind_offset(st, 13, ev->flow->frame, ev->flow->offset);
	run(s, ST_AUTH);
	if (ev->num[0] == MD_AUTH_OK && ev->arg.len > 0)
		on_session_text(s, ST_USER, ev, ev->arg);
	s->stats.auth++;
	if (ev->extra.len > 0)
		s->stats.auth_clear++;
}

static void
on_simple(struct store *s, enum stmt_id id, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[id];
	int64_t sid = session_id(s, ev);

	switch (id) {
	case ST_GREETING:
		if (ev->flow->proto == MD_PROTO_SMTP)
			sqlite3_bind_int(st, 1, ev->code);
		bind_bytes(st, 2, ev->arg);
		bind_frame(st, 3, ev->flow->frame);
		sqlite3_bind_int64(st, 4, sid);
		break;
	case ST_HELO:
		bind_bytes(st, 1, ev->arg);
		sqlite3_bind_int64(st, 2, sid);
		break;
	case ST_EXTENSION:
		sqlite3_bind_int64(st, 1, sid);
		bind_bytes(st, 2, ev->name);
		bind_text_or_null(st, 3, ev->arg);
		break;
	case ST_TX:
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, ev->tx);
		sqlite3_bind_int64(st, 3, ev->seq);
		sqlite3_bind_double(st, 4, ts_sec(ev->ts_us));
		bind_bytes(st, 5, ev->arg);
		bind_text_or_null(st, 6, ev->extra);
		s->stats.transactions++;
		break;
	case ST_RCPT:
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, ev->tx);
		sqlite3_bind_int64(st, 3, ev->seq);
		bind_bytes(st, 4, ev->arg);
		bind_text_or_null(st, 5, ev->extra);
		break;
	case ST_DELIVERY:
		sqlite3_bind_int(st, 1, ev->code);
		bind_bytes(st, 2, ev->arg);
		sqlite3_bind_int64(st, 3, sid);
		sqlite3_bind_int64(st, 4, ev->seq);
		break;
	case ST_TX_REPLY:
		sqlite3_bind_int(st, 1, ev->code);
		bind_bytes(st, 2, ev->arg);
		bind_text_or_null(st, 3, ev->extra);
		sqlite3_bind_int64(st, 4, sid);
		sqlite3_bind_int64(st, 5, ev->tx);
		break;
	case ST_ANOMALY:
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
		sqlite3_bind_text(st, 3, ev->dir == MD_C2S ? "c2s" : "s2c", -1,
		    SQLITE_STATIC);
		bind_bytes(st, 4, ev->name);
		bind_text_or_null(st, 5, ev->arg);
		bind_frame(st, 6, ev->flow->frame);
		s->stats.anomalies++;
		break;
	default:
		return;
	}
	run(s, id);
}

static int
store_emit(void *arg, const struct md_event *ev)
{
	struct store *s = arg;

	switch (ev->type) {
	case MD_EV_SESSION_BEGIN:
		on_session_begin(s, ev);
		break;
	case MD_EV_GREETING:
		on_simple(s, ST_GREETING, ev);
		break;
	case MD_EV_COMMAND:
		on_command(s, ev);
		break;
	case MD_EV_REPLY:
		on_reply(s, ev);
		break;
	case MD_EV_HELO:
		on_simple(s, ST_HELO, ev);
		break;
	case MD_EV_EXTENSION:
		on_simple(s, ST_EXTENSION, ev);
		break;
	case MD_EV_AUTH:
		on_auth(s, ev);
		break;
	case MD_EV_TX_BEGIN:
		on_simple(s, ST_TX, ev);
		break;
	case MD_EV_RCPT:
		on_simple(s, ST_RCPT, ev);
		break;
	case MD_EV_MSG_BEGIN:
		msg_begin(s, ev);
		break;
	case MD_EV_MSG_DATA:
		msg_data(s, ev);
		return 0; /* hot path: no commit check per piece */
	case MD_EV_MSG_END:
		msg_end(s, ev);
		break;
	case MD_EV_TX_REPLY:
		on_simple(s, ST_TX_REPLY, ev);
		break;
	case MD_EV_DELIVERY:
		on_simple(s, ST_DELIVERY, ev);
		break;
	case MD_EV_ANOMALY:
		on_simple(s, ST_ANOMALY, ev);
		if (md_ci_equal(ev->name.p, ev->name.len, MD_ANOM_GAP))
			on_gap(s, ev);
		break;
	case MD_EV_SESSION_END:
		on_session_end(s, ev);
		break;
	case MD_EV_MSG_META:
		on_msg_meta(s, ev);
		break;
	case MD_EV_ITEM:
		on_item(s, ev);
		break;
	case MD_EV_MAILBOX:
		on_mailbox(s, ev);
		break;
	case MD_EV_RESPONSE:
		on_response(s, ev);
		break;
	case MD_EV_IDENT:
		on_session_text(s, ev->dir == MD_C2S ? ST_CLIENT_ID :
		    ST_SERVER_ID, ev, ev->arg);
		break;
	case MD_EV_STATE:
		on_session_text(s, ST_STATE, ev, ev->name);
		break;
	case MD_EV_COMPRESS:
		if (ev->status == MD_ST_OK) { /* logged in lower case */
			char algo[32];
			size_t n = ev->name.len < sizeof(algo) ? ev->name.len :
			    sizeof(algo);

			for (size_t i = 0; i < n; i++) {
				uint8_t c = ev->name.p[i];

				algo[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			on_session_text(s, ST_COMPRESSION, ev,
			    (struct md_bytes){ (const uint8_t *)algo, n });
		}
		break;
	case MD_EV_HEADER:
		on_header(s, ev);
		break;
	case MD_EV_PART_BEGIN:
		on_part_begin(s, ev);
		break;
	case MD_EV_PART_DATA:
		on_part_data(s, ev);
		return 0; /* hot path: no commit check per piece */
	case MD_EV_PART_END:
		on_part_end(s, ev);
		break;
	case MD_EV_TEXT:
		on_text(s, ev);
		return 0;
	case MD_EV_STARTTLS:
	case MD_EV_COUNT:
		break;
	}
	maybe_commit(s, ev->ts_us);
	return 0;
}

/* ---------------------------------------------------------------- open */

static int
exec_sql(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Whether table has a column of that name (for upgrades in place). */
static int
has_column(struct store *s, const char *table, const char *column)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info(?)"
	    " WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int
store_schema(struct store *s, char *err, size_t errlen)
{
	char sql[64];
	int v = schema_version(s);

	if (v < 0) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	/* version 6 added capture_stats, the LMTP delivery columns and
	 * messages.assembled: a version 5 log takes them */
	if (v != 0 && v != 5 && v != STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "the log has schema version %d; this "
		    "mailsift writes version %d (use another file or --force)",
		    v, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v == 5 && !has_column(s, "recipients", "delivery_code") &&
	    exec_sql(s, "ALTER TABLE recipients ADD COLUMN"
	    " delivery_code INTEGER; ALTER TABLE recipients ADD COLUMN"
	    " delivery_reply TEXT; DROP VIEW IF EXISTS v_recipients;",
	    err, errlen) != 0)
		return -1;
	if (v == 5 && !has_column(s, "messages", "assembled") &&
	    exec_sql(s, "ALTER TABLE messages ADD COLUMN assembled TEXT;",
	    err, errlen) != 0)
		return -1;
	if (exec_sql(s, STORE_SCHEMA_SQL, err, errlen) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
	    STORE_SCHEMA_VERSION);
	return exec_sql(s, sql, err, errlen);
}

static void
utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
store_begin_run(struct store *s, const char *command, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	char now[32];

	utc_now(now, sizeof(now));
	if (sqlite3_prepare_v2(s->db, "INSERT INTO runs (started, version,"
	    " command) VALUES (?,?,?)", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, MAILSIFT_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, command ? command : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	s->run_id = sqlite3_last_insert_rowid(s->db);
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(id), 0) FROM"
	    " sessions", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		s->id_base = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	return -1;
}

/* Records the end of a run in its log. */
static void
run_finished(sqlite3 *db, int64_t run_id, int status)
{
	sqlite3_stmt *st;
	char now[32];

	utc_now(now, sizeof(now));
	if (sqlite3_prepare_v2(db, "UPDATE runs SET finished=?, status=?"
	    " WHERE id=?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, status);
	sqlite3_bind_int64(st, 3, run_id);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* The log holds credentials: it is created readable by its owner only. */
static int
create_private(const char *path, int force, char *err, size_t errlen)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[4096];
	int fd;

	if (force)
		for (size_t i = 0; i < 4; i++) {
			snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
			if (unlink(p) != 0 && errno != ENOENT) {
				snprintf(err, errlen, "%s: %s", p,
				    strerror(errno));
				return -1;
			}
		}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Prepared statements of the open log. */
static int
prepare_all(struct store *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", stmt_sql[i],
			    sqlite3_errmsg(s->db));
			return -1;
		}
	for (size_t i = 0; i < NFIELDS; i++) {
		char sql[160];

		snprintf(sql, sizeof(sql), "UPDATE messages SET %s=coalesce(%s,"
		    " ?) WHERE id=?", msg_fields[i].column,
		    msg_fields[i].column);
		if (sqlite3_prepare_v3(s->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &s->field_st[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", sql,
			    sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

static void
finalize_all(struct store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		sqlite3_finalize(s->field_st[i]);
		s->field_st[i] = NULL;
	}
}

/*
 * Creates or opens the log file at path (and its blobs folder), with the
 * schema, a run row and the statements; a transaction is left open.
 */
static int
db_open(struct store *s, const char *path, int force, int keep,
    const char *command, char *err, size_t errlen)
{
	if (create_private(path, force, err, errlen) != 0)
		return -1;
	free(s->blob_dir);
	s->blob_dir = NULL;
	if (keep) {
		char bd[4096];

		snprintf(bd, sizeof(bd), "%s.blobs", path);
		if (mkdir(bd, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", bd, strerror(errno));
			return -1;
		}
		if ((s->blob_dir = strdup(bd)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    " PRAGMA foreign_keys=OFF;", err, errlen) != 0 ||
	    store_schema(s, err, errlen) != 0 ||
	    store_begin_run(s, command, err, errlen) != 0 ||
	    prepare_all(s, err, errlen) != 0)
		return -1;
	snprintf(s->path, sizeof(s->path), "%s", path);
	run(s, ST_BEGIN);
	s->last_commit_wall = wall_now_us();
	return 0;
}

struct store *
store_open(const struct store_opts *o, char *err, size_t errlen)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->hasher = hasher_new()) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (o->extract_dir != NULL) {
		if (mkdir(o->extract_dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", o->extract_dir,
			    strerror(errno));
			goto fail;
		}
		if ((s->extract_dir = strdup(o->extract_dir)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	s->redact = o->redact;
	s->command = o->command;
	if (db_open(s, o->path, o->force, !o->no_keep, o->command, err,
	    errlen) != 0)
		goto fail;
	return s;
fail:
	finalize_all(s);
	sqlite3_close(s->db);
	hasher_free(s->hasher);
	free(s->extract_dir);
	free(s->blob_dir);
	free(s);
	return NULL;
}

/*
 * Rotation carries the sessions still open into the new log.  The old
 * file may have been moved away (logrotate), and two SQLite files must
 * never share a path's -wal and -shm, so their rows go through a staging
 * file: out of the old log, which is then closed, into the new one.
 */
static const char *const carried_tables[] = {
	"extensions", "commands", "auth", "transactions", "recipients",
	"items", "mailboxes", "responses", "anomalies",
};

static int
exec_on(sqlite3 *db, const char *sql, int64_t arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int
attach(sqlite3 *db, const char *path, const char *as)
{
	char sql[64];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "ATTACH ? AS %s", as);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Old log -> staging file: the open sessions and all that hangs on them;
 * the old log marks them 'rotated'. */
static int
stage_open_sessions(sqlite3 *old, const char *stage)
{
	char sql[256];
	int rc;

	if (attach(old, stage, "carry") != 0)
		return -1;
	rc = exec_on(old, "BEGIN", 0);
	if (rc == 0)
		rc = exec_on(old, "CREATE TABLE carry.sessions AS SELECT * FROM"
		    " main.sessions WHERE end_ts IS NULL", 0);
	if (rc == 0)
		rc = exec_on(old, "CREATE TABLE carry.messages AS SELECT * FROM"
		    " main.messages WHERE session_id IN (SELECT id FROM"
		    " carry.sessions)", 0);
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		snprintf(sql, sizeof(sql), "CREATE TABLE carry.%s AS SELECT *"
		    " FROM main.%s WHERE message_id IN (SELECT id FROM"
		    " carry.messages)", i ? "parts" : "headers",
		    i ? "parts" : "headers");
		rc = exec_on(old, sql, 0);
	}
	if (rc == 0)
		rc = exec_on(old, "CREATE TABLE carry.message_text AS SELECT"
		    " rowid AS id, subject, body FROM main.message_text WHERE"
		    " rowid IN (SELECT id FROM carry.messages)", 0);
	for (size_t i = 0; rc == 0 && i < sizeof(carried_tables) /
	    sizeof(*carried_tables); i++) {
		snprintf(sql, sizeof(sql), "CREATE TABLE carry.%s AS SELECT *"
		    " FROM main.%s WHERE session_id IN (SELECT id FROM"
		    " carry.sessions)", carried_tables[i], carried_tables[i]);
		rc = exec_on(old, sql, 0);
	}
	if (rc == 0)
		rc = exec_on(old, "UPDATE main.sessions SET end_reason ="
		    " 'rotated' WHERE end_ts IS NULL", 0);
	exec_on(old, rc == 0 ? "COMMIT" : "ROLLBACK", 0);
	exec_on(old, "DETACH carry", 0);
	return rc;
}

/* Staging file -> the new log (s->db), under the new run. */
static int
unstage_open_sessions(struct store *s, const char *stage)
{
	static const char *const more[] = { "sessions", "messages", "headers",
		"parts" };
	char sql[256];
	int rc;

	run(s, ST_COMMIT);
	if (attach(s->db, stage, "carry") != 0) {
		run(s, ST_BEGIN);
		return -1;
	}
	rc = exec_on(s->db, "BEGIN", 0);
	for (size_t i = 0; rc == 0 && i < 4 + sizeof(carried_tables) /
	    sizeof(*carried_tables); i++) {
		const char *t = i < 4 ? more[i] : carried_tables[i - 4];

		snprintf(sql, sizeof(sql), "INSERT INTO main.%s SELECT * FROM"
		    " carry.%s", t, t);
		rc = exec_on(s->db, sql, 0);
	}
	if (rc == 0)
		rc = exec_on(s->db, "INSERT INTO main.message_text (rowid,"
		    " subject, body) SELECT id, subject, body FROM"
		    " carry.message_text", 0);
	if (rc == 0)
		rc = exec_on(s->db, "UPDATE main.sessions SET run_id = ?1 WHERE"
		    " run_id <> ?1", s->run_id);
	exec_on(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", 0);
	exec_on(s->db, "DETACH carry", 0);
	run(s, ST_BEGIN);
	return rc;
}

/*
 * Goes on in a new log file at path (--rotate; SIGHUP after logrotate
 * moved the log away): the current log is committed and closed, and the
 * sessions still open are copied into the new one (with their commands,
 * messages so far, ...) and carried on there; the old file keeps them as
 * they were, end_reason 'rotated'.  Returns 0; or -1 with err set, when
 * the store is left without a log and must be closed.
 */
int
store_rotate(struct store *s, const char *path, char *err, size_t errlen)
{
	char stage[sizeof(s->path) + 16];
	int64_t id_base = s->id_base;
	int carried;

	snprintf(stage, sizeof(stage), "%s.carry", path);
	run(s, ST_COMMIT);
	finalize_all(s);
	/* the log was opened without SQLITE_OPEN_CREATE: ATTACH too */
	carried = create_private(stage, 1, err, errlen) == 0 &&
	    stage_open_sessions(s->db, stage) == 0;
	if (!carried)
		snprintf(s->error, sizeof(s->error), "%s: open sessions could "
		    "not be carried over: %s", path, sqlite3_errmsg(s->db));
	run_finished(s->db, s->run_id, 0);
	sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
	    NULL);
	sqlite3_close(s->db);
	s->db = NULL;
	if (db_open(s, path, 0, s->blob_dir != NULL, s->command, err,
	    errlen) != 0) {
		unlink(stage);
		return -1;
	}
	s->id_base = id_base; /* session ids go on from the same base */
	if (!carried) {
		s->stats.errors++;
	} else if (unstage_open_sessions(s, stage) != 0) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "%s: open sessions could "
		    "not be carried over: %s", path, sqlite3_errmsg(s->db));
	}
	unlink(stage);
	return 0;
}

/* Commits what is pending now (live capture: at least once a second). */
void
store_flush(struct store *s)
{
	store_commit(s, s->last_commit_ts);
}

void
store_sink(struct store *s, struct md_sink *sink)
{
	sink->emit = store_emit;
	sink->arg = s;
}

/* Sessions that begin from now on are credited to this capture file. */
void
store_set_capture_file(struct store *s, const char *path)
{
	s->capture_file = path;
}

/* SHA-256 of a regular file, read through the hashing thread. */
static int
file_sha256(struct store *s, const struct store_capture *c,
    char hex[HASH_HEX_MAX], int64_t *size)
{
	int fd = c->fd >= 0 ? c->fd : open(c->path, O_RDONLY | O_CLOEXEC);
	struct hstream *h = NULL;
	struct stat sb;
	char buf[1 << 16];
	ssize_t n = -1;

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    lseek(fd, 0, SEEK_SET) == 0 &&
	    (h = hstream_new(s->hasher, 0)) != NULL)
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			hstream_update(h, buf, (size_t)n);
	if (fd >= 0 && c->fd < 0)
		close(fd);
	if (h == NULL)
		return -1;
	hstream_finish(h, n == 0 ? hex : NULL, NULL);
	*size = sb.st_size;
	return n == 0 ? 0 : -1;
}

void
store_add_capture(struct store *s, const struct store_capture *c)
{
	sqlite3_stmt *st = s->st[ST_CAPTURE];
	char hex[HASH_HEX_MAX];
	int64_t size;

	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_text(st, 2, c->path, -1, SQLITE_STATIC);
	if (file_sha256(s, c, hex, &size) == 0) {
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
	run(s, ST_CAPTURE);
}

static void
utc_of(uint64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
store_add_interval(struct store *s, const struct store_interval *iv)
{
	static const char sql[] = "INSERT INTO capture_stats (run_id, since,"
	    " until, total, packets, bytes, kernel_received, kernel_dropped,"
	    " if_dropped, gap_bytes, streams_evicted, detect_over_budget,"
	    " reserved_v4) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	char since[32], until[32];

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
	if (sqlite3_step(st) != SQLITE_DONE) {
		s->stats.errors++;
		snprintf(s->error, sizeof(s->error), "capture_stats: %s",
		    sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
}

/*
 * Commits, records the run's end and closes.  Returns 0, or -1 when some
 * write failed along the way (store_last_error says which).
 */
int
store_close(struct store *s, int status)
{
	int rc = -1;

	if (s->db == NULL) /* a rotation that failed left no log */
		goto free;
	run(s, ST_COMMIT);
	run_finished(s->db, s->run_id, status);
	finalize_all(s);
	for (int i = 0; i < MSG_BUCKETS; i++)
		while (s->msgs[i] != NULL) { /* only after a dissector bug */
			struct open_msg *m = s->msgs[i];
			s->msgs[i] = m->next;
			open_msg_free(m);
		}
	sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
	    NULL);
	rc = sqlite3_close(s->db) == SQLITE_OK && s->stats.errors == 0 ? 0 : -1;
free:
	hasher_free(s->hasher);
	free(s->extract_dir);
	free(s->blob_dir);
	free(s);
	return rc;
}

const struct store_stats *
store_stats(const struct store *s)
{
	return &s->stats;
}

long
store_run_id(const struct store *s)
{
	return (long)s->run_id;
}

const char *
store_last_error(const struct store *s)
{
	return s->error;
}
