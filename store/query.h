/*
 * query.h - reading a log: a connection that runs SQL over the log's
 * tables and views and hands the rows back, whatever backend keeps it.
 * The CLI's listing, search, export and extract commands use only this.
 *
 * Strings returned are valid until the next call on the same rows.
 */
#ifndef MAILSIFT_QUERY_H
#define MAILSIFT_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct query;	   /* a read-only connection to a log */
struct query_rows; /* a prepared statement and its rows */

enum query_type {
	QUERY_NULL,
	QUERY_INTEGER,
	QUERY_REAL,
	QUERY_TEXT,
	QUERY_BLOB
};

/* Opens the log named where read-only; NULL with err set when it cannot
 * (missing file, not a mailsift log, server unreachable). */
struct query *query_open(const char *where, char *err, size_t errlen);
void	      query_close(struct query *);
/* The last error of the connection, for a message. */
const char *query_error(const struct query *);

/* Prepares sql (parameters are ?, numbered from 1); NULL on error. */
struct query_rows *query_prepare(struct query *, const char *sql);
void		   query_bind_int(struct query_rows *, int i, int64_t v);
void		   query_bind_text(struct query_rows *, int i, const char *v);
/* Steps to the next row: 1 a row, 0 no more, -1 an error. */
int query_next(struct query_rows *);
/* Reads up to the first row within about ms milliseconds: 1 within
 * them, the next query_next giving that row (or a backend that cannot
 * stop a query part way, nothing read), 0 over them, back to before the
 * first row, -1 an error (the rows say it when read). */
int query_try(struct query_rows *, long ms);
/* Back to before the first row, bindings kept, for another run. */
void		query_reset(struct query_rows *);
int		query_columns(const struct query_rows *);
const char     *query_name(const struct query_rows *, int i);
enum query_type query_type(const struct query_rows *, int i);
/* A column of the row at hand, from 0; text is NULL for SQL NULL. */
const char *query_text(const struct query_rows *, int i);
int64_t	    query_int(const struct query_rows *, int i);
double	    query_real(const struct query_rows *, int i);
void	    query_finish(struct query_rows *);

/*
 * The rows of the messages whose text matches ?1, in the full-text
 * syntax of the backend (SQLite FTS5; PostgreSQL websearch): columns id
 * (messages.id), match (the words in context) and score (best lowest),
 * to be joined and ordered by the caller (cli/search.c).
 */
const char *query_search_sql(const struct query *);
/* Whether the backend orders NULL below every value (first when
 * ascending: SQLite) rather than above (last: PostgreSQL): 1 or 0. */
int query_nulls_low(const struct query *);
/* What goes before a sort's column where filters pick the rows, so that
 * the rows are read by the filters and sorted, not walked in the order
 * of the column's index and each tried against the filters: SQLite's
 * unary + (without statistics it walks the index: 3.4 s at a million
 * messages for a day that holds none, where reading every row takes
 * 0.23 s); "" for PostgreSQL, whose planner weighs the filters itself. */
const char *query_sort_filtered(const struct query *);
/* A message's outcome in a SQLite log, from its own row (m: the table's
 * alias and a dot, or ""), as v_messages works it out: the expression of
 * the index messages_sort_outcome (sqlite.c), and what a listing's walk
 * (SQLite only: the filters' SQL above) asks of each row's message,
 * where v_messages would join its session too.  Kept as schema.sql's
 * view has it (test_stats checks them alike). */
#define QUERY_SQLITE_OUTCOME(m)                                             \
	"CASE WHEN " m "direction = 's2c' THEN CASE WHEN " m "complete = 1" \
	" THEN 'retrieved' ELSE 'incomplete' END ELSE coalesce(" m          \
	"sent_outcome, 'unknown') END"
/* Whether the log has a trigram index of the messages' From, To and Cc
 * to ask for rows (message_addrs, SQLite's FTS5: sqlite_addrs.c), 1 or
 * 0; PostgreSQL's planner takes its own (pg_trgm) by itself. */
int query_addr_index(struct query *);
/* Whether each message's row keeps what its outcome is worked out from
 * (QUERY_SQLITE_OUTCOME: a SQLite log written since sent_outcome), 1 or
 * 0 (an older log, whose v_messages works it out from the replies; and
 * PostgreSQL, which never walks a listing). */
int query_outcome_kept(struct query *);
/* The kept bytes of the message whose SHA-256 is sha, to read from
 * the start (the caller closes it); NULL with err set. */
FILE *query_blob(struct query *, const char *sha, char *err, size_t errlen);

#endif
