/*
 * test_urls.c - the link finder (dissect/urls.c): bare URLs in text and
 * their edges, HTML attributes with entities, link text and the host it
 * shows, comments, script, references that are not links out, hosts in
 * punycode and in mixed scripts; and every document fed split at every
 * point, and a byte at a time, gives the same links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/urls.h"

/* The links found, one a line: kind|url|host|shown|findings|truncated */
struct found {
	char   out[16384];
	size_t n;
};

static void
collect(void *arg, const struct url_found *f)
{
	struct found *o = arg;
	int	      k = snprintf(o->out + o->n, sizeof(o->out) - o->n,
		      "%s|%.*s|%s|%s|%u|%d\n", f->mailto ? "mailto" : f->kind,
		      (int)f->len, f->url, f->host, f->shown, f->findings, f->truncated);

	if (k > 0 && o->n + (size_t)k < sizeof(o->out))
		o->n += (size_t)k;
}

/* The links of doc fed in pieces: at split (and the rest), or a byte at a
 * time with split 0. */
static void
scan(const char *doc, int html, size_t split, int bytewise, struct found *o)
{
	struct url_scan *s = malloc(sizeof(*s));
	size_t		 n = strlen(doc);

	assert_non_null(s);
	memset(o, 0, sizeof(*o));
	url_scan_init(s, html, collect, o);
	if (bytewise)
		for (size_t i = 0; i < n; i++)
			url_scan_feed(s, doc + i, 1);
	else {
		url_scan_feed(s, doc, split);
		url_scan_feed(s, doc + split, n - split);
	}
	url_scan_finish(s);
	free(s);
}

/* doc's links are want, however it is split. */
static void
expect(const char *doc, int html, const char *want)
{
	struct found whole, part;

	scan(doc, html, strlen(doc), 0, &whole);
	assert_string_equal(whole.out, want);
	for (size_t k = 0; k <= strlen(doc); k++) {
		scan(doc, html, k, 0, &part);
		assert_string_equal(part.out, want);
	}
	scan(doc, html, 0, 1, &part);
	assert_string_equal(part.out, want);
}

static void
test_text(void **state)
{
	(void)state;
	expect("see http://a.example/x, and (www.b.example/y). or "
	       "<https://c.example/z?q=1>\n",
	    0,
	    "text|http://a.example/x|a.example||0|0\n"
	    "text|www.b.example/y|www.b.example||0|0\n"
	    "text|https://c.example/z?q=1|c.example||0|0\n");
	/* a bracket the URL opened stays; user, port and case go from the
	 * host */
	expect(
	    "http://en.example/wiki/Foo_(bar) HTTP://U:P@Host.Example:8080/\n",
	    0,
	    "text|http://en.example/wiki/Foo_(bar)|en.example||0|0\n"
	    "text|HTTP://U:P@Host.Example:8080/|host.example||0|0\n");
	expect("mail MAILTO:Ann@Corp.Example?subject=x now", 0,
	    "mailto|MAILTO:Ann@Corp.Example?subject=x|corp.example||0|0\n");
	/* not URLs: a scheme inside a word, "www." alone, a bare host */
	expect("xhttp://no.example www. www.nodot example.com", 0, "");
	expect("ftp://[2001:db8::1]:21/pub", 0,
	    "text|ftp://[2001:db8::1]:21/pub|2001:db8::1||0|0\n");
}

static void
test_html(void **state)
{
	(void)state;
	expect("<p>Hi <A HREF=\"https://x.example/a?b=1&amp;c=2\">Log\n  in"
	       "</a> <img SRC='http://t.example/p.gif' width=1>"
	       "<form action=https://f.example/post></form></p>",
	    1,
	    "href|https://x.example/a?b=1&c=2|x.example|Log in|0|0\n"
	    "src|http://t.example/p.gif|t.example||0|0\n"
	    "action|https://f.example/post|f.example||0|0\n");
	/* comments, script and style hide; cid:, relative and fragment
	 * references are no links out; script: links are */
	expect(
	    "<!-- <a href=\"http://hidden.example/\">x</a> -->"
	    "<script>var u='http://js.example/';</script>"
	    "<img src=\"cid:logo\"><a href=\"/rel\">r</a><a href=\"#top\">t</a>"
	    "<a href=\"javascript:alert(1)\">c</a>",
	    1, "href|javascript:alert(1)||c|0|0\n");
	/* bare URLs in the text, outside links; entities end them */
	expect("<div>go to http://bare.example/p&nbsp;now &amp; "
	       "<a href=\"http://a.example/\">http://a.example/</a></div>",
	    1,
	    "text|http://bare.example/p|bare.example||0|0\n"
	    "href|http://a.example/|a.example|http://a.example/|0|0\n");
	/* an <a> left open ends at the next one, or at the end */
	expect(
	    "<a href=\"http://one.example/\">one<a href=\"http://two.example/\">two",
	    1,
	    "href|http://one.example/|one.example|one|0|0\n"
	    "href|http://two.example/|two.example|two|0|0\n");
	/* line breaks and tabs inside an attribute are dropped, as browsers
	 * do; spaces around trimmed */
	expect("<a href=\" http://s.example/a\n/b\t\">s</a>", 1,
	    "href|http://s.example/a/b|s.example|s|0|0\n");
}

static void
test_findings(void **state)
{
	(void)state;
	/* the text shows another host than the link goes to */
	expect("<a href=\"https://evil.example/\">www.bank.example</a>"
	       "<a href=\"https://www.bank.example/\">bank.example</a>"
	       "<a href=\"https://evil.example/\">click here</a>",
	    1,
	    "href|https://evil.example/|evil.example|www.bank.example|1|0\n"
	    "href|https://www.bank.example/|www.bank.example|bank.example|0|0\n"
	    "href|https://evil.example/|evil.example|click here|0|0\n");
	/* punycode: Cyrillic a in "paypal"; all-Cyrillic is not mixed */
	expect("http://xn--pypal-4ve.example/ http://xn--e1afmkfd.example/ "
	       "http://p\xd0\xb0ypal.example/ http://\xd0\xbf\xd1\x80.example/",
	    0,
	    "text|http://xn--pypal-4ve.example/|xn--pypal-4ve.example||6|0\n"
	    "text|http://xn--e1afmkfd.example/|xn--e1afmkfd.example||2|0\n"
	    "text|http://p\xd0\xb0ypal.example/|p\xd0\xb0ypal.example||4|0\n"
	    "text|http://\xd0\xbf\xd1\x80.example/|\xd0\xbf\xd1\x80.example||0|0\n");
	assert_int_equal(url_host_findings("xn--zz-"), URL_F_PUNYCODE);
	assert_int_equal(url_host_findings("xn--"), URL_F_PUNYCODE);
}

/* A URL longer than URL_MAX is cut and said; the state stays bounded. */
static void
test_long(void **state)
{
	static char  doc[3 * URL_MAX];
	struct found o;

	(void)state;
	memcpy(doc, "x http://long.example/", 22);
	memset(doc + 22, 'a', sizeof(doc) - 24);
	doc[sizeof(doc) - 2] = ' ';
	doc[sizeof(doc) - 1] = '\0';
	scan(doc, 0, 100, 0, &o);
	assert_non_null(strstr(o.out, "|long.example||0|1\n"));
	assert_int_equal(strchr(o.out, '|') - o.out, 4);
	/* "text|", the first URL_MAX bytes, "|long.example||0|1\n" */
	assert_int_equal(strlen(o.out), 5 + URL_MAX + 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests_name("urls", tests, NULL, NULL);
}
