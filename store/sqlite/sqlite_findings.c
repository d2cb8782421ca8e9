/* \summary: SQLite store: v_tls_findings, read in session order */
/*
 * What TLS left exposed or weak, one row a finding, with its session's
 * time, protocol and ends.  Each check reads its candidates in session
 * order, from an index that holds only them (schema.sql: the clear
 * sessions, the STARTTLS keywords offered, the STARTTLS commands, each
 * TLS check's sessions), and every arm gives its columns one affinity
 * (the CASTs).  So a listing ordered by session and finding, with a
 * LIMIT, is the arms merged as they are read (SQLite flattens the view
 * into the listing's query and pushes its filters into each arm): its
 * first page at a million findings in a millisecond, where the UNION
 * made whole and then sorted took 3.4 s.  Without the CASTs, or with a
 * join in the listing's own FROM, SQLite cannot flatten it and sorts
 * every row again.
 *
 * The view lives here, not in schema.sql, because a log made before it
 * and opened read-only (as every listing opens a log) gets it as a view
 * of the connection: its own v_tls_findings lacks the session columns
 * the listing filters on.  A log written again gets it in its schema.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "store/sqlite/sqlite_priv.h"

/* A session's columns that every arm gives, for the listing's filters */
#define SESSION_COLS                                                    \
	" datetime(s.start_ts, 'unixepoch') AS time, s.proto AS proto," \
	" s.client_ip AS client, s.server_ip AS server,"                \
	" s.username AS \"user\""
/* u: the first STARTTLS or STLS of the session that the server took */
#define FIRST_UPGRADE(u)                                             \
	" " u ".verb IN ('STARTTLS', 'STLS')"                        \
	" AND (" u ".reply_code = 220 OR " u ".reply_status = 'ok')" \
	" AND NOT EXISTS (SELECT 1 FROM commands p"                  \
	" WHERE p.session_id = " u ".session_id"                     \
	" AND p.verb IN ('STARTTLS', 'STLS')"                        \
	" AND (p.reply_code = 220 OR p.reply_status = 'ok')"         \
	" AND p.seq < " u ".seq)"
/* A check of what crossed before the session's first accepted
 * STARTTLS: the rows of table (as x) whose command, its column seq,
 * came before that one */
#define BEFORE_UPGRADE(finding, detail, table, seq)                   \
	" UNION ALL SELECT u.session_id, '" finding "', CAST(" detail \
	" AS TEXT)," SESSION_COLS " FROM commands u"                  \
	" CROSS JOIN " table " x ON x.session_id = u.session_id"      \
	" CROSS JOIN sessions s ON s.id = u.session_id"               \
	" WHERE x." seq " < u.seq AND" FIRST_UPGRADE("u")
/* A check of the tls row alone: its finding, detail and condition */
#define TLS_CHECK(finding, detail, cond)                              \
	" UNION ALL SELECT t.session_id, '" finding "', CAST(" detail \
	" AS TEXT)," SESSION_COLS " FROM tls t"                       \
	" CROSS JOIN sessions s ON s.id = t.session_id WHERE " cond

/* NULL, anonymous, export, RC4, RC2, DES and 3DES suites; as the
 * tls_weak index of schema.sql says it, term for term */
#define TLS_WEAK_CIPHER                                         \
	"(t.cipher LIKE '%\\_NULL\\_%' ESCAPE '\\'"             \
	" OR t.cipher LIKE '%\\_anon\\_%' ESCAPE '\\'"          \
	" OR t.cipher LIKE '%EXPORT%' OR t.cipher LIKE '%RC4%'" \
	" OR t.cipher LIKE '%DES%'"                             \
	" OR t.cipher LIKE '%\\_RC2\\_%' ESCAPE '\\')"

/* offered, and credentials or mail crossed in clear (mail asked first:
 * most sessions carry some and few log in, and each EXISTS is a probe
 * of an index for every clear session: 700 -> 575 ms for the million
 * of the bench log) */
