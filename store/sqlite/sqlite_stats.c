/* \summary: SQLite store: the log's sums for stats and the overview */
/*
 * `mailsift stats` and serve's overview group every session and every
 * message: at a million messages, 1.9 s for the CLI on two cores, and
 * seconds for the overview each time the log grew.  The stat_ tables
 * hold those groups' sums instead, kept equal to them whichever way the
 * rows arrive, as the hosts' are (sqlite_hosts.c): the writer adds up
 * its own rows (sqlite_statsums.c), and the triggers below sum what a
 * spool ships, a rotation carries, or any other connection writes.
 *
 * What each row gives:
 *   a session: one to its protocol (with its TLS and midstream), to
 *     its server (address, port, protocol) and to the hour it began;
 *   a message (not a piece, partial = 0): one to its protocol and
 *     method (with complete, size, attachments, and whether it has no
 *     sender or no recipients), to its sender and to its recipients
 *     (when it has them) and to the hour it began;
 *   a login: one to its session's protocol, its mechanism and outcome
 *     (with whether its password crossed in clear), while its session
 *     is in the log (a session's logins come and go with it);
 *   an anomaly: one to its name.
 * A row that changes takes its old share away and gives its new; one
 * that goes takes its share away.  The clients' sums are host_stats'
 * as_client.  An hour is that of datetime(): '' where datetime() has
 * none (a time past year 9999), NULL again in the views.
 *
 * Every reader asks the v_stat_ views: here of these tables, and for a
 * log opened to be read that predates them, or PostgreSQL, the same
 * groups summed as asked (sqlite_stats_asked, pg_schema.sql).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "store/sqlite/sqlite_priv.h"

#define HOUR(ts) SQLITE_STATS_HOUR(ts)

/* a session's share in (r: new) or out (r: old) */
#define SESSION_IN(r)                                                            \
	"INSERT INTO stat_protos VALUES (" r ".proto, 1, " r ".tls <> 'none',"   \
	" " r ".midstream) ON CONFLICT (proto) DO UPDATE SET"                    \
	" sessions = sessions + 1, tls = tls + excluded.tls,"                    \
	" midstream = midstream + excluded.midstream;"                           \
	"INSERT INTO stat_servers VALUES (" r ".server_ip, " r                   \
	".server_port, " r ".proto, 1) ON CONFLICT (ip, port, proto)"            \
	" DO UPDATE SET sessions = sessions + 1;"                                \
	"INSERT INTO stat_hours VALUES (" HOUR(r                                 \
	    ".start_ts") ", " r                                                  \
			 ".proto, 1, 0) ON CONFLICT (hour, proto) DO UPDATE SET" \
			 " sessions = sessions + 1;"
#define SESSION_OUT(r)                                                         \
	"UPDATE stat_protos SET sessions = sessions - 1,"                      \
	" tls = tls - (" r ".tls <> 'none'), midstream = midstream - " r       \
	".midstream WHERE proto = " r ".proto;"                                \
	"DELETE FROM stat_protos WHERE proto = " r ".proto AND sessions <= 0;" \
	"UPDATE stat_servers SET sessions = sessions - 1 WHERE ip = " r        \
	".server_ip AND port = " r ".server_port AND proto = " r ".proto;"     \
	"DELETE FROM stat_servers WHERE ip = " r ".server_ip AND port = " r    \
	".server_port AND proto = " r ".proto AND sessions <= 0;"              \
	"UPDATE stat_hours SET sessions = sessions - 1 WHERE hour = " HOUR(    \
	    r ".start_ts") " AND proto = " r                                   \
			   ".proto;" HOURS_GONE(r ".start_ts", r)

#define HOURS_GONE(ts, r)                            \
	"DELETE FROM stat_hours WHERE hour = " HOUR( \
	    ts) " AND proto = " r                    \
		".proto AND sessions <= 0 AND messages <= 0;"

/* an address's share (col: from_addr or to_addrs) in or out */
#define ADDR_IN(table, r, col)                                            \
	"INSERT INTO " table " SELECT " r "." col ", 1 WHERE " r          \
	".partial = 0"                                                    \
	" AND " r "." col " IS NOT NULL ON CONFLICT (addr) DO UPDATE SET" \
	" messages = messages + 1;"
