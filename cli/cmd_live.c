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

#include "capture.h"
#include "cli.h"
#include "tlskeys.h"
#include "pipeline.h"
#include "registry.h"
#include "store.h"

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
	int	    promisc, buffer_mb, run_as_root, quiet, no_keep, redact;
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
	    "                         past SIZE (100M, 2G) or every TIME\n"
	    "                         (30m, 1h, 1d); open sessions carry over\n"
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
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "max-streams", required_argument, NULL, 'M' },
		{ "max-detect-memory", required_argument, NULL, 'G' },
		{ "status", required_argument, NULL, 's' },
		{ "redact", no_argument, NULL, 'D' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "no-keep", no_argument, NULL, 'K' },
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
	char			path[4096]; /* the log in use */
	struct timespec		started;
	time_t			rotated_at;
	int			failed;	    /* no log to write to any more */
	int			store_down; /* the store said it cannot write */
	uint64_t		errors_said;	/* write errors said so far */
	time_t			errors_said_at; /* and when last */
	uint64_t		rotations;
	/* the kernel's drop counters, summed across their 32-bit wraps */
	struct capture_kernel kraw;
	uint64_t	      k_received, k_dropped, k_if_dropped;
	struct store_interval mark; /* totals when the last row was written */
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
	store_add_interval(ls->st, &d);
	if (last)
		store_add_interval(ls->st, &t);
	ls->mark = t;
}

static void
show_status(const struct live_state *ls)
{
	const struct capture_stats *cs = capture_stats();
	const struct store_stats   *ss = store_stats(ls->st);
	unsigned long long	    drop = ls->k_dropped + ls->k_if_dropped;
	char			    why[1024];

	say(ls, LOG_INFO,
	    "%llu pkts %.1f MB, %llu dropped | %zu streams, "
	    "%llu timed out | smtp %llu pop3 %llu imap %llu | %llu msgs | "
	    "%llu lost bytes | %ld MB%s%s%s",
	    (unsigned long long)cs->packets, (double)cs->bytes / 1e6, drop,
	    capture_active_flows(), (unsigned long long)cs->streams_evicted,
	    (unsigned long long)ss->by_proto[MD_PROTO_SMTP],
	    (unsigned long long)ss->by_proto[MD_PROTO_POP3],
	    (unsigned long long)ss->by_proto[MD_PROTO_IMAP],
	    (unsigned long long)ss->messages, (unsigned long long)cs->gap_bytes,
	    rss_mb(), store_health(ls->st, why, sizeof(why)) ? " | " : "", why,
	    ss->storage_failed ? " | LOG NOT WRITTEN: disk full or failing" :
		ss->errors > 0 ? " | write errors (see above)" :
				 "");
}

/* ---------------------------------------------------------- log files */

/* LOG.db -> LOG-YYYYmmddTHHMMSS.db, for --rotate. */
static void
rotated_name(const char *output, time_t t, char *out, size_t len)
{
	const char *dot = strrchr(output, '.');
	const char *slash = strrchr(output, '/');
	size_t	    stem = dot != NULL && (slash == NULL || dot > slash) ?
		 (size_t)(dot - output) :
		 strlen(output);
	char	    stamp[32];
	struct tm   tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, len, "%.*s-%s%s", (int)stem, output, stamp,
	    stem < strlen(output) ? output + stem : ".db");
}

static void
rotate_to(struct live_state *ls, const char *path)
{
	uint64_t errors = store_stats(ls->st)->errors;
	char	 err[512];

	if (store_rotate(ls->st, path, err, sizeof(err)) != 0) {
		say(ls, LOG_ERR, "cannot start the log %s: %s; stopping", path,
		    err);
		ls->failed = 1;
		return;
	}
	if (store_stats(ls->st)->errors > errors)
		say(ls, LOG_ERR, "%s", store_last_error(ls->st));
	say(ls, LOG_NOTICE, "log %s closed, going on in %s", ls->path, path);
	snprintf(ls->path, sizeof(ls->path), "%s", path);
	ls->rotations++;
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
		return;
	}
	/* a copy: rotate_to copies its path into ls->path, and a copy of a
	 * buffer onto itself left the name empty, so the second SIGHUP
	 * found no log to start */
	snprintf(path, sizeof(path), "%s", ls->path);
	rotate_to(ls, path);
}

