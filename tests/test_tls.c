/*
 * test_tls.c - TLS read without keys: records of an implicit-TLS SMTP
 * session fed whole, one byte at a time and cut at every offset of every
 * step; the fingerprints against their specifications' own examples; the
 * caps on hostile handshakes.  The records come from
 * tests/tools/mktlsvectors.py (tests/tls_vectors.h).
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
#include "tests/recsink.h"
#include "dissect/tls.h"
#include "tests/tls_vectors.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define STEP(dir, s)                      \
	{                                 \
		(dir), (s), sizeof(s) - 1 \
	}

/* A TLS 1.2 handshake in full: hellos, the server's chain and curve,
 * ChangeCipherSpec and Finished both ways, then data. */
static const struct step full[] = {
	STEP(MD_C2S, CLIENT1),
	STEP(MD_S2C, SERVER1),
	STEP(MD_C2S, CLIENT2),
	STEP(MD_S2C, SERVER2),
	STEP(MD_C2S, CLIENT3),
};

#define CLIENT_HELLO_EXPECT                       \
	"TLS_HELLO TLSv13 \"mail.example.org\""   \
	" x=\"c000e2caf3a25423f9de6c8a4b12a975\"" \
	" a=\"t13d1516h2_8daaf6152771_e5627efa2ab1\" n=772,0,0,0\n"

static const char full_expect[] =
    "SESSION_BEGIN 2 smtp\n" CLIENT_HELLO_EXPECT
    "TLS_HELLO TLSv12 \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\""
    " x=\"1089ea6f0461a29006cc96dfe7a11d80\" n=771,49199,0,0\n"
    "TLS_CERT \"LEAFCERT\" n=0,2,0,0\n"
    "TLS_CERT \"CACERT\" n=1,2,0,0\n"
    "TLS_END 1 n=0,23,5,4\n"
    "SESSION_END 5 implicit n=407,217,407,217\n";

/* The ClientHello cut into records of one byte each. */
static const struct step fragmented[] = {
	STEP(MD_C2S, CLIENT1_BYTES),
};

static const char fragmented_expect[] =
    "SESSION_BEGIN 2 smtp\n" CLIENT_HELLO_EXPECT "TLS_END n=0,0,297,0\n"
    "SESSION_END 5 implicit n=1782,0,1782,0\n";

/* A fatal alert in clear; then bytes that are not TLS. */
static const struct step refused[] = {
	STEP(MD_C2S, CLIENT1),
	STEP(MD_S2C, ALERT),
	{ MD_S2C, "HTTP/1.1 400 Bad Request\r\n", 26 },
};

static const char refused_expect[] =
    "SESSION_BEGIN 2 smtp\n" CLIENT_HELLO_EXPECT
    "TLS_ALERT handshake_failure n=2,40,0,0\n"
    "ANOMALY tls_malformed \"not a TLS record\"\n"
    "TLS_END n=0,0,1,1\n"
    "SESSION_END 5 implicit n=302,33,302,33\n";

/* A Certificate message that announces 16 MB: its bytes are not held. */
static const struct step huge[] = {
	STEP(MD_C2S, CLIENT1),
	{ MD_S2C, "\x16\x03\x03\x00\x08\x0b\xff\xff\xff\x00\x00\x00\x00", 13 },
};

static const char huge_expect[] = "SESSION_BEGIN 2 smtp\n" CLIENT_HELLO_EXPECT
				  "ANOMALY tls_handshake_too_long\n"
				  "TLS_END n=0,0,1,1\n"
				  "SESSION_END 5 implicit n=302,13,302,13\n";

static const struct tcase cases[] = {
	{ "full", full, N(full), MD_TLS_IMPLICIT, full_expect },
	{ "fragmented", fragmented, N(fragmented), MD_TLS_IMPLICIT,
	    fragmented_expect },
	{ "refused", refused, N(refused), MD_TLS_IMPLICIT, refused_expect },
	{ "huge", huge, N(huge), MD_TLS_IMPLICIT, huge_expect },
};

