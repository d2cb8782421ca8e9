/* \summary: SQLite store: the stats' sums of the writer's own rows */
/*
 * The writer's connection runs with the log's triggers off (sqlite_
 * hostsums.c says why), so it keeps the stat_ tables (sqlite_stats.c)
 * itself.  Its statements change a message's row in several steps (its
 * row, its header, its end; a REPLACE displaces an older one; an IMAP
 * piece is found out after), and each step would need the row as it
 * was.  Instead a message row is remembered the first time a
 * transaction touches it: its share as it was then (read, unless the
 * writer has just made it) is taken away at once, and its share as it
 * is at the commit (read again, by its key) is added just before the
 * COMMIT.  What changed in between, by whatever statement, is then in
 * the sums exactly once; a row a REPLACE took away reads as none.  The
 * sums of a commit wait in memory, a delta for each group (a protocol,
 * a server, a sender, an hour...), and go into the tables in that
 * transaction: a rolled-back one takes them along.
 *
 * The rest is simpler.  A session is inserted with all that its share
 * is made of but its TLS, which only its end changes: it is summed from
 * what the writer bound, and its TLS's change at the end.  A login or
 * an anomaly never changes once inserted: read back, summed.
 *
 * Cost on small mail: a read of each message at its commit, and an
 * upsert for each group a commit changed (a sender and a recipient for
 * most messages).
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_priv.h"

enum {
	SS_MESSAGE,	/* a message's share (none for a piece) */
	SS_MESSAGES_OF, /* the rows of a session's tx */
	SS_PROTO,	/* a session's protocol */
	SS_HOUR,	/* an hour C does not make (stats_hour) */
	SS_AUTH,	/* a login's share (none without its session) */
	SS_ANOMALY,	/* an anomaly's */
	SS_COUNT_OF
};

/* The groups, each with the statement that adds a delta to its row and
 * the one that takes the row away once nothing is left in it. */
enum tally_kind {
	T_PROTO,
	T_SERVER,
	T_KIND,
	T_SENDER,
	T_RCPT,
	T_HOUR,
	T_AUTH,
	T_ANOMALY,
	T_KINDS
};

/* ?1, ?2, ?11: the group's keys; ?3 a server's port; ?4..?10 its deltas */
static const char *const tally_sql[T_KINDS][2] = {
	[T_PROTO] = { "INSERT INTO stat_protos VALUES (?1, ?4, ?5, ?6)"
		      " ON CONFLICT (proto) DO UPDATE SET"
		      " sessions = sessions + excluded.sessions,"
		      " tls = tls + excluded.tls,"
		      " midstream = midstream + excluded.midstream",
	    "DELETE FROM stat_protos WHERE proto = ?1 AND sessions <= 0" },
	[T_SERVER] = { "INSERT INTO stat_servers VALUES (?1, ?3, ?2, ?4)"
		       " ON CONFLICT (ip, port, proto) DO UPDATE SET"
		       " sessions = sessions + excluded.sessions",
	    "DELETE FROM stat_servers WHERE ip = ?1 AND port = ?3"
	    " AND proto = ?2 AND sessions <= 0" },
	[T_KIND] = { "INSERT INTO stat_kinds VALUES (?1, ?2, ?4, ?5, ?6, ?7,"
		     " ?8, ?9, ?10)"
		     " ON CONFLICT (proto, method) DO UPDATE SET"
		     " messages = messages + excluded.messages,"
		     " complete = complete + excluded.complete,"
		     " sized = sized + excluded.sized,"
		     " bytes = bytes + excluded.bytes,"
		     " attachments = attachments + excluded.attachments,"
		     " no_from = no_from + excluded.no_from,"
		     " no_to = no_to + excluded.no_to",
	    "DELETE FROM stat_kinds WHERE proto = ?1 AND method = ?2"
	    " AND messages <= 0" },
	[T_SENDER] = { "INSERT INTO stat_senders VALUES (?1, ?4)"
		       " ON CONFLICT (addr) DO UPDATE SET"
		       " messages = messages + excluded.messages",
	    "DELETE FROM stat_senders WHERE addr = ?1 AND messages <= 0" },
	[T_RCPT] = { "INSERT INTO stat_recipients VALUES (?1, ?4)"
		     " ON CONFLICT (addr) DO UPDATE SET"
		     " messages = messages + excluded.messages",
	    "DELETE FROM stat_recipients WHERE addr = ?1 AND messages <= 0" },
	[T_HOUR] = { "INSERT INTO stat_hours VALUES (?1, ?2, ?4, ?5)"
		     " ON CONFLICT (hour, proto) DO UPDATE SET"
		     " sessions = sessions + excluded.sessions,"
		     " messages = messages + excluded.messages",
	    "DELETE FROM stat_hours WHERE hour = ?1 AND proto = ?2"
	    " AND sessions <= 0 AND messages <= 0" },
	[T_AUTH] = { "INSERT INTO stat_auths VALUES (?1, ?2, ?11, ?4, ?5)"
		     " ON CONFLICT (proto, mechanism, outcome) DO UPDATE SET"
		     " attempts = attempts + excluded.attempts,"
		     " in_clear = in_clear + excluded.in_clear",
	    "DELETE FROM stat_auths WHERE proto = ?1 AND mechanism = ?2"
	    " AND outcome = ?11 AND attempts <= 0" },
	[T_ANOMALY] = { "INSERT INTO stat_anomalies VALUES (?1, ?4)"
			" ON CONFLICT (name) DO UPDATE SET"
			" count = count + excluded.count",
	    "DELETE FROM stat_anomalies WHERE name = ?1 AND count <= 0" },
};

