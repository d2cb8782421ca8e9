/* \summary: mailsift read - captures in, SQLite log out */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "cli/cli.h"
#include "store/analyse/analyse.h"
#include "store/keep.h"
#include "dissect/tlskeys.h"
#include "cli/pipeline.h"
#include "cli/read_jobs.h"
#include "cli/sandbox.h"
#include "store/query.h"
#include "store/store.h"

struct read_opts {
	const char	   *output;
	const char	   *extract;
	int		    force, quiet, again;
	long		    max_streams, detect_mb;
	const char	   *json_dir;
	int		    no_keep, redact, no_sandbox;
	struct store_opts   store; /* --sensor, --spool, --spool-max */
	long		    jobs;
	struct md_limits    lim;
	struct tls_keyring *keys; /* --keylog */
};

static void
read_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift read CAPTURE... [options]\n"
	    "\n"
	    "Reads pcap and pcapng files in the order given ('-' is standard\n"
	    "input) and logs every SMTP, POP3 and IMAP session found into a\n"
	    "SQLite file, or a PostgreSQL database.\n"
	    "\n"
	    "  -o, --output LOG.db    the log (default: mailsift.db); an\n"
	    "                         existing log is appended to; or\n"
	    "                         postgresql://... (a libpq URI)\n"
	    "      --sensor NAME      PostgreSQL: this sensor's name in the\n"
	    "                         log (default: the host name)\n"
	    "      --spool DIR        PostgreSQL: where rows wait for the\n"
	    "                         server (default " PG_SPOOL_HINT ")\n"
	    "      --spool-max MB     the spool's bound (default 2048): past\n"
	    "                         it, sessions that begin are not logged\n"
	    "  -j, --jobs N           N processes, each dissecting its share\n"
	    "                         of the connections (a hash of their\n"
	    "                         addresses and ports), into one log\n"
	    "  -x, --extract DIR      also write each message as DIR/S-T.eml\n"
	    "                         (session id S, transaction T)\n"
	    "      --replace          replace an existing mailsift log instead\n"
	    "                         of appending (never a capture or a file\n"
	    "                         that is not a mailsift log)\n"
	    "      --group-read       the log and its files readable by the\n"
	    "                         group too (0640, folders 0750)\n"
	    "      --again            read a capture the log holds already\n"
	    "                         (same SHA-256; refused otherwise)\n"
	    "  -q, --quiet            no summary on exit\n"
	    "      --no-keep          do not keep message bytes beside the log\n"
	    "      --no-sandbox       do not confine the run (Landlock: files\n"
	    "                         only in the log's folders; seccomp: no\n"
	    "                         exec, fork or socket) once it reads\n"
	    "      --sha1             SHA-1 of each part too (threat-intel lookups)\n"
	    "      --yara RULES       scan parts, archived files and messages\n"
	    "                         (LOG.db.blobs; mailsift extract needs them)\n"
	    "      --redact           store no passwords and no bearer tokens\n"
	    "                         (auth.redacted says which were dropped)\n"
	    "      --keylog FILE      TLS secrets in the NSS key log format\n"
	    "                         (SSLKEYLOGFILE): sessions whose keys it\n"
	    "                         holds are decrypted and dissected;\n"
	    "                         may be given more than once\n"
	    "      --tls-key FILE     a server's RSA private key (PEM): TLS\n"
	    "                         1.2 and older sessions with RSA key\n"
	    "                         exchange are decrypted with it\n"
	    "      --json-dir DIR     also write this run's logs as JSON lines\n"
	    "                         (as mailsift export --json does)\n"
	    "      --max-streams N    TCP streams tracked at once (default %d)\n"
	    "      --max-detect-memory MB  memory all connections may hold\n"
	    "                         while their protocol is unknown\n"
	    "                         (default 64); past it, they are not\n"
	    "                         dissected and capture_stats counts them\n"
	    "      --max-line N       bytes of a command or reply line kept\n"
	    "                         (default %d)\n"
	    "      --max-reply N      bytes of a multi-line SMTP reply kept\n"
	    "                         (default %d)\n"
	    "      --max-pending N    commands awaiting a reply (default %d)\n"
	    "      --max-responses N  IMAP untagged responses logged per\n"
	    "                         command (default %d)\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "Exit status: 0 ok, 1 input partly unreadable (what was read is\n"
	    "kept), 2 usage error or the log cannot be written.\n",
	    DEFAULT_MAX_STREAMS, MD_LINE_MAX, MD_REPLY_MAX, MD_PENDING_MAX,
	    MD_RESPONSES_MAX);
}

