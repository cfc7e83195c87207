/*
 * test_resolver - unit tests for the resolver (libunbound and static zone)
 *
 * Links milter/resolver.c, libunbound and cmocka. Built twice:
 *
 *	test_resolver		hermetic: the static zone; libunbound against
 *				a tiny DNS responder thread in this program
 *				(answers, NXDOMAIN, SERVFAIL, REFUSED) and
 *				against a UDP port that never answers
 *				(timeouts); many threads at once.
 *	test_resolver_dns	(-DFM_TEST_REAL_DNS) libunbound against NSD
 *				started by tests/dns/dnsserver.sh with the
 *				zones in tests/dns/zones: TXT joining, TCP
 *				after truncation, CNAME chains, PTR, negative
 *				answers. Exits 77 (skipped) with a message when
 *				the server cannot be started.
 */
#define _GNU_SOURCE		/* nftw */

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver.h"

/* now_ms - monotonic milliseconds */
static long long __attribute__((unused)) now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* query - one lookup that must come back with status want */
static void query(fm_resolver_t *r, const char *name, int type,
		  fm_dns_status_t want, fm_dns_answer_t *ans)
{
	char tb[16];

	if (fm_resolver_query(r, name, type, 0, ans) != want)
		fail_msg("%s %s: got %s (%s), want %s", name,
			 fm_dns_type_name(type, tb, sizeof(tb)),
			 fm_dns_status_name(ans->status), ans->why,
			 fm_dns_status_name(want));
	assert_int_equal(ans->status, want);
	if (want != FM_DNS_OK)
		assert_int_equal(ans->count, 0);
}

/* udp_socket - a UDP socket bound to 127.0.0.1 on a free port */
static int __attribute__((unused)) udp_socket(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

#ifndef FM_TEST_REAL_DNS

/* ------------------------------------------------------ static zone */

static const char zone[] =
	"# test data\n"
	"Example.NL.  TXT \"v=spf1 \" \"-all\"\n"
	"example.nl   TXT bare words up to the end   \n"
	"example.nl   MX  10 mx.example.nl\n"
	"example.nl   MX  20 backup.example.nl.\n"
	"mx.example.nl A 192.0.2.26\n"
	"mx.example.nl AAAA 2001:db8::26\n"
	"www.example.nl CNAME web.example.nl\n"
	"web.example.nl CNAME mx.example.nl\n"
	"loop1.example CNAME loop2.example\n"
	"loop2.example CNAME loop1.example\n"
	"a.b.deep.example.nl A 192.0.2.1\n"
	"26.2.0.192.in-addr.arpa PTR mx.example.nl\n"
	"esc.example TXT \"a \\\"quoted\\\" \\\\ word\"\n"
	"down.example TEMPFAIL\n"
	"gone.example PERMFAIL\n"
	"\n";

/* test_static - answers, CNAME chains, negative answers, failures */
static void test_static(void **state)
{
	char err[256];
	fm_resolver_t *r = fm_resolver_new_static(zone, err, sizeof(err));
	fm_dns_answer_t a;

	(void)state;
	assert_non_null(r);
	query(r, "example.nl", FM_DNS_TXT, FM_DNS_OK, &a);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.rr[0].text, "v=spf1 -all");
	assert_int_equal(a.rr[0].len, 11);
	assert_string_equal(a.rr[1].text, "bare words up to the end");
	assert_int_equal(a.cname, 0);
	assert_string_equal(a.canon, "example.nl");
	assert_true(a.ttl > 0);
	fm_dns_answer_free(&a);
	query(r, "EXAMPLE.nl.", FM_DNS_MX, FM_DNS_OK, &a);
	assert_int_equal(a.count, 2);
	assert_int_equal(a.rr[0].pref, 10);
	assert_string_equal(a.rr[0].text, "mx.example.nl");
	assert_int_equal(a.rr[1].pref, 20);
	assert_string_equal(a.rr[1].text, "backup.example.nl");
	fm_dns_answer_free(&a);
	query(r, "www.example.nl", FM_DNS_A, FM_DNS_OK, &a);
	assert_int_equal(a.cname, 1);
	assert_string_equal(a.canon, "mx.example.nl");
	assert_string_equal(a.rr[0].text, "192.0.2.26");
	assert_memory_equal(a.rr[0].addr, "\xc0\x00\x02\x1a", 4);
	fm_dns_answer_free(&a);
	query(r, "www.example.nl", FM_DNS_CNAME, FM_DNS_OK, &a);
	assert_int_equal(a.cname, 0);
	assert_string_equal(a.rr[0].text, "web.example.nl");
	fm_dns_answer_free(&a);
	query(r, "mx.example.nl", FM_DNS_AAAA, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "2001:db8::26");
	fm_dns_answer_free(&a);
	query(r, "26.2.0.192.in-addr.arpa", FM_DNS_PTR, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "mx.example.nl");
	fm_dns_answer_free(&a);
	query(r, "esc.example", FM_DNS_TXT, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "a \"quoted\" \\ word");
	fm_dns_answer_free(&a);
	query(r, "mx.example.nl", FM_DNS_TXT, FM_DNS_NODATA, &a);
	query(r, "deep.example.nl", FM_DNS_A, FM_DNS_NODATA, &a);
	query(r, "nope.example.nl", FM_DNS_A, FM_DNS_NXDOMAIN, &a);
	assert_int_equal(a.rcode, 3);
	query(r, "xample.nl", FM_DNS_A, FM_DNS_NXDOMAIN, &a);
	query(r, "loop1.example", FM_DNS_A, FM_DNS_TEMPFAIL, &a);
	query(r, "down.example", FM_DNS_TXT, FM_DNS_TEMPFAIL, &a);
	assert_true(a.why[0] != '\0');
	query(r, "gone.example", FM_DNS_A, FM_DNS_PERMFAIL, &a);
	query(r, "bad..name", FM_DNS_A, FM_DNS_PERMFAIL, &a);
	assert_string_equal(a.why, "malformed domain name");
	fm_dns_answer_free(&a);	/* harmless on an empty answer */
	fm_resolver_free(r);
}

