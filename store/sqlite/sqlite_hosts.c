/* \summary: SQLite store: every host's sums, kept as rows are written */
/*
 * The hosts listing sums every session of the log for each of its two
 * ends; at a million sessions that took seconds.  host_stats holds the
 * sums instead, kept equal to that sum whichever way rows arrive: the
 * writer's own INSERTs and UPDATEs (added up in memory, written at each
 * commit: sqlite_hostsums.c), and by the
 * triggers below the rows other processes' spools ship (INSERT OR
 * REPLACE, table by table: a session may come before or after its
 * messages), a rotation's carried sessions, the end of a killed run's
 * sessions.
 *
 * What each row adds, and takes away again when it changes or goes:
 *   a session: one session to each end (as client or as server), its
 *     start (first, last), its user, TLS, and the messages and logins of
 *     it that are in the log at that moment;
 *   a message (not a piece) or a login: one to both ends of its
 *     session, when that session is in the log.
 * So a message counts once, whether it came before its session (counted
 * with the session) or after (counted by itself).  The row an INSERT OR
 * REPLACE displaces goes through the DELETE triggers because every
 * connection that writes a log sets recursive_triggers (without it
 * SQLite deletes that row silently; a BEFORE INSERT trigger deleting it
 * instead cost 5 us a row).  first and last only grow: a session leaves
 * a SQLite log only to come back as itself (a spool's changed row), with
 * the same start.  A loopback session (both ends one address) counts
 * twice for it, once at each end, as the sum it replaces did.
 *
 * Only a log keeps these, not a worker's spool (the log's own triggers
 * sum what it receives); they are not in tables.def: nothing ships or
 * carries them.  PostgreSQL's v_hosts sums as it is asked
 * (pg_schema.sql); a log opened read-only that predates these gets that
 * sum as a view of the connection (sqlite_hosts_view).
 */
#include <sqlite3.h>
#include <stdio.h>

#include "store/sqlite/sqlite_priv.h"

/* Each end of every session, with what it counts: the sum's rows (each
 * session and its counts read once, then taken for each of its ends). */
#define SESSION_ENDS                                                          \
	"SELECT CASE e.c WHEN 1 THEN s.client_ip ELSE s.server_ip END AS ip," \
	" e.c, s.start_ts, s.username, s.messages, s.auths, s.tls"            \
	" FROM (SELECT client_ip, server_ip, start_ts, username,"             \
	" CASE WHEN tls <> 'none' THEN 1 ELSE 0 END AS tls,"                  \
	" (SELECT count(*) FROM messages m WHERE m.session_id = s.id"         \
	" AND m.partial = 0) AS messages, (SELECT count(*) FROM auth a"       \
	" WHERE a.session_id = s.id) AS auths FROM sessions s) AS s"          \
	" CROSS JOIN (SELECT 1 AS c UNION ALL SELECT 0) AS e"

/*
 * One end's share of a session in (r: new) or out (r: old) of the host's
 * row: end is client_ip or server_ip, c 1 at the client.  A statement for
 * each end, each reaching one row by its key: a loopback session's two
 * ends meet in one row and count twice, and SQLite's UPDATE ... FROM (a
 * table built for every row) cost 40 us a message where these cost 5.
 */
#define COUNT_OF(table, r, more) \
	"(SELECT count(*) FROM " table " WHERE session_id = " r ".id" more ")"
#define END_IN(r, end, c)                                                  \
	"INSERT INTO host_stats (ip, sessions, as_client, first, last,"    \
	" messages, auths, tls) VALUES (" r "." end ", 1, " c ", " r       \
	".start_ts, " r ".start_ts, " COUNT_OF("messages", r,              \
	    " AND partial = 0") ", " COUNT_OF("auth", r,                   \
	    "") ", " r ".tls <> 'none')"                                   \
		" ON CONFLICT (ip) DO UPDATE SET sessions = sessions + 1," \
		" as_client = as_client + excluded.as_client,"             \
		" first = min(first, excluded.first),"                     \
		" last = max(last, excluded.last),"                        \
		" messages = messages + excluded.messages,"                \
		" auths = auths + excluded.auths, tls = tls + excluded.tls;"
