/* \summary: wire bytes escaped for a terminal */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/termsafe.h"
#include "dissect/util.h"

int
term_acts_on(uint32_t c)
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
		size_t	 len = md_utf8_len(p, n, &c);

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
		} else if (term_acts_on(c)) {
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
