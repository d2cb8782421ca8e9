/* \summary: TLS without keys: records, hellos, certificates, alerts */
/*
 * RFC 5246 (TLS 1.2) and RFC 8446 (TLS 1.3), read as a passive observer.
 * Each direction is a stream of records (type, version, length); the
 * handshake messages they carry in clear are put together across records
 * and read: ClientHello and ServerHello (RFC 8446 4.1.2-4.1.3, with the
 * extensions of 4.2 and RFC 6066, 7301, 7919), Certificate (TLS 1.2 and
 * older: in 1.3 it is encrypted), ServerKeyExchange's named curve (RFC
 * 8422 5.4).  After ChangeCipherSpec (1.2) the handshake is encrypted;
 * in 1.3 everything after the ServerHello travels as application data.
 * Alerts in clear are told.  A direction whose records stop making sense
 * (a gap, bytes that are not TLS) is no longer followed; it is counted.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/common.h"
#include "dissect/tls.h"
#include "dissect/tlskeys.h"
#include "dissect/util.h"

enum {
	REC_CCS = 20,
	REC_ALERT = 21,
	REC_HANDSHAKE = 22,
	REC_APPDATA = 23,
	REC_HEARTBEAT = 24,
};

enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CLIENT_KEY_EXCHANGE = 16,
	HS_FINISHED = 20,
	HS_KEY_UPDATE = 24,
};

#define REC_MAX (16384 + 2048) /* TLSCiphertext at its largest */
/* A session whose keys are not in a growing key log yet waits for them,
 * holding its records, at most this long and this much. */
#define WAIT_MAX_US    10000000u
#define WAIT_MAX_BYTES (1u << 20)
/* The handshake kept up to the ClientKeyExchange, for RFC 7627. */
#define TRANSCRIPT_MAX (256u * 1024)

/* One direction's record layer. */
struct tls_dir {
	uint8_t	 hdr[5];
	size_t	 hdr_len;
	uint32_t rec_left; /* bytes of the record's body still to come */
	uint8_t	 rec_type;
	int	 dead;	    /* not followed any more */
	int	 hs_dead;   /* handshake no longer read (too long) */
	int	 ccs;	    /* ChangeCipherSpec sent */
	uint64_t after_ccs; /* records since */
	uint64_t records, appdata;
	uint8_t *hs; /* the handshake message being put together */
	size_t	 hs_len, hs_cap;
	uint8_t	 alert[2];
	size_t	 alert_len;
	int	 certs; /* a Certificate message was read */
	/* decryption, with a key log */
	struct tls_prot prot;  /* this direction's keys */
	int		keyed; /* prot holds keys (1.2: for after CCS) */
	int protected;	       /* records are protected from here on */
	int	 app_keys;     /* 1.3: traffic keys, not handshake keys */
	uint8_t	 rec_hdr[5];
	uint8_t *rec; /* a protected record, gathered whole */
	size_t	 rec_len;
	int	 gathering;
};

/* Where a TLS stream's events and decrypted bytes go, and what it
 * knows of the run: the secrets, and the time of the bytes fed. */
struct tls_io {
	const struct tls_keyring *keys;
	uint64_t		  ts;
	struct tls_stream_io	  cb;
};

static int
io_emit(struct tls_io *o, struct md_event *ev)
{
	return o->cb.emit(o->cb.emit_arg, ev);
}

static void
io_anomaly(struct tls_io *o, enum md_dir dir, const char *code,
    const uint8_t *detail, size_t dlen)
{
	struct md_event ev = { .type = MD_EV_ANOMALY, .dir = dir };

	ev.name = md_bytes_str(code);
	ev.arg = md_bytes_of(detail, dlen > 256 ? 256 : dlen);
	io_emit(o, &ev);
}

struct tls_view {
	struct tls_dir	  d[2];
	struct md_budget *budget;  /* shared by all sessions; NULL: none */
	uint16_t	  version; /* negotiated (ServerHello); 0: not seen */
	uint16_t	  cipher;
	uint16_t	  group;
	int		  server_hello, hrr, psk, ske;
	int		  etm; /* encrypt_then_mac accepted (RFC 7366) */
	uint8_t		  client_sid[32];
	size_t		  client_sid_len;
	int		  resumed_sid;
	uint8_t		  client_random[32], server_random[32];
	const struct tls_secrets *sec;
	const char		 *key_status; /* NULL: no key log given */
	char			  status_buf[96];
	uint64_t		  plain[2]; /* application bytes decrypted */
	/* RSA key exchange with a server's key (--tls-key): the handshake
	 * as it went, for the extended master secret (RFC 7627) */
	uint16_t client_version;
	int	 rsa_pending, ems, transcript_on;
	uint8_t *transcript;
	size_t	 tlen, tcap;
	/* a growing key log: what came before the session's keys did */
	int		   waiting;
	uint64_t	   wait_since;
	size_t		   wait_bytes;
	struct wait_chunk *wq, **wq_tail;
};

static void view_feed(struct tls_view *, struct tls_io *, enum md_dir,
    const uint8_t *p, size_t n);

/* Bytes held while a session waits for its keys, in arrival order. */
struct wait_chunk {
	struct wait_chunk *next;
	enum md_dir	   dir;
	size_t		   n;
	uint8_t		   b[];
};

/* Memory from the budget all sessions share; -1 when it is spent. */
static int
budget_take(struct tls_view *v, size_t n)
{
	if (v->budget == NULL)
		return 0;
	if (v->budget->held + n > v->budget->max)
		return -1;
	v->budget->held += n;
	return 0;
}

static void
budget_give(struct tls_view *v, size_t n)
{
	if (v->budget != NULL)
		v->budget->held -= n;
}

/* A direction's handshake buffer, given back. */
static void
hs_free(struct tls_view *v, struct tls_dir *d)
{
	budget_give(v, d->hs_cap);
	free(d->hs);
	d->hs = NULL;
	d->hs_len = d->hs_cap = 0;
}

static void
rec_free(struct tls_view *v, struct tls_dir *d)
{
	if (d->rec != NULL)
		budget_give(v, REC_MAX);
	free(d->rec);
	d->rec = NULL;
	d->gathering = 0;
}

/* -------------------------------------------------------------- names */

