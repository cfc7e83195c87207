/*
 * test_inbound - unit tests for the inbound policy (milter/inbound.c)
 *
 * Links milter/inbound.c with what it reads: the config, codec and rewrite
 * modules (feedback domains, codes, envelope addresses), eventlog (key=value
 * lines) and the name tables of classify.c, spfcheck.c and dkimcheck.c. No
 * DNS, no store, no message parsing: reports, SPF outcomes and DKIM reports
 * are built by hand. Time is injected: codes are issued at T0.
 *
 * The configuration has two feedback domains and a keyring of two keys
 * (ids 1 and 2; 2 signs):
 *
 *   example.nl     feedback.example.nl    (the default feedback domain)
 *   shop.example   bounces.shop.example   (an explicit one)
 *
 * Most cases are rows of {label, input, want}.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inbound.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define CONFIG "SenderDomain example.nl\n" \
	"SenderDomain shop.example bounces.shop.example\n"
#define KEYS \
	"1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n" \
	"2 f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100\n"
#define OTHER_KEYS \
	"9 5555555555555555555555555555555555555555555555555555555555555555\n"

#define T0 ((time_t)1700000000)		/* issue time of every code */
#define DAY 86400
#define RECORD UINT64_C(0x123456789)	/* record id of every code */
#define SIGNING_ID 2u
#define GUARD 0x5a

/* The shared fixture: two configurations and the codes issued at T0. */
typedef struct {
	fm_config_t *cfg;		/* BadCodeAction reject (default) */
	fm_config_t *accept;		/* BadCodeAction accept */
	char nl[FM_CODE_LEN + 1];	/* for feedback.example.nl */
	char shop[FM_CODE_LEN + 1];	/* for bounces.shop.example */
	char other_key[FM_CODE_LEN + 1];	/* key 9, not in the keyring */
} fixture_t;

/* config_with_keys - parse text and give it the test keyring */
static fm_config_t *config_with_keys(const char *text)
{
	char err[256];
	fm_config_t *cfg;

	if ((cfg = fm_config_parse(text, "t.conf", err, sizeof(err))) == NULL) {
		print_error("config: %s\n", err);
		return NULL;
	}
	if ((cfg->keys = fm_keyring_parse(KEYS, "t.keys", err,
					  sizeof(err))) == NULL) {
		print_error("keys: %s\n", err);
		fm_config_unref(cfg);
		return NULL;
	}
	return cfg;
}

/* fixture_setup - configurations, keyrings and codes */
static int fixture_setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));
	fm_keyring_t *other;
	char err[256];
	int rc = -1;

	if (fx == NULL)
		return -1;
	*state = fx;
	fx->cfg = config_with_keys(CONFIG);
	fx->accept = config_with_keys(CONFIG "BadCodeAction accept\n");
	other = fm_keyring_parse(OTHER_KEYS, "other.keys", err, sizeof(err));
	if (fx->cfg == NULL || fx->accept == NULL || other == NULL)
		goto out;
	if (fm_code_encode(fx->cfg->keys, "feedback.example.nl", T0, RECORD,
			   fx->nl) < 0 ||
	    fm_code_encode(fx->cfg->keys, "bounces.shop.example", T0, RECORD,
			   fx->shop) < 0 ||
	    fm_code_encode(other, "feedback.example.nl", T0, RECORD,
			   fx->other_key) < 0)
		goto out;
	rc = 0;
out:
	fm_keyring_free(other);
	return rc;
}

/* fixture_teardown - release it all */
static int fixture_teardown(void **state)
{
	fixture_t *fx = *state;

	if (fx != NULL) {
		fm_config_unref(fx->cfg);
		fm_config_unref(fx->accept);
		free(fx);
	}
	return 0;
}

/* fill_template - tmpl with every "CODE" replaced by code, into out */
static void fill_template(const char *tmpl, const char *code, char *out,
			  size_t size)
{
	size_t n = 0, clen = strlen(code);

	while (*tmpl) {
		if (strncmp(tmpl, "CODE", 4) == 0) {
			assert_true(n + clen < size);
			memcpy(out + n, code, clen);
			n += clen;
			tmpl += 4;
		} else {
			assert_true(n + 1 < size);
			out[n++] = *tmpl++;
		}
	}
	out[n] = '\0';
}

/* lower_copy - lowercase copy of s */
static void lower_copy(const char *s, char *out, size_t size)
{
	size_t n;

	for (n = 0; s[n] && n + 1 < size; n++)
		out[n] = (char)tolower((unsigned char)s[n]);
	out[n] = '\0';
}

/* other_char - an alphabet character other than c */
static char other_char(char c)
{
	return c == '0' ? '1' : '0';
}

/* ---- fm_inbound_check_rcpt ---- */

typedef enum { SRC_NL, SRC_SHOP, SRC_OTHER_KEY } code_src_t;

typedef enum {
	MUT_NONE,
	MUT_UPPER,	/* whole code in upper case */
	MUT_RECORD,	/* one character of the record id changed */
	MUT_MAC,	/* one character of the MAC changed */
	MUT_KEYID,	/* first character (the key id) made 7 */
	MUT_SHORT,	/* last character dropped */
	MUT_LONG,	/* one character added */
	MUT_ALPHABET,	/* a 'u', not in the alphabet */
} mutation_t;

typedef struct {
	const char *label;
	int accept;		/* use the BadCodeAction accept config */
	code_src_t src;
	mutation_t mut;
	const char *rcpt;	/* template: CODE is the code; NULL: no rcpt */
	const char *local;	/* template of the local part kept */
	int days;		/* now = T0 + days */
	fm_rcpt_verdict_t verdict;
	fm_code_status_t status;
	int norm;		/* code holds the lowercase code, else "" */
	const char *feedback;	/* the domain entry's feedback domain */
	int info;		/* info: key 2, RECORD, age == days */
} rcpt_row_t;

