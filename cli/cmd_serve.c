/* \summary: mailsift serve: the log in a browser, safe on hostile mail */
/*
 * A read-only web application over the log: the page (serve_assets.c)
 * and JSON answers built from the CLI's own SQL (listings.c).  Every
 * value in the log came from the wire, so no answer is HTML built from
 * it: the JSON is escaped, the page puts values in with textContent, and
 * every answer carries a Content-Security-Policy that allows no inline
 * script and no load from elsewhere.  HTTP is libmicrohttpd's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli/cli.h"
#include "dissect/dissect.h"
#include "cli/listings.h"
#include "cli/search.h"
#include "cli/serve.h"
#include "cli/serve_cache.h"
#include "cli/serve_guard.h"
#include "cli/serve_html.h"
#include "cli/table.h"
#include "dissect/util.h"
#include "store/safename.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     1000
#define DOWNLOAD_MAX  1000000	 /* rows of a listing downloaded whole */
#define PART_MAX      (64 << 20) /* bytes of a part served */
#define CONNS_MAX     256 /* connections at once; a fourth from one host */
#define REQUEST_SECS  10  /* for a request to arrive whole */

/*
 * The overview's answer, kept: its aggregates read every row of the log
 * (seconds at a million messages) and change only as the log grows.  It
 * is made once the server starts, again when the log has grown (its
 * highest session or message id moved) and the last is --recount
 * seconds old (30): a static log is counted once, a sensor's at most
 * twice a minute.
 */
struct overview {
	pthread_mutex_t lock;
	char	       *json; /* the answer, NULL until made */
	size_t		len;
	int64_t		key[2]; /* highest session and message id then */
	time_t		made;
	long		recount; /* seconds */
	pthread_t	warm;
	int		warming;
};

struct serve_opts {
	const char	    *db;
	const char	    *listen;
	const char	    *token; /* required of every request when set */
	int		     no_creds;
	int		     tls;
	char		     cookie[48]; /* the cookie's name: one per port */
	struct guard	     guard;
	struct deadlines    *deadlines;
	struct overview	    *overview;
	struct answer_cache *answers; /* slow listing answers, kept */
	pthread_t	     warm;    /* warm_listings, when started */
	int		     warming, stop_warming;
};

/* The page may run its own script and load its own files, nothing else. */
static const char csp_page[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/* Data is never a document: sandboxed, nothing runs, nothing loads. */
static const char csp_data[] =
    "default-src 'none'; frame-ancestors 'none'; sandbox";

static enum MHD_Result
answer_with(struct MHD_Connection *c, unsigned status, const char *type,
    const char *csp, struct MHD_Response *r, const char *disposition)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (MHD_get_response_header(r, "X-Frame-Options") == NULL)
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy",
	    "same-origin");
	if (disposition != NULL)
		MHD_add_response_header(r, "Content-Disposition", disposition);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_static(struct MHD_Connection *c, const char *body, const char *type)
{
	return answer_with(c, MHD_HTTP_OK, type, csp_page,
	    MHD_create_response_from_buffer(strlen(body),
		(void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT),
	    NULL);
}

/* A JSON answer of buf (a memory stream's, freed after); age 0 or more:
 * a kept answer, made that many seconds ago (HTTP's Age). */
static enum MHD_Result
answer_json_aged(struct MHD_Connection *c, unsigned status, char *buf,
    size_t len, long age)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	char secs[32];

	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	if (age >= 0) {
		snprintf(secs, sizeof(secs), "%ld", age);
		MHD_add_response_header(r, "Age", secs);
	}
	return answer_with(c, status, "application/json; charset=utf-8",
	    csp_data, r, NULL);
}

static enum MHD_Result
answer_json(struct MHD_Connection *c, unsigned status, char *buf, size_t len)
{
	return answer_json_aged(c, status, buf, len, -1);
}

static enum MHD_Result
answer_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char  *buf = NULL;
	size_t len = 0;
	FILE  *f = open_memstream(&buf, &len);

	if (f == NULL)
		return MHD_NO;
	fputs("{\"error\":", f);
	table_json_string(f, msg);
	fputs("}\n", f);
	fclose(f);
	return answer_json(c, status, buf, len);
}

/* All rows of st as a JSON array; -1 when the query failed. */
static int
rows_json(FILE *f, struct query_rows *st)
{
	int rc, n = 0;

	putc('[', f);
	while ((rc = query_next(st)) == 1) {
		if (n++ > 0)
			putc(',', f);
		table_row_json(f, st, 1);
	}
	putc(']', f);
	return rc == 0 ? n : -1;
}

/* The rows of sql (?1: id) under "key" of an object being written. */
static int
rows_of(FILE *f, struct query *db, const char *key, const char *sql, int64_t id)
{
	struct query_rows *st = query_prepare(db, sql);
	int		   n;

	if (st == NULL)
		return -1;
	query_bind_int(st, 1, id);
	fprintf(f, ",\"%s\":", key);
	n = rows_json(f, st);
	query_finish(st);
	return n;
}

/*
 * A command line of the transcript ("[tag] VERB args") with what logs in
 * hidden: PASS's argument, AUTH's initial response, LOGIN's and APOP's
 * second word.  NULL when nothing is to hide (or out of memory).
 */
static char *
command_hidden(const char *text)
{
	const uint8_t *v = (const uint8_t *)text;
	char	      *out = NULL;

	for (int word = 0; word < 2; word++) { /* the verb, or after a tag */
		size_t	       vl = strcspn((const char *)v, " ");
		const uint8_t *a = v[vl] == ' ' ? v + vl + 1 : v + vl;
		size_t	       al = strlen((const char *)a);
		size_t	       keep = md_args_public(v, vl, a, al, 1);

		if (keep < al) {
			if (asprintf(&out, "%.*s%s[hidden]",
				(int)(a - (const uint8_t *)text + keep), text,
				keep > 0 ? " " : "") < 0)
				out = NULL;
			return out;
		}
		if (v[vl] != ' ')
			break;
		v = a;
	}
	return NULL;
}

/* A session's transcript under "transcript"; with --no-creds, what
 * logged in hidden in the commands and the auth lines. */
static int
transcript_of(FILE *f, struct query *db, int64_t id, int no_creds)
{
	struct query_rows *st;
	int		   rc, n = 0;

	if (!no_creds)
		return rows_of(f, db, "transcript", listing_show_sql, id);
	if ((st = query_prepare(db, listing_show_nocreds_sql)) == NULL)
		return -1;
	query_bind_int(st, 1, id);
	fputs(",\"transcript\":[", f);
	while ((rc = query_next(st)) == 1) {
		const char *who = query_text(st, 1), *text = query_text(st, 2);
		char	   *hidden =
			  who != NULL && strcmp(who, "C") == 0 && text != NULL ?
			  command_hidden(text) :
			  NULL;

		if (n++ > 0)
			putc(',', f);
		table_row_json_with(f, st, 1, hidden != NULL ? 2 : -1, hidden);
		free(hidden);
	}
	putc(']', f);
	query_finish(st);
	return rc == 0 ? n : -1;
}

static const char *
arg(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* A number argument: def when absent, -1 when not a number in 0..max. */
static long
number_arg(struct MHD_Connection *c, const char *key, long def, long max)
{
	const char *v = arg(c, key);
	char	   *end;
	long	    n;

	if (v == NULL)
		return def;
	n = strtol(v, &end, 10);
	return *v == '\0' || *end != '\0' || n < 0 || n > max ? -1 : n;
}

/* A switch of the address (desc, count, last): 1 on, 0 off or absent,
 * -1 neither: "yes" said to be wrong, not taken silently as off. */
static int
switch_arg(struct MHD_Connection *c, const char *name)
{
	const char *v = arg(c, name);

	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0)
		return 0;
	return strcmp(v, "1") == 0 ? 1 : -1;
}

/* The listings' filters by the names the API takes them. */
static const char *const filter_keys[F_COUNT] = { "proto", "host", "user",
	"from", "to", "subject", "since", "until", "tls", "failed", "creds",
	"attachments", "anomalies", "name", "hash", "outcome", "pieces",
	"client", "server", "query", "finding", "anomaly", "mechanism",
	"port" };

