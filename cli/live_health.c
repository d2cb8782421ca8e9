/* \summary: mailsift live: its health for monitoring (metrics, link) */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/live.h"

/*
 * Written to NAME.tmp-PID and renamed over NAME: a scraper never reads
 * half a file.  The metric names follow Prometheus' conventions
 * (mailsift_*_total for counters, base units).
 */
int
live_write_metrics(const char *path, const struct live_metric *m, size_t n,
    char *err, size_t errlen)
{
	char  tmp[4200];
	int   fd;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	/* counts only, nothing private: readable by a collector that runs
	 * as another user, whatever the umask */
	if (fd >= 0)
		fchmod(fd, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		/* HELP and TYPE once per name: labelled series follow */
		if (i == 0 || strcmp(m[i].name, m[i - 1].name) != 0)
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m[i].name,
			    m[i].help, m[i].name, m[i].type);
		fprintf(f, "%s%s %.17g\n", m[i].name,
		    m[i].labels ? m[i].labels : "", m[i].value);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
live_link_open(void)
{
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int
live_link_state(int fd, const char *iface)
{
	struct ifreq ifr;
	int	     state = -1;

	if (fd < 0 || strcmp(iface, "any") == 0 ||
	    strlen(iface) >= sizeof(ifr.ifr_name))
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, iface, strlen(iface));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		state =
		    (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	return state;
}
