/* \summary: SQLite store: the trigram index of the messages' addresses */
/*
 * A part of an address (`--from bank.example`, `from:`, `to:`, `addr:`)
 * is a LIKE '%x%', which no B-tree answers: at a million messages the
 * page of a sender's messages read every message, 311 ms.  message_addrs
 * indexes the From, To and Cc of each message by its trigrams (FTS5's
 * trigram tokenizer), so that the rows holding a rare part are found by
 * some of its trigrams and only they are read (cli/listings.c,
 * listing_addr_rows: asked by MATCH, not by the tokenizer's LIKE,
 * which SQLite 3.40 crashes in on some patterns).
 *
 * It holds its own copy of the addresses (an external-content table's
 * 'delete' must be given exactly what it indexed, or the index is
 * corrupt: a rowid is all a DELETE here needs), with no positions
 * (detail=none: the listing checks its LIKE on the row anyway) and no
 * sizes (columnsize=0: nothing ranks these).  A message's row is in it
 * when one of its addresses is not NULL.  The writer indexes its
 * messages itself, those whose addresses it wrote since the last
 * commit, just before the next (its triggers are off: its sums are its
 * own; sqlite_msgs.c, addrs_write_waiting); the triggers below index the
 * rows that arrive otherwise: another process's spool shipped (INSERT
 * OR REPLACE: the displaced row goes through the DELETE trigger, every
 * writer sets recursive_triggers), a rotation's carried rows.  A row
 * the index holds that the log does not (a message's row replaced while
 * the triggers were off) is a candidate the listing's own LIKE drops.
 *
 * Only a log has it, not a worker's spool (the log it ships to indexes
 * what it receives).  PostgreSQL has pg_trgm's indexes for the same
 * (pg_schema.sql).  A log written before it gets it filled when a
 * writer next opens it; one opened read-only goes on reading every row.
 */
#include <sqlite3.h>

#include "store/sqlite/sqlite_priv.h"

#define ANY_ADDR(r)                                                        \
	"(" r ".from_addr IS NOT NULL OR " r ".to_addrs IS NOT NULL OR " r \
	".cc_addrs IS NOT NULL)"
#define ADDRS_IN(r)                                                         \
	"INSERT OR REPLACE INTO message_addrs (rowid, from_addr, to_addrs," \
	" cc_addrs) SELECT " r ".id, " r ".from_addr, " r ".to_addrs, " r   \
	".cc_addrs WHERE " ANY_ADDR(r) ";"
#define ADDRS_OUT(r) "DELETE FROM message_addrs WHERE rowid = " r ".id;"

static const char *const addrs_schema[] = {
	"CREATE VIRTUAL TABLE IF NOT EXISTS message_addrs USING"
	" fts5(from_addr, to_addrs, cc_addrs, tokenize='trigram',"
	" detail='none', columnsize=0)",
	"CREATE TRIGGER IF NOT EXISTS message_addrs_in AFTER INSERT ON"
	" messages BEGIN " ADDRS_IN("new") " END",
	"CREATE TRIGGER IF NOT EXISTS message_addrs_out AFTER DELETE ON"
	" messages BEGIN " ADDRS_OUT("old") " END",
	"CREATE TRIGGER IF NOT EXISTS message_addrs_changed AFTER UPDATE OF"
	" id, from_addr, to_addrs, cc_addrs ON messages WHEN"
	" old.id IS NOT new.id OR old.from_addr IS NOT new.from_addr OR"
	" old.to_addrs IS NOT new.to_addrs OR old.cc_addrs IS NOT"
	" new.cc_addrs BEGIN " ADDRS_OUT("old") ADDRS_IN("new") " END",
};

/* The rows of a log written before the index. */
static const char addrs_fill[] = "INSERT INTO message_addrs (rowid,"
				 " from_addr, to_addrs, cc_addrs)"
				 " SELECT id, from_addr, to_addrs, cc_addrs"
				 " FROM messages WHERE " ANY_ADDR("messages");

static int
addrs_make(sqlite3 *db, char **msg)
{
	return sqlite_schema_filled(db, addrs_schema,
	    sizeof(addrs_schema) / sizeof(*addrs_schema),
	    sqlite_has_table(db, "message_addrs"), addrs_fill, msg);
}

int
sqlite_addrs_schema(sqlite3 *db, char *err, size_t errlen)
{
	return sqlite_sums_schema(db, addrs_make, "the addresses' index", err,
	    errlen);
}
