/* \summary: SQLite store: the read side (query.h) */
#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/backend.h"
#include "store/sqlite/sqlite_priv.h"

struct sqlite_query {
	struct query q; /* first: the generic handle */
	sqlite3	    *db;
	char	     path[4096];
	int	     cost; /* MAILSIFT_QUERY_COST set: say each query's work */
	int	     addr_index; /* message_addrs: 1, none: 0, not asked: -1 */
	int	     outcome_kept; /* messages.sent_outcome: the same */
};

struct sqlite_rows {
	struct query_rows r; /* first */
	sqlite3_stmt	 *st;
	int		  cost;
	int		  held; /* q_try stepped: the step's result, 0: none */
};

static const struct query_ops sqlite_query_ops;

/*
 * host(ip): the address as text.  PostgreSQL's host(inet) drops the
 * netmask its text cast would add ("192.0.2.1/32"); SQLite holds
 * addresses as text already.  With it the CLI's SQL reads the same on
 * both.
 */
static void
host_of(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_value(ctx, argv[0]);
}

/*
 * How a query opens the log: read-only, and when no writer's -wal file
 * is beside it, as immutable, so that nothing (-wal, -shm) is left
 * beside a log only read, and a log in a read-only folder (evidence
 * mounted read-only) can be queried.  A log being written (its -wal
 * there) is opened as SQLite shares it with the writer.
 */
static const char *
open_name(const char *path, char *uri, size_t len)
{
	char   wal[4200];
	size_t k;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (access(wal, F_OK) == 0)
		return path;
	k = (size_t)snprintf(uri, len, "file:");
	for (const char *p = path; *p != '\0' && k + 4 < len; p++)
		if (*p == '?' || *p == '#' || *p == '%')
			k += (size_t)snprintf(uri + k, len - k, "%%%02X",
			    (unsigned char)*p);
		else
			uri[k++] = *p;
	snprintf(uri + k, len - k, "?immutable=1");
	return uri;
}

/* Whether the database is a mailsift log: one of the schema versions
 * this mailsift reads, with its sessions table. */
static int
is_log(sqlite3 *db)
{
	sqlite3_stmt *st;
	int	      v = -1;

	if (sqlite3_prepare_v2(db,
		"SELECT (SELECT user_version FROM pragma_user_version),"
		" (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		" AND name = 'sessions')",
		-1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 1) == 1)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v >= 5 && v <= STORE_SCHEMA_VERSION;
}

/* An address as bytes (4 or 16), or 0 when it is not one. */
static int
addr_bytes(const char *s, unsigned char *b)
{
	struct in6_addr a6;
	struct in_addr	a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(b, &a4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		memcpy(b, &a6, 16);
		return 16;
	}
	return 0;
}

/*
 * in_net(address, "10.7.29.0/24"): whether the address is in the
 * network (or is the address, without a length); PostgreSQL's is
 * inet's <<= (pg_schema.sql), so the CLI's SQL reads both logs.
 */
static void
in_net(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char   *a = (const char *)sqlite3_value_text(argv[0]);
	const char   *n = (const char *)sqlite3_value_text(argv[1]);
	char	      net[64], *slash;
	unsigned char x[16], y[16];
	long	      bits;
	int	      la, ln, in = 0;

	(void)argc;
	if (a == NULL || n == NULL || strlen(n) >= sizeof(net)) {
		sqlite3_result_null(ctx);
		return;
	}
	snprintf(net, sizeof(net), "%s", n);
	if ((slash = strchr(net, '/')) != NULL)
		*slash++ = '\0';
	la = addr_bytes(a, x);
	ln = addr_bytes(net, y);
	bits = slash != NULL ? strtol(slash, NULL, 10) : ln * 8;
	if (la != 0 && la == ln && bits >= 0 && bits <= ln * 8) {
		in = 1;
		for (long i = 0; i < bits && in; i++)
			in = ((x[i / 8] ^ y[i / 8]) & (0x80 >> (i % 8))) == 0;
	}
	sqlite3_result_int(ctx, in);
}

