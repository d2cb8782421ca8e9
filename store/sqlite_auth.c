/* \summary: the store's side of msgauth.h: rows, DKIM body hashes, findings */
#include <stdlib.h>
#include <string.h>

#include "store/hasher.h"
#include "store/msgauth.h"
#include "store/sqlite_priv.h"
#include "dissect/util.h"

#define DKIM_CHECKS 4 /* signatures a message has its body checked for */

/* A DKIM signature whose body hash is worked out again. */
struct dkim_check {
	int		  n; /* its message_auth row */
	int		  sha1;
	char		  bh[96];
	struct dkim_canon canon;
	struct hstream	 *hash;
};

#define PATH_MAX_HOPS 30 /* Received addresses in the path, as Zeek */

struct msg_auth {
	int		  nrows;
	char		 *from, *to, *reply_to, *return_path;
	char		  path[PATH_MAX_HOPS * (MSGAUTH_IP_MAX + 1)];
	char		  last_hop[MSGAUTH_IP_MAX];
	int		  hops;
	char		  x_originating_ip[MSGAUTH_IP_MAX];
	struct dkim_check check[DKIM_CHECKS];
	int		  nchecks;
	unsigned	  findings;
};

static struct msg_auth *
auth_of(struct open_msg *m)
{
	if (m->auth == NULL)
		m->auth = calloc(1, sizeof(*m->auth));
	return m->auth;
}

static void
canon_out(void *arg, const uint8_t *p, size_t n)
{
	hstream_update(arg, p, n);
}

/* A DKIM-Signature's body hash, to check at the end (sha256 or sha1). */
static void
check_begin(struct sqlite_store *s, struct msg_auth *a,
    const struct auth_row *r)
{
	struct dkim_check *c;
	int		   sha1 = strstr(r->algorithm, "sha1") != NULL;

	if (a->nchecks == DKIM_CHECKS || r->body_hash[0] == '\0' ||
	    (!sha1 && strstr(r->algorithm, "sha256") == NULL))
		return;
	c = &a->check[a->nchecks];
	if ((c->hash = hstream_new(s->hasher, sha1 ? HS_SHA1 : 0)) == NULL)
		return;
	a->nchecks++;
	c->n = a->nrows;
	c->sha1 = sha1;
	memcpy(c->bh, r->body_hash, sizeof(c->bh));
	dkim_canon_init(&c->canon, r->canon, r->body_length, canon_out,
	    c->hash);
}

struct row_ctx {
	struct sqlite_store *s;
	struct open_msg	    *m;
};

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v[0] != '\0')
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void
on_row(void *arg, const struct auth_row *r)
{
	struct row_ctx	*x = arg;
	struct msg_auth *a = auth_of(x->m);
	sqlite3_stmt	*st = x->s->st[ST_MSG_AUTH];

	if (a == NULL)
		return;
	a->nrows++;
	sqlite3_bind_int64(st, 1, x->m->row);
	sqlite3_bind_int(st, 2, a->nrows);
	sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_TRANSIENT);
	if (r->instance > 0)
		sqlite3_bind_int(st, 4, r->instance);
	bind_opt(st, 5, r->authserv);
	bind_opt(st, 6, r->method);
	bind_opt(st, 7, r->result);
	bind_opt(st, 8, r->domain);
	bind_opt(st, 9, r->selector);
	bind_opt(st, 10, r->algorithm);
	bind_opt(st, 11, r->canon);
	bind_opt(st, 12, r->headers);
	bind_opt(st, 13, r->body_hash);
	if (r->body_length >= 0)
		sqlite3_bind_int64(st, 14, r->body_length);
	bind_opt(st, 15, r->detail);
	db_run(x->s, ST_MSG_AUTH);
	if (strcmp(r->kind, "dkim-signature") == 0)
		check_begin(x->s, a, r);
}

/* The first of each field impersonation is judged by. */
static void
keep_field(struct msg_auth *a, const struct md_event *ev)
{
	static const char *const names[] = { "From", "To", "Reply-To",
		"Return-Path" };
	char **slot[] = { &a->from, &a->to, &a->reply_to, &a->return_path };

	for (int i = 0; i < 4; i++)
		if (md_ci_equal(ev->name.p, ev->name.len, names[i]) &&
		    *slot[i] == NULL)
			*slot[i] =
			    strndup((const char *)ev->extra.p, ev->extra.len);
}

/*
 * The hops a message took, from its Received fields (as Zeek's smtp.log
 * builds its path: of the addresses in a field, the second when there
 * are more, the one that names the sending host; a hop only when it
 * differs from the last), and X-Originating-IP.
 */
static void
keep_addresses(struct msg_auth *a, const struct md_event *ev)
{
	char   ips[4][MSGAUTH_IP_MAX], value[2048];
	size_t n;

	if (ev->arg.len >= sizeof(value))
		return;
	memcpy(value, ev->arg.p, ev->arg.len);
	value[ev->arg.len] = '\0';
	n = msgauth_ips(value, ips, 4);
	if (n == 0)
		return;
	if (md_ci_equal(ev->name.p, ev->name.len, "X-Originating-IP")) {
		if (a->x_originating_ip[0] == '\0')
			memcpy(a->x_originating_ip, ips[0], MSGAUTH_IP_MAX);
		return;
	}
	if (a->hops == PATH_MAX_HOPS || strcmp(ips[n > 1], a->last_hop) == 0)
		return;
	memcpy(a->last_hop, ips[n > 1], MSGAUTH_IP_MAX);
	snprintf(a->path + strlen(a->path), sizeof(a->path) - strlen(a->path),
	    "%s%s", a->hops ? "," : "", a->last_hop);
	a->hops++;
}

