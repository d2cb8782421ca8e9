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
 *   proto:                      smtp, pop3 or imap
 *   after: before:              when it began (a time as --since takes)
 *   time:                       a year (2024), a month (2024-01), a day
 *                               (2024-01-31), or a range A..B
 *
 * A word that is an address, a hash or an IP is looked up as addr:,
 * hash: or ip: without being told.
 *
 * Terms side by side must all hold; OR between two says either, NOT
 * (or a - before a term) that it must not, and parentheses group, as in
 * Kibana's and Arkime's bars (the operators in capitals: "or" is a
 * word).  A query of terms alone is ranked by the text index, best
 * first; one with OR, NOT or parentheses is in the log's order.  Pieces
 * (TOP, partial FETCH) are left out, as in mailsift messages.  The same
 * for SQLite and PostgreSQL: the backend gives only the text match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/listings.h"
#include "cli/search.h"

#define TERMS_MAX SEARCH_VALUES_MAX /* terms, and two a time range */
#define DEPTH_MAX 10		    /* parentheses and NOTs within each other */

struct field {
	const char *name;
	const char *sql; /* ?N stands for the value (numbered by the caller) */
	int	    kind;
};

enum { TEXT_LIKE, HASH, ADDRESS, PROTO, TIME, RANGE };

static int value_ok(int kind, const char *v);

/* case-blind: LIKE is in SQLite, ILIKE in PostgreSQL (as MATCH in
 * listings.c) */
#define LIKE_OF(col) col " LIKE ?N ESCAPE '\\'"

/* a message's time, as a span compares it (listings.h) */
#define SPAN_TIME LISTING_SPAN_TIME("datetime(m.begin_ts, 'unixepoch')")

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
	/* the one of sha256:, sha1: and md5: its value's length can be
	 * (hash_named): asking all three at once read every part, as the
	 * MD5 and SHA-1 columns have no index (a SHA-256 at a million
	 * messages: 1.4 s, where sha256: takes 15 ms) */
	{ "hash", NULL, HASH },
	{ "proto", "m.proto = ?N", PROTO },
	/* times as the listings' --since and --until take them: UTC text,
	 * which both engines write for datetime() (PostgreSQL's begin_ts is
	 * a timestamptz, SQLite's a number), off the index on time */
	{ "after", SPAN_TIME " >= ?N", TIME },
	{ "before", SPAN_TIME " < ?N", TIME },
	{ "time", "(" SPAN_TIME " >= ?N AND " SPAN_TIME " < ?M)", RANGE },
};

/* The field named by the len bytes at name (any case), or the count of
 * fields when none is. */
static size_t
field_named(const char *name, size_t len)
{
	size_t nf = sizeof(fields) / sizeof(*fields);

	for (size_t k = 0; k < nf; k++)
		if (strlen(fields[k].name) == len &&
		    strncasecmp(name, fields[k].name, len) == 0)
			return k;
	return nf;
}

/* The hash field a value of hash: can be, by its length (value_ok has
 * said it is 32, 40 or 64 hex digits): the fields bear the columns'
 * names. */
static size_t
hash_named(const char *v)
{
	const char *name = listing_hash_column(v);

	return field_named(name, strlen(name));
}

/* One address rather than a network: an equality, which the sessions'
 * address indexes answer (in_net reads every session). */
static const char ip_one_sql[] = "(s.client_ip = ?N OR s.server_ip = ?N)";

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
	if (kind == PROTO)
		return listing_proto(v) != NULL;
	return 1;
}

/* What a value of kind must be, for the message that refuses one. */
static const char *
value_wanted(int kind)
{
	switch (kind) {
	case HASH:
		return "not an MD5, SHA-1 or SHA-256 in hex";
	case ADDRESS:
		return "not an address or a network";
	case PROTO:
		return "not smtp, pop3 or imap";
	case TIME:
	case RANGE:
		return "not a time (2024-01-31, 2024-01-31T17:00, "
		       "2024-01-31T17:00+02:00, yesterday, 2h, 7d) or, for time:, "
		       "a year, a month, a day or a range A..B";
	default:
		return "no value after the colon";
	}
}

