/*
 * test_store_ops - unit tests for the store's suppressions, follow-up
 * rules, pruning and statistics (schema version 3)
 *
 * Every test gets a fresh directory from mkdtemp() under /tmp and works on
 * real database files in it; the directory is removed afterwards. Time is
 * injected: every record carries a fixed time around T0, and lookups pass
 * their "now". Worker threads never call cmocka: they count failures that
 * the test thread checks after joining them.
 *
 * Build:
 *
 *	gcc -std=gnu11 -Wall -Wextra -Werror -Iinclude -o test_store_ops \
 *	    tests/unit/test_store_ops.c milter/store*.c milter/rules.c \
 *	    milter/config.c milter/codec.c -lcmocka -lsqlite3 -lcrypto \
 *	    -lpthread
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "rules.h"
#include "store.h"
#include "../../milter/store_int.h"	/* the statements, for the plans */

#define DAY 86400
#define T0 ((time_t) 1700006400)	/* 2023-11-15 00:00:00 UTC */
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
	snprintf(d->dir, sizeof(d->dir), "/tmp/test_store_ops.XXXXXX");
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

	nftw(d->dir, ts_rm, 8, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

/* ts_open - open a read-write store with the default rules */
static fm_store_t *ts_open(const char *path, int rules)
{
	char err[TS_ERR_SIZE] = "";
	fm_store_t *st = fm_store_open(path, 0, 10000, err, sizeof(err));
	fm_rules_t r;

	if (st == NULL)
		fail_msg("open %s: %s", path, err);
	if (rules) {
		fm_rules_defaults(&r);
		fm_store_set_rules(st, &r);
	}
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

/* ts_send - add a send with one recipient (rcpt may be NULL: none) */
static void ts_send(fm_store_t *st, const char *code, const char *sender,
		    time_t created, const char *rcpt)
{
	char err[TS_ERR_SIZE] = "";
	const char *rcpts[1] = {rcpt};
	fm_send_t s;

	memset(&s, 0, sizeof(s));
	s.code = code;
	s.feedback_domain = "feedback.example.nl";
	s.created = created;
	s.sender = sender;
	s.rcpts = rcpts;
	s.nrcpts = rcpt != NULL;
	if (fm_store_add_send(st, &s, err, sizeof(err)) != FM_STORE_OK)
		fail_msg("add send %s: %s", code, err);
}

/* ts_ev - an event of class cls for rcpt, back to code, at t */
static fm_event_t ts_ev(const char *code, const char *cls,
			const char *reason, const char *status,
			const char *rcpt, time_t t)
{
	fm_event_t e;

	memset(&e, 0, sizeof(e));
	e.code = code;
	/* a verified report about its send's recipient (the rules apply) */
	e.verified = 1;
	e.rcpt_of_send = 1;
	e.created = t;
	e.cls = cls;
	e.reason = reason;
	e.status = status;
	e.recipient = rcpt;
	return e;
}

/* ts_event - add one event or fail the test */
static void ts_event(fm_store_t *st, const char *code, const char *cls,
		     const char *reason, const char *status, const char *rcpt,
		     time_t t)
{
	char err[TS_ERR_SIZE] = "";
	fm_event_t e = ts_ev(code, cls, reason, status, rcpt, t);

	if (fm_store_add_events(st, &e, 1, err, sizeof(err)) != FM_STORE_OK)
		fail_msg("add %s event for %s: %s", cls, rcpt, err);
}

/* ts_supp - is address suppressed at now? copies the entry to *out */
static int ts_supp(fm_store_t *st, const char *address, time_t now,
		   fm_suppression_t *out, char *buf, size_t size)
{
	char err[TS_ERR_SIZE] = "";
	fm_suppression_t s;
	fm_store_status_t rc;
	void *mem = NULL;

	rc = fm_store_is_suppressed(st, address, now, &s, &mem, err,
				    sizeof(err));
	if (rc == FM_STORE_NOTFOUND)
		return 0;
	if (rc != FM_STORE_OK)
		fail_msg("is_suppressed %s: %s", address, err);
	if (out != NULL) {
		*out = s;
		snprintf(buf, size, "%s|%s|%s|%s", s.address,
			 s.reason ? s.reason : "-", s.cls ? s.cls : "-",
			 s.source);
		out->address = out->reason = out->cls = out->source = NULL;
	}
	fm_suppression_free(mem);
	return 1;
}


/* ts_count_sql - shorthand for a count on the test's database */
#define TS_N(d, sql) ts_sql_int((d)->db, sql)

/*
 * test_foreign_rcpt - a report about an address its send did not have, or
 * an unverified code's, is recorded but suppresses nothing: a recipient of
 * one message could otherwise suppress any address with its code
 */
static void test_foreign_rcpt(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	char err[TS_ERR_SIZE] = "";
	fm_event_t e;

	ts_send(st, "foreign00000000001", "info@example.nl", T0,
		"bob@remote.example");
	e = ts_ev("foreign00000000001", "hard", "userunknown", "5.1.1",
		  "victim@elsewhere.example", T0 + 60);
	e.rcpt_of_send = 0;
	assert_int_equal(fm_store_add_events(st, &e, 1, err, sizeof(err)),
			 FM_STORE_OK);
	e = ts_ev("foreign00000000001", "complaint", "abuse", NULL,
		  "bob@remote.example", T0 + 70);
	e.verified = 0;		/* BadCodeAction accept */
	assert_int_equal(fm_store_add_events(st, &e, 1, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events"), 2);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 0);
	assert_int_equal(ts_supp(st, "victim@elsewhere.example", T0 + DAY,
				 NULL, NULL, 0), 0);
	assert_int_equal(ts_supp(st, "bob@remote.example", T0 + DAY, NULL,
				 NULL, 0), 0);
	/* the unverified event is not linked to the send either */
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events WHERE verified = 0"
			      " AND send_id IS NULL"), 1);
	/* unverified soft events do not count towards a threshold */
	for (int k = 0; k < 3; k++) {
		e = ts_ev(NULL, "soft", "mailboxfull", "4.2.2",
			  "bob@remote.example", T0 + 10 + k);
		e.verified = 0;
		assert_int_equal(fm_store_add_events(st, &e, 1, err,
						     sizeof(err)), FM_STORE_OK);
	}
	ts_event(st, "foreign00000000001", "soft", "mailboxfull", "4.2.2",
		 "bob@remote.example", T0 + 20);
	assert_int_equal(ts_supp(st, "bob@remote.example", T0 + DAY, NULL,
				 NULL, 0), 0);
	/* the same report about the send's own recipient suppresses */
	ts_event(st, "foreign00000000001", "hard", "userunknown", "5.1.1",
		 "bob@remote.example", T0 + 80);
	assert_int_equal(ts_supp(st, "bob@remote.example", T0 + DAY, NULL,
				 NULL, 0), 1);
	fm_store_close(st);
}

/* test_hard_now - a hard bounce suppresses at once, for good */
static void test_hard_now(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t s;
	char buf[256];

	ts_send(st, "hardnow00000000001", "info@example.nl", T0,
		"Bob@Remote.Example");
	assert_int_equal(ts_supp(st, "bob@remote.example", T0, NULL, NULL, 0),
			 0);
	ts_event(st, "hardnow00000000001", "hard", "userunknown", "5.1.1",
		 "Bob@Remote.Example", T0 + 60);
	assert_int_equal(ts_supp(st, "BOB@remote.example", T0 + 100 * DAY,
				 &s, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "bob@remote.example|hard userunknown 5.1.1"
			    "|hard|rule");
	assert_int_equal(s.expires, 0);
	assert_int_equal(s.created, T0 + 60);
	assert_int_equal(s.event_id, TS_N(d, "SELECT max(id) FROM events"));
	/* a delayed or an auto-reply never suppresses */
	ts_event(st, NULL, "delayed", NULL, "4.4.7", "carol@remote.example",
		 T0);
	ts_event(st, NULL, "autoreply", "vacation", NULL,
		 "carol@remote.example", T0);
	ts_event(st, NULL, "hard", "userunknown", NULL, NULL, T0);
	assert_int_equal(ts_supp(st, "carol@remote.example", T0, NULL, NULL,
				 0), 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 1);
	fm_store_close(st);
}

/* test_complaint_now - a complaint suppresses at once; reason parts */
static void test_complaint_now(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t s;
	char buf[256];

	ts_event(st, NULL, "complaint", "feedback", NULL, "dan@remote.example",
		 T0);
	assert_int_equal(ts_supp(st, "dan@remote.example", T0, &s, buf,
				 sizeof(buf)), 1);
	assert_string_equal(buf, "dan@remote.example|complaint feedback|"
			    "complaint|rule");
	assert_int_equal(s.expires, 0);
	fm_store_close(st);
}

/* test_no_rules - without fm_store_set_rules (or with NULL) none made */
static void test_no_rules(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 0);
	fm_rules_t r;

	ts_event(st, NULL, "hard", "userunknown", "5.1.1", "a@remote.example",
		 T0);
	fm_rules_defaults(&r);
	fm_store_set_rules(st, &r);
	fm_store_set_rules(st, NULL);
	ts_event(st, NULL, "hard", "userunknown", "5.1.1", "a@remote.example",
		 T0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 0);
	fm_store_set_rules(st, &r);
	ts_event(st, NULL, "hard", "userunknown", "5.1.1", "a@remote.example",
		 T0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 1);
	fm_store_close(st);
}

/*
 * test_soft_threshold - soft suppresses at the 3rd distinct message within
 * 7 days: two events of one send count once, events outside the window
 * do not count, events without a send count one each
 */
static void test_soft_threshold(void **state)
{
	static const struct {
		const char *label, *code;
		time_t t;
		int want;
	} steps[] = {
		{"1st message", "softaaaaaaaaaaaaa1", T0, 0},
		{"same message again", "softaaaaaaaaaaaaa1", T0 + 10, 0},
		{"2nd message", "softaaaaaaaaaaaaa2", T0 + DAY, 0},
		{"3rd, 1st out of window", "softaaaaaaaaaaaaa3",
		 T0 + 7 * DAY + 11, 0},
		{"4th: 3 within 7 days", "softaaaaaaaaaaaaa4", T0 + 8 * DAY, 1},
	};
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t s;
	char buf[256];
	size_t i;

	for (i = 1; i <= 4; i++) {
		snprintf(buf, sizeof(buf), "softaaaaaaaaaaaaa%zu", i);
		ts_send(st, buf, "info@example.nl", T0, "eve@remote.example");
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		print_message("%s\n", steps[i].label);
		ts_event(st, steps[i].code, "soft", "mailboxfull", "4.2.2",
			 "Eve@remote.example", steps[i].t);
		assert_int_equal(ts_supp(st, "eve@remote.example", steps[i].t,
					 &s, buf, sizeof(buf)),
				 steps[i].want);
	}
	assert_int_equal(s.expires, T0 + 8 * DAY + 30 * DAY);
	assert_string_equal(buf, "eve@remote.example|soft mailboxfull 4.2.2|"
			    "soft|rule");
	/* events of another class or recipient do not count */
	ts_event(st, "softaaaaaaaaaaaaa1", "hard", NULL, NULL,
		 "fay@remote.example", T0 + 1);
	ts_event(st, NULL, "soft", NULL, NULL, "gus@remote.example", T0);
	ts_event(st, NULL, "soft", NULL, NULL, "gus@remote.example", T0 + 1);
	assert_int_equal(ts_supp(st, "gus@remote.example", T0, NULL, NULL, 0),
			 0);
	ts_event(st, NULL, "soft", NULL, NULL, "GUS@remote.example", T0 + 2);
	assert_int_equal(ts_supp(st, "gus@remote.example", T0, NULL, NULL, 0),
			 1);
	fm_store_close(st);
}

/* test_expiry - is_suppressed and the list honour the expiry time */
static void test_expiry(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	time_t exp = T0 + 2 * DAY + 30 * DAY;
	int i;

	for (i = 0; i < 3; i++)
		ts_event(st, NULL, "soft", "mailboxfull", NULL,
			 "hal@remote.example", T0 + i * DAY);
	assert_int_equal(ts_supp(st, "hal@remote.example", exp - 1, NULL, NULL,
				 0), 1);
	assert_int_equal(ts_supp(st, "hal@remote.example", exp, NULL, NULL,
				 0), 0);
	assert_int_equal(ts_supp(st, "hal@remote.example", exp + DAY, NULL,
				 NULL, 0), 0);
	fm_store_close(st);
}

/*
 * test_no_overwrite - a rule never replaces an operator's entry, nor one
 * that lasts longer; a longer one replaces a shorter one
 */
static void test_no_overwrite(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t op, s;
	char err[TS_ERR_SIZE], buf[256];
	int i;

	memset(&op, 0, sizeof(op));
	op.address = "Ivy@Remote.Example";
	op.reason = "asked to be removed";
	op.event_id = 42;	/* ignored */
	op.created = T0;
	assert_int_equal(fm_store_suppress(st, &op, err, sizeof(err)),
			 FM_STORE_OK);
	ts_event(st, NULL, "hard", "userunknown", "5.1.1", "ivy@remote.example",
		 T0 + 1);
	assert_int_equal(ts_supp(st, "ivy@remote.example", T0, &s, buf,
				 sizeof(buf)), 1);
	assert_string_equal(buf, "ivy@remote.example|asked to be removed|-|"
			    "operator");
	assert_int_equal(s.event_id, 0);
	assert_int_equal(s.expires, 0);
	/* soft (30 days) then an older soft event: not shortened */
	for (i = 0; i < 3; i++)
		ts_event(st, NULL, "soft", "mailboxfull", NULL,
			 "jo@remote.example", T0 + 10 * DAY + i);
	ts_event(st, NULL, "soft", "mailboxfull", "4.2.2", "jo@remote.example",
		 T0 + 9 * DAY);
	assert_int_equal(ts_supp(st, "jo@remote.example", T0, &s, buf,
				 sizeof(buf)), 1);
	assert_int_equal(s.expires, T0 + 40 * DAY + 2);
	assert_string_equal(buf, "jo@remote.example|soft mailboxfull|soft|"
			    "rule");
	/* a hard one lasts for good: it replaces the soft one */
	ts_event(st, NULL, "hard", "hostunknown", "5.1.2", "jo@remote.example",
		 T0 + 11 * DAY);
	assert_int_equal(ts_supp(st, "jo@remote.example", T0, &s, buf,
				 sizeof(buf)), 1);
	assert_int_equal(s.expires, 0);
	assert_string_equal(buf, "jo@remote.example|hard hostunknown 5.1.2|"
			    "hard|rule");
	/* and a later soft threshold does not shorten it */
	ts_event(st, NULL, "soft", "mailboxfull", NULL, "jo@remote.example",
		 T0 + 12 * DAY);
	assert_int_equal(ts_supp(st, "jo@remote.example", T0, &s, buf,
				 sizeof(buf)), 1);
	assert_int_equal(s.expires, 0);
	assert_string_equal(buf, "jo@remote.example|hard hostunknown 5.1.2|"
			    "hard|rule");
	/* an operator's entry replaces a rule's */
	op.address = "jo@remote.example";
	op.expires = T0 + DAY;
	op.cls = "hard";
	assert_int_equal(fm_store_suppress(st, &op, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(ts_supp(st, "jo@remote.example", T0, &s, buf,
				 sizeof(buf)), 1);
	assert_string_equal(buf, "jo@remote.example|asked to be removed|hard|"
			    "operator");
	assert_int_equal(s.event_id, 0);
	assert_int_equal(s.expires, T0 + DAY);
	fm_store_close(st);
}

/* test_unsuppress - lift an entry (any case, any source); then none */
static void test_unsuppress(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t op = {.address = "kim@remote.example"};
	char err[TS_ERR_SIZE];

	assert_int_equal(fm_store_suppress(st, &op, err, sizeof(err)),
			 FM_STORE_OK);
	ts_event(st, NULL, "hard", NULL, NULL, "lee@remote.example", T0);
	assert_int_equal(fm_store_unsuppress(st, "KIM@remote.example", err,
					     sizeof(err)), FM_STORE_OK);
	assert_int_equal(fm_store_unsuppress(st, "lee@REMOTE.example", err,
					     sizeof(err)), FM_STORE_OK);
	assert_int_equal(fm_store_unsuppress(st, "kim@remote.example", err,
					     sizeof(err)), FM_STORE_NOTFOUND);
	assert_non_null(strstr(err, "not suppressed"));
	assert_int_equal(ts_supp(st, "kim@remote.example", T0, NULL, NULL, 0),
			 0);
	assert_int_equal(ts_supp(st, "lee@remote.example", T0, NULL, NULL, 0),
			 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 0);
	fm_store_close(st);
}

struct ts_list {
	char got[1024];
	int stop_after;		/* 0: never stop */
	int n;
};

/* ts_list_cb - append "address:source" to the list */
static int ts_list_cb(const fm_suppression_t *s, void *arg)
{
	struct ts_list *l = arg;
	size_t len = strlen(l->got);

	snprintf(l->got + len, sizeof(l->got) - len, "%s%s:%s",
		 len ? " " : "", s->address, s->source);
	return ++l->n == l->stop_after;
}

/* test_list - active ones by address; with expired ones; stopping */
static void test_list(void **state)
{
	static const struct {
		const char *address;
		time_t expires;
	} ops[] = {
		{"zed@remote.example", 0},
		{"Amy@remote.example", T0 + DAY},
		{"mia@remote.example", T0 - 1},
		{"bo@remote.example", T0 + 1},
	};
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t op;
	struct ts_list l;
	char err[TS_ERR_SIZE];
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		memset(&op, 0, sizeof(op));
		op.address = ops[i].address;
		op.expires = ops[i].expires;
		assert_int_equal(fm_store_suppress(st, &op, err, sizeof(err)),
				 FM_STORE_OK);
	}
	ts_event(st, NULL, "complaint", "feedback", NULL, "Cy@remote.example",
		 T0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(fm_store_each_suppression(st, T0, 0, ts_list_cb, &l,
						   err, sizeof(err)), 4);
	assert_string_equal(l.got, "amy@remote.example:operator "
			    "bo@remote.example:operator "
			    "cy@remote.example:rule "
			    "zed@remote.example:operator");
	memset(&l, 0, sizeof(l));
	assert_int_equal(fm_store_each_suppression(st, T0 + 1, 1, ts_list_cb,
						   &l, err, sizeof(err)), 5);
	assert_non_null(strstr(l.got, "mia@remote.example"));
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(fm_store_each_suppression(st, T0 + 1, 0, ts_list_cb,
						   &l, err, sizeof(err)), 2);
	assert_string_equal(l.got, "amy@remote.example:operator "
			    "cy@remote.example:rule");
	assert_int_equal(fm_store_each_suppression(st, T0, 0, NULL, NULL, err,
						   sizeof(err)), -1);
	fm_store_close(st);
}

/*
 * test_prune - old sends and events go (with their recipients and
 * signatures), new ones and active suppressions stay (their event_id
 * becomes NULL), expired suppressions go; a big prune runs in rounds
 */
static void test_prune(void **state)
{
	static const fm_event_sig_t sig = {"remote.example", "s1", "pass"};
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t op = {.address = "old@remote.example",
			       .expires = T0 + 5};
	unsigned long c0, c1;
	char err[TS_ERR_SIZE];
	fm_event_t e;

	ts_send(st, "pruneold0000000001", "info@example.nl", T0 - 10 * DAY,
		"nan@remote.example");
	ts_send(st, "prunenew0000000001", "info@example.nl", T0 + DAY,
		"nan@remote.example");
	e = ts_ev("pruneold0000000001", "hard", "userunknown", "5.1.1",
		  "nan@remote.example", T0 - 9 * DAY);
	e.sigs = &sig;
	e.nsigs = 1;
	assert_int_equal(fm_store_add_events(st, &e, 1, err, sizeof(err)),
			 FM_STORE_OK);
	/* a new event of the old send: stays, loses its send */
	ts_event(st, "pruneold0000000001", "delayed", NULL, NULL,
		 "nan@remote.example", T0 + DAY);
	ts_event(st, "prunenew0000000001", "soft", NULL, NULL,
		 "nan@remote.example", T0 + DAY);
	assert_int_equal(fm_store_suppress(st, &op, err, sizeof(err)),
			 FM_STORE_OK);
	/* many old events, straight into the file: several rounds */
	ts_sql_exec(d->db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
		    " SELECT i + 1 FROM n WHERE i < 25000)"
		    " INSERT INTO events (verified, created, class, recipient)"
		    " SELECT 0, 1600000000 + i, 'soft', 'x' || i ||"
		    " '@bulk.example' FROM n");
	fm_store_stats(st, &c0, NULL);
	assert_int_equal(fm_store_prune(st, T0, T0 + 10, err, sizeof(err)),
			 25000 + 1 + 1 + 1);
	fm_store_stats(st, &c1, NULL);
	assert_true(c1 - c0 >= 3);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM sends"), 1);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM send_rcpts"), 1);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events"), 2);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM event_sigs"), 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events"
			      " WHERE send_id IS NULL"), 1);
	assert_int_equal(ts_supp(st, "nan@remote.example", T0 + 20, NULL, NULL,
				 0), 1);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions WHERE"
			      " address = 'nan@remote.example' AND"
			      " event_id IS NULL AND class = 'hard'"), 1);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 1);
	assert_int_equal(fm_store_prune(st, T0, T0 + 10, err, sizeof(err)), 0);
	fm_store_close(st);
}

