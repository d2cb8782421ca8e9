/* \summary: the flow table: detection, libnids callbacks, expiry */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <nids.h>
#include <pcap.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_priv.h"
#include "capture/decap.h"
#include "capture/wire.h"

/* ------------------------------------------------ ended connections */

uint32_t
cap_tuple_key(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
	uint64_t x = (uint64_t)a << 16 | ap, y = (uint64_t)b << 16 | bp;
	uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
	uint64_t h = (lo * 0x9e3779b97f4a7c15ull) ^ (hi + 0x7f4a7c15ull);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ (h >> 32)) | 1; /* 0 marks an empty slot */
}

static void
seen_mark(const struct tuple4 *t)
{
	uint32_t k = cap_tuple_key(t->saddr, t->source, t->daddr, t->dest);

	cap.seen.key[k % SEEN_SLOTS] = k;
	cap.seen.ts[k % SEEN_SLOTS] = cap_now_us();
}

int
cap_seen_recently(uint32_t k, uint64_t ts)
{
	return cap.seen.key[k % SEEN_SLOTS] == k &&
	    ts < cap.seen.ts[k % SEEN_SLOTS] + SEEN_US;
}

/* ----------------------------------------------------------- flow setup */

void
cap_prelude_free(struct prelude *pre)
{
	cap.prelude_bytes -= pre->charged;
	free(pre->buf[0]);
	free(pre->buf[1]);
	free(pre->order);
	memset(pre, 0, sizeof(*pre));
}

/*
 * Keeps early bytes for detection; returns -1 when the flow's cap or the
 * global budget is reached.  Segments in a row one way are one run: only
 * the order between directions matters to the replay.
 */
static int
prelude_add(struct prelude *pre, enum md_dir dir, const uint8_t *p, size_t n)
{
	size_t	 charge = n + sizeof(*pre->order);
	uint8_t *nb;

	if (pre->len[dir] + n > MD_DETECT_MAX)
		return -1;
	if (cap.prelude_bytes + charge > cap.opts.detect_budget) {
		cap.stats.detect_over_budget++;
		return -1;
	}
	if ((nb = realloc(pre->buf[dir], pre->len[dir] + n)) == NULL)
		return -1;
	pre->buf[dir] = nb;
	memcpy(nb + pre->len[dir], p, n);
	pre->len[dir] += n;
	pre->charged += n;
	cap.prelude_bytes += n;
	if (pre->norder > 0 && pre->order[pre->norder - 1].dir == dir) {
		pre->order[pre->norder - 1].len += (uint32_t)n;
		return 0;
	}
	if (pre->norder == pre->order_cap) {
		size_t ncap = pre->order_cap ? pre->order_cap * 2 : 8;
		void  *no = realloc(pre->order, ncap * sizeof(*pre->order));
		if (no == NULL)
			return -1;
		pre->order = no;
		pre->charged += (ncap - pre->order_cap) * sizeof(*pre->order);
		cap.prelude_bytes +=
		    (ncap - pre->order_cap) * sizeof(*pre->order);
		pre->order_cap = ncap;
	}
	pre->order[pre->norder].dir = (uint8_t)dir;
	pre->order[pre->norder].len = (uint32_t)n;
	pre->norder++;
	return 0;
}

