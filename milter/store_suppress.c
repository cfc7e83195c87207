/*
 * store_suppress - suppressions: the follow-up rules, the operator's
 * entries, the lookup at RCPT time, and pruning old records
 *
 * A suppression says "do not send to this address": made by a follow-up
 * rule (rules.c) when an event is recorded, or by an operator. One row per
 * address (any case; stored in lowercase), with the reason, the class and
 * the event that caused it, when it was made and when it expires (NULL:
 * never).
 *
 *	fm_store_set_rules(st, &cfg->rules);		at start, on reload
 *	fm_store_add_events(st, ev, n, err, sizeof(err));  applies them
 *	if (fm_store_is_suppressed(st, rcpt, time(NULL), &s, &mem, err,
 *				   sizeof(err)) == FM_STORE_OK) {
 *		refuse, log s.reason; fm_suppression_free(mem);
 *	}
 *	fm_store_suppress(st, &s, err, sizeof(err));	operator's entry
 *	fm_store_unsuppress(st, address, err, sizeof(err));
 *	n = fm_store_prune(st, cutoff, time(NULL), err, sizeof(err));
 *
 * Rules. store_event.c calls store_suppress_apply() for each event it has
 * just inserted, in the leading caller inside the request's savepoint, with
 * the copy of the rules the request took when it started: an event and the
 * suppression it makes commit or roll back together. For a threshold rule
 * the writer counts the distinct messages (send records; an event whose
 * send is gone counts as a message of its own) that had an event of the
 * class for the recipient within the window before the event's time, the
 * event itself included. Only events that could suppress on their own
 * count (verified, about one of their send's recipients: events.of_send),
 * so reports naming an address their send did not have never add up to a
 * suppression. One range scan of the partial index events_threshold, which
 * holds exactly those events, covers the query. A rule never replaces an operator's entry, nor one
 * that expires later than the new one would (or never).
 *
 * Lookups. fm_store_is_suppressed() is one statement on the read
 * connection: one probe of the primary key's index, no transaction around
 * it. An entry whose expiry has passed does not count (and stays until
 * fm_store_prune() removes it).
 *
 * Writes. Operator entries, their removal and pruning go through the
 * group-commit writer like every other write. fm_store_prune() deletes in
 * rounds of at most STORE_PRUNE_BATCH rows of each table, each round one
 * request (so one short write transaction), until a round deletes nothing:
 * a large prune never holds the write lock for long, and sends and events
 * recorded meanwhile wait for one round at most. Deleting an event sets
 * its suppression's event_id to NULL: active suppressions stay.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "rules.h"
#include "store.h"
#include "store_int.h"

/* Rows of each table one prune round deletes at most. */
#define STORE_PRUNE_BATCH 10000

#define SUPP_COLS "address, reason, class, event_id, created, expires, source"

/* Writer statements, prepared at open by store.c. */
const char *const store_suppress_wsql[WX_COUNT] = {
	[WX_COUNT_RECENT] = "SELECT count(DISTINCT coalesce(send_id, -id))"
	" FROM events WHERE recipient = ?1 COLLATE NOCASE AND class = ?2"
	" AND created >= ?3 AND verified = 1 AND of_send = 1",
	[WX_RULE] = "INSERT INTO suppressions (" SUPP_COLS ")"
	" VALUES (lower(?1), ?2 || coalesce(' ' || ?3, '')"
	" || coalesce(' ' || ?4, ''), ?2, ?5, ?6, ?7, 'rule')"
	" ON CONFLICT (address) DO UPDATE SET reason = excluded.reason,"
	" class = excluded.class, event_id = excluded.event_id,"
	" created = excluded.created, expires = excluded.expires"
	" WHERE suppressions.source = 'rule'"
	" AND suppressions.expires IS NOT NULL"
	" AND (excluded.expires IS NULL"
	" OR excluded.expires >= suppressions.expires)",
	[WX_OPERATOR] = "INSERT INTO suppressions (" SUPP_COLS ")"
	" VALUES (lower(?1), ?2, ?3, NULL, ?4, ?5, 'operator')"
	" ON CONFLICT (address) DO UPDATE SET reason = excluded.reason,"
	" class = excluded.class, event_id = NULL,"
	" created = excluded.created, expires = excluded.expires,"
	" source = 'operator'",
	[WX_DELETE] = "DELETE FROM suppressions WHERE address = ?1",
	[WX_PRUNE_EVENTS] = "DELETE FROM events WHERE id IN"
	" (SELECT id FROM events WHERE created < ?1 LIMIT ?2)",
	[WX_PRUNE_SENDS] = "DELETE FROM sends WHERE id IN"
	" (SELECT id FROM sends WHERE created < ?1 LIMIT ?2)",
	[WX_PRUNE_EXPIRED] = "DELETE FROM suppressions WHERE rowid IN"
	" (SELECT rowid FROM suppressions WHERE expires <= ?1 LIMIT ?2)",
};

