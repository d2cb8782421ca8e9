/* \summary: the analyst's commands: sessions, messages, creds, attachments, stats, show */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/listings.h"
#include "cli/table.h"
#include "cli/termsafe.h"

struct query_opts {
	const char     *db;
	const char     *val[F_COUNT];
	int		flag[F_COUNT];
	long		limit, offset;
	const char     *sort; /* a column: the rows in its order */
	int		desc;
	enum out_format fmt;
	int		full;
	const char     *hashcat; /* creds: "cram-md5" or "apop" lines */
	const char     *values;	 /* a column: its values and their counts */
};

static void
query_usage(FILE *f, const char *cmd)
{
	if (strcmp(cmd, "show") == 0) {
		fprintf(f,
		    "usage: mailsift show SESSION [-d LOG.db] [--full] "
		    "[--json | --csv]\n\n"
		    "A session as it crossed: C client commands, S server "
		    "replies (SMTP codes,\n"
		    "POP3 +OK/-ERR, IMAP tags and untagged responses), M "
		    "messages (with their\n"
		    "id) followed by the server's reply to them, A "
		    "authentication, ! anomalies,\n"
		    "T TLS.  Times UTC, then the frame in the capture file.\n"
		    "  --full   each message's bytes after its line\n"
		    "  --json   one object a line (ts, who, text, path, "
		    "frame); --csv likewise\n");
		return;
	}
	if (strcmp(cmd, "stats") == 0) {
		fprintf(f,
		    "usage: mailsift stats [-d LOG.db] [--json | --csv] "
		    "[--wide]\n\n"
		    "Counts by protocol, messages (pieces apart), "
		    "authentication outcomes,\n"
		    "top senders, recipients, servers and clients, "
		    "anomalies.\n");
		return;
	}
	fprintf(f,
	    "usage: mailsift %s [-d LOG.db] [filters] [--json | --csv | --wide] "
	    "[--limit N]\n"
	    "       [--offset N] [--sort COLUMN [--desc]] [--values COLUMN]\n\n"
	    "filters: --proto smtp|pop3|imap  --host ADDR|NET  --user TEXT\n"
	    "         --client ADDR|NET  --server ADDR|NET  --port N (the "
	    "server's)\n"
	    "         --from TEXT  --to TEXT  --subject TEXT  --outcome WHAT\n"
	    "         --since TIME  --until TIME\n"
	    "         --tls  --failed-auth  --with-creds  --with-attachments\n"
	    "         --with-anomalies (sessions; messages: --with-attachments)\n"
	    "         --pieces (messages: TOP and partial FETCH too)\n"
	    "attachments: --name TEXT  --hash MD5|SHA-1|SHA-256\n"
	    "sessions: --anomaly NAME (one anomaly: stream_gap, bare_lf, ...)\n"
	    "creds: --mechanism NAME (PLAIN, LOGIN, CRAM-MD5, USER, APOP, "
	    "...),\n"
	    "         --outcome success|failure|cancelled|unknown\n"
	    "findings: --finding KIND (starttls_not_used, "
	    "credentials_before_tls,\n"
	    "         mail_before_tls, tls_below_1_2, tls_weak_cipher, "
	    "tls_cert_invalid,\n"
	    "         tls_cert_name_mismatch, tls_cert_greeting_mismatch)\n"
	    "sessions, messages, attachments, urls: --query QUERY, the rows of "
	    "the messages\n"
	    "         mailsift search finds (its language: from:x OR file:y, "
	    "NOT, ...)\n"
	    "TEXT: case-blind, a part of the value; with * or ? a pattern of "
	    "all of it.\n"
	    "TIME: 2024-01-31, 2024-01-31T17:00[:00][Z|+02:00] (UTC when no "
	    "zone),\n"
	    "      today, yesterday, or ago: 30m, 2h, 7d, 2w.\n"
	    "NET: 10.7.29.0/24, 2001:db8::/32.  WHAT (of a message): "
	    "accepted, rejected,\n"
	    "      partly accepted, unknown, retrieved, incomplete.\n"
	    "A table fits a terminal (100 rows unless --limit; 0 for all); "
	    "to a file or a\n"
	    "pipe, or with --wide, it is whole.  --json writes one object a "
	    "line, --csv\n"
	    "RFC 4180.  creds --hashcat[=cram-md5|apop]: challenge-response "
	    "pairs as\n"
	    "hashcat takes them (modes 16400 and 20), one a line.\n"
	    "--values COLUMN: that column's values in the rows the filters "
	    "keep, each\n"
	    "with how many rows have it, most first (--limit applies).\n"
	    "--sort COLUMN: the rows in that column's order (--desc: largest "
	    "first), ties\n"
	    "in the listing's own; --offset N: from the row after the first "
	    "N.\n",
	    cmd);
}