/* The connection's real addresses: IPv6 ones come back from v6map. */
static void
flow_addresses(struct flow *f, const struct tcp_stream *a)
{
	uint8_t	 c6[16], s6[16];
	uint32_t k;

	f->info.family = AF_INET;
	memcpy(f->info.cli_addr, &a->addr.saddr, 4);
	memcpy(f->info.srv_addr, &a->addr.daddr, 4);
	if (v6map_lookup(&cap.v6, (const uint8_t *)&a->addr.saddr, c6) &&
	    v6map_lookup(&cap.v6, (const uint8_t *)&a->addr.daddr, s6)) {
		f->info.family = AF_INET6;
		memcpy(f->info.cli_addr, c6, 16);
		memcpy(f->info.srv_addr, s6, 16);
	}
	f->info.cli_port = a->addr.source;
	f->info.srv_port = a->addr.dest;
	f->info.midstream = cap.synthesizing;
	f->info.frame = f->info.first_frame = cap.frame;
	f->info.offset = f->info.first_offset = cap.offset;
	f->info.first_ts = cap_now_us();
	k = cap_tuple_key(a->addr.saddr, a->addr.source, a->addr.daddr,
	    a->addr.dest);
	if (cap.syns.key[k % SEEN_SLOTS] == k) {
		f->info.first_frame = cap.syns.frame[k % SEEN_SLOTS];
		f->info.first_offset = cap.syns.offset[k % SEEN_SLOTS];
		f->info.first_ts = cap.syns.ts[k % SEEN_SLOTS];
		cap.syns.key[k % SEEN_SLOTS] = 0;
	}
}

/* IMAP's ports, plain and over TLS. */
static int
imap_port(u_short p)
{
	return p == 143 || p == 993;
}

/*
 * Whether this process dissects the connection (read --jobs): a hash of
 * its two endpoints that is the same both ways, so that both directions
 * of a connection go to one job, and every job sees the same numbers.
 * IMAP's connections go by their addresses alone: a client fetches one
 * message in pieces over several connections to its server
 * (Thunderbird's chunks), and the pieces are joined only in the job
 * that sees them all (dissect/assemble.c).
 */
static int
ours(const struct tuple4 *t)
{
	int	 by_host = imap_port(t->source) || imap_port(t->dest);
	uint64_t a = (uint64_t)t->saddr << 16 | (by_host ? 0 : t->source);
	uint64_t b = (uint64_t)t->daddr << 16 | (by_host ? 0 : t->dest);
	uint64_t h;

	if (cap.opts.share_n < 2)
		return 1;
	if (a > b) {
		uint64_t x = a;

		a = b;
		b = x;
	}
	h = a * 0x9e3779b97f4a7c15ull ^ b;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h % cap.opts.share_n == cap.opts.share_k;
}

/*
 * Whether an IPv4 packet (IPv6 already given its stand-ins) belongs to a
 * connection another job of read --jobs dissects: such a packet is not
 * handed to libnids at all, so that each job reassembles only its own
 * share instead of every connection (16 jobs did 16 times libnids' work).
 * The decision is ours() on the packet's own addresses and ports, the
 * same libnids keys the connection by.  A fragment carries no ports (or
 * not in every piece): it goes to libnids in every job, and ours()
 * decides once it is whole, at the connection's start as before.
 */
int
cap_another_jobs(const uint8_t *ip, size_t n)
{
	size_t	      hlen = (size_t)(ip[0] & 0x0f) * 4;
	struct tuple4 t;

	if (cap.opts.share_n < 2 || ip[9] != IPPROTO_TCP || ipv4_fragment(ip) ||
	    n < hlen + 4)
		return 0;
	memcpy(&t.saddr, ip + 12, 4);
	memcpy(&t.daddr, ip + 16, 4);
	t.source = be16(ip + hlen);
	t.dest = be16(ip + hlen + 2);
	return !ours(&t);
}

/*
 * Opens the dissector and replays the bytes held during detection in
 * their arrival order, less any tunnel preamble.
 */
static int
flow_start(struct flow *f, const struct md_detect_out *d)
{
	struct prelude *pre = &f->pre;
	size_t	 off[2] = { 0, 0 }, skip[2] = { d->c2s_skip, d->s2c_skip };
	uint64_t ts = cap_now_us();

	f->info.id = ++cap.next_flow_id;
	f->info.proto = d->proto->id;
	f->proto = d->proto;
	f->st =
	    d->proto->open(&cap.opts.sink, &cap.opts.env, &f->info, d->tls, ts);
	if (f->st == NULL)
		return -1;
	f->state = FLOW_ACTIVE;
	cap.stats.sessions++;
	for (size_t i = 0; i < pre->norder; i++) {
		int    dir = pre->order[i].dir;
		size_t n = pre->order[i].len, cut = 0;

		if (off[dir] < skip[dir])
			cut =
			    skip[dir] - off[dir] < n ? skip[dir] - off[dir] : n;
		if (n > cut)
			f->proto->feed(f->st, (enum md_dir)dir,
			    pre->buf[dir] + off[dir] + cut, n - cut, ts);
		off[dir] += n;
	}
	cap_prelude_free(pre);
	return 0;
}

