/* \summary: POP3 session dissector (incremental, both directions) */
/*
 * RFC 1939 (POP3), RFC 2449 (CAPA, PIPELINING), RFC 5034 (AUTH with
 * SASL), RFC 1734 (AUTH listing), RFC 2595 (STLS).
 *
 * The server answers every command with one status line, "+OK" or
 * "-ERR"; after "+OK" some commands (CAPA, LIST and UIDL without an
 * argument, RETR, TOP, AUTH without a mechanism) go on with a
 * dot-terminated multi-line body.  Whether one follows is known only from
 * the command, so replies are paired with the oldest command awaiting one,
 * as PIPELINING clients send several ahead.  A RETR or TOP body is a
 * message: dot-unstuffed and streamed to the sink, never held.
 *
 * The session moves AUTHORIZATION -> TRANSACTION on a successful login
 * and -> UPDATE on QUIT's "+OK", which is when the server deletes what
 * DELE marked (RFC 1939 6); a session that ends otherwise deletes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/common.h"
#include "dissect/dissect.h"
#include "dissect/util.h"
#include "dissect/line.h"
#include "dissect/sasl.h"

enum pop3_state { ST_AUTHORIZATION, ST_TRANSACTION, ST_UPDATE };

enum pop3_cmode {
	C_COMMAND, /* command lines */
	C_SASL,	   /* responses to an AUTH challenge */
	C_TLS	   /* after STLS: opaque */
};

enum pop3_smode {
	S_STATUS,  /* status lines */
	S_LISTING, /* multi-line text: CAPA, LIST, UIDL, AUTH */
	S_MESSAGE, /* multi-line message: RETR, TOP */
	S_TLS
};

/* What a pending command's reply means to us. */
enum pop3_kind {
	K_OTHER,
	K_USER,
	K_PASS,
	K_APOP,
	K_AUTH,
	K_AUTH_LIST,
	K_CAPA,
	K_STLS,
	K_LIST,
	K_LIST_ONE,
	K_UIDL,
	K_UIDL_ONE,
	K_RETR,
	K_TOP,
	K_DELE,
	K_RSET,
	K_QUIT
};

#define POP3_VERB_MAX 8 /* longest verb kept; real ones have 4 */
#define POP3_ARG_MAX  24

struct pending {
	uint32_t seq;
	uint64_t msgno; /* RETR, TOP, DELE, LIST n, UIDL n */
	uint8_t	 kind;
	uint8_t	 verb_len;
	uint8_t	 arg_len;
	char	 verb[POP3_VERB_MAX];
	char	 arg[POP3_ARG_MAX]; /* TOP: the line count */
};

struct pop3 {
	struct md_out	out;
	struct line_buf line[2];
	enum pop3_state state;
	enum pop3_cmode cmode;
	enum pop3_smode smode;

	struct ring    q; /* struct pending, oldest first */
	uint32_t       seq, nmsg;
	struct sasl   *cred;  /* USER/PASS, APOP or AUTH under way */
	struct pending multi; /* command whose multi-line body runs */

	/* message in progress (RETR, TOP) */
	struct dot_body dot;
	uint32_t	msg_tx;
	int		msg_open, msg_muted;
	uint64_t	msg_size;
	/*
	 * TOP n: the header and n body lines.  When the body had fewer than
	 * n lines it came whole (fetchmail asks for TOP n 99999999): body
	 * lines are counted to tell.
	 */
	struct pending top;
	int	       top_open, in_body;
	uint64_t       top_lines, body_lines, line_len;
	uint8_t	       last;

	struct sasl_field    apop_ts; /* RFC 1939 7: <timestamp> of greeting */
	int		     greeted, quit_seen, stls_wait, after_quit_said;
	const struct md_env *env; /* the run's: TLS secrets and budget */
};

static void pop3_plain(void *arg, enum md_dir, const uint8_t *p, size_t n);

static const char *const state_names[] = {
	[ST_AUTHORIZATION] = "AUTHORIZATION",
	[ST_TRANSACTION] = "TRANSACTION",
	[ST_UPDATE] = "UPDATE",
};

static void
enter_state(struct pop3 *s, enum pop3_state st)
{
	struct md_event ev = { .type = MD_EV_STATE, .dir = MD_S2C };

	s->state = st;
	ev.name = md_bytes_str(state_names[st]);
	out_emit(&s->out, &ev);
}