/* ts_stats_data - a known data set of sends and events around T0 */
static void ts_stats_data(fm_store_t *st)
{
	static const struct {
		const char *code, *sender;
		time_t t;
	} sends[] = {
		{"stats0000000000001", "info@example.nl", T0 + 10},
		{"stats0000000000002", "news@Example.NL", T0 + 20},
		{"stats0000000000003", "info@example.org", T0 + DAY + 5},
		{"stats0000000000004", "info@example.nl", T0 - 100},
		{"stats0000000000005", NULL, T0 + 30},
	};
	static const struct {
		const char *code, *cls, *reason;
		time_t t;
	} evs[] = {
		{"stats0000000000001", "hard", "userunknown", T0 + 100},
		{"stats0000000000001", "soft", "mailboxfull", T0 + DAY + 100},
		{"stats0000000000002", "complaint", "feedback", T0 + 200},
		{"stats0000000000003", "soft", "mailboxfull", T0 + DAY + 200},
		{"stats0000000000004", "hard", "userunknown", T0 + 300},
		{NULL, "autoreply", "vacation", T0 + 400},
		{"stats0000000000003", "delayed", NULL, T0 + DAY + 300},
		{"stats0000000000001", "hard", "userunknown", T0 - 50},
	};
	size_t i;

	for (i = 0; i < sizeof(sends) / sizeof(sends[0]); i++)
		ts_send(st, sends[i].code, sends[i].sender, sends[i].t,
			"x@remote.example");
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		ts_event(st, evs[i].code, evs[i].cls, evs[i].reason, NULL,
			 "x@remote.example", evs[i].t);
}

