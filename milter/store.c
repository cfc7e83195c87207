/*
 * store - the embedded SQLite store: schema, migrations, group commit
 *
 * This module owns the SQLite database: it creates and migrates the schema,
 * records sends durably before the milter lets the message go, records the
 * events of inbound messages, and serves lookups to the inbound side and to
 * feedbackctl. This file holds what every kind of record shares: opening,
 * the schema, the group-commit queue, the read lock,
 * closing. store_send.c holds the send records, store_event.c the events,
 * store_suppress.c the suppressions and pruning, store_stats.c the
 * statistics, store_row.c copies query results out; store_int.h is what
 * they share.
 *
 * Usage:
 *
 *	st = fm_store_open("/var/lib/feedback-milter/feedback.db", 0, 5000,
 *			   err, sizeof(err));
 *	switch (fm_store_add_send(st, &send, err, sizeof(err))) { ... }
 *	if (fm_store_find_send(st, code, &found, err, sizeof(err)) ==
 *	    FM_STORE_OK) { ...; fm_send_free(&found); }
 *	if (fm_store_add_events(st, events, n, err, sizeof(err)) !=
 *	    FM_STORE_OK) { ... }
 *	n = fm_store_each_event(st, &filter, print_event, arg, err,
 *				sizeof(err));
 *	fm_store_close(st);
 *
 * Durability. The database runs in WAL mode with synchronous=FULL, so a
 * COMMIT returns only after the WAL is on disk. fm_store_add_send() and
 * fm_store_add_events() return FM_STORE_OK only for records whose
 * transaction has committed.
 *
 * Group commit. Writes may come from any number of threads at once. Each
 * call puts a request, which lives on the caller's stack and points at the
 * caller's records (nothing is copied), on a queue. The caller that finds
 * no batch running leads: it takes every queued request, runs them in one
 * BEGIN IMMEDIATE ... COMMIT with a SAVEPOINT around each, and then wakes
 * each other caller with its own status; the others sleep on their own
 * condition variable. While one commit (and its fsync) runs, new requests
 * queue up, and the first of them leads the next batch, so the number of
 * fsyncs follows the load without any added delay, and a lone request
 * reaches the disk without waking another thread. A request that fails
 * (a send whose code exists already gets FM_STORE_DUP; an events request
 * with one bad event stores none of them) is rolled back to its savepoint;
 * other requests in the batch are not affected. When the COMMIT fails,
 * every request of the batch gets FM_STORE_ERR. The queue does not know
 * what a request inserts: each kind brings its insert function
 * (store_int.h).
 *
 * fm_store_close() refuses new requests, lets the writer commit those
 * already queued, and returns once every waiting caller has been woken and
 * has left the store; nothing may call into the store after that.
 *
 * Reads use a second connection guarded by its own mutex, so lookups never
 * touch the writer's statements. A read-only store (FM_STORE_RDONLY, for
 * feedbackctl) has only that connection: no writer, no migration,
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
 * A database newer than this build is refused. Version 1: sends; 2:
 * events; 3: suppressions, and the index that counts a recipient's recent
 * events of a class for the follow-up rules; 4: events.of_send (the
 * recipient is one of the send's), set on the rows already there where the
 * recipient is one of its send's recipients, and that index narrowed to
 * the events a threshold counts.
 *
 * Open the store after any fork() and after dropping privileges (SQLite
 * creates the database, WAL and shared-memory files with the opener's
 * owner).
 */