static void
emit_item(struct pop3 *s, const char *what, uint32_t seq, uint64_t msgno,
    uint64_t size, struct md_bytes arg)
{
	struct md_event ev = { .type = MD_EV_ITEM, .dir = MD_S2C };

	ev.seq = seq;
	ev.name = md_bytes_str(what);
	ev.num[0] = msgno;
	ev.num[1] = size;
	ev.arg = arg;
	out_emit(&s->out, &ev);
}

/* ------------------------------------------------------------- messages */

/* Counts the body lines of a TOP reply: those after the empty line. */
static void
top_count(struct pop3 *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			s->line_len++;
			s->last = p[i];
			continue;
		}
		if (s->in_body)
			s->body_lines++;
		else if (s->line_len == 0 ||
		    (s->line_len == 1 && s->last == '\r'))
			s->in_body = 1;
		s->line_len = 0;
		s->last = '\n';
	}
}

static void
msg_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct pop3    *s = arg;
	struct md_event ev = { .type = MD_EV_MSG_DATA, .dir = MD_S2C };

	if (s->top_open)
		top_count(s, p, n);
	s->msg_size += n;
	if (s->msg_muted)
		return;
	ev.tx = s->msg_tx;
	ev.arg = md_bytes_of(p, n);
	if (out_emit(&s->out, &ev) != 0)
		s->msg_muted = 1;
}

static void
msg_begin(struct pop3 *s, const struct pending *pd)
{
	struct md_event ev = { .type = MD_EV_MSG_BEGIN, .dir = MD_S2C };
	struct md_event meta = { .type = MD_EV_MSG_META, .dir = MD_S2C };

	s->msg_open = 1;
	s->msg_muted = 0;
	s->msg_tx = ++s->nmsg;
	s->msg_size = 0;
	dot_init(&s->dot);
	ev.tx = s->msg_tx;
	ev.seq = pd->seq;
	ev.name = md_bytes_of(pd->verb, pd->verb_len);
	out_emit(&s->out, &ev);
	meta.tx = s->msg_tx;
	meta.num[0] = pd->msgno;
	out_emit(&s->out, &meta);
	s->top_open = pd->kind == K_TOP; /* partial or not: told at its end */
	if (s->top_open) {
		s->top = *pd;
		if (md_parse_u64((const uint8_t *)pd->arg, pd->arg_len,
			&s->top_lines) == 0)
			s->top_lines = 0; /* no count: never taken as whole */
		s->in_body = 0;
		s->body_lines = s->line_len = 0;
		s->last = '\n';
	}
}

/*
 * A TOP reply is a part of the message (its header and n body lines)
 * unless its body ended before n lines: then it is the whole message,
 * as RETR would have sent it.
 */
static void
top_end(struct pop3 *s, int complete)
{
	struct md_event meta = { .type = MD_EV_MSG_META, .dir = MD_S2C };

	s->top_open = 0;
	if (complete && s->body_lines < s->top_lines)
		return;
	meta.tx = s->msg_tx;
	meta.num[0] = s->top.msgno;
	meta.code = 1;
	meta.aux = md_bytes_of(s->top.arg, s->top.arg_len);
	out_emit(&s->out, &meta);
}

static void
msg_end(struct pop3 *s, int complete)
{
	struct md_event ev = { .type = MD_EV_MSG_END, .dir = MD_S2C };

	if (!s->msg_open)
		return;
	if (s->top_open)
		top_end(s, complete);
	ev.tx = s->msg_tx;
	ev.code = complete;
	ev.num[0] = s->msg_size;
	out_emit(&s->out, &ev);
	s->msg_open = 0;
}

/* ------------------------------------------------------------ credentials */

static void
cred_emit(struct pop3 *s, enum md_status st, enum md_auth_outcome outcome)
{
	out_auth(&s->out, &s->cred, 0, st, outcome);
	if (s->cmode == C_SASL)
		s->cmode = C_COMMAND;
}

static struct sasl *
cred_new(struct pop3 *s, uint32_t seq, const char *mech)
{
	if (s->cred != NULL) /* an attempt that never got its verdict */
		cred_emit(s, MD_ST_NONE, MD_AUTH_UNKNOWN);
	s->cred = sasl_new(seq, (const uint8_t *)mech, strlen(mech));
	return s->cred;
}