/* "group sends unknown hard soft delayed autoreply complaint delivered
 * other bounced complained", one row each, ";" between */
struct ts_stats {
	char got[1024];
};

/* ts_stats_cb - append one row as text */
static int ts_stats_cb(const fm_stats_row_t *r, void *arg)
{
	struct ts_stats *s = arg;
	size_t len = strlen(s->got);
	int i;

	len += (size_t) snprintf(s->got + len, sizeof(s->got) - len,
				 "%s%s %lld", len ? ";" : "", r->group,
				 r->sends);
	for (i = 0; i < 8; i++)
		len += (size_t) snprintf(s->got + len, sizeof(s->got) - len,
					 " %lld", r->events[i]);
	snprintf(s->got + len, sizeof(s->got) - len, " %lld %lld",
		 r->bounced, r->complained);
	return 0;
}

/* test_stats - each grouping on the known data set */
static void test_stats(void **state)
{
	static const struct {
		const char *label, *domain;
		fm_stats_by_t by;
		const char *want;
	} cases[] = {
		{"total", NULL, FM_STATS_TOTAL,
		 "total 4 0 2 2 1 1 1 0 0 3 1"},
		{"total of a domain", "example.nl", FM_STATS_TOTAL,
		 "total 2 0 2 1 0 0 1 0 0 2 1"},
		{"domain any case, with @", "@EXAMPLE.nl", FM_STATS_TOTAL,
		 "total 2 0 2 1 0 0 1 0 0 2 1"},
		{"day", NULL, FM_STATS_DAY,
		 "2023-11-15 3 0 2 0 0 1 1 0 0 2 1;"
		 "2023-11-16 1 0 0 2 1 0 0 0 0 2 0"},
		{"domain", NULL, FM_STATS_DOMAIN,
		 "(none) 1 0 0 0 0 1 0 0 0 0 0;"
		 "example.nl 2 0 2 1 0 0 1 0 0 2 1;"
		 "example.org 1 0 0 1 1 0 0 0 0 1 0"},
		{"class", NULL, FM_STATS_CLASS,
		 "autoreply 4 0 0 0 0 1 0 0 0 0 0;"
		 "complaint 4 0 0 0 0 0 1 0 0 0 1;"
		 "delayed 4 0 0 0 1 0 0 0 0 0 0;"
		 "hard 4 0 2 0 0 0 0 0 0 2 0;"
		 "soft 4 0 0 2 0 0 0 0 0 2 0"},
		{"class of a domain", "example.nl", FM_STATS_CLASS,
		 "complaint 2 0 0 0 0 0 1 0 0 0 1;"
		 "hard 2 0 2 0 0 0 0 0 0 2 0;"
		 "soft 2 0 0 1 0 0 0 0 0 1 0"},
		{"reason", NULL, FM_STATS_REASON,
		 "(none) 4 0 0 0 1 0 0 0 0 0 0;"
		 "feedback 4 0 0 0 0 0 1 0 0 0 1;"
		 "mailboxfull 4 0 0 2 0 0 0 0 0 2 0;"
		 "userunknown 4 0 2 0 0 0 0 0 0 2 0;"
		 "vacation 4 0 0 0 0 1 0 0 0 0 0"},
		{"day, nothing since", NULL, FM_STATS_DAY, ""},
		{"total, nothing since", NULL, FM_STATS_TOTAL,
		 "total 0 0 0 0 0 0 0 0 0 0 0"},
	};
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 0);
	struct ts_stats s;
	char err[TS_ERR_SIZE];
	size_t i;
	time_t since;

	ts_stats_data(st);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].label);
		memset(&s, 0, sizeof(s));
		since = strstr(cases[i].label, "nothing") ? T0 + 9 * DAY : T0;
		assert_true(fm_store_stats_query(st, since, cases[i].domain,
						 cases[i].by, ts_stats_cb, &s,
						 err, sizeof(err)) >= 0);
		assert_string_equal(s.got, cases[i].want);
	}
	assert_int_equal(fm_store_stats_query(st, T0, NULL, (fm_stats_by_t) 9,
					      ts_stats_cb, &s, err,
					      sizeof(err)), -1);
	fm_store_close(st);
}

