/* \summary: YARA rules over parts, archived files and messages (rules.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yara.h>

#include "store/analyse/rules.h"
#include "dissect/util.h"

struct rules {
	YR_RULES *yr;
};

/* The first compiler error, for the message. */
static void
compile_error(int level, const char *file, int line, const YR_RULE *rule,
    const char *msg, void *arg)
{
	char *err = arg;

	(void)rule;
	if (level == YARA_ERROR_LEVEL_ERROR && err[0] == '\0')
		snprintf(err, 256, "%s:%d: %s", file ? file : "?", line, msg);
}

struct rules *
rules_load(const char *path, char *err, size_t errlen)
{
	struct rules *r = calloc(1, sizeof(*r));
	YR_COMPILER  *c = NULL;
	FILE	     *f = NULL;
	char	      why[256] = "";

	if (r == NULL || yr_initialize() != ERROR_SUCCESS) {
		snprintf(err, errlen, "YARA: cannot start");
		free(r);
		return NULL;
	}
	/* rules compiled by yarac load as they are; source is compiled */
	if (yr_rules_load(path, &r->yr) == ERROR_SUCCESS)
		return r;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot read", path);
		goto fail;
	}
	if (yr_compiler_create(&c) != ERROR_SUCCESS)
		goto fail;
	yr_compiler_set_callback(c, compile_error, why);
	if (yr_compiler_add_file(c, f, NULL, path) != 0 ||
	    yr_compiler_get_rules(c, &r->yr) != ERROR_SUCCESS) {
		snprintf(err, errlen, "%s", why[0] ? why : "YARA: no rules");
		goto fail;
	}
	yr_compiler_destroy(c);
	fclose(f);
	return r;
fail:
	if (c != NULL)
		yr_compiler_destroy(c);
	if (f != NULL)
		fclose(f);
	free(r);
	yr_finalize();
	return NULL;
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	yr_rules_destroy(r->yr);
	free(r);
	yr_finalize();
}

void
rules_scanner_free(void *scanner)
{
	if (scanner != NULL)
		yr_scanner_destroy(scanner);
}

void
rule_hits_free(struct rule_hits *h)
{
	free(h->m);
	memset(h, 0, sizeof(*h));
}

/* s as a JSON string into out at *k: control bytes escaped, a byte that
 * is not UTF-8 as U+FFFD (a rule's metadata may hold anything). */
static void
json_str(char *out, size_t len, size_t *k, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		     n = strlen(s);

	if (*k < len)
		out[(*k)++] = '"';
	while (n > 0 && *k + 8 < len) {
		uint32_t c;
		size_t	 l = md_utf8_len(p, n, &c);

		if (l == 0)
			*k += (size_t)snprintf(out + *k, len - *k, "\\ufffd"),
			    l = 1;
		else if (c == '"' || c == '\\')
			*k += (size_t)snprintf(out + *k, len - *k, "\\%c",
			    (int)c);
		else if (c < 0x20 || c == 0x7f)
			*k += (size_t)snprintf(out + *k, len - *k, "\\u%04x",
			    (unsigned)c);
		else if (*k + l + 8 < len) {
			memcpy(out + *k, p, l);
			*k += l;
		} else
			break;
		p += l;
		n -= l;
	}
	if (*k < len)
		out[(*k)++] = '"';
}

/* The rule's metadata as a JSON object. */
static void
meta_json(const YR_RULE *rule, char *out, size_t len)
{
	const YR_META *meta;
	size_t	       k = 0;
	int	       first = 1;

	out[k++] = '{';
	yr_rule_metas_foreach(rule, meta)
	{
		if (k + 16 >= len)
			break;
		if (!first)
			out[k++] = ',';
		first = 0;
		json_str(out, len - 2, &k, meta->identifier);
		out[k++] = ':';
		if (meta->type == META_TYPE_STRING)
			json_str(out, len - 2, &k, meta->string);
		else if (meta->type == META_TYPE_BOOLEAN)
			k += (size_t)snprintf(out + k, len - 2 - k, "%s",
			    meta->integer ? "true" : "false");
		else
			k += (size_t)snprintf(out + k, len - 2 - k, "%lld",
			    (long long)meta->integer);
		if (k > len - 2)
			k = len - 2;
	}
	out[k++] = '}';
	out[k] = '\0';
}

struct scan_ctx {
	struct rule_hits *hits;
	int		  entry;
};

static int
on_scan(YR_SCAN_CONTEXT *context, int message, void *message_data,
    void *user_data)
{
	struct scan_ctx	  *x = user_data;
	struct rule_hits  *h = x->hits;
	const YR_RULE	  *rule = message_data;
	struct rule_match *m;
	const char	  *tag;
	size_t		   k = 0;

	(void)context;
	if (message != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	if (h->n == RULES_MATCHES_MAX) {
		h->over++;
		return CALLBACK_CONTINUE;
	}
	if (h->n == h->cap) {
		int		   cap = h->cap ? 2 * h->cap : 4;
		struct rule_match *b = realloc(h->m, (size_t)cap * sizeof(*b));

		if (b == NULL) {
			h->over++;
			return CALLBACK_CONTINUE;
		}
		h->m = b;
		h->cap = cap;
	}
	m = &h->m[h->n++];
	memset(m, 0, sizeof(*m));
	m->entry = x->entry;
	snprintf(m->rule, sizeof(m->rule), "%s", rule->identifier);
	snprintf(m->ns, sizeof(m->ns), "%s", rule->ns->name);
	yr_rule_tags_foreach(rule, tag)
	{
		k += (size_t)snprintf(m->tags + k,
		    k < sizeof(m->tags) ? sizeof(m->tags) - k : 0, "%s%s",
		    k ? "," : "", tag);
	}
	meta_json(rule, m->meta, sizeof(m->meta));
	return CALLBACK_CONTINUE;
}

void
rules_scan(const struct rules *r, void **scanner, const unsigned char *p,
    size_t n, int all, int entry, struct rule_hits *hits)
{
	struct scan_ctx x = { hits, entry };
	YR_SCANNER     *s = *scanner;

	if (s == NULL) {
		if (yr_scanner_create(r->yr, &s) != ERROR_SUCCESS)
			return;
		yr_scanner_set_timeout(s, RULES_SCAN_SECONDS);
		*scanner = s;
	}
	if (n > RULES_SCAN_MAX || !all) {
		n = n > RULES_SCAN_MAX ? RULES_SCAN_MAX : n;
		hits->cut++;
	}
	yr_scanner_set_callback(s, on_scan, &x);
	hits->scans++;
	if (yr_scanner_scan_mem(s, p, n) == ERROR_SCAN_TIMEOUT)
		hits->timeouts++;
}
