/*
 * test_dnscheck - unit tests for the DNS advice and check (dnscheck*.c)
 *
 * Links milter/dnscheck*.c, resolver.c, spfcheck.c, libspf2, libunbound,
 * libcrypto and cmocka. DNS comes from the resolver's static zone, also
 * for the "authoritative" side of the cache comparison, so every case is
 * hermetic. DKIM keys are made at run time in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "dnscheck.h"
#include "resolver.h"
#include "spfcheck.h"

static char tmpdir[] = "/tmp/test_dnscheck.XXXXXX";
static char *key2048, *key1024, *key512, *other2048;
static unsigned bits2048, bits1024, bits512;

/* make_key - generate a key of bits into tmpdir/name, load its public key */
static char *make_key(const char *name, unsigned bits, unsigned *got)
{
	char path[256], err[256], *pub = NULL;
	unsigned b = 0;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(fm_dkim_key_generate(path, bits, err, sizeof(err)), 0);
	assert_int_equal(fm_dkim_key_load(path, &pub, &b, err, sizeof(err)), 0);
	if (got != NULL)
		*got = b;
	return pub;
}

static int setup_keys(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	key2048 = make_key("k2048.pem", 2048, &bits2048);
	other2048 = make_key("o2048.pem", 2048, NULL);
	key1024 = make_key("k1024.pem", 1024, &bits1024);
	key512 = make_key("k512.pem", 512, &bits512);
	return 0;
}

static int teardown_keys(void **state)
{
	char cmd[300];

	(void)state;
	free(key2048);
	free(other2048);
	free(key1024);
	free(key512);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *mx_hosts[] = {"mx1.fm-host.example", "mx2.fm-host.example"};

/* base_setup - example.nl with two MX hosts and one outbound address */
static void base_setup(fm_dns_setup_t *s, fm_net_t *net)
{
	memset(s, 0, sizeof(*s));
	memset(net, 0, sizeof(*net));
	net->family = AF_INET;
	inet_pton(AF_INET, "192.0.2.25", net->addr);
	net->prefix = 32;
	s->domain = "example.nl";
	s->feedback = "feedback.example.nl";
	s->mx_hosts = mx_hosts;
	s->nmx_hosts = 2;
	s->cname_target = "fb.fm-host.example";
	s->outbound = net;
	s->noutbound = 1;
	s->selector = "fm";
	s->dkim_key = key2048;
	s->dkim_bits = bits2048;
	s->rua = "dmarc@example.nl";
	s->ttl = 3600;
}

/* ------------------------------------------------------------- advice */

/* advise_text - the advice as a string (caller frees) */
static char *advise_text(const fm_dns_setup_t *s, int *missing)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	*missing = fm_dns_advise(s, fp);
	fclose(fp);
	return buf;
}

static void test_advice_lines(void **state)
{
	static const char *const want[] = {
		"feedback.example.nl.\t3600\tIN\tMX\t10 mx1.fm-host.example.",
		"feedback.example.nl.\t3600\tIN\tMX\t20 mx2.fm-host.example.",
		"feedback.example.nl.\t3600\tIN\tTXT\t"
		"\"v=spf1 ip4:192.0.2.25 ip6:2001:db8::/48 include:_spf.fm-host.example -all\"",
		"example.nl.\t3600\tIN\tTXT\t"
		"\"v=spf1 ip4:192.0.2.25 ip6:2001:db8::/48 include:_spf.fm-host.example ~all\"",
		"fm._domainkey.example.nl.\t3600\tIN\tTXT\t\"v=DKIM1; k=rsa; p=MIIBkey\"",
		"_dmarc.example.nl.\t3600\tIN\tTXT\t"
		"\"v=DMARC1; p=none; adkim=r; aspf=r; rua=mailto:dmarc@example.nl\"",
	};
	fm_net_t nets[2];
	fm_dns_setup_t s;
	char *text, *line, *save = NULL;
	int missing, prev_comment = 0;
	size_t n = 0;

	(void)state;
	base_setup(&s, &nets[0]);
	nets[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::", nets[1].addr);
	nets[1].prefix = 48;
	s.outbound = nets;
	s.noutbound = 2;
	s.spf_include = "_spf.fm-host.example";
	s.dkim_key = "MIIBkey";
	s.dkim_bits = 1024;
	text = advise_text(&s, &missing);
	assert_int_equal(missing, 0);
	assert_non_null(strstr(text, "\n;feedback.example.nl.\t3600\tIN\tCNAME\t"
			       "fb.fm-host.example.\n"));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == ';') {
			prev_comment = 1;
			continue;
		}
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_string_equal(line, want[n]);
		assert_true(prev_comment);	/* a comment for each record */
		prev_comment = 0;
		n++;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	free(text);
}

