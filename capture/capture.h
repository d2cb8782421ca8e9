/*
 * capture.h - reads packets with libpcap, reassembles TCP with libnids,
 * picks a dissector per connection and feeds it both directions.
 *
 * This is the only layer that knows libpcap and libnids.  libnids keeps
 * its state in globals, so one capture runs per process.
 */
#ifndef MAILSIFT_CAPTURE_H
#define MAILSIFT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/dissect.h"

struct capture_opts {
	struct md_sink sink;
	struct md_env  env; /* the dissectors' bounds, secrets, shared budget */
	int	       max_streams;   /* concurrent TCP streams tracked */
	size_t	       detect_budget; /* bytes all flows may hold while
				       * their protocol is unknown;
				       * 0: DEFAULT_DETECT_BUDGET */
	/* called now and then with the bytes of the current file read;
	 * non-zero: stop reading (the store cannot write any more) */
	int (*progress)(void *arg, uint64_t done);
	void *progress_arg;
	/*
	 * libnids ran out of memory and cannot go on (it would use the
	 * NULL it got): called from inside libnids after the -w file is
	 * flushed, to close the log as a signal would (commit, remove
	 * temporary files); mailsift then exits with status 3.
	 */
	void (*on_no_mem)(void *arg);
	void *no_mem_arg;
	/* read --jobs: this process dissects the connections whose
	 * symmetric hash of addresses and ports is share_k modulo share_n
	 * (share_n 0 or 1: all); the others are reassembled, not read */
	unsigned share_k, share_n;
};

struct capture_stats {
	uint64_t packets;  /* records read */
	uint64_t bytes;	   /* captured bytes read */
	uint64_t ipv4;	   /* IPv4 packets handed to libnids */
	uint64_t ipv6;	   /* IPv6 packets, handed over as IPv4 */
	uint64_t tunneled; /* of those, found inside a tunnel */
	uint64_t v6_full;  /* IPv6 packets past the address map's cap */
	uint64_t class_e;  /* IPv4 packets of 240.0.0.0/10 (the IPv6
			    * stand-ins), dropped */
	uint64_t detect_over_budget; /* flows not dissected: detection
				      * memory budget spent */
	uint64_t midstream;	/* connections picked up without handshake */
	uint64_t gap_bytes;	/* stream bytes the capture lost (holes) */
	uint64_t not_ip;	/* frames that carry no IP */
	uint64_t truncated;	/* frames cut by the snap length */
	uint64_t bad_link;	/* frames too short for their link header */
	uint64_t csum_fixed;	/* IPv4 header checksums repaired */
	uint64_t tcp_streams;	/* connections libnids reassembled */
	uint64_t sessions;	/* of those, mail sessions dissected */
	uint64_t ignored;	/* of those, not mail */
	uint64_t nids_warnings; /* libnids complaints (bad headers, ...) */
	uint64_t streams_evicted;
	int	 files_damaged;
};

#define DEFAULT_MAX_STREAMS 50000
#define DEFAULT_DETECT_MB   64

/* Live capture from an interface (mailsift live). */
struct capture_live {
	const char *iface;
	const char *filter;	   /* BPF */
	const char *filter_novlan; /* the same without VLAN clauses, for
				    * link types where BPF has none */
	int	    promisc;
	int	    buffer_mb;	  /* kernel capture buffer */
	const char *write_path;	  /* also write the packets there; NULL: no */
	unsigned    fanout_group; /* live --workers: the PACKET_FANOUT
				   * group this socket joins; 0: none */
	/* out: the file written, write_path or, when that exists (an earlier
	 * run's packets, never overwritten), NAME-2.EXT, NAME-3.EXT, ... */
	char written[4096];
};

/*
 * Sets libnids up (its callbacks feed opts->sink) for one run of files or
 * of an interface.  One run at a time: libnids has global state.  Returns
 * 0, or -1 with err set.
 */
int capture_init(const struct capture_opts *, char *err, size_t errlen);
/*
 * Opens the interface (and the -w file) before privileges are dropped;
 * capture_init follows.  Returns 0, or -1 with err set (no such
 * interface, no permission, a filter libpcap refuses).
 */
int capture_live_open(struct capture_live *, char *err, size_t errlen);
/* Waits up to 200 ms for packets and handles them: returns how many,
 * 0 after a signal (the caller checks its flags), -2 after
 * capture_live_break, -1 on an error (err says which). */
