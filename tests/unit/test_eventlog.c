/*
 * test_eventlog - unit tests for the eventlog module (value escaping, the
 * key=value line builder and the log front end) and for the UTF-8 check
 * it shares with the report parser and the JSON output (utf8.c)
 *
 * Links only milter/eventlog.c, milter/utf8.c and cmocka. Lines are built into buffers
 * that sit inside a larger region filled with a guard pattern, so any write
 * past the size given to the module shows. The fm_log() tests point
 * standard error at a temporary file for the duration of the test.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eventlog.h"
#include "utf8.h"

#define GUARD 0xA5
#define GUARD_LEN 64
#define MAX_SMALL 40		/* buffer sizes 0..MAX_SMALL are tried */

/* guard_intact - the region after the first size octets is untouched */
static int guard_intact(const unsigned char *region, size_t size)
{
	size_t i;

	for (i = size; i < size + GUARD_LEN; i++)
		if (region[i] != GUARD)
			return 0;
	return 1;
}

/* test_escape - one row per class of octet */
static void test_escape(void **state)
{
	static const struct {
		const char *label;
		const char *in;
		const char *want;
	} rows[] = {
		{"empty", "", ""},
		{"plain", "user@example.nl", "user@example.nl"},
		{"space kept", "a b", "a b"},
		{"equals kept", "a=b", "a=b"},
		{"quote", "say \"hi\"", "say \\\"hi\\\""},
		{"backslash", "a\\b", "a\\\\b"},
		{"backslash then quote", "\\\"", "\\\\\\\""},
		{"CR", "a\rb", "a\\x0db"},
		{"LF", "a\nb", "a\\x0ab"},
		{"CRLF forging a line", "x\r\nFAKE: y", "x\\x0d\\x0aFAKE: y"},
		{"tab", "a\tb", "a\\x09b"},
		{"SOH", "\x01", "\\x01"},
		{"ESC", "\x1b[31m", "\\x1b[31m"},
		{"unit separator", "\x1f", "\\x1f"},
		{"DEL", "a\x7f", "a\\x7f"},
		{"tilde kept", "~", "~"},
		{"UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
		{"UTF-8 four octets kept", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
		{"lone high octets escaped", "\x80\x9f\xa0\xff",
		 "\\x80\\x9f\\xa0\\xff"},
		{"overlong escaped", "\xc0\xaf", "\\xc0\\xaf"},
		{"overlong three escaped", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
		{"surrogate escaped", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
		{"past U+10FFFF escaped", "\xf4\x90\x80\x80",
		 "\\xf4\\x90\\x80\\x80"},
		{"sequence cut short", "caf\xc3", "caf\\xc3"},
		{"lead then ASCII", "\xc3(", "\\xc3("},
		{"Latin-1 subject", "Abwesenheitsnotiz: \xfc" "ber",
		 "Abwesenheitsnotiz: \\xfc" "ber"},
		{"every escape", "\"\\\r\n\x7f", "\\\"\\\\\\x0d\\x0a\\x7f"},
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n;

		memset(out, 'Z', sizeof(out));
		n = fm_escape(rows[i].in, out, sizeof(out));
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].label, out,
				 rows[i].want);
		if (n != strlen(rows[i].want))
			fail_msg("%s: returned %zu", rows[i].label, n);
	}
}

/* test_escape_all_octets - exactly the documented octets are escaped */
static void test_escape_all_octets(void **state)
{
	char in[2], out[8], want[8];
	int c;

	(void)state;
	for (c = 1; c < 256; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		if (c == '"' || c == '\\')
			snprintf(want, sizeof(want), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)	/* alone, no octet >= 0x80 is UTF-8 */
			snprintf(want, sizeof(want), "\\x%02x", c);
		else
			snprintf(want, sizeof(want), "%c", c);
		fm_escape(in, out, sizeof(out));
		if (strcmp(out, want) != 0)
			fail_msg("octet 0x%02x: got \"%s\"", c, out);
	}
}

/* test_escape_truncation - always terminated, never half an escape */
static void test_escape_truncation(void **state)
{
	static const char *const values[] = {
		"ab\"c\\d\re\nf\x01g\x7fh",
		"\r\n\r\n",
		"\\\\\\",
		"plain text",
		"\xc3\xa9\x01\xc3\xa9",
	};
	unsigned char region[64 + GUARD_LEN];
	char full[64];
	size_t v, i, size, bounds[64], nbounds;

	(void)state;
	for (v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		const char *value = values[v];
		size_t flen = fm_escape(value, full, sizeof(full));

		/* where each unit's escape ends: an octet, or a UTF-8 lead
		 * octet with its continuation octets */
		nbounds = 0;
		bounds[nbounds++] = 0;
		for (i = 0; value[i]; ) {
			char unit[8], seg[16];
			size_t k = 1;

			while ((unsigned char)value[i] >= 0xc0 &&
			       ((unsigned char)value[i + k] & 0xc0) == 0x80)
				k++;
			memcpy(unit, value + i, k);
			unit[k] = '\0';
			bounds[nbounds] = bounds[nbounds - 1] +
				fm_escape(unit, seg, sizeof(seg));
			nbounds++;
			i += k;
		}
		assert_int_equal(bounds[nbounds - 1], flen);

		for (size = 0; size <= flen + 2; size++) {
			size_t n, want = 0;

			for (i = 0; i < nbounds; i++)
				if (bounds[i] < size)
					want = bounds[i];
			memset(region, GUARD, sizeof(region));
			n = fm_escape(value, (char *)region, size);
			if (!guard_intact(region, size))
				fail_msg("value %zu size %zu: wrote past", v, size);
			if (size == 0) {
				assert_int_equal(n, 0);
				continue;
			}
			if (n != want || strlen((char *)region) != want ||
			    memcmp(region, full, want) != 0)
				fail_msg("value %zu size %zu: got %zu \"%s\", want %zu",
					 v, size, n, (char *)region, want);
		}
	}
}

/* build - build the test line in a buffer of the given size */
static void build(fm_kv_t *kv, char *buf, size_t size)
{
	fm_kv_init(kv, buf, size);
	fm_kv_word(kv, "rewrite");
	fm_kv_str(kv, "qid", "4Xyz12");
	fm_kv_addr(kv, "from", "user@example.nl");
	fm_kv_str(kv, "subject", "a \"b\"\r\nFAKE: x");
	fm_kv_num(kv, "n", -42);
}

#define FULL_LINE "rewrite qid=4Xyz12 from=<user@example.nl> " \
	"subject=\"a \\\"b\\\"\\x0d\\x0aFAKE: x\" n=-42"

/* test_kv_line - a whole line, separators and quoting */
static void test_kv_line(void **state)
{
	char buf[256];
	fm_kv_t kv;

	(void)state;
	build(&kv, buf, sizeof(buf));
	assert_string_equal(buf, FULL_LINE);
	assert_int_equal(kv.len, strlen(FULL_LINE));
	assert_int_equal(kv.truncated, 0);
	assert_ptr_equal(kv.buf, buf);
	assert_int_equal(kv.size, sizeof(buf));
}

/* test_kv_values - one field per row, on an empty line */
static void test_kv_values(void **state)
{
	enum { WORD, STR, ADDR };
	static const struct {
		const char *label;
		int kind;
		const char *key;
		const char *value;
		const char *want;
	} rows[] = {
		{"word", WORD, NULL, "rewrite", "rewrite"},
		{"plain", STR, "qid", "4Xyz12", "qid=4Xyz12"},
		{"with space", STR, "subject", "hello world", "subject=\"hello world\""},
		{"empty", STR, "msgid", "", "msgid=\"\""},
		{"NULL", STR, "msgid", NULL, "msgid=\"\""},
		{"with equals", STR, "x", "a=b", "x=\"a=b\""},
		{"with quote", STR, "x", "a\"b", "x=a\\\"b"},
		{"quote and space", STR, "x", "a \"b\"", "x=\"a \\\"b\\\"\""},
		{"with tab", STR, "x", "a\tb", "x=a\\x09b"},
		{"with backslash", STR, "x", "a\\b", "x=a\\\\b"},
		{"UTF-8", STR, "x", "caf\xc3\xa9", "x=caf\xc3\xa9"},
		{"addr", ADDR, "from", "user@example.nl", "from=<user@example.nl>"},
		{"null addr", ADDR, "from", "", "from=<>"},
		{"NULL addr", ADDR, "from", NULL, "from=<>"},
		{"addr with space", ADDR, "from", "\"a b\"@example.nl",
		 "from=<\\\"a\\x20b\\\"@example.nl>"},
		{"addr cannot close its field", ADDR, "rcpt", "a@b> sender=<c@d",
		 "rcpt=<a@b\\x3e\\x20sender=\\x3cc@d>"},
		{"addr with CRLF", ADDR, "from", "a@b\r\nFAKE: x",
		 "from=<a@b\\x0d\\x0aFAKE:\\x20x>"},
		{"addr with bracket", ADDR, "from", "a>b", "from=<a\\x3eb>"},
	};
	char buf[128];
	fm_kv_t kv;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_kv_init(&kv, buf, sizeof(buf));
		if (rows[i].kind == WORD)
			fm_kv_word(&kv, rows[i].value);
		else if (rows[i].kind == STR)
			fm_kv_str(&kv, rows[i].key, rows[i].value);
		else
			fm_kv_addr(&kv, rows[i].key, rows[i].value);
		if (strcmp(buf, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].label, buf,
				 rows[i].want);
		if (kv.len != strlen(buf) || kv.truncated)
			fail_msg("%s: len %zu truncated %d", rows[i].label, kv.len,
				 kv.truncated);
	}
}

/* test_kv_num - numbers, the extremes included */
static void test_kv_num(void **state)
{
	static const struct {
		long long value;
		const char *want;
	} rows[] = {
		{0, "n=0"},
		{1, "n=1"},
		{-42, "n=-42"},
		{1234567890123LL, "n=1234567890123"},
		{LLONG_MAX, "n=9223372036854775807"},
		{LLONG_MIN, "n=-9223372036854775808"},
	};
	char buf[64];
	fm_kv_t kv;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_kv_init(&kv, buf, sizeof(buf));
		fm_kv_num(&kv, "n", rows[i].value);
		assert_string_equal(buf, rows[i].want);
	}
	/* after a word, with a separator */
	fm_kv_init(&kv, buf, sizeof(buf));
	fm_kv_word(&kv, "stored");
	fm_kv_num(&kv, "id", 7);
	fm_kv_num(&kv, "age", 0);
	assert_string_equal(buf, "stored id=7 age=0");
}