#define END_OUT(r, end, c)                                               \
	"UPDATE host_stats SET sessions = sessions - 1,"                 \
	" as_client = as_client - " c                                    \
	", messages = messages - " COUNT_OF("messages", r,               \
	    " AND partial = 0") ", auths = auths - " COUNT_OF("auth", r, \
	    "") ", tls = tls - (" r ".tls <> 'none')"                    \
		" WHERE ip = " r "." end ";"
#define SESSION_IN(r) END_IN(r, "client_ip", "1") END_IN(r, "server_ip", "0")
#define SESSION_OUT(r)                                            \
	END_OUT(r, "client_ip", "1")                              \
	END_OUT(r, "server_ip", "0")                              \
	"DELETE FROM host_stats WHERE ip IN (" r ".client_ip, " r \
	".server_ip) AND sessions <= 0;"

/* A session's user in or out of a host's: users counts the names of
 * host_users; a row is made for it when the session's is not there yet
 * (triggers on one row run in no order SQLite promises). */
#define USER_IN(r, end)                                                        \
	"INSERT INTO host_stats (ip, sessions, as_client, first, last, users," \
	" messages, auths, tls) SELECT " r "." end ", 0, 0, " r                \
	".start_ts, " r ".start_ts, 1, 0, 0, 0 WHERE " r                       \
	".username IS NOT NULL AND NOT"                                        \
	" EXISTS (SELECT 1 FROM host_users WHERE ip = " r "." end              \
	" AND username = " r ".username)"                                      \
	" ON CONFLICT (ip) DO UPDATE SET users = users + 1;"                   \
	"INSERT INTO host_users (ip, username, n) SELECT " r "." end ", " r    \
	".username, 1 WHERE " r ".username IS NOT NULL"                        \
	" ON CONFLICT (ip, username) DO UPDATE SET n = n + 1;"
#define USER_OUT(r, end)                                                    \
	"UPDATE host_users SET n = n - 1 WHERE ip = " r "." end             \
	" AND username = " r ".username;"                                   \
	"UPDATE host_stats SET users = users - 1 WHERE ip = " r "." end     \
	" AND EXISTS (SELECT 1 FROM host_users WHERE ip = " r "." end       \
	" AND username = " r ".username AND n <= 0);"                       \
	"DELETE FROM host_users WHERE ip = " r "." end " AND username = " r \
	".username AND n <= 0;"

/* A message or login more (sign +) or fewer (-) for both ends of the
 * session that row r names, when counts (an SQL truth value) says. */
#define END_COUNT(counts, col, sign, r, end)                               \
	"UPDATE host_stats SET " col " = " col " " sign " 1 WHERE " counts \
	" AND ip = (SELECT " end " FROM sessions WHERE id = " r            \
	".session_id);"
#define COUNT_IF(counts, col, sign, r)               \
	END_COUNT(counts, col, sign, r, "client_ip") \
	END_COUNT(counts, col, sign, r, "server_ip")
#define COUNT_FOR(col, sign, r) COUNT_IF("1", col, sign, r)

#define TRIGGER(name, when, body)                                          \
	"CREATE TRIGGER IF NOT EXISTS hosts_" name " " when " BEGIN " body \
	" END"
/* a session's place or start changed, or its TLS alone */
#define SESSION_MOVED                            \
	"old.client_ip IS NOT new.client_ip"     \
	" OR old.server_ip IS NOT new.server_ip" \
	" OR old.start_ts IS NOT new.start_ts"

