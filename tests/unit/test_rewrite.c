/*
 * test_rewrite - unit tests for the rewrite module (envelope address
 * handling and the outbound policy)
 *
 * Links milter/rewrite.c with the config module it reads (config.c,
 * codec.c), cmocka and libcrypto. The policy is run against one
 * configuration with two sender domains:
 *
 *   example.nl   feedback.example.nl   (the default feedback domain)
 *   example.org  bounces.example.com   (an explicit one)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "rewrite.h"

#define CONFIG "SenderDomain example.nl\n" \
	"SenderDomain Example.ORG bounces.example.com\n"

/* trust flags: address, SASL, local submission */
#define NONE {0, 0, 0}
#define ADDR {1, 0, 0}
#define SASL {0, 1, 0}
#define LOCAL {0, 0, 1}
#define ALL {1, 1, 1}

/* config_setup - the shared configuration */
static int config_setup(void **state)
{
	char err[256];

	*state = fm_config_parse(CONFIG, "t.conf", err, sizeof(err));
	return *state == NULL ? -1 : 0;
}

/* config_teardown - release it */
static int config_teardown(void **state)
{
	fm_config_unref(*state);
	return 0;
}

/* long_addr - "aaa...@example.nl" of exactly len octets, in buf */
static char *long_addr(char *buf, size_t len)
{
	static const char dom[] = "@example.nl";

	memset(buf, 'a', len - (sizeof(dom) - 1));
	memcpy(buf + len - (sizeof(dom) - 1), dom, sizeof(dom));
	return buf;
}

/* test_strip - envelope arguments to bare addresses */
static void test_strip(void **state)
{
	static const struct {
		const char *label;
		const char *raw;
		int want_rc;
		const char *want;
		int want_bracketed;
	} rows[] = {
		{"brackets", "<user@example.nl>", 0, "user@example.nl", 1},
		{"no brackets", "user@example.nl", 0, "user@example.nl", 0},
		{"spaces around brackets", "  <user@example.nl>\t ", 0,
		 "user@example.nl", 1},
		{"spaces, no brackets", " \tuser@example.nl  ", 0,
		 "user@example.nl", 0},
		{"trailing CRLF is surrounding space", "<user@example.nl>\r\n", 0,
		 "user@example.nl", 1},
		{"source route", "<@relay.example.net:user@example.nl>", 0,
		 "user@example.nl", 1},
		{"source route of two", "<@a.example,@b.example:user@example.nl>", 0,
		 "user@example.nl", 1},
		{"source route, no brackets", "@relay.example.net:user@example.nl", 0,
		 "user@example.nl", 0},
		{"source route without colon", "<@relay.example.net>", -1, NULL, 0},
		{"null sender", "<>", 0, "", 1},
		{"null sender with spaces", "  <>  ", 0, "", 1},
		{"empty", "", 0, "", 0},
		{"only spaces", " \t ", 0, "", 0},
		{"local part only", "<postmaster>", 0, "postmaster", 1},
		{"quoted local part", "<\"a b\"@example.nl>", 0, "\"a b\"@example.nl", 1},
		{"unbalanced open", "<user@example.nl", -1, NULL, 0},
		{"unbalanced close", "user@example.nl>", -1, NULL, 0},
		{"lone open", "<", -1, NULL, 0},
		{"lone close", ">", -1, NULL, 0},
		{"text after bracket", "<user@example.nl> x", -1, NULL, 0},
		{"double brackets", "<<user@example.nl>>", -1, NULL, 0},
		{"bracket inside", "<us<er@example.nl>", -1, NULL, 0},
		{"embedded CRLF", "<user@example.nl\r\nX-Fake: 1>", -1, NULL, 0},
		{"embedded LF", "user@example.nl\nX-Fake: 1", -1, NULL, 0},
		{"embedded CR", "user@exa\rmple.nl", -1, NULL, 0},
		{"8-bit local part", "<j\xc3\xb6rg@example.nl>", 0,
		 "j\xc3\xb6rg@example.nl", 1},
	};
	char out[FM_ADDR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int bracketed = -1, rc;

		memset(out, 'Z', sizeof(out));
		rc = fm_addr_strip(rows[i].raw, out, sizeof(out), &bracketed);
		if (rc != rows[i].want_rc)
			fail_msg("%s: rc %d, want %d", rows[i].label, rc,
				 rows[i].want_rc);
		if (rc < 0)
			continue;
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].label, out,
				 rows[i].want);
		if (bracketed != rows[i].want_bracketed)
			fail_msg("%s: bracketed %d", rows[i].label, bracketed);
	}
}

