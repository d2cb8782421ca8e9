/*
 * test_hosts.c - store/sqlite/sqlite_hosts.c: the hosts' sums a log keeps
 * by its triggers equal the sums of every session asked of the same rows
 * (sqlite_hosts_asked), after every step of random sequences of what the
 * roads into a log do: sessions inserted, replaced as themselves (a
 * spool's changed row), given a user and TLS; messages and logins
 * before or after their session, replaced, moved, made pieces, deleted;
 * loopback sessions with both ends one address.  Also: a log made
 * without the sums is filled from its rows; the listing's first page is
 * read off the index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "schema.h"
#include "store/sqlite/sqlite_priv.h"
#include "tests/sums_test.h"

#define SESSIONS 24
#define MESSAGES 80
#define LOGINS	 40

static sqlite3 *
log_new(int sums)
{
	sqlite3 *db;
	char	 err[512];

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     SQLITE_HOSTS_PRAGMA " " STORE_SCHEMA_SQL, NULL,
			     NULL, NULL),
	    SQLITE_OK);
	if (sums)
		assert_int_equal(sqlite_hosts_schema(db, err, sizeof(err)), 0);
	return db;
}

/* Rows of v_hosts that the sum as asked does not have, and the other
 * way round: 0 when they are the same. */
static long
sums_differ(sqlite3 *db)
{
	char *sql = sqlite3_mprintf(
	    "SELECT (SELECT count(*) FROM (SELECT * FROM v_hosts EXCEPT"
	    " SELECT * FROM (%s))) + (SELECT count(*) FROM (SELECT * FROM (%s)"
	    " EXCEPT SELECT * FROM v_hosts))",
	    sqlite_hosts_asked, sqlite_hosts_asked);
	long n = count_of(db, sql);

	sqlite3_free(sql);
	return n;
}

/* A session's fixed place and start (a row replaced keeps them); every
 * fifth one a loopback, both ends one address. */
static void
session_sql(char *sql, size_t len, int id, const char *verb, uint64_t *s)
{
	static const char *const user[] = { "NULL", "'alice'", "'bob'",
		"'carol'" };
	static const char *const tls[] = { "none", "starttls", "implicit" };
	int			 c = id % 5, v = (id / 5) % 4;

	snprintf(sql, len,
	    "%s INTO sessions (id, run_id, proto, client_ip, client_port,"
	    " server_ip, server_port, start_ts, username, tls)"
	    " VALUES (%d, 1, 'smtp', '10.0.0.%d', %d, '%s', 25, %d.5, %s,"
	    " '%s')",
	    verb, id, c, 1000 + id,
	    id % 5 == 0 ? "10.0.0.0" :
		v	? "192.0.2.1" :
			  "192.0.2.2",
	    1700000000 + id * 7 % 50, user[rnd(s) % 4], tls[rnd(s) % 3]);
}

/* One step of what rows do in a log, chosen by s. */
static void
step(sqlite3 *db, uint64_t *s)
{
	static const char *const user[] = { "NULL", "'alice'", "'bob'",
		"'dave'" };
	char			 sql[1024];
	int op = (int)(rnd(s) % 15), sid = 1 + (int)(rnd(s) % SESSIONS),
	    mid = 1 + (int)(rnd(s) % MESSAGES),
	    aid = 1 + (int)(rnd(s) % LOGINS);

	switch (op) {
	case 0:
	case 1:
		session_sql(sql, sizeof(sql), sid, "INSERT OR IGNORE", s);
		break;
	case 2: /* a spool's changed row */
		session_sql(sql, sizeof(sql), sid, "INSERT OR REPLACE", s);
		break;
	case 3:
		snprintf(sql, sizeof(sql),
		    "UPDATE sessions SET username = %s WHERE id = %d",
		    user[rnd(s) % 4], sid);
		break;
	case 4:
		snprintf(sql, sizeof(sql),
		    "UPDATE sessions SET tls = '%s' WHERE id = %d",
		    rnd(s) % 2 ? "starttls" : "none", sid);
		break;
	case 5:
	case 6: /* its session there or not yet; or replaced, perhaps now a
		 * piece or in another session */
	case 7:
		snprintf(sql, sizeof(sql),
		    "INSERT OR %s INTO messages (id, session_id, tx, proto,"
		    " method, direction, begin_ts, partial) VALUES (%d, %d, %d,"
		    " 'smtp', 'DATA', 'c2s', 1.0, %d)",
		    op == 7 ? "REPLACE" : "IGNORE", mid, sid, mid,
		    rnd(s) % 4 == 0);
		break;
	case 8:
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET partial = 1 - partial WHERE id = %d",
		    mid);
		break;
	case 9:
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET session_id = %d WHERE id = %d", sid,
		    mid);
		break;
	case 10:
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE id = %d",
		    mid);
		break;
	case 11:
	case 12:
		snprintf(sql, sizeof(sql),
		    "INSERT OR %s INTO auth (id, session_id, ts, mechanism,"
		    " outcome) VALUES (%d, %d, 1.0, 'PLAIN', 'success')",
		    rnd(s) % 2 ? "REPLACE" : "IGNORE", aid, sid);
		break;
	case 13:
		snprintf(sql, sizeof(sql),
		    "UPDATE auth SET session_id = %d WHERE id = %d", sid, aid);
		break;
	default:
		snprintf(sql, sizeof(sql), "DELETE FROM auth WHERE id = %d",
		    aid);
		break;
	}
	run(db, sql);
}

