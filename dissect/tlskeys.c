/* \summary: TLS secrets from key logs, and the record protection they give */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#include "tlskeys.h"
#include "util.h"

#define RING_BUCKETS 4096

struct ring_entry {
	struct ring_entry *next;
	uint8_t		   random[32];
	struct tls_secrets s;
};

struct tls_keyring {
	struct ring_entry *b[RING_BUCKETS];
	size_t		   n;
};

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

int
tls_keyring_add_line(struct tls_keyring *k, const char *line, size_t n)
{
	const char	   *sp1, *sp2;
	uint8_t		    random[32], secret[TLS_SECRET_MAX];
	long		    sl;
	size_t		    ll;
	unsigned	    have = 0;
	struct ring_entry **pp, *e;

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
	OPENSSL_cleanse(secret, sizeof(secret));
	return 1;
}

/* ---------------------------------------------------------- protection */

struct tls_suite
tls_suite_of(uint16_t c)
{
	struct tls_suite s = { TLS_AEAD_NONE, 0 };

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
		break;
	}
	return s;
}

static size_t
key_len(enum tls_aead a)
{
	return a == TLS_AEAD_AES128GCM ? 16 : 32;
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
	struct tls_suite s = { t->aead, t->sha384 };

	if (expand_label(t->sha384, t->secret, t->secret_len, "traffic upd",
		next, t->secret_len) != 0)
		return -1;
	return tls13_prot(t, &s, next, t->secret_len);
}

/* The TLS 1.2 PRF (RFC 5246 5) through libcrypto's TLS1-PRF. */
static int
prf(int sha384, const uint8_t *secret, size_t slen, const char *label,
    const uint8_t *seed, size_t seedlen, uint8_t *out, size_t olen)
{
	EVP_KDF	    *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	uint8_t	     full[128];
	size_t	     ll = strlen(label);
	OSSL_PARAM   p[4];
	int	     ok;
	char	     md256[] = "SHA256", md384[] = "SHA384";

	memcpy(full, label, ll);
	memcpy(full + ll, seed, seedlen);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    sha384 ? md384 : md256, 0);
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
    const struct tls_suite *suite, const uint8_t master[48],
    const uint8_t client_random[32], const uint8_t server_random[32])
{
	uint8_t seed[64], block[2 * 32 + 2 * 12];
	size_t	kl = key_len(suite->aead);
	size_t	ivl = suite->aead == TLS_AEAD_CHACHA20 ? 12 : 4;

	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	if (suite->aead == TLS_AEAD_NONE)
		return -1;
	memcpy(seed, server_random, 32);
	memcpy(seed + 32, client_random, 32);
	/* AEAD suites have no MAC keys: the client's key, the server's,
	 * the client's IV, the server's */
	if (prf(suite->sha384, master, 48, "key expansion", seed, 64, block,
		2 * kl + 2 * ivl) != 0)
		return -1;
	c->aead = s->aead = suite->aead;
	memcpy(c->key, block, kl);
	memcpy(s->key, block + kl, kl);
	memcpy(c->iv, block + 2 * kl, ivl);
	memcpy(s->iv, block + 2 * kl + ivl, ivl);
	c->explicit_nonce = s->explicit_nonce =
	    suite->aead != TLS_AEAD_CHACHA20;
	OPENSSL_cleanse(block, sizeof(block));
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