static enum md_verdict
flow_detect(struct flow *f, struct md_detect_out *d)
{
	struct md_detect_in in = {
		.c2s = f->pre.buf[MD_C2S],
		.c2s_len = f->pre.len[MD_C2S],
		.s2c = f->pre.buf[MD_S2C],
		.s2c_len = f->pre.len[MD_S2C],
		.srv_port = f->info.srv_port,
		.midstream = f->info.midstream,
	};

	return md_detect(&in, d);
}

static void
flow_link(struct flow *f)
{
	cap.nflows++;
	f->next = cap.flows;
	if (cap.flows != NULL)
		cap.flows->prev = f;
	cap.flows = f;
}

/*
 * The flow's libnids stream, or NULL when libnids freed it without a word
 * (it does when a new SYN reuses a connection's ports after its
 * tcp_flow_timeout): the pointer is only trusted when the table still
 * holds it under the flow's key.
 */
static struct tcp_stream *
flow_stream(struct flow *f)
{
	if (f->stream == NULL || nids_find_tcp_stream(&f->addr) != f->stream)
		return NULL;
	return f->stream;
}

void
cap_flow_free(struct flow *f)
{
	if (f->stream != NULL) {
		struct tcp_stream *a = flow_stream(f);

		if (a != NULL)
			a->user = NULL;
		cap.nflows--;
	}
	if (f->prev != NULL)
		f->prev->next = f->next;
	else if (cap.flows == f)
		cap.flows = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	cap_prelude_free(&f->pre);
	free(f);
}

/* Stops libnids from collecting a stream we do not dissect. */
static void
flow_ignore(struct tcp_stream *a, struct flow *f)
{
	seen_mark(&a->addr);
	a->client.collect--;
	a->server.collect--;
	cap.stats.ignored++;
	cap_flow_free(f);
}

/* ------------------------------------------------------ libnids callback */

/* Says in the session's log which cap ended it. */
static void
flow_cap_anomaly(struct flow *f, const char *cap_name, uint64_t ts)
{
	struct md_event ev = { .type = MD_EV_ANOMALY, .dir = MD_C2S };

	ev.ts_us = ts;
	ev.flow = &f->info;
	ev.name.p = (const uint8_t *)cap_name;
	ev.name.len = strlen(cap_name);
	cap.opts.sink.emit(cap.opts.sink.arg, &ev);
}

/*
 * Bytes the capture lost (see cap_fill_holes): the dissector is told how many,
 * so that framing by length survives and the loss is on record.  A flow
 * still being recognised is judged on what came before the hole.
 */
static int
flow_gap(struct tcp_stream *a, struct flow *f, enum md_dir dir, size_t n)
{
	struct md_detect_out d;

	cap.stats.gap_bytes += n;
	if (f->state == FLOW_DETECTING &&
	    (flow_detect(f, &d) != MD_DETECT_YES || flow_start(f, &d) != 0)) {
		flow_ignore(a, f);
		return -1;
	}
	f->proto->gap(f->st, dir, n, cap_now_us());
	return 0;
}

/*
 * libnids counts each direction's bytes in an int: a connection that
 * nears INT_MAX one way (2 GiB, by data or by holes the wire claims) is
 * ended with an anomaly before a counter overflows.  The margin is more
 * than any one segment can add.
 */
#define STREAM_COUNT_MAX (INT_MAX - (1 << 24))

