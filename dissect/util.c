/*
 * util.c - small helpers on untrusted wire bytes, shared by dissectors.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dissect/dissect.h"
#include "dissect/util.h"

void
md_env_default(struct md_env *env)
{
	md_limits_default(&env->lim);
	env->keys = NULL;
	env->tls_budget = NULL;
}

void
md_limits_default(struct md_limits *lim)
{
	lim->line_max = MD_LINE_MAX;
	lim->reply_max = MD_REPLY_MAX;
	lim->pending_max = MD_PENDING_MAX;
	lim->responses_max = MD_RESPONSES_MAX;
}

static int
md_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* True when p starts with prefix, ASCII case folded. */
int
md_ci_prefix(const uint8_t *p, size_t len, const char *prefix)
{
	size_t i;

	for (i = 0; prefix[i] != '\0'; i++)
		if (i >= len || md_lower(p[i]) != md_lower((uint8_t)prefix[i]))
			return 0;
	return 1;
}

/* Copies n bytes, ASCII letters upper-cased (verbs, keywords). */
void
md_upper_copy(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = src[i];

		dst[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
}

/* True when p is exactly word, ASCII case folded. */
int
md_ci_equal(const uint8_t *p, size_t len, const char *word)
{
	size_t i;

	for (i = 0; word[i] != '\0'; i++)
		if (i >= len || md_lower(p[i]) != md_lower((uint8_t)word[i]))
			return 0;
	return i == len;
}

/* Bytes of one argument at p: a quoted string (backslash escapes) or an
 * atom, up to the space after it. */
static size_t
arg_token(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (n > 0 && p[0] == '"') {
		for (i = 1; i < n && p[i] != '"'; i++)
			if (p[i] == '\\')
				i++;
		return i < n ? i + 1 : n;
	}
	while (i < n && p[i] != ' ')
		i++;
	return i;
}

size_t
md_args_public(const uint8_t *verb, size_t vlen, const uint8_t *args,
    size_t alen, int digests)
{
	if (md_ci_equal(verb, vlen, "PASS"))
		return 0;
	/* the mechanism, not an initial response (PLAIN, XOAUTH2, ...) */
	if (md_ci_equal(verb, vlen, "AUTH") ||
	    md_ci_equal(verb, vlen, "AUTHENTICATE") ||
	    md_ci_equal(verb, vlen, "LOGIN") ||
	    (digests && md_ci_equal(verb, vlen, "APOP")))
		return arg_token(args, alen);
	return alen;
}

/* The one base64 alphabet (RFC 4648 4): digit values; MD_B64_SPACE for
 * white space, MD_B64_PAD for "=", -1 for anything else. */
/* clang-format off: sixteen a row, as a table is read */
const int8_t md_b64_digit[256] = {
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-2,
	-2,
	-1,
	-1,
	-2,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-2,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	62,
	-1,
	-1,
	-1,
	63,
	52,
	53,
	54,
	55,
	56,
	57,
	58,
	59,
	60,
	61,
	-1,
	-1,
	-1,
	-3,
	-1,
	-1,
	-1,
	0,
	1,
	2,
	3,
	4,
	5,
	6,
	7,
	8,
	9,
	10,
	11,
	12,
	13,
	14,
	15,
	16,
	17,
	18,
	19,
	20,
	21,
	22,
	23,
	24,
	25,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	26,
	27,
	28,
	29,
	30,
	31,
	32,
	33,
	34,
	35,
	36,
	37,
	38,
	39,
	40,
	41,
	42,
	43,
	44,
	45,
	46,
	47,
	48,
	49,
	50,
	51,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
	-1,
};
/* clang-format on */

/* The value of a base64 digit, -1 for any other byte. */
int
md_b64_value(uint8_t c)
{
	return md_b64_digit[c] >= 0 ? md_b64_digit[c] : -1;
}

void
md_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The value of a hex digit, -1 for any other byte. */
int
md_hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes base64 (RFC 4648) as used by SASL (RFC 4954): no white space,
 * padding optional.  Writes at most outcap bytes.  *ok is 0 when a byte
 * outside the alphabet was met or bits were left over; what decoded
 * before that is still returned.
 */
size_t
md_b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outcap,
    int *ok)
{
	uint32_t acc = 0;
	size_t	 i, n = 0;
	int	 bits = 0, v, pad = 0;

	*ok = 1;
	for (i = 0; i < len; i++) {
		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = md_b64_value(in[i])) < 0) {
			*ok = 0;
			break;
		}
		acc = ((acc & 0xffff) << 6) |
		    (uint32_t)v; /* 8 bits + 6 at most are live */
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < outcap)
				out[n] = (uint8_t)(acc >> bits);
			n++;
		}
	}
	if (pad > 2 || bits >= 6)
		*ok = 0;
	return n < outcap ? n : outcap;
}

