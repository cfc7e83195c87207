/*
 * ctl_ops - what the operations commands of feedbackctl share
 *
 * The commands themselves live in ctl_ops_supp.c (suppression),
 * ctl_ops_stats.c (stats), ctl_ops_events.c (events) and ctl_ops_prune.c
 * (prune); see ctl_ops.h for their synopsis. This file holds their common
 * parts:
 *
 *	fm_ops_next()		a scanner for long options ("--since 7d",
 *				"--since=7d", "--" ends the options)
 *	fm_ops_duration()	"90d" to seconds (a unit is required: a bare
 *				"90" given to prune would mean seconds)
 *	fm_ops_since()		"7d", "2026-11-01" or "all" to a time
 *	fm_json_string()	JSON strings, always valid UTF-8 (utf8.c)
 *	fm_ops_csv_row()	RFC 4180 records (quoted where needed, quotes
 *				doubled; lines end in LF)
 *	fm_ops_table_*()	tables with aligned columns for terminals;
 *				control characters are shown as '?'
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strptime, timegm */
#endif
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "ctl_ops.h"

struct fm_ops_table {
	size_t ncols;
	char **cells;		/* row-major, the head first */
	size_t nrows;		/* with the head */
	size_t size;		/* rows allocated */
	char *align;
};

/* fm_ops_args_init - scan argv[0..argc) of the command cmd */
void
fm_ops_args_init(fm_ops_args_t *a, const char *cmd, int argc, char **argv)
{
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->i = 0;
	a->operands_only = 0;
}

/* find_opt - the option named by arg (len octets, without "--") */
static const fm_ops_opt_t *
find_opt(const fm_ops_opt_t *opts, const char *arg, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, arg, len) == 0)
			return opts;
	return NULL;
}

/* fm_ops_next - the next option, operand or the end */
int
fm_ops_next(fm_ops_args_t *a, const fm_ops_opt_t *opts, const char **val)
{
	const fm_ops_opt_t *o;
	const char *arg, *eq;
	size_t len;

	*val = NULL;
	if (a->i >= a->argc)
		return FM_OPS_END;
	arg = a->argv[a->i++];
	if (!a->operands_only && strcmp(arg, "--") == 0) {
		a->operands_only = 1;
		return fm_ops_next(a, opts, val);
	}
	if (a->operands_only || arg[0] != '-' || arg[1] == '\0') {
		*val = arg;
		return FM_OPS_OPERAND;
	}
	if (arg[1] != '-') {
		fprintf(stderr, "feedbackctl: %s: unknown option \"%s\"\n",
			a->cmd, arg);
		return FM_OPS_BAD;
	}
	eq = strchr(arg + 2, '=');
	len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	if ((o = find_opt(opts, arg + 2, len)) == NULL) {
		fprintf(stderr, "feedbackctl: %s: unknown option \"%.*s\"\n",
			a->cmd, (int)len + 2, arg);
		return FM_OPS_BAD;
	}
	if (!o->has_arg && eq != NULL) {
		fprintf(stderr, "feedbackctl: %s: --%s takes no value\n",
			a->cmd, o->name);
		return FM_OPS_BAD;
	}
	if (o->has_arg) {
		if (eq != NULL) {
			*val = eq + 1;
		} else if (a->i < a->argc) {
			*val = a->argv[a->i++];
		} else {
			fprintf(stderr, "feedbackctl: %s: --%s needs a value\n",
				a->cmd, o->name);
			return FM_OPS_BAD;
		}
	}
	return o->id;
}

/* fm_ops_usage - the synopsis of one command; returns EX_USAGE */
int
fm_ops_usage(const char *synopsis)
{
	fprintf(stderr, "usage: feedbackctl [-c config-file] %s\n", synopsis);
	return EX_USAGE;
}

/* fm_ops_duration - NUMBER followed by s, m, h, d or w, to seconds */
int
fm_ops_duration(const char *s, long long *secs)
{
	long long n, mult;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (end[0]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return -1;
	}
	if (n > 100LL * 366 * 86400 / mult)
		return -1;
	*secs = n * mult;
	return 0;
}

