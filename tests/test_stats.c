/*
 * test_stats.c - store/sqlite/sqlite_stats.c: the stats' sums a log keeps
 * by its triggers equal the groups asked of the same rows (each v_stat_
 * view against sqlite_stats_asked), after every step of random sequences
 * of what the roads into a log do: sessions inserted, replaced, moved,
 * given TLS, deleted; messages before or after their session, replaced,
 * made pieces and whole again, given a header, an end, another sender,
 * deleted; logins before or after their session, moved, changed,
 * deleted, and the session's protocol changed under them; anomalies
 * added, renamed, deleted; keys that are TEXT or BLOB, sizes NULL, times
 * with no hour.
 * Also: a log made without the sums is filled from its rows; a reader of
 * such a log gets the views summed as asked; each top list is read off
 * its index; the writer's hours (made by C) are SQLite's.  And the
 * findings' sums (sqlite_findings.c) along their own random roads: the
 * rows each check reads, written to sessions still open, sessions ended
 * and settled as a receiver settles them, replaced, deleted, given
 * another protocol or TLS.
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
#include "store/query.h"
#include "store/sqlite/sqlite_priv.h"
#include "tests/sums_test.h"

#define SESSIONS 16
#define MESSAGES 60
#define LOGINS	 30

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
	/* the findings' view, which their sums and the asked groups read */
	assert_int_equal(sqlite_findings_schema(db, err, sizeof(err)), 0);
	if (sums) {
		assert_int_equal(sqlite_hosts_schema(db, err, sizeof(err)), 0);
		assert_int_equal(sqlite_stats_schema(db, err, sizeof(err)), 0);
		assert_int_equal(
		    sqlite_findings_sums_schema(db, err, sizeof(err)), 0);
	}
	return db;
}

/* Rows of the views that the groups asked do not have, and the other
 * way round, summed over every view: 0 when they are the same. */
static long
sums_differ(sqlite3 *db)
{
	long n = 0;

	for (size_t i = 0; i < nsqlite_stats_asked; i++) {
		const struct stats_asked *a = &sqlite_stats_asked[i];
		char *sql = sqlite3_mprintf("SELECT (SELECT count(*) FROM"
					    " (SELECT * FROM %s EXCEPT %s)) +"
					    " (SELECT count(*) FROM (%s EXCEPT"
					    " SELECT * FROM %s))",
		    a->view, a->sql, a->sql, a->view);
		long  d = count_of(db, sql);

		if (d != 0)
			print_message("%s: %ld rows differ\n", a->view, d);
		n += d;
		sqlite3_free(sql);
	}
	return n;
}

/* A value of a few, chosen by s: NULL sometimes, a BLOB of the same
 * bytes as a TEXT sometimes (another key in SQLite's eyes). */
static const char *
addr(uint64_t *s)
{
	static const char *const a[] = { "NULL", "'a@x'", "'b@x'", "'c@y'",
		"CAST('a@x' AS BLOB)", "'Bob <b@x>'" };

	return a[rnd(s) % 6];
}

static void
session_sql(char *sql, size_t len, int id, const char *verb, uint64_t *s)
{
	static const char *const proto[] = { "smtp", "imap", "pop3" };
	static const char *const tls[] = { "none", "starttls", "implicit" };
	/* an hour's edge, the next hour, one with none (year 33658) */
	static const char *const ts[] = { "1700003599.9996", "1700003600.5",
		"1700010000", "1e12" };

	snprintf(sql, len,
	    "%s INTO sessions (id, run_id, proto, client_ip, client_port,"
	    " server_ip, server_port, start_ts, tls, midstream)"
	    " VALUES (%d, 1, '%s', '10.0.0.%u', %d, '192.0.2.%u', %u, %s,"
	    " '%s', %u)",
	    verb, id, proto[rnd(s) % 3], rnd(s) % 3, 1000 + id, rnd(s) % 2,
	    rnd(s) % 2 ? 25 : 587, ts[rnd(s) % 4], tls[rnd(s) % 3],
	    rnd(s) % 5 == 0);
}

