/*
 * test_hasher.c - digests from the worker thread equal OpenSSL's one-shot
 * digests, also when a batch cannot be allocated and the rest is hashed
 * on the caller's thread while the worker is still busy (it is slowed
 * down on purpose, so the order is what is tested).
 *
 * Linked with -Wl,--wrap=malloc,--wrap=EVP_DigestUpdate: the wrappers
 * fail batch allocations on demand and slow the worker down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "store/analyse/bodynorm.h"
#include "store/analyse/hasher.h"

void *__real_malloc(size_t);
void *__wrap_malloc(size_t);
int   __real_EVP_DigestUpdate(EVP_MD_CTX *, const void *, size_t);
int   __wrap_EVP_DigestUpdate(EVP_MD_CTX *, const void *, size_t);

static pthread_t main_thread;
static int	 fail_batches; /* batch allocations to refuse from now on */
static int	 slow_worker;  /* the worker sleeps before each update */

void *
__wrap_malloc(size_t n)
{
	if (n >= 64 * 1024 && fail_batches > 0) {
		fail_batches--;
		return NULL;
	}
	return __real_malloc(n);
}

int
__wrap_EVP_DigestUpdate(EVP_MD_CTX *c, const void *p, size_t n)
{
	if (slow_worker && !pthread_equal(pthread_self(), main_thread)) {
		struct timespec t = { 0, 30 * 1000000 }; /* a slow worker */
		nanosleep(&t, NULL);
	}
	return __real_EVP_DigestUpdate(c, p, n);
}

