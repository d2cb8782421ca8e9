/* \summary: SQLite store: each session's counts, each sent message's outcome */
/*
 * The sessions listing shows, and sorts by, how many commands, messages
 * and logins each session had.  Counted as asked, a sort by one of them
 * counted the rows of every session (0.8 s at a million messages); kept
 * in the session's row (n_commands, n_messages, n_auths), a sort reads
 * an index built at close.  The writer notes the sessions whose rows of
 * those kinds changed in the transaction open and, at its commit, counts
 * each one's rows again: the counts are the rows', whatever REPLACE or
 * rollback did to them, and commit with them.  A session that ends is
 * counted by its end's own statement, its waiting commands written
 * first (most sessions end in the transaction they began in: one write
 * of the row, not two), and not again at the commit.
 *
 * A sent message's outcome is kept the same way (messages.sent_outcome,
 * read by v_messages and the index messages_sort_outcome): it comes from
 * rows written after the message's own (the reply to the end of its
 * data, an APPEND's tagged reply, LMTP's reply per recipient), so the
 * sessions whose commands, replies, transactions, recipients or messages
 * changed have their sent messages' outcomes worked out again at the
 * commit, from the rows, as the view worked them out before.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "store/sqlite/sqlite_priv.h"

void
counts_touch(struct sqlite_store *s, int64_t sid)
{
	struct session_ids *l = &s->counted;

	/* a session's events come in runs: the last one noted is often
	 * this one */
	if (l->n > 0 && l->id[l->n - 1] == sid)
		return;
	if (session_ids_add(l, sid) == 0)
		return;
	/* no memory: those noted are counted now, their commands written
	 * first, and this one is noted in their place */
	cmds_write_waiting(s);
	counts_write_waiting(s);
	if (session_ids_add(l, sid) != 0)
		s->stats.errors++;
}

void
counts_session_ends(struct sqlite_store *s, int64_t sid)
{
	/* no memory: counted again at the commit, to the same */
	(void)session_ids_add(&s->counts_ended, sid);
}

void
counts_write_waiting(struct sqlite_store *s)
{
	struct session_ids *l = &s->counted, *e = &s->counts_ended;
	sqlite3_stmt	   *st = s->st[ST_SESSION_COUNTS];
	int64_t		    last = -1;

	if (s->db != NULL && l->n > 0) {
		session_ids_sort(l);
		session_ids_sort(e);
		for (size_t i = 0; i < l->n; i++) {
			if (l->id[i] == last)
				continue;
			last = l->id[i];
			sqlite3_bind_int64(s->st[ST_SENT_OUTCOMES], 1, last);
			db_run(s, ST_SENT_OUTCOMES);
			if (session_ids_has(e, last)) /* its end counted it */
				continue;
			sqlite3_bind_int64(st, 11, last);
			db_run(s, ST_SESSION_COUNTS);
		}
	}
	l->n = e->n = 0;
}

void
counts_free(struct sqlite_store *s)
{
	free(s->counted.id);
	free(s->counts_ended.id);
	s->counted = s->counts_ended = (struct session_ids) { 0 };
}
