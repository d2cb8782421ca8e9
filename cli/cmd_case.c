/* \summary: mailsift case export|verify: a bundle a second examiner checks */
/*
 * case export writes, for a selection of the log's messages (default
 * all), a folder a second examiner can check with nothing but it and the
 * captures:
 *
 *   manifest.json   what was exported and where every byte came from:
 *                   the captures read (size, SHA-256, times, link type),
 *                   each session (its packets' frames, transcript, pcap)
 *                   and message (SHA-256, size, outcome, capture file,
 *                   frames and byte offsets, bytes lost, parts with their
 *                   decoded digests and the file each became)
 *   messages/ID.eml           the message's exact bytes
 *   attachments/ID/NAME       each attachment decoded, under a safe name
 *   sessions/ID.txt, ID.pcap  the transcript, the packets cut from the
 *                             capture (ID-2.pcap: the file it ended in)
 *   report.md, report.html    the same for people (no script)
 *   SHA256SUMS                every file's SHA-256, as sha256sum -c reads
 *   SHA256SUMS.sig, .pub      --sign KEY: Ed25519 over SHA256SUMS
 *
 * case verify checks the bundle against itself (every file, the
 * signature, the manifest against the files) and, given the captures,
 * reads them again into a scratch log and finds every message at the
 * frames and offsets the manifest cites, with the same digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli/case.h"
#include "cli/cli.h"
#include "cli/listings.h"
#include "cli/search.h"
#include "dissect/dissect.h"
#include "dissect/util.h"
#include "store/analyse/analyse.h"
#include "store/keep.h"
#include "store/safename.h"

#define CASE_FORMAT "mailsift-case/1"

/* ------------------------------------------------------------- common */

/* A JSON string of s (NULL: null); bytes that are not UTF-8 become
 * U+FFFD, so that hostile text cannot make the manifest unreadable. */
json_t *
jtext(const char *s)
{
	json_t *j;
	char   *fixed, *o;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((fixed = malloc(3 * strlen(s) + 1)) == NULL)
		return json_null();
	o = fixed;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = *p < 0x80	? 1 :
		    (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 :
		    (*p & 0xf8) == 0xf0 ? 4 :
					  0;
		size_t k = 1;

		while (n > 1 && k < n && (p[k] & 0xc0) == 0x80)
			k++;
		if (n == 0 || k < n) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	j = json_string(fixed);
	free(fixed);
	return j != NULL ? j : json_null();
}

json_t *
jcol_text(struct query_rows *st, int i)
{
	return query_type(st, i) == QUERY_NULL ? json_null() :
						 jtext(query_text(st, i));
}

json_t *
jcol_int(struct query_rows *st, int i)
{
	return query_type(st, i) == QUERY_NULL ? json_null() :
						 json_integer(query_int(st, i));
}

/* A capture time (Unix seconds) as ISO 8601 UTC with microseconds. */
void
iso_time(double ts, char *out, size_t len)
{
	time_t	  t = (time_t)ts;
	struct tm tm;
	char	  base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06dZ", base,
	    (int)((ts - (double)t) * 1e6 + 0.5) % 1000000);
}

json_t *
jcol_time(struct query_rows *st, int i)
{
	char buf[48];

	if (query_type(st, i) == QUERY_NULL)
		return json_null();
	iso_time(query_real(st, i), buf, sizeof(buf));
	return json_string(buf);
}

static int
file_digest(const char *path, char hex[HASH_HEX_MAX], int64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd >= 0 ? an_fd_sha256(fd, hex, size) : -1;

	if (fd >= 0)
		close(fd);
	return rc;
}

static int
make_dir(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* ------------------------------------------------------------- export */

struct bundle {
	const char   *dir;
	struct query *db;
	json_t	     *files; /* relative paths written, in order */
	int	      errors;
};

/* A file of the bundle, written: listed for SHA256SUMS. */
static void
bundle_add(struct bundle *b, const char *rel)
{
	json_array_append_new(b->files, json_string(rel));
}

/* The part files of one message, written as the MIME code decodes them
 * again from its kept bytes (as extract does). */
struct part_files {
	struct bundle *b;
	const char    *dir; /* attachments/ID, relative to the bundle */
	int	       made;
	FILE	      *f[MD_PART_KINDS];
	uint64_t       part[MD_PART_KINDS];
	json_t	      *names; /* part number (text) -> relative path */
};

static int
part_files_emit(void *arg, const struct md_event *ev)
{
	struct part_files *o = arg;
	char		   abs[8192], name[512], fb[160], key[24], *path;
	int		   k;

	switch (ev->type) {
	case MD_EV_PART_BEGIN:
		k = ev->num[1] < MD_PART_KINDS ? (int)ev->num[1] : MD_PART_LEAF;
		if (ev->extra.len == 0 && ev->code != MD_DISP_ATTACHMENT)
			break;
		snprintf(abs, sizeof(abs), "%s/%s", o->b->dir, o->dir);
		if (!o->made && make_dir(abs) != 0) {
			o->b->errors++;
			break;
		}
		o->made = 1;
		snprintf(name, sizeof(name), "%.*s", (int)ev->extra.len,
		    (const char *)ev->extra.p);
		snprintf(fb, sizeof(fb), "part-%.*s", (int)ev->name.len,
		    (const char *)ev->name.p);
		if (o->f[k] != NULL && fclose(o->f[k]) != 0)
			o->b->errors++;
		o->f[k] = NULL;
		if ((o->f[k] = safe_create(abs, name, fb, &path)) == NULL) {
			fprintf(stderr, "mailsift: %s/%s: %s\n", abs,
			    name[0] ? name : fb, strerror(errno));
			o->b->errors++;
			break;
		}
		o->part[k] = ev->num[0];
		snprintf(key, sizeof(key), "%llu",
		    (unsigned long long)ev->num[0]);
		snprintf(abs, sizeof(abs), "%s/%s", o->dir,
		    strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path);
		json_object_set_new(o->names, key, json_string(abs));
		bundle_add(o->b, abs);
		free(path);
		break;
	case MD_EV_PART_DATA:
		for (k = 0; k < MD_PART_KINDS; k++)
			if (o->f[k] != NULL && ev->num[0] == o->part[k] &&
			    fwrite(ev->arg.p, 1, ev->arg.len, o->f[k]) !=
				ev->arg.len)
				o->b->errors++;
		break;
	case MD_EV_PART_END:
		for (k = 0; k < MD_PART_KINDS; k++)
			if (o->f[k] != NULL && ev->num[0] == o->part[k]) {
				if (fclose(o->f[k]) != 0)
					o->b->errors++;
				o->f[k] = NULL;
			}
		break;
	default:
		break;
	}
	return 0;
}

/* The log's SHA-256 of the capture file at path (as read), or NULL. */
static json_t *
capture_ref(struct query *db, const char *path)
{
	struct query_rows *st;
	json_t		  *j = json_object();

	json_object_set_new(j, "path", jtext(path));
	if (path != NULL &&
	    (st = query_prepare(db,
		 "SELECT sha256 FROM captures WHERE path"
		 " = ?1 ORDER BY id DESC LIMIT 1")) != NULL) {
		query_bind_text(st, 1, path);
		json_object_set_new(j, "sha256",
		    query_next(st) == 1 ? jcol_text(st, 0) : json_null());
		query_finish(st);
	}
	return j;
}

static json_t *
export_captures(struct query *db)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT path, size, sha256, link_type, packets, first_ts, last_ts,"
	    " damaged FROM captures ORDER BY id");
	json_t		  *a = json_array();

	while (st != NULL && query_next(st) == 1) {
		json_t *c = json_object();

		json_object_set_new(c, "path", jcol_text(st, 0));
		json_object_set_new(c, "size", jcol_int(st, 1));
		json_object_set_new(c, "sha256", jcol_text(st, 2));
		json_object_set_new(c, "link_type", jcol_text(st, 3));
		json_object_set_new(c, "packets", jcol_int(st, 4));
		json_object_set_new(c, "first_packet", jcol_time(st, 5));
		json_object_set_new(c, "last_packet", jcol_time(st, 6));
		json_object_set_new(c, "damaged",
		    json_boolean(query_int(st, 7)));
		json_array_append_new(a, c);
	}
	query_finish(st);
	return a;
}

