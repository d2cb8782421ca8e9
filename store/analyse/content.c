/* \summary: a part's type by content, and what disagrees with it */
#include <archive.h>
#include <archive_entry.h>
#include <magic.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "store/analyse/content.h"
#include "dissect/util.h"

/*
 * libmagic: a cookie is a one-thread object, so each hashing worker has
 * its own in its slot (struct slot), loaded on its first part; file(1)'s
 * database is mapped, so a cookie costs little beside it.  On mail of a
 * few kilobytes a message is typed two or three times and a call takes
 * a third of a millisecond: one cookie shared under a lock made the
 * workers queue for it.  The typer's own cookie, under its lock, serves
 * callers with no slot.
 */
struct cookie {
	magic_t	      m;
	int	      loaded, failed; /* failed: no database, no types */
	struct typed *cache;	      /* TYPE_CACHE answers, by their bytes */
};

/*
 * libmagic's answer is a function of the bytes it is given, and mail
 * gives it the same bytes again and again: an Office document's
 * [Content_Types].xml, _rels/.rels and docProps files, a logo in every
 * signature, a form letter's attachment.  In the mix of real mail half
 * the calls were such repeats (the text/xml of OOXML packages).  So a
 * cookie keeps its last answers by the SHA-256 of the bytes and their
 * length: a sender cannot make two different prefixes share a key, so
 * no type can be steered by another part's, and every type is the one
 * libmagic gives.
 */
#define TYPE_CACHE 256

struct typed {
	unsigned char key[32];
	size_t	      n;
	char	      type[96];
};

struct typer {
	pthread_mutex_t mu;
	struct cookie	c;
};

/* What a hashing worker keeps between jobs: its YARA scanner, its
 * libmagic cookie. */
struct slot {
	void	     *scanner;
	struct cookie c;
};