#define ADDR_OUT(table, r, col)                                                \
	"UPDATE " table " SET messages = messages - 1 WHERE addr = " r "." col \
	" AND " r ".partial = 0;"                                              \
	"DELETE FROM " table " WHERE addr = " r "." col " AND messages <= 0;"

/* a message's share in or out: nothing for a piece */
/* a message's share of its kind: with a size or not, without a sender
 * or recipients (the values of those listings' NULL) */
#define KIND_IN(r)                                                           \
	"INSERT INTO stat_kinds SELECT " r ".proto, " r ".method, 1, " r     \
	".complete, " r ".size IS NOT NULL, coalesce(" r ".size, 0), " r     \
	".attachments, " r ".from_addr IS NULL, " r ".to_addrs IS NULL"      \
	" WHERE " r ".partial = 0 ON CONFLICT (proto, method) DO UPDATE SET" \
	" messages = messages + 1, complete = complete + excluded.complete," \
	" sized = sized + excluded.sized, bytes = bytes + excluded.bytes,"   \
	" attachments = attachments + excluded.attachments,"                 \
	" no_from = no_from + excluded.no_from, no_to = no_to + excluded.no_to;"
#define KIND_OUT(r)                                                               \
	"UPDATE stat_kinds SET messages = messages - 1, complete = complete - " r \
	".complete, sized = sized - (" r ".size IS NOT NULL),"                    \
	" bytes = bytes - coalesce(" r ".size, 0), attachments = attachments"     \
	" - " r ".attachments, no_from = no_from - (" r ".from_addr IS NULL),"    \
	" no_to = no_to - (" r ".to_addrs IS NULL) WHERE proto = " r              \
	".proto AND method = " r ".method AND " r ".partial = 0;"                 \
	"DELETE FROM stat_kinds WHERE proto = " r ".proto AND method = " r        \
	".method AND messages <= 0;"
#define MESSAGE_HOUR_IN(r)                                          \
	"INSERT INTO stat_hours SELECT " HOUR(                      \
	    r ".begin_ts") ", " r ".proto,"                         \
			   " 0, 1 WHERE " r                         \
			   ".partial = 0 ON CONFLICT (hour, proto)" \
			   " DO UPDATE SET messages = messages + 1;"
#define MESSAGE_HOUR_OUT(r)                                                 \
	"UPDATE stat_hours SET messages = messages - 1 WHERE hour = " HOUR( \
	    r ".begin_ts") " AND proto = " r ".proto AND " r                \
			   ".partial = 0;" HOURS_GONE(r ".begin_ts", r)

/* a message's share in or out: nothing for a piece */
#define MESSAGE_IN(r)                           \
	KIND_IN(r)                              \
	ADDR_IN("stat_senders", r, "from_addr") \
	ADDR_IN("stat_recipients", r, "to_addrs") MESSAGE_HOUR_IN(r)
#define MESSAGE_OUT(r)                           \
	KIND_OUT(r)                              \
	ADDR_OUT("stat_senders", r, "from_addr") \
	ADDR_OUT("stat_recipients", r, "to_addrs") MESSAGE_HOUR_OUT(r)

/* a login's share, when its session is there (the asked groups join
 * it), in or out; and a session's logins with it */
#define AUTH_IN(r)                                                           \
	"INSERT INTO stat_auths SELECT s.proto, " r ".mechanism, " r         \
	".outcome, 1, " r ".password IS NOT NULL FROM sessions s WHERE s.id" \
	" = " r ".session_id ON CONFLICT (proto, mechanism, outcome)"        \
	" DO UPDATE SET attempts = attempts + 1,"                            \
	" in_clear = in_clear + excluded.in_clear;"
#define AUTH_OUT(r)                                                            \
	"UPDATE stat_auths SET attempts = attempts - 1, in_clear = in_clear -" \
	" (" r ".password IS NOT NULL) WHERE proto = (SELECT proto FROM"       \
	" sessions WHERE id = " r ".session_id) AND mechanism = " r            \
	".mechanism AND outcome = " r ".outcome;"                              \
	"DELETE FROM stat_auths WHERE mechanism = " r ".mechanism AND"         \
	" outcome = " r ".outcome AND attempts <= 0;"
#define LOGINS_IN(r)                                                           \
	"INSERT INTO stat_auths SELECT " r ".proto, mechanism, outcome,"       \
	" count(*), count(password) FROM auth WHERE session_id = " r ".id"     \
	" GROUP BY 2, 3 ON CONFLICT (proto, mechanism, outcome) DO UPDATE SET" \
	" attempts = attempts + excluded.attempts,"                            \
	" in_clear = in_clear + excluded.in_clear;"