const char *
tls_name_of(const struct tls_name *t, size_t n, uint16_t code)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the tables are sorted by code */
		size_t mid = lo + (hi - lo) / 2;

		if (t[mid].code == code)
			return t[mid].name;
		if (t[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *
tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0002:
		return "SSLv2";
	case 0x0300:
		return "SSLv3";
	case 0x0301:
		return "TLSv10";
	case 0x0302:
		return "TLSv11";
	case 0x0303:
		return "TLSv12";
	case 0x0304:
		return "TLSv13";
	default:
		return NULL;
	}
}

/* RFC 8446 6 and the registry's later entries. */
static const struct tls_name alert_names[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed" },
	{ 22, "record_overflow" },
	{ 30, "decompression_failure" },
	{ 40, "handshake_failure" },
	{ 41, "no_certificate" },
	{ 42, "bad_certificate" },
	{ 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 49, "access_denied" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 60, "export_restriction" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 111, "certificate_unobtainable" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 114, "bad_certificate_hash_value" },
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

const char *
tls_alert_name(uint8_t d)
{
	return tls_name_of(alert_names,
	    sizeof(alert_names) / sizeof(alert_names[0]), d);
}

const char *
tls_weak_reason(uint16_t cipher)
{
	static const struct {
		const char *part, *why;
	} weak[] = {
		{ "_NULL_", "NULL encryption" },
		{ "_anon_", "anonymous" },
		{ "EXPORT", "export grade" },
		{ "_RC4_", "RC4" },
		{ "_RC2_", "RC2" },
		{ "3DES", "3DES" },
		{ "_DES_", "DES" },
		{ "_DES40_", "DES" },
	};
	const char *name = tls_cipher_name(cipher);

	if (name == NULL)
		return NULL;
	if (strcmp(name, "TLS_NULL_WITH_NULL_NULL") == 0 ||
	    strstr(name, "_WITH_NULL_") != NULL)
		return "NULL encryption";
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (strstr(name, weak[i].part) != NULL)
			return weak[i].why;
	return NULL;
}

int
tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* -------------------------------------------------------- fingerprints */

static void
hex_digest(const char *md, const char *in, char *out, size_t keep /* even */)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int  dl = 0;

	if (EVP_Digest(in, strlen(in), d, &dl, EVP_get_digestbyname(md),
		NULL) != 1)
		dl = 0;
	md_hex_encode(d, dl < keep / 2 ? dl : keep / 2, out);
}

/* Appends a value to out (cap bytes), after sep unless first; hex4
 * writes it as 4 lower-case hex digits, else in decimal. */
static void
put_num(char *out, size_t cap, size_t *len, int first, char sep, int hex4,
    unsigned v)
{
	int n;

	if (*len + 1 >= cap)
		return;
	if (!first)
		out[(*len)++] = sep;
	n = hex4 ? snprintf(out + *len, cap - *len, "%04x", v) :
		   snprintf(out + *len, cap - *len, "%u", v);
	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
	out[*len] = '\0';
}

/* A list without GREASE, joined by sep, decimal (JA3). */
static void
put_list(char *out, size_t cap, size_t *len, const uint16_t *v, size_t n)
{
	int first = 1;

	for (size_t i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		put_num(out, cap, len, first, '-', 0, v[i]);
		first = 0;
	}
}

static void
put_char(char *out, size_t cap, size_t *len, char c)
{
	if (*len + 1 < cap)
		out[(*len)++] = c;
	out[*len] = '\0';
}

void
tls_ja3(const struct tls_lists *l, int server, char *out, size_t cap,
    char *hash)
{
	size_t len = 0;

	out[0] = '\0';
	put_num(out, cap, &len, 1, ',', 0, l->legacy_version);
	put_char(out, cap, &len, ',');
	put_list(out, cap, &len, l->ciphers, l->nciphers);
	put_char(out, cap, &len, ',');
	put_list(out, cap, &len, l->exts, l->nexts);
	if (!server) {
		uint16_t f[TLS_LIST_MAX];

		for (size_t i = 0; i < l->nformats; i++)
			f[i] = l->formats[i];
		put_char(out, cap, &len, ',');
		put_list(out, cap, &len, l->groups, l->ngroups);
		put_char(out, cap, &len, ',');
		put_list(out, cap, &len, f, l->nformats);
	}
	hex_digest("MD5", out, hash, 32);
}

static int
cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* The non-GREASE values of a list, sorted or not; how many. */
static size_t
clean(const uint16_t *v, size_t n, uint16_t *out, int sort, int no_sni_alpn)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!tls_is_grease(v[i]) &&
		    !(no_sni_alpn && (v[i] == 0x0000 || v[i] == 0x0010)))
			out[k++] = v[i];
	if (sort)
		qsort(out, k, sizeof(*out), cmp_u16);
	return k;
}

static void
hex_list(char *out, size_t cap, size_t *len, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_num(out, cap, len, i == 0, ',', 1, v[i]);
}

static int
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static const char *
ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	default:
		return "00";
	}
}

void
tls_ja4(const struct tls_lists *l, char *out)
{
	uint16_t c[TLS_LIST_MAX], e[TLS_LIST_MAX], v = 0;
	char	 buf[4 * 6 * TLS_LIST_MAX], alpn[3] = "00", b[13], x[13];
	size_t	 nc = clean(l->ciphers, l->nciphers, c, 1, 0), ne, len = 0;
	size_t	 n_ext = clean(l->exts, l->nexts, e, 0, 0);

	for (size_t i = 0; i < l->nversions; i++)
		if (!tls_is_grease(l->versions[i]) && l->versions[i] > v)
			v = l->versions[i];
	if (l->nversions == 0)
		v = l->legacy_version;
	if (l->has_alpn && l->alpn0_len > 0) {
		uint8_t f = l->alpn0[0], t = l->alpn0[l->alpn0_len - 1];

		if (is_alnum(f) && is_alnum(t)) {
			alpn[0] = (char)f;
			alpn[1] = (char)t;
		} else { /* the first and last hex digits */
			snprintf(alpn, sizeof(alpn), "%x%x", f >> 4, t & 0xf);
		}
	}
	buf[0] = '\0';
	hex_list(buf, sizeof(buf), &len, c, nc);
	if (nc == 0)
		strcpy(b, "000000000000");
	else
		hex_digest("SHA256", buf, b, 12);
	ne = clean(l->exts, l->nexts, e, 1, 1);
	len = 0;
	buf[0] = '\0';
	hex_list(buf, sizeof(buf), &len, e, ne);
	if (l->nsig_algs > 0) {
		uint16_t s[TLS_LIST_MAX];
		size_t	 ns = clean(l->sig_algs, l->nsig_algs, s, 0, 0);

		if (ns > 0 && len + 1 < sizeof(buf)) {
			buf[len++] = '_';
			buf[len] = '\0';
			hex_list(buf, sizeof(buf), &len, s, ns);
		}
	}
	if (ne == 0)
		strcpy(x, "000000000000");
	else
		hex_digest("SHA256", buf, x, 12);
	snprintf(out, 40, "t%s%c%02zu%02zu%s_%s_%s", ja4_version(v),
	    l->has_sni ? 'd' : 'i', nc > 99 ? 99 : nc, n_ext > 99 ? 99 : n_ext,
	    alpn, b, x);
}

