/* \summary: Landlock and seccomp around a run that reads hostile bytes */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/sandbox.h"

/* Landlock ABI 3's right, where the headers are older (Debian 12's) */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_UNDER_ASAN 1
#endif
#endif

/* ------------------------------------------------------------ paths */

static void
add_dir(struct sandbox_paths *sp, const char *dir)
{
	char real[4096];

	if (realpath(dir, real) == NULL || sp->n == SANDBOX_WRITE_MAX)
		return;
	for (int i = 0; i < sp->n; i++)
		if (strcmp(sp->write[i], real) == 0)
			return;
	snprintf(sp->write[sp->n++], sizeof(sp->write[0]), "%s", real);
}

void
sandbox_allow(struct sandbox_paths *sp, const char *path, int dir)
{
	char copy[4096], real[4096];

	if (path == NULL)
		return;
	if (dir) {
		add_dir(sp, path);
		return;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	add_dir(sp, dirname(copy));	  /* where the file (or its link) is */
	if (realpath(path, real) != NULL) /* and what a link points to */
		add_dir(sp, dirname(real));
}

/* --------------------------------------------------------- Landlock */

/* The write rights Landlock knows at this ABI (and execution). */
static __u64
handled_rights(int abi)
{
	__u64 r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#ifdef SANDBOX_UNDER_ASAN
	/* a sanitizer's report runs llvm-symbolizer */
	r &= ~(__u64)LANDLOCK_ACCESS_FS_EXECUTE;
#endif
	return r;
}

/* 1 entered, 0 not available here, -1 failed. */
static int
landlock_enter(const struct sandbox_paths *sp, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr = { 0 };
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	int  fd;

	if (abi < 1)
		return 0;
	attr.handled_access_fs = handled_rights((int)abi);
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
		 0)) < 0) {
		snprintf(err, errlen, "Landlock: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < sp->n; i++) {
		struct landlock_path_beneath_attr pb = {
			/* everything but execution beneath a folder written */
			.allowed_access = attr.handled_access_fs &
			    ~(__u64)LANDLOCK_ACCESS_FS_EXECUTE,
		};

		if ((pb.parent_fd = open(sp->write[i], O_PATH | O_CLOEXEC)) < 0)
			continue;
		if (syscall(SYS_landlock_add_rule, fd,
			LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
			snprintf(err, errlen, "Landlock: %s: %s", sp->write[i],
			    strerror(errno));
			close(pb.parent_fd);
			close(fd);
			return -1;
		}
		close(pb.parent_fd);
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		snprintf(err, errlen, "Landlock: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 1;
}

/* ---------------------------------------------------------- seccomp */

/* What a run calls: files (opened, written, renamed, removed: Landlock
 * says where), memory, threads, time, signals, and the terminal's size. */
static const char *const allowed[] = { "read", "write", "readv", "writev",
	"pread64", "pwrite64", "preadv", "pwritev", "lseek", "close",
	"close_range", "fstat", "newfstatat", "statx", "stat", "lstat",
	"fstatfs", "statfs", "access", "faccessat", "faccessat2", "openat",
	"open", "creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2",
	"link", "linkat", "unlink", "unlinkat", "rmdir", "readlink",
	"readlinkat", "getcwd", "getdents64", "fsync", "fdatasync", "syncfs",
	"sync_file_range", "fcntl", "flock", "ftruncate", "fallocate",
	"utimensat", "fchmod", "fchmodat", "fchown", "umask", "dup", "dup2",
	"dup3", "pipe2", "poll", "ppoll", "select", "pselect6", "mmap",
	"munmap", "mremap", "mprotect", "madvise", "brk", "futex",
	"set_robust_list", "get_robust_list", "rseq", "sched_yield",
	"sched_getaffinity", "gettid", "getpid", "getppid", "getuid", "geteuid",
	"getgid", "getegid", "getrlimit", "prlimit64", "uname", "sysinfo",
	"getrusage", "times", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"sigaltstack", "tgkill", "tkill", "clock_gettime", "clock_getres",
	"gettimeofday", "nanosleep", "clock_nanosleep", "time", "getrandom",
	"exit", "exit_group", "wait4", "waitid", "restart_syscall",
	"membarrier", "set_tid_address" };

static void
forbidden(int sig, siginfo_t *si, void *ctx)
{
	static const char msg[] =
	    "mailsift: the sandbox stopped a forbidden system call (number ";
	static const char tail[] = "): a bug, or hostile input reaching for "
				   "more than mailsift does; stopped\n";
	char		  n[16];
	int		  k = 0, v = si->si_syscall;

	(void)sig;
	(void)ctx;
	if (v < 0)
		v = 0;
	do /* async-signal-safe digits */
		n[k++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && k < (int)sizeof(n));
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_SANDBOX);
	while (k > 0)
		if (write(STDERR_FILENO, &n[--k], 1) < 0)
			break;
	if (write(STDERR_FILENO, tail, sizeof(tail) - 1) < 0)
		_exit(EXIT_SANDBOX);
	_exit(EXIT_SANDBOX);
}

/* What live adds: the capture socket's reads and counters, symbolic
 * links, chmod, a thread's priority (the rotated logs' index builder
 * lowers its own); a new socket or connection fails softly. */
static const char *const live_allowed[] = { "recvfrom", "recvmsg", "getsockopt",
	"setsockopt", "symlink", "symlinkat", "chmod", "getsockname",
	"setpriority", "ioprio_set" };

static int
seccomp_live(scmp_filter_ctx f)
{
	for (size_t i = 0; i < sizeof(live_allowed) / sizeof(*live_allowed);
	     i++) {
		int nr = seccomp_syscall_resolve_name(live_allowed[i]);

		if (nr != __NR_SCMP_ERROR &&
		    seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0) != 0)
			return -1;
	}
	/* a link's flags (is it up?), for libpcap and the health check;
	 * every other ioctl fails softly, as in read (seccomp_enter) */
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		   SCMP_A1(SCMP_CMP_EQ, SIOCGIFFLAGS, 0)) != 0 ||
		seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_NE, SIOCGIFFLAGS, 0)) != 0 ||
		seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket),
		    0) != 0 ||
		seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(connect),
		    0) != 0 ?
	    -1 :
	    0;
}