static void test_advice_missing(void **state)
{
	fm_dns_setup_t s;
	fm_net_t net;
	char *text;
	int missing;

	(void)state;
	base_setup(&s, &net);
	s.nmx_hosts = 0;
	s.cname_target = NULL;
	s.noutbound = 0;
	s.dkim_key = NULL;
	s.dkim_why = "DkimKeyFile is not set";
	s.rua = "reports@dmarc.example";
	text = advise_text(&s, &missing);
	assert_int_equal(missing, 4);	/* MX, two SPF, DKIM */
	assert_non_null(strstr(text, "set MXHost"));
	assert_non_null(strstr(text, "DkimKeyFile is not set; then run "
			       "\"feedbackctl dkim keygen example.nl\""));
	assert_non_null(strstr(text, ";example.nl._report._dmarc.dmarc.example."
			       "\t3600\tIN\tTXT\t\"v=DMARC1\"\n"));
	assert_non_null(strstr(text, "\"v=DMARC1; p=none; adkim=r; aspf=r; "
			       "rua=mailto:reports@dmarc.example\"\n"));
	free(text);
}

static void test_advice_cname_only(void **state)
{
	fm_dns_setup_t s;
	fm_net_t net;
	char *text;
	int missing;

	(void)state;
	base_setup(&s, &net);
	s.nmx_hosts = 0;
	text = advise_text(&s, &missing);
	assert_int_equal(missing, 0);
	assert_non_null(strstr(text, "\nfeedback.example.nl.\t3600\tIN\tCNAME\t"
			       "fb.fm-host.example.\n"));
	assert_null(strstr(text, "\nfeedback.example.nl.\t3600\tIN\tTXT"));
	free(text);
}

static void test_txt_split(void **state)
{
	char key[601], text[700], out[1400], want[1400];
	int n;

	(void)state;
	memset(key, 'K', 600);
	key[600] = '\0';
	fm_dkim_advice_value(key, text, sizeof(text));
	assert_int_equal(strlen(text), 618);
	assert_int_equal(fm_txt_zone_strings(text, " ", out, sizeof(out)), 0);
	/* 255 + 255 + 108 octets */
	n = snprintf(want, sizeof(want), "\"%.255s\" \"%.255s\" \"%s\"", text,
		     text + 255, text + 510);
	assert_true(n > 0);
	assert_string_equal(out, want);
	assert_int_equal(strlen(text + 510), 108);

	/* exactly 255 octets: one string; 256: two */
	memset(text, 'a', 256);
	text[255] = '\0';
	assert_int_equal(fm_txt_zone_strings(text, " ", out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 257);
	text[255] = 'b';
	text[256] = '\0';
	assert_int_equal(fm_txt_zone_strings(text, " ", out, sizeof(out)), 0);
	assert_string_equal(out + 257, " \"b\"");

	/* quotes and backslashes are escaped, counted as one octet */
	assert_int_equal(fm_txt_zone_strings("a\"b\\c", " ", out, sizeof(out)),
			 0);
	assert_string_equal(out, "\"a\\\"b\\\\c\"");
	assert_int_equal(fm_txt_zone_strings("", " ", out, sizeof(out)), 0);
	assert_string_equal(out, "\"\"");
	assert_int_equal(fm_txt_zone_strings("abc", " ", out, 4), -1);
}

static void test_advice_long_key(void **state)
{
	fm_dns_setup_t s;
	fm_net_t net;
	char key[601], *text, *p;
	int missing;

	(void)state;
	memset(key, 'K', 600);
	key[600] = '\0';
	base_setup(&s, &net);
	s.dkim_key = key;
	text = advise_text(&s, &missing);
	p = strstr(text, "fm._domainkey.example.nl.\t3600\tIN\tTXT\t( \"v=DKIM1; "
		   "k=rsa; p=KKK");
	assert_non_null(p);
	/* three strings on three lines, in parentheses */
	p = strchr(p, '\n');
	assert_non_null(p);
	assert_memory_equal(p, "\n\t\t\t\t\"KKK", 8);
	p = strchr(p + 1, '\n');
	assert_non_null(p);
	assert_int_equal(strcspn(p + 6, "\""), 108);
	assert_memory_equal(p + 6 + 108, "\" )\n", 4);
	free(text);
}

/* ------------------------------------------------------------ parsers */

typedef struct {
	const char *label, *text;
	int ok;
	const char *p;
	char adkim, aspf;
	int pct;
	const char *err;	/* part of the reason */
} dmarc_case_t;

static void test_dmarc_parse(void **state)
{
	static const dmarc_case_t cases[] = {
		{"minimal", "v=DMARC1; p=none", 1, "none", 'r', 'r', 100, NULL},
		{"full", "v=DMARC1;p=Reject;sp=quarantine;adkim=s;aspf=r;pct=50;"
		 "rua=mailto:a@example.nl;", 1, "reject", 's', 'r', 50, NULL},
		{"spaces", "  v = DMARC1 ;  p = quarantine ; aspf = s ", 1,
		 "quarantine", 'r', 's', 100, NULL},
		{"no v", "p=none", 0, NULL, 0, 0, 0, "v=DMARC1"},
		{"v second", "p=none; v=DMARC1", 0, NULL, 0, 0, 0, "v=DMARC1"},
		{"lowercase version", "v=dmarc1; p=none", 0, NULL, 0, 0, 0,
		 "v=DMARC1"},
		{"no p", "v=DMARC1; rua=mailto:a@b.example", 0, NULL, 0, 0, 0,
		 "no p="},
		{"bad p", "v=DMARC1; p=block", 0, NULL, 0, 0, 0, "p=block"},
		{"bad aspf", "v=DMARC1; p=none; aspf=x", 0, NULL, 0, 0, 0,
		 "aspf="},
		{"bad pct", "v=DMARC1; p=none; pct=101", 0, NULL, 0, 0, 0,
		 "pct="},
		{"twice", "v=DMARC1; p=none; p=reject", 0, NULL, 0, 0, 0,
		 "twice"},
		{"not a tag", "v=DMARC1; p=none; junk", 0, NULL, 0, 0, 0,
		 "tag=value"},
	};
	char err[200];
	fm_dmarc_t d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const dmarc_case_t *c = &cases[i];
		int rc = fm_dmarc_parse(c->text, &d, err, sizeof(err));

		if (rc != (c->ok ? 0 : -1))
			fail_msg("%s: rc %d (%s)", c->label, rc, err);
		if (!c->ok) {
			if (strstr(err, c->err) == NULL)
				fail_msg("%s: reason \"%s\"", c->label, err);
			continue;
		}
		assert_string_equal(d.p, c->p);
		assert_int_equal(d.adkim, c->adkim);
		assert_int_equal(d.aspf, c->aspf);
		assert_int_equal(d.pct, c->pct);
	}
}

