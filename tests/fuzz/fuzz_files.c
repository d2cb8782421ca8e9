/*
 * fuzz_files.c - libFuzzer target for the files found inside parts: the
 * input is walked as a TNEF stream, and scanned for uuencoded blocks in
 * pieces whose sizes its first byte chooses.  Every byte reported is
 * read, so that ASan checks it.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissect/tnef.h"
#include "dissect/uu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
touch(uint8_t *sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*sum ^= p[i];
}

static void
on_file(void *arg, const struct tnef_file *f)
{
	touch(arg, (const uint8_t *)f->name, sizeof(f->name));
	touch(arg, (const uint8_t *)f->mime, sizeof(f->mime));
	touch(arg, f->data, f->len);
}

static void
on_bytes(void *arg, const uint8_t *p, size_t n)
{
	touch(arg, p, n);
}

static void
on_begin(void *arg, const char *name)
{
	touch(arg, (const uint8_t *)name, UU_NAME_MAX);
}

static void
on_end(void *arg, int complete)
{
	*(uint8_t *)arg ^= (uint8_t)complete;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	       sum = 0;
	struct uu_cb   cb = { on_bytes, on_begin, on_bytes, on_end, &sum };
	struct uu_scan s;
	size_t	       step;

	(void)tnef_walk(data, size, on_file, &sum);
	if (size < 1)
		return 0;
	step = 1 + data[0];
	uu_init(&s);
	for (size_t i = 1; i < size; i += step)
		uu_feed(&s, data + i, size - i < step ? size - i : step, &cb);
	uu_finish(&s, &cb);
	return sum == 0x5a ? 0 : 0;
}
