/* \summary: the listings and the transcript, one SQL for the CLI and serve */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/listings.h"
#include "cli/search.h"
#include "dissect/util.h"

const char *const filter_opt[F_COUNT] = {
	"--proto",
	"--host",
	"--user",
	"--from",
	"--to",
	"--subject",
	"--since",
	"--until",
	"--tls",
	"--failed-auth",
	"--with-creds",
	"--with-attachments",
	"--with-anomalies",
	"--name",
	"--hash",
	"--outcome",
	"--pieces",
	"--client",
	"--server",
	"--query",
	"--finding",
	"--anomaly",
	"--mechanism",
	"--port",
};

/* A text filter: case-blind, its value made a LIKE pattern in C (see
 * text_pattern).  SQLite's LIKE is case-blind already (for ASCII, as
 * its lower() is); PostgreSQL is given ILIKE for it (pg_query.c).  A
 * lower() of each row's value made the scan of a million messages 1.7
 * times as long. */
#define MATCH(col) "(" col " LIKE CAST(? AS TEXT) ESCAPE '\\')"
/* --host: either end of the connection in the address or network */
#define HOST(c, s) "(in_net(" c ", ?) OR in_net(" s ", ?))"
/* --port: the server's; bound as text, compared as the number */
#define PORT "server_port = CAST(? AS INTEGER)"
/* --since, --until: off the index on time (LISTING_SPAN_TIME says why) */
#define SINCE(col) LISTING_SPAN_TIME(col) " >= ?"
#define UNTIL(col) LISTING_SPAN_TIME(col) " < ?"
#define OUTCOME_OF_MESSAGE \
	"message_id IN (SELECT message_id FROM v_messages WHERE outcome = ?)"
/* the same, of each row of a view (%s), its message's own row looked up
 * by its key where the log keeps what the outcome is worked out from
 * (v_messages would join its session too: a count of the attachments of
 * an outcome most messages have took 0.13 s walked, this 0.065), and
 * v_messages' row in a log from before */
#define OUTCOME_OF_O QUERY_SQLITE_OUTCOME("o.")
#define OUTCOME_OF_EACH                                    \
	"EXISTS (SELECT 1 FROM messages o WHERE o.id = %s" \
	".message_id AND (" OUTCOME_OF_O ") = ?)"
#define OUTCOME_OF_EACH_WORKED                                       \
	"EXISTS (SELECT 1 FROM v_messages o WHERE o.message_id = %s" \
	".message_id AND o.outcome = ?)"

/*
 * A column's values over a listing with no filter on are groups the log
 * keeps (the v_stat_ views), read the most first off their indexes, as
 * the values asked of every row would give them: the rows whose column
 * is NULL are a group of their own, a sum of the kinds' (merged into
 * the order where its count puts it).  Each is head, the LIMIT, tail.
 */
#define VALUES_OR_NONE(view, none)                                              \
	"SELECT value, count FROM (SELECT NULL AS value, n AS count, NULL AS k" \
	" FROM (SELECT sum(" none ") AS n FROM v_stat_kinds) AS nulls"          \
	" WHERE n > 0 UNION ALL SELECT addr, messages, CAST(addr AS TEXT)"      \
	" FROM " view " ORDER BY count DESC, k"
/* The values of col of a view's rows, counted by cnt (an aggregate
 * when grouped, then group is " GROUP BY 1"), most first: the order as
 * the values asked of every row have it, by the names of a subquery's
 * columns (PostgreSQL orders by no expression of an output name). */
#define VALUES_OF(col, cnt, view, group)               \
	"SELECT * FROM (SELECT " col " AS value, " cnt \
	" AS count FROM " view group                   \
	") AS valued ORDER BY 2 DESC, CAST(value AS TEXT)"
static const struct listing_values session_values[] = {
	{ "proto", VALUES_OF("proto", "sessions", "v_stat_protos", ""), "" },
	{ "client", VALUES_OF("ip", "sessions", "v_stat_clients", ""), "" },
	{ "server",
	    VALUES_OF("ip", "CAST(sum(sessions) AS BIGINT)", "v_stat_servers",
		" GROUP BY 1"),
	    "" },
	{ NULL, NULL, NULL },
};
static const struct listing_values message_values[] = {
	{ "from", VALUES_OR_NONE("v_stat_senders", "no_from"), ") AS valued" },
	{ "to", VALUES_OR_NONE("v_stat_recipients", "no_to"), ") AS valued" },
	{ "proto",
	    VALUES_OF("proto", "CAST(sum(messages) AS BIGINT)", "v_stat_kinds",
		" GROUP BY 1"),
	    "" },
	{ "method",
	    VALUES_OF("method", "CAST(sum(messages) AS BIGINT)", "v_stat_kinds",
		" GROUP BY 1"),
	    "" },
	{ NULL, NULL, NULL },
};
/* the findings' sums, by finding and protocol (sqlite_findings.c) */
#define FINDINGS_BY(col)                                            \
	VALUES_OF(col, "CAST(sum(n) AS BIGINT)", "v_stat_findings", \
	    " GROUP BY 1")
static const struct listing_values finding_values[] = {
	{ "finding", FINDINGS_BY("finding"), "" },
	{ "proto", FINDINGS_BY("proto"), "" },
	{ NULL, NULL, NULL },
};

/* a credential's verdict is the server's on a login, not on mail */
static const char *const auth_outcomes[] = { "success", "failure", "cancelled",
	"unknown", NULL };

