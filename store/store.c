/* \summary: the store: events to a log, through the backend that keeps it */
/*
 * store.h's calls forwarded to the backend chosen by the log's name.
 * The sink hands events to the backend's own thread (handoff.h); every
 * other call first waits for that thread to have written what it was
 * given, then runs on the caller's thread as before.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/handoff.h"
#include "store/store.h"

struct store {
	const struct store_backend *be;
	void			   *impl;
	struct handoff		   *ho; /* NULL: events go on directly */
	struct counts		   *counts;
};

/* The counts as the writer left them after its last batch (under mu),
 * and as the caller last read them. */
struct counts {
	pthread_mutex_t	   mu;
	struct store_stats snap, seen;
};

static const struct store_backend *const backends[] = {
	&store_backend_sqlite,
	&store_backend_pg,
};

/* A URI's scheme ("postgresql" of postgresql://...), or "" for a path. */
static size_t
scheme_len(const char *where)
{
	const char *colon = strstr(where, "://");

	if (colon == NULL)
		return 0;
	for (const char *p = where; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
			*p == '.'))
			return 0;
	return (size_t)(colon - where);
}

void
store_library_init(void)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (backends[i]->library_init != NULL)
			backends[i]->library_init();
}

const struct store_backend *
store_backend_for(const char *where, char *err, size_t errlen)
{
	size_t n;

	for (size_t i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (backends[i]->takes(where))
			return backends[i];
	n = scheme_len(where);
	snprintf(err, errlen,
	    "%.*s: no store backend for this kind of log "
	    "(SQLite files and postgresql:// databases)",
	    (int)(n ? n : strlen(where)), where);
	return NULL;
}

/* On the writer's thread, after each batch: the counts for store_stats
 * (the progress line, and whether the disk failed, read while events
 * are still being written). */
static void
snap_take(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->counts->mu);
	s->counts->snap = *s->be->stats(s->impl);
	pthread_mutex_unlock(&s->counts->mu);
}

/* Every event given is written: the backend is the caller's now. */
static void
settled(const struct store *s)
{
	if (s->ho != NULL)
		handoff_drain(s->ho);
}

struct store *
store_open(const struct store_opts *o, char *err, size_t errlen)
{
	const struct store_backend *be =
	    store_backend_for(o->path, err, errlen);
	struct store *s;

	if (be == NULL)
		return NULL;
	/* other processes write this SQLite log too: through a spool */
	if (o->shared && be == &store_backend_sqlite)
		be = &store_backend_sqlite_shared;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->be = be;
	if ((s->counts = calloc(1, sizeof(*s->counts))) == NULL ||
	    (s->impl = be->open(o, err, errlen)) == NULL) {
		if (s->counts == NULL)
			snprintf(err, errlen, "out of memory");
		free(s->counts);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->counts->mu, NULL);
	s->ho =
	    handoff_new(&(struct md_sink) { be->emit, s->impl }, snap_take, s);
	return s;
}

int
store_prepare(const struct store_opts *o, char *err, size_t errlen)
{
	const struct store_backend *be =
	    store_backend_for(o->path, err, errlen);

	return be == NULL ? -1 : be->prepare(o, err, errlen);
}

int
store_finish(const struct store_opts *o, char *err, size_t errlen)
{
	const struct store_backend *be =
	    store_backend_for(o->path, err, errlen);

	if (be == NULL)
		return -1;
	return be->finish != NULL ? be->finish(o, err, errlen) : 0;
}

void
store_sink(struct store *s, struct md_sink *sink)
{
	sink->emit = s->ho != NULL ? handoff_emit : s->be->emit;
	sink->arg = s->ho != NULL ? (void *)s->ho : s->impl;
}

void
store_set_capture_file(struct store *s, const char *path)
{
	settled(s);
	s->be->set_capture_file(s->impl, path);
}

void
store_add_capture(struct store *s, const struct store_capture *c)
{
	settled(s);
	s->be->add_capture(s->impl, c);
}

void
store_add_interval(struct store *s, const struct store_interval *iv)
{
	settled(s);
	s->be->add_interval(s->impl, iv);
}

int
store_rotate(struct store *s, const char *path, char *err, size_t errlen)
{
	settled(s);
	return s->be->rotate(s->impl, path, err, errlen);
}

int
store_rotate_ready(struct store *s, const char *path, char *err, size_t errlen)
{
	settled(s);
	return s->be->rotate_ready == NULL ?
	    0 :
	    s->be->rotate_ready(s->impl, path, err, errlen);
}

void
store_flush(struct store *s)
{
	settled(s);
	s->be->flush(s->impl);
}

int
store_take_over(const char *prev, int64_t *last_session, char *err,
    size_t errlen)
{
	return store_backend_sqlite.take_over(prev, last_session, err, errlen);
}

size_t
store_take_ended(struct store *s, int64_t *ids, size_t cap)
{
	settled(s);
	return s->be->take_ended != NULL ?
	    s->be->take_ended(s->impl, ids, cap) :
	    0;
}

void
store_settle(struct store *s)
{
	settled(s);
	s->be->settle(s->impl);
}

/*
 * Exact once the writer is idle (after store_settle, say); while it
 * writes, the counts of its last batch: no wait on the capture thread.
 */
const struct store_stats *
store_stats(const struct store *s)
{
	if (s->ho == NULL)
		return s->be->stats(s->impl);
	pthread_mutex_lock(&s->counts->mu);
	s->counts->seen =
	    handoff_idle(s->ho) ? *s->be->stats(s->impl) : s->counts->snap;
	pthread_mutex_unlock(&s->counts->mu);
	return &s->counts->seen;
}

long
store_run_id(const struct store *s)
{
	return s->be->run_id(s->impl);
}

int
store_health(const struct store *s, char *buf, size_t len)
{
	settled(s);
	buf[0] = '\0';
	return s->be->health != NULL ? s->be->health(s->impl, buf, len) : 0;
}

const char *
store_last_error(const struct store *s)
{
	settled(s);
	return s->be->last_error(s->impl);
}

int
store_close(struct store *s, int status)
{
	int rc;

	handoff_free(s->ho); /* its last events written */
	rc = s->be->close(s->impl, status);
	pthread_mutex_destroy(&s->counts->mu);
	free(s->counts);
	free(s);
	return rc;
}
