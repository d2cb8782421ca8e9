/* \summary: SQLite store: one event, its rows */
/*
 * The event switch: each event of the contract (dissect.h) becomes the
 * rows and columns it stands for.  Message bytes and MIME parts go to
 * sqlite_msgs.c.  Events carry the session (flow id) and the command or
 * transaction number, so no state is kept here beyond the open messages.
 */
#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_priv.h"
#include "dissect/util.h"

void
db_addr_str(const struct md_flow *f, const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(f->family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static void
on_session_begin(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_SESSION];
	char	      cli[INET6_ADDRSTRLEN], srv[INET6_ADDRSTRLEN];
	double	      start =
	    ts_sec(ev->flow->first_ts != 0 && ev->flow->first_ts < ev->ts_us ?
		    ev->flow->first_ts :
		    ev->ts_us);
	int ok;

	db_addr_str(ev->flow, ev->flow->cli_addr, cli, sizeof(cli));
	db_addr_str(ev->flow, ev->flow->srv_addr, srv, sizeof(srv));
	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, s->run_id);
	db_bind_bytes(st, 3, ev->name);
	if (s->capture_file != NULL)
		sqlite3_bind_text(st, 4, s->capture_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, cli, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, ev->flow->cli_port);
	sqlite3_bind_text(st, 7, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, ev->flow->srv_port);
	/* the connection's first packet (the SYN), not the first bytes */
	sqlite3_bind_double(st, 9, start);
	sqlite3_bind_text(st, 10, md_tls_str(ev->tls), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, ev->num[0] != 0);
	db_bind_frame(st, 12, ev->flow->first_frame);
	db_bind_offset(st, 13, ev->flow->first_frame, ev->flow->first_offset);
	ok = db_run(s, ST_SESSION) == 0;
	lost_session_begun(s, ev->flow->id, ok);
	if (ok) {
		hosts_session_begun(s, cli, srv, start, ev->tls != MD_TLS_NONE);
		stats_session_begun(s, ev->name, ev->tls != MD_TLS_NONE,
		    ev->num[0] != 0, srv, ev->flow->srv_port, start);
		findings_session_begun(s, session_id(s, ev));
	}
	s->stats.sessions++;
	s->stats.by_proto[ev->flow->proto]++;
}

/* For store_take_ended: bounded, as a reader that stops taking must
 * not grow it for weeks (the oldest are dropped, counted as errors). */
static void
note_ended(struct sqlite_store *s, int64_t id)
{
	if (s->nended == s->ended_cap) {
		size_t cap = s->ended_cap ? 2 * s->ended_cap : 256;
		struct ended_session *e;

		if (cap > (1u << 20) ||
		    (e = realloc(s->ended, cap * sizeof(*e))) == NULL) {
			s->stats.errors++;
			return;
		}
		s->ended = e;
		s->ended_cap = cap;
	}
	s->ended[s->nended].id = id;
	s->ended[s->nended].seq = s->fin_in;
	s->nended++;
}

/* ----------------------------------------------- banner and HELO */

/* The session's waiting banner and HELO, or NULL. */
static struct waiting_hello *
hello_of(struct sqlite_store *s, int64_t sid)
{
	for (size_t i = s->nhellos; i-- > 0;)
		if (s->hellos[i].sid == sid)
			return &s->hellos[i];
	return NULL;
}

/* On st from at: whether the banner waited, its code, text and frame;
 * whether the HELO did, its text (HELLO_SET's 12 to 17). */
static void
hello_bind(sqlite3_stmt *st, int at, const struct waiting_hello *h)
{
	sqlite3_bind_int(st, at, h->banner_set);
	if (h->code_set)
		sqlite3_bind_int(st, at + 1, h->code);
	db_bind_copy(st, at + 2, h->banner, h->banner_len);
	db_bind_frame(st, at + 3, h->frame);
	sqlite3_bind_int(st, at + 4, h->helo_set);
	db_bind_copy(st, at + 5, h->helo, h->helo_len);
}

/* A waiting banner and HELO out (after their UPDATE, or with none). */
static void
hello_drop(struct sqlite_store *s, struct waiting_hello *h)
{
	free(h->banner);
	free(h->helo);
	*h = s->hellos[--s->nhellos];
}

/* Written as they are, without the session's end. */
static void
hello_write(struct sqlite_store *s, struct waiting_hello *h)
{
	sqlite3_stmt *st = s->st[ST_HELLO];

	if (s->db != NULL && (h->banner_set || h->helo_set)) {
		sqlite3_bind_int64(st, 11, h->sid);
		hello_bind(st, 12, h);
		db_run(s, ST_HELLO);
	}
	hello_drop(s, h);
}

