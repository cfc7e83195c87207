/*
 * resolver_int - what resolver.c and resolver_static.c share
 *
 * Not for other modules: they use resolver.h. One fm_resolver_t serves
 * either backend: a libunbound context (ctx, resolver.c) or a parsed static
 * zone (zone, resolver_static.c); fm_resolver_query() and
 * fm_resolver_free() in resolver.c handle both.
 */
#ifndef FM_RESOLVER_INT_H
#define FM_RESOLVER_INT_H

#include <pthread.h>
#include <stddef.h>

#include "resolver.h"

struct ub_ctx;

#define FM_ZONE_TEMPFAIL (-1)	/* static zone pseudo types */
#define FM_ZONE_PERMFAIL (-2)

typedef struct fm_zone_rr {
	char *name;		/* lowercase, no final dot */
	fm_dns_rr_t rr;		/* rr.type may be FM_ZONE_TEMPFAIL/PERMFAIL */
} fm_zone_rr_t;

struct fm_resolver {
	unsigned timeout_ms;
	/* libunbound backend */
	struct ub_ctx *ctx;
	pthread_mutex_t lock;	/* query states, dispatcher start */
	pthread_t thread;
	int started;		/* dispatcher running */
	int stop_pipe[2];
	/* static backend */
	fm_zone_rr_t *zone;
	size_t nzone;
};

/* fm_errf - format a message into a caller's buffer */
void fm_errf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* fm_answer_fail - set a failure status with a reason; returns it */
fm_dns_status_t fm_answer_fail(fm_dns_answer_t *ans, fm_dns_status_t st,
			       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* fm_answer_add - append a copy of rr; -1 when out of memory */
int fm_answer_add(fm_dns_answer_t *ans, const fm_dns_rr_t *rr);
/* fm_copy_name - canonical form of a name: lowercase, no final dot */
void fm_copy_name(char *dst, size_t len, const char *src);
/* fm_resolver_alloc - common part of both constructors */
fm_resolver_t *fm_resolver_alloc(unsigned timeout_ms);

/* fm_zone_query - answer from the static zone (resolver_static.c) */
fm_dns_status_t fm_zone_query(const fm_resolver_t *r, const char *qname,
			      int type, fm_dns_answer_t *ans);

#endif
