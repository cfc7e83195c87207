/*
 * test_store - unit tests for the SQLite store
 *
 * Every test gets a fresh directory from mkdtemp() under /tmp and works on
 * real database files in it; the directory is removed afterwards. Worker
 * threads never call cmocka: they record results that the test thread
 * checks after joining them.
 *
 * Build:
 *
 *	gcc -std=gnu11 -Wall -Wextra -Werror -Iinclude -o test_store \
 *	    tests/unit/test_store.c milter/store*.c -lcmocka -lsqlite3 \
 *	    -lpthread
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "../../milter/store_int.h"	/* the query variants */

#define TS_CODE_SIZE 32
#define TS_ERR_SIZE 512

struct ts_dir {
	char dir[64];
	char db[96];
};

/* ts_setup - make a fresh directory and a database path inside it */
static int ts_setup(void **state)
{
	struct ts_dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		free(d);
		return -1;
	}
	snprintf(d->db, sizeof(d->db), "%s/feedback.db", d->dir);
	*state = d;
	return 0;
}

/* ts_rm - nftw callback removing one entry */
static int ts_rm(const char *path, const struct stat *sb, int type,
		 struct FTW *ftw)
{
	(void) sb;
	(void) type;
	(void) ftw;
	return remove(path);
}

/* ts_teardown - remove the test directory */
static int ts_teardown(void **state)
{
	struct ts_dir *d = *state;

	chmod(d->dir, 0700);
	nftw(d->dir, ts_rm, 8, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

/* ts_open - open a read-write store or fail the test */
static fm_store_t *ts_open(const char *path, unsigned busy_ms)
{
	char err[TS_ERR_SIZE] = "";
	fm_store_t *st = fm_store_open(path, 0, busy_ms, err, sizeof(err));

	if (st == NULL)
		fail_msg("open %s: %s", path, err);
	return st;
}

/* ts_sql_int - run a query returning one integer on a separate connection */
static long long ts_sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* ts_sql_exec - run statements on a separate connection */
static void ts_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* ts_str_equal - compare two strings that may be NULL */
static void ts_str_equal(const char *want, const char *got)
{
	if (want == NULL || got == NULL)
		assert_ptr_equal(want, got);
	else
		assert_string_equal(want, got);
}

/* ts_send_equal - a looked-up record matches what was added */
static void ts_send_equal(const fm_send_t *w, const fm_send_t *g)
{
	size_t i;

	ts_str_equal(w->feedback_domain, g->feedback_domain);
	assert_int_equal(w->created, g->created);
	ts_str_equal(w->sender, g->sender);
	ts_str_equal(w->msgid, g->msgid);
	ts_str_equal(w->queue_id, g->queue_id);
	ts_str_equal(w->client_addr, g->client_addr);
	ts_str_equal(w->sasl_user, g->sasl_user);
	assert_int_equal(w->nrcpts, g->nrcpts);
	for (i = 0; i < w->nrcpts; i++)
		assert_string_equal(w->rcpts[i], g->rcpts[i]);
	assert_int_equal(w->nidents, g->nidents);
	for (i = 0; i < w->nidents; i++) {
		assert_string_equal(w->ident_names[i], g->ident_names[i]);
		ts_str_equal(w->ident_values[i], g->ident_values[i]);
	}
	assert_non_null(g->mem_);
}

/* ts_send - a minimal valid record with the given code */
static fm_send_t ts_send(const char *code)
{
	fm_send_t s;

	memset(&s, 0, sizeof(s));
	s.code = code;
	s.feedback_domain = "feedback.example.nl";
	s.created = 1700000000;
	s.sender = "info@example.nl";
	return s;
}

/*
 * ts_make_v1 - a database as schema version 1 left it (the statements of
 * its migration step), in WAL mode, with two sends: v1send00000000000a
 * with two recipients and an identity header, v1send00000000000b bare.
 */
static void ts_make_v1(const char *path)
{
	ts_sql_exec(path,
		    "PRAGMA journal_mode=WAL;"
		    "BEGIN;"
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
		    " send_id INTEGER NOT NULL REFERENCES sends(id)"
		    " ON DELETE CASCADE,"
		    " idx INTEGER NOT NULL,"
		    " rcpt TEXT NOT NULL,"
		    " PRIMARY KEY (send_id, idx));"
		    "CREATE INDEX send_rcpts_rcpt ON send_rcpts"
		    "(rcpt COLLATE NOCASE);"
		    "CREATE TABLE send_idents ("
		    " send_id INTEGER NOT NULL REFERENCES sends(id)"
		    " ON DELETE CASCADE,"
		    " idx INTEGER NOT NULL,"
		    " name TEXT NOT NULL,"
		    " value TEXT,"
		    " PRIMARY KEY (send_id, idx));"
		    "INSERT INTO sends VALUES (7, 'v1send00000000000a',"
		    " 'feedback.example.nl', 1700000000, 'info@example.nl',"
		    " '<v1@example.nl>', '4QxY1z2abc', '192.0.2.7', NULL);"
		    "INSERT INTO sends VALUES (9, 'v1send00000000000b',"
		    " 'feedback.example.org', 1700000100, NULL, NULL, NULL,"
		    " NULL, NULL);"
		    "INSERT INTO send_rcpts VALUES (7, 0,"
		    " 'bob@remote.example');"
		    "INSERT INTO send_rcpts VALUES (7, 1,"
		    " 'carol@remote.example');"
		    "INSERT INTO send_idents VALUES (7, 0, 'X-Campaign-ID',"
		    " 'spring-2024');"
		    "PRAGMA user_version=1;"
		    "COMMIT");
}

/* test_open_creates_schema - a new file gets the current schema in WAL */
static void test_open_creates_schema(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1000);

	assert_int_equal(ts_sql_int(d->db, "PRAGMA user_version"),
			 fm_store_schema_version());
	assert_true(fm_store_schema_version() >= 1);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sqlite_master"
				    " WHERE name IN ('sends', 'send_rcpts',"
				    " 'send_idents', 'sends_created',"
				    " 'send_rcpts_rcpt')"), 5);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sqlite_master"
				    " WHERE sql LIKE '%rcpt COLLATE NOCASE%'"),
			 1);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sqlite_master"
				    " WHERE name IN ('events', 'event_sigs',"
				    " 'events_created', 'events_send_id',"
				    " 'events_recipient',"
				    " 'events_class_created')"), 6);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sqlite_master"
				    " WHERE name = 'events_recipient' AND sql"
				    " LIKE '%recipient COLLATE NOCASE%'"), 1);
	fm_store_close(st);
	/* WAL mode is persistent in the file */
	assert_int_equal(ts_sql_int(d->db, "SELECT journal_mode = 'wal' FROM "
				    "pragma_journal_mode"), 1);
}

/* test_reopen_idempotent - reopening keeps the schema and the data */
static void test_reopen_idempotent(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_send_t s = ts_send("reopen000000000001"), got;
	fm_store_t *st;
	int i;

	st = ts_open(d->db, 1000);
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	fm_store_close(st);
	for (i = 0; i < 3; i++) {
		st = ts_open(d->db, 1000);
		assert_int_equal(fm_store_find_send(st, s.code, &got, err,
						    sizeof(err)), FM_STORE_OK);
		ts_send_equal(&s, &got);
		fm_send_free(&got);
		fm_store_close(st);
	}
	assert_int_equal(ts_sql_int(d->db, "PRAGMA user_version"),
			 fm_store_schema_version());
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sends"), 1);
}

static const char *const rt_rcpts3[] = {
	"bob@remote.example", "Carol@Remote.Example", "dave@other.example",
};
static const char *const rt_names[] = {"X-Campaign-ID", "X-Mailer", "X-Empty"};
static const char *const rt_values[] = {"spring-2024", "mailer 1.0", NULL};

static const struct {
	const char *label;
	fm_send_t send;
} rt_cases[] = {
	{"all fields", {
		.code = "b0k7q2m9x4ha3c8rtw",
		.feedback_domain = "feedback.example.nl",
		.created = 1712345678,
		.sender = "info@example.nl",
		.msgid = "<20240405.123@example.nl>",
		.queue_id = "4QxY1z2abc",
		.client_addr = "192.0.2.7",
		.sasl_user = "webshop",
		.rcpts = rt_rcpts3, .nrcpts = 3,
		.ident_names = rt_names, .ident_values = rt_values,
		.nidents = 3}},
	{"null fields, no recipients", {
		.code = "nu11fie1ds00000000",
		.feedback_domain = "feedback.example.org",
		.created = 0}},
	{"one recipient, null sender", {
		.code = "0nercpt00000000000",
		.feedback_domain = "feedback.example.org",
		.created = -1,
		.msgid = "<x@y>",
		.rcpts = rt_rcpts3 + 2, .nrcpts = 1}},
	{"identities without values", {
		.code = "identn0va1ues00000",
		.feedback_domain = "feedback.example.org",
		.created = INT32_MAX + 10LL,
		.sender = "",
		.ident_names = rt_names + 2, .ident_values = rt_values + 2,
		.nidents = 1}},
};

