/* \summary: SQLite store: messages whose bytes are arriving */
/*
 * A message's bytes go to the analysis stage (its digests, what the rules
 * match, who sent it), are kept beside the log and, with --extract,
 * copied to an .eml file as they stream; its MIME parts likewise (their
 * digests and type by content).  Nothing is held in memory but the text
 * gathered for the search index (capped by the MIME tap).  The stage
 * hands each end back with its results, in order; the rows get them then.
 */
#include <errno.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/analyse/analyse.h"
#include "store/keep.h"
#include "dissect/urls.h"
#include "store/sqlite/sqlite_priv.h"
#include "dissect/util.h"

/* Header fields kept in messages columns. */
static const struct {
	const char  *field;
	enum msg_col col;
} msg_fields[] = {
	{ "Subject", COL_SUBJECT },
	{ "From", COL_FROM },
	{ "To", COL_TO },
	{ "Cc", COL_CC },
	{ "Bcc", COL_BCC },
	{ "Reply-To", COL_REPLY_TO },
	{ "Date", COL_DATE },
	{ "Message-ID", COL_MSG_ID },
	{ "In-Reply-To", COL_IN_REPLY_TO },
	{ "References", COL_REFS },
	{ "X-Mailer", COL_MAILER },
	{ "User-Agent", COL_MAILER },
	{ "Return-Path", COL_RETURN_PATH },
};

static void open_msg_free(struct open_msg *);
static int  head_unwritten(const struct open_msg *);
static void head_bind(sqlite3_stmt *, int, struct open_msg *);
static void part_close(struct sqlite_store *, struct open_msg *,
    struct open_part *, int complete, uint64_t encoded, uint64_t decoded);
static void text_index(struct sqlite_store *, struct open_msg *);
static void yara_rows(struct sqlite_store *, int64_t msg_row, uint32_t part,
    const struct rule_hits *);

static void
blob_write_failed(struct sqlite_store *s, struct open_msg *m)
{
	io_fail(s);
	snprintf(s->error, sizeof(s->error), "%s: write failed", m->blob_tmp);
	fclose(m->blob);
	m->blob = NULL;
	unlink(m->blob_tmp);
	m->keep = KEEP_LOST;
}

/* The kept bytes go to a file from here on, with a stdio buffer of
 * BLOB_BUF bytes of its own, the bytes held in memory so far first
 * (said and counted when it cannot be: the bytes are then not kept). */
static void
blob_file(struct sqlite_store *s, struct open_msg *m)
{
	char  *held = m->blob_buf;
	size_t n = m->keep == KEEP_MEM ? m->blob_len : 0;

	if ((m->blob_buf = malloc(BLOB_BUF)) == NULL ||
	    (m->blob = keep_blob_create(s->blob_dir, ++s->blob_seq,
		 &m->blob_tmp, m->blob_buf, BLOB_BUF, s->error,
		 sizeof(s->error))) == NULL) {
		io_fail(s);
		m->keep = KEEP_LOST;
	} else {
		m->keep = KEEP_FILE;
		if (n > 0 && fwrite(held, 1, n, m->blob) != n)
			blob_write_failed(s, m);
	}
	free(held);
}

/* Where a message's kept bytes go first: memory (a spool whose
 * receiver has no blob_bytes: a file). */
static void
blob_begin(struct sqlite_store *s, struct open_msg *m)
{
	if (s->is_spool && !s->spool_blob_bytes)
		blob_file(s, m);
	else if ((m->blob_buf = malloc(BLOB_INLINE_MAX)) != NULL)
		m->keep = KEEP_MEM;
	else {
		io_fail(s);
		m->keep = KEEP_LOST;
	}
}

/* More of the kept bytes: into memory while they fit, past it into a
 * file. */
static void
blob_data(struct sqlite_store *s, struct open_msg *m, const void *p, size_t n)
{
	if (m->keep == KEEP_MEM && m->blob_len + n <= BLOB_INLINE_MAX) {
		memcpy(m->blob_buf + m->blob_len, p, n);
		m->blob_len += n;
		return;
	}
	if (m->keep == KEEP_MEM)
		blob_file(s, m);
	if (m->keep == KEEP_FILE && fwrite(p, 1, n, m->blob) != n)
		blob_write_failed(s, m);
}

/* The message open as tx of a flow, or NULL. */
static struct open_msg *
msg_at(struct sqlite_store *s, uint64_t flow_id, uint32_t tx)
{
	return (struct open_msg *)*md_tx_slot(&s->msgs, flow_id, tx);
}

/* Whether the message's row is in the log: not when the disk refused it
 * or rolled back its transaction (sqlite_lost.c); then nothing that
 * names it is written. */
static int
msg_row_kept(const struct sqlite_store *s, int64_t row, uint64_t gen)
{
	return row != 0 && (s->nlost_gen == 0 || !lost_gen(s, gen));
}

