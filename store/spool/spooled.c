/* \summary: a store that writes a local spool and ships it to a receiver */
/*
 * Rows are built once, by the SQLite store, into a spool file of this
 * process (SPOOL/mailsift-spool-PID.db); sqlite_spool.c records the keys
 * each commit changed, and about once a second what changed goes to the
 * receiver (receiver.h) in one transaction.  The receiver is PostgreSQL
 * (-o postgresql://...), or a SQLite log that other processes write at
 * the same time (the workers of read --jobs and live --workers).
 *
 * A receiver that goes away loses nothing: the outbox keeps growing in
 * the spool file and the first transaction that succeeds takes it all.
 * A spool left by a run that died (or ended while the receiver was away)
 * is shipped by the next run that writes to the same log.  Sessions that
 * ended and were shipped leave the spool every 30 s, so a long run's
 * spool stays as small as its open sessions.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/backend.h"
#include "store/owner.h"
#include "store/spool/receiver.h"
#include "store/sqlite/sqlite_spool.h"

#define SHIP_WALL_US 1000000  /* ship at most once a second */
#define RETRY_US     5000000  /* a receiver away: try again after */
#define PRUNE_US     30000000 /* shipped sessions leave the spool */

/* every table of tables.def, in its order (parents first) */
const char *const spool_tables[] = {
#define TABLE(name, kind) #name,
#include "store/tables.def"
#undef TABLE
};
const int spool_ntables = (int)(sizeof(spool_tables) / sizeof(*spool_tables));

struct spooled {
	const struct receiver *rcv;
	void		      *sq; /* the SQLite store writing the spool */
	struct spool	      *spool;
	void		      *conn; /* the receiver's connection, or NULL */
	char		      *where;
	char		       spool_path[4096];
	char		       blob_dir[4200];
	char		       sensor[256];
	int64_t		       run;
	uint64_t	       last_ship, next_try, last_prune;
	uint64_t	       down_since; /* wall time the receiver went */
	uint64_t	       events;
	int		       down; /* the receiver is away: rows wait */
	/* the spool's bound: past it, sessions that begin are not logged
	 * (those under way go on), until it is back under */
	uint64_t max_bytes;
	int	 full;
	uint64_t refused; /* sessions not logged, spool full */
	uint64_t refused_from[64], refused_to[64]; /* their flow ids */
	int	 nrefused;
	char	 error[600];
};

enum spool_role
spool_role_of(const char *table, const char *col)
{
	size_t n = strlen(col);

	if (strcmp(col, "run_id") == 0 ||
	    (strcmp(table, "runs") == 0 && strcmp(col, "id") == 0))
		return ROLE_RUN;
	if (strcmp(col, "id") == 0 || strcmp(col, "session_id") == 0 ||
	    strcmp(col, "message_id") == 0 || strcmp(col, "rowid") == 0)
		return ROLE_ID;
	if (strcmp(col, "ts") == 0 ||
	    (n > 3 && strcmp(col + n - 3, "_ts") == 0) ||
	    strcmp(col, "not_before") == 0 || strcmp(col, "not_after") == 0)
		return ROLE_TIME;
	if (strcmp(col, "der") == 0)
		return ROLE_BYTES;
	return ROLE_PLAIN;
}

const char *
spool_receiver_col(const char *table, const char *col)
{
	if (strcmp(col, "rowid") != 0)
		return col;
	return strcmp(table, "message_text") == 0 ? "message_id" : "id";
}

