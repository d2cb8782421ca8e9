/*
 * pg_priv.h - inside the PostgreSQL backend: shared by pg.c (the
 * receiver of spooled rows, receiver.h) and pg_query.c (the read side).
 * Nothing outside store/ includes it.
 */
#ifndef MAILSIFT_PG_PRIV_H
#define MAILSIFT_PG_PRIV_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define PG_BLOB_CHUNK (1024 * 1024) /* bytes of a row of blobs */

/*
 * Connects to where with the session settings both sides rely on (UTC,
 * ISO dates, quiet notices).  With create, a database without the log's
 * tables gets them; one of another schema version is refused.  NULL
 * with err set.
 */
PGconn *pg_connect(const char *where, int create, char *err, size_t errlen);
/* "ERROR: ..." of the last command, on one line. */
void pg_error(PGconn *, const char *what, char *err, size_t errlen);

#endif
