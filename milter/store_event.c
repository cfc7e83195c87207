/*
 * store_event - inbound events: record a message's events, query them
 *
 * An inbound message (a bounce, an auto-reply, a complaint) yields one event
 * per reported recipient. fm_store_add_events() records all events of one
 * message as one request of the group-commit queue (store.c): they commit
 * together or not at all, with the same durability and waiting as a send.
 * The insert (store_event_insert) runs in the leading caller inside the
 * request's savepoint; it links each event to its send by looking the code
 * up in the same statement, stores every DKIM signature's result in
 * event_sigs, and applies the follow-up rules to each event
 * (store_suppress.c), so an event and the suppression it causes commit or
 * roll back together.
 *
 *	fm_event_t ev[2] = {{.code = code, .verified = 1, .cls = "hard",
 *			     ...}, ...};
 *	if (fm_store_add_events(st, ev, 2, err, sizeof(err)) != FM_STORE_OK)
 *		tempfail, log err;
 *
 *	fm_event_filter_t f = {.cls = "hard", .since = t, .limit = 50};
 *	n = fm_store_each_event(st, &f, print_event, arg, err, sizeof(err));
 *
 * Queries. Every filter is one fixed statement: each filter member is a
 * "(?N IS NULL OR ...)" term, so no SQL is ever built from input. Such
 * terms cannot use an index, so the statement exists in a few variants
 * that add one index-usable term for the most selective filter given
 * (recipient, code, class, since; after_id walks the id range) and
 * otherwise walk the events by id. Every variant carries the full filter,
 * so which one runs changes only the speed. The one caveat is the code
 * variant: it finds events through the send the code names (sends.code is
 * unique, events.send_id is indexed), or among the events without a send
 * when no send has that code. send_id is looked up when an event is
 * recorded and set to NULL when its send is deleted, so this finds every
 * event of the code unless one was recorded before its send, which the
 * milter never does (a send is committed before its message leaves).
 * The variants are prepared once at open like every other statement.
 *
 * fm_store_each_event() holds the store's read lock and one read
 * transaction for the whole walk, so the callback sees one snapshot; it
 * must not call the store's read functions itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

/* The text columns of events, in the order of store_event_fields(). */
#define EVENT_TEXT_COLS(t) \
	t "queue_id, " t "class, " t "reason, " t "status, " t "action, " \
	t "recipient, " t "orig_recipient, " t "diagnostic, " \
	t "remote_mta, " t "reporting_mta, " t "feedback_type, " t "kind, " \
	t "client_addr, " t "helo, " t "envfrom, " t "spf_result, " \
	t "spf_domain"
#define EVENT_NTEXT 17

/* Writer statements, prepared at open by store.c. */
const char *const store_event_wsql[WE_COUNT] = {
	[WE_EVENT] = "INSERT INTO events (send_id, code, verified, created,"
	" replycode, " EVENT_TEXT_COLS("") ", of_send) VALUES ("
	" (SELECT id FROM sends WHERE code = lower(?1) AND ?2 = 1), lower(?1),"
	" ?2, ?3,"
	" ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	" ?18, ?19, ?20, ?21, ?2 AND ?22)",
	[WE_SIG] = "INSERT INTO event_sigs (event_id, idx, domain, selector,"
	" result) VALUES (?1, ?2, ?3, ?4, ?5)",
};

/* Parameters of WE_EVENT: the text columns start here. */
#define WE_PARAM_TEXT 5

/*
 * The query, from its parts. ?1 since, ?2 class, ?3 sender domain, ?4
 * code, ?5 recipient, ?6 after id (0: none), ?7 limit (-1: none). The
 * EV_BY_ terms make the variants. The since variant writes the id as
 * "+e.id", which no index serves: with a plain e.id the planner walks the
 * whole table in id order to save the sort rather than use events_created.
 */
#define EV_SELECT \
	"SELECT e.id, e.send_id, e.code, e.verified, e.created, e.of_send," \
	" e.replycode," \
	" " EVENT_TEXT_COLS("e.") ", " STORE_SEND_COLS("s.") \
	" FROM events e LEFT JOIN sends s ON s.id = e.send_id"