/*
 * test_migrate_v2 - a version 2 database with data becomes the current
 * version: its events say whether they are about their send's recipient,
 * and only those count towards a threshold
 */
static void test_migrate_v2(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 0);
	fm_event_t e;
	char err[TS_ERR_SIZE] = "";

	ts_send(st, "migrate00000000001", "info@example.nl", T0,
		"oz@remote.example");
	ts_send(st, "migrate00000000002", "info@example.nl", T0,
		"dot@remote.example");
	ts_event(st, "migrate00000000001", "soft", NULL, NULL,
		 "OZ@remote.example", T0);
	ts_event(st, NULL, "soft", NULL, NULL, "oz@remote.example", T0 + 1);
	/* a report about an address its send did not have */
	e = ts_ev("migrate00000000002", "soft", NULL, NULL,
		  "oz@remote.example", T0 + 2);
	e.rcpt_of_send = 0;
	assert_int_equal(fm_store_add_events(st, &e, 1, err, sizeof(err)),
			 FM_STORE_OK);
	fm_store_close(st);
	/* what version 2 had: no suppressions, no threshold index, no of_send */
	ts_sql_exec(d->db, "DROP TABLE suppressions;"
		    "DROP INDEX events_threshold;"
		    "ALTER TABLE events DROP COLUMN of_send;"
		    "PRAGMA user_version=2");
	assert_int_equal(TS_N(d, "SELECT count(*) FROM sqlite_master WHERE"
			      " name LIKE 'suppressions%'"), 0);
	st = ts_open(d->db, 1);
	assert_int_equal(TS_N(d, "PRAGMA user_version"), 4);
	assert_int_equal(fm_store_schema_version(), 4);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM sqlite_master WHERE"
			      " name IN ('suppressions', 'suppressions_event_id',"
			      " 'suppressions_expires', 'events_threshold')"), 4);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM sqlite_master WHERE"
			      " name = 'events_rcpt_class_created'"), 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events"), 3);
	/* only the linked event about its send's recipient is of_send */
	assert_int_equal(TS_N(d, "SELECT group_concat(of_send, '') FROM"
			      " (SELECT of_send FROM events ORDER BY id)"),
			 100);
	/* it counts towards the threshold; the other two do not */
	ts_event(st, NULL, "soft", NULL, NULL, "oz@remote.example", T0 + 3);
	assert_int_equal(ts_supp(st, "oz@remote.example", T0, NULL, NULL, 0),
			 0);
	ts_event(st, NULL, "soft", NULL, NULL, "oz@remote.example", T0 + 4);
	assert_int_equal(ts_supp(st, "oz@remote.example", T0, NULL, NULL, 0),
			 1);
	fm_store_close(st);
}