#define LOGINS_OUT(r)                                                         \
	"UPDATE stat_auths SET attempts = attempts - (SELECT count(*) FROM"   \
	" auth a WHERE a.session_id = " r ".id AND a.mechanism ="             \
	" stat_auths.mechanism AND a.outcome = stat_auths.outcome),"          \
	" in_clear = in_clear - (SELECT count(password) FROM auth a WHERE"    \
	" a.session_id = " r ".id AND a.mechanism = stat_auths.mechanism AND" \
	" a.outcome = stat_auths.outcome) WHERE proto = " r ".proto AND"      \
	" (mechanism, outcome) IN (SELECT mechanism, outcome FROM auth"       \
	" WHERE session_id = " r ".id);"                                      \
	"DELETE FROM stat_auths WHERE proto = " r ".proto AND attempts <= 0;"
#define ANOMALY_IN(r)                                                   \
	"INSERT INTO stat_anomalies VALUES (" r ".name, 1) ON CONFLICT" \
	" (name) DO UPDATE SET count = count + 1;"
#define ANOMALY_OUT(r)                                                  \
	"UPDATE stat_anomalies SET count = count - 1 WHERE name = " r   \
	".name; DELETE FROM stat_anomalies WHERE name = " r ".name AND" \
	" count <= 0;"

#define TRIGGER(name, when, body)                                          \
	"CREATE TRIGGER IF NOT EXISTS stats_" name " " when " BEGIN " body \
	" END"

#define CHANGED(col) "old." col " IS NOT new." col
#define SESSION_CHANGED                                                         \
	CHANGED("proto")                                                        \
	" OR " CHANGED("midstream") " OR " CHANGED("server_ip") " OR " CHANGED( \
	    "server_port") " OR " CHANGED("start_ts") " OR (old.tls <> 'none') IS NOT (new.tls <> 'none')"
#define MESSAGE_CHANGED                                                                                                    \
	CHANGED("partial")                                                                                                 \
	" OR " CHANGED("proto") " OR " CHANGED("method") " OR " CHANGED("complete") " OR " CHANGED("size") " OR " CHANGED( \
	    "attachments") " OR " CHANGED("from_addr") " OR " CHANGED("to_addrs") " OR " CHANGED("begin_ts")

#define AUTH_CHANGED                                       \
	CHANGED("session_id")                              \
	" OR " CHANGED("mechanism") " OR " CHANGED(        \
	    "outcome") " OR (old.password IS NULL) IS NOT" \
		       " (new.password IS NULL)"

