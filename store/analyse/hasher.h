/*
 * hasher.h - digests computed on other cores.
 *
 * Hashing every message and part (SHA-256, and MD5 for parts) costs more
 * than everything else mailsift does, so it runs on worker threads:
 * bytes are gathered into batches that queue (bounded) for all the
 * workers; the first worker free takes the oldest job of a stream no
 * other worker has, so a stream's batches are hashed in order, one at a
 * time, while the workers share the streams (the hashing of one message
 * and of its parts go on at once), and finishing a stream waits only for
 * its own batches.  Without threads, hashing happens inline, same
 * results.
 */
#ifndef MAILSIFT_HASHER_H
#define MAILSIFT_HASHER_H

#include <stddef.h>

struct hasher;
struct hstream;

#define HASH_HEX_MAX 129 /* SHA-512 would fit; SHA-256 and MD5 do */

/*
 * workers: threads to hash on (0: on the caller's thread).  Each worker
 * has a slot of its own for the work of hstream_then (a libmagic cookie,
 * a YARA scanner: state that one thread at a time may use); slot_free
 * (or NULL) frees what a slot holds when the hasher goes.
 */
struct hasher *hasher_new(unsigned workers, void (*slot_free)(void *));
void	       hasher_free(struct hasher *);
/* Worker threads worth having on this machine: its cores, up to 4. */
unsigned hasher_workers_for_cpus(void);

/* Flags of hstream_new.  HS_BODY: SHA-256 of the body form (bodynorm.h)
 * too, worked out on the worker: a message's bytes are copied once for
 * both digests. */
#define HS_MD5	1
#define HS_BODY 2
#define HS_SHA1 4
struct hstream *hstream_new(struct hasher *, unsigned flags);
/*
 * The stream's first `first` bytes are kept (on its worker, from the
 * batches it hashes anyway) for hstream_then; then, when more (or NULL)
 * says so of those, up to max.  All streams together keep at most
 * HASH_KEEP_MAX, past which a stream keeps no more (kept_all is 0).
 */
#define HASH_KEEP_MAX (96u << 20)
void hstream_keep(struct hstream *, size_t first, size_t max,
    int (*more)(const unsigned char *, size_t));
/*
 * fn runs once on the stream's worker (or here, inline) after every byte
 * given so far is hashed, with the worker's slot and the bytes kept;
 * kept_all says they are all the stream's bytes.  hstream_ready is not
 * true until it has returned.  At most once per stream, after its last
 * update; the stream must not be updated after.
 */
typedef void (*hstream_then_fn)(void *arg, void **slot,
    const unsigned char *kept, size_t len, int kept_all);
void hstream_then(struct hstream *, hstream_then_fn, void *arg);
void hstream_update(struct hstream *, const void *p, size_t n);

/* No more bytes: the last batch goes to the worker now, so that the
 * digests can be taken without a wait once hstream_ready says so. */
void hstream_end(struct hstream *);
int  hstream_ready(struct hstream *);

struct hdigests {
	char sha256[HASH_HEX_MAX];
	char md5[HASH_HEX_MAX];	 /* "" without HS_MD5 */
	char sha1[HASH_HEX_MAX]; /* "" without HS_SHA1 */
	char body[HASH_HEX_MAX]; /* "" without HS_BODY or a body form */
};
/* Waits for the stream's bytes, writes its digests as hex (d may be
 * NULL: not wanted), frees it. */
void hstream_finish(struct hstream *, struct hdigests *d);

#endif
