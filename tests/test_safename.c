/*
 * test_safename.c - attachment names chosen by a hostile sender must
 * never leave the extraction folder, name a device, hide, or overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "store/safename.h"

static const char *
safe(const char *name)
{
	static char out[SAFE_NAME_MAX + 8];

	safe_name(name, "part-2", out, sizeof(out));
	return out;
}

static void
test_hostile(void **state)
{
	char longname[400], v[SAFE_NAME_MAX + 24];

	(void)state;
	assert_string_equal(safe("invoice.pdf"), "invoice.pdf");
	assert_string_equal(safe("../../etc/passwd"), "passwd");
	assert_string_equal(safe("/etc/shadow"), "shadow");
	assert_string_equal(safe("..\\..\\windows\\system32\\evil.dll"),
	    "evil.dll");
	assert_string_equal(safe("a/b/c/d"), "d"); /* "/" from RFC 2231 */
	assert_string_equal(safe(".."), "part-2");
	assert_string_equal(safe("../"), "part-2");
	assert_string_equal(safe(""), "part-2");
	{ /* a fallback that is a part's path is one name too */
		char out[64];

		safe_name("", "part-2/1", out, sizeof(out));
		assert_string_equal(out, "part-2.1");
	}
	assert_string_equal(safe(".bashrc"), "bashrc");
	assert_string_equal(safe("CON"), "_CON");
	assert_string_equal(safe("nul.txt"), "_nul.txt");
	assert_string_equal(safe("com1.doc"), "_com1.doc");
	assert_string_equal(safe("console.log"), "console.log");
	assert_string_equal(safe("a\x01"
				 "b\r\nc.txt"),
	    "abc.txt");
	assert_string_equal(safe("what?<is>:this*.txt"), "what__is__this_.txt");
	assert_string_equal(safe("trailing. . "), "trailing");
	memset(longname, 'x', 300);
	memcpy(longname + 300, ".pdf", 5);
	assert_int_equal(strlen(safe(longname)), SAFE_NAME_MAX);
	assert_string_equal(safe(longname) + SAFE_NAME_MAX - 4, ".pdf");
	/* a cut never splits a UTF-8 sequence */
	for (int i = 0; i < 150; i++)
		memcpy(longname + 2 * i, "\xc3\xa9", 2);
	longname[300] = '\0';
	assert_true(strlen(safe(longname)) <= SAFE_NAME_MAX);
	assert_int_equal(strlen(safe(longname)) % 2, 0);
	/* what reorders or hides what a name shows, and what is not UTF-8 */
	assert_string_equal(safe("invoice\xe2\x80\xae"
				 "gnp.exe"),
	    "invoicegnp.exe");
	assert_string_equal(safe("a\xe2\x81\xa6"
				 "b\xe2\x81\xa9"
				 "c\xe2\x80\x8f.txt"),
	    "abc.txt");
	assert_string_equal(safe("zero\xe2\x80\x8bwidth\xef\xbb\xbf.pdf"),
	    "zerowidth.pdf");
	assert_string_equal(safe("c1\xc2\x85\xc2\x9b.txt"), "c1.txt");
	assert_string_equal(safe("latin\xe9.txt"), "latin_.txt");
	assert_string_equal(safe("surrogate\xed\xa0\x80.txt"),
	    "surrogate___.txt");
	assert_string_equal(safe("r\xc3\xa9sum\xc3\xa9.pdf"),
	    "r\xc3\xa9sum\xc3\xa9.pdf");
	safe_name_variant("report.pdf", 2, v, sizeof(v));
	assert_string_equal(v, "report-2.pdf");
	safe_name_variant("README", 3, v, sizeof(v));
	assert_string_equal(v, "README-3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests_name("safename", tests, NULL, NULL);
}
