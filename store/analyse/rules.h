/*
 * rules.h - YARA rules over what mail carries (read/live --yara): the
 * rules are compiled once per run and shared; each hashing worker scans
 * with a scanner of its own (libyara's scanners are one-thread objects),
 * off the capture thread, every decoded part, file inside an archive and
 * whole message, each scan within a time and size budget.
 */
#ifndef MAILSIFT_RULES_H
#define MAILSIFT_RULES_H

#include <stddef.h>

#define RULES_SCAN_MAX	   (16u << 20) /* bytes of one object scanned */
#define RULES_SCAN_SECONDS 2	       /* and the time one scan may take */
#define RULES_MATCHES_MAX  64	       /* matches kept for one message part */

struct rules;

struct rule_match {
	int  entry; /* the archive_entries.n it is in; 0: the part itself */
	char rule[128];
	char ns[64];
	char tags[256];	 /* comma-separated */
	char meta[1024]; /* a JSON object of the rule's metadata */
};

struct rule_hits {
	struct rule_match *m;
	int		   n, cap, over;	 /* over: matches left out */
	unsigned	   scans, timeouts, cut; /* cut: objects scanned in
						  * part (past RULES_SCAN_MAX) */
};

/* The rules of a file (source, or compiled by yarac); NULL with err set. */
struct rules *rules_load(const char *path, char *err, size_t errlen);
void	      rules_free(struct rules *);
/* Scans n bytes (all: they are the whole object) with the worker's
 * scanner in *scanner (made on first use; rules_scanner_free frees it),
 * adding what matches to hits under entry. */
void rules_scan(const struct rules *, void **scanner, const unsigned char *p,
    size_t n, int all, int entry, struct rule_hits *hits);
void rules_scanner_free(void *scanner);
void rule_hits_free(struct rule_hits *);

#endif
