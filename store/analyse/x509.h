/*
 * x509.h - certificates as the log keeps them, read by libcrypto's X.509
 * code (never by hand), and validated against the system's CA store at
 * the capture's own time.  No database here: any backend uses it.
 */
#ifndef MAILSIFT_X509_H
#define MAILSIFT_X509_H

#include <stddef.h>
#include <stdint.h>

struct x509_info {
	char   sha256[65];    /* of the DER bytes, hex */
	long   version;	      /* 1 to 3 */
	char   serial[130];   /* hex, upper case, as Zeek writes it */
	char   subject[1024]; /* RFC 2253: CN=...,O=...,C=.. */
	char   issuer[1024];
	double not_before, not_after; /* Unix time; 0: unreadable */
	char   key_alg[64];	      /* rsaEncryption, id-ecPublicKey, ... */
	char   key_type[16];	      /* rsa, ecdsa, dsa, ed25519, ... */
	int    key_bits;
	char   exponent[32]; /* RSA */
	char   curve[64];    /* EC: prime256v1, ... */
	char   sig_alg[64];  /* sha256WithRSAEncryption, ... */
	char   san_dns[2048], san_ip[512], san_email[512], san_uri[512];
	int    is_ca;	 /* basic constraints; -1: no extension */
	long   path_len; /* -1: none */
};

/* Reads one certificate; 0, or -1 when the bytes are not one. */
int x509_read(const uint8_t *der, size_t n, struct x509_info *);

/* The CA store, loaded once (the system's default paths). */
struct x509_trust;
struct x509_trust *x509_trust_new(void);
void		   x509_trust_free(struct x509_trust *);

/*
 * Validates a chain (DER, the leaf first) at time t (Unix seconds):
 * "ok", "self-signed", "self-signed in chain", "expired", "not yet
 * valid", "unknown issuer", or libcrypto's words for anything else.
 * For each of the names (NULL or "" to skip) *match[i] says whether the
 * leaf is valid for it as a host name (1), not (0), or -1 (skipped).
 */
const char *x509_validate(struct x509_trust *, const uint8_t *const *der,
    const size_t *len, size_t n, double t, const char *const *names, int *match,
    size_t nnames);

#endif
