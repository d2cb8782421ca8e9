/* \summary: the store's side of message authentication: its rows */
#include <stdlib.h>
#include <string.h>

#include "store/analyse/analyse.h"
#include "store/sqlite/sqlite_priv.h"

struct row_ctx {
	struct sqlite_store *s;
	int64_t		     msg_row;
};

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v[0] != '\0')
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void
on_row(void *arg, int n, const struct auth_row *r)
{
	struct row_ctx *x = arg;
	sqlite3_stmt   *st = x->s->st[ST_MSG_AUTH];

	sqlite3_bind_int64(st, 1, x->msg_row);
	sqlite3_bind_int(st, 2, n);
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
}

void
auth_header(struct sqlite_store *s, struct open_msg *m,
    const struct md_event *ev)
{
	struct row_ctx x = { s, m->row };

	an_msg_header(m->an, ev->name.p, ev->name.len, ev->arg.p, ev->arg.len,
	    ev->extra.p, ev->extra.len, on_row, &x);
}

/* The message's verdicts beside its row's end: the DKIM body hashes
 * checked (message_auth rows), the findings, path and originating IP
 * bound on ST_MSG_END's 14 to 16 before it runs. */
void
auth_finished(struct sqlite_store *s, int64_t msg_row,
    const struct an_result *r)
{
	for (int i = 0; i < r->nchecks; i++) {
		sqlite3_stmt *st = s->st[ST_MSG_AUTH_CHECK];

		sqlite3_bind_text(st, 1,
		    r->check_match[i] ? "match" : "mismatch", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, msg_row);
		sqlite3_bind_int(st, 3, r->check_row[i]);
		db_run(s, ST_MSG_AUTH_CHECK);
	}
}

void
auth_bind_findings(sqlite3_stmt *st, const struct an_result *r)
{
	bind_opt(st, 14, r->auth_findings);
	bind_opt(st, 15, r->path);
	bind_opt(st, 16, r->x_originating_ip);
}
