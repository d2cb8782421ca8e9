/* \summary: streaming MIME parser, as a tap on the dissectors' message events */
/*
 * RFC 5322 (message format), RFC 2045-2049 (MIME), RFC 2047 (encoded
 * words), RFC 2231 (parameter continuations and charsets), RFC 2183
 * (Content-Disposition), RFC 3501 6.4.5 (part numbering).
 *
 * Messages arrive in pieces of any size, from any protocol, several at a
 * time; nothing is held whole.  Header lines are assembled (capped);
 * body lines are not: only the first bytes of each line are kept, enough
 * to tell a boundary delimiter, and the rest streams through the
 * transfer decoder into PART_DATA events.  The line break before a
 * delimiter belongs to the delimiter (RFC 2046 5.1.1), so each break is
 * held back until the next line shows it is not one.
 *
 * Why not GMime: its parser pulls from a stream and builds the message
 * tree in memory, so a message would have to be held (or spooled) whole
 * before parsing, where mailsift's dissectors push bytes as they come and
 * keep memory bounded whatever the message size.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dissect/common.h"
#include "dissect/dissect.h"
#include "dissect/util.h"
#include "dissect/mime.h"
#include "dissect/urls.h"
#include "dissect/txtable.h"
#include "dissect/mimehdr.h"
#include "dissect/tnef.h"
#include "dissect/uu.h"

#define HEAD_MAX     100 /* "--" boundary(70) "--" and padding */
#define PATH_MAX_LEN 64
#define OUT_CHUNK    4096 /* decoded bytes per PART_DATA event */
#define TEXT_CHUNK   2048 /* text bytes per TEXT event */
#define BUF_FIRST    256  /* header buffers start here and grow */
/*
 * Text the store holds for the search index until each message ends, for
 * all open messages together: 10,000 open messages must not hold their
 * 1 MiB each.  Past it, text of open messages is dropped, with an anomaly.
 */
#define TEXT_HELD_MAX (32u << 20)
#define CONT_LAG      256 /* > a delimiter line and its CRLF (HEAD_MAX + 2) */
/*
 * A TNEF part is held whole until it ends (its files' long names follow
 * their data): at most TNEF_PART_MAX each, TNEF_HELD_MAX for all open
 * messages together; past either, its files are not listed (anomaly).
 */
#define TNEF_PART_MAX (32u << 20)
#define TNEF_HELD_MAX (64u << 20)

enum mstate { M_HEADER, M_BODY, M_SKIP };
enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UU };

struct level { /* an open multipart */
	char	 boundary[72];
	uint8_t	 blen;
	char	 path[PATH_MAX_LEN];
	uint16_t nchild;
};

struct entity { /* what the current entity's header said */
	char ctype[96];
	char charset[40];
	char cte[24];
	char filename[256];
	char boundary[72];
	int  disp;
};

struct html {
	int  in_tag, name_done, skip, tag_len, ent_len, in_ent;
	char tag[12], ent[12];
};

struct mmsg {
	struct md_txnode      node; /* first: its place in the tap's table */
	const struct md_flow *flow;
	enum md_dir	      dir;
	uint64_t	      ts;
	struct mime_tap	     *tap;
	int		      partial; /* a part of a message (TOP, BODY[1]) */

	enum mstate  st;
	int	     top;  /* in the message's own header */
	int	     root; /* entity is a message root */
	char	     base[PATH_MAX_LEN];
	char	     path[PATH_MAX_LEN];
	struct level lv[MD_MIME_DEPTH_MAX];
	int	     depth, rfc822_depth;

	uint8_t *line; /* header line, or head of a body line */
	size_t	 llen, lcap;
	int	 midline, held_cr, header_over_said;
	uint8_t	 held[2];
	size_t	 nheld;

	uint8_t	     *field; /* header field being unfolded */
	size_t	      flen, fcap;
	int	      fover;
	uint32_t      nfields;
	struct entity eh;

	int	 in_part;
	uint32_t partno, nparts;
	uint64_t enc_bytes, dec_bytes;
	enum cte cte;
	uint8_t	 b64q[4];
	int	 b64n, bad_b64_said, bad_qp_said;
	int	 qp;
	uint8_t	 qp_hex;
	uint8_t	 out[OUT_CHUNK];
	size_t	 outn;

	int  text, html_on;
	char leaf[PATH_MAX_LEN]; /* the part's path */

	/*
	 * Files inside the current part: uuencoded blocks in its text (or
	 * the whole part, x-uuencode), TNEF's attachments.  Each is a part
	 * of its own, path "leaf/n", told between the part's own events.
	 */
	int		 uu_on; /* scan the text for blocks */
	struct uu_scan	 uu;
	uint32_t	 file_no, nfiles; /* the open file's part number */
	uint64_t	 file_bytes;
	int		 tnef_on;
	uint8_t		*tnef;
	size_t		 tnef_len, tnef_cap;
	struct html	 html;
	struct url_scan *urls; /* links in the text part at hand */
	uint32_t	 nurls;
	int		 urls_over_said;
	iconv_t		 cd;
	uint8_t		 carry[8];
	size_t		 ncarry;
	char		 tbuf[TEXT_CHUNK];
	size_t		 tlen;
	uint64_t	 text_total;
	int		 text_over_said;

	/*
	 * A message/rfc822 part (a forwarded message): its raw bytes go out
	 * as its own PART_DATA while its content is parsed into parts, so
	 * that it is hashed and extracted as the .eml it is.  They lag
	 * CONT_LAG bytes behind the parser, so that the CRLF and delimiter
	 * line that end it, found only once read, are never sent.  Offsets
	 * count the message's raw bytes; one container at a time (the
	 * outermost).
	 */
	uint64_t raw_pos;	  /* raw bytes the parser has taken */
	uint64_t step_base;	  /* raw offset of the current step */
	uint64_t line_end;	  /* raw offset after the line at hand */
	uint64_t delim_start;	  /* where a delimiter's CRLF began */
	uint32_t cont_no;	  /* the container's part; 0: none */
	int	 begin_container; /* PART_BEGIN says so */
	int	 cont_depth, cont_ended;
	uint64_t cont_end, cont_sent, cont_bytes, lag_start;
	size_t	 lag_len;
	uint8_t	 lag[CONT_LAG];
};

struct mime_tap {
	struct md_sink	  next;
	struct md_txtable msgs;	     /* of struct mmsg */
	uint64_t	  text_held; /* text of open messages: TEXT_HELD_MAX */
	uint64_t	  tnef_held; /* TNEF parts held: TNEF_HELD_MAX */
};

/*
 * Makes *b hold at least need bytes (need <= max), doubling from
 * BUF_FIRST: most header lines are short, and thousands of messages can
 * be open at once.  Returns 0, or -1 when memory ran out (*b unchanged).
 */
