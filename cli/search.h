/*
 * search.h - the search language of mailsift search and serve: literal
 * words and "phrases" (full-text), and FIELD:VALUE look-ups (from: to:
 * subject: msgid: user: file: url: sha256: md5: sha1: ip:), all of
 * which must hold.
 */
#ifndef MAILSIFT_SEARCH_H
#define MAILSIFT_SEARCH_H

#include <stddef.h>

#include "store/query.h"

/* Ranking the messages a text matches takes some 4 us each (a million
 * took 1.2 s): past this many, they are given the last logged first (the
 * log's order, backwards) instead, and
 * said.  MAILSIFT_RANK_MAX sets another bound (the tests' small logs). */
#define SEARCH_RANK_MAX 20000

/* How search_prepare orders what it gives. */
struct search_order {
	int  ranked;   /* best first: the text, ranked */
	int  newest;   /* the last logged first: too many matches to rank */
	long rank_max; /* the bound it matched more than */
};

/* The matching messages (pieces left out), at most limit, best first:
 * columns id, session, time, proto, method, from, subject, match; how
 * (NULL: not asked) says how they are ordered.  NULL with err said (a
 * quote left open, a value that is not one, nothing to look for, a log
 * that is not one). */
struct query_rows *search_prepare(struct query *, const char *q, long limit,
    struct search_order *how, char *err, size_t errlen);

#define SEARCH_VALUES_MAX 16

/* A query as the messages it finds, for a listing to keep the rows of
 * (--query, serve's query=): "FROM messages m JOIN sessions s ... WHERE
 * ..." for a SELECT of m's columns, its values ?1..?nvals in vals.  0,
 * or -1 with err said as search_prepare says it. */
struct search_cond {
	char sql[8400];
	char vals[SEARCH_VALUES_MAX][1024];
	int  nvals;
};
int search_condition(struct query *, const char *q, struct search_cond *,
    char *err, size_t errlen);

#endif