static const rcpt_row_t rcpt_rows[] = {
	{"outside: a sender domain", 0, SRC_NL, MUT_NONE,
	 "CODE@example.nl", "", 0, FM_RCPT_OUTSIDE, FM_CODE_OK, 0, NULL, 0},
	{"outside: a foreign domain", 0, SRC_NL, MUT_NONE,
	 "<CODE@elsewhere.example>", "", 0, FM_RCPT_OUTSIDE, FM_CODE_OK, 0,
	 NULL, 0},
	{"outside: a subdomain of a feedback domain", 0, SRC_NL, MUT_NONE,
	 "CODE@x.feedback.example.nl", "", 0, FM_RCPT_OUTSIDE, FM_CODE_OK, 0,
	 NULL, 0},
	{"outside: no domain", 0, SRC_NL, MUT_NONE, "CODE", "", 0,
	 FM_RCPT_OUTSIDE, FM_CODE_OK, 0, NULL, 0},
	{"outside: null sender form", 0, SRC_NL, MUT_NONE, "<>", "", 0,
	 FM_RCPT_OUTSIDE, FM_CODE_OK, 0, NULL, 0},
	{"malformed brackets at a feedback domain", 0, SRC_NL, MUT_NONE,
	 "<CODE@feedback.example.nl", "", 0, FM_RCPT_REJECT, FM_CODE_SHAPE, 0,
	 "feedback.example.nl", 0},
	{"malformed brackets, accept: still refused", 1, SRC_NL, MUT_NONE,
	 "<CODE@feedback.example.nl.", "", 0, FM_RCPT_REJECT, FM_CODE_SHAPE,
	 0, "feedback.example.nl", 0},
	{"outside: malformed brackets elsewhere", 0, SRC_NL, MUT_NONE,
	 "<CODE@elsewhere.example", "", 0, FM_RCPT_OUTSIDE, FM_CODE_OK, 0,
	 NULL, 0},
	{"valid, percent hack with a trailing dot", 0, SRC_NL, MUT_NONE,
	 "CODE%feedback.example.nl.@example.nl", "CODE", 0, FM_RCPT_VALID,
	 FM_CODE_OK, 1, "feedback.example.nl", 1},
	{"outside: no recipient", 0, SRC_NL, MUT_NONE, NULL, "", 0,
	 FM_RCPT_OUTSIDE, FM_CODE_OK, 0, NULL, 0},
	{"valid", 0, SRC_NL, MUT_NONE, "CODE@feedback.example.nl", "CODE", 0,
	 FM_RCPT_VALID, FM_CODE_OK, 1, "feedback.example.nl", 1},
	{"valid at the explicit feedback domain", 0, SRC_SHOP, MUT_NONE,
	 "CODE@bounces.shop.example", "CODE", 0, FM_RCPT_VALID, FM_CODE_OK, 1,
	 "bounces.shop.example", 1},
	{"valid, angle brackets", 0, SRC_NL, MUT_NONE,
	 "<CODE@feedback.example.nl>", "CODE", 0, FM_RCPT_VALID, FM_CODE_OK, 1,
	 "feedback.example.nl", 1},
	{"valid, source route", 0, SRC_NL, MUT_NONE,
	 "<@relay.example:CODE@feedback.example.nl>", "CODE", 0,
	 FM_RCPT_VALID, FM_CODE_OK, 1, "feedback.example.nl", 1},
	{"valid, upper-case code", 0, SRC_NL, MUT_UPPER,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_VALID, FM_CODE_OK, 1,
	 "feedback.example.nl", 1},
	{"valid, upper-case domain", 0, SRC_NL, MUT_NONE,
	 "<CODE@FEEDBACK.Example.NL>", "CODE", 0, FM_RCPT_VALID, FM_CODE_OK,
	 1, "feedback.example.nl", 1},
	{"valid on the last day of the lifetime", 0, SRC_NL, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", 30, FM_RCPT_VALID, FM_CODE_OK, 1,
	 "feedback.example.nl", 1},
	{"code of the other feedback domain", 0, SRC_NL, MUT_NONE,
	 "CODE@bounces.shop.example", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_BAD_MAC, 1, "bounces.shop.example", 0},
	{"shop code at the default feedback domain", 0, SRC_SHOP, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_BAD_MAC, 1, "feedback.example.nl", 0},
	{"record id character changed", 0, SRC_NL, MUT_RECORD,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_BAD_MAC, 1, "feedback.example.nl", 0},
	{"MAC character changed", 0, SRC_NL, MUT_MAC,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_BAD_MAC, 1, "feedback.example.nl", 0},
	{"key id changed to one not in the keyring", 0, SRC_NL, MUT_KEYID,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_UNKNOWN_KEY, 1, "feedback.example.nl", 0},
	{"signed with an unknown key", 0, SRC_OTHER_KEY, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_UNKNOWN_KEY, 1, "feedback.example.nl", 0},
	{"one character short", 0, SRC_NL, MUT_SHORT,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"one character long", 0, SRC_NL, MUT_LONG,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"character outside the alphabet", 0, SRC_NL, MUT_ALPHABET,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"recipient delimiter", 0, SRC_NL, MUT_NONE,
	 "CODE+x@feedback.example.nl", "CODE+x", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"prefix decoration", 0, SRC_NL, MUT_NONE,
	 "<x.CODE@feedback.example.nl>", "x.CODE", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"quoted code", 0, SRC_NL, MUT_NONE,
	 "<\"CODE\"@feedback.example.nl>", "\"CODE\"", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"postmaster at a feedback domain", 0, SRC_NL, MUT_NONE,
	 "<postmaster@feedback.example.nl>", "postmaster", 0, FM_RCPT_REJECT,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"no local part", 0, SRC_NL, MUT_NONE,
	 "feedback.example.nl@feedback.example.nl", "feedback.example.nl", 0,
	 FM_RCPT_REJECT, FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
	{"expired: lifetime + 1 days", 0, SRC_NL, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", 31, FM_RCPT_REJECT,
	 FM_CODE_EXPIRED, 1, "feedback.example.nl", 1},
	{"dated in the future", 0, SRC_NL, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", -1, FM_RCPT_REJECT,
	 FM_CODE_EXPIRED, 1, "feedback.example.nl", 0},
	/* BadCodeAction accept: bad codes are taken, the status is kept */
	{"accept: valid stays valid", 1, SRC_NL, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_VALID, FM_CODE_OK, 1,
	 "feedback.example.nl", 1},
	{"accept: outside stays outside", 1, SRC_NL, MUT_NONE,
	 "CODE@example.nl", "", 0, FM_RCPT_OUTSIDE, FM_CODE_OK, 0, NULL, 0},
	{"accept: bad MAC", 1, SRC_NL, MUT_MAC, "CODE@feedback.example.nl",
	 "CODE", 0, FM_RCPT_UNVERIFIED, FM_CODE_BAD_MAC, 1,
	 "feedback.example.nl", 0},
	{"accept: other feedback domain", 1, SRC_NL, MUT_NONE,
	 "CODE@bounces.shop.example", "CODE", 0, FM_RCPT_UNVERIFIED,
	 FM_CODE_BAD_MAC, 1, "bounces.shop.example", 0},
	{"accept: unknown key", 1, SRC_OTHER_KEY, MUT_NONE,
	 "CODE@feedback.example.nl", "CODE", 0, FM_RCPT_UNVERIFIED,
	 FM_CODE_UNKNOWN_KEY, 1, "feedback.example.nl", 0},
	{"accept: expired", 1, SRC_NL, MUT_NONE, "CODE@feedback.example.nl",
	 "CODE", 31, FM_RCPT_UNVERIFIED, FM_CODE_EXPIRED, 1,
	 "feedback.example.nl", 1},
	{"accept: malformed", 1, SRC_NL, MUT_NONE,
	 "CODE+x@feedback.example.nl", "CODE+x", 0, FM_RCPT_UNVERIFIED,
	 FM_CODE_SHAPE, 0, "feedback.example.nl", 0},
};

/* mutate - the row's code as it appears in the recipient */
static void mutate(const fixture_t *fx, const rcpt_row_t *row, char *code,
		   size_t size)
{
	const char *src = row->src == SRC_NL ? fx->nl :
		row->src == SRC_SHOP ? fx->shop : fx->other_key;
	size_t i, len;

	assert_true(size > FM_CODE_LEN + 1);
	memcpy(code, src, FM_CODE_LEN + 1);
	len = FM_CODE_LEN;
	switch (row->mut) {
	case MUT_NONE:
		break;
	case MUT_UPPER:
		for (i = 0; i < len; i++)
			code[i] = (char)toupper((unsigned char)code[i]);
		break;
	case MUT_RECORD:
		code[6] = other_char(code[6]);
		break;
	case MUT_MAC:
		code[FM_CODE_LEN - 1] = other_char(code[FM_CODE_LEN - 1]);
		break;
	case MUT_KEYID:
		code[0] = '7';
		break;
	case MUT_SHORT:
		code[len - 1] = '\0';
		break;
	case MUT_LONG:
		code[len] = '0';
		code[len + 1] = '\0';
		break;
	case MUT_ALPHABET:
		code[4] = 'u';
		break;
	}
}

/* check_rcpt_row - run one row and compare every output field */
static void check_rcpt_row(const fixture_t *fx, const rcpt_row_t *row)
{
	char code[FM_CODE_LEN + 2], rcpt[FM_ADDR_MAX], local[FM_ADDR_MAX];
	char want_code[FM_CODE_LEN + 2];
	const fm_config_t *cfg = row->accept ? fx->accept : fx->cfg;
	fm_rcpt_check_t out;
	fm_rcpt_verdict_t v;
	time_t now = T0 + (time_t)row->days * DAY;

	mutate(fx, row, code, sizeof(code));
	if (row->rcpt != NULL)
		fill_template(row->rcpt, code, rcpt, sizeof(rcpt));
	fill_template(row->local, code, local, sizeof(local));
	lower_copy(code, want_code, sizeof(want_code));
	memset(&out, GUARD, sizeof(out));
	v = fm_inbound_check_rcpt(cfg, row->rcpt ? rcpt : NULL, now, &out);
	if (v != row->verdict || out.verdict != row->verdict)
		fail_msg("%s: verdict %d/%d, want %d", row->label, (int)v,
			 (int)out.verdict, (int)row->verdict);
	if (out.status != row->status)
		fail_msg("%s: status %d, want %d", row->label, (int)out.status,
			 (int)row->status);
	if (strcmp(out.code, row->norm ? want_code : "") != 0)
		fail_msg("%s: code \"%s\", want \"%s\"", row->label, out.code,
			 row->norm ? want_code : "");
	if (strcmp(out.local, local) != 0)
		fail_msg("%s: local \"%s\", want \"%s\"", row->label, out.local,
			 local);
	if (row->feedback == NULL && out.domain != NULL)
		fail_msg("%s: domain %s, want none", row->label,
			 out.domain->feedback);
	if (row->feedback != NULL &&
	    (out.domain == NULL || strcmp(out.domain->feedback,
					  row->feedback) != 0))
		fail_msg("%s: domain %s, want %s", row->label,
			 out.domain ? out.domain->feedback : "(none)",
			 row->feedback);
	if (row->info && (out.info.key_id != SIGNING_ID ||
			  out.info.record_id != RECORD ||
			  out.info.age_days != (unsigned)row->days))
		fail_msg("%s: info key %u record %llx age %u", row->label,
			 out.info.key_id,
			 (unsigned long long)out.info.record_id,
			 out.info.age_days);
}

/* test_check_rcpt - the table of recipients */
static void test_check_rcpt(void **state)
{
	const fixture_t *fx = *state;
	size_t i;

	for (i = 0; i < NROWS(rcpt_rows); i++)
		check_rcpt_row(fx, &rcpt_rows[i]);
}

/* test_check_rcpt_unparsed - a 700-octet local part is still ours */
static void test_check_rcpt_unparsed(void **state)
{
	const fixture_t *fx = *state;
	char rcpt[1024];
	fm_rcpt_check_t out;

	memset(rcpt, 'a', 700);
	snprintf(rcpt + 700, sizeof(rcpt) - 700, "@feedback.example.nl>");
	rcpt[0] = '<';
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_REJECT);
	assert_int_equal(out.status, FM_CODE_SHAPE);
	snprintf(rcpt + 700, sizeof(rcpt) - 700, "@elsewhere.example>");
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_OUTSIDE);
}

/* test_check_rcpt_entry - the domain entry is the config's own */
static void test_check_rcpt_entry(void **state)
{
	const fixture_t *fx = *state;
	char rcpt[64];
	fm_rcpt_check_t out;

	snprintf(rcpt, sizeof(rcpt), "%s@bounces.shop.example", fx->shop);
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_VALID);
	assert_ptr_equal(out.domain, &fx->cfg->domains[1]);
	assert_string_equal(out.domain->domain, "shop.example");
	snprintf(rcpt, sizeof(rcpt), "%s@feedback.example.nl", fx->nl);
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_VALID);
	assert_ptr_equal(out.domain, &fx->cfg->domains[0]);
	assert_string_equal(out.domain->domain, "example.nl");
}

/* test_check_rcpt_long - an address too long for the buffers is not ours */
static void test_check_rcpt_long(void **state)
{
	const fixture_t *fx = *state;
	static const char dom[] = "@feedback.example.nl";
	char rcpt[FM_ADDR_MAX + 8];
	fm_rcpt_check_t out;
	size_t len;

	/* a local part that fills the whole address buffer */
	len = FM_ADDR_MAX - 1;
	memset(rcpt, 'a', len - (sizeof(dom) - 1));
	memcpy(rcpt + len - (sizeof(dom) - 1), dom, sizeof(dom));
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_REJECT);
	assert_int_equal(out.status, FM_CODE_SHAPE);
	assert_int_equal(strlen(out.local), len - (sizeof(dom) - 1));
	/* one octet more and the address cannot be parsed: still refused,
	 * as it names a feedback domain */
	len = FM_ADDR_MAX;
	memset(rcpt, 'a', len - (sizeof(dom) - 1));
	memcpy(rcpt + len - (sizeof(dom) - 1), dom, sizeof(dom));
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_REJECT);
	assert_int_equal(out.status, FM_CODE_SHAPE);
	assert_non_null(out.domain);
}

