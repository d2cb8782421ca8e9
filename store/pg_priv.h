/*
 * pg_priv.h - inside the PostgreSQL backend: shared by pg.c (the write
 * side: a SQLite spool shipped to the server) and pg_query.c (the read
 * side).  Nothing outside store/ includes it.
 */
#ifndef MAILSIFT_PG_PRIV_H
#define MAILSIFT_PG_PRIV_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define PG_SPOOL_DIR	PG_SPOOL_HINT
#define PG_BLOB_CHUNK	(1024 * 1024) /* bytes of a row of blobs */
#define PG_SHIP_WALL_US 1000000	      /* ship at most once a second */
#define PG_RETRY_US	5000000	      /* a server away: try again after */
#define PG_PRUNE_US	30000000      /* shipped sessions leave the spool */

/* Whether where names a PostgreSQL database (a libpq URI). */
int pg_takes(const char *where);
/*
 * Connects to where with the session settings both sides rely on (UTC,
 * ISO dates, quiet notices).  With create, a database without the log's
 * tables gets them; one of another schema version is refused.  NULL
 * with err set.
 */
PGconn *pg_connect(const char *where, int create, char *err, size_t errlen);
/* "ERROR: ..." of the last command, on one line. */
void pg_error(PGconn *, const char *what, char *err, size_t errlen);

/* Write side, pg.c; read side, pg_query.c. */
struct query *pg_query_open(const char *where, char *err, size_t errlen);

#endif
