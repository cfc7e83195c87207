/*
 * ctl_parse - the "feedbackctl parse" command
 *
 * Reads each FILE (or standard input for "-") into memory, runs
 * fm_report_parse() on each message in it (a file may be an mbox holding
 * several), the same pipeline the milter runs, and prints one line per
 * reported recipient:
 *
 *	feedbackctl parse --json bounce.eml
 *	{"file":"bounce.eml","kind":"dsn","recipient":"bob@example.org",
 *	 "class":"hard","reason":"userunknown","status":"5.1.1",...}
 *
 * Without --json it prints a table whose columns are aligned over all
 * files; long diagnostics are shortened there (never in JSON). Values
 * come from the parser as clean UTF-8 without control characters; file
 * names are escaped here.
 *
 * Exit status: 0 every file was read and parsed, 1 some file could not be
 * read (or parsing ran out of memory), 64 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ops.h"
#include "ctl_parse.h"
#include "mime.h"
#include "report.h"

#define CTL_EX_USAGE 64
#define CTL_MAX_FILE (64u << 20)	/* larger files are refused */
#define CTL_DIAG_WIDTH 60		/* diagnostic column of the table */

/* One table row; the columns before the diagnostic are aligned. */
enum { COL_FILE, COL_RCPT, COL_CLASS, COL_REASON, COL_STATUS, COL_ACTION,
	COL_DIAG, COL_COUNT };

typedef struct {
	char *col[COL_COUNT];
} ctl_row_t;

typedef struct {
	ctl_row_t *rows;
	size_t n, size;
	int nomem;
} ctl_table_t;

/* read_file - whole file (or stdin for "-") into a malloc'd buffer */
static char *read_file(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t size = 0, n = 0, got;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (n == size) {
			size = size ? size * 2 : 65536;
			if (size > CTL_MAX_FILE + 1 ||
			    (nb = realloc(buf, size)) == NULL) {
				errno = size > CTL_MAX_FILE ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		if ((got = fread(buf + n, 1, size - n, fp)) == 0)
			break;
		n += got;
	}
	if (ferror(fp))
		goto fail;
	if (fp != stdin)
		fclose(fp);
	*len = n;
	return buf;
fail:
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return NULL;
}

/* json_str - a JSON string; control octets escaped, bad UTF-8 replaced */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else if (*p < 0x80)
			putchar(*p);
		else {
			size_t k = 0, need = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 :
			    *p >= 0xc2 ? 1 : 9;

			while (k < need && k < 3 && (p[k + 1] & 0xc0) == 0x80)
				k++;
			if (need > 3 || k != need) {
				fputs("\\ufffd", stdout);
				continue;
			}
			fwrite(p, 1, k + 1, stdout);
			p += k;
		}
	}
	putchar('"');
}

/* json_kv - ,"key":"value" */
static void json_kv(const char *key, const char *value)
{
	printf(",\"%s\":", key);
	json_str(value);
}

/* print_json - one line per recipient of one file */
static void print_json(const char *file, const fm_report_t *r)
{
	size_t i;

	for (i = 0; i < r->nrcpts || (i == 0 && r->nrcpts == 0); i++) {
		const fm_rcpt_report_t *o = r->nrcpts ? &r->rcpts[i] : NULL;

		fputs("{\"file\":", stdout);
		json_str(file);
		json_kv("kind", fm_kind_name(r->kind));
		json_kv("recipient", o ? o->recipient : "");
		json_kv("orig_recipient", o ? o->orig_recipient : "");
		json_kv("class", fm_class_name(o ? o->cls : FM_CLASS_UNKNOWN));
		json_kv("reason", o ? fm_reason_name(o->reason) : "");
		json_kv("status", o ? o->status : "");
		json_kv("action", o ? o->action : "");
		printf(",\"reply_code\":%d", o ? o->reply_code : 0);
		json_kv("command", o ? o->command : "");
		json_kv("diagnostic", o ? o->diagnostic : "");
		json_kv("remote_mta", o ? o->remote_mta : "");
		json_kv("reporting_mta", r->reporting_mta);
		json_kv("feedback_type", o ? o->feedback_type : "");
		json_kv("message_id", r->orig_message_id);
		json_kv("orig_sender", r->orig_sender);
		fputs("}\n", stdout);
	}
}

