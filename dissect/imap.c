/* \summary: IMAP session dissector (incremental, both directions) */
/*
 * RFC 9051 and RFC 3501 (IMAP4rev2 and rev1), with RFC 7888 (LITERAL+,
 * LITERAL-), RFC 3516 (BINARY), RFC 2177 (IDLE), RFC 2971 (ID), RFC 4978
 * (COMPRESS=DEFLATE), RFC 4959 (SASL-IR), RFC 5161 (ENABLE), RFC 7162
 * (VANISHED), RFC 3502 (MULTIAPPEND), RFC 6851 (MOVE).
 *
 * Both directions carry "logical lines": text that a literal {n} may
 * interrupt, followed by exactly n bytes and more text.  Each direction is
 * framed on its own: the text of a logical line is kept (capped) with each
 * literal shown as its announcement "{n}", while the literal bytes go
 * where they belong: a whole message or a part of one (FETCH BODY[],
 * RFC822, BINARY[]; APPEND) streams to the sink, a short literal (a
 * mailbox name, a password) is kept beside the text for the parser, and
 * anything else is counted and dropped.  Nothing large is ever held.
 *
 * Commands carry tags; a tagged completion finds its command wherever it
 * stands among those in flight.  Untagged responses are told to the
 * command they most likely answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "dissect/common.h"
#include "dissect/dissect.h"
#include "dissect/util.h"
#include "dissect/line.h"
#include "dissect/imapsyn.h"
#include "dissect/sasl.h"

enum imap_state {
	ST_NOT_AUTHENTICATED,
	ST_AUTHENTICATED,
	ST_SELECTED,
	ST_LOGOUT
};

static const char *const state_names[] = {
	[ST_NOT_AUTHENTICATED] = "NOT_AUTHENTICATED",
	[ST_AUTHENTICATED] = "AUTHENTICATED",
	[ST_SELECTED] = "SELECTED",
	[ST_LOGOUT] = "LOGOUT",
};

/* What a pending command's completion means to us. */
enum imap_kind {
	K_OTHER,
	K_LOGIN,
	K_AUTHENTICATE,
	K_STARTTLS,
	K_COMPRESS,
	K_SELECT,
	K_CLOSE, /* CLOSE, UNSELECT: back to AUTHENTICATED */
	K_IDLE,
	K_LOGOUT,
	K_FETCH,
	K_STORE,
	K_SEARCH,
	K_LIST,
	K_STATUS,
	K_CAPABILITY,
	K_ID,
	K_ENABLE,
	K_EXPUNGE
};

#define IMAP_TAG_MAX	  32 /* longer tags are cut (RFC: any atom) */
#define IMAP_VERB_MAX	  16 /* "UID EXPUNGE" and the like fit */
#define IMAP_LITS_MAX	  16 /* literals kept per logical line */
#define IMAP_KEEP_MAX	  (4 * MD_LITERAL_KEEP) /* their bytes, in all */
#define IMAP_RESP_MSGS	  8 /* message literals in one FETCH response */
#define IMAP_MAILBOX_MAX  256
#define IMAP_HUGE_LITERAL ((uint64_t)1 << 30) /* worth an anomaly */

struct pending {
	uint32_t seq;
	uint32_t nresp; /* untagged responses reported for it */
	uint8_t	 kind;
	uint8_t	 tag_len;
	uint8_t	 verb_len;
	char	 tag[IMAP_TAG_MAX];
	char	 verb[IMAP_VERB_MAX];
};

enum lit_role { LIT_DROP, LIT_KEEP, LIT_MESSAGE };

/* A buffer that grows on demand up to a cap. */
struct gbuf {
	uint8_t *p;
	size_t	 len, cap, max;
};

/* One direction's framing state. */
struct side {
	struct line_buf line;
	struct gbuf	text; /* the logical line, literals as "{n}" */
	int		over;
	struct imap_lit lits[IMAP_LITS_MAX];
	size_t		nlits;
	struct gbuf	keep; /* bytes of the kept literals */

	uint64_t	 lit_left; /* literal bytes still to come */
	enum lit_role	 lit_role;
	int		 lit_sync;    /* synchronising: the peer may refuse */
	int		 lit_started; /* some of its bytes have arrived */
	struct imap_lit *lit_cur;     /* when kept */

	z_stream *z;	   /* COMPRESS=DEFLATE in force */
	int	  z_start; /* switch to inflating after this line */
	int	  z_failed;
	int	  tls;
};

/* A message literal of the server response being read, for MSG_META. */
struct resp_msg {
	uint32_t	    tx;
	struct imap_section sec;
};

struct imap {
	struct md_out	out;
	struct side	side[2];
	enum imap_state state;

	struct ring  q; /* struct pending, oldest first */
	uint32_t     seq, nmsg;
	struct sasl *cred;
	int	     c_sasl, c_idle;

	char	 mailbox[IMAP_MAILBOX_MAX]; /* selected */
	size_t	 mailbox_len;
	char	 sel_mailbox[IMAP_MAILBOX_MAX]; /* being selected */
	size_t	 sel_mailbox_len;
	uint64_t sel[4]; /* EXISTS, UIDVALIDITY, UIDNEXT, RECENT */

	/* message in flight (only one literal crosses at a time per side) */
	uint32_t	msg_tx[2];
	int		msg_open[2], msg_muted[2], msg_gap[2];
	uint64_t	msg_size[2];
	struct resp_msg resp_msgs[IMAP_RESP_MSGS];
	size_t		resp_nmsgs;

	uint32_t orphan_resp; /* untagged responses with no command */
	uint32_t responses_max;
	uint32_t caps_hash;
	int	 greeted, logout_seen, starttls_wait;
	const struct md_env *env; /* the run's: TLS secrets and budget */
};

static void imap_plain(void *arg, enum md_dir, const uint8_t *p, size_t n);

static void side_plain(struct imap *, enum md_dir, const uint8_t *, size_t);

/* A cursor over the logical line a side has read, from offset from. */
static void
side_cursor(struct imap_cur *c, const struct side *sd, size_t from)
{
	imap_cur_init(c, sd->text.p, sd->text.len, from, sd->lits, sd->nlits,
	    sd->keep.p);
}

/* ---------------------------------------------------------------- events */