void
hellos_write_waiting(struct sqlite_store *s)
{
	while (s->nhellos > 0)
		hello_write(s, &s->hellos[s->nhellos - 1]);
}

/* The session's waiting place, made (one written when all are taken). */
static struct waiting_hello *
hello_for(struct sqlite_store *s, int64_t sid)
{
	struct waiting_hello *h = hello_of(s, sid);

	if (h != NULL)
		return h;
	if (s->nhellos == HELLOS_WAITING)
		hello_write(s, &s->hellos[0]);
	h = &s->hellos[s->nhellos++];
	*h = (struct waiting_hello) { .sid = sid };
	return h;
}

/* The greeting's banner, or a HELO, waits; 0, or -1 (no memory: the
 * caller writes it at once). */
static int
hello_wait(struct sqlite_store *s, enum stmt_id id, const struct md_event *ev)
{
	struct waiting_hello *h = hello_for(s, session_id(s, ev));
	char		     *p;
	size_t		      n;

	if (db_copy_bytes(ev->arg, 0, &p, &n) != 0)
		return -1;
	if (id == ST_GREETING) {
		free(h->banner);
		h->banner = p;
		h->banner_len = n;
		h->banner_set = 1;
		h->code_set = ev->flow->proto == MD_PROTO_SMTP;
		h->code = ev->code;
		h->frame = ev->flow->frame;
	} else {
		free(h->helo);
		h->helo = p;
		h->helo_len = n;
		h->helo_set = 1;
	}
	return 0;
}

static void cmds_write_session(struct sqlite_store *, int64_t sid);

static void
on_session_end(struct sqlite_store *s, const struct md_event *ev)
{
	struct waiting_hello *h = hello_of(s, session_id(s, ev));
	enum stmt_id	 id = h != NULL ? ST_SESSION_END_HELLO : ST_SESSION_END;
	sqlite3_stmt	*st = s->st[id];
	struct hosts_was was;

	cmds_write_session(s, session_id(s, ev));
	counts_session_ends(s, session_id(s, ev));
	hosts_session_was(s, session_id(s, ev), &was);
	sqlite3_bind_double(st, 1, ts_sec(ev->ts_us));
	sqlite3_bind_text(st, 2, md_end_str((enum md_end)ev->code), -1,
	    SQLITE_STATIC);
	db_bind_bytes(st, 3, ev->name);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_int64(st, 4 + i, (sqlite3_int64)ev->num[i]);
	db_bind_frame(st, 8, ev->flow->frame);
	db_bind_offset(st, 9, ev->flow->frame, ev->flow->offset);
	if (s->capture_file != NULL && ev->flow->frame != 0)
		sqlite3_bind_text(st, 10, s->capture_file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, session_id(s, ev));
	if (h != NULL)
		hello_bind(st, 12, h);
	if (db_run(s, id) == 0) {
		int tls =
		    !(ev->name.len == 4 && memcmp(ev->name.p, "none", 4) == 0);

		if (was.known)
			stats_session_tls(s, session_id(s, ev), tls - was.tls);
		hosts_tls_now(s, ev->flow, &was, tls);
	} else
		hosts_tls_now(s, ev->flow, &was, was.tls);
	if (h != NULL)
		hello_drop(s, h);
	findings_session_ended(s, session_id(s, ev));
	if (ev->tls != MD_TLS_NONE)
		s->stats.tls_sessions++;
	if (s->track_ended)
		note_ended(s, session_id(s, ev));
}

/* ------------------------------------------------------ keywords */

/* A reply's keyword, bound into ST_EXTENSIONS' next row. */
static void
on_extension(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_EXTENSIONS];
	int	      at = 3 * (int)s->nexts + 1;

	sqlite3_bind_int64(st, at, session_id(s, ev));
	db_bind_bytes(st, at + 1, ev->name);
	db_bind_text(st, at + 2, ev->arg);
	if (++s->nexts == EXTS_WAITING)
		exts_write_waiting(s);
}

void
exts_write_waiting(struct sqlite_store *s)
{
	if (s->nexts == 0)
		return;
	s->nexts = 0;
	if (s->db != NULL) /* a rotation that found no room left none */
		db_run(s, ST_EXTENSIONS);
}

/* ------------------------------------------------------ commands */

/* A waiting command's row, with its reply's columns (bound by the
 * caller) or without; its copies freed, its place given up. */
