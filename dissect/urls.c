/* \summary: the links in a message's text, plain or HTML (urls.h) */
#include <string.h>

#include "dissect/urls.h"
#include "dissect/util.h"

const char *const url_finding_names[] = { "text_host_mismatch", "punycode",
	"mixed_script" };
const unsigned	  url_finding_count =
    sizeof(url_finding_names) / sizeof(*url_finding_names);

/* ------------------------------------------------------------ hosts */

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
ci_starts(const char *p, size_t n, const char *prefix)
{
	return md_ci_prefix((const uint8_t *)p, n, prefix);
}

/* The authority of a URL: after "scheme://", after "//", or a bare
 * "www." host; NULL when the URL has none (javascript:, data:, ...). */
static const char *
authority_of(const char *u, size_t len, size_t *alen)
{
	const char *a = NULL, *end = u + len;
	size_t	    i;

	if (len >= 2 && u[0] == '/' && u[1] == '/')
		a = u + 2;
	else if (ci_starts(u, len, "www."))
		a = u;
	else {
		for (i = 0; i < len && i < 32; i++) {
			char c = u[i];

			if (!((c >= 'a' && c <= 'z') ||
				(c >= 'A' && c <= 'Z') ||
				(i > 0 &&
				    ((c >= '0' && c <= '9') || c == '+' ||
					c == '-' || c == '.'))))
				break;
		}
		if (i > 0 && i + 3 <= len && memcmp(u + i, "://", 3) == 0)
			a = u + i + 3;
	}
	if (a == NULL)
		return NULL;
	*alen = 0;
	while (a + *alen < end && strchr("/?#\\", a[*alen]) == NULL)
		(*alen)++;
	return a;
}

static int
host_put(const char *h, size_t n, char host[URL_HOST_MAX])
{
	size_t k = 0;

	while (n > 0 && h[n - 1] == '.') /* the root's dot */
		n--;
	for (size_t i = 0; i < n && k + 1 < URL_HOST_MAX; i++)
		host[k++] = (char)ascii_lower((unsigned char)h[i]);
	host[k] = '\0';
	return k > 0;
}

int
url_host(const char *u, size_t len, char host[URL_HOST_MAX])
{
	const char *a, *at, *colon;
	size_t	    n;

	host[0] = '\0';
	if (ci_starts(u, len, "mailto:")) {
		size_t e = 7;

		while (e < len && u[e] != '?')
			e++;
		at = memrchr(u + 7, '@', e - 7);
		return at != NULL &&
		    host_put(at + 1, (size_t)(u + e - at - 1), host);
	}
	if ((a = authority_of(u, len, &n)) == NULL)
		return 0;
	if ((at = memrchr(a, '@', n)) != NULL) { /* user:password@ */
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	if (n > 0 && a[0] == '[') { /* an IPv6 literal */
		const char *close = memchr(a, ']', n);

		return close != NULL &&
		    host_put(a + 1, (size_t)(close - a - 1), host);
	}
	if ((colon = memrchr(a, ':', n)) != NULL)
		n = (size_t)(colon - a);
	return host_put(a, n, host);
}

/* RFC 3492 6.1 */
static uint32_t
puny_adapt(uint32_t delta, uint32_t points, int first)
{
	uint32_t k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / points;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 - 1 + 1) * delta / (delta + 38);
}

static int
puny_digit(char c)
{
	c = (char)ascii_lower((unsigned char)c);
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	return c >= '0' && c <= '9' ? c - '0' + 26 : -1;
}

/*
 * RFC 3492 6.2: the code points of a punycode label (without "xn--")
 * into out; their count, or -1 when it is not valid punycode.
 */
static int
puny_decode(const char *in, size_t len, uint32_t *out, size_t cap)
{
	const char *dash = memrchr(in, '-', len);
	size_t	    nout = 0, p = 0;
	uint32_t    n = 128, i = 0, bias = 72;

	if (dash != NULL) {
		for (; in + p < dash; p++) {
			if (nout == cap || (unsigned char)in[p] >= 0x80)
				return -1;
			out[nout++] = (unsigned char)in[p];
		}
		p++;
	}
	while (p < len) {
		uint32_t oldi = i, w = 1;

		for (uint32_t k = 36;; k += 36) {
			int	 d = p < len ? puny_digit(in[p++]) : -1;
			uint32_t t = k <= bias ? 1 :
			    k >= bias + 26     ? 26 :
						 k - bias;

			if (d < 0 || (uint32_t)d > (0x7fffffffu - i) / w)
				return -1;
			i += (uint32_t)d * w;
			if ((uint32_t)d < t)
				break;
			if (w > 0x7fffffffu / (36 - t))
				return -1;
			w *= 36 - t;
		}
		bias = puny_adapt(i - oldi, (uint32_t)nout + 1, oldi == 0);
		if (i / (nout + 1) > 0x10ffffu - n || nout == cap)
			return -1;
		n += i / (uint32_t)(nout + 1);
		i %= (uint32_t)(nout + 1);
		memmove(out + i + 1, out + i, (nout - i) * sizeof(*out));
		out[i++] = n;
		nout++;
	}
	return (int)nout;
}