const struct listing listings[] = {
	{ "sessions", "mail sessions, one a line",
	    "SELECT id, proto, start, duration, client_ip AS client,"
	    " server_ip AS server, server_port AS port, \"user\", tls,"
	    " commands, messages, auth_attempts AS auths, end_reason"
	    " FROM v_sessions",
	    { "proto = ?", HOST("client_ip", "server_ip"), MATCH("\"user\""),
		NULL, NULL, NULL, SINCE("start"), UNTIL("start"),
		"tls <> 'none'",
		"id IN (SELECT session_id FROM auth WHERE outcome = 'failure')",
		"id IN (SELECT session_id FROM auth WHERE password IS NOT NULL)",
		"id IN (SELECT session_id FROM messages WHERE attachments > 0)",
		"id IN (SELECT session_id FROM anomalies)",
		[F_CLIENT] = "in_net(client_ip, ?)",
		[F_SERVER] = "in_net(server_ip, ?)",
		[F_QUERY] = "id IN (SELECT m.session_id %s)",
		[F_ANOMALY] = "id IN (SELECT session_id FROM anomalies"
			      " WHERE name = ?)",
		[F_PORT] = PORT },
	    "id", NULL, "SELECT count(*) AS total FROM sessions", "id",
	    session_values, 0, NULL, NULL, NULL },
	{ "messages", "messages however they travelled, pieces left out",
	    "SELECT message_id AS id, session_id AS session, time, proto,"
	    " method, \"from\", \"to\", subject, attachments AS att, size,"
	    " complete, outcome, sha256 FROM v_messages",
	    { "proto = ?", HOST("client_ip", "server_ip"), MATCH("\"user\""),
		MATCH("\"from\""), MATCH("\"to\""), MATCH("subject"),
		SINCE("time"), UNTIL("time"), "tls <> 'none'", NULL, NULL,
		"attachments > 0", NULL, NULL, NULL, "outcome = ?",
		"partial IN (0, 1)", "in_net(client_ip, ?)",
		"in_net(server_ip, ?)",
		"message_id IN (SELECT m.id %s)", [F_PORT] = PORT },
	    "id", "partial = 0",
	    /* the pieces from their own index, the rest from the smallest */
	    "SELECT (SELECT count(*) FROM messages) - (SELECT count(*) FROM"
	    " messages WHERE partial <> 0) AS total",
	    "message_id", message_values, 1U << F_PROTO, NULL, NULL,
	    /* a protocol's: most of a million messages counted through
	     * the view's join with their sessions took 0.55 s */
	    "SELECT CAST(coalesce(sum(messages), 0) AS BIGINT) AS total"
	    " FROM v_stat_kinds" },
	{ "creds", "credentials seen, and whether they worked",
	    "SELECT id, session_id AS session, time, proto,"
	    " client_ip AS client, server_ip AS server, command, mechanism,"
	    " username, password, outcome FROM v_credentials",
	    { "proto = ?", HOST("client_ip", "server_ip"), MATCH("username"),
		NULL, NULL, NULL, SINCE("time"), UNTIL("time"), "tls <> 'none'",
		"outcome = 'failure'", [F_OUTCOME] = "outcome = ?",
		[F_CLIENT] = "in_net(client_ip, ?)",
		[F_SERVER] = "in_net(server_ip, ?)",
		[F_MECHANISM] = "mechanism = ?", [F_PORT] = PORT },
	    "id", NULL, NULL, "id", NULL, 0, auth_outcomes, NULL, NULL },
	{ "attachments", "attachments, with their hashes",
	    "SELECT message_id AS message, session_id AS session, time, proto,"
	    " \"from\", subject, filename, content_type AS type,"
	    " magic_type AS content, size, md5, sha256, findings,"
	    " (SELECT outcome FROM v_messages v WHERE v.message_id ="
	    " v_attachments.message_id) AS outcome FROM v_attachments",
	    { "proto = ?", NULL, NULL, MATCH("\"from\""), NULL,
		MATCH("subject"), SINCE("time"), UNTIL("time"), NULL, NULL,
		NULL, NULL, NULL, MATCH("filename"), "%s = ?",
		OUTCOME_OF_MESSAGE,
		[F_QUERY] = "message_id IN (SELECT m.id %s)" },
	    "message, path", NULL, NULL, NULL, NULL, 0, NULL, "v_attachments",
	    NULL },
	{ "urls", "links in the messages' text, and what is wrong with them",
	    "SELECT message_id AS message, session_id AS session, time, proto,"
	    " \"from\", subject, kind, url, host, shown_text AS shows, findings"
	    " FROM v_urls",
	    { "proto = ?", NULL, NULL, MATCH("\"from\""), NULL,
		MATCH("subject"), SINCE("time"), UNTIL("time"), NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, OUTCOME_OF_MESSAGE,
		[F_QUERY] = "message_id IN (SELECT m.id %s)" },
	    "message, n", NULL, NULL, NULL, NULL, 0, NULL, "v_urls", NULL },
	{ "tls", "TLS handshakes: versions, suites, names, certificates",
	    "SELECT session_id AS id, time, proto, client_ip AS client,"
	    " server_ip AS server, server_port AS port, mode, sni, version,"
	    " cipher, curve, established AS ok, resumed, validation, ja3, ja4,"
	    " subject FROM v_tls",
	    { "proto = ?", HOST("client_ip", "server_ip"), NULL, NULL, NULL,
		NULL, SINCE("time"), UNTIL("time"), NULL,
		NULL, [F_CLIENT] = "in_net(client_ip, ?)",
		[F_SERVER] = "in_net(server_ip, ?)", [F_PORT] = PORT },
	    "id", NULL, NULL, "session_id", NULL, 0, NULL, NULL, NULL },
	{ "hosts", "every client and server, with what it did",
	    /* SQLite keeps the sums as it writes (sqlite_hosts.c) */
	    "SELECT host, sessions, as_client, as_server, first, last, users,"
	    " messages, auths, tls FROM v_hosts",
	    { [F_HOST] = "in_net(host, ?)",
		[F_SINCE] = "last >= ?",
		[F_UNTIL] = "first < ?" },
	    "sessions DESC, CAST(host AS TEXT)", NULL, NULL, NULL, NULL, 0,
	    NULL, NULL, NULL },
	{ "files", "every file sent, once a content, with how often and how",
	    "SELECT sha256, name, names, size, type, content, findings,"
	    " messages, first, last FROM (SELECT sha256, max(size) AS size,"
	    " count(DISTINCT filename) AS names, min(filename) AS name,"
	    " max(content_type) AS type, max(magic_type) AS content,"
	    " max(findings) AS findings, count(DISTINCT message_id) AS messages,"
	    " min(time) AS first, max(time) AS last, max(md5) AS md5,"
	    " max(sha1) AS sha1 FROM v_attachments GROUP BY sha256) AS f",
	    { [F_SINCE] = "last >= ?",
		[F_UNTIL] = "first < ?",
		[F_NAME] = "sha256 IN (SELECT sha256 FROM v_attachments"
			   " WHERE " MATCH("filename") ")",
		[F_HASH] = "sha256 IN (SELECT sha256 FROM v_attachments"
			   " WHERE %s = ?)" },
	    "messages DESC, sha256", "sha256 IS NOT NULL", NULL, NULL, NULL, 0,
	    NULL, NULL, NULL },
	/* the view alone, its session's columns its own: SQLite then
	 * merges its checks in order (sqlite_findings.c), where a join
	 * here would make every finding whole and sort it */
	{ "findings", "what TLS left exposed or weak, a session a line each",
	    "SELECT session_id AS id, time, proto, client, server, finding,"
	    " detail FROM v_tls_findings",
	    { "proto = ?", HOST("client", "server"),
		MATCH("\"user\""), /* its session's login */
		NULL, NULL, NULL, SINCE("time"),
		UNTIL("time"), [F_CLIENT] = "in_net(client, ?)",
		[F_SERVER] = "in_net(server, ?)", [F_FINDING] = "finding = ?" },
	    "id, finding", NULL,
	    "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) AS total"
	    " FROM v_stat_findings",
	    NULL, finding_values, 1U << F_PROTO | 1U << F_FINDING, NULL, NULL,
	    NULL },
};

const size_t nlistings = sizeof(listings) / sizeof(listings[0]);

const struct listing *
listing_find(const char *name)
{
	for (size_t i = 0; i < nlistings; i++)
		if (strcmp(listings[i].name, name) == 0)
			return &listings[i];
	return NULL;
}

void
listing_like_pattern(const char *v, char *out, size_t len)
{
	int    wild = strpbrk(v, "*?") != NULL;
	size_t k = 0;

	if (!wild && k + 1 < len)
		out[k++] = '%';
	for (; *v != '\0' && k + 3 < len; v++) {
		if (*v == '%' || *v == '_' || *v == '\\')
			out[k++] = '\\', out[k++] = *v;
		else if (*v == '*')
			out[k++] = '%';
		else if (*v == '?')
			out[k++] = '_';
		else
			out[k++] = *v;
	}
	if (!wild && k + 1 < len)
		out[k++] = '%';
	out[k] = '\0';
}

/*
 * A part of an address is a LIKE '%x%' that reads every message (311 ms
 * at a million).  Where the log has the trigram index (sqlite_addrs.c)
 * the rows holding x's trigrams are asked of it, and the filter is
 * that they are among them and match (the index's query is wider: some
 * of the trigrams, in any of the three columns, case folded past
 * ASCII).
 * A common part (an example.com of every message) is left to the
 * scan: it meets the page's rows at once, where the index would hand
 * over all of them.  Reading up to ADDR_FEW of its rows costs a few
 * milliseconds; a part in more is in one message of 500 or more at a
 * million, and a page of 100 of them is met within some 50,000 rows of
 * the scan.
 */
#define ADDR_FEW      2000
#define ADDR_FEW_TEXT "2000"

/*
 * The index's query for LIKE pattern pat: trigrams of its runs of
 * characters between wildcards (an escaped one is itself), ANDed, each
 * a quoted string (FTS5's "" for a quote), into out; 0, or -1 where it
 * has no run of three, does not fit, or is not UTF-8 (read row by row).
 * Not the index's own LIKE: SQLite 3.40 crashes in it on some patterns
 * (fuzz_search and fuzz_filters found patterns with broken or folding
 * UTF-8; valgrind finds it reading uninitialised memory on any).  One
 * trigram in three of a run: they find the rows all of them would,
 * give or take a few the row's own LIKE drops, and each is a row list
 * to intersect (a whole address's domain is in every message).
 */
#define ADDR_TERMS 16
static int
addr_index_query(const char *pat, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)pat, *c[3] = { 0 };
	size_t		     n[3] = { 0 }, k = 0;
	int		     run = 0, terms = 0;
	uint32_t	     cp;

	while (*p != '\0' && terms < ADDR_TERMS) {
		if (*p == '%' || *p == '_') {
			run = 0, p++;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++; /* %, _ or \ as itself */
		c[0] = c[1], n[0] = n[1], c[1] = c[2], n[1] = n[2], c[2] = p;
		if ((n[2] = md_utf8_len(p, strlen((const char *)p), &cp)) == 0)
			return -1;
		p += n[2];
		if (++run < 3 || run % 3 != 0)
			continue;
		if (k + 2 * (n[0] + n[1] + n[2]) + 8 >= len)
			return -1;
		k += (size_t)snprintf(out + k, len - k, "%s\"",
		    terms++ ? " AND " : "");
		for (int i = 0; i < 3; i++)
			for (size_t j = 0; j < n[i]; j++) {
				if (c[i][j] == '"')
					out[k++] = '"';
				out[k++] = (char)c[i][j];
			}
		out[k++] = '"';
		out[k] = '\0';
	}
	return terms > 0 ? 0 : -1;
}

