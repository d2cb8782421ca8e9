/*
 * test_mime.c - the MIME tap fed messages as MSG_BEGIN/DATA/END events:
 * every case is checked fed whole, one byte at a time, and cut at every
 * offset, and must give the same record each time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/dissect.h"
#include "dissect/mime.h"
#include "dissect/mimehdr.h"
#include "tests/recsink.h"
#include "dissect/tnef.h"
#include "dissect/uu.h"

struct mcase {
	const char *name;
	const char *msg;
	int	    complete;
	const char *expect;
};

/* The record leaves the raw message bytes out: only what MIME made of
 * them, which must not depend on how they were cut. */
static int
drop_msg_data(void *arg, const struct md_event *ev)
{
	const struct md_sink *rec = arg;

	return ev->type == MD_EV_MSG_DATA ? 0 : rec->emit(rec->arg, ev);
}

/* Feeds msg through a tap into a recorder, cut at k (0: whole, SIZE_MAX:
 * one byte at a time). */
static char *
run(const char *msg, size_t len, int complete, size_t k)
{
	static const struct md_flow flow = { .id = 1 };
	struct md_event		    ev = { .flow = &flow, .tx = 1 };
	struct md_sink rec_sink, filter = { drop_msg_data, &rec_sink },
				 tap_sink;
	struct mime_tap *tap;
	struct recsink	 rec;
	char		*out;

	recsink_init(&rec, &rec_sink);
	tap = mime_tap_new(&filter);
	mime_tap_sink(tap, &tap_sink);
	ev.type = MD_EV_MSG_BEGIN;
	ev.name = (struct md_bytes) { (const uint8_t *)"DATA", 4 };
	tap_sink.emit(tap_sink.arg, &ev);
	ev.name = (struct md_bytes) { NULL, 0 };
	ev.type = MD_EV_MSG_DATA;
	for (size_t i = 0; i < len;) {
		size_t	 n = k == SIZE_MAX ? 1 :
		      k == 0		   ? len :
					     (i < k ? k : len - i);
		uint8_t *copy;

		if (n > len - i)
			n = len - i;
		copy = malloc(n); /* exact size: ASan sees over-reads */
		memcpy(copy, msg + i, n);
		ev.arg = (struct md_bytes) { copy, n };
		tap_sink.emit(tap_sink.arg, &ev);
		free(copy);
		i += n;
	}
	ev.type = MD_EV_MSG_END;
	ev.arg = (struct md_bytes) { NULL, 0 };
	ev.code = complete;
	ev.num[0] = len;
	tap_sink.emit(tap_sink.arg, &ev);
	mime_tap_free(tap);
	out = strdup(recsink_text(&rec));
	recsink_free(&rec);
	return out;
}

static const char plain[] =
    "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\r\n"
    "To: bob@example.net,\r\n"
    "  carol@example.net\r\n"
    "Subject: =?UTF-8?B?w6l0w6k=?= =?UTF-8?Q?_report?=\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0100\r\n"
    "\r\n"
    "Hello\r\n"
    "there\r\n";

static const char plain_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 From \"=?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\" x=\"Andr\\xc3\\xa9 <andre@example.org>\"\n"
    "HEADER tx=1 To \"bob@example.net,  carol@example.net\" x=\"bob@example.net,  carol@example.net\" n=1,0,0,0\n"
    "HEADER tx=1 Subject \"=?UTF-8?B?w6l0w6k=?= =?UTF-8?Q?_report?=\" x=\"\\xc3\\xa9t\\xc3\\xa9 report\" n=2,0,0,0\n"
    "HEADER tx=1 Date \"Tue, 14 Nov 2023 22:13:20 +0100\" x=\"Tue, 14 Nov 2023 22:13:20 +0100\" a=\"2023-11-14 21:13:20\" n=3,0,0,0\n"
    "PART_BEGIN tx=1 1 \"text/plain\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"Hello\\r\\nthere\\r\\n\"\n"
    "TEXT tx=1 \"Hello\\r\\nthere\\r\\n\\n\"\n"
    "PART_END tx=1 1 n=1,14,14,0\n"
    "MSG_END tx=1 1 n=201,0,0,0\n";