static int
buf_grow(uint8_t **b, size_t *cap, size_t need, size_t max)
{
	size_t	 want = *cap ? *cap : BUF_FIRST;
	uint8_t *nb;

	if (need <= *cap)
		return 0;
	while (want < need)
		want *= 2;
	if (want > max)
		want = max;
	if ((nb = realloc(*b, want)) == NULL)
		return -1;
	*b = nb;
	*cap = want;
	return 0;
}

static size_t body_bytes(struct mmsg *, const uint8_t *, size_t);
static void   out_bytes(struct mmsg *, const uint8_t *, size_t);

/* --------------------------------------------------------------- events */

static void
m_emit(struct mmsg *m, struct md_event *ev)
{
	ev->flow = m->flow;
	ev->ts_us = m->ts;
	ev->tx = m->node.tx;
	if (ev->type != MD_EV_ANOMALY)
		ev->dir = m->dir;
	m->tap->next.emit(m->tap->next.arg, ev);
}

static void
m_anomaly(struct mmsg *m, const char *code, const char *detail)
{
	struct md_event ev = { .type = MD_EV_ANOMALY, .dir = m->dir };

	ev.name = md_bytes_str(code);
	ev.arg = md_bytes_str(detail);
	m_emit(m, &ev);
}

/* ----------------------------------------------------------------- text */

static void
text_flush(struct mmsg *m)
{
	struct md_event ev = { .type = MD_EV_TEXT };

	if (m->tlen == 0)
		return;
	ev.arg = md_bytes_of(m->tbuf, m->tlen);
	m_emit(m, &ev);
	m->tlen = 0;
}

static void
text_put(struct mmsg *m, const char *p, size_t n)
{
	while (n > 0 && m->text_total < MD_MIME_TEXT_MAX) {
		size_t k = sizeof(m->tbuf) - m->tlen;

		if (k > n)
			k = n;
		if (k > MD_MIME_TEXT_MAX - m->text_total)
			k = (size_t)(MD_MIME_TEXT_MAX - m->text_total);
		if (m->tap->text_held + k > TEXT_HELD_MAX) {
			if (!m->text_over_said)
				m_anomaly(m, MD_ANOM_MIME_TEXT_BUDGET, "");
			m->text_over_said = 1;
			return;
		}
		m->tap->text_held += k;
		memcpy(m->tbuf + m->tlen, p, k);
		m->tlen += k;
		m->text_total += k;
		p += k;
		n -= k;
		if (m->tlen == sizeof(m->tbuf))
			text_flush(m);
	}
}

/* A character reference or the few named entities that matter for text. */
static void
html_entity(struct mmsg *m, const char *e, size_t n)
{
	char   u[4];
	size_t k = md_html_entity(e, n, u);

	if (k > 0)
		text_put(m, u, k);
}

/* A tag just closed: script and style hide their content; block tags
 * break lines. */
static void
html_tag(struct mmsg *m)
{
	struct html *h = &m->html;
	const char  *t = h->tag;

	if (strcmp(t, "script") == 0 || strcmp(t, "style") == 0)
		h->skip = 1;
	else if (strcmp(t, "/script") == 0 || strcmp(t, "/style") == 0)
		h->skip = 0;
	else if (strcmp(t, "br") == 0 || strcmp(t, "p") == 0 ||
	    strcmp(t, "/p") == 0 || strcmp(t, "div") == 0 ||
	    strcmp(t, "/div") == 0 || strcmp(t, "tr") == 0 ||
	    strcmp(t, "li") == 0)
		text_put(m, "\n", 1);
}

/* HTML to text (tags out, entities in), one byte at a time. */
static void
html_text(struct mmsg *m, const char *p, size_t n)
{
	struct html *h = &m->html;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (h->in_tag) {
			if (c == '>') {
				h->tag[h->tag_len] = '\0';
				html_tag(m);
				h->in_tag = 0;
			} else if (c == ' ' || c == '\t' || c == '\n' ||
			    c == '\r' || (c == '/' && h->tag_len > 0))
				h->name_done = 1;
			else if (!h->name_done &&
			    (size_t)h->tag_len + 1 < sizeof(h->tag))
				h->tag[h->tag_len++] =
				    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			continue;
		}
		if (c == '<') {
			h->in_tag = 1;
			h->name_done = 0;
			h->tag_len = 0;
			continue;
		}
		if (h->skip)
			continue;
		if (h->in_ent) {
			if (c == ';' ||
			    (size_t)h->ent_len + 1 >= sizeof(h->ent)) {
				html_entity(m, h->ent, (size_t)h->ent_len);
				h->in_ent = 0;
			} else
				h->ent[h->ent_len++] = c;
			continue;
		}
		if (c == '&') {
			h->in_ent = 1;
			h->ent_len = 0;
			continue;
		}
		text_put(m, &c, 1);
	}
}

/* Text for the index (up to its budget) and for links (all of it). */
static void
text_utf8(struct mmsg *m, const char *p, size_t n)
{
	if (m->urls != NULL)
		url_scan_feed(m->urls, p, n);
	if (m->text_total >= MD_MIME_TEXT_MAX)
		return;
	if (m->html_on)
		html_text(m, p, n);
	else
		text_put(m, p, n);
}

/* A link in the text: URL event, up to MD_MIME_URLS_MAX a message. */
static void
url_found(void *arg, const struct url_found *f)
{
	struct mmsg    *m = arg;
	struct md_event ev = { .type = MD_EV_URL };

	if (m->nurls >= MD_MIME_URLS_MAX) {
		if (!m->urls_over_said)
			m_anomaly(m, MD_ANOM_MIME_URLS, "");
		m->urls_over_said = 1;
		return;
	}
	m->nurls++;
	ev.num[0] = m->partno;
	ev.num[1] = (uint64_t)f->truncated;
	ev.code = (int)f->findings;
	ev.name = md_bytes_of(f->url, f->len);
	ev.arg = md_bytes_str(f->host);
	ev.extra = md_bytes_str(f->shown);
	ev.aux = md_bytes_str(f->mailto ? "mailto" : f->kind);
	m_emit(m, &ev);
}

static void
urls_end(struct mmsg *m)
{
	if (m->urls == NULL)
		return;
	url_scan_finish(m->urls);
	free(m->urls);
	m->urls = NULL;
}

/*
 * Decoded text of a text part, converted to UTF-8 on the way.  An
 * incomplete multibyte sequence at the end of a chunk waits for the next.
 */
