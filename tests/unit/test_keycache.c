/*
 * test_keycache - unit tests for milter/keycache.c: the d2i_PUBKEY_bio()
 * that keeps decoded DKIM keys
 *
 * Links milter/keycache.c, so d2i_PUBKEY_bio() in this program is the
 * module's, as it is for libopendkim in feedback-milter. Keys are real RSA
 * keys made here; each test starts with an empty cache.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keycache.h"

static EVP_PKEY *keys[3];	/* made once */
static unsigned char *ders[3];
static int der_lens[3];

static int setup_keys(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		keys[i] = EVP_RSA_gen(1024);
		if (keys[i] == NULL)
			return -1;
		ders[i] = NULL;
		der_lens[i] = i2d_PUBKEY(keys[i], &ders[i]);
		if (der_lens[i] <= 0)
			return -1;
	}
	return 0;
}

static int teardown_keys(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		EVP_PKEY_free(keys[i]);
		OPENSSL_free(ders[i]);
	}
	fm_keycache_clear();
	return 0;
}

static int clear(void **state)
{
	(void)state;
	fm_keycache_clear();
	return 0;
}

/* assert_counts - the cache's counts since the last clear */
static void assert_counts(unsigned long decoded, unsigned long reused,
			  unsigned long failed)
{
	unsigned long d, r, f;

	fm_keycache_stats(&d, &r, &f);
	assert_int_equal(d, decoded);
	assert_int_equal(r, reused);
	assert_int_equal(f, failed);
}

/* decode - our d2i_PUBKEY_bio() over a memory BIO of these bytes */
static EVP_PKEY *decode(const unsigned char *der, int len, EVP_PKEY **a)
{
	BIO *bio = BIO_new_mem_buf(der, len);
	EVP_PKEY *k;

	assert_non_null(bio);
	k = d2i_PUBKEY_bio(bio, a);
	BIO_free(bio);
	return k;
}

/* test_hit - the second decode of the same bytes is the kept key, with a
 * reference of its own */
static void test_hit(void **state)
{
	EVP_PKEY *k1, *k2;

	(void)state;
	k1 = decode(ders[0], der_lens[0], NULL);
	assert_non_null(k1);
	assert_int_equal(EVP_PKEY_eq(k1, keys[0]), 1);
	k2 = decode(ders[0], der_lens[0], NULL);
	assert_ptr_equal(k2, k1);
	assert_counts(1, 1, 0);
	/* each caller frees its own; the cache keeps one */
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	k1 = decode(ders[0], der_lens[0], NULL);
	assert_int_equal(EVP_PKEY_eq(k1, keys[0]), 1);
	EVP_PKEY_free(k1);
}

/* test_other_bytes - other bytes never get a kept key: another key, and
 * the same key with one octet of its modulus changed */
static void test_other_bytes(void **state)
{
	EVP_PKEY *k0, *k1, *k2;
	unsigned char *bent = malloc((size_t)der_lens[0]);

	(void)state;
	assert_non_null(bent);
	k0 = decode(ders[0], der_lens[0], NULL);
	k1 = decode(ders[1], der_lens[1], NULL);
	assert_non_null(k0);
	assert_non_null(k1);
	assert_ptr_not_equal(k0, k1);
	assert_int_equal(EVP_PKEY_eq(k1, keys[1]), 1);
	assert_int_not_equal(EVP_PKEY_eq(k1, keys[0]), 1);
	/* an octet near the end lies in the modulus (the exponent is the
	 * last few octets) */
	memcpy(bent, ders[0], (size_t)der_lens[0]);
	bent[der_lens[0] - 10] ^= 0x01;
	k2 = decode(bent, der_lens[0], NULL);
	assert_non_null(k2);
	assert_ptr_not_equal(k2, k0);
	assert_int_not_equal(EVP_PKEY_eq(k2, keys[0]), 1);
	EVP_PKEY_free(k0);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	free(bent);
}

/* test_bad_bytes - undecodable bytes give NULL, also the second time (each
 * counted as not decodable), and an empty BIO gives NULL (no decode) */
static void test_bad_bytes(void **state)
{
	static const unsigned char junk[] = "not a DER public key at all";

	(void)state;
	assert_null(decode(junk, sizeof(junk), NULL));
	assert_null(decode(junk, sizeof(junk), NULL));
	assert_null(decode(ders[0], der_lens[0] / 2, NULL));
	assert_null(decode(junk, 0, NULL));
	assert_null(d2i_PUBKEY_bio(NULL, NULL));
	assert_counts(0, 0, 3);
}

/* test_file_bio - a BIO that is not a memory BIO is read through: the
 * same key, kept and found again */
static void test_file_bio(void **state)
{
	EVP_PKEY *k1 = NULL, *k2 = NULL;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		FILE *fp = tmpfile();
		BIO *bio;

		assert_non_null(fp);
		assert_int_equal(fwrite(ders[1], 1, (size_t)der_lens[1], fp),
				 (size_t)der_lens[1]);
		rewind(fp);
		bio = BIO_new_fp(fp, BIO_CLOSE);
		assert_non_null(bio);
		assert_int_not_equal(BIO_method_type(bio), BIO_TYPE_MEM);
		if (i == 0)
			k1 = d2i_PUBKEY_bio(bio, NULL);
		else
			k2 = d2i_PUBKEY_bio(bio, NULL);
		BIO_free(bio);
	}
	assert_non_null(k1);
	assert_int_equal(EVP_PKEY_eq(k1, keys[1]), 1);
	assert_ptr_equal(k2, k1);
	assert_counts(1, 1, 0);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

