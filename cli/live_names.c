/* \summary: mailsift live: the names of rotated files, the current link */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/live.h"

/* Where NAME's extension begins (strlen when it has none). */
size_t
live_stem_len(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(name, '.');

	return dot != NULL && (slash == NULL || dot > slash + 1) ?
	    (size_t)(dot - name) :
	    strlen(name);
}

void
live_stamp(time_t t, char out[LIVE_STAMP_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, LIVE_STAMP_LEN, "%Y%m%dT%H%M%S", &tm);
}

void
live_stamped(const char *name, const char *no_ext, time_t t, char *out,
    size_t len)
{
	size_t stem = live_stem_len(name);
	char   stamp[LIVE_STAMP_LEN];

	live_stamp(t, stamp);
	snprintf(out, len, "%.*s-%s%s", (int)stem, name, stamp,
	    stem < strlen(name) ? name + stem : no_ext);
}

void
live_stamped_worker(const char *name, const char *tail, char *out, size_t len)
{
	snprintf(out, len, "%.*s%s", (int)live_stem_len(name), name, tail);
}

time_t
live_next_boundary(time_t now, uint64_t every)
{
	struct tm lt;
	long long off, n;

	localtime_r(&now, &lt);
	off = lt.tm_gmtoff;
	n = ((long long)now + off) / (long long)every + 1;
	return (time_t)(n * (long long)every - off);
}

int
live_point_current(const char *link, const char *target, char *err,
    size_t errlen)
{
	struct stat sb;
	const char *base = strrchr(target, '/');
	char	    tmp[4200];

	if (lstat(link, &sb) == 0 && !S_ISLNK(sb.st_mode))
		return 1;
	/* relative: the folder can be moved or mounted elsewhere whole */
	base = base != NULL ? base + 1 : target;
	snprintf(tmp, sizeof(tmp), "%s.new-%ld", link, (long)getpid());
	unlink(tmp);
	if (symlink(base, tmp) != 0 || rename(tmp, link) != 0) {
		snprintf(err, errlen, "%s: %s", link, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* "-YYYYmmddTHHMMSS" at p: its time (UTC), else -1. */
time_t
live_parse_stamp(const char *p)
{
	struct tm tm = { 0 };

	if (p[0] != '-' || strspn(p + 1, "0123456789") != 8 || p[9] != 'T' ||
	    strspn(p + 10, "0123456789") != 6)
		return -1;
	if (sscanf(p + 1, "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}
