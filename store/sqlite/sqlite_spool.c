/* \summary: SQLite store: the spool, a log whose changes ship elsewhere */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_priv.h"
#include "store/sqlite/sqlite_spool.h"

#define SPOOL_MAX_COLS 64

/* A table of the log and what its outbox needs to know of it. */
struct spool_table {
	char	   *name;
	char	   *col[SPOOL_MAX_COLS]; /* "rowid" first when keyless */
	int	    ncol;
	const char *key[4];
	int	    nkey;
	int	    rowid_key; /* no declared key: the rowid is */
};

struct spool {
	sqlite3		  *db;
	int		   owned; /* opened here, closed here */
	struct spool_table t[24];
	int		   nt;
	char		   error[512];
};

static int
fail(struct spool *sp, const char *what)
{
	snprintf(sp->error, sizeof(sp->error), "spool: %.120s: %.300s", what,
	    sqlite3_errmsg(sp->db));
	return -1;
}

static int
exec(struct spool *sp, const char *sql)
{
	return sqlite3_exec(sp->db, sql, NULL, NULL, NULL) == SQLITE_OK ?
	    0 :
	    fail(sp, sql);
}

/* Columns and key of a table, as PRAGMA table_info gives them. */
static int
describe(struct spool *sp, struct spool_table *t)
{
	sqlite3_stmt *st;
	char	      sql[128];
	const char   *pk[4] = { NULL };
	int	      rc;

	snprintf(sql, sizeof(sql), "PRAGMA main.table_info(%s)", t->name);
	if (sqlite3_prepare_v2(sp->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(sp, sql);
	t->ncol = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    t->ncol < SPOOL_MAX_COLS - 1) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int	    k = sqlite3_column_int(st, 5);

		if ((t->col[t->ncol] = strdup(name)) == NULL)
			break;
		if (k >= 1 && k <= 4)
			pk[k - 1] = t->col[t->ncol];
		t->ncol++;
	}
	sqlite3_finalize(st);
	if (t->ncol == 0) {
		snprintf(sp->error, sizeof(sp->error),
		    "spool: no table %s in the log", t->name);
		return -1;
	}
	for (t->nkey = 0; t->nkey < 4 && pk[t->nkey] != NULL; t->nkey++)
		t->key[t->nkey] = pk[t->nkey];
	if (t->nkey == 0) { /* keyless: the rowid, as column 0 */
		memmove(t->col + 1, t->col, (size_t)t->ncol * sizeof(*t->col));
		if ((t->col[0] = strdup("rowid")) == NULL)
			return -1;
		t->ncol++;
		t->key[0] = t->col[0];
		t->nkey = 1;
		t->rowid_key = 1;
	}
	return 0;
}

/* "NEW.a, NEW.b" for the key of t (prefix NEW or OLD), or "a, b". */
static void
key_list(const struct spool_table *t, const char *prefix, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < t->nkey; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s",
		    k ? ", " : "", prefix, prefix[0] ? "." : "", t->key[k]);
}

/* The outbox tables (kept in the file) of t: keys, repeated when a row
 * changes twice (a plain INSERT cannot conflict; see make_triggers). */
static int
make_outbox(struct spool *sp, const struct spool_table *t)
{
	char keys[256], sql[1024];

	key_list(t, "", keys, sizeof(keys));
	snprintf(sql, sizeof(sql),
	    "CREATE TABLE IF NOT EXISTS main.ob_%s (%s);"
	    "CREATE TABLE IF NOT EXISTS main.ob_gone_%s (k INTEGER);",
	    t->name, keys, t->name);
	return exec(sp, sql);
}

/*
 * Triggers (this connection's only) that fill the outbox of t.  The
 * outbox has no key: the conflict clause of the statement that fires a
 * trigger (an upsert, say) overrides the trigger's own, so an INSERT OR
 * IGNORE there can fail, and testing for the key first costs a scan a
 * row.  Repeats are folded when the outbox is read.
 */
static int
make_triggers(struct spool *sp, const struct spool_table *t)
{
	static const char *const when =
	    "WHEN NOT EXISTS (SELECT 1 FROM temp.ob_quiet)";
	char news[256], olds[256], sql[2048];

	key_list(t, "NEW", news, sizeof(news));
	key_list(t, "OLD", olds, sizeof(olds));
	snprintf(sql, sizeof(sql),
	    "CREATE TEMP TRIGGER ob_%s_i AFTER INSERT ON main.%s %s BEGIN"
	    " INSERT INTO ob_%s VALUES (%s); END;"
	    "CREATE TEMP TRIGGER ob_%s_u AFTER UPDATE ON main.%s %s BEGIN"
	    " INSERT INTO ob_%s VALUES (%s); END;",
	    t->name, t->name, when, t->name, news, t->name, t->name, when,
	    t->name, news);
	if (exec(sp, sql) != 0)
		return -1;
	if (t->nkey != 1)
		return 0; /* replaced in place: an update for the receiver */
	/* a row replaced under another key (messages: a transaction's
	 * number reused) is a row gone */
	snprintf(sql, sizeof(sql),
	    "CREATE TEMP TRIGGER ob_%s_d AFTER DELETE ON main.%s %s BEGIN"
	    " INSERT INTO ob_gone_%s VALUES (%s); END;",
	    t->name, t->name, when, t->name, olds);
	return exec(sp, sql);
}

