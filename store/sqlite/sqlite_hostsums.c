/* \summary: SQLite store: the hosts' sums of the writer's own rows */
/*
 * On small mail the triggers were a seventh of the writer's work: a
 * statement that may fire one opens a statement journal (each page it
 * changes copied first) and a frame for the trigger's program, whether
 * its WHEN holds or not, and four fired for every message (its session's
 * row, its end, the message's row, the user's check).  The writer's own
 * connection runs with the log's triggers off (SQLITE_DBCONFIG_
 * ENABLE_TRIGGER; a connection's TEMP triggers still fire), adds up in
 * memory what its rows give each host, and writes the sums just before
 * each COMMIT, in that transaction: what a rolled-back transaction held
 * goes with it.  Where the change depends on what a row was (a session's
 * TLS or user, a message a REPLACE displaces or makes a piece), the row
 * is read first, by its key.  Every other way rows arrive (a spool's
 * rows shipped, a rotation's carried sessions) keeps the triggers.
 * Every trigger of the log's schema is off for the writer, not only
 * these: one added to schema.sql would not fire for its rows.
 */
#include <arpa/inet.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_priv.h"

enum {
	HS_SESSION_WAS, /* a session's TLS and user, before they change */
	HS_ADD,		/* a host's sums, with sessions */
	HS_COUNT,	/* a host's sums, without */
	HS_USER_WAS,
	HS_USER_SET,
	HS_USER_GONE,
	HS_USERS,
	HS_COUNT_OF
};

static const char *const sums_sql[HS_COUNT_OF] = {
	[HS_SESSION_WAS] = "SELECT tls, username FROM sessions WHERE id = ?",
	[HS_ADD] = "INSERT INTO host_stats (ip, sessions, as_client, first,"
		   " last, messages, auths, tls) VALUES (?,?,?,?,?,?,?,?)"
		   " ON CONFLICT (ip) DO UPDATE SET"
		   " sessions = sessions + excluded.sessions,"
		   " as_client = as_client + excluded.as_client,"
		   " first = min(first, excluded.first),"
		   " last = max(last, excluded.last),"
		   " messages = messages + excluded.messages,"
		   " auths = auths + excluded.auths, tls = tls + excluded.tls",
	[HS_COUNT] = "UPDATE host_stats SET messages = messages + ?2,"
		     " auths = auths + ?3, tls = tls + ?4 WHERE ip = ?1",
	[HS_USER_WAS] = "SELECT n FROM host_users WHERE ip = ? AND"
			" username = ?",
	[HS_USER_SET] = "INSERT INTO host_users (ip, username, n)"
			" VALUES (?1, ?2, ?3) ON CONFLICT (ip, username)"
			" DO UPDATE SET n = excluded.n",
	[HS_USER_GONE] = "DELETE FROM host_users WHERE ip = ? AND"
			 " username = ?",
	[HS_USERS] = "UPDATE host_stats SET users = users + ?2 WHERE ip = ?1",
};

/* What the writer's rows since the last commit give one host (user
 * NULL), or one host's user (n). */
struct host_delta {
	char	ip[INET6_ADDRSTRLEN];
	char   *user; /* NULL: the host's own sums */
	size_t	ulen; /* a name may hold any byte */
	int64_t sessions, as_client, messages, auths, tls, n;
	double	first, last; /* with sessions */
};

/* A commit's hosts seldom pass some thousands; the table a burst made
 * bigger than this (a commit holds at most STORE_COMMIT_EVENTS events:
 * some 40 MB of slots at worst) is freed once written. */
#define SUMS_SLOTS_KEPT 16384

struct host_sums {
	sqlite3_stmt	  *st[HS_COUNT_OF];
	struct host_delta *slot; /* open addressing; ip[0] == 0: free */
	size_t		   nslots, used;
};

/* A user's name: bytes, not a C string. */
struct name {
	const char *p; /* NULL: none */
	size_t	    len;
};

/* FNV-1a of n bytes, on from h */
static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211u;
	return h;
}

