/* \summary: mailsift search: full-text search of the messages in a log */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "termsafe.h"

static void
search_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift search QUERY [-d LOG.db] [-n LIMIT]\n"
	    "\n"
	    "Finds messages whose subject or readable text (text/plain and\n"
	    "text/html parts, HTML stripped) match QUERY.  In a SQLite log\n"
	    "QUERY is FTS5's: words, \"phrases\", AND, OR, NOT, prefix*,\n"
	    "subject:word; in PostgreSQL, websearch's: words, \"phrases\",\n"
	    "OR, -word.\n"
	    "\n"
	    "  -d, --db LOG.db     the log (default: mailsift.db)\n"
	    "  -n, --limit N       at most N messages, best first (default 50)\n");
}

/* One line per message: tab-separated, so that it can be piped. */
static int
print_hits(struct query *db, const char *query, long limit)
{
	struct query_rows *st;
	int		   rc, n = 0;

	if ((st = query_prepare(db, query_search_sql(db))) == NULL) {
		fprintf(stderr, "mailsift: %s (is this a mailsift log?)\n",
		    query_error(db));
		return EXIT_USAGE;
	}
	query_bind_text(st, 1, query);
	query_bind_int(st, 2, limit);
	printf("message\ttime\tproto\tmethod\tfrom\tsubject\tmatch\n");
	while ((rc = query_next(st)) == 1) {
		for (int c = 0; c < 7; c++) {
			const char *t = query_text(st, c);

			/* one line each, and nothing a terminal obeys */
			if (t != NULL)
				term_write(stdout, t, strlen(t), 0);
			putchar(c < 6 ? '\t' : '\n');
		}
		n++;
	}
	if (rc != 0) {
		fprintf(stderr, "mailsift: search: %s\n", query_error(db));
		query_finish(st);
		return EXIT_USAGE;
	}
	query_finish(st);
	fprintf(stderr, "%d message%s\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}

int
cmd_search(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char   *path = "mailsift.db";
	long	      limit = 50;
	struct query *db;
	char	     *end;
	int	      c, rc;

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
	rc = print_hits(db, argv[optind], limit);
	query_close(db);
	return rc;
}