static const char *const read_sql[SS_COUNT_OF] = {
	[SS_MESSAGE] =
	    "SELECT proto, method, complete, size, attachments,"
	    " from_addr, to_addrs, " SQLITE_STATS_HOUR(
		"begin_ts") " FROM messages WHERE id = ? AND partial = 0",
	[SS_MESSAGES_OF] = ("SELECT id, partial = 0 FROM messages"
			    " WHERE session_id = ? AND tx = ?"),
	[SS_PROTO] = "SELECT proto FROM sessions WHERE id = ?",
	[SS_HOUR] = "SELECT " SQLITE_STATS_HOUR("?"),
	[SS_AUTH] = "SELECT s.proto, a.mechanism, a.outcome, a.password IS NOT"
		    " NULL FROM auth a JOIN sessions s ON s.id = a.session_id"
		    " WHERE a.id = ?",
	[SS_ANOMALY] = "SELECT name FROM anomalies WHERE id = ?",
};

/* A key's value as the log holds it: TEXT or BLOB bytes. */
struct key {
	const char *p; /* NULL: none */
	size_t	    len;
	int	    blob;
};

/* A group: its kind, up to three keys and a server's port. */
#define GROUP_KEYS 3
struct group {
	int	   kind;
	struct key k[GROUP_KEYS];
	int64_t	   port;
};

/* A group's delta since the last commit: at most a kind's counts. */
#define TALLY_COUNTS 7
struct tally {
	int	     used;
	struct group g;
	char	    *own[GROUP_KEYS]; /* the keys' bytes, copied */
	int64_t	     c[TALLY_COUNTS];
};

/* Past these, a burst's tables are given back once written. */
#define TALLIES_KEPT 16384
#define ROWS_KEPT    65536

struct stat_sums {
	sqlite3_stmt *read[SS_COUNT_OF];
	sqlite3_stmt *add[T_KINDS], *gone[T_KINDS];
	struct tally *slot; /* open addressing */
	size_t	      nslots, used;
	int64_t	     *rows; /* the messages touched, by rowid; 0: free */
	size_t	      nrows, rows_used;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211u;
	return h;
}

static uint64_t
group_hash(const struct group *g)
{
	uint64_t h = fnv(1469598103934665603u, &g->kind, sizeof(g->kind));

	for (int i = 0; i < GROUP_KEYS; i++)
		h = fnv(h ^ (uint64_t)g->k[i].blob, g->k[i].p, g->k[i].len) *
		    31;
	return fnv(h, &g->port, sizeof(g->port));
}

static int
key_is(const struct key *a, const struct key *b)
{
	return a->blob == b->blob && a->len == b->len &&
	    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int
group_is(const struct group *a, const struct group *b)
{
	if (a->kind != b->kind || a->port != b->port)
		return 0;
	for (int i = 0; i < GROUP_KEYS; i++)
		if (!key_is(&a->k[i], &b->k[i]))
			return 0;
	return 1;
}

static struct tally *
tally_place(struct tally *slot, size_t nslots, const struct group *g)
{
	size_t i = (size_t)group_hash(g) & (nslots - 1);

	while (slot[i].used && !group_is(&slot[i].g, g))
		i = (i + 1) & (nslots - 1);
	return &slot[i];
}

/* Room for one more group (at most half the slots used); -1: none. */
static int
tallies_room(struct stat_sums *t)
{
	size_t	      n = t->nslots ? 2 * t->nslots : 64;
	struct tally *slot;

	if (t->nslots > 0 && 2 * (t->used + 1) <= t->nslots)
		return 0;
	if ((slot = calloc(n, sizeof(*slot))) == NULL)
		return -1;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slot[i].used)
			*tally_place(slot, n, &t->slot[i].g) = t->slot[i];
	free(t->slot);
	t->slot = slot;
	t->nslots = n;
	return 0;
}