#include <pthread.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

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
	{2,
	 "CREATE TABLE events ("
	 " id INTEGER PRIMARY KEY,"
	 " send_id INTEGER REFERENCES sends(id) ON DELETE SET NULL,"
	 " code TEXT,"
	 " verified INTEGER NOT NULL CHECK (verified IN (0, 1)),"
	 " created INTEGER NOT NULL,"
	 " queue_id TEXT,"
	 " class TEXT NOT NULL,"
	 " reason TEXT,"
	 " status TEXT,"
	 " action TEXT,"
	 " recipient TEXT,"
	 " orig_recipient TEXT,"
	 " diagnostic TEXT,"
	 " remote_mta TEXT,"
	 " reporting_mta TEXT,"
	 " feedback_type TEXT,"
	 " kind TEXT,"
	 " replycode INTEGER,"
	 " client_addr TEXT,"
	 " helo TEXT,"
	 " envfrom TEXT,"
	 " spf_result TEXT,"
	 " spf_domain TEXT);"
	 "CREATE INDEX events_created ON events(created);"
	 "CREATE INDEX events_send_id ON events(send_id);"
	 "CREATE INDEX events_recipient ON events(recipient COLLATE NOCASE);"
	 "CREATE INDEX events_class_created ON events(class, created);"
	 "CREATE TABLE event_sigs ("
	 " event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
	 " idx INTEGER NOT NULL,"
	 " domain TEXT,"
	 " selector TEXT,"
	 " result TEXT,"
	 " PRIMARY KEY (event_id, idx));"},
	{3,
	 "CREATE TABLE suppressions ("
	 " address TEXT PRIMARY KEY COLLATE NOCASE,"
	 " reason TEXT,"
	 " class TEXT,"
	 " event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,"
	 " created INTEGER NOT NULL,"
	 " expires INTEGER,"
	 " source TEXT NOT NULL CHECK (source IN ('rule', 'operator')));"
	 "CREATE INDEX suppressions_event_id ON suppressions(event_id);"
	 "CREATE INDEX suppressions_expires ON suppressions(expires);"
	 "CREATE INDEX events_rcpt_class_created ON events"
	 "(recipient COLLATE NOCASE, class, created, send_id);"},
	{4,
	 "ALTER TABLE events ADD COLUMN of_send INTEGER NOT NULL DEFAULT 0"
	 " CHECK (of_send IN (0, 1));"
	 "UPDATE events SET of_send = 1 WHERE verified = 1"
	 " AND send_id IS NOT NULL AND EXISTS (SELECT 1 FROM send_rcpts r"
	 " WHERE r.send_id = events.send_id"
	 " AND r.rcpt = events.recipient COLLATE NOCASE);"
	 "DROP INDEX events_rcpt_class_created;"
	 "CREATE INDEX events_threshold ON events"
	 "(recipient COLLATE NOCASE, class, created, send_id)"
	 " WHERE verified = 1 AND of_send = 1;"},
};

#define STORE_NSTEPS (sizeof(store_steps) / sizeof(store_steps[0]))

/* The transaction around each batch, prepared once at open. */
static const char *const store_wsql[W_COUNT] = {
	[W_BEGIN] = "BEGIN IMMEDIATE",
	[W_COMMIT] = "COMMIT",
	[W_ROLLBACK] = "ROLLBACK",
	[W_SAVEPOINT] = "SAVEPOINT fm_req",
	[W_ROLLBACK_TO] = "ROLLBACK TO fm_req",
	[W_RELEASE] = "RELEASE fm_req",
};

/* The snapshot around each query, prepared once at open. */
static const char *const store_rsql[R_COUNT] = {
	[R_BEGIN] = "BEGIN",
	[R_ROLLBACK] = "ROLLBACK",
};

