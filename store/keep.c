/* \summary: the files a store keeps beside its log */
/*
 * Message bytes are kept content-addressed: LOG.blobs/AB/ABCD... by
 * SHA-256, so a message seen many times is stored once and `mailsift
 * extract` can write it (and its attachments) later.  The bytes go to a
 * temporary file until their hash is known.  Every file is created
 * exclusively, readable by its owner only: mail is private.  Every folder
 * is made here or must be a real folder of ours that no one else may
 * write into (keep_dir): the names are predictable, so a link planted
 * under one would otherwise carry mail wherever it points.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/keep.h"
#include "store/safename.h"

static void
say(char *err, size_t errlen, const char *path)
{
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
}

int
keep_clean(const char *blob_dir, int mine)
{
	DIR	      *d = opendir(blob_dir);
	struct dirent *e;
	int	       n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[4400];
		long pid;

		/* tmp-PID-SEQ: a message's bytes before its hash named them */
		if (strncmp(e->d_name, "tmp-", 4) != 0 ||
		    (pid = strtol(e->d_name + 4, NULL, 10)) <= 0)
			continue;
		if (pid == (long)getpid() ?
			!mine :
			(kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue; /* a live writer's, or not ours to judge */
		snprintf(path, sizeof(path), "%s/%s", blob_dir, e->d_name);
		n += unlink(path) == 0;
	}
	closedir(d);
	return n;
}

int
keep_dir(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	/* the umask decides: 0700 unless --group-read */
	if (mkdir(path, 0750) == 0)
		return 0;
	if (errno != EEXIST || lstat(path, &sb) != 0) {
		say(err, errlen, path);
		return -1;
	}
	if (S_ISLNK(sb.st_mode))
		snprintf(err, errlen,
		    "%s: a symbolic link, not a folder: "
		    "refused",
		    path);
	else if (!S_ISDIR(sb.st_mode))
		snprintf(err, errlen, "%s: exists and is not a folder", path);
	else if (sb.st_uid != geteuid())
		snprintf(err, errlen, "%s: a folder of another user: refused",
		    path);
	else if (sb.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(err, errlen,
		    "%s: others may write into this folder: "
		    "refused",
		    path);
	else
		return 0;
	return -1;
}

void
keep_eml_base(int64_t sid, uint32_t tx, char *out, size_t len)
{
	if (tx >= KEEP_ASSEMBLED_TX) /* made from pieces: a1, a2, ... */
		snprintf(out, len, "%lld-a%u", (long long)sid,
		    tx - KEEP_ASSEMBLED_TX);
	else
		snprintf(out, len, "%lld-%u", (long long)sid, tx);
}

FILE *
keep_eml_create(const char *dir, int64_t sid, uint32_t tx, char **pathp,
    char *err, size_t errlen)
{
	char  path[4096], base[48];
	int   fd = -1;
	FILE *f;

	keep_eml_base(sid, tx, base, sizeof(base));
	for (int n = 1; n < 100 && fd < 0; n++) {
		if (n == 1)
			snprintf(path, sizeof(path), "%s/%s.eml", dir, base);
		else
			snprintf(path, sizeof(path), "%s/%s.%d.eml", dir, base,
			    n);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		say(err, errlen, path);
		return NULL;
	}
	if ((*pathp = strdup(path)) == NULL || (f = fdopen(fd, "wb")) == NULL) {
		say(err, errlen, path);
		free(*pathp);
		*pathp = NULL;
		close(fd);
		unlink(path);
		return NULL;
	}
	return f;
}

FILE *
keep_blob_create(const char *blob_dir, uint64_t seq, char **tmpp, char *buf,
    size_t bufsize, char *err, size_t errlen)
{
	char  path[4096];
	FILE *f;
	int   fd;

	snprintf(path, sizeof(path), "%s/tmp-%d-%llu", blob_dir, (int)getpid(),
	    (unsigned long long)seq);
	/* never through a link, hard or symbolic: a file of a killed run
	 * with the same pid is removed, not reused */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd < 0 && errno == EEXIST && unlink(path) == 0)
		fd = open(path,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
		say(err, errlen, path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	/* fewer writes for bodies that come in segments */
	if (buf != NULL)
		setvbuf(f, buf, _IOFBF, bufsize);
	if ((*tmpp = strdup(path)) == NULL) { /* keep_blob_name needs it */
		snprintf(err, errlen, "out of memory");
		fclose(f);
		unlink(path);
		return NULL;
	}
	return f;
}

int
keep_blob_place(const char *blob_dir, const char *file, const char *sha,
    char *err, size_t errlen)
{
	char	    dir[4096], path[4200];
	struct stat sb;
	int	    ok = 0;

	snprintf(dir, sizeof(dir), "%s/%.2s", blob_dir, sha);
	snprintf(path, sizeof(path), "%s/%s", dir, sha);
	if (keep_dir(dir, err, errlen) != 0) {
		unlink(file);
		return 0;
	}
	/* seen before: one copy is enough; its time says it is still
	 * wanted (live --keep-days removes the blobs no log wants) */
	if (lstat(path, &sb) == 0 &&
	    utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW) == 0)
		ok = 1, unlink(file);
	else
		ok = rename(file, path) == 0;
	if (!ok) {
		say(err, errlen, path);
		unlink(file);
	}
	return ok;
}

/*
 * The file's pages start for the disk now, while the capture is read on:
 * left to the commit's syncfs (sqlite.c), the writer waited there for
 * every byte the second kept, the disk idle till then.  Pages written
 * already are not written again.  A failure is the syncfs's to report.
 */
static void
blob_writeback(FILE *blob)
{
	if (fflush(blob) == 0)
		(void)sync_file_range(fileno(blob), 0, 0,
		    SYNC_FILE_RANGE_WRITE);
}

int
keep_blob_name(const char *blob_dir, FILE *blob, const char *tmp,
    const char *sha, char *err, size_t errlen)
{
	blob_writeback(blob);
	if (fclose(blob) != 0) {
		say(err, errlen, tmp);
		unlink(tmp);
		return 0;
	}
	return keep_blob_place(blob_dir, tmp, sha, err, errlen);
}

FILE *
keep_attachment_create(const char *dir, int64_t sid, uint32_t tx,
    char **parts_dirp, const char *filename, const char *path, char **pathp,
    char *err, size_t errlen)
{
	char  pd[4096], fb[160];
	FILE *f;

	if (*parts_dirp == NULL) {
		char base[48];

		keep_eml_base(sid, tx, base, sizeof(base));
		snprintf(pd, sizeof(pd), "%s/%s.parts", dir, base);
		if (keep_dir(pd, err, errlen) != 0)
			return NULL;
		if ((*parts_dirp = strdup(pd)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
	}
	snprintf(fb, sizeof(fb), "part-%s", path);
	if ((f = safe_create(*parts_dirp, filename, fb, pathp)) == NULL)
		snprintf(err, errlen, "%s/%s: %s", *parts_dirp, filename,
		    strerror(errno));
	return f;
}