typedef struct {
	const char *label, *record, *dkim_domain;
	fm_chk_status_t want;
	const char *why;	/* part of the advice */
} align_case_t;

static void test_dmarc_alignment(void **state)
{
	static const align_case_t cases[] = {
		{"relaxed reject", "v=DMARC1; p=reject; rua=mailto:d@example.nl",
		 "example.nl", FM_CHK_OK, "works"},
		{"strict spf", "v=DMARC1; p=reject; aspf=s; rua=mailto:d@example.nl",
		 "example.nl", FM_CHK_FAIL, "MAIL FROM is at feedback.example.nl"},
		{"strict dkim, d= is the From domain",
		 "v=DMARC1; p=reject; adkim=s; rua=mailto:d@example.nl",
		 "example.nl", FM_CHK_OK, "works"},
		{"strict dkim, d= is the feedback domain",
		 "v=DMARC1; p=reject; adkim=s; rua=mailto:d@example.nl",
		 "feedback.example.nl", FM_CHK_FAIL, "adkim=s"},
		{"p=none with reports", "v=DMARC1; p=none; rua=mailto:d@example.nl",
		 "example.nl", FM_CHK_OK, "p=none only monitors"},
		{"p=none without reports", "v=DMARC1; p=none",
		 "example.nl", FM_CHK_WARN, "p=none only monitors"},
		{"no rua", "v=DMARC1; p=quarantine", "example.nl", FM_CHK_WARN,
		 "no rua="},
		{"unrelated dkim domain", "v=DMARC1; p=reject; rua=mailto:d@x.nl",
		 "esp.example", FM_CHK_WARN, "DKIM cannot align"},
	};
	fm_verdict_t v;
	fm_dmarc_t d;
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const align_case_t *c = &cases[i];

		assert_int_equal(fm_dmarc_parse(c->record, &d, err, sizeof(err)),
				 0);
		fm_verdict_init(&v, "works");
		fm_dmarc_align(&d, "example.nl", "feedback.example.nl",
			       c->dkim_domain, &v);
		if (v.status != c->want
		    || strstr(fm_verdict_advice(&v), c->why) == NULL)
			fail_msg("%s: %s \"%s\"", c->label,
				 fm_chk_status_name(v.status),
				 fm_verdict_advice(&v));
	}
	assert_true(fm_domain_aligned("feedback.example.nl", "example.nl", 0));
	assert_true(fm_domain_aligned("Example.NL.", "example.nl", 1));
	assert_false(fm_domain_aligned("feedback.example.nl", "example.nl", 1));
	assert_false(fm_domain_aligned("badexample.nl", "example.nl", 0));
	assert_false(fm_domain_aligned("example.nl", "other.nl", 0));
}

static void test_dkim_record_parse(void **state)
{
	fm_dkim_rec_t r;
	char err[200];

	(void)state;
	assert_int_equal(fm_dkim_rec_parse("v=DKIM1; k=rsa; h=sha256; "
					   "p=MIIB IjAN\tBgkq", &r, err,
					   sizeof(err)), 0);
	assert_string_equal(r.p, "MIIBIjANBgkq");
	assert_string_equal(r.h, "sha256");
	assert_int_equal(fm_dkim_rec_parse("p=", &r, err, sizeof(err)), 0);
	assert_true(r.has_p);
	assert_string_equal(r.p, "");
	assert_string_equal(r.k, "rsa");
	assert_int_equal(fm_dkim_rec_parse("k=rsa; v=DKIM1; p=AB", &r, err,
					   sizeof(err)), -1);
	assert_non_null(strstr(err, "v= must come first"));
	assert_int_equal(fm_dkim_rec_parse("v=DKIM1; k=rsa", &r, err,
					   sizeof(err)), -1);
	assert_non_null(strstr(err, "no p="));
	assert_int_equal(fm_dkim_rec_parse("v=DKIM1; p=AB!C", &r, err,
					   sizeof(err)), -1);
}

