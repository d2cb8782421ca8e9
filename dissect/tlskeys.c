/* \summary: TLS secrets from key logs, and the record protection they give */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/tls.h"
#include "dissect/tlskeys.h"
#include "dissect/util.h"

#define RING_BUCKETS 4096

struct ring_entry {
	struct ring_entry *next;
	uint8_t		   random[32];
	struct tls_secrets s;
};

struct tls_keyring {
	struct ring_entry *b[RING_BUCKETS];
	size_t		   n;
	void (*refresh)(void *); /* following a growing key log */
	void	 *refresh_arg;
	EVP_PKEY *rsa[8]; /* --tls-key */
	size_t	  nrsa;
};

int
tls_keyring_add_rsa(struct tls_keyring *k, void *evp_pkey)
{
	EVP_PKEY *key = evp_pkey;

	if (k->nrsa == sizeof(k->rsa) / sizeof(k->rsa[0]) ||
	    !EVP_PKEY_is_a(key, "RSA"))
		return -1;
	k->rsa[k->nrsa++] = key;
	return 0;
}

int
tls_keyring_has_rsa(const struct tls_keyring *k)
{
	return k != NULL && k->nrsa > 0;
}

int
tls_keyring_rsa_premaster(const struct tls_keyring *k, const uint8_t *enc,
    size_t n, uint16_t client_version, uint8_t premaster[48])
{
	for (size_t i = 0; k != NULL && i < k->nrsa; i++) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->rsa[i], NULL);
		uint8_t	      out[512];
		size_t	      outlen = sizeof(out);
		int	      ok;

		ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_decrypt(ctx, out, &outlen, enc, n) == 1 &&
		    outlen == 48 && out[0] == client_version >> 8 &&
		    out[1] == (client_version & 0xff);
		EVP_PKEY_CTX_free(ctx);
		if (ok) {
			memcpy(premaster, out, 48);
			OPENSSL_cleanse(out, sizeof(out));
			return 0;
		}
	}
	return -1;
}

void
tls_keyring_follow(struct tls_keyring *k, void (*refresh)(void *), void *arg)
{
	k->refresh = refresh;
	k->refresh_arg = arg;
}

int
tls_keyring_following(const struct tls_keyring *k)
{
	return k != NULL && k->refresh != NULL;
}

void
tls_keyring_refresh(const struct tls_keyring *k)
{
	if (tls_keyring_following(k))
		k->refresh(k->refresh_arg);
}

struct tls_keyring *
tls_keyring_new(void)
{
	return calloc(1, sizeof(struct tls_keyring));
}

void
tls_keyring_free(struct tls_keyring *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < RING_BUCKETS; i++)
		while (k->b[i] != NULL) {
			struct ring_entry *e = k->b[i];

			k->b[i] = e->next;
			OPENSSL_cleanse(&e->s, sizeof(e->s));
			free(e);
		}
	for (size_t i = 0; i < k->nrsa; i++)
		EVP_PKEY_free(k->rsa[i]);
	free(k);
}

static size_t
bucket_of(const uint8_t random[32])
{
	/* the client random is random: its first bytes hash it well */
	return ((size_t)random[0] << 8 | random[1]) % RING_BUCKETS;
}

static struct ring_entry **
slot(struct tls_keyring *k, const uint8_t random[32])
{
	struct ring_entry **pp = &k->b[bucket_of(random)];

	while (*pp != NULL && memcmp((*pp)->random, random, 32) != 0)
		pp = &(*pp)->next;
	return pp;
}

const struct tls_secrets *
tls_keyring_find(const struct tls_keyring *k, const uint8_t random[32])
{
	const struct ring_entry *e;

	if (k == NULL)
		return NULL;
	e = k->b[bucket_of(random)];
	while (e != NULL && memcmp(e->random, random, 32) != 0)
		e = e->next;
	return e != NULL ? &e->s : NULL;
}

size_t
tls_keyring_count(const struct tls_keyring *k)
{
	return k != NULL ? k->n : 0;
}

