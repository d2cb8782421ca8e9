/* \summary: SMTP session dissector (incremental, both directions) */
/*
 * RFC 5321 (SMTP), RFC 1869/5321 4.1.1.1 (EHLO), RFC 2920 (PIPELINING),
 * RFC 3030 (CHUNKING/BDAT), RFC 3207 (STARTTLS), RFC 4954 (AUTH) with
 * RFC 4616 (PLAIN), draft-murchison-sasl-login (LOGIN), RFC 2195
 * (CRAM-MD5), and Google's XOAUTH2.
 *
 * The dissector watches a conversation it takes no part in, so it accepts
 * whatever the wire carries: commands pipelined ahead of their replies,
 * message bodies sent before the 354, one side of the conversation
 * missing.  Replies are paired with the oldest command awaiting one.
 *
 * Client bytes are, at any time, one of: command lines, SASL responses,
 * a dot-stuffed DATA body, a counted BDAT chunk, or TLS.  Server bytes are
 * reply lines or TLS.  Message bodies are never held in memory: they leave
 * as MSG_DATA events in the pieces they arrived in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/dissect.h"
#include "dissect/common.h"
#include "dissect/util.h"
#include "dissect/line.h"
#include "dissect/sasl.h"

enum smtp_cmode {
	SMTP_C_COMMAND,	  /* command lines */
	SMTP_C_SASL,	  /* responses to an AUTH challenge */
	SMTP_C_DATA_WAIT, /* DATA sent, 354 not seen: next bytes are body */
	SMTP_C_DATA,	  /* dot-stuffed body up to CRLF.CRLF */
	SMTP_C_BDAT,	  /* counted BDAT chunk */
	SMTP_C_RESYNC,	  /* after a hole: lines up to the next command */
	SMTP_C_TLS	  /* after STARTTLS: opaque */
};

/* What a pending command's reply means to us. */
enum smtp_kind {
	K_OTHER,
	K_HELO,
	K_EHLO,
	K_MAIL,
	K_RCPT,
	K_DATA,
	K_EOD, /* the end-of-data marker: its reply is the final one */
	K_BDAT,
	K_BDAT_LAST,
	K_AUTH,
	K_STARTTLS,
	K_QUIT,
	K_RSET
};

#define SMTP_VERB_MAX 16   /* longest verb kept; real ones are 4 to 8 */
#define LMTP_RCPT_MAX 1024 /* recipients whose RCPT a delivery reply names */

struct pending {
	uint32_t seq;
	uint32_t tx;
	uint32_t prev_tx; /* MAIL: the transaction open before it */
	uint8_t	 kind;
	uint8_t	 verb_len;
	char	 verb[SMTP_VERB_MAX];
};

struct reply {
	uint8_t *text;
	size_t	 len, cap;
	int	 code;
	int	 lines;
	int	 over;
};

struct smtp {
	struct md_out	 out;
	struct md_limits lim;

	struct line_buf line[2];
	enum smtp_cmode cmode;
	int		s2c_tls;
	int		decrypting; /* a key log opened its TLS */

	struct reply reply;
	struct ring  q; /* struct pending, oldest first */

	uint32_t     seq, ntx, cur_tx;
	struct sasl *sasl;

	/* message in progress */
	uint32_t	msg_tx;
	int		msg_open, msg_muted;
	int		msg_headless; /* picked up inside its body */
	uint64_t	msg_size;
	struct dot_body dot;
	uint64_t	chunk_left;
	int		chunk_last;

	int	 greeted, quit_seen, starttls_wait;
	int	 s2c_spoke;  /* the server sent something */
	int	 c2s_lost;   /* a hole may have hidden commands */
	uint32_t lost_after; /* ... sent after command seq */
	int	 resync_said;

	/*
	 * LMTP (RFC 2033): after the end of data the server replies once
	 * per recipient it accepted, in RCPT order.  The accepted RCPTs of
	 * the latest transaction, and the delivery replies still due.
	 */
	int		     lmtp;
	uint32_t	     lmtp_tx, lmtp_n, lmtp_next, lmtp_due;
	uint32_t	    *lmtp_rcpt; /* their seq numbers, LMTP_RCPT_MAX */
	const struct md_env *env;	/* the run's: TLS secrets and budget */
};

static void smtp_plain(void *arg, enum md_dir, const uint8_t *p, size_t n);

/* ---------------------------------------------------------------- events */

static int
smtp_emit(struct smtp *s, struct md_event *ev)
{
	/* Every event that carries a reply code carries its verdict; no
	 * other SMTP event has a code of 200 or more. */
	ev->status = md_smtp_status(ev->code);
	return out_emit(&s->out, ev);
}

static void
smtp_anomaly(struct smtp *s, enum md_dir dir, const char *code,
    const uint8_t *detail, size_t dlen)
{
	out_anomaly(&s->out, dir, code, detail, dlen);
}

/* ------------------------------------------------------ pending commands */

static void
pending_push(struct smtp *s, uint32_t seq, enum smtp_kind kind, uint32_t tx,
    uint32_t prev_tx, const uint8_t *verb, size_t vlen)
{
	struct pending *pd;

	pd = out_queue_push(&s->out, &s->q);
	pd->seq = seq;
	pd->tx = tx;
	pd->prev_tx = prev_tx;
	pd->kind = (uint8_t)kind;
	pd->verb_len = (uint8_t)(vlen > SMTP_VERB_MAX ? SMTP_VERB_MAX : vlen);
	memcpy(pd->verb, verb, pd->verb_len);
}

