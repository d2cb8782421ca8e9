/* \summary: live -w: the packets written as read, hashed as written, rotated */
/*
 * The file is written through a stdio cookie so that every byte libpcap
 * writes also goes into a SHA-256: a rotated -w file is on record in its
 * log with its digest without being read again (a gigabyte read back at
 * each rotation would stall the capture loop for seconds).
 *
 * Files are created exclusively and never through a link: a name already
 * there (an earlier run's packets, which its logs' frames point into) is
 * kept, and NAME-2.EXT, NAME-3.EXT, ... taken instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/capture_priv.h"

struct dumpfile {
	pcap_dumper_t *d;
	EVP_MD_CTX    *md;
	int	       fd;
	int	       failed;	/* a write failed: the file is cut there */
	uint64_t       written; /* bytes in the file */
	uint64_t       next_at; /* where the next record begins */
	uint64_t       packets;
	uint64_t       first_us, last_us;
	char	       path[4096];
};

static ssize_t
cookie_write(void *arg, const char *buf, size_t n)
{
	struct dumpfile *df = arg;
	size_t		 done = 0;

	/* after a failed write (a full disk) the file ends there: bytes
	 * written later would follow a torn record and make the rest of
	 * the file unreadable */
	if (df->failed)
		return -1;
	while (done < n) {
		ssize_t w = write(df->fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			df->failed = w < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)w;
	}
	EVP_DigestUpdate(df->md, buf, done);
	df->written += done;
	return done == n ? (ssize_t)n : -1;
}

static int
cookie_close(void *arg)
{
	struct dumpfile *df = arg;

	return close(df->fd);
}

/* Creates the file at path (or NAME-N.EXT past one there): its fd. */
static int
create_exclusive(const char *path, char *taken, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash != NULL ? slash + 1 : path, '.');
	int	    stem = dot != NULL && dot != (slash ? slash + 1 : path) ?
		    (int)(dot - path) :
		    (int)strlen(path);
	int	    fd = -1;

	for (int n = 1; n < 1000 && fd < 0; n++) {
		if (n == 1)
			snprintf(taken, len, "%s", path);
		else
			snprintf(taken, len, "%.*s-%d%s", stem, path, n,
			    path + stem);
		fd = open(taken,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}

struct dumpfile *
dumpfile_open(pcap_t *pc, const char *path, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .write = cookie_write,
		.close = cookie_close };
	struct dumpfile			  *df = calloc(1, sizeof(*df));
	FILE				  *f;

	if (df == NULL || (df->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(df->md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((df->fd = create_exclusive(path, df->path, sizeof(df->path))) < 0) {
		snprintf(err, errlen, "%s: %s", df->path, strerror(errno));
		goto fail;
	}
	if ((f = fopencookie(df, "w", io)) == NULL) {
		snprintf(err, errlen, "%s: %s", df->path, strerror(errno));
		close(df->fd);
		goto fail;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	df->next_at = 24; /* the file header */
	if ((df->d = pcap_dump_fopen(pc, f)) == NULL) {
		snprintf(err, errlen, "%s: %s", df->path, pcap_geterr(pc));
		fclose(f);
		goto fail;
	}
	return df;
fail:
	if (df != NULL)
		EVP_MD_CTX_free(df->md);
	free(df);
	return NULL;
}

const char *
dumpfile_path(const struct dumpfile *df)
{
	return df->path;
}

int
dumpfile_failed(const struct dumpfile *df)
{
	return df->failed;
}

/* Where the next record begins: the file header (24 bytes, written at
 * once by pcap_dump_fopen), then each record's 16 and its bytes. */
int64_t
dumpfile_write(struct dumpfile *df, const struct pcap_pkthdr *h,
    const u_char *p)
{
	int64_t	 at = (int64_t)df->next_at;
	uint64_t us =
	    (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

	pcap_dump((u_char *)df->d, h, p);
	df->next_at += 16 + h->caplen;
	if (df->packets++ == 0)
		df->first_us = us;
	df->last_us = us;
	return at;
}

void
dumpfile_flush(struct dumpfile *df)
{
	pcap_dump_flush(df->d);
}

void
dumpfile_close(struct dumpfile *df, struct capture_written *out)
{
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned      n = 0;

	pcap_dump_close(df->d); /* flushes through the cookie, closes fd */
	EVP_DigestFinal_ex(df->md, dg, &n);
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		snprintf(out->path, sizeof(out->path), "%s", df->path);
		for (unsigned i = 0; i < n && i < 32; i++)
			snprintf(out->sha256 + 2 * i, 3, "%02x", dg[i]);
		out->size = df->written;
		out->packets = df->packets;
		out->first_us = df->first_us;
		out->last_us = df->last_us;
		out->damaged = df->failed != 0;
	}
	EVP_MD_CTX_free(df->md);
	free(df);
}
