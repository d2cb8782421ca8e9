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

#include "capture/capture.h"
#include "dissect/dissect.h"
#include "dissect/mime.h"
#include "tests/fuzz/touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	    path[64];
	uint8_t		    sum = 0;
	struct md_sink	    null = { touch_event, &sum };
	struct capture_opts co = { 0 };
	struct mime_tap	   *tap;
	char		    err[256];
	FILE		   *f;

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
	md_env_default(&co.env);
	co.max_streams = 64;
	if (capture_init(&co, err, sizeof(err)) == 0) {
		struct capture_file_info info;

		(void)capture_file(path, NULL, &info, err, sizeof(err));
		capture_finish();
	}
	mime_tap_free(tap);
	return 0;
}