/* 0 when a client line was a SASL response, -1 when it is a command. */
static int
sasl_line(struct pop3 *s, const uint8_t *p, size_t n, int initial)
{
	int r = out_sasl_line(&s->out, s->cred, p, n, initial);

	if (r <= 0)
		s->cmode = C_COMMAND;
	return r < 0 ? -1 : 0;
}

/* AUTH mechanism [initial-response] (RFC 5034 4). */
static void
cmd_auth(struct pop3 *s, uint32_t seq, const uint8_t *a, size_t n)
{
	const uint8_t *sp = memchr(a, ' ', n);
	size_t	       mlen = sp ? (size_t)(sp - a) : n;

	if (s->cred != NULL)
		cred_emit(s, MD_ST_NONE, MD_AUTH_UNKNOWN);
	if ((s->cred = sasl_new(seq, a, mlen)) == NULL)
		return;
	s->cmode = C_SASL;
	if (sp != NULL)
		(void)sasl_line(s, sp + 1, n - mlen - 1, 1);
}

/* APOP name digest (RFC 1939 7): the digest is MD5(timestamp secret). */
static void
cmd_apop(struct pop3 *s, uint32_t seq, const uint8_t *a, size_t n)
{
	const uint8_t *sp;
	struct sasl   *c;

	if ((c = cred_new(s, seq, "APOP")) == NULL)
		return;
	for (sp = a + n; sp > a && sp[-1] != ' '; sp--)
		;
	if (sp == a) {
		sasl_set(&c->user, a, n);
	} else {
		sasl_set(&c->user, a, (size_t)(sp - a - 1));
		sasl_set(&c->proof, sp, n - (size_t)(sp - a));
	}
	c->chal = s->apop_ts;
}

/* ------------------------------------------------------------- commands */

static uint64_t
arg_number(const uint8_t *a, size_t n)
{
	uint64_t v = 0;

	(void)md_parse_u64(a, n, &v);
	return v;
}

/*
 * The commands of RFC 1939, 2449 (CAPA), 2595 (STLS) and 5034 (AUTH).
 * Each handler takes its verb's row, the command's number, its
 * arguments and its place in the queue of commands awaiting a reply,
 * and returns the kind of command to queue.
 */
struct pop3_verb;
typedef enum pop3_kind pop3_cmd_fn(struct pop3 *, const struct pop3_verb *,
    uint32_t seq, const uint8_t *a, size_t n, struct pending *pd);

struct pop3_verb {
	const char    *verb;
	enum pop3_kind kind;
	pop3_cmd_fn   *run;   /* NULL: the kind says it all */
	int	       msgno; /* its argument is a message number */
};

static enum pop3_kind
cmd_user(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	struct sasl *c;

	(void)pd;
	out_credentials_sent(&s->out);
	if ((c = cred_new(s, seq, "USER")) != NULL)
		sasl_set(&c->user, a, n);
	return v->kind;
}

/* PASS: the password may hold spaces, so all of it (RFC 1939 7). */
static enum pop3_kind
cmd_pass(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	(void)pd;
	if (s->cred == NULL || strcmp(s->cred->mech_name, "USER") != 0)
		(void)cred_new(s, seq, "USER");
	if (s->cred != NULL)
		sasl_set(&s->cred->secret, a, n);
	return v->kind;
}

static enum pop3_kind
cmd_apop_verb(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	(void)pd;
	out_credentials_sent(&s->out);
	cmd_apop(s, seq, a, n);
	return v->kind;
}

/* AUTH alone lists the mechanisms (RFC 5034 4); with one, it logs in. */
static enum pop3_kind
cmd_auth_verb(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	(void)pd;
	if (n == 0)
		return K_AUTH_LIST;
	out_credentials_sent(&s->out);
	cmd_auth(s, seq, a, n);
	return v->kind;
}

static enum pop3_kind
cmd_stls(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	(void)seq;
	(void)a;
	(void)n;
	(void)pd;
	s->stls_wait = 1;
	return v->kind;
}

/* LIST and UIDL answer for every message, or with a number for one:
 * the kind for one (K_LIST_ONE, K_UIDL_ONE) follows the kind for all. */
static enum pop3_kind
cmd_listing(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	(void)s;
	(void)seq;
	(void)a;
	(void)pd;
	return (enum pop3_kind)(v->kind + (n > 0));
}

