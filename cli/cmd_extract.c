/* \summary: mailsift extract: messages and their attachments, from the log */
/*
 * The log keeps every message's bytes beside it, by SHA-256
 * (LOG.db.blobs/AB/ABCD...; see mailsift read --no-keep), so an analyst
 * who did not ask for --extract while reading loses nothing: this writes
 * DIR/S-T.eml and, parsed again by the same MIME code, the attachments
 * into DIR/S-T.parts/ under safe names.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "dissect/dissect.h"
#include "store/keep.h"
#include "dissect/mime.h"
#include "store/safename.h"

/* Writes the parts with a file name (or marked attachment) as they come;
 * a forwarded message (message/rfc822) stays open around its own parts. */
struct parts_out {
	char	 dir[4096], err[4400];
	int	 made;
	FILE	*f[MD_PART_KINDS]; /* one per md_part_kind open at once */
	uint64_t part[MD_PART_KINDS];
	int	 files, errors;
};

static int
parts_emit(void *arg, const struct md_event *ev)
{
	struct parts_out *o = arg;
	char		  name[512], fb[160], *path;
	int		  k;

	switch (ev->type) {
	case MD_EV_PART_BEGIN:
		k = ev->num[1] < MD_PART_KINDS ? (int)ev->num[1] : MD_PART_LEAF;
		if (ev->extra.len == 0 && ev->code != MD_DISP_ATTACHMENT)
			break;
		if (!o->made && keep_dir(o->dir, o->err, sizeof(o->err)) != 0) {
			if (o->errors++ == 0)
				fprintf(stderr, "mailsift: %s\n", o->err);
			break;
		}
		o->made = 1;
		snprintf(name, sizeof(name), "%.*s", (int)ev->extra.len,
		    (const char *)ev->extra.p);
		snprintf(fb, sizeof(fb), "part-%.*s", (int)ev->name.len,
		    (const char *)ev->name.p);
		if (o->f[k] != NULL && fclose(o->f[k]) != 0)
			o->errors++;
		if ((o->f[k] = safe_create(o->dir, name, fb, &path)) == NULL) {
			if (o->errors++ == 0)
				fprintf(stderr, "mailsift: %s/%s: %s\n", o->dir,
				    name[0] ? name : fb, strerror(errno));
			break;
		}
		free(path);
		o->part[k] = ev->num[0];
		o->files++;
		break;
	case MD_EV_PART_DATA:
		for (k = 0; k < MD_PART_KINDS; k++)
			if (o->f[k] != NULL && ev->num[0] == o->part[k] &&
			    fwrite(ev->arg.p, 1, ev->arg.len, o->f[k]) !=
				ev->arg.len)
				o->errors++;
		break;
	case MD_EV_PART_END:
		for (k = 0; k < MD_PART_KINDS; k++)
			if (o->f[k] != NULL && ev->num[0] == o->part[k]) {
				if (fclose(o->f[k]) != 0)
					o->errors++;
				o->f[k] = NULL;
			}
		break;
	default:
		break;
	}
	return 0;
}

int
cli_mime_replay(FILE *in, const struct md_sink *out, FILE *copy)
{
	static const struct md_flow flow = { .id = 1 };
	struct md_event		    ev = { .flow = &flow, .tx = 1 };
	struct md_sink		    tap_in;
	struct mime_tap		   *tap;
	char			    buf[65536];
	size_t			    n;
	int			    rc = 0;

	if ((tap = mime_tap_new(out)) == NULL)
		return -1;
	mime_tap_sink(tap, &tap_in);
	ev.type = MD_EV_MSG_BEGIN;
	tap_in.emit(tap_in.arg, &ev);
	ev.type = MD_EV_MSG_DATA;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (copy != NULL && fwrite(buf, 1, n, copy) != n)
			rc = -1;
		ev.arg.p = (const uint8_t *)buf;
		ev.arg.len = n;
		tap_in.emit(tap_in.arg, &ev);
	}
	ev.type = MD_EV_MSG_END;
	ev.arg.len = 0;
	ev.code = 1;
	tap_in.emit(tap_in.arg, &ev);
	mime_tap_free(tap);
	return rc;
}

