/*
 * sums_test.h - what the unit tests of a log's kept sums share
 * (test_hosts.c, test_stats.c): SQL run or counted on the log under
 * test, failing the test with SQLite's word, and a seeded generator of
 * the random roads.  Included by each, after cmocka.h.
 */
#ifndef MAILSIFT_TESTS_SUMS_TEST_H
#define MAILSIFT_TESTS_SUMS_TEST_H

#include <sqlite3.h>
#include <stdint.h>

static void
run(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* The first column of the first row of sql; -1: no row. */
static long
count_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long	      n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static uint32_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

#endif
