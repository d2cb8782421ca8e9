/* \summary: hostile attachment file names made safe to write */
/*
 * What a name must never do: leave the folder (no "/" or "\" survives,
 * so no "..", no absolute path), name a device (CON, NUL, COM1, ...
 * which Windows opens whatever the folder), hide (leading dots), carry
 * control characters or the characters Windows refuses, or run longer
 * than SAFE_NAME_MAX bytes.  The real name stays in the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "store/safename.h"
#include "dissect/util.h"

static int
is_device(const char *s)
{
	static const char *const dev[] = { "CON", "PRN", "AUX", "NUL", NULL };
	const char		*dot = strchr(s, '.');
	size_t			 n = dot ? (size_t)(dot - s) : strlen(s);

	for (int i = 0; dev[i] != NULL; i++)
		if (n == 3 && strncasecmp(s, dev[i], 3) == 0)
			return 1;
	return n == 4 &&
	    (strncasecmp(s, "COM", 3) == 0 || strncasecmp(s, "LPT", 3) == 0) &&
	    s[3] >= '0' && s[3] <= '9';
}

/*
 * Code points a name shows nothing of, or that change how the rest is
 * shown: C1 controls, the bidi marks, embeddings, overrides and
 * isolates, zero-width characters, the line and paragraph separators,
 * the byte-order mark, the soft hyphen.
 */
static int
is_hidden(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xad || c == 0x61c ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff;
}

/* Cuts at most n bytes without splitting a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void
safe_name(const char *name, const char *fallback, char *out, size_t cap)
{
	char	    buf[4 * SAFE_NAME_MAX];
	const char *base = name, *ext;
	size_t	    o = 0, n, el;

	for (const char *p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (const char *p = base; *p != '\0' && o + 4 < sizeof(buf);) {
		unsigned char c = (unsigned char)*p;
		uint32_t      cp;
		size_t	      len =
		    md_utf8_len((const unsigned char *)p, strnlen(p, 4), &cp);

		if (len == 0) { /* not UTF-8: a byte shown as '_' */
			buf[o++] = '_';
			p++;
			continue;
		}
		if (len > 1) {
			if (!is_hidden(cp))
				memcpy(buf + o, p, len), o += len;
			p += len;
			continue;
		}
		p++;
		if (c < 0x20 || c == 0x7f)
			continue;
		buf[o++] = strchr("<>:\"|?*", c) != NULL ? '_' : (char)c;
	}
	buf[o] = '\0';
	n = o;
	while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	base = buf;
	while (*base == '.' || *base == ' ')
		base++, n--;
	if (n == 0) { /* the fallback ("part-2/1": a path) as one name */
		snprintf(out, cap, "%s", fallback);
		for (char *q = out; *q != '\0'; q++)
			if (*q == '/' || *q == '\\')
				*q = '.';
		return;
	}
	if (n > SAFE_NAME_MAX) { /* keep the extension, cut the stem */
		ext = strrchr(base, '.');
		el = ext && strlen(ext) <= 16 ? strlen(ext) : 0;
		n = utf8_cut(base, SAFE_NAME_MAX - el);
		snprintf(out, cap, "%s%.*s%s", is_device(base) ? "_" : "",
		    (int)n, base, el ? ext : "");
		return;
	}
	snprintf(out, cap, "%s%s", is_device(base) ? "_" : "", base);
}

/* name-N.ext: the Nth name tried when name is taken. */
void
safe_name_variant(const char *name, int n, char *out, size_t cap)
{
	const char *ext = strrchr(name, '.');
	size_t stem = ext && ext != name ? (size_t)(ext - name) : strlen(name);

	snprintf(out, cap, "%.*s-%d%s", (int)stem, name, n,
	    ext && ext != name ? ext : "");
}

FILE *
safe_create(const char *dir, const char *name, const char *fallback,
    char **pathp)
{
	char safe[SAFE_NAME_MAX + 8], try[SAFE_NAME_MAX + 24], full[4096];
	int  fd = -1;

	safe_name(name, fallback, safe, sizeof(safe));
	for (int n = 1; n < 1000 && fd < 0; n++) {
		if (n == 1)
			snprintf(try, sizeof(try), "%s", safe);
		else
			safe_name_variant(safe, n, try, sizeof(try));
		snprintf(full, sizeof(full), "%s/%s", dir, try);
		fd = open(full,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0 && errno != EEXIST)
			return NULL;
	}
	if (fd < 0)
		return NULL;
	if ((*pathp = strdup(full)) == NULL) {
		close(fd);
		return NULL;
	}
	return fdopen(fd, "wb");
}