/* s as an SQL string literal into out (quotes doubled); -1 where it does
 * not fit. */
static int
sql_literal(const char *s, char *out, size_t len)
{
	size_t k = 0;

	out[k++] = '\'';
	for (; *s != '\0'; s++) {
		if (k + 4 >= len)
			return -1;
		if (*s == '\'')
			out[k++] = '\'';
		out[k++] = *s;
	}
	out[k++] = '\'';
	out[k] = '\0';
	return 0;
}

int
listing_addr_rows(struct query *db, const char *pat, char *out, size_t len)
{
	char		   match[1024], lit[2100], list[3584];
	size_t		   lk = 0;
	struct query_rows *st;
	int64_t		   n = 0;
	int		   rc;

	if (!query_addr_index(db) ||
	    addr_index_query(pat, match, sizeof(match)) != 0)
		return 0;
	/* the rows, as a list of ids where they fit: the index asked once */
	if ((st = query_prepare(db,
		 "SELECT rowid FROM message_addrs WHERE message_addrs"
		 " MATCH ?1 LIMIT " ADDR_FEW_TEXT)) == NULL)
		return 0;
	query_bind_text(st, 1, match);
	while ((rc = query_next(st)) == 1) {
		if (lk + 24 < sizeof(list))
			lk += (size_t)snprintf(list + lk, sizeof(list) - lk,
			    "%s%lld", n ? "," : "",
			    (long long)query_int(st, 0));
		else
			lk = sizeof(list); /* too many to list */
		n++;
	}
	query_finish(st);
	if (rc != 0 || n >= ADDR_FEW)
		return 0;
	if (lk < sizeof(list))
		return snprintf(out, len, "%s", n > 0 ? list : "NULL") <
		    (int)len;
	return sql_literal(match, lit, sizeof(lit)) == 0 &&
	    snprintf(out, len,
		"SELECT rowid FROM message_addrs WHERE message_addrs MATCH %s",
		lit) < (int)len;
}

int
listing_hash_ok(const char *v)
{
	size_t n = strlen(v);

	if (strspn(v, "0123456789abcdefABCDEF") != n)
		return -1;
	return n == 32 || n == 40 || n == 64 ? 0 : -1;
}

const char *
listing_hash_column(const char *v)
{
	size_t n = strlen(v);

	return n == 32 ? "md5" : n == 40 ? "sha1" : "sha256";
}

int
listing_net_ok(const char *v)
{
	unsigned char b[16];
	char	      a[64], *slash, *end;
	long	      bits = 0;
	int	      v6;

	if (strlen(v) >= sizeof(a))
		return -1;
	snprintf(a, sizeof(a), "%s", v);
	if ((slash = strchr(a, '/')) != NULL) {
		*slash++ = '\0';
		bits = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0')
			return -1;
	}
	v6 = strchr(a, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, a, b) != 1)
		return -1;
	return bits < 0 || bits > (v6 ? 128 : 32) ? -1 : 0;
}

void
listing_canonical_address(const char *v, char *out, size_t len)
{
	unsigned char b[16];
	int	      v6 = strchr(v, ':') != NULL;

	if (strchr(v, '/') != NULL ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, v, b) != 1 ||
	    inet_ntop(v6 ? AF_INET6 : AF_INET, b, out, (socklen_t)len) == NULL)
		snprintf(out, len, "%s", v);
}

/*
 * A filter on one address rather than a network, as an equality: every
 * in_net(COLUMN, ?) of w becomes COLUMN = ?, which the address indexes
 * answer (a pivot from a host to its sessions reads that host's rows,
 * where in_net reads every session).  Both engines read it: SQLite
 * compares the text inet_ntop wrote, PostgreSQL takes the value as inet.
 */
static void
where_one_address(const char *w, char *out, size_t len)
{
	static const char fn[] = "in_net(";
	size_t		  k = 0;

	while (*w != '\0' && k + 1 < len) {
		const char *col = w + sizeof(fn) - 1, *comma;

		if (strncmp(w, fn, sizeof(fn) - 1) != 0 ||
		    (comma = strstr(col, ", ?)")) == NULL) {
			out[k++] = *w++;
			continue;
		}
		k += (size_t)snprintf(out + k, len - k, "%.*s = ?",
		    (int)(comma - col), col);
		if (k >= len)
			k = len - 1;
		w = comma + strlen(", ?)");
	}
	out[k] = '\0';
}

int
listing_time(const char *v, time_t now, long plus, char *out, size_t len)
{
	struct tm tm;
	time_t	  t;

	if (*v == '\0' || cli_parse_time(v, now, &t) != 0)
		return -1;
	t += plus;
	gmtime_r(&t, &tm);
	return strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm) > 0 ? 0 : -1;
}

static const char *const protos[] = { "smtp", "pop3", "imap", NULL };
/* the kinds of v_tls_findings' checks (store/sqlite/sqlite_findings.c,
 * store/pg/pg_schema.sql) */
static const char *const finding_kinds[] = { "starttls_not_used",
	"credentials_before_tls", "mail_before_tls", "tls_below_1_2",
	"tls_weak_cipher", "tls_cert_invalid", "tls_cert_name_mismatch",
	"tls_cert_greeting_mismatch", NULL };

const char *
listing_proto(const char *v)
{
	for (int i = 0; protos[i] != NULL; i++)
		if (strcasecmp(v, protos[i]) == 0)
			return protos[i];
	return NULL;
}

/* -1, with err saying that v is not one of set's values */
static int
one_of(int f, const char *v, const char *const *set, char *err, size_t errlen)
{
	size_t k = (size_t)snprintf(err, errlen, "%s %s: not one of",
	    filter_opt[f], v);

	for (int i = 0; set[i] != NULL && k < errlen; i++)
		k += (size_t)snprintf(err + k, errlen - k, "%s %s",
		    i > 0 ? "," : "", set[i]);
	return -1;
}

/* v in lower case, or upper (ASCII), into out, cut to fit */
static void
fold_into(const char *v, char *out, size_t len, int upper)
{
	size_t i;

	for (i = 0; v[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)(upper ? toupper((unsigned char)v[i]) :
					tolower((unsigned char)v[i]));
	out[i] = '\0';
}

/* v is a name: 1 to max letters, digits and the characters of also */
static int
token_ok(const char *v, const char *also, size_t max)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr(also, v[i]) == NULL)
			return 0;
	return 1;
}

/* a port, 1 to 65535 in decimal, into out as the number it is */
static int
port_value(const char *v, char *out, size_t len)
{
	unsigned long n = 0;

	if (*v == '\0' || strlen(v) > 5)
		return -1;
	for (const char *p = v; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < 1 || n > 65535)
		return -1;
	snprintf(out, len, "%lu", n);
	return 0;
}

/*
 * The filters whose value is a name the log writes as its dissectors and
 * analysis name things (not a list kept here: a name added there would
 * be refused), in its case: what one is, and the sums that hold the
 * log's own, to say when an empty answer is a name it never saw.
 */
static const struct name_filter {
	int	    f;
	const char *also;  /* characters past letters and digits */
	size_t	    max;   /* its length at most */
	int	    upper; /* the log's case: 1 upper, 0 lower */
	const char *refused, *seen_sql, *unseen;
} name_filters[] = {
	{ F_ANOMALY, "_", 64, 0,
	    "not an anomaly's name (stream_gap, bare_lf, ...: mailsift stats "
	    "lists the log's)",
	    "SELECT 1 FROM v_stat_anomalies WHERE name = ?",
	    "no anomaly of that name in this log (mailsift stats lists the "
	    "log's)" },
	/* RFC 4422 3.1: a SASL name, or POP3's USER and APOP */
	{ F_MECHANISM, "-_", 20, 1,
	    "not a mechanism's name (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, USER, "
	    "APOP, ...)",
	    "SELECT 1 FROM v_stat_auths WHERE mechanism = ?",
	    "no login by that mechanism in this log (mailsift stats lists the "
	    "log's)" },
};
#define NNAME_FILTERS (sizeof(name_filters) / sizeof(name_filters[0]))

static const struct name_filter *
name_filter_of(int f)
{
	for (size_t i = 0; i < NNAME_FILTERS; i++)
		if (name_filters[i].f == f)
			return &name_filters[i];
	return NULL;
}

/* The values filter f of l takes, any case, as the log writes them;
 * NULL: not a set */
