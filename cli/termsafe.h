/*
 * termsafe.h - wire bytes shown on a terminal without being obeyed.
 *
 * Everything mailsift logs came from the wire, and a terminal acts on
 * some characters: ESC and the other C0 controls, DEL, the C1 controls
 * (ESC ] retitles a window, ESC [2J clears it), and the bidirectional
 * formatting characters that reorder what is shown (U+202E).  Shown to a
 * person, each is written as a visible escape (\x1b, \u202e) as tcpdump
 * and tshark do; bytes that are not UTF-8 as \xHH.  JSON output stays
 * exact (those code points as \u escapes, which decode to themselves);
 * CSV stays exact when it goes to a file or a pipe, and is escaped as
 * the table is when it goes to a terminal.
 */
#ifndef MAILSIFT_TERMSAFE_H
#define MAILSIFT_TERMSAFE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Whether a terminal acts on the code point or it reorders the line. */
int term_acts_on(uint32_t c);

/* Writes n bytes of s to f, escaped; with keep_lines, LF and TAB pass
 * (a message body shown whole), else they are escaped too.  */
void term_write(FILE *f, const char *s, size_t n, int keep_lines);

/* s escaped, NUL-terminated, allocated (NULL: no memory); NULL s is "". */
char *term_escape(const char *s);

#endif
