/* \summary: SHA-256 and MD5 of streamed bytes, on worker threads */
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/analyse/bodynorm.h"
#include "dissect/util.h"
#include "store/analyse/hasher.h"

#define BATCH_BYTES (256 * 1024) /* bytes gathered before queueing */
#define BATCH_FIRST (8 * 1024)	 /* a stream's first batch; each doubles */
/* A stream that ends within its first batch is hashed on the caller's
 * thread: handing it over (a lock, a wake-up, a switch) costs more than
 * hashing 8 KiB, and most of small mail's streams are that short. */
#define INLINE_MAX BATCH_FIRST
/*
 * Jobs queued at most, for all workers: one queue, not one a worker.
 * A stream given to one worker for good left the other idle while its
 * queue of 16 filled behind a slow job (libmagic typing a text file
 * takes 2 ms), and the writer waited for room in it.  Their bytes are
 * bounded by HELD_MAX, not by this count.
 */
#define QUEUE_JOBS  256
#define WORKERS_MAX 4
/*
 * Batch memory of all streams together.  Thousands of messages can be
 * open at once, each with two or three streams: past this, a stream's
 * bytes are hashed on the caller's thread instead (same digests).
 */
#define HELD_MAX (32u << 20)
/* Full-size batches the workers have hashed wait here for the next one
 * to be filled: malloc'd by one thread and freed by another, they made
 * glibc shrink and grow its heap and fault in fresh pages each time. */
#define POOL_MAX 24

struct hstream {
	struct hasher *h;
	int threaded; /* its batches go to the workers; 0: hashed inline */
	int busy;     /* a worker has one of its jobs (the lock held) */
	EVP_MD_CTX *sha, *md5, *sha1, *body_sha;
	/* the first bytes, kept for hstream_then (worker side) */
	unsigned char *kept;
	size_t	       nkept, keep, kcap, keep_max;
	int	       kept_over;
	int (*keep_more)(const unsigned char *, size_t);
	hstream_then_fn	 then;
	void		*then_arg;
	struct body_norm body; /* with body_sha */
	unsigned char	*buf;
	size_t		 len, cap; /* cap: this batch's size */
	unsigned	 pending;  /* batches queued, not yet hashed */
	int		 handed;   /* a batch went to the worker */
};

struct job {
	struct hstream *s;
	unsigned char  *buf; /* NULL: the stream's hstream_then */
	size_t		len, cap;
};

struct worker {
	struct hasher *h;
	pthread_t      th;
	void	      *slot; /* hstream_then's state on this thread */
};