static void
text_bytes(struct mmsg *m, const uint8_t *p, size_t n)
{
	char   out[2 * OUT_CHUNK + 64], in[OUT_CHUNK + sizeof(m->carry)];
	char  *ip = in, *op;
	size_t il, ol;

	if (m->text_total >= MD_MIME_TEXT_MAX && m->urls == NULL)
		return;
	if (m->cd == (iconv_t)-1) {
		text_utf8(m, (const char *)p, n);
		return;
	}
	while (n > 0) {
		size_t k = n < OUT_CHUNK ? n : OUT_CHUNK;

		memcpy(in, m->carry, m->ncarry);
		memcpy(in + m->ncarry, p, k);
		il = m->ncarry + k;
		m->ncarry = 0;
		ip = in;
		op = out;
		ol = sizeof(out);
		while (
		    il > 0 && iconv(m->cd, &ip, &il, &op, &ol) == (size_t)-1) {
			if (errno == EINVAL && il < sizeof(m->carry)) {
				memcpy(m->carry, ip, il);
				m->ncarry = il;
				break;
			}
			if (errno == E2BIG || ol < 3)
				break;
			memcpy(op, "\xef\xbf\xbd", 3); /* EILSEQ: one byte */
			op += 3;
			ol -= 3;
			ip++;
			il--;
		}
		text_utf8(m, out, (size_t)(op - out));
		p += k;
		n -= k;
	}
}

/* base sep n (or n alone at the top): "2" "." 1 is part 2.1, "1" "/" 2
 * the second file inside part 1; cut, never overflowing, when a hostile
 * nesting makes it long. */
static void
path_join(char out[PATH_MAX_LEN], const char *base, char sep, unsigned n)
{
	char tmp[PATH_MAX_LEN + 16];
	int  l = base[0] ? snprintf(tmp, sizeof(tmp), "%s%c%u", base, sep, n) :
			   snprintf(tmp, sizeof(tmp), "%u", n);
	size_t k = l < 0 ? 0 : (size_t)l;

	if (k >= PATH_MAX_LEN)
		k = PATH_MAX_LEN - 1;
	memcpy(out, tmp, k);
	out[k] = '\0';
}

/* ------------------------------------------------ files inside a part */

/* A file found inside the open part begins: a part of its own. */
static void
file_begin(struct mmsg *m, const char *name, const char *ctype, const char *cte)
{
	struct md_event ev = { .type = MD_EV_PART_BEGIN };
	char		path[PATH_MAX_LEN];

	m->file_no = 0;
	m->file_bytes = 0;
	if (m->nparts >= MD_MIME_PARTS_MAX) {
		if (m->nparts++ == MD_MIME_PARTS_MAX)
			m_anomaly(m, MD_ANOM_MIME_PARTS, m->leaf);
		return;
	}
	m->file_no = ++m->nparts;
	path_join(path, m->leaf, '/', ++m->nfiles);
	ev.num[0] = m->file_no;
	ev.num[1] = MD_PART_FILE;
	ev.name = md_bytes_str(path);
	ev.arg = md_bytes_str(ctype[0] ? ctype : "application/octet-stream");
	ev.extra = md_bytes_str(name);
	ev.proof = md_bytes_str(cte);
	ev.code = MD_DISP_ATTACHMENT;
	m_emit(m, &ev);
}

static void
file_data(struct mmsg *m, const uint8_t *p, size_t n)
{
	struct md_event ev = { .type = MD_EV_PART_DATA };

	m->file_bytes += n;
	if (m->file_no == 0 || n == 0)
		return;
	ev.num[0] = m->file_no;
	ev.arg = md_bytes_of(p, n);
	m_emit(m, &ev);
}

static void
file_end(struct mmsg *m, uint64_t encoded, int complete)
{
	struct md_event ev = { .type = MD_EV_PART_END };

	if (m->file_no == 0)
		return;
	ev.num[0] = m->file_no;
	ev.num[1] = encoded;
	ev.num[2] = m->file_bytes;
	ev.code = complete;
	m_emit(m, &ev);
	m->file_no = 0;
}

/* uuencoded blocks in text: a file each, kept out of the text index */
static void
uu_text(void *arg, const uint8_t *p, size_t n)
{
	struct mmsg *m = arg;

	if (m->text)
		text_bytes(m, p, n);
}

static void
uu_begin(void *arg, const char *name)
{
	file_begin(arg, name, "", "x-uuencode");
}

static void
uu_data(void *arg, const uint8_t *p, size_t n)
{
	file_data(arg, p, n);
}

static void
uu_end(void *arg, int complete)
{
	struct mmsg *m = arg;

	file_end(m, m->uu.raw, complete);
}

/* a part sent as x-uuencode: its file is the part's content */
static void
uu_part_data(void *arg, const uint8_t *p, size_t n)
{
	out_bytes(arg, p, n);
}

static void
uu_part_mark(void *arg, int complete)
{
	(void)arg, (void)complete;
}

static void
uu_part_begin(void *arg, const char *name)
{
	(void)arg, (void)name;
}

static const struct uu_cb *
uu_cb_of(struct mmsg *m, struct uu_cb *cb, int in_text)
{
	if (in_text)
		*cb = (struct uu_cb) { uu_text, uu_begin, uu_data, uu_end, m };
	else
		*cb = (struct uu_cb) { NULL, uu_part_begin, uu_part_data,
			uu_part_mark, m };
	return cb;
}

static int
is_tnef(const struct entity *e)
{
	return strcmp(e->ctype, "application/ms-tnef") == 0 ||
	    strcmp(e->ctype, "application/vnd.ms-tnef") == 0 ||
	    strcasecmp(e->filename, "winmail.dat") == 0;
}

static void
tnef_drop(struct mmsg *m)
{
	m->tap->tnef_held -= m->tnef_cap;
	free(m->tnef);
	m->tnef = NULL;
	m->tnef_len = m->tnef_cap = 0;
	m->tnef_on = 0;
}

/* Holds a TNEF part's decoded bytes until it ends, within the caps. */
static void
tnef_keep(struct mmsg *m, const uint8_t *p, size_t n)
{
	if (m->tnef_len + n > m->tnef_cap) {
		size_t	 cap = m->tnef_cap ? m->tnef_cap : 65536;
		uint8_t *nb;

		while (cap < m->tnef_len + n)
			cap *= 2;
		if (cap > TNEF_PART_MAX)
			cap = TNEF_PART_MAX;
		if (m->tnef_len + n > cap ||
		    m->tap->tnef_held - m->tnef_cap + cap > TNEF_HELD_MAX ||
		    (nb = realloc(m->tnef, cap)) == NULL) {
			m_anomaly(m, MD_ANOM_TNEF_BUDGET, m->leaf);
			tnef_drop(m);
			return;
		}
		m->tap->tnef_held += cap - m->tnef_cap;
		m->tnef = nb;
		m->tnef_cap = cap;
	}
	memcpy(m->tnef + m->tnef_len, p, n);
	m->tnef_len += n;
}