/* test_strip_length - the output size bounds the address, exactly */
static void test_strip_length(void **state)
{
	static const struct {
		const char *label;
		size_t len;		/* address octets */
		int brackets;
		size_t size;		/* output buffer */
		int want_rc;
	} rows[] = {
		{"fits", 511, 0, 512, 0},
		{"fits in brackets", 511, 1, 512, 0},
		{"one too long", 512, 0, 512, -1},
		{"one too long in brackets", 512, 1, 512, -1},
		{"far too long", 4000, 1, 512, -1},
		{"small buffer fits", 15, 0, 16, 0},
		{"small buffer too long", 16, 0, 16, -1},
	};
	char raw[4100], addr[4096], out[600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int bracketed, rc;

		long_addr(addr, rows[i].len);
		snprintf(raw, sizeof(raw), rows[i].brackets ? "<%s>" : "%s", addr);
		memset(out, 'Z', sizeof(out));
		rc = fm_addr_strip(raw, out, rows[i].size, &bracketed);
		if (rc != rows[i].want_rc)
			fail_msg("%s: rc %d", rows[i].label, rc);
		if (rc == 0 && strcmp(out, addr) != 0)
			fail_msg("%s: wrong copy", rows[i].label);
		/* never a write past the buffer */
		if (out[rows[i].size] != 'Z')
			fail_msg("%s: wrote past the buffer", rows[i].label);
	}
	{
		int bracketed;

		assert_int_equal(fm_addr_strip("<a@b>", out, 4, &bracketed), 0);
		assert_string_equal(out, "a@b");
		assert_int_equal(fm_addr_strip("<a@b>", out, 3, &bracketed), -1);
		assert_int_equal(fm_addr_strip("<>", out, 1, &bracketed), 0);
		assert_string_equal(out, "");
	}
}

/* test_addr_domain - the domain after the last '@' */
static void test_addr_domain(void **state)
{
	static const struct {
		const char *label;
		const char *addr;
		int want_off;		/* offset into addr, or -1 for NULL */
	} rows[] = {
		{"plain", "user@example.nl", 5},
		{"last at", "a@b@example.nl", 4},
		{"quoted at", "\"a@b\"@example.nl", 6},
		{"no at", "postmaster", -1},
		{"leading at", "@example.nl", -1},
		{"trailing at", "user@", -1},
		{"only at", "@", -1},
		{"empty", "", -1},
		{"one-octet domain", "u@x", 2},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = fm_addr_domain(rows[i].addr);
		const char *want = rows[i].want_off < 0 ? NULL
			: rows[i].addr + rows[i].want_off;

		if (got != want)
			fail_msg("%s: got %s", rows[i].label, got ? got : "NULL");
	}
}