static void
maybe_rotate(struct live_state *ls, time_t now)
{
	struct stat sb;
	char	    path[4096];

	if (ls->o->rotate_s > 0 &&
	    (uint64_t)(now - ls->rotated_at) >= ls->o->rotate_s) {
		ls->rotated_at = now;
	} else if (ls->o->rotate_bytes > 0 && stat(ls->path, &sb) == 0 &&
	    (uint64_t)sb.st_size >= ls->o->rotate_bytes) {
		ls->rotated_at = now;
	} else {
		return;
	}
	rotated_name(ls->o->output, now, path, sizeof(path));
	if (strcmp(path, ls->path) == 0) /* within the same second */
		return;
	rotate_to(ls, path);
}

/* ------------------------------------------------------------ signals */

static void
on_stop(int sig)
{
	(void)sig;
	if (++stop_signals >= 2)
		_exit(128 + sig); /* SQLite's journal keeps the log whole */
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
		int    n = capture_live_step(err, sizeof(err));
		time_t now = time(NULL);

		if (n == -1) {
			say(ls, LOG_ERR, "capture failed: %s", err);
			return EXIT_PARTIAL;
		}
		if (now != last_commit) { /* queryable within a second */
			poll_keylogs(ls);
			store_flush(ls->st);
			watch_store(ls);
			capture_live_flush();
			capture_expire(cli_wall_us(),
			    (uint64_t)o->idle_s * 1000000u,
			    (size_t)o->max_streams);
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
		}
	}
	return EXIT_OK;
}