/* TOP msg n: the line count is kept to say what part crossed. */
static enum pop3_kind
cmd_top(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	const uint8_t *sp = memchr(a, ' ', n);

	(void)s;
	(void)seq;
	if (sp != NULL) {
		size_t l = n - (size_t)(sp + 1 - a);

		pd->arg_len = (uint8_t)(l < POP3_ARG_MAX ? l : POP3_ARG_MAX);
		memcpy(pd->arg, sp + 1, pd->arg_len);
	}
	return v->kind;
}

static enum pop3_kind
cmd_quit(struct pop3 *s, const struct pop3_verb *v, uint32_t seq,
    const uint8_t *a, size_t n, struct pending *pd)
{
	(void)seq;
	(void)a;
	(void)n;
	(void)pd;
	s->quit_seen = 1;
	return v->kind;
}

static const struct pop3_verb pop3_verbs[] = {
	{ "USER", K_USER, cmd_user, 0 },
	{ "PASS", K_PASS, cmd_pass, 0 },
	{ "APOP", K_APOP, cmd_apop_verb, 0 },
	{ "AUTH", K_AUTH, cmd_auth_verb, 0 },
	{ "CAPA", K_CAPA, NULL, 0 },
	{ "STLS", K_STLS, cmd_stls, 0 },
	{ "LIST", K_LIST, cmd_listing, 1 },
	{ "UIDL", K_UIDL, cmd_listing, 1 },
	{ "RETR", K_RETR, NULL, 1 },
	{ "TOP", K_TOP, cmd_top, 1 },
	{ "DELE", K_DELE, NULL, 1 },
	{ "RSET", K_RSET, NULL, 0 },
	{ "QUIT", K_QUIT, cmd_quit, 0 },
};

static enum pop3_kind
command_kind(struct pop3 *s, uint32_t seq, const uint8_t *verb, size_t vlen,
    const uint8_t *a, size_t n, struct pending *pd)
{
	for (size_t i = 0; i < sizeof(pop3_verbs) / sizeof(*pop3_verbs); i++) {
		const struct pop3_verb *v = &pop3_verbs[i];

		if (!md_ci_equal(verb, vlen, v->verb))
			continue;
		if (v->msgno)
			pd->msgno = arg_number(a, n);
		return v->run != NULL ? v->run(s, v, seq, a, n, pd) : v->kind;
	}
	return K_OTHER;
}

static void
pop3_command(struct pop3 *s, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_COMMAND, .dir = MD_C2S };
	struct pending	tmp = { 0 }, *pd;
	const uint8_t  *sp = memchr(p, ' ', n);
	size_t		vlen = sp ? (size_t)(sp - p) : n;
	const uint8_t  *a = sp ? sp + 1 : p + n;
	size_t		alen = sp ? n - vlen - 1 : 0;
	char		verb[POP3_VERB_MAX];

	if (n == 0)
		return;
	if (!s->greeted && s->seq == 0)
		out_anomaly(&s->out, MD_C2S, MD_ANOM_CMD_BEFORE_GREETING, p, n);
	if (s->quit_seen && !s->after_quit_said) {
		s->after_quit_said = 1;
		out_anomaly(&s->out, MD_C2S, MD_ANOM_DATA_AFTER_QUIT, p, n);
	}
	tmp.seq = ++s->seq;
	tmp.verb_len = (uint8_t)(vlen < POP3_VERB_MAX ? vlen : POP3_VERB_MAX);
	md_upper_copy(verb, p, tmp.verb_len);
	memcpy(tmp.verb, verb, tmp.verb_len);
	ev.seq = tmp.seq;
	ev.name = md_bytes_of(verb, tmp.verb_len);
	ev.arg = md_bytes_of(a, alen);
	out_emit(&s->out, &ev);
	tmp.kind = (uint8_t)command_kind(s, tmp.seq, p, vlen, a, alen, &tmp);
	pd = out_queue_push(&s->out, &s->q);
	*pd = tmp;
}

static void
pop3_client_line(struct pop3 *s, const struct line *ln)
{
	out_line_anomalies(&s->out, MD_C2S, ln);
	if (s->cmode == C_SASL && s->cred != NULL &&
	    sasl_line(s, ln->text.p, ln->text.len, 0) == 0)
		return;
	pop3_command(s, ln->text.p, ln->text.len);
}

/* -------------------------------------------------------------- replies */

