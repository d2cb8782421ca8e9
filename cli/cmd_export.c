/* \summary: mailsift export: the log as JSON lines in the ways of Zeek's logs */
/*
 * One file per log type, one JSON object per line, with the field names
 * SIEM pipelines already know from Zeek: ts (epoch seconds), uid (the
 * connection), id.orig_h, id.orig_p, id.resp_h, id.resp_p, then the
 * protocol's fields.  Filebeat's and Logstash's Zeek inputs, or Splunk's
 * JSON sourcetype, take them unchanged.  Fields without a value are left
 * out, as Zeek leaves them unset.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/keep.h"
#include "cli/table.h"

/* The connection fields, as Zeek names them. */
#define CONN_FIELDS                                                      \
	"'M' || s.id AS uid, s.client_ip AS \"id.orig_h\","              \
	" s.client_port AS \"id.orig_p\", s.server_ip AS \"id.resp_h\"," \
	" s.server_port AS \"id.resp_p\""

/* A 0/1 column, or a condition, as a JSON boolean (":json" columns are
 * written as they are; ":list" ones, comma-separated, as arrays). */
#define JSON_BOOL(col) \
	"CASE WHEN " col " = 1 THEN 'true' WHEN " col " = 0 THEN 'false' END"
#define JSON_TEST(cond) "CASE WHEN " cond " THEN 'true' ELSE 'false' END"

/* The parts files.log has: attachments, and what is not text. */
#define FILE_PART "(p.filename IS NOT NULL OR p.content_type NOT LIKE 'text/%')"

/* Webmail by its user agent, as Zeek's smtp software policy knows them. */
#define WEBMAIL(col)                                                   \
	"(" col " LIKE 'iPlanet Messenger%' OR " col                   \
	" LIKE 'Sun Java(tm) System Messenger Express%' OR " col       \
	" LIKE '%(IMP)%' OR " col " LIKE 'SquirrelMail%' OR " col      \
	" LIKE 'NeoMail%' OR " col " LIKE '%ZimbraWebClient%' OR " col \
	" LIKE 'Roundcube%')"

/* ?1 is a run id, or NULL for every run in the log. */
#define RUN_FILTER " AND (CAST(?1 AS BIGINT) IS NULL OR s.run_id = ?1)"

/* The SQL is in the subset that SQLite and PostgreSQL both read, laid
 * out by hand: a clause a line reads better than the formatter's. */
