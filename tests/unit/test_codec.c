/*
 * test_codec - unit tests for the codec module (coded local parts and keys)
 *
 * Links only milter/codec.c, cmocka and libcrypto. Time is injected through
 * the "now" arguments; key files are written under a private temporary
 * directory that is removed afterwards.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec.h"

#define DAY 86400
#define DOMAIN "feedback.example.nl"
#define T0 ((time_t)1718000000)	/* some day in June 2024 */
#define ALPHABET "0123456789abcdefghjkmnpqrstvwxyz"

/* secret_octet - deterministic test secret for a key id */
static unsigned char secret_octet(int id, int i)
{
	return (unsigned char)(id * 37 + i * 11 + 5);
}

/* key_line - append "ID HEX64\n" for a test key to buf */
static void key_line(char *buf, size_t len, int id)
{
	size_t n = strlen(buf);
	int i;

	n += (size_t)snprintf(buf + n, len - n, "%d ", id);
	for (i = 0; i < FM_KEY_OCTETS; i++)
		n += (size_t)snprintf(buf + n, len - n, "%02x",
				      secret_octet(id, i));
	snprintf(buf + n, len - n, "\n");
}

/* ring_of - keyring with the given ids in order (the last one signs) */
static fm_keyring_t *ring_of(const int *ids, int n)
{
	char text[4096] = "";
	char err[256];
	fm_keyring_t *kr;
	int i;

	for (i = 0; i < n; i++)
		key_line(text, sizeof(text), ids[i]);
	kr = fm_keyring_parse(text, "keys", err, sizeof(err));
	if (kr == NULL)
		fail_msg("parse: %s", err);
	return kr;
}

/* ring1 - keyring with one key */
static fm_keyring_t *ring1(int id)
{
	return ring_of(&id, 1);
}

/* verify - verify a NUL-terminated code with a 30-day lifetime */
static fm_code_status_t verify(const fm_keyring_t *kr, const char *domain,
			       const char *code, time_t now)
{
	return fm_code_verify(kr, domain, code, strlen(code), now, 30, NULL);
}

/* test_roundtrip - many random ids, every key id, verify what was encoded */
static void test_roundtrip(void **state)
{
	static const uint64_t edge[] = { 0, 1, FM_RECORD_ID_MASK,
		FM_RECORD_ID_MASK - 1, UINT64_C(0x555555555) };
	char code[FM_CODE_LEN + 1];
	fm_code_info_t info;
	int id, i;

	(void)state;
	for (id = 0; id < FM_KEY_IDS; id++) {
		fm_keyring_t *kr = ring1(id);

		assert_int_equal(fm_keyring_signing_id(kr), id);
		for (i = 0; i < 300; i++) {
			uint64_t rid = i < 5 ? edge[i] : fm_code_random_id();
			time_t now = T0 + (time_t)i * 7919;

			assert_int_equal(fm_code_encode(kr, DOMAIN, now, rid,
							code), 0);
			assert_int_equal(strlen(code), FM_CODE_LEN);
			assert_int_equal(strspn(code, ALPHABET), FM_CODE_LEN);
			assert_int_equal(fm_code_verify(kr, DOMAIN, code,
							FM_CODE_LEN, now, 30,
							&info), FM_CODE_OK);
			assert_int_equal(info.key_id, id);
			assert_int_equal(info.day, (now / DAY) % 1024);
			assert_true(info.record_id == rid);
			assert_int_equal(info.age_days, 0);
		}
		fm_keyring_free(kr);
	}
}