/*
 * test_check_rcpt_trailing_dot - "code@feedback.example.nl." names the
 * feedback domain too (an MTA strips the dot when it routes the address),
 * so it must be checked, not waved through as outside.
 */
static void test_check_rcpt_trailing_dot(void **state)
{
	const fixture_t *fx = *state;
	char rcpt[64];
	fm_rcpt_check_t out;

	snprintf(rcpt, sizeof(rcpt), "<anything@feedback.example.nl.>");
	assert_int_not_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			     FM_RCPT_OUTSIDE);
	snprintf(rcpt, sizeof(rcpt), "<%s@feedback.example.nl.>", fx->nl);
	assert_int_equal(fm_inbound_check_rcpt(fx->cfg, rcpt, T0, &out),
			 FM_RCPT_VALID);
}

/* test_reply - the SMTP reply text of each status */
static void test_reply(void **state)
{
	static const struct {
		const char *label;
		fm_code_status_t status;
		const char *want;
	} rows[] = {
		{"shape", FM_CODE_SHAPE,
		 "No such feedback address (malformed code)"},
		{"unknown key", FM_CODE_UNKNOWN_KEY,
		 "No such feedback address (unknown key)"},
		{"bad MAC", FM_CODE_BAD_MAC,
		 "No such feedback address (code not issued here)"},
		{"expired", FM_CODE_EXPIRED, "Feedback address expired"},
		{"ok (never refused)", FM_CODE_OK, "No such feedback address"},
		{"out of range", (fm_code_status_t)99,
		 "No such feedback address"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		const char *got = fm_inbound_reply(rows[i].status);

		if (got == NULL || strcmp(got, rows[i].want) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", rows[i].label,
				 got ? got : "(null)", rows[i].want);
		/* a reply line of its own: no line breaks, no % to expand */
		assert_null(strpbrk(got, "\r\n%"));
	}
}

/* ---- fm_inbound_recipient ---- */

static const char *const one_rcpt[] = {"Alice@Remote.example"};
static const char *const three_rcpts[] = {
	"alice@remote.example", "Bob@Other.example", "carol@third.example",
};

/* test_recipient - which address an event is about */
static void test_recipient(void **state)
{
	static const fm_send_t single = {.rcpts = one_rcpt, .nrcpts = 1};
	static const fm_send_t multi = {.rcpts = three_rcpts, .nrcpts = 3};
	static const fm_send_t none = {.rcpts = NULL, .nrcpts = 0};
	const struct {
		const char *label;
		const fm_send_t *send;
		size_t nreported;
		const char *reported;
		const char *orig;	/* Original-Recipient */
		const char *want;	/* the exact pointer expected */
		int of_send;		/* one of the send's recipients */
	} rows[] = {
		{"single send wins over the reported address", &single, 1,
		 "forwarded@elsewhere.example", NULL, one_rcpt[0], 1},
		{"single send, reported equal", &single, 1,
		 "alice@remote.example", NULL, one_rcpt[0], 1},
		{"single send, empty reported", &single, 1, "", NULL,
		 one_rcpt[0], 1},
		{"single send, NULL reported", &single, 1, NULL, NULL,
		 one_rcpt[0], 1},
		{"single send, nothing reported", &single, 0, NULL, NULL,
		 one_rcpt[0], 1},
		{"single send, several reported, match", &single, 2,
		 "ALICE@remote.EXAMPLE", NULL, one_rcpt[0], 1},
		{"single send, several reported, no match", &single, 2,
		 "dave@remote.example", NULL, "dave@remote.example", 0},
		{"single send, several reported, Original-Recipient matches",
		 &single, 2, "forwarded@elsewhere.example",
		 "alice@remote.example", one_rcpt[0], 1},
		{"single send, several reported, empty", &single, 2, "", NULL,
		 one_rcpt[0], 1},
		{"multi send, match case-insensitively", &multi, 1,
		 "bob@other.EXAMPLE", NULL, three_rcpts[1], 1},
		{"multi send, match the last", &multi, 3,
		 "CAROL@THIRD.EXAMPLE", NULL, three_rcpts[2], 1},
		{"multi send, no match keeps the reported", &multi, 1,
		 "dave@remote.example", NULL, "dave@remote.example", 0},
		{"multi send, Original-Recipient matches", &multi, 1,
		 "bob@forwarded.example", "Bob@other.example", three_rcpts[1],
		 1},
		{"multi send, Final-Recipient before Original-Recipient", &multi,
		 1, "carol@third.example", "bob@other.example", three_rcpts[2],
		 1},
		{"multi send, neither matches", &multi, 1, "x@y.example",
		 "z@y.example", "x@y.example", 0},
		{"multi send, prefix is no match", &multi, 1,
		 "alice@remote.exampl", NULL, "alice@remote.exampl", 0},
		{"multi send, empty reported", &multi, 1, "", NULL, "", 0},
		{"multi send, NULL reported", &multi, 1, NULL, NULL, "", 0},
		{"send without recipients", &none, 1, "x@remote.example", NULL,
		 "x@remote.example", 0},
		{"NULL send keeps the reported", NULL, 1, "x@remote.example",
		 "x@remote.example", "x@remote.example", 0},
		{"NULL send, NULL reported", NULL, 0, NULL, NULL, "", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		int of_send = -1;
		const char *got = fm_inbound_recipient(rows[i].send,
						       rows[i].nreported,
						       rows[i].reported,
						       rows[i].orig, &of_send);

		if (got == NULL || strcmp(got, rows[i].want) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", rows[i].label,
				 got ? got : "(null)", rows[i].want);
		if (of_send != rows[i].of_send)
			fail_msg("%s: of_send %d", rows[i].label, of_send);
		/* a send's address comes back as the send spells it */
		if (rows[i].want == one_rcpt[0] ||
		    rows[i].want == three_rcpts[1] ||
		    rows[i].want == three_rcpts[2])
			if (got != rows[i].want)
				fail_msg("%s: not the send's own string",
					 rows[i].label);
		if (rows[i].reported != NULL && rows[i].want == rows[i].reported)
			assert_ptr_equal(got, rows[i].reported);
	}
	/* of_send may be NULL */
	assert_ptr_equal(fm_inbound_recipient(&single, 1, NULL, NULL, NULL),
			 one_rcpt[0]);
}

/* ---- fm_inbound_events ---- */

static const char *const dsn_send_rcpts[] = {
	"user@remote.example", "other@remote.example",
};
static const fm_send_t dsn_send = {
	.code = "0123456789abcdefgh", .sender = "news@example.nl",
	.msgid = "<m1@example.nl>", .rcpts = dsn_send_rcpts, .nrcpts = 2,
};
static const char *const arf_send_rcpts[] = {"subscriber@mailbox.example"};
static const fm_send_t arf_send = {
	.code = "0123456789abcdefgh", .sender = "news@example.nl",
	.msgid = NULL, .rcpts = arf_send_rcpts, .nrcpts = 1,
};

/* dsn_rcpts - two recipients of a DSN: everything set, then little */
static void dsn_rcpts(fm_rcpt_report_t r[2])
{
	memset(r, 0, 2 * sizeof(r[0]));
	r[0].recipient = "User@Remote.example";
	r[0].orig_recipient = "rfc822;user@remote.example";
	r[0].cls = FM_CLASS_HARD;
	r[0].reason = FM_REASON_USERUNKNOWN;
	strcpy(r[0].status, "5.1.1");
	r[0].action = "failed";
	r[0].diagnostic = "smtp; 550 5.1.1 <user@remote.example>: no such user";
	r[0].remote_mta = "mx.remote.example";
	r[0].feedback_type = "";
	r[0].command = "RCPT";
	r[0].reply_code = 550;
	r[1].recipient = "other@remote.example";
	r[1].orig_recipient = "";
	r[1].cls = FM_CLASS_DELAYED;
	r[1].reason = FM_REASON_EXPIRED;
	strcpy(r[1].status, "4.4.7");
	r[1].action = "delayed";
	r[1].diagnostic = "";
	r[1].remote_mta = "";
	r[1].feedback_type = "";
	r[1].command = "";
	r[1].reply_code = 0;
}

/* report_of - a report of kind with n recipients */
static fm_report_t report_of(fm_kind_t kind, fm_rcpt_report_t *r, size_t n,
			     const char *reporting_mta)
{
	fm_report_t rep;

	memset(&rep, 0, sizeof(rep));
	rep.kind = kind;
	rep.reporting_mta = reporting_mta;
	rep.orig_message_id = "";
	rep.orig_sender = "";
	rep.subject = "";
	rep.nrcpts = n;
	rep.rcpts = r;
	return rep;
}

/* spf_pass - an SPF pass for MAIL FROM bounce@remote.example */
static void spf_pass(fm_spf_outcome_t *spf)
{
	memset(spf, 0, sizeof(*spf));
	spf->result = FM_SPF_PASS;
	spf->identity = FM_SPF_MAILFROM;
	strcpy(spf->domain, "remote.example");
	strcpy(spf->sender, "bounce@remote.example");
}

/* dkim_with - a DKIM report with n signatures (results cycle) */
static void dkim_with(fm_dkim_report_t *d, size_t n)
{
	static const fm_dkim_result_t results[] = {
		FM_DKIM_PASS, FM_DKIM_FAIL, FM_DKIM_PERMERROR,
	};
	size_t i;

	memset(d, 0, sizeof(*d));
	d->count = d->total = n;
	d->summary = n ? FM_DKIM_PASS : FM_DKIM_NONE;
	for (i = 0; i < n; i++) {
		d->sigs[i].result = results[i % NROWS(results)];
		snprintf(d->sigs[i].domain, sizeof(d->sigs[i].domain),
			 "d%zu.example", i);
		snprintf(d->sigs[i].selector, sizeof(d->sigs[i].selector),
			 "sel%zu", i);
	}
}

/* base_in - the input fields every events test shares */
static fm_inbound_in_t base_in(const fm_report_t *rep, const fm_send_t *send,
			       const fm_spf_outcome_t *spf,
			       const fm_dkim_report_t *dkim)
{
	fm_inbound_in_t in;

	memset(&in, 0, sizeof(in));
	in.report = rep;
	in.send = send;
	in.code = "0123456789abcdefgh";
	in.verified = 1;
	in.now = T0 + 5 * DAY;
	in.qid = "4AbCdEf";
	in.client = "192.0.2.25";
	in.helo = "mx.remote.example";
	in.envfrom = "";
	in.spf = spf;
	in.dkim = dkim;
	return in;
}

/* str_or_null - compare a field that may be NULL */
static void str_or_null(const char *label, const char *field,
			const char *got, const char *want)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s \"%s\", want \"%s\"", label, field,
			 got ? got : "(null)", want ? want : "(null)");
}

