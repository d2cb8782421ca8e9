/* \summary: DKIM, ARC, SPF and DMARC as the header tells; impersonation */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/analyse/msgauth.h"
#include "dissect/util.h"

/* ------------------------------------------------------------ helpers */

static int
wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* p..n into dst (cap bytes), white space around trimmed; all of it out
 * with squeeze (h=, bh= are folded at will). */
static void
put(char *dst, size_t cap, const char *p, size_t n, int squeeze)
{
	size_t k = 0;

	while (n > 0 && wsp(*p))
		p++, n--;
	while (n > 0 && wsp(p[n - 1]))
		n--;
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		if (!squeeze || !wsp(p[i]))
			dst[k++] = p[i];
	dst[k] = '\0';
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The text after the last "@" of s (an address's domain), lower case. */
static void
domain_of(char *dst, size_t cap, const char *s)
{
	const char *at = strrchr(s, '@');

	put(dst, cap, at != NULL ? at + 1 : s, strlen(at != NULL ? at + 1 : s),
	    1);
	/* an address in angle brackets leaves its ">" */
	dst[strcspn(dst, ">;,\"")] = '\0';
	lower(dst);
}

/* s without comments (RFC 5322 CFWS: nested parentheses, quoted pairs),
 * quoted strings kept, into out. */
static void
uncomment(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	int    depth = 0, quoted = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < n && (quoted || depth > 0)) {
			if (!depth && k + 2 < cap) {
				out[k++] = c;
				out[k++] = s[i + 1];
			}
			i++;
			continue;
		}
		if (!quoted && c == '(') {
			depth++;
			continue;
		}
		if (!quoted && c == ')' && depth > 0) {
			depth--;
			if (depth == 0)
				out[k++] = ' ';
			continue;
		}
		if (depth > 0)
			continue;
		if (c == '"')
			quoted = !quoted;
		out[k++] = c;
	}
	out[k] = '\0';
}

/* The next ";"-separated piece of s from *i (quotes respected). */
static int
next_piece(const char *s, size_t *i, const char **p, size_t *n)
{
	size_t b = *i, e;
	int    quoted = 0;

	if (s[b] == '\0')
		return 0;
	for (e = b; s[e] != '\0' && (quoted || s[e] != ';'); e++)
		if (s[e] == '"')
			quoted = !quoted;
	*p = s + b;
	*n = e - b;
	*i = s[e] == ';' ? e + 1 : e;
	return 1;
}

/* ------------------------------------------------------ DKIM and ARC */

/* A tag=value list (RFC 6376 3.2) into a row. */
static void
tag_list(const char *v, size_t len, struct auth_row *r)
{
	char	    buf[4096];
	size_t	    i = 0, n;
	const char *p;

	put(buf, sizeof(buf), v, len, 0);
	while (next_piece(buf, &i, &p, &n)) {
		const char *eq = memchr(p, '=', n);
		char	    tag[16];
		size_t	    vl;

		if (eq == NULL)
			continue;
		put(tag, sizeof(tag), p, (size_t)(eq - p), 1);
		vl = n - (size_t)(eq + 1 - p);
		if (strcmp(tag, "d") == 0) {
			put(r->domain, sizeof(r->domain), eq + 1, vl, 1);
			lower(r->domain);
		} else if (strcmp(tag, "s") == 0)
			put(r->selector, sizeof(r->selector), eq + 1, vl, 1);
		else if (strcmp(tag, "a") == 0)
			put(r->algorithm, sizeof(r->algorithm), eq + 1, vl, 1);
		else if (strcmp(tag, "c") == 0)
			put(r->canon, sizeof(r->canon), eq + 1, vl, 1);
		else if (strcmp(tag, "h") == 0)
			put(r->headers, sizeof(r->headers), eq + 1, vl, 1);
		else if (strcmp(tag, "bh") == 0)
			put(r->body_hash, sizeof(r->body_hash), eq + 1, vl, 1);
		else if (strcmp(tag, "i") == 0 &&
		    strstr(r->kind, "arc") != NULL) {
			char num[16];

			put(num, sizeof(num), eq + 1, vl, 1);
			r->instance = atoi(num);
		} else if (strcmp(tag, "l") == 0) {
			char num[24];

			put(num, sizeof(num), eq + 1, vl, 1);
			r->body_length = strtol(num, NULL, 10);
		} else if (strcmp(tag, "cv") == 0)
			put(r->result, sizeof(r->result), eq + 1, vl, 1);
	}
}