static void
random_roads(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		sqlite3 *db = log_new(1);
		uint64_t s = seed;

		for (int i = 0; i < 500; i++) {
			step(db, &s);
			if (sums_differ(db) != 0)
				fail_msg("seed %llu, step %d: the sums differ",
				    (unsigned long long)seed, i);
		}
		/* the steps made users, TLS, logins, pieces and a
		 * loopback host */
		assert_int_equal(
		    count_of(db,
			"SELECT (SELECT sum(users) > 0 AND"
			" sum(tls) > 0 AND sum(auths) > 0 FROM"
			" host_stats) AND (SELECT sessions > 0 FROM"
			" host_stats WHERE ip = '10.0.0.0') AND"
			" EXISTS (SELECT 1 FROM messages WHERE"
			" partial = 1)"),
		    1);
		sqlite3_close(db);
	}
}

/* A log that predates the sums: filled from its rows when they come. */
static void
filled_from_rows(void **state)
{
	sqlite3 *db = log_new(0);
	uint64_t s = 99;
	char	 err[512];

	(void)state;
	for (int i = 0; i < 800; i++)
		step(db, &s);
	assert_int_equal(sqlite_hosts_schema(db, err, sizeof(err)), 0);
	assert_int_equal(sums_differ(db), 0);
	assert_true(count_of(db, "SELECT count(*) FROM host_stats") > 3);
	/* made again: kept, not filled twice */
	assert_int_equal(sqlite_hosts_schema(db, err, sizeof(err)), 0);
	assert_int_equal(sums_differ(db), 0);
	for (int i = 0; i < 200; i++)
		step(db, &s);
	assert_int_equal(sums_differ(db), 0);
	sqlite3_close(db);
}

/* A log opened to be read that has no sums gets v_hosts summed as
 * asked; one that has them keeps its own. */
static void
view_for_a_reader(void **state)
{
	sqlite3 *db = log_new(0);
	uint64_t s = 7;

	(void)state;
	for (int i = 0; i < 300; i++)
		step(db, &s);
	assert_int_equal(sqlite_hosts_view(db), 0);
	assert_int_equal(count_of(db,
			     "SELECT count(*) FROM sqlite_temp_master WHERE"
			     " name = 'v_hosts'"),
	    1);
	assert_int_equal(sums_differ(db), 0);
	sqlite3_close(db);
	db = log_new(1);
	assert_int_equal(sqlite_hosts_view(db), 0);
	assert_int_equal(count_of(db,
			     "SELECT count(*) FROM sqlite_temp_master WHERE"
			     " name = 'v_hosts'"),
	    0);
	sqlite3_close(db);
}

/* The listing's first page, in its order, is read off the index. */
static void
first_page_off_the_index(void **state)
{
	sqlite3	     *db = log_new(1);
	sqlite3_stmt *st;
	int	      sorts = 0, index = 0;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db,
			     "EXPLAIN QUERY PLAN SELECT * FROM v_hosts ORDER BY"
			     " sessions DESC, CAST(host AS TEXT) LIMIT 100",
			     -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		sorts += strstr(d, "TEMP B-TREE") != NULL;
		index += strstr(d, "host_stats_sessions") != NULL;
	}
	sqlite3_finalize(st);
	assert_int_equal(sorts, 0);
	assert_int_equal(index, 1);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_roads),
		cmocka_unit_test(filled_from_rows),
		cmocka_unit_test(view_for_a_reader),
		cmocka_unit_test(first_page_off_the_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
