/*
 * test_classify - unit tests for the classifier and its pattern tables
 *
 * Links only the classifier (milter/classify.c, classify_find.c, match.c),
 * milter/patterns.c and cmocka. The cases
 * are rows of {label, input, want}: class, reason and status decisions,
 * the status, reply code and command finders, the matcher, and checks of
 * the tables themselves (every row well formed; every row whose note says
 * "test_classify" found by its own words here, since no corpus message
 * covers it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"

typedef struct {
	const char *label;
	fm_kind_t kind;
	const char *action, *status, *diag, *command, *remote, *rcpt;
	fm_class_t want_class;
	const char *want_reason;
	const char *want_status;
} decide_case_t;

static const decide_case_t decide_cases[] = {
	{"bad mailbox at RCPT", FM_KIND_DSN, "failed", "5.1.1",
	 "550 5.1.1 <bob@example.org>: Recipient address rejected: User "
	 "unknown in local recipient table", "RCPT", NULL, NULL,
	 FM_CLASS_HARD, "userunknown", "5.1.1"},
	{"generic status refined from the text", FM_KIND_DSN, "failed",
	 "5.0.0", "smtp; 550 5.1.1 user unknown", NULL, NULL, NULL,
	 FM_CLASS_HARD, "userunknown", "5.1.1"},
	{"a 4.x.x does not refine a 5.0.0", FM_KIND_DSN, "failed", "5.0.0",
	 "451 4.3.0 try again", NULL, NULL, NULL, FM_CLASS_SOFT, "onhold",
	 "5.0.0"},
	{"user unknown after DATA is a filter", FM_KIND_DSN, "failed", NULL,
	 "550 Unknown user bob@example.jp (in reply to end of DATA command)",
	 "DATA", NULL, NULL, FM_CLASS_SOFT, "filtered", ""},
	{"full mailbox with a 5xx is soft", FM_KIND_DSN, "failed", "5.2.2",
	 "552 5.2.2 Mailbox full", NULL, NULL, NULL, FM_CLASS_SOFT,
	 "mailboxfull", "5.2.2"},
	{"full mailbox text outranks 5.1.1", FM_KIND_DSN, "failed", "5.1.1",
	 "550 5.1.1 mailbox full", NULL, NULL, NULL, FM_CLASS_SOFT,
	 "mailboxfull", "5.1.1"},
	{"Action: delayed is delayed", FM_KIND_DSN, "delayed", "4.4.7",
	 "Delivery attempts will continue", NULL, NULL, NULL,
	 FM_CLASS_DELAYED, "expired", "4.4.7"},
	{"success DSN", FM_KIND_DSN, "delivered", "2.1.5", "250 2.1.5 Ok",
	 NULL, NULL, NULL, FM_CLASS_DELIVERED, "delivered", "2.1.5"},
	{"relayed is delivered", FM_KIND_DSN, "relayed", "2.0.0", "", NULL,
	 NULL, NULL, FM_CLASS_DELIVERED, "delivered", "2.0.0"},
	{"complaint", FM_KIND_ARF, NULL, NULL, "", NULL, NULL, NULL,
	 FM_CLASS_COMPLAINT, "feedback", ""},
	{"vacation notice", FM_KIND_AUTOREPLY, NULL, NULL,
	 "I am out of the office until Monday.", NULL, NULL, NULL,
	 FM_CLASS_AUTOREPLY, "vacation", ""},
	{"auto-reply of a closed mailbox", FM_KIND_AUTOREPLY, NULL, NULL,
	 "This email inbox is no longer in use.", NULL, NULL, NULL,
	 FM_CLASS_SOFT, "suspend", "5.2.1"},
	{"auto-reply of someone who left", FM_KIND_AUTOREPLY, NULL, NULL,
	 "Bob is no longer with the company; write to sales@.", NULL, NULL,
	 NULL, FM_CLASS_HARD, "hasmoved", "5.1.6"},
	{"null MX, permanent", FM_KIND_DSN, "failed", "5.1.10",
	 "556 5.1.10 domain does not accept mail", NULL, NULL, NULL,
	 FM_CLASS_HARD, "notaccept", "5.1.10"},
	{"not accepting mail, temporary", FM_KIND_DSN, "failed", "4.3.2",
	 "421 4.3.2 not accepting mail", NULL, NULL, NULL, FM_CLASS_SOFT,
	 "notaccept", "4.3.2"},
	{"unknown domain", FM_KIND_DSN, "failed", "5.1.2",
	 "Host or domain name not found", NULL, NULL, NULL, FM_CLASS_HARD,
	 "hostunknown", "5.1.2"},
	{"DMARC", FM_KIND_DSN, "failed", "5.7.26",
	 "550 5.7.26 Unauthenticated email from example.jp is not accepted "
	 "due to domain's DMARC policy", NULL, NULL, NULL, FM_CLASS_SOFT,
	 "authfailure", "5.7.26"},
	{"relay denied", FM_KIND_DSN, "failed", "5.7.1",
	 "554 5.7.1 <bob@example.org>: Relay access denied", "RCPT", NULL,
	 NULL, FM_CLASS_SOFT, "norelaying", "5.7.1"},
	{"sender refused at MAIL", FM_KIND_NONSTANDARD, "failed", NULL,
	 "550 5.7.1 Sender address rejected: Access denied", "MAIL", NULL,
	 NULL, FM_CLASS_SOFT, "rejected", "5.7.1"},
	{"mailer program", FM_KIND_DSN, "failed", "5.3.0",
	 "Command output: procmail: Couldn't create /var/mail/bob", NULL,
	 NULL, NULL, FM_CLASS_SOFT, "mailererror", "5.3.0"},
	{"provider rule by remote MTA", FM_KIND_DSN, "failed", "5.0.0",
	 "550 Unknown user bob@docomo.ne.jp", NULL, "mfsmax.docomo.ne.jp",
	 "bob@docomo.ne.jp", FM_CLASS_SOFT, "rejected", "5.0.0"},
	{"provider rule with a status", FM_KIND_DSN, "failed", "5.2.0",
	 "550 Unknown user bob@docomo.ne.jp", NULL, "mfsmax.docomo.ne.jp",
	 "bob@docomo.ne.jp", FM_CLASS_SOFT, "filtered", "5.2.0"},
	{"provider rule by recipient domain", FM_KIND_DSN, "failed", "5.0.0",
	 "The response was: 550 : User unknown", NULL, NULL,
	 "bob@ezweb.ne.jp", FM_CLASS_SOFT, "filtered", "5.0.0"},
	{"queue time out", FM_KIND_NONSTANDARD, "failed", NULL,
	 "I'm not going to try again; this message has been in the queue "
	 "too long.", NULL, NULL, NULL, FM_CLASS_SOFT, "expired", "4.4.7"},
	{"nothing known", FM_KIND_NONSTANDARD, "failed", NULL, "", NULL,
	 NULL, NULL, FM_CLASS_SOFT, "undefined", ""},
	{"some text, no reason", FM_KIND_NONSTANDARD, "failed", NULL,
	 "something went wrong", NULL, NULL, NULL, FM_CLASS_SOFT, "onhold",
	 ""},
	{"security class from the status", FM_KIND_DSN, "failed", "5.7.0",
	 "554 5.7.0 no", NULL, NULL, NULL, FM_CLASS_SOFT, "securityerror",
	 "5.7.0"},
	{"content class from the status", FM_KIND_DSN, "failed", "5.6.0",
	 "554 5.6.0 no", NULL, NULL, NULL, FM_CLASS_SOFT, "contenterror",
	 "5.6.0"},
};

/* test_decide - every row of decide_cases */
static void test_decide(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		const decide_case_t *c = &decide_cases[i];
		fm_classify_in_t in;
		fm_classify_out_t out;

		memset(&in, 0, sizeof(in));
		in.kind = c->kind;
		in.action = c->action;
		in.status = c->status;
		in.diagnostic = c->diag;
		in.command = c->command;
		in.remote_mta = c->remote;
		in.recipient = c->rcpt;
		fm_classify(&in, &out);
		if (out.cls != c->want_class ||
		    strcmp(fm_reason_name(out.reason), c->want_reason) != 0 ||
		    strcmp(out.status, c->want_status) != 0)
			fail_msg("%s: got %s %s %s, want %s %s %s", c->label,
				 fm_class_name(out.cls),
				 fm_reason_name(out.reason), out.status,
				 fm_class_name(c->want_class), c->want_reason,
				 c->want_status);
	}
}

