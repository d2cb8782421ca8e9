/*
 * store.h - the sink that turns dissector events into the log's rows,
 * hashes message bytes as they stream and, on request, writes each
 * message to an .eml file.
 */
#ifndef MAILSIFT_STORE_H
#define MAILSIFT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"

#define STORE_SCHEMA_VERSION 7
#define PG_SPOOL_HINT	     "/var/tmp/mailsift" /* the default spool */
#define SPOOL_MAX_MB	     2048 /* the default bound of a spool */

struct store;

struct store_stats {
	uint64_t sessions;
	uint64_t by_proto[MD_PROTOS]; /* sessions, by enum md_proto_id */
	uint64_t tls_sessions;
	uint64_t commands;
	uint64_t transactions;
	uint64_t messages; /* whole messages, as the listings count them */
	uint64_t messages_complete;
	uint64_t pieces; /* parts of messages fetched alone: POP3 TOP, IMAP
			    BODY[1] and partial FETCH (messages.partial) */
	uint64_t message_bytes;
	uint64_t auth;
	uint64_t auth_clear; /* a password crossed in clear */
	uint64_t anomalies;
	uint64_t errors;	  /* SQLite or extraction failures */
	uint64_t storage_failed;  /* one of them was the disk: full, or
				     failing (ENOSPC, EIO, SQLITE_FULL); a
				     uint64_t as all fields (--jobs sums them) */
	uint64_t messages_logged; /* of messages, those committed to the log */
	uint64_t messages_lost;	  /* those a failed COMMIT rolled back */
	uint64_t commits;	  /* COMMITs that succeeded */
	uint64_t storage_failing; /* the last COMMIT failed for the disk
				     (storage_failed stays once set) */
	uint64_t commit_unconfirmed; /* the disk failed after a COMMIT had
					succeeded, before a sync of the whole
					file system confirmed it: that
					commit may not be on the disk */
	uint64_t yara_scans;	     /* objects scanned (--yara) */
	uint64_t yara_matches;	     /* rule matches */
	uint64_t yara_budget;	     /* scans cut by time or size */
};

struct store_opts {
	const char *path;
	const char *extract_dir;  /* NULL: no .eml files */
	int	    force;	  /* replace an existing log */
	int	    no_keep;	  /* do not keep message bytes beside the log */
	const char *blob_dir;	  /* where they are kept (NULL: LOG.blobs);
				   * live --rotate: one for all its files */
	int		    sha1; /* parts get a SHA-1 beside MD5 and SHA-256 */
	const char	   *yara; /* --yara: the rules' file, for the CLI */
	const struct rules *rules; /* those rules compiled (rules.h), or
				    * NULL: parts and messages are scanned */
	int	    redact;	   /* store no passwords or bearer tokens */
	const char *command;	   /* recorded in runs.command */
	const char *sensor;	   /* PostgreSQL: this sensor's name (NULL:
				    * the host name) */
	const char *spool_dir;	   /* PostgreSQL: where rows wait for the
				    * server (NULL: PG_SPOOL_HINT) */
	long spool_max_mb;	   /* the spool's bound (0: SPOOL_MAX_MB):
				    * past it, new sessions are not logged */
	int	track_ended;	   /* for store_take_ended (live --json-dir) */
	int64_t session_base; /* session ids above this (store_take_over) */
	int	spool;	      /* this store is a spool (spooled.c):
			       * its runs.blobs would name a folder
			       * that does not last */
	int spool_blob_bytes; /* a spool whose receiver takes small
			       * messages' bytes from its blob_bytes */
	int shared;	      /* other processes write the log at the
			       * same time (workers): rows go through a
			       * spool (SQLite: LOG.spool/) */
};

/*
 * Opens (or creates, or with force replaces) the log at opts->path and
 * starts a run (a runs row with the command line).  A log of another
 * schema version is refused, except version 5, upgraded in place.
 * Returns the store, or NULL with err set; nothing is left behind then.
 */
struct store *store_open(const struct store_opts *, char *err, size_t errlen);
/*
 * live --rotate, before store_open: the SQLite log an earlier run wrote
 * last (prev) has a run killed there closed (runs.status -1, its open
 * sessions 'killed'), and *last_session gets its highest session id, for
 * store_opts.session_base.  0; -1 with err set (not a log we write).
 */
