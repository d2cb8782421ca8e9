/* \summary: command-line argument helpers shared by the subcommands */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cli/cli.h"
#include "store/analyse/analyse.h"
#include "dissect/tlskeys.h"

/* A number from the command line within [lo, hi]; said when it is not. */
int
cli_number_arg(const char *cmd, const char *opt, const char *arg, long lo,
    long hi, long *out)
{
	char *end;

	*out = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || *out < lo || *out > hi) {
		fprintf(stderr,
		    "mailsift %s: %s takes a number from %ld to "
		    "%ld\n",
		    cmd, opt, lo, hi);
		return -1;
	}
	return 0;
}

int
cli_store_opt(const char *cmd, int c, const char *arg, struct store_opts *so)
{
	switch (c) {
	case 'S':
		so->sensor = arg;
		return 1;
	case 'W':
		so->spool_dir = arg;
		return 1;
	case 'Z':
		return cli_number_arg(cmd, "--spool-max", arg, 1, 1L << 30,
			   &so->spool_max_mb) == 0 ?
		    1 :
		    -1;
	case '1':
		so->sha1 = 1;
		return 1;
	case 'Y':
		so->yara = arg;
		return 1;
	default:
		return 0;
	}
}

int
cli_rules_load(const char *cmd, struct store_opts *so)
{
	char	      err[512];
	struct rules *r;

	if (so->yara == NULL)
		return 0;
	if ((r = rules_load(so->yara, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailsift %s: --yara: %s\n", cmd, err);
		return -1;
	}
	so->rules = r;
	return 0;
}

void
cli_rules_free(struct store_opts *so)
{
	rules_free((struct rules *)(uintptr_t)so->rules);
	so->rules = NULL;
}

struct query *
cli_open_log(const char *where)
{
	char	      err[4400];
	struct query *q = query_open(where, err, sizeof(err));

	if (q == NULL)
		fprintf(stderr, "mailsift: %s\n", err);
	return q;
}

/* The complete lines of buf[0..n) to the keyring; the tail without its
 * newline stays in k->part for the next read. */
static void
keylog_lines(struct cli_keylog *k, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (k->plen < sizeof(k->part))
				k->part[k->plen++] = buf[i];
			continue;
		}
		if (k->plen < sizeof(k->part)) {
			int r = tls_keyring_add_line(k->keys, k->part, k->plen);

			k->taken += r > 0;
			k->bad += r < 0;
		} else
			k->bad++; /* longer than any key log line */
		OPENSSL_cleanse(k->part,
		    k->plen < sizeof(k->part) ? k->plen : sizeof(k->part));
		k->plen = 0;
	}
}

void
cli_keylog_poll(struct cli_keylog *k)
{
	char	    buf[8192];
	struct stat sb;
	ssize_t	    n;

	if (k->fd < 0 && k->waiting) { /* not there yet: the endpoint makes
					* it when it first connects */
		if ((k->fd = open(k->path, O_RDONLY | O_CLOEXEC)) < 0)
			return;
		k->waiting = 0;
	}
	if (k->fd < 0)
		return;
	/* a file cut shorter was rotated or rewritten: read it anew */
	if (fstat(k->fd, &sb) == 0 && sb.st_size < k->off) {
		k->off = 0;
		k->plen = 0;
	}
	while ((n = pread(k->fd, buf, sizeof(buf), k->off)) > 0) {
		keylog_lines(k, buf, (size_t)n);
		k->off += n;
	}
	OPENSSL_cleanse(buf, sizeof(buf)); /* secrets: not left on the stack */
}

int
cli_keylog_open(struct cli_keylog *k, struct tls_keyring *keys,
    const char *path, int must_hold)
{
	memset(k, 0, sizeof(*k));
	k->keys = keys;
	k->path = path;
	if ((k->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && !must_hold) { /* live: wait for it */
			fprintf(stderr,
			    "mailsift: %s is not there yet: read once it "
			    "appears\n",
			    path);
			k->waiting = 1;
			return 0;
		}
		fprintf(stderr, "mailsift: %s: %s\n", path, strerror(errno));
		return -1;
	}
	cli_keylog_poll(k);
	if (must_hold && k->taken == 0) {
		fprintf(stderr,
		    "mailsift: %s: no TLS secret in it (the NSS key "
		    "log format: CLIENT_RANDOM, *_TRAFFIC_SECRET*)%s\n",
		    path, k->bad ? "; some lines are not key log lines" : "");
		cli_keylog_close(k);
		return -1;
	}
	return 0;
}

void
cli_keylog_close(struct cli_keylog *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	OPENSSL_cleanse(k->part, sizeof(k->part));
}

int
cli_load_keylog(struct tls_keyring *keys, const char *path)
{
	struct cli_keylog k;

	if (cli_keylog_open(&k, keys, path, 1) != 0)
		return -1;
	cli_keylog_close(&k);
	return 0;
}

int
cli_load_tls_key(struct tls_keyring *keys, const char *path)
{
	/* read whole into a buffer of ours, wiped after: stdio's would keep
	 * the key in memory that is freed without being cleared */
	const size_t cap = 1 << 16;
	char	    *pem = malloc(cap);
	int	     fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t	     n = fd < 0 || pem == NULL ? -1 : read(fd, pem, cap);
	EVP_PKEY    *k = NULL;
	BIO	    *b;

	if (fd >= 0)
		close(fd);
	if (n < 0) {
		fprintf(stderr, "mailsift: %s: %s\n", path,
		    strerror(pem == NULL ? ENOMEM : errno));
		free(pem);
		return -1;
	}
	if ((b = BIO_new_mem_buf(pem, (int)n)) != NULL) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	OPENSSL_cleanse(pem, cap);
	free(pem);
	if (k == NULL || tls_keyring_add_rsa(keys, k) != 0) {
		fprintf(stderr,
		    "mailsift: %s: not an RSA private key in PEM "
		    "(or more than 8 keys)\n",
		    path);
		EVP_PKEY_free(k);
		return -1;
	}
	return 0;
}

void
cli_no_dump(void)
{
	/* no core file, no ptrace or /proc/PID/mem by other processes of the
	 * user: the process holds passwords, keys and mail */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
cli_drop_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	d[2];

	if (geteuid() == 0) /* --run-as-root: root's choice */
		return 0;
	memset(d, 0, sizeof(d));
	/* none left: effective, permitted, inheritable, ambient; and no
	 * way to gain any through an exec */
	if (syscall(SYS_capset, &h, d) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s",
		    strerror(errno));
		return -1;
	}
	cli_no_dump(); /* the change of user or capabilities reset it */
	return 0;
}
