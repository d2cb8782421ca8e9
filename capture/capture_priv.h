/*
 * capture_priv.h - what the capture layer's files share, and nothing
 * outside capture/ sees:
 *
 *   capture.c  capture state, packets in (IPv4/IPv6 to libnids), the end
 *   flow.c     the flow table: detection prelude, libnids callbacks,
 *              expiry, ended connections remembered
 *   madeup.c   segments made up for libnids: handshakes for connections
 *              picked up mid-stream, fillers for holes the capture lost
 *   source.c   reading capture files (record offsets) and interfaces
 *              (live open, step)
 *   dumpfile.c live -w: the packets written, hashed as written, rotated
 */
#ifndef MAILSIFT_CAPTURE_PRIV_H
#define MAILSIFT_CAPTURE_PRIV_H

#include <sys/types.h>
#include <netinet/in.h>
#include <nids.h>
#include <pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "capture/v6map.h"

#define SNAP_MAX 262144 /* libpcap's MAXIMUM_SNAPLEN */

enum flow_state { FLOW_DETECTING, FLOW_ACTIVE };

/* Bytes seen before the protocol is known, with their arrival order. */
struct prelude {
	uint8_t *buf[2];
	size_t	 len[2];
	struct {
		uint8_t	 dir;
		uint32_t len;
	} * order;
	size_t norder, order_cap;
	size_t charged; /* bytes counted against DETECT_BUDGET */
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

/*
 * The libnids glue: libnids calls back without a context pointer, so the
 * capture layer keeps its one state here (capture.c defines it).
 */
/* A made-up segment of zeros standing in for bytes the capture lost,
 * while libnids delivers it: cap_on_data tells the dissector a gap for
 * its bytes instead of handing them on. */
struct cap_filler {
	size_t		   left;   /* of its bytes, not yet delivered */
	int		   silent; /* its gap was told already */
	struct pcap_pkthdr hdr;
	uint8_t		   buf[65535]; /* headers, then zeros */
};

struct capture_glue {
	struct capture_opts  opts;
	struct capture_stats stats;
	pcap_t		    *dead;
	uint64_t	     next_flow_id;
	uint8_t		     pkt[SNAP_MAX];
	uint8_t		     v4[SNAP_MAX]; /* an IPv6 packet made IPv4 */
	struct pcap_pkthdr   hdr;	   /* libnids keeps a pointer to it */
	struct v6map	     v6;
	struct seen	     seen;
	struct syns	     syns;
	int		     synthesizing; /* feeding a made-up handshake */
	struct flow	    *flows;	   /* open flows, for the final flush */
	/* the hole filler being fed (madeup.c): cap_on_data, a libnids
	 * callback with no argument of ours, finds it here */
	struct cap_filler filler;
	uint64_t	  frame;  /* packet being read, from 1 per file */
	int64_t		  offset; /* where its record begins in the file */
	int		  inited;
	uint64_t	  nflows;
	size_t		  prelude_bytes; /* see prelude_add */
	pcap_t		 *live;		 /* capture_live_open */
	struct dumpfile	 *dump;		 /* -w: the packets, written as read */
	int		  live_dlt;
	int		  live_fd;
	/* the files read so far in this run: whether the next continues
	 * them (capture_next_file) */
	int	 files;
	int	 last_dlt;
	uint64_t last_us; /* the last packet read */
};

extern struct capture_glue cap;

/* dumpfile.c: the -w file (live), hashed as written */
struct dumpfile;
struct capture_written;
struct dumpfile *dumpfile_open(pcap_t *, const char *path, char *err,
    size_t errlen);
const char	*dumpfile_path(const struct dumpfile *);
int		 dumpfile_failed(const struct dumpfile *); /* its errno, or 0 */
/* Writes a record; returns where it begins in the file. */
int64_t dumpfile_write(struct dumpfile *, const struct pcap_pkthdr *,
    const u_char *);
void	dumpfile_flush(struct dumpfile *);
/* Closes it; out (or NULL) gets its digest, size, packets and times. */
void dumpfile_close(struct dumpfile *, struct capture_written *out);

/* What cap_before_libnids changed around one packet, for cap_after_libnids. */
struct around {
	struct tuple4 conn;	/* the connection, as libnids keys it */
	int	      fill_dir; /* holes its ACK may settle: 1 to server,
				 * 0 to client, -1 none */
	int	widen_dir;	/* receive window opened for it, or -1 */
	u_short window;		/* what it was */
	u_int	wscale;
};

/* capture.c */
void	 cap_feed_frame(int dlt, const struct pcap_pkthdr *h, const uint8_t *p);
uint64_t cap_now_us(void);
/* The time of the packet being fed, before libnids has seen it (cap_now_us
 * is still the last packet's then: 0 for a run's first). */
uint64_t cap_packet_us(void);

/* flow.c */
void	 cap_flow_end_now(struct flow *f, const char *why, enum md_end end);
void	 cap_flow_free(struct flow *f);
void	 cap_on_data(struct tcp_stream *a, struct flow *f);
void	 cap_on_nids_no_mem(char *where);
void	 cap_on_nids_warning(int type, int errnum, struct ip *iph, void *data);
void	 cap_on_tcp(struct tcp_stream *a, void **param);
int	 cap_another_jobs(const uint8_t *ip, size_t n);
void	 cap_prelude_free(struct prelude *pre);
int	 cap_seen_recently(uint32_t k, uint64_t ts);
int	 cap_stream_too_long(const struct half_stream *h, uint64_t more);
uint32_t cap_tuple_key(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp);

/* madeup.c */
void cap_after_libnids(const struct around *ar);
void cap_before_libnids(const uint8_t *ip, size_t n, struct around *ar);
void cap_end_orphans(void);
void cap_fill_all_open(void);
void cap_fill_holes(const struct tuple4 *conn, int to_server, int only_acked);
void cap_pickup_midstream(const uint8_t *ip, size_t n);

#endif
