/* \summary: mailsift live - an interface in, a SQLite log out, for weeks */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli/cli.h"
#include "store/keep.h"
#include "cli/live.h"
#include "cli/sandbox.h"
#include "dissect/tlskeys.h"
#include "cli/pipeline.h"
#include "store/query.h"
#include "dissect/registry.h"
#include "store/store.h"

/* Whom the log is opened as, after privileges were dropped. */
static const char *
user_name(void)
{
	const struct passwd *pw = getpwuid(geteuid());

	return pw != NULL ? pw->pw_name : "?";
}

/*
 * The default filter: the registry's mail ports, also inside one VLAN tag
 * (BPF matches one layer); Linux cooked (-i any), loopback and raw IP
 * have no VLAN tags in BPF, so their filter leaves that part out.
 */
static void
default_filters(char *filter, char *novlan, size_t cap)
{
	char ports[512];

	md_ports_bpf(ports, sizeof(ports));
	snprintf(filter, cap, "(tcp and (%s)) or (vlan and tcp and (%s))",
	    ports, ports);
	snprintf(novlan, cap, "tcp and (%s)", ports);
}

struct live_opts {
	const char *iface, *filter, *output, *extract, *user, *write;
	const char *rotate;
	const char *metrics;	/* --metrics FILE */
	const char *json_dir;	/* --json-dir DIR */
	long	    keep_days;	/* --keep-days */
	uint64_t    keep_bytes; /* --keep-size */
	int	    promisc, buffer_mb, run_as_root, quiet, no_keep, redact;
	int	    no_sandbox;
	int	    group_read;	   /* the log and files readable by the group */
	struct store_opts store;   /* --sensor, --spool, --spool-max */
	long		  workers; /* --workers */
	int		  worker;  /* this process's number; -1: alone */
	unsigned	  fanout_group;
	const char	 *keylog[8]; /* --keylog, followed as they grow */
	int		  nkeylog;
	long		  idle_s, max_streams, status_s, detect_mb;
	uint64_t	  rotate_bytes, rotate_s;
	struct md_limits  lim;
};

/* What the signal handlers tell the loop: the only globals of the CLI. */
static volatile sig_atomic_t stop_signals, reopen_signal;

static void
live_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift live -i IFACE [options]\n"
	    "\n"
	    "Captures from a network interface (a span port, say), dissects\n"
	    "SMTP, POP3 and IMAP as they pass and logs them, until SIGINT or\n"
	    "SIGTERM.  The log can be queried while mailsift runs.\n"
	    "\n"
	    "  -i, --interface IFACE  the interface to capture on\n"
	    "  -f, --filter BPF       also capture what BPF selects (the\n"
	    "                         mail ports always are; -f tcp: all TCP,\n"
	    "                         for mail on any port)\n"
	    "  -o, --output LOG.db    the log (default mailsift.db; appended)\n"
	    "  -x, --extract DIR      also write each message to DIR\n"
	    "      --group-read       the log, its files, -w and extracts\n"
	    "                         readable by the group (0640, 0750)\n"
	    "  -w, --write FILE       also write the packets captured to a\n"
	    "                         pcap file (frames in the log refer to it)\n"
	    "      --no-promisc       do not put the interface in promiscuous\n"
	    "                         mode\n"
	    "  -B, --buffer MB        kernel capture buffer (default 64)\n"
	    "      --user NAME        the user to run as once the interface is\n"
	    "                         open (default: mailsift if it exists,\n"
	    "                         else nobody)\n"
	    "      --run-as-root      keep running as root (not advised)\n"
	    "      --rotate SIZE|TIME start a new log LOG-YYYYmmddTHHMMSS.db\n"
	    "                         (and -w file) past SIZE (100M, 2G) or\n"
	    "                         every TIME (30m, 1h, 1d: on the clock's\n"
	    "                         boundaries, midnight for 1d); LOG.db\n"
	    "                         links to the file in use; the files\n"
	    "                         share one LOG.db.blobs; open sessions\n"
	    "                         carry over\n"
	    "      --keep-days N      with --rotate: remove rotated logs, -w\n"
	    "                         files, JSON logs and extracts older than\n"
	    "                         N days, and the blobs no log wants\n"
	    "      --keep-size SIZE   with --rotate: remove the oldest rotated\n"
	    "                         files while all take more than SIZE\n"
	    "      --json-dir DIR     also write each session as it ends as\n"
	    "                         JSON lines in Zeek's conventions:\n"
	    "                         DIR/smtp.log, files.log, ssl.log, ...\n"
	    "                         (appended; --rotate renames them\n"
	    "                         TYPE-STAMP.log with the log)\n"
	    "      --metrics FILE     health in Prometheus' text format,\n"
	    "                         rewritten every second (node_exporter's\n"
	    "                         textfile collector reads it)\n"
	    "      --idle-timeout S   end connections idle S seconds (default\n"
	    "                         1800: IMAP IDLE lasts up to 29 minutes)\n"
	    "      --max-streams N    connections tracked at once (default %d);\n"
	    "                         the least recently active go first\n"
	    "      --max-detect-memory MB  memory all connections may hold\n"
	    "                         while their protocol is unknown\n"
	    "                         (default 64); past it, they are not\n"
	    "                         dissected and capture_stats counts them\n"
	    "      --status S         a status line every S seconds (default\n"
	    "                         5 on a terminal, else 60, to syslog and\n"
	    "                         stderr; 0: none)\n"
	    "      --keylog FILE      TLS secrets (SSLKEYLOGFILE's format),\n"
	    "                         followed as the endpoint writes them:\n"
	    "                         sessions whose keys appear are decrypted\n"
	    "                         (each waits up to 10 s for its key); up\n"
	    "                         to 8 files\n"
	    "      --redact           store no passwords or bearer tokens\n"
	    "      --no-keep          do not keep message bytes beside the log\n"
	    "      --no-sandbox       do not confine the capture (Landlock,\n"
	    "                         seccomp; see mailsift read --help)\n"
	    "      --sha1             SHA-1 of each part too (threat-intel lookups)\n"
	    "      --yara RULES       scan parts, archived files and messages\n"
	    "      --workers N        N processes in one PACKET_FANOUT group:\n"
	    "                         the kernel gives each its share of the\n"
	    "                         connections; all write the one log (a\n"
	    "                         worker that dies is restarted)\n"
	    "      --sensor NAME      PostgreSQL: this sensor's name in the\n"
	    "                         log (default: the host name)\n"
	    "      --spool DIR        PostgreSQL: where rows wait while the\n"
	    "                         server is away (default " PG_SPOOL_HINT
	    ")\n"
	    "      --spool-max MB     the spool's bound (default 2048): past\n"
	    "                         it, sessions that begin are not logged\n"
	    "  -q, --quiet            no status lines\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "SIGHUP reopens the log (after logrotate moved it).  A second\n"
	    "SIGINT or SIGTERM exits at once; the log stays consistent.\n",
	    DEFAULT_MAX_STREAMS);
}

#define ROTATE_MAX 1e15 /* bytes (a petabyte) or seconds (30 million years) */

