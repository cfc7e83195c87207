/*
 * store - the embedded SQLite store: schema, migrations, send and event
 * records
 *
 * One fm_store_t per process. Writers call fm_store_add_send() and
 * fm_store_add_events() from any thread; a single writer thread batches
 * whatever is queued into one transaction (group commit) and wakes every
 * caller with its own result once the commit is durable (WAL,
 * synchronous=FULL). Readers (feedbackctl) open with FM_STORE_RDONLY and use
 * fm_store_find_send() and fm_store_each_event().
 *
 * The schema is versioned (PRAGMA user_version) with ordered migrations.
 */
#ifndef FM_STORE_H
#define FM_STORE_H

#include <stddef.h>
#include <time.h>

typedef struct fm_store fm_store_t;

typedef enum {
	FM_STORE_OK = 0,
	FM_STORE_DUP,		/* the code exists already: make a new one */
	FM_STORE_NOTFOUND,
	FM_STORE_ERR,		/* anything else: the message says what */
} fm_store_status_t;

/* A send record. Strings may be NULL when unknown. */
typedef struct {
	const char *code;		/* 18-character code, lowercase */
	const char *feedback_domain;
	time_t created;
	const char *sender;		/* original envelope sender */
	const char *msgid;		/* Message-ID header value */
	const char *queue_id;
	const char *client_addr;
	const char *sasl_user;
	const char *const *rcpts;	/* envelope recipients */
	size_t nrcpts;
	const char *const *ident_names;	/* identity headers */
	const char *const *ident_values;
	size_t nidents;
	void *mem_;			/* owned memory of a looked-up record */
} fm_send_t;

#define FM_STORE_RDONLY 0x1

/*
 * fm_store_open - open (and create or migrate unless read-only) the
 * database at path; busy_timeout_ms bounds waiting on a lock.
 */
fm_store_t *fm_store_open(const char *path, int flags,
			  unsigned busy_timeout_ms, char *err, size_t errlen);
void fm_store_close(fm_store_t *st);

/*
 * fm_store_set_cache - the most KiB the writer connection's page cache may
 * take (PRAGMA cache_size), from the next batch on; the default is 64 MiB
 */
void fm_store_set_cache(fm_store_t *st, unsigned kib);

/*
 * fm_store_add_send - queue the record for the writer thread and wait until
 * its transaction committed. FM_STORE_DUP when the code is taken.
 */
fm_store_status_t fm_store_add_send(fm_store_t *st, const fm_send_t *send,
				    char *err, size_t errlen);

/* fm_store_find_send - look a send up by code; free with fm_send_free */
fm_store_status_t fm_store_find_send(fm_store_t *st, const char *code,
				     fm_send_t *out, char *err, size_t errlen);
void fm_send_free(fm_send_t *send);

/* The result of one DKIM signature of an inbound message. */
typedef struct {
	const char *domain;		/* d= */
	const char *selector;		/* s= */
	const char *result;		/* "pass", "fail", ... */
} fm_event_sig_t;

/*
 * An inbound event: one reported recipient of a bounce, an auto-reply or a
 * complaint. Strings may be NULL when unknown, except cls.
 */
typedef struct {
	const char *code;		/* the code it came back to, stored
					   in lowercase; NULL when none */
	int verified;			/* 1: code verified at RCPT; 0: accepted
					   unverified */
	int rcpt_of_send;		/* 1: recipient is one of its send
					   record's (only then do the rules
					   suppress it); not stored */
	time_t created;
	const char *queue_id;
	const char *cls;		/* hard, soft, delayed, ...; required */
	const char *reason;
	const char *status;		/* RFC 3463 status, e.g. 5.1.1 */
	const char *action;		/* DSN Action */
	const char *recipient;		/* Final-Recipient, or the replier */
	const char *orig_recipient;
	const char *diagnostic;
	const char *remote_mta;
	const char *reporting_mta;
	const char *feedback_type;	/* ARF Feedback-Type */
	const char *kind;		/* kind of report it came in */
	int replycode;			/* SMTP reply code; 0 when none */
	const char *client_addr;	/* the client that delivered it */
	const char *helo;
	const char *envfrom;
	const char *spf_result;
	const char *spf_domain;
	const fm_event_sig_t *sigs;	/* every DKIM signature's result */
	size_t nsigs;
	long long send_id;		/* filled by queries, ignored on insert;
					   0 when the code has no send */
	long long id;			/* likewise */
} fm_event_t;

/*
 * fm_store_add_events - queue all n events of one inbound message as one
 * request and wait until its transaction committed. All or none are
 * stored. Each event is linked to the send its code names, if any.
 * n == 0 stores nothing and returns FM_STORE_OK.
 */
fm_store_status_t fm_store_add_events(fm_store_t *st, const fm_event_t *ev,
				      size_t n, char *err, size_t errlen);

/*
 * A query over the events. NULL or 0 members do not filter. Results come
 * newest first (by id, i.e. in the order they were recorded) unless
 * ascending is set.
 */
