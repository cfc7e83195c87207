/*
 * store - the embedded SQLite store: schema, migrations, send records
 *
 * One fm_store_t per process. Writers call fm_store_add_send() from any
 * thread; a single writer thread batches whatever is queued into one
 * transaction (group commit) and wakes every caller with its own result once
 * the commit is durable (WAL, synchronous=FULL). Readers (feedbackctl) open
 * with FM_STORE_RDONLY and use fm_store_find_send().
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
 * fm_store_add_send - queue the record for the writer thread and wait until
 * its transaction committed. FM_STORE_DUP when the code is taken.
 */
fm_store_status_t fm_store_add_send(fm_store_t *st, const fm_send_t *send,
				    char *err, size_t errlen);

/* fm_store_find_send - look a send up by code; free with fm_send_free */
fm_store_status_t fm_store_find_send(fm_store_t *st, const char *code,
				     fm_send_t *out, char *err, size_t errlen);
void fm_send_free(fm_send_t *send);

/* fm_store_schema_version - the schema version this build writes */
int fm_store_schema_version(void);

/*
 * For tests and benchmarks. fm_store_stats - transactions committed by the
 * writer thread and send records they carried; fm_store_queued - callers of
 * fm_store_add_send() that are still waiting for their result.
 */
void fm_store_stats(fm_store_t *st, unsigned long *commits,
		    unsigned long *records);
size_t fm_store_queued(fm_store_t *st);

#endif
