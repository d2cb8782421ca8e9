/* \summary: wire bytes escaped for a terminal */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termsafe.h"

/* Length of the well-formed UTF-8 sequence at s (1 to 4), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t	 len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and past U+10FFFF are not UTF-8 */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/* Code points a terminal acts on or that reorder the line. */
static int
is_unsafe(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    c == 0x061c ||		    /* ARABIC LETTER MARK */
	    c == 0x200e || c == 0x200f ||   /* LRM, RLM */
	    (c >= 0x202a && c <= 0x202e) || /* embeddings, overrides */
	    (c >= 0x2066 && c <= 0x2069);   /* isolates */
}

void
term_write(FILE *f, const char *s, size_t n, int keep_lines)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n > 0) {
		uint32_t c = 0;
		size_t	 len = utf8_len(p, n, &c);

		if (len == 0) {
			fprintf(f, "\\x%02x", p[0]);
			len = 1;
		} else if (keep_lines && (c == '\n' || c == '\t')) {
			putc((int)c, f);
		} else if (keep_lines && c == '\r' && n > 1 && p[1] == '\n') {
			putc('\r',
			    f); /* CR LF ends a line; a lone CR overwrites */
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (is_unsafe(c)) {
			if (c < 0x80)
				fprintf(f, "\\x%02x", (unsigned)c);
			else
				fprintf(f, "\\u%04x", (unsigned)c);
		} else {
			fwrite(p, 1, len, f);
		}
		p += len;
		n -= len;
	}
}

char *
term_escape(const char *s)
{
	char  *out = NULL;
	size_t len = 0;
	FILE  *f = open_memstream(&out, &len);

	if (f == NULL)
		return NULL;
	if (s != NULL)
		term_write(f, s, strlen(s), 0);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