#define STARTTLS_NOT_USED                                                       \
	"SELECT s.id AS session_id, 'starttls_not_used' AS finding,"            \
	" CAST('the server offered ' || e.keyword ||"                           \
	" '; the session stayed in clear' AS TEXT) AS detail," SESSION_COLS     \
	" FROM sessions s JOIN extensions e ON e.session_id = s.id"             \
	" WHERE s.tls = 'none' AND upper(e.keyword) IN ('STARTTLS', 'STLS')"    \
	" AND (EXISTS (SELECT 1 FROM transactions t WHERE t.session_id = s.id)" \
	" OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id)"       \
	" OR EXISTS (SELECT 1 FROM auth a WHERE a.session_id = s.id))"
#define TLS_CHECKS                                                             \
	TLS_CHECK("tls_below_1_2", "t.version",                                \
	    "t.version IN ('SSLv2', 'SSLv3', 'TLSv10', 'TLSv11')")             \
	TLS_CHECK("tls_weak_cipher", "t.cipher", TLS_WEAK_CIPHER)              \
	TLS_CHECK("tls_cert_invalid", "t.validation",                          \
	    "t.validation IS NOT NULL AND t.validation <> 'ok'")               \
	TLS_CHECK("tls_cert_name_mismatch", "t.sni", "t.sni_matches_cert = 0") \
	TLS_CHECK("tls_cert_greeting_mismatch", "s.banner",                    \
	    "t.greeting_matches_cert = 0")

#define FINDINGS_SQL                                                         \
	STARTTLS_NOT_USED                                                    \
	BEFORE_UPGRADE("credentials_before_tls",                             \
	    "x.mechanism || coalesce(' ' || x.username, '')", "auth", "seq") \
	BEFORE_UPGRADE("mail_before_tls", "coalesce(x.mail_from, '')",       \
	    "transactions", "mail_seq")                                      \
	TLS_CHECKS

