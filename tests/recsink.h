/*
 * recsink.h - a sink that records events as text, one line per event, for
 * golden comparisons.  Consecutive MSG_DATA events of one message are
 * joined into one line, so that the record does not depend on how the
 * input was split.
 */
#ifndef MAILSIFT_RECSINK_H
#define MAILSIFT_RECSINK_H

#include <stddef.h>

#include "dissect/dissect.h"

struct recsink {
	char	*buf;
	size_t	 len, cap;
	int	 data_open; /* a MSG_DATA, PART_DATA or TEXT line is open */
	uint32_t data_tx;
	int	 data_type;
	uint64_t data_part;
	int mute_after; /* return nonzero from emit after this many MSG_DATA */
	int data_events;
	/* a message/rfc822 part's bytes, which come interleaved with its own
	 * parts' events in an order that depends on the cuts: gathered and
	 * recorded as one line at its PART_END */
	uint64_t cont_part;
	char	*cont;
	size_t	 cont_len;
	/* the contract's order (dissect/events.def), checked as events
	 * come: a breach is recorded as a "!ORDER" line */
	int	 began, ended;
	uint32_t open_tx[64];
	int	 open_parts[64];
	int	 nopen;
};

void	    recsink_init(struct recsink *, struct md_sink *);
const char *recsink_text(struct recsink *);
void	    recsink_free(struct recsink *);

#endif

/* One piece of a two-way transcript; data NULL: len bytes were lost. */
struct step {
	enum md_dir dir;
	const char *data;
	size_t	    len; /* 0: strlen(data) */
};

enum tr_mode { TR_WHOLE, TR_BYTES, TR_SPLIT };

/*
 * Feeds a transcript to a fresh dissector and returns the record (caller
 * frees).  TR_SPLIT cuts step si in two at offset k.
 */
char *transcript_run(const struct md_proto *, enum md_tls, const struct step *,
    size_t nsteps, enum tr_mode, size_t si, size_t k);

/*
 * Asserts (cmocka) that the transcript gives `expect` fed whole, one byte
 * at a time, and cut at every offset of every step.
 */
void transcript_check(const struct md_proto *, enum md_tls, const struct step *,
    size_t nsteps, const char *expect);

/* A named transcript and the record it must give. */
struct tcase {
	const char	  *name;
	const struct step *steps;
	size_t		   nsteps;
	enum md_tls	   tls;
	const char	  *expect;
};

/*
 * Runs every case as a cmocka test of the group; with MAILSIFT_PRINT_GOLDEN
 * set in the environment, prints what each case gives instead.
 */
int transcript_suite(const char *group, const struct md_proto *,
    const struct tcase *, size_t ncases);
/* The same with the assembler between the dissector and the record. */
int transcript_suite_assembled(const char *group, const struct md_proto *,
    const struct tcase *, size_t ncases);

#define C(s)                   \
	{                      \
		MD_C2S, (s), 0 \
	}
#define S(s)                   \
	{                      \
		MD_S2C, (s), 0 \
	}
#define GAP(d, n)              \
	{                      \
		(d), NULL, (n) \
	} /* the capture lost n bytes */
#define N(a) (sizeof(a) / sizeof((a)[0]))
