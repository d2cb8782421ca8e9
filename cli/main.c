/* \summary: mailsift command line entry point */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift read CAPTURE... [-o LOG.db] [--extract DIR] "
	    "[--force] [--quiet]\n"
	    "       mailsift live -i IFACE [-f BPF] [-o LOG.db] [--extract DIR] "
	    "[-w FILE]\n"
	    "       mailsift search QUERY [-d LOG.db] [-n LIMIT]\n"
	    "       mailsift sessions|messages|creds|attachments [-d LOG.db] "
	    "[filters]\n"
	    "                [--json | --csv] [--limit N]\n"
	    "       mailsift show SESSION [-d LOG.db] [--full]\n"
	    "       mailsift stats [-d LOG.db] [--json | --csv]\n"
	    "       mailsift export --json [-d LOG.db] -o DIR\n"
	    "       mailsift extract MESSAGE... | --all [-d LOG.db] -o DIR\n"
	    "       mailsift --version | --help\n"
	    "\n"
	    "Reassembles SMTP, POP3 and IMAP sessions from pcap/pcapng "
	    "captures or a live\ninterface into a SQLite log, and searches "
	    "the messages in it.\n"
	    "Run 'mailsift COMMAND --help' for a command's options; "
	    "'man mailsift'.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mailsift %s\n", MAILSIFT_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "read") == 0)
		return cmd_read(argc - 1, argv + 1);
	if (strcmp(argv[1], "live") == 0)
		return cmd_live(argc - 1, argv + 1);
	if (strcmp(argv[1], "search") == 0)
		return cmd_search(argc - 1, argv + 1);
	if (strcmp(argv[1], "sessions") == 0 || strcmp(argv[1], "messages") == 0 ||
	    strcmp(argv[1], "creds") == 0 || strcmp(argv[1], "attachments") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "extract") == 0)
		return cmd_extract(argc - 1, argv + 1);
	fprintf(stderr, "mailsift: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