const char *
md_end_str(enum md_end e)
{
	switch (e) {
	case MD_END_QUIT:
		return "quit";
	case MD_END_CLOSE:
		return "close";
	case MD_END_RESET:
		return "reset";
	case MD_END_TIMEOUT:
		return "timeout";
	case MD_END_CAPTURE_END:
		return "capture_end";
	case MD_END_ERROR:
		return "error";
	case MD_END_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *
md_tls_str(enum md_tls t)
{
	switch (t) {
	case MD_TLS_STARTTLS:
		return "starttls";
	case MD_TLS_IMPLICIT:
		return "implicit";
	case MD_TLS_NONE:
		break;
	}
	return "none";
}

const char *
md_auth_outcome_str(enum md_auth_outcome o)
{
	switch (o) {
	case MD_AUTH_OK:
		return "success";
	case MD_AUTH_FAILED:
		return "failure";
	case MD_AUTH_CANCELLED:
		return "cancelled";
	case MD_AUTH_UNKNOWN:
		break;
	}
	return "unknown";
}

/* SMTP's reply classes (RFC 5321 4.2.1) as the verdict all protocols
 * share: positive completion and intermediate are ok, transient and
 * permanent failures no. */
enum md_status
md_smtp_status(int code)
{
	if (code >= 200 && code < 400)
		return MD_ST_OK;
	if (code >= 400 && code < 600)
		return MD_ST_NO;
	return MD_ST_NONE;
}

const char *
md_status_str(enum md_status st)
{
	switch (st) {
	case MD_ST_OK:
		return "ok";
	case MD_ST_NO:
		return "no";
	case MD_ST_BAD:
		return "bad";
	case MD_ST_BYE:
		return "bye";
	case MD_ST_NONE:
		break;
	}
	return "none";
}

const char *
md_disposition_str(enum md_disposition d)
{
	switch (d) {
	case MD_DISP_INLINE:
		return "inline";
	case MD_DISP_ATTACHMENT:
		return "attachment";
	case MD_DISP_NONE:
		break;
	}
	return NULL;
}

const char *
md_ev_str(enum md_ev t)
{
	static const char *const names[MD_EV_COUNT] = {
#define EVENT(name, scope) [MD_EV_##name] = #name,
#include "dissect/events.def"
#undef EVENT
	};

	return (unsigned)t < MD_EV_COUNT ? names[t] : "?";
}

/* Length of the well-formed UTF-8 sequence at s (1 to 4), or 0. */
size_t
md_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
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

/* Four digits at a time, from the table. */
static size_t
b64_run_scalar(const uint8_t *p, size_t n, uint8_t *out, size_t room,
    size_t *made)
{
	size_t i = 0, o = 0;

	while (i + 4 <= n && o + 3 <= room) {
		int	 a = md_b64_digit[p[i]], b = md_b64_digit[p[i + 1]];
		int	 c = md_b64_digit[p[i + 2]], d = md_b64_digit[p[i + 3]];
		uint32_t v;

		if ((a | b | c | d) <
		    0) /* not a digit: negative in the table */
			break;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
		    (uint32_t)d;
		out[o] = (uint8_t)(v >> 16);
		out[o + 1] = (uint8_t)(v >> 8);
		out[o + 2] = (uint8_t)v;
		i += 4;
		o += 3;
	}
	*made = o;
	return i;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/*
 * Sixteen digits to twelve bytes per step (W. Mula and D. Lemire, "Faster
 * Base64 Encoding and Decoding Using AVX2 Instructions", 2018, with
 * SSSE3): nibble tables classify and translate every byte at once, two
 * multiply-adds pack the 6-bit values, a shuffle orders the bytes.  A
 * block with any byte outside the alphabet is left to the scalar loop,
 * which stops where that byte is.
 */
__attribute__((target("ssse3"))) static size_t
b64_run_ssse3(const uint8_t *p, size_t n, uint8_t *out, size_t room,
    size_t *made)
{
	const __m128i lut_lo = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
	const __m128i lut_hi = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08,
	    0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m128i lut_roll = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71,
	    0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13,
	    12, -1, -1, -1, -1);
	const __m128i mask_2f = _mm_set1_epi8(0x2f);
	size_t	      i = 0, o = 0, tail;

	/* 16 bytes are stored for 12 made: room for the 4 beyond */
	while (i + 16 <= n && o + 16 <= room) {
		__m128i in = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i hi_nib = _mm_and_si128(_mm_srli_epi32(in, 4), mask_2f);
		__m128i lo =
		    _mm_shuffle_epi8(lut_lo, _mm_and_si128(in, mask_2f));
		__m128i hi = _mm_shuffle_epi8(lut_hi, hi_nib);
		__m128i roll = _mm_shuffle_epi8(lut_roll,
		    _mm_add_epi8(_mm_cmpeq_epi8(in, mask_2f), hi_nib));
		__m128i v;

		if (_mm_movemask_epi8(_mm_cmpgt_epi8(_mm_and_si128(lo, hi),
			_mm_setzero_si128())) != 0)
			break; /* a byte outside the alphabet in this block */
		v = _mm_add_epi8(in, roll);
		v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
		v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
		_mm_storeu_si128((__m128i *)(out + o),
		    _mm_shuffle_epi8(v, order));
		i += 16;
		o += 12;
	}
	i += b64_run_scalar(p + i, n - i, out + o, room - o, &tail);
	*made = o + tail;
	return i;
}
#endif

size_t
md_b64_run(const uint8_t *p, size_t n, uint8_t *out, size_t room, size_t *made)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("ssse3"))
		return b64_run_ssse3(p, n, out, room, made);
#endif
	return b64_run_scalar(p, n, out, room, made);
}

