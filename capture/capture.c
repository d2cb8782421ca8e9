/* \summary: libpcap reading, libnids reassembly, flow dispatch */
/*
 * mailsift feeds libnids itself instead of letting it run its own capture
 * loop: libnids is initialised on a "dead" DLT_RAW handle and receives
 * bare IPv4 packets from nids_pcap_handler().  That way the link layers
 * and tunnels (decap.c), IPv6 (v6map.c), statistics, errors and the order
 * of several input files are ours.
 *
 * libnids is set up for real traffic:
 *   - TCP checksums are not verified (captures taken on the sending host
 *     carry offloaded, wrong checksums); broken IPv4 header checksums are
 *     repaired before libnids, which always checks them, sees the packet;
 *   - port-scan detection is off;
 *   - the stream table holds tens of thousands of connections.
 *
 * Naming trap: in libnids a_tcp->server is the half-stream the server
 * *receives*, i.e. client-to-server bytes.
 */
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

#include "capture.h"
#include "decap.h"
#include "v6map.h"

#define SNAP_MAX 262144 /* libpcap's MAXIMUM_SNAPLEN */

enum flow_state { FLOW_DETECTING, FLOW_ACTIVE };

/* Bytes seen before the protocol is known, with their arrival order. */
struct prelude {
	uint8_t *buf[2];
	size_t	 len[2];
	struct {
		uint8_t	 dir;
		uint32_t len;
	}	*order;
	size_t	 norder, order_cap;
	size_t	 charged; /* bytes counted against DETECT_BUDGET */
};

/*
 * Bytes held for detection by every flow together (capture_opts'
 * detect_budget).  Each flow holds at most MD_DETECT_MAX a direction, but
 * 50,000 undetected flows of 1-byte segments would still hold gigabytes:
 * past the budget a flow's further bytes are not held, the flow is not
 * dissected, and the run counts it (capture_stats.detect_over_budget).
 */

struct flow {
	struct flow	      *prev, *next; /* every flow libnids follows */
	struct tcp_stream     *stream;
	struct tuple4	       addr;	/* its key in libnids */
	uint64_t	       last_us; /* capture time of its last bytes */
	struct md_flow	       info;
	enum flow_state	       state;
	const struct md_proto *proto;
	void		      *st;
	struct prelude	       pre;
};

/*
 * Connections that ended or were set aside, by a hash of their 4-tuple,
 * so that their stray late packets do not look like connections picked
 * up mid-stream.  A collision only means one pickup is not attempted.
 */
#define SEEN_SLOTS 65536
#define SEEN_US	   (120 * 1000000ull) /* how long an end is remembered */

struct seen {
	uint32_t key[SEEN_SLOTS];
	uint64_t ts[SEEN_SLOTS];
};

/*
 * Where each connection's SYN was, by a hash of its 4-tuple, until
 * libnids reports the connection open: a session's provenance begins at
 * its first packet.  A collision only loses that detail.
 */
struct syns {
	uint32_t key[SEEN_SLOTS];
	uint64_t frame[SEEN_SLOTS];
	int64_t	 offset[SEEN_SLOTS];
	uint64_t ts[SEEN_SLOTS];
};

/* The libnids glue: libnids calls back without a context pointer. */
static struct {
	struct capture_opts  opts;
	struct capture_stats stats;
	pcap_t		    *dead;
	uint64_t	     next_flow_id;
	uint8_t		     pkt[SNAP_MAX];
	uint8_t		     v4[SNAP_MAX]; /* an IPv6 packet made IPv4 */
	struct pcap_pkthdr   hdr; /* libnids keeps a pointer to it */
	struct v6map	     v6;
	struct seen	     seen;
	struct syns	     syns;
	int		     synthesizing; /* feeding a made-up handshake */
	size_t		     fill_left; /* of a made-up hole filler */
	int		     fill_silent; /* its gap was told already */
	struct flow	    *flows;   /* open flows, for the final flush */
	struct pcap_pkthdr   fill_hdr;
	uint8_t		     fill[65535]; /* zeros: a hole's stand-in */
	uint64_t	     frame;  /* packet being read, from 1 per file */
	int64_t		     offset; /* where its record begins in the file */
	int		     inited;
	uint64_t	     nflows;
	size_t		     prelude_bytes; /* see prelude_add */
	pcap_t		    *live;   /* capture_live_open */
	pcap_dumper_t	    *dump;   /* -w: the packets, written as read */
	int64_t		     dump_next; /* where its next record goes */
	int		     live_dlt;
	int		     live_fd;
} cap;

static uint64_t
now_us(void)
{
	const struct pcap_pkthdr *h = nids_last_pcap_header;

	if (h == NULL)
		return 0;
	return (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
}

/* ------------------------------------------------ ended connections */

static uint32_t
tuple_key(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
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
	uint32_t k = tuple_key(t->saddr, t->source, t->daddr, t->dest);

	cap.seen.key[k % SEEN_SLOTS] = k;
	cap.seen.ts[k % SEEN_SLOTS] = now_us();
}

static int
seen_recently(uint32_t k, uint64_t ts)
{
	return cap.seen.key[k % SEEN_SLOTS] == k &&
	    ts < cap.seen.ts[k % SEEN_SLOTS] + SEEN_US;
}

/* ----------------------------------------------------------- flow setup */

static void
prelude_free(struct prelude *pre)
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
	size_t charge = n + sizeof(*pre->order);
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
		void *no = realloc(pre->order, ncap * sizeof(*pre->order));
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
	uint8_t c6[16], s6[16];
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
	f->info.first_ts = now_us();
	k = tuple_key(a->addr.saddr, a->addr.source, a->addr.daddr,
	    a->addr.dest);
	if (cap.syns.key[k % SEEN_SLOTS] == k) {
		f->info.first_frame = cap.syns.frame[k % SEEN_SLOTS];
		f->info.first_offset = cap.syns.offset[k % SEEN_SLOTS];
		f->info.first_ts = cap.syns.ts[k % SEEN_SLOTS];
		cap.syns.key[k % SEEN_SLOTS] = 0;
	}
}