/* test_mac_layout - the MAC is HMAC-SHA256 over the documented layout */
static void test_mac_layout(void **state)
{
	static const int ids[] = { 7, 19 };
	unsigned char key[FM_KEY_OCTETS], msg[64], md[EVP_MAX_MD_SIZE];
	uint64_t rid = UINT64_C(0x4d2c3b1a9), want_tail = 0, got_tail = 0;
	uint64_t got_head = 0;
	char code[FM_CODE_LEN + 1];
	const char *dom = "Feedback.Example.NL";
	unsigned mdlen, day = (unsigned)((T0 / DAY) % 1024);
	size_t n, i;
	fm_keyring_t *kr = ring_of(ids, 2);

	(void)state;
	for (i = 0; i < FM_KEY_OCTETS; i++)
		key[i] = secret_octet(19, (int)i);
	n = strlen(DOMAIN);
	memcpy(msg, DOMAIN, n);	/* the domain, lowercased */
	msg[n++] = 0;
	msg[n++] = 19;
	msg[n++] = (unsigned char)(day >> 8);
	msg[n++] = (unsigned char)day;
	for (i = 5; i-- > 0;)
		msg[n++] = (unsigned char)(rid >> (8 * i));
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), msg, n, md,
			     &mdlen));
	for (i = 0; i < 5; i++)
		want_tail = want_tail << 8 | md[i];

	assert_int_equal(fm_code_encode(kr, dom, T0, rid, code), 0);
	for (i = 0; i < 10; i++)
		got_head = got_head << 5
		    | (uint64_t)(strchr(ALPHABET, code[i]) - ALPHABET);
	for (i = 10; i < FM_CODE_LEN; i++)
		got_tail = got_tail << 5
		    | (uint64_t)(strchr(ALPHABET, code[i]) - ALPHABET);
	/* 5-bit key id | 10-bit day | 35-bit record id | 40-bit MAC */
	assert_true(got_head == ((uint64_t)19 << 45 | (uint64_t)day << 35
				 | rid));
	assert_true(got_tail == want_tail);
	fm_keyring_free(kr);
}

/* test_every_substitution - any one changed octet is rejected */
static void test_every_substitution(void **state)
{
	static const int ids[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
		29, 30, 31 };
	char code[FM_CODE_LEN + 1], t[FM_CODE_LEN + 1];
	fm_keyring_t *kr = ring_of(ids, FM_KEY_IDS);
	int k, pos, c, accepted;

	(void)state;
	for (k = 0; k < 12; k++) {
		assert_int_equal(fm_code_encode(kr, DOMAIN, T0,
						fm_code_random_id(), code), 0);
		for (pos = 0; pos < FM_CODE_LEN; pos++) {
			for (c = 0; c < 256; c++) {
				memcpy(t, code, sizeof(t));
				t[pos] = (char)c;
				accepted = fm_code_verify(kr, DOMAIN, t,
							  FM_CODE_LEN, T0, 30,
							  NULL) == FM_CODE_OK;
				if (accepted != (c == code[pos]
						 || c == toupper(code[pos])))
					fail_msg("code %s pos %d octet 0x%02x "
						 "accepted=%d", code, pos, c,
						 accepted);
			}
		}
	}
	fm_keyring_free(kr);
}

/* test_substitution_status - alphabet substitutions are MAC or key errors */
static void test_substitution_status(void **state)
{
	static const int ids[] = { 4, 9 };
	char code[FM_CODE_LEN + 1], t[FM_CODE_LEN + 1];
	fm_keyring_t *kr = ring_of(ids, 2);
	fm_code_status_t st;
	int pos;
	const char *a;

	(void)state;
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, 12345, code), 0);
	for (pos = 0; pos < FM_CODE_LEN; pos++) {
		for (a = ALPHABET; *a; a++) {
			if (*a == code[pos])
				continue;
			memcpy(t, code, sizeof(t));
			t[pos] = *a;
			st = verify(kr, DOMAIN, t, T0);
			if (pos == 0 || pos == 1)
				assert_true(st == FM_CODE_BAD_MAC
					    || st == FM_CODE_UNKNOWN_KEY);
			else
				assert_int_equal(st, FM_CODE_BAD_MAC);
		}
		/* i l o u, in either case, are never aliases */
		for (a = "iloILOU!u"; *a; a++) {
			memcpy(t, code, sizeof(t));
			t[pos] = *a;
			assert_int_equal(verify(kr, DOMAIN, t, T0), FM_CODE_SHAPE);
		}
	}
	fm_keyring_free(kr);
}