/* Reader statements, prepared at open by store.c. */
const char *const store_suppress_rsql[RX_COUNT] = {
	[RX_LOOKUP] = "SELECT " SUPP_COLS " FROM suppressions"
	" WHERE address = ?1 AND (expires IS NULL OR expires > ?2)",
	[RX_ACTIVE] = "SELECT " SUPP_COLS " FROM suppressions"
	" WHERE expires IS NULL OR expires > ?1 ORDER BY address",
	[RX_ALL] = "SELECT " SUPP_COLS " FROM suppressions ORDER BY address",
};

/* Columns of SUPP_COLS. */
enum {
	SC_ADDRESS, SC_REASON, SC_CLASS, SC_EVENT_ID, SC_CREATED, SC_EXPIRES,
	SC_SOURCE
};

/* An operator's entry, its removal, a prune round: one writer request. */
struct store_supp_req {
	struct store_req req;		/* first: the writer passes this */
	const fm_suppression_t *s;	/* suppress */
	const char *address;		/* unsuppress */
	time_t cutoff, now;		/* prune */
	long long deleted;		/* prune: rows this round deleted */
};

/* fm_store_set_rules - the rules the writer applies (NULL: none) */
void fm_store_set_rules(fm_store_t *st, const void *rules)
{
	pthread_mutex_lock(&st->mu);
	st->have_rules = rules != NULL;
	if (rules != NULL)
		memcpy(&st->rules, rules, sizeof(st->rules));
	pthread_mutex_unlock(&st->mu);
}

/* store_suppress_rules - copy the current rules; 0 when there are none */
int store_suppress_rules(fm_store_t *st, fm_rules_t *rules)
{
	int have;

	pthread_mutex_lock(&st->mu);
	have = st->have_rules;
	if (have)
		*rules = st->rules;
	pthread_mutex_unlock(&st->mu);
	return have;
}

