/*
 * ctl_ops_prune - "feedbackctl prune": delete old sends and events
 *
 *	prune --older-than DURATION [--dry-run]
 *
 * Deletes the sends and the events recorded before now - DURATION, and
 * the suppressions that have expired; active suppressions stay, also when
 * the event that caused them goes. Before it deletes, it counts what is
 * to go (from the statistics of the store, and the suppressions), and it
 * prints those counts with the number of rows the store deleted:
 *
 *	removed 1520 sends, 87 events and 3 expired suppressions recorded
 *	before 2026-08-24 13:20:26 UTC; 41 active suppressions kept
 *
 * When something was recorded meanwhile so that the counts do not add up
 * to what the store deleted, the total is printed instead. --dry-run
 * prints the counts and deletes nothing. Nothing to delete is not an
 * error (status 0): the command is meant for cron.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "ctl_ops.h"

enum { OPT_OLDER = 1, OPT_DRY_RUN };

/* What a prune is about to delete and keep. */
typedef struct {
	long long sends, events;	/* of the store: all, then the old */
	long long expired, active;	/* suppressions */
	time_t now;
} prune_count_t;

/* add_totals - an fm_stats_cb: sends and events of the total row */
static int
add_totals(const fm_stats_row_t *row, void *arg)
{
	long long *sum = arg;
	size_t i;

	sum[0] += row->sends;
	for (i = 0; i < sizeof(row->events) / sizeof(row->events[0]); i++)
		sum[1] += row->events[i];
	return 0;
}

/* count_supp - an fm_suppression_cb: expired and active ones */
static int
count_supp(const fm_suppression_t *s, void *arg)
{
	prune_count_t *c = arg;

	if (s->expires != 0 && s->expires <= c->now)
		c->expired++;
	else
		c->active++;
	return 0;
}

/* prune_count - what would go: all minus those since the cutoff */
static int
prune_count(fm_store_t *st, time_t cutoff, prune_count_t *c, char *err,
	    size_t errlen)
{
	long long all[2] = {0, 0}, recent[2] = {0, 0};

	if (fm_store_stats_query(st, 0, NULL, FM_STATS_TOTAL, add_totals, all,
				 err, errlen) < 0 ||
	    fm_store_stats_query(st, cutoff, NULL, FM_STATS_TOTAL, add_totals,
				 recent, err, errlen) < 0 ||
	    fm_store_each_suppression(st, c->now, 1, count_supp, c, err,
				      errlen) < 0)
		return -1;
	c->sends = all[0] - recent[0];
	c->events = all[1] - recent[1];
	return 0;
}

/* report - the line that says what went (or would go) */
static void
report(const prune_count_t *c, long long deleted, time_t cutoff, int dry)
{
	char tbuf[32];

	fm_ops_time(cutoff, tbuf, sizeof(tbuf));
	if (!dry && deleted != c->sends + c->events + c->expired) {
		printf("removed %lld rows (sends, events and expired "
		       "suppressions) recorded before %s UTC; active "
		       "suppressions kept\n", deleted, tbuf);
		return;
	}
	printf("%s %lld %s, %lld %s and %lld expired %s recorded before %s "
	       "UTC; %lld active %s kept\n", dry ? "would remove" : "removed",
	       c->sends, c->sends == 1 ? "send" : "sends",
	       c->events, c->events == 1 ? "event" : "events",
	       c->expired, c->expired == 1 ? "suppression" : "suppressions",
	       tbuf, c->active, c->active == 1 ? "suppression" :
	       "suppressions");
}

/* prune_args - --older-than DURATION [--dry-run]; -1 on a usage error */
static int
prune_args(int argc, char **argv, long long *secs, int *dry)
{
	static const fm_ops_opt_t opts[] = {
		{"older-than", 1, OPT_OLDER}, {"dry-run", 0, OPT_DRY_RUN},
		{NULL, 0, 0},
	};
	const char *val, *older = NULL;
	fm_ops_args_t a;
	int id;

	fm_ops_args_init(&a, "prune", argc, argv);
	while ((id = fm_ops_next(&a, opts, &val)) != FM_OPS_END) {
		if (id == OPT_OLDER)
			older = val;
		else if (id == OPT_DRY_RUN)
			*dry = 1;
		else
			return -1;
	}
	if (older == NULL)
		return -1;
	if (fm_ops_duration(older, secs) < 0 || *secs == 0) {
		fprintf(stderr, "feedbackctl: prune: \"%s\" is not a duration "
			"(a number with s, m, h, d or w, such as 90d)\n", older);
		return -1;
	}
	return 0;
}

/* fm_ctl_prune - prune --older-than DURATION [--dry-run] */
int
fm_ctl_prune(const fm_config_t *cfg, int argc, char **argv)
{
	prune_count_t c;
	fm_store_t *st;
	time_t cutoff;
	long long secs, n = 0;
	char err[512];
	int dry = 0, status = EX_CONFIG;

	if (prune_args(argc, argv, &secs, &dry) < 0)
		return fm_ops_usage("prune --older-than DURATION [--dry-run]");
	memset(&c, 0, sizeof(c));
	c.now = time(NULL);
	cutoff = c.now - (time_t)secs;
	if ((st = fm_ops_open(cfg, dry)) == NULL)
		return EX_CONFIG;
	if (prune_count(st, cutoff, &c, err, sizeof(err)) < 0 ||
	    (!dry && (n = fm_store_prune(st, cutoff, c.now, err,
					 sizeof(err))) < 0)) {
		fprintf(stderr, "feedbackctl: prune: %s\n", err);
		goto out;
	}
	report(&c, n, cutoff, dry);
	status = fm_ops_flush();
out:
	fm_store_close(st);
	return status;
}