/* multipart/mixed: QP text, base64 attachment with an RFC 2231 name,
 * nested multipart/alternative with HTML, an attached message. */
static const char mixed[] =
    "Subject: invoice\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble, ignored\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 soft=\r\nbreak\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*0*=utf-8''%E2%82%AC%20inv;\r\n"
    " filename*1=\"oice.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0x\r\nLjQK\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=iso-8859-1\r\n"
    "\r\n"
    "<p>Bonjour&nbsp;<b>\xe9t\xe9</b></p><script>x()</script>&#8364;\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "forwarded\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

static const char mixed_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Subject \"invoice\" x=\"invoice\"\n"
    "HEADER tx=1 MIME-Version \"1.0\" x=\"1.0\" n=1,0,0,0\n"
    "HEADER tx=1 Content-Type \"multipart/mixed; boundary=\\\"outer\\\"\" x=\"multipart/mixed; boundary=\\\"outer\\\"\" n=2,0,0,0\n"
    "PART_BEGIN tx=1 1 \"text/plain\" a=\"utf-8\" p=\"quoted-printable\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"caf\\xc3\\xa9 softbreak\"\n"
    "TEXT tx=1 \"caf\\xc3\\xa9 softbreak\\n\"\n"
    "PART_END tx=1 1 n=1,22,15,0\n"
    "PART_BEGIN tx=1 2 2 \"application/pdf\" x=\"\\xe2\\x82\\xac invoice.pdf\" p=\"base64\" n=2,0,0,0\n"
    "PART_DATA tx=1 part=2 \"%PDF-1.4\\n\"\n"
    "PART_END tx=1 1 n=2,14,9,0\n"
    "PART_BEGIN tx=1 3.1 \"text/html\" a=\"iso-8859-1\" n=3,0,0,0\n"
    "PART_DATA tx=1 part=3 \"<p>Bonjour&nbsp;<b>\\xe9t\\xe9</b></p><script>x()</script>&#8364;\"\n"
    "TEXT tx=1 \"\\nBonjour \\xc3\\xa9t\\xc3\\xa9\\n\\xe2\\x82\\xac\\n\"\n"
    "PART_END tx=1 1 n=3,57,57,0\n"
    "PART_BEGIN tx=1 4 \"message/rfc822\" n=4,1,0,0\n"
    "PART_BEGIN tx=1 4.1 \"text/plain\" n=5,0,0,0\n"
    "PART_DATA tx=1 part=5 \"forwarded\"\n"
    "TEXT tx=1 \"forwarded\\n\"\n"
    "PART_END tx=1 1 n=5,9,9,0\n"
    "PART_DATA tx=1 part=4 \"Subject: inner\\r\\n\\r\\nforwarded\"\n"
    "PART_END tx=1 1 n=4,27,27,0\n"
    "MSG_END tx=1 1 n=698,0,0,0\n";

/* Hostile and broken: a missing close boundary, bad base64, a header
 * line with no end, a file name that tries to climb out. */
static const char broken[] =
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream; name=\"../../etc/passwd\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGk!!!=\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "cut here";

static const char broken_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Content-Type \"multipart/mixed; boundary=b\" x=\"multipart/mixed; boundary=b\"\n"
    "PART_BEGIN tx=1 1 \"application/octet-stream\" x=\"../../etc/passwd\" p=\"base64\" n=1,0,0,0\n"
    "ANOMALY tx=1 mime_bad_base64\n"
    "PART_DATA tx=1 part=1 \"hi\"\n"
    "PART_END tx=1 1 n=1,7,2,0\n"
    "PART_BEGIN tx=1 2 \"text/plain\" n=2,0,0,0\n"
    "PART_DATA tx=1 part=2 \"cut here\"\n"
    "TEXT tx=1 \"cut here\\n\"\n"
    "PART_END tx=1 n=2,8,8,0\n"
    "MSG_END tx=1 n=202,0,0,0\n";

