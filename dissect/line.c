/*
 * line.c - incremental CRLF line framer (see line.h).
 *
 * RFC 5321 2.3.8 and RFC 1939/9051 end lines in CRLF; real peers also send
 * bare LF, which is accepted and flagged so that an anomaly can be raised.
 * A lone CR is line data, as in the RFCs.
 */
#include <stdlib.h>
#include <string.h>

#include "dissect/line.h"

void
line_init(struct line_buf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void
line_free(struct line_buf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

void
line_discard(struct line_buf *lb)
{
	lb->len = 0;
	lb->over = 0;
	lb->last_cr = 0;
}

int
line_pending(const struct line_buf *lb)
{
	return lb->len > 0 || lb->over;
}

/*
 * Appends up to the cap (max plus one byte for a CR); the rest of an
 * oversized line is dropped.  Remembers whether the last byte given was CR,
 * kept or not, so that the line end can be told apart later.
 */
static void
line_append(struct line_buf *lb, const uint8_t *p, size_t n)
{
	size_t	 room, want;
	uint8_t *nb;

	if (n > 0)
		lb->last_cr = p[n - 1] == '\r';
	room = lb->max + 1 - lb->len;
	if (n > room) {
		n = room;
		lb->over = 1;
	}
	if (n == 0)
		return;
	if (lb->len + n > lb->cap) {
		want = lb->cap ? lb->cap * 2 : 256;
		while (want < lb->len + n)
			want *= 2;
		if (want > lb->max + 1)
			want = lb->max + 1;
		if ((nb = realloc(lb->buf, want)) == NULL) {
			lb->over = 1; /* treat as truncation: bounded loss */
			return;
		}
		lb->buf = nb;
		lb->cap = want;
	}
	memcpy(lb->buf + lb->len, p, n);
	lb->len += n;
}

/* Fills the result and the flags that describe the line. */
static void
line_finish(struct line *out, const uint8_t *text, size_t tl, int cr, int flags)
{
	if (tl > 0 && memchr(text, '\0', tl) != NULL)
		flags |= LINE_F_NUL;
	if (!cr && !(flags & LINE_F_NO_EOL))
		flags |= LINE_F_BARE_LF;
	out->text.p = text;
	out->text.len = tl;
	out->flags = flags;
}

static void
line_cap(const struct line_buf *lb, size_t *tl, int *over)
{
	if (*tl > lb->max) {
		*tl = lb->max;
		*over = 1;
	}
}

/*
 * Consumes bytes up to and including the next LF.  Returns the number of
 * bytes consumed; out->text.p is NULL unless a complete line was found.
 * The line stays valid until the next call on this framer.
 */
size_t
line_take(struct line_buf *lb, const uint8_t *p, size_t len, struct line *out)
{
	const uint8_t *lf, *text;
	size_t	       n, tl;
	int	       cr, over;

	out->text.p = NULL;
	out->text.len = 0;
	out->flags = 0;
	if ((lf = memchr(p, '\n', len)) == NULL) {
		line_append(lb, p, len);
		return len;
	}
	n = (size_t)(lf - p);
	if (lb->len == 0 && !lb->over) {
		/* Fast path: the whole line is in the caller's bytes. */
		cr = n > 0 && p[n - 1] == '\r';
		text = p;
		tl = n;
		over = 0;
	} else {
		line_append(lb, p, n);
		cr = lb->last_cr;
		text = lb->buf;
		tl = lb->len;
		over = lb->over;
	}
	if (cr && !over && tl > 0)
		tl--;
	line_cap(lb, &tl, &over);
	line_finish(out, text, tl, cr, over ? LINE_F_TRUNCATED : 0);
	lb->len = 0;
	lb->over = 0;
	lb->last_cr = 0;
	return n + 1;
}

/*
 * Returns a last line that never got its LF (end of stream), or 0 when
 * nothing is held.
 */
int
line_flush(struct line_buf *lb, struct line *out)
{
	size_t tl;
	int    over;

	if (!line_pending(lb))
		return 0;
	tl = lb->len;
	over = lb->over;
	line_cap(lb, &tl, &over);
	line_finish(out, lb->buf, tl, 0,
	    LINE_F_NO_EOL | (over ? LINE_F_TRUNCATED : 0));
	lb->len = 0;
	lb->over = 0;
	lb->last_cr = 0;
	return 1;
}

/* ------------------------------------------------------ dot-terminated body */

enum { DOT_BOL, DOT_MID, DOT_DOT, DOT_DOT_CR };

void
dot_init(struct dot_body *d)
{
	d->st = DOT_BOL;
	d->last = '\n';
	d->bare_lf = 0;
}

static void
dot_out(struct dot_body *d, const uint8_t *p, size_t n, dot_out_fn out,
    void *arg)
{
	d->last = p[n - 1];
	out(arg, p, n);
}

/*
 * Body bytes from mid-line on, passed on in one run up to the end of the
 * last line before one that begins with a dot (or the end of what came):
 * a message reaches the sink in a few large pieces, not a line at a
 * time.  Returns the bytes passed on.
 */
static size_t
dot_run(struct dot_body *d, const uint8_t *p, size_t len, dot_out_fn out,
    void *arg)
{
	const uint8_t *q = p, *e = p + len, *lf, *last = NULL;
	size_t	       run = len;

	while ((lf = memchr(q, '\n', (size_t)(e - q))) != NULL) {
		last = lf;
		q = lf + 1;
		if (q == e || *q == '.') { /* a line's start to look at */
			run = (size_t)(q - p);
			break;
		}
	}
	if (last != NULL) {
		/* the line before a terminator tells whether it was CRLF */
		d->bare_lf = (last > p ? last[-1] : d->last) != '\r';
		if (run == (size_t)(last + 1 - p))
			d->st = DOT_BOL;
	}
	dot_out(d, p, run, out, arg);
	return run;
}

/*
 * Scans body bytes; returns how many were consumed.  When *end is set the
 * terminating line was the last byte consumed and the rest is not body.
 */
size_t
dot_take(struct dot_body *d, const uint8_t *p, size_t len, dot_out_fn out,
    void *arg, enum dot_end *end)
{
	size_t i = 0;

	*end = DOT_MORE;
	while (i < len) {
		switch (d->st) {
		case DOT_BOL:
			if (p[i] == '.') {
				d->st = DOT_DOT;
				i++;
				break;
			}
			d->st = DOT_MID;
			break;
		case DOT_MID:
			i += dot_run(d, p + i, len - i, out, arg);
			break;
		case DOT_DOT:
			if (p[i] == '\r') {
				d->st = DOT_DOT_CR;
				i++;
				break;
			}
			if (p[i] == '\n') {
				*end = DOT_END_BARE_LF;
				return i + 1;
			}
			d->st = DOT_MID; /* the dot was stuffing */
			break;
		case DOT_DOT_CR:
			if (p[i] == '\n') {
				*end = d->bare_lf ? DOT_END_BARE_LF : DOT_END;
				return i + 1;
			}
			dot_out(d, (const uint8_t *)"\r", 1, out, arg);
			d->st = DOT_MID;
			break;
		}
	}
	return len;
}
