/* \summary: header field decoding: RFC 2047 words, RFC 2231 parameters, dates */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dissect/dissect.h"
#include "dissect/util.h"
#include "dissect/mimehdr.h"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
is_ascii_charset(const char *cs)
{
	return cs[0] == '\0' ||
	    md_ci_equal((const uint8_t *)cs, strlen(cs), "us-ascii") ||
	    md_ci_equal((const uint8_t *)cs, strlen(cs), "utf-8") ||
	    md_ci_equal((const uint8_t *)cs, strlen(cs), "utf8");
}

/*
 * A converter from a message's charset to UTF-8, or (iconv_t)-1 when none
 * is needed (ASCII, UTF-8) or the charset is unknown.  GB2312 and GBK are
 * read as GB18030 and ISO-8859-1 as Windows-1252: their supersets, which
 * is what senders labelled so write in practice.
 */
iconv_t
mh_iconv_open(const char *charset)
{
	char cs[48];

	if (is_ascii_charset(charset))
		return (iconv_t)-1;
	if (md_ci_equal((const uint8_t *)charset, strlen(charset), "gb2312") ||
	    md_ci_equal((const uint8_t *)charset, strlen(charset), "gbk"))
		charset = "GB18030";
	else if (md_ci_equal((const uint8_t *)charset, strlen(charset),
		     "iso-8859-1"))
		charset = "WINDOWS-1252";
	snprintf(cs, sizeof(cs), "%s", charset);
	return iconv_open("UTF-8", cs);
}

/*
 * Converts to UTF-8.  Undecodable bytes become U+FFFD and conversion goes
 * on: a mislabelled charset must not lose the rest of the text.
 */
size_t
mh_to_utf8(const char *charset, const uint8_t *in, size_t n, char *out,
    size_t cap)
{
	iconv_t cd;
	char   *ip = (char *)(uintptr_t)in, *op = out;
	size_t	il = n, ol = cap;

	if (is_ascii_charset(charset)) {
		n = n < cap ? n : cap;
		memcpy(out, in, n);
		return n;
	}
	if ((cd = mh_iconv_open(charset)) == (iconv_t)-1)
		return (size_t)-1;
	while (il > 0 && ol > 0) {
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
			break;
		if (errno == E2BIG)
			break;
		/* EILSEQ or EINVAL: one bad byte, then on */
		if (ol < 3)
			break;
		memcpy(op, "\xef\xbf\xbd", 3);
		op += 3;
		ol -= 3;
		ip++;
		il--;
	}
	iconv(cd, NULL, NULL, &op, &ol); /* shift back (ISO-2022-JP) */
	iconv_close(cd);
	return (size_t)(op - out);
}

/* Decodes the text of one encoded-word into bytes; returns their count. */
static size_t
word_bytes(int enc, const uint8_t *t, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;
	int    ok;

	if (enc == 'b')
		return md_b64_decode(t, n, out, cap, &ok);
	for (size_t i = 0; i < n && o < cap; i++) { /* Q: RFC 2047 4.2 */
		if (t[i] == '_')
			out[o++] = ' ';
		else if (t[i] == '=' && i + 2 < n &&
		    md_hex_value(t[i + 1]) >= 0 &&
		    md_hex_value(t[i + 2]) >= 0) {
			out[o++] = (uint8_t)(md_hex_value(t[i + 1]) << 4 |
			    md_hex_value(t[i + 2]));
			i += 2;
		} else
			out[o++] = t[i];
	}
	return o;
}

/* "=?charset?B|Q?text?=" at p: its length, or 0 when not one. */
static size_t
encoded_word(const uint8_t *p, size_t n, char *cs, size_t cscap, int *enc,
    const uint8_t **text, size_t *tlen)
{
	size_t	       i = 2, c0, t0;
	const uint8_t *end;

	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	for (c0 = i; i < n && p[i] != '?' && p[i] > ' '; i++)
		;
	if (i + 3 >= n || p[i] != '?' || i == c0 || i - c0 >= cscap)
		return 0;
	memcpy(cs, p + c0, i - c0);
	cs[i - c0] = '\0';
	if (strchr(cs, '*') != NULL) /* RFC 2231 5: language suffix */
		*strchr(cs, '*') = '\0';
	*enc = lower(p[i + 1]);
	if ((*enc != 'b' && *enc != 'q') || p[i + 2] != '?')
		return 0;
	t0 = i + 3;
	for (end = p + t0; end + 1 < p + n; end++)
		if (end[0] == '?' && end[1] == '=')
			break;
	if (end + 1 >= p + n)
		return 0;
	*text = p + t0;
	*tlen = (size_t)(end - (p + t0));
	return (size_t)(end + 2 - p);
}

