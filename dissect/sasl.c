/* \summary: SASL exchanges as seen from the wire (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER) */
/*
 * RFC 4422 (SASL), RFC 4616 (PLAIN), draft-murchison-sasl-login (LOGIN),
 * RFC 2195 (CRAM-MD5), RFC 7628 (OAUTHBEARER) and Google's XOAUTH2.
 * Every client response and server challenge is base64 in all three mail
 * protocols; what each decoded blob means depends on the mechanism.
 */
#include <stdlib.h>
#include <string.h>

#include "dissect/sasl.h"
#include "dissect/util.h"

/* Sets a field, cut to its cap; protocols fill USER/PASS, APOP, LOGIN. */
void
sasl_set(struct sasl_field *f, const uint8_t *p, size_t n)
{
	if (n > sizeof(f->b))
		n = sizeof(f->b);
	memcpy(f->b, p, n);
	f->len = n;
}

static struct md_bytes
field_bytes(const struct sasl_field *f)
{
	struct md_bytes b = { f->len ? f->b : NULL, f->len };
	return b;
}

static enum sasl_mech
mech_of(const uint8_t *p, size_t n)
{
	if (md_ci_equal(p, n, "PLAIN"))
		return SASL_PLAIN;
	if (md_ci_equal(p, n, "LOGIN"))
		return SASL_LOGIN;
	if (md_ci_equal(p, n, "CRAM-MD5"))
		return SASL_CRAM_MD5;
	if (md_ci_equal(p, n, "XOAUTH2"))
		return SASL_XOAUTH2;
	if (md_ci_equal(p, n, "OAUTHBEARER"))
		return SASL_OAUTHBEARER;
	return SASL_OTHER;
}

/*
 * Starts an exchange for a mechanism name.  How many responses the
 * mechanism takes lets a one-sided capture tell when commands resume.
 */
struct sasl *
sasl_new(uint32_t seq, const uint8_t *mech, size_t mlen)
{
	struct sasl *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->seq = seq;
	a->mech = mech_of(mech, mlen);
	a->mech_len = mlen < sizeof(a->mech_name) ? mlen : sizeof(a->mech_name);
	md_upper_copy(a->mech_name, mech, a->mech_len);
	switch (a->mech) {
	case SASL_PLAIN:
	case SASL_CRAM_MD5:
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		a->expect = 1;
		break;
	case SASL_LOGIN:
		a->expect = 2;
		break;
	case SASL_OTHER:
		a->expect = -1;
		break;
	}
	return a;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static void
decode_plain(struct sasl *a, const uint8_t *d, size_t n)
{
	const uint8_t *nul1, *nul2;

	if ((nul1 = memchr(d, '\0', n)) == NULL)
		return;
	nul2 = memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - d));
	if (nul2 == NULL) {
		sasl_set(&a->user, nul1 + 1, n - (size_t)(nul1 + 1 - d));
		return;
	}
	sasl_set(&a->user, nul1 + 1, (size_t)(nul2 - nul1 - 1));
	sasl_set(&a->secret, nul2 + 1, n - (size_t)(nul2 + 1 - d));
}

/*
 * ^A-separated key=value pairs, shared by XOAUTH2 ("user=" u ^A
 * "auth=Bearer " token ^A ^A) and the part of OAUTHBEARER after its GS2
 * header (RFC 7628 3.1).
 */
static void
decode_kvpairs(struct sasl *a, const uint8_t *d, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && d[j] != 0x01; j++)
			;
		if (md_ci_prefix(d + i, j - i, "user="))
			sasl_set(&a->user, d + i + 5, j - i - 5);
		else if (md_ci_prefix(d + i, j - i, "auth=Bearer "))
			sasl_set(&a->proof, d + i + 12, j - i - 12);
		else if (md_ci_prefix(d + i, j - i, "auth="))
			sasl_set(&a->proof, d + i + 5, j - i - 5);
		i = j + 1;
	}
}

/* RFC 7628 3.1: gs2-header "n,a=user," then ^A kvpairs. */
static void
decode_oauthbearer(struct sasl *a, const uint8_t *d, size_t n)
{
	const uint8_t *soh = memchr(d, 0x01, n);
	size_t	       hlen = soh ? (size_t)(soh - d) : n;

	for (size_t i = 0; i + 2 <= hlen; i++) {
		if ((i == 0 || d[i - 1] == ',') && d[i] == 'a' &&
		    d[i + 1] == '=') {
			size_t e = i + 2;
			while (e < hlen && d[e] != ',')
				e++;
			sasl_set(&a->user, d + i + 2, e - i - 2);
			break;
		}
	}
	if (soh != NULL)
		decode_kvpairs(a, soh + 1, n - hlen - 1);
}

