/*
 * safename.h - a file name from a message (hostile: the sender chose it)
 * made into one that is safe to create inside the extraction folder.
 */
#ifndef MAILSIFT_SAFENAME_H
#define MAILSIFT_SAFENAME_H

#include <stddef.h>

#define SAFE_NAME_MAX 120 /* bytes of a safe name, extension kept */

void safe_name(const char *name, const char *fallback, char *out, size_t cap);
void safe_name_variant(const char *name, int n, char *out, size_t cap);

#include <stdio.h>
/*
 * Creates DIR/<safe form of name> for writing (fallback when nothing safe
 * is left), numbering the name when it is taken; never overwrites, never
 * follows a link.  Returns the stream and its path (caller frees), or
 * NULL with errno set.
 */
FILE *safe_create(const char *dir, const char *name, const char *fallback,
    char **pathp);

#endif