/* test_kv_init - an empty line is an empty string; size 0 writes nothing */
static void test_kv_init(void **state)
{
	unsigned char region[8 + GUARD_LEN];
	fm_kv_t kv;

	(void)state;
	memset(region, GUARD, sizeof(region));
	fm_kv_init(&kv, (char *)region, 8);
	assert_int_equal(region[0], '\0');
	assert_int_equal(kv.len, 0);
	assert_int_equal(kv.truncated, 0);
	assert_true(guard_intact(region, 1));

	memset(region, GUARD, sizeof(region));
	fm_kv_init(&kv, (char *)region, 0);
	fm_kv_word(&kv, "x");
	fm_kv_str(&kv, "k", "v");
	assert_true(guard_intact(region, 0));
	assert_int_equal(kv.len, 0);
	assert_int_equal(kv.truncated, 1);
}

/* test_kv_injection - nothing from a value can break the line */
static void test_kv_injection(void **state)
{
	static const char *const values[] = {
		"\r\nFAKE: x",
		"x\r\nMar  1 00:00:00 host feedback-milter[1]: forged",
		"x\nrewrite qid=FORGED",
		"\r",
		"a\" forged=\"b",
		"\x1b]0;title\x07",
	};
	char buf[512];
	fm_kv_t kv;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		fm_kv_init(&kv, buf, sizeof(buf));
		fm_kv_word(&kv, "rewrite");
		fm_kv_str(&kv, "subject", values[i]);
		fm_kv_addr(&kv, "from", values[i]);
		fm_kv_str(&kv, "after", "ok");
		for (j = 0; buf[j]; j++)
			if ((unsigned char)buf[j] < 0x20 || buf[j] == 0x7f)
				fail_msg("value %zu: control octet 0x%02x at %zu", i,
					 (unsigned char)buf[j], j);
		/* the field after the value is still its own field */
		if (strcmp(buf + strlen(buf) - strlen(" after=ok"), " after=ok") != 0)
			fail_msg("value %zu: \"%s\"", i, buf);
		/* a quote from the value never ends the quoted field */
		if (strstr(buf, " forged=\"") != NULL)
			fail_msg("value %zu: forged field: %s", i, buf);
	}
}