/* Statement id, bound, run on the message's row: the row touched first
 * for the stats' sums (sqlite_statsums.c). */
static void
msg_row_run(struct sqlite_store *s, enum stmt_id id, int64_t row)
{
	stats_message_touch(s, row);
	db_run(s, id);
	stats_at_once(s);
}

/* Where a message's first bytes came from (its begin, until they do). */
static void
msg_provenance(const struct sqlite_store *s, struct open_msg *m,
    const struct md_flow *f)
{
	m->first_frame = f->frame;
	m->first_offset = f->offset;
	m->capture_file = s->capture_file;
}

void
msgs_begin(struct sqlite_store *s, const struct md_event *ev)
{
	int64_t		   sid = session_id(s, ev);
	sqlite3_stmt	  *st;
	struct md_txnode **slot;
	struct open_msg	  *m;
	int64_t		   displaced;
	int		   ok;

	if (ev->num[0]) {
		/* SMTP: a body whose MAIL was not captured still has a
		 * transaction to belong to. */
		st = s->st[ST_TX_IMPLICIT];
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, ev->tx);
		sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
		db_run(s, ST_TX_IMPLICIT);
	}
	st = s->st[ST_MSG];
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, ev->tx);
	if (ev->seq)
		sqlite3_bind_int64(st, 3, ev->seq);
	db_bind_bytes(st, 4, ev->name);
	sqlite3_bind_text(st, 5, ev->dir == MD_C2S ? "c2s" : "s2c", -1,
	    SQLITE_STATIC);
	sqlite3_bind_double(st, 6, ts_sec(ev->ts_us));
	db_bind_text(st, 7, ev->extra);
	displaced = stats_messages_touch(s, sid, ev->tx); /* by the REPLACE */
	ok = db_run(s, ST_MSG) == 0;
	if (ok) { /* a new row is a message, not a piece, until said */
		hosts_msgs_add(s, ev->flow, 1 - displaced);
		stats_message_made(s, sqlite3_last_insert_rowid(s->db));
	} else
		stats_at_once(s);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->node.flow_id = ev->flow->id;
	m->node.tx = ev->tx;
	m->sid = sid;
	m->dir = ev->dir;
	msg_provenance(s, m, ev->flow);
	m->row = ok ? sqlite3_last_insert_rowid(s->db) : 0;
	m->gen = s->gen;
	if ((m->held_next = s->msgs_held) != NULL)
		m->held_next->held_prev = &m->held_next;
	m->held_prev = &s->msgs_held;
	s->msgs_held = m;
	if ((m->an = an_msg_begin(s->an)) == NULL) {
		open_msg_free(m);
		return;
	}
	if (s->extract_dir != NULL &&
	    (m->out = keep_eml_create(s->extract_dir, sid, ev->tx, &m->path,
		 s->error, sizeof(s->error))) == NULL)
		io_fail(s);
	if (s->blob_dir != NULL)
		blob_begin(s, m);
	slot = md_tx_slot(&s->msgs, m->node.flow_id, m->node.tx);
	if (*slot != NULL) /* a dissector bug; keep the newer one */
		open_msg_free((struct open_msg *)md_tx_remove(slot));
	md_tx_insert(slot, &m->node);
	s->stats.messages++;
}

void
msgs_data(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg *m = msg_at(s, ev->flow->id, ev->tx);

	if (m == NULL)
		return;
	if (m->size == 0)
		msg_provenance(s, m, ev->flow);
	an_msg_data(m->an, ev->arg.p, ev->arg.len);
	m->size += ev->arg.len;
	if (m->out != NULL &&
	    fwrite(ev->arg.p, 1, ev->arg.len, m->out) != ev->arg.len) {
		io_fail(s);
		snprintf(s->error, sizeof(s->error), "%s: write failed",
		    m->path);
		fclose(m->out);
		m->out = NULL;
	}
	blob_data(s, m, ev->arg.p, ev->arg.len);
}

/* ------------------------------------------------- parts' rows */

/* The columns of a part known at its start, from its event. */
struct part_cols {
	const char     *disposition;
	struct md_bytes path, type, charset, encoding, filename;
};

static struct part_cols
part_cols_of(const struct md_event *ev)
{
	return (struct part_cols) { md_disposition_str(
					(enum md_disposition)ev->code),
		ev->name, ev->arg, ev->aux, ev->proof, ev->extra };
}

/* Bound on st from at: path, type, charset, encoding, disposition,
 * filename (ST_PART from 3, ST_PART_WHOLE from 13). */
static void
part_cols_bind(sqlite3_stmt *st, int at, const struct part_cols *c)
{
	db_bind_bytes(st, at, c->path);
	db_bind_bytes(st, at + 1, c->type);
	db_bind_text(st, at + 2, c->charset);
	db_bind_text(st, at + 3, c->encoding);
	if (c->disposition != NULL)
		sqlite3_bind_text(st, at + 4, c->disposition, -1,
		    SQLITE_STATIC);
	db_bind_text(st, at + 5, c->filename);
}