/* test_addr_local - the local part before the last '@' */
static void test_addr_local(void **state)
{
	static const struct {
		const char *label;
		const char *addr;
		size_t size;
		int want_rc;
		const char *want;
	} rows[] = {
		{"plain", "user@example.nl", 64, 0, "user"},
		{"last at", "a@b@example.nl", 64, 0, "a@b"},
		{"no at", "postmaster", 64, 0, "postmaster"},
		{"leading at", "@example.nl", 64, 0, ""},
		{"empty", "", 64, 0, ""},
		{"exact fit", "user@example.nl", 5, 0, "user"},
		{"one short", "user@example.nl", 4, -1, NULL},
		{"no at, exact fit", "abc", 4, 0, "abc"},
		{"no at, one short", "abc", 3, -1, NULL},
		{"empty, size 1", "@x", 1, 0, ""},
	};
	char out[80];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc;

		memset(out, 'Z', sizeof(out));
		rc = fm_addr_local(rows[i].addr, out, rows[i].size);
		if (rc != rows[i].want_rc)
			fail_msg("%s: rc %d", rows[i].label, rc);
		if (rc == 0 && strcmp(out, rows[i].want) != 0)
			fail_msg("%s: got \"%s\"", rows[i].label, out);
		if (out[rows[i].size] != 'Z')
			fail_msg("%s: wrote past the buffer", rows[i].label);
	}
}