/* ---------------------------------------------------------------- tokens */

static void
enter_state(struct imap *s, enum imap_state st)
{
	struct md_event ev = { .type = MD_EV_STATE, .dir = MD_S2C };

	if (s->state == st)
		return;
	s->state = st;
	ev.name = md_bytes_str(state_names[st]);
	out_emit(&s->out, &ev);
}

static void
emit_item(struct imap *s, const char *what, uint32_t seq, uint64_t msgno,
    struct md_bytes arg, struct md_bytes flags)
{
	struct md_event ev = { .type = MD_EV_ITEM, .dir = MD_S2C };

	ev.seq = seq;
	ev.name = md_bytes_str(what);
	ev.num[0] = msgno;
	ev.arg = arg;
	ev.extra = flags;
	out_emit(&s->out, &ev);
}

static uint32_t
hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* A capability list (untagged CAPABILITY or a [CAPABILITY ...] code);
 * said again only when it changes (after STARTTLS or login). */
static void
capabilities(struct imap *s, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_EXTENSION, .dir = MD_S2C };
	uint32_t	h = hash_bytes(p, n);
	size_t		i = 0, j;

	if (h == s->caps_hash)
		return;
	s->caps_hash = h;
	while (i < n) {
		for (j = i; j < n && p[j] != ' '; j++)
			;
		if (j > i) {
			const uint8_t *eq = memchr(p + i, '=', j - i);
			size_t	       kl = eq ? (size_t)(eq - p) - i : j - i;

			ev.name = md_bytes_of(p + i, kl);
			ev.arg = eq ? md_bytes_of(eq + 1, j - i - kl - 1) :
				      md_bytes_of(NULL, 0);
			out_emit(&s->out, &ev);
		}
		i = j + 1;
	}
}

/* ------------------------------------------------------------- messages */

static void
msg_begin(struct imap *s, enum md_dir dir, uint32_t seq, const char *method)
{
	struct md_event ev = { .type = MD_EV_MSG_BEGIN, .dir = dir };

	s->msg_open[dir] = 1;
	s->msg_muted[dir] = 0;
	s->msg_size[dir] = 0;
	s->msg_gap[dir] = 0;
	s->msg_tx[dir] = ++s->nmsg;
	ev.tx = s->msg_tx[dir];
	ev.seq = seq;
	ev.name = md_bytes_str(method);
	out_emit(&s->out, &ev);
}

static void
msg_bytes(struct imap *s, enum md_dir dir, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_MSG_DATA, .dir = dir };

	s->msg_size[dir] += n;
	if (s->msg_muted[dir] || n == 0)
		return;
	ev.tx = s->msg_tx[dir];
	ev.arg = md_bytes_of(p, n);
	if (out_emit(&s->out, &ev) != 0)
		s->msg_muted[dir] = 1;
}

static void
msg_end(struct imap *s, enum md_dir dir, int complete)
{
	struct md_event ev = { .type = MD_EV_MSG_END, .dir = dir };

	if (!s->msg_open[dir])
		return;
	ev.tx = s->msg_tx[dir];
	ev.code = complete && !s->msg_gap[dir];
	ev.num[0] = s->msg_size[dir];
	out_emit(&s->out, &ev);
	s->msg_open[dir] = 0;
}

/* ------------------------------------------------------- pending commands */

static struct pending *
pending_find(struct imap *s, const uint8_t *tag, size_t tlen, size_t *at)
{
	tlen = tlen < IMAP_TAG_MAX ? tlen : IMAP_TAG_MAX;
	for (size_t i = 0; i < s->q.len; i++) {
		struct pending *pd = ring_at(&s->q, i);
		if (pd->tag_len == tlen && memcmp(pd->tag, tag, tlen) == 0) {
			*at = i;
			return pd;
		}
	}
	return NULL;
}

static struct pending *
pending_of_kind(struct imap *s, enum imap_kind kind)
{
	for (size_t i = 0; i < s->q.len; i++) {
		struct pending *pd = ring_at(&s->q, i);
		if (pd->kind == kind)
			return pd;
	}
	return NULL;
}

/* The command an untagged response most likely answers: the oldest one
 * of the kind that asks for it, else the oldest in flight. */
static struct pending *
untagged_owner(struct imap *s, enum imap_kind kind)
{
	struct pending *pd = kind != K_OTHER ? pending_of_kind(s, kind) : NULL;

	return pd ? pd : ring_at(&s->q, 0);
}

/*
 * Counts an untagged response against its command's budget (the
 * session's, when none).  Beyond it responses are still acted on but no
 * longer reported, so that an endless stream cannot fill the log.
 */
static int
response_budget(struct imap *s, struct pending *pd)
{
	uint32_t *n = pd ? &pd->nresp : &s->orphan_resp;

	if (*n < s->responses_max) {
		(*n)++;
		return 1;
	}
	if (*n == s->responses_max) {
		out_anomaly(&s->out, MD_S2C, MD_ANOM_TOO_MANY_RESPONSES,
		    (const uint8_t *)(pd ? pd->verb : ""),
		    pd ? pd->verb_len : 0);
		(*n)++;
	}
	return 0;
}

/* ------------------------------------------------------------ credentials */

static void
cred_emit(struct imap *s, enum md_status st, enum md_auth_outcome outcome)
{
	out_auth(&s->out, &s->cred, 0, st, outcome);
	s->c_sasl = 0;
}

static struct sasl *
cred_new(struct imap *s, uint32_t seq, const uint8_t *mech, size_t mlen)
{
	if (s->cred != NULL) /* an attempt that never got its verdict */
		cred_emit(s, MD_ST_NONE, MD_AUTH_UNKNOWN);
	s->cred = sasl_new(seq, mech, mlen);
	return s->cred;
}

