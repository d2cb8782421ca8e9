/* \summary: mailsift live: retention and sort indexes of rotated files */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "cli/live.h"
#include "store/query.h"
#include "store/store.h"

/* ---------------------------------------------------------- retention */

/* One rotation's files: the log (and -wal, -shm), the -w file, the
 * JSON logs rotated with it. */
struct group {
	time_t	 stamp;
	time_t	 last; /* its files' last write: when it ended */
	uint64_t bytes;
	char   **paths;
	size_t	 n;
};

struct pass {
	struct live_retention r;
	struct group	     *g;
	size_t		      ng;
	size_t		      first; /* the oldest rotation kept */
	uint64_t	      blob_bytes;
	uint64_t	      blobs_removed, blob_bytes_removed;
	char		    **wanted;  /* sorted: blobs the oldest kept log */
	size_t		      nwanted; /* carried over from a removed one */
};

static int
add_file(struct pass *p, time_t stamp, const char *path, uint64_t size,
    time_t mtime)
{
	struct group *g = NULL;
	char	    **np;

	for (size_t i = 0; i < p->ng; i++)
		if (p->g[i].stamp == stamp)
			g = &p->g[i];
	if (g == NULL) {
		struct group *ng = realloc(p->g, (p->ng + 1) * sizeof(*ng));

		if (ng == NULL)
			return -1;
		p->g = ng;
		g = &p->g[p->ng++];
		memset(g, 0, sizeof(*g));
		g->stamp = stamp;
	}
	if ((np = realloc(g->paths, (g->n + 1) * sizeof(*np))) == NULL)
		return -1;
	g->paths = np;
	if ((g->paths[g->n] = strdup(path)) == NULL)
		return -1;
	g->n++;
	g->bytes += size;
	if (mtime > g->last)
		g->last = mtime;
	return 0;
}

/*
 * The files of name's rotations in its folder: NAME-STAMP.EXT, with
 * -2, -3 (a name taken twice) and -wal, -shm after it.  every: any
 * NAME-STAMP.* (the JSON logs: smtp-STAMP.log, ...), name is the folder.
 */
static int
scan(struct pass *p, const char *name, int every)
{
	char	       dir[4096], stem[1024];
	const char    *slash = strrchr(name, '/');
	size_t	       sl = live_stem_len(name);
	const char    *ext = every ? "" : name + sl;
	DIR	      *d;
	struct dirent *e;

	if (every) {
		snprintf(dir, sizeof(dir), "%s", name);
		stem[0] = '\0';
	} else {
		snprintf(dir, sizeof(dir), "%.*s",
		    slash ? (int)(slash - name) : 1, slash ? name : ".");
		snprintf(stem, sizeof(stem), "%.*s",
		    (int)(sl - (slash ? (size_t)(slash + 1 - name) : 0)),
		    slash ? slash + 1 : name);
	}
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name, *after;
		char	    path[8300];
		struct stat sb;
		time_t	    t;

		if (every) { /* TYPE-STAMP.log */
			const char *dash = strrchr(n, '-');

			if (dash == NULL || (t = live_parse_stamp(dash)) < 0)
				continue;
			after = dash + 16;
		} else {
			if (strncmp(n, stem, strlen(stem)) != 0 ||
			    (t = live_parse_stamp(n + strlen(stem))) < 0)
				continue;
			after = n + strlen(stem) + 16;
			if (after[0] == '-' && after[1] >= '0' &&
			    after[1] <= '9')
				after += 1 + strspn(after + 1, "0123456789");
			if (strncmp(after, ext, strlen(ext)) != 0)
				continue;
			after += strlen(ext);
			if (*after != '\0' && strcmp(after, "-wal") != 0 &&
			    strcmp(after, "-shm") != 0)
				continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (add_file(p, t, path, (uint64_t)sb.st_size, sb.st_mtime) !=
		    0)
			break;
	}
	closedir(d);
	return 0;
}

static int
by_stamp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->stamp > y->stamp) - (x->stamp < y->stamp);
}