static uint64_t
delta_hash(const char *ip, struct name user)
{
	uint64_t h = fnv(1469598103934665603u, ip, strlen(ip));

	return user.p == NULL ? h : fnv(h * 31 + 1, user.p, user.len);
}

static int
delta_is(const struct host_delta *d, const char *ip, struct name user)
{
	if (strcmp(d->ip, ip) != 0)
		return 0;
	if (user.p == NULL || d->user == NULL)
		return user.p == NULL && d->user == NULL;
	return d->ulen == user.len && memcmp(d->user, user.p, user.len) == 0;
}

static struct host_delta *
delta_place(struct host_delta *slot, size_t nslots, const char *ip,
    struct name user)
{
	size_t i = (size_t)delta_hash(ip, user) & (nslots - 1);

	while (slot[i].ip[0] != '\0' && !delta_is(&slot[i], ip, user))
		i = (i + 1) & (nslots - 1);
	return &slot[i];
}

static struct name
user_of(const struct host_delta *d)
{
	return (struct name) { d->user, d->ulen };
}

/* Room for one more (at most half the slots used); -1: no memory. */
static int
sums_room(struct host_sums *h)
{
	size_t		   n = h->nslots ? 2 * h->nslots : 64;
	struct host_delta *slot;

	if (h->nslots > 0 && 2 * (h->used + 1) <= h->nslots)
		return 0;
	if ((slot = calloc(n, sizeof(*slot))) == NULL)
		return -1;
	for (size_t i = 0; i < h->nslots; i++)
		if (h->slot[i].ip[0] != '\0')
			*delta_place(slot, n, h->slot[i].ip,
			    user_of(&h->slot[i])) = h->slot[i];
	free(h->slot);
	h->slot = slot;
	h->nslots = n;
	return 0;
}

/* The host's (user NULL) or its user's delta, made when new; NULL: no
 * memory. */
