/*
 * test_dkimcheck - unit tests for the DKIM verification wrapper
 *
 * Links milter/dkimcheck.c and milter/resolver.c (its static zone backend
 * stands in for DNS), libopendkim, libcrypto and cmocka. RSA keys are made
 * at start-up with libcrypto, messages are signed here with libopendkim
 * (rsa-sha256, relaxed/relaxed) and fed to the wrapper the way the milter
 * will: header by header with the value as after SMFIP_HDR_LEADSPC, then the
 * body in CRLF form in chunks.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <cmocka.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkimcheck.h"
#include "resolver.h"

/* A test key: PEM private key and the DNS TXT text of its public half. */
typedef struct key {
	char *pem;
	char *txt;		/* "v=DKIM1; k=rsa; p=..." */
} key_t_;

static key_t_ key1, key2, key_small;
static DKIM_LIB *signlib;
static char zone[16384];

#define MSG \
	"Received: from mx.remote.example (mx.remote.example [192.0.2.10])\r\n" \
	"\tby mx.feedback-host.example; Sat, 15 Jun 2024 10:00:00 +0000\r\n" \
	"From: Mail Delivery System <MAILER-DAEMON@remote.example>\r\n" \
	"To: b0k7q2m9x4ha3c8rtw@feedback.example.nl\r\n" \
	"Subject: Undelivered Mail Returned to Sender\r\n" \
	"Date: Sat, 15 Jun 2024 10:00:00 +0000\r\n" \
	"Message-ID: <20240615100000.1234@mx.remote.example>\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: text/plain; charset=us-ascii\r\n" \
	"\r\n" \
	"This is the mail system at host mx.remote.example.\r\n" \
	"\r\n" \
	"I'm sorry to have to inform you that your message could not\r\n" \
	"be delivered to one or more recipients.\r\n" \
	"\r\n" \
	"<bob@remote.example>: host mx.remote.example said: 550 5.1.1 user\r\n" \
	"    unknown\r\n"

/* ------------------------------------------------------------ helpers */

/* make_key - an RSA key of bits and its DKIM TXT text */
static void make_key(key_t_ *k, int bits)
{
	EVP_PKEY *pk = EVP_RSA_gen((unsigned)bits);
	unsigned char *der = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int dl;

	assert_non_null(pk);
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL,
						  NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	k->pem = calloc(1, (size_t)n + 1);
	assert_non_null(k->pem);
	memcpy(k->pem, data, (size_t)n);
	dl = i2d_PUBKEY(pk, &der);
	assert_true(dl > 0);
	k->txt = calloc(1, 32 + 4 * ((size_t)dl / 3 + 1) + 1);
	assert_non_null(k->txt);
	n = sprintf(k->txt, "v=DKIM1; k=rsa; p=");
	EVP_EncodeBlock((unsigned char *)k->txt + n, der, dl);
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(pk);
}

/* zone_key - a zone line for a key, its p= split over two strings */
static void zone_key(const char *owner, const key_t_ *k)
{
	size_t half = strlen(k->txt) / 2;
	size_t n = strlen(zone);

	snprintf(zone + n, sizeof(zone) - n, "%s TXT \"%.*s\" \"%s\"\n", owner,
		 (int)half, k->txt, k->txt + half);
}

/* header_end - end of the header field starting at p (folding included) */
static const char *header_end(const char *p)
{
	for (;;) {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		if (eol[2] != ' ' && eol[2] != '\t')
			return eol;
		p = eol + 2;
	}
}