/* check_common - the fields that come from the message, not a recipient */
static void check_common(const char *label, const fm_event_t *e,
			 const fm_inbound_in_t *in, const char *kind,
			 const fm_event_sig_t *sigs, size_t nsigs)
{
	assert_ptr_equal(e->code, in->code);
	assert_int_equal(e->verified, in->verified);
	assert_int_equal(e->created, in->now);
	str_or_null(label, "queue_id", e->queue_id,
		    in->qid && *in->qid ? in->qid : NULL);
	str_or_null(label, "kind", e->kind, kind);
	str_or_null(label, "reporting_mta", e->reporting_mta,
		    in->report && *in->report->reporting_mta ?
		    in->report->reporting_mta : NULL);
	str_or_null(label, "client", e->client_addr,
		    in->client && *in->client ? in->client : NULL);
	str_or_null(label, "helo", e->helo,
		    in->helo && *in->helo ? in->helo : NULL);
	assert_ptr_equal(e->envfrom, in->envfrom);
	if (in->spf != NULL) {
		str_or_null(label, "spf_result", e->spf_result,
			    fm_spf_result_name(in->spf->result));
		str_or_null(label, "spf_domain", e->spf_domain,
			    *in->spf->domain ? in->spf->domain : NULL);
	} else {
		assert_null(e->spf_result);
		assert_null(e->spf_domain);
	}
	assert_ptr_equal(e->sigs, sigs);
	assert_int_equal(e->nsigs, nsigs);
	assert_int_equal(e->send_id, 0);
	assert_int_equal(e->id, 0);
}

/* test_events_dsn - two recipients, with and without a send record */
static void test_events_dsn(void **state)
{
	fm_rcpt_report_t r[2];
	fm_report_t rep;
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	fm_event_t ev[4];
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_inbound_in_t in;
	int with_send;

	(void)state;
	dsn_rcpts(r);
	rep = report_of(FM_KIND_DSN, r, 2, "mta.remote.example");
	spf_pass(&spf);
	dkim_with(&dkim, 1);
	for (with_send = 0; with_send <= 1; with_send++) {
		const char *label = with_send ? "dsn with send" : "dsn";

		in = base_in(&rep, with_send ? &dsn_send : NULL, &spf, &dkim);
		memset(ev, GUARD, sizeof(ev));
		memset(sigs, GUARD, sizeof(sigs));
		assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 2);
		check_common(label, &ev[0], &in, "dsn", sigs, 1);
		check_common(label, &ev[1], &in, "dsn", sigs, 1);
		/* the first recipient: every field given */
		assert_string_equal(ev[0].cls, "hard");
		assert_string_equal(ev[0].reason, "userunknown");
		assert_ptr_equal(ev[0].status, r[0].status);
		assert_ptr_equal(ev[0].action, r[0].action);
		assert_ptr_equal(ev[0].orig_recipient, r[0].orig_recipient);
		assert_ptr_equal(ev[0].diagnostic, r[0].diagnostic);
		assert_ptr_equal(ev[0].remote_mta, r[0].remote_mta);
		assert_null(ev[0].feedback_type);
		assert_int_equal(ev[0].replycode, 550);
		/* matched to the send's spelling, or as reported */
		assert_ptr_equal(ev[0].recipient,
				 with_send ? dsn_send_rcpts[0] : r[0].recipient);
		/* the second: empty strings become NULL */
		assert_string_equal(ev[1].cls, "delayed");
		assert_string_equal(ev[1].reason, "expired");
		assert_string_equal(ev[1].status, "4.4.7");
		assert_string_equal(ev[1].action, "delayed");
		assert_null(ev[1].orig_recipient);
		assert_null(ev[1].diagnostic);
		assert_null(ev[1].remote_mta);
		assert_null(ev[1].feedback_type);
		assert_int_equal(ev[1].replycode, 0);
		assert_ptr_equal(ev[1].recipient,
				 with_send ? dsn_send_rcpts[1] : r[1].recipient);
		/* the signature */
		assert_ptr_equal(sigs[0].domain, dkim.sigs[0].domain);
		assert_ptr_equal(sigs[0].selector, dkim.sigs[0].selector);
		assert_string_equal(sigs[0].result, "pass");
		/* nothing written past the events made */
		{
			fm_event_t g;

			memset(&g, GUARD, sizeof(g));
			assert_memory_equal(&ev[2], &g, sizeof(g));
		}
	}
}

/* test_events_arf - a complaint with a redacted recipient */
static void test_events_arf(void **state)
{
	fm_rcpt_report_t r[1];
	fm_report_t rep;
	fm_event_t ev[2];
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_inbound_in_t in;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].recipient = "xxxxxxxx@mailbox.example";
	r[0].orig_recipient = "";
	r[0].cls = FM_CLASS_COMPLAINT;
	r[0].reason = FM_REASON_FEEDBACK;
	r[0].action = "";
	r[0].diagnostic = "";
	r[0].remote_mta = "";
	r[0].feedback_type = "abuse";
	r[0].command = "";
	rep = report_of(FM_KIND_ARF, r, 1, "");

	/* the send's only recipient stands in for the redacted one */
	in = base_in(&rep, &arf_send, NULL, NULL);
	in.qid = "";
	in.helo = "";
	in.client = NULL;
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	check_common("arf", &ev[0], &in, "arf", sigs, 0);
	assert_null(ev[0].queue_id);
	assert_null(ev[0].reporting_mta);
	assert_null(ev[0].helo);
	assert_null(ev[0].client_addr);
	assert_string_equal(ev[0].cls, "complaint");
	assert_string_equal(ev[0].reason, "feedback");
	assert_string_equal(ev[0].feedback_type, "abuse");
	assert_null(ev[0].status);
	assert_null(ev[0].action);
	assert_null(ev[0].diagnostic);
	assert_null(ev[0].remote_mta);
	assert_int_equal(ev[0].replycode, 0);
	assert_ptr_equal(ev[0].recipient, arf_send_rcpts[0]);

	/* without a send the redacted address is what there is */
	in = base_in(&rep, NULL, NULL, NULL);
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	assert_ptr_equal(ev[0].recipient, r[0].recipient);

	/* fully redacted and no send: no recipient at all */
	r[0].recipient = "";
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	assert_null(ev[0].recipient);
}

/* test_events_autoreply - an auto-reply, with a DKIM report of 3 sigs */
static void test_events_autoreply(void **state)
{
	fm_rcpt_report_t r[1];
	fm_report_t rep;
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	fm_event_t ev[2];
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_inbound_in_t in;
	size_t i;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].recipient = "alice@remote.example";
	r[0].orig_recipient = "";
	r[0].cls = FM_CLASS_AUTOREPLY;
	r[0].reason = FM_REASON_VACATION;
	r[0].action = "";
	r[0].diagnostic = "Out of office until Monday";
	r[0].remote_mta = "";
	r[0].feedback_type = "";
	r[0].command = "";
	rep = report_of(FM_KIND_AUTOREPLY, r, 1, "");
	memset(&spf, 0, sizeof(spf));
	spf.result = FM_SPF_SOFTFAIL;
	spf.identity = FM_SPF_HELO;
	dkim_with(&dkim, 3);
	in = base_in(&rep, NULL, &spf, &dkim);
	in.verified = 0;
	in.code = NULL;
	in.envfrom = "alice@remote.example";
	memset(sigs, GUARD, sizeof(sigs));
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	check_common("autoreply", &ev[0], &in, "autoreply", sigs, 3);
	assert_null(ev[0].code);
	assert_int_equal(ev[0].verified, 0);
	assert_string_equal(ev[0].spf_result, "softfail");
	assert_null(ev[0].spf_domain);	/* "" */
	assert_string_equal(ev[0].envfrom, "alice@remote.example");
	assert_string_equal(ev[0].cls, "autoreply");
	assert_string_equal(ev[0].reason, "vacation");
	assert_string_equal(ev[0].diagnostic, "Out of office until Monday");
	assert_ptr_equal(ev[0].recipient, r[0].recipient);
	for (i = 0; i < 3; i++) {
		assert_ptr_equal(sigs[i].domain, dkim.sigs[i].domain);
		assert_ptr_equal(sigs[i].selector, dkim.sigs[i].selector);
	}
	assert_string_equal(sigs[0].result, "pass");
	assert_string_equal(sigs[1].result, "fail");
	assert_string_equal(sigs[2].result, "permerror");
	/* sigs past the count untouched */
	{
		fm_event_sig_t g;

		memset(&g, GUARD, sizeof(g));
		assert_memory_equal(&sigs[3], &g, sizeof(g));
	}
}

