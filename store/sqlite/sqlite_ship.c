/* \summary: SQLite store: a log that receives other processes' spools */
/*
 * The workers of read --jobs and live --workers write one SQLite log
 * together.  Each writes its own spool (store/spool/spooled.c) and, about once
 * a second, ships what changed: the log attaches the spool file and
 * copies the changed rows over in one short write transaction (INSERT OR
 * REPLACE, ids moved to run_id * 2^32 + n), deletions first.  A worker
 * holds the log's write lock for the time of that copy only, not for the
 * second its rows took to build, so workers do not wait on each other.
 * Kept message bytes move into LOG.blobs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/keep.h"
#include "store/spool/receiver.h"
#include "store/sqlite/sqlite_priv.h"

struct shared_log {
	sqlite3 *db;
	int	 fd; /* closed after db: see sqlite_log_open */
	char	 path[4096];
};

static int
fail(struct shared_log *l, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %.100s: %.300s", l->path, what,
	    sqlite3_errmsg(l->db));
	return -1;
}

static int
exec_log(struct shared_log *l, const char *sql, char *err, size_t errlen)
{
	return sqlite3_exec(l->db, sql, NULL, NULL, NULL) == SQLITE_OK ?
	    0 :
	    fail(l, sql, err, errlen);
}

static void *
r_connect(const char *where, int create, char *err, size_t errlen)
{
	struct shared_log *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(l->path, sizeof(l->path), "%s", where);
	if ((l->db = sqlite_log_open(where, create, &l->fd, err, errlen)) ==
	    NULL) {
		free(l);
		return NULL;
	}
	return l;
}

static void
r_disconnect(void *arg)
{
	struct shared_log *l = arg;

	sqlite3_close(l->db);
	close(l->fd);
	free(l);
}

static int
r_alive(void *arg)
{
	(void)arg;
	return 1;
}

/* The run's row, as a run of the SQLite store starts one; the spool's
 * own row (command and all) replaces it with the first batch. */
static int64_t
r_new_run(void *arg, char *err, size_t errlen)
{
	struct shared_log *l = arg;
	int64_t		   id = run_started(l->db, "");

	if (id < 0)
		fail(l, "runs", err, errlen);
	return id;
}

/* The columns of sp.table and its key, as the spool has them. */
struct table_cols {
	char names[64][64];
	int  n;
	char key[4][64];
	int  nkey;
};

static int
columns_of(struct shared_log *l, const char *table, struct table_cols *tc,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char	      sql[128];
	char	      pk[4][64] = { "", "", "", "" };

	memset(tc, 0, sizeof(*tc));
	snprintf(sql, sizeof(sql), "PRAGMA sp.table_info(%s)", table);
	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(l, sql, err, errlen);
	while (sqlite3_step(st) == SQLITE_ROW && tc->n < 64) {
		int k = sqlite3_column_int(st, 5);

		snprintf(tc->names[tc->n], 64, "%s",
		    (const char *)sqlite3_column_text(st, 1));
		if (k >= 1 && k <= 4)
			snprintf(pk[k - 1], 64, "%s", tc->names[tc->n]);
		tc->n++;
	}
	sqlite3_finalize(st);
	for (tc->nkey = 0; tc->nkey < 4 && pk[tc->nkey][0]; tc->nkey++)
		snprintf(tc->key[tc->nkey], 64, "%s", pk[tc->nkey]);
	if (tc->nkey == 0) { /* keyless: the rowid is the key */
		snprintf(tc->key[0], 64, "rowid");
		tc->nkey = 1;
	}
	return 0;
}

/* "t.col + base" for an id, the run's id for run_id, else "t.col". */
static size_t
expr_of(const char *table, const char *col, int64_t run, char *buf, size_t len)
{
	switch (spool_role_of(table, col)) {
	case ROLE_ID:
		return (size_t)snprintf(buf, len, "t.%s + %lld", col,
		    (long long)(run << 32));
	case ROLE_RUN:
		return (size_t)snprintf(buf, len, "%lld", (long long)run);
	default:
		return (size_t)snprintf(buf, len, "t.\"%s\"", col);
	}
}

/* Rows replaced under another key (a message whose number was reused). */
static int
ship_gone(struct shared_log *l, const char *table, const struct table_cols *tc,
    int64_t run, char *err, size_t errlen)
{
	char sql[512];

	if (tc->nkey != 1)
		return 0;
	snprintf(sql, sizeof(sql),
	    "DELETE FROM main.%s WHERE %s IN (SELECT k + %lld FROM sp.ob_gone_%s)",
	    table, tc->key[0], (long long)(run << 32), table);
	return exec_log(l, sql, err, errlen);
}