/* test_shape - wrong length or alphabet */
static void test_shape(void **state)
{
	static const struct {
		const char *label;
		const char *input;
		size_t len;
	} rows[] = {
		{ "empty", "", 0 },
		{ "17 chars", "0123456789abcdefg", 17 },
		{ "19 chars", "0123456789abcdefghj", 19 },
		{ "i", "0123456789abcdefgi", 18 },
		{ "l", "l123456789abcdefgh", 18 },
		{ "o", "01234o6789abcdefgh", 18 },
		{ "u", "0123456789abcuefgh", 18 },
		{ "I upper", "0123456789abcdefgI", 18 },
		{ "U upper", "U123456789abcdefgh", 18 },
		{ "hyphen", "0123456789abcdef-h", 18 },
		{ "plus", "0123456789+bcdefgh", 18 },
		{ "dot", "0123456789abcd.fgh", 18 },
		{ "space", "0123456789abcd fgh", 18 },
		{ "nul inside", "0123456789abc\0efgh", 18 },
		{ "non-ascii", "0123456789abcdef\xc3\xa9", 18 },
		{ "at", "0123456789abcdefg@", 18 },
	};
	fm_keyring_t *kr = ring1(0);
	fm_code_info_t info;
	char out[FM_CODE_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&info, 0xa5, sizeof(info));
		if (fm_code_verify(kr, DOMAIN, rows[i].input, rows[i].len, T0,
				   30, &info) != FM_CODE_SHAPE)
			fail_msg("%s: not a shape error", rows[i].label);
		assert_int_equal(info.key_id, 0);
		assert_true(info.record_id == 0);
		assert_int_equal(fm_code_normalize(rows[i].input, rows[i].len,
						   out), -1);
	}
	assert_int_equal(fm_code_verify(kr, DOMAIN, NULL, 18, T0, 30, NULL),
			 FM_CODE_SHAPE);
	fm_keyring_free(kr);
}

/* test_length_prefix - a longer string is checked only on len octets */
static void test_length_prefix(void **state)
{
	char code[FM_CODE_LEN + 1], buf[64];
	fm_keyring_t *kr = ring1(2);

	(void)state;
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, 99, code), 0);
	snprintf(buf, sizeof(buf), "%s@" DOMAIN, code);
	assert_int_equal(fm_code_verify(kr, DOMAIN, buf, FM_CODE_LEN, T0, 30,
					NULL), FM_CODE_OK);
	assert_int_equal(fm_code_verify(kr, DOMAIN, buf, FM_CODE_LEN + 1, T0,
					30, NULL), FM_CODE_SHAPE);
	fm_keyring_free(kr);
}

/* test_unknown_key - key id not in the keyring; info still filled */
static void test_unknown_key(void **state)
{
	static const int other[] = { 1, 2, 3, 4, 6, 31 };
	fm_keyring_t *signer = ring1(5), *verifier = ring_of(other, 6);
	char code[FM_CODE_LEN + 1];
	fm_code_info_t info;

	(void)state;
	assert_int_equal(fm_code_encode(signer, DOMAIN, T0, 4242, code), 0);
	assert_int_equal(fm_code_verify(verifier, DOMAIN, code, FM_CODE_LEN,
					T0 + 3 * DAY, 30, &info),
			 FM_CODE_UNKNOWN_KEY);
	assert_int_equal(info.key_id, 5);
	assert_true(info.record_id == 4242);
	assert_int_equal(info.day, (T0 / DAY) % 1024);
	assert_int_equal(info.age_days, 3);
	assert_int_equal(verify(NULL, DOMAIN, code, T0), FM_CODE_UNKNOWN_KEY);
	fm_keyring_free(signer);
	fm_keyring_free(verifier);
}

/* test_domain - the code is bound to its feedback domain, case-blind */
static void test_domain(void **state)
{
	static const struct {
		const char *label;
		const char *domain;
		fm_code_status_t want;
	} rows[] = {
		{ "same", DOMAIN, FM_CODE_OK },
		{ "upper case", "FEEDBACK.EXAMPLE.NL", FM_CODE_OK },
		{ "mixed case", "Feedback.Example.Nl", FM_CODE_OK },
		{ "other tld", "feedback.example.com", FM_CODE_BAD_MAC },
		{ "parent", "example.nl", FM_CODE_BAD_MAC },
		{ "trailing dot", DOMAIN ".", FM_CODE_BAD_MAC },
		{ "empty", "", FM_CODE_BAD_MAC },
	};
	fm_keyring_t *kr = ring1(11);
	char code[FM_CODE_LEN + 1];
	char longdom[300];
	size_t i;

	(void)state;
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, 777, code), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (verify(kr, rows[i].domain, code, T0) != rows[i].want)
			fail_msg("%s: want %s", rows[i].label,
				 fm_code_status_str(rows[i].want));
	assert_int_equal(verify(kr, NULL, code, T0), FM_CODE_BAD_MAC);

	assert_int_equal(fm_code_encode(kr, "", T0, 777, code), -1);
	assert_int_equal(fm_code_encode(kr, NULL, T0, 777, code), -1);
	memset(longdom, 'a', sizeof(longdom) - 1);
	longdom[sizeof(longdom) - 1] = '\0';
	assert_int_equal(fm_code_encode(kr, longdom, T0, 777, code), -1);
	longdom[255] = '\0';
	assert_int_equal(fm_code_encode(kr, longdom, T0, 777, code), 0);
	assert_int_equal(verify(kr, longdom, code, T0), FM_CODE_OK);
	fm_keyring_free(kr);
}

