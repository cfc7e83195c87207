/*
 * store_int - what the files of the store share; private to milter/store*.c
 * (and the store's unit test, which checks the query plans)
 *
 * store.c owns the store: the connections, the schema, the group-commit
 * queue and its leader, the read lock. It prepares every part's
 * statements at open but knows nothing about what a request inserts.
 * store_send.c and store_event.c each own one kind of record: the SQL of
 * their statements, the insert the leader runs for their requests,
 * and their queries. store_suppress.c owns the suppressions (the follow-up
 * rules applied to each recorded event, the operator's entries, the
 * lookup at RCPT time) and pruning; store_stats.c the statistics.
 * store_row.c copies query results into records that outlive their
 * statements.
 *
 * A kind of record fills a struct store_req (its insert function, the
 * caller's records) and calls store_submit(), which queues it and sleeps
 * until the writer has run the insert inside the request's own savepoint
 * and the batch's transaction has committed (or failed).
 *
 * Queries take the read lock and a read transaction with store_read_begin()
 * and give both back with store_read_end().
 */
#ifndef FM_STORE_INT_H
#define FM_STORE_INT_H

#include <pthread.h>
#include <sys/types.h>
#include <stddef.h>

#include <sqlite3.h>

#include "rules.h"
#include "store.h"

/* Writer statements of store.c: the transaction around each batch. */
enum {
	W_BEGIN, W_COMMIT, W_ROLLBACK, W_SAVEPOINT, W_ROLLBACK_TO, W_RELEASE,
	W_COUNT
};

/* Reader statements of store.c: the snapshot around each query. */
enum {
	R_BEGIN, R_ROLLBACK, R_COUNT
};

/* Writer and reader statements of store_send.c. */
enum {
	WS_SEND, WS_RCPT, WS_IDENT, WS_COUNT
};
enum {
	RS_SEND, RS_RCPTS, RS_IDENTS, RS_COUNT
};

/* Writer and reader statements of store_event.c. */
enum {
	WE_EVENT, WE_SIG, WE_COUNT
};
enum {
	RE_ALL, RE_ALL_ASC, RE_RCPT, RE_RCPT_ASC, RE_CODE, RE_CODE_ASC,
	RE_CLASS, RE_CLASS_ASC, RE_SINCE, RE_SINCE_ASC, RE_SIGS, RE_COUNT
};

/* Writer and reader statements of store_suppress.c. */
enum {
	WX_COUNT_RECENT, WX_RULE, WX_OPERATOR, WX_DELETE, WX_PRUNE_EVENTS,
	WX_PRUNE_SENDS, WX_PRUNE_EXPIRED, WX_COUNT
};
enum {
	RX_LOOKUP, RX_ACTIVE, RX_ALL, RX_COUNT
};

/* Reader statements of store_stats.c, one per fm_stats_by_t. */
enum {
	RT_TOTAL, RT_DAY, RT_DOMAIN, RT_CLASS, RT_REASON, RT_COUNT
};

extern const char *const store_send_wsql[WS_COUNT];
extern const char *const store_send_rsql[RS_COUNT];
extern const char *const store_event_wsql[WE_COUNT];
extern const char *const store_event_rsql[RE_COUNT];
extern const char *const store_suppress_wsql[WX_COUNT];
extern const char *const store_suppress_rsql[RX_COUNT];
extern const char *const store_stats_rsql[RT_COUNT];

struct store_req;

/*
 * store_insert_fn - insert a request's records on the writer connection,
 * inside the request's savepoint; set r->status, and r->err unless OK. The
 * writer rolls the savepoint back unless the status is FM_STORE_OK.
 */
typedef void store_insert_fn(fm_store_t *st, struct store_req *r);

/* One call of fm_store_add_send() or the like, on the caller's stack. */
struct store_req {
	store_insert_fn *insert;
	const char *what;		/* "cannot record send" and the like */
	const void *rec;		/* the caller's records, not copied */
	size_t nrec;			/* records counted by fm_store_stats */
	fm_store_status_t status;
	char *err;
	size_t errlen;
	int done;			/* set by the writer, under mu */
	pthread_cond_t cv;		/* the caller sleeps here */
	struct store_req *next;
};

struct fm_store {
	char *path;
	int rdonly;
	unsigned busy_ms;
	dev_t dev;			/* the file opened, to notice its */
	ino_t ino;			/* removal or replacement */

	/* writer side: wdb and its statements belong to the leader (leading) */
	sqlite3 *wdb;
	sqlite3_stmt *wst[W_COUNT];
	sqlite3_stmt *wsend[WS_COUNT];
	sqlite3_stmt *wevent[WE_COUNT];
	sqlite3_stmt *wsupp[WX_COUNT];
	char wmsg[512];			/* batch-wide error, writer only */

	pthread_mutex_t mu;		/* guards the fields below */
	int leading;			/* a caller is committing a batch */
	unsigned cache_kib;		/* wanted cache_size, under mu */
	unsigned cache_set;		/* in force; the leader's */
	pthread_cond_t idle;		/* pending is 0 while stopping */
	struct store_req *head;
	struct store_req **tailp;
	int stopping;
	size_t pending;			/* callers not yet returned */
	unsigned long commits;
	unsigned long records;
	int have_rules;			/* fm_store_set_rules() gave some */
	fm_rules_t rules;		/* the writer takes a copy per request */

	/* reader side: rdb and its statements are used under rmu */
	pthread_mutex_t rmu;
	sqlite3 *rdb;
	sqlite3_stmt *rst[R_COUNT];
	sqlite3_stmt *rsend[RS_COUNT];
	sqlite3_stmt *revent[RE_COUNT];
	sqlite3_stmt *rsupp[RX_COUNT];
	sqlite3_stmt *rstats[RT_COUNT];
};

/*
 * The columns of a send as store_send_fill() reads them; t prefixes each
 * ("s." in a join). A string literal, so a macro.
 */
#define STORE_SEND_COLS(t) \
	t "id, " t "code, " t "feedback_domain, " t "created, " t "sender, " \
	t "msgid, " t "queue_id, " t "client_addr, " t "sasl_user"

/* store.c */
void store_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void store_db_err(const fm_store_t *st, sqlite3 *db, int rc,
		  const char *what, char *err, size_t errlen);
int store_run(sqlite3_stmt *q);
int store_bind_text(sqlite3_stmt *q, int col, const char *s);
fm_store_status_t store_submit(fm_store_t *st, struct store_req *req);
int store_read_begin(fm_store_t *st);
void store_read_end(fm_store_t *st);

/* store_row.c */
char *store_col_copy(sqlite3_stmt *q, int col, char **pp);
size_t store_col_size(sqlite3_stmt *q, int col);
int store_measure(sqlite3_stmt *q, int ncols, size_t *rows, size_t *bytes);
int store_copy_rows(sqlite3_stmt *q, int ncols, size_t rows, char **ptrs,
		    char **pp);

/* store_suppress.c */
int store_suppress_rules(fm_store_t *st, fm_rules_t *rules);
int store_suppress_apply(fm_store_t *st, const fm_rules_t *rules,
			 const fm_event_t *ev, sqlite3_int64 event_id);

/* store_send.c */
int store_send_fill(fm_store_t *st, sqlite3_stmt *qs, int base,
		    fm_send_t *out);

#endif
