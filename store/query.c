/* \summary: reading a log, through the backend that keeps it */
#include "store/backend.h"
#include "store/query.h"

struct query *
query_open(const char *where, char *err, size_t errlen)
{
	const struct store_backend *be = store_backend_for(where, err, errlen);

	return be == NULL ? NULL : be->query_open(where, err, errlen);
}

void
query_close(struct query *q)
{
	if (q != NULL)
		q->ops->close(q);
}

const char *
query_error(const struct query *q)
{
	return q->ops->error(q);
}

struct query_rows *
query_prepare(struct query *q, const char *sql)
{
	return q->ops->prepare(q, sql);
}

void
query_bind_int(struct query_rows *r, int i, int64_t v)
{
	r->ops->bind_int(r, i, v);
}

void
query_bind_text(struct query_rows *r, int i, const char *v)
{
	r->ops->bind_text(r, i, v);
}

int
query_next(struct query_rows *r)
{
	return r->ops->next(r);
}

void
query_reset(struct query_rows *r)
{
	r->ops->reset(r);
}

int
query_columns(const struct query_rows *r)
{
	return r->ops->columns(r);
}

const char *
query_name(const struct query_rows *r, int i)
{
	return r->ops->name(r, i);
}

enum query_type
query_type(const struct query_rows *r, int i)
{
	return r->ops->type(r, i);
}

const char *
query_text(const struct query_rows *r, int i)
{
	return r->ops->text(r, i);
}

int64_t
query_int(const struct query_rows *r, int i)
{
	return r->ops->integer(r, i);
}

double
query_real(const struct query_rows *r, int i)
{
	return r->ops->real(r, i);
}

void
query_finish(struct query_rows *r)
{
	if (r != NULL)
		r->ops->finish(r);
}

const char *
query_search_sql(const struct query *q)
{
	return q->ops->search_sql(q);
}

int
query_nulls_low(const struct query *q)
{
	return q->ops->nulls_low(q);
}

int
query_try(struct query_rows *r, long ms)
{
	return r->ops->try_within(r, ms);
}

const char *
query_sort_filtered(const struct query *q)
{
	return q->ops->sort_filtered(q);
}

int
query_addr_index(struct query *q)
{
	return q->ops->addr_index(q);
}

int
query_outcome_kept(struct query *q)
{
	return q->ops->outcome_kept(q);
}

FILE *
query_blob(struct query *q, const char *sha, char *err, size_t errlen)
{
	return q->ops->blob(q, sha, err, errlen);
}
