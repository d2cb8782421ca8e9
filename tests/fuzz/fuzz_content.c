/*
 * fuzz_content.c - libFuzzer target for what the store makes of a part's
 * bytes (store/analyse/content.c): libmagic's type, the archive walk through
 * libarchive (nested archives, encrypted files, the passwords of a text
 * tried), and the password finder on the same bytes read as text.  Every
 * entry reported is read, so that ASan checks it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/analyse/content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct typer *typer; /* libmagic, loaded once for the run */
	static void	    *slot;
	struct content_job  *j = calloc(1, sizeof(*j));
	volatile uint8_t     sum = 0;

	if (j == NULL)
		return 0;
	if (typer == NULL)
		typer = typer_new();
	j->typer = typer;
	strcpy(j->declared, "application/pdf");
	strcpy(j->filename, "x.pdf");
	content_passwords(j, (const char *)data, size);
	content_analyse(j, &slot, data, size, 1);
	for (int i = 0; i < j->nentries; i++)
		for (size_t k = 0; k < sizeof(j->entries[i].path); k++)
			sum ^= (uint8_t)j->entries[i].path[k];
	content_job_free(j);
	(void)sum;
	return 0;
}
