/*
 * test_handoff.c - store/handoff.c: events given on one thread reach the
 * backend's emit on the writer's, whole, in order and once, whatever
 * their sizes; the caller's buffers are its own again when emit returns;
 * a drain leaves nothing unwritten; a quiet capture's few events arrive
 * without a drain; a slow backend holds the caller back (bounded memory)
 * without losing anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "store/handoff.h"

/* An event as one line: every field the backends read. */
static void
bytes_sig(char *out, size_t len, const char *name, struct md_bytes b)
{
	uint64_t h = 1469598103934665603ull;

	if (b.p == NULL) {
		snprintf(out, len, " %s=NULL", name);
		return;
	}
	for (size_t i = 0; i < b.len; i++)
		h = (h ^ b.p[i]) * 1099511628211ull;
	snprintf(out, len, " %s=%zu:%016llx", name, b.len,
	    (unsigned long long)h);
}

static char *
sig_of(const struct md_event *ev)
{
	char buf[1024], part[5][64];

	bytes_sig(part[0], sizeof(part[0]), "name", ev->name);
	bytes_sig(part[1], sizeof(part[1]), "arg", ev->arg);
	bytes_sig(part[2], sizeof(part[2]), "extra", ev->extra);
	bytes_sig(part[3], sizeof(part[3]), "aux", ev->aux);
	bytes_sig(part[4], sizeof(part[4]), "proof", ev->proof);
	snprintf(buf, sizeof(buf),
	    "t%d d%d ts%llu seq%u tx%u c%d st%d tls%d n%llu,%llu,%llu,%llu"
	    " flow%llu/%llu/%lld/%u hello:%s%s%s%s%s%s",
	    (int)ev->type, (int)ev->dir, (unsigned long long)ev->ts_us, ev->seq,
	    ev->tx, ev->code, (int)ev->status, (int)ev->tls,
	    (unsigned long long)ev->num[0], (unsigned long long)ev->num[1],
	    (unsigned long long)ev->num[2], (unsigned long long)ev->num[3],
	    ev->flow ? (unsigned long long)ev->flow->id : 0,
	    ev->flow ? (unsigned long long)ev->flow->frame : 0,
	    ev->flow ? (long long)ev->flow->offset : 0,
	    ev->flow ? ev->flow->srv_port : 0, ev->hello ? ev->hello->ja4 : "-",
	    part[0], part[1], part[2], part[3], part[4]);
	return strdup(buf);
}

struct record {
	char	      **sig;
	size_t		n, cap;
	pthread_t	caller;
	int		off_caller; /* events that came on another thread */
	useconds_t	slow;	    /* a pause every 512 events */
	pthread_mutex_t mu;
};

static void
push(struct record *r, char *s)
{
	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->sig = realloc(r->sig, r->cap * sizeof(*r->sig));
		assert_non_null(r->sig);
	}
	r->sig[r->n++] = s;
	pthread_mutex_unlock(&r->mu);
}

static int
record_emit(void *arg, const struct md_event *ev)
{
	struct record *r = arg;

	if (!pthread_equal(pthread_self(), r->caller))
		r->off_caller++;
	push(r, sig_of(ev));
	if (r->slow && r->n % 512 == 0)
		usleep(r->slow);
	return 0;
}

static size_t
received(struct record *r)
{
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void
record_free(struct record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->sig[i]);
	free(r->sig);
	pthread_mutex_destroy(&r->mu);
}

static uint64_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 29;
}

/* n events of random shapes (one in big_every past a chunk's size when
 * big_every), each compared with what the backend got. */