static void
message_sql(char *sql, size_t len, int id, int sid, const char *verb,
    uint64_t *s)
{
	static const char *const method[] = { "DATA", "BDAT", "FETCH", "RETR" };
	static const char *const size[] = { "NULL", "0", "1234", "99999" };

	snprintf(sql, len,
	    "%s INTO messages (id, session_id, tx, proto, method, direction,"
	    " begin_ts, partial, complete, size, attachments, from_addr,"
	    " to_addrs) VALUES (%d, %d, %d, coalesce((SELECT proto FROM"
	    " sessions WHERE id = %d), 'smtp'), '%s', 'c2s', %s, %u, %u, %s,"
	    " %u, %s, %s)",
	    verb, id, sid, id, sid, method[rnd(s) % 4],
	    rnd(s) % 3 ? "1700000000.25" : "1e13", rnd(s) % 4 == 0, rnd(s) % 2,
	    size[rnd(s) % 4], rnd(s) % 3, addr(s), addr(s));
}

/* What the roads do to a session row: what (0 to 4) inserts it (when
 * absent), replaces it, gives it TLS or none, another protocol, or
 * deletes it */
static void
session_change_sql(char *sql, size_t len, int what, int sid, uint64_t *s)
{
	switch (what) {
	case 0:
		session_sql(sql, len, sid, "INSERT OR IGNORE", s);
		break;
	case 1: /* a spool's changed row, or a rotation's carried one */
		session_sql(sql, len, sid, "INSERT OR REPLACE", s);
		break;
	case 2:
		snprintf(sql, len,
		    "UPDATE sessions SET tls = '%s' WHERE id = %d",
		    rnd(s) % 2 ? "starttls" : "none", sid);
		break;
	case 3: /* a session found to speak another protocol */
		snprintf(sql, len,
		    "UPDATE sessions SET proto = '%s' WHERE id = %d",
		    rnd(s) % 2 ? "imap" : "pop3", sid);
		break;
	default:
		snprintf(sql, len, "DELETE FROM sessions WHERE id = %d", sid);
		break;
	}
}