static void test_dkim_key_compare(void **state)
{
	char err[200], path[300];
	unsigned bits;
	struct stat st;

	(void)state;
	assert_int_equal(fm_dkim_key_compare(key2048, key2048, &bits, err,
					     sizeof(err)), 1);
	assert_int_equal(bits, 2048);
	assert_int_equal(bits2048, 2048);
	assert_int_equal(fm_dkim_key_compare(other2048, key2048, &bits, err,
					     sizeof(err)), 0);
	assert_int_equal(fm_dkim_key_compare(key1024, NULL, &bits, err,
					     sizeof(err)), 0);
	assert_int_equal(bits, 1024);
	assert_int_equal(fm_dkim_key_compare("bm90IGEga2V5", key2048, &bits,
					     err, sizeof(err)), -1);
	/* the key file is 0600 and is never overwritten */
	snprintf(path, sizeof(path), "%s/k2048.pem", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fm_dkim_key_generate(path, 2048, err, sizeof(err)), 1);
}

/* --------------------------------------------------------- SPF counting */

static const char spf_zone[] =
	"simple.example TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
	"chain.example TXT \"v=spf1 include:_a.chain.example mx a -all\"\n"
	"chain.example MX 10 mx.chain.example\n"
	"chain.example A 192.0.2.1\n"
	"mx.chain.example A 192.0.2.2\n"
	"_a.chain.example TXT \"v=spf1 include:_b.chain.example a:mx.chain.example ~all\"\n"
	"_b.chain.example TXT \"v=spf1 ip4:192.0.2.0/24 exists:%{i}.x.chain.example\"\n"
	"many.example TXT \"v=spf1 include:i1.many.example include:i2.many.example a:h.many.example mx:h.many.example -all\"\n"
	"i1.many.example TXT \"v=spf1 a:h.many.example a:h.many.example a:h.many.example a:h.many.example ~all\"\n"
	"i2.many.example TXT \"v=spf1 a:h.many.example a:h.many.example a:h.many.example ~all\"\n"
	"h.many.example A 192.0.2.3\n"
	"h.many.example MX 10 h.many.example\n"
	"voids.example TXT \"v=spf1 a:gone1.voids.example a:gone2.voids.example mx:h.voids.example -all\"\n"
	"h.voids.example A 192.0.2.4\n"
	"h.voids.example MX 10 h.voids.example\n"
	"six.voids.example AAAA 2001:db8::4\n"
	"v6.example TXT \"v=spf1 a:six.voids.example -all\"\n"
	"loop.example TXT \"v=spf1 include:loop2.example -all\"\n"
	"loop2.example TXT \"v=spf1 include:loop.example -all\"\n"
	"noinc.example TXT \"v=spf1 include:nothing.example -all\"\n"
	"nothing.example TXT \"not spf\"\n"
	"redir.example TXT \"v=spf1 redirect=simple.example\"\n"
	"redirall.example TXT \"v=spf1 -all redirect=chain.example\"\n"
	"two.example TXT \"v=spf1 -all\"\n"
	"two.example TXT \"v=spf1 +all\"\n"
	"junk.example TXT \"v=spf1 frob:x -all\"\n"
	"ptr.example TXT \"v=spf1 ptr -all\"\n";

typedef struct {
	const char *domain;
	unsigned lookups, voids;
	const char *error;	/* part of it, or NULL for none */
} spf_count_case_t;

static void test_spf_count(void **state)
{
	static const spf_count_case_t cases[] = {
		{"simple.example", 0, 0, NULL},
		/* include:_a, mx, a; in _a: include:_b, a:; in _b: exists */
		{"chain.example", 6, 0, NULL},
		{"many.example", 11, 0, NULL},
		{"voids.example", 3, 2, NULL},
		{"v6.example", 1, 0, NULL},
		{"loop.example", 2, 0, "loops back"},
		{"noinc.example", 1, 0, "include:nothing.example has no SPF"},
		{"redir.example", 1, 0, NULL},
		{"redirall.example", 0, 0, NULL},	/* redirect ignored */
		{"two.example", 0, 0, "2 SPF records"},
		{"junk.example", 0, 0, "unknown term"},
		{"ptr.example", 1, 0, NULL},
		{"absent.example", 0, 1, "has no SPF record"},
	};
	fm_resolver_t *r;
	fm_spf_count_t c;
	char err[200];
	size_t i;

	(void)state;
	r = fm_resolver_new_static(spf_zone, err, sizeof(err));
	assert_non_null(r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const spf_count_case_t *k = &cases[i];

		fm_spf_count_terms(r, k->domain, &c);
		if (c.lookups != k->lookups || c.voids != k->voids
		    || (k->error == NULL) != (c.error[0] == '\0')
		    || (k->error != NULL && strstr(c.error, k->error) == NULL))
			fail_msg("%s: lookups %u voids %u error \"%s\"",
				 k->domain, c.lookups, c.voids, c.error);
	}
	fm_spf_count_terms(r, "voids.example", &c);
	assert_string_equal(c.voidnames, "gone1.voids.example, "
			    "gone2.voids.example");
	fm_resolver_free(r);
}