/* test_events_nothing - no recipients: one event of class unknown */
static void test_events_nothing(void **state)
{
	static const fm_send_t multi = {.rcpts = three_rcpts, .nrcpts = 3};
	static const fm_send_t single = {.rcpts = one_rcpt, .nrcpts = 1};
	fm_report_t rep;
	fm_dkim_report_t dkim;
	fm_event_t ev[2], g;
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_inbound_in_t in;

	(void)state;
	rep = report_of(FM_KIND_NONE, NULL, 0, "");
	dkim_with(&dkim, 0);
	in = base_in(&rep, &single, NULL, &dkim);
	memset(ev, GUARD, sizeof(ev));
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	check_common("nothing", &ev[0], &in, "none", sigs, 0);
	assert_string_equal(ev[0].cls, "unknown");
	assert_string_equal(ev[0].reason, "undefined");
	assert_ptr_equal(ev[0].recipient, one_rcpt[0]);
	assert_null(ev[0].status);
	assert_null(ev[0].action);
	assert_null(ev[0].orig_recipient);
	assert_null(ev[0].diagnostic);
	assert_null(ev[0].remote_mta);
	assert_null(ev[0].feedback_type);
	assert_int_equal(ev[0].replycode, 0);
	memset(&g, GUARD, sizeof(g));
	assert_memory_equal(&ev[1], &g, sizeof(g));

	/* several recipients sent: none of them can be picked */
	in.send = &multi;
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	assert_null(ev[0].recipient);
	in.send = NULL;
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	assert_null(ev[0].recipient);

	/* no report at all */
	in.report = NULL;
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 1);
	assert_string_equal(ev[0].kind, "none");
	assert_null(ev[0].reporting_mta);
	assert_string_equal(ev[0].cls, "unknown");
}

/* test_events_max - at most max events; max 0 writes none */
static void test_events_max(void **state)
{
	fm_rcpt_report_t r[3];
	fm_report_t rep;
	fm_event_t ev[4], g;
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_inbound_in_t in;
	size_t i;

	(void)state;
	dsn_rcpts(r);
	r[2] = r[0];
	r[2].recipient = "third@remote.example";
	rep = report_of(FM_KIND_DSN, r, 3, "mta.remote.example");
	in = base_in(&rep, NULL, NULL, NULL);
	memset(&g, GUARD, sizeof(g));
	for (i = 0; i <= 3; i++) {
		size_t j;

		memset(ev, GUARD, sizeof(ev));
		assert_int_equal(fm_inbound_events(&in, ev, i, sigs), i);
		for (j = 0; j < i; j++)
			assert_ptr_equal(ev[j].recipient, r[j].recipient);
		for (; j < NROWS(ev); j++)
			assert_memory_equal(&ev[j], &g, sizeof(g));
	}
	/* more room than recipients */
	assert_int_equal(fm_inbound_events(&in, ev, NROWS(ev), sigs), 3);
	/* no recipients and max 0: not even the unknown event */
	rep.nrcpts = 0;
	memset(ev, GUARD, sizeof(ev));
	assert_int_equal(fm_inbound_events(&in, ev, 0, sigs), 0);
	assert_memory_equal(&ev[0], &g, sizeof(g));
}

/* test_events_dkim_counts - nsigs and sigs for 0, 1 and 3 signatures */
static void test_events_dkim_counts(void **state)
{
	static const struct {
		const char *label;
		int have_dkim;
		size_t count;
		size_t want;
	} rows[] = {
		{"no DKIM report", 0, 0, 0},
		{"no signature", 1, 0, 0},
		{"one signature", 1, 1, 1},
		{"three signatures", 1, 3, 3},
		{"the most kept", 1, FM_DKIM_MAX_SIGS, FM_DKIM_MAX_SIGS},
	};
	fm_rcpt_report_t r[2];
	fm_report_t rep;
	fm_dkim_report_t dkim;
	fm_event_t ev[2];
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_inbound_in_t in;
	size_t i, j;

	(void)state;
	dsn_rcpts(r);
	rep = report_of(FM_KIND_DSN, r, 2, "");
	for (i = 0; i < NROWS(rows); i++) {
		dkim_with(&dkim, rows[i].count);
		in = base_in(&rep, NULL, NULL, rows[i].have_dkim ? &dkim : NULL);
		assert_int_equal(fm_inbound_events(&in, ev, 2, sigs), 2);
		for (j = 0; j < 2; j++) {
			if (ev[j].nsigs != rows[i].want || ev[j].sigs != sigs)
				fail_msg("%s: event %zu nsigs %zu", rows[i].label,
					 j, ev[j].nsigs);
		}
		for (j = 0; j < rows[i].want; j++) {
			char want[32];

			snprintf(want, sizeof(want), "d%zu.example", j);
			if (strcmp(sigs[j].domain, want) != 0)
				fail_msg("%s: sig %zu domain %s", rows[i].label,
					 j, sigs[j].domain);
			snprintf(want, sizeof(want), "sel%zu", j);
			assert_string_equal(sigs[j].selector, want);
			assert_string_equal(sigs[j].result,
					    fm_dkim_result_name(
						    dkim.sigs[j].result));
		}
	}
}

/* ---- fm_inbound_authenticated ---- */

enum { SPF_NULL = -1 };
enum { DK_NULL = -1 };

/* test_authenticated - RequireAuthentication, the full truth table */
static void test_authenticated(void **state)
{
	static const struct {
		const char *label;
		int require;
		int spf;	/* fm_spf_result_t, or SPF_NULL */
		int dkim;	/* fm_dkim_result_t summary, or DK_NULL */
		int want;
	} rows[] = {
		{"none spf pass dkim pass", FM_AUTH_NONE, FM_SPF_PASS, FM_DKIM_PASS, 1},
		{"none spf pass dkim fail", FM_AUTH_NONE, FM_SPF_PASS, FM_DKIM_FAIL, 1},
		{"none spf pass dkim none", FM_AUTH_NONE, FM_SPF_PASS, FM_DKIM_NONE, 1},
		{"none spf fail dkim pass", FM_AUTH_NONE, FM_SPF_FAIL, FM_DKIM_PASS, 1},
		{"none spf fail dkim fail", FM_AUTH_NONE, FM_SPF_FAIL, FM_DKIM_FAIL, 1},
		{"none spf fail dkim none", FM_AUTH_NONE, FM_SPF_FAIL, FM_DKIM_NONE, 1},
		{"spf spf pass dkim pass", FM_AUTH_SPF, FM_SPF_PASS, FM_DKIM_PASS, 1},
		{"spf spf pass dkim fail", FM_AUTH_SPF, FM_SPF_PASS, FM_DKIM_FAIL, 1},
		{"spf spf pass dkim none", FM_AUTH_SPF, FM_SPF_PASS, FM_DKIM_NONE, 1},
		{"spf spf fail dkim pass", FM_AUTH_SPF, FM_SPF_FAIL, FM_DKIM_PASS, 0},
		{"spf spf fail dkim fail", FM_AUTH_SPF, FM_SPF_FAIL, FM_DKIM_FAIL, 0},
		{"spf spf fail dkim none", FM_AUTH_SPF, FM_SPF_FAIL, FM_DKIM_NONE, 0},
		{"dkim spf pass dkim pass", FM_AUTH_DKIM, FM_SPF_PASS, FM_DKIM_PASS, 1},
		{"dkim spf pass dkim fail", FM_AUTH_DKIM, FM_SPF_PASS, FM_DKIM_FAIL, 0},
		{"dkim spf pass dkim none", FM_AUTH_DKIM, FM_SPF_PASS, FM_DKIM_NONE, 0},
		{"dkim spf fail dkim pass", FM_AUTH_DKIM, FM_SPF_FAIL, FM_DKIM_PASS, 1},
		{"dkim spf fail dkim fail", FM_AUTH_DKIM, FM_SPF_FAIL, FM_DKIM_FAIL, 0},
		{"dkim spf fail dkim none", FM_AUTH_DKIM, FM_SPF_FAIL, FM_DKIM_NONE, 0},
		{"any spf pass dkim pass", FM_AUTH_ANY, FM_SPF_PASS, FM_DKIM_PASS, 1},
		{"any spf pass dkim fail", FM_AUTH_ANY, FM_SPF_PASS, FM_DKIM_FAIL, 1},
		{"any spf pass dkim none", FM_AUTH_ANY, FM_SPF_PASS, FM_DKIM_NONE, 1},
		{"any spf fail dkim pass", FM_AUTH_ANY, FM_SPF_FAIL, FM_DKIM_PASS, 1},
		{"any spf fail dkim fail", FM_AUTH_ANY, FM_SPF_FAIL, FM_DKIM_FAIL, 0},
		{"any spf fail dkim none", FM_AUTH_ANY, FM_SPF_FAIL, FM_DKIM_NONE, 0},
		/* only pass counts */
		{"spf softfail", FM_AUTH_SPF, FM_SPF_SOFTFAIL, FM_DKIM_PASS, 0},
		{"spf neutral", FM_AUTH_SPF, FM_SPF_NEUTRAL, FM_DKIM_PASS, 0},
		{"spf none", FM_AUTH_SPF, FM_SPF_NONE, FM_DKIM_PASS, 0},
		{"spf temperror", FM_AUTH_ANY, FM_SPF_TEMPERROR, FM_DKIM_FAIL, 0},
		{"dkim policy", FM_AUTH_DKIM, FM_SPF_PASS, FM_DKIM_POLICY, 0},
		{"dkim neutral", FM_AUTH_ANY, FM_SPF_FAIL, FM_DKIM_NEUTRAL, 0},
		{"dkim temperror", FM_AUTH_DKIM, FM_SPF_PASS, FM_DKIM_TEMPERROR, 0},
		/* no outcome is no pass */
		{"spf missing", FM_AUTH_SPF, SPF_NULL, FM_DKIM_PASS, 0},
		{"dkim missing", FM_AUTH_DKIM, FM_SPF_PASS, DK_NULL, 0},
		{"any, both missing", FM_AUTH_ANY, SPF_NULL, DK_NULL, 0},
		{"any, spf missing, dkim pass", FM_AUTH_ANY, SPF_NULL, FM_DKIM_PASS, 1},
		{"none, both missing", FM_AUTH_NONE, SPF_NULL, DK_NULL, 1},
	};
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		int got;

		memset(&spf, 0, sizeof(spf));
		memset(&dkim, 0, sizeof(dkim));
		spf.result = rows[i].spf == SPF_NULL ? FM_SPF_NONE :
			(fm_spf_result_t)rows[i].spf;
		dkim.summary = rows[i].dkim == DK_NULL ? FM_DKIM_NONE :
			(fm_dkim_result_t)rows[i].dkim;
		dkim.count = dkim.summary == FM_DKIM_NONE ? 0 : 1;
		got = fm_inbound_authenticated(rows[i].require,
					       rows[i].spf == SPF_NULL ? NULL : &spf,
					       rows[i].dkim == DK_NULL ? NULL : &dkim);
		if ((got != 0) != rows[i].want)
			fail_msg("%s: %d, want %d", rows[i].label, got,
				 rows[i].want);
	}
}