int
cap_stream_too_long(const struct half_stream *h, uint64_t more)
{
	return (uint64_t)h->count + more > (uint64_t)STREAM_COUNT_MAX;
}

/* Ends a dissected flow that a capture-layer bound stops, from within
 * libnids' callback: libnids drops its listener when collect falls. */
static void
flow_stop(struct tcp_stream *a, struct flow *f, const char *why)
{
	flow_cap_anomaly(f, why, f->last_us);
	f->proto->close(f->st, MD_END_ERROR, cap_now_us());
	f->st = NULL;
	flow_ignore(a, f);
}

void
cap_on_data(struct tcp_stream *a, struct flow *f)
{
	/* a libnids callback: the filler being fed is the capture's */
	struct cap_filler   *fl = &cap.filler;
	struct half_stream  *h;
	enum md_dir	     dir;
	struct md_detect_out d;
	const uint8_t	    *p;
	size_t		     n;

	if (a->server.count_new > 0) {
		h = &a->server;
		dir = MD_C2S;
	} else {
		h = &a->client;
		dir = MD_S2C;
	}
	n = (size_t)h->count_new;
	p = (const uint8_t *)h->data + (h->count - h->offset) - h->count_new;
	/* the bytes arrived with this packet (or it filled the hole before
	 * them): the provenance an examiner can cite */
	f->info.frame = cap.frame;
	f->info.offset = cap.offset;
	f->last_us = cap_now_us();
	if (fl->left > 0) {
		/* a made-up filler: the bytes the capture lost */
		size_t lost = n < fl->left ? n : fl->left;

		fl->left -= lost;
		if ((!fl->silent && flow_gap(a, f, dir, lost) != 0) ||
		    lost == n)
			return;
		p += lost;
		n -= lost;
	}
	if (f->state == FLOW_ACTIVE) {
		if (cap_stream_too_long(h, 0)) {
			flow_stop(a, f, MD_ANOM_STREAM_TOO_LONG);
			return;
		}
		if (f->proto->feed(f->st, dir, p, n, cap_now_us()) != 0) {
			f->proto->close(f->st, MD_END_ERROR, cap_now_us());
			f->st = NULL;
			flow_ignore(a, f);
		}
		return;
	}
	if (prelude_add(&f->pre, dir, p, n) != 0) {
		flow_ignore(a, f);
		return;
	}
	switch (flow_detect(f, &d)) {
	case MD_DETECT_YES:
		if (flow_start(f, &d) != 0)
			flow_ignore(a, f);
		break;
	case MD_DETECT_NO:
		flow_ignore(a, f);
		break;
	case MD_DETECT_MORE:
		break;
	}
}

static enum md_end
end_reason(int nids_state)
{
	switch (nids_state) {
	case NIDS_CLOSE:
		return MD_END_CLOSE;
	case NIDS_RESET:
		return MD_END_RESET;
	case NIDS_TIMED_OUT:
		cap.stats.streams_evicted++;
		return MD_END_TIMEOUT;
	case NIDS_EXITING:
		return MD_END_CAPTURE_END;
	default:
		return MD_END_UNKNOWN;
	}
}

/* The connection ended: a last verdict on what was held, then close. */
static void
on_end(struct flow *f, int nids_state)
{
	struct md_detect_out d;
	uint64_t	     end_us;

	if (f->state == FLOW_DETECTING) {
		if (flow_detect(f, &d) != MD_DETECT_YES ||
		    flow_start(f, &d) != 0) {
			cap.stats.ignored++;
			cap_flow_free(f);
			return;
		}
	}
	if (nids_state == NIDS_TIMED_OUT) /* libnids' table was full */
		flow_cap_anomaly(f, MD_ANOM_TOO_MANY_STREAMS, cap_now_us());
	/* a connection still open when the capture ends ends at its own
	 * last packet, not at the capture's */
	end_us = f->last_us;
	if (nids_state != NIDS_EXITING || end_us == 0)
		end_us = cap_now_us();
	f->proto->close(f->st, end_reason(nids_state), end_us);
	cap_flow_free(f);
}