/* sign - prepend a DKIM-Signature by key for sel/dom to msg (malloc'd) */
static char *sign(const char *msg, const key_t_ *k, const char *sel,
		  const char *dom)
{
	unsigned char hdr[4096];
	const char *p = msg, *body, *end;
	DKIM_STAT st;
	DKIM *d;
	char *out;
	size_t i, o;

	d = dkim_sign(signlib, (const unsigned char *)"test", NULL,
		      (dkim_sigkey_t)k->pem, (const unsigned char *)sel,
		      (const unsigned char *)dom, DKIM_CANON_RELAXED,
		      DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	assert_non_null(d);
	while (strncmp(p, "\r\n", 2) != 0) {
		end = header_end(p);
		assert_int_equal(dkim_header(d, (u_char *)(uintptr_t)p,
					     (size_t)(end - p)), DKIM_STAT_OK);
		p = end + 2;
	}
	body = p + 2;
	assert_int_equal(dkim_eoh(d), DKIM_STAT_OK);
	assert_int_equal(dkim_body(d, (u_char *)(uintptr_t)body, strlen(body)),
			 DKIM_STAT_OK);
	assert_int_equal(dkim_eom(d, NULL), DKIM_STAT_OK);
	assert_int_equal(dkim_getsighdr(d, hdr, sizeof(hdr),
					strlen("DKIM-Signature: ")),
			 DKIM_STAT_OK);
	dkim_free(d);
	out = malloc(2 * sizeof(hdr) + strlen(msg) + 32);
	assert_non_null(out);
	o = (size_t)sprintf(out, "DKIM-Signature: ");
	for (i = 0; hdr[i] != '\0'; i++) {	/* folded with LF: make CRLF */
		if (hdr[i] == '\n' && (i == 0 || hdr[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = (char)hdr[i];
	}
	strcpy(out + o, "\r\n");
	strcat(out, msg);
	return out;
}

/* print_report - show a report (FM_TEST_VERBOSE=1) */
static void print_report(const fm_dkim_report_t *rep)
{
	size_t i;

	printf("# dkim=%s total=%zu error=\"%s\"\n",
	       fm_dkim_result_name(rep->summary), rep->total, rep->error);
	for (i = 0; i < rep->count; i++)
		printf("#   %s d=%s s=%s i=%s bits=%u error=\"%s\"\n",
		       fm_dkim_result_name(rep->sigs[i].result),
		       rep->sigs[i].domain, rep->sigs[i].selector,
		       rep->sigs[i].identity, rep->sigs[i].keybits,
		       rep->sigs[i].error);
}

/*
 * feed_lib - verify msg through the wrapper the way the milter does: name
 * and value split at the colon (value with its leading space when leadspc,
 * else without), folding kept (as LF-only when lf), body in chunks of chunk.
 */
static void feed_lib(fm_dkim_lib_t *lib, const char *msg, int leadspc,
		     int lf, size_t chunk, fm_dkim_report_t *rep)
{
	char name[128], *value;
	const char *p = msg, *colon, *end, *body;
	fm_dkim_t *h = fm_dkim_new(lib, "4QxY1z2abc", leadspc);
	size_t len, i, o;

	assert_non_null(h);
	while (strncmp(p, "\r\n", 2) != 0) {
		end = header_end(p);
		colon = strchr(p, ':');
		assert_true(colon != NULL && colon < end);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		colon++;
		if (!leadspc)
			colon += strspn(colon, " \t");
		len = (size_t)(end - colon);
		value = malloc(len + 1);
		assert_non_null(value);
		for (i = o = 0; i < len; i++)
			if (!(lf && colon[i] == '\r'))
				value[o++] = colon[i];
		value[o] = '\0';
		fm_dkim_header(h, name, value);
		free(value);
		p = end + 2;
	}
	body = p + 2;
	assert_int_equal(fm_dkim_eoh(h), 0);
	for (len = strlen(body); len > 0; body += i, len -= i) {
		i = len < chunk ? len : chunk;
		fm_dkim_body(h, body, i);
	}
	fm_dkim_eom(h, rep);
	fm_dkim_free(h);
}

/* feed - feed_lib with a library handle of its own */
static void feed(fm_resolver_t *res, const char *msg, int leadspc, int lf,
		 size_t chunk, fm_dkim_report_t *rep)
{
	char err[256];
	fm_dkim_lib_t *lib = fm_dkim_lib_new(res, 0, err, sizeof(err));

	assert_non_null(lib);
	feed_lib(lib, msg, leadspc, lf, chunk, rep);
	fm_dkim_lib_free(lib);
	if (getenv("FM_TEST_VERBOSE") != NULL)
		print_report(rep);
}

/* static_res - a static resolver over the test zone plus extra lines */
static fm_resolver_t *static_res(const char *extra)
{
	char err[256], *z;
	fm_resolver_t *r;

	z = malloc(strlen(zone) + strlen(extra) + 1);
	assert_non_null(z);
	strcpy(z, zone);
	strcat(z, extra);
	r = fm_resolver_new_static(z, err, sizeof(err));
	if (r == NULL)
		fail_msg("static zone: %s", err);
	free(z);
	return r;
}

/* verify - sign msg with key1 (sel1, remote.example) and verify it */
static void verify_signed(const char *signed_msg, const char *extra,
			  fm_dkim_report_t *rep)
{
	fm_resolver_t *r = static_res(extra);

	feed(r, signed_msg, 1, 0, 65536, rep);
	fm_resolver_free(r);
}

/* ------------------------------------------------------------- tests */

/* test_pass - a good signature passes; details are reported */
static void test_pass(void **state)
{
	char *m = sign(MSG, &key1, "sel1", "remote.example");
	fm_dkim_report_t rep;

	(void)state;
	verify_signed(m, "", &rep);
	assert_int_equal(rep.total, 1);
	assert_int_equal(rep.count, 1);
	assert_int_equal(rep.summary, FM_DKIM_PASS);
	assert_int_equal(rep.sigs[0].result, FM_DKIM_PASS);
	assert_string_equal(rep.sigs[0].domain, "remote.example");
	assert_string_equal(rep.sigs[0].selector, "sel1");
	assert_string_equal(rep.sigs[0].identity, "@remote.example");
	assert_int_equal(rep.sigs[0].keybits, 1024);
	assert_string_equal(rep.sigs[0].error, "");
	assert_string_equal(fm_dkim_result_name(rep.summary), "pass");
	free(m);
}

/* test_feeding - LF folding, no leading space, one-octet body chunks */
static void test_feeding(void **state)
{
	static const struct {
		const char *label;
		int leadspc, lf;
		size_t chunk;
	} rows[] = {
		{"leadspc, CRLF folding", 1, 0, 65536},
		{"leadspc, LF folding", 1, 1, 65536},
		{"no leadspc", 0, 0, 65536},
		{"no leadspc, LF folding", 0, 1, 7},
		{"one-octet chunks", 1, 0, 1},
	};
	char *m = sign(MSG, &key1, "sel1", "remote.example");
	fm_resolver_t *r = static_res("");
	fm_dkim_report_t rep;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		feed(r, m, rows[i].leadspc, rows[i].lf, rows[i].chunk, &rep);
		if (rep.summary != FM_DKIM_PASS)
			fail_msg("%s: %s (%s)", rows[i].label,
				 fm_dkim_result_name(rep.summary),
				 rep.sigs[0].error);
	}
	fm_resolver_free(r);
	free(m);
}

/* test_tampered - a changed body octet or signed header fails */
static void test_tampered(void **state)
{
	char *m = sign(MSG, &key1, "sel1", "remote.example");
	char *b = strdup(m), *s = strdup(m), *p;
	fm_dkim_report_t rep;

	(void)state;
	assert_non_null(p = strstr(b, "user\r\n    unknown"));
	p[0] = 'U';
	verify_signed(b, "", &rep);
	assert_int_equal(rep.count, 1);
	assert_int_equal(rep.sigs[0].result, FM_DKIM_FAIL);
	assert_int_equal(rep.summary, FM_DKIM_FAIL);
	assert_string_equal(rep.sigs[0].error, "body hash did not verify");

	assert_non_null(p = strstr(s, "Subject: Undelivered"));
	p[9] = 'u';
	verify_signed(s, "", &rep);
	assert_int_equal(rep.sigs[0].result, FM_DKIM_FAIL);
	assert_true(rep.sigs[0].error[0] != '\0');
	free(b);
	free(s);
	free(m);
}

/* test_key_problems - unknown selector, revoked, DNS failures, small key */
static void test_key_problems(void **state)
{
	static const struct {
		const char *label, *sel, *extra;
		fm_dkim_result_t want;
		const char *why;
	} rows[] = {
		{"unknown selector", "nosuch", "", FM_DKIM_PERMERROR,
		 "no key record (nxdomain)"},
		{"no TXT at the name", "empty",
		 "empty._domainkey.remote.example A 192.0.2.1\n",
		 FM_DKIM_PERMERROR, "no key record (nodata)"},
		{"revoked key", "revoked",
		 "revoked._domainkey.remote.example TXT \"v=DKIM1; k=rsa; p=\"\n",
		 FM_DKIM_PERMERROR, NULL},
		{"DNS tempfail", "down",
		 "down._domainkey.remote.example TEMPFAIL\n", FM_DKIM_TEMPERROR,
		 "key lookup: server failure (static zone)"},
		{"garbage key", "junk",
		 "junk._domainkey.remote.example TXT \"v=DKIM1; k=rsa; p=AAAA\"\n",
		 FM_DKIM_PERMERROR, NULL},
		{"key too small", "small", NULL, FM_DKIM_POLICY, NULL},
	};
	fm_dkim_report_t rep;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int small = rows[i].extra == NULL;
		char *m = sign(MSG, small ? &key_small : &key1, rows[i].sel,
			       "remote.example");

		verify_signed(m, small ? "" : rows[i].extra, &rep);
		assert_int_equal(rep.count, 1);
		if (rep.sigs[0].result != rows[i].want)
			fail_msg("%s: got %s (%s)", rows[i].label,
				 fm_dkim_result_name(rep.sigs[0].result),
				 rep.sigs[0].error);
		assert_int_equal(rep.summary, rows[i].want);
		assert_true(rep.sigs[0].error[0] != '\0');
		if (rows[i].why != NULL)
			assert_string_equal(rep.sigs[0].error, rows[i].why);
		free(m);
	}
}

/*
 * test_testing_key - a signature that verifies with a key in testing mode
 * (t=y) is policy, not pass: it must count as no signature
 */
static void test_testing_key(void **state)
{
	char *m = sign(MSG, &key1, "testing", "remote.example");
	char txt[1024], extra[1200];
	size_t half;
	fm_dkim_report_t rep;

	(void)state;
	snprintf(txt, sizeof(txt), "v=DKIM1; t=y; %s",
		 key1.txt + strlen("v=DKIM1; "));
	half = strlen(txt) / 2;
	snprintf(extra, sizeof(extra),
		 "testing._domainkey.remote.example TXT \"%.*s\" \"%s\"\n",
		 (int)half, txt, txt + half);
	verify_signed(m, extra, &rep);
	assert_int_equal(rep.count, 1);
	assert_int_equal(rep.sigs[0].result, FM_DKIM_POLICY);
	assert_string_equal(rep.sigs[0].error, "key in testing mode (t=y)");
	assert_int_equal(rep.summary, FM_DKIM_POLICY);
	/* the same signature under a key without t=y passes */
	free(m);
	m = sign(MSG, &key1, "sel1", "remote.example");
	verify_signed(m, "", &rep);
	assert_int_equal(rep.summary, FM_DKIM_PASS);
	free(m);
}

/* test_two_signatures - both reported, in order; summary prefers pass */
static void test_two_signatures(void **state)
{
	char *m1 = sign(MSG, &key1, "sel1", "remote.example");
	char *m2 = sign(m1, &key2, "sel2", "example.nl");
	char *m3 = sign(m1, &key2, "down", "example.nl");
	fm_dkim_report_t rep;
	size_t i;

	(void)state;
	verify_signed(m2, "", &rep);
	assert_int_equal(rep.total, 2);
	assert_int_equal(rep.count, 2);
	assert_int_equal(rep.summary, FM_DKIM_PASS);
	for (i = 0; i < 2; i++)
		assert_int_equal(rep.sigs[i].result, FM_DKIM_PASS);
	assert_string_equal(rep.sigs[0].domain, "example.nl");
	assert_string_equal(rep.sigs[1].domain, "remote.example");

	/* The first key's lookup fails: the second is still verified. */
	verify_signed(m3, "down._domainkey.example.nl TEMPFAIL\n", &rep);
	assert_int_equal(rep.count, 2);
	assert_int_equal(rep.sigs[0].result, FM_DKIM_TEMPERROR);
	assert_string_equal(rep.sigs[0].selector, "down");
	assert_int_equal(rep.sigs[1].result, FM_DKIM_PASS);
	assert_int_equal(rep.summary, FM_DKIM_PASS);
	free(m1);
	free(m2);
	free(m3);
}

/* test_unsigned - no signature: none */
static void test_unsigned(void **state)
{
	fm_dkim_report_t rep;

	(void)state;
	verify_signed(MSG, "", &rep);
	assert_int_equal(rep.total, 0);
	assert_int_equal(rep.count, 0);
	assert_int_equal(rep.summary, FM_DKIM_NONE);
	assert_string_equal(fm_dkim_result_name(rep.summary), "none");
}

/* test_malformed - a signature without b= and one with garbage */
static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
		"d=remote.example; s=sel1; h=from:to:subject; bh=AAAA\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=remote.example; s=sel1; "
		"\x01\x02 garbage\r\n",
		"DKIM-Signature: \r\n",
	};
	fm_dkim_report_t rep;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *m = malloc(strlen(bad[i]) + strlen(MSG) + 1);

		assert_non_null(m);
		strcpy(m, bad[i]);
		strcat(m, MSG);
		verify_signed(m, "", &rep);
		assert_int_equal(rep.total, 1);
		assert_int_equal(rep.count, 1);
		if (rep.summary != FM_DKIM_PERMERROR)
			fail_msg("case %zu: %s (%s)", i,
				 fm_dkim_result_name(rep.summary),
				 rep.sigs[0].error);
		if (i < 2) {
			assert_string_equal(rep.sigs[0].domain,
					    "remote.example");
			assert_string_equal(rep.sigs[0].selector, "sel1");
		}
		free(m);
	}
}