int
sqlite_findings_schema(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db,
		"DROP VIEW IF EXISTS main.v_tls_findings;"
		" CREATE VIEW main.v_tls_findings AS " FINDINGS_SQL,
		NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "v_tls_findings: %s",
	    msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

int
sqlite_findings_view(sqlite3 *db)
{
	/* the log's own view, when it has every session column */
	int current = sqlite_has_column(db, "v_tls_findings", "user");

	if (current != 0)
		return current > 0 ? 0 : -1;
	return sqlite3_exec(db,
		   "CREATE TEMP VIEW v_tls_findings AS " FINDINGS_SQL, NULL,
		   NULL, NULL) == SQLITE_OK ?
	    0 :
	    -1;
}

/* ------------------------------------------------- the findings' sums */
/*
 * The findings' total and their values (by kind, by protocol) read every
 * candidate session of the eight checks: 2 s at a million findings.
 * stat_findings keeps them summed by finding and protocol for every
 * session but those in stat_findings_open, which v_stat_findings counts
 * as asked, from the view; the two together are the view's groups.  A
 * session goes into the sums once it has ended, when its rows no longer
 * change; until then it is open, so a session still being written is
 * never summed as it was.
 *
 * The writer (its triggers off) settles at each commit the sessions that
 * ended in it, and records as open those begun in it and not ended.  The
 * other roads into a log (a spool's rows shipped, a rotation's carried
 * sessions, any other connection) go by the triggers below: a session
 * inserted is open; one deleted, or whose protocol or TLS changes, takes
 * its share away and is open again; and a receiver settles the ended
 * ones at each ship (sqlite_findings_settle).  A session that nobody
 * settles stays exact, counted as asked.
 */

/* session r (its row as a trigger has it) no longer summed: its
 * findings taken away, and open again */
#define SETTLED(r) \
	"NOT EXISTS (SELECT 1 FROM stat_findings_open WHERE session_id = " r ")"
#define FINDINGS_OUT(r)                                                   \
	"INSERT INTO stat_findings SELECT * FROM (SELECT finding, proto," \
	" -count(*) FROM v_tls_findings WHERE session_id = " r ".id"      \
	" GROUP BY 1, 2) WHERE 1 ON CONFLICT (finding, proto)"            \
	" DO UPDATE SET n = n + excluded.n;"                              \
	"DELETE FROM stat_findings WHERE n <= 0;"                         \
	"INSERT OR IGNORE INTO stat_findings_open VALUES (" r ".id);"

static const char *const findings_sums_schema[] = {
	"CREATE TABLE IF NOT EXISTS stat_findings (finding TEXT NOT NULL,"
	" proto TEXT NOT NULL, n INTEGER NOT NULL,"
	" PRIMARY KEY (finding, proto)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS stat_findings_open"
	" (session_id INTEGER PRIMARY KEY)",
	"DROP VIEW IF EXISTS v_stat_findings",
	"CREATE VIEW v_stat_findings AS SELECT finding, proto, sum(n) AS n"
	" FROM (SELECT finding, proto, n FROM stat_findings UNION ALL"
	" SELECT finding, proto, 1 FROM v_tls_findings WHERE session_id IN"
	" (SELECT session_id FROM stat_findings_open)) AS f GROUP BY 1, 2"
	" HAVING sum(n) > 0",
	"CREATE TRIGGER IF NOT EXISTS stats_findings_added AFTER INSERT ON"
	" sessions BEGIN INSERT OR IGNORE INTO stat_findings_open"
	" VALUES (new.id); END",
	"CREATE TRIGGER IF NOT EXISTS stats_findings_removed BEFORE DELETE ON"
	" sessions WHEN " SETTLED("old.id") " BEGIN " FINDINGS_OUT(
	    "old") " END",
	"CREATE TRIGGER IF NOT EXISTS stats_findings_gone AFTER DELETE ON"
	" sessions BEGIN DELETE FROM stat_findings_open"
	" WHERE session_id = old.id; END",
	"CREATE TRIGGER IF NOT EXISTS stats_findings_changed BEFORE UPDATE OF"
	" proto, tls ON sessions WHEN (old.proto IS NOT new.proto OR"
	" old.tls IS NOT new.tls) AND " SETTLED(
	    "old.id") " BEGIN " FINDINGS_OUT("old") " END",
};

/* A log's sums from its rows, when it had none: its open sessions (not
 * ended) open, the rest summed. */
static const char findings_sums_fill[] =
    "INSERT INTO stat_findings_open SELECT id FROM sessions"
    " WHERE end_reason IS NULL;"
    "INSERT INTO stat_findings SELECT finding, proto, count(*)"
    " FROM v_tls_findings WHERE session_id NOT IN"
    " (SELECT session_id FROM stat_findings_open) GROUP BY 1, 2;";

static int
findings_sums_make(sqlite3 *db, char **msg)
{
	return sqlite_schema_filled(db, findings_sums_schema,
	    sizeof(findings_sums_schema) / sizeof(*findings_sums_schema),
	    sqlite_has_table(db, "stat_findings"), findings_sums_fill, msg);
}

int
sqlite_findings_sums_schema(sqlite3 *db, char *err, size_t errlen)
{
	return sqlite_sums_schema(db, findings_sums_make, "the findings' sums",
	    err, errlen);
}

int
sqlite_findings_settle(sqlite3 *db)
{
	/* one step: a session summed and still open would count twice */
	if (sqlite3_exec(db,
		"SAVEPOINT settle; " ENDED_TABLE
		"; INSERT INTO temp.findings_ended"
		" SELECT o.session_id FROM stat_findings_open o"
		" CROSS JOIN sessions s ON s.id = o.session_id"
		" WHERE s.end_reason IS NOT NULL; " ENDED_ADDED
		"; DELETE FROM stat_findings_open WHERE session_id IN"
		" (SELECT id FROM temp.findings_ended);"
		" DELETE FROM temp.findings_ended; RELEASE settle",
		NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sqlite3_exec(db, "ROLLBACK TO settle; RELEASE settle", NULL, NULL,
	    NULL);
	return -1;
}