/*
 * Opens the dissector and replays the bytes held during detection in
 * their arrival order, less any tunnel preamble.
 */
static int
flow_start(struct flow *f, const struct md_detect_out *d)
{
	struct prelude *pre = &f->pre;
	size_t off[2] = { 0, 0 }, skip[2] = { d->c2s_skip, d->s2c_skip };
	uint64_t ts = now_us();

	f->info.id = ++cap.next_flow_id;
	f->proto = d->proto;
	f->st = d->proto->open(&cap.opts.sink, &cap.opts.lim, &f->info,
	    d->tls, ts);
	if (f->st == NULL)
		return -1;
	f->state = FLOW_ACTIVE;
	cap.stats.sessions++;
	for (size_t i = 0; i < pre->norder; i++) {
		int dir = pre->order[i].dir;
		size_t n = pre->order[i].len, cut = 0;

		if (off[dir] < skip[dir])
			cut = skip[dir] - off[dir] < n ? skip[dir] - off[dir] : n;
		if (n > cut)
			f->proto->feed(f->st, (enum md_dir)dir,
			    pre->buf[dir] + off[dir] + cut, n - cut, ts);
		off[dir] += n;
	}
	prelude_free(pre);
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

static void
flow_free(struct flow *f)
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
	prelude_free(&f->pre);
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
	flow_free(f);
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
 * Bytes the capture lost (see fill_holes): the dissector is told how many,
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
	f->proto->gap(f->st, dir, n, now_us());
	return 0;
}

/*
 * libnids counts each direction's bytes in an int: a connection that
 * nears INT_MAX one way (2 GiB, by data or by holes the wire claims) is
 * ended with an anomaly before a counter overflows.  The margin is more
 * than any one segment can add.
 */
#define STREAM_COUNT_MAX (INT_MAX - (1 << 24))

static int
stream_too_long(const struct half_stream *h, uint64_t more)
{
	return (uint64_t)h->count + more > (uint64_t)STREAM_COUNT_MAX;
}

static void flow_end_now(struct flow *, const char *, enum md_end);

/* Ends a dissected flow that a capture-layer bound stops, from within
 * libnids' callback: libnids drops its listener when collect falls. */
static void
flow_stop(struct tcp_stream *a, struct flow *f, const char *why)
{
	flow_cap_anomaly(f, why, f->last_us);
	f->proto->close(f->st, MD_END_ERROR, now_us());
	f->st = NULL;
	flow_ignore(a, f);
}