/* test_roundtrip - table: add, find by code, compare every field */
static void test_roundtrip(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 1000);
	fm_send_t got;
	size_t i;

	for (i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		print_message("case: %s\n", rt_cases[i].label);
		assert_int_equal(fm_store_add_send(st, &rt_cases[i].send, err,
						   sizeof(err)), FM_STORE_OK);
	}
	for (i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		print_message("case: %s\n", rt_cases[i].label);
		assert_int_equal(fm_store_find_send(st, rt_cases[i].send.code,
						    &got, err, sizeof(err)),
				 FM_STORE_OK);
		assert_string_equal(got.code, rt_cases[i].send.code);
		ts_send_equal(&rt_cases[i].send, &got);
		fm_send_free(&got);
		assert_null(got.mem_);
		assert_null(got.code);
	}
	fm_store_close(st);
}

/* wdb_cache_size - the writer connection's PRAGMA cache_size */
static long long wdb_cache_size(fm_store_t *st)
{
	sqlite3_stmt *q = NULL;
	long long v = 0;

	assert_int_equal(sqlite3_prepare_v2(st->wdb, "PRAGMA cache_size", -1,
					    &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* test_cache_size - 64 MiB by default; a new bound holds from the next batch */
static void test_cache_size(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 1000);
	fm_send_t s1 = ts_send("0000000000000000a1"),
		  s2 = ts_send("0000000000000000a2");

	assert_int_equal(wdb_cache_size(st), -65536);
	fm_store_set_cache(st, 2048);
	assert_int_equal(wdb_cache_size(st), -65536);	/* not before a batch */
	assert_int_equal(fm_store_add_send(st, &s1, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(wdb_cache_size(st), -2048);
	fm_store_set_cache(st, 1024 * 1024);
	assert_int_equal(fm_store_add_send(st, &s2, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(wdb_cache_size(st), -1048576);
	fm_store_close(st);
}

/* test_many_rcpts - a thousand recipients come back in order */
static void test_many_rcpts(void **state)
{
	struct ts_dir *d = *state;
	enum { N = 1000 };
	static char buf[N][40];
	const char *rcpts[N];
	char err[TS_ERR_SIZE];
	fm_send_t s = ts_send("manyrcpts000000000"), got;
	fm_store_t *st = ts_open(d->db, 1000);
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(buf[i], sizeof(buf[i]), "user%zu@remote%zu.example",
			 i, i % 7);
		rcpts[i] = buf[i];
	}
	s.rcpts = rcpts;
	s.nrcpts = N;
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(fm_store_find_send(st, s.code, &got, err,
					    sizeof(err)), FM_STORE_OK);
	ts_send_equal(&s, &got);
	fm_send_free(&got);
	fm_store_close(st);
}

/* test_case_and_notfound - codes are stored and found in lowercase */
static void test_case_and_notfound(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_send_t s = ts_send("UPPER000000000CASE"), got;
	fm_store_t *st = ts_open(d->db, 1000);

	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(fm_store_find_send(st, "upper000000000case", &got,
					    err, sizeof(err)), FM_STORE_OK);
	assert_string_equal(got.code, "upper000000000case");
	fm_send_free(&got);
	assert_int_equal(fm_store_find_send(st, "Upper000000000Case", &got,
					    err, sizeof(err)), FM_STORE_OK);
	fm_send_free(&got);
	assert_int_equal(fm_store_find_send(st, "nosuchcode00000000", &got,
					    err, sizeof(err)),
			 FM_STORE_NOTFOUND);
	assert_null(got.mem_);
	assert_non_null(strstr(err, "not found"));
	fm_store_close(st);
}

/* test_duplicate - a taken code gives FM_STORE_DUP; the original stays */
static void test_duplicate(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	const char *r1[] = {"first@remote.example"};
	const char *r2[] = {"second@remote.example", "third@remote.example"};
	fm_send_t a = ts_send("dup000000000000000"), b, got;
	fm_store_t *st = ts_open(d->db, 1000);

	a.rcpts = r1;
	a.nrcpts = 1;
	b = a;
	b.code = "DUP000000000000000";
	b.sender = "other@example.nl";
	b.rcpts = r2;
	b.nrcpts = 2;
	assert_int_equal(fm_store_add_send(st, &a, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(fm_store_add_send(st, &b, err, sizeof(err)),
			 FM_STORE_DUP);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(fm_store_find_send(st, a.code, &got, err,
					    sizeof(err)), FM_STORE_OK);
	ts_send_equal(&a, &got);
	fm_send_free(&got);
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM send_rcpts"),
			 1);
}

/* One fm_store_add_send() call made from its own thread. */
struct ts_adder {
	fm_store_t *st;
	fm_send_t send;
	fm_store_status_t status;
	char err[TS_ERR_SIZE];
	pthread_t tid;
};

/* ts_adder_main - thread body: one add */
static void *ts_adder_main(void *arg)
{
	struct ts_adder *a = arg;

	a->status = fm_store_add_send(a->st, &a->send, a->err, sizeof(a->err));
	return NULL;
}

/* ts_adder_start - start one adding thread */
static void ts_adder_start(struct ts_adder *a, fm_store_t *st)
{
	a->st = st;
	a->status = -1;
	a->err[0] = 0;
	assert_int_equal(pthread_create(&a->tid, NULL, ts_adder_main, a), 0);
}

/* ts_sleep_ms - sleep a few milliseconds */
static void ts_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ts_wait_queued - wait until n callers are waiting in the store */
static void ts_wait_queued(fm_store_t *st, size_t n)
{
	int i;

	for (i = 0; i < 10000 && fm_store_queued(st) < n; i++)
		ts_sleep_ms(1);
	assert_int_equal(fm_store_queued(st), n);
}

/* ts_lock - hold the write lock from another connection */
static sqlite3 *ts_lock(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
			 SQLITE_OK);
	return db;
}

/* ts_unlock - release the lock taken by ts_lock */
static void ts_unlock(sqlite3 *db)
{
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/*
 * test_batch_isolation - in one batch, a duplicate code and a broken record
 * fail alone: the writer is held on a lock while the requests queue up, so
 * they all go into the same transaction.
 */
static void test_batch_isolation(void **state)
{
	struct ts_dir *d = *state;
	static const char *const bad_rcpts[] = {"ok@remote.example", NULL};
	struct ts_adder a[5];
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 10000);
	unsigned long commits, records;
	fm_send_t got;
	sqlite3 *lock;
	int i, dup_ok;

	memset(a, 0, sizeof(a));
	a[0].send = ts_send("first0000000000000");
	a[1].send = ts_send("same00000000000000");
	a[2].send = ts_send("same00000000000000");
	a[2].send.sender = "other@example.nl";
	a[3].send = ts_send("broken000000000000");
	a[3].send.rcpts = bad_rcpts;
	a[3].send.nrcpts = 2;
	a[4].send = ts_send("last00000000000000");

	lock = ts_lock(d->db);
	ts_adder_start(&a[0], st);
	ts_wait_queued(st, 1);
	ts_sleep_ms(50);		/* let the writer block on the lock */
	for (i = 1; i < 5; i++)
		ts_adder_start(&a[i], st);
	ts_wait_queued(st, 5);
	ts_unlock(lock);
	for (i = 0; i < 5; i++)
		pthread_join(a[i].tid, NULL);

	assert_int_equal(a[0].status, FM_STORE_OK);
	assert_int_equal(a[4].status, FM_STORE_OK);
	assert_int_equal(a[3].status, FM_STORE_ERR);
	assert_non_null(strstr(a[3].err, "NOT NULL"));
	dup_ok = a[1].status == FM_STORE_OK ? 1 : 2;
	assert_int_equal(a[dup_ok].status, FM_STORE_OK);
	assert_int_equal(a[3 - dup_ok].status, FM_STORE_DUP);

	assert_int_equal(fm_store_find_send(st, "same00000000000000", &got,
					    err, sizeof(err)), FM_STORE_OK);
	ts_send_equal(&a[dup_ok].send, &got);
	fm_send_free(&got);
	assert_int_equal(fm_store_find_send(st, "broken000000000000", &got,
					    err, sizeof(err)),
			 FM_STORE_NOTFOUND);
	fm_store_stats(st, &commits, &records);
	assert_int_equal(records, 3);
	assert_in_range(commits, 1, 2);
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM send_rcpts"),
			 0);
}

#define CC_THREADS 16
#define CC_PER_THREAD 500

struct ts_loop {
	fm_store_t *st;
	int id;
	int failed;
	char err[TS_ERR_SIZE];
	pthread_t tid;
};

/* ts_loop_main - thread body: CC_PER_THREAD adds with distinct codes */
static void *ts_loop_main(void *arg)
{
	struct ts_loop *l = arg;
	const char *rcpts[2];
	char code[TS_CODE_SIZE], r0[64], r1[64];
	fm_send_t s;
	int i;

	for (i = 0; i < CC_PER_THREAD; i++) {
		snprintf(code, sizeof(code), "cc%02dx%013d", l->id, i);
		snprintf(r0, sizeof(r0), "a%d@t%d.example", i, l->id);
		snprintf(r1, sizeof(r1), "b%d@t%d.example", i, l->id);
		rcpts[0] = r0;
		rcpts[1] = r1;
		s = ts_send(code);
		s.created = i;
		s.rcpts = rcpts;
		s.nrcpts = 2;
		if (fm_store_add_send(l->st, &s, l->err, sizeof(l->err)) !=
		    FM_STORE_OK)
			l->failed++;
	}
	return NULL;
}

/* test_concurrent - 16 threads x 500 adds: all committed, few commits */
static void test_concurrent(void **state)
{
	struct ts_dir *d = *state;
	struct ts_loop l[CC_THREADS];
	char code[TS_CODE_SIZE], err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 5000);
	unsigned long commits, records;
	fm_send_t got;
	int t, i;

	memset(l, 0, sizeof(l));
	for (t = 0; t < CC_THREADS; t++) {
		l[t].st = st;
		l[t].id = t;
		assert_int_equal(pthread_create(&l[t].tid, NULL, ts_loop_main,
						&l[t]), 0);
	}
	for (t = 0; t < CC_THREADS; t++)
		pthread_join(l[t].tid, NULL);
	for (t = 0; t < CC_THREADS; t++)
		if (l[t].failed)
			fail_msg("thread %d: %d failed: %s", t, l[t].failed,
				 l[t].err);
	fm_store_stats(st, &commits, &records);
	print_message("%lu records in %lu commits\n", records, commits);
	assert_int_equal(records, CC_THREADS * CC_PER_THREAD);
	assert_true(commits * 4 <= records);
	assert_int_equal(fm_store_queued(st), 0);
	for (t = 0; t < CC_THREADS; t++) {
		for (i = 0; i < CC_PER_THREAD; i++) {
			snprintf(code, sizeof(code), "cc%02dx%013d", t, i);
			assert_int_equal(fm_store_find_send(st, code, &got, err,
							    sizeof(err)),
					 FM_STORE_OK);
			assert_int_equal(got.created, i);
			assert_int_equal(got.nrcpts, 2);
			fm_send_free(&got);
		}
	}
	fm_store_close(st);
}

/* test_locked - a lock held past the busy timeout fails, then recovers */
static void test_locked(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";
	fm_send_t s = ts_send("locked000000000000"), got;
	fm_store_t *st = ts_open(d->db, 200);
	struct timespec t0, t1;
	unsigned long commits;
	sqlite3 *lock;
	long ms;

	lock = ts_lock(d->db);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_ERR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		(t1.tv_nsec - t0.tv_nsec) / 1000000;
	print_message("%s (after %ld ms)\n", err, ms);
	assert_non_null(strstr(err, "locked"));
	assert_non_null(strstr(err, d->db));
	assert_true(ms >= 150);
	/* reads still work while the write lock is held */
	assert_int_equal(fm_store_find_send(st, s.code, &got, err,
					    sizeof(err)), FM_STORE_NOTFOUND);
	fm_store_stats(st, &commits, NULL);
	assert_int_equal(commits, 0);
	ts_unlock(lock);
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(fm_store_find_send(st, s.code, &got, err,
					    sizeof(err)), FM_STORE_OK);
	fm_send_free(&got);
	fm_store_close(st);
}

#define CR_THREADS 8

struct ts_releaser {
	sqlite3 *lock;
	int rc;
	pthread_t tid;
};

/* ts_release_main - thread body: release the lock after a while */
static void *ts_release_main(void *arg)
{
	struct ts_releaser *r = arg;

	ts_sleep_ms(100);
	r->rc = sqlite3_exec(r->lock, "COMMIT", NULL, NULL, NULL);
	if (sqlite3_close(r->lock) != SQLITE_OK && r->rc == SQLITE_OK)
		r->rc = SQLITE_BUSY;
	return NULL;
}

/*
 * test_close_racing - fm_store_close() with callers still queued: close
 * waits for them, and each gets committed (or an error, never a hang).
 */
static void test_close_racing(void **state)
{
	struct ts_dir *d = *state;
	struct ts_adder a[CR_THREADS];
	char code[CR_THREADS][TS_CODE_SIZE], err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 10000);
	struct ts_releaser rel;
	fm_send_t got;
	int i;

	memset(a, 0, sizeof(a));
	memset(&rel, 0, sizeof(rel));
	rel.lock = ts_lock(d->db);
	for (i = 0; i < CR_THREADS; i++) {
		snprintf(code[i], sizeof(code[i]), "close%013d", i);
		a[i].send = ts_send(code[i]);
		ts_adder_start(&a[i], st);
	}
	ts_wait_queued(st, CR_THREADS);
	assert_int_equal(pthread_create(&rel.tid, NULL, ts_release_main,
					&rel), 0);
	fm_store_close(st);
	pthread_join(rel.tid, NULL);
	assert_int_equal(rel.rc, SQLITE_OK);
	for (i = 0; i < CR_THREADS; i++) {
		pthread_join(a[i].tid, NULL);
		assert_int_equal(a[i].status, FM_STORE_OK);
	}
	st = fm_store_open(d->db, FM_STORE_RDONLY, 1000, err, sizeof(err));
	assert_non_null(st);
	for (i = 0; i < CR_THREADS; i++) {
		assert_int_equal(fm_store_find_send(st, code[i], &got, err,
						    sizeof(err)), FM_STORE_OK);
		fm_send_free(&got);
	}
	fm_store_close(st);
}

/* test_newer_refused - a schema newer than this build is refused */
static void test_newer_refused(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "", sql[64];
	int flags[] = {0, FM_STORE_RDONLY};
	size_t i;

	fm_store_close(ts_open(d->db, 1000));
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		 fm_store_schema_version() + 1);
	ts_sql_exec(d->db, sql);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		err[0] = 0;
		assert_null(fm_store_open(d->db, flags[i], 1000, err,
					  sizeof(err)));
		print_message("%s\n", err);
		assert_non_null(strstr(err, "newer"));
		assert_non_null(strstr(err, d->db));
	}
	/* left untouched */
	assert_int_equal(ts_sql_int(d->db, "PRAGMA user_version"),
			 fm_store_schema_version() + 1);
}