static void
start_tls(struct pop3 *s)
{
	out_tls_begin(&s->out, MD_TLS_STARTTLS, s->env, pop3_plain, s);
	s->cmode = C_TLS;
	s->smode = S_TLS;
}

/* "n size" (LIST) or "n unique-id" (UIDL), RFC 1939 5 and 7. */
static void
scan_listing_entry(struct pop3 *s, const struct pending *pd, const uint8_t *p,
    size_t n)
{
	uint64_t       msgno, size = 0;
	size_t	       d = md_parse_u64(p, n, &msgno);
	const uint8_t *rest;
	size_t	       rlen;

	if (d == 0)
		return;
	rest = p + d;
	rlen = n - d;
	while (rlen > 0 && *rest == ' ') {
		rest++;
		rlen--;
	}
	if (pd->kind == K_LIST || pd->kind == K_LIST_ONE) {
		(void)md_parse_u64(rest, rlen, &size);
		emit_item(s, MD_ITEM_LIST, pd->seq, msgno, size,
		    md_bytes_of(NULL, 0));
	} else
		emit_item(s, MD_ITEM_UIDL, pd->seq, msgno, 0,
		    md_bytes_of(rest, rlen));
}

/* One line of a multi-line text reply, dot-unstuffed. */
static void
listing_line(struct pop3 *s, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_EXTENSION, .dir = MD_S2C };
	const uint8_t  *sp;

	if (n == 1 && p[0] == '.') {
		s->smode = S_STATUS;
		return;
	}
	if (n > 0 && p[0] == '.') {
		p++;
		n--;
	}
	switch ((enum pop3_kind)s->multi.kind) {
	case K_LIST:
	case K_UIDL:
		scan_listing_entry(s, &s->multi, p, n);
		break;
	case K_CAPA: /* RFC 2449 5: tag [SP param]* */
		sp = memchr(p, ' ', n);
		ev.name = md_bytes_of(p, sp ? (size_t)(sp - p) : n);
		ev.arg = sp ? md_bytes_of(sp + 1, n - (size_t)(sp + 1 - p)) :
			      md_bytes_of(NULL, 0);
		out_emit(&s->out, &ev);
		break;
	case K_AUTH_LIST: /* RFC 1734: one mechanism per line */
		ev.name = md_bytes_str("SASL");
		ev.arg = md_bytes_of(p, n);
		out_emit(&s->out, &ev);
		break;
	default:
		break;
	}
}

/* Applies what an accepted or refused command means. */
static void
reply_effects(struct pop3 *s, const struct pending *pd, enum md_status st,
    const uint8_t *text, size_t tlen)
{
	int ok = st == MD_ST_OK;

	switch ((enum pop3_kind)pd->kind) {
	case K_USER:
		if (!ok) /* refused before any password crossed */
			cred_emit(s, st, MD_AUTH_FAILED);
		break;
	case K_PASS:
	case K_APOP:
	case K_AUTH:
		cred_emit(s, st, ok ? MD_AUTH_OK : MD_AUTH_FAILED);
		if (ok && s->state == ST_AUTHORIZATION)
			enter_state(s, ST_TRANSACTION);
		break;
	case K_STLS: {
		struct md_event ev = { .type = MD_EV_STARTTLS, .dir = MD_S2C };
		ev.seq = pd->seq;
		ev.status = st;
		out_emit(&s->out, &ev);
		s->stls_wait = 0;
		out_tls_answer(&s->out, ok);
		if (ok)
			start_tls(s);
		break;
	}
	case K_CAPA:
	case K_LIST:
	case K_UIDL:
	case K_AUTH_LIST:
		if (ok) {
			s->multi = *pd;
			s->smode = S_LISTING;
		}
		break;
	case K_LIST_ONE:
	case K_UIDL_ONE:
		if (ok)
			scan_listing_entry(s, pd, text, tlen);
		break;
	case K_RETR:
	case K_TOP:
		if (ok) {
			msg_begin(s, pd);
			s->smode = S_MESSAGE;
		}
		break;
	case K_DELE:
		if (ok)
			emit_item(s, MD_ITEM_DELE, pd->seq, pd->msgno, 0,
			    md_bytes_of(NULL, 0));
		break;
	case K_RSET:
		if (ok)
			emit_item(s, MD_ITEM_RESET, pd->seq, 0, 0,
			    md_bytes_of(NULL, 0));
		break;
	case K_QUIT:
		if (ok && s->state == ST_TRANSACTION) {
			enter_state(s, ST_UPDATE);
			emit_item(s, MD_ITEM_COMMIT, pd->seq, 0, 0,
			    md_bytes_of(NULL, 0));
		}
		break;
	case K_OTHER:
		break;
	}
}

