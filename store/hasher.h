/*
 * hasher.h - digests computed on a second core.
 *
 * Hashing every message and part (SHA-256, and MD5 for parts) costs more
 * than everything else mailsift does, so it runs on a worker thread:
 * bytes are gathered into batches, batches queue (bounded) to the worker
 * in order, and finishing a stream waits only for that stream's batches.
 * Without a thread, hashing happens inline, same results.
 */
#ifndef MAILSIFT_HASHER_H
#define MAILSIFT_HASHER_H

#include <stddef.h>

struct hasher;
struct hstream;

#define HASH_HEX_MAX 129 /* SHA-512 would fit; SHA-256 and MD5 do */

struct hasher  *hasher_new(void);
void		hasher_free(struct hasher *);
struct hstream *hstream_new(struct hasher *, int with_md5);
void		hstream_update(struct hstream *, const void *p, size_t n);
/* Waits for the stream's bytes, writes the digests as hex, frees it. */
void hstream_finish(struct hstream *, char sha256[HASH_HEX_MAX],
    char md5[HASH_HEX_MAX]);

#endif