/* test_static_errors - bad zone lines are refused with the line number */
static void test_static_errors(void **state)
{
	static const char *const bad[] = {
		"example.nl BOGUS x\n", "example.nl A 300.1.2.3\n",
		"example.nl AAAA nope\n", "example.nl MX mx.example.nl\n",
		"example.nl TXT \"open\n", "bad..name A 192.0.2.1\n",
		"example.nl CNAME a..b\n", "example.nl TEMPFAIL extra\n",
		"example.nl\n",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "# ok\nok.example A 192.0.2.1\n%s",
			 bad[i]);
		err[0] = '\0';
		if (fm_resolver_new_static(text, err, sizeof(err)) != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_string_equal(err, "static zone line 3: bad record");
	}
}

/* test_names - what counts as a name we may ask about */
static void test_names(void **state)
{
	static const struct {
		const char *name;
		int ok;
	} rows[] = {
		{"example.nl", 1}, {"example.nl.", 1}, {"a", 1},
		{"_spf.example.nl", 1}, {"sel._domainkey.example.nl", 1},
		{"", 0}, {".", 0}, {"..", 0}, {"a..b", 0}, {".a", 0},
		{"a b", 0}, {"a\tb", 0}, {"a\\b", 0}, {"a\x01.b", 0},
		{"a\x80.b", 0}, {NULL, 0},
	};
	char name[300], tb[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (fm_dns_name_valid(rows[i].name) != rows[i].ok)
			fail_msg("\"%s\": want %d", rows[i].name ? rows[i].name
				 : "(null)", rows[i].ok);
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	assert_true(fm_dns_name_valid(name));
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	assert_false(fm_dns_name_valid(name));
	for (i = 0; i < 253; i++)
		name[i] = (i % 2) ? '.' : 'a';
	name[253] = '\0';
	assert_true(fm_dns_name_valid(name));
	name[253] = 'a';
	name[254] = '\0';
	assert_false(fm_dns_name_valid(name));
	assert_string_equal(fm_dns_type_name(FM_DNS_TXT, tb, sizeof(tb)),
			    "TXT");
	assert_string_equal(fm_dns_type_name(99, tb, sizeof(tb)), "TYPE99");
	assert_string_equal(fm_dns_status_name(FM_DNS_NODATA), "nodata");
	assert_string_equal(fm_dns_status_name((fm_dns_status_t)9), "unknown");
}

/* test_nameservers - the Nameservers syntax, and its errors */
static void test_nameservers(void **state)
{
	static const struct {
		const char *list;
		const char *err;	/* NULL: accepted */
	} rows[] = {
		{"127.0.0.1", NULL}, {"127.0.0.1@5353", NULL},
		{"::1", NULL}, {"::1@5353, 192.0.2.53 ; 2001:db8::53@53", NULL},
		{"  192.0.2.53  ", NULL},
		{"ns.example.nl", "name server \"ns.example.nl\" is not an IP "
		 "address (use addr or addr@port)"},
		{"127.0.0.1@0", "bad port in name server \"127.0.0.1@0\""},
		{"127.0.0.1@65536", "bad port in name server "
		 "\"127.0.0.1@65536\""},
		{"127.0.0.1@", "bad port in name server \"127.0.0.1@\""},
		{"127.0.0.1:53", "name server \"127.0.0.1:53\" is not an IP "
		 "address (use addr or addr@port)"},
		{"[::1]:53", "name server \"[::1]:53\" is not an IP address "
		 "(use addr or addr@port)"},
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_resolver_t *r;

		err[0] = '\0';
		r = fm_resolver_new(rows[i].list, 100, err, sizeof(err));
		if (rows[i].err == NULL) {
			if (r == NULL)
				fail_msg("\"%s\" refused: %s", rows[i].list,
					 err);
			assert_int_equal(fm_resolver_timeout(r), 100);
		} else {
			assert_null(r);
			assert_string_equal(err, rows[i].err);
		}
		fm_resolver_free(r);
	}
	/* NULL and "" mean /etc/resolv.conf; no query is made here. */
	fm_resolver_free(fm_resolver_new(NULL, 0, err, sizeof(err)));
	fm_resolver_free(NULL);
}

/* ---------------------------------------------- a tiny DNS responder */

/*
 * The responder answers by the first label of the question: "nx..."
 * NXDOMAIN, "servfail..." SERVFAIL, "refused..." REFUSED, "nodata..." no
 * records, "silent..." nothing at all; any other name gets A 192.0.2.N
 * (N = length of the name), AAAA 2001:db8::N, TXT "hello " "<name>" (two
 * strings), MX 10 mx.<name>, PTR host.example.
 */
typedef struct responder {
	int fd, stop[2];
	unsigned port;
	pthread_t thread;
} responder_t;

/* put_name - write name in wire form; returns octets */
static size_t put_name(unsigned char *p, const char *name)
{
	size_t o = 0;

	while (*name != '\0') {
		size_t n = strcspn(name, ".");

		p[o++] = (unsigned char)n;
		memcpy(p + o, name, n);
		o += n;
		name += n + (name[n] == '.');
	}
	p[o++] = 0;
	return o;
}

/* answer_rdata - rdata for qtype and name; returns octets, 0 for none */
static size_t answer_rdata(unsigned char *p, int qtype, const char *name)
{
	size_t n = strlen(name);
	char mx[310];

	switch (qtype) {
	case FM_DNS_A:
		memcpy(p, "\xc0\x00\x02", 3);
		p[3] = (unsigned char)n;
		return 4;
	case FM_DNS_AAAA:
		memset(p, 0, 16);
		memcpy(p, "\x20\x01\x0d\xb8", 4);
		p[15] = (unsigned char)n;
		return 16;
	case FM_DNS_TXT:
		p[0] = 6;
		memcpy(p + 1, "hello ", 6);
		p[7] = (unsigned char)n;
		memcpy(p + 8, name, n);
		return 8 + n;
	case FM_DNS_MX:
		p[0] = 0;
		p[1] = 10;
		snprintf(mx, sizeof(mx), "mx.%s", name);
		return 2 + put_name(p + 2, mx);
	case FM_DNS_PTR:
		return put_name(p, "host.example");
	}
	return 0;
}

/* respond - build the reply to query q (qlen octets) into r */
static size_t respond(const unsigned char *q, size_t qlen, unsigned char *r)
{
	char name[300];
	size_t pos = 12, o = 0, rdl;
	int qtype, rcode = 0;

	if (qlen < 17 || q[5] != 1)
		return 0;
	while (pos < qlen && q[pos] != 0 && o + q[pos] + 1 < sizeof(name)) {
		memcpy(name + o, q + pos + 1, q[pos]);
		o += q[pos];
		name[o++] = '.';
		pos += q[pos] + 1U;
	}
	if (pos + 5 > qlen || o == 0)
		return 0;
	name[o - 1] = '\0';
	qtype = q[pos + 1] << 8 | q[pos + 2];
	pos += 5;		/* end of the question */
	if (strncmp(name, "silent", 6) == 0)
		return 0;
	rcode = strncmp(name, "nx", 2) == 0 ? 3
	    : strncmp(name, "servfail", 8) == 0 ? 2
	    : strncmp(name, "refused", 7) == 0 ? 5 : 0;
	memcpy(r, q, pos);
	r[2] = 0x84 | (q[2] & 0x01);	/* QR AA RD */
	r[3] = (unsigned char)(0x80 | rcode);	/* RA */
	memset(r + 6, 0, 6);
	if (rcode != 0 || strncmp(name, "nodata", 6) == 0)
		return pos;
	rdl = answer_rdata(r + pos + 12, qtype, name);
	if (rdl == 0)
		return pos;
	r[7] = 1;		/* ANCOUNT */
	memcpy(r + pos, "\xc0\x0c", 2);
	r[pos + 2] = 0;
	r[pos + 3] = (unsigned char)qtype;
	memcpy(r + pos + 4, "\x00\x01\x00\x00\x00\x3c", 6);	/* IN, TTL 60 */
	r[pos + 10] = (unsigned char)(rdl >> 8);
	r[pos + 11] = (unsigned char)rdl;
	return pos + 12 + rdl;
}

/* responder_main - the responder thread */
static void *responder_main(void *arg)
{
	responder_t *rs = arg;
	unsigned char q[1500], r[2048];
	struct pollfd pfd[2] = {{rs->fd, POLLIN, 0}, {rs->stop[0], POLLIN, 0}};

	while (poll(pfd, 2, -1) >= 0 && pfd[1].revents == 0) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(rs->fd, q, sizeof(q), 0,
				     (struct sockaddr *)&from, &flen);
		size_t rl;

		if (n > 0 && (rl = respond(q, (size_t)n, r)) > 0)
			(void)sendto(rs->fd, r, rl, 0, (struct sockaddr *)&from,
				     flen);
	}
	return NULL;
}

