/* \summary: the store's events on a thread of their own (handoff.h) */
/*
 * A chain of chunks that the caller appends records to and the writer
 * follows: each chunk's end is published with a release store once a
 * record is whole, so the writer reads only whole records and neither
 * side locks per event.  A full chunk is sealed and the caller goes on
 * in the next; the writer gives a sealed chunk it has read back to the
 * spares.  At most CHUNKS_MAX exist: past that the caller waits for the
 * writer, so memory stays bounded however fast packets come.
 *
 * The writer sleeps when it has read all there is, and the caller wakes
 * it once EAGER_BYTES came since it last did; a sleeping writer also
 * looks every POLL_MS by itself, so the few events of a quiet capture
 * reach the log (and its commits) without waiting for more.
 */
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/handoff.h"

#define CHUNK_BYTES (256u * 1024) /* records a chunk holds */
#define CHUNKS_MAX  16		  /* in existence: 4 MiB of events */
#define EAGER_BYTES (32u * 1024)  /* a sleeping writer is woken for this */
#define POLL_MS	    50		  /* a sleeping writer looks by itself */
#define REC_ALIGN   alignof(max_align_t)

/* One event in a chunk: the event, its pointers made offsets from the
 * record's start plus one (0: NULL), then the flow, the hello and the
 * bytes the event points to. */
struct rec {
	size_t		size; /* of the whole record, aligned */
	struct md_event ev;
	struct md_flow	flow;
};

struct chunk {
	struct chunk *next;   /* set before sealed */
	atomic_size_t used;   /* bytes of whole records (release) */
	atomic_int    sealed; /* the caller went on to next */
	alignas(max_align_t) unsigned char data[CHUNK_BYTES];
};

struct handoff {
	struct md_sink to;     /* the backend's */
	void (*after)(void *); /* on the writer, after each run of events */
	void	       *after_arg;
	pthread_mutex_t mu;
	pthread_cond_t	work; /* records for the writer, or stop */
	pthread_cond_t	done; /* a chunk is spare, or the writer sleeps */
	struct chunk   *spare;
	unsigned	nchunks; /* made (at most CHUNKS_MAX) */
	int		stop;
	atomic_int	asleep; /* the writer waits, all it saw read */
	int		started, threaded;
	pthread_t	th;
	struct chunk   *wr;	 /* the caller's */
	size_t		unwoken; /* bytes given since the last wake */
	struct chunk   *rd;	 /* the writer's, and how far it read: */
	size_t		rd_off;	 /* the caller reads them only while
				    the writer sleeps, under mu */
};

struct handoff *
handoff_new(const struct md_sink *to, void (*after)(void *), void *after_arg)
{
	struct handoff *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->to = *to;
	h->after = after;
	h->after_arg = after_arg;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->done, NULL);
	return h;
}

static size_t
aligned(size_t n)
{
	return (n + REC_ALIGN - 1) & ~(REC_ALIGN - 1);
}

static size_t
rec_size(const struct md_event *ev)
{
	return aligned(sizeof(struct rec) +
	    (ev->hello != NULL ? sizeof(*ev->hello) : 0) + ev->name.len +
	    ev->arg.len + ev->extra.len + ev->aux.len + ev->proof.len);
}

/* b's bytes at *at in the record r; b.p becomes their offset plus one. */
static void
bytes_put(unsigned char *r, size_t *at, struct md_bytes *b)
{
	if (b->p == NULL)
		return;
	if (b->len > 0)
		memcpy(r + *at, b->p, b->len);
	b->p = (const uint8_t *)(uintptr_t)(*at + 1);
	*at += b->len;
}

static void
bytes_fix(unsigned char *r, struct md_bytes *b)
{
	if (b->p != NULL)
		b->p = r + ((uintptr_t)b->p - 1);
}

static void
rec_put(struct chunk *c, const struct md_event *ev, size_t size)
{
	unsigned char *r =
	    c->data + atomic_load_explicit(&c->used, memory_order_relaxed);
	struct rec *rec = (struct rec *)r;
	size_t	    at = sizeof(*rec);

	rec->size = size;
	rec->ev = *ev;
	if (ev->flow != NULL)
		rec->flow = *ev->flow;
	if (ev->hello != NULL) {
		memcpy(r + at, ev->hello, sizeof(*ev->hello));
		rec->ev.hello =
		    (const struct md_tls_hello *)(uintptr_t)(at + 1);
		at += sizeof(*ev->hello);
	}
	bytes_put(r, &at, &rec->ev.name);
	bytes_put(r, &at, &rec->ev.arg);
	bytes_put(r, &at, &rec->ev.extra);
	bytes_put(r, &at, &rec->ev.aux);
	bytes_put(r, &at, &rec->ev.proof);
	atomic_store_explicit(&c->used, (size_t)(r - c->data) + size,
	    memory_order_release);
}

/* The records of c from *off to end, to the backend, in order. */
static void
replay(struct handoff *h, struct chunk *c, size_t off, size_t end)
{
	while (off < end) {
		unsigned char *r = c->data + off;
		struct rec    *rec = (struct rec *)r;

		if (rec->ev.flow != NULL)
			rec->ev.flow = &rec->flow;
		if (rec->ev.hello != NULL)
			rec->ev.hello = (const struct md_tls_hello *)(r +
			    ((uintptr_t)rec->ev.hello - 1));
		bytes_fix(r, &rec->ev.name);
		bytes_fix(r, &rec->ev.arg);
		bytes_fix(r, &rec->ev.extra);
		bytes_fix(r, &rec->ev.aux);
		bytes_fix(r, &rec->ev.proof);
		h->to.emit(h->to.arg, &rec->ev);
		off += rec->size;
	}
}