/* test_out_param - with a, *a is replaced (the old key freed) */
static void test_out_param(void **state)
{
	EVP_PKEY *a = NULL, *k;

	(void)state;
	k = decode(ders[2], der_lens[2], &a);
	assert_non_null(k);
	assert_ptr_equal(a, k);
	/* a second decode into the same pointer frees the first reference */
	k = decode(ders[2], der_lens[2], &a);
	assert_ptr_equal(a, k);
	assert_int_equal(EVP_PKEY_eq(a, keys[2]), 1);
	EVP_PKEY_free(a);
}

/* record - key w's DER with one trailing octet t: a distinct record of the
 * same key (d2i reads the first DER object and ignores what follows);
 * decoded, checked and freed; returns whether it was a hit */
static int record(int w, int t)
{
	unsigned char *rec = malloc((size_t)der_lens[w] + 1);
	unsigned long h0, h1, d, f;
	EVP_PKEY *k;

	assert_non_null(rec);
	memcpy(rec, ders[w], (size_t)der_lens[w]);
	rec[der_lens[w]] = (unsigned char)t;
	fm_keycache_stats(&d, &h0, &f);
	k = decode(rec, der_lens[w] + 1, NULL);
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_eq(k, keys[w]), 1);
	EVP_PKEY_free(k);
	free(rec);
	fm_keycache_stats(&d, &h1, &f);
	return h1 > h0;
}

/* test_eviction - more records than slots: the oldest go first, and every
 * record still decodes to its key */
static void test_eviction(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < FM_KEYCACHE_SLOTS + 3; i++)
		assert_false(record(i % 3, i));
	/* the newest is kept; the first three were replaced */
	assert_true(record((FM_KEYCACHE_SLOTS + 2) % 3, FM_KEYCACHE_SLOTS + 2));
	assert_true(record(3 % 3, 3));
	assert_false(record(0, 0));
}

struct worker {
	int rounds;
	int bad;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < w->rounds; i++) {
		int which = i % 3;
		BIO *bio = BIO_new_mem_buf(ders[which], der_lens[which]);
		EVP_PKEY *k = d2i_PUBKEY_bio(bio, NULL);

		if (k == NULL || EVP_PKEY_eq(k, keys[which]) != 1)
			w->bad++;
		EVP_PKEY_free(k);
		BIO_free(bio);
	}
	return NULL;
}

/* test_threads - four threads decoding the three keys at once */
static void test_threads(void **state)
{
	pthread_t t[4];
	struct worker w[4];
	unsigned long d, r, f;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		w[i].rounds = 300;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
				 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	fm_keycache_stats(&d, &r, &f);
	assert_int_equal(d + r, 1200);
	assert_true(d <= 12);	/* at most one decode per key and thread */
	assert_int_equal(f, 0);
}

static const char *self;	/* argv[0], for the child processes */

/* child_mode - "test_keycache --twice": decode one new key twice; exit 0
 * when the second decode is a new key (two decodes counted), 1 when it is
 * the kept one (one decode, one reuse), 2 on a failure or other counts */
static int child_mode(void)
{
	EVP_PKEY *key = EVP_RSA_gen(1024), *k1, *k2;
	unsigned char *der = NULL;
	unsigned long d, r, f;
	int len, rc;
	BIO *b1, *b2;

	if (key == NULL || (len = i2d_PUBKEY(key, &der)) <= 0)
		return 2;
	b1 = BIO_new_mem_buf(der, len);
	b2 = BIO_new_mem_buf(der, len);
	k1 = d2i_PUBKEY_bio(b1, NULL);
	k2 = d2i_PUBKEY_bio(b2, NULL);
	if (k1 == NULL || k2 == NULL || EVP_PKEY_eq(k1, key) != 1 ||
	    EVP_PKEY_eq(k2, key) != 1)
		rc = 2;
	else
		rc = k1 == k2;
	fm_keycache_stats(&d, &r, &f);
	if (f != 0 || d != (rc == 1 ? 1u : 2u) || r != (rc == 1 ? 1u : 0u))
		rc = 2;
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	BIO_free(b1);
	BIO_free(b2);
	EVP_PKEY_free(key);
	OPENSSL_free(der);
	fm_keycache_clear();
	return rc;
}

/* in_child - this program with --twice and FM_NO_KEYCACHE=VALUE in its
 * environment (a new process image reads the switch afresh); its exit
 * status */
static int in_child(const char *value)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("FM_NO_KEYCACHE", value, 1);
		execl(self, self, "--twice", (char *)NULL);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* test_switch - FM_NO_KEYCACHE=1 makes every call decode; "0" does not */
static void test_switch(void **state)
{
	(void)state;
	assert_int_equal(in_child("1"), 0);
	assert_int_equal(in_child("0"), 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_hit, clear),
		cmocka_unit_test_setup(test_other_bytes, clear),
		cmocka_unit_test_setup(test_bad_bytes, clear),
		cmocka_unit_test_setup(test_file_bio, clear),
		cmocka_unit_test_setup(test_out_param, clear),
		cmocka_unit_test_setup(test_eviction, clear),
		cmocka_unit_test_setup(test_threads, clear),
		cmocka_unit_test_setup(test_switch, clear),
	};

	if (argc == 2 && strcmp(argv[1], "--twice") == 0)
		return child_mode();
	self = argv[0];
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