static void
tally_free(struct tally *d)
{
	for (int i = 0; i < GROUP_KEYS; i++)
		free(d->own[i]);
}

/* The group's delta, made when new, its keys copied; NULL: no memory
 * (not counted). */
static struct tally *
tally_of(struct stat_sums *t, const struct group *g)
{
	struct tally *d;

	if (tallies_room(t) != 0)
		return NULL;
	d = tally_place(t->slot, t->nslots, g);
	if (d->used)
		return d;
	d->g = *g;
	for (int i = 0; i < GROUP_KEYS; i++) {
		if (g->k[i].p == NULL)
			continue;
		if ((d->own[i] = malloc(g->k[i].len + 1)) == NULL) {
			tally_free(d);
			*d = (struct tally) { 0 };
			return NULL;
		}
		memcpy(d->own[i], g->k[i].p, g->k[i].len);
		d->g.k[i].p = d->own[i];
	}
	d->used = 1;
	t->used++;
	return d;
}

/* Column i of a row read, as a key (none for NULL). */
static struct key
key_at(sqlite3_stmt *st, int i)
{
	struct key k = { 0 };
	int	   type = sqlite3_column_type(st, i);

	if (type == SQLITE_NULL)
		return k;
	k.blob = type == SQLITE_BLOB;
	k.p = k.blob ? sqlite3_column_blob(st, i) :
		       (const void *)sqlite3_column_text(st, i);
	k.len = (size_t)sqlite3_column_bytes(st, i);
	if (k.p == NULL) /* an empty BLOB */
		k.p = "";
	return k;
}

/* The group of kind keyed k1, k2, k3 (NULL: none) and port gets by. */
static void
tally_add(struct stat_sums *t, int kind, const struct key *k1,
    const struct key *k2, const struct key *k3, int64_t port, const int64_t *by,
    int n)
{
	struct group  g = { .kind = kind, .port = port };
	struct tally *d;

	g.k[0] = *k1;
	if (k2 != NULL)
		g.k[1] = *k2;
	if (k3 != NULL)
		g.k[2] = *k3;
	d = tally_of(t, &g);
	for (int i = 0; d != NULL && i < n; i++)
		d->c[i] += by[i];
}

/* A message's share, read from st, into the deltas times sign. */
static void
message_share(struct stat_sums *t, sqlite3_stmt *st, int sign)
{
	struct key proto = key_at(st, 0), method = key_at(st, 1),
		   from = key_at(st, 5), to = key_at(st, 6),
		   hour = key_at(st, 7);
	int	sized = sqlite3_column_type(st, 3) != SQLITE_NULL;
	int64_t by[TALLY_COUNTS] = { sign, sign * sqlite3_column_int64(st, 2),
		sign * sized, sign * sqlite3_column_int64(st, 3),
		sign * sqlite3_column_int64(st, 4), sign * (from.p == NULL),
		sign * (to.p == NULL) };

	tally_add(t, T_KIND, &proto, &method, NULL, 0, by, TALLY_COUNTS);
	if (from.p != NULL)
		tally_add(t, T_SENDER, &from, NULL, NULL, 0, by, 1);
	if (to.p != NULL)
		tally_add(t, T_RCPT, &to, NULL, NULL, 0, by, 1);
	tally_add(t, T_HOUR, &hour, &proto, NULL, 0, (int64_t[2]) { 0, sign },
	    2);
}

/* The message's share times sign; none when it is not in the log, or
 * is a piece. */
static void
row_share(struct stat_sums *t, int64_t id, int sign)
{
	sqlite3_stmt *st = t->read[SS_MESSAGE];

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		message_share(t, st, sign);
	sqlite3_reset(st);
}

static int64_t *
row_place(int64_t *rows, size_t n, int64_t id)
{
	size_t i = (size_t)((uint64_t)id * 0x9e3779b97f4a7c15u >> 17) & (n - 1);

	while (rows[i] != 0 && rows[i] != id)
		i = (i + 1) & (n - 1);
	return &rows[i];
}

/* Room for one more touched row; -1: no memory. */
static int
rows_room(struct stat_sums *t)
{
	size_t	 n = t->nrows ? 2 * t->nrows : 256;
	int64_t *rows;

	if (t->nrows > 0 && 2 * (t->rows_used + 1) <= t->nrows)
		return 0;
	if ((rows = calloc(n, sizeof(*rows))) == NULL)
		return -1;
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i] != 0)
			*row_place(rows, n, t->rows[i]) = t->rows[i];
	free(t->rows);
	t->rows = rows;
	t->nrows = n;
	return 0;
}