/* test_auth_undecided - a temperror that counts asks for a retry */
static void test_auth_undecided(void **state)
{
	static const struct {
		const char *label;
		int require;
		int spf;		/* fm_spf_result_t */
		int sig[2];		/* fm_dkim_result_t of two signatures */
		size_t nsigs;
		int want;
	} rows[] = {
		{"spf temperror, spf required", FM_AUTH_SPF, FM_SPF_TEMPERROR,
		 {0, 0}, 0, 1},
		{"spf temperror, dkim required", FM_AUTH_DKIM, FM_SPF_TEMPERROR,
		 {FM_DKIM_FAIL, 0}, 1, 0},
		{"spf temperror, any", FM_AUTH_ANY, FM_SPF_TEMPERROR,
		 {FM_DKIM_FAIL, 0}, 1, 1},
		{"spf fail, dkim temperror, any", FM_AUTH_ANY, FM_SPF_FAIL,
		 {FM_DKIM_TEMPERROR, 0}, 1, 1},
		{"one signature fails, one temperror, dkim", FM_AUTH_DKIM,
		 FM_SPF_PASS, {FM_DKIM_FAIL, FM_DKIM_TEMPERROR}, 2, 1},
		{"dkim temperror, spf required", FM_AUTH_SPF, FM_SPF_FAIL,
		 {FM_DKIM_TEMPERROR, 0}, 1, 0},
		{"permanent failures", FM_AUTH_ANY, FM_SPF_FAIL,
		 {FM_DKIM_FAIL, 0}, 1, 0},
		{"none required", FM_AUTH_NONE, FM_SPF_TEMPERROR,
		 {FM_DKIM_TEMPERROR, 0}, 1, 0},
	};
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	size_t i, k;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		memset(&spf, 0, sizeof(spf));
		memset(&dkim, 0, sizeof(dkim));
		spf.result = (fm_spf_result_t)rows[i].spf;
		dkim.count = rows[i].nsigs;
		for (k = 0; k < rows[i].nsigs; k++)
			dkim.sigs[k].result = (fm_dkim_result_t)rows[i].sig[k];
		dkim.summary = rows[i].nsigs ? (fm_dkim_result_t)rows[i].sig[0] :
			FM_DKIM_NONE;
		if ((fm_inbound_auth_undecided(rows[i].require, &spf, &dkim) != 0)
		    != rows[i].want)
			fail_msg("%s: want %d", rows[i].label, rows[i].want);
	}
	assert_int_equal(fm_inbound_auth_undecided(FM_AUTH_ANY, NULL, NULL), 0);
}

/* ---- fm_inbound_accept ---- */

/* test_accept - InboundAction per class */
static void test_accept(void **state)
{
	static const char *const configs[] = {
		CONFIG "InboundAction discard complaint=accept\n",
		CONFIG "InboundAction accept\n",
		CONFIG,
		CONFIG "InboundAction discard unknown=accept\n",
		CONFIG "InboundAction accept complaint=discard autoreply=discard\n",
	};
	static const struct {
		const char *label;
		int config;
		const char *cls[3];	/* the events' classes */
		size_t n;
		int want;
	} rows[] = {
		{"complaint=accept: complaint", 0, {"complaint"}, 1, 1},
		{"complaint=accept: hard", 0, {"hard"}, 1, 0},
		{"complaint=accept: autoreply", 0, {"autoreply"}, 1, 0},
		{"complaint=accept: unknown", 0, {"unknown"}, 1, 0},
		{"complaint=accept: hard then complaint", 0,
		 {"hard", "complaint"}, 2, 1},
		{"complaint=accept: complaint then hard", 0,
		 {"complaint", "hard"}, 2, 1},
		{"complaint=accept: soft and delayed", 0, {"soft", "delayed"}, 2,
		 0},
		{"complaint=accept: no events", 0, {NULL}, 0, 0},
		{"complaint=accept: only the first n count", 0,
		 {"hard", "complaint"}, 1, 0},
		{"accept: hard", 1, {"hard"}, 1, 1},
		{"accept: delivered", 1, {"delivered"}, 1, 1},
		{"accept: unknown", 1, {"unknown"}, 1, 1},
		{"accept: no events", 1, {NULL}, 0, 1},
		{"default: hard", 2, {"hard"}, 1, 0},
		{"default: complaint", 2, {"complaint"}, 1, 0},
		{"default: every class", 2,
		 {"soft", "autoreply", "delivered"}, 3, 0},
		{"default: no events", 2, {NULL}, 0, 0},
		{"unknown=accept: no events", 3, {NULL}, 0, 1},
		{"unknown=accept: unknown", 3, {"unknown"}, 1, 1},
		{"unknown=accept: a class name not known", 3, {"bogus"}, 1, 1},
		{"unknown=accept: hard", 3, {"hard"}, 1, 0},
		{"complaint=discard: complaint", 4, {"complaint"}, 1, 0},
		{"complaint=discard: complaint, autoreply", 4,
		 {"complaint", "autoreply"}, 2, 0},
		{"complaint=discard: complaint and hard", 4,
		 {"complaint", "hard"}, 2, 1},
	};
	fm_config_t *cfg[NROWS(configs)];
	fm_event_t ev[3];
	char err[256];
	size_t i, j;

	(void)state;
	for (i = 0; i < NROWS(configs); i++) {
		cfg[i] = fm_config_parse(configs[i], "t.conf", err, sizeof(err));
		if (cfg[i] == NULL)
			fail_msg("config %zu: %s", i, err);
	}
	for (i = 0; i < NROWS(rows); i++) {
		int got;

		memset(ev, 0, sizeof(ev));
		for (j = 0; j < NROWS(ev); j++)
			ev[j].cls = rows[i].cls[j] ? rows[i].cls[j] : "hard";
		got = fm_inbound_accept(cfg[rows[i].config], ev, rows[i].n);
		if (got != rows[i].want)
			fail_msg("%s: %d, want %d", rows[i].label, got,
				 rows[i].want);
	}
	for (i = 0; i < NROWS(configs); i++)
		fm_config_unref(cfg[i]);
}

/* ---- fm_inbound_ar_value ---- */

typedef struct {
	const char *domain, *selector;
	fm_dkim_result_t result;
} ar_sig_t;

/* test_ar_value - exact Authentication-Results values */
static void test_ar_value(void **state)
{
	static const struct {
		const char *label;
		const char *authserv;
		int spf;		/* fm_spf_result_t, or SPF_NULL */
		fm_spf_identity_t identity;
		const char *spf_domain, *spf_sender;
		int dkim;		/* signatures, or DK_NULL */
		ar_sig_t sigs[2];
		const char *want;
	} rows[] = {
		{"spf pass, mailfrom", "mx.example.net", FM_SPF_PASS,
		 FM_SPF_MAILFROM, "remote.example", "bounce@remote.example",
		 DK_NULL, {{NULL, NULL, 0}},
		 "mx.example.net;\n\tspf=pass smtp.mailfrom=bounce@remote.example"},
		{"spf none, helo", "mx.example.net", FM_SPF_NONE, FM_SPF_HELO,
		 "mx.remote.example", "postmaster@mx.remote.example", DK_NULL,
		 {{NULL, NULL, 0}},
		 "mx.example.net;\n\tspf=none smtp.helo=mx.remote.example"},
		{"dkim none", "mx.example.net", SPF_NULL, FM_SPF_MAILFROM, "",
		 "", 0, {{NULL, NULL, 0}}, "mx.example.net;\n\tdkim=none"},
		{"nothing checked", "mx.example.net", SPF_NULL, FM_SPF_MAILFROM,
		 "", "", DK_NULL, {{NULL, NULL, 0}}, "mx.example.net"},
		{"spf and two signatures", "mx.example.net", FM_SPF_FAIL,
		 FM_SPF_MAILFROM, "remote.example", "bounce@remote.example", 2,
		 {{"a.example", "s1", FM_DKIM_PASS},
		  {"b.example", "s2", FM_DKIM_FAIL}},
		 "mx.example.net;\n\tspf=fail smtp.mailfrom=bounce@remote.example"
		 ";\n\tdkim=pass header.d=a.example header.s=s1"
		 ";\n\tdkim=fail header.d=b.example header.s=s2"},
		{"spf softfail, dkim none", "mx.example.net", FM_SPF_SOFTFAIL,
		 FM_SPF_MAILFROM, "remote.example", "bounce@remote.example", 0,
		 {{NULL, NULL, 0}},
		 "mx.example.net;\n\tspf=softfail smtp.mailfrom=bounce@remote.example"
		 ";\n\tdkim=none"},
		{"hostile domain", "mx.example.net", SPF_NULL, FM_SPF_MAILFROM,
		 "", "", 1,
		 {{"evil.example; dkim=pass header.d=bank.example", "s1",
		   FM_DKIM_FAIL}},
		 "mx.example.net;\n\tdkim=fail header.d="
		 "evil.exampledkim=passheader.d=bank.example header.s=s1"},
		{"hostile selector", "mx.example.net", SPF_NULL,
		 FM_SPF_MAILFROM, "", "", 1,
		 {{"a.example", "s1 (c) \"q\"\r\nX-Injected: yes\\", FM_DKIM_PASS}},
		 "mx.example.net;\n\tdkim=pass header.d=a.example "
		 "header.s=s1cqX-Injected:yes"},
		{"hostile sender", "mx.example.net", FM_SPF_PASS,
		 FM_SPF_MAILFROM, "remote.example",
		 "a\r\n\tb;spf=pass (x)@remote.example", DK_NULL,
		 {{NULL, NULL, 0}},
		 "mx.example.net;\n\tspf=pass smtp.mailfrom="
		 "abspf=passx@remote.example"},
		{"hostile helo", "mx.example.net", FM_SPF_PASS, FM_SPF_HELO,
		 "h\"elo\x7f\x01\xc3\xa9.example", "", DK_NULL, {{NULL, NULL, 0}},
		 "mx.example.net;\n\tspf=pass smtp.helo=helo.example"},
		{"hostile authserv", "mx (x);\r\nY: z", SPF_NULL,
		 FM_SPF_MAILFROM, "", "", DK_NULL, {{NULL, NULL, 0}},
		 "mxxY:z"},
		{"values cleaned to nothing", NULL, FM_SPF_PASS,
		 FM_SPF_MAILFROM, "", "();\" ", 1, {{" ", "\r\n", FM_DKIM_PASS}},
		 "unknown;\n\tspf=pass smtp.mailfrom=unknown"
		 ";\n\tdkim=pass header.d=unknown header.s=unknown"},
	};
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	char out[1024];
	size_t i, j;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		int rc, semis = 0;
		const char *p;

		memset(&spf, 0, sizeof(spf));
		memset(&dkim, 0, sizeof(dkim));
		if (rows[i].spf != SPF_NULL) {
			spf.result = (fm_spf_result_t)rows[i].spf;
			spf.identity = rows[i].identity;
			snprintf(spf.domain, sizeof(spf.domain), "%s",
				 rows[i].spf_domain);
			snprintf(spf.sender, sizeof(spf.sender), "%s",
				 rows[i].spf_sender);
		}
		if (rows[i].dkim != DK_NULL) {
			dkim.count = (size_t)rows[i].dkim;
			for (j = 0; j < dkim.count; j++) {
				dkim.sigs[j].result = rows[i].sigs[j].result;
				snprintf(dkim.sigs[j].domain,
					 sizeof(dkim.sigs[j].domain), "%s",
					 rows[i].sigs[j].domain);
				snprintf(dkim.sigs[j].selector,
					 sizeof(dkim.sigs[j].selector), "%s",
					 rows[i].sigs[j].selector);
			}
		}
		memset(out, GUARD, sizeof(out));
		rc = fm_inbound_ar_value(rows[i].authserv,
					 rows[i].spf == SPF_NULL ? NULL : &spf,
					 rows[i].dkim == DK_NULL ? NULL : &dkim,
					 out, sizeof(out));
		if (rc != 0 || strcmp(out, rows[i].want) != 0)
			fail_msg("%s: rc %d \"%s\", want \"%s\"", rows[i].label,
				 rc, rc == 0 ? out : "", rows[i].want);
		/* whatever the input: one resinfo per ';', no comments, no
		 * quotes, line breaks only as the folds we put in */
		for (p = out; *p; p++) {
			if (*p == ';') {
				semis++;
				if (strncmp(p, ";\n\t", 3) != 0)
					fail_msg("%s: bare ';'", rows[i].label);
			}
			if (strchr("()\"\\", *p) != NULL)
				fail_msg("%s: '%c' in the value", rows[i].label,
					 *p);
			/* LF only: the MTA adds the CR */
			if (*p == '\r' || (*p == '\n' && p[-1] != ';'))
				fail_msg("%s: line break outside a fold",
					 rows[i].label);
		}
		assert_int_equal(semis, (rows[i].spf != SPF_NULL) +
				 (rows[i].dkim == DK_NULL ? 0 :
				  rows[i].dkim == 0 ? 1 : rows[i].dkim));
	}
}