static void
cmd_write(struct sqlite_store *s, size_t i)
{
	struct waiting_cmd *c = &s->cmds[i];
	sqlite3_stmt	   *st = s->st[ST_COMMAND];

	if (s->db != NULL) { /* a rotation that found no room left none */
		sqlite3_bind_int64(st, 1, c->sid);
		sqlite3_bind_int64(st, 2, c->seq);
		sqlite3_bind_double(st, 3, c->ts);
		db_bind_copy(st, 4, c->verb, c->verb_len);
		db_bind_copy(st, 5, c->args, c->args_len);
		db_bind_copy(st, 6, c->tag, c->tag_len);
		db_bind_frame(st, 7, c->frame);
		db_bind_offset(st, 8, c->frame, c->offset);
		db_run(s, ST_COMMAND);
	}
	free(c->verb);
	free(c->args);
	free(c->tag);
	*c = s->cmds[--s->ncmds];
}

void
cmds_write_waiting(struct sqlite_store *s)
{
	while (s->ncmds > 0)
		cmd_write(s, s->ncmds - 1);
}

/* The session's waiting commands written (its end counts them). */
static void
cmds_write_session(struct sqlite_store *s, int64_t sid)
{
	for (size_t i = s->ncmds; i-- > 0;) /* cmd_write moves the last in */
		if (s->cmds[i].sid == sid)
			cmd_write(s, i);
}

static void
on_command(struct sqlite_store *s, const struct md_event *ev)
{
	struct waiting_cmd *c;
	struct md_bytes	    args = ev->arg;
	size_t		    keep;
	char		    buf[512];

	if (s->ncmds == CMDS_WAITING) /* one goes now, without its reply */
		cmd_write(s, 0);
	c = &s->cmds[s->ncmds];
	*c = (struct waiting_cmd) { .sid = session_id(s, ev),
		.seq = ev->seq,
		.ts = ts_sec(ev->ts_us),
		.frame = ev->flow->frame,
		.offset = ev->flow->offset };
	/* --redact: what logs in is not kept in the command either (PASS's
	 * argument, AUTH PLAIN's initial response, IMAP LOGIN's password) */
	if (s->redact &&
	    (keep = md_args_public(ev->name.p, ev->name.len, ev->arg.p,
		 ev->arg.len, 0)) < ev->arg.len) {
		int n = snprintf(buf, sizeof(buf), "%.*s%s[redacted]",
		    (int)(keep < 400 ? keep : 400), (const char *)ev->arg.p,
		    keep > 0 ? " " : "");

		args = (struct md_bytes) { (const uint8_t *)buf, (size_t)n };
	}
	s->ncmds++;
	if (db_copy_bytes(ev->name, 0, &c->verb, &c->verb_len) != 0 ||
	    db_copy_bytes(args, 1, &c->args, &c->args_len) != 0 ||
	    db_copy_bytes(ev->extra, 1, &c->tag, &c->tag_len) != 0)
		s->stats.errors++; /* memory: the field goes NULL */
	s->stats.commands++;
}

/* The reply's columns, on st (ST_COMMAND's 9 to 14, ST_REPLY's 1 to 6). */
static void
reply_bind(sqlite3_stmt *st, int at, const struct md_event *ev)
{
	if (ev->flow->proto == MD_PROTO_SMTP) /* its number says more */
		sqlite3_bind_int(st, at, ev->code);
	else
		sqlite3_bind_text(st, at + 1, md_status_str(ev->status), -1,
		    SQLITE_STATIC);
	db_bind_bytes(st, at + 2, ev->arg);
	sqlite3_bind_double(st, at + 3, ts_sec(ev->ts_us));
	db_bind_frame(st, at + 4, ev->flow->frame);
	db_bind_offset(st, at + 5, ev->flow->frame, ev->flow->offset);
}

static void
on_reply(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_REPLY];
	int64_t	      sid;

	if (ev->seq == 0) /* unsolicited: the anomaly row tells */
		return;
	sid = session_id(s, ev);
	for (size_t i = s->ncmds; i-- > 0;)
		if (s->cmds[i].sid == sid && s->cmds[i].seq == ev->seq) {
			reply_bind(s->st[ST_COMMAND], 9, ev);
			cmd_write(s, i);
			return;
		}
	reply_bind(st, 1, ev); /* its command is in the log already */
	sqlite3_bind_int64(st, 7, sid);
	sqlite3_bind_int64(st, 8, ev->seq);
	db_run(s, ST_REPLY);
}