/* Scripts whose letters pass for one another in a host name. */
enum {
	S_LATIN = 1,
	S_GREEK = 2,
	S_CYRILLIC = 4,
	S_ARMENIAN = 8,
	S_CHEROKEE = 16
};

static unsigned
script_of(uint32_t cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
	    (cp >= 0x1e00 && cp <= 0x1eff))
		return S_LATIN;
	if ((cp >= 0x370 && cp <= 0x3ff) || (cp >= 0x1f00 && cp <= 0x1fff))
		return S_GREEK;
	if (cp >= 0x400 && cp <= 0x52f)
		return S_CYRILLIC;
	if (cp >= 0x530 && cp <= 0x58f)
		return S_ARMENIAN;
	return cp >= 0x13a0 && cp <= 0x13ff ? S_CHEROKEE : 0;
}

/* More than one of those scripts in a label's code points. */
static int
mixed(const uint32_t *cp, size_t n)
{
	unsigned s = 0;

	for (size_t i = 0; i < n; i++)
		s |= script_of(cp[i]);
	return (s & (s - 1)) != 0;
}

/* The code points of one label as written (UTF-8, or punycode). */
static unsigned
label_findings(const char *l, size_t n)
{
	uint32_t cp[64];
	size_t	 k = 0;

	if (ci_starts(l, n, "xn--")) {
		int got = puny_decode(l + 4, n - 4, cp, 64);

		return URL_F_PUNYCODE |
		    (got > 0 && mixed(cp, (size_t)got) ? URL_F_MIXED_SCRIPT :
							 0);
	}
	for (size_t i = 0; i < n && k < 64;) {
		size_t u =
		    md_utf8_len((const unsigned char *)l + i, n - i, &cp[k]);

		if (u == 0) { /* not UTF-8: a byte as itself */
			cp[k] = (unsigned char)l[i];
			u = 1;
		}
		k++;
		i += u;
	}
	return mixed(cp, k) ? URL_F_MIXED_SCRIPT : 0;
}

unsigned
url_host_findings(const char *host)
{
	unsigned f = 0;

	while (*host != '\0') {
		size_t n = strcspn(host, ".");

		f |= label_findings(host, n);
		host += n;
		if (*host == '.')
			host++;
	}
	return f;
}

/* ------------------------------------------------------------ links */

/* The host an <a>'s text shows, when it shows one: a URL, or a lone
 * word that looks like a domain ("paypal.com", "www.bank.example"). */
static int
shown_host(const char *t, size_t n, char host[URL_HOST_MAX])
{
	size_t dot = 0, end = 0, letters = 0;

	if (memchr(t, ' ', n) != NULL)
		return 0;
	if (ci_starts(t, n, "http://") || ci_starts(t, n, "https://") ||
	    ci_starts(t, n, "www."))
		return url_host(t, n, host);
	while (end < n && t[end] != '/') {
		char c = t[end];

		if (c == '.') {
			dot = end;
			letters = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (unsigned char)c >= 0x80)
			letters++;
		else if (!((c >= '0' && c <= '9') || c == '-'))
			return 0;
		end++;
	}
	/* a dot, and a top-level label of letters after it */
	return dot > 0 && letters >= 2 && dot + 1 + letters == end &&
	    host_put(t, end, host);
}

static const char *
without_www(const char *h)
{
	return strncmp(h, "www.", 4) == 0 ? h + 4 : h;
}