static struct pending *
pending_head(struct smtp *s)
{
	return ring_at(&s->q, 0);
}

static void
pending_pop(struct smtp *s)
{
	ring_remove(&s->q, 0);
}

/* -------------------------------------------------------------- messages */

/* A message begins; implicit says it opens transaction tx itself, no
 * MAIL having been seen for it (no TX_BEGIN). */
static void
msg_begin(struct smtp *s, uint32_t tx, const char *method, int implicit)
{
	struct md_event ev = { .type = MD_EV_MSG_BEGIN, .dir = MD_C2S };

	s->msg_open = 1;
	s->msg_muted = 0;
	s->msg_tx = tx;
	s->msg_size = 0;
	dot_init(&s->dot);
	ev.tx = tx;
	ev.name = md_bytes_str(method);
	ev.num[0] = implicit != 0;
	smtp_emit(s, &ev);
}

static void
msg_bytes(struct smtp *s, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_MSG_DATA, .dir = MD_C2S };

	if (n == 0)
		return;
	s->msg_size += n;
	if (s->msg_muted)
		return;
	ev.tx = s->msg_tx;
	ev.arg = md_bytes_of(p, n);
	if (smtp_emit(s, &ev) != 0)
		s->msg_muted = 1;
}

static void
msg_end(struct smtp *s, int complete)
{
	struct md_event ev = { .type = MD_EV_MSG_END, .dir = MD_C2S };

	if (!s->msg_open)
		return;
	ev.tx = s->msg_tx;
	ev.code = complete && !s->msg_headless;
	ev.num[0] = s->msg_size;
	smtp_emit(s, &ev);
	s->msg_open = 0;
	s->msg_headless = 0;
	if (s->cur_tx == s->msg_tx)
		s->cur_tx = 0;
}

static void
body_out(void *arg, const uint8_t *p, size_t n)
{
	msg_bytes(arg, p, n);
}

/*
 * Scans a DATA body up to its final dot.  A bare LF on either side of the
 * dot makes the end ambiguous between implementations, the root of SMTP
 * smuggling, so it is reported.  Returns bytes consumed; the mode has
 * changed when fewer than len were consumed.
 */
static size_t
body_data(struct smtp *s, const uint8_t *p, size_t len)
{
	enum dot_end end;
	size_t	     n = dot_take(&s->dot, p, len, body_out, s, &end);
	uint32_t     tx = s->msg_tx;

	if (end == DOT_MORE)
		return n;
	if (end == DOT_END_BARE_LF)
		smtp_anomaly(s, MD_C2S, MD_ANOM_BARE_LF_END_OF_DATA, NULL, 0);
	msg_end(s, 1);
	pending_push(s, 0, K_EOD, tx, 0, (const uint8_t *)".", 1);
	s->cmode = SMTP_C_COMMAND;
	return n;
}

/* Passes a counted BDAT chunk through (RFC 3030 2: no transparency). */
static size_t
body_bdat(struct smtp *s, const uint8_t *p, size_t len)
{
	size_t n = len;

	if ((uint64_t)n > s->chunk_left)
		n = (size_t)s->chunk_left;
	msg_bytes(s, p, n);
	s->chunk_left -= n;
	if (s->chunk_left == 0) {
		if (s->chunk_last)
			msg_end(s, 1);
		s->cmode = SMTP_C_COMMAND;
	}
	return n;
}

/* ------------------------------------------------------------------ SASL */

static void
auth_emit(struct smtp *s, int code, enum md_auth_outcome outcome)
{
	out_auth(&s->out, &s->sasl, code, md_smtp_status(code), outcome);
	if (s->cmode == SMTP_C_SASL)
		s->cmode = SMTP_C_COMMAND;
}

/* 0 when a client line was a SASL response, -1 when it is a command. */
static int
auth_client_line(struct smtp *s, const uint8_t *p, size_t n, int initial)
{
	int r = out_sasl_line(&s->out, s->sasl, p, n, initial);

	if (r <= 0)
		s->cmode = SMTP_C_COMMAND;
	return r < 0 ? -1 : 0;
}

/* AUTH mechanism [initial-response] (RFC 4954 4). */
static void
auth_begin(struct smtp *s, uint32_t seq, const uint8_t *args, size_t n)
{
	const uint8_t *sp = memchr(args, ' ', n);
	size_t	       mlen = sp ? (size_t)(sp - args) : n;

	if (s->sasl != NULL) /* a previous AUTH never got its verdict */
		auth_emit(s, 0, MD_AUTH_UNKNOWN);
	if ((s->sasl = sasl_new(seq, args, mlen)) == NULL)
		return;
	s->cmode = SMTP_C_SASL;
	if (sp != NULL)
		(void)auth_client_line(s, sp + 1, n - mlen - 1, 1);
}

/* -------------------------------------------------------------- commands */

/* Splits "<path> params" after "FROM:" or "TO:"; spaces after ':' are
 * tolerated as many servers do. */
static void
split_path(const uint8_t *p, size_t n, struct md_bytes *path,
    struct md_bytes *params)
{
	size_t i = 0, end;

