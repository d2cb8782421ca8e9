/* \summary: the command line a log records, its secrets blanked */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"

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

/* n digits of s as a number into *v: the characters used, 0 if not. */
static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return n;
}

int
cli_parse_time(const char *s, time_t now, time_t *out)
{
	static const struct {
		char unit;
		long secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 } };
	struct tm tm = { 0 };
	int	  y, mo, d, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, k;
	long	  n;
	char	 *end;

	if (strcasecmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (strcasecmp(s, "today") == 0 || strcasecmp(s, "yesterday") == 0) {
		*out = now - now % 86400 - (s[0] == 'y' || s[0] == 'Y') * 86400;
		return 0;
	}
	n = strtol(s, &end, 10);
	if (end != s && *s != '-' && *s != '+' && end[0] != '\0' &&
	    end[1] == '\0' && (end - s) < 10)
		for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (end[0] == units[i].unit) { /* that long ago */
				*out = now - (time_t)(n * units[i].secs);
				return 0;
			}
	/* ISO 8601: a date, then a time after T or a space, then a zone */
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d))
		return -1;
	k = 10;
	if (s[k] == 'T' || s[k] == 't' || s[k] == ' ') {
		if (!digits(s + k + 1, 2, &h) || s[k + 3] != ':' ||
		    !digits(s + k + 4, 2, &mi))
			return -1;
		k += 6;
		if (s[k] == ':') {
			if (!digits(s + k + 1, 2, &sec))
				return -1;
			k += 3;
			if (s[k] == '.' || s[k] == ',') /* a fraction: cut */
				for (k++; s[k] >= '0' && s[k] <= '9'; k++)
					;
		}
		if (s[k] == 'Z' || s[k] == 'z') {
			k++;
		} else if (s[k] == '+' || s[k] == '-') {
			int sign = s[k] == '-' ? -1 : 1;

			if (!digits(s + k + 1, 2, &zh))
				return -1;
			k += 3;
			if (s[k] == ':')
				k++;
			if (digits(s + k, 2, &zm))
				k += 2;
			zh *= sign, zm *= sign;
		}
	}
	if (s[k] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - (time_t)(zh * 3600 + zm * 60);
	return 0;
}
