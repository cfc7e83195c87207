/*
 * bench_store - group-commit throughput of the SQLite store, and how it
 * holds up as the store grows
 *
 * Starts THREADS threads that each add SENDS send records (two recipients
 * and one identity header each, as a typical message) to a fresh database
 * in a new directory under DIR (default /tmp), then prints the records per
 * second and how many transactions (fsyncs of the WAL) carried them. With
 * -e, the same threads then record one bounce for each of those sends (one
 * event with one DKIM result per request, as the inbound side does) and a
 * second line says the same for the events. The directory is removed
 * afterwards.
 *
 * With -g N (store growth), two stores are measured in the same run: an
 * empty one, and one filled first with N sends (two recipients and an
 * identity header each), an event for every tenth send (all classes) and
 * the suppressions of the hard ones, written straight with SQL in one
 * transaction. On each, with the default follow-up rules set, THREADS
 * threads add SENDS sends each, then an event for each of them (hard and
 * soft in turn, so the soft threshold count runs for half), then look up
 * ten addresses each per send with fm_store_is_suppressed() (half of them
 * suppressed). It prints the rates of both stores and their ratio (grown /
 * empty), then the query plan of every statement the milter runs on the
 * grown store.
 *
 * Build and run:
 *
 *	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -o bench_store \
 *	    tests/bench/bench_store.c milter/store*.c milter/rules.c \
 *	    milter/config*.c milter/codec.c -lsqlite3 -lcrypto -lpthread
 *	./bench_store 1 2000
 *	./bench_store 20 500
 *	./bench_store -e 20 500
 *	./bench_store -g 1000000 20 250	  (tests/bench/store-growth.sh)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rules.h"
#include "store.h"
#include "../../milter/store_int.h"	/* the statements, for the plans */

/* What a phase's threads do. */
enum { BENCH_SENDS, BENCH_EVENTS, BENCH_LOOKUPS, BENCH_NKINDS };

static const char *const bench_kind[BENCH_NKINDS] = {
	"sends", "events", "lookups"
};

struct bench_thread {
	fm_store_t *st;
	pthread_barrier_t *start;
	int id;
	int n;
	int kind;			/* BENCH_* */
	int growth;			/* -g: hard and soft events */
	int failed;
	char err[512];
	pthread_t tid;
};

/* bench_send - add send i of this thread, as the outbound side does */
static fm_store_status_t bench_send(struct bench_thread *b, int i)
{
	static const char *const names[] = {"X-Campaign-ID"};
	static const char *const values[] = {"bench-2024"};
	char code[32], r0[64], r1[64];
	const char *rcpts[2] = {r0, r1};
	fm_send_t s;

	snprintf(code, sizeof(code), "bn%03dx%012d", b->id, i);
	snprintf(r0, sizeof(r0), "alice%d@remote%d.example", i, b->id);
	snprintf(r1, sizeof(r1), "bob%d@remote%d.example", i, b->id);
	memset(&s, 0, sizeof(s));
	s.code = code;
	s.feedback_domain = "feedback.example.nl";
	s.created = time(NULL);
	s.sender = "info@example.nl";
	s.msgid = "<bench@example.nl>";
	s.queue_id = "4QxY1z2abc";
	s.client_addr = "192.0.2.7";
	s.rcpts = rcpts;
	s.nrcpts = 2;
	s.ident_names = names;
	s.ident_values = values;
	s.nidents = 1;
	return fm_store_add_send(b->st, &s, b->err, sizeof(b->err));
}

/* bench_event - record a bounce for send i, as the inbound side does */
static fm_store_status_t bench_event(struct bench_thread *b, int i)
{
	static const fm_event_sig_t sig = {"remote.example", "s2024", "pass"};
	char code[32], rcpt[64];
	fm_event_t e;
	int soft = b->growth && i % 2;

	snprintf(code, sizeof(code), "bn%03dx%012d", b->id, i);
	snprintf(rcpt, sizeof(rcpt), "alice%d@remote%d.example", i, b->id);
	memset(&e, 0, sizeof(e));
	e.code = code;
	e.verified = 1;
	e.created = time(NULL);
	e.queue_id = "4QxY1z2abd";
	e.cls = soft ? "soft" : "hard";
	e.reason = soft ? "mailboxfull" : "userunknown";
	e.status = soft ? "4.2.2" : "5.1.1";
	e.action = "failed";
	e.recipient = rcpt;
	e.diagnostic = "smtp; 550 5.1.1 user unknown";
	e.remote_mta = "mx.remote.example";
	e.reporting_mta = "mail.remote.example";
	e.kind = "dsn";
	e.replycode = 550;
	e.client_addr = "198.51.100.25";
	e.helo = "mail.remote.example";
	e.envfrom = "";
	e.spf_result = "pass";
	e.spf_domain = "mail.remote.example";
	e.sigs = &sig;
	e.nsigs = 1;
	return fm_store_add_events(b->st, &e, 1, b->err, sizeof(b->err));
}