static int
is_flag(int k)
{
	return (k >= F_TLS && k <= F_ANOMALIES) || k == F_PIECES;
}

/* /api/filters: for each listing, the filters it takes (values and
 * flags), so that the page offers those and no other (a form that
 * offered from: on the credentials page got an error back). */
static enum MHD_Result
api_filters(struct MHD_Connection *c, const struct serve_opts *o)
{
	char  *buf = NULL;
	size_t len = 0;
	FILE  *f;
	int    first = 1;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return MHD_NO;
	putc('{', f);
	for (size_t i = 0; i < nlistings; i++) {
		const struct listing *l = &listings[i];

		if (o->no_creds && strcmp(l->name, "creds") == 0)
			continue;
		fprintf(f, "%s\"%s\":{\"values\":[", first ? "" : ",", l->name);
		first = 0;
		for (int k = 0, n = 0; k < F_COUNT; k++)
			if (l->where[k] != NULL && !is_flag(k))
				fprintf(f, "%s\"%s\"", n++ ? "," : "",
				    filter_keys[k]);
		fputs("],\"flags\":[", f);
		for (int k = 0, n = 0; k < F_COUNT; k++)
			if (l->where[k] != NULL && is_flag(k))
				fprintf(f, "%s\"%s\"", n++ ? "," : "",
				    filter_keys[k]);
		/* whether it pages by its rows' keys (listing.h) */
		fprintf(f, "],\"keyset\":%s}",
		    l->key != NULL ? "true" : "false");
	}
	fputs("}\n", f);
	fclose(f);
	return answer_json(c, MHD_HTTP_OK, buf, len);
}

/* What a listing request asks, its arguments parsed. */
struct listing_ask {
	const struct listing *l;
	const char	     *val[F_COUNT];
	int		      flag[F_COUNT];
	struct listing_view   view;
	const char	     *fmt; /* NULL (a page), "csv" or "json" */
};

/* The ask as one string, every argument that shapes the answer in a
 * fixed order: the answer cache's key.  NULL: no memory. */
static char *
ask_key(const struct listing_ask *a)
{
	const struct listing_view *v = &a->view;
	char			  *key = NULL;
	size_t			   len = 0;
	FILE			  *f = open_memstream(&key, &len);

	if (f == NULL)
		return NULL;
	/* every text by its length first: no value can end early and pass
	 * for two (an answer kept for one ask given to another) */
	fprintf(f, "%s", a->l->name);
	for (int k = 0; k < F_COUNT; k++)
		if (a->val[k] != NULL)
			fprintf(f, " %d:%zu:%s", k, strlen(a->val[k]),
			    a->val[k]);
		else if (a->flag[k])
			fprintf(f, " %d:flag", k);
	fprintf(f, " l%ld o%ld a%lld b%lld d%d c%d s%zu:%s v%zu:%s", v->limit,
	    v->offset, v->after, v->before, v->desc, v->count,
	    v->sort != NULL ? strlen(v->sort) : 0,
	    v->sort != NULL ? v->sort : "",
	    v->values != NULL ? strlen(v->values) : 0,
	    v->values != NULL ? v->values : "");
	fclose(f);
	return key;
}

/* How far the log has grown: its highest session and message ids (from
 * the primary keys, at once on both backends). */
