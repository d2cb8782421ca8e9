/*
 * mime.h - the sinks that sit between the dissectors and the real sinks
 * and add to what passes through them.  Both pass every event on to the
 * next sink unchanged; put the assembler first, then the MIME tap.
 */
#ifndef MAILSIFT_MIME_H
#define MAILSIFT_MIME_H

#include "dissect/dissect.h"

/*
 * The assembler (assemble.c): when the pieces an IMAP client fetched of
 * one message (BODY[]<origin> chunks, or HEADER and TEXT) make it whole,
 * sends that message after them: MSG_BEGIN (method FETCH, extra=the
 * pieces, tx from 0x40000001), MSG_META, MSG_DATA, MSG_END.
 */
struct assembler;
struct assembler *assembler_new(const struct md_sink *next);
void		  assembler_sink(struct assembler *, struct md_sink *out);
void		  assembler_free(struct assembler *);

/*
 * The MIME tap (mime.c): for each message, parses its bytes as they
 * stream (RFC 5322, RFC 2045-2049) and adds HEADER, PART_*, TEXT and
 * ANOMALY events, so every protocol's messages are understood the same
 * way.
 */
struct mime_tap;
struct mime_tap *mime_tap_new(const struct md_sink *next);
void		 mime_tap_sink(struct mime_tap *, struct md_sink *out);
void		 mime_tap_free(struct mime_tap *);

#endif
