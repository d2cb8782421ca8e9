/*
 * test_msgauth.c - store/analyse/msgauth.c: the DKIM body canonicalisations of
 * RFC 6376 3.4.5's example (and empty bodies, bare line ends, l=), fed
 * cut at every point; DKIM-Signature, Authentication-Results, ARC and
 * Received-SPF fields as real servers write them; the signs of
 * impersonation and look-alike domains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/analyse/msgauth.h"

struct out {
	char   b[1024];
	size_t n;
};

static void
collect(void *arg, const uint8_t *p, size_t n)
{
	struct out *o = arg;

	assert_true(o->n + n < sizeof(o->b));
	memcpy(o->b + o->n, p, n);
	o->n += n;
	o->b[o->n] = '\0';
}

/* msg canonicalised with c and l, cut at every point: always want. */
static void
canon(const char *msg, const char *c, long l, const char *want)
{
	size_t n = strlen(msg);

	for (size_t k = 0; k <= n; k++) {
		struct dkim_canon dc;
		struct out	  o = { "", 0 };

		dkim_canon_init(&dc, c, l, collect, &o);
		dkim_canon_feed(&dc, (const uint8_t *)msg, k);
		dkim_canon_feed(&dc, (const uint8_t *)msg + k, n - k);
		dkim_canon_finish(&dc);
		assert_string_equal(o.b, want);
	}
}

