/* \summary: reading capture files and interfaces into the capture layer */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <nids.h>
#include <pcap.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_priv.h"
#include "capture/decap.h"
#include "capture/wire.h"

#define LIVE_BATCH 4096 /* packets handled per pcap_dispatch */

/*
 * Where each packet's record begins in its file.  ftell costs a system
 * call per packet, so in a classic pcap file the offset is counted (a
 * 24-byte file header, then per packet a 16-byte record header and the
 * bytes captured) and checked against ftell on the first packets and
 * every 4096th; pcapng, whose other blocks come between packets, and any
 * mismatch (a variant record header) go back to ftell for each packet.
 */
struct offsets {
	FILE   *f;
	int	counting;
	int64_t next; /* the next record, when counting */
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

#define READ_BUF (1u << 20) /* capture files are read a MiB at a time */

/*
 * A regular capture file under stdio whose reads also go to a tap, so
 * the file is hashed from the bytes libpcap reads.  Seeks are followed;
 * one that moves (libpcap reads straight through) means the tap no
 * longer saw the file in order.
 */
struct tapped {
	int			       fd;
	const struct capture_read_tap *tap;
	uint64_t		       pos; /* bytes read and tapped */
	int			       moved;
};

static ssize_t
tapped_read(void *cookie, char *buf, size_t n)
{
	struct tapped *t = cookie;
	ssize_t	       r;

	do
		r = read(t->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		t->tap->bytes(t->tap->arg, buf, (size_t)r);
		t->pos += (uint64_t)r;
	}
	return r;
}

static int
tapped_seek(void *cookie, off64_t *off, int whence)
{
	struct tapped *t = cookie;
	off_t	       r;

	if (whence == SEEK_CUR && *off == 0) { /* ftell: no system call */
		*off = (off64_t)t->pos;
		return 0;
	}
	if ((r = lseek(t->fd, (off_t)*off, whence)) < 0)
		return -1;
	if ((uint64_t)r != t->pos)
		t->moved = 1;
	*off = r;
	return 0;
}

static int
tapped_close(void *cookie)
{
	struct tapped *t = cookie;
	int	       r = close(t->fd);

	free(t);
	return r;
}

/* Whatever libpcap left unread (a damaged file), for the tap; 1 when the
 * tap has now seen the whole file. */
static int
tapped_drain(struct tapped *t)
{
	char	buf[1 << 16];
	ssize_t r;

	if (t->moved)
		return 0;
	while ((r = tapped_read(t, buf, sizeof(buf))) > 0)
		;
	return r == 0;
}

/* fd as a stdio stream whose reads go to tap too; NULL when the file is
 * not a regular one (fd is left open then). */
static FILE *
tapped_open(int fd, const struct capture_read_tap *tap, struct tapped **tp)
{
	static const cookie_io_functions_t io = { .read = tapped_read,
		.seek = tapped_seek,
		.close = tapped_close };
	struct stat			   sb;
	struct tapped			  *t;
	FILE				  *f;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = fd;
	t->tap = tap;
	if ((f = fopencookie(t, "rb", io)) == NULL) {
		free(t);
		return NULL;
	}
	*tp = t;
	return f;
}

/*
 * A capture file for libpcap, read through a large stdio buffer (its own
 * is a page: a syscall every 4 KiB); *bufp is that buffer, to free after
 * pcap_close.  "-" is standard input.  A regular file goes through tap
 * when there is one (*tp: its state, until pcap_close).
 */
static pcap_t *
open_file(const char *path, const struct capture_read_tap *tap,
    struct tapped **tp, char **bufp, char *ebuf)
{
	FILE   *f = NULL;
	pcap_t *pc;
	int	fd;

	*bufp = NULL;
	*tp = NULL;
	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    (tap == NULL || (f = tapped_open(fd, tap, tp)) == NULL) &&
	    (f = fdopen(fd, "rb")) == NULL)
		close(fd);
	if (f == NULL) {
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	if ((*bufp = malloc(READ_BUF)) != NULL)
		setvbuf(f, *bufp, _IOFBF, READ_BUF);
	if ((pc = pcap_fopen_offline(f, ebuf)) == NULL && f != stdin) {
		if (*tp != NULL) /* not a capture: no record of it, no hash */
			(*tp)->moved = 1;
		fclose(f);
		*tp = NULL;
	}
	return pc;
}

/* Whether the tap saw the whole file, read to its end for it if need be
 * (stdio's buffer holds nothing more: the next read would go to the
 * file, and libpcap reads no more once it stopped). */
static void
file_tapped(struct capture_file_info *info, struct tapped *tp)
{
	if (tp == NULL)
		return;
	info->tapped_whole = tapped_drain(tp);
	info->size = tp->pos;
}

/*
 * Reads one capture file (pcap or pcapng; "-" is standard input) through
 * libnids.  Returns 0, or -1 with err set when the file could not be
 * opened or is damaged; everything read before the damage is processed.
 */
int
capture_file(const char *path, const struct capture_read_tap *tap,
    struct capture_file_info *info, char *err, size_t errlen)
{
	char		    ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char	   *data;
	pcap_t		   *pc;
	int		    dlt, r, rc = 0;
	uint64_t	    nread = 0;
	struct offsets	    off;
	char		   *rbuf = NULL;
	struct tapped	   *tp;