/* test_kv_truncation - a long value is cut and marked */
static void test_kv_truncation(void **state)
{
	unsigned char region[24 + GUARD_LEN];
	char *buf = (char *)region;
	fm_kv_t kv;

	(void)state;
	memset(region, GUARD, sizeof(region));
	fm_kv_init(&kv, buf, 24);
	fm_kv_word(&kv, "event");
	fm_kv_str(&kv, "key", "averyveryverylongvalue");
	assert_int_equal(kv.truncated, 1);
	assert_string_equal(buf, "event key=averyveryv...");
	assert_int_equal(strlen(buf), 23);
	assert_int_equal(kv.len, strlen(buf));
	assert_true(guard_intact(region, 24));

	/* once truncated, nothing more is appended */
	fm_kv_word(&kv, "more");
	fm_kv_str(&kv, "k", "v");
	fm_kv_addr(&kv, "a", "b@c");
	fm_kv_num(&kv, "n", 1);
	assert_string_equal(buf, "event key=averyveryv...");
	assert_int_equal(kv.len, 23);
	assert_true(guard_intact(region, 24));

	/* a line that exactly fits (its length + 1) is not truncated */
	memset(region, GUARD, sizeof(region));
	fm_kv_init(&kv, buf, 11);
	fm_kv_word(&kv, "event");
	fm_kv_str(&kv, "k", "v1");
	assert_string_equal(buf, "event k=v1");
	assert_int_equal(kv.truncated, 0);
	/* what no longer fits ends the line with a visible mark */
	fm_kv_word(&kv, "x");
	assert_string_equal(buf, "event k...");
	assert_int_equal(kv.truncated, 1);
	assert_true(guard_intact(region, 11));

	/* after a cut that left room, later fields still add nothing */
	{
		char before[16];

		fm_kv_init(&kv, buf, 12);
		fm_kv_word(&kv, "abcdefgh");
		fm_kv_word(&kv, "abcdefghijk");
		assert_int_equal(kv.truncated, 1);
		assert_string_equal(buf, "abcdefgh...");
		strcpy(before, buf);
		fm_kv_word(&kv, "z");
		fm_kv_num(&kv, "n", 1);
		fm_kv_addr(&kv, "a", "");
		assert_string_equal(buf, before);
		assert_int_equal(kv.len, strlen(before));
	}
}

