/*
 * test_analyse.c - the analysis stage (store/analyse/analyse.h) on its
 * own, as a writer drives it: messages and parts in, results out in the
 * order their ends were given, the same on the caller's thread and on
 * workers, for any split of the bytes.  Truth for DKIM: dkimpy signed
 * tests/data/dkim-*.eml (tests/tools/mkdkim.py); for digests: a plain
 * SHA-256 of the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "store/analyse/analyse.h"

#define MAX_RESULTS (AN_END_MAX + 136)

/* Owners: the writer's state for each end, here just distinct places. */
static char own_p[] = "p", own_q[] = "q", own_m[] = "m", own_f[3];

/* A result as the callback saw it (its strings copied). */
struct got {
	void *owner;
	int   is_msg;
	char  sha256[HASH_HEX_MAX], md5[HASH_HEX_MAX], body[HASH_HEX_MAX];
	char  magic[128], findings[160], auth_findings[160], path[256];
	int   nchecks, match0, nentries;
};

struct sink {
	struct got r[MAX_RESULTS];
	int	   n;
	int	   rows;  /* message_auth rows told of this message */
	int	   total; /* and of all */
	int	   dropped;
};

static void
on_result(void *arg, const struct an_result *r)
{
	struct sink *k = arg;
	struct got  *g = &k->r[k->n++];

	assert_true(k->n <= MAX_RESULTS);
	memset(g, 0, sizeof(*g));
	g->owner = r->owner;
	g->is_msg = r->is_msg;
	snprintf(g->sha256, sizeof(g->sha256), "%s", r->d.sha256);
	snprintf(g->md5, sizeof(g->md5), "%s", r->d.md5);
	snprintf(g->body, sizeof(g->body), "%s", r->d.body);
	if (!r->is_msg) {
		snprintf(g->magic, sizeof(g->magic), "%s", r->magic);
		snprintf(g->findings, sizeof(g->findings), "%s", r->findings);
		g->nentries = r->nentries;
		return;
	}
	snprintf(g->auth_findings, sizeof(g->auth_findings), "%s",
	    r->auth_findings);
	snprintf(g->path, sizeof(g->path), "%s", r->path);
	g->nchecks = r->nchecks;
	g->match0 = r->nchecks > 0 ? r->check_match[0] : -1;
}

static void
on_row(void *arg, int n, const struct auth_row *row)
{
	struct sink *k = arg;

	(void)row;
	assert_int_equal(n, k->rows + 1); /* numbered in order */
	k->rows++;
	k->total++;
}