static const char *const *
value_set(const struct listing *l, int f)
{
	static const char *const outcomes[] = { "accepted", "rejected",
		"unknown", "retrieved", "incomplete", "partly accepted", NULL };

	switch (f) {
	case F_PROTO:
		return protos;
	case F_OUTCOME:
		return l->outcomes != NULL ? l->outcomes : outcomes;
	case F_FINDING:
		return finding_kinds;
	default:
		return NULL;
	}
}

/* The value of a filter as the SQL takes it, into out: checked, made a
 * pattern or a time as the log writes it; -1 with err said. */
static int
filter_value(const struct listing *l, int f, const char *v, char *out,
    size_t len, char *err, size_t errlen)
{
	const char *const	 *set = value_set(l, f);
	const struct name_filter *nf = name_filter_of(f);

	/* a value of a set, or a name: as value_set and name_filters say */
	if (set != NULL) {
		for (int i = 0; set[i] != NULL; i++)
			if (strcasecmp(v, set[i]) == 0) {
				snprintf(out, len, "%s", set[i]);
				return 0;
			}
		return one_of(f, v, set, err, errlen);
	}
	if (nf != NULL) {
		if (!token_ok(v, nf->also, nf->max)) {
			snprintf(err, errlen, "%s %s: %s", filter_opt[f], v,
			    nf->refused);
			return -1;
		}
		fold_into(v, out, len, nf->upper);
		return 0;
	}
	switch (f) {
	case F_HOST:
	case F_CLIENT:
	case F_SERVER:
		if (listing_net_ok(v) != 0) {
			snprintf(err, errlen,
			    "%s %s: not an address or a network "
			    "(192.0.2.7, 10.7.29.0/24, 2001:db8::/32)",
			    filter_opt[f], v);
			return -1;
		}
		listing_canonical_address(v, out, len);
		return 0;
	case F_SINCE:
	case F_UNTIL:
		if (listing_time(v, time(NULL), 0, out, len) != 0) {
			snprintf(err, errlen,
			    "%s %s: not a time (2024-01-31, 2024-01-31T17:00, "
			    "2024-01-31T17:00+02:00, yesterday, 2h, 7d)",
			    filter_opt[f], v);
			return -1;
		}
		return 0;
	case F_USER:
	case F_FROM:
	case F_TO:
	case F_SUBJECT:
	case F_NAME:
		listing_like_pattern(v, out, len);
		return 0;
	case F_PORT:
		if (port_value(v, out, len) != 0) {
			snprintf(err, errlen,
			    "--port %s: not a port (a number, 1 to 65535)", v);
			return -1;
		}
		return 0;
	case F_HASH:
		if (listing_hash_ok(v) != 0) {
			snprintf(err, errlen,
			    "--hash %s: not an MD5, SHA-1 or SHA-256 in hex",
			    v);
			return -1;
		}
		fold_into(v, out, len, 0); /* as the log writes hashes */
		return 0;
	default:
		snprintf(out, len, "%s", v);
		return 0;
	}
}

int
listing_unseen_name(struct query *db, const char *const val[F_COUNT], char *out,
    size_t len)
{
	for (size_t i = 0; i < NNAME_FILTERS; i++) {
		const struct name_filter *nf = &name_filters[i];
		const char		 *v = val[nf->f];
		char			  norm[128];
		struct query_rows	 *st;
		int			  seen;

		if (v == NULL)
			continue;
		fold_into(v, norm, sizeof(norm), nf->upper);
		/* the kept sums: a few rows, where the rows they count may
		 * be millions */
		if ((st = query_prepare(db, nf->seen_sql)) == NULL)
			continue;
		query_bind_text(st, 1, norm);
		seen = query_next(st);
		query_finish(st);
		if (seen == 0) {
			snprintf(out, len, "%s %s: %s", filter_opt[nf->f], v,
			    nf->unseen);
			return 1;
		}
	}
	return 0;
}

/* How a page or count of filtered rows is read, sorted or (the rows
 * that hang off messages: rows_walk) in the listing's order
 * (listing_prepare_view says why there are three). */
enum sort_way {
	SORT_PLANNED,	 /* as SQLite's planner takes it */
	SORT_WALKED,	 /* the filters written "+(...)": no index answers
			    them, so an index of the sort's column (or the
			    listing's order) is walked, --outcome asked of
			    each row (outcome_each) */
	SORT_BY_FILTERS, /* the column written after query_sort_filtered's
			    prefix: the rows the filters keep, sorted */
};

/* The SQL of filter f of l with the value norm, read the way given:
 * its own; --outcome's asked of each row, walked; a hash's, of
 * the one column its length can be (the MD5, SHA-1 or SHA-256: an index
 * answers it where the three at once read every part); for one address,
 * the equality (where_one_address); for a part of a sender or recipient,
 * its own among the rows the index finds (listing_addr_rows): in w
 * (WHERE_MAX bytes). */
#define WHERE_MAX 4096
static const char *
where_of(struct query *db, const struct listing *l, int f, const char *val,
    const char *norm, enum sort_way way, char *w)
{
	char ids[WHERE_MAX - 512];

	if (f == F_OUTCOME && way == SORT_WALKED && l->outcome_each != NULL) {
		snprintf(w, WHERE_MAX,
		    query_outcome_kept(db) ? OUTCOME_OF_EACH :
					     OUTCOME_OF_EACH_WORKED,
		    l->outcome_each);
		return w;
	}
	if (val != NULL && (f == F_FROM || f == F_TO) &&
	    strstr(l->select, "message_id") != NULL &&
	    listing_addr_rows(db, norm, ids, sizeof(ids)) == 1) {
		snprintf(w, WHERE_MAX, "(message_id IN (%s) AND %s)", ids,
		    l->where[f]);
		return w;
	}
	if (val != NULL && f == F_HASH) {
		const char *t = l->where[f], *at = strstr(t, "%s");

		snprintf(w, WHERE_MAX, "%.*s%s%s", (int)(at - t), t,
		    listing_hash_column(norm), at + 2);
		return w;
	}
	if (val == NULL || (f != F_HOST && f != F_CLIENT && f != F_SERVER) ||
	    strchr(norm, '/') != NULL)
		return l->where[f];
	where_one_address(l->where[f], w, WHERE_MAX);
	return w;
}

/* sql (len bytes, in a buffer of size) becomes head, sql, tail: the
 * listing's rows as a subquery (a column's values, the count, a page
 * read backwards); -1 with err said when that would not fit. */
static int
wrap_sql(char *sql, size_t *len, size_t size, const char *head,
    const char *tail, char *err, size_t errlen)
{
	size_t h = strlen(head), t = strlen(tail);

	if (*len + h + t + 1 > size) {
		snprintf(err, errlen, "the listing's query is too long");
		return -1;
	}
	memmove(sql + h, sql, *len + 1);
	memcpy(sql, head, h);
	memcpy(sql + h + *len, tail, t + 1);
	*len += h + t;
	return 0;
}

/*
 * A page of a listing sorted by a column, by offset: the keys of its
 * rows first, sorted with the column alone, then the rows of those keys
 * in the same order.  The listing's every column (a message's outcome,
 * its attachments' bytes) was computed for every row the sort read, a
 * second at a million messages by subject where the keys alone take
 * half; with an index on the column both read it in order.  A keyed
 * listing's order is one column that names one row (its key as the
 * listing shows it), so the keys of a page are its rows.
 */
/* " LIMIT n OFFSET m" into out, each where asked; the limit also where
 * it may be 0 (none: a page from the end past the last row) */
static void
limit_clause(char *out, size_t size, long limit, long offset, int none_ok)
{
	size_t n = 0;

	out[0] = '\0';
	if (limit > 0 || none_ok)
		n = (size_t)snprintf(out, size, " LIMIT %ld", limit);
	else if (offset > 0) /* SQLite takes no OFFSET without a LIMIT */
		n = (size_t)snprintf(out, size, " LIMIT %lld",
		    (long long)INT64_MAX);
	if (offset > 0 && n < size)
		snprintf(out + n, size - n, " OFFSET %ld", offset);
}

static int
page_by_keys(char *sql, size_t *len, size_t size, const struct listing *l,
    const char *by, long limit, long offset, int mirror, char *err,
    size_t errlen)
{
	char tail[2048], lim[64];

	limit_clause(lim, sizeof(lim), limit, offset, mirror);
	snprintf(tail, sizeof(tail),
	    ") SELECT * FROM sel WHERE %s IN (SELECT %s FROM sel ORDER BY %s%s)"
	    " ORDER BY %s",
	    l->order, l->order, by, lim, by);
	return wrap_sql(sql, len, size, "WITH sel AS NOT MATERIALIZED (", tail,
	    err, errlen);
}

