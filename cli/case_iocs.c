/* \summary: mailsift case iocs: a selection's indicators, STIX 2.1 or MISP */
/*
 * The indicators of the messages selected (as case export selects them)
 * for the platforms analysts share them on:
 *
 *   --stix  a STIX 2.1 bundle: email-message with its email-addr (from,
 *           to, cc), the file of each attachment (SHA-256, MD5, size,
 *           name, type by content), url and domain-name of each link,
 *           the session as network-traffic between ipv4/ipv6-addr, the
 *           x509-certificate of its TLS; an observed-data per message
 *           (when, and what) and relationships from the links, files and
 *           certificates to what carried them.  Observables have the
 *           deterministic UUIDv5 ids of STIX 2.1 section 2.9 (the same
 *           value, the same id, across exports).
 *   --misp  a MISP event: attributes with the types and categories of
 *           MISP's describeTypes, to_ids as its defaults say, each with
 *           a comment naming the message or session it came from.
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/case.h"
#include "cli/cli.h"

/* STIX 2.1 2.9: the namespace of observables' UUIDv5 ids. */
static const unsigned char stix_ns[16] = { 0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42,
	0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7 };

static void
uuid_text(const unsigned char u[16], char out[37])
{
	for (int i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		snprintf(out + o, 3, "%02x", u[i]);
		o += 2;
	}
}

/* A random (version 4) UUID, for objects that are not observables. */
static void
uuid4(char out[37])
{
	unsigned char u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
		abort();
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	uuid_text(u, out);
}

/* TYPE--UUIDv5 of the observable's identifying properties, written as
 * canonical JSON (sorted keys, no spaces: RFC 8785 for these values). */
static json_t *
sco_id(const char *type, json_t *contributing)
{
	char *canon = json_dumps(contributing, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  n = 0;
	EVP_MD_CTX   *ctx = EVP_MD_CTX_new();
	char	      text[37], id[96];

	if (canon == NULL || ctx == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, stix_ns, sizeof(stix_ns)) != 1 ||
	    EVP_DigestUpdate(ctx, canon, strlen(canon)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &n) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	free(canon);
	md[6] = (md[6] & 0x0f) | 0x50;
	md[8] = (md[8] & 0x3f) | 0x80;
	uuid_text(md, text);
	snprintf(id, sizeof(id), "%s--%s", type, text);
	json_decref(contributing);
	return json_string(id);
}

/* ------------------------------------------------------------ STIX */

struct stix {
	json_t *objects; /* the bundle's */
	json_t *seen;	 /* id -> the observable: each once */
	char	now[32]; /* created, modified */
};

/* Adds the observable o (its id made from contributing) once; returns
 * its id, which lives as long as the bundle. */
static const char *
sco_add(struct stix *x, const char *type, json_t *o, json_t *contributing)
{
	json_t	   *id = sco_id(type, contributing);
	const char *key = json_string_value(id);
	json_t	   *have = json_object_get(x->seen, key);

	if (have == NULL) {
		json_object_set_new(o, "type", json_string(type));
		json_object_set_new(o, "spec_version", json_string("2.1"));
		json_object_set(o, "id", id);
		json_object_set(x->seen, key, o);
		json_array_append(x->objects, o);
		have = o;
	}
	json_decref(o);
	json_decref(id);
	return json_string_value(json_object_get(have, "id"));
}

static const char *
sco_value(struct stix *x, const char *type, const char *value)
{
	return sco_add(x, type, json_pack("{s:o}", "value", jtext(value)),
	    json_pack("{s:o}", "value", jtext(value)));
}

static const char *
sco_ip(struct stix *x, const char *ip)
{
	return sco_value(x, strchr(ip, ':') != NULL ? "ipv6-addr" : "ipv4-addr",
	    ip);
}

/* A relationship object (an SRO: a random id). */
static void
sro(struct stix *x, const char *type, const char *from, const char *to)
{
	char id[64], u[37];

	uuid4(u);
	snprintf(id, sizeof(id), "relationship--%s", u);
	json_array_append_new(x->objects,
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
		"relationship", "spec_version", "2.1", "id", id, "created",
		x->now, "modified", x->now, "relationship_type", type,
		"source_ref", from, "target_ref", to));
}

/* Each address of a header's list (a, "B" <b>, ...): the address, and
 * the display name when there is one. */
typedef void (*addr_fn)(void *arg, const char *name, const char *addr);

static void
trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (
	    n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '"')
		i++;
	memmove(s, s + i, n - i + 1);
}