/*
 * libnids' callback.  The flow is a->user, not *param: a flow the capture
 * layer ended itself (a new SYN reusing its ports, a bound) has cleared
 * a->user, while libnids' listener may keep its old *param and call back
 * with it later, at nids_exit (found by fuzz_pipeline as a use after
 * free).
 */
void
cap_on_tcp(struct tcp_stream *a, void **param)
{
	struct flow *f = a->user;

	switch (a->nids_state) {
	case NIDS_JUST_EST:
		if (!ours(&a->addr))
			return; /* another job's: not collected */
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return;
		flow_addresses(f, a);
		f->stream = a;
		f->addr = a->addr;
		a->user = f;
		f->last_us = cap_now_us();
		flow_link(f);
		a->client.collect++;
		a->server.collect++;
		*param = f;
		cap.stats.tcp_streams++;
		break;
	case NIDS_DATA:
		if (f != NULL)
			cap_on_data(a, f);
		break;
	default:
		seen_mark(&a->addr);
		if (f != NULL &&
		    (a->nids_state == NIDS_CLOSE ||
			a->nids_state == NIDS_RESET)) {
			/* the FIN's acknowledgement or the RST ends it */
			f->info.frame = cap.frame;
			f->info.offset = cap.offset;
		}
		if (f != NULL)
			on_end(f, a->nids_state);
		*param = NULL;
		break;
	}
}

void
cap_on_nids_warning(int type, int errnum, struct ip *iph, void *data)
{
	(void)type;
	(void)errnum;
	(void)iph;
	(void)data;
	cap.stats.nids_warnings++;
}

void
cap_on_nids_no_mem(char *where)
{
	fprintf(stderr,
	    "mailsift: out of memory in libnids (%s); "
	    "stopping\n",
	    where);
	capture_live_flush();
	if (cap.opts.on_no_mem != NULL)
		cap.opts.on_no_mem(cap.opts.no_mem_arg);
	exit(3); /* libnids cannot go on: it would use what it did not get */
}

size_t
capture_active_flows(void)
{
	return (size_t)cap.nflows;
}

/* Ends one connection as timed out, and makes libnids forget it. */
/*
 * Ends a flow and frees its libnids stream at once; only outside libnids'
 * callbacks (between packets), where nothing of libnids still holds it.
 */
void
cap_flow_end_now(struct flow *f, const char *why, enum md_end end)
{
	struct tcp_stream *a = flow_stream(f);

	seen_mark(&f->addr);
	if (f->state == FLOW_ACTIVE) {
		flow_cap_anomaly(f, why, f->last_us);
		f->proto->close(f->st, end, cap_now_us());
	} else {
		cap.stats.ignored++;
	}
	cap_flow_free(f);
	if (a != NULL)
		nids_free_tcp_stream(a);
}

static void
flow_expire(struct flow *f, const char *why)
{
	cap.stats.streams_evicted++;
	cap_flow_end_now(f, why, MD_END_TIMEOUT);
}

/*
 * Connections that never close must not hold memory for ever: those idle
 * for idle_us (by the clock now_us_wall), and beyond max_flows the least
 * recently active, are ended as timed out.
 */
void
capture_expire(uint64_t now_us_wall, uint64_t idle_us, size_t max_flows)
{
	struct flow *f, *next;

	for (f = cap.flows; f != NULL; f = next) {
		next = f->next;
		if (f->last_us + idle_us < now_us_wall)
			flow_expire(f, MD_ANOM_IDLE_TIMEOUT);
	}
	while (cap.nflows > max_flows) {
		struct flow *oldest = cap.flows;

		for (f = cap.flows; f != NULL; f = f->next)
			if (f->last_us < oldest->last_us)
				oldest = f;
		flow_expire(oldest, MD_ANOM_TOO_MANY_STREAMS);
	}
}