/* Message id remembered for the commit, its share as it is now taken
 * away first unless the writer has just made it (fresh).  Out of
 * memory, what waits is written first. */
static void
row_touch(struct sqlite_store *s, int64_t id, int fresh)
{
	struct stat_sums *t = s->tally;
	int64_t		 *at;

	if (t == NULL || id <= 0)
		return;
	if (rows_room(t) != 0) {
		stats_write_waiting(s);
		if (rows_room(t) != 0)
			return; /* not counted: the sums are short by it */
	}
	at = row_place(t->rows, t->nrows, id);
	if (*at != 0)
		return;
	*at = id;
	t->rows_used++;
	if (!fresh)
		row_share(t, id, -1);
}

/* The hour of a time as SQLITE_STATS_HOUR has it: C's where it can. */
static void
stats_hour(struct stat_sums *t, double ts, char *out, size_t len)
{
	sqlite3_stmt *st = t->read[SS_HOUR];

	if (sqlite_stats_hour(ts, out, len) == 0)
		return;
	out[0] = '\0';
	sqlite3_bind_double(st, 1, ts);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, len, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
}

/* A session's share, from what its INSERT wrote. */
void
stats_session_begun(struct sqlite_store *s, struct md_bytes proto, int tls,
    int midstream, const char *srv, int port, double start)
{
	struct stat_sums *t = s->tally;
	char		  hour[32];
	struct key	  p = { (const char *)proto.p, proto.len, 0 },
		   ip = { srv, strlen(srv), 0 }, h = { hour, 0, 0 };

	if (t == NULL || proto.p == NULL)
		return;
	stats_hour(t, start, hour, sizeof(hour));
	h.len = strlen(hour);
	tally_add(t, T_PROTO, &p, NULL, NULL, 0,
	    (int64_t[3]) { 1, tls, midstream }, 3);
	tally_add(t, T_SERVER, &ip, &p, NULL, port, (int64_t[1]) { 1 }, 1);
	tally_add(t, T_HOUR, &h, &p, NULL, 0, (int64_t[2]) { 1, 0 }, 2);
	stats_at_once(s);
}

void
stats_session_tls(struct sqlite_store *s, int64_t sid, int by)
{
	struct stat_sums *t = s->tally;
	sqlite3_stmt	 *st;

	if (t == NULL || by == 0)
		return;
	st = t->read[SS_PROTO];
	sqlite3_bind_int64(st, 1, sid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct key p = key_at(st, 0);

		if (p.p != NULL)
			tally_add(t, T_PROTO, &p, NULL, NULL, 0,
			    (int64_t[2]) { 0, by }, 2);
	}
	sqlite3_reset(st);
	stats_at_once(s);
}

/* A login or an anomaly the writer has just inserted (never changed
 * after): its share, read back, in the sums now. */
static void
row_added(struct sqlite_store *s, int which, int64_t id)
{
	struct stat_sums *t = s->tally;
	sqlite3_stmt	 *st;

	if (t == NULL)
		return;
	st = t->read[which];
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct key k0 = key_at(st, 0);

		if (which == SS_AUTH) {
			struct key mech = key_at(st, 1), out = key_at(st, 2);

			tally_add(t, T_AUTH, &k0, &mech, &out, 0,
			    (int64_t[2]) { 1, sqlite3_column_int64(st, 3) }, 2);
		} else
			tally_add(t, T_ANOMALY, &k0, NULL, NULL, 0,
			    (int64_t[1]) { 1 }, 1);
	}
	sqlite3_reset(st);
	stats_at_once(s);
}

void
stats_auth_added(struct sqlite_store *s, int64_t id)
{
	row_added(s, SS_AUTH, id);
}

void
stats_anomaly_added(struct sqlite_store *s, int64_t id)
{
	row_added(s, SS_ANOMALY, id);
}

void
stats_message_made(struct sqlite_store *s, int64_t id)
{
	row_touch(s, id, 1);
	stats_at_once(s);
}

void
stats_message_touch(struct sqlite_store *s, int64_t id)
{
	row_touch(s, id, 0);
}

