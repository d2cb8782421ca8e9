/*
 * test_util.c - wire-byte helpers: case-folded compares and SASL base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dissect.h"
#include "util.h"

#define B(s) (const uint8_t *)(s), strlen(s)

static void
test_ci(void **state)
{
	(void)state;
	assert_true(md_ci_prefix(B("mail from:<a>"), "MAIL FROM:"));
	assert_false(md_ci_prefix(B("MAI"), "MAIL"));
	assert_true(md_ci_equal(B("StartTLS"), "STARTTLS"));
	assert_false(md_ci_equal(B("STARTTLSX"), "STARTTLS"));
	assert_false(md_ci_equal(B("START"), "STARTTLS"));
}

static void
test_b64(void **state)
{
	uint8_t out[64];
	size_t n;
	int ok;

	(void)state;
	n = md_b64_decode(B("AGFsaWNlAHMzY3JldA=="), out, sizeof(out), &ok);
	assert_true(ok);
	assert_int_equal(n, 13);
	assert_memory_equal(out, "\0alice\0s3cret", 13);
	n = md_b64_decode(B("dXNlcg"), out, sizeof(out), &ok); /* no padding */
	assert_true(ok);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "user", 4);
	n = md_b64_decode(B("dXN!cg=="), out, sizeof(out), &ok);
	assert_false(ok);
	n = md_b64_decode(B("dXNlcg=="), out, 2, &ok); /* output capped */
	assert_int_equal(n, 2);
	n = md_b64_decode(B("=dXN"), out, sizeof(out), &ok); /* pad first */
	assert_false(ok);
	(void)n;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ci),
		cmocka_unit_test(test_b64),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
