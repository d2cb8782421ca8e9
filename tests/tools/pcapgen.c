/* \summary: crafts the SMTP captures mailsift ships and tests itself on */
/*
 * pcapgen OUTDIR writes, deterministically, a set of pcap files with TCP
 * handshakes, MSS-sized segments, ACKs, retransmissions, out-of-order
 * segments, offloaded (zero) TCP checksums and several link layers, and
 * beside each message the exact bytes a correct dissector must rebuild
 * (OUTDIR/NAME.msgN.eml).  Nothing here parses: it only writes what a
 * client and server would have put on the wire.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LT_NULL = 0, LT_EN10MB = 1, LT_RAW = 101, LT_SLL = 113 };
enum { C2S, S2C };

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

struct gen {
	FILE	*f;
	int	 linktype;
	uint64_t t_us;
	int	 msgno;
	char	 name[256];
	char	 outdir[1024];
};

struct conv {
	struct gen *g;
	uint32_t    ip[2];   /* client, server */
	uint16_t    port[2];
	uint32_t    seq[2];  /* next sequence number per sender */
	uint16_t    ipid;
	size_t	    mss;
	int	    bad_csum; /* zero TCP checksums (offload) */
	int	    reorder;  /* send the 2nd and 3rd segment swapped */
	int	    retrans;  /* send every 2nd segment twice */
};

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

/* Writes one packet record with the link header of the file. */
static void
gen_packet(struct gen *g, const uint8_t *ip, size_t n)
{
	uint8_t link[16];
	size_t ll = 0;

	switch (g->linktype) {
	case LT_EN10MB:
		memcpy(link, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
		    "\x08\x00", 14);
		ll = 14;
		break;
	case LT_NULL:
		memcpy(link, "\x02\x00\x00\x00", 4); /* AF_INET, little end */
		ll = 4;
		break;
	case LT_SLL:
		memset(link, 0, 16);
		link[1] = 4; /* sent by us */
		link[3] = 1; /* ARPHRD_ETHER */
		link[5] = 6;
		put16(link + 14, 0x0800);
		ll = 16;
		break;
	case LT_RAW:
		break;
	}
	g->t_us += 1500;
	le32(g->f, (uint32_t)(g->t_us / 1000000));
	le32(g->f, (uint32_t)(g->t_us % 1000000));
	le32(g->f, (uint32_t)(ll + n));
	le32(g->f, (uint32_t)(ll + n));
	fwrite(link, 1, ll, g->f);
	fwrite(ip, 1, n, g->f);
}

static void
tcp_send(struct conv *c, int dir, uint8_t flags, uint32_t seq,
    const uint8_t *data, size_t n)
{
	uint8_t pkt[20 + 20 + 2048], pseudo[12];
	uint32_t sum;
	int other = !dir;

	memset(pkt, 0, 40);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)(40 + n));
	put16(pkt + 4, c->ipid++);
	pkt[8] = 64;
	pkt[9] = 6;
	put32(pkt + 12, c->ip[dir]);
	put32(pkt + 16, c->ip[other]);
	put16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
	put16(pkt + 20, c->port[dir]);
	put16(pkt + 22, c->port[other]);
	put32(pkt + 24, seq);
	put32(pkt + 28, (flags & F_ACK) ? c->seq[other] : 0);
	pkt[32] = 5 << 4;
	pkt[33] = flags;
	put16(pkt + 34, 65535);
	memcpy(pkt + 40, data, n);
	if (!c->bad_csum) {
		put32(pseudo, c->ip[dir]);
		put32(pseudo + 4, c->ip[other]);
		pseudo[8] = 0;
		pseudo[9] = 6;
		put16(pseudo + 10, (uint16_t)(20 + n));
		sum = csum_add(csum_add(0, pseudo, 12), pkt + 20, 20 + n);
		put16(pkt + 36, csum_fold(sum));
	}
	c->g->t_us += 100;
	gen_packet(c->g, pkt, 40 + n);
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
	size_t nseg = (n + c->mss - 1) / c->mss, i;
	uint32_t base = c->seq[dir];

	for (i = 0; i < nseg; i++) {
		size_t k = i;
		if (c->reorder && nseg >= 3 && (i == 1 || i == 2))
			k = i == 1 ? 2 : 1;
		size_t off = k * c->mss;
		size_t len = n - off < c->mss ? n - off : c->mss;
		tcp_send(c, dir, F_ACK | F_PSH, base + (uint32_t)off,
		    (const uint8_t *)data + off, len);
		if (c->retrans && (i % 2) == 1)
			tcp_send(c, dir, F_ACK | F_PSH, base + (uint32_t)off,
			    (const uint8_t *)data + off, len);
	}
	c->seq[dir] += (uint32_t)n;
	tcp_send(c, !dir, F_ACK, c->seq[!dir], NULL, 0);
}

static void
say(struct conv *c, int dir, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

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
	char path[2048];
	FILE *f;

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
	char *wire = malloc(2 * n + 8);

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
	char *m = malloc(cap);

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
	say(c, S2C, "250-mx.example.org\r\n250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 CHUNKING\r\n");
}

/* Submission with AUTH LOGIN, one message with a leading-dot body. */
static void
session_submission(struct gen *g, uint16_t cport)
{
	struct conv c;

	conv_open(&c, g, IP(192, 0, 2, 10), cport, IP(198, 51, 100, 25), 587);
	ehlo(&c, "laptop.example.net");
	say(&c, C2S, "AUTH LOGIN\r\n");
	say(&c, S2C, "334 VXNlcm5hbWU6\r\n");
	say(&c, C2S, "YWxpY2VAZXhhbXBsZS5uZXQ=\r\n"); /* alice@example.net */
	say(&c, S2C, "334 UGFzc3dvcmQ6\r\n");
	say(&c, C2S, "V2ludGVyMjAyMyE=\r\n");	      /* Winter2023! */
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

/* Relay with PIPELINING, a refused recipient and a large attachment. */
static void
session_relay(struct gen *g, uint16_t cport, int hostile_net)
{
	struct conv c;
	char *big = make_big_message(400);

	conv_open(&c, g, IP(203, 0, 113, 7), cport, IP(198, 51, 100, 25), 25);
	c.reorder = hostile_net;
	c.retrans = hostile_net;
	ehlo(&c, "relay.example.com");
	say(&c, C2S, "MAIL FROM:<carol@example.com> SIZE=%zu\r\n"
	    "RCPT TO:<dave@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
	    "DATA\r\n", strlen(big));
	say(&c, S2C, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
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
	static const char part1[] = "From: erin@example.net\r\n"
	    "To: frank@example.org\r\nSubject: chunked\r\n\r\n";
	static const char part2[] = "line one\r\n.\r\nnot the end: BDAT "
	    "has no dot rules\r\n";
	struct conv c;
	char msg[512];

	conv_open(&c, g, IP(192, 0, 2, 44), cport, IP(198, 51, 100, 26), 25);
	c.bad_csum = 1;
	ehlo(&c, "erin-pc");
	say(&c, C2S, "AUTH PLAIN AGVyaW4AcGFzc3dvcmQx\r\n"); /* erin/password1 */
	say(&c, S2C, "235 2.7.0 Authentication successful\r\n");
	say(&c, C2S, "MAIL FROM:<erin@example.net>\r\n"
	    "RCPT TO:<frank@example.org>\r\nBDAT %zu\r\n%s", strlen(part1),
	    part1);
	say(&c, S2C, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "250 2.0.0 Ok: %zu bytes\r\n", strlen(part1));
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

int
main(int argc, char **argv)
{
	struct gen g;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapgen OUTDIR\n");
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
	return 0;
}