/* One sessions column set from an event. */
static void
on_session_text(struct sqlite_store *s, enum stmt_id id,
    const struct md_event *ev, struct md_bytes value)
{
	sqlite3_stmt *st = s->st[id];

	db_bind_text(st, 1, value);
	sqlite3_bind_int64(st, 2, session_id(s, ev));
	db_run(s, id);
}

/* The user a login names, on its session's row. */
static void
on_user(struct sqlite_store *s, const struct md_event *ev)
{
	struct hosts_was was, now;

	hosts_session_was(s, session_id(s, ev), &was);
	on_session_text(s, ST_USER, ev, ev->arg);
	hosts_session_was(s, session_id(s, ev), &now); /* as written */
	hosts_user_now(s, ev->flow, &was, &now);
}

static void
on_msg_meta(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt	*st = s->st[ST_MSG_META];
	struct open_msg *m;
	int64_t		 whole;

	db_bind_text(st, 1, ev->arg);
	db_bind_text(st, 2, ev->extra);
	db_bind_text(st, 3, ev->aux);
	db_bind_u64(st, 4, ev->num[0], 0);
	db_bind_u64(st, 5, ev->num[1], 0);
	sqlite3_bind_int(st, 6, ev->code != 0);
	sqlite3_bind_int64(st, 7, session_id(s, ev));
	sqlite3_bind_int64(st, 8, ev->tx);
	/* a piece found out: its row's share goes from the sums */
	whole = ev->code != 0 ?
	    stats_messages_touch(s, session_id(s, ev), ev->tx) :
	    0;
	if (db_run(s, ST_MSG_META) == 0)
		hosts_msgs_add(s, ev->flow, -whole);
	stats_at_once(s);
	if (ev->code != 0 && (m = msgs_find(s, ev)) != NULL)
		m->partial = 1;
}

/*
 * Bytes the capture lost: counted against the session and against the
 * message that was crossing in that direction, which is then incomplete.
 */
static void
on_gap(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_SESSION_GAP];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)ev->num[0]);
	sqlite3_bind_int64(st, 2, session_id(s, ev));
	db_run(s, ST_SESSION_GAP);
	msgs_gap(s, ev->flow->id, ev->dir, ev->num[0]);
}

/*
 * A maildrop fact.  POP3 RSET and QUIT do not name messages: they settle
 * every deletion still marked in the session (RFC 1939 6 and 8).
 */
static void
on_item(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_ITEM];
	int64_t	      sid = session_id(s, ev);
	int is_dele = md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_DELE);

	if (md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_RESET) ||
	    md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_COMMIT)) {
		st = s->st[ST_DELETION];
		sqlite3_bind_text(st, 1,
		    md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_COMMIT) ?
			"committed" :
			"reset",
		    -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, sid);
		db_run(s, ST_DELETION);
		return;
	}
	sqlite3_bind_int64(st, 1, sid);
	if (ev->seq)
		sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	db_bind_bytes(st, 4, ev->name);
	db_bind_u64(st, 5, ev->num[0], 0);
	if (md_ci_equal(ev->name.p, ev->name.len, MD_ITEM_LIST))
		sqlite3_bind_int64(st, 6, (sqlite3_int64)ev->num[1]);
	db_bind_text(st, 7, ev->arg);
	db_bind_text(st, 8, ev->extra);
	if (is_dele)
		sqlite3_bind_text(st, 9, "marked", -1, SQLITE_STATIC);
	db_run(s, ST_ITEM);
}

static void
on_mailbox(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_MAILBOX];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	db_bind_bytes(st, 4, ev->name);
	db_bind_bytes(st, 5, ev->arg);
	sqlite3_bind_text(st, 6, md_status_str(ev->status), -1, SQLITE_STATIC);
	for (int i = 0; i < 4; i++)
		db_bind_u64(st, 7 + i, ev->num[i], UINT64_MAX);
	db_run(s, ST_MAILBOX);
	if (ev->status == MD_ST_OK)
		on_session_text(s, ST_SELECTED, ev, ev->arg);
}

static void
on_response(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_RESPONSE];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	if (ev->seq)
		sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	db_bind_bytes(st, 4, ev->name);
	if (ev->code)
		sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->num[0]);
	db_bind_text(st, 6, ev->arg);
	db_run(s, ST_RESPONSE);
}

/* SASL mechanisms whose proof is a token that logs in as is. */
static int
is_bearer(struct md_bytes mech)
{
	return md_ci_equal(mech.p, mech.len, "XOAUTH2") ||
	    md_ci_equal(mech.p, mech.len, "OAUTHBEARER");
}

