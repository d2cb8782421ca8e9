/*
 * pipeline.h - the whole flow of a run, in one place:
 *
 *   capture (libpcap, libnids) -> dissectors -> assembler -> MIME tap
 *       -> store
 *
 * The assembler joins messages fetched in pieces, the MIME tap adds the
 * parts and text of every message, the store writes the log.  read and
 * live differ only in what drives the capture between open and close.
 */
#ifndef MAILSIFT_PIPELINE_H
#define MAILSIFT_PIPELINE_H

#include <stddef.h>

#include "capture/capture.h"
#include "dissect/dissect.h"
#include "store/store.h"

struct pipeline {
	struct store	 *st;
	struct mime_tap	 *tap;
	struct assembler *pieces;
	struct md_sink	  store_in, tap_in;
};

#define PIPELINE_ERR_STORE -1 /* the log could not be opened */
#define PIPELINE_ERR_OTHER -2 /* memory, or the capture layer */

/*
 * Opens the store, the stages in front of it, and the capture layer
 * (capture_init with co, whose sink and out-of-memory hook it sets).
 * Returns 0, or PIPELINE_ERR_* with err set and everything it opened
 * closed again, in reverse.
 */
int pipeline_open(struct pipeline *, const struct store_opts *,
    struct capture_opts *co, char *err, size_t errlen);

/* After capture_finish: the stages flush what they hold into the store
 * and are freed.  Called again, does nothing. */
void pipeline_drain(struct pipeline *);

/* Drains, then closes the store with the run's exit status; returns
 * store_close's result. */
int pipeline_close(struct pipeline *, int status);

#endif
