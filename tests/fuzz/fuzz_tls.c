/*
 * fuzz_tls.c - libFuzzer target for the TLS view (tls.c): records,
 * handshakes put together across them, hellos, certificates, alerts.
 *
 * Input: chunks, each a byte (high bit: direction; low 7 bits: length,
 * 0: bytes lost) and that many bytes, fed in order to the view of an
 * implicit-TLS session.  Seeds: tests/tools/mktlsvectors.py's records.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "dissect.h"
#include "tls.h"
#include "touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_flow	 flow = { .id = 1 };
	uint8_t		 sum = 0;
	struct md_sink	 sink = { touch_event, &sum };
	struct md_out	 o;
	struct tls_view *v;
	size_t		 i = 0;

	out_open(&o, &sink, &flow, MD_TLS_IMPLICIT, 0, "smtp");
	if ((v = tls_view_new()) == NULL)
		return 0;
	while (i < size) {
		enum md_dir dir = data[i] & 0x80 ? MD_S2C : MD_C2S;
		size_t	    n = data[i] & 0x7f;

		i++;
		if (n > size - i)
			n = size - i;
		if (n == 0)
			tls_view_gap(v, dir);
		else
			tls_view_feed(v, &o, dir, data + i, n);
		i += n;
	}
	tls_view_end(v, &o);
	return 0;
}