static int
parse_query_opts(int argc, char **argv, struct query_opts *o)
{
	static const struct option longs[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "proto", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "user", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "subject", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "tls", no_argument, NULL, 't' },
		{ "failed-auth", no_argument, NULL, 'a' },
		{ "with-creds", no_argument, NULL, 'C' },
		{ "with-attachments", no_argument, NULL, 'A' },
		{ "with-anomalies", no_argument, NULL, 'N' },
		{ "name", required_argument, NULL, 'm' },
		{ "hash", required_argument, NULL, 'x' },
		{ "outcome", required_argument, NULL, 'O' },
		{ "pieces", no_argument, NULL, 'P' },
		{ "client", required_argument, NULL, 'K' },
		{ "server", required_argument, NULL, 'V' },
		{ "query", required_argument, NULL, 'Q' },
		{ "finding", required_argument, NULL, 'G' },
		{ "anomaly", required_argument, NULL, 'Y' },
		{ "mechanism", required_argument, NULL, 'M' },
		{ "port", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'n' },
		{ "offset", required_argument, NULL, 'e' },
		{ "sort", required_argument, NULL, 'r' },
		{ "desc", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "wide", no_argument, NULL, 'w' },
		{ "full", no_argument, NULL, 'f' },
		{ "hashcat", optional_argument, NULL, 'k' },
		{ "values", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, wide = 0;

	memset(o, 0, sizeof(*o));
	o->db = "mailsift.db";
	o->limit = -1;
	while ((c = getopt_long(argc, argv, "d:n:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'p':
			o->val[F_PROTO] = optarg;
			break;
		case 'H':
			o->val[F_HOST] = optarg;
			break;
		case 'u':
			o->val[F_USER] = optarg;
			break;
		case 'F':
			o->val[F_FROM] = optarg;
			break;
		case 'T':
			o->val[F_TO] = optarg;
			break;
		case 's':
			o->val[F_SUBJECT] = optarg;
			break;
		case 'S':
			o->val[F_SINCE] = optarg;
			break;
		case 'U':
			o->val[F_UNTIL] = optarg;
			break;
		case 't':
			o->flag[F_TLS] = 1;
			break;
		case 'a':
			o->flag[F_FAILED] = 1;
			break;
		case 'C':
			o->flag[F_CREDS] = 1;
			break;
		case 'A':
			o->flag[F_ATTACHMENTS] = 1;
			break;
		case 'N':
			o->flag[F_ANOMALIES] = 1;
			break;
		case 'm':
			o->val[F_NAME] = optarg;
			break;
		case 'x':
			o->val[F_HASH] = optarg;
			break;
		case 'O':
			o->val[F_OUTCOME] = optarg;
			break;
		case 'P':
			o->flag[F_PIECES] = 1;
			break;
		case 'K':
			o->val[F_CLIENT] = optarg;
			break;
		case 'V':
			o->val[F_SERVER] = optarg;
			break;
		case 'Q':
			o->val[F_QUERY] = optarg;
			break;
		case 'G':
			o->val[F_FINDING] = optarg;
			break;
		case 'Y':
			o->val[F_ANOMALY] = optarg;
			break;
		case 'M':
			o->val[F_MECHANISM] = optarg;
			break;
		case 'o':
			o->val[F_PORT] = optarg;
			break;
		case 'j':
			o->fmt = OUT_JSON;
			break;
		case 'c':
			o->fmt = OUT_CSV;
			break;
		case 'w':
			wide = 1;
			break;
		case 'f':
			o->full = 1;
			break;
		case 'k':
			o->hashcat = optarg != NULL ? optarg : "cram-md5";
			if (strcmp(o->hashcat, "cram-md5") != 0 &&
			    strcmp(o->hashcat, "apop") != 0) {
				fprintf(stderr,
				    "mailsift: --hashcat takes "
				    "cram-md5 (mode 16400) or apop (mode 20)\n");
				return -1;
			}
			break;
		case 'v':
			o->values = optarg;
			break;
		case 'n':
			if (cli_number_arg(argv[0], "--limit", optarg, 0,
				LONG_MAX, &o->limit) != 0)
				return -1;
			break;
		case 'e':
			if (cli_number_arg(argv[0], "--offset", optarg, 0,
				LONG_MAX, &o->offset) != 0)
				return -1;
			break;
		case 'r':
			o->sort = optarg;
			break;
		case 'D':
			o->desc = 1;
			break;
		case 'h':
			query_usage(stdout, argv[0]);
			exit(EXIT_OK);
		default:
			query_usage(stderr, argv[0]);
			return -1;
		}
	}
	/* a table to a file or a pipe is whole: every row, every cell */
	if (o->fmt == OUT_TABLE && (wide || !isatty(STDOUT_FILENO)))
		o->fmt = OUT_WIDE;
	if (o->limit < 0 && o->fmt == OUT_TABLE && o->hashcat == NULL)
		o->limit = 100; /* a screenful or so; --limit 0 for all */
	return 0;
}

static struct query *
open_log(const char *path)
{
	return cli_open_log(path);
}

/* A listing's rows, printed (or errors said). */
static int
run_listing(const struct listing *l, const struct query_opts *o,
    int (*print)(struct query_rows *, enum out_format))
{
	struct query	   *db;
	struct query_rows  *st;
	struct listing_view v = { .limit = o->limit,
		.offset = o->offset,
		.sort = o->sort,
		.desc = o->desc,
		.values = o->values };
	char		    err[512];
	int		    rc;

	if ((db = open_log(o->db)) == NULL)
		return EXIT_USAGE;
	if ((st = listing_prepare_view(db, l, o->val, o->flag, &v, err,
		 sizeof(err))) == NULL) {
		fprintf(stderr, "mailsift %s: %s\n", l->name, err);
		query_close(db);
		return EXIT_USAGE;
	}
	rc = print(st, o->fmt);
	query_finish(st);
	if (rc == 0 && o->values == NULL &&
	    listing_unseen_name(db, o->val, err, sizeof(err)))
		fprintf(stderr, "mailsift %s: %s\n", l->name, err);
	query_close(db);
	if (rc < 0) {
		fprintf(stderr, "mailsift: %s\n", "query failed");
		return EXIT_USAGE;
	}
	if (o->fmt == OUT_TABLE && isatty(STDOUT_FILENO))
		fprintf(stderr, "%d %s%s\n", rc, l->name,
		    o->limit > 0 && rc == o->limit ? " (--limit reached)" : "");
	return EXIT_OK;
}

/* ------------------------------------------------------------ hashcat */

static void
b64_put(const char *p, size_t n)
{
	static const char d[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		putchar(d[v >> 18 & 63]);
		putchar(d[v >> 12 & 63]);
		putchar(i + 1 < n ? d[v >> 6 & 63] : '=');
		putchar(i + 2 < n ? d[v & 63] : '=');
	}
}

/*
 * Rows (mechanism, username, challenge, proof) as hashcat's input:
 *   CRAM-MD5, mode 16400: $cram_md5$<base64 challenge>$<base64 "user
 *   hexdigest">, the challenge as the server sent it, decoded;
 *   APOP, mode 20, md5($salt.$pass): <hexdigest>:<greeting timestamp>.
 */
static int
hashcat_print(struct query_rows *st, enum out_format fmt)
{
	int n = 0;

	(void)fmt;
	while (query_next(st) == 1) {
		const char *mech = query_text(st, 0);
		const char *user = query_text(st, 1);
		const char *chal = query_text(st, 2);
		const char *proof = query_text(st, 3);
		char	    resp[1024];

		if (strcmp(mech, "APOP") == 0) {
			printf("%s:%s\n", proof, chal);
		} else {
			snprintf(resp, sizeof(resp), "%s %s", user, proof);
			fputs("$cram_md5$", stdout);
			b64_put(chal, strlen((const char *)chal));
			putchar('$');
			b64_put((const char *)resp, strlen(resp));
			putchar('\n');
		}
		n++;
	}
	return n;
}

static int
run_hashcat(const struct listing *creds, const struct query_opts *o)
{
	struct listing l = *creds;

	l.select = strcmp(o->hashcat, "apop") == 0 ?
	    "SELECT mechanism, username, challenge, proof FROM v_credentials"
	    " WHERE mechanism = 'APOP' AND challenge IS NOT NULL AND"
	    " length(proof) = 32" :
	    "SELECT mechanism, coalesce(username, ''), challenge, proof"
	    " FROM v_credentials WHERE mechanism = 'CRAM-MD5' AND"
	    " challenge IS NOT NULL AND length(proof) = 32";
	return run_listing(&l, o, hashcat_print);
}

int
cmd_list(int argc, char **argv)
{
	struct query_opts o;

	for (size_t i = 0; i < nlistings; i++) {
		if (strcmp(argv[0], listings[i].name) != 0)
			continue;
		if (parse_query_opts(argc, argv, &o) != 0)
			return EXIT_USAGE;
		if (optind != argc ||
		    (o.hashcat != NULL && strcmp(argv[0], "creds") != 0) ||
		    (o.hashcat != NULL && o.values != NULL)) {
			query_usage(stderr, argv[0]);
			return EXIT_USAGE;
		}
		if (o.hashcat != NULL)
			return run_hashcat(&listings[i], &o);
		return run_listing(&listings[i], &o,
		    o.values != NULL ? table_print_values : table_print);
	}
	return EXIT_USAGE;
}

/* ---------------------------------------------------------------- stats */

/*
 * Each section is a GROUP BY over the sessions or the messages (a
 * second or so each at a million messages), independent of the others:
 * they run at once, one connection a thread, as many threads as there
 * are cores, and are printed in their order as they come.
 */
#define STATS_MAX 16 /* sections */
struct stats_run {
	const struct query_opts *o;
	size_t			 next; /* the next section to take */
	char			*out[STATS_MAX];
	size_t			 len[STATS_MAX];
	char			 err[STATS_MAX][512]; /* "": it was made */
};

/* Section i of stats_sql into r->out[i] (or its error), on db. */
static void
stats_section(struct query *db, struct stats_run *r, size_t i)
{
	const struct query_opts *o = r->o;
	char			 sql[1024];
	struct query_rows	*st;
	FILE			*f;

	/* JSON lines say which section they belong to */
	snprintf(sql, sizeof(sql), "SELECT %s%s%s* FROM (%s) AS part",
	    o->fmt == OUT_JSON ? "'" : "",
	    o->fmt == OUT_JSON ? stats_sql[i].title : "",
	    o->fmt == OUT_JSON ? "' AS section, " : "", stats_sql[i].sql);
	if ((st = query_prepare(db, sql)) == NULL) {
		snprintf(r->err[i], sizeof(r->err[i]), "%s", query_error(db));
		return;
	}
	if ((f = open_memstream(&r->out[i], &r->len[i])) == NULL) {
		snprintf(r->err[i], sizeof(r->err[i]), "out of memory");
		query_finish(st);
		return;
	}
	if (table_fprint(f, st, o->fmt) < 0)
		snprintf(r->err[i], sizeof(r->err[i]), "%s", query_error(db));
	fclose(f);
	query_finish(st);
}

/* Takes sections until none is left, on a connection of its own (db,
 * or one it opens: NULL when it cannot, the sections left to others). */
static void *
stats_worker(void *arg)
{
	struct stats_run *r = arg;
	char		  err[512];
	struct query	 *db = query_open(r->o->db, err, sizeof(err));
	size_t		  i;

	if (db == NULL)
		return NULL;
	while ((i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED)) <
	    nstats_sql)
		stats_section(db, r, i);
	query_close(db);
	return NULL;
}

/* The cores this process may run on (taskset, a container's cpuset). */
static long
usable_cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

int
cmd_stats(int argc, char **argv)
{
	struct query_opts o;
	struct query	 *db;
	struct stats_run  r = { .o = &o };
	pthread_t	  th[STATS_MAX - 1];
	long		  cores = usable_cores();
	size_t		  nth = 0, i;
	int		  rc = EXIT_OK;

	if (parse_query_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (nstats_sql > STATS_MAX || (db = open_log(o.db)) == NULL)
		return EXIT_USAGE;
	/* the other threads' connections; this one takes sections too */
	while (nth + 1 < (size_t)(cores > 1 ? cores : 1) &&
	    nth + 1 < nstats_sql && nth < sizeof(th) / sizeof(th[0]) &&
	    pthread_create(&th[nth], NULL, stats_worker, &r) == 0)
		nth++;
	while (
	    (i = __atomic_fetch_add(&r.next, 1, __ATOMIC_RELAXED)) < nstats_sql)
		stats_section(db, &r, i);
	for (size_t t = 0; t < nth; t++)
		pthread_join(th[t], NULL);
	for (i = 0; i < nstats_sql; i++) {
		if (r.err[i][0] != '\0') {
			fprintf(stderr, "mailsift: %s: %s\n", o.db, r.err[i]);
			rc = EXIT_USAGE;
			break;
		}
		if (o.fmt == OUT_TABLE || o.fmt == OUT_WIDE)
			printf("%s%s\n", i ? "\n" : "", stats_sql[i].title);
		fwrite(r.out[i], 1, r.len[i], stdout);
	}
	for (i = 0; i < nstats_sql; i++)
		free(r.out[i]);
	query_close(db);
	return rc;
}

/* ----------------------------------------------------------------- show */

static void
show_header(struct query *db, long id)
{
	struct query_rows *st;

	if ((st = query_prepare(db,
		 "SELECT proto, datetime(start_ts, 'unixepoch'), client_ip,"
		 " client_port, server_ip, server_port, tls,"
		 " coalesce(end_reason, '?'), midstream, coalesce(capture_file, '')"
		 " || coalesce(', frames ' || first_frame || '-' || last_frame, '')"
		 " || coalesce(' (bytes ' || first_offset || '-' || last_offset"
		 " || ')', '') || CASE WHEN last_capture_file <> capture_file"
		 " THEN ' in ' || last_capture_file ELSE '' END || CASE WHEN"
		 " gap_bytes > 0 THEN ', ' || gap_bytes || ' stream bytes LOST by"
		 " the capture' ELSE '' END FROM sessions WHERE id = ?")) ==
	    NULL)
		return;
	query_bind_int(st, 1, id);
	if (query_next(st) == 1) {
		char *from = term_escape((const char *)query_text(st, 9));

		printf("session %ld: %s %s UTC, %s:%d -> %s:%d, tls %s, ended "
		       "%s%s, from %s\n",
		    id, query_text(st, 0), query_text(st, 1), query_text(st, 2),
		    (int)query_int(st, 3), query_text(st, 4),
		    (int)query_int(st, 5), query_text(st, 6), query_text(st, 7),
		    (int)query_int(st, 8) ? ", picked up mid-stream" : "",
		    from ? from : "?");
		free(from);
	}
	query_finish(st);
}

static void
show_file(const char *path)
{
	char   buf[8192];
	size_t n;
	FILE  *f = fopen(path, "rb");

	if (f == NULL)
		return;
	/* a message read on a terminal: its lines, nothing it obeys (a
	 * character cut between two reads is shown as its bytes) */
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		term_write(stdout, buf, n, 1);
	fclose(f);
}

int
cmd_show(int argc, char **argv)
{
	static const char *const colour[] = { "C\033[36m", "S\033[33m",
		"M\033[32m", "A\033[35m", "!\033[31m" };
	struct query_opts	 o;
	struct query_rows	*st;
	struct query		*db;
	int			 tty = isatty(STDOUT_FILENO), rows = 0;
	long			 id;
	char			*end;

	if (parse_query_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (optind + 1 != argc ||
	    (id = strtol(argv[optind], &end, 10), *end != '\0')) {
		query_usage(stderr, "show");
		return EXIT_USAGE;
	}
	if ((db = open_log(o.db)) == NULL)
		return EXIT_USAGE;
	if ((st = query_prepare(db, listing_show_sql)) == NULL) {
		fprintf(stderr, "mailsift: %s: %s\n", o.db, query_error(db));
		query_close(db);
		return EXIT_USAGE;
	}
	query_bind_int(st, 1, id);
	if (o.fmt == OUT_JSON || o.fmt == OUT_CSV) { /* the rows as they are */
		rows = table_print(st, o.fmt);
		query_finish(st);
		query_close(db);
		if (rows <= 0)
			fprintf(stderr, "mailsift: no session %ld in %s\n", id,
			    o.db);
		return rows > 0 ? EXIT_OK : EXIT_USAGE;
	}
	show_header(db, id);
	while (query_next(st) == 1) {
		double	    ts = query_real(st, 0);
		const char *who = query_text(st, 1);
		const char *path = query_text(st, 3);
		const char *text;
		const char *on = "", *off = "";
		char	    frame[24];
		time_t	    t = (time_t)ts;
		struct tm   tm;

		for (size_t i = 0; tty && i < 5; i++)
			if (colour[i][0] == who[0]) {
				on = colour[i] + 1;
				off = "\033[0m";
			}
		gmtime_r(&t, &tm);
		if (query_type(st, 4) == QUERY_NULL)
			snprintf(frame, sizeof(frame), "%8s", "");
		else
			snprintf(frame, sizeof(frame), "%8lld",
			    (long long)query_int(st, 4));
		printf("%02d:%02d:%02d.%03d %s %s%s: ", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (int)((ts - (double)t) * 1000), frame, on, who);
		text = query_text(st, 2);
		if (text != NULL)
			term_write(stdout, text, strlen(text), 0);
		printf("%s\n", off);
		if (o.full && path != NULL)
			show_file(path);
		rows++;
	}
	query_finish(st);
	query_close(db);
	if (rows == 0) {
		fprintf(stderr, "mailsift: no session %ld in %s\n", id, o.db);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