typedef struct {
	time_t since;			/* created >= since; 0: any */
	const char *cls;		/* class, exactly */
	const char *domain;		/* the send's sender ends with @domain
					   (any case); events without a send
					   never match */
	const char *code;		/* events that came back to this
					   code (any case) */
	const char *recipient;		/* recipient, any case */
	long long after_id;		/* id > after_id (--follow: pass the
					   last id seen and set ascending) */
	size_t limit;			/* at most this many; 0: no limit */
	int ascending;			/* oldest first */
} fm_event_filter_t;

/*
 * fm_event_cb - called once per event. The structs, and every string and
 * array they point to, are valid only during the call. send is the event's
 * send record with its recipients and identity headers, NULL when none.
 * Return 0 to go on, anything else to stop after this event. The callback
 * runs inside the store's read lock: it must not call fm_store_find_send()
 * or fm_store_each_event() on the same store.
 */
typedef int fm_event_cb(const fm_event_t *ev, const fm_send_t *send,
			void *arg);

/*
 * fm_store_each_event - call cb for every event that passes the filter (f
 * may be NULL), all from one snapshot of the database. Returns the number
 * of events cb was called for, or -1 with a message when the query failed
 * (cb may have been called for some events by then).
 */
int fm_store_each_event(fm_store_t *st, const fm_event_filter_t *f,
			fm_event_cb *cb, void *arg, char *err, size_t errlen);

/* fm_store_schema_version - the schema version this build writes */
int fm_store_schema_version(void);

/*
 * For tests and benchmarks. fm_store_stats - transactions committed by the
 * writer thread and the records they carried (a send counts one, an events
 * request one per event); fm_store_queued - callers of fm_store_add_send()
 * and fm_store_add_events() that are still waiting for their result.
 */
void fm_store_stats(fm_store_t *st, unsigned long *commits,
		    unsigned long *records);
size_t fm_store_queued(fm_store_t *st);


/* ------------------------------------------------------------------ */
/* Suppressions (schema version 3). */

typedef struct {
	const char *address;	/* lowercase recipient address */
	const char *reason;	/* e.g. "hard userunknown 5.1.1" or an
				 * operator's text */
	const char *cls;	/* class of the causing event, or NULL */
	long long event_id;	/* causing event, 0 for an operator's entry */
	time_t created;
	time_t expires;		/* 0: does not expire */
	const char *source;	/* "rule" or "operator" */
} fm_suppression_t;

/*
 * fm_store_set_rules - the follow-up rules (an fm_rules_t) that
 * fm_store_add_events
 * applies inside the same transaction as the events (a copy is taken;
 * NULL: no suppressions are made). Call at start and after a reload.
 */
void fm_store_set_rules(fm_store_t *st, const void *rules);

/*
 * fm_store_is_suppressed - is address suppressed at time now (expired
 * entries do not count)? FM_STORE_OK with *out filled (strings valid until
 * fm_suppression_free) when it is, FM_STORE_NOTFOUND when not.
 */
fm_store_status_t fm_store_is_suppressed(fm_store_t *st, const char *address,
					 time_t now, fm_suppression_t *out,
					 void **mem, char *err, size_t errlen);
void fm_suppression_free(void *mem);

/* fm_store_suppress - add or replace an operator's suppression */
fm_store_status_t fm_store_suppress(fm_store_t *st, const fm_suppression_t *s,
				    char *err, size_t errlen);
/* fm_store_unsuppress - lift it; FM_STORE_NOTFOUND when there was none */
fm_store_status_t fm_store_unsuppress(fm_store_t *st, const char *address,
				      char *err, size_t errlen);

typedef int fm_suppression_cb(const fm_suppression_t *s, void *arg);
/* fm_store_each_suppression - active ones (include_expired: all), by address */
int fm_store_each_suppression(fm_store_t *st, time_t now, int include_expired,
			      fm_suppression_cb *cb, void *arg, char *err,
			      size_t errlen);

/*
 * fm_store_prune - delete sends and events created before cutoff (and
 * expired suppressions), keeping active suppressions; returns rows
 * deleted or -1.
 */
long long fm_store_prune(fm_store_t *st, time_t cutoff, time_t now,
			 char *err, size_t errlen);

/* Statistics: one row per group. */
typedef struct {
	const char *group;	/* day (YYYY-MM-DD), domain, class or reason */
	long long sends;
	long long events[8];	/* per class, indexed like fm_config_class_names */
	long long bounced;	/* distinct sends with a hard or soft event */
	long long complained;	/* distinct sends with a complaint */
} fm_stats_row_t;

typedef enum { FM_STATS_TOTAL = 0, FM_STATS_DAY, FM_STATS_DOMAIN,
	       FM_STATS_CLASS, FM_STATS_REASON } fm_stats_by_t;

typedef int fm_stats_cb(const fm_stats_row_t *row, void *arg);
/* fm_store_stats_query - sends and events since a time, by a grouping */
int fm_store_stats_query(fm_store_t *st, time_t since, const char *domain,
			 fm_stats_by_t by, fm_stats_cb *cb, void *arg,
			 char *err, size_t errlen);

#endif