/* Calls fn on every blob file (dir/AB/hash): its path and stat. */
static void
each_blob(const char *dir,
    void (*fn)(struct pass *, const char *, const struct stat *),
    struct pass *p)
{
	DIR	      *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char	       sub[4400];
		DIR	      *s;
		struct dirent *f;

		if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if ((s = opendir(sub)) == NULL)
			continue;
		while ((f = readdir(s)) != NULL) {
			char	    path[4700];
			struct stat sb;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
			if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode))
				fn(p, path, &sb);
		}
		closedir(s);
	}
	closedir(d);
}

static void
count_blob(struct pass *p, const char *path, const struct stat *sb)
{
	(void)path;
	p->blob_bytes += (uint64_t)sb->st_size;
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The messages of the oldest log kept: a session open at its rotation
 * brought its messages so far along (sqlite_rotate.c), whose blobs were
 * last touched before that log began.
 */
static void
note_wanted(struct pass *p)
{
	const struct group *g;
	struct query	   *q;
	struct query_rows  *st;
	char		    err[512];

	if (p->first >= p->ng)
		return;
	g = &p->g[p->first];
	for (size_t i = 0; i < g->n; i++) {
		size_t l = strlen(g->paths[i]);

		if (l < 4 || strcmp(g->paths[i] + l - 4, "-wal") == 0 ||
		    strcmp(g->paths[i] + l - 4, "-shm") == 0 ||
		    (q = query_open(g->paths[i], err, sizeof(err))) == NULL)
			continue;
		if ((st = query_prepare(q,
			 "SELECT DISTINCT sha256 FROM messages"
			 " WHERE sha256 IS NOT NULL")) != NULL) {
			while (query_next(st) == 1) {
				char **w = realloc(p->wanted,
				    (p->nwanted + 1) * sizeof(*w));

				if (w == NULL)
					break;
				p->wanted = w;
				if ((w[p->nwanted] =
					    strdup(query_text(st, 0))) != NULL)
					p->nwanted++;
			}
			query_finish(st);
		}
		query_close(q);
	}
	if (p->nwanted > 0)
		qsort(p->wanted, p->nwanted, sizeof(*p->wanted), by_string);
}

/* A blob no remaining log was written after: its time is when a message
 * last wanted it (keep.c touches it when a message brings it again). */
static void
drop_old_blob(struct pass *p, const char *path, const struct stat *sb)
{
	time_t oldest = p->first < p->ng ? p->g[p->first].stamp : p->r.current;
	const char *name = strrchr(path, '/') + 1;

	if (sb->st_mtime >= oldest ||
	    (p->nwanted > 0 &&
		bsearch(&name, p->wanted, p->nwanted, sizeof(*p->wanted),
		    by_string) != NULL))
		return;
	if (unlink(path) == 0) {
		p->blobs_removed++;
		p->blob_bytes_removed += (uint64_t)sb->st_size;
	}
}

/* -x: messages and their parts' folders older than the bound. */
static uint64_t
drop_old_extracts(const char *dir, time_t before)
{
	DIR	      *d = opendir(dir);
	struct dirent *e;
	uint64_t       n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char	    path[4400];
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0 || sb.st_mtime >= before)
			continue;
		if (S_ISDIR(sb.st_mode)) { /* S-T.parts: its files, then it */
			DIR	      *s = opendir(path);
			struct dirent *f;

			while (s != NULL && (f = readdir(s)) != NULL) {
				char p2[4700];

				if (f->d_name[0] == '.')
					continue;
				snprintf(p2, sizeof(p2), "%s/%s", path,
				    f->d_name);
				unlink(p2);
			}
			if (s != NULL)
				closedir(s);
			n += rmdir(path) == 0;
		} else if (S_ISREG(sb.st_mode)) {
			n += unlink(path) == 0;
		}
	}
	closedir(d);
	return n;
}

