/* \summary: choose the dissector for a connection from its first bytes */
/*
 * Ports lie: mail runs on 2525, 1224 or behind proxies, and other
 * protocols run on 25.  The verdict comes from what each side says first:
 * an SMTP server greets with "220" (RFC 5321 4.2) and its client opens
 * with EHLO/HELO/LHLO; a POP3 server greets with "+OK" (RFC 1939 4) and
 * its client asks CAPA, USER, APOP, AUTH or STLS; an IMAP server greets
 * with "* OK" or "* PREAUTH" (RFC 9051 7.1) and its client sends a tagged
 * CAPABILITY, LOGIN, AUTHENTICATE, ...  The usual ports only let one
 * side's word suffice.
 * An HTTP CONNECT or SOCKS handshake in front of the mail dialogue is
 * skipped, so that tunnelled sessions are found too.
 */
#include <string.h>

#include "dissect/dissect.h"
#include "dissect/common.h"
#include "dissect/util.h"
#include "dissect/registry.h"

static int
is_tls_record(const uint8_t *p, size_t n)
{
	/* ContentType handshake (22), ProtocolVersion 3.0 to 3.4 */
	return n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04;
}

/* 1 when the first line is known, 0 when it is not complete yet. */
static int
first_line_done(const uint8_t *p, size_t n)
{
	return memchr(p, '\n', n) != NULL;
}

static int
is_smtp_greeting(const uint8_t *p, size_t n)
{
	return n >= 4 && p[0] == '2' && p[1] == '2' && p[2] == '0' &&
	    (p[3] == ' ' || p[3] == '-' || p[3] == '\r');
}

static int
is_smtp_hello(const uint8_t *p, size_t n)
{
	return n >= 5 &&
	    (md_ci_prefix(p, n, "EHLO") || md_ci_prefix(p, n, "HELO") ||
		md_ci_prefix(p, n, "LHLO")) &&
	    (p[4] == ' ' || p[4] == '\r' || p[4] == '\n');
}

