/*
 * content.h - what a part really is, worked out on the hashing workers
 * (hstream_then) from the bytes they hash anyway, off the capture
 * thread: its type by content (libmagic), and whether that type, the
 * declared Content-Type and the file name's extension disagree.
 */
#ifndef MAILSIFT_CONTENT_H
#define MAILSIFT_CONTENT_H

#include <stddef.h>

/* bytes of a part's start libmagic is given: its tests look no further
 * for the formats mail carries (Office's zip parts included) */
#define CONTENT_MAGIC_BYTES (64u << 10)

/* findings, a bit each (content_findings_str names them) */
#define CF_EXECUTABLE	 1 /* an executable, not named or declared one */
#define CF_EXT_MISMATCH	 2 /* the name's extension says another type */
#define CF_TYPE_MISMATCH 4 /* the Content-Type says another type */

struct content_job {
	/* in: what the part said of itself */
	char declared[96];
	char filename[256];
	/* out */
	char	 magic[128]; /* MIME type by content; "" when not known */
	unsigned findings;
};

/* hstream_then's work for a part: job is a struct content_job. */
void content_analyse(void *job, void **slot, const unsigned char *p, size_t n,
    int all);
/* Frees a worker's slot (its libmagic cookie). */
void content_slot_free(void *slot);
/* "executable_disguised,extension_mismatch" into buf; "" for none. */
const char *content_findings_str(unsigned findings, char *buf, size_t len);
/* The finding of types alone (no I/O): for tests. */
unsigned content_findings(const char *magic, const char *declared,
    const char *filename);

#endif
