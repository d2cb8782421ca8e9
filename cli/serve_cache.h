/*
 * serve_cache.h - serve's slow answers, kept while the log is the same.
 *
 * Some answers read every row of a large log by their nature: the hosts
 * (every session summed), a listing's count, a column's values.  At a
 * million messages they take seconds, and an analyst asks them again and
 * again (back, forward, another analyst on the same log).  An answer
 * that took ANSWER_CACHE_MIN_MS or more is kept with the log's growth key
 * (its highest session and message ids then); it is given again while
 * the key is the same, or, on a log that grows (a sensor's), for up to
 * --recount seconds as the overview is.  Bounded in entries and bytes,
 * the least recently used let go first.
 */
#ifndef MAILSIFT_SERVE_CACHE_H
#define MAILSIFT_SERVE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define ANSWER_CACHE_MIN_MS  50
#define ANSWER_CACHE_ENTRIES 64
#define ANSWER_CACHE_BYTES   (32u << 20)

struct answer_cache;

/* MAILSIFT_ANSWER_KEEP_MS, when set, replaces ANSWER_CACHE_MIN_MS (the
 * tests keep every answer, on logs where none is slow); "off" (serve's
 * own reading of it) keeps none and warms none. */
struct answer_cache *answer_cache_new(long recount);
void		     answer_cache_free(struct answer_cache *);
/* A copy of the answer kept for key, if it is fresh for a log whose
 * growth key is now[2]: 0 with *buf (malloc'd), *len and *age (seconds
 * since it was made); -1 none. */
int answer_cache_get(struct answer_cache *, const char *key,
    const int64_t now[2], char **buf, size_t *len, long *age);
/* Keeps a copy of the answer to key, computed in ms milliseconds on the
 * log whose growth key was at[2] (a quick one is not kept). */
void answer_cache_put(struct answer_cache *, const char *key,
    const int64_t at[2], const char *buf, size_t len, double ms);

#endif