/* test_rdonly_missing - a read-only open never creates the file */
static void test_rdonly_missing(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";
	struct stat sb;

	assert_null(fm_store_open(d->db, FM_STORE_RDONLY, 1000, err,
				  sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, d->db));
	assert_non_null(strstr(err, "unable to open"));
	assert_int_equal(stat(d->db, &sb), -1);
}

/* test_rdonly_schema - read-only needs the current schema; cannot add */
static void test_rdonly_schema(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";
	fm_send_t s = ts_send("rdonly000000000000"), got;
	fm_store_t *st, *ro;

	/* an SQLite file without our schema */
	ts_sql_exec(d->db, "CREATE TABLE other (x INTEGER)");
	assert_null(fm_store_open(d->db, FM_STORE_RDONLY, 1000, err,
				  sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, "no feedback-milter schema"));

	st = ts_open(d->db, 1000);
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	ro = fm_store_open(d->db, FM_STORE_RDONLY, 1000, err, sizeof(err));
	assert_non_null(ro);
	assert_int_equal(fm_store_find_send(ro, s.code, &got, err,
					    sizeof(err)), FM_STORE_OK);
	ts_send_equal(&s, &got);
	fm_send_free(&got);
	s.code = "rdonly000000000001";
	assert_int_equal(fm_store_add_send(ro, &s, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_non_null(strstr(err, "read-only"));
	fm_store_close(ro);
	fm_store_close(st);
}

/*
 * test_rdonly_old - read-only refuses an older schema version and says to
 * start the milter, which migrates it; the file is left as it was
 */
static void test_rdonly_old(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";

	assert_true(fm_store_schema_version() >= 2);
	ts_make_v1(d->db);
	assert_null(fm_store_open(d->db, FM_STORE_RDONLY, 1000, err,
				  sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, "older"));
	assert_non_null(strstr(err, "start the milter"));
	assert_non_null(strstr(err, "migrate"));
	assert_non_null(strstr(err, d->db));
	assert_int_equal(ts_sql_int(d->db, "PRAGMA user_version"), 1);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sqlite_master"
				    " WHERE name = 'events'"), 0);
}