/* The transcript as text: time (UTC), frame, who, what. */
static int
write_transcript(struct bundle *b, long sid, const char *rel)
{
	char		   path[8192];
	struct query_rows *st = query_prepare(b->db, listing_show_sql);
	FILE		  *f;

	snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
	if (st == NULL || (f = fopen(path, "w")) == NULL) {
		query_finish(st);
		return -1;
	}
	query_bind_int(st, 1, sid);
	fprintf(f,
	    "# session %ld: time (UTC), frame, C client, S server, "
	    "M message, A authentication, ! anomaly\n",
	    sid);
	while (query_next(st) == 1) {
		char when[48];

		iso_time(query_real(st, 0), when, sizeof(when));
		fprintf(f, "%s %8s %s: %s\n", when,
		    query_type(st, 4) == QUERY_NULL ? "" : query_text(st, 4),
		    query_text(st, 1),
		    query_text(st, 2) ? query_text(st, 2) : "");
	}
	query_finish(st);
	if (fclose(f) != 0)
		return -1;
	bundle_add(b, rel);
	return 0;
}

/* The session's packets from one capture file: frames first..last. */
static long
cut_pcap(struct bundle *b, const char *file, uint64_t first, uint64_t last,
    const char *filter, const char *rel, char *err, size_t errlen)
{
	char path[8192];
	int  fd;
	long n;

	snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) <
	    0) {
		snprintf(err, errlen, "%.400s: %s", path, strerror(errno));
		return -1;
	}
	n = capture_cut(file, first, last, filter, fd, err, errlen);
	close(fd);
	if (n < 0)
		unlink(path);
	else
		bundle_add(b, rel);
	return n;
}

static json_t *
export_session(struct bundle *b, long sid)
{
	struct query_rows *st = query_prepare(b->db,
	    "SELECT proto, host(client_ip), client_port, host(server_ip),"
	    " server_port, start_ts, end_ts, end_reason, tls, helo, username,"
	    " capture_file, first_frame, first_offset, last_frame, last_offset,"
	    " last_capture_file, gap_bytes, midstream FROM sessions"
	    " WHERE id = ?1");
	json_t		  *s = NULL, *pcaps = json_array();
	char		   rel[64], filter[512], err[512];

	if (st == NULL)
		return NULL;
	query_bind_int(st, 1, sid);
	if (query_next(st) != 1) {
		query_finish(st);
		json_decref(pcaps);
		return NULL;
	}
	s = json_object();
	json_object_set_new(s, "id", json_integer(sid));
	json_object_set_new(s, "proto", jcol_text(st, 0));
	json_object_set_new(s, "client", jcol_text(st, 1));
	json_object_set_new(s, "client_port", jcol_int(st, 2));
	json_object_set_new(s, "server", jcol_text(st, 3));
	json_object_set_new(s, "server_port", jcol_int(st, 4));
	json_object_set_new(s, "start", jcol_time(st, 5));
	json_object_set_new(s, "end", jcol_time(st, 6));
	json_object_set_new(s, "end_reason", jcol_text(st, 7));
	json_object_set_new(s, "tls", jcol_text(st, 8));
	json_object_set_new(s, "helo", jcol_text(st, 9));
	json_object_set_new(s, "user", jcol_text(st, 10));
	json_object_set_new(s, "capture",
	    capture_ref(b->db, query_text(st, 11)));
	json_object_set_new(s, "first_frame", jcol_int(st, 12));
	json_object_set_new(s, "first_offset", jcol_int(st, 13));
	json_object_set_new(s, "last_capture",
	    capture_ref(b->db, query_text(st, 16)));
	json_object_set_new(s, "last_frame", jcol_int(st, 14));
	json_object_set_new(s, "last_offset", jcol_int(st, 15));
	json_object_set_new(s, "bytes_lost", jcol_int(st, 17));
	json_object_set_new(s, "midstream", json_boolean(query_int(st, 18)));
	snprintf(rel, sizeof(rel), "sessions/%ld.txt", sid);
	if (write_transcript(b, sid, rel) == 0)
		json_object_set_new(s, "transcript", json_string(rel));
	else
		b->errors++;
	snprintf(filter, sizeof(filter),
	    "tcp and host %s and host %s and port %lld and port %lld",
	    query_text(st, 1), query_text(st, 3), (long long)query_int(st, 2),
	    (long long)query_int(st, 4));
	if (query_type(st, 11) != QUERY_NULL &&
	    query_type(st, 12) != QUERY_NULL) {
		const char *file = query_text(st, 11), *last_file = file;
		uint64_t    first = (uint64_t)query_int(st, 12);
		uint64_t    last = query_type(st, 14) == QUERY_NULL ?
		       first :
		       (uint64_t)query_int(st, 14);
		int	    two = query_type(st, 16) != QUERY_NULL &&
		    strcmp(query_text(st, 16), file) != 0;
		long n;

		if (two) /* from its first frame to that file's end */
			last_file = query_text(st, 16);
		snprintf(rel, sizeof(rel), "sessions/%ld.pcap", sid);
		if ((n = cut_pcap(b, file, first, two ? UINT64_MAX : last,
			 filter, rel, err, sizeof(err))) >= 0)
			json_array_append_new(pcaps,
			    json_pack("{s:s, s:I}", "file", rel, "packets",
				(json_int_t)n));
		else
			json_object_set_new(s, "pcap_error", jtext(err));
		snprintf(rel, sizeof(rel), "sessions/%ld-2.pcap", sid);
		if (two &&
		    (n = cut_pcap(b, last_file, 1, last, filter, rel, err,
			 sizeof(err))) >= 0)
			json_array_append_new(pcaps,
			    json_pack("{s:s, s:I}", "file", rel, "packets",
				(json_int_t)n));
		else if (two)
			json_object_set_new(s, "pcap_error", jtext(err));
	}
	json_object_set_new(s, "pcaps", pcaps);
	query_finish(st);
	return s;
}

