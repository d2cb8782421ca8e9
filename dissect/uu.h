/*
 * uu.h - uuencoded files in mail: "begin 644 name" ... "end" blocks
 * inside a text body (how files travelled before MIME, and still do from
 * some clients and scripts), and parts sent with Content-Transfer-Encoding
 * x-uuencode.  The format is POSIX uuencode (historical algorithm): each
 * line is a length character, then 4 characters for every 3 bytes, each
 * character being 0x20 + 6 bits (0x60 "`" standing for 0).
 *
 * A push scanner: bytes in any split, one line head held (UU_LINE_MAX),
 * files reported through callbacks as their lines decode.
 */
#ifndef MAILSIFT_UU_H
#define MAILSIFT_UU_H

#include <stddef.h>
#include <stdint.h>

#define UU_LINE_MAX  128 /* > the longest uu line: 1 + 60 + slack */
#define UU_NAME_MAX  256
#define UU_BYTES_MAX 45 /* a line's length character says at most this */

struct uu_cb {
	/* bytes that are not inside a block, in order (may be NULL) */
	void (*text)(void *arg, const uint8_t *p, size_t n);
	/* a block's first line decoded: the file begins */
	void (*begin)(void *arg, const char *name);
	void (*data)(void *arg, const uint8_t *p, size_t n);
	/* complete: its "end" line was seen */
	void (*end)(void *arg, int complete);
	void *arg;
};

struct uu_scan {
	uint8_t	 line[UU_LINE_MAX]; /* the line at hand (its head) */
	size_t	 len;
	int	 over;	  /* the line is longer than line[] */
	int	 state;	  /* UU_OUT, UU_BEGUN, UU_IN */
	int	 in_line; /* line[] is being held back from text */
	char	 name[UU_NAME_MAX];
	uint64_t raw; /* bytes of the block so far, as sent */
};

/*
 * A "begin MODE NAME" line (MODE three or four octal digits); writes the
 * name (NUL-terminated, cut to cap) and returns 1, else 0.  n excludes
 * the line break.
 */
int uu_begin_line(const uint8_t *p, size_t n, char *name, size_t cap);

/*
 * Decodes one uuencoded line (no line break) into out; returns the number
 * of bytes (0 for the "`" or blank closing line), or -1 when the line is
 * not uuencoded.  Trailing characters some encoders strip count as zero.
 */
int uu_decode_line(const uint8_t *p, size_t n, uint8_t out[UU_BYTES_MAX]);

void uu_init(struct uu_scan *);
/* Scans bytes; returns nothing: everything goes to the callbacks. */
void uu_feed(struct uu_scan *, const uint8_t *p, size_t n,
    const struct uu_cb *);
/* The input ended: a last line without its break is taken, an open file
 * ends incomplete. */
void uu_finish(struct uu_scan *, const struct uu_cb *);

#endif