static const char *const stats_schema[] = {
	"CREATE TABLE IF NOT EXISTS stat_protos (proto TEXT PRIMARY KEY,"
	" sessions INTEGER NOT NULL, tls INTEGER NOT NULL,"
	" midstream INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS stat_servers (ip TEXT NOT NULL,"
	" port INTEGER NOT NULL, proto TEXT NOT NULL,"
	" sessions INTEGER NOT NULL, PRIMARY KEY (ip, port, proto))"
	" WITHOUT ROWID",
	/* the listings' orders, the busiest first, read off in order */
	"CREATE INDEX IF NOT EXISTS stat_servers_sessions ON"
	" stat_servers(sessions DESC, CAST(ip AS TEXT), port, proto)",
	"CREATE TABLE IF NOT EXISTS stat_kinds (proto TEXT NOT NULL,"
	" method TEXT NOT NULL, messages INTEGER NOT NULL,"
	" complete INTEGER NOT NULL,"
	" sized INTEGER NOT NULL," /* with a size: none, no bytes */
	" bytes INTEGER NOT NULL, attachments INTEGER NOT NULL,"
	" no_from INTEGER NOT NULL," /* without a sender */
	" no_to INTEGER NOT NULL,"   /* without recipients */
	" PRIMARY KEY (proto, method)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS stat_senders (addr TEXT PRIMARY KEY,"
	" messages INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS stat_senders_messages ON"
	" stat_senders(messages DESC, CAST(addr AS TEXT))",
	"CREATE TABLE IF NOT EXISTS stat_recipients (addr TEXT PRIMARY KEY,"
	" messages INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS stat_recipients_messages ON"
	" stat_recipients(messages DESC, CAST(addr AS TEXT))",
	"CREATE TABLE IF NOT EXISTS stat_hours (hour TEXT NOT NULL,"
	" proto TEXT NOT NULL, sessions INTEGER NOT NULL,"
	" messages INTEGER NOT NULL, PRIMARY KEY (hour, proto)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS stat_auths (proto TEXT NOT NULL,"
	" mechanism TEXT NOT NULL, outcome TEXT NOT NULL,"
	" attempts INTEGER NOT NULL, in_clear INTEGER NOT NULL,"
	" PRIMARY KEY (proto, mechanism, outcome)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS stat_anomalies (name TEXT PRIMARY KEY,"
	" count INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS host_stats_clients ON"
	" host_stats(as_client DESC, CAST(ip AS TEXT)) WHERE as_client > 0",
	"DROP VIEW IF EXISTS v_stat_protos",
	"CREATE VIEW v_stat_protos AS SELECT proto, sessions, tls, midstream"
	" FROM stat_protos WHERE sessions > 0",
	"DROP VIEW IF EXISTS v_stat_kinds",
	"CREATE VIEW v_stat_kinds AS SELECT proto, method, messages, complete,"
	" CASE WHEN sized > 0 THEN bytes END AS bytes, attachments, no_from,"
	" no_to FROM stat_kinds WHERE messages > 0",
	"DROP VIEW IF EXISTS v_stat_senders",
	"CREATE VIEW v_stat_senders AS SELECT addr, messages FROM stat_senders"
	" WHERE messages > 0",
	"DROP VIEW IF EXISTS v_stat_recipients",
	"CREATE VIEW v_stat_recipients AS SELECT addr, messages FROM"
	" stat_recipients WHERE messages > 0",
	"DROP VIEW IF EXISTS v_stat_servers",
	"CREATE VIEW v_stat_servers AS SELECT ip, port, proto, sessions"
	" FROM stat_servers WHERE sessions > 0",
	"DROP VIEW IF EXISTS v_stat_clients",
	"CREATE VIEW v_stat_clients AS SELECT ip, as_client AS sessions"
	" FROM host_stats WHERE as_client > 0",
	"DROP VIEW IF EXISTS v_stat_auths",
	"CREATE VIEW v_stat_auths AS SELECT proto, mechanism, outcome,"
	" attempts, in_clear FROM stat_auths WHERE attempts > 0",
	"DROP VIEW IF EXISTS v_stat_anomalies",
	"CREATE VIEW v_stat_anomalies AS SELECT name, count FROM"
	" stat_anomalies WHERE count > 0",
	"DROP VIEW IF EXISTS v_stat_hours",
	"CREATE VIEW v_stat_hours AS SELECT nullif(hour, '') AS hour, proto,"
	" sessions, messages FROM stat_hours",
	TRIGGER("session_added", "AFTER INSERT ON sessions", SESSION_IN("new")),
	TRIGGER("session_removed", "AFTER DELETE ON sessions",
	    SESSION_OUT("old")),
	TRIGGER("session_changed",
	    "AFTER UPDATE OF proto, tls, midstream, server_ip, server_port,"
	    " start_ts ON sessions WHEN " SESSION_CHANGED,
	    SESSION_OUT("old") SESSION_IN("new")),
	/* a session's logins come and go with it (a spool's replaced row) */
	TRIGGER("logins_added", "AFTER INSERT ON sessions", LOGINS_IN("new")),
	TRIGGER("logins_removed", "AFTER DELETE ON sessions",
	    LOGINS_OUT("old")),
	TRIGGER("logins_moved",
	    "AFTER UPDATE OF proto ON sessions WHEN " CHANGED("proto"),
	    LOGINS_OUT("old") LOGINS_IN("new")),
	TRIGGER("auth_added", "AFTER INSERT ON auth", AUTH_IN("new")),
	TRIGGER("auth_removed", "AFTER DELETE ON auth", AUTH_OUT("old")),
	TRIGGER("auth_changed",
	    "AFTER UPDATE OF session_id, mechanism, outcome, password ON auth"
	    " WHEN " AUTH_CHANGED,
	    AUTH_OUT("old") AUTH_IN("new")),
	TRIGGER("anomaly_added", "AFTER INSERT ON anomalies",
	    ANOMALY_IN("new")),
	TRIGGER("anomaly_removed", "AFTER DELETE ON anomalies",
	    ANOMALY_OUT("old")),
	TRIGGER("anomaly_changed",
	    "AFTER UPDATE OF name ON anomalies WHEN " CHANGED("name"),
	    ANOMALY_OUT("old") ANOMALY_IN("new")),
	TRIGGER("message_added",
	    "AFTER INSERT ON messages WHEN new.partial = 0", MESSAGE_IN("new")),
	TRIGGER("message_removed",
	    "AFTER DELETE ON messages WHEN old.partial = 0",
	    MESSAGE_OUT("old")),
	TRIGGER("message_changed",
	    "AFTER UPDATE OF partial, proto, method, complete, size,"
	    " attachments, from_addr, to_addrs, begin_ts ON messages"
	    " WHEN " MESSAGE_CHANGED,
	    MESSAGE_OUT("old") MESSAGE_IN("new")),
};

