/* \summary: the search language of mailsift search and serve */
/*
 * What analysts type: words and "phrases" are text, taken literally
 * (never full-text syntax: "user@example.com" and "Re: Testing" are what
 * they say); FIELD:VALUE looks a message up by what it is, through the
 * indexes rather than the text index:
 *
 *   from: to: subject: msgid:   the header's value, a part (or a * ? pattern)
 *   file:                       an attachment's or archived file's name
 *   sha256: md5: sha1:          the message, a part or an archived file
 *   ip:                         either end of its session (CIDR too)
 *   user:                       the session's user
 *   url:                        a link in it (a part of the URL)
 *   addr:                       From, To or Cc
 *   hash:                       any of the hashes above
 *
 * A word that is an address, a hash or an IP is looked up as addr:,
 * hash: or ip: without being told.
 *
 * All terms must hold.  Pieces (TOP, partial FETCH) are left out, as in
 * mailsift messages.  The same for SQLite and PostgreSQL: the backend
 * gives only the text match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/listings.h"
#include "cli/search.h"

#define TERMS_MAX 16

struct field {
	const char *name;
	const char *sql; /* ?N stands for the value (numbered by the caller) */
	int	    kind;
};

enum { TEXT_LIKE, HASH, ADDRESS };

static int value_ok(int kind, const char *v);

#define LIKE_OF(col) "lower(" col ") LIKE lower(?N) ESCAPE '\\'"

static const struct field fields[] = {
	{ "from", LIKE_OF("m.from_addr"), TEXT_LIKE },
	{ "to", LIKE_OF("m.to_addrs"), TEXT_LIKE },
	{ "subject", LIKE_OF("m.subject"), TEXT_LIKE },
	{ "msgid", LIKE_OF("m.msg_id"), TEXT_LIKE },
	{ "user", LIKE_OF("s.username"), TEXT_LIKE },
	{ "file",
	    "(m.id IN (SELECT p.message_id FROM parts p WHERE " LIKE_OF(
		"p.filename") ") OR m.id IN (SELECT e.message_id FROM"
			      " archive_entries e WHERE " LIKE_OF(
				  "e.path") "))",
	    TEXT_LIKE },
	{ "url",
	    "m.id IN (SELECT u.message_id FROM urls u WHERE " LIKE_OF(
		"u.url") ")",
	    TEXT_LIKE },
	{ "sha256",
	    "(m.sha256 = lower(?N) OR m.id IN (SELECT p.message_id FROM parts p"
	    " WHERE p.sha256 = lower(?N)) OR m.id IN (SELECT e.message_id"
	    " FROM archive_entries e WHERE e.sha256 = lower(?N)))",
	    HASH },
	{ "md5",
	    "m.id IN (SELECT p.message_id FROM parts p WHERE p.md5 = lower(?N))",
	    HASH },
	{ "sha1",
	    "m.id IN (SELECT p.message_id FROM parts p WHERE p.sha1 ="
	    " lower(?N))",
	    HASH },
	{ "ip", "(in_net(s.client_ip, ?N) OR in_net(s.server_ip, ?N))",
	    ADDRESS },
	{ "addr",
	    "(" LIKE_OF("m.from_addr") " OR " LIKE_OF(
		"m.to_addrs") " OR " LIKE_OF("m.cc_addrs") ")",
	    TEXT_LIKE },
	{ "hash",
	    "(m.sha256 = lower(?N) OR m.id IN (SELECT p.message_id FROM parts p"
	    " WHERE p.sha256 = lower(?N) OR p.md5 = lower(?N) OR p.sha1 ="
	    " lower(?N)) OR m.id IN (SELECT e.message_id FROM archive_entries e"
	    " WHERE e.sha256 = lower(?N)))",
	    HASH },
};

/* A word that is an address, a hash or an IP is looked up as one (by
 * the indexes), not as text: the text index has no headers' addresses
 * and splits them into words. */
static const char *
field_of_word(const char *w)
{
	if (strchr(w, ' ') != NULL)
		return NULL;
	if (value_ok(HASH, w))
		return "hash";
	if (value_ok(ADDRESS, w) && strchr(w, '/') == NULL)
		return "ip";
	if (strchr(w, '@') != NULL && w[0] != '@')
		return "addr";
	return NULL;
}

static int
value_ok(int kind, const char *v)
{
	if (*v == '\0')
		return 0;
	if (kind == HASH)
		return listing_hash_ok(v) == 0;
	if (kind == ADDRESS)
		return listing_net_ok(v) == 0;
	return 1;
}

/* The next term of *p: a "phrase" or a word (FIELD:"a value" too) into
 * out; 0 at the end, -1 on a quote left open. */
static int
next_term(const char **p, char *out, size_t len)
{
	const char *s = *p;
	size_t	    k = 0;
	int	    quoted = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s != '\0' && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (k + 1 < len)
			out[k++] = *s;
	}
	out[k] = '\0';
	*p = s;
	return quoted ? -1 : 1;
}

/* The text terms in FTS5's syntax: each a quoted string, so that no
 * character of the analyst's is an operator. */
