/*
 * bench_store - group-commit throughput of the SQLite store
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
 * Build and run:
 *
 *	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -o bench_store \
 *	    tests/bench/bench_store.c milter/store*.c -lsqlite3 -lpthread
 *	./bench_store 1 2000
 *	./bench_store 20 500
 *	./bench_store -e 20 500
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

#include "store.h"

struct bench_thread {
	fm_store_t *st;
	pthread_barrier_t *start;
	int id;
	int n;
	int events;			/* add events, not sends */
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

	snprintf(code, sizeof(code), "bn%03dx%012d", b->id, i);
	snprintf(rcpt, sizeof(rcpt), "alice%d@remote%d.example", i, b->id);
	memset(&e, 0, sizeof(e));
	e.code = code;
	e.verified = 1;
	e.created = time(NULL);
	e.queue_id = "4QxY1z2abd";
	e.cls = "hard";
	e.reason = "userunknown";
	e.status = "5.1.1";
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

/* bench_main - thread body: add the records, counting failures */
static void *bench_main(void *arg)
{
	struct bench_thread *b = arg;
	int i;

	pthread_barrier_wait(b->start);
	for (i = 0; i < b->n; i++)
		if ((b->events ? bench_event(b, i) : bench_send(b, i)) !=
		    FM_STORE_OK)
			b->failed++;
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

/* bench_phase - one measurement: n records of one kind per thread */
static int bench_phase(fm_store_t *st, struct bench_thread *b, int nthreads,
		       int n, int events)
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
					      .id = i, .n = n,
					      .events = events};
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
	printf("threads=%d %s=%d records=%lu commits=%lu seconds=%.3f "
	       "records/s=%.0f records/commit=%.1f\n", nthreads,
	       events ? "events" : "sends", nthreads * n, records, commits,
	       secs, (double) records / secs,
	       commits ? (double) records / (double) commits : 0.0);
	pthread_barrier_destroy(&start);
	return failed;
}

/* bench_run - sends, then (with events) a bounce for each of them */
static int bench_run(const char *dir, int nthreads, int n, int events)
{
	struct bench_thread *b = calloc((size_t) nthreads, sizeof(*b));
	char path[600], err[512];
	fm_store_t *st;
	int failed;

	snprintf(path, sizeof(path), "%s/bench.db", dir);
	if (b == NULL || (st = fm_store_open(path, 0, 5000, err,
					     sizeof(err))) == NULL) {
		fprintf(stderr, "bench_store: %s\n", b ? err : "no memory");
		free(b);
		return -1;
	}
	failed = bench_phase(st, b, nthreads, n, 0);
	if (events && failed == 0)
		failed = bench_phase(st, b, nthreads, n, 1);
	fm_store_close(st);
	free(b);
	return failed;
}

/* main - parse [-e] THREADS SENDS [DIR], run once in a fresh directory */
int main(int argc, char **argv)
{
	char dir[512];
	int nthreads, sends, rc, events = 0;

	if (argc > 1 && strcmp(argv[1], "-e") == 0) {
		events = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4 || (nthreads = atoi(argv[1])) < 1 ||
	    (sends = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: bench_store [-e] THREADS SENDS "
			"[DIR]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/bench_store.XXXXXX",
		 argc == 4 ? argv[3] : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	rc = bench_run(dir, nthreads, sends, events);
	nftw(dir, bench_rm, 8, FTW_DEPTH | FTW_PHYS);
	return rc == 0 ? 0 : 1;
}