/* A chunk read to its end goes back to the spares. */
static void
chunk_give_back(struct handoff *h, struct chunk *c)
{
	pthread_mutex_lock(&h->mu);
	c->next = h->spare;
	h->spare = c;
	pthread_cond_broadcast(&h->done);
	pthread_mutex_unlock(&h->mu);
}

/* Sleeps until woken, POLL_MS passed or stop; 0 when stopped with
 * everything read. */
static int
writer_sleep(struct handoff *h)
{
	struct timespec until;
	int		go_on = 1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += POLL_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->asleep, 1);
	/* what the caller published before it saw asleep == 0 */
	if (atomic_load(&h->rd->used) == h->rd_off &&
	    !atomic_load(&h->rd->sealed)) {
		pthread_cond_broadcast(&h->done);
		if (h->stop)
			go_on = 0;
		else
			pthread_cond_timedwait(&h->work, &h->mu, &until);
	}
	atomic_store(&h->asleep, 0);
	pthread_mutex_unlock(&h->mu);
	return go_on;
}

static void *
writer_main(void *arg)
{
	struct handoff *h = arg;

	for (;;) {
		struct chunk *c = h->rd;
		size_t	      end =
		    atomic_load_explicit(&c->used, memory_order_acquire);

		if (h->rd_off < end) {
			replay(h, c, h->rd_off, end);
			h->rd_off = end;
			if (h->after != NULL)
				h->after(h->after_arg);
		} else if (atomic_load_explicit(&c->sealed,
			       memory_order_acquire)) {
			/* sealed after its last record: used is final */
			if (atomic_load(&c->used) > h->rd_off)
				continue;
			h->rd = c->next;
			h->rd_off = 0;
			chunk_give_back(h, c);
		} else if (!writer_sleep(h))
			break;
	}
	return NULL;
}

/* An empty chunk: a spare, a new one, or (CHUNKS_MAX made) the next the
 * writer gives back.  NULL: out of memory with none to give back. */
static struct chunk *
chunk_take(struct handoff *h)
{
	struct chunk *c = NULL;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		if ((c = h->spare) != NULL) {
			h->spare = c->next;
			break;
		}
		if (h->nchunks < CHUNKS_MAX &&
		    (c = malloc(sizeof(*c))) != NULL) {
			h->nchunks++;
			break;
		}
		if (h->nchunks <= 1)
			break; /* only the caller's own: none will come */
		pthread_cond_signal(&h->work);
		pthread_cond_wait(&h->done, &h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	if (c != NULL) {
		c->next = NULL;
		atomic_init(&c->used, 0);
		atomic_init(&c->sealed, 0);
	}
	return c;
}

/*
 * The writer, started with the first event (the process is in its
 * sandbox by then).  Signals stay with the other threads: the commands'
 * handlers set flags that the capture loop reads; faults and the
 * sandbox's SIGSYS still reach the thread that caused them.
 */
static void
start(struct handoff *h)
{
	sigset_t all, old;

	h->started = 1;
	if ((h->wr = chunk_take(h)) == NULL)
		return;
	h->rd = h->wr;
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->threaded = pthread_create(&h->th, NULL, writer_main, h) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Room for need bytes in the caller's chunk: the next one if not; 0, or
 * -1 when none could be had. */
static int
room(struct handoff *h, size_t need)
{
	struct chunk *c;

	if (atomic_load_explicit(&h->wr->used, memory_order_relaxed) + need <=
	    CHUNK_BYTES)
		return 0;
	if ((c = chunk_take(h)) == NULL)
		return -1;
	h->wr->next = c;
	atomic_store_explicit(&h->wr->sealed, 1, memory_order_release);
	h->wr = c;
	return 0;
}

int
handoff_emit(void *arg, const struct md_event *ev)
{
	struct handoff *h = arg;
	size_t		need = rec_size(ev);

	if (!h->started)
		start(h);
	if (!h->threaded || need > CHUNK_BYTES || room(h, need) != 0) {
		/* on this thread, after what came before */
		handoff_drain(h);
		h->to.emit(h->to.arg, ev);
		return 0;
	}
	rec_put(h->wr, ev, need);
	/* seq_cst with the writer's asleep: one of the two sees the other */
	h->unwoken += need;
	if (h->unwoken >= EAGER_BYTES && atomic_load(&h->asleep)) {
		h->unwoken = 0;
		pthread_mutex_lock(&h->mu);
		pthread_cond_signal(&h->work);
		pthread_mutex_unlock(&h->mu);
	}
	return 0;
}

void
handoff_drain(struct handoff *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	while (!atomic_load(&h->asleep) || h->rd != h->wr ||
	    h->rd_off != atomic_load(&h->wr->used)) {
		pthread_cond_signal(&h->work);
		pthread_cond_wait(&h->done, &h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	h->unwoken = 0;
}

int
handoff_idle(struct handoff *h)
{
	int idle;

	if (!h->threaded)
		return 1;
	pthread_mutex_lock(&h->mu);
	idle = atomic_load(&h->asleep) && h->rd == h->wr &&
	    h->rd_off == atomic_load(&h->wr->used);
	pthread_mutex_unlock(&h->mu);
	return idle;
}

void
handoff_free(struct handoff *h)
{
	struct chunk *c;

	if (h == NULL)
		return;
	handoff_drain(h);
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		h->stop = 1;
		pthread_cond_signal(&h->work);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->th, NULL);
	}
	free(h->wr);
	while ((c = h->spare) != NULL) {
		h->spare = c->next;
		free(c);
	}
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->done);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
