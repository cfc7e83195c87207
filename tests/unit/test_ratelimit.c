/*
 * test_ratelimit - the log rate limiter, with an injected clock
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

static const char *
cat_name(unsigned cat)
{
	static const char *const names[] = {"ok", "malformed", "unknown key",
					    "bad MAC", "expired"};

	return cat < sizeof(names) / sizeof(names[0]) ? names[cat] : NULL;
}

/* One hit: when, category, and what is expected back. */
typedef struct {
	time_t now;
	unsigned cat;
	int log;		/* expected return of fm_ratelimit_hit */
	int sum;		/* a summary is expected with this hit */
	unsigned long long sum_total, sum_suppressed;
} hit_t;

typedef struct {
	const char *name;
	unsigned burst, interval;
	hit_t hits[16];
	size_t nhits;
	/* flush at the end */
	time_t flush_at;
	int flush_sum;
	unsigned long long flush_total, flush_suppressed;
} row_t;

static const row_t rows[] = {
	{"under the burst: every hit logged, no summary", 3, 10,
	 {{100, 3, 1, 0, 0, 0}, {101, 3, 1, 0, 0, 0}, {109, 1, 1, 0, 0, 0}}, 3,
	 200, 0, 0, 0},
	{"over the burst: counted, summary at the next interval", 2, 10,
	 {{100, 3, 1, 0, 0, 0}, {100, 3, 1, 0, 0, 0}, {101, 3, 0, 0, 0, 0},
	  {105, 1, 0, 0, 0, 0}, {110, 3, 1, 1, 4, 2}}, 5,
	 111, 0, 0, 0},
	{"interval boundary: now - start == interval starts a new one", 1, 10,
	 {{100, 3, 1, 0, 0, 0}, {109, 3, 0, 0, 0, 0}, {110, 3, 1, 1, 2, 1},
	  {119, 3, 0, 0, 0, 0}}, 4,
	 119, 0, 0, 0},
	{"flush by timer after the interval", 1, 10,
	 {{100, 3, 1, 0, 0, 0}, {101, 1, 0, 0, 0, 0}, {102, 4, 0, 0, 0, 0}}, 3,
	 110, 1, 3, 2},
	{"flush before the interval ends: nothing", 1, 10,
	 {{100, 3, 1, 0, 0, 0}, {101, 1, 0, 0, 0, 0}}, 2,
	 109, 0, 0, 0},
	{"quiet interval: no summary when nothing was suppressed", 2, 5,
	 {{100, 3, 1, 0, 0, 0}, {200, 3, 1, 0, 0, 0}, {201, 3, 1, 0, 0, 0},
	  {202, 3, 0, 0, 0, 0}}, 4,
	 300, 1, 3, 1},
	{"clock a little behind (another thread): same interval", 1, 10,
	 {{100, 3, 1, 0, 0, 0}, {99, 3, 0, 0, 0, 0}, {90, 3, 0, 0, 0, 0}}, 3,
	 105, 0, 0, 0},
	{"clock set back by more than an interval starts a new one", 1, 10,
	 {{100, 3, 1, 0, 0, 0}, {101, 3, 0, 0, 0, 0}, {50, 3, 1, 1, 2, 1}}, 3,
	 50, 0, 0, 0},
	{"burst 0: nothing logged singly", 0, 10,
	 {{100, 3, 0, 0, 0, 0}, {100, 3, 0, 0, 0, 0}}, 2,
	 110, 1, 2, 2},
	{"interval 0 is taken as 1s", 1, 0,
	 {{100, 3, 1, 0, 0, 0}, {100, 3, 0, 0, 0, 0}, {101, 3, 1, 1, 2, 1}}, 3,
	 101, 0, 0, 0},
	{"category beyond the table counts as the last", 1, 10,
	 {{100, 99, 1, 0, 0, 0}, {100, 99, 0, 0, 0, 0}}, 2,
	 110, 1, 2, 1},
};

static void
test_table(void **state)
{
	size_t r, i;

	(void)state;
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const row_t *row = &rows[r];
		fm_ratelimit_t rl;
		fm_ratelimit_summary_t sum;
		int have, got;

		print_message("row %zu: %s\n", r, row->name);
		fm_ratelimit_init(&rl, row->burst, row->interval);
		for (i = 0; i < row->nhits; i++) {
			const hit_t *h = &row->hits[i];

			memset(&sum, 0, sizeof(sum));
			have = -1;
			got = fm_ratelimit_hit(&rl, h->now, h->cat, "192.0.2.1",
					       &sum, &have);
			assert_int_equal(got, h->log);
			assert_int_equal(have, h->sum);
			if (h->sum) {
				assert_int_equal(sum.total, h->sum_total);
				assert_int_equal(sum.suppressed, h->sum_suppressed);
			}
		}
		memset(&sum, 0, sizeof(sum));
		assert_int_equal(fm_ratelimit_flush(&rl, row->flush_at, &sum),
				 row->flush_sum);
		if (row->flush_sum) {
			assert_int_equal(sum.total, row->flush_total);
			assert_int_equal(sum.suppressed, row->flush_suppressed);
			/* a flushed interval is not reported twice */
			assert_int_equal(fm_ratelimit_flush(&rl, row->flush_at + 100,
							    &sum), 0);
		}
		fm_ratelimit_destroy(&rl);
	}
}

