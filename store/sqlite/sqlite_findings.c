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
	sqlite3_stmt *st;
	int	      current;

	/* the log's own view, when it has every session column */
	if (sqlite3_prepare_v2(db,
		"SELECT 1 FROM pragma_table_info('v_tls_findings', 'main')"
		" WHERE name = 'user'",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	current = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (current)
		return 0;
	return sqlite3_exec(db,
		   "CREATE TEMP VIEW v_tls_findings AS " FINDINGS_SQL, NULL,
		   NULL, NULL) == SQLITE_OK ?
	    0 :
	    -1;
}
