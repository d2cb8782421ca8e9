/* \summary: query results as an aligned table, JSON lines or CSV */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/table.h"
#include "cli/termsafe.h"
#include "dissect/util.h"

#define CELL_MAX 256 /* bytes of a cell shown in a table */

static int
term_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 160;
}

/* Whether a column holds times, which are shown whole. */
static int
is_time(const char *name)
{
	return strcmp(name, "time") == 0 || strcmp(name, "start") == 0 ||
	    strcmp(name, "ts") == 0;
}

/* Display width of UTF-8 text: one column per character. */
static size_t
u8_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* Prints at most w columns of s, cutting on a character boundary, with an
 * ellipsis when cut, then pads to w. */
static void
put_cell(FILE *out, const char *s, size_t w, int last)
{
	size_t n = strlen(s), cols = 0, i = 0;

	if (u8_width(s, n) > w) {
		while (i < n && cols + 1 < w) {
			i++;
			while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
				i++;
			cols++;
		}
		fwrite(s, 1, i, out);
		fputs("\xe2\x80\xa6", out); /* ... */
		cols++;
	} else {
		fwrite(s, 1, n, out); /* escaped by term_escape */
		cols = u8_width(s, n);
	}
	if (!last)
		for (; cols < w + 2; cols++)
			putc(' ', out);
}

/*
 * s as a JSON string (RFC 8259): always valid UTF-8, whatever the wire
 * carried.  A byte that is not UTF-8 (a lone surrogate's ED A0 80, Latin-1
 * in a header) becomes U+FFFD, as PostgreSQL keeps it too; controls, DEL,
 * the C1 controls and the bidirectional marks a terminal acts on
 * (termsafe.h: --json read on one), and U+2028/U+2029 (line ends to a
 * JavaScript parser) are escaped.
 */
void
table_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		     n = strlen(s);

	putc('"', f);
	while (n > 0) {
		uint32_t c;
		size_t	 len = md_utf8_len(p, n, &c);

		if (len == 0) {
			fputs("\\ufffd", f);
			len = 1;
		} else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (term_acts_on(c) || c == 0x2028 || c == 0x2029)
			fprintf(f, "\\u%04x", (unsigned)c);
		else
			fwrite(p, 1, len, f);
		p += len;
		n -= len;
	}
	putc('"', f);
}

/* A CSV field (RFC 4180); with guard, a value a spreadsheet would take
 * for a formula (=, +, -, @, a tab or CR first) begins with a ' (the
 * subject of a hostile message is not to run in the analyst's Excel). */