static void
tnef_file(void *arg, const struct tnef_file *f)
{
	struct mmsg *m = arg;

	file_begin(m, f->name, f->mime, "");
	for (size_t o = 0; o < f->len; o += OUT_CHUNK)
		file_data(m, f->data + o,
		    f->len - o < OUT_CHUNK ? f->len - o : OUT_CHUNK);
	file_end(m, f->len, 1);
}

/* The TNEF part ended: its files are told, then it is let go. */
static void
tnef_files(struct mmsg *m, int complete)
{
	struct tnef_result r;

	if (!m->tnef_on)
		return;
	r = tnef_walk(m->tnef, m->tnef_len, tnef_file, m);
	if (r.malformed && complete)
		m_anomaly(m, MD_ANOM_TNEF_MALFORMED, m->leaf);
	tnef_drop(m);
}

/* ---------------------------------------------------------------- parts */

static void
out_flush(struct mmsg *m)
{
	struct md_event ev = { .type = MD_EV_PART_DATA };

	if (m->outn == 0)
		return;
	if (m->partno > 0) {
		ev.num[0] = m->partno;
		ev.arg = md_bytes_of(m->out, m->outn);
		m_emit(m, &ev);
	}
	if (m->tnef_on)
		tnef_keep(m, m->out, m->outn);
	if (m->uu_on) {
		struct uu_cb cb;

		uu_feed(&m->uu, m->out, m->outn, uu_cb_of(m, &cb, 1));
	} else if (m->text)
		text_bytes(m, m->out, m->outn);
	m->outn = 0;
}

static void
out_byte(struct mmsg *m, uint8_t c)
{
	m->out[m->outn++] = c;
	m->dec_bytes++;
	if (m->outn == sizeof(m->out))
		out_flush(m);
}

/* Decoded bytes, as many as come, through the output buffer. */
static void
out_bytes(struct mmsg *m, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(m->out) - m->outn;

		if (k == 0) {
			out_flush(m);
			continue;
		}
		k = k < n ? k : n;
		memcpy(m->out + m->outn, p, k);
		m->outn += k;
		m->dec_bytes += k;
		p += k;
		n -= k;
	}
}

/* Room for at least n more decoded bytes in the output buffer. */
static void
out_room(struct mmsg *m, size_t n)
{
	if (m->outn + n > sizeof(m->out))
		out_flush(m);
}

static void
b64_quantum_end(struct mmsg *m)
{
	out_room(m, 2);
	if (m->b64n >= 2)
		m->out[m->outn++] =
		    (uint8_t)(m->b64q[0] << 2 | m->b64q[1] >> 4);
	if (m->b64n == 3)
		m->out[m->outn++] =
		    (uint8_t)(m->b64q[1] << 4 | m->b64q[2] >> 2);
	m->dec_bytes += m->b64n >= 2 ? (size_t)m->b64n - 1 : 0;
	m->b64n = 0;
}

/*
 * RFC 2045 6.8: white space is ignored, "=" ends the data, anything else
 * outside the alphabet is an error worth saying once.  Runs of whole
 * quanta go through md_b64_run; the rest a digit at a time.
 */
static void
decode_base64(struct mmsg *m, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int v;

		if (m->b64n == 0 && i + 4 <= n) {
			size_t made, used;

			out_room(m, 3);
			used = md_b64_run(p + i, n - i, m->out + m->outn,
			    sizeof(m->out) - m->outn, &made);
			m->outn += made;
			m->dec_bytes += made;
			i += used;
			if (used > 0)
				continue;
		}
		v = md_b64_digit[p[i++]];
		if (v >= 0) {
			m->b64q[m->b64n++] = (uint8_t)v;
			if (m->b64n == 4) {
				out_room(m, 3);
				m->out[m->outn++] = (uint8_t)(m->b64q[0] << 2 |
				    m->b64q[1] >> 4);
				m->out[m->outn++] = (uint8_t)(m->b64q[1] << 4 |
				    m->b64q[2] >> 2);
				m->out[m->outn++] =
				    (uint8_t)(m->b64q[2] << 6 | m->b64q[3]);
				m->dec_bytes += 3;
				m->b64n = 0;
			}
		} else if (v == MD_B64_PAD)
			b64_quantum_end(m);
		else if (v == -1 && !m->bad_b64_said) {
			m->bad_b64_said = 1;
			m_anomaly(m, MD_ANOM_MIME_BASE64, "");
		}
	}
}

static void
bad_qp(struct mmsg *m)
{
	if (!m->bad_qp_said) {
		m->bad_qp_said = 1;
		m_anomaly(m, MD_ANOM_MIME_QP, "");
	}
}

/* RFC 2045 6.7: "=XX" octets and "=" CRLF soft line breaks. */
static void
decode_qp(struct mmsg *m, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (m->qp) {
		case 0:
			if (c == '=')
				m->qp = 1;
			else
				out_byte(m, c);
			break;
		case 1: /* after "=" */
			if (md_hex_value(c) >= 0) {
				m->qp_hex = c;
				m->qp = 2;
			} else if (c == '\r')
				m->qp = 3;
			else if (c == '\n')
				m->qp = 0;
			else if (c != ' ' && c != '\t') {
				bad_qp(m);
				out_byte(m, '=');
				out_byte(m, c);
				m->qp = 0;
			}
			break;
		case 2: /* after "=X" */
			if (md_hex_value(c) >= 0)
				out_byte(m,
				    (uint8_t)(md_hex_value(m->qp_hex) << 4 |
					md_hex_value(c)));
			else {
				bad_qp(m);
				out_byte(m, '=');
				out_byte(m, m->qp_hex);
				out_byte(m, c);
			}
			m->qp = 0;
			break;
		case 3: /* after "=\r" */
			if (c != '\n') {
				bad_qp(m);
				out_byte(m, c);
			}
			m->qp = 0;
			break;
		}
	}
}

/* Part content as sent: decoded by its transfer encoding. */
static void
part_bytes(struct mmsg *m, const uint8_t *p, size_t n)
{
	if (!m->in_part || n == 0)
		return;
	m->enc_bytes += n;
	switch (m->cte) {
	case CTE_BASE64:
		decode_base64(m, p, n);
		break;
	case CTE_QP:
		decode_qp(m, p, n);
		break;
	case CTE_UU: {
		struct uu_cb cb;

		uu_feed(&m->uu, p, n, uu_cb_of(m, &cb, 0));
		break;
	}
	case CTE_IDENTITY:
		out_bytes(m, p, n);
		break;
	}
}

static int
ci_starts(const char *s, const char *prefix)
{
	return md_ci_prefix((const uint8_t *)s, strlen(s), prefix);
}

/* RFC 1341's draft name and what mailers actually write */
static int
is_uu_cte(const char *cte)
{
	return strcasecmp(cte, "x-uuencode") == 0 ||
	    strcasecmp(cte, "uuencode") == 0 || strcasecmp(cte, "x-uue") == 0;
}

