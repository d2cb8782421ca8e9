/*
 * fuzz_pipeline.c - libFuzzer target for the whole read path: capture
 * file bytes (pcap or pcapng, any link layer) through libpcap, the
 * capture layer, libnids, detection, the dissectors and the MIME tap,
 * into a sink that reads everything and keeps nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"
#include "dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
touch(uint8_t *sum, struct md_bytes b)
{
	for (size_t i = 0; i < b.len; i++)
		*sum ^= b.p[i];
}

/* Reads every field of every event: ASan checks each byte. */
static int
null_emit(void *arg, const struct md_event *ev)
{
	uint8_t *sum = arg;

	touch(sum, ev->name);
	touch(sum, ev->arg);
	touch(sum, ev->extra);
	touch(sum, ev->aux);
	touch(sum, ev->proof);
	*sum ^= (uint8_t)(ev->type ^ ev->seq ^ ev->tx ^ (unsigned)ev->code ^
	    ev->num[0] ^ ev->num[1] ^ ev->num[2] ^ ev->num[3]);
	if (ev->flow != NULL)
		*sum ^= (uint8_t)(ev->flow->id ^ ev->flow->frame ^
		    (uint64_t)ev->flow->offset ^ ev->flow->cli_addr[15]);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	uint8_t sum = 0;
	struct md_sink null = { null_emit, &sum };
	struct capture_opts co = { 0 };
	struct mime_tap *tap;
	char err[256];
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/mailsift-fuzz-%d.pcap",
		    (int)getpid());
	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if ((tap = mime_tap_new(&null)) == NULL)
		return 0;
	mime_tap_sink(tap, &co.sink);
	md_limits_default(&co.lim);
	co.max_streams = 64;
	if (capture_init(&co, err, sizeof(err)) == 0) {
		struct capture_file_info info;

		(void)capture_file(path, &info, err, sizeof(err));
		capture_finish();
	}
	mime_tap_free(tap);
	return 0;
}
