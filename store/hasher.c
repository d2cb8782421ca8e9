/* \summary: SHA-256 and MD5 of streamed bytes, on a worker thread */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hasher.h"

#define BATCH_BYTES (256 * 1024) /* bytes gathered before queueing */
#define BATCH_FIRST (8 * 1024)	 /* a stream's first batch; each doubles */
#define QUEUE_JOBS  16		 /* batches queued at most: 4 MiB */
/*
 * Batch memory of all streams together.  Thousands of messages can be
 * open at once, each with two or three streams: past this, a stream's
 * bytes are hashed on the caller's thread instead (same digests).
 */
#define HELD_MAX (32u << 20)
/* Full-size batches the worker has hashed wait here for the next one to
 * be filled: malloc'd by one thread and freed by the other, they made
 * glibc shrink and grow its heap and fault in fresh pages each time. */
#define POOL_MAX 24

struct hstream {
	struct hasher *h;
	EVP_MD_CTX    *sha, *md5;
	unsigned char *buf;
	size_t	       len, cap; /* cap: this batch's size */
	unsigned       pending;	 /* batches queued, not yet hashed */
};

struct job {
	struct hstream *s;
	unsigned char  *buf;
	size_t		len, cap;
};

struct hasher {
	pthread_t	th;
	pthread_mutex_t mu;
	pthread_cond_t	work, done;
	struct job	q[QUEUE_JOBS];
	size_t		head, n;
	size_t		held; /* bytes of batch buffers: HELD_MAX */
	int		stop, threaded;
	unsigned char  *pool[POOL_MAX]; /* spare BATCH_BYTES buffers */
	size_t		npool;
};

/* A batch buffer done with (the lock held): kept for reuse if full size. */
static void
batch_release(struct hasher *h, unsigned char *buf, size_t cap)
{
	h->held -= cap;
	if (cap == BATCH_BYTES && h->npool < POOL_MAX)
		h->pool[h->npool++] = buf;
	else
		free(buf);
}

static void
digest(struct hstream *s, const unsigned char *p, size_t n)
{
	EVP_DigestUpdate(s->sha, p, n);
	if (s->md5 != NULL)
		EVP_DigestUpdate(s->md5, p, n);
}

static void *
worker(void *arg)
{
	struct hasher *h = arg;
	struct job     j;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->n == 0 && !h->stop)
			pthread_cond_wait(&h->work, &h->mu);
		if (h->n == 0)
			break;
		j = h->q[h->head];
		h->head = (h->head + 1) % QUEUE_JOBS;
		h->n--;
		pthread_mutex_unlock(&h->mu);
		digest(j.s, j.buf, j.len);
		pthread_mutex_lock(&h->mu);
		batch_release(h, j.buf, j.cap);
		j.s->pending--;
		pthread_cond_broadcast(&h->done);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct hasher *
hasher_new(void)
{
	struct hasher *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->done, NULL);
	h->threaded = pthread_create(&h->th, NULL, worker, h) == 0;
	return h;
}

void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		h->stop = 1;
		pthread_cond_signal(&h->work);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->th, NULL);
	}
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->done);
	pthread_mutex_destroy(&h->mu);
	while (h->npool > 0)
		free(h->pool[--h->npool]);
	free(h);
}

struct hstream *
hstream_new(struct hasher *h, int with_md5)
{
	struct hstream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->h = h;
	s->sha = EVP_MD_CTX_new();
	if (with_md5)
		s->md5 = EVP_MD_CTX_new();
	if (s->sha == NULL || (with_md5 && s->md5 == NULL) ||
	    !EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) ||
	    (s->md5 != NULL && !EVP_DigestInit_ex(s->md5, EVP_md5(), NULL))) {
		EVP_MD_CTX_free(s->sha);
		EVP_MD_CTX_free(s->md5);
		free(s);
		return NULL;
	}
	return s;
}

/* Hands the gathered batch to the worker, waiting while the queue is full
 * (memory stays bounded however fast packets come). */
static void
submit(struct hstream *s)
{
	struct hasher *h = s->h;

	if (s->len == 0)
		return;
	if (!h->threaded) { /* the buffer is kept for the next batch */
		digest(s, s->buf, s->len);
		s->len = 0;
		return;
	}
	pthread_mutex_lock(&h->mu);
	while (h->n == QUEUE_JOBS)
		pthread_cond_wait(&h->done, &h->mu);
	h->q[(h->head + h->n) % QUEUE_JOBS] =
	    (struct job) { s, s->buf, s->len, s->cap };
	h->n++;
	s->pending++;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
	s->buf = NULL;
	s->len = 0;
}

/*
 * A new batch buffer for s, twice the last one's size (most streams are
 * short); -1 when memory is out or all streams hold HELD_MAX already.
 */
static int
batch_new(struct hstream *s)
{
	struct hasher *h = s->h;
	size_t	       want = s->cap ? s->cap * 2 : BATCH_FIRST;

	if (want > BATCH_BYTES)
		want = BATCH_BYTES;
	pthread_mutex_lock(&h->mu);
	if (h->held + want > HELD_MAX) {
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	h->held += want;
	s->buf =
	    want == BATCH_BYTES && h->npool > 0 ? h->pool[--h->npool] : NULL;
	pthread_mutex_unlock(&h->mu);
	if (s->buf == NULL && (s->buf = malloc(want)) == NULL) {
		pthread_mutex_lock(&h->mu);
		h->held -= want;
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	s->cap = want;
	return 0;
}

/* Waits until the worker has hashed every batch the stream queued. */
static void
wait_pending(struct hstream *s)
{
	struct hasher *h = s->h;

	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	while (s->pending > 0)
		pthread_cond_wait(&h->done, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void
hstream_update(struct hstream *s, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n > 0) {
		size_t k;

		if (s->buf == NULL && batch_new(s) != 0) {
			/* no memory, or over HELD_MAX: hash here, after the
			 * batches before */
			wait_pending(s);
			digest(s, b, n);
			return;
		}
		k = s->cap - s->len < n ? s->cap - s->len : n;
		memcpy(s->buf + s->len, b, k);
		s->len += k;
		b += k;
		n -= k;
		if (s->len == s->cap)
			submit(s);
	}
}

static void
hex(EVP_MD_CTX *ctx, char out[HASH_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  n = 0;

	EVP_DigestFinal_ex(ctx, md, &n);
	for (unsigned i = 0; i < n && 2 * i + 2 < HASH_HEX_MAX; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
hstream_finish(struct hstream *s, char sha256[HASH_HEX_MAX],
    char md5[HASH_HEX_MAX])
{
	struct hasher *h = s->h;

	submit(s);
	wait_pending(s);
	if (sha256 != NULL)
		hex(s->sha, sha256);
	if (md5 != NULL && s->md5 != NULL)
		hex(s->md5, md5);
	EVP_MD_CTX_free(s->sha);
	EVP_MD_CTX_free(s->md5);
	if (s->buf != NULL) {
		pthread_mutex_lock(&h->mu);
		batch_release(h, s->buf, s->cap);
		pthread_mutex_unlock(&h->mu);
	}
	free(s);
}
