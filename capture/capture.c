/* \summary: the capture layer: its state, packets in, the end of a run */
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

#include "capture/capture_priv.h"
#include "capture/decap.h"
#include "capture/wire.h"

struct capture_glue cap;

uint64_t
cap_now_us(void)
{
	const struct pcap_pkthdr *h = nids_last_pcap_header;

	if (h == NULL)
		return 0;
	return (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
}

uint64_t
cap_packet_us(void)
{
	return (uint64_t)cap.hdr.ts.tv_sec * 1000000u +
	    (uint64_t)cap.hdr.ts.tv_usec;
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
	nids_params.syslog = cap_on_nids_warning;
	nids_params.no_mem = cap_on_nids_no_mem;
	nids_params.tcp_workarounds = 1;
	nids_params.multiproc = 0;
	if (!nids_init()) {
		snprintf(err, errlen, "libnids: %s", nids_errbuf);
		return -1;
	}
	nids_register_chksum_ctl(&no_checksums, 1);
	nids_register_tcp(cap_on_tcp);
	cap.inited = 1;
	return 0;
}

/*
 * Hands one IPv4 packet to libnids, repairing what offloading breaks on
 * the sending host: a zero total length (segmentation offload) and a
 * wrong header checksum.
 */
static void
feed_ipv4(const struct pcap_pkthdr *h, const uint8_t *ip, size_t n)
{
	size_t	      hlen;
	uint16_t      tot;
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
	if (cap_another_jobs(cap.pkt, n))
		return;
	cap.hdr = *h;
	cap.hdr.caplen = (bpf_u_int32)n;
	cap.hdr.len = (bpf_u_int32)n;
	if (tot <= n)
		cap_pickup_midstream(cap.pkt, n);
	cap_before_libnids(cap.pkt, n, &ar);
	nids_pcap_handler(NULL, &cap.hdr, cap.pkt);
	cap_after_libnids(&ar);
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
void
cap_feed_frame(int dlt, const struct pcap_pkthdr *h, const uint8_t *p)
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

/* Ends every open connection as "capture ended" (NIDS_EXITING). */
void
capture_finish(void)
{
	if (!cap.inited)
		return;
	cap_fill_all_open();
	nids_exit();
	/* nids_exit keeps the callback's list node; nids_init, at the next
	 * unrelated capture, registers it again */
	nids_unregister_tcp(cap_on_tcp);
	cap_end_orphans();
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
