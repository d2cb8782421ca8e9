/* \summary: PostgreSQL store: the read side (query.h) */
/*
 * The CLI's SQL is written once, in the subset both engines read; what
 * differs is bridged here: ?N parameters become $N, times (timestamptz)
 * come back as epoch seconds and reals are printed as SQLite prints
 * them, so that every listing reads the same from either log.  A
 * statement's rows are fetched whole when it first steps, so that a
 * caller may run another statement while it walks them.
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store/backend.h"
#include "store/pg/pg_priv.h"

#define MAX_PARAMS 16

/* Type oids (catalog/pg_type.h is not in libpq-dev). */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_TIMESTAMP = 1114,
	OID_TIMESTAMPTZ = 1184,
	OID_NUMERIC = 1700,
};

struct pg_query {
	struct query q; /* first: the generic handle */
	PGconn	    *conn;
	unsigned     stmts; /* statements prepared, to name the next */
	char	     error[600];
};

struct pg_rows {
	struct query_rows r; /* first */
	struct pg_query	 *c;
	char		  name[24];
	PGresult	 *desc; /* columns, known before the first row */
	PGresult	 *res;	/* the rows, once run */
	int		  row;	/* the row at hand, from 0 */
	int		  nparams;
	char		 *param[MAX_PARAMS];
	char		 *buf; /* a value converted for text(), 64 bytes */
};

static const struct query_ops pg_query_ops;

struct query *
pg_query_open(const char *where, char *err, size_t errlen)
{
	struct pg_query *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->q.ops = &pg_query_ops;
	if ((c->conn = pg_connect(where, 0, err, errlen)) == NULL) {
		free(c);
		return NULL;
	}
	return &c->q;
}

static void
q_close(struct query *q)
{
	struct pg_query *c = (struct pg_query *)q;

	PQfinish(c->conn);
	free(c);
}

static const char *
q_error(const struct query *q)
{
	return ((const struct pg_query *)q)->error;
}

static int
word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The word LIKE at p of sql (any case). */
static int
like_at(const char *sql, const char *p)
{
	return strncasecmp(p, "LIKE", 4) == 0 && !word_char(p[4]) &&
	    (p == sql || !word_char(p[-1]));
}

/*
 * SQLite's parameters as PostgreSQL's: "?" is the next number, "?N" is
 * N; and SQLite's LIKE, case-blind, as ILIKE; quoted strings and names
 * are left alone.  The highest number is stored in *nparams.
 */