/* test_kv_small_buffers - every size 0..MAX_SMALL: no overflow, ever */
static void test_kv_small_buffers(void **state)
{
	unsigned char region[MAX_SMALL + GUARD_LEN];
	char *buf = (char *)region;
	size_t size, full = strlen(FULL_LINE), j;
	fm_kv_t kv;

	(void)state;
	assert_true(full > MAX_SMALL);
	for (size = 0; size <= MAX_SMALL; size++) {
		memset(region, GUARD, sizeof(region));
		build(&kv, buf, size);
		if (!guard_intact(region, size))
			fail_msg("size %zu: wrote past the buffer", size);
		if (kv.truncated != 1)
			fail_msg("size %zu: not marked truncated", size);
		if (size == 0) {
			assert_int_equal(kv.len, 0);
			continue;
		}
		if (memchr(buf, '\0', size) == NULL)
			fail_msg("size %zu: not terminated", size);
		if (kv.len != strlen(buf) || kv.len >= size)
			fail_msg("size %zu: len %zu, strlen %zu", size, kv.len,
				 strlen(buf));
		for (j = 0; j < kv.len; j++)
			if (buf[j] == '\r' || buf[j] == '\n')
				fail_msg("size %zu: raw CR or LF", size);
	}
	/* and sizes around the full length */
	for (size = full - 2; size <= full + 2; size++) {
		unsigned char big[128 + GUARD_LEN];

		memset(big, GUARD, sizeof(big));
		build(&kv, (char *)big, size);
		assert_true(guard_intact(big, size));
		assert_int_equal(kv.truncated, size <= full);
		if (size > full)
			assert_string_equal((char *)big, FULL_LINE);
	}
}