struct typer *
typer_new(void)
{
	struct typer *t = calloc(1, sizeof(*t));

	if (t != NULL)
		pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
typer_free(struct typer *t)
{
	if (t == NULL)
		return;
	if (t->c.m != NULL)
		magic_close(t->c.m);
	free(t->c.cache);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* libmagic's type of the n bytes at p, from c's cache or asked (and
 * kept); 0 when not known. */
static int
cached_type(struct cookie *c, const unsigned char *p, size_t n, char *out,
    size_t len)
{
	unsigned char key[32];
	unsigned int  klen = 0;
	struct typed *e = NULL;
	const char   *r;

	if (c->cache == NULL)
		c->cache = calloc(TYPE_CACHE, sizeof(*c->cache));
	if (c->cache != NULL &&
	    EVP_Digest(p, n, key, &klen, EVP_sha256(), NULL) == 1) {
		e = &c->cache[(key[0] | key[1] << 8) % TYPE_CACHE];
		if (e->n == n && e->type[0] != '\0' &&
		    memcmp(e->key, key, sizeof(key)) == 0) {
			snprintf(out, len, "%s", e->type);
			return 1;
		}
	}
	if ((r = magic_buffer(c->m, p, n)) == NULL)
		return 0;
	snprintf(out, len, "%s", r);
	if (e != NULL && strlen(r) < sizeof(e->type)) {
		memcpy(e->key, key, sizeof(key));
		e->n = n;
		snprintf(e->type, sizeof(e->type), "%s", r);
	}
	return 1;
}

/* The MIME type of the first bytes of p into out, by cookie c (loaded
 * on first use); 0 when not known. */
static int
cookie_type(struct cookie *c, const unsigned char *p, size_t n, char *out,
    size_t len)
{
	if (!c->loaded) {
		/* no decompression, no following of names: bytes only; the
		 * text tests that tell JSON, CSV and program text apart cost
		 * a third of each call and are all "text" to the findings */
		c->loaded = 1;
		c->m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS |
		    MAGIC_NO_CHECK_TOKENS | MAGIC_NO_CHECK_JSON |
		    MAGIC_NO_CHECK_CSV | MAGIC_ERROR);
		c->failed = c->m == NULL || magic_load(c->m, NULL) != 0;
	}
	if (c->failed)
		return 0;
	if (n > CONTENT_MAGIC_BYTES)
		n = CONTENT_MAGIC_BYTES;
	return cached_type(c, p, n, out, len);
}

/* The worker's slot, made on its first job; NULL: no memory. */
static struct slot *
slot_of(void **slot)
{
	if (slot != NULL && *slot == NULL)
		*slot = calloc(1, sizeof(struct slot));
	return slot != NULL ? *slot : NULL;
}

/* The type of the first bytes of p: with the worker's cookie, or the
 * typer's under its lock. */
static int
type_of(struct typer *t, void **slot, const unsigned char *p, size_t n,
    char *out, size_t len)
{
	struct slot *w;
	int	     rc;

	if (t == NULL || n == 0)
		return 0;
	if ((w = slot_of(slot)) != NULL)
		return cookie_type(&w->c, p, n, out, len);
	pthread_mutex_lock(&t->mu);
	rc = cookie_type(&t->c, p, n, out, len);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* A worker's slot: its YARA scanner (rules.h) and libmagic cookie. */
void
content_slot_free(void *slot)
{
	struct slot *w = slot;

	if (w == NULL)
		return;
	rules_scanner_free(w->scanner);
	if (w->c.m != NULL)
		magic_close(w->c.m);
	free(w->c.cache);
	free(w);
}

/* The job's rules over n bytes (entry: the archive file they are, or
 * 0), with the worker's scanner. */
static void
scan(struct content_job *j, void **slot, const unsigned char *p, size_t n,
    int all, int entry)
{
	struct slot *w;

	if (j->rules != NULL && (w = slot_of(slot)) != NULL)
		rules_scan(j->rules, &w->scanner, p, n, all, entry, &j->hits);
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

/* ------------------------------------------------------------ archives */

int
content_is_archive(const unsigned char *p, size_t n)
{
	static const struct {
		const char *sig;
		size_t	    len;
	} sigs[] = {
		{ "PK\3\4", 4 }, { "PK\5\6", 4 }, /* zip; an empty one */
		{ "7z\xbc\xaf\x27\x1c", 6 },	  /* 7-Zip */
		{ "Rar!\x1a\x07", 6 },		  /* RAR 4 and 5 */
		{ "\x1f\x8b", 2 }, { "BZh", 3 },  /* gzip, bzip2 */
		{ "\xfd"
		  "7zXZ\0",
		    6 },
		{ "MSCF", 4 }, /* xz, cabinet */
	};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (n >= sigs[i].len &&
		    memcmp(p, sigs[i].sig, sigs[i].len) == 0)
			return 1;
	return n >= 262 && memcmp(p + 257, "ustar", 5) == 0; /* tar */
}

static struct archive *
archive_of(const unsigned char *p, size_t n, const char *password)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		return NULL;
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	archive_read_support_format_raw(a); /* a lone .gz, .bz2, .xz */
	if ((password != NULL &&
		archive_read_add_passphrase(a, password) != ARCHIVE_OK) ||
	    archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* What a walk through an archive carries along. */
struct walk {
	struct content_job *j;
	void		  **slot;
	uint64_t	    budget; /* bytes left to decompress for this part */
};

/*
 * An entry's bytes: all hashed (up to CONTENT_INNER_MAX); the first kept
 * for libmagic, and all of them when they are an archive to open in turn.
 * 0 when read to the end; -1 on an error (encrypted without the right
 * password, damaged); ENTRY_OVER past the bounds (a bomb, or just too big).
 */
#define ENTRY_OVER (-2)

static int
entry_read(struct archive *a, struct walk *w, unsigned char **keep,
    size_t *nkeep, char sha[65])
{
	EVP_MD_CTX   *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	size_t	      cap = 0, total = 0;
	la_ssize_t    r;
	unsigned      mdn = 0;
	int	      rc = 0;

	*keep = NULL;
	*nkeep = 0;
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	while ((r = archive_read_data(a, buf, sizeof(buf))) > 0) {
		size_t k = (size_t)r;

		if (total + k > CONTENT_INNER_MAX || k > w->budget) {
			rc = ENTRY_OVER;
			break;
		}
		w->budget -= k;
		total += k;
		EVP_DigestUpdate(ctx, buf, k);
		if (*nkeep + k > cap &&
		    (*nkeep < CONTENT_MAGIC_BYTES || w->j->rules != NULL ||
			content_is_archive(*keep, *nkeep))) {
			unsigned char *b;

			cap = cap ? cap * 2 : 65536;
			while (cap < *nkeep + k)
				cap *= 2;
			if ((b = realloc(*keep, cap)) == NULL) {
				rc = -1;
				break;
			}
			*keep = b;
		}
		if (*nkeep + k <= cap) {
			memcpy(*keep + *nkeep, buf, k);
			*nkeep += k;
		}
	}
	if (r < 0 && rc == 0)
		rc = -1;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdn))
		md_hex_encode(md, mdn < 32 ? mdn : 32, sha);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void walk_archive(struct walk *, const unsigned char *, size_t,
    const char *prefix, int depth);

/*
 * One file of an archive: listed, typed, hashed, opened if an archive.
 * Returns -1 when it was not read to its end for the bounds: the walk
 * stops there, for libarchive would skip the rest of the entry by
 * decompressing all of it (10 GiB of zeros declared in 8 KB of bzip2).
 */
static int
walk_entry(struct walk *w, struct archive *a, struct archive_entry *e,
    const char *prefix, int depth)
{
	struct content_job   *j = w->j;
	struct content_entry *ce = &j->entries[j->nentries++];
	const char	     *name = archive_entry_pathname(e);
	unsigned char	     *data;
	size_t		      n;
	int		      rc;

	memset(ce, 0, sizeof(*ce));
	snprintf(ce->path, sizeof(ce->path), "%s%s%s", prefix,
	    prefix[0] ? "/" : "", name != NULL ? name : "?");
	ce->depth = depth;
	ce->size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	ce->encrypted = archive_entry_is_encrypted(e) != 0;
	if (ce->encrypted)
		j->findings |= CF_ENCRYPTED;
	if ((rc = entry_read(a, w, &data, &n, ce->sha256)) != 0)
		ce->sha256[0] = '\0';
	(void)type_of(j->typer, w->slot, data, n, ce->magic, sizeof(ce->magic));
	if (n > 0) /* cut where it could not be read to its end */
		scan(j, w->slot, data, n, ce->sha256[0] != '\0', j->nentries);
	if (ce->sha256[0] != '\0' && depth < CONTENT_DEPTH_MAX &&
	    content_is_archive(data, n))
		walk_archive(w, data, n, ce->path, depth + 1);
	free(data);
	if (rc == ENTRY_OVER)
		j->findings |= CF_ARCHIVE_LIMIT;
	return rc == ENTRY_OVER ? -1 : 0;
}

/*
 * What a directory or a link carries: nothing, unless the archive lies.
 * Read here under the same bounds rather than skipped by libarchive.
 */
static int
drain_entry(struct archive *a, uint64_t *budget)
{
	unsigned char buf[65536];
	la_ssize_t    r;
	uint64_t      total = 0;

	while ((r = archive_read_data(a, buf, sizeof(buf))) > 0) {
		total += (uint64_t)r;
		if (total > CONTENT_INNER_MAX || (uint64_t)r > *budget)
			return -1;
		*budget -= (uint64_t)r;
	}
	return 0;
}

static void
walk_archive(struct walk *w, const unsigned char *p, size_t n,
    const char *prefix, int depth)
{
	struct content_job   *j = w->j;
	struct archive	     *a;
	struct archive_entry *e;
	int		      r;

	if ((a = archive_of(p, n, j->password[0] ? j->password : NULL)) ==
	    NULL) {
		j->archive_error = 1;
		return;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		if (archive_entry_filetype(e) == AE_IFDIR) {
			if (drain_entry(a, &w->budget) != 0) {
				j->findings |= CF_ARCHIVE_LIMIT;
				break;
			}
			continue;
		}
		if (j->nentries == CONTENT_ENTRIES_MAX || w->budget == 0) {
			j->entries_over = 1;
			break;
		}
		if (walk_entry(w, a, e, prefix, depth) != 0)
			break;
	}
	if (r == ARCHIVE_FATAL)
		j->archive_error = 1;
	archive_read_free(a);
}

/*
 * Whether password opens the archive's first encrypted file: its first
 * CONTENT_INNER_MAX bytes read without an error (the check of a zip's
 * password comes before its data; a wrong one fails at once).
 */
static int
opens(const unsigned char *p, size_t n, const char *password)
{
	struct archive	     *a = archive_of(p, n, password);
	struct archive_entry *e;
	char		      buf[65536];
	la_ssize_t	      r = -1;
	uint64_t total = 0, budget = 4 * (uint64_t)CONTENT_ARCHIVE_MAX;

	if (a == NULL)
		return 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		if (archive_entry_is_encrypted(e)) {
			while (total <= CONTENT_INNER_MAX &&
			    (r = archive_read_data(a, buf, sizeof(buf))) > 0)
				total += (uint64_t)r;
			if (r > 0) /* as far as the bounds go, it opens */
				r = 0;
			break;
		}
		if (drain_entry(a, &budget) != 0)
			break;
	}
	archive_read_free(a);
	return r == 0;
}

/* WHATWG MIME Sniffing 7.1: the tags an HTML resource begins with. */
static int
html_start(const unsigned char *p, size_t n)
{
	static const char *const tags[] = { "<!DOCTYPE HTML", "<HTML", "<HEAD",
		"<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A",
		"<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--" };
	size_t			 i = 0;

	while (i < n &&
	    (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' ||
		p[i] == '\f'))
		i++;
	for (size_t k = 0; k < sizeof(tags) / sizeof(*tags); k++) {
		size_t l = strlen(tags[k]);

		/* the tag, then a space or ">" (the pattern's tag end) */
		if (n - i > l &&
		    strncasecmp((const char *)p + i, tags[k], l) == 0 &&
		    (p[i + l] == ' ' || p[i + l] == '>'))
			return 1;
	}
	return 0;
}

const char *
content_text_type(const unsigned char *p, size_t n)
{
	if (n > CONTENT_MAGIC_BYTES)
		n = CONTENT_MAGIC_BYTES;
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
			p[i] != '\r' && p[i] != '\f' && p[i] != 0x1b) ||
		    p[i] == 0x7f)
			return NULL;
	return html_start(p, n) ? "text/html" : "text/plain";
}

