/*
 * fuzz_filters.c - libFuzzer target for the listings' filters and views
 * (cli/listings.c): what mailsift sessions|messages|... take as options
 * and serve's /api/listing/NAME takes as query parameters.  Any bytes
 * as: a listing, which filters are on, their values, a sort column, the
 * order, a count or a page; prepared and run against a log made once
 * with a few rows whose values tie and are NULL (a sorted page after a
 * row starts at the row's value: its ties, the values past it and the
 * NULLs are parts of their own).  A selection is refused with a message (a
 * value that is not one, a filter or column that does not apply) or runs; a
 * value never reaches the SQL as SQL (a statement the log refuses is a crash
 * here).
 *
 * Input: byte 0 the listing; byte 1 the order (bit 0 descending, bit 1
 * a count, bits 2-7 limit); then lines: the first a sort column ("-":
 * none; "v:COLUMN" a column's values instead, --values; "a:KEY" or
 * "b:KEY" the page after or before a row's key), each next "F=VALUE"
 * with F a filter's number (flags take "1"), or "a:KEY" or "b:KEY" (a
 * sorted page after or before a row).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/listings.h"
#include "store/query.h"
#include "store/store.h"
#include "tests/fuzz/emptylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sessions 1-4 and messages 1-6: durations, users, sizes and subjects
 * that tie, and some NULL; a login and a TLS handshake. */
static const char rows_sql[] =
    "INSERT INTO sessions (id, run_id, proto, client_ip, client_port,"
    " server_ip, server_port, start_ts, end_ts, username, tls) VALUES"
    " (1, (SELECT max(id) FROM runs), 'smtp', '192.0.2.1', 40000,"
    " '192.0.2.2', 25, 1700000000, 1700000002, 'alice', 'none'),"
    " (2, (SELECT max(id) FROM runs), 'imap', '192.0.2.3', 40001,"
    " '192.0.2.2', 143, 1700000001, NULL, NULL, 'starttls'),"
    " (3, (SELECT max(id) FROM runs), 'smtp', '2001:db8::1', 40002,"
    " '192.0.2.2', 25, 1700000002, 1700000004, 'alice', 'none'),"
    " (4, (SELECT max(id) FROM runs), 'pop3', '192.0.2.1', 40003,"
    " '192.0.2.2', 110, 1700000003, NULL, NULL, 'none');"
    "INSERT INTO messages (id, session_id, tx, seq, proto, method,"
    " direction, begin_ts, size, complete, subject, from_addr, to_addrs)"
    " VALUES (1, 1, 1, 1, 'smtp', 'DATA', 'c2s', 1700000000, 5, 1, 'a',"
    " 'a@example.org', 'b@example.org'),"
    " (2, 1, 2, 2, 'smtp', 'DATA', 'c2s', 1700000001, NULL, 0, NULL,"
    " NULL, NULL),"
    " (3, 2, 1, 1, 'imap', 'FETCH', 's2c', 1700000001, 5, 1, 'a', NULL,"
    " 'c@example.org'),"
    " (4, 3, 1, 1, 'smtp', 'DATA', 'c2s', 1700000002, 9, 1, NULL,"
    " 'a@example.org', NULL),"
    " (5, 3, 2, 2, 'smtp', 'BDAT', 'c2s', 1700000003, NULL, 1, 'b',"
    " 'd@example.org', 'b@example.org'),"
    " (6, 4, 1, 1, 'pop3', 'RETR', 's2c', 1700000004, 5, 1, 'a', NULL,"
    " NULL);"
    "INSERT INTO auth (id, session_id, seq, ts, mechanism, username,"
    " password, outcome) VALUES (1, 1, 1, 1700000000, 'PLAIN', 'alice',"
    " 'secret', 'success'), (2, 3, 1, 1700000002, 'LOGIN', NULL, NULL,"
    " 'failure');"
    "INSERT INTO tls (session_id, ts, version) VALUES (2, 1700000001,"
    " 'TLSv12');";

static struct query *
open_log(void)
{
	static struct query *db;
	const char	    *path;
	char		     err[512];

	if (db != NULL)
		return db;
	path = emptylog_with_rows("fuzz_filters", rows_sql);
	if ((db = query_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_filters: %s\n", err);
		abort();
	}
	return db;
}

/* Whether err is the log refusing the statement (listing_prepare_view
 * says "... (is it a mailsift log of this version?)"), not a refusal of
 * the selection, whose message may quote a column name of any text. */
static int
sql_refused(const struct listing *l, const char *err, const char *query)
{
	static const char tail[] = " (is it a mailsift log of this version?)";
	char		  nocol[96];
	size_t		  n = strlen(err);

	snprintf(nocol, sizeof(nocol), "%s has no column ", l->name);
	if (strncmp(err, nocol, strlen(nocol)) == 0)
		return 0;
	/* the search language's refusals end with the query they quote,
	 * which may itself end with the tail */
	if (query != NULL && n >= strlen(query) &&
	    strcmp(err + n - strlen(query), query) == 0)
		return 0;
	return n >= sizeof(tail) - 1 &&
	    strcmp(err + n - (sizeof(tail) - 1), tail) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query	     *db = open_log();
	const char	     *val[F_COUNT] = { 0 };
	int		      flag[F_COUNT] = { 0 };
	struct listing_view   v = { 0 };
	const struct listing *l;
	struct query_rows    *st;
	char		     *text, *line, *save = NULL, err[2048] = "";
	int		      first = 1;

	if (size < 2 || size > 4096)
		return 0;
	l = &listings[data[0] % nlistings];
	v.desc = data[1] & 1;
	v.count = (data[1] >> 1) & 1;
	v.limit = data[1] >> 2;
	if ((text = malloc(size - 1)) == NULL)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		long  f;

		if (first) { /* the sort column ("-": none) */
			first = 0;
			if (strncmp(line, "v:", 2) == 0)
				v.values = line + 2;
			else if (strncmp(line, "a:", 2) == 0)
				v.after = strtoll(line + 2, NULL, 10);
			else if (strncmp(line, "b:", 2) == 0)
				v.before = strtoll(line + 2, NULL, 10);
			else if (strcmp(line, "-") != 0)
				v.sort = line;
			continue;
		}
		if (strncmp(line, "a:", 2) == 0)
			v.after = strtoll(line + 2, NULL, 10);
		else if (strncmp(line, "b:", 2) == 0)
			v.before = strtoll(line + 2, NULL, 10);
		if (eq == NULL)
			continue;
		*eq = '\0';
		f = strtol(line, NULL, 10);
		if (f < 0 || f >= F_COUNT)
			continue;
		val[f] = eq + 1;
		flag[f] = strcmp(eq + 1, "1") == 0;
	}
	if ((st = listing_prepare_view(db, l, val, flag, &v, err,
		 sizeof(err))) != NULL) {
		int r;

		while ((r = query_next(st)) == 1)
			;
		if (r != 0) {
			fprintf(stderr, "fuzz_filters: %s: %s\n", l->name,
			    query_error(db));
			abort();
		}
		query_finish(st);
	} else if (err[0] == '\0' || sql_refused(l, err, val[F_QUERY])) {
		/* refused without a word, or SQL the log would not take */
		fprintf(stderr, "fuzz_filters: %s: %s\n", l->name, err);
		abort();
	}
	free(text);
	return 0;
}
