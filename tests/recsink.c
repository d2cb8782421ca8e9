/*
 * recsink.c - event recorder for tests (see recsink.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/recsink.h"
#include "dissect/mime.h"

static void
rec_grow(struct recsink *r, size_t more)
{
	if (r->len + more + 1 <= r->cap)
		return;
	while (r->len + more + 1 > r->cap)
		r->cap = r->cap ? r->cap * 2 : 1024;
	if ((r->buf = realloc(r->buf, r->cap)) == NULL)
		abort();
}

static void __attribute__((format(printf, 2, 3)))
rec_printf(struct recsink *r, const char *fmt, ...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	rec_grow(r, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(r->buf + r->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r->len += (size_t)n;
}

/* Escapes bytes so that the record is one printable line per event. */
static void
rec_bytes(struct recsink *r, struct md_bytes b)
{
	for (size_t i = 0; i < b.len; i++) {
		unsigned c = b.p[i];
		if (c == '\r')
			rec_printf(r, "\\r");
		else if (c == '\n')
			rec_printf(r, "\\n");
		else if (c == '"' || c == '\\')
			rec_printf(r, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			rec_printf(r, "\\x%02x", c);
		else
			rec_printf(r, "%c", c);
	}
}

static void
rec_close_data(struct recsink *r)
{
	if (r->data_open)
		rec_printf(r, "\"\n");
	r->data_open = 0;
}

static void
rec_field(struct recsink *r, const char *key, struct md_bytes b)
{
	if (b.len == 0)
		return;
	rec_printf(r, " %s\"", key);
	rec_bytes(r, b);
	rec_printf(r, "\"");
}

/*
 * The one number a record shows after the counters: the event's code
 * (SMTP's reply number, a completeness flag, an MD_END_*); where it has
 * none, the status (POP3, IMAP) or the TLS mode at SESSION_BEGIN.  SMTP's
 * status follows from its code; test_smtp checks it apart.
 */
static int
rec_number(const struct md_event *ev)
{
	if (ev->type == MD_EV_ANOMALY) /* its code marks a gap: the name says */
		return 0;
	if (ev->code)
		return ev->code;
	if (ev->status)
		return (int)ev->status;
	return ev->type == MD_EV_SESSION_BEGIN ? (int)ev->tls : 0;
}

enum ev_scope { SC_BEGIN, SC_END, SC_SESSION, SC_MSG };

static const enum ev_scope ev_scope_of[MD_EV_COUNT] = {
#define EVENT(name, scope) [MD_EV_##name] = SC_##scope,
#include "dissect/events.def"
#undef EVENT
};

/* The message tx open, or -1. */
static int
open_slot(const struct recsink *r, uint32_t tx)
{
	for (int i = 0; i < r->nopen; i++)
		if (r->open_tx[i] == tx)
			return i;
	return -1;
}

/*
 * The contract's order: nothing after SESSION_END; a message's own
 * events (events.def's MSG scope) between its MSG_BEGIN and MSG_END;
 * every PART_BEGIN closed by its PART_END before the MSG_END.  A breach
 * is what the record says, so that the golden comparison shows it.
 */
static const char *
rec_order(struct recsink *r, const struct md_event *ev)
{
	int k = (unsigned)ev->type < MD_EV_COUNT ? open_slot(r, ev->tx) : -1;

	if (r->ended)
		return "an event after SESSION_END";
	switch (ev->type) {
	case MD_EV_SESSION_BEGIN:
		r->began = 1;
		return NULL;
	case MD_EV_SESSION_END:
		r->ended = r->began;
		return NULL;
	case MD_EV_MSG_BEGIN:
		if (k >= 0)
			return "MSG_BEGIN of a message open";
		if (r->nopen < 64) {
			r->open_tx[r->nopen] = ev->tx;
			r->open_parts[r->nopen++] = 0;
		}
		return NULL;
	case MD_EV_MSG_END:
		if (k < 0)
			return "MSG_END of no open message";
		r->nopen--;
		r->open_tx[k] = r->open_tx[r->nopen];
		if (r->open_parts[k] != 0) {
			r->open_parts[k] = r->open_parts[r->nopen];
			return "MSG_END with parts open";
		}
		r->open_parts[k] = r->open_parts[r->nopen];
		return NULL;
	default:
		break;
	}
	if (ev_scope_of[ev->type] != SC_MSG)
		return NULL;
	if (k < 0)
		return "a message's event outside it";
	if (ev->type == MD_EV_PART_BEGIN)
		r->open_parts[k]++;
	else if (ev->type == MD_EV_PART_END && r->open_parts[k]-- == 0)
		return "PART_END of no open part";
	return NULL;
}

static int
rec_emit(void *arg, const struct md_event *ev)
{
	struct recsink *r = arg;
	const char     *breach = rec_order(r, ev);

	if (breach != NULL) {
		rec_close_data(r);
		rec_printf(r, "!ORDER %s: %s tx=%u\n", breach,
		    md_ev_str(ev->type), ev->tx);
	}

	if (ev->type == MD_EV_PART_BEGIN && ev->num[1] == 1)
		r->cont_part = ev->num[0];
	if (ev->type == MD_EV_PART_DATA && r->cont_part != 0 &&
	    ev->num[0] == r->cont_part) {
		char *nc = realloc(r->cont, r->cont_len + ev->arg.len + 1);

		if (nc == NULL)
			abort();
		r->cont = nc;
		if (ev->arg.len > 0)
			memcpy(r->cont + r->cont_len, ev->arg.p, ev->arg.len);
		r->cont_len += ev->arg.len;
		return 0;
	}
	if (ev->type == MD_EV_PART_END && r->cont_part != 0 &&
	    ev->num[0] == r->cont_part) {
		rec_close_data(r);
		rec_printf(r, "PART_DATA tx=%u part=%llu \"", ev->tx,
		    (unsigned long long)r->cont_part);
		rec_bytes(r,
		    (struct md_bytes) { (const uint8_t *)r->cont,
			r->cont_len });
		rec_printf(r, "\"\n");
		r->cont_len = 0;
		r->cont_part = 0;
	}
	if (ev->type == MD_EV_MSG_DATA || ev->type == MD_EV_PART_DATA ||
	    ev->type == MD_EV_TEXT) {
		/* streamed bytes: one line per run, however they were cut */
		if (!r->data_open || r->data_tx != ev->tx ||
		    r->data_type != (int)ev->type ||
		    r->data_part != ev->num[0]) {
			rec_close_data(r);
			if (ev->type == MD_EV_PART_DATA)
				rec_printf(r, "PART_DATA tx=%u part=%llu \"",
				    ev->tx, (unsigned long long)ev->num[0]);
			else
				rec_printf(r, "%s tx=%u \"",
				    md_ev_str(ev->type), ev->tx);
			r->data_open = 1;
			r->data_tx = ev->tx;
			r->data_type = (int)ev->type;
			r->data_part = ev->num[0];
		}
		rec_bytes(r, ev->arg);
		r->data_events++;
		return r->mute_after > 0 && r->data_events >= r->mute_after;
	}
	rec_close_data(r);
	rec_printf(r, "%s", md_ev_str(ev->type));
	if (ev->seq)
		rec_printf(r, " #%u", ev->seq);
	if (ev->tx)
		rec_printf(r, " tx=%u", ev->tx);
	if (rec_number(ev))
		rec_printf(r, " %d", rec_number(ev));
	if (ev->name.len > 0) {
		rec_printf(r, " ");
		rec_bytes(r, ev->name);
	}
	rec_field(r, "", ev->arg);
	rec_field(r, "x=", ev->extra);
	rec_field(r, "a=", ev->aux);
	rec_field(r, "p=", ev->proof);
	if (ev->num[0] || ev->num[1] || ev->num[2] || ev->num[3])
		rec_printf(r, " n=%llu,%llu,%llu,%llu",
		    (unsigned long long)ev->num[0],
		    (unsigned long long)ev->num[1],
		    (unsigned long long)ev->num[2],
		    (unsigned long long)ev->num[3]);
	rec_printf(r, "\n");
	return 0;
}

void
recsink_init(struct recsink *r, struct md_sink *sink)
{
	memset(r, 0, sizeof(*r));
	rec_grow(r, 0);
	r->buf[0] = '\0';
	sink->emit = rec_emit;
	sink->arg = r;
}

const char *
recsink_text(struct recsink *r)
{
	rec_close_data(r);
	rec_grow(r, 0);
	r->buf[r->len] = '\0';
	return r->buf;
}

void
recsink_free(struct recsink *r)
{
	free(r->buf);
	free(r->cont);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------- transcript runs */

static int tr_assemble; /* the case at hand runs through the assembler */

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Bytes of a step to feed and cut; a gap step has none. */
static size_t
step_len(const struct step *st)
{
	if (st->data == NULL)
		return 0;
	return st->len ? st->len : strlen(st->data);
}

/*
 * Copies each piece into an exact-size heap block before feeding it, so
 * that ASan catches any read past the end of what the dissector was given.
 */
static void
feed_piece(const struct md_proto *pr, void *st, enum md_dir dir, const char *p,
    size_t n, uint64_t ts)
{
	uint8_t *copy;

	if (n == 0)
		return;
	if ((copy = malloc(n)) == NULL)
		abort();
	memcpy(copy, p, n);
	pr->feed(st, dir, copy, n, ts);
	free(copy);
}

char *
transcript_run(const struct md_proto *pr, enum md_tls tls,
    const struct step *steps, size_t nsteps, enum tr_mode mode, size_t si,
    size_t k)
{
	/* as the capture layer sets it once detection decided */
	const struct md_flow flow = { .id = 1, .proto = pr->id };
	struct md_env	     env;
	struct md_sink	     sink;
	struct recsink	     rec;
	struct assembler    *pieces = NULL;
	void		    *st;
	char		    *out;

	md_env_default(&env);
	recsink_init(&rec, &sink);
	if (tr_assemble) { /* dissector -> assembler -> record */
		if ((pieces = assembler_new(&sink)) == NULL)
			abort();
		assembler_sink(pieces, &sink);
	}
	st = pr->open(&sink, &env, &flow, tls, 0);
	for (size_t i = 0; i < nsteps; i++) {
		const char *p = steps[i].data;
		size_t	    n = step_len(&steps[i]);
		uint64_t    ts = (uint64_t)(i + 1) * 1000000;

		if (p == NULL) { /* bytes the capture lost */
			pr->gap(st, steps[i].dir, steps[i].len, ts);
			continue;
		}
		if (mode == TR_BYTES)
			for (size_t j = 0; j < n; j++)
				feed_piece(pr, st, steps[i].dir, p + j, 1, ts);
		else if (mode == TR_SPLIT && i == si) {
			feed_piece(pr, st, steps[i].dir, p, k, ts);
			feed_piece(pr, st, steps[i].dir, p + k, n - k, ts);
		} else
			feed_piece(pr, st, steps[i].dir, p, n, ts);
	}
	pr->close(st, MD_END_CAPTURE_END, (uint64_t)(nsteps + 1) * 1000000);
	assembler_free(pieces);
	out = strdup(recsink_text(&rec));
	recsink_free(&rec);
	return out;
}

void
transcript_check(const struct md_proto *pr, enum md_tls tls,
    const struct step *steps, size_t nsteps, const char *expect)
{
	char *got;

	got = transcript_run(pr, tls, steps, nsteps, TR_WHOLE, 0, 0);
	assert_string_equal(got, expect);
	free(got);
	got = transcript_run(pr, tls, steps, nsteps, TR_BYTES, 0, 0);
	assert_string_equal(got, expect);
	free(got);
	for (size_t i = 0; i < nsteps; i++)
		for (size_t k = 1; k < step_len(&steps[i]); k++) {
			got = transcript_run(pr, tls, steps, nsteps, TR_SPLIT,
			    i, k);
			if (strcmp(got, expect) != 0)
				print_error("split at step %zu offset %zu\n", i,
				    k);
			assert_string_equal(got, expect);
			free(got);
		}
}

static const struct md_proto *suite_proto;

static void
run_case(void **state)
{
	const struct tcase *tc = *state;

	transcript_check(suite_proto, tc->tls, tc->steps, tc->nsteps,
	    tc->expect);
}

int
transcript_suite_assembled(const char *group, const struct md_proto *pr,
    const struct tcase *cases, size_t n)
{
	int rc;

	tr_assemble = 1;
	rc = transcript_suite(group, pr, cases, n);
	tr_assemble = 0;
	return rc;
}

int
transcript_suite(const char *group, const struct md_proto *pr,
    const struct tcase *cases, size_t n)
{
	struct CMUnitTest *tests;
	int		   rc;

	suite_proto = pr;
	if (getenv("MAILSIFT_PRINT_GOLDEN") != NULL) {
		for (size_t i = 0; i < n; i++) {
			char *got;

			got = transcript_run(pr, cases[i].tls, cases[i].steps,
			    cases[i].nsteps, TR_WHOLE, 0, 0);
			printf("== %s\n%s", cases[i].name, got);
			free(got);
		}
		return 0;
	}
	if ((tests = calloc(n, sizeof(*tests))) == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)(uintptr_t)&cases[i];
	}
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	free(tests);
	return rc;
}