/* The tables, the view and the triggers, a statement each. */
static const char *const hosts_schema[] = {
	"CREATE TABLE IF NOT EXISTS host_stats ("
	" ip TEXT PRIMARY KEY,"
	" sessions INTEGER NOT NULL," /* at either end */
	" as_client INTEGER NOT NULL,"
	" first REAL NOT NULL,"		     /* the earliest session's start */
	" last REAL NOT NULL,"		     /* the latest's */
	" users INTEGER NOT NULL DEFAULT 0," /* distinct usernames */
	" messages INTEGER NOT NULL,"	     /* in its sessions, pieces not */
	" auths INTEGER NOT NULL,"	     /* login attempts */
	" tls INTEGER NOT NULL"		     /* sessions that spoke TLS */
	") WITHOUT ROWID",
	/* the listing's order, the busiest first, as it says it (the CAST
	 * is PostgreSQL's inet as text): a page is read off it in order,
	 * where (sessions, ip) left every host of one session to sort */
	"CREATE INDEX IF NOT EXISTS host_stats_sessions"
	" ON host_stats(sessions DESC, CAST(ip AS TEXT))",
	/* each host's users, with how many session ends name them */
	"CREATE TABLE IF NOT EXISTS host_users ("
	" ip TEXT NOT NULL, username TEXT NOT NULL, n INTEGER NOT NULL,"
	" PRIMARY KEY (ip, username)) WITHOUT ROWID",
	/* the columns sqlite_hosts_asked sums */
	"DROP VIEW IF EXISTS v_hosts",
	"CREATE VIEW v_hosts AS SELECT ip AS host, sessions, as_client,"
	" sessions - as_client AS as_server,"
	" datetime(first, 'unixepoch') AS first,"
	" datetime(last, 'unixepoch') AS last,"
	" users, messages, auths, tls FROM host_stats WHERE sessions > 0",
	TRIGGER("session_added", "AFTER INSERT ON sessions", SESSION_IN("new")),
	TRIGGER("session_removed", "AFTER DELETE ON sessions",
	    SESSION_OUT("old")),
	TRIGGER("session_moved",
	    "AFTER UPDATE OF client_ip, server_ip, start_ts ON sessions"
	    " WHEN " SESSION_MOVED,
	    SESSION_OUT("old") SESSION_IN("new")),
	/* the end of a session sets tls: most often all that changes */
	TRIGGER("session_tls",
	    "AFTER UPDATE OF tls ON sessions"
	    " WHEN (old.tls <> 'none') IS NOT (new.tls <> 'none')"
	    " AND NOT (" SESSION_MOVED ")",
	    "UPDATE host_stats SET tls = tls + (new.tls <> 'none')"
	    " - (old.tls <> 'none') WHERE ip = new.client_ip;"
	    "UPDATE host_stats SET tls = tls + (new.tls <> 'none')"
	    " - (old.tls <> 'none') WHERE ip = new.server_ip;"),
	/* apart from the sessions' own: idle (but for its WHEN) while the
	 * writer inserts sessions before anyone logs in */
	TRIGGER("user_added",
	    "AFTER INSERT ON sessions WHEN new.username IS NOT NULL",
	    USER_IN("new", "client_ip") USER_IN("new", "server_ip")),
	TRIGGER("user_removed",
	    "AFTER DELETE ON sessions WHEN old.username IS NOT NULL",
	    USER_OUT("old", "client_ip") USER_OUT("old", "server_ip")),
	TRIGGER("user_changed",
	    "AFTER UPDATE OF client_ip, server_ip, username ON sessions"
	    " WHEN old.username IS NOT new.username"
	    " OR old.client_ip IS NOT new.client_ip"
	    " OR old.server_ip IS NOT new.server_ip",
	    USER_OUT("old", "client_ip") USER_OUT("old", "server_ip")
		USER_IN("new", "client_ip") USER_IN("new", "server_ip")),
	TRIGGER("message_added",
	    "AFTER INSERT ON messages WHEN new.partial = 0",
	    COUNT_FOR("messages", "+", "new")),
	TRIGGER("message_removed",
	    "AFTER DELETE ON messages WHEN old.partial = 0",
	    COUNT_FOR("messages", "-", "old")),
	/* a message found to be a piece (TOP, BODY[1]) after its row came */
	TRIGGER("message_changed",
	    "AFTER UPDATE OF partial, session_id ON messages"
	    " WHEN (old.partial = 0) IS NOT (new.partial = 0)"
	    " OR old.session_id IS NOT new.session_id",
	    COUNT_IF("old.partial = 0", "messages", "-", "old")
		COUNT_IF("new.partial = 0", "messages", "+", "new")),
	TRIGGER("auth_added", "AFTER INSERT ON auth",
	    COUNT_FOR("auths", "+", "new")),
	TRIGGER("auth_removed", "AFTER DELETE ON auth",
	    COUNT_FOR("auths", "-", "old")),
	TRIGGER("auth_moved",
	    "AFTER UPDATE OF session_id ON auth"
	    " WHEN old.session_id IS NOT new.session_id",
	    COUNT_FOR("auths", "-", "old") COUNT_FOR("auths", "+", "new")),
};

