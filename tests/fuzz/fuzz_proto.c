/*
 * fuzz_proto.c - libFuzzer target for one protocol dissector, with the
 * MIME tap behind it (so every message the fuzzer makes up is parsed
 * too).  FUZZ_PROTO names the dissector at build time.
 *
 * Input: the first byte chooses the TLS mode and mid-stream pickup; then
 * chunks, each a byte (high bit: direction; low 7 bits: length) and that
 * many bytes, fed in order: any split of a two-way conversation.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dissect/dissect.h"
#include "dissect/mime.h"
#include "tests/fuzz/touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct md_proto *const protos[] = { &FUZZ_PROTO };
	struct md_flow			    flow = { .id = 1 };
	uint8_t				    sum = 0;
	struct md_sink	       null = { touch_event, &sum }, tapped;
	struct md_env	       env;
	struct mime_tap	      *tap;
	struct assembler      *pieces;
	struct md_sink	       in;
	const struct md_proto *pr = protos[0];
	enum md_tls	       tls;
	size_t		       i = 1;
	void		      *st;

	if (size < 1)
		return 0;
	tls = (data[0] & 3) == 3 ? MD_TLS_IMPLICIT : MD_TLS_NONE;
	flow.midstream = (data[0] >> 2) & 1;
	flow.proto = pr->id; /* as the capture layer sets it */
	md_env_default(&env);
	env.lim.pending_max = 8 + (data[0] >> 4); /* small: reach the caps */
	env.lim.responses_max = 16;
	if ((tap = mime_tap_new(&null)) == NULL)
		return 0;
	mime_tap_sink(tap, &tapped);
	/* the assembler too, as in mailsift: dissector -> pieces -> tap */
	if ((pieces = assembler_new(&tapped)) == NULL) {
		mime_tap_free(tap);
		return 0;
	}
	assembler_sink(pieces, &in);
	if ((st = pr->open(&in, &env, &flow, tls, 0)) == NULL) {
		assembler_free(pieces);
		mime_tap_free(tap);
		return 0;
	}
	while (i < size) {
		enum md_dir dir = data[i] & 0x80 ? MD_S2C : MD_C2S;
		size_t	    n = data[i] & 0x7f;

		i++;
		if (n > size - i)
			n = size - i;
		if (n == 0 && i < size && (data[i - 1] & 0x7f) == 0)
			pr->gap(st, dir, 100, i);
		else if (pr->feed(st, dir, data + i, n, i) != 0)
			break;
		i += n;
	}
	pr->close(st, MD_END_CLOSE, size);
	assembler_free(pieces);
	mime_tap_free(tap);
	return 0;
}