static enum cte
cte_of(const char *cte)
{
	if (ci_starts(cte, "base64"))
		return CTE_BASE64;
	if (ci_starts(cte, "quoted-printable"))
		return CTE_QP;
	return is_uu_cte(cte) ? CTE_UU : CTE_IDENTITY;
}

/* Content-Disposition's type (RFC 2183 2). */
static enum md_disposition
disposition_of(const char *d)
{
	if (strcmp(d, "attachment") == 0)
		return MD_DISP_ATTACHMENT;
	return strcmp(d, "inline") == 0 ? MD_DISP_INLINE : MD_DISP_NONE;
}

static void
text_begin(struct mmsg *m)
{
	const struct entity *e = &m->eh;
	int plain = strcmp(e->ctype, "text/plain") == 0 || e->ctype[0] == '\0';
	int html = strcmp(e->ctype, "text/html") == 0;

	m->text = (plain || html) && e->disp != MD_DISP_ATTACHMENT &&
	    e->filename[0] == '\0';
	m->html_on = html;
	memset(&m->html, 0, sizeof(m->html));
	m->ncarry = 0;
	m->cd = m->text ? mh_iconv_open(e->charset) : (iconv_t)-1;
	if (m->text && m->partno > 0 &&
	    (m->urls = malloc(sizeof(*m->urls))) != NULL)
		url_scan_init(m->urls, html, url_found, m);
}

/* A leaf entity's data begins: PART_BEGIN, decoder and text set up. */
static void
part_begin(struct mmsg *m, const char *path)
{
	struct md_event	     ev = { .type = MD_EV_PART_BEGIN };
	const struct entity *e = &m->eh;

	m->in_part = 1;
	m->enc_bytes = m->dec_bytes = 0;
	m->b64n = m->qp = 0;
	m->outn = 0;
	m->cte = cte_of(e->cte);
	memcpy(m->leaf, path, sizeof(m->leaf));
	uu_init(&m->uu);
	m->nfiles = 0;
	m->tnef_on = is_tnef(e);
	m->partno = 0;
	if (m->nparts < MD_MIME_PARTS_MAX) {
		m->partno = ++m->nparts;
		ev.num[0] = m->partno;
		ev.name = md_bytes_str(path);
		ev.arg = md_bytes_str(e->ctype[0] ? e->ctype : "text/plain");
		ev.extra = md_bytes_str(e->filename);
		ev.aux = md_bytes_str(e->charset);
		ev.proof = md_bytes_str(e->cte);
		ev.code = e->disp;
		ev.num[1] = (uint64_t)m->begin_container;
		m_emit(m, &ev);
	} else if (m->nparts++ == MD_MIME_PARTS_MAX)
		m_anomaly(m, MD_ANOM_MIME_PARTS, path);
	text_begin(m);
	/* only plain text carries uuencoded blocks (not HTML, not files) */
	m->uu_on = m->text && !m->html_on && m->cte != CTE_UU;
}

static void
part_end(struct mmsg *m, int complete)
{
	struct md_event ev = { .type = MD_EV_PART_END };

	if (!m->in_part)
		return;
	if (m->cte == CTE_UU) {
		struct uu_cb cb;

		uu_finish(&m->uu, uu_cb_of(m, &cb, 0));
	}
	out_flush(m);
	if (m->uu_on) {
		struct uu_cb cb;

		uu_finish(&m->uu, uu_cb_of(m, &cb, 1));
		m->uu_on = 0;
	}
	tnef_files(m, complete);
	if (m->text) {
		text_put(m, "\n", 1);
		text_flush(m);
	}
	urls_end(m);
	if (m->cd != (iconv_t)-1) {
		iconv_close(m->cd);
		m->cd = (iconv_t)-1;
	}
	m->in_part = 0;
	m->text = 0;
	if (m->partno == 0)
		return;
	ev.num[0] = m->partno;
	ev.num[1] = m->enc_bytes;
	ev.num[2] = m->dec_bytes;
	ev.code = complete;
	m_emit(m, &ev);
}

/* --------------------------------------------------------------- header */

/* ------------------------------------------------ message/rfc822 parts */

static void
cont_send(struct mmsg *m, const uint8_t *p, uint64_t n)
{
	struct md_event ev = { .type = MD_EV_PART_DATA };

	if (n == 0)
		return;
	ev.num[0] = m->cont_no;
	ev.arg = md_bytes_of(p, (size_t)n);
	m->cont_bytes += n;
	m_emit(m, &ev);
}

/* A message/rfc822 part's content begins after its header's blank line. */
static void
cont_open(struct mmsg *m)
{
	m->in_part = 0; /* its bytes are sent by cont_tee, not decoded */
	m->cont_no = m->partno;
	m->cont_depth = m->depth;
	m->cont_ended = 0;
	m->cont_sent = m->lag_start = m->line_end;
	m->lag_len = 0;
	m->cont_bytes = 0;
}

static void
cont_close(struct mmsg *m, int complete)
{
	struct md_event ev = { .type = MD_EV_PART_END };

	ev.num[0] = m->cont_no;
	ev.num[1] = ev.num[2] = m->cont_bytes;
	ev.code = complete;
	m_emit(m, &ev);
	m->cont_no = 0;
	m->cont_ended = 0;
}

/* Sends the raw bytes [x, y) that the lag or this step's p hold. */
static void
cont_send_range(struct mmsg *m, uint64_t x, uint64_t y, uint64_t a,
    const uint8_t *p, uint64_t b)
{
	uint64_t lag_end = m->lag_start + m->lag_len, lo, hi;

	lo = x > m->lag_start ? x : m->lag_start; /* from the lag */
	hi = y < lag_end ? y : lag_end;
	if (hi > lo)
		cont_send(m, m->lag + (lo - m->lag_start), hi - lo);
	lo = x > a ? x : a; /* from this step */
	hi = y < b ? y : b;
	if (hi > lo && p != NULL)
		cont_send(m, p + (lo - a), hi - lo);
}

/*
 * The raw bytes [raw_pos, raw_pos + n) that one parser step took: the
 * container's share goes out, CONT_LAG bytes behind (the lag holds raw
 * [lag_start, lag_start + lag_len)), or up to its end once that is known.
 */