static void
one_shot(const unsigned char *p, size_t n, char out[HASH_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
run_on(unsigned workers, size_t total, size_t step, int fail_after_first)
{
	unsigned char  *data = __real_malloc(total);
	char		want[HASH_HEX_MAX] = "";
	struct hdigests got;
	struct hasher  *h = hasher_new(workers, NULL);
	struct hstream *s;

	assert_non_null(data);
	assert_non_null(h);
	for (size_t i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	one_shot(data, total, want);
	s = hstream_new(h, HS_MD5);
	assert_non_null(s);
	for (size_t i = 0; i < total; i += step) {
		size_t n = total - i < step ? total - i : step;

		hstream_update(s, data + i, n);
		/* the first batches are queued: now memory runs out */
		if (fail_after_first && i + n >= 3 * 256 * 1024)
			fail_batches = 1000;
	}
	hstream_finish(s, &got);
	fail_batches = 0;
	assert_string_equal(got.sha256, want);
	assert_int_equal(strlen(got.md5), 32);
	assert_string_equal(got.body, "");
	hasher_free(h);
	free(data);
}

static void
run(size_t total, size_t step, int fail_after_first)
{
	run_on(1, total, step, fail_after_first);
	run_on(3, total, step, fail_after_first);
	run_on(0, total, step, fail_after_first);
}

static void
test_threaded(void **state)
{
	(void)state;
	run(3 * 1024 * 1024 + 17, 4096, 0);
	run(100, 1, 0);
	run(0, 1, 0);
}

/* The threads of this process, from /proc. */
static int
threads_now(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char  line[128];
	int   n = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return n;
}

/*
 * The threads of this process once joined ones are gone. pthread_join
 * returns when the kernel clears the thread's id, which comes before the
 * kernel drops the thread from the count /proc shows (on a loaded machine
 * the gap has been seen): wait for the count, up to two seconds.
 */
static int
threads_after_join(int want)
{
	int n = threads_now();

	for (int i = 0; i < 200 && n != want; i++) {
		nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 },
		    NULL);
		n = threads_now();
	}
	return n;
}

/* No worker starts before the first stream: a process that enters its
 * sandbox after making the hasher gets confined workers (hasher.c). */
static void
test_workers_start_with_first_stream(void **state)
{
	struct hasher  *h = hasher_new(2, NULL);
	struct hstream *s;
	struct hdigests d;
	int		before = threads_now();

	(void)state;
	assert_non_null(h);
	assert_true(before >= 1);
	assert_int_equal(threads_now(), before);
	s = hstream_new(h, 0);
	assert_non_null(s);
	assert_int_equal(threads_now(), before + 2);
	hstream_update(s, "abc", 3);
	hstream_finish(s, &d);
	hasher_free(h);
	assert_int_equal(threads_after_join(before), before);
}

static void
test_no_memory_keeps_order(void **state)
{
	(void)state;
	slow_worker = 1;
	run(2 * 1024 * 1024 + 5, 65536, 1);
	slow_worker = 0;
}

/*
 * Many streams open at once, fed in turns: together their batches would
 * pass the hasher's memory cap, so some bytes are hashed inline; every
 * digest must still be right.
 */
static void
test_many_streams(void **state)
{
	enum { N = 300, LEN = 300 * 1024, STEP = 10 * 1024 };
	unsigned char  *data = __real_malloc(LEN);
	struct hstream *s[N];
	struct hasher  *h = hasher_new(2, NULL);
	char		want[HASH_HEX_MAX] = "";

	(void)state;
	assert_non_null(data);
	assert_non_null(h);
	for (size_t i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 13 + i / 509);
	one_shot(data, LEN, want);
	for (int i = 0; i < N; i++)
		assert_non_null(s[i] = hstream_new(h, 0));
	for (size_t o = 0; o < LEN; o += STEP)
		for (int i = 0; i < N; i++)
			hstream_update(s[i], data + o, STEP);
	for (int i = 0; i < N; i++) {
		struct hdigests got;

		hstream_finish(s[i], &got);
		assert_string_equal(got.sha256, want);
	}
	hasher_free(h);
	free(data);
}

static void
collect(void *arg, const uint8_t *p, size_t n)
{
	struct {
		unsigned char *b;
		size_t	       n;
	} *o = arg;

	memcpy(o->b + o->n, p, n);
	o->n += n;
}

/*
 * HS_BODY: the body form's digest, worked out on the worker from the
 * message's own batches, equals the digest of what body_norm puts out
 * when fed the whole message at once; a message without a body has none.
 */
static void
test_body_form(void **state)
{
	enum { LEN = 700 * 1024 };
	unsigned char *msg = __real_malloc(LEN), *form = __real_malloc(LEN);
	struct {
		unsigned char *b;
		size_t	       n;
	} out = { form, 0 };
	struct body_norm bn;
	char		 want[HASH_HEX_MAX] = "";
	struct hasher	*h = hasher_new(2, NULL);
	struct hstream	*s;
	struct hdigests	 got;

	(void)state;
	assert_non_null(msg);
	assert_non_null(form);
	memcpy(msg, "Subject: x\r\n\r\n", 14);
	for (size_t i = 14; i < LEN; i++)
		msg[i] = i % 77 == 75 ? '\r' :
		    i % 77 == 76      ? '\n' :
					(unsigned char)('a' + i % 26);
	body_norm_init(&bn, collect, &out);
	body_norm_feed(&bn, msg, LEN);
	assert_true(body_norm_finish(&bn));
	one_shot(form, out.n, want);
	for (size_t step = 1000; step <= 300 * 1000; step *= 300) {
		assert_non_null(s = hstream_new(h, HS_BODY));
		for (size_t i = 0; i < LEN; i += step)
			hstream_update(s, msg + i,
			    LEN - i < step ? LEN - i : step);
		hstream_finish(s, &got);
		assert_string_equal(got.body, want);
		assert_string_equal(got.md5, "");
	}
	assert_non_null(s = hstream_new(h, HS_BODY));
	hstream_update(s, "Subject: x\r\n", 12);
	hstream_finish(s, &got);
	assert_string_equal(got.body, "");
	assert_int_equal(strlen(got.sha256), 64);
	hasher_free(h);
	free(msg);
	free(form);
}

struct then_seen {
	unsigned char bytes[4096];
	size_t	      n;
	int	      all, calls;
	void	     *slot;
};

static void
then_fn(void *arg, void **slot, const unsigned char *kept, size_t n, int all)
{
	struct then_seen *t = arg;

	if (*slot == NULL) /* the worker's own, kept between calls */
		*slot = malloc(1);
	t->slot = *slot;
	memcpy(t->bytes, kept, n < sizeof(t->bytes) ? n : sizeof(t->bytes));
	t->n = n;
	t->all = all;
	t->calls++;
}

static int
starts_z(const unsigned char *p, size_t n)
{
	return n > 0 && p[0] == 'Z';
}

/*
 * hstream_keep and hstream_then: the first bytes kept, all of them (to
 * the bound) when the first ones ask, the work run once after every byte
 * is hashed, on a slot the hasher frees; on workers and inline.
 */
static void
test_keep_then(void **state)
{
	unsigned char data[3000];

	(void)state;
	for (unsigned workers = 0; workers <= 2; workers += 2) {
		struct hasher	*h = hasher_new(workers, free);
		struct then_seen t;

		for (int asks = 0; asks < 2; asks++) {
			struct hstream *s = hstream_new(h, 0);

			memset(&t, 0, sizeof(t));
			for (size_t i = 0; i < sizeof(data); i++)
				data[i] = (unsigned char)(asks && i == 0 ?
					'Z' :
					'a' + i % 26);
			hstream_keep(s, 100, 2000, starts_z);
			for (size_t i = 0; i < sizeof(data); i += 7)
				hstream_update(s, data + i,
				    sizeof(data) - i < 7 ? sizeof(data) - i :
							   7);
			hstream_then(s, then_fn, &t);
			hstream_end(s);
			while (!hstream_ready(s))
				;
			assert_int_equal(t.calls, 1);
			assert_int_equal(t.n, asks ? 2000 : 100);
			assert_false(t.all); /* 3000 bytes: past both bounds */
			assert_memory_equal(t.bytes, data, t.n);
			assert_non_null(t.slot);
			hstream_finish(s, NULL);
		}
		hasher_free(h); /* frees the slots (ASan says if not) */
	}
}

/* A stream's then that holds its worker until told to let go. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t	cv;
	int		entered, open;
};

static void
then_gate(void *arg, void **slot, const unsigned char *kept, size_t n, int all)
{
	struct gate *g = arg;

	(void)slot;
	(void)kept;
	(void)n;
	(void)all;
	pthread_mutex_lock(&g->mu);
	g->entered = 1;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/*
 * The workers share the jobs: while one is held by a slow job (libmagic
 * on a text file), every other stream's batches are hashed by the other,
 * whichever streams came first, each stream's in order (its digest
 * right).  Streams given to a worker each for good stalled behind it.
 */
static void
test_slow_job_holds_only_its_stream(void **state)
{
	enum { N = 8, LEN = 100 * 1024 };
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		0, 0 };
	struct hasher  *h = hasher_new(2, NULL);
	struct hstream *slow, *s[N];
	unsigned char  *data = __real_malloc(LEN);
	char		want[HASH_HEX_MAX] = "";
	int		ready = 0;

	(void)state;
	assert_non_null(h);
	assert_non_null(data);
	for (size_t i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 31 + i / 257);
	one_shot(data, LEN, want);
	slow = hstream_new(h, 0);
	hstream_update(slow, data, LEN); /* past the inline bound */
	hstream_then(slow, then_gate, &g);
	pthread_mutex_lock(&g.mu);
	while (!g.entered)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);
	for (int i = 0; i < N; i++) {
		assert_non_null(s[i] = hstream_new(h, HS_MD5));
		for (size_t o = 0; o < LEN; o += 3000)
			hstream_update(s[i], data + o,
			    LEN - o < 3000 ? LEN - o : 3000);
		hstream_end(s[i]);
	}
	/* all done by the free worker, the slow one still held (10 s at
	 * most: a stall fails here rather than hanging) */
	for (int t = 0; t < 10000 && ready < N; t++) {
		struct timespec ms = { 0, 1000000 };

		ready = 0;
		for (int i = 0; i < N; i++)
			ready += hstream_ready(s[i]);
		if (ready < N)
			nanosleep(&ms, NULL);
	}
	assert_int_equal(ready, N);
	assert_false(hstream_ready(slow));
	for (int i = 0; i < N; i++) {
		struct hdigests got;

		hstream_finish(s[i], &got);
		assert_string_equal(got.sha256, want);
	}
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	hstream_finish(slow, NULL);
	hasher_free(h);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threaded),
		cmocka_unit_test(test_workers_start_with_first_stream),
		cmocka_unit_test(test_no_memory_keeps_order),
		cmocka_unit_test(test_many_streams),
		cmocka_unit_test(test_body_form),
		cmocka_unit_test(test_keep_then),
		cmocka_unit_test(test_slow_job_holds_only_its_stream),
	};

	main_thread = pthread_self();
	return cmocka_run_group_tests_name("hasher", tests, NULL, NULL);
}