static void
emit(struct url_scan *s, const char *u, size_t n, int truncated,
    const char *kind, const char *shown, size_t nshown)
{
	char host[URL_HOST_MAX], sh[URL_HOST_MAX], text[URL_SHOWN_MAX];
	struct url_found f = { .url = u,
		.len = n,
		.truncated = truncated,
		.host = host,
		.kind = kind,
		.shown = text };

	while (nshown > 0 && shown[nshown - 1] == ' ')
		nshown--;
	memcpy(text, shown, nshown);
	text[nshown] = '\0';
	f.mailto = ci_starts(u, n, "mailto:");
	if (url_host(u, n, host) && !f.mailto) {
		f.findings = url_host_findings(host);
		if (nshown > 0 && shown_host(text, nshown, sh) &&
		    strcmp(without_www(sh), without_www(host)) != 0)
			f.findings |= URL_F_TEXT_HOST;
	}
	s->fn(s->arg, &f);
}

/* ------------------------------------------------------ bare URLs */

static int
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/* Where a URL begins in a token, at a word's start, or -1. */
static long
url_start(const char *t, size_t n)
{
	static const char *const lead[] = { "http://", "https://", "ftp://",
		"mailto:", "www." };

	for (size_t i = 0; i < n; i++) {
		int c = ascii_lower((unsigned char)t[i]);

		if (i > 0 && word_char(t[i - 1]))
			continue;
		/* every lead begins so: most words are asked no more
		 * (comparing each word with the five was 4% of the
		 * instructions reading small mail took) */
		if (c != 'h' && c != 'f' && c != 'm' && c != 'w')
			continue;
		for (size_t k = 0; k < sizeof(lead) / sizeof(*lead); k++)
			if (ci_starts(t + i, n - i, lead[k]) &&
			    n - i > strlen(lead[k]))
				return (long)i;
	}
	return -1;
}

/* Trailing punctuation belongs to the sentence, not to the URL; a
 * closing bracket only when the URL did not open it. */
static size_t
url_trim(const char *u, size_t n)
{
	while (n > 0) {
		char	    c = u[n - 1];
		const char *open = c == ')' ? "(" : c == ']' ? "[" : NULL;

		if (strchr(".,;:!?'*", c) != NULL)
			n--;
		else if (open != NULL && memchr(u, open[0], n) == NULL)
			n--;
		else
			break;
	}
	return n;
}

static void
tok_end(struct url_scan *s)
{
	long   at;
	size_t n;

	if (s->ntok == 0)
		return;
	if ((at = url_start(s->tok, s->ntok)) >= 0) {
		const char *u = s->tok + at;

		n = s->tok_over ? s->ntok - (size_t)at :
				  url_trim(u, s->ntok - (size_t)at);
		if (n > 4 &&
		    !(ci_starts(u, n, "www.") && !memchr(u + 4, '.', n - 4)))
			emit(s, u, n, s->tok_over,
			    ci_starts(u, n, "mailto:") ? "mailto" : "text", "",
			    0);
	}
	s->ntok = 0;
	s->tok_over = 0;
}

/* Text a bare URL may be in: it ends at space, a control character or
 * one of <>"` (RFC 3986 appendix C). */
static void
tok_char(struct url_scan *s, char c)
{
	if ((unsigned char)c <= ' ' || c == 0x7f || c == '<' || c == '>' ||
	    c == '"' || c == '`') {
		tok_end(s);
		return;
	}
	if (s->ntok < sizeof(s->tok))
		s->tok[s->ntok++] = c;
	else
		s->tok_over = 1;
}

/* ------------------------------------------------------------- HTML */

/* Text of the document: a link's text, or where bare URLs may be. */
static void
data_char(struct url_scan *s, char c)
{
	if (s->skip)
		return;
	if (!s->in_a) {
		tok_char(s, c);
		return;
	}
	if ((unsigned char)c <= ' ') { /* white space folds to one */
		if (s->nshown > 0)
			s->shown_space = 1;
		return;
	}
	if (s->shown_space && s->nshown + 1 < sizeof(s->shown))
		s->shown[s->nshown++] = ' ';
	s->shown_space = 0;
	if (s->nshown + 1 < sizeof(s->shown))
		s->shown[s->nshown++] = c;
}

static void
data_str(struct url_scan *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		data_char(s, p[i]);
}

static void
close_a(struct url_scan *s)
{
	if (s->in_a && s->has_href)
		emit(s, s->href, s->nhref, s->href_over, "href", s->shown,
		    s->nshown);
	s->in_a = s->has_href = s->href_over = 0;
	s->nhref = s->nshown = 0;
	s->shown_space = 0;
}

/* Attributes that hold a URL (HTML 4.01 and 5; "data" is object's). */
static int
url_attr(const char *tag, const char *attr)
{
	static const char *const names[] = { "href", "src", "action",
		"formaction", "background", "poster", "longdesc", "codebase" };

	if (strcmp(attr, "data") == 0)
		return strcmp(tag, "object") == 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(attr, names[i]) == 0)
			return 1;
	return 0;
}

