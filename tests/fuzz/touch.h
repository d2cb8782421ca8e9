/*
 * touch.h - the fuzz targets' sink reads every field of every event, as
 * the store does, and keeps nothing: touching every byte makes ASan check
 * each one, so an over-read in any field is seen, not only in name and
 * arg.
 */
#ifndef MAILSIFT_FUZZ_TOUCH_H
#define MAILSIFT_FUZZ_TOUCH_H

#include <stdint.h>

#include "dissect/dissect.h"

static inline void
touch_bytes(uint8_t *sum, struct md_bytes b)
{
	for (size_t i = 0; i < b.len; i++)
		*sum ^= b.p[i];
}

static inline int
touch_event(void *arg, const struct md_event *ev)
{
	uint8_t *sum = arg;

	touch_bytes(sum, ev->name);
	touch_bytes(sum, ev->arg);
	touch_bytes(sum, ev->extra);
	touch_bytes(sum, ev->aux);
	touch_bytes(sum, ev->proof);
	*sum ^= (uint8_t)(ev->type ^ ev->dir ^ ev->seq ^ ev->tx ^
	    (unsigned)ev->code ^ (unsigned)ev->status ^ (unsigned)ev->tls ^
	    ev->ts_us ^ ev->num[0] ^ ev->num[1] ^ ev->num[2] ^ ev->num[3]);
	if (ev->flow != NULL)
		*sum ^= (uint8_t)(ev->flow->id ^ ev->flow->frame ^
		    (uint64_t)ev->flow->offset ^ ev->flow->cli_port ^
		    ev->flow->cli_addr[15]);
	return 0;
}

#endif
