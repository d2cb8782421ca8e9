/* \summary: command-line argument helpers shared by the subcommands */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tlskeys.h"

/* A number from the command line within [lo, hi]; said when it is not. */
int
cli_number_arg(const char *cmd, const char *opt, const char *arg, long lo,
    long hi, long *out)
{
	char *end;

	*out = strtol(arg, &end, 10);
	if (*end != '\0' || *out < lo || *out > hi) {
		fprintf(stderr,
		    "mailsift %s: %s takes a number from %ld to "
		    "%ld\n",
		    cmd, opt, lo, hi);
		return -1;
	}
	return 0;
}

char *
cli_join_args(int argc, char **argv)
{
	size_t len = 1, n = 0;
	char  *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(s + n, len - n, "%s%s", i ? " " : "",
		    argv[i]);
	return s;
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

int
cli_load_keylog(struct tls_keyring *keys, const char *path)
{
	FILE  *f = fopen(path, "r");
	char   line[1024];
	size_t taken = 0, bad = 0;

	if (f == NULL) {
		fprintf(stderr, "mailsift: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\n");
		int    r = tls_keyring_add_line(keys, line, n);

		taken += r > 0;
		bad += r < 0;
	}
	fclose(f);
	if (taken == 0) {
		fprintf(stderr,
		    "mailsift: %s: no TLS secret in it (the NSS key "
		    "log format: CLIENT_RANDOM, *_TRAFFIC_SECRET*)%s\n",
		    path, bad ? "; some lines are not key log lines" : "");
		return -1;
	}
	return 0;
}