/* The log would not run a listing's statement: said in err (fuzz_filters
 * knows a refusal of the SQL by this tail). */
static void
log_refused(struct query *db, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s (is it a mailsift log of this version?)",
	    query_error(db));
}

/* Whether the row of key has no value (NULL) in column col of listing
 * l: 1 or 0; -1 where it has no such row, -2 where the log would not
 * say (query_error). */
static int
row_value_null(struct query *db, const struct listing *l, const char *col,
    long long key)
{
	char		   sql[4096];
	struct query_rows *st;
	int		   null = -1;

	/* a keyed listing's order is its key, as a column of its rows */
	snprintf(sql, sizeof(sql),
	    "SELECT CASE WHEN \"%s\" IS NULL THEN 1 ELSE 0 END"
	    " FROM (%s) AS r WHERE r.%s = %lld",
	    col, l->select, l->order, key);
	if ((st = query_prepare(db, sql)) == NULL)
		return -2;
	switch (query_next(st)) {
	case 1:
		null = query_int(st, 0) != 0;
		break;
	case -1:
		null = -2;
		break;
	}
	query_finish(st);
	return null;
}

/*
 * A sorted listing's page after (or before) the row of a key, from sel
 * (the selection, as the WITH sel that heads it): the rows past that
 * row's (value, key) in the order the page is read in, the sort's (or
 * the other way round for the page before, turned back by the caller).
 * The value is the row's own, read by the database: a real compares as
 * kept, whatever a page printed.  Three parts, each a range of the
 * column's index where it has one, so that no page is a filter of every
 * row before it (an offset steps over them all): the row's ties past
 * its key, the values past its value, and the NULLs where the read
 * meets them after the row (SQLite orders NULL below every value,
 * PostgreSQL above).  -1 with err said: an after that names no row.  A
 * before that names none is the last page.
 */
static int
sorted_page_sql(struct query *db, const struct listing *l,
    const struct listing_view *v, const char *plus, char *out, size_t size,
    char *err, size_t errlen)
{
	long long   key = v->after > 0 ? v->after : v->before;
	int	    back = v->after <= 0, rdesc = v->desc != back;
	int	    null = row_value_null(db, l, v->sort, key);
	int	    nulls_first = query_nulls_low(db) != rdesc;
	const char *op = rdesc ? "<" : ">", *dir = rdesc ? " DESC" : "";
	const char *c = v->sort, *id = l->order;
	char	    val[4096], part[3][4096 + 256], lim[32] = "", order[320];
	char	    cols[160], cq[80];
	size_t	    len = 0;
	int	    parts = 0, by_value[3] = { 0, 0, 0 };

	if (null == -2) {
		log_refused(db, err, errlen);
		return -1;
	}
	if (null < 0 && !back) {
		snprintf(err, errlen, "%s has no row %lld to page after",
		    l->name, key);
		return -1;
	}
	if (v->limit > 0)
		snprintf(lim, sizeof(lim), " LIMIT %ld", v->limit);
	/* the column where a part tests or orders it */
	snprintf(cq, sizeof(cq), "%s\"%s\"", plus, c);
	snprintf(val, sizeof(val),
	    "(SELECT \"%s\" FROM (%s) AS r WHERE r.%s = %lld)", c, l->select,
	    id, key);
	if (null < 0) { /* the last page: from the end */
		by_value[parts] = 1;
		snprintf(part[parts++], sizeof(part[0]), "1 = 1");
	} else if (null) {
		snprintf(part[parts++], sizeof(part[0]),
		    "%s IS NULL AND %s %s %lld", cq, id, op, key);
		if (nulls_first) {
			by_value[parts] = 1;
			snprintf(part[parts++], sizeof(part[0]),
			    "%s IS NOT NULL", cq);
		}
	} else {
		snprintf(part[parts++], sizeof(part[0]),
		    "%s = %s AND %s %s %lld", cq, val, id, op, key);
		by_value[parts] = 1;
		snprintf(part[parts++], sizeof(part[0]), "%s %s %s", cq, op,
		    val);
		if (!nulls_first)
			snprintf(part[parts++], sizeof(part[0]), "%s IS NULL",
			    cq);
	}
	/* the page's keys, read with the column alone, then their rows
	 * (page_by_keys says why) */
	len += (size_t)snprintf(out, size,
	    "SELECT * FROM sel WHERE %s IN (SELECT %s FROM (", id, id);
	snprintf(order, sizeof(order), "%s%s, ", cq, dir);
	snprintf(cols, sizeof(cols), strcmp(c, id) == 0 ? "%s" : "\"%s\", %s",
	    c, id);
	/* a part of one value (ties, NULLs) in the order of the key alone:
	 * SQLite then reads it off the index rather than sorting it all */
	for (int i = 0; i < parts && len < size; i++)
		len += (size_t)snprintf(out + len, size - len,
		    "%sSELECT * FROM (SELECT %s FROM sel WHERE %s"
		    " ORDER BY %s%s%s%s) AS p%d",
		    i > 0 ? " UNION ALL " : "", cols, part[i],
		    by_value[i] ? order : "", id, dir, lim, i);
	snprintf(order, sizeof(order), "\"%s\" IS NULL%s, \"%s\"%s, %s%s", c,
	    nulls_first ? " DESC" : "", c, dir, id, dir);
	if (len < size) /* the parts in the read's order */
		len += (size_t)snprintf(out + len, size - len,
		    ") AS parts ORDER BY %s%s) ORDER BY %s", order, lim, order);
	if (len >= size) {
		snprintf(err, errlen, "the listing's query is too long");
		return -1;
	}
	return 0;
}

struct query_rows *
listing_prepare(struct query *db, const struct listing *l,
    const char *const val[F_COUNT], const int flag[F_COUNT], long limit,
    long offset, char *err, size_t errlen)
{
	struct listing_view v = { .limit = limit, .offset = offset };

	return listing_prepare_view(db, l, val, flag, &v, err, errlen);
}

/*
 * Whether name is one of the listing's columns: the last word of an
 * item of its SELECT list (after AS, or the column itself), the items
 * split at the commas outside parentheses, the list ended by its FROM
 * outside parentheses (a subquery's FROM, in an item or after the list,
 * is not it).
 */
int
listing_has_column(const struct listing *l, const char *name)
{
	char spelled[64];

	return listing_column(l, name, spelled, sizeof(spelled));
}

int
listing_column(const struct listing *l, const char *name, char *out,
    size_t outlen)
{
	const char *p = l->select + strlen("SELECT "), *q = p;
	int	    depth = 0;

	for (;; q++) {
		const char *w, *we;
		int	    end =
		    *q == '\0' || (depth == 0 && strncmp(q, " FROM ", 6) == 0);

		if (!end && (depth > 0 || *q != ',')) {
			depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
			continue;
		}
		/* the item is [p, q): its last word, quotes aside */
		we = q;
		while (we > p && (we[-1] == ' ' || we[-1] == '"'))
			we--;
		w = we;
		while (w > p && (isalnum((unsigned char)w[-1]) || w[-1] == '_'))
			w--;
		if ((size_t)(we - w) == strlen(name) &&
		    (size_t)(we - w) < outlen &&
		    strncasecmp(w, name, (size_t)(we - w)) == 0) {
			snprintf(out, outlen, "%.*s", (int)(we - w), w);
			return 1;
		}
		if (end)
			return 0;
		p = q + 1;
	}
}

/* --query: the language's messages, for a listing that takes them;
 * NULL with err said.  Caller frees. */