/* ------------------------------------------ Authentication-Results */

/* One "method=result ptype.prop=value ..." piece into a row. */
static void
resinfo(const char *p, size_t n, struct auth_row *r)
{
	char   buf[1024], *tok, *save = NULL;
	char   from[256] = "", mailfrom[256] = "", hd[256] = "", hi[256] = "";
	size_t k = 0;

	put(buf, sizeof(buf), p, n, 0);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		lower(tok);
		if (r->method[0] == '\0') { /* method[/version]=result */
			tok[strcspn(tok, "/")] = '\0';
			snprintf(r->method, sizeof(r->method), "%s", tok);
			snprintf(r->result, sizeof(r->result), "%s", eq + 1);
			lower(r->result);
			continue;
		}
		if (strcmp(tok, "header.from") == 0)
			domain_of(from, sizeof(from), eq + 1);
		else if (strcmp(tok, "smtp.mailfrom") == 0)
			domain_of(mailfrom, sizeof(mailfrom), eq + 1);
		else if (strcmp(tok, "header.d") == 0)
			domain_of(hd, sizeof(hd), eq + 1);
		else if (strcmp(tok, "header.i") == 0)
			domain_of(hi, sizeof(hi), eq + 1);
		else if (strcmp(tok, "header.s") == 0)
			snprintf(r->selector, sizeof(r->selector), "%s",
			    eq + 1);
		k += (size_t)snprintf(r->detail + k,
		    k < sizeof(r->detail) ? sizeof(r->detail) - k : 0,
		    "%s%s=%s", k ? " " : "", tok, eq + 1);
		if (k >= sizeof(r->detail))
			k = sizeof(r->detail) - 1;
	}
	snprintf(r->domain, sizeof(r->domain), "%s",
	    hd[0]	    ? hd :
		from[0]	    ? from :
		mailfrom[0] ? mailfrom :
			      hi);
}

/*
 * RFC 8601: "authserv-id; method=result props; ..." (ARC's: "i=N;" in
 * front, RFC 8617 4.1.1): a row per method.
 */
static void
auth_results(const char *kind, const char *v, size_t len, auth_row_fn fn,
    void *arg)
{
	char	    buf[4096], serv[128] = "";
	size_t	    i = 0, n;
	const char *p;
	int	    inst = 0, first = 1;

	uncomment(v, len, buf, sizeof(buf));
	while (next_piece(buf, &i, &p, &n)) {
		struct auth_row r;
		char		head[160];

		if (first) {
			put(head, sizeof(head), p, n, 0);
			if (strncasecmp(head, "i=", 2) == 0 && inst == 0 &&
			    strstr(kind, "arc") != NULL) {
				inst = atoi(head + 2);
				continue;
			}
			/* the id, then perhaps a version: the first word */
			head[strcspn(head, " \t")] = '\0';
			snprintf(serv, sizeof(serv), "%.127s", head);
			lower(serv);
			first = 0;
			continue;
		}
		memset(&r, 0, sizeof(r));
		snprintf(r.kind, sizeof(r.kind), "%s", kind);
		r.instance = inst;
		r.body_length = -1;
		snprintf(r.authserv, sizeof(r.authserv), "%s", serv);
		resinfo(p, n, &r);
		if (r.method[0] != '\0' && strcmp(r.method, "none") != 0)
			fn(arg, &r);
	}
}