static void
one_addr(char *item, addr_fn fn, void *arg)
{
	char *lt = strrchr(item, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		*gt = '\0';
		*lt = '\0';
		trim(item);
		trim(lt + 1);
		if (strchr(lt + 1, '@') != NULL)
			fn(arg, item[0] ? item : NULL, lt + 1);
		return;
	}
	trim(item);
	if (strchr(item, '@') != NULL && strchr(item, ' ') == NULL)
		fn(arg, NULL, item);
}

static void
each_addr(const char *list, addr_fn fn, void *arg)
{
	char *copy, *item;
	int   quoted = 0, angle = 0;

	if (list == NULL || (copy = strdup(list)) == NULL)
		return;
	item = copy;
	for (char *p = copy; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '<' && !quoted)
			angle = 1;
		else if (*p == '>' && !quoted)
			angle = 0;
		else if (*p == ',' && !quoted && !angle) {
			*p = '\0';
			one_addr(item, fn, arg);
			item = p + 1;
		}
	}
	one_addr(item, fn, arg);
	free(copy);
}

struct addr_refs {
	struct stix *x;
	json_t	    *refs;  /* ids of the addresses */
	json_t	    *where; /* observed-data's object_refs */
};

static void
add_addr(void *arg, const char *name, const char *addr)
{
	struct addr_refs *r = arg;
	json_t		 *o = json_pack("{s:o}", "value", jtext(addr));
	const char	 *id;

	if (name != NULL)
		json_object_set_new(o, "display_name", jtext(name));
	id = sco_add(r->x, "email-addr", o,
	    json_pack("{s:o}", "value", jtext(addr)));
	json_array_append_new(r->refs, json_string(id));
	json_array_append_new(r->where, json_string(id));
	const char *at = strrchr(addr, '@');
	if (at != NULL && at[1] != '\0')
		json_array_append_new(r->where,
		    json_string(sco_value(r->x, "domain-name", at + 1)));
}

/* Times of the log's UTC date ("YYYY-MM-DD HH:MM:SS") as STIX wants. */
static json_t *
stix_date(const char *d)
{
	char buf[40];

	if (d == NULL || strlen(d) != 19)
		return NULL;
	snprintf(buf, sizeof(buf), "%.10sT%.8sZ", d, d + 11);
	return json_string(buf);
}

static json_t *
stix_ts(double ts)
{
	char buf[48];

	iso_time(ts, buf, sizeof(buf));
	/* STIX: at most millisecond precision is portable; keep it */
	memcpy(buf + 23, "Z", 2);
	return json_string(buf);
}

/* The files of a message's attachments, as body_multipart parts. */
static json_t *
stix_files(struct stix *x, struct query *db, long mid, json_t *where,
    const char *msg_id)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT filename, sha256, md5, size, coalesce(magic_type,"
	    " content_type), content_type, disposition FROM parts"
	    " WHERE message_id = ?1 AND filename IS NOT NULL"
	    " AND sha256 IS NOT NULL ORDER BY part");
	json_t		  *body = json_array();

	if (st == NULL)
		return body;
	query_bind_int(st, 1, mid);
	while (query_next(st) == 1) {
		json_t *hashes = json_pack("{s:o, s:o}", "SHA-256",
		    jcol_text(st, 1), "MD5", jcol_text(st, 2));
		json_t *f = json_pack("{s:O, s:o, s:o, s:o}", "hashes", hashes,
		    "size", jcol_int(st, 3), "name", jcol_text(st, 0),
		    "mime_type", jcol_text(st, 4));
		const char *id = sco_add(x, "file", f,
		    json_pack("{s:o, s:o}", "hashes", hashes, "name",
			jcol_text(st, 0)));
		char	    disp[600];

		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    query_text(st, 0));
		json_array_append_new(where, json_string(id));
		json_array_append_new(body,
		    json_pack("{s:o, s:o, s:s}", "content_type",
			jcol_text(st, 5), "content_disposition", jtext(disp),
			"body_raw_ref", id));
		sro(x, "related-to", id, msg_id);
	}
	query_finish(st);
	return body;
}

static void
stix_urls(struct stix *x, struct query *db, long mid, json_t *where,
    const char *msg_id)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT DISTINCT url, host FROM urls WHERE message_id = ?1"
	    " AND truncated = 0 AND kind <> 'mailto' ORDER BY n");

	if (st == NULL)
		return;
	query_bind_int(st, 1, mid);
	while (query_next(st) == 1) {
		const char *id = sco_value(x, "url", query_text(st, 0));

		json_array_append_new(where, json_string(id));
		sro(x, "related-to", id, msg_id);
		if (query_text(st, 1) != NULL && query_text(st, 1)[0] != '\0')
			json_array_append_new(where,
			    json_string(sco_value(x, "domain-name",
				query_text(st, 1))));
	}
	query_finish(st);
}