/* responder_start - start the responder on a free port */
static void responder_start(responder_t *rs)
{
	rs->fd = udp_socket(&rs->port);
	assert_int_equal(pipe(rs->stop), 0);
	assert_int_equal(pthread_create(&rs->thread, NULL, responder_main, rs),
			 0);
}

/* responder_stop - stop it */
static void responder_stop(responder_t *rs)
{
	assert_int_equal(write(rs->stop[1], "x", 1), 1);
	pthread_join(rs->thread, NULL);
	close(rs->fd);
	close(rs->stop[0]);
	close(rs->stop[1]);
}

/* ub_resolver - a libunbound resolver that asks 127.0.0.1@port */
static fm_resolver_t *ub_resolver(unsigned port, unsigned timeout_ms)
{
	char ns[64], err[256];
	fm_resolver_t *r;

	snprintf(ns, sizeof(ns), "127.0.0.1@%u", port);
	r = fm_resolver_new(ns, timeout_ms, err, sizeof(err));
	if (r == NULL)
		fail_msg("fm_resolver_new: %s", err);
	return r;
}

/* test_unbound_answers - record parsing and status mapping */
static void test_unbound_answers(void **state)
{
	responder_t rs;
	fm_resolver_t *r;
	fm_dns_answer_t a;

	(void)state;
	responder_start(&rs);
	r = ub_resolver(rs.port, 3000);
	query(r, "abc.example", FM_DNS_A, FM_DNS_OK, &a);
	assert_int_equal(a.count, 1);
	assert_string_equal(a.rr[0].text, "192.0.2.11");
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.cname, 0);
	assert_string_equal(a.canon, "abc.example");
	assert_true(a.ttl > 0 && a.ttl <= 60);
	fm_dns_answer_free(&a);
	query(r, "abc.example", FM_DNS_AAAA, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "2001:db8::b");
	fm_dns_answer_free(&a);
	query(r, "txt.example.", FM_DNS_TXT, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "hello txt.example");
	fm_dns_answer_free(&a);
	query(r, "mail.example", FM_DNS_MX, FM_DNS_OK, &a);
	assert_int_equal(a.rr[0].pref, 10);
	assert_string_equal(a.rr[0].text, "mx.mail.example");
	fm_dns_answer_free(&a);
	query(r, "10.2.0.192.in-addr.arpa", FM_DNS_PTR, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "host.example");
	fm_dns_answer_free(&a);
	query(r, "nx.example", FM_DNS_A, FM_DNS_NXDOMAIN, &a);
	assert_int_equal(a.rcode, 3);
	query(r, "nodata.example", FM_DNS_TXT, FM_DNS_NODATA, &a);
	query(r, "servfail.example", FM_DNS_A, FM_DNS_TEMPFAIL, &a);
	query(r, "refused.example", FM_DNS_A, FM_DNS_TEMPFAIL, &a);
	query(r, "a..b", FM_DNS_A, FM_DNS_PERMFAIL, &a);
	query(r, "abc.example", 0, FM_DNS_PERMFAIL, &a);
	fm_resolver_free(r);
	responder_stop(&rs);
}