/* A year (YYYY) or a month (YYYY-MM), UTC: its first second into out
 * as the log's times read, or with next the first of the one after it.
 * 0, or -1 when v is neither. */
static int
period_start(const char *v, int next, char *out, size_t len)
{
	const char *digits = "0123456789";
	size_t	    n = strlen(v);
	int	    y, m = 1;

	if ((n != 4 && n != 7) || strspn(v, digits) != 4 ||
	    (n == 7 && (v[4] != '-' || strspn(v + 5, digits) != 2)))
		return -1;
	y = atoi(v);
	if (n == 7)
		m = atoi(v + 5);
	if (y < 1970 || m < 1 || m > 12)
		return -1;
	if (next && n == 4)
		y++;
	else if (next && ++m > 12) {
		m = 1;
		y++;
	}
	snprintf(out, len, "%04d-%02d-01 00:00:00", y, m);
	return 0;
}

/* A range's end: a time as after: takes it, or a year's or a month's
 * first second. */
static int
range_end(const char *v, time_t now, char *out, size_t len)
{
	return listing_time(v, now, 0, out, len) == 0 ||
		period_start(v, 0, out, len) == 0 ?
	    0 :
	    -1;
}

/* time:: a year, a month or a day (YYYY, YYYY-MM, YYYY-MM-DD, up to the
 * next one), or A..B with either side left open (each side a time, a
 * year or a month; B's first second is past the range, as a day's is);
 * the two ends into lo and hi. */
static int
range_value(const char *v, time_t now, char *lo, char *hi, size_t len)
{
	const char *dots = strstr(v, "..");
	char	    a[128];

	if (dots == NULL && period_start(v, 0, lo, len) == 0)
		return period_start(v, 1, hi, len);
	if (dots == NULL)
		return strlen(v) == 10 &&
			listing_time(v, now, 0, lo, len) == 0 &&
			listing_time(v, now, 86400, hi, len) == 0 ?
		    0 :
		    -1;
	if ((size_t)(dots - v) >= sizeof(a) || (dots == v && dots[2] == '\0'))
		return -1;
	snprintf(a, sizeof(a), "%.*s", (int)(dots - v), v);
	/* an open end: before or after every time written */
	if (*a == '\0')
		snprintf(lo, len, "0000");
	else if (range_end(a, now, lo, len) != 0)
		return -1;
	if (dots[2] == '\0')
		snprintf(hi, len, "9999");
	else if (range_end(dots + 2, now, hi, len) != 0)
		return -1;
	return 0;
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

enum token { T_END, T_WORD, T_OPEN, T_CLOSE, T_OR, T_AND, T_NOT };

/* A query being read: its tokens one at a time, and the SQL made. */
struct parser {
	const char   *q, *p; /* the query, and what is left of it */
	enum token    kind;  /* the current token */
	char	      tok[1024];
	int	      dash;   /* the word came as -WORD: NOT it */
	int	      depth;  /* parentheses open */
	int	      ranked; /* terms alone: text ranked, fields ANDed */
	int	      base;   /* the number of the first value (?2, or ?1) */
	int	      websearch;
	const char   *fts;
	struct query *db;
	time_t	      now;
	char	      text[2048]; /* ranked: the text, in the engine's syntax */
	size_t	      tk;
	char	      conds[8192];
	size_t	      ck;
	char	      vals[TERMS_MAX][1024];
	int	      nvals;
	char	     *err;
	size_t	      errlen;
};

/*
 * The next token: ( ) OR AND NOT, or a word (a "phrase", FIELD:"a
 * value", -WORD).  A '(' opens a group at the start of a token only and
 * a ')' closes one only while one is open, so that file:report(1).pdf is
 * a word.  -1 on a quote left open.
 */
static int
lex(struct parser *ps)
{
	const char *s = ps->p;
	size_t	    k = 0;
	int	    quoted = 0, quotes = 0;

	ps->dash = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '(' || (*s == ')' && ps->depth > 0)) {
		ps->kind = *s == '\0' ? T_END : *s == '(' ? T_OPEN : T_CLOSE;
		ps->p = *s == '\0' ? s : s + 1;
		return 0;
	}
	if (*s == '-' && s[1] != '\0' && s[1] != ' ' && s[1] != '\t')
		ps->dash = 1, s++;
	for (; *s != '\0' &&
	     (quoted ||
		 (*s != ' ' && *s != '\t' && (*s != ')' || ps->depth == 0)));
	     s++) {
		if (*s == '"') {
			quoted = !quoted, quotes = 1;
			continue;
		}
		if (k + 1 < sizeof(ps->tok))
			ps->tok[k++] = *s;
	}
	ps->tok[k] = '\0';
	ps->p = s;
	if (quoted) {
		snprintf(ps->err, ps->errlen, "a quote left open in: %s",
		    ps->q);
		return -1;
	}
	ps->kind = T_WORD;
	if (!quotes && !ps->dash)
		ps->kind = strcmp(ps->tok, "OR") == 0 ? T_OR :
		    strcmp(ps->tok, "AND") == 0	      ? T_AND :
		    strcmp(ps->tok, "NOT") == 0	      ? T_NOT :
							T_WORD;
	return 0;
}