/* test_encode_args - bad arguments to encode */
static void test_encode_args(void **state)
{
	fm_keyring_t *kr = ring1(0);
	char code[FM_CODE_LEN + 1];

	(void)state;
	assert_int_equal(fm_code_encode(NULL, DOMAIN, T0, 1, code), -1);
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, FM_RECORD_ID_MASK + 1,
					code), -1);
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, UINT64_MAX, code), -1);
	fm_keyring_free(kr);
}

/* test_expiry - age against lifetime with injected time */
static void test_expiry(void **state)
{
	static const struct {
		const char *label;
		time_t issued;		/* offset from the start of a day */
		time_t checked;		/* offset from the same point */
		unsigned lifetime;
		fm_code_status_t want;
		unsigned age;
	} rows[] = {
		{ "same second", 0, 0, 30, FM_CODE_OK, 0 },
		{ "end of day", 0, DAY - 1, 0, FM_CODE_OK, 0 },
		{ "next midnight", DAY - 1, DAY, 0, FM_CODE_EXPIRED, 1 },
		{ "age = lifetime", 0, 30 * DAY, 30, FM_CODE_OK, 30 },
		{ "lifetime + 1", 0, 31 * DAY, 30, FM_CODE_EXPIRED, 31 },
		{ "late in last day", 5, 30 * DAY + DAY - 1, 30, FM_CODE_OK, 30 },
		{ "one day ahead", DAY, 0, 30, FM_CODE_EXPIRED, 1023 },
		{ "far ahead", 100 * DAY, 0, 900, FM_CODE_EXPIRED, 924 },
		{ "a year", 0, 365 * DAY, 400, FM_CODE_OK, 365 },
		{ "full cycle", 0, 1024 * DAY, 30, FM_CODE_OK, 0 },
	};
	fm_keyring_t *kr = ring1(3);
	char code[FM_CODE_LEN + 1];
	fm_code_info_t info;
	fm_code_status_t st;
	time_t base = (T0 / DAY) * DAY;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(fm_code_encode(kr, DOMAIN,
						base + rows[i].issued, 5,
						code), 0);
		st = fm_code_verify(kr, DOMAIN, code, FM_CODE_LEN,
				    base + rows[i].checked, rows[i].lifetime,
				    &info);
		if (st != rows[i].want || info.age_days != rows[i].age)
			fail_msg("%s: got %s age %u, want %s age %u",
				 rows[i].label, fm_code_status_str(st),
				 info.age_days,
				 fm_code_status_str(rows[i].want), rows[i].age);
	}
	fm_keyring_free(kr);
}

/* test_day_wrap - a code from day 1023 is fresh on day 0 of the next cycle */
static void test_day_wrap(void **state)
{
	static const time_t cycles[] = { 0, 19, 20, 21 };
	fm_keyring_t *kr = ring1(8);
	char code[FM_CODE_LEN + 1];
	fm_code_info_t info;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cycles) / sizeof(cycles[0]); i++) {
		time_t start = cycles[i] * 1024 * DAY;

		assert_int_equal(fm_code_encode(kr, DOMAIN,
						start + 1023 * DAY + 3600,
						31337, code), 0);
		assert_int_equal(fm_code_verify(kr, DOMAIN, code, FM_CODE_LEN,
						start + 1024 * DAY + 5 * DAY,
						30, &info), FM_CODE_OK);
		assert_int_equal(info.day, 1023);
		assert_int_equal(info.age_days, 6);
		assert_int_equal(fm_code_verify(kr, DOMAIN, code, FM_CODE_LEN,
						start + 1024 * DAY + 30 * DAY,
						30, &info), FM_CODE_EXPIRED);
		assert_int_equal(info.age_days, 31);
	}
	/* before 1970, days still count down by one per day */
	assert_int_equal(fm_code_encode(kr, DOMAIN, -1, 1, code), 0);
	assert_int_equal(fm_code_verify(kr, DOMAIN, code, FM_CODE_LEN, 0, 30,
					&info), FM_CODE_OK);
	assert_int_equal(info.day, 1023);
	assert_int_equal(info.age_days, 1);
	fm_keyring_free(kr);
}

