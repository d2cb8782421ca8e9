/*
 * test_util.c - wire-byte helpers: case-folded compares and SASL base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/dissect.h"
#include "dissect/txtable.h"
#include "dissect/util.h"

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
/* What md_b64_run must do, a quantum at a time. */
static size_t
b64_run_naive(const uint8_t *p, size_t n, uint8_t *out, size_t room,
    size_t *made)
{
	size_t i = 0, o = 0;

	while (i + 4 <= n && o + 3 <= room) {
		int v[4];

		for (int k = 0; k < 4; k++)
			v[k] = md_b64_value(p[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			break;
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		out[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		out[o++] = (uint8_t)(v[2] << 6 | v[3]);
		i += 4;
	}
	*made = o;
	return i;
}

/*
 * md_b64_run (16 digits a step where the CPU allows) against the naive
 * decoder: every alphabet byte, runs broken by line ends, "=", bytes
 * past 127 and NULs at every place, every room size near the edges.
 */
static void
test_b64_run(void **state)
{
	static const char    alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static const uint8_t breakers[] = { '\r', '\n', '=', ' ', 0x80, 0xff, 0,
		'-', '.', ':', '@', '[', '`', '{' };
	uint8_t		     in[200], want[160], got[160];
	uint32_t	     seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 200), room, wm, gm, wu, gu;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (uint8_t)alphabet[(seed >> 16) % 64];
		}
		if (n > 0 && round % 3 != 0) { /* one byte that is no digit */
			seed = seed * 1103515245u + 12345u;
			in[(seed >> 8) % n] =
			    breakers[(seed >> 20) % sizeof(breakers)];
		}
		room = round % 5 == 0 ? (size_t)(round / 5) % 160 : 160;
		memset(want, 0xaa, sizeof(want));
		memset(got, 0xaa, sizeof(got));
		wu = b64_run_naive(in, n, want, room, &wm);
		gu = md_b64_run(in, n, got, room, &gm);
		assert_int_equal(gu, wu);
		assert_int_equal(gm, wm);
		assert_memory_equal(got, want, wm);
		for (size_t k = room; k < sizeof(got);
		     k++) /* nothing past room */
			assert_int_equal(got[k], 0xaa);
	}
}

/* Bits to their names: in order, comma-separated, a name that would not
 * fit left out whole. */
static void
test_flag_names(void **state)
{
	static const char *const names[] = { "one", "two", "three" };
	char			 b[16];

	(void)state;
	assert_string_equal(md_flag_names(0, names, 3, b, sizeof(b)), "");
	assert_string_equal(md_flag_names(5, names, 3, b, sizeof(b)),
	    "one,three");
	assert_string_equal(md_flag_names(7, names, 3, b, 9), "one,two");
	assert_string_equal(md_flag_names(8, names, 3, b, sizeof(b)), "");
}

static size_t
public_of(const char *verb, const char *args, int digests)
{
	return md_args_public((const uint8_t *)verb, strlen(verb),
	    (const uint8_t *)args, strlen(args), digests);
}

/* What of a command's arguments logs no one in. */
static void
test_args_public(void **state)
{
	(void)state;
	assert_int_equal(public_of("PASS", "hunter2", 0), 0);
	assert_int_equal(public_of("pass", "hunter2", 1), 0);
	assert_int_equal(public_of("AUTH", "PLAIN AGVyaW4AcGFzc3dvcmQx", 0), 5);
	assert_int_equal(public_of("AUTH", "LOGIN", 0), 5);
	assert_int_equal(public_of("AUTHENTICATE", "PLAIN", 0), 5);
	assert_int_equal(public_of("LOGIN", "alice secret", 0), 5);
	assert_int_equal(public_of("LOGIN", "\"al \\\" ice\" \"pw\"", 0), 11);
	assert_int_equal(public_of("LOGIN", "\"unterminated", 0), 13);
	assert_int_equal(public_of("APOP", "alice c748d0442695aad9", 0), 22);
	assert_int_equal(public_of("APOP", "alice c748d0442695aad9", 1), 5);
	assert_int_equal(public_of("USER", "alice", 1), 5);
	assert_int_equal(public_of("MAIL", "FROM:<a@b>", 1), 10);
}

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
		cmocka_unit_test(test_b64_run),
		cmocka_unit_test(test_flag_names),
		cmocka_unit_test(test_args_public),
		cmocka_unit_test(test_txtable),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
