/* \summary: libpcap reading, link layers, libnids reassembly, flow dispatch */
/*
 * mailsift feeds libnids itself instead of letting it run its own capture
 * loop: libnids is initialised on a "dead" DLT_RAW handle and receives
 * bare IPv4 packets from nids_pcap_handler().  That way the link layers,
 * statistics, errors and the order of several input files are ours.
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
#include <nids.h>
#include <pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

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
};

struct flow {
	struct md_flow	       info;
	enum flow_state	       state;
	const struct md_proto *proto;
	void		      *st;
	struct prelude	       pre;
};

/* The libnids glue: libnids calls back without a context pointer. */
static struct {
	struct capture_opts  opts;
	struct capture_stats stats;
	pcap_t		    *dead;
	uint64_t	     next_flow_id;
	uint8_t		     pkt[SNAP_MAX];
	struct pcap_pkthdr   hdr; /* libnids keeps a pointer to it */
	int		     inited;
} cap;

static uint64_t
now_us(void)
{
	const struct pcap_pkthdr *h = nids_last_pcap_header;

	if (h == NULL)
		return 0;
	return (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
}

/* ----------------------------------------------------------- flow setup */

static void
prelude_free(struct prelude *pre)
{
	free(pre->buf[0]);
	free(pre->buf[1]);
	free(pre->order);
	memset(pre, 0, sizeof(*pre));
}

/* Keeps early bytes for detection; returns -1 when the cap is reached. */
static int
prelude_add(struct prelude *pre, enum md_dir dir, const uint8_t *p, size_t n)
{
	uint8_t *nb;

	if (pre->len[dir] + n > MD_DETECT_MAX)
		return -1;
	if ((nb = realloc(pre->buf[dir], pre->len[dir] + n)) == NULL)
		return -1;
	pre->buf[dir] = nb;
	memcpy(nb + pre->len[dir], p, n);
	pre->len[dir] += n;
	if (pre->norder == pre->order_cap) {
		size_t ncap = pre->order_cap ? pre->order_cap * 2 : 8;
		void *no = realloc(pre->order, ncap * sizeof(*pre->order));
		if (no == NULL)
			return -1;
		pre->order = no;
		pre->order_cap = ncap;
	}
	pre->order[pre->norder].dir = (uint8_t)dir;
	pre->order[pre->norder].len = (uint32_t)n;
	pre->norder++;
	return 0;
}

static void
flow_addresses(struct flow *f, const struct tcp_stream *a)
{
	f->info.family = AF_INET;
	memcpy(f->info.cli_addr, &a->addr.saddr, 4);
	memcpy(f->info.srv_addr, &a->addr.daddr, 4);
	f->info.cli_port = a->addr.source;
	f->info.srv_port = a->addr.dest;
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
	};

	return md_detect(&in, d);
}

static void
flow_free(struct flow *f)
{
	prelude_free(&f->pre);
	free(f);
}

/* Stops libnids from collecting a stream we do not dissect. */
static void
flow_ignore(struct tcp_stream *a, struct flow *f)
{
	a->client.collect--;
	a->server.collect--;
	cap.stats.ignored++;
	flow_free(f);
}

/* ------------------------------------------------------ libnids callback */

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
	if (f->state == FLOW_ACTIVE) {
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
	f->proto->close(f->st, end_reason(nids_state), now_us());
	flow_free(f);
}