/* ------------------------------------------------------------- reading */

/* A bounded reader over a handshake message. */
struct rd {
	const uint8_t *p;
	size_t	       n, i;
	int	       bad;
};

static unsigned
rd_u8(struct rd *r)
{
	if (r->i + 1 > r->n) {
		r->bad = 1;
		return 0;
	}
	return r->p[r->i++];
}

static unsigned
rd_u16(struct rd *r)
{
	unsigned v;

	if (r->i + 2 > r->n) {
		r->bad = 1;
		return 0;
	}
	v = (unsigned)r->p[r->i] << 8 | r->p[r->i + 1];
	r->i += 2;
	return v;
}

static uint32_t
rd_u24(struct rd *r)
{
	uint32_t v;

	if (r->i + 3 > r->n) {
		r->bad = 1;
		return 0;
	}
	v = (uint32_t)r->p[r->i] << 16 | (uint32_t)r->p[r->i + 1] << 8 |
	    r->p[r->i + 2];
	r->i += 3;
	return v;
}

/* A sub-reader of len bytes at the cursor, which moves past them. */
static struct rd
rd_sub(struct rd *r, size_t len)
{
	struct rd s = { r->p + r->i, len, 0, 0 };

	if (len > r->n - r->i) {
		r->bad = 1;
		s.n = 0;
		s.bad = 1;
		return s;
	}
	r->i += len;
	return s;
}

/* Printable copy of wire text into out (cap), '?' for control bytes. */
static void
put_text(char *out, size_t cap, size_t *len, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && *len + 1 < cap; i++)
		out[(*len)++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	out[*len] = '\0';
}

/* Appends a 4-digit hex code point to a comma list, "..." when full. */
static void
put_code(char *out, size_t cap, uint16_t v)
{
	size_t len = strlen(out);

	if (len >= 3 && strcmp(out + len - 3, "...") == 0)
		return;
	if (len + 6 + 4 >= cap) {
		snprintf(out + len, cap - len, "%s...", len ? "," : "");
		return;
	}
	snprintf(out + len, cap - len, "%s%04x", len ? "," : "", v);
}

static void
keep_code(uint16_t *list, size_t *n, uint16_t v)
{
	if (*n < TLS_LIST_MAX)
		list[(*n)++] = v;
}

/* server_name (RFC 6066 3): the first host_name. */
static void
ext_sni(struct rd *r, struct md_tls_hello *h)
{
	struct rd list = rd_sub(r, rd_u16(r));

	while (!list.bad && list.i < list.n) {
		unsigned  type = rd_u8(&list);
		struct rd name = rd_sub(&list, rd_u16(&list));
		size_t	  len = 0;

		if (type == 0 && !name.bad && h->sni[0] == '\0') {
			put_text(h->sni, sizeof(h->sni), &len, name.p, name.n);
			return;
		}
	}
}

/* application_layer_protocol_negotiation (RFC 7301 3.1). */
static void
ext_alpn(struct rd *r, struct md_tls_hello *h, struct tls_lists *l)
{
	struct rd list = rd_sub(r, rd_u16(r));
	size_t	  len = strlen(h->alpn);

	while (!list.bad && list.i < list.n) {
		struct rd name = rd_sub(&list, rd_u8(&list));

		if (name.bad)
			break;
		if (!l->has_alpn) {
			l->has_alpn = 1;
			memcpy(l->alpn0, name.p, name.n);
			l->alpn0_len = name.n;
		}
		if (len > 0 && len + 1 < sizeof(h->alpn))
			h->alpn[len++] = ',';
		put_text(h->alpn, sizeof(h->alpn), &len, name.p, name.n);
	}
}

/* A list of 16-bit code points behind a length of lenbytes bytes. */
static void
ext_codes(struct rd *r, int lenbytes, char *text, size_t cap, uint16_t *list,
    size_t *n)
{
	struct rd l = rd_sub(r, lenbytes == 1 ? rd_u8(r) : rd_u16(r));

	while (!l.bad && l.i + 2 <= l.n) {
		uint16_t v = (uint16_t)rd_u16(&l);

		if (text != NULL)
			put_code(text, cap, v);
		keep_code(list, n, v);
	}
}

/* One extension of a hello (RFC 8446 4.2). */
static void
hello_ext(struct rd *r, int server, uint16_t type, struct md_tls_hello *h,
    struct tls_lists *l)
{
	switch (type) {
	case 0x0000:
		l->has_sni = 1;
		if (!server)
			ext_sni(r, h);
		break;
	case 0x000a: /* supported_groups */
		ext_codes(r, 2, h->groups, sizeof(h->groups), l->groups,
		    &l->ngroups);
		break;
	case 0x000b: { /* ec_point_formats */
		struct rd f = rd_sub(r, rd_u8(r));

		while (!f.bad && f.i < f.n && l->nformats < TLS_LIST_MAX)
			l->formats[l->nformats++] = (uint8_t)rd_u8(&f);
		break;
	}
	case 0x000d: /* signature_algorithms */
		ext_codes(r, 2, h->sig_algs, sizeof(h->sig_algs), l->sig_algs,
		    &l->nsig_algs);
		break;
	case 0x0010:
		ext_alpn(r, h, l);
		break;
	case 0x0023: /* session_ticket (RFC 5077) */
		h->ticket = 1;
		h->ticket_data = r->n > 0;
		break;
	case 0x0029: /* pre_shared_key */
		h->psk = 1;
		break;
	case 0x002b: /* supported_versions */
		if (server) {
			h->version = (uint16_t)rd_u16(r);
			put_code(h->versions, sizeof(h->versions), h->version);
		} else
			ext_codes(r, 1, h->versions, sizeof(h->versions),
			    l->versions, &l->nversions);
		break;
	case 0x0033: /* key_share: the server's group */
		if (server)
			h->group = (uint16_t)rd_u16(r);
		break;
	default:
		break;
	}
}

