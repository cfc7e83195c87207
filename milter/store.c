/*
 * store - the embedded SQLite store: schema, migrations, send records
 *
 * This module owns the SQLite database: it creates and migrates the schema,
 * records a send durably before the milter lets the message go, and looks
 * sends up by code for the inbound side and for feedbackctl.
 *
 * Usage:
 *
 *	st = fm_store_open("/var/lib/feedback-milter/feedback.db", 0, 5000,
 *			   err, sizeof(err));
 *	switch (fm_store_add_send(st, &send, err, sizeof(err))) { ... }
 *	if (fm_store_find_send(st, code, &found, err, sizeof(err)) ==
 *	    FM_STORE_OK) { ...; fm_send_free(&found); }
 *	fm_store_close(st);
 *
 * Durability. The database runs in WAL mode with synchronous=FULL, so a
 * COMMIT returns only after the WAL is on disk. fm_store_add_send() returns
 * FM_STORE_OK only for a record whose transaction has committed.
 *
 * Group commit. fm_store_add_send() may be called from any number of threads
 * at once. Each call puts a request, which lives on the caller's stack and
 * points at the caller's record (nothing is copied), on a queue and sleeps
 * on its own condition variable. One writer thread takes every queued
 * request, runs them in one BEGIN IMMEDIATE ... COMMIT with a SAVEPOINT
 * around each, and then wakes each caller with its own status. While one
 * commit (and its fsync) runs, new requests queue up for the next batch, so
 * the number of fsyncs follows the load without any added delay. A request
 * whose code exists already is rolled back to its savepoint and gets
 * FM_STORE_DUP; other requests in the batch are not affected. When the
 * COMMIT fails, every request of the batch gets FM_STORE_ERR.
 *
 * fm_store_close() refuses new requests, lets the writer commit those
 * already queued, and returns once every waiting caller has been woken and
 * has left the store; nothing may call into the store after that.
 *
 * Reads use a second connection guarded by its own mutex, so lookups never
 * touch the writer's statements. A read-only store (FM_STORE_RDONLY, for
 * feedbackctl) has only that connection: no writer thread, no migration,
 * and it refuses a database whose schema is missing, older or newer. Codes
 * are stored and looked up in lowercase.
 *
 * A read-only open of a WAL database needs its -shm file, which SQLite
 * creates beside the database when it is missing (after the milter closed
 * the database cleanly): feedbackctl must then be able to write in that
 * directory, so run it as the milter's user.
 *
 * Schema. PRAGMA user_version holds the schema version. store_steps[] lists
 * the migrations in order; opening read-write applies each step newer than
 * the database in its own transaction. To change the schema, append a step.
 * A database newer than this build is refused.
 *
 * The writer thread blocks all signals, so it never takes a signal meant
 * for libmilter's signal thread. Open the store after any fork() (threads
 * do not survive it) and after dropping privileges (SQLite creates the
 * database, WAL and shared-memory files with the opener's owner).
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

/* One migration step: run sql, then the database is at this version. */
struct store_step {
	int version;
	const char *sql;
};

static const struct store_step store_steps[] = {
	{1,
	 "CREATE TABLE sends ("
	 " id INTEGER PRIMARY KEY,"
	 " code TEXT NOT NULL UNIQUE,"
	 " feedback_domain TEXT NOT NULL,"
	 " created INTEGER NOT NULL,"
	 " sender TEXT,"
	 " msgid TEXT,"
	 " queue_id TEXT,"
	 " client_addr TEXT,"
	 " sasl_user TEXT);"
	 "CREATE INDEX sends_created ON sends(created);"
	 "CREATE TABLE send_rcpts ("
	 " send_id INTEGER NOT NULL REFERENCES sends(id) ON DELETE CASCADE,"
	 " idx INTEGER NOT NULL,"
	 " rcpt TEXT NOT NULL,"
	 " PRIMARY KEY (send_id, idx));"
	 "CREATE INDEX send_rcpts_rcpt ON send_rcpts(rcpt COLLATE NOCASE);"
	 "CREATE TABLE send_idents ("
	 " send_id INTEGER NOT NULL REFERENCES sends(id) ON DELETE CASCADE,"
	 " idx INTEGER NOT NULL,"
	 " name TEXT NOT NULL,"
	 " value TEXT,"
	 " PRIMARY KEY (send_id, idx));"},
};