/*
 * bench_lookup - look up address i at RCPT time (n is ten per send): even
 * ones are an alice that had a hard bounce (suppressed), odd ones a bob,
 * never bounced
 */
static fm_store_status_t bench_lookup(struct bench_thread *b, int i)
{
	int hard = b->n / 20 > 0 ? b->n / 20 : 1;	/* sends / 2 */
	char rcpt[64];
	fm_store_status_t rc;

	snprintf(rcpt, sizeof(rcpt), "%s%d@remote%d.example",
		 i % 2 ? "bob" : "alice", 2 * ((i / 2) % hard), b->id);
	rc = fm_store_is_suppressed(b->st, rcpt, time(NULL), NULL, NULL,
				    b->err, sizeof(b->err));
	if (rc == (i % 2 ? FM_STORE_NOTFOUND : FM_STORE_OK))
		return FM_STORE_OK;
	if (rc != FM_STORE_ERR)
		snprintf(b->err, sizeof(b->err), "%s: wrong answer", rcpt);
	return FM_STORE_ERR;
}

/* bench_main - thread body: add the records, counting failures */
static void *bench_main(void *arg)
{
	struct bench_thread *b = arg;
	fm_store_status_t rc;
	int i;

	pthread_barrier_wait(b->start);
	for (i = 0; i < b->n; i++) {
		if (b->kind == BENCH_SENDS)
			rc = bench_send(b, i);
		else if (b->kind == BENCH_EVENTS)
			rc = bench_event(b, i);
		else
			rc = bench_lookup(b, i);
		if (rc != FM_STORE_OK)
			b->failed++;
	}
	return NULL;
}

/* bench_rm - nftw callback removing one entry */
static int bench_rm(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	(void) sb;
	(void) type;
	(void) ftw;
	return remove(path);
}

/*
 * bench_phase - one measurement: n operations of one kind per thread;
 * *rate gets the operations per second. Returns the failures.
 */