/* The session as network-traffic, its certificates; ids into where. */
static void
stix_session(struct stix *x, struct query *db, long sid, json_t *where)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT host(client_ip), client_port, host(server_ip), server_port,"
	    " proto, start_ts, end_ts FROM sessions WHERE id = ?1");
	const char	  *src, *dst, *nt;

	if (st == NULL)
		return;
	query_bind_int(st, 1, sid);
	if (query_next(st) != 1) {
		query_finish(st);
		return;
	}
	src = sco_ip(x, query_text(st, 0));
	dst = sco_ip(x, query_text(st, 2));
	{
		json_t *protos = json_pack("[s, s, s]",
		    strchr(query_text(st, 0), ':') ? "ipv6" : "ipv4", "tcp",
		    query_text(st, 4));
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}",
		    "src_ref", src, "dst_ref", dst, "src_port",
		    (json_int_t)query_int(st, 1), "dst_port",
		    (json_int_t)query_int(st, 3), "protocols", protos, "start",
		    stix_ts(query_real(st, 5)));

		if (query_type(st, 6) != QUERY_NULL)
			json_object_set_new(o, "end",
			    stix_ts(query_real(st, 6)));
		/* its identity: every property it has but the type's own */
		nt = sco_add(x, "network-traffic", o, json_deep_copy(o));
	}
	json_array_append_new(where, json_string(src));
	json_array_append_new(where, json_string(dst));
	json_array_append_new(where, json_string(nt));
	query_finish(st);
	if ((st = query_prepare(db,
		 "SELECT sha256, serial, subject, issuer, not_before, not_after"
		 " FROM certificates WHERE session_id = ?1 ORDER BY sender,"
		 " idx")) == NULL)
		return;
	query_bind_int(st, 1, sid);
	while (query_next(st) == 1) {
		json_t	   *h = json_pack("{s:o}", "SHA-256", jcol_text(st, 0));
		json_t	   *c = json_pack("{s:O}", "hashes", h);
		const char *id;

		if (query_text(st, 1) != NULL)
			json_object_set_new(c, "serial_number",
			    jcol_text(st, 1));
		if (query_text(st, 2) != NULL)
			json_object_set_new(c, "subject", jcol_text(st, 2));
		if (query_text(st, 3) != NULL)
			json_object_set_new(c, "issuer", jcol_text(st, 3));
		if (query_type(st, 4) != QUERY_NULL)
			json_object_set_new(c, "validity_not_before",
			    stix_ts(query_real(st, 4)));
		if (query_type(st, 5) != QUERY_NULL)
			json_object_set_new(c, "validity_not_after",
			    stix_ts(query_real(st, 5)));
		id = sco_add(x, "x509-certificate", c,
		    json_pack("{s:O}", "hashes", h));
		json_decref(h);
		json_array_append_new(where, json_string(id));
		sro(x, "related-to", id, nt);
	}
	query_finish(st);
}

