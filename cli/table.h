/*
 * table.h - query results for people (aligned, width-aware tables) and
 * for programs (JSON lines, CSV).
 */
#ifndef MAILSIFT_TABLE_H
#define MAILSIFT_TABLE_H

#include <stdio.h>

#include "store/query.h"

/* OUT_WIDE: a table with every cell whole (not to a terminal, or
 * --wide); OUT_TABLE fits the terminal, cutting the widest columns but
 * never a time */
enum out_format { OUT_TABLE, OUT_WIDE, OUT_JSON, OUT_CSV };

/* Steps st to the end writing CSV (a header line, then the rows) to f;
 * with guard, a value a spreadsheet would run as a formula is written
 * with a leading '.  Returns rows, or -1. */
int table_csv(FILE *f, struct query_rows *st, int guard);
/* Steps st to the end, printing each row; returns rows, or -1. */
int table_print(struct query_rows *st, enum out_format fmt);
/* A column's values (--values): in a table, the rows without a value
 * (NULL) are "(none)", as the workbench says, not a blank that an empty
 * value would print too; CSV and JSON as table_print. */
int table_print_values(struct query_rows *st, enum out_format fmt);
/* The same to out (a table fits the terminal that stdout is). */
int table_fprint(FILE *out, struct query_rows *st, enum out_format fmt);

/* The current row of st as one JSON object and a newline. */
/* s as a JSON string, valid UTF-8 whatever s holds (U+FFFD for a byte
 * that is not) */
void table_json_string(FILE *f, const char *s);
void table_row_json(FILE *f, struct query_rows *st, int skip_null);
/* The same, column col's value given as text (not NULL) instead. */
void table_row_json_with(FILE *f, struct query_rows *st, int skip_null, int col,
    const char *text);

#endif