/* test_too_many - only FM_DKIM_MAX_SIGS signatures are looked at */
static void test_too_many(void **state)
{
	char *m = strdup(MSG), *n;
	fm_dkim_report_t rep;
	int i;

	(void)state;
	for (i = 0; i < FM_DKIM_MAX_SIGS + 2; i++) {
		n = sign(m, &key1, "sel1", "remote.example");
		free(m);
		m = n;
	}
	verify_signed(m, "", &rep);
	assert_int_equal(rep.total, FM_DKIM_MAX_SIGS + 2);
	assert_int_equal(rep.count, FM_DKIM_MAX_SIGS);
	assert_int_equal(rep.summary, FM_DKIM_PASS);
	for (i = 0; i < FM_DKIM_MAX_SIGS; i++)
		assert_int_equal(rep.sigs[i].result, FM_DKIM_PASS);
	free(m);
}

/* test_no_from - a signed message without From: cannot verify */
static void test_no_from(void **state)
{
	char *m = sign(MSG, &key1, "sel1", "remote.example"), *p, *e;
	fm_dkim_report_t rep;

	(void)state;
	p = strstr(m, "From: Mail");
	e = strstr(p, "\r\n") + 2;
	memmove(p, e, strlen(e) + 1);
	verify_signed(m, "", &rep);
	assert_int_equal(rep.total, 1);
	assert_int_not_equal(rep.summary, FM_DKIM_PASS);
	assert_int_not_equal(rep.summary, FM_DKIM_NONE);
	free(m);
}