/* ------------------------------------------- rows, status, exit, JSON */

static void test_status_aggregation(void **state)
{
	fm_chk_report_t rep;
	fm_verdict_t v;

	(void)state;
	fm_chk_report_init(&rep);
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_ERROR);
	fm_chk_add(&rep, "MX", "a", FM_CHK_OK, "v", 300, "fine");
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_OK);
	fm_chk_add(&rep, "SPF", "a", FM_CHK_WARN, "", FM_CHK_NO_TTL, "hm");
	assert_int_equal(fm_chk_worst(&rep), FM_CHK_WARN);
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_WARN);
	fm_chk_add(&rep, "DKIM", "a", FM_CHK_FAIL, "", 1, "bad");
	fm_chk_add(&rep, "DMARC", "a", FM_CHK_OK, "", 1, "fine");
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_FAIL);
	assert_int_equal(rep.count, 4);
	fm_chk_report_free(&rep);
	assert_int_equal(rep.count, 0);

	fm_verdict_init(&v, "all good");
	assert_string_equal(fm_verdict_advice(&v), "all good");
	fm_verdict_add(&v, FM_CHK_FAIL, "first %d", 1);
	fm_verdict_add(&v, FM_CHK_WARN, "second");
	assert_int_equal(v.status, FM_CHK_FAIL);	/* never gets better */
	assert_string_equal(fm_verdict_advice(&v), "first 1; second");
	assert_string_equal(fm_chk_status_name(FM_CHK_WARN), "warn");
}

/* json_of - fm_json_string output as a string */
static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	fm_json_string(fp, s);
	fclose(fp);
	return buf;
}

