/*
 * ratelimit - a thread-safe limiter for repetitive log lines (see
 * include/ratelimit.h)
 */
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

void
fm_ratelimit_init(fm_ratelimit_t *rl, unsigned burst, unsigned interval)
{
	memset(rl, 0, sizeof(*rl));
	pthread_mutex_init(&rl->lock, NULL);
	rl->burst = burst;
	rl->interval = interval ? interval : 1;
}

void
fm_ratelimit_destroy(fm_ratelimit_t *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

/*
 * ended - the open interval is over at now. A time a little before the
 * start (a thread that read the clock just before another one opened the
 * interval) belongs to it; a clock set back by more than an interval
 * starts a new one.
 */
static int
ended(const fm_ratelimit_t *rl, time_t now)
{
	time_t interval = rl->interval ? (time_t)rl->interval : 1;

	return now - rl->start >= interval || rl->start - now > interval;
}

/* take_summary - fill sum from the open interval if it had unlogged hits;
 * close the interval either way. Caller holds the lock. */
static int
take_summary(fm_ratelimit_t *rl, fm_ratelimit_summary_t *sum)
{
	int have = rl->active && rl->total > rl->logged;

	if (have) {
		sum->interval = rl->interval ? rl->interval : 1;
		sum->start = rl->start;
		sum->total = rl->total;
		sum->suppressed = rl->total - rl->logged;
		memcpy(sum->cat, rl->cat, sizeof(sum->cat));
		memcpy(sum->last_client, rl->last_client, sizeof(sum->last_client));
	}
	rl->active = 0;
	rl->total = rl->logged = 0;
	memset(rl->cat, 0, sizeof(rl->cat));
	rl->last_client[0] = '\0';
	return have;
}

int
fm_ratelimit_hit(fm_ratelimit_t *rl, time_t now, unsigned cat,
		 const char *client, fm_ratelimit_summary_t *sum, int *have_sum)
{
	int log_it, have = 0;

	if (cat >= FM_RL_NCAT)
		cat = FM_RL_NCAT - 1;
	pthread_mutex_lock(&rl->lock);
	if (rl->active && ended(rl, now))
		have = take_summary(rl, sum);
	if (!rl->active) {
		rl->active = 1;
		rl->start = now;
	}
	rl->total++;
	rl->cat[cat]++;
	if (client != NULL)
		snprintf(rl->last_client, sizeof(rl->last_client), "%s", client);
	log_it = rl->logged < rl->burst;
	if (log_it)
		rl->logged++;
	pthread_mutex_unlock(&rl->lock);
	if (have_sum != NULL)
		*have_sum = have;
	return log_it;
}

int
fm_ratelimit_flush(fm_ratelimit_t *rl, time_t now, fm_ratelimit_summary_t *sum)
{
	int have = 0;

	pthread_mutex_lock(&rl->lock);
	if (rl->active && ended(rl, now))
		have = take_summary(rl, sum);
	pthread_mutex_unlock(&rl->lock);
	return have;
}

/* esc_client - printable ASCII as is, the rest as \xHH */
static void
esc_client(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	unsigned char c;

	for (; (c = (unsigned char)*in) != '\0' && n + 5 < size; in++) {
		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[n++] = (char)c;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

int
fm_ratelimit_format(const fm_ratelimit_summary_t *sum, const char *what,
		    const char *(*name)(unsigned cat), char *buf, size_t size)
{
	char cats[512], client[4 * FM_RL_CLIENT_MAX + 1];
	unsigned order[FM_RL_NCAT], i, j, k, t, n = 0;
	size_t len = 0;
	const char *nm;
	int w;

	for (i = 0; i < FM_RL_NCAT; i++)
		if (sum->cat[i] > 0)
			order[n++] = i;
	for (i = 1; i < n; i++)	/* insertion sort, largest count first */
		for (j = i; j > 0 && sum->cat[order[j]] > sum->cat[order[j - 1]]; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	cats[0] = '\0';
	for (k = 0; k < n; k++) {
		nm = name != NULL ? name(order[k]) : NULL;
		w = snprintf(cats + len, sizeof(cats) - len, "%s%s %llu",
			     k ? ", " : "", nm != NULL && *nm ? nm : "other",
			     sum->cat[order[k]]);
		if (w < 0 || (size_t)w >= sizeof(cats) - len)
			break;
		len += (size_t)w;
	}
	esc_client(sum->last_client[0] ? sum->last_client : "-", client,
		   sizeof(client));
	return snprintf(buf, size, "reject summary: %llu %s in the last %us (%s), "
			"%llu not logged singly, last client=%s", sum->total,
			what != NULL ? what : "events", sum->interval, cats,
			sum->suppressed, client);
}