static void
on_tcp(struct tcp_stream *a, void **param)
{
	struct flow *f = *param;

	switch (a->nids_state) {
	case NIDS_JUST_EST:
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return;
		flow_addresses(f, a);
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
	fprintf(stderr, "mailsift: out of memory in libnids (%s)\n", where);
	exit(3);
}

int
capture_init(const struct capture_opts *opts, char *err, size_t errlen)
{
	/* Static: libnids keeps the pointer. */
	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM,
		0 };

	cap.opts = *opts;
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

/* -------------------------------------------------------- link layers */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Finds the IPv4 header in a frame.  Returns its offset, or -1 when the
 * frame carries no IPv4 (or is too short for its own link header).
 */
static long
link_ipv4_offset(int dlt, const uint8_t *p, size_t n)
{
	size_t off;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (n < 14)
			return -2;
		type = be16(p + 12);
		off = 14;
		/* 802.1Q, 802.1ad (QinQ) and 0x9100 tags, stacked */
		while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) &&
		    n >= off + 4) {
			type = be16(p + off + 2);
			off += 4;
		}
		return type == 0x0800 ? (long)off : -1;
	case DLT_NULL:
	case DLT_LOOP:
		if (n < 4)
			return -2;
		/* AF_INET is 2 everywhere; the word is in host or net order */
		return (p[0] == 2 && p[1] == 0) || (p[3] == 2 && p[2] == 0) ?
		    4 : -1;
	case DLT_RAW:
	case DLT_IPV4:
		return n > 0 && (p[0] >> 4) == 4 ? 0 : -1;
	case DLT_LINUX_SLL:
		if (n < 16)
			return -2;
		return be16(p + 14) == 0x0800 ? 16 : -1;
	case DLT_LINUX_SLL2:
		if (n < 20)
			return -2;
		return be16(p) == 0x0800 ? 20 : -1;
	default:
		return -1;
	}
}

static int
link_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_NULL || dlt == DLT_LOOP ||
	    dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_LINUX_SLL ||
	    dlt == DLT_LINUX_SLL2;
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

	if (n < 20 || (ip[0] >> 4) != 4)
		return;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20 || hlen > n)
		return;
	memcpy(cap.pkt, ip, n);
	tot = be16(cap.pkt + 2);
	if (tot == 0) {
		cap.pkt[2] = (uint8_t)(n >> 8);
		cap.pkt[3] = (uint8_t)n;
	} else if (tot > n)
		cap.stats.truncated++;
	if (ipv4_checksum(cap.pkt, hlen) != 0) {
		cap.pkt[10] = cap.pkt[11] = 0;
		uint16_t c = ipv4_checksum(cap.pkt, hlen);
		cap.pkt[10] = (uint8_t)(c >> 8);
		cap.pkt[11] = (uint8_t)c;
		cap.stats.csum_fixed++;
	}
	cap.hdr = *h;
	cap.hdr.caplen = (bpf_u_int32)n;
	cap.hdr.len = (bpf_u_int32)n;
	cap.stats.ipv4++;
	nids_pcap_handler(NULL, &cap.hdr, cap.pkt);
}

/*
 * Reads one capture file (pcap or pcapng; "-" is standard input) through
 * libnids.  Returns 0, or -1 with err set when the file could not be
 * opened or is damaged; everything read before the damage is processed.
 */
int
capture_file(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int dlt, r, rc = 0;
	uint64_t nread = 0;
	long off;

	if ((pc = pcap_open_offline(path, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		cap.stats.files_damaged++;
		return -1;
	}
	dlt = pcap_datalink(pc);
	if (!link_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", path,
		    dlt, name ? name : "unknown");
		pcap_close(pc);
		cap.stats.files_damaged++;
		return -1;
	}
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		nread++;
		cap.stats.packets++;
		cap.stats.bytes += h->caplen;
		off = link_ipv4_offset(dlt, data, h->caplen);
		if (off == -2)
			cap.stats.bad_link++;
		if (off < 0) {
			cap.stats.not_ip++;
			continue;
		}
		if (h->caplen < h->len)
			cap.stats.truncated++;
		feed_ipv4(h, data + off, h->caplen - (size_t)off);
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

/* Ends every open connection as "capture ended" (NIDS_EXITING). */
void
capture_finish(void)
{
	if (!cap.inited)
		return;
	nids_exit();
	pcap_close(cap.dead);
	cap.dead = NULL;
	cap.inited = 0;
}

const struct capture_stats *
capture_stats(void)
{
	return &cap.stats;
}