static int
seccomp_enter(int live, char *err, size_t errlen)
{
	scmp_filter_ctx	 f = seccomp_init(SCMP_ACT_TRAP);
	struct sigaction sa = { 0 };
	int		 rc = -1;

	sa.sa_sigaction = forbidden;
	sa.sa_flags = SA_SIGINFO;
	if (f == NULL || sigaction(SIGSYS, &sa, NULL) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR &&
		    seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0) != 0)
			goto out;
	}
	/* threads, not processes: clone only with CLONE_THREAD; clone3's
	 * flags are out of the filter's reach, so it says "not here" and
	 * the C library falls back to clone */
	if (seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) != 0 ||
	    seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) !=
		0)
		goto out;
	/*
	 * ioctls (a file system's feature probe, isatty) fail softly.
	 * libseccomp lets a rule that names no argument take every call
	 * of its system call, whatever rules that do name one say, added
	 * before or after: live's one allowed ioctl is named by value, and
	 * the rest fail by a rule on the same argument (seccomp_live).
	 */
	if (live ? seccomp_live(f) != 0 :
		   seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl),
		       0) != 0)
		goto out;
	/* every thread of the process, not only this one: a thread a
	 * library started before would otherwise run unfiltered */
	if (seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		goto out;
	rc = seccomp_load(f);
out:
	if (rc != 0)
		snprintf(err, errlen, "seccomp: %s",
		    strerror(rc < 0 ? -rc : errno));
	seccomp_release(f);
	return rc == 0 ? 0 : -1;
}

int
sandbox_enter(const struct sandbox_paths *sp, char *err, size_t errlen)
{
	int ll;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if ((ll = landlock_enter(sp, err, errlen)) < 0)
		return -1;
	if (ll == 0)
		fprintf(stderr,
		    "mailsift: this kernel has no Landlock: files "
		    "are not confined to the log's folders (the "
		    "system call filter still holds)\n");
#ifdef SANDBOX_UNDER_ASAN
	/* LeakSanitizer's check at exit attaches to the threads with
	 * ptrace from a process of its own: the sanitizer build keeps
	 * Landlock only */
	(void)seccomp_enter;
	return 0;
#else
	return seccomp_enter(sp->live, err, errlen);
#endif
}