/* clang-format off */
static const struct {
	const char *file, *sql;
} logs[] = {
	{ "smtp.log",
	    /* Zeek's smtp.log fields in its order and JSON types, then
	     * mailsift's own */
	    "SELECT t.ts, " CONN_FIELDS ", t.tx AS trans_depth, s.helo,"
	    " t.mail_from AS mailfrom, (SELECT json_group_array(address)"
	    " FROM v_recipients r WHERE r.session_id = t.session_id"
	    " AND r.tx = t.tx AND coalesce(r.accepted, 1) = 1)"
	    " AS \"rcptto:json\", m.date_raw AS date, m.from_addr AS \"from\","
	    " m.to_addrs AS \"to:addrs\", m.cc_addrs AS \"cc:addrs\","
	    " m.reply_to, m.msg_id, m.in_reply_to, m.subject,"
	    " m.x_originating_ip, (SELECT h.value FROM headers h"
	    " WHERE h.message_id = m.id AND lower(h.name) = 'received'"
	    " ORDER BY h.n DESC LIMIT 1) AS first_received,"
	    " (SELECT h.value FROM headers h WHERE h.message_id = m.id"
	    " AND lower(h.name) = 'received' ORDER BY h.n DESC LIMIT 1"
	    " OFFSET 1) AS second_received,"
	    " t.final_code || ' ' || t.final_reply AS last_reply,"
	    " host(s.server_ip) || ',' || host(s.client_ip)"
	    " || coalesce(',' || m.received_path, '') AS \"path:list\","
	    " m.mailer AS user_agent, " JSON_TEST("s.tls <> 'none'")
	    " AS \"tls:json\", (SELECT json_group_array('F' || p.message_id"
	    " || '.' || p.part) FROM parts p WHERE p.message_id = m.id"
	    " AND " FILE_PART ") AS \"fuids:json\", "
	    JSON_TEST(WEBMAIL("m.mailer")) " AS \"is_webmail:json\","
	    " t.queue_id, s.username AS user, m.size, m.sha256,"
	    " m.findings AS \"findings:list\", (SELECT v.outcome FROM"
	    " v_messages v WHERE v.message_id = m.id) AS outcome"
	    " FROM transactions t JOIN sessions s ON s.id = t.session_id"
	    " LEFT JOIN messages m ON m.session_id = t.session_id"
	    " AND m.tx = t.tx WHERE 1 = 1" RUN_FILTER
	    " ORDER BY t.ts, t.session_id, t.tx" },
	{ "pop3.log",
	    "SELECT s.start_ts AS ts, " CONN_FIELDS ", s.username AS user,"
	    " (SELECT outcome FROM auth a WHERE a.session_id = s.id"
	    " ORDER BY a.id DESC LIMIT 1) AS auth, s.state, s.tls,"
	    " (SELECT count(*) FROM messages m WHERE m.session_id = s.id"
	    " AND m.method = 'RETR') AS retrieved, (SELECT count(*)"
	    " FROM items i WHERE i.session_id = s.id"
	    " AND i.deletion = 'committed') AS deleted, s.end_reason,"
	    " s.midstream FROM sessions s WHERE s.proto = 'pop3'" RUN_FILTER
	    " ORDER BY s.start_ts, s.id" },
	{ "imap.log",
	    "SELECT s.start_ts AS ts, " CONN_FIELDS ", s.username AS user,"
	    " (SELECT outcome FROM auth a WHERE a.session_id = s.id"
	    " ORDER BY a.id DESC LIMIT 1) AS auth, s.mailbox, s.client_id,"
	    " s.server_id, s.tls, s.compression, (SELECT count(*)"
	    " FROM messages m WHERE m.session_id = s.id AND m.method = 'FETCH'"
	    " AND m.partial = 0) AS fetched, (SELECT count(*) FROM messages m"
	    " WHERE m.session_id = s.id AND m.method = 'APPEND') AS appended,"
	    " s.end_reason, s.midstream FROM sessions s"
	    " WHERE s.proto = 'imap'" RUN_FILTER " ORDER BY s.start_ts, s.id" },
	{ "messages.log",
	    "SELECT m.begin_ts AS ts, " CONN_FIELDS ", m.proto, m.method,"
	    " m.direction, s.username AS user, m.mailbox, m.uid AS imap_uid,"
	    " m.from_addr AS \"from\", m.to_addrs AS \"to\", m.subject,"
	    " m.msg_id, m.date_utc, m.size, m.sha256, m.complete, m.partial,"
	    " m.attachments, m.gap_bytes AS missing_bytes, m.body_sha256,"
	    " m.capture_file, m.first_frame, m.last_frame, v.outcome,"
	    " v.outcome_reply, v.queue_id"
	    " FROM messages m JOIN sessions s ON s.id = m.session_id"
	    " JOIN v_messages v ON v.message_id = m.id"
	    " WHERE 1 = 1" RUN_FILTER " ORDER BY m.begin_ts, m.id" },
	{ "files.log",
	    /* Zeek's files.log fields in its order and JSON types (the
	     * MIME type by content, as Zeek's), then mailsift's own */
	    "SELECT m.begin_ts AS ts, 'F' || p.message_id || '.' || p.part"
	    " AS fuid, " CONN_FIELDS ", upper(m.proto) AS source,"
	    " p.part AS depth, '[\"MD5\",\"SHA256\"' || CASE WHEN p.sha1 IS"
	    " NOT NULL THEN ',\"SHA1\"' ELSE '' END || ']' AS \"analyzers:json\","
	    " coalesce(p.magic_type, p.content_type) AS mime_type, p.filename, "
	    JSON_TEST("m.direction = 'c2s'") " AS \"is_orig:json\","
	    " p.size AS seen_bytes, p.size AS total_bytes, CASE WHEN"
	    " p.complete = 1 THEN 0 END AS missing_bytes, 'false'"
	    " AS \"timedout:json\", p.md5, p.sha1, p.sha256,"
	    " p.extract_path AS extracted, p.content_type AS declared_type,"
	    " p.findings AS \"findings:list\", p.archive_password"
	    " FROM parts p JOIN messages m ON m.id = p.message_id"
	    " JOIN sessions s ON s.id = m.session_id WHERE " FILE_PART
	    RUN_FILTER " ORDER BY m.begin_ts, p.message_id, p.part" },
	{ "urls.log",
	    "SELECT m.begin_ts AS ts, " CONN_FIELDS ", m.id AS message,"
	    " CASE WHEN u.part IS NOT NULL THEN 'F' || u.message_id || '.'"
	    " || u.part END AS fuid, u.kind, u.url, u.host, u.shown_text,"
	    " u.findings AS \"findings:list\", "
	    JSON_BOOL("u.truncated") " AS \"truncated:json\""
	    " FROM urls u JOIN messages m ON m.id = u.message_id"
	    " JOIN sessions s ON s.id = m.session_id WHERE 1 = 1" RUN_FILTER
	    " ORDER BY m.begin_ts, u.message_id, u.n" },
	{ "ssl.log",
	    "SELECT t.ts, " CONN_FIELDS ", t.version, t.cipher, t.curve,"
	    " t.sni AS server_name, "
	    JSON_BOOL("t.resumed") " AS \"resumed:json\","
	    " t.last_alert, t.alpn AS next_protocol, "
	    JSON_BOOL("t.established") " AS \"established:json\","
	    " t.cert_chain_fps AS \"cert_chain_fps:list\","
	    " t.client_cert_chain_fps AS \"client_cert_chain_fps:list\", "
	    JSON_BOOL("t.sni_matches_cert") " AS \"sni_matches_cert:json\","
	    " t.validation AS validation_status, t.ja3, t.ja3s, t.ja4,"
	    " s.tls AS mode, s.proto AS service"
	    " FROM tls t JOIN sessions s ON s.id = t.session_id"
	    " WHERE 1 = 1" RUN_FILTER " ORDER BY t.ts, t.session_id" },
	{ "x509.log",
	    "SELECT c.ts, 'M' || s.id AS uid, c.sha256 AS fingerprint,"
	    " c.version AS \"certificate.version\","
	    " c.serial AS \"certificate.serial\","
	    " c.subject AS \"certificate.subject\","
	    " c.issuer AS \"certificate.issuer\","
	    " c.not_before AS \"certificate.not_valid_before\","
	    " c.not_after AS \"certificate.not_valid_after\","
	    " c.key_alg AS \"certificate.key_alg\","
	    " c.sig_alg AS \"certificate.sig_alg\","
	    " c.key_type AS \"certificate.key_type\","
	    " c.key_bits AS \"certificate.key_length\","
	    " c.exponent AS \"certificate.exponent\","
	    " c.curve AS \"certificate.curve\","
	    " c.san_dns AS \"san.dns:list\", c.san_uri AS \"san.uri:list\","
	    " c.san_email AS \"san.email:list\", c.san_ip AS \"san.ip:list\", "
	    JSON_BOOL("c.is_ca") " AS \"basic_constraints.ca:json\","
	    " c.path_len AS \"basic_constraints.path_len\", "
	    JSON_TEST("c.sender = 'server' AND c.idx = 0")
	    " AS \"host_cert:json\", "
	    JSON_TEST("c.sender = 'client' AND c.idx = 0")
	    " AS \"client_cert:json\""
	    " FROM certificates c JOIN sessions s ON s.id = c.session_id"
	    " WHERE 1 = 1" RUN_FILTER
	    " ORDER BY c.ts, c.session_id, c.sender DESC, c.idx" },
};
/* clang-format on */

