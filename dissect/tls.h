/*
 * tls.h - what is seen of TLS without its keys: the records of both
 * directions, the handshake in clear (hellos, certificates of TLS 1.2 and
 * older, the key exchange group), alerts in clear, whether the handshake
 * completed and resumed a session; JA3, JA3S and JA4 fingerprints.
 *
 * A session's TLS bytes (from STARTTLS on, or from the first byte on the
 * implicit-TLS ports) are fed here through common.c's out_tls(); the view
 * reports what it reads as TLS_* events (dissect.h).  Its memory is a
 * few hundred bytes per session plus one handshake message being put
 * together from records, capped at TLS_HANDSHAKE_MAX.
 */
#ifndef MAILSIFT_TLS_H
#define MAILSIFT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"

#define TLS_HANDSHAKE_MAX (64u * 1024) /* one handshake message */

struct tls_keyring;

/*
 * A TLS stream: what a session's bytes say once TLS began (after
 * STARTTLS, or from the first byte on an implicit-TLS port), as Zeek's
 * SMTP analyzer hands its bytes to a child SSL analyzer.  Its events
 * (TLS_HELLO, TLS_CERT, TLS_ALERT, TLS_END, TLS anomalies) go to emit as
 * the session's; with the session's secrets, the application bytes it
 * decrypts go to plain, the dissector's clear-text entry.
 */
struct tls_stream;

struct tls_stream_io {
	int (*emit)(void *arg, struct md_event *);
	void *emit_arg;
	void (*plain)(void *arg, enum md_dir, const uint8_t *p, size_t n);
	void *plain_arg; /* plain: NULL when nothing is to be decrypted */
};

/* A stream; keys: the run's secrets (tlskeys.h) or NULL; its buffers
 * count against budget (shared by all sessions; NULL: not counted). */
struct tls_stream *tls_stream_new(const struct tls_keyring *keys,
    struct md_budget *budget, const struct tls_stream_io *);
/* TLS bytes of one direction, in order, in any split, at time ts. */
void tls_stream_feed(struct tls_stream *, enum md_dir, const uint8_t *p,
    size_t n, uint64_t ts);
/* Bytes of one direction were lost: its records are no longer followed. */
void tls_stream_gap(struct tls_stream *, enum md_dir, uint64_t ts);
/* Emits TLS_END (when a byte or a gap came) and frees the stream. */
void tls_stream_end(struct tls_stream *, uint64_t ts);

/* Names of code points (tlsnames.c, tls.c); NULL when not known. */
struct tls_name {
	uint16_t    code;
	const char *name;
};
const char *tls_name_of(const struct tls_name *, size_t n, uint16_t code);
const char *tls_cipher_name(uint16_t);	/* "TLS_AES_128_GCM_SHA256" */
const char *tls_group_name(uint16_t);	/* "x25519", "secp256r1" */
const char *tls_version_name(uint16_t); /* "TLSv12", as Zeek writes */
const char *tls_alert_name(uint8_t);	/* "handshake_failure" */
/* Why a suite is weak (RC4, DES and 3DES, export, NULL, anonymous), or
 * NULL. */
const char *tls_weak_reason(uint16_t cipher);
/* GREASE values (RFC 8701), which fingerprints leave out. */
int tls_is_grease(uint16_t);

/* The lists of a hello as code points, GREASE values included, for the
 * fingerprints; each list keeps its first TLS_LIST_MAX entries. */
#define TLS_LIST_MAX 256

struct tls_lists {
	uint16_t legacy_version;
	uint16_t ciphers[TLS_LIST_MAX], exts[TLS_LIST_MAX];
	uint16_t sig_algs[TLS_LIST_MAX], groups[TLS_LIST_MAX];
	uint16_t versions[TLS_LIST_MAX];
	uint8_t	 formats[TLS_LIST_MAX]; /* ec_point_formats */
	size_t	 nciphers, nexts, nsig_algs, ngroups, nversions, nformats;
	int	 has_sni, has_alpn;
	uint8_t	 alpn0[255]; /* the first ALPN protocol */
	size_t	 alpn0_len;
};

/* JA3 of a ClientHello (Salesforce's definition) into out, and its MD5
 * into hash[33]; JA3S of a ServerHello (one cipher in ciphers[0]). */
void tls_ja3(const struct tls_lists *, int server, char *out, size_t cap,
    char *hash);
/* JA4 of a ClientHello over TCP (FoxIO's specification) into out[40]. */
void tls_ja4(const struct tls_lists *, char *out);

#endif