/* Whether the query is terms alone (no operator, group or -term): then
 * its text is ranked by the text index, as before the operators came. */
static int
terms_alone(struct parser *ps)
{
	const char *start = ps->p;
	int	    alone = 1;

	while (lex(ps) == 0 && ps->kind != T_END)
		if (ps->kind != T_WORD || ps->dash)
			alone = 0;
	ps->p = start;
	return alone;
}

/* sql after the conditions, its ?N as ?n and ?M as ?m. */
static void
add_sql(struct parser *ps, const char *sql, int n, int m)
{
	for (const char *s = sql; *s != '\0' && ps->ck + 8 < sizeof(ps->conds);
	     s++)
		if (s[0] == '?' && (s[1] == 'N' || s[1] == 'M')) {
			ps->ck += (size_t)snprintf(ps->conds + ps->ck,
			    sizeof(ps->conds) - ps->ck, "?%d",
			    s[1] == 'N' ? n : m);
			s++;
		} else
			ps->conds[ps->ck++] = *s;
	ps->conds[ps->ck] = '\0';
}

/* sql as it is: it holds no ?N of its own (a literal may hold those
 * characters) */
static void
add_raw(struct parser *ps, const char *sql)
{
	size_t n = strlen(sql);

	if (ps->ck + n + 1 > sizeof(ps->conds))
		n = sizeof(ps->conds) - ps->ck - 1;
	memcpy(ps->conds + ps->ck, sql, n);
	ps->conds[ps->ck += n] = '\0';
}

/* Whether a field is a part of an address (the trigram index answers
 * it: listing_addr_rows). */
static int
addr_field(const char *field)
{
	return strcmp(field, "from") == 0 || strcmp(field, "to") == 0 ||
	    strcmp(field, "addr") == 0;
}

/* A value to bind (?2 onwards; ?1 is the ranked text): its number, or
 * -1 past TERMS_MAX. */
static int
new_value(struct parser *ps)
{
	if (ps->nvals == TERMS_MAX) {
		snprintf(ps->err, ps->errlen, "%d values at most", TERMS_MAX);
		return -1;
	}
	return ps->nvals++;
}

/* A text term: ranked, into the text the index is asked; else a
 * condition of its own, the message among the index's matches. */
static int
text_term(struct parser *ps, const char *term)
{
	char   sub[1024];
	size_t k = 0;
	int    v;

	if (ps->ranked) {
		if (ps->websearch) {
			ps->tk += (size_t)snprintf(ps->text + ps->tk,
			    sizeof(ps->text) - ps->tk, "%s\"%s\"",
			    ps->tk ? " " : "", term);
			if (ps->tk >= sizeof(ps->text))
				ps->tk = sizeof(ps->text) - 1;
		} else
			fts_quote(term, ps->text, sizeof(ps->text), &ps->tk);
		return 0;
	}
	if ((v = new_value(ps)) < 0)
		return -1;
	if (ps->websearch)
		snprintf(ps->vals[v], sizeof(ps->vals[v]), "\"%s\"", term);
	else
		fts_quote(term, ps->vals[v], sizeof(ps->vals[v]), &k);
	/* the index's query with its ?1 as this term's value */
	k = 0;
	for (const char *s = ps->fts; *s != '\0' && k + 8 < sizeof(sub); s++)
		if (s[0] == '?' && s[1] == '1') {
			sub[k++] = '?', sub[k++] = 'N';
			s++;
		} else
			sub[k++] = *s;
	sub[k] = '\0';
	add_sql(ps, "m.id IN (SELECT id FROM (", 0, 0);
	add_sql(ps, sub, v + ps->base, 0);
	add_sql(ps, ") AS matched)", 0, 0);
	return 0;
}

