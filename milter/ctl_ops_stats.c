/*
 * ctl_ops_stats - "feedbackctl stats": sends, events per class, bounce and
 * complaint rates
 *
 *	stats [--domain D] [--since WHEN] [--by day|domain|class|reason]
 *	      [--json | --csv]
 *
 * Counts the sends recorded since WHEN (default 7d: the last seven days)
 * and their events, for one sender domain or all, in one total row or
 * one row per group. The bounce rate is the share of sends with a hard or
 * soft event, the complaint rate the share with a complaint; both are
 * empty when there were no sends. Output: an aligned table with rates in
 * percent when standard output is a terminal, CSV otherwise (a head line,
 * rates as fractions), or one JSON object per row with --json:
 *
 *	{"group":null,"since":1763596800,"domain":null,"sends":12,
 *	 "events":{"unknown":0,"hard":2,...},"bounced":2,
 *	 "bounce_rate":0.1667,"complained":0,"complaint_rate":0.0000}
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl_ops.h"

enum { OPT_DOMAIN = 1, OPT_SINCE, OPT_BY, OPT_JSON, OPT_CSV };

/* the group, sends, each class, bounced and complained with their rates */
#define STATS_NCOLS (2 + FM_NCLASSES + 4)

static const char *const by_names[] = {
	[FM_STATS_TOTAL] = "total", [FM_STATS_DAY] = "day",
	[FM_STATS_DOMAIN] = "domain", [FM_STATS_CLASS] = "class",
	[FM_STATS_REASON] = "reason",
};

/* The query and where its rows go. */
typedef struct {
	fm_ops_fmt_t fmt;
	fm_stats_by_t by;
	time_t since;
	const char *domain;
	fm_ops_table_t *table;
	int nomem;
	unsigned long rows;
} stats_out_t;

/* rate - part/whole as a fraction or in percent; "" (or "-") for 0 sends */
static const char *
rate(long long part, long long whole, int percent, char *buf, size_t size)
{
	if (whole <= 0)
		snprintf(buf, size, "%s", percent ? "-" : "");
	else if (percent)
		snprintf(buf, size, "%.1f%%", 100.0 * (double)part /
			 (double)whole);
	else
		snprintf(buf, size, "%.4f", (double)part / (double)whole);
	return buf;
}

/* print_json - one row as a JSON object on one line */
static void
print_json(const fm_stats_row_t *r, const stats_out_t *o)
{
	char buf[32];
	size_t i;

	fputs("{\"group\":", stdout);
	fm_json_string(stdout, o->by == FM_STATS_TOTAL ? NULL : r->group);
	printf(",\"since\":%lld,\"domain\":", (long long)o->since);
	fm_json_string(stdout, o->domain);
	printf(",\"sends\":%lld,\"events\":{", r->sends);
	for (i = 0; i < FM_NCLASSES; i++)
		printf("%s\"%s\":%lld", i ? "," : "", fm_config_class_names[i],
		       r->events[i]);
	printf("},\"bounced\":%lld,\"bounce_rate\":%s", r->bounced,
	       r->sends > 0 ? rate(r->bounced, r->sends, 0, buf, sizeof(buf)) :
	       "null");
	printf(",\"complained\":%lld,\"complaint_rate\":%s}\n", r->complained,
	       r->sends > 0 ? rate(r->complained, r->sends, 0, buf,
				   sizeof(buf)) : "null");
}

/* each_row - the fm_stats_cb: print a CSV or JSON row, or keep it */
static int
each_row(const fm_stats_row_t *r, void *arg)
{
	stats_out_t *o = arg;
	char num[2 + FM_NCLASSES + 2][24], brate[16], crate[16];
	const char *row[STATS_NCOLS];
	int pct = o->fmt == FM_OPS_TABLE;
	size_t i, k = 0;

	o->rows++;
	if (o->fmt == FM_OPS_JSON) {
		print_json(r, o);
		return 0;
	}
	row[k++] = o->by == FM_STATS_TOTAL ? "total" :
	    r->group ? r->group : "-";
	snprintf(num[k], sizeof(num[k]), "%lld", r->sends);
	row[k] = num[k];
	k++;
	for (i = 0; i < FM_NCLASSES; i++, k++) {
		snprintf(num[k], sizeof(num[k]), "%lld", r->events[i]);
		row[k] = num[k];
	}
	snprintf(num[k], sizeof(num[k]), "%lld", r->bounced);
	row[k] = num[k];
	row[k + 1] = rate(r->bounced, r->sends, pct, brate, sizeof(brate));
	snprintf(num[k + 1], sizeof(num[k + 1]), "%lld", r->complained);
	row[k + 2] = num[k + 1];
	row[k + 3] = rate(r->complained, r->sends, pct, crate, sizeof(crate));
	if (o->fmt == FM_OPS_CSV) {
		fm_ops_csv_row(stdout, STATS_NCOLS, row);
	} else if (fm_ops_table_add(o->table, row) < 0) {
		o->nomem = 1;
		return 1;
	}
	return 0;
}