/* test_misuse - calls out of order or with bad arguments do not crash */
static void test_misuse(void **state)
{
	char err[256];
	fm_resolver_t *r = static_res("");
	fm_dkim_lib_t *lib = fm_dkim_lib_new(r, 0, err, sizeof(err));
	fm_dkim_report_t rep;
	fm_dkim_t *h;

	(void)state;
	assert_non_null(lib);
	h = fm_dkim_new(lib, NULL, 1);
	assert_non_null(h);
	assert_int_equal(fm_dkim_header(h, NULL, "x"), -1);
	assert_int_equal(fm_dkim_header(h, "", "x"), -1);
	assert_int_equal(fm_dkim_header(h, "X", NULL), -1);
	fm_dkim_body(h, "early\r\n", 7);	/* implies end of headers */
	assert_int_equal(fm_dkim_header(h, "Late", " header"), -1);
	assert_int_equal(fm_dkim_eoh(h), -1);
	fm_dkim_eom(h, &rep);
	assert_int_equal(rep.summary, FM_DKIM_NONE);
	fm_dkim_eom(h, &rep);	/* twice */
	fm_dkim_free(h);

	h = fm_dkim_new(lib, "id", 1);	/* eom right away */
	fm_dkim_eom(h, &rep);
	assert_int_equal(rep.summary, FM_DKIM_NONE);
	fm_dkim_free(h);
	fm_dkim_free(NULL);
	fm_dkim_lib_free(lib);
	fm_dkim_lib_free(NULL);
	fm_resolver_free(r);
	assert_string_equal(fm_dkim_result_name((fm_dkim_result_t)99),
			    "permerror");
}

