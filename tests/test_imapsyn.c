/*
 * test_imapsyn.c - IMAP syntax on one logical line: the cursor (atoms,
 * quoted strings, kept literals, lists), literal announcements, the FETCH
 * item a literal answers, status words.  Each input is copied to an
 * exact-size heap block so that ASan sees any read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/imapsyn.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t *
copy(const char *s, size_t *n)
{
	uint8_t *p;

	*n = strlen(s);
	if ((p = malloc(*n ? *n : 1)) == NULL)
		abort();
	memcpy(p, s, *n);
	return p;
}

static void
cursor_on(struct imap_cur *c, const uint8_t *p, size_t n)
{
	imap_cur_init(c, p, n, 0, NULL, 0, NULL);
}

static void
test_astring(void **state)
{
	uint8_t		out[32];
	struct imap_cur c;
	size_t		n;
	uint8_t	       *p =
	    copy("a1 LOGIN alice \"s3 \\\"cr\\\\et\" \"unterminated", &n);
	long l;

	(void)state;
	cursor_on(&c, p, n);
	assert_int_equal(imap_cur_astring(&c, out, sizeof(out)), 2);
	assert_memory_equal(out, "a1", 2);
	assert_int_equal(imap_cur_astring(&c, out, sizeof(out)), 5);
	l = imap_cur_astring(&c, out, sizeof(out));
	assert_int_equal(l, 5);
	assert_memory_equal(out, "alice", 5);
	l = imap_cur_astring(&c, out, sizeof(out));
	assert_int_equal(l, 9); /* quotes and backslashes undone */
	assert_memory_equal(out, "s3 \"cr\\et", 9);
	l = imap_cur_astring(&c, out, 4); /* cut to the buffer, line ends */
	assert_int_equal(l, 4);
	assert_int_equal(imap_cur_astring(&c, out, sizeof(out)), -1);
	free(p);
}

/* A literal is read as the bytes kept of it, wherever they are kept. */
static void
test_literal_kept(void **state)
{
	static const uint8_t keep[] = "xxsecret";
	struct imap_lit	     lits[] = { { 12, 2, 6, 6 } };
	struct imap_cur	     c;
	uint8_t		     out[16];
	size_t		     n;
	uint8_t		    *p = copy("a LOGIN bob {6} done", &n);

	(void)state;
	imap_cur_init(&c, p, n, 0, lits, 1, keep);
	(void)imap_cur_atom(&c);
	(void)imap_cur_atom(&c);
	(void)imap_cur_atom(&c);
	assert_int_equal(imap_cur_astring(&c, out, sizeof(out)), 6);
	assert_memory_equal(out, "secret", 6);
	assert_int_equal(imap_cur_astring(&c, out, sizeof(out)), 4);
	/* an announcement with no literal behind it reads as empty */
	lits[0].off = 0;
	imap_cur_init(&c, p, n, 12, lits, 1, keep);
	assert_int_equal(imap_cur_astring(&c, out, sizeof(out)), 0);
	free(p);
}

static void
test_atom_paren(void **state)
{
	struct imap_cur c;
	struct md_bytes b;
	size_t		n;
	uint8_t *p = copy("* 3 FETCH (FLAGS (\\Seen (x)) UID 7) (open", &n);

	(void)state;
	cursor_on(&c, p, n);
	b = imap_cur_atom(&c);
	assert_int_equal(b.len, 1);
	b = imap_cur_atom(&c);
	assert_memory_equal(b.p, "3", 1);
	b = imap_cur_atom(&c);
	assert_int_equal(b.len, 5);
	b = imap_cur_paren(&c);
	assert_int_equal(b.len, strlen("(FLAGS (\\Seen (x)) UID 7)"));
	b = imap_cur_paren(&c); /* unclosed: to the end */
	assert_int_equal(b.len, 5);
	assert_int_equal(imap_cur_paren(&c).len, 0);
	free(p);
}

static void
test_fetch_name(void **state)
{
	struct imap_cur c;
	struct md_bytes b;
	size_t		n;
	uint8_t *p = copy("BODY[HEADER.FIELDS (TO FROM)]<0> {12} UID 4)", &n);

	(void)state;
	cursor_on(&c, p, n);
	b = imap_fetch_name(&c);
	assert_int_equal(b.len, strlen("BODY[HEADER.FIELDS (TO FROM)]<0>"));
	imap_skip_value(&c);
	b = imap_fetch_name(&c);
	assert_memory_equal(b.p, "UID", 3);
	free(p);
}

static void
test_number(void **state)
{
	int ok;

	(void)state;
	assert_int_equal(
	    imap_number((struct md_bytes) { (const uint8_t *)"42", 2 }, &ok),
	    42);
	assert_true(ok);
	(void)imap_number((struct md_bytes) { (const uint8_t *)"4x", 2 }, &ok);
	assert_false(ok);
	(void)imap_number((struct md_bytes) { NULL, 0 }, &ok);
	assert_false(ok);
}