static void
on_data(struct tcp_stream *a, struct flow *f)
{
	struct half_stream *h;
	enum md_dir dir;
	struct md_detect_out d;
	const uint8_t *p;
	size_t n;

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
	f->last_us = now_us();
	if (cap.fill_left > 0) {
		/* a made-up filler: the bytes the capture lost */
		size_t lost = n < cap.fill_left ? n : cap.fill_left;

		cap.fill_left -= lost;
		if ((!cap.fill_silent && flow_gap(a, f, dir, lost) != 0) ||
		    lost == n)
			return;
		p += lost;
		n -= lost;
	}
	if (f->state == FLOW_ACTIVE) {
		if (stream_too_long(h, 0)) {
			flow_stop(a, f, MD_ANOM_STREAM_TOO_LONG);
			return;
		}
		if (f->proto->feed(f->st, dir, p, n, now_us()) != 0) {
			f->proto->close(f->st, MD_END_ERROR, now_us());
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

	if (f->state == FLOW_DETECTING) {
		if (flow_detect(f, &d) != MD_DETECT_YES ||
		    flow_start(f, &d) != 0) {
			cap.stats.ignored++;
			flow_free(f);
			return;
		}
	}
	if (nids_state == NIDS_TIMED_OUT) /* libnids' table was full */
		flow_cap_anomaly(f, MD_ANOM_TOO_MANY_STREAMS, now_us());
	/* a connection still open when the capture ends ends at its own
	 * last packet, not at the capture's */
	f->proto->close(f->st, end_reason(nids_state),
	    nids_state == NIDS_EXITING && f->last_us != 0 ? f->last_us :
	    now_us());
	flow_free(f);
}

/*
 * libnids' callback.  The flow is a->user, not *param: a flow the capture
 * layer ended itself (a new SYN reusing its ports, a bound) has cleared
 * a->user, while libnids' listener may keep its old *param and call back
 * with it later, at nids_exit (found by fuzz_pipeline as a use after
 * free).
 */
static void
on_tcp(struct tcp_stream *a, void **param)
{
	struct flow *f = a->user;

	switch (a->nids_state) {
	case NIDS_JUST_EST:
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return;
		flow_addresses(f, a);
		f->stream = a;
		f->addr = a->addr;
		a->user = f;
		f->last_us = now_us();
		flow_link(f);
		a->client.collect++;
		a->server.collect++;
		*param = f;
		cap.stats.tcp_streams++;
		break;
	case NIDS_DATA:
		if (f != NULL)
			on_data(a, f);
		break;
	default:
		seen_mark(&a->addr);
		if (f != NULL && (a->nids_state == NIDS_CLOSE ||
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

static void
on_nids_warning(int type, int errnum, struct ip *iph, void *data)
{
	(void)type;
	(void)errnum;
	(void)iph;
	(void)data;
	cap.stats.nids_warnings++;
}

static void
on_nids_no_mem(char *where)
{
	fprintf(stderr, "mailsift: out of memory in libnids (%s); "
	    "stopping\n", where);
	capture_live_flush();
	if (cap.opts.on_no_mem != NULL)
		cap.opts.on_no_mem(cap.opts.no_mem_arg);
	exit(3); /* libnids cannot go on: it would use what it did not get */
}

int
capture_init(const struct capture_opts *opts, char *err, size_t errlen)
{
	/* Static: libnids keeps the pointer. */
	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM,
		0 };

	cap.opts = *opts;
	if (cap.opts.detect_budget == 0)
		cap.opts.detect_budget = (size_t)DEFAULT_DETECT_MB << 20;
	if ((cap.dead = pcap_open_dead(DLT_RAW, SNAP_MAX)) == NULL) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -1;
	}
	nids_params.pcap_desc = cap.dead;
	nids_params.filename = NULL;
	nids_params.device = NULL;
	nids_params.scan_num_hosts = 0;
	nids_params.n_tcp_streams = opts->max_streams / 3 * 4 + 4;
	nids_params.n_hosts = 4096;
	nids_params.syslog = on_nids_warning;
	nids_params.no_mem = on_nids_no_mem;
	nids_params.tcp_workarounds = 1;
	nids_params.multiproc = 0;
	if (!nids_init()) {
		snprintf(err, errlen, "libnids: %s", nids_errbuf);
		return -1;
	}
	nids_register_chksum_ctl(&no_checksums, 1);
	nids_register_tcp(on_tcp);
	cap.inited = 1;
	return 0;
}

/* ------------------------------------------------------ packets in */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
ipv4_checksum(const uint8_t *h, size_t hlen)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < hlen; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The usual server ports of the protocols we dissect. */
static int
mail_port(uint16_t port)
{
	/* 24: LMTP as MTAs reach dovecot and Cyrus (RFC 2033 names none) */
	static const uint16_t ports[] = { 25, 465, 587, 2525, 24, 110, 995,
		143, 993 };

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i] == port)
			return 1;
	return 0;
}

/* A made-up segment's addresses and numbers (addresses in network order). */
struct made_up {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t	 flags;
	uint16_t window;
};

/*
 * Writes the IPv4 and TCP headers of a made-up segment: tcp_hlen bytes of
 * TCP header (options left zero for the caller) and payload bytes after.
 */
static void
made_up_headers(uint8_t *pkt, const struct made_up *m, size_t tcp_hlen,
    size_t payload)
{
	memset(pkt, 0, 20 + tcp_hlen);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)(20 + tcp_hlen + payload));
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP;
	memcpy(pkt + 12, &m->src, 4);
	memcpy(pkt + 16, &m->dst, 4);
	put16(pkt + 10, ipv4_checksum(pkt, 20));
	put16(pkt + 20, m->sport);
	put16(pkt + 22, m->dport);
	put32(pkt + 24, m->seq);
	put32(pkt + 28, m->ack);
	pkt[32] = (uint8_t)(tcp_hlen / 4 << 4);
	pkt[33] = m->flags;
	put16(pkt + 34, m->window);
}

/* One made-up segment of a handshake, handed to libnids. */
static void
synth_segment(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
    uint32_t seq, uint32_t ack, uint8_t flags)
{
	const struct made_up m = { .src = src, .dst = dst, .sport = sport,
		.dport = dport, .seq = seq, .ack = ack, .flags = flags,
		.window = 65535 };
	uint8_t pkt[44];

	made_up_headers(pkt, &m, 24, 0);
	/* NOP, window scale 14: the widest window, so that libnids takes
	 * whatever the real segments carry. */
	pkt[40] = 1;
	pkt[41] = 3;
	pkt[42] = 3;
	pkt[43] = 14;
	nids_pcap_handler(NULL, &cap.hdr, pkt);
}

/*
 * Client data for a connection whose SYN libnids saw but whose SYN/ACK it
 * never did: a capture of one side only (taken on the sending host, or
 * on a span port that mirrors one direction).  libnids keeps such a
 * connection half open and drops its data, so the server's SYN/ACK and
 * the client's ACK are made up from what the client's segment says (its
 * acknowledgement is the server's next byte).
 */
static void
complete_handshake(struct tcp_stream *a, uint32_t sseq)
{
	const struct tuple4 *t = &a->addr;

	if (a->client.state != TCP_SYN_SENT || a->server.state != TCP_CLOSE)
		return;
	cap.synthesizing = 1;
	synth_segment(t->daddr, t->dest, t->saddr, t->source, sseq - 1,
	    a->client.seq, 0x12);
	if (nids_find_tcp_stream(&a->addr) == a &&
	    a->client.state == TCP_SYN_SENT)
		synth_segment(t->saddr, t->source, t->daddr, t->dest,
		    a->client.seq, sseq, 0x10);
	cap.synthesizing = 0;
	cap.stats.midstream++;
}

/*
 * A segment with data for a connection libnids does not know: the
 * capture began after its handshake (or missed it).  libnids follows only
 * connections it saw open, so the handshake is made up from what the
 * segment says (its sequence number and acknowledgement give both sides'
 * positions) and handed to libnids first.  The server is the side on a
 * mail port, else the lower port.  Connections that just ended are left
 * alone: their stray packets are not new connections.
 */
