/* \summary: uuencoded files inside mail text, and x-uuencode parts */
/*
 * POSIX uuencode, "historical algorithm" (IEEE Std 1003.1, uuencode):
 *
 *   begin 644 report.doc
 *   M<encoded 45 bytes as 60 characters>
 *   ...
 *   `
 *   end
 *
 * Outside a block, bytes pass through to the text callback as they come
 * (they are the message's readable text).  From the line after "begin",
 * each line is held (UU_LINE_MAX) until its end shows whether it is
 * uuencoded: if so it is decoded and kept out of the text, if not the
 * block ends there, cut short, and the line is text after all.  A prose
 * line is not mistaken for data: its length character must announce as
 * many characters as the line has (give or take what encoders strip or
 * add), and every character must lie in 0x20-0x60, which excludes
 * lower-case letters.
 */
#include <string.h>

#include "dissect/uu.h"

enum { UU_OUT, UU_BEGUN, UU_IN };

#define UU_SHORT_OK 3 /* trailing characters a transport may strip */
#define UU_EXTRA_OK 2 /* checksum or padding characters some add */

static int
uu_char(uint8_t c)
{
	return c >= 0x20 && c <= 0x60 ? (c - 0x20) & 0x3f : -1;
}

int
uu_begin_line(const uint8_t *p, size_t n, char *name, size_t cap)
{
	size_t i = 6, d = 0, k;

	if (n < 6 || memcmp(p, "begin ", 6) != 0)
		return 0;
	while (i < n && p[i] >= '0' && p[i] <= '7' && d < 5)
		i++, d++;
	if (d < 3 || d > 4 || i >= n || p[i] != ' ')
		return 0;
	while (i < n && p[i] == ' ')
		i++;
	while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (i >= n || cap == 0)
		return 0;
	k = n - i < cap - 1 ? n - i : cap - 1;
	memcpy(name, p + i, k);
	name[k] = '\0';
	return 1;
}

static int
is_end_line(const uint8_t *p, size_t n)
{
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n == 3 && memcmp(p, "end", 3) == 0;
}

int
uu_decode_line(const uint8_t *p, size_t n, uint8_t out[UU_BYTES_MAX])
{
	int	len, have, want;
	uint8_t q[4];

	if (n == 0)
		return 0;
	if ((len = uu_char(p[0])) < 0 || len > UU_BYTES_MAX)
		return -1;
	have = (int)n - 1;
	want = (len + 2) / 3 * 4;
	if (have < want - UU_SHORT_OK || have > want + UU_EXTRA_OK)
		return -1;
	for (int i = 1; i <= have; i++)
		if (uu_char(p[i]) < 0)
			return -1;
	for (int o = 0, i = 1; o < len; o += 3, i += 4) {
		for (int j = 0; j < 4; j++)
			q[j] = (uint8_t)(i + j <= have ? uu_char(p[i + j]) : 0);
		out[o] = (uint8_t)(q[0] << 2 | q[1] >> 4);
		if (o + 1 < len)
			out[o + 1] = (uint8_t)(q[1] << 4 | q[2] >> 2);
		if (o + 2 < len)
			out[o + 2] = (uint8_t)(q[2] << 6 | q[3]);
	}
	return len;
}

void
uu_init(struct uu_scan *s)
{
	memset(s, 0, sizeof(*s));
}

static void
text(const struct uu_cb *cb, const uint8_t *p, size_t n)
{
	if (cb->text != NULL && n > 0)
		cb->text(cb->arg, p, n);
}

/* The held line was not uuencoded: the block ends, the line is text. */
static void
block_broken(struct uu_scan *s, const struct uu_cb *cb)
{
	if (s->state == UU_IN)
		cb->end(cb->arg, 0);
	s->state = UU_OUT;
	text(cb, s->line, s->len);
}

/* A whole line is in s->line (its head, if s->over); eol: its LF came. */
static void
line_end(struct uu_scan *s, int eol, const struct uu_cb *cb)
{
	uint8_t out[UU_BYTES_MAX];
	size_t	n = s->len;
	int	r;

	if (n > 0 && s->line[n - 1] == '\r')
		n--;
	if (s->state != UU_OUT) {
		uint64_t raw = s->len + (eol ? 1 : 0);

		if (is_end_line(s->line, n)) {
			s->raw += raw;
			if (s->state == UU_BEGUN)
				cb->begin(cb->arg, s->name);
			cb->end(cb->arg, 1);
			s->state = UU_OUT;
			return;
		}
		r = uu_decode_line(s->line, n, out);
		if (r > 0 || (r == 0 && s->state == UU_IN)) {
			s->raw += raw;
			if (s->state == UU_BEGUN)
				cb->begin(cb->arg, s->name);
			s->state = UU_IN;
			if (r > 0)
				cb->data(cb->arg, out, (size_t)r);
			return;
		}
		block_broken(s, cb);
		if (eol)
			text(cb, (const uint8_t *)"\n", 1);
	}
	if (!s->over && uu_begin_line(s->line, n, s->name, sizeof(s->name))) {
		s->state = UU_BEGUN;
		s->raw = s->len + (eol ? 1 : 0);
	}
}

/* k bytes of one line; eol when they end with its LF. */
static void
take(struct uu_scan *s, const uint8_t *p, size_t k, int eol,
    const struct uu_cb *cb)
{
	size_t body = eol ? k - 1 : k;
	size_t fit = UU_LINE_MAX - s->len;

	if (fit > body)
		fit = body;
	memcpy(s->line + s->len, p, fit);
	s->len += fit;
	if (fit < body)
		s->over = 1;
	if (s->state == UU_OUT)
		text(cb, p, k);
	else if (s->over) {
		/* too long for a uuencoded line: text after all */
		block_broken(s, cb);
		text(cb, p + fit, k - fit);
	}
	if (eol) {
		/* an over-long line is text (a block it was in ended above) */
		if (!s->over)
			line_end(s, 1, cb);
		s->len = 0;
		s->over = 0;
	}
}

void
uu_feed(struct uu_scan *s, const uint8_t *p, size_t n, const struct uu_cb *cb)
{
	while (n > 0) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t	       k = nl != NULL ? (size_t)(nl - p) + 1 : n;

		take(s, p, k, nl != NULL, cb);
		p += k;
		n -= k;
	}
}

void
uu_finish(struct uu_scan *s, const struct uu_cb *cb)
{
	if (s->len > 0 && !s->over)
		line_end(s, 0, cb);
	if (s->state == UU_IN)
		cb->end(cb->arg, 0);
	s->state = UU_OUT;
	s->len = 0;
	s->over = 0;
}