static void
hello_exts(struct rd *r, int server, struct md_tls_hello *h,
    struct tls_lists *l)
{
	struct rd all;

	if (r->i >= r->n) /* no extensions at all (RFC 5246 7.4.1.2) */
		return;
	all = rd_sub(r, rd_u16(r));
	while (!all.bad && all.i + 4 <= all.n) {
		uint16_t  type = (uint16_t)rd_u16(&all);
		struct rd body = rd_sub(&all, rd_u16(&all));

		put_code(h->exts, sizeof(h->exts), type);
		keep_code(l->exts, &l->nexts, type);
		if (!body.bad)
			hello_ext(&body, server, type, h, l);
	}
}

static void
hex_id(char *out, const uint8_t *p, size_t n)
{
	md_hex_encode(p, n < 32 ? n : 32, out);
}

static void
emit_hello(struct tls_io *o, enum md_dir dir, const struct md_tls_hello *h)
{
	struct md_event ev = { .type = MD_EV_TLS_HELLO, .dir = dir };
	const char     *vn = tls_version_name(h->version);
	const char     *cn = tls_cipher_name(h->cipher);

	ev.hello = h;
	ev.name = md_bytes_str(vn != NULL ? vn : "");
	if (dir == MD_C2S)
		ev.arg = md_bytes_str(h->sni);
	else if (cn != NULL)
		ev.arg = md_bytes_str(cn);
	ev.extra = md_bytes_str(h->ja3_hash);
	ev.aux = md_bytes_str(h->ja4);
	ev.num[0] = h->version;
	ev.num[1] = dir == MD_S2C ? h->cipher : 0;
	io_emit(o, &ev);
}

static void
client_hello(struct tls_view *v, struct tls_io *o, struct rd *r)
{
	struct md_tls_hello *h = calloc(1, sizeof(*h));
	struct tls_lists    *l = calloc(1, sizeof(*l));
	struct rd	     random, sid, suites, comp;

	if (h == NULL || l == NULL)
		goto out;
	h->legacy_version = l->legacy_version = (uint16_t)rd_u16(r);
	random = rd_sub(r, 32);
	if (!random.bad)
		memcpy(v->client_random, random.p, 32);
	sid = rd_sub(r, rd_u8(r));
	if (!sid.bad && sid.n <= 32) {
		hex_id(h->session_id, sid.p, sid.n);
		memcpy(v->client_sid, sid.p, sid.n);
		v->client_sid_len = sid.n;
	}
	suites = rd_sub(r, rd_u16(r));
	while (!suites.bad && suites.i + 2 <= suites.n) {
		uint16_t c = (uint16_t)rd_u16(&suites);

		put_code(h->ciphers, sizeof(h->ciphers), c);
		keep_code(l->ciphers, &l->nciphers, c);
	}
	comp = rd_sub(r, rd_u8(r));
	if (r->bad || suites.bad || comp.bad || sid.n > 32) {
		io_anomaly(o, MD_C2S, MD_ANOM_TLS_MALFORMED,
		    (const uint8_t *)"ClientHello", 11);
		goto out;
	}
	hello_exts(r, 0, h, l);
	h->version = h->legacy_version;
	for (size_t i = 0; i < l->nversions; i++)
		if (!tls_is_grease(l->versions[i]) &&
		    l->versions[i] > h->version)
			h->version = l->versions[i];
	tls_ja3(l, 0, h->ja3, sizeof(h->ja3), h->ja3_hash);
	tls_ja4(l, h->ja4);
	v->client_version = h->legacy_version;
	emit_hello(o, MD_C2S, h);
out:
	free(h);
	free(l);
}

/* SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xcf,
	0x21,
	0xad,
	0x74,
	0xe5,
	0x9a,
	0x61,
	0x11,
	0xbe,
	0x1d,
	0x8c,
	0x02,
	0x1e,
	0x65,
	0xb8,
	0x91,
	0xc2,
	0xa2,
	0x11,
	0x16,
	0x7a,
	0xbb,
	0x8c,
	0x5e,
	0x07,
	0x9e,
	0x09,
	0xe2,
	0xc8,
	0xa8,
	0x33,
	0x9c,
};

/* What became of decryption: words, and a name after them if any. */
static void
key_status(struct tls_view *v, const char *words, const char *name)
{
	snprintf(v->status_buf, sizeof(v->status_buf), "%s%s%s", words,
	    name != NULL ? " " : "", name != NULL ? name : "");
	v->key_status = v->status_buf;
}

/*
 * The ServerHello named the suite: the keys for this session, when a key
 * log has its client random.  TLS 1.3 protects what follows at once
 * (handshake secrets, then traffic secrets after each side's Finished);
 * TLS 1.2 from each side's ChangeCipherSpec on, with keys expanded from
 * the master secret.
 */
static void
keys_setup(struct tls_view *v, struct tls_io *o)
{
	struct tls_suite s = tls_suite_of(v->cipher);
	struct tls_dir	*c = &v->d[MD_C2S], *sv = &v->d[MD_S2C];
	const char	*cn = tls_cipher_name(v->cipher);

	if (o->keys == NULL)
		return;
	tls_keyring_refresh(o->keys);
	if ((v->sec = tls_keyring_find(o->keys, v->client_random)) == NULL &&
	    tls_keyring_has_rsa(o->keys) && v->version <= 0x0303 &&
	    cn != NULL && strncmp(cn, "TLS_RSA_WITH_", 13) == 0 &&
	    s.aead != TLS_AEAD_NONE) {
		v->rsa_pending = 1; /* the ClientKeyExchange will tell */
		key_status(v, "no ClientKeyExchange seen", NULL);
		return;
	}
	if (v->sec == NULL) {
		key_status(v, "no key for this client random", NULL);
		if (tls_keyring_following(o->keys) && !v->waiting &&
		    v->wait_since == 0) {
			v->waiting = 1; /* its key log line may come yet */
			v->wait_since = o->ts != 0 ? o->ts : 1;
			v->wq_tail = &v->wq;
		}
		return;
	}
	if (s.aead == TLS_AEAD_NONE) {
		key_status(v, "suite not decrypted:", cn ? cn : "unknown");
		return;
	}
	if (v->version == 0x0304) {
		if ((v->sec->have & (TLS_HAVE_CHTS | TLS_HAVE_SHTS)) !=
			(TLS_HAVE_CHTS | TLS_HAVE_SHTS) ||
		    tls13_prot(&c->prot, &s, v->sec->chts, v->sec->hs_len) ||
		    tls13_prot(&sv->prot, &s, v->sec->shts, v->sec->hs_len)) {
			key_status(v,
			    "the key log lacks the handshake "
			    "secrets",
			    NULL);
			return;
		}
		c->keyed = sv->keyed = c->protected = sv->protected = 1;
	} else {
		if (!(v->sec->have & TLS_HAVE_MASTER) ||
		    tls12_prot(&c->prot, &sv->prot, &s, v->version, v->etm,
			v->sec->master, v->client_random,
			v->server_random) != 0) {
			key_status(v, "the key log lacks the master secret",
			    NULL);
			return;
		}
		c->keyed = sv->keyed = 1;
	}
	key_status(v, "decrypted", NULL);
}

