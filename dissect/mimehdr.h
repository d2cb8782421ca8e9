/*
 * mimehdr.h - what a header field says, decoded: RFC 2047 encoded-words
 * to UTF-8, RFC 2045/2231 parameters, RFC 5322 dates to UTC.
 *
 * Every function writes into a caller's buffer of known size and never
 * past it; text that does not fit is cut.  Bytes come from the sender and
 * are never trusted.
 */
#ifndef MAILSIFT_MIMEHDR_H
#define MAILSIFT_MIMEHDR_H

#include <iconv.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes RFC 2047 encoded-words into UTF-8; other bytes are copied. */
size_t mh_decode_words(const uint8_t *in, size_t n, char *out, size_t cap);

/* A converter to UTF-8; (iconv_t)-1 when none is needed or known. */
iconv_t mh_iconv_open(const char *charset);

/* Converts text in a charset to UTF-8 (iconv); returns bytes written, or
 * (size_t)-1 when the charset is unknown. */
size_t mh_to_utf8(const char *charset, const uint8_t *in, size_t n, char *out,
    size_t cap);

/*
 * The value of parameter name in a Content-Type or Content-Disposition
 * value, RFC 2231 continuations and charsets applied, RFC 2047 words in
 * it decoded (common, though not standard, in file names).  Returns its
 * length, or -1 when absent.
 */
long mh_param(const uint8_t *v, size_t n, const char *name, char *out,
    size_t cap);

/* The first token of such a value, lower-cased ("multipart/mixed"). */
size_t mh_token(const uint8_t *v, size_t n, char *out, size_t cap);

/* An RFC 5322 date as "YYYY-MM-DD HH:MM:SS" UTC; 0 when unreadable. */
int mh_date_utc(const uint8_t *v, size_t n, char out[20]);

#endif