/* A part of an address as the message among the rows the index finds,
 * where it finds few (listing_addr_rows), and the field's own condition
 * sql on value v: 1 written, 0 left to the caller. */
static int
addr_term(struct parser *ps, int v, const char *sql)
{
	char ids[4096];

	if (!listing_addr_rows(ps->db, ps->vals[v], ids, sizeof(ids)) ||
	    ps->ck + strlen(ids) + strlen(sql) + 64 > sizeof(ps->conds))
		return 0;
	add_raw(ps, "(m.id IN (");
	add_raw(ps, ids);
	add_raw(ps, ") AND ");
	add_sql(ps, sql, v + ps->base, 0);
	add_raw(ps, ")");
	return 1;
}

/* A term: FIELD:VALUE (or a word that is an address, hash or IP) as a
 * condition, else text. */
static int
one_term(struct parser *ps, const char *term)
{
	const char *colon = strchr(term, ':');
	const char *auto_field = field_of_word(term);
	const char *value = colon != NULL ? colon + 1 : term;
	const char *sql;
	size_t	    nf = sizeof(fields) / sizeof(*fields), i = nf;
	int	    v, w = 0;

	if (colon != NULL)
		i = field_named(term, (size_t)(colon - term));
	if (i == nf && auto_field != NULL)
		i = field_named(auto_field, strlen(auto_field)), value = term;
	if (i == nf) /* text, literally */
		return text_term(ps, term);
	if (!value_ok(fields[i].kind, value)) {
		snprintf(ps->err, ps->errlen, "%s: %s", term,
		    value_wanted(fields[i].kind));
		return -1;
	}
	if (fields[i].sql == NULL) /* hash: */
		i = hash_named(value);
	if ((v = new_value(ps)) < 0 ||
	    (fields[i].kind == RANGE && (w = new_value(ps)) < 0))
		return -1;
	sql = fields[i].sql;
	switch (fields[i].kind) {
	case TEXT_LIKE:
		listing_like_pattern(value, ps->vals[v], sizeof(ps->vals[v]));
		break;
	case PROTO: /* as the log writes it (value_ok found it) */
		snprintf(ps->vals[v], sizeof(ps->vals[v]), "%s",
		    listing_proto(value));
		break;
	case TIME:
	case RANGE:
		if ((fields[i].kind == TIME ?
			    listing_time(value, ps->now, 0, ps->vals[v],
				sizeof(ps->vals[v])) :
			    range_value(value, ps->now, ps->vals[v],
				ps->vals[w], sizeof(ps->vals[v]))) != 0) {
			snprintf(ps->err, ps->errlen, "%s: %s", term,
			    value_wanted(fields[i].kind));
			return -1;
		}
		break;
	case ADDRESS:
		listing_canonical_address(value, ps->vals[v],
		    sizeof(ps->vals[v]));
		if (strchr(value, '/') == NULL)
			sql = ip_one_sql;
		break;
	default:
		snprintf(ps->vals[v], sizeof(ps->vals[v]), "%s", value);
	}
	if (ps->ranked)
		add_sql(ps, " AND ", 0, 0);
	if (addr_field(fields[i].name) && addr_term(ps, v, sql))
		return 0;
	add_sql(ps, sql, v + ps->base, w + ps->base);
	return 0;
}

static int parse_or(struct parser *);