static int
growth_key(struct query *db, int64_t key[2])
{
	struct query_rows *st;
	int		   rc = -1;

	if ((st = query_prepare(db,
		 "SELECT (SELECT max(id) FROM sessions),"
		 " (SELECT max(id) FROM messages)")) != NULL) {
		if (query_next(st) == 1) {
			key[0] = query_int(st, 0);
			key[1] = query_int(st, 1);
			rc = 0;
		}
		query_finish(st);
	}
	return rc;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * A count of none whose filter names an anomaly or a mechanism the log
 * never saw: said in the answer ("note"), as the CLI says it on stderr.
 * A typo is likelier than a quiet log, and "Nothing." would read as
 * "none happened".  *buf is replaced; -1: out of memory.
 */
static int
note_unseen(struct query *db, const struct listing_ask *a, char **buf,
    size_t *len)
{
	char  note[256];
	FILE *f;

	if (!a->view.count || a->fmt != NULL || a->view.values != NULL ||
	    strncmp(*buf, "[{\"total\":0}", 12) != 0 ||
	    !listing_unseen_name(db, a->val, note, sizeof(note)))
		return 0;
	free(*buf);
	*buf = NULL;
	if ((f = open_memstream(buf, len)) == NULL)
		return -1;
	fputs("[{\"total\":0,\"note\":", f);
	/* named as the page names filters: "anomaly x", not "--anomaly x" */
	table_json_string(f, strncmp(note, "--", 2) == 0 ? note + 2 : note);
	fputs("}]\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

/*
 * The answer to a listing ask into *buf (JSON, or the download's CSV or
 * JSON), from the kept answers when one is fresh (*age: its seconds;
 * -1 when made now): an HTTP status, and err set when it is not 200.
 */
static unsigned
listing_answer(const struct serve_opts *o, const struct listing_ask *a,
    char **buf, size_t *len, long *age, char *err, size_t errlen)
{
	struct query	  *db;
	struct query_rows *st;
	struct timespec	   t0;
	int64_t		   grown[2] = { -1, -1 };
	char		  *key = NULL;
	FILE		  *f;
	int		   rc;

	*buf = NULL;
	*len = 0;
	*age = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((db = cli_open_log(o->db)) == NULL) {
		snprintf(err, errlen, "the log cannot be read");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	/* pages only: a download is read once, and may be large */
	if (a->fmt == NULL && o->answers != NULL &&
	    growth_key(db, grown) == 0 && (key = ask_key(a)) != NULL &&
	    answer_cache_get(o->answers, key, grown, buf, len, age) == 0) {
		free(key);
		query_close(db);
		return MHD_HTTP_OK;
	}
	if ((st = listing_prepare_view(db, a->l, a->val, a->flag, &a->view, err,
		 errlen)) == NULL) {
		free(key);
		query_close(db);
		return MHD_HTTP_BAD_REQUEST;
	}
	if ((f = open_memstream(buf, len)) == NULL) {
		free(key);
		query_finish(st);
		query_close(db);
		snprintf(err, errlen, "out of memory");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	rc = a->fmt != NULL && strcmp(a->fmt, "csv") == 0 ?
	    table_csv(f, st, 1) :
	    rows_json(f, st);
	if (rc >= 0 && (a->fmt == NULL || strcmp(a->fmt, "json") == 0))
		putc('\n', f);
	fclose(f);
	query_finish(st);
	if (rc >= 0 && note_unseen(db, a, buf, len) != 0)
		rc = -1;
	query_close(db);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		free(key);
		snprintf(err, errlen, "query failed");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	if (key != NULL)
		answer_cache_put(o->answers, key, grown, *buf, *len,
		    ms_since(&t0));
	free(key);
	return MHD_HTTP_OK;
}

/* /api/listing/NAME?filters&limit&offset&sort&desc: the listing's rows,
 * sorted by one of its columns on the server (the whole selection, not
 * a page of it); &count=1: [{"total": N}] instead.  In the listing's own
 * order, &after=KEY and &before=KEY (&last=1) page by the rows' keys:
 * the last page of a million rows as quick as the first. */
static enum MHD_Result
api_listing(struct MHD_Connection *c, const struct serve_opts *o,
    const char *name)
{
	const char *const *keys = filter_keys;
	struct listing_ask a = { .l = listing_find(name) };
	char		   disp[96], err[512], *buf;
	long		   limit, offset, age;
	size_t		   len;
	unsigned	   status;
	int		   last;

	if (a.l == NULL || (o->no_creds && strcmp(name, "creds") == 0))
		return answer_error(c, MHD_HTTP_NOT_FOUND, "no such listing");
	for (int k = 0; k < F_COUNT; k++) {
		const char *v = arg(c, keys[k]);

		if (v == NULL || *v == '\0')
			continue;
		if (is_flag(k)) /* flags: on unless "0" */
			a.flag[k] = strcmp(v, "0") != 0;
		else
			a.val[k] = v;
	}
	/* format=csv or json: the whole selection as a download */
	a.fmt = arg(c, "format");
	if (a.fmt != NULL && strcmp(a.fmt, "csv") != 0 &&
	    strcmp(a.fmt, "json") != 0)
		return answer_error(c, MHD_HTTP_BAD_REQUEST,
		    "format: csv or json");
	limit = a.fmt != NULL ?
	    number_arg(c, "limit", DOWNLOAD_MAX, DOWNLOAD_MAX) :
	    number_arg(c, "limit", LIMIT_DEFAULT, LIMIT_MAX);
	offset = number_arg(c, "offset", 0, 1L << 40);
	a.view.after = number_arg(c, "after", 0, 1L << 62);
	a.view.before = number_arg(c, "before", 0, 1L << 62);
	if (limit < 0 || offset < 0 || a.view.after < 0 || a.view.before < 0)
		return answer_error(c, MHD_HTTP_BAD_REQUEST,
		    "bad limit, offset, after or before");
	a.view.desc = switch_arg(c, "desc");
	a.view.count = switch_arg(c, "count");
	last = switch_arg(c, "last");
	if (a.view.desc < 0 || a.view.count < 0 || last < 0)
		return answer_error(c, MHD_HTTP_BAD_REQUEST,
		    "desc, count and last: 1 or 0");
	/* last=1: the last page, before a key past every row */
	if (last && a.view.after == 0)
		a.view.before = 1LL << 62;
	a.view.limit = limit ? limit : 1;
	a.view.offset = offset;
	a.view.sort = arg(c, "sort");
	if (a.view.sort != NULL && *a.view.sort == '\0')
		a.view.sort = NULL;
	a.view.values = arg(c, "values");
	if (a.view.values != NULL && *a.view.values == '\0')
		a.view.values = NULL;
	/* a filter named as the page names it ("host bogus: ..."), not
	 * by the CLI's option ("--host bogus: ...") */
	if ((status = listing_answer(o, &a, &buf, &len, &age, err,
		 sizeof(err))) != MHD_HTTP_OK)
		return answer_error(c, status,
		    strncmp(err, "--", 2) == 0 ? err + 2 : err);
	if (a.fmt == NULL)
		return answer_json_aged(c, MHD_HTTP_OK, buf, len, age);
	snprintf(disp, sizeof(disp), "attachment; filename=\"mailsift-%s.%s\"",
	    a.l->name, a.fmt);
	return answer_with(c, MHD_HTTP_OK,
	    strcmp(a.fmt, "csv") == 0 ? "text/csv; charset=utf-8" :
					"application/json; charset=utf-8",
	    csp_data,
	    MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE),
	    disp);
}

/*
 * The first page and the count of every listing, asked once in the
 * background when the server starts, as the page asks them: the slow
 * ones (hosts at a million messages) are then kept before anyone waits.
 */
static void
warm_listings(const struct serve_opts *o)
{
	for (size_t i = 0; i < nlistings; i++) {
		struct listing_ask a = { .l = &listings[i] };
		char		   err[256], *buf;
		size_t		   len;
		long		   age;

		if (__atomic_load_n(&o->stop_warming, __ATOMIC_RELAXED))
			break;
		if (o->no_creds && strcmp(a.l->name, "creds") == 0)
			continue;
		a.view.count = 1; /* as app.js asks it: limit left out */
		a.view.limit = LIMIT_DEFAULT;
		if (listing_answer(o, &a, &buf, &len, &age, err, sizeof(err)) ==
		    MHD_HTTP_OK)
			free(buf);
		/* a row more than shown where pages go by key (app.js) */
		a.view.count = 0;
		a.view.limit = LIMIT_DEFAULT + (a.l->key != NULL);
		if (listing_answer(o, &a, &buf, &len, &age, err, sizeof(err)) ==
		    MHD_HTTP_OK)
			free(buf);
	}
}

static void *
warm_thread(void *arg)
{
	warm_listings(arg);
	return NULL;
}

/* The kept answers, and their first made in the background. */
static int
answers_start(struct serve_opts *o, long recount, int warm)
{
	const char *env = getenv("MAILSIFT_ANSWER_KEEP_MS");

	/* "off": every answer made when asked (what make scale and the
	 * serve bench measure is the queries' own work) */
	if (env != NULL && strcmp(env, "off") == 0)
		return 0;
	if ((o->answers = answer_cache_new(recount)) == NULL)
		return -1;
	o->warming =
	    warm && pthread_create(&o->warm, NULL, warm_thread, o) == 0;
	return 0;
}

static void
answers_stop(struct serve_opts *o)
{
	__atomic_store_n(&o->stop_warming, 1, __ATOMIC_RELAXED);
	if (o->warming)
		pthread_join(o->warm, NULL);
	o->warming = 0;
	answer_cache_free(o->answers);
	o->answers = NULL;
}

/* The id argument: a positive integer, or -1. */
static int64_t
id_arg(struct MHD_Connection *c)
{
	long v = number_arg(c, "id", -1, 1L << 62);

	return v > 0 ? v : -1;
}

/* An object of the one row of sql and of the lists after it; a list
 * without sql is the session's transcript. */
struct part_sql {
	const char *key, *sql;
};

static enum MHD_Result
api_object(struct MHD_Connection *c, const struct serve_opts *o,
    const char *key, const char *sql, const struct part_sql *more, size_t nmore)
{
	int64_t		   id = id_arg(c);
	struct query	  *db;
	struct query_rows *st;
	char		  *buf = NULL;
	size_t		   len = 0;
	FILE		  *f;
	int		   rc, bad = 0;

	if (id < 0)
		return answer_error(c, MHD_HTTP_BAD_REQUEST, "no id");
	if ((db = cli_open_log(o->db)) == NULL)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	if ((st = query_prepare(db, sql)) == NULL) {
		query_close(db);
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "query failed");
	}
	query_bind_int(st, 1, id);
	if ((rc = query_next(st)) != 1) {
		query_finish(st);
		query_close(db);
		return answer_error(c,
		    rc == 0 ? MHD_HTTP_NOT_FOUND :
			      MHD_HTTP_INTERNAL_SERVER_ERROR,
		    rc == 0 ? "not found" : "query failed");
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		query_finish(st);
		query_close(db);
		return MHD_NO;
	}
	fprintf(f, "{\"%s\":", key);
	table_row_json(f, st, 1);
	query_finish(st);
	for (size_t i = 0; i < nmore; i++)
		if ((more[i].sql == NULL ?
			    transcript_of(f, db, id, o->no_creds) :
			    rows_of(f, db, more[i].key, more[i].sql, id)) < 0)
			bad = 1;
	fputs("}\n", f);
	fclose(f);
	query_close(db);
	if (bad) {
		free(buf);
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "query failed");
	}
	return answer_json(c, MHD_HTTP_OK, buf, len);
}

static enum MHD_Result
api_session(struct MHD_Connection *c, const struct serve_opts *o)
{
	const struct part_sql more[] = {
		{ "transcript", NULL },
		{ "messages",
		    "SELECT message_id AS id, time, proto, method, \"from\","
		    " subject, size, complete, sha256 FROM v_messages"
		    " WHERE session_id = ?1 ORDER BY message_id" },
	};

	return api_object(c, o, "session",
	    "SELECT * FROM v_sessions WHERE id = ?1", more,
	    sizeof(more) / sizeof(*more));
}

/*
 * A message's journey (v_message_journeys' rows with its key), worked
 * out over the messages that can share its key alone: those with its
 * body hash or Message-ID, and with the Message-IDs its body travelled
 * under or the bodies its Message-ID carried.  The view keys every
 * message of the log, which took most of a second at 20,000 messages;
 * this takes what the indexes give.  The same rows as the view (tested
 * against it in tests/serve.sh), in the SQL both backends read.
 */
#define JOURNEY_SQL                                                           \
	"WITH me AS (SELECT body_sha256 AS b, msg_id AS i FROM messages"      \
	" WHERE id = ?1),"                                                    \
	" candids AS (SELECT id FROM messages WHERE body_sha256 ="            \
	"  (SELECT b FROM me)"                                                \
	"  UNION SELECT id FROM messages WHERE msg_id = (SELECT i FROM me)"   \
	"  UNION SELECT id FROM messages WHERE msg_id IN (SELECT msg_id"      \
	"   FROM messages WHERE body_sha256 = (SELECT b FROM me))"            \
	"  UNION SELECT id FROM messages WHERE body_sha256 IN (SELECT"        \
	"   body_sha256 FROM messages WHERE msg_id = (SELECT i FROM me))),"   \
	" cand AS (SELECT * FROM messages WHERE id IN (SELECT id FROM"        \
	"  candids)),"                                                        \
	" ids AS (SELECT body_sha256, min(msg_id) AS msg_id,"                 \
	"  count(DISTINCT msg_id) AS n FROM cand WHERE body_sha256 IS NOT"    \
	"  NULL GROUP BY body_sha256),"                                       \
	" bodies AS (SELECT msg_id, min(body_sha256) AS body_sha256,"         \
	"  count(DISTINCT body_sha256) AS n FROM cand WHERE msg_id IS NOT"    \
	"  NULL AND body_sha256 IS NOT NULL GROUP BY msg_id),"                \
	" keyed AS (SELECT m.*, CASE WHEN m.body_sha256 IS NOT NULL THEN"     \
	"  m.body_sha256 || ' ' || coalesce(m.msg_id, CASE WHEN i.n = 1"      \
	"  THEN i.msg_id END, '') WHEN m.msg_id IS NOT NULL THEN"             \
	"  coalesce(CASE WHEN b.n = 1 THEN b.body_sha256 END, '') || ' ' ||"  \
	"  m.msg_id END AS journey FROM cand m LEFT JOIN ids i ON"            \
	"  i.body_sha256 = m.body_sha256 LEFT JOIN bodies b ON"               \
	"  b.msg_id = m.msg_id),"                                             \
	" hops AS (SELECT k.*, row_number() OVER (ORDER BY k.begin_ts, k.id)" \
	"  AS hop FROM keyed k WHERE k.journey = (SELECT journey FROM keyed"  \
	"  WHERE id = ?1))"                                                   \
	" SELECT j.hop, datetime(j.begin_ts, 'unixepoch') AS time, j.proto,"  \
	" j.method, j.direction, s.client_ip, s.server_ip, s.username AS"     \
	" \"user\", j.mailbox, j.id AS message_id, j.session_id FROM hops j"  \
	" JOIN sessions s ON s.id = j.session_id ORDER BY j.hop"

static enum MHD_Result
api_message(struct MHD_Connection *c, const struct serve_opts *o)
{
	static const struct part_sql more[] = {
		{ "headers",
		    "SELECT n, name, value, decoded FROM headers"
		    " WHERE message_id = ?1 ORDER BY n" },
		{ "parts",
		    "SELECT part, path, content_type, magic_type, filename,"
		    " size, md5, sha256, findings, archive_password FROM parts"
		    " WHERE message_id = ?1 ORDER BY part" },
		{ "archive_entries",
		    "SELECT part, n, path, size, encrypted, sha256, magic_type"
		    " FROM archive_entries WHERE message_id = ?1"
		    " ORDER BY part, n" },
		{ "urls",
		    "SELECT n, part, kind, url, host, shown_text, findings"
		    " FROM urls WHERE message_id = ?1 ORDER BY n" },
		{ "auth",
		    "SELECT n, kind, authserv, method, result, domain,"
		    " selector, body_hash_check FROM message_auth"
		    " WHERE message_id = ?1 ORDER BY n" },
		{ "yara",
		    "SELECT part, entry, rule, namespace, tags, meta"
		    " FROM yara_matches WHERE message_id = ?1"
		    " ORDER BY part, entry, rule" },
		{ "journey", JOURNEY_SQL },
	};

	return api_object(c, o, "message",
	    "SELECT * FROM v_messages WHERE message_id = ?1", more,
	    sizeof(more) / sizeof(*more));
}

/* The overview's answer made afresh into *buf (its as-of time first);
 * -1 when the log cannot be read or a query fails. */
static int
overview_make(const char *log, char **buf, size_t *len)
{
	struct query *db;
	FILE	     *f;
	char	      now[32];
	time_t	      t = time(NULL);
	int	      bad = 0;

	*buf = NULL;
	*len = 0;
	if ((db = cli_open_log(log)) == NULL)
		return -1;
	if ((f = open_memstream(buf, len)) == NULL) {
		query_close(db);
		return -1;
	}
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(f, "{\"as of\":\"%s\"", now);
	for (size_t i = 0; i < nstats_sql + noverview_sql; i++) {
		const struct stats_sql *q = i < nstats_sql ?
		    &stats_sql[i] :
		    &overview_sql[i - nstats_sql];
		struct query_rows      *st = query_prepare(db, q->sql);

		putc(',', f);
		table_json_string(f, q->title);
		putc(':', f);
		if (st == NULL || rows_json(f, st) < 0) {
			bad = 1;
			fputs(st == NULL ? "[]" : "", f);
		}
		if (st != NULL)
			query_finish(st);
	}
	fputs("}\n", f);
	fclose(f);
	query_close(db);
	if (bad) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

/* How far the log has grown (growth_key), on a connection of its own. */
static int
overview_key(const char *log, int64_t key[2])
{
	struct query *db;
	int	      rc;

	if ((db = cli_open_log(log)) == NULL)
		return -1;
	rc = growth_key(db, key);
	query_close(db);
	return rc;
}

/* A copy of the kept answer, made or made again first when it is due. */
static int
overview_get(struct overview *ov, const char *log, char **buf, size_t *len)
{
	int64_t key[2] = { -1, -1 };
	int	rc = 0;

	pthread_mutex_lock(&ov->lock);
	if (ov->json == NULL ||
	    (time(NULL) - ov->made >= ov->recount &&
		(overview_key(log, key) != 0 || key[0] != ov->key[0] ||
		    key[1] != ov->key[1]))) {
		char  *fresh;
		size_t n;

		if (overview_key(log, key) == 0 &&
		    overview_make(log, &fresh, &n) == 0) {
			free(ov->json);
			ov->json = fresh;
			ov->len = n;
			ov->key[0] = key[0];
			ov->key[1] = key[1];
		}
		ov->made = time(NULL); /* a failure is not retried at once */
	}
	if (ov->json == NULL || (*buf = malloc(ov->len)) == NULL)
		rc = -1;
	else {
		memcpy(*buf, ov->json, ov->len);
		*len = ov->len;
	}
	pthread_mutex_unlock(&ov->lock);
	return rc;
}

struct overview_warming {
	struct overview *ov;
	const char	*log;
};

static void *
overview_warm(void *arg)
{
	struct overview_warming *w = arg;
	char			*buf;
	size_t			 len;

	if (overview_get(w->ov, w->log, &buf, &len) == 0)
		free(buf);
	free(w);
	return NULL;
}

/* The kept overview, its first answer made in the background now so
 * that the first page does not wait for it. */
static struct overview *
overview_new(const char *log, long recount)
{
	struct overview		*ov = calloc(1, sizeof(*ov));
	struct overview_warming *w = malloc(sizeof(*w));

	if (ov == NULL || w == NULL) {
		free(ov);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&ov->lock, NULL);
	ov->recount = recount;
	w->ov = ov;
	w->log = log;
	if (pthread_create(&ov->warm, NULL, overview_warm, w) == 0)
		ov->warming = 1;
	else
		free(w);
	return ov;
}

static void
overview_free(struct overview *ov)
{
	if (ov == NULL)
		return;
	if (ov->warming)
		pthread_join(ov->warm, NULL);
	pthread_mutex_destroy(&ov->lock);
	free(ov->json);
	free(ov);
}

/* /api/overview: each of stats' tables and the series over time, by
 * title, for the page's pictures, with the time they were counted. */
static enum MHD_Result
api_overview(struct MHD_Connection *c, const struct serve_opts *o)
{
	char  *buf;
	size_t len;

	if (overview_get(o->overview, o->db, &buf, &len) != 0)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	return answer_json(c, MHD_HTTP_OK, buf, len);
}

/* The search statement's rows (query.h: by position) as named objects. */
static int
hits_json(FILE *f, struct query_rows *st)
{
	static const char *const names[] = { "id", "session", "time", "proto",
		"method", "from", "subject", "match" };
	int			 rc, n = 0;

	putc('[', f);
	while ((rc = query_next(st)) == 1) {
		fputs(n++ > 0 ? ",{" : "{", f);
		for (int k = 0; k < 8; k++) {
			const char *v = query_text(st, k);

			fprintf(f, "%s\"%s\":", k ? "," : "", names[k]);
			if (k <= 1)
				fprintf(f, "%lld", (long long)query_int(st, k));
			else if (v == NULL)
				fputs("null", f);
			else
				table_json_string(f, v);
		}
		putc('}', f);
	}
	putc(']', f);
	return rc == 0 ? n : -1;
}

/* /api/search?q=&about=1: how the messages come, for the page to say */
static enum MHD_Result
search_order_json(struct MHD_Connection *c, const struct search_order *how)
{
	const char *order = how->newest ? "last_logged" :
	    how->ranked			? "best" :
					  "log";
	char	   *buf = NULL;
	int n = asprintf(&buf, "{\"order\":\"%s\",\"rank_max\":%ld}", order,
	    how->rank_max);

	return n < 0 ? MHD_NO : answer_json(c, MHD_HTTP_OK, buf, (size_t)n);
}

/* /api/search?q=&limit=: messages by their text. */
static enum MHD_Result
api_search(struct MHD_Connection *c, const struct serve_opts *o)
{
	const char	   *q = arg(c, "q");
	long		    limit = number_arg(c, "limit", 50, LIMIT_MAX);
	char		    err[1200];
	struct query	   *db;
	struct query_rows  *st;
	struct search_order how;
	char		   *buf = NULL;
	size_t		    len = 0;
	FILE		   *f;
	int		    n;

	if (q == NULL || *q == '\0' || limit <= 0)
		return answer_error(c, MHD_HTTP_BAD_REQUEST, "no query");
	if ((db = cli_open_log(o->db)) == NULL)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	if ((st = search_prepare(db, q, limit, &how, err, sizeof(err))) ==
	    NULL) {
		query_close(db);
		return answer_error(c, MHD_HTTP_BAD_REQUEST, err);
	}
	if (arg(c, "about") != NULL) {
		query_finish(st);
		query_close(db);
		return search_order_json(c, &how);
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		query_finish(st);
		query_close(db);
		return MHD_NO;
	}
	n = hits_json(f, st);
	fclose(f);
	query_finish(st);
	query_close(db);
	if (n < 0) { /* a query the full-text syntax refuses */
		free(buf);
		return answer_error(c, MHD_HTTP_BAD_REQUEST, "bad query");
	}
	return answer_json(c, MHD_HTTP_OK, buf, len);
}

static enum MHD_Result message_part(struct MHD_Connection *,
    const struct serve_opts *, long id, const char *rest);

static ssize_t
read_file(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t n = fread(buf, 1, max, cls);

	(void)pos;
	return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void
close_file(void *cls)
{
	fclose(cls);
}

/* /message/N.eml: the exact bytes that crossed, as a download;
 * /message/N/part/P[.html]: one part (message_part). */
static enum MHD_Result
message_eml(struct MHD_Connection *c, const struct serve_opts *o,
    const char *idtext)
{
	char		   sha[80] = "", err[256], disp[96];
	struct query	  *db;
	struct query_rows *st;
	FILE		  *blob = NULL;
	char		  *end;
	long		   id = strtol(idtext, &end, 10);

	if (id > 0 && strncmp(end, "/part/", 6) == 0)
		return message_part(c, o, id, end + 6);
	if (id <= 0 || strcmp(end, ".eml") != 0)
		return answer_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if ((db = cli_open_log(o->db)) == NULL)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	if ((st = query_prepare(db,
		 "SELECT sha256 FROM messages"
		 " WHERE id = ?1 AND kept = 1")) != NULL) {
		query_bind_int(st, 1, id);
		if (query_next(st) == 1 && query_text(st, 0) != NULL)
			snprintf(sha, sizeof(sha), "%s", query_text(st, 0));
		query_finish(st);
	}
	if (sha[0] != '\0')
		blob = query_blob(db, sha, err, sizeof(err));
	query_close(db);
	if (blob == NULL)
		return answer_error(c, MHD_HTTP_NOT_FOUND,
		    "its bytes were not kept");
	snprintf(disp, sizeof(disp), "attachment; filename=\"message-%ld.eml\"",
	    id);
	return answer_with(c, MHD_HTTP_OK, "application/octet-stream", csp_data,
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536,
		read_file, blob, close_file),
	    disp);
}

/* One part's decoded bytes, gathered from the MIME tap's events. */
struct part_out {
	uint64_t part;
	FILE	*f;
	size_t	 n;
	int	 over;
};

static int
part_emit(void *arg, const struct md_event *ev)
{
	struct part_out *o = arg;

	if (ev->type != MD_EV_PART_DATA || ev->num[0] != o->part || o->over)
		return 0;
	if (o->n + ev->arg.len > PART_MAX) {
		o->over = 1;
		return 0;
	}
	fwrite(ev->arg.p, 1, ev->arg.len, o->f);
	o->n += ev->arg.len;
	return 0;
}

/* Part `part` of the message kept as sha, decoded again from its bytes
 * by the MIME code that read it (as extract does): 0, or -1. */
static int
part_decode(struct query *db, const char *sha, uint64_t part, char **buf,
    size_t *len)
{
	struct part_out o = { .part = part };
	struct md_sink	sink = { part_emit, &o };
	char		err[256];
	FILE	       *blob;
	int		rc;

	if ((blob = query_blob(db, sha, err, sizeof(err))) == NULL)
		return -1;
	if ((o.f = open_memstream(buf, len)) == NULL) {
		fclose(blob);
		return -1;
	}
	rc = cli_mime_replay(blob, &sink, NULL);
	fclose(blob);
	fclose(o.f);
	if (rc != 0 || o.over) {
		free(*buf);
		return -1;
	}
	return 0;
}

/* The type of a raster image by its first bytes (PNG, JPEG, GIF, WebP,
 * BMP), or NULL: what the bytes are, never what the sender declared,
 * and never SVG, whose markup could carry script. */
static const char *
image_type(const unsigned char *b, size_t n)
{
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 6 &&
	    (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(b, "RIFF", 4) == 0 &&
	    memcmp(b + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (n >= 14 && memcmp(b, "BM", 2) == 0)
		return "image/bmp";
	return NULL;
}

/*
 * /file/SHA256.image: a kept file by its content's hash, decoded, shown
 * as an image when its bytes are one (the Files view's thumbnails, a
 * message's images): typed by its signature, sandboxed like all data,
 * from this origin only (the page's policy allows images from here and
 * nowhere else); 404 when no kept message holds it or it is no image.
 */
static enum MHD_Result
file_image(struct MHD_Connection *c, const struct serve_opts *o,
    const char *rest)
{
	char		   sha[80] = "", *buf = NULL;
	const char	  *type;
	long		   part = 0;
	size_t		   len = 0;
	struct query	  *db;
	struct query_rows *st;

	if (strlen(rest) != 64 + 6 || strcmp(rest + 64, ".image") != 0 ||
	    strspn(rest, "0123456789abcdef") != 64)
		return answer_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if ((db = cli_open_log(o->db)) == NULL)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	/* the first kept message that carried it, by the hash's index */
	st = query_prepare(db,
	    "SELECT m.sha256, p.part FROM parts p JOIN messages m"
	    " ON m.id = p.message_id WHERE p.sha256 = ?1 AND m.kept = 1"
	    " ORDER BY p.message_id LIMIT 1");
	if (st != NULL) {
		char hash[65];

		snprintf(hash, sizeof(hash), "%.64s", rest);
		query_bind_text(st, 1, hash);
		if (query_next(st) == 1 && query_text(st, 0) != NULL) {
			snprintf(sha, sizeof(sha), "%s", query_text(st, 0));
			part = (long)query_int(st, 1);
		}
		query_finish(st);
	}
	if (sha[0] == '\0' || part <= 0 ||
	    part_decode(db, sha, (uint64_t)part, &buf, &len) != 0) {
		query_close(db);
		return answer_error(c, MHD_HTTP_NOT_FOUND,
		    "no such file kept, or too large");
	}
	query_close(db);
	if ((type = image_type((const unsigned char *)buf, len)) == NULL) {
		free(buf);
		return answer_error(c, MHD_HTTP_NOT_FOUND, "not an image");
	}
	return answer_with(c, MHD_HTTP_OK, type, csp_data,
	    MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE),
	    "inline");
}

/* A charset fit for a header: letters, digits, "-", "_", ".", ":". */
static int
plain_token(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 40)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || strchr("-_.:", *s)))
			return 0;
	return 1;
}

/*
 * Content-Disposition for a download under name (safe_name's, UTF-8):
 * RFC 6266's filename* with the name percent-encoded, and a plain ASCII
 * filename for clients that know no other (every byte outside printable
 * ASCII, and the quote and backslash, made '_').
 */
static void
download_disposition(const char *name, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char		  ascii[SAFE_NAME_MAX + 1], pct[3 * SAFE_NAME_MAX + 1];
	size_t		  a = 0, p = 0;

	for (const unsigned char *s = (const unsigned char *)name;
	     *s != '\0' && a < SAFE_NAME_MAX; s++) {
		ascii[a++] = *s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\' ?
		    '_' :
		    (char)*s;
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL) {
			pct[p++] = (char)*s;
		} else {
			pct[p++] = '%';
			pct[p++] = hex[*s >> 4];
			pct[p++] = hex[*s & 15];
		}
	}
	ascii[a] = '\0';
	pct[p] = '\0';
	snprintf(out, len, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
	    ascii, pct);
}