/* test_decide - sender and trust to verdict, and the domain on YES */
static void test_decide(void **state)
{
	static const struct {
		const char *label;
		const char *envfrom;
		fm_trust_t trust;
		fm_rewrite_t want;
		const char *want_domain;	/* on FM_REWRITE_YES */
	} rows[] = {
		/* null sender: never, whoever sends it */
		{"null sender, trusted", "<>", ALL, FM_REWRITE_NULL_SENDER, NULL},
		{"null sender, untrusted", "<>", NONE, FM_REWRITE_NULL_SENDER, NULL},
		{"empty sender, local", "", LOCAL, FM_REWRITE_NULL_SENDER, NULL},
		{"spaces only", "  ", ADDR, FM_REWRITE_NULL_SENDER, NULL},
		/* malformed */
		{"NULL sender pointer", NULL, ALL, FM_REWRITE_MALFORMED, NULL},
		{"unbalanced", "<user@example.nl", ALL, FM_REWRITE_MALFORMED, NULL},
		{"injected line", "<user@example.nl\r\nX-Fake: 1>", ALL,
		 FM_REWRITE_MALFORMED, NULL},
		{"route without colon", "<@relay.example.net>", ALL,
		 FM_REWRITE_MALFORMED, NULL},
		/* feedback senders: never double coded, even when trusted */
		{"feedback sender, trusted", "<x@feedback.example.nl>", ALL,
		 FM_REWRITE_FEEDBACK_SENDER, NULL},
		{"feedback sender, untrusted", "<x@feedback.example.nl>", NONE,
		 FM_REWRITE_FEEDBACK_SENDER, NULL},
		{"feedback sender, case", "<X@FeedBack.Example.NL>", ADDR,
		 FM_REWRITE_FEEDBACK_SENDER, NULL},
		{"explicit feedback domain", "<x@bounces.example.com>", SASL,
		 FM_REWRITE_FEEDBACK_SENDER, NULL},
		{"feedback sender, local", "x@bounces.example.com", LOCAL,
		 FM_REWRITE_FEEDBACK_SENDER, NULL},
		{"feedback behind a route", "<@relay:x@feedback.example.nl>", ALL,
		 FM_REWRITE_FEEDBACK_SENDER, NULL},
		/* foreign */
		{"foreign domain", "<user@example.com>", ALL,
		 FM_REWRITE_FOREIGN_DOMAIN, NULL},
		{"foreign, untrusted", "<user@example.com>", NONE,
		 FM_REWRITE_FOREIGN_DOMAIN, NULL},
		{"subdomain is foreign", "<user@mail.example.nl>", ALL,
		 FM_REWRITE_FOREIGN_DOMAIN, NULL},
		{"parent is foreign", "<user@nl>", ALL, FM_REWRITE_FOREIGN_DOMAIN,
		 NULL},
		{"suffix is foreign", "<user@myexample.nl>", ALL,
		 FM_REWRITE_FOREIGN_DOMAIN, NULL},
		{"trailing dot is the same domain", "<user@example.nl.>", ALL,
		 FM_REWRITE_YES, "example.nl"},
		{"no domain", "<postmaster>", ALL, FM_REWRITE_FOREIGN_DOMAIN, NULL},
		{"empty domain", "<user@>", ALL, FM_REWRITE_FOREIGN_DOMAIN, NULL},
		{"unused default of explicit", "<x@feedback.example.org>", ALL,
		 FM_REWRITE_FOREIGN_DOMAIN, NULL},
		/* trust */
		{"untrusted", "<user@example.nl>", NONE, FM_REWRITE_UNTRUSTED, NULL},
		{"trusted by address", "<user@example.nl>", ADDR, FM_REWRITE_YES,
		 "example.nl"},
		{"trusted by SASL", "<user@example.nl>", SASL, FM_REWRITE_YES,
		 "example.nl"},
		{"trusted by local submission", "user@example.nl", LOCAL,
		 FM_REWRITE_YES, "example.nl"},
		{"trusted every way", "<user@example.nl>", ALL, FM_REWRITE_YES,
		 "example.nl"},
		{"domain case", "<User@EXAMPLE.NL>", ADDR, FM_REWRITE_YES,
		 "example.nl"},
		{"second domain", "<news@example.org>", SASL, FM_REWRITE_YES,
		 "example.org"},
		{"second domain, case", "<news@Example.Org>", SASL, FM_REWRITE_YES,
		 "example.org"},
		{"second domain, untrusted", "<news@example.org>", NONE,
		 FM_REWRITE_UNTRUSTED, NULL},
		{"source route", "<@relay.example.net:user@example.nl>", ADDR,
		 FM_REWRITE_YES, "example.nl"},
		{"spaces", "  <user@example.nl>  ", ADDR, FM_REWRITE_YES,
		 "example.nl"},
		{"last at decides", "<\"a@example.com\"@example.nl>", ADDR,
		 FM_REWRITE_YES, "example.nl"},
		{"last at decides, foreign", "<\"a@example.nl\"@example.com>", ADDR,
		 FM_REWRITE_FOREIGN_DOMAIN, NULL},
	};
	const fm_config_t *cfg = *state;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const fm_domain_t *dom = &cfg->domains[1];	/* stale on purpose */
		fm_rewrite_t got;

		got = fm_rewrite_decide(cfg, rows[i].envfrom, &rows[i].trust, &dom);
		if (got != rows[i].want)
			fail_msg("%s: got %s, want %s", rows[i].label,
				 fm_rewrite_str(got), fm_rewrite_str(rows[i].want));
		if (rows[i].want == FM_REWRITE_YES) {
			if (dom != fm_config_sender_domain(cfg, rows[i].want_domain) ||
			    dom == NULL)
				fail_msg("%s: wrong domain entry", rows[i].label);
		} else if (dom != NULL) {
			fail_msg("%s: domain set on %s", rows[i].label,
				 fm_rewrite_str(got));
		}
	}
}

/* test_decide_length - FM_ADDR_MAX - 1 octets are decided, more are not */
static void test_decide_length(void **state)
{
	const fm_config_t *cfg = *state;
	const fm_trust_t trust = ADDR;
	const fm_domain_t *dom = NULL;
	char raw[FM_ADDR_MAX + 8];

	raw[0] = '<';
	long_addr(raw + 1, FM_ADDR_MAX - 1);
	strcat(raw, ">");
	assert_int_equal(fm_rewrite_decide(cfg, raw, &trust, &dom),
			 FM_REWRITE_YES);
	assert_ptr_equal(dom, &cfg->domains[0]);

	long_addr(raw + 1, FM_ADDR_MAX);
	strcat(raw, ">");
	assert_int_equal(fm_rewrite_decide(cfg, raw, &trust, &dom),
			 FM_REWRITE_MALFORMED);
	assert_null(dom);
}