/* The row of a part as its start knows it. */
static void
part_insert(struct sqlite_store *s, int64_t msg_row, uint32_t no,
    const struct part_cols *c)
{
	sqlite3_stmt *st = s->st[ST_PART];

	sqlite3_bind_int64(st, 1, msg_row);
	sqlite3_bind_int64(st, 2, no);
	part_cols_bind(st, 3, c);
	db_run(s, ST_PART);
}

/* b's bytes copied to *at, b made to point there (NULL stays NULL). */
static struct md_bytes
bytes_into(uint8_t **at, struct md_bytes b)
{
	struct md_bytes to = { b.p != NULL ? *at : NULL, b.len };

	if (b.len > 0)
		memcpy(*at, b.p, b.len);
	*at += b.len;
	return to;
}

/* A part's row waiting for its results (struct part_row), or NULL when
 * there is no memory to wait in. */
static struct part_row *
part_row_wait(struct sqlite_store *s, const struct open_msg *m, uint32_t no,
    const struct part_cols *c)
{
	struct part_row *r = malloc(sizeof(*r) + c->path.len + c->type.len +
	    c->charset.len + c->encoding.len + c->filename.len);
	uint8_t		*at;

	if (r == NULL)
		return NULL;
	at = r->bytes;
	r->msg_row = m->row;
	r->gen = m->gen;
	r->no = no;
	r->disposition = c->disposition;
	r->path = bytes_into(&at, c->path);
	r->type = bytes_into(&at, c->type);
	r->charset = bytes_into(&at, c->charset);
	r->encoding = bytes_into(&at, c->encoding);
	r->filename = bytes_into(&at, c->filename);
	if ((r->next = s->parts_waiting) != NULL)
		r->next->prev = &r->next;
	r->prev = &s->parts_waiting;
	s->parts_waiting = r;
	return r;
}

static struct part_cols
part_row_cols(const struct part_row *r)
{
	return (struct part_cols) { r->disposition, r->path, r->type,
		r->charset, r->encoding, r->filename };
}

/* Out of the waiting ones: its row is written (or never will be). */
static void
part_row_unlink(struct part_row *r)
{
	if (r->prev == NULL)
		return;
	if ((*r->prev = r->next) != NULL)
		r->next->prev = r->prev;
	r->prev = NULL;
}

static void
part_row_free(struct part_row *r)
{
	if (r == NULL)
		return;
	part_row_unlink(r);
	free(r);
}

void
parts_write_waiting(struct sqlite_store *s)
{
	struct part_row *r;

	while ((r = s->parts_waiting) != NULL) {
		struct part_cols c = part_row_cols(r);

		part_row_unlink(r);
		/* not when a failing disk took its message's row away */
		if (s->db != NULL && msg_row_kept(s, r->msg_row, r->gen))
			part_insert(s, r->msg_row, r->no, &c);
	}
}

static void
part_free(struct open_part *pt)
{
	part_row_free(pt->row);
	an_part_drop(pt->an);
	if (pt->out != NULL)
		fclose(pt->out);
	free(pt->path);
	memset(pt, 0, sizeof(*pt));
}

static void
open_msg_free(struct open_msg *m)
{
	if (m->held_prev != NULL && (*m->held_prev = m->held_next) != NULL)
		m->held_next->held_prev = m->held_prev;
	an_msg_drop(m->an);
	for (int k = 0; k < MD_PART_KINDS; k++)
		part_free(&m->part[k]);
	if (m->out != NULL)
		fclose(m->out);
	if (m->blob != NULL) {
		fclose(m->blob);
		unlink(m->blob_tmp);
	}
	free(m->blob_tmp);
	free(m->blob_buf); /* after every fclose of m->blob */
	free(m->parts_dir);
	free(m->text);
	for (int c = 0; c < NCOLS; c++)
		free(m->col[c]);
	free(m->path);
	free(m);
}

/* Names the kept bytes by their hash, in the log (bytes that stayed in
 * the buffer) or as a file; 1 when they are kept. */
static int
blob_kept(struct sqlite_store *s, struct open_msg *m, const char *sha)
{
	FILE *blob = m->blob;

	if (m->keep == KEEP_MEM) {
		sqlite3_stmt *st = s->st[ST_BLOB_INLINE];

		m->keep = KEEP_NONE;
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
		/* copied: the buffer goes with the message, the binding
		 * stays with the statement */
		sqlite3_bind_blob(st, 2, m->blob_len ? m->blob_buf : "",
		    (int)m->blob_len, SQLITE_TRANSIENT);
		return db_run(s, ST_BLOB_INLINE) == 0;
	}
	if (blob == NULL)
		return 0;
	m->blob = NULL;
	if (keep_blob_name(s->blob_dir, blob, m->blob_tmp, sha, s->error,
		sizeof(s->error))) {
		s->blobs_unsynced = 1; /* synced before the row commits */
		return 1;
	}
	io_fail(s);
	return 0;
}

