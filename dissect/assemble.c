/* \summary: whole IMAP messages rebuilt from the pieces clients fetch */
/*
 * Clients often fetch a message in pieces, and an analyst wants the
 * message.  Thunderbird fetches in chunks (BODY.PEEK[]<0.65536>, then
 * <65536.65536>, ... until one comes back short, with RFC822.SIZE beside
 * the first); fetchmail fetches RFC822.HEADER then BODY.PEEK[TEXT];
 * others BODY[HEADER] and BODY[TEXT] (RFC 9051 6.4.5).
 *
 * This stage sits between the dissectors and the MIME tap.  It passes
 * every event on, keeps the bytes of such pieces, and when the pieces of
 * one message cover it without a hole it sends one whole message after
 * them: method FETCH, its MSG_BEGIN's extra saying which pieces, parsed
 * and logged as if it had come in one literal.  Pieces join by server,
 * user, mailbox, UIDVALIDITY and UID (so across sessions too), or by
 * sequence number within one selection of one session.  Pieces that a
 * session leaves with holes are sent at its end as an incomplete
 * message, the bytes missing counted (when RFC822.SIZE told the size).
 *
 * Memory is bounded: ASM_BUDGET bytes of pieces in all, ASM_MSG_MAX for
 * one message, ASM_MSGS_MAX messages with pieces at once; past any,
 * pieces are not kept (an anomaly says so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/common.h"
#include "dissect/dissect.h"
#include "dissect/util.h"
#include "dissect/mime.h"

#define ASM_BUDGET   (64u << 20) /* bytes of pieces held in all */
#define ASM_MSG_MAX  (32u << 20) /* bytes of one message */
#define ASM_PENDING  8		 /* pieces of one response in flight */
#define ASM_TX_BASE  0x40000000u /* tx of the messages made here */
#define ASM_CHUNK    65536	 /* bytes per MSG_DATA sent */
#define ASM_DESC_MAX 160
#define ASM_NAME_MAX 128
#define ASM_BUCKETS  4096 /* IMAP sessions by flow id: every event looks */
#define ASM_MSGS_MAX 4096 /* messages with pieces held at once */

/* A_PENDING: a literal whose META has not said yet what it carries */
enum asm_kind { A_NONE, A_PENDING, A_RANGE, A_HEADER, A_TEXT };

struct piece {
	struct piece *next; /* by offset */
	uint64_t      off;
	size_t	      len;
	uint8_t	      data[];
};

/* The pieces of one message, under its key. */
struct asmsg {
	struct asmsg *next;
	/* key */
	int	 family;
	uint8_t	 srv[16];
	uint16_t port;
	char	 user[ASM_NAME_MAX], mailbox[ASM_NAME_MAX];
	uint64_t uidvalidity, uid;
	uint64_t flow_id, sel_gen, msgno; /* when no UID */
	/* what is held */
	struct piece *range;	     /* byte ranges of the whole message */
	struct piece *header, *text; /* or its header and its text */
	uint64_t      size;	     /* RFC822.SIZE, when told */
	int	      size_known, npieces;
	size_t	      held, chunk; /* bytes held; largest range piece */
	uint64_t      last_flow;   /* the session that gave the last one */
};

/* A literal of the server being read that may be a piece. */
struct inflight {
	uint32_t      tx;
	enum asm_kind kind;
	uint64_t      off;
	int	      ended, complete, dropped;
	uint8_t	     *buf;
	size_t	      len, cap;
};

/* What the assembler knows of one IMAP session. */
struct asflow {
	struct asflow  *next;
	uint64_t	id;
	char		user[ASM_NAME_MAX];
	uint64_t	uidvalidity, sel_gen;
	struct inflight fl[ASM_PENDING];
	int		budget_said;
};

struct assembler {
	struct md_sink next;
	struct asflow *flows[ASM_BUCKETS];
	struct asmsg  *msgs;
	size_t	       held;  /* ASM_BUDGET */
	size_t	       nmsgs; /* ASM_MSGS_MAX */
	uint32_t       ntx;
};

/* --------------------------------------------------------------- helpers */

static void
copy_name(char out[ASM_NAME_MAX], struct md_bytes b)
{
	size_t n = b.len < ASM_NAME_MAX - 1 ? b.len : ASM_NAME_MAX - 1;

	if (n > 0)
		memcpy(out, b.p, n);
	out[n] = '\0';
}

