/* \summary: a part's type by content, and what disagrees with it */
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content.h"

/* A worker's libmagic, loaded on its first part. */
struct magic_slot {
	magic_t m;
	int	failed; /* no database: types stay unknown */
};

void
content_slot_free(void *slot)
{
	struct magic_slot *ms = slot;

	if (ms->m != NULL)
		magic_close(ms->m);
	free(ms);
}

static magic_t
magic_of(void **slot)
{
	struct magic_slot *ms = *slot;

	if (ms == NULL) {
		if ((ms = calloc(1, sizeof(*ms))) == NULL)
			return NULL;
		*slot = ms;
		/* no decompression, no following of names: bytes only */
		ms->m = magic_open(
		    MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
		if (ms->m == NULL || magic_load(ms->m, NULL) != 0)
			ms->failed = 1;
	}
	return ms->failed ? NULL : ms->m;
}

/*
 * Types grouped by what they are, so that names for one thing agree
 * (a .docx is a zip, application/x-msdownload an executable).  NULL: a
 * type that says nothing (octet-stream, empty).
 */
static const char *
class_of(const char *type)
{
	static const struct {
		const char *prefix, *class;
	} classes[] = {
		{ "application/x-dosexec", "exe" },
		{ "application/vnd.microsoft.portable-executable", "exe" },
		{ "application/x-msdownload", "exe" },
		{ "application/x-ms-dos-executable", "exe" },
		{ "application/x-msdos-program", "exe" },
		{ "application/x-executable", "exe" },
		{ "application/x-sharedlib", "exe" },
		{ "application/x-pie-executable", "exe" },
		{ "application/x-mach-binary", "exe" },
		{ "application/x-elf", "exe" },
		{ "application/zip", "zip" },
		{ "application/x-zip", "zip" },
		{ "application/vnd.openxmlformats-officedocument.", "zip" },
		{ "application/vnd.oasis.opendocument.", "zip" },
		{ "application/java-archive", "zip" },
		{ "application/epub+zip", "zip" },
		{ "application/msword", "ole" },
		{ "application/vnd.ms-excel", "ole" },
		{ "application/vnd.ms-powerpoint", "ole" },
		{ "application/vnd.ms-word", "ole" },
		{ "application/vnd.ms-outlook", "ole" },
		{ "application/vnd.ms-office", "ole" },
		{ "application/x-ole-storage", "ole" },
		{ "application/cdfv2", "ole" },
		{ "application/x-msi", "ole" },
		{ "application/pdf", "pdf" },
		{ "application/x-rar", "rar" },
		{ "application/vnd.rar", "rar" },
		{ "application/x-7z-compressed", "7z" },
		{ "application/gzip", "gzip" },
		{ "application/x-gzip", "gzip" },
		{ "application/x-tar", "tar" },
		{ "application/x-bzip2", "bzip2" },
		{ "application/json", "text" },
		{ "application/xml", "text" },
		{ "application/javascript", "text" },
		{ "application/pgp-signature", "text" },
		{ "application/pkcs7-signature", "smime" },
		{ "application/x-pkcs7-signature", "smime" },
		{ "application/pkcs7-mime", "smime" },
		{ "text/", "text" },
		{ "message/", "text" },
		{ "image/", "image" },
		{ "audio/", "audio" },
		{ "video/", "video" },
	};

	if (type[0] == '\0' ||
	    strcasecmp(type, "application/octet-stream") == 0 ||
	    strcasecmp(type, "application/x-empty") == 0 ||
	    strcasecmp(type, "inode/x-empty") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++)
		if (strncasecmp(type, classes[i].prefix,
			strlen(classes[i].prefix)) == 0)
			return classes[i].class;
	return type;
}

/* The class a file name's extension promises, or NULL. */
static const char *
ext_class(const char *filename)
{
	static const struct {
		const char *ext, *class;
	} exts[] = {
		{ "exe", "exe" },
		{ "dll", "exe" },
		{ "scr", "exe" },
		{ "com", "exe" },
		{ "cpl", "exe" },
		{ "sys", "exe" },
		{ "pif", "exe" },
		{ "zip", "zip" },
		{ "docx", "zip" },
		{ "xlsx", "zip" },
		{ "pptx", "zip" },
		{ "docm", "zip" },
		{ "xlsm", "zip" },
		{ "odt", "zip" },
		{ "ods", "zip" },
		{ "jar", "zip" },
		{ "doc", "ole" },
		{ "xls", "ole" },
		{ "ppt", "ole" },
		{ "msg", "ole" },
		{ "msi", "ole" },
		{ "pdf", "pdf" },
		{ "rar", "rar" },
		{ "7z", "7z" },
		{ "gz", "gzip" },
		{ "tgz", "gzip" },
		{ "tar", "tar" },
		{ "bz2", "bzip2" },
		{ "txt", "text" },
		{ "csv", "text" },
		{ "htm", "text" },
		{ "html", "text" },
		{ "xml", "text" },
		{ "json", "text" },
		{ "eml", "text" },
		{ "ics", "text" },
		{ "jpg", "image" },
		{ "jpeg", "image" },
		{ "png", "image" },
		{ "gif", "image" },
		{ "bmp", "image" },
		{ "tif", "image" },
		{ "tiff", "image" },
		{ "webp", "image" },
		{ "mp3", "audio" },
		{ "wav", "audio" },
		{ "mp4", "video" },
		{ "p7s", "smime" },
	};
	const char *dot = strrchr(filename, '.');

	if (dot == NULL || dot[1] == '\0')
		return NULL;
	for (size_t i = 0; i < sizeof(exts) / sizeof(*exts); i++)
		if (strcasecmp(dot + 1, exts[i].ext) == 0)
			return exts[i].class;
	return NULL;
}

/* Whether two classes are one, "x-" and "vnd." aside in a subtype
 * (application/ms-tnef and application/vnd.ms-tnef are one format). */
static int
same_class(const char *a, const char *b)
{
	const char *sa = strchr(a, '/'), *sb = strchr(b, '/');

	if (sa == NULL || sb == NULL)
		return strcasecmp(a, b) == 0;
	if ((size_t)(sa - a) != (size_t)(sb - b) ||
	    strncasecmp(a, b, (size_t)(sa - a)) != 0)
		return 0;
	for (sa++;
	     strncasecmp(sa, "x-", 2) == 0 || strncasecmp(sa, "vnd.", 4) == 0;)
		sa += sa[0] == 'x' || sa[0] == 'X' ? 2 : 4;
	for (sb++;
	     strncasecmp(sb, "x-", 2) == 0 || strncasecmp(sb, "vnd.", 4) == 0;)
		sb += sb[0] == 'x' || sb[0] == 'X' ? 2 : 4;
	return strcasecmp(sa, sb) == 0;
}

unsigned
content_findings(const char *magic, const char *declared, const char *filename)
{
	const char *mc = class_of(magic), *dc = class_of(declared);
	const char *ec = ext_class(filename);
	unsigned    f = 0;

	if (mc == NULL)
		return 0;
	/* text has no magic number: a text file named .csv or sent as
	 * text/html is what it says as far as bytes can tell */
	if (strcmp(mc, "exe") == 0 && (ec == NULL || strcmp(ec, "exe") != 0) &&
	    (dc == NULL || strcmp(dc, "exe") != 0))
		f |= CF_EXECUTABLE;
	if (ec != NULL && !same_class(ec, mc) && strcmp(mc, "text") != 0)
		f |= CF_EXT_MISMATCH;
	if (dc != NULL && !same_class(dc, mc) && strcmp(mc, "text") != 0)
		f |= CF_TYPE_MISMATCH;
	return f;
}

void
content_analyse(void *job, void **slot, const unsigned char *p, size_t n,
    int all)
{
	struct content_job *j = job;
	magic_t		    m;
	const char	   *t;

	(void)all;
	if (n == 0 || (m = magic_of(slot)) == NULL ||
	    (t = magic_buffer(m, p,
		 n < CONTENT_MAGIC_BYTES ? n : CONTENT_MAGIC_BYTES)) == NULL)
		return;
	snprintf(j->magic, sizeof(j->magic), "%s", t);
	j->findings = content_findings(j->magic, j->declared, j->filename);
}

const char *
content_findings_str(unsigned findings, char *buf, size_t len)
{
	static const char *const names[] = { "executable_disguised",
		"extension_mismatch", "type_mismatch" };
	size_t			 k = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 3; i++)
		if (findings & 1u << i)
			k += (size_t)snprintf(buf + k, k < len ? len - k : 0,
			    "%s%s", k ? "," : "", names[i]);
	return buf;
}
