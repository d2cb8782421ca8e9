/* \summary: crafts the SMTP captures mailsift ships and tests itself on */
/*
 * pcapgen OUTDIR writes, deterministically, a set of pcap files with TCP
 * handshakes, MSS-sized segments, ACKs, retransmissions, out-of-order
 * segments, offloaded (zero) TCP checksums, several link layers, the
 * encapsulations span ports and tunnels add, IPv6 with an extension
 * header and a fragmented segment, and a connection captured from its
 * middle; beside each message the exact bytes a correct dissector must
 * rebuild (OUTDIR/NAME.msgN.eml).  Nothing here parses: it only writes
 * what a client and server would have put on the wire.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/wire.h" /* the capture layer's big-endian writers */

enum {
	LT_NULL = 0,
	LT_EN10MB = 1,
	LT_PPP = 9,
	LT_RAW = 101,
	LT_SLL = 113,
	LT_SLL2 = 276
};

/* What carries the IP packets of a session on an Ethernet capture. */
enum encap {
	E_NONE,
	E_QINQ,
	E_MPLS,
	E_PPPOE,
	E_GRE,
	E_ERSPAN2,
	E_ERSPAN3,
	E_VXLAN,
	E_IPIP
};
enum { C2S, S2C };

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Packet records held in memory (the benchmark interleaves sessions). */
struct batch {
	uint8_t *buf;
	size_t	 len, cap, rd;
};

struct gen {
	FILE	     *f;
	int	      linktype;
	enum encap    encap;
	uint64_t      t_us;
	int	      msgno;
	char	      name[256];
	char	      outdir[1024];
	struct batch *batch;	 /* when set, records go there, not to f */
	int	      no_expect; /* write no .eml expectations */
};

struct conv {
	struct gen *g;
	uint32_t    ip[2]; /* client, server */
	int	    v6;	   /* IPv6, addresses in ip6 */
	uint8_t	    ip6[2][16];
	int	    frag6; /* send the first long IPv6 segment in 2 fragments */
	int	    quiet; /* write nothing yet (the capture starts later) */
	uint16_t    port[2];
	uint32_t    seq[2]; /* next sequence number per sender */
	uint16_t    ipid;
	size_t	    mss;
	int	    bad_csum;  /* zero TCP checksums (offload) */
	int	    reorder;   /* send the 2nd and 3rd segment swapped */
	int	    retrans;   /* send every 2nd segment twice */
	int	    ack_every; /* the receiver ACKs every n segments */
	size_t	    drop_at;   /* the capture loses this segment (from 1) of
				* the next send; the receiver still got it */
	int no_ack;	       /* the next send is not acknowledged */
	int one_way;	       /* only the client's packets are captured */
};

static void
le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
		(uint8_t)(v >> 24) };
	fwrite(b, 1, 4, f);
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
gen_open(struct gen *g, const char *outdir, const char *name, int linktype)
{
	char path[2048];

	snprintf(g->outdir, sizeof(g->outdir), "%s", outdir);
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s.pcap", outdir, name);
	if ((g->f = fopen(path, "wb")) == NULL) {
		perror(path);
		exit(1);
	}
	g->linktype = linktype;
	g->encap = E_NONE;
	g->t_us = 1700000000ULL * 1000000; /* 2023-11-14, fixed */
	g->msgno = 0;
	le32(g->f, 0xa1b2c3d4);
	fputc(2, g->f), fputc(0, g->f), fputc(4, g->f), fputc(0, g->f);
	le32(g->f, 0);
	le32(g->f, 0);
	le32(g->f, 65535);
	le32(g->f, (uint32_t)linktype);
}

static void
gen_close(struct gen *g)
{
	fclose(g->f);
}

static void
batch_put(struct batch *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1 << 16;
		if ((b->buf = realloc(b->buf, b->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void
gen_record(struct gen *g, const uint8_t *frame, size_t n)
{
	if (g->batch != NULL) { /* length, then the frame; time set later */
		uint32_t len = (uint32_t)n;
		batch_put(g->batch, &len, 4);
		batch_put(g->batch, frame, n);
		return;
	}
	g->t_us += 1500;
	le32(g->f, (uint32_t)(g->t_us / 1000000));
	le32(g->f, (uint32_t)(g->t_us % 1000000));
	le32(g->f, (uint32_t)n);
	le32(g->f, (uint32_t)n);
	fwrite(frame, 1, n, g->f);
}

/* An outer IPv4 header for a tunnel, between two fixed endpoints. */
static size_t
outer_ipv4(uint8_t *p, int proto, size_t payload)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + payload));
	p[8] = 64;
	p[9] = (uint8_t)proto;
	put32(p + 12, 0x0a000001); /* 10.0.0.1 -> 10.0.0.2 */
	put32(p + 16, 0x0a000002);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	return 20;
}

static size_t
ether_header(uint8_t *p, uint16_t type)
{
	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	put16(p + 12, type);
	return 14;
}

/*
 * Wraps an IP packet as the session's encapsulation says, on Ethernet:
 * VLAN tags, an MPLS label stack, a PPPoE session, or a tunnel (GRE,
 * ERSPAN II/III, VXLAN, IP-in-IP) between two other hosts.
 */
static size_t
encapsulate(enum encap e, const uint8_t *ip, size_t n, int v6, uint8_t *out)
{
	uint16_t ipt = v6 ? 0x86dd : 0x0800;
	size_t	 o = 0, h;

	switch (e) {
	case E_NONE:
		o = ether_header(out, ipt);
		break;
	case E_QINQ: /* 802.1ad outer tag, 802.1Q inner tag */
		o = ether_header(out, 0x88a8);
		put16(out + o, 100), put16(out + o + 2, 0x8100), o += 4;
		put16(out + o, 200), put16(out + o + 2, ipt), o += 4;
		break;
	case E_MPLS: /* two labels, bottom of stack on the second */
		o = ether_header(out, 0x8847);
		put32(out + o, 16 << 12 | 64), o += 4;
		put32(out + o, 17 << 12 | 0x100 | 64), o += 4;
		break;
	case E_PPPOE: /* RFC 2516 session stage, then the PPP protocol */
		o = ether_header(out, 0x8864);
		out[o] = 0x11, out[o + 1] = 0;
		put16(out + o + 2, 0x1234);
		put16(out + o + 4, (uint16_t)(n + 2));
		put16(out + o + 6, v6 ? 0x0057 : 0x0021);
		o += 8;
		break;
	case E_GRE:
		o = ether_header(out, 0x0800);
		o += outer_ipv4(out + o, 47, 4 + n);
		put16(out + o, 0), put16(out + o + 2, ipt), o += 4;
		break;
	case E_ERSPAN2: /* GRE with sequence, 8-byte ERSPAN II, Ethernet */
		h = 8 + 8 + 14;
		o = ether_header(out, 0x0800);
		o += outer_ipv4(out + o, 47, h + n);
		put16(out + o, 0x1000), put16(out + o + 2, 0x88be);
		put32(out + o + 4, 7), o += 8;
		memset(out + o, 0, 8);
		out[o] = 0x10; /* version 1 = type II */
		o += 8;
		o += ether_header(out + o, ipt);
		break;
	case E_ERSPAN3: /* 12-byte ERSPAN III with its 8-byte subheader */
		h = 8 + 20 + 14;
		o = ether_header(out, 0x0800);
		o += outer_ipv4(out + o, 47, h + n);
		put16(out + o, 0x1000), put16(out + o + 2, 0x22eb);
		put32(out + o + 4, 9), o += 8;
		memset(out + o, 0, 20);
		out[o] = 0x20;	    /* version 2 = type III */
		out[o + 11] = 0x01; /* O: platform subheader follows */
		o += 20;
		o += ether_header(out + o, ipt);
		break;
	case E_VXLAN: /* UDP to 4789, 8-byte VXLAN header, Ethernet */
		h = 8 + 8 + 14;
		o = ether_header(out, 0x0800);
		o += outer_ipv4(out + o, 17, h + n);
		put16(out + o, 49152), put16(out + o + 2, 4789);
		put16(out + o + 4, (uint16_t)(h + n)), put16(out + o + 6, 0);
		o += 8;
		memset(out + o, 0, 8);
		out[o] = 0x08;
		put16(out + o + 4, 0x0001); /* VNI 256 */
		o += 8;
		o += ether_header(out + o, ipt);
		break;
	case E_IPIP:
		o = ether_header(out, 0x0800);
		o += outer_ipv4(out + o, v6 ? 41 : 4, n);
		break;
	}
	memcpy(out + o, ip, n);
	return o + n;
}

/* Writes one packet record with the link header of the file. */
static void
gen_packet(struct gen *g, const uint8_t *ip, size_t n, int v6)
{
	uint8_t frame[4096];
	size_t	o = 0;

	switch (g->linktype) {
	case LT_EN10MB:
		gen_record(g, frame, encapsulate(g->encap, ip, n, v6, frame));
		return;
	case LT_NULL: /* AF_INET 2; AF_INET6 30 as Darwin writes it */
		memcpy(frame, v6 ? "\x1e\x00\x00\x00" : "\x02\x00\x00\x00", 4);
		o = 4;
		break;
	case LT_SLL:
		memset(frame, 0, 16);
		frame[1] = 4; /* sent by us */
		frame[3] = 1; /* ARPHRD_ETHER */
		frame[5] = 6;
		put16(frame + 14, v6 ? 0x86dd : 0x0800);
		o = 16;
		break;
	case LT_SLL2: /* protocol, reserved, ifindex, hatype, type, len, addr */
		memset(frame, 0, 20);
		put16(frame, v6 ? 0x86dd : 0x0800);
		put32(frame + 4, 2);
		put16(frame + 8, 1);
		frame[10] = 4;
		frame[11] = 6;
		o = 20;
		break;
	case LT_PPP:
		frame[0] = 0xff, frame[1] = 0x03;
		put16(frame + 2, v6 ? 0x0057 : 0x0021);
		o = 4;
		break;
	case LT_RAW:
		break;
	}
	memcpy(frame + o, ip, n);
	gen_record(g, frame, o + n);
}

/* A TCP segment with its checksum (unless offloaded) over a pseudo-header. */
static size_t
tcp_segment(struct conv *c, int dir, uint8_t flags, uint32_t seq,
    const uint8_t *data, size_t n, uint8_t *t)
{
	int	 other = !dir;
	uint32_t sum;

	memset(t, 0, 20);
	put16(t, c->port[dir]);
	put16(t + 2, c->port[other]);
	put32(t + 4, seq);
	put32(t + 8, (flags & F_ACK) ? c->seq[other] : 0);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 65535);
	memcpy(t + 20, data, n);
	if (c->bad_csum)
		return 20 + n;
	if (c->v6) { /* RFC 8200 8.1 */
		uint8_t ph[40] = { 0 };
		memcpy(ph, c->ip6[dir], 16);
		memcpy(ph + 16, c->ip6[other], 16);
		put32(ph + 32, (uint32_t)(20 + n));
		ph[39] = 6;
		sum = csum_add(0, ph, 40);
	} else {
		uint8_t ph[12];
		put32(ph, c->ip[dir]);
		put32(ph + 4, c->ip[other]);
		ph[8] = 0;
		ph[9] = 6;
		put16(ph + 10, (uint16_t)(20 + n));
		sum = csum_add(0, ph, 12);
	}
	put16(t + 16, csum_fold(csum_add(sum, t, 20 + n)));
	return 20 + n;
}