static void
pickup_midstream(const uint8_t *ip, size_t n)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, thlen;
	const uint8_t *th = ip + hlen;
	struct tuple4 t, r;
	struct tcp_stream *a;
	uint32_t src, dst, seq, ack, cseq, sseq, cli, srv;
	uint16_t sport, dport, cport, svport;
	long datalen;

	if (ip[9] != IPPROTO_TCP || (be16(ip + 6) & 0x3fff) != 0 ||
	    n < hlen + 20)
		return;
	thlen = (size_t)(th[12] >> 4) * 4;
	datalen = (long)be16(ip + 2) - (long)hlen - (long)thlen;
	if (datalen <= 0 || (th[13] & 0x16) != 0x10) /* ACK, no SYN/RST */
		return;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	sport = be16(th);
	dport = be16(th + 2);
	t = (struct tuple4){ .source = sport, .dest = dport, .saddr = src,
		.daddr = dst };
	r = (struct tuple4){ .source = dport, .dest = sport, .saddr = dst,
		.daddr = src };
	seq = be32(th + 4);
	ack = be32(th + 8);
	if ((a = nids_find_tcp_stream(&t)) != NULL) {
		complete_handshake(a, ack);
		return;
	}
	if (nids_find_tcp_stream(&r) != NULL ||
	    seen_recently(tuple_key(src, sport, dst, dport), now_us()))
		return;
	if (mail_port(dport) || (!mail_port(sport) && dport < sport)) {
		cli = src, cport = sport, srv = dst, svport = dport;
		cseq = seq, sseq = ack;
	} else {
		cli = dst, cport = dport, srv = src, svport = sport;
		cseq = ack, sseq = seq;
	}
	cap.synthesizing = 1;
	synth_segment(cli, cport, srv, svport, cseq - 1, 0, 0x02);
	synth_segment(srv, svport, cli, cport, sseq - 1, cseq, 0x12);
	synth_segment(cli, cport, srv, svport, cseq, sseq, 0x10);
	cap.synthesizing = 0;
	cap.stats.midstream++;
}

/* ------------------------------------------------ bytes the capture lost */

/*
 * libnids' queued out-of-order segment as its tcp.h lays it out (the same
 * from 1.24 to 1.26); nids.h exposes only the pointer.  Only read: the
 * first queued segment's sequence number says where a hole ends.
 */
struct nids_skbuff {
	struct nids_skbuff *next, *prev;
	void		   *data;
	u_int		    len, truesize, urg_ptr;
	char		    fin, urg;
	u_int		    seq, ack;
};

#define FILL_CHUNK    (sizeof(cap.fill) - 40)
#define FILL_MAX      (1u << 30) /* a larger hole is nonsense, not loss */
#define QUEUE_LIMIT   (65535 - 2048) /* libnids drops its queue past 64K */

static int
seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The next byte libnids waits for in a half-stream (its EXP_SEQ). */
static uint32_t
expected_seq(const struct half_stream *rcv, const struct half_stream *snd)
{
	return snd->first_data_seq + (uint32_t)rcv->count +
	    (uint32_t)rcv->urg_count;
}

/*
 * Hands libnids a made-up segment of n zero bytes at seq in one
 * direction: the stand-in for bytes the capture lost.  on_data tells the
 * dissector a gap instead of the bytes.  libnids takes it as in order,
 * whatever the receiver acknowledged: its window test is opened for it.
 */
static void
fill_segment(struct tcp_stream *a, int to_server, uint32_t seq, size_t n)
{
	const struct tuple4 *t = &a->addr;
	struct half_stream *rcv = to_server ? &a->server : &a->client;
	struct half_stream *snd = to_server ? &a->client : &a->server;
	struct tuple4 key = *t;
	/* PSH, no ACK: the acknowledgements stay real; the sender's window
	 * as it was, since libnids takes the segment's as the sender's */
	const struct made_up m = {
		.src = to_server ? t->saddr : t->daddr,
		.dst = to_server ? t->daddr : t->saddr,
		.sport = to_server ? t->source : t->dest,
		.dport = to_server ? t->dest : t->source,
		.seq = seq, .flags = 0x08, .window = snd->window };
	uint32_t ack_seq = rcv->ack_seq;
	u_short window = rcv->window;

	made_up_headers(cap.fill, &m, 20, n);
	cap.fill_hdr = cap.hdr;
	cap.fill_hdr.caplen = cap.fill_hdr.len = (bpf_u_int32)(40 + n);
	rcv->ack_seq = seq;
	rcv->window = 65535;
	cap.fill_left = n;
	nids_pcap_handler(NULL, &cap.fill_hdr, cap.fill);
	cap.fill_left = 0;
	if (nids_find_tcp_stream(&key) == a) { /* not closed meanwhile */
		if (seq_after(ack_seq, rcv->ack_seq))
			rcv->ack_seq = ack_seq;
		rcv->window = window;
	}
}

/*
 * One hole of n bytes at seq.  Once the protocol is known, a hole costs
 * nothing however large: the dissector is told the gap, libnids is told
 * that all but its last byte came and went (with nothing buffered, its
 * count and offset move together), and a one-byte filler at its end makes
 * libnids deliver what waits behind.  Before that, zeros are fed through
 * libnids, a chunk at a time, and detection judges what came before.
 */
