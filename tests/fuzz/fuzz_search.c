/*
 * fuzz_search.c - libFuzzer target for the search language (cli/search.c)
 * that mailsift search and every holder of serve's token type into: any
 * bytes as a query, prepared and run against an empty log made once,
 * under both of its SQL forms (the text index's and the fields' alone).
 * A query is refused with a message or runs; it never breaks out of its
 * quoting into the SQL or the text index's syntax (a syntax error is a
 * crash here).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/search.h"
#include "store/query.h"
#include "store/store.h"
#include "tests/fuzz/emptylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether err is one of the language's own refusals (search.c), which
 * may quote the query; anything else is SQL the log would not take. */
static int
refusal(const char *err)
{
	static const char *const ends[] = {
		"not an MD5, SHA-1 or SHA-256 in hex",
		"not an address or a network", "no value after the colon",
		"not smtp, pop3 or imap", "or a range A..B", "values at most",
		"deep at most", "nothing to look for", "the query is too long"
	};
	/* the operators' refusals, each quoting the query */
	static const char *const starts[] = { "a quote left open in: ",
		"NOT with nothing after it in: ", "a '(' left open in: ",
		"nothing after the last operator in: ",
		"a group with nothing in it in: ",
		"OR and AND need a term on each side in: ",
		"a ')' with no '(' before it in: " };
	size_t			 n = strlen(err);

	for (size_t i = 0; i < sizeof(starts) / sizeof(*starts); i++)
		if (strncmp(err, starts[i], strlen(starts[i])) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++)
		if (n >= strlen(ends[i]) &&
		    strcmp(err + n - strlen(ends[i]), ends[i]) == 0)
			return 1;
	return 0;
}

static struct query *
open_log(void)
{
	static struct query *db;
	const char	    *path;
	char		     err[512];

	if (db != NULL)
		return db;
	path = emptylog_make("fuzz_search");
	if ((db = query_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_search: %s\n", err);
		abort();
	}
	return db;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query	  *db = open_log();
	struct query_rows *st;
	char		  *q, err[2048];

	if (size > 8192)
		return 0;
	if ((q = malloc(size + 1)) == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	err[0] = '\0';
	if ((st = search_prepare(db, q, 5, NULL, err, sizeof(err))) != NULL) {
		int r;

		while ((r = query_next(st)) == 1)
			;
		if (r != 0) { /* the text index refused what it was given */
			fprintf(stderr, "fuzz_search: %s\n", query_error(db));
			abort();
		}
		query_finish(st);
	} else if (!refusal(err)) {
		/* refused without a word, or SQL the log would not take */
		fprintf(stderr, "fuzz_search: %s\n", err);
		abort();
	}
	free(q);
	return 0;
}
