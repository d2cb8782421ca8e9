/*
 * content.h - what a part really is, worked out on the hashing workers
 * (hstream_then) from the bytes they hash anyway, off the capture
 * thread: its type by content (libmagic), and whether that type, the
 * declared Content-Type and the file name's extension disagree.
 */
#ifndef MAILSIFT_CONTENT_H
#define MAILSIFT_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/analyse/rules.h"

/* bytes of a part's start libmagic is given: its tests look no further
 * for the formats mail carries (Office's zip parts included) */
#define CONTENT_MAGIC_BYTES (16u << 10)
/* an archive is read whole up to this size (a zip's directory is at its
 * end); each file inside is hashed up to CONTENT_INNER_MAX, and archives
 * inside archives are opened to CONTENT_DEPTH_MAX levels */
#define CONTENT_ARCHIVE_MAX (32u << 20)
#define CONTENT_INNER_MAX   (16u << 20)
#define CONTENT_DEPTH_MAX   3
#define CONTENT_ENTRIES_MAX 1000 /* files listed a part */
#define CONTENT_PASSWORDS   16	 /* words of the text tried on it */

/* findings, a bit each (content_findings_str names them) */
#define CF_EXECUTABLE	 1  /* an executable, not named or declared one */
#define CF_EXT_MISMATCH	 2  /* the name's extension says another type */
#define CF_TYPE_MISMATCH 4  /* the Content-Type says another type */
#define CF_ENCRYPTED	 8  /* an archive with encrypted files */
#define CF_SCAN_BUDGET	 16 /* the rules did not scan it all */
#define CF_ARCHIVE_LIMIT 32 /* a file inside past the bounds: walk stopped */

/* A file inside an archive part. */
struct content_entry {
	char	path[512]; /* inner archives' names joined by "/" */
	int	depth;	   /* 1: in the part itself */
	int64_t size;	   /* -1: not said */
	int	encrypted;
	char	sha256[65]; /* "" when it could not be read */
	char	magic[96];
};

struct rules;
struct typer; /* libmagic, shared by the workers */

struct typer *typer_new(void);
void	      typer_free(struct typer *);

struct content_job {
	struct typer	   *typer; /* types by content, or NULL: none */
	const struct rules *rules; /* YARA, or NULL */
	/* in: what the part said of itself */
	char declared[96];
	char filename[256];
	char passwords[CONTENT_PASSWORDS][64]; /* from the message's text */
	int  npasswords;
	int  start_lost; /* the capture lost bytes of its start: no type */
	/* the message's own text (no file name, not an attachment, sent as
	 * text/plain or text/html): typed by content_text_type when its
	 * bytes read as text, by libmagic when they do not */
	int body_text;
	/* out */
	char	 magic[128]; /* MIME type by content; "" when not known */
	unsigned findings;
	struct content_entry *entries; /* an archive's files */
	int		      nentries, entries_over;
	char		      password[64];  /* the one that opened it */
	int		      archive_error; /* it could not be read whole */
	struct rule_hits      hits;	     /* what the rules matched */
};

/* hstream_then's work for a part: job is a struct content_job. */
void content_analyse(void *job, void **slot, const unsigned char *p, size_t n,
    int all);
/* hstream_then's work for a whole message: the rules only. */
void content_scan_message(void *job, void **slot, const unsigned char *p,
    size_t n, int all);
/* Whether a part's first bytes are an archive's, to be kept whole. */
int content_is_archive(const unsigned char *p, size_t n);
/*
 * The type of a message's own text by its first bytes, without libmagic:
 * "text/html" when they begin as HTML does (WHATWG MIME Sniffing 7.1's
 * HTML patterns, after white space), "text/plain" when they read as text
 * (no NUL, no C0 control but tab, line ends, form feed and ESC of
 * ISO-2022); NULL when they do not read as text (libmagic must say).
 */
const char *content_text_type(const unsigned char *p, size_t n);
/* Words of a message's text that may be an archive's password: the word
 * after "password:" (and its translations), up to CONTENT_PASSWORDS. */
void content_passwords(struct content_job *, const char *text, size_t n);
void content_job_free(struct content_job *);
/* Frees a worker's slot (its YARA scanner, its libmagic cookie). */
void content_slot_free(void *slot);
/* "executable_disguised,extension_mismatch" into buf; "" for none. */
const char *content_findings_str(unsigned findings, char *buf, size_t len);
/* The finding of types alone (no I/O): for tests. */
unsigned content_findings(const char *magic, const char *declared,
    const char *filename);

#endif