static struct search_cond *
query_filter(struct query *db, const struct listing *l, const char *q,
    char *err, size_t errlen)
{
	struct search_cond *c;

	if (l->where[F_QUERY] == NULL) {
		snprintf(err, errlen, "--query does not apply to %s", l->name);
		return NULL;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (search_condition(db, q, c, err, errlen) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* The kept values of column name of l, or NULL. */
static const struct listing_values *
values_kept(const struct listing *l, const char *name)
{
	for (const struct listing_values *k = l->values_all;
	     k != NULL && k->column != NULL; k++)
		if (strcmp(k->column, name) == 0)
			return k;
	return NULL;
}

/* The SQL that counts a selection from what the log keeps, the
 * filters' WHERE to be put after it: count_all with no filter on,
 * count_kept (or count_all) when every filter on is one they take
 * (count_takes); NULL: the rows are counted. */
static const char *
count_kept_sql(const struct listing *l, const char *const val[F_COUNT],
    const int flag[F_COUNT])
{
	int filtered = 0;

	if (l->count_all == NULL)
		return NULL;
	for (int f = 0; f < F_COUNT; f++) {
		if (val[f] == NULL && !flag[f])
			continue;
		if (!(l->count_takes & 1U << f))
			return NULL;
		filtered = 1;
	}
	return filtered && l->count_kept != NULL ? l->count_kept : l->count_all;
}

/* The rows of the whole listing (count_all), or -1 where the log would
 * not say. */
static long long
count_all_rows(struct query *db, const struct listing *l)
{
	struct query_rows *st = query_prepare(db, l->count_all);
	long long	   n = -1;

	if (st != NULL && query_next(st) == 1)
		n = query_int(st, 0);
	query_finish(st);
	return n;
}

/*
 * A page by offset of a keyed listing with no filter on, past the
 * middle: the same rows asked the other way round from the end (limit
 * and offset into *limit, *offset; 1), to be turned back by the caller;
 * else 0.  An offset steps over every row before it, and the messages'
 * last page of a million stepped over every row (half a second); the
 * count is the indexes' own (count_all, 10 ms at a million: asked
 * for any offset, a page by offset being rarer than its cost).  One
 * order is the other's mirror: ties go by the key both ways, and
 * SQLite and PostgreSQL order NULLs first one way and last the other.
 */
static int
offset_from_end(struct query *db, const struct listing *l, int filtered,
    long *limit, long *offset)
{
	long long total, n;

	if (*offset <= 0 || filtered || l->key == NULL ||
	    l->count_all == NULL || (total = count_all_rows(db, l)) < 0 ||
	    *offset < total / 2)
		return 0;
	n = *offset >= total ? 0 : total - *offset;
	if (*limit > 0 && *limit < n)
		n = *limit;
	*offset = (long)(total - *offset - n);
	*limit = (long)n;
	return 1;
}

/* Whether any filter picks the rows (the search language's, or one of
 * the options). */
static int
has_filters(const char *const val[F_COUNT], const int flag[F_COUNT])
{
	for (int f = 0; f < F_COUNT; f++)
		if (val[f] != NULL || flag[f])
			return 1;
	return 0;
}

/* A --sort or --values name the listing lacks, quoted: an empty one
 * ("--sort ''") is seen as one. */
static void
no_column(const struct listing *l, const char *name, char *err, size_t errlen)
{
	snprintf(err, errlen,
	    "%s has no column \"%s\" (its columns head its --csv)", l->name,
	    name);
}

/* The listing's statement, read the way given. */
static struct query_rows *
prepare_view(struct query *db, const struct listing *l,
    const char *const val[F_COUNT], const int flag[F_COUNT],
    const struct listing_view *v, enum sort_way way, char *err, size_t errlen)
{
	const char *plus =
	    way == SORT_BY_FILTERS ? query_sort_filtered(db) : "";
	const char		    *open = way == SORT_WALKED ? "+(" : "";
	const char		    *shut = way == SORT_WALKED ? ")" : "";
	long			     limit = v->limit, offset = v->offset;
	int			     keyset = v->after > 0 || v->before > 0;
	int			     back = keyset && v->after <= 0;
	int			     paged = 0; /* LIMIT and OFFSET in */
	char			     sql[16384], norm[F_COUNT][512];
	size_t			     len, conds, conds_end;
	struct query_rows	    *st;
	const char		    *from = l->select, *next;
	int			     bind = 1, first;
	int			     filtered = has_filters(val, flag);
	struct search_cond	    *qc = NULL;
	const struct listing_values *kept;
	const char		    *kept_count;

	/* a WHERE of the query itself, not of a subquery in its columns */
	while ((next = strstr(from + 1, " FROM ")) != NULL)
		from = next;
	first = strstr(from, " WHERE ") == NULL;

	len = (size_t)snprintf(sql, sizeof(sql), "%s", l->select);
	conds = len;
	if (val[F_QUERY] != NULL) {
		/* first, so that its ?1.. come before the filters' ? */
		if ((qc = query_filter(db, l, val[F_QUERY], err, errlen)) ==
		    NULL)
			return NULL;
		const char *w = l->where[F_QUERY], *at = strstr(w, "%s");

		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    " WHERE %s%.*s%s%s%s", open, (int)(at - w), w, qc->sql,
		    at + 2, shut);
		first = 0;
	}
	for (int f = 0; f < F_COUNT; f++) {
		char w[WHERE_MAX];

		if (f == F_QUERY || (val[f] == NULL && !flag[f]))
			continue;
		if (l->where[f] == NULL) {
			snprintf(err, errlen, "%s does not apply to %s",
			    filter_opt[f], l->name);
			free(qc);
			return NULL;
		}
		if (val[f] != NULL &&
		    filter_value(l, f, val[f], norm[f], sizeof(norm[f]), err,
			errlen) != 0) {
			free(qc);
			return NULL;
		}
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    " %s %s%s%s", first ? "WHERE" : "AND", open,
		    where_of(db, l, f, val[f], norm[f], way, w), shut);
		first = 0;
	}
	conds_end = len;
	if (keyset &&
	    (l->key == NULL || v->values != NULL || v->count ||
		v->offset > 0)) {
		snprintf(err, errlen,
		    l->key == NULL ?
			"%s pages by offset, not after or before a row" :
			"after and before page %s without values, count or "
			"offset",
		    l->name);
		goto fail;
	}
	if (v->sort != NULL && v->values == NULL && !v->count &&
	    !listing_has_column(l, v->sort)) {
		no_column(l, v->sort, err, errlen);
		goto fail;
	}
	if (l->whole != NULL && !flag[F_PIECES]) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " %s %s",
		    first ? "WHERE" : "AND", l->whole);
		first = 0;
	}
	if (v->values != NULL && !listing_has_column(l, v->values)) {
		no_column(l, v->values, err, errlen);
		goto fail;
	}
	if (v->values != NULL && !filtered &&
	    (kept = values_kept(l, v->values)) != NULL) {
		len = (size_t)snprintf(sql, sizeof(sql), "%s LIMIT %lld%s",
		    kept->head, limit > 0 ? (long long)limit : INT64_MAX,
		    kept->tail);
		limit = offset = 0;
	} else if (v->values != NULL) { /* a column's values, most first */
		char head[512];

		snprintf(head, sizeof(head),
		    "SELECT * FROM (SELECT \"%s\" AS value, count(*) AS count"
		    " FROM (",
		    v->values);
		if (wrap_sql(sql, &len, sizeof(sql), head,
			") AS listed GROUP BY 1) AS valued ORDER BY 2 DESC,"
			" CAST(value AS TEXT)",
			err, errlen) != 0)
			goto fail;
		offset = 0;
	} else if (v->count && (kept_count = count_kept_sql(l, val, flag))) {
		/* the kept count, the filters' WHERE after it */
		size_t head = strlen(kept_count), n = conds_end - conds;

		if (head + n >= sizeof(sql)) {
			snprintf(err, errlen,
			    "the listing's query is too long");
			goto fail;
		}
		memmove(sql + head, sql + conds, n);
		memcpy(sql, kept_count, head);
		sql[len = head + n] = '\0';
		limit = offset = 0;
	} else if (v->count) { /* the rows there are, for paging */
		if (wrap_sql(sql, &len, sizeof(sql),
			"SELECT count(*) AS total FROM (", ") AS counted", err,
			errlen) != 0)
			goto fail;
		limit = offset = 0;
	} else if (keyset && v->sort != NULL) { /* after a row, sorted */
		char page[16384];

		if (sorted_page_sql(db, l, v, plus, page, sizeof(page), err,
			errlen) != 0 ||
		    wrap_sql(sql, &len, sizeof(sql),
			"WITH sel AS NOT MATERIALIZED (", ") ", err,
			errlen) != 0)
			goto fail;
		if (len + strlen(page) + 1 > sizeof(sql)) {
			snprintf(err, errlen,
			    "the listing's query is too long");
			goto fail;
		}
		len +=
		    (size_t)snprintf(sql + len, sizeof(sql) - len, "%s", page);
		limit = 0;
	} else if (keyset) { /* the page after or before a row's key */
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    " %s %s %c ? ORDER BY %s%s", first ? "WHERE" : "AND",
		    l->key, v->after > 0 ? '>' : '<', l->order,
		    v->after > 0 ? "" : " DESC");
	} else {
		/* the order's own way, or the other (a page from the end);
		 * desc with no sort: a keyed listing's key largest first */
		int  mirror = offset_from_end(db, l, filtered, &limit, &offset);
		int  desc = (v->desc && l->key != NULL) != mirror;
		char by[512];

		if (v->sort != NULL) /* ties the same way round, where the
					order is one key: an index on the
					column then answers the whole order
					(of rows no filter picks) */
			snprintf(by, sizeof(by), "%s\"%s\"%s, %s%s", plus,
			    v->sort, (v->desc != mirror) ? " DESC" : "",
			    l->order, desc ? " DESC" : "");
		else
			snprintf(by, sizeof(by), "%s%s", l->order,
			    desc ? " DESC" : "");
		/* the page from the end is turned back to the order's way;
		 * past the last row it is none (LIMIT 0) */
		back = mirror;
		if (v->sort != NULL && l->key != NULL) {
			if (page_by_keys(sql, &len, sizeof(sql), l, by, limit,
				offset, back, err, errlen) != 0)
				goto fail;
			limit = offset = 0;
			paged = 1;
		} else {
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
			    " ORDER BY %s", by);
		}
	}
	if (!paged && len < sizeof(sql)) {
		limit_clause(sql + len, sizeof(sql) - len, limit, offset,
		    back && !keyset);
		len += strlen(sql + len);
	}
	if (back) { /* the page was read the other way round */
		/* the page before a key was read backwards (ORDER BY key
		 * DESC LIMIT n, the n rows nearest it), or a page by offset
		 * from the end: put back in order */
		char tail[256];

		if (v->sort != NULL) /* ... in the sort's order */
			snprintf(tail, sizeof(tail),
			    ") AS page ORDER BY \"%s\"%s, %s%s", v->sort,
			    v->desc ? " DESC" : "", l->order,
			    v->desc ? " DESC" : "");
		else
			snprintf(tail, sizeof(tail), ") AS page ORDER BY %s%s",
			    l->order,
			    !keyset && v->desc && l->key != NULL ? " DESC" :
								   "");
		if (wrap_sql(sql, &len, sizeof(sql), "SELECT * FROM (", tail,
			err, errlen) != 0)
			goto fail;
	}
	if ((st = query_prepare(db, sql)) == NULL) {
		log_refused(db, err, errlen);
		goto fail;
	}
	for (int i = 0; qc != NULL && i < qc->nvals; i++)
		query_bind_text(st, bind++, qc->vals[i]);
	/* the filter's own SQL has as many ? as the equality made of it */
	for (int f = 0; f < F_COUNT; f++) {
		const char *w = l->where[f];

		if (f == F_QUERY || val[f] == NULL || w == NULL)
			continue;
		for (const char *q = w; (q = strchr(q, '?')) != NULL; q++)
			query_bind_text(st, bind++, norm[f]);
	}
	if (keyset && v->sort == NULL) /* sorted: the key is in the SQL */
		query_bind_int(st, bind, v->after > 0 ? v->after : v->before);
	free(qc);
	return st;