/* TLS 1.3: the traffic secret replaces the handshake secret. */
static void
to_traffic_keys(struct tls_view *v, enum md_dir dir)
{
	struct tls_suite s = tls_suite_of(v->cipher);
	struct tls_dir	*d = &v->d[dir];
	unsigned	 need = dir == MD_C2S ? TLS_HAVE_CATS : TLS_HAVE_SATS;

	if (d->app_keys || v->sec == NULL)
		return;
	d->app_keys = 1;
	if (!(v->sec->have & need) ||
	    tls13_prot(&d->prot, &s,
		dir == MD_C2S ? v->sec->cats : v->sec->sats,
		v->sec->ap_len) != 0) {
		d->protected = 0;
		key_status(v, "the key log lacks the traffic secrets", NULL);
	}
}

static void
server_findings(struct tls_io *o, const struct md_tls_hello *h)
{
	const char *why = tls_weak_reason(h->cipher);
	const char *cn = tls_cipher_name(h->cipher);

	if (h->version != 0 && h->version < 0x0303) {
		const char *vn = tls_version_name(h->version);

		io_anomaly(o, MD_S2C, MD_ANOM_TLS_OLD,
		    (const uint8_t *)(vn ? vn : "?"), strlen(vn ? vn : "?"));
	}
	if (why != NULL) {
		char d[160];
		int  n = snprintf(d, sizeof(d), "%s: %s", cn, why);

		io_anomaly(o, MD_S2C, MD_ANOM_TLS_WEAK, (const uint8_t *)d,
		    (size_t)n < sizeof(d) ? (size_t)n : sizeof(d) - 1);
	}
}

static void
server_hello(struct tls_view *v, struct tls_io *o, struct rd *r)
{
	struct md_tls_hello *h = calloc(1, sizeof(*h));
	struct tls_lists    *l = calloc(1, sizeof(*l));
	struct rd	     random, sid;

	if (h == NULL || l == NULL)
		goto out;
	h->legacy_version = l->legacy_version = (uint16_t)rd_u16(r);
	random = rd_sub(r, 32);
	sid = rd_sub(r, rd_u8(r));
	if (!sid.bad && sid.n <= 32)
		hex_id(h->session_id, sid.p, sid.n);
	h->cipher = (uint16_t)rd_u16(r);
	keep_code(l->ciphers, &l->nciphers, h->cipher);
	(void)rd_u8(r); /* compression */
	if (r->bad || sid.n > 32) {
		io_anomaly(o, MD_S2C, MD_ANOM_TLS_MALFORMED,
		    (const uint8_t *)"ServerHello", 11);
		goto out;
	}
	hello_exts(r, 1, h, l);
	if (h->version == 0)
		h->version = h->legacy_version;
	h->hrr = !random.bad && memcmp(random.p, hrr_random, 32) == 0;
	tls_ja3(l, 1, h->ja3, sizeof(h->ja3), h->ja3_hash);
	if (!h->hrr) {
		if (!random.bad)
			memcpy(v->server_random, random.p, 32);
		v->server_hello = 1;
		for (size_t i = 0; i < l->nexts; i++) {
			v->etm |= l->exts[i] == 0x0016;
			v->ems |= l->exts[i] == 0x0017;
		}
		v->version = h->version;
		v->cipher = h->cipher;
		v->group = h->group;
		v->psk = h->psk;
		v->resumed_sid = !sid.bad && sid.n > 0 &&
		    sid.n == v->client_sid_len &&
		    memcmp(sid.p, v->client_sid, sid.n) == 0;
	}
	v->hrr |= h->hrr;
	emit_hello(o, MD_S2C, h);
	if (!h->hrr) {
		server_findings(o, h);
		keys_setup(v, o);
	}
out:
	free(h);
	free(l);
}

/* One entry of a certificate list: its DER bytes, and in TLS 1.3 the
 * extensions after them (skipped). */
static struct rd
cert_entry(struct rd *list, int tls13)
{
	struct rd der = rd_sub(list, rd_u24(list));

	if (tls13)
		(void)rd_sub(list, rd_u16(list));
	if (list->bad)
		der.bad = 1;
	return der;
}

/*
 * Certificate (RFC 5246 7.4.2; RFC 8446 4.4.2, decrypted only, where a
 * request context comes first and each entry has extensions of its
 * own): each certificate in the chain, the sender's first.
 */
static void
certificate(struct tls_io *o, enum md_dir dir, struct rd *r, int tls13)
{
	struct rd list, scan;
	uint64_t  n = 0, i = 0;

	if (tls13)
		(void)rd_sub(r, rd_u8(r)); /* certificate_request_context */
	list = scan = rd_sub(r, rd_u24(r));
	while (!scan.bad && scan.i + 3 <= scan.n)
		n += !cert_entry(&scan, tls13).bad;
	while (!list.bad && list.i + 3 <= list.n) {
		struct rd	der = cert_entry(&list, tls13);
		struct md_event ev = { .type = MD_EV_TLS_CERT, .dir = dir };

		if (der.bad)
			break;
		ev.arg = md_bytes_of(der.p, der.n);
		ev.num[0] = i++;
		ev.num[1] = n;
		io_emit(o, &ev);
	}
}

