/* \summary: files inside TNEF (winmail.dat) attachments */
/*
 * [MS-OXTNEF] 2.1.3: a stream is a signature (0x223E9F78), a legacy key
 * (16 bits), then attributes, each:
 *
 *   level (8 bits: 1 message, 2 attachment), id (32: type << 16 | tag),
 *   length (32), data, checksum (16: the sum of the data bytes)
 *
 * all little-endian.  An attachment starts with attAttachRendData; its
 * bytes are attAttachData, its 8.3 name attAttachTitle, and its MAPI
 * properties (attAttachment, 2.1.3.5) hold the long file name
 * (PidTagAttachLongFilename) and MIME type (PidTagAttachMimeTag), which
 * come after the data.  Checksums are not checked: a sender that gets
 * them wrong still delivered the bytes.
 */
#include <string.h>

#include "dissect/tnef.h"

#define TNEF_SIGNATURE	     0x223e9f78u
#define ATT_LEVEL_ATTACHMENT 2
#define ATT_ATTACH_DATA	     0x0006800fu
#define ATT_ATTACH_TITLE     0x00018010u
#define ATT_ATTACH_REND_DATA 0x00069002u
#define ATT_ATTACHMENT	     0x00069005u

/* MAPI property types ([MS-OXCDATA] 2.11.1) and the tags we want */
#define PT_MV			0x1000
#define PT_STRING8		0x001e
#define PT_UNICODE		0x001f
#define PT_BINARY		0x0102
#define PT_OBJECT		0x000d
#define PR_ATTACH_LONG_FILENAME 0x3707
#define PR_ATTACH_MIME_TAG	0x370e
#define MAPI_PROPS_MAX		4096 /* properties read per attribute */

struct rd { /* a bounds-checked little-endian reader */
	const uint8_t *p;
	size_t	       n, off;
	int	       bad;
};

static uint32_t
rd_u(struct rd *r, size_t w)
{
	uint32_t v = 0;

	if (r->bad || r->n - r->off < w) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < w; i++)
		v |= (uint32_t)r->p[r->off + i] << (8 * i);
	r->off += w;
	return v;
}

/* Skips n bytes rounded up to 4, as MAPI values are padded. */
static const uint8_t *
rd_skip(struct rd *r, size_t n, size_t align)
{
	const uint8_t *at = r->p + r->off;
	size_t	       padded = align ? (n + align - 1) / align * align : n;

	if (r->bad || n > r->n - r->off || padded > r->n - r->off) {
		r->bad = 1;
		return NULL;
	}
	r->off += padded;
	return at;
}

int
tnef_is(const uint8_t *p, size_t n)
{
	return n >= 4 &&
	    (p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24) ==
	    TNEF_SIGNATURE;
}

/* An 8-bit string, to its NUL, into out (cut). */
static void
copy_str8(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k] != '\0' && k < cap - 1)
		k++;
	memcpy(out, p, k);
	out[k] = '\0';
}

/* A UTF-16LE string, to its NUL, as UTF-8 into out (cut whole). */
static void
copy_utf16(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = (uint32_t)(p[i] | p[i + 1] << 8);
		uint8_t	 u[4];
		size_t	 k;

		if (c == 0)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n) {
			uint32_t lo = (uint32_t)(p[i + 2] | p[i + 3] << 8);

			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 2;
			}
		}
		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd; /* a lone surrogate */
		if (c < 0x80)
			u[0] = (uint8_t)c, k = 1;
		else if (c < 0x800)
			u[0] = (uint8_t)(0xc0 | c >> 6),
			u[1] = (uint8_t)(0x80 | (c & 0x3f)), k = 2;
		else if (c < 0x10000)
			u[0] = (uint8_t)(0xe0 | c >> 12),
			u[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f)),
			u[2] = (uint8_t)(0x80 | (c & 0x3f)), k = 3;
		else
			u[0] = (uint8_t)(0xf0 | c >> 18),
			u[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f)),
			u[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f)),
			u[3] = (uint8_t)(0x80 | (c & 0x3f)), k = 4;
		if (o + k >= cap)
			break;
		memcpy(out + o, u, k);
		o += k;
	}
	out[o] = '\0';
}

static size_t
fixed_size(uint16_t type)
{
	switch (type) {
	case 0x0002:
	case 0x0003:
	case 0x0004:
	case 0x000a:
	case 0x000b:
		return 4;
	case 0x0005:
	case 0x0006:
	case 0x0007:
	case 0x0014:
	case 0x0040:
		return 8;
	case 0x0048:
		return 16;
	default:
		return 0;
	}
}

/* One property value of a variable-length type: a length, the bytes. */
static const uint8_t *
var_value(struct rd *r, uint16_t type, size_t *len)
{
	(void)type; /* an object's length counts its interface id too */
	*len = rd_u(r, 4);
	return rd_skip(r, *len, 4);
}