/* test_no_directory - opening never creates the parent directory */
static void test_no_directory(void **state)
{
	struct ts_dir *d = *state;
	char path[160], dir[128], err[TS_ERR_SIZE] = "";
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/missing", d->dir);
	snprintf(path, sizeof(path), "%s/feedback.db", dir);
	assert_null(fm_store_open(path, 0, 1000, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "unable to open"));
	assert_int_equal(stat(dir, &sb), -1);
}

/* test_not_a_database - a file that is not SQLite is refused clearly */
static void test_not_a_database(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";
	FILE *f = fopen(d->db, "w");
	int i;

	assert_non_null(f);
	for (i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", f);
	fclose(f);
	assert_null(fm_store_open(d->db, 0, 1000, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, "not a database"));
	assert_null(fm_store_open(d->db, FM_STORE_RDONLY, 1000, err,
				  sizeof(err)));
	assert_non_null(strstr(err, "not a database"));
}

/*
 * ts_readonly_check - open a database in a directory we may not write:
 * read-write open is refused, and so is read-only open while there is no
 * -shm file, each with a clear message. Returns 0 or the failed check.
 */
static int ts_readonly_check(const char *path)
{
	char err[TS_ERR_SIZE] = "";
	fm_store_t *st;

	st = fm_store_open(path, 0, 1000, err, sizeof(err));
	if (st != NULL) {
		fm_store_close(st);
		return 1;
	}
	fprintf(stderr, "read-write open as uid %d: %s\n", (int) geteuid(),
		err);
	if (strstr(err, "read-only") == NULL || strstr(err, path) == NULL)
		return 2;
	/* closed cleanly, so no -shm file, and we may not create one */
	st = fm_store_open(path, FM_STORE_RDONLY, 1000, err, sizeof(err));
	if (st != NULL) {
		fm_store_close(st);
		return 3;
	}
	fprintf(stderr, "read-only open as uid %d: %s\n", (int) geteuid(),
		err);
	if (strstr(err, "-shm") == NULL)
		return 4;
	return 0;
}

/*
 * test_readonly_file - a database file we may not write. chmod alone does
 * not stop root, so as root the check runs in a child that has switched to
 * uid/gid 65534 (nobody); otherwise the file and directory are chmodded.
 */
static void test_readonly_file(void **state)
{
	struct ts_dir *d = *state;
	int status = -1;
	pid_t pid;

	fm_store_close(ts_open(d->db, 1000));
	if (geteuid() != 0) {
		assert_int_equal(chmod(d->db, 0444), 0);
		assert_int_equal(chmod(d->dir, 0555), 0);
		assert_int_equal(ts_readonly_check(d->db), 0);
		return;
	}
	assert_int_equal(chmod(d->dir, 0755), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		_exit(ts_readonly_check(d->db));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* test_bad_arguments - records that cannot be stored fail before queuing */
static void test_bad_arguments(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 1000);
	fm_send_t s = ts_send(NULL), got;
	unsigned long commits;

	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_ERR);
	s.code = "badargs00000000000";
	s.feedback_domain = NULL;
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_ERR);
	s.feedback_domain = "feedback.example.nl";
	s.nrcpts = 3;
	assert_int_equal(fm_store_add_send(st, &s, NULL, 0), FM_STORE_ERR);
	assert_int_equal(fm_store_add_send(st, NULL, err,
					   sizeof(err)), FM_STORE_ERR);
	assert_int_equal(fm_store_find_send(st, NULL, &got, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_null(fm_store_open(NULL, 0, 1000, err, sizeof(err)));
	assert_null(fm_store_open("", 0, 1000, NULL, 0));
	fm_store_stats(st, &commits, NULL);
	assert_int_equal(commits, 0);
	fm_store_close(st);
	fm_store_close(NULL);
	fm_send_free(NULL);
}

/* test_foreign_keys - deleting a send removes its recipients and idents */
static void test_foreign_keys(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 1000);

	assert_int_equal(fm_store_add_send(st, &rt_cases[0].send, err,
					   sizeof(err)), FM_STORE_OK);
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM send_rcpts"),
			 3);
	ts_sql_exec(d->db, "PRAGMA foreign_keys=ON; DELETE FROM sends");
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM send_rcpts"),
			 0);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM send_idents"),
			 0);
}

/* ts_event - a minimal valid event for a code */
static fm_event_t ts_event(const char *code, const char *cls, time_t created,
			   const char *recipient)
{
	fm_event_t e;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.verified = code != NULL;
	e.created = created;
	e.cls = cls;
	e.recipient = recipient;
	return e;
}

/* ts_add_events - add events in one request or fail the test */
static void ts_add_events(fm_store_t *st, const fm_event_t *ev, size_t n)
{
	char err[TS_ERR_SIZE] = "";

	if (fm_store_add_events(st, ev, n, err, sizeof(err)) != FM_STORE_OK)
		fail_msg("add %zu events: %s", n, err);
}

#define TS_SEEN_MAX 64

/* What ts_collect saw of each event, in order. */
struct ts_seen {
	int n;
	int stop_after;			/* return 1 after this many; 0: never */
	long long id[TS_SEEN_MAX];
	long long send_id[TS_SEEN_MAX];
	time_t created[TS_SEEN_MAX];
	size_t nsigs[TS_SEEN_MAX];
	char code[TS_SEEN_MAX][TS_CODE_SIZE];
	char send_code[TS_SEEN_MAX][TS_CODE_SIZE];	/* "" when none */
	size_t send_nrcpts[TS_SEEN_MAX];
};

/* ts_collect - fm_store_each_event callback: note the event */
static int ts_collect(const fm_event_t *ev, const fm_send_t *send, void *arg)
{
	struct ts_seen *w = arg;
	int k = w->n++;

	assert_true(k < TS_SEEN_MAX);
	w->id[k] = ev->id;
	w->send_id[k] = ev->send_id;
	w->created[k] = ev->created;
	w->nsigs[k] = ev->nsigs;
	snprintf(w->code[k], sizeof(w->code[k]), "%s",
		 ev->code ? ev->code : "");
	snprintf(w->send_code[k], sizeof(w->send_code[k]), "%s",
		 send ? send->code : "");
	w->send_nrcpts[k] = send ? send->nrcpts : 0;
	assert_true(send == NULL || ev->send_id != 0);
	return w->stop_after && w->n >= w->stop_after;
}

/* ts_each - run a query into seen or fail the test; returns the count */
static int ts_each(fm_store_t *st, const fm_event_filter_t *f,
		   struct ts_seen *seen)
{
	char err[TS_ERR_SIZE] = "";
	int stop_after = seen->stop_after, n;

	memset(seen, 0, sizeof(*seen));
	seen->stop_after = stop_after;
	n = fm_store_each_event(st, f, ts_collect, seen, err, sizeof(err));
	if (n < 0)
		fail_msg("each_event: %s", err);
	assert_int_equal(n, seen->n);
	return n;
}

/*
 * test_migrate_v1 - a version 1 database is migrated to the current
 * schema; its sends are kept and events recorded afterwards link to them
 */