/* A reference with a scheme (or "//host"): a link out; relative ones and
 * cid: (a part of this message) are not. */
static int
is_link(const char *v, size_t n)
{
	size_t i = 0;

	if (n >= 2 && v[0] == '/' && v[1] == '/')
		return 1;
	while (i < n &&
	    ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		(i > 0 &&
		    ((v[i] >= '0' && v[i] <= '9') || v[i] == '+' ||
			v[i] == '-' || v[i] == '.'))))
		i++;
	return i > 1 && i < n && v[i] == ':' && !ci_starts(v, n, "cid:");
}

/*
 * An attribute value done: entities decoded, tabs and line breaks out,
 * spaces around trimmed, as a browser takes a URL.  An <a>'s href waits
 * for the link's text; other URLs go out now.
 */
static void
value_done(struct url_scan *s)
{
	char   u[URL_MAX];
	size_t n = 0, i = 0, b = 0;

	s->attr[s->nattr] = '\0';
	s->tag[s->ntag] = '\0';
	if (s->end_tag || !url_attr(s->tag, s->attr))
		return;
	while (i < s->nval && n < sizeof(u)) {
		char c = s->val[i++];

		if (c == '&') {
			size_t e = i;
			char   t[4];
			size_t k;

			while (e < s->nval && e - i < 10 && s->val[e] != ';' &&
			    s->val[e] != '&')
				e++;
			if (e < s->nval && s->val[e] == ';' &&
			    (k = md_html_entity(s->val + i, e - i, t)) > 0 &&
			    n + k <= sizeof(u)) {
				memcpy(u + n, t, k);
				n += k;
				i = e + 1;
				continue;
			}
		}
		if (c != '\t' && c != '\n' && c != '\r')
			u[n++] = c;
	}
	while (b < n && u[b] == ' ')
		b++;
	while (n > b && u[n - 1] == ' ')
		n--;
	if (!is_link(u + b, n - b))
		return;
	if (strcmp(s->tag, "a") == 0 && strcmp(s->attr, "href") == 0) {
		memcpy(s->href, u + b, n - b);
		s->nhref = n - b;
		s->href_over = s->val_over;
		s->has_href = 1;
	} else
		emit(s, u + b, n - b, s->val_over, s->attr, "", 0);
}

/* The tag's name is known: a new <a> closes one left open. */
static void
tag_named(struct url_scan *s)
{
	s->tag[s->ntag] = '\0';
	if (!s->end_tag && strcmp(s->tag, "a") == 0)
		close_a(s);
}

static void
tag_done(struct url_scan *s)
{
	const char *t = s->tag;

	s->tag[s->ntag] = '\0';
	if (s->end_tag) {
		if (strcmp(t, "a") == 0)
			close_a(s);
		else if (strcmp(t, "script") == 0 || strcmp(t, "style") == 0)
			s->skip = 0;
	} else if (strcmp(t, "a") == 0)
		s->in_a = 1;
	else if (strcmp(t, "script") == 0 || strcmp(t, "style") == 0)
		s->skip = 1;
	s->hs = UH_DATA;
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void
attr_begin(struct url_scan *s, char c)
{
	s->attr[0] = (char)ascii_lower((unsigned char)c);
	s->nattr = 1;
	s->nval = 0;
	s->val_over = 0;
	s->hs = UH_ATTR_NAME;
}

static void
val_put(struct url_scan *s, char c)
{
	if (s->nval < sizeof(s->val))
		s->val[s->nval++] = c;
	else
		s->val_over = 1;
}

/* An entity in the document's text: decoded when it ends in ";". */
static void
entity_char(struct url_scan *s, char c)
{
	char   t[4];
	size_t k;

	if (c == ';') {
		s->in_ent = 0;
		if ((k = md_html_entity(s->ent, s->nent, t)) > 0)
			data_str(s, t, k);
		else {
			data_char(s, '&');
			data_str(s, s->ent, s->nent);
			data_char(s, ';');
		}
		return;
	}
	if (s->nent < sizeof(s->ent) && (word_char(c) || c == '#') &&
	    c != '.' && c != '-') {
		s->ent[s->nent++] = c;
		return;
	}
	s->in_ent = 0; /* not one: the text as it was */
	data_char(s, '&');
	data_str(s, s->ent, s->nent);
	url_scan_feed(s, &c, 1);
}

static void
tag_open_char(struct url_scan *s, char c)
{
	s->ntag = 0;
	s->end_tag = 0;
	if (c == '/') {
		s->end_tag = 1;
		s->hs = UH_TAG_NAME;
	} else if (c == '!') {
		s->dashes = 0;
		s->hs = UH_BOGUS;
		s->nent = 0; /* counts what follows "<!" */
	} else if (c == '?') {
		s->hs = UH_BOGUS;
		s->nent = 2; /* no comment */
	} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		s->tag[s->ntag++] = (char)ascii_lower((unsigned char)c);
		s->hs = UH_TAG_NAME;
	} else { /* "<" as text */
		s->hs = UH_DATA;
		data_char(s, '<');
		url_scan_feed(s, &c, 1);
	}
}