/* capture - run fn with standard error going to a string */
static char *capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	char *text;
	long len;
	int saved;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	len = ftell(tmp);
	assert_true(len >= 0);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(tmp);
	assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return text;
}

/* log_levels - lines at several priorities around LOG_INFO */
static void log_levels(void)
{
	fm_log_open("fmtest", LOG_MAIL, FM_LOG_STDERR, LOG_INFO);
	fm_log(LOG_ERR, NULL, "error %d", 1);
	fm_log(LOG_INFO, "4Xyz12", "rewrite %s", "from=<a@b>");
	fm_log(LOG_DEBUG, "4Xyz12", "hidden");
	fm_log_set_level(LOG_DEBUG);
	fm_log(LOG_DEBUG, NULL, "now shown");
	fm_log_set_level(LOG_WARNING);
	fm_log(LOG_NOTICE, NULL, "notice hidden");
	fm_log(LOG_WARNING, NULL, "warning shown");
	fm_log_close();
}

/* test_log - level check inside, queue id prefix, ident */
static void test_log(void **state)
{
	char *text = capture(log_levels);

	(void)state;
	assert_string_equal(text,
		"fmtest: error 1\n"
		"fmtest: 4Xyz12: rewrite from=<a@b>\n"
		"fmtest: now shown\n"
		"fmtest: warning shown\n");
	free(text);
}

/* log_errno - fm_log_errno with errno set */
static void log_errno(void)
{
	fm_log_open("fmtest", LOG_MAIL, FM_LOG_STDERR, LOG_INFO);
	errno = ENOENT;
	fm_log_errno(LOG_ERR, "Q1", "open %s", "/x");
	assert_int_equal(errno, ENOENT);
	errno = EACCES;
	fm_log_errno(LOG_DEBUG, NULL, "hidden");
	assert_int_equal(errno, EACCES);
	fm_log_close();
}

/* test_log_errno - strerror appended, errno preserved */
static void test_log_errno(void **state)
{
	char *text = capture(log_errno);

	(void)state;
	assert_string_equal(text,
		"fmtest: Q1: open /x: No such file or directory\n");
	free(text);
}

/* log_long - a message longer than the line buffer */
static void log_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fm_log_open("fmtest", LOG_MAIL, FM_LOG_STDERR, LOG_INFO);
	fm_log(LOG_INFO, NULL, "%s", big);
	fm_log_close();
}

/* test_log_long - cut to one line, still terminated by one newline */
static void test_log_long(void **state)
{
	char *text = capture(log_long);
	size_t len = strlen(text);

	(void)state;
	assert_true(strncmp(text, "fmtest: xxx", 11) == 0);
	assert_int_equal(len, strlen("fmtest: ") + 2047 + 1);
	assert_int_equal(text[len - 1], '\n');
	assert_null(memchr(text, '\n', len - 1));
	free(text);
}

