/* \summary: who may talk to mailsift serve, and for how long */
/*
 * The log holds credentials and private mail, so the web view answers
 * only a client that
 *
 *  - names the server by an address, "localhost" or a name the operator
 *    allowed: a page whose DNS name rebinds to 127.0.0.1 sends its own
 *    name as Host and is refused (DNS rebinding needs a name; an address
 *    in Host cannot be rebound);
 *  - holds the token: random by default, given in a file, the
 *    environment or (visible in ps) the command line; once in ?token=,
 *    then in a cookie (HttpOnly, SameSite=Strict) so that the page's
 *    own requests carry it and the address bar does not;
 *  - sends a whole request within a deadline: a client that trickles a
 *    header line every few seconds (slowloris) is cut off, so that
 *    half-sent requests cannot hold every connection slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cli/serve_guard.h"

/* ----------------------------------------------------------- Host */

int
guard_host_ok(const struct guard *g, const char *host)
{
	char	       name[256];
	const char    *colon;
	size_t	       n;
	struct in_addr a4;

	if (host == NULL) /* HTTP/1.0 without Host: no browser sends that */
		return 1;
	if (host[0] == '[') /* an IPv6 address, with or without a port */
		return strchr(host, ']') != NULL;
	colon = strrchr(host, ':');
	n = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if (n == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	if (inet_pton(AF_INET, name, &a4) == 1 ||
	    strcasecmp(name, "localhost") == 0)
		return 1;
	for (int i = 0; i < g->nallow; i++)
		if (strcasecmp(name, g->allow[i]) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- token */

int
guard_token_random(char *out, size_t cap)
{
	unsigned char r[16];

	if (cap < 2 * sizeof(r) + 1 ||
	    getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

int
guard_token_file(const char *path, char *out, size_t cap, int *made, char *err,
    size_t errlen)
{
	int	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	*made = 0;
	if (fd < 0 && errno == ENOENT) { /* a new one, kept for next time */
		if (guard_token_random(out, cap) != 0) {
			snprintf(err, errlen, "no random bytes");
			return -1;
		}
		fd = open(path,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, out, strlen(out)) < 0 ||
		    write(fd, "\n", 1) != 1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		*made = 1;
		return close(fd);
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, out, cap - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

int
guard_token_ok(const char *token, const char *given)
{
	size_t	 n = strlen(token), m;
	unsigned diff = 0;

	if (given == NULL)
		return 0;
	m = strlen(given);
	/* time that does not depend on where they differ */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(token[i] ^ (i < m ? given[i] : 0));
	return diff == 0 && m == n;
}

/* ------------------------------------------------------ deadlines */

struct slot {
	int	used, answering, cut;
	int	fd;
	int64_t start_ms;
};

struct deadlines {
	pthread_mutex_t lock;
	pthread_cond_t	wake;
	pthread_t	thread;
	int		stop, nslots;
	unsigned	ms;
	struct slot    *slots;
};

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Every quarter of a second: a connection whose request has not arrived
 * whole within the deadline is shut down; libmicrohttpd then reads the
 * end of it and closes it.  The slot is freed (under the lock) before
 * libmicrohttpd closes the descriptor, so no other connection's number
 * is ever shut.
 */
static void *
watch(void *arg)
{
	struct deadlines *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct timespec t;
		int64_t		now = now_ms();

		for (int i = 0; i < d->nslots; i++) {
			struct slot *s = &d->slots[i];

			if (s->used && !s->answering && !s->cut &&
			    now - s->start_ms > (int64_t)d->ms) {
				shutdown(s->fd, SHUT_RDWR);
				s->cut = 1;
			}
		}
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 250000000;
		if (t.tv_nsec >= 1000000000)
			t.tv_sec++, t.tv_nsec -= 1000000000;
		pthread_cond_timedwait(&d->wake, &d->lock, &t);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct deadlines *
deadlines_new(unsigned seconds, int nslots)
{
	struct deadlines *d = calloc(1, sizeof(*d));

	if (d == NULL ||
	    (d->slots = calloc((size_t)nslots, sizeof(*d->slots))) == NULL) {
		free(d);
		return NULL;
	}
	d->nslots = nslots;
	d->ms = seconds * 1000;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	if (pthread_create(&d->thread, NULL, watch, d) != 0) {
		free(d->slots);
		free(d);
		return NULL;
	}
	return d;
}

void
deadlines_free(struct deadlines *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->wake);
	free(d->slots);
	free(d);
}

void
deadlines_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct deadlines	       *d = cls;
	const union MHD_ConnectionInfo *ci;
	struct slot		       *s = *socket_ctx;

	pthread_mutex_lock(&d->lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		for (int i = 0; i < d->nslots && ci != NULL; i++)
			if (!d->slots[i].used) {
				s = &d->slots[i];
				memset(s, 0, sizeof(*s));
				s->used = 1;
				s->fd = ci->connect_fd;
				s->start_ms = now_ms();
				*socket_ctx = s;
				break;
			}
	} else if (s != NULL) {
		s->used = 0;
		*socket_ctx = NULL;
	}
	pthread_mutex_unlock(&d->lock);
}

/* The request is whole (it is being answered) or done (the next one on
 * the connection has the deadline from now). */
static void
mark(struct deadlines *d, struct MHD_Connection *c, int answering)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct slot *s = ci != NULL ? ci->socket_context : NULL;

	if (s == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	s->answering = answering;
	s->start_ms = now_ms();
	pthread_mutex_unlock(&d->lock);
}

void
deadlines_answering(struct deadlines *d, struct MHD_Connection *c)
{
	mark(d, c, 1);
}

void
deadlines_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)con_cls;
	(void)toe;
	mark(cls, c, 0);
}