struct hasher {
	pthread_mutex_t mu;
	pthread_cond_t	work;	 /* a job was queued, or stop */
	pthread_cond_t	done;	 /* a job was done */
	unsigned	waiters; /* callers waiting on done */
	unsigned	idle;	 /* workers waiting on work */
	/* oldest first; a job is taken by the first worker free while no
	 * other works on its stream, so each stream's run in order */
	struct job     q[QUEUE_JOBS];
	size_t	       head, n;
	struct worker  w[WORKERS_MAX];
	unsigned       nworkers;
	unsigned       wanted; /* threads to start with the first stream */
	int	       started;
	size_t	       held; /* bytes of batch buffers: HELD_MAX */
	int	       stop;
	unsigned char *pool[POOL_MAX]; /* spare BATCH_BYTES buffers */
	size_t	       npool;
	size_t	       kept; /* bytes all streams keep: HASH_KEEP_MAX */
	void (*slot_free)(void *);
	void *inline_slot; /* the slot of work done on the caller's thread */
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
body_digest(void *arg, const uint8_t *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

/* The first bytes of the stream, while it and all streams are under
 * their bounds (the hasher's lock guards the count of all). */
static void
keep_bytes(struct hstream *s, const unsigned char *p, size_t n)
{
	struct hasher *h = s->h;
	size_t	       want;

	if (s->kept_over || n == 0)
		return;
	if (s->nkept + n > s->keep && s->keep_more != NULL) {
		/* the first bytes in: do they ask for all? */
		size_t k = s->keep - s->nkept;

		keep_bytes(s, p, k);
		if (s->kept_over)
			return;
		p += k;
		n -= k;
		if (s->keep_more(s->kept, s->nkept))
			s->keep = s->keep_max;
		s->keep_more = NULL;
	}
	if (s->nkept + n > s->keep) {
		s->kept_over = 1;
		n = s->keep - s->nkept;
	}
	if (s->nkept + n > s->kcap) {
		size_t	       cap = s->kcap ? s->kcap : 16384;
		unsigned char *b;

		while (cap < s->nkept + n)
			cap *= 2;
		if (cap > s->keep)
			cap = s->keep;
		want = cap - s->kcap;
		pthread_mutex_lock(&h->mu);
		if (h->kept + want > HASH_KEEP_MAX ||
		    (b = realloc(s->kept, cap)) == NULL) {
			pthread_mutex_unlock(&h->mu);
			s->kept_over = 1;
			return;
		}
		h->kept += want;
		pthread_mutex_unlock(&h->mu);
		s->kept = b;
		s->kcap = cap;
	}
	memcpy(s->kept + s->nkept, p, n);
	s->nkept += n;
}

/* A stream's bytes into its digests, on whichever thread holds them. */
static void
digest(struct hstream *s, const unsigned char *p, size_t n)
{
	EVP_DigestUpdate(s->sha, p, n);
	if (s->md5 != NULL)
		EVP_DigestUpdate(s->md5, p, n);
	if (s->sha1 != NULL)
		EVP_DigestUpdate(s->sha1, p, n);
	if (s->body_sha != NULL)
		body_norm_feed(&s->body, p, n);
	if (s->keep > 0)
		keep_bytes(s, p, n);
}

/* The stream's hstream_then, on the thread whose slot is given. */
static void
run_then(struct hstream *s, void **slot)
{
	s->then(s->then_arg, slot, s->kept, s->nkept, !s->kept_over);
}

/*
 * The oldest job whose stream no worker has (the lock held): out of the
 * queue, its stream marked busy; 0 when there is none.  A job of a busy
 * stream waits: the worker that has the stream looks again once done.
 */
static int
job_take(struct hasher *h, struct job *j)
{
	for (size_t i = 0; i < h->n; i++) {
		size_t at = (h->head + i) % QUEUE_JOBS;

		if (h->q[at].s->busy)
			continue;
		*j = h->q[at];
		for (size_t k = i; k > 0; k--) /* the older ones move up */
			h->q[(h->head + k) % QUEUE_JOBS] =
			    h->q[(h->head + k - 1) % QUEUE_JOBS];
		h->head = (h->head + 1) % QUEUE_JOBS;
		h->n--;
		j->s->busy = 1;
		return 1;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct hasher *h = w->h;
	struct job     j;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		if (!job_take(h, &j)) {
			if (h->stop && h->n == 0)
				break;
			h->idle++;
			pthread_cond_wait(&h->work, &h->mu);
			h->idle--;
			continue;
		}
		pthread_mutex_unlock(&h->mu);
		if (j.buf == NULL)
			run_then(j.s, &w->slot);
		else
			digest(j.s, j.buf, j.len);
		pthread_mutex_lock(&h->mu);
		if (j.buf != NULL)
			batch_release(h, j.buf, j.cap);
		j.s->busy = 0;
		j.s->pending--;
		if (h->waiters > 0) /* no wake-up nobody waits for */
			pthread_cond_broadcast(&h->done);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* One a core this process may run on (taskset, a container's cpuset:
 * not every core the machine has), at most WORKERS_MAX. */
unsigned
hasher_workers_for_cpus(void)
{
	cpu_set_t set;
	long	  n = sched_getaffinity(0, sizeof(set), &set) == 0 ?
		 CPU_COUNT(&set) :
		 sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : (unsigned)n;
}

struct hasher *
hasher_new(unsigned workers, void (*slot_free)(void *))
{
	struct hasher *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->slot_free = slot_free;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->done, NULL);
	h->wanted = workers > WORKERS_MAX ? WORKERS_MAX : workers;
	return h;
}

/*
 * The workers, started with the first stream (the lock held): by then
 * the process has entered its sandbox (cli/sandbox.c), whose Landlock
 * rules bind only the thread that made them and the threads it starts
 * afterwards; the workers run libmagic, libarchive and YARA on what
 * strangers sent, and must be confined as the capture thread is.
 */
static void
workers_start(struct hasher *h)
{
	h->started = 1;
	for (unsigned i = 0; i < h->wanted; i++) {
		struct worker *w = &h->w[h->nworkers];

		w->h = h;
		if (pthread_create(&w->th, NULL, worker_main, w) != 0)
			break; /* fewer threads, or inline: same digests */
		h->nworkers++;
	}
}

void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->mu);
	for (unsigned i = 0; i < h->nworkers; i++) {
		pthread_join(h->w[i].th, NULL);
		if (h->slot_free != NULL && h->w[i].slot != NULL)
			h->slot_free(h->w[i].slot);
	}
	if (h->slot_free != NULL && h->inline_slot != NULL)
		h->slot_free(h->inline_slot);
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->done);
	pthread_mutex_destroy(&h->mu);
	while (h->npool > 0)
		free(h->pool[--h->npool]);
	free(h);
}

/* Whether there are workers to hash on (the lock held). */
static int
have_workers(struct hasher *h)
{
	if (!h->started)
		workers_start(h);
	return h->nworkers > 0;
}

