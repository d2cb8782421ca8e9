/*
 * emptylog.h - a fresh, empty mailsift log for the fuzz targets that
 * query one (fuzz_search, fuzz_filters, fuzz_serve): made once per
 * process at /tmp/NAME-PID.db by the store itself, removed with its -wal
 * and -shm at exit, with a fixture's rows where the target gives them.
 * A log that cannot be made, or a fixture it refuses, stops the target.
 */
#ifndef MAILSIFT_FUZZ_EMPTYLOG_H
#define MAILSIFT_FUZZ_EMPTYLOG_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

static char emptylog_path[64];

static void
emptylog_remove(void)
{
	char p[80];

	unlink(emptylog_path);
	snprintf(p, sizeof(p), "%s-wal", emptylog_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", emptylog_path);
	unlink(p);
}

/* The log's path; name says whose it is, in the path and a failure. */
static const char *
emptylog_make(const char *name)
{
	struct store_opts so = { 0 };
	struct store	 *st;
	char		  err[512];

	snprintf(emptylog_path, sizeof(emptylog_path), "/tmp/%s-%ld.db", name,
	    (long)getpid());
	emptylog_remove();
	atexit(emptylog_remove);
	so.path = emptylog_path;
	so.no_keep = 1;
	so.force = 1;
	if ((st = store_open(&so, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", name, err);
		abort();
	}
	store_close(st, 0);
	return emptylog_path;
}

/* The same log with the rows sql inserts (a fixture the target's pages
 * or selections find something in); its path. */
static inline const char *
emptylog_with_rows(const char *name, const char *sql)
{
	const char *path = emptylog_make(name);
	sqlite3	   *db;
	char	   *msg = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: the log's rows: %s\n", name,
		    msg != NULL ? msg : sqlite3_errmsg(db));
		abort();
	}
	sqlite3_close(db);
	return path;
}

#endif