/* test_ar_value_size - every too-small buffer gives -1 and no overflow,
 * whichever part is the last */
static void test_ar_value_size(void **state)
{
	static const struct {
		const char *label;
		int spf;	/* with an SPF outcome */
		int dkim;	/* signatures, or DK_NULL */
	} rows[] = {
		{"spf and three signatures", 1, 3},
		{"spf only", 1, DK_NULL},
		{"dkim=none only", 0, 0},
		{"one signature only", 0, 1},
		{"authserv only", 0, DK_NULL},
	};
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	char full[512], out[512];
	size_t i, len, size, k;

	(void)state;
	spf_pass(&spf);
	for (i = 0; i < NROWS(rows); i++) {
		const fm_spf_outcome_t *sp = rows[i].spf ? &spf : NULL;
		const fm_dkim_report_t *dk = rows[i].dkim == DK_NULL ? NULL : &dkim;

		if (dk != NULL)
			dkim_with(&dkim, (size_t)rows[i].dkim);
		assert_int_equal(fm_inbound_ar_value("mx.example.net", sp, dk,
						     full, sizeof(full)), 0);
		len = strlen(full);
		for (size = 0; size <= len + 1; size++) {
			int rc;

			memset(out, GUARD, sizeof(out));
			rc = fm_inbound_ar_value("mx.example.net", sp, dk, out,
						 size);
			if (size <= len && rc != -1)
				fail_msg("%s: size %zu of %zu: rc %d",
					 rows[i].label, size, len, rc);
			if (size == len + 1 &&
			    (rc != 0 || strcmp(out, full) != 0))
				fail_msg("%s: exact size: rc %d", rows[i].label,
					 rc);
			for (k = size; k < sizeof(out); k++)
				if ((unsigned char)out[k] != GUARD)
					fail_msg("%s: size %zu: octet %zu written",
						 rows[i].label, size, k);
		}
	}
	dkim_with(&dkim, 0);
	assert_int_equal(fm_inbound_ar_value("mx", NULL, &dkim, out, 14), -1);
	assert_int_equal(fm_inbound_ar_value("mx", NULL, &dkim, out, 15), 0);
	assert_string_equal(out, "mx;\n\tdkim=none");
}

/*
 * test_ar_value_long_sender - a MAIL FROM longer than 255 octets is given
 * whole or not at all. Cut short, a sender at
 * pad...bank.example.attacker.example (SPF pass for the attacker's domain)
 * would read as a pass for a subdomain of bank.example.
 */
static void test_ar_value_long_sender(void **state)
{
	static const char local[] =
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	fm_spf_outcome_t spf;
	char out[1024], domain[256];
	size_t i;
	int rc;

	(void)state;
	spf_pass(&spf);
	/* 63-octet local part, '@', then 178 octets of labels, a dot and
	 * "bank.example": the first 255 octets of the sender end there */
	for (i = 0; i < 178; i++)
		domain[i] = i % 20 == 19 ? '.' : 'p';
	snprintf(domain + 178, sizeof(domain) - 178, "%s",
		 ".bank.example.attacker.example");
	snprintf(spf.sender, sizeof(spf.sender), "%s@%s", local, domain);
	snprintf(spf.domain, sizeof(spf.domain), "%s", domain);
	assert_int_equal(strlen(local), 63);
	assert_int_equal(memcmp(spf.sender + 255 - 13, ".bank.example", 13), 0);
	rc = fm_inbound_ar_value("mx.example.net", &spf, NULL, out,
				 sizeof(out));
	if (rc == 0)
		assert_non_null(strstr(out, spf.sender));
}

/* ---- fm_inbound_event_line ---- */

/* base_event - a hard bounce with a verified code */
static fm_event_t base_event(void)
{
	static const fm_event_sig_t sig = {"remote.example", "s1", "pass"};
	fm_event_t ev;

	memset(&ev, 0, sizeof(ev));
	ev.code = "0123456789abcdefgh";
	ev.verified = 1;
	ev.created = T0;
	ev.queue_id = "4AbCdEf";
	ev.cls = "hard";
	ev.reason = "userunknown";
	ev.status = "5.1.1";
	ev.action = "failed";
	ev.recipient = "user@remote.example";
	ev.diagnostic = "smtp; 550 5.1.1 no such user";
	ev.kind = "dsn";
	ev.replycode = 550;
	ev.spf_result = "pass";
	ev.spf_domain = "remote.example";
	ev.sigs = &sig;
	ev.nsigs = 1;
	return ev;
}