static int
ship_rows(struct shared_log *l, const char *table, const struct table_cols *tc,
    int64_t run, char *err, size_t errlen)
{
	char   cols[4096], exprs[8192], on[512], keys[300];
	size_t nc = 0, ne = 0, no = 0, nk = 0;
	char  *sql;
	int    rc;

	if (strcmp(tc->key[0], "rowid") == 0) { /* keyless tables */
		nc += (size_t)snprintf(cols, sizeof(cols), "rowid");
		ne += (size_t)snprintf(exprs, sizeof(exprs), "t.rowid + %lld",
		    (long long)(run << 32));
	}
	for (int c = 0; c < tc->n; c++) {
		nc += (size_t)snprintf(cols + nc, sizeof(cols) - nc, "%s\"%s\"",
		    nc ? ", " : "", tc->names[c]);
		if (ne)
			ne += (size_t)snprintf(exprs + ne, sizeof(exprs) - ne,
			    ", ");
		ne += expr_of(table, tc->names[c], run, exprs + ne,
		    sizeof(exprs) - ne);
	}
	for (int k = 0; k < tc->nkey; k++) {
		no += (size_t)snprintf(on + no, sizeof(on) - no,
		    "%st.%s = o.%s", k ? " AND " : "", tc->key[k], tc->key[k]);
		nk += (size_t)snprintf(keys + nk, sizeof(keys) - nk, "%s%s",
		    k ? ", " : "", tc->key[k]);
	}
	if (nc >= sizeof(cols) || ne >= sizeof(exprs) || no >= sizeof(on) ||
	    (sql = malloc(nc + ne + no + nk + 256)) == NULL) {
		snprintf(err, errlen, "%s: columns past their bound", table);
		return -1;
	}
	snprintf(sql, nc + ne + no + nk + 256,
	    "INSERT OR REPLACE INTO main.%s (%s) SELECT %s FROM (SELECT"
	    " DISTINCT %s FROM sp.ob_%s) o CROSS JOIN sp.%s t ON %s",
	    table, cols, exprs, keys, table, table, on);
	rc = exec_log(l, sql, err, errlen);
	free(sql);
	return rc;
}

/* Named blob files of the spool move beside the log (keep.c places
 * them: a copy already there is kept); temporary ones (tmp-*, in the
 * spool's top folder) are messages still arriving. */
static void
move_blobs(const char *from, const char *log)
{
	char	       to[4200];
	DIR	      *d, *sub;
	struct dirent *e, *f;

	if ((d = opendir(from)) == NULL)
		return;
	snprintf(to, sizeof(to), "%s.blobs", log);
	mkdir(to, 0700);
	while ((e = readdir(d)) != NULL) {
		char sd[4400];

		if (strlen(e->d_name) != 2 ||
		    !isxdigit((unsigned char)e->d_name[0]) ||
		    !isxdigit((unsigned char)e->d_name[1]))
			continue; /* "ab/": the first two digits of a hash */
		snprintf(sd, sizeof(sd), "%s/%s", from, e->d_name);
		if ((sub = opendir(sd)) == NULL)
			continue;
		while ((f = readdir(sub)) != NULL) {
			char src[4700], err[256];

			if (f->d_name[0] == '.')
				continue;
			snprintf(src, sizeof(src), "%s/%s", sd, f->d_name);
			keep_blob_place(to, src, f->d_name, err, sizeof(err));
		}
		closedir(sub);
	}
	closedir(d);
}

/* runs.blobs of a run shipped here: the log's own store (a spool's
 * row has none). */
static void
note_blobs(struct shared_log *l, int64_t run_id)
{
	char	      bd[4200], *abs;
	sqlite3_stmt *st;

	snprintf(bd, sizeof(bd), "%s.blobs", l->path);
	if ((abs = realpath(bd, NULL)) == NULL)
		return;
	if (sqlite3_prepare_v2(l->db,
		"UPDATE runs SET blobs = ?1 WHERE id = ?2"
		" AND blobs IS NOT ?1",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, abs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, run_id);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	free(abs);
}

static int
r_ship(void *arg, struct spool *sp, const char *spool_path, int64_t run_id,
    const char *sensor, const char *blob_dir, char *err, size_t errlen)
{
	struct shared_log *l = arg;
	struct table_cols  tc;
	sqlite3_stmt	  *st;
	int		   rc = 0;

	(void)sp;
	(void)sensor; /* the SQLite log names no sensors */
	if (sqlite3_prepare_v2(l->db, "ATTACH ? AS sp", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(l, "ATTACH", err, errlen);
	sqlite3_bind_text(st, 1, spool_path, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
					       fail(l, "ATTACH", err, errlen);
	sqlite3_finalize(st);
	if (rc != 0)
		return -1;
	rc = exec_log(l, "BEGIN IMMEDIATE", err, errlen);
	for (int i = 0; rc == 0 && i < spool_ntables; i++)
		rc = columns_of(l, spool_tables[i], &tc, err, errlen) != 0 ||
		    ship_gone(l, spool_tables[i], &tc, run_id, err, errlen) !=
			0;
	for (int i = 0; rc == 0 && i < spool_ntables; i++)
		rc = columns_of(l, spool_tables[i], &tc, err, errlen) != 0 ||
		    ship_rows(l, spool_tables[i], &tc, run_id, err, errlen) !=
			0;
	/* small messages' bytes, with the rows that name them; the spool
	 * forgets them once this commits (spool_forget) */
	if (rc == 0)
		rc = exec_log(l,
		    "INSERT OR IGNORE INTO main.blob_bytes"
		    " SELECT sha256, bytes FROM sp.blob_bytes",
		    err, errlen);
	/* the sessions that ended, summed by their findings */
	if (rc == 0 && sqlite_findings_settle(l->db) != 0)
		rc = fail(l, "the findings' sums", err, errlen);
	if (rc == 0)
		rc = exec_log(l, "COMMIT", err, errlen);
	else
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(l->db, "DETACH sp", NULL, NULL, NULL);
	if (rc == 0 && blob_dir != NULL) {
		move_blobs(blob_dir, l->path);
		note_blobs(l, run_id);
	}
	return rc ? -1 : 0;
}

static void
r_end_killed(void *arg, int64_t run, const char *now)
{
	struct shared_log *l = arg;

	run_end_killed(l->db, run, now);
}

const struct receiver receiver_sqlite = {
	.name = "the shared SQLite log",
	.connect = r_connect,
	.disconnect = r_disconnect,
	.alive = r_alive,
	.new_run = r_new_run,
	.ship = r_ship,
	.takes_blob_bytes = 1,
	.end_killed = r_end_killed,
};
