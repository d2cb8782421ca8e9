/*
 * fuzz_serve.c - libFuzzer target for mailsift serve's request handling
 * (cli/cmd_serve.c over libmicrohttpd): any bytes as what a client sends
 * on a connection — request lines, headers, the token as a header, a
 * cookie or an argument, paths and query parameters of every answer —
 * sent to a server of a small log (serve_open) on the loopback, and its
 * answer read to the end.  The server is the one mailsift serve
 * runs, with its limits and deadlines; a crash, a hang past the read's
 * bound, or an answer that is not HTTP is a finding.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/serve.h"
#include "tests/fuzz/emptylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-serve-token-0123456789"

/* A log with a session, a message with a part, a login and a command,
 * so that the pages of an id have rows to show. */
static const char rows_sql[] =
    "INSERT INTO sessions (id, run_id, proto, client_ip, client_port,"
    " server_ip, server_port, start_ts, end_ts, username, tls)"
    " VALUES (1, (SELECT max(id) FROM runs), 'smtp', '192.0.2.1', 40000, '192.0.2.2', 25,"
    " 1700000000, 1700000001, 'alice', 'none');"
    "INSERT INTO commands (session_id, seq, ts, verb, args, reply_code)"
    " VALUES (1, 1, 1700000000, 'EHLO', 'x', 250);"
    "INSERT INTO auth (id, session_id, seq, ts, mechanism, username,"
    " password, outcome) VALUES (1, 1, 1, 1700000000, 'PLAIN', 'alice',"
    " 'secret', 'success');"
    "INSERT INTO messages (id, session_id, tx, seq, proto, method,"
    " direction, begin_ts, end_ts, size, sha256, complete, subject,"
    " from_addr, to_addrs, parts, attachments) VALUES (1, 1, 1, 1, 'smtp',"
    " 'DATA', 'c2s', 1700000000, 1700000001, 5, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',"
    " 1, '<b>hi</b>', 'a@example.org', 'b@example.org', 1, 1);"
    "INSERT INTO parts (message_id, part, path, content_type, filename,"
    " size, sha256, md5) VALUES (1, 1, '1', 'application/pdf', 'a.pdf', 5,"
    " '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',"
    " '5d41402abc4b2a76b9719d911017c592');";

static struct serve *
server(void)
{
	static struct serve *sv;
	const char	    *log_path;

	if (sv != NULL)
		return sv;
	log_path = emptylog_with_rows("fuzz_serve", rows_sql);
	if ((sv = serve_open(log_path, TOKEN)) == NULL) {
		fprintf(stderr, "fuzz_serve: the server did not start\n");
		abort();
	}
	return sv;
}

/*
 * One connection: data sent, the write side shut, the answer read to
 * its end into head (its first bytes) within wait_ms.  The bytes of the
 * answer, or -1 when it did not end in time.
 */
static long
exchange(int port, const void *data, size_t size, char *head, size_t hlen,
    int wait_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port) };
	/* closed with a reset: a million connections leave no TIME_WAIT */
	struct linger reset = { 1, 0 };
	char	      buf[65536];
	size_t	      got = 0;
	int	      fd;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	/* libFuzzer's alarm for its -timeout interrupts calls: again */
	while (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		if (errno == EINTR)
			continue;
		fprintf(stderr, "fuzz_serve: connect: %s\n", strerror(errno));
		abort();
	}
	/* all of it, then the end: a request cut short is one too */
	for (size_t off = 0; off < size;) {
		ssize_t n = send(fd, (const char *)data + off, size - off,
		    MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t	      n;
		int	      r = poll(&p, 1, wait_ms);

		if (r < 0 && errno == EINTR)
			continue; /* the wait starts again: at most longer */
		if (r != 1) {
			close(fd);
			return -1;
		}
		if ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got < hlen)
			memcpy(head + got, buf,
			    (size_t)n < hlen - got ? (size_t)n : hlen - got);
		got += (size_t)n;
	}
	close(fd);
	return (long)got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve *sv = server();
	char	      head[9];
	long	      got;

	if (size > 16384)
		return 0;
	if ((got = exchange(serve_port(sv), data, size, head, sizeof(head),
		 20000)) < 0) {
		fprintf(stderr, "fuzz_serve: no end of the answer in 20 s\n");
		abort();
	}
	if (got >= (long)sizeof(head) && memcmp(head, "HTTP/1.", 7) != 0) {
		fprintf(stderr, "fuzz_serve: an answer that is not HTTP\n");
		abort();
	}
	return 0;
}