/* One step of what rows do in a log, chosen by s. */
static void
step(sqlite3 *db, uint64_t *s)
{
	char			 sql[1024];
	static const char *const mech[] = { "PLAIN", "LOGIN", "CRAM-MD5" };
	static const char *const outcome[] = { "success", "failure" };
	int op = (int)(rnd(s) % 23), sid = 1 + (int)(rnd(s) % SESSIONS),
	    mid = 1 + (int)(rnd(s) % MESSAGES),
	    aid = 1 + (int)(rnd(s) % LOGINS);

	switch (op) {
	case 0:
	case 1:
		session_change_sql(sql, sizeof(sql), 0, sid, s);
		break;
	case 2:
	case 3:
		session_change_sql(sql, sizeof(sql), op - 1, sid, s);
		break;
	case 4:
		snprintf(sql, sizeof(sql),
		    "UPDATE sessions SET server_port = server_port + 1,"
		    " start_ts = start_ts + 3600 WHERE id = %d",
		    sid);
		break;
	case 5:
		session_change_sql(sql, sizeof(sql), 4, sid, s);
		break;
	case 6:
	case 7:
		message_sql(sql, sizeof(sql), mid, sid, "INSERT OR IGNORE", s);
		break;
	case 8:
		message_sql(sql, sizeof(sql), mid, sid, "INSERT OR REPLACE", s);
		break;
	case 9:
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET partial = 1 - partial WHERE id = %d",
		    mid);
		break;
	case 10: /* its header, as the writer's */
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET from_addr = coalesce(from_addr, %s),"
		    " to_addrs = coalesce(to_addrs, %s), attachments ="
		    " attachments + %u WHERE id = %d",
		    addr(s), addr(s), rnd(s) % 2, mid);
		break;
	case 11: /* its end */
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET complete = %u, size = %u WHERE id = %d",
		    rnd(s) % 2, rnd(s) % 5000, mid);
		break;
	case 12:
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET from_addr = %s, method = 'APPEND'"
		    " WHERE id = %d",
		    addr(s), mid);
		break;
	case 13:
		snprintf(sql, sizeof(sql),
		    "UPDATE messages SET begin_ts = begin_ts + 1800 WHERE"
		    " id = %d",
		    mid);
		break;
	case 14:
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE id = %d",
		    mid);
		break;
	case 16: /* a login, its session there or not (yet) */
	case 17:
		snprintf(sql, sizeof(sql),
		    "INSERT OR %s INTO auth (id, session_id, ts, mechanism,"
		    " password, outcome) VALUES (%d, %d, 1.0, '%s', %s, '%s')",
		    rnd(s) % 2 ? "REPLACE" : "IGNORE", aid, sid,
		    mech[rnd(s) % 3], rnd(s) % 2 ? "'secret'" : "NULL",
		    outcome[rnd(s) % 2]);
		break;
	case 18:
		snprintf(sql, sizeof(sql),
		    "UPDATE auth SET session_id = %d, outcome = '%s', password ="
		    " %s WHERE id = %d",
		    sid, outcome[rnd(s) % 2], rnd(s) % 2 ? "'x'" : "NULL", aid);
		break;
	case 19:
		snprintf(sql, sizeof(sql), "DELETE FROM auth WHERE id = %d",
		    aid);
		break;
	case 20:
		session_change_sql(sql, sizeof(sql), 3, sid, s);
		break;
	case 21:
		snprintf(sql, sizeof(sql),
		    "INSERT OR REPLACE INTO anomalies (id, session_id, ts,"
		    " direction, name) VALUES (%d, %d, 1.0, 'c2s', '%s')",
		    aid, sid, rnd(s) % 2 ? "stream_gap" : "bare_lf");
		break;
	case 22:
		snprintf(sql, sizeof(sql),
		    rnd(s) % 2 ? "DELETE FROM anomalies WHERE id = %d" :
				 "UPDATE anomalies SET name = 'renamed' WHERE"
				 " id = %d",
		    aid);
		break;
	default: /* what changes nothing of the sums */
		snprintf(sql, sizeof(sql),
		    "UPDATE sessions SET end_reason = 'quit' WHERE id = %d",
		    sid);
		break;
	}
	run(db, sql);
}

/* A log with its sums, walked n steps of a random road from seed, its
 * sums equal to the groups asked after every step */
static sqlite3 *
walked_log(void (*one)(sqlite3 *, uint64_t *), uint64_t seed, int n)
{
	sqlite3 *db = log_new(1);
	uint64_t s = seed;

	for (int i = 0; i < n; i++) {
		one(db, &s);
		if (sums_differ(db) != 0)
			fail_msg("seed %llu, step %d: the sums differ",
			    (unsigned long long)seed, i);
	}
	return db;
}

static void
random_roads(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		sqlite3 *db = walked_log(step, seed, 400);

		/* the steps reached every kind of group, and the edges */
		assert_int_equal(
		    count_of(db,
			"SELECT (SELECT count(*) FROM stat_protos) > 1"
			" AND (SELECT count(*) FROM stat_kinds) > 2"
			" AND (SELECT count(*) FROM stat_senders"
			" WHERE typeof(addr) = 'blob') > 0"
			" AND (SELECT count(*) FROM stat_hours"
			" WHERE hour = '') > 0"
			" AND (SELECT count(*) FROM stat_kinds"
			" WHERE sized < messages) > 0"
			" AND (SELECT sum(in_clear) FROM stat_auths) > 0"
			" AND (SELECT count(*) FROM stat_anomalies) > 1"),
		    1);
		sqlite3_close(db);
	}
}

/* The rows of a session the findings' checks read, chosen by s: written
 * only while the session is open (not summed yet), as every road into a
 * log writes them; an ended session's rows no longer change. */