#define ADDR_COLS ((1u << COL_FROM) | (1u << COL_TO) | (1u << COL_CC))

/* The message's addresses into the trigram index (sqlite_addrs.c), as
 * its row holds them once the UPDATE binding its head has run: the
 * writer's triggers are off, so it writes the index itself.  A spool
 * has no index. */
static void
addrs_write(struct sqlite_store *s, int64_t row)
{
	sqlite3_stmt *rd = s->st[ST_ADDRS_ROW], *st = s->st[ST_ADDRS];
	int	      rc, any = 0;

	sqlite3_bind_int64(rd, 1, row);
	if ((rc = sqlite3_step(rd)) == SQLITE_ROW) {
		sqlite3_bind_int64(st, 1, row);
		for (int i = 0; i < 3; i++) {
			any |= sqlite3_column_type(rd, i) != SQLITE_NULL;
			sqlite3_bind_value(st, 2 + i,
			    sqlite3_column_value(rd, i));
		}
		if (any)
			db_run(s, ST_ADDRS);
		else
			sqlite3_clear_bindings(st);
	} else if (rc != SQLITE_DONE)
		db_fail(s, stmt_sql[ST_ADDRS_ROW]);
	sqlite3_reset(rd);
}

/* The message's addresses wait for the commit to be indexed (struct
 * waiting_addrs); indexed at once when there is no memory to wait in. */
static void
addrs_index(struct sqlite_store *s, struct open_msg *m)
{
	struct waiting_addrs *a;

	if (s->st[ST_ADDRS] == NULL)
		return;
	if (s->naddrs == ADDRS_WAITING)
		addrs_write_waiting(s);
	if (s->naddrs == s->addrs_cap) {
		size_t cap = s->addrs_cap ? s->addrs_cap * 2 : 256;

		if ((a = realloc(s->addrs, cap * sizeof(*a))) == NULL) {
			addrs_write(s, m->row); /* no memory to wait in */
			return;
		}
		s->addrs = a;
		s->addrs_cap = cap;
	}
	s->addrs[s->naddrs++] = (struct waiting_addrs) { m->row, m->gen };
}

/* qsort's order of the waiting rows (struct waiting_text and
 * waiting_addrs, each led by its message's row id): by that id; and of
 * bare ids (sqlite_findsums.c) */
int
by_row(const void *a, const void *b)
{
	int64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}
_Static_assert(offsetof(struct waiting_text, row) == 0, "row leads");
_Static_assert(offsetof(struct waiting_addrs, row) == 0, "row leads");

void
addrs_write_waiting(struct sqlite_store *s)
{
	/* in the rows' order, each once: FTS5 writes out what it holds
	 * whenever a row comes below (or again at) the last it was given */
	if (s->db != NULL && s->naddrs > 1)
		qsort(s->addrs, s->naddrs, sizeof(*s->addrs), by_row);
	for (size_t i = 0; s->db != NULL && i < s->naddrs; i++)
		/* not when a failing disk took its message's row away */
		if ((i == 0 || s->addrs[i].row != s->addrs[i - 1].row) &&
		    msg_row_kept(s, s->addrs[i].row, s->addrs[i].gen))
			addrs_write(s, s->addrs[i].row);
	s->naddrs = 0;
}

/* The message's row, its results come. */
static void
msg_finished(struct sqlite_store *s, struct open_msg *m,
    const struct an_result *r)
{
	const char   *hex = r->d.sha256, *body = r->d.body;
	enum stmt_id  id = head_unwritten(m) ? ST_MSG_END_HEAD : ST_MSG_END;
	sqlite3_stmt *st = s->st[id];
	unsigned      new_addrs = m->col_unwritten & ADDR_COLS;

	m->an = NULL; /* the stage's, and it is done with it */
	if (!msg_row_kept(s, m->row, m->gen)) {
		open_msg_free(m); /* its kept bytes too: no row names them */
		return;
	}
	sqlite3_bind_int(st, 6, blob_kept(s, m, hex));
	sqlite3_bind_double(st, 1, ts_sec(m->end_ts_us));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)m->size);
	sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, m->complete);
	if (m->path != NULL)
		sqlite3_bind_text(st, 5, m->path, -1, SQLITE_TRANSIENT);
	db_bind_frame(st, 7, m->end_frame);
	db_bind_offset(st, 8, m->end_frame, m->end_offset);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)m->gap);
	if (body[0] != '\0')
		sqlite3_bind_text(st, 10, body, -1, SQLITE_TRANSIENT);
	if (m->capture_file != NULL && m->first_frame != 0)
		sqlite3_bind_text(st, 11, m->capture_file, -1, SQLITE_STATIC);
	db_bind_frame(st, 12, m->first_frame);
	db_bind_offset(st, 13, m->first_frame, m->first_offset);
	auth_bind_findings(st, r);
	if (id == ST_MSG_END_HEAD) { /* its head waited: written with it */
		head_bind(st, 17, m);
		sqlite3_bind_int64(st, 34, m->row);
	} else
		sqlite3_bind_int64(st, 17, m->row);
	msg_row_run(s, id, m->row);
	if (new_addrs)
		addrs_index(s, m);
	if (r->hits != NULL)
		yara_rows(s, m->row, 0, r->hits);
	auth_finished(s, m->row, r);
	open_msg_free(m);
}