/*
 * test_foreign_threshold - reports naming an address their send did not
 * have never add up to a suppression, however many sends they come from;
 * they do not help the address's own reports reach the threshold either
 */
static void test_foreign_threshold(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	char err[TS_ERR_SIZE] = "", code[32];
	fm_event_t e;
	int k;

	for (k = 0; k < 5; k++) {
		snprintf(code, sizeof(code), "foreignthresh0000%d", k);
		ts_send(st, code, "info@example.nl", T0,
			"mallory@remote.example");
		e = ts_ev(code, "soft", "mailboxfull", "4.2.2",
			  "victim@elsewhere.example", T0 + k);
		e.rcpt_of_send = 0;
		assert_int_equal(fm_store_add_events(st, &e, 1, err,
						     sizeof(err)),
				 FM_STORE_OK);
	}
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events WHERE"
			      " of_send = 0 AND send_id IS NOT NULL"), 5);
	ts_send(st, "foreignthresh00009", "info@example.nl", T0,
		"victim@elsewhere.example");
	ts_event(st, "foreignthresh00009", "soft", "mailboxfull", "4.2.2",
		 "victim@elsewhere.example", T0 + 10);
	assert_int_equal(ts_supp(st, "victim@elsewhere.example", T0 + DAY,
				 NULL, NULL, 0), 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 0);
	fm_store_close(st);
}