/* Offset past the first blank line ("\r\n\r\n" or "\n\n"), 0 if none. */
static size_t
after_headers(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 2;
		if (p[i] == '\n' && p[i + 1] == '\r' && i + 2 < n &&
		    p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/*
 * Length of a SOCKS5 request or reply (VER CMD|REP RSV ATYP ADDR PORT) from
 * its first five bytes, which the caller has; 0 for an unknown ATYP.
 */
static size_t
socks5_msg_len(const uint8_t *p)
{
	switch (p[3]) {
	case 1:
		return 4 + 4 + 2;
	case 4:
		return 4 + 16 + 2;
	case 3:
		return 4 + 1 + (size_t)p[4] + 2;
	default:
		return 0;
	}
}

/*
 * SOCKS5 (RFC 1928, RFC 1929): method negotiation, optional user/password
 * sub-negotiation, CONNECT request and reply.  Returns the lengths of the
 * client and server preambles, or 0 while incomplete; -1 if not SOCKS5.
 */
static int
socks5_skip(const uint8_t *c, size_t cn, const uint8_t *s, size_t sn,
    size_t *cskip, size_t *sskip)
{
	size_t ci, si, alen, creq, srep;
	int    method;

	if (cn < 2 || c[0] != 5 || c[1] == 0)
		return -1;
	ci = 2 + (size_t)c[1];
	if (sn < 2 || cn < ci)
		return 0;
	if (s[0] != 5)
		return -1;
	method = s[1];
	si = 2;
	if (method == 2) { /* username/password */
		if (cn < ci + 2)
			return 0;
		alen = c[ci + 1];
		if (cn < ci + 2 + alen + 1)
			return 0;
		ci += 2 + alen;
		ci += 1 + (size_t)c[ci];
		si += 2;
	} else if (method != 0)
		return -1;
	/* request: VER CMD RSV ATYP DST.ADDR DST.PORT */
	if (cn < ci + 5 || sn < si + 5)
		return 0;
	creq = socks5_msg_len(c + ci);
	srep = socks5_msg_len(s + si);
	if (creq == 0 || srep == 0)
		return -1;
	ci += creq;
	si += srep;
	if (ci > cn || si > sn)
		return 0;
	*cskip = ci;
	*sskip = si;
	return 1;
}

/* SOCKS4/4a: VN=4 CD DSTPORT DSTIP USERID NUL [HOST NUL]; reply 8 bytes. */
static int
socks4_skip(const uint8_t *c, size_t cn, size_t sn, size_t *cskip,
    size_t *sskip)
{
	const uint8_t *nul;
	size_t	       ci;

	if (cn < 9 || c[0] != 4 || (c[1] != 1 && c[1] != 2))
		return cn < 9 && cn > 0 && c[0] == 4 ? 0 : -1;
	if ((nul = memchr(c + 8, 0, cn - 8)) == NULL)
		return 0;
	ci = (size_t)(nul - c) + 1;
	if (c[4] == 0 && c[5] == 0 && c[6] == 0 && c[7] != 0) {
		if ((nul = memchr(c + ci, 0, cn - ci)) == NULL)
			return 0;
		ci = (size_t)(nul - c) + 1;
	}
	if (sn < 8)
		return 0;
	*cskip = ci;
	*sskip = 8;
	return 1;
}

/* RFC 1939 4: the server greets with "+OK". */
static int
is_pop3_greeting(const uint8_t *p, size_t n)
{
	return n >= 4 && md_ci_prefix(p, n, "+OK") &&
	    (p[3] == ' ' || p[3] == '\r' || p[3] == '\n');
}

/* What a POP3 client says first: capabilities or a login. */
static int
is_pop3_hello(const uint8_t *p, size_t n)
{
	static const char *const verbs[] = { "CAPA", "USER", "APOP", "AUTH",
		"STLS" };

	if (n < 5 || (p[4] != ' ' && p[4] != '\r' && p[4] != '\n'))
		return 0;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (md_ci_prefix(p, n, verbs[i]))
			return 1;
	return 0;
}

/* RFC 9051 7.1: "* OK", "* PREAUTH" or "* BYE" greets. */
static int
is_imap_greeting(const uint8_t *p, size_t n)
{
	return n >= 5 &&
	    (md_ci_prefix(p, n, "* OK ") || md_ci_prefix(p, n, "* OK\r") ||
		md_ci_prefix(p, n, "* PREAUTH") || md_ci_prefix(p, n, "* BYE"));
}

/* "tag SP command": what an IMAP client says first. */
static int
is_imap_hello(const uint8_t *p, size_t n)
{
	static const char *const verbs[] = { "CAPABILITY", "LOGIN ",
		"AUTHENTICATE ", "STARTTLS", "ID ", "NOOP", "LOGOUT", "SELECT ",
		"ENABLE " };
	size_t			 t;

	for (t = 0; t < n && t <= 32 && p[t] > ' ' && p[t] < 0x7f &&
	     p[t] != '(' && p[t] != '{' && p[t] != '"';
	     t++)
		;
	if (t == 0 || t >= n || p[t] != ' ' || (t == 1 && p[0] == '*'))
		return 0;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (md_ci_prefix(p + t + 1, n - t - 1, verbs[i]))
			return 1;
	return 0;
}

/* ----------------------------------------------- lines in mid-session */

/* A verb among words, followed by a space or the end of the line. */
static int
is_verb_of(const uint8_t *p, size_t n, const char *const *verbs)
{
	for (size_t i = 0; verbs[i] != NULL; i++) {
		size_t l = strlen(verbs[i]);
		if (md_ci_prefix(p, n, verbs[i]) &&
		    (n == l || p[l] == ' ' || p[l] == '\r' || p[l] == '\n'))
			return 1;
	}
	return 0;
}

static int
is_smtp_reply(const uint8_t *p, size_t n)
{
	return n >= 4 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' &&
	    p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
	    (p[3] == ' ' || p[3] == '-' || p[3] == '\r' || p[3] == '\n');
}

static int
is_pop3_status(const uint8_t *p, size_t n)
{
	return is_pop3_greeting(p, n) ||
	    (n >= 5 && md_ci_prefix(p, n, "-ERR") &&
		(p[4] == ' ' || p[4] == '\r' || p[4] == '\n'));
}

static int
is_pop3_command(const uint8_t *p, size_t n)
{
	static const char *const verbs[] = { "USER", "PASS", "APOP", "AUTH",
		"CAPA", "STLS", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE",
		"RSET", "NOOP", "QUIT", NULL };
	return is_verb_of(p, n, verbs);
}

/* Length of an IMAP tag at p (RFC 9051: astring chars but '+'), 0: none. */
static size_t
imap_tag_len(const uint8_t *p, size_t n)
{
	size_t t;

	for (t = 0; t < n && t <= 32 && p[t] > ' ' && p[t] < 0x7f &&
	     p[t] != '(' && p[t] != ')' && p[t] != '{' && p[t] != '"' &&
	     p[t] != '*' && p[t] != '+' && p[t] != '%';
	     t++)
		;
	return t < n && p[t] == ' ' ? t : 0;
}

static int
is_imap_response(const uint8_t *p, size_t n)
{
	size_t t;

	if (n >= 2 && p[0] == '*' && p[1] == ' ')
		return 1;
	if ((t = imap_tag_len(p, n)) == 0)
		return 0;
	return md_ci_prefix(p + t + 1, n - t - 1, "OK ") ||
	    md_ci_prefix(p + t + 1, n - t - 1, "NO ") ||
	    md_ci_prefix(p + t + 1, n - t - 1, "BAD ");
}

static int
is_imap_command(const uint8_t *p, size_t n)
{
	static const char *const verbs[] = { "CAPABILITY", "NOOP", "LOGOUT",
		"STARTTLS", "AUTHENTICATE", "LOGIN", "ENABLE", "SELECT",
		"EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE",
		"UNSUBSCRIBE", "LIST", "LSUB", "NAMESPACE", "STATUS", "APPEND",
		"IDLE", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH",
		"FETCH", "STORE", "COPY", "MOVE", "UID", "ID", "GETQUOTAROOT",
		"GETQUOTA", "COMPRESS", NULL };
	size_t			 t = imap_tag_len(p, n);

	if (md_ci_prefix(p, n, "DONE") &&
	    (n == 4 || p[4] == '\r' || p[4] == '\n'))
		return 1;
	return t > 0 && is_verb_of(p + t + 1, n - t - 1, verbs);
}

/* The protocols told apart by what each side says: first, or (picked up
 * mid-stream) on any line. */
static const struct candidate {
	const struct md_proto *proto;
	int (*greeting)(const uint8_t *, size_t);
	int (*hello)(const uint8_t *, size_t);
	int (*server_line)(const uint8_t *, size_t);
	int (*client_line)(const uint8_t *, size_t);
} candidates[] = {
	{ &md_proto_smtp, is_smtp_greeting, is_smtp_hello, is_smtp_reply,
	    md_smtp_is_command },
	{ &md_proto_pop3, is_pop3_greeting, is_pop3_hello, is_pop3_status,
	    is_pop3_command },
	{ &md_proto_imap, is_imap_greeting, is_imap_hello, is_imap_response,
	    is_imap_command },
};

#define NCANDIDATES (sizeof(candidates) / sizeof(candidates[0]))

/* Is port where this candidate's servers usually listen (registry.c)? */
static int
on_its_port(const struct candidate *k, uint16_t port)
{
	return md_proto_of_port(port, NULL) == k->proto;
}

/* Decides on the mail dialogue proper, once any tunnel preamble is gone. */
static enum md_verdict
detect_mail(const uint8_t *c, size_t cn, const uint8_t *s, size_t sn,
    uint16_t port, struct md_detect_out *out)
{
	int s_known = sn > 0 && first_line_done(s, sn);
	int c_known = cn > 0 && first_line_done(c, cn);
	int viable = 0;

	out->tls = MD_TLS_NONE;
	for (size_t i = 0; i < NCANDIDATES; i++) {
		const struct candidate *k = &candidates[i];
		int greet = k->greeting(s, sn), hello = k->hello(c, cn);

		out->proto = k->proto;
		if (greet && (hello || on_its_port(k, port)))
			return MD_DETECT_YES;
		/* A client speaking before any server byte: a capture that
		 * lost the server's side, or a client that did not wait. */
		if (hello && sn == 0)
			return MD_DETECT_YES;
		/* On its own port the server's greeting decides, whatever a
		 * client (a spam bot, say) sent before it. */
		viable |= (!s_known || greet) &&
		    (!c_known || hello || on_its_port(k, port));
	}
	out->proto = NULL;
	if (!viable || cn >= MD_DETECT_MAX || sn >= MD_DETECT_MAX)
		return MD_DETECT_NO;
	return MD_DETECT_MORE;
}

/*
 * Where a direction's first whole line starts when the capture may have
 * begun inside one: at 0 when the bytes there already read as a line of
 * some protocol, else after the first LF.  *known is set once that line
 * is complete.
 */
static size_t
midstream_start(const uint8_t *p, size_t n, int server, int *known)
{
	const uint8_t *lf = n > 0 ? memchr(p, '\n', n) : NULL;
	size_t	       at = 0;

	*known = 0;
	if (lf == NULL)
		return 0;
	for (size_t i = 0; i < NCANDIDATES; i++)
		if (server ? candidates[i].server_line(p, n) :
			     candidates[i].client_line(p, n))
			goto found;
	at = (size_t)(lf - p) + 1;
	if (memchr(p + at, '\n', n - at) == NULL)
		return at;
found:
	*known = 1;
	return at;
}

/*
 * A connection picked up after its start: no greeting will come.  On a
 * protocol's port a server line of that protocol decides (or a client
 * command, while the server has said nothing); elsewhere both sides must
 * agree.
 */
static enum md_verdict
detect_midstream(const uint8_t *c, size_t cn, const uint8_t *s, size_t sn,
    uint16_t port, struct md_detect_out *out)
{
	int    c_known, s_known, viable = 0;
	size_t cs = midstream_start(c, cn, 0, &c_known);
	size_t ss = midstream_start(s, sn, 1, &s_known);

	out->tls = MD_TLS_NONE;
	out->c2s_skip = cs;
	out->s2c_skip = ss;
	for (size_t i = 0; i < NCANDIDATES; i++) {
		const struct candidate *k = &candidates[i];
		int s_ok = s_known && k->server_line(s + ss, sn - ss);
		int c_ok = c_known && k->client_line(c + cs, cn - cs);

		int on_port = on_its_port(k, port);

		out->proto = k->proto;
		if ((on_port && (s_ok || (c_ok && !s_known))) || (s_ok && c_ok))
			return MD_DETECT_YES;
		/* On its port the client may be inside a message body (DATA,
		 * an APPEND literal): only the server's lines can rule out. */
		viable |= (!s_known || s_ok) && (on_port || !c_known || c_ok);
	}
	out->proto = NULL;
	if (!viable || cn >= MD_DETECT_MAX || sn >= MD_DETECT_MAX)
		return MD_DETECT_NO;
	return MD_DETECT_MORE;
}

/* TLS from the first byte: the port is all that tells the protocol. */
static const struct md_proto *
implicit_tls_proto(uint16_t port)
{
	int		       tls = 0;
	const struct md_proto *p = md_proto_of_port(port, &tls);

	return tls ? p : NULL;
}

/*
 * Returns the verdict on a connection from the bytes seen so far.  With
 * MD_DETECT_YES, out says which dissector to open and how many leading
 * bytes of each direction belong to a tunnel preamble and must be skipped.
 */
enum md_verdict
md_detect(const struct md_detect_in *in, struct md_detect_out *out)
{
	const uint8_t  *c = in->c2s, *s = in->s2c;
	size_t		cn = in->c2s_len, sn = in->s2c_len, cs = 0, ss = 0;
	enum md_verdict v;
	int		r;

	memset(out, 0, sizeof(*out));
	if (in->midstream)
		return detect_midstream(c, cn, s, sn, in->srv_port, out);
	if (is_tls_record(c, cn)) {
		if ((out->proto = implicit_tls_proto(in->srv_port)) == NULL)
			return MD_DETECT_NO;
		out->tls = MD_TLS_IMPLICIT;
		return MD_DETECT_YES;
	}
	if (cn >= 8 && md_ci_prefix(c, cn, "CONNECT ")) {
		cs = after_headers(c, cn);
		ss = after_headers(s, sn);
		if ((cs == 0 || ss == 0) && cn >= MD_DETECT_MAX)
			return MD_DETECT_NO;
		if (cs == 0 || ss == 0)
			return MD_DETECT_MORE;
	} else if (cn > 0 && (c[0] == 5 || c[0] == 4)) {
		r = c[0] == 5 ? socks5_skip(c, cn, s, sn, &cs, &ss) :
				socks4_skip(c, cn, sn, &cs, &ss);
		if (r < 0)
			return MD_DETECT_NO;
		if (r == 0)
			return MD_DETECT_MORE;
	}
	/* no bytes yet in a direction: no pointer to offset */
	v = detect_mail(cn ? c + cs : c, cn - cs, sn ? s + ss : s, sn - ss,
	    in->srv_port, out);
	out->c2s_skip = cs;
	out->s2c_skip = ss;
	return v;
}