static void test_migrate_v1(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_event_t ev[2];
	struct ts_seen seen;
	fm_send_t got;
	fm_store_t *st;

	ts_make_v1(d->db);
	st = ts_open(d->db, 1000);
	assert_int_equal(ts_sql_int(d->db, "PRAGMA user_version"),
			 fm_store_schema_version());
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM sends"), 2);
	assert_int_equal(fm_store_find_send(st, "v1send00000000000a", &got,
					    err, sizeof(err)), FM_STORE_OK);
	assert_string_equal(got.sender, "info@example.nl");
	assert_int_equal(got.nrcpts, 2);
	assert_string_equal(got.rcpts[1], "carol@remote.example");
	assert_int_equal(got.nidents, 1);
	assert_string_equal(got.ident_values[0], "spring-2024");
	fm_send_free(&got);

	ev[0] = ts_event("V1SEND00000000000A", "hard", 1700000200,
			 "bob@remote.example");
	ev[1] = ts_event("v1send00000000000b", "autoreply", 1700000300,
			 "someone@example.org");
	ts_add_events(st, ev, 1);
	ts_add_events(st, ev + 1, 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ts_each(st, &(fm_event_filter_t) {.ascending = 1},
				 &seen), 2);
	assert_int_equal(seen.send_id[0], 7);
	assert_string_equal(seen.send_code[0], "v1send00000000000a");
	assert_int_equal(seen.send_nrcpts[0], 2);
	assert_int_equal(seen.send_id[1], 9);
	fm_store_close(st);
	/* reopening does not migrate again */
	fm_store_close(ts_open(d->db, 1000));
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events"
				    " WHERE send_id IN (7, 9)"), 2);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM send_rcpts"),
			 2);
}

static const fm_event_sig_t er_sigs3[] = {
	{"remote.example", "s2024", "pass"},
	{"esp.example", NULL, "fail"},
	{"Remote.Example", "old", "neutral"},
};

static const struct {
	const char *label;
	fm_event_t ev;
} er_cases[] = {
	{"all fields, three signatures", {
		.code = "ev0send00000000001", .verified = 1, .rcpt_of_send = 1,
		.created = 1712345678, .queue_id = "4QxY1z2abc",
		.cls = "hard", .reason = "userunknown", .status = "5.1.1",
		.action = "failed", .recipient = "bob@remote.example",
		.orig_recipient = "rfc822;Bob@Remote.Example",
		.diagnostic = "smtp; 550 5.1.1 <bob@remote.example>: "
			      "user unknown",
		.remote_mta = "mx.remote.example",
		.reporting_mta = "mail.relay.example",
		.feedback_type = "abuse", .kind = "dsn", .replycode = 550,
		.client_addr = "198.51.100.25", .helo = "helo.relay.example",
		.envfrom = "", .spf_result = "pass",
		.spf_domain = "spf.relay.example",
		.sigs = er_sigs3, .nsigs = 3}},
	{"one signature, unverified, upper-case code", {
		/* of_send is kept only for a verified code */
		.code = "EV0SEND00000000001", .verified = 0, .rcpt_of_send = 1,
		.created = 1712345679, .cls = "autoreply",
		.reason = "vacation", .recipient = "carol@remote.example",
		.kind = "autoreply", .envfrom = "carol@remote.example",
		.spf_result = "softfail", .spf_domain = "remote.example",
		.sigs = er_sigs3 + 1, .nsigs = 1}},
	{"no signatures, only the required fields", {
		.code = NULL, .verified = 0, .created = -5, .cls = "unknown"}},
};

#define ER_NCASES (sizeof(er_cases) / sizeof(er_cases[0]))

/* ts_event_equal - a queried event matches what was added */
static void ts_event_equal(const fm_event_t *w, const fm_event_t *g)
{
	size_t i;

	if (w->code == NULL)
		assert_null(g->code);
	else
		assert_true(strcasecmp(w->code, g->code) == 0);
	assert_int_equal(w->verified, g->verified);
	assert_int_equal(w->verified && w->rcpt_of_send, g->rcpt_of_send);
	assert_int_equal(w->created, g->created);
	ts_str_equal(w->queue_id, g->queue_id);
	ts_str_equal(w->cls, g->cls);
	ts_str_equal(w->reason, g->reason);
	ts_str_equal(w->status, g->status);
	ts_str_equal(w->action, g->action);
	ts_str_equal(w->recipient, g->recipient);
	ts_str_equal(w->orig_recipient, g->orig_recipient);
	ts_str_equal(w->diagnostic, g->diagnostic);
	ts_str_equal(w->remote_mta, g->remote_mta);
	ts_str_equal(w->reporting_mta, g->reporting_mta);
	ts_str_equal(w->feedback_type, g->feedback_type);
	ts_str_equal(w->kind, g->kind);
	assert_int_equal(w->replycode, g->replycode);
	ts_str_equal(w->client_addr, g->client_addr);
	ts_str_equal(w->helo, g->helo);
	ts_str_equal(w->envfrom, g->envfrom);
	ts_str_equal(w->spf_result, g->spf_result);
	ts_str_equal(w->spf_domain, g->spf_domain);
	assert_int_equal(w->nsigs, g->nsigs);
	for (i = 0; i < w->nsigs; i++) {
		ts_str_equal(w->sigs[i].domain, g->sigs[i].domain);
		ts_str_equal(w->sigs[i].selector, g->sigs[i].selector);
		ts_str_equal(w->sigs[i].result, g->sigs[i].result);
	}
	if (w->nsigs == 0)
		assert_null(g->sigs);
}

/* What ts_check_case checks the events against. */
struct ts_expect {
	size_t n;
	const fm_send_t *send;
	long long send_id;
};

/* ts_check_case - fm_store_each_event callback: compare with er_cases */
static int ts_check_case(const fm_event_t *ev, const fm_send_t *send,
			 void *arg)
{
	struct ts_expect *x = arg;
	const fm_event_t *w = &er_cases[x->n].ev;

	assert_true(x->n < ER_NCASES);
	print_message("case: %s\n", er_cases[x->n].label);
	ts_event_equal(w, ev);
	if (w->code == NULL || !w->verified) {
		/* only a verified code links its event to the send */
		assert_null(send);
		assert_int_equal(ev->send_id, 0);
		if (w->code != NULL)
			assert_string_equal(ev->code, "ev0send00000000001");
	} else {
		assert_non_null(send);
		ts_send_equal(x->send, send);
		assert_int_equal(ev->send_id, x->send_id);
		assert_string_equal(ev->code, "ev0send00000000001");
	}
	assert_int_equal(ev->id, (long long) x->n + 1);
	x->n++;
	return 0;
}

/* test_events_roundtrip - table: add, query, compare every field */
static void test_events_roundtrip(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_send_t s = rt_cases[0].send;
	fm_store_t *st = ts_open(d->db, 1000);
	struct ts_expect x = {0, &s, 0};
	size_t i;

	s.code = "ev0send00000000001";
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	x.send_id = ts_sql_int(d->db, "SELECT id FROM sends");
	for (i = 0; i < ER_NCASES; i++)
		ts_add_events(st, &er_cases[i].ev, 1);
	assert_int_equal(fm_store_each_event(st, &(fm_event_filter_t)
					     {.ascending = 1}, ts_check_case,
					     &x, err, sizeof(err)),
			 (int) ER_NCASES);
	assert_int_equal(x.n, ER_NCASES);
	fm_store_close(st);
	/* every value is in the column of its name */
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events WHERE"
				    " send_id = (SELECT id FROM sends)"
				    " AND code = 'ev0send00000000001'"
				    " AND verified = 1 AND created = 1712345678"
				    " AND queue_id = '4QxY1z2abc'"
				    " AND class = 'hard'"
				    " AND reason = 'userunknown'"
				    " AND status = '5.1.1'"
				    " AND action = 'failed'"
				    " AND recipient = 'bob@remote.example'"
				    " AND orig_recipient ="
				    " 'rfc822;Bob@Remote.Example'"
				    " AND diagnostic LIKE 'smtp; 550 5.1.1 %'"
				    " AND remote_mta = 'mx.remote.example'"
				    " AND reporting_mta = 'mail.relay.example'"
				    " AND feedback_type = 'abuse'"
				    " AND kind = 'dsn' AND replycode = 550"
				    " AND client_addr = '198.51.100.25'"
				    " AND helo = 'helo.relay.example'"
				    " AND envfrom = '' AND spf_result = 'pass'"
				    " AND spf_domain = 'spf.relay.example'"),
			 1);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM event_sigs"
				    " WHERE event_id = 1 AND idx = 1"
				    " AND domain = 'esp.example'"
				    " AND selector IS NULL"
				    " AND result = 'fail'"),
			 1);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM event_sigs"),
			 4);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events"
				    " WHERE replycode IS NULL"), 2);
}