static void
finding_row_sql(char *sql, size_t len, int sid, uint64_t *s)
{
	static const char *const kw[] = { "STARTTLS", "STLS", "PIPELINING" };
	static const char *const verb[] = { "STARTTLS", "STLS", "MAIL" };
	static const char *const reply[] = { "220, NULL", "454, NULL",
		"NULL, 'ok'", "NULL, 'no'" };
	static const char *const version[] = { "TLSv12", "TLSv10", "SSLv3" };
	static const char *const cipher[] = { "TLS_AES_128_GCM_SHA256",
		"TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA" };
	static const char *const valid[] = { "ok", "expired", "self-signed" };
	switch (rnd(s) % 5) {
	case 0:
		snprintf(sql, len,
		    "INSERT INTO extensions VALUES (%d, '%s', NULL)", sid,
		    kw[rnd(s) % 3]);
		break;
	case 1:
		snprintf(sql, len,
		    "INSERT OR REPLACE INTO transactions (session_id, tx,"
		    " mail_seq, ts, mail_from) VALUES (%d, %u, %u, 1.0, 'a@x')",
		    sid, 1 + rnd(s) % 2, 1 + rnd(s) % 6);
		break;
	case 2:
		snprintf(sql, len,
		    "INSERT OR REPLACE INTO auth (id, session_id, ts, mechanism,"
		    " outcome, seq) VALUES (%d00 + %u, %d, 1.0, 'PLAIN',"
		    " 'success', %u)",
		    sid, rnd(s) % 2, sid, 1 + rnd(s) % 6);
		break;
	case 3:
		snprintf(sql, len,
		    "INSERT OR REPLACE INTO commands (session_id, seq, ts, verb,"
		    " reply_code, reply_status) VALUES (%d, %u, 1.0, '%s', %s)",
		    sid, 1 + rnd(s) % 6, verb[rnd(s) % 3], reply[rnd(s) % 4]);
		break;
	default:
		snprintf(sql, len,
		    "INSERT OR REPLACE INTO tls (session_id, ts, version, cipher,"
		    " validation, sni, sni_matches_cert, greeting_matches_cert)"
		    " VALUES (%d, 1.0, '%s', '%s', '%s', 'mx', %u, %u)",
		    sid, version[rnd(s) % 3], cipher[rnd(s) % 3],
		    valid[rnd(s) % 3], rnd(s) % 2, rnd(s) % 2);
		break;
	}
}

/* One step of what the findings' rows do, chosen by s */
static void
finding_step(sqlite3 *db, uint64_t *s)
{
	char sql[2048];
	int  op = (int)(rnd(s) % 24), sid = 1 + (int)(rnd(s) % SESSIONS);

	switch (op) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
		session_change_sql(sql, sizeof(sql), op == 0 ? 0 : op - 1, sid,
		    s);
		break;
	case 6: /* its end: settled at the next ship */
		snprintf(sql, sizeof(sql),
		    "UPDATE sessions SET end_reason = 'quit' WHERE id = %d",
		    sid);
		break;
	case 7:
		assert_int_equal(sqlite_findings_settle(db), 0);
		return;
	default: { /* written only where the session is open */
		char open[256];

		snprintf(open, sizeof(open),
		    "SELECT count(*) FROM sessions WHERE id = %d AND id NOT IN"
		    " (SELECT session_id FROM stat_findings_open)",
		    sid);
		if (count_of(db, open) != 0)
			return;
		finding_row_sql(sql, sizeof(sql), sid, s);
		break;
	}
	}
	run(db, sql);
}

/* The findings' sums equal the findings counted as asked at every step
 * of random roads, and the sums hold most kinds of finding. */
static void
findings_roads(void **state)
{
	long kinds = 0, summed = 0, k;

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		sqlite3 *db = walked_log(finding_step, seed, 600);

		k = count_of(db,
		    "SELECT count(DISTINCT finding) FROM stat_findings");
		if (k > kinds)
			kinds = k;
		summed += count_of(db,
		    "SELECT coalesce(sum(n), 0) FROM stat_findings");
		sqlite3_close(db);
	}
	assert_true(kinds >= 7);
	assert_true(summed >= 80);
}