/* Rows written before the triggers were (the run's own row). */
static int
note_existing(struct spool *sp, const struct spool_table *t)
{
	char keys[256], sql[640];

	key_list(t, "", keys, sizeof(keys));
	snprintf(sql, sizeof(sql),
	    "INSERT INTO main.ob_%s SELECT %s FROM main.%s", t->name, keys,
	    t->name);
	return exec(sp, sql);
}

/* FTS5 tables take no triggers: the spool's text is a plain table. */
static int
plain_message_text(struct spool *sp)
{
	return exec(sp,
	    "DROP TABLE IF EXISTS main.message_text;"
	    " CREATE TABLE main.message_text (subject TEXT, body TEXT);");
}

static struct spool *
spool_new(sqlite3 *db, int owned, const char *const *tables, int ntables,
    char *err, size_t errlen)
{
	struct spool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL || ntables > (int)(sizeof(sp->t) / sizeof(sp->t[0]))) {
		free(sp);
		snprintf(err, errlen, "spool: out of memory");
		return NULL;
	}
	sp->db = db;
	sp->owned = owned;
	for (int i = 0; i < ntables; i++)
		if ((sp->t[sp->nt++].name = strdup(tables[i])) == NULL) {
			spool_close(sp);
			snprintf(err, errlen, "spool: out of memory");
			return NULL;
		}
	if (exec(sp,
		"CREATE TABLE IF NOT EXISTS main.spool_meta (key TEXT PRIMARY KEY,"
		" value TEXT)") != 0) {
		snprintf(err, errlen, "%s", sp->error);
		spool_close(sp);
		return NULL;
	}
	return sp;
}

struct spool *
spool_attach(void *sqlite_store, const char *const *tables, int ntables,
    char *err, size_t errlen)
{
	struct sqlite_store *s = sqlite_store;
	struct spool	    *sp;
	int		     ok;

	if ((sp = spool_new(s->db, 0, tables, ntables, err, errlen)) == NULL)
		return NULL;
	ok = exec(sp,
		 "PRAGMA recursive_triggers = ON;"
		 " CREATE TEMP TABLE IF NOT EXISTS ob_quiet (x);") == 0;
	for (int i = 0; ok && i < sp->nt; i++) {
		if (strcmp(sp->t[i].name, "message_text") == 0)
			ok = plain_message_text(sp) == 0;
		ok = ok && describe(sp, &sp->t[i]) == 0 &&
		    make_outbox(sp, &sp->t[i]) == 0 &&
		    make_triggers(sp, &sp->t[i]) == 0 &&
		    note_existing(sp, &sp->t[i]) == 0;
	}
	if (!ok) {
		snprintf(err, errlen, "%s", sp->error);
		spool_close(sp);
		return NULL;
	}
	return sp;
}

struct spool *
spool_open_file(const char *path, const char *const *tables, int ntables,
    char *err, size_t errlen)
{
	sqlite3	     *db;
	struct spool *sp;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if ((sp = spool_new(db, 1, tables, ntables, err, errlen)) == NULL) {
		sqlite3_close(db);
		return NULL;
	}
	for (int i = 0; i < sp->nt; i++)
		if (describe(sp, &sp->t[i]) != 0 ||
		    make_outbox(sp, &sp->t[i]) != 0) {
			snprintf(err, errlen, "%s: %s", path, sp->error);
			spool_close(sp);
			return NULL;
		}
	return sp;
}

static void
value_of(sqlite3_stmt *st, int c, struct spool_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_INTEGER:
		v->type = SPOOL_INT;
		v->i = sqlite3_column_int64(st, c);
		break;
	case SQLITE_FLOAT:
		v->type = SPOOL_REAL;
		v->r = sqlite3_column_double(st, c);
		break;
	case SQLITE_TEXT:
		v->type = SPOOL_TEXT;
		v->p = (const char *)sqlite3_column_text(st, c);
		v->len = (size_t)sqlite3_column_bytes(st, c);
		break;
	case SQLITE_BLOB:
		v->type = SPOOL_BLOB;
		v->p = sqlite3_column_blob(st, c);
		v->len = (size_t)sqlite3_column_bytes(st, c);
		break;
	default:
		v->type = SPOOL_NULL;
	}
}