static void
run(size_t n, size_t big_every, useconds_t slow)
{
	struct record	    rec = { .caller = pthread_self(), .slow = slow };
	struct handoff	   *h;
	char		  **want = calloc(n, sizeof(*want));
	static uint8_t	    buf[600 * 1024];
	struct md_flow	    flow = { .id = 1 };
	struct md_tls_hello hello = { .version = 0x0304 };
	uint64_t	    seed = 88172645463325252ull;

	pthread_mutex_init(&rec.mu, NULL);
	assert_non_null(want);
	assert_non_null(h = handoff_new(&(struct md_sink) { record_emit, &rec },
			    NULL, NULL));
	for (size_t i = 0; i < n; i++) {
		struct md_event ev = { .type = (enum md_ev)(i % 20),
			.ts_us = i,
			.seq = (uint32_t)i,
			.flow = i % 7 ? &flow : NULL };
		size_t		len = rnd(&seed) % 3000;

		if (big_every && i % big_every == big_every - 1)
			len = 300 * 1024 + rnd(&seed) % (200 * 1024);
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rnd(&seed);
		flow.frame = i;
		flow.offset = (int64_t)i * 3;
		ev.arg = (struct md_bytes) { buf, len };
		ev.name = (struct md_bytes) { i % 3 ? buf + 1 : NULL, 0 };
		if (i % 5 == 0)
			ev.extra = (struct md_bytes) { buf + 7, 5 };
		if (i % 11 == 0) {
			snprintf(hello.ja4, sizeof(hello.ja4), "t13d%zu", i);
			ev.hello = &hello;
		}
		want[i] = sig_of(&ev);
		assert_int_equal(handoff_emit(h, &ev), 0);
		/* the caller's bytes are its own again */
		memset(buf, 0xa5, len + 16);
	}
	handoff_drain(h);
	assert_true(handoff_idle(h));
	assert_int_equal(received(&rec), n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rec.sig[i], want[i]);
		free(want[i]);
	}
	free(want);
	assert_true(rec.off_caller > 0); /* a writer thread did the work */
	handoff_free(h);
	record_free(&rec);
}

static void
test_in_order_whole(void **state)
{
	(void)state;
	run(20000, 0, 0);
}

static void
test_events_past_a_chunk(void **state)
{
	(void)state;
	run(3000, 97, 0);
}

static void
test_slow_backend_holds_the_caller(void **state)
{
	(void)state;
	run(40000, 0, 2000);
}

/* A quiet capture: one event, no drain: the writer finds it alone. */
static void
test_quiet_events_arrive(void **state)
{
	struct record	rec = { .caller = pthread_self() };
	struct handoff *h;
	struct md_event ev = { .type = MD_EV_GREETING };
	int		waited = 0;

	(void)state;
	pthread_mutex_init(&rec.mu, NULL);
	assert_non_null(h = handoff_new(&(struct md_sink) { record_emit, &rec },
			    NULL, NULL));
	handoff_emit(h, &ev);
	while (received(&rec) == 0 && waited < 2000) {
		usleep(10000);
		waited += 10;
	}
	assert_int_equal(received(&rec), 1);
	handoff_free(h);
	record_free(&rec);
}

static int after_calls;
static void
count_after(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&after_calls, 1, __ATOMIC_RELAXED);
}

/* after runs on the writer once it wrote some events. */
static void
test_after_runs(void **state)
{
	struct record	rec = { .caller = pthread_self() };
	struct handoff *h;
	struct md_event ev = { .type = MD_EV_GREETING };

	(void)state;
	pthread_mutex_init(&rec.mu, NULL);
	assert_non_null(h = handoff_new(&(struct md_sink) { record_emit, &rec },
			    count_after, NULL));
	for (int i = 0; i < 1000; i++)
		handoff_emit(h, &ev);
	handoff_drain(h);
	assert_true(__atomic_load_n(&after_calls, __ATOMIC_RELAXED) >= 1);
	handoff_free(h);
	assert_int_equal(rec.n, 1000);
	record_free(&rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_whole),
		cmocka_unit_test(test_events_past_a_chunk),
		cmocka_unit_test(test_slow_backend_holds_the_caller),
		cmocka_unit_test(test_quiet_events_arrive),
		cmocka_unit_test(test_after_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