	memset(info, 0, sizeof(*info));
	info->link_type = -1;
	if ((pc = open_file(path, tap, &tp, &rbuf, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		cap.stats.files_damaged++;
		free(rbuf);
		return -1;
	}
	dlt = pcap_datalink(pc);
	info->link_type = dlt;
	info->link_name = pcap_datalink_val_to_name(dlt);
	if (!decap_link_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", path,
		    dlt, name ? name : "unknown");
		file_tapped(info, tp);
		pcap_close(pc);
		free(rbuf);
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
		info->last_us =
		    (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		if (nread == 1)
			info->first_us = info->last_us;
		cap_feed_frame(dlt, h, data);
		if (cap.opts.progress != NULL && (nread & 1023) == 0 &&
		    cap.opts.progress(cap.opts.progress_arg,
			pos >= 0 ? (uint64_t)pos : 0) != 0) {
			snprintf(err, errlen, "%s: stopped after packet %llu",
			    path, (unsigned long long)nread);
			file_tapped(info, tp);
			pcap_close(pc);
			free(rbuf);
			return -2;
		}
	}
	if (r == PCAP_ERROR) {
		snprintf(err, errlen, "%s: damaged after packet %llu: %s", path,
		    (unsigned long long)nread, pcap_geterr(pc));
		cap.stats.files_damaged++;
		rc = -1;
	}
	file_tapped(info, tp);
	pcap_close(pc);
	free(rbuf);
	if (nread > 0) { /* for the next file: does it continue this one? */
		cap.files++;
		cap.last_dlt = dlt;
		cap.last_us = info->last_us;
	}
	return rc;
}

/* A capture file's link type and first packet's time: 0, or -1. */
static int
peek_first(const char *path, int *dlt, uint64_t *first_us)
{
	char		    ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char	   *data;
	pcap_t		   *pc = pcap_open_offline(path, ebuf);
	int		    ok;

	if (pc == NULL)
		return -1;
	*dlt = pcap_datalink(pc);
	ok = pcap_next_ex(pc, &h, &data) == 1;
	if (ok)
		*first_us =
		    (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	pcap_close(pc);
	return ok ? 0 : -1;
}

int
capture_next_file(const char *path, char *err, size_t errlen)
{
	struct capture_opts o = cap.opts;
	uint64_t	    first_us = 0;
	int		    dlt = -1;

	if (cap.files == 0 || !cap.inited)
		return 1;
	if (strcmp(path, "-") != 0 && peek_first(path, &dlt, &first_us) == 0 &&
	    dlt == cap.last_dlt && first_us >= cap.last_us &&
	    first_us - cap.last_us <= (uint64_t)CAPTURE_CONTINUE_S * 1000000u)
		return 1;
	/* another capture: what is open ends here, and nothing of this one
	 * (its SYNs, its recently closed ports) reaches the next */
	capture_finish();
	memset(&cap.seen, 0, sizeof(cap.seen));
	memset(&cap.syns, 0, sizeof(cap.syns));
	cap.files = 0;
	return capture_init(&o, err, errlen) == 0 ? 0 : -1;
}

long
capture_cut(const char *path, uint64_t first, uint64_t last, const char *filter,
    int fd, char *err, size_t errlen)
{
	FILE		   *out;
	char		    ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program  prog;
	struct pcap_pkthdr *h;
	const u_char	   *data;
	pcap_dumper_t	   *d;
	pcap_t		   *pc;
	uint64_t	    frame = 0;
	long		    n = 0;
	int		    r;

	if ((pc = pcap_open_offline(path, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return -1;
	}
	if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: %s", filter, pcap_geterr(pc));
		pcap_close(pc);
		return -1;
	}
	if ((out = fdopen(dup(fd), "wb")) == NULL ||
	    (d = pcap_dump_fopen(pc, out)) == NULL) {
		snprintf(err, errlen, "%s",
		    out == NULL ? strerror(errno) : pcap_geterr(pc));
		if (out != NULL)
			fclose(out);
		pcap_freecode(&prog);
		pcap_close(pc);
		return -1;
	}
	while (frame < last && (r = pcap_next_ex(pc, &h, &data)) == 1)
		if (++frame >= first && pcap_offline_filter(&prog, h, data)) {
			pcap_dump((u_char *)d, h, data);
			n++;
		}
	pcap_dump_close(d); /* and its stream, a copy of fd */
	pcap_freecode(&prog);
	pcap_close(pc);
	return n;
}

/* ------------------------------------------------------------- live */

static void
on_live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	(void)user;
	cap.frame++;
	cap.offset = cap.dump != NULL ? dumpfile_write(cap.dump, h, p) : -1;
	cap.stats.packets++;
	cap.stats.bytes += h->caplen;
	cap_feed_frame(cap.live_dlt, h, p);
}

/*
 * live --workers: the kernel hands each packet to the worker of the
 * group that this classic BPF program names (its answer modulo the
 * workers), after putting IP fragments back together.  The answer is a
 * hash of the connection's two endpoints that is the same both ways, so
 * that both directions reach one worker; IMAP's connections (143, 993)
 * go by their addresses alone, as read --jobs sends them (flow.c,
 * ours()): a client fetches one message in pieces over several
 * connections to its server, joined only where all of them are seen.
 * The kernel's own flow hash (PACKET_FANOUT_HASH) split them.  IPv6 as
 * IPv4 (the four words of each address), anything else by address, a
 * packet that is not IP to the first worker.  Loads relative to the
 * network header (SKF_NET_OFF) hold on every link type.
 */
#define NET(k)	     (SKF_NET_OFF + (k))
#define LD(sz, k)    BPF_STMT(BPF_LD | (sz) | BPF_ABS, (k))
#define TAX	     BPF_STMT(BPF_MISC | BPF_TAX, 0)
#define XOR_X	     BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0)
#define ST(m)	     BPF_STMT(BPF_ST, (m))
#define LDM(m)	     BPF_STMT(BPF_LD | BPF_MEM, (m))
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), (t), (f))
#define FANOUT_MIX   54 /* the instruction the jumps to the end count to */
#define FANOUT_LEN   59

static const struct sock_filter fanout_by_connection[] = {
	/* 0 */ LD(BPF_W, SKF_AD_OFF + SKF_AD_PROTOCOL),
	JEQ(ETH_P_IP, 0, 12),
	/* 2: IPv4: M0 = source ^ destination */
	LD(BPF_W, NET(12)),
	TAX,
	LD(BPF_W, NET(16)),
	XOR_X,
	ST(0),
	/* 7 */ LD(BPF_B, NET(9)),
	JEQ(IPPROTO_TCP, 0, FANOUT_MIX - 9),
	/* 9: M1 = source port, A = destination port */
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, NET(0)),
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, NET(0)),
	ST(1),
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, NET(2)),
	/* 13 */ BPF_STMT(BPF_JMP | BPF_JA, 43 - 14),
	/* 14: IPv6 */
	JEQ(ETH_P_IPV6, 0, 58 - 15),
	LD(BPF_W, NET(8)),
	TAX,
	LD(BPF_W, NET(24)),
	XOR_X,
	TAX,
	LD(BPF_W, NET(12)),
	XOR_X,
	TAX,
	LD(BPF_W, NET(28)),
	XOR_X,
	TAX,
	LD(BPF_W, NET(16)),
	XOR_X,
	TAX,
	LD(BPF_W, NET(32)),
	XOR_X,
	TAX,
	LD(BPF_W, NET(20)),
	XOR_X,
	TAX,
	LD(BPF_W, NET(36)),
	XOR_X,
	/* 37 */ ST(0),
	LD(BPF_B, NET(6)),
	/* 39 */ JEQ(IPPROTO_TCP, 0, FANOUT_MIX - 40),
	/* 40: without extension headers, TCP's ports at 40 */
	LD(BPF_H, NET(40)),
	ST(1),
	LD(BPF_H, NET(42)),
	/* 43: IMAP either way: the addresses alone */
	JEQ(143, FANOUT_MIX - 44, 0),
	JEQ(993, FANOUT_MIX - 45, 0),
	TAX,
	/* 46 */ LDM(1),
	JEQ(143, FANOUT_MIX - 48, 0),
	JEQ(993, FANOUT_MIX - 49, 0),
	/* 49: M0 ^= source port + destination port */
	BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
	TAX,
	LDM(0),
	XOR_X,
	ST(0),
	/* 54 (FANOUT_MIX): the bits mixed, the high half answered */
	LDM(0),
	BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1),
	BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
	BPF_STMT(BPF_RET | BPF_A, 0),
	/* 58: not IP */
	BPF_STMT(BPF_RET | BPF_K, 0),
};
_Static_assert(sizeof(fanout_by_connection) / sizeof(*fanout_by_connection) ==
	FANOUT_LEN,
    "the jumps count the instructions: renumber them");