#define STORE_NSTEPS (sizeof(store_steps) / sizeof(store_steps[0]))

/* Writer statements, prepared once at open. */
enum {
	W_BEGIN, W_COMMIT, W_ROLLBACK, W_SAVEPOINT, W_ROLLBACK_TO, W_RELEASE,
	W_SEND, W_RCPT, W_IDENT, W_COUNT
};

static const char *const store_wsql[W_COUNT] = {
	[W_BEGIN] = "BEGIN IMMEDIATE",
	[W_COMMIT] = "COMMIT",
	[W_ROLLBACK] = "ROLLBACK",
	[W_SAVEPOINT] = "SAVEPOINT fm_req",
	[W_ROLLBACK_TO] = "ROLLBACK TO fm_req",
	[W_RELEASE] = "RELEASE fm_req",
	[W_SEND] = "INSERT INTO sends (code, feedback_domain, created, sender,"
	" msgid, queue_id, client_addr, sasl_user)"
	" VALUES (lower(?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[W_RCPT] = "INSERT INTO send_rcpts (send_id, idx, rcpt)"
	" VALUES (?1, ?2, ?3)",
	[W_IDENT] = "INSERT INTO send_idents (send_id, idx, name, value)"
	" VALUES (?1, ?2, ?3, ?4)",
};

/* Reader statements, prepared once at open. */
enum {
	R_BEGIN, R_ROLLBACK, R_SEND, R_RCPTS, R_IDENTS, R_COUNT
};

static const char *const store_rsql[R_COUNT] = {
	[R_BEGIN] = "BEGIN",
	[R_ROLLBACK] = "ROLLBACK",
	[R_SEND] = "SELECT id, code, feedback_domain, created, sender, msgid,"
	" queue_id, client_addr, sasl_user FROM sends WHERE code = lower(?1)",
	[R_RCPTS] = "SELECT rcpt FROM send_rcpts WHERE send_id = ?1"
	" ORDER BY idx",
	[R_IDENTS] = "SELECT name, value FROM send_idents WHERE send_id = ?1"
	" ORDER BY idx",
};

/* The text columns of R_SEND, in fm_send_t order after the id (column 0). */
#define R_SEND_CREATED 3
static const int store_send_cols[] = {1, 2, 4, 5, 6, 7, 8};

#define STORE_NTEXT (sizeof(store_send_cols) / sizeof(store_send_cols[0]))

/* One fm_store_add_send() call, on the caller's stack. */
struct store_req {
	const fm_send_t *send;
	fm_store_status_t status;
	char *err;
	size_t errlen;
	int done;			/* set by the writer, under mu */
	pthread_cond_t cv;		/* the caller sleeps here */
	struct store_req *next;
};

struct fm_store {
	char *path;
	int rdonly;
	unsigned busy_ms;

	/* writer side: wdb and wst belong to the writer thread */
	sqlite3 *wdb;
	sqlite3_stmt *wst[W_COUNT];
	char wmsg[512];			/* batch-wide error, writer only */
	pthread_t writer;
	int writer_started;

	pthread_mutex_t mu;		/* guards the fields below */
	pthread_cond_t work;		/* queue not empty, or stopping */
	pthread_cond_t idle;		/* pending is 0 while stopping */
	struct store_req *head;
	struct store_req **tailp;
	int stopping;
	size_t pending;			/* callers not yet returned */
	unsigned long commits;
	unsigned long records;

	/* reader side */
	pthread_mutex_t rmu;
	sqlite3 *rdb;
	sqlite3_stmt *rst[R_COUNT];
};

