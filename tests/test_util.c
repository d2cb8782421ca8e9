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
#include "txtable.h"
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
	size_t	n;
	int	ok;

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

/* The open-message table: entries found by (flow, tx), one flow's on
 * one chain, each taken out once. */
static void
test_txtable(void **state)
{
	static struct md_txtable t;
	struct md_txnode	 e[6], **slot;
	size_t			 seen = 0;

	(void)state;
	for (int i = 0; i < 6; i++) {
		e[i].flow_id = (uint64_t)(i / 2 + 1); /* flows 1, 2, 3 */
		e[i].tx = (uint32_t)(i % 2 + 1);      /* tx 1 and 2 of each */
		slot = md_tx_slot(&t, e[i].flow_id, e[i].tx);
		assert_null(*slot);
		md_tx_insert(slot, &e[i]);
	}
	for (int i = 0; i < 6; i++)
		assert_ptr_equal(*md_tx_slot(&t, e[i].flow_id, e[i].tx), &e[i]);
	assert_null(*md_tx_slot(&t, 2, 3));
	for (struct md_txnode *n = *md_tx_chain(&t, 2); n != NULL; n = n->next)
		seen += n->flow_id == 2;
	assert_int_equal(seen, 2);
	assert_ptr_equal(md_tx_remove(md_tx_slot(&t, 2, 1)), &e[2]);
	assert_null(*md_tx_slot(&t, 2, 1));
	assert_ptr_equal(*md_tx_slot(&t, 2, 2), &e[3]);
	for (seen = 0; md_tx_pop_any(&t) != NULL; seen++)
		;
	assert_int_equal(seen, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ci),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_txtable),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
