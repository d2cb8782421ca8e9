/*
 * case.h - what mailsift case's export (cmd_case.c) and its indicators
 * (case_iocs.c) share: the selection of messages, and JSON values made
 * safe from the log's text.
 */
#ifndef MAILSIFT_CASE_H
#define MAILSIFT_CASE_H

#include <jansson.h>
#include <stddef.h>

#include "store/query.h"

/* Ids, each once, in the order added (sorted by select_ids). */
struct ids {
	long  *v;
	size_t n, cap;
};
void ids_add(struct ids *, long id);
/* The ids the first column of sql gives (bound to arg when >= 0). */
void ids_query(struct query *, const char *sql, long arg, struct ids *);
/* The messages --message, --session and --search name (their sessions
 * into sids too), or every message when none is given; -1 after saying
 * why (a search that is not one). */
int select_ids(struct query *, int nmsg, char **msg, int nses, char **ses,
    const char *search, struct ids *mids, struct ids *sids);

/* A JSON string of s (NULL: null), bytes that are not UTF-8 as U+FFFD. */
json_t *jtext(const char *s);
json_t *jcol_text(struct query_rows *, int i);
json_t *jcol_int(struct query_rows *, int i);
json_t *jcol_time(struct query_rows *, int i); /* ISO 8601 UTC */
/* Unix seconds as ISO 8601 UTC with microseconds. */
void iso_time(double ts, char *out, size_t len);

/* case_tar.c: the bundle DIR as DIR.tar (its files rels, in order,
 * under DIR's name; the tar's path into out): 0, or -1.  And a tar
 * unpacked into a folder (plain files inside it only): its top folder's
 * name in top; 0, or -1 with err said. */
int case_tar_write(const char *dir, const char *const *rels, size_t n,
    char *out, size_t outlen);
int case_tar_unpack(const char *tar, const char *into, char *top, size_t toplen,
    char *err, size_t errlen);

/* case_iocs.c: mailsift case iocs */
int case_iocs(int argc, char **argv);

#endif
