/*
 * bench_codec - single-thread throughput of fm_code_encode + fm_code_verify
 *
 * Usage: bench_codec [iterations]
 *
 * Each iteration encodes one code for a fresh record id and verifies it, as
 * the milter does once outbound and once per returning message. Prints
 * pairs per second. Build with optimisation, for example:
 *
 *	gcc -std=gnu11 -O2 -Iinclude -o bench_codec \
 *	    tests/bench/bench_codec.c milter/codec.c -lcrypto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"

static const char bench_keys[] =
    "# two keys, so verification looks up a key that does not sign\n"
    "0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "1 f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff\n";

/* bench_seconds - monotonic time in seconds */
static double bench_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *domain = "feedback.example.nl";
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	char code[FM_CODE_LEN + 1], err[256];
	time_t now = time(NULL);
	fm_keyring_t *kr;
	double t0, t1;
	long i, bad = 0;
	int ret = 1;

	if (n <= 0) {
		fprintf(stderr, "usage: %s [iterations]\n", argv[0]);
		return 2;
	}
	if ((kr = fm_keyring_parse(bench_keys, "bench", err, sizeof(err)))
	    == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	t0 = bench_seconds();
	for (i = 0; i < n; i++) {
		uint64_t rid = ((uint64_t)i * 2654435761u) & FM_RECORD_ID_MASK;

		if (fm_code_encode(kr, domain, now, rid, code) != 0
		    || fm_code_verify(kr, domain, code, FM_CODE_LEN, now, 30,
				      NULL) != FM_CODE_OK)
			bad++;
	}
	t1 = bench_seconds();
	if (bad != 0) {
		fprintf(stderr, "%ld of %ld codes failed\n", bad, n);
		goto out;
	}
	printf("%ld encode+verify in %.3f s: %.0f per second, %.0f ns each "
	       "(last code %s)\n", n, t1 - t0, (double)n / (t1 - t0),
	       (t1 - t0) * 1e9 / (double)n, code);
	ret = 0;
out:
	fm_keyring_free(kr);
	return ret;
}
