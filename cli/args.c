/* \summary: command-line argument helpers shared by the subcommands */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
