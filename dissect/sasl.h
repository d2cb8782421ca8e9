/*
 * sasl.h - what an observer learns from a SASL exchange (RFC 4422), the
 * same whether SMTP AUTH, POP3 AUTH or IMAP AUTHENTICATE carries it.
 *
 * The carrying protocol frames the exchange (which lines are responses,
 * which are challenges, when the verdict comes); this module decodes the
 * base64 and keeps, per mechanism, the user, the secret where it crossed
 * in clear, and the challenge/proof pair of challenge-response schemes.
 */
#ifndef MAILSIFT_SASL_H
#define MAILSIFT_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"

#define SASL_FIELD_MAX 512 /* longest user, secret, challenge or proof kept */
#define SASL_MECH_MAX  32

enum sasl_mech {
	SASL_OTHER,
	SASL_PLAIN,	 /* RFC 4616 */
	SASL_LOGIN,	 /* draft-murchison-sasl-login */
	SASL_CRAM_MD5,	 /* RFC 2195 */
	SASL_XOAUTH2,	 /* Google's */
	SASL_OAUTHBEARER /* RFC 7628 */
};

struct sasl_field {
	uint8_t b[SASL_FIELD_MAX];
	size_t	len;
};

/* One exchange; allocated by sasl_new() only while it runs. */
struct sasl {
	uint32_t	  seq; /* the command that began it */
	enum sasl_mech	  mech;
	char		  mech_name[SASL_MECH_MAX];
	size_t		  mech_len;
	int		  expect; /* responses still expected, -1: unknown */
	int		  prompt; /* LOGIN: 1 user, 2 password asked next */
	int		  cancelled;
	struct sasl_field user, secret, chal, proof;
};

/* Result of sasl_response(). */
enum sasl_resp {
	SASL_RESP_OK,	     /* a response, applied */
	SASL_RESP_MALFORMED, /* base64-looking but undecodable: applied */
	SASL_RESP_CANCEL,    /* "*": the client gave up (RFC 4422 3.5) */
	SASL_RESP_NOT_SASL   /* cannot be a response: a command, say */
};

void	       sasl_set(struct sasl_field *, const uint8_t *, size_t);
struct sasl   *sasl_new(uint32_t seq, const uint8_t *mech, size_t mlen);
enum sasl_resp sasl_initial(struct sasl *, const uint8_t *b64, size_t n);
enum sasl_resp sasl_response(struct sasl *, const uint8_t *b64, size_t n);
void	       sasl_challenge(struct sasl *, const uint8_t *b64, size_t n);
int	       sasl_done(const struct sasl *);
void	       sasl_fill(const struct sasl *, struct md_event *);

#endif /* MAILSIFT_SASL_H */