/* test_case_insensitive - upper and mixed case codes verify */
static void test_case_insensitive(void **state)
{
	fm_keyring_t *kr = ring1(30);
	char code[FM_CODE_LEN + 1], t[FM_CODE_LEN + 1], n[FM_CODE_LEN + 1];
	int i, k;

	(void)state;
	for (k = 0; k < 50; k++) {
		assert_int_equal(fm_code_encode(kr, DOMAIN, T0,
						fm_code_random_id(), code), 0);
		for (i = 0; i <= FM_CODE_LEN; i++)
			t[i] = (char)toupper((unsigned char)code[i]);
		assert_int_equal(verify(kr, DOMAIN, t, T0), FM_CODE_OK);
		for (i = 0; i < FM_CODE_LEN; i += 2)
			t[i] = code[i];
		assert_int_equal(verify(kr, DOMAIN, t, T0), FM_CODE_OK);
		assert_int_equal(fm_code_normalize(t, FM_CODE_LEN, n), 0);
		assert_string_equal(n, code);
	}
	fm_keyring_free(kr);
}

/* test_normalize - lowercase copy or shape error */
static void test_normalize(void **state)
{
	static const struct {
		const char *label;
		const char *input;
		const char *want;	/* NULL: shape error */
	} rows[] = {
		{ "lower", "0123456789abcdefgh", "0123456789abcdefgh" },
		{ "upper", "JKMNPQRSTVWXYZ0123", "jkmnpqrstvwxyz0123" },
		{ "mixed", "AbCdEfGhJkMnPqRsTv", "abcdefghjkmnpqrstv" },
		{ "i", "0123456789abcdefgi", NULL },
		{ "L", "L123456789abcdefgh", NULL },
		{ "short", "0123456789abcdefg", NULL },
		{ "long", "0123456789abcdefghj", NULL },
		{ "empty", "", NULL },
		{ "symbol", "0123456789abcdefg=", NULL },
	};
	char out[FM_CODE_LEN + 1];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = fm_code_normalize(rows[i].input, strlen(rows[i].input),
				      out);
		if (rows[i].want == NULL) {
			if (r != -1)
				fail_msg("%s: accepted", rows[i].label);
		} else if (r != 0 || strcmp(out, rows[i].want) != 0) {
			fail_msg("%s: got %d \"%s\"", rows[i].label, r,
				 r == 0 ? out : "");
		}
	}
	assert_int_equal(fm_code_normalize(NULL, 18, out), -1);
}

/* test_alphabet_table - each of 256 octets decodes as the alphabet says */
static void test_alphabet_table(void **state)
{
	char in[FM_CODE_LEN + 1], out[FM_CODE_LEN + 1];
	int c;
	const char *hit;

	(void)state;
	memcpy(in, "00000000000000000", FM_CODE_LEN);
	for (c = 0; c < 256; c++) {
		in[FM_CODE_LEN - 1] = (char)c;
		hit = c ? strchr(ALPHABET, tolower(c)) : NULL;
		if (hit == NULL) {
			assert_int_equal(fm_code_normalize(in, FM_CODE_LEN,
							   out), -1);
		} else {
			assert_int_equal(fm_code_normalize(in, FM_CODE_LEN,
							   out), 0);
			assert_int_equal(out[FM_CODE_LEN - 1], *hit);
		}
	}
}

/* test_rotation - the old key still verifies, the new key signs */
static void test_rotation(void **state)
{
	static const int before[] = { 0 }, after[] = { 0, 1 };
	fm_keyring_t *old = ring_of(before, 1), *rot = ring_of(after, 2);
	char oldcode[FM_CODE_LEN + 1], newcode[FM_CODE_LEN + 1];
	fm_code_info_t info;

	(void)state;
	assert_int_equal(fm_keyring_count(rot), 2);
	assert_int_equal(fm_keyring_signing_id(rot), 1);
	assert_int_equal(fm_code_encode(old, DOMAIN, T0, 1, oldcode), 0);
	assert_int_equal(fm_code_encode(rot, DOMAIN, T0 + DAY, 2, newcode), 0);
	assert_int_equal(fm_code_verify(rot, DOMAIN, oldcode, FM_CODE_LEN,
					T0 + 2 * DAY, 30, &info), FM_CODE_OK);
	assert_int_equal(info.key_id, 0);
	assert_int_equal(fm_code_verify(rot, DOMAIN, newcode, FM_CODE_LEN,
					T0 + 2 * DAY, 30, &info), FM_CODE_OK);
	assert_int_equal(info.key_id, 1);
	assert_int_equal(verify(old, DOMAIN, newcode, T0 + DAY),
			 FM_CODE_UNKNOWN_KEY);
	fm_keyring_free(old);
	fm_keyring_free(rot);
}

