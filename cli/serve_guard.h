/*
 * serve_guard.h - who may talk to mailsift serve (the Host it names, the
 * token it holds) and how long a request may take to arrive.
 */
#ifndef MAILSIFT_SERVE_GUARD_H
#define MAILSIFT_SERVE_GUARD_H

#include <stddef.h>
#include <sys/types.h>
#include <microhttpd.h>

#define GUARD_ALLOW_MAX 8

struct guard {
	const char *allow[GUARD_ALLOW_MAX]; /* names besides addresses and
					       localhost (--allow-host) */
	int nallow;
};

/* Whether a Host header names this server: an address, "localhost" or an
 * allowed name (any port); no Host at all is allowed too. */
int guard_host_ok(const struct guard *, const char *host);
/* 32 hex digits from getrandom(2): 0, or -1. */
int guard_token_random(char *out, size_t cap);
/* The token in path's first line; when there is no such file, a random
 * one written there (0600, never through a link), *made set. */
int guard_token_file(const char *path, char *out, size_t cap, int *made,
    char *err, size_t errlen);
/* Whether given is token, compared in constant time. */
int guard_token_ok(const char *token, const char *given);

/* Connections whose request has not arrived whole within a deadline are
 * cut.  Give deadlines_notify and deadlines_completed to libmicrohttpd
 * (MHD_OPTION_NOTIFY_CONNECTION, MHD_OPTION_NOTIFY_COMPLETED) and call
 * deadlines_answering once a request is whole. */
struct deadlines;
struct deadlines *deadlines_new(unsigned seconds, int nslots);
void		  deadlines_free(struct deadlines *);
void deadlines_notify(void *cls, struct MHD_Connection *, void **socket_ctx,
    enum MHD_ConnectionNotificationCode);
void deadlines_completed(void *cls, struct MHD_Connection *, void **con_cls,
    enum MHD_RequestTerminationCode);
void deadlines_answering(struct deadlines *, struct MHD_Connection *);

#endif
