/*
 * analyse.h - the analysis stage: what each message and part is.
 *
 * It sits between the MIME tap's events and the writers.  A writer hands
 * it a message's bytes and its parts' decoded bytes as they arrive, and
 * at each end an owner (the writer's own state for that row); the stage
 * works out, on the hashing workers, the digests, the type by content,
 * an archive's files, the rules' matches, the DKIM body verdicts, the
 * signs of impersonation and the path, and hands each end back with its
 * results to the writer's an_result_fn, in the order the ends were
 * given, as soon as they are ready.  Certificate chains are judged here
 * too, against a CA store loaded when first wanted.
 *
 * The writers only bind results to rows: they include this header and
 * nothing else of store/analyse/, and know nothing of libmagic, YARA or
 * libcrypto's X.509.  The stage knows nothing of SQLite or PostgreSQL
 * (make check-deps holds both to it).
 */
#ifndef MAILSIFT_ANALYSE_H
#define MAILSIFT_ANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "store/analyse/content.h"
#include "store/analyse/hasher.h"
#include "store/analyse/msgauth.h"
#include "store/analyse/rules.h"
#include "store/analyse/x509.h"

struct analysis;
struct an_msg;	/* a message being analysed */
struct an_part; /* a MIME part being analysed */

/* What a message's or part's end comes back with. */
struct an_result {
	void		       *owner; /* as given at its end */
	int			is_msg;
	struct hdigests		d;    /* msg: sha256, body; part: md5 too */
	const struct rule_hits *hits; /* the rules' matches; NULL: none run */
	/* a part */
	const char		   *magic;    /* "" when not known */
	const char		   *findings; /* names; "" when none */
	const char		   *password; /* that opened it; "" */
	const struct content_entry *entries;  /* an archive's files */
	int			    nentries;
	/* a message */
	int nchecks;	  /* DKIM body hashes worked out again */
	int check_row[4]; /* the signature's auth row (an_auth_row_fn) */
	int check_match[4];
	const char *auth_findings;    /* impersonation, DKIM; "" */
	const char *path;	      /* Received hops, comma separated; "" */
	const char *x_originating_ip; /* "" */
};

/*
 * At most this many ends wait for their results; past it, the oldest is
 * waited for.  The bytes they hold are bounded by the hasher; the count
 * is what lets the writer go on with small mail's rows while the workers
 * hash and type a large attachment (64 made the writer wait for them,
 * and the capture thread for the writer, a fifth of the mix's run).
 */
#define AN_END_MAX 256

typedef void (*an_result_fn)(void *arg, const struct an_result *);
/* A row of message_auth, numbered from 1 in the message. */
typedef void (*an_auth_row_fn)(void *arg, int n, const struct auth_row *);

struct analysis_opts {
	const struct rules *rules;   /* --yara, or NULL: the caller's */
	int		    sha1;    /* parts get a SHA-1 too */
	unsigned	    workers; /* hashing threads; 0: on the caller's */
};

struct analysis *analysis_new(const struct analysis_opts *, an_result_fn,
    void *arg);
/* Ends not yet handed back are dropped, their owners untouched. */
void analysis_free(struct analysis *);

/* A message: all its bytes, then its end.  whole: it came complete (no
 * byte lost) and is a message of its own, not a piece (TOP, BODY[1]):
 * only then has it a body identity and DKIM verdicts. */
struct an_msg *an_msg_begin(struct analysis *);
void	       an_msg_data(struct an_msg *, const uint8_t *p, size_t n);
/* A top-level header field (name; value raw and decoded): what it says
 * of the sender is kept, and its message_auth rows go to row at once. */
void an_msg_header(struct an_msg *, const uint8_t *name, size_t nlen,
    const uint8_t *raw, size_t rlen, const uint8_t *decoded, size_t dlen,
    an_auth_row_fn row, void *arg);
void an_msg_end(struct analysis *, struct an_msg *, int whole, void *owner);
void an_msg_drop(struct an_msg *);

/* A part: declared type and file name; attachment: its disposition says
 * so; start_lost: the capture lost its first bytes, so its content is
 * not typed. */
struct an_part *an_part_begin(struct analysis *, const uint8_t *declared,
    size_t dlen, const uint8_t *filename, size_t flen, int attachment,
    int start_lost);
void		an_part_data(struct an_part *, const uint8_t *p, size_t n);
/* The capture lost bytes while the part was open. */
void an_part_gap(struct an_part *);
/* text: the message's readable text so far, where an encrypted archive's
 * password is often given. */
void an_part_end(struct analysis *, struct an_part *, const char *text,
    size_t tlen, void *owner);
void an_part_drop(struct an_part *);

/* Hands back the ends whose results are ready, oldest first, stopping at
 * the first that is not; with wait, every end, waiting for each. */
void   an_deliver(struct analysis *, int wait);
size_t an_pending(const struct analysis *);
/* The ends not yet handed back go to drop, unworked, with their owners
 * (the log they were for is gone). */
void an_abandon(struct analysis *,
    void (*drop)(void *arg, void *owner, int is_msg));

/* A certificate's fields; 0 when it was read. */
int an_cert_read(const uint8_t *der, size_t n, struct x509_info *);
/* A chain (leaf first) judged at time t against the system's CA store:
 * "ok" or why not; match[i]: whether names[i] is one the leaf is for
 * (-1: no name given). */
const char *an_chain_verdict(struct analysis *, const uint8_t *const *der,
    const size_t *len, size_t n, double t, const char *const *names, int *match,
    size_t nnames);

/* The SHA-256 of what fd reads from its start, as hex; its size.  0 when
 * it was all read. */
int an_fd_sha256(int fd, char hex[HASH_HEX_MAX], int64_t *size);

#endif