/* test_parse - key file syntax, good and bad, errors name the line */
static void test_parse(void **state)
{
	static const char k[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char K[] =
	    "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF";
	static const struct {
		const char *label;
		const char *head;	/* text before the secret */
		const char *tail;	/* text after it */
		const char *want;	/* error, or "ok N S" (count, signer) */
	} rows[] = {
		{ "one key", "3 ", "\n", "ok 1 3" },
		{ "no newline", "3 ", "", "ok 1 3" },
		{ "comments", "# keys\n\n  \t\n 7\t", " # newest\n", "ok 1 7" },
		{ "crlf", "# x\r\n0 ", "\r\n", "ok 1 0" },
		{ "two", "31 ", "\n0 ", "keys:2: key 0 has no secret" },
		{ "range", "#\n\n40 ", "\n", "keys:3: key id 40 out of range 0..31" },
		{ "huge id", "99999999999999999999 ", "\n",
		  "keys:1: key id 999999999999 out of range 0..31" },
		{ "negative", "-1 ", "\n", "keys:1: key id is not a number" },
		{ "word", "# c\nkey ", "\n", "keys:2: key id is not a number" },
		{ "id glued", "3x ", "\n", "keys:1: key id is not a number" },
		{ "tabs", "9\t\t", "\t\n", "ok 1 9" },
		{ "long", "1 0", "\n", "keys:1: secret must be 64 hex digits" },
		{ "extra", "1 ", " extra\n",
		  "keys:1: unexpected text after the secret" },
		{ "no keys", "# nothing\n", "", "keys: no keys" },
	};
	char text[512], err[256], got[256];
	fm_keyring_t *kr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].label, "no keys") == 0)
			snprintf(text, sizeof(text), "%s", rows[i].head);
		else
			snprintf(text, sizeof(text), "%s%s%s", rows[i].head,
				 i % 2 ? K : k, rows[i].tail);
		err[0] = '\0';
		kr = fm_keyring_parse(text, "keys", err, sizeof(err));
		if (kr != NULL)
			snprintf(got, sizeof(got), "ok %d %d",
				 fm_keyring_count(kr), fm_keyring_signing_id(kr));
		else
			snprintf(got, sizeof(got), "%s", err);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].label,
				 got, rows[i].want);
		fm_keyring_free(kr);
	}
}

/* test_parse_errors - bad hex, duplicates, empty text */
static void test_parse_errors(void **state)
{
	static const struct {
		const char *label;
		const char *text;
		const char *want;
	} rows[] = {
		{ "bad hex",
		  "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n",
		  "k:1: secret must be 64 hex digits" },
		{ "duplicate",
		  "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		  "# c\n"
		  "1 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n",
		  "k:3: duplicate key id 1 (also on line 1)" },
		{ "short",
		  "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\n",
		  "k:1: secret must be 64 hex digits" },
		{ "empty", "", "k: no keys" },
		{ "blank", "\n\n   \n", "k: no keys" },
	};
	char err[256];
	size_t i;
	fm_keyring_t *kr;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		kr = fm_keyring_parse(rows[i].text, "k", err, sizeof(err));
		assert_null(kr);
		if (strcmp(err, rows[i].want) != 0)
			fail_msg("%s: got \"%s\"", rows[i].label, err);
	}
	assert_null(fm_keyring_parse(NULL, "k", err, sizeof(err)));
	assert_int_equal(fm_keyring_count(NULL), 0);
	assert_int_equal(fm_keyring_signing_id(NULL), -1);
	fm_keyring_free(NULL);
}

