/* \summary: the command line a log records, its secrets blanked */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/*
 * Copies arg to out with the passwords it may carry blanked: a URI's
 * "user:password@" and a "password=" keyword (libpq's conninfo, a URI's
 * query); the log records the command line, not the secret.  out has
 * room for 2 * strlen(arg) + 4 bytes.
 */
static size_t
blank_secrets(char *out, const char *arg)
{
	const char *scheme = strstr(arg, "://"), *at, *p = arg;
	size_t	    n = 0;

	if (scheme != NULL && (at = strchr(scheme + 3, '@')) != NULL) {
		const char *colon =
		    memchr(scheme + 3, ':', (size_t)(at - scheme - 3));

		if (colon != NULL &&
		    strcspn(scheme + 3, "/?") > (size_t)(at - scheme - 3)) {
			memcpy(out, arg, (size_t)(colon + 1 - arg));
			n = (size_t)(colon + 1 - arg);
			n += (size_t)sprintf(out + n, "***");
			p = at;
		}
	}
	while (*p != '\0') {
		if (strncasecmp(p, "password=", 9) == 0) {
			memcpy(out + n, p, 9);
			n += 9;
			n += (size_t)sprintf(out + n, "***");
			p += 9 + strcspn(p + 9, " &");
			continue;
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
	return n;
}

char *
cli_join_args(int argc, char **argv)
{
	size_t len = 1, n = 0;
	char  *s;

	for (int i = 0; i < argc; i++)
		len += 2 * strlen(argv[i]) + 5;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			s[n++] = ' ';
		n += blank_secrets(s + n, argv[i]);
	}
	return s;
}