static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
remove_tree2(const char *p)
{
	DIR	      *d, *sub;
	struct dirent *e, *f;

	if ((d = opendir(p)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char q[4600];

		if (e->d_name[0] == '.')
			continue;
		snprintf(q, sizeof(q), "%s/%s", p, e->d_name);
		if ((sub = opendir(q)) != NULL) {
			while ((f = readdir(sub)) != NULL) {
				char r[4900];

				if (f->d_name[0] == '.')
					continue;
				snprintf(r, sizeof(r), "%s/%s", q, f->d_name);
				unlink(r);
			}
			closedir(sub);
			rmdir(q);
		} else {
			unlink(q);
		}
	}
	closedir(d);
	rmdir(p);
}

static void
remove_spool_files(const char *path)
{
	char p[4300];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s.blobs", path);
	remove_tree2(p);
}

/* Ships a spool file left by a run that ended (or died) before the
 * receiver took everything; removes it when the receiver has it all.
 * 1: the file is another log's. */
static int
ship_file(const struct receiver *rcv, void *c, const char *path,
    const char *where, int64_t *runp, char *err, size_t errlen)
{
	struct spool *sp;
	char	      target[4096], run[32], sensor[256], blobs[4200];
	int	      rc;

	if ((sp = spool_open_file(path, spool_tables, spool_ntables, err,
		 errlen)) == NULL)
		return -1;
	if (spool_meta_get(sp, "where", target, sizeof(target)) != 0 ||
	    strcmp(target, where) != 0 ||
	    spool_meta_get(sp, "run", run, sizeof(run)) != 0) {
		spool_close(sp);
		return 1;
	}
	if (spool_meta_get(sp, "sensor", sensor, sizeof(sensor)) != 0)
		sensor[0] = '\0';
	snprintf(blobs, sizeof(blobs), "%s.blobs", path);
	*runp = strtoll(run, NULL, 10);
	rc = rcv->ship(c, sp, path, *runp, sensor, blobs, err, errlen);
	if (rc == 0)
		rc = spool_forget(sp);
	spool_close(sp);
	if (rc == 0)
		remove_spool_files(path);
	return rc;
}

/* Spools in dir of runs no longer alive (mailsift-spool-PID.db). */
static void
ship_leftovers(const struct receiver *rcv, void *c, const char *dir,
    const char *where)
{
	DIR	      *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char	path[4400], err[600], now[32], *end;
		long	pid;
		int64_t run;
		size_t	n = strlen(e->d_name);
		int	rc;

		if (strncmp(e->d_name, "mailsift-spool-", 15) != 0 || n < 19 ||
		    strcmp(e->d_name + n - 3, ".db") != 0)
			continue;
		pid = strtol(e->d_name + 15, &end, 10);
		if (end != e->d_name + n - 3 || pid == (long)getpid() ||
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue; /* a run still writing it */
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = ship_file(rcv, c, path, where, &run, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "mailsift: %s: not shipped yet: %s\n",
			    path, err);
		} else if (rc == 0) {
			/* a run that ended cleanly has finished set: this
			 * changes only a killed one's rows */
			owner_clock(now, sizeof(now));
			rcv->end_killed(c, run, now);
			fprintf(stderr,
			    "mailsift: shipped %s, left by an earlier run\n",
			    path);
		}
	}
	closedir(d);
}

/* Whether the spool has grown past its bound: its pages in use (the
 * file keeps its size once rows leave), checked as rows ship. */
static void
check_bound(struct spooled *s)
{
	s->full = spool_used_bytes(s->spool) > (int64_t)s->max_bytes;
}

/* A session that begins while the spool is full is refused whole: its
 * flow id is noted (ranges, since ids grow) and its events dropped. */
static int
refused(struct spooled *s, const struct md_event *ev)
{
	uint64_t id = ev->flow->id;

	if (ev->type == MD_EV_SESSION_BEGIN && s->full) {
		int last = s->nrefused - 1;

		s->refused++;
		if (last >= 0 && s->refused_to[last] + 1 == id)
			s->refused_to[last] = id;
		else if (s->nrefused < 64) {
			s->refused_from[s->nrefused] = id;
			s->refused_to[s->nrefused++] = id;
		} else
			s->refused_to[last] = id; /* merged: a wider range */
		return 1;
	}
	for (int i = s->nrefused - 1; i >= 0; i--)
		if (id >= s->refused_from[i] && id <= s->refused_to[i])
			return 1;
	return 0;
}

static void
went_down(struct spooled *s, uint64_t now)
{
	if (!s->down)
		s->down_since = now;
	s->down = 1;
	s->next_try = now + RETRY_US;
}

static void
ship_now(struct spooled *s)
{
	uint64_t now = wall_us();

	store_backend_sqlite.flush(s->sq);
	s->last_ship = now;
	check_bound(s);
	if (s->conn != NULL && !s->rcv->alive(s->conn)) {
		s->rcv->disconnect(s->conn);
		s->conn = NULL;
	}
	if (s->conn == NULL) {
		if (now < s->next_try)
			return;
		s->conn =
		    s->rcv->connect(s->where, 0, s->error, sizeof(s->error));
		if (s->conn == NULL) {
			went_down(s, now);
			return;
		}
	}
	if (s->rcv->ship(s->conn, s->spool, s->spool_path, s->run, s->sensor,
		s->blob_dir[0] ? s->blob_dir : NULL, s->error,
		sizeof(s->error)) != 0) {
		went_down(s, now);
		return;
	}
	if (spool_forget(s->spool) != 0) {
		snprintf(s->error, sizeof(s->error), "%s",
		    spool_error(s->spool));
		return;
	}
	s->down = 0;
	s->error[0] = '\0';
	/* what the receiver has, the spool need not keep (live runs long) */
	if (now - s->last_prune >= PRUNE_US) {
		s->last_prune = now;
		if (spool_prune(s->spool) != 0)
			snprintf(s->error, sizeof(s->error), "%s",
			    spool_error(s->spool));
	}
}

