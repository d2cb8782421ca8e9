/*
 * fuzz_mime.c - libFuzzer target for the MIME tap on its own: the input
 * is a message, fed in pieces whose sizes its first byte chooses.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"
#include "dissect/mime.h"
#include "tests/fuzz/touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct md_flow flow = { .id = 1 };
	uint8_t			    sum = 0;
	struct md_sink		    null = { touch_event, &sum }, in;
	struct md_event		    ev = { .flow = &flow, .tx = 1 };
	struct mime_tap		   *tap;
	size_t			    step;

	if (size < 1 || (tap = mime_tap_new(&null)) == NULL)
		return 0;
	step = 1 + data[0];
	mime_tap_sink(tap, &in);
	ev.type = MD_EV_MSG_BEGIN;
	in.emit(in.arg, &ev);
	ev.type = MD_EV_MSG_DATA;
	for (size_t i = 1; i < size; i += step) {
		ev.arg.p = data + i;
		ev.arg.len = size - i < step ? size - i : step;
		in.emit(in.arg, &ev);
	}
	ev.type = MD_EV_MSG_END;
	ev.arg.len = 0;
	ev.code = data[0] & 1;
	in.emit(in.arg, &ev);
	mime_tap_free(tap);
	return 0;
}