/* A log's sums from its rows, when it had none (made before them). */
static const char hosts_fill[] =
    "INSERT INTO host_stats (ip, sessions, as_client, first, last,"
    " messages, auths, tls) SELECT ip, count(*), sum(c), min(start_ts),"
    " max(start_ts), sum(messages), sum(auths), sum(tls)"
    " FROM (" SESSION_ENDS ") GROUP BY ip;"
    /* the users from the sessions alone: no counts to make for them */
    "INSERT INTO host_users (ip, username, n) SELECT ip, username,"
    " count(*) FROM (SELECT client_ip AS ip, username FROM sessions"
    " UNION ALL SELECT server_ip, username FROM sessions)"
    " WHERE username IS NOT NULL GROUP BY ip, username;"
    "UPDATE host_stats SET users = (SELECT count(*) FROM host_users u"
    " WHERE u.ip = host_stats.ip);";

int
sqlite_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int	      found = 0;

	if (sqlite3_prepare_v2(db,
		"SELECT 1 FROM main.sqlite_master WHERE name = ?", -1, &st,
		NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int
sqlite_has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *st;
	int	      found = 0;

	/* main's: a TEMP view of the same name would shadow it */
	if (sqlite3_prepare_v2(db,
		"SELECT 1 FROM pragma_table_info(?, 'main') WHERE name = ?", -1,
		&st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int
sqlite_schema_filled(sqlite3 *db, const char *const *schema, size_t n, int had,
    const char *fill, char **msg)
{
	if (had < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sqlite3_exec(db, schema[i], NULL, NULL, msg) != SQLITE_OK)
			return -1;
	if (!had && sqlite3_exec(db, fill, NULL, NULL, msg) != SQLITE_OK)
		return -1;
	return 0;
}

/* The statements of hosts_schema, then of hosts_fill where the log had
 * no sums; 0, or -1 with *msg said. */
static int
hosts_make(sqlite3 *db, char **msg)
{
	return sqlite_schema_filled(db, hosts_schema,
	    sizeof(hosts_schema) / sizeof(*hosts_schema),
	    sqlite_has_table(db, "host_stats"), hosts_fill, msg);
}

int
sqlite_sums_schema(sqlite3 *db, int (*make)(sqlite3 *, char **),
    const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	/* all or nothing, a log never left with empty sums: a savepoint,
	 * in the schema's transaction or a transaction of its own */
	if (sqlite3_exec(db, "SAVEPOINT sums", NULL, NULL, &msg) == SQLITE_OK) {
		if (make(db, &msg) == 0 &&
		    sqlite3_exec(db, "RELEASE sums", NULL, NULL, &msg) ==
			SQLITE_OK)
			return 0;
		sqlite3_exec(db, "ROLLBACK TO sums; RELEASE sums", NULL, NULL,
		    NULL);
	}
	snprintf(err, errlen, "%s: %s", what,
	    msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

int
sqlite_hosts_schema(sqlite3 *db, char *err, size_t errlen)
{
	return sqlite_sums_schema(db, hosts_make, "the hosts' sums", err,
	    errlen);
}

/* v_hosts' rows summed as asked, from every session. */
const char sqlite_hosts_asked[] =
    "SELECT ip AS host, count(*) AS sessions, sum(c) AS as_client,"
    " count(*) - sum(c) AS as_server,"
    " datetime(min(start_ts), 'unixepoch') AS first,"
    " datetime(max(start_ts), 'unixepoch') AS last,"
    " count(DISTINCT username) AS users, sum(messages) AS messages,"
    " sum(auths) AS auths, sum(tls) AS tls FROM (" SESSION_ENDS ") GROUP BY ip";

int
sqlite_hosts_view(sqlite3 *db)
{
	int   had = sqlite_has_table(db, "v_hosts"), rc;
	char *sql;

	if (had != 0)
		return had < 0 ? -1 : 0;
	if ((sql = sqlite3_mprintf("CREATE TEMP VIEW v_hosts AS %s",
		 sqlite_hosts_asked)) == NULL)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	sqlite3_free(sql);
	return rc;
}