	while (i < n && p[i] == ' ')
		i++;
	if (i < n && p[i] == '<') {
		const uint8_t *gt = memchr(p + i, '>', n - i);
		end = gt ? (size_t)(gt - p) + 1 : n;
	} else {
		const uint8_t *sp = memchr(p + i, ' ', n - i);
		end = sp ? (size_t)(sp - p) : n;
	}
	*path = md_bytes_of(p + i, end - i);
	while (end < n && p[end] == ' ')
		end++;
	*params = md_bytes_of(p + end, n - end);
}

static void
strip_angles(struct md_bytes *path)
{
	if (path->len >= 2 && path->p[0] == '<' &&
	    path->p[path->len - 1] == '>') {
		path->p++;
		path->len -= 2;
	}
}

/*
 * The commands whose effects the dissector follows.  Each takes its
 * verb's table row, the command's number and its arguments, and returns
 * the kind of command to queue for the reply.
 */
struct smtp_verb;
typedef enum smtp_kind smtp_cmd_fn(struct smtp *, const struct smtp_verb *,
    uint32_t seq, const uint8_t *a, size_t n);

struct smtp_verb {
	const char    *verb;
	enum smtp_kind kind;
	smtp_cmd_fn   *run; /* NULL: nothing to follow but the reply */
};

/* Ends a BDAT message left open by RSET, HELO or a new MAIL. */
static void
abandon_message(struct smtp *s)
{
	if (s->msg_open)
		msg_end(s, 0);
}

/* MAIL FROM:<path> [params] (RFC 5321 4.1.1.2): a transaction opens. */
static enum smtp_kind
cmd_mail(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	struct md_event ev = { .type = MD_EV_TX_BEGIN, .dir = MD_C2S };
	size_t		off = md_ci_prefix(a, n, "FROM:") ? 5 : 0;

	abandon_message(s);
	s->cur_tx = ++s->ntx;
	ev.seq = seq;
	ev.tx = s->cur_tx;
	split_path(a + off, n - off, &ev.arg, &ev.extra);
	strip_angles(&ev.arg);
	smtp_emit(s, &ev);
	return v->kind;
}

/* RCPT TO:<path> [params] (RFC 5321 4.1.1.3). */
static enum smtp_kind
cmd_rcpt(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	struct md_event ev = { .type = MD_EV_RCPT, .dir = MD_C2S };
	size_t		off = md_ci_prefix(a, n, "TO:") ? 3 : 0;

	if (s->cur_tx == 0) {
		smtp_anomaly(s, MD_C2S, MD_ANOM_RCPT_WITHOUT_MAIL, a, n);
		return v->kind;
	}
	ev.seq = seq;
	ev.tx = s->cur_tx;
	split_path(a + off, n - off, &ev.arg, &ev.extra);
	strip_angles(&ev.arg);
	smtp_emit(s, &ev);
	return v->kind;
}

/*
 * BDAT chunk-size [LAST] (RFC 3030 2).  Returns the kind to queue, or
 * K_OTHER when the arguments are not a valid BDAT.
 */
static enum smtp_kind
cmd_bdat(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	uint64_t size = 0;
	size_t	 i = 0;
	int	 last = 0;

	(void)v;
	(void)seq;
	while (i < n && a[i] >= '0' && a[i] <= '9') {
		if (size > (UINT64_MAX - 9) / 10) {
			smtp_anomaly(s, MD_C2S, MD_ANOM_HUGE_BDAT, a, n);
			return K_OTHER;
		}
		size = size * 10 + (uint64_t)(a[i++] - '0');
	}
	if (i == 0)
		goto bad;
	if (i < n) {
		if (a[i] != ' ' || !md_ci_equal(a + i + 1, n - i - 1, "LAST"))
			goto bad;
		last = 1;
	}
	if (!s->msg_open) {
		int implicit = s->cur_tx == 0;

		if (implicit) {
			smtp_anomaly(s, MD_C2S, MD_ANOM_DATA_WITHOUT_MAIL, a,
			    n);
			s->cur_tx = ++s->ntx;
		}
		msg_begin(s, s->cur_tx, "BDAT", implicit);
	}
	s->chunk_left = size;
	s->chunk_last = last;
	s->cmode = SMTP_C_BDAT;
	if (size == 0)
		(void)body_bdat(s, NULL, 0);
	return last ? K_BDAT_LAST : K_BDAT;
bad:
	smtp_anomaly(s, MD_C2S, MD_ANOM_BAD_BDAT, a, n);
	return K_OTHER;
}

/* HELO, EHLO, LHLO domain (RFC 5321 4.1.1.1, RFC 2033 4.1). */
static enum smtp_kind
cmd_hello(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	struct md_event ev = { .type = MD_EV_HELO, .dir = MD_C2S };

	abandon_message(s);
	if (v->kind == K_EHLO)
		s->lmtp = strcmp(v->verb, "LHLO") == 0;
	ev.seq = seq;
	ev.name = md_bytes_str(v->verb);
	ev.arg = md_bytes_of(a, n);
	smtp_emit(s, &ev);
	s->cur_tx = 0; /* RFC 5321 4.1.4: EHLO resets the transaction */
	return v->kind;
}

static enum smtp_kind
cmd_data(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	(void)seq;
	(void)a;
	(void)n;
	if (s->cur_tx == 0)
		smtp_anomaly(s, MD_C2S, MD_ANOM_DATA_WITHOUT_MAIL, NULL, 0);
	else
		s->cmode = SMTP_C_DATA_WAIT;
	return v->kind;
}

static enum smtp_kind
cmd_auth(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	out_credentials_sent(&s->out);
	auth_begin(s, seq, a, n);
	return v->kind;
}

