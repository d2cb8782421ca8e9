/* \summary: the log's tables, from tables.def */
#include "store/tables.h"

const struct table_desc store_tables[] = {
#define TABLE(name, kind) { #name, TABLE_##kind },
#include "store/tables.def"
#undef TABLE
};
const int store_ntables = (int)(sizeof(store_tables) / sizeof(*store_tables));
