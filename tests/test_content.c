/*
 * test_content.c - what store/analyse/content.c decides without libmagic's I/O:
 * which disagreements between a part's type by content, its declared
 * type and its name are findings; which first bytes are an archive's;
 * which words of a text may be an archive's password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/analyse/content.h"

static void
test_findings(void **state)
{
	(void)state;
	/* the classic: an executable named and declared a PDF */
	assert_int_equal(
	    content_findings("application/vnd.microsoft.portable-executable",
		"application/pdf", "invoice.pdf"),
	    CF_EXECUTABLE | CF_EXT_MISMATCH | CF_TYPE_MISMATCH);
	/* ... named what it is, sent as octet-stream: nothing to say */
	assert_int_equal(content_findings("application/x-dosexec",
			     "application/octet-stream", "setup.exe"),
	    0);
	/* an ELF with no name, declared as text */
	assert_int_equal(
	    content_findings("application/x-executable", "text/plain", ""),
	    CF_EXECUTABLE | CF_TYPE_MISMATCH);
	/* names for one format agree: a .docx is a zip, x- and vnd. aside */
	assert_int_equal(content_findings("application/zip",
			     "application/vnd.openxmlformats-officedocument."
			     "wordprocessingml.document",
			     "report.docx"),
	    0);
	assert_int_equal(content_findings("application/vnd.ms-tnef",
			     "application/ms-tnef", "winmail.dat"),
	    0);
	assert_int_equal(content_findings("application/CDFV2",
			     "application/msword", "a.DOC"),
	    0);
	/* text has no magic number: a .csv that is text is what it says */
	assert_int_equal(
	    content_findings("text/plain", "application/pdf", "x.pdf"), 0);
	/* an image named .pdf */
	assert_int_equal(
	    content_findings("image/png", "application/pdf", "scan.pdf"),
	    CF_EXT_MISMATCH | CF_TYPE_MISMATCH);
	/* content says nothing: no finding */
	assert_int_equal(content_findings("application/octet-stream",
			     "application/pdf", "x.pdf"),
	    0);
}

static void
test_is_archive(void **state)
{
	static unsigned char tar[512];

	(void)state;
	assert_true(content_is_archive((const unsigned char *)"PK\3\4xx", 6));
	assert_true(content_is_archive(
	    (const unsigned char *)"7z\xbc\xaf\x27\x1c\0\4", 8));
	assert_true(
	    content_is_archive((const unsigned char *)"Rar!\x1a\x07\1", 7));
	assert_true(
	    content_is_archive((const unsigned char *)"\x1f\x8b\x08", 3));
	assert_false(content_is_archive((const unsigned char *)"PK", 2));
	assert_false(content_is_archive((const unsigned char *)"%PDF-1.7", 8));
	memcpy(tar + 257, "ustar", 5);
	assert_true(content_is_archive(tar, sizeof(tar)));
	assert_false(content_is_archive(tar, 261));
}

/* The candidates found in text, joined by "|". */
static const char *
candidates(const char *text)
{
	static char	   out[1024];
	struct content_job j;

	memset(&j, 0, sizeof(j));
	content_passwords(&j, text, strlen(text));
	out[0] = '\0';
	for (int i = 0; i < j.npasswords; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? "|" : "", j.passwords[i]);
	return out;
}

static void
test_passwords(void **state)
{
	(void)state;
	assert_string_equal(
	    candidates("The archive password is: Tr0ub4dor&3\n"),
	    "Tr0ub4dor&3");
	assert_string_equal(candidates("Password: \"s3cr3t!\" (keep it)"),
	    "s3cr3t!");
	assert_string_equal(candidates("Das Passwort lautet - x\nPW:abc."),
	    "lautet|abc.|abc");
	/* a word that only begins like one is none */
	assert_string_equal(candidates("passenger list, bypass it"), "");
	/* bounded: never more than CONTENT_PASSWORDS */
	{
		char text[4096] = "";

		for (int i = 0; i < 40; i++)
			strcat(text, "pw: abcdefgh ");
		content_passwords(&(struct content_job) { 0 }, text,
		    strlen(text));
		assert_int_equal(strlen(candidates(text)),
		    CONTENT_PASSWORDS * 9 - 1);
	}
}

/* A message's own text typed without libmagic: HTML by how it begins
 * (WHATWG's patterns), text when it reads as text, and nothing said
 * (libmagic must look) when it does not. */
static void
test_text_type(void **state)
{
	static const struct {
		const char *bytes;
		size_t	    n;
		const char *want;
	} cases[] = {
		{ "Dear customer,\r\nyour invoice.\r\n", 0, "text/plain" },
		{ "Gr\xc3\xbc\xc3\x9f"
		  "e aus K\xc3\xb6ln\r\n",
		    0, "text/plain" },
		{ "\x1b$B$3$s$K$A$O\x1b(B\r\n", 0,
		    "text/plain" }, /* ISO-2022-JP */
		{ "<html><body>hi</body></html>", 0, "text/html" },
		{ "\r\n  <!DOCTYPE html>\n<html>", 0, "text/html" },
		{ " <div> <div>http://x.example/</div>", 0, "text/html" },
		{ "<p>one</p>", 0, "text/html" },
		{ "<!-- a comment -->", 0, "text/html" },
		{ "<pre>not a start tag of the list</pre>", 0, "text/plain" },
		{ "<bogus>", 0, "text/plain" },
		{ "<a", 0, "text/plain" }, /* no tag end: not the pattern */
		{ "MZ\x90\0\3\0\0\0", 8, NULL },    /* an executable */
		{ "%PDF-1.7\n\x01\x02", 11, NULL }, /* control bytes */
		{ "text\x7f", 0, NULL },
		{ "", 0, "text/plain" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t n = cases[i].n ? cases[i].n : strlen(cases[i].bytes);
		const char *got =
		    content_text_type((const unsigned char *)cases[i].bytes, n);

		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_type),
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_is_archive),
		cmocka_unit_test(test_passwords),
	};

	return cmocka_run_group_tests_name("content", tests, NULL, NULL);
}