/* Hex of even length into out (cap); its length, or -1. */
static long
unhex(const char *p, size_t n, uint8_t *out, size_t cap)
{
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = md_hex_value((uint8_t)p[i]);
		int lo = md_hex_value((uint8_t)p[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static const struct {
	const char *label;
	unsigned    have;
} labels[] = {
	{ "CLIENT_RANDOM", TLS_HAVE_MASTER },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_HAVE_CHTS },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_HAVE_SHTS },
	{ "CLIENT_TRAFFIC_SECRET_0", TLS_HAVE_CATS },
	{ "SERVER_TRAFFIC_SECRET_0", TLS_HAVE_SATS },
};

static void
keep_secret(struct tls_secrets *s, unsigned have, const uint8_t *v, size_t n)
{
	switch (have) {
	case TLS_HAVE_MASTER:
		memcpy(s->master, v, 48);
		break;
	case TLS_HAVE_CHTS:
		memcpy(s->chts, v, n);
		s->hs_len = n;
		break;
	case TLS_HAVE_SHTS:
		memcpy(s->shts, v, n);
		s->hs_len = n;
		break;
	case TLS_HAVE_CATS:
		memcpy(s->cats, v, n);
		s->ap_len = n;
		break;
	case TLS_HAVE_SATS:
		memcpy(s->sats, v, n);
		s->ap_len = n;
		break;
	}
	s->have |= have;
}

/* A key log line's secret (sl bytes, -1: not hex) into the ring: 1
 * kept, 0 a label not needed, -1 malformed or out of memory. */
static int
keep_line(struct tls_keyring *k, unsigned have, const uint8_t random[32],
    const uint8_t *secret, long sl)
{
	struct ring_entry **pp, *e;

	if (sl < 0 || (have == TLS_HAVE_MASTER && sl != 48) ||
	    (have != TLS_HAVE_MASTER && have != 0 && sl != 32 && sl != 48))
		return -1;
	if (have == 0) /* EXPORTER_SECRET, EARLY_TRAFFIC_SECRET, ... */
		return 0;
	pp = slot(k, random);
	if ((e = *pp) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return -1;
		memcpy(e->random, random, 32);
		*pp = e;
		k->n++;
	}
	keep_secret(&e->s, have, secret, (size_t)sl);
	return 1;
}

int
tls_keyring_add_line(struct tls_keyring *k, const char *line, size_t n)
{
	const char *sp1, *sp2;
	uint8_t	    random[32], secret[TLS_SECRET_MAX];
	long	    sl;
	size_t	    ll;
	unsigned    have = 0;
	int	    r;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	if (n == 0 || line[0] == '#')
		return 0;
	if ((sp1 = memchr(line, ' ', n)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line))) == NULL)
		return -1;
	ll = (size_t)(sp1 - line);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strlen(labels[i].label) == ll &&
		    memcmp(line, labels[i].label, ll) == 0)
			have = labels[i].have;
	if (unhex(sp1 + 1, (size_t)(sp2 - sp1 - 1), random, 32) != 32)
		return -1;
	sl = unhex(sp2 + 1, n - (size_t)(sp2 + 1 - line), secret,
	    sizeof(secret));
	r = keep_line(k, have, random, secret, sl);
	OPENSSL_cleanse(secret, sizeof(secret)); /* whatever became of it */
	return r;
}

/* ---------------------------------------------------------- protection */

static int
ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), e = strlen(end);

	return n >= e && strcmp(s + n - e, end) == 0;
}

/*
 * The CBC suites, by their IANA names: AES-128, AES-256 or 3DES-EDE in
 * CBC mode with HMAC-SHA1, -SHA256 or -SHA384, whatever the key
 * exchange.  Others (Camellia, ARIA, SEED, IDEA, export DES) are not
 * decrypted.
 */