/* The JA4 specification's worked example, list by list. */
static void
test_ja4_example(void **state)
{
	static const uint16_t ciphers[] = { 0x1301, 0x1302, 0x1303, 0xc02b,
		0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
		0x009d, 0x002f, 0x0035, 0x8a8a };
	static const uint16_t exts[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x4469,
		0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
		0x000b, 0x000a, 0x0015, 0xfafa };
	static const uint16_t sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805,
		0x0501, 0x0806, 0x0601 };
	struct tls_lists     *l = calloc(1, sizeof(*l));
	char		      ja4[40];

	(void)state;
	assert_non_null(l);
	memcpy(l->ciphers, ciphers, sizeof(ciphers));
	l->nciphers = N(ciphers);
	memcpy(l->exts, exts, sizeof(exts));
	l->nexts = N(exts);
	memcpy(l->sig_algs, sigs, sizeof(sigs));
	l->nsig_algs = N(sigs);
	l->versions[0] = 0x0304;
	l->versions[1] = 0x0303;
	l->nversions = 2;
	l->legacy_version = 0x0303;
	l->has_sni = l->has_alpn = 1;
	memcpy(l->alpn0, "h2", 2);
	l->alpn0_len = 2;
	tls_ja4(l, ja4);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	/* no signature algorithms: the extensions alone (the spec's
	 * 6d807ffa2a79); no SNI: "i"; ALPN "http/1.1": "h1" */
	l->nsig_algs = 0;
	l->has_sni = 0;
	memcpy(l->alpn0, "http/1.1", 8);
	l->alpn0_len = 8;
	tls_ja4(l, ja4);
	assert_string_equal(ja4, "t13i1516h1_8daaf6152771_6d807ffa2a79");
	/* nothing at all */
	memset(l, 0, sizeof(*l));
	tls_ja4(l, ja4);
	assert_string_equal(ja4, "t00i000000_000000000000_000000000000");
	free(l);
}

