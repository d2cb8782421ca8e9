/*
 * listings.h - the SQL of the analyst's listings (sessions, messages,
 * creds, attachments, urls, tls, findings) and of a session's
 * transcript, shared by the CLI's commands and mailsift serve: one SQL,
 * in the subset SQLite and PostgreSQL both read.
 */
#ifndef MAILSIFT_LISTINGS_H
#define MAILSIFT_LISTINGS_H

#include <stddef.h>
#include <time.h>

#include "store/query.h"

/* What a user may filter on; each listing says which apply, and how. */
enum filter {
	F_PROTO,
	F_HOST,
	F_USER,
	F_FROM,
	F_TO,
	F_SUBJECT,
	F_SINCE,
	F_UNTIL,
	F_TLS,
	F_FAILED,
	F_CREDS,       /* a password or a token crossed */
	F_ATTACHMENTS, /* a message with an attachment */
	F_ANOMALIES,   /* an anomaly was logged */
	F_NAME,	       /* a file name, in part */
	F_HASH,	       /* a file's MD5, SHA-1 or SHA-256 */
	F_OUTCOME,     /* accepted, rejected, unknown, retrieved, ... */
	F_PIECES,      /* messages: the pieces (TOP, partial FETCH) too */
	F_CLIENT,      /* the client's address, or its network */
	F_SERVER,      /* the server's */
	F_QUERY,       /* the search language: rows of the messages found */
	F_FINDING,     /* a kind of TLS finding (starttls_not_used, ...) */
	F_ANOMALY,     /* sessions: an anomaly of this name was logged */
	F_MECHANISM,   /* creds: the SASL mechanism, USER or APOP */
	F_PORT,	       /* the server's port */
	F_COUNT
};

/*
 * A time (a column, or the expression the views compute it by) as text
 * no index matches, for a span of time: the span is read in the
 * listing's own order, not through the index on time that serves a sort
 * (messages_time, sessions_start_time).  SQLite cannot tell how many
 * rows a span holds: given the index it read a span as wide as the log
 * through it and sorted every row for a first page its own order finds
 * at once (tests/scale.sh).  Text to text, on PostgreSQL too.
 */
#define LISTING_SPAN_TIME(t) "(" t " || '')"

/* The CLI's option for each ("--proto", ...). */
extern const char *const filter_opt[F_COUNT];

/* A column's values as the log keeps them, most first: head, a LIMIT,
 * then tail. */
struct listing_values {
	const char *column, *head, *tail;
};

struct listing {
	const char *name;
	const char *what; /* for --help */
	const char *select;
	/* SQL with ? for the value; NULL: n/a.  F_HASH's has %s where the
	 * column its value's length names goes (md5, sha1, sha256); F_QUERY's
	 * %s where the found messages' FROM ... WHERE goes (search_condition)
	 */
	const char *where[F_COUNT];
	const char *order;
	const char *whole; /* a condition unless --pieces (NULL: none) */
	/* how many rows there are when no filter is on, from the indexes
	 * alone (NULL: the rows counted); a million in a tenth of a second
	 * where counting the listing's rows joins every one */
	const char *count_all;
	/* the column of its order, where the listing is in the order of
	 * one key, by which a page is asked for after or before a row
	 * (keyset paging: the millionth page as fast as the first; NULL:
	 * by offset only) */
	const char *key;
	/* columns whose values with no filter on the log keeps (NULL
	 * ends them; NULL: none) */
	const struct listing_values *values_all;
	/* the filters (1 << F_...) that count_kept (or count_all, where
	 * there is none) answers too, their SQL the listing's own put after
	 * it as its WHERE: a selection's count from the sums where the rows
	 * it counts are not kept (0: none) */
	unsigned count_takes;
	/* the values --outcome takes, NULL ended (NULL: a message's) */
	const char *const *outcomes;
	/* the view whose rows a walk in the listing's order asks --outcome
	 * of, each by its message, to stop at its page (NULL:
	 * where[F_OUTCOME] is asked of each row already) */
	const char *outcome_each;
	/* the count of a selection count_takes answers from the sums,
	 * where count_all is the indexes' (NULL: count_all) */
	const char *count_kept;
};

extern const struct listing listings[];
extern const size_t	    nlistings;

