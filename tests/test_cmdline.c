/*
 * test_cmdline.c - the command line a log records (runs.command) keeps
 * no password: not a URI's, not a conninfo keyword's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli.h"

/* The words joined as runs.command has them: want. */
static void
joined(const char *want, const char *words)
{
	char *copy = strdup(words), *argv[16], *save = NULL, *s;
	int   argc = 0;

	assert_non_null(copy);
	for (char *w = strtok_r(copy, " ", &save); w != NULL && argc < 16;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	s = cli_join_args(argc, argv);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	free(copy);
}

static void
test_secrets(void **state)
{
	(void)state;
	joined("read -o postgresql://alice:***@db.example:5432/mail x.pcap",
	    "read -o postgresql://alice:s3cr3t@db.example:5432/mail x.pcap");
	joined("live -o host=db password=***",
	    "live -o host=db password=s3cr3t");
	joined(
	    "-d postgresql://db/mail?user=alice&password=***&sslmode=require",
	    "-d postgresql://db/mail?user=alice&password=s3cr3t&sslmode=require");
	joined("read -o postgresql://alice@db/mail user:pass@not-a-uri",
	    "read -o postgresql://alice@db/mail user:pass@not-a-uri");
	joined("postgresql://db/mail?options=a:b@c",
	    "postgresql://db/mail?options=a:b@c");
	joined("read -o postgres://bob:***@db/mail",
	    "read -o postgres://bob:p%40ss@db/mail");
	joined("", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
