/*
 * store_stats - statistics over sends and events, by a grouping
 *
 * fm_store_stats_query() counts the sends and the events recorded since a
 * time, optionally only those of one sender domain (a send's sender ends
 * with "@domain", any case; an event counts through its send, so events
 * without a send never match a domain), and calls back once per group:
 *
 *	FM_STATS_TOTAL	one row, group "total" (also when nothing matched)
 *	FM_STATS_DAY	per UTC day, "YYYY-MM-DD": sends by the day they
 *			were sent, events by the day they were recorded
 *	FM_STATS_DOMAIN	per sender domain (lowercase); "(none)" for sends
 *			without a sender domain and for events without a
 *			send
 *	FM_STATS_CLASS	per event class
 *	FM_STATS_REASON	per event reason; "(none)" for events without one
 *
 * Each row has the sends, the events per class (indexed like
 * fm_config_class_names; events[7] counts events of any other class),
 * bounced (distinct sends that had a hard or soft event) and complained
 * (distinct sends that had a complaint). A send is counted in the group
 * its events fall in, so a send bounced in the range counts even when it
 * was sent before it. Sends have no class or reason: in the class and
 * reason groupings every row carries the total number of sends in the
 * range (the denominator of that row's rates), not 0.
 *
 *	n = fm_store_stats_query(st, since, "example.nl", FM_STATS_DAY,
 *				 print_row, arg, err, sizeof(err));
 *
 * Each grouping is one fixed statement: the sends of the range and the
 * events of the range (through events_created and sends_created) as one
 * UNION ALL, aggregated. It runs in one read transaction under the read
 * lock; the callback must not call the store's read functions.
 */
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

/* ?1 since, ?2 domain (NULL: any). Is the sender in col of the domain? */
#define ST_DOMAIN_OK(col) \
	" (?2 IS NULL OR lower(substr(" col ", -1 - length(?2)))" \
	" = '@' || lower(?2))"
/* The sender domain of the sender in col, or "(none)". */
#define ST_DOMAIN_KEY(col) \
	"coalesce(lower(nullif(substr(" col ", instr(" col ", '@') + 1), " \
	col ")), '(none)')"

/* The sends of the range, as (g, n, cls, sid) rows. */
#define ST_SENDS(key) \
	"SELECT " key " AS g, 1 AS n, NULL AS cls, NULL AS sid FROM sends" \
	" WHERE created >= ?1 AND" ST_DOMAIN_OK("sender")
/* The events of the range, likewise. */
#define ST_EVENTS(key) \
	"SELECT " key " AS g, 0 AS n, e.class AS cls, e.send_id AS sid" \
	" FROM events e LEFT JOIN sends s ON s.id = e.send_id" \
	" WHERE e.created >= ?1 AND" ST_DOMAIN_OK("s.sender")
/* The total of sends, for the groupings sends have no part in. */
#define ST_SENDS_TOTAL \
	"(SELECT count(*) FROM sends WHERE created >= ?1 AND" \
	ST_DOMAIN_OK("sender") ")"

/* Events per class (fm_config_class_names order), bounced, complained. */
#define ST_CLASSES \
	"'unknown', 'hard', 'soft', 'delayed', 'autoreply', 'complaint'," \
	" 'delivered'"
#define ST_AGG \
	" sum(cls = 'unknown'), sum(cls = 'hard'), sum(cls = 'soft')," \
	" sum(cls = 'delayed'), sum(cls = 'autoreply')," \
	" sum(cls = 'complaint'), sum(cls = 'delivered')," \
	" sum(cls NOT IN (" ST_CLASSES "))," \
	" count(DISTINCT CASE WHEN cls IN ('hard', 'soft') THEN sid END)," \
	" count(DISTINCT CASE WHEN cls = 'complaint' THEN sid END)"

#define ST_BOTH(sk, ek) \
	" FROM (" ST_SENDS(sk) " UNION ALL " ST_EVENTS(ek) ")"
#define ST_DAY(col) "date(" col ", 'unixepoch')"

/* Reader statements, prepared at open by store.c. */
const char *const store_stats_rsql[RT_COUNT] = {
	[RT_TOTAL] = "SELECT 'total', sum(n)," ST_AGG
	ST_BOTH("NULL", "NULL"),
	[RT_DAY] = "SELECT g, sum(n)," ST_AGG
	ST_BOTH(ST_DAY("created"), ST_DAY("e.created"))
	" GROUP BY g ORDER BY g",
	[RT_DOMAIN] = "SELECT g, sum(n)," ST_AGG
	ST_BOTH(ST_DOMAIN_KEY("sender"), ST_DOMAIN_KEY("s.sender"))
	" GROUP BY g ORDER BY g",
	[RT_CLASS] = "SELECT g, " ST_SENDS_TOTAL "," ST_AGG
	" FROM (" ST_EVENTS("+e.class") ") GROUP BY g ORDER BY g",
	[RT_REASON] = "SELECT g, " ST_SENDS_TOTAL "," ST_AGG
	" FROM (" ST_EVENTS("coalesce(e.reason, '(none)')") ")"
	" GROUP BY g ORDER BY g",
};

/* Columns of every statement: group, sends, 8 classes, the two counts. */
enum { ST_COL_GROUP, ST_COL_SENDS, ST_COL_EVENTS, ST_COL_BOUNCED = 10,
       ST_COL_COMPLAINED };

/* store_stats_row - the current row of q as a stats row */
static void store_stats_row(sqlite3_stmt *q, fm_stats_row_t *row)
{
	int i;

	memset(row, 0, sizeof(*row));
	row->group = (const char *) sqlite3_column_text(q, ST_COL_GROUP);
	row->sends = sqlite3_column_int64(q, ST_COL_SENDS);
	for (i = 0; i < 8; i++)
		row->events[i] = sqlite3_column_int64(q, ST_COL_EVENTS + i);
	row->bounced = sqlite3_column_int64(q, ST_COL_BOUNCED);
	row->complained = sqlite3_column_int64(q, ST_COL_COMPLAINED);
}

/* fm_store_stats_query - call cb for each group; rows or -1 */
int fm_store_stats_query(fm_store_t *st, time_t since, const char *domain,
			 fm_stats_by_t by, fm_stats_cb *cb, void *arg,
			 char *err, size_t errlen)
{
	fm_stats_row_t row;
	sqlite3_stmt *q;
	int rc, n = 0, stop = 0;

	if (cb == NULL || (int) by < 0 || (int) by >= RT_COUNT) {
		store_err(err, errlen, "store: no callback or no such "
			  "grouping for the statistics");
		return -1;
	}
	if (domain != NULL && *domain == '@')
		domain++;
	q = st->rstats[by];
	if ((rc = store_read_begin(st)) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(q, 1, (sqlite3_int64) since);
	store_bind_text(q, 2, domain && *domain ? domain : NULL);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_stats_row(q, &row);
		stop = cb(&row, arg) != 0;
		n++;
	}
	if (stop)
		rc = SQLITE_DONE;
out:
	if (rc != SQLITE_DONE)
		store_db_err(st, st->rdb, rc, "cannot read statistics", err,
			     errlen);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	store_read_end(st);
	return rc == SQLITE_DONE ? n : -1;
}