static struct analysis *
stage(struct sink *k, unsigned workers)
{
	struct analysis_opts o = { .rules = NULL,
		.sha1 = 0,
		.workers = workers };
	struct analysis	    *an;

	memset(k, 0, sizeof(*k));
	assert_non_null(an = analysis_new(&o, on_result, k));
	return an;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long  n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(b = malloc((size_t)n + 1));
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The header fields of msg, unfolded, told as the MIME tap tells them
 * (raw and decoded alike: these are ASCII). */
static void
tell_header(struct an_msg *m, const char *msg, size_t len, struct sink *k)
{
	const char *p = msg, *end = msg + len;

	while (p < end && *p != '\r' && *p != '\n') {
		char	    name[64], value[4096];
		const char *colon = memchr(p, ':', (size_t)(end - p));
		size_t	    vn = 0;

		assert_non_null(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		p = colon + 1;
		while (p < end && *p == ' ')
			p++;
		for (;;) { /* the value, its folds joined */
			const char *lf = memchr(p, '\n', (size_t)(end - p));
			size_t	    l = (size_t)(lf - p);

			if (l > 0 && p[l - 1] == '\r')
				l--;
			memcpy(value + vn, p, l);
			vn += l;
			p = lf + 1;
			if (p >= end || (*p != ' ' && *p != '\t'))
				break;
		}
		an_msg_header(m, (const uint8_t *)name, strlen(name),
		    (const uint8_t *)value, vn, (const uint8_t *)value, vn,
		    on_row, k);
	}
}

/* One message through the stage, its bytes cut every `chunk`. */
static void
one_message(struct analysis *an, struct sink *k, const char *msg, size_t len,
    size_t chunk, int whole, void *owner)
{
	struct an_msg *m = an_msg_begin(an);

	assert_non_null(m);
	k->rows = 0;
	tell_header(m, msg, len, k);
	for (size_t i = 0; i < len; i += chunk)
		an_msg_data(m, (const uint8_t *)msg + i,
		    len - i < chunk ? len - i : chunk);
	an_msg_end(an, m, whole, owner);
}

static void
file_sha256(const char *path, char hex[HASH_HEX_MAX])
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(an_fd_sha256(fd, hex, NULL), 0);
	close(fd);
}

/* dkimpy's verdicts: the simple and relaxed signatures hold over the body
 * that crossed, the altered one's does not; the signs of an impostor in
 * the header; the same on the caller's thread, on workers, at any cut. */
static void
test_dkim_and_sender(void **state)
{
	static const char *const files[] = { "tests/data/dkim-simple.eml",
		"tests/data/dkim-relaxed.eml", "tests/data/dkim-altered.eml" };
	static const int	 match[] = { 1, 1, 0 };
	static const size_t	 cuts[] = { 1, 7, 4096, 1 << 20 };

	(void)state;
	for (unsigned workers = 0; workers <= 2; workers += 2)
		for (size_t c = 0; c < sizeof(cuts) / sizeof(*cuts); c++) {
			struct sink	*k = malloc(sizeof(*k));
			struct analysis *an = stage(k, workers);

			for (int i = 0; i < 3; i++) {
				size_t len;
				char  *msg = slurp(files[i], &len);

				one_message(an, k, msg, len, cuts[c], 1,
				    &own_f[i]);
				free(msg);
			}
			an_deliver(an, 1);
			assert_int_equal(k->n, 3);
			for (int i = 0; i < 3; i++) {
				char want[HASH_HEX_MAX];

				assert_ptr_equal(k->r[i].owner, &own_f[i]);
				assert_true(k->r[i].is_msg);
				file_sha256(files[i], want);
				assert_string_equal(k->r[i].sha256, want);
				assert_int_equal(strlen(k->r[i].body), 64);
				assert_int_equal(k->r[i].nchecks, 1);
				assert_int_equal(k->r[i].match0, match[i]);
				assert_non_null(strstr(k->r[i].auth_findings,
				    "reply_to_domain"));
				assert_int_equal(strstr(k->r[i].auth_findings,
						     "dkim_body_changed") !=
					NULL,
				    !match[i]);
			}
			assert_true(k->total > 3);
			analysis_free(an);
			free(k);
		}
}

/* A message that did not come whole has no body identity and no DKIM
 * verdict (the body signed is not the body seen). */
static void
test_not_whole(void **state)
{
	struct sink	*k = malloc(sizeof(*k));
	struct analysis *an = stage(k, 1);
	size_t		 len;
	char		*msg = slurp("tests/data/dkim-simple.eml", &len);

	(void)state;
	one_message(an, k, msg, len, len, 0, msg);
	an_deliver(an, 1);
	assert_int_equal(k->n, 1);
	assert_string_equal(k->r[0].body, "");
	assert_int_equal(k->r[0].nchecks, 0);
	assert_int_equal(strlen(k->r[0].sha256), 64);
	free(msg);
	analysis_free(an);
	free(k);
}

static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,
	0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
	0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42,
	0x60, 0x82 };

static struct an_part *
part(struct analysis *an, const char *declared, const char *name, int lost)
{
	return an_part_begin(an, (const uint8_t *)declared, strlen(declared),
	    (const uint8_t *)name, strlen(name), 0, lost);
}

/* A part is typed by its content: a PNG sent as a document is said to
 * be one, and what its name and Content-Type claim is flagged; one whose
 * first bytes the capture lost is not typed at all. */
static void
test_part_typed(void **state)
{
	struct sink	*k = malloc(sizeof(*k));
	struct analysis *an = stage(k, 2);
	struct an_part	*p = part(an, "application/pdf", "invoice.pdf", 0);
	struct an_part	*q = part(an, "image/png", "x.png", 0);

	(void)state;
	an_part_data(p, png, sizeof(png));
	an_part_end(an, p, NULL, 0, own_p);
	an_part_gap(q); /* before any byte: its start is gone */
	an_part_data(q, png + 8, sizeof(png) - 8);
	an_part_end(an, q, NULL, 0, own_q);
	an_deliver(an, 1);
	assert_int_equal(k->n, 2);
	assert_ptr_equal(k->r[0].owner, own_p);
	assert_false(k->r[0].is_msg);
	assert_string_equal(k->r[0].magic, "image/png");
	assert_non_null(strstr(k->r[0].findings, "type_mismatch"));
	assert_non_null(strstr(k->r[0].findings, "extension_mismatch"));
	assert_int_equal(strlen(k->r[0].md5), 32);
	assert_ptr_equal(k->r[1].owner, own_q);
	assert_string_equal(k->r[1].magic, "");
	assert_string_equal(k->r[1].findings, "");
	analysis_free(an);
	free(k);
}