/* ServerKeyExchange of (EC)DHE with a named curve (RFC 8422 5.4). */
static void
server_key_exchange(struct tls_view *v, struct rd *r)
{
	v->ske = 1;
	if (rd_u8(r) == 3 && !r->bad) {
		uint16_t g = (uint16_t)rd_u16(r);

		if (!r->bad)
			v->group = g;
	}
}

/* The handshake's messages as they went (for RFC 7627), bounded. */
static void
transcript_add(struct tls_view *v, uint8_t type, const uint8_t *p, size_t n)
{
	size_t need = v->tlen + 4 + n;

	if (need > TRANSCRIPT_MAX) {
		v->transcript_on = 0;
		return;
	}
	if (need > v->tcap) {
		size_t	 cap = v->tcap ? v->tcap : 4096;
		uint8_t *b;

		while (cap < need)
			cap *= 2;
		if ((b = realloc(v->transcript, cap)) == NULL) {
			v->transcript_on = 0;
			return;
		}
		v->transcript = b;
		v->tcap = cap;
	}
	v->transcript[v->tlen] = type;
	v->transcript[v->tlen + 1] = (uint8_t)(n >> 16);
	v->transcript[v->tlen + 2] = (uint8_t)(n >> 8);
	v->transcript[v->tlen + 3] = (uint8_t)n;
	memcpy(v->transcript + v->tlen + 4, p, n);
	v->tlen = need;
}

/*
 * RSA key exchange (RFC 5246 7.4.7.1) opened with a server's key: the
 * premaster secret, then the master secret (extended when the hellos
 * agreed on it), then the keys, as a key log's CLIENT_RANDOM would.
 */
static void
rsa_key_exchange(struct tls_view *v, struct tls_io *o, struct rd *r)
{
	struct rd	 enc = rd_sub(r, rd_u16(r));
	struct tls_suite s = tls_suite_of(v->cipher);
	uint8_t		 pms[48], master[48];
	int		 ok;

	v->rsa_pending = 0;
	ok = !enc.bad &&
	    tls_keyring_rsa_premaster(o->keys, enc.p, enc.n, v->client_version,
		pms) == 0;
	if (ok && v->ems && !v->transcript_on)
		ok = 0; /* the handshake was too long to keep */
	ok = ok &&
	    tls12_master(&s, v->version, pms, v->client_random,
		v->server_random, v->ems ? v->transcript : NULL, v->tlen,
		master) == 0;
	ok = ok &&
	    tls12_prot(&v->d[MD_C2S].prot, &v->d[MD_S2C].prot, &s, v->version,
		v->etm, master, v->client_random, v->server_random) == 0;
	OPENSSL_cleanse(pms, sizeof(pms));
	OPENSSL_cleanse(master, sizeof(master));
	v->transcript_on = 0;
	free(v->transcript);
	v->transcript = NULL;
	v->tlen = v->tcap = 0;
	if (!ok) {
		key_status(v, "the RSA key did not open this session", NULL);
		return;
	}
	v->d[MD_C2S].keyed = v->d[MD_S2C].keyed = 1;
	key_status(v, "decrypted", "(RSA key exchange)");
}

static void
handshake_message(struct tls_view *v, struct tls_io *o, enum md_dir dir,
    uint8_t type, const uint8_t *p, size_t n)
{
	struct rd r = { p, n, 0, 0 };

	if (type == HS_CLIENT_HELLO && v->tlen == 0 &&
	    tls_keyring_has_rsa(o->keys))
		v->transcript_on = 1; /* a server key may open the session */
	if (v->transcript_on)
		transcript_add(v, type, p, n);
	if (type == HS_CLIENT_HELLO && dir == MD_C2S)
		client_hello(v, o, &r);
	else if (type == HS_CLIENT_KEY_EXCHANGE && dir == MD_C2S &&
	    v->rsa_pending)
		rsa_key_exchange(v, o, &r);
	else if (type == HS_SERVER_HELLO && dir == MD_S2C)
		server_hello(v, o, &r);
	else if (type == HS_CERTIFICATE) {
		v->d[dir].certs = 1;
		certificate(o, dir, &r, v->version == 0x0304);
	} else if (type == HS_SERVER_KEY_EXCHANGE && dir == MD_S2C)
		server_key_exchange(v, &r);
	else if (type == HS_FINISHED && v->version == 0x0304)
		to_traffic_keys(v, dir); /* for the records after this one */
	else if (type == HS_KEY_UPDATE && v->d[dir].app_keys &&
	    tls13_key_update(&v->d[dir].prot) != 0)
		v->d[dir].protected = 0;
}

/* ------------------------------------------------------------- records */

static void
dir_stop(struct tls_view *v, struct tls_io *o, enum md_dir dir, const char *why)
{
	struct tls_dir *d = &v->d[dir];

	d->dead = 1;
	hs_free(v, d);
	rec_free(v, d);
	if (why != NULL)
		io_anomaly(o, dir, MD_ANOM_TLS_MALFORMED, (const uint8_t *)why,
		    strlen(why));
}

/* Whether a handshake record of this direction is in clear. */
static int
handshake_in_clear(const struct tls_view *v, const struct tls_dir *d)
{
	/* after ChangeCipherSpec, TLS 1.2 and older encrypt it (Finished);
	 * TLS 1.3 sends CCS for middleboxes only, its encrypted handshake
	 * goes as application data */
	return !d->ccs || v->version == 0x0304 || v->hrr;
}

