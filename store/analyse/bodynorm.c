/* \summary: a message body's transport-independent form (bodynorm.h) */
#include <string.h>

#include "store/analyse/bodynorm.h"
#include "store/analyse/hbsplit.h"

/* Output gathered per feed, so the hash sees few large updates. */
struct outbuf {
	struct body_norm *bn;
	uint8_t		  b[4096];
	size_t		  n;
};

static void
ob_flush(struct outbuf *o)
{
	if (o->n > 0)
		o->bn->out(o->bn->arg, o->b, o->n);
	o->bn->len += o->n;
	o->n = 0;
}

static void
ob_put(struct outbuf *o, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(o->b) - o->n < n ? sizeof(o->b) - o->n : n;

		memcpy(o->b + o->n, p, k);
		o->n += k;
		p += k;
		n -= k;
		if (o->n == sizeof(o->b))
			ob_flush(o);
	}
}

/* One character of the body with CRLF already made LF. */
static void flush_newlines(struct body_norm *, struct outbuf *);

static void
body_char(struct body_norm *bn, struct outbuf *o, uint8_t c)
{
	if (c == '\n') {
		bn->nl++;
		return;
	}
	flush_newlines(bn, o);
	ob_put(o, &c, 1);
}

void
body_norm_init(struct body_norm *bn, body_out_fn out, void *arg)
{
	memset(bn, 0, sizeof(*bn));
	bn->out = out;
	bn->arg = arg;
}

/* Line ends held back are put out once content follows them. */
static void
flush_newlines(struct body_norm *bn, struct outbuf *o)
{
	static const uint8_t lf = '\n';

	for (; bn->nl > 0; bn->nl--)
		ob_put(o, &lf, 1);
}

/*
 * The body, where nearly all bytes are: each line's content is put out
 * whole (memchr finds its LF), its CRLF or LF counted as a held-back line
 * end; a CR not before an LF is content.  Returns where it stopped: the
 * end, or a CR ending the piece, whose LF may come next.
 */
static size_t
body_run(struct body_norm *bn, struct outbuf *o, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *lf = memchr(p + i, '\n', n - i);
		size_t	       k = lf != NULL ? (size_t)(lf - p) : n;
		size_t	       end = k;

		if (lf != NULL && k > i && p[k - 1] == '\r')
			end = k - 1;
		else if (lf == NULL && p[n - 1] == '\r')
			end = n - 1; /* maybe half of a CRLF */
		if (end > i) {
			flush_newlines(bn, o);
			ob_put(o, p + i, end - i);
		}
		if (lf == NULL)
			return end;
		bn->nl++;
		i = k + 1;
	}
	return i;
}

void
body_norm_feed(struct body_norm *bn, const uint8_t *p, size_t n)
{
	struct outbuf o = { .bn = bn, .n = 0 };
	size_t	      i = hb_split_feed(&bn->hb, p, n); /* the header */

	while (i < n) {
		if (!bn->cr) {
			i += body_run(bn, &o, p + i, n - i);
			if (i == n)
				break;
		}
		if (bn->cr) {
			bn->cr = 0;
			if (p[i] == '\n') {
				body_char(bn, &o, '\n');
				i++;
				continue;
			}
			body_char(bn, &o, '\r'); /* a lone CR stays */
		}
		if (p[i] == '\r')
			bn->cr = 1;
		else
			body_char(bn, &o, p[i]);
		i++;
	}
	ob_flush(&o);
}

int
body_norm_finish(struct body_norm *bn)
{
	/* A CR left at the very end is a line end cut short: dropped. */
	bn->cr = 0;
	bn->nl = 0;
	return hb_in_body(&bn->hb) && bn->len > 0;
}