static void
fts_quote(const char *term, char *out, size_t len, size_t *k)
{
	if (*k + 4 >= len)
		return;
	if (*k > 0)
		out[(*k)++] = ' ';
	out[(*k)++] = '"';
	for (; *term != '\0' && *k + 3 < len; term++) {
		if (*term == '"')
			out[(*k)++] = '"';
		out[(*k)++] = *term;
	}
	out[(*k)++] = '"';
	out[*k] = '\0';
}

/* fields[i].sql with its ?N as ?n, after " AND " into conds. */
static void
add_condition(char *conds, size_t len, const char *sql, int n)
{
	size_t c = strlen(conds);

	c += (size_t)snprintf(conds + c, len - c, " AND ");
	for (const char *s = sql; *s != '\0' && c + 8 < len; s++)
		if (s[0] == '?' && s[1] == 'N') {
			c += (size_t)snprintf(conds + c, len - c, "?%d", n);
			s++;
		} else
			conds[c++] = *s;
	conds[c] = '\0';
}

struct query_rows *
search_prepare(struct query *db, const char *q, long limit, char *err,
    size_t errlen)
{
	char	    sql[12288], text[2048] = "", term[1024];
	char	    conds[8192] = "", vals[TERMS_MAX][1024];
	const char *p = q, *fts = query_search_sql(db);
	size_t	    tk = 0;
	int	    nvals = 0, r;
	/* PostgreSQL's websearch takes the text as typed, quotes and all */
	int		   websearch = strstr(fts, "websearch") != NULL;
	struct query_rows *st;

	while ((r = next_term(&p, term, sizeof(term))) != 0) {
		const char *colon = strchr(term, ':');
		size_t	    nf = sizeof(fields) / sizeof(*fields), i = nf;

		if (r < 0) {
			snprintf(err, errlen, "a quote left open in: %s", q);
			return NULL;
		}
		const char *auto_field = field_of_word(term);
		const char *value = colon != NULL ? colon + 1 : term;

		for (size_t k = 0; colon != NULL && k < nf; k++)
			if (strlen(fields[k].name) == (size_t)(colon - term) &&
			    strncasecmp(term, fields[k].name,
				(size_t)(colon - term)) == 0)
				i = k;
		for (size_t k = 0; i == nf && auto_field != NULL && k < nf; k++)
			if (strcmp(fields[k].name, auto_field) == 0)
				i = k, value = term;
		if (i == nf) { /* text, literally */
			if (websearch) {
				tk += (size_t)snprintf(text + tk,
				    sizeof(text) - tk, "%s\"%s\"",
				    tk ? " " : "", term);
				if (tk >= sizeof(text))
					tk = sizeof(text) - 1;
			} else
				fts_quote(term, text, sizeof(text), &tk);
			continue;
		}
		if (nvals == TERMS_MAX) {
			snprintf(err, errlen, "%d field terms at most",
			    TERMS_MAX);
			return NULL;
		}
		if (!value_ok(fields[i].kind, value)) {
			snprintf(err, errlen, "%s: %s", term,
			    fields[i].kind == HASH ?
				"not an MD5, SHA-1 or SHA-256 in hex" :
				fields[i].kind == ADDRESS ?
				"not an address or a network" :
				"no value after the colon");
			return NULL;
		}
		if (fields[i].kind == TEXT_LIKE)
			listing_like_pattern(value, vals[nvals],
			    sizeof(vals[0]));
		else
			snprintf(vals[nvals], sizeof(vals[0]), "%s", value);
		add_condition(conds, sizeof(conds), fields[i].sql, nvals + 2);
		nvals++;
	}
	if (tk == 0 && nvals == 0) {
		snprintf(err, errlen, "nothing to look for");
		return NULL;
	}
	if (tk > 0) /* ?1: the text; the best matches first */
		snprintf(sql, sizeof(sql),
		    "SELECT m.id, m.session_id AS session, datetime(m.begin_ts,"
		    " 'unixepoch') AS time, m.proto, m.method,"
		    " coalesce(m.from_addr, '') AS \"from\","
		    " coalesce(m.subject, '') AS subject, h.match"
		    " FROM (%s) AS h JOIN messages m ON m.id = h.id"
		    " JOIN sessions s ON s.id = m.session_id"
		    " WHERE m.partial = 0%s ORDER BY h.score, m.id LIMIT %ld",
		    fts, conds, limit);
	else /* fields alone: through the indexes, in the log's order */
		snprintf(sql, sizeof(sql),
		    "SELECT m.id, m.session_id AS session, datetime(m.begin_ts,"
		    " 'unixepoch') AS time, m.proto, m.method,"
		    " coalesce(m.from_addr, '') AS \"from\","
		    " coalesce(m.subject, '') AS subject, '' AS match"
		    " FROM messages m JOIN sessions s ON s.id = m.session_id"
		    " WHERE m.partial = 0 AND CAST(?1 AS TEXT) IS NULL%s"
		    " ORDER BY m.id LIMIT %ld",
		    conds, limit);
	if ((st = query_prepare(db, sql)) == NULL) {
		snprintf(err, errlen, "%s (is this a mailsift log?)",
		    query_error(db));
		return NULL;
	}
	query_bind_text(st, 1, tk > 0 ? text : NULL);
	for (int i = 0; i < nvals; i++)
		query_bind_text(st, i + 2, vals[i]);
	return st;
}
