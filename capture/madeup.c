/* \summary: segments made up for libnids: pickups and hole fillers */
/*
 * libnids follows a connection only from its handshake and stops at the
 * first hole.  A capture that began mid-connection gets a handshake made
 * up from the first segment seen; a hole the capture lost (a receiver
 * acknowledged bytes that never came) is filled with zeros the
 * dissectors are told are not data.  Everything here runs between
 * libnids' callbacks, never inside one.
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

#include "capture/capture_priv.h"
#include "dissect/registry.h"
#include "capture/decap.h"
#include "capture/wire.h"

/* The usual server ports of the protocols we dissect. */
static int
mail_port(uint16_t port)
{
	return md_proto_of_port(port, NULL) != NULL;
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
	const struct made_up m = { .src = src,
		.dst = dst,
		.sport = sport,
		.dport = dport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.window = 65535 };
	uint8_t		     pkt[44];

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
void
cap_pickup_midstream(const uint8_t *ip, size_t n)
{
	size_t		   hlen = (size_t)(ip[0] & 0x0f) * 4, thlen;
	const uint8_t	  *th = ip + hlen;
	struct tuple4	   t, r;
	struct tcp_stream *a;
	uint32_t	   src, dst, seq, ack, cseq, sseq, cli, srv;
	uint16_t	   sport, dport, cport, svport;
	long		   datalen;

	if (ip[9] != IPPROTO_TCP || ipv4_fragment(ip) || n < hlen + 20)
		return;
	thlen = (size_t)(th[12] >> 4) * 4;
	datalen = (long)be16(ip + 2) - (long)hlen - (long)thlen;
	if (datalen <= 0 || (th[13] & 0x16) != 0x10) /* ACK, no SYN/RST */
		return;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	sport = be16(th);
	dport = be16(th + 2);
	t = (struct tuple4) { .source = sport,
		.dest = dport,
		.saddr = src,
		.daddr = dst };
	r = (struct tuple4) { .source = dport,
		.dest = sport,
		.saddr = dst,
		.daddr = src };
	seq = be32(th + 4);
	ack = be32(th + 8);
	if ((a = nids_find_tcp_stream(&t)) != NULL) {
		complete_handshake(a, ack);
		return;
	}
	if (nids_find_tcp_stream(&r) != NULL ||
	    cap_seen_recently(cap_tuple_key(src, sport, dst, dport),
		cap_packet_us()))
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

#define FILL_CHUNK  (sizeof(((struct cap_filler *)0)->buf) - 40)
#define FILL_MAX    (1u << 30)	   /* a larger hole is nonsense, not loss */
#define QUEUE_LIMIT (65535 - 2048) /* libnids drops its queue past 64K */

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
 * direction: the stand-in for bytes the capture lost.  cap_on_data tells the
 * dissector a gap instead of the bytes.  libnids takes it as in order,
 * whatever the receiver acknowledged: its window test is opened for it.
 */
static void
fill_segment(struct cap_filler *fl, struct tcp_stream *a, int to_server,
    uint32_t seq, size_t n)
{
	const struct tuple4 *t = &a->addr;
	struct half_stream  *rcv = to_server ? &a->server : &a->client;
	struct half_stream  *snd = to_server ? &a->client : &a->server;
	struct tuple4	     key = *t;
	/* PSH, no ACK: the acknowledgements stay real; the sender's window
	 * as it was, since libnids takes the segment's as the sender's */
	const struct made_up m = { .src = to_server ? t->saddr : t->daddr,
		.dst = to_server ? t->daddr : t->saddr,
		.sport = to_server ? t->source : t->dest,
		.dport = to_server ? t->dest : t->source,
		.seq = seq,
		.flags = 0x08,
		.window = snd->window };
	uint32_t	     ack_seq = rcv->ack_seq;
	u_short		     window = rcv->window;

	made_up_headers(fl->buf, &m, 20, n);
	fl->hdr = cap.hdr;
	fl->hdr.caplen = fl->hdr.len = (bpf_u_int32)(40 + n);
	rcv->ack_seq = seq;
	rcv->window = 65535;
	fl->left = n;
	nids_pcap_handler(NULL, &fl->hdr, fl->buf);
	fl->left = 0;
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
fill_hole(struct cap_filler *fl, struct tcp_stream *a, int to_server,
    uint32_t seq, uint32_t n)
{
	struct half_stream *rcv = to_server ? &a->server : &a->client;
	struct flow	   *f = a->user;

	if (n > 1 && f != NULL && f->state == FLOW_ACTIVE &&
	    rcv->offset == rcv->count) {
		if (cap_stream_too_long(rcv, n)) {
			/* outside libnids' callbacks: the stream can go */
			cap_flow_end_now(f, MD_ANOM_STREAM_TOO_LONG,
			    MD_END_ERROR);
			return;
		}
		f->info.frame = cap.frame;
		f->info.offset = cap.offset;
		cap.stats.gap_bytes += n;
		f->proto->gap(f->st, to_server ? MD_C2S : MD_S2C, n,
		    cap_now_us());
		rcv->count += (int)(n - 1);
		rcv->offset += (int)(n - 1);
		fl->silent = 1;
		fill_segment(fl, a, to_server, seq + n - 1, 1);
		fl->silent = 0;
		return;
	}
	fill_segment(fl, a, to_server, seq, n < FILL_CHUNK ? n : FILL_CHUNK);
}

/*
 * Fills the holes in one direction of a connection so that libnids
 * delivers what it queued behind them.  Up to the receiver's
 * acknowledgement when only_acked (the receiver has those bytes, so the
 * capture lost them); else every hole (the queue is about to be dropped,
 * or the connection ends) and, past the last segment, what the receiver
 * acknowledged.
 */
void
cap_fill_holes(const struct tuple4 *conn, int to_server, int only_acked)
{
	struct tuple4 t = *conn; /* nids_find_tcp_stream takes no const */

	for (int rounds = 0; rounds < 4096; rounds++) {
		struct tcp_stream  *a = nids_find_tcp_stream(&t);
		struct half_stream *rcv, *snd;
		uint32_t	    exp, end;

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
			end =
			    rcv->ack_seq; /* lost at the end (not just a FIN) */
		} else {
			return;
		}
		if (end - exp > FILL_MAX)
			return;
		fill_hole(&cap.filler, a, to_server, exp, end - exp);
	}
}

/* What the capture layer does around libnids for one TCP packet. */

static void
syn_mark(const uint8_t *ip, const uint8_t *th)
{
	uint32_t src, dst, k;
	uint64_t ts;

	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	k = cap_tuple_key(src, be16(th), dst, be16(th + 2));
	ts = cap_packet_us(); /* libnids has not seen it yet */
	/* a retransmitted SYN keeps the first one's place */
	if (cap.syns.key[k % SEEN_SLOTS] == k &&
	    ts < cap.syns.ts[k % SEEN_SLOTS] + SEEN_US)
		return;
	cap.syns.key[k % SEEN_SLOTS] = k;
	cap.syns.frame[k % SEEN_SLOTS] = cap.frame;
	cap.syns.offset[k % SEEN_SLOTS] = cap.offset;
	cap.syns.ts[k % SEEN_SLOTS] = ts;
}

static struct tcp_stream *
find_conn(const uint8_t *ip, int *from_client)
{
	const uint8_t	  *th = ip + (size_t)(ip[0] & 0x0f) * 4;
	struct tuple4	   t, r;
	struct tcp_stream *a;

	memcpy(&t.saddr, ip + 12, 4);
	memcpy(&t.daddr, ip + 16, 4);
	t.source = be16(th);
	t.dest = be16(th + 2);
	*from_client = 1;
	if ((a = nids_find_tcp_stream(&t)) != NULL)
		return a;
	r = (struct tuple4) { .saddr = t.daddr,
		.daddr = t.saddr,
		.source = t.dest,
		.dest = t.source };
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
void
cap_before_libnids(const uint8_t *ip, size_t n, struct around *ar)
{
	size_t		    hlen = (size_t)(ip[0] & 0x0f) * 4, thlen;
	const uint8_t	   *th = ip + hlen;
	struct tcp_stream  *a;
	struct half_stream *rcv, *snd;
	int		    from_client;
	long		    datalen;

	ar->fill_dir = ar->widen_dir = -1;
	if (ip[9] != IPPROTO_TCP || ipv4_fragment(ip) || n < hlen + 20)
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
			f->proto->close(f->st, MD_END_TIMEOUT, cap_now_us());
		cap_flow_free(f);
		return;
	}
	if ((th[13] & 0x04) != 0) { /* RST */
		cap_fill_holes(&ar->conn, 1, 0);
		cap_fill_holes(&ar->conn, 0, 0);
		return;
	}
	rcv = from_client ? &a->server : &a->client;
	if (rcv->list != NULL &&
	    (size_t)rcv->rmem_alloc + be16(ip + 2) > QUEUE_LIMIT) {
		cap_fill_holes(&ar->conn, from_client, 0);
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

void
cap_after_libnids(const struct around *ar)
{
	struct tuple4	   t = ar->conn;
	struct tcp_stream *a;

	if (ar->widen_dir >= 0 && (a = nids_find_tcp_stream(&t)) != NULL) {
		struct half_stream *rcv =
		    ar->widen_dir ? &a->server : &a->client;
		rcv->window = ar->window;
		rcv->wscale = ar->wscale;
	}
	if (ar->fill_dir >= 0)
		cap_fill_holes(&ar->conn, ar->fill_dir, 1);
}

/* The capture ended: what waits behind a hole is delivered. */
void
cap_fill_all_open(void)
{
	struct flow *f, *next;

	for (f = cap.flows; f != NULL; f = next) {
		struct tuple4 t = f->addr;
		next = f->next;
		cap_fill_holes(&t, 1, 0);
		if (nids_find_tcp_stream(&t) != NULL)
			cap_fill_holes(&t, 0, 0);
	}
}

/*
 * After nids_exit every flow has been ended; one still here lost its
 * stream without libnids saying so.  Its session is ended all the same.
 */
void
cap_end_orphans(void)
{
	struct flow *f, *next;

	for (f = cap.flows; f != NULL; f = next) {
		next = f->next;
		if (f->state == FLOW_ACTIVE)
			f->proto->close(f->st, MD_END_CAPTURE_END,
			    cap_now_us());
		cap_prelude_free(&f->pre);
		free(f);
	}
	cap.flows = NULL;
	cap.nflows = 0;
}
