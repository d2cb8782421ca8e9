/*
 * receiver.h - where a spooled store ships its rows (store/spool/spooled.c).
 *
 * A spooled store writes a local SQLite spool (sqlite_spool.h) and, about
 * once a second, hands what changed to a receiver in one transaction:
 * PostgreSQL (pg.c), or a SQLite log that other processes write at the
 * same time (sqlite_ship.c: the workers of read --jobs and live
 * --workers).  Every write is an upsert by key, so a batch shipped twice
 * changes nothing.  Ids are unique across writers: a run's rows get
 * run_id * 2^32 + their id in the spool.
 */
#ifndef MAILSIFT_RECEIVER_H
#define MAILSIFT_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "store/sqlite/sqlite_spool.h"

/* What a spool column's values become on the receiver. */
enum spool_role {
	ROLE_PLAIN,
	ROLE_ID,   /* an id: run_id * 2^32 + the spool's */
	ROLE_RUN,  /* the run's id */
	ROLE_TIME, /* epoch seconds */
	ROLE_BYTES
};

struct receiver {
	const char *name; /* for messages: "PostgreSQL" */
	/* Connects to where; with create, a log without tables gets them
	 * (one of another schema version is refused).  NULL, err set. */
	void *(
	    *connect)(const char *where, int create, char *err, size_t errlen);
	void (*disconnect)(void *);
	int (*alive)(void *);
	/* A new run's id, from the receiver (unique across writers). */
	int64_t (*new_run)(void *, char *err, size_t errlen);
	/* Everything sp's outbox holds, in one transaction; kept bytes
	 * from blob_dir (NULL: none) go with it.  0, or -1 with err set and
	 * nothing written.  The caller forgets the outbox after 0. */
	int (*ship)(void *, struct spool *sp, const char *spool_path,
	    int64_t run, const char *sensor, const char *blob_dir, char *err,
	    size_t errlen);
	/* ship takes small messages' kept bytes from the spool's
	 * blob_bytes, as a log keeps them; else every kept message is a
	 * file of blob_dir */
	int takes_blob_bytes;
	/* A run whose writer was killed (its spool left behind, now
	 * shipped): its row finished with status -1, its open sessions
	 * ended as 'killed'.  now: the wall clock, as runs.finished has it. */
	void (*end_killed)(void *, int64_t run, const char *now);
};

extern const struct receiver receiver_pg;
extern const struct receiver receiver_sqlite;

/* The tables a spool ships, parents first. */
extern const char *const spool_tables[];
extern const int	 spool_ntables;

enum spool_role spool_role_of(const char *table, const char *col);
/* The receiver's name of a spool column (a keyless table's rowid). */
const char *spool_receiver_col(const char *table, const char *col);

#endif