/* RFC 7208 9.1: "result (comment) key=value; key=value". */
static void
received_spf(const char *v, size_t len, auth_row_fn fn, void *arg)
{
	struct auth_row r;
	char		buf[2048], *sp;
	size_t		i = 0, n, k = 0;
	const char     *p;

	memset(&r, 0, sizeof(r));
	snprintf(r.kind, sizeof(r.kind), "received-spf");
	snprintf(r.method, sizeof(r.method), "spf");
	r.body_length = -1;
	uncomment(v, len, buf, sizeof(buf));
	put(r.result, sizeof(r.result), buf, strcspn(buf, " \t;"), 1);
	lower(r.result);
	sp = buf + strcspn(buf, " \t;");
	while (next_piece(sp, &i, &p, &n)) {
		char kv[512], *eq;

		put(kv, sizeof(kv), p, n, 0);
		if ((eq = strchr(kv, '=')) == NULL)
			continue;
		*eq = '\0';
		lower(kv);
		if (strcmp(kv, "envelope-from") == 0)
			domain_of(r.domain, sizeof(r.domain), eq + 1);
		else if (strcmp(kv, "helo") == 0 && r.domain[0] == '\0')
			domain_of(r.domain, sizeof(r.domain), eq + 1);
		else if (strcmp(kv, "receiver") == 0)
			put(r.authserv, sizeof(r.authserv), eq + 1,
			    strlen(eq + 1), 1);
		k += (size_t)snprintf(r.detail + k,
		    k < sizeof(r.detail) ? sizeof(r.detail) - k : 0, "%s%s=%s",
		    k ? " " : "", kv, eq + 1);
		if (k >= sizeof(r.detail))
			k = sizeof(r.detail) - 1;
	}
	if (r.result[0] != '\0')
		fn(arg, &r);
}

int
msgauth_field(const char *name, const char *value, size_t len, auth_row_fn fn,
    void *arg)
{
	static const char *const signatures[] = { "DKIM-Signature",
		"ARC-Message-Signature", "ARC-Seal" };
	struct auth_row		 r;

	for (size_t q = 0; q < 3; q++)
		if (strcasecmp(name, signatures[q]) == 0) {
			memset(&r, 0, sizeof(r));
			snprintf(r.kind, sizeof(r.kind), "%s", signatures[q]);
			lower(r.kind);
			snprintf(r.method, sizeof(r.method), "%s",
			    q == 0 ? "dkim" : "arc");
			r.body_length = -1;
			tag_list(value, len, &r);
			fn(arg, &r);
			return 1;
		}
	if (strcasecmp(name, "Authentication-Results") == 0) {
		auth_results("authentication-results", value, len, fn, arg);
		return 1;
	}
	if (strcasecmp(name, "ARC-Authentication-Results") == 0) {
		auth_results("arc-authentication-results", value, len, fn, arg);
		return 1;
	}
	if (strcasecmp(name, "Received-SPF") == 0) {
		received_spf(value, len, fn, arg);
		return 1;
	}
	return 0;
}

/* ---------------------------------------------- body canonicalisation */

void
dkim_canon_init(struct dkim_canon *c, const char *canon, long limit,
    canon_out_fn out, void *arg)
{
	const char *slash = canon != NULL ? strchr(canon, '/') : NULL;

	memset(c, 0, sizeof(*c));
	c->relaxed = slash != NULL && strncasecmp(slash + 1, "relaxed", 7) == 0;
	c->limit = limit >= 0 ? (uint64_t)limit : UINT64_MAX;
	c->out = out;
	c->arg = arg;
}

static void
emit(struct dkim_canon *c, const uint8_t *p, size_t n)
{
	if (c->emitted >= c->limit)
		return;
	if (n > c->limit - c->emitted)
		n = (size_t)(c->limit - c->emitted);
	c->out(c->arg, p, n);
	c->emitted += n;
}

/* A line ends: held empty lines wait; a line with text lets them out. */
static void
line_end(struct dkim_canon *c)
{
	c->any = 1;
	c->wsp = 0; /* relaxed: white space at a line's end goes */
	if (!c->linechar) {
		c->empties++;
		return;
	}
	emit(c, (const uint8_t *)"\r\n", 2);
	c->linechar = 0;
	c->wsp = 0;
}

/* A character of a body line, the held empty lines out before it. */
static void
body_char(struct dkim_canon *c, uint8_t ch)
{
	if (c->relaxed && (ch == ' ' || ch == '\t')) {
		c->wsp = 1; /* one space, if a character follows */
		return;
	}
	for (; c->empties > 0 && c->emitted < c->limit; c->empties--)
		emit(c, (const uint8_t *)"\r\n", 2);
	c->empties = 0;
	if (c->wsp) /* relaxed: a run of white space is one space */
		emit(c, (const uint8_t *)" ", 1);
	c->wsp = 0;
	c->linechar = 1;
	emit(c, &ch, 1);
}