/* 0 when a client line was a SASL response, -1 when it is a command. */
static int
sasl_line(struct imap *s, const uint8_t *p, size_t n, int initial)
{
	int r = out_sasl_line(&s->out, s->cred, p, n, initial);

	if (r <= 0)
		s->c_sasl = 0;
	return r < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- buffers */

/* Appends what fits under the cap; returns bytes stored. */
static size_t
gbuf_put(struct gbuf *b, const uint8_t *p, size_t n)
{
	size_t want;

	if (n > b->max - b->len)
		n = b->max - b->len;
	if (n == 0)
		return 0;
	if (b->len + n > b->cap) {
		uint8_t *np;

		want = b->cap ? b->cap : 256;
		while (want < b->len + n)
			want *= 2;
		if (want > b->max)
			want = b->max;
		if ((np = realloc(b->p, want)) == NULL)
			return 0;
		b->p = np;
		b->cap = want;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return n;
}

static void
side_reset(struct side *sd)
{
	sd->text.len = 0;
	sd->keep.len = 0;
	sd->over = 0;
	sd->nlits = 0;
}

/* ----------------------------------------------------------- FETCH items */

/* "* n FETCH" at the start of a server line. */
static int
is_fetch_response(const struct side *sd, uint64_t *msgno)
{
	struct imap_cur c;
	struct md_bytes star, num, kw;
	int		ok;

	side_cursor(&c, sd, 0);
	star = imap_cur_atom(&c);
	num = imap_cur_atom(&c);
	kw = imap_cur_atom(&c);
	if (!(star.len == 1 && star.p[0] == '*') ||
	    !md_ci_equal(kw.p, kw.len, "FETCH"))
		return 0;
	*msgno = imap_number(num, &ok);
	return ok;
}

/* ------------------------------------------------------------- literals */

/*
 * What a client literal is: in APPEND, every literal after the mailbox
 * name is a message (several with MULTIAPPEND, RFC 3502).
 */
static enum lit_role
client_literal_role(struct imap *s, size_t off)
{
	struct imap_cur c;
	struct md_bytes verb;

	side_cursor(&c, &s->side[MD_C2S], 0);
	(void)imap_cur_atom(&c); /* tag */
	verb = imap_cur_atom(&c);
	if (!md_ci_equal(verb.p, verb.len, "APPEND"))
		return LIT_KEEP;
	imap_cur_skip_sp(&c);
	if (c.i >= off) /* the literal is the mailbox name */
		return LIT_KEEP;
	return LIT_MESSAGE;
}

static enum lit_role
server_literal_role(struct imap *s, size_t off)
{
	struct side	   *sd = &s->side[MD_S2C];
	struct imap_section sec;
	uint64_t	    msgno;

	if (s->resp_nmsgs >= IMAP_RESP_MSGS || off > sd->text.len ||
	    !is_fetch_response(sd, &msgno) ||
	    !imap_fetch_item(sd->text.p, off, &sec))
		return LIT_KEEP;
	s->resp_msgs[s->resp_nmsgs].sec = sec;
	return LIT_MESSAGE;
}

/* APPEND mailbox [flags] [date] literal: what is known before the bytes. */
static void
append_meta(struct imap *s, uint32_t tx)
{
	struct md_event ev = { .type = MD_EV_MSG_META, .dir = MD_C2S };
	uint8_t		box[IMAP_MAILBOX_MAX];
	struct imap_cur c;
	long		blen;

	side_cursor(&c, &s->side[MD_C2S], 0);
	(void)imap_cur_atom(&c);
	(void)imap_cur_atom(&c);
	blen = imap_cur_astring(&c, box, sizeof(box));
	ev.tx = tx;
	ev.arg = md_bytes_of(box, blen > 0 ? (size_t)blen : 0);
	ev.extra = imap_cur_paren(&c);
	out_emit(&s->out, &ev);
}

static void
literal_msg_begin(struct imap *s, enum md_dir dir)
{
	struct pending	*owner;
	struct resp_msg *rm;

	if (dir == MD_C2S) {
		/* The APPEND command is numbered when its line completes. */
		msg_begin(s, MD_C2S, s->seq + 1, "APPEND");
		append_meta(s, s->msg_tx[MD_C2S]);
		return;
	}
	owner = untagged_owner(s, K_FETCH);
	msg_begin(s, MD_S2C, owner ? owner->seq : 0, "FETCH");
	rm = &s->resp_msgs[s->resp_nmsgs++];
	rm->tx = s->msg_tx[MD_S2C];
	if (rm->sec.partial) { /* said now, so that MIME parsing knows */
		struct md_event meta = { .type = MD_EV_MSG_META,
			.dir = MD_S2C };
		meta.tx = rm->tx;
		meta.code = 1;
		meta.aux = md_bytes_of(rm->sec.text, rm->sec.len);
		out_emit(&s->out, &meta);
	}
}

static void
literal_begin(struct imap *s, enum md_dir dir, size_t off, uint64_t n, int sync)
{
	struct side	*sd = &s->side[dir];
	struct imap_lit *l = NULL;

	if (n > IMAP_HUGE_LITERAL) {
		char d[32];
		int  dl =
		    snprintf(d, sizeof(d), "%llu bytes", (unsigned long long)n);
		out_anomaly(&s->out, dir, MD_ANOM_HUGE_LITERAL,
		    (const uint8_t *)d, (size_t)dl);
	}
	sd->lit_left = n;
	sd->lit_sync = sync;
	sd->lit_started = 0;
	sd->lit_role = dir == MD_C2S ? client_literal_role(s, off) :
				       server_literal_role(s, off);
	if (sd->nlits < IMAP_LITS_MAX) {
		l = &sd->lits[sd->nlits++];
		l->off = off;
		l->len = n;
		l->kept = 0;
		l->keep_off = sd->keep.len;
	}
	if (sd->lit_role == LIT_KEEP && (l == NULL || n > MD_LITERAL_KEEP))
		sd->lit_role = LIT_DROP;
	sd->lit_cur = sd->lit_role == LIT_KEEP ? l : NULL;
}

static void
literal_done(struct imap *s, enum md_dir dir)
{
	struct side *sd = &s->side[dir];

	if (sd->lit_role == LIT_MESSAGE) {
		if (!sd->lit_started)
			literal_msg_begin(s, dir);
		msg_end(s, dir, 1);
	}
	sd->lit_left = 0;
	sd->lit_role = LIT_DROP;
	sd->lit_cur = NULL;
}

static size_t
literal_take(struct imap *s, enum md_dir dir, const uint8_t *p, size_t len)
{
	struct side *sd = &s->side[dir];
	size_t	     n = len < sd->lit_left ? len : (size_t)sd->lit_left;

	if (!sd->lit_started) {
		sd->lit_started = 1;
		if (sd->lit_role == LIT_MESSAGE)
			literal_msg_begin(s, dir);
	}
	if (sd->lit_role == LIT_MESSAGE)
		msg_bytes(s, dir, p, n);
	else if (sd->lit_cur != NULL)
		sd->lit_cur->kept += gbuf_put(&sd->keep, p, n);
	sd->lit_left -= n;
	if (sd->lit_left == 0)
		literal_done(s, dir);
	return n;
}

/* ------------------------------------------------------------- commands */

static const struct {
	const char    *verb;
	enum imap_kind kind;
} verbs[] = {
	{ "LOGIN", K_LOGIN },
	{ "AUTHENTICATE", K_AUTHENTICATE },
	{ "STARTTLS", K_STARTTLS },
	{ "COMPRESS", K_COMPRESS },
	{ "SELECT", K_SELECT },
	{ "EXAMINE", K_SELECT },
	{ "CLOSE", K_CLOSE },
	{ "UNSELECT", K_CLOSE },
	{ "IDLE", K_IDLE },
	{ "LOGOUT", K_LOGOUT },
	{ "FETCH", K_FETCH },
	{ "UID FETCH", K_FETCH },
	{ "STORE", K_STORE },
	{ "UID STORE", K_STORE },
	{ "SEARCH", K_SEARCH },
	{ "UID SEARCH", K_SEARCH },
	{ "LIST", K_LIST },
	{ "LSUB", K_LIST },
	{ "STATUS", K_STATUS },
	{ "CAPABILITY", K_CAPABILITY },
	{ "ID", K_ID },
	{ "ENABLE", K_ENABLE },
	{ "EXPUNGE", K_EXPUNGE },
	{ "UID EXPUNGE", K_EXPUNGE },
};

static enum imap_kind
kind_of(const char *verb, size_t vlen)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (md_ci_equal((const uint8_t *)verb, vlen, verbs[i].verb))
			return verbs[i].kind;
	return K_OTHER;
}

/* LOGIN user password (RFC 9051 6.2.3): astrings, literals included. */
static void
cmd_login(struct imap *s, uint32_t seq, struct imap_cur *c)
{
	uint8_t	     buf[SASL_FIELD_MAX];
	struct sasl *a;
	long	     n;

	if ((a = cred_new(s, seq, (const uint8_t *)"LOGIN", 5)) == NULL)
		return;
	if ((n = imap_cur_astring(c, buf, sizeof(buf))) >= 0)
		sasl_set(&a->user, buf, (size_t)n);
	if ((n = imap_cur_astring(c, buf, sizeof(buf))) >= 0)
		sasl_set(&a->secret, buf, (size_t)n);
}

/* AUTHENTICATE mechanism [initial-response] (RFC 9051 6.2.2, RFC 4959). */
static void
cmd_authenticate(struct imap *s, uint32_t seq, struct imap_cur *c)
{
	struct md_bytes mech = imap_cur_atom(c), ir;

	if (cred_new(s, seq, mech.p, mech.len) == NULL)
		return;
	s->c_sasl = 1;
	ir = imap_cur_atom(c);
	if (ir.len > 0)
		(void)sasl_line(s, ir.p, ir.len, 1);
}

static void
cmd_select(struct imap *s, struct imap_cur *c)
{
	long n = imap_cur_astring(c, (uint8_t *)s->sel_mailbox,
	    sizeof(s->sel_mailbox));

	s->sel_mailbox_len = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < 4; i++)
		s->sel[i] = UINT64_MAX;
}

