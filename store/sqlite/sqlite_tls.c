/* \summary: SQLite store: TLS handshakes and certificates */
/*
 * A session's TLS events fill one tls row (the client's hello, then the
 * server's, alerts, and at TLS_END the outcome) and one certificates row
 * per certificate sent in clear.  At TLS_END the server's chain is
 * validated against the system's CA store at the capture's time, and
 * checked against the name the client asked for (SNI) and the one the
 * server gave in its greeting; what fails is also an anomaly.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_priv.h"
#include "dissect/tls.h"
#include "store/analyse/analyse.h"

#define CHAIN_MAX 16 /* certificates of a chain validated */

static void
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL && v[0] != '\0')
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_code_name(sqlite3_stmt *st, int i, uint16_t code,
    const char *(*name)(uint16_t))
{
	char hex[8];

	if (code == 0)
		return;
	if (name(code) != NULL) {
		bind_str(st, i, name(code));
		return;
	}
	snprintf(hex, sizeof(hex), "0x%04x", code);
	bind_str(st, i, hex);
}

static void
client_hello(struct sqlite_store *s, const struct md_event *ev)
{
	const struct md_tls_hello *h = ev->hello;
	sqlite3_stmt		  *st = s->st[ST_TLS_CLIENT];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
	bind_str(st, 3, h->sni);
	bind_str(st, 4, tls_version_name(h->version));
	bind_str(st, 5, h->versions);
	bind_str(st, 6, h->ciphers);
	bind_str(st, 7, h->groups);
	bind_str(st, 8, h->alpn);
	bind_str(st, 9, h->exts);
	bind_str(st, 10, h->sig_algs);
	bind_str(st, 11, h->session_id);
	sqlite3_bind_int(st, 12, h->ticket_data);
	sqlite3_bind_int(st, 13, h->psk);
	bind_str(st, 14, h->ja3_hash);
	bind_str(st, 15, h->ja3);
	bind_str(st, 16, h->ja4);
	db_run(s, ST_TLS_CLIENT);
}

static void
server_hello(struct sqlite_store *s, const struct md_event *ev)
{
	const struct md_tls_hello *h = ev->hello;
	sqlite3_stmt		  *st = s->st[ST_TLS_SERVER];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
	bind_str(st, 3, tls_version_name(h->version));
	bind_code_name(st, 4, h->cipher, tls_cipher_name);
	bind_code_name(st, 5, h->group, tls_group_name);
	bind_str(st, 6, h->alpn);
	bind_str(st, 7, h->exts);
	bind_str(st, 8, h->session_id);
	bind_str(st, 9, h->ja3_hash);
	bind_str(st, 10, h->ja3);
	sqlite3_bind_int(st, 11, h->hrr);
	db_run(s, ST_TLS_SERVER);
}

static void
bind_num(sqlite3_stmt *st, int i, long v, long none)
{
	if (v != none)
		sqlite3_bind_int64(st, i, v);
}

static void
certificate(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt	*st = s->st[ST_TLS_CERT];
	struct x509_info x;
	int		 ok = an_cert_read(ev->arg.p, ev->arg.len, &x) == 0;

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_text(st, 2, ev->dir == MD_S2C ? "server" : "client", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->num[0]);
	sqlite3_bind_double(st, 4, ts_sec(ev->ts_us));
	bind_str(st, 5, x.sha256);
	if (ok) {
		sqlite3_bind_int64(st, 6, x.version);
		bind_str(st, 7, x.serial);
		bind_str(st, 8, x.subject);
		bind_str(st, 9, x.issuer);
		if (x.not_before != 0)
			sqlite3_bind_double(st, 10, x.not_before);
		if (x.not_after != 0)
			sqlite3_bind_double(st, 11, x.not_after);
		bind_str(st, 12, x.key_alg);
		bind_str(st, 13, x.key_type);
		bind_num(st, 14, x.key_bits, 0);
		bind_str(st, 15, x.exponent);
		bind_str(st, 16, x.curve);
		bind_str(st, 17, x.sig_alg);
		bind_str(st, 18, x.san_dns);
		bind_str(st, 19, x.san_ip);
		bind_str(st, 20, x.san_email);
		bind_str(st, 21, x.san_uri);
		bind_num(st, 22, x.is_ca, -1);
		bind_num(st, 23, x.path_len, -1);
	}
	sqlite3_bind_blob(st, 24, ev->arg.p, (int)ev->arg.len,
	    SQLITE_TRANSIENT);
	db_run(s, ST_TLS_CERT); /* unreadable: the DER and its hash only */
}

static void
alert(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_TLS_ALERT];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
	db_bind_bytes(st, 3, ev->name);
	db_run(s, ST_TLS_ALERT);
}

/* The server's chain as logged, and the fingerprints of both chains. */
struct chain {
	uint8_t *der[CHAIN_MAX];
	size_t	 len[CHAIN_MAX], n;
	char	 fps[2][CHAIN_MAX * 65 + 1]; /* server, client */
};

