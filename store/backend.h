/*
 * backend.h - what a store backend implements.  store.c and query.c pick
 * the backend whose takes() accepts the log's name (a file path, or a
 * URI such as postgresql://...) and forward store.h's and query.h's calls
 * to it; the dissectors and the CLI never see which one it is.
 *
 * The write side is a sink for the events of dissect.h plus the rows of
 * a run (captures read, capture statistics); the read side is a
 * connection that runs SQL over the log's tables and views, which every
 * backend names the same (doc/schema.md).
 */
#ifndef MAILSIFT_BACKEND_H
#define MAILSIFT_BACKEND_H

#include <stddef.h>
#include <stdio.h>

#include "store/query.h"
#include "store/store.h"

struct store_backend {
	const char *name;
	/* Whether this backend keeps the log named where. */
	int (*takes)(const char *where);

	/* Write side: the meaning of each is that of store.h's namesake. */
	void *(*open)(const struct store_opts *, char *err, size_t errlen);
	int (*emit)(void *, const struct md_event *);
	void (*set_capture_file)(void *, const char *);
	void (*add_capture)(void *, const struct store_capture *);
	void (*add_interval)(void *, const struct store_interval *);
	int (*rotate)(void *, const char *path, char *err, size_t errlen);
	/* once, first thing in the process (NULL: nothing to do) */
	void (*library_init)(void);
	/* NULL: a rotation needs nothing made first */
	int (*rotate_ready)(void *, const char *path, char *err, size_t errlen);
	void (*flush)(void *);
	void (*settle)(void *); /* writes every row waiting for digests */
	/* store_take_over (SQLite's only) */
	int (*take_over)(const char *prev, int64_t *last_session, char *err,
	    size_t errlen);
	/* NULL where the backend does not track them (spooled stores) */
	size_t (*take_ended)(void *, int64_t *ids, size_t cap);
	const struct store_stats *(*stats)(const void *);
	long (*run_id)(const void *);
	const char *(*last_error)(const void *);
	int (*health)(const void *, char *buf, size_t len);
	/* Makes the log ready for writers that start together: created (or
	 * with force replaced), its tables made; no run. */
	int (*prepare)(const struct store_opts *, char *err, size_t errlen);
	/* Once they have all ended: what one writer does as it closes the
	 * log (SQLite: its sort indexes); NULL where there is nothing. */
	int (*finish)(const struct store_opts *, char *err, size_t errlen);
	int (*close)(void *, int status);

	/* Read side: a connection of query.h, or NULL with err set. */
	struct query *(
	    *query_open)(const char *where, char *err, size_t errlen);
};

/* The read side's operations, behind struct query (query.c dispatches). */
struct query_ops {
	void (*close)(struct query *);
	const char *(*error)(const struct query *);
	struct query_rows *(*prepare)(struct query *, const char *sql);
	void (*bind_int)(struct query_rows *, int i, int64_t v);
	void (*bind_text)(struct query_rows *, int i, const char *v);
	int (*next)(struct query_rows *);
	void (*reset)(struct query_rows *);
	int (*try_within)(struct query_rows *, long ms);
	int (*columns)(const struct query_rows *);
	const char *(*name)(const struct query_rows *, int i);
	enum query_type (*type)(const struct query_rows *, int i);
	const char *(*text)(const struct query_rows *, int i);
	int64_t (*integer)(const struct query_rows *, int i);
	double (*real)(const struct query_rows *, int i);
	void (*finish)(struct query_rows *);
	const char *(*search_sql)(const struct query *);
	int (*nulls_low)(const struct query *);
	const char *(*sort_filtered)(const struct query *);
	int (*addr_index)(struct query *);
	int (*outcome_kept)(struct query *);
	FILE *(
	    *blob)(struct query *, const char *sha, char *err, size_t errlen);
};

/* Every backend starts its connection and row structs with these. */
struct query {
	const struct query_ops *ops;
};

struct query_rows {
	const struct query_ops *ops;
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_pg;
extern const struct store_backend store_backend_sqlite_shared;

/* The read sides, for backends that share one. */
struct query *sqlite_query_open(const char *path, char *err, size_t errlen);
struct query *pg_query_open(const char *where, char *err, size_t errlen);
int	      pg_takes(const char *where);

/* The backend that keeps the log named where; NULL with err set. */
const struct store_backend *store_backend_for(const char *where, char *err,
    size_t errlen);

#endif