static int
cap_arg(const char *opt, const char *arg, long lo, long hi, long *out)
{
	return cli_number_arg("read", opt, arg, lo, hi, out);
}

static int
parse_opts(int argc, char **argv, struct read_opts *o)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "extract", required_argument, NULL, 'x' },
		{ "replace", no_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'f' }, /* the old name */
		{ "again", no_argument, NULL, 'A' },
		{ "group-read", no_argument, NULL, 'g' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-streams", required_argument, NULL, 'M' },
		{ "max-detect-memory", required_argument, NULL, 'G' },
		{ "json-dir", required_argument, NULL, 'J' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "tls-key", required_argument, NULL, 'T' },
		{ "no-keep", no_argument, NULL, 'K' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "jobs", required_argument, NULL, 'j' },
		CLI_STORE_LONGOPTS,
		{ "redact", no_argument, NULL, 'D' },
		{ "max-line", required_argument, NULL, 'L' },
		{ "max-reply", required_argument, NULL, 'R' },
		{ "max-pending", required_argument, NULL, 'P' },
		{ "max-responses", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int  c, r;

	o->output = "mailsift.db";
	o->max_streams = DEFAULT_MAX_STREAMS;
	o->detect_mb = DEFAULT_DETECT_MB;
	md_limits_default(&o->lim);
	while ((c = getopt_long(argc, argv, "o:x:qj:h", longs, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'x':
			o->extract = optarg;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'A':
			o->again = 1;
			break;
		case 'g': /* the group may read what is written (umask) */
			umask(027);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'G':
			if (cap_arg("--max-detect-memory", optarg, 1, 65536,
				&o->detect_mb) != 0)
				return -1;
			break;
		case 'M':
			if (cap_arg("--max-streams", optarg, 16, 10000000,
				&o->max_streams) != 0)
				return -1;
			break;
		case 'J':
			o->json_dir = optarg;
			break;
		case 'k':
		case 'T':
			if (o->keys == NULL &&
			    (o->keys = tls_keyring_new()) == NULL)
				return -1;
			if ((c == 'k' ? cli_load_keylog(o->keys, optarg) :
					cli_load_tls_key(o->keys, optarg)) != 0)
				return -1;
			break;
		case 'K':
			o->no_keep = 1;
			break;
		case 'N':
			o->no_sandbox = 1;
			break;
		case 'j':
			if (cap_arg("--jobs", optarg, 1, MAX_JOBS, &o->jobs) !=
			    0)
				return -1;
			break;
		case 'D':
			o->redact = 1;
			break;
		case 'L':
			if (cap_arg("--max-line", optarg, 512, 1 << 24, &v) !=
			    0)
				return -1;
			o->lim.line_max = (size_t)v;
			break;
		case 'R':
			if (cap_arg("--max-reply", optarg, 512, 1 << 26, &v) !=
			    0)
				return -1;
			o->lim.reply_max = (size_t)v;
			break;
		case 'P':
			if (cap_arg("--max-pending", optarg, 1, 1 << 16, &v) !=
			    0)
				return -1;
			o->lim.pending_max = (size_t)v;
			break;
		case 'U':
			if (cap_arg("--max-responses", optarg, 1, 1 << 30,
				&v) != 0)
				return -1;
			o->lim.responses_max = (uint32_t)v;
			break;
		case 'h':
			read_usage(stdout);
			exit(EXIT_OK);
		default:
			if ((r = cli_store_opt("read", c, optarg, &o->store)) >
			    0)
				break;
			if (r == 0)
				read_usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "mailsift read: no capture file given\n");
		read_usage(stderr);
		return -1;
	}
	return 0;
}

/* Whether the file at path starts as a pcap or pcapng file does. */
static int
is_capture(const char *path)
{
	static const uint32_t magic[] = { 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d,
		0x4d3cb2a1, 0x0a0d0d0a };
	unsigned char	      b[4];
	uint32_t	      m;
	FILE		     *f = fopen(path, "rb");
	size_t		      n = f != NULL ? fread(b, 1, 4, f) : 0;

	if (f != NULL)
		fclose(f);
	if (n != 4)
		return 0;
	m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	    b[3];
	for (size_t i = 0; i < sizeof(magic) / sizeof(*magic); i++)
		if (m == magic[i])
			return 1;
	return 0;
}

/* The SHA-256 of the file at path, in hex: 0, or -1. */
static int
file_sha256(const char *path, char hex[HASH_HEX_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd >= 0 ? an_fd_sha256(fd, hex, NULL) : -1;

	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * When the log (SQLite, there already) holds the capture at path, of
 * size bytes: the run and time that read it, into when; 1, else 0.  The
 * file is hashed only when a capture of its size is on record, so that
 * appending new captures reads none of them twice.
 */
static int
read_before(struct query *db, const char *path, off_t size, char *when,
    size_t len)
{
	struct query_rows *st =
	    query_prepare(db, "SELECT count(*) FROM captures WHERE size = ?1");
	char sha[HASH_HEX_MAX];
	int  found = 0;

	if (st == NULL)
		return 0;
	query_bind_int(st, 1, (int64_t)size);
	found = query_next(st) == 1 && query_int(st, 0) > 0;
	query_finish(st);
	if (!found || file_sha256(path, sha) != 0 ||
	    (st = query_prepare(db,
		 "SELECT c.run_id, r.started FROM captures c JOIN runs r"
		 " ON r.id = c.run_id WHERE c.sha256 = ?1 ORDER BY c.id"
		 " LIMIT 1")) == NULL)
		return 0;
	query_bind_text(st, 1, sha);
	if ((found = query_next(st) == 1))
		snprintf(when, len, "run %lld, %s", (long long)query_int(st, 0),
		    query_text(st, 1) ? query_text(st, 1) : "?");
	query_finish(st);
	return found;
}

/*
 * What may be read, decided before the log is touched, so that no option
 * destroys evidence and no log is made of nothing: an input that is
 * missing, a folder or not a capture file is said and left out (skip[i]
 * set); the log must not be one of the inputs or a capture file; a
 * capture the log already holds (same SHA-256) is left out unless
 * --again.  The --extract folder is made (or checked) here too, so that
 * a bad one is said as what it is.  Returns how many inputs remain, or
 * -1 when the log or the folder is refused.
 */
static int
preflight(const struct read_opts *o, int argc, char **argv, char *skip)
{
	struct stat   out, in;
	int	      have_out, n = 0;
	struct query *db = NULL;
	char	      err[4200];

	have_out = strncmp(o->output, "postgres", 8) != 0 &&
	    stat(o->output, &out) == 0;
	if (have_out && S_ISREG(out.st_mode) && is_capture(o->output)) {
		fprintf(stderr,
		    "mailsift read: -o %s is a capture file, not a log: "
		    "refused\n",
		    o->output);
		return -1;
	}
	if (have_out && !o->force && !o->again && out.st_size > 0)
		db = query_open(o->output, (char[256]) { 0 }, 256);
	for (int i = optind; i < argc; i++) {
		const char *f = argv[i];
		char	    when[128];

		skip[i] = 1;
		if (strcmp(f, "-") == 0) {
			skip[i] = 0, n++;
			continue;
		}
		if (stat(f, &in) != 0) {
			fprintf(stderr, "mailsift read: %s: %s\n", f,
			    strerror(errno));
			continue;
		}
		if (have_out && in.st_dev == out.st_dev &&
		    in.st_ino == out.st_ino) {
			fprintf(stderr,
			    "mailsift read: -o %s is one of the captures to "
			    "read: refused\n",
			    o->output);
			query_close(db);
			return -1;
		}
		if (S_ISDIR(in.st_mode)) {
			fprintf(stderr,
			    "mailsift read: %s: a folder, not a capture file "
			    "(give the files in it)\n",
			    f);
			continue;
		}
		if (!is_capture(f)) {
			fprintf(stderr,
			    "mailsift read: %s: not a pcap or pcapng file\n",
			    f);
			continue;
		}
		if (db != NULL &&
		    read_before(db, f, in.st_size, when, sizeof(when))) {
			fprintf(stderr,
			    "mailsift read: %s: the log holds this capture "
			    "already (same SHA-256, %s): left out; --again "
			    "reads it again\n",
			    f, when);
			continue;
		}
		skip[i] = 0;
		n++;
	}
	query_close(db);
	if (n > 0 && o->extract != NULL &&
	    keep_dir(o->extract, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift read: --extract %s\n", err);
		return -1;
	}
	return n;
}

/* A progress line on a terminal: how much of the file, how fast, how
 * long still. */
struct progress {
	struct store   *st; /* asked whether it can still write */
	int		tty;
	const char     *file;
	uint64_t	size;
	struct timespec t0, last;
	int		shown;
};

/* Monotonic seconds since t: progress lines and the summary. */
static double
seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/*
 * Now and then while a file is read: the progress line on a terminal,
 * and whether to stop, because the disk holding the log is full or
 * failing (reading on would only count what cannot be kept).
 */
static int
show_progress(void *arg, uint64_t done)
{
	struct progress *p = arg;
	double		 el = seconds_since(&p->t0), rate;

	if (p->st != NULL && store_stats(p->st)->storage_failed)
		return 1;
	if (!p->tty || p->size == 0 || seconds_since(&p->last) < 0.25)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	rate = el > 0 ? (double)done / el : 0;
	fprintf(stderr, "\r%3.0f%% of %s, %.0f MB/s, %.0f s left   ",
	    100.0 * (double)done / (double)p->size, p->file, rate / 1e6,
	    rate > 0 ?
		(double)(p->size - (done < p->size ? done : p->size)) / rate :
		0.0);
	p->shown = 1;
	return 0;
}

/*
 * The disk holding the log filled up or failed: reading stopped there.
 * Says where, which files were not read, and what the log holds of this
 * run (committed before the failure, or after it in what could still be
 * written); the summary's counts become the log's.
 */
static void
storage_report(const char *log, long run_id, struct store_stats *ss,
    char **argv, int argc, int stopped_at, const char *skip)
{
	int unread = 0, at = stopped_at < 0 ? -stopped_at : stopped_at;
	struct query *db;

	/* stopped_at: the file reading stopped in; minus the file it stopped
	 * before; 0: after the last */
	fprintf(stderr,
	    "mailsift: the disk holding the log is full or failing: "
	    "reading stopped%s%s\n",
	    stopped_at > 0     ? " in " :
		stopped_at < 0 ? " before " :
				 "",
	    stopped_at ? argv[at] : "");
	for (int i = stopped_at > 0 ? at + 1 : at; at > 0 && i < argc; i++)
		if (!skip[i] && unread++ < 5)
			fprintf(stderr, "mailsift: not read: %s\n", argv[i]);
	if (unread > 5)
		fprintf(stderr, "mailsift: ... and %d more files not read\n",
		    unread - 5);
	if (strncmp(log, "postgres", 8) == 0 ||
	    (db = query_open(log, (char[256]) { 0 }, 256)) == NULL)
		return;
	{
		struct query_rows *st = query_prepare(db,
		    "SELECT (SELECT count(*) FROM sessions WHERE run_id = ?1),"
		    " (SELECT count(*) FROM messages m JOIN sessions s"
		    " ON s.id = m.session_id WHERE s.run_id = ?1"
		    " AND m.partial = 0),"
		    " (SELECT count(*) FROM messages m JOIN sessions s"
		    " ON s.id = m.session_id WHERE s.run_id = ?1"
		    " AND m.partial = 0 AND m.complete = 1)");

		if (st != NULL) {
			query_bind_int(st, 1, run_id);
			if (query_next(st) == 1) {
				fprintf(stderr,
				    "mailsift: the log holds %lld sessions and "
				    "%lld messages of this run (of %llu and "
				    "%llu parsed); the rest is not in it\n",
				    (long long)query_int(st, 0),
				    (long long)query_int(st, 1),
				    (unsigned long long)ss->sessions,
				    (unsigned long long)ss->messages);
				if (ss->commit_unconfirmed)
					fprintf(stderr,
					    "mailsift: the disk failed right "
					    "after the last commit, which it "
					    "may not hold: once it works, the "
					    "log may hold what an earlier "
					    "commit held\n");
				ss->sessions = (uint64_t)query_int(st, 0);
				ss->messages = (uint64_t)query_int(st, 1);
				ss->messages_complete =
				    (uint64_t)query_int(st, 2);
			}
			query_finish(st);
		}
	}
	query_close(db);
}

/* --json-dir: this run's sessions as JSON lines, from the log just made. */
static int
write_json(const char *log, long run_id, const char *dir)
{
	char	      err[4200];
	struct query *db;
	int	      rc;

	if ((db = cli_open_log(log)) == NULL)
		return -1;
	rc = export_json(db, run_id, dir, err, sizeof(err));
	query_close(db);
	if (rc != 0)
		fprintf(stderr, "mailsift: --json-dir: %s\n", err);
	return rc;
}

static void
print_summary(const struct capture_stats *c, const struct store_stats *s,
    const char *log, double secs)
{
	fprintf(stderr,
	    "mailsift: %llu packets (%.1f MB) in %.2f s; %llu TCP streams, "
	    "%llu mail sessions\n"
	    "  sessions   %llu SMTP, %llu POP3, %llu IMAP (%llu with TLS)\n"
	    "  commands   %llu\n"
	    "  messages   %llu (%llu complete, %.1f KB), %llu SMTP transactions;"
	    " %llu pieces (TOP, partial FETCH)\n"
	    "  auth       %llu attempts, %llu with a password in clear\n"
	    "  anomalies  %llu\n"
	    "  log        %s\n",
	    (unsigned long long)c->packets, (double)c->bytes / 1e6, secs,
	    (unsigned long long)c->tcp_streams, (unsigned long long)c->sessions,
	    (unsigned long long)s->by_proto[MD_PROTO_SMTP],
	    (unsigned long long)s->by_proto[MD_PROTO_POP3],
	    (unsigned long long)s->by_proto[MD_PROTO_IMAP],
	    (unsigned long long)s->tls_sessions,
	    (unsigned long long)s->commands, (unsigned long long)s->messages,
	    (unsigned long long)s->messages_complete,
	    (double)s->message_bytes / 1e3, (unsigned long long)s->transactions,
	    (unsigned long long)s->pieces, (unsigned long long)s->auth,
	    (unsigned long long)s->auth_clear, (unsigned long long)s->anomalies,
	    log);
	if (s->yara_scans > 0)
		fprintf(stderr,
		    "  yara       %llu objects scanned, %llu matches, %llu "
		    "scans cut by the time or size budget\n",
		    (unsigned long long)s->yara_scans,
		    (unsigned long long)s->yara_matches,
		    (unsigned long long)s->yara_budget);
	if (c->ipv6 > 0 || c->tunneled > 0 || c->midstream > 0)
		fprintf(stderr,
		    "  traffic    %llu IPv6 packets, %llu from "
		    "tunnels; %llu connections picked up mid-stream\n",
		    (unsigned long long)c->ipv6,
		    (unsigned long long)c->tunneled,
		    (unsigned long long)c->midstream);
	if (c->v6_full > 0)
		fprintf(stderr,
		    "  skipped    %llu IPv6 packets past the cap of "
		    "distinct IPv6 addresses\n",
		    (unsigned long long)c->v6_full);
	if (c->class_e > 0)
		fprintf(stderr,
		    "  skipped    %llu IPv4 packets of 240.0.0.0/10 "
		    "(reserved; it stands in for IPv6 inside mailsift)\n",
		    (unsigned long long)c->class_e);
	if (c->not_ip > 0 || c->truncated > 0 || c->nids_warnings > 0)
		fprintf(stderr,
		    "  skipped    %llu non-IP frames, %llu "
		    "truncated, %llu bad IP/TCP headers\n",
		    (unsigned long long)c->not_ip,
		    (unsigned long long)c->truncated,
		    (unsigned long long)c->nids_warnings);
}

uint64_t
cli_wall_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

struct store_interval
cli_run_totals(uint64_t since_us, uint64_t until_us)
{
	const struct capture_stats *cs = capture_stats();

	return (struct store_interval) { .since_us = since_us,
		.until_us = until_us,
		.total = 1,
		.packets = cs->packets,
		.bytes = cs->bytes,
		.gap_bytes = cs->gap_bytes,
		.streams_evicted = cs->streams_evicted,
		.detect_over_budget = cs->detect_over_budget,
		.reserved_v4 = cs->class_e };
}

static void
record_totals(struct store *st, uint64_t started_us)
{
	struct store_interval t = cli_run_totals(started_us, cli_wall_us());

	store_add_interval(st, &t);
}

static void
hash_read_bytes(void *arg, const void *p, size_t n)
{
	hstream_update(arg, p, n);
}

/*
 * Reads one capture file into the pipeline and records it, hashed on a
 * thread of its own (fh) from the bytes libpcap reads: a second read of
 * the file, after its packets, cost some 15% of a run.  -1 when the
 * file could not be read whole (said on standard error).
 */
static int
read_one(struct store *st, const char *path, struct hasher *fh,
    struct progress *prog, struct jobs *jobs, int nth)
{
	struct capture_file_info info;
	struct store_capture	 sc;
	struct stat		 sb;
	struct hstream		*hs;
	struct capture_read_tap	 tap = { hash_read_bytes, NULL };
	struct hdigests		 d;
	char			 err[512];
	int			 damaged = 0, rc, own;

	/* another capture than the last one: its sessions end there */
	if (capture_next_file(path, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailsift: %s\n", err);
		return -2;
	}
	/* under --jobs every job reads the file; the one that takes its
	 * digest says what is wrong with it, once */
	own = jobs == NULL || jobs_hashes_file(jobs, nth);
	if (!own)
		fh = NULL; /* another job takes its digest */
	tap.arg = hs = fh != NULL ? hstream_new(fh, 0) : NULL;
	store_set_capture_file(st, path);
	prog->file = path;
	prog->size = stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ?
	    (uint64_t)sb.st_size :
	    0;
	clock_gettime(CLOCK_MONOTONIC, &prog->t0);
	prog->last = prog->t0;
	if ((rc = capture_file(path, hs != NULL ? &tap : NULL, &info, err,
		 sizeof(err))) != 0) {
		if (own || rc == -2) /* -2: this job's log stopped it */
			fprintf(stderr, "mailsift: %s\n", err);
		damaged = 1;
	}
	sc = (struct store_capture) { .path = path,
		.packets = info.packets,
		.first_us = info.first_us,
		.last_us = info.last_us,
		.link_type = info.link_name,
		.damaged = damaged,
		.fd = -1 };
	if (hs != NULL) {
		hstream_finish(hs, &d);
		if (info.tapped_whole) {
			sc.sha256 = d.sha256;
			sc.size = info.size;
		}
		if (jobs != NULL)
			jobs_publish(jobs, nth, sc.sha256, sc.size);
	} else if (jobs != NULL &&
	    jobs_digest(jobs, nth, d.sha256, &sc.size) == 0) {
		sc.sha256 = d.sha256;
	}
	store_add_capture(st, &sc);
	return rc == -2 ? -2 : damaged ? -1 : 0;
}

/*
 * The sandbox, entered once the captures' reader, the log and every
 * thread are set up (sandbox.h): files are written only in the log's
 * folder (its blobs, spool and -wal beside it), --extract, --json-dir,
 * --spool and the folders SQLite takes its temporary files from.  A
 * PostgreSQL log is not confined yet: libpq may connect again.
 */
static int
confine(const struct read_opts *o, char *err, size_t errlen)
{
	static const char *const tmp[] = { "/var/tmp", "/usr/tmp", "/tmp" };
	struct sandbox_paths	 sp = { .n = 0 };

	if (strncmp(o->output, "postgres", 8) == 0)
		return 0;
	sandbox_allow(&sp, o->output, 0);
	sandbox_allow(&sp, o->extract, 1);
	sandbox_allow(&sp, o->json_dir, 1);
	sandbox_allow(&sp, o->store.spool_dir, 1);
	sandbox_allow(&sp, getenv("SQLITE_TMPDIR"), 1);
	sandbox_allow(&sp, getenv("TMPDIR"), 1);
	for (size_t i = 0; i < sizeof(tmp) / sizeof(*tmp); i++)
		sandbox_allow(&sp, tmp[i], 1);
	return sandbox_enter(&sp, err, errlen);
}

int
cmd_read(int argc, char **argv)
{
	struct read_opts    o = { 0 };
	struct store_opts   so = { 0 };
	struct capture_opts co = { 0 };
	struct progress	    prog = { 0 };
	struct md_budget    tls_budget = { 0, CLI_TLS_BUDGET };
	long		    run_id;
	struct pipeline	    p;
	struct store_stats  ss;
	struct timespec	    t0;
	uint64_t	    started_us;
	char		    err[512], *cmdline;
	int		    status = EXIT_OK, r, nread = 0;
	int		    stopped_at = 0; /* the file the disk stopped */
	struct hasher	   *fh;
	struct jobs	   *jobs = NULL; /* a job of --jobs */
	char		   *skip = NULL;

	cli_no_dump(); /* before the key logs and keys are read */
	if (parse_opts(argc, argv, &o) != 0) {
		tls_keyring_free(o.keys);
		return EXIT_USAGE;
	}
	if ((skip = calloc((size_t)argc, 1)) == NULL ||
	    (nread = preflight(&o, argc, argv, skip)) <= 0) {
		if (nread == 0)
			fprintf(stderr,
			    "mailsift read: nothing to read: no log "
			    "made or changed\n");
		free(skip);
		tls_keyring_free(o.keys);
		return EXIT_USAGE;
	}
	if (nread < argc - optind)
		status = EXIT_PARTIAL; /* inputs left out, said */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	started_us = cli_wall_us();
	cmdline = cli_join_args(argc, argv);
	so.path = o.output;
	so.extract_dir = o.extract;
	so.force = o.force;
	so.no_keep = o.no_keep;
	so.redact = o.redact;
	so.command = cmdline;
	so.sensor = o.store.sensor;
	so.spool_dir = o.store.spool_dir;
	so.spool_max_mb = o.store.spool_max_mb;
	so.sha1 = o.store.sha1;
	if (cli_rules_load("read", &o.store) != 0) {
		tls_keyring_free(o.keys);
		free(cmdline);
		free(skip);
		return EXIT_USAGE;
	}
	so.rules = o.store.rules;
	prog.tty = !o.quiet && isatty(STDERR_FILENO);
	co.progress = show_progress;
	co.progress_arg = &prog;
	co.env.lim = o.lim;
	co.env.keys = o.keys;
	co.env.tls_budget = &tls_budget;
	co.detect_budget = (size_t)o.detect_mb << 20;
	co.max_streams = (int)o.max_streams;
	if (o.jobs > 1) {
		struct job_report sum;
		int		  k;

		for (int i = optind; i < argc; i++)
			if (strcmp(argv[i], "-") == 0) {
				fprintf(stderr,
				    "mailsift: --jobs reads each "
				    "file in every job: not a pipe\n");
				free(cmdline);
				free(skip);
				return EXIT_USAGE;
			}
		if (o.json_dir != NULL) {
			fprintf(stderr,
			    "mailsift: --json-dir reads one run; "
			    "with --jobs, use mailsift export\n");
			free(cmdline);
			free(skip);
			return EXIT_USAGE;
		}
		if (store_prepare(&so, err, sizeof(err)) != 0) {
			fprintf(stderr, "mailsift: cannot open the log: %s\n",
			    err);
			free(cmdline);
			free(skip);
			return EXIT_USAGE;
		}
		if ((k = jobs_fork((int)o.jobs, argc, &jobs, &sum)) < 0) {
			/* the jobs have ended: the log's sort indexes, as
			 * one job's read builds them */
			if (sum.status != EXIT_USAGE &&
			    store_finish(&so, err, sizeof(err)) != 0)
				fprintf(stderr, "mailsift: %s\n", err);
			if (!o.quiet)
				print_summary(&sum.cs, &sum.ss, o.output,
				    seconds_since(&t0));
			tls_keyring_free(o.keys);
			cli_rules_free(&o.store);
			free(cmdline);
			free(skip);
			return sum.status;
		}
		/* a job: its share, into the log the others write too */
		co.share_k = (unsigned)k;
		co.share_n = (unsigned)o.jobs;
		prog.tty = 0;
		so.shared = 1;
		so.force = 0;
	}
	if ((r = pipeline_open(&p, &so, &co, err, sizeof(err))) != 0) {
		fprintf(stderr, "mailsift: %s%s\n",
		    r == PIPELINE_ERR_STORE ? "cannot open the log: " : "",
		    err);
		cli_rules_free(&o.store);
		free(cmdline);
		free(skip);
		return EXIT_USAGE;
	}
	fh = hasher_new(1, NULL); /* after any fork: a thread of its own */
	if (!o.no_sandbox && confine(&o, err, sizeof(err)) != 0) {
		fprintf(stderr,
		    "mailsift: cannot enter the sandbox: %s "
		    "(--no-sandbox reads without it)\n",
		    err);
		hasher_free(fh);
		pipeline_close(&p, EXIT_USAGE);
		cli_rules_free(&o.store);
		free(cmdline);
		free(skip);
		return EXIT_USAGE;
	}
	prog.st = p.st;
	for (int i = optind; i < argc && stopped_at == 0; i++) {
		if (store_stats(p.st)->storage_failed) { /* between files */
			stopped_at = -i;
			break;
		}
		if (!skip[i] &&
		    (r = read_one(p.st, argv[i], fh, &prog, jobs, i)) != 0) {
			status = EXIT_PARTIAL;
			if (r == -2)
				stopped_at = i;
		}
	}
	hasher_free(fh);
	if (jobs != NULL) /* stopped early: no job waits for the rest */
		jobs_publish_none_from(jobs, 0);
	capture_finish();
	pipeline_drain(&p);
	store_settle(p.st); /* the last digests and scans, for the counts */
	record_totals(p.st, started_us);
	if (prog.shown)
		fprintf(stderr, "\r%60s\r", "");
	if (capture_stats()->truncated > 0) {
		fprintf(stderr,
		    "mailsift: %llu packets were cut short by the "
		    "capture's snap length: the bytes they lacked are missing "
		    "from the log\n",
		    (unsigned long long)capture_stats()->truncated);
		status = EXIT_PARTIAL;
	}
	ss = *store_stats(p.st);
	run_id = store_run_id(p.st);
	if (ss.errors > 0)
		fprintf(stderr, "mailsift: %llu write errors, last: %s\n",
		    (unsigned long long)ss.errors, store_last_error(p.st));
	if (pipeline_close(&p, status) != 0 && status == EXIT_OK)
		status = EXIT_PARTIAL;
	if (ss.storage_failed) {
		storage_report(o.output, run_id, &ss, argv, argc, stopped_at,
		    skip);
		status = EXIT_USAGE;
	}
	tls_keyring_free(o.keys);
	cli_rules_free(&o.store); /* after the store's scanners */
	if (o.json_dir != NULL && write_json(o.output, run_id, o.json_dir) != 0)
		status = EXIT_USAGE;
	if (jobs != NULL) { /* a job of --jobs: the parent sums up */
		struct job_report rep = { *capture_stats(), ss, status };

		if (jobs_end(jobs, &rep) != 0)
			status = EXIT_USAGE;
	} else if (!o.quiet) {
		print_summary(capture_stats(), &ss, o.output,
		    seconds_since(&t0));
	}
	free(cmdline);
	free(skip);
	return status;
}