static int
drain_gone(struct spool *sp, const struct spool_table *t,
    const struct spool_out *out)
{
	sqlite3_stmt *st;
	char	      sql[128];
	int64_t	     *keys = NULL;
	size_t	      n = 0, cap = 0;
	int	      rc = 0;

	if (t->nkey != 1)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT DISTINCT k FROM main.ob_gone_%s",
	    t->name);
	if (sqlite3_prepare_v2(sp->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(sp, sql);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *k = realloc(keys,
			    (cap = cap ? 2 * cap : 64) * sizeof(*k));

			if (k == NULL) {
				rc = -1;
				break;
			}
			keys = k;
		}
		keys[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc == 0 && n > 0)
		rc = out->gone(out->arg, t->name, t->key[0], keys, n);
	free(keys);
	return rc;
}

/*
 * SELECT what FROM the rows of t whose keys wait in the outbox (table
 * alias t).  The outbox drives the join (CROSS JOIN keeps that order):
 * a scan of the table for each of its few changed rows would grow with
 * the log.
 */
static int
prepare_changed(struct spool *sp, const struct spool_table *t, const char *what,
    sqlite3_stmt **st)
{
	char   sql[1024], on[512], keys[256];
	size_t n = 0;

	on[0] = '\0';
	for (int k = 0; k < t->nkey; k++)
		n += (size_t)snprintf(on + n, sizeof(on) - n, "%st.%s = o.%s",
		    k ? " AND " : "", t->key[k], t->key[k]);
	key_list(t, "", keys, sizeof(keys));
	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM (SELECT DISTINCT %s FROM main.ob_%s) o"
	    " CROSS JOIN main.%s t ON %s",
	    what, keys, t->name, t->name, on);
	if (sqlite3_prepare_v2(sp->db, sql, -1, st, NULL) != SQLITE_OK)
		return fail(sp, sql);
	return 0;
}

static int
drain_rows(struct spool *sp, const struct spool_table *t,
    const struct spool_out *out)
{
	struct spool_value v[SPOOL_MAX_COLS];
	sqlite3_stmt	  *st;
	int		   rc = 0, started = 0;

	if (prepare_changed(sp, t, t->rowid_key ? "t.rowid, t.*" : "t.*",
		&st) != 0)
		return -1;
	while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = 0;
		if (!started) {
			started = 1;
			rc = out->table(out->arg, t->name,
			    (const char *const *)t->col, t->ncol, t->key,
			    t->nkey);
		}
		for (int c = 0; rc == 0 && c < t->ncol; c++)
			value_of(st, c, &v[c]);
		if (rc == 0)
			rc = out->row(out->arg, v);
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc != 0 && rc != -1)
		rc = fail(sp, t->name);
	sqlite3_finalize(st);
	if (rc == 0 && started)
		rc = out->end(out->arg, t->name);
	return rc;
}