static enum smtp_kind
cmd_starttls(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	(void)seq;
	(void)a;
	(void)n;
	s->starttls_wait = 1;
	return v->kind;
}

static enum smtp_kind
cmd_quit(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	(void)seq;
	(void)a;
	(void)n;
	s->quit_seen = 1;
	return v->kind;
}

static enum smtp_kind
cmd_rset(struct smtp *s, const struct smtp_verb *v, uint32_t seq,
    const uint8_t *a, size_t n)
{
	(void)seq;
	(void)a;
	(void)n;
	abandon_message(s);
	s->cur_tx = 0;
	return v->kind;
}

/* The verbs of RFC 5321 4.1 and its extensions (LMTP 2033, CHUNKING
 * 3030, STARTTLS 3207, AUTH 4954, ETRN 1985): detection and resync after
 * a hole take a line that opens with one as a command. */
static const struct smtp_verb smtp_verbs[] = {
	{ "EHLO", K_EHLO, cmd_hello },
	{ "LHLO", K_EHLO, cmd_hello },
	{ "HELO", K_HELO, cmd_hello },
	{ "MAIL", K_MAIL, cmd_mail },
	{ "RCPT", K_RCPT, cmd_rcpt },
	{ "DATA", K_DATA, cmd_data },
	{ "BDAT", K_BDAT, cmd_bdat },
	{ "AUTH", K_AUTH, cmd_auth },
	{ "STARTTLS", K_STARTTLS, cmd_starttls },
	{ "QUIT", K_QUIT, cmd_quit },
	{ "RSET", K_RSET, cmd_rset },
	{ "NOOP", K_OTHER, NULL },
	{ "VRFY", K_OTHER, NULL },
	{ "EXPN", K_OTHER, NULL },
	{ "HELP", K_OTHER, NULL },
	{ "TURN", K_OTHER, NULL },
	{ "ETRN", K_OTHER, NULL },
};

#define NVERBS (sizeof(smtp_verbs) / sizeof(smtp_verbs[0]))

static const struct smtp_verb *
verb_of(const uint8_t *verb, size_t vlen)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (md_ci_equal(verb, vlen, smtp_verbs[i].verb))
			return &smtp_verbs[i];
	return NULL;
}

static enum smtp_kind
smtp_dispatch(struct smtp *s, uint32_t seq, const uint8_t *verb, size_t vlen,
    const uint8_t *a, size_t n)
{
	const struct smtp_verb *v = verb_of(verb, vlen);

	if (v == NULL)
		return K_OTHER;
	return v->run != NULL ? v->run(s, v, seq, a, n) : v->kind;
}

static void
smtp_command(struct smtp *s, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_COMMAND, .dir = MD_C2S };
	char		verb[SMTP_VERB_MAX];
	const uint8_t  *sp;
	size_t		vlen, alen;
	const uint8_t  *args;
	enum smtp_kind	kind;
	uint32_t	tx, prev_tx;

	if (s->quit_seen)
		smtp_anomaly(s, MD_C2S, MD_ANOM_DATA_AFTER_QUIT, p, n);
	if (s->starttls_wait)
		smtp_anomaly(s, MD_C2S, MD_ANOM_CLEAR_AFTER_TLS, p, n);
	sp = memchr(p, ' ', n);
	vlen = sp ? (size_t)(sp - p) : n;
	args = sp ? sp + 1 : p + n;
	alen = sp ? n - vlen - 1 : 0;
	if (vlen > sizeof(verb))
		vlen = sizeof(verb);
	md_upper_copy(verb, p, vlen);
	ev.seq = ++s->seq;
	ev.name = md_bytes_of(verb, vlen);
	ev.arg = md_bytes_of(args, alen);
	smtp_emit(s, &ev);
	tx = prev_tx = s->cur_tx;
	kind =
	    smtp_dispatch(s, ev.seq, (const uint8_t *)verb, vlen, args, alen);
	/* The transaction the command belongs to, once it has acted. */
	if (kind == K_MAIL)
		tx = s->cur_tx;
	else if (kind == K_BDAT || kind == K_BDAT_LAST)
		tx = s->msg_tx;
	pending_push(s, ev.seq, kind, tx, prev_tx, (const uint8_t *)verb, vlen);
}

/*
 * A connection picked up mid-stream whose client speaks no command
 * first: the capture began inside a DATA body.  The rest of the body is
 * kept as a message marked incomplete, its head being lost.
 */
static void
pickup_in_body(struct smtp *s, const struct line *ln)
{
	s->cur_tx = ++s->ntx;
	msg_begin(s, s->cur_tx, "DATA", 1);
	s->msg_headless = 1;
	s->cmode = SMTP_C_DATA;
	if (body_data(s, ln->text.p, ln->text.len) == ln->text.len &&
	    s->cmode == SMTP_C_DATA)
		(void)body_data(s, (const uint8_t *)"\r\n", 2);
}

/* A line that opens with a verb of the table, then a space or its end. */
int
md_smtp_is_command(const uint8_t *p, size_t n)
{
	size_t vlen = 0;

	while (vlen < n && p[vlen] != ' ' && p[vlen] != '\r' && p[vlen] != '\n')
		vlen++;
	return verb_of(p, vlen) != NULL;
}

/*
 * After a hole in the client's bytes, the next line may be the tail of
 * one that was lost: lines are skipped until one is a command.
 */