static void
take_name(struct tnef_file *f, uint16_t type, uint16_t tag, const uint8_t *v,
    size_t len)
{
	char  *out = tag == PR_ATTACH_LONG_FILENAME ? f->name : f->mime;
	size_t cap =
	    tag == PR_ATTACH_LONG_FILENAME ? sizeof(f->name) : sizeof(f->mime);

	if (tag != PR_ATTACH_LONG_FILENAME && tag != PR_ATTACH_MIME_TAG)
		return;
	if (type == PT_UNICODE)
		copy_utf16(out, cap, v, len);
	else if (type == PT_STRING8)
		copy_str8(out, cap, v, len);
}

/* [MS-OXTNEF] 2.1.3.4: a count, then (type, tag[, name], values). */
static int
mapi_props(struct tnef_file *f, const uint8_t *p, size_t n)
{
	struct rd r = { p, n, 0, 0 };
	uint32_t  count = rd_u(&r, 4);

	for (uint32_t i = 0; i < count && i < MAPI_PROPS_MAX && !r.bad; i++) {
		uint16_t type = (uint16_t)rd_u(&r, 2);
		uint16_t tag = (uint16_t)rd_u(&r, 2);
		uint16_t base = type & ~PT_MV;
		uint32_t values = 1;

		if (tag >= 0x8000) { /* named: a GUID, then an id or a name */
			(void)rd_skip(&r, 16, 0);
			if (rd_u(&r, 4) == 0)
				(void)rd_u(&r, 4);
			else
				(void)rd_skip(&r, rd_u(&r, 4), 4);
		}
		if ((type & PT_MV) || base == PT_STRING8 ||
		    base == PT_UNICODE || base == PT_BINARY ||
		    base == PT_OBJECT)
			values = rd_u(&r, 4);
		for (uint32_t v = 0; v < values && !r.bad; v++) {
			size_t	       len = fixed_size(base);
			const uint8_t *at;

			if (len != 0) {
				(void)rd_skip(&r, len, 4);
				continue;
			}
			if (base != PT_STRING8 && base != PT_UNICODE &&
			    base != PT_BINARY && base != PT_OBJECT)
				return -1; /* unknown type: its size too */
			if ((at = var_value(&r, base, &len)) != NULL && v == 0)
				take_name(f, base, tag, at, len);
		}
	}
	return r.bad ? -1 : 0;
}

struct walk {
	struct tnef_file   cur;
	int		   open;
	struct tnef_result res;
	void (*file)(void *, const struct tnef_file *);
	void *arg;
};

static void
flush(struct walk *w)
{
	if (w->open && w->res.files < TNEF_FILES_MAX &&
	    (w->cur.data != NULL || w->cur.name[0] != '\0')) {
		w->res.files++;
		w->file(w->arg, &w->cur);
	}
	memset(&w->cur, 0, sizeof(w->cur));
	w->open = 0;
}

static void
attribute(struct walk *w, uint32_t id, const uint8_t *d, size_t len)
{
	switch (id) {
	case ATT_ATTACH_REND_DATA:
		flush(w);
		w->open = 1;
		break;
	case ATT_ATTACH_TITLE:
		if (w->cur.name[0] == '\0')
			copy_str8(w->cur.name, sizeof(w->cur.name), d, len);
		break;
	case ATT_ATTACH_DATA:
		w->cur.data = d;
		w->cur.len = len;
		break;
	case ATT_ATTACHMENT: {
		char title[sizeof(w->cur.name)];

		/* the long name replaces the 8.3 title, if there is one */
		memcpy(title, w->cur.name, sizeof(title));
		w->cur.name[0] = '\0';
		if (mapi_props(&w->cur, d, len) < 0)
			w->res.malformed = 1;
		if (w->cur.name[0] == '\0')
			memcpy(w->cur.name, title, sizeof(title));
		break;
	}
	}
}

struct tnef_result
tnef_walk(const uint8_t *p, size_t			  n,
    void (*file)(void *, const struct tnef_file *), void *arg)
{
	struct walk w = { .file = file, .arg = arg };
	struct rd   r = { p, n, 0, 0 };

	if (!tnef_is(p, n)) {
		w.res.malformed = 1;
		return w.res;
	}
	r.off = n < 6 ? n : 6; /* signature, legacy key */
	while (r.off < r.n && !r.bad) {
		uint8_t	       level = (uint8_t)rd_u(&r, 1);
		uint32_t       id = rd_u(&r, 4);
		uint32_t       len = rd_u(&r, 4);
		const uint8_t *d = rd_skip(&r, len, 0);

		(void)rd_u(&r, 2); /* checksum */
		if (r.bad)
			break;
		if (level == ATT_LEVEL_ATTACHMENT)
			attribute(&w, id, d, len);
	}
	if (r.bad) {
		w.res.malformed = 1;
		/* a file whose data arrived whole is still reported */
	}
	w.open = w.open && w.cur.data != NULL;
	flush(&w);
	return w.res;
}
