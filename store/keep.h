/*
 * keep.h - the files a store writes beside its log: message bytes named
 * by their SHA-256 (LOG.blobs/AB/ABCD...), .eml copies and attachments
 * for --extract.  No database here: any backend keeps bytes this way.
 *
 * Each function that fails returns NULL or 0 and says why in err.
 */
#ifndef MAILSIFT_KEEP_H
#define MAILSIFT_KEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The tx of a message the IMAP assembler made from pieces (as
 * dissect/assemble.c numbers them) */
#define KEEP_ASSEMBLED_TX 0x40000000u
/* A message's file name without .eml: "S-T", "S-aN" for the Nth
 * message made from pieces. */
void keep_eml_base(int64_t sid, uint32_t tx, char *out, size_t len);
/* Makes folder path (0700), or takes the one there only when it is a
 * real folder (no symbolic link) of this user that no one else may write
 * into.  0, or -1 with err said. */
int keep_dir(const char *path, char *err, size_t errlen);
/* Removes the temporary files a killed run left in blob_dir (tmp-PID-*
 * of a process that is gone; with mine, this process's pid's too: a
 * killed run's that had it, when this process has made none); returns
 * how many. */
int keep_clean(const char *blob_dir, int mine);
/* Creates DIR/<session>-<tx>.eml (then .2.eml, ...), never overwriting a
 * file; *pathp gets its name (caller frees). */
FILE *keep_eml_create(const char *dir, int64_t sid, uint32_t tx, char **pathp,
    char *err, size_t errlen);
/* A temporary file in blob_dir for the bytes of a message, until their
 * hash names them, named by seq (one number per message the process
 * keeps: never two open at once under one name); *tmpp gets its name
 * (caller frees).  buf (bufsize
 * bytes, the caller's, kept until the file is closed; NULL: stdio's) is
 * its buffer: glibc ignores a size given without one. */
FILE *keep_blob_create(const char *blob_dir, uint64_t seq, char **tmpp,
    char *buf, size_t bufsize, char *err, size_t errlen);
/* Moves file into blob_dir under its sha (hex); a copy already there is
 * kept and file dropped.  Returns 1 when the bytes are kept. */
int keep_blob_place(const char *blob_dir, const char *file, const char *sha,
    char *err, size_t errlen);
/* Closes blob (its pages started for the disk) and names it by sha, as
 * keep_blob_place. */
int keep_blob_name(const char *blob_dir, FILE *blob, const char *tmp,
    const char *sha, char *err, size_t errlen);
/*
 * Creates an attachment's file in DIR/<session>-<tx>.parts/ (made on
 * first use, *parts_dirp keeping its name), named safely after filename
 * or else "part-<path>"; *pathp gets its name.
 */
FILE *keep_attachment_create(const char *dir, int64_t sid, uint32_t tx,
    char **parts_dirp, const char *filename, const char *path, char **pathp,
    char *err, size_t errlen);

#endif