/*
 * /message/N/part/P: the part's decoded bytes, always a download;
 * /message/N/part/P.html: an HTML part for the page's sandboxed frame,
 * under a policy that runs no script and loads nothing from anywhere
 * (no tracking pixel is fetched), framed only by this server.
 */
static enum MHD_Result
message_part(struct MHD_Connection *c, const struct serve_opts *o, long id,
    const char *rest)
{
	static const char csp_html[] =
	    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
	    "frame-ancestors 'self'; sandbox";
	char		     sha[80] = "", charset[48] = "", type[96] = "";
	char		     disp[1024], ctype[96], *end, *buf = NULL;
	char		     fname[SAFE_NAME_MAX + 1] = "", fallback[64];
	long		     part = strtol(rest, &end, 10);
	int		     html = strcmp(end, ".html") == 0;
	size_t		     len = 0;
	struct query	    *db;
	struct query_rows   *st;
	struct MHD_Response *r;

	if (part <= 0 || (*end != '\0' && !html))
		return answer_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if ((db = cli_open_log(o->db)) == NULL)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	if ((st = query_prepare(db,
		 "SELECT m.sha256, p.content_type, p.charset, p.filename"
		 " FROM parts p"
		 " JOIN messages m ON m.id = p.message_id WHERE p.message_id = ?1"
		 " AND p.part = ?2 AND m.kept = 1")) != NULL) {
		query_bind_int(st, 1, id);
		query_bind_int(st, 2, part);
		if (query_next(st) == 1 && query_text(st, 0) != NULL) {
			snprintf(sha, sizeof(sha), "%s", query_text(st, 0));
			snprintf(type, sizeof(type), "%s",
			    query_text(st, 1) ? query_text(st, 1) : "");
			if (plain_token(query_text(st, 2)))
				snprintf(charset, sizeof(charset), "%s",
				    query_text(st, 2));
			snprintf(fallback, sizeof(fallback),
			    "message-%ld-part-%ld.bin", id, part);
			/* the sender's name, made safe as extract makes it */
			safe_name(query_text(st, 3) ? query_text(st, 3) : "",
			    fallback, fname, sizeof(fname));
		}
		query_finish(st);
	}
	if (sha[0] == '\0' || (html && strcmp(type, "text/html") != 0) ||
	    part_decode(db, sha, (uint64_t)part, &buf, &len) != 0) {
		query_close(db);
		return answer_error(c, MHD_HTTP_NOT_FOUND,
		    "no such part kept, or too large");
	}
	query_close(db);
	if (html) { /* as UTF-8 first, so that UTF-16 hides no tag */
		char *u8 = html_utf8(buf, len, charset, &len), *inert = NULL;

		free(buf);
		if (u8 != NULL)
			inert = html_inert(u8, len, &len);
		free(u8);
		if ((buf = inert) == NULL)
			return MHD_NO;
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (html) {
		snprintf(ctype, sizeof(ctype), "text/html; charset=utf-8");
		if (r != NULL) {
			MHD_add_response_header(r, "X-Frame-Options",
			    "SAMEORIGIN");
			/* no lookups of the names it holds, ahead of time */
			MHD_add_response_header(r, "X-DNS-Prefetch-Control",
			    "off");
		}
		return answer_with(c, MHD_HTTP_OK, ctype, csp_html, r,
		    "inline");
	}
	download_disposition(fname, disp, sizeof(disp));
	return answer_with(c, MHD_HTTP_OK, "application/octet-stream", csp_data,
	    r, disp);
}

/*
 * /session/N.pcap: the session's packets cut from the capture file it
 * began in (its frames, the filter of its addresses and ports), a
 * download for Wireshark.  The file must be where read found it.
 */
static enum MHD_Result
session_pcap(struct MHD_Connection *c, const struct serve_opts *o,
    const char *idtext)
{
	char	      file[4096] = "", filter[512] = "", err[512], disp[96];
	uint64_t      first = 0, last = 0;
	char	     *end;
	long	      id = strtol(idtext, &end, 10), n;
	long	      frame = number_arg(c, "frame", 0, 1L << 62);
	struct query *db;
	struct query_rows *st;
	FILE		  *tmp;

	if (id <= 0 || strcmp(end, ".pcap") != 0)
		return answer_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if (o->no_creds) /* the packets carry what logged in, as sent */
		return answer_error(c, MHD_HTTP_FORBIDDEN,
		    "packets carry credentials: not served with --no-creds");
	if ((db = cli_open_log(o->db)) == NULL)
		return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the log cannot be read");
	if ((st = query_prepare(db,
		 "SELECT capture_file, first_frame, last_frame, host(client_ip),"
		 " client_port, host(server_ip), server_port FROM sessions"
		 " WHERE id = ?1 AND capture_file IS NOT NULL"
		 " AND first_frame IS NOT NULL")) != NULL) {
		query_bind_int(st, 1, id);
		if (query_next(st) == 1) {
			snprintf(file, sizeof(file), "%s", query_text(st, 0));
			first = (uint64_t)query_int(st, 1);
			last = (uint64_t)query_int(st, 2);
			snprintf(filter, sizeof(filter),
			    "tcp and host %s and host %s and port %lld and"
			    " port %lld",
			    query_text(st, 3), query_text(st, 5),
			    (long long)query_int(st, 4),
			    (long long)query_int(st, 6));
		}
		query_finish(st);
	}
	query_close(db);
	if (file[0] == '\0')
		return answer_error(c, MHD_HTTP_NOT_FOUND,
		    "no capture file on record");
	if (last < first)
		last = first;
	/* ?frame=F: that one packet of the session (a transcript line's),
	 * to open in Wireshark beside the session */
	if (frame < 0)
		return answer_error(c, MHD_HTTP_BAD_REQUEST, "frame: a number");
	if (frame > 0 && ((uint64_t)frame < first || (uint64_t)frame > last))
		return answer_error(c, MHD_HTTP_NOT_FOUND,
		    "no such frame in this session");
	if (frame > 0)
		first = last = (uint64_t)frame;
	if ((tmp = tmpfile()) == NULL)
		return MHD_NO;
	if ((n = capture_cut(file, first, last, filter, fileno(tmp), err,
		 sizeof(err))) < 0) {
		fclose(tmp);
		return answer_error(c, MHD_HTTP_NOT_FOUND, err);
	}
	rewind(tmp);
	if (frame > 0)
		snprintf(disp, sizeof(disp),
		    "attachment; filename=\"session-%ld-frame-%ld.pcap\"", id,
		    frame);
	else
		snprintf(disp, sizeof(disp),
		    "attachment; filename=\"session-%ld.pcap\"", id);
	return answer_with(c, MHD_HTTP_OK, "application/vnd.tcpdump.pcap",
	    csp_data,
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536,
		read_file, tmp, close_file),
	    disp);
}