size_t
mh_decode_words(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, pending_ws = 0, ws_at = 0;
	int    last_was_word = 0;

	while (i < n && o < cap) {
		char	       cs[40];
		uint8_t	       raw[1024];
		const uint8_t *t;
		size_t	       tl, wl, rl, ul;
		int	       enc;

		wl = encoded_word(in + i, n - i, cs, sizeof(cs), &enc, &t, &tl);
		if (wl > 0) {
			/* whitespace between two encoded-words is dropped */
			if (last_was_word && pending_ws)
				o = ws_at;
			rl = word_bytes(enc, t, tl, raw, sizeof(raw));
			ul = mh_to_utf8(cs, raw, rl, out + o, cap - o);
			if (ul ==
			    (size_t)-1) /* unknown charset: keep as sent */
				ul = mh_to_utf8("", in + i, wl, out + o,
				    cap - o);
			o += ul;
			i += wl;
			last_was_word = 1;
			pending_ws = 0;
			continue;
		}
		if (in[i] == ' ' || in[i] == '\t') {
			if (!pending_ws)
				ws_at = o;
			pending_ws = 1;
		} else {
			last_was_word = 0;
			pending_ws = 0;
		}
		out[o++] = (char)in[i++];
	}
	return o;
}

size_t
mh_token(const uint8_t *v, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (;
	     i < n && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && o + 1 < cap;
	     i++)
		out[o++] = (char)lower(v[i]);
	out[o] = '\0';
	return o;
}

/* One "name=value" of a parameter list; returns where the next starts. */
static size_t
next_param(const uint8_t *v, size_t n, size_t i, const uint8_t **name,
    size_t *nl, uint8_t *val, size_t vcap, size_t *vl)
{
	*name = v;
	*nl = 0;
	*vl = 0;
	while (i < n && v[i] != ';')
		i++;
	if (i >= n)
		return n;
	i++;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	*name = v + i;
	while (i < n && v[i] != '=' && v[i] != ';')
		i++;
	*nl = (size_t)(v + i - *name);
	while (*nl > 0 && ((*name)[*nl - 1] == ' ' || (*name)[*nl - 1] == '\t'))
		(*nl)--;
	*vl = 0;
	if (i >= n || v[i] != '=')
		return i;
	i++;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i < n && v[i] == '"') {
		for (i++; i < n && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			if (*vl < vcap)
				val[(*vl)++] = v[i];
		}
		return i + (i < n);
	}
	for (; i < n && v[i] != ';'; i++)
		if (*vl < vcap)
			val[(*vl)++] = v[i];
	while (*vl > 0 && (val[*vl - 1] == ' ' || val[*vl - 1] == '\t'))
		(*vl)--;
	return i;
}

/* RFC 2231 3: %XX escapes of an extended value. */
static size_t
pct_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o < cap; i++) {
		if (in[i] == '%' && i + 2 < n && md_hex_value(in[i + 1]) >= 0 &&
		    md_hex_value(in[i + 2]) >= 0) {
			out[o++] = (uint8_t)(md_hex_value(in[i + 1]) << 4 |
			    md_hex_value(in[i + 2]));
			i += 2;
		} else
			out[o++] = in[i];
	}
	return o;
}

/* Splits "charset'language'value" (RFC 2231 4); returns the value. */
static const uint8_t *
split_charset(const uint8_t *v, size_t *vl, char *cs, size_t cscap)
{
	const uint8_t *q1 = memchr(v, '\'', *vl), *q2;
	size_t	       cl;

	if (q1 == NULL ||
	    (q2 = memchr(q1 + 1, '\'', *vl - (size_t)(q1 + 1 - v))) == NULL)
		return v;
	cl = (size_t)(q1 - v);
	if (cl < cscap) {
		memcpy(cs, v, cl);
		cs[cl] = '\0';
	}
	*vl -= (size_t)(q2 + 1 - v);
	return q2 + 1;
}

#define MH_SEGMENTS 32 /* RFC 2231 continuations kept */

/*
 * Parameter lookup: plain "name=", RFC 2231 "name*=charset'lang'value",
 * and continuations "name*0=", "name*1*=", ... joined in order.
 */
