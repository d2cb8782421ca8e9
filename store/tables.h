/*
 * tables.h - the log's tables as store/tables.def declares them, for
 * the backends' code that goes over all of them (spool, ship, rotation).
 */
#ifndef MAILSIFT_TABLES_H
#define MAILSIFT_TABLES_H

enum table_kind {
	TABLE_RUN,
	TABLE_OF_RUN,
	TABLE_SESSION,
	TABLE_OF_SESSION,
	TABLE_MESSAGE,
	TABLE_OF_MESSAGE,
	TABLE_TEXT,
};

struct table_desc {
	const char     *name;
	enum table_kind kind;
};

/* In tables.def's order: parents first. */
extern const struct table_desc store_tables[];
extern const int	       store_ntables;

#endif
