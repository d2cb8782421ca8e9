/*
 * read_jobs.h - read --jobs N: N processes, each dissecting its share of
 * the connections (capture_opts' share_k of share_n) into one log.
 *
 * Every job reads every capture file (reading is a small part of a job's
 * work: doc/performance.md) but each file's SHA-256 is taken once, by the
 * job whose turn it is, and handed to the others through memory shared
 * across the fork: each job's run records the same digest.
 */
#ifndef MAILSIFT_READ_JOBS_H
#define MAILSIFT_READ_JOBS_H

#include <stdint.h>

#include "capture/capture.h"
#include "store/store.h"

/* What a job tells the parent when it ends. */
struct job_report {
	struct capture_stats cs;
	struct store_stats   ss;
	int		     status;
};

struct jobs;

/*
 * Forks n jobs that will read files numbered 0..nfiles-1.  Returns the
 * job's number (0..n-1) in a job, with *jp its handle; in the parent,
 * once every job has ended, -1 with their reports summed in *sum.
 */
int jobs_fork(int n, int nfiles, struct jobs **jp, struct job_report *sum);

/* Whether this job takes file i's digest (the others wait for it). */
int jobs_hashes_file(const struct jobs *, int i);
/* The digest of file i, taken here: sha256 NULL when the file was not
 * read whole (then the others record none either). */
void jobs_publish(struct jobs *, int i, const char *sha256, uint64_t size);
/* Every file from i on whose digest is this job's: none will come (the
 * job stopped reading), so that no other job waits for them. */
void jobs_publish_none_from(struct jobs *, int i);
/*
 * Waits for the digest of file i from the job that takes it: 0 with
 * sha256 (65 bytes) and *size set; -1 when there is none (the file was
 * not read whole there, or that job died).
 */
int jobs_digest(struct jobs *, int i, char *sha256, uint64_t *size);
/* Sends this job's report to the parent and lets the handle go. */
int jobs_end(struct jobs *, const struct job_report *);

#endif