static void test_json_escaping(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"plain", "\"plain\""},
		{"say \"hi\"", "\"say \\\"hi\\\"\""},
		{"back\\slash", "\"back\\\\slash\""},
		{"a\nb\tc\rd", "\"a\\nb\\tc\\rd\""},
		{"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
		{"\xe2\x9c\x94 ok", "\"\xe2\x9c\x94 ok\""},
		{"bad \xff\xc3(", "\"bad \\ufffd\\ufffd(\""},
		{"surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\""},
		{"", "\"\""},
		{NULL, "null"},
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = json_of(cases[i].in);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_output(void **state)
{
	fm_chk_report_t rep;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	fm_chk_report_init(&rep);
	fm_chk_add(&rep, "MX", "feedback.example.nl", FM_CHK_OK,
		   "10 mx1.fm-host.example", 300, "fine");
	fm_chk_add(&rep, "DMARC", "_dmarc.example.nl", FM_CHK_WARN, "",
		   FM_CHK_NO_TTL, "say \"x\"\x1b[31m");
	fp = open_memstream(&buf, &len);
	fm_chk_print_json(fp, &rep);
	fclose(fp);
	assert_string_equal(buf,
		"{\"record\":\"MX\",\"name\":\"feedback.example.nl\",\"status\":"
		"\"ok\",\"value\":\"10 mx1.fm-host.example\",\"ttl\":300,"
		"\"advice\":\"fine\"}\n"
		"{\"record\":\"DMARC\",\"name\":\"_dmarc.example.nl\",\"status\":"
		"\"warn\",\"value\":\"\",\"ttl\":null,\"advice\":"
		"\"say \\\"x\\\"\\u001b[31m\"}\n");
	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	fm_chk_print_text(fp, &rep, 0);
	fclose(fp);
	assert_string_equal(buf,
		"ok    MX    feedback.example.nl ttl=300 \"10 mx1.fm-host.example\" -- fine\n"
		"warn  DMARC _dmarc.example.nl ttl=- \"-\" -- say \"x\"?[31m\n"
		"1 ok, 1 warn, 0 fail\n");
	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	fm_chk_print_text(fp, &rep, 1);
	fclose(fp);
	assert_memory_equal(buf, "\033[32m\xe2\x9c\x94 ok  \033[0m MX", 19);
	free(buf);
	fm_chk_report_free(&rep);
}

/* ---------------------------------------------------- the rules, live */

static const char zone_common[] =
	"example.nl NS ns.example.nl\n"
	"ns.example.nl A 192.0.2.53\n"
	"fm-host.example NS ns.fm-host.example\n"
	"ns.fm-host.example A 192.0.2.54\n"
	"mx1.fm-host.example A 192.0.2.30\n"
	"mx2.fm-host.example A 192.0.2.31\n"
	"mxalias.fm-host.example CNAME mx1.fm-host.example\n"
	"fb.fm-host.example MX 10 mx1.fm-host.example\n"
	"fb.fm-host.example MX 20 mx2.fm-host.example\n"
	"fb.fm-host.example TXT \"v=spf1 ip4:192.0.2.25 -all\"\n"
	"_spf.fm-host.example TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n";

static const char zone_ok[] =
	"example.nl TXT \"v=spf1 include:_spf.fm-host.example ~all\"\n"
	"example.nl TXT \"google-site-verification=abc\"\n"
	"feedback.example.nl MX 10 mx1.fm-host.example\n"
	"feedback.example.nl MX 20 mx2.fm-host.example\n"
	"feedback.example.nl TXT \"v=spf1 ip4:192.0.2.25 -all\"\n"
	"_dmarc.example.nl TXT \"v=DMARC1; p=reject; rua=mailto:d@example.nl\"\n";

/* zone_with - common + the lines + a key record for key (if any) */
static char *zone_with(const char *lines, const char *key)
{
	size_t len = strlen(zone_common) + strlen(lines) + 200
	    + (key ? strlen(key) : 0);
	char *z = malloc(len);

	assert_non_null(z);
	snprintf(z, len, "%s%s", zone_common, lines);
	if (key != NULL)
		snprintf(z + strlen(z), len - strlen(z), "fm._domainkey.example.nl "
			 "TXT \"v=DKIM1; k=rsa; \" \"p=%s\"\n", key);
	return z;
}

static const char *auth_zone;	/* what the authoritative side serves */
static char auth_asked[64];

/* static_auth - the "authoritative server" resolver of the tests */
static fm_resolver_t *static_auth(void *arg, const char *addr, char *err,
				  size_t errlen)
{
	(void)arg;
	snprintf(auth_asked, sizeof(auth_asked), "%s", addr);
	return fm_resolver_new_static(auth_zone, err, errlen);
}

/* run_check - fm_dns_check over a static zone; auth NULL: no comparison */
static void run_check(const fm_dns_setup_t *s, const char *zone,
		      const char *auth, fm_chk_report_t *rep)
{
	fm_chk_auth_t a = {static_auth, NULL, 0, 0};
	fm_resolver_t *r;
	fm_spf_t *spf;
	char err[200];

	r = fm_resolver_new_static(zone, err, sizeof(err));
	if (r == NULL)
		fail_msg("zone: %s", err);
	spf = fm_spf_new(r, "test", 0, err, sizeof(err));
	assert_non_null(spf);
	auth_zone = auth;
	fm_chk_report_init(rep);
	assert_int_equal(fm_dns_check(s, r, spf, auth ? &a : NULL, rep, err,
				      sizeof(err)), 0);
	fm_spf_free(spf);
	fm_resolver_free(r);
}

/* row - the row of record at name; fails the test if there is none */
static const fm_chk_row_t *row(const fm_chk_report_t *rep, const char *record,
			       const char *name)
{
	size_t i;

	for (i = 0; i < rep->count; i++)
		if (strcmp(rep->rows[i].record, record) == 0
		    && strcmp(rep->rows[i].name, name) == 0)
			return &rep->rows[i];
	fail_msg("no %s row for %s", record, name);
	return NULL;
}

/* expect - the row's status, and a part of its advice */
static void expect(const fm_chk_report_t *rep, const char *record,
		   const char *name, fm_chk_status_t st, const char *advice)
{
	const fm_chk_row_t *r = row(rep, record, name);

	if (r->status != st || strstr(r->advice, advice) == NULL)
		fail_msg("%s %s: %s \"%s\" (value \"%s\")", record, name,
			 fm_chk_status_name(r->status), r->advice, r->value);
}

static void test_check_all_ok(void **state)
{
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	char *zone;

	(void)state;
	base_setup(&s, &net);
	zone = zone_with(zone_ok, key2048);
	run_check(&s, zone, zone, &rep);
	expect(&rep, "MX", "feedback.example.nl", FM_CHK_OK, "configured MX");
	expect(&rep, "SPF", "feedback.example.nl", FM_CHK_OK, "one SPF");
	expect(&rep, "SPF", "example.nl", FM_CHK_OK, "one SPF");
	expect(&rep, "DKIM", "fm._domainkey.example.nl", FM_CHK_OK,
	       "key we sign with");
	expect(&rep, "DMARC", "_dmarc.example.nl", FM_CHK_OK, "alignment");
	expect(&rep, "cache", "example.nl", FM_CHK_OK, "authoritative");
	assert_string_equal(row(&rep, "MX", "feedback.example.nl")->value,
			    "10 mx1.fm-host.example, 20 mx2.fm-host.example");
	assert_int_equal(row(&rep, "MX", "feedback.example.nl")->ttl, 300);
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_OK);
	fm_chk_report_free(&rep);
	free(zone);
}