long
mh_param(const uint8_t *v, size_t n, const char *name, char *out, size_t cap)
{
	uint8_t acc[2048], val[1024];
	struct {
		size_t off, len;
		int    ext;
	} seg[MH_SEGMENTS];
	uint8_t segbuf[2048];
	size_t	ln = strlen(name), al = 0, sbl = 0, nl, vl, i = 0, nseg = 0;
	const uint8_t *pn, *vp;
	char	       cs[40] = "";
	int	       plain = 0, ext = 0;

	memset(seg, 0, sizeof(seg));
	while (i < n) {
		i = next_param(v, n, i, &pn, &nl, val, sizeof(val), &vl);
		if (nl < ln || !md_ci_prefix(pn, nl, name))
			continue;
		if (nl == ln && !plain && !ext) { /* name= */
			memcpy(acc, val, vl);
			al = vl;
			plain = 1;
		} else if (nl == ln) { /* a second plain value: the first won */
			continue;
		} else if (nl == ln + 1 && pn[ln] == '*') { /* name*= */
			vp = split_charset(val, &vl, cs, sizeof(cs));
			al = pct_decode(vp, vl, acc, sizeof(acc));
			ext = 1;
		} else if (pn[ln] == '*') { /* name*N= or name*N*= */
			size_t d = ln + 1, num = 0;

			while (
			    d < nl && pn[d] >= '0' && pn[d] <= '9' && num < 100)
				num = num * 10 + (size_t)(pn[d++] - '0');
			if (d == ln + 1 || num >= MH_SEGMENTS ||
			    sbl + vl > sizeof(segbuf))
				continue;
			seg[num].ext = d < nl && pn[d] == '*';
			vp = val;
			if (seg[num].ext && num == 0)
				vp = split_charset(val, &vl, cs, sizeof(cs));
			if (seg[num].ext)
				vl = pct_decode(vp, vl, segbuf + sbl,
				    sizeof(segbuf) - sbl);
			else
				memcpy(segbuf + sbl, vp, vl);
			seg[num].off = sbl;
			seg[num].len = vl;
			sbl += vl;
			if (num + 1 > nseg)
				nseg = num + 1;
			ext |= seg[num].ext;
		}
	}
	if (nseg > 0) { /* continuations win over a plain value */
		al = 0;
		for (size_t k = 0; k < nseg && al < sizeof(acc); k++) {
			size_t l = seg[k].len < sizeof(acc) - al ?
			    seg[k].len :
			    sizeof(acc) - al;
			memcpy(acc + al, segbuf + seg[k].off, l);
			al += l;
		}
	} else if (!plain && !ext)
		return -1;
	if (ext) {
		size_t ul = mh_to_utf8(cs, acc, al, out, cap);
		return (long)(ul == (size_t)-1 ?
			mh_to_utf8("", acc, al, out, cap) :
			ul);
	}
	return (long)mh_decode_words(acc, al, out, cap);
}

static int
month_of(const uint8_t *p)
{
	static const char m[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	for (int i = 0; i < 12; i++)
		if (lower(p[0]) == m[3 * i] && lower(p[1]) == m[3 * i + 1] &&
		    lower(p[2]) == m[3 * i + 2])
			return i;
	return -1;
}

static long
zone_minutes(const uint8_t *p, size_t n)
{
	static const struct {
		const char *name;
		int	    min;
	} zones[] = { { "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -300 },
		{ "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
		{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 },
		{ "PDT", -420 } };

	if (n >= 5 && (p[0] == '+' || p[0] == '-')) {
		long hh = (p[1] - '0') * 10 + (p[2] - '0');
		long mm = (p[3] - '0') * 10 + (p[4] - '0');
		return (p[0] == '-' ? -1 : 1) * (hh * 60 + mm);
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (md_ci_prefix(p, n, zones[i].name))
			return zones[i].min;
	return 0; /* RFC 5322 4.3: unknown zones are UTC */
}

/* Reads digits at *i; returns the number, -1 when none. */
static long
digits(const uint8_t *v, size_t n, size_t *i)
{
	long   x = 0;
	size_t s = *i;

	while (*i < n && v[*i] >= '0' && v[*i] <= '9' && *i - s < 6)
		x = x * 10 + (v[(*i)++] - '0');
	return *i > s ? x : -1;
}

/* RFC 5322 3.3 date-time, with the obsolete forms seen in the wild. */
int
mh_date_utc(const uint8_t *v, size_t n, char out[20])
{
	struct tm tm;
	size_t	  i = 0;
	long	  day, year, hh, mm, ss = 0;
	int	  mon;
	time_t	  t;

	memset(&tm, 0, sizeof(tm));
	while (i < n && !(v[i] >= '0' && v[i] <= '9')) /* "Mon, " */
		i++;
	if ((day = digits(v, n, &i)) < 1 || day > 31)
		return 0;
	while (i < n && (v[i] == ' ' || v[i] == '-'))
		i++;
	if (i + 3 > n || (mon = month_of(v + i)) < 0)
		return 0;
	i += 3;
	while (i < n && (v[i] == ' ' || v[i] == '-'))
		i++;
	if ((year = digits(v, n, &i)) < 0)
		return 0;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	while (i < n && v[i] == ' ')
		i++;
	if ((hh = digits(v, n, &i)) < 0 || i >= n || v[i++] != ':' ||
	    (mm = digits(v, n, &i)) < 0)
		return 0;
	if (i < n && v[i] == ':') {
		i++;
		if ((ss = digits(v, n, &i)) < 0)
			return 0;
	}
	while (i < n && v[i] == ' ')
		i++;
	if (hh > 23 || mm > 59 || ss > 60)
		return 0;
	tm.tm_year = (int)year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = (int)day;
	tm.tm_hour = (int)hh;
	tm.tm_min = (int)mm;
	tm.tm_sec = (int)ss;
	t = timegm(&tm) - zone_minutes(v + i, n - i) * 60;
	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	return strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 19;
}