/* The token: in the Authorization header, the token argument or the
 * cookie set after it; *by_arg when it came as the argument. */
static int
authorised(struct MHD_Connection *c, const struct serve_opts *o, int *by_arg)
{
	const char *h =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	*by_arg = 0;
	if (h != NULL && strncmp(h, "Bearer ", 7) == 0)
		return guard_token_ok(o->token, h + 7);
	if (guard_token_ok(o->token, arg(c, "token")))
		return *by_arg = 1;
	return guard_token_ok(o->token,
	    MHD_lookup_connection_value(c, MHD_COOKIE_KIND, o->cookie));
}

/* A token that came in the address: kept in a cookie the page's own
 * requests carry (not script, not other sites), and out of the address
 * bar and the history by a redirect to the same path. */
static enum MHD_Result
answer_cookie(struct MHD_Connection *c, const struct serve_opts *o,
    const char *url)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0,
	    (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
	char		     cookie[256];

	if (r == NULL)
		return MHD_NO;
	snprintf(cookie, sizeof(cookie),
	    "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", o->cookie, o->token,
	    o->tls ? "; Secure" : "");
	MHD_add_response_header(r, "Set-Cookie", cookie);
	MHD_add_response_header(r, "Location", url);
	return answer_with(c, MHD_HTTP_SEE_OTHER, "text/plain", csp_data, r,
	    NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	const struct serve_opts *o = cls;
	int			 by_arg;

	(void)version;
	(void)upload;
	(void)con_cls;
	deadlines_answering(o->deadlines, c);
	if (!guard_host_ok(&o->guard,
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
		return answer_error(c, MHD_HTTP_MISDIRECTED_REQUEST,
		    "this Host is not this server's (--allow-host)");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "read-only");
	if (*upload_size != 0) /* a body with a GET: not read */
		return MHD_NO;
	if (o->token != NULL && !authorised(c, o, &by_arg))
		return answer_error(c, MHD_HTTP_UNAUTHORIZED, "token needed");
	if (o->token != NULL && by_arg && strcmp(url, "/") == 0)
		return answer_cookie(c, o, url);
	if (strcmp(url, "/") == 0)
		return answer_static(c, serve_index_html,
		    "text/html; charset=utf-8");
	if (strcmp(url, "/app.js") == 0)
		return answer_static(c, serve_app_js,
		    "text/javascript; charset=utf-8");
	if (strcmp(url, "/app.css") == 0)
		return answer_static(c, serve_app_css,
		    "text/css; charset=utf-8");
	if (strncmp(url, "/api/listing/", 13) == 0)
		return api_listing(c, o, url + 13);
	if (strcmp(url, "/api/session") == 0)
		return api_session(c, o);
	if (strcmp(url, "/api/message") == 0)
		return api_message(c, o);
	if (strcmp(url, "/api/search") == 0)
		return api_search(c, o);
	if (strcmp(url, "/api/overview") == 0)
		return api_overview(c, o);
	if (strcmp(url, "/api/filters") == 0)
		return api_filters(c, o);
	if (strncmp(url, "/message/", 9) == 0)
		return message_eml(c, o, url + 9);
	if (strncmp(url, "/session/", 9) == 0)
		return session_pcap(c, o, url + 9);
	if (strncmp(url, "/file/", 6) == 0)
		return file_image(c, o, url + 6);
	return answer_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* What every server takes: bounds on connections, time and memory, and
 * the deadlines' watch of requests that trickle in. */
#define SERVE_LIMITS(o)                                                     \
	MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNS_MAX,                   \
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(CONNS_MAX / 4),  \
	    MHD_OPTION_CONNECTION_TIMEOUT, 15u,                             \
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),        \
	    MHD_OPTION_NOTIFY_CONNECTION, deadlines_notify, (o)->deadlines, \
	    MHD_OPTION_NOTIFY_COMPLETED, deadlines_completed, (o)->deadlines

/* A socket listening on sa, or -1 with errno set.  Made here rather
 * than by libmicrohttpd, whose own message for a port taken says "port
 * 0" (the port it was not given: sa carries it). */
static int
listen_on(const struct sockaddr_storage *sa)
{
	int one = 1, e;
	int fd = socket(sa->ss_family,
	    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (sa->ss_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) !=
		    0) ||
	    bind(fd, (const struct sockaddr *)sa,
		sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					    sizeof(struct sockaddr_in)) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The server, listening on sa; NULL with errno set (0: the server
 * would not start). */
static struct MHD_Daemon *
start_daemon(struct serve_opts *o, const struct sockaddr_storage *sa,
    const char *cert, const char *key)
{
	struct MHD_Daemon *d;
	int		   fd = listen_on(sa);

	if (fd < 0)
		return NULL;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
		(o->tls ? MHD_USE_TLS : 0) |
		(sa->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, on_request, o, MHD_OPTION_LISTEN_SOCKET, fd,
	    SERVE_LIMITS(o),
	    o->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (d == NULL) /* fd not closed here: libmicrohttpd may have */
		errno = 0;
	return d;
}

struct serve {
	struct serve_opts  o;
	struct MHD_Daemon *d;
	char		  *db, *token;
	int		   port;
};

/* A server on a port of the loopback the kernel picks: its own accept,
 * as mailsift serve runs, rather than sockets handed to it. */
struct serve *
serve_open(const char *db, const char *token)
{
	struct serve		   *sv = calloc(1, sizeof(*sv));
	struct sockaddr_storage	    sa = { 0 };
	struct sockaddr_in	   *a4 = (struct sockaddr_in *)&sa;
	const union MHD_DaemonInfo *di;
	socklen_t		    salen = sizeof(sa);

	if (sv == NULL || (sv->db = strdup(db)) == NULL ||
	    (token != NULL && (sv->token = strdup(token)) == NULL))
		goto fail;
	sv->o.db = sv->db;
	sv->o.listen = "127.0.0.1:0";
	sv->o.token = sv->token;
	snprintf(sv->o.cookie, sizeof(sv->o.cookie), "mailsift_token_0");
	a4->sin_family = AF_INET;
	a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sv->o.deadlines = deadlines_new(REQUEST_SECS, CONNS_MAX + 8)) ==
		NULL ||
	    (sv->o.overview = overview_new(sv->o.db, 30)) == NULL ||
	    answers_start(&sv->o, 30, 0) != 0 ||
	    (sv->d = start_daemon(&sv->o, &sa, NULL, NULL)) == NULL ||
	    (di = MHD_get_daemon_info(sv->d, MHD_DAEMON_INFO_LISTEN_FD)) ==
		NULL ||
	    getsockname(di->listen_fd, (struct sockaddr *)&sa, &salen) != 0)
		goto fail;
	sv->port = ntohs(a4->sin_port); /* the socket's own: MHD was given it */
	return sv;
fail:
	serve_close(sv);
	return NULL;
}

int
serve_port(const struct serve *sv)
{
	return sv->port;
}

void
serve_close(struct serve *sv)
{
	if (sv == NULL)
		return;
	if (sv->d != NULL)
		MHD_stop_daemon(sv->d);
	deadlines_free(sv->o.deadlines);
	overview_free(sv->o.overview);
	answers_stop(&sv->o);
	free(sv->db);
	free(sv->token);
	free(sv);
}

/* ADDR:PORT ("127.0.0.1:8025", "[::1]:8025") into sa; its loopbackness. */
static int
parse_listen(const char *s, struct sockaddr_storage *sa, int *loopback)
{
	char	    host[64];
	long	    port;
	char	   *end;
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	if (host[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
		size_t		     l = strlen(host);

		if (l < 3 || host[l - 1] != ']')
			return -1;
		host[l - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -1;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		return 0;
	}
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -1;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

static void
serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift serve [-d LOG] [--listen ADDR:PORT] [--token-file FILE]\n"
	    "                      [--token T] [--no-token] [--allow-host NAME]\n"
	    "                      [--tls-cert FILE --tls-key FILE] [--plain-http]\n"
	    "                      [--no-creds] [--recount SECS]\n\n"
	    "The log as a read-only web application (default 127.0.0.1:8025).\n"
	    "Every request carries a token (Authorization: Bearer T, ?token=T once,\n"
	    "then a cookie): a random one printed at start unless given.\n"
	    "  -d, --db LOG           the log (default mailsift.db; a PostgreSQL URI too)\n"
	    "  --listen ADDR:PORT     where to listen (default 127.0.0.1:8025)\n"
	    "  --token-file FILE      the token in FILE; a new random one written\n"
	    "                         there (0600) when there is none\n"
	    "  --token T              the token (seen by every local user in ps:\n"
	    "                         prefer --token-file or MAILSIFT_TOKEN)\n"
	    "  --no-token             no token, on the loopback only: any local user\n"
	    "                         then reads the log\n"
	    "  --allow-host NAME      a name clients may call this server by, besides\n"
	    "                         its addresses and localhost (up to 8)\n"
	    "  --tls-cert FILE, --tls-key FILE  HTTPS with this PEM certificate and key\n"
	    "  --plain-http           plain HTTP beyond the loopback (the token and\n"
	    "                         the mail cross the network in clear)\n"
	    "  --no-creds             no credentials: no listing, passwords hidden in\n"
	    "                         transcripts, no packets\n"
	    "  --recount SECS         make a growing log's overview and slow\n"
	    "                         answers again at most this often (default\n"
	    "                         30; they are kept between)\n");
}

/* A PEM file's contents, for libmicrohttpd; NULL with a message said. */
static char *
read_pem(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long  n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > (1 << 20) || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "mailsift serve: %s: cannot be read\n", path);
		free(buf);
		buf = NULL;
	}
	if (f != NULL)
		fclose(f);
	return buf;
}

/* Where the token comes from, first found first: --token, --token-file,
 * MAILSIFT_TOKEN, else a random one.  0, or -1 said. */
static int
token_of(struct serve_opts *o, const char *file, char *buf, size_t cap,
    const char **said)
{
	char	    err[4200];
	const char *env = getenv("MAILSIFT_TOKEN");
	int	    made = 0;

	*said = "";
	if (o->token != NULL)
		return 0;
	if (file != NULL) {
		if (guard_token_file(file, buf, cap, &made, err, sizeof(err)) !=
		    0) {
			fprintf(stderr, "mailsift serve: --token-file %s\n",
			    err);
			return -1;
		}
		*said = made ? "a new token written in --token-file" :
			       "the token of --token-file";
	} else if (env != NULL && *env != '\0') {
		snprintf(buf, cap, "%s", env);
		*said = "the token of MAILSIFT_TOKEN";
	} else if (guard_token_random(buf, cap) != 0) {
		fprintf(stderr, "mailsift serve: no random bytes\n");
		return -1;
	}
	o->token = buf;
	return 0;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "no-token", no_argument, NULL, 'N' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "no-creds", no_argument, NULL, 'n' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "recount", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts	o = { .db = "mailsift.db",
		      .listen = "127.0.0.1:8025" };
	struct sockaddr_storage sa;
	struct MHD_Daemon      *d;
	struct query	       *db;
	sigset_t		stop;
	char			token[256], *cert = NULL, *key = NULL;
	const char *token_file = NULL, *cert_file = NULL, *key_file = NULL,
		   *said = "";
	int   c, loopback = 0, sig, no_token = 0, rc;
	int   plain_http = 0;
	long  recount = 30;
	char *end;

	cli_no_dump(); /* it holds the token and reads credentials */

	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1)
		switch (c) {
		case 'd':
			o.db = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 't':
			o.token = optarg;
			break;
		case 'T':
			token_file = optarg;
			break;
		case 'N':
			no_token = 1;
			break;
		case 'A':
			if (o.guard.nallow == GUARD_ALLOW_MAX) {
				fprintf(stderr,
				    "mailsift serve: --allow-host: "
				    "%d at most\n",
				    GUARD_ALLOW_MAX);
				return EXIT_USAGE;
			}
			o.guard.allow[o.guard.nallow++] = optarg;
			break;
		case 'C':
			cert_file = optarg;
			break;
		case 'K':
			key_file = optarg;
			break;
		case 'n':
			o.no_creds = 1;
			break;
		case 'P':
			plain_http = 1;
			break;
		case 'R':
			recount = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || recount < 0 ||
			    recount > 86400) {
				fprintf(stderr,
				    "mailsift serve: bad --recount '%s' "
				    "(seconds, 0 to 86400)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			serve_usage(stdout);
			return EXIT_OK;
		default:
			serve_usage(stderr);
			return EXIT_USAGE;
		}
	if (optind < argc) {
		fprintf(stderr, "mailsift serve: %s: not an option\n",
		    argv[optind]);
		return EXIT_USAGE;
	}
	if (parse_listen(o.listen, &sa, &loopback) != 0) {
		fprintf(stderr, "mailsift serve: --listen %s: not ADDR:PORT\n",
		    o.listen);
		return EXIT_USAGE;
	}
	if (no_token && (!loopback || o.token != NULL || token_file != NULL)) {
		fprintf(stderr,
		    "mailsift serve: --no-token: on the loopback "
		    "only, and without a token\n");
		return EXIT_USAGE;
	}
	if ((cert_file == NULL) != (key_file == NULL)) {
		fprintf(stderr,
		    "mailsift serve: --tls-cert and --tls-key go "
		    "together\n");
		return EXIT_USAGE;
	}
	/* the token and the credentials would cross the network in clear */
	if (!loopback && cert_file == NULL && !plain_http) {
		fprintf(stderr,
		    "mailsift serve: %s is reachable from other hosts: give "
		    "--tls-cert and --tls-key,\nor listen on the loopback and "
		    "reach it through an SSH tunnel (--plain-http if you must)\n",
		    o.listen);
		return EXIT_USAGE;
	}
	if (!no_token &&
	    token_of(&o, token_file, token, sizeof(token), &said) != 0)
		return EXIT_USAGE;
	if (o.token != NULL && strlen(o.token) < 16) {
		fprintf(stderr,
		    "mailsift serve: the token must have 16 "
		    "characters at least\n");
		return EXIT_USAGE;
	}
	if (cert_file != NULL) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			fprintf(stderr,
			    "mailsift serve: this libmicrohttpd "
			    "has no TLS\n");
			return EXIT_USAGE;
		}
		if ((cert = read_pem(cert_file)) == NULL ||
		    (key = read_pem(key_file)) == NULL) {
			free(cert);
			return EXIT_USAGE;
		}
		o.tls = 1;
	}
	snprintf(o.cookie, sizeof(o.cookie), "mailsift_token_%u",
	    ntohs(sa.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&sa)->sin6_port :
		    ((struct sockaddr_in *)&sa)->sin_port));
	rc = EXIT_USAGE;
	if ((db = cli_open_log(o.db)) == NULL) /* said why */
		goto out;
	query_close(db);
	if ((o.deadlines = deadlines_new(REQUEST_SECS, CONNS_MAX + 8)) ==
		NULL ||
	    (o.overview = overview_new(o.db, recount)) == NULL ||
	    answers_start(&o, recount, 1) != 0) {
		fprintf(stderr, "mailsift serve: out of memory\n");
		deadlines_free(o.deadlines);
		overview_free(o.overview);
		goto out;
	}
	/* SIGINT and SIGTERM are waited for here, not taken by the
	 * server's threads, which inherit this mask */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = start_daemon(&o, &sa, cert, key);
	if (d == NULL) {
		fprintf(stderr, "mailsift serve: cannot listen on %s%s%s\n",
		    o.listen, errno ? ": " : "", errno ? strerror(errno) : "");
		deadlines_free(o.deadlines);
		overview_free(o.overview);
		answers_stop(&o);
		goto out;
	}
	if (o.token == NULL)
		fprintf(stderr, "mailsift serve: %s://%s/ (%s), no token\n",
		    o.tls ? "https" : "http", o.listen, o.db);
	else if (*said == '\0') /* random: the only place it is said */
		fprintf(stderr, "mailsift serve: %s://%s/?token=%s (%s)\n",
		    o.tls ? "https" : "http", o.listen, o.token, o.db);
	else
		fprintf(stderr, "mailsift serve: %s://%s/ (%s), %s\n",
		    o.tls ? "https" : "http", o.listen, o.db, said);
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	deadlines_free(o.deadlines);
	overview_free(o.overview);
	answers_stop(&o);
	rc = EXIT_OK;
out:
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	if (o.token == token)
		explicit_bzero(token, sizeof(token));
	return rc;
}