static char *
dollar_params(const char *sql, int *nparams)
{
	size_t len = strlen(sql);
	char  *out = malloc(2 * len + 1), *o = out;
	int    next = 1, max = 0;

	if (out == NULL)
		return NULL;
	for (const char *p = sql; *p;) {
		if (*p == '\'' || *p == '"') {
			char q = *p;

			*o++ = *p++;
			while (*p && *p != q)
				*o++ = *p++;
			if (*p)
				*o++ = *p++;
		} else if (like_at(sql, p)) {
			o += sprintf(o, "ILIKE"); /* as SQLite's, case-blind */
			p += 4;
		} else if (*p == '?') {
			int n;

			p++;
			if (isdigit((unsigned char)*p)) {
				char *end;

				n = (int)strtol(p, &end, 10);
				p += end - p;
			} else {
				n = next;
			}
			next = n + 1;
			max = n > max ? n : max;
			o += sprintf(o, "$%d", n);
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	*nparams = max;
	return out;
}

static struct query_rows *
q_prepare(struct query *q, const char *sql)
{
	struct pg_query *c = (struct pg_query *)q;
	struct pg_rows	*r = calloc(1, sizeof(*r));
	PGresult	*res;
	char		*pgsql;
	int		 ok;

	if (r == NULL || (r->buf = malloc(64)) == NULL ||
	    (pgsql = dollar_params(sql, &r->nparams)) == NULL) {
		if (r != NULL)
			free(r->buf);
		free(r);
		snprintf(c->error, sizeof(c->error), "out of memory");
		return NULL;
	}
	r->r.ops = &pg_query_ops;
	r->c = c;
	r->row = -1;
	snprintf(r->name, sizeof(r->name), "q%u", ++c->stmts);
	res = PQprepare(c->conn, r->name, pgsql, 0, NULL);
	ok =
	    PQresultStatus(res) == PGRES_COMMAND_OK && r->nparams <= MAX_PARAMS;
	PQclear(res);
	free(pgsql);
	if (ok) {
		r->desc = PQdescribePrepared(c->conn, r->name);
		ok = PQresultStatus(r->desc) == PGRES_COMMAND_OK;
	}
	if (!ok) {
		pg_error(c->conn, "query", c->error, sizeof(c->error));
		PQclear(r->desc);
		free(r->buf);
		free(r);
		return NULL;
	}
	return &r->r;
}

static void
set_param(struct query_rows *rr, int i, const char *v)
{
	struct pg_rows *r = (struct pg_rows *)rr;

	if (i < 1 || i > MAX_PARAMS)
		return;
	free(r->param[i - 1]);
	r->param[i - 1] = v != NULL ? strdup(v) : NULL;
}

static void
q_bind_int(struct query_rows *r, int i, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	set_param(r, i, buf);
}

static void
q_bind_text(struct query_rows *r, int i, const char *v)
{
	set_param(r, i, v);
}

static int
q_next(struct query_rows *rr)
{
	struct pg_rows *r = (struct pg_rows *)rr;

	if (r->res == NULL) {
		const char *param[MAX_PARAMS];

		for (int i = 0; i < MAX_PARAMS; i++)
			param[i] = r->param[i];
		r->res = PQexecPrepared(r->c->conn, r->name, r->nparams, param,
		    NULL, NULL, 0);
		if (PQresultStatus(r->res) != PGRES_TUPLES_OK) {
			pg_error(r->c->conn, "query", r->c->error,
			    sizeof(r->c->error));
			return -1;
		}
	}
	if (r->row + 1 >= PQntuples(r->res))
		return 0;
	r->row++;
	return 1;
}

static void
q_reset(struct query_rows *rr)
{
	struct pg_rows *r = (struct pg_rows *)rr;

	PQclear(r->res);
	r->res = NULL;
	r->row = -1;
}

/* PostgreSQL: not stopped part way (and no caller asks, its planner
 * having chosen: q_sort_filtered is "") */
static int
q_try(struct query_rows *rr, long ms)
{
	(void)rr;
	(void)ms;
	return 1;
}

static int
q_columns(const struct query_rows *rr)
{
	return PQnfields(((const struct pg_rows *)rr)->desc);
}

static const char *
q_name(const struct query_rows *rr, int i)
{
	return PQfname(((const struct pg_rows *)rr)->desc, i);
}

static const char *
raw(const struct pg_rows *r, int i)
{
	if (r->res == NULL || r->row < 0 || PQgetisnull(r->res, r->row, i))
		return NULL;
	return PQgetvalue(r->res, r->row, i);
}

static enum query_type
q_type(const struct query_rows *rr, int i)
{
	const struct pg_rows *r = (const struct pg_rows *)rr;

	if (raw(r, i) == NULL)
		return QUERY_NULL;
	switch (PQftype(r->desc, i)) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		return QUERY_INTEGER;
	case OID_NUMERIC: /* sum() of integers is one: an integer */
		return strchr(raw(r, i), '.') ? QUERY_REAL : QUERY_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		return QUERY_REAL;
	case OID_BYTEA:
		return QUERY_BLOB;
	default:
		return QUERY_TEXT;
	}
}

/* "2024-01-31 12:00:00.123456+00" (UTC, ISO) as epoch seconds, computed
 * as the SQLite log computes them: microseconds / 1e6. */
static double
epoch_of(const char *s)
{
	struct tm tm = { 0 };
	long long us = 0;
	int	  digits = 0, n = 0;

	if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, digits++)
			if (digits < 6)
				us = us * 10 + (*s - '0');
	for (; digits < 6; digits++)
		us *= 10;
	return (double)((long long)timegm(&tm) * 1000000 + us) / 1e6;
}

static double
q_real(const struct query_rows *rr, int i)
{
	const struct pg_rows *r = (const struct pg_rows *)rr;
	const char	     *v = raw(r, i);
	Oid		      t = PQftype(r->desc, i);

	if (v == NULL)
		return 0;
	if (t == OID_TIMESTAMPTZ || t == OID_TIMESTAMP)
		return epoch_of(v);
	if (t == OID_BOOL)
		return *v == 't';
	return strtod(v, NULL);
}

static int64_t
q_int(const struct query_rows *rr, int i)
{
	const struct pg_rows *r = (const struct pg_rows *)rr;
	const char	     *v = raw(r, i);

	if (v == NULL)
		return 0;
	switch (PQftype(r->desc, i)) {
	case OID_BOOL:
		return *v == 't';
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
	case OID_NUMERIC:
		if (strchr(v, '.') == NULL)
			return strtoll(v, NULL, 10);
		/* fall through */
	default:
		return (int64_t)q_real(rr, i);
	}
}