/* test_regress_kv_unmarked_cut - a cut in the last octets is marked too */
static void test_regress_kv_unmarked_cut(void **state)
{
	char buf[12];
	fm_kv_t kv;

	(void)state;
	/* "abcdefgh " leaves 2 octets: the key is dropped, "=x" appended */
	fm_kv_init(&kv, buf, sizeof(buf));
	fm_kv_word(&kv, "abcdefgh");
	fm_kv_str(&kv, "abc", "x");
	assert_int_equal(kv.truncated, 1);
	if (strstr(buf, "=x") != NULL)
		fail_msg("a value was appended after its key was dropped: \"%s\"",
			 buf);
	assert_true(strlen(buf) >= 3 &&
		    strcmp(buf + strlen(buf) - 3, "...") == 0);
}

/* test_regress_kv_marked_prefix - every truncated line is a prefix + "..." */
static void test_regress_kv_marked_prefix(void **state)
{
	char buf[MAX_SMALL + 1];
	size_t size, n;
	fm_kv_t kv;

	(void)state;
	for (size = 5; size <= MAX_SMALL; size++) {
		build(&kv, buf, size);
		n = strlen(buf);
		if (n < 3 || strcmp(buf + n - 3, "...") != 0 ||
		    strncmp(buf, FULL_LINE, n - 3) != 0)
			fail_msg("size %zu: \"%s\"", size, buf);
	}
}

/* test_regress_kv_long_value - a value cut by the escape buffer is marked */
static void test_regress_kv_long_value(void **state)
{
	char value[2001], buf[4096];
	fm_kv_t kv;

	(void)state;
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	fm_kv_init(&kv, buf, sizeof(buf));
	fm_kv_str(&kv, "k", value);
	/* either the whole value, or a cut that says so */
	if (strlen(buf) != 2 + 2000 && !kv.truncated)
		fail_msg("value of 2000 octets cut to %zu, not marked",
			 strlen(buf) - 2);
}

/* test_utf8_len - RFC 3629 sequences, the wrong ones, and the bound n */
static void test_utf8_len(void **state)
{
	static const struct {
		const char *s;
		size_t n, want;
	} cases[] = {
		{"a", 1, 1},
		{"\0", 1, 1},
		{"\xc3\xa9", 2, 2},		/* U+00E9 */
		{"\xe2\x9c\x94", 3, 3},	/* U+2714 */
		{"\xf0\x9f\x93\xa7", 4, 4},	/* U+1F4E7 */
		{"\xf4\x8f\xbf\xbf", 4, 4},	/* U+10FFFF */
		{"\x80", 1, 0},		/* a lone continuation */
		{"\xc0\x80", 2, 0},		/* overlong NUL */
		{"\xc1\xbf", 2, 0},		/* overlong */
		{"\xe0\x80\x80", 3, 0},	/* overlong */
		{"\xed\xa0\x80", 3, 0},	/* a surrogate */
		{"\xf0\x80\x80\x80", 4, 0},	/* overlong */
		{"\xf4\x90\x80\x80", 4, 0},	/* past U+10FFFF */
		{"\xf5\x80\x80\x80", 4, 0},
		{"\xc3(", 2, 0},		/* no continuation */
		{"\xe2\x9c\x94", 2, 0},	/* cut by n */
		{"\xf0\x9f\x93\xa7", 3, 0},	/* cut by n */
		{"\xc3", 4, 0},		/* cut by the NUL */
		{"a", 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (fm_utf8_len((const unsigned char *)cases[i].s, cases[i].n) !=
		    cases[i].want)
			fail_msg("case %zu: %zu, not %zu", i,
				 fm_utf8_len((const unsigned char *)cases[i].s,
					     cases[i].n), cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_all_octets),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_kv_line),
		cmocka_unit_test(test_kv_values),
		cmocka_unit_test(test_kv_num),
		cmocka_unit_test(test_kv_init),
		cmocka_unit_test(test_kv_injection),
		cmocka_unit_test(test_kv_truncation),
		cmocka_unit_test(test_kv_small_buffers),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_log_errno),
		cmocka_unit_test(test_log_long),
		cmocka_unit_test(test_regress_kv_unmarked_cut),
		cmocka_unit_test(test_regress_kv_marked_prefix),
		cmocka_unit_test(test_regress_kv_long_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