/*
 * IPv6 (RFC 8200) with a hop-by-hop options header (a PadN option) in
 * front of TCP; with frag6 set, the first segment longer than 200 bytes
 * goes as two fragments, the fragment header after the hop-by-hop one.
 */
static void
send_ipv6(struct conv *c, int dir, const uint8_t *seg, size_t n)
{
	uint8_t pkt[40 + 8 + 8 + 2048];
	size_t	cut;

	memset(pkt, 0, 56);
	pkt[0] = 0x60;
	pkt[6] = 0; /* hop-by-hop */
	pkt[7] = 64;
	memcpy(pkt + 8, c->ip6[dir], 16);
	memcpy(pkt + 24, c->ip6[!dir], 16);
	pkt[41] = 0; /* length: 8 bytes */
	pkt[42] = 1; /* PadN */
	pkt[43] = 4;
	if (!(c->frag6 && n > 200)) {
		pkt[40] = 6; /* TCP */
		put16(pkt + 4, (uint16_t)(8 + n));
		memcpy(pkt + 48, seg, n);
		gen_packet(c->g, pkt, 48 + n, 1);
		return;
	}
	c->frag6 = 0;
	cut = (n / 2) & ~(size_t)7; /* fragment data in 8-byte units */
	pkt[40] = 44;		    /* fragment */
	pkt[48] = 6;
	put32(pkt + 52, 0x5eed0001);
	put16(pkt + 50, 0x0001); /* offset 0, more fragments */
	put16(pkt + 4, (uint16_t)(16 + cut));
	memcpy(pkt + 56, seg, cut);
	gen_packet(c->g, pkt, 56 + cut, 1);
	put16(pkt + 50, (uint16_t)((cut / 8) << 3)); /* last fragment */
	put16(pkt + 4, (uint16_t)(16 + n - cut));
	memcpy(pkt + 56, seg + cut, n - cut);
	gen_packet(c->g, pkt, 56 + n - cut, 1);
}

static void
tcp_send(struct conv *c, int dir, uint8_t flags, uint32_t seq,
    const uint8_t *data, size_t n)
{
	uint8_t pkt[20 + 20 + 2048];
	size_t	tl;

	if (c->quiet || (c->one_way && dir != C2S))
		return;
	c->g->t_us += 100;
	if (c->v6) {
		tl = tcp_segment(c, dir, flags, seq, data, n, pkt);
		send_ipv6(c, dir, pkt, tl);
		return;
	}
	tl = tcp_segment(c, dir, flags, seq, data, n, pkt + 20);
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)(20 + tl));
	put16(pkt + 4, c->ipid++);
	pkt[8] = 64;
	pkt[9] = 6;
	put32(pkt + 12, c->ip[dir]);
	put32(pkt + 16, c->ip[!dir]);
	put16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
	gen_packet(c->g, pkt, 20 + tl, 0);
}

static void
conv_init(struct conv *c, struct gen *g, uint16_t cport, uint16_t sport)
{
	memset(c, 0, sizeof(*c));
	c->g = g;
	c->port[C2S] = cport;
	c->port[S2C] = sport;
	c->seq[C2S] = 0x1000 + cport * 7u;
	c->seq[S2C] = 0x8000 + sport * 13u;
	c->mss = 1460;
}

static void
conv_handshake(struct conv *c)
{
	tcp_send(c, C2S, F_SYN, c->seq[C2S]++, NULL, 0);
	tcp_send(c, S2C, F_SYN | F_ACK, c->seq[S2C]++, NULL, 0);
	tcp_send(c, C2S, F_ACK, c->seq[C2S], NULL, 0);
}

static void
conv_open6(struct conv *c, struct gen *g, const uint8_t cli[16], uint16_t cport,
    const uint8_t srv[16], uint16_t sport)
{
	conv_init(c, g, cport, sport);
	c->v6 = 1;
	c->frag6 = 1;
	memcpy(c->ip6[C2S], cli, 16);
	memcpy(c->ip6[S2C], srv, 16);
	conv_handshake(c);
}

/* A connection under way before the capture: nothing written yet. */
static void
conv_open_quiet(struct conv *c, struct gen *g, uint32_t cli, uint16_t cport,
    uint32_t srv, uint16_t sport)
{
	conv_init(c, g, cport, sport);
	c->ip[C2S] = cli;
	c->ip[S2C] = srv;
	c->quiet = 1;
	conv_handshake(c);
}

static void
conv_open(struct conv *c, struct gen *g, uint32_t cli, uint16_t cport,
    uint32_t srv, uint16_t sport)
{
	memset(c, 0, sizeof(*c));
	c->g = g;
	c->ip[C2S] = cli;
	c->ip[S2C] = srv;
	c->port[C2S] = cport;
	c->port[S2C] = sport;
	c->seq[C2S] = 0x1000 + cport * 7u;
	c->seq[S2C] = 0x8000 + sport * 13u;
	c->mss = 1460;
	tcp_send(c, C2S, F_SYN, c->seq[C2S]++, NULL, 0);
	tcp_send(c, S2C, F_SYN | F_ACK, c->seq[S2C]++, NULL, 0);
	tcp_send(c, C2S, F_ACK, c->seq[C2S], NULL, 0);
}

/* Sends bytes from one side in MSS-sized segments, each ACKed. */
static void
conv_send(struct conv *c, int dir, const char *data, size_t n)
{
	size_t	 nseg = (n + c->mss - 1) / c->mss, i;
	uint32_t base = c->seq[dir];

	for (i = 0; i < nseg; i++) {
		size_t k = i;
		if (c->reorder && nseg >= 3 && (i == 1 || i == 2))
			k = i == 1 ? 2 : 1;
		size_t off = k * c->mss;
		size_t len = n - off < c->mss ? n - off : c->mss;
		if (c->drop_at == i + 1)
			continue;
		tcp_send(c, dir, F_ACK | F_PSH, base + (uint32_t)off,
		    (const uint8_t *)data + off, len);
		if (c->retrans && (i % 2) == 1)
			tcp_send(c, dir, F_ACK | F_PSH, base + (uint32_t)off,
			    (const uint8_t *)data + off, len);
		/* a real sender stays within the receiver's window */
		if (c->ack_every && (i + 1) % c->ack_every == 0) {
			uint32_t keep = c->seq[dir];
			c->seq[dir] = base + (uint32_t)(off + len);
			tcp_send(c, !dir, F_ACK, c->seq[!dir], NULL, 0);
			c->seq[dir] = keep;
		}
	}
	c->seq[dir] += (uint32_t)n;
	c->drop_at = 0;
	if (c->no_ack) {
		c->no_ack = 0;
		return;
	}
	tcp_send(c, !dir, F_ACK, c->seq[!dir], NULL, 0);
}

static void
say(struct conv *c, int dir, const char *fmt, ...)
{
	char	buf[8192];
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conv_send(c, dir, buf, (size_t)n);
}

static void
conv_close(struct conv *c)
{
	tcp_send(c, C2S, F_FIN | F_ACK, c->seq[C2S]++, NULL, 0);
	tcp_send(c, S2C, F_FIN | F_ACK, c->seq[S2C]++, NULL, 0);
	tcp_send(c, C2S, F_ACK, c->seq[C2S], NULL, 0);
}

/* Writes the bytes a dissector must rebuild as OUTDIR/NAME.msgN.eml. */
static void
write_expected(struct gen *g, const char *msg, size_t n)
{
	char  path[2048];
	FILE *f;

	if (g->no_expect)
		return;
	snprintf(path, sizeof(path), "%s/%s.msg%d.eml", g->outdir, g->name,
	    ++g->msgno);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		exit(1);
	}
	fwrite(msg, 1, n, f);
	fclose(f);
}

/*
 * Sends a message body the way a client does after DATA: dot-stuffed and
 * ended with CRLF.CRLF.  Writes the unstuffed bytes as the expectation.
 */
static void
send_message(struct conv *c, const char *msg)
{
	size_t n = strlen(msg), o = 0;
	char  *wire = malloc(2 * n + 8);

	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '.' && (i == 0 || msg[i - 1] == '\n'))
			wire[o++] = '.';
		wire[o++] = msg[i];
	}
	memcpy(wire + o, ".\r\n", 3);
	o += 3;
	conv_send(c, C2S, wire, o);
	free(wire);
	write_expected(c->g, msg, n);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static const char msg_plain[] =
    "From: Alice <alice@example.net>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: quarterly figures\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <20231114221320.1@example.net>\r\n"
    "\r\n"
    "Bob,\r\n"
    ".this line starts with a dot and was stuffed on the wire\r\n"
    "..and this one with two\r\n"
    ".\r\n"
    "(the line above is a lone dot inside the message)\r\n";