static void test_check_mx_cases(void **state)
{
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	char *zone;
	char *aliased[] = {"mxalias.fm-host.example"};

	(void)state;
	base_setup(&s, &net);
	/* only one of the two MX hosts */
	zone = zone_with("feedback.example.nl MX 10 mx1.fm-host.example\n",
			 key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "MX", "feedback.example.nl", FM_CHK_WARN,
	       "only some of the configured MX hosts are listed: add "
	       "mx2.fm-host.example");
	fm_chk_report_free(&rep);
	free(zone);
	/* an MX target that is a CNAME */
	s.mx_hosts = aliased;
	s.nmx_hosts = 1;
	zone = zone_with("feedback.example.nl MX 10 mxalias.fm-host.example\n",
			 key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "MX", "feedback.example.nl", FM_CHK_FAIL, "is a CNAME");
	fm_chk_report_free(&rep);
	free(zone);
	/* nothing there */
	base_setup(&s, &net);
	zone = zone_with("", key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "MX", "feedback.example.nl", FM_CHK_FAIL, "no MX record");
	expect(&rep, "SPF", "feedback.example.nl", FM_CHK_FAIL, "no SPF record");
	expect(&rep, "DMARC", "_dmarc.example.nl", FM_CHK_WARN,
	       "no DMARC record");
	fm_chk_report_free(&rep);
	free(zone);
	/* the CNAME alternative: equivalent to MX + SPF */
	zone = zone_with("feedback.example.nl CNAME fb.fm-host.example\n",
			 key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "CNAME", "feedback.example.nl", FM_CHK_OK,
	       "CNAME to the configured target");
	expect(&rep, "SPF", "feedback.example.nl", FM_CHK_OK, "one SPF");
	fm_chk_report_free(&rep);
	/* ... to another target */
	s.cname_target = "other.fm-host.example";
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "CNAME", "feedback.example.nl", FM_CHK_WARN,
	       "not to the configured CnameTarget");
	fm_chk_report_free(&rep);
	free(zone);
}

static void test_check_spf_cases(void **state)
{
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	char *zone;

	(void)state;
	base_setup(&s, &net);
	zone = zone_with(
		"feedback.example.nl MX 10 mx1.fm-host.example\n"
		"feedback.example.nl MX 20 mx2.fm-host.example\n"
		"feedback.example.nl TXT \"v=spf1 ip4:192.0.2.99 ~all\"\n"
		"example.nl TXT \"v=spf1 ip4:192.0.2.25 -all\"\n"
		"example.nl TXT \"v=spf1 a -all\"\n", key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "SPF", "feedback.example.nl", FM_CHK_FAIL,
	       "outbound address 192.0.2.25 gets softfail");
	expect(&rep, "SPF", "example.nl", FM_CHK_FAIL, "2 SPF records");
	fm_chk_report_free(&rep);
	free(zone);
	zone = zone_with(
		"feedback.example.nl TXT \"v=spf1 ip4:192.0.2.25 a:x1.example.nl "
		"a:x2.example.nl a:x3.example.nl -all\"\n"
		"example.nl TXT \"v=spf1 ip4:192.0.2.25 frob -all\"\n", key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "SPF", "feedback.example.nl", FM_CHK_FAIL,
	       "3 void lookups (x1.example.nl, x2.example.nl, x3.example.nl)");
	expect(&rep, "SPF", "example.nl", FM_CHK_FAIL, "does not compile");
	fm_chk_report_free(&rep);
	free(zone);
}

static void test_check_dkim_cases(void **state)
{
	static const struct {
		const char **key;
		fm_chk_status_t want;
		const char *why;
	} cases[] = {
		{(const char **)&other2048, FM_CHK_FAIL, "not the public key"},
		{(const char **)&key1024, FM_CHK_WARN, "1024-bit key"},
		{(const char **)&key512, FM_CHK_FAIL, "512-bit key"},
	};
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	char *zone;
	size_t i;

	(void)state;
	base_setup(&s, &net);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zone = zone_with(zone_ok, *cases[i].key);
		if (*cases[i].key != other2048)
			s.dkim_key = *cases[i].key;
		run_check(&s, zone, NULL, &rep);
		expect(&rep, "DKIM", "fm._domainkey.example.nl", cases[i].want,
		       cases[i].why);
		fm_chk_report_free(&rep);
		free(zone);
	}
	/* delegated by CNAME, key split over strings */
	s.dkim_key = key2048;
	zone = zone_with(zone_ok, NULL);
	{
		size_t len = strlen(zone) + strlen(key2048) + 300;
		char *z2 = malloc(len);

		assert_non_null(z2);
		snprintf(z2, len, "%sfm._domainkey.example.nl CNAME "
			 "fm.keys.esp.example\nfm.keys.esp.example TXT "
			 "\"v=DKIM1; k=rsa; p=%.100s\" \"%s\"\n", zone, key2048,
			 key2048 + 100);
		run_check(&s, z2, NULL, &rep);
		expect(&rep, "DKIM", "fm._domainkey.example.nl", FM_CHK_OK,
		       "delegated by CNAME to fm.keys.esp.example");
		fm_chk_report_free(&rep);
		free(z2);
	}
	free(zone);
	/* no key file to compare with */
	s.dkim_key = NULL;
	s.dkim_why = "DkimKeyFile is not set";
	zone = zone_with(zone_ok, key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "DKIM", "fm._domainkey.example.nl", FM_CHK_WARN,
	       "DkimKeyFile is not set");
	fm_chk_report_free(&rep);
	free(zone);
}