/*
 * What a piece's section says: "<origin>" alone is a range of the whole
 * message (BODY[]<n>), HEADER and TEXT the two halves; anything else
 * (a MIME part, a partial header) is not assembled.
 */
static enum asm_kind
section_kind(struct md_bytes sec, uint64_t *off)
{
	*off = 0;
	if (sec.len >= 3 && sec.p[0] == '<' && sec.p[sec.len - 1] == '>') {
		size_t n = md_parse_u64(sec.p + 1, sec.len - 2, off);
		return n > 0 && (n == sec.len - 2 || sec.p[1 + n] == '.') ?
		    A_RANGE :
		    A_NONE;
	}
	if (md_ci_equal(sec.p, sec.len, "HEADER"))
		return A_HEADER;
	if (md_ci_equal(sec.p, sec.len, "TEXT"))
		return A_TEXT;
	return A_NONE;
}

static struct asflow *
flow_of(struct assembler *a, uint64_t id)
{
	for (struct asflow *f = a->flows[id % ASM_BUCKETS]; f != NULL;
	     f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}

static struct inflight *
inflight_of(struct asflow *f, uint32_t tx)
{
	for (int i = 0; i < ASM_PENDING; i++)
		if (f->fl[i].tx == tx && f->fl[i].kind != A_NONE)
			return &f->fl[i];
	return NULL;
}

static void
inflight_clear(struct inflight *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

static void
pieces_free(struct assembler *a, struct piece *p)
{
	while (p != NULL) {
		struct piece *n = p->next;

		a->held -= p->len;
		free(p);
		p = n;
	}
}

static void
asmsg_unlink(struct assembler *a, struct asmsg *m)
{
	struct asmsg **pp;

	for (pp = &a->msgs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			a->nmsgs--;
			break;
		}
	pieces_free(a, m->range);
	pieces_free(a, m->header);
	pieces_free(a, m->text);
	free(m);
}

static void
emit(struct assembler *a, struct md_event *ev)
{
	a->next.emit(a->next.arg, ev);
}

static void
anomaly(struct assembler *a, const struct md_event *at, const char *code)
{
	struct md_event ev = { .type = MD_EV_ANOMALY, .dir = MD_S2C };

	ev.flow = at->flow;
	ev.ts_us = at->ts_us;
	ev.name = md_bytes_str(code);
	emit(a, &ev);
}

/* ------------------------------------------------------------ messages */

static int
same_key(const struct asmsg *m, const struct asmsg *k)
{
	if (k->uid != 0)
		return m->uid == k->uid && m->uidvalidity == k->uidvalidity &&
		    m->family == k->family && m->port == k->port &&
		    memcmp(m->srv, k->srv, 16) == 0 &&
		    strcmp(m->user, k->user) == 0 &&
		    strcmp(m->mailbox, k->mailbox) == 0;
	return m->uid == 0 && m->flow_id == k->flow_id &&
	    m->sel_gen == k->sel_gen && m->msgno == k->msgno;
}

static struct asmsg *
asmsg_find(struct assembler *a, const struct asmsg *key)
{
	struct asmsg *m;

	for (m = a->msgs; m != NULL; m = m->next)
		if (same_key(m, key))
			return m;
	if (a->nmsgs >= ASM_MSGS_MAX || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	memcpy(m, key, sizeof(*m));
	m->next = a->msgs;
	a->msgs = m;
	a->nmsgs++;
	return m;
}

/* Puts a range piece in offset order; one at the same offset is replaced
 * (a client that fetched it again). */
static void
range_insert(struct assembler *a, struct asmsg *m, struct piece *p)
{
	struct piece **pp = &m->range;

	while (*pp != NULL && (*pp)->off < p->off)
		pp = &(*pp)->next;
	if (*pp != NULL && (*pp)->off == p->off) {
		struct piece *old = *pp;

		p->next = old->next;
		a->held -= old->len;
		m->held -= old->len;
		m->npieces--;
		free(old);
	} else {
		p->next = *pp;
	}
	*pp = p;
}

/*
 * Bytes the ranges cover from 0 without a hole.  Without RFC822.SIZE the
 * message is known whole when its last piece came back shorter than the
 * chunks before it (the client asked for a full chunk).
 */
static uint64_t
range_covered(const struct asmsg *m, int *whole)
{
	uint64_t	    end = 0;
	const struct piece *p, *last = NULL;

	for (p = m->range; p != NULL && p->off <= end; p = p->next) {
		if (p->off + p->len > end)
			end = p->off + p->len;
		last = p;
	}
	if (m->size_known)
		*whole = end >= m->size && m->size > 0;
	else
		*whole = p == NULL && last != NULL && m->npieces >= 2 &&
		    last->len < m->chunk;
	return end;
}

static int
is_whole(const struct asmsg *m)
{
	int whole = 0;

	if (m->range != NULL)
		(void)range_covered(m, &whole);
	else if (m->header != NULL && m->text != NULL)
		whole =
		    !m->size_known || m->header->len + m->text->len == m->size;
	return whole;
}

/* "<0>+<65536>+..." or "HEADER+TEXT": which pieces made it. */
static size_t
describe(const struct asmsg *m, char out[ASM_DESC_MAX])
{
	size_t n = 0;
	int    k = 0;

	if (m->range == NULL)
		return (size_t)snprintf(out, ASM_DESC_MAX, "%s%s%s",
		    m->header ? "HEADER" : "", m->header && m->text ? "+" : "",
		    m->text ? "TEXT" : "");
	for (const struct piece *p = m->range; p != NULL; p = p->next, k++) {
		int w;

		if (n + 40 >= ASM_DESC_MAX) {
			w = snprintf(out + n, ASM_DESC_MAX - n,
			    "+... (%d pieces)", m->npieces);
			return n + (w > 0 ? (size_t)w : 0);
		}
		w = snprintf(out + n, ASM_DESC_MAX - n, "%s<%llu.%zu>",
		    k ? "+" : "", (unsigned long long)p->off, p->len);
		n += w > 0 ? (size_t)w : 0;
	}
	return n;
}

/* Sends n bytes of the rebuilt message on, in chunks. */
static void
send_bytes(struct assembler *a, struct md_event *ev, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k = n < ASM_CHUNK ? n : ASM_CHUNK;

		ev->arg = md_bytes_of(p, k);
		emit(a, ev);
		p += k;
		n -= k;
	}
}

/*
 * Sends the message the pieces make, whole or (complete = 0) with its
 * holes left out and counted, in the session of the event at.
 */
static void
send_message(struct assembler *a, const struct asmsg *m,
    const struct md_event *at, int complete)
{
	struct md_event ev = { .dir = MD_S2C };
	char		desc[ASM_DESC_MAX];
	uint64_t	sent = 0, missing = 0;
	int		whole;

	ev.flow = at->flow;
	ev.ts_us = at->ts_us;
	ev.tx = ASM_TX_BASE + ++a->ntx;
	ev.type = MD_EV_MSG_BEGIN;
	ev.name = md_bytes_str("FETCH");
	ev.extra = md_bytes_of(desc, describe(m, desc));
	emit(a, &ev);
	ev.extra = md_bytes_of(NULL, 0);
	ev.name = md_bytes_of(NULL, 0);
	ev.type = MD_EV_MSG_META;
	ev.arg = md_bytes_str(m->mailbox);
	ev.num[0] = m->msgno;
	ev.num[1] = m->uid;
	emit(a, &ev);
	memset(ev.num, 0, sizeof(ev.num));
	ev.type = MD_EV_MSG_DATA;
	if (m->range != NULL) {
		uint64_t end = range_covered(m, &whole);

		for (const struct piece *p = m->range; p != NULL; p = p->next) {
			uint64_t skip, stop;

			if (m->size_known && p->off >= m->size)
				break; /* past the end RFC822.SIZE gave */
			skip = p->off < sent ? sent - p->off : 0;
			stop = m->size_known && p->off + p->len > m->size ?
			    m->size - p->off :
			    p->len;

			if (p->off > sent)
				missing += p->off - sent;
			if (skip >= stop)
				continue;
			send_bytes(a, &ev, p->data + skip,
			    (size_t)(stop - skip));
			sent = p->off + stop;
		}
		if (m->size_known && m->size > sent)
			missing += m->size - sent;
		else if (!m->size_known && end > sent)
			missing += end - sent;
	} else {
		if (m->header != NULL)
			send_bytes(a, &ev, m->header->data, m->header->len);
		if (m->text != NULL)
			send_bytes(a, &ev, m->text->data, m->text->len);
		sent = (m->header ? m->header->len : 0) +
		    (m->text ? m->text->len : 0);
		if (m->size_known && m->size > sent)
			missing = m->size - sent;
	}
	/* the bytes never fetched are counted as missing from it, not as
	 * lost by the capture (which lost nothing) */
	ev.arg = md_bytes_of(NULL, 0);
	ev.type = MD_EV_MSG_END;
	ev.code = complete;
	ev.num[0] = sent;
	ev.num[1] = complete ? 0 : missing;
	emit(a, &ev);
}

/*
 * A piece has ended and its final MSG_META named the message: it joins
 * the others, and the message goes out when they make it whole.
 */
static void
add_piece(struct assembler *a, struct asflow *f, struct inflight *in,
    const struct md_event *meta)
{
	struct asmsg  key, *m;
	struct piece *p;

	memset(&key, 0, sizeof(key));
	key.family = meta->flow->family;
	memcpy(key.srv, meta->flow->srv_addr, 16);
	key.port = meta->flow->srv_port;
	memcpy(key.user, f->user, sizeof(key.user));
	copy_name(key.mailbox, meta->arg);
	key.uidvalidity = f->uidvalidity;
	key.uid = meta->num[1];
	key.msgno = meta->num[0];
	key.flow_id = f->id;
	key.sel_gen = f->sel_gen;
	if ((m = asmsg_find(a, &key)) == NULL ||
	    m->held + in->len > ASM_MSG_MAX ||
	    (p = malloc(sizeof(*p) + in->len)) == NULL) {
		if (!f->budget_said)
			anomaly(a, meta, MD_ANOM_ASSEMBLY_BUDGET);
		f->budget_said = 1;
		return;
	}
	p->next = NULL;
	p->off = in->off;
	p->len = in->len;
	if (in->len > 0)
		memcpy(p->data, in->buf, in->len);
	a->held += in->len;
	m->held += in->len;
	m->npieces++;
	m->last_flow = f->id;
	if (meta->num[3] & 1) {
		m->size = meta->num[2];
		m->size_known = 1;
	}
	if (in->kind == A_RANGE) {
		range_insert(a, m, p);
		if (p->len > m->chunk)
			m->chunk = p->len;
	} else {
		struct piece **slot =
		    in->kind == A_HEADER ? &m->header : &m->text;

		if (*slot != NULL) {
			a->held -= (*slot)->len;
			m->held -= (*slot)->len;
			m->npieces--;
			free(*slot);
		}
		*slot = p;
	}
	if (is_whole(m)) {
		send_message(a, m, meta, 1);
		asmsg_unlink(a, m);
	}
}

/* ---------------------------------------------------------------- events */

static void
on_msg_begin(struct asflow *f, const struct md_event *ev)
{
	for (int i = 0; i < ASM_PENDING; i++)
		if (f->fl[i].kind == A_NONE) {
			inflight_clear(&f->fl[i]);
			f->fl[i].tx = ev->tx;
			f->fl[i].kind = A_PENDING;
			return;
		}
}

static void
on_meta(struct assembler *a, struct asflow *f, const struct md_event *ev)
{
	struct inflight *in = inflight_of(f, ev->tx);

	if (in == NULL)
		return;
	if (!in->ended) {
		/* said before the bytes: a piece, and which */
		uint64_t      off;
		enum asm_kind k =
		    ev->code ? section_kind(ev->aux, &off) : A_NONE;

		if (k == A_NONE) {
			inflight_clear(in);
			return;
		}
		in->kind = k;
		in->off = off;
		return;
	}
	/* the final META, after the literal: which message it was */
	if (in->kind != A_PENDING && !in->dropped && in->complete)
		add_piece(a, f, in, ev);
	inflight_clear(in);
}

static void
on_data(struct assembler *a, struct asflow *f, const struct md_event *ev)
{
	struct inflight *in = inflight_of(f, ev->tx);

	if (in == NULL || in->kind == A_PENDING || in->dropped)
		return;
	if (in->len + ev->arg.len > ASM_MSG_MAX ||
	    a->held + in->len + ev->arg.len > ASM_BUDGET) {
		if (!f->budget_said)
			anomaly(a, ev, MD_ANOM_ASSEMBLY_BUDGET);
		f->budget_said = 1;
		in->dropped = 1;
		return;
	}
	if (in->len + ev->arg.len > in->cap) {
		size_t	 cap = in->cap ? in->cap : 4096;
		uint8_t *nb;

		while (cap < in->len + ev->arg.len)
			cap *= 2;
		if ((nb = realloc(in->buf, cap)) == NULL) {
			in->dropped = 1;
			return;
		}
		in->buf = nb;
		in->cap = cap;
	}
	memcpy(in->buf + in->len, ev->arg.p, ev->arg.len);
	in->len += ev->arg.len;
}

/* A session ends: what it left with holes goes out as incomplete, and
 * what only it could complete (no UID) is let go. */
static void
on_session_end(struct assembler *a, struct asflow *f, const struct md_event *ev)
{
	struct asmsg *m, *next;

	for (m = a->msgs; m != NULL; m = next) {
		next = m->next;
		if (m->last_flow != f->id)
			continue;
		if (m->npieces >= 2 || (m->size_known && m->npieces >= 1))
			send_message(a, m, ev, 0);
		if (m->uid == 0)
			asmsg_unlink(a, m);
		else
			m->last_flow = 0; /* kept for another session */
	}
	for (int i = 0; i < ASM_PENDING; i++)
		inflight_clear(&f->fl[i]);
}

static void
flow_drop(struct assembler *a, struct asflow *f)
{
	struct asflow **pp;

	for (pp = &a->flows[f->id % ASM_BUCKETS]; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	free(f);
}

static int
asm_emit(void *arg, const struct md_event *ev)
{
	struct assembler *a = arg;
	struct asflow	 *f = ev->flow ? flow_of(a, ev->flow->id) : NULL;
	int		  r;

	if (ev->type == MD_EV_SESSION_BEGIN && f == NULL &&
	    ev->flow->proto == MD_PROTO_IMAP &&
	    (f = calloc(1, sizeof(*f))) != NULL) {
		f->id = ev->flow->id;
		f->next = a->flows[f->id % ASM_BUCKETS];
		a->flows[f->id % ASM_BUCKETS] = f;
	}
	if (f != NULL && ev->type == MD_EV_SESSION_END) {
		on_session_end(a, f, ev);
		flow_drop(a, f);
		return a->next.emit(a->next.arg, ev);
	}
	r = a->next.emit(a->next.arg, ev);
	if (f == NULL)
		return r;
	switch (ev->type) {
	case MD_EV_AUTH:
		if (ev->num[0] == MD_AUTH_OK)
			copy_name(f->user, ev->arg);
		break;
	case MD_EV_MAILBOX:
		if (ev->status == MD_ST_OK) {
			f->uidvalidity =
			    ev->num[1] == UINT64_MAX ? 0 : ev->num[1];
			f->sel_gen++;
		}
		break;
	case MD_EV_MSG_BEGIN:
		if (ev->dir == MD_S2C)
			on_msg_begin(f, ev);
		break;
	case MD_EV_MSG_META:
		on_meta(a, f, ev);
		break;
	case MD_EV_MSG_DATA:
		on_data(a, f, ev);
		break;
	case MD_EV_MSG_END: {
		struct inflight *in = inflight_of(f, ev->tx);

		if (in != NULL) {
			in->ended = 1;
			in->complete = ev->code;
			if (in->kind == A_PENDING || in->dropped)
				inflight_clear(in);
		}
		break;
	}
	default:
		break;
	}
	return r;
}

struct assembler *
assembler_new(const struct md_sink *next)
{
	struct assembler *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->next = *next;
	return a;
}

void
assembler_sink(struct assembler *a, struct md_sink *out)
{
	out->emit = asm_emit;
	out->arg = a;
}

void
assembler_free(struct assembler *a)
{
	if (a == NULL)
		return;
	while (a->msgs != NULL)
		asmsg_unlink(a, a->msgs);
	for (size_t b = 0; b < ASM_BUCKETS; b++)
		while (a->flows[b] != NULL) {
			struct asflow *f = a->flows[b];

			for (int i = 0; i < ASM_PENDING; i++)
				inflight_clear(&f->fl[i]);
			a->flows[b] = f->next;
			free(f);
		}
	free(a);
}