void
dkim_canon_feed(struct dkim_canon *c, const uint8_t *p, size_t n)
{
	for (size_t i = hb_split_feed(&c->hb, p, n); i < n; i++) {
		uint8_t ch = p[i];

		if (c->cr) {
			c->cr = 0;
			if (ch == '\n') {
				line_end(c);
				continue;
			}
			body_char(c, '\r'); /* a bare CR is a character */
		}
		if (ch == '\r') {
			c->cr = 1;
			continue;
		}
		if (ch == '\n') { /* a bare LF ends a line too */
			line_end(c);
			continue;
		}
		body_char(c, ch);
	}
}

void
dkim_canon_finish(struct dkim_canon *c)
{
	if (c->cr) {
		c->cr = 0;
		body_char(c, '\r');
	}
	/* the last line without its CRLF gets one; trailing empty lines go;
	 * simple makes an empty body one CRLF, relaxed leaves it empty */
	if (c->linechar)
		line_end(c);
	else if (!c->relaxed && c->emitted == 0)
		emit(c, (const uint8_t *)"\r\n", 2);
}

int
dkim_bh_equal(const char *bh, const unsigned char *digest, size_t n)
{
	uint8_t raw[64];
	size_t	k;
	int	ok = 0;

	k = md_b64_decode((const uint8_t *)bh, strlen(bh), raw, sizeof(raw),
	    &ok);
	if (!ok || k == 0)
		return -1;
	return k == n && memcmp(raw, digest, n) == 0;
}

/* ------------------------------------------------------ impersonation */

/* The address of a From-like field: inside <> or the bare one. */
static void
address_of(const char *v, char *out, size_t cap)
{
	const char *lt = strrchr(v, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		put(out, cap, lt + 1, (size_t)(gt - lt - 1), 1);
	else
		put(out, cap, v, strlen(v), 1);
	lower(out);
}

/* Whether the display name (before "<") holds an address that is not
 * the one in the brackets. */
static int
display_address(const char *from)
{
	const char *lt = strrchr(from, '<');
	char	    name[512], addr[256], *at;

	if (lt == NULL)
		return 0;
	put(name, sizeof(name), from, (size_t)(lt - from), 0);
	lower(name);
	address_of(from, addr, sizeof(addr));
	if ((at = strchr(name, '@')) == NULL)
		return 0;
	/* the address around the "@" of the display name */
	{
		char *b = at, *e = at;

		while (b > name && !strchr(" \"'<(", b[-1]))
			b--;
		while (*e != '\0' && !strchr(" \"'>)", *e))
			e++;
		*e = '\0';
		return e > at + 1 && b < at && strcmp(b, addr) != 0;
	}
}

/* Look-alike letters folded, so that "rn" and "m", "0" and "o" agree. */
static void
fold(const char *s, char *out, size_t cap)
{
	size_t k = 0;

	for (; *s != '\0' && k + 1 < cap; s++) {
		char c = (char)tolower((unsigned char)*s);

		if (c == 'r' && s[1] == 'n') {
			c = 'm';
			s++;
		} else if (c == 'v' && s[1] == 'v') {
			c = 'w';
			s++;
		} else if (c == '0')
			c = 'o';
		else if (c == '1' || c == 'i')
			c = 'l';
		out[k++] = c;
	}
	out[k] = '\0';
}

/* Levenshtein distance, stopping past 2. */
static int
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int    row[256];

	if (la > 250 || lb > 250 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0], best;

		row[0] = (int)i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int sub = prev + (a[i - 1] != b[j - 1]);
			int v = sub < row[j] + 1 ? sub : row[j] + 1;

			row[j] = v < row[j - 1] + 1 ? v : row[j - 1] + 1;
			prev = cur;
			if (row[j] < best)
				best = row[j];
		}
		if (best > 2)
			return 3;
	}
	return row[lb];
}

int
msgauth_lookalike(const char *a, const char *b)
{
	char	    fa[256], fb[256], *da, *db;
	const char *ta = strrchr(a, '.'), *tb = strrchr(b, '.');
	size_t	    la = ta ? (size_t)(ta - a) : strlen(a);
	size_t	    lb = tb ? (size_t)(tb - b) : strlen(b);

	/* the names without their top-level domain; one name under two
	 * TLDs (a company's .com and .de) is not taken for a look-alike */
	if (a[0] == '\0' || b[0] == '\0' ||
	    (la == lb && strncasecmp(a, b, la) == 0))
		return 0;
	fold(a, fa, sizeof(fa));
	fold(b, fb, sizeof(fb));
	if ((da = strrchr(fa, '.')) != NULL)
		*da = '\0';
	if ((db = strrchr(fb, '.')) != NULL)
		*db = '\0';
	/* short names are near everything: 5 characters at least */
	return strlen(fa) >= 5 && strlen(fb) >= 5 &&
	    distance(fa, fb) <= (strlen(fa) >= 10 ? 2 : 1);
}

