/*
 * hbsplit.h - where a message's header ends and its body begins.
 *
 * Pushed the message's bytes in any split, it says how many of them
 * belong to the header: the header ends with its first empty line, a
 * line with nothing before its LF but an optional CR (RFC 5322 2.1; a
 * bare LF ends a line too, as mail crosses loopback and Unix tools).
 * Body normalisation (bodynorm.h) and the DKIM body canonicalisations
 * (msgauth.h) both start where it says.
 */
#ifndef MAILSIFT_HBSPLIT_H
#define MAILSIFT_HBSPLIT_H

#include <stddef.h>
#include <stdint.h>

struct hb_split {
	int state; /* HB_* in hbsplit.c; 0: at the start of the header */
};

/* How many of the n bytes at p are the header's (its empty line
 * included): n while it goes on, 0 once the body has begun. */
size_t hb_split_feed(struct hb_split *, const uint8_t *p, size_t n);
int    hb_in_body(const struct hb_split *);

#endif
