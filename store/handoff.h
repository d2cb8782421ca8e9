/*
 * handoff.h - the store's events on a thread of their own.
 *
 * The capture thread (capture, reassembly, dissection, MIME) and the
 * writer (rows, the full-text index, commits) each take about half of
 * a run on small mail; one after the other on one core they leave the
 * second idle.  The hand-off copies each event, with the bytes and the
 * flow it points to, into a chunk; full chunks go to the writer's
 * thread, which gives them to the backend's emit in the order they came.
 *
 * Everything else a caller asks of the store waits first for the writer
 * to have written every event given (handoff_drain): then the backend
 * is idle and the caller's thread may use it, as before.  The writer's
 * thread starts with the first event, after the process entered its
 * sandbox, so that it is confined as the capture thread is.  Where it
 * cannot start, events go to the backend directly.
 */
#ifndef MAILSIFT_HANDOFF_H
#define MAILSIFT_HANDOFF_H

#include "dissect/dissect.h"

struct handoff;

/* A hand-off to the sink to (copied); after(after_arg), when not NULL,
 * runs on the writer's thread after each batch of events.  NULL: no
 * memory. */
struct handoff *handoff_new(const struct md_sink *to, void (*after)(void *),
    void					 *after_arg);
/* The sink's emit (arg: the handoff): the event is copied and queued;
 * returns 0 (the backends never ask a dissector to stop). */
int handoff_emit(void *arg, const struct md_event *ev);
/* Returns once every event given has been written by the backend; the
 * backend is then idle until the next handoff_emit. */
void handoff_drain(struct handoff *);
/* Whether the writer is idle with nothing queued: the backend's own
 * state may be read from this thread without a drain. */
int handoff_idle(struct handoff *);
/* Drains, stops the thread, frees. */
void handoff_free(struct handoff *);

#endif