/* A log's sums from its rows, when it had none (made before them). */
static const char stats_fill[] =
    "INSERT INTO stat_protos SELECT proto, count(*), sum(tls <> 'none'),"
    " sum(midstream) FROM sessions GROUP BY proto;"
    "INSERT INTO stat_servers SELECT server_ip, server_port, proto, count(*)"
    " FROM sessions GROUP BY 1, 2, 3;"
    "INSERT INTO stat_kinds SELECT proto, method, count(*), sum(complete),"
    " count(size), coalesce(sum(size), 0), sum(attachments),"
    " sum(from_addr IS NULL), sum(to_addrs IS NULL) FROM messages"
    " WHERE partial = 0 GROUP BY 1, 2;"
    "INSERT INTO stat_senders SELECT from_addr, count(*) FROM messages"
    " WHERE partial = 0 AND from_addr IS NOT NULL GROUP BY 1;"
    "INSERT INTO stat_recipients SELECT to_addrs, count(*) FROM messages"
    " WHERE partial = 0 AND to_addrs IS NOT NULL GROUP BY 1;"
    "INSERT INTO stat_hours SELECT hour, proto, sum(s), sum(m) FROM"
    " (SELECT " HOUR(
	"start_ts") " AS hour, proto, 1 AS s, 0 AS m"
		    " FROM sessions UNION ALL SELECT " HOUR(
			"begin_ts") ", proto, 0, 1"
				    " FROM messages WHERE partial = 0) GROUP BY 1, 2;"
				    "INSERT INTO stat_auths SELECT s.proto, a.mechanism, a.outcome,"
				    " count(*), count(a.password) FROM auth a JOIN sessions s"
				    " ON s.id = a.session_id GROUP BY 1, 2, 3;"
				    "INSERT INTO stat_anomalies SELECT name, count(*) FROM anomalies"
				    " GROUP BY 1;";

/* The views summed as they are asked: a log read that predates the
 * tables (made TEMP on its connection), and the unit test's truth.
 * PostgreSQL's in pg_schema.sql are these. */
const struct stats_asked sqlite_stats_asked[] = {
	{ "v_stat_protos",
	    "SELECT proto, count(*) AS sessions, sum(CASE WHEN tls <> 'none'"
	    " THEN 1 ELSE 0 END) AS tls, sum(midstream) AS midstream"
	    " FROM sessions GROUP BY proto" },
	{ "v_stat_kinds",
	    "SELECT proto, method, count(*) AS messages, sum(complete) AS"
	    " complete, sum(size) AS bytes, sum(attachments) AS attachments,"
	    " sum(CASE WHEN from_addr IS NULL THEN 1 ELSE 0 END) AS no_from,"
	    " sum(CASE WHEN to_addrs IS NULL THEN 1 ELSE 0 END) AS no_to"
	    " FROM messages WHERE partial = 0 GROUP BY 1, 2" },
	{ "v_stat_senders",
	    "SELECT from_addr AS addr, count(*) AS messages FROM messages"
	    " WHERE from_addr IS NOT NULL AND partial = 0 GROUP BY 1" },
	{ "v_stat_recipients",
	    "SELECT to_addrs AS addr, count(*) AS messages FROM messages"
	    " WHERE to_addrs IS NOT NULL AND partial = 0 GROUP BY 1" },
	{ "v_stat_servers",
	    "SELECT server_ip AS ip, server_port AS port, proto, count(*) AS"
	    " sessions FROM sessions GROUP BY 1, 2, 3" },
	{ "v_stat_clients",
	    "SELECT client_ip AS ip, count(*) AS sessions FROM sessions"
	    " GROUP BY 1" },
	{ "v_stat_auths",
	    "SELECT s.proto, a.mechanism, a.outcome, count(*) AS attempts,"
	    " count(a.password) AS in_clear FROM auth a JOIN sessions s"
	    " ON s.id = a.session_id GROUP BY 1, 2, 3" },
	{ "v_stat_anomalies",
	    "SELECT name, count(*) AS count FROM anomalies GROUP BY 1" },
	{ "v_stat_hours",
	    "SELECT hour, proto, sum(s) AS sessions, sum(m) AS messages FROM"
	    " (SELECT substr(datetime(start_ts, 'unixepoch'), 1, 13) AS hour,"
	    " proto, 1 AS s, 0 AS m FROM sessions UNION ALL"
	    " SELECT substr(datetime(begin_ts, 'unixepoch'), 1, 13), proto,"
	    " 0, 1 FROM messages WHERE partial = 0) AS t GROUP BY 1, 2" },
	{ "v_stat_findings",
	    "SELECT finding, proto, count(*) AS n FROM v_tls_findings"
	    " GROUP BY 1, 2" },
};
const size_t nsqlite_stats_asked =
    sizeof(sqlite_stats_asked) / sizeof(sqlite_stats_asked[0]);

