/*
 * txtable.h - the messages open at once, found by (flow, tx).  The MIME
 * tap and the store both follow every message between its MSG_BEGIN and
 * MSG_END; this is their one table.  An entry is a struct that begins
 * with a struct md_txnode; the table neither allocates nor frees.
 *
 * All of one flow's entries share a chain, so a flow's messages are
 * found in one walk (a gap, a flow's end) and a chain stays short.
 */
#ifndef MAILSIFT_TXTABLE_H
#define MAILSIFT_TXTABLE_H

#include <stdint.h>

#define MD_TX_BUCKETS 4096

struct md_txnode {
	struct md_txnode *next;
	uint64_t	  flow_id;
	uint32_t	  tx;
};

struct md_txtable {
	struct md_txnode *bucket[MD_TX_BUCKETS];
};

/* The chain that holds every entry of flow_id (and of a few others). */
struct md_txnode **md_tx_chain(struct md_txtable *, uint64_t flow_id);
/* The link that points to (flow_id, tx), or the empty link at the end of
 * its chain, where md_tx_insert() puts a new one. */
struct md_txnode **md_tx_slot(struct md_txtable *, uint64_t flow_id,
    uint32_t tx);
/* Links n (its flow_id and tx set) at slot, an md_tx_slot() result. */
void md_tx_insert(struct md_txnode **slot, struct md_txnode *n);
/* Unlinks the entry at slot and returns it. */
struct md_txnode *md_tx_remove(struct md_txnode **slot);
/* Unlinks and returns any entry; NULL when the table is empty. */
struct md_txnode *md_tx_pop_any(struct md_txtable *);

#endif
