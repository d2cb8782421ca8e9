/*
 * test_bodynorm.c - the body form that links one message's copies: the
 * same for every split of the input, blind to added header fields and to
 * line ends, and absent when there is no body; and the header/body
 * boundary it shares with the DKIM canonicaliser, at every split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "store/analyse/bodynorm.h"
#include "store/analyse/hbsplit.h"

struct collected {
	char   buf[4096];
	size_t len;
};

static void
collect(void *arg, const uint8_t *p, size_t n)
{
	struct collected *c = arg;

	assert_true(c->len + n < sizeof(c->buf));
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

/* The body form of msg fed whole, and cut in two at every offset, and
 * one byte at a time: all the same.  Returns it (or "-" for none). */
static const char *
body_of(const char *msg)
{
	static char	 want[4096];
	size_t		 n = strlen(msg);
	struct collected c;
	struct body_norm bn;
	int		 has;

	memset(&c, 0, sizeof(c));
	body_norm_init(&bn, collect, &c);
	body_norm_feed(&bn, (const uint8_t *)msg, n);
	has = body_norm_finish(&bn);
	snprintf(want, sizeof(want), "%.*s", (int)c.len, c.buf);
	for (size_t cut = 0; cut <= n; cut++) {
		memset(&c, 0, sizeof(c));
		body_norm_init(&bn, collect, &c);
		body_norm_feed(&bn, (const uint8_t *)msg, cut);
		body_norm_feed(&bn, (const uint8_t *)msg + cut, n - cut);
		assert_int_equal(body_norm_finish(&bn), has);
		assert_int_equal(c.len, strlen(want));
		assert_memory_equal(c.buf, want, c.len);
	}
	memset(&c, 0, sizeof(c));
	body_norm_init(&bn, collect, &c);
	for (size_t i = 0; i < n; i++)
		body_norm_feed(&bn, (const uint8_t *)msg + i, 1);
	assert_int_equal(body_norm_finish(&bn), has);
	assert_memory_equal(c.buf, want, c.len);
	return has ? want : "-";
}

static void
test_body_after_header(void **state)
{
	(void)state;
	assert_string_equal(
	    body_of("Subject: a\r\nTo: b\r\n\r\nhello\r\nworld\r\n"),
	    "hello\nworld");
	/* relays add fields; stores end lines with LF; still the same */
	assert_string_equal(body_of(
				"Received: from x\r\n\tby y\r\nSubject: a\r\n"
				"\r\nhello\r\nworld\r\n"),
	    "hello\nworld");
	assert_string_equal(body_of("Subject: a\n\nhello\nworld\n"),
	    "hello\nworld");
	/* a final line end or none, or several: the same */
	assert_string_equal(body_of("S: a\r\n\r\nhello\r\nworld"),
	    "hello\nworld");
	assert_string_equal(body_of("S: a\r\n\r\nhello\r\nworld\r\n\r\n\r\n"),
	    "hello\nworld");
}

static void
test_inner_lines_kept(void **state)
{
	(void)state;
	/* empty lines inside the body and leading ones are content */
	assert_string_equal(body_of("S: a\r\n\r\n\r\nhello\r\n\r\nworld\r\n"),
	    "\nhello\n\nworld");
	/* a lone CR is content, not a line end */
	assert_string_equal(body_of("S: a\r\n\r\nx\ry\r\n"), "x\ry");
	/* an empty line right away: no header at all */
	assert_string_equal(body_of("\r\nbody only\r\n"), "body only");
}

static void
test_no_body(void **state)
{
	(void)state;
	assert_string_equal(body_of("Subject: a\r\nTo: b\r\n"), "-");
	assert_string_equal(body_of("Subject: a\r\n\r\n"), "-");
	assert_string_equal(body_of("Subject: a\r\n\r\n\r\n\r\n"), "-");
	assert_string_equal(body_of(""), "-");
	assert_string_equal(body_of("no header end at all"), "-");
}

/* Where the header of msg ends (bytes up to and with its empty line),
 * or -1 when it does not: the same whole, cut in two anywhere, and a
 * byte at a time. */
static long
header_len(const char *msg)
{
	size_t		n = strlen(msg);
	long		want = -1;
	struct hb_split h = { 0 };
	size_t		k = hb_split_feed(&h, (const uint8_t *)msg, n);

	if (hb_in_body(&h))
		want = (long)k;
	else
		assert_int_equal(k, n);
	for (size_t cut = 0; cut <= n; cut++) {
		struct hb_split s2 = { 0 };
		size_t a = hb_split_feed(&s2, (const uint8_t *)msg, cut);
		size_t b =
		    hb_split_feed(&s2, (const uint8_t *)msg + cut, n - cut);

		assert_int_equal(hb_in_body(&s2), want >= 0);
		if (want >= 0)
			assert_int_equal(a < cut ? a : a + b, (size_t)want);
	}
	{
		struct hb_split s1 = { 0 };
		size_t		i = 0;

		while (i < n && !hb_in_body(&s1))
			(void)hb_split_feed(&s1, (const uint8_t *)msg + i++, 1);
		assert_int_equal(hb_in_body(&s1), want >= 0);
		if (want >= 0)
			assert_int_equal(i, (size_t)want);
	}
	return want;
}

static void
test_header_ends_at_empty_line(void **state)
{
	(void)state;
	assert_int_equal(header_len("A: 1\r\nB: 2\r\n\r\nbody\r\n"), 14);
	assert_int_equal(header_len("A: 1\nB: 2\n\nbody\n"), 11);
	assert_int_equal(header_len("\r\nbody"), 2); /* no header at all */
	assert_int_equal(header_len("\nbody"), 1);
	assert_int_equal(header_len("A: 1\r\n\n"), 7); /* mixed line ends */
	assert_int_equal(header_len("A: 1\r\n"), -1);  /* no body yet */
	assert_int_equal(header_len(""), -1);
	/* a line of CRs is not empty: it holds a character (a lone CR) */
	assert_int_equal(header_len("A: 1\r\n\r\r\nB: 2\r\n\r\nx"), 17);
	/* a CR ending a piece, its LF in the next */
	assert_int_equal(header_len("A:\r\n\r"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_after_header),
		cmocka_unit_test(test_inner_lines_kept),
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_header_ends_at_empty_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