static void
resync_line(struct smtp *s, const struct line *ln)
{
	if (!md_smtp_is_command(ln->text.p, ln->text.len)) {
		if (!s->resync_said)
			smtp_anomaly(s, MD_C2S, MD_ANOM_RESYNC, ln->text.p,
			    ln->text.len);
		s->resync_said = 1;
		return;
	}
	s->cmode = SMTP_C_COMMAND;
	s->resync_said = 0;
	smtp_command(s, ln->text.p, ln->text.len);
}

static void
smtp_client_line(struct smtp *s, const struct line *ln)
{
	out_line_anomalies(&s->out, MD_C2S, ln);
	if (s->cmode == SMTP_C_SASL && s->sasl != NULL &&
	    auth_client_line(s, ln->text.p, ln->text.len, 0) == 0)
		return;
	if (s->out.flow->midstream && s->seq == 0 && s->ntx == 0 &&
	    !md_smtp_is_command(ln->text.p, ln->text.len)) {
		pickup_in_body(s, ln);
		return;
	}
	smtp_command(s, ln->text.p, ln->text.len);
}

/* --------------------------------------------------------------- replies */

static void
reply_reset(struct reply *r)
{
	r->len = 0;
	r->code = 0;
	r->lines = 0;
	r->over = 0;
}

static void
reply_append(struct smtp *s, const uint8_t *p, size_t n)
{
	struct reply *r = &s->reply;
	size_t	      need = n + (r->lines > 0);

	if (need == 0) /* an empty first line: nothing to keep */
		return;
	if (r->len + need > s->lim.reply_max) {
		if (!r->over)
			smtp_anomaly(s, MD_S2C, MD_ANOM_REPLY_TOO_LONG, NULL,
			    0);
		r->over = 1;
		return;
	}
	if (r->len + need > r->cap) {
		size_t	 cap = r->cap ? r->cap : 256;
		uint8_t *nb;

		while (cap < r->len + need)
			cap *= 2;
		if ((nb = realloc(r->text, cap)) == NULL)
			return;
		r->text = nb;
		r->cap = cap;
	}
	if (r->lines > 0)
		r->text[r->len++] = '\n';
	memcpy(r->text + r->len, p, n);
	r->len += n;
}

/* EHLO reply lines after the first are "keyword [params]" (RFC 5321 4.1.1.1).
 */
static void
ehlo_extensions(struct smtp *s)
{
	const uint8_t  *p = s->reply.text, *end, *nl, *sp;
	struct md_event ev = { .type = MD_EV_EXTENSION, .dir = MD_S2C };
	char		kw[64];
	size_t		klen;

	/* a one-line reply ("250") has kept no text at all */
	if (p == NULL || (nl = memchr(p, '\n', s->reply.len)) == NULL)
		return;
	end = p + s->reply.len;
	for (p = nl + 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		sp = memchr(p, ' ', (size_t)(nl - p));
		klen = (size_t)((sp ? sp : nl) - p);
		if (klen > sizeof(kw))
			klen = sizeof(kw);
		md_upper_copy(kw, p, klen);
		ev.name = md_bytes_of(kw, klen);
		ev.arg = sp ? md_bytes_of(sp + 1, (size_t)(nl - sp - 1)) :
			      md_bytes_of(NULL, 0);
		smtp_emit(s, &ev);
	}
}

/*
 * Finds the server's queue id in a final reply, as the common MTAs word
 * it: Postfix "queued as X", Exim "id=X", Sendmail "X Message accepted",
 * Exchange "<X> [...] Queued mail".  Returns an empty run when none.
 */
static struct md_bytes
queue_id(const uint8_t *p, size_t n)
{
	static const char *const keys[] = { "queued as ", "id=", NULL };
	size_t			 i, j, k;

	for (k = 0; keys[k] != NULL; k++) {
		size_t kl = strlen(keys[k]);
		for (i = 0; i + kl <= n; i++) {
			if (!md_ci_prefix(p + i, n - i, keys[k]))
				continue;
			for (j = i + kl; j < n && p[j] != ' ' && p[j] != '\n' &&
			     p[j] != ')' && p[j] != ';' && p[j] != ',';
			     j++)
				;
			if (j > i + kl)
				return md_bytes_of(p + i + kl, j - i - kl);
		}
	}
	/* Sendmail: [x.y.z] ID Message accepted for delivery */
	for (i = 0; i < n; i++) {
		if (!md_ci_prefix(p + i, n - i, " Message accepted"))
			continue;
		for (j = i; j > 0 && p[j - 1] != ' '; j--)
			;
		if (j < i && !(p[j] >= '0' && p[j] <= '9'))
			return md_bytes_of(p + j, i - j);
		break;
	}
	return md_bytes_of(NULL, 0);
}

/* An LMTP recipient was accepted: it will get a reply of its own. */
static void
lmtp_accepted(struct smtp *s, uint32_t tx, uint32_t seq)
{
	if (tx != s->lmtp_tx) {
		s->lmtp_tx = tx;
		s->lmtp_n = 0;
	}
	if (s->lmtp_rcpt == NULL &&
	    (s->lmtp_rcpt = calloc(LMTP_RCPT_MAX, sizeof(uint32_t))) == NULL)
		return;
	if (s->lmtp_n < LMTP_RCPT_MAX)
		s->lmtp_rcpt[s->lmtp_n] = seq;
	s->lmtp_n++;
}