static void
spooled_free(struct spooled *s)
{
	spool_close(s->spool);
	if (s->conn != NULL)
		s->rcv->disconnect(s->conn);
	free(s->where);
	free(s);
}

static void *
spooled_open(const struct receiver *rcv, const struct store_opts *o,
    const char *dir, char *err, size_t errlen)
{
	struct spooled	 *s = calloc(1, sizeof(*s));
	struct store_opts so = *o;
	char		  num[32];

	if (s == NULL || (s->where = strdup(o->path)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->rcv = rcv;
	s->max_bytes =
	    (uint64_t)(o->spool_max_mb > 0 ? o->spool_max_mb : SPOOL_MAX_MB)
	    << 20;
	if (o->sensor != NULL)
		snprintf(s->sensor, sizeof(s->sensor), "%s", o->sensor);
	else if (gethostname(s->sensor, sizeof(s->sensor) - 1) != 0)
		snprintf(s->sensor, sizeof(s->sensor), "unknown");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s (the spool): %s", dir,
		    strerror(errno));
		goto fail;
	}
	if ((s->conn = rcv->connect(o->path, 1, err, errlen)) == NULL)
		goto fail;
	ship_leftovers(rcv, s->conn, dir, s->where);
	if ((s->run = rcv->new_run(s->conn, err, errlen)) < 0)
		goto fail;
	snprintf(s->spool_path, sizeof(s->spool_path),
	    "%s/mailsift-spool-%ld.db", dir, (long)getpid());
	if (!o->no_keep)
		snprintf(s->blob_dir, sizeof(s->blob_dir), "%s.blobs",
		    s->spool_path);
	so.path = s->spool_path;
	so.force = 1;
	so.spool = 1;
	so.spool_blob_bytes = rcv->takes_blob_bytes;
	if ((s->sq = store_backend_sqlite.open(&so, err, errlen)) == NULL)
		goto fail;
	snprintf(num, sizeof(num), "%lld", (long long)s->run);
	if ((s->spool = spool_attach(s->sq, spool_tables, spool_ntables, err,
		 errlen)) == NULL ||
	    spool_meta_set(s->spool, "where", s->where) != 0 ||
	    spool_meta_set(s->spool, "run", num) != 0 ||
	    spool_meta_set(s->spool, "sensor", s->sensor) != 0) {
		if (s->spool != NULL)
			snprintf(err, errlen, "%s", spool_error(s->spool));
		store_backend_sqlite.close(s->sq, 1);
		remove_spool_files(s->spool_path);
		goto fail;
	}
	ship_now(s); /* the run's row, now */
	return s;
fail:
	spooled_free(s);
	return NULL;
}

static int
spooled_emit(void *arg, const struct md_event *ev)
{
	struct spooled *s = arg;
	int		rc;

	if (refused(s, ev))
		return 0;
	rc = store_backend_sqlite.emit(s->sq, ev);

	/* a clock read every few hundred events is enough for "about once
	 * a second" */
	if ((++s->events & 255) == 0 &&
	    wall_us() - s->last_ship >= SHIP_WALL_US)
		ship_now(s);
	return rc;
}

static void
spooled_set_capture_file(void *arg, const char *path)
{
	struct spooled *s = arg;

	store_backend_sqlite.set_capture_file(s->sq, path);
}

static void
spooled_add_capture(void *arg, const struct store_capture *c)
{
	struct spooled *s = arg;

	store_backend_sqlite.add_capture(s->sq, c);
}

static void
spooled_add_interval(void *arg, const struct store_interval *iv)
{
	struct spooled *s = arg;

	store_backend_sqlite.add_interval(s->sq, iv);
}

/* SIGHUP reopens the log: a shared log needs no reopening.  Another
 * name (--rotate) has no meaning here. */
static int
spooled_rotate(void *arg, const char *path, char *err, size_t errlen)
{
	struct spooled *s = arg;

	if (strcmp(path, s->where) == 0) {
		ship_now(s);
		return 0;
	}
	snprintf(err, errlen,
	    "%s: a log written through a spool does not rotate; drop old "
	    "rows by time instead",
	    path);
	return -1;
}

static void
spooled_flush(void *arg)
{
	ship_now(arg);
}

static void
spooled_settle(void *arg)
{
	struct spooled *s = arg;

	store_backend_sqlite.settle(s->sq);
}

static const struct store_stats *
spooled_stats(const void *arg)
{
	const struct spooled *s = arg;

	return store_backend_sqlite.stats(s->sq);
}

static long
spooled_run_id(const void *arg)
{
	return (long)((const struct spooled *)arg)->run;
}

