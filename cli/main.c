/* \summary: mailsift command line entry point */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* Every subcommand: its name, what runs it, its usage line(s). */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage; /* NULL: shares the line above */
} commands[] = {
	{ "read", cmd_read,
	    "read CAPTURE... [-o LOG.db] [--extract DIR] "
	    "[--replace] [--again] [--quiet]" },
	{ "live", cmd_live,
	    "live -i IFACE [-f BPF] [-o LOG.db] "
	    "[--extract DIR] [-w FILE]" },
	{ "search", cmd_search, "search QUERY [-d LOG.db] [-n LIMIT]" },
	{ "sessions", cmd_list,
	    "sessions|messages|creds|attachments|urls|tls|findings|hosts|files "
	    "[-d LOG.db] [filters]\n"
	    "                [--json | --csv | --wide] [--limit N]" },
	{ "messages", cmd_list, NULL },
	{ "creds", cmd_list, NULL },
	{ "attachments", cmd_list, NULL },
	{ "urls", cmd_list, NULL },
	{ "tls", cmd_list, NULL },
	{ "findings", cmd_list, NULL },
	{ "hosts", cmd_list, NULL },
	{ "files", cmd_list, NULL },
	{ "show", cmd_show,
	    "show SESSION [-d LOG.db] [--full] [--json | --csv]" },
	{ "stats", cmd_stats, "stats [-d LOG.db] [--json | --csv | --wide]" },
	{ "export", cmd_export, "export --json [-d LOG.db] -o DIR" },
	{ "serve", cmd_serve,
	    "serve [-d LOG.db] [--listen ADDR:PORT] [--token-file F] "
	    "[--no-creds]" },
	{ "extract", cmd_extract,
	    "extract MESSAGE... | --all [-d LOG.db] "
	    "-o DIR" },
	{ "case", cmd_case,
	    "case export -o BUNDLE [-d LOG.db] [--message N | --session N | "
	    "--search Q]... [--sign KEY]\n"
	    "       mailsift case verify BUNDLE [CAPTURE...] [--key PUB]" },
};

static void
usage(FILE *f)
{
	const char *lead = "usage:";

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].usage == NULL)
			continue;
		fprintf(f, "%-6s mailsift %s\n", lead, commands[i].usage);
		lead = "";
	}
	fprintf(f,
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
	/* what mailsift writes holds mail and credentials: its owner's
	 * alone, unless read or live --group-read says the group's too */
	umask(077);
	store_library_init();
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mailsift: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
