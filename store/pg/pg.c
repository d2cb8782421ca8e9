/* \summary: PostgreSQL store: the receiver of a spooled store's rows */
/*
 * The rows a spool's commits changed (store/spool/spooled.c, receiver.h) go
 * to the server in one transaction: per table a COPY into a temporary
 * table, then an upsert by the table's key, deletions first.  Replaying
 * a batch is therefore harmless, which is what makes a server that goes
 * away lose nothing.  A run takes its id from the server's sequence;
 * message bytes kept in the spool's blob folder move into the blobs
 * table, once per SHA-256.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/backend.h"
#include "store/pg/pg_priv.h"
#include "pg_schema.h"
#include "store/spool/receiver.h"
#include "dissect/util.h"
#include "store/sqlite/sqlite_spool.h"

/* One drain into one server transaction. */
struct ship {
	PGconn	   *conn;
	int64_t	    run, base; /* the server's run id; ids' offset */
	const char *sensor;
	const char *blob_dir; /* the spool's kept bytes, or NULL */
	/* the table being copied */
	char		table[64];
	enum spool_role role[64];
	int		ncol, sensor_col, is_messages, sha_col, kept_col;
	const char     *part_col; /* partitioned by this column; NULL: not */
	char	       *cols;	  /* the server's column list, quoted */
	char	       *update;
	char	       *key;
	/* a line of COPY text */
	char  *line;
	size_t len, cap;
	/* blobs to move: SHA-256s of kept messages shipped */
	char **shas;
	size_t nshas, capshas;
	char   error[512];
};

int
pg_takes(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0;
}