/* NOT x, -x, ( x ), or a term. */
static int
parse_unary(struct parser *ps)
{
	int not = ps->kind == T_NOT || (ps->kind == T_WORD && ps->dash);

	if (ps->depth > DEPTH_MAX) {
		snprintf(ps->err, ps->errlen, "groups and NOTs %d deep at most",
		    DEPTH_MAX);
		return -1;
	}
	switch (ps->kind) {
	case T_NOT:
		add_sql(ps, "NOT ", 0, 0);
		ps->depth++;
		if (lex(ps) != 0)
			return -1;
		if (ps->kind == T_END || ps->kind == T_CLOSE ||
		    ps->kind == T_OR || ps->kind == T_AND) {
			snprintf(ps->err, ps->errlen,
			    "NOT with nothing after it in: %s", ps->q);
			return -1;
		}
		if (parse_unary(ps) != 0)
			return -1;
		ps->depth--;
		return 0;
	case T_OPEN:
		ps->depth++;
		add_sql(ps, "(", 0, 0);
		if (lex(ps) != 0 || parse_or(ps) != 0)
			return -1;
		if (ps->kind != T_CLOSE) {
			snprintf(ps->err, ps->errlen, "a '(' left open in: %s",
			    ps->q);
			return -1;
		}
		ps->depth--;
		add_sql(ps, ")", 0, 0);
		return lex(ps);
	case T_WORD:
		add_sql(ps, not ? "NOT (" : "(", 0, 0);
		if (one_term(ps, ps->tok) != 0)
			return -1;
		add_sql(ps, ")", 0, 0);
		return lex(ps);
	default:
		snprintf(ps->err, ps->errlen, "%s in: %s",
		    ps->kind == T_END ? "nothing after the last operator" :
			ps->kind == T_CLOSE ?
					"a group with nothing in it" :
					"OR and AND need a term on each side",
		    ps->q);
		return -1;
	}
}

/* Terms side by side (or with AND between them): all of them. */
static int
parse_and(struct parser *ps)
{
	add_sql(ps, "(", 0, 0);
	if (parse_unary(ps) != 0)
		return -1;
	while (ps->kind != T_END && ps->kind != T_OR && ps->kind != T_CLOSE) {
		if (ps->kind == T_AND && lex(ps) != 0)
			return -1;
		add_sql(ps, " AND ", 0, 0);
		if (parse_unary(ps) != 0)
			return -1;
	}
	add_sql(ps, ")", 0, 0);
	return 0;
}

static int
parse_or(struct parser *ps)
{
	add_sql(ps, "(", 0, 0);
	if (parse_and(ps) != 0)
		return -1;
	while (ps->kind == T_OR) {
		if (lex(ps) != 0)
			return -1;
		add_sql(ps, " OR ", 0, 0);
		if (parse_and(ps) != 0)
			return -1;
	}
	add_sql(ps, ")", 0, 0);
	return 0;
}

/* The query as conditions (and, ranked, the text): 0, or -1 with the
 * reason said. */
static int
parse(struct parser *ps)
{
	ps->ranked = ps->base == 2 && terms_alone(ps);
	if (lex(ps) != 0)
		return -1;
	if (ps->kind == T_END) {
		snprintf(ps->err, ps->errlen, "nothing to look for");
		return -1;
	}
	if (ps->ranked) {
		while (ps->kind != T_END)
			if (one_term(ps, ps->tok) != 0 || lex(ps) != 0)
				return -1;
	} else {
		add_sql(ps, " AND ", 0, 0);
		if (parse_or(ps) != 0)
			return -1;
		if (ps->kind == T_CLOSE || ps->kind == T_WORD) {
			snprintf(ps->err, ps->errlen,
			    "a ')' with no '(' before it in: %s", ps->q);
			return -1;
		}
	}
	/* add_sql stops short of the end: the SQL would be cut */
	if (ps->ck + 16 >= sizeof(ps->conds)) {
		snprintf(ps->err, ps->errlen, "the query is too long");
		return -1;
	}
	return 0;
}

/* How many matches are ranked at most (search.h). */
static long
rank_max(void)
{
	const char *e = getenv("MAILSIFT_RANK_MAX");
	long	    n = e != NULL ? strtol(e, NULL, 10) : 0;

	return n > 0 ? n : SEARCH_RANK_MAX;
}

/* Whether the text ?1 matches more than max messages: the one past them
 * looked for (at most that many steps, however large the log), not
 * every match counted.  A text the engine refuses is not: the search
 * itself says why. */