/* test_str - one distinct reason word per verdict */
static void test_str(void **state)
{
	static const struct {
		fm_rewrite_t verdict;
		const char *want;
	} rows[] = {
		{FM_REWRITE_YES, "rewrite"},
		{FM_REWRITE_NULL_SENDER, "null-sender"},
		{FM_REWRITE_FEEDBACK_SENDER, "feedback-sender"},
		{FM_REWRITE_FOREIGN_DOMAIN, "foreign-domain"},
		{FM_REWRITE_UNTRUSTED, "untrusted-client"},
		{FM_REWRITE_MALFORMED, "malformed-sender"},
		{(fm_rewrite_t)99, "unknown"},
		{(fm_rewrite_t)-1, "unknown"},
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = fm_rewrite_str(rows[i].verdict);

		if (got == NULL || strcmp(got, rows[i].want) != 0)
			fail_msg("%d: got %s", (int)rows[i].verdict, got);
		/* a log word: no space, no '=' */
		assert_null(strpbrk(got, " \t=\"\r\n"));
		for (j = 0; j < i; j++)
			if (rows[j].verdict <= FM_REWRITE_MALFORMED &&
			    rows[i].verdict <= FM_REWRITE_MALFORMED &&
			    strcmp(rows[j].want, got) == 0)
				fail_msg("%s used twice", got);
	}
}

/* test_address - "<CODE@FEEDBACK>" and buffers that are too small */
static void test_address(void **state)
{
	static const char want[] = "<0123456789abcdefgh@feedback.example.nl>";
	static const char want2[] = "<0123456789abcdefgh@bounces.example.com>";
	const fm_config_t *cfg = *state;
	char out[128];
	size_t size;

	memset(out, 'Z', sizeof(out));
	assert_int_equal(fm_rewrite_address("0123456789abcdefgh", &cfg->domains[0],
					    out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(fm_rewrite_address("0123456789abcdefgh", &cfg->domains[1],
					    out, sizeof(out)), 0);
	assert_string_equal(out, want2);

	/* exactly enough, and every size below it */
	for (size = sizeof(want);; size--) {
		int rc;

		memset(out, 'Z', sizeof(out));
		rc = fm_rewrite_address("0123456789abcdefgh", &cfg->domains[0], out,
					size);
		if (size == sizeof(want)) {
			assert_int_equal(rc, 0);
			assert_string_equal(out, want);
		} else {
			if (rc != -1)
				fail_msg("size %zu: rc %d", size, rc);
			if (size > 0 && strlen(out) != size - 1)
				fail_msg("size %zu: not terminated", size);
		}
		assert_int_equal(out[size], 'Z');
		if (size == 0)
			break;
	}
}

/* test_regress_route_to_nothing - "<@relay:>" is not the null sender */
static void test_regress_route_to_nothing(void **state)
{
	const fm_config_t *cfg = *state;
	const fm_trust_t trust = ADDR;
	const fm_domain_t *dom;
	char out[64];
	int bracketed;

	/* a source route that leads to no mailbox is malformed */
	assert_int_equal(fm_addr_strip("<@relay.example.net:>", out, sizeof(out),
				       &bracketed), -1);
	assert_int_equal(fm_rewrite_decide(cfg, "<@relay.example.net:>", &trust,
					   &dom), FM_REWRITE_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_strip_length),
		cmocka_unit_test(test_addr_domain),
		cmocka_unit_test(test_addr_local),
		cmocka_unit_test_setup_teardown(test_decide, config_setup,
						config_teardown),
		cmocka_unit_test_setup_teardown(test_decide_length, config_setup,
						config_teardown),
		cmocka_unit_test(test_str),
		cmocka_unit_test_setup_teardown(test_address, config_setup,
						config_teardown),
		cmocka_unit_test_setup_teardown(test_regress_route_to_nothing,
						config_setup, config_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
