/*
 * fuzz_html.c - libFuzzer target for what serve does to an HTML part
 * before its sandboxed frame (cli/serve_html.c): decoded to UTF-8 as a
 * browser would (a byte-order mark, else the charset), then stripped of
 * the elements that reach out.  The first byte picks the declared
 * charset, the rest is the part; the output must be UTF-8 with no "<"
 * followed by one of those elements.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/serve_html.h"
#include "dissect/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether p (n bytes) begins with the element name, whole. */
static int
element(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	return n >= l && strncasecmp(p, name, l) == 0 &&
	    (n == l ||
		!((p[l] >= 'a' && p[l] <= 'z') ||
		    (p[l] >= 'A' && p[l] <= 'Z') ||
		    (p[l] >= '0' && p[l] <= '9') || p[l] == '-'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = { NULL, "utf-8", "utf-16",
		"utf-16le", "utf-16be", "iso-8859-1", "windows-1252",
		"shift_jis", "iso-2022-jp", "utf-32", "x-no-such-charset",
		"gb2312" };
	const char		*cs;
	char			*u8, *inert;
	size_t			 n, m;

	if (size == 0)
		return 0;
	cs = charsets[data[0] % (sizeof(charsets) / sizeof(*charsets))];
	if ((u8 = html_utf8((const char *)data + 1, size - 1, cs, &n)) == NULL)
		return 0;
	for (size_t i = 0; i < n;) { /* UTF-8, whatever came in */
		uint32_t c;
		size_t	 l =
		    md_utf8_len((const unsigned char *)u8 + i, n - i, &c);

		if (l == 0)
			abort();
		i += l;
	}
	if ((inert = html_inert(u8, n, &m)) != NULL) {
		for (size_t i = 0; i + 1 < m; i++) /* none left as it was */
			if (inert[i] == '<' &&
			    (element(inert + i + 1, m - i - 1, "iframe") ||
				element(inert + i + 1, m - i - 1, "link") ||
				element(inert + i + 1, m - i - 1, "meta") ||
				element(inert + i + 1, m - i - 1, "base")))
				abort();
		free(inert);
	}
	free(u8);
	return 0;
}