/* Status word of a reply line; *text is what follows it. */
static enum md_status
parse_status(const uint8_t *p, size_t n, size_t *skip)
{
	size_t	       w;
	enum md_status st;

	if (md_ci_prefix(p, n, "+OK")) {
		w = 3;
		st = MD_ST_OK;
	} else if (md_ci_prefix(p, n, "-ERR")) {
		w = 4;
		st = MD_ST_NO;
	} else
		return MD_ST_NONE;
	if (n > w && p[w] != ' ')
		return MD_ST_NONE;
	*skip = n > w ? w + 1 : w;
	return st;
}

static void
greeting(struct pop3 *s, enum md_status st, const uint8_t *p,
    const uint8_t *text, size_t tlen)
{
	struct md_event ev = { .type = MD_EV_GREETING, .dir = MD_S2C };
	const uint8_t  *lt = memchr(text, '<', tlen), *gt;

	s->greeted = 1;
	if (lt != NULL &&
	    (gt = memchr(lt, '>', tlen - (size_t)(lt - text))) != NULL)
		sasl_set(&s->apop_ts, lt, (size_t)(gt - lt) + 1);
	ev.status = st;
	ev.arg = md_bytes_of(text, tlen);
	ev.extra = md_bytes_of(p, st == MD_ST_OK ? 3 : 4);
	out_emit(&s->out, &ev);
	if (st == MD_ST_OK)
		enter_state(s, ST_AUTHORIZATION);
}

static void
status_line(struct pop3 *s, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_REPLY, .dir = MD_S2C };
	struct pending *head = ring_at(&s->q, 0), pd;
	enum md_status	st;
	size_t		skip = 0;

	/* RFC 5034 4: "+" SP base64 is a SASL challenge, not a verdict. */
	if (head != NULL && head->kind == K_AUTH && s->cred != NULL && n >= 1 &&
	    p[0] == '+' && (n == 1 || p[1] == ' ')) {
		sasl_challenge(s->cred, p + (n > 1 ? 2 : 1), n > 1 ? n - 2 : 0);
		s->cmode = C_SASL;
		return;
	}
	if ((st = parse_status(p, n, &skip)) == MD_ST_NONE) {
		out_anomaly(&s->out, MD_S2C, MD_ANOM_BAD_REPLY, p, n);
		return;
	}
	if (!s->greeted) {
		greeting(s, st, p, p + skip, n - skip);
		return;
	}
	ev.status = st;
	ev.arg = md_bytes_of(p + skip, n - skip);
	ev.extra = md_bytes_of(p, st == MD_ST_OK ? 3 : 4);
	if (head == NULL) {
		if (!s->out.flow->midstream || s->seq > 0)
			out_anomaly(&s->out, MD_S2C, MD_ANOM_REPLY_WITHOUT_CMD,
			    p, n);
		out_emit(&s->out, &ev);
		return;
	}
	pd = *head;
	ring_remove(&s->q, 0);
	ev.seq = pd.seq;
	ev.name = md_bytes_of(pd.verb, pd.verb_len);
	out_emit(&s->out, &ev);
	reply_effects(s, &pd, st, p + skip, n - skip);
}

static void
pop3_server_line(struct pop3 *s, const struct line *ln)
{
	out_line_anomalies(&s->out, MD_S2C, ln);
	if (s->smode == S_LISTING)
		listing_line(s, ln->text.p, ln->text.len);
	else
		status_line(s, ln->text.p, ln->text.len);
}

/* ----------------------------------------------------------------- feed */

static void
feed_client(struct pop3 *s, const uint8_t *p, size_t len)
{
	struct line ln;
	size_t	    n;

	while (len > 0) {
		if (s->cmode == C_TLS) {
			out_tls(&s->out, MD_C2S, p, len);
			return;
		}
		if (s->stls_wait && !line_pending(&s->line[MD_C2S]) &&
		    md_looks_like_tls(p, len)) {
			/* the +OK to STLS was not captured */
			start_tls(s);
			continue;
		}
		n = line_take(&s->line[MD_C2S], p, len, &ln);
		if (ln.text.p != NULL)
			pop3_client_line(s, &ln);
		p += n;
		len -= n;
	}
}