static void
csv_field(FILE *f, const char *s, int guard)
{
	int formula = guard && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;

	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	if (formula)
		putc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

/* Comma-separated text as a JSON array of strings. */
static void
json_list(FILE *f, const char *s)
{
	putc('[', f);
	for (const char *p = s, *comma; p != NULL;
	     p = comma ? comma + 1 : NULL) {
		char *item;

		comma = strchr(p, ',');
		item = strndup(p, comma ? (size_t)(comma - p) : strlen(p));
		if (p != s)
			putc(',', f);
		table_json_string(f, item ? item : "");
		free(item);
	}
	putc(']', f);
}

/* A header's addresses as a JSON array: split at the commas outside
 * quotes, angle brackets and comments, each trimmed (as Zeek's
 * split_mime_email_addresses gives them). */
static void
json_addrs(FILE *f, const char *s)
{
	int	    quoted = 0, angle = 0, paren = 0, first = 1;
	const char *b = s;

	putc('[', f);
	for (const char *p = s;; p++) {
		if (*p == '\0' || (*p == ',' && !quoted && !angle && !paren)) {
			const char *e = p;
			char	   *item;

			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > b &&
			    (item = strndup(b, (size_t)(e - b))) != NULL) {
				if (!first)
					putc(',', f);
				first = 0;
				table_json_string(f, item);
				free(item);
			}
			if (*p == '\0')
				break;
			b = p + 1;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			angle = 1;
		else if (!quoted && *p == '>')
			angle = 0;
		else if (!quoted && *p == '(')
			paren++;
		else if (!quoted && *p == ')' && paren > 0)
			paren--;
	}
	putc(']', f);
}

/*
 * One row as a JSON object, NULL columns left out when skip_null.  A
 * column named "key:json" holds JSON text (an array, say) written as is
 * under "key"; one named "key:list" comma-separated text, written as a
 * JSON array of strings under "key"; "key:addrs" a header's addresses,
 * split as json_addrs does.
 */
void
table_row_json(FILE *f, struct query_rows *st, int skip_null)
{
	table_row_json_with(f, st, skip_null, -1, NULL);
}

void
table_row_json_with(FILE *f, struct query_rows *st, int skip_null, int col,
    const char *text)
{
	int ncol = query_columns(st), first = 1;

	putc('{', f);
	for (int c = 0; c < ncol; c++) {
		if (skip_null && query_type(st, c) == QUERY_NULL)
			continue;
		const char *name = query_name(st, c);
		const char *raw = strstr(name, ":json");
		const char *list = strstr(name, ":list");
		const char *addrs = strstr(name, ":addrs");

		if (!first)
			putc(',', f);
		first = 0;
		if (raw != NULL && raw[5] == '\0' &&
		    query_type(st, c) == QUERY_TEXT) {
			fprintf(f, "\"%.*s\":%s", (int)(raw - name), name,
			    query_text(st, c));
			continue;
		}
		if (list != NULL && list[5] == '\0' &&
		    query_type(st, c) == QUERY_TEXT) {
			fprintf(f, "\"%.*s\":", (int)(list - name), name);
			json_list(f, query_text(st, c));
			continue;
		}
		if (addrs != NULL && addrs[6] == '\0' &&
		    query_type(st, c) == QUERY_TEXT) {
			fprintf(f, "\"%.*s\":", (int)(addrs - name), name);
			json_addrs(f, query_text(st, c));
			continue;
		}
		table_json_string(f, name);
		putc(':', f);
		if (c == col) {
			table_json_string(f, text);
			continue;
		}
		switch (query_type(st, c)) {
		case QUERY_NULL:
			fputs("null", f);
			break;
		case QUERY_INTEGER:
			fprintf(f, "%lld", (long long)query_int(st, c));
			break;
		case QUERY_REAL:
			fprintf(f, "%.6f", query_real(st, c));
			break;
		default:
			table_json_string(f, query_text(st, c));
		}
	}
	fputs("}\n", f);
}

/* A row of CSV; on a terminal (tty) each field escaped first, as the
 * table's cells are: the wire's ESC ] and ESC [2J are not obeyed. */
static void
row_csv(FILE *f, struct query_rows *st, int ncol, int header, int guard,
    int tty)
{
	for (int c = 0; c < ncol; c++) {
		const char *t = header ? query_name(st, c) : query_text(st, c);
		char	   *e = tty ? term_escape(t) : NULL;

		if (c > 0)
			putc(',', f);
		csv_field(f, tty ? (e ? e : "?") : t ? t : "", guard);
		free(e);
	}
	putc('\n', f);
}

int
table_csv(FILE *f, struct query_rows *st, int guard)
{
	int ncol = query_columns(st), rc, n = 0, tty = isatty(fileno(f));

	row_csv(f, st, ncol, 1, guard, tty);
	while ((rc = query_next(st)) == 1) {
		row_csv(f, st, ncol, 0, guard, tty);
		n++;
	}
	return rc == 0 ? n : -1;
}

/*
 * A table: every row is read first (the caller's LIMIT bounds them) to
 * size the columns; wide columns share what the terminal leaves.
 */
/* Cuts s to at most max bytes, on a character boundary. */
static void
cell_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

static void
free_cells(char **cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

static int
print_table(FILE *out, struct query_rows *st, int wide, const char *null)
{
	int    ncol = query_columns(st), rc, avail;
	size_t nrows = 0, cap = 0, *w;
	char **cells = NULL;

	if ((w = calloc((size_t)ncol, sizeof(*w))) == NULL)
		return -1;
	for (int c = 0; c < ncol; c++)
		w[c] = u8_width(query_name(st, c), strlen(query_name(st, c)));
	while ((rc = query_next(st)) == 1) {
		if ((nrows + 1) * (size_t)ncol > cap) {
			size_t ncap = cap ? cap * 2 : 64 * (size_t)ncol;
			char **nc = realloc(cells, ncap * sizeof(*cells));

			if (nc == NULL)
				goto nomem;
			cells = nc;
			cap = ncap;
		}
		for (int c = 0; c < ncol; c++) {
			const char *t =
			    null != NULL && query_type(st, c) == QUERY_NULL ?
			    null :
			    query_text(st, c);
			char  *d = term_escape(t);
			size_t cw;

			if (d == NULL) {
				free_cells(cells,
				    nrows * (size_t)ncol + (size_t)c);
				free(w);
				return -1;
			}
			if (!wide)
				cell_cut(d, CELL_MAX);
			cw = u8_width(d, strlen(d));
			cells[nrows * (size_t)ncol + (size_t)c] = d;
			if (cw > w[c])
				w[c] = cw;
		}
		nrows++;
	}
	/* shrink the widest columns until the row fits the terminal; a time
	 * is never cut (to a date it would mislead) */
	avail = wide ? INT_MAX : term_width();
	for (;;) {
		int total = 0, widest = -1;

		for (int c = 0; c < ncol; c++) {
			total += (int)w[c] + 2;
			if (!is_time(query_name(st, c)) &&
			    (widest < 0 || w[c] > w[widest]))
				widest = c;
		}
		if (total <= avail || widest < 0 || w[widest] <= 12)
			break;
		w[widest]--;
	}
	for (int c = 0; c < ncol; c++)
		put_cell(out, query_name(st, c), w[c], c == ncol - 1);
	putc('\n', out);
	for (size_t r = 0; r < nrows; r++) {
		for (int c = 0; c < ncol; c++) {
			put_cell(out, cells[r * (size_t)ncol + (size_t)c], w[c],
			    c == ncol - 1);
			free(cells[r * (size_t)ncol + (size_t)c]);
		}
		putc('\n', out);
	}
	free(cells);
	free(w);
	return rc == 0 ? (int)nrows : -1;
nomem:
	free_cells(cells, nrows * (size_t)ncol);
	free(w);
	return -1;
}

int
table_fprint(FILE *out, struct query_rows *st, enum out_format fmt)
{
	int rc, n = 0;

	if (fmt == OUT_TABLE || fmt == OUT_WIDE)
		return print_table(out, st, fmt == OUT_WIDE, NULL);
	if (fmt == OUT_CSV)
		return table_csv(out, st, 0);
	while ((rc = query_next(st)) == 1) {
		table_row_json(out, st, 0);
		n++;
	}
	return rc == 0 ? n : -1;
}

int
table_print(struct query_rows *st, enum out_format fmt)
{
	return table_fprint(stdout, st, fmt);
}

int
table_print_values(struct query_rows *st, enum out_format fmt)
{
	if (fmt == OUT_TABLE || fmt == OUT_WIDE)
		return print_table(stdout, st, fmt == OUT_WIDE, "(none)");
	return table_fprint(stdout, st, fmt);
}