static void
fill_hole(struct tcp_stream *a, int to_server, uint32_t seq, uint32_t n)
{
	struct half_stream *rcv = to_server ? &a->server : &a->client;
	struct flow *f = a->user;

	if (n > 1 && f != NULL && f->state == FLOW_ACTIVE &&
	    rcv->offset == rcv->count) {
		if (stream_too_long(rcv, n)) {
			/* outside libnids' callbacks: the stream can go */
			flow_end_now(f, MD_ANOM_STREAM_TOO_LONG, MD_END_ERROR);
			return;
		}
		f->info.frame = cap.frame;
		f->info.offset = cap.offset;
		cap.stats.gap_bytes += n;
		f->proto->gap(f->st, to_server ? MD_C2S : MD_S2C, n, now_us());
		rcv->count += (int)(n - 1);
		rcv->offset += (int)(n - 1);
		cap.fill_silent = 1;
		fill_segment(a, to_server, seq + n - 1, 1);
		cap.fill_silent = 0;
		return;
	}
	fill_segment(a, to_server, seq, n < FILL_CHUNK ? n : FILL_CHUNK);
}

/*
 * Fills the holes in one direction of a connection so that libnids
 * delivers what it queued behind them.  Up to the receiver's
 * acknowledgement when only_acked (the receiver has those bytes, so the
 * capture lost them); else every hole (the queue is about to be dropped,
 * or the connection ends) and, past the last segment, what the receiver
 * acknowledged.
 */
static void
fill_holes(const struct tuple4 *conn, int to_server, int only_acked)
{
	struct tuple4 t = *conn; /* nids_find_tcp_stream takes no const */

	for (int rounds = 0; rounds < 4096; rounds++) {
		struct tcp_stream *a = nids_find_tcp_stream(&t);
		struct half_stream *rcv, *snd;
		uint32_t exp, end;

		if (a == NULL || a->user == NULL) /* gone, or not ours */
			return;
		rcv = to_server ? &a->server : &a->client;
		snd = to_server ? &a->client : &a->server;
		if (rcv->state != TCP_ESTABLISHED && rcv->list == NULL)
			return;
		exp = expected_seq(rcv, snd);
		if (rcv->list != NULL) {
			end = ((struct nids_skbuff *)rcv->list)->seq;
			if (!seq_after(end, exp))
				return; /* libnids' own business */
			if (only_acked) {
				if (!seq_after(rcv->ack_seq, exp))
					return;
				if (seq_after(end, rcv->ack_seq))
					end = rcv->ack_seq;
			}
		} else if (!only_acked && seq_after(rcv->ack_seq, exp + 1)) {
			end = rcv->ack_seq; /* lost at the end (not just a FIN) */
		} else {
			return;
		}
		if (end - exp > FILL_MAX)
			return;
		fill_hole(a, to_server, exp, end - exp);
	}
}

/* What the capture layer does around libnids for one TCP packet. */
struct around {
	struct tuple4 conn;	  /* the connection, as libnids keys it */
	int	      fill_dir;	  /* holes its ACK may settle: 1 to server,
				   * 0 to client, -1 none */
	int	      widen_dir;  /* receive window opened for it, or -1 */
	u_short	      window;	  /* what it was */
	u_int	      wscale;
};

static void
syn_mark(const uint8_t *ip, const uint8_t *th)
{
	uint32_t src, dst, k;

	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	k = tuple_key(src, be16(th), dst, be16(th + 2));
	/* a retransmitted SYN keeps the first one's place */
	if (cap.syns.key[k % SEEN_SLOTS] == k &&
	    now_us() < cap.syns.ts[k % SEEN_SLOTS] + SEEN_US)
		return;
	cap.syns.key[k % SEEN_SLOTS] = k;
	cap.syns.frame[k % SEEN_SLOTS] = cap.frame;
	cap.syns.offset[k % SEEN_SLOTS] = cap.offset;
	cap.syns.ts[k % SEEN_SLOTS] = now_us();
}

static struct tcp_stream *
find_conn(const uint8_t *ip, int *from_client)
{
	const uint8_t *th = ip + (size_t)(ip[0] & 0x0f) * 4;
	struct tuple4 t, r;
	struct tcp_stream *a;

	memcpy(&t.saddr, ip + 12, 4);
	memcpy(&t.daddr, ip + 16, 4);
	t.source = be16(th);
	t.dest = be16(th + 2);
	*from_client = 1;
	if ((a = nids_find_tcp_stream(&t)) != NULL)
		return a;
	r = (struct tuple4){ .saddr = t.daddr, .daddr = t.saddr,
		.source = t.dest, .dest = t.source };
	*from_client = 0;
	return nids_find_tcp_stream(&r);
}

/*
 * Before a TCP packet goes to libnids:
 *   - a reset, or a queue libnids is about to drop, would lose what waits
 *     behind a hole, so the holes are filled first;
 *   - data past the receiver's advertised window would be refused by
 *     libnids; a monitor sees such data when the capture lost the window
 *     update (or the sender misbehaves, and the receiver took it anyway),
 *     so for a connection being dissected the window is opened for this
 *     packet only;
 *   - the direction whose holes this packet's acknowledgement may settle
 *     is noted for after it.
 */
