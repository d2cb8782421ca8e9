/* \summary: the messages open at once, found by (flow, tx) */
#include <stddef.h>

#include "dissect/txtable.h"

struct md_txnode **
md_tx_chain(struct md_txtable *t, uint64_t flow_id)
{
	/* Fibonacci hashing: flow ids are consecutive, the top bits mix */
	return &t->bucket[(flow_id * 0x9e3779b97f4a7c15u) >> 52 &
	    (MD_TX_BUCKETS - 1)];
}

struct md_txnode **
md_tx_slot(struct md_txtable *t, uint64_t flow_id, uint32_t tx)
{
	struct md_txnode **pp = md_tx_chain(t, flow_id);

	while (*pp != NULL && ((*pp)->flow_id != flow_id || (*pp)->tx != tx))
		pp = &(*pp)->next;
	return pp;
}

void
md_tx_insert(struct md_txnode **slot, struct md_txnode *n)
{
	n->next = *slot;
	*slot = n;
}

struct md_txnode *
md_tx_remove(struct md_txnode **slot)
{
	struct md_txnode *n = *slot;

	*slot = n->next;
	n->next = NULL;
	return n;
}

struct md_txnode *
md_tx_pop_any(struct md_txtable *t)
{
	for (size_t i = 0; i < MD_TX_BUCKETS; i++)
		if (t->bucket[i] != NULL)
			return md_tx_remove(&t->bucket[i]);
	return NULL;
}
