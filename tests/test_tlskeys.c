/*
 * test_tlskeys.c - key logs and the record protection they give: the
 * keyring's parsing, TLS 1.3 key derivation on RFC 8448's trace, a
 * KeyUpdate, the TLS 1.2 key block, and records that do not open.
 * Expected values: RFC 8448 3 (the server's handshake key and IV), and
 * `openssl kdf` (HKDF, TLS1-PRF) for the rest, apart from our code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/tlskeys.h"
#include "dissect/util.h"

static void
unhex(const char *h, uint8_t *out)
{
	for (size_t i = 0; h[2 * i] != '\0'; i++)
		out[i] = (uint8_t)(md_hex_value((uint8_t)h[2 * i]) << 4 |
		    md_hex_value((uint8_t)h[2 * i + 1]));
}

#define LINE(s) (s), strlen(s)

static void
test_keyring(void **state)
{
	struct tls_keyring	 *k = tls_keyring_new();
	const struct tls_secrets *s;
	uint8_t			  random[32];
	const char *r = "0101010101010101010101010101010101010101010101010101"
			"010101010101";
	char	    line[300];

	(void)state;
	assert_non_null(k);
	assert_int_equal(tls_keyring_add_line(k, LINE("# a comment")), 0);
	assert_int_equal(tls_keyring_add_line(k, LINE("")), 0);
	snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s\r", r,
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
	assert_int_equal(tls_keyring_add_line(k, LINE(line)), 1);
	snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 %s %s", r,
	    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
	assert_int_equal(tls_keyring_add_line(k, LINE(line)), 1);
	snprintf(line, sizeof(line), "EXPORTER_SECRET %s %s", r,
	    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
	assert_int_equal(tls_keyring_add_line(k, LINE(line)), 0);
	/* a master secret of the wrong size, a random that is not hex, a
	 * line with no secret */
	snprintf(line, sizeof(line), "CLIENT_RANDOM %s 0b0b", r);
	assert_int_equal(tls_keyring_add_line(k, LINE(line)), -1);
	assert_int_equal(tls_keyring_add_line(k, LINE("CLIENT_RANDOM zz 0b0b")),
	    -1);
	assert_int_equal(tls_keyring_add_line(k, LINE("CLIENT_RANDOM")), -1);
	assert_int_equal(tls_keyring_count(k), 1);
	unhex(r, random);
	assert_non_null(s = tls_keyring_find(k, random));
	assert_int_equal(s->have, TLS_HAVE_MASTER | TLS_HAVE_SATS);
	assert_int_equal(s->master[47], 0x0b);
	assert_int_equal(s->ap_len, 32);
	random[31] ^= 1;
	assert_null(tls_keyring_find(k, random));
	tls_keyring_free(k);
}

/* RFC 8448 3: the server's handshake traffic key and IV. */
static void
test_tls13_rfc8448(void **state)
{
	static const char *secret = "b67b7d690cc16c4e75e54213cb2d37b4e9c912b"
				    "cded9105d42befd59d391ad38";
	struct tls_suite   s = tls_suite_of(0x1301);
	struct tls_prot	   t;
	uint8_t		   sec[32], key[16], iv[12], next[32];

	(void)state;
	unhex(secret, sec);
	unhex("3fce516009c21727d0f2e4e86ee403bc", key);
	unhex("5d313eb2671276ee13000b30", iv);
	assert_int_equal(s.aead, TLS_AEAD_AES128GCM);
	assert_int_equal(tls13_prot(&t, &s, sec, 32), 0);
	assert_memory_equal(t.key, key, 16);
	assert_memory_equal(t.iv, iv, 12);
	/* KeyUpdate: HKDF-Expand-Label(secret, "traffic upd", "", 32) */
	unhex(
	    "c5847ffa1bfea2d5c409eee45d2813181327a78a52ee6d02d8a5e10fbf0fface",
	    next);
	t.seq = 7;
	assert_int_equal(tls13_key_update(&t), 0);
	assert_memory_equal(t.secret, next, 32);
	assert_int_equal(t.seq, 0);
}

/* RFC 5246 6.3: the key block of an AES-128-GCM suite. */
static void
test_tls12_key_block(void **state)
{
	struct tls_suite s = tls_suite_of(0xc02f);
	struct tls_prot	 c, v;
	uint8_t		 master[48], cr[32], sr[32], block[40];

	(void)state;
	memset(master, 0x0b, sizeof(master));
	memset(cr, 0x01, sizeof(cr));
	memset(sr, 0x02, sizeof(sr));
	unhex("9d1a182f5097eb76f75a9d3cc78e5811a1a62066952d4a5f9c06f786182496"
	      "6b95c1a842d81116fd",
	    block);
	assert_int_equal(tls12_prot(&c, &v, &s, 0x0303, 0, master, cr, sr), 0);
	assert_memory_equal(c.key, block, 16);
	assert_memory_equal(v.key, block + 16, 16);
	assert_memory_equal(c.iv, block + 32, 4);
	assert_memory_equal(v.iv, block + 36, 4);
	assert_true(c.explicit_nonce);
	/* ChaCha20-Poly1305 (RFC 7905): a 12-byte IV, no explicit nonce */
	s = tls_suite_of(0xcca8);
	assert_int_equal(tls12_prot(&c, &v, &s, 0x0303, 0, master, cr, sr), 0);
	assert_false(c.explicit_nonce);
	/* CBC suites by name: cipher and MAC */
	s = tls_suite_of(0x002f); /* TLS_RSA_WITH_AES_128_CBC_SHA */
	assert_int_equal(s.aead, TLS_CBC_AES128);
	assert_int_equal(s.mac_len, 20);
	s = tls_suite_of(0xc028); /* ECDHE_RSA_WITH_AES_256_CBC_SHA384 */
	assert_int_equal(s.aead, TLS_CBC_AES256);
	assert_int_equal(s.mac_len, 48);
	s = tls_suite_of(0x000a); /* TLS_RSA_WITH_3DES_EDE_CBC_SHA */
	assert_int_equal(s.aead, TLS_CBC_3DES);
	s = tls_suite_of(0x0041); /* Camellia: not decrypted */
	assert_int_equal(s.aead, TLS_AEAD_NONE);
	assert_int_equal(tls12_prot(&c, &v, &s, 0x0303, 0, master, cr, sr), -1);
}

/* A record that does not authenticate is refused, short ones too, and
 * the sequence number does not move. */
static void
test_bad_records(void **state)
{
	struct tls_suite s = tls_suite_of(0x1302);
	struct tls_prot	 t;
	uint8_t		 sec[48], body[64], *out;
	uint8_t		 hdr[5] = { 23, 3, 3, 0, 40 };
	size_t		 n;

	(void)state;
	memset(sec, 0x42, sizeof(sec));
	memset(body, 0x5a, sizeof(body));
	assert_int_equal(tls13_prot(&t, &s, sec, 48), 0);
	assert_int_equal(tls_open_record(&t, hdr, body, 40, &out, &n), -1);
	assert_int_equal(tls_open_record(&t, hdr, body, 15, &out, &n), -1);
	assert_int_equal(tls_open_record(&t, hdr, body, 0, &out, &n), -1);
	assert_int_equal(t.seq, 0);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring),
		cmocka_unit_test(test_tls13_rfc8448),
		cmocka_unit_test(test_tls12_key_block),
		cmocka_unit_test(test_bad_records),
	};

	return cmocka_run_group_tests_name("tlskeys", tests, NULL, NULL);
}
