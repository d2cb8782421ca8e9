/* \summary: one run's flow: capture -> assembler -> MIME tap -> store */
#include <sys/resource.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/pipeline.h"
#include "dissect/mime.h"

/*
 * Every message still arriving, and every end waiting for its digests
 * (AN_END_MAX of them), may hold a file open (its kept bytes, --extract's
 * copies): the soft limit on open files, 1024 for a systemd service, is
 * raised to the hard one, at most 65,536.  read and live poll their
 * descriptors and never select() them (serve, whose HTTP library does,
 * is left as it is).
 */
static void
open_files_raise(void)
{
	struct rlimit rl;
	rlim_t	      want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ?
	    65536 :
	    rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		(void)setrlimit(RLIMIT_NOFILE, &rl); /* or as it was */
	}
}

/* libnids ran out of memory: the log is closed as a signal would. */
static void
close_log(void *st)
{
	store_close(st, EXIT_NO_MEMORY);
}

int
pipeline_open(struct pipeline *p, const struct store_opts *so,
    struct capture_opts *co, char *err, size_t errlen)
{
	*p = (struct pipeline) { 0 };
	open_files_raise();
	if ((p->st = store_open(so, err, errlen)) == NULL)
		return PIPELINE_ERR_STORE;
	store_sink(p->st, &p->store_in);
	if ((p->tap = mime_tap_new(&p->store_in)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	mime_tap_sink(p->tap, &p->tap_in);
	if ((p->pieces = assembler_new(&p->tap_in)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	assembler_sink(p->pieces, &co->sink);
	co->on_no_mem = close_log;
	co->no_mem_arg = p->st;
	if (capture_init(co, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	pipeline_close(p, EXIT_USAGE);
	return PIPELINE_ERR_OTHER;
}

void
pipeline_drain(struct pipeline *p)
{
	assembler_free(p->pieces); /* into the tap */
	p->pieces = NULL;
	mime_tap_free(p->tap); /* into the store */
	p->tap = NULL;
}

int
pipeline_close(struct pipeline *p, int status)
{
	int r;

	pipeline_drain(p);
	r = p->st != NULL ? store_close(p->st, status) : 0;
	p->st = NULL;
	return r;
}