static int
too_many_to_rank(struct query *db, const struct parser *ps, long max)
{
	char		   sql[2300];
	struct query_rows *st;
	int		   past;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM (%s) AS h LIMIT 1 OFFSET %ld",
	    ps->fts, max);
	if ((st = query_prepare(db, sql)) == NULL)
		return 0;
	query_bind_text(st, 1, ps->text);
	past = query_next(st) == 1;
	query_finish(st);
	return past;
}

struct query_rows *
search_prepare(struct query *db, const char *q, long limit,
    struct search_order *how, char *err, size_t errlen)
{
	static const char cols[] =
	    "SELECT m.id, m.session_id AS session, datetime(m.begin_ts,"
	    " 'unixepoch') AS time, m.proto, m.method,"
	    " coalesce(m.from_addr, '') AS \"from\","
	    " coalesce(m.subject, '') AS subject,";
	char		   sql[12288];
	struct parser	  *ps;
	struct query_rows *st;

	/* 25 KB of values and conditions: not on a server thread's stack */
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ps->q = ps->p = q;
	ps->base = 2;
	ps->fts = query_search_sql(db);
	ps->db = db;
	/* PostgreSQL's websearch takes the text as typed, quotes and all */
	ps->websearch = strstr(ps->fts, "websearch") != NULL;
	ps->now = time(NULL);
	ps->err = err;
	ps->errlen = errlen;
	if (parse(ps) != 0) {
		free(ps);
		return NULL;
	}
	if (how != NULL)
		*how = (struct search_order) { 0 };
	if (ps->tk > 0) { /* ?1: the text; the best matches first */
		long max = rank_max();
		int  newest = too_many_to_rank(db, ps, max);

		snprintf(sql, sizeof(sql),
		    "%s h.match FROM (%s) AS h JOIN messages m ON m.id = h.id"
		    " JOIN sessions s ON s.id = m.session_id"
		    " WHERE m.partial = 0%s ORDER BY %s LIMIT %ld",
		    cols, ps->fts, ps->conds,
		    newest ? "h.id DESC" : "h.score, m.id", limit);
		if (how != NULL)
			*how = (struct search_order) { !newest, newest, max };
	} else /* through the indexes (and the text's), in the log's order */
		snprintf(sql, sizeof(sql),
		    "%s '' AS match FROM messages m"
		    " JOIN sessions s ON s.id = m.session_id"
		    " WHERE m.partial = 0 AND CAST(?1 AS TEXT) IS NULL%s"
		    " ORDER BY m.id LIMIT %ld",
		    cols, ps->conds, limit);
	if ((st = query_prepare(db, sql)) == NULL) {
		snprintf(err, errlen, "%s (is this a mailsift log?)",
		    query_error(db));
		free(ps);
		return NULL;
	}
	query_bind_text(st, 1, ps->tk > 0 ? ps->text : NULL);
	for (int i = 0; i < ps->nvals; i++)
		query_bind_text(st, i + 2, ps->vals[i]);
	free(ps);
	return st;
}

int
search_condition(struct query *db, const char *q, struct search_cond *c,
    char *err, size_t errlen)
{
	struct parser *ps;
	int	       rc = -1;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	err[0] = '\0';
	ps->q = ps->p = q;
	ps->base = 1; /* no ranked text: every term a condition */
	ps->fts = query_search_sql(db);
	ps->db = db;
	ps->websearch = strstr(ps->fts, "websearch") != NULL;
	ps->now = time(NULL);
	ps->err = err;
	ps->errlen = errlen;
	if (parse(ps) == 0 &&
	    (size_t)snprintf(c->sql, sizeof(c->sql),
		"FROM messages m JOIN sessions s ON s.id = m.session_id"
		" WHERE m.partial = 0%s",
		ps->conds) < sizeof(c->sql)) {
		c->nvals = ps->nvals;
		for (int i = 0; i < ps->nvals; i++)
			snprintf(c->vals[i], sizeof(c->vals[i]), "%s",
			    ps->vals[i]);
		rc = 0;
	} else if (err[0] == '\0') {
		snprintf(err, errlen, "the query is too long");
	}
	free(ps);
	return rc;
}