void
content_analyse(void *job, void **slot, const unsigned char *p, size_t n,
    int all)
{
	struct content_job *j = job;
	struct walk	    w = { j, slot, 4 * (uint64_t)CONTENT_ARCHIVE_MAX };
	const char	   *text;

	if (n == 0)
		return;
	if (j->start_lost) { /* what is typed would be a middle: no type */
		scan(j, slot, p, n, 0, 0);
		return;
	}
	/* a message's own text: libmagic's thousand rules would find text
	 * in it at some 0.2 ms a call, most of small mail's cost; only
	 * text that does not read as text goes to them */
	if (j->body_text && (text = content_text_type(p, n)) != NULL) {
		snprintf(j->magic, sizeof(j->magic), "%s", text);
		j->findings =
		    content_findings(j->magic, j->declared, j->filename);
	} else if (type_of(j->typer, slot, p, n, j->magic, sizeof(j->magic)))
		j->findings =
		    content_findings(j->magic, j->declared, j->filename);
	scan(j, slot, p, n, all, 0);
	if (!content_is_archive(p, n))
		return;
	if (!all) { /* past the bounds: not all its bytes are here */
		j->archive_error = 1;
		return;
	}
	if ((j->entries = calloc(CONTENT_ENTRIES_MAX, sizeof(*j->entries))) ==
	    NULL)
		return;
	walk_archive(&w, p, n, "", 1);
	if (!(j->findings & CF_ENCRYPTED))
		return;
	/* the words of the text that may open it, each tried */
	for (int i = 0; i < j->npasswords && j->password[0] == '\0'; i++)
		if (opens(p, n, j->passwords[i]))
			memcpy(j->password, j->passwords[i],
			    sizeof(j->password));
	if (j->password[0] != '\0') { /* again, to hash what it hides */
		j->nentries = 0;
		j->entries_over = j->archive_error = 0;
		w.budget = 4 * (uint64_t)CONTENT_ARCHIVE_MAX;
		walk_archive(&w, p, n, "", 1);
	}
}