fail:
	free(qc);
	return NULL;
}

/*
 * The milliseconds a filtered sort is given each way before the next is
 * tried: as SQLite plans it (a good read by a filter's index, of a few
 * rows, takes a few), then walking the column's index (a good walk's
 * page took 3-60 ms at a million messages).  What is left of the 100 ms
 * an answer may take goes to the walk.  The environment's
 * MAILSIFT_SORT_PLAN_MS and MAILSIFT_SORT_WALK_MS set them (0: that way
 * is not tried; the tests read each sort each way).
 */
#define LISTING_PLAN_MS 20L
#define LISTING_WALK_MS 80L

static long
env_ms(const char *name, long dflt)
{
	const char *e = getenv(name);
	char	   *end;
	long	    ms;

	if (e == NULL || *e == '\0')
		return dflt;
	ms = strtol(e, &end, 10);
	return *end == '\0' && ms >= 0 ? ms : dflt;
}

/* The statement made the way given and tried for ms: 1 with it in *st
 * when it gives its first row (or fails) in time, 0 when it does not or
 * ms is 0, -1 with err said when it could not be made. */
static int
tried_way(struct query *db, const struct listing *l,
    const char *const val[F_COUNT], const int flag[F_COUNT],
    const struct listing_view *v, enum sort_way way, long ms,
    struct query_rows **st, char *err, size_t errlen)
{
	*st = NULL;
	if (ms <= 0)
		return 0;
	if ((*st = prepare_view(db, l, val, flag, v, way, err, errlen)) == NULL)
		return -1;
	if (query_try(*st, ms) != 0)
		return 1;
	query_finish(*st);
	*st = NULL;
	return 0;
}

/* Whether a page or a count of the listing's rows, filtered, may be
 * walked in their own order, each row's message asked: so for the rows
 * that hang off messages (attachments, links).  A filter of the message
 * picks most of a million messages of whose rows few are attachments:
 * the planner listed them first ("message_id IN" every id of the
 * outcome most have: 0.45 s; the protocol's index: 0.4 s), where a walk
 * finds the page in a few milliseconds and counts them all in 65. */
static int
rows_walk(const struct listing *l)
{
	return l->outcome_each != NULL;
}

/*
 * A sorted page of filtered rows is fast one of two ways: walking the
 * column's index in order and trying each row against the filters
 * (fast when most rows pass: a first page of "proto smtp" by subject),
 * or reading the rows the filters pick and sorting them (fast when few
 * pass: a day that holds none, walked, read every row of the log out of
 * order).  Without statistics SQLite cannot tell which, and takes an
 * equality's index whenever there is one (proto's for "proto smtp" by
 * subject, which read and sorted every row: 0.4-1 s at a million).  So
 * the planner's own way is tried first, briefly, then the walk, forced
 * (no filter can use an index), and past both the rows are read by the
 * filters, which costs at most a read of every row.  The same for any
 * page or count of the rows that hang off messages (rows_walk), walked
 * in their own order.  PostgreSQL's planner weighs the filters by its
 * statistics.
 */
struct query_rows *
listing_prepare_view(struct query *db, const struct listing *l,
    const char *const val[F_COUNT], const int flag[F_COUNT],
    const struct listing_view *v, char *err, size_t errlen)
{
	const char	   *plus = query_sort_filtered(db);
	struct listing_view spelled = *v; /* columns as the listing has them */
	char		    sort[64], values[64];
	struct query_rows  *st;

	if (v->sort != NULL && listing_column(l, v->sort, sort, sizeof(sort)))
		spelled.sort = sort;
	if (v->values != NULL &&
	    listing_column(l, v->values, values, sizeof(values)))
		spelled.values = values;
	v = &spelled;
	if (((v->sort == NULL || v->count) && !rows_walk(l)) ||
	    v->values != NULL || *plus == '\0' || !has_filters(val, flag))
		return prepare_view(db, l, val, flag, v, SORT_PLANNED, err,
		    errlen);
	if (tried_way(db, l, val, flag, v, SORT_PLANNED,
		env_ms("MAILSIFT_SORT_PLAN_MS", LISTING_PLAN_MS), &st, err,
		errlen) != 0 ||
	    tried_way(db, l, val, flag, v, SORT_WALKED,
		env_ms("MAILSIFT_SORT_WALK_MS", LISTING_WALK_MS), &st, err,
		errlen) != 0)
		return st;
	return prepare_view(db, l, val, flag, v, SORT_BY_FILTERS, err, errlen);
}

/* the transcript, with PW the expression that shows an auth row's
 * password.  Replies as the wire had them: SMTP's code, POP3's +OK and
 * -ERR, IMAP's tag and status; IMAP's untagged responses before the
 * tagged reply (three, then a count, when a command drew more than
 * five); after an SMTP message, the server's reply to its end (the
 * outcome), or that none was seen. */