/* store_suppress_recent - distinct messages of cls to rcpt since t */
static int store_suppress_recent(fm_store_t *st, const fm_event_t *ev,
				 time_t since, unsigned *n)
{
	sqlite3_stmt *q = st->wsupp[WX_COUNT_RECENT];
	sqlite3_int64 v;
	int rc;

	store_bind_text(q, 1, ev->recipient);
	store_bind_text(q, 2, ev->cls);
	sqlite3_bind_int64(q, 3, (sqlite3_int64) since);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int64(q, 0);
		*n = v > (sqlite3_int64) UINT32_MAX ? UINT32_MAX : (unsigned) v;
		rc = SQLITE_OK;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

/*
 * store_suppress_apply - apply the rules to an event just inserted with
 * this id: suppress its recipient when its class's rule says so. Runs on
 * the writer inside the request's savepoint.
 */
int store_suppress_apply(fm_store_t *st, const fm_rules_t *rules,
			 const fm_event_t *ev, sqlite3_int64 event_id)
{
	const fm_followup_t *r;
	sqlite3_stmt *q = st->wsupp[WX_RULE];
	unsigned n = 1;
	time_t expires = 0;
	int k, rc;

	/*
	 * Only a verified code's event about one of its send's recipients
	 * suppresses: a report may name any address, and anyone who got a
	 * message knows its code.
	 */
	if (!ev->verified || !ev->rcpt_of_send || ev->recipient == NULL ||
	    *ev->recipient == 0 || (k = fm_rules_class(ev->cls)) < 0)
		return SQLITE_OK;
	r = &rules->rule[k];
	if (r->kind == FM_RULE_NEVER)
		return SQLITE_OK;
	if (r->kind == FM_RULE_THRESHOLD &&
	    (rc = store_suppress_recent(st, ev, ev->created -
					(time_t) r->window, &n)) != SQLITE_OK)
		return rc;
	if (!fm_rules_decide(rules, ev->cls, n, ev->created, &expires))
		return SQLITE_OK;
	store_bind_text(q, 1, ev->recipient);
	store_bind_text(q, 2, ev->cls);
	store_bind_text(q, 3, ev->reason);
	store_bind_text(q, 4, ev->status);
	sqlite3_bind_int64(q, 5, event_id);
	sqlite3_bind_int64(q, 6, (sqlite3_int64) ev->created);
	if (expires != 0)
		sqlite3_bind_int64(q, 7, (sqlite3_int64) expires);
	else
		sqlite3_bind_null(q, 7);
	rc = store_run(q);
	sqlite3_clear_bindings(q);
	return rc;
}

/* store_suppress_row - the current row as a suppression (strings in it) */
static void store_suppress_row(sqlite3_stmt *q, fm_suppression_t *s)
{
	memset(s, 0, sizeof(*s));
	s->address = (const char *) sqlite3_column_text(q, SC_ADDRESS);
	s->reason = (const char *) sqlite3_column_text(q, SC_REASON);
	s->cls = (const char *) sqlite3_column_text(q, SC_CLASS);
	s->event_id = sqlite3_column_int64(q, SC_EVENT_ID);
	s->created = (time_t) sqlite3_column_int64(q, SC_CREATED);
	s->expires = (time_t) sqlite3_column_int64(q, SC_EXPIRES);
	s->source = (const char *) sqlite3_column_text(q, SC_SOURCE);
}

/* store_suppress_copy - copy the current row into out and one block */
static int store_suppress_copy(sqlite3_stmt *q, fm_suppression_t *out,
			       void **mem)
{
	static const int cols[] = {SC_ADDRESS, SC_REASON, SC_CLASS,
				   SC_SOURCE};
	const char **field[] = {&out->address, &out->reason, &out->cls,
				&out->source};
	size_t i, bytes = 1;
	char *p;

	store_suppress_row(q, out);
	for (i = 0; i < 4; i++)
		bytes += store_col_size(q, cols[i]);
	if ((p = malloc(bytes)) == NULL)
		return SQLITE_NOMEM;
	*mem = p;
	for (i = 0; i < 4; i++)
		*field[i] = store_col_copy(q, cols[i], &p);
	return SQLITE_OK;
}

/* fm_store_is_suppressed - one lookup on the read connection */
fm_store_status_t fm_store_is_suppressed(fm_store_t *st, const char *address,
					 time_t now, fm_suppression_t *out,
					 void **mem, char *err, size_t errlen)
{
	sqlite3_stmt *q = st->rsupp[RX_LOOKUP];
	fm_store_status_t status = FM_STORE_ERR;
	int rc;

	if (mem != NULL)
		*mem = NULL;
	if (address == NULL || (out != NULL && mem == NULL)) {
		store_err(err, errlen, "store: no address to look up, or "
			  "a record without its memory");
		return FM_STORE_ERR;
	}
	pthread_mutex_lock(&st->rmu);
	sqlite3_bind_text(q, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64) now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		status = FM_STORE_NOTFOUND;
	else if (rc == SQLITE_ROW && out != NULL)
		rc = store_suppress_copy(q, out, mem);
	if (rc == SQLITE_ROW || (rc == SQLITE_OK && out != NULL))
		status = FM_STORE_OK;
	else if (rc != SQLITE_DONE)
		store_db_err(st, st->rdb, rc, "cannot look up suppression",
			     err, errlen);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	pthread_mutex_unlock(&st->rmu);
	return status;
}

/* fm_suppression_free - release what fm_store_is_suppressed() filled */
void fm_suppression_free(void *mem)
{
	free(mem);
}

/* store_suppress_insert - the writer's insert of an operator's entry */
static void store_suppress_insert(fm_store_t *st, struct store_req *r)
{
	const fm_suppression_t *s = ((struct store_supp_req *) r)->s;
	sqlite3_stmt *q = st->wsupp[WX_OPERATOR];
	int rc;

	store_bind_text(q, 1, s->address);
	store_bind_text(q, 2, s->reason);
	store_bind_text(q, 3, s->cls);
	sqlite3_bind_int64(q, 4, (sqlite3_int64) (s->created ? s->created :
						  time(NULL)));
	if (s->expires != 0)
		sqlite3_bind_int64(q, 5, (sqlite3_int64) s->expires);
	else
		sqlite3_bind_null(q, 5);
	rc = store_run(q);
	sqlite3_clear_bindings(q);
	r->status = rc == SQLITE_OK ? FM_STORE_OK : FM_STORE_ERR;
	if (rc != SQLITE_OK)
		store_db_err(st, st->wdb, rc, r->what, r->err, r->errlen);
}

/* store_unsuppress_delete - the writer's removal of an entry */
static void store_unsuppress_delete(fm_store_t *st, struct store_req *r)
{
	const char *address = ((struct store_supp_req *) r)->address;
	sqlite3_stmt *q = st->wsupp[WX_DELETE];
	int rc;

	store_bind_text(q, 1, address);
	rc = store_run(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_OK) {
		r->status = FM_STORE_ERR;
		store_db_err(st, st->wdb, rc, r->what, r->err, r->errlen);
	} else if (sqlite3_changes(st->wdb) == 0) {
		r->status = FM_STORE_NOTFOUND;
		store_err(r->err, r->errlen, "%s: %s is not suppressed",
			  st->path, address);
	} else {
		r->status = FM_STORE_OK;
	}
}

/* store_supp_submit - fill the common part of a request and submit it */
static fm_store_status_t store_supp_submit(fm_store_t *st,
					   struct store_supp_req *sr,
					   store_insert_fn *fn,
					   const char *what, size_t nrec,
					   char *err, size_t errlen)
{
	sr->req.insert = fn;
	sr->req.what = what;
	sr->req.rec = sr;
	sr->req.nrec = nrec;
	sr->req.err = err;
	sr->req.errlen = errlen;
	return store_submit(st, &sr->req);
}

/* fm_store_suppress - add or replace an operator's suppression */
fm_store_status_t fm_store_suppress(fm_store_t *st, const fm_suppression_t *s,
				    char *err, size_t errlen)
{
	struct store_supp_req sr;

	if (s == NULL || s->address == NULL || *s->address == 0) {
		store_err(err, errlen, "store: a suppression needs an "
			  "address");
		return FM_STORE_ERR;
	}
	memset(&sr, 0, sizeof(sr));
	sr.s = s;
	return store_supp_submit(st, &sr, store_suppress_insert,
				 "cannot record suppression", 1, err, errlen);
}

/* fm_store_unsuppress - lift a suppression of any source */
fm_store_status_t fm_store_unsuppress(fm_store_t *st, const char *address,
				      char *err, size_t errlen)
{
	struct store_supp_req sr;

	if (address == NULL || *address == 0) {
		store_err(err, errlen, "store: no address to unsuppress");
		return FM_STORE_ERR;
	}
	memset(&sr, 0, sizeof(sr));
	sr.address = address;
	return store_supp_submit(st, &sr, store_unsuppress_delete,
				 "cannot remove suppression", 1, err, errlen);
}

/* fm_store_each_suppression - call cb for each, by address */
int fm_store_each_suppression(fm_store_t *st, time_t now, int include_expired,
			      fm_suppression_cb *cb, void *arg, char *err,
			      size_t errlen)
{
	sqlite3_stmt *q = st->rsupp[include_expired ? RX_ALL : RX_ACTIVE];
	fm_suppression_t s;
	int rc, n = 0, stop = 0;

	if (cb == NULL) {
		store_err(err, errlen, "store: no callback for the "
			  "suppressions");
		return -1;
	}
	if ((rc = store_read_begin(st)) != SQLITE_OK)
		goto out;
	if (!include_expired)
		sqlite3_bind_int64(q, 1, (sqlite3_int64) now);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_suppress_row(q, &s);
		stop = cb(&s, arg) != 0;
		n++;
	}
	if (stop)
		rc = SQLITE_DONE;
out:
	if (rc != SQLITE_DONE)
		store_db_err(st, st->rdb, rc, "cannot read suppressions", err,
			     errlen);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	store_read_end(st);
	return rc == SQLITE_DONE ? n : -1;
}