/*
 * test_atomic - when an event of a request fails, or the suppression it
 * makes does, none of the request's events or suppressions stay
 */
static void test_atomic(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	char err[TS_ERR_SIZE] = "";
	fm_event_t ev[3];

	ev[0] = ts_ev(NULL, "hard", "userunknown", NULL, "pat@remote.example",
		      T0);
	ev[1] = ts_ev(NULL, "complaint", NULL, NULL, "quin@remote.example",
		      T0);
	ev[2] = ts_ev(NULL, NULL, NULL, NULL, "rae@remote.example", T0);
	assert_int_equal(fm_store_add_events(st, ev, 3, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_non_null(strstr(err, "event 3 of 3"));
	/* the suppression fails: a trigger refuses one address */
	ts_sql_exec(d->db, "CREATE TRIGGER refuse BEFORE INSERT ON"
		    " suppressions WHEN new.address = 'rae@remote.example'"
		    " BEGIN SELECT RAISE(ABORT, 'refused'); END");
	ev[2] = ts_ev(NULL, "hard", NULL, NULL, "Rae@remote.example", T0);
	err[0] = 0;
	assert_int_equal(fm_store_add_events(st, ev, 3, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(TS_N(d, "SELECT count(*) FROM events"), 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 0);
	assert_int_equal(ts_supp(st, "pat@remote.example", T0, NULL, NULL, 0),
			 0);
	/* the store goes on */
	assert_int_equal(fm_store_add_events(st, ev, 2, err, sizeof(err)),
			 FM_STORE_OK);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"), 2);
	fm_store_close(st);
}

#define TS_THREADS 6
#define TS_ROUNDS 40

struct ts_worker {
	fm_store_t *st;
	int id;
	int reader;		/* only look up */
	int *stop;		/* read and written atomically */
	int failed;
	long lookups;
	pthread_t tid;
};

/* ts_worker_main - add an event, then it must be suppressed; look up */
static void *ts_worker_main(void *arg)
{
	struct ts_worker *w = arg;
	char err[TS_ERR_SIZE], rcpt[64];
	fm_suppression_t s;
	fm_event_t e;
	void *mem;
	int i;

	for (i = 0; !w->reader && i < TS_ROUNDS; i++) {
		snprintf(rcpt, sizeof(rcpt), "w%d.%d@remote.example", w->id,
			 i);
		e = ts_ev(NULL, i % 2 ? "hard" : "complaint", "x", NULL, rcpt,
			  T0);
		if (fm_store_add_events(w->st, &e, 1, err, sizeof(err)) !=
		    FM_STORE_OK ||
		    fm_store_is_suppressed(w->st, rcpt, T0, &s, &mem, err,
					   sizeof(err)) != FM_STORE_OK)
			w->failed++;
		else if (strcmp(s.address, rcpt) != 0)
			w->failed++;
		fm_suppression_free(mem);
	}
	while (w->reader && !__atomic_load_n(w->stop, __ATOMIC_SEQ_CST)) {
		snprintf(rcpt, sizeof(rcpt), "w0.%ld@remote.example",
			 w->lookups % TS_ROUNDS);
		if (fm_store_is_suppressed(w->st, rcpt, T0, NULL, NULL, err,
					   sizeof(err)) == FM_STORE_ERR ||
		    fm_store_is_suppressed(w->st, "never@remote.example", T0,
					   NULL, NULL, err, sizeof(err)) !=
		    FM_STORE_NOTFOUND)
			w->failed++;
		w->lookups++;
	}
	return NULL;
}

/* test_concurrent - threads add events while others look up */
static void test_concurrent(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	struct ts_worker w[TS_THREADS];
	int stop = 0;
	int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < TS_THREADS; i++) {
		w[i].st = st;
		w[i].id = i;
		w[i].reader = i >= TS_THREADS - 2;
		w[i].stop = &stop;
		assert_int_equal(pthread_create(&w[i].tid, NULL,
						ts_worker_main, &w[i]), 0);
	}
	for (i = 0; i < TS_THREADS - 2; i++)
		pthread_join(w[i].tid, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	for (i = TS_THREADS - 2; i < TS_THREADS; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < TS_THREADS; i++)
		assert_int_equal(w[i].failed, 0);
	assert_true(w[TS_THREADS - 1].lookups > 0);
	assert_int_equal(TS_N(d, "SELECT count(*) FROM suppressions"),
			 (TS_THREADS - 2) * TS_ROUNDS);
	fm_store_close(st);
}

/* ts_plan - the query plan of sql, one line per step, "|" between */
static void ts_plan(sqlite3 *db, const char *sql, char *out, size_t size)
{
	char buf[8192];
	sqlite3_stmt *q = NULL;
	size_t len = 0;

	snprintf(buf, sizeof(buf), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, buf, -1, &q, NULL), SQLITE_OK);
	out[0] = 0;
	while (sqlite3_step(q) == SQLITE_ROW && len < size)
		len += (size_t) snprintf(out + len, size - len, "|%s",
					 sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
}

/* ts_no_scan - no step of the plan walks a table without an index */
static void ts_no_scan(const char *plan)
{
	const char *p, *end, *using;

	for (p = strstr(plan, "|SCAN "); p; p = strstr(p + 1, "|SCAN ")) {
		end = strchr(p + 1, '|');
		using = strstr(p, " USING ");
		if (strncmp(p, "|SCAN (subquery", 15) != 0 &&
		    (using == NULL || (end != NULL && using > end)))
			fail_msg("table scan in %s", plan);
	}
}

/*
 * test_plans - the lookup at RCPT time, the threshold count, statistics
 * and pruning are driven by indexes
 */
static void test_plans(void **state)
{
	static const struct {
		const char *label;
		const char *const *sql;
		int stmt;
		const char *want[2];
	} cases[] = {
		{"is_suppressed", store_suppress_rsql, RX_LOOKUP,
		 {"SEARCH suppressions USING INDEX "
		  "sqlite_autoindex_suppressions_1 (address=?)", NULL}},
		{"threshold count", store_suppress_wsql, WX_COUNT_RECENT,
		 {"INDEX events_threshold"
		  " (recipient=? AND class=? AND created>?)", NULL}},
		{"list", store_suppress_rsql, RX_ACTIVE,
		 {"sqlite_autoindex_suppressions_1", NULL}},
		{"unsuppress", store_suppress_wsql, WX_DELETE,
		 {"sqlite_autoindex_suppressions_1 (address=?)", NULL}},
		{"prune events", store_suppress_wsql, WX_PRUNE_EVENTS,
		 {"INDEX events_created (created<?)", NULL}},
		{"prune sends", store_suppress_wsql, WX_PRUNE_SENDS,
		 {"INDEX sends_created (created<?)", NULL}},
		{"prune expired", store_suppress_wsql, WX_PRUNE_EXPIRED,
		 {"INDEX suppressions_expires (expires<?)", NULL}},
		{"stats total", store_stats_rsql, RT_TOTAL,
		 {"INDEX sends_created (created>?)",
		  "INDEX events_created (created>?)"}},
		{"stats day", store_stats_rsql, RT_DAY,
		 {"INDEX sends_created (created>?)",
		  "INDEX events_created (created>?)"}},
		{"stats domain", store_stats_rsql, RT_DOMAIN,
		 {"INDEX sends_created (created>?)",
		  "INDEX events_created (created>?)"}},
		{"stats class", store_stats_rsql, RT_CLASS,
		 {"INDEX sends_created (created>?)",
		  "INDEX events_created (created>?)"}},
		{"stats reason", store_stats_rsql, RT_REASON,
		 {"INDEX sends_created (created>?)",
		  "INDEX events_created (created>?)"}},
	};
	struct ts_dir *d = *state;
	char plan[4096];
	sqlite3 *db = NULL;
	size_t i, k;

	fm_store_close(ts_open(d->db, 0));
	assert_int_equal(sqlite3_open(d->db, &db), SQLITE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ts_plan(db, cases[i].sql[cases[i].stmt], plan, sizeof(plan));
		print_message("%s: %s\n", cases[i].label, plan);
		for (k = 0; k < 2 && cases[i].want[k]; k++)
			assert_non_null(strstr(plan, cases[i].want[k]));
		ts_no_scan(plan);
	}
	/* deleting an event finds its suppression through an index */
	ts_plan(db, "DELETE FROM events WHERE id = 1", plan, sizeof(plan));
	ts_plan(db, "SELECT 1 FROM suppressions WHERE event_id = 1", plan,
		sizeof(plan));
	assert_non_null(strstr(plan, "suppressions_event_id"));
	sqlite3_close(db);
}

/* test_rdonly - a read-only store looks up and lists, cannot write */
static void test_rdonly(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1), *ro;
	fm_suppression_t op = {.address = "sam@remote.example"};
	char err[TS_ERR_SIZE];
	struct ts_list l;

	ts_event(st, NULL, "hard", NULL, NULL, "sam@remote.example", T0);
	ro = fm_store_open(d->db, FM_STORE_RDONLY, 1000, err, sizeof(err));
	assert_non_null(ro);
	assert_int_equal(ts_supp(ro, "sam@remote.example", T0, NULL, NULL, 0),
			 1);
	memset(&l, 0, sizeof(l));
	assert_int_equal(fm_store_each_suppression(ro, T0, 0, ts_list_cb, &l,
						   err, sizeof(err)), 1);
	assert_int_equal(fm_store_suppress(ro, &op, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_int_equal(fm_store_unsuppress(ro, op.address, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_int_equal(fm_store_prune(ro, T0, T0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "read-only"));
	fm_store_close(ro);
	fm_store_close(st);
}

/* test_bad_arguments - missing arguments are refused with a message */
static void test_bad_arguments(void **state)
{
	struct ts_dir *d = *state;
	fm_store_t *st = ts_open(d->db, 1);
	fm_suppression_t s, empty = {.address = ""};
	char err[TS_ERR_SIZE];
	void *mem = &s;

	assert_int_equal(fm_store_is_suppressed(st, NULL, T0, NULL, NULL, err,
						sizeof(err)), FM_STORE_ERR);
	assert_int_equal(fm_store_is_suppressed(st, "a@b", T0, &s, NULL, err,
						sizeof(err)), FM_STORE_ERR);
	assert_int_equal(fm_store_is_suppressed(st, "a@b", T0, &s, &mem, err,
						sizeof(err)),
			 FM_STORE_NOTFOUND);
	assert_null(mem);
	assert_int_equal(fm_store_suppress(st, NULL, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_int_equal(fm_store_suppress(st, &empty, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_int_equal(fm_store_unsuppress(st, NULL, err, sizeof(err)),
			 FM_STORE_ERR);
	assert_int_equal(fm_store_stats_query(st, 0, NULL, FM_STATS_TOTAL,
					      NULL, NULL, err, sizeof(err)),
			 -1);
	fm_suppression_free(NULL);
	fm_store_close(st);
}

#define TS_TEST(f) cmocka_unit_test_setup_teardown(f, ts_setup, ts_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TS_TEST(test_hard_now),
		TS_TEST(test_foreign_rcpt),
		TS_TEST(test_foreign_threshold),
		TS_TEST(test_complaint_now),
		TS_TEST(test_no_rules),
		TS_TEST(test_soft_threshold),
		TS_TEST(test_expiry),
		TS_TEST(test_no_overwrite),
		TS_TEST(test_unsuppress),
		TS_TEST(test_list),
		TS_TEST(test_prune),
		TS_TEST(test_stats),
		TS_TEST(test_migrate_v2),
		TS_TEST(test_atomic),
		TS_TEST(test_concurrent),
		TS_TEST(test_plans),
		TS_TEST(test_rdonly),
		TS_TEST(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
