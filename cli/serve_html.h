/*
 * serve_html.h - an HTML part made fit for serve's sandboxed frame.
 */
#ifndef MAILSIFT_SERVE_HTML_H
#define MAILSIFT_SERVE_HTML_H

#include <stddef.h>

/* The part's bytes as UTF-8, as a browser decodes them: a byte-order mark
 * first, else charset (the part's; NULL: none), else UTF-8; what does
 * not decode becomes U+FFFD; no mark left.  NULL when out of memory. */
char *html_utf8(const char *p, size_t n, const char *charset, size_t *outlen);
/* UTF-8 HTML with the elements that make a browser reach out by
 * themselves renamed ("<iframe" -> "<x-iframe"); NULL when out of memory. */
char *html_inert(const char *p, size_t n, size_t *outlen);

#endif