/* test_events_unknown_code - a code without a send leaves send_id NULL */
static void test_events_unknown_code(void **state)
{
	struct ts_dir *d = *state;
	fm_event_t ev[2];
	fm_send_t s = ts_send("known0000000000000");
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 1000);
	struct ts_seen seen;

	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	ev[0] = ts_event("UNKNOWN00000000000", "hard", 100, "a@b.example");
	ev[1] = ts_event("KNOWN0000000000000", "hard", 101, "a@b.example");
	ts_add_events(st, ev, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ts_each(st, NULL, &seen), 2);
	/* newest first */
	assert_int_equal(seen.created[0], 101);
	assert_true(seen.send_id[0] > 0);
	assert_string_equal(seen.send_code[0], "known0000000000000");
	assert_int_equal(seen.created[1], 100);
	assert_int_equal(seen.send_id[1], 0);
	assert_string_equal(seen.send_code[1], "");
	assert_string_equal(seen.code[1], "unknown00000000000");
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events"
				    " WHERE send_id IS NULL"), 1);
}

/*
 * test_events_one_request - all events of a message go in one request and
 * one transaction; each counts as a record
 */
static void test_events_one_request(void **state)
{
	struct ts_dir *d = *state;
	enum { N = 5 };
	static const char *const rcpts[N] = {
		"r0@remote.example", "r1@remote.example", "r2@remote.example",
		"r3@remote.example", "r4@remote.example",
	};
	fm_send_t s = ts_send("onerequest00000000");
	unsigned long commits0, commits, records0, records;
	char err[TS_ERR_SIZE];
	fm_store_t *st = ts_open(d->db, 1000);
	fm_event_t ev[N];
	struct ts_seen seen;
	int i;

	s.rcpts = rcpts;
	s.nrcpts = N;
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	for (i = 0; i < N; i++) {
		ev[i] = ts_event(s.code, "hard", 1000 + i, rcpts[i]);
		ev[i].sigs = er_sigs3;
		ev[i].nsigs = (size_t) i % 4;
	}
	fm_store_stats(st, &commits0, &records0);
	ts_add_events(st, ev, N);
	fm_store_stats(st, &commits, &records);
	assert_int_equal(commits, commits0 + 1);
	assert_int_equal(records, records0 + N);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ts_each(st, &(fm_event_filter_t) {.ascending = 1},
				 &seen), N);
	for (i = 0; i < N; i++) {
		assert_int_equal(seen.created[i], 1000 + i);
		assert_int_equal(seen.nsigs[i], (size_t) i % 4);
		assert_string_equal(seen.send_code[i], s.code);
		assert_int_equal(seen.send_nrcpts[i], N);
	}
	fm_store_close(st);
}

/* One fm_store_add_events() call made from its own thread. */
struct ts_evadder {
	fm_store_t *st;
	const fm_event_t *ev;
	size_t n;
	fm_store_status_t status;
	char err[TS_ERR_SIZE];
	pthread_t tid;
};

/* ts_evadder_main - thread body: one add of events */
static void *ts_evadder_main(void *arg)
{
	struct ts_evadder *a = arg;

	a->status = fm_store_add_events(a->st, a->ev, a->n, a->err,
					sizeof(a->err));
	return NULL;
}

/* ts_evadder_start - start one thread adding events */
static void ts_evadder_start(struct ts_evadder *a, fm_store_t *st,
			     const fm_event_t *ev, size_t n)
{
	memset(a, 0, sizeof(*a));
	a->st = st;
	a->ev = ev;
	a->n = n;
	a->status = -1;
	assert_int_equal(pthread_create(&a->tid, NULL, ts_evadder_main, a),
			 0);
}

/*
 * test_events_atomic - an events request with a bad second event stores
 * none of its events; the other requests of the same batch are kept
 */
static void test_events_atomic(void **state)
{
	struct ts_dir *d = *state;
	static const fm_event_sig_t sig = {"remote.example", "s1", "pass"};
	struct ts_adder sa, sb;
	struct ts_evadder ea, eb;
	fm_event_t bad[3], good[2];
	unsigned long commits, records;
	fm_store_t *st = ts_open(d->db, 10000);
	sqlite3 *lock;
	int i;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	sa.send = ts_send("atomic000000000001");
	sb.send = ts_send("atomic000000000002");
	for (i = 0; i < 3; i++) {
		bad[i] = ts_event(sa.send.code, "hard", 10 + i,
				  "bad@remote.example");
		bad[i].sigs = &sig;
		bad[i].nsigs = 1;
	}
	bad[1].cls = NULL;
	good[0] = ts_event(sa.send.code, "soft", 20, "good@remote.example");
	good[1] = ts_event(sb.send.code, "delayed", 21, "good@remote.example");
	good[1].sigs = &sig;
	good[1].nsigs = 1;

	lock = ts_lock(d->db);
	ts_adder_start(&sa, st);
	ts_wait_queued(st, 1);
	ts_sleep_ms(50);		/* let the writer block on the lock */
	ts_evadder_start(&ea, st, bad, 3);
	ts_wait_queued(st, 2);
	ts_adder_start(&sb, st);
	ts_wait_queued(st, 3);
	ts_evadder_start(&eb, st, good, 2);
	ts_wait_queued(st, 4);
	ts_unlock(lock);
	pthread_join(sa.tid, NULL);
	pthread_join(sb.tid, NULL);
	pthread_join(ea.tid, NULL);
	pthread_join(eb.tid, NULL);

	print_message("%s\n", ea.err);
	assert_int_equal(ea.status, FM_STORE_ERR);
	assert_non_null(strstr(ea.err, "event 2 of 3"));
	assert_non_null(strstr(ea.err, "NOT NULL"));
	assert_int_equal(sa.status, FM_STORE_OK);
	assert_int_equal(sb.status, FM_STORE_OK);
	assert_int_equal(eb.status, FM_STORE_OK);
	fm_store_stats(st, &commits, &records);
	assert_int_equal(records, 4);
	assert_in_range(commits, 1, 2);
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events"), 2);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events"
				    " WHERE recipient = 'bad@remote.example'"),
			 0);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM event_sigs"),
			 1);
	/* both linked, also to the send committed in the same batch */
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events e"
				    " JOIN sends s ON s.id = e.send_id"
				    " WHERE s.code = e.code"), 2);
}

#define CE_THREADS 16
#define CE_PER_THREAD 160	/* a multiple of 4 */

/* One thread of test_events_concurrent. */
struct ts_mixer {
	fm_store_t *st;
	int id;
	int failed;
	char err[TS_ERR_SIZE];
	pthread_t tid;
};

/* ts_mixer_main - thread body: a send, then its events, many times */
static void *ts_mixer_main(void *arg)
{
	struct ts_mixer *m = arg;
	char code[TS_CODE_SIZE], r0[64], r1[64];
	const char *rcpts[2] = {r0, r1};
	fm_event_t ev[2];
	fm_send_t s;
	int i;

	for (i = 0; i < CE_PER_THREAD; i++) {
		snprintf(code, sizeof(code), "ce%02dx%013d", m->id, i);
		snprintf(r0, sizeof(r0), "a%d@t%d.example", i, m->id);
		snprintf(r1, sizeof(r1), "b%d@t%d.example", i, m->id);
		s = ts_send(code);
		s.rcpts = rcpts;
		s.nrcpts = 2;
		if (fm_store_add_send(m->st, &s, m->err, sizeof(m->err)) !=
		    FM_STORE_OK) {
			m->failed++;
			continue;
		}
		ev[0] = ts_event(code, "hard", i, r0);
		ev[1] = ts_event(code, "soft", i, r1);
		ev[0].sigs = er_sigs3;
		ev[0].nsigs = (size_t) (i % 4);
		if (fm_store_add_events(m->st, ev, 1 + (size_t) (i % 2),
					m->err, sizeof(m->err)) !=
		    FM_STORE_OK)
			m->failed++;
	}
	return NULL;
}

/* The reader of test_events_concurrent. */
struct ts_reader {
	fm_store_t *st;
	int *stop;			/* read under mu */
	pthread_mutex_t *mu;
	int queries;
	int failed;
	char err[TS_ERR_SIZE];
	pthread_t tid;
};

/* ts_count - fm_store_each_event callback: count */
static int ts_count(const fm_event_t *ev, const fm_send_t *send, void *arg)
{
	(void) ev;
	(void) send;
	++*(int *) arg;
	return 0;
}

/* ts_reader_main - thread body: query the newest events until told */
static void *ts_reader_main(void *arg)
{
	struct ts_reader *r = arg;
	fm_event_filter_t f = {.limit = 20, .cls = "hard"};
	int stop = 0, seen;

	while (!stop) {
		seen = 0;
		if (fm_store_each_event(r->st, &f, ts_count, &seen, r->err,
					sizeof(r->err)) < 0)
			r->failed++;
		r->queries++;
		pthread_mutex_lock(r->mu);
		stop = *r->stop;
		pthread_mutex_unlock(r->mu);
	}
	return NULL;
}