/* test_secret_matters - same id, different secret: bad MAC */
static void test_secret_matters(void **state)
{
	static const char a[] =
	    "2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	static const char b[] =
	    "2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefe\n";
	char err[128], code[FM_CODE_LEN + 1];
	fm_keyring_t *ka = fm_keyring_parse(a, "a", err, sizeof(err));
	fm_keyring_t *kb = fm_keyring_parse(b, "b", err, sizeof(err));

	(void)state;
	assert_non_null(ka);
	assert_non_null(kb);
	assert_int_equal(fm_code_encode(ka, DOMAIN, T0, 10, code), 0);
	assert_int_equal(verify(ka, DOMAIN, code, T0), FM_CODE_OK);
	assert_int_equal(verify(kb, DOMAIN, code, T0), FM_CODE_BAD_MAC);
	fm_keyring_free(ka);
	fm_keyring_free(kb);
}

/* tmpdir_setup - private temporary directory for key files */
static int tmpdir_setup(void **state)
{
	char *dir = strdup("/tmp/test_codec.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

/* tmpdir_teardown - remove the temporary directory and what is in it */
static int tmpdir_teardown(void **state)
{
	char cmd[256];
	int r;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	r = system(cmd);
	free(*state);
	return r == 0 ? 0 : -1;
}

/* write_file - create path with text and mode */
static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp;

	(void)unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* file_mode - permission bits of a file */
static unsigned file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (unsigned)st.st_mode & 07777;
}

/* test_load_mode - load refuses files others can reach */
static void test_load_mode(void **state)
{
	static const struct {
		mode_t mode;
		int ok;
	} rows[] = {
		{ 0600, 1 }, { 0640, 1 }, { 0400, 1 }, { 0440, 1 },
		{ 0644, 0 }, { 0660, 0 }, { 0604, 0 }, { 0602, 0 },
		{ 0601, 0 }, { 0666, 0 }, { 0620, 0 },
	};
	const char *dir = *state;
	char path[256], text[256] = "", err[256], want[32];
	fm_keyring_t *kr;
	size_t i;

	snprintf(path, sizeof(path), "%s/keys", dir);
	key_line(text, sizeof(text), 4);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		write_file(path, text, rows[i].mode);
		err[0] = '\0';
		kr = fm_keyring_load(path, err, sizeof(err));
		if ((kr != NULL) != rows[i].ok)
			fail_msg("mode %04o: %s", (unsigned)rows[i].mode, err);
		if (kr == NULL) {
			snprintf(want, sizeof(want), "mode %04o",
				 (unsigned)rows[i].mode);
			assert_non_null(strstr(err, want));
			assert_non_null(strstr(err, "chmod 600"));
			assert_non_null(strstr(err, path));
		} else {
			assert_int_equal(fm_keyring_signing_id(kr), 4);
		}
		fm_keyring_free(kr);
	}
}

