/*
 * hasher.h - digests computed on other cores.
 *
 * Hashing every message and part (SHA-256, and MD5 for parts) costs more
 * than everything else mailsift does, so it runs on worker threads:
 * bytes are gathered into batches, a stream's batches queue (bounded) to
 * the worker the stream was given, in order, and finishing a stream
 * waits only for that stream's batches.  Several workers share the
 * streams, so the hashing of one message and of its parts go on at once.
 * Without threads, hashing happens inline, same results.
 */
#ifndef MAILSIFT_HASHER_H
#define MAILSIFT_HASHER_H

#include <stddef.h>

struct hasher;
struct hstream;

#define HASH_HEX_MAX 129 /* SHA-512 would fit; SHA-256 and MD5 do */

/* workers: threads to hash on (0: on the caller's thread). */
struct hasher *hasher_new(unsigned workers);
void	       hasher_free(struct hasher *);
/* Worker threads worth having on this machine: its cores, up to 4. */
unsigned hasher_workers_for_cpus(void);

#define HS_MD5 1 /* MD5 too */
#define HS_BODY                                                \
	2 /* and SHA-256 of the body form (bodynorm.h), on the \
	   * worker: the message's bytes are copied once for both */
struct hstream *hstream_new(struct hasher *, unsigned flags);
void		hstream_update(struct hstream *, const void *p, size_t n);

/* No more bytes: the last batch goes to the worker now, so that the
 * digests can be taken without a wait once hstream_ready says so. */
void hstream_end(struct hstream *);
int  hstream_ready(struct hstream *);

struct hdigests {
	char sha256[HASH_HEX_MAX];
	char md5[HASH_HEX_MAX];	 /* "" without HS_MD5 */
	char body[HASH_HEX_MAX]; /* "" without HS_BODY or a body form */
};
/* Waits for the stream's bytes, writes its digests as hex (d may be
 * NULL: not wanted), frees it. */
void hstream_finish(struct hstream *, struct hdigests *d);

#endif