void
msgs_end(struct sqlite_store *s, const struct md_event *ev)
{
	struct md_txnode **slot = md_tx_slot(&s->msgs, ev->flow->id, ev->tx);
	struct open_msg	  *m = (struct open_msg *)*slot;

	if (m == NULL)
		return;
	m->gap += ev->num[1]; /* missing, though the capture lost nothing */
	m->complete = ev->code != 0 && m->gap == 0;
	m->end_ts_us = ev->ts_us;
	m->end_frame = ev->flow->frame;
	m->end_offset = ev->flow->offset;
	md_tx_remove(slot);
	for (int k = MD_PART_KINDS - 1; k >= 0; k--) /* left open by the tap */
		if (m->part[k].no != 0)
			part_close(s, m, &m->part[k], 0, 0, 0);
	text_index(s, m);
	if (m->out != NULL && fclose(m->out) != 0)
		io_fail(s);
	m->out = NULL;
	if (m->partial) { /* a piece (TOP, BODY[1]): not a message of its own */
		s->stats.messages--;
		s->stats.pieces++;
	} else {
		s->stats.message_bytes += m->size;
		if (m->complete)
			s->stats.messages_complete++;
	}
	s->fin_in++;
	an_msg_end(s->an, m->an, m->complete && !m->partial, m);
}

/* The open message an event names, while its row is in the log. */
struct open_msg *
msgs_find(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg *m = msg_at(s, ev->flow->id, ev->tx);

	return m != NULL && msg_row_kept(s, m->row, m->gen) ? m : NULL;
}

/* A header column's first value (NULL bytes: none, the next may
 * give one), kept for msg_head_write: NULs and all, as db_bind_bytes
 * bound it (the index's subject stops at the first, as before). */
static void
col_take(struct open_msg *m, enum msg_col c, struct md_bytes b)
{
	if (m->col[c] != NULL ||
	    db_copy_bytes(b, 0, &m->col[c], &m->col_len[c]) != 0 ||
	    m->col[c] == NULL)
		return;
	m->col_unwritten |= 1u << c;
}

/*
 * What the message's row lacks of its header columns and part counts
 * waits for its end's UPDATE (ST_MSG_END_HEAD) or, while it has none,
 * for the next commit: a dozen UPDATEs a message, one for each field
 * and part, were a tenth of small mail's writing, and one at its first
 * part and its end a twentieth still.
 */
static int
head_unwritten(const struct open_msg *m)
{
	return m->col_unwritten != 0 || m->parts_unwritten != 0 || m->dkim ||
	    m->auth_results;
}

/* Nothing of the head waits any more. */
static void
head_written(struct open_msg *m)
{
	m->col_unwritten = 0;
	m->dkim = m->auth_results = 0;
	m->parts_unwritten = m->attachments_unwritten = 0;
}

/* The head's 17 columns on st from at, as in the row from now on. */
static void
head_bind(sqlite3_stmt *st, int at, struct open_msg *m)
{
	for (int c = 0; c < NCOLS; c++)
		if (m->col_unwritten & (1u << c))
			db_bind_copy(st, at + c, m->col[c], m->col_len[c]);
	sqlite3_bind_int(st, at + NCOLS, m->dkim);
	sqlite3_bind_int(st, at + NCOLS + 1, m->auth_results);
	sqlite3_bind_int64(st, at + NCOLS + 2, m->parts_unwritten);
	sqlite3_bind_int64(st, at + NCOLS + 3, m->attachments_unwritten);
	head_written(m);
}

static void
msg_head_write(struct sqlite_store *s, struct open_msg *m)
{
	sqlite3_stmt *st = s->st[ST_MSG_HEAD];
	unsigned      new_addrs = m->col_unwritten & ADDR_COLS;

	if (!head_unwritten(m))
		return;
	head_bind(st, 1, m);
	sqlite3_bind_int64(st, NCOLS + 5, m->row);
	msg_row_run(s, ST_MSG_HEAD, m->row);
	if (new_addrs)
		addrs_index(s, m);
}

void
heads_write_waiting(struct sqlite_store *s)
{
	for (struct open_msg *m = s->msgs_held; m != NULL; m = m->held_next)
		if (s->db == NULL || !msg_row_kept(s, m->row, m->gen))
			head_written(m); /* no row to write it in */
		else
			msg_head_write(s, m);
}