#define SHOW_SQL(PW)                                                                       \
	"SELECT ts, who, text, path, frame FROM ("                                         \
	" SELECT start_ts AS ts, 0 AS k, 0 AS n, 'S' AS who, trim(coalesce(banner_code"    \
	"  || ' ', '') || coalesce(banner, '')) AS text, NULL AS path,"                    \
	"  banner_frame AS frame, 0 AS i FROM sessions WHERE id = ?1 AND banner IS NOT"    \
	"  NULL"                                                                           \
	" UNION ALL SELECT ts, 1, seq, 'C', coalesce(tag || ' ', '') || verb ||"           \
	"  coalesce(' ' || args, ''), NULL, frame, 0 FROM commands"                        \
	"  WHERE session_id = ?1"                                                          \
	" UNION ALL SELECT c.reply_ts, 2, c.seq, 'S', CASE s.proto"                        \
	"  WHEN 'pop3' THEN CASE c.reply_status WHEN 'ok' THEN '+OK' ELSE '-ERR' END"      \
	"  WHEN 'imap' THEN coalesce(c.tag || ' ', '') || upper(c.reply_status)"           \
	"  ELSE coalesce(CAST(c.reply_code AS TEXT), '') END || ' ' ||"                    \
	"  replace(coalesce(c.reply_text, ''), '\n', ' | '), NULL, c.reply_frame,"         \
	"  1000000000000000 FROM commands c JOIN sessions s ON s.id = c.session_id"        \
	"  WHERE c.session_id = ?1 AND c.reply_ts IS NOT NULL"                             \
	" UNION ALL SELECT ts, 2, coalesce(seq, 0), 'S', '* ' || coalesce(text, keyword)," \
	"  NULL, NULL, id FROM (SELECT r.*, row_number() OVER (PARTITION BY r.seq"         \
	"  ORDER BY r.id) AS rn, count(*) OVER (PARTITION BY r.seq) AS cnt"                \
	"  FROM responses r WHERE r.session_id = ?1) AS r WHERE rn <= 3 OR cnt <= 5"       \
	" UNION ALL SELECT max(ts), 2, coalesce(seq, 0), 'S', '* ... and ' ||"             \
	"  CAST(count(*) - 3 AS TEXT) || ' more untagged responses', NULL, NULL,"          \
	"  max(id) FROM responses WHERE session_id = ?1 GROUP BY seq"                      \
	"  HAVING count(*) > 5"                                                            \
	" UNION ALL SELECT m.begin_ts, 3, m.tx, 'M', '[message ' || m.id || ': ' ||"       \
	"  m.proto || ' ' || m.method || ' ' || CASE m.direction WHEN 'c2s' THEN"          \
	"  'sent' ELSE 'received' END || ': ' || coalesce(m.size, 0) || ' bytes' ||"       \
	"  CASE WHEN m.complete = 1 THEN '' ELSE ', INCOMPLETE' END || CASE WHEN"          \
	"  m.gap_bytes > 0 THEN ', ' || m.gap_bytes || ' bytes LOST' ELSE '' END ||"       \
	"  ', subject \"' || coalesce(m.subject, '') || '\", sha256 ' ||"                  \
	"  coalesce(substr(m.sha256, 1, 16), '') || coalesce(', frames ' ||"               \
	"  m.first_frame || '-' || m.last_frame, '') || ']', m.extract_path,"              \
	"  m.first_frame, m.id FROM messages m WHERE m.session_id = ?1"                    \
	" UNION ALL SELECT coalesce(m.end_ts, m.begin_ts), 3, m.tx, 'S',"                  \
	"  coalesce(CAST(t.final_code AS TEXT) || ' ' || replace(coalesce("                \
	"  t.final_reply, ''), '\n', ' | '), '[no reply to the message seen:"              \
	" outcome unknown]'), NULL, NULL, m.id FROM messages m"                            \
	"  JOIN transactions t ON t.session_id = m.session_id AND t.tx = m.tx"             \
	"  WHERE m.session_id = ?1 AND m.proto = 'smtp' AND m.direction = 'c2s'"           \
	" UNION ALL SELECT ts, 4, id, 'A', 'auth ' || mechanism || ' user ' ||"            \
	"  coalesce(username, '?') || " PW                                                 \
	"  || ': ' || outcome, NULL, frame, 0 FROM auth WHERE session_id = ?1"             \
	" UNION ALL SELECT ts, 5, id, '!', 'anomaly ' || name || coalesce(': ' ||"         \
	"  detail, ''), NULL, frame, 0 FROM anomalies WHERE session_id = ?1"               \
	" UNION ALL SELECT t.ts, 6, 0, 'T', '[TLS begins: ' || coalesce(t.version,"        \
	"  'version not seen') || coalesce(' ' || t.cipher, '') ||"                        \
	"  coalesce(' ' || t.curve, '') || coalesce(', SNI ' || t.sni, '') ||"             \
	"  coalesce(', ALPN ' || t.alpn, '') || coalesce(', certificate ' ||"              \
	"  c.subject || ' (' || t.validation || ')', '') || ', handshake ' ||"             \
	"  CASE WHEN t.established = 1 THEN 'completed' ELSE 'not completed'"              \
	"  END || CASE WHEN t.resumed = 1 THEN ', resumed' ELSE '' END ||"                 \
	"  coalesce(', decrypted: ' || t.decryption, '') || ']', NULL, NULL, 0"            \
	"  FROM tls t LEFT JOIN certificates c ON c.session_id = t.session_id"             \
	"  AND c.sender = 'server' AND c.idx = 0 WHERE t.session_id = ?1"                  \
	") AS transcript ORDER BY ts, k, n, i"

const char listing_show_sql[] =
    SHOW_SQL("coalesce(' password ' || password, '')");
/* serve --no-creds: that a password crossed, not what it was */
const char listing_show_nocreds_sql[] = SHOW_SQL(
    "CASE WHEN password IS NULL THEN '' ELSE ' password [hidden]' END");

/* ---------------------------------------------------------------- stats */

/*
 * Each section reads the log's kept sums (the v_stat_ views: sqlite_
 * stats.c; PostgreSQL and a log that predates them sum as asked), the
 * busiest first off their indexes.
 */
const struct stats_sql stats_sql[] = {
	{ "sessions by protocol",
	    "SELECT proto, sessions, tls, CAST(round(100.0 * tls / sessions)"
	    " AS INTEGER) || '%' AS tls_share, midstream FROM v_stat_protos"
	    " ORDER BY sessions DESC, proto" },
	{ "messages",
	    "SELECT proto, method, messages, complete, bytes, attachments"
	    " FROM v_stat_kinds ORDER BY 3 DESC, 1, 2" },
	{ "authentication",
	    "SELECT proto, mechanism, outcome, attempts, in_clear FROM"
	    " v_stat_auths ORDER BY 4 DESC, 1, 2, 3" },
	{ "top senders",
	    "SELECT addr AS \"from\", messages FROM v_stat_senders"
	    " ORDER BY messages DESC, CAST(addr AS TEXT) LIMIT 10" },
	{ "top recipients",
	    "SELECT addr AS \"to\", messages FROM v_stat_recipients"
	    " ORDER BY messages DESC, CAST(addr AS TEXT) LIMIT 10" },
	{ "top servers",
	    "SELECT ip AS server, port, proto, sessions FROM v_stat_servers"
	    " ORDER BY sessions DESC, CAST(ip AS TEXT), port, proto LIMIT 10" },
	{ "top clients",
	    "SELECT ip AS client, sessions FROM v_stat_clients"
	    " ORDER BY sessions DESC, CAST(ip AS TEXT) LIMIT 10" },
	/* how many sessions logged each, off the index by name: a bar of
	 * 7 that leads to 5 sessions says so (anomalies are rare rows; a
	 * million of them are counted in a tenth of a second) */
	{ "anomalies",
	    "SELECT name, count, (SELECT count(DISTINCT session_id) FROM"
	    " anomalies a WHERE a.name = v.name) AS sessions FROM"
	    " v_stat_anomalies v ORDER BY 2 DESC, 1" },
	/* what TLS left exposed or weak (the findings listing), by kind */
	{ "tls findings",
	    "SELECT finding, proto, n AS count FROM v_stat_findings"
	    " ORDER BY 3 DESC, 1, 2" },
};

const size_t nstats_sql = sizeof(stats_sql) / sizeof(stats_sql[0]);

/* The overview's pictures over time: a row per day, or per hour (UTC,
 * only hours with rows; the timelines' bins, which the page widens to
 * days or weeks over a long span), from the kept hours' sums. */
const struct stats_sql overview_sql[] = {
	{ "sessions by day",
	    "SELECT substr(hour, 1, 10) AS day, proto, CAST(sum(sessions) AS"
	    " BIGINT) AS sessions FROM v_stat_hours GROUP BY 1, 2"
	    " HAVING sum(sessions) > 0 ORDER BY 1, 2" },
	{ "messages by day",
	    "SELECT substr(hour, 1, 10) AS day, CAST(sum(messages) AS BIGINT)"
	    " AS messages FROM v_stat_hours GROUP BY 1 HAVING sum(messages) > 0"
	    " ORDER BY 1" },
	{ "sessions by hour",
	    "SELECT hour, CAST(sum(sessions) AS BIGINT) AS sessions FROM"
	    " v_stat_hours GROUP BY 1 HAVING sum(sessions) > 0 ORDER BY 1" },
	{ "messages by hour",
	    "SELECT hour, CAST(sum(messages) AS BIGINT) AS messages FROM"
	    " v_stat_hours GROUP BY 1 HAVING sum(messages) > 0 ORDER BY 1" },
};
const size_t noverview_sql = sizeof(overview_sql) / sizeof(overview_sql[0]);