static void
cont_tee(struct mmsg *m, const uint8_t *p, size_t n)
{
	uint64_t a = m->raw_pos, b = a + n, lo, hi, keep_from, x;
	uint8_t	 keep[CONT_LAG];
	size_t	 kn = 0;

	m->raw_pos = b;
	if (m->cont_no == 0)
		return;
	lo = m->cont_sent;
	hi = m->cont_ended ? m->cont_end : b > CONT_LAG ? b - CONT_LAG : 0;
	if (hi > b)
		hi = b;
	if (hi > lo) {
		cont_send_range(m, lo, hi, a, p, b);
		m->cont_sent = hi;
	}
	if (m->cont_ended) {
		if (n > 0) /* mime_finish closes it when n is 0 */
			cont_close(m, 1);
		return;
	}
	/* keep raw [cont_sent, b), at most its last CONT_LAG bytes */
	keep_from = m->cont_sent;
	if (b - keep_from > CONT_LAG)
		keep_from = b - CONT_LAG;
	for (x = keep_from; x < b; x++) {
		if (x >= a && p != NULL)
			keep[kn++] = p[x - a];
		else if (x >= m->lag_start && x < m->lag_start + m->lag_len)
			keep[kn++] = m->lag[x - m->lag_start];
		else
			break; /* bytes never held: none after them either */
	}
	memcpy(m->lag, keep, kn);
	m->lag_start = keep_from;
	m->lag_len = kn;
}

static void
entity_reset(struct mmsg *m)
{
	memset(&m->eh, 0, sizeof(m->eh));
	m->flen = 0;
	m->fover = 0;
	m->nfields = 0;
	m->st = M_HEADER;
}

/* What a header field means for MIME, and, at the top, the event. */
static void
field_done(struct mmsg *m)
{
	struct md_event ev = { .type = MD_EV_HEADER };
	const uint8_t  *f = m->field, *colon, *v;
	struct entity  *e = &m->eh;
	char		dec[4096], date[20];
	size_t		nl, vl;

	if (m->flen == 0)
		return;
	colon = memchr(f, ':', m->flen);
	m->flen = colon ? m->flen : 0;
	if (colon == NULL)
		return;
	nl = (size_t)(colon - f);
	while (nl > 0 && (f[nl - 1] == ' ' || f[nl - 1] == '\t'))
		nl--;
	v = colon + 1;
	vl = m->flen - (size_t)(v - f);
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (md_ci_equal(f, nl, "Content-Type")) {
		mh_token(v, vl, e->ctype, sizeof(e->ctype));
		if (mh_param(v, vl, "boundary", e->boundary,
			sizeof(e->boundary) - 1) < 0)
			e->boundary[0] = '\0';
		if (mh_param(v, vl, "charset", e->charset,
			sizeof(e->charset) - 1) < 0)
			e->charset[0] = '\0';
		if (e->filename[0] == '\0' &&
		    mh_param(v, vl, "name", e->filename,
			sizeof(e->filename) - 1) < 0)
			e->filename[0] = '\0';
	} else if (md_ci_equal(f, nl, "Content-Transfer-Encoding"))
		mh_token(v, vl, e->cte, sizeof(e->cte));
	else if (md_ci_equal(f, nl, "Content-Disposition")) {
		char d[24];
		long fl;

		mh_token(v, vl, d, sizeof(d));
		e->disp = disposition_of(d);
		if ((fl = mh_param(v, vl, "filename", dec, sizeof(dec))) >= 0) {
			size_t k = (size_t)fl < sizeof(e->filename) - 1 ?
			    (size_t)fl :
			    sizeof(e->filename) - 1;
			memcpy(e->filename, dec, k);
			e->filename[k] = '\0';
		}
	}
	/* the terminators the lookups above leave out */
	e->boundary[sizeof(e->boundary) - 1] = '\0';
	if (m->top) {
		ev.name = md_bytes_of(f, nl);
		ev.arg = md_bytes_of(v, vl);
		ev.extra =
		    md_bytes_of(dec, mh_decode_words(v, vl, dec, sizeof(dec)));
		if (md_ci_equal(f, nl, "Date") && mh_date_utc(v, vl, date))
			ev.aux = md_bytes_of(date, 19);
		ev.num[0] = m->nfields;
		m_emit(m, &ev);
	}
	m->nfields++;
	m->flen = 0;
}

/*
 * The header of an entity has ended: a multipart opens a level, a
 * message/rfc822 part starts a nested message, anything else is a leaf
 * whose data follows.
 */
static void
header_done(struct mmsg *m)
{
	struct entity *e = &m->eh;
	char	       path[PATH_MAX_LEN];

	field_done(m);
	/* mh_param writes no terminator: make the strings safe */
	e->ctype[sizeof(e->ctype) - 1] = '\0';
	if (m->root)
		path_join(path, m->base, '.', 1);
	else
		memcpy(path, m->path, sizeof(path));
	m->top = 0;
	if (ci_starts(e->ctype, "multipart/") && e->boundary[0] != '\0') {
		struct level *l;

		if (m->depth >= MD_MIME_DEPTH_MAX) {
			m_anomaly(m, MD_ANOM_MIME_DEPTH, path);
			m->st = M_SKIP;
			return;
		}
		l = &m->lv[m->depth++];
		l->blen = (uint8_t)strlen(e->boundary);
		memcpy(l->boundary, e->boundary, l->blen);
		memcpy(l->path, m->root ? m->base : m->path, sizeof(l->path));
		l->nchild = 0;
		m->st = M_SKIP; /* the preamble */
		return;
	}
	if (strcmp(e->ctype, "message/rfc822") == 0 &&
	    m->rfc822_depth < MD_MIME_DEPTH_MAX) {
		/* the container is a part; its content is parsed anew */
		int outer = m->cont_no == 0;

		m->begin_container = outer;
		part_begin(m, path);
		m->begin_container = 0;
		if (outer && m->partno != 0)
			cont_open(m);
		else
			part_end(m, 1);
		m->rfc822_depth++;
		memcpy(m->base, path, sizeof(m->base));
		m->root = 1;
		entity_reset(m);
		return;
	}
	part_begin(m, path);
	m->st = M_BODY;
}

/*
 * A line without a colon or leading space after a field that ends in
 * ";", and that is a parameter ("charset=..."): the sender broke a
 * parameter list without folding it.  Suricata reads on, as the sender
 * meant; RFC 5322 would end the header there and lose the encoding.
 */
static int
unfolded_param(const struct mmsg *m, const uint8_t *p, size_t n)
{
	size_t k = m->flen, i = 0;

	while (k > 0 && (m->field[k - 1] == ' ' || m->field[k - 1] == '\t'))
		k--;
	if (k == 0 || m->field[k - 1] != ';')
		return 0;
	while (
	    i < n && p[i] != '=' && p[i] != ':' && p[i] != ' ' && p[i] != '\t')
		i++;
	return i > 0 && i < n && p[i] == '=';
}