/* store_err - format a message into a caller's buffer, if there is one */
static void __attribute__((format(printf, 3, 4)))
store_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* store_is_busy - is this result a lock that outlasted the busy timeout? */
static int store_is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* store_db_err - describe a failed sqlite call on db, naming the path */
static void store_db_err(const fm_store_t *st, sqlite3 *db, int rc,
			 const char *what, char *err, size_t errlen)
{
	const char *msg = db && sqlite3_errcode(db) != SQLITE_OK ?
		sqlite3_errmsg(db) : sqlite3_errstr(rc);

	if (store_is_busy(rc))
		store_err(err, errlen,
			  "%s: %s: still locked after the busy timeout "
			  "(%u ms): %s", st->path, what, st->busy_ms, msg);
	else
		store_err(err, errlen, "%s: %s: %s", st->path, what, msg);
}

/* store_run - step a statement that returns no rows, then reset it */
static int store_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* store_user_version - read PRAGMA user_version */
static int store_user_version(fm_store_t *st, sqlite3 *db, int *version,
			      char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			*version = sqlite3_column_int(q, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		store_db_err(st, db, rc, "cannot read schema version",
			     err, errlen);
	sqlite3_finalize(q);
	return rc;
}

/* store_check_version - refuse a schema this build cannot use */
static int store_check_version(fm_store_t *st, int version, char *err,
			       size_t errlen)
{
	int want = fm_store_schema_version();

	if (version > want) {
		store_err(err, errlen, "%s: schema version %d is newer than "
			  "this build knows (%d); upgrade feedback-milter",
			  st->path, version, want);
		return -1;
	}
	if (st->rdonly && version == 0) {
		store_err(err, errlen, "%s: no feedback-milter schema (user_"
			  "version 0); the milter creates it on its first "
			  "start", st->path);
		return -1;
	}
	if (st->rdonly && version < want) {
		store_err(err, errlen, "%s: schema version %d is older than "
			  "this build needs (%d); start the milter once to "
			  "migrate it", st->path, version, want);
		return -1;
	}
	return 0;
}

/* store_connect - open one connection with the busy timeout set */
static int store_connect(fm_store_t *st, int oflags, sqlite3 **dbp,
			 char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc, eno;

	rc = sqlite3_open_v2(st->path, &db, oflags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		eno = db ? sqlite3_system_errno(db) : 0;
		store_err(err, errlen, "%s: cannot open database: %s%s%s%s",
			  st->path,
			  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
			  eno ? " (" : "", eno ? strerror(eno) : "",
			  eno ? ")" : "");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int) (st->busy_ms > INT32_MAX ?
					INT32_MAX : st->busy_ms));
	*dbp = db;
	return 0;
}

/* store_pragmas - WAL, durable commits and foreign keys on the writer */
static int store_pragmas(fm_store_t *st, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	const char *mode;
	int rc;

	rc = sqlite3_prepare_v2(st->wdb, "PRAGMA journal_mode=WAL", -1, &q,
				NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		mode = (const char *) sqlite3_column_text(q, 0);
		if (mode == NULL || strcmp(mode, "wal") != 0) {
			store_err(err, errlen, "%s: cannot switch to WAL "
				  "mode (journal mode is %s)", st->path,
				  mode ? mode : "unknown");
			sqlite3_finalize(q);
			return -1;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->wdb, "PRAGMA synchronous=FULL;"
				  "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_db_err(st, st->wdb, rc, "cannot set up the database",
			     err, errlen);
		return -1;
	}
	return 0;
}