/* test_timeout - a silent server: tempfail within the deadline */
static void test_timeout(void **state)
{
	static const unsigned limits[] = { 300, 1000 };
	unsigned port;
	fm_dns_answer_t a;
	long long t0, ms;
	size_t i;
	int fd = udp_socket(&port);

	(void)state;
	for (i = 0; i < 2; i++) {
		fm_resolver_t *r = ub_resolver(port, limits[i]);

		t0 = now_ms();
		query(r, "example.nl", FM_DNS_TXT, FM_DNS_TEMPFAIL, &a);
		ms = now_ms() - t0;
		print_message("# silent server, timeout %u ms: tempfail after "
			      "%lld ms (%s)\n", limits[i], ms, a.why);
		assert_true(ms >= limits[i] - 10 && ms < limits[i] + 500);
		/* A shorter per-query limit wins; a longer one does not. */
		t0 = now_ms();
		assert_int_equal(fm_resolver_query(r, "b.example.nl",
						   FM_DNS_A, 100, &a),
				 FM_DNS_TEMPFAIL);
		ms = now_ms() - t0;
		assert_true(ms >= 90 && ms < 600);
		t0 = now_ms();
		assert_int_equal(fm_resolver_query(r, "c.example.nl",
						   FM_DNS_A, 60000, &a),
				 FM_DNS_TEMPFAIL);
		assert_true(now_ms() - t0 < limits[i] + 500);
		t0 = now_ms();
		fm_resolver_free(r);	/* abandoned queries still pending */
		print_message("# freed with pending queries in %lld ms\n",
			      now_ms() - t0);
	}
	close(fd);
}

