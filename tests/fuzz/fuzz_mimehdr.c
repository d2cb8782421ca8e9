/*
 * fuzz_mimehdr.c - libFuzzer target for header field decoding: RFC 2047
 * words, RFC 2231 parameters, dates, on any bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissect/mimehdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[512], tok[64], date[20];

	(void)mh_decode_words(data, size, out, sizeof(out));
	(void)mh_param(data, size, "filename", out, sizeof(out));
	(void)mh_param(data, size, "boundary", out, 71);
	(void)mh_token(data, size, tok, sizeof(tok));
	(void)mh_date_utc(data, size, date);
	return 0;
}
