/* \summary: mailsift serve: slow answers kept while the log is the same */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/serve_cache.h"

struct kept {
	char	*key; /* NULL: a free slot */
	char	*buf;
	size_t	 len;
	int64_t	 at[2]; /* the log's growth key when it was made */
	time_t	 made;
	uint64_t used; /* the cache's clock at its last use */
};

struct answer_cache {
	pthread_mutex_t lock;
	struct kept	e[ANSWER_CACHE_ENTRIES];
	size_t		bytes;
	uint64_t	clock;
	long		recount; /* seconds a growing log's answer stays */
	double		min_ms;	 /* an answer quicker is not kept */
};

struct answer_cache *
answer_cache_new(long recount)
{
	struct answer_cache *c = calloc(1, sizeof(*c));
	const char	    *env = getenv("MAILSIFT_ANSWER_KEEP_MS");

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->recount = recount;
	c->min_ms =
	    env != NULL && *env != '\0' ? atof(env) : ANSWER_CACHE_MIN_MS;
	return c;
}

static void
let_go(struct answer_cache *c, struct kept *k)
{
	c->bytes -= k->len;
	free(k->key);
	free(k->buf);
	memset(k, 0, sizeof(*k));
}

void
answer_cache_free(struct answer_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < ANSWER_CACHE_ENTRIES; i++)
		if (c->e[i].key != NULL)
			let_go(c, &c->e[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct kept *
find(struct answer_cache *c, const char *key)
{
	for (int i = 0; i < ANSWER_CACHE_ENTRIES; i++)
		if (c->e[i].key != NULL && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

/* Kept for the log as it is now: the same growth key, or made less than
 * recount seconds ago (a growing log, as the overview). */
static int
fresh(const struct answer_cache *c, const struct kept *k, const int64_t now[2])
{
	return (k->at[0] == now[0] && k->at[1] == now[1]) ||
	    time(NULL) - k->made < c->recount;
}

int
answer_cache_get(struct answer_cache *c, const char *key, const int64_t now[2],
    char **buf, size_t *len, long *age)
{
	struct kept *k;
	int	     rc = -1;

	if (c == NULL)
		return -1;
	pthread_mutex_lock(&c->lock);
	if ((k = find(c, key)) != NULL && !fresh(c, k, now)) {
		let_go(c, k);
		k = NULL;
	}
	if (k != NULL && (*buf = malloc(k->len ? k->len : 1)) != NULL) {
		memcpy(*buf, k->buf, k->len);
		*len = k->len;
		*age = (long)(time(NULL) - k->made);
		k->used = ++c->clock;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* The least recently used answer, or NULL when none is kept. */
static struct kept *
oldest(struct answer_cache *c)
{
	struct kept *old = NULL;

	for (int i = 0; i < ANSWER_CACHE_ENTRIES; i++)
		if (c->e[i].key != NULL &&
		    (old == NULL || c->e[i].used < old->used))
			old = &c->e[i];
	return old;
}

/* A slot for a new answer: a free one, else the least recently used's. */
static struct kept *
slot_for(struct answer_cache *c)
{
	struct kept *old;

	for (int i = 0; i < ANSWER_CACHE_ENTRIES; i++)
		if (c->e[i].key == NULL)
			return &c->e[i];
	old = oldest(c);
	let_go(c, old);
	return old;
}

/* Room for n more bytes: the least recently used let go first. */
static void
make_room(struct answer_cache *c, size_t n)
{
	struct kept *old;

	while (c->bytes + n > ANSWER_CACHE_BYTES && (old = oldest(c)) != NULL)
		let_go(c, old);
}

void
answer_cache_put(struct answer_cache *c, const char *key, const int64_t at[2],
    const char *buf, size_t len, double ms)
{
	struct kept *k;
	char	    *kc, *bc;

	if (c == NULL || ms < c->min_ms || len > ANSWER_CACHE_BYTES)
		return;
	kc = strdup(key);
	bc = malloc(len ? len : 1);
	if (kc == NULL || bc == NULL) {
		free(kc);
		free(bc);
		return;
	}
	memcpy(bc, buf, len);
	pthread_mutex_lock(&c->lock);
	if ((k = find(c, key)) != NULL)
		let_go(c, k);
	make_room(c, len);
	k = slot_for(c);
	*k = (struct kept) { .key = kc,
		.buf = bc,
		.len = len,
		.at = { at[0], at[1] },
		.made = time(NULL),
		.used = ++c->clock };
	c->bytes += len;
	pthread_mutex_unlock(&c->lock);
}
