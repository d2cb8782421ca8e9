/*
 * common.c - plumbing shared by the protocol dissectors (see common.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/common.h"
#include "dissect/sasl.h"
#include "dissect/tls.h"

struct md_bytes
md_bytes_of(const void *p, size_t len)
{
	struct md_bytes b = { p, len };
	return b;
}

struct md_bytes
md_bytes_str(const char *s)
{
	return md_bytes_of(s, strlen(s));
}

/* Starts a session: SESSION_BEGIN with the protocol and TLS mode. */
void
out_open(struct md_out *o, const struct md_sink *sink,
    const struct md_flow *flow, enum md_tls tls, uint64_t ts, const char *proto)
{
	struct md_event ev = { .type = MD_EV_SESSION_BEGIN, .dir = MD_C2S };

	memset(o, 0, sizeof(*o));
	o->sink = *sink;
	o->flow = flow;
	o->ts = ts;
	o->tls = tls;
	ev.name = md_bytes_str(proto);
	ev.tls = tls;
	ev.num[0] = flow->midstream;
	out_emit(o, &ev);
}

/*
 * Accounts for bytes fed in.  Returns 1 when the session is TLS from its
 * first byte: they are counted and there is nothing more to do.
 */
int
out_feed(struct md_out *o, enum md_dir dir, const uint8_t *p, size_t len,
    uint64_t ts)
{
	o->ts = ts;
	o->bytes[dir] += len;
	/* once TLS began, every byte goes through the TLS view: what it
	 * decrypts comes back to the dissector through o->plain */
	if (o->tls == MD_TLS_NONE)
		return 0;
	out_tls(o, dir, p, len);
	return 1;
}

/* The TLS stream's events are the session's (flow and time filled). */
static int
tls_emit(void *arg, struct md_event *ev)
{
	return out_emit(arg, ev);
}

void
out_tls_begin(struct md_out *o, enum md_tls mode, const struct md_env *env,
    void (*plain)(void *, enum md_dir, const uint8_t *, size_t), void *arg)
{
	struct tls_stream_io io = { tls_emit, o, plain, arg };

	o->tls = mode;
	/* NULL when memory ran out: the bytes are still counted */
	if (o->tls_stream == NULL)
		o->tls_stream = tls_stream_new(env->keys, env->tls_budget, &io);
}

void
out_tls(struct md_out *o, enum md_dir dir, const uint8_t *p, size_t len)
{
	o->tls_bytes[dir] += len;
	if (o->tls_stream != NULL)
		tls_stream_feed(o->tls_stream, dir, p, len, o->ts);
}

void
out_gap(struct md_out *o, enum md_dir dir, size_t missing, uint64_t ts)
{
	struct md_event ev = { .type = MD_EV_ANOMALY, .dir = dir };
	char		detail[32];
	int n = snprintf(detail, sizeof(detail), "%zu bytes", missing);

	o->ts = ts;
	ev.name = md_bytes_str(MD_ANOM_GAP);
	ev.code = MD_ANOM_IS_GAP;
	ev.arg = md_bytes_of((const uint8_t *)detail, (size_t)n);
	ev.num[0] = missing;
	out_emit(o, &ev);
	if (o->tls != MD_TLS_NONE && o->tls_stream != NULL)
		tls_stream_gap(o->tls_stream, dir, ts);
}

int
out_emit(struct md_out *o, struct md_event *ev)
{
	ev->ts_us = o->ts;
	ev->flow = o->flow;
	return o->sink.emit(o->sink.arg, ev);
}

void
out_anomaly(struct md_out *o, enum md_dir dir, const char *code,
    const uint8_t *detail, size_t dlen)
{
	struct md_event ev = { .type = MD_EV_ANOMALY, .dir = dir };

	ev.name = md_bytes_str(code);
	ev.arg = md_bytes_of(detail, dlen > 256 ? 256 : dlen);
	out_emit(o, &ev);
}

/* Framing oddities of a line; bare LF and NUL are said once per direction
 * so that a hostile peer cannot flood the log. */
void
out_line_anomalies(struct md_out *o, enum md_dir dir, const struct line *ln)
{
	if (ln->flags & LINE_F_TRUNCATED)
		out_anomaly(o, dir, MD_ANOM_LINE_TOO_LONG, ln->text.p,
		    ln->text.len);
	if ((ln->flags & LINE_F_BARE_LF) && !o->bare_lf_seen[dir]) {
		o->bare_lf_seen[dir] = 1;
		out_anomaly(o, dir, MD_ANOM_BARE_LF, ln->text.p, ln->text.len);
	}
	if ((ln->flags & LINE_F_NUL) && !o->nul_seen[dir]) {
		o->nul_seen[dir] = 1;
		out_anomaly(o, dir, MD_ANOM_NUL_BYTE, NULL, 0);
	}
}