static void
stix_message(struct stix *x, struct query *db, long mid)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT session_id, subject, from_addr, to_addrs, cc_addrs,"
	    " msg_id, date_utc, mailer, reply_to, begin_ts,"
	    " coalesce(end_ts, begin_ts), x_originating_ip, parts"
	    " FROM messages WHERE id = ?1");
	json_t		  *where = json_array(), *m, *from = json_array(),
	       *to = json_array(), *cc = json_array(), *hdr = json_object(),
	       *date;
	struct addr_refs r = { x, from, where };
	const char	*id;
	char		 od[64], u[37];

	if (st == NULL)
		return;
	query_bind_int(st, 1, mid);
	if (query_next(st) != 1) {
		query_finish(st);
		json_decref(where);
		return;
	}
	each_addr(query_text(st, 2), add_addr, &r);
	r.refs = to;
	each_addr(query_text(st, 3), add_addr, &r);
	r.refs = cc;
	each_addr(query_text(st, 4), add_addr, &r);
	m = json_pack("{s:b}", "is_multipart", query_int(st, 12) > 1);
	if (json_array_size(from) > 0)
		json_object_set(m, "from_ref", json_array_get(from, 0));
	if (json_array_size(to) > 0)
		json_object_set(m, "to_refs", to);
	if (json_array_size(cc) > 0)
		json_object_set(m, "cc_refs", cc);
	if (query_text(st, 1) != NULL)
		json_object_set_new(m, "subject", jcol_text(st, 1));
	if (query_text(st, 5) != NULL)
		json_object_set_new(m, "message_id", jcol_text(st, 5));
	if ((date = stix_date(query_text(st, 6))) != NULL)
		json_object_set_new(m, "date", date);
	/* one value each: a string (a list only for two or more) */
	if (query_text(st, 7) != NULL)
		json_object_set_new(hdr, "X-Mailer", jcol_text(st, 7));
	if (query_text(st, 8) != NULL)
		json_object_set_new(hdr, "Reply-To", jcol_text(st, 8));
	if (json_object_size(hdr) > 0)
		json_object_set(m, "additional_header_fields", hdr);
	/* its identity (STIX 2.1's contributing properties): who sent it,
	 * what it said; its Message-ID too, so that two messages alike in
	 * those stay two */
	{
		json_t *ident = json_object();

		for (const char *k = "from_ref\0subject\0message_id\0"; *k;
		     k += strlen(k) + 1)
			if (json_object_get(m, k) != NULL)
				json_object_set(ident, k,
				    json_object_get(m, k));
		id = sco_add(x, "email-message", json_deep_copy(m), ident);
	}
	json_array_append_new(where, json_string(id));
	{ /* the files it carried, in the message as first seen */
		json_t *body = stix_files(x, db, mid, where, id);
		json_t *o = json_object_get(x->seen, id);

		if (json_array_size(body) > 0 &&
		    json_is_true(json_object_get(o, "is_multipart")))
			json_object_set(o, "body_multipart", body);
		json_decref(body);
	}
	stix_urls(x, db, mid, where, id);
	if (query_text(st, 11) != NULL && query_text(st, 11)[0] != '\0')
		json_array_append_new(where,
		    json_string(sco_ip(x, query_text(st, 11))));
	stix_session(x, db, (long)query_int(st, 0), where);
	uuid4(u);
	snprintf(od, sizeof(od), "observed-data--%s", u);
	json_array_append_new(x->objects,
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:O}", "type",
		"observed-data", "spec_version", "2.1", "id", od, "created",
		x->now, "modified", x->now, "first_observed",
		stix_ts(query_real(st, 9)), "last_observed",
		stix_ts(query_real(st, 10)), "number_observed", 1,
		"object_refs", where));
	query_finish(st);
	json_decref(where);
	json_decref(m);
	json_decref(from);
	json_decref(to);
	json_decref(cc);
	json_decref(hdr);
}

static json_t *
stix_bundle(struct query *db, const struct ids *mids)
{
	struct stix x = { json_array(), json_object(), "" };
	time_t	    t = time(NULL);
	struct tm   tm;
	char	    id[64], u[37];

	gmtime_r(&t, &tm);
	strftime(x.now, sizeof(x.now), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	for (size_t i = 0; i < mids->n; i++)
		stix_message(&x, db, mids->v[i]);
	uuid4(u);
	snprintf(id, sizeof(id), "bundle--%s", u);
	json_decref(x.seen);
	return json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", id,
	    "objects", x.objects);
}

/* ------------------------------------------------------------ MISP */

/* The attribute types used, with MISP's default category and to_ids
 * (describeTypes.json's sane_defaults). */
static const struct misp_type {
	const char *type, *category;
	int	    to_ids;
} misp_types[] = {
	{ "email-src", "Payload delivery", 1 },
	{ "email-dst", "Network activity", 1 },
	{ "email-subject", "Payload delivery", 0 },
	{ "email-message-id", "Payload delivery", 0 },
	{ "email-x-mailer", "Payload delivery", 0 },
	{ "email-reply-to", "Payload delivery", 0 },
	{ "email-attachment", "Payload delivery", 1 },
	{ "filename|sha256", "Payload delivery", 1 },
	{ "filename|md5", "Payload delivery", 1 },
	{ "url", "Network activity", 1 },
	{ "domain", "Network activity", 1 },
	{ "ip-src", "Network activity", 1 },
	{ "ip-dst", "Network activity", 1 },
	{ "x509-fingerprint-sha256", "Network activity", 1 },
	{ "ja3-fingerprint-md5", "Network activity", 1 },
};

struct misp {
	json_t *attrs;
	json_t *seen; /* "type value" -> 1 */
};