/* The close delimiter is the message's last bytes, with no CRLF after it
 * (Zeek's rfc3030-bdat-multipart-chunked): it is no content. */
static const char close_at_end[] =
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGk=\r\n"
    "--b--";

static const char close_at_end_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Content-Type \"multipart/mixed; boundary=\\\"b\\\"\" x=\"multipart/mixed; boundary=\\\"b\\\"\"\n"
    "PART_BEGIN tx=1 1 \"application/octet-stream\" p=\"base64\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"hi\"\n"
    "PART_END tx=1 1 n=1,4,2,0\n"
    "MSG_END tx=1 1 n=140,0,0,0\n";

/* A forwarded message (message/rfc822 attachment): its exact bytes, to
 * the CRLF before the delimiter, are its part's data; its own parts are
 * parsed too. */
static const char forwarded[] =
    "Content-Type: multipart/mixed; boundary=\"out\"\r\n"
    "\r\n"
    "--out\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see below\r\n"
    "--out\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=\"in\"\r\n"
    "\r\n"
    "--in\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "inner text\r\n"
    "--in--\r\n"
    "\r\n"
    "--out--\r\n";

static const char forwarded_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Content-Type \"multipart/mixed; boundary=\\\"out\\\"\" x=\"multipart/mixed; boundary=\\\"out\\\"\"\n"
    "PART_BEGIN tx=1 1 \"text/plain\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"see below\"\n"
    "TEXT tx=1 \"see below\\n\"\n"
    "PART_END tx=1 1 n=1,9,9,0\n"
    "PART_BEGIN tx=1 2 2 \"message/rfc822\" x=\"fwd.eml\" n=2,1,0,0\n"
    "PART_BEGIN tx=1 2.1 \"text/plain\" n=3,0,0,0\n"
    "PART_DATA tx=1 part=3 \"inner text\"\n"
    "TEXT tx=1 \"inner text\\n\"\n"
    "PART_END tx=1 1 n=3,10,10,0\n"
    "PART_DATA tx=1 part=2 \"Subject: inner\\r\\nContent-Type: multipart/alternative; boundary=\\\"in\\\"\\r\\n\\r\\n--in\\r\\nContent-Type: text/plain\\r\\n\\r\\ninner text\\r\\n--in--\\r\\n\"\n"
    "PART_END tx=1 1 n=2,124,124,0\n"
    "MSG_END tx=1 1 n=322,0,0,0\n";

/* Files inside parts: a uuencoded block in text (kept out of the text
 * index, a part of its own), an x-uuencode part, a TNEF part whose two
 * files (one with a Unicode long name) become parts inside it. */
static const char uu_inline[] =
    "Subject: uu\r\n"
    "\r\n"
    "Here it is:\r\n"
    "begin 644 hello.txt\r\n"
    ".2&5L;&\\L('=O<FQD(0H \r\n"
    "`\r\n"
    "end\r\n"
    "begin in the morning\r\n"
    "begin 600 cut.bin\r\n"
    "K;&EN92!T=V\\@;V8@=&AE(&9I;&4L(&QO;F=E<B!T:&%N(&)E9F]R92!O:P\r\n"
    "bye now\r\n";

