/*
 * test_spfcheck - unit tests for the SPF wrapper (libspf2 over our resolver)
 *
 * Links milter/spfcheck.c, milter/resolver.c, libspf2, libunbound and
 * cmocka. DNS comes from the resolver's static zone, so every case is
 * hermetic; one case points a real resolver at a UDP port that never
 * answers, to see a timeout become temperror in time.
 *
 * Client addresses are from the documentation ranges (192.0.2.0/24,
 * 2001:db8::/32): libspf2 passes loopback clients unconditionally.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver.h"
#include "spfcheck.h"

static const char zone[] =
	"# example.nl: include chain to the MTA's a: record and ip6:\n"
	"example.nl TXT \"v=spf1 include:_spf.example.nl -all\"\n"
	"_spf.example.nl TXT \"v=spf1 include:_a.example.nl ip6:2001:db8::25 ~all\"\n"
	"_a.example.nl TXT \"v=spf1 a:mta.example.nl\"\n"
	"mta.example.nl A 192.0.2.25\n"
	"# remote.example: mx, and SPF for the MX host's HELO name\n"
	"remote.example TXT \"v=spf1 mx -all\"\n"
	"remote.example TXT \"google-site-verification=abc\"\n"
	"remote.example MX 10 mx.remote.example\n"
	"mx.remote.example A 192.0.2.10\n"
	"mx.remote.example AAAA 2001:db8::10\n"
	"mx.remote.example TXT \"v=spf1 a -all\"\n"
	"split.example TXT \"v=spf1 \" \"ip4:192.0.2.0/28 \" \"-all\"\n"
	"soft.example TXT \"v=spf1 ip4:192.0.2.99 ~all\"\n"
	"neutral.example TXT \"v=spf1 ?all\"\n"
	"plus.example TXT \"v=spf1 ip4:192.0.2.0/24\"\n"
	"redirect.example TXT \"v=spf1 redirect=remote.example\"\n"
	"exists.example TXT \"v=spf1 exists:%{i}.allow.exists.example -all\"\n"
	"192.0.2.10.allow.exists.example A 127.0.0.2\n"
	"ptr.example TXT \"v=spf1 ptr -all\"\n"
	"10.2.0.192.in-addr.arpa PTR mx.ptr.example\n"
	"mx.ptr.example A 192.0.2.10\n"
	"alias.example CNAME remote.example\n"
	"six.example TXT \"v=spf1 ip6:2001:db8:1::/48 -all\"\n"
	"exp.example TXT \"v=spf1 -all exp=why.exp.example\"\n"
	"why.exp.example TXT \"Not our server, see the postmaster\"\n"
	"# errors\n"
	"syntax.example TXT \"v=spf1 ip4:192.0.2.10 frobnicate:x -all\"\n"
	"badip.example TXT \"v=spf1 ip4:192.0.2.300 -all\"\n"
	"two.example TXT \"v=spf1 -all\"\n"
	"two.example TXT \"v=spf1 +all\"\n"
	"inc-none.example TXT \"v=spf1 include:nospf.example -all\"\n"
	"nospf.example TXT \"just some text\"\n"
	"loop.example TXT \"v=spf1 include:loop2.example -all\"\n"
	"loop2.example TXT \"v=spf1 include:loop.example -all\"\n"
	"empty.example A 192.0.2.1\n"
	"down.example TEMPFAIL\n"
	"inc-down.example TXT \"v=spf1 include:down.example -all\"\n"
	"a-down.example TXT \"v=spf1 a:host.down.example -all\"\n"
	"host.down.example TEMPFAIL\n"
	"mx-down.example TXT \"v=spf1 mx -all\"\n"
	"mx-down.example MX 10 host.down.example\n"
	"broken.example PERMFAIL\n"
	"many.example TXT \"v=spf1 a:a1.example a:a2.example a:a3.example "
	"a:a4.example a:a5.example a:a6.example a:a7.example a:a8.example "
	"a:a9.example a:a10.example a:a11.example -all\"\n";

static fm_resolver_t *res;
static fm_spf_t *spf;

typedef struct row {
	const char *label;
	const char *ip, *helo, *from;
	fm_spf_result_t want;
	fm_spf_identity_t identity;
	const char *domain;
} row_t;

/* run_rows - check each row; show every mismatch, then fail */
static void run_rows(const row_t *rows, size_t n)
{
	fm_spf_outcome_t out;
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		fm_spf_result_t got = fm_spf_check(spf, rows[i].ip,
						   rows[i].helo, rows[i].from,
						   &out);

		if (getenv("FM_TEST_VERBOSE") != NULL)
			printf("# %-28s %s [%s] %s\n", rows[i].label,
			       fm_spf_result_name(got), out.reason,
			       out.received_spf);
		if (got != out.result || got != rows[i].want
		    || out.identity != rows[i].identity
		    || strcmp(out.domain, rows[i].domain) != 0) {
			print_error("%s: got %s identity %d domain \"%s\" (%s); "
				    "want %s identity %d domain \"%s\"\n",
				    rows[i].label, fm_spf_result_name(got),
				    out.identity, out.domain, out.reason,
				    fm_spf_result_name(rows[i].want),
				    rows[i].identity, rows[i].domain);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d of %zu rows wrong", bad, n);
}

#define MF FM_SPF_MAILFROM
#define HELO FM_SPF_HELO

/* test_results - every result, through includes, mx, a, ptr, exists */
static void test_results(void **state)
{
	static const row_t rows[] = {
		{"include chain pass", "192.0.2.25", "mta.example.nl",
		 "<info@example.nl>", FM_SPF_PASS, MF, "example.nl"},
		{"include chain fail", "192.0.2.26", "mta.example.nl",
		 "<info@example.nl>", FM_SPF_FAIL, MF, "example.nl"},
		{"mx pass", "192.0.2.10", "mx.remote.example",
		 "<bounce@remote.example>", FM_SPF_PASS, MF, "remote.example"},
		{"mx fail", "192.0.2.11", "mx.remote.example",
		 "<bounce@remote.example>", FM_SPF_FAIL, MF, "remote.example"},
		{"joined TXT strings", "192.0.2.15", "h.example",
		 "a@split.example", FM_SPF_PASS, MF, "split.example"},
		{"joined TXT strings, out", "192.0.2.16", "h.example",
		 "a@split.example", FM_SPF_FAIL, MF, "split.example"},
		{"softfail", "192.0.2.10", "h.example", "<a@soft.example>",
		 FM_SPF_SOFTFAIL, MF, "soft.example"},
		{"neutral", "192.0.2.10", "h.example", "<a@neutral.example>",
		 FM_SPF_NEUTRAL, MF, "neutral.example"},
		{"default neutral", "198.51.100.1", "h.example",
		 "<a@plus.example>", FM_SPF_NEUTRAL, MF, "plus.example"},
		{"redirect", "192.0.2.10", "h.example", "<a@redirect.example>",
		 FM_SPF_PASS, MF, "redirect.example"},
		{"exists with macro", "192.0.2.10", "h.example",
		 "<a@exists.example>", FM_SPF_PASS, MF, "exists.example"},
		{"exists, no", "192.0.2.11", "h.example", "<a@exists.example>",
		 FM_SPF_FAIL, MF, "exists.example"},
		{"ptr", "192.0.2.10", "h.example", "<a@ptr.example>",
		 FM_SPF_PASS, MF, "ptr.example"},
		{"record via CNAME", "192.0.2.10", "h.example",
		 "<a@alias.example>", FM_SPF_PASS, MF, "alias.example"},
		{"none: no record", "192.0.2.10", "h.example",
		 "<a@nospf.example>", FM_SPF_NONE, MF, "nospf.example"},
		{"none: no TXT", "192.0.2.10", "h.example",
		 "<a@empty.example>", FM_SPF_NONE, MF, "empty.example"},
		{"none: nxdomain", "192.0.2.10", "h.example",
		 "<a@nowhere.example>", FM_SPF_NONE, MF, "nowhere.example"},
		{"case of the domain", "192.0.2.10", "h.example",
		 "<Bounce@Remote.EXAMPLE>", FM_SPF_PASS, MF, "Remote.EXAMPLE"},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* test_errors - permerror and temperror */
static void test_errors(void **state)
{
	static const row_t rows[] = {
		{"unknown mechanism", "192.0.2.10", "h.example",
		 "<a@syntax.example>", FM_SPF_PERMERROR, MF, "syntax.example"},
		{"bad ip4", "192.0.2.10", "h.example", "<a@badip.example>",
		 FM_SPF_PERMERROR, MF, "badip.example"},
		{"two records", "192.0.2.10", "h.example", "<a@two.example>",
		 FM_SPF_PERMERROR, MF, "two.example"},
		{"include of no policy", "192.0.2.10", "h.example",
		 "<a@inc-none.example>", FM_SPF_PERMERROR, MF,
		 "inc-none.example"},
		{"include loop", "192.0.2.10", "h.example",
		 "<a@loop.example>", FM_SPF_PERMERROR, MF, "loop.example"},
		{"too many lookups", "192.0.2.10", "h.example",
		 "<a@many.example>", FM_SPF_PERMERROR, MF, "many.example"},
		{"record lookup fails", "192.0.2.10", "h.example",
		 "<a@down.example>", FM_SPF_TEMPERROR, MF, "down.example"},
		{"include lookup fails", "192.0.2.10", "h.example",
		 "<a@inc-down.example>", FM_SPF_TEMPERROR, MF,
		 "inc-down.example"},
		{"a: lookup fails", "192.0.2.10", "h.example",
		 "<a@a-down.example>", FM_SPF_TEMPERROR, MF, "a-down.example"},
		{"mx host lookup fails", "192.0.2.10", "h.example",
		 "<a@mx-down.example>", FM_SPF_TEMPERROR, MF,
		 "mx-down.example"},
		{"permanent DNS failure", "192.0.2.10", "h.example",
		 "<a@broken.example>", FM_SPF_NONE, MF, "broken.example"},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* test_helo - the null sender is checked by its HELO name */
static void test_helo(void **state)
{
	static const row_t rows[] = {
		{"null sender, HELO pass", "192.0.2.10", "mx.remote.example",
		 "<>", FM_SPF_PASS, HELO, "mx.remote.example"},
		{"null sender, HELO fail", "192.0.2.11", "mx.remote.example",
		 "<>", FM_SPF_FAIL, HELO, "mx.remote.example"},
		{"empty sender", "192.0.2.10", "mx.remote.example", "",
		 FM_SPF_PASS, HELO, "mx.remote.example"},
		{"NULL sender", "192.0.2.10", "mx.remote.example", NULL,
		 FM_SPF_PASS, HELO, "mx.remote.example"},
		{"HELO with final dot", "192.0.2.10", "mx.remote.example.",
		 "<>", FM_SPF_PASS, HELO, "mx.remote.example"},
		{"HELO over IPv6", "2001:db8::10", "mx.remote.example", "<>",
		 FM_SPF_PASS, HELO, "mx.remote.example"},
		{"HELO without SPF", "192.0.2.10", "remote-nospf.example",
		 "<>", FM_SPF_NONE, HELO, "remote-nospf.example"},
		{"address literal HELO", "192.0.2.10", "[192.0.2.10]", "<>",
		 FM_SPF_NONE, HELO, ""},
		{"single-label HELO", "192.0.2.10", "localhost", "<>",
		 FM_SPF_NONE, HELO, ""},
		{"no HELO", "192.0.2.10", NULL, "<>", FM_SPF_NONE, HELO, ""},
		{"HELO not used for MAIL FROM", "192.0.2.10",
		 "mx.remote.example", "<a@soft.example>", FM_SPF_SOFTFAIL, MF,
		 "soft.example"},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* test_ipv6 - IPv6 clients, IPv4-mapped addresses, "IPv6:" prefixes */
static void test_ipv6(void **state)
{
	static const row_t rows[] = {
		{"ip6 in include", "2001:db8::25", "h.example",
		 "<info@example.nl>", FM_SPF_PASS, MF, "example.nl"},
		{"include's ~all is no match", "2001:db8::26", "h.example",
		 "<info@example.nl>", FM_SPF_FAIL, MF, "example.nl"},
		{"ip6 prefix", "2001:db8:1:ffff::1", "h.example",
		 "<a@six.example>", FM_SPF_PASS, MF, "six.example"},
		{"ip6 outside prefix", "2001:db8:2::1", "h.example",
		 "<a@six.example>", FM_SPF_FAIL, MF, "six.example"},
		{"mx AAAA", "2001:db8::10", "h.example",
		 "<a@remote.example>", FM_SPF_PASS, MF, "remote.example"},
		{"Postfix IPv6: form", "IPv6:2001:db8::10", "h.example",
		 "<a@remote.example>", FM_SPF_PASS, MF, "remote.example"},
		{"bracketed", "[2001:db8::10]", "h.example",
		 "<a@remote.example>", FM_SPF_PASS, MF, "remote.example"},
		{"IPv4-mapped", "::ffff:192.0.2.10", "h.example",
		 "<a@remote.example>", FM_SPF_PASS, MF, "remote.example"},
		{"ip4 policy, ip6 client", "2001:db8::10", "h.example",
		 "<a@soft.example>", FM_SPF_SOFTFAIL, MF, "soft.example"},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* test_inputs - hostile and odd inputs are sanitised, never passed raw */
static void test_inputs(void **state)
{
	char longlocal[200], longdom[400], ctl[64], out_of_range[600];
	fm_spf_outcome_t out;
	static const row_t rows[] = {
		{"no brackets", "192.0.2.10", "h.example",
		 "bounce@remote.example", FM_SPF_PASS, MF, "remote.example"},
		{"source route", "192.0.2.10", "h.example",
		 "<@relay.example:bounce@remote.example>", FM_SPF_PASS, MF,
		 "remote.example"},
		{"spaces around", "192.0.2.10", "h.example",
		 "  <bounce@remote.example>  ", FM_SPF_PASS, MF,
		 "remote.example"},
		{"no domain", "192.0.2.10", "h.example", "<postmaster>",
		 FM_SPF_NONE, MF, ""},
		{"empty domain", "192.0.2.10", "h.example", "<a@>",
		 FM_SPF_NONE, MF, ""},
		{"bad domain", "192.0.2.10", "h.example", "<a@exa mple..nl>",
		 FM_SPF_NONE, MF, "exa mple..nl"},
		{"single-label domain", "192.0.2.10", "h.example",
		 "<a@localhost>", FM_SPF_NONE, MF, "localhost"},
		{"bad client address", "192.0.2.300", "h.example",
		 "<a@remote.example>", FM_SPF_NONE, MF, "remote.example"},
		{"no client address", NULL, "h.example", "<a@remote.example>",
		 FM_SPF_NONE, MF, "remote.example"},
		{"loopback always passes", "127.0.0.1", "h.example",
		 "<a@two.example>", FM_SPF_PASS, MF, "two.example"},
		{"IPv6 loopback too", "::1", "h.example", "<a@two.example>",
		 FM_SPF_PASS, MF, "two.example"},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));

	/* A long or binary local part is checked as postmaster@domain. */
	memset(longlocal, 'x', sizeof(longlocal));
	snprintf(longlocal + 100, sizeof(longlocal) - 100, "@remote.example");
	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example",
				      longlocal, &out), FM_SPF_PASS);
	assert_string_equal(out.sender, "postmaster@remote.example");
	snprintf(ctl, sizeof(ctl), "<a\x01\x7f\n%%{l}@remote.example>");
	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example", ctl,
				      &out), FM_SPF_PASS);
	assert_string_equal(out.sender, "postmaster@remote.example");
	/* Overlong domains and inputs are refused before libspf2. */
	memset(longdom, 'a', sizeof(longdom));
	memcpy(longdom, "x@", 2);
	longdom[sizeof(longdom) - 1] = '\0';
	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example",
				      longdom, &out), FM_SPF_NONE);
	memset(out_of_range, 'b', sizeof(out_of_range));
	out_of_range[sizeof(out_of_range) - 1] = '\0';
	assert_int_equal(fm_spf_check(spf, out_of_range, out_of_range,
				      out_of_range, &out), FM_SPF_NONE);
	assert_true(strlen(out.received_spf) < sizeof(out.received_spf));
	assert_string_equal(fm_spf_result_name((fm_spf_result_t)42),
			    "permerror");
}

/* test_texts - reason, explanation and Received-SPF */
static void test_texts(void **state)
{
	fm_spf_outcome_t out;

	(void)state;
	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "mx.remote.example",
				      "<>", &out), FM_SPF_PASS);
	assert_string_equal(out.sender, "postmaster@mx.remote.example");
	assert_string_equal(out.received_spf,
			    "pass (mx.feedback-host.example: domain of "
			    "postmaster@mx.remote.example designates "
			    "192.0.2.10 as permitted sender) "
			    "client-ip=192.0.2.10; "
			    "envelope-from=\"postmaster@mx.remote.example\"; "
			    "helo=mx.remote.example; "
			    "receiver=mx.feedback-host.example; identity=helo;");

	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example",
				      "<a@exp.example>", &out), FM_SPF_FAIL);
	assert_string_equal(out.explanation,
			    "Not our server, see the postmaster");
	assert_non_null(strstr(out.received_spf, "fail ("));
	assert_non_null(strstr(out.received_spf, "identity=mailfrom;"));

	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example",
				      "<a\"b@remote.example>", &out),
			 FM_SPF_PASS);
	assert_non_null(strstr(out.received_spf,
			       "envelope-from=\"a\\\"b@remote.example\";"));

	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example",
				      "<a@syntax.example>", &out),
			 FM_SPF_PERMERROR);
	assert_non_null(strstr(out.reason, "frobnicate"));
	assert_int_equal(fm_spf_check(spf, "192.0.2.10", "h.example",
				      "<a@down.example>", &out),
			 FM_SPF_TEMPERROR);
	assert_non_null(strstr(out.reason, "down.example"));
	assert_int_equal(fm_spf_check(spf, "127.0.0.1", "h.example",
				      "<a@two.example>", &out), FM_SPF_PASS);
	assert_non_null(strstr(out.reason, "loopback"));
}