static void
test_static_initializer(void **state)
{
	static fm_ratelimit_t rl = FM_RATELIMIT_INITIALIZER(1, 10);
	fm_ratelimit_summary_t sum;
	int have;

	(void)state;
	assert_int_equal(fm_ratelimit_hit(&rl, 5, 3, NULL, &sum, &have), 1);
	assert_int_equal(have, 0);
	assert_int_equal(fm_ratelimit_hit(&rl, 6, 3, NULL, &sum, &have), 0);
	assert_int_equal(fm_ratelimit_hit(&rl, 15, 3, NULL, &sum, &have), 1);
	assert_int_equal(have, 1);
	assert_int_equal(sum.total, 2);
	/* have_sum may be NULL */
	assert_int_equal(fm_ratelimit_hit(&rl, 16, 3, NULL, &sum, NULL), 0);
}

/* Summary lines: table of counts -> expected text */
static void
test_format(void **state)
{
	static const struct {
		unsigned long long cat[FM_RL_NCAT];
		unsigned long long total, suppressed;
		const char *client, *want;
	} t[] = {
		{{0, 345, 0, 12000, 0}, 12345, 12335, "192.0.2.10",
		 "reject summary: 12345 codes refused in the last 10s "
		 "(bad MAC 12000, malformed 345), 12335 not logged singly, "
		 "last client=192.0.2.10"},
		{{0, 0, 1, 0, 5, 0, 0, 2}, 8, 7, "",
		 "reject summary: 8 codes refused in the last 10s "
		 "(expired 5, other 2, unknown key 1), 7 not logged singly, "
		 "last client=-"},
		{{0, 0, 0, 3}, 3, 2, "a b\r\nc\"\\",
		 "reject summary: 3 codes refused in the last 10s (bad MAC 3), "
		 "2 not logged singly, last client=a\\x20b\\x0d\\x0ac\\x22\\x5c"},
	};
	fm_ratelimit_summary_t sum;
	char buf[512], small[16];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&sum, 0, sizeof(sum));
		sum.interval = 10;
		sum.total = t[i].total;
		sum.suppressed = t[i].suppressed;
		memcpy(sum.cat, t[i].cat, sizeof(sum.cat));
		snprintf(sum.last_client, sizeof(sum.last_client), "%s", t[i].client);
		n = fm_ratelimit_format(&sum, "codes refused", cat_name, buf, sizeof(buf));
		assert_string_equal(buf, t[i].want);
		assert_int_equal(n, (int)strlen(t[i].want));
		assert_null(strchr(buf, '\n'));
		/* truncation is safe and terminated */
		n = fm_ratelimit_format(&sum, "codes refused", cat_name, small, sizeof(small));
		assert_int_equal(strlen(small), sizeof(small) - 1);
		assert_true(n > (int)sizeof(small));
	}
}

/* Threads: every hit is either logged or counted in exactly one summary. */
#define NTHREADS 8
#define NHITS 20000
static fm_ratelimit_t shared_rl;
static pthread_mutex_t acc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long acc_logged, acc_summed_total, acc_summed_logged;
static unsigned long ticks;	/* the shared clock: 1 s per 1000 hits */

static void *
worker(void *arg)
{
	unsigned long long logged = 0, total = 0, suppressed = 0;
	fm_ratelimit_summary_t sum;
	uintptr_t id = (uintptr_t)arg;
	int have, i;


	for (i = 0; i < NHITS; i++) {
		time_t now = 1000 + (time_t)(__atomic_fetch_add(&ticks, 1,
				__ATOMIC_SEQ_CST) / 1000);

		if (fm_ratelimit_hit(&shared_rl, now, (unsigned)(id % 4),
				     "198.51.100.7", &sum, &have))
			logged++;
		if (have) {
			total += sum.total;
			suppressed += sum.suppressed;
		}
	}
	pthread_mutex_lock(&acc_lock);
	acc_logged += logged;
	acc_summed_total += total;
	acc_summed_logged += total - suppressed;
	pthread_mutex_unlock(&acc_lock);
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t tid[NTHREADS];
	fm_ratelimit_summary_t sum;
	uintptr_t i;

	(void)state;
	fm_ratelimit_init(&shared_rl, 10, 2);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, worker, (void *)i), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	/* the last interval, by timer */
	if (fm_ratelimit_flush(&shared_rl, 1000000, &sum)) {
		acc_summed_total += sum.total;
		acc_summed_logged += sum.total - sum.suppressed;
	}
	/* no hit lost or counted twice: a hit is either in exactly one
	 * summary, or in a quiet interval (one without a summary), where
	 * every hit was logged singly */
	assert_true(acc_summed_total <= (unsigned long long)NTHREADS * NHITS);
	assert_int_equal((unsigned long long)NTHREADS * NHITS - acc_summed_total,
			 acc_logged - acc_summed_logged);
	/* 160 s of clock at 10 per 2 s: 80 intervals x 10 logged; a thread
	 * stalled for more than an interval between reading the clock and
	 * the hit may open two more, so the bound is loose */
	print_message("threads: %llu of %d hits logged singly\n", acc_logged,
		      NTHREADS * NHITS);
	assert_true(acc_logged >= 79 * 10);
	assert_true(acc_logged <= 3 * 81 * 10);
	fm_ratelimit_destroy(&shared_rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_static_initializer),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
