/*
 * tlskeys.h - TLS secrets from key logs (the NSS key log format that
 * SSLKEYLOGFILE, curl, Firefox, Python's keylog_filename and openssl
 * s_client -keylogfile write), found by a session's client random, and
 * the record protection they give (RFC 8446 5.2 and 7, RFC 5246 6.2.3.3
 * and 6.3, RFC 7905), with libcrypto's HKDF, TLS PRF and AEADs.
 *
 * The keyring is filled by the caller (the CLI reads the files) and then
 * only read, by every session's TLS view.
 */
#ifndef MAILSIFT_TLSKEYS_H
#define MAILSIFT_TLSKEYS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SECRET_MAX 64 /* SHA-384 */

/* What a key log gave for one client random. */
struct tls_secrets {
	uint8_t	 master[48]; /* CLIENT_RANDOM: TLS 1.2 and older */
	uint8_t	 chts[TLS_SECRET_MAX], shts[TLS_SECRET_MAX]; /* handshake */
	uint8_t	 cats[TLS_SECRET_MAX], sats[TLS_SECRET_MAX]; /* traffic 0 */
	size_t	 hs_len, ap_len; /* lengths of the TLS 1.3 secrets */
	unsigned have;		 /* TLS_HAVE_* */
};

#define TLS_HAVE_MASTER 1u
#define TLS_HAVE_CHTS	2u
#define TLS_HAVE_SHTS	4u
#define TLS_HAVE_CATS	8u
#define TLS_HAVE_SATS	16u

struct tls_keyring;
struct tls_keyring *tls_keyring_new(void);
void		    tls_keyring_free(struct tls_keyring *);
/*
 * One line of a key log (without its newline).  Returns 1 when it gave a
 * secret, 0 for a comment, a blank line or a label not used here, -1 for
 * a line that is not "LABEL <64 hex> <hex>".
 */
int tls_keyring_add_line(struct tls_keyring *, const char *line, size_t n);
/*
 * A key log that grows while the capture runs (live --keylog): a session
 * whose keys are not there yet waits for them, bounded (tls.c), asking
 * refresh (the caller's: it reads what was appended to the files) before
 * each look.
 */
void tls_keyring_follow(struct tls_keyring *, void (*refresh)(void *),
    void *arg);
int  tls_keyring_following(const struct tls_keyring *);
void tls_keyring_refresh(const struct tls_keyring *);
/*
 * A server's RSA private key (--tls-key), for sessions of TLS 1.2 and
 * older that used RSA key exchange: the keyring takes it (an EVP_PKEY *,
 * freed with the keyring).  Returns 0, or -1 when it is not an RSA key.
 */
int tls_keyring_add_rsa(struct tls_keyring *, void *evp_pkey);
int tls_keyring_has_rsa(const struct tls_keyring *);
/* The premaster secret of an RSA ClientKeyExchange, by the first key
 * that opens it into 48 bytes starting with the client's version;
 * 0 or -1. */
int tls_keyring_rsa_premaster(const struct tls_keyring *, const uint8_t *enc,
    size_t n, uint16_t client_version, uint8_t premaster[48]);

/* Client randoms with at least one secret. */
size_t tls_keyring_count(const struct tls_keyring *);
/* The secrets for a client random, or NULL. */
const struct tls_secrets *tls_keyring_find(const struct tls_keyring *,
    const uint8_t random[32]);

/* ---------------------------------------------------------- protection */

/* How a suite protects records: an AEAD, or CBC with an HMAC. */
enum tls_aead {
	TLS_AEAD_NONE,
	TLS_AEAD_AES128GCM,
	TLS_AEAD_AES256GCM,
	TLS_AEAD_CHACHA20,
	TLS_CBC_AES128,
	TLS_CBC_AES256,
	TLS_CBC_3DES
};

/* aead NONE: not a suite we decrypt. */
struct tls_suite {
	enum tls_aead aead;
	int	      sha384;  /* the hash of its PRF or HKDF */
	size_t	      mac_len; /* CBC: its HMAC's (SHA-1 20, SHA-256 32,
				* SHA-384 48) */
};

struct tls_suite tls_suite_of(uint16_t cipher);

/* One direction's record protection. */
struct tls_prot {
	enum tls_aead aead;
	uint8_t	      key[32];
	uint8_t	      iv[12];	 /* TLS 1.3 and ChaCha20: the whole nonce
				  * base; TLS 1.2 GCM: the 4-byte salt */
	int	 explicit_nonce; /* TLS 1.2 GCM: 8 bytes lead each record */
	int	 tls13;
	uint64_t seq;
	uint8_t	 secret[TLS_SECRET_MAX]; /* TLS 1.3: for KeyUpdate */
	size_t	 secret_len;
	int	 sha384;
	/* CBC (RFC 5246 6.2.3.2, RFC 7366) */
	uint8_t	 mac_key[48];
	size_t	 mac_len;
	uint16_t version;   /* TLS 1.0 chains its IVs across records */
	int	 etm;	    /* encrypt-then-MAC was negotiated */
	uint8_t	 chain[16]; /* TLS 1.0: the last ciphertext block */
};

/*
 * The master secret from a premaster secret (RFC 5246 8.1), or with the
 * extended master secret (RFC 7627) from the session hash of the
 * handshake so far: ems_transcript (its messages, hashed here as the
 * suite and version say) or NULL for the classic derivation.
 */
int tls12_master(const struct tls_suite *, uint16_t version,
    const uint8_t premaster[48], const uint8_t client_random[32],
    const uint8_t server_random[32], const uint8_t *ems_transcript,
    size_t ems_len, uint8_t master[48]);
/* TLS 1.3 keys from a traffic secret (RFC 8446 7.3); 0 or -1. */
int tls13_prot(struct tls_prot *, const struct tls_suite *,
    const uint8_t *secret, size_t len);
/* The next generation after a KeyUpdate (RFC 8446 7.2). */
int tls13_key_update(struct tls_prot *);
/* TLS 1.0 to 1.2 keys of both directions from the master secret (RFC
 * 5246 6.3; RFC 2246 and 4346 for the PRF and IVs of 1.0 and 1.1):
 * client's writes to c, server's to s; etm: RFC 7366 was negotiated. */
int tls12_prot(struct tls_prot *c, struct tls_prot *s, const struct tls_suite *,
    uint16_t version, int etm, const uint8_t master[48],
    const uint8_t client_random[32], const uint8_t server_random[32]);
/*
 * Opens one record (its 5-byte header and body) in place: 0 with the
 * plaintext at *out, *outlen (TLS 1.3: still with its content type and
 * padding at the end), -1 when it does not authenticate.
 */
int tls_open_record(struct tls_prot *, const uint8_t hdr[5], uint8_t *body,
    size_t len, uint8_t **out, size_t *outlen);

#endif