static void
on_auth(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_AUTH];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_double(st, 3, ts_sec(ev->ts_us));
	db_bind_bytes(st, 4, ev->name);
	db_bind_text(st, 5, ev->arg);
	db_bind_text(st, 7, ev->aux);
	if (ev->code != 0) /* SMTP's number; POP3/IMAP say the outcome */
		sqlite3_bind_int(st, 9, ev->code);
	sqlite3_bind_text(st, 10,
	    md_auth_outcome_str((enum md_auth_outcome)ev->num[0]), -1,
	    SQLITE_STATIC);
	/* --redact keeps nothing that logs in as is: passwords and bearer
	 * tokens.  Challenge-response digests stay (useless to replay). */
	if (s->redact && (ev->extra.len > 0 || is_bearer(ev->name))) {
		sqlite3_bind_int(st, 11, 1);
		if (!is_bearer(ev->name))
			db_bind_text(st, 8, ev->proof);
	} else {
		db_bind_text(st, 6, ev->extra);
		db_bind_text(st, 8, ev->proof);
		sqlite3_bind_int(st, 11, 0);
	}
	db_bind_frame(st, 12, ev->flow->frame);
	db_bind_offset(st, 13, ev->flow->frame, ev->flow->offset);
	if (db_run(s, ST_AUTH) == 0) {
		hosts_auths_add(s, ev->flow);
		stats_auth_added(s, sqlite3_last_insert_rowid(s->db));
	}
	if (ev->num[0] == MD_AUTH_OK && ev->arg.len > 0)
		on_user(s, ev);
	s->stats.auth++;
	if (ev->extra.len > 0)
		s->stats.auth_clear++;
}

static void
on_simple(struct sqlite_store *s, enum stmt_id id, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[id];
	int64_t	      sid = session_id(s, ev);

	switch (id) {
	case ST_GREETING:
		if (ev->flow->proto == MD_PROTO_SMTP)
			sqlite3_bind_int(st, 1, ev->code);
		db_bind_bytes(st, 2, ev->arg);
		db_bind_frame(st, 3, ev->flow->frame);
		sqlite3_bind_int64(st, 4, sid);
		break;
	case ST_HELO:
		db_bind_bytes(st, 1, ev->arg);
		sqlite3_bind_int64(st, 2, sid);
		break;
	case ST_TX:
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, ev->tx);
		sqlite3_bind_int64(st, 3, ev->seq);
		sqlite3_bind_double(st, 4, ts_sec(ev->ts_us));
		db_bind_bytes(st, 5, ev->arg);
		db_bind_text(st, 6, ev->extra);
		s->stats.transactions++;
		break;
	case ST_RCPT:
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, ev->tx);
		sqlite3_bind_int64(st, 3, ev->seq);
		db_bind_bytes(st, 4, ev->arg);
		db_bind_text(st, 5, ev->extra);
		break;
	case ST_DELIVERY:
		sqlite3_bind_int(st, 1, ev->code);
		db_bind_bytes(st, 2, ev->arg);
		sqlite3_bind_int64(st, 3, sid);
		sqlite3_bind_int64(st, 4, ev->seq);
		break;
	case ST_TX_REPLY:
		sqlite3_bind_int(st, 1, ev->code);
		db_bind_bytes(st, 2, ev->arg);
		db_bind_text(st, 3, ev->extra);
		sqlite3_bind_int64(st, 4, sid);
		sqlite3_bind_int64(st, 5, ev->tx);
		break;
	case ST_ANOMALY:
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
		sqlite3_bind_text(st, 3, ev->dir == MD_C2S ? "c2s" : "s2c", -1,
		    SQLITE_STATIC);
		db_bind_bytes(st, 4, ev->name);
		db_bind_text(st, 5, ev->arg);
		db_bind_frame(st, 6, ev->flow->frame);
		s->stats.anomalies++;
		break;
	default:
		return;
	}
	if (db_run(s, id) == 0 && id == ST_ANOMALY)
		stats_anomaly_added(s, sqlite3_last_insert_rowid(s->db));
}

/* Whether an event of the type changes rows a session's counts or its
 * sent messages' outcomes are made of (sqlite_counts.c). */
static int
counted_event(enum md_ev t)
{
	return t == MD_EV_COMMAND || t == MD_EV_REPLY || t == MD_EV_AUTH ||
	    t == MD_EV_TX_BEGIN || t == MD_EV_RCPT || t == MD_EV_TX_REPLY ||
	    t == MD_EV_DELIVERY || t == MD_EV_MSG_BEGIN || t == MD_EV_MSG_META;
}

