/*
 * util.h - small helpers on wire bytes, shared by the dissectors and the
 * sinks.  Their input is never NUL-terminated and never trusted: every
 * function takes a length and reads no further.
 */
#ifndef MAILSIFT_UTIL_H
#define MAILSIFT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (1 to 4; overlong
 * forms, surrogates and code points past U+10FFFF are not), or 0; *cp
 * gets its code point. */
size_t md_utf8_len(const unsigned char *s, size_t n, uint32_t *cp);
/*
 * How many leading bytes of a command's arguments log no one in: the
 * mechanism of AUTH/AUTHENTICATE (not its initial response), the user of
 * IMAP LOGIN, nothing of POP3 PASS; with digests, the user of APOP (its
 * digest is cracked, not replayed).  alen for any other verb.
 */
size_t md_args_public(const uint8_t *verb, size_t vlen, const uint8_t *args,
    size_t alen, int digests);
/* Whether p starts with / is exactly the ASCII word, in any case. */
int md_ci_prefix(const uint8_t *p, size_t len, const char *prefix);
int md_ci_equal(const uint8_t *p, size_t len, const char *word);
/* Copies n bytes to dst, ASCII letters upper-cased (verbs, keywords). */
void md_upper_copy(char *dst, const uint8_t *src, size_t n);
/*
 * Decodes base64 (RFC 4648) as SASL sends it (RFC 4954): no white space,
 * padding optional; at most outcap bytes.  *ok is 0 when a byte outside
 * the alphabet came or bits were left over; what decoded before that is
 * still returned.
 */
size_t md_b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outcap,
    int *ok);
/* The base64 alphabet: a byte's digit value, or one of these. */
#define MD_B64_SPACE (-2) /* white space, skipped by MIME */
#define MD_B64_PAD   (-3) /* "=" */
extern const int8_t md_b64_digit[256];
/*
 * Decodes whole quanta of base64 digits from p into out (room bytes),
 * stopping before the first quantum with a byte that is not a digit
 * (white space, "=", anything else), at the end of the input or of the
 * room.  Returns the input bytes used; *made gets the bytes written.
 * The bulk of MIME attachments goes through here: 16 digits at a time
 * with SSSE3 where the CPU has it, four at a time otherwise.
 */
size_t md_b64_run(const uint8_t *p, size_t n, uint8_t *out, size_t room,
    size_t *made);
/*
 * An HTML character reference's text (e: what stood between "&" and ";":
 * "#233", "#xe9", or one of the few named ones that matter in mail) as
 * UTF-8 into out; returns its length, 0 when it is none of these.
 */
size_t md_html_entity(const char *e, size_t n, char out[4]);
/* A code point as UTF-8 into out (1 to 4 bytes); 0 past U+10FFFF. */
size_t md_utf8_put(uint32_t cp, char out[4]);
/*
 * The names of the bits set in flags (bit i: names[i], of n), comma-
 * separated into buf; "" for none.  What does not fit is left out.
 */
const char *md_flag_names(unsigned flags, const char *const names[], size_t n,
    char *buf, size_t len);
/* A character's value in base64 / hexadecimal, or -1. */
int md_b64_value(uint8_t c);
int md_hex_value(uint8_t c);
/* n bytes as 2n lower-case hex digits and a NUL into out (digests: a
 * table, not snprintf, which cost a third of a second a 20,000
 * messages). */
void md_hex_encode(const uint8_t *p, size_t n, char *out);

#endif
