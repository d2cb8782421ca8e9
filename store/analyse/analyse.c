/* \summary: the analysis stage: messages and parts in, results out in order */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "store/analyse/analyse.h"
#include "dissect/util.h"

#define DKIM_CHECKS   4	 /* signatures a message has its body checked for */
#define PATH_MAX_HOPS 30 /* Received addresses in the path, as Zeek */

/* An end given, waiting for its results. */
struct an_end {
	struct an_end  *next;
	void	       *owner;
	struct an_msg  *m; /* a message; NULL: a part (or nothing to work) */
	struct an_part *p;
	struct hstream *hash; /* ready: its results are */
};

struct analysis {
	struct hasher	   *hasher;
	struct typer	   *typer; /* libmagic, shared by the workers */
	const struct rules *rules;
	int		    sha1;
	struct x509_trust  *trust; /* the CA store, loaded when first needed */
	an_result_fn	    done;
	void		   *arg;
	struct an_end	   *head, **tail; /* oldest first */
	size_t		    nends;
};

struct an_part {
	struct hstream	   *hash;    /* SHA-256 and MD5 (and SHA-1) */
	struct content_job *job;     /* its type by content, on the worker */
	uint64_t	    seen;    /* decoded bytes so far */
	uint8_t		    head[8]; /* its first bytes: an archive's? */
};

/* A DKIM signature whose body hash is worked out again. */
struct dkim_check {
	int		  row; /* its message_auth row */
	int		  sha1;
	char		  bh[96];
	struct dkim_canon canon;
	struct hstream	 *hash;
};

/* What the header says of the sender, and the checks on the body. */
struct msg_auth {
	int		  nrows;
	char		 *from, *to, *reply_to, *return_path;
	char		  path[PATH_MAX_HOPS * (MSGAUTH_IP_MAX + 1)];
	char		  last_hop[MSGAUTH_IP_MAX];
	int		  hops;
	char		  x_originating_ip[MSGAUTH_IP_MAX];
	struct dkim_check check[DKIM_CHECKS];
	int		  nchecks;
	unsigned	  findings;
};

struct an_msg {
	struct analysis	   *an;
	struct hstream	   *sha; /* the message, and its body form */
	struct content_job *job; /* --yara: the whole message scanned */
	struct msg_auth	   *auth;
	int		    whole;
};

struct analysis *
analysis_new(const struct analysis_opts *o, an_result_fn done, void *arg)
{
	struct analysis *an = calloc(1, sizeof(*an));

	if (an == NULL)
		return NULL;
	if ((an->hasher = hasher_new(o->workers, content_slot_free)) == NULL ||
	    (an->typer = typer_new()) == NULL) {
		hasher_free(an->hasher);
		free(an);
		return NULL;
	}
	an->rules = o->rules;
	an->sha1 = o->sha1;
	an->done = done;
	an->arg = arg;
	an->tail = &an->head;
	return an;
}

static void
end_drop(struct an_end *e)
{
	if (e->m != NULL)
		an_msg_drop(e->m);
	if (e->p != NULL)
		an_part_drop(e->p);
	free(e);
}

void
analysis_free(struct analysis *an)
{
	struct an_end *e;

	if (an == NULL)
		return;
	while ((e = an->head) != NULL) {
		an->head = e->next;
		end_drop(e);
	}
	hasher_free(an->hasher); /* its scanners, before the rules go */
	typer_free(an->typer);
	x509_trust_free(an->trust);
	free(an);
}

/* ------------------------------------------------------------ ends */

static void msg_deliver(struct analysis *, struct an_msg *, void *owner);
static void part_deliver(struct analysis *, struct an_part *, void *owner);

static void
deliver_head(struct analysis *an)
{
	struct an_end *e = an->head;

	if ((an->head = e->next) == NULL)
		an->tail = &an->head;
	an->nends--;
	if (e->m != NULL)
		msg_deliver(an, e->m, e->owner);
	else
		part_deliver(an, e->p, e->owner);
	free(e);
}

void
an_deliver(struct analysis *an, int wait)
{
	while (an->head != NULL &&
	    (wait || an->head->hash == NULL || hstream_ready(an->head->hash)))
		deliver_head(an);
}

void
an_abandon(struct analysis *an, void (*drop)(void *, void *, int))
{
	struct an_end *e;

	while ((e = an->head) != NULL) {
		if ((an->head = e->next) == NULL)
			an->tail = &an->head;
		an->nends--;
		drop(an->arg, e->owner, e->m != NULL);
		end_drop(e);
	}
}

size_t
an_pending(const struct analysis *an)
{
	return an->nends;
}

/* Queues an end until its results are ready; past AN_END_MAX the oldest is
 * waited for. */
static void
end_push(struct analysis *an, struct an_msg *m, struct an_part *p,
    struct hstream *hash, void *owner)
{
	struct an_end *e;