int
db_emit(void *arg, const struct md_event *ev)
{
	struct sqlite_store *s = arg;

	if (s->nexts > 0 && ev->type != MD_EV_EXTENSION)
		exts_write_waiting(s); /* the reply's keywords are all here */
	if (lost_event(s, ev))	       /* its session is not in the log */
		return 0;
	if (an_pending(s->an) > 0) /* ends whose results may have come */
		msgs_settle(s, 0);
	if (counted_event(ev->type))
		counts_touch(s, session_id(s, ev));
	switch (ev->type) {
	case MD_EV_SESSION_BEGIN:
		on_session_begin(s, ev);
		break;
	case MD_EV_GREETING:
		if (hello_wait(s, ST_GREETING, ev) != 0)
			on_simple(s, ST_GREETING, ev);
		break;
	case MD_EV_COMMAND:
		on_command(s, ev);
		break;
	case MD_EV_REPLY:
		on_reply(s, ev);
		break;
	case MD_EV_HELO:
		if (hello_wait(s, ST_HELO, ev) != 0)
			on_simple(s, ST_HELO, ev);
		break;
	case MD_EV_EXTENSION:
		on_extension(s, ev);
		break;
	case MD_EV_AUTH:
		on_auth(s, ev);
		break;
	case MD_EV_TX_BEGIN:
		on_simple(s, ST_TX, ev);
		break;
	case MD_EV_RCPT:
		on_simple(s, ST_RCPT, ev);
		break;
	case MD_EV_MSG_BEGIN:
		msgs_begin(s, ev);
		break;
	case MD_EV_MSG_DATA:
		msgs_data(s, ev);
		return 0; /* hot path: no commit check per piece */
	case MD_EV_MSG_END:
		msgs_end(s, ev);
		break;
	case MD_EV_TX_REPLY:
		on_simple(s, ST_TX_REPLY, ev);
		break;
	case MD_EV_DELIVERY:
		on_simple(s, ST_DELIVERY, ev);
		break;
	case MD_EV_ANOMALY:
		on_simple(s, ST_ANOMALY, ev);
		if (ev->code == MD_ANOM_IS_GAP)
			on_gap(s, ev);
		break;
	case MD_EV_SESSION_END:
		on_session_end(s, ev);
		break;
	case MD_EV_MSG_META:
		on_msg_meta(s, ev);
		break;
	case MD_EV_ITEM:
		on_item(s, ev);
		break;
	case MD_EV_MAILBOX:
		on_mailbox(s, ev);
		break;
	case MD_EV_RESPONSE:
		on_response(s, ev);
		break;
	case MD_EV_IDENT:
		on_session_text(s,
		    ev->dir == MD_C2S ? ST_CLIENT_ID : ST_SERVER_ID, ev,
		    ev->arg);
		break;
	case MD_EV_STATE:
		on_session_text(s, ST_STATE, ev, ev->name);
		break;
	case MD_EV_COMPRESS:
		if (ev->status == MD_ST_OK) { /* logged in lower case */
			char   algo[32];
			size_t n = ev->name.len;

			if (n > sizeof(algo))
				n = sizeof(algo);

			for (size_t i = 0; i < n; i++) {
				uint8_t c = ev->name.p[i];

				algo[i] =
				    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			on_session_text(s, ST_COMPRESSION, ev,
			    (struct md_bytes) { (const uint8_t *)algo, n });
		}
		break;
	case MD_EV_HEADER:
		msgs_header(s, ev);
		break;
	case MD_EV_PART_BEGIN:
		msgs_part_begin(s, ev);
		break;
	case MD_EV_PART_DATA:
		msgs_part_data(s, ev);
		return 0; /* hot path: no commit check per piece */
	case MD_EV_PART_END:
		msgs_part_end(s, ev);
		break;
	case MD_EV_URL:
		msgs_url(s, ev);
		break;
	case MD_EV_TEXT:
		msgs_text(s, ev);
		return 0;
	case MD_EV_TLS_HELLO:
	case MD_EV_TLS_CERT:
	case MD_EV_TLS_ALERT:
	case MD_EV_TLS_END:
		db_tls_event(s, ev);
		break;
	case MD_EV_STARTTLS:
	case MD_EV_COUNT:
		break;
	}
	db_maybe_commit(s);
	return 0;
}