typedef struct job {
	fm_dkim_lib_t *lib;
	const char *msg;
	int bad;
} job_t;

/* verifier - thread body: verify the same messages many times */
static void *verifier(void *arg)
{
	job_t *j = arg;
	fm_dkim_report_t rep;
	int i;

	for (i = 0; i < 25; i++) {
		feed_lib(j->lib, j->msg, i % 2, 0, 100 + (size_t)i, &rep);
		j->bad += rep.count != 2 || rep.sigs[0].result != FM_DKIM_PASS
		    || rep.sigs[1].result != FM_DKIM_TEMPERROR;
	}
	return NULL;
}

/* test_threads - one library handle, messages verified in parallel */
static void test_threads(void **state)
{
	char *m1 = sign(MSG, &key1, "down", "remote.example");
	char *m2 = sign(m1, &key2, "sel2", "example.nl");
	fm_resolver_t *r = static_res("down._domainkey.remote.example "
				      "TEMPFAIL\n");
	char err[256];
	job_t jobs[6];
	pthread_t t[6];
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		jobs[i].lib = i == 0 ? fm_dkim_lib_new(r, 0, err, sizeof(err))
		    : jobs[0].lib;
		assert_non_null(jobs[i].lib);
		jobs[i].msg = m2;
		jobs[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, verifier,
						&jobs[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].bad, 0);
	}
	fm_dkim_lib_free(jobs[0].lib);
	fm_resolver_free(r);
	free(m1);
	free(m2);
}

/* setup - keys, the zone that publishes them, the signing library */
static int setup(void **state)
{
	u_int minbits = 512;

	(void)state;
	make_key(&key1, 1024);
	make_key(&key2, 1024);
	make_key(&key_small, 512);
	zone[0] = '\0';
	zone_key("sel1._domainkey.remote.example", &key1);
	zone_key("sel2._domainkey.example.nl", &key2);
	zone_key("small._domainkey.remote.example", &key_small);
	signlib = dkim_init(NULL, NULL);
	if (signlib == NULL)
		return -1;
	/* Let the signer use the small key; the verifier must refuse it. */
	return dkim_options(signlib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
			    &minbits, sizeof(minbits)) == DKIM_STAT_OK ? 0 : -1;
}

/* teardown - free what setup made */
static int teardown(void **state)
{
	key_t_ *keys[] = { &key1, &key2, &key_small };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		free(keys[i]->pem);
		free(keys[i]->txt);
	}
	dkim_close(signlib);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_feeding),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_key_problems),
		cmocka_unit_test(test_testing_key),
		cmocka_unit_test(test_two_signatures),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_no_from),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