	if (hash != NULL)
		hstream_end(hash);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		an_deliver(an, 1); /* keep the order */
		if (m != NULL)
			msg_deliver(an, m, owner);
		else
			part_deliver(an, p, owner);
		return;
	}
	e->owner = owner;
	e->m = m;
	e->p = p;
	e->hash = hash;
	*an->tail = e;
	an->tail = &e->next;
	if (++an->nends > AN_END_MAX)
		deliver_head(an);
}

/* ------------------------------------------------------------ parts */

struct an_part *
an_part_begin(struct analysis *an, const uint8_t *declared, size_t dlen,
    const uint8_t *filename, size_t flen, int attachment, int start_lost)
{
	struct an_part *p = calloc(1, sizeof(*p));

	if (p == NULL ||
	    (p->hash = hstream_new(an->hasher,
		 HS_MD5 | (an->sha1 ? HS_SHA1 : 0))) == NULL) {
		free(p);
		return NULL;
	}
	if ((p->job = calloc(1, sizeof(*p->job))) == NULL)
		return p; /* digests only */
	snprintf(p->job->declared, sizeof(p->job->declared), "%.*s", (int)dlen,
	    (const char *)declared);
	snprintf(p->job->filename, sizeof(p->job->filename), "%.*s", (int)flen,
	    (const char *)filename);
	p->job->rules = an->rules;
	p->job->typer = an->typer;
	p->job->start_lost = start_lost;
	p->job->body_text = flen == 0 && !attachment &&
	    (strcasecmp(p->job->declared, "text/plain") == 0 ||
		strcasecmp(p->job->declared, "text/html") == 0);
	/* its first bytes for libmagic, all of them for the rules (to their
	 * bound), an archive whole */
	hstream_keep(p->hash,
	    an->rules != NULL ? RULES_SCAN_MAX : CONTENT_MAGIC_BYTES,
	    CONTENT_ARCHIVE_MAX, content_is_archive);
	return p;
}

void
an_part_data(struct an_part *p, const uint8_t *b, size_t n)
{
	hstream_update(p->hash, b, n);
	for (size_t i = 0; p->seen + i < sizeof(p->head) && i < n; i++)
		p->head[p->seen + i] = b[i];
	p->seen += n;
}

void
an_part_gap(struct an_part *p)
{
	/* a part whose first bytes went is not typed by what follows */
	if (p != NULL && p->job != NULL && p->seen < CONTENT_MAGIC_BYTES)
		p->job->start_lost = 1;
}

void
an_part_end(struct analysis *an, struct an_part *p, const char *text,
    size_t tlen, void *owner)
{
	if (p != NULL && p->job != NULL) {
		/* an encrypted archive's password is often in the text; only
		 * an archive's (the words are looked for in the whole text) */
		if (text != NULL &&
		    content_is_archive(p->head,
			p->seen < sizeof(p->head) ? p->seen : sizeof(p->head)))
			content_passwords(p->job, text, tlen);
		hstream_then(p->hash, content_analyse, p->job);
	}
	end_push(an, NULL, p, p != NULL ? p->hash : NULL, owner);
}

void
an_part_drop(struct an_part *p)
{
	if (p == NULL)
		return;
	if (p->hash != NULL)
		hstream_finish(p->hash, NULL);
	content_job_free(p->job);
	free(p);
}

static void
part_deliver(struct analysis *an, struct an_part *p, void *owner)
{
	struct an_result    r = { .owner = owner,
		   .magic = "",
		   .findings = "",
		   .password = "" };
	struct content_job *j = p != NULL ? p->job : NULL;
	char		    findings[96];

	if (p != NULL) {
		hstream_finish(p->hash, &r.d);
		p->hash = NULL;
	}
	if (j != NULL) {
		if (j->hits.timeouts > 0 || j->hits.cut > 0)
			j->findings |= CF_SCAN_BUDGET;
		r.magic = j->magic;
		if (j->findings != 0)
			r.findings = content_findings_str(j->findings, findings,
			    sizeof(findings));
		r.password = j->password;
		r.entries = j->entries;
		r.nentries = j->nentries;
		r.hits = &j->hits;
	}
	an->done(an->arg, &r);
	an_part_drop(p);
}

/* ------------------------------------------------------- messages */

struct an_msg *
an_msg_begin(struct analysis *an)
{
	struct an_msg *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->an = an;
	/* the message's digest, and its body form's (v_message_journeys) */
	if ((m->sha = hstream_new(an->hasher, HS_BODY)) == NULL) {
		free(m);
		return NULL;
	}
	if (an->rules != NULL &&
	    (m->job = calloc(1, sizeof(*m->job))) != NULL) {
		m->job->rules = an->rules; /* the whole message scanned too */
		hstream_keep(m->sha, RULES_SCAN_MAX, RULES_SCAN_MAX, NULL);
	}
	return m;
}

