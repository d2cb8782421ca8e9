/* \summary: read --jobs: the jobs forked, their digests shared, reports summed */
#include <sys/mman.h>
#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/read_jobs.h"

enum { DIGEST_PENDING, DIGEST_DONE, DIGEST_NONE };

/* One file's digest, in memory every job shares. */
struct shared_digest {
	int	 state; /* DIGEST_*, read and written atomically */
	char	 sha256[65];
	uint64_t size;
};

/*
 * A job's handle.  alive[j] is the read end of a pipe whose write end
 * only job j holds and never writes: it reads as hung up once job j has
 * ended, however it ended, so that no job waits for a dead one's digest.
 */
struct jobs {
	int		      k, n, nfiles;
	int		      report_fd;
	int		      alive[MAX_JOBS];
	struct shared_digest *board; /* nfiles entries, shared */
};

/* The jobs' counts as one run's: each read every packet (the packet
 * counts are any one job's), each reassembled and dissected its share of
 * the connections (those counts add up). */
static void
add_report(struct job_report *sum, const struct job_report *r, int first)
{
	uint64_t       *a = (uint64_t *)&sum->ss;
	const uint64_t *b = (const uint64_t *)&r->ss;

	if (first) {
		*sum = *r;
		return;
	}
	for (size_t i = 0; i < sizeof(sum->ss) / sizeof(uint64_t); i++)
		a[i] += b[i];
	sum->cs.tcp_streams += r->cs.tcp_streams;
	sum->cs.sessions += r->cs.sessions;
	sum->cs.ignored += r->cs.ignored;
	sum->cs.midstream += r->cs.midstream;
	sum->cs.streams_evicted += r->cs.streams_evicted;
	sum->cs.nids_warnings += r->cs.nids_warnings;
	sum->cs.gap_bytes += r->cs.gap_bytes;
	sum->cs.detect_over_budget += r->cs.detect_over_budget;
	if (r->status > sum->status)
		sum->status = r->status;
}

/* In the parent: every report read, every job waited for. */
static void
collect(int fd, int n, struct job_report *sum)
{
	struct job_report r;
	int		  got = 0, wst;
	pid_t		  pid;

	memset(sum, 0, sizeof(*sum));
	while (read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r))
		add_report(sum, &r, got++ == 0);
	close(fd);
	while ((pid = wait(&wst)) > 0)
		if (!WIFEXITED(wst) || WEXITSTATUS(wst) > sum->status) {
			int s = WIFEXITED(wst) ? WEXITSTATUS(wst) : EXIT_USAGE;

			if (!WIFEXITED(wst))
				fprintf(stderr,
				    "mailsift: a job died (signal %d)\n",
				    WTERMSIG(wst));
			sum->status = s > sum->status ? s : sum->status;
		}
	if (got < n && sum->status == EXIT_OK)
		sum->status = EXIT_USAGE;
}

/* In job k: its own write end kept, the others' read ends kept. */
static void
keep_ends(struct jobs *j, int pipes[][2])
{
	for (int i = 0; i < j->n; i++) {
		if (i == j->k) {
			close(pipes[i][0]);
			j->alive[i] = -1;
		} else {
			close(pipes[i][1]);
			j->alive[i] = pipes[i][0];
		}
	}
}

static void
close_pipes(int pipes[][2], int n)
{
	for (int i = 0; i < n; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

int
jobs_fork(int n, int nfiles, struct jobs **jp, struct job_report *sum)
{
	int    fds[2], pipes[MAX_JOBS][2], made = 0;
	size_t len =
	    sizeof(struct shared_digest) * (size_t)(nfiles > 0 ? nfiles : 1);
	struct shared_digest *board;
	pid_t		      pid;

	memset(sum, 0, sizeof(*sum));
	sum->status = EXIT_USAGE;
	board = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (board == MAP_FAILED) {
		perror("mailsift: mmap");
		return -1;
	}
	if (pipe(fds) != 0) {
		perror("mailsift: pipe");
		munmap(board, len);
		return -1;
	}
	for (; made < n && pipe(pipes[made]) == 0; made++)
		;
	if (made < n) {
		perror("mailsift: pipe");
		close_pipes(pipes, made);
		close(fds[0]);
		close(fds[1]);
		munmap(board, len);
		return -1;
	}
	fflush(NULL);
	for (int k = 0; k < n; k++) {
		struct jobs *j;

		if ((pid = fork()) < 0) {
			perror("mailsift: fork");
			break;
		}
		if (pid != 0)
			continue;
		close(fds[0]);
		if ((j = calloc(1, sizeof(*j))) == NULL)
			_exit(EXIT_USAGE);
		j->k = k;
		j->n = n;
		j->nfiles = nfiles;
		j->report_fd = fds[1];
		j->board = board;
		keep_ends(j, pipes);
		*jp = j;
		return k;
	}
	close(fds[1]);
	close_pipes(pipes, n);
	collect(fds[0], n, sum);
	munmap(board, len);
	return -1;
}

int
jobs_hashes_file(const struct jobs *j, int i)
{
	return i % j->n == j->k;
}

void
jobs_publish(struct jobs *j, int i, const char *sha256, uint64_t size)
{
	struct shared_digest *d;

	if (i < 0 || i >= j->nfiles)
		return;
	d = &j->board[i];
	if (sha256 != NULL) {
		snprintf(d->sha256, sizeof(d->sha256), "%s", sha256);
		d->size = size;
	}
	__atomic_store_n(&d->state, sha256 != NULL ? DIGEST_DONE : DIGEST_NONE,
	    __ATOMIC_RELEASE);
}

void
jobs_publish_none_from(struct jobs *j, int i)
{
	for (; i < j->nfiles; i++)
		if (jobs_hashes_file(j, i) &&
		    __atomic_load_n(&j->board[i].state, __ATOMIC_ACQUIRE) ==
			DIGEST_PENDING)
			jobs_publish(j, i, NULL, 0);
}

int
jobs_digest(struct jobs *j, int i, char *sha256, uint64_t *size)
{
	struct pollfd pf = { .fd = j->alive[i % j->n], .events = POLLIN };
	struct shared_digest *d;
	int		      st, gone = 0;

	if (i < 0 || i >= j->nfiles)
		return -1;
	d = &j->board[i];
	/* the job that takes it read the same file: at most a little
	 * behind this one */
	while ((st = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE)) ==
		DIGEST_PENDING &&
	    !gone) {
		int r = poll(&pf, 1, 20);

		if (r > 0 || (r < 0 && errno != EINTR))
			gone = 1; /* ended: one last look at the board */
	}
	if (st != DIGEST_DONE)
		return -1;
	memcpy(sha256, d->sha256, sizeof(d->sha256));
	*size = d->size;
	return 0;
}

int
jobs_end(struct jobs *j, const struct job_report *rep)
{
	int rc =
	    write(j->report_fd, rep, sizeof(*rep)) == (ssize_t)sizeof(*rep) ?
	    0 :
	    -1;

	close(j->report_fd);
	for (int i = 0; i < j->n; i++)
		if (j->alive[i] >= 0)
			close(j->alive[i]);
	free(j);
	return rc;
}