/*
 * SQLite's datetime(ts, 'unixepoch') takes the time to the nearest
 * millisecond of a Julian day number (its own rounding, copied here),
 * then the civil date, UTC; C's calendar and SQLite's agree from 1970 to
 * the end of year 9999.  Outside those, -1: SQLite itself is to be asked.
 */
int
sqlite_stats_hour(double ts, char *out, size_t len)
{
	double	  r = ts * 1000.0 + 210866760000000.0;
	int64_t	  ms;
	time_t	  sec;
	struct tm tm;

	if (!(r >= 210866760000000.0 && r < 464269060800000.0))
		return -1;
	ms = (int64_t)(r + 0.5) - 210866760000000;
	sec = (time_t)(ms / 1000);
	if (ms >= 253402300800000 || gmtime_r(&sec, &tm) == NULL)
		return -1;
	snprintf(out, len, "%04d-%02d-%02d %02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
	return 0;
}

/* The statements of stats_schema, then stats_fill where the log had no
 * sums; 0, or -1 with *msg said. */
/* The tables as an earlier build made them (stat_kinds without its NULL
 * counts, no logins' sums): made again, from the rows. */
static const char stats_unmake[] =
    "DROP TABLE stat_protos; DROP TABLE stat_servers; DROP TABLE stat_kinds;"
    " DROP TABLE stat_senders; DROP TABLE stat_recipients;"
    " DROP TABLE stat_hours; DROP TABLE IF EXISTS stat_auths;"
    " DROP TABLE IF EXISTS stat_anomalies;";

static int
stats_make(sqlite3 *db, char **msg)
{
	int	      had = sqlite_has_table(db, "stat_protos");
	sqlite3_stmt *st;

	if (had < 0)
		return -1;
	if (had &&
	    sqlite3_prepare_v2(db, "SELECT no_from FROM stat_kinds, stat_auths",
		-1, &st, NULL) != SQLITE_OK) {
		if (sqlite3_exec(db, stats_unmake, NULL, NULL, msg) !=
		    SQLITE_OK)
			return -1;
		had = 0;
	} else if (had)
		sqlite3_finalize(st);
	return sqlite_schema_filled(db, stats_schema,
	    sizeof(stats_schema) / sizeof(*stats_schema), had, stats_fill, msg);
}

int
sqlite_stats_schema(sqlite3 *db, char *err, size_t errlen)
{
	return sqlite_sums_schema(db, stats_make, "the stats' sums", err,
	    errlen);
}

int
sqlite_stats_views(sqlite3 *db)
{
	int rc = 0;

	for (size_t i = 0; i < nsqlite_stats_asked; i++) {
		const struct stats_asked *a = &sqlite_stats_asked[i];
		int			  had = sqlite_has_table(db, a->view);
		char			 *sql;

		if (had != 0) {
			rc |= had < 0 ? -1 : 0;
			continue;
		}
		if ((sql = sqlite3_mprintf("CREATE TEMP VIEW %s AS %s", a->view,
			 a->sql)) == NULL)
			return -1;
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = -1;
		sqlite3_free(sql);
	}
	return rc;
}
