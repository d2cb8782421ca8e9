/*
 * serve.h - mailsift serve: the log as a read-only web application
 * (libmicrohttpd), safe to open on hostile mail.
 */
#ifndef MAILSIFT_SERVE_H
#define MAILSIFT_SERVE_H

/*
 * mailsift serve inside another program: the same handling, limits and
 * deadlines, on a port of the loopback the kernel picks (serve_port).
 * Its fuzzer drives it so (tests/fuzz/fuzz_serve.c).  serve_open: a
 * server of the log at db, token (or NULL) required of every request;
 * NULL when it cannot start.
 */
struct serve;
struct serve *serve_open(const char *db, const char *token);
int	      serve_port(const struct serve *);
void	      serve_close(struct serve *);

extern const char serve_index_html[];
extern const char serve_app_css[];
extern const char serve_app_js[];

#endif