/* A real as SQLite prints one ("%!.15g": 15 digits, a point kept). */
static const char *
sqlite_real(char *buf, size_t len, double d)
{
	snprintf(buf, len, "%.15g", d);
	if (strpbrk(buf, ".eEni") == NULL)
		snprintf(buf + strlen(buf), len - strlen(buf), ".0");
	return buf;
}

static const char *
q_text(const struct query_rows *rr, int i)
{
	const struct pg_rows *r = (const struct pg_rows *)rr;
	const char	     *v = raw(r, i);

	if (v == NULL)
		return NULL;
	switch (PQftype(r->desc, i)) {
	case OID_BOOL:
		return *v == 't' ? "1" : "0";
	case OID_NUMERIC:
		if (strchr(v, '.') == NULL)
			return v;
		/* fall through */
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		return sqlite_real(r->buf, 64, q_real(rr, i));
	default:
		return v;
	}
}

static void
q_finish(struct query_rows *rr)
{
	struct pg_rows *r = (struct pg_rows *)rr;
	char		sql[48];
	PGresult       *res;

	PQclear(r->res);
	PQclear(r->desc);
	snprintf(sql, sizeof(sql), "DEALLOCATE %s", r->name);
	res = PQexec(r->c->conn, sql);
	PQclear(res);
	for (int i = 0; i < MAX_PARAMS; i++)
		free(r->param[i]);
	free(r->buf);
	free(r);
}

/* The messages whose text matches ?1 (websearch's syntax, which takes
 * any text): id, match (a headline), score (lower first). */
static const char *
q_search_sql(const struct query *q)
{
	(void)q;
	return "SELECT t.message_id AS id, ts_headline('simple',"
	       " coalesce(t.body, ''), w, 'StartSel=[, StopSel=], MaxWords=10,"
	       " MinWords=3, MaxFragments=1') AS match, -ts_rank(t.tsv, w)"
	       " AS score FROM message_text t,"
	       " websearch_to_tsquery('simple', ?1) w WHERE t.tsv @@ w";
}

/* PostgreSQL: NULL is larger than any value (ASC NULLS LAST). */
static int
q_nulls_low(const struct query *q)
{
	(void)q;
	return 0;
}

/* PostgreSQL: the planner weighs the filters by its statistics (and
 * has no unary + for text). */
static const char *
q_sort_filtered(const struct query *q)
{
	(void)q;
	return "";
}

/* PostgreSQL: the planner finds pg_trgm's indexes itself. */
static int
q_addr_index(struct query *q)
{
	(void)q;
	return 0;
}

/* PostgreSQL works outcomes out in v_messages, and walks no listing. */
static int
q_outcome_kept(struct query *q)
{
	(void)q;
	return 0;
}

/* The kept bytes, chunk by chunk (one in memory at a time), into a
 * temporary file to read. */
static FILE *
q_blob(struct query *q, const char *sha, char *err, size_t errlen)
{
	struct pg_query *c = (struct pg_query *)q;
	FILE		*f;
	int		 chunk;

	if ((f = tmpfile()) == NULL) {
		snprintf(err, errlen, "temporary file: %s", strerror(errno));
		return NULL;
	}
	for (chunk = 0;; chunk++) {
		char	    no[16];
		const char *v[2] = { sha, no };
		PGresult   *r;
		int	    rows;

		snprintf(no, sizeof(no), "%d", chunk);
		r = PQexecParams(c->conn,
		    "SELECT data FROM blobs WHERE sha256 = $1 AND chunk = $2",
		    2, NULL, v, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			pg_error(c->conn, "blobs", err, errlen);
			PQclear(r);
			fclose(f);
			return NULL;
		}
		if ((rows = PQntuples(r)) == 1 &&
		    fwrite(PQgetvalue(r, 0, 0), 1, (size_t)PQgetlength(r, 0, 0),
			f) != (size_t)PQgetlength(r, 0, 0))
			rows = -1;
		PQclear(r);
		if (rows < 0) {
			snprintf(err, errlen, "temporary file: %s",
			    strerror(errno));
			fclose(f);
			return NULL;
		}
		if (rows == 0)
			break;
	}
	if (chunk == 0) {
		snprintf(err, errlen, "not in the database's blobs");
		fclose(f);
		return NULL;
	}
	rewind(f);
	return f;
}

static const struct query_ops pg_query_ops = {
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
