/*
 * fuzz_codec - libFuzzer target for the code decoder
 *
 * Two modes, chosen by the top bit of the first octet:
 *
 *	verify	the rest of the input is a code (no NUL, exactly its
 *		length) given to fm_code_normalize() and fm_code_verify()
 *		against a fixed keyring; a code that verifies must encode
 *		back to itself, and case must not change the verdict
 *	encode	the input gives a key-independent record id and time;
 *		fm_code_encode() must make a code that verifies to them
 *
 * Build and run with tests/fuzz/run.sh; a crash input goes into
 * tests/fuzz/regress/codec/ and is replayed by test_fuzz_regress.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"

#define CODEC_DAY 86400
#define CODEC_T0 ((time_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const codec_domains[] = {
	"feedback.example.nl", "bounces.shop.example", "", "FEEDBACK.example.NL"
};

/* codec_keys - the fixed keyring: ids 1, 2 and 31, signing with 31 */
static const fm_keyring_t *codec_keys(void)
{
	static fm_keyring_t *kr;
	char err[256];

	if (kr == NULL &&
	    (kr = fm_keyring_parse(
		 "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
		 "2 f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100\n"
		 "31 5555555555555555555555555555555555555555555555555555555555555555\n",
		 "fuzz.keys", err, sizeof(err))) == NULL)
		abort();
	return kr;
}

/* codec_u64 - up to 8 octets, big-endian, consumed from *p */
static uint64_t codec_u64(const uint8_t **p, size_t *n, size_t want)
{
	uint64_t v = 0;

	while (want-- > 0 && *n > 0) {
		v = v << 8 | **p;
		(*p)++;
		(*n)--;
	}
	return v;
}

/* codec_encode - encode, then the code must verify to what went in */
static void codec_encode(const uint8_t *p, size_t n, const char *dom)
{
	const fm_keyring_t *kr = codec_keys();
	uint64_t rid = codec_u64(&p, &n, 8) & FM_RECORD_ID_MASK;
	time_t now = CODEC_T0 + (time_t)(codec_u64(&p, &n, 4) % (3650u * CODEC_DAY));
	char code[FM_CODE_LEN + 1];
	fm_code_info_t info;

	if (fm_code_encode(kr, dom, now, rid, code) != 0) {
		if (dom[0] != '\0')
			abort();
		return;		/* no feedback domain: refused */
	}
	if (strlen(code) != FM_CODE_LEN ||
	    fm_code_verify(kr, dom, code, FM_CODE_LEN, now, 30, &info) !=
	    FM_CODE_OK || info.record_id != rid || info.age_days != 0 ||
	    (int)info.key_id != fm_keyring_signing_id(kr))
		abort();
}

/* codec_verify - verify, and check what a good code promises */
static void codec_verify(const uint8_t *p, size_t n, const char *dom,
			 unsigned lifetime)
{
	const fm_keyring_t *kr = codec_keys();
	time_t now = CODEC_T0 + (time_t)(codec_u64(&p, &n, 2) * CODEC_DAY / 8);
	char norm[FM_CODE_LEN + 1], again[FM_CODE_LEN + 1];
	char *code = malloc(n ? n : 1);
	fm_code_info_t info, info2;
	fm_code_status_t st, st2;
	size_t i;

	if (code == NULL)
		abort();
	if (n)
		memcpy(code, p, n);
	memset(&info, 0, sizeof(info));
	st = fm_code_verify(kr, dom, code, n, now, lifetime, &info);
	if (fm_code_status_str(st) == NULL)
		abort();
	if (fm_code_normalize(code, n, norm) == 0) {
		if (strlen(norm) != FM_CODE_LEN)
			abort();
		for (i = 0; i < FM_CODE_LEN; i++)
			if (norm[i] >= 'A' && norm[i] <= 'Z')
				abort();
		st2 = fm_code_verify(kr, dom, norm, FM_CODE_LEN, now,
				     lifetime, &info2);
		if (st2 != st)
			abort();
	} else if (st == FM_CODE_OK) {
		abort();	/* verified what is no code */
	}
	if (st == FM_CODE_OK) {
		if (info.record_id > FM_RECORD_ID_MASK ||
		    info.key_id >= FM_KEY_IDS || info.day >= 1024 ||
		    info.age_days > lifetime)
			abort();
		if ((int)info.key_id == fm_keyring_signing_id(kr)) {
			if (fm_code_encode(kr, dom, now - (time_t)info.age_days *
					   CODEC_DAY, info.record_id, again) != 0 ||
			    strcmp(again, norm) != 0)
				abort();
		}
	}
	free(code);
}

/* LLVMFuzzerTestOneInput - one code, or one record to encode */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dom;
	unsigned lifetime;

	if (size < 1)
		return 0;
	dom = codec_domains[data[0] & 3];
	lifetime = (data[0] >> 2 & 0x1f) * 33u;	/* 0 .. 1023 days */
	if (data[0] & 0x80)
		codec_encode(data + 1, size - 1, dom);
	else
		codec_verify(data + 1, size - 1, dom, lifetime);
	return 0;
}