static void test_check_dmarc_strict(void **state)
{
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	char *zone;

	(void)state;
	base_setup(&s, &net);
	zone = zone_with(
		"feedback.example.nl MX 10 mx1.fm-host.example\n"
		"_dmarc.example.nl TXT \"v=DMARC1; p=reject; aspf=s; "
		"rua=mailto:d@example.nl\"\n", key2048);
	run_check(&s, zone, NULL, &rep);
	expect(&rep, "DMARC", "_dmarc.example.nl", FM_CHK_FAIL,
	       "aspf=s (strict SPF alignment) fails for every message: MAIL "
	       "FROM is at feedback.example.nl, not example.nl");
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_FAIL);
	fm_chk_report_free(&rep);
	free(zone);
}

static void test_check_cache_mismatch(void **state)
{
	static const char newer[] =
		"_dmarc.example.nl TXT \"v=DMARC1; p=reject; rua=mailto:new@example.nl\"\n";
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	char *zone, *auth, *lines;
	const fm_chk_row_t *r;
	size_t len = strlen(zone_ok) + sizeof(newer);

	(void)state;
	base_setup(&s, &net);
	zone = zone_with(zone_ok, key2048);
	/* the authority has a new DMARC record */
	lines = malloc(len);
	assert_non_null(lines);
	snprintf(lines, len, "%.*s%s", (int)(strstr(zone_ok, "_dmarc") - zone_ok),
		 zone_ok, newer);
	auth = zone_with(lines, key2048);
	run_check(&s, zone, auth, &rep);
	r = row(&rep, "cache", "_dmarc.example.nl");
	assert_int_equal(r->status, FM_CHK_WARN);
	assert_non_null(strstr(r->value, "TXT: resolver: v=DMARC1; p=reject; "
			       "rua=mailto:d@example.nl; ns.example.nl "
			       "(192.0.2.53): v=DMARC1; p=reject; "
			       "rua=mailto:new@example.nl"));
	assert_non_null(strstr(r->advice, "not visible everywhere yet"));
	assert_non_null(strstr(r->advice, "up to 300 s"));
	assert_int_equal(r->ttl, 300);
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_WARN);
	fm_chk_report_free(&rep);
	/* the authority that does not answer */
	run_check(&s, zone, "example.nl TEMPFAIL\nfm-host.example TEMPFAIL\n"
		  "feedback.example.nl TEMPFAIL\n_dmarc.example.nl TEMPFAIL\n"
		  "fm._domainkey.example.nl TEMPFAIL\nmx1.fm-host.example TEMPFAIL\n"
		  "mx2.fm-host.example TEMPFAIL\n", &rep);
	expect(&rep, "cache", "192.0.2.53", FM_CHK_WARN, "got no answer");
	fm_chk_report_free(&rep);
	free(lines);
	free(auth);
	free(zone);
}

static void test_check_unreachable(void **state)
{
	fm_chk_report_t rep;
	fm_dns_setup_t s;
	fm_net_t net;
	fm_resolver_t *r;
	char err[200];

	(void)state;
	base_setup(&s, &net);
	r = fm_resolver_new_static("example.nl TEMPFAIL\n", err, sizeof(err));
	assert_non_null(r);
	fm_chk_report_init(&rep);
	assert_int_equal(fm_dns_check(&s, r, NULL, NULL, &rep, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot query DNS for example.nl"));
	assert_int_equal(rep.count, 0);
	assert_int_equal(fm_chk_exit_code(&rep), FM_CHK_EXIT_ERROR);
	fm_resolver_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advice_lines),
		cmocka_unit_test(test_advice_missing),
		cmocka_unit_test(test_advice_cname_only),
		cmocka_unit_test(test_txt_split),
		cmocka_unit_test(test_advice_long_key),
		cmocka_unit_test(test_dmarc_parse),
		cmocka_unit_test(test_dmarc_alignment),
		cmocka_unit_test(test_dkim_record_parse),
		cmocka_unit_test(test_dkim_key_compare),
		cmocka_unit_test(test_spf_count),
		cmocka_unit_test(test_status_aggregation),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_check_all_ok),
		cmocka_unit_test(test_check_mx_cases),
		cmocka_unit_test(test_check_spf_cases),
		cmocka_unit_test(test_check_dkim_cases),
		cmocka_unit_test(test_check_dmarc_strict),
		cmocka_unit_test(test_check_cache_mismatch),
		cmocka_unit_test(test_check_unreachable),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