static void
command_effects(struct imap *s, enum imap_kind kind, uint32_t seq,
    struct imap_cur *c, struct md_bytes args)
{
	struct md_event ev = { .type = MD_EV_IDENT, .dir = MD_C2S };

	switch (kind) {
	case K_LOGIN:
		out_credentials_sent(&s->out);
		cmd_login(s, seq, c);
		break;
	case K_AUTHENTICATE:
		out_credentials_sent(&s->out);
		cmd_authenticate(s, seq, c);
		break;
	case K_SELECT:
		cmd_select(s, c);
		break;
	case K_IDLE:
		s->c_idle = 1;
		break;
	case K_STARTTLS:
		s->starttls_wait = 1;
		break;
	case K_LOGOUT:
		s->logout_seen = 1;
		break;
	case K_ID:
		ev.arg = args;
		out_emit(&s->out, &ev);
		break;
	default:
		break;
	}
}

/* Reads "tag [UID] verb", the verb upper-cased into verb[]. */
static size_t
read_verb(struct imap_cur *c, struct md_bytes *tag, char *verb)
{
	struct md_bytes v;
	size_t		vlen;

	*tag = imap_cur_atom(c);
	v = imap_cur_atom(c);
	vlen = v.len < IMAP_VERB_MAX ? v.len : IMAP_VERB_MAX;
	md_upper_copy(verb, v.p, vlen);
	if (md_ci_equal(v.p, v.len, "UID")) {
		struct md_bytes v2 = imap_cur_atom(c);
		size_t		room = IMAP_VERB_MAX - vlen - 1;

		verb[vlen++] = ' ';
		if (v2.len < room)
			room = v2.len;
		md_upper_copy(verb + vlen, v2.p, room);
		vlen += room;
	}
	return vlen;
}

static void
imap_command(struct imap *s)
{
	struct side    *sd = &s->side[MD_C2S];
	struct md_event ev = { .type = MD_EV_COMMAND, .dir = MD_C2S };
	struct pending *pd;
	struct md_bytes tag, args;
	char		verb[IMAP_VERB_MAX];
	struct imap_cur c;
	size_t		vlen;

	side_cursor(&c, sd, 0);
	vlen = read_verb(&c, &tag, verb);
	imap_cur_skip_sp(&c);
	args = md_bytes_of(c.p + c.i, c.n - c.i);
	if (!s->greeted && s->seq == 0)
		out_anomaly(&s->out, MD_C2S, MD_ANOM_CMD_BEFORE_GREETING, c.p,
		    c.n);
	if (s->logout_seen) {
		out_anomaly(&s->out, MD_C2S, MD_ANOM_DATA_AFTER_QUIT, c.p, c.n);
		s->logout_seen = 2; /* said once */
	}
	ev.seq = ++s->seq;
	ev.name = md_bytes_of(verb, vlen);
	ev.arg = args;
	ev.extra = tag;
	out_emit(&s->out, &ev);
	pd = out_queue_push(&s->out, &s->q);
	pd->seq = s->seq;
	pd->kind = (uint8_t)kind_of(verb, vlen);
	pd->tag_len =
	    (uint8_t)(tag.len < IMAP_TAG_MAX ? tag.len : IMAP_TAG_MAX);
	memcpy(pd->tag, tag.p, pd->tag_len);
	pd->verb_len = (uint8_t)vlen;
	memcpy(pd->verb, verb, vlen);
	command_effects(s, (enum imap_kind)pd->kind, pd->seq, &c, args);
}