unsigned
msgauth_impersonation(const char *from, const char *reply_to,
    const char *return_path, const char *to)
{
	char	 addr[256], fd[256], d[256];
	unsigned f = 0;

	if (from == NULL || from[0] == '\0')
		return 0;
	address_of(from, addr, sizeof(addr));
	domain_of(fd, sizeof(fd), addr);
	if (display_address(from))
		f |= IMP_DISPLAY_ADDRESS;
	if (reply_to != NULL && reply_to[0] != '\0') {
		address_of(reply_to, d, sizeof(d));
		domain_of(d, sizeof(d), d);
		if (d[0] != '\0' && strcmp(d, fd) != 0)
			f |= IMP_REPLY_TO;
	}
	if (return_path != NULL && return_path[0] != '\0') {
		address_of(return_path, d, sizeof(d));
		domain_of(d, sizeof(d), d);
		if (d[0] != '\0' && strcmp(d, fd) != 0)
			f |= IMP_RETURN_PATH;
	}
	/* each recipient's domain against From's */
	for (const char *p = to; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t	    n = comma ? (size_t)(comma - p) : strlen(p);
		char	    one[512];

		put(one, sizeof(one), p, n, 0);
		address_of(one, d, sizeof(d));
		domain_of(d, sizeof(d), d);
		if (msgauth_lookalike(fd, d))
			f |= IMP_LOOKALIKE;
		p = comma ? comma + 1 : NULL;
	}
	return f;
}

const char *
msgauth_findings_str(unsigned f, char *buf, size_t len)
{
	static const char *const names[] = { "display_name_address",
		"reply_to_domain", "return_path_domain", "lookalike_domain",
		"dkim_body_changed" };

	return md_flag_names(f, names, sizeof(names) / sizeof(*names), buf,
	    len);
}

/* ------------------------------------------------------- addresses */

/* A dotted quad at s (each number 0-255, not inside a longer run of
 * digits and dots): its length, or 0. */
static size_t
ipv4_at(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t d = 0;
		int    v = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
		while (i < n && isdigit((unsigned char)s[i]) && d < 3) {
			v = v * 10 + (s[i++] - '0');
			d++;
		}
		if (d == 0 || v > 255)
			return 0;
	}
	if (i < n &&
	    (isdigit((unsigned char)s[i]) ||
		(s[i] == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))))
		return 0;
	return i;
}

/* An IPv6 address at s (hex digits and colons: eight groups, or fewer
 * with one "::"; perhaps a dotted quad at its end): its length, or 0.
 * A time of day ("22:13:20") is none. */
static size_t
ipv6_at(const char *s, size_t n)
{
	size_t i = 0, colons = 0;
	int    dbl = 0;

	while (i < n &&
	    (isxdigit((unsigned char)s[i]) || s[i] == ':' || s[i] == '.')) {
		if (s[i] == ':') {
			colons++;
			dbl += i + 1 < n && s[i + 1] == ':';
		}
		i++;
	}
	return (dbl == 1 && colons >= 2) || (dbl == 0 && colons == 7) ? i : 0;
}

size_t
msgauth_ips(const char *s, char out[][MSGAUTH_IP_MAX], size_t max)
{
	size_t n = strlen(s), k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		size_t l = 0, skip = 0;

		if (i > 0 &&
		    (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.' ||
			s[i - 1] == ':'))
			continue; /* inside a name or a longer number */
		if (strncasecmp(s + i, "IPv6:", 5) == 0) {
			skip = 5;
			l = ipv6_at(s + i + 5, n - i - 5);
		} else if ((l = ipv4_at(s + i, n - i)) == 0)
			l = ipv6_at(s + i, n - i);
		if (l == 0 || l >= MSGAUTH_IP_MAX)
			continue;
		memcpy(out[k], s + i + skip, l);
		out[k++][l] = '\0';
		i += skip + l - 1;
	}
	return k;
}