#define EV_WHERE(id) \
	" WHERE " id " > ?6" \
	" AND (?1 IS NULL OR e.created >= ?1)" \
	" AND (?2 IS NULL OR e.class = ?2)" \
	" AND (?3 IS NULL OR" \
	" lower(substr(s.sender, -1 - length(?3))) = '@' || lower(?3))" \
	" AND (?4 IS NULL OR e.code = lower(?4))" \
	" AND (?5 IS NULL OR e.recipient = ?5 COLLATE NOCASE)"
#define EV_BY_RCPT " AND e.recipient = ?5 COLLATE NOCASE"
#define EV_BY_CODE \
	" AND e.send_id IS (SELECT id FROM sends WHERE code = lower(?4))"
#define EV_BY_CLASS \
	" AND e.class = ?2" \
	" AND e.created >= coalesce(?1, -9223372036854775807 - 1)"
#define EV_BY_SINCE " AND e.created >= ?1"
#define EV_DESC(id) " ORDER BY " id " DESC LIMIT ?7"
#define EV_ASC(id) " ORDER BY " id " LIMIT ?7"

/* Reader statements, prepared at open by store.c. */
const char *const store_event_rsql[RE_COUNT] = {
	[RE_ALL] = EV_SELECT EV_WHERE("e.id") EV_DESC("e.id"),
	[RE_ALL_ASC] = EV_SELECT EV_WHERE("e.id") EV_ASC("e.id"),
	[RE_RCPT] = EV_SELECT EV_WHERE("e.id") EV_BY_RCPT EV_DESC("e.id"),
	[RE_RCPT_ASC] = EV_SELECT EV_WHERE("e.id") EV_BY_RCPT EV_ASC("e.id"),
	[RE_CODE] = EV_SELECT EV_WHERE("e.id") EV_BY_CODE EV_DESC("e.id"),
	[RE_CODE_ASC] = EV_SELECT EV_WHERE("e.id") EV_BY_CODE EV_ASC("e.id"),
	[RE_CLASS] = EV_SELECT EV_WHERE("e.id") EV_BY_CLASS EV_DESC("e.id"),
	[RE_CLASS_ASC] = EV_SELECT EV_WHERE("e.id") EV_BY_CLASS EV_ASC("e.id"),
	[RE_SINCE] = EV_SELECT EV_WHERE("+e.id") EV_BY_SINCE
	EV_DESC("+e.id"),
	[RE_SINCE_ASC] = EV_SELECT EV_WHERE("+e.id") EV_BY_SINCE
	EV_ASC("+e.id"),
	[RE_SIGS] = ("SELECT domain, selector, result FROM event_sigs"
		     " WHERE event_id = ?1 ORDER BY idx"),
};

/* Columns of EV_SELECT. */
enum {
	EV_COL_ID, EV_COL_SEND_ID, EV_COL_CODE, EV_COL_VERIFIED,
	EV_COL_CREATED, EV_COL_OF_SEND, EV_COL_REPLYCODE, EV_COL_TEXT,
	EV_COL_SEND = EV_COL_TEXT + EVENT_NTEXT
};

/* store_event_fields - the text members of ev, in EVENT_TEXT_COLS order */
static void store_event_fields(fm_event_t *ev,
			       const char **field[EVENT_NTEXT])
{
	const char **f[EVENT_NTEXT] = {
		&ev->queue_id, &ev->cls, &ev->reason, &ev->status,
		&ev->action, &ev->recipient, &ev->orig_recipient,
		&ev->diagnostic, &ev->remote_mta, &ev->reporting_mta,
		&ev->feedback_type, &ev->kind, &ev->client_addr, &ev->helo,
		&ev->envfrom, &ev->spf_result, &ev->spf_domain,
	};

	memcpy(field, f, sizeof(f));
}

/* store_event_sig_rows - insert the signatures of event id */
static int store_event_sig_rows(fm_store_t *st, const fm_event_t *ev,
				sqlite3_int64 id)
{
	sqlite3_stmt *q = st->wevent[WE_SIG];
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < ev->nsigs && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, (sqlite3_int64) i);
		store_bind_text(q, 3, ev->sigs[i].domain);
		store_bind_text(q, 4, ev->sigs[i].selector);
		store_bind_text(q, 5, ev->sigs[i].result);
		rc = sqlite3_step(q);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(q);
	}
	sqlite3_clear_bindings(q);
	return rc;
}

/*
 * store_event_row - insert one event and its signatures, then apply the
 * follow-up rules (NULL: none) to it
 */