static void
before_libnids(const uint8_t *ip, size_t n, struct around *ar)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, thlen;
	const uint8_t *th = ip + hlen;
	struct tcp_stream *a;
	struct half_stream *rcv, *snd;
	int from_client;
	long datalen;

	ar->fill_dir = ar->widen_dir = -1;
	if (ip[9] != IPPROTO_TCP || (be16(ip + 6) & 0x3fff) != 0 ||
	    n < hlen + 20)
		return;
	if ((th[13] & 0x16) == 0x02) /* a SYN: where a session begins */
		syn_mark(ip, th);
	if ((a = find_conn(ip, &from_client)) == NULL)
		return;
	ar->conn = a->addr;
	if ((th[13] & 0x16) == 0x02 && from_client && a->user != NULL &&
	    nids_params.tcp_flow_timeout > 0 &&
	    a->ts + nids_params.tcp_flow_timeout < cap.hdr.ts.tv_sec) {
		/* A new connection on these ports, long after this one
		 * began: libnids will drop the old stream without a word,
		 * so its session ends here. */
		struct flow *f = a->user;

		if (f->state == FLOW_ACTIVE)
			f->proto->close(f->st, MD_END_TIMEOUT, now_us());
		flow_free(f);
		return;
	}
	if ((th[13] & 0x04) != 0) { /* RST */
		fill_holes(&ar->conn, 1, 0);
		fill_holes(&ar->conn, 0, 0);
		return;
	}
	rcv = from_client ? &a->server : &a->client;
	if (rcv->list != NULL &&
	    (size_t)rcv->rmem_alloc + be16(ip + 2) > QUEUE_LIMIT) {
		fill_holes(&ar->conn, from_client, 0);
		if ((a = nids_find_tcp_stream(&ar->conn)) == NULL)
			return; /* the filler ended it */
		rcv = from_client ? &a->server : &a->client;
	}
	snd = from_client ? &a->client : &a->server;
	thlen = (size_t)(th[12] >> 4) * 4;
	datalen = (long)be16(ip + 2) - (long)hlen - (long)thlen;
	if (datalen > 0 && a->user != NULL && rcv->state == TCP_ESTABLISHED &&
	    !seq_after(rcv->ack_seq + (uint32_t)rcv->window * rcv->wscale,
	    be32(th + 4))) {
		ar->widen_dir = from_client;
		ar->window = rcv->window;
		ar->wscale = rcv->wscale;
		rcv->window = 65535;
		rcv->wscale = 1u << 14;
	}
	/* This packet's acknowledgement is for the data the sender
	 * receives, queued in the sender's own half-stream. */
	if ((th[13] & 0x10) != 0 && snd->list != NULL)
		ar->fill_dir = !from_client;
}

static void
after_libnids(const struct around *ar)
{
	struct tuple4 t = ar->conn;
	struct tcp_stream *a;

	if (ar->widen_dir >= 0 && (a = nids_find_tcp_stream(&t)) != NULL) {
		struct half_stream *rcv = ar->widen_dir ? &a->server :
		    &a->client;
		rcv->window = ar->window;
		rcv->wscale = ar->wscale;
	}
	if (ar->fill_dir >= 0)
		fill_holes(&ar->conn, ar->fill_dir, 1);
}

/* The capture ended: what waits behind a hole is delivered. */
static void
fill_all_open(void)
{
	struct flow *f, *next;

	for (f = cap.flows; f != NULL; f = next) {
		struct tuple4 t = f->addr;
		next = f->next;
		fill_holes(&t, 1, 0);
		if (nids_find_tcp_stream(&t) != NULL)
			fill_holes(&t, 0, 0);
	}
}

/*
 * After nids_exit every flow has been ended; one still here lost its
 * stream without libnids saying so.  Its session is ended all the same.
 */
static void
end_orphans(void)
{
	struct flow *f, *next;

	for (f = cap.flows; f != NULL; f = next) {
		next = f->next;
		if (f->state == FLOW_ACTIVE)
			f->proto->close(f->st, MD_END_CAPTURE_END, now_us());
		prelude_free(&f->pre);
		free(f);
	}
	cap.flows = NULL;
	cap.nflows = 0;
}

/*
 * Hands one IPv4 packet to libnids, repairing what offloading breaks on
 * the sending host: a zero total length (segmentation offload) and a
 * wrong header checksum.
 */
static void
feed_ipv4(const struct pcap_pkthdr *h, const uint8_t *ip, size_t n)
{
	size_t hlen;
	uint16_t tot;
	struct around ar;

	if (n < 20 || (ip[0] >> 4) != 4)
		return;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20 || hlen > n)
		return;
	memcpy(cap.pkt, ip, n);
	tot = be16(cap.pkt + 2);
	if (tot == 0 || tot > n) {
		/* A zero length is segmentation offload: the frame is whole.
		 * A longer one is a frame cut by the snap length: libnids
		 * must see only what was captured (it would read past it),
		 * and the stream then waits at the hole it leaves. */
		put16(cap.pkt + 2, (uint16_t)n);
		tot = (uint16_t)n;
	}
	if (ipv4_checksum(cap.pkt, hlen) != 0) {
		cap.pkt[10] = cap.pkt[11] = 0;
		put16(cap.pkt + 10, ipv4_checksum(cap.pkt, hlen));
		cap.stats.csum_fixed++;
	}
	cap.hdr = *h;
	cap.hdr.caplen = (bpf_u_int32)n;
	cap.hdr.len = (bpf_u_int32)n;
	if (tot <= n)
		pickup_midstream(cap.pkt, n);
	before_libnids(cap.pkt, n, &ar);
	nids_pcap_handler(NULL, &cap.hdr, cap.pkt);
	after_libnids(&ar);
}