static struct tls_suite
cbc_suite_of(uint16_t c)
{
	struct tls_suite s = { TLS_AEAD_NONE, 0, 0 };
	const char	*n = tls_cipher_name(c);

	if (n == NULL || strstr(n, "_WITH_") == NULL ||
	    strstr(n, "_CBC_") == NULL || strstr(n, "EXPORT") != NULL)
		return s;
	if (strstr(n, "_WITH_AES_128_CBC_") != NULL)
		s.aead = TLS_CBC_AES128;
	else if (strstr(n, "_WITH_AES_256_CBC_") != NULL)
		s.aead = TLS_CBC_AES256;
	else if (strstr(n, "_WITH_3DES_EDE_CBC_") != NULL)
		s.aead = TLS_CBC_3DES;
	else
		return s;
	if (ends_with(n, "_SHA"))
		s.mac_len = 20;
	else if (ends_with(n, "_SHA256"))
		s.mac_len = 32;
	else if (ends_with(n, "_SHA384")) {
		s.mac_len = 48;
		s.sha384 = 1;
	} else
		s.aead = TLS_AEAD_NONE;
	return s;
}

struct tls_suite
tls_suite_of(uint16_t c)
{
	struct tls_suite s = { TLS_AEAD_NONE, 0, 0 };

	switch (c) {
	case 0x1301: /* TLS 1.3 */
	case 0xc02b: /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
	case 0xc02f: /* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	case 0x009c: /* RSA_WITH_AES_128_GCM_SHA256 */
	case 0x009e: /* DHE_RSA_WITH_AES_128_GCM_SHA256 */
		s.aead = TLS_AEAD_AES128GCM;
		break;
	case 0x1302:
	case 0xc02c: /* ..._AES_256_GCM_SHA384 */
	case 0xc030:
	case 0x009d:
	case 0x009f:
		s.aead = TLS_AEAD_AES256GCM;
		s.sha384 = 1;
		break;
	case 0x1303:
	case 0xcca8: /* ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
	case 0xcca9: /* ECDHE_ECDSA_... */
	case 0xccaa: /* DHE_RSA_... */
		s.aead = TLS_AEAD_CHACHA20;
		break;
	default:
		return cbc_suite_of(c);
	}
	return s;
}

static size_t
key_len(enum tls_aead a)
{
	switch (a) {
	case TLS_AEAD_AES128GCM:
	case TLS_CBC_AES128:
		return 16;
	case TLS_CBC_3DES:
		return 24;
	default:
		return 32;
	}
}

static int
is_cbc(enum tls_aead a)
{
	return a == TLS_CBC_AES128 || a == TLS_CBC_AES256 || a == TLS_CBC_3DES;
}

static size_t
block_of(enum tls_aead a)
{
	return a == TLS_CBC_3DES ? 8 : 16;
}

