/*
 * urls.h - the links in a message's text: a push parser over the decoded
 * UTF-8 text of a part, plain or HTML.
 *
 * In plain text, bare URLs (http, https, ftp, "www." hosts) and mailto:
 * addresses; in HTML, the URLs of link and resource attributes (href,
 * src, action, background, ...; entities decoded), each <a> link with the
 * text it shows, and bare URLs in the text outside links.  Relative
 * references and cid: (a part of the same message) are not links out and
 * are left alone.  Findings on each link: the text of a link shows
 * another host than it goes to; the host is in punycode; a label of the
 * host mixes scripts that look alike (Latin with Cyrillic, Greek, ...).
 *
 * Any split of the input gives the same links; state is bounded (a URL
 * is kept to URL_MAX bytes, the shown text to URL_SHOWN_MAX).
 */
#ifndef MAILSIFT_URLS_H
#define MAILSIFT_URLS_H

#include <stddef.h>
#include <stdint.h>

#define URL_MAX	      2048
#define URL_SHOWN_MAX 256
#define URL_HOST_MAX  256

/* findings, a bit each */
#define URL_F_TEXT_HOST	   1 /* an <a> shows a host it does not go to */
#define URL_F_PUNYCODE	   2 /* a host label in punycode (xn--) */
#define URL_F_MIXED_SCRIPT 4 /* a host label mixes look-alike scripts */
/* The log's names of those bits, bit 0 first (urls.findings). */
extern const char *const url_finding_names[];
extern const unsigned	 url_finding_count;

struct url_found {
	const char *url; /* as written, entities decoded */
	size_t	    len;
	int	    truncated; /* longer than URL_MAX: cut */
	const char *host;      /* lower case; "" when it has none */
	const char *kind;      /* "text", "href", "src", "action", ... */
	int	    mailto;    /* a mailto: address (host: its domain) */
	const char *shown;     /* an <a>'s text, spaces folded; "" */
	unsigned    findings;  /* URL_F_* */
};

typedef void (*url_fn)(void *arg, const struct url_found *);

enum url_hstate { /* HTML tokenizer states (urls.c) */
	UH_DATA,
	UH_TAG_OPEN,
	UH_TAG_NAME,
	UH_BEFORE_ATTR,
	UH_ATTR_NAME,
	UH_AFTER_ATTR,
	UH_BEFORE_VALUE,
	UH_VALUE_DQ,
	UH_VALUE_SQ,
	UH_VALUE_UQ,
	UH_BOGUS,  /* <!DOCTYPE ...>, <?xml ...>, </...> until '>' */
	UH_COMMENT /* <!-- ... --> */
};

struct url_scan {
	url_fn fn;
	void  *arg;
	int    html;
	/* a run of characters that may hold a bare URL */
	char   tok[URL_MAX];
	size_t ntok;
	int    tok_over;
	/* HTML */
	enum url_hstate hs;
	char		tag[12], attr[16];
	size_t		ntag, nattr;
	int		end_tag, skip; /* in </...>; in script or style */
	int		dashes;	       /* of "-->" seen, in a comment */
	char		val[URL_MAX];
	size_t		nval;
	int		val_over;
	char		ent[12]; /* an entity in text being read */
	int		in_ent;
	size_t		nent;
	/* the <a> open: its href (waits for its text) */
	int    in_a;
	char   href[URL_MAX];
	size_t nhref;
	int    href_over, has_href;
	char   shown[URL_SHOWN_MAX];
	size_t nshown;
	int    shown_space;
};

void url_scan_init(struct url_scan *, int html, url_fn, void *arg);
void url_scan_feed(struct url_scan *, const char *p, size_t n);
/* The end of the part: a link still open or a URL at the very end. */
void url_scan_finish(struct url_scan *);

/* The host of a URL (lower case, no user, port or brackets) into host;
 * 0 when it has none.  mailto: gives the address's domain. */
int url_host(const char *url, size_t len, char host[URL_HOST_MAX]);
/* URL_F_PUNYCODE and URL_F_MIXED_SCRIPT of a host. */
unsigned url_host_findings(const char *host);

#endif
