/* \summary: an HTML part made safe to show in the web view */
/*
 * What a message's HTML may still do under serve's policy (no script, no
 * load) is reach out ahead of time: Chromium's preload scanner opens
 * connections for some elements before any policy applies, which tells
 * the sender when and from where the mail was read.  So the elements
 * that do are renamed.  The renaming works on bytes, so the part is
 * first made UTF-8 as the browser would decode it: a part in UTF-16
 * ("<\0i\0f\0r\0...") would otherwise pass unseen.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/serve_html.h"
#include "dissect/util.h"

/* The encoding a browser uses for a label (the WHATWG Encoding
 * standard's aliases that differ from iconv's). */
static const char *
encoding_of(const char *label)
{
	static const struct {
		const char *label, *enc;
	} alias[] = {
		{ "utf-16", "UTF-16LE" },
		{ "unicode", "UTF-16LE" },
		{ "ucs-2", "UTF-16LE" },
		{ "iso-8859-1", "WINDOWS-1252" },
		{ "latin1", "WINDOWS-1252" },
		{ "us-ascii", "WINDOWS-1252" },
		{ "ascii", "WINDOWS-1252" },
		{ "iso_8859-1", "WINDOWS-1252" },
	};

	for (size_t i = 0; i < sizeof(alias) / sizeof(*alias); i++)
		if (strcasecmp(label, alias[i].label) == 0)
			return alias[i].enc;
	return label;
}

/* p as UTF-8, each byte that is not replaced by U+FFFD. */
static char *
utf8_clean(const unsigned char *p, size_t n, size_t *outlen)
{
	char *out = malloc(3 * n + 1), *o = out;

	if (out == NULL)
		return NULL;
	while (n > 0) {
		uint32_t c;
		size_t	 len = md_utf8_len(p, n, &c);

		if (len == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			len = 1;
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
		n -= len;
	}
	*outlen = (size_t)(o - out);
	return out;
}

/* p in encoding enc as UTF-8 through iconv; NULL when iconv does not
 * know enc. */
static char *
convert(const char *p, size_t n, const char *enc, size_t unit, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", enc);
	size_t	cap = 3 * n + 16, oleft = cap, ileft = n;
	char   *out, *o, *in = (char *)(uintptr_t)p;

	if (cd == (iconv_t)-1)
		return NULL;
	if ((out = o = malloc(cap)) == NULL) {
		iconv_close(cd);
		return NULL;
	}
	while (ileft > 0) {
		if (iconv(cd, &in, &ileft, &o, &oleft) != (size_t)-1)
			continue;
		if (errno == E2BIG || oleft < 3)
			break; /* cannot happen: 3 bytes out per byte in */
		/* a sequence that is not of enc, or cut at the end */
		memcpy(o, "\xef\xbf\xbd", 3);
		o += 3;
		oleft -= 3;
		in += ileft < unit ? ileft : unit;
		ileft -= ileft < unit ? ileft : unit;
	}
	iconv_close(cd);
	*outlen = (size_t)(o - out);
	return out;
}

char *
html_utf8(const char *p, size_t n, const char *charset, size_t *outlen)
{
	const unsigned char *u = (const unsigned char *)p;
	const char	    *enc = NULL;
	char		    *out = NULL;
	size_t		     skip = 0;

	/* a byte-order mark decides, whatever the part declared */
	if (n >= 2 && u[0] == 0xff && u[1] == 0xfe)
		enc = "UTF-16LE", skip = 2;
	else if (n >= 2 && u[0] == 0xfe && u[1] == 0xff)
		enc = "UTF-16BE", skip = 2;
	else if (n >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		enc = "UTF-8", skip = 3;
	else if (charset != NULL && *charset != '\0')
		enc = encoding_of(charset);
	if (enc != NULL && strcasecmp(enc, "UTF-8") != 0 &&
	    strcasecmp(enc, "utf8") != 0)
		out = convert(p + skip, n - skip, enc,
		    strncasecmp(enc, "UTF-16", 6) == 0 ? 2 : 1, outlen);
	if (out == NULL) /* UTF-8, or a charset iconv does not know */
		out = utf8_clean(u + skip, n - skip, outlen);
	/* a mark the conversion kept would be sniffed again */
	if (out != NULL && *outlen >= 3 &&
	    memcmp(out, "\xef\xbb\xbf", 3) == 0) {
		memmove(out, out + 3, *outlen - 3);
		*outlen -= 3;
	}
	return out;
}

/*
 * An HTML part with the elements that make a browser reach out renamed
 * ("<iframe" -> "<x-iframe"): the policy it is served under already
 * forbids their loads, but Chromium's preload scanner opens connections
 * ahead of time (DNS, TCP) for some before any policy applies; an element
 * it does not know it leaves alone.  Into a new buffer; NULL when out of
 * memory.
 */
char *
html_inert(const char *p, size_t n, size_t *outlen)
{
	/* what loads or connects by itself; images, tables and styles stay
	 * (the policy keeps their loads from happening, mail's layout is
	 * kept) */
	static const char *const reaching[] = { "iframe", "frame", "frameset",
		"link", "object", "embed", "applet", "base", "meta", "script",
		"portal", "fencedframe" };
	char			*out = malloc(n + n / 2 + 16), *o = out;
	size_t			 cap = n + n / 2 + 16;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t k = i + 1, l;

		if ((size_t)(o - out) + 3 > cap) { /* rare: many renames */
			size_t used = (size_t)(o - out);
			char  *b = realloc(out, cap * 2);

			if (b == NULL) {
				free(out);
				return NULL;
			}
			out = b;
			o = out + used;
			cap *= 2;
		}
		*o++ = p[i];
		if (p[i] != '<')
			continue;
		if (k < n && p[k] == '/')
			*o++ = p[k++], i++;
		for (size_t t = 0; t < sizeof(reaching) / sizeof(*reaching);
		     t++) {
			l = strlen(reaching[t]);
			if (k + l <= n &&
			    strncasecmp(p + k, reaching[t], l) == 0 &&
			    (k + l == n ||
				!((p[k + l] >= 'a' && p[k + l] <= 'z') ||
				    (p[k + l] >= 'A' && p[k + l] <= 'Z') ||
				    (p[k + l] >= '0' && p[k + l] <= '9') ||
				    p[k + l] == '-'))) {
				*o++ = 'x';
				*o++ = '-';
				break;
			}
		}
	}
	*outlen = (size_t)(o - out);
	return out;
}