/* A message's own text is typed as text (or HTML) without libmagic; a
 * body that is not text (an image sent as the text) still goes to
 * libmagic and is flagged. */
static void
test_body_text(void **state)
{
	static const char text[] = "Dear customer,\r\nplease pay.\r\n";
	static const char html[] = "<html><body>pay</body></html>\r\n";
	struct sink	 *k = malloc(sizeof(*k));
	struct analysis	 *an = stage(k, 2);
	struct an_part	 *p[3] = { part(an, "text/plain", "", 0),
		  part(an, "text/plain", "", 0), part(an, "text/plain", "", 0) };

	(void)state;
	an_part_data(p[0], (const uint8_t *)text, strlen(text));
	an_part_data(p[1], (const uint8_t *)html, strlen(html));
	an_part_data(p[2], png, sizeof(png));
	for (int i = 0; i < 3; i++)
		an_part_end(an, p[i], NULL, 0, &own_f[i]);
	an_deliver(an, 1);
	assert_int_equal(k->n, 3);
	assert_string_equal(k->r[0].magic, "text/plain");
	assert_string_equal(k->r[0].findings, "");
	assert_string_equal(k->r[1].magic, "text/html");
	assert_string_equal(k->r[2].magic, "image/png");
	assert_non_null(strstr(k->r[2].findings, "type_mismatch"));
	analysis_free(an);
	free(k);
}

/* Ends come back in the order given, messages and parts mixed; past
 * the bound, the oldest is handed back without being asked for; a part
 * the writer could not analyse (NULL) keeps its place. */
static void
test_order_and_bound(void **state)
{
	struct sink	*k = malloc(sizeof(*k));
	struct analysis *an = stage(k, 2);
	static char	 owners[AN_END_MAX + 136];
	const int	 ends = (int)sizeof(owners);
	size_t		 len;
	char		*msg = slurp("tests/data/dkim-relaxed.eml", &len);

	(void)state;
	for (int i = 0; i < ends; i++) {
		if (i % 3 == 0) {
			one_message(an, k, msg, len, 100, 1, &owners[i]);
		} else if (i % 7 == 0) {
			an_part_end(an, NULL, NULL, 0, &owners[i]);
		} else {
			struct an_part *p = part(an, "text/plain", "", 0);

			an_part_data(p, (const uint8_t *)msg, len);
			an_part_end(an, p, msg, len, &owners[i]);
		}
		assert_true(an_pending(an) <= AN_END_MAX);
	}
	assert_true(k->n >= ends - AN_END_MAX); /* handed back, no wait */
	an_deliver(an, 1);
	assert_int_equal(an_pending(an), 0);
	assert_int_equal(k->n, ends);
	for (int i = 0; i < ends; i++) {
		assert_ptr_equal(k->r[i].owner, &owners[i]);
		assert_int_equal(k->r[i].is_msg, i % 3 == 0);
		if (i % 3 != 0 && i % 7 == 0)
			assert_string_equal(k->r[i].sha256, "");
		else
			assert_int_equal(strlen(k->r[i].sha256), 64);
	}
	free(msg);
	analysis_free(an);
	free(k);
}

static void
on_drop(void *arg, void *owner, int is_msg)
{
	struct sink *k = arg;

	assert_ptr_equal(owner, is_msg ? own_m : own_p);
	k->dropped++;
}

/* When the log is gone, the ends not handed back go to the writer to
 * free, unworked; nothing is delivered after. */
static void
test_abandon(void **state)
{
	struct sink	*k = malloc(sizeof(*k));
	struct analysis *an = stage(k, 1);
	struct an_part	*p = part(an, "text/plain", "", 0);
	struct an_msg	*m = an_msg_begin(an);

	(void)state;
	an_part_data(p, png, sizeof(png));
	an_part_end(an, p, NULL, 0, own_p);
	an_msg_data(m, png, sizeof(png));
	an_msg_end(an, m, 1, own_m);
	an_abandon(an, on_drop);
	assert_int_equal(k->dropped, 2);
	an_deliver(an, 1);
	assert_int_equal(k->n, 0);
	analysis_free(an);
	free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dkim_and_sender),
		cmocka_unit_test(test_not_whole),
		cmocka_unit_test(test_part_typed),
		cmocka_unit_test(test_body_text),
		cmocka_unit_test(test_order_and_bound),
		cmocka_unit_test(test_abandon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
