/*
 * test_rules - unit tests for the follow-up rules (pure; time injected)
 *
 * Build:
 *
 *	gcc -std=gnu11 -Wall -Wextra -Werror -Iinclude -o test_rules \
 *	    tests/unit/test_rules.c milter/rules.c milter/config.c \
 *	    milter/codec.c -lcmocka -lcrypto
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "rules.h"

#define DAY 86400
#define T0 ((time_t) 1700000000)

/* test_defaults - the rules without configuration */
static void test_defaults(void **state)
{
	static const struct {
		const char *cls;
		fm_rule_kind_t kind;
		unsigned count, window, expiry;
	} want[] = {
		{"unknown", FM_RULE_NEVER, 0, 0, 0},
		{"hard", FM_RULE_NOW, 0, 0, 0},
		{"soft", FM_RULE_THRESHOLD, 3, 7 * DAY, 30 * DAY},
		{"delayed", FM_RULE_NEVER, 0, 0, 0},
		{"autoreply", FM_RULE_NEVER, 0, 0, 0},
		{"complaint", FM_RULE_NOW, 0, 0, 0},
		{"delivered", FM_RULE_NEVER, 0, 0, 0},
	};
	fm_rules_t r;
	size_t i;
	int k;

	(void) state;
	memset(&r, 0xa5, sizeof(r));
	fm_rules_defaults(&r);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		k = fm_rules_class(want[i].cls);
		assert_int_equal(k, (int) i);
		assert_string_equal(fm_config_class_names[k], want[i].cls);
		assert_int_equal(r.rule[k].kind, want[i].kind);
		if (want[i].kind == FM_RULE_THRESHOLD) {
			assert_int_equal(r.rule[k].count, want[i].count);
			assert_int_equal(r.rule[k].window, want[i].window);
		}
		assert_int_equal(r.rule[k].expiry, want[i].expiry);
	}
}

/* test_class - names in any case; unknown names and NULL are -1 */
static void test_class(void **state)
{
	static const struct {
		const char *label, *in;
		int want;
	} cases[] = {
		{"lower", "hard", 1},
		{"upper", "SOFT", 2},
		{"mixed", "Complaint", 5},
		{"last", "delivered", 6},
		{"first", "unknown", 0},
		{"not a class", "bounce", -1},
		{"prefix", "har", -1},
		{"longer", "hardx", -1},
		{"empty", "", -1},
		{"null", NULL, -1},
	};
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].label);
		assert_int_equal(fm_rules_class(cases[i].in), cases[i].want);
	}
}

/* test_decide - the defaults and a custom table, with injected time */
static void test_decide(void **state)
{
	static const struct {
		const char *label, *cls;
		unsigned distinct;
		int custom;		/* 1: the custom rules */
		int want;
		time_t expires;
	} cases[] = {
		{"hard at once", "hard", 1, 0, 1, 0},
		{"complaint at once", "complaint", 1, 0, 1, 0},
		{"soft 1st", "soft", 1, 0, 0, 0},
		{"soft 2nd", "soft", 2, 0, 0, 0},
		{"soft 3rd", "soft", 3, 0, 1, T0 + 30 * DAY},
		{"soft 4th", "soft", 4, 0, 1, T0 + 30 * DAY},
		{"delayed never", "delayed", 99, 0, 0, 0},
		{"autoreply never", "autoreply", 99, 0, 0, 0},
		{"delivered never", "delivered", 99, 0, 0, 0},
		{"unknown never", "unknown", 99, 0, 0, 0},
		{"not a class", "bounce", 99, 0, 0, 0},
		{"no class", NULL, 99, 0, 0, 0},
		{"class case", "HARD", 1, 0, 1, 0},
		{"custom hard expires", "hard", 1, 1, 1, T0 + 3600},
		{"custom hard never", "complaint", 5, 1, 0, 0},
		{"custom soft 1/1h", "soft", 1, 1, 1, 0},
		{"custom autoreply 2", "autoreply", 1, 1, 0, 0},
		{"custom autoreply 2nd", "autoreply", 2, 1, 1, T0 + 60},
		{"custom count 0 is 1", "delayed", 1, 1, 1, 0},
		{"custom count 0, none", "delayed", 0, 1, 0, 0},
	};
	fm_rules_t def, custom;
	time_t expires;
	size_t i;

	(void) state;
	fm_rules_defaults(&def);
	memset(&custom, 0, sizeof(custom));
	custom.rule[1] = (fm_followup_t) {FM_RULE_NOW, 0, 0, 3600};
	custom.rule[2] = (fm_followup_t) {FM_RULE_THRESHOLD, 1, 3600, 0};
	custom.rule[3] = (fm_followup_t) {FM_RULE_THRESHOLD, 0, 60, 0};
	custom.rule[4] = (fm_followup_t) {FM_RULE_THRESHOLD, 2, 60, 60};
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].label);
		expires = (time_t) -1;
		assert_int_equal(fm_rules_decide(cases[i].custom ? &custom :
						 &def, cases[i].cls,
						 cases[i].distinct, T0,
						 &expires), cases[i].want);
		if (cases[i].want)
			assert_int_equal(expires, cases[i].expires);
		else
			assert_int_equal(expires, (time_t) -1);
	}
	assert_int_equal(fm_rules_decide(NULL, "hard", 1, T0, &expires), 0);
	assert_int_equal(fm_rules_decide(&def, "hard", 1, T0, NULL), 1);
}

/* test_describe - each kind of rule in words */
static void test_describe(void **state)
{
	static const struct {
		const char *label;
		fm_followup_t rule;
		const char *want;
	} cases[] = {
		{"never", {FM_RULE_NEVER, 3, 60, 60}, "never"},
		{"now", {FM_RULE_NOW, 0, 0, 0}, "now, no expiry"},
		{"now expiring", {FM_RULE_NOW, 0, 0, 2 * DAY},
		 "now, expires after 2d"},
		{"soft default", {FM_RULE_THRESHOLD, 3, 7 * DAY, 30 * DAY},
		 "after 3 in 7d, expires after 30d"},
		{"hours", {FM_RULE_THRESHOLD, 2, 7200, 0},
		 "after 2 in 2h, no expiry"},
		{"minutes, seconds", {FM_RULE_THRESHOLD, 5, 90 * 60, 61},
		 "after 5 in 90m, expires after 61s"},
	};
	char out[64];
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].label);
		fm_rules_describe(&cases[i].rule, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	fm_rules_describe(NULL, out, sizeof(out));
	assert_string_equal(out, "never");
	fm_rules_describe(&cases[3].rule, out, 8);	/* truncated, ended */
	assert_string_equal(out, "after 3");
	fm_rules_describe(&cases[3].rule, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_class),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