int capture_live_step(char *err, size_t errlen);
/* Makes the running capture_live_step return -2 (from a signal handler). */
void capture_live_break(void);
/* The kernel's counters since the capture opened, as libpcap gives them:
 * 32 bits, so they wrap; callers add the differences. */
struct capture_kernel {
	uint32_t received, dropped, if_dropped;
};
/* Returns 0, or -1 when libpcap cannot tell. */
int capture_live_counters(struct capture_kernel *);
/* Flushes the -w file to disk (it is read back while the run goes on). */
void capture_live_flush(void);
/* A -w file done with: its name, and what the log's captures table says
 * of it (the digest taken as it was written). */
struct capture_written {
	char	 path[4096]; /* empty: there was none */
	char	 sha256[65];
	uint64_t size, packets;
	uint64_t first_us, last_us;
	int	 damaged; /* a write failed: cut short there */
};
/*
 * Goes on writing the packets into a new -w file at path (or NAME-2.EXT
 * past a file there), as the user mailsift runs as: done gets the one
 * finished, taken the name of the new one; frames count from 1 again.
 * 0; or -1 with err set, the old file still written.
 */
int capture_live_write_next(const char *path, struct capture_written *done,
    char *taken, size_t takenlen, char *err, size_t errlen);
/* The errno of a failed write to the -w file (then cut there: nothing
 * more is written to it), or 0. */
int capture_live_write_error(void);
/* Closes the interface and the -w file (last, or NULL, gets what
 * capture_live_write_next gives of it); after capture_finish. */
void capture_live_close(struct capture_written *last);
/* Connections being followed now. */
size_t capture_active_flows(void);
/*
 * Ends the connections idle for idle_us of capture time at now_us
 * ("timeout", idle_timeout anomaly), then the least recently active ones
 * while more than max_flows are open (too_many_streams).  Between
 * packets only, never from a callback.
 */
void capture_expire(uint64_t now_us, uint64_t idle_us, size_t max_flows);
/* What one capture file held, for the log's record of its inputs. */
struct capture_file_info {
	uint64_t    packets;
	uint64_t    first_us, last_us; /* packet times; 0: none */
	int	    link_type;	       /* DLT_*; -1: not opened */
	const char *link_name;
	int	    tapped_whole; /* the tap saw every byte of the file, in
				   * order (a regular file) */
	uint64_t size;		  /* its bytes, when tapped_whole */
};

/*
 * The bytes of a capture file as they are read, to hash the file without
 * reading it twice.  A file damaged part way is still read to its end
 * for the tap.
 */
struct capture_read_tap {
	void (*bytes)(void *arg, const void *p, size_t n);
	void *arg;
};

/*
 * Reads one pcap or pcapng file ("-": standard input) through libnids;
 * connections may span files given in order.  Fills info as far as it
 * read; tap (or NULL) gets a regular file's bytes.  Returns 0; or -1
 * with err set when the file cannot be opened or is damaged part way
 * (what was read before is dissected and kept); -2 when progress asked
 * to stop.
 */
int capture_file(const char *path, const struct capture_read_tap *tap,
    struct capture_file_info *, char *err, size_t errlen);
/*
 * Before each file after the first: whether it continues what was read
 * (a rotated capture: the same link type, its first packet at or after
 * the last one read and within CAPTURE_CONTINUE_S of it).  When it does
 * not, every connection still open ends there as at the end of a run
 * (capture_end, at the last packet read) and libnids starts afresh, so
 * that a capture's rows are the same read alone or among others.  Call
 * before the store is told the new file's name.  1 continues, 0 a new
 * capture, -1 with err set when libnids cannot start again (fatal).
 */
#define CAPTURE_CONTINUE_S 1800 /* live's idle timeout: IMAP IDLE */
int capture_next_file(const char *path, char *err, size_t errlen);
/*
 * The packets of one connection cut from a capture file: frames first to
 * last (numbered from 1, as tshark numbers them) that the BPF filter
 * keeps (the connection's addresses and ports), written to the file
 * descriptor fd (left open) as a pcap file of the same link type.
 * Independent of the reading above.  Returns the packets written, or -1
 * with err set.
 */
long capture_cut(const char *path, uint64_t first, uint64_t last,
    const char *filter, int fd, char *err, size_t errlen);
/* Ends every open connection as "capture ended" (partial messages are
 * kept as incomplete) and releases libnids; the sink gets the last events
 * here. */
void capture_finish(void);
/* Counts of the run so far (packets, bytes, what was skipped or lost). */
const struct capture_stats *capture_stats(void);

#endif