/* A log that predates the sums: filled from its rows when they come. */
static void
filled_from_rows(void **state)
{
	sqlite3 *db = log_new(0);
	uint64_t s = 99;
	char	 err[512];

	(void)state;
	for (int i = 0; i < 600; i++)
		step(db, &s);
	assert_int_equal(sqlite_hosts_schema(db, err, sizeof(err)), 0);
	assert_int_equal(sqlite_stats_schema(db, err, sizeof(err)), 0);
	assert_int_equal(sqlite_findings_sums_schema(db, err, sizeof(err)), 0);
	assert_int_equal(sums_differ(db), 0);
	assert_true(count_of(db, "SELECT count(*) FROM stat_servers") > 2);
	/* made again: kept, not filled twice */
	assert_int_equal(sqlite_stats_schema(db, err, sizeof(err)), 0);
	assert_int_equal(sums_differ(db), 0);
	for (int i = 0; i < 200; i++)
		step(db, &s);
	assert_int_equal(sums_differ(db), 0);
	sqlite3_close(db);
}

/* A log opened to be read that has no sums gets the views summed as
 * asked; one that has them keeps its own. */
static void
views_for_a_reader(void **state)
{
	sqlite3 *db = log_new(0);
	uint64_t s = 7;

	(void)state;
	for (int i = 0; i < 300; i++)
		step(db, &s);
	assert_int_equal(sqlite_stats_views(db), 0);
	assert_int_equal(count_of(db,
			     "SELECT count(*) FROM sqlite_temp_master WHERE"
			     " name LIKE 'v_stat_%'"),
	    (long)nsqlite_stats_asked);
	assert_int_equal(sums_differ(db), 0);
	sqlite3_close(db);
	db = log_new(1);
	assert_int_equal(sqlite_stats_views(db), 0);
	assert_int_equal(count_of(db,
			     "SELECT count(*) FROM sqlite_temp_master WHERE"
			     " name LIKE 'v_stat_%'"),
	    0);
	sqlite3_close(db);
}

/* Each top list, as `mailsift stats` asks it, is read off its index
 * in its order: nothing sorted, no table read whole. */
static void
top_lists_off_their_index(void **state)
{
	static const struct {
		const char *sql, *index;
	} top[] = {
		{ "SELECT addr, messages FROM v_stat_senders ORDER BY messages"
		  " DESC, CAST(addr AS TEXT) LIMIT 10",
		    "stat_senders_messages" },
		{ "SELECT addr, messages FROM v_stat_recipients ORDER BY"
		  " messages DESC, CAST(addr AS TEXT) LIMIT 10",
		    "stat_recipients_messages" },
		{ "SELECT ip, port, proto, sessions FROM v_stat_servers ORDER"
		  " BY sessions DESC, CAST(ip AS TEXT), port, proto LIMIT 10",
		    "stat_servers_sessions" },
		{ "SELECT ip, sessions FROM v_stat_clients ORDER BY sessions"
		  " DESC, CAST(ip AS TEXT) LIMIT 10",
		    "host_stats_clients" },
	};
	sqlite3 *db = log_new(1);

	(void)state;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		sqlite3_stmt *st;
		char	     *sql =
		    sqlite3_mprintf("EXPLAIN QUERY PLAN %s", top[i].sql);
		int sorts = 0, index = 0;

		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		    SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *d =
			    (const char *)sqlite3_column_text(st, 3);

			sorts += strstr(d, "TEMP B-TREE") != NULL;
			index += strstr(d, top[i].index) != NULL;
		}
		sqlite3_finalize(st);
		sqlite3_free(sql);
		if (sorts != 0 || index != 1)
			fail_msg("%s: %d sorts, index %s %d times", top[i].sql,
			    sorts, top[i].index, index);
	}
	sqlite3_close(db);
}

/* The hour C makes is SQLite's, where C makes one: at the edges of
 * hours and of the ranges, and at random times. */