static const EVP_CIPHER *
cipher_of(enum tls_aead a)
{
	switch (a) {
	case TLS_AEAD_AES128GCM:
		return EVP_aes_128_gcm();
	case TLS_AEAD_AES256GCM:
		return EVP_aes_256_gcm();
	case TLS_AEAD_CHACHA20:
		return EVP_chacha20_poly1305();
	case TLS_CBC_AES128:
		return EVP_aes_128_cbc();
	case TLS_CBC_AES256:
		return EVP_aes_256_cbc();
	case TLS_CBC_3DES:
		return EVP_des_ede3_cbc();
	default:
		return NULL;
	}
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int
expand_label(int sha384, const uint8_t *secret, size_t slen, const char *label,
    uint8_t *out, size_t olen)
{
	uint8_t	     info[2 + 1 + 255 + 1];
	size_t	     ll = 6 + strlen(label), n = 0;
	EVP_KDF	    *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM   p[5];
	int	     mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
	char	     md256[] = "SHA256", md384[] = "SHA384"; /* OSSL_PARAM
							      * wants char * */

	info[n++] = (uint8_t)(olen >> 8);
	info[n++] = (uint8_t)olen;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, strlen(label));
	n += ll;
	info[n++] = 0; /* context */
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    sha384 ? md384 : md256, 0);
	p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)secret, slen);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	p[4] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_KDF_derive(ctx, out, olen, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

int
tls13_prot(struct tls_prot *t, const struct tls_suite *s, const uint8_t *secret,
    size_t len)
{
	memset(t, 0, sizeof(*t));
	if (s->aead == TLS_AEAD_NONE || len > TLS_SECRET_MAX)
		return -1;
	t->aead = s->aead;
	t->tls13 = 1;
	t->sha384 = s->sha384;
	memcpy(t->secret, secret, len);
	t->secret_len = len;
	if (expand_label(s->sha384, secret, len, "key", t->key,
		key_len(s->aead)) != 0 ||
	    expand_label(s->sha384, secret, len, "iv", t->iv, 12) != 0)
		return -1;
	return 0;
}

int
tls13_key_update(struct tls_prot *t)
{
	uint8_t		 next[TLS_SECRET_MAX];
	struct tls_suite s = { t->aead, t->sha384, 0 };

	if (expand_label(t->sha384, t->secret, t->secret_len, "traffic upd",
		next, t->secret_len) != 0)
		return -1;
	return tls13_prot(t, &s, next, t->secret_len);
}

enum prf_hash { PRF_SHA256, PRF_SHA384, PRF_MD5_SHA1 };

/* The PRF of TLS 1.2 (RFC 5246 5), or of 1.0 and 1.1 (MD5 and SHA-1,
 * RFC 2246 5), through libcrypto's TLS1-PRF. */
static int
prf(enum prf_hash hash, const uint8_t *secret, size_t slen, const char *label,
    const uint8_t *seed, size_t seedlen, uint8_t *out, size_t olen)
{
	EVP_KDF	    *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	uint8_t	     full[128];
	size_t	     ll = strlen(label);
	OSSL_PARAM   p[4];
	int	     ok;
	char md256[] = "SHA256", md384[] = "SHA384", md5sha1[] = "MD5-SHA1";

	memcpy(full, label, ll);
	memcpy(full + ll, seed, seedlen);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    hash == PRF_SHA384	   ? md384 :
		hash == PRF_SHA256 ? md256 :
				     md5sha1,
	    0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
	    (void *)(uintptr_t)secret, slen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full,
	    ll + seedlen);
	p[3] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_KDF_derive(ctx, out, olen, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

int
tls12_prot(struct tls_prot *c, struct tls_prot *s,
    const struct tls_suite *suite, uint16_t version, int etm,
    const uint8_t master[48], const uint8_t client_random[32],
    const uint8_t server_random[32])
{
	uint8_t	       seed[64], block[2 * 48 + 2 * 32 + 2 * 16];
	size_t	       kl = key_len(suite->aead), ml = suite->mac_len, ivl;
	enum prf_hash  h = PRF_SHA256;
	const uint8_t *b = block;

	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	if (suite->aead == TLS_AEAD_NONE || version < 0x0301)
		return -1;
	if (version < 0x0303)
		h = PRF_MD5_SHA1;
	else if (suite->sha384)
		h = PRF_SHA384;
	/* the IVs in the key block: GCM's salt, ChaCha20's nonce base,
	 * and CBC's first IV in TLS 1.0 (later versions send it) */
	if (is_cbc(suite->aead))
		ivl = version == 0x0301 ? block_of(suite->aead) : 0;
	else
		ivl = suite->aead == TLS_AEAD_CHACHA20 ? 12 : 4;
	memcpy(seed, server_random, 32);
	memcpy(seed + 32, client_random, 32);
	if (prf(h, master, 48, "key expansion", seed, 64, block,
		2 * ml + 2 * kl + 2 * ivl) != 0)
		return -1;
	/* client MAC key, server MAC key, client key, server key, client
	 * IV, server IV (RFC 5246 6.3) */
	memcpy(c->mac_key, b, ml);
	memcpy(s->mac_key, b + ml, ml);
	b += 2 * ml;
	memcpy(c->key, b, kl);
	memcpy(s->key, b + kl, kl);
	b += 2 * kl;
	memcpy(is_cbc(suite->aead) ? c->chain : c->iv, b, ivl);
	memcpy(is_cbc(suite->aead) ? s->chain : s->iv, b + ivl, ivl);
	c->aead = s->aead = suite->aead;
	c->mac_len = s->mac_len = ml;
	c->sha384 = s->sha384 = suite->sha384;
	c->version = s->version = version;
	c->etm = s->etm = etm;
	c->explicit_nonce = s->explicit_nonce =
	    suite->aead == TLS_AEAD_AES128GCM ||
	    suite->aead == TLS_AEAD_AES256GCM;
	OPENSSL_cleanse(block, sizeof(block));
	return 0;
}

/* HMAC over seq, type, version, length and data (RFC 5246 6.2.3.1). */
static int
record_mac(const struct tls_prot *t, const uint8_t hdr[5], const uint8_t *p,
    size_t n, uint8_t *mac)
{
	uint8_t	     pre[13];
	const char  *md = t->mac_len == 20 ? "SHA1" :
	     t->mac_len == 32		   ? "SHA256" :
					     "SHA384";
	EVP_MAC	    *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM   p2[2];
	char	     mdname[8];
	size_t	     outl = 0;
	int	     ok;

	for (int i = 0; i < 8; i++)
		pre[i] = (uint8_t)(t->seq >> (56 - 8 * i));
	pre[8] = hdr[0];
	pre[9] = hdr[1];
	pre[10] = hdr[2];
	pre[11] = (uint8_t)(n >> 8);
	pre[12] = (uint8_t)n;
	snprintf(mdname, sizeof(mdname), "%s", md);
	p2[0] =
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, mdname, 0);
	p2[1] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_MAC_init(ctx, t->mac_key, t->mac_len, p2) &&
	    EVP_MAC_update(ctx, pre, sizeof(pre)) &&
	    EVP_MAC_update(ctx, p, n) && EVP_MAC_final(ctx, mac, &outl, 48) &&
	    outl == t->mac_len;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return ok ? 0 : -1;
}

/* Decrypts CBC in place without padding removal; 0 or -1. */
static int
cbc_decrypt(const struct tls_prot *t, const uint8_t *iv, uint8_t *p, size_t n)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int		m = 0, f = 0, ok;

	ok = ctx != NULL &&
	    EVP_DecryptInit_ex(ctx, cipher_of(t->aead), NULL, t->key, iv) ==
		1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_DecryptUpdate(ctx, p, &m, p, (int)n) == 1 &&
	    EVP_DecryptFinal_ex(ctx, p + m, &f) == 1 && (size_t)(m + f) == n;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * A CBC record (RFC 5246 6.2.3.2): the IV (TLS 1.1 and later), the
 * ciphertext of data, MAC and padding; with encrypt-then-MAC (RFC 7366)
 * the MAC follows the ciphertext and covers it instead.
 */
static int
open_cbc(struct tls_prot *t, const uint8_t hdr[5], uint8_t *body, size_t len,
    uint8_t **out, size_t *outlen)
{
	size_t	bs = block_of(t->aead), ivl = t->version >= 0x0302 ? bs : 0;
	uint8_t iv[16], mac[48], next[16], *ct = body + ivl;
	size_t	n, pad;

	if (len < ivl + t->mac_len + bs)
		return -1;
	n = len - ivl - (t->etm ? t->mac_len : 0);
	if (n % bs != 0)
		return -1;
	if (t->etm &&
	    (record_mac(t, hdr, body, len - t->mac_len, mac) != 0 ||
		CRYPTO_memcmp(mac, body + len - t->mac_len, t->mac_len) != 0))
		return -1;
	memcpy(iv, ivl ? body : t->chain, bs);
	memcpy(next, ct + n - bs, bs); /* TLS 1.0 chains from it */
	if (cbc_decrypt(t, iv, ct, n) != 0)
		return -1;
	pad = ct[n - 1];
	if (pad + 1 > n || (!t->etm && pad + 1 + t->mac_len > n))
		return -1;
	for (size_t i = 0; i <= pad; i++)
		if (ct[n - 1 - i] != pad)
			return -1;
	n -= pad + 1;
	if (!t->etm) {
		n -= t->mac_len;
		if (record_mac(t, hdr, ct, n, mac) != 0 ||
		    CRYPTO_memcmp(mac, ct + n, t->mac_len) != 0)
			return -1;
	}
	memcpy(t->chain, next, bs);
	t->seq++;
	*out = ct;
	*outlen = n;
	return 0;
}

int
tls_open_record(struct tls_prot *t, const uint8_t hdr[5], uint8_t *body,
    size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t		nonce[12], aad[13];
	size_t		aadlen, skip = t->explicit_nonce ? 8 : 0, n;
	EVP_CIPHER_CTX *ctx;
	int		ok, m = 0, f = 0;

	if (is_cbc(t->aead))
		return open_cbc(t, hdr, body, len, out, outlen);
	if (len < skip + 16 || t->aead == TLS_AEAD_NONE)
		return -1;
	n = len - skip - 16;
	if (t->explicit_nonce) { /* TLS 1.2 GCM: salt and explicit part */
		memcpy(nonce, t->iv, 4);
		memcpy(nonce + 4, body, 8);
	} else { /* TLS 1.3, ChaCha20: the IV xor the sequence number */
		memcpy(nonce, t->iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[11 - i] ^= (uint8_t)(t->seq >> (8 * i));
	}
	if (t->tls13) { /* RFC 8446 5.2: the record header */
		memcpy(aad, hdr, 5);
		aadlen = 5;
	} else { /* RFC 5246 6.2.3.3: seq, type, version, length */
		for (int i = 0; i < 8; i++)
			aad[i] = (uint8_t)(t->seq >> (56 - 8 * i));
		aad[8] = hdr[0];
		aad[9] = hdr[1];
		aad[10] = hdr[2];
		aad[11] = (uint8_t)(n >> 8);
		aad[12] = (uint8_t)n;
		aadlen = 13;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(ctx, cipher_of(t->aead), NULL, NULL, NULL) ==
		1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_DecryptInit_ex(ctx, NULL, NULL, t->key, nonce) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &m, aad, (int)aadlen) == 1 &&
	    EVP_DecryptUpdate(ctx, body + skip, &m, body + skip, (int)n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
		body + skip + n) == 1 &&
	    EVP_DecryptFinal_ex(ctx, body + skip + m, &f) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -1;
	t->seq++;
	*out = body + skip;
	*outlen = (size_t)m + (size_t)f;
	return 0;
}

int
tls12_master(const struct tls_suite *suite, uint16_t version,
    const uint8_t premaster[48], const uint8_t client_random[32],
    const uint8_t server_random[32], const uint8_t *ems, size_t ems_len,
    uint8_t master[48])
{
	uint8_t	      seed[64];
	unsigned int  hl = 0, hl2 = 0;
	enum prf_hash h = PRF_SHA256;

	if (version < 0x0303)
		h = PRF_MD5_SHA1;
	else if (suite->sha384)
		h = PRF_SHA384;
	if (ems == NULL) {
		memcpy(seed, client_random, 32);
		memcpy(seed + 32, server_random, 32);
		return prf(h, premaster, 48, "master secret", seed, 64, master,
		    48);
	}
	/* RFC 7627 3: the session hash, with the PRF's own hash (MD5 and
	 * SHA-1 side by side before TLS 1.2) */
	if (h == PRF_MD5_SHA1) {
		if (EVP_Digest(ems, ems_len, seed, &hl, EVP_md5(), NULL) != 1 ||
		    EVP_Digest(ems, ems_len, seed + hl, &hl2, EVP_sha1(),
			NULL) != 1)
			return -1;
		hl += hl2;
	} else if (EVP_Digest(ems, ems_len, seed, &hl,
		       h == PRF_SHA384 ? EVP_sha384() : EVP_sha256(),
		       NULL) != 1)
		return -1;
	return prf(h, premaster, 48, "extended master secret", seed, hl, master,
	    48);
}