static json_t *
export_parts(struct bundle *b, long mid, json_t *names)
{
	struct query_rows *st = query_prepare(b->db,
	    "SELECT part, path, content_type, filename, disposition, size,"
	    " sha256, md5, magic_type, findings, complete, encoded_size"
	    " FROM parts WHERE message_id = ?1 ORDER BY part");
	json_t		  *a = json_array();

	if (st == NULL)
		return a;
	query_bind_int(st, 1, mid);
	while (query_next(st) == 1) {
		json_t *p = json_object(), *file;

		json_object_set_new(p, "part", jcol_int(st, 0));
		json_object_set_new(p, "path", jcol_text(st, 1));
		json_object_set_new(p, "content_type", jcol_text(st, 2));
		json_object_set_new(p, "filename", jcol_text(st, 3));
		json_object_set_new(p, "disposition", jcol_text(st, 4));
		json_object_set_new(p, "encoded_size", jcol_int(st, 11));
		json_object_set_new(p, "size", jcol_int(st, 5));
		json_object_set_new(p, "sha256", jcol_text(st, 6));
		json_object_set_new(p, "md5", jcol_text(st, 7));
		json_object_set_new(p, "type_by_content", jcol_text(st, 8));
		json_object_set_new(p, "findings", jcol_text(st, 9));
		json_object_set_new(p, "complete",
		    json_boolean(query_int(st, 10)));
		file = json_object_get(names, query_text(st, 0));
		json_object_set(p, "file", file != NULL ? file : json_null());
		json_array_append_new(a, p);
	}
	query_finish(st);
	return a;
}

/* What became of the message, as the console says it (v_messages):
 * accepted, rejected, retrieved, incomplete, ..., and the reply. */
static void
outcome(struct query *db, long mid, json_t *m)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT outcome, outcome_reply FROM v_messages"
	    " WHERE message_id = ?1");

	if (st != NULL) {
		query_bind_int(st, 1, mid);
		if (query_next(st) == 1) {
			json_object_set_new(m, "outcome", jcol_text(st, 0));
			json_object_set_new(m, "outcome_reply",
			    jcol_text(st, 1));
		}
	}
	query_finish(st);
}

/* The message's .eml and attachments from its kept bytes: 0, or -1. */
static int
export_bytes(struct bundle *b, long mid, const char *sha, json_t *m,
    json_t *names)
{
	struct part_files po = { .b = b, .names = names };
	struct md_sink	  sink = { part_files_emit, &po };
	char		  rel[64], adir[64], path[8192], err[4400];
	char		  hex[HASH_HEX_MAX];
	FILE		 *in, *out;
	int		  rc;

	if (sha == NULL ||
	    (in = query_blob(b->db, sha, err, sizeof(err))) == NULL) {
		json_object_set_new(m, "eml", json_null());
		json_object_set_new(m, "eml_missing",
		    json_string(sha == NULL ? "no digest" : err));
		return -1;
	}
	snprintf(rel, sizeof(rel), "messages/%ld.eml", mid);
	snprintf(adir, sizeof(adir), "attachments/%ld", mid);
	snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
	if ((out = fopen(path, "wbx")) == NULL) {
		fclose(in);
		return -1;
	}
	po.dir = adir;
	rc = cli_mime_replay(in, &sink, out);
	for (int k = 0; k < MD_PART_KINDS; k++)
		if (po.f[k] != NULL && fclose(po.f[k]) != 0)
			rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	bundle_add(b, rel);
	json_object_set_new(m, "eml", json_string(rel));
	/* the kept bytes are the bytes the log hashed, or it says so */
	if (file_digest(path, hex, NULL) != 0 || strcmp(hex, sha) != 0) {
		fprintf(stderr,
		    "mailsift: message %ld: the kept bytes are not the "
		    "message the log hashed (%s, not %s)\n",
		    mid, hex, sha);
		json_object_set_new(m, "eml_sha256_differs", json_string(hex));
		rc = -1;
	}
	return rc;
}

static json_t *
export_message(struct bundle *b, long mid)
{
	struct query_rows *st = query_prepare(b->db,
	    "SELECT m.session_id, m.tx, m.proto, m.method, m.begin_ts,"
	    " m.direction, m.end_ts, m.size, m.sha256, m.partial, m.complete,"
	    " m.subject, m.from_addr, m.to_addrs, m.msg_id, m.capture_file,"
	    " m.first_frame, m.first_offset, m.last_frame, m.last_offset,"
	    " m.gap_bytes, m.findings, m.body_sha256, m.date_raw"
	    " FROM messages m WHERE m.id = ?1");
	json_t		  *m, *names = json_object();

	if (st == NULL)
		return NULL;
	query_bind_int(st, 1, mid);
	if (query_next(st) != 1) {
		query_finish(st);
		json_decref(names);
		return NULL;
	}
	m = json_object();
	json_object_set_new(m, "id", json_integer(mid));
	json_object_set_new(m, "session", jcol_int(st, 0));
	json_object_set_new(m, "tx", jcol_int(st, 1));
	json_object_set_new(m, "proto", jcol_text(st, 2));
	json_object_set_new(m, "method", jcol_text(st, 3));
	json_object_set_new(m, "direction", jcol_text(st, 5));
	json_object_set_new(m, "begin", jcol_time(st, 4));
	json_object_set_new(m, "end", jcol_time(st, 6));
	json_object_set_new(m, "size", jcol_int(st, 7));
	json_object_set_new(m, "sha256", jcol_text(st, 8));
	json_object_set_new(m, "body_sha256", jcol_text(st, 22));
	json_object_set_new(m, "piece", json_boolean(query_int(st, 9)));
	json_object_set_new(m, "complete", json_boolean(query_int(st, 10)));
	outcome(b->db, mid, m);
	json_object_set_new(m, "subject", jcol_text(st, 11));
	json_object_set_new(m, "from", jcol_text(st, 12));
	json_object_set_new(m, "to", jcol_text(st, 13));
	json_object_set_new(m, "date", jcol_text(st, 23));
	json_object_set_new(m, "message_id", jcol_text(st, 14));
	json_object_set_new(m, "capture",
	    capture_ref(b->db, query_text(st, 15)));
	json_object_set_new(m, "first_frame", jcol_int(st, 16));
	json_object_set_new(m, "first_offset", jcol_int(st, 17));
	json_object_set_new(m, "last_frame", jcol_int(st, 18));
	json_object_set_new(m, "last_offset", jcol_int(st, 19));
	json_object_set_new(m, "bytes_lost", jcol_int(st, 20));
	json_object_set_new(m, "findings", jcol_text(st, 21));
	if (export_bytes(b, mid, query_text(st, 8), m, names) != 0)
		b->errors++;
	json_object_set_new(m, "parts", export_parts(b, mid, names));
	json_decref(names);
	query_finish(st);
	return m;
}

