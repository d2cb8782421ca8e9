/*
 * test_line.c - the line framer: zero-copy and assembled lines, CRLF and
 * bare LF, the length cap, NUL bytes, end-of-stream flush; every input
 * also fed one byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/line.h"

/* Frames `in` fed in pieces of `piece` bytes into "text|flags;" records. */
static char *
frame(const char *in, size_t len, size_t piece, size_t max)
{
	struct line_buf lb;
	struct line	ln;
	static char	out[4096];
	size_t		o = 0, off = 0;

	line_init(&lb, max);
	while (off < len) {
		size_t	 n = len - off < piece ? len - off : piece;
		uint8_t *copy = malloc(n);
		size_t	 used = 0;

		memcpy(copy, in + off, n);
		while (used < n) {
			used += line_take(&lb, copy + used, n - used, &ln);
			if (ln.text.p != NULL)
				o += (size_t)snprintf(out + o, sizeof(out) - o,
				    "%.*s|%d;", (int)ln.text.len,
				    (const char *)ln.text.p, ln.flags);
		}
		free(copy);
		off += n;
	}
	if (line_flush(&lb, &ln))
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s|%d;",
		    (int)ln.text.len, (const char *)ln.text.p, ln.flags);
	line_free(&lb);
	out[o] = '\0';
	return out;
}

static void
check_all_pieces(const char *in, size_t len, size_t max, const char *want)
{
	for (size_t piece = 1; piece <= len; piece++)
		assert_string_equal(frame(in, len, piece, max), want);
}

static void
test_crlf_and_bare_lf(void **state)
{
	(void)state;
	check_all_pieces("HELO a\r\nNOOP\nQUIT\r\n", 19, 64,
	    "HELO a|0;NOOP|1;QUIT|0;");
}

static void
test_lone_cr_is_data(void **state)
{
	(void)state;
	check_all_pieces("a\rb\r\n\r\n", 7, 64, "a\rb|0;|0;");
}

static void
test_cap_truncates(void **state)
{
	(void)state;
	/* 10 bytes of text, cap 4: kept 4, flagged, next line intact */
	check_all_pieces("0123456789\r\nok\r\n", 16, 4, "0123|2;ok|0;");
	/* exactly at the cap, with its CR: not truncated */
	check_all_pieces("0123\r\n", 6, 4, "0123|0;");
	/* the cap falls between text and CR */
	check_all_pieces("01234\r\n", 7, 4, "0123|2;");
}

static void
test_nul_and_flush(void **state)
{
	(void)state;
	check_all_pieces("a\0b\r\ntail", 9, 64, "a|4;tail|8;");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlf_and_bare_lf),
		cmocka_unit_test(test_lone_cr_is_data),
		cmocka_unit_test(test_cap_truncates),
		cmocka_unit_test(test_nul_and_flush),
	};
	return cmocka_run_group_tests_name("line", tests, NULL, NULL);
}