/* The reply at hand is the delivery status for the next recipient. */
static void
lmtp_delivery(struct smtp *s)
{
	struct md_event ev = { .type = MD_EV_DELIVERY, .dir = MD_S2C };

	ev.tx = s->lmtp_tx;
	ev.seq = s->lmtp_next < LMTP_RCPT_MAX && s->lmtp_rcpt != NULL ?
	    s->lmtp_rcpt[s->lmtp_next] :
	    0;
	ev.code = s->reply.code;
	ev.arg = md_bytes_of(s->reply.text, s->reply.len);
	smtp_emit(s, &ev);
	s->lmtp_next++;
	if (s->lmtp_due > 0)
		s->lmtp_due--;
}

/*
 * The end of data's reply in LMTP is the first recipient's delivery
 * status; one more reply follows for each other accepted recipient
 * (RFC 2033 4.2), before any reply to a later command.
 */
static void
lmtp_deliveries(struct smtp *s, uint32_t tx)
{
	if (!s->lmtp || tx != s->lmtp_tx || s->lmtp_n == 0)
		return;
	s->lmtp_next = 0;
	s->lmtp_due = 0;
	lmtp_delivery(s);
	s->lmtp_due = s->lmtp_n - 1;
}

static void
tx_reply(struct smtp *s, uint32_t tx)
{
	struct md_event ev = { .type = MD_EV_TX_REPLY, .dir = MD_S2C };

	ev.tx = tx;
	ev.code = s->reply.code;
	ev.arg = md_bytes_of(s->reply.text, s->reply.len);
	ev.extra = queue_id(s->reply.text, s->reply.len);
	smtp_emit(s, &ev);
}

static void
start_tls(struct smtp *s)
{
	out_tls_begin(&s->out, MD_TLS_STARTTLS, s->env, smtp_plain, s);
	s->cmode = SMTP_C_TLS;
	s->s2c_tls = 1;
}

/* Applies what a reply means for the command it answers. */
static void
reply_effects(struct smtp *s, const struct pending *pd)
{
	int code = s->reply.code;
	int ok = code >= 200 && code < 400;

	switch ((enum smtp_kind)pd->kind) {
	case K_EHLO:
		if (code == 250)
			ehlo_extensions(s);
		break;
	case K_MAIL:
		/* A refused MAIL leaves the transaction before it, if any,
		 * as it was ("nested MAIL command"). */
		if (!ok && s->cur_tx == pd->tx)
			s->cur_tx = pd->prev_tx;
		break;
	case K_RCPT:
		if (s->lmtp && code >= 200 && code < 300)
			lmtp_accepted(s, pd->tx, pd->seq);
		break;
	case K_DATA:
		if (code == 354 && s->cmode == SMTP_C_DATA_WAIT) {
			msg_begin(s, pd->tx, "DATA", 0);
			s->cmode = SMTP_C_DATA;
		} else if (code == 354 && pd->tx == 0 &&
		    s->cmode == SMTP_C_COMMAND) {
			/* Accepted without MAIL: follow the server. */
			s->cur_tx = ++s->ntx;
			msg_begin(s, s->cur_tx, "DATA", 1);
			s->cmode = SMTP_C_DATA;
		} else if (code != 354 && s->cmode == SMTP_C_DATA_WAIT)
			s->cmode = SMTP_C_COMMAND;
		/* Otherwise the body went ahead of the 354 and is done. */
		break;
	case K_BDAT_LAST:
		tx_reply(s, pd->tx);
		lmtp_deliveries(s, pd->tx);
		break;
	case K_STARTTLS: {
		struct md_event ev = { .type = MD_EV_STARTTLS, .dir = MD_S2C };
		ev.seq = pd->seq;
		ev.code = code;
		smtp_emit(s, &ev);
		s->starttls_wait = 0;
		out_tls_answer(&s->out, code == 220);
		if (code == 220)
			start_tls(s);
		break;
	}
	case K_AUTH:
		auth_emit(s, code, code == 235 ? MD_AUTH_OK : MD_AUTH_FAILED);
		break;
	default:
		break;
	}
}

/*
 * Whether a reply can answer the pending command, when a hole in the
 * client's bytes may have taken commands whose replies come first: DATA
 * is answered by 354 or a refusal, never by a 2xx.
 */
static int
reply_fits(const struct pending *pd, int code)
{
	if (pd->kind == K_DATA)
		return code == 354 || code >= 400;
	return 1;
}

/* A reply that answers no command we have: logged as it came, with the
 * anomaly that says why (none for one sent before the capture began). */
static void
reply_unpaired(struct smtp *s, const char *why)
{
	struct md_event ev = { .type = MD_EV_REPLY, .dir = MD_S2C };

	if (why != NULL)
		smtp_anomaly(s, MD_S2C, why, s->reply.text, s->reply.len);
	ev.code = s->reply.code;
	ev.arg = md_bytes_of(s->reply.text, s->reply.len);
	smtp_emit(s, &ev);
}