/* test_closed_port - nothing listens: tempfail, within the timeout */
static void test_closed_port(void **state)
{
	unsigned port;
	int fd = udp_socket(&port);
	fm_resolver_t *r;
	fm_dns_answer_t a;
	long long t0;

	(void)state;
	close(fd);		/* the port is now closed */
	r = ub_resolver(port, 400);
	t0 = now_ms();
	query(r, "example.nl", FM_DNS_A, FM_DNS_TEMPFAIL, &a);
	print_message("# closed port: tempfail after %lld ms (%s)\n",
		      now_ms() - t0, a.why);
	assert_true(now_ms() - t0 < 900);
	fm_resolver_free(r);
}

typedef struct worker {
	fm_resolver_t *r;
	int id;
	int silent;		/* the server never answers */
	int bad;
} worker_t;

/* worker_main - thread body: many queries, each checked */
static void *worker_main(void *arg)
{
	worker_t *w = arg;
	fm_dns_answer_t a;
	char name[64];
	int i;

	for (i = 0; i < (w->silent ? 4 : 200); i++) {
		size_t len;
		long long t0 = now_ms();

		len = (size_t)snprintf(name, sizeof(name), "q%d-%d.example",
				       w->id, i);
		fm_resolver_query(w->r, name, FM_DNS_A, 0, &a);
		if (w->silent)
			w->bad += a.status != FM_DNS_TEMPFAIL
			    || now_ms() - t0 > 600;
		else if (a.status != FM_DNS_OK || a.count != 1
			 || a.rr[0].addr[3] != (unsigned char)len)
			w->bad++;
		fm_dns_answer_free(&a);
	}
	return NULL;
}