/* store_migrate_step - apply one step in its own transaction */
static int store_migrate_step(fm_store_t *st, const struct store_step *step,
			      char *err, size_t errlen)
{
	char sql[64];
	int rc, version = 0;

	rc = sqlite3_exec(st->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_db_err(st, st->wdb, rc, "cannot start migration",
			     err, errlen);
		return -1;
	}
	/* another process may have migrated while we waited for the lock */
	if (store_user_version(st, st->wdb, &version, err, errlen) != 0)
		goto fail;
	if (version >= step->version)
		goto commit;
	rc = sqlite3_exec(st->wdb, step->sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
			 step->version);
		rc = sqlite3_exec(st->wdb, sql, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		store_db_err(st, st->wdb, rc, "schema migration failed",
			     err, errlen);
		goto fail;
	}
commit:
	rc = sqlite3_exec(st->wdb, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	store_db_err(st, st->wdb, rc, "cannot commit migration", err, errlen);
fail:
	sqlite3_exec(st->wdb, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* store_migrate - bring the schema up to fm_store_schema_version() */
static int store_migrate(fm_store_t *st, int version, char *err,
			 size_t errlen)
{
	size_t i;

	for (i = 0; i < STORE_NSTEPS; i++) {
		if (store_steps[i].version <= version)
			continue;
		if (store_migrate_step(st, &store_steps[i], err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* store_prepare - prepare a table of statements on db */
static int store_prepare(fm_store_t *st, sqlite3 *db,
			 const char *const *sql, sqlite3_stmt **stmts,
			 int count, char *err, size_t errlen)
{
	int i, rc;

	for (i = 0; i < count; i++) {
		rc = sqlite3_prepare_v3(db, sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &stmts[i],
					NULL);
		if (rc != SQLITE_OK) {
			store_db_err(st, db, rc, "cannot prepare statement",
				     err, errlen);
			return -1;
		}
	}
	return 0;
}

/* store_finalize - finalize a table of statements */
static void store_finalize(sqlite3_stmt **stmts, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

/* store_bind_text - bind a string or NULL */
static int store_bind_text(sqlite3_stmt *q, int col, const char *s)
{
	return s ? sqlite3_bind_text(q, col, s, -1, SQLITE_STATIC) :
		sqlite3_bind_null(q, col);
}

/* store_insert_rows - insert the recipients and identity headers */
static int store_insert_rows(fm_store_t *st, const fm_send_t *s,
			     sqlite3_int64 id)
{
	sqlite3_stmt *q;
	size_t i;
	int rc = SQLITE_OK;

	q = st->wst[W_RCPT];
	for (i = 0; i < s->nrcpts && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, (sqlite3_int64) i);
		store_bind_text(q, 3, s->rcpts[i]);
		rc = sqlite3_step(q);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(q);
	}
	sqlite3_clear_bindings(q);
	q = st->wst[W_IDENT];
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

/* store_insert - insert one send record; set the request's result */
static void store_insert(fm_store_t *st, struct store_req *r)
{
	const fm_send_t *s = r->send;
	sqlite3_stmt *q = st->wst[W_SEND];
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
		rc = store_insert_rows(st, s,
				       sqlite3_last_insert_rowid(st->wdb));
	if (rc == SQLITE_DONE || rc == SQLITE_OK) {
		r->status = FM_STORE_OK;
	} else if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		r->status = FM_STORE_DUP;
		store_err(r->err, r->errlen, "%s: code %s exists already",
			  st->path, s->code);
	} else {
		r->status = FM_STORE_ERR;
		store_db_err(st, st->wdb, rc, "cannot record send", r->err,
			     r->errlen);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* store_insert_one - insert one request inside its own savepoint */
static void store_insert_one(fm_store_t *st, struct store_req *r)
{
	int rc;

	rc = store_run(st->wst[W_SAVEPOINT]);
	if (rc != SQLITE_OK) {
		r->status = FM_STORE_ERR;
		store_db_err(st, st->wdb, rc, "cannot record send", r->err,
			     r->errlen);
		return;
	}
	store_insert(st, r);
	if (r->status != FM_STORE_OK && !sqlite3_get_autocommit(st->wdb))
		store_run(st->wst[W_ROLLBACK_TO]);
	if (!sqlite3_get_autocommit(st->wdb))
		store_run(st->wst[W_RELEASE]);
}

/* store_fail_batch - give every request of a batch the same error */
static void store_fail_batch(fm_store_t *st, struct store_req *batch)
{
	struct store_req *r;

	for (r = batch; r; r = r->next) {
		r->status = FM_STORE_ERR;
		store_err(r->err, r->errlen, "%s", st->wmsg);
	}
}

/*
 * store_run_batch - insert a batch in one transaction; return the number of
 * records committed, or -1 when nothing was committed.
 */
static int store_run_batch(fm_store_t *st, struct store_req *batch)
{
	struct store_req *r;
	int rc, nok = 0;

	rc = store_run(st->wst[W_BEGIN]);
	if (rc != SQLITE_OK) {
		store_db_err(st, st->wdb, rc, "cannot begin transaction",
			     st->wmsg, sizeof(st->wmsg));
		goto fail;
	}
	for (r = batch; r; r = r->next) {
		store_insert_one(st, r);
		if (sqlite3_get_autocommit(st->wdb)) {
			/* SQLite rolled the whole transaction back */
			store_err(st->wmsg, sizeof(st->wmsg), "%s: transaction "
				  "rolled back: %s", st->path,
				  sqlite3_errmsg(st->wdb));
			goto fail;
		}
		nok += r->status == FM_STORE_OK;
	}
	rc = store_run(st->wst[W_COMMIT]);
	if (rc == SQLITE_OK)
		return nok;
	store_db_err(st, st->wdb, rc, "cannot commit", st->wmsg,
		     sizeof(st->wmsg));
fail:
	if (!sqlite3_get_autocommit(st->wdb))
		store_run(st->wst[W_ROLLBACK]);
	store_fail_batch(st, batch);
	return -1;
}

/* store_writer - the writer thread: one transaction per batch */
static void *store_writer(void *arg)
{
	fm_store_t *st = arg;
	struct store_req *batch, *r, *next;
	int nok;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->head == NULL && !st->stopping)
			pthread_cond_wait(&st->work, &st->mu);
		if (st->head == NULL)
			break;
		batch = st->head;
		st->head = NULL;
		st->tailp = &st->head;
		pthread_mutex_unlock(&st->mu);

		nok = store_run_batch(st, batch);

		pthread_mutex_lock(&st->mu);
		if (nok >= 0) {
			st->commits++;
			st->records += (unsigned long) nok;
		}
		for (r = batch; r; r = next) {
			next = r->next;
			r->done = 1;
			pthread_cond_signal(&r->cv);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* store_start_writer - start the writer thread with all signals blocked */
static int store_start_writer(fm_store_t *st, char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&st->writer, NULL, store_writer, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		store_err(err, errlen, "%s: cannot start writer thread: %s",
			  st->path, strerror(rc));
		return -1;
	}
	st->writer_started = 1;
	return 0;
}

/* store_free - release everything; the writer thread must be stopped */
static void store_free(fm_store_t *st)
{
	store_finalize(st->rst, R_COUNT);
	store_finalize(st->wst, W_COUNT);
	sqlite3_close(st->rdb);
	sqlite3_close(st->wdb);
	pthread_mutex_destroy(&st->rmu);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->work);
	pthread_cond_destroy(&st->idle);
	free(st->path);
	free(st);
}

/* store_alloc - a store with its locks initialized and nothing open */
static fm_store_t *store_alloc(const char *path, int flags, unsigned busy_ms,
			       char *err, size_t errlen)
{
	fm_store_t *st;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		free(st);
		store_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	st->rdonly = (flags & FM_STORE_RDONLY) != 0;
	st->busy_ms = busy_ms;
	st->tailp = &st->head;
	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->rmu, NULL);
	pthread_cond_init(&st->work, NULL);
	pthread_cond_init(&st->idle, NULL);
	return st;
}

/* store_open_writer - open, check, set up and migrate the write side */
static int store_open_writer(fm_store_t *st, char *err, size_t errlen)
{
	int version = 0;

	if (store_connect(st, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			  &st->wdb, err, errlen) != 0)
		return -1;
	if (sqlite3_db_readonly(st->wdb, "main") == 1) {
		store_err(err, errlen, "%s: database is read-only (no write "
			  "permission on the file?)", st->path);
		return -1;
	}
	if (store_user_version(st, st->wdb, &version, err, errlen) != 0 ||
	    store_check_version(st, version, err, errlen) != 0 ||
	    store_pragmas(st, err, errlen) != 0 ||
	    store_migrate(st, version, err, errlen) != 0)
		return -1;
	return store_prepare(st, st->wdb, store_wsql, st->wst, W_COUNT,
			     err, errlen);
}

/* store_open_reader - open and check the read connection */
static int store_open_reader(fm_store_t *st, char *err, size_t errlen)
{
	int rc, version = 0;

	if (store_connect(st, SQLITE_OPEN_READONLY, &st->rdb, err,
			  errlen) != 0)
		return -1;
	if (st->rdonly &&
	    (rc = store_user_version(st, st->rdb, &version, err,
				     errlen)) != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_READONLY && err != NULL &&
		    errlen > 0 && strlen(err) + 1 < errlen)
			store_err(err + strlen(err), errlen - strlen(err),
				  " (a WAL database needs its -shm file, which "
				  "this user may not create: run as the "
				  "milter's user)");
		return -1;
	}
	if (st->rdonly && store_check_version(st, version, err, errlen) != 0)
		return -1;
	return store_prepare(st, st->rdb, store_rsql, st->rst, R_COUNT,
			     err, errlen);
}

/* fm_store_open - open (and create or migrate unless read-only) a store */
fm_store_t *fm_store_open(const char *path, int flags,
			  unsigned busy_timeout_ms, char *err, size_t errlen)
{
	fm_store_t *st;

	if (path == NULL || *path == 0) {
		store_err(err, errlen, "store: no database path");
		return NULL;
	}
	if ((st = store_alloc(path, flags, busy_timeout_ms, err,
			      errlen)) == NULL)
		return NULL;
	if (!st->rdonly && store_open_writer(st, err, errlen) != 0)
		goto fail;
	if (store_open_reader(st, err, errlen) != 0)
		goto fail;
	if (!st->rdonly && store_start_writer(st, err, errlen) != 0)
		goto fail;
	return st;
fail:
	store_free(st);
	return NULL;
}

/*
 * fm_store_close - refuse new requests, let the writer commit what is
 * queued, wait until every caller has returned, stop the writer, close.
 */
void fm_store_close(fm_store_t *st)
{
	if (st == NULL)
		return;
	if (st->writer_started) {
		pthread_mutex_lock(&st->mu);
		st->stopping = 1;
		pthread_cond_signal(&st->work);
		while (st->pending > 0)
			pthread_cond_wait(&st->idle, &st->mu);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->writer, NULL);
	}
	store_free(st);
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
	if (st->rdonly) {
		store_err(err, errlen, "%s: store is open read-only",
			  st->path);
		return FM_STORE_ERR;
	}
	memset(&req, 0, sizeof(req));
	req.send = send;
	req.status = FM_STORE_ERR;
	req.err = err;
	req.errlen = errlen;
	pthread_cond_init(&req.cv, NULL);

	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		store_err(err, errlen, "%s: store is closing", st->path);
	} else {
		*st->tailp = &req;
		st->tailp = &req.next;
		st->pending++;
		pthread_cond_signal(&st->work);
		while (!req.done)
			pthread_cond_wait(&req.cv, &st->mu);
		if (--st->pending == 0 && st->stopping)
			pthread_cond_signal(&st->idle);
	}
	pthread_mutex_unlock(&st->mu);
	pthread_cond_destroy(&req.cv);
	return req.status;
}

/* store_col_size - bytes a text column needs with its NUL; 0 for NULL */
static size_t store_col_size(sqlite3_stmt *q, int col)
{
	if (sqlite3_column_text(q, col) == NULL)
		return 0;
	return (size_t) sqlite3_column_bytes(q, col) + 1;
}

/* store_col_copy - copy a text column to *pp and advance; NULL for NULL */
static char *store_col_copy(sqlite3_stmt *q, int col, char **pp)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	size_t n;
	char *s = *pp;

	if (t == NULL)
		return NULL;
	n = (size_t) sqlite3_column_bytes(q, col);
	memcpy(s, t, n);
	s[n] = 0;
	*pp = s + n + 1;
	return s;
}

/* store_measure - count the rows of q and the bytes of their columns */
static int store_measure(sqlite3_stmt *q, int ncols, size_t *rows,
			 size_t *bytes)
{
	int rc, c;

	*rows = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		++*rows;
		for (c = 0; c < ncols; c++)
			*bytes += store_col_size(q, c);
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * store_copy_rows - copy the rows of q again (the read transaction keeps
 * them unchanged): column c of row k goes to ptrs[c * rows + k].
 */
static int store_copy_rows(sqlite3_stmt *q, int ncols, size_t rows,
			   char **ptrs, char **pp)
{
	size_t k = 0;
	int rc, c;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW && k < rows) {
		for (c = 0; c < ncols; c++)
			ptrs[(size_t) c * rows + k] = store_col_copy(q, c, pp);
		k++;
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW || (rc == SQLITE_DONE && k != rows))
		return SQLITE_CORRUPT;	/* cannot happen inside a snapshot */
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* store_fill - copy the current R_SEND row and its children into out */
static int store_fill(fm_store_t *st, fm_send_t *out)
{
	sqlite3_stmt *qs = st->rst[R_SEND];
	sqlite3_stmt *qr = st->rst[R_RCPTS], *qi = st->rst[R_IDENTS];
	const char **field[STORE_NTEXT] = {
		&out->code, &out->feedback_domain, &out->sender, &out->msgid,
		&out->queue_id, &out->client_addr, &out->sasl_user,
	};
	size_t nr, ni, i, bytes = 0;
	char **ptrs, *p;
	int rc;

	for (i = 0; i < STORE_NTEXT; i++)
		bytes += store_col_size(qs, store_send_cols[i]);
	sqlite3_bind_int64(qr, 1, sqlite3_column_int64(qs, 0));
	sqlite3_bind_int64(qi, 1, sqlite3_column_int64(qs, 0));
	if ((rc = store_measure(qr, 1, &nr, &bytes)) != SQLITE_OK ||
	    (rc = store_measure(qi, 2, &ni, &bytes)) != SQLITE_OK)
		return rc;
	ptrs = malloc((nr + 2 * ni) * sizeof(char *) + bytes + 1);
	if (ptrs == NULL)
		return SQLITE_NOMEM;
	p = (char *) (ptrs + nr + 2 * ni);
	for (i = 0; i < STORE_NTEXT; i++)
		*field[i] = store_col_copy(qs, store_send_cols[i], &p);
	out->created = (time_t) sqlite3_column_int64(qs, R_SEND_CREATED);
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
	sqlite3_stmt *qs = st->rst[R_SEND];
	int rc;

	memset(out, 0, sizeof(*out));
	if (code == NULL) {
		store_err(err, errlen, "store: no code to look up");
		return FM_STORE_ERR;
	}
	pthread_mutex_lock(&st->rmu);
	if ((rc = store_run(st->rst[R_BEGIN])) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(qs, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(qs);
	if (rc == SQLITE_DONE) {
		status = FM_STORE_NOTFOUND;
		store_err(err, errlen, "%s: code %s not found", st->path,
			  code);
		goto out;
	}
	if (rc != SQLITE_ROW || (rc = store_fill(st, out)) != SQLITE_OK)
		goto fail;
	status = FM_STORE_OK;
	goto out;
fail:
	store_db_err(st, st->rdb, rc, "cannot look up send", err, errlen);
out:
	sqlite3_reset(qs);
	sqlite3_clear_bindings(qs);
	if (!sqlite3_get_autocommit(st->rdb))
		store_run(st->rst[R_ROLLBACK]);
	pthread_mutex_unlock(&st->rmu);
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

/* fm_store_schema_version - the schema version this build writes */
int fm_store_schema_version(void)
{
	return store_steps[STORE_NSTEPS - 1].version;
}

/* fm_store_stats - transactions and records committed so far */
void fm_store_stats(fm_store_t *st, unsigned long *commits,
		    unsigned long *records)
{
	pthread_mutex_lock(&st->mu);
	if (commits)
		*commits = st->commits;
	if (records)
		*records = st->records;
	pthread_mutex_unlock(&st->mu);
}

/* fm_store_queued - callers still waiting for their result */
size_t fm_store_queued(fm_store_t *st)
{
	size_t n;

	pthread_mutex_lock(&st->mu);
	n = st->pending;
	pthread_mutex_unlock(&st->mu);
	return n;
}