static void
reply_complete(struct smtp *s)
{
	struct md_event ev = { .type = MD_EV_REPLY, .dir = MD_S2C };
	struct pending *pd, copy;

	if (!s->greeted) {
		/* The server speaks first (RFC 5321 3.1): this is the banner.
		 */
		ev.type = MD_EV_GREETING;
		ev.code = s->reply.code;
		ev.arg = md_bytes_of(s->reply.text, s->reply.len);
		smtp_emit(s, &ev);
		s->greeted = 1;
		return;
	}
	if (s->lmtp_due > 0) { /* one more recipient's delivery */
		lmtp_delivery(s);
		return;
	}
	pd = pending_head(s);
	if (pd != NULL && pd->kind == K_AUTH && s->reply.code == 334 &&
	    s->sasl != NULL) {
		sasl_challenge(s->sasl, s->reply.text, s->reply.len);
		s->cmode = SMTP_C_SASL;
		return;
	}
	if (pd == NULL) {
		/* Picked up mid-stream: the first replies answer commands
		 * sent before the capture began. */
		reply_unpaired(s,
		    !s->out.flow->midstream || s->seq > 0 ?
			MD_ANOM_REPLY_WITHOUT_CMD :
			NULL);
		return;
	}
	if (s->c2s_lost && pd->seq > s->lost_after &&
	    !reply_fits(pd, s->reply.code)) {
		/* the answer to a command the hole took */
		reply_unpaired(s, MD_ANOM_LOST_COMMAND_REPLY);
		return;
	}
	if (pd->seq > s->lost_after)
		s->c2s_lost = 0;
	copy = *pd;
	pending_pop(s);
	if (copy.kind == K_EOD) {
		tx_reply(s, copy.tx);
		lmtp_deliveries(s, copy.tx);
		return;
	}
	ev.seq = copy.seq;
	ev.tx = copy.tx;
	ev.code = s->reply.code;
	ev.name = md_bytes_of(copy.verb, copy.verb_len);
	ev.arg = md_bytes_of(s->reply.text, s->reply.len);
	smtp_emit(s, &ev);
	reply_effects(s, &copy);
}

/*
 * A reply code (RFC 5321 4.2): the first digit 2 to 5, the second 0 to 5,
 * the third any; anything else is not a reply (as Suricata reports).
 */
static int
is_reply_code(const uint8_t *p, size_t n)
{
	return n >= 3 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' &&
	    p[1] <= '5' && p[2] >= '0' && p[2] <= '9';
}