static void
password_add(struct content_job *j, const char *p, size_t n)
{
	if (n == 0 || n >= sizeof(j->passwords[0]) ||
	    j->npasswords == CONTENT_PASSWORDS)
		return;
	memcpy(j->passwords[j->npasswords], p, n);
	j->passwords[j->npasswords++][n] = '\0';
}

/* Where one of the words for "password" begins at text + i, as a word:
 * its length, or 0. */
static size_t
password_word(const char *text, size_t n, size_t i)
{
	static const char *const keys[] = { "password", "passwort", "passwd",
		"kennwort", "mot de passe", "contraseña", "senha", "wachtwoord",
		"parola", "heslo", "pw", "pass" };

	if (i > 0 && isalpha((unsigned char)text[i - 1]))
		return 0;
	for (size_t q = 0; q < sizeof(keys) / sizeof(*keys); q++) {
		size_t l = strlen(keys[q]);

		if (n - i >= l && strncasecmp(text + i, keys[q], l) == 0 &&
		    (i + l == n || !isalpha((unsigned char)text[i + l])))
			return l;
	}
	return 0;
}

/* The words after "password" and its translations, as senders write
 * them ("Password: x", "the password is x", "Passwort - x"). */
void
content_passwords(struct content_job *j, const char *text, size_t n)
{
	size_t i = 0;

	while (i < n && j->npasswords < CONTENT_PASSWORDS) {
		size_t l = password_word(text, n, i), k, e;

		if (l == 0) {
			i++;
			continue;
		}
		k = i + l; /* over "is", ":", "-", quotes and spaces */
		while (k < n && strchr(" \t:=-\"'", text[k]) != NULL)
			k++;
		if (n - k >= 3 && strncasecmp(text + k, "is", 2) == 0 &&
		    (text[k + 2] == ' ' || text[k + 2] == ':'))
			for (k += 2;
			     k < n && strchr(" \t:\"'", text[k]) != NULL; k++)
				;
		for (e = k; e < n && !isspace((unsigned char)text[e]) &&
		     text[e] != '"' && text[e] != '\'';
		     e++)
			;
		password_add(j, text + k, e - k);
		/* and without what may be the sentence's full stop */
		while (e > k + 1 && strchr(".,;)", text[e - 1]) != NULL)
			password_add(j, text + k, --e - k);
		i = k > i + l ? k : i + l;
	}
}

void
content_scan_message(void *job, void **slot, const unsigned char *p, size_t n,
    int all)
{
	if (n > 0)
		scan(job, slot, p, n, all, 0);
}

void
content_job_free(struct content_job *j)
{
	if (j == NULL)
		return;
	free(j->entries);
	rule_hits_free(&j->hits);
	free(j);
}

const char *
content_findings_str(unsigned findings, char *buf, size_t len)
{
	static const char *const names[] = { "executable_disguised",
		"extension_mismatch", "type_mismatch", "encrypted_archive",
		"yara_budget", "archive_limit" };

	return md_flag_names(findings, names, sizeof(names) / sizeof(*names),
	    buf, len);
}
