/*
 * ctl_ops_supp - "feedbackctl suppression": the recipients that follow-up
 * rules (or an operator) suppressed
 *
 *	suppression list [--all] [--json | --csv]
 *	suppression add ADDRESS [--reason TEXT] [--expires DURATION]
 *	suppression remove ADDRESS
 *	suppression export --postfix | --json | --csv
 *
 * list prints the active suppressions by address (--all: expired ones
 * too) as an aligned table, one JSON object per line, or CSV with a head
 * line. export prints the active ones for other programs: as JSON lines,
 * as CSV, or as a Postfix lookup table for check_recipient_access,
 *
 *	bob@example.org REJECT hard userunknown 5.1.1
 *
 * with the reason cut down to printable ASCII; addresses that cannot be
 * a key of such a table (white space, control characters, a leading '#')
 * are left out with a warning. ADDRESS may come in angle brackets; it is
 * stored in lowercase. add makes or replaces an operator's entry; remove
 * lifts any entry and exits 1 when there was none.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "ctl_ops.h"
#include "rewrite.h"

#define REASON_MAX 200		/* octets of a reason in a Postfix table */

enum { OPT_ALL = 1, OPT_JSON, OPT_CSV, OPT_POSTFIX, OPT_REASON,
       OPT_EXPIRES };

enum { FMT_POSTFIX = FM_OPS_JSON + 1 };

static const char *const supp_head[] = {
	"ADDRESS", "REASON", "CLASS", "SINCE", "EXPIRES", "SOURCE",
};
static const char *const supp_csv_head[] = {
	"address", "reason", "class", "since", "expires", "source",
};
#define SUPP_NCOLS (sizeof(supp_head) / sizeof(supp_head[0]))

/* What the list callback needs. */
typedef struct {
	int fmt;		/* fm_ops_fmt_t or FMT_POSTFIX */
	time_t now;
	fm_ops_table_t *table;
	int nomem;
	unsigned long skipped;	/* not usable as a Postfix key */
} supp_out_t;

/* print_json - one suppression as a JSON object on one line */
static void
print_json(const fm_suppression_t *s, time_t now)
{
	fputs("{\"address\":", stdout);
	fm_json_string(stdout, s->address);
	fputs(",\"reason\":", stdout);
	fm_json_string(stdout, s->reason);
	fputs(",\"class\":", stdout);
	fm_json_string(stdout, s->cls);
	printf(",\"since\":%lld,\"expires\":", (long long)s->created);
	if (s->expires)
		printf("%lld", (long long)s->expires);
	else
		fputs("null", stdout);
	printf(",\"expired\":%s,\"source\":",
	       s->expires && s->expires <= now ? "true" : "false");
	fm_json_string(stdout, s->source);
	if (s->event_id > 0)
		printf(",\"event_id\":%lld}\n", s->event_id);
	else
		fputs(",\"event_id\":null}\n", stdout);
}