static int store_event_row(fm_store_t *st, const fm_event_t *ev,
			   const fm_rules_t *rules)
{
	sqlite3_stmt *q = st->wevent[WE_EVENT];
	const char **text[EVENT_NTEXT];
	fm_event_t e = *ev;
	sqlite3_int64 id;
	int i, rc;

	store_event_fields(&e, text);
	store_bind_text(q, 1, e.code);
	sqlite3_bind_int(q, 2, e.verified != 0);
	sqlite3_bind_int64(q, 3, (sqlite3_int64) e.created);
	if (e.replycode > 0)
		sqlite3_bind_int(q, 4, e.replycode);
	else
		sqlite3_bind_null(q, 4);
	for (i = 0; i < EVENT_NTEXT; i++)
		store_bind_text(q, WE_PARAM_TEXT + i, *text[i]);
	sqlite3_bind_int(q, WE_PARAM_TEXT + EVENT_NTEXT, e.rcpt_of_send != 0);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE)
		return rc;
	id = sqlite3_last_insert_rowid(st->wdb);
	if ((rc = store_event_sig_rows(st, ev, id)) != SQLITE_OK)
		return rc;
	return rules ? store_suppress_apply(st, rules, ev, id) : SQLITE_OK;
}

/* store_event_insert - the writer's insert of one message's events */
static void store_event_insert(fm_store_t *st, struct store_req *r)
{
	const fm_event_t *ev = r->rec;
	fm_rules_t rules;
	char what[96];
	size_t i;
	int rc = SQLITE_OK, have_rules = store_suppress_rules(st, &rules);

	for (i = 0; i < r->nrec && rc == SQLITE_OK; i++)
		rc = store_event_row(st, &ev[i], have_rules ? &rules : NULL);
	if (rc == SQLITE_OK) {
		r->status = FM_STORE_OK;
		return;
	}
	r->status = FM_STORE_ERR;
	snprintf(what, sizeof(what), "cannot record event %zu of %zu", i,
		 r->nrec);
	store_db_err(st, st->wdb, rc, what, r->err, r->errlen);
}

/* store_check_events - refuse events that cannot be stored */
static int store_check_events(const fm_event_t *ev, size_t n, char *err,
			      size_t errlen)
{
	size_t i;

	if (ev == NULL) {
		store_err(err, errlen, "store: no array for %zu events", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ev[i].nsigs && ev[i].sigs == NULL) {
			store_err(err, errlen, "store: event %zu of %zu: "
				  "signature count without an array", i + 1,
				  n);
			return -1;
		}
	}
	return 0;
}

/* fm_store_add_events - queue one message's events, wait for the commit */
fm_store_status_t fm_store_add_events(fm_store_t *st, const fm_event_t *ev,
				      size_t n, char *err, size_t errlen)
{
	struct store_req req;

	if (n == 0)
		return FM_STORE_OK;
	if (store_check_events(ev, n, err, errlen) != 0)
		return FM_STORE_ERR;
	memset(&req, 0, sizeof(req));
	req.insert = store_event_insert;
	req.what = "cannot record events";
	req.rec = ev;
	req.nrec = n;
	req.err = err;
	req.errlen = errlen;
	return store_submit(st, &req);
}

/* store_event_query - the variant of the query that suits the filter */
static sqlite3_stmt *store_event_query(fm_store_t *st,
				       const fm_event_filter_t *f)
{
	int v;

	if (f->recipient != NULL)
		v = RE_RCPT;
	else if (f->code != NULL)
		v = RE_CODE;
	else if (f->after_id > 0)
		v = RE_ALL;		/* new events only: the id range */
	else if (f->cls != NULL)
		v = RE_CLASS;
	else if (f->since != 0)
		v = RE_SINCE;
	else
		v = RE_ALL;
	return st->revent[v + (f->ascending != 0)];
}

/* store_event_bind - bind the filter to the query's parameters */
static void store_event_bind(sqlite3_stmt *q, const fm_event_filter_t *f)
{
	const char *domain = f->domain;

	if (domain != NULL && *domain == '@')
		domain++;
	if (f->since != 0)
		sqlite3_bind_int64(q, 1, (sqlite3_int64) f->since);
	else
		sqlite3_bind_null(q, 1);
	store_bind_text(q, 2, f->cls);
	store_bind_text(q, 3, domain);
	store_bind_text(q, 4, f->code);
	store_bind_text(q, 5, f->recipient);
	sqlite3_bind_int64(q, 6, f->after_id > 0 ? f->after_id : 0);
	sqlite3_bind_int64(q, 7, f->limit > 0 && f->limit <= INT64_MAX ?
			   (sqlite3_int64) f->limit : -1);
}

