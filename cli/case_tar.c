/* \summary: a case bundle as one tar file, and back (libarchive) */
/*
 * case export --tar writes BUNDLE.tar beside the folder: the same files
 * under BUNDLE's name, in SHA256SUMS's order, in GNU tar's format.  case verify
 * takes the tar as it takes the folder: it is unpacked into a scratch
 * folder first, regular files only, none outside it (no absolute path,
 * no "..", no link), and verified there.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/case.h"

static int
add_file(struct archive *a, const char *top, const char *dir, const char *rel)
{
	char		      path[8192], name[8192], buf[65536];
	struct archive_entry *e;
	struct stat	      sb;
	ssize_t		      n;
	int		      fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(name, sizeof(name), "%s/%s", top, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, sb.st_size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, sb.st_mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = -1;
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			rc = -1;
	archive_entry_free(e);
	close(fd);
	return rc;
}

int
case_tar_write(const char *dir, const char *const *rels, size_t n, char *out,
    size_t outlen)
{
	char		copy[4096], *top;
	struct archive *a = archive_write_new();
	int		rc = 0;

	snprintf(copy, sizeof(copy), "%s", dir);
	top = basename(copy);
	snprintf(out, outlen, "%s.tar", dir);
	/* GNU tar's format: long names, and names as their bytes (safe
	 * names, UTF-8) with no conversion through the locale, which pax
	 * needs and a C locale cannot do */
	if (a == NULL || archive_write_set_format_gnutar(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, out) != ARCHIVE_OK) {
		archive_write_free(a);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = add_file(a, top, dir, rels[i])) != 0)
			fprintf(stderr, "mailsift: %s/%s: %s\n", dir, rels[i],
			    archive_error_string(a) != NULL ?
				archive_error_string(a) :
				strerror(errno));
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_free(a);
	if (rc != 0)
		unlink(out);
	return rc;
}

/* A name that stays inside the folder it is unpacked in. */
static int
name_inside(const char *p)
{
	if (p == NULL || p[0] == '/' || p[0] == '\0')
		return 0;
	for (const char *s = p; *s; s++)
		if (s[0] == '.' && s[1] == '.' && (s == p || s[-1] == '/') &&
		    (s[2] == '/' || s[2] == '\0'))
			return 0;
	return 1;
}

static int
make_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s != NULL;
	     s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*s = '/';
			return -1;
		}
		*s = '/';
	}
	return 0;
}

int
case_tar_unpack(const char *tar, const char *into, char *top, size_t toplen,
    char *err, size_t errlen)
{
	struct archive	     *a = archive_read_new();
	struct archive_entry *e;
	int		      r, rc = 0;

	top[0] = '\0';
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 65536) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s: %s", tar, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		char	    path[8192], buf[65536];
		la_ssize_t  n;
		int	    fd;

		if (archive_entry_filetype(e) != AE_IFREG ||
		    !name_inside(name)) {
			snprintf(err, errlen,
			    "%s: %s: not a plain file inside "
			    "the bundle: refused",
			    tar, name != NULL ? name : "?");
			rc = -1;
			break;
		}
		if (top[0] == '\0')
			snprintf(top, toplen, "%.*s", (int)strcspn(name, "/"),
			    name);
		snprintf(path, sizeof(path), "%s/%s", into, name);
		if (make_parents(path) != 0 ||
		    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			 0600)) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
			break;
		}
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				rc = -1;
		if (n < 0 || close(fd) != 0)
			rc = -1;
		if (rc != 0)
			snprintf(err, errlen, "%s: %s", path,
			    n < 0 ? archive_error_string(a) : strerror(errno));
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		snprintf(err, errlen, "%s: %s", tar, archive_error_string(a));
		rc = -1;
	}
	archive_read_free(a);
	return rc;
}