/* test_event_line - exact lines */
static void test_event_line(void **state)
{
	static const fm_event_sig_t two[] = {
		{"a.example", "s1", "pass"}, {"b.example", "s2", "fail"},
	};
	enum { E_HARD, E_SOFT, E_DELAY, E_COMPLAINT, E_AUTOREPLY, E_UNKNOWN,
	       E_UNVERIFIED, E_NOCODE, E_BARE, E_TWO_SIGS, E_HOSTILE };
	static const struct {
		const char *label;
		int event;
		int send;	/* 0 none, 1 with msgid, 2 without */
		const char *want;
	} rows[] = {
		{"hard bounce with send", E_HARD, 1,
		 "bounce code=0123456789abcdefgh class=hard reason=userunknown "
		 "status=5.1.1 rcpt=<user@remote.example> sender=<news@example.nl> "
		 "msgid=<m1@example.nl> spf=pass dkim=pass:remote.example "
		 "diag=\"smtp; 550 5.1.1 no such user\""},
		{"soft bounce, send without msgid", E_SOFT, 2,
		 "bounce code=0123456789abcdefgh class=soft reason=mailboxfull "
		 "status=5.2.2 rcpt=<user@remote.example> sender=<news@example.nl> "
		 "spf=pass dkim=pass:remote.example "
		 "diag=\"smtp; 550 5.1.1 no such user\""},
		{"delayed", E_DELAY, 1,
		 "delay code=0123456789abcdefgh class=delayed reason=expired "
		 "status=4.4.7 rcpt=<user@remote.example> sender=<news@example.nl> "
		 "msgid=<m1@example.nl> spf=pass dkim=pass:remote.example"},
		{"complaint", E_COMPLAINT, 1,
		 "complaint code=0123456789abcdefgh class=complaint "
		 "reason=feedback feedback=abuse rcpt=<user@remote.example> "
		 "sender=<news@example.nl> msgid=<m1@example.nl> spf=pass "
		 "dkim=pass:remote.example"},
		{"autoreply", E_AUTOREPLY, 1,
		 "autoreply code=0123456789abcdefgh class=autoreply "
		 "reason=vacation rcpt=<user@remote.example> "
		 "sender=<news@example.nl> msgid=<m1@example.nl> spf=pass "
		 "dkim=pass:remote.example diag=\"Out of office\""},
		{"unknown send", E_HARD, 0,
		 "bounce code=0123456789abcdefgh class=hard reason=userunknown "
		 "status=5.1.1 rcpt=<user@remote.example> send=unknown spf=pass "
		 "dkim=pass:remote.example diag=\"smtp; 550 5.1.1 no such user\""},
		{"unknown class", E_UNKNOWN, 0,
		 "unknown code=0123456789abcdefgh class=unknown reason=undefined "
		 "rcpt=<> send=unknown spf=pass dkim=pass:remote.example"},
		{"verified=no", E_UNVERIFIED, 0,
		 "bounce code=0123456789abcdefgh verified=no class=hard "
		 "reason=userunknown status=5.1.1 rcpt=<user@remote.example> "
		 "send=unknown spf=pass dkim=pass:remote.example "
		 "diag=\"smtp; 550 5.1.1 no such user\""},
		{"no code", E_NOCODE, 0,
		 "bounce code=- verified=no class=hard reason=userunknown "
		 "status=5.1.1 rcpt=<user@remote.example> send=unknown spf=pass "
		 "dkim=pass:remote.example diag=\"smtp; 550 5.1.1 no such user\""},
		{"no spf, no dkim, no reason", E_BARE, 0,
		 "bounce code=0123456789abcdefgh class=hard reason=undefined "
		 "rcpt=<user@remote.example> send=unknown spf=none dkim=none"},
		{"two signatures", E_TWO_SIGS, 0,
		 "bounce code=0123456789abcdefgh class=hard reason=userunknown "
		 "status=5.1.1 rcpt=<user@remote.example> send=unknown spf=pass "
		 "dkim=pass:a.example,fail:b.example "
		 "diag=\"smtp; 550 5.1.1 no such user\""},
		{"CR, LF and quotes escaped", E_HOSTILE, 0,
		 "bounce code=0123456789abcdefgh class=hard reason=userunknown "
		 "status=5.1.1 rcpt=<user@remote.example> send=unknown spf=pass "
		 "dkim=pass:remote.example "
		 "diag=\"550 bad\\x0d\\x0aX-Forged: \\\"yes\\\" \\\\ end\""},
	};
	static const char *const rcpts[] = {"user@remote.example"};
	const fm_send_t with_msgid = {.sender = "news@example.nl",
		.msgid = "<m1@example.nl>", .rcpts = rcpts, .nrcpts = 1};
	const fm_send_t no_msgid = {.sender = "news@example.nl",
		.msgid = NULL, .rcpts = rcpts, .nrcpts = 1};
	char line[2048];
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		fm_event_t ev = base_event();

		switch (rows[i].event) {
		case E_SOFT:
			ev.cls = "soft";
			ev.reason = "mailboxfull";
			ev.status = "5.2.2";
			break;
		case E_DELAY:
			ev.cls = "delayed";
			ev.reason = "expired";
			ev.status = "4.4.7";
			ev.diagnostic = NULL;
			break;
		case E_COMPLAINT:
			ev.cls = "complaint";
			ev.reason = "feedback";
			ev.status = NULL;
			ev.diagnostic = NULL;
			ev.feedback_type = "abuse";
			break;
		case E_AUTOREPLY:
			ev.cls = "autoreply";
			ev.reason = "vacation";
			ev.status = NULL;
			ev.diagnostic = "Out of office";
			break;
		case E_UNKNOWN:
			ev.cls = "unknown";
			ev.reason = "undefined";
			ev.status = NULL;
			ev.diagnostic = NULL;
			ev.recipient = NULL;
			break;
		case E_UNVERIFIED:
			ev.verified = 0;
			break;
		case E_NOCODE:
			ev.code = NULL;
			ev.verified = 0;
			break;
		case E_BARE:
			ev.reason = NULL;
			ev.status = NULL;
			ev.diagnostic = NULL;
			ev.spf_result = NULL;
			ev.sigs = NULL;
			ev.nsigs = 0;
			break;
		case E_TWO_SIGS:
			ev.sigs = two;
			ev.nsigs = 2;
			break;
		case E_HOSTILE:
			ev.diagnostic = "550 bad\r\nX-Forged: \"yes\" \\ end";
			break;
		default:
			break;
		}
		memset(line, GUARD, sizeof(line));
		fm_inbound_event_line(&ev, rows[i].send == 1 ? &with_msgid :
				      rows[i].send == 2 ? &no_msgid : NULL,
				      line, sizeof(line));
		if (strcmp(line, rows[i].want) != 0)
			fail_msg("%s:\n got \"%s\"\nwant \"%s\"", rows[i].label,
				 line, rows[i].want);
		assert_null(strpbrk(line, "\r\n"));
	}
}

/* test_event_line_hostile_rcpt - a recipient cannot add fields */
static void test_event_line_hostile_rcpt(void **state)
{
	fm_event_t ev = base_event();
	char line[1024];

	(void)state;
	ev.recipient = "a@b\r\nFAKE line\"";
	fm_inbound_event_line(&ev, NULL, line, sizeof(line));
	assert_null(strpbrk(line, "\r\n"));
	assert_non_null(strstr(line, "rcpt=<a@b\\x0d\\x0aFAKE\\x20line\\\">"));
}

/*
 * test_event_line_rcpt_forge - a reported recipient with a space and '>'
 * (an SES notification's emailAddress is kept as given) must not read as
 * a second sender= field
 */
static void test_event_line_rcpt_forge(void **state)
{
	fm_event_t ev = base_event();
	char line[1024];
	const char *p;
	int senders = 0;

	(void)state;
	ev.recipient = "a@b> sender=<ceo@example.nl";
	fm_inbound_event_line(&ev, NULL, line, sizeof(line));
	for (p = line; (p = strstr(p, " sender=")) != NULL; p++)
		senders++;
	assert_int_equal(senders, 0);
}

/* test_event_line_truncated - long values are cut with "...", never
 * beyond the buffer */
static void test_event_line_truncated(void **state)
{
	static const struct {
		const char *label;
		char fill;	/* the diagnostic is 1000 of these */
		size_t size;
	} rows[] = {
		{"plain diagnostic, log-sized line", 'x', 512},
		{"escaped diagnostic, pipeline-sized line", '"', 2048},
		{"control octets, pipeline-sized line", '\r', 2048},
		{"tiny line", 'x', 16},
	};
	char diag[1001], line[2048 + 32];
	size_t i, k, size;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		fm_event_t ev = base_event();
		size_t len;

		memset(diag, rows[i].fill, 1000);
		diag[1000] = '\0';
		ev.diagnostic = diag;
		memset(line, GUARD, sizeof(line));
		fm_inbound_event_line(&ev, NULL, line, rows[i].size);
		len = strlen(line);
		/* full, less at most one escape that would not fit whole */
		if (len > rows[i].size - 1 || len + 4 < rows[i].size - 1)
			fail_msg("%s: length %zu of %zu", rows[i].label, len,
				 rows[i].size);
		if (strcmp(line + len - 3, "...") != 0)
			fail_msg("%s: not marked: %s", rows[i].label, line);
		for (k = rows[i].size; k < sizeof(line); k++)
			if ((unsigned char)line[k] != GUARD)
				fail_msg("%s: octet %zu written", rows[i].label, k);
		/* no raw control octet survives, even at the cut */
		for (k = 0; k < len; k++)
			if ((unsigned char)line[k] < 0x20 || line[k] == 0x7f)
				fail_msg("%s: raw octet %02x at %zu", rows[i].label,
					 (unsigned char)line[k], k);
	}
	/* every size: terminated within it, nothing written past it */
	for (size = 1; size <= 300; size++) {
		fm_event_t ev = base_event();

		memset(diag, 'y', 1000);
		ev.diagnostic = diag;
		memset(line, GUARD, sizeof(line));
		fm_inbound_event_line(&ev, NULL, line, size);
		if (memchr(line, '\0', size) == NULL)
			fail_msg("size %zu: not terminated", size);
		for (k = size; k < size + 32; k++)
			if ((unsigned char)line[k] != GUARD)
				fail_msg("size %zu: octet %zu written", size, k);
	}
}

/* test_event_line_many_sigs - the DKIM list is bounded */
static void test_event_line_many_sigs(void **state)
{
	fm_event_t ev = base_event();
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	char domains[FM_DKIM_MAX_SIGS][254], line[4096];
	size_t i;

	(void)state;
	for (i = 0; i < FM_DKIM_MAX_SIGS; i++) {
		memset(domains[i], 'a' + (int)i, 200);
		memcpy(domains[i] + 200, ".example", 9);
		sigs[i].domain = domains[i];
		sigs[i].selector = "s";
		sigs[i].result = "pass";
	}
	ev.sigs = sigs;
	ev.nsigs = FM_DKIM_MAX_SIGS;
	memset(line, GUARD, sizeof(line));
	fm_inbound_event_line(&ev, NULL, line, sizeof(line));
	/* the first fits, the list stays well below the line */
	assert_non_null(strstr(line, "dkim=pass:aaaa"));
	assert_true(strlen(line) < 1024);
	assert_non_null(strstr(line, "diag="));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_rcpt),
		cmocka_unit_test(test_check_rcpt_entry),
		cmocka_unit_test(test_check_rcpt_long),
		cmocka_unit_test(test_check_rcpt_unparsed),
		cmocka_unit_test(test_check_rcpt_trailing_dot),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_recipient),
		cmocka_unit_test(test_events_dsn),
		cmocka_unit_test(test_events_arf),
		cmocka_unit_test(test_events_autoreply),
		cmocka_unit_test(test_events_nothing),
		cmocka_unit_test(test_events_max),
		cmocka_unit_test(test_events_dkim_counts),
		cmocka_unit_test(test_authenticated),
		cmocka_unit_test(test_auth_undecided),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_ar_value),
		cmocka_unit_test(test_ar_value_size),
		cmocka_unit_test(test_ar_value_long_sender),
		cmocka_unit_test(test_event_line),
		cmocka_unit_test(test_event_line_hostile_rcpt),
		cmocka_unit_test(test_event_line_rcpt_forge),
		cmocka_unit_test(test_event_line_truncated),
		cmocka_unit_test(test_event_line_many_sigs),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
