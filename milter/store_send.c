/*
 * store_send - send records: insert one, look one up by code
 *
 * A send record is what the outbound side commits before the milter lets a
 * message go: the code, the original sender, the recipients, the identity
 * headers. fm_store_add_send() hands the record to the group-commit writer
 * (store.c) and returns once its transaction is durable; the insert itself
 * (store_send_insert) runs in the leading caller inside the request's own
 * savepoint. fm_store_find_send() reads a record back in one snapshot and
 * copies it into one allocation that fm_send_free() releases.
 *
 *	switch (fm_store_add_send(st, &send, err, sizeof(err))) {
 *	case FM_STORE_OK: ...; case FM_STORE_DUP: new code, try again; ...
 *	}
 *	if (fm_store_find_send(st, code, &found, err, sizeof(err)) ==
 *	    FM_STORE_OK) { ...; fm_send_free(&found); }
 *
 * store_send_fill() copies a send out of any query that selects
 * STORE_SEND_COLS(); the event queries (store_event.c) use it for the send
 * an event belongs to.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

/* Writer statements, prepared at open by store.c. */
const char *const store_send_wsql[WS_COUNT] = {
	[WS_SEND] = "INSERT INTO sends (code, feedback_domain, created, sender,"
	" msgid, queue_id, client_addr, sasl_user)"
	" VALUES (lower(?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[WS_RCPT] = "INSERT INTO send_rcpts (send_id, idx, rcpt)"
	" VALUES (?1, ?2, ?3)",
	[WS_IDENT] = "INSERT INTO send_idents (send_id, idx, name, value)"
	" VALUES (?1, ?2, ?3, ?4)",
};

/* Reader statements, prepared at open by store.c. */
const char *const store_send_rsql[RS_COUNT] = {
	[RS_SEND] = "SELECT " STORE_SEND_COLS("")
	" FROM sends WHERE code = lower(?1)",
	[RS_RCPTS] = "SELECT rcpt FROM send_rcpts WHERE send_id = ?1"
	" ORDER BY idx",
	[RS_IDENTS] = "SELECT name, value FROM send_idents WHERE send_id = ?1"
	" ORDER BY idx",
};

/*
 * Within STORE_SEND_COLS(): the id, the creation time, and the text
 * columns in fm_send_t order.
 */
#define SEND_COL_ID 0
#define SEND_COL_CREATED 3
static const int store_send_text_cols[] = {1, 2, 4, 5, 6, 7, 8};

#define SEND_NTEXT \
	(sizeof(store_send_text_cols) / sizeof(store_send_text_cols[0]))

/* store_send_rows - insert the recipients and identity headers */
static int store_send_rows(fm_store_t *st, const fm_send_t *s,
			   sqlite3_int64 id)
{
	sqlite3_stmt *q;
	size_t i;
	int rc = SQLITE_OK;

	q = st->wsend[WS_RCPT];
	for (i = 0; i < s->nrcpts && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, (sqlite3_int64) i);
		store_bind_text(q, 3, s->rcpts[i]);
		rc = sqlite3_step(q);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(q);
	}
	sqlite3_clear_bindings(q);
	q = st->wsend[WS_IDENT];
	for (i = 0; i < s->nidents && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, (sqlite3_int64) i);
		store_bind_text(q, 3, s->ident_names[i]);
		store_bind_text(q, 4, s->ident_values ? s->ident_values[i] :
				NULL);
		rc = sqlite3_step(q);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(q);
	}
	sqlite3_clear_bindings(q);
	return rc;
}