int
spool_distinct(struct spool *sp, const char *table, const char *expr,
    void (*each)(void *arg, const char *value), void *arg)
{
	const struct spool_table *t = NULL;
	sqlite3_stmt		 *st;
	char			  what[256];

	for (int i = 0; i < sp->nt; i++)
		if (strcmp(sp->t[i].name, table) == 0)
			t = &sp->t[i];
	if (t == NULL)
		return -1;
	snprintf(what, sizeof(what), "DISTINCT %s", expr);
	if (prepare_changed(sp, t, what, &st) != 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_text(st, 0) != NULL)
			each(arg, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

int
spool_drain(struct spool *sp, const struct spool_out *out)
{
	/* deletions first: a key replaced and then written again ends as
	 * the row written */
	for (int i = 0; i < sp->nt; i++)
		if (drain_gone(sp, &sp->t[i], out) != 0)
			return -1;
	for (int i = 0; i < sp->nt; i++)
		if (drain_rows(sp, &sp->t[i], out) != 0)
			return -1;
	return 0;
}

int
spool_forget(struct spool *sp)
{
	char sql[256];

	/* the small messages' bytes went with the rows (a receiver that
	 * takes them; for another, the spool has none) */
	if (exec(sp, "DELETE FROM main.blob_bytes") != 0)
		return -1;
	for (int i = 0; i < sp->nt; i++) {
		snprintf(sql, sizeof(sql),
		    "DELETE FROM main.ob_%s; DELETE FROM main.ob_gone_%s;",
		    sp->t[i].name, sp->t[i].name);
		if (exec(sp, sql) != 0)
			return -1;
	}
	return 0;
}

int64_t
spool_used_bytes(struct spool *sp)
{
	return (db_pragma(sp->db, "PRAGMA main.page_count", 0) -
		   db_pragma(sp->db, "PRAGMA main.freelist_count", 0)) *
	    db_pragma(sp->db, "PRAGMA main.page_size", 0);
}

int64_t
spool_pending(struct spool *sp)
{
	int64_t n = 0;

	for (int i = 0; i < sp->nt; i++) {
		sqlite3_stmt *st;
		char	      sql[160];

		snprintf(sql, sizeof(sql),
		    "SELECT (SELECT count(*) FROM main.ob_%s) +"
		    " (SELECT count(*) FROM main.ob_gone_%s)",
		    sp->t[i].name, sp->t[i].name);
		if (sqlite3_prepare_v2(sp->db, sql, -1, &st, NULL) != SQLITE_OK)
			continue;
		if (sqlite3_step(st) == SQLITE_ROW)
			n += sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return n;
}

int
spool_meta_set(struct spool *sp, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int	      rc;

	if (sqlite3_prepare_v2(sp->db,
		"INSERT OR REPLACE INTO main.spool_meta VALUES (?, ?)", -1, &st,
		NULL) != SQLITE_OK)
		return fail(sp, "spool_meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(sp, "spool_meta");
	sqlite3_finalize(st);
	return rc;
}

int
spool_meta_get(struct spool *sp, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int	      rc = -1;

	if (sqlite3_prepare_v2(sp->db,
		"SELECT value FROM main.spool_meta WHERE key = ?", -1, &st,
		NULL) != SQLITE_OK)
		return fail(sp, "spool_meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) {
		snprintf(buf, len, "%s", sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

const char *
spool_error(const struct spool *sp)
{
	return sp->error;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	for (int i = 0; i < sp->nt; i++) {
		free(sp->t[i].name);
		for (int c = 0; c < sp->t[i].ncol; c++)
			free(sp->t[i].col[c]);
	}
	if (sp->owned)
		sqlite3_close(sp->db);
	free(sp);
}

/* Tables whose rows belong to a session, and whether their ids are
 * given by SQLite (the largest is kept, so that ids go on growing). */
static const struct {
	const char *table, *by;
	int	    auto_id;
} session_rows[] = {
	{ "headers",
	    "message_id IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "parts",
	    "message_id IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "urls",
	    "message_id IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "archive_entries",
	    "message_id IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "yara_matches",
	    "message_id IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "message_auth",
	    "message_id IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "message_text",
	    "rowid IN (SELECT id FROM main.messages WHERE"
	    " session_id IN (SELECT id FROM temp.ob_prune))",
	    0 },
	{ "messages", "session_id IN (SELECT id FROM temp.ob_prune)", 1 },
	{ "extensions", "session_id IN (SELECT id FROM temp.ob_prune)", 1 },
	{ "commands", "session_id IN (SELECT id FROM temp.ob_prune)", 0 },
	{ "auth", "session_id IN (SELECT id FROM temp.ob_prune)", 1 },
	{ "transactions", "session_id IN (SELECT id FROM temp.ob_prune)", 0 },
	{ "recipients", "session_id IN (SELECT id FROM temp.ob_prune)", 0 },
	{ "items", "session_id IN (SELECT id FROM temp.ob_prune)", 1 },
	{ "mailboxes", "session_id IN (SELECT id FROM temp.ob_prune)", 0 },
	{ "responses", "session_id IN (SELECT id FROM temp.ob_prune)", 1 },
	{ "anomalies", "session_id IN (SELECT id FROM temp.ob_prune)", 1 },
	{ "tls", "session_id IN (SELECT id FROM temp.ob_prune)", 0 },
	{ "certificates", "session_id IN (SELECT id FROM temp.ob_prune)", 0 },
	{ "sessions", "id IN (SELECT id FROM temp.ob_prune)", 0 },
};

int
spool_prune(struct spool *sp)
{
	char sql[512];
	int  rc;

	if (spool_pending(sp) > 0)
		return 0;
	rc = exec(sp,
	    "INSERT INTO temp.ob_quiet VALUES (1);"
	    " CREATE TEMP TABLE IF NOT EXISTS ob_prune (id INTEGER PRIMARY KEY);"
	    " DELETE FROM temp.ob_prune;"
	    " INSERT INTO temp.ob_prune SELECT id FROM main.sessions"
	    " WHERE end_ts < (SELECT max(coalesce(end_ts, start_ts))"
	    " FROM main.sessions) - 30");
	for (size_t i = 0;
	     rc == 0 && i < sizeof(session_rows) / sizeof(session_rows[0]);
	     i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM main.%s WHERE %s%s%s%s",
		    session_rows[i].table, session_rows[i].by,
		    session_rows[i].auto_id ? " AND rowid < (SELECT max(rowid)"
					      " FROM main." :
					      "",
		    session_rows[i].auto_id ? session_rows[i].table : "",
		    session_rows[i].auto_id ? ")" : "");
		rc = exec(sp, sql);
	}
	/* quiet again or not, the triggers must hear what comes next */
	if (exec(sp, "DELETE FROM temp.ob_quiet") != 0)
		rc = -1;
	return rc;
}