static int
spooled_health(const void *arg, char *buf, size_t len)
{
	const struct spooled *s = arg;
	time_t		      t = (time_t)(s->down_since / 1000000);
	struct tm	      tm;
	char		      when[32];

	if (!s->down && !s->full)
		return 0;
	if (!s->down) {
		snprintf(buf, len,
		    "the spool %s is past its bound: %llu sessions not logged",
		    s->spool_path, (unsigned long long)s->refused);
		return 1;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len,
	    "%s away since %s UTC, %lld rows waiting in %s%s (%s)",
	    s->rcv->name, when, (long long)spool_pending(s->spool),
	    s->spool_path,
	    s->full ? ", past its bound: new sessions not logged" : "",
	    s->error);
	return 1;
}

static const char *
spooled_last_error(const void *arg)
{
	const struct spooled *s = arg;

	return s->error[0] ? s->error : store_backend_sqlite.last_error(s->sq);
}

/* The SQLite store ends the run in the spool; the spool then ships
 * whole, or stays for the next run when the receiver is away. */
static int
spooled_close(void *arg, int status)
{
	struct spooled *s = arg;
	int64_t		run;
	int		rc;

	spool_close(s->spool);
	s->spool = NULL;
	if (s->refused > 0)
		fprintf(stderr,
		    "mailsift: %llu sessions were not logged: the spool was "
		    "past its bound (--spool-max) while %s was away\n",
		    (unsigned long long)s->refused, s->rcv->name);
	rc = store_backend_sqlite.close(s->sq, status);
	if (s->refused > 0)
		rc = -1;
	if (s->conn != NULL && !s->rcv->alive(s->conn)) {
		s->rcv->disconnect(s->conn);
		s->conn = NULL;
	}
	/* a batch that failed for a moment (the server resolving a
	 * deadlock, a restart) gets two more tries before the spool is
	 * left for the next run */
	for (int tries = 0; tries < 3; tries++) {
		if (tries > 0)
			sleep(1);
		if (s->conn == NULL)
			s->conn = s->rcv->connect(s->where, 0, s->error,
			    sizeof(s->error));
		if (s->conn != NULL &&
		    ship_file(s->rcv, s->conn, s->spool_path, s->where, &run,
			s->error, sizeof(s->error)) == 0)
			break;
		if (s->conn != NULL && !s->rcv->alive(s->conn)) {
			s->rcv->disconnect(s->conn);
			s->conn = NULL;
		}
	}
	if (access(s->spool_path, F_OK) == 0) { /* still there: not shipped */
		fprintf(stderr,
		    "mailsift: %s\nmailsift: the rows not yet in the log wait "
		    "in %s; the next run that writes there ships them\n",
		    s->error, s->spool_path);
		rc = -1;
	}
	spooled_free(s);
	return rc;
}

/* ------------------------------------------------------------ backends */

static void *
pg_open(const struct store_opts *o, char *err, size_t errlen)
{
	return spooled_open(&receiver_pg, o,
	    o->spool_dir ? o->spool_dir : PG_SPOOL_HINT, err, errlen);
}

/* A SQLite log other processes write too: the spool is LOG.spool/. */
static void *
shared_open(const struct store_opts *o, char *err, size_t errlen)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s.spool", o->path);
	return spooled_open(&receiver_sqlite, o,
	    o->spool_dir ? o->spool_dir : dir, err, errlen);
}

static int
pg_prepare(const struct store_opts *o, char *err, size_t errlen)
{
	void *c = receiver_pg.connect(o->path, 1, err, errlen);

	if (c == NULL)
		return -1;
	receiver_pg.disconnect(c);
	return 0;
}

static int
takes_none(const char *where)
{
	(void)where;
	return 0;
}

#define SPOOLED_OPS                                                         \
	.emit = spooled_emit, .set_capture_file = spooled_set_capture_file, \
	.add_capture = spooled_add_capture,                                 \
	.add_interval = spooled_add_interval, .rotate = spooled_rotate,     \
	.flush = spooled_flush, .settle = spooled_settle,                   \
	.stats = spooled_stats, .run_id = spooled_run_id,                   \
	.last_error = spooled_last_error, .health = spooled_health,         \
	.close = spooled_close

const struct store_backend store_backend_pg = {
	.name = "postgresql",
	.takes = pg_takes,
	.open = pg_open,
	.prepare = pg_prepare,
	.query_open = pg_query_open,
	SPOOLED_OPS,
};

/* Chosen by store_open for a SQLite log with store_opts.shared. */
const struct store_backend store_backend_sqlite_shared = {
	.name = "sqlite-shared",
	.takes = takes_none,
	.open = shared_open,
	.prepare = NULL, /* store_prepare picks the plain SQLite one */
	.query_open = sqlite_query_open,
	SPOOLED_OPS,
};