/* A complete logical line from the client. */
static void
client_line(struct imap *s)
{
	struct side *sd = &s->side[MD_C2S];

	/* RFC 2177: IDLE ends with DONE; picked up mid-stream, a DONE may
	 * end an IDLE sent before the capture began. */
	if (s->c_idle || (s->out.flow->midstream && s->seq == 0)) {
		s->c_idle = 0;
		if (md_ci_equal(sd->text.p, sd->text.len, "DONE"))
			return;
	}
	if (s->c_sasl && s->cred != NULL &&
	    sasl_line(s, sd->text.p, sd->text.len, 0) == 0)
		return;
	if (sd->text.len == 0)
		return;
	imap_command(s);
}

/* ------------------------------------------------------------ responses */

/* "[CODE args]" at the cursor (RFC 9051 7.1): what we keep of it. */
static void
resp_code(struct imap *s, struct imap_cur *c)
{
	const uint8_t *p, *rb;
	size_t	       n, kl;
	uint64_t       v = 0;

	imap_cur_skip_sp(c);
	if (c->i >= c->n || c->p[c->i] != '[')
		return;
	p = c->p + c->i + 1;
	n = c->n - c->i - 1;
	if ((rb = memchr(p, ']', n)) == NULL)
		return;
	n = (size_t)(rb - p);
	for (kl = 0; kl < n && p[kl] != ' '; kl++)
		;
	if (md_ci_equal(p, kl, "CAPABILITY") && kl < n) {
		capabilities(s, p + kl + 1, n - kl - 1);
		return;
	}
	if (kl < n)
		(void)md_parse_u64(p + kl + 1, n - kl - 1, &v);
	if (md_ci_equal(p, kl, "UIDVALIDITY"))
		s->sel[1] = v;
	else if (md_ci_equal(p, kl, "UIDNEXT"))
		s->sel[2] = v;
}

/*
 * "* n FETCH (item value ...)": the UID and FLAGS of message n, given to
 * the message literals this response carried and, during STORE, recorded
 * as the flags the message now has.
 */
static void
fetch_response(struct imap *s, uint32_t owner, uint64_t msgno,
    struct imap_cur *c)
{
	struct md_event ev = { .type = MD_EV_MSG_META, .dir = MD_S2C };
	struct md_bytes flags = { NULL, 0 }, name;
	uint64_t	uid = 0, size = 0;
	int		size_known = 0;
	struct pending *store = pending_of_kind(s, K_STORE);
	int		ok;

	imap_cur_skip_sp(c);
	if (c->i < c->n && c->p[c->i] == '(')
		c->i++;
	while (c->i < c->n && c->p[c->i] != ')') {
		size_t before = c->i;

		name = imap_fetch_name(c);
		if (md_ci_equal(name.p, name.len, "UID"))
			uid = imap_number(imap_cur_atom(c), &ok);
		else if (md_ci_equal(name.p, name.len, "RFC822.SIZE"))
			size = imap_number(imap_cur_atom(c), &size_known);
		else if (md_ci_equal(name.p, name.len, "FLAGS"))
			flags = imap_cur_paren(c);
		else
			imap_skip_value(c);
		imap_cur_skip_sp(c);
		if (c->i == before)
			break;
	}
	for (size_t k = 0; k < s->resp_nmsgs; k++) {
		const struct resp_msg *rm = &s->resp_msgs[k];

		ev.tx = rm->tx;
		ev.arg = md_bytes_of(s->mailbox, s->mailbox_len);
		ev.extra = flags;
		ev.aux = md_bytes_of(rm->sec.text, rm->sec.len);
		ev.code = rm->sec.partial;
		ev.num[0] = msgno;
		ev.num[1] = uid;
		ev.num[2] = size;
		ev.num[3] = size_known ? 1 : 0;
		out_emit(&s->out, &ev);
	}
	s->resp_nmsgs = 0;
	if (store != NULL && store->seq == owner && flags.len > 0)
		emit_item(s, MD_ITEM_FLAGS, owner, msgno, md_bytes_of(NULL, 0),
		    flags);
}

static uint64_t
count_numbers(struct imap_cur *c)
{
	uint64_t	count = 0;
	struct md_bytes w;
	int		ok;

	while (c->i < c->n) {
		w = imap_cur_atom(c);
		if (w.len == 0) { /* a parenthesis */
			c->i++;
			continue;
		}
		(void)imap_number(w, &ok);
		count += ok;
	}
	return count;
}

static enum imap_kind
untagged_kind(struct imap *s, struct md_bytes kw)
{
	static const struct {
		const char    *kw;
		enum imap_kind kind;
	} owners[] = {
		{ "SEARCH", K_SEARCH },
		{ "ESEARCH", K_SEARCH },
		{ "LIST", K_LIST },
		{ "LSUB", K_LIST },
		{ "STATUS", K_STATUS },
		{ "CAPABILITY", K_CAPABILITY },
		{ "ID", K_ID },
		{ "ENABLED", K_ENABLE },
		{ "EXPUNGE", K_EXPUNGE },
		{ "VANISHED", K_EXPUNGE },
		{ "EXISTS", K_SELECT },
		{ "RECENT", K_SELECT },
		{ "FLAGS", K_SELECT },
	};

	if (md_ci_equal(kw.p, kw.len, "FETCH"))
		return pending_of_kind(s, K_FETCH) ? K_FETCH : K_STORE;
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
		if (md_ci_equal(kw.p, kw.len, owners[i].kw))
			return owners[i].kind;
	return K_OTHER;
}

