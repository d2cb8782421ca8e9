/*
 * test_detect.c - protocol detection by content, ports as hints, tunnel
 * preambles (HTTP CONNECT, SOCKS5, SOCKS4) skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/dissect.h"
#include "dissect/registry.h"

static enum md_verdict
detect(const char *c, size_t cn, const char *s, size_t sn, uint16_t port,
    struct md_detect_out *out)
{
	struct md_detect_in in = { (const uint8_t *)c, cn, (const uint8_t *)s,
		sn, port, 0 };
	return md_detect(&in, out);
}

#define D(c, s, port, out) detect(c, strlen(c), s, strlen(s), port, out)

/* The same for a connection picked up mid-stream. */
static enum md_verdict
M(const char *c, const char *s, uint16_t port, struct md_detect_out *out)
{
	struct md_detect_in in = { (const uint8_t *)c, strlen(c),
		(const uint8_t *)s, strlen(s), port, 1 };
	return md_detect(&in, out);
}

static void
test_midstream(void **state)
{
	struct md_detect_out o;

	(void)state;
	/* cut inside a line: it is skipped, the next one decides */
	assert_int_equal(M("ous line\r\nMAIL FROM:<a@b.c>\r\n", "", 25, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_smtp);
	assert_int_equal(o.c2s_skip, 10);
	/* a whole line at the start is kept */
	assert_int_equal(M("RCPT TO:<x@y.z>\r\n", "250 ok\r\n", 25, &o),
	    MD_DETECT_YES);
	assert_int_equal(o.c2s_skip, 0);
	assert_int_equal(o.s2c_skip, 0);
	/* inside a DATA body: the server's reply decides */
	assert_int_equal(M("dy text\r\nmore text\r\n", "", 25, &o),
	    MD_DETECT_MORE);
	assert_int_equal(
	    M("dy text\r\nmore text\r\n", "250 queued\r\n", 25, &o),
	    MD_DETECT_YES);
	assert_int_equal(M("", "* 3 EXISTS\r\n", 143, &o), MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_imap);
	assert_int_equal(M("", "+OK 2 320\r\n", 110, &o), MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_pop3);
	/* off the usual ports both sides must agree */
	assert_int_equal(M("a7 UID FETCH 9 BODY[]\r\n", "", 8143, &o),
	    MD_DETECT_MORE);
	assert_int_equal(
	    M("a7 UID FETCH 9 BODY[]\r\n", "* 1 FETCH (UID 9)\r\n", 8143, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_imap);
	/* the first line may be a cut one: the second tells */
	assert_int_equal(M("GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", 80, &o),
	    MD_DETECT_MORE);
	assert_int_equal(M("GET / HTTP/1.1\r\nHost: x\r\n",
			     "HTTP/1.1 200 OK\r\nServer: y\r\n", 80, &o),
	    MD_DETECT_NO);
}

static void
test_smtp_by_content(void **state)
{
	struct md_detect_out o;

	(void)state;
	/* a greeting on a mail port is enough */
	assert_int_equal(D("", "220 mx ESMTP\r\n", 25, &o), MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_smtp);
	/* on another port the client must say EHLO too */
	assert_int_equal(D("", "220 mx ESMTP\r\n", 8025, &o), MD_DETECT_MORE);
	assert_int_equal(D("EHLO me\r\n", "220 mx ESMTP\r\n", 8025, &o),
	    MD_DETECT_YES);
	/* FTP greets with 220 too */
	assert_int_equal(D("USER anonymous\r\n", "220 ftp\r\n", 21, &o),
	    MD_DETECT_NO);
	/* HTTP */
	assert_int_equal(D("GET / HTTP/1.1\r\n", "", 80, &o), MD_DETECT_NO);
	assert_int_equal(D("", "HTTP/1.1 200 OK\r\n", 25, &o), MD_DETECT_NO);
	/* a client seen without its server */
	assert_int_equal(D("HELO bot\r\n", "", 1025, &o), MD_DETECT_YES);
	/* garbage before the greeting on port 25: the greeting decides */
	assert_int_equal(D("\x01\x02junk\r\n", "", 25, &o), MD_DETECT_MORE);
	assert_int_equal(D("\x01\x02junk\r\n", "220 mx\r\n", 25, &o),
	    MD_DETECT_YES);
}

static void
test_pop3_imap_by_content(void **state)
{
	struct md_detect_out o;

	(void)state;
	assert_int_equal(D("", "+OK Dovecot ready.\r\n", 110, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_pop3);
	assert_int_equal(D("", "+OK ready\r\n", 1110, &o), MD_DETECT_MORE);
	assert_int_equal(D("CAPA\r\n", "+OK ready\r\n", 1110, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_pop3);
	assert_int_equal(D("", "* OK [CAPABILITY IMAP4rev1] hi\r\n", 143, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_imap);
	assert_int_equal(D("a1 LOGIN bob x\r\n", "* PREAUTH hi\r\n", 9143, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_imap);
	/* a client seen without its server */
	assert_int_equal(D("A0001 CAPABILITY\r\n", "", 7777, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_imap);
	assert_int_equal(D("USER bob\r\n", "", 7777, &o), MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_pop3);
	/* not IMAP: an untagged star is the server's */
	assert_int_equal(D("* OK\r\n", "", 7777, &o), MD_DETECT_NO);
	/* an HTTP client to a POP3-looking banner on another port */
	assert_int_equal(D("GET / HTTP/1.0\r\n", "+OK\r\n", 8080, &o),
	    MD_DETECT_NO);
}

static void
test_implicit_tls(void **state)
{
	struct md_detect_out o;

	(void)state;
	assert_int_equal(detect("\x16\x03\x01\x02\x00", 5, "", 0, 465, &o),
	    MD_DETECT_YES);
	assert_int_equal(o.tls, MD_TLS_IMPLICIT);
	assert_int_equal(detect("\x16\x03\x01\x02\x00", 5, "", 0, 995, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_pop3);
	assert_int_equal(detect("\x16\x03\x01\x02\x00", 5, "", 0, 993, &o),
	    MD_DETECT_YES);
	assert_ptr_equal(o.proto, &md_proto_imap);
	assert_int_equal(o.tls, MD_TLS_IMPLICIT);
	assert_int_equal(detect("\x16\x03\x01\x02\x00", 5, "", 0, 443, &o),
	    MD_DETECT_NO);
}

static void
test_tunnels(void **state)
{
	static const char connect_c[] =
	    "CONNECT mx:25 HTTP/1.0\r\n\r\nHELO x\r\n";
	static const char connect_s[] = "HTTP/1.0 200 OK\r\n\r\n220 mx\r\n";
	/* SOCKS5: no auth, CONNECT to IPv4 */
	static const char    s5c[] = "\x05\x01\x00"
				     "\x05\x01\x00\x01\x0a\x00\x00"
				     "\x01\x00\x19"
				     "EHLO a\r\n";
	static const char    s5s[] = "\x05\x00"
				     "\x05\x00\x00\x01\x0a\x00\x00"
				     "\x01\x00\x19"
				     "220 mx\r\n";
	static const char    s4c[] = "\x04\x01\x00\x19\x0a\x00\x00\x01user\x00"
				     "HELO a\r\n";
	static const char    s4s[] = "\x00\x5a\x00\x00\x00\x00\x00\x00"
				     "220 m\r\n";
	struct md_detect_out o;

	(void)state;
	assert_int_equal(D(connect_c, connect_s, 8080, &o), MD_DETECT_YES);
	assert_int_equal(o.c2s_skip, 26);
	assert_int_equal(o.s2c_skip, 19);
	assert_int_equal(
	    detect(s5c, sizeof(s5c) - 1, s5s, sizeof(s5s) - 1, 1080, &o),
	    MD_DETECT_YES);
	assert_int_equal(o.c2s_skip, 13);
	assert_int_equal(o.s2c_skip, 12);
	/* incomplete handshake: wait */
	assert_int_equal(detect(s5c, 5, s5s, 2, 1080, &o), MD_DETECT_MORE);
	assert_int_equal(
	    detect(s4c, sizeof(s4c) - 1, s4s, sizeof(s4s) - 1, 1080, &o),
	    MD_DETECT_YES);
	assert_int_equal(o.c2s_skip, 13);
	assert_int_equal(o.s2c_skip, 8);
}

/* The registry: ports by protocol, implicit TLS, the live filter. */
static void
test_registry(void **state)
{
	char bpf[512], small[12];
	int  tls = -1;

	(void)state;
	assert_ptr_equal(md_proto_of_port(465, &tls), &md_proto_smtp);
	assert_int_equal(tls, 1);
	assert_ptr_equal(md_proto_of_port(24, &tls), &md_proto_smtp);
	assert_int_equal(tls, 0);
	assert_ptr_equal(md_proto_of_port(995, NULL), &md_proto_pop3);
	assert_ptr_equal(md_proto_of_port(143, NULL), &md_proto_imap);
	assert_null(md_proto_of_port(8080, NULL));
	md_ports_bpf(bpf, sizeof(bpf));
	assert_string_equal(bpf,
	    "port 25 or port 587 or port 2525 or "
	    "port 24 or port 465 or port 110 or port 995 or port 143 or "
	    "port 993");
	assert_int_equal(md_ports_bpf(small, sizeof(small)), sizeof(small) - 1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_by_content),
		cmocka_unit_test(test_pop3_imap_by_content),
		cmocka_unit_test(test_implicit_tls),
		cmocka_unit_test(test_midstream),
		cmocka_unit_test(test_tunnels),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