static void
html_char(struct url_scan *s, char c)
{
	switch (s->hs) {
	case UH_DATA:
		if (s->in_ent)
			entity_char(s, c);
		else if (c == '<') {
			tok_end(s);
			s->hs = UH_TAG_OPEN;
		} else if (c == '&') {
			s->in_ent = 1;
			s->nent = 0;
		} else
			data_char(s, c);
		break;
	case UH_TAG_OPEN:
		tag_open_char(s, c);
		break;
	case UH_TAG_NAME:
		if (space(c) || c == '/' || c == '>') {
			tag_named(s);
			if (c == '>')
				tag_done(s);
			else
				s->hs = UH_BEFORE_ATTR;
		} else if (s->ntag + 1 < sizeof(s->tag))
			s->tag[s->ntag++] = (char)ascii_lower((unsigned char)c);
		break;
	case UH_BEFORE_ATTR:
		if (c == '>')
			tag_done(s);
		else if (!space(c) && c != '/')
			attr_begin(s, c);
		break;
	case UH_ATTR_NAME:
	case UH_AFTER_ATTR:
		if (c == '=')
			s->hs = UH_BEFORE_VALUE;
		else if (c == '>')
			tag_done(s);
		else if (c == '/')
			s->hs = UH_BEFORE_ATTR;
		else if (space(c))
			s->hs = UH_AFTER_ATTR;
		else if (s->hs == UH_AFTER_ATTR)
			attr_begin(s, c);
		else if (s->nattr + 1 < sizeof(s->attr))
			s->attr[s->nattr++] =
			    (char)ascii_lower((unsigned char)c);
		break;
	case UH_BEFORE_VALUE:
		if (c == '"')
			s->hs = UH_VALUE_DQ;
		else if (c == '\'')
			s->hs = UH_VALUE_SQ;
		else if (c == '>')
			tag_done(s);
		else if (!space(c)) {
			val_put(s, c);
			s->hs = UH_VALUE_UQ;
		}
		break;
	case UH_VALUE_DQ:
	case UH_VALUE_SQ:
		if (c == (s->hs == UH_VALUE_DQ ? '"' : '\'')) {
			value_done(s);
			s->hs = UH_BEFORE_ATTR;
		} else
			val_put(s, c);
		break;
	case UH_VALUE_UQ:
		if (space(c) || c == '>') {
			value_done(s);
			if (c == '>')
				tag_done(s);
			else
				s->hs = UH_BEFORE_ATTR;
		} else
			val_put(s, c);
		break;
	case UH_BOGUS:
		/* "<!--" opens a comment, which only "-->" ends */
		if (s->nent < 2 && c == '-' && ++s->nent == 2)
			s->hs = UH_COMMENT;
		else if (c == '>')
			s->hs = UH_DATA;
		else
			s->nent = 2;
		break;
	case UH_COMMENT:
		if (c == '>' && s->dashes >= 2)
			s->hs = UH_DATA;
		else
			s->dashes = c == '-' ? s->dashes + 1 : 0;
		break;
	}
}

void
url_scan_init(struct url_scan *s, int html, url_fn fn, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->html = html;
	s->fn = fn;
	s->arg = arg;
	s->hs = UH_DATA;
}

void
url_scan_feed(struct url_scan *s, const char *p, size_t n)
{
	if (!s->html) {
		for (size_t i = 0; i < n; i++)
			tok_char(s, p[i]);
		return;
	}
	for (size_t i = 0; i < n; i++)
		html_char(s, p[i]);
}

void
url_scan_finish(struct url_scan *s)
{
	if (s->html && s->in_ent) {
		s->in_ent = 0;
		data_char(s, '&');
		data_str(s, s->ent, s->nent);
	}
	tok_end(s);
	if (s->html)
		close_a(s);
}