/* store_event_sigs - copy the signatures of ev; *mem is for free() */
static int store_event_sigs(fm_store_t *st, fm_event_t *ev, void **mem)
{
	sqlite3_stmt *q = st->revent[RE_SIGS];
	fm_event_sig_t *sigs;
	size_t n, k, bytes = 0;
	char **ptrs, *p;
	int rc;

	sqlite3_bind_int64(q, 1, ev->id);
	if ((rc = store_measure(q, 3, &n, &bytes)) != SQLITE_OK || n == 0)
		return rc;
	sigs = malloc(n * (sizeof(*sigs) + 3 * sizeof(char *)) + bytes);
	if (sigs == NULL)
		return SQLITE_NOMEM;
	ptrs = (char **) (sigs + n);
	p = (char *) (ptrs + 3 * n);
	if ((rc = store_copy_rows(q, 3, n, ptrs, &p)) != SQLITE_OK) {
		free(sigs);
		return rc;
	}
	for (k = 0; k < n; k++) {
		sigs[k].domain = ptrs[k];
		sigs[k].selector = ptrs[n + k];
		sigs[k].result = ptrs[2 * n + k];
	}
	ev->sigs = sigs;
	ev->nsigs = n;
	*mem = sigs;
	return SQLITE_OK;
}

/*
 * store_event_visit - make the current row of q an event (its strings
 * point into the row), add its signatures and send, and call cb.
 */
static int store_event_visit(fm_store_t *st, sqlite3_stmt *q,
			     fm_event_cb *cb, void *arg, int *stop)
{
	const char **text[EVENT_NTEXT];
	fm_event_t ev;
	fm_send_t send;
	void *mem = NULL;
	int i, rc, have_send;

	memset(&ev, 0, sizeof(ev));
	memset(&send, 0, sizeof(send));
	ev.id = sqlite3_column_int64(q, EV_COL_ID);
	ev.send_id = sqlite3_column_int64(q, EV_COL_SEND_ID);
	ev.code = (const char *) sqlite3_column_text(q, EV_COL_CODE);
	ev.verified = sqlite3_column_int(q, EV_COL_VERIFIED);
	ev.created = (time_t) sqlite3_column_int64(q, EV_COL_CREATED);
	ev.rcpt_of_send = sqlite3_column_int(q, EV_COL_OF_SEND);
	ev.replycode = sqlite3_column_int(q, EV_COL_REPLYCODE);
	store_event_fields(&ev, text);
	for (i = 0; i < EVENT_NTEXT; i++)
		*text[i] = (const char *) sqlite3_column_text(q,
							      EV_COL_TEXT + i);
	have_send = sqlite3_column_type(q, EV_COL_SEND) != SQLITE_NULL;
	if ((rc = store_event_sigs(st, &ev, &mem)) != SQLITE_OK)
		goto out;
	if (have_send &&
	    (rc = store_send_fill(st, q, EV_COL_SEND, &send)) != SQLITE_OK)
		goto out;
	*stop = cb(&ev, have_send ? &send : NULL, arg) != 0;
out:
	fm_send_free(&send);
	free(mem);
	return rc;
}

/* fm_store_each_event - call cb for each event that passes the filter */
int fm_store_each_event(fm_store_t *st, const fm_event_filter_t *f,
			fm_event_cb *cb, void *arg, char *err, size_t errlen)
{
	static const fm_event_filter_t none;
	sqlite3_stmt *q;
	int rc, n = 0, stop = 0;

	if (cb == NULL) {
		store_err(err, errlen, "store: no callback for the events");
		return -1;
	}
	if (f == NULL)
		f = &none;
	q = store_event_query(st, f);
	if ((rc = store_read_begin(st)) != SQLITE_OK)
		goto out;
	store_event_bind(q, f);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((rc = store_event_visit(st, q, cb, arg, &stop)) !=
		    SQLITE_OK)
			break;
		n++;
	}
	if (stop)
		rc = SQLITE_DONE;
out:
	if (rc != SQLITE_DONE)
		store_db_err(st, st->rdb, rc, "cannot read events", err,
			     errlen);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	store_read_end(st);
	return rc == SQLITE_DONE ? n : -1;
}
