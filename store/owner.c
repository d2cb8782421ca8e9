/* \summary: which process writes a log, and whether it still runs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

#include "store/owner.h"

static void
boot_id(char *out, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f == NULL || fgets(out, (int)len, f) == NULL)
		snprintf(out, len, "-");
	out[strcspn(out, "\n/")] = '\0';
	if (f != NULL)
		fclose(f);
}

/* Field 22 of /proc/PID/stat; 0 when the process is not there.  The
 * command name (field 2) may hold spaces and parentheses: count from
 * its last ')'. */
static unsigned long long
start_ticks(long pid)
{
	char		   path[64], buf[1024], *p;
	unsigned long long t = 0;
	FILE		  *f;
	size_t		   n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* after ')': state is field 3; starttime is field 22 */
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

void
owner_self(char *out, size_t len)
{
	char host[256], boot[64];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "-");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, "/")] = '\0';
	boot_id(boot, sizeof(boot));
	snprintf(out, len, "%s/%s/%ld/%llu", host, boot, (long)getpid(),
	    start_ticks((long)getpid()));
}

int
owner_alive(const char *owner)
{
	char		   self[512], host[256], boot[64];
	long		   pid;
	unsigned long long start;

	if (owner == NULL ||
	    sscanf(owner, "%255[^/]/%63[^/]/%ld/%llu", host, boot, &pid,
		&start) != 4)
		return 1;
	owner_self(self, sizeof(self));
	if (strcmp(self, owner) == 0)
		return 1; /* this very process */
	if (strncmp(self, host, strlen(host)) != 0 || self[strlen(host)] != '/')
		return 1; /* another machine's */
	if (strncmp(self + strlen(host) + 1, boot, strlen(boot)) != 0)
		return 0; /* written before the last reboot */
	return start_ticks(pid) == start;
}

void
owner_clock(char *out, size_t len)
{
	time_t	  t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