static EVP_MD_CTX *
digest_new(const EVP_MD *md)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c != NULL && !EVP_DigestInit_ex(c, md, NULL)) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	return c;
}

static void
stream_free(struct hstream *s)
{
	EVP_MD_CTX_free(s->sha);
	EVP_MD_CTX_free(s->md5);
	EVP_MD_CTX_free(s->sha1);
	EVP_MD_CTX_free(s->body_sha);
	free(s->kept);
	free(s);
}

struct hstream *
hstream_new(struct hasher *h, unsigned flags)
{
	struct hstream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->h = h;
	if ((s->sha = digest_new(EVP_sha256())) == NULL ||
	    ((flags & HS_MD5) && (s->md5 = digest_new(EVP_md5())) == NULL) ||
	    ((flags & HS_SHA1) && (s->sha1 = digest_new(EVP_sha1())) == NULL) ||
	    ((flags & HS_BODY) &&
		(s->body_sha = digest_new(EVP_sha256())) == NULL)) {
		stream_free(s);
		return NULL;
	}
	if (s->body_sha != NULL)
		body_norm_init(&s->body, body_digest, s->body_sha);
	pthread_mutex_lock(&h->mu);
	s->threaded = have_workers(h);
	pthread_mutex_unlock(&h->mu);
	return s;
}

/* A job onto the workers' queue, waiting while it is full (memory
 * stays bounded however fast packets come). */
static void
enqueue(struct hstream *s, struct job j)
{
	struct hasher *h = s->h;

	pthread_mutex_lock(&h->mu);
	h->waiters++;
	while (h->n == QUEUE_JOBS)
		pthread_cond_wait(&h->done, &h->mu);
	h->waiters--;
	h->q[(h->head + h->n) % QUEUE_JOBS] = j;
	h->n++;
	s->pending++;
	if (h->idle > 0)
		pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
}

/* Hands the gathered batch to the stream's worker. */
static void
submit(struct hstream *s)
{
	if (s->len == 0)
		return;
	if (!s->threaded) { /* the buffer is kept for the next batch */
		digest(s, s->buf, s->len);
		s->len = 0;
		return;
	}
	enqueue(s, (struct job) { s, s->buf, s->len, s->cap });
	s->handed = 1;
	s->buf = NULL;
	s->len = 0;
}

/* At its end: a stream all of whose bytes are still here, and few, is
 * finished on this thread (INLINE_MAX). */
static void
keep_small(struct hstream *s)
{
	if (s->threaded && !s->handed && s->len <= INLINE_MAX)
		s->threaded = 0;
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

	if (!s->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	h->waiters++;
	while (s->pending > 0)
		pthread_cond_wait(&h->done, &h->mu);
	h->waiters--;
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

void
hstream_end(struct hstream *s)
{
	keep_small(s);
	submit(s);
}

void
hstream_keep(struct hstream *s, size_t first, size_t max,
    int (*more)(const unsigned char *, size_t))
{
	s->keep = first;
	s->keep_max = max;
	s->keep_more = more;
}

void
hstream_then(struct hstream *s, hstream_then_fn fn, void *arg)
{
	keep_small(s);
	submit(s);
	s->then = fn;
	s->then_arg = arg;
	if (!s->threaded) {
		run_then(s, &s->h->inline_slot);
		return;
	}
	enqueue(s, (struct job) { s, NULL, 0, 0 });
}

int
hstream_ready(struct hstream *s)
{
	int ready;

	if (!s->threaded)
		return 1;
	pthread_mutex_lock(&s->h->mu);
	ready = s->pending == 0;
	pthread_mutex_unlock(&s->h->mu);
	return ready;
}

static void
hex(EVP_MD_CTX *ctx, char out[HASH_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  n = 0;

	EVP_DigestFinal_ex(ctx, md, &n);
	if (2 * n >= HASH_HEX_MAX)
		n = (HASH_HEX_MAX - 1) / 2;
	md_hex_encode(md, n, out);
}

void
hstream_finish(struct hstream *s, struct hdigests *d)
{
	struct hasher *h = s->h;

	keep_small(s);
	submit(s);
	wait_pending(s);
	if (d != NULL) {
		memset(d, 0, sizeof(*d));
		hex(s->sha, d->sha256);
		if (s->md5 != NULL)
			hex(s->md5, d->md5);
		if (s->sha1 != NULL)
			hex(s->sha1, d->sha1);
		if (s->body_sha != NULL && body_norm_finish(&s->body))
			hex(s->body_sha, d->body);
	}
	pthread_mutex_lock(&h->mu);
	if (s->buf != NULL)
		batch_release(h, s->buf, s->cap);
	h->kept -= s->kcap;
	pthread_mutex_unlock(&h->mu);
	stream_free(s);
}