/* Handshake messages out of the bytes put together so far. */
static void
handshake_bytes(struct tls_view *v, struct tls_io *o, enum md_dir dir,
    const uint8_t *p, size_t n, int decrypted)
{
	struct tls_dir *d = &v->d[dir];
	size_t		off = 0;

	if (d->hs_dead || (!decrypted && !handshake_in_clear(v, d)))
		return;
	if (d->hs_len + n > d->hs_cap) {
		size_t	 cap = d->hs_cap ? d->hs_cap : 1024;
		uint8_t *b;

		while (cap < d->hs_len + n)
			cap *= 2;
		if (cap > TLS_HANDSHAKE_MAX + 4)
			cap = TLS_HANDSHAKE_MAX + 4;
		if (d->hs_len + n > cap) {
			d->hs_dead = 1;
			io_anomaly(o, dir, MD_ANOM_TLS_HANDSHAKE_LONG, NULL, 0);
			return;
		}
		if (budget_take(v, cap - d->hs_cap) != 0) {
			d->hs_dead = 1; /* the handshake is not read */
			io_anomaly(o, dir, MD_ANOM_TLS_BUDGET, NULL, 0);
			return;
		}
		if ((b = realloc(d->hs, cap)) == NULL) {
			budget_give(v, cap - d->hs_cap);
			d->hs_dead = 1;
			return;
		}
		d->hs = b;
		d->hs_cap = cap;
	}
	memcpy(d->hs + d->hs_len, p, n);
	d->hs_len += n;
	while (d->hs_len - off >= 4) {
		const uint8_t *m = d->hs + off;
		uint32_t       len =
		    (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];

		if (len > TLS_HANDSHAKE_MAX) {
			d->hs_dead = 1;
			io_anomaly(o, dir, MD_ANOM_TLS_HANDSHAKE_LONG, NULL, 0);
			return;
		}
		if (d->hs_len - off < 4 + (size_t)len)
			break;
		handshake_message(v, o, dir, m[0], m + 4, len);
		off += 4 + (size_t)len;
	}
	memmove(d->hs, d->hs + off, d->hs_len - off);
	d->hs_len -= off;
}

static void
alert_bytes(struct tls_view *v, struct tls_io *o, enum md_dir dir,
    const uint8_t *p, size_t n, int decrypted)
{
	struct tls_dir *d = &v->d[dir];

	if (!decrypted && d->ccs && v->version != 0x0304)
		return; /* encrypted (TLS 1.2): not ours to read */
	for (size_t i = 0; i < n; i++) {
		d->alert[d->alert_len++] = p[i];
		if (d->alert_len == 2) {
			struct md_event ev = { .type = MD_EV_TLS_ALERT,
				.dir = dir };
			const char     *name = tls_alert_name(d->alert[1]);

			ev.name = md_bytes_str(name != NULL ? name : "unknown");
			ev.num[0] = d->alert[0];
			ev.num[1] = d->alert[1];
			io_emit(o, &ev);
			d->alert_len = 0;
		}
	}
}

/* A record header: type, version 3.x, a length TLS allows. */
static int
header_ok(const uint8_t *h)
{
	uint16_t len = (uint16_t)(h[3] << 8 | h[4]);

	return h[0] >= REC_CCS && h[0] <= REC_HEARTBEAT && h[1] == 3 &&
	    len > 0 && len <= REC_MAX;
}

static void
record_begins(struct tls_view *v, struct tls_dir *d)
{
	d->records++;
	if (d->ccs)
		d->after_ccs++;
	if (d->rec_type == REC_APPDATA)
		d->appdata++;
	if (d->rec_type == REC_CCS) {
		d->ccs = 1;
		d->after_ccs = 0;
		hs_free(v, d); /* what follows is not in clear (1.2) */
		if (d->keyed && v->version != 0x0304)
			d->protected = 1; /* its keys take over (1.2) */
	}
}

/* Whether the record beginning is one to gather and open. */
static int
to_open(struct tls_view *v, struct tls_dir *d)
{
	if (!d->protected || d->rec_type == REC_CCS)
		return 0;
	if (d->rec == NULL) {
		if (budget_take(v, REC_MAX) != 0) {
			d->protected = 0; /* not decrypted: memory is spent */
			key_status(v,
			    "not decrypted: the TLS memory budget was "
			    "spent",
			    NULL);
			return 0;
		}
		if ((d->rec = malloc(REC_MAX)) == NULL) {
			budget_give(v, REC_MAX);
			d->protected = 0;
			return 0;
		}
	}
	d->rec_len = 0;
	return 1;
}

/* Application data to the dissector, as if it had come in clear. */
static void
plaintext(struct tls_view *v, struct tls_io *o, enum md_dir dir,
    const uint8_t *p, size_t n)
{
	v->plain[dir] += n;
	if (o->cb.plain != NULL && n > 0)
		o->cb.plain(o->cb.plain_arg, dir, p, n);
}

/* A protected record, whole: opened and its content passed on. */
static void
open_record(struct tls_view *v, struct tls_io *o, enum md_dir dir)
{
	struct tls_dir *d = &v->d[dir];
	uint8_t	       *pt;
	size_t		n;
	uint8_t		type = d->rec_hdr[0];

	if (tls_open_record(&d->prot, d->rec_hdr, d->rec, d->rec_len, &pt,
		&n) != 0) {
		d->protected = 0; /* wrong keys: the rest is counted only */
		key_status(v, "bad record MAC", NULL);
		return;
	}
	if (v->version == 0x0304) { /* RFC 8446 5.2: the inner type */
		while (n > 0 && pt[n - 1] == 0)
			n--;
		if (n == 0)
			return;
		type = pt[--n];
	}
	if (type == REC_HANDSHAKE)
		handshake_bytes(v, o, dir, pt, n, 1);
	else if (type == REC_ALERT)
		alert_bytes(v, o, dir, pt, n, 1);
	else if (type == REC_APPDATA)
		plaintext(v, o, dir, pt, n);
}

static void
hold(struct tls_view *v, enum md_dir dir, const uint8_t *p, size_t n)
{
	struct wait_chunk *c;

	if (budget_take(v, n) != 0)
		c = NULL;
	else if ((c = malloc(sizeof(*c) + n)) == NULL)
		budget_give(v, n);
	if (c == NULL) {
		v->wait_bytes = WAIT_MAX_BYTES; /* gives up at the next look */
		return;
	}
	c->next = NULL;
	c->dir = dir;
	c->n = n;
	memcpy(c->b, p, n);
	*v->wq_tail = c;
	v->wq_tail = &c->next;
	v->wait_bytes += n;
}

static void
drop_held(struct tls_view *v)
{
	while (v->wq != NULL) {
		struct wait_chunk *c = v->wq;

		v->wq = c->next;
		budget_give(v, c->n);
		free(c);
	}
	v->wq_tail = &v->wq;
}

/*
 * A session waiting for its keys: when they have come, what was held is
 * read now, in its order; past the wait's bounds, or at the end, the
 * session is given up and what was held only counted.
 */