static void say(const struct pass *p, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(const struct pass *p, int prio, const char *fmt, ...)
{
	char	line[1024];
	va_list ap;

	if (p->r.say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->r.say(p->r.arg, prio, line);
}

/* Removes the oldest rotations while past a bound: their end (the last
 * write to their files) older than keep_days, or everything over
 * keep_bytes.
 * Returns how many; *freed gets their bytes, *total what is left. */
static size_t
drop_old_rotations(struct pass *p, time_t now, uint64_t *freed, uint64_t *total)
{
	size_t n = 0;

	for (; p->first < p->ng && p->g[p->first].stamp < p->r.current;
	     p->first++, n++) {
		const struct group *g = &p->g[p->first];
		int		    old = p->r.keep_days > 0 &&
		    g->last < now - p->r.keep_days * 86400L;
		int big = p->r.keep_bytes > 0 && *total > p->r.keep_bytes;

		if (!old && !big)
			break;
		for (size_t i = 0; i < g->n; i++)
			unlink(g->paths[i]);
		*total -= g->bytes;
		*freed += g->bytes;
	}
	return n;
}

static void
pass_free(struct pass *p)
{
	for (size_t i = 0; i < p->ng; i++) {
		for (size_t j = 0; j < p->g[i].n; j++)
			free(p->g[i].paths[j]);
		free(p->g[i].paths);
	}
	free(p->g);
	for (size_t i = 0; i < p->nwanted; i++)
		free(p->wanted[i]);
	free(p->wanted);
	free(p);
}

static void *
retention_pass(void *arg)
{
	struct pass *p = arg;
	atomic_int  *running = p->r.running;
	time_t	     now = time(NULL);
	size_t	     logs = 0;
	uint64_t     freed = 0, total = 0, left;

	if (scan(p, p->r.output, 0) == 0 &&
	    (p->r.write[0] == '\0' || scan(p, p->r.write, 0) == 0) &&
	    (p->r.json[0] == '\0' || scan(p, p->r.json, 1) == 0)) {
		qsort(p->g, p->ng, sizeof(*p->g), by_stamp);
		if (p->r.blobs[0] != '\0' && p->r.keep_bytes > 0)
			each_blob(p->r.blobs, count_blob, p);
		total = p->blob_bytes;
		for (size_t i = 0; i < p->ng; i++)
			total += p->g[i].bytes;
		logs = drop_old_rotations(p, now, &freed, &total);
	}
	if (p->r.blobs[0] != '\0' && logs > 0) {
		note_wanted(p);
		each_blob(p->r.blobs, drop_old_blob, p);
	}
	if (logs > 0 || p->blobs_removed > 0)
		say(p, LOG_NOTICE,
		    "retention: removed %zu rotations (%.1f MB) and %llu "
		    "message blobs (%.1f MB) that no log left wants",
		    logs, (double)freed / 1e6,
		    (unsigned long long)p->blobs_removed,
		    (double)p->blob_bytes_removed / 1e6);
	if (p->r.extract[0] != '\0' && p->r.keep_days > 0) {
		uint64_t n = drop_old_extracts(p->r.extract,
		    now - p->r.keep_days * 86400L);

		if (n > 0)
			say(p, LOG_NOTICE,
			    "retention: removed %llu extracted files "
			    "older than %ld days",
			    (unsigned long long)n, p->r.keep_days);
	}
	left = total - p->blob_bytes_removed;
	if (p->r.keep_bytes > 0 && left > p->r.keep_bytes)
		say(p, LOG_WARNING,
		    "retention: %.1f MB kept, past --keep-size: the files in "
		    "use and the blobs their messages want are never removed",
		    (double)left / 1e6);
	pass_free(p);
	atomic_store(running, 0);
	return NULL;
}

int
live_retention_start(const struct live_retention *r)
{
	struct pass   *p;
	pthread_t      t;
	pthread_attr_t at;
	int	       expected = 0, rc;

	if (!atomic_compare_exchange_strong(r->running, &expected, 1))
		return 1;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		atomic_store(r->running, 0);
		return -1;
	}
	p->r = *r;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, retention_pass, p);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		free(p);
		atomic_store(r->running, 0);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------- sort indexes */

/*
 * A rotated log's sort indexes (what store_finish builds), by a thread
 * of the lowest priority: a log of a million messages takes some 5 s of
 * a core, which the capture must not wait for nor lose to.  Logs that
 * logrotate moved away are not given here: it may be compressing them.
 */

/* nice 19 and the best-effort class's last I/O level, for this thread
 * only (Linux applies both per thread); not the idle class, which a
 * disk the capture keeps busy would starve for good. */
static void
lowest_priority(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	setpriority(PRIO_PROCESS, (id_t)tid, 19);
	syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, tid,
	    (2 << 13) | 7 /* IOPRIO_CLASS_BE, level 7 */);
}