static int
live_run(struct live_opts *o, const char *cmdline)
{
	struct live_state   ls = { .o = o };
	struct capture_live cl = { 0 };
	const char	   *written = NULL;
	struct store_opts   so = { 0 };
	struct capture_opts co = { 0 };
	struct pipeline	    p;
	char		    err[512], filter[4096], novlan[4096], source[4200];
	int		    status, wfd, r;
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
	cl.write_path = o->write;
	cl.fanout_group = o->fanout_group;
	/* the log, its blobs, -w and extracts: owner only, or the group may
	 * read them too (--group-read: analysts in the mailsift group) */
	umask(o->group_read ? 027 : 077);
	if (capture_live_open(&cl, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift live: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->write != NULL && strcmp(cl.written, o->write) != 0)
		fprintf(stderr,
		    "mailsift live: %s is there already (never overwritten): "
		    "the packets go to %s\n",
		    o->write, cl.written);
	written = o->write != NULL ? cl.written : NULL;
	/* kept open to hash the -w file when done, as root cannot be then */
	wfd = written != NULL ? open(written, O_RDONLY | O_CLOEXEC) : -1;
	/* key logs too: the endpoint's may be readable by root only */
	if (o->nkeylog > 0 && (keys = tls_keyring_new()) == NULL) {
		fprintf(stderr, "mailsift live: out of memory\n");
		capture_live_close();
		return EXIT_USAGE;
	}
	for (int i = 0; i < o->nkeylog; i++)
		if (cli_keylog_open(&ls.keylogs[i], keys, o->keylog[i], 0) !=
		    0) {
			while (i-- > 0)
				cli_keylog_close(&ls.keylogs[i]);
			tls_keyring_free(keys);
			capture_live_close();
			return EXIT_USAGE;
		}
	if (keys != NULL) {
		tls_keyring_follow(keys, poll_keylogs, &ls);
		o->lim.keys = keys;
	}
	if (drop_root(o, err, sizeof(err)) != 0 ||
	    cli_drop_capabilities(err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift live: %s\n", err);
		capture_live_close();
		return EXIT_USAGE;
	}
	ls.tty = isatty(STDERR_FILENO);
	if (o->status_s < 0)
		o->status_s = o->quiet ? 0 : ls.tty ? 5 : 60;
	if (!ls.tty)
		openlog("mailsift", LOG_PID, LOG_DAEMON);
	ls.rotated_at = time(NULL);
	if (o->rotate != NULL)
		rotated_name(o->output, ls.rotated_at, ls.path,
		    sizeof(ls.path));
	else
		snprintf(ls.path, sizeof(ls.path), "%s", o->output);
	so.path = ls.path;
	so.extract_dir = o->extract;
	so.no_keep = o->no_keep;
	so.redact = o->redact;
	so.command = cmdline;
	so.sensor = o->store.sensor;
	so.spool_dir = o->store.spool_dir;
	so.spool_max_mb = o->store.spool_max_mb;
	so.sha1 = o->store.sha1;
	so.rules = o->store.rules;
	so.shared = o->worker >= 0; /* the other workers write it too */
	o->lim.tls_budget = &tls_budget;
	co.lim = o->lim;
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
		capture_live_close();
		return EXIT_USAGE;
	}
	ls.st = p.st;
	/* the frames in the log count from here; with -w they are that
	 * file's, with its record offsets */
	snprintf(source, sizeof(source), "%s%s",
	    written ? "" : "live:", written ? written : o->iface);
	store_set_capture_file(ls.st, source);
	install_signals();
	say(&ls, LOG_NOTICE, "capturing on %s (%s) into %s", o->iface,
	    o->filter ? filter : "mail ports", ls.path);
	ls.started_us = cli_wall_us();
	sample_kernel(&ls);
	status = live_loop(&ls);
	/* Stop: every open session ends as "capture ended", partial
	 * messages are kept as incomplete, all is committed.  The kernel's
	 * counters are read before the capture closes. */
	capture_finish();
	sample_kernel(&ls);
	capture_live_close();
	record_interval(&ls, 1);
	pipeline_drain(&p);
	if (written != NULL) { /* the -w file, now complete, on record */
		struct store_capture sc = { .path = written,
			.packets = capture_stats()->packets,
			.fd = wfd };
		store_add_capture(ls.st, &sc);
	}
	if (wfd >= 0)
		close(wfd);
	if (o->status_s > 0)
		show_status(&ls);
	if (ls.tty)
		fputc('\n', stderr);
	say(&ls, LOG_NOTICE,
	    "stopped; %llu packets, %llu dropped by the "
	    "kernel, %llu by the interface; log %s",
	    (unsigned long long)ls.k_received, (unsigned long long)ls.k_dropped,
	    (unsigned long long)ls.k_if_dropped, ls.path);
	if (pipeline_close(&p, status) != 0 && status == EXIT_OK)
		status = EXIT_PARTIAL;
	for (int i = 0; i < o->nkeylog; i++)
		cli_keylog_close(&ls.keylogs[i]);
	tls_keyring_free(keys);
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
 * traffic); one that cannot start (exit 2: a bad interface, say), or
 * dies three times in a row within 5 s of its start, stops them all.
 * SIGINT and SIGTERM reach every worker.
 */
static int
supervise(struct live_opts *o, const char *cmdline)
{
	pid_t		 pid[MAX_JOBS] = { 0 };
	time_t		 began[MAX_JOBS] = { 0 };
	int		 quick[MAX_JOBS] = { 0 }; /* deaths soon after start */
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
		if (WIFEXITED(wst) && WEXITSTATUS(wst) > status)
			status = WEXITSTATUS(wst);
		if (supervisor_stop)
			continue;
		quick[k] = time(NULL) - began[k] < 5 ? quick[k] + 1 : 0;
		if ((WIFEXITED(wst) && WEXITSTATUS(wst) == EXIT_USAGE) ||
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
			alive++;
		}
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
	if (o.workers > 1 && (o.write != NULL || o.rotate != NULL)) {
		fprintf(stderr,
		    "mailsift live: --workers writes one log "
		    "that does not rotate, and no -w file\n");
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
