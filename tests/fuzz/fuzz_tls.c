/*
 * fuzz_tls.c - libFuzzer target for the TLS stream (tls.h) on its own,
 * as a dissector hands it its bytes: records, handshakes put together
 * across them, hellos, certificates, alerts, decrypted bytes.
 *
 * Input: chunks, each a byte (high bit: direction; low 7 bits: length,
 * 0: bytes lost) and that many bytes, fed in order to the stream of an
 * implicit-TLS session.  Seeds: tests/tools/mktlsvectors.py's records.
 * The stream holds keys for their client random (made-up secrets of TLS
 * 1.2 and 1.3), so the protected records are gathered and opened too:
 * the fuzzer reaches the record layer's decryption and its failures.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dissect/dissect.h"
#include "dissect/tls.h"
#include "dissect/tlskeys.h"
#include "tests/fuzz/touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct md_flow flow = { .id = 1 };

/* The session's events, as a dissector's sink would see them. */
static int
emit(void *arg, struct md_event *ev)
{
	ev->flow = &flow;
	return touch_event(arg, ev);
}

/* What it decrypts, read as the dissector would. */
static void
plain(void *arg, enum md_dir dir, const uint8_t *p, size_t n)
{
	uint8_t *sum = arg;

	(void)dir;
	for (size_t i = 0; i < n; i++)
		*sum ^= p[i];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t			 sum = 0;
	struct tls_stream_io	 io = { emit, &sum, plain, &sum };
	struct tls_stream	*t;
	size_t			 i = 0;
	static const char *const lines[] = {
		"CLIENT_RANDOM 01010101010101010101010101010101010101010101010101"
		"01010101010101 0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
		"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET 0101010101010101010101010101010"
		"101010101010101010101010101010101 b67b7d690cc16c4e75e54213cb2d37"
		"b4e9c912bcded9105d42befd59d391ad38",
		"SERVER_HANDSHAKE_TRAFFIC_SECRET 0101010101010101010101010101010"
		"101010101010101010101010101010101 b67b7d690cc16c4e75e54213cb2d37"
		"b4e9c912bcded9105d42befd59d391ad38",
	};
	struct tls_keyring *keys = tls_keyring_new();
	/* small: the fuzzer reaches what happens when it is spent */
	struct md_budget budget = { 0, 96 * 1024 };

	if (keys == NULL)
		return 0;
	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++)
		(void)tls_keyring_add_line(keys, lines[k], strlen(lines[k]));
	if ((t = tls_stream_new(keys, &budget, &io)) == NULL) {
		tls_keyring_free(keys);
		return 0;
	}
	while (i < size) {
		enum md_dir dir = data[i] & 0x80 ? MD_S2C : MD_C2S;
		size_t	    n = data[i] & 0x7f;

		i++;
		if (n > size - i)
			n = size - i;
		if (n == 0)
			tls_stream_gap(t, dir, i);
		else
			tls_stream_feed(t, dir, data + i, n, i);
		i += n;
	}
	tls_stream_end(t, size);
	tls_keyring_free(keys);
	if (budget.held != 0) /* every byte taken was given back */
		__builtin_trap();
	return 0;
}