static void
hours_as_sqlite_has_them(void **state)
{
	static const double edge[] = { 0, 0.0004, 0.0005, 3599.9994, 3599.9995,
		3599.9996, 1700003599.9996, 1700003600.5, 253402300799.9994,
		253402300799.9996, 253402300800, 1e12, -0.0004, -1, -1e10,
		5373484.4 };
	sqlite3		   *db = log_new(0);
	sqlite3_stmt	   *st;
	uint64_t	    s = 3;
	int		    made = 0;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db,
			     "SELECT " SQLITE_STATS_HOUR("?"), -1, &st, NULL),
	    SQLITE_OK);
	for (int i = 0; i < 20000; i++) {
		double ts = i < (int)(sizeof(edge) / sizeof(edge[0])) ?
		    edge[i] :
		    (double)(rnd(&s) % 4000000000u) * (i % 2 ? 1.0 : 64.0) +
			(double)(rnd(&s) % 10000) / 10000.0;
		char   c[32];

		sqlite3_bind_double(st, 1, ts);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		if (sqlite_stats_hour(ts, c, sizeof(c)) == 0) {
			made++;
			if (strcmp(c,
				(const char *)sqlite3_column_text(st, 0)) != 0)
				fail_msg("%.4f: C %s, SQLite %s", ts, c,
				    sqlite3_column_text(st, 0));
		} else
			assert_true(ts < 0 || ts >= 253402300799.9995);
		sqlite3_reset(st);
	}
	assert_true(made > 19000);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A message's outcome as the walks and the sort index spell it
 * (QUERY_SQLITE_OUTCOME) is v_messages' on every kind of row, and the
 * index made of it is the one a filter by the view's outcome reads. */
static void
outcome_spelled_alike(void **state)
{
	static const char *const sent[] = { "NULL", "'accepted'", "'rejected'",
		"'partly accepted'", "'unknown'" };
	sqlite3			*db = log_new(0);
	sqlite3_stmt		*st;
	char			 sql[512];
	int			 id = 0, index = 0;

	(void)state;
	run(db,
	    "INSERT INTO sessions (id, run_id, proto, client_ip, client_port,"
	    " server_ip, server_port, start_ts) VALUES (1, 1, 'smtp',"
	    " '10.0.0.1', 1000, '192.0.2.1', 25, 1700000000)");
	for (int dir = 0; dir < 2; dir++)
		for (int complete = 0; complete < 2; complete++)
			for (size_t o = 0; o < sizeof(sent) / sizeof(*sent);
			     o++) {
				snprintf(sql, sizeof(sql),
				    "INSERT INTO messages (id, session_id, tx,"
				    " proto, method, direction, begin_ts,"
				    " complete, sent_outcome) VALUES (%d, 1, %d,"
				    " 'smtp', 'DATA', '%s', 1700000000, %d,"
				    " %s)",
				    id + 1, id + 1, dir ? "s2c" : "c2s",
				    complete, sent[o]);
				run(db, sql);
				id++;
			}
	assert_int_equal(count_of(db,
			     "SELECT count(*) FROM v_messages v JOIN messages m"
			     " ON m.id = v.message_id WHERE v.outcome IS NOT"
			     " (" QUERY_SQLITE_OUTCOME("m.") ")"),
	    0);
	assert_int_equal(count_of(db,
			     "SELECT count(DISTINCT outcome) FROM"
			     " v_messages"),
	    6);
	run(db,
	    "CREATE INDEX messages_sort_outcome ON messages(" QUERY_SQLITE_OUTCOME(
		"") ")");
	assert_int_equal(sqlite3_prepare_v2(db,
			     "EXPLAIN QUERY PLAN SELECT message_id FROM"
			     " v_messages WHERE outcome = 'accepted'",
			     -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		index += strstr((const char *)sqlite3_column_text(st, 3),
			     "messages_sort_outcome") != NULL;
	sqlite3_finalize(st);
	assert_int_equal(index, 1);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_roads),
		cmocka_unit_test(findings_roads),
		cmocka_unit_test(filled_from_rows),
		cmocka_unit_test(views_for_a_reader),
		cmocka_unit_test(top_lists_off_their_index),
		cmocka_unit_test(hours_as_sqlite_has_them),
		cmocka_unit_test(outcome_spelled_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