/* --------------------------------------------------- selection */

void
ids_add(struct ids *s, long id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL)
			abort();
	}
	s->v[s->n++] = id;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The ids the first column of sql gives (bound to arg, when >= 0). */
void
ids_query(struct query *db, const char *sql, long arg, struct ids *out)
{
	struct query_rows *st = query_prepare(db, sql);

	if (st == NULL)
		return;
	if (arg >= 0)
		query_bind_int(st, 1, arg);
	while (query_next(st) == 1)
		ids_add(out, (long)query_int(st, 0));
	query_finish(st);
}

/* ------------------------------------------------------ reports */

static void
md_cell(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) /* a table cell: no pipe, no line */
		fputc(*s == '|' ? '/' : *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void
html_text(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
}

static const char *
js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static long long
ji(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* One report, in Markdown or HTML (hostile text stays text). */
static void
report(FILE *f, json_t *man, int html)
{
	json_t *a = json_object_get(man, "messages"), *m, *c;
	size_t	i, k;
	void (*text)(FILE *, const char *) = html ? html_text : md_cell;

	if (html)
		fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		      "<meta http-equiv=\"Content-Security-Policy\" "
		      "content=\"default-src 'none'; style-src 'unsafe-inline'"
		      "\"><title>mailsift case report</title><style>body{font:"
		      "14px sans-serif;max-width:70em;margin:auto}td,th{border:"
		      "1px solid #ccc;padding:2px 6px;text-align:left;vertical-"
		      "align:top;word-break:break-all}table{border-collapse:"
		      "collapse}code{font-size:12px}</style></head><body>\n"
		      "<h1>mailsift case report</h1>\n<p>",
		    f);
	else
		fputs("# mailsift case report\n\n", f);
	fprintf(f, "Exported %s by mailsift %s from the log ",
	    js(man, "exported"), js(man, "mailsift"));
	text(f, js(man, "log"));
	fprintf(f, ": %zu messages, %zu sessions.%s", json_array_size(a),
	    json_array_size(json_object_get(man, "sessions")),
	    html ? "</p>\n<h2>Captures</h2>\n<table><tr><th>file</th>"
		   "<th>bytes</th><th>SHA-256</th><th>packets</th><th>first"
		   "</th><th>last</th></tr>\n" :
		   "\n\n## Captures\n\n| file | bytes | SHA-256 | packets | "
		   "first | last |\n|---|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(man, "captures"), i, c)
	{
		fputs(html ? "<tr><td>" : "| ", f);
		text(f, js(c, "path"));
		fprintf(f,
		    html ? "</td><td>%lld</td><td><code>%s</code></td>"
			   "<td>%lld</td><td>%s</td><td>%s</td></tr>\n" :
			   " | %lld | `%s` | %lld | %s | %s |\n",
		    ji(c, "size"), js(c, "sha256"), ji(c, "packets"),
		    js(c, "first_packet"), js(c, "last_packet"));
	}
	fputs(html ? "</table>\n<h2>Messages</h2>\n" : "\n## Messages\n", f);
	json_array_foreach(a, i, m)
	{
		json_t *p, *cap = json_object_get(m, "capture");

		fprintf(f,
		    html ? "<h3>Message %lld</h3>\n<table>" :
			   "\n### Message %lld\n\n| | |\n|---|---|\n",
		    ji(m, "id"));
		static const char *const rows[][2] = { { "subject", "Subject" },
			{ "from", "From" }, { "to", "To" }, { "date", "Date" },
			{ "message_id", "Message-ID" },
			{ "outcome", "Outcome" }, { "sha256", "SHA-256" },
			{ "eml", "File" }, { "findings", "Findings" } };
		for (k = 0; k < sizeof(rows) / sizeof(*rows); k++) {
			fprintf(f, html ? "<tr><th>%s</th><td>" : "| %s | ",
			    rows[k][1]);
			text(f, js(m, rows[k][0]));
			fputs(html ? "</td></tr>\n" : " |\n", f);
		}
		fprintf(f,
		    html ? "<tr><th>Came from</th><td>" : "| Came from | ");
		fprintf(f, "%s session %lld, %s to %s, frames %lld to %lld of ",
		    js(m, "proto"), ji(m, "session"), js(m, "begin"),
		    js(m, "end"), ji(m, "first_frame"), ji(m, "last_frame"));
		text(f, js(cap, "path"));
		fprintf(f, " (SHA-256 %s); %lld bytes, %lld lost%s",
		    js(cap, "sha256"), ji(m, "size"), ji(m, "bytes_lost"),
		    html ? "</td></tr>\n</table>\n" : " |\n");
		if (json_array_size(json_object_get(m, "parts")) == 0)
			continue;
		fputs(html ?
			"<table><tr><th>part</th><th>name</th><th>declared"
			"</th><th>by content</th><th>bytes</th><th>SHA-256"
			"</th><th>findings</th><th>file</th></tr>\n" :
			"\n| part | name | declared | by content | bytes | "
			"SHA-256 | findings | file |\n|---|---|---|---|---|"
			"---|---|---|\n",
		    f);
		json_array_foreach(json_object_get(m, "parts"), k, p)
		{
			const char *const cols[] = { "path", "filename",
				"content_type", "type_by_content" };

			fputs(html ? "<tr>" : "|", f);
			for (size_t x = 0; x < 4; x++) {
				fputs(html ? "<td>" : " ", f);
				text(f, js(p, cols[x]));
				fputs(html ? "</td>" : " |", f);
			}
			fprintf(f,
			    html ? "<td>%lld</td><td><code>%s</code></td>"
				   "<td>" :
				   " %lld | `%s` | ",
			    ji(p, "size"), js(p, "sha256"));
			text(f, js(p, "findings"));
			fputs(html ? "</td><td>" : " | ", f);
			text(f, js(p, "file"));
			fputs(html ? "</td></tr>\n" : " |\n", f);
		}
		if (html)
			fputs("</table>\n", f);
	}
	fputs(html ?
		"<p>Every file of this bundle has its SHA-256 in "
		"SHA256SUMS; <code>mailsift case verify</code> checks "
		"them and, given the captures, derives every message "
		"again.</p></body></html>\n" :
		"\nEvery file of this bundle has its SHA-256 in SHA256SUMS;"
		" `mailsift case verify` checks them and, given the "
		"captures, derives every message again.\n",
	    f);
}

static int
write_report(struct bundle *b, json_t *man, const char *rel, int html)
{
	char  path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
	if ((f = fopen(path, "wx")) == NULL)
		return -1;
	report(f, man, html);
	if (fclose(f) != 0)
		return -1;
	bundle_add(b, rel);
	return 0;
}

/* ------------------------------------------------ sums and signature */

static int
write_sums(struct bundle *b)
{
	char	path[8192], hex[HASH_HEX_MAX];
	size_t	i;
	json_t *rel;
	FILE   *f;

	snprintf(path, sizeof(path), "%s/SHA256SUMS", b->dir);
	if ((f = fopen(path, "wx")) == NULL)
		return -1;
	json_array_foreach(b->files, i, rel)
	{
		snprintf(path, sizeof(path), "%s/%s", b->dir,
		    json_string_value(rel));
		if (file_digest(path, hex, NULL) != 0) {
			fclose(f);
			return -1;
		}
		fprintf(f, "%s  %s\n", hex, json_string_value(rel));
	}
	return fclose(f) == 0 ? 0 : -1;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE	      *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long	       n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
		buf[n] = '\0';
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The key's fingerprint: SHA-256 of its public half (DER), hex. */
static void
key_fingerprint(EVP_PKEY *k, char hex[HASH_HEX_MAX])
{
	unsigned char *der = NULL, md[32];
	int	       n = i2d_PUBKEY(k, &der);

	hex[0] = '\0';
	if (n > 0 && EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL))
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
}

/* SHA256SUMS.sig (hex) and SHA256SUMS.pub with an Ed25519 key. */
static int
sign_sums(const char *dir, const char *keyfile, char *fp)
{
	char	       path[8192];
	unsigned char *data, sig[64];
	size_t	       len, slen = sizeof(sig);
	FILE	      *f = fopen(keyfile, "r");
	EVP_PKEY      *k =
		 f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int	    rc = -1;

	if (f != NULL)
		fclose(f);
	snprintf(path, sizeof(path), "%s/SHA256SUMS", dir);
	if (k == NULL || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
		fprintf(stderr,
		    "mailsift: --sign %s: not an Ed25519 private "
		    "key in PEM (openssl genpkey -algorithm "
		    "ed25519)\n",
		    keyfile);
	} else if ((data = slurp(path, &len)) != NULL) {
		if (ctx != NULL &&
		    EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
		    EVP_DigestSign(ctx, sig, &slen, data, len) == 1) {
			snprintf(path, sizeof(path), "%s/SHA256SUMS.sig", dir);
			if ((f = fopen(path, "wx")) != NULL) {
				for (size_t i = 0; i < slen; i++)
					fprintf(f, "%02x", sig[i]);
				fputc('\n', f);
				rc = fclose(f) == 0 ? 0 : -1;
			}
			snprintf(path, sizeof(path), "%s/SHA256SUMS.pub", dir);
			if (rc == 0 &&
			    ((f = fopen(path, "wx")) == NULL ||
				!PEM_write_PUBKEY(f, k) || fclose(f) != 0))
				rc = -1;
			key_fingerprint(k, fp);
		}
		free(data);
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return rc;
}

/* BUNDLE.tar: every file of the bundle, SHA256SUMS and its signature. */
static int
bundle_tar(struct bundle *b, int signed_)
{
	size_t	     n = json_array_size(b->files), k = 0;
	const char **rels = calloc(n + 3, sizeof(*rels));
	char	     out[4200];
	json_t	    *f;
	size_t	     i;
	int	     rc;

	if (rels == NULL)
		return -1;
	json_array_foreach(b->files, i, f) rels[k++] = json_string_value(f);
	rels[k++] = "SHA256SUMS";
	if (signed_) {
		rels[k++] = "SHA256SUMS.sig";
		rels[k++] = "SHA256SUMS.pub";
	}
	if ((rc = case_tar_write(b->dir, rels, k, out, sizeof(out))) != 0)
		fprintf(stderr, "mailsift: %s: cannot write\n", out);
	else
		printf("%s: the bundle as one file\n", out);
	free(rels);
	return rc;
}

/* --------------------------------------------------- case export */

static void
case_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailsift case export -o BUNDLE [-d LOG.db] [--message N]..."
	    " [--session N]...\n"
	    "                            [--search QUERY] [--sign KEY.pem] "
	    "[--tar]\n"
	    "       mailsift case verify BUNDLE [CAPTURE...] [--key PUB.pem]\n"
	    "       mailsift case iocs --stix|--misp [-d LOG.db] [-o FILE] "
	    "[--message N]...\n"
	    "\n"
	    "export: the selected messages (default all) with where every "
	    "byte came from:\n"
	    "manifest.json, messages/ID.eml, attachments/ID/NAME, "
	    "sessions/ID.txt and .pcap,\n"
	    "report.md, report.html, SHA256SUMS (and .sig, .pub with "
	    "--sign).\n"
	    "  -d, --db LOG.db     the log (default mailsift.db)\n"
	    "  -o, --output DIR    the bundle, a folder that must not exist\n"
	    "  --message N         this message (again for more)\n"
	    "  --session N         the messages of this session, and its "
	    "packets\n"
	    "  --search QUERY      the messages mailsift search finds\n"
	    "  --sign KEY.pem      sign SHA256SUMS with this Ed25519 key\n"
	    "  --tar               also write BUNDLE.tar, the bundle as one "
	    "file\n"
	    "verify: every file against SHA256SUMS and the manifest, the "
	    "signature,\n"
	    "and, given the captures, every message derived again from its "
	    "frames.\n"
	    "  --key PUB.pem       the signer's public key (else the "
	    "bundle's, shown)\n"
	    "  --keylog FILE       TLS secrets the captures were read with "
	    "(as read takes)\n");
}

/* The selection: messages (and sessions) the options name, or all. */
int
select_ids(struct query *db, int nmsg, char **msg, int nses, char **ses,
    const char *search, struct ids *mids, struct ids *sids)
{
	char err[512];

	for (int i = 0; i < nmsg; i++)
		ids_add(mids, strtol(msg[i], NULL, 10));
	for (int i = 0; i < nses; i++) {
		long sid = strtol(ses[i], NULL, 10);

		ids_add(sids, sid);
		ids_query(db, "SELECT id FROM messages WHERE session_id = ?1",
		    sid, mids);
	}
	if (search != NULL) {
		struct query_rows *st = search_prepare(db, search, 1000000000L,
		    NULL, err, sizeof(err));

		if (st == NULL) {
			fprintf(stderr, "mailsift: --search: %s\n", err);
			return -1;
		}
		while (query_next(st) == 1)
			ids_add(mids, (long)query_int(st, 0));
		query_finish(st);
	}
	if (nmsg == 0 && nses == 0 && search == NULL)
		ids_query(db, "SELECT id FROM messages ORDER BY id", -1, mids);
	qsort(mids->v, mids->n, sizeof(long), cmp_long);
	return 0;
}

static char *
command_line(int argc, char **argv)
{
	size_t n = 16;
	char  *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if ((s = calloc(1, n)) == NULL)
		return NULL;
	strcat(s, "mailsift");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int
case_export(int argc, char **argv)
{
	static const struct option longs[] = { { "db", 1, NULL, 'd' },
		{ "output", 1, NULL, 'o' }, { "message", 1, NULL, 'm' },
		{ "session", 1, NULL, 's' }, { "search", 1, NULL, 'q' },
		{ "sign", 1, NULL, 'k' }, { "tar", 0, NULL, 't' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *logp = "mailsift.db", *out = NULL, *search = NULL,
		   *sign = NULL;
	char **msg = calloc((size_t)argc, sizeof(char *)),
	     **ses = calloc((size_t)argc, sizeof(char *)), *cmd;
	int	      nmsg = 0, nses = 0, c, rc = EXIT_OK, tar = 0;
	struct ids    mids = { 0 }, sids = { 0 };
	struct bundle b = { 0 };
	json_t	     *man, *msgs, *sess;
	char	      path[8192], now[32], fp[HASH_HEX_MAX] = "";
	time_t	      t = time(NULL);
	struct tm     tm;

	if (msg == NULL || ses == NULL) {
		fprintf(stderr, "mailsift: out of memory\n");
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:h", longs, NULL)) != -1)
		switch (c) {
		case 'd':
			logp = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			msg[nmsg++] = optarg;
			break;
		case 's':
			ses[nses++] = optarg;
			break;
		case 'q':
			search = optarg;
			break;
		case 'k':
			sign = optarg;
			break;
		case 't':
			tar = 1;
			break;
		case 'h':
			case_usage(stdout);
			free(msg);
			free(ses);
			return EXIT_OK;
		default:
			case_usage(stderr);
			free(msg);
			free(ses);
			return EXIT_USAGE;
		}
	if (out == NULL || optind != argc) {
		case_usage(stderr);
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	if (mkdir(out, 0755) != 0) {
		fprintf(stderr,
		    "mailsift: %s: %s (the bundle must be a new "
		    "folder)\n",
		    out, strerror(errno));
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	if ((b.db = cli_open_log(logp)) == NULL) {
		rmdir(out);
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	b.dir = out;
	b.files = json_array();
	if (select_ids(b.db, nmsg, msg, nses, ses, search, &mids, &sids) != 0) {
		query_close(b.db);
		rmdir(out);
		free(msg);
		free(ses);
		return EXIT_USAGE;
	}
	for (const char *d = "messages\0attachments\0sessions\0"; *d;
	     d += strlen(d) + 1) {
		snprintf(path, sizeof(path), "%s/%s", out, d);
		make_dir(path);
	}
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* argv[-1] is "case": the line as the examiner typed it */
	cmd = command_line(argc + 1, argv - 1);
	man = json_object();
	json_object_set_new(man, "format", json_string(CASE_FORMAT));
	json_object_set_new(man, "mailsift", json_string(MAILSIFT_VERSION));
	json_object_set_new(man, "command", jtext(cmd));
	json_object_set_new(man, "exported", json_string(now));
	json_object_set_new(man, "log", jtext(logp));
	json_object_set_new(man, "captures", export_captures(b.db));
	msgs = json_array();
	for (size_t i = 0; i < mids.n; i++) {
		json_t *m = export_message(&b, mids.v[i]);

		if (m == NULL) {
			fprintf(stderr, "mailsift: no message %ld in %s\n",
			    mids.v[i], logp);
			rc = EXIT_USAGE;
			continue;
		}
		ids_add(&sids, (long)ji(m, "session"));
		json_array_append_new(msgs, m);
	}
	qsort(sids.v, sids.n, sizeof(long), cmp_long);
	sess = json_array();
	for (size_t i = 0; i < sids.n; i++) {
		json_t *s = export_session(&b, sids.v[i]);

		if (s != NULL)
			json_array_append_new(sess, s);
	}
	json_object_set_new(man, "sessions", sess);
	json_object_set_new(man, "messages", msgs);
	json_object_set(man, "files", b.files); /* before the reports */
	snprintf(path, sizeof(path), "%s/manifest.json", out);
	if (json_dump_file(man, path, JSON_INDENT(1) | JSON_ENSURE_ASCII) !=
		0 ||
	    (bundle_add(&b, "manifest.json"), 0) ||
	    write_report(&b, man, "report.md", 0) != 0 ||
	    write_report(&b, man, "report.html", 1) != 0 ||
	    write_sums(&b) != 0) {
		fprintf(stderr, "mailsift: %s: cannot write the bundle: %s\n",
		    out, strerror(errno));
		rc = EXIT_PARTIAL;
	}
	if (rc == EXIT_OK && sign != NULL && sign_sums(out, sign, fp) != 0)
		rc = EXIT_USAGE;
	if (b.errors > 0 && rc == EXIT_OK)
		rc = EXIT_PARTIAL;
	if (tar && rc != EXIT_USAGE && bundle_tar(&b, fp[0] != '\0') != 0)
		rc = EXIT_PARTIAL;
	snprintf(path, sizeof(path), "%s/SHA256SUMS", out);
	{
		char hex[HASH_HEX_MAX] = "";

		file_digest(path, hex, NULL);
		printf("%s: %zu messages, %zu sessions, %zu files; "
		       "SHA256SUMS %s%s%s\n",
		    out, json_array_size(msgs), json_array_size(sess),
		    json_array_size(b.files), hex,
		    fp[0] ? ", signed by key " : "", fp);
	}
	if (b.errors > 0)
		fprintf(stderr,
		    "mailsift: %d things could not be exported "
		    "(said above, and in the manifest)\n",
		    b.errors);
	json_decref(man);
	json_decref(b.files);
	query_close(b.db);
	free(cmd);
	free(mids.v);
	free(sids.v);
	free(msg);
	free(ses);
	return rc;
}

/* --------------------------------------------------- case verify */

struct verdict {
	int ok, bad;
};

static void bad(struct verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bad(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	v->bad++;
}

/* Every file of SHA256SUMS as it says; the listed files. */
static json_t *
verify_sums(const char *dir, struct verdict *v)
{
	char	path[16384], line[4096], hex[HASH_HEX_MAX];
	json_t *sums = json_object();
	FILE   *f;

	snprintf(path, sizeof(path), "%s/SHA256SUMS", dir);
	if ((f = fopen(path, "r")) == NULL) {
		bad(v, "%s: %s", path, strerror(errno));
		return sums;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = line + 66;

		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ' ||
		    strstr(name, "..") != NULL || name[0] == '/') {
			bad(v, "SHA256SUMS: a line that is not a file's sum");
			continue;
		}
		line[64] = '\0';
		json_object_set_new(sums, name, json_string(line));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (file_digest(path, hex, NULL) != 0)
			bad(v, "%s: missing or unreadable", name);
		else if (strcmp(hex, line) != 0)
			bad(v, "%s: changed (SHA-256 %s, SHA256SUMS says %s)",
			    name, hex, line);
		else
			v->ok++;
	}
	fclose(f);
	return sums;
}

static void
verify_signature(const char *dir, const char *keyfile, struct verdict *v)
{
	char	       path[8192], fp[HASH_HEX_MAX];
	unsigned char *data, *sighex, sig[64];
	size_t	       len, slen, n = 0;
	FILE	      *f;
	EVP_PKEY      *k = NULL;
	EVP_MD_CTX    *ctx;

	snprintf(path, sizeof(path), "%s/SHA256SUMS.sig", dir);
	if ((sighex = slurp(path, &slen)) == NULL) {
		printf("unsigned (no SHA256SUMS.sig)\n");
		if (keyfile != NULL)
			bad(v, "--key given, but the bundle is not signed");
		return;
	}
	snprintf(path, sizeof(path), "%s/SHA256SUMS.pub", dir);
	if ((f = fopen(keyfile != NULL ? keyfile : path, "r")) != NULL) {
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
	}
	for (; n < sizeof(sig) && 2 * n + 1 < slen; n++)
		sig[n] = (unsigned char)(md_hex_value(sighex[2 * n]) << 4 |
		    md_hex_value(sighex[2 * n + 1]));
	free(sighex);
	snprintf(path, sizeof(path), "%s/SHA256SUMS", dir);
	if (k == NULL || (data = slurp(path, &len)) == NULL) {
		bad(v, "signature: no public key to check it with");
		EVP_PKEY_free(k);
		return;
	}
	key_fingerprint(k, fp);
	ctx = EVP_MD_CTX_new();
	if (ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, n, data, len) == 1) {
		printf("ok   signature by key %s%s\n", fp,
		    keyfile != NULL ? " (--key)" :
				      " (the bundle's key: compare it with the "
				      "signer's)");
		v->ok++;
	} else {
		bad(v, "signature: SHA256SUMS was not signed by key %s", fp);
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	free(data);
}

/* A file the manifest names: listed in SHA256SUMS, with this digest when
 * one is given (sha: the bytes it must be). */
static void
verify_named(json_t *sums, const char *rel, const char *sha, const char *what,
    struct verdict *v)
{
	const char *sum = json_string_value(json_object_get(sums, rel));

	if (sum == NULL)
		bad(v, "%s: %s named by the manifest, not in SHA256SUMS", rel,
		    what);
	else if (sha != NULL && strcmp(sum, sha) != 0)
		bad(v,
		    "%s: not the %s the manifest describes (SHA-256 %s, "
		    "manifest %s)",
		    rel, what, sum, sha);
	else
		v->ok++;
}

/* The manifest against the files: each .eml is the message's bytes,
 * each attachment the part's decoded bytes. */
static void
verify_manifest(json_t *man, json_t *sums, struct verdict *v)
{
	json_t *m, *p, *s, *pc;
	size_t	i, k;

	json_array_foreach(json_object_get(man, "messages"), i, m)
	{
		const char *eml = json_string_value(json_object_get(m, "eml"));

		if (eml != NULL)
			verify_named(sums, eml, js(m, "sha256"), "message", v);
		json_array_foreach(json_object_get(m, "parts"), k, p)
		{
			const char *f =
			    json_string_value(json_object_get(p, "file"));

			if (f != NULL)
				verify_named(sums, f,
				    json_is_true(
					json_object_get(p, "complete")) ?
					js(p, "sha256") :
					NULL,
				    "attachment", v);
		}
	}
	json_array_foreach(json_object_get(man, "sessions"), i, s)
	{
		const char *t =
		    json_string_value(json_object_get(s, "transcript"));

		if (t != NULL)
			verify_named(sums, t, NULL, "transcript", v);
		json_array_foreach(json_object_get(s, "pcaps"), k, pc)
		    verify_named(sums, js(pc, "file"), NULL, "pcap", v);
	}
}

/* Reads the captures into a scratch log with this same program. */
static int
read_again(const char *db, int n, char **caps, char *const *keylogs, int nk,
    const char *errfile)
{
	static char a0[] = "mailsift", a1[] = "read", a2[] = "-q",
		    a3[] = "--no-keep", a4[] = "-o", kl[] = "--keylog";
	char **av = calloc((size_t)n + 8 + 2 * (size_t)nk, sizeof(char *));
	pid_t  pid;
	int    st = -1, k = 0;
	posix_spawn_file_actions_t fa;

	if (av == NULL)
		return -1;
	av[k++] = a0;
	av[k++] = a1;
	av[k++] = a2;
	av[k++] = a3;
	av[k++] = a4;
	av[k++] = (char *)(uintptr_t)db;
	for (int i = 0; i < nk; i++) {
		av[k++] = kl;
		av[k++] = keylogs[i];
	}
	for (int i = 0; i < n; i++)
		av[k++] = caps[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, av, NULL) == 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	posix_spawn_file_actions_destroy(&fa);
	free(av);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The message the scratch log has where the manifest says: in the
 * session that began at the same frame of the capture given for its
 * digest, between the same ports, the same message of it (tx: pieces of
 * one IMAP response share a packet, and an offset); the same bytes?
 * sess: the manifest's session of the message. */
static void
rederive_message(struct query *db, json_t *m, json_t *sess, const char *given,
    struct verdict *v)
{
	struct query_rows *st = query_prepare(db,
	    "SELECT m.id, m.sha256, m.size, m.first_frame FROM messages m"
	    " JOIN sessions s ON s.id = m.session_id WHERE s.capture_file = ?1"
	    " AND s.first_frame = ?2 AND s.client_port = ?3"
	    " AND s.server_port = ?4 AND m.tx = ?5");
	struct query_rows *pt;
	json_t		  *p;
	size_t		   k;
	long		   id = ji(m, "id"), again;
	int		   same = 1;

	if (st == NULL)
		return;
	query_bind_text(st, 1, given);
	query_bind_int(st, 2, ji(sess, "first_frame"));
	query_bind_int(st, 3, ji(sess, "client_port"));
	query_bind_int(st, 4, ji(sess, "server_port"));
	query_bind_int(st, 5, ji(m, "tx"));
	if (query_next(st) != 1) {
		bad(v,
		    "message %ld: no such message in the session that began "
		    "at frame %lld of %s%s",
		    id, ji(sess, "first_frame"), given,
		    strcmp(js(sess, "tls"), "none") != 0 ?
			" (a TLS session: --keylog with its key log decrypts it)" :
			"");
		query_finish(st);
		return;
	}
	again = (long)query_int(st, 0);
	if (strcmp(query_text(st, 1) ? query_text(st, 1) : "",
		js(m, "sha256")) != 0 ||
	    query_int(st, 2) != ji(m, "size") ||
	    query_int(st, 3) != ji(m, "first_frame")) {
		bad(v,
		    "message %ld: frame %lld of %s gives other bytes "
		    "(SHA-256 %s, %lld bytes; manifest %s, %lld)",
		    id, ji(m, "first_frame"), given, query_text(st, 1),
		    (long long)query_int(st, 2), js(m, "sha256"),
		    ji(m, "size"));
		query_finish(st);
		return;
	}
	query_finish(st);
	pt = query_prepare(db,
	    "SELECT sha256 FROM parts WHERE message_id = ?1 AND part = ?2");
	json_array_foreach(json_object_get(m, "parts"), k, p)
	{
		if (pt == NULL)
			break;
		query_reset(pt);
		query_bind_int(pt, 1, again);
		query_bind_int(pt, 2, ji(p, "part"));
		if (query_next(pt) != 1 ||
		    strcmp(query_text(pt, 0) ? query_text(pt, 0) : "",
			js(p, "sha256")) != 0) {
			bad(v,
			    "message %ld part %lld: decoded again, not the "
			    "bytes the manifest describes",
			    id, ji(p, "part"));
			same = 0;
		}
	}
	query_finish(pt);
	if (same) {
		printf("ok   message %ld derived again from frame %lld of %s\n",
		    id, ji(m, "first_frame"), given);
		v->ok++;
	}
}

/* The manifest's session of that id; when there is none, an object
 * without fields, so that its lookups find nothing. */
static json_t *
session_of(json_t *man, long long id)
{
	json_t *s;
	size_t	i;

	json_array_foreach(json_object_get(man, "sessions"), i,
	    s) if (ji(s, "id") == id) return s;
	return json_object_get(man, "format");
}

static void
verify_captures(json_t *man, int n, char **caps, char *const *keylogs, int nk,
    struct verdict *v)
{
	json_t	     *given = json_object(), *m, *c;
	char	      hex[HASH_HEX_MAX], dir[] = "/tmp/mailsift-verify-XXXXXX";
	char	      db[4200], errf[4200];
	struct query *q;
	size_t	      i;
	int	      rc, found;

	for (int k = 0; k < n; k++) {
		if (file_digest(caps[k], hex, NULL) != 0) {
			bad(v, "%s: %s", caps[k], strerror(errno));
			continue;
		}
		found = 0;
		json_array_foreach(json_object_get(man, "captures"), i, c)
		    found |= strcmp(js(c, "sha256"), hex) == 0;
		if (!found)
			bad(v,
			    "%s: not a capture the manifest names (SHA-256 "
			    "%s): changed, or another file",
			    caps[k], hex);
		json_object_set_new(given, hex, json_string(caps[k]));
	}
	if (mkdtemp(dir) == NULL) {
		bad(v, "a scratch folder: %s", strerror(errno));
		json_decref(given);
		return;
	}
	snprintf(db, sizeof(db), "%s/again.db", dir);
	snprintf(errf, sizeof(errf), "%s/read.err", dir);
	rc = read_again(db, n, caps, keylogs, nk, errf);
	if (rc != 0 && rc != EXIT_PARTIAL)
		bad(v, "reading the captures again failed (exit %d)", rc);
	if ((q = query_open(db, hex, sizeof(hex))) != NULL) {
		json_array_foreach(json_object_get(man, "messages"), i, m)
		{
			json_t	   *sess = session_of(man, ji(m, "session"));
			const char *sha =
			    js(json_object_get(sess, "capture"), "sha256");
			const char *path =
			    json_string_value(json_object_get(given, sha));

			if (path != NULL)
				rederive_message(q, m, sess, path, v);
			else
				printf(
				    "--   message %lld: its capture (SHA-256 "
				    "%s) not given, not derived again\n",
				    ji(m, "id"), sha[0] ? sha : "unknown");
		}
		query_close(q);
	}
	for (const char *f = "again.db\0again.db-wal\0again.db-shm\0read.err\0";
	     *f; f += strlen(f) + 1) {
		snprintf(errf, sizeof(errf), "%s/%s", dir, f);
		unlink(errf);
	}
	rmdir(dir);
	json_decref(given);
}

static int
remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A scratch folder and what is in it (not before mkdtemp made it). */
static void
remove_tree(const char *dir)
{
	if (strchr(dir, 'X') == NULL)
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
case_verify(int argc, char **argv)
{
	static const struct option longs[] = { { "key", 1, NULL, 'k' },
		{ "keylog", 1, NULL, 'l' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	char			  *keylogs[8];
	int			   nk = 0;
	const char		  *key = NULL, *dir, *given;
	struct verdict		   v = { 0, 0 };
	struct stat		   sb;
	char	     scratch[] = "/tmp/mailsift-bundle-XXXXXX", unpacked[4400];
	json_t	    *man, *sums, *files, *f;
	json_error_t je;
	char	     path[8192];
	size_t	     i;
	int	     c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'l':
			if (nk < 8)
				keylogs[nk++] = optarg;
			break;
		case 'h':
			case_usage(stdout);
			return EXIT_OK;
		default:
			case_usage(stderr);
			return EXIT_USAGE;
		}
	if (optind >= argc) {
		case_usage(stderr);
		return EXIT_USAGE;
	}
	given = dir = argv[optind++];
	if (stat(dir, &sb) == 0 && S_ISREG(sb.st_mode)) {
		char top[256], err[4400];

		if (mkdtemp(scratch) == NULL ||
		    case_tar_unpack(dir, scratch, top, sizeof(top), err,
			sizeof(err)) != 0) {
			printf("FAIL %s\n", err);
			remove_tree(scratch);
			return EXIT_PARTIAL;
		}
		snprintf(unpacked, sizeof(unpacked), "%s/%s", scratch, top);
		printf("unpacked %s into a scratch folder\n", given);
		dir = unpacked;
	}
	sums = verify_sums(dir, &v);
	verify_signature(dir, key, &v);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((man = json_load_file(path, 0, &je)) == NULL ||
	    strcmp(js(man, "format"), CASE_FORMAT) != 0) {
		bad(&v, "manifest.json: %s",
		    man == NULL ? je.text : "not a mailsift case manifest");
	} else {
		if (json_object_get(sums, "manifest.json") == NULL)
			bad(&v, "manifest.json: not in SHA256SUMS");
		/* everything the manifest lists is summed, and the reverse */
		files = json_object_get(man, "files");
		json_array_foreach(files, i,
		    f) if (json_object_get(sums, json_string_value(f)) == NULL)
		    bad(&v,
			"%s: listed by the manifest, not in "
			"SHA256SUMS",
			json_string_value(f));
		verify_manifest(man, sums, &v);
		if (optind < argc)
			verify_captures(man, argc - optind, argv + optind,
			    keylogs, nk, &v);
	}
	printf("%s: %d checks passed, %d failed\n", given, v.ok, v.bad);
	json_decref(man);
	json_decref(sums);
	if (dir == unpacked)
		remove_tree(scratch);
	return v.bad == 0 ? EXIT_OK : EXIT_PARTIAL;
}

int
cmd_case(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return case_export(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return case_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "iocs") == 0)
		return case_iocs(argc - 1, argv + 1);
	case_usage(argc >= 2 &&
		    (strcmp(argv[1], "--help") == 0 ||
			strcmp(argv[1], "-h") == 0) ?
		stdout :
		stderr);
	return argc >= 2 &&
		(strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ?
	    EXIT_OK :
	    EXIT_USAGE;
}