static void
greeting(struct imap *s, struct md_bytes word, struct imap_cur *c)
{
	struct md_event ev = { .type = MD_EV_GREETING, .dir = MD_S2C };
	size_t		text_at = c->i;

	s->greeted = 1;
	ev.status = imap_status_of(word);
	ev.extra = word;
	imap_cur_skip_sp(c);
	ev.arg = md_bytes_of(c->p + c->i, c->n - c->i);
	out_emit(&s->out, &ev);
	c->i = text_at;
	resp_code(s, c);
	if (md_ci_equal(word.p, word.len, "PREAUTH"))
		enter_state(s, ST_AUTHENTICATED);
	else
		enter_state(s, ST_NOT_AUTHENTICATED);
}

/* Effects of an untagged response that mean something beyond its row. */
static void
untagged_effects(struct imap *s, struct md_bytes kw, int numbered, uint64_t num,
    uint32_t owner, struct imap_cur *c)
{
	struct md_event ev = { .type = MD_EV_IDENT, .dir = MD_S2C };
	int		selecting = pending_of_kind(s, K_SELECT) != NULL;

	imap_cur_skip_sp(c);
	if (imap_status_of(kw) != MD_ST_NONE)
		resp_code(s, c);
	else if (md_ci_equal(kw.p, kw.len, "CAPABILITY"))
		capabilities(s, c->p + c->i, c->n - c->i);
	else if (md_ci_equal(kw.p, kw.len, "ID")) {
		ev.arg = md_bytes_of(c->p + c->i, c->n - c->i);
		out_emit(&s->out, &ev);
	} else if (numbered && md_ci_equal(kw.p, kw.len, "FETCH"))
		fetch_response(s, owner, num, c);
	else if (numbered && md_ci_equal(kw.p, kw.len, "EXPUNGE"))
		emit_item(s, MD_ITEM_EXPUNGE, owner, num, md_bytes_of(NULL, 0),
		    md_bytes_of(NULL, 0));
	else if (md_ci_equal(kw.p, kw.len, "VANISHED"))
		emit_item(s, MD_ITEM_VANISHED, owner, 0,
		    md_bytes_of(c->p + c->i, c->n - c->i),
		    md_bytes_of(NULL, 0));
	else if (numbered && selecting && md_ci_equal(kw.p, kw.len, "EXISTS"))
		s->sel[0] = num;
	else if (numbered && selecting && md_ci_equal(kw.p, kw.len, "RECENT"))
		s->sel[3] = num;
}

static void
untagged(struct imap *s)
{
	struct md_event ev = { .type = MD_EV_RESPONSE, .dir = MD_S2C };
	struct side    *sd = &s->side[MD_S2C];
	struct md_bytes first, kw;
	struct pending *owner;
	struct imap_cur c, rest;
	uint64_t	num = 0;
	int		numbered;

	side_cursor(&c, sd, 1);
	first = imap_cur_atom(&c);
	num = imap_number(first, &numbered);
	kw = numbered ? imap_cur_atom(&c) : first;
	if (!s->greeted) {
		greeting(s, kw, &c);
		return;
	}
	owner = untagged_owner(s, untagged_kind(s, kw));
	ev.seq = owner ? owner->seq : 0;
	ev.name = kw;
	ev.arg = sd->text.len > 2 ?
	    md_bytes_of(sd->text.p + 2, sd->text.len - 2) :
	    md_bytes_of(NULL, 0);
	ev.code = numbered;
	ev.num[0] = num;
	rest = c;
	if (!numbered && (md_ci_equal(kw.p, kw.len, "SEARCH"))) {
		ev.code = 1;
		ev.num[0] = count_numbers(&rest);
	}
	if (response_budget(s, owner))
		out_emit(&s->out, &ev);
	untagged_effects(s, kw, numbered, num, ev.seq, &c);
}

/* A continuation request: a SASL challenge, or "go on" for a literal. */
static void
continuation(struct imap *s)
{
	struct md_event ev = { .type = MD_EV_RESPONSE, .dir = MD_S2C };
	struct side    *sd = &s->side[MD_S2C];
	const uint8_t  *t = sd->text.p + (sd->text.len > 1 ? 2 : 1);
	size_t		n = sd->text.len > 1 ? sd->text.len - 2 : 0;
	struct pending *last = ring_at(&s->q, s->q.len ? s->q.len - 1 : 0);

	if (s->cred != NULL && pending_of_kind(s, K_AUTHENTICATE) != NULL) {
		sasl_challenge(s->cred, t, n);
		s->c_sasl = 1;
		return;
	}
	ev.seq = last ? last->seq : 0;
	if (s->side[MD_C2S].lit_left > 0) /* go on with a literal */
		ev.seq = s->seq + 1;
	ev.name = md_bytes_str("+");
	ev.arg = md_bytes_of(t, n);
	out_emit(&s->out, &ev);
}

/* ---------------------------------------------------- tagged completions */

static void
start_tls(struct imap *s)
{
	out_tls_begin(&s->out, MD_TLS_STARTTLS, s->env, imap_plain, s);
	s->side[MD_C2S].tls = 1;
	s->side[MD_S2C].tls = 1;
	s->starttls_wait = 0;
}

/* RFC 4978: raw DEFLATE both ways from the end of the OK on. */
static void
z_begin(struct imap *s, enum md_dir dir)
{
	struct side *sd = &s->side[dir];

	if (sd->z != NULL)
		return;
	if ((sd->z = calloc(1, sizeof(*sd->z))) == NULL ||
	    inflateInit2(sd->z, -15) != Z_OK) {
		free(sd->z);
		sd->z = NULL;
		sd->z_failed = 1;
	}
}