/* The protocol v names (any case), as the log writes it; NULL: none. */
const char	     *listing_proto(const char *v);
const struct listing *listing_find(const char *name);
/*
 * The listing's rows: filters (val: a value, flag: on) checked and bound,
 * in its order, limit and offset when > 0; NULL with err set (a value
 * that is not one: an unknown protocol, an address, a time; a filter
 * that does not apply; a log that is not one).  Text filters (--user,
 * --from, --to, --subject, --name) are case-blind: a value with * or ?
 * is a pattern of the whole value, any other a part of it.  Times are
 * ISO 8601 (a date, a time with or without a zone; UTC when none),
 * "today", "yesterday", or relative ("30m", "2h", "7d", "2w" ago).
 * --host takes an address or a network (CIDR).
 */
struct query_rows *listing_prepare(struct query *, const struct listing *,
    const char *const val[F_COUNT], const int flag[F_COUNT], long limit,
    long offset, char *err, size_t errlen);

/* How a listing's rows are asked for: a page (limit, offset: 0 for
 * none; past the middle of a keyed listing with no filter on, asked
 * from the end), sorted by one of its columns (sort, NULL: its own
 * order; desc: the other way, and with no sort a keyed listing's key
 * largest first), or only counted (count: one row, total). */
struct listing_view {
	long	    limit, offset;
	const char *sort;
	int	    desc, count;
	/* a column: its distinct values in the selection and how many rows
	 * have each, most first (value, count), at most limit (Arkime's SPI
	 * view); sort, desc and offset do not apply */
	const char *values;
	/* the page after the row of this key, or before it (the last page:
	 * before a key past every row), in the listing's own order; 0:
	 * none.  Only where the listing has a key, without sort, values,
	 * count or offset. */
	long long after, before;
};
struct query_rows *listing_prepare_view(struct query *, const struct listing *,
    const char *const val[F_COUNT], const int flag[F_COUNT],
    const struct listing_view *, char *err, size_t errlen);
/* Whether name is one of the listing's columns (a sort may name it),
 * in any case; listing_column also writes it as the listing spells it. */
int listing_has_column(const struct listing *, const char *name);
int listing_column(const struct listing *, const char *name, char *out,
    size_t outlen);
/*
 * An empty answer explained: a name filter (--anomaly, --mechanism)
 * whose value the log has never seen, said in out (1); 0: none such.
 */
int listing_unseen_name(struct query *, const char *const val[F_COUNT],
    char *out, size_t len);

/* A text filter's value as a LIKE pattern (ESCAPE '\'): its own %, _
 * and \ escaped; * and ? wildcards of the whole value; else a part of
 * it.  out holds 2 * strlen(v) + 3 bytes at most. */
void listing_like_pattern(const char *v, char *out, size_t len);
/* The ids of the messages whose From, To or Cc may hold LIKE pattern
 * pat (listing_like_pattern's) by the log's trigram index, where it has
 * one and it finds few, into out as what an IN ( ) takes (a list, or
 * the index's SELECT where the list is long): 1; else 0 (read every
 * row).  The caller's own LIKE on its column keeps the rows exact. */
int listing_addr_rows(struct query *db, const char *pat, char *out, size_t len);
/* A time as the filters and the search language take it (listing_prepare's
 * forms), plus seconds, into out as the log's times read (UTC,
 * "2024-01-31 17:00:00"): 0, or -1 when it is not one. */
int listing_time(const char *v, time_t now, long plus, char *out, size_t len);
/* An MD5, SHA-1 or SHA-256 in hex: 0, or -1. */
int listing_hash_ok(const char *v);
/* The column a hash that listing_hash_ok took can be, by its length:
 * "md5", "sha1" or "sha256" (the log's name of each). */
const char *listing_hash_column(const char *v);
/* An address, or a network in CIDR form: 0, or -1. */
int listing_net_ok(const char *v);
/* An address as the log writes it (inet_ntop's form: "2001:db8::1" for
 * "2001:DB8:0::1"), a network as given; the value checked before. */
void listing_canonical_address(const char *v, char *out, size_t len);

/* A session's transcript (?1: its id): ts, who, text, path, frame. */
extern const char listing_show_sql[];
extern const char listing_show_nocreds_sql[]; /* its passwords hidden */

/* mailsift stats, and the web view's overview: a title and a query
 * each. */
struct stats_sql {
	const char *title, *sql;
};
extern const struct stats_sql stats_sql[];
extern const size_t	      nstats_sql;
/* The overview's series over time (a row per day). */
extern const struct stats_sql overview_sql[];
extern const size_t	      noverview_sql;

#endif