/*
 * test_events_concurrent - 16 threads mix sends and their events while a
 * reader queries: everything is committed, linked and batched
 */
static void test_events_concurrent(void **state)
{
	struct ts_dir *d = *state;
	struct ts_mixer m[CE_THREADS];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	int stop = 0;
	struct ts_reader r = {.stop = &stop, .mu = &mu};
	fm_store_t *st = ts_open(d->db, 5000);
	unsigned long commits, records, nev;
	int t;

	memset(m, 0, sizeof(m));
	r.st = st;
	assert_int_equal(pthread_create(&r.tid, NULL, ts_reader_main, &r), 0);
	for (t = 0; t < CE_THREADS; t++) {
		m[t].st = st;
		m[t].id = t;
		assert_int_equal(pthread_create(&m[t].tid, NULL, ts_mixer_main,
						&m[t]), 0);
	}
	for (t = 0; t < CE_THREADS; t++)
		pthread_join(m[t].tid, NULL);
	pthread_mutex_lock(&mu);
	stop = 1;
	pthread_mutex_unlock(&mu);
	pthread_join(r.tid, NULL);
	for (t = 0; t < CE_THREADS; t++)
		if (m[t].failed)
			fail_msg("thread %d: %d failed: %s", t, m[t].failed,
				 m[t].err);
	if (r.failed)
		fail_msg("reader: %d of %d failed: %s", r.failed, r.queries,
			 r.err);
	fm_store_stats(st, &commits, &records);
	nev = CE_THREADS * (CE_PER_THREAD + CE_PER_THREAD / 2);
	print_message("%lu records in %lu commits, %d queries\n", records,
		      commits, r.queries);
	assert_int_equal(records, CE_THREADS * CE_PER_THREAD + nev);
	assert_true(commits * 4 <= records);
	assert_int_equal(fm_store_queued(st), 0);
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events e"
				    " JOIN sends s ON s.id = e.send_id"
				    " WHERE s.code = e.code"), nev);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM event_sigs"),
			 CE_THREADS * (CE_PER_THREAD / 4) * (0 + 1 + 2 + 3));
}

/* The sends of test_events_filters: code, sender. */
static const char *const ef_sends[][2] = {
	{"filt00000000000001", "info@example.nl"},
	{"filt00000000000002", "news@Example.ORG"},
	{"filt00000000000003", "info@sub.example.nl"},
	{"filt00000000000004", "info@notexample.nl"},
};

/*
 * Its events, recorded in this order (ids 1..9); created is unique and
 * names the event in the cases. The last one is recorded last but is the
 * oldest by its time.
 */
static const struct {
	int send;			/* index into ef_sends, -1: none */
	const char *code;		/* when send is -1 */
	const char *cls;
	time_t created;
	const char *recipient;
} ef_events[] = {
	{0, NULL, "hard", 1000, "bob@remote.example"},
	{0, NULL, "soft", 2000, "carol@remote.example"},
	{1, NULL, "hard", 3000, "Bob@Remote.Example"},
	{1, NULL, "autoreply", 4000, "dave@other.example"},
	{2, NULL, "hard", 5000, "eve@x.example"},
	{3, NULL, "complaint", 6000, "frank@y.example"},
	{-1, "unkn00000000000007", "hard", 7000, "bob@remote.example"},
	{-1, NULL, "unknown", 8000, NULL},
	{0, NULL, "delayed", 500, "bob@remote.example"},
};

#define EF_NEVENTS (sizeof(ef_events) / sizeof(ef_events[0]))

static const struct {
	const char *label;
	fm_event_filter_t f;
	int stop_after;
	time_t want[EF_NEVENTS + 1];	/* created, in order; 0 ends */
} ef_cases[] = {
	{"all, newest first", {0}, 0,
	 {500, 8000, 7000, 6000, 5000, 4000, 3000, 2000, 1000}},
	{"all, ascending", {.ascending = 1}, 0,
	 {1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 500}},
	{"limit", {.limit = 3}, 0, {500, 8000, 7000}},
	{"limit, ascending", {.limit = 3, .ascending = 1}, 0,
	 {1000, 2000, 3000}},
	{"since", {.since = 3000}, 0, {8000, 7000, 6000, 5000, 4000, 3000}},
	{"since, ascending", {.since = 3000, .ascending = 1}, 0,
	 {3000, 4000, 5000, 6000, 7000, 8000}},
	{"since, limit", {.since = 2000, .limit = 2}, 0, {8000, 7000}},
	{"class", {.cls = "hard"}, 0, {7000, 5000, 3000, 1000}},
	{"class, ascending", {.cls = "hard", .ascending = 1}, 0,
	 {1000, 3000, 5000, 7000}},
	{"class, since", {.cls = "hard", .since = 2500, .ascending = 1}, 0,
	 {3000, 5000, 7000}},
	{"class is exact", {.cls = "HARD"}, 0, {0}},
	{"domain", {.domain = "example.nl"}, 0, {500, 2000, 1000}},
	{"domain with @, any case", {.domain = "@EXAMPLE.NL"}, 0,
	 {500, 2000, 1000}},
	{"domain, other case in the sender", {.domain = "example.org",
					      .ascending = 1}, 0,
	 {3000, 4000}},
	{"subdomain is another domain", {.domain = "sub.example.nl"}, 0,
	 {5000}},
	{"domain without a send", {.domain = "nowhere.example"}, 0, {0}},
	{"code", {.code = "FILT00000000000001"}, 0, {500, 2000, 1000}},
	{"code, ascending", {.code = "filt00000000000001", .ascending = 1}, 0,
	 {1000, 2000, 500}},
	{"code without a send", {.code = "unkn00000000000007"}, 0, {7000}},
	{"code without events", {.code = "none00000000000000"}, 0, {0}},
	{"code, class", {.code = "filt00000000000001", .cls = "soft"}, 0,
	 {2000}},
	{"recipient, any case", {.recipient = "BOB@remote.example"}, 0,
	 {500, 7000, 3000, 1000}},
	{"recipient, ascending", {.recipient = "bob@remote.example",
				  .ascending = 1}, 0,
	 {1000, 3000, 7000, 500}},
	{"recipient, class", {.recipient = "bob@remote.example",
			      .cls = "hard"}, 0,
	 {7000, 3000, 1000}},
	{"recipient, domain", {.recipient = "bob@remote.example",
			       .domain = "example.nl"}, 0,
	 {500, 1000}},
	{"recipient, since, limit", {.recipient = "bob@remote.example",
				     .since = 2000, .limit = 1}, 0,
	 {7000}},
	{"after id", {.after_id = 6, .ascending = 1}, 0, {7000, 8000, 500}},
	{"after id, limit", {.after_id = 6, .ascending = 1, .limit = 2}, 0,
	 {7000, 8000}},
	{"after id, class", {.after_id = 2, .cls = "hard", .ascending = 1},
	 0, {3000, 5000, 7000}},
	{"after id, code", {.after_id = 1, .code = "filt00000000000001",
			    .ascending = 1}, 0,
	 {2000, 500}},
	{"after the last", {.after_id = 9, .ascending = 1}, 0, {0}},
	{"class, domain, since", {.cls = "hard", .domain = "example.org",
				  .since = 1}, 0,
	 {3000}},
	{"callback stops", {.ascending = 1}, 2, {1000, 2000}},
};

/* ts_filter_data - record the sends and events of test_events_filters */
static void ts_filter_data(fm_store_t *st)
{
	char err[TS_ERR_SIZE];
	fm_event_t ev;
	fm_send_t s;
	size_t i;

	for (i = 0; i < sizeof(ef_sends) / sizeof(ef_sends[0]); i++) {
		s = ts_send(ef_sends[i][0]);
		s.sender = ef_sends[i][1];
		assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
				 FM_STORE_OK);
	}
	for (i = 0; i < EF_NEVENTS; i++) {
		ev = ts_event(ef_events[i].send >= 0 ?
			      ef_sends[ef_events[i].send][0] :
			      ef_events[i].code, ef_events[i].cls,
			      ef_events[i].created, ef_events[i].recipient);
		ts_add_events(st, &ev, 1);
	}
}

