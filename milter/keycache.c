/*
 * keycache.c - decoded DKIM public keys, kept for the next message
 *
 * libopendkim decodes the public key of every signature it verifies from
 * the DER bytes of its DNS record, with d2i_PUBKEY_bio(). Under OpenSSL 3
 * that decode sets up a decoder chain each time, and it was about a tenth
 * of the milter's CPU time per inbound message (tests/bench/README), for
 * the same few keys over and over. libopendkim offers no way to keep a
 * decoded key.
 *
 * So, as sockopt.c does for accept() and writev(), this file defines
 * d2i_PUBKEY_bio(), which the executable exports; the dynamic linker binds
 * libopendkim's call (an undefined reference to d2i_PUBKEY_bio in Debian's
 * libopendkim.so.11) to it. Ours reads the BIO's bytes and looks them up
 * in a small cache keyed by the bytes themselves: the same bytes always
 * give the same key, so an entry never goes stale and a different record,
 * however similar, never finds another's key. On a hit it returns the
 * cached EVP_PKEY with one more reference (libopendkim frees it with
 * EVP_PKEY_free() when done); on a miss it decodes with d2i_PUBKEY(), the
 * decode d2i_PUBKEY_bio() itself makes, and keeps the result. Undecodable
 * bytes are not kept. OpenSSL allows an EVP_PKEY to be used by several
 * threads at once for public-key operations; the cache itself is guarded
 * by a mutex.
 *
 * FM_KEYCACHE_SLOTS keys are kept, the oldest replaced first. A record
 * comes from one DNS message, so it is at most FM_KEYCACHE_MAX_DER octets
 * long; bytes beyond that are not read, and such a record is decoded from
 * its first FM_KEYCACHE_MAX_DER + 1 octets and not kept. libopendkim
 * hands the record in a memory BIO, whose bytes are read in place (the
 * BIO is left unread; libopendkim frees it next); any other BIO is read
 * into a buffer first.
 * FM_NO_KEYCACHE=1 in the environment turns the cache off (every call
 * decodes), for benchmarks that show the difference.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keycache.h"

struct slot {
	unsigned char *der;	/* malloc'd copy of the record's bytes */
	size_t len;
	EVP_PKEY *key;		/* one reference held by the cache */
};

static struct slot slots[FM_KEYCACHE_SLOTS];
static unsigned next_slot;	/* the slot to replace next */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int disabled = -1;	/* -1: environment not read yet */
static unsigned long hits, decodes, failures;

static int
cache_disabled(void)
{
	int v = disabled;

	if (v < 0) {
		const char *e = getenv("FM_NO_KEYCACHE");

		v = e != NULL && *e != '\0' && *e != '0';
		disabled = v;
	}
	return v;
}

/* read_all - the BIO's bytes, up to FM_KEYCACHE_MAX_DER + 1; how many
 * (0 when the BIO has none or fails at once) */
static long
read_all(BIO *bp, unsigned char *buf)
{
	long n = 0;

	while (n <= FM_KEYCACHE_MAX_DER) {
		int r = BIO_read(bp, buf + n, FM_KEYCACHE_MAX_DER + 1 - (int)n);

		if (r <= 0)
			break;
		n += r;
	}
	return n;
}

/* lookup - the cached key for these bytes, with a new reference; NULL */
static EVP_PKEY *
lookup(const unsigned char *der, size_t len)
{
	EVP_PKEY *key = NULL;
	unsigned i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < FM_KEYCACHE_SLOTS; i++) {
		if (slots[i].key != NULL && slots[i].len == len &&
		    memcmp(slots[i].der, der, len) == 0) {
			if (EVP_PKEY_up_ref(slots[i].key) == 1) {
				key = slots[i].key;
				hits++;
			}
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return key;
}

/* keep - cache key for these bytes (another reference); a copy of the
 * bytes is made; nothing happens when memory runs short */
static void
keep(const unsigned char *der, size_t len, EVP_PKEY *key)
{
	unsigned char *copy = malloc(len);
	struct slot old = {NULL, 0, NULL};
	unsigned i;

	if (copy == NULL)
		return;
	memcpy(copy, der, len);
	pthread_mutex_lock(&lock);
	/* another thread may have kept the same bytes meanwhile */
	for (i = 0; i < FM_KEYCACHE_SLOTS; i++)
		if (slots[i].key != NULL && slots[i].len == len &&
		    memcmp(slots[i].der, der, len) == 0)
			break;
	if (i == FM_KEYCACHE_SLOTS && EVP_PKEY_up_ref(key) == 1) {
		i = next_slot;
		next_slot = (next_slot + 1) % FM_KEYCACHE_SLOTS;
		old = slots[i];
		slots[i].der = copy;
		slots[i].len = len;
		slots[i].key = key;
		copy = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(copy);
	free(old.der);
	EVP_PKEY_free(old.key);
}

/* count - one decode made, that gave a key or not */
static void
count(const EVP_PKEY *key)
{
	pthread_mutex_lock(&lock);
	if (key != NULL)
		decodes++;
	else
		failures++;
	pthread_mutex_unlock(&lock);
}

EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	unsigned char *buf = NULL;
	const unsigned char *der, *p;
	EVP_PKEY *key = NULL;
	long n;

	if (bp == NULL)
		return NULL;
	if (BIO_method_type(bp) == BIO_TYPE_MEM) {
		/* libopendkim's BIO_new_mem_buf(): read the bytes in place */
		char *data = NULL;

		n = BIO_get_mem_data(bp, &data);
		if (n > FM_KEYCACHE_MAX_DER + 1)
			n = FM_KEYCACHE_MAX_DER + 1;
		der = (const unsigned char *)data;
	} else {
		buf = malloc(FM_KEYCACHE_MAX_DER + 1);
		if (buf == NULL)
			return NULL;
		n = read_all(bp, buf);
		der = buf;
	}
	if (n > 0 && n <= FM_KEYCACHE_MAX_DER && !cache_disabled())
		key = lookup(der, (size_t)n);
	if (key == NULL && n > 0) {
		p = der;
		key = d2i_PUBKEY(NULL, &p, n);
		count(key);
		if (key != NULL && n <= FM_KEYCACHE_MAX_DER &&
		    !cache_disabled())
			keep(der, (size_t)n, key);
	}
	free(buf);
	if (key != NULL && a != NULL) {
		EVP_PKEY_free(*a);
		*a = key;
	}
	return key;
}

void
fm_keycache_stats(unsigned long *ndecoded, unsigned long *nreused,
		  unsigned long *nfailed)
{
	pthread_mutex_lock(&lock);
	*ndecoded = decodes;
	*nreused = hits;
	*nfailed = failures;
	pthread_mutex_unlock(&lock);
}

void
fm_keycache_clear(void)
{
	unsigned i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < FM_KEYCACHE_SLOTS; i++) {
		free(slots[i].der);
		EVP_PKEY_free(slots[i].key);
		slots[i].der = NULL;
		slots[i].len = 0;
		slots[i].key = NULL;
	}
	next_slot = 0;
	hits = decodes = failures = 0;
	pthread_mutex_unlock(&lock);
}
