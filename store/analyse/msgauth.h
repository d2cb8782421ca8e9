/*
 * msgauth.h - who sent a message, as its header tells: DKIM and ARC
 * signatures, the verdicts receiving servers recorded (Authentication-
 * Results, ARC-Authentication-Results, Received-SPF), the DKIM body hash
 * worked out again over the body that crossed, and the signs of a sender
 * pretending to be someone else.
 *
 * The parsers take one header field's unfolded value and know nothing of
 * the store; the body canonicaliser is a push parser (any split of the
 * message's bytes gives the same output).
 */
#ifndef MAILSIFT_MSGAUTH_H
#define MAILSIFT_MSGAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store/analyse/hbsplit.h"

/* One row of message_auth: a signature, or one verdict of one method. */
struct auth_row {
	char kind[32];	    /* dkim-signature, authentication-results, ... */
	int  instance;	    /* ARC's i=; 0 */
	char authserv[128]; /* the server that recorded a verdict */
	char method[24];    /* spf, dkim, dmarc, arc, ... */
	char result[24];    /* pass, fail, softfail, none, ... */
	char domain[256];   /* d=, header.d, header.from, smtp.mailfrom's */
	char selector[128]; /* s= */
	char algorithm[32]; /* a= */
	char canon[32];	    /* c= */
	char headers[512];  /* h= */
	char body_hash[96]; /* bh= */
	long body_length;   /* l=; -1 when absent */
	char detail[512];   /* the rest worth keeping (properties, comment) */
};

typedef void (*auth_row_fn)(void *arg, const struct auth_row *);

/* The rows a field gives (name: its name, any case; value: unfolded);
 * 0 when the field is none of those. */
int msgauth_field(const char *name, const char *value, size_t len, auth_row_fn,
    void *arg);

/* RFC 6376 3.4: a DKIM body canonicalisation, pushed the whole message
 * (its header skipped), output to out. */
typedef void (*canon_out_fn)(void *arg, const uint8_t *p, size_t n);

struct dkim_canon {
	int		relaxed;
	struct hb_split hb;	  /* the header, skipped */
	int		cr;	  /* a CR waits for its LF */
	int		wsp;	  /* relaxed: white space waits for a char */
	uint64_t	empties;  /* empty lines held: dropped if trailing */
	uint64_t	limit;	  /* l=, or UINT64_MAX */
	uint64_t	emitted;  /* canonical bytes put out */
	int		any;	  /* the body had a line */
	int		linechar; /* the current line has a character */
	canon_out_fn	out;
	void	       *arg;
};

/* c= gives the body's canonicalisation ("relaxed/simple": the part after
 * "/"; simple when absent); limit is l= or -1. */
void dkim_canon_init(struct dkim_canon *, const char *c, long limit,
    canon_out_fn, void *arg);
void dkim_canon_feed(struct dkim_canon *, const uint8_t *p, size_t n);
void dkim_canon_finish(struct dkim_canon *);

/* bh= (base64) against a digest: 1 equal, 0 not, -1 bh= unreadable. */
int dkim_bh_equal(const char *bh, const unsigned char *digest, size_t n);

/* Signs of impersonation, a bit each (msgauth_findings_str names them). */
#define IMP_DISPLAY_ADDRESS 1  /* the display name holds another address */
#define IMP_REPLY_TO	    2  /* Reply-To in another domain than From */
#define IMP_RETURN_PATH	    4  /* Return-Path in another domain than From */
#define IMP_LOOKALIKE	    8  /* From's domain looks like a recipient's */
#define DKIM_BODY_CHANGED   16 /* a DKIM bh= is not the body's hash */

/* The signs in a message's From, Reply-To, Return-Path and To (raw,
 * decoded values; NULL when absent). */
unsigned    msgauth_impersonation(const char *from, const char *reply_to,
       const char *return_path, const char *to);
const char *msgauth_findings_str(unsigned, char *buf, size_t len);
/* Whether two domains are near alike (edit distance 1 or 2 after
 * look-alike letters are folded: rn/m, 0/o, 1/l, vv/w) but not one. */
int msgauth_lookalike(const char *a, const char *b);

/*
 * The IP addresses written in a header value (a Received field's
 * "[192.0.2.1]", "IPv6:2001:db8::1", a bare dotted quad), in order, as
 * text into out (n of them at most); their count.
 */
#define MSGAUTH_IP_MAX 46
size_t msgauth_ips(const char *s, char out[][MSGAUTH_IP_MAX], size_t n);

#endif
