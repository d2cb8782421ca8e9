/* \summary: SQLite store: the writer's findings' sums */
/*
 * What sqlite_findings.c says of the sums, the writer's side: its
 * connection runs with the log's triggers off, so it notes the sessions
 * begun and ended in each transaction, and at the commit sums the ended
 * ones (one statement for all) and records as open those begun and not
 * ended.  A session that began in an earlier transaction was recorded
 * open at that commit, and is taken out once summed.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/sqlite/sqlite_priv.h"

/* The writer's: the sessions begun and ended in the transaction open. */
enum { FS_ENDED, FS_ADD, FS_CLEAR, FS_OPEN, FS_SETTLED, FS_COUNT };

struct finding_sums {
	struct session_ids begun, ended;
	sqlite3_stmt	  *st[FS_COUNT];
};

static const char *const finding_sums_sql[FS_COUNT] = {
	[FS_ENDED] = "INSERT OR IGNORE INTO temp.findings_ended VALUES (?1)",
	[FS_ADD] = ENDED_ADDED,
	[FS_CLEAR] = "DELETE FROM temp.findings_ended",
	[FS_OPEN] = "INSERT OR IGNORE INTO stat_findings_open VALUES (?1)",
	[FS_SETTLED] = "DELETE FROM stat_findings_open WHERE session_id = ?1",
};

int
findings_writer_open(struct sqlite_store *s, char *err, size_t errlen)
{
	struct finding_sums *f = s->findsums;

	if (f == NULL && (f = s->findsums = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_exec(s->db, ENDED_TABLE, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "the findings' sums: %s",
		    sqlite3_errmsg(s->db));
		return -1;
	}
	if (db_prepare_each(s->db, finding_sums_sql, f->st, FS_COUNT, err,
		errlen) == 0)
		return 0;
	findings_writer_close(s);
	return -1;
}

void
findings_writer_close(struct sqlite_store *s)
{
	if (s->findsums != NULL)
		db_finalize_each(s->findsums->st, FS_COUNT);
}

void
findings_writer_free(struct sqlite_store *s)
{
	if (s->findsums == NULL)
		return;
	findings_writer_close(s);
	free(s->findsums->begun.id);
	free(s->findsums->ended.id);
	free(s->findsums);
	s->findsums = NULL;
}

void
findings_forget(struct sqlite_store *s)
{
	if (s->findsums != NULL)
		s->findsums->begun.n = s->findsums->ended.n = 0;
}

/* stmt of the writer's run, for session id where id > 0; 0, or -1 */
static int
findings_run(struct sqlite_store *s, int stmt, int64_t id)
{
	sqlite3_stmt *st = s->findsums->st[stmt];
	int	      rc;

	if (id > 0)
		sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	return rc;
}

int
session_ids_add(struct session_ids *l, int64_t id)
{
	if (l->n == l->cap) {
		size_t	 cap = l->cap ? 2 * l->cap : 256;
		int64_t *p = realloc(l->id, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		l->id = p;
		l->cap = cap;
	}
	l->id[l->n++] = id;
	return 0;
}

void
session_ids_sort(struct session_ids *l)
{
	if (l->n > 1)
		qsort(l->id, l->n, sizeof(*l->id), by_row);
}

int
session_ids_has(const struct session_ids *l, int64_t id)
{
	return l->n > 0 &&
	    bsearch(&id, l->id, l->n, sizeof(*l->id), by_row) != NULL;
}

/* Each ended session summed and no longer open; each begun and not
 * ended open.  A session whose sum failed stays open: counted as asked. */
void
findings_write_waiting(struct sqlite_store *s)
{
	struct finding_sums *f = s->findsums;
	int		     failed = 0, unsummed = 0;

	if (f == NULL || (f->begun.n == 0 && f->ended.n == 0))
		return;
	if (s->db == NULL) {
		findings_forget(s);
		return;
	}
	session_ids_sort(&f->begun);
	session_ids_sort(&f->ended);
	/* the ended sessions summed at once; then no longer open, or
	 * open if they were not and the sum failed */
	for (size_t i = 0; i < f->ended.n && !unsummed; i++)
		unsummed = findings_run(s, FS_ENDED, f->ended.id[i]) != 0;
	if (!unsummed)
		unsummed = findings_run(s, FS_ADD, 0) != 0;
	failed |= findings_run(s, FS_CLEAR, 0) != 0;
	for (size_t i = 0; i < f->ended.n; i++) {
		int64_t id = f->ended.id[i];
		int	begun = session_ids_has(&f->begun, id);

		if (unsummed)
			failed |= begun && findings_run(s, FS_OPEN, id) != 0;
		else if (!begun)
			failed |= findings_run(s, FS_SETTLED, id) != 0;
	}
	for (size_t i = 0; i < f->begun.n; i++)
		if (!session_ids_has(&f->ended, f->begun.id[i]))
			failed |= findings_run(s, FS_OPEN, f->begun.id[i]) != 0;
	if (failed || unsummed)
		db_fail(s, "the findings' sums");
	findings_forget(s);
}

/* id noted in l for the commit; or, with no memory, written now by
 * stmt (an open session's row now rather than at the commit; an ended
 * one left open) */
static void
findings_note(struct sqlite_store *s, struct session_ids *l, int64_t id,
    int stmt)
{
	if (session_ids_add(l, id) != 0 && stmt >= 0 &&
	    findings_run(s, stmt, id) != 0)
		db_fail(s, "the findings' sums");
}

/* A row written outside any transaction is in the log now: so are its
 * sums (as stats_at_once) */
static void
findings_at_once(struct sqlite_store *s)
{
	if (s->db != NULL && sqlite3_get_autocommit(s->db))
		findings_write_waiting(s);
}

void
findings_session_begun(struct sqlite_store *s, int64_t id)
{
	if (s->findsums == NULL)
		return;
	findings_note(s, &s->findsums->begun, id, FS_OPEN);
	findings_at_once(s);
}

void
findings_session_ended(struct sqlite_store *s, int64_t id)
{
	if (s->findsums == NULL)
		return;
	findings_note(s, &s->findsums->ended, id, -1);
	findings_at_once(s);
}