/* An IPv6 packet goes to libnids as IPv4 with stand-in addresses. */
static void
feed_ipv6(const struct pcap_pkthdr *h, const uint8_t *ip, size_t n)
{
	size_t len;

	switch (v6map_packet(&cap.v6, ip, n, cap.v4, sizeof(cap.v4), &len)) {
	case V6_OK:
		feed_ipv4(h, cap.v4, len);
		break;
	case V6_NOT_TCP:
		break;
	case V6_FULL:
		cap.stats.v6_full++;
		break;
	case V6_MALFORMED:
		cap.stats.bad_link++;
		break;
	}
}

/*
 * The stand-ins for IPv6 addresses inside libnids lie in 240.0.0.0/4
 * (reserved, RFC 1112 4), from its first address up to V6MAP_MAX of them
 * (240.0.0.0/10): a native packet from or to that range could be taken
 * for part of an IPv6 connection and inject bytes into it, so it is
 * dropped.  The rest of 240.0.0.0/4 is read as usual: anonymised
 * captures put hosts there.
 */
static int
standin_v4(const uint8_t *a)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];

	return (v & 0xf0000000u) == V6MAP_PREFIX &&
	    (v & 0x0fffffffu) < V6MAP_MAX;
}

static int
reserved_v4(const uint8_t *ip, size_t n)
{
	return n >= 20 && (standin_v4(ip + 12) || standin_v4(ip + 16));
}

/* One captured frame, whatever carries it. */
static void
feed_frame(int dlt, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct decap d;

	switch (decap_frame(dlt, p, h->caplen, &d)) {
	case DECAP_SHORT:
		cap.stats.bad_link++;
		/* fall through */
	case DECAP_NOT_IP:
		cap.stats.not_ip++;
		return;
	case DECAP_IP:
		break;
	}
	if (h->caplen < h->len)
		cap.stats.truncated++;
	if (d.tunnels > 0)
		cap.stats.tunneled++;
	if (d.version == 4) {
		if (reserved_v4(d.ip, d.len)) {
			cap.stats.class_e++;
			return;
		}
		cap.stats.ipv4++;
		feed_ipv4(h, d.ip, d.len);
	} else {
		cap.stats.ipv6++;
		feed_ipv6(h, d.ip, d.len);
	}
}

/*
 * Where each packet's record begins in its file.  ftell costs a system
 * call per packet, so in a classic pcap file the offset is counted (a
 * 24-byte file header, then per packet a 16-byte record header and the
 * bytes captured) and checked against ftell on the first packets and
 * every 4096th; pcapng, whose other blocks come between packets, and any
 * mismatch (a variant record header) go back to ftell for each packet.
 */
struct offsets {
	FILE	*f;
	int	 counting;
	int64_t	 next; /* the next record, when counting */
};

static int64_t
record_offset(struct offsets *o, uint64_t nread)
{
	if (o->f == NULL)
		return -1;
	if (!o->counting)
		return ftell(o->f);
	if ((nread < 4 || (nread & 4095) == 0) && ftell(o->f) != o->next) {
		o->counting = 0;
		return ftell(o->f);
	}
	return o->next;
}

/*
 * Reads one capture file (pcap or pcapng; "-" is standard input) through
 * libnids.  Returns 0, or -1 with err set when the file could not be
 * opened or is damaged; everything read before the damage is processed.
 */
int
capture_file(const char *path, struct capture_file_info *info, char *err,
    size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int dlt, r, rc = 0;
	uint64_t nread = 0;
	struct offsets off;

	memset(info, 0, sizeof(*info));
	info->link_type = -1;
	if ((pc = pcap_open_offline(path, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		cap.stats.files_damaged++;
		return -1;
	}
	dlt = pcap_datalink(pc);
	info->link_type = dlt;
	info->link_name = pcap_datalink_val_to_name(dlt);
	if (!decap_link_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", path,
		    dlt, name ? name : "unknown");
		pcap_close(pc);
		cap.stats.files_damaged++;
		return -1;
	}
	/* frame numbers start again: a SYN noted in the last file is not
	 * this file's frame */
	memset(cap.syns.key, 0, sizeof(cap.syns.key));
	off.f = pcap_file(pc);
	off.next = off.f != NULL ? ftell(off.f) : -1;
	off.counting = pcap_major_version(pc) == 2 && off.next == 24;
	for (;;) {
		int64_t pos = record_offset(&off, nread);

		if ((r = pcap_next_ex(pc, &h, &data)) != 1)
			break;
		off.next = pos + 16 + h->caplen;
		nread++;
		cap.frame = nread;
		cap.offset = pos;
		cap.stats.packets++;
		cap.stats.bytes += h->caplen;
		info->packets = nread;
		info->last_us = (uint64_t)h->ts.tv_sec * 1000000u +
		    (uint64_t)h->ts.tv_usec;
		if (nread == 1)
			info->first_us = info->last_us;
		feed_frame(dlt, h, data);
		if (cap.opts.progress != NULL && (nread & 4095) == 0 &&
		    pos >= 0)
			cap.opts.progress(cap.opts.progress_arg, (uint64_t)pos);
	}
	if (r == PCAP_ERROR) {
		snprintf(err, errlen, "%s: damaged after packet %llu: %s",
		    path, (unsigned long long)nread,
		    pcap_geterr(pc));
		cap.stats.files_damaged++;
		rc = -1;
	}
	pcap_close(pc);
	return rc;
}

/* ------------------------------------------------------------- live */

static void
on_live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	(void)user;
	cap.frame++;
	cap.offset = -1;
	if (cap.dump != NULL) {
		/* pcap_dump writes a 16-byte record header, then the bytes */
		cap.offset = cap.dump_next;
		cap.dump_next += 16 + h->caplen;
		pcap_dump((u_char *)cap.dump, h, p);
	}
	cap.stats.packets++;
	cap.stats.bytes += h->caplen;
	feed_frame(cap.live_dlt, h, p);
}