static void
message_end(struct pop3 *s, enum dot_end end)
{
	if (end == DOT_END_BARE_LF)
		out_anomaly(&s->out, MD_S2C, MD_ANOM_BARE_LF_END_OF_DATA, NULL,
		    0);
	msg_end(s, 1);
	s->smode = S_STATUS;
}

static void
feed_server(struct pop3 *s, const uint8_t *p, size_t len)
{
	struct line  ln;
	enum dot_end end;
	size_t	     n = len;

	while (len > 0) {
		switch (s->smode) {
		case S_TLS:
			out_tls(&s->out, MD_S2C, p, len);
			return;
		case S_MESSAGE:
			n = dot_take(&s->dot, p, len, msg_bytes, s, &end);
			if (end != DOT_MORE)
				message_end(s, end);
			break;
		case S_STATUS:
		case S_LISTING:
			n = line_take(&s->line[MD_S2C], p, len, &ln);
			if (ln.text.p != NULL)
				pop3_server_line(s, &ln);
			break;
		}
		p += n;
		len -= n;
	}
}

static int
pop3_feed(void *st, enum md_dir dir, const uint8_t *p, size_t len,
    uint64_t ts_us)
{
	struct pop3 *s = st;

	if (out_feed(&s->out, dir, p, len, ts_us))
		return 0;
	if (dir == MD_C2S)
		feed_client(s, p, len);
	else
		feed_server(s, p, len);
	return 0;
}

static void
pop3_gap(void *st, enum md_dir dir, size_t missing, uint64_t ts_us)
{
	struct pop3 *s = st;

	out_gap(&s->out, dir, missing, ts_us);
}

/* Bytes a key log let the TLS view decrypt: the session goes on as in
 * clear (after STLS, from the AUTHORIZATION state: RFC 2595 4). */
static void
pop3_plain(void *arg, enum md_dir dir, const uint8_t *p, size_t n)
{
	struct pop3 *s = arg;

	if (s->cmode == C_TLS)
		s->cmode = C_COMMAND;
	if (s->smode == S_TLS)
		s->smode = S_STATUS;
	if (dir == MD_C2S)
		feed_client(s, p, n);
	else
		feed_server(s, p, n);
}

static void *
pop3_open(const struct md_sink *sink, const struct md_env *env,
    const struct md_flow *flow, enum md_tls tls, uint64_t ts_us)
{
	const struct md_limits *lim = &env->lim;
	struct pop3	       *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (ring_init(&s->q, sizeof(struct pending), lim->pending_max) != 0) {
		free(s);
		return NULL;
	}
	out_open(&s->out, sink, flow, tls, ts_us, "pop3");
	s->env = env;
	if (tls != MD_TLS_NONE) /* an implicit-TLS port */
		out_tls_begin(&s->out, tls, env, pop3_plain, s);
	s->greeted = flow->midstream; /* no greeting will come */
	line_init(&s->line[MD_C2S], lim->line_max);
	line_init(&s->line[MD_S2C], lim->line_max);
	return s;
}

static void
pop3_close(void *st, enum md_end why, uint64_t ts_us)
{
	struct pop3 *s = st;
	struct line  ln;

	s->out.ts = ts_us;
	if (s->out.tls != MD_TLS_IMPLICIT) {
		/* Lines still held are delivered: they are what was sent. */
		if (s->cmode != C_TLS && line_flush(&s->line[MD_C2S], &ln))
			pop3_client_line(s, &ln);
		if ((s->smode == S_STATUS || s->smode == S_LISTING) &&
		    line_flush(&s->line[MD_S2C], &ln))
			pop3_server_line(s, &ln);
	}
	msg_end(s, 0);
	cred_emit(s, MD_ST_NONE, MD_AUTH_UNKNOWN);
	out_session_end(&s->out,
	    s->quit_seen && why != MD_END_RESET ? MD_END_QUIT : why);
	line_free(&s->line[MD_C2S]);
	line_free(&s->line[MD_S2C]);
	ring_free(&s->q);
	free(s);
}

const struct md_proto md_proto_pop3 = {
	.name = "pop3",
	.id = MD_PROTO_POP3,
	.open = pop3_open,
	.feed = pop3_feed,
	.gap = pop3_gap,
	.close = pop3_close,
};