/* Copies the kept bytes to DIR/S-T.eml and the attachments beside. */
static int
extract_one(struct query *db, const char *out, long sid, long tx,
    const char *sha)
{
	struct parts_out po = { .made = 0 };
	struct md_sink	 parts = { parts_emit, &po };
	char		 err[4400], name[64], base[48], *path;
	FILE		*f, *g;
	int		 rc;

	if ((f = query_blob(db, sha, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailsift: message %ld-%ld: %s\n", sid, tx,
		    err);
		return -1;
	}
	keep_eml_base(sid, (uint32_t)tx, base, sizeof(base));
	snprintf(name, sizeof(name), "%s.eml", base);
	if ((g = safe_create(out, name, name, &path)) == NULL) {
		fprintf(stderr, "mailsift: %s/%s: %s\n", out, name,
		    strerror(errno));
		fclose(f);
		return -1;
	}
	snprintf(po.dir, sizeof(po.dir), "%s/%s.parts", out, base);
	rc = cli_mime_replay(f, &parts, g);
	for (int k = 0; k < MD_PART_KINDS;
	     k++) /* a part the MIME tap left open */
		if (po.f[k] != NULL && fclose(po.f[k]) != 0)
			po.errors++;
	fclose(f);
	if (fclose(g) != 0 || po.errors > 0)
		rc = -1;
	printf("%s%s\n", path, po.files ? " (+ attachments)" : "");
	free(path);
	return rc;
}

int
cmd_extract(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char	  *db_path = "mailsift.db", *out = NULL;
	struct query_rows *st;
	struct query	  *db;
	char		   err[4400];
	int		   c, all = 0, rc = EXIT_OK, found = 0;

	while ((c = getopt_long(argc, argv, "d:o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			printf("usage: mailsift extract MESSAGE... | --all "
			       "[-d LOG.db] -o DIR\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (out == NULL || (all == (optind < argc))) {
		fprintf(stderr,
		    "usage: mailsift extract MESSAGE... | --all "
		    "[-d LOG.db] -o DIR\n");
		return EXIT_USAGE;
	}
	if (keep_dir(out, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailsift: %s\n", err);
		return EXIT_USAGE;
	}
	if ((db = cli_open_log(db_path)) == NULL)
		return EXIT_USAGE;
	if ((st = query_prepare(db,
		 "SELECT id, session_id, tx, sha256, kept"
		 " FROM messages WHERE (?1 = 1 OR id = ?2) AND sha256 IS NOT NULL"
		 " ORDER BY id")) == NULL) {
		fprintf(stderr, "mailsift: %s: %s\n", db_path, query_error(db));
		query_close(db);
		return EXIT_USAGE;
	}
	for (int i = all ? argc - 1 : optind; i < argc; i++) {
		query_bind_int(st, 1, all);
		query_bind_int(st, 2, all ? 0 : atol(argv[i]));
		while (query_next(st) == 1) {
			found++;
			if (!query_int(st, 4)) {
				fprintf(stderr,
				    "mailsift: message %lld: its bytes "
				    "were not kept (read --no-keep)\n",
				    (long long)query_int(st, 0));
				rc = EXIT_PARTIAL;
				continue;
			}
			if (extract_one(db, out, (long)query_int(st, 1),
				(long)query_int(st, 2), query_text(st, 3)) != 0)
				rc = EXIT_PARTIAL;
		}
		query_reset(st);
	}
	query_finish(st);
	query_close(db);
	if (found == 0) {
		fprintf(stderr, "mailsift: no such message in %s\n", db_path);
		return EXIT_USAGE;
	}
	return rc;
}
