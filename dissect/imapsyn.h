/*
 * imapsyn.h - IMAP syntax on the text of one logical line: a cursor that
 * reads atoms, strings, literals and lists; literal announcements; the
 * FETCH item a literal answers; status words.  No session state here.
 */
#ifndef MAILSIFT_IMAPSYN_H
#define MAILSIFT_IMAPSYN_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"

#define IMAP_SECTION_MAX 128

/* A literal of a logical line, whose text shows it as its "{n}". */
struct imap_lit {
	size_t	 off;	   /* where its "{n}" stands in the text */
	size_t	 keep_off; /* its bytes in the keep buffer, when kept */
	size_t	 kept;	   /* how many were kept (0: dropped or streamed) */
	uint64_t len;
};

/*
 * A cursor over a logical line's text.  Strings come out unescaped into
 * the caller's buffer; a literal comes out as the bytes that were kept.
 */
struct imap_cur {
	const uint8_t	      *p;
	size_t		       n, i;
	const struct imap_lit *lits;
	size_t		       nlits;
	const uint8_t	      *keep;
};

void imap_cur_init(struct imap_cur *, const uint8_t *text, size_t n,
    size_t from, const struct imap_lit *lits, size_t nlits,
    const uint8_t *keep);
void imap_cur_skip_sp(struct imap_cur *);
/* An astring (atom, quoted string or literal) into out, cut to cap; its
 * length, or -1 when none stands at the cursor. */
long imap_cur_astring(struct imap_cur *, uint8_t *out, size_t cap);
/* An atom as it stands in the text (no copy); len 0 when none. */
struct md_bytes imap_cur_atom(struct imap_cur *);
/* A parenthesised list as it stands, parentheses included. */
struct md_bytes imap_cur_paren(struct imap_cur *);
/* Skips one FETCH item value: a list, a string, a literal or an atom. */
void imap_skip_value(struct imap_cur *);
/* A FETCH item name, brackets and <origin> included. */
struct md_bytes imap_fetch_name(struct imap_cur *);

/* A decimal number that is all of b; *ok says whether it was. */
uint64_t imap_number(struct md_bytes b, int *ok);

/*
 * "{n}", "{n+}", "{n-}" or "~{n}" ending a line piece (RFC 9051 4.3, RFC
 * 7888, RFC 3516).  Returns 1 with its length, whether it synchronises
 * and where it starts; 0 when the piece ends otherwise; -1 when the
 * number is out of range (RFC 9051: 32 bits).
 */
int imap_literal_announced(const uint8_t *p, size_t n, uint64_t *len, int *sync,
    size_t *start);

/* What part of a message a FETCH literal carries. */
struct imap_section {
	int    partial; /* less than the whole message */
	size_t len;
	char   text[IMAP_SECTION_MAX]; /* "HEADER", "2", "<0.1024>", ... */
};

/*
 * The FETCH item that a server literal starting at off of text t answers
 * (RFC 9051 7.5.2): BODY[section]<origin>, BINARY[section]<origin>,
 * RFC822, RFC822.HEADER or RFC822.TEXT.  Returns 1 when the literal is a
 * message or a part of one, with its section ("" for the whole message).
 */
int imap_fetch_item(const uint8_t *t, size_t off, struct imap_section *);

/* OK/PREAUTH, NO, BAD, BYE as a status; MD_ST_NONE for anything else. */
enum md_status imap_status_of(struct md_bytes w);

#endif