static void
wait_check(struct tls_view *v, struct tls_io *o, int last)
{
	struct wait_chunk *c;
	uint64_t waited = o->ts > v->wait_since ? o->ts - v->wait_since : 0;
	char	 late[64];
	size_t	 held = v->wait_bytes;

	tls_keyring_refresh(o->keys);
	if (tls_keyring_find(o->keys, v->client_random) == NULL) {
		if (!last && waited < WAIT_MAX_US && held < WAIT_MAX_BYTES)
			return;
		v->waiting = 0;
		drop_held(v);
		snprintf(late, sizeof(late), "(waited %.1f s, %zu bytes)",
		    (double)waited / 1e6, held);
		key_status(v, "no key for this client random", late);
		return;
	}
	v->waiting = 0;
	keys_setup(v, o);
	c = v->wq;
	v->wq = NULL;
	v->wq_tail = &v->wq;
	while (c != NULL) {
		struct wait_chunk *next = c->next;

		view_feed(v, o, c->dir, c->b, c->n);
		budget_give(v, c->n);
		free(c);
		c = next;
	}
	if (v->key_status != NULL && strcmp(v->key_status, "decrypted") == 0) {
		snprintf(late, sizeof(late),
		    "(its key came %.1f s late, %zu "
		    "bytes held)",
		    (double)waited / 1e6, held);
		key_status(v, "decrypted", late);
	}
}

static void
view_feed(struct tls_view *v, struct tls_io *o, enum md_dir dir,
    const uint8_t *p, size_t n)
{
	struct tls_dir *d = &v->d[dir];

	if (v->waiting)
		wait_check(v, o, 0);
	while (n > 0 && !d->dead) {
		if (v->waiting && d->rec_left == 0 && d->hdr_len == 0) {
			hold(v, dir, p, n); /* from a record's start */
			return;
		}
		if (d->rec_left == 0) {
			size_t k = 5 - d->hdr_len;

			if (k > n)
				k = n;
			memcpy(d->hdr + d->hdr_len, p, k);
			d->hdr_len += k;
			p += k;
			n -= k;
			if (d->hdr_len < 5)
				return;
			d->hdr_len = 0;
			if (!header_ok(d->hdr)) {
				dir_stop(v, o, dir, "not a TLS record");
				return;
			}
			d->rec_type = d->hdr[0];
			d->rec_left = (uint32_t)(d->hdr[3] << 8 | d->hdr[4]);
			memcpy(d->rec_hdr, d->hdr, 5);
			record_begins(v, d);
			d->gathering = to_open(v, d);
			continue;
		}
		size_t k = n < d->rec_left ? n : d->rec_left;

		if (d->gathering) {
			memcpy(d->rec + d->rec_len, p, k);
			d->rec_len += k;
		} else if (d->rec_type == REC_HANDSHAKE)
			handshake_bytes(v, o, dir, p, k, 0);
		else if (d->rec_type == REC_ALERT)
			alert_bytes(v, o, dir, p, k, 0);
		d->rec_left -= (uint32_t)k;
		p += k;
		n -= k;
		if (d->gathering && d->rec_left == 0) {
			d->gathering = 0;
			open_record(v, o, dir);
		}
	}
}

static void
view_gap(struct tls_view *v, enum md_dir dir)
{
	struct tls_dir *d = &v->d[dir];

	d->dead = 1; /* record boundaries are lost with the bytes */
	rec_free(v, d);
	hs_free(v, d);
}

static struct tls_view *
view_new(struct md_budget *budget)
{
	struct tls_view *v = calloc(1, sizeof(struct tls_view));

	if (v != NULL)
		v->budget = budget;
	return v;
}

/* The handshake completed: both Finished messages went by. */
static int
established(const struct tls_view *v)
{
	const struct tls_dir *c = &v->d[MD_C2S], *s = &v->d[MD_S2C];

	if (!v->server_hello)
		return 0;
	if (v->version == 0x0304) /* the client's Finished, then data */
		return c->appdata > 0 && s->appdata > 0;
	return c->ccs && s->ccs && c->after_ccs > 0 && s->after_ccs > 0;
}

static int
resumed(const struct tls_view *v)
{
	const struct tls_dir *s = &v->d[MD_S2C];

	if (v->version == 0x0304)
		return v->psk;
	/* the session id echoed, or a ticket taken: no certificate, no key
	 * exchange before the server's ChangeCipherSpec */
	return v->resumed_sid ||
	    (v->server_hello && s->ccs && !s->certs && !v->ske);
}

/* What a view holds, freed. */
static void
view_free(struct tls_view *v)
{
	drop_held(v);
	free(v->transcript);
	for (int i = 0; i < 2; i++) {
		hs_free(v, &v->d[i]);
		rec_free(v, &v->d[i]);
		OPENSSL_cleanse(&v->d[i].prot, sizeof(v->d[i].prot));
	}
	free(v);
}

static void
view_end(struct tls_view *v, struct tls_io *o)
{
	struct md_event ev = { .type = MD_EV_TLS_END, .dir = MD_C2S };

	if (v->waiting)
		wait_check(v, o, 1); /* one last look for its keys */
	ev.code = established(v);
	ev.num[0] = (uint64_t)resumed(v);
	ev.num[1] = v->group;
	ev.num[2] = v->d[MD_C2S].records;
	ev.num[3] = v->d[MD_S2C].records;
	if (v->key_status != NULL)
		ev.name = md_bytes_str(v->key_status);
	io_emit(o, &ev);
	view_free(v);
}

/* ------------------------------------------------------- the stream */

struct tls_stream {
	struct tls_view *v;
	struct tls_io	 io;
	int		 touched; /* a byte or a gap came: TLS_END is due */
};

struct tls_stream *
tls_stream_new(const struct tls_keyring *keys, struct md_budget *budget,
    const struct tls_stream_io *cb)
{
	struct tls_stream *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if ((t->v = view_new(budget)) == NULL) {
		free(t);
		return NULL;
	}
	t->io.keys = keys;
	t->io.cb = *cb;
	return t;
}

void
tls_stream_feed(struct tls_stream *t, enum md_dir dir, const uint8_t *p,
    size_t n, uint64_t ts)
{
	if (n == 0)
		return;
	t->touched = 1;
	t->io.ts = ts;
	view_feed(t->v, &t->io, dir, p, n);
}

void
tls_stream_gap(struct tls_stream *t, enum md_dir dir, uint64_t ts)
{
	t->touched = 1;
	t->io.ts = ts;
	view_gap(t->v, dir);
}

void
tls_stream_end(struct tls_stream *t, uint64_t ts)
{
	if (t == NULL)
		return;
	t->io.ts = ts;
	if (t->touched)
		view_end(t->v, &t->io);
	else
		view_free(t->v);
	free(t);
}