/* test_load_errors - missing file, directory, fifo, no keys, bad line */
static void test_load_errors(void **state)
{
	const char *dir = *state;
	char path[256], want[300], err[256];

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_null(fm_keyring_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));

	assert_null(fm_keyring_load(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(fm_keyring_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "# no keys yet\n", 0600);
	assert_null(fm_keyring_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: no keys", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/bad", dir);
	write_file(path, "# c\n\n40 00\n", 0600);
	assert_null(fm_keyring_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: key id 40 out of range 0..31",
		 path);
	assert_string_equal(err, want);
}

/* test_append_new - rotation on disk: next id, wrap, mode, atomic rewrite */
static void test_append_new(void **state)
{
	const char *dir = *state;
	char path[256], err[256], code0[FM_CODE_LEN + 1];
	char code1[FM_CODE_LEN + 1];
	fm_keyring_t *kr;
	int id = -1, i;

	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(fm_keyring_append_new(path, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 0);
	assert_int_equal(file_mode(path), 0600);
	kr = fm_keyring_load(path, err, sizeof(err));
	assert_non_null(kr);
	assert_int_equal(fm_keyring_count(kr), 1);
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, 1, code0), 0);
	fm_keyring_free(kr);

	for (i = 1; i < FM_KEY_IDS; i++) {
		assert_int_equal(fm_keyring_append_new(path, &id, err,
						       sizeof(err)), 0);
		assert_int_equal(id, i);
	}
	kr = fm_keyring_load(path, err, sizeof(err));
	assert_non_null(kr);
	assert_int_equal(fm_keyring_count(kr), 32);
	assert_int_equal(fm_keyring_signing_id(kr), 31);
	assert_int_equal(verify(kr, DOMAIN, code0, T0), FM_CODE_OK);
	assert_int_equal(fm_code_encode(kr, DOMAIN, T0, 1, code1), 0);
	fm_keyring_free(kr);

	/* 31 -> 0: the old key 0 goes, the new one is the last line */
	assert_int_equal(fm_keyring_append_new(path, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 0);
	kr = fm_keyring_load(path, err, sizeof(err));
	assert_non_null(kr);
	assert_int_equal(fm_keyring_count(kr), 32);
	assert_int_equal(fm_keyring_signing_id(kr), 0);
	assert_int_equal(verify(kr, DOMAIN, code0, T0), FM_CODE_BAD_MAC);
	assert_int_equal(verify(kr, DOMAIN, code1, T0), FM_CODE_OK);
	fm_keyring_free(kr);
	assert_int_equal(fm_keyring_append_new(path, NULL, err, sizeof(err)), 0);
	assert_int_equal(file_mode(path), 0600);
}

/* read_file - whole file into buf */
static void read_file(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* test_append_keeps - comments and other lines kept, mode 0640 kept */
static void test_append_keeps(void **state)
{
	const char *dir = *state;
	char path[256], text[1024] = "# rotated monthly\n", got[2048];
	char err[256], *line;
	fm_keyring_t *kr;
	int id = -1;

	snprintf(path, sizeof(path), "%s/keys640", dir);
	key_line(text, sizeof(text), 5);
	key_line(text, sizeof(text), 6);
	strcat(text, "# key 7 next\n");
	key_line(text, sizeof(text), 4);
	text[strlen(text) - 1] = '\0';	/* no final newline */
	write_file(path, text, 0640);
	assert_int_equal(fm_keyring_append_new(path, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 5);
	assert_int_equal(file_mode(path), 0640);
	read_file(path, got, sizeof(got));
	assert_memory_equal(got, "# rotated monthly\n6 ", 20);
	assert_non_null(strstr(got, "# key 7 next\n4 "));
	line = strrchr(got, '\n');
	assert_non_null(line);
	assert_int_equal(line[1], '\0');
	line = strstr(got, "\n5 ");
	assert_non_null(line);
	assert_int_equal(strlen(line), 1 + 2 + 64 + 1);
	kr = fm_keyring_load(path, err, sizeof(err));
	assert_non_null(kr);
	assert_int_equal(fm_keyring_count(kr), 3);
	assert_int_equal(fm_keyring_signing_id(kr), 5);
	fm_keyring_free(kr);

	/* a loose mode is tightened; a broken file is left alone */
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(fm_keyring_append_new(path, &id, err, sizeof(err)), 0);
	assert_int_equal(file_mode(path), 0640);
	snprintf(path, sizeof(path), "%s/broken", dir);
	write_file(path, "1 nothex\n", 0600);
	assert_int_equal(fm_keyring_append_new(path, &id, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "broken:1: secret must be 64 hex digits"));
	read_file(path, got, sizeof(got));
	assert_string_equal(got, "1 nothex\n");
	snprintf(path, sizeof(path), "%s/no/such/dir/keys", dir);
	assert_int_equal(fm_keyring_append_new(path, &id, err, sizeof(err)),
			 -1);
}

/* test_status_str - every status has a text */
static void test_status_str(void **state)
{
	(void)state;
	assert_string_equal(fm_code_status_str(FM_CODE_OK), "ok");
	assert_string_equal(fm_code_status_str(FM_CODE_SHAPE), "malformed code");
	assert_string_equal(fm_code_status_str(FM_CODE_UNKNOWN_KEY),
			    "unknown key");
	assert_string_equal(fm_code_status_str(FM_CODE_BAD_MAC), "bad MAC");
	assert_string_equal(fm_code_status_str(FM_CODE_EXPIRED), "expired");
	assert_string_equal(fm_code_status_str((fm_code_status_t)99),
			    "unknown status");
}

/* test_random_id - in range and not constant */
static void test_random_id(void **state)
{
	uint64_t v, or = 0, and = FM_RECORD_ID_MASK;
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		v = fm_code_random_id();
		assert_true(v <= FM_RECORD_ID_MASK);
		or |= v;
		and &= v;
	}
	assert_true(or == FM_RECORD_ID_MASK);
	assert_true(and == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_mac_layout),
		cmocka_unit_test(test_every_substitution),
		cmocka_unit_test(test_substitution_status),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_length_prefix),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_encode_args),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_day_wrap),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_alphabet_table),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_secret_matters),
		cmocka_unit_test_setup_teardown(test_load_mode, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_append_new, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_append_keeps,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_status_str),
		cmocka_unit_test(test_random_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