static int bench_phase(fm_store_t *st, struct bench_thread *b, int nthreads,
		       int n, int kind, int growth, double *rate)
{
	pthread_barrier_t start;
	struct timespec t0, t1;
	unsigned long c0, r0, commits, records;
	double secs;
	int i, failed = 0;

	fm_store_stats(st, &c0, &r0);
	pthread_barrier_init(&start, NULL, (unsigned) nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		b[i] = (struct bench_thread) {.st = st, .start = &start,
					      .id = i, .n = n, .kind = kind,
					      .growth = growth};
		pthread_create(&b[i].tid, NULL, bench_main, &b[i]);
	}
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthreads; i++)
		pthread_join(b[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fm_store_stats(st, &commits, &records);
	commits -= c0;
	records -= r0;
	for (i = 0; i < nthreads; i++) {
		if (b[i].failed)
			fprintf(stderr, "thread %d: %d failed: %s\n", i,
				b[i].failed, b[i].err);
		failed += b[i].failed;
	}
	secs = (double) (t1.tv_sec - t0.tv_sec) +
		(double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (kind == BENCH_LOOKUPS)
		records = (unsigned long) nthreads * (unsigned long) n;
	*rate = (double) records / secs;
	printf("threads=%d %s=%d records=%lu commits=%lu seconds=%.3f "
	       "records/s=%.0f records/commit=%.1f\n", nthreads,
	       bench_kind[kind], nthreads * n, records, commits, secs, *rate,
	       commits ? (double) records / (double) commits : 0.0);
	fflush(stdout);
	pthread_barrier_destroy(&start);
	return failed;
}

/* bench_run - sends, then (with events) a bounce for each of them */
static int bench_run(const char *dir, int nthreads, int n, int events)
{
	struct bench_thread *b = calloc((size_t) nthreads, sizeof(*b));
	char path[600], err[512];
	fm_store_t *st;
	double rate;
	int failed;

	snprintf(path, sizeof(path), "%s/bench.db", dir);
	if (b == NULL || (st = fm_store_open(path, 0, 5000, err,
					     sizeof(err))) == NULL) {
		fprintf(stderr, "bench_store: %s\n", b ? err : "no memory");
		free(b);
		return -1;
	}
	failed = bench_phase(st, b, nthreads, n, BENCH_SENDS, 0, &rate);
	if (events && failed == 0)
		failed = bench_phase(st, b, nthreads, n, BENCH_EVENTS, 0,
				     &rate);
	fm_store_close(st);
	free(b);
	return failed;
}

/*
 * The grown store, straight in SQL in one transaction: ?1 sends over the
 * last 30 days before ?2, 50 sender domains, two recipients each; an event
 * for every tenth send (classes in turn); suppressions for the hard ones.
 */
static const char bench_fill_sql[] =
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	" WHERE i < ?1)"
	" INSERT INTO sends (id, code, feedback_domain, created, sender, msgid,"
	" queue_id, client_addr) SELECT i, printf('gn%016d', i),"
	" 'feedback.example.nl', ?2 - 2592000 + i * 2592000 / ?1,"
	" 'info@example' || (i % 50) || '.nl', '<' || i || '@example.nl>',"
	" printf('Q%010X', i), '192.0.2.7' FROM n;"
	"INSERT INTO send_rcpts SELECT id, 0,"
	" 'r' || id || '@remote' || (id % 1000) || '.example' FROM sends;"
	"INSERT INTO send_rcpts SELECT id, 1,"
	" 's' || id || '@remote' || (id % 1000) || '.example' FROM sends;"
	"INSERT INTO send_idents SELECT id, 0, 'X-Campaign-ID',"
	" 'c' || (id % 100) FROM sends;"
	"INSERT INTO events (send_id, code, verified, created, class, reason,"
	" status, action, recipient, kind) SELECT id, code, 1, created + 600,"
	" CASE (id / 10) % 10 WHEN 0 THEN 'hard' WHEN 1 THEN 'hard'"
	" WHEN 2 THEN 'hard' WHEN 3 THEN 'soft' WHEN 4 THEN 'soft'"
	" WHEN 5 THEN 'soft' WHEN 6 THEN 'complaint' WHEN 7 THEN 'delayed'"
	" WHEN 8 THEN 'autoreply' ELSE 'delivered' END, 'userunknown',"
	" '5.1.1', 'failed', 'r' || id || '@remote' || (id % 1000)"
	" || '.example', 'dsn' FROM sends WHERE id % 10 = 0;"
	"INSERT INTO suppressions SELECT recipient, 'hard userunknown 5.1.1',"
	" 'hard', id, created, NULL, 'rule' FROM events WHERE class = 'hard'";

/* bench_exec_all - run each statement of sql, binding ?1 and ?2 */
static int bench_exec_all(sqlite3 *db, const char *sql, sqlite3_int64 p1,
			  sqlite3_int64 p2)
{
	sqlite3_stmt *q;
	const char *tail = sql;
	int rc = SQLITE_OK;

	while (rc == SQLITE_OK && *tail) {
		rc = sqlite3_prepare_v2(db, tail, -1, &q, &tail);
		if (rc != SQLITE_OK || q == NULL)
			break;
		if (sqlite3_bind_parameter_count(q) >= 1)
			sqlite3_bind_int64(q, 1, p1);
		if (sqlite3_bind_parameter_count(q) >= 2)
			sqlite3_bind_int64(q, 2, p2);
		rc = sqlite3_step(q);
		rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
		sqlite3_finalize(q);
	}
	if (rc != SQLITE_OK)
		fprintf(stderr, "bench_store: %s\n", sqlite3_errmsg(db));
	return rc;
}

/* bench_fill - create the schema at path and fill it with n sends */
static int bench_fill(const char *path, long n)
{
	char err[512];
	fm_store_t *st = fm_store_open(path, 0, 5000, err, sizeof(err));
	struct timespec t0, t1;
	sqlite3 *db = NULL;
	int rc;

	if (st == NULL) {
		fprintf(stderr, "bench_store: %s\n", err);
		return -1;
	}
	fm_store_close(st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = bench_exec_all(db, "PRAGMA synchronous=OFF;"
				    "PRAGMA cache_size=-262144;BEGIN", 0, 0);
	if (rc == SQLITE_OK)
		rc = bench_exec_all(db, bench_fill_sql, n, time(NULL));
	if (rc == SQLITE_OK)
		rc = bench_exec_all(db, "COMMIT;PRAGMA wal_checkpoint(TRUNCATE)",
				    0, 0);
	sqlite3_close(db);
	sync();		/* no write-back of the fill during the measurement */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("filled %s with %ld sends in %.1f s\n", path, n,
	       (double) (t1.tv_sec - t0.tv_sec) +
	       (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc == SQLITE_OK ? 0 : -1;
}

/* bench_measure - the three phases on the store at path, rules set */
static int bench_measure(const char *path, int nthreads, int n,
			 double rate[BENCH_NKINDS])
{
	struct bench_thread *b = calloc((size_t) nthreads, sizeof(*b));
	char err[512];
	fm_store_t *st;
	fm_rules_t rules;
	int failed = 0, k;

	if (b == NULL || (st = fm_store_open(path, 0, 5000, err,
					     sizeof(err))) == NULL) {
		fprintf(stderr, "bench_store: %s\n", b ? err : "no memory");
		free(b);
		return -1;
	}
	fm_rules_defaults(&rules);
	fm_store_set_rules(st, &rules);
	for (k = 0; k < BENCH_NKINDS && failed == 0; k++)
		failed = bench_phase(st, b, nthreads,
				     k == BENCH_LOOKUPS ? 10 * n : n, k, 1,
				     &rate[k]);
	fm_store_close(st);
	free(b);
	return failed;
}

/* bench_plan - print the query plan of one statement */
static void bench_plan(sqlite3 *db, const char *what, const char *sql)
{
	char buf[8192];
	sqlite3_stmt *q = NULL;
	int rows = 0;

	snprintf(buf, sizeof(buf), "EXPLAIN QUERY PLAN %s", sql);
	printf("%s:\n", what);
	if (sqlite3_prepare_v2(db, buf, -1, &q, NULL) != SQLITE_OK) {
		printf("    (%s)\n", sqlite3_errmsg(db));
		return;
	}
	for (; sqlite3_step(q) == SQLITE_ROW; rows++)
		printf("    %s\n", sqlite3_column_text(q, 3));
	if (rows == 0)
		printf("    (plain insert: no search; maintains the table's "
		       "indexes)\n");
	sqlite3_finalize(q);
}

/* bench_plans - the plan of every statement the milter runs */
static void bench_plans(const char *path)
{
	static const struct {
		const char *what;
		const char *const *sql;
		int stmt;
	} s[] = {
		{"find by code: send", store_send_rsql, RS_SEND},
		{"find by code: recipients", store_send_rsql, RS_RCPTS},
		{"find by code: identity headers", store_send_rsql, RS_IDENTS},
		{"add send: send", store_send_wsql, WS_SEND},
		{"add send: recipient", store_send_wsql, WS_RCPT},
		{"add send: identity header", store_send_wsql, WS_IDENT},
		{"add events: event (send looked up by code)",
		 store_event_wsql, WE_EVENT},
		{"add events: signature", store_event_wsql, WE_SIG},
		{"add events: threshold count", store_suppress_wsql,
		 WX_COUNT_RECENT},
		{"add events: suppression by a rule", store_suppress_wsql,
		 WX_RULE},
		{"is_suppressed", store_suppress_rsql, RX_LOOKUP},
	};
	sqlite3 *db = NULL;
	size_t i;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK)
		for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
			bench_plan(db, s[i].what, s[i].sql[s[i].stmt]);
	sqlite3_close(db);
}

/* bench_growth - an empty and a grown store in one run, and the ratios */
static int bench_growth(const char *dir, long nsends, int nthreads, int n)
{
	double empty[BENCH_NKINDS], grown[BENCH_NKINDS];
	char pe[600], pg[600];
	int k;

	snprintf(pe, sizeof(pe), "%s/empty.db", dir);
	snprintf(pg, sizeof(pg), "%s/grown.db", dir);
	printf("empty store:\n");
	if (bench_measure(pe, nthreads, n, empty) != 0 ||
	    bench_fill(pg, nsends) != 0)
		return -1;
	printf("store with %ld sends:\n", nsends);
	if (bench_measure(pg, nthreads, n, grown) != 0)
		return -1;
	for (k = 0; k < BENCH_NKINDS; k++)
		printf("%-8s empty=%.0f/s grown=%.0f/s ratio=%.2f\n",
		       bench_kind[k], empty[k], grown[k], grown[k] / empty[k]);
	printf("\nquery plans on the grown store:\n");
	bench_plans(pg);
	return 0;
}
/* main - parse [-e | -g N] THREADS SENDS [DIR], run in a fresh directory */
int main(int argc, char **argv)
{
	char dir[512];
	long grow = 0;
	int nthreads, sends, rc, events = 0;

	if (argc > 1 && strcmp(argv[1], "-e") == 0) {
		events = 1;
		argc--;
		argv++;
	} else if (argc > 2 && strcmp(argv[1], "-g") == 0) {
		if ((grow = atol(argv[2])) < 1)
			argc = 0;
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || argc > 4 || (nthreads = atoi(argv[1])) < 1 ||
	    (sends = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: bench_store [-e | -g N] THREADS SENDS "
			"[DIR]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/bench_store.XXXXXX",
		 argc == 4 ? argv[3] : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	rc = grow ? bench_growth(dir, grow, nthreads, sends) :
		bench_run(dir, nthreads, sends, events);
	nftw(dir, bench_rm, 8, FTW_DEPTH | FTW_PHYS);
	return rc == 0 ? 0 : 1;
}