static void
test_literal_announced(void **state)
{
	static const struct {
		const char *text;
		int	    r, sync;
		uint64_t    len;
		size_t	    start;
	} cases[] = {
		{ "a APPEND box {310}", 1, 1, 310, 13 },
		{ "a APPEND box {310+}", 1, 0, 310, 13 },
		{ "a APPEND box {0-}", 1, 0, 0, 13 },
		{ "* 1 FETCH (BINARY[1] ~{5}", 1, 1, 5, 21 },
		{ "{7}", 1, 1, 7, 0 },
		{ "a LOGIN {}", 0, 0, 0, 0 },
		{ "a LOGIN {x}", 0, 0, 0, 0 },
		{ "a LOGIN 5}", 0, 0, 0, 0 },
		{ "}", 0, 0, 0, 0 },
		{ "a {4294967296}", -1, 1, 0, 2 },
		{ "a {99999999999999999999999}", -1, 1, 0, 2 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		uint64_t len = 0;
		int	 sync = -1;
		size_t	 start = 99, n;
		uint8_t *p = copy(cases[i].text, &n);
		int	 r = imap_literal_announced(p, n, &len, &sync, &start);

		assert_int_equal(r, cases[i].r);
		if (r != 0) {
			assert_int_equal(sync, cases[i].sync);
			assert_int_equal(start, cases[i].start);
		}
		if (r == 1)
			assert_int_equal(len, cases[i].len);
		free(p);
	}
}

static void
test_fetch_item(void **state)
{
	static const struct {
		const char *text; /* the literal starts at its end */
		int	    r, partial;
		const char *section;
	} cases[] = {
		{ "* 1 FETCH (BODY[] ", 1, 0, "" },
		{ "* 1 FETCH (UID 3 BODY[]<0> ", 1, 1, "<0>" },
		{ "* 1 FETCH (BODY[HEADER] ", 1, 1, "HEADER" },
		{ "* 1 FETCH (BODY[1.2.MIME] ", 1, 1, "1.2.MIME" },
		{ "* 1 FETCH (BINARY[2] ", 1, 1, "2" },
		{ "* 1 FETCH (BODY.PEEK[TEXT]<1024> ", 1, 1, "TEXT<1024>" },
		{ "* 1 FETCH (RFC822 ", 1, 0, "" },
		{ "* 1 FETCH (RFC822.HEADER ", 1, 1, "HEADER" },
		{ "* 1 FETCH (RFC822.TEXT ", 1, 1, "TEXT" },
		{ "* 1 FETCH (ENVELOPE (\"x\" ", 0, 0, "" },
		{ "* 1 FETCH (X-GM-LABELS[x] ", 0, 0, "" },
		{ "]", 0, 0, "" },
		{ "", 0, 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct imap_section sec;
		size_t		    n;
		uint8_t		   *p = copy(cases[i].text, &n);
		int		    r = imap_fetch_item(p, n, &sec);

		assert_int_equal(r, cases[i].r);
		if (r) {
			assert_int_equal(sec.partial, cases[i].partial);
			assert_int_equal(sec.len, strlen(cases[i].section));
			assert_memory_equal(sec.text, cases[i].section,
			    sec.len);
		}
		free(p);
	}
}

/* A section longer than the cap is cut, never overrun. */
static void
test_fetch_item_long(void **state)
{
	char		    text[600];
	struct imap_section sec;
	size_t		    n;
	uint8_t		   *p;

	(void)state;
	memset(text, 0, sizeof(text));
	strcpy(text, "* 1 FETCH (BODY[");
	memset(text + strlen(text), '1', 300);
	strcat(text, "]<");
	memset(text + strlen(text), '9', 200);
	strcat(text, "> ");
	p = copy(text, &n);
	assert_int_equal(imap_fetch_item(p, n, &sec), 1);
	assert_int_equal(sec.len, IMAP_SECTION_MAX);
	free(p);
}

static void
test_status(void **state)
{
	static const struct {
		const char    *word;
		enum md_status st;
	} cases[] = {
		{ "OK", MD_ST_OK },
		{ "ok", MD_ST_OK },
		{ "PREAUTH", MD_ST_OK },
		{ "NO", MD_ST_NO },
		{ "BAD", MD_ST_BAD },
		{ "BYE", MD_ST_BYE },
		{ "OKAY", MD_ST_NONE },
		{ "", MD_ST_NONE },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(imap_status_of((struct md_bytes) {
				     (const uint8_t *)cases[i].word,
				     strlen(cases[i].word) }),
		    cases[i].st);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_astring),
		cmocka_unit_test(test_literal_kept),
		cmocka_unit_test(test_atom_paren),
		cmocka_unit_test(test_fetch_name),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_literal_announced),
		cmocka_unit_test(test_fetch_item),
		cmocka_unit_test(test_fetch_item_long),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests_name("imapsyn", tests, NULL, NULL);
}
