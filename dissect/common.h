/*
 * common.h - plumbing shared by the protocol dissectors: emitting events
 * with the flow and time filled in, anomalies, and a bounded queue of
 * commands awaiting their replies.
 */
#ifndef MAILSIFT_COMMON_H
#define MAILSIFT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"
#include "dissect/line.h"

/*
 * What every dissector keeps of its session besides its protocol state:
 * where its events go, the byte counts, the TLS mode, and what it has
 * already complained of.
 */
struct md_out {
	struct md_sink	      sink;
	const struct md_flow *flow;
	uint64_t	      ts;
	enum md_tls	      tls;
	uint64_t	      bytes[2], tls_bytes[2];
	uint8_t		      bare_lf_seen[2], nul_seen[2];
	uint8_t		      queue_overflowed;
	uint8_t		      tls_refused; /* a STARTTLS/STLS was refused */
	struct tls_stream    *tls_stream;  /* the TLS child, once TLS began */
};

void out_open(struct md_out *, const struct md_sink *, const struct md_flow *,
    enum md_tls, uint64_t ts, const char *proto);
int  out_emit(struct md_out *, struct md_event *);
int  out_feed(struct md_out *, enum md_dir, const uint8_t *p, size_t len,
     uint64_t ts);
/* TLS begins (mode): the session's bytes from now on go to a TLS stream
 * of its own (tls.h), made here with the run's secrets and budget, whose
 * decrypted bytes go to plain(arg) (the dissector's clear-text entry).
 * A stream made before (a second STARTTLS) goes on. */
void out_tls_begin(struct md_out *, enum md_tls mode, const struct md_env *,
    void (*plain)(void *, enum md_dir, const uint8_t *, size_t), void *arg);
/* Bytes of one direction after TLS began: counted and given to the TLS
 * stream. */
void out_tls(struct md_out *, enum md_dir, const uint8_t *p, size_t len);

void out_gap(struct md_out *, enum md_dir, size_t missing, uint64_t ts);
void out_anomaly(struct md_out *, enum md_dir, const char *code,
    const uint8_t *detail, size_t dlen);
void out_line_anomalies(struct md_out *, enum md_dir, const struct line *);
void out_session_end(struct md_out *, enum md_end);
void out_tls_answer(struct md_out *, int accepted);
void out_credentials_sent(struct md_out *);

struct md_bytes md_bytes_of(const void *p, size_t len);
struct md_bytes md_bytes_str(const char *s);

/*
 * A ring of fixed-size records, oldest first.  Pushing onto a full ring
 * forgets the oldest record: memory stays bounded whatever the peer does.
 */
struct ring {
	uint8_t *slots;
	size_t	 esz, max, head, len;
};

int   ring_init(struct ring *, size_t esz, size_t max);
void  ring_free(struct ring *);
void *ring_push(struct ring *, int *dropped);
void *ring_at(const struct ring *, size_t i);
void  ring_remove(struct ring *, size_t i);
void *out_queue_push(struct md_out *, struct ring *);

struct sasl;
int  out_sasl_line(struct md_out *, struct sasl *, const uint8_t *p, size_t n,
     int initial);
void out_auth(struct md_out *, struct sasl **, int code, enum md_status,
    enum md_auth_outcome);

/* Whether a line reads as an SMTP command (detection asks too). */
int md_smtp_is_command(const uint8_t *p, size_t n);

/* A TLS record (handshake or alert) where a protocol line was due. */
int md_looks_like_tls(const uint8_t *p, size_t n);

/* Parses a decimal number; returns digits used (0: none or overflow). */
size_t md_parse_u64(const uint8_t *p, size_t n, uint64_t *out);

#endif /* MAILSIFT_COMMON_H */
