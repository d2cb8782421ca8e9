/*
 * tnef.h - the files inside a TNEF stream ("winmail.dat",
 * application/ms-tnef), as Outlook and Exchange send them to clients
 * they think are their own ([MS-OXTNEF]).
 *
 * The stream is walked in memory: its attachment's long name comes
 * after the attachment's data, so the caller holds the part (bounded)
 * and walks it once it ended.  Every length is checked against what is
 * left; a stream cut short yields the files it holds so far.
 */
#ifndef MAILSIFT_TNEF_H
#define MAILSIFT_TNEF_H

#include <stddef.h>
#include <stdint.h>

#define TNEF_FILES_MAX 256 /* files reported per stream */

struct tnef_file {
	char	       name[256]; /* long name, else the 8.3 title; UTF-8 */
	char	       mime[96];  /* the MIME type Outlook recorded, or "" */
	const uint8_t *data;	  /* inside the walked buffer */
	size_t	       len;
};

struct tnef_result {
	int files;     /* reported */
	int malformed; /* cut short or inconsistent */
};

/* Is this the TNEF signature (0x223E9F78, little-endian)? */
int tnef_is(const uint8_t *p, size_t n);

/*
 * Calls file() for each attached file, in order.  Returns the counts;
 * malformed is set (and the walk stops) at the first length past the
 * end, with what was complete before reported.
 */
struct tnef_result tnef_walk(const uint8_t *p, size_t	     n,
    void (*file)(void *arg, const struct tnef_file *), void *arg);

#endif