static struct host_delta *
delta_of(struct host_sums *h, const char *ip, struct name user)
{
	struct host_delta *d;

	if (sums_room(h) != 0)
		return NULL;
	d = delta_place(h->slot, h->nslots, ip, user);
	if (d->ip[0] != '\0')
		return d;
	if (user.p != NULL) {
		if ((d->user = malloc(user.len + 1)) == NULL)
			return NULL;
		memcpy(d->user, user.p, user.len);
		d->user[user.len] = '\0';
		d->ulen = user.len;
	}
	snprintf(d->ip, sizeof(d->ip), "%s", ip);
	h->used++;
	return d;
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A user's change of n into host_users, and into its host's count of
 * users when a name comes or goes. */
static int
user_write(struct host_sums *h, const struct host_delta *d)
{
	sqlite3_stmt *st = h->st[HS_USER_WAS];
	int64_t	      was = 0, now;
	int	      rc;

	sqlite3_bind_text(st, 1, d->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->user, (int)d->ulen, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		was = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	now = was + d->n;
	st = h->st[now > 0 ? HS_USER_SET : HS_USER_GONE];
	sqlite3_bind_text(st, 1, d->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->user, (int)d->ulen, SQLITE_STATIC);
	if (now > 0)
		sqlite3_bind_int64(st, 3, now);
	if ((rc = step_done(st)) != 0 || (was > 0) == (now > 0))
		return rc;
	st = h->st[HS_USERS];
	sqlite3_bind_text(st, 1, d->ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, now > 0 ? 1 : -1);
	return step_done(st);
}

/* One host's delta into host_stats: a row made by its first session. */
static int
host_write(struct host_sums *h, const struct host_delta *d)
{
	sqlite3_stmt *st;

	if (d->sessions > 0) {
		st = h->st[HS_ADD];
		sqlite3_bind_text(st, 1, d->ip, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, d->sessions);
		sqlite3_bind_int64(st, 3, d->as_client);
		sqlite3_bind_double(st, 4, d->first);
		sqlite3_bind_double(st, 5, d->last);
		sqlite3_bind_int64(st, 6, d->messages);
		sqlite3_bind_int64(st, 7, d->auths);
		sqlite3_bind_int64(st, 8, d->tls);
		return step_done(st);
	}
	if (d->messages == 0 && d->auths == 0 && d->tls == 0)
		return 0;
	st = h->st[HS_COUNT];
	sqlite3_bind_text(st, 1, d->ip, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, d->messages);
	sqlite3_bind_int64(st, 3, d->auths);
	sqlite3_bind_int64(st, 4, d->tls);
	return step_done(st);
}

static void
sums_clear(struct host_sums *h)
{
	for (size_t i = 0; i < h->nslots; i++)
		free(h->slot[i].user);
	if (h->nslots > SUMS_SLOTS_KEPT) { /* a burst's: given back */
		free(h->slot);
		h->slot = NULL;
		h->nslots = 0;
	} else if (h->slot != NULL) /* none made yet */
		memset(h->slot, 0, h->nslots * sizeof(*h->slot));
	h->used = 0;
}

void
hosts_write_waiting(struct sqlite_store *s)
{
	struct host_sums *h = s->sums;
	int		  failed = 0;

	if (h == NULL || h->used == 0)
		return;
	/* the hosts first: a user's count goes on its host's row */
	for (int users = 0; s->db != NULL && users < 2; users++)
		for (size_t i = 0; i < h->nslots; i++) {
			const struct host_delta *d = &h->slot[i];

			if (d->ip[0] == '\0' || (d->user != NULL) != users)
				continue;
			if ((users ? user_write(h, d) : host_write(h, d)) != 0)
				failed = 1;
		}
	if (failed)
		db_fail(s, "the hosts' sums");
	sums_clear(h);
}

/* What a statement the writer just ran changed, in the sums now: no
 * transaction holds it (a failing disk rolled it back), or no memory. */
static void
sums_at_once(struct sqlite_store *s)
{
	if (sqlite3_get_autocommit(s->db))
		hosts_write_waiting(s);
}

void
hosts_forget(struct sqlite_store *s)
{
	if (s->sums != NULL)
		sums_clear(s->sums);
}

/* The delta of host ip, or of the host's user; NULL when the sums are
 * not the writer's, or memory is out even after what waited was written
 * (the change is then not counted: the sums are short by it). */
static struct host_delta *
sums_at(struct sqlite_store *s, const char *ip, struct name user)
{
	struct host_delta *d;

	if (s->sums == NULL)
		return NULL;
	if ((d = delta_of(s->sums, ip, user)) == NULL) {
		/* written now, the table emptied: room again */
		hosts_write_waiting(s);
		d = delta_of(s->sums, ip, user);
	}
	return d;
}

static void
flow_ends(const struct md_flow *f, char cli[INET6_ADDRSTRLEN],
    char srv[INET6_ADDRSTRLEN])
{
	db_addr_str(f, f->cli_addr, cli, INET6_ADDRSTRLEN);
	db_addr_str(f, f->srv_addr, srv, INET6_ADDRSTRLEN);
}

/* col of both ends' deltas += by */
static void
ends_add(struct sqlite_store *s, const struct md_flow *f, size_t col,
    int64_t by)
{
	char cli[INET6_ADDRSTRLEN], srv[INET6_ADDRSTRLEN];

	if (s->sums == NULL || by == 0)
		return;
	flow_ends(f, cli, srv);
	for (int end = 0; end < 2; end++) {
		struct host_delta *d =
		    sums_at(s, end ? srv : cli, (struct name) { 0 });

		if (d != NULL)
			*(int64_t *)((char *)d + col) += by;
	}
	sums_at_once(s);
}

void
hosts_session_begun(struct sqlite_store *s, const char *cli, const char *srv,
    double start, int tls)
{
	if (s->sums == NULL)
		return;
	for (int end = 0; end < 2; end++) {
		struct host_delta *d =
		    sums_at(s, end ? srv : cli, (struct name) { 0 });

		if (d == NULL)
			continue;
		if (d->sessions == 0 || start < d->first)
			d->first = start;
		if (d->sessions == 0 || start > d->last)
			d->last = start;
		d->sessions++;
		d->as_client += end == 0;
		d->tls += tls;
	}
	sums_at_once(s);
}

void
hosts_session_was(struct sqlite_store *s, int64_t sid, struct hosts_was *w)
{
	sqlite3_stmt *st;

	*w = (struct hosts_was) { 0 };
	if (s->sums == NULL)
		return;
	st = s->sums->st[HS_SESSION_WAS];
	sqlite3_bind_int64(st, 1, sid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *tls = (const char *)sqlite3_column_text(st, 0);
		const char *user = (const char *)sqlite3_column_text(st, 1);

		w->known = 1;
		w->tls = tls != NULL && strcmp(tls, "none") != 0;
		w->ulen = (size_t)sqlite3_column_bytes(st, 1);
		if (user != NULL && (w->user = malloc(w->ulen + 1)) != NULL)
			memcpy(w->user, user, w->ulen + 1);
		else if (user != NULL)
			w->known = 0; /* no memory: not counted */
	}
	sqlite3_reset(st);
}

void
hosts_tls_now(struct sqlite_store *s, const struct md_flow *f,
    struct hosts_was *w, int tls)
{
	if (w->known)
		ends_add(s, f, offsetof(struct host_delta, tls), tls - w->tls);
	free(w->user);
	w->user = NULL;
}

/* A user's name more (by 1) or fewer (-1) at both ends of f. */
static void
user_add(struct sqlite_store *s, const struct md_flow *f, struct name user,
    int by)
{
	char cli[INET6_ADDRSTRLEN], srv[INET6_ADDRSTRLEN];

	flow_ends(f, cli, srv);
	for (int end = 0; end < 2; end++) {
		struct host_delta *d = sums_at(s, end ? srv : cli, user);

		if (d != NULL)
			d->n += by;
	}
	sums_at_once(s);
}

void
hosts_user_now(struct sqlite_store *s, const struct md_flow *f,
    struct hosts_was *was, struct hosts_was *now)
{
	struct name a = { was->user, was->ulen }, b = { now->user, now->ulen };

	if (was->known && now->known &&
	    (a.p == NULL || b.p == NULL ?
		    a.p != b.p :
		    a.len != b.len || memcmp(a.p, b.p, a.len) != 0)) {
		if (a.p != NULL)
			user_add(s, f, a, -1);
		if (b.p != NULL)
			user_add(s, f, b, 1);
	}
	free(was->user);
	free(now->user);
	was->user = now->user = NULL;
}

void
hosts_msgs_add(struct sqlite_store *s, const struct md_flow *f, int64_t by)
{
	ends_add(s, f, offsetof(struct host_delta, messages), by);
}

void
hosts_auths_add(struct sqlite_store *s, const struct md_flow *f)
{
	ends_add(s, f, offsetof(struct host_delta, auths), 1);
}

/* The log's triggers on this connection: off (the writer's sums) or on
 * again.  Its statements are prepared again when next run. */
void
hosts_triggers(struct sqlite_store *s, int on)
{
	if (s->sums != NULL && s->db != NULL)
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on,
		    NULL);
}

int
hosts_writer_open(struct sqlite_store *s, char *err, size_t errlen)
{
	struct host_sums *h = s->sums;

	if (h == NULL && (h = s->sums = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (db_prepare_each(s->db, sums_sql, h->st, HS_COUNT_OF, err, errlen) !=
	    0) {
		hosts_writer_close(s);
		return -1;
	}
	hosts_triggers(s, 0);
	return 0;
}

void
hosts_writer_close(struct sqlite_store *s)
{
	struct host_sums *h = s->sums;

	if (h != NULL)
		db_finalize_each(h->st, HS_COUNT_OF);
}

void
hosts_writer_free(struct sqlite_store *s)
{
	if (s->sums == NULL)
		return;
	hosts_writer_close(s);
	sums_clear(s->sums);
	free(s->sums->slot);
	free(s->sums);
	s->sums = NULL;
}