/* A top-level header field: its row, and the messages column it fills. */
void
msgs_header(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg *m = msgs_find(s, ev);
	sqlite3_stmt	*st = s->st[ST_HEADER];

	if (m == NULL)
		return;
	sqlite3_bind_int64(st, 1, m->row);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ev->num[0]);
	/* a dozen a message: not copied, as they are run at once */
	db_bind_bytes_now(st, 3, ev->name);
	db_bind_bytes_now(st, 4, ev->arg);
	db_bind_bytes_now(st, 5, ev->extra);
	db_run(s, ST_HEADER);
	auth_header(s, m, ev);
	for (size_t i = 0; i < sizeof(msg_fields) / sizeof(*msg_fields); i++)
		if (md_ci_equal(ev->name.p, ev->name.len, msg_fields[i].field))
			col_take(m, msg_fields[i].col, ev->extra);
	if (ev->aux.len > 0) /* Date in UTC */
		col_take(m, COL_DATE_UTC, ev->aux);
	if (md_ci_equal(ev->name.p, ev->name.len, "DKIM-Signature"))
		m->dkim = 1;
	if (md_ci_equal(ev->name.p, ev->name.len, "Authentication-Results"))
		m->auth_results = 1;
}

void
msgs_part_begin(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg	 *m = msgs_find(s, ev);
	int		  attachment = ev->extra.len > 0;
	struct part_cols  c = part_cols_of(ev);
	struct open_part *pt;

	if (m == NULL)
		return;
	pt = &m->part[ev->num[1] < MD_PART_KINDS ? ev->num[1] : MD_PART_LEAF];
	if (pt->no != 0)
		part_close(s, m, pt, 0, 0, 0);
	if ((pt->row = part_row_wait(s, m, (uint32_t)ev->num[0], &c)) == NULL)
		part_insert(s, m->row, (uint32_t)ev->num[0], &c);
	m->parts_unwritten++;
	m->attachments_unwritten += attachment;
	pt->no = (uint32_t)ev->num[0];
	/* its digests and type by content; the first part of a message
	 * whose start went (its header with it) begins where the capture
	 * picked up again, and is not typed */
	if ((pt->an = an_part_begin(s->an, ev->arg.p, ev->arg.len, ev->extra.p,
		 ev->extra.len, ev->code == MD_DISP_ATTACHMENT,
		 m->gap > 0 && ev->num[0] == 1)) == NULL)
		s->stats.errors++; /* memory, not the disk */
	if (s->extract_dir != NULL &&
	    (attachment || ev->code == MD_DISP_ATTACHMENT)) {
		char fn[1024], pth[128];

		snprintf(fn, sizeof(fn), "%.*s", (int)ev->extra.len,
		    (const char *)ev->extra.p);
		snprintf(pth, sizeof(pth), "%.*s", (int)ev->name.len,
		    (const char *)ev->name.p);
		pt->out = keep_attachment_create(s->extract_dir, m->sid,
		    m->node.tx, &m->parts_dir, fn, pth, &pt->path, s->error,
		    sizeof(s->error));
		if (pt->out == NULL)
			io_fail(s);
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

void
msgs_part_data(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_part *pt = part_of(msgs_find(s, ev), ev->num[0]);

	if (pt == NULL || pt->an == NULL)
		return;
	an_part_data(pt->an, ev->arg.p, ev->arg.len);
	if (pt->out != NULL &&
	    fwrite(ev->arg.p, 1, ev->arg.len, pt->out) != ev->arg.len) {
		io_fail(s);
		fclose(pt->out);
		pt->out = NULL;
	}
}

/* What the rules matched in a part (part 0: the whole message). */
static void
yara_rows(struct sqlite_store *s, int64_t msg_row, uint32_t part,
    const struct rule_hits *h)
{
	sqlite3_stmt *st = s->st[ST_YARA];

	s->stats.yara_scans += h->scans;
	s->stats.yara_budget += h->timeouts + h->cut;
	for (int i = 0; i < h->n; i++) {
		const struct rule_match *r = &h->m[i];

		sqlite3_bind_int64(st, 1, msg_row);
		sqlite3_bind_int64(st, 2, part);
		sqlite3_bind_int(st, 3, r->entry);
		sqlite3_bind_text(st, 4, r->rule, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, r->ns, -1, SQLITE_TRANSIENT);
		if (r->tags[0] != '\0')
			sqlite3_bind_text(st, 6, r->tags, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, r->meta, -1, SQLITE_TRANSIENT);
		db_run(s, ST_YARA);
		s->stats.yara_matches++;
	}
}

/* The files inside an archive part. */
static void
archive_entries(struct sqlite_store *s, const struct part_end *f,
    const struct an_result *r)
{
	sqlite3_stmt *st = s->st[ST_ARCHIVE_ENTRY];

	for (int i = 0; i < r->nentries; i++) {
		const struct content_entry *e = &r->entries[i];

		sqlite3_bind_int64(st, 1, f->msg_row);
		sqlite3_bind_int64(st, 2, f->part.no);
		sqlite3_bind_int(st, 3, i + 1);
		sqlite3_bind_text(st, 4, e->path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 5, e->depth);
		if (e->size >= 0)
			sqlite3_bind_int64(st, 6, e->size);
		sqlite3_bind_int(st, 7, e->encrypted);
		if (e->sha256[0] != '\0')
			sqlite3_bind_text(st, 8, e->sha256, -1,
			    SQLITE_TRANSIENT);
		if (e->magic[0] != '\0')
			sqlite3_bind_text(st, 9, e->magic, -1,
			    SQLITE_TRANSIENT);
		db_run(s, ST_ARCHIVE_ENTRY);
	}
}

/* The part's row, its results come. */
static void
part_finished(struct sqlite_store *s, struct part_end *f,
    const struct an_result *r)
{
	struct part_row *row = f->part.row;
	sqlite3_stmt	*st =
	    s->st[row != NULL && row->prev != NULL ? ST_PART_WHOLE :
						     ST_PART_END];

	f->part.row = NULL;
	if (!msg_row_kept(s, f->msg_row, f->gen)) {
		if (f->part.out != NULL)
			fclose(f->part.out);
		free(f->part.path);
		part_row_free(row);
		return;
	}
	if (r->magic[0] != '\0' || r->findings[0] != '\0') {
		sqlite3_bind_text(st, 7, r->magic, -1, SQLITE_TRANSIENT);
		if (r->findings[0] != '\0')
			sqlite3_bind_text(st, 8, r->findings, -1,
			    SQLITE_TRANSIENT);
	}
	if (r->d.sha1[0] != '\0')
		sqlite3_bind_text(st, 9, r->d.sha1, -1, SQLITE_TRANSIENT);
	if (r->password[0] != '\0')
		sqlite3_bind_text(st, 10, r->password, -1, SQLITE_TRANSIENT);
	if (f->part.out != NULL && fclose(f->part.out) != 0)
		io_fail(s);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->enc);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->dec);
	if (r->d.md5[0] != '\0')
		sqlite3_bind_text(st, 3, r->d.md5, -1, SQLITE_TRANSIENT);
	if (r->d.sha256[0] != '\0')
		sqlite3_bind_text(st, 4, r->d.sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, f->complete);
	if (f->part.path != NULL)
		sqlite3_bind_text(st, 6, f->part.path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 11, f->msg_row);
	sqlite3_bind_int64(st, 12, f->part.no);
	if (st == s->st[ST_PART_WHOLE]) { /* its row waited: whole now */
		struct part_cols c = part_row_cols(row);

		part_cols_bind(st, 13, &c);
		db_run(s, ST_PART_WHOLE);
	} else
		db_run(s, ST_PART_END);
	part_row_free(row);
	archive_entries(s, f, r);
	if (r->hits != NULL)
		yara_rows(s, f->msg_row, f->part.no, r->hits);
	free(f->part.path);
}