static const struct {
	const char *text, *want;
} status_cases[] = {
	{"550 5.1.1 <bob@example.org>... User unknown", "5.1.1"},
	{"Sorry, no mailbox here by that name. (#5.1.1)", "5.1.1"},
	{"554 4.4.7 Message expired <421 4.4.2 Connection timed out>",
	 "4.4.2"},
	{"5.1.0 - Unknown address error 550-'5.2.2 <a@b>... Mailbox Full'",
	 "5.2.2"},
	{"host 192.0.2.1 said: try again", ""},
	{"Status: 5.0.0 (permanent failure)", "5.0.0"},
	{"version 5.1.10.4 of something", ""},
	{"", ""},
};

/* test_find_status - the status code finder */
static void test_find_status(void **state)
{
	char out[FM_STATUS_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		fm_classify_find_status(status_cases[i].text, out);
		if (strcmp(out, status_cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
				 status_cases[i].text, out,
				 status_cases[i].want);
	}
	assert_int_equal(fm_classify_find_status(NULL, out), -1);
}

/* test_find_reply_command - reply codes and SMTP commands */
static void test_find_reply_command(void **state)
{
	static const struct {
		const char *text;
		int reply;
		const char *cmd;
	} cases[] = {
		{"host x said: 550 5.1.1 unknown (in reply to RCPT TO command)",
		 550, "RCPT"},
		{"SMTP error from remote mail server after end of data: 554 no",
		 554, "DATA"},
		{"after MAIL FROM:<a@b> SIZE=1: 553 sender", 553, "MAIL"},
		{"mail to DATABASE@EXAMPLE.JP failed", 0, ""},
		{"192.0.2.1 does not like recipient.", 0, "RCPT"},
		{"Connected to 192.0.2.1 but sender was rejected.", 0, "MAIL"},
		{"250 2.1.5 Ok", 250, ""},
		{"port 25000 refused", 0, ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(fm_classify_find_reply(cases[i].text),
				 cases[i].reply);
		assert_string_equal(fm_classify_find_command(cases[i].text),
				    cases[i].cmd);
	}
}

typedef struct {
	const char *pattern;
	const char *value;
	const char *note;
} row_t;

/* test_matcher - gaps, case and white space */
static void test_matcher(void **state)
{
	static const row_t rows[] = {
		{"user unknown", "a", ""},
		{"mailbox*full", "b", ""},
		{"no such user", "c", ""},
	};
	static const struct {
		const char *text;
		long want;
	} cases[] = {
		{"550 USER\n\t  Unknown", 0},
		{"the Mailbox of bob is FULL", 1},
		{"mailbox" "                                                  "
		 "                                                            "
		 "                                                            "
		 "  x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x "
		 "x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x "
		 "x x x x x x x x x x x x x x x x x x x x x x x x x x x x full",
		 -1},		/* a '*' gap is bounded */
		{"no such", -1},
		{"", -1},
	};
	char norm[1024];
	fm_matcher_t *m;
	size_t i, n;

	(void)state;
	m = fm_matcher_new(rows, 3, sizeof(rows[0]));
	assert_non_null(m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = fm_match_norm(cases[i].text, strlen(cases[i].text), norm,
				  sizeof(norm), NULL);
		assert_int_equal(fm_matcher_best(m, norm, n), cases[i].want);
	}
	fm_matcher_free(m);
	{
		static const row_t bad[] = { {"*x", "", ""} };

		assert_null(fm_matcher_new(bad, 1, sizeof(bad[0])));
	}
}

/* well_formed - lowercase, single spaces, two octets before any '*' */
static int well_formed(const char *p)
{
	const char *s;

	if (strlen(p) < 2 || strchr(p, '*') == p || strchr(p, '*') == p + 1)
		return 0;
	for (s = p; *s; s++)
		if ((*s >= 'A' && *s <= 'Z') || *s == '\t' || *s == '\n' ||
		    (*s == ' ' && (s == p || s[1] == ' ' || s[1] == '\0')))
			return 0;
	return 1;
}

/* sample_of - the pattern as text: each '*' becomes " and so on " */
static void sample_of(const char *p, char *out, size_t size)
{
	size_t o = 0;

	for (; *p && o + 16 < size; p++) {
		if (*p == '*') {
			memcpy(out + o, " and so on ", 11);
			o += 11;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* test_tables - rows are well formed and have notes; rows no corpus
 * message covers are found by their own words */
static void test_tables(void **state)
{
	char text[512];
	size_t i;

	(void)state;
	assert_int_equal(fm_classify_init(), 0);
	for (i = 0; i < fm_patterns_n; i++) {
		const fm_pattern_t *row;
		fm_reason_t r;

		if (!well_formed(fm_patterns[i].pattern) ||
		    fm_patterns[i].note == NULL || fm_patterns[i].note[0] == 0)
			fail_msg("fm_patterns row \"%s\": malformed or no note",
				 fm_patterns[i].pattern);
		if (strcmp(fm_patterns[i].note, "test_classify") != 0)
			continue;
		sample_of(fm_patterns[i].pattern, text, sizeof(text));
		r = fm_classify_text(text, strlen(text), &row);
		if (row == NULL || (r != fm_patterns[i].reason &&
				    row->reason != fm_patterns[i].reason))
			fail_msg("row \"%s\" is not found by its own words",
				 fm_patterns[i].pattern);
	}
	for (i = 0; i < fm_rules_n; i++)
		if (!well_formed(fm_rules[i].pattern) ||
		    fm_rules[i].note == NULL || fm_rules[i].note[0] == '\0')
			fail_msg("fm_rules row \"%s\": malformed or no note",
				 fm_rules[i].pattern);
}

/* test_rules_by_words - rule rows no corpus message covers */
static void test_rules_by_words(void **state)
{
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < fm_rules_n; i++) {
		const fm_rule_t *row = &fm_rules[i];
		fm_classify_in_t in;
		fm_classify_out_t out;

		if (strcmp(row->note, "test_classify") != 0)
			continue;
		sample_of(row->pattern, text, sizeof(text));
		memset(&in, 0, sizeof(in));
		in.kind = FM_KIND_DSN;
		in.action = "failed";
		in.status = row->status;
		in.diagnostic = text;
		in.remote_mta = row->host;
		fm_classify(&in, &out);
		if (out.reason != row->reason)
			fail_msg("rule \"%s\": got %s, want %s", row->pattern,
				 fm_reason_name(out.reason),
				 fm_reason_name(row->reason));
	}
}

/* test_names - names round trip and out-of-range values are safe */
static void test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < FM_REASON_COUNT; i++)
		assert_int_equal(fm_reason_by_name(fm_reason_name(i)), i);
	assert_int_equal(fm_reason_by_name("nonsense"), -1);
	assert_string_equal(fm_reason_name(FM_REASON_COUNT), "undefined");
	assert_string_equal(fm_class_name((fm_class_t)99), "unknown");
	assert_string_equal(fm_kind_name((fm_kind_t)99), "none");
	assert_string_equal(fm_class_name(FM_CLASS_DELAYED), "delayed");
	assert_int_equal(fm_classify_status_reason("5.1.1"),
			 FM_REASON_USERUNKNOWN);
	assert_int_equal(fm_classify_status_reason("4.2.2"),
			 FM_REASON_MAILBOXFULL);
	assert_int_equal(fm_classify_status_reason("5.0.0"),
			 FM_REASON_UNDEFINED);
	assert_int_equal(fm_classify_status_reason(NULL), FM_REASON_UNDEFINED);
}

/* setup - build the pattern index once */
static int setup(void **state)
{
	(void)state;
	return fm_classify_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_find_status),
		cmocka_unit_test(test_find_reply_command),
		cmocka_unit_test(test_matcher),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_rules_by_words),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
