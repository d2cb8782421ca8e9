/*
 * bodynorm.h - a message body in a form that survives transport, to link
 * the copies of one message seen on different hops (v_message_journeys).
 *
 * Relays add header fields (Received, Return-Path, Delivered-To, ...)
 * and stores change line endings, but the body after the header block
 * crosses intact.  The normal form is: everything after the first empty
 * line, CRLF turned into LF, trailing line ends dropped.  A message
 * without an empty line, or with nothing after it, has no body form.
 *
 * Push parser: any split of the bytes gives the same output.
 */
#ifndef MAILSIFT_BODYNORM_H
#define MAILSIFT_BODYNORM_H

#include <stddef.h>
#include <stdint.h>

#include "store/analyse/hbsplit.h"

typedef void (*body_out_fn)(void *arg, const uint8_t *p, size_t n);

struct body_norm {
	struct hb_split hb;  /* the header, skipped */
	int		cr;  /* a CR waits for its LF */
	uint64_t	nl;  /* line ends held back: dropped if trailing */
	uint64_t	len; /* body bytes put out */
	body_out_fn	out;
	void	       *arg;
};

void body_norm_init(struct body_norm *, body_out_fn, void *arg);
void body_norm_feed(struct body_norm *, const uint8_t *p, size_t n);
/* 1 when the message had a body; trailing line ends are not put out. */
int body_norm_finish(struct body_norm *);

#endif
