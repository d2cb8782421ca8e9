/* \summary: SQLite store: the rows a failing disk lost, and their kin */
/*
 * A full or failing disk refuses a session's or a message's row, or
 * rolls back the transaction it went in (SQLite does after some
 * SQLITE_FULL and SQLITE_IOERR).  Their later rows (commands, replies,
 * parts, links, ...) would then name a session or a message the log
 * does not have: orphans that every join drops and a foreign-key check
 * reports.  They are not written; the messages are counted lost.
 *
 * Sessions: those begun in a transaction rolled back, or whose row was
 * refused, are kept in a table until their end.  Messages: each knows
 * the transaction its row went in (open_msg.gen); a rolled-back one is
 * remembered (the last LOST_GENS of them), and sqlite_msgs.c asks.
 * A log opened after the store had none (a rotation a full disk
 * refused) knows no session begun before it: those go too.
 */
#include <stdlib.h>

#include "store/sqlite/sqlite_priv.h"

#define LOST_TX 0xffffffffu /* the tx of a lost session's entry */

static int
session_is_lost(struct sqlite_store *s, uint64_t flow_id)
{
	return s->nlost > 0 && *md_tx_slot(&s->lost, flow_id, LOST_TX) != NULL;
}

static void
session_lose(struct sqlite_store *s, uint64_t flow_id)
{
	struct md_txnode **slot = md_tx_slot(&s->lost, flow_id, LOST_TX);
	struct md_txnode  *n;

	if (*slot != NULL || (n = calloc(1, sizeof(*n))) == NULL)
		return;
	n->flow_id = flow_id;
	n->tx = LOST_TX;
	md_tx_insert(slot, n);
	s->nlost++;
}

static void
session_forget(struct sqlite_store *s, uint64_t flow_id)
{
	struct md_txnode **slot = md_tx_slot(&s->lost, flow_id, LOST_TX);

	if (*slot != NULL) {
		free(md_tx_remove(slot));
		s->nlost--;
	}
}

/* A session's row written (ok) or refused. */
void
lost_session_begun(struct sqlite_store *s, uint64_t flow_id, int ok)
{
	if (!ok) {
		session_lose(s, flow_id);
		return;
	}
	if (s->nbegun == s->begun_cap) {
		size_t	  cap = s->begun_cap ? 2 * s->begun_cap : 64;
		uint64_t *b = realloc(s->begun, cap * sizeof(*b));

		if (b == NULL) /* not known if rolled back: let it be */
			return;
		s->begun = b;
		s->begun_cap = cap;
	}
	s->begun[s->nbegun++] = flow_id;
}

/* A COMMIT's outcome: what went in the transaction stays, or is lost. */
void
lost_committed(struct sqlite_store *s, int rolled_back)
{
	if (rolled_back) {
		for (size_t i = 0; i < s->nbegun; i++)
			session_lose(s, s->begun[i]);
		s->lost_gen[s->nlost_gen++ % LOST_GENS] = s->gen;
	}
	s->nbegun = 0;
	s->gen++;
}

/* A log opened where the store had none: what began before is not in
 * it (the flows below the next one to begin are lost). */
void
lost_log_reopened(struct sqlite_store *s)
{
	s->flow_floor = UINT64_MAX;
	s->nbegun = 0;
}

int
lost_gen(const struct sqlite_store *s, uint64_t gen)
{
	unsigned n = s->nlost_gen < LOST_GENS ? s->nlost_gen : LOST_GENS;

	for (unsigned i = 0; i < n; i++)
		if (s->lost_gen[i] == gen)
			return 1;
	return 0;
}

/* Whether the event belongs to a session the log does not have: 1 (not
 * to be written; a message of it counted lost), else 0. */
int
lost_event(struct sqlite_store *s, const struct md_event *ev)
{
	uint64_t id = ev->flow->id;
	int	 lost;

	if (ev->type == MD_EV_SESSION_BEGIN) {
		if (s->db == NULL)
			return 1;
		/* flow ids grow: the first begun after a log came back
		 * marks those begun before it (one that begins later with
		 * a smaller id is left out whole, as is fitting) */
		if (s->flow_floor == UINT64_MAX)
			s->flow_floor = id;
		return id < s->flow_floor;
	}
	lost = s->db == NULL || id < s->flow_floor || session_is_lost(s, id);
	if (!lost)
		return 0;
	if (ev->type == MD_EV_MSG_BEGIN)
		s->stats.messages_lost++;
	else if (ev->type == MD_EV_SESSION_END)
		session_forget(s, id);
	return 1;
}

void
lost_free(struct sqlite_store *s)
{
	struct md_txnode *n;

	while ((n = md_tx_pop_any(&s->lost)) != NULL)
		free(n);
	s->nlost = 0;
	free(s->begun);
	s->begun = NULL;
	s->nbegun = s->begun_cap = 0;
}
