/* \summary: IMAP syntax: the cursor, literals, FETCH items, status words */
/*
 * Pure functions over the text of one IMAP logical line (RFC 9051 4,
 * 7.5.2, RFC 7888): no session state, so each is tested on its own
 * (tests/test_imapsyn.c) and the session code in imap.c reads top-down.
 */
#include <string.h>

#include "dissect/common.h"
#include "dissect/imapsyn.h"
#include "dissect/util.h"

void
imap_cur_init(struct imap_cur *c, const uint8_t *text, size_t n, size_t from,
    const struct imap_lit *lits, size_t nlits, const uint8_t *keep)
{
	c->p = text;
	c->n = n;
	c->i = from;
	c->lits = lits;
	c->nlits = nlits;
	c->keep = keep;
}

void
imap_cur_skip_sp(struct imap_cur *c)
{
	while (c->i < c->n && c->p[c->i] == ' ')
		c->i++;
}

static const struct imap_lit *
lit_at(const struct imap_cur *c, size_t off)
{
	for (size_t k = 0; k < c->nlits; k++)
		if (c->lits[k].off == off)
			return &c->lits[k];
	return NULL;
}

/* An atom ends at a space, a parenthesis, a quote or a literal. */
static int
is_atom_char(uint8_t ch)
{
	return ch > ' ' && ch != 0x7f && ch != '(' && ch != ')' && ch != '{' &&
	    ch != '"';
}

/*
 * Reads an astring (atom, quoted string or literal) into out; returns its
 * length (cut to cap), or -1 when none stands at the cursor.
 */
long
imap_cur_astring(struct imap_cur *c, uint8_t *out, size_t cap)
{
	size_t o = 0;

	imap_cur_skip_sp(c);
	if (c->i >= c->n)
		return -1;
	if (c->p[c->i] == '"') {
		for (c->i++; c->i < c->n && c->p[c->i] != '"'; c->i++) {
			if (c->p[c->i] == '\\' && c->i + 1 < c->n)
				c->i++;
			if (o < cap)
				out[o++] = c->p[c->i];
		}
		c->i++;
		return (long)o;
	}
	if (c->p[c->i] == '{' || c->p[c->i] == '~') {
		const struct imap_lit *l = lit_at(c, c->i);
		const uint8_t *rb = memchr(c->p + c->i, '}', c->n - c->i);

		c->i = rb ? (size_t)(rb - c->p) + 1 : c->n;
		if (l == NULL)
			return 0;
		o = l->kept < cap ? l->kept : cap;
		if (o > 0)
			memcpy(out, c->keep + l->keep_off, o);
		return (long)o;
	}
	while (c->i < c->n && is_atom_char(c->p[c->i])) {
		if (o < cap)
			out[o++] = c->p[c->i];
		c->i++;
	}
	return o ? (long)o : -1;
}

/* An atom as it stands in the text (no copy); len 0 when none. */
struct md_bytes
imap_cur_atom(struct imap_cur *c)
{
	size_t b;

	imap_cur_skip_sp(c);
	b = c->i;
	while (c->i < c->n && c->p[c->i] != ' ' && c->p[c->i] != '(' &&
	    c->p[c->i] != ')')
		c->i++;
	return md_bytes_of(c->p + b, c->i - b);
}

/* A parenthesised list as it stands, parentheses included. */
struct md_bytes
imap_cur_paren(struct imap_cur *c)
{
	size_t b, depth = 0;

	imap_cur_skip_sp(c);
	b = c->i;
	if (c->i >= c->n || c->p[c->i] != '(')
		return md_bytes_of(NULL, 0);
	for (; c->i < c->n; c->i++) {
		if (c->p[c->i] == '(')
			depth++;
		else if (c->p[c->i] == ')' && --depth == 0) {
			c->i++;
			break;
		}
	}
	return md_bytes_of(c->p + b, c->i - b);
}

uint64_t
imap_number(struct md_bytes b, int *ok)
{
	uint64_t v = 0;
	size_t	 d = md_parse_u64(b.p, b.len, &v);

	*ok = d > 0 && d == b.len;
	return v;
}

/* ---------------------------------------------------------------- events */
static int
is_name_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '.';
}

/*
 * The FETCH item that a server literal starting at off answers (RFC 9051
 * 7.5.2): BODY[section]<origin>, BINARY[section]<origin>, RFC822,
 * RFC822.HEADER or RFC822.TEXT.  Returns 1 when the literal is a message
 * or a part of one, with its section ("" for the whole message).
 */