/* store_prune_round - the writer's part: one batch of each table */
static void store_prune_round(fm_store_t *st, struct store_req *r)
{
	static const int stmts[] = {WX_PRUNE_EVENTS, WX_PRUNE_SENDS,
				    WX_PRUNE_EXPIRED};
	struct store_supp_req *sr = (struct store_supp_req *) r;
	sqlite3_stmt *q;
	size_t i;
	int rc = SQLITE_OK;

	sr->deleted = 0;
	for (i = 0; i < 3 && rc == SQLITE_OK; i++) {
		q = st->wsupp[stmts[i]];
		sqlite3_bind_int64(q, 1, (sqlite3_int64) (stmts[i] ==
			WX_PRUNE_EXPIRED ? sr->now : sr->cutoff));
		sqlite3_bind_int64(q, 2, STORE_PRUNE_BATCH);
		if ((rc = store_run(q)) == SQLITE_OK)
			sr->deleted += sqlite3_changes(st->wdb);
	}
	r->status = rc == SQLITE_OK ? FM_STORE_OK : FM_STORE_ERR;
	if (rc != SQLITE_OK)
		store_db_err(st, st->wdb, rc, r->what, r->err, r->errlen);
}

/* fm_store_prune - delete old sends and events, expired suppressions */
long long fm_store_prune(fm_store_t *st, time_t cutoff, time_t now,
			 char *err, size_t errlen)
{
	struct store_supp_req sr;
	long long total = 0;

	do {
		memset(&sr, 0, sizeof(sr));
		sr.cutoff = cutoff;
		sr.now = now;
		if (store_supp_submit(st, &sr, store_prune_round,
				      "cannot prune", 0, err, errlen) !=
		    FM_STORE_OK)
			return -1;
		total += sr.deleted;
	} while (sr.deleted > 0);
	return total;
}
