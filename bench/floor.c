/* \summary: the floors mailsift is measured against: libpcap alone, and
 * libpcap with libnids reassembling every stream into empty callbacks */
/*
 * usage: floor pcap|nids FILE
 * Prints "packets bytes" read.  The nids floor feeds libnids exactly as
 * mailsift does (a dead DLT_RAW handle, checksums off, port-scan
 * detection off), Ethernet frames only (the benchmark capture's).
 */
#include <nids.h>
#include <pcap.h>
#include <stdio.h>
#include <string.h>

static struct pcap_pkthdr hdr; /* libnids keeps a pointer to it */

static void
on_tcp(struct tcp_stream *a, void **param)
{
	(void)param;
	if (a->nids_state == NIDS_JUST_EST) {
		a->client.collect++;
		a->server.collect++;
	}
}

static void
quiet(int type, int err, struct ip *iph, void *data)
{
	(void)type, (void)err, (void)iph, (void)data;
}

int
main(int argc, char **argv)
{
	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM,
		0 };
	char			      ebuf[PCAP_ERRBUF_SIZE];
	unsigned long long	      packets = 0, bytes = 0;
	struct pcap_pkthdr	     *h;
	const u_char		     *data;
	int			      nids, r;
	pcap_t			     *pc;

	if (argc != 3 || (strcmp(argv[1], "pcap") && strcmp(argv[1], "nids"))) {
		fprintf(stderr, "usage: floor pcap|nids FILE\n");
		return 2;
	}
	nids = strcmp(argv[1], "nids") == 0;
	if ((pc = pcap_open_offline(argv[2], ebuf)) == NULL) {
		fprintf(stderr, "floor: %s\n", ebuf);
		return 1;
	}
	if (nids) {
		nids_params.pcap_desc = pcap_open_dead(DLT_RAW, 262144);
		nids_params.filename = NULL;
		nids_params.device = NULL;
		nids_params.scan_num_hosts = 0;
		nids_params.n_tcp_streams = 65536;
		nids_params.syslog = quiet;
		nids_params.tcp_workarounds = 1;
		if (!nids_init()) {
			fprintf(stderr, "floor: %s\n", nids_errbuf);
			return 1;
		}
		nids_register_chksum_ctl(&no_checksums, 1);
		nids_register_tcp(on_tcp);
	}
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
		if (nids && h->caplen > 14) {
			hdr = *h;
			hdr.caplen -= 14;
			hdr.len = hdr.caplen;
			nids_pcap_handler(NULL, &hdr,
			    (u_char *)(uintptr_t)(data + 14));
		}
	}
	if (nids)
		nids_exit();
	pcap_close(pc);
	printf("%llu %llu\n", packets, bytes);
	return 0;
}