void
pg_error(PGconn *c, const char *what, char *err, size_t errlen)
{
	const char *m = c != NULL ? PQerrorMessage(c) : "out of memory";
	size_t	    n;

	n = (size_t)snprintf(err, errlen, "PostgreSQL: %s: %s", what, m);
	while (
	    n > 0 && n <= errlen && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
	for (char *p = err; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static int
run_sql(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	int	  ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		pg_error(c, sql[0] == '-' ? "schema" : sql, err, errlen);
	PQclear(r);
	return ok ? 0 : -1;
}

/* What this mailsift's schema statements are (FNV-1a of their text),
 * kept as mailsift_schema's comment once they ran. */
static void
schema_mark(char *out, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (const char *p = PG_SCHEMA_SQL; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(out, len, "mailsift schema %016llx", (unsigned long long)h);
}

/* Whether the schema's statements ran as they are now: run again while
 * other writers write, their ALTER TABLEs wait on those writers' locks
 * and deadlock them (a worker that live --workers restarts). */
static int
schema_current(PGconn *c, const char *mark)
{
	PGresult *r = PQexec(c,
	    "SELECT obj_description('mailsift_schema'::regclass, 'pg_class')");
	int same = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0) && strcmp(PQgetvalue(r, 0, 0), mark) == 0;

	PQclear(r);
	return same;
}

/* The schema, made by the first writer (an advisory lock orders many). */
static int
ensure_schema(PGconn *c, char *err, size_t errlen)
{
	PGresult *r;
	int	  v = -1, rc, fresh = 0;
	char	  mark[64], comment[128];

	if (run_sql(c, "BEGIN; SELECT pg_advisory_xact_lock(7270617);", err,
		errlen) != 0)
		return -1;
	r = PQexec(c, "SELECT version FROM mailsift_schema");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v < 0) { /* no tables yet (the failed SELECT ended the BEGIN) */
		fresh = 1;
		run_sql(c, "ROLLBACK", err, errlen);
		if (run_sql(c, "BEGIN; SELECT pg_advisory_xact_lock(7270617);",
			err, errlen) != 0 ||
		    run_sql(c, PG_SCHEMA_SQL, err, errlen) != 0) {
			run_sql(c, "ROLLBACK", err, errlen);
			return -1;
		}
		r = PQexec(c, "SELECT version FROM mailsift_schema");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			v = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (v < 0) {
			char sql[96];

			snprintf(sql, sizeof(sql),
			    "INSERT INTO mailsift_schema VALUES (%d)",
			    STORE_SCHEMA_VERSION);
			if (run_sql(c, sql, err, errlen) != 0)
				return -1;
			v = STORE_SCHEMA_VERSION;
		}
	}
	/* a log of this version made before tables and columns were added
	 * to it takes them (the schema's statements can run again) */
	schema_mark(mark, sizeof(mark));
	if (v == STORE_SCHEMA_VERSION && !fresh && !schema_current(c, mark) &&
	    run_sql(c, PG_SCHEMA_SQL, err, errlen) != 0) {
		run_sql(c, "ROLLBACK", err, errlen);
		return -1;
	}
	snprintf(comment, sizeof(comment),
	    "COMMENT ON TABLE mailsift_schema IS '%s'", mark);
	if (v == STORE_SCHEMA_VERSION && !schema_current(c, mark) &&
	    run_sql(c, comment, err, errlen) != 0) {
		run_sql(c, "ROLLBACK", err, errlen);
		return -1;
	}
	if (v != STORE_SCHEMA_VERSION) {
		run_sql(c, "ROLLBACK", err, errlen);
		snprintf(err, errlen,
		    "PostgreSQL: the database holds a mailsift log of "
		    "schema version %d; this mailsift writes version %d",
		    v, STORE_SCHEMA_VERSION);
		return -1;
	}
	rc = run_sql(c, "COMMIT", err, errlen);
	return rc;
}

static void
quiet(void *arg, const PGresult *r)
{
	(void)arg;
	(void)r;
}

PGconn *
pg_connect(const char *where, int create, char *err, size_t errlen)
{
	/* a server that does not answer must not hold a live capture up
	 * for the kernel's TCP timeouts: bounds of our own, which the URI
	 * may set otherwise (it comes last, so its values win) */
	static const char *const keys[] = { "connect_timeout",
		"tcp_user_timeout", "keepalives_idle", "dbname", NULL };
	const char *const	 vals[] = { "5", "10000", "10", where, NULL };
	PGconn			*c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		pg_error(c, "connect", err, errlen);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, quiet, NULL);
	if (run_sql(c,
		"SET TIME ZONE 'UTC'; SET datestyle = 'ISO';"
		" SET extra_float_digits = 3",
		err, errlen) != 0 ||
	    (create && ensure_schema(c, err, errlen) != 0)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* ----------------------------------------------------------- shipping */

static int
put(struct ship *sh, const char *p, size_t n)
{
	if (sh->len + n + 1 > sh->cap) {
		size_t cap = sh->cap ? sh->cap : 4096;
		char  *l;

		while (cap < sh->len + n + 1)
			cap *= 2;
		if ((l = realloc(sh->line, cap)) == NULL)
			return -1;
		sh->line = l;
		sh->cap = cap;
	}
	memcpy(sh->line + sh->len, p, n);
	sh->len += n;
	return 0;
}

static int putf(struct ship *sh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
putf(struct ship *sh, const char *fmt, ...)
{
	char	buf[128];
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n < 0 ?
	    -1 :
	    put(sh, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Text as COPY reads it: escaped, and valid UTF-8 (a server in UTF8
 * refuses anything else; a byte that is not becomes U+FFFD, a NUL
 * too, which text cannot hold). */
static int
put_text(struct ship *sh, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	int		     rc = 0;

	for (size_t i = 0; rc == 0 && i < n;) {
		uint32_t cp;
		size_t	 k = p[i] == 0 ? 0 : md_utf8_len(p + i, n - i, &cp);

		if (k == 0) {
			rc = put(sh, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		switch (p[i]) {
		case '\\':
			rc = put(sh, "\\\\", 2);
			break;
		case '\n':
			rc = put(sh, "\\n", 2);
			break;
		case '\r':
			rc = put(sh, "\\r", 2);
			break;
		case '\t':
			rc = put(sh, "\\t", 2);
			break;
		default:
			rc = put(sh, (const char *)p + i, k);
		}
		i += k;
	}
	return rc;
}

/* Epoch seconds (as the spool has them, microseconds exact) as a time
 * the server reads. */
static int
put_time(struct ship *sh, double sec)
{
	long long us = llround(sec * 1e6), s = us / 1000000, f = us % 1000000;
	time_t	  t;
	struct tm tm;
	char	  buf[64];

	if (f < 0) {
		f += 1000000;
		s--;
	}
	t = (time_t)s;
	if (gmtime_r(&t, &tm) == NULL)
		return put(sh, "\\N", 2);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	return putf(sh, "%s.%06lld+00", buf, f);
}

static int
put_value(struct ship *sh, enum spool_role role, const struct spool_value *v)
{
	static const char hex[] = "0123456789abcdef";

	if (v->type == SPOOL_NULL)
		return put(sh, "\\N", 2);
	switch (role) {
	case ROLE_ID:
		return putf(sh, "%lld", (long long)(sh->base + v->i));
	case ROLE_RUN:
		return putf(sh, "%lld", (long long)sh->run);
	case ROLE_TIME:
		return put_time(sh, v->type == SPOOL_INT ? (double)v->i : v->r);
	case ROLE_BYTES:
		if (put(sh, "\\\\x", 3) != 0)
			return -1;
		for (size_t i = 0; i < v->len; i++) {
			unsigned char b = (unsigned char)v->p[i];

			if (put(sh, &hex[b >> 4], 1) != 0 ||
			    put(sh, &hex[b & 15], 1) != 0)
				return -1;
		}
		return 0;
	case ROLE_PLAIN:
		break;
	}
	switch (v->type) {
	case SPOOL_INT:
		return putf(sh, "%lld", (long long)v->i);
	case SPOOL_REAL:
		return putf(sh, "%.17g", v->r);
	default:
		return put_text(sh, v->p, v->len);
	}
}

static int
ship_fail(struct ship *sh, const char *what)
{
	pg_error(sh->conn, what, sh->error, sizeof(sh->error));
	return -1;
}

static int
ship_sql(struct ship *sh, const char *sql)
{
	PGresult *r = PQexec(sh->conn, sql);
	int	  ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	return ok ? 0 : ship_fail(sh, sql);
}

static int
on_gone(void *arg, const char *table, const char *key, const int64_t *keys,
    size_t n)
{
	struct ship *sh = arg;
	char	     head[160];
	int	     rc = 0;

	snprintf(head, sizeof(head), "DELETE FROM %s WHERE \"%s\" IN (", table,
	    spool_receiver_col(table, key));
	sh->len = 0;
	if (put(sh, head, strlen(head)) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = putf(sh, "%s%lld", i ? "," : "",
		    (long long)(sh->base + keys[i]));
	if (rc != 0 || put(sh, ")", 2) != 0)
		return -1;
	return ship_sql(sh, sh->line);
}

static int
append(char **s, const char *piece)
{
	size_t n = *s ? strlen(*s) : 0;
	char  *t = realloc(*s, n + strlen(piece) + 1);

	if (t == NULL)
		return -1;
	memcpy(t + n, piece, strlen(piece) + 1);
	*s = t;
	return 0;
}

/* The tables partitioned by month (pg_schema.sql), by which column:
 * their keys include it. */
static const char *
partition_col(const char *table)
{
	static const char *const by[][2] = {
		{ "sessions", "start_ts" },
		{ "commands", "ts" },
		{ "auth", "ts" },
		{ "messages", "begin_ts" },
		{ "items", "ts" },
		{ "responses", "ts" },
		{ "anomalies", "ts" },
	};

	for (size_t i = 0; i < sizeof(by) / sizeof(by[0]); i++)
		if (strcmp(by[i][0], table) == 0)
			return by[i][1];
	return NULL;
}

/* Column lists for a table's COPY and upsert. */
static int
describe_table(struct ship *sh, const char *table, const char *const *cols,
    int ncol, const char *const *key, int nkey)
{
	char q[96];
	int  rc = 0;

	free(sh->cols);
	free(sh->update);
	free(sh->key);
	sh->cols = sh->update = sh->key = NULL;
	snprintf(sh->table, sizeof(sh->table), "%s", table);
	sh->ncol = ncol;
	sh->is_messages = strcmp(table, "messages") == 0;
	sh->sha_col = sh->kept_col = -1;
	sh->part_col = partition_col(table);
	for (int c = 0; rc == 0 && c < ncol; c++) {
		const char *name = spool_receiver_col(table, cols[c]);
		int	    in_key = 0;

		sh->role[c] = spool_role_of(table, cols[c]);
		if (strcmp(cols[c], "sha256") == 0)
			sh->sha_col = c;
		if (strcmp(cols[c], "kept") == 0)
			sh->kept_col = c;
		for (int k = 0; k < nkey; k++)
			in_key |= strcmp(cols[c], key[k]) == 0;
		if (sh->part_col != NULL && strcmp(cols[c], sh->part_col) == 0)
			in_key = 1;
		snprintf(q, sizeof(q), "%s\"%s\"", c ? ", " : "", name);
		rc = append(&sh->cols, q);
		if (rc == 0 && in_key) {
			snprintf(q, sizeof(q), "%s\"%s\"", sh->key ? ", " : "",
			    name);
			rc = append(&sh->key, q);
		} else if (rc == 0) {
			snprintf(q, sizeof(q), "%s\"%s\" = EXCLUDED.\"%s\"",
			    sh->update ? ", " : "", name, name);
			rc = append(&sh->update, q);
		}
	}
	sh->sensor_col =
	    strcmp(table, "runs") == 0 || strcmp(table, "sessions") == 0;
	if (rc == 0 && sh->sensor_col)
		rc = append(&sh->cols, ", sensor") != 0 ||
		    append(&sh->update, ", sensor = EXCLUDED.sensor");
	return rc;
}

static int
on_table(void *arg, const char *table, const char *const *cols, int ncol,
    const char *const *key, int nkey)
{
	struct ship *sh = arg;
	char	     sql[4096];
	PGresult    *r;
	int	     ok;

	if (ncol > (int)(sizeof(sh->role) / sizeof(sh->role[0])) ||
	    describe_table(sh, table, cols, ncol, key, nkey) != 0) {
		snprintf(sh->error, sizeof(sh->error), "%s: out of memory",
		    table);
		return -1;
	}
	snprintf(sql, sizeof(sql),
	    "CREATE TEMP TABLE IF NOT EXISTS in_%s (LIKE %s)"
	    " ON COMMIT DELETE ROWS",
	    table, table);
	if (ship_sql(sh, sql) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "COPY in_%s (%s) FROM STDIN", table,
	    sh->cols);
	r = PQexec(sh->conn, sql);
	ok = PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	return ok ? 0 : ship_fail(sh, sql);
}

/* A kept message's bytes to move into blobs. */
static void
note_blob(struct ship *sh, const struct spool_value *v)
{
	char *sha;

	if (sh->sha_col < 0 || sh->kept_col < 0 ||
	    v[sh->sha_col].type != SPOOL_TEXT ||
	    v[sh->kept_col].type != SPOOL_INT || v[sh->kept_col].i != 1 ||
	    sh->blob_dir == NULL)
		return;
	if (sh->nshas == sh->capshas) {
		size_t cap = sh->capshas ? 2 * sh->capshas : 64;
		char **s = realloc(sh->shas, cap * sizeof(*s));

		if (s == NULL)
			return;
		sh->shas = s;
		sh->capshas = cap;
	}
	if ((sha = strndup(v[sh->sha_col].p, v[sh->sha_col].len)) != NULL)
		sh->shas[sh->nshas++] = sha;
}

static int
on_row(void *arg, const struct spool_value *v)
{
	struct ship *sh = arg;
	int	     rc = 0;

	sh->len = 0;
	for (int c = 0; rc == 0 && c < sh->ncol; c++) {
		if (c > 0)
			rc = put(sh, "\t", 1);
		if (rc == 0)
			rc = put_value(sh, sh->role[c], &v[c]);
	}
	if (rc == 0 && sh->sensor_col)
		rc = put(sh, "\t", 1) != 0 ||
		    put_text(sh, sh->sensor, strlen(sh->sensor));
	if (rc == 0)
		rc = put(sh, "\n", 1);
	if (rc != 0) {
		snprintf(sh->error, sizeof(sh->error), "out of memory");
		return -1;
	}
	if (sh->is_messages)
		note_blob(sh, v);
	return PQputCopyData(sh->conn, sh->line, (int)sh->len) == 1 ?
	    0 :
	    ship_fail(sh, "COPY");
}

static int
on_end(void *arg, const char *table)
{
	struct ship *sh = arg;
	PGresult    *r;
	char	    *sql;
	size_t	     n;
	int	     ok;

	if (PQputCopyEnd(sh->conn, NULL) != 1)
		return ship_fail(sh, "COPY");
	r = PQgetResult(sh->conn);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	while ((r = PQgetResult(sh->conn)) != NULL)
		PQclear(r);
	if (!ok)
		return ship_fail(sh, table);
	n = 2 * strlen(sh->cols) + (sh->update ? strlen(sh->update) : 0) +
	    strlen(sh->key) + 256;
	if ((sql = malloc(n)) == NULL)
		return -1;
	snprintf(sql, n,
	    "INSERT INTO %s (%s) SELECT %s FROM in_%s ON CONFLICT (%s) DO %s%s",
	    table, sh->cols, sh->cols, table, sh->key,
	    sh->update ? "UPDATE SET " : "NOTHING",
	    sh->update ? sh->update : "");
	ok = ship_sql(sh, sql) == 0;
	free(sql);
	return ok ? 0 : -1;
}

/* The kept bytes of sha into blobs, unless the server has them. */
static int
ship_blob(struct ship *sh, const char *sha)
{
	const char *sel[1] = { sha };
	char	    path[4400], *buf;
	PGresult   *r;
	FILE	   *f;
	int	    have, rc = 0;
	size_t	    n;

	r = PQexecParams(sh->conn,
	    "SELECT 1 FROM blobs WHERE sha256 = $1 AND chunk = 0", 1, NULL, sel,
	    NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return ship_fail(sh, "blobs");
	}
	have = PQntuples(r) > 0;
	PQclear(r);
	if (have)
		return 0;
	snprintf(path, sizeof(path), "%s/%.2s/%s", sh->blob_dir, sha, sha);
	if ((f = fopen(path, "rb")) == NULL)
		return 0; /* moved by an earlier batch, or never written */
	if ((buf = malloc(PG_BLOB_CHUNK)) == NULL) {
		fclose(f);
		return -1;
	}
	for (int chunk = 0; rc == 0; chunk++) {
		char	    no[16];
		const char *v[3] = { sha, no, buf };
		int	    len[3] = { 0, 0, 0 }, fmt[3] = { 0, 0, 1 };

		n = fread(buf, 1, PG_BLOB_CHUNK, f);
		if (n == 0 && chunk > 0)
			break;
		snprintf(no, sizeof(no), "%d", chunk);
		len[2] = (int)n;
		r = PQexecParams(sh->conn,
		    "INSERT INTO blobs VALUES ($1, $2, $3)"
		    " ON CONFLICT DO NOTHING",
		    3, NULL, v, len, fmt, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = ship_fail(sh, "blobs");
		PQclear(r);
		if (n < PG_BLOB_CHUNK)
			break;
	}
	free(buf);
	fclose(f);
	return rc;
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
ship_free(struct ship *sh)
{
	free(sh->cols);
	free(sh->update);
	free(sh->key);
	free(sh->line);
	for (size_t i = 0; i < sh->nshas; i++)
		free(sh->shas[i]);
	free(sh->shas);
}

/* A month to make a partition for, once: "2026-11-01". */
static void
note_month(void *arg, const char *month)
{
	char *list = arg;

	if (strstr(list, month) == NULL && strlen(list) + 16 < 8192)
		snprintf(list + strlen(list), 8192 - strlen(list), "%s\"%s\"",
		    list[1] ? "," : "", month);
}

/*
 * The month partitions the waiting rows need, made in a transaction of
 * their own before the rows' one: made inside it, a writer that holds
 * the partition lock would wait for another's rows to commit while that
 * one waits for the lock (a deadlock the server resolves by failing one).
 */
static int
make_partitions(struct ship *sh, struct spool *sp)
{
	char	    list[8192] = "{";
	const char *v[1] = { list };
	PGresult   *r;
	int	    ok;

	for (int i = 0; i < spool_ntables; i++) {
		const char *col = partition_col(spool_tables[i]);
		char	    expr[128];

		if (col == NULL)
			continue;
		snprintf(expr, sizeof(expr),
		    "strftime('%%Y-%%m-01', t.%s, 'unixepoch')", col);
		if (spool_distinct(sp, spool_tables[i], expr, note_month,
			list) != 0)
			return -1;
	}
	if (list[1] == '\0')
		return 0;
	snprintf(list + strlen(list), sizeof(list) - strlen(list), "}");
	r = PQexecParams(sh->conn,
	    "SELECT mailsift_month_partitions($1::timestamp[])", 1, NULL, v,
	    NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	return ok ? 0 : ship_fail(sh, "partitions");
}

/* Everything the outbox holds, in one transaction; then the blobs moved
 * leave the spool's folder. */
static int
ship_spool(PGconn *c, struct spool *sp, int64_t run, const char *sensor,
    const char *blob_dir, char *err, size_t errlen)
{
	struct ship	 sh = { .conn = c,
		     .run = run,
		     .base = run << 32,
		     .sensor = sensor,
		     .blob_dir = blob_dir };
	struct spool_out out = { &sh, on_gone, on_table, on_row, on_end };
	int		 rc;

	rc = make_partitions(&sh, sp);
	if (rc == 0)
		rc = ship_sql(&sh, "BEGIN");
	if (rc == 0 && spool_drain(sp, &out) != 0) {
		rc = -1;
		if (sh.error[0] == '\0')
			snprintf(sh.error, sizeof(sh.error), "%s",
			    spool_error(sp));
	}
	/* in one order for every writer: two that keep the same bytes
	 * would otherwise wait on each other's rows of blobs */
	if (sh.nshas > 1)
		qsort(sh.shas, sh.nshas, sizeof(*sh.shas), by_string);
	for (size_t i = 0; rc == 0 && i < sh.nshas; i++)
		rc = ship_blob(&sh, sh.shas[i]);
	if (rc == 0)
		rc = ship_sql(&sh, "COMMIT");
	if (rc != 0) {
		PGresult *r = PQexec(c, "ROLLBACK");

		PQclear(r);
		snprintf(err, errlen, "%s", sh.error);
	} else {
		for (size_t i = 0; blob_dir != NULL && i < sh.nshas; i++) {
			char path[4400];

			snprintf(path, sizeof(path), "%s/%.2s/%s", blob_dir,
			    sh.shas[i], sh.shas[i]);
			unlink(path);
		}
	}
	ship_free(&sh);
	return rc;
}

/* ----------------------------------------------------- as a receiver */

static void *
r_connect(const char *where, int create, char *err, size_t errlen)
{
	return pg_connect(where, create, err, errlen);
}

static void
r_disconnect(void *c)
{
	PQfinish(c);
}

static int
r_alive(void *c)
{
	return PQstatus(c) == CONNECTION_OK;
}

static int64_t
r_new_run(void *c, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT nextval('runs_id_seq')");
	int64_t	  id = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		pg_error(c, "runs_id_seq", err, errlen);
	PQclear(r);
	return id;
}

static int
r_ship(void *c, struct spool *sp, const char *spool_path, int64_t run,
    const char *sensor, const char *blob_dir, char *err, size_t errlen)
{
	(void)spool_path;
	return ship_spool(c, sp, run, sensor, blob_dir, err, errlen);
}

static void
r_end_killed(void *c, int64_t run, const char *now)
{
	char	    id[32];
	const char *v[2] = { id, now };

	snprintf(id, sizeof(id), "%lld", (long long)run);
	PQclear(PQexecParams(c,
	    "UPDATE runs SET finished = $2, status = -1"
	    " WHERE id = $1 AND finished IS NULL",
	    2, NULL, v, NULL, NULL, 0));
	PQclear(PQexecParams(c,
	    "UPDATE sessions SET end_reason = 'killed' WHERE run_id = $1"
	    " AND end_ts IS NULL AND end_reason IS NULL",
	    1, NULL, v, NULL, NULL, 0));
}

const struct receiver receiver_pg = {
	.name = "PostgreSQL",
	.connect = r_connect,
	.disconnect = r_disconnect,
	.alive = r_alive,
	.new_run = r_new_run,
	.ship = r_ship,
	.end_killed = r_end_killed,
};