/* store_err - format a message into a caller's buffer, if there is one */
void store_err(char *err, size_t errlen, const char *fmt, ...)
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
void store_db_err(const fm_store_t *st, sqlite3 *db, int rc,
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
int store_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* store_bind_text - bind a string or NULL */
int store_bind_text(sqlite3_stmt *q, int col, const char *s)
{
	return s ? sqlite3_bind_text(q, col, s, -1, SQLITE_STATIC) :
		sqlite3_bind_null(q, col);
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
		/*
		 * A cache that holds the hot index pages of a large store:
		 * codes are random, so each insert touches a random page of
		 * the code index, and SQLite's default 2 MB cache makes a
		 * store of a million sends pay a read for most of them.
		 */
		rc = sqlite3_exec(st->wdb, "PRAGMA synchronous=FULL;"
				  "PRAGMA foreign_keys=ON;"
				  "PRAGMA cache_size=-65536", NULL, NULL, NULL);
	st->cache_kib = st->cache_set = 65536;
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

/* store_insert_one - run one request inside its own savepoint */
static void store_insert_one(fm_store_t *st, struct store_req *r)
{
	int rc;

	rc = store_run(st->wst[W_SAVEPOINT]);
	if (rc != SQLITE_OK) {
		r->status = FM_STORE_ERR;
		store_db_err(st, st->wdb, rc, r->what, r->err, r->errlen);
		return;
	}
	r->insert(st, r);
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
static long store_run_batch(fm_store_t *st, struct store_req *batch)
{
	struct store_req *r;
	struct stat sb;
	long nok = 0;
	int rc;

	/*
	 * A database file removed or replaced under us would take commits
	 * that nobody can read again: codes sent then could never be
	 * resolved. Refuse until the file is back (or the milter restarts).
	 */
	if (stat(st->path, &sb) < 0 || sb.st_dev != st->dev ||
	    sb.st_ino != st->ino) {
		store_err(st->wmsg, sizeof(st->wmsg), "%s: the database file was "
			  "removed or replaced while open; restore it or restart "
			  "the milter", st->path);
		goto fail;
	}
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
		if (r->status == FM_STORE_OK)
			nok += (long) r->nrec;
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

/*
 * store_lead - run batches as the leader, with mu held on entry and exit:
 * take the whole queue, commit it without the lock, wake its callers; stop
 * once the caller's own request is done. A request queued meanwhile is
 * left for its own caller, who is woken to lead the next batch.
 */
static void store_lead(fm_store_t *st, struct store_req *self)
{
	struct store_req *batch, *r, *next;
	long nok;

	st->leading = 1;
	while (!self->done && st->head != NULL) {
		unsigned cache = st->cache_kib;

		batch = st->head;
		st->head = NULL;
		st->tailp = &st->head;
		pthread_mutex_unlock(&st->mu);

		if (cache != st->cache_set) {
			char sql[64];

			snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%u", cache);
			if (sqlite3_exec(st->wdb, sql, NULL, NULL, NULL) == SQLITE_OK)
				st->cache_set = cache;
		}

		nok = store_run_batch(st, batch);

		pthread_mutex_lock(&st->mu);
		if (nok >= 0) {
			st->commits++;
			st->records += (unsigned long) nok;
		}
		for (r = batch; r; r = next) {
			next = r->next;
			r->done = 1;
			if (r != self)
				pthread_cond_signal(&r->cv);
		}
	}
	st->leading = 0;
	if (st->head != NULL)
		pthread_cond_signal(&st->head->cv);
}

/* store_free - release everything; no caller may be left in the store */
static void store_free(fm_store_t *st)
{
	store_finalize(st->rstats, RT_COUNT);
	store_finalize(st->rsupp, RX_COUNT);
	store_finalize(st->revent, RE_COUNT);
	store_finalize(st->rsend, RS_COUNT);
	store_finalize(st->rst, R_COUNT);
	store_finalize(st->wsupp, WX_COUNT);
	store_finalize(st->wevent, WE_COUNT);
	store_finalize(st->wsend, WS_COUNT);
	store_finalize(st->wst, W_COUNT);
	sqlite3_close(st->rdb);
	sqlite3_close(st->wdb);
	pthread_mutex_destroy(&st->rmu);
	pthread_mutex_destroy(&st->mu);
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
	pthread_cond_init(&st->idle, NULL);
	return st;
}

/* store_open_writer - open, check, set up and migrate the write side */
static int store_open_writer(fm_store_t *st, char *err, size_t errlen)
{
	struct stat sb;
	int version = 0;

	if (store_connect(st, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			  &st->wdb, err, errlen) != 0)
		return -1;
	if (stat(st->path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
	}
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
	if (store_prepare(st, st->wdb, store_wsql, st->wst, W_COUNT, err,
			  errlen) != 0 ||
	    store_prepare(st, st->wdb, store_send_wsql, st->wsend, WS_COUNT,
			  err, errlen) != 0 ||
	    store_prepare(st, st->wdb, store_event_wsql, st->wevent,
			  WE_COUNT, err, errlen) != 0 ||
	    store_prepare(st, st->wdb, store_suppress_wsql, st->wsupp,
			  WX_COUNT, err, errlen) != 0)
		return -1;
	return 0;
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
	if (store_prepare(st, st->rdb, store_rsql, st->rst, R_COUNT, err,
			  errlen) != 0 ||
	    store_prepare(st, st->rdb, store_send_rsql, st->rsend, RS_COUNT,
			  err, errlen) != 0 ||
	    store_prepare(st, st->rdb, store_event_rsql, st->revent,
			  RE_COUNT, err, errlen) != 0 ||
	    store_prepare(st, st->rdb, store_suppress_rsql, st->rsupp,
			  RX_COUNT, err, errlen) != 0 ||
	    store_prepare(st, st->rdb, store_stats_rsql, st->rstats,
			  RT_COUNT, err, errlen) != 0)
		return -1;
	return 0;
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
	return st;
fail:
	store_free(st);
	return NULL;
}

/* fm_store_set_cache - the writer's page cache bound, from the next batch */
void fm_store_set_cache(fm_store_t *st, unsigned kib)
{
	pthread_mutex_lock(&st->mu);
	st->cache_kib = kib;
	pthread_mutex_unlock(&st->mu);
}

/*
 * fm_store_close - refuse new requests, wait until every caller has had
 * its request committed (or failed) and has returned, close.
 */
void fm_store_close(fm_store_t *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	st->stopping = 1;
	while (st->pending > 0)
		pthread_cond_wait(&st->idle, &st->mu);
	pthread_mutex_unlock(&st->mu);
	store_free(st);
}

/*
 * store_submit - queue a request filled in by a kind of record (insert,
 * what, rec, nrec, err, errlen) and return once it is committed or failed.
 * The caller that finds no batch running commits the queue itself (it
 * leads); the others wait to be woken with their status, or to lead the
 * next batch.
 */
fm_store_status_t store_submit(fm_store_t *st, struct store_req *req)
{
	if (st->rdonly) {
		store_err(req->err, req->errlen, "%s: store is open read-only",
			  st->path);
		return FM_STORE_ERR;
	}
	req->status = FM_STORE_ERR;
	req->done = 0;
	req->next = NULL;
	pthread_cond_init(&req->cv, NULL);

	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		store_err(req->err, req->errlen, "%s: store is closing",
			  st->path);
	} else {
		*st->tailp = req;
		st->tailp = &req->next;
		st->pending++;
		while (!req->done) {
			if (!st->leading)
				store_lead(st, req);
			else
				pthread_cond_wait(&req->cv, &st->mu);
		}
		if (--st->pending == 0 && st->stopping)
			pthread_cond_signal(&st->idle);
	}
	pthread_mutex_unlock(&st->mu);
	pthread_cond_destroy(&req->cv);
	return req->status;
}

/*
 * store_read_begin - take the read lock and open a read transaction, so a
 * query's statements all see one snapshot. Call store_read_end() after,
 * also when this fails (the lock is held either way).
 */
int store_read_begin(fm_store_t *st)
{
	pthread_mutex_lock(&st->rmu);
	return store_run(st->rst[R_BEGIN]);
}

/* store_read_end - end the read transaction and give the read lock back */
void store_read_end(fm_store_t *st)
{
	if (!sqlite3_get_autocommit(st->rdb))
		store_run(st->rst[R_ROLLBACK]);
	pthread_mutex_unlock(&st->rmu);
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