/* The server's answer to STARTTLS/STLS, for out_credentials_sent(). */
void
out_tls_answer(struct md_out *o, int accepted)
{
	if (!accepted)
		o->tls_refused = 1;
}

/*
 * Credentials about to cross: when the server refused to start TLS just
 * before, they cross in clear although the client asked for protection
 * (a downgrade, or a misconfigured server).  Said once per session.
 */
void
out_credentials_sent(struct md_out *o)
{
	if (o->tls_refused == 1) {
		out_anomaly(o, MD_C2S, MD_ANOM_AUTH_AFTER_TLS_REFUSED, NULL, 0);
		o->tls_refused = 2;
	}
}

/* SESSION_END: a protocol goodbye, unless the connection was reset. */
void
out_session_end(struct md_out *o, enum md_end why)
{
	struct md_event ev = { .type = MD_EV_SESSION_END, .dir = MD_C2S };

	if (o->tls_stream != NULL) {
		tls_stream_end(o->tls_stream, o->ts);
		o->tls_stream = NULL;
	}
	ev.code = why;
	ev.tls = o->tls;
	ev.name = md_bytes_str(md_tls_str(o->tls));
	ev.num[0] = o->bytes[MD_C2S];
	ev.num[1] = o->bytes[MD_S2C];
	ev.num[2] = o->tls_bytes[MD_C2S];
	ev.num[3] = o->tls_bytes[MD_S2C];
	out_emit(o, &ev);
}

/* A command awaiting its reply; a full queue forgets its oldest, said
 * once per session. */
void *
out_queue_push(struct md_out *o, struct ring *q)
{
	int   dropped;
	void *slot = ring_push(q, &dropped);

	if (dropped && !o->queue_overflowed)
		out_anomaly(o, MD_C2S, MD_ANOM_PENDING_OVERFLOW, NULL, 0);
	o->queue_overflowed |= dropped;
	return slot;
}

/*
 * A client line while a SASL exchange runs.  Returns 1 when more
 * responses may follow, 0 when the mechanism has had all it takes (or the
 * client cancelled), -1 when the line cannot be a response: the caller
 * then takes it as a command.  Without the server's side (a one-sided
 * capture) the count of responses a mechanism takes tells when commands
 * resume.
 */
int
out_sasl_line(struct md_out *o, struct sasl *a, const uint8_t *p, size_t n,
    int initial)
{
	enum sasl_resp r =
	    initial ? sasl_initial(a, p, n) : sasl_response(a, p, n);

	if (r == SASL_RESP_NOT_SASL || r == SASL_RESP_MALFORMED)
		out_anomaly(o, MD_C2S, MD_ANOM_BAD_SASL, p, n);
	if (r == SASL_RESP_NOT_SASL)
		return -1;
	return sasl_done(a) ? 0 : 1;
}

/* The verdict on an authentication: the AUTH event; the exchange ends. */
void
out_auth(struct md_out *o, struct sasl **ap, int code, enum md_status st,
    enum md_auth_outcome outcome)
{
	struct md_event ev = { .type = MD_EV_AUTH, .dir = MD_S2C };

	if (*ap == NULL)
		return;
	ev.code = code;
	ev.status = st;
	ev.num[0] = outcome;
	sasl_fill(*ap, &ev);
	out_emit(o, &ev);
	free(*ap);
	*ap = NULL;
}

int
ring_init(struct ring *r, size_t esz, size_t max)
{
	memset(r, 0, sizeof(*r));
	if ((r->slots = calloc(max, esz)) == NULL)
		return -1;
	r->esz = esz;
	r->max = max;
	return 0;
}

void
ring_free(struct ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

void *
ring_at(const struct ring *r, size_t i)
{
	if (i >= r->len)
		return NULL;
	return r->slots + ((r->head + i) % r->max) * r->esz;
}

/* A new record at the tail, zeroed; *dropped is set when the oldest went. */
void *
ring_push(struct ring *r, int *dropped)
{
	void *slot;

	*dropped = 0;
	if (r->len == r->max) {
		ring_remove(r, 0);
		*dropped = 1;
	}
	r->len++;
	slot = ring_at(r, r->len - 1);
	memset(slot, 0, r->esz);
	return slot;
}

void
ring_remove(struct ring *r, size_t i)
{
	if (i >= r->len)
		return;
	if (i == 0) {
		r->head = (r->head + 1) % r->max;
		r->len--;
		return;
	}
	for (size_t j = i; j + 1 < r->len; j++)
		memcpy(ring_at(r, j), ring_at(r, j + 1), r->esz);
	r->len--;
}

size_t
md_parse_u64(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t	 i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return i;
}

int
md_looks_like_tls(const uint8_t *p, size_t n)
{
	/* TLS record: handshake(22) or alert(21), version 3.x. */
	return n >= 2 && (p[0] == 0x16 || p[0] == 0x15) && p[1] == 0x03;
}