static void
completion_effects(struct imap *s, const struct pending *pd, enum md_status st)
{
	struct md_event ev = { .dir = MD_S2C };
	int		ok = st == MD_ST_OK;

	ev.seq = pd->seq;
	ev.status = st;
	switch ((enum imap_kind)pd->kind) {
	case K_LOGIN:
	case K_AUTHENTICATE:
		cred_emit(s, st, ok ? MD_AUTH_OK : MD_AUTH_FAILED);
		if (ok)
			enter_state(s, ST_AUTHENTICATED);
		break;
	case K_STARTTLS:
		ev.type = MD_EV_STARTTLS;
		out_emit(&s->out, &ev);
		s->starttls_wait = 0;
		out_tls_answer(&s->out, ok);
		if (ok)
			start_tls(s);
		break;
	case K_COMPRESS:
		ev.type = MD_EV_COMPRESS;
		ev.name = md_bytes_str("DEFLATE");
		out_emit(&s->out, &ev);
		if (ok) {
			s->side[MD_S2C].z_start = 1;
			z_begin(s, MD_C2S);
		}
		break;
	case K_SELECT:
		ev.type = MD_EV_MAILBOX;
		ev.name = md_bytes_of(pd->verb, pd->verb_len);
		ev.arg = md_bytes_of(s->sel_mailbox, s->sel_mailbox_len);
		memcpy(ev.num, s->sel, sizeof(ev.num));
		out_emit(&s->out, &ev);
		s->mailbox_len = ok ? s->sel_mailbox_len : 0;
		memcpy(s->mailbox, s->sel_mailbox, s->mailbox_len);
		enter_state(s, ok ? ST_SELECTED : ST_AUTHENTICATED);
		break;
	case K_CLOSE:
		if (ok) {
			s->mailbox_len = 0;
			enter_state(s, ST_AUTHENTICATED);
		}
		break;
	case K_LOGOUT:
		enter_state(s, ST_LOGOUT);
		break;
	case K_IDLE:
		s->c_idle = 0;
		break;
	default:
		break;
	}
}

/*
 * The server refused a command whose synchronising literal the client
 * was about to send (RFC 9051 4.3): the client sends no literal, and its
 * line ends there.
 */
static void
literal_refused(struct imap *s, struct md_bytes tag)
{
	struct side    *sd = &s->side[MD_C2S];
	struct imap_cur c;
	struct md_bytes ctag;

	if (sd->lit_left == 0 || !sd->lit_sync || sd->lit_started)
		return;
	side_cursor(&c, sd, 0);
	ctag = imap_cur_atom(&c);
	if (ctag.len != tag.len || memcmp(ctag.p, tag.p, tag.len) != 0)
		return;
	sd->lit_left = 0;
	sd->lit_role = LIT_DROP;
	sd->lit_cur = NULL;
	client_line(s);
	side_reset(sd);
}

static void
tagged(struct imap *s)
{
	struct md_event ev = { .type = MD_EV_REPLY, .dir = MD_S2C };
	struct side    *sd = &s->side[MD_S2C];
	struct md_bytes tag, word;
	struct pending *pd, copy;
	struct imap_cur c;
	size_t		at = 0;

	side_cursor(&c, sd, 0);
	tag = imap_cur_atom(&c);
	word = imap_cur_atom(&c);
	literal_refused(s, tag);
	ev.status = imap_status_of(word);
	ev.extra = word;
	imap_cur_skip_sp(&c);
	ev.arg = md_bytes_of(c.p + c.i, c.n - c.i);
	resp_code(s, &c);
	if (ev.status == MD_ST_NONE)
		out_anomaly(&s->out, MD_S2C, MD_ANOM_BAD_REPLY, sd->text.p,
		    sd->text.len);
	if ((pd = pending_find(s, tag.p, tag.len, &at)) == NULL) {
		/* Mid-stream, commands sent before the capture complete. */
		if (!s->out.flow->midstream)
			out_anomaly(&s->out, MD_S2C, MD_ANOM_BAD_TAG,
			    sd->text.p, sd->text.len);
		out_emit(&s->out, &ev);
		return;
	}
	copy = *pd;
	ring_remove(&s->q, at);
	ev.seq = copy.seq;
	ev.name = md_bytes_of(copy.verb, copy.verb_len);
	out_emit(&s->out, &ev);
	completion_effects(s, &copy, ev.status);
}

/* A complete logical line from the server. */
static void
server_line(struct imap *s)
{
	struct side   *sd = &s->side[MD_S2C];
	const uint8_t *t = sd->text.p;
	size_t	       n = sd->text.len;

	if (n == 0)
		return;
	if (t[0] == '*' && (n == 1 || t[1] == ' '))
		untagged(s);
	else if (!s->greeted) { /* picked up after the greeting */
		s->greeted = 1;
		if (t[0] == '+')
			continuation(s);
		else
			tagged(s);
	} else if (t[0] == '+' && (n == 1 || t[1] == ' '))
		continuation(s);
	else
		tagged(s);
	s->resp_nmsgs = 0;
}

/* ------------------------------------------------------------------ feed */

/* One line piece; a literal announced at its end continues the line. */
static void
side_piece(struct imap *s, enum md_dir dir, const struct line *ln)
{
	struct side *sd = &s->side[dir];
	size_t	     base = sd->text.len, start = 0;
	uint64_t     n = 0;
	int	     sync = 1, r = 0;

	out_line_anomalies(&s->out, dir, ln);
	if (gbuf_put(&sd->text, ln->text.p, ln->text.len) < ln->text.len &&
	    !sd->over) {
		sd->over = 1;
		out_anomaly(&s->out, dir, MD_ANOM_LINE_TOO_LONG, sd->text.p,
		    sd->text.len);
	}
	if (!(ln->flags & (LINE_F_TRUNCATED | LINE_F_NO_EOL)))
		r = imap_literal_announced(ln->text.p, ln->text.len, &n, &sync,
		    &start);
	if (r < 0)
		out_anomaly(&s->out, dir, MD_ANOM_BAD_LITERAL, ln->text.p,
		    ln->text.len);
	if (r > 0) {
		literal_begin(s, dir, base + start, n, sync);
		if (n == 0)
			literal_done(s, dir);
		return;
	}
	if (dir == MD_C2S)
		client_line(s);
	else
		server_line(s);
	side_reset(sd);
}

