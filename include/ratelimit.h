/*
 * ratelimit - a thread-safe limiter for repetitive log lines
 *
 * The first `burst` hits of an interval are logged one by one; the rest are
 * only counted (per category, e.g. the code status of a refused recipient).
 * When the interval is over, the next hit (or fm_ratelimit_flush, from a
 * timer) hands back one summary of the interval that ended, if anything in
 * it went unlogged. Time is passed in by the caller, so the module is pure
 * and can be tested with any clock. A mutex guards the state.
 */
#ifndef FM_RATELIMIT_H
#define FM_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#define FM_RL_NCAT 8		/* categories 0..7; larger ones count as 7 */
#define FM_RL_CLIENT_MAX 64

typedef struct {
	pthread_mutex_t lock;
	unsigned burst;		/* lines logged singly per interval */
	unsigned interval;	/* seconds */
	time_t start;		/* start of the current interval */
	int active;		/* an interval is open */
	unsigned long long total;	/* hits in the current interval */
	unsigned long long logged;	/* of which logged singly */
	unsigned long long cat[FM_RL_NCAT];
	char last_client[FM_RL_CLIENT_MAX];
} fm_ratelimit_t;

#define FM_RATELIMIT_INITIALIZER(burst, interval) \
	{ PTHREAD_MUTEX_INITIALIZER, (burst), (interval), 0, 0, 0, 0, {0}, "" }

/* The summary of one ended interval that had hits not logged singly. */
typedef struct {
	unsigned interval;
	time_t start;
	unsigned long long total;	/* every hit of the interval */
	unsigned long long suppressed;	/* not logged singly */
	unsigned long long cat[FM_RL_NCAT];	/* every hit, by category */
	char last_client[FM_RL_CLIENT_MAX];
} fm_ratelimit_summary_t;

/* fm_ratelimit_init - burst 0 logs nothing singly; interval 0 is taken as 1 */
void fm_ratelimit_init(fm_ratelimit_t *rl, unsigned burst, unsigned interval);
void fm_ratelimit_destroy(fm_ratelimit_t *rl);

/*
 * fm_ratelimit_hit - count one hit at `now` in category `cat` from `client`
 * (may be NULL). Returns 1 when this hit is to be logged singly, 0 when it
 * is only counted. When an interval with unlogged hits ended before `now`,
 * *sum is filled and *have_sum set to 1 (else 0): log it first.
 */
int fm_ratelimit_hit(fm_ratelimit_t *rl, time_t now, unsigned cat,
		     const char *client, fm_ratelimit_summary_t *sum,
		     int *have_sum);

/*
 * fm_ratelimit_flush - for a timer: if the current interval has ended at
 * `now` and had unlogged hits, fill *sum, close the interval and return 1;
 * else 0.
 */
int fm_ratelimit_flush(fm_ratelimit_t *rl, time_t now,
		       fm_ratelimit_summary_t *sum);

/*
 * fm_ratelimit_format - "reject summary: 12345 codes refused in the last
 * 10s (bad MAC 12000, malformed 345), 12335 not logged singly, last
 * client=192.0.2.1". `what` is the noun phrase ("codes refused"), name(cat)
 * names a category (NULL or "" for "other"). Categories are listed from
 * the largest count down. The client is printed with anything but
 * printable ASCII (and space, quote, backslash) as \xHH. Always terminated;
 * returns the length it wanted (as snprintf).
 */
int fm_ratelimit_format(const fm_ratelimit_summary_t *sum, const char *what,
			const char *(*name)(unsigned cat), char *buf,
			size_t size);

#endif