int
capture_live_open(const struct capture_live *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *pc;

	if ((pc = pcap_create(o->iface, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return -1;
	}
	pcap_set_snaplen(pc, SNAP_MAX);
	pcap_set_promisc(pc, o->promisc);
	/* libpcap takes an int: -B 2048 and more is 2 GiB less one byte */
	pcap_set_buffer_size(pc, o->buffer_mb >= 2048 ? INT_MAX :
	    o->buffer_mb * 1024 * 1024);
	pcap_set_immediate_mode(pc, 0);
	pcap_set_timeout(pc, 200); /* the loop's heartbeat when idle */
	if (pcap_activate(pc) < 0) {
		snprintf(err, errlen, "%s: %s", o->iface, pcap_geterr(pc));
		goto fail;
	}
	cap.live_dlt = pcap_datalink(pc);
	if (!decap_link_supported(cap.live_dlt)) {
		const char *name = pcap_datalink_val_to_name(cap.live_dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)",
		    o->iface, cap.live_dlt, name ? name : "unknown");
		goto fail;
	}
	if (pcap_compile(pc, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0 &&
	    (o->filter_novlan == NULL || pcap_compile(pc, &prog,
	    o->filter_novlan, 1, PCAP_NETMASK_UNKNOWN) != 0)) {
		snprintf(err, errlen, "filter \"%s\": %s", o->filter,
		    pcap_geterr(pc));
		goto fail;
	}
	if (pcap_setfilter(pc, &prog) != 0) {
		snprintf(err, errlen, "%s: %s", o->iface, pcap_geterr(pc));
		pcap_freecode(&prog);
		goto fail;
	}
	pcap_freecode(&prog);
	/* Linux's TPACKET_V3 makes a blocking read wait for traffic however
	 * long; the loop must wake up to commit, time out and rotate, so it
	 * polls with its own timeout and reads without blocking. */
	if (pcap_setnonblock(pc, 1, ebuf) != 0 ||
	    (cap.live_fd = pcap_get_selectable_fd(pc)) < 0) {
		snprintf(err, errlen, "%s: cannot poll the capture", o->iface);
		goto fail;
	}
	if (o->write_path != NULL &&
	    (cap.dump = pcap_dump_open(pc, o->write_path)) == NULL) {
		snprintf(err, errlen, "%s: %s", o->write_path, pcap_geterr(pc));
		goto fail;
	}
	if (cap.dump != NULL)
		cap.dump_next = pcap_dump_ftell64(cap.dump);
	cap.live = pc;
	return 0;
fail:
	pcap_close(pc);
	return -1;
}

/*
 * Reads what the kernel has (or waits up to the heartbeat): returns the
 * packets processed, -2 after capture_live_break, -1 on error.
 */
int
capture_live_step(char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = cap.live_fd, .events = POLLIN };
	int n;

	if (poll(&pfd, 1, 200) < 0) {
		if (errno == EINTR) /* a signal: the caller reads its flags */
			return 0;
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -1;
	}
	n = pcap_dispatch(cap.live, -1, on_live_packet, NULL);
	if (n == PCAP_ERROR)
		snprintf(err, errlen, "%s", pcap_geterr(cap.live));
	return n == PCAP_ERROR_BREAK ? -2 : n;
}

/* Async-signal-safe: makes capture_live_step return. */
void
capture_live_break(void)
{
	if (cap.live != NULL)
		pcap_breakloop(cap.live);
}

int
capture_live_counters(struct capture_kernel *k)
{
	struct pcap_stat ps;

	if (cap.live == NULL || pcap_stats(cap.live, &ps) != 0)
		return -1;
	k->received = ps.ps_recv;
	k->dropped = ps.ps_drop;
	k->if_dropped = ps.ps_ifdrop;
	return 0;
}

void
capture_live_flush(void)
{
	if (cap.dump != NULL)
		pcap_dump_flush(cap.dump);
}

void
capture_live_close(void)
{
	if (cap.dump != NULL)
		pcap_dump_close(cap.dump);
	if (cap.live != NULL)
		pcap_close(cap.live);
	cap.dump = NULL;
	cap.live = NULL;
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
static void
flow_end_now(struct flow *f, const char *why, enum md_end end)
{
	struct tcp_stream *a = flow_stream(f);

	seen_mark(&f->addr);
	if (f->state == FLOW_ACTIVE) {
		flow_cap_anomaly(f, why, f->last_us);
		f->proto->close(f->st, end, now_us());
	} else {
		cap.stats.ignored++;
	}
	flow_free(f);
	if (a != NULL)
		nids_free_tcp_stream(a);
}

static void
flow_expire(struct flow *f, const char *why)
{
	cap.stats.streams_evicted++;
	flow_end_now(f, why, MD_END_TIMEOUT);
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

/* Ends every open connection as "capture ended" (NIDS_EXITING). */
void
capture_finish(void)
{
	if (!cap.inited)
		return;
	fill_all_open();
	nids_exit();
	end_orphans();
	v6map_free(&cap.v6);
	pcap_close(cap.dead);
	cap.dead = NULL;
	cap.inited = 0;
}

const struct capture_stats *
capture_stats(void)
{
	return &cap.stats;
}