static const char msg_attach_head[] =
    "From: carol@example.com\r\n"
    "To: dave@example.org\r\n"
    "Subject: invoice attached\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "See the attachment.\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"invoice.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n";

/* A multi-segment message: base64 lines of a deterministic pattern. */
static char *
make_big_message(size_t lines)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t cap = sizeof(msg_attach_head) + lines * 78 + 64, o;
	char  *m = malloc(cap);

	o = (size_t)snprintf(m, cap, "%s", msg_attach_head);
	for (size_t l = 0; l < lines; l++) {
		for (size_t i = 0; i < 76; i++)
			m[o++] = b64[(l * 7 + i * 3) % 64];
		m[o++] = '\r';
		m[o++] = '\n';
	}
	o += (size_t)snprintf(m + o, cap - o, "--b1--\r\n");
	m[o] = '\0';
	return m;
}

static void
ehlo(struct conv *c, const char *host)
{
	say(c, S2C, "220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n");
	say(c, C2S, "EHLO %s\r\n", host);
	say(c, S2C,
	    "250-mx.example.org\r\n250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 CHUNKING\r\n");
}

/* Submission with AUTH LOGIN, one message with a leading-dot body. */
static void
submission(struct conv *c0)
{
	struct conv c = *c0;

	ehlo(&c, "laptop.example.net");
	say(&c, C2S, "AUTH LOGIN\r\n");
	say(&c, S2C, "334 VXNlcm5hbWU6\r\n");
	say(&c, C2S, "YWxpY2VAZXhhbXBsZS5uZXQ=\r\n"); /* alice@example.net */
	say(&c, S2C, "334 UGFzc3dvcmQ6\r\n");
	say(&c, C2S, "V2ludGVyMjAyMyE=\r\n"); /* Winter2023! */
	say(&c, S2C, "235 2.7.0 Authentication successful\r\n");
	say(&c, C2S, "MAIL FROM:<alice@example.net> BODY=8BITMIME\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	say(&c, C2S, "RCPT TO:<bob@example.org>\r\n");
	say(&c, S2C, "250 2.1.5 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
	send_message(&c, msg_plain);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVk3x0bQkz9rxN\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
}

/*
 * Links to find (the urls table): a base64 text part with bare URLs, a
 * mailto: and a host mixing Cyrillic into Latin letters; a quoted-
 * printable HTML part whose links show one host and go to another, sit in
 * punycode, are broken by a soft line break, hide in a comment, point at
 * a part of the message (cid:) or nowhere (relative), or run script.
 */
static const char msg_links[] =
    "From: \"PayPal Service\" <service@paypa1-support.example>\r\n"
    "To: erin@example.org\r\n"
    "Subject: Your account is limited\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "SGVsbG8sDQpUaGUgcmVwb3J0IGlzIGF0IGh0dHBzOi8vZmlsZXMuZXhhbXBsZS5uZXQvcTMvcmVw\r\n"
    "b3J0LnBkZi4gU2VlIGFsc28gKHd3dy5leGFtcGxlLm9yZy9mYXEpLg0KV3JpdGUgdG8gbWFpbHRv\r\n"
    "OmhlbHBAZXhhbXBsZS5uZXQ/c3ViamVjdD1oaSBvciB2aXNpdCBodHRwOi8vcNCweXBhbC5leGFt\r\n"
    "cGxlLyB0b2RheS4NCg==\r\n"
    "--alt\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><body><p>Dear customer, <a href=3D\"https://secure-login.exa=\r\n"
    "mple.com/verify?id=3D1&amp;t=3D2\">https://www.paypal.com/signin</a></p>\r\n"
    "<a href=3D'http://xn--pypal-4ve.example/'>your\r\n  account</a>\r\n"
    "<img src=3D\"http://track.example.net/pixel.gif?u=3D42\" width=3D1>\r\n"
    "<a href=3D\"https://docs.example.net/a-very-long-path/broken-by-a-soft-=\r\n"
    "line-break/index.html\">docs.example.net</a>\r\n"
    "<!-- <a href=3D\"http://hidden.example/\">hidden</a> -->\r\n"
    "<img src=3D\"cid:logo@example.net\"> <a href=3D\"/relative\">here</a>\r\n"
    "<a href=3D\"javascript:alert(1)\">click</a>\r\n"
    "<form action=3Dhttps://collect.example/post></form>\r\n"
    "Or paste http://bare.example/page&nbsp;into your browser.\r\n"
    "</body></html>\r\n"
    "--alt--\r\n";

/* One message relayed to a server, nothing else said. */
static void
session_smtp_message(struct gen *g, uint16_t cport, const char *msg)
{
	struct conv c;

	conv_open(&c, g, IP(192, 0, 2, 77), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "mta.example.net");
	say(&c, C2S, "MAIL FROM:<service@paypa1-support.example>\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	say(&c, C2S, "RCPT TO:<erin@example.org>\r\n");
	say(&c, S2C, "250 2.1.5 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
	send_message(&c, msg);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVk3x0bQkz9rxL\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
}

static void
session_submission(struct gen *g, uint16_t cport)
{
	struct conv c;

	conv_open(&c, g, IP(192, 0, 2, 10), cport, IP(198, 51, 100, 25), 587);
	submission(&c);
}

/* The same over IPv6, a hop-by-hop header on every packet and the first
 * long segment fragmented. */
static void
session_submission6(struct gen *g, uint16_t cport)
{
	static const uint8_t cli[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0x10 };
	static const uint8_t srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x0a, 0,
		0, 0, 0, 0, 0, 0, 0, 0x25 };
	struct conv	     c;

	conv_open6(&c, g, cli, cport, srv, 587);
	submission(&c);
}

/*
 * An IPv6 submission into which native IPv4 packets from 240.0.0.0/4 (the
 * range that stands in for IPv6 addresses inside mailsift) try to inject
 * a command at the next sequence number, before the real one.  They must
 * be dropped: the session is the one the IPv6 hosts had.
 */
static void
session_class_e_injection(struct gen *g, uint16_t cport)
{
	static const uint8_t cli[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0x10 };
	static const uint8_t srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x0a, 0,
		0, 0, 0, 0, 0, 0, 0, 0x25 };
	static const char    evil[] = "MAIL FROM:<mallory@evil.example>\r\n";
	struct conv	     c, e;

	conv_open6(&c, g, cli, cport, srv, 587);
	c.frag6 = 0;
	say(&c, S2C, "220 mx.example.org ESMTP\r\n");
	say(&c, C2S, "EHLO laptop.example.net\r\n");
	say(&c, S2C, "250 mx.example.org\r\n");
	memset(&e, 0, sizeof(e));
	e.g = g;
	e.ip[C2S] = IP(240, 0, 0, 0); /* the client's stand-in */
	e.ip[S2C] = IP(240, 0, 0, 1);
	e.port[C2S] = cport;
	e.port[S2C] = 587;
	e.mss = 1460;
	tcp_send(&e, C2S, F_ACK | F_PSH, c.seq[C2S], (const uint8_t *)evil,
	    strlen(evil));
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 Bye\r\n");
	conv_close(&c);
}

/*
 * A capture taken on the sending host's side of a one-way mirror: the
 * client's SYN and everything it sent, nothing from the server (Zeek's
 * smtp-one-side-only).  The connection is followed from its SYN.
 */
static void
session_one_side(struct gen *g, uint16_t cport)
{
	struct conv c;

	memset(&c, 0, sizeof(c));
	c.g = g;
	c.one_way = 1;
	c.ip[C2S] = IP(192, 0, 2, 80);
	c.ip[S2C] = IP(198, 51, 100, 25);
	c.port[C2S] = cport;
	c.port[S2C] = 25;
	c.seq[C2S] = 0x1000 + cport * 7u;
	c.seq[S2C] = 0x8000 + 25 * 13u;
	c.mss = 1460;
	tcp_send(&c, C2S, F_SYN, c.seq[C2S]++, NULL, 0);
	c.seq[S2C]++; /* the SYN/ACK the capture did not see */
	tcp_send(&c, C2S, F_ACK, c.seq[C2S], NULL, 0);
	say(&c, C2S, "EHLO sender.example.net\r\n");
	say(&c, C2S, "MAIL FROM:<alice@example.net>\r\n");
	say(&c, C2S, "RCPT TO:<bob@example.org>\r\n");
	say(&c, C2S, "DATA\r\n");
	send_message(&c, msg_plain);
	say(&c, C2S, "QUIT\r\n");
	conv_close(&c);
}

/*
 * Text that attacks the analyst's terminal: a Subject with escape
 * sequences (retitle the window, clear the screen) and a C1 CSI, an
 * attachment whose name hides its extension behind U+202E, and a HELO
 * name with a bell.  The log keeps them exactly; listings escape them.
 */
static const char msg_terminal[] =
    "From: \x1b[31mMallory\x1b[0m <mallory@evil.example>\r\n"
    "To: bob@example.org\r\n"
    "Subject: =?UTF-8?B?G10wO293bmVkBxtbMkpjbGVhcmVk?= \xc2\x9b"
    "31mred\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see attached\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*=UTF-8''invoice%E2%80%AEfdp.exe\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "TVqQAAMAAAAEAAAA\r\n"
    "--b--\r\n";

static void
session_terminal_attack(struct gen *g, uint16_t cport)
{
	struct conv c;

	conv_open(&c, g, IP(203, 0, 113, 70), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "bell\x07.example.com");
	say(&c, C2S, "MAIL FROM:<mallory@evil.example>\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	say(&c, C2S, "RCPT TO:<bob@example.org>\r\n");
	say(&c, S2C, "250 2.1.5 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
	send_message(&c, msg_terminal);
	say(&c, S2C, "250 2.0.0 Ok: queued as TERM1\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
}

/*
 * Connections whose start the capture missed: one picked up between
 * commands (MAIL is its first line), one inside a DATA body, in the
 * middle of a line.  The second message is kept, marked incomplete, so no
 * expectation is written for it.
 */
static void
session_midstream(struct gen *g, uint16_t cport)
{
	static const char body[] =
	    "Subject: picked up\r\n\r\nfirst half "
	    "of a line that the capture cuts\r\nsecond line\r\n.\r\n";
	struct conv c;

	conv_open_quiet(&c, g, IP(192, 0, 2, 61), cport, IP(198, 51, 100, 25),
	    25);
	ehlo(&c, "early.example.net");
	c.quiet = 0;
	say(&c, C2S, "MAIL FROM:<late@example.net>\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	say(&c, C2S, "RCPT TO:<bob@example.org>\r\n");
	say(&c, S2C, "250 2.1.5 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
	send_message(&c, msg_plain);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVk5a2eTnz9s1R\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);

	conv_open_quiet(&c, g, IP(192, 0, 2, 62), cport + 1,
	    IP(198, 51, 100, 25), 25);
	ehlo(&c, "early.example.net");
	say(&c, C2S, "MAIL FROM:<late@example.net>\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	say(&c, C2S, "RCPT TO:<bob@example.org>\r\n");
	say(&c, S2C, "250 2.1.5 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
	conv_send(&c, C2S, body, 35); /* up to inside the third line */
	c.quiet = 0;
	conv_send(&c, C2S, body + 35, strlen(body) - 35);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVk5b3fUoz9s2S\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
}

/* Relay with PIPELINING, a refused recipient and a large attachment. */
static void
session_relay(struct gen *g, uint16_t cport, int hostile_net)
{
	struct conv c;
	char	   *big = make_big_message(400);

	conv_open(&c, g, IP(203, 0, 113, 7), cport, IP(198, 51, 100, 25), 25);
	c.reorder = hostile_net;
	c.retrans = hostile_net;
	ehlo(&c, "relay.example.com");
	say(&c, C2S,
	    "MAIL FROM:<carol@example.com> SIZE=%zu\r\n"
	    "RCPT TO:<dave@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
	    "DATA\r\n",
	    strlen(big));
	say(&c, S2C,
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "550 5.1.1 <nobody@example.org>: Recipient address rejected: "
	    "User unknown in virtual mailbox table\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	send_message(&c, big);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVk3y1cRlz9ryP\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
	free(big);
}

/* BDAT (CHUNKING) with AUTH PLAIN, then STARTTLS and opaque bytes. */
static void
session_bdat_starttls(struct gen *g, uint16_t cport)
{
	static const char part1[] =
	    "From: erin@example.net\r\n"
	    "To: frank@example.org\r\nSubject: chunked\r\n\r\n";
	static const char part2[] = "line one\r\n.\r\nnot the end: BDAT "
				    "has no dot rules\r\n";
	struct conv	  c;
	char		  msg[512];

	conv_open(&c, g, IP(192, 0, 2, 44), cport, IP(198, 51, 100, 26), 25);
	c.bad_csum = 1;
	ehlo(&c, "erin-pc");
	say(&c, C2S,
	    "AUTH PLAIN AGVyaW4AcGFzc3dvcmQx\r\n"); /* erin/password1 */
	say(&c, S2C, "235 2.7.0 Authentication successful\r\n");
	say(&c, C2S,
	    "MAIL FROM:<erin@example.net>\r\n"
	    "RCPT TO:<frank@example.org>\r\nBDAT %zu\r\n%s",
	    strlen(part1), part1);
	say(&c, S2C,
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "250 2.0.0 Ok: %zu bytes\r\n",
	    strlen(part1));
	say(&c, C2S, "BDAT %zu LAST\r\n%s", strlen(part2), part2);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVk401dSmz9rzQ\r\n");
	snprintf(msg, sizeof(msg), "%s%s", part1, part2);
	write_expected(g, msg, strlen(msg));
	say(&c, C2S, "STARTTLS\r\n");
	say(&c, S2C, "220 2.0.0 Ready to start TLS\r\n");
	conv_send(&c, C2S, "\x16\x03\x01\x00\x04\x01\x00\x00\x00", 9);
	conv_send(&c, S2C, "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9);
	conv_close(&c);
}

/* A session on an odd port, cut in the middle of DATA. */
static void
session_cut(struct gen *g, uint16_t cport)
{
	struct conv c;

	conv_open(&c, g, IP(192, 0, 2, 99), cport, IP(198, 51, 100, 27), 2626);
	say(&c, S2C, "220 smtp.example.org ESMTP\r\n");
	say(&c, C2S, "HELO bot\r\n");
	say(&c, S2C, "250 smtp.example.org\r\n");
	say(&c, C2S, "MAIL FROM:<spam@example.biz>\r\n");
	say(&c, S2C, "250 Ok\r\n");
	say(&c, C2S, "RCPT TO:<victim@example.org>\r\n");
	say(&c, S2C, "250 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 go\r\n");
	say(&c, C2S, "Subject: you won\r\n\r\nclick here\r\n");
	/* capture ends: no FIN, no end of data */
}

/*
 * Captures that lost packets, as busy span ports and overrun capture
 * buffers do: the hosts got every segment, the capture did not.
 *   1. a relay whose DATA lost its 3rd segment; the server's ACK shows
 *      the bytes arrived, and the session goes on (final reply, QUIT);
 *   2. a client's side only (asymmetric routing), picked up mid-way, a
 *      120 KB message that lost its 2nd segment: with no ACK to tell,
 *      what waits behind the hole outgrows libnids' 64 KB queue;
 *   3. a POP3 RETR that lost a segment, and the capture ends before
 *      anything acknowledges it.
 * No message is whole, so no expectation is written.
 */
static void serve_pop3(struct conv *c, const char *msg);

static void
session_lossy(struct gen *g, uint16_t cport)
{
	struct conv c;
	char	   *big = make_big_message(400), *huge = make_big_message(1500);

	g->no_expect = 1;
	conv_open(&c, g, IP(203, 0, 113, 8), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "relay.example.com");
	say(&c, C2S, "MAIL FROM:<carol@example.com>\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	say(&c, C2S, "RCPT TO:<dave@example.org>\r\n");
	say(&c, S2C, "250 2.1.5 Ok\r\n");
	say(&c, C2S, "DATA\r\n");
	say(&c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
	c.drop_at = 3;
	send_message(&c, big);
	say(&c, S2C, "250 2.0.0 Ok: queued as 4SVkL0ss1z9ryP\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);

	conv_open_quiet(&c, g, IP(203, 0, 113, 9), cport + 1,
	    IP(198, 51, 100, 25), 25);
	ehlo(&c, "relay2.example.com");
	c.quiet = 0;
	c.one_way = 1;
	say(&c, C2S,
	    "MAIL FROM:<carol@example.com>\r\n"
	    "RCPT TO:<dave@example.org>\r\nDATA\r\n");
	c.drop_at = 2;
	send_message(&c, huge);
	say(&c, C2S, "QUIT\r\n");
	conv_close(&c);

	conv_open(&c, g, IP(192, 0, 2, 77), cport + 2, IP(198, 51, 100, 110),
	    110);
	say(&c, S2C, "+OK POP3 ready\r\n");
	say(&c, C2S, "USER dave\r\n");
	say(&c, S2C, "+OK\r\n");
	say(&c, C2S, "PASS hunter2\r\n");
	say(&c, S2C, "+OK Logged in.\r\n");
	say(&c, C2S, "RETR 1\r\n");
	c.drop_at = 4;
	c.no_ack = 1;
	serve_pop3(&c, big);
	/* nothing more of this one: the capture ends before its ACK */
	g->no_expect = 0;
	free(big);
	free(huge);
}

/*
 * A hostile ACK: the client's next segment is 512 MB further on and the
 * server acknowledges it, so the hole is 512 MB.  It must cost no more
 * than a small one (no 512 MB of filler), and the session goes on.  The
 * segment after the hole is far past the receiver's advertised window,
 * which libnids would refuse.
 */
static void
session_huge_hole(struct gen *g, uint16_t cport)
{
	struct conv c;

	g->no_expect = 1;
	conv_open(&c, g, IP(203, 0, 113, 66), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "liar.example.com");
	say(&c, C2S,
	    "MAIL FROM:<x@example.com>\r\nRCPT TO:<y@example.org>\r\n"
	    "DATA\r\n");
	say(&c, S2C, "250 Ok\r\n250 Ok\r\n354 go\r\n");
	say(&c, C2S, "Subject: hole\r\n\r\nbefore\r\n");
	c.seq[C2S] += 0x20000000u;
	say(&c, C2S, "after\r\n");
	say(&c, C2S, ".\r\n");
	say(&c, S2C, "250 2.0.0 Ok: queued as HUGE\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 Bye\r\n");
	conv_close(&c);
	g->no_expect = 0;
}

/*
 * Three hostile holes of nearly 1 GiB each in one direction: together
 * they would carry libnids' int byte counter past INT_MAX.  The session
 * is ended with an anomaly once one more would, and later connections
 * are dissected as usual.
 */
static void
session_hole_overflow(struct gen *g, uint16_t cport)
{
	struct conv c;

	g->no_expect = 1;
	conv_open(&c, g, IP(203, 0, 113, 67), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "overflow.example.com");
	say(&c, C2S,
	    "MAIL FROM:<x@example.com>\r\nRCPT TO:<y@example.org>\r\n"
	    "DATA\r\n");
	say(&c, S2C, "250 Ok\r\n250 Ok\r\n354 go\r\n");
	say(&c, C2S, "Subject: holes\r\n\r\nbefore\r\n");
	for (int i = 0; i < 3; i++) {
		c.seq[C2S] += 0x3fff0000u;
		say(&c, C2S, "after a hole\r\n");
	}
	say(&c, C2S, ".\r\n");
	say(&c, S2C, "250 2.0.0 Ok: queued as HOLES\r\n");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 Bye\r\n");
	conv_close(&c);
	g->no_expect = 0;
}

/*
 * One message on every hop an examiner meets (v_message_journeys):
 * alice submits it (587), her client files a copy in Sent by IMAP
 * APPEND, her server relays it with a Received field added (25), bob's
 * IMAP client fetches it and his phone retrieves it by POP3, both with
 * the fields delivery added.  Besides, a message with the same body
 * under another Message-ID (a different message, not linked), and one
 * submitted without a Message-ID that its server added when relaying
 * (linked by its body).  The stores keep bare LF line ends for the POP3
 * copy's body, as some do; the body identity ignores line ends.
 */
static const char journey_head[] = "From: Alice <alice@example.net>\r\n"
				   "To: Bob <bob@example.org>\r\n"
				   "Subject: figures for Q3\r\n"
				   "Date: Wed, 15 Nov 2023 09:30:00 +0100\r\n";
static const char journey_body[] =
    "Bob,\r\n\r\nthe Q3 figures are in the usual place.\r\n"
    ".a line with a leading dot\r\n\r\nAlice\r\n";
static const char journey_received[] =
    "Received: from laptop.example.net (laptop.example.net [192.0.2.10])\r\n"
    "\tby msa.example.net (Postfix) with ESMTPSA id 4SVkJ1\r\n"
    "\tfor <bob@example.org>; Wed, 15 Nov 2023 09:30:01 +0100 (CET)\r\n";
static const char journey_delivered[] =
    "Return-Path: <alice@example.net>\r\n"
    "Delivered-To: bob@example.org\r\n"
    "Received: from msa.example.net (msa.example.net [198.51.100.25])\r\n"
    "\tby mx.example.org (Postfix) with ESMTPS id 4SVkJ2\r\n"
    "\tfor <bob@example.org>; Wed, 15 Nov 2023 09:30:02 +0100 (CET)\r\n";

static const char journey_body2[] =
    "Bob,\r\n\r\nlunch on Friday?\r\n\r\nAlice\r\n";

static char *
journey_message(const char *pre, const char *msgid, const char *body,
    int lf_body)
{
	size_t cap = 4096, o;
	char  *m = malloc(cap);

	o = (size_t)snprintf(m, cap, "%s%s", pre, journey_head);
	if (msgid != NULL)
		o += (size_t)snprintf(m + o, cap - o, "Message-ID: %s\r\n",
		    msgid);
	o += (size_t)snprintf(m + o, cap - o, "\r\n");
	for (const char *b = body; *b != '\0'; b++)
		if (!(lf_body && *b == '\r'))
			m[o++] = *b;
	m[o] = '\0';
	return m;
}

/* SMTP from cli to srv: submission (587, AUTH PLAIN) or relay (25). */
static void
journey_smtp(struct gen *g, uint16_t cport, int submit, const char *msg,
    const char *qid)
{
	struct conv c;

	if (submit)
		conv_open(&c, g, IP(192, 0, 2, 10), cport, IP(198, 51, 100, 25),
		    587);
	else
		conv_open(&c, g, IP(198, 51, 100, 25), cport,
		    IP(203, 0, 113, 25), 25);
	ehlo(&c, submit ? "laptop.example.net" : "msa.example.net");
	if (submit) {
		say(&c, C2S, "AUTH PLAIN AGFsaWNlAFdpbnRlcjIwMjMh\r\n");
		say(&c, S2C, "235 2.7.0 Authentication successful\r\n");
	}
	say(&c, C2S,
	    "MAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n");
	send_message(&c, msg);
	say(&c, S2C, "250 2.0.0 Ok: queued as %s\r\n", qid);
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
}

/* An IMAP session: a1 LOGIN, then APPEND to Sent or FETCH from INBOX. */
static void
journey_imap(struct gen *g, uint16_t cport, uint32_t cli, const char *user,
    const char *append, const char *fetch)
{
	struct conv c;
	char	   *lit;

	conv_open(&c, g, cli, cport, IP(203, 0, 113, 143), 143);
	say(&c, S2C, "* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n");
	say(&c, C2S, "a1 LOGIN %s secret\r\n", user);
	say(&c, S2C, "a1 OK logged in\r\n");
	if (append != NULL) {
		say(&c, C2S, "a2 APPEND Sent (\\Seen) {%zu}\r\n",
		    strlen(append));
		say(&c, S2C, "+ go ahead\r\n");
		lit = malloc(strlen(append) + 8);
		sprintf(lit, "%s\r\n", append);
		conv_send(&c, C2S, lit, strlen(lit));
		free(lit);
		write_expected(g, append, strlen(append));
		say(&c, S2C, "a2 OK [APPENDUID 1 7] done\r\n");
	} else {
		say(&c, C2S, "a2 SELECT INBOX\r\n");
		say(&c, S2C, "* 1 EXISTS\r\na2 OK [READ-WRITE] done\r\n");
		say(&c, C2S, "a3 FETCH 1 BODY[]\r\n");
		lit = malloc(strlen(fetch) + 128);
		sprintf(lit, "* 1 FETCH (BODY[] {%zu}\r\n%s)\r\na3 OK done\r\n",
		    strlen(fetch), fetch);
		conv_send(&c, S2C, lit, strlen(lit));
		free(lit);
		write_expected(g, fetch, strlen(fetch));
	}
	say(&c, C2S, "a9 LOGOUT\r\n");
	say(&c, S2C, "* BYE\r\na9 OK bye\r\n");
	conv_close(&c);
}

static void
session_journeys(struct gen *g)
{
	static const char id[] = "<q3.20231115@laptop.example.net>";
	const char	 *b1 = journey_body, *b2 = journey_body2;
	char		 *sent = journey_message("", id, b1, 0);
	char	   *relayed = journey_message(journey_received, id, b1, 0);
	char	   *stored = journey_message(journey_delivered, id, b1, 0);
	char	   *popped = journey_message(journey_delivered, id, b1, 1);
	char	   *other = journey_message("", "<other.1@example.net>", b1, 0);
	char	   *noid = journey_message("", NULL, b2, 0);
	char	   *noid_relayed = journey_message(journey_received,
		  "<4SVkJ9@msa.example.net>", b2, 0);
	struct conv c;

	/* submission ordering (an APPEND of the copy, then the relay) */
	journey_smtp(g, 49001, 1, sent, "4SVkJ1");
	journey_imap(g, 49002, IP(192, 0, 2, 10), "alice", sent, NULL);
	journey_smtp(g, 49003, 0, relayed, "4SVkJ2");
	journey_imap(g, 49004, IP(192, 0, 2, 20), "bob", NULL, stored);
	conv_open(&c, g, IP(192, 0, 2, 21), 49005, IP(203, 0, 113, 110), 110);
	say(&c, S2C, "+OK POP3 ready\r\n");
	say(&c, C2S, "USER bob\r\n");
	say(&c, S2C, "+OK\r\n");
	say(&c, C2S, "PASS secret\r\n");
	say(&c, S2C, "+OK Logged in.\r\n");
	say(&c, C2S, "RETR 1\r\n");
	serve_pop3(&c, popped);
	write_expected(g, popped, strlen(popped));
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "+OK Bye\r\n");
	conv_close(&c);
	/* the same words, another message */
	journey_smtp(g, 49006, 1, other, "4SVkJ5");
	/* no Message-ID from the client; the relay's copy has one */
	journey_smtp(g, 49007, 1, noid, "4SVkJ9");
	journey_smtp(g, 49008, 0, noid_relayed, "4SVkJA");
	free(sent);
	free(relayed);
	free(stored);
	free(popped);
	free(other);
	free(noid);
	free(noid_relayed);
}

/*
 * The same ports used again (a NAT, a busy client) more than an hour
 * after a connection that never closed: libnids drops the old stream for
 * the new SYN, and the old session must still end in the log.
 */
static void
session_port_reuse(struct gen *g, uint16_t cport)
{
	struct conv c;

	conv_open(&c, g, IP(192, 0, 2, 88), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "first.example.net");
	say(&c, C2S, "MAIL FROM:<first@example.net>\r\n");
	say(&c, S2C, "250 2.1.0 Ok\r\n");
	/* silence, then the same four-tuple afresh */
	g->t_us += 3700ull * 1000000u;
	conv_open(&c, g, IP(192, 0, 2, 88), cport, IP(198, 51, 100, 25), 25);
	ehlo(&c, "second.example.net");
	say(&c, C2S, "QUIT\r\n");
	say(&c, S2C, "221 2.0.0 Bye\r\n");
	conv_close(&c);
}

/* ------------------------------------------------------------ benchmark */

/* xorshift64*: fast, and the same stream for the same seed everywhere. */
static uint64_t
rnd(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1dull;
}

/*
 * A message of about size bytes: a header, a text part and a base64
 * attachment of random bytes (what mail mostly carries by volume).
 */
static char *
bench_message(uint64_t *st, size_t size, uint32_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t cap = size + 4096, o;
	char  *m = malloc(cap);

	o = (size_t)snprintf(m, cap,
	    "From: user%u@example.net\r\nTo: peer%u@example.org\r\n"
	    "Subject: report %u\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "Message-ID: <bench.%u@example.net>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n"
	    "--bb\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	    "Figures attached, as discussed.\r\n.leading dot\r\n"
	    "--bb\r\nContent-Type: application/octet-stream; "
	    "name=\"data%u.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
	    "\r\n",
	    n, n, n, n, n);
	while (o + 78 + 16 < size) {
		uint64_t r = rnd(st);
		for (int i = 0; i < 76; i++) {
			if (i % 10 == 0)
				r = rnd(st);
			m[o++] = b64[(r >> (6 * (i % 10))) & 63];
		}
		m[o++] = '\r';
		m[o++] = '\n';
	}
	o += (size_t)snprintf(m + o, cap - o, "--bb--\r\n");
	return m;
}

/* A POP3 or IMAP server's message bytes: dot-stuffed or as a literal. */
static void
serve_pop3(struct conv *c, const char *msg)
{
	size_t n = strlen(msg), o = 0;
	char  *wire = malloc(2 * n + 64);

	o = (size_t)sprintf(wire, "+OK %zu octets\r\n", n);
	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '.' && (i == 0 || msg[i - 1] == '\n'))
			wire[o++] = '.';
		wire[o++] = msg[i];
	}
	memcpy(wire + o, ".\r\n", 3);
	conv_send(c, S2C, wire, o + 3);
	free(wire);
}

static void
bench_session(struct gen *g, uint64_t *st, uint32_t n)
{
	/* sizes spread over four decades, 1 KB to 9 MB */
	static const size_t decade[] = { 1000, 10000, 100000, 1000000 };
	size_t		    size = decade[rnd(st) % 4] * (1 + rnd(st) % 9);
	char		   *msg = bench_message(st, size, n), *lit;
	uint32_t    cli = IP(10, (n >> 16) & 255, (n >> 8) & 255, n & 255);
	uint16_t    cport = (uint16_t)(1024 + n % 60000);
	struct conv c;

	switch (rnd(st) % 3) {
	case 0:
		conv_open(&c, g, cli, cport, IP(198, 51, 100, 25), 25);
		c.ack_every = 16;
		c.retrans = rnd(st) % 10 == 0;
		c.reorder = rnd(st) % 10 == 0;
		ehlo(&c, "client.example.net");
		say(&c, C2S, "AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=\r\n");
		say(&c, S2C, "235 2.7.0 ok\r\n");
		say(&c, C2S,
		    "MAIL FROM:<user%u@example.net>\r\nRCPT "
		    "TO:<peer%u@example.org>\r\nDATA\r\n",
		    n, n);
		say(&c, S2C, "250 ok\r\n250 ok\r\n354 go\r\n");
		send_message(&c, msg);
		say(&c, S2C, "250 2.0.0 Ok: queued as B%u\r\n", n);
		say(&c, C2S, "QUIT\r\n");
		say(&c, S2C, "221 bye\r\n");
		break;
	case 1:
		conv_open(&c, g, cli, cport, IP(198, 51, 100, 110), 110);
		c.ack_every = 16;
		c.retrans = rnd(st) % 10 == 0;
		say(&c, S2C, "+OK POP3 ready\r\n");
		say(&c, C2S, "USER user%u\r\n", n);
		say(&c, S2C, "+OK\r\n");
		say(&c, C2S, "PASS secret\r\n");
		say(&c, S2C, "+OK logged in\r\n");
		say(&c, C2S, "RETR 1\r\n");
		serve_pop3(&c, msg);
		say(&c, C2S, "QUIT\r\n");
		say(&c, S2C, "+OK bye\r\n");
		break;
	default:
		conv_open(&c, g, cli, cport, IP(198, 51, 100, 143), 143);
		c.ack_every = 16;
		c.reorder = rnd(st) % 10 == 0;
		say(&c, S2C, "* OK IMAP4rev1 ready\r\n");
		say(&c, C2S, "a1 LOGIN user%u secret\r\n", n);
		say(&c, S2C, "a1 OK logged in\r\n");
		say(&c, C2S, "a2 SELECT INBOX\r\n");
		say(&c, S2C, "* 1 EXISTS\r\na2 OK [READ-WRITE] done\r\n");
		say(&c, C2S, "a3 UID FETCH 1 (UID FLAGS BODY.PEEK[])\r\n");
		lit = malloc(strlen(msg) + 128);
		sprintf(lit,
		    "* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] {%zu}\r\n"
		    "%s)\r\na3 OK done\r\n",
		    strlen(msg), msg);
		conv_send(&c, S2C, lit, strlen(lit));
		free(lit);
		say(&c, C2S, "a4 LOGOUT\r\n");
		say(&c, S2C, "* BYE\r\na4 OK bye\r\n");
		break;
	}
	conv_close(&c);
	free(msg);
}

/* ------------------------------------------- mail as it is really sent */

/* A growing string: the messages of the mix are built in one. */
struct sbuf {
	char  *p;
	size_t n, cap;
};

static void
sb_put(struct sbuf *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char	buf[2048];
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sb_put(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Uniform in [0, 1). */
static double
unif(uint64_t *st)
{
	return (double)(rnd(st) >> 11) / 9007199254740992.0;
}

/* Log-normal around median (sigma: the spread of its logarithm),
 * clamped to [lo, hi]: how mail sizes fall. */
static size_t
lognormal(uint64_t *st, double median, double sigma, size_t lo, size_t hi)
{
	double u = unif(st), v = unif(st), z, x;

	if (u < 1e-12)
		u = 1e-12;
	z = sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
	x = median * exp(sigma * z);
	return x < (double)lo ? lo : x > (double)hi ? hi : (size_t)x;
}

static const char *const mix_words[] = { "the", "meeting", "report", "invoice",
	"please", "find", "attached", "regards", "quarter", "figures", "budget",
	"team", "schedule", "review", "draft", "thanks", "update", "project",
	"customer", "order", "delivery", "next", "week", "Monday", "contract",
	"signed", "copy", "agenda", "notes", "minutes", "and", "for", "with",
	"from", "about", "your", "our", "this", "that", "will", "have", "been",
	"could", "would", "should", "tomorrow", "office", "account", "payment",
	"received", "sent", "shared", "folder", "spreadsheet", "presentation",
	"summary", "Grüße", "café", "naïve" };
#define MIX_WORDS (sizeof(mix_words) / sizeof(*mix_words))

/* About n bytes of prose in lines under 78 columns; now and then a line
 * that begins with a dot, which SMTP and POP3 must stuff. */
static void
mix_text(struct sbuf *b, uint64_t *st, size_t n)
{
	size_t end = b->n + n, col = 0;

	while (b->n < end) {
		const char *w = mix_words[rnd(st) % MIX_WORDS];

		if (col == 0 && rnd(st) % 40 == 0)
			sb_put(b, ".", 1), col++;
		sb_put(b, w, strlen(w));
		col += strlen(w);
		if (col > 66 || rnd(st) % 23 == 0) {
			int para = rnd(st) % 6 == 0; /* a paragraph ends */

			sb_put(b, ".\r\n\r\n", para ? 5 : 3);
			col = 0;
		} else {
			sb_put(b, " ", 1), col++;
		}
	}
	if (col > 0)
		sb_put(b, "\r\n", 2);
}

/* The same prose as HTML, quoted-printable as mail clients send it. */
static void
mix_html(struct sbuf *b, uint64_t *st, size_t n)
{
	size_t end = b->n + n, col;

	sb_printf(b,
	    "<html><head><meta http-equiv=3D\"Content-Type\" "
	    "content=3D\"text/html; charset=3Dutf-8\"></head>\r\n"
	    "<body style=3D\"font-family: Calibri\"><div>\r\n");
	while (b->n < end) {
		sb_put(b, "<p>", 3);
		col = 3;
		for (int k = 4 + (int)(rnd(st) % 20); k > 0; k--) {
			const char *w = mix_words[rnd(st) % MIX_WORDS];

			if (col + strlen(w) > 72) {
				sb_put(b, "=\r\n", 3);
				col = 0;
			}
			sb_put(b, w, strlen(w));
			sb_put(b, " ", 1);
			col += strlen(w) + 1;
		}
		sb_put(b, "</p>\r\n", 6);
	}
	sb_printf(b, "</div></body></html>\r\n");
}

static uint32_t
crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void
le16b(struct sbuf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	sb_put(b, x, 2);
}

static void
le32b(struct sbuf *b, uint32_t v)
{
	le16b(b, (uint16_t)v);
	le16b(b, (uint16_t)(v >> 16));
}

static void
rand_bytes(struct sbuf *b, uint64_t *st, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = rnd(st);
		sb_put(b, &r, n - i < 8 ? n - i : 8);
	}
}

/* A ZIP of stored files (names[i], bodies[i]), as Office and archivers
 * write it: local headers, central directory, end record. */
static void
mix_zip(struct sbuf *z, const char *const *names, struct sbuf *bodies, int n)
{
	uint32_t off[8];

	for (int i = 0; i < n; i++) {
		off[i] = (uint32_t)z->n;
		le32b(z, 0x04034b50), le16b(z, 20), le16b(z, 0), le16b(z, 0);
		le16b(z, 0), le16b(z, 0x5821);
		le32b(z, crc32_of((uint8_t *)bodies[i].p, bodies[i].n));
		le32b(z, (uint32_t)bodies[i].n),
		    le32b(z, (uint32_t)bodies[i].n);
		le16b(z, (uint16_t)strlen(names[i])), le16b(z, 0);
		sb_put(z, names[i], strlen(names[i]));
		sb_put(z, bodies[i].p, bodies[i].n);
	}
	uint32_t cd = (uint32_t)z->n;
	for (int i = 0; i < n; i++) {
		le32b(z, 0x02014b50), le16b(z, 20), le16b(z, 20), le16b(z, 0);
		le16b(z, 0), le16b(z, 0), le16b(z, 0x5821);
		le32b(z, crc32_of((uint8_t *)bodies[i].p, bodies[i].n));
		le32b(z, (uint32_t)bodies[i].n),
		    le32b(z, (uint32_t)bodies[i].n);
		le16b(z, (uint16_t)strlen(names[i])), le16b(z, 0), le16b(z, 0);
		le16b(z, 0), le16b(z, 0), le32b(z, 0), le32b(z, off[i]);
		sb_put(z, names[i], strlen(names[i]));
	}
	uint32_t cd_size = (uint32_t)z->n - cd; /* the end record not in it */
	le32b(z, 0x06054b50), le16b(z, 0), le16b(z, 0);
	le16b(z, (uint16_t)n), le16b(z, (uint16_t)n);
	le32b(z, cd_size), le32b(z, cd), le16b(z, 0);
}

/* An Office Open XML document (docx or xlsx) of about n bytes. */
static void
mix_ooxml(struct sbuf *f, uint64_t *st, size_t n, int xlsx)
{
	const char *names[] = { "[Content_Types].xml", "_rels/.rels",
		xlsx ? "xl/workbook.xml" : "word/document.xml",
		xlsx ? "xl/worksheets/sheet1.xml" : "word/styles.xml",
		"docProps/thumbnail.jpeg" };
	struct sbuf part[5] = { { 0 } };

	sb_printf(&part[0],
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
	    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	    "content-types\"><Override PartName=\"/%s\" ContentType=\"%s\"/>"
	    "</Types>",
	    names[2],
	    xlsx ? "application/vnd.openxmlformats-officedocument."
		   "spreadsheetml.sheet.main+xml" :
		   "application/vnd.openxmlformats-officedocument."
		   "wordprocessingml.document.main+xml");
	sb_printf(&part[1],
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
	    "xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	    "relationships\"><Relationship Id=\"rId1\" Target=\"%s\"/>"
	    "</Relationships>",
	    names[2]);
	sb_printf(&part[2], "<?xml version=\"1.0\"?><document><body>");
	mix_text(&part[2], st, n / 3);
	sb_printf(&part[2], "</body></document>");
	sb_printf(&part[3], "<?xml version=\"1.0\"?><styles>");
	mix_text(&part[3], st, n / 6);
	sb_printf(&part[3], "</styles>");
	rand_bytes(&part[4], st, n / 2); /* a thumbnail: incompressible */
	mix_zip(f, names, part, 5);
	for (int i = 0; i < 5; i++)
		free(part[i].p);
}

enum { AT_PDF, AT_PNG, AT_JPEG, AT_ZIP, AT_DOCX, AT_XLSX, AT_CSV, AT_TXT };

static const struct {
	const char *type, *ext;
} mix_types[] = {
	[AT_PDF] = { "application/pdf", "pdf" },
	[AT_PNG] = { "image/png", "png" },
	[AT_JPEG] = { "image/jpeg", "jpg" },
	[AT_ZIP] = { "application/zip", "zip" },
	[AT_DOCX] = { "application/vnd.openxmlformats-officedocument."
		      "wordprocessingml.document",
	    "docx" },
	[AT_XLSX] = { "application/vnd.openxmlformats-officedocument."
		      "spreadsheetml.sheet",
	    "xlsx" },
	[AT_CSV] = { "text/csv", "csv" },
	[AT_TXT] = { "text/plain", "txt" },
};

/* The bytes of a file of kind k, about n of them. */
static void
mix_file(struct sbuf *f, uint64_t *st, int k, size_t n)
{
	static const uint8_t png_head[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 2, 0, 0, 0,
		1, 0x80, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89 };
	static const uint8_t jpeg_head[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J',
		'F', 'I', 'F', 0, 1, 1, 0, 0, 72, 0, 72, 0, 0 };

	switch (k) {
	case AT_PDF:
		sb_printf(f,
		    "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Type"
		    "/Catalog/Pages 2 0 R>>\nendobj\n4 0 obj\n<</"
		    "Filter/FlateDecode/Length %zu>>\nstream\n",
		    n);
		rand_bytes(f, st, n);
		sb_printf(f,
		    "\nendstream\nendobj\ntrailer\n<</Root 1 0 R>>"
		    "\n%%%%EOF\n");
		break;
	case AT_PNG:
		sb_put(f, png_head, sizeof(png_head));
		le32b(f, 0); /* IDAT's length, as a big-endian would say */
		sb_put(f, "IDAT", 4);
		rand_bytes(f, st, n);
		sb_put(f, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
		break;
	case AT_JPEG:
		sb_put(f, jpeg_head, sizeof(jpeg_head));
		rand_bytes(f, st, n);
		sb_put(f, "\xff\xd9", 2);
		break;
	case AT_ZIP: {
		const char *names[] = { "scan0001.jpg", "readme.txt" };
		struct sbuf in[2] = { { 0 } };

		mix_file(&in[0], st, AT_JPEG, n);
		mix_text(&in[1], st, 400);
		mix_zip(f, names, in, 2);
		free(in[0].p);
		free(in[1].p);
		break;
	}
	case AT_DOCX:
	case AT_XLSX:
		mix_ooxml(f, st, n, k == AT_XLSX);
		break;
	case AT_CSV:
		sb_printf(f, "date,account,amount,currency,note\r\n");
		while (f->n < n)
			sb_printf(f, "2023-11-%02u,%06u,%u.%02u,EUR,%s\r\n",
			    (unsigned)(1 + rnd(st) % 28),
			    (unsigned)(rnd(st) % 1000000),
			    (unsigned)(rnd(st) % 10000),
			    (unsigned)(rnd(st) % 100),
			    mix_words[rnd(st) % MIX_WORDS]);
		break;
	default:
		mix_text(f, st, n);
		break;
	}
}

static void
b64_lines(struct sbuf *b, const uint8_t *p, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char   line[80];
	size_t k = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 |
		    (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);

		line[k++] = a[v >> 18 & 63];
		line[k++] = a[v >> 12 & 63];
		line[k++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		line[k++] = i + 2 < n ? a[v & 63] : '=';
		if (k == 76 || i + 3 >= n) {
			line[k++] = '\r';
			line[k++] = '\n';
			sb_put(b, line, k);
			k = 0;
		}
	}
}

/* The text of a message: plain, or plain and HTML as alternatives. */
static void
mix_body_text(struct sbuf *m, uint64_t *st, size_t n, int html)
{
	if (!html) {
		sb_printf(m,
		    "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: 8bit\r\n\r\n");
		mix_text(m, st, n);
		return;
	}
	sb_printf(m,
	    "Content-Type: multipart/alternative; "
	    "boundary=\"alt\"\r\n\r\n--alt\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	mix_text(m, st, n / 3);
	sb_printf(m,
	    "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mix_html(m, st, 2 * n / 3);
	sb_printf(m, "\r\n--alt--\r\n");
}

/*
 * A message as people send them: a text of log-normal size around
 * text_median bytes, HTML beside it half the time, and with share_att
 * per cent chance one to three attachments of real formats (PDF, PNG,
 * JPEG, ZIP, DOCX, XLSX, CSV, text) of log-normal size around 60 KB,
 * base64 at 76 columns.
 */
static char *
mix_message(uint64_t *st, uint32_t n, double text_median, int share_att)
{
	struct sbuf m = { 0 };
	size_t	    text = lognormal(st, text_median, 0.7, 300, 200000);
	int	    html = rnd(st) % 2, natt = 0;

	if ((int)(rnd(st) % 100) < share_att)
		natt = 1 + (int)(rnd(st) % 3);
	sb_printf(&m,
	    "Received: from client%u.example.net (client%u.example.net "
	    "[10.%u.%u.%u])\r\n\tby mx.example.org (Postfix) with ESMTPS id "
	    "M%u\r\n\tfor <peer%u@example.org>; Tue, 14 Nov 2023 22:13:20 "
	    "+0000\r\n"
	    "From: \"User %u\" <user%u@example.net>\r\nTo: peer%u@example.org"
	    "\r\nSubject: %s %s %u\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "Message-ID: <mix.%u@example.net>\r\nMIME-Version: 1.0\r\n"
	    "X-Mailer: Microsoft Outlook 16.0\r\n",
	    n, n, n >> 16 & 255, n >> 8 & 255, n & 255, n, n, n, n, n,
	    mix_words[rnd(st) % MIX_WORDS], mix_words[rnd(st) % MIX_WORDS], n,
	    n);
	if (natt == 0) {
		mix_body_text(&m, st, text, html);
		return m.p;
	}
	sb_printf(&m,
	    "Content-Type: multipart/mixed; boundary=\"mix\"\r\n"
	    "\r\nThis is a multi-part message in MIME format.\r\n"
	    "\r\n--mix\r\n");
	mix_body_text(&m, st, text, html);
	for (int i = 0; i < natt; i++) {
		int	    k = (int)(rnd(st) % (AT_TXT + 1));
		size_t	    size = lognormal(st, 60000, 1.0, 2000, 3000000);
		struct sbuf f = { 0 };

		mix_file(&f, st, k, size);
		sb_printf(&m,
		    "\r\n--mix\r\nContent-Type: %s; name=\"%s_%u.%s\"\r\n"
		    "Content-Disposition: attachment; filename=\"%s_%u.%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n",
		    mix_types[k].type, mix_words[n % MIX_WORDS], n,
		    mix_types[k].ext, mix_words[n % MIX_WORDS], n,
		    mix_types[k].ext);
		b64_lines(&m, (uint8_t *)f.p, f.n);
		free(f.p);
	}
	sb_printf(&m, "\r\n--mix--\r\n");
	return m.p;
}

/* Messages in a session: mostly one, sometimes up to four. */
static int
mix_count(uint64_t *st)
{
	uint64_t r = rnd(st) % 20;

	return r < 12 ? 1 : r < 17 ? 2 : r < 19 ? 3 : 4;
}

/*
 * One session of the mix: SMTP (a submission with AUTH, or a relay),
 * POP3 or IMAP, each with one to four messages; tiny: SMTP only, one
 * notification of 2 to 4 KB.  Returns the messages it carried.
 */
static int
mix_session(struct gen *g, uint64_t *st, uint32_t n, int tiny)
{
	uint32_t    cli = IP(10, (n >> 16) & 255, (n >> 8) & 255, n & 255);
	uint16_t    cport = (uint16_t)(1024 + n % 60000);
	int	    proto = tiny ? 0 : (int)(rnd(st) % 4), k;
	int	    count = tiny ? 1 : mix_count(st);
	char	   *msg[4];
	struct conv c;

	for (k = 0; k < count; k++)
		msg[k] = tiny ? mix_message(st, n * 4 + (uint32_t)k, 1500, 0) :
				mix_message(st, n * 4 + (uint32_t)k, 4000, 30);
	switch (proto) {
	case 0:
	case 1: /* half the mix is SMTP */
		conv_open(&c, g, cli, cport, IP(198, 51, 100, 25),
		    proto ? 587 : 25);
		c.ack_every = 4;
		ehlo(&c, "client.example.net");
		if (proto == 1) {
			say(&c, C2S, "AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=\r\n");
			say(&c, S2C, "235 2.7.0 ok\r\n");
		}
		for (k = 0; k < count; k++) {
			say(&c, C2S,
			    "MAIL FROM:<user%u@example.net>\r\nRCPT "
			    "TO:<peer%u@example.org>\r\nDATA\r\n",
			    n, n);
			say(&c, S2C, "250 ok\r\n250 ok\r\n354 go\r\n");
			send_message(&c, msg[k]);
			say(&c, S2C, "250 2.0.0 Ok: queued as M%u%d\r\n", n, k);
		}
		say(&c, C2S, "QUIT\r\n");
		say(&c, S2C, "221 bye\r\n");
		break;
	case 2:
		conv_open(&c, g, cli, cport, IP(198, 51, 100, 110), 110);
		c.ack_every = 4;
		say(&c, S2C, "+OK POP3 ready\r\n");
		say(&c, C2S, "USER user%u\r\n", n);
		say(&c, S2C, "+OK\r\n");
		say(&c, C2S, "PASS secret\r\n");
		say(&c, S2C, "+OK logged in\r\n");
		for (k = 0; k < count; k++) {
			say(&c, C2S, "RETR %d\r\n", k + 1);
			serve_pop3(&c, msg[k]);
		}
		say(&c, C2S, "QUIT\r\n");
		say(&c, S2C, "+OK bye\r\n");
		break;
	default:
		conv_open(&c, g, cli, cport, IP(198, 51, 100, 143), 143);
		c.ack_every = 4;
		say(&c, S2C, "* OK IMAP4rev1 ready\r\n");
		say(&c, C2S, "a1 LOGIN user%u secret\r\n", n);
		say(&c, S2C, "a1 OK logged in\r\n");
		say(&c, C2S, "a2 SELECT INBOX\r\n");
		say(&c, S2C, "* %d EXISTS\r\na2 OK [READ-WRITE] done\r\n",
		    count);
		for (k = 0; k < count; k++) {
			size_t len = strlen(msg[k]);
			char  *lit = malloc(len + 128);

			say(&c, C2S,
			    "a%d UID FETCH %d (UID FLAGS BODY.PEEK[])"
			    "\r\n",
			    k + 3, k + 1);
			sprintf(lit,
			    "* %d FETCH (UID %d FLAGS (\\Seen) BODY[] {%zu}"
			    "\r\n%s)\r\na%d OK done\r\n",
			    k + 1, k + 1, len, msg[k], k + 3);
			conv_send(&c, S2C, lit, strlen(lit));
			free(lit);
		}
		say(&c, C2S, "z LOGOUT\r\n");
		say(&c, S2C, "* BYE\r\nz OK bye\r\n");
		break;
	}
	conv_close(&c);
	for (k = 0; k < count; k++)
		free(msg[k]);
	return count;
}

static int
mix_any(struct gen *g, uint64_t *st, uint32_t n)
{
	return mix_session(g, st, n, 0);
}

static int
mix_tiny(struct gen *g, uint64_t *st, uint32_t n)
{
	return mix_session(g, st, n, 1);
}

static int
bench_one(struct gen *g, uint64_t *st, uint32_t n)
{
	bench_session(g, st, n);
	return 1;
}

#define BENCH_STREAMS 32 /* sessions interleaved at a time */

/*
 * Writes a capture of about mb megabytes: sessions of the three protocols,
 * BENCH_STREAMS at a time interleaved packet by packet, some with
 * retransmissions and out-of-order segments.  Same seed, same file.
 */
typedef int (*session_fn)(struct gen *, uint64_t *st, uint32_t n);

static int
bench_capture(const char *path, unsigned long mb, unsigned long msgs,
    session_fn session, uint64_t seed)
{
	static struct batch b[BENCH_STREAMS];
	uint64_t      st = seed | 1, target = (uint64_t)mb << 20, written = 24;
	struct gen    g;
	uint32_t      n = 0;
	unsigned long made = 0; /* messages */

	memset(&g, 0, sizeof(g));
	if ((g.f = fopen(path, "wb")) == NULL) {
		perror(path);
		return 1;
	}
	g.linktype = LT_EN10MB;
	g.no_expect = 1;
	g.t_us = 1700000000ULL * 1000000;
	le32(g.f, 0xa1b2c3d4);
	fputc(2, g.f), fputc(0, g.f), fputc(4, g.f), fputc(0, g.f);
	le32(g.f, 0), le32(g.f, 0), le32(g.f, 262144), le32(g.f, LT_EN10MB);
	while (written < target && (msgs == 0 || made < msgs)) {
		size_t live = 0, group = 0;
		int    k;

		/* up to BENCH_STREAMS sessions, fewer when the file would
		 * pass its size: it ends within a session of the target */
		for (k = 0; k < BENCH_STREAMS && written + group < target &&
		     (msgs == 0 || made < msgs);
		     k++) {
			b[k].len = b[k].rd = 0;
			g.batch = &b[k];
			made += (unsigned long)session(&g, &st, ++n);
			group += b[k].len;
		}
		do { /* round robin: one packet of each in turn */
			live = 0;
			for (int i = 0; i < k; i++) {
				uint32_t len;

				if (b[i].rd >= b[i].len)
					continue;
				live++;
				memcpy(&len, b[i].buf + b[i].rd, 4);
				g.t_us += 20;
				le32(g.f, (uint32_t)(g.t_us / 1000000));
				le32(g.f, (uint32_t)(g.t_us % 1000000));
				le32(g.f, len);
				le32(g.f, len);
				fwrite(b[i].buf + b[i].rd + 4, 1, len, g.f);
				b[i].rd += 4 + len;
				written += 16 + len;
			}
		} while (live > 0);
	}
	for (int i = 0; i < BENCH_STREAMS; i++)
		free(b[i].buf);
	fclose(g.f);
	fprintf(stderr, "pcapgen: %s: %u sessions, %lu messages, %llu MiB\n",
	    path, n, made, (unsigned long long)(written >> 20));
	return 0;
}

/* OUTDIR/NAME.pcap: the message in the file relayed over SMTP. */
static int
eml_capture(const char *eml, const char *dir, const char *name)
{
	FILE	  *f = fopen(eml, "rb");
	char	  *msg;
	long	   n;
	struct gen g;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (msg = malloc((size_t)n + 1)) == NULL ||
	    fread(msg, 1, (size_t)n, f) != (size_t)n) {
		perror(eml);
		return 1;
	}
	fclose(f);
	msg[n] = '\0';
	gen_open(&g, dir, name, LT_EN10MB);
	session_smtp_message(&g, 49601, msg);
	gen_close(&g);
	free(msg);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gen g;

	if (argc == 5 && strcmp(argv[1], "--bench") == 0)
		return bench_capture(argv[2], strtoul(argv[3], NULL, 10), 0,
		    bench_one, strtoull(argv[4], NULL, 10));
	if (argc == 5 &&
	    (strcmp(argv[1], "--mix") == 0 || strcmp(argv[1], "--tiny") == 0))
		return bench_capture(argv[2], 1ul << 20,
		    strtoul(argv[3], NULL, 10),
		    argv[1][2] == 'm' ? mix_any : mix_tiny,
		    strtoull(argv[4], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "--eml") == 0)
		return eml_capture(argv[2], argv[3], argv[4]);
	if (argc != 2) {
		fprintf(stderr,
		    "usage: pcapgen OUTDIR\n"
		    "       pcapgen --bench FILE MEGABYTES SEED\n"
		    "       pcapgen --mix|--tiny FILE MESSAGES SEED\n"
		    "       pcapgen --eml MESSAGE OUTDIR NAME\n");
		return 2;
	}
	gen_open(&g, argv[1], "demo", LT_EN10MB);
	session_submission(&g, 40001);
	session_relay(&g, 40002, 0);
	session_bdat_starttls(&g, 40003);
	gen_close(&g);

	gen_open(&g, argv[1], "hostile-net-sll", LT_SLL);
	session_relay(&g, 41001, 1);
	session_cut(&g, 41002);
	gen_close(&g);

	gen_open(&g, argv[1], "loopback-null", LT_NULL);
	session_submission(&g, 42001);
	gen_close(&g);

	gen_open(&g, argv[1], "raw-ip", LT_RAW);
	session_bdat_starttls(&g, 43001);
	gen_close(&g);

	/* One session per encapsulation, all in one Ethernet capture. */
	gen_open(&g, argv[1], "encap", LT_EN10MB);
	for (enum encap e = E_QINQ; e <= E_IPIP; e++) {
		g.encap = e;
		session_submission(&g, (uint16_t)(44000 + e));
	}
	g.encap = E_GRE;
	session_submission6(&g, 44100);
	gen_close(&g);

	gen_open(&g, argv[1], "ipv6", LT_EN10MB);
	session_submission6(&g, 45001);
	gen_close(&g);

	gen_open(&g, argv[1], "ipv6-null", LT_NULL);
	session_submission6(&g, 45002);
	gen_close(&g);

	gen_open(&g, argv[1], "sll2", LT_SLL2);
	session_submission(&g, 46001);
	gen_close(&g);

	gen_open(&g, argv[1], "ppp", LT_PPP);
	session_submission(&g, 46002);
	gen_close(&g);

	gen_open(&g, argv[1], "midstream", LT_EN10MB);
	session_midstream(&g, 47001);
	gen_close(&g);

	gen_open(&g, argv[1], "journeys", LT_EN10MB);
	session_journeys(&g);
	gen_close(&g);

	gen_open(&g, argv[1], "portreuse", LT_EN10MB);
	session_port_reuse(&g, 48100);
	gen_close(&g);

	gen_open(&g, argv[1], "lossy", LT_EN10MB);
	session_lossy(&g, 48001);
	session_huge_hole(&g, 48010);
	gen_close(&g);

	gen_open(&g, argv[1], "oneside", LT_EN10MB);
	session_one_side(&g, 48050);
	gen_close(&g);

	gen_open(&g, argv[1], "terminal", LT_EN10MB);
	session_terminal_attack(&g, 48040);
	gen_close(&g);

	gen_open(&g, argv[1], "links", LT_EN10MB);
	session_smtp_message(&g, 49501, msg_links);
	gen_close(&g);

	gen_open(&g, argv[1], "class-e", LT_EN10MB);
	session_class_e_injection(&g, 48030);
	gen_close(&g);

	gen_open(&g, argv[1], "holes", LT_EN10MB);
	session_hole_overflow(&g, 48020);
	session_submission(&g, 48021);
	gen_close(&g);
	return 0;
}