/* An end and its results, from the analysis stage in order. */
void
msgs_result(void *arg, const struct an_result *r)
{
	struct sqlite_store *s = arg;

	s->fin_out++;
	if (r->is_msg) {
		msg_finished(s, r->owner, r);
	} else {
		part_finished(s, r->owner, r);
		if (r->owner != &s->part_now)
			free(r->owner);
	}
}

static void
part_close(struct sqlite_store *s, struct open_msg *m, struct open_part *pt,
    int complete, uint64_t enc, uint64_t dec)
{
	struct part_end *f = malloc(sizeof(*f));
	struct an_part	*an = pt->an;

	if (f == NULL) /* written at once, after every end before it */
		f = &s->part_now;
	f->part = *pt;
	f->part.an = NULL; /* the stage's from here */
	f->msg_row = m->row;
	f->gen = m->gen;
	f->complete = complete;
	f->enc = enc;
	f->dec = dec;
	memset(pt, 0, sizeof(*pt)); /* the next part of its kind */
	s->fin_in++;
	an_part_end(s->an, an, m->text, m->tlen, f);
	if (f == &s->part_now)
		an_deliver(s->an, 1);
}

void
msgs_part_end(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg	 *m = msgs_find(s, ev);
	struct open_part *pt = part_of(m, ev->num[0]);

	if (m != NULL && pt != NULL)
		part_close(s, m, pt, ev->code != 0, ev->num[1], ev->num[2]);
}