/* A reply line is "ddd-text" (more follow) or "ddd text" / "ddd" (last). */
static void
smtp_server_line(struct smtp *s, const struct line *ln)
{
	const uint8_t *p = ln->text.p;
	size_t	       n = ln->text.len;
	int	       more;

	out_line_anomalies(&s->out, MD_S2C, ln);
	if (!is_reply_code(p, n)) {
		smtp_anomaly(s, MD_S2C, MD_ANOM_BAD_REPLY, p, n);
		if (s->reply.lines > 0) { /* keep it with the reply it broke */
			reply_append(s, p, n);
			s->reply.lines++;
		}
		return;
	}
	more = n > 3 && p[3] == '-';
	if (s->reply.lines == 0)
		s->reply.code =
		    (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	reply_append(s, p + (n > 3 ? 4 : 3), n > 3 ? n - 4 : 0);
	s->reply.lines++;
	if (more)
		return;
	reply_complete(s);
	reply_reset(&s->reply);
}

/* ----------------------------------------------------------------- feed */

static void
feed_client(struct smtp *s, const uint8_t *p, size_t len)
{
	struct line ln;
	size_t	    n = 0;

	while (len > 0) {
		switch (s->cmode) {
		case SMTP_C_TLS:
			out_tls(&s->out, MD_C2S, p, len);
			return;
		case SMTP_C_DATA_WAIT:
			/* Body sent ahead of the 354 (seen in the wild). */
			msg_begin(s, s->cur_tx, "DATA", 0);
			s->cmode = SMTP_C_DATA;
			continue;
		case SMTP_C_DATA:
			n = body_data(s, p, len);
			break;
		case SMTP_C_BDAT:
			n = body_bdat(s, p, len);
			break;
		case SMTP_C_RESYNC:
			n = line_take(&s->line[MD_C2S], p, len, &ln);
			if (ln.text.p != NULL)
				resync_line(s, &ln);
			break;
		case SMTP_C_COMMAND:
		case SMTP_C_SASL:
			if (!line_pending(&s->line[MD_C2S]) &&
			    md_looks_like_tls(p, len) &&
			    (s->starttls_wait || s->seq == 0)) {
				/* Either the 220 to STARTTLS was not captured,
				 * or the client tried implicit TLS on a server
				 * that greeted in clear. */
				int implicit = !s->starttls_wait;

				if (implicit)
					smtp_anomaly(s, MD_C2S,
					    MD_ANOM_TLS_WITHOUT_STARTTLS, NULL,
					    0);
				start_tls(s);
				if (implicit)
					s->out.tls = MD_TLS_IMPLICIT;
				continue;
			}
			n = line_take(&s->line[MD_C2S], p, len, &ln);
			if (ln.text.p != NULL)
				smtp_client_line(s, &ln);
			break;
		}
		p += n;
		len -= n;
	}
}

static void
feed_server(struct smtp *s, const uint8_t *p, size_t len)
{
	struct line ln;
	size_t	    n;

	while (len > 0) {
		if (s->s2c_tls) {
			out_tls(&s->out, MD_S2C, p, len);
			return;
		}
		n = line_take(&s->line[MD_S2C], p, len, &ln);
		if (ln.text.p != NULL)
			smtp_server_line(s, &ln);
		p += n;
		len -= n;
	}
}

/*
 * Implicit TLS (465) that the server answers in clear text: its first
 * byte is a reply code's, not a TLS record's.  The server does not speak
 * TLS there; its replies are logged, and the client's bytes (a TLS
 * client's) are counted, not parsed.
 */
static void
clear_after_hello(struct smtp *s)
{
	s->out.tls = MD_TLS_NONE;
	s->cmode = SMTP_C_TLS;
	smtp_anomaly(s, MD_S2C, MD_ANOM_TLS_ANSWERED_CLEAR, NULL, 0);
}

static int
smtp_feed(void *st, enum md_dir dir, const uint8_t *p, size_t len,
    uint64_t ts_us)
{
	struct smtp *s = st;

	if (dir == MD_S2C && !s->s2c_spoke && len > 0) {
		s->s2c_spoke = 1;
		if (s->out.tls == MD_TLS_IMPLICIT && p[0] >= '2' && p[0] <= '5')
			clear_after_hello(s);
	}
	if (out_feed(&s->out, dir, p, len, ts_us))
		return 0;
	if (dir == MD_C2S)
		feed_client(s, p, len);
	else
		feed_server(s, p, len);
	return 0;
}

static void
smtp_gap(void *st, enum md_dir dir, size_t missing, uint64_t ts_us)
{
	struct smtp *s = st;

	out_gap(&s->out, dir, missing, ts_us);
	if (dir != MD_C2S)
		return;
	if (s->msg_open && s->cmode == SMTP_C_BDAT &&
	    (uint64_t)missing <= s->chunk_left) {
		/* The chunk length still frames the stream. */
		s->chunk_left -= missing;
		if (s->chunk_left == 0)
			(void)body_bdat(s, NULL, 0);
		return;
	}
	if (s->cmode == SMTP_C_BDAT) {
		/* The chunk ended inside the hole, and what followed it
		 * (commands, perhaps more chunks) is lost with it: the
		 * message is cut, and commands are looked for again. */
		s->chunk_left = 0;
		msg_end(s, 0);
		s->cmode = SMTP_C_RESYNC;
	} else if (s->cmode == SMTP_C_COMMAND) {
		s->cmode = SMTP_C_RESYNC;
	} else {
		return; /* DATA goes on to its dot; TLS and SASL as they are */
	}
	line_discard(&s->line[MD_C2S]);
	s->c2s_lost = 1;
	s->lost_after = s->seq;
}

/*
 * Bytes a key log let the TLS view decrypt: the session goes on as in
 * clear.  After STARTTLS it starts afresh (RFC 3207 4.2: the client says
 * EHLO again); on 465 it begins with the greeting.
 */
static void
smtp_plain(void *arg, enum md_dir dir, const uint8_t *p, size_t n)
{
	struct smtp *s = arg;

	if (!s->decrypting) {
		s->decrypting = 1;
		s->cmode = SMTP_C_COMMAND;
		s->s2c_tls = 0;
	}
	if (dir == MD_C2S)
		feed_client(s, p, n);
	else
		feed_server(s, p, n);
}

static void *
smtp_open(const struct md_sink *sink, const struct md_env *env,
    const struct md_flow *flow, enum md_tls tls, uint64_t ts_us)
{
	const struct md_limits *lim = &env->lim;
	struct smtp	       *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->lim = *lim;
	if (ring_init(&s->q, sizeof(struct pending), lim->pending_max) != 0) {
		free(s);
		return NULL;
	}
	out_open(&s->out, sink, flow, tls, ts_us, "smtp");
	s->env = env;
	if (tls != MD_TLS_NONE) /* an implicit-TLS port */
		out_tls_begin(&s->out, tls, env, smtp_plain, s);
	s->greeted = flow->midstream; /* no greeting will come */
	line_init(&s->line[MD_C2S], lim->line_max);
	line_init(&s->line[MD_S2C], lim->line_max);
	return s;
}

/* Lines still held at the end are delivered: they are what was sent. */
static void
smtp_flush_lines(struct smtp *s)
{
	struct line ln;

	if (s->cmode != SMTP_C_TLS &&
	    (s->cmode == SMTP_C_COMMAND || s->cmode == SMTP_C_SASL) &&
	    line_flush(&s->line[MD_C2S], &ln))
		smtp_client_line(s, &ln);
	if (!s->s2c_tls && line_flush(&s->line[MD_S2C], &ln))
		smtp_server_line(s, &ln);
	if (s->reply.lines > 0) { /* a multi-line reply cut short */
		reply_complete(s);
		reply_reset(&s->reply);
	}
}

static void
smtp_close(void *st, enum md_end why, uint64_t ts_us)
{
	struct smtp *s = st;

	s->out.ts = ts_us;
	if (s->out.tls != MD_TLS_IMPLICIT)
		smtp_flush_lines(s);
	if (s->sasl != NULL)
		auth_emit(s, 0, MD_AUTH_UNKNOWN);
	if (s->msg_open)
		msg_end(s, 0);
	out_session_end(&s->out,
	    s->quit_seen && why != MD_END_RESET ? MD_END_QUIT : why);
	line_free(&s->line[MD_C2S]);
	line_free(&s->line[MD_S2C]);
	free(s->reply.text);
	free(s->lmtp_rcpt);
	ring_free(&s->q);
	free(s);
}

const struct md_proto md_proto_smtp = {
	.name = "smtp",
	.id = MD_PROTO_SMTP,
	.open = smtp_open,
	.feed = smtp_feed,
	.gap = smtp_gap,
	.close = smtp_close,
};
