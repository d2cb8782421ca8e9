/*
 * live.h - what mailsift live keeps apart from its loop: the files of a
 * sensor that rotates (names, the current link, retention: live_files.c)
 * and its health for monitoring (metrics file, link state:
 * live_health.c).
 */
#ifndef MAILSIFT_LIVE_H
#define MAILSIFT_LIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* live_names.c */
/* Where NAME's extension begins (strlen when it has none). */
size_t live_stem_len(const char *name);
/* "-YYYYmmddTHHMMSS" at p (as live_stamped writes it): its time (UTC);
 * -1 when p is not that. */
time_t live_parse_stamp(const char *p);
/* YYYYmmddTHHMMSS (UTC): the stamp in every rotated name. */
#define LIVE_STAMP_LEN 32
void live_stamp(time_t t, char out[LIVE_STAMP_LEN]);
/* NAME.EXT -> NAME-YYYYmmddTHHMMSS.EXT (UTC; .db when NAME has none). */
void live_stamped(const char *name, const char *no_ext, time_t t, char *out,
    size_t len);
/* NAME.EXT -> NAME-wK.pcap (tail: "-wK.pcap"): a worker's -w file. */
void live_stamped_worker(const char *name, const char *tail, char *out,
    size_t len);
/* The next boundary after now of a period of every seconds, aligned to
 * local midnight (1d: midnight; 1h: the hour; 15m: :00, :15, ...). */
time_t live_next_boundary(time_t now, uint64_t every);
/*
 * Points the stable name link (LOG.db) at target (the file in use) by
 * a relative symbolic link, replaced atomically.  0; 1 when link is a
 * file of its own (an earlier log: never replaced); -1 with err set.
 */
int live_point_current(const char *link, const char *target, char *err,
    size_t errlen);

/* live_files.c */
/* What retention removes, by age and by size, in a thread of its own
 * (a folder of a million blobs must not hold the capture loop). */
struct live_retention {
	char	    output[4096];  /* LOG.db, as given to -o */
	char	    write[4096];   /* -w FILE as given, or "" */
	char	    blobs[4200];   /* the shared blob store, or "" */
	char	    extract[4096]; /* -x DIR, or "" */
	char	    json[4096];	   /* --json-dir DIR, or "" */
	time_t	    current;	   /* the stamp of the files in use: kept */
	long	    keep_days;	   /* 0: no bound by age */
	uint64_t    keep_bytes;	   /* 0: no bound by size */
	atomic_int *running;	   /* the caller's: one pass at a time */
	/* says what was removed (called from the thread) */
	void (*say)(void *arg, int prio, const char *line);
	void *arg;
};
/* Starts a pass unless one still runs (then 1); 0 started, -1 not.
 * The thread reads only its copy of r. */
int live_retention_start(const struct live_retention *);

/* The sort indexes of the logs --rotate closes, built in a thread of
 * the lowest priority, one log after another (live_indexer_add queues
 * one; live_indexer_end builds what is queued, then joins). */
#define LIVE_INDEX_QUEUE 8
struct live_indexer {
	pthread_mutex_t mu;
	pthread_cond_t	cv;
	pthread_t	thread;
	int		started, ending;
	char	       *queue[LIVE_INDEX_QUEUE]; /* paths, a ring */
	int		head, n;
	/* says a log left without them (called from either thread) */
	void (*say)(void *arg, int prio, const char *line);
	void *arg;
};
void live_indexer_init(struct live_indexer *,
    void (*say)(void *arg, int prio, const char *line), void *arg);
void live_indexer_add(struct live_indexer *, const char *path);
void live_indexer_end(struct live_indexer *);

/* live_health.c */
/* --metrics FILE: Prometheus' text format, replaced atomically (for
 * node_exporter's textfile collector, or any scraper of files). */
struct live_metric {
	const char *name, *help, *type; /* type: counter or gauge */
	const char *labels;		/* {proto="smtp"} or NULL */
	double	    value;
};
int live_write_metrics(const char *path, const struct live_metric *, size_t n,
    char *err, size_t errlen);
/* A socket to ask the interface's flags through, opened before the
 * sandbox allows no new one; -1 when none could be had. */
int live_link_open(void);
/* The interface's state: 1 up and running, 0 down, -1 unknown (any). */
int live_link_state(int fd, const char *iface);

#endif