static void
side_inflate(struct imap *s, enum md_dir dir, const uint8_t *p, size_t len)
{
	struct side *sd = &s->side[dir];
	uint8_t	     buf[16384];
	size_t	     got;
	int	     r;

	sd->z->next_in = p;
	sd->z->avail_in = (uInt)len;
	do {
		sd->z->next_out = buf;
		sd->z->avail_out = sizeof(buf);
		r = inflate(sd->z, Z_SYNC_FLUSH);
		got = sizeof(buf) - sd->z->avail_out;
		if (got > 0)
			side_plain(s, dir, buf, got);
		if (r != Z_OK && r != Z_BUF_ERROR) {
			if (r != Z_STREAM_END)
				out_anomaly(&s->out, dir, MD_ANOM_INFLATE, NULL,
				    0);
			sd->z_failed = 1;
			return;
		}
	} while (sd->z->avail_in > 0 || sd->z->avail_out == 0);
}

static void
side_plain(struct imap *s, enum md_dir dir, const uint8_t *p, size_t len)
{
	struct side *sd = &s->side[dir];
	struct line  ln;
	size_t	     n;

	while (len > 0) {
		if (sd->tls) {
			out_tls(&s->out, dir, p, len);
			return;
		}
		if (sd->z_start) {
			sd->z_start = 0;
			z_begin(s, dir);
			if (sd->z != NULL)
				side_inflate(s, dir, p, len);
			return;
		}
		if (sd->lit_left > 0) {
			n = literal_take(s, dir, p, len);
		} else if (dir == MD_C2S && s->starttls_wait &&
		    !line_pending(&sd->line) && sd->text.len == 0 &&
		    md_looks_like_tls(p, len)) {
			/* the OK to STARTTLS was not captured */
			start_tls(s);
			continue;
		} else {
			n = line_take(&sd->line, p, len, &ln);
			if (ln.text.p != NULL)
				side_piece(s, dir, &ln);
		}
		p += n;
		len -= n;
	}
}

/* A side's bytes in clear: inflated first after COMPRESS. */
static void
side_bytes(struct imap *s, struct side *sd, enum md_dir dir, const uint8_t *p,
    size_t len)
{
	if (sd->z_failed)
		; /* compressed and undecodable: only counted */
	else if (sd->z != NULL && !sd->tls)
		side_inflate(s, dir, p, len);
	else
		side_plain(s, dir, p, len);
}

/* Bytes a key log let the TLS view decrypt: the session goes on as in
 * clear (after STARTTLS: RFC 9051 6.2.1). */
static void
imap_plain(void *arg, enum md_dir dir, const uint8_t *p, size_t n)
{
	struct imap *s = arg;
	struct side *sd = &s->side[dir];

	sd->tls = 0;
	side_bytes(s, sd, dir, p, n);
}

static int
imap_feed(void *st, enum md_dir dir, const uint8_t *p, size_t len,
    uint64_t ts_us)
{
	struct imap *s = st;
	struct side *sd = &s->side[dir];

	if (out_feed(&s->out, dir, p, len, ts_us))
		return 0;
	side_bytes(s, sd, dir, p, len);
	return 0;
}

static void
imap_gap(void *st, enum md_dir dir, size_t missing, uint64_t ts_us)
{
	struct imap *s = st;
	struct side *sd = &s->side[dir];

	out_gap(&s->out, dir, missing, ts_us);
	if (sd->z == NULL && sd->lit_left > 0 && missing <= sd->lit_left) {
		/* The literal's length still frames the stream. */
		if (sd->lit_role == LIT_MESSAGE) {
			if (!sd->lit_started) {
				sd->lit_started = 1;
				literal_msg_begin(s, dir);
			}
			s->msg_gap[dir] = 1;
			s->msg_size[dir] += missing;
		}
		sd->lit_left -= missing;
		if (sd->lit_left == 0)
			literal_done(s, dir);
	}
}

static void *
imap_open(const struct md_sink *sink, const struct md_env *env,
    const struct md_flow *flow, enum md_tls tls, uint64_t ts_us)
{
	const struct md_limits *lim = &env->lim;
	struct imap	       *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (ring_init(&s->q, sizeof(struct pending), lim->pending_max) != 0) {
		free(s);
		return NULL;
	}
	s->responses_max = lim->responses_max;
	out_open(&s->out, sink, flow, tls, ts_us, "imap");
	s->env = env;
	if (tls != MD_TLS_NONE) /* an implicit-TLS port */
		out_tls_begin(&s->out, tls, env, imap_plain, s);
	s->greeted = flow->midstream; /* no greeting will come */
	for (int d = 0; d < 2; d++) {
		line_init(&s->side[d].line, lim->line_max);
		s->side[d].text.max = lim->line_max;
		s->side[d].keep.max = IMAP_KEEP_MAX;
	}
	for (size_t i = 0; i < 4; i++)
		s->sel[i] = UINT64_MAX;
	return s;
}

/* What is still held at the end is delivered: it is what was sent. */
static void
imap_flush(struct imap *s)
{
	struct line ln;

	for (int d = 0; d < 2; d++) {
		struct side *sd = &s->side[d];

		if (sd->tls || sd->z_failed)
			continue;
		if (sd->lit_left == 0 && line_flush(&sd->line, &ln))
			side_piece(s, (enum md_dir)d, &ln);
		else if (sd->text.len > 0) {
			if (d == MD_C2S)
				client_line(s);
			else
				server_line(s);
			side_reset(sd);
		}
		msg_end(s, (enum md_dir)d, 0);
	}
}

static void
imap_close(void *st, enum md_end why, uint64_t ts_us)
{
	struct imap *s = st;

	s->out.ts = ts_us;
	if (s->out.tls != MD_TLS_IMPLICIT)
		imap_flush(s);
	cred_emit(s, MD_ST_NONE, MD_AUTH_UNKNOWN);
	out_session_end(&s->out,
	    s->logout_seen && why != MD_END_RESET ? MD_END_QUIT : why);
	for (int d = 0; d < 2; d++) {
		line_free(&s->side[d].line);
		free(s->side[d].text.p);
		free(s->side[d].keep.p);
		if (s->side[d].z != NULL) {
			inflateEnd(s->side[d].z);
			free(s->side[d].z);
		}
	}
	ring_free(&s->q);
	free(s);
}

const struct md_proto md_proto_imap = {
	.name = "imap",
	.id = MD_PROTO_IMAP,
	.open = imap_open,
	.feed = imap_feed,
	.gap = imap_gap,
	.close = imap_close,
};