/* store_send_insert - the writer's insert of one send; sets the result */
static void store_send_insert(fm_store_t *st, struct store_req *r)
{
	const fm_send_t *s = r->rec;
	sqlite3_stmt *q = st->wsend[WS_SEND];
	int rc;

	store_bind_text(q, 1, s->code);
	store_bind_text(q, 2, s->feedback_domain);
	sqlite3_bind_int64(q, 3, (sqlite3_int64) s->created);
	store_bind_text(q, 4, s->sender);
	store_bind_text(q, 5, s->msgid);
	store_bind_text(q, 6, s->queue_id);
	store_bind_text(q, 7, s->client_addr);
	store_bind_text(q, 8, s->sasl_user);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = store_send_rows(st, s,
				     sqlite3_last_insert_rowid(st->wdb));
	if (rc == SQLITE_DONE || rc == SQLITE_OK) {
		r->status = FM_STORE_OK;
	} else if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		r->status = FM_STORE_DUP;
		store_err(r->err, r->errlen, "%s: code %s exists already",
			  st->path, s->code);
	} else {
		r->status = FM_STORE_ERR;
		store_db_err(st, st->wdb, rc, r->what, r->err, r->errlen);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* store_check_send - refuse a record that cannot be stored */
static int store_check_send(const fm_send_t *s, char *err, size_t errlen)
{
	if (s == NULL || s->code == NULL || s->feedback_domain == NULL) {
		store_err(err, errlen, "store: a send needs a code and a "
			  "feedback domain");
		return -1;
	}
	if ((s->nrcpts && s->rcpts == NULL) ||
	    (s->nidents && s->ident_names == NULL)) {
		store_err(err, errlen, "store: send %s: recipient or identity "
			  "count without an array", s->code);
		return -1;
	}
	return 0;
}

/* fm_store_add_send - queue the record and wait until it is committed */
fm_store_status_t fm_store_add_send(fm_store_t *st, const fm_send_t *send,
				    char *err, size_t errlen)
{
	struct store_req req;

	if (store_check_send(send, err, errlen) != 0)
		return FM_STORE_ERR;
	memset(&req, 0, sizeof(req));
	req.insert = store_send_insert;
	req.what = "cannot record send";
	req.rec = send;
	req.nrec = 1;
	req.err = err;
	req.errlen = errlen;
	return store_submit(st, &req);
}

/*
 * store_send_fill - copy the send in columns base.. of the current row of
 * qs (STORE_SEND_COLS order), with its recipients and identity headers,
 * into out. Runs on the reader inside a read transaction.
 */
int store_send_fill(fm_store_t *st, sqlite3_stmt *qs, int base,
		    fm_send_t *out)
{
	sqlite3_stmt *qr = st->rsend[RS_RCPTS], *qi = st->rsend[RS_IDENTS];
	const char **field[SEND_NTEXT] = {
		&out->code, &out->feedback_domain, &out->sender, &out->msgid,
		&out->queue_id, &out->client_addr, &out->sasl_user,
	};
	sqlite3_int64 id = sqlite3_column_int64(qs, base + SEND_COL_ID);
	size_t nr, ni, i, bytes = 0;
	char **ptrs, *p;
	int rc;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < SEND_NTEXT; i++)
		bytes += store_col_size(qs, base + store_send_text_cols[i]);
	sqlite3_bind_int64(qr, 1, id);
	sqlite3_bind_int64(qi, 1, id);
	if ((rc = store_measure(qr, 1, &nr, &bytes)) != SQLITE_OK ||
	    (rc = store_measure(qi, 2, &ni, &bytes)) != SQLITE_OK)
		return rc;
	ptrs = malloc((nr + 2 * ni) * sizeof(char *) + bytes + 1);
	if (ptrs == NULL)
		return SQLITE_NOMEM;
	p = (char *) (ptrs + nr + 2 * ni);
	for (i = 0; i < SEND_NTEXT; i++)
		*field[i] = store_col_copy(qs, base + store_send_text_cols[i],
					   &p);
	out->created = (time_t) sqlite3_column_int64(qs,
						     base + SEND_COL_CREATED);
	if ((rc = store_copy_rows(qr, 1, nr, ptrs, &p)) != SQLITE_OK ||
	    (rc = store_copy_rows(qi, 2, ni, ptrs + nr, &p)) != SQLITE_OK) {
		free(ptrs);
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->rcpts = (const char *const *) ptrs;
	out->nrcpts = nr;
	out->ident_names = (const char *const *) (ptrs + nr);
	out->ident_values = (const char *const *) (ptrs + nr + ni);
	out->nidents = ni;
	out->mem_ = ptrs;
	return SQLITE_OK;
}

/* fm_store_find_send - look a send up by code (any case) */
fm_store_status_t fm_store_find_send(fm_store_t *st, const char *code,
				     fm_send_t *out, char *err, size_t errlen)
{
	fm_store_status_t status = FM_STORE_ERR;
	sqlite3_stmt *qs = st->rsend[RS_SEND];
	int rc;

	memset(out, 0, sizeof(*out));
	if (code == NULL) {
		store_err(err, errlen, "store: no code to look up");
		return FM_STORE_ERR;
	}
	if ((rc = store_read_begin(st)) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(qs, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(qs);
	if (rc == SQLITE_DONE) {
		status = FM_STORE_NOTFOUND;
		store_err(err, errlen, "%s: code %s not found", st->path,
			  code);
		goto out;
	}
	if (rc != SQLITE_ROW ||
	    (rc = store_send_fill(st, qs, 0, out)) != SQLITE_OK)
		goto fail;
	status = FM_STORE_OK;
	goto out;
fail:
	store_db_err(st, st->rdb, rc, "cannot look up send", err, errlen);
out:
	sqlite3_reset(qs);
	sqlite3_clear_bindings(qs);
	store_read_end(st);
	return status;
}

/* fm_send_free - free a looked-up record and zero it */
void fm_send_free(fm_send_t *send)
{
	if (send == NULL)
		return;
	free(send->mem_);
	memset(send, 0, sizeof(*send));
}