/* ts_filter_cases - run every case of ef_cases on st */
static void ts_filter_cases(fm_store_t *st)
{
	struct ts_seen seen;
	size_t i, k, nwant;

	for (i = 0; i < sizeof(ef_cases) / sizeof(ef_cases[0]); i++) {
		print_message("case: %s\n", ef_cases[i].label);
		for (nwant = 0; ef_cases[i].want[nwant] != 0; nwant++)
			;
		seen.stop_after = ef_cases[i].stop_after;
		assert_int_equal(ts_each(st, &ef_cases[i].f, &seen), nwant);
		for (k = 0; k < nwant; k++)
			assert_int_equal(seen.created[k],
					 ef_cases[i].want[k]);
	}
}

/* test_events_filters - table: every filter, alone and combined */
static void test_events_filters(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1000);
	struct ts_seen seen;
	size_t i;

	ts_filter_data(st);
	/* ids follow the order of recording */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ts_each(st, &(fm_event_filter_t) {.ascending = 1},
				 &seen), EF_NEVENTS);
	for (i = 0; i < EF_NEVENTS; i++) {
		assert_int_equal(seen.id[i], (long long) i + 1);
		assert_int_equal(seen.created[i], ef_events[i].created);
		assert_int_equal(seen.send_id[i] != 0, ef_events[i].send >= 0);
	}
	ts_filter_cases(st);
	fm_store_close(st);
}

/*
 * test_events_plans - each variant of the event query is driven by the
 * index it was written for (the variants exist only for that)
 */
static void test_events_plans(void **state)
{
	static const struct {
		int stmt;
		const char *want;
	} cases[] = {
		{RE_ALL, "INTEGER PRIMARY KEY"},
		{RE_ALL_ASC, "INTEGER PRIMARY KEY"},
		{RE_RCPT, "events_recipient"},
		{RE_RCPT_ASC, "events_recipient"},
		{RE_CODE, "events_send_id"},
		{RE_CODE_ASC, "events_send_id"},
		{RE_CLASS, "events_class_created"},
		{RE_CLASS_ASC, "events_class_created"},
		{RE_SINCE, "events_created"},
		{RE_SINCE_ASC, "events_created"},
		{RE_SIGS, "event_sigs"},
	};
	struct ts_dir *d = *state;
	char sql[4096], plan[1024];
	sqlite3_stmt *q = NULL;
	sqlite3 *db = NULL;
	size_t i;

	fm_store_close(ts_open(d->db, 1000));
	assert_int_equal(sqlite3_open(d->db, &db), SQLITE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
			 store_event_rsql[cases[i].stmt]);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL),
				 SQLITE_OK);
		/* the first row is the outer loop, over events */
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		snprintf(plan, sizeof(plan), "%s",
			 (const char *) sqlite3_column_text(q, 3));
		sqlite3_finalize(q);
		print_message("%d: %s\n", cases[i].stmt, plan);
		assert_non_null(strstr(plan, cases[i].want));
	}
	sqlite3_close(db);
}

/* test_events_rdonly - a read-only store queries events, cannot add */
static void test_events_rdonly(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";
	fm_event_t ev = ts_event(NULL, "hard", 1, NULL);
	fm_store_t *st = ts_open(d->db, 1000), *ro;

	ts_filter_data(st);
	ro = fm_store_open(d->db, FM_STORE_RDONLY, 1000, err, sizeof(err));
	assert_non_null(ro);
	ts_filter_cases(ro);
	assert_int_equal(fm_store_add_events(ro, &ev, 1, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_non_null(strstr(err, "read-only"));
	fm_store_close(ro);
	fm_store_close(st);
	/* also with the milter stopped */
	ro = fm_store_open(d->db, FM_STORE_RDONLY, 1000, err, sizeof(err));
	assert_non_null(ro);
	ts_filter_cases(ro);
	fm_store_close(ro);
}

/* test_events_locked - a lock held past the busy timeout fails, recovers */
static void test_events_locked(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";
	fm_event_t ev[2];
	fm_store_t *st = ts_open(d->db, 200);
	struct ts_seen seen;
	sqlite3 *lock;

	ev[0] = ts_event("locked000000000000", "hard", 1, "a@b.example");
	ev[1] = ts_event("locked000000000000", "hard", 2, "c@b.example");
	lock = ts_lock(d->db);
	assert_int_equal(fm_store_add_events(st, ev, 2, err, sizeof(err)),
			 FM_STORE_ERR);
	print_message("%s\n", err);
	assert_non_null(strstr(err, "locked"));
	assert_non_null(strstr(err, d->db));
	/* queries still work while the write lock is held */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ts_each(st, NULL, &seen), 0);
	ts_unlock(lock);
	ts_add_events(st, ev, 2);
	assert_int_equal(ts_each(st, NULL, &seen), 2);
	fm_store_close(st);
}

/*
 * test_events_send_deleted - deleting a send keeps its events, now without
 * a send; deleting an event removes its signatures
 */
static void test_events_send_deleted(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_send_t s = ts_send("deleted00000000000");
	fm_event_t ev = ts_event(s.code, "hard", 1, "a@b.example");
	fm_store_t *st = ts_open(d->db, 1000);
	struct ts_seen seen;

	ev.sigs = er_sigs3;
	ev.nsigs = 3;
	assert_int_equal(fm_store_add_send(st, &s, err, sizeof(err)),
			 FM_STORE_OK);
	ts_add_events(st, &ev, 1);
	ts_sql_exec(d->db, "PRAGMA foreign_keys=ON; DELETE FROM sends");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ts_each(st, NULL, &seen), 1);
	assert_int_equal(seen.send_id[0], 0);
	assert_string_equal(seen.send_code[0], "");
	assert_string_equal(seen.code[0], s.code);
	assert_int_equal(seen.nsigs[0], 3);
	/* the code filter still finds it among the events without a send */
	assert_int_equal(ts_each(st, &(fm_event_filter_t) {.code = s.code},
				 &seen), 1);
	fm_store_close(st);
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM events"
				    " WHERE send_id IS NULL"), 1);
	ts_sql_exec(d->db, "PRAGMA foreign_keys=ON; DELETE FROM events");
	assert_int_equal(ts_sql_int(d->db, "SELECT count(*) FROM event_sigs"),
			 0);
}

/* test_events_bad_arguments - what cannot be stored fails before queuing */
static void test_events_bad_arguments(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE];
	fm_event_t ev[2];
	fm_store_t *st = ts_open(d->db, 1000);
	unsigned long commits;

	ev[0] = ts_event(NULL, "hard", 1, NULL);
	ev[1] = ts_event(NULL, "hard", 1, NULL);
	ev[1].nsigs = 2;
	assert_int_equal(fm_store_add_events(st, NULL, 1, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_int_equal(fm_store_add_events(st, ev, 2, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_non_null(strstr(err, "event 2 of 2"));
	assert_int_equal(fm_store_add_events(st, ev, 2, NULL, 0),
			 FM_STORE_ERR);
	/* nothing to store is not an error */
	assert_int_equal(fm_store_add_events(st, NULL, 0, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(fm_store_each_event(st, NULL, NULL, NULL, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "callback"));
	fm_store_stats(st, &commits, NULL);
	assert_int_equal(commits, 0);
	fm_store_close(st);
}

#define TS_TEST(f) cmocka_unit_test_setup_teardown(f, ts_setup, ts_teardown)

/* main - run every test in its own directory */
int main(void)
{
	const struct CMUnitTest tests[] = {
		TS_TEST(test_open_creates_schema),
		TS_TEST(test_reopen_idempotent),
		TS_TEST(test_roundtrip),
		TS_TEST(test_cache_size),
		TS_TEST(test_many_rcpts),
		TS_TEST(test_case_and_notfound),
		TS_TEST(test_duplicate),
		TS_TEST(test_batch_isolation),
		TS_TEST(test_concurrent),
		TS_TEST(test_locked),
		TS_TEST(test_close_racing),
		TS_TEST(test_newer_refused),
		TS_TEST(test_rdonly_missing),
		TS_TEST(test_rdonly_schema),
		TS_TEST(test_rdonly_old),
		TS_TEST(test_no_directory),
		TS_TEST(test_not_a_database),
		TS_TEST(test_readonly_file),
		TS_TEST(test_bad_arguments),
		TS_TEST(test_foreign_keys),
		TS_TEST(test_migrate_v1),
		TS_TEST(test_events_roundtrip),
		TS_TEST(test_events_unknown_code),
		TS_TEST(test_events_one_request),
		TS_TEST(test_events_atomic),
		TS_TEST(test_events_concurrent),
		TS_TEST(test_events_filters),
		TS_TEST(test_events_plans),
		TS_TEST(test_events_rdonly),
		TS_TEST(test_events_locked),
		TS_TEST(test_events_send_deleted),
		TS_TEST(test_events_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
