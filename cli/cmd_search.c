/* \summary: mailsift search: full-text search of the messages in a log */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/search.h"
#include "cli/table.h"
#include "cli/termsafe.h"

static void
search_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift search QUERY [-d LOG.db] [-n LIMIT] [--json | --csv]\n"
	    "\n"
	    "Finds messages (pieces left out) by what QUERY says, every term "
	    "of it:\n"
	    "  words, \"a phrase\"   in the subject or the readable text "
	    "(text and HTML\n"
	    "                      parts), taken literally: user@example.com, "
	    "\"Re: Testing\"\n"
	    "  from:TEXT to:TEXT subject:TEXT msgid:TEXT user:TEXT\n"
	    "                      that field, case-blind: a part of it, or "
	    "with * or ?\n"
	    "                      a pattern of all of it (from:*@example.com)\n"
	    "  file:NAME           an attachment or a file in an archive\n"
	    "  url:TEXT            a link in the message\n"
	    "  sha256:HEX md5:HEX sha1:HEX  the message, a part or an "
	    "archived file\n"
	    "  ip:ADDR[/LEN]       either end of its session\n"
	    "  proto:smtp|pop3|imap\n"
	    "  after:TIME before:TIME  when it began (as --since takes it: "
	    "2024-01-31,\n"
	    "                      2024-01-31T17:00+02:00, 2h, 7d, yesterday)\n"
	    "  time:DAY time:A..B  a day (UTC), or a range with either end "
	    "open\n"
	    "Terms side by side must all hold; A OR B either, NOT A (or -A, "
	    "after --)\n"
	    "not, ( ) group them. Terms alone are ranked best first (the last "
	    "logged first\n"
	    "when their text matches more than 20000 messages, said); with "
	    "operators in\n"
	    "the log's order. A quote or parenthesis left open, an operator "
	    "with\n"
	    "nothing beside it or a value that is not one is said (exit 2).\n"
	    "\n"
	    "  -d, --db LOG.db     the log (default: mailsift.db)\n"
	    "  -n, --limit N       at most N messages, best first (default 50)\n"
	    "  --json, --csv       one object a line, or CSV (default: tab-"
	    "separated)\n");
}

/* Why the messages came the last logged first, not best first. */
static void
say_newest(FILE *f, const struct search_order *how)
{
	fprintf(f,
	    "mailsift search: the last logged first: the text matches more than %ld"
	    " messages, too many to rank (add words or fields)\n",
	    how->rank_max);
}

/* One line per message: tab-separated, so that it can be piped; or
 * JSON lines, or CSV. */
static int
print_hits(struct query *db, const char *query, long limit, enum out_format fmt)
{
	struct query_rows  *st;
	struct search_order how;
	char		    err[1200];
	int		    rc, n = 0;

	if ((st = search_prepare(db, query, limit, &how, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "mailsift search: %s\n", err);
		return EXIT_USAGE;
	}
	if (fmt == OUT_JSON || fmt == OUT_CSV) {
		n = table_print(st, fmt);
		query_finish(st);
		if (n < 0) {
			fprintf(stderr, "mailsift search: %s\n",
			    query_error(db));
			return EXIT_USAGE;
		}
		if (how.newest)
			say_newest(stderr, &how);
		return EXIT_OK;
	}
	printf("message\tsession\ttime\tproto\tmethod\tfrom\tsubject\tmatch\n");
	while ((rc = query_next(st)) == 1) {
		for (int c = 0; c < 8; c++) {
			const char *t = query_text(st, c);

			/* one line each, and nothing a terminal obeys */
			if (t != NULL)
				term_write(stdout, t, strlen(t), 0);
			putchar(c < 7 ? '\t' : '\n');
		}
		n++;
	}
	if (rc != 0) {
		fprintf(stderr, "mailsift search: %s\n", query_error(db));
		query_finish(st);
		return EXIT_USAGE;
	}
	query_finish(st);
	fprintf(stderr, "%d message%s\n", n, n == 1 ? "" : "s");
	if (how.newest)
		say_newest(stderr, &how);
	return EXIT_OK;
}

int
cmd_search(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char     *path = "mailsift.db";
	long		limit = 50;
	enum out_format fmt = OUT_TABLE;
	struct query   *db;
	char	       *end;
	int		c, rc;

	while ((c = getopt_long(argc, argv, "d:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			path = optarg;
			break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*end != '\0' || limit <= 0) {
				fprintf(stderr, "mailsift: bad limit '%s'\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			fmt = OUT_JSON;
			break;
		case 'c':
			fmt = OUT_CSV;
			break;
		case 'h':
			search_usage(stdout);
			return EXIT_OK;
		default:
			search_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		search_usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = cli_open_log(path)) == NULL)
		return EXIT_USAGE;
	rc = print_hits(db, argv[optind], limit, fmt);
	query_close(db);
	return rc;
}