/* checker - thread body: many checks against the shared checker */
static void *checker(void *arg)
{
	fm_spf_outcome_t out;
	long bad = 0;
	int i;

	(void)arg;
	for (i = 0; i < 200; i++) {
		if (fm_spf_check(spf, "192.0.2.25", "h.example",
				 "<a@example.nl>", &out) != FM_SPF_PASS)
			bad++;
		if (fm_spf_check(spf, "192.0.2.11", "mx.remote.example", "<>",
				 &out) != FM_SPF_FAIL)
			bad++;
		if (fm_spf_check(spf, "192.0.2.10", "h.example",
				 "<a@down.example>", &out) != FM_SPF_TEMPERROR)
			bad++;
	}
	return (void *)bad;
}

/* test_threads - one checker, eight threads at once */
static void test_threads(void **state)
{
	pthread_t t[8];
	void *bad;
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, checker, NULL), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

/* test_silent_dns - a server that never answers gives temperror in time */
static void test_silent_dns(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	char ns[64], err[256];
	struct timespec t0, t1;
	fm_spf_outcome_t out;
	fm_resolver_t *r;
	fm_spf_t *s;
	long ms;
	int fd;

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(ns, sizeof(ns), "127.0.0.1@%u", ntohs(sin.sin_port));
	r = fm_resolver_new(ns, 400, err, sizeof(err));
	assert_non_null(r);
	s = fm_spf_new(r, "mx.feedback-host.example", 0, err, sizeof(err));
	assert_non_null(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fm_spf_check(s, "192.0.2.10", "mx.remote.example",
				      "<a@remote.example>", &out),
			 FM_SPF_TEMPERROR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	print_message("# SPF with a silent name server: temperror after "
		      "%ld ms (timeout 400 ms): %s\n", ms, out.reason);
	assert_true(ms >= 350 && ms < 1400);
	assert_non_null(strstr(out.reason, "no answer within"));
	fm_spf_free(s);
	fm_resolver_free(r);
	close(fd);
}

/* setup - one static resolver and one checker for all tests */
static int setup(void **state)
{
	char err[256];

	(void)state;
	res = fm_resolver_new_static(zone, err, sizeof(err));
	if (res == NULL) {
		fprintf(stderr, "static zone: %s\n", err);
		return -1;
	}
	spf = fm_spf_new(res, "mx.feedback-host.example", 0, err, sizeof(err));
	if (spf == NULL) {
		fprintf(stderr, "fm_spf_new: %s\n", err);
		return -1;
	}
	return 0;
}

/* teardown - free them */
static int teardown(void **state)
{
	(void)state;
	fm_spf_free(spf);
	fm_resolver_free(res);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_helo),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_inputs),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_silent_dns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