int64_t
stats_messages_touch(struct sqlite_store *s, int64_t sid, int64_t tx)
{
	sqlite3_stmt *st;
	int64_t	      whole = 0;

	if (s->tally == NULL)
		return 0;
	st = s->tally->read[SS_MESSAGES_OF];
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, tx);
	while (sqlite3_step(st) == SQLITE_ROW) {
		row_touch(s, sqlite3_column_int64(st, 0), 0);
		whole += sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return whole;
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_key(sqlite3_stmt *st, int i, const struct key *k)
{
	if (k->p == NULL)
		sqlite3_bind_null(st, i);
	else if (k->blob)
		sqlite3_bind_blob(st, i, k->p, (int)k->len, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, i, k->p, (int)k->len, SQLITE_STATIC);
}

/* One group's delta into its table; its row gone when nothing is left
 * (only a delta that took some away can leave nothing). */
static int
tally_write(struct stat_sums *t, const struct tally *d)
{
	int less = 0, any = 0;

	for (int i = 0; i < TALLY_COUNTS; i++) {
		less |= d->c[i] < 0;
		any |= d->c[i] != 0;
	}
	if (!any)
		return 0;
	for (int g = 0; g < 1 + less; g++) {
		sqlite3_stmt *st = g ? t->gone[d->g.kind] : t->add[d->g.kind];

		bind_key(st, 1, &d->g.k[0]);
		bind_key(st, 2, &d->g.k[1]);
		bind_key(st, 11, &d->g.k[2]);
		sqlite3_bind_int64(st, 3, d->g.port);
		for (int i = 0; i < TALLY_COUNTS && !g; i++)
			sqlite3_bind_int64(st, 4 + i, d->c[i]);
		if (step_done(st) != 0)
			return -1;
	}
	return 0;
}

static void
tallies_clear(struct stat_sums *t)
{
	for (size_t i = 0; i < t->nslots; i++) {
		tally_free(&t->slot[i]);
	}
	if (t->nslots > TALLIES_KEPT) {
		free(t->slot);
		t->slot = NULL;
		t->nslots = 0;
	} else if (t->slot != NULL)
		memset(t->slot, 0, t->nslots * sizeof(*t->slot));
	t->used = 0;
	if (t->nrows > ROWS_KEPT) {
		free(t->rows);
		t->rows = NULL;
		t->nrows = 0;
	} else if (t->rows != NULL)
		memset(t->rows, 0, t->nrows * sizeof(*t->rows));
	t->rows_used = 0;
}

void
stats_write_waiting(struct sqlite_store *s)
{
	struct stat_sums *t = s->tally;
	int		  failed = 0;

	if (t == NULL || (t->rows_used == 0 && t->used == 0))
		return;
	/* each touched message's share as it is now (no log: forgotten) */
	for (size_t i = 0; s->db != NULL && i < t->nrows; i++)
		if (t->rows[i] != 0)
			row_share(t, t->rows[i], 1);
	for (size_t i = 0; s->db != NULL && i < t->nslots; i++)
		if (t->slot[i].used && tally_write(t, &t->slot[i]) != 0)
			failed = 1;
	if (failed)
		db_fail(s, "the stats' sums");
	tallies_clear(t);
}

void
stats_at_once(struct sqlite_store *s)
{
	if (s->tally != NULL && s->db != NULL && sqlite3_get_autocommit(s->db))
		stats_write_waiting(s);
}

void
stats_forget(struct sqlite_store *s)
{
	if (s->tally != NULL)
		tallies_clear(s->tally);
}

int
stats_writer_open(struct sqlite_store *s, char *err, size_t errlen)
{
	struct stat_sums *t = s->tally;

	if (t == NULL && (t = s->tally = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (db_prepare_each(s->db, read_sql, t->read, SS_COUNT_OF, err,
		errlen) != 0)
		goto fail;
	for (int g = 0; g < 2; g++) {
		const char *sql[T_KINDS];

		for (int k = 0; k < T_KINDS; k++)
			sql[k] = tally_sql[k][g];
		if (db_prepare_each(s->db, sql, g ? t->gone : t->add, T_KINDS,
			err, errlen) != 0)
			goto fail;
	}
	return 0;
fail:
	stats_writer_close(s);
	return -1;
}

void
stats_writer_close(struct sqlite_store *s)
{
	struct stat_sums *t = s->tally;

	if (t == NULL)
		return;
	db_finalize_each(t->read, SS_COUNT_OF);
	db_finalize_each(t->add, T_KINDS);
	db_finalize_each(t->gone, T_KINDS);
}

void
stats_writer_free(struct sqlite_store *s)
{
	if (s->tally == NULL)
		return;
	stats_writer_close(s);
	tallies_clear(s->tally);
	free(s->tally->slot);
	free(s->tally->rows);
	free(s->tally);
	s->tally = NULL;
}