/* JA4's ALPN rule for bytes that are not letters or digits. */
static void
test_ja4_alpn(void **state)
{
	static const struct {
		const char *alpn;
		size_t	    len;
		const char *want; /* characters 7 and 8 of the JA4 */
	} alpns[] = {
		{ "\xab", 1, "ab" },
		{ "\x20", 1, "20" },
		{ "\xab\xcd", 2, "ad" },
		{ "\x20\x61", 2, "21" },
		{ "\x30\xab", 2, "3b" },
		{ "\x61\x20", 2, "60" },
		{ "\x30\x31\xab\xcd", 4, "3d" },
		{ "\x30\xab\xcd\x31", 4, "01" },
		{ "x", 1, "xx" },
	};
	struct tls_lists *l = calloc(1, sizeof(*l));
	char		  ja4[40];

	(void)state;
	assert_non_null(l);
	l->has_alpn = 1;
	for (size_t i = 0; i < N(alpns); i++) {
		memcpy(l->alpn0, alpns[i].alpn, alpns[i].len);
		l->alpn0_len = alpns[i].len;
		tls_ja4(l, ja4);
		assert_memory_equal(ja4 + 8, alpns[i].want, 2);
	}
	free(l);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(tls_cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
	assert_string_equal(tls_cipher_name(0xc02f),
	    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_null(tls_cipher_name(0x0a0a));
	assert_string_equal(tls_group_name(0x001d), "x25519");
	assert_string_equal(tls_group_name(0x0017), "secp256r1");
	assert_string_equal(tls_version_name(0x0303), "TLSv12");
	assert_string_equal(tls_alert_name(40), "handshake_failure");
	assert_string_equal(tls_weak_reason(0x0005), "RC4");
	assert_string_equal(tls_weak_reason(0x000a), "3DES");
	assert_string_equal(tls_weak_reason(0x0002), "NULL encryption");
	assert_string_equal(tls_weak_reason(0x0018), "anonymous");
	assert_null(tls_weak_reason(0x1301));
	assert_true(tls_is_grease(0x0a0a));
	assert_true(tls_is_grease(0xfafa));
	assert_false(tls_is_grease(0x0a1a));
}

/* The memory all sessions share: one that would pass it reads no more
 * of its handshake, says so, and every byte taken is given back. */
static void
test_budget(void **state)
{
	static const struct md_flow flow = { .id = 1 };
	struct md_budget	    b = { 0, 512 };
	struct md_env		    env;
	struct recsink		    rec;
	struct md_sink		    sink;
	void			   *st;

	(void)state;
	md_env_default(&env);
	env.tls_budget = &b;
	recsink_init(&rec, &sink);
	st = md_proto_smtp.open(&sink, &env, &flow, MD_TLS_IMPLICIT, 0);
	md_proto_smtp.feed(st, MD_C2S, (const uint8_t *)CLIENT1,
	    sizeof(CLIENT1) - 1, 1);
	assert_int_equal(b.held, 0);
	b.max = 1 << 20; /* room now: the server's flight is read */
	md_proto_smtp.feed(st, MD_S2C, (const uint8_t *)SERVER1,
	    sizeof(SERVER1) - 1, 2);
	assert_true(b.held > 0); /* a handshake buffer, kept for the next */
	md_proto_smtp.close(st, MD_END_CAPTURE_END, 3);
	assert_int_equal(b.held, 0);
	assert_non_null(strstr(recsink_text(&rec), "ANOMALY tls_budget\n"));
	assert_non_null(strstr(recsink_text(&rec), "TLS_CERT \"LEAFCERT\""));
	assert_null(strstr(recsink_text(&rec), "TLS_HELLO TLSv13"));
	recsink_free(&rec);
}

/* The TLS stream alone, as a dissector hands it its bytes after
 * STARTTLS: its events are the session's (through emit), the same for
 * every split of the records; a stream that saw no byte says nothing at
 * its end, one that saw a gap says TLS_END. */
static const struct md_flow stream_flow = { .id = 7 };

static int
stream_emit(void *arg, struct md_event *ev)
{
	struct md_sink *sink = arg;

	ev->flow = &stream_flow;
	return sink->emit(sink->arg, ev);
}

static char *
stream_events(size_t cut)
{
	struct recsink	     rec;
	struct md_sink	     sink;
	struct tls_stream_io io = { stream_emit, &sink, NULL, NULL };
	struct tls_stream   *t;
	size_t		     n = sizeof(CLIENT1) - 1;
	char		    *text;

	recsink_init(&rec, &sink);
	assert_non_null(t = tls_stream_new(NULL, NULL, &io));
	tls_stream_feed(t, MD_C2S, (const uint8_t *)CLIENT1, cut, 1);
	tls_stream_feed(t, MD_C2S, (const uint8_t *)CLIENT1 + cut, n - cut, 1);
	tls_stream_feed(t, MD_S2C, (const uint8_t *)SERVER1,
	    sizeof(SERVER1) - 1, 2);
	tls_stream_end(t, 3);
	text = strdup(recsink_text(&rec));
	recsink_free(&rec);
	return text;
}

static void
test_stream_alone(void **state)
{
	char		    *whole = stream_events(0);
	struct recsink	     rec;
	struct md_sink	     sink;
	struct tls_stream_io io = { stream_emit, &sink, NULL, NULL };
	struct tls_stream   *t;

	(void)state;
	assert_non_null(strstr(whole, "TLS_HELLO"));
	assert_non_null(strstr(whole, "TLS_CERT \"LEAFCERT\""));
	assert_non_null(strstr(whole, "TLS_END"));
	for (size_t cut = 1; cut < sizeof(CLIENT1) - 1; cut++) {
		char *split = stream_events(cut);

		assert_string_equal(split, whole);
		free(split);
	}
	free(whole);
	/* nothing seen: nothing said */
	recsink_init(&rec, &sink);
	assert_non_null(t = tls_stream_new(NULL, NULL, &io));
	tls_stream_end(t, 1);
	assert_string_equal(recsink_text(&rec), "");
	recsink_free(&rec);
	/* a gap: the stream was there, and ends */
	recsink_init(&rec, &sink);
	assert_non_null(t = tls_stream_new(NULL, NULL, &io));
	tls_stream_gap(t, MD_S2C, 1);
	tls_stream_end(t, 2);
	assert_non_null(strstr(recsink_text(&rec), "TLS_END"));
	recsink_free(&rec);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ja4_example),
		cmocka_unit_test(test_ja4_alpn),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_stream_alone),
	};
	int failed =
	    cmocka_run_group_tests_name("tls_fingerprints", tests, NULL, NULL);

	return failed +
	    transcript_suite("tls", &md_proto_smtp, cases, N(cases));
}
