/*
 * cli.h - subcommands of the mailsift command line.
 */
#ifndef MAILSIFT_CLI_H
#define MAILSIFT_CLI_H

/* Exit statuses shared by every subcommand. */
#define EXIT_OK	     0
#define EXIT_PARTIAL 1 /* input partly unreadable; what was read is kept */
#define EXIT_USAGE   2
#define EXIT_NO_MEMORY 3 /* libnids ran out of memory; the log is closed */

int cmd_read(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_list(int argc, char **argv);  /* sessions, messages, creds, attachments */
int cmd_stats(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_extract(int argc, char **argv);

int cli_number_arg(const char *cmd, const char *opt, const char *arg,
    long lo, long hi, long *out);

#include <sqlite3.h>
#include <stddef.h>
int export_json(sqlite3 *db, long run_id, const char *dir, char *err,
    size_t errlen);

#endif