static int
join_fanout(pcap_t *pc, unsigned group, char *err, size_t errlen)
{
	unsigned	  type = PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_DEFRAG;
	int		  arg = (int)((group & 0xffff) | type << 16);
	struct sock_fprog prog = {
		.len = sizeof(fanout_by_connection) /
		    sizeof(*fanout_by_connection),
		.filter = (struct sock_filter *)(uintptr_t)fanout_by_connection,
	};

	if (setsockopt(pcap_fileno(pc), SOL_PACKET, PACKET_FANOUT, &arg,
		sizeof(arg)) != 0) {
		snprintf(err, errlen, "PACKET_FANOUT: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(pcap_fileno(pc), SOL_PACKET, PACKET_FANOUT_DATA, &prog,
		sizeof(prog)) != 0) {
		snprintf(err, errlen, "PACKET_FANOUT_DATA: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
capture_live_open(struct capture_live *o, char *err, size_t errlen)
{
	char		   ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t		  *pc;

	if ((pc = pcap_create(o->iface, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return -1;
	}
	pcap_set_snaplen(pc, SNAP_MAX);
	pcap_set_promisc(pc, o->promisc);
	/* libpcap takes an int: -B 2048 and more is 2 GiB less one byte */
	pcap_set_buffer_size(pc,
	    o->buffer_mb >= 2048 ? INT_MAX : o->buffer_mb * 1024 * 1024);
	pcap_set_immediate_mode(pc, 0);
	pcap_set_timeout(pc, 200); /* the loop's heartbeat when idle */
	if (pcap_activate(pc) < 0) {
		snprintf(err, errlen, "%s: %s", o->iface, pcap_geterr(pc));
		goto fail;
	}
	if (o->fanout_group != 0 &&
	    join_fanout(pc, o->fanout_group, err, errlen) != 0)
		goto fail;
	cap.live_dlt = pcap_datalink(pc);
	if (!decap_link_supported(cap.live_dlt)) {
		const char *name = pcap_datalink_val_to_name(cap.live_dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)",
		    o->iface, cap.live_dlt, name ? name : "unknown");
		goto fail;
	}
	if (pcap_compile(pc, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0 &&
	    (o->filter_novlan == NULL ||
		pcap_compile(pc, &prog, o->filter_novlan, 1,
		    PCAP_NETMASK_UNKNOWN) != 0)) {
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
	/* the -w file, opened as root before privileges go */
	if (o->write_path != NULL &&
	    (cap.dump = dumpfile_open(pc, o->write_path, err, errlen)) == NULL)
		goto fail;
	if (cap.dump != NULL)
		snprintf(o->written, sizeof(o->written), "%s",
		    dumpfile_path(cap.dump));
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
	int	      n;

	if (poll(&pfd, 1, 200) < 0) {
		if (errno == EINTR) /* a signal: the caller reads its flags */
			return 0;
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -1;
	}
	/* a bounded batch: under a flood, TPACKET_V3 blocks keep coming
	 * and an unbounded dispatch kept status, commits and rotation
	 * waiting for minutes */
	n = pcap_dispatch(cap.live, LIVE_BATCH, on_live_packet, NULL);
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
		dumpfile_flush(cap.dump);
}

int
capture_live_write_next(const char *path, struct capture_written *done,
    char *taken, size_t takenlen, char *err, size_t errlen)
{
	struct dumpfile *next;

	if (cap.dump == NULL || cap.live == NULL) {
		snprintf(err, errlen, "no -w file is written");
		return -1;
	}
	if ((next = dumpfile_open(cap.live, path, err, errlen)) == NULL)
		return -1;
	dumpfile_close(cap.dump, done);
	cap.dump = next;
	snprintf(taken, takenlen, "%s", dumpfile_path(next));
	/* frames count from 1 in each file; a SYN noted in the last one is
	 * not this one's frame */
	cap.frame = 0;
	memset(cap.syns.key, 0, sizeof(cap.syns.key));
	return 0;
}

int
capture_live_write_error(void)
{
	return cap.dump != NULL ? dumpfile_failed(cap.dump) : 0;
}

void
capture_live_close(struct capture_written *last)
{
	if (last != NULL)
		last->path[0] = '\0';
	if (cap.dump != NULL)
		dumpfile_close(cap.dump, last);
	if (cap.live != NULL)
		pcap_close(cap.live);
	cap.dump = NULL;
	cap.live = NULL;
}
