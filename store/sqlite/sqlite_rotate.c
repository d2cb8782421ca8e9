/* \summary: SQLite store: going on in a new log file */
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

#include "store/sqlite/sqlite_priv.h"
#include "store/tables.h"

/*
 * Rotation carries the sessions still open into the new log.  The old
 * file may have been moved away (logrotate), and two SQLite files must
 * never share a path's -wal and -shm, so their rows go through a staging
 * file: out of the old log, which is then closed, into the new one.
 */

static int
exec_on(sqlite3 *db, const char *sql, int64_t arg)
{
	sqlite3_stmt *st;
	int	      rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int
attach(sqlite3 *db, const char *path, const char *as)
{
	char	      sql[64];
	sqlite3_stmt *st;
	int	      rc;

	snprintf(sql, sizeof(sql), "ATTACH ? AS %s", as);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The SELECT that picks table's rows of the open sessions (in "carry"
 * once the sessions and messages are there); NULL: not carried. */
static int
carry_select(const struct table_desc *t, char *sql, size_t len)
{
	switch (t->kind) {
	case TABLE_SESSION:
		snprintf(sql, len,
		    "CREATE TABLE carry.%s AS SELECT * FROM main.%s"
		    " WHERE end_ts IS NULL",
		    t->name, t->name);
		return 0;
	case TABLE_MESSAGE:
	case TABLE_OF_SESSION:
		snprintf(sql, len,
		    "CREATE TABLE carry.%s AS SELECT * FROM main.%s"
		    " WHERE session_id IN (SELECT id FROM carry.sessions)",
		    t->name, t->name);
		return 0;
	case TABLE_OF_MESSAGE:
		snprintf(sql, len,
		    "CREATE TABLE carry.%s AS SELECT * FROM main.%s"
		    " WHERE message_id IN (SELECT id FROM carry.messages)",
		    t->name, t->name);
		return 0;
	case TABLE_TEXT: /* FTS: its rowid is the message's id */
		snprintf(sql, len,
		    "CREATE TABLE carry.%s AS SELECT rowid AS id, subject,"
		    " body FROM main.%s WHERE rowid IN (SELECT id FROM"
		    " carry.messages)",
		    t->name, t->name);
		return 0;
	default: /* a run's own rows stay with it */
		return -1;
	}
}

/* Old log -> staging file: the open sessions and all that hangs on them
 * (every table tables.def says hangs on a session or a message); the old
 * log marks them 'rotated'. */
static int
stage_open_sessions(sqlite3 *old, const char *stage)
{
	char sql[512];
	int  rc;

	if (attach(old, stage, "carry") != 0)
		return -1;
	rc = exec_on(old, "BEGIN", 0);
	for (int i = 0; rc == 0 && i < store_ntables; i++)
		if (carry_select(&store_tables[i], sql, sizeof(sql)) == 0)
			rc = exec_on(old, sql, 0);
	if (rc == 0)
		rc = exec_on(old,
		    "UPDATE main.sessions SET end_reason ="
		    " 'rotated' WHERE end_ts IS NULL",
		    0);
	exec_on(old, rc == 0 ? "COMMIT" : "ROLLBACK", 0);
	exec_on(old, "DETACH carry", 0);
	return rc;
}

/* Staging file -> the new log (s->db), under the new run. */
static int
unstage_open_sessions(struct sqlite_store *s, const char *stage)
{
	char sql[512];
	int  rc;

	db_commit_last(s);
	if (attach(s->db, stage, "carry") != 0) {
		db_run(s, ST_BEGIN);
		return -1;
	}
	/* the carried rows count in the hosts' sums as rows that another
	 * writer ships do: by the log's triggers */
	hosts_triggers(s, 1);
	rc = exec_on(s->db, "BEGIN", 0);
	for (int i = 0; rc == 0 && i < store_ntables; i++) {
		const struct table_desc *t = &store_tables[i];

		if (carry_select(t, sql, sizeof(sql)) != 0)
			continue;
		if (t->kind == TABLE_TEXT)
			snprintf(sql, sizeof(sql),
			    "INSERT INTO main.%s (rowid, subject, body)"
			    " SELECT id, subject, body FROM carry.%s",
			    t->name, t->name);
		else
			snprintf(sql, sizeof(sql),
			    "INSERT INTO main.%s SELECT * FROM carry.%s",
			    t->name, t->name);
		rc = exec_on(s->db, sql, 0);
	}
	if (rc == 0)
		rc = exec_on(s->db,
		    "UPDATE main.sessions SET run_id = ?1 WHERE"
		    " run_id <> ?1",
		    s->run_id);
	exec_on(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", 0);
	hosts_triggers(s, 0);
	exec_on(s->db, "DETACH carry", 0);
	db_run(s, ST_BEGIN);
	return rc;
}

/* A log db_open could not make whole (a full disk): closed, so that the
 * store knows it has none (s->db NULL) and a later rotation opens one. */
static void
drop_log(struct sqlite_store *s)
{
	finalize_all(s);
	sqlite3_close(s->db);
	s->db = NULL;
}

/*
 * Goes on in a new log file at path (--rotate; SIGHUP after logrotate
 * moved the log away): the current log is committed and closed, and the
 * sessions still open are copied into the new one (with their commands,
 * messages so far, ...) and carried on there; the old file keeps them as
 * they were, end_reason 'rotated'.  Returns 0; or -1 with err set, when
 * the store is left without a log (db_make_file, first, makes that
 * rare).
 */
int
sqlite_rotate(void *arg, const char *path, char *err, size_t errlen)
{
	struct sqlite_store *s = arg;
	char		     stage[sizeof(s->path) + 16];
	int64_t		     id_base = s->id_base;
	int		     carried;

	if (s->db == NULL) { /* the last rotation left no log: just open */
		if (db_open(s, path, 0, s->keep, s->command, err, errlen) !=
		    0) {
			drop_log(s);
			return -1;
		}
		s->id_base = id_base;
		lost_log_reopened(s);
		return 0;
	}
	snprintf(stage, sizeof(stage), "%s.carry", path);
	msgs_settle(s, 1); /* their rows belong to the old log */
	db_commit_last(s);
	finalize_all(s);
	/* the log was opened without SQLITE_OPEN_CREATE: ATTACH too */
	carried = create_private(stage, 1, err, errlen) == 0 &&
	    stage_open_sessions(s->db, stage) == 0;
	if (!carried)
		snprintf(s->error, sizeof(s->error),
		    "%s: open sessions could "
		    "not be carried over: %s",
		    path, sqlite3_errmsg(s->db));
	run_finished(s->db, s->run_id, 0);
	db_close_file(s);
	if (db_open(s, path, 0, s->keep, s->command, err, errlen) != 0) {
		drop_log(s);
		unlink(stage);
		return -1;
	}
	s->id_base = id_base; /* session ids go on from the same base */
	if (!carried) {
		s->stats.errors++;
		lost_log_reopened(s);
	} else if (unstage_open_sessions(s, stage) != 0) {
		s->stats.errors++;
		lost_log_reopened(s);
		snprintf(s->error, sizeof(s->error),
		    "%s: open sessions could "
		    "not be carried over: %s",
		    path, sqlite3_errmsg(s->db));
	}
	unlink(stage);
	return 0;
}