size_t
md_utf8_put(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return 0;
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t
md_html_entity(const char *e, size_t n, char out[4])
{
	static const struct {
		const char *name, *text;
	} named[] = { { "amp", "&" }, { "lt", "<" }, { "gt", ">" },
		{ "quot", "\"" }, { "apos", "'" }, { "nbsp", " " } };
	uint32_t cp = 0;

	if (n > 1 && e[0] == '#') {
		int hex = e[1] == 'x' || e[1] == 'X';

		/* digits up to the first that is none, as strtoul reads */
		for (size_t i = 1 + (size_t)hex; i < n; i++) {
			int d = hex ? md_hex_value((uint8_t)e[i]) :
			    e[i] >= '0' && e[i] <= '9' ? e[i] - '0' :
							 -1;
			if (d < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (uint32_t)d;
			if (cp > 0x10ffff)
				return 0;
		}
		return cp == 0 ? 0 : md_utf8_put(cp, out);
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == n &&
		    memcmp(named[i].name, e, n) == 0) {
			memcpy(out, named[i].text, strlen(named[i].text));
			return strlen(named[i].text);
		}
	return 0;
}

const char *
md_flag_names(unsigned flags, const char *const names[], size_t n, char *buf,
    size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 32; i++) {
		size_t l = strlen(names[i]);

		if (!(flags & 1u << i) || k + (k > 0) + l >= len)
			continue;
		if (k > 0)
			buf[k++] = ',';
		memcpy(buf + k, names[i], l);
		k += l;
		buf[k] = '\0';
	}
	return buf;
}
