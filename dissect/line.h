/*
 * line.h - incremental line framer for text protocols.
 *
 * Bytes go in as they arrive; complete lines come out.  A line that lies
 * whole inside the input is returned in place (no copy); only a line split
 * across calls is assembled in the framer's own buffer, which never grows
 * past its cap: the rest of an oversized line is dropped up to its LF.
 */
#ifndef MAILSIFT_LINE_H
#define MAILSIFT_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"

#define LINE_F_BARE_LF	 0x01 /* ended in LF without CR */
#define LINE_F_TRUNCATED 0x02 /* longer than the cap: tail dropped */
#define LINE_F_NUL	 0x04 /* contains a NUL byte */
#define LINE_F_NO_EOL	 0x08 /* flushed at end of stream, no LF */

struct line_buf {
	uint8_t *buf;
	size_t	 len;	  /* bytes held */
	size_t	 cap;	  /* bytes allocated */
	size_t	 max;	  /* longest line kept */
	int	 over;	  /* current line exceeded max */
	int	 last_cr; /* last byte seen of the line was CR */
};

struct line {
	struct md_bytes text; /* without CR LF */
	int		flags;
};

void   line_init(struct line_buf *, size_t max);
void   line_free(struct line_buf *);
size_t line_take(struct line_buf *, const uint8_t *p, size_t len,
    struct line *out);
int    line_flush(struct line_buf *, struct line *out);
int    line_pending(const struct line_buf *);
/* Drops a partial line (bytes were lost: what follows is no part of it). */
void line_discard(struct line_buf *);

/*
 * A dot-terminated body: SMTP DATA (RFC 5321 4.5.2), POP3 multi-line
 * responses (RFC 1939 3).  A line holding only "." ends it; a leading dot
 * on any other line is transparency and is removed.  The CRLF before the
 * final dot belongs to the body.  Body bytes leave through out() in the
 * pieces they arrived in, never held.
 */
enum dot_end {
	DOT_MORE = 0,	/* the body goes on */
	DOT_END,	/* ended by CRLF "." CRLF */
	DOT_END_BARE_LF /* ended, but a bare LF framed the dot: ambiguous */
};

struct dot_body {
	uint8_t st;
	uint8_t last;	 /* last byte given to out() */
	uint8_t bare_lf; /* the line before ended in a bare LF */
};

typedef void (*dot_out_fn)(void *arg, const uint8_t *p, size_t n);

void   dot_init(struct dot_body *);
size_t dot_take(struct dot_body *, const uint8_t *p, size_t len, dot_out_fn out,
    void *arg, enum dot_end *end);

#endif /* MAILSIFT_LINE_H */