static void
misp_add(struct misp *e, const char *type, const char *value,
    const char *comment)
{
	const struct misp_type *t = NULL;
	char		       *key, u[37];
	json_t		       *v = NULL;

	if (value == NULL || value[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof(misp_types) / sizeof(*misp_types); i++)
		if (strcmp(misp_types[i].type, type) == 0)
			t = &misp_types[i];
	if (t == NULL || (v = jtext(value)) == NULL || json_is_null(v) ||
	    asprintf(&key, "%s %s", type, json_string_value(v)) < 0) {
		json_decref(v);
		return;
	}
	if (json_object_get(e->seen, key) == NULL) {
		json_object_set_new(e->seen, key, json_true());
		uuid4(u);
		json_array_append_new(e->attrs,
		    json_pack("{s:s, s:s, s:s, s:O, s:b, s:o, s:s}", "uuid", u,
			"type", type, "category", t->category, "value", v,
			"to_ids", t->to_ids, "comment", jtext(comment),
			"distribution", "5"));
	}
	free(key);
	json_decref(v);
}

struct misp_addr {
	struct misp *e;
	const char  *type, *comment;
};

static void
misp_addr(void *arg, const char *name, const char *addr)
{
	struct misp_addr *a = arg;

	(void)name;
	misp_add(a->e, a->type, addr, a->comment);
}

static void
misp_rows(struct misp *e, struct query *db, const char *sql, long id,
    const char *const *types, int n, const char *comment)
{
	struct query_rows *st = query_prepare(db, sql);

	if (st == NULL)
		return;
	query_bind_int(st, 1, id);
	while (query_next(st) == 1)
		for (int i = 0; i < n; i++)
			if (types[i] != NULL)
				misp_add(e, types[i], query_text(st, i),
				    comment);
	query_finish(st);
}

static void
misp_message(struct misp *e, struct query *db, long mid)
{
	struct query_rows	*st = query_prepare(db,
		  "SELECT m.from_addr, m.to_addrs, m.cc_addrs, m.subject, m.msg_id,"
			" m.mailer, m.reply_to, m.session_id, host(s.client_ip),"
			" host(s.server_ip), m.x_originating_ip FROM messages m"
			" JOIN sessions s ON s.id = m.session_id WHERE m.id = ?1");
	static const char *const parts[] = { "email-attachment" };
	static const char *const links[] = { "url", "domain" };
	static const char *const certs[] = { "x509-fingerprint-sha256" };
	static const char *const ja3[] = { "ja3-fingerprint-md5" };
	char			 comment[96], fsha[1100];
	struct misp_addr	 a = { e, "email-src", comment };

	if (st == NULL)
		return;
	query_bind_int(st, 1, mid);
	if (query_next(st) != 1) {
		query_finish(st);
		return;
	}
	snprintf(comment, sizeof(comment), "mailsift message %ld, session %lld",
	    mid, (long long)query_int(st, 7));
	each_addr(query_text(st, 0), misp_addr, &a);
	a.type = "email-dst";
	each_addr(query_text(st, 1), misp_addr, &a);
	each_addr(query_text(st, 2), misp_addr, &a);
	a.type = "email-reply-to";
	each_addr(query_text(st, 6), misp_addr, &a);
	misp_add(e, "email-subject", query_text(st, 3), comment);
	misp_add(e, "email-message-id", query_text(st, 4), comment);
	misp_add(e, "email-x-mailer", query_text(st, 5), comment);
	misp_add(e, "ip-src", query_text(st, 8), comment);
	misp_add(e, "ip-dst", query_text(st, 9), comment);
	misp_add(e, "ip-src", query_text(st, 10), comment);
	misp_rows(e, db,
	    "SELECT filename FROM parts WHERE message_id = ?1"
	    " AND filename IS NOT NULL ORDER BY part",
	    mid, parts, 1, comment);
	{
		struct query_rows *pt = query_prepare(db,
		    "SELECT filename, sha256, md5 FROM parts WHERE message_id ="
		    " ?1 AND filename IS NOT NULL AND sha256 IS NOT NULL"
		    " ORDER BY part");

		if (pt != NULL) {
			query_bind_int(pt, 1, mid);
			while (query_next(pt) == 1) {
				snprintf(fsha, sizeof(fsha), "%s|%s",
				    query_text(pt, 0), query_text(pt, 1));
				misp_add(e, "filename|sha256", fsha, comment);
				snprintf(fsha, sizeof(fsha), "%s|%s",
				    query_text(pt, 0), query_text(pt, 2));
				misp_add(e, "filename|md5", fsha, comment);
			}
		}
		query_finish(pt);
	}
	misp_rows(e, db,
	    "SELECT url, host FROM urls WHERE message_id = ?1 AND truncated = 0"
	    " AND kind <> 'mailto' ORDER BY n",
	    mid, links, 2, comment);
	misp_rows(e, db,
	    "SELECT sha256 FROM certificates WHERE session_id = ?1 ORDER BY"
	    " sender, idx",
	    (long)query_int(st, 7), certs, 1, comment);
	misp_rows(e, db, "SELECT ja3 FROM tls WHERE session_id = ?1",
	    (long)query_int(st, 7), ja3, 1, comment);
	query_finish(st);
}

static json_t *
misp_event(struct query *db, const struct ids *mids, const char *logp)
{
	struct misp e = { json_array(), json_object() };
	time_t	    t = time(NULL);
	struct tm   tm;
	char	    date[16], stamp[24], info[512], u[37];

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(stamp, sizeof(stamp), "%lld", (long long)t);
	snprintf(info, sizeof(info), "mailsift: %zu messages from %s", mids->n,
	    logp);
	for (size_t i = 0; i < mids->n; i++)
		misp_message(&e, db, mids->v[i]);
	uuid4(u);
	json_decref(e.seen);
	/* threat level 4: undefined; analysis 0: initial; distribution 0:
	 * this organisation only, until the analyst decides */
	return json_pack("{s:{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:b, s:o}}",
	    "Event", "uuid", u, "info", jtext(info), "date", date, "timestamp",
	    stamp, "threat_level_id", "4", "analysis", "0", "distribution", "0",
	    "published", 0, "Attribute", e.attrs);
}

/* ------------------------------------------------------------ command */

int
case_iocs(int argc, char **argv)
{
	static const struct option longs[] = { { "db", 1, NULL, 'd' },
		{ "output", 1, NULL, 'o' }, { "message", 1, NULL, 'm' },
		{ "session", 1, NULL, 's' }, { "search", 1, NULL, 'q' },
		{ "stix", 0, NULL, 'S' }, { "misp", 0, NULL, 'M' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *logp = "mailsift.db", *out = NULL, *search = NULL;
	char	  **msg = calloc((size_t)argc + 1, sizeof(char *)),
	     **ses = calloc((size_t)argc + 1, sizeof(char *));
	int	      nmsg = 0, nses = 0, c, fmt = 0, rc = EXIT_OK;
	struct ids    mids = { 0 }, sids = { 0 };
	struct query *db;
	json_t	     *doc;

	if (msg == NULL || ses == NULL) {
		fprintf(stderr, "mailsift: out of memory\n");
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:h", longs, NULL)) != -1)
		switch (c) {
		case 'd':
			logp = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			msg[nmsg++] = optarg;
			break;
		case 's':
			ses[nses++] = optarg;
			break;
		case 'q':
			search = optarg;
			break;
		case 'S':
		case 'M':
			fmt = c;
			break;
		case 'h':
			printf("usage: mailsift case iocs --stix|--misp [-d "
			       "LOG.db] [-o FILE] [--message N]...\n"
			       "                          [--session N]... "
			       "[--search QUERY]\n"
			       "The indicators of the messages selected "
			       "(default all): a STIX 2.1 bundle, or a\n"
			       "MISP event, as JSON on standard output or "
			       "into FILE.\n");
			free(msg);
			free(ses);
			return EXIT_OK;
		default:
			fmt = -1;
		}
	if (fmt <= 0 || optind != argc) {
		fprintf(stderr,
		    "usage: mailsift case iocs --stix|--misp "
		    "[-d LOG.db] [-o FILE] [selection]\n");
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	if ((db = cli_open_log(logp)) == NULL ||
	    select_ids(db, nmsg, msg, nses, ses, search, &mids, &sids) != 0) {
		query_close(db);
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	doc = fmt == 'S' ? stix_bundle(db, &mids) : misp_event(db, &mids, logp);
	if ((out != NULL ? json_dump_file(doc, out, JSON_INDENT(1)) :
			   json_dumpf(doc, stdout, JSON_INDENT(1))) != 0) {
		fprintf(stderr, "mailsift: %s: cannot write\n",
		    out != NULL ? out : "standard output");
		rc = EXIT_USAGE;
	}
	if (out == NULL)
		putchar('\n');
	json_decref(doc);
	query_close(db);
	free(mids.v);
	free(sids.v);
	free(msg);
	free(ses);
	return rc;
}