static void
test_canon(void **state)
{
	/* RFC 6376 3.4.5 */
	static const char ex[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n"
				 " C \r\nD \t E\r\n\r\n\r\n";

	(void)state;
	canon(ex, "relaxed/relaxed", -1, " C\r\nD E\r\n");
	canon(ex, "simple/simple", -1, " C \r\nD \t E\r\n");
	canon(ex, NULL, -1, " C \r\nD \t E\r\n");      /* c= absent: simple */
	canon(ex, "relaxed", -1, " C \r\nD \t E\r\n"); /* header's only */
	/* empty bodies: simple is one CRLF, relaxed nothing */
	canon("A: X\r\n\r\n", "simple/simple", -1, "\r\n");
	canon("A: X\r\n\r\n\r\n\r\n", "relaxed/relaxed", -1, "");
	/* a last line without its CRLF gets one; bare LF ends lines */
	canon("A: X\n\nab\ncd", "simple/simple", -1, "ab\r\ncd\r\n");
	/* l= counts canonical bytes */
	canon(ex, "relaxed/relaxed", 4, " C\r\n");
	/* empty lines inside stay */
	canon("A: X\r\n\r\na\r\n\r\n  \r\nb\r\n", "relaxed/relaxed", -1,
	    "a\r\n\r\n\r\nb\r\n");
}

static char got[8192];

static void
row(void *arg, const struct auth_row *r)
{
	(void)arg;
	snprintf(got + strlen(got), sizeof(got) - strlen(got),
	    "%s|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s|%ld|%s\n", r->kind, r->instance,
	    r->authserv, r->method, r->result, r->domain, r->selector,
	    r->algorithm, r->canon, r->headers, r->body_hash, r->body_length,
	    r->detail);
}

static const char *
fields(const char *name, const char *value)
{
	got[0] = '\0';
	assert_true(msgauth_field(name, value, strlen(value), row, NULL));
	return got;
}

static void
test_fields(void **state)
{
	(void)state;
	assert_string_equal(
	    fields("dkim-signature",
		"v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM;\r\n"
		" s=s1; l=120; h=From : To:\r\n Subject; bh=2jUSO\r\n H9Nh=;"
		" b=AAA\r\n BBB"),
	    "dkim-signature|0||dkim||example.com|s1|rsa-sha256|"
	    "relaxed/simple|From:To:Subject|2jUSOH9Nh=|120|\n");
	/* Gmail's, with comments and a quoted property */
	assert_string_equal(
	    fields("Authentication-Results",
		"mx.google.com;\r\n       dkim=pass header.i=@example.com"
		" header.s=20230601 header.b=\"AbC+de\";\r\n       spf=pass"
		" (google.com: domain of a@b.example designates 1.2.3.4 as"
		" permitted sender) smtp.mailfrom=a@b.example;\r\n"
		"       dmarc=pass (p=NONE sp=NONE dis=NONE)"
		" header.from=example.com"),
	    "authentication-results|0|mx.google.com|dkim|pass|example.com|"
	    "20230601|||||-1|header.i=@example.com header.s=20230601 "
	    "header.b=\"AbC+de\"\n"
	    "authentication-results|0|mx.google.com|spf|pass|b.example||||||"
	    "-1|smtp.mailfrom=a@b.example\n"
	    "authentication-results|0|mx.google.com|dmarc|pass|example.com|"
	    "|||||-1|header.from=example.com\n");
	/* a version after the id; "none" says nothing */
	assert_string_equal(
	    fields("Authentication-Results", "mx.example.org 1; none"), "");
	assert_string_equal(
	    fields("ARC-Authentication-Results",
		"i=2; relay.example; arc=pass (as.2.relay.example=pass)"),
	    "arc-authentication-results|2|relay.example|arc|pass||||||"
	    "|-1|\n");
	assert_string_equal(
	    fields("ARC-Seal",
		"i=1; a=rsa-sha256; cv=none; d=relay.example; s=arc;"
		" b=xyz"),
	    "arc-seal|1||arc|none|relay.example|arc|rsa-sha256||||-1|\n");
	assert_string_equal(
	    fields("Received-SPF",
		"Fail (mx: domain of a@b.example does not designate"
		" 192.0.2.1) client-ip=192.0.2.1;"
		" envelope-from=\"a@B.example\"; helo=x"),
	    "received-spf|0||spf|fail|b.example||||||-1|client-ip=192.0.2.1 "
	    "envelope-from=\"a@B.example\" helo=x\n");
	assert_false(msgauth_field("Subject", "x", 1, row, NULL));
}

static void
test_impersonation(void **state)
{
	char b[256];

	(void)state;
	assert_string_equal(
	    msgauth_findings_str(
		msgauth_impersonation(
		    "\"ceo@example.org\" <ceo.example@gmail.example>",
		    "Boss <boss@other.example>", "<bounce@esp.example>",
		    "erin@example.org"),
		b, sizeof(b)),
	    "display_name_address,reply_to_domain,return_path_domain");
	/* the display name is the sender's own address: fine */
	assert_int_equal(msgauth_impersonation("\"ann@example.org\" "
					       "<ann@example.org>",
			     NULL, NULL, NULL),
	    0);
	/* a From domain like the recipient's */
	assert_int_equal(msgauth_impersonation("<it@examp1e.org>", NULL,
			     "<it@examp1e.org>", "Erin <erin@example.org>"),
	    IMP_LOOKALIKE);
	assert_true(msgauth_lookalike("paypal.com", "paypa1.com"));
	assert_true(msgauth_lookalike("example.org", "exarnple.org"));
	assert_true(msgauth_lookalike("microsoft.com", "micros0ft.net"));
	assert_false(msgauth_lookalike("example.org", "example.org"));
	assert_false(msgauth_lookalike("example.net", "example.org"));
	assert_false(msgauth_lookalike("ab.com", "ac.com")); /* too short */
	assert_false(msgauth_lookalike("google.com", "yahoo.com"));
}

static void
test_bh(void **state)
{
	/* SHA-256 of "\r\n": the empty body, simple (RFC 6376's known bh=) */
	static const unsigned char d[32] = { 0x7e, 0xb7, 0x02, 0x57, 0x59, 0x3d,
		0xa0, 0x6f, 0x68, 0x2a, 0x3d, 0xdd, 0xa5, 0x4a, 0x9d, 0x26,
		0x0d, 0x4f, 0xc5, 0x14, 0xf6, 0x45, 0x23, 0x7f, 0x5c, 0xa7,
		0x4b, 0x08, 0xf8, 0xda, 0x61, 0xa6 };
	unsigned char		   other[32];

	(void)state;
	assert_int_equal(
	    dkim_bh_equal("frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", d,
		sizeof(d)),
	    1);
	memcpy(other, d, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(
	    dkim_bh_equal("frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", other,
		sizeof(other)),
	    0);
	assert_int_equal(dkim_bh_equal("!!!", d, sizeof(d)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_impersonation),
		cmocka_unit_test(test_bh),
	};

	return cmocka_run_group_tests_name("msgauth", tests, NULL, NULL);
}