/* table_add - append a row of copies; marks nomem on failure */
static void table_add(ctl_table_t *t, const char *const col[COL_COUNT])
{
	ctl_row_t *row;
	int i;

	if (t->n == t->size) {
		size_t size = t->size ? t->size * 2 : 64;
		ctl_row_t *nr = realloc(t->rows, size * sizeof(*nr));

		if (nr == NULL) {
			t->nomem = 1;
			return;
		}
		t->rows = nr;
		t->size = size;
	}
	row = &t->rows[t->n];
	for (i = 0; i < COL_COUNT; i++) {
		size_t len = strlen(col[i]);

		if (i == COL_DIAG && len > CTL_DIAG_WIDTH)
			len = CTL_DIAG_WIDTH;
		while (i == COL_DIAG && len > 0 &&
		       ((unsigned char)col[i][len] & 0xc0) == 0x80)
			len--;	/* do not cut a UTF-8 character */
		if ((row->col[i] = strndup(col[i], len)) == NULL)
			t->nomem = 1;
		else
			fm_ops_tty_clean(row->col[i]);
	}
	t->n++;
}

/* table_rows - the rows of one file */
static void table_rows(ctl_table_t *t, const char *file, const fm_report_t *r)
{
	const char *col[COL_COUNT];
	size_t i;

	if (r->nrcpts == 0) {
		const char *none[COL_COUNT] = {
			file, "-", "no report", "-", "-", "-", r->subject,
		};

		table_add(t, none);
		return;
	}
	for (i = 0; i < r->nrcpts; i++) {
		const fm_rcpt_report_t *o = &r->rcpts[i];

		col[COL_FILE] = file;
		col[COL_RCPT] = o->recipient[0] ? o->recipient : "-";
		col[COL_CLASS] = fm_class_name(o->cls);
		col[COL_REASON] = fm_reason_name(o->reason);
		col[COL_STATUS] = o->status[0] ? o->status : "-";
		col[COL_ACTION] = o->action[0] ? o->action : "-";
		col[COL_DIAG] = o->cls == FM_CLASS_COMPLAINT ?
		    o->feedback_type : o->diagnostic;
		table_add(t, col);
	}
}

/* table_print - the rows with aligned columns, then release them */
static void table_print(ctl_table_t *t)
{
	static const char *const head[COL_COUNT] = {
		"FILE", "RECIPIENT", "CLASS", "REASON", "STATUS", "ACTION",
		"DIAGNOSTIC",
	};
	int w[COL_COUNT], i;
	size_t k;

	for (i = 0; i < COL_COUNT; i++)
		w[i] = (int)strlen(head[i]);
	for (k = 0; k < t->n; k++)
		for (i = 0; i < COL_DIAG; i++)
			if (t->rows[k].col[i] &&
			    (int)strlen(t->rows[k].col[i]) > w[i])
				w[i] = (int)strlen(t->rows[k].col[i]);
	for (i = 0; i < COL_COUNT; i++)
		printf("%-*s%s", i < COL_DIAG ? w[i] : 0, head[i],
		       i < COL_DIAG ? "  " : "\n");
	for (k = 0; k < t->n; k++) {
		for (i = 0; i < COL_COUNT; i++) {
			const char *v = t->rows[k].col[i] ? t->rows[k].col[i] :
			    "";

			printf("%-*s%s", i < COL_DIAG ? w[i] : 0, v,
			       i < COL_DIAG ? "  " : "\n");
			free(t->rows[k].col[i]);
		}
	}
	free(t->rows);
}

/* parse_messages - every message of a file (mbox files hold several) */
static int parse_messages(const char *file, const char *buf, size_t len,
			  int json, ctl_table_t *table)
{
	size_t off = 0, start, n;
	fm_report_t r;
	int status = 0;

	do {
		n = fm_mime_mbox_next(buf, len, &off, &start);
		if (fm_report_parse(buf + start, n, &r) != FM_REPORT_OK) {
			fprintf(stderr, "feedbackctl: %s: out of memory\n",
				file);
			status = 1;
		} else if (json) {
			print_json(file, &r);
		} else {
			table_rows(table, file, &r);
		}
		fm_report_free(&r);
	} while (off < len);
	return status;
}

/* fm_ctl_parse - feedbackctl parse [--json] FILE... */
int fm_ctl_parse(int argc, char **argv)
{
	ctl_table_t table = { NULL, 0, 0, 0 };
	int json = 0, status = 0, i = 0;

	if (argc > 0 && strcmp(argv[0], "--json") == 0) {
		json = 1;
		i = 1;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: feedbackctl parse [--json] FILE...\n");
		return CTL_EX_USAGE;
	}
	if (fm_report_init() < 0) {
		fprintf(stderr, "feedbackctl: cannot initialise the parser\n");
		return 1;
	}
	for (; i < argc; i++) {
		size_t len;
		char *buf;

		if ((buf = read_file(argv[i], &len)) == NULL) {
			fprintf(stderr, "feedbackctl: %s: %s\n", argv[i],
				strerror(errno));
			status = 1;
			continue;
		}
		status |= parse_messages(argv[i], buf, len, json, &table);
		free(buf);
	}
	if (!json)
		table_print(&table);
	if (table.nomem) {
		fprintf(stderr, "feedbackctl: out of memory\n");
		status = 1;
	}
	return status;
}