static void
index_one(struct live_indexer *ix, const char *path)
{
	struct store_opts so = { .path = path };
	struct stat	  sb;
	char		  err[4400], line[4600];

	if (stat(path, &sb) != 0) /* retention removed it meanwhile */
		return;
	if (store_finish(&so, err, sizeof(err)) != 0) {
		snprintf(line, sizeof(line), "%s: %s", path, err);
		ix->say(ix->arg, LOG_WARNING, line);
	}
}

static void *
indexer_main(void *arg)
{
	struct live_indexer *ix = arg;

	lowest_priority();
	pthread_mutex_lock(&ix->mu);
	for (;;) {
		char *path;

		while (ix->n == 0 && !ix->ending)
			pthread_cond_wait(&ix->cv, &ix->mu);
		if (ix->n == 0)
			break;
		path = ix->queue[ix->head];
		ix->head = (ix->head + 1) % LIVE_INDEX_QUEUE;
		ix->n--;
		pthread_mutex_unlock(&ix->mu);
		index_one(ix, path);
		free(path);
		pthread_mutex_lock(&ix->mu);
	}
	pthread_mutex_unlock(&ix->mu);
	return NULL;
}

void
live_indexer_init(struct live_indexer *ix,
    void (*said)(void *arg, int prio, const char *line), void *arg)
{
	memset(ix, 0, sizeof(*ix));
	pthread_mutex_init(&ix->mu, NULL);
	pthread_cond_init(&ix->cv, NULL);
	ix->say = said;
	ix->arg = arg;
}

/* The thread, without the signals the capture loop waits for (a stop,
 * SIGHUP): delivered to it, they would not end the loop's wait. */
static int
indexer_start(struct live_indexer *ix)
{
	sigset_t loops, old;

	sigemptyset(&loops);
	sigaddset(&loops, SIGINT);
	sigaddset(&loops, SIGTERM);
	sigaddset(&loops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &loops, &old);
	ix->started = pthread_create(&ix->thread, NULL, indexer_main, ix) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ix->started ? 0 : -1;
}

void
live_indexer_add(struct live_indexer *ix, const char *path)
{
	char *copy = strdup(path);
	char  line[4600];

	if (copy == NULL || (!ix->started && indexer_start(ix) != 0)) {
		free(copy);
		snprintf(line, sizeof(line),
		    "%s: its sort indexes were not built (no memory or "
		    "thread for it): its sorts by a column read every row",
		    path);
		ix->say(ix->arg, LOG_WARNING, line);
		return;
	}
	pthread_mutex_lock(&ix->mu);
	if (ix->n == LIVE_INDEX_QUEUE) { /* rotations far faster than a
					  * build: the oldest waits no more */
		snprintf(line, sizeof(line),
		    "%s: its sort indexes were not built (rotations come "
		    "faster than they are): its sorts by a column read "
		    "every row",
		    ix->queue[ix->head]);
		ix->say(ix->arg, LOG_WARNING, line);
		free(ix->queue[ix->head]);
		ix->head = (ix->head + 1) % LIVE_INDEX_QUEUE;
		ix->n--;
	}
	ix->queue[(ix->head + ix->n) % LIVE_INDEX_QUEUE] = copy;
	ix->n++;
	pthread_cond_signal(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
}

void
live_indexer_end(struct live_indexer *ix)
{
	if (ix->started) {
		pthread_mutex_lock(&ix->mu);
		ix->ending = 1;
		pthread_cond_signal(&ix->cv);
		pthread_mutex_unlock(&ix->mu);
		pthread_join(ix->thread, NULL);
	}
	pthread_cond_destroy(&ix->cv);
	pthread_mutex_destroy(&ix->mu);
}