/* One header line, CR LF removed. */
static void
header_line(struct mmsg *m, const uint8_t *p, size_t n)
{
	int unfolded;

	if (n == 0) {
		header_done(m);
		return;
	}
	if ((unfolded = p[0] != ' ' && p[0] != '\t' && unfolded_param(m, p, n)))
		m_anomaly(m, MD_ANOM_MIME_UNFOLDED, "");
	if (p[0] == ' ' || p[0] == '\t' || unfolded) {
		/* folded: RFC 5322 2.2.3 (an unfolded parameter: as if) */
		if (unfolded && m->flen < MD_MIME_HEADER_MAX &&
		    buf_grow(&m->field, &m->fcap, m->flen + 1,
			MD_MIME_HEADER_MAX) == 0)
			m->field[m->flen++] = ' ';
		if (m->flen + n > MD_MIME_HEADER_MAX) {
			n = m->flen < MD_MIME_HEADER_MAX ?
			    MD_MIME_HEADER_MAX - m->flen :
			    0;
			if (!m->fover)
				m_anomaly(m, MD_ANOM_MIME_HEADER, "");
			m->fover = 1;
		}
		if (buf_grow(&m->field, &m->fcap, m->flen + n,
			MD_MIME_HEADER_MAX) != 0)
			return;
		memcpy(m->field + m->flen, p, n);
		m->flen += n;
		return;
	}
	field_done(m);
	if (memchr(p, ':', n) == NULL) {
		/* not a field: the header was missing its blank line */
		header_done(m);
		if (m->st == M_BODY) {
			(void)body_bytes(m, p, n);
			(void)body_bytes(m, (const uint8_t *)"\r\n", 2);
		}
		return;
	}
	if (n > MD_MIME_HEADER_MAX)
		n = MD_MIME_HEADER_MAX;
	if (buf_grow(&m->field, &m->fcap, n, MD_MIME_HEADER_MAX) != 0)
		n = m->fcap;
	memcpy(m->field, p, n);
	m->flen = n;
}

/* Header bytes: whole lines, each capped. */
static size_t
header_bytes(struct mmsg *m, const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t	       take = lf ? (size_t)(lf - p) + 1 : n, keep = take;

	if (m->llen + keep > m->lcap)
		(void)buf_grow(&m->line, &m->lcap, m->llen + keep,
		    MD_MIME_HEADER_MAX);
	if (m->llen + keep > m->lcap)
		keep = m->lcap - m->llen;
	if (keep < take && !m->header_over_said) {
		m->header_over_said = 1;
		m_anomaly(m, MD_ANOM_MIME_HEADER, "");
	}
	memcpy(m->line + m->llen, p, keep);
	m->llen += keep;
	if (lf != NULL) {
		size_t l = m->llen;

		if (l > 0 && m->line[l - 1] == '\n')
			l--;
		if (l > 0 && m->line[l - 1] == '\r')
			l--;
		m->llen = 0;
		m->line_end = m->step_base + take;
		header_line(m, m->line, l);
	}
	return take;
}

/* ----------------------------------------------------------------- body */

/* The level whose delimiter this line is, or -1; *close for "--b--". */
static int
boundary_of(const struct mmsg *m, const uint8_t *p, size_t n, int *close)
{
	if (n < 3 || p[0] != '-' || p[1] != '-')
		return -1;
	for (int l = m->depth - 1; l >= 0; l--) {
		const struct level *lv = &m->lv[l];
		size_t		    i = 2 + lv->blen;

		if (n < i || memcmp(p + 2, lv->boundary, lv->blen) != 0)
			continue;
		*close = n >= i + 2 && p[i] == '-' && p[i + 1] == '-';
		if (*close)
			i += 2;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			return l;
	}
	return -1;
}

static void
on_boundary(struct mmsg *m, int l, int close)
{
	struct level *lv = &m->lv[l];

	if (m->cont_no != 0 && !m->cont_ended && l < m->cont_depth) {
		m->cont_end = m->delim_start; /* the forwarded message ends */
		m->cont_ended = 1;
	}
	m->nheld = 0; /* the line break belongs to the delimiter */
	if (m->st == M_BODY)
		part_end(m, 1);
	if (l < m->depth - 1) {
		m_anomaly(m, MD_ANOM_MIME_BOUNDARY, m->lv[m->depth - 1].path);
		m->depth = l + 1;
	}
	m->root = 0;
	m->top = 0;
	if (close) {
		m->depth = l;
		m->st = M_SKIP; /* the epilogue */
		return;
	}
	lv->nchild++;
	path_join(m->path, lv->path, '.', lv->nchild);
	entity_reset(m);
}

/* A body line whose head was kept (it ends within HEAD_MAX bytes). */
static void
body_line(struct mmsg *m, const uint8_t *p, size_t n, const uint8_t *brk,
    size_t bn)
{
	int close, l = boundary_of(m, p, n, &close);

	if (l >= 0) {
		on_boundary(m, l, close);
		return;
	}
	if (m->st == M_BODY) {
		part_bytes(m, m->held, m->nheld);
		part_bytes(m, p, n);
	}
	memcpy(m->held, brk, bn);
	m->nheld = bn;
}

/*
 * Body bytes: line heads are kept to spot delimiters, the rest streams.
 * Returns the bytes consumed: fewer than n when a delimiter opened a new
 * entity, whose header the rest begins.
 */
static size_t
body_bytes(struct mmsg *m, const uint8_t *p, size_t n)
{
	size_t n0 = n;

	while (n > 0 && m->st != M_HEADER) {
		const uint8_t *lf = memchr(p, '\n', n);

		if (m->midline) {
			size_t k;

			if (m->held_cr) { /* a CR ended the last piece */
				m->held_cr = 0;
				if (p[0] == '\n') {
					memcpy(m->held, "\r\n", 2);
					m->nheld = 2;
					m->midline = 0;
					p++, n--;
					continue;
				}
				if (m->st == M_BODY)
					part_bytes(m, (const uint8_t *)"\r", 1);
			}
			k = lf ? (size_t)(lf - p) : n;
			if (lf == NULL && k > 0 && p[k - 1] == '\r') {
				m->held_cr = 1;
				k--;
			}
			if (lf != NULL && k > 0 && p[k - 1] == '\r') {
				if (m->st == M_BODY)
					part_bytes(m, p, k - 1);
				memcpy(m->held, "\r\n", 2);
				m->nheld = 2;
			} else {
				if (m->st == M_BODY)
					part_bytes(m, p, k);
				if (lf != NULL) {
					m->held[0] = '\n';
					m->nheld = 1;
				}
			}
			if (lf == NULL)
				return n0;
			m->midline = 0;
			k = (size_t)(lf - p) + 1;
			p += k, n -= k;
			continue;
		}
		{
			size_t take = lf ? (size_t)(lf - p) + 1 : n;
			size_t room = HEAD_MAX - m->llen;

			/* memmove: p may be this buffer's own header line */
			if (take <= room) {
				memmove(m->line + m->llen, p, take);
				m->llen += take;
				p += take, n -= take;
				if (lf == NULL)
					return n0;
				{
					size_t l = m->llen - 1, bn = 1;
					if (l > 0 && m->line[l - 1] == '\r')
						l--, bn = 2;
					m->llen = 0;
					m->line_end = m->step_base + (n0 - n);
					m->delim_start =
					    m->line_end - l - bn - m->nheld;
					body_line(m, m->line, l, m->line + l,
					    bn);
				}
				continue;
			}
			/* too long for a delimiter: data, and the rest too */
			memmove(m->line + m->llen, p, room);
			p += room, n -= room;
			if (m->st == M_BODY) {
				part_bytes(m, m->held, m->nheld);
				part_bytes(m, m->line, HEAD_MAX);
			}
			m->nheld = 0;
			m->llen = 0;
			m->midline = 1;
		}
	}
	return n0 - n;
}