/* A link in the message's text, and what is wrong with it. */
void
msgs_url(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg *m = msgs_find(s, ev);
	sqlite3_stmt	*st = s->st[ST_URL];
	char		 f[64] = "";

	if (m == NULL)
		return;
	md_flag_names((unsigned)ev->code, url_finding_names, url_finding_count,
	    f, sizeof(f));
	sqlite3_bind_int64(st, 1, m->row);
	sqlite3_bind_int64(st, 2, ++m->nurls);
	if (ev->num[0] != 0)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->num[0]);
	db_bind_bytes(st, 4, ev->aux);
	db_bind_bytes(st, 5, ev->name);
	db_bind_text(st, 6, ev->arg);
	db_bind_text(st, 7, ev->extra);
	if (f[0] != '\0')
		sqlite3_bind_text(st, 8, f, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 9, ev->num[1] != 0);
	db_run(s, ST_URL);
}

/* Readable text is gathered (the tap caps it) and indexed at the end. */
void
msgs_text(struct sqlite_store *s, const struct md_event *ev)
{
	struct open_msg *m = msgs_find(s, ev);
	char		*nt;

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
text_write(struct sqlite_store *s, int64_t row, const char *subject,
    const char *text, size_t len)
{
	sqlite3_stmt *st = s->st[ST_TEXT];

	sqlite3_bind_int64(st, 1, row);
	if (subject != NULL)
		sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
	if (len > 0)
		sqlite3_bind_text(st, 3, text, (int)len, SQLITE_STATIC);
	db_run(s, ST_TEXT);
}

void
texts_write_waiting(struct sqlite_store *s)
{
	/* in the rows' order (messages end in another): FTS5 writes out
	 * what it holds whenever a row comes below the last it was given */
	if (s->ntexts > 1)
		qsort(s->texts, s->ntexts, sizeof(*s->texts), by_row);
	for (size_t i = 0; i < s->ntexts; i++) {
		struct waiting_text *t = &s->texts[i];

		/* not when a failing disk took its message's row away */
		if (s->db != NULL && msg_row_kept(s, t->row, t->gen))
			text_write(s, t->row, t->subject, t->text, t->len);
		free(t->subject);
		free(t->text);
	}
	s->ntexts = 0;
	s->texts_bytes = 0;
}

/* Room for one more waiting text: 0, or -1 (no memory). */
static int
texts_room(struct sqlite_store *s)
{
	struct waiting_text *t;
	size_t		     cap = s->texts_cap ? s->texts_cap * 2 : 64;

	if (s->ntexts < s->texts_cap)
		return 0;
	if ((t = realloc(s->texts, cap * sizeof(*t))) == NULL)
		return -1;
	s->texts = t;
	s->texts_cap = cap;
	return 0;
}

/* The message's text and subject wait for the commit (struct
 * waiting_text), its text handed over; written at once when there is no
 * memory to wait in. */
static void
text_index(struct sqlite_store *s, struct open_msg *m)
{
	const char	   *subject = m->col[COL_SUBJECT];
	struct waiting_text t = { .row = m->row,
		.gen = m->gen,
		.text = m->text,
		.len = m->tlen };

	if ((m->tlen == 0 && subject == NULL) ||
	    !msg_row_kept(s, m->row, m->gen))
		return;
	if (s->texts_bytes + m->tlen > TEXTS_WAITING_BYTES)
		texts_write_waiting(s);
	if (texts_room(s) != 0 ||
	    (subject != NULL && (t.subject = strdup(subject)) == NULL)) {
		text_write(s, m->row, subject, m->text, m->tlen);
		return;
	}
	s->texts[s->ntexts++] = t;
	s->texts_bytes += m->tlen;
	m->text = NULL; /* the waiting text's now */
	m->tlen = m->tcap = 0;
}

/* Bytes the capture lost in one direction: the message crossing that
 * way is incomplete by as much. */
void
msgs_gap(struct sqlite_store *s, uint64_t flow_id, enum md_dir dir,
    uint64_t missing)
{
	for (struct md_txnode *n = *md_tx_chain(&s->msgs, flow_id); n != NULL;
	     n = n->next) {
		struct open_msg *m = (struct open_msg *)n;

		if (n->flow_id != flow_id || m->dir != dir)
			continue;
		m->gap += missing;
		for (int k = 0; k < MD_PART_KINDS; k++)
			an_part_gap(m->part[k].an);
	}
}

void
msgs_settle(struct sqlite_store *s, int wait)
{
	an_deliver(s->an, wait);
}

/* An end whose row will not be written: the log is gone. */
static void
msgs_abandon(void *arg, void *owner, int is_msg)
{
	struct sqlite_store *s = arg;

	if (is_msg) {
		((struct open_msg *)owner)->an = NULL; /* the stage's */
		open_msg_free(owner);
		return;
	}
	part_free(&((struct part_end *)owner)->part);
	if (owner != &s->part_now)
		free(owner);
}

/* At close, what a dissector left open (only after a bug of its own),
 * and the ends whose rows were not written. */
void
msgs_free_all(struct sqlite_store *s)
{
	struct md_txnode *n;

	while ((n = md_tx_pop_any(&s->msgs)) != NULL)
		open_msg_free((struct open_msg *)n);
	if (s->an != NULL)
		an_abandon(s->an, msgs_abandon);
}