/* RFC 2195: user SP hex-digest; the user may hold spaces. */
static void
decode_cram(struct sasl *a, const uint8_t *d, size_t n)
{
	size_t i;

	for (i = n; i > 0 && d[i - 1] != ' '; i--)
		;
	if (i == 0) {
		sasl_set(&a->user, d, n);
		return;
	}
	sasl_set(&a->user, d, i - 1);
	sasl_set(&a->proof, d + i, n - i);
}

static void
apply_response(struct sasl *a, const uint8_t *d, size_t n)
{
	switch (a->mech) {
	case SASL_PLAIN:
		decode_plain(a, d, n);
		break;
	case SASL_LOGIN:
		if (a->prompt == 2 || (a->prompt == 0 && a->user.len > 0))
			sasl_set(&a->secret, d, n);
		else
			sasl_set(&a->user, d, n);
		a->prompt = 0;
		break;
	case SASL_CRAM_MD5:
		decode_cram(a, d, n);
		break;
	case SASL_XOAUTH2:
		decode_kvpairs(a, d, n);
		break;
	case SASL_OAUTHBEARER:
		decode_oauthbearer(a, d, n);
		break;
	case SASL_OTHER:
		break;
	}
}

static int
is_b64_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (md_b64_digit[p[i]] < 0 && md_b64_digit[p[i]] != MD_B64_PAD)
			return 0;
	return 1;
}

/*
 * One client response line.  A line that is not base64 cannot be a
 * response: the caller takes it as a command (the server's verdict was
 * not captured, or the client gave up without "*").
 */
enum sasl_resp
sasl_response(struct sasl *a, const uint8_t *p, size_t n)
{
	uint8_t d[SASL_FIELD_MAX];
	size_t	dn;
	int	ok;

	if (n == 1 && p[0] == '*') {
		a->cancelled = 1;
		return SASL_RESP_CANCEL;
	}
	if (!is_b64_text(p, n))
		return SASL_RESP_NOT_SASL;
	dn = md_b64_decode(p, n, d, sizeof(d), &ok);
	apply_response(a, d, dn);
	if (a->expect > 0)
		a->expect--;
	return ok ? SASL_RESP_OK : SASL_RESP_MALFORMED;
}

/* An initial response on the command line; "=" is an empty one
 * (RFC 4954 4, RFC 4959 3, RFC 5034 4). */
enum sasl_resp
sasl_initial(struct sasl *a, const uint8_t *p, size_t n)
{
	if (n == 1 && p[0] == '=') {
		if (a->expect > 0)
			a->expect--;
		return SASL_RESP_OK;
	}
	return sasl_response(a, p, n);
}

/* A server challenge, base64 (the protocol has stripped "334 " or "+ "). */
void
sasl_challenge(struct sasl *a, const uint8_t *p, size_t n)
{
	uint8_t d[SASL_FIELD_MAX];
	size_t	dn;
	int	ok;

	dn = md_b64_decode(p, n, d, sizeof(d), &ok);
	if (a->mech == SASL_CRAM_MD5)
		sasl_set(&a->chal, d, dn);
	else if (a->mech == SASL_LOGIN) {
		if (md_ci_prefix(d, dn, "user"))
			a->prompt = 1;
		else if (md_ci_prefix(d, dn, "pass"))
			a->prompt = 2;
	}
}

/* True when the mechanism has had all the responses it takes. */
int
sasl_done(const struct sasl *a)
{
	return a->cancelled || a->expect == 0;
}

/* Fills an AUTH event's fields; the caller sets seq, code and outcome. */
void
sasl_fill(const struct sasl *a, struct md_event *ev)
{
	ev->type = MD_EV_AUTH;
	ev->seq = a->seq;
	ev->name.p = (const uint8_t *)a->mech_name;
	ev->name.len = a->mech_len;
	ev->arg = field_bytes(&a->user);
	ev->extra = field_bytes(&a->secret);
	ev->aux = field_bytes(&a->chal);
	ev->proof = field_bytes(&a->proof);
	if (a->cancelled)
		ev->num[0] = MD_AUTH_CANCELLED;
}