/* "100M", "2G", "500K" -> bytes; "30m", "1h", "1d", "45s" -> seconds. */
static int
parse_rotate(const char *arg, struct live_opts *o)
{
	char  *end;
	double v = strtod(arg, &end), unit;
	int    bytes;

	/* !(v > 0) also refuses NaN */
	if (!(v > 0) || end == arg || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'K':
		unit = 1024, bytes = 1;
		break;
	case 'M':
		unit = 1048576, bytes = 1;
		break;
	case 'G':
		unit = 1073741824.0, bytes = 1;
		break;
	case 's':
		unit = 1, bytes = 0;
		break;
	case 'm':
		unit = 60, bytes = 0;
		break;
	case 'h':
		unit = 3600, bytes = 0;
		break;
	case 'd':
		unit = 86400, bytes = 0;
		break;
	default:
		return -1;
	}
	/* converting a double beyond uint64_t is undefined: bound it first */
	if (v * unit < 1 || v * unit > ROTATE_MAX)
		return -1;
	if (bytes)
		o->rotate_bytes = (uint64_t)(v * unit);
	else
		o->rotate_s = (uint64_t)(v * unit);
	return 0;
}

static int
number_arg(const char *opt, const char *arg, long lo, long hi, long *out)
{
	return cli_number_arg("live", opt, arg, lo, hi, out);
}