/* parse_date - YYYY-MM-DD, optionally THH:MM or THH:MM:SS (or a space), UTC */
static int
parse_date(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *t = end + 1;

		if ((end = strptime(t, "%H:%M:%S", &tm)) == NULL &&
		    (end = strptime(t, "%H:%M", &tm)) == NULL)
			return -1;
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* fm_ops_since - a duration before now, a date, or "all" */
int
fm_ops_since(const char *s, time_t now, time_t *out)
{
	long long secs;

	if (strcmp(s, "all") == 0) {
		*out = 0;
		return 0;
	}
	if (fm_ops_duration(s, &secs) == 0) {
		*out = now > secs ? now - (time_t)secs : 0;
		return 0;
	}
	return parse_date(s, out);
}

/* fm_ops_time - "YYYY-MM-DD HH:MM:SS" in UTC, "-" for 0 */
const char *
fm_ops_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* fm_ops_time_iso - "YYYY-MM-DDTHH:MM:SSZ", "" for 0 */
const char *
fm_ops_time_iso(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "%s", "");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* fm_ops_csv_row - fields quoted when they hold , " CR or LF */
void
fm_ops_csv_row(FILE *fp, size_t n, const char *const *fields)
{
	const char *f, *p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', fp);
		if ((f = fields[i]) == NULL)
			continue;
		if (strpbrk(f, ",\"\r\n") == NULL) {
			fputs(f, fp);
			continue;
		}
		fputc('"', fp);
		for (p = f; *p; p++) {
			if (*p == '"')
				fputc('"', fp);
			fputc(*p, fp);
		}
		fputc('"', fp);
	}
	fputc('\n', fp);
}

/* fm_ops_open - open the Database of cfg */
fm_store_t *
fm_ops_open(const fm_config_t *cfg, int rdonly)
{
	fm_store_t *st;
	char err[512];

	st = fm_store_open(cfg->database, rdonly ? FM_STORE_RDONLY : 0,
			   cfg->busy_timeout_ms, err, sizeof(err));
	if (st == NULL)
		fprintf(stderr, "feedbackctl: %s: Database: %s\n", cfg->path,
			err);
	return st;
}

/* fm_ops_flush - flush stdout, report a write error */
int
fm_ops_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "feedbackctl: cannot write the output: %s\n",
			strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

/* fm_ops_table_new - a table with its head row */
fm_ops_table_t *
fm_ops_table_new(size_t ncols, const char *const *head, const char *align)
{
	fm_ops_table_t *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	if ((t->align = strdup(align)) == NULL ||
	    fm_ops_table_add(t, head) < 0) {
		fm_ops_table_free(t);
		return NULL;
	}
	return t;
}

/* fm_ops_tty_clean - control characters (C0, DEL, C1) become '?' */
void
fm_ops_tty_clean(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			*p = '?', *++p = '?';
}

/* cell_dup - a copy for display: control characters become '?' */
static char *
cell_dup(const char *s)
{
	char *copy;

	if ((copy = strdup(s ? s : "-")) == NULL)
		return NULL;
	fm_ops_tty_clean(copy);
	return copy;
}

/* fm_ops_table_add - append a row of copies */
int
fm_ops_table_add(fm_ops_table_t *t, const char *const *cols)
{
	size_t i;
	char **row;

	if (t->nrows == t->size) {
		size_t size = t->size ? t->size * 2 : 32;
		char **nc = realloc(t->cells, size * t->ncols * sizeof(*nc));

		if (nc == NULL)
			return -1;
		t->cells = nc;
		t->size = size;
	}
	row = t->cells + t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		if ((row[i] = cell_dup(cols[i])) == NULL) {
			while (i-- > 0)
				free(row[i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

/* width - display columns of a UTF-8 string (one per character) */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* fm_ops_table_print - every row, columns two spaces apart */
void
fm_ops_table_print(const fm_ops_table_t *t, FILE *fp)
{
	size_t *w, r, c, pad;
	const char *cell;

	if ((w = calloc(t->ncols, sizeof(*w))) == NULL)
		return;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if (width(t->cells[r * t->ncols + c]) > w[c])
				w[c] = width(t->cells[r * t->ncols + c]);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			cell = t->cells[r * t->ncols + c];
			pad = w[c] - width(cell);
			if (t->align[c] == 'r')
				fprintf(fp, "%*s%s", (int)pad, "", cell);
			else if (c + 1 < t->ncols)
				fprintf(fp, "%s%*s", cell, (int)pad, "");
			else
				fputs(cell, fp);
			fputs(c + 1 < t->ncols ? "  " : "\n", fp);
		}
	}
	free(w);
}

/* fm_ops_table_free - release the table and its cells */
void
fm_ops_table_free(fm_ops_table_t *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->align);
	free(t);
}