void
an_msg_data(struct an_msg *m, const uint8_t *p, size_t n)
{
	hstream_update(m->sha, p, n);
	for (int i = 0; m->auth != NULL && i < m->auth->nchecks; i++)
		dkim_canon_feed(&m->auth->check[i].canon, p, n);
}

static struct msg_auth *
auth_of(struct an_msg *m)
{
	if (m->auth == NULL)
		m->auth = calloc(1, sizeof(*m->auth));
	return m->auth;
}

static void
canon_out(void *arg, const uint8_t *p, size_t n)
{
	hstream_update(arg, p, n);
}

/* A DKIM-Signature's body hash, to check at the end (sha256 or sha1). */
static void
check_begin(struct analysis *an, struct msg_auth *a, const struct auth_row *r)
{
	struct dkim_check *c;
	int		   sha1 = strstr(r->algorithm, "sha1") != NULL;

	if (a->nchecks == DKIM_CHECKS || r->body_hash[0] == '\0' ||
	    (!sha1 && strstr(r->algorithm, "sha256") == NULL))
		return;
	c = &a->check[a->nchecks];
	if ((c->hash = hstream_new(an->hasher, sha1 ? HS_SHA1 : 0)) == NULL)
		return;
	a->nchecks++;
	c->row = a->nrows;
	c->sha1 = sha1;
	memcpy(c->bh, r->body_hash, sizeof(c->bh));
	dkim_canon_init(&c->canon, r->canon, r->body_length, canon_out,
	    c->hash);
}

struct row_ctx {
	struct an_msg *m;
	an_auth_row_fn row;
	void	      *arg;
};

static void
on_row(void *arg, const struct auth_row *r)
{
	struct row_ctx	*x = arg;
	struct msg_auth *a = auth_of(x->m);

	if (a == NULL)
		return;
	a->nrows++;
	x->row(x->arg, a->nrows, r);
	if (strcmp(r->kind, "dkim-signature") == 0)
		check_begin(x->m->an, a, r);
}

static int
name_is(const uint8_t *name, size_t nlen, const char *s)
{
	return md_ci_equal(name, nlen, s);
}

/* The first of each field impersonation is judged by. */
static void
keep_field(struct msg_auth *a, const uint8_t *name, size_t nlen,
    const uint8_t *decoded, size_t dlen)
{
	static const char *const names[] = { "From", "To", "Reply-To",
		"Return-Path" };
	char **slot[] = { &a->from, &a->to, &a->reply_to, &a->return_path };

	for (int i = 0; i < 4; i++)
		if (name_is(name, nlen, names[i]) && *slot[i] == NULL)
			*slot[i] = strndup((const char *)decoded, dlen);
}

/*
 * The hops a message took, from its Received fields (as Zeek's smtp.log
 * builds its path: of the addresses in a field, the second when there
 * are more, the one that names the sending host; a hop only when it
 * differs from the last), and X-Originating-IP.
 */
static void
keep_addresses(struct msg_auth *a, const uint8_t *name, size_t nlen,
    const uint8_t *raw, size_t rlen)
{
	char   ips[4][MSGAUTH_IP_MAX], value[2048];
	size_t n;

	if (rlen >= sizeof(value))
		return;
	memcpy(value, raw, rlen);
	value[rlen] = '\0';
	n = msgauth_ips(value, ips, 4);
	if (n == 0)
		return;
	if (name_is(name, nlen, "X-Originating-IP")) {
		if (a->x_originating_ip[0] == '\0')
			memcpy(a->x_originating_ip, ips[0], MSGAUTH_IP_MAX);
		return;
	}
	if (a->hops == PATH_MAX_HOPS || strcmp(ips[n > 1], a->last_hop) == 0)
		return;
	memcpy(a->last_hop, ips[n > 1], MSGAUTH_IP_MAX);
	snprintf(a->path + strlen(a->path), sizeof(a->path) - strlen(a->path),
	    "%s%s", a->hops ? "," : "", a->last_hop);
	a->hops++;
}

void
an_msg_header(struct an_msg *m, const uint8_t *name, size_t nlen,
    const uint8_t *raw, size_t rlen, const uint8_t *decoded, size_t dlen,
    an_auth_row_fn row, void *arg)
{
	struct row_ctx x = { m, row, arg };
	int	       addr = name_is(name, nlen, "Received") ||
	    name_is(name, nlen, "X-Originating-IP");
	char cname[64], *value;

	if (nlen >= sizeof(cname))
		return;
	memcpy(cname, name, nlen);
	cname[nlen] = '\0';
	if (m->auth != NULL || addr || name_is(name, nlen, "From") ||
	    name_is(name, nlen, "To") || name_is(name, nlen, "Reply-To") ||
	    name_is(name, nlen, "Return-Path")) {
		if (auth_of(m) == NULL)
			return;
		keep_field(m->auth, name, nlen, decoded, dlen);
		if (addr)
			keep_addresses(m->auth, name, nlen, raw, rlen);
	}
	/* the raw value: a signature's tags as they were signed */
	if ((value = strndup((const char *)raw, rlen)) == NULL)
		return;
	(void)msgauth_field(cname, value, rlen, on_row, &x);
	free(value);
}

