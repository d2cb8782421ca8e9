/*
 * sandbox.h - what a run of mailsift may still do once it reads hostile
 * bytes.
 *
 * mailsift read and live, once their captures, log and threads are set
 * up, give up what a parser bug could otherwise turn into a foothold:
 *
 *  - Landlock (Linux 5.13 on): no file may be made, written, renamed or
 *    removed outside the folders the run writes (the log's, its blobs,
 *    --extract, --json-dir, the temporary folder SQLite may use), and
 *    nothing may be executed.  Reading stays open (captures, libmagic's
 *    database).  A kernel without Landlock is said once, and the run
 *    goes on with the filter below.
 *  - seccomp-bpf (libseccomp): only the system calls a run makes are
 *    allowed; any other (execve, fork, socket, ptrace, mount, ...) stops
 *    the process at once with a message naming the call, exit 4.
 *
 * Both are for the rest of the process's life and cannot be undone.
 */
#ifndef MAILSIFT_SANDBOX_H
#define MAILSIFT_SANDBOX_H

#include <stddef.h>

#define SANDBOX_WRITE_MAX 12
#define EXIT_SANDBOX	  4 /* a forbidden system call stopped the run */

struct sandbox_paths {
	char write[SANDBOX_WRITE_MAX][4096]; /* folders, absolute */
	int  n;
	/* live: the capture socket read and its counters, the link's flags
	 * (SIOCGIFFLAGS on a socket opened before), symbolic links made (the
	 * log's current file); a new socket (syslog reconnecting) fails
	 * with EACCES rather than stop a sensor, and stderr still says */
	int live;
};

/* Adds the folder of a file path (its link's and its target's when it
 * is a symbolic link), or a folder itself (dir set). */
void sandbox_allow(struct sandbox_paths *, const char *path, int dir);
/* Enters the sandbox: 0, or -1 with err said (nothing entered). */
int sandbox_enter(const struct sandbox_paths *, char *err, size_t errlen);

#endif