/* run_workers - eight threads on one resolver; all must be right */
static void run_workers(fm_resolver_t *r, int silent)
{
	worker_t w[8];
	pthread_t t[8];
	int i;

	for (i = 0; i < 8; i++) {
		w[i].r = r;
		w[i].id = i;
		w[i].silent = silent;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
						&w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
}

/* test_threads - one resolver, many threads: answers never mixed up */
static void test_threads(void **state)
{
	responder_t rs;
	fm_resolver_t *r;

	(void)state;
	responder_start(&rs);
	r = ub_resolver(rs.port, 3000);
	run_workers(r, 0);
	fm_resolver_free(r);
	responder_stop(&rs);
}

/* test_threads_timeout - many threads time out at once, each in time */
static void test_threads_timeout(void **state)
{
	unsigned port;
	int fd = udp_socket(&port);
	fm_resolver_t *r = ub_resolver(port, 100);

	(void)state;
	run_workers(r, 1);
	fm_resolver_free(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_static_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_nameservers),
		cmocka_unit_test(test_unbound_answers),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_threads_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* FM_TEST_REAL_DNS */

/* ------------------------------------------ NSD from dnsserver.sh */

static char dns_dir[1024];	/* tests/dns */
static char work_dir[64];	/* the server's private directory */
static unsigned dns_port;
static fm_resolver_t *res;

/* find_dns_dir - tests/dns: $FM_DNS_DIR, $srcdir/dns, or beside us */
static int find_dns_dir(void)
{
	const char *env = getenv("FM_DNS_DIR"), *src = getenv("srcdir");
	char script[1100], *p;

	if (env != NULL)
		snprintf(dns_dir, sizeof(dns_dir), "%s", env);
	else if (src != NULL)
		snprintf(dns_dir, sizeof(dns_dir), "%s/dns", src);
	else {
		snprintf(dns_dir, sizeof(dns_dir), "%s", __FILE__);
		if ((p = strstr(dns_dir, "unit/test_resolver.c")) == NULL)
			return -1;
		strcpy(p, "dns");
	}
	snprintf(script, sizeof(script), "%s/dnsserver.sh", dns_dir);
	return access(script, R_OK);
}

/* run_script - bash dnsserver.sh ARGS...; its exit status */
static int run_script(char **args, size_t nargs)
{
	char script[1100], *argv[64];
	size_t i;
	pid_t pid;
	int st;

	snprintf(script, sizeof(script), "%s/dnsserver.sh", dns_dir);
	argv[0] = "bash";
	argv[1] = script;
	for (i = 0; i < nargs && i < 60; i++)
		argv[i + 2] = args[i];
	argv[i + 2] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execvp("bash", argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* free_port - a port that is free on 127.0.0.1 for UDP and TCP */
static unsigned free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned port;
	int u = udp_socket(&port), t = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (t < 0 || bind(t, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		port = 0;
	close(u);
	if (t >= 0)
		close(t);
	return port;
}

/* remove_entry - nftw callback of remove_tree */
static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* start_server - NSD with every zone of tests/dns/zones; -1 with why */
static int start_server(char *why, size_t len)
{
	char port[16], pattern[1100], *args[64];
	glob_t g;
	size_t i, n = 0;
	int tries, rc = -1;

	if (find_dns_dir() < 0) {
		snprintf(why, len, "tests/dns/dnsserver.sh not found "
			 "(set FM_DNS_DIR)");
		return -1;
	}
	snprintf(pattern, sizeof(pattern), "%s/zones/*.zone", dns_dir);
	if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		snprintf(why, len, "no zone files match %.400s", pattern);
		return -1;
	}
	snprintf(work_dir, sizeof(work_dir), "/tmp/fm-dns-test.XXXXXX");
	if (mkdtemp(work_dir) == NULL) {
		snprintf(why, len, "mkdtemp: %s", strerror(errno));
		globfree(&g);
		return -1;
	}
	args[n++] = "start";
	args[n++] = work_dir;
	args[n++] = port;
	for (i = 0; i < g.gl_pathc && n < 60; i++)
		args[n++] = g.gl_pathv[i];
	for (tries = 0; tries < 3 && rc != 0; tries++) {
		dns_port = free_port();
		snprintf(port, sizeof(port), "%u", dns_port);
		if ((rc = run_script(args, n)) != 2)
			break;	/* 2: the port was taken, try another */
	}
	globfree(&g);
	if (rc != 0) {
		snprintf(why, len, "dnsserver.sh start failed (exit %d); see "
			 "its messages above", rc);
		nftw(work_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	return rc == 0 ? 0 : -1;
}

/* stop_server - stop NSD and remove its directory */
static void stop_server(void)
{
	char *args[] = { "stop", work_dir };

	(void)run_script(args, 2);
	nftw(work_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* test_real_txt - TXT records: several, joined strings, over TCP */
static void test_real_txt(void **state)
{
	fm_dns_answer_t a;
	size_t i;

	(void)state;
	query(res, "remote.example", FM_DNS_TXT, FM_DNS_OK, &a);
	assert_int_equal(a.count, 2);
	assert_true(strcmp(a.rr[0].text, "v=spf1 mx -all") == 0
		    || strcmp(a.rr[1].text, "v=spf1 mx -all") == 0);
	assert_int_equal(a.ttl, 300);
	fm_dns_answer_free(&a);
	query(res, "split.remote.example", FM_DNS_TXT, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "v=spf1 ip4:192.0.2.10 -all");
	fm_dns_answer_free(&a);
	/* 1464 octets do not fit a 1232-octet UDP answer: TC, then TCP */
	query(res, "big.remote.example", FM_DNS_TXT, FM_DNS_OK, &a);
	assert_int_equal(a.count, 1);
	assert_int_equal(a.rr[0].len, 6 * 244);
	for (i = 0; i < a.rr[0].len; i++)
		assert_int_equal(a.rr[0].text[i], '0' + (int)(i % 244 % 10));
	fm_dns_answer_free(&a);
}

/* test_real_types - MX, A, AAAA, PTR, CNAME chains */
static void test_real_types(void **state)
{
	fm_dns_answer_t a;

	(void)state;
	query(res, "remote.example", FM_DNS_MX, FM_DNS_OK, &a);
	assert_int_equal(a.rr[0].pref, 10);
	assert_string_equal(a.rr[0].text, "mx.remote.example");
	fm_dns_answer_free(&a);
	query(res, "mx.remote.example", FM_DNS_A, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "192.0.2.10");
	fm_dns_answer_free(&a);
	query(res, "mx.remote.example", FM_DNS_AAAA, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "2001:db8::10");
	fm_dns_answer_free(&a);
	query(res, "10.2.0.192.in-addr.arpa", FM_DNS_PTR, FM_DNS_OK, &a);
	assert_string_equal(a.rr[0].text, "mx.remote.example");
	fm_dns_answer_free(&a);
	query(res, "chain.remote.example", FM_DNS_A, FM_DNS_OK, &a);
	assert_int_equal(a.cname, 1);
	assert_string_equal(a.canon, "mx.remote.example");
	assert_string_equal(a.rr[0].text, "192.0.2.10");
	fm_dns_answer_free(&a);
	query(res, "alias.remote.example", FM_DNS_CNAME, FM_DNS_OK, &a);
	assert_int_equal(a.cname, 0);
	assert_string_equal(a.rr[0].text, "mx.remote.example");
	fm_dns_answer_free(&a);
	/* a feedback domain that is a CNAME to the operator's MX host */
	query(res, "feedback.example.org", FM_DNS_MX, FM_DNS_OK, &a);
	assert_int_equal(a.cname, 1);
	assert_string_equal(a.canon, "mx.feedback-host.example");
	assert_string_equal(a.rr[0].text, "mx.feedback-host.example");
	fm_dns_answer_free(&a);
	query(res, "feedback.example.nl", FM_DNS_MX, FM_DNS_OK, &a);
	assert_int_equal(a.cname, 0);
	assert_string_equal(a.rr[0].text, "mx.feedback-host.example");
	fm_dns_answer_free(&a);
}

/* test_real_negative - NXDOMAIN, NODATA, empty non-terminal, REFUSED */
static void test_real_negative(void **state)
{
	fm_dns_answer_t a;

	(void)state;
	query(res, "nope.remote.example", FM_DNS_A, FM_DNS_NXDOMAIN, &a);
	assert_int_equal(a.rcode, 3);
	assert_int_equal(a.ttl, 300);	/* the SOA minimum */
	query(res, "empty.remote.example", FM_DNS_TXT, FM_DNS_NODATA, &a);
	query(res, "below.remote.example", FM_DNS_A, FM_DNS_NODATA, &a);
	query(res, "sel._domainkey.remote.example", FM_DNS_TXT,
	      FM_DNS_NXDOMAIN, &a);
	/* not served here: NSD refuses, which is a temporary failure */
	query(res, "www.example.com", FM_DNS_A, FM_DNS_TEMPFAIL, &a);
	assert_true(a.why[0] != '\0');
}

/* real_worker - thread body for test_real_threads */
static void *real_worker(void *arg)
{
	static const char *const names[] = {
		"mx.remote.example", "chain.remote.example",
		"alias.remote.example", "mta.example.nl",
	};
	fm_dns_answer_t a;
	long bad = 0;
	int i;

	(void)arg;
	for (i = 0; i < 100; i++) {
		const char *name = names[i % 4];
		const char *want = i % 4 == 3 ? "192.0.2.25" : "192.0.2.10";

		if (fm_resolver_query(res, name, FM_DNS_A, 0, &a) != FM_DNS_OK
		    || strcmp(a.rr[0].text, want) != 0)
			bad++;
		fm_dns_answer_free(&a);
		if (fm_resolver_query(res, "big.remote.example", FM_DNS_TXT, 0,
				      &a) != FM_DNS_OK || a.rr[0].len != 1464)
			bad++;
		fm_dns_answer_free(&a);
	}
	return (void *)bad;
}

/* test_real_threads - eight threads against NSD */
static void test_real_threads(void **state)
{
	pthread_t t[8];
	void *bad;
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, real_worker, NULL),
				 0);
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], &bad);
		assert_null(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_txt),
		cmocka_unit_test(test_real_types),
		cmocka_unit_test(test_real_negative),
		cmocka_unit_test(test_real_threads),
	};
	char why[512], ns[64], err[256];
	int rc;

	if (start_server(why, sizeof(why)) < 0) {
		fprintf(stderr, "SKIP: cannot start the test DNS server: %s\n",
			why);
		return 77;
	}
	snprintf(ns, sizeof(ns), "127.0.0.1@%u", dns_port);
	if ((res = fm_resolver_new(ns, 3000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fm_resolver_new: %s\n", err);
		stop_server();
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fm_resolver_free(res);
	stop_server();
	return rc;
}

#endif