/* make_head - the head row: upper case for the table, lower for CSV */
static void
make_head(const stats_out_t *o, char names[STATS_NCOLS][24],
	  const char *head[STATS_NCOLS])
{
	static const char *const tail[] = {
		"bounced", "bounce_rate", "complained", "complaint_rate",
	};
	size_t i, k = 0;
	char *p;

	snprintf(names[k++], 24, "%s", o->fmt == FM_OPS_CSV ? "group" :
		 by_names[o->by]);
	snprintf(names[k++], 24, "sends");
	for (i = 0; i < FM_NCLASSES; i++)
		snprintf(names[k++], 24, "%s", fm_config_class_names[i]);
	for (i = 0; i < 4; i++)
		snprintf(names[k++], 24, "%s", tail[i]);
	for (i = 0; i < STATS_NCOLS; i++) {
		for (p = names[i]; o->fmt == FM_OPS_TABLE && *p; p++)
			*p = *p == '_' ? '-' : (char)toupper((unsigned char)*p);
		head[i] = names[i];
	}
}

/* stats_args - the options; 0, or the exit status of a usage error */
static int
stats_args(int argc, char **argv, stats_out_t *o)
{
	static const fm_ops_opt_t opts[] = {
		{"domain", 1, OPT_DOMAIN}, {"since", 1, OPT_SINCE},
		{"by", 1, OPT_BY}, {"json", 0, OPT_JSON}, {"csv", 0, OPT_CSV},
		{NULL, 0, 0},
	};
	const char *val;
	fm_ops_args_t a;
	size_t i;
	int id;

	fm_ops_args_init(&a, "stats", argc, argv);
	while ((id = fm_ops_next(&a, opts, &val)) != FM_OPS_END) {
		switch (id) {
		case OPT_DOMAIN:
			o->domain = val[0] == '@' ? val + 1 : val;
			break;
		case OPT_SINCE:
			if (fm_ops_since(val, time(NULL), &o->since) < 0) {
				fprintf(stderr, "feedbackctl: stats: \"%s\" is "
					"not a duration, a date or \"all\"\n",
					val);
				goto usage;
			}
			break;
		case OPT_BY:
			for (i = 1; i < sizeof(by_names) / sizeof(*by_names); i++)
				if (strcmp(val, by_names[i]) == 0)
					break;
			if (i == sizeof(by_names) / sizeof(*by_names)) {
				fprintf(stderr, "feedbackctl: stats: --by "
					"takes day, domain, class or reason\n");
				goto usage;
			}
			o->by = (fm_stats_by_t)i;
			break;
		case OPT_JSON: o->fmt = FM_OPS_JSON; break;
		case OPT_CSV: o->fmt = FM_OPS_CSV; break;
		default: goto usage;
		}
	}
	return 0;
usage:
	return fm_ops_usage("stats [--domain D] [--since WHEN] "
			    "[--by day|domain|class|reason] [--json | --csv]");
}

/* fm_ctl_stats - stats [--domain D] [--since WHEN] [--by G] [--json|--csv] */
int
fm_ctl_stats(const fm_config_t *cfg, int argc, char **argv)
{
	char names[STATS_NCOLS][24], err[512], tbuf[32];
	const char *head[STATS_NCOLS];
	stats_out_t o;
	fm_stats_row_t zero;
	fm_store_t *st = NULL;
	int status;

	memset(&o, 0, sizeof(o));
	o.fmt = isatty(STDOUT_FILENO) ? FM_OPS_TABLE : FM_OPS_CSV;
	o.since = time(NULL) - 7 * 86400;
	if ((status = stats_args(argc, argv, &o)) != 0)
		return status;
	make_head(&o, names, head);
	if (o.fmt == FM_OPS_TABLE && (o.table = fm_ops_table_new(STATS_NCOLS,
	    head, "lrrrrrrrrrrrr")) == NULL) {
		o.nomem = 1;
		goto out;
	}
	if ((st = fm_ops_open(cfg, 1)) == NULL) {
		status = EX_CONFIG;
		goto out;
	}
	if (o.fmt == FM_OPS_CSV)
		fm_ops_csv_row(stdout, STATS_NCOLS, head);
	if (fm_store_stats_query(st, o.since, o.domain, o.by, each_row, &o,
				 err, sizeof(err)) < 0) {
		fprintf(stderr, "feedbackctl: stats: %s\n", err);
		status = EX_CONFIG;
		goto out;
	}
	if (o.rows == 0 && o.by == FM_STATS_TOTAL && !o.nomem) {
		memset(&zero, 0, sizeof(zero));
		each_row(&zero, &o);
	}
	if (o.table != NULL && !o.nomem) {
		if (o.since)
			printf("since %s UTC, ", fm_ops_time(o.since, tbuf,
							    sizeof(tbuf)));
		printf("%s%s\n\n", o.domain ? "sender domain " :
		       "all sender domains", o.domain ? o.domain : "");
		fm_ops_table_print(o.table, stdout);
	}
	status = fm_ops_flush();
out:
	if (o.nomem) {
		fprintf(stderr, "feedbackctl: stats: out of memory\n");
		status = EX_SOFTWARE;
	}
	fm_store_close(st);
	fm_ops_table_free(o.table);
	return status;
}
