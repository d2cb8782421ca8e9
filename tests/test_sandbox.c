/*
 * test_sandbox.c - cli/sandbox.c: what a confined run may and may not do.
 * Each case runs in a child process that enters the sandbox (it cannot be
 * left) and tries one thing: files written in the folder allowed, not
 * beside it; threads work; execve, fork and socket stop the process with
 * the sandbox's message and exit 4.  The system call filter is off in
 * the sanitizer build (LeakSanitizer attaches with ptrace), so those
 * cases are checked in the release build only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static char allowed_dir[] = "/tmp/ms-sandbox-in-XXXXXX";
static char other_dir[] = "/tmp/ms-sandbox-out-XXXXXX";
static char errfile[] = "/tmp/ms-sandbox-err-XXXXXX";

static int
setup(void **state)
{
	int fd;

	(void)state;
	if (mkdtemp(allowed_dir) == NULL || mkdtemp(other_dir) == NULL ||
	    (fd = mkstemp(errfile)) < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", allowed_dir, other_dir,
	    errfile);
	return system(cmd) == 0 ? 0 : -1;
}

static int
landlock_here(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL) >= 1;
}

/* A thread started before the sandbox: it waits for the word, then
 * tries what it is given (the analysis workers of a store opened before
 * the sandbox are such threads). */
static int (*early_fn)(void);
static int	 early_pipe[2] = { -1, -1 };
static pthread_t early;

static void *
early_thread(void *arg)
{
	char c;

	(void)arg;
	if (read(early_pipe[0], &c, 1) != 1)
		_exit(40);
	_exit(early_fn());
}

static void
start_early_thread(void)
{
	if (early_fn == NULL)
		return;
	if (pipe(early_pipe) != 0 ||
	    pthread_create(&early, NULL, early_thread, NULL) != 0)
		_exit(41);
}

/* In a child: enter the sandbox (only allowed_dir written; live's
 * allowances when live), run fn (with early_fn set, on a thread started
 * before the sandbox); returns the child's wait status, its stderr in
 * errfile. */
static int
confined_as(int (*fn)(void), int live)
{
	pid_t pid;
	int   st = -1;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct sandbox_paths sp = { .n = 0, .live = live };
		char		     err[512];
		int		     fd = open(errfile, O_WRONLY | O_TRUNC);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		sandbox_allow(&sp, allowed_dir, 1);
		start_early_thread();
		if (sandbox_enter(&sp, err, sizeof(err)) != 0) {
			fprintf(stderr, "enter: %s\n", err);
			_exit(99);
		}
		if (early_fn != NULL) { /* the thread's exit ends the child */
			if (write(early_pipe[1], "go", 1) != 1)
				_exit(42);
			pthread_join(early, NULL);
		}
		_exit(fn());
	}
	waitpid(pid, &st, 0);
	return st;
}

static int
confined(int (*fn)(void))
{
	return confined_as(fn, 0);
}

static int
make_in(const char *dir)
{
	char path[256];
	int  fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return errno == EACCES ? 10 : 11;
	if (write(fd, "x", 1) != 1)
		return 12;
	close(fd);
	return 0;
}

static int
write_inside(void)
{
	return make_in(allowed_dir);
}

static int
write_outside(void)
{
	return make_in(other_dir);
}

static void *
thread_fn(void *arg)
{
	return arg;
}

static int
threads(void)
{
	static int mark;
	pthread_t  t;
	void	  *r = NULL;

	if (pthread_create(&t, NULL, thread_fn, &mark) != 0 ||
	    pthread_join(t, &r) != 0)
		return 20;
	return r == &mark ? 0 : 21;
}

static int
exec_shell(void)
{
	char *argv[] = { NULL };

	execve("/bin/true", argv, argv);
	return 30; /* not reached when the filter holds */
}

static int
fork_child(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return 31;
}

static int
open_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 32 : 33;
}

/* live: a new socket (syslog reconnecting) fails, the sensor goes on */
static int
socket_refused(void)
{
	return socket(AF_UNIX, SOCK_DGRAM, 0) < 0 && errno == EACCES ? 0 : 34;
}

static int
stopped_with_message(int st)
{
	char  buf[512] = "";
	FILE *f = fopen(errfile, "r");

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SANDBOX &&
	    strstr(buf, "sandbox stopped a forbidden system call") != NULL;
}

static void
test_files(void **state)
{
	int st;

	(void)state;
	st = confined(write_inside);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = confined(write_outside);
	assert_true(WIFEXITED(st));
	if (landlock_here())
		assert_int_equal(WEXITSTATUS(st), 10); /* EACCES */
	else
		print_message("no Landlock on this kernel: not checked\n");
	st = confined(threads);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_forbidden_calls(void **state)
{
	(void)state;
#ifdef UNDER_ASAN
	(void)exec_shell, (void)fork_child, (void)open_socket;
	(void)socket_refused;
	(void)stopped_with_message;
	skip();
#else
	assert_true(stopped_with_message(confined(exec_shell)));
	assert_true(stopped_with_message(confined(fork_child)));
	assert_true(stopped_with_message(confined(open_socket)));
	/* live: the same, but a new socket fails softly */
	{
		int st = confined_as(socket_refused, 1);

		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_true(stopped_with_message(confined_as(exec_shell, 1)));
	/* a thread that was there before the sandbox is filtered too */
	early_fn = open_socket;
	assert_true(stopped_with_message(confined(open_socket)));
	early_fn = NULL;
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_forbidden_calls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
