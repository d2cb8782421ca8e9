/* \summary: certificates read and validated with libcrypto */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dissect/util.h"
#include "store/analyse/x509.h"

struct x509_trust {
	X509_STORE *store;
};

/* An X509_NAME as RFC 2253 writes it (most specific first). */
static void
name_str(const X509_NAME *nm, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int  n = 0;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, nm, 0,
		XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(b, out, (int)cap - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static double
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (double)timegm(&tm);
}

static void
put_list(char *out, size_t cap, const char *v, size_t n)
{
	size_t len = strlen(out);

	if (len > 0 && len + 1 < cap)
		out[len++] = ',';
	for (size_t i = 0; i < n && len + 1 < cap; i++)
		out[len++] = v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	out[len] = '\0';
}

static void
read_sans(X509 *x, struct x509_info *in)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING  *s;
		char		    ip[64];

		switch (g->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			s = g->d.ia5;
			if (g->type == GEN_DNS)
				put_list(in->san_dns, sizeof(in->san_dns),
				    (const char *)ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s));
			else if (g->type == GEN_EMAIL)
				put_list(in->san_email, sizeof(in->san_email),
				    (const char *)ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s));
			else
				put_list(in->san_uri, sizeof(in->san_uri),
				    (const char *)ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s));
			break;
		case GEN_IPADD: {
			const unsigned char *a = ASN1_STRING_get0_data(g->d.ip);
			int		     len = ASN1_STRING_length(g->d.ip);

			if (len == 4)
				snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0],
				    a[1], a[2], a[3]);
			else if (len == 16) {
				size_t o = 0;

				for (int k = 0; k < 16; k += 2)
					o += (size_t)snprintf(ip + o,
					    sizeof(ip) - o, "%s%x",
					    k ? ":" : "", a[k] << 8 | a[k + 1]);
			} else
				continue;
			put_list(in->san_ip, sizeof(in->san_ip), ip,
			    strlen(ip));
			break;
		}
		default:
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

static void
read_key(X509 *x, struct x509_info *in)
{
	EVP_PKEY    *k = X509_get0_pubkey(x);
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *alg = NULL;
	char	     gname[64];
	size_t	     glen = 0;
	BIGNUM	    *e = NULL;

	if (pk != NULL &&
	    X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, pk) == 1)
		OBJ_obj2txt(in->key_alg, sizeof(in->key_alg), alg, 0);
	if (k == NULL)
		return;
	in->key_bits = EVP_PKEY_get_bits(k);
	if (EVP_PKEY_is_a(k, "RSA")) {
		strcpy(in->key_type, "rsa");
		if (EVP_PKEY_get_bn_param(k, "e", &e) == 1) {
			char *d = BN_bn2dec(e);

			if (d != NULL)
				snprintf(in->exponent, sizeof(in->exponent),
				    "%s", d);
			OPENSSL_free(d);
			BN_free(e);
		}
	} else if (EVP_PKEY_is_a(k, "EC")) {
		strcpy(in->key_type, "ecdsa");
		if (EVP_PKEY_get_utf8_string_param(k, "group", gname,
			sizeof(gname), &glen) == 1)
			snprintf(in->curve, sizeof(in->curve), "%s", gname);
	} else if (EVP_PKEY_is_a(k, "DSA"))
		strcpy(in->key_type, "dsa");
	else if (EVP_PKEY_is_a(k, "ED25519"))
		strcpy(in->key_type, "ed25519");
	else if (EVP_PKEY_is_a(k, "ED448"))
		strcpy(in->key_type, "ed448");
	else
		snprintf(in->key_type, sizeof(in->key_type), "%s",
		    EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) :
						 "?");
}

int
x509_read(const uint8_t *der, size_t n, struct x509_info *in)
{
	const unsigned char *p = der;
	unsigned char	     md[32];
	X509		    *x;
	BIGNUM		    *bn;
	BASIC_CONSTRAINTS   *bc;

	memset(in, 0, sizeof(*in));
	in->is_ca = -1;
	in->path_len = -1;
	if (EVP_Digest(der, n, md, NULL, EVP_sha256(), NULL) == 1)
		md_hex_encode(md, 32, in->sha256);
	if (n > LONG_MAX || (x = d2i_X509(NULL, &p, (long)n)) == NULL)
		return -1;
	in->version = X509_get_version(x) + 1;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL) {
		char *h = BN_bn2hex(bn);

		if (h != NULL)
			snprintf(in->serial, sizeof(in->serial), "%s", h);
		OPENSSL_free(h);
		BN_free(bn);
	}
	name_str(X509_get_subject_name(x), in->subject, sizeof(in->subject));
	name_str(X509_get_issuer_name(x), in->issuer, sizeof(in->issuer));
	in->not_before = asn1_time(X509_get0_notBefore(x));
	in->not_after = asn1_time(X509_get0_notAfter(x));
	read_key(x, in);
	snprintf(in->sig_alg, sizeof(in->sig_alg), "%s",
	    OBJ_nid2ln(X509_get_signature_nid(x)) ?
		OBJ_nid2ln(X509_get_signature_nid(x)) :
		"?");
	read_sans(x, in);
	if ((bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL)) !=
	    NULL) {
		in->is_ca = bc->ca != 0;
		if (bc->pathlen != NULL)
			in->path_len = ASN1_INTEGER_get(bc->pathlen);
		BASIC_CONSTRAINTS_free(bc);
	}
	X509_free(x);
	return 0;
}

struct x509_trust *
x509_trust_new(void)
{
	struct x509_trust *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if ((t->store = X509_STORE_new()) == NULL ||
	    X509_STORE_set_default_paths(t->store) != 1) {
		X509_STORE_free(t->store);
		free(t);
		return NULL;
	}
	return t;
}

void
x509_trust_free(struct x509_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	free(t);
}

static const char *
verdict(int err)
{
	switch (err) {
	case X509_V_OK:
		return "ok";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "self-signed";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return "self-signed in chain";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "not yet valid";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "unknown issuer";
	default:
		return X509_verify_cert_error_string(err);
	}
}

const char *
x509_validate(struct x509_trust *t, const uint8_t *const *der,
    const size_t *len, size_t n, double when, const char *const *names,
    int *match, size_t nnames)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_STORE_CTX *ctx = NULL;
	X509	       *leaf = NULL;
	const char     *v = "unreadable certificate";

	for (size_t i = 0; i < nnames; i++)
		match[i] = -1;
	for (size_t i = 0; chain != NULL && i < n; i++) {
		const unsigned char *p = der[i];
		X509		    *x = len[i] <= LONG_MAX ?
				   d2i_X509(NULL, &p, (long)len[i]) :
				   NULL;

		if (x == NULL)
			goto out;
		if (i == 0)
			leaf = x;
		else if (!sk_X509_push(chain, x)) {
			X509_free(x);
			goto out;
		}
	}
	if (leaf == NULL)
		goto out;
	for (size_t i = 0; i < nnames; i++)
		if (names[i] != NULL && names[i][0] != '\0')
			match[i] =
			    X509_check_host(leaf, names[i], 0, 0, NULL) == 1;
	if (t == NULL) {
		v = "no CA store";
		goto out;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, t->store, leaf, chain) != 1)
		goto out;
	/* at the capture's own time, not today's */
	X509_STORE_CTX_set_time(ctx, 0, (time_t)when);
	v = verdict(X509_verify_cert(ctx) == 1 ? X509_V_OK :
						 X509_STORE_CTX_get_error(ctx));
out:
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return v;
}