static void
mime_feed(struct mmsg *m, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k;

		m->step_base = m->raw_pos;
		k = m->st == M_HEADER ? header_bytes(m, p, n) :
					body_bytes(m, p, n);
		cont_tee(m, p, k);
		p += k, n -= k;
	}
}

/* The message ended (complete or cut): what is open is closed. */
static void
mime_finish(struct mmsg *m, int complete)
{
	if (m->st == M_HEADER) {
		size_t l = m->llen;

		/*
		 * The line leaves the buffer before it is parsed: a line that
		 * is no field turns into body bytes, which body_bytes() keeps
		 * in this same buffer from its start.
		 */
		m->llen = 0;
		if (l > 0)
			header_line(m, m->line, l);
		if (m->st == M_HEADER)
			header_done(m);
	}
	if (m->st != M_HEADER && !m->midline && !m->held_cr && m->llen > 0) {
		/* a last line with no line break may be a delimiter:
		 * "--b--" as the message's last bytes closes it */
		int close, l = boundary_of(m, m->line, m->llen, &close);

		if (l >= 0) {
			m->delim_start = m->raw_pos - m->llen - m->nheld;
			on_boundary(m, l, close);
			m->llen = 0;
		}
	}
	if (m->st == M_BODY) {
		/* no delimiter came: the held break is content */
		part_bytes(m, m->held, m->nheld);
		if (m->held_cr)
			part_bytes(m, (const uint8_t *)"\r", 1);
		if (!m->midline)
			part_bytes(m, m->line, m->llen);
		part_end(m, complete && m->depth == 0);
	}
	/* a message cut short, or a part of one, ends where it ends */
	if (m->depth > 0 && complete && !m->partial)
		m_anomaly(m, MD_ANOM_MIME_BOUNDARY, m->lv[m->depth - 1].path);
	if (m->cont_no != 0) { /* a forwarded message that ends the message */
		int whole = m->cont_ended || complete;

		if (!m->cont_ended) {
			m->cont_end = m->raw_pos;
			m->cont_ended = 1;
		}
		cont_tee(m, NULL, 0);
		cont_close(m, whole);
	}
	text_flush(m);
}

/* ------------------------------------------------------------------ tap */

/* The message open as tx of a flow, or NULL. */
static struct mmsg *
msg_of(struct mime_tap *t, const struct md_event *ev)
{
	return (struct mmsg *)*md_tx_slot(&t->msgs, ev->flow->id, ev->tx);
}

static void
mmsg_free(struct mmsg *m)
{
	m->tap->text_held -= m->text_total; /* the store lets it go too */
	if (m->tnef != NULL)
		tnef_drop(m);
	if (m->cd != (iconv_t)-1)
		iconv_close(m->cd);
	free(m->urls); /* cut off mid-part: its links are not reported */
	free(m->line);
	free(m->field);
	free(m);
}

static void
mmsg_open(struct mime_tap *t, const struct md_event *ev)
{
	struct md_txnode **slot = md_tx_slot(&t->msgs, ev->flow->id, ev->tx);
	struct mmsg	  *m;

	if (*slot != NULL) /* a dissector reused a number: start over */
		mmsg_free((struct mmsg *)md_tx_remove(slot));
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	/* the line buffer keeps body line heads too: HEAD_MAX at least */
	m->lcap = m->fcap = BUF_FIRST;
	m->line = malloc(m->lcap);
	m->field = malloc(m->fcap);
	if (m->line == NULL || m->field == NULL) {
		free(m->line);
		free(m->field);
		free(m);
		return;
	}
	m->node.flow_id = ev->flow->id;
	m->node.tx = ev->tx;
	m->flow = ev->flow;
	m->dir = ev->dir;
	m->tap = t;
	m->top = m->root = 1;
	m->cd = (iconv_t)-1;
	entity_reset(m);
	md_tx_insert(slot, &m->node);
}

/* Passes every event on; parses the messages' bytes on the way. */
static int
tap_emit(void *arg, const struct md_event *ev)
{
	struct mime_tap	  *t = arg;
	struct md_txnode **slot;
	struct mmsg	  *m;
	int		   r = 0;

	/* a message's bytes after what the tap makes of them: a sink sees a
	 * header field (DKIM-Signature) before the body that follows it */
	if (ev->type != MD_EV_MSG_END && ev->type != MD_EV_MSG_DATA)
		r = t->next.emit(t->next.arg, ev);
	switch (ev->type) {
	case MD_EV_MSG_BEGIN:
		mmsg_open(t, ev);
		break;
	case MD_EV_MSG_META:
		if (ev->code && (m = msg_of(t, ev)) != NULL)
			m->partial = 1;
		break;
	case MD_EV_MSG_DATA:
		if ((m = msg_of(t, ev)) != NULL) {
			m->ts = ev->ts_us;
			mime_feed(m, ev->arg.p, ev->arg.len);
		}
		r = t->next.emit(t->next.arg, ev);
		break;
	case MD_EV_MSG_END:
		/* the message's parts are told before its end */
		slot = md_tx_slot(&t->msgs, ev->flow->id, ev->tx);
		if ((m = (struct mmsg *)*slot) != NULL) {
			m->ts = ev->ts_us;
			mime_finish(m, ev->code);
			mmsg_free((struct mmsg *)md_tx_remove(slot));
		}
		r = t->next.emit(t->next.arg, ev);
		break;
	default:
		break;
	}
	return r;
}

struct mime_tap *
mime_tap_new(const struct md_sink *next)
{
	struct mime_tap *t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->next = *next;
	return t;
}

void
mime_tap_sink(struct mime_tap *t, struct md_sink *out)
{
	out->emit = tap_emit;
	out->arg = t;
}

void
mime_tap_free(struct mime_tap *t)
{
	struct md_txnode *n;

	if (t == NULL)
		return;
	while ((n = md_tx_pop_any(&t->msgs)) != NULL)
		mmsg_free((struct mmsg *)n);
	free(t);
}