/* Writes DIR/<type>.log for every log type; run_id < 0: every run. */
int
export_json(struct query *db, long run_id, const char *dir, char *err,
    size_t errlen)
{
	if (keep_dir(dir, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char		   path[4096];
		struct query_rows *st;
		FILE		  *f;
		int		   rc;

		snprintf(path, sizeof(path), "%s/%s", dir, logs[i].file);
		if ((st = query_prepare(db, logs[i].sql)) == NULL) {
			snprintf(err, errlen, "%s", query_error(db));
			return -1;
		}
		if (run_id >= 0)
			query_bind_int(st, 1, run_id);
		int fd = open(path,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0640); /* the umask decides, as for the log */

		if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			query_finish(st);
			return -1;
		}
		while ((rc = query_next(st)) == 1)
			table_row_json(f, st, 1);
		query_finish(st);
		if (fclose(f) != 0 || rc != 0) {
			snprintf(err, errlen, "%s: %s", path,
			    rc != 0 ? query_error(db) : strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* A log's SQL for the sessions of a JSON array of ids (?1): its run
 * filter replaced.  Caller frees. */
static char *
sessions_sql(const char *sql)
{
	static const char run[] = RUN_FILTER,
			  ids[] = " AND s.id IN (SELECT value FROM"
				  " json_each(?1))";
	const char *at = strstr(sql, run);
	size_t	    n = strlen(sql) + sizeof(ids);
	char	   *out;

	if (at == NULL || (out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%.*s%s%s", (int)(at - sql), sql, ids,
	    at + sizeof(run) - 1);
	return out;
}

/* Appends buf whole or not at all: a full disk that took part of it
 * would leave half a line, and the next batch glued to it (a shipper
 * then drops both).  0, or -1 with errno set. */
static int
append_whole(int fd, const char *buf, size_t len)
{
	off_t	before = lseek(fd, 0, SEEK_END);
	ssize_t w = write(fd, buf, len);
	int	e = w < 0 ? errno : ENOSPC; /* a short write: no room */

	if (w == (ssize_t)len)
		return 0;
	if (w > 0 && before >= 0 && ftruncate(fd, before) != 0)
		e = errno;
	errno = e;
	return -1;
}

/*
 * live --json-dir: the rows of the sessions just ended (ids_json, a JSON
 * array) appended to DIR/<type>.log, each batch in one write so that a
 * shipper tailing the file never reads half a line.  SQLite logs only.
 */
int
export_json_sessions(struct query *db, const char *ids_json, const char *dir,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char		   path[4096], *sql, *buf = NULL;
		size_t		   len = 0;
		struct query_rows *st;
		FILE		  *mem;
		int		   rc, fd;

		if ((sql = sessions_sql(logs[i].sql)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		st = query_prepare(db, sql);
		free(sql);
		if (st == NULL) {
			snprintf(err, errlen, "%s", query_error(db));
			return -1;
		}
		query_bind_text(st, 1, ids_json);
		if ((mem = open_memstream(&buf, &len)) == NULL) {
			query_finish(st);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		while ((rc = query_next(st)) == 1)
			table_row_json(mem, st, 1);
		query_finish(st);
		fclose(mem);
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", logs[i].file,
			    query_error(db));
			free(buf);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, logs[i].file);
		fd = len == 0 ?
		    -2 :
		    open(path,
			O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
			0640);
		if (fd == -1 || (fd >= 0 && append_whole(fd, buf, len) != 0)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(buf);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		free(buf);
	}
	return 0;
}

/* DIR/<type>.log -> DIR/<type>-STAMP.log, at a rotation of the log
 * (Zeek's way: the name in use stays, shippers follow the rename). */
void
export_json_rotate(const char *dir, const char *stamp)
{
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char from[4096], to[4200];
		int  stem = (int)(strlen(logs[i].file) - 4); /* ".log" */

		snprintf(from, sizeof(from), "%s/%s", dir, logs[i].file);
		snprintf(to, sizeof(to), "%s/%.*s-%s.log", dir, stem,
		    logs[i].file, stamp);
		rename(from, to); /* none yet: nothing to move */
	}
}

int
cmd_export(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char   *db_path = "mailsift.db", *dir = NULL;
	char	      err[4200];
	struct query *db;
	int	      c, rc;

	while ((c = getopt_long(argc, argv, "d:o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'j': /* the one format there is */
			break;
		case 'h':
			printf(
			    "usage: mailsift export --json [-d LOG.db] -o DIR\n"
			    "\n"
			    "Writes the log as JSON lines in Zeek's conventions:"
			    " DIR/smtp.log,\npop3.log, imap.log, messages.log, "
			    "files.log, urls.log, ssl.log, x509.log.\n"
			    "  -d, --db LOG.db   the log (default mailsift.db)\n"
			    "  -o, --output DIR  where the files go\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || optind != argc) {
		fprintf(stderr,
		    "usage: mailsift export --json [-d LOG.db] "
		    "-o DIR\n");
		return EXIT_USAGE;
	}
	if ((db = cli_open_log(db_path)) == NULL)
		return EXIT_USAGE;
	rc = export_json(db, -1, dir, err, sizeof(err));
	query_close(db);
	if (rc != 0) {
		fprintf(stderr, "mailsift: export: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
