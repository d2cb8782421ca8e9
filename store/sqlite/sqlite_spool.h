/*
 * sqlite_spool.h - a SQLite log as the outbox of another backend.
 *
 * The PostgreSQL backend lets the SQLite store write a local log (the
 * spool) and ships what each commit changed.  Triggers record the keys
 * of the rows inserted, updated and deleted in outbox tables beside the
 * log's own; a drain hands those rows, table by table, to the receiver,
 * and once the receiver has committed them the outbox is emptied.  A
 * receiver that is away leaves the outbox growing in the file, to be
 * drained when it is back, by this run or the next (the file stays).
 * Nothing here knows the receiver: values pass as SQLite has them.
 */
#ifndef MAILSIFT_SQLITE_SPOOL_H
#define MAILSIFT_SQLITE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

enum spool_type { SPOOL_NULL, SPOOL_INT, SPOOL_REAL, SPOOL_TEXT, SPOOL_BLOB };

struct spool_value {
	enum spool_type type;
	int64_t		i;
	double		r;
	const char     *p; /* text or blob, len bytes; valid for the row */
	size_t		len;
};

/* What a drain hands over.  Each callback returns 0, or -1 to stop. */
struct spool_out {
	void *arg;
	/* Rows of table deleted since the last drain, by their key (the
	 * tables whose key is one integer). */
	int (*gone)(void *arg, const char *table, const char *key,
	    const int64_t *keys, size_t n);
	/* The changed rows of table follow, with these columns; key names
	 * the columns of its key ("rowid" for a table without one). */
	int (*table)(void *arg, const char *table, const char *const *cols,
	    int ncols, const char *const *key, int nkey);
	int (*row)(void *arg, const struct spool_value *vals);
	int (*end)(void *arg, const char *table);
};

/*
 * Records the changes of tables (in the order to drain them) of the
 * SQLite store sqlite_store (the impl of store_backend_sqlite, just
 * opened).  A table "message_text" is made a plain table: an FTS5 table
 * cannot carry triggers, and the receiver indexes the text itself.
 */
struct spool *spool_attach(void *sqlite_store, const char *const *tables,
    int ntables, char *err, size_t errlen);
/* Opens a spool file written earlier (a run that ended, or died), to
 * drain what it holds. */
struct spool *spool_open_file(const char *path, const char *const *tables,
    int ntables, char *err, size_t errlen);
/* Hands every recorded change to out; 0, or -1 (spool_error says why
 * when SQLite failed; the receiver's callbacks keep their own). */
int spool_drain(struct spool *, const struct spool_out *out);
/* The receiver has committed the last drain: empties the outbox. */
int spool_forget(struct spool *);
/* Calls each with every distinct value of expr (SQL over the table's
 * columns, as t.col) among the changed rows of table waiting in the
 * outbox; 0, or -1. */
int spool_distinct(struct spool *, const char *table, const char *expr,
    void (*each)(void *arg, const char *value), void *arg);
/* Bytes the spool's pages hold (its file less its free pages). */
int64_t spool_used_bytes(struct spool *);
/* Rows waiting in the outbox (changes not yet drained and forgotten). */
int64_t spool_pending(struct spool *);
/* Drops from the log the rows of sessions that ended (30 s of capture
 * time before the latest seen) once the outbox is empty: what the
 * receiver has, the spool need not keep. */
int spool_prune(struct spool *);
/* A value kept with the spool (the receiver's ids for this file). */
int spool_meta_set(struct spool *, const char *key, const char *value);
int spool_meta_get(struct spool *, const char *key, char *buf, size_t len);
const char *spool_error(const struct spool *);
/* Ends the spool; a file opened by spool_open_file is closed. */
void spool_close(struct spool *);

#endif
