/*
 * serve.h - mailsift serve: the log as a read-only web application
 * (libmicrohttpd), safe to open on hostile mail.
 */
#ifndef MAILSIFT_SERVE_H
#define MAILSIFT_SERVE_H

extern const char serve_index_html[];
extern const char serve_app_css[];
extern const char serve_app_js[];

#endif