int
imap_fetch_item(const uint8_t *t, size_t off, struct imap_section *sec)
{
	size_t		e = off, b, ob = 0, oe = 0, sb = 0, se = 0;
	struct md_bytes name;
	int		bracket = 0;

	while (e > 0 && t[e - 1] == ' ')
		e--;
	if (e > 0 && t[e - 1] == '>') { /* <origin> */
		for (ob = e - 1; ob > 0 && t[ob] != '<'; ob--)
			;
		oe = e;
		e = ob;
	}
	if (e > 0 && t[e - 1] == ']') {
		for (sb = e - 1; sb > 0 && t[sb] != '['; sb--)
			;
		if (t[sb] != '[')
			return 0;
		se = e - 1;
		e = sb;
		bracket = 1;
	}
	for (b = e; b > 0 && is_name_char(t[b - 1]); b--)
		;
	name = md_bytes_of(t + b, e - b);
	sec->len = 0;
	sec->partial = 0;
	if (bracket) {
		if (!md_ci_equal(name.p, name.len, "BODY") &&
		    !md_ci_equal(name.p, name.len, "BINARY") &&
		    !md_ci_equal(name.p, name.len, "BODY.PEEK") &&
		    !md_ci_equal(name.p, name.len, "BINARY.PEEK"))
			return 0;
		sec->len = se - sb - 1;
		if (oe > ob)
			sec->len += oe - ob;
		if (sec->len > IMAP_SECTION_MAX)
			sec->len = IMAP_SECTION_MAX;
		memcpy(sec->text, t + sb + 1,
		    sec->len < se - sb - 1 ? sec->len : se - sb - 1);
		if (oe > ob && se - sb - 1 < IMAP_SECTION_MAX)
			memcpy(sec->text + (se - sb - 1), t + ob,
			    sec->len - (se - sb - 1));
		sec->partial = sec->len > 0;
		return 1;
	}
	if (md_ci_equal(name.p, name.len, "RFC822"))
		return 1;
	if (md_ci_equal(name.p, name.len, "RFC822.HEADER")) {
		memcpy(sec->text, "HEADER", 6);
		sec->len = 6;
	} else if (md_ci_equal(name.p, name.len, "RFC822.TEXT")) {
		memcpy(sec->text, "TEXT", 4);
		sec->len = 4;
	} else
		return 0;
	sec->partial = 1;
	return 1;
}

/*
 * "{n}", "{n+}", "{n-}" or "~{n}" (RFC 9051 4.3, RFC 7888, RFC 3516)
 * ending a line piece.  Returns 1 with the length, 0 when the piece ends
 * otherwise, -1 when the number is out of range (RFC 9051: 32 bits).
 */
int
imap_literal_announced(const uint8_t *p, size_t n, uint64_t *len, int *sync,
    size_t *start)
{
	size_t k, d;

	if (n < 3 || p[n - 1] != '}')
		return 0;
	k = n - 1;
	*sync = 1;
	if (p[k - 1] == '+' || p[k - 1] == '-') {
		*sync = 0;
		k--;
	}
	for (d = k; d > 0 && p[d - 1] >= '0' && p[d - 1] <= '9'; d--)
		;
	if (d == k || d == 0 || p[d - 1] != '{')
		return 0;
	*start = d - 1;
	if (*start > 0 && p[*start - 1] == '~')
		(*start)--;
	if (md_parse_u64(p + d, k - d, len) != k - d || *len > UINT32_MAX)
		return -1;
	return 1;
}

enum md_status
imap_status_of(struct md_bytes w)
{
	if (md_ci_equal(w.p, w.len, "OK") || md_ci_equal(w.p, w.len, "PREAUTH"))
		return MD_ST_OK;
	if (md_ci_equal(w.p, w.len, "NO"))
		return MD_ST_NO;
	if (md_ci_equal(w.p, w.len, "BAD"))
		return MD_ST_BAD;
	if (md_ci_equal(w.p, w.len, "BYE"))
		return MD_ST_BYE;
	return MD_ST_NONE;
}

/* Skips one FETCH item value: a list, a string, a literal or an atom. */
void
imap_skip_value(struct imap_cur *c)
{
	uint8_t dummy[1];

	imap_cur_skip_sp(c);
	if (c->i < c->n && c->p[c->i] == '(')
		(void)imap_cur_paren(c);
	else
		(void)imap_cur_astring(c, dummy, 0);
}

/* A FETCH item name, brackets and <origin> included. */
struct md_bytes
imap_fetch_name(struct imap_cur *c)
{
	size_t b;

	imap_cur_skip_sp(c);
	b = c->i;
	while (c->i < c->n && c->p[c->i] != ' ' && c->p[c->i] != ')') {
		if (c->p[c->i] == '[') {
			const uint8_t *rb =
			    memchr(c->p + c->i, ']', c->n - c->i);
			c->i = rb ? (size_t)(rb - c->p) : c->n - 1;
		}
		c->i++;
	}
	return md_bytes_of(c->p + b, c->i - b);
}
