/*
 * cli.h - subcommands of the mailsift command line.
 */
#ifndef MAILSIFT_CLI_H
#define MAILSIFT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/query.h"
#include "store/store.h"

/* Exit statuses shared by every subcommand. */
#define EXIT_OK	       0
#define EXIT_PARTIAL   1 /* input partly unreadable; what was read is kept */
#define EXIT_USAGE     2
#define EXIT_NO_MEMORY 3  /* libnids ran out of memory; the log is closed */
#define MAX_JOBS       64 /* read --jobs, live --workers */

int cmd_read(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_list(int argc,
    char       **argv); /* sessions, messages, creds, attachments */
int cmd_stats(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_case(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* A number from the command line within [lo, hi]; when it is not, says
 * so on stderr ("mailsift CMD: OPT takes a number from LO to HI") and
 * returns -1. */
int cli_number_arg(const char *cmd, const char *opt, const char *arg, long lo,
    long hi, long *out);
/* The options of read and live that say where and how the log is kept
 * when it is a database: --sensor, --spool, --spool-max. */
/* clang-format off */
#define CLI_STORE_LONGOPTS                                      \
	{ "sensor", required_argument, NULL, 'S' },             \
	{ "spool", required_argument, NULL, 'W' },              \
	{ "spool-max", required_argument, NULL, 'Z' },          \
	{ "sha1", no_argument, NULL, '1' },                     \
	{ "yara", required_argument, NULL, 'Y' }
/* clang-format on */
/* Takes option c (one of CLI_STORE_LONGOPTS') into so: 1 when it was
 * one, 0 when not, -1 when its value is bad (said on stderr). */
int cli_store_opt(const char *cmd, int c, const char *arg,
    struct store_opts *so);
/* A message's bytes read from in, told to out through the MIME tap as
 * the capture told them (copied to copy too, unless NULL): what extract
 * and serve make of a kept message.  -1 when the tap could not start or
 * the copy failed. */
struct md_sink;
int cli_mime_replay(FILE *in, const struct md_sink *out, FILE *copy);
/* --yara's rules compiled into so->rules (said on stderr and -1 when
 * they do not compile); freed by cli_rules_free after the store. */
int  cli_rules_load(const char *cmd, struct store_opts *so);
void cli_rules_free(struct store_opts *so);
/* The arguments joined by spaces, as the run's command line in the log;
 * malloc'd, NULL when memory ran out. */
char *cli_join_args(int argc, char **argv);
/* A time as an analyst writes it, into Unix seconds: ISO 8601 (a date; a
 * time after T or a space, seconds and fraction optional; Z or +HH:MM,
 * UTC when none), "now", "today", "yesterday" (midnight UTC), or how long
 * ago ("30m", "2h", "7d", "2w").  0, or -1 when it is none of these. */
int cli_parse_time(const char *s, time_t now, time_t *out);
/* This process cannot be dumped or traced by others of its user. */
void cli_no_dump(void);
/* Once the capture is open, as a user other than root: every capability
 * (CAP_NET_RAW, CAP_NET_ADMIN a file gave) cleared for good, and the
 * process made undumpable again.  0, or -1 with err said. */
int cli_drop_capabilities(char *err, size_t errlen);

/* TLS buffers of all sessions together (handshakes, records to decrypt,
 * records waiting for a key): past it, a session's TLS is not read. */
#define CLI_TLS_BUDGET ((size_t)32 << 20)

/* Reads a key log (NSS format) into keys; -1 after saying why on stderr
 * (no such file, no line of it a key). */
struct tls_keyring;
int cli_load_keylog(struct tls_keyring *, const char *path);
/* Reads a server's RSA private key (PEM, unencrypted) into keys, for
 * sessions with RSA key exchange; -1 after saying why on stderr. */
int cli_load_tls_key(struct tls_keyring *, const char *path);
/* A key log followed as it grows (live --keylog): opened (and read) now,
 * before privileges are dropped; polled for what was appended. */
struct cli_keylog {
	const char	   *path;
	int		    fd;
	long long	    off;
	char		    part[1024]; /* a line still being written */
	size_t		    plen;
	size_t		    taken, bad;
	int		    waiting; /* not there yet: opened when it appears */
	struct tls_keyring *keys;
};
int cli_keylog_open(struct cli_keylog *, struct tls_keyring *, const char *path,
    int must_hold);
void cli_keylog_poll(struct cli_keylog *);
void cli_keylog_close(struct cli_keylog *);

/* Opens the log read-only for a query command; NULL after saying why
 * on stderr ("mailsift: LOG: no such log ..."). */
struct query *cli_open_log(const char *where);

/* Wall clock, Unix microseconds (capture_stats rows say wall time). */
uint64_t cli_wall_us(void);
/* A capture_stats row of the whole run from the capture layer's counts;
 * live adds the kernel's. */
struct store_interval cli_run_totals(uint64_t since_us, uint64_t until_us);

/* Writes the run's (run_id -1: every run's) sessions, messages and files
 * as Zeek-style JSON-lines logs into dir; -1 with err set on failure. */
int export_json(struct query *db, long run_id, const char *dir, char *err,
    size_t errlen);
/* live --json-dir: the sessions of ids_json (a JSON array of ids)
 * appended to DIR/<type>.log; at a rotation those become
 * DIR/<type>-STAMP.log. */
int  export_json_sessions(struct query *db, const char *ids_json,
     const char *dir, char *err, size_t errlen);
void export_json_rotate(const char *dir, const char *stamp);

#endif