/* postfix_key_ok - can the address be a key of a Postfix table? */
static int
postfix_key_ok(const char *addr)
{
	const unsigned char *p = (const unsigned char *)addr;

	if (*p == '\0' || *p == '#')
		return 0;
	for (; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* postfix_reason - the reason as one line of printable ASCII */
static void
postfix_reason(const char *reason, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)(reason ? reason : "");
	size_t n = 0;
	int space = 0;

	for (; *p && n + 2 < size; p++) {
		if (*p <= 0x20 || *p == 0x7f) {
			space = n > 0;
			continue;
		}
		if ((*p & 0xc0) == 0x80)
			continue;	/* rest of a non-ASCII character */
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = *p < 0x80 ? (char)*p : '?';
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, size, "suppressed");
}

/* print_postfix - one line of the lookup table */
static void
print_postfix(const fm_suppression_t *s, supp_out_t *o)
{
	char reason[REASON_MAX + 1];

	if (!postfix_key_ok(s->address)) {
		fputs("feedbackctl: suppression export: left out an address "
		      "that cannot be a Postfix table key: ", stderr);
		fm_json_string(stderr, s->address);
		fputc('\n', stderr);
		o->skipped++;
		return;
	}
	postfix_reason(s->reason, reason, sizeof(reason));
	printf("%s REJECT %s\n", s->address, reason);
}

/* each_supp - the fm_suppression_cb: one row in the chosen format */
static int
each_supp(const fm_suppression_t *s, void *arg)
{
	supp_out_t *o = arg;
	char since[32], tbuf[32], expires[48];
	const char *row[SUPP_NCOLS];

	row[0] = s->address;
	row[1] = s->reason;
	row[2] = s->cls;
	row[5] = s->source;
	switch (o->fmt) {
	case FM_OPS_JSON:
		print_json(s, o->now);
		return 0;
	case FMT_POSTFIX:
		print_postfix(s, o);
		return 0;
	case FM_OPS_CSV:
		row[3] = fm_ops_time_iso(s->created, since, sizeof(since));
		row[4] = fm_ops_time_iso(s->expires, expires, sizeof(expires));
		fm_ops_csv_row(stdout, SUPP_NCOLS, row);
		return 0;
	}
	row[3] = fm_ops_time(s->created, since, sizeof(since));
	row[4] = fm_ops_time(s->expires, tbuf, sizeof(tbuf));
	if (s->expires == 0)
		row[4] = "never";
	if (s->expires != 0 && s->expires <= o->now) {
		snprintf(expires, sizeof(expires), "%s (expired)", tbuf);
		row[4] = expires;
	}
	if (fm_ops_table_add(o->table, row) < 0) {
		o->nomem = 1;
		return 1;
	}
	return 0;
}

/* postfix_head - comment lines at the top of the lookup table */
static void
postfix_head(time_t now)
{
	char tbuf[32];

	printf("# Suppressed recipients, from feedbackctl suppression export "
	       "--postfix\n# at %s UTC. Build it with postmap(1) and use it "
	       "with\n# check_recipient_access in smtpd_recipient_restrictions."
	       "\n", fm_ops_time(now, tbuf, sizeof(tbuf)));
}

/* supp_print - list or export in the format fmt */
static int
supp_print(const fm_config_t *cfg, int fmt, int all)
{
	supp_out_t o;
	fm_store_t *st;
	char err[512];
	int status = EX_OK;

	memset(&o, 0, sizeof(o));
	o.fmt = fmt;
	o.now = time(NULL);
	if (fmt == FM_OPS_TABLE &&
	    (o.table = fm_ops_table_new(SUPP_NCOLS, supp_head, "llllll")) ==
	    NULL)
		goto nomem;
	if ((st = fm_ops_open(cfg, 1)) == NULL) {
		status = EX_CONFIG;
		goto out;
	}
	if (fmt == FM_OPS_CSV)
		fm_ops_csv_row(stdout, SUPP_NCOLS, supp_csv_head);
	else if (fmt == FMT_POSTFIX)
		postfix_head(o.now);
	if (fm_store_each_suppression(st, o.now, all, each_supp, &o, err,
				      sizeof(err)) < 0) {
		fprintf(stderr, "feedbackctl: suppression: %s\n", err);
		status = EX_CONFIG;
	}
	fm_store_close(st);
	if (o.nomem)
		goto nomem;
	if (o.table != NULL)
		fm_ops_table_print(o.table, stdout);
	if (status == EX_OK)
		status = fm_ops_flush();
	goto out;
nomem:
	fprintf(stderr, "feedbackctl: suppression: out of memory\n");
	status = EX_SOFTWARE;
out:
	fm_ops_table_free(o.table);
	return status;
}

/* cmd_print - list [--all] [--json|--csv]; export --postfix|--json|--csv */
static int
cmd_print(const fm_config_t *cfg, const char *cmd, int argc, char **argv)
{
	static const fm_ops_opt_t list_opts[] = {
		{"all", 0, OPT_ALL}, {"json", 0, OPT_JSON}, {"csv", 0, OPT_CSV},
		{NULL, 0, 0},
	};
	static const fm_ops_opt_t export_opts[] = {
		{"postfix", 0, OPT_POSTFIX}, {"json", 0, OPT_JSON},
		{"csv", 0, OPT_CSV}, {NULL, 0, 0},
	};
	int export = strcmp(cmd, "suppression export") == 0;
	int id, fmt = -1, all = 0;
	const char *val;
	fm_ops_args_t a;

	fm_ops_args_init(&a, cmd, argc, argv);
	while ((id = fm_ops_next(&a, export ? export_opts : list_opts,
				 &val)) != FM_OPS_END) {
		switch (id) {
		case OPT_ALL: all = 1; break;
		case OPT_JSON: fmt = fmt < 0 ? FM_OPS_JSON : -2; break;
		case OPT_CSV: fmt = fmt < 0 ? FM_OPS_CSV : -2; break;
		case OPT_POSTFIX: fmt = fmt < 0 ? FMT_POSTFIX : -2; break;
		default: fmt = -3; break;
		}
	}
	if (fmt == -1 && !export)
		fmt = FM_OPS_TABLE;
	if (fmt < 0)
		return fm_ops_usage(export ?
		    "suppression export --postfix | --json | --csv" :
		    "suppression list [--all] [--json | --csv]");
	return supp_print(cfg, fmt, all);
}

/* get_address - ADDRESS (brackets allowed) in lowercase; -1 if malformed */
static int
get_address(const char *arg, char *addr, size_t size)
{
	const char *at;
	char *p;
	int bracketed;

	if (fm_addr_strip(arg, addr, size, &bracketed) < 0)
		return -1;
	for (p = addr; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return -1;
		*p = (char)tolower((unsigned char)*p);
	}
	at = strrchr(addr, '@');
	return at == NULL || at == addr || at[1] == '\0' ? -1 : 0;
}

/* add_args - ADDRESS [--reason TEXT] [--expires DURATION] into s */
static int
add_args(int argc, char **argv, char *addr, size_t size,
	 fm_suppression_t *s)
{
	static const fm_ops_opt_t opts[] = {
		{"reason", 1, OPT_REASON}, {"expires", 1, OPT_EXPIRES},
		{NULL, 0, 0},
	};
	const char *val, *arg = NULL, *p;
	long long secs;
	fm_ops_args_t a;
	int id;

	fm_ops_args_init(&a, "suppression add", argc, argv);
	while ((id = fm_ops_next(&a, opts, &val)) != FM_OPS_END) {
		if (id == FM_OPS_OPERAND && arg == NULL) {
			arg = val;
		} else if (id == OPT_REASON) {
			for (p = val; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					goto bad_reason;
			s->reason = val;
		} else if (id == OPT_EXPIRES) {
			if (fm_ops_duration(val, &secs) < 0 || secs == 0)
				goto bad_expiry;
			s->expires = s->created + (time_t)secs;
		} else {
			return -1;
		}
	}
	if (arg == NULL)
		return -1;
	if (get_address(arg, addr, size) < 0) {
		fprintf(stderr, "feedbackctl: suppression add: \"%s\" is not "
			"an address\n", arg);
		return -1;
	}
	s->address = addr;
	return 0;
bad_reason:
	fprintf(stderr, "feedbackctl: suppression add: the reason has "
		"control characters\n");
	return -1;
bad_expiry:
	fprintf(stderr, "feedbackctl: suppression add: \"%s\" is not a "
		"duration (a number with s, m, h, d or w, such as 30d)\n", val);
	return -1;
}

/* cmd_add - add ADDRESS [--reason TEXT] [--expires DURATION] */
static int
cmd_add(const fm_config_t *cfg, int argc, char **argv)
{
	char addr[FM_ADDR_MAX], err[512], tbuf[32];
	fm_suppression_t s;
	fm_store_t *st;
	int status = EX_OK;

	memset(&s, 0, sizeof(s));
	s.created = time(NULL);
	s.reason = "operator";
	s.source = "operator";
	if (add_args(argc, argv, addr, sizeof(addr), &s) < 0)
		return fm_ops_usage("suppression add ADDRESS [--reason TEXT] "
				    "[--expires DURATION]");
	if ((st = fm_ops_open(cfg, 0)) == NULL)
		return EX_CONFIG;
	if (fm_store_suppress(st, &s, err, sizeof(err)) != FM_STORE_OK) {
		fprintf(stderr, "feedbackctl: suppression add: %s: %s\n", addr,
			err);
		status = EX_CONFIG;
		goto out;
	}
	printf("%s: suppressed (%s), ", addr, s.reason);
	if (s.expires)
		printf("until %s UTC\n", fm_ops_time(s.expires, tbuf,
						     sizeof(tbuf)));
	else
		printf("until removed\n");
	status = fm_ops_flush();
out:
	fm_store_close(st);
	return status;
}

/* cmd_remove - remove ADDRESS */
static int
cmd_remove(const fm_config_t *cfg, int argc, char **argv)
{
	char addr[FM_ADDR_MAX], err[512];
	fm_store_t *st;
	int status = EX_OK;

	if (argc != 1 || argv[0][0] == '-')
		return fm_ops_usage("suppression remove ADDRESS");
	if (get_address(argv[0], addr, sizeof(addr)) < 0) {
		fprintf(stderr, "feedbackctl: suppression remove: \"%s\" is "
			"not an address\n", argv[0]);
		return EX_USAGE;
	}
	if ((st = fm_ops_open(cfg, 0)) == NULL)
		return EX_CONFIG;
	switch (fm_store_unsuppress(st, addr, err, sizeof(err))) {
	case FM_STORE_OK:
		printf("%s: suppression removed\n", addr);
		status = fm_ops_flush();
		break;
	case FM_STORE_NOTFOUND:
		fprintf(stderr, "feedbackctl: %s: not suppressed\n", addr);
		status = FM_OPS_EX_NONE;
		break;
	default:
		fprintf(stderr, "feedbackctl: suppression remove: %s: %s\n",
			addr, err);
		status = EX_CONFIG;
		break;
	}
	fm_store_close(st);
	return status;
}

/* fm_ctl_suppression - list, add, remove or export */
int
fm_ctl_suppression(const fm_config_t *cfg, int argc, char **argv)
{
	if (argc < 1)
		goto usage;
	if (strcmp(argv[0], "list") == 0)
		return cmd_print(cfg, "suppression list", argc - 1, argv + 1);
	if (strcmp(argv[0], "export") == 0)
		return cmd_print(cfg, "suppression export", argc - 1,
				 argv + 1);
	if (strcmp(argv[0], "add") == 0)
		return cmd_add(cfg, argc - 1, argv + 1);
	if (strcmp(argv[0], "remove") == 0)
		return cmd_remove(cfg, argc - 1, argv + 1);
	fprintf(stderr, "feedbackctl: suppression: unknown subcommand "
		"\"%s\"\n", argv[0]);
usage:
	return fm_ops_usage("suppression list|add|remove|export ...");
}
