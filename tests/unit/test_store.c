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
 *	    tests/unit/test_store.c milter/store.c -lcmocka -lsqlite3 -lpthread
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

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

/* test_rdonly_old - read-only refuses an older schema version */
static void test_rdonly_old(void **state)
{
	struct ts_dir *d = *state;
	char err[TS_ERR_SIZE] = "";

	if (fm_store_schema_version() < 2)
		skip();		/* no older schema than version 1 yet */
	fm_store_close(ts_open(d->db, 1000));
	ts_sql_exec(d->db, "PRAGMA user_version=1");
	assert_null(fm_store_open(d->db, FM_STORE_RDONLY, 1000, err,
				  sizeof(err)));
	assert_non_null(strstr(err, "older"));
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

#define TS_TEST(f) cmocka_unit_test_setup_teardown(f, ts_setup, ts_teardown)

/* main - run every test in its own directory */
int main(void)
{
	const struct CMUnitTest tests[] = {
		TS_TEST(test_open_creates_schema),
		TS_TEST(test_reopen_idempotent),
		TS_TEST(test_roundtrip),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