static void
chain_load(struct sqlite_store *s, int64_t sid, struct chain *c)
{
	sqlite3_stmt *st = s->st[ST_TLS_CHAIN];

	memset(c, 0, sizeof(*c));
	sqlite3_bind_int64(st, 1, sid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int server = strcmp((const char *)sqlite3_column_text(st, 0),
				 "server") == 0;
		const char *fp = (const char *)sqlite3_column_text(st, 1);
		char	   *fps = c->fps[server ? 0 : 1];
		int	    n = sqlite3_column_bytes(st, 2);

		if (fp != NULL && strlen(fps) + 66 < sizeof(c->fps[0]))
			snprintf(fps + strlen(fps),
			    sizeof(c->fps[0]) - strlen(fps), "%s%s",
			    fps[0] ? "," : "", fp);
		if (!server || c->n == CHAIN_MAX || n <= 0 ||
		    (c->der[c->n] = malloc((size_t)n)) == NULL)
			continue;
		memcpy(c->der[c->n], sqlite3_column_blob(st, 2), (size_t)n);
		c->len[c->n++] = (size_t)n;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* The host name a greeting starts with ("220 mx.example.org ESMTP"). */
static void
greeting_host(const char *banner, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	if (banner == NULL)
		return;
	while (banner[n] != '\0' && banner[n] != ' ' && n + 1 < cap)
		n++;
	if (memchr(banner, '.', n) == NULL || banner[0] == '[')
		return;
	memcpy(out, banner, n);
	out[n] = '\0';
}

static void
tls_anomaly(struct sqlite_store *s, const struct md_event *ev, const char *name,
    const char *detail)
{
	sqlite3_stmt *st = s->st[ST_ANOMALY];

	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
	sqlite3_bind_text(st, 3, "s2c", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	bind_str(st, 5, detail);
	if (db_run(s, ST_ANOMALY) == 0)
		stats_anomaly_added(s, sqlite3_last_insert_rowid(s->db));
	s->stats.anomalies++;
}

/* Validates the server's chain; fills verdict and the name matches. */
static const char *
validate(struct sqlite_store *s, const struct md_event *ev, struct chain *c,
    int match[2])
{
	sqlite3_stmt *st = s->st[ST_TLS_NAMES];
	char	      sni[256] = "", host[256] = "";
	const char   *names[2] = { sni, host }, *v = NULL;
	double	      when = ts_sec(ev->ts_us);

	match[0] = match[1] = -1;
	sqlite3_bind_int64(st, 1, session_id(s, ev));
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_text(st, 0) != NULL)
			snprintf(sni, sizeof(sni), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			when = sqlite3_column_double(st, 1);
		greeting_host((const char *)sqlite3_column_text(st, 2), host,
		    sizeof(host));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (c->n == 0)
		return NULL;
	v = an_chain_verdict(s->an, (const uint8_t *const *)c->der, c->len,
	    c->n, when, names, match, 2);
	if (strcmp(v, "ok") != 0)
		tls_anomaly(s, ev, MD_ANOM_TLS_CERT_INVALID, v);
	if (match[0] == 0)
		tls_anomaly(s, ev, MD_ANOM_TLS_CERT_NAME, sni);
	if (match[1] == 0)
		tls_anomaly(s, ev, MD_ANOM_TLS_CERT_NAME, host);
	return v;
}

static void
tls_end(struct sqlite_store *s, const struct md_event *ev)
{
	sqlite3_stmt *st = s->st[ST_TLS_END];
	struct chain *c = malloc(sizeof(*c));
	const char   *verdict = NULL;
	int	      match[2] = { -1, -1 };

	if (c == NULL) {
		s->stats.errors++;
		return;
	}
	chain_load(s, session_id(s, ev), c);
	verdict = validate(s, ev, c, match);
	sqlite3_bind_int64(st, 1, session_id(s, ev));
	sqlite3_bind_double(st, 2, ts_sec(ev->ts_us));
	sqlite3_bind_int(st, 3, ev->code != 0);
	sqlite3_bind_int(st, 4, ev->num[0] != 0);
	bind_code_name(st, 5, (uint16_t)ev->num[1], tls_group_name);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)ev->num[2]);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)ev->num[3]);
	bind_str(st, 8, c->fps[0]);
	bind_str(st, 9, c->fps[1]);
	bind_str(st, 10, verdict);
	bind_num(st, 11, match[0], -1);
	bind_num(st, 12, match[1], -1);
	db_bind_text(st, 13, ev->name);
	db_run(s, ST_TLS_END);
	for (size_t i = 0; i < c->n; i++)
		free(c->der[i]);
	free(c);
}

void
db_tls_event(struct sqlite_store *s, const struct md_event *ev)
{
	switch (ev->type) {
	case MD_EV_TLS_HELLO:
		if (ev->hello == NULL)
			return;
		if (ev->dir == MD_C2S)
			client_hello(s, ev);
		else
			server_hello(s, ev);
		break;
	case MD_EV_TLS_CERT:
		certificate(s, ev);
		break;
	case MD_EV_TLS_ALERT:
		alert(s, ev);
		break;
	case MD_EV_TLS_END:
		tls_end(s, ev);
		break;
	default:
		break;
	}
}
