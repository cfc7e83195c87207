/*
 * ctl_ops - the operations commands of feedbackctl: suppressions,
 * statistics, events and pruning
 *
 *	suppression list [--all] [--json | --csv]
 *	suppression add ADDRESS [--reason TEXT] [--expires DURATION]
 *	suppression remove ADDRESS
 *	suppression export --postfix | --json | --csv
 *	stats [--domain D] [--since WHEN] [--by day|domain|class|reason]
 *	      [--json | --csv]
 *	events [--since WHEN] [--class C] [--domain D] [--recipient ADDR]
 *	       [--code CODE] [--limit N] [--json | --csv] [--follow]
 *	prune --older-than DURATION [--dry-run]
 *
 * A DURATION is a number with a unit: s, m, h, d or w ("90d"). WHEN is a
 * DURATION before now, a date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS], UTC)
 * or "all". The store is opened read-only except by add, remove and
 * prune. The caller (feedbackctl.c) has loaded the configuration and, when
 * run as root, already acts as the owner of the database.
 *
 * Exit status: 0 done; 1 nothing found where that means something
 * (remove of an address that was not suppressed); 64 usage; 70 out of
 * memory; 74 standard output cannot be written; 78 the store cannot be
 * opened or read. An empty list, or nothing to prune, is not an error.
 *
 * The second half of this header is shared by milter/ctl_ops*.c only: the
 * option scanner, output helpers (JSON, CSV, aligned tables) and parsing
 * of durations and times.
 */
#ifndef FM_CTL_OPS_H
#define FM_CTL_OPS_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "store.h"
#include "utf8.h"

/* fm_ctl_suppression - argv holds the arguments after "suppression" */
int fm_ctl_suppression(const fm_config_t *cfg, int argc, char **argv);

/* fm_ctl_stats - argv holds the arguments after "stats" */
int fm_ctl_stats(const fm_config_t *cfg, int argc, char **argv);

/* fm_ctl_events - argv holds the arguments after "events" */
int fm_ctl_events(const fm_config_t *cfg, int argc, char **argv);

/* fm_ctl_prune - argv holds the arguments after "prune" */
int fm_ctl_prune(const fm_config_t *cfg, int argc, char **argv);

/* ------------------------------------------------------------------ */
/* Shared by milter/ctl_ops*.c. */

#define FM_OPS_EX_NONE 1	/* nothing found */

/* Output formats. */
typedef enum { FM_OPS_TABLE = 0, FM_OPS_CSV, FM_OPS_JSON } fm_ops_fmt_t;

/* One long option of a command: "--name" or "--name VALUE". */
typedef struct {
	const char *name;	/* without the dashes */
	int has_arg;
	int id;			/* > 0, returned by fm_ops_next */
} fm_ops_opt_t;

/* The scan over a command's arguments. */
typedef struct {
	const char *cmd;	/* for messages: "suppression add" */
	int argc;
	char **argv;
	int i;
	int operands_only;	/* after "--" */
} fm_ops_args_t;

#define FM_OPS_END 0		/* no more arguments */
#define FM_OPS_OPERAND (-1)	/* *val is an operand */
#define FM_OPS_BAD (-2)		/* unknown option or missing value; said */

/* fm_ops_args_init - scan argv[0..argc) of the command cmd */
void fm_ops_args_init(fm_ops_args_t *a, const char *cmd, int argc,
		      char **argv);

/*
 * fm_ops_next - the next argument: an option's id (its value in *val),
 * FM_OPS_OPERAND with the operand in *val, FM_OPS_END, or FM_OPS_BAD
 * after a message on standard error. "--name=value" is accepted too.
 */
int fm_ops_next(fm_ops_args_t *a, const fm_ops_opt_t *opts,
		const char **val);

/* fm_ops_usage - "usage: feedbackctl SYNOPSIS" on stderr; returns 64 */
int fm_ops_usage(const char *synopsis);

/*
 * fm_ops_duration - "90d", "12h", "30m", "45s", "2w" to seconds; a unit
 * is required. -1 when s is not such a duration.
 */
int fm_ops_duration(const char *s, long long *secs);

/*
 * fm_ops_since - WHEN (a duration before now, a UTC date and time, or
 * "all" for 0) to a time; -1 when s is none of these
 */
int fm_ops_since(const char *s, time_t now, time_t *out);

/* fm_ops_time - "2026-11-22 12:03:18" (UTC), or "-" for 0 */
const char *fm_ops_time(time_t t, char *buf, size_t size);

/* fm_ops_time_iso - "2026-11-22T12:03:18Z", or "" for 0 */
const char *fm_ops_time_iso(time_t t, char *buf, size_t size);

/*
 * fm_ops_tty_clean - in place, for a terminal: C0 controls, DEL and the
 * C1 controls (UTF-8 C2 80 to C2 9F, which terminals act on) become '?'
 */
void fm_ops_tty_clean(char *s);


/* fm_ops_csv_row - one RFC 4180 record of n fields (NULL: empty) */
void fm_ops_csv_row(FILE *fp, size_t n, const char *const *fields);

/* fm_ops_open - the store, read-only or not; NULL after a message */
fm_store_t *fm_ops_open(const fm_config_t *cfg, int rdonly);

/* fm_ops_flush - flush stdout; 0, or 74 after a message */
int fm_ops_flush(void);

/* An aligned text table; align holds 'l' or 'r' per column. */
typedef struct fm_ops_table fm_ops_table_t;

fm_ops_table_t *fm_ops_table_new(size_t ncols, const char *const *head,
				 const char *align);
/* fm_ops_table_add - a row of copies (NULL: "-"); -1 out of memory */
int fm_ops_table_add(fm_ops_table_t *t, const char *const *cols);
void fm_ops_table_print(const fm_ops_table_t *t, FILE *fp);
void fm_ops_table_free(fm_ops_table_t *t);

#endif