static int
parse_live_opts(int argc, char **argv, struct live_opts *o)
{
	static const struct option longs[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "extract", required_argument, NULL, 'x' },
		{ "group-read", no_argument, NULL, 'g' },
		{ "write", required_argument, NULL, 'w' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "no-promisc", no_argument, NULL, 'P' },
		{ "user", required_argument, NULL, 'u' },
		{ "run-as-root", no_argument, NULL, 'R' },
		{ "rotate", required_argument, NULL, 'r' },
		{ "keep-days", required_argument, NULL, 'A' },
		{ "keep-size", required_argument, NULL, 'Z' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "json-dir", required_argument, NULL, 'J' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "max-streams", required_argument, NULL, 'M' },
		{ "max-detect-memory", required_argument, NULL, 'G' },
		{ "status", required_argument, NULL, 's' },
		{ "redact", no_argument, NULL, 'D' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "no-keep", no_argument, NULL, 'K' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "workers", required_argument, NULL, 'n' },
		CLI_STORE_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int  c, r;

	o->output = "mailsift.db";
	o->promisc = 1;
	o->buffer_mb = 64;
	o->idle_s = 1800;
	o->max_streams = DEFAULT_MAX_STREAMS;
	o->detect_mb = DEFAULT_DETECT_MB;
	o->status_s = -1;
	md_limits_default(&o->lim);
	while ((c = getopt_long(argc, argv, "i:f:o:x:w:B:qh", longs, NULL)) !=
	    -1) {
		switch (c) {
		case 'i':
			o->iface = optarg;
			break;
		case 'f':
			o->filter = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'x':
			o->extract = optarg;
			break;
		case 'g':
			o->group_read = 1;
			break;
		case 'w':
			o->write = optarg;
			break;
		case 'P':
			o->promisc = 0;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'R':
			o->run_as_root = 1;
			break;
		case 'D':
			o->redact = 1;
			break;
		case 'k':
			if (o->nkeylog == 8) {
				fprintf(stderr,
				    "mailsift live: at most 8 "
				    "--keylog files\n");
				return -1;
			}
			o->keylog[o->nkeylog++] = optarg;
			break;
		case 'N':
			o->no_sandbox = 1;
			break;
		case 'K':
			o->no_keep = 1;
			break;
		case 'n':
			if (cli_number_arg("live", "--workers", optarg, 1,
				MAX_JOBS, &o->workers) != 0)
				return -1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'B':
			if (number_arg("-B", optarg, 1, 4096, &v) != 0)
				return -1;
			o->buffer_mb = (int)v;
			break;
		case 'r':
			o->rotate = optarg;
			if (parse_rotate(optarg, o) != 0) {
				fprintf(stderr,
				    "mailsift live: --rotate takes a "
				    "size (100M, 2G) or a time (30m, 1h, 1d)\n");
				return -1;
			}
			break;
		case 'A':
			if (number_arg("--keep-days", optarg, 1, 36500,
				&o->keep_days) != 0)
				return -1;
			break;
		case 'Z': {
			struct live_opts size = { 0 };

			if (parse_rotate(optarg, &size) != 0 ||
			    size.rotate_bytes == 0) {
				fprintf(stderr,
				    "mailsift live: --keep-size takes a size "
				    "(500M, 20G)\n");
				return -1;
			}
			o->keep_bytes = size.rotate_bytes;
			break;
		}
		case 'm':
			o->metrics = optarg;
			break;
		case 'J':
			o->json_dir = optarg;
			break;
		case 'I':
			if (number_arg("--idle-timeout", optarg, 1, 86400 * 30,
				&o->idle_s) != 0)
				return -1;
			break;
		case 'G':
			if (number_arg("--max-detect-memory", optarg, 1, 65536,
				&o->detect_mb) != 0)
				return -1;
			break;
		case 'M':
			if (number_arg("--max-streams", optarg, 16, 10000000,
				&o->max_streams) != 0)
				return -1;
			break;
		case 's':
			if (number_arg("--status", optarg, 0, 86400,
				&o->status_s) != 0)
				return -1;
			break;
		case 'h':
			live_usage(stdout);
			exit(EXIT_OK);
		default:
			if ((r = cli_store_opt("live", c, optarg, &o->store)) >
			    0)
				break;
			if (r == 0)
				live_usage(stderr);
			return -1;
		}
	}
	if (o->json_dir != NULL &&
	    (o->workers > 1 || strstr(o->output, "://") != NULL)) {
		fprintf(stderr,
		    "mailsift live: --json-dir streams from one SQLite log "
		    "(not with --workers or PostgreSQL: mailsift export "
		    "reads those)\n");
		return -1;
	}
	if ((o->keep_days > 0 || o->keep_bytes > 0) && o->rotate == NULL) {
		fprintf(stderr,
		    "mailsift live: --keep-days and --keep-size are for the "
		    "files of --rotate (logrotate keeps its own)\n");
		return -1;
	}
	if (o->iface == NULL || optind != argc) {
		fprintf(stderr, "mailsift live: %s\n",
		    o->iface == NULL ? "-i IFACE is required" :
				       "unexpected argument");
		live_usage(stderr);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------- privileges */

/*
 * Once the interface is open, root is no longer needed: mailsift becomes
 * an ordinary user (all its groups too), so that a flaw in a dissector
 * fed by hostile traffic does not hand out root.  The log and extracted
 * files are then created as that user.
 */
static int
drop_root(const struct live_opts *o, char *err, size_t errlen)
{
	const char    *name = o->user;
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0)
		return 0; /* started unprivileged (capabilities): nothing to
			     drop */
	if (name == NULL)
		name = getpwnam("mailsift") != NULL ? "mailsift" : "nobody";
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "no user named %s (--user)", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		if (o->run_as_root)
			return 0;
		snprintf(err, errlen,
		    "refusing to run as root (--user %s); "
		    "--run-as-root if you must",
		    name);
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot become %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) { /* must not be possible any more */
		snprintf(err, errlen, "root could be regained");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ status */

struct live_state {
	const struct live_opts *o;
	struct cli_keylog	keylogs[8];
	struct store	       *st;
	int			tty;
	char			path[4096];	/* the log in use */
	char			wfile[2][4096]; /* -w: in use, and the last
						 * (sessions may cite it) */
	int		wcur;
	int		link_fd;     /* SIOCGIFFLAGS asked through it */
	char		blobs[4200]; /* --rotate: LOG.db.blobs */
	struct timespec started;
	time_t		rotated_at, next_rotate;
	/* a rotation or reopening the disk had no room for: tried again
	 * then (0: none waits), the log in use going on meanwhile */
	time_t	      retry_at;
	int	      retry_reopen;  /* SIGHUP's, else --rotate's */
	time_t	      log_began;     /* the stamp of the log in use */
	atomic_int    janitor;	     /* a retention pass runs */
	int	      link_up;	     /* 1, 0, -1 unknown */
	double	      lag_s;	     /* the loop's longest turn lately */
	char	      metrics[4200]; /* --metrics, a worker's own */
	struct query *jq;	     /* --json-dir: reads the log */
	char	      jq_path[4096];
	int	      json_failed;
	int	      metrics_failed;
	int	      w_said;	      /* the -w file's write error, said */
	int	      failed;	      /* no log to write to any more */
	int	      store_down;     /* the store said it cannot write */
	uint64_t      errors_said;    /* write errors said so far */
	time_t	      errors_said_at; /* and when last */
	uint64_t      rotations;
	/* the kernel's drop counters, summed across their 32-bit wraps */
	struct capture_kernel kraw;
	struct live_indexer   indexer; /* rotated logs' sort indexes */
	uint64_t	      k_received, k_dropped, k_if_dropped;
	struct store_interval mark;    /* totals of the last row committed */
	struct store_interval pending; /* of the last row written */
	uint64_t	      pending_commits; /* commits before it */
	uint64_t	      started_us;
};

static void say(const struct live_state *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(const struct live_state *ls, int prio, const char *fmt, ...)
{
	char	line[1024];
	va_list ap;

	size_t n = 0;

	if (ls->o->worker >= 0)
		n = (size_t)snprintf(line, sizeof(line),
		    "worker %d: ", ls->o->worker);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (ls->tty) {
		fprintf(stderr, "\r%-100s%s", line,
		    prio == LOG_INFO ? "" : "\n");
	} else { /* a file or the journal: each line says when */
		char	  when[32];
		time_t	  t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		syslog(prio, "%s", line);
		fprintf(stderr, "mailsift: %s %s\n", when, line);
	}
}

/* say, for the retention thread's lines */
static void
say_line(void *arg, int prio, const char *line)
{
	say(arg, prio, "%s", line);
}

static long
rss_mb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024 : -1;
}

/* Reads the kernel's counters (only while the capture is open). */
static void
sample_kernel(struct live_state *ls)
{
	struct capture_kernel k;

	if (capture_live_counters(&k) != 0)
		return;
	ls->k_received += (uint32_t)(k.received - ls->kraw.received);
	ls->k_dropped += (uint32_t)(k.dropped - ls->kraw.dropped);
	ls->k_if_dropped += (uint32_t)(k.if_dropped - ls->kraw.if_dropped);
	ls->kraw = k;
}

/* Everything counted since the start, as a capture_stats row. */
static struct store_interval
totals(const struct live_state *ls, uint64_t now)
{
	struct store_interval t = cli_run_totals(ls->started_us, now);

	t.live = 1;
	t.store_errors = store_stats(ls->st)->errors;
	t.messages_lost = store_stats(ls->st)->messages_lost;
	t.kernel_received = ls->k_received;
	t.kernel_dropped = ls->k_dropped;
	t.if_dropped = ls->k_if_dropped;
	return t;
}

/*
 * Writes what was read and lost since the last row; with last, the
 * whole run's totals too.  A query finds the incomplete hours of the
 * log by kernel_dropped.
 */
static void
record_interval(struct live_state *ls, int last)
{
	uint64_t	      now = cli_wall_us();
	struct store_interval t = totals(ls, now), d = t;

	/* a row counts as written once a COMMIT succeeded after it: one a
	 * full disk lost is covered again by the next, which then spans
	 * the whole time, its losses included */
	if (store_stats(ls->st)->commits > ls->pending_commits)
		ls->mark = ls->pending;
	if (!last && store_stats(ls->st)->storage_failing)
		return;
	d.total = 0;
	d.since_us = ls->mark.until_us ? ls->mark.until_us : ls->started_us;
	d.packets -= ls->mark.packets;
	d.bytes -= ls->mark.bytes;
	d.kernel_received -= ls->mark.kernel_received;
	d.kernel_dropped -= ls->mark.kernel_dropped;
	d.if_dropped -= ls->mark.if_dropped;
	d.gap_bytes -= ls->mark.gap_bytes;
	d.streams_evicted -= ls->mark.streams_evicted;
	d.detect_over_budget -= ls->mark.detect_over_budget;
	d.reserved_v4 -= ls->mark.reserved_v4;
	d.store_errors -= ls->mark.store_errors;
	d.messages_lost -= ls->mark.messages_lost;
	store_add_interval(ls->st, &d);
	if (last)
		store_add_interval(ls->st, &t);
	ls->pending = t;
	ls->pending_commits = store_stats(ls->st)->commits;
}

static void
show_status(const struct live_state *ls)
{
	const struct capture_stats *cs = capture_stats();
	const struct store_stats   *ss = store_stats(ls->st);
	unsigned long long	    drop = ls->k_dropped + ls->k_if_dropped;
	char			    why[1024], lost[64] = "";

	/* messages as the log holds them (committed), not as parsed */
	if (ss->messages_lost > 0)
		snprintf(lost, sizeof(lost), ", %llu LOST",
		    (unsigned long long)ss->messages_lost);
	say(ls, LOG_INFO,
	    "%llu pkts %.1f MB, %llu dropped | %zu streams, "
	    "%llu timed out | smtp %llu pop3 %llu imap %llu | %llu msgs "
	    "logged%s | %llu lost bytes | %ld MB%s%s%s%s",
	    (unsigned long long)cs->packets, (double)cs->bytes / 1e6, drop,
	    capture_active_flows(), (unsigned long long)cs->streams_evicted,
	    (unsigned long long)ss->by_proto[MD_PROTO_SMTP],
	    (unsigned long long)ss->by_proto[MD_PROTO_POP3],
	    (unsigned long long)ss->by_proto[MD_PROTO_IMAP],
	    (unsigned long long)ss->messages_logged, lost,
	    (unsigned long long)cs->gap_bytes, rss_mb(),
	    store_health(ls->st, why, sizeof(why)) ? " | " : "", why,
	    ss->storage_failing ? " | LOG NOT WRITTEN: disk full or failing" :
		ss->errors > 0	? " | write errors (see above)" :
				  "",
	    ls->link_up == 0 ? " | LINK DOWN" : "");
}

/* ------------------------------------------------------------ health */

/* Link down and up again: said when it changes (nothing is captured
 * while it is down, and no error says so). */
static void
watch_link(struct live_state *ls)
{
	int up = live_link_state(ls->link_fd, ls->o->iface);

	if (up >= 0 && ls->link_up >= 0 && up != ls->link_up)
		say(ls, up ? LOG_NOTICE : LOG_WARNING,
		    up ? "link %s is up again" :
			 "link %s is down: nothing is captured until it is up",
		    ls->o->iface);
	ls->link_up = up;
}

/* The loop should turn at least every 200 ms (the poll's timeout): a
 * turn of seconds means status, commits and rotation were late. */
static void
watch_turn(struct live_state *ls, const struct timespec *before)
{
	struct timespec now;
	double		s;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s = (double)(now.tv_sec - before->tv_sec) +
	    (double)(now.tv_nsec - before->tv_nsec) / 1e9;
	if (s > ls->lag_s)
		ls->lag_s = s;
	if (s >= 10)
		say(ls, LOG_WARNING,
		    "the capture loop was held up %.0f s: commits, status "
		    "and rotation came late",
		    s);
}

#define M(n, h, t, l, v)                                                      \
	do {                                                                  \
		if (k < sizeof(m) / sizeof(*m))                               \
			m[k++] =                                              \
			    (struct live_metric) { n, h, t, l, (double)(v) }; \
	} while (0)

/* --metrics: what the status line says, for a scraper. */
static void
write_metrics(struct live_state *ls)
{
	const struct capture_stats *cs = capture_stats();
	const struct store_stats   *ss = store_stats(ls->st);
	struct live_metric	    m[32];
	size_t			    k = 0;
	char			    err[4400], why[1024];
	static const char	   *C = "counter", *G = "gauge";

	M("mailsift_packets_total", "Packets read", C, NULL, cs->packets);
	M("mailsift_bytes_total", "Bytes of packets read", C, NULL, cs->bytes);
	M("mailsift_kernel_received_total", "Packets past the filter", C, NULL,
	    ls->k_received);
	M("mailsift_kernel_dropped_total",
	    "Packets the kernel dropped: no room in the buffer", C, NULL,
	    ls->k_dropped);
	M("mailsift_interface_dropped_total", "Packets the interface dropped",
	    C, NULL, ls->k_if_dropped);
	M("mailsift_streams", "Connections followed now", G, NULL,
	    capture_active_flows());
	M("mailsift_streams_evicted_total",
	    "Connections ended by a timeout or the cap", C, NULL,
	    cs->streams_evicted);
	M("mailsift_lost_bytes_total", "Stream bytes the capture lost", C, NULL,
	    cs->gap_bytes);
	M("mailsift_sessions_total", "Mail sessions", C, "{proto=\"smtp\"}",
	    ss->by_proto[MD_PROTO_SMTP]);
	M("mailsift_sessions_total", "Mail sessions", C, "{proto=\"pop3\"}",
	    ss->by_proto[MD_PROTO_POP3]);
	M("mailsift_sessions_total", "Mail sessions", C, "{proto=\"imap\"}",
	    ss->by_proto[MD_PROTO_IMAP]);
	M("mailsift_messages_total", "Messages seen", C, NULL, ss->messages);
	M("mailsift_messages_logged_total", "Messages committed to the log", C,
	    NULL, ss->messages_logged);
	M("mailsift_messages_lost_total",
	    "Messages a failed write lost (disk full)", C, NULL,
	    ss->messages_lost);
	M("mailsift_store_errors_total", "Write errors of the log", C, NULL,
	    ss->errors);
	M("mailsift_store_failing", "1 while the disk refuses the log's writes",
	    G, NULL, ss->storage_failing);
	M("mailsift_store_degraded",
	    "1 while the log's server is away (PostgreSQL: rows spooled)", G,
	    NULL, store_health(ls->st, why, sizeof(why)));
	M("mailsift_link_up", "1 up, 0 down, -1 unknown (-i any)", G, NULL,
	    ls->link_up);
	M("mailsift_loop_longest_turn_seconds",
	    "The capture loop's longest turn in the last status interval", G,
	    NULL, ls->lag_s);
	M("mailsift_rotations_total", "Log files started", C, NULL,
	    ls->rotations);
	M("mailsift_resident_memory_peak_bytes", "Peak resident memory", G,
	    NULL, rss_mb() * 1048576.0);
	M("mailsift_start_time_seconds", "When this run began", G, NULL,
	    (double)ls->started_us / 1e6);
	M("mailsift_last_update_time_seconds", "When this file was written", G,
	    NULL, (double)time(NULL));
	if (live_write_metrics(ls->metrics, m, k, err, sizeof(err)) != 0 &&
	    !ls->metrics_failed) {
		say(ls, LOG_WARNING, "--metrics: %s", err);
		ls->metrics_failed = 1;
	}
}

#undef M

/* ---------------------------------------------------------- log files */

static void say_line(void *arg, int prio, const char *line);

/*
 * --json-dir: the sessions that ended, with all their rows committed,
 * appended to the JSON logs (read back from the log, so they say what
 * the log says).
 */
static void
stream_ended(struct live_state *ls)
{
	int64_t ids[1024];
	size_t	n;
	char	err[4400];

	if (ls->o->json_dir == NULL)
		return;
	while ((n = store_take_ended(ls->st, ids, 1024)) > 0) {
		char  *json, *p;
		size_t cap = n * 24 + 3;
		int    rc;

		if ((json = p = malloc(cap)) == NULL)
			return;
		*p++ = '[';
		for (size_t i = 0; i < n; i++)
			p += snprintf(p, cap - (size_t)(p - json), "%s%lld",
			    i ? "," : "", (long long)ids[i]);
		snprintf(p, cap - (size_t)(p - json), "]");
		if (ls->jq != NULL && strcmp(ls->jq_path, ls->path) != 0) {
			query_close(ls->jq);
			ls->jq = NULL;
		}
		if (ls->jq == NULL &&
		    (ls->jq = query_open(ls->path, err, sizeof(err))) != NULL)
			snprintf(ls->jq_path, sizeof(ls->jq_path), "%s",
			    ls->path);
		rc = ls->jq == NULL ? -1 :
				      export_json_sessions(ls->jq, json,
					  ls->o->json_dir, err, sizeof(err));
		free(json);
		if (rc != 0 && !ls->json_failed)
			say(ls, LOG_ERR,
			    "--json-dir: %s; sessions that end meanwhile "
			    "are not streamed",
			    err);
		else if (rc == 0 && ls->json_failed)
			say(ls, LOG_NOTICE, "--json-dir: streaming again");
		ls->json_failed = rc != 0;
	}
}

/* Retention after a rotation (and at the start): in a thread. */
static void
start_retention(struct live_state *ls)
{
	const struct live_opts *o = ls->o;
	struct live_retention	r = { .keep_days = o->keep_days,
		  .keep_bytes = o->keep_bytes,
		  .current = ls->rotated_at,
		  .running = &ls->janitor,
		  .say = say_line,
		  .arg = ls };

	if (o->keep_days == 0 && o->keep_bytes == 0)
		return;
	snprintf(r.output, sizeof(r.output), "%s", o->output);
	snprintf(r.write, sizeof(r.write), "%s", o->write ? o->write : "");
	snprintf(r.blobs, sizeof(r.blobs), "%s", ls->blobs);
	snprintf(r.extract, sizeof(r.extract), "%s",
	    o->extract ? o->extract : "");
	snprintf(r.json, sizeof(r.json), "%s", o->json_dir ? o->json_dir : "");
	live_retention_start(&r);
}

/* --rotate: LOG.db names the file in use, for every query command. */
static void
point_current(struct live_state *ls)
{
	char err[4400];
	int  r;

	if (ls->o->rotate == NULL)
		return;
	if ((r = live_point_current(ls->o->output, ls->path, err,
		 sizeof(err))) < 0)
		say(ls, LOG_WARNING, "no link to the log in use: %s", err);
	else if (r == 1 && ls->rotations == 0)
		say(ls, LOG_NOTICE,
		    "%s is a log of its own (kept): no link to the log "
		    "in use",
		    ls->o->output);
}

/* A -w file done with, on record in the log its frames belong to. */
static void
record_written(struct live_state *ls, const struct capture_written *w)
{
	struct store_capture sc = { .path = w->path,
		.packets = w->packets,
		.first_us = w->first_us,
		.last_us = w->last_us,
		.damaged = w->damaged,
		.fd = -1,
		.sha256 = w->sha256,
		.size = w->size };

	if (w->path[0] != '\0')
		store_add_capture(ls->st, &sc);
}

/* --rotate with -w: the packets go on in a new file with the log's
 * stamp; the finished one goes on record in the log that cites it. */
static void
rotate_written(struct live_state *ls, time_t stamp)
{
	struct capture_written done;
	char		       next[4096], err[4400];
	int		       k = !ls->wcur;

	if (ls->o->write == NULL)
		return;
	live_stamped(ls->o->write, ".pcap", stamp, next, sizeof(next));
	if (capture_live_write_next(next, &done, ls->wfile[k],
		sizeof(ls->wfile[k]), err, sizeof(err)) != 0) {
		say(ls, LOG_ERR,
		    "cannot start the -w file %s: %s; going on "
		    "in %s",
		    next, err, ls->wfile[ls->wcur]);
		return;
	}
	record_written(ls, &done);
	ls->wcur = k;
	ls->w_said = 0;
}

#define ROTATE_RETRY_S 5

/* Goes on in the log at path; 0, or -1 when its file could not be made
 * (a full disk: the log in use goes on, and it is tried again). */
static int
rotate_to(struct live_state *ls, const char *path)
{
	uint64_t errors = store_stats(ls->st)->errors;
	char	 err[512];
	int	 wrote = ls->o->write != NULL;
	char	 wbefore[4096];

	if (store_rotate_ready(ls->st, path, err, sizeof(err)) != 0) {
		say(ls, LOG_ERR,
		    "cannot start the log %s: %s; going on in %s, trying "
		    "again in %d s",
		    path, err, ls->path, ROTATE_RETRY_S);
		ls->retry_at = time(NULL) + ROTATE_RETRY_S;
		return -1;
	}
	ls->retry_at = 0;
	if (wrote)
		snprintf(wbefore, sizeof(wbefore), "%s", ls->wfile[ls->wcur]);
	/* what ended in the old log is streamed from it: its digests
	 * waited for, all committed there */
	if (ls->o->json_dir != NULL)
		store_settle(ls->st);
	store_flush(ls->st);
	stream_ended(ls);
	if (ls->o->rotate != NULL && ls->o->json_dir != NULL) {
		char stamp[LIVE_STAMP_LEN];

		live_stamp(ls->log_began, stamp);
		export_json_rotate(ls->o->json_dir, stamp);
	}
	if (ls->o->rotate != NULL)
		rotate_written(ls, ls->rotated_at);
	if (store_rotate(ls->st, path, err, sizeof(err)) != 0) {
		char again[512];

		/* a full disk at the boundary: go on in the file there was
		 * (still there, still a log) and try again at the next one,
		 * rather than stop capturing */
		if (strcmp(path, ls->path) != 0 &&
		    store_rotate(ls->st, ls->path, again, sizeof(again)) == 0) {
			say(ls, LOG_ERR,
			    "cannot start the log %s: %s; going on in %s, "
			    "and again at the next rotation",
			    path, err, ls->path);
			return 0;
		}
		if (ls->o->rotate != NULL) {
			/* the disk filled between the new file and the
			 * rotation: no log until there is room; the next
			 * try opens one (what comes meanwhile is counted) */
			say(ls, LOG_ERR,
			    "cannot start the log %s: %s; no log until there "
			    "is room, trying again in %d s",
			    path, err, ROTATE_RETRY_S);
			ls->retry_at = time(NULL) + ROTATE_RETRY_S;
			ls->retry_reopen = 0;
			return -1;
		}
		say(ls, LOG_ERR, "cannot start the log %s: %s; stopping", path,
		    err);
		ls->failed = 1;
		return 0;
	}
	if (store_stats(ls->st)->errors > errors)
		say(ls, LOG_ERR, "%s", store_last_error(ls->st));
	if (wrote && strcmp(wbefore, ls->wfile[ls->wcur]) != 0) {
		/* sessions that begin now cite the new file's frames */
		store_set_capture_file(ls->st, ls->wfile[ls->wcur]);
		say(ls, LOG_NOTICE,
		    "log %s closed, going on in %s (packets: %s)", ls->path,
		    path, ls->wfile[ls->wcur]);
	} else {
		say(ls, LOG_NOTICE, "log %s closed, going on in %s", ls->path,
		    path);
	}
	/* a rotation's closed log (not one logrotate moved away) */
	if (strcmp(path, ls->path) != 0)
		live_indexer_add(&ls->indexer, ls->path);
	snprintf(ls->path, sizeof(ls->path), "%s", path);
	ls->log_began = ls->rotated_at;
	ls->rotations++;
	point_current(ls);
	start_retention(ls);
	return 0;
}

/* SIGHUP: a log that logrotate moved away is started afresh. */
static void
reopen_log(struct live_state *ls)
{
	struct stat sb;
	char	    path[sizeof(ls->path)];

	if (stat(ls->path, &sb) == 0) {
		say(ls, LOG_NOTICE, "SIGHUP: %s is still in place, kept",
		    ls->path);
		ls->retry_at = 0;
		return;
	}
	/* a copy: rotate_to copies its path into ls->path, and a copy of a
	 * buffer onto itself left the name empty, so the second SIGHUP
	 * found no log to start */
	snprintf(path, sizeof(path), "%s", ls->path);
	ls->retry_reopen = 1;
	rotate_to(ls, path);
}

/* --rotate: on the clock's boundaries (a 1d log holds a day, midnight
 * to midnight), or past its size; a rotation or a SIGHUP's new log that
 * found no room, when its retry is due. */
static void
maybe_rotate(struct live_state *ls, time_t now)
{
	struct stat sb;
	char	    path[4096];

	if (ls->retry_at != 0) {
		if (now < ls->retry_at)
			return;
		if (ls->retry_reopen) {
			reopen_log(ls);
			return;
		}
	} else if (ls->o->rotate_s > 0 && now >= ls->next_rotate) {
		ls->next_rotate = live_next_boundary(now, ls->o->rotate_s);
	} else if (ls->o->rotate_bytes > 0 && stat(ls->path, &sb) == 0 &&
	    (uint64_t)sb.st_size >= ls->o->rotate_bytes) {
	} else {
		return;
	}
	live_stamped(ls->o->output, ".db", now, path, sizeof(path));
	if (strcmp(path, ls->path) == 0) /* within the same second */
		return;
	ls->rotated_at = now;
	ls->retry_reopen = 0;
	rotate_to(ls, path);
}

/* ------------------------------------------------------------ signals */

static void
on_stop(int sig)
{
	static const char line[] =
	    "mailsift: a second signal: exiting at once; the log keeps what "
	    "was committed (all but the last second)\n";

	if (++stop_signals >= 2) {
		/* write(2) is all a handler may say with */
		ssize_t r = write(STDERR_FILENO, line, sizeof(line) - 1);

		(void)r;
		_exit(128 + sig); /* SQLite's journal keeps the log whole */
	}
	capture_live_break();
}

static void
on_hup(int sig)
{
	(void)sig;
	reopen_signal = 1;
	capture_live_break();
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop; /* no SA_RESTART: the capture wait ends */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* What the endpoints appended to their key logs (a session waiting for
 * its keys asks, and the loop once a second). */
static void
poll_keylogs(void *arg)
{
	struct live_state *ls = arg;

	for (int i = 0; i < ls->o->nkeylog; i++)
		cli_keylog_poll(&ls->keylogs[i]);
}

/* ---------------------------------------------------------------- loop */

/* A store that cannot write where it should (PostgreSQL away) is said
 * when it happens and when it mends. */
static void
watch_store(struct live_state *ls)
{
	const struct store_stats *ss = store_stats(ls->st);
	time_t			  now = time(NULL);
	char			  why[1024];
	int			  down = store_health(ls->st, why, sizeof(why));

	if (down && !ls->store_down)
		say(ls, LOG_WARNING, "%s", why);
	else if (!down && ls->store_down)
		say(ls, LOG_NOTICE,
		    "the log's server is back; what waited "
		    "is written");
	ls->store_down = down;
	if (!ls->w_said && capture_live_write_error() != 0) {
		say(ls, LOG_ERR,
		    "the -w file %s is cut: %s; no packets are written to "
		    "it any more%s",
		    ls->wfile[ls->wcur], strerror(capture_live_write_error()),
		    ls->o->rotate ? " (the next rotation starts a new one)" :
				    "");
		ls->w_said = 1;
	}
	/* write errors are said when they happen (at most every 10 s), not
	 * at the next rotation: a full disk loses mail meanwhile */
	if (ss->errors > ls->errors_said && now - ls->errors_said_at >= 10) {
		say(ls, LOG_ERR, "%llu write errors (%llu in all), last: %s%s",
		    (unsigned long long)(ss->errors - ls->errors_said),
		    (unsigned long long)ss->errors, store_last_error(ls->st),
		    ss->storage_failed ?
			"; the disk is full or failing: what is seen now is "
			"not kept" :
			"");
		ls->errors_said = ss->errors;
		ls->errors_said_at = now;
	}
}

static int
live_loop(struct live_state *ls)
{
	const struct live_opts *o = ls->o;
	time_t last_commit = time(NULL), last_status = last_commit;
	char   err[512];

	while (!stop_signals && !ls->failed) {
		struct timespec turn;
		int		n;
		time_t		now;

		clock_gettime(CLOCK_MONOTONIC, &turn);
		n = capture_live_step(err, sizeof(err));
		now = time(NULL);
		if (n == -1) {
			say(ls, LOG_ERR, "capture failed: %s", err);
			return EXIT_PARTIAL;
		}
		if (now != last_commit) { /* queryable within a second */
			poll_keylogs(ls);
			store_flush(ls->st);
			stream_ended(ls);
			watch_store(ls);
			capture_live_flush();
			capture_expire(cli_wall_us(),
			    (uint64_t)o->idle_s * 1000000u,
			    (size_t)o->max_streams);
			watch_link(ls);
			if (ls->metrics[0] != '\0')
				write_metrics(ls);
			last_commit = now;
		}
		if (reopen_signal) {
			reopen_signal = 0;
			reopen_log(ls);
		}
		maybe_rotate(ls, now);
		if (ls->failed)
			return EXIT_USAGE;
		if (now - last_status >= (o->status_s > 0 ? o->status_s : 60)) {
			sample_kernel(ls);
			record_interval(ls, 0);
			if (o->status_s > 0)
				show_status(ls);
			last_status = now;
			ls->lag_s = 0;
		}
		watch_turn(ls, &turn);
	}
	return EXIT_OK;
}

/*
 * --rotate: LOG.db links to the file the last run wrote.  A run killed
 * there is closed there (this run's own file never saw it), and session
 * ids go on after its last, so that JSON uids and -x names stay unique.
 */
static void
take_over_last(struct live_state *ls, struct store_opts *so)
{
	struct stat sb;
	char	   *prev, err[4400];
	int64_t	    last = 0;

	if (lstat(ls->o->output, &sb) != 0 || !S_ISLNK(sb.st_mode) ||
	    (prev = realpath(ls->o->output, NULL)) == NULL)
		return;
	if (store_take_over(prev, &last, err, sizeof(err)) != 0)
		say(ls, LOG_WARNING, "the last log, %s: %s", prev, err);
	else
		so->session_base = last;
	free(prev);
}

/* A worker's files: "-wK.EXT". */
static const char *
wk_tail(int worker, const char *ext, char *buf, size_t len)
{
	snprintf(buf, len, "-w%d%s", worker, ext);
	return buf;
}

/*
 * The sandbox (sandbox.h), entered once the capture, the log, the -w
 * file, syslog and the retention thread's first pass are set up: files
 * are written only in the log's folder (its rotations, blobs, spool, the
 * current link), -x, --json-dir, the -w file's and --metrics' folders
 * and SQLite's temporary folders.  A PostgreSQL log is not confined yet.
 */
static int
confine_live(struct live_state *ls, char *err, size_t errlen)
{
	static const char *const tmp[] = { "/var/tmp", "/usr/tmp", "/tmp" };
	const struct live_opts	*o = ls->o;
	struct sandbox_paths	 sp = { .n = 0, .live = 1 };

	if (strncmp(o->output, "postgres", 8) == 0)
		return 0;
	sandbox_allow(&sp, o->output, 0);
	sandbox_allow(&sp, ls->path, 0);
	sandbox_allow(&sp, o->extract, 1);
	sandbox_allow(&sp, o->json_dir, 1);
	sandbox_allow(&sp, o->write, 0);
	sandbox_allow(&sp, o->metrics, 0);
	sandbox_allow(&sp, o->store.spool_dir, 1);
	sandbox_allow(&sp, getenv("SQLITE_TMPDIR"), 1);
	sandbox_allow(&sp, getenv("TMPDIR"), 1);
	for (size_t i = 0; i < sizeof(tmp) / sizeof(*tmp); i++)
		sandbox_allow(&sp, tmp[i], 1);
	return sandbox_enter(&sp, err, errlen);
}

static int
live_run(struct live_opts *o, const char *cmdline)
{
	struct live_state      ls = { .o = o };
	struct capture_live    cl = { 0 };
	struct capture_written last_w;
	char		       tail[32];
	struct store_opts      so = { 0 };
	struct capture_opts    co = { 0 };
	struct pipeline	       p;
	char		    err[512], filter[4096], novlan[4096], source[4200];
	int		    status, r;
	struct tls_keyring *keys = NULL;
	struct md_budget    tls_budget = { 0, CLI_TLS_BUDGET };

	if (o->rotate != NULL && strstr(o->output, "://") != NULL) {
		fprintf(stderr,
		    "mailsift live: --rotate is for SQLite files; "
		    "a database keeps rows by time\n");
		return EXIT_USAGE;
	}
	default_filters(filter, novlan, sizeof(filter));
	if (o->filter != NULL) {
		char both[2][2 * sizeof(filter) + 16];
		int  k = snprintf(both[0], sizeof(both[0]), "(%s) or (%s)",
		     filter, o->filter);
		int  j = snprintf(both[1], sizeof(both[1]), "(%s) or (%s)",
		     novlan, o->filter);

		if (k < 0 || j < 0 || (size_t)k >= sizeof(filter) ||
		    (size_t)j >= sizeof(novlan)) {
			fprintf(stderr,
			    "mailsift live: the -f filter is too "
			    "long\n");
			return EXIT_USAGE;
		}
		memcpy(filter, both[0], (size_t)k + 1);
		memcpy(novlan, both[1], (size_t)j + 1);
	}
	cl.iface = o->iface;
	cl.filter = filter;
	cl.filter_novlan = novlan;
	cl.promisc = o->promisc;
	cl.buffer_mb = o->buffer_mb;
	cl.fanout_group = o->fanout_group;
	ls.rotated_at = time(NULL);
	if (o->write != NULL) {
		/* --rotate: stamped as the log; a worker: a file of its own */
		const char *wk =
		    wk_tail(o->worker, ".pcap", tail, sizeof(tail));

		if (o->rotate != NULL)
			live_stamped(o->write, ".pcap", ls.rotated_at,
			    ls.wfile[0], sizeof(ls.wfile[0]));
		else if (o->worker >= 0)
			live_stamped_worker(o->write, wk, ls.wfile[0],
			    sizeof(ls.wfile[0]));
		else
			snprintf(ls.wfile[0], sizeof(ls.wfile[0]), "%s",
			    o->write);
		cl.write_path = ls.wfile[0];
	}
	/* the log, its blobs, -w and extracts: owner only, or the group may
	 * read them too (--group-read: analysts in the mailsift group) */
	umask(o->group_read ? 027 : 077);
	if (capture_live_open(&cl, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift live: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->write != NULL && strcmp(cl.written, ls.wfile[0]) != 0)
		fprintf(stderr,
		    "mailsift live: %s is there already (never overwritten): "
		    "the packets go to %s\n",
		    ls.wfile[0], cl.written);
	if (o->write != NULL)
		snprintf(ls.wfile[0], sizeof(ls.wfile[0]), "%s", cl.written);
	/* key logs too: the endpoint's may be readable by root only */
	if (o->nkeylog > 0 && (keys = tls_keyring_new()) == NULL) {
		fprintf(stderr, "mailsift live: out of memory\n");
		capture_live_close(NULL);
		return EXIT_USAGE;
	}
	for (int i = 0; i < o->nkeylog; i++)
		if (cli_keylog_open(&ls.keylogs[i], keys, o->keylog[i], 0) !=
		    0) {
			while (i-- > 0)
				cli_keylog_close(&ls.keylogs[i]);
			tls_keyring_free(keys);
			capture_live_close(NULL);
			return EXIT_USAGE;
		}
	if (keys != NULL)
		tls_keyring_follow(keys, poll_keylogs, &ls);
	if (drop_root(o, err, sizeof(err)) != 0 ||
	    cli_drop_capabilities(err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift live: %s\n", err);
		capture_live_close(NULL);
		return EXIT_USAGE;
	}
	ls.tty = isatty(STDERR_FILENO);
	if (o->status_s < 0)
		o->status_s = o->quiet ? 0 : ls.tty ? 5 : 60;
	if (!ls.tty) /* connected now: the sandbox allows no new socket */
		openlog("mailsift", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (o->rotate != NULL) {
		live_stamped(o->output, ".db", ls.rotated_at, ls.path,
		    sizeof(ls.path));
		if (!o->no_keep) /* one store for all the files: a body seen
				    yesterday is not kept again */
			snprintf(ls.blobs, sizeof(ls.blobs), "%s.blobs",
			    o->output);
		ls.next_rotate = live_next_boundary(ls.rotated_at, o->rotate_s);
	} else
		snprintf(ls.path, sizeof(ls.path), "%s", o->output);
	so.path = ls.path;
	so.extract_dir = o->extract;
	so.no_keep = o->no_keep;
	so.blob_dir = ls.blobs[0] != '\0' ? ls.blobs : NULL;
	so.redact = o->redact;
	so.command = cmdline;
	so.sensor = o->store.sensor;
	so.spool_dir = o->store.spool_dir;
	so.spool_max_mb = o->store.spool_max_mb;
	so.sha1 = o->store.sha1;
	so.rules = o->store.rules;
	so.shared = o->worker >= 0; /* the other workers write it too */
	so.track_ended = o->json_dir != NULL;
	if (o->rotate != NULL)
		take_over_last(&ls, &so);
	ls.log_began = ls.rotated_at;
	if (o->json_dir != NULL &&
	    keep_dir(o->json_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift live: --json-dir %s\n", err);
		capture_live_close(NULL);
		return EXIT_USAGE;
	}
	co.env.lim = o->lim;
	co.env.keys = keys;
	co.env.tls_budget = &tls_budget;
	co.detect_budget = (size_t)o->detect_mb << 20;
	co.max_streams = (int)o->max_streams;
	if ((r = pipeline_open(&p, &so, &co, err, sizeof(err))) != 0) {
		if (r == PIPELINE_ERR_STORE)
			fprintf(stderr,
			    "mailsift live: cannot open the log "
			    "as %s: %s\n",
			    user_name(), err);
		else
			fprintf(stderr, "mailsift live: %s\n", err);
		capture_live_close(NULL);
		return EXIT_USAGE;
	}
	ls.st = p.st;
	/* the frames in the log count from here; with -w they are that
	 * file's, with its record offsets */
	snprintf(source, sizeof(source), "live:%s", o->iface);
	store_set_capture_file(ls.st, o->write ? ls.wfile[0] : source);
	install_signals();
	say(&ls, LOG_NOTICE, "capturing on %s (%s) into %s", o->iface,
	    o->filter ? filter : "mail ports", ls.path);
	point_current(&ls);
	start_retention(&ls);
	live_indexer_init(&ls.indexer, say_line, &ls);
	ls.link_fd = live_link_open();
	ls.link_up = live_link_state(ls.link_fd, o->iface);
	if (o->metrics != NULL && o->worker >= 0) /* one file each */
		live_stamped_worker(o->metrics,
		    wk_tail(o->worker, ".prom", tail, sizeof(tail)), ls.metrics,
		    sizeof(ls.metrics));
	else if (o->metrics != NULL)
		snprintf(ls.metrics, sizeof(ls.metrics), "%s", o->metrics);
	ls.started_us = cli_wall_us();
	sample_kernel(&ls);
	if (!o->no_sandbox && confine_live(&ls, err, sizeof(err)) != 0) {
		say(&ls, LOG_ERR,
		    "cannot enter the sandbox: %s (--no-sandbox captures "
		    "without it)",
		    err);
		status = EXIT_USAGE;
	} else
		status = live_loop(&ls);
	/* Stop: every open session ends as "capture ended", partial
	 * messages are kept as incomplete, all is committed.  The kernel's
	 * counters are read before the capture closes. */
	capture_finish();
	sample_kernel(&ls);
	capture_live_close(&last_w);
	record_interval(&ls, 1);
	pipeline_drain(&p);
	record_written(&ls, &last_w); /* the -w file, now complete */
	/* a retention pass says what it removed through ls: it ends first */
	while (atomic_load(&ls.janitor))
		usleep(50000);
	if (!ls.failed) { /* else the store has no log to write */
		store_flush(ls.st);
		stream_ended(&ls);
	}
	if (ls.jq != NULL)
		query_close(ls.jq);
	if (o->status_s > 0)
		show_status(&ls);
	if (ls.metrics[0] != '\0')
		write_metrics(&ls);
	if (ls.tty)
		fputc('\n', stderr);
	/* read, and the kernel's count: on loopback the kernel counts a
	 * packet as sent and as received, and libpcap reads it once */
	say(&ls, LOG_NOTICE,
	    "stopped; %llu packets read, %llu past the kernel's filter, "
	    "%llu dropped by the kernel, %llu by the interface; log %s",
	    (unsigned long long)capture_stats()->packets,
	    (unsigned long long)ls.k_received, (unsigned long long)ls.k_dropped,
	    (unsigned long long)ls.k_if_dropped, ls.path);
	if (pipeline_close(&p, status) != 0 && status == EXIT_OK)
		status = EXIT_PARTIAL;
	/* the last rotated log's indexes, built as the one in use's were */
	live_indexer_end(&ls.indexer);
	for (int i = 0; i < o->nkeylog; i++)
		cli_keylog_close(&ls.keylogs[i]);
	tls_keyring_free(keys);
	if (ls.link_fd >= 0)
		close(ls.link_fd);
	return status;
}

/* ------------------------------------------------------------ workers */

static volatile sig_atomic_t supervisor_stop;

static void
on_supervisor_signal(int sig)
{
	supervisor_stop = sig;
}

static pid_t
start_worker(struct live_opts *o, int k, const char *cmdline)
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		o->worker = k;
		_exit(live_run(o, cmdline));
	}
	return pid;
}

static void supervisor_says(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
supervisor_says(const char *fmt, ...)
{
	char	line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(LOG_WARNING, "%s", line);
	fprintf(stderr, "mailsift: %s\n", line);
}

/*
 * live --workers N: N workers in one fanout group, each a live run of
 * its own writing the one log.  The supervisor only waits: a worker that
 * dies is said and started again (it keeps root for that, and reads no
 * traffic); one that cannot start the first time (exit 2: a bad
 * interface, say), or dies three times in a row within 5 s of its start
 * (a restarted one that cannot start: the log's server away), stops
 * them all.
 * SIGINT and SIGTERM reach every worker.
 */
static int
supervise(struct live_opts *o, const char *cmdline)
{
	pid_t		 pid[MAX_JOBS] = { 0 };
	time_t		 began[MAX_JOBS] = { 0 };
	int		 quick[MAX_JOBS] = { 0 }; /* deaths soon after start */
	int		 ran[MAX_JOBS] = { 0 };	  /* started more than once */
	struct sigaction sa = { .sa_handler = on_supervisor_signal };
	int		 n = (int)o->workers, alive = 0, status = EXIT_OK;

	openlog("mailsift", LOG_PID, LOG_DAEMON);
	o->fanout_group = ((unsigned)getpid() & 0xfffe) | 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int k = 0; k < n; k++)
		if ((pid[k] = start_worker(o, k, cmdline)) > 0) {
			began[k] = time(NULL);
			alive++;
		}
	while (alive > 0) {
		int   wst, k;
		pid_t p = wait(&wst);

		if (p < 0) {
			if (errno != EINTR)
				break;
			for (k = 0; supervisor_stop && k < n; k++)
				if (pid[k] > 0)
					kill(pid[k], (int)supervisor_stop);
			continue;
		}
		for (k = 0; k < n && pid[k] != p; k++)
			;
		if (k == n)
			continue;
		pid[k] = 0;
		alive--;
		/* a restarted worker that could not start is tried again:
		 * its exit 2 is not the sensor's */
		if (WIFEXITED(wst) && WEXITSTATUS(wst) > status &&
		    (WEXITSTATUS(wst) != EXIT_USAGE || !ran[k] ||
			supervisor_stop))
			status = WEXITSTATUS(wst);
		if (supervisor_stop)
			continue;
		quick[k] = time(NULL) - began[k] < 5 ? quick[k] + 1 : 0;
		if ((WIFEXITED(wst) && WEXITSTATUS(wst) == EXIT_USAGE &&
			!ran[k]) ||
		    quick[k] >= 3) {
			supervisor_says("worker %d cannot run; stopping", k);
			supervisor_stop = SIGTERM;
			for (int j = 0; j < n; j++)
				if (pid[j] > 0)
					kill(pid[j], SIGTERM);
			continue;
		}
		if (WIFSIGNALED(wst))
			supervisor_says("worker %d died (signal %d); "
					"starting it again",
			    k, WTERMSIG(wst));
		else
			supervisor_says("worker %d ended (status %d); "
					"starting it again",
			    k, WEXITSTATUS(wst));
		sleep(1); /* no storm of restarts */
		if ((pid[k] = start_worker(o, k, cmdline)) > 0) {
			began[k] = time(NULL);
			ran[k] = 1;
			alive++;
		}
	}
	/* the workers have ended: the log's sort indexes, as one live run
	 * builds them as it closes its log (read --jobs does the same) */
	if (status != EXIT_USAGE) {
		struct store_opts so = { .path = o->output };
		char		  err[4400];

		if (store_finish(&so, err, sizeof(err)) != 0)
			supervisor_says("%s", err);
	}
	return status;
}

int
cmd_live(int argc, char **argv)
{
	struct live_opts o = { 0 };
	char		*cmdline;
	int		 status;

	o.worker = -1;
	if (parse_live_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (o.workers > 1 && o.rotate != NULL) {
		fprintf(stderr,
		    "mailsift live: --workers writes one log "
		    "that does not rotate\n");
		return EXIT_USAGE;
	}
	if ((cmdline = cli_join_args(argc, argv)) == NULL) {
		fprintf(stderr, "mailsift live: out of memory\n");
		return EXIT_USAGE;
	}
	if (cli_rules_load("live", &o.store) != 0) {
		free(cmdline);
		return EXIT_USAGE;
	}
	status = o.workers > 1 ? supervise(&o, cmdline) : live_run(&o, cmdline);
	cli_rules_free(&o.store);
	free(cmdline);
	return status;
}