int store_take_over(const char *prev, int64_t *last_session, char *err,
    size_t errlen);
/* The sink that writes events into this store; valid until store_close.
 * Events are committed in batches (at least once a second of capture or
 * wall time); a sink error is counted (store_stats.errors), never fatal. */
void store_sink(struct store *, struct md_sink *);
/* Sessions that begin from now on cite this capture file (path kept
 * by pointer: it must live until the next call or store_close). */
void store_set_capture_file(struct store *, const char *);
/* A capture file read: its packets' count and times, its link type;
 * a regular file is hashed (SHA-256) for the record. */
struct store_capture {
	const char *path;
	uint64_t    packets;
	uint64_t    first_us, last_us;
	const char *link_type;
	int	    damaged;
	int	    fd;	    /* >= 0: read the file from this descriptor (opened
			     * before privileges were dropped; 0 is valid when
			     * standard input was closed); -1: open path */
	const char *sha256; /* the file's digest (hex) and size, worked out
			     * as it was read; NULL: the store reads it */
	uint64_t size;
};
/* Records a capture file read by this run (the inputs table). */
void store_add_capture(struct store *, const struct store_capture *);
/* A row of capture_stats: what a run read and lost in an interval of
 * wall time, or in the whole run. */
struct store_interval {
	uint64_t since_us, until_us; /* wall clock, Unix microseconds */
	int	 total;		     /* the whole run */
	uint64_t packets, bytes;
	int	 live; /* the kernel counters are known */
	uint64_t kernel_received, kernel_dropped, if_dropped;
	uint64_t gap_bytes, streams_evicted, detect_over_budget, reserved_v4;
	uint64_t store_errors, messages_lost; /* live: the log's own losses */
};
void store_add_interval(struct store *, const struct store_interval *);
/* Makes the log ready for several writers that start at once (read
 * --jobs, live --workers): created, or with force replaced, and its
 * tables made, with no run of its own.  0, or -1 with err set. */
int store_prepare(const struct store_opts *, char *err, size_t errlen);
/* After those writers have all ended, or on a log live --rotate closed:
 * what one writer does as it closes the log (SQLite's sort indexes).
 * 0, or -1 with err set. */
int store_finish(const struct store_opts *, char *err, size_t errlen);
/*
 * Ends the run with its exit status: sessions still open end as
 * "capture ended", the last batch is committed, kept message bytes are
 * named by their hashes, temporary files removed; frees the store.
 * Returns 0, or -1 when the last writes failed (the log holds what was
 * committed before).  Safe to call from the out-of-memory hook.
 */
int store_close(struct store *, int status);
/*
 * Goes on in a new log file at path (--rotate; SIGHUP after logrotate
 * moved the log): the current log is committed and closed, the sessions
 * still open are carried into the new one, and the old file keeps them
 * with end_reason 'rotated'.  Returns 0; or -1 with err set, when the
 * store is left without a log and must be closed.
 */
/* Before anything else in the process: the libraries the stores use,
 * set up as they run fastest (see each backend). */
void store_library_init(void);
int  store_rotate(struct store *, const char *path, char *err, size_t errlen);
/*
 * Makes what a rotation to path needs (SQLite: the file with its
 * schema) while the log in use is still in use, so that a full disk
 * finds the store still writing there, not without a log: 0, or -1
 * with err said (nothing made is left).
 */
int store_rotate_ready(struct store *, const char *path, char *err,
    size_t errlen);
/* Commits what is pending now (live: at least once a second). */
void store_flush(struct store *);
/* Waits for the digests and content work of every message and part that
 * ended and writes their rows: before a run's last counts are read. */
void store_settle(struct store *);
/* With store_opts.track_ended: the ids of sessions that ended and whose
 * rows are all committed (digests written), in the order they ended,
 * each once; at most cap a call (SQLite logs only: 0 elsewhere). */
size_t store_take_ended(struct store *, int64_t *ids, size_t cap);
/* Counts of this run so far; valid until store_close. */
const struct store_stats *store_stats(const struct store *);
/* A store that cannot write where it should (a PostgreSQL server away,
 * rows waiting in the spool) says so in buf and returns 1; else 0. */
int store_health(const struct store *, char *buf, size_t len);
/* The last SQLite or file error, for a message; "" when none. */
const char *store_last_error(const struct store *);
/* This run's id in the runs table. */
long store_run_id(const struct store *);

#endif