struct query *
sqlite_query_open(const char *path, char *err, size_t errlen)
{
	struct sqlite_query *c;
	char		     uri[8400], *real;
	int		     rc;

	if (access(path, R_OK) != 0) {
		snprintf(err, errlen,
		    "%s: no such log (mailsift read makes "
		    "one)",
		    path);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->q.ops = &sqlite_query_ops;
	c->cost = getenv("MAILSIFT_QUERY_COST") != NULL;
	c->addr_index = -1;
	c->outcome_kept = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	/* live --rotate's LOG.db links to the file in use: its -wal is
	 * beside the file, not the link */
	real = realpath(path, NULL);
	rc = sqlite3_open_v2(open_name(real ? real : path, uri, sizeof(uri)),
	    &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(real);
	if (rc != SQLITE_OK || !is_log(c->db)) {
		snprintf(err, errlen, "%s: %s", path,
		    c->db != NULL && sqlite3_errcode(c->db) != SQLITE_OK ?
			sqlite3_errmsg(c->db) :
			"not a mailsift log");
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	/* a log being written by mailsift live: wait out its commits */
	sqlite3_busy_timeout(c->db, 5000);
	/* a log made before the hosts' sums: summed as asked */
	sqlite_hosts_view(c->db);
	sqlite_stats_views(c->db);
	/* ... or before the findings' session columns */
	sqlite_findings_view(c->db);
	sqlite3_create_function(c->db, "in_net", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, in_net, NULL, NULL);
	sqlite3_create_function(c->db, "host", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, host_of, NULL, NULL);
	return &c->q;
}

static void
q_close(struct query *q)
{
	struct sqlite_query *c = (struct sqlite_query *)q;

	sqlite3_close(c->db);
	free(c);
}

static const char *
q_error(const struct query *q)
{
	return sqlite3_errmsg(((const struct sqlite_query *)q)->db);
}

static struct query_rows *
q_prepare(struct query *q, const char *sql)
{
	struct sqlite_query *c = (struct sqlite_query *)q;
	struct sqlite_rows  *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->r.ops = &sqlite_query_ops;
	r->cost = c->cost;
	if (sqlite3_prepare_v2(c->db, sql, -1, &r->st, NULL) != SQLITE_OK) {
		free(r);
		return NULL;
	}
	return &r->r;
}

static sqlite3_stmt *
stmt(const struct query_rows *r)
{
	return ((const struct sqlite_rows *)r)->st;
}

static void
q_bind_int(struct query_rows *r, int i, int64_t v)
{
	sqlite3_bind_int64(stmt(r), i, v);
}

static void
q_bind_text(struct query_rows *r, int i, const char *v)
{
	sqlite3_bind_text(stmt(r), i, v, -1, SQLITE_TRANSIENT);
}

static int
q_next(struct query_rows *r)
{
	struct sqlite_rows *sr = (struct sqlite_rows *)r;
	int		    rc = sr->held ? sr->held : sqlite3_step(sr->st);

	sr->held = 0;

	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The progress handler, every 1,000 steps of the virtual machine (a
 * microsecond to a few milliseconds of work): nonzero past the end
 * (arg) interrupts the statement. */
static int
past_end(void *arg)
{
	return monotonic_us() > *(const int64_t *)arg;
}

/* Time, not steps: a step of a walk through an index in the table's
 * order costs a tenth of one that seeks a row elsewhere. */
static int
q_try(struct query_rows *r, long ms)
{
	sqlite3_stmt *st = stmt(r);
	sqlite3	     *db = sqlite3_db_handle(st);
	int64_t	      end = monotonic_us() + (int64_t)ms * 1000;
	int	      rc;

	if (ms <= 0)
		return 0;
	sqlite3_progress_handler(db, 1000, past_end, &end);
	rc = sqlite3_step(st);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		/* kept for q_next: a count or a page whose first row took
		 * most of the time was run twice (0.13 s, not 0.065) */
		((struct sqlite_rows *)r)->held = rc;
		return 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_INTERRUPT ? 0 : -1;
}

/*
 * With MAILSIFT_QUERY_COST in the environment, each query says on
 * stderr, when it is reset or finished, how much work it did: the
 * virtual machine's steps, the rows it stepped through in full table
 * scans, and its sorts.  tests/scale.sh reads it to show that no answer
 * grows with the log; the steps are the work itself, where times on a
 * shared machine are noise.
 */
static void
say_cost(const struct query_rows *r)
{
	const struct sqlite_rows *sr = (const struct sqlite_rows *)r;
	const char		 *sql = sqlite3_sql(sr->st);

	if (!sr->cost)
		return;
	fprintf(stderr,
	    "mailsift: query cost: %d steps, %d scanned, %d sorts: ",
	    sqlite3_stmt_status(sr->st, SQLITE_STMTSTATUS_VM_STEP, 1),
	    sqlite3_stmt_status(sr->st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1),
	    sqlite3_stmt_status(sr->st, SQLITE_STMTSTATUS_SORT, 1));
	for (; sql != NULL && *sql != '\0'; sql++)
		fputc(*sql == '\n' || *sql == '\t' ? ' ' : *sql, stderr);
	fputc('\n', stderr);
}

static void
q_reset(struct query_rows *r)
{
	say_cost(r);
	((struct sqlite_rows *)r)->held = 0;
	sqlite3_reset(stmt(r));
}

static int
q_columns(const struct query_rows *r)
{
	return sqlite3_column_count(stmt(r));
}

static const char *
q_name(const struct query_rows *r, int i)
{
	return sqlite3_column_name(stmt(r), i);
}

static enum query_type
q_type(const struct query_rows *r, int i)
{
	switch (sqlite3_column_type(stmt(r), i)) {
	case SQLITE_INTEGER:
		return QUERY_INTEGER;
	case SQLITE_FLOAT:
		return QUERY_REAL;
	case SQLITE_TEXT:
		return QUERY_TEXT;
	case SQLITE_BLOB:
		return QUERY_BLOB;
	default:
		return QUERY_NULL;
	}
}

static const char *
q_text(const struct query_rows *r, int i)
{
	return (const char *)sqlite3_column_text(stmt(r), i);
}

static int64_t
q_int(const struct query_rows *r, int i)
{
	return sqlite3_column_int64(stmt(r), i);
}

static double
q_real(const struct query_rows *r, int i)
{
	return sqlite3_column_double(stmt(r), i);
}

static void
q_finish(struct query_rows *r)
{
	say_cost(r);
	sqlite3_finalize(stmt(r));
	free(r);
}

/* The messages whose text matches ?1 (FTS5's syntax; the CLI quotes
 * what the analyst typed): id, match (a snippet), score (lower first). */
static const char *
q_search_sql(const struct query *q)
{
	(void)q;
	return "SELECT rowid AS id, snippet(message_text, 1, '[', ']', '...',"
	       " 10) AS match, rank AS score FROM message_text"
	       " WHERE message_text MATCH ?1";
}

/* SQLite: NULL is less than any value. */
static int
q_nulls_low(const struct query *q)
{
	(void)q;
	return 1;
}

/* SQLite: + makes the column an expression no index answers. */
static const char *
q_sort_filtered(const struct query *q)
{
	(void)q;
	return "+";
}

/* A log written before the index has none (a writer makes it). */
static int
q_addr_index(struct query *q)
{
	struct sqlite_query *c = (struct sqlite_query *)q;

	if (c->addr_index < 0)
		c->addr_index = sqlite_has_table(c->db, "message_addrs") == 1;
	return c->addr_index;
}

static int
q_outcome_kept(struct query *q)
{
	struct sqlite_query *c = (struct sqlite_query *)q;

	if (c->outcome_kept < 0)
		c->outcome_kept =
		    sqlite_has_column(c->db, "messages", "sent_outcome") == 1;
	return c->outcome_kept;
}

/* The blob stores the log's runs recorded (runs.blobs, absolute), then
 * the folder of that name beside the log (the two moved together). */
static FILE *
blob_elsewhere(const struct sqlite_query *c, const char *sha)
{
	sqlite3_stmt *st;
	FILE	     *f = NULL;
	const char   *slash = strrchr(c->path, '/');
	int	      dirlen = slash != NULL ? (int)(slash - c->path) + 1 : 0;

	if (sqlite3_prepare_v2(c->db,
		"SELECT blobs FROM runs WHERE blobs IS NOT NULL"
		" GROUP BY blobs ORDER BY max(id) DESC",
		-1, &st, NULL) != SQLITE_OK)
		return NULL; /* a log from before runs.blobs */
	while (f == NULL && sqlite3_step(st) == SQLITE_ROW) {
		const char *bd = (const char *)sqlite3_column_text(st, 0);
		const char *base = strrchr(bd, '/');
		char	    path[4400];

		snprintf(path, sizeof(path), "%s/%.2s/%s", bd, sha, sha);
		if ((f = fopen(path, "rb")) != NULL || base == NULL)
			continue;
		snprintf(path, sizeof(path), "%.*s%s/%.2s/%s", dirlen, c->path,
		    base + 1, sha, sha);
		f = fopen(path, "rb");
	}
	sqlite3_finalize(st);
	return f;
}

/* A small message's kept bytes, inside the log (blob_bytes), as a
 * temporary file; NULL: not there (or a log older than the table). */
static FILE *
blob_inside(const struct sqlite_query *c, const char *sha)
{
	sqlite3_stmt *st;
	FILE	     *f = NULL;

	if (sqlite3_prepare_v2(c->db,
		"SELECT bytes FROM blob_bytes WHERE sha256 = ?", -1, &st,
		NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && (f = tmpfile()) != NULL) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if ((n > 0 &&
			fwrite(sqlite3_column_blob(st, 0), 1, n, f) != n) ||
		    fflush(f) != 0) {
			fclose(f);
			f = NULL;
		} else
			rewind(f);
	}
	sqlite3_finalize(st);
	return f;
}

/* Kept bytes live inside the log (small ones) or beside it:
 * LOG.blobs/AB/ABCD...; or where its runs said they kept them (the files
 * of live --rotate share one store, a log moved away by logrotate left
 * its store behind). */
static FILE *
q_blob(struct query *q, const char *sha, char *err, size_t errlen)
{
	const struct sqlite_query *c = (const struct sqlite_query *)q;
	char			   path[4300];
	FILE			  *f;

	if ((f = blob_inside(c, sha)) != NULL)
		return f;
	snprintf(path, sizeof(path), "%s.blobs/%.2s/%s", c->path, sha, sha);
	if ((f = fopen(path, "rb")) == NULL) {
		int e = errno;

		if (e == ENOENT && (f = blob_elsewhere(c, sha)) != NULL)
			return f;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	}
	return f;
}

static const struct query_ops sqlite_query_ops = {
	.close = q_close,
	.error = q_error,
	.prepare = q_prepare,
	.bind_int = q_bind_int,
	.bind_text = q_bind_text,
	.next = q_next,
	.reset = q_reset,
	.try_within = q_try,
	.columns = q_columns,
	.name = q_name,
	.type = q_type,
	.text = q_text,
	.integer = q_int,
	.real = q_real,
	.finish = q_finish,
	.search_sql = q_search_sql,
	.nulls_low = q_nulls_low,
	.sort_filtered = q_sort_filtered,
	.addr_index = q_addr_index,
	.outcome_kept = q_outcome_kept,
	.blob = q_blob,
};