void
an_msg_end(struct analysis *an, struct an_msg *m, int whole, void *owner)
{
	struct msg_auth *a = m->auth;

	m->whole = whole;
	if (a != NULL) {
		for (int i = 0; i < a->nchecks; i++) {
			dkim_canon_finish(&a->check[i].canon);
			hstream_end(a->check[i].hash);
		}
		a->findings = msgauth_impersonation(a->from, a->reply_to,
		    a->return_path, a->to);
	}
	if (m->job != NULL)
		hstream_then(m->sha, content_scan_message, m->job);
	end_push(an, m, NULL, m->sha, owner);
}

void
an_msg_drop(struct an_msg *m)
{
	struct msg_auth *a;

	if (m == NULL)
		return;
	if (m->sha != NULL)
		hstream_finish(m->sha, NULL);
	content_job_free(m->job);
	if ((a = m->auth) != NULL) {
		for (int i = 0; i < a->nchecks; i++)
			if (a->check[i].hash != NULL)
				hstream_finish(a->check[i].hash, NULL);
		free(a->from);
		free(a->to);
		free(a->reply_to);
		free(a->return_path);
		free(a);
	}
	free(m);
}

/* Hex digest to bytes. */
static size_t
unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = 0;

	for (; h[0] != '\0' && h[1] != '\0' && n < cap; h += 2)
		out[n++] = (unsigned char)(md_hex_value((uint8_t)h[0]) << 4 |
		    md_hex_value((uint8_t)h[1]));
	return n;
}

/* The DKIM body verdicts (only a whole message has the body that was
 * signed) and what the header said of the sender. */
static void
auth_results(struct an_msg *m, struct an_result *r, char *f, size_t flen)
{
	struct msg_auth *a = m->auth;

	r->auth_findings = r->path = r->x_originating_ip = "";
	if (a == NULL)
		return;
	for (int i = 0; i < a->nchecks; i++) {
		struct dkim_check *c = &a->check[i];
		struct hdigests	   d;
		unsigned char	   raw[32];
		size_t		   n;
		int		   eq;

		hstream_finish(c->hash, &d);
		c->hash = NULL;
		if (!m->whole)
			continue;
		n = unhex(c->sha1 ? d.sha1 : d.sha256, raw, sizeof(raw));
		if ((eq = dkim_bh_equal(c->bh, raw, n)) < 0)
			continue;
		if (!eq)
			a->findings |= DKIM_BODY_CHANGED;
		r->check_row[r->nchecks] = c->row;
		r->check_match[r->nchecks++] = eq;
	}
	if (a->findings != 0)
		r->auth_findings = msgauth_findings_str(a->findings, f, flen);
	r->path = a->path;
	r->x_originating_ip = a->x_originating_ip;
}

static void
msg_deliver(struct analysis *an, struct an_msg *m, void *owner)
{
	struct an_result r = { .owner = owner, .is_msg = 1 };
	char		 f[160];

	hstream_finish(m->sha, &r.d);
	m->sha = NULL;
	/* only a whole message has an identity to link hops by */
	if (!m->whole)
		r.d.body[0] = '\0';
	r.hits = m->job != NULL ? &m->job->hits : NULL;
	auth_results(m, &r, f, sizeof(f));
	an->done(an->arg, &r);
	an_msg_drop(m);
}

/* ------------------------------------------------------ certificates */

int
an_cert_read(const uint8_t *der, size_t n, struct x509_info *x)
{
	return x509_read(der, n, x);
}

const char *
an_chain_verdict(struct analysis *an, const uint8_t *const *der,
    const size_t *len, size_t n, double t, const char *const *names, int *match,
    size_t nnames)
{
	if (an->trust == NULL)
		an->trust = x509_trust_new();
	return x509_validate(an->trust, der, len, n, t, names, match, nnames);
}

/* ------------------------------------------------------------ files */

int
an_fd_sha256(int fd, char hex[HASH_HEX_MAX], int64_t *size)
{
	EVP_MD_CTX   *ctx = EVP_MD_CTX_new();
	unsigned char buf[1 << 16], md[32];
	ssize_t	      n = -1;
	int64_t	      total = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += n;
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	md_hex_encode(md, 32, hex);
	if (size != NULL)
		*size = total;
	return n == 0 ? 0 : -1;
}
