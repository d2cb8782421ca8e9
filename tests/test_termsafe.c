/*
 * test_termsafe.c - what reaches a terminal from the wire: controls, C1,
 * bidirectional overrides and bytes that are not UTF-8 come out as
 * visible escapes; printable text, accents and CJK pass unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/termsafe.h"

static void
expect(const char *in, const char *want)
{
	char *got = term_escape(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_escapes(void **state)
{
	(void)state;
	expect("plain text", "plain text");
	expect("caf\xc3\xa9 \xe4\xb8\xad", "caf\xc3\xa9 \xe4\xb8\xad");
	expect("\x1b]0;owned\x07", "\\x1b]0;owned\\x07");
	expect("\x1b[2Jgone", "\\x1b[2Jgone");
	expect("a\tb\r\nc", "a\\tb\\r\\nc");
	expect("del\x7f", "del\\x7f");
	expect("c1 \xc2\x9b"
	       "31m",
	    "c1 \\u009b31m");
	expect("invoice\xe2\x80\xae"
	       "fdp.exe",
	    "invoice\\u202efdp.exe");
	expect("\xe2\x81\xa6iso\xe2\x81\xa9", "\\u2066iso\\u2069");
	expect("bad \xff\xfe utf8", "bad \\xff\\xfe utf8");
	expect("overlong \xc0\xaf", "overlong \\xc0\\xaf");
	expect("cut \xe4\xb8", "cut \\xe4\\xb8");
	expect(NULL, "");
}

static void
test_keep_lines(void **state)
{
	char		 *out = NULL;
	size_t		  len = 0;
	FILE		 *f = open_memstream(&out, &len);
	static const char body[] = "line 1\r\nline\t2\n\x1b[2J\rover\r\n";

	(void)state;
	assert_non_null(f);
	term_write(f, body, sizeof(body) - 1, 1);
	fclose(f);
	assert_string_equal(out, "line 1\r\nline\t2\n\\x1b[2J\\rover\r\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_keep_lines),
	};

	return cmocka_run_group_tests_name("termsafe", tests, NULL, NULL);
}