void
auth_header(struct sqlite_store *s, struct open_msg *m,
    const struct md_event *ev)
{
	struct row_ctx x = { s, m };
	char	       name[64], *value;

	if (ev->name.len >= sizeof(name))
		return;
	memcpy(name, ev->name.p, ev->name.len);
	name[ev->name.len] = '\0';
	if (m->auth != NULL || md_ci_equal(ev->name.p, ev->name.len, "From") ||
	    md_ci_equal(ev->name.p, ev->name.len, "To") ||
	    md_ci_equal(ev->name.p, ev->name.len, "Reply-To") ||
	    md_ci_equal(ev->name.p, ev->name.len, "Return-Path") ||
	    md_ci_equal(ev->name.p, ev->name.len, "Received") ||
	    md_ci_equal(ev->name.p, ev->name.len, "X-Originating-IP")) {
		if (auth_of(m) == NULL)
			return;
		keep_field(m->auth, ev);
		if (md_ci_equal(ev->name.p, ev->name.len, "Received") ||
		    md_ci_equal(ev->name.p, ev->name.len, "X-Originating-IP"))
			keep_addresses(m->auth, ev);
	}
	/* the raw value: a signature's tags as they were signed */
	if ((value = strndup((const char *)ev->arg.p, ev->arg.len)) == NULL)
		return;
	(void)msgauth_field(name, value, ev->arg.len, on_row, &x);
	free(value);
}

void
auth_data(struct open_msg *m, const uint8_t *p, size_t n)
{
	for (int i = 0; m->auth != NULL && i < m->auth->nchecks; i++)
		dkim_canon_feed(&m->auth->check[i].canon, p, n);
}

void
auth_end(struct open_msg *m)
{
	struct msg_auth *a = m->auth;

	if (a == NULL)
		return;
	for (int i = 0; i < a->nchecks; i++) {
		dkim_canon_finish(&a->check[i].canon);
		hstream_end(a->check[i].hash);
	}
	a->findings =
	    msgauth_impersonation(a->from, a->reply_to, a->return_path, a->to);
}

/* Hex digest to bytes. */
static size_t
unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = 0;

	for (; h[0] != '\0' && h[1] != '\0' && n < cap; h += 2)
		out[n++] = (unsigned char)(md_hex_value((uint8_t)h[0]) << 4 |
		    md_hex_value((uint8_t)h[1]));
	return n;
}

void
auth_finished(struct sqlite_store *s, struct open_msg *m)
{
	struct msg_auth *a = m->auth;
	char		 f[160];

	if (a == NULL)
		return;
	for (int i = 0; i < a->nchecks; i++) {
		struct dkim_check *c = &a->check[i];
		struct hdigests	   d;
		unsigned char	   raw[32];
		size_t		   n;
		int		   eq;
		sqlite3_stmt	  *st = s->st[ST_MSG_AUTH_CHECK];

		hstream_finish(c->hash, &d);
		c->hash = NULL;
		/* only a whole message has the body that was signed */
		if (!m->complete || m->partial)
			continue;
		n = unhex(c->sha1 ? d.sha1 : d.sha256, raw, sizeof(raw));
		if ((eq = dkim_bh_equal(c->bh, raw, n)) < 0)
			continue;
		if (!eq)
			a->findings |= DKIM_BODY_CHANGED;
		sqlite3_bind_text(st, 1, eq ? "match" : "mismatch", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, m->row);
		sqlite3_bind_int(st, 3, c->n);
		db_run(s, ST_MSG_AUTH_CHECK);
	}
	if (a->findings != 0 || a->hops > 0 || a->x_originating_ip[0]) {
		sqlite3_stmt *st = s->st[ST_MSG_FINDINGS];

		if (a->findings != 0)
			sqlite3_bind_text(st, 1,
			    msgauth_findings_str(a->findings, f, sizeof(f)), -1,
			    SQLITE_TRANSIENT);
		if (a->hops > 0)
			sqlite3_bind_text(st, 2, a->path, -1, SQLITE_TRANSIENT);
		if (a->x_originating_ip[0] != '\0')
			sqlite3_bind_text(st, 3, a->x_originating_ip, -1,
			    SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, m->row);
		db_run(s, ST_MSG_FINDINGS);
	}
}

void
auth_free(struct open_msg *m)
{
	struct msg_auth *a = m->auth;

	if (a == NULL)
		return;
	for (int i = 0; i < a->nchecks; i++)
		if (a->check[i].hash != NULL)
			hstream_finish(a->check[i].hash, NULL);
	free(a->from);
	free(a->to);
	free(a->reply_to);
	free(a->return_path);
	free(a);
	m->auth = NULL;
}