static const char uu_inline_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Subject \"uu\" x=\"uu\"\n"
    "PART_BEGIN tx=1 1 \"text/plain\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"Here it is:\\r\\nbegin 644 hello.txt\\r\\n.2&5L;&\\\\L('=O<FQD(0H \\r\\n`\\r\\nend\\r\\nbegin in the morning\\r\\nbegin 600 cut.bin\\r\\nK;&EN92!T=V\\\\@;V8@=&AE(&9I;&4L(&QO;F=E<B!T:&%N(&)E9F]R92!O:P\\r\\nbye now\\r\\n\"\n"
    "PART_BEGIN tx=1 2 1/1 \"application/octet-stream\" x=\"hello.txt\" p=\"x-uuencode\" n=2,2,0,0\n"
    "PART_DATA tx=1 part=2 \"Hello, world!\\n\"\n"
    "PART_END tx=1 1 n=2,52,14,0\n"
    "PART_BEGIN tx=1 2 1/2 \"application/octet-stream\" x=\"cut.bin\" p=\"x-uuencode\" n=3,2,0,0\n"
    "PART_DATA tx=1 part=3 \"line two of the file, longer than before ok\"\n"
    "PART_END tx=1 n=3,80,43,0\n"
    "TEXT tx=1 \"Here it is:\\r\\nbegin 644 hello.txt\\r\\nbegin in the morning\\r\\nbegin 600 cut.bin\\r\\nbye now\\r\\n\\n\"\n"
    "PART_END tx=1 1 n=1,176,176,0\n"
    "MSG_END tx=1 1 n=191,0,0,0\n";

static const char uu_part[] =
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream; name=hello.txt\r\n"
    "Content-Transfer-Encoding: X-UUENCODE\r\n"
    "\r\n"
    "begin 644 hello.txt\r\n"
    ".2&5L;&\\L('=O<FQD(0H \r\n"
    "`\r\n"
    "end\r\n"
    "--b--\r\n";

static const char uu_part_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Content-Type \"multipart/mixed; boundary=b\" x=\"multipart/mixed; boundary=b\"\n"
    "PART_BEGIN tx=1 1 \"application/octet-stream\" x=\"hello.txt\" p=\"x-uuencode\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"Hello, world!\\n\"\n"
    "PART_END tx=1 1 n=1,50,14,0\n"
    "MSG_END tx=1 1 n=206,0,0,0\n";

static const char tnef_msg[] =
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: application/ms-tnef; name=winmail.dat\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "eJ8+IjQSAQaQCAAEAAAAAAABAAEAAgKQBgAOAAAAAQD/////AAAAAAAAAAD9AwIQgAEADQAAAFJF\r\n"
    "UE9SVH4xLlRYVAC5AwIPgAYAEgAAAHF1YXJ0ZXJseSBudW1iZXJzCg8HAgWQBgBQAAAAAwAAAAMA\r\n"
    "IQ4AAAAAHwAHNwEAAAAeAAAAcgBlAHAAbwByAHQAIADpAHQA6QAuAHQAeAB0AAAAAAAeAA43AQAA\r\n"
    "AAsAAAB0ZXh0L3BsYWluAAC4CwICkAYADgAAAAEA/////wAAAAAAAAAA/QMCEIABAAkAAABEQVRB\r\n"
    "LkJJTgAhAgIPgAYACAAAAAABAgMEBQYHHAACBZAGAAwAAAABAAAAAwAhDgAAAAAzAA==\r\n"
    "--b--\r\n";

static const char tnef_msg_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Content-Type \"multipart/mixed; boundary=b\" x=\"multipart/mixed; boundary=b\"\n"
    "PART_BEGIN tx=1 1 \"application/ms-tnef\" x=\"winmail.dat\" p=\"base64\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"x\\x9f>\\\"4\\x12\\x01\\x06\\x90\\x08\\x00\\x04\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x01\\x00\\x02\\x02\\x90\\x06\\x00\\x0e\\x00\\x00\\x00\\x01\\x00\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xfd\\x03\\x02\\x10\\x80\\x01\\x00\\r\\x00\\x00\\x00REPORT~1.TXT\\x00\\xb9\\x03\\x02\\x0f\\x80\\x06\\x00\\x12\\x00\\x00\\x00quarterly numbers\\n\\x0f\\x07\\x02\\x05\\x90\\x06\\x00P\\x00\\x00\\x00\\x03\\x00\\x00\\x00\\x03\\x00!\\x0e\\x00\\x00\\x00\\x00\\x1f\\x00\\x077\\x01\\x00\\x00\\x00\\x1e\\x00\\x00\\x00r\\x00e\\x00p\\x00o\\x00r\\x00t\\x00 \\x00\\xe9\\x00t\\x00\\xe9\\x00.\\x00t\\x00x\\x00t\\x00\\x00\\x00\\x00\\x00\\x1e\\x00\\x0e7\\x01\\x00\\x00\\x00\\x0b\\x00\\x00\\x00text/plain\\x00\\x00\\xb8\\x0b\\x02\\x02\\x90\\x06\\x00\\x0e\\x00\\x00\\x00\\x01\\x00\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xfd\\x03\\x02\\x10\\x80\\x01\\x00\\x09\\x00\\x00\\x00DATA.BIN\\x00!\\x02\\x02\\x0f\\x80\\x06\\x00\\x08\\x00\\x00\\x00\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x1c\\x00\\x02\\x05\\x90\\x06\\x00\\x0c\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x03\\x00!\\x0e\\x00\\x00\\x00\\x003\\x00\"\n"
    "PART_BEGIN tx=1 2 1/1 \"text/plain\" x=\"report \\xc3\\xa9t\\xc3\\xa9.txt\" n=2,2,0,0\n"
    "PART_DATA tx=1 part=2 \"quarterly numbers\\n\"\n"
    "PART_END tx=1 1 n=2,18,18,0\n"
    "PART_BEGIN tx=1 2 1/2 \"application/octet-stream\" x=\"DATA.BIN\" n=3,2,0,0\n"
    "PART_DATA tx=1 part=3 \"\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\"\n"
    "PART_END tx=1 1 n=3,8,8,0\n"
    "PART_END tx=1 1 n=1,380,277,0\n"
    "MSG_END tx=1 1 n=529,0,0,0\n";

/* A parameter list broken without folding (as in Suricata's
 * smtp-url-b64 capture): read on, as the sender meant, and said. */
static const char unfolded[] =
    "Subject: x\r\n"
    "Content-Type: text/html;\r\n"
    "charset=\"utf-8\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PGEgaHJlZj0iaHR0cDovL2EuZXhhbXBsZS8iPmE8L2E+\r\n";

static const char unfolded_expect[] =
    "MSG_BEGIN tx=1 DATA\n"
    "HEADER tx=1 Subject \"x\" x=\"x\"\n"
    "ANOMALY tx=1 mime_unfolded_parameter\n"
    "HEADER tx=1 Content-Type \"text/html; charset=\\\"utf-8\\\"\" x=\"text/html; charset=\\\"utf-8\\\"\" n=1,0,0,0\n"
    "HEADER tx=1 Content-Transfer-Encoding \"base64\" x=\"base64\" n=2,0,0,0\n"
    "PART_BEGIN tx=1 1 \"text/html\" a=\"utf-8\" p=\"base64\" n=1,0,0,0\n"
    "PART_DATA tx=1 part=1 \"<a href=\\\"http://a.example/\\\">a</a>\"\n"
    "URL tx=1 http://a.example/ \"a.example\" x=\"a\" a=\"href\" n=1,0,0,0\n"
    "TEXT tx=1 \"a\\n\"\n"
    "PART_END tx=1 1 n=1,46,33,0\n"
    "MSG_END tx=1 1 n=138,0,0,0\n";

static const struct mcase cases[] = {
	{ "unfolded", unfolded, 1, unfolded_expect },
	{ "forwarded", forwarded, 1, forwarded_expect },
	{ "close_at_end", close_at_end, 1, close_at_end_expect },
	{ "plain", plain, 1, plain_expect },
	{ "mixed", mixed, 1, mixed_expect },
	{ "broken", broken, 0, broken_expect },
	{ "uu_inline", uu_inline, 1, uu_inline_expect },
	{ "uu_part", uu_part, 1, uu_part_expect },
	{ "tnef", tnef_msg, 1, tnef_msg_expect },
};

static void
run_case(void **state)
{
	const struct mcase *c = *state;
	size_t		    len = strlen(c->msg);
	char		   *got;

	got = run(c->msg, len, c->complete, 0);
	assert_string_equal(got, c->expect);
	free(got);
	got = run(c->msg, len, c->complete, SIZE_MAX);
	assert_string_equal(got, c->expect);
	free(got);
	for (size_t k = 1; k < len; k++) {
		got = run(c->msg, len, c->complete, k);
		if (strcmp(got, c->expect) != 0)
			print_error("cut at %zu\n", k);
		assert_string_equal(got, c->expect);
		free(got);
	}
}

static void
test_params(void **state)
{
	static const char ct[] =
	    "attachment; filename=\"=?UTF-8?B?w6k=?=.txt\";"
	    " size=3";
	static const char cont[] = "application/x; name*0=\"a/b\"; name*1=c;"
				   " NAME*2*=%2Fd";
	char		  out[64];
	long		  n;

	(void)state;
	n = mh_param((const uint8_t *)ct, strlen(ct), "filename", out,
	    sizeof(out));
	assert_int_equal(n, 6);
	assert_memory_equal(out, "\xc3\xa9.txt", 6);
	n = mh_param((const uint8_t *)cont, strlen(cont), "name", out,
	    sizeof(out));
	assert_int_equal(n, 6);
	assert_memory_equal(out, "a/bc/d", 6);
	assert_int_equal(
	    mh_param((const uint8_t *)ct, strlen(ct), "nope", out, sizeof(out)),
	    -1);
}

static void
test_dates(void **state)
{
	char d[20];

	(void)state;
	assert_true(mh_date_utc(
	    (const uint8_t *)"Mon, 1 Jan 2024 00:30:00 +0100", 30, d));
	assert_string_equal(d, "2023-12-31 23:30:00");
	assert_true(mh_date_utc((const uint8_t *)"2 Feb 99 10:00 EST", 18, d));
	assert_string_equal(d, "1999-02-02 15:00:00");
	assert_false(mh_date_utc((const uint8_t *)"yesterday", 9, d));
}

static void
test_charsets(void **state)
{
	/* GB2312 and ISO-2022-JP encoded-words */
	static const char gb[] = "=?GB2312?B?1tDOxA==?=";
	static const char jp[] = "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=";
	char		  out[64];
	size_t		  n;

	(void)state;
	n = mh_decode_words((const uint8_t *)gb, strlen(gb), out, sizeof(out));
	assert_int_equal(n, 6);
	assert_memory_equal(out, "\xe4\xb8\xad\xe6\x96\x87", 6); /* zhong wen */
	n = mh_decode_words((const uint8_t *)jp, strlen(jp), out, sizeof(out));
	assert_int_equal(n, 9);
	assert_memory_equal(out, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9);
}

/*
 * A piece that begins in the middle of a long line (an IMAP FETCH
 * <65536.65536> chunk): its first "header line" has no colon and is
 * longer than the header buffer, with no line break before the end.
 * It once overflowed the heap when the message ended.
 */
static void
test_long_first_line(void **state)
{
	size_t		    len = MD_MIME_HEADER_MAX + 4000;
	char		   *msg = malloc(len + 1), *whole, *got;
	static const size_t cuts[] = { SIZE_MAX, 1, 99, 100, 101,
		MD_MIME_HEADER_MAX - 1, MD_MIME_HEADER_MAX,
		MD_MIME_HEADER_MAX + 1 };

	(void)state;
	for (size_t i = 0; i < len; i++)
		msg[i] = (char)('A' + i % 26);
	msg[len] = '\0';
	whole = run(msg, len, 0, 0);
	assert_non_null(strstr(whole, "ANOMALY tx=1 mime_header"));
	assert_non_null(strstr(whole, "PART_END"));
	for (size_t i = 0; i < N(cuts); i++) {
		got = run(msg, len, 0, cuts[i]);
		assert_string_equal(got, whole);
		free(got);
	}
	free(whole);
	free(msg);
}

/* The TNEF stream of the "tnef" case, raw. */
static const uint8_t tnef_raw[] =
    "\x78\x9f\x3e\x22\x34\x12\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00"
    "\x00\x01\x00\x01\x00\x02\x02\x90\x06\x00\x0e\x00\x00\x00\x01\x00"
    "\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\xfd\x03\x02\x10"
    "\x80\x01\x00\x0d\x00\x00\x00\x52\x45\x50\x4f\x52\x54\x7e\x31\x2e"
    "\x54\x58\x54\x00\xb9\x03\x02\x0f\x80\x06\x00\x12\x00\x00\x00\x71"
    "\x75\x61\x72\x74\x65\x72\x6c\x79\x20\x6e\x75\x6d\x62\x65\x72\x73"
    "\x0a\x0f\x07\x02\x05\x90\x06\x00\x50\x00\x00\x00\x03\x00\x00\x00"
    "\x03\x00\x21\x0e\x00\x00\x00\x00\x1f\x00\x07\x37\x01\x00\x00\x00"
    "\x1e\x00\x00\x00\x72\x00\x65\x00\x70\x00\x6f\x00\x72\x00\x74\x00"
    "\x20\x00\xe9\x00\x74\x00\xe9\x00\x2e\x00\x74\x00\x78\x00\x74\x00"
    "\x00\x00\x00\x00\x1e\x00\x0e\x37\x01\x00\x00\x00\x0b\x00\x00\x00"
    "\x74\x65\x78\x74\x2f\x70\x6c\x61\x69\x6e\x00\x00\xb8\x0b\x02\x02"
    "\x90\x06\x00\x0e\x00\x00\x00\x01\x00\xff\xff\xff\xff\x00\x00\x00"
    "\x00\x00\x00\x00\x00\xfd\x03\x02\x10\x80\x01\x00\x09\x00\x00\x00"
    "\x44\x41\x54\x41\x2e\x42\x49\x4e\x00\x21\x02\x02\x0f\x80\x06\x00"
    "\x08\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x1c\x00\x02\x05"
    "\x90\x06\x00\x0c\x00\x00\x00\x01\x00\x00\x00\x03\x00\x21\x0e\x00"
    "\x00\x00\x00\x33\x00";

struct files_seen {
	int    n;
	char   names[4][256];
	size_t lens[4];
};

static void
count_file(void *arg, const struct tnef_file *f)
{
	struct files_seen *fs = arg;

	if (fs->n < 4) {
		snprintf(fs->names[fs->n], sizeof(fs->names[0]), "%s", f->name);
		fs->lens[fs->n] = f->len;
	}
	fs->n++;
}

/* Cut at every length (each an exact-size copy, for ASan): a file is
 * reported only once its data came whole, and a cut stream says so. */
static void
test_tnef_cut(void **state)
{
	size_t		   n = sizeof(tnef_raw) - 1;
	struct files_seen  fs = { 0 };
	struct tnef_result r;
	int		   whole_cuts = 0;

	(void)state;
	r = tnef_walk(tnef_raw, n, count_file, &fs);
	assert_int_equal(r.files, 2);
	assert_int_equal(r.malformed, 0);
	assert_string_equal(fs.names[0], "report \xc3\xa9t\xc3\xa9.txt");
	assert_int_equal(fs.lens[0], 18);
	assert_string_equal(fs.names[1], "DATA.BIN");
	for (size_t k = 0; k < n; k++) {
		uint8_t *copy = malloc(k ? k : 1);

		memcpy(copy, tnef_raw, k);
		memset(&fs, 0, sizeof(fs));
		r = tnef_walk(copy, k, count_file, &fs);
		assert_true(r.files <= 2);
		whole_cuts += !r.malformed;
		for (int i = 0; i < fs.n && i < 4; i++)
			assert_true(fs.lens[i] == 18 || fs.lens[i] == 8);
		free(copy);
	}
	/* only cuts between attributes look whole: after the signature and
	 * after each of the first 10 of its 11 attributes */
	assert_int_equal(whole_cuts, 11);
	assert_int_equal(
	    tnef_walk((const uint8_t *)"not tnef", 8, count_file, &fs)
		.malformed,
	    1);
}

static void
test_uu_lines(void **state)
{
	uint8_t out[UU_BYTES_MAX];
	char	name[16];

	(void)state;
	assert_int_equal(uu_decode_line((const uint8_t *)"#0V%T", 5, out), 3);
	assert_memory_equal(out, "Cat", 3);
	assert_int_equal(uu_decode_line((const uint8_t *)"`", 1, out), 0);
	/* prose is not data: lower case, or a length that does not fit */
	assert_int_equal(uu_decode_line((const uint8_t *)"hello", 5, out), -1);
	assert_int_equal(
	    uu_decode_line((const uint8_t *)"Hello WORLD", 11, out), -1);
	assert_int_equal(uu_begin_line((const uint8_t *)"begin 644 a b.txt ",
			     18, name, sizeof(name)),
	    1);
	assert_string_equal(name, "a b.txt");
	assert_int_equal(uu_begin_line((const uint8_t *)"begin 6443 x", 12,
			     name, sizeof(name)),
	    1);
	assert_int_equal(uu_begin_line((const uint8_t *)"begin 64 x", 10, name,
			     sizeof(name)),
	    0);
	assert_int_equal(uu_begin_line((const uint8_t *)"begin 644 ", 10, name,
			     sizeof(name)),
	    0);
	assert_int_equal(uu_begin_line((const uint8_t *)"begin 648 x", 11, name,
			     sizeof(name)),
	    0);
	assert_int_equal(
	    uu_begin_line((const uint8_t *)"begin 644 0123456789abcdefghij", 30,
		name, sizeof(name)),
	    1);
	assert_string_equal(name, "0123456789abcde");
}

/* The recording sink holds every dissector test to the contract's order
 * (dissect/events.def): a breach is in the record.  Here, three. */
static void
test_order_checked(void **state)
{
	static const struct md_flow flow = { .id = 1, .proto = MD_PROTO_SMTP };
	static const enum md_ev	    seq[][2] = {
		    { MD_EV_SESSION_BEGIN, 0 }, { MD_EV_MSG_BEGIN, 1 },
		    { MD_EV_PART_BEGIN, 1 },
		    { MD_EV_MSG_END, 1 }, /* a part left open */
		    { MD_EV_HEADER, 2 },  /* no message 2 */
		    { MD_EV_SESSION_END, 0 },
		    { MD_EV_REPLY, 0 }, /* after the end */
	};
	struct md_sink sink;
	struct recsink rec;
	const char    *text, *p;
	int	       n = 0;

	(void)state;
	recsink_init(&rec, &sink);
	for (size_t i = 0; i < N(seq); i++) {
		struct md_event ev = { .type = seq[i][0],
			.flow = &flow,
			.tx = (uint32_t)seq[i][1] };

		sink.emit(sink.arg, &ev);
	}
	text = recsink_text(&rec);
	for (p = text; (p = strstr(p, "!ORDER")) != NULL; p++)
		n++;
	assert_int_equal(n, 3);
	assert_non_null(strstr(text, "!ORDER MSG_END with parts open"));
	assert_non_null(strstr(text, "!ORDER a message's event outside it"));
	assert_non_null(strstr(text, "!ORDER an event after SESSION_END"));
	recsink_free(&rec);
}

int
main(void)
{
	struct CMUnitTest tests[N(cases) + 7];

	if (getenv("MAILSIFT_PRINT_GOLDEN") != NULL) {
		for (size_t i = 0; i < N(cases); i++) {
			char *got = run(cases[i].msg, strlen(cases[i].msg),
			    cases[i].complete, 0);
			printf("== %s\n%s", cases[i].name, got);
			free(got);
		}
		return 0;
	}
	for (size_t i = 0; i < N(cases); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)(uintptr_t)&cases[i];
	}
	tests[N(cases)] = (struct CMUnitTest)cmocka_unit_test(test_params);
	tests[N(cases) + 1] = (struct CMUnitTest)cmocka_unit_test(test_dates);
	tests[N(cases) + 2] =
	    (struct CMUnitTest)cmocka_unit_test(test_charsets);
	tests[N(cases) + 3] =
	    (struct CMUnitTest)cmocka_unit_test(test_long_first_line);
	tests[N(cases) + 4] =
	    (struct CMUnitTest)cmocka_unit_test(test_tnef_cut);
	tests[N(cases) + 5] =
	    (struct CMUnitTest)cmocka_unit_test(test_uu_lines);
	tests[N(cases) + 6] =
	    (struct CMUnitTest)cmocka_unit_test(test_order_checked);
	return _cmocka_run_group_tests("mime", tests, N(tests), NULL, NULL);
}
