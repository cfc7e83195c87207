/*
 * dnscheck_live - the rules of "feedbackctl dns check", over a resolver
 *
 * Each rule reads one record through the resolver, judges it and adds one
 * row to the report:
 *
 *	MX or CNAME	feedback.DOMAIN: MX at the configured MX hosts, or a
 *			CNAME to CnameTarget standing alone
 *	SPF		feedback.DOMAIN and DOMAIN: one v=spf1 record that
 *			compiles, passes for every outbound address (libspf2
 *			against the live records) and stays within 10
 *			DNS-querying terms and 2 void lookups
 *	DKIM		SELECTOR._domainkey.DOMAIN (CNAMEs followed): the key
 *			we sign with, 2048 bits or more
 *	DMARC		_dmarc.DOMAIN: parses; alignment that works for mail
 *			whose MAIL FROM is the feedback domain
 *
 * Every answer used is remembered; fm_chk_cache (dnscheck_cache.c) then
 * asks the authoritative servers for the same records. Lookups that fail
 * temporarily make their row a warning ("run the check again"); a
 * resolver that cannot be reached at all makes the check fail to run.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <spf2/spf.h>

#include "dnscheck.h"

typedef struct fm_chk {
	const fm_dns_setup_t *s;
	fm_resolver_t *res;
	fm_spf_t *spf;
	fm_chk_report_t *rep;
	fm_chk_seen_list_t seen;
	SPF_server_t *compiler;	/* for syntax checks only: no DNS */
} fm_chk_t;

/* fm_chk_query - ask the resolver and remember the answer */
static fm_dns_status_t fm_chk_query(fm_chk_t *ck, const char *name, int type,
				    fm_dns_answer_t *ans)
{
	fm_dns_status_t st = fm_resolver_query(ck->res, name, type, 0, ans);

	if (st != FM_DNS_TEMPFAIL && st != FM_DNS_PERMFAIL)
		(void)fm_chk_seen_add(&ck->seen, name, type, ans);
	return st;
}

/* fm_chk_row - add the row of a verdict */
static void fm_chk_row(fm_chk_t *ck, const char *record, const char *name,
		       const fm_verdict_t *v, const char *value, long ttl)
{
	(void)fm_chk_add(ck->rep, record, name, v->status, value, ttl,
			 fm_verdict_advice(v));
}

/* fm_chk_failed_lookup - a row for a lookup that did not complete */
static void fm_chk_failed_lookup(fm_chk_t *ck, const char *record,
				 const char *name, const fm_dns_answer_t *ans)
{
	char advice[300];

	snprintf(advice, sizeof(advice), "lookup failed (%s%s%s): run the "
		 "check again; if it persists, the domain's name servers are "
		 "not answering", fm_dns_status_name(ans->status),
		 ans->why[0] ? ": " : "", ans->why);
	(void)fm_chk_add(ck->rep, record, name, FM_CHK_WARN, "", FM_CHK_NO_TTL,
			 advice);
}

/* fm_is_mx_host - is host one of the configured MX hosts */
static int fm_is_mx_host(const fm_dns_setup_t *s, const char *host)
{
	size_t i;

	for (i = 0; i < s->nmx_hosts; i++)
		if (strcasecmp(s->mx_hosts[i], host) == 0)
			return 1;
	return 0;
}

/* fm_chk_mx_target - an MX target must be a host name with an address */
static void fm_chk_mx_target(fm_chk_t *ck, const char *host, fm_verdict_t *v)
{
	fm_dns_answer_t ans;
	fm_dns_status_t a, aaaa;

	if (fm_chk_query(ck, host, FM_DNS_CNAME, &ans) == FM_DNS_OK
	    && ans.count > 0)
		fm_verdict_add(v, FM_CHK_FAIL, "MX target %s is a CNAME (to %s): "
			       "an MX must name the host itself (RFC 2181 "
			       "10.3), and many MTAs refuse it; use %s",
			       host, ans.rr[0].text, ans.rr[0].text);
	fm_dns_answer_free(&ans);
	a = fm_chk_query(ck, host, FM_DNS_A, &ans);
	fm_dns_answer_free(&ans);
	aaaa = fm_chk_query(ck, host, FM_DNS_AAAA, &ans);
	fm_dns_answer_free(&ans);
	if ((a == FM_DNS_NXDOMAIN || a == FM_DNS_NODATA)
	    && (aaaa == FM_DNS_NXDOMAIN || aaaa == FM_DNS_NODATA))
		fm_verdict_add(v, FM_CHK_FAIL, "MX target %s has no address "
			       "(A or AAAA)", host);
}

/* fm_chk_mx_hosts - judge the MX records in ans against MXHost */
static void fm_chk_mx_hosts(fm_chk_t *ck, const fm_dns_answer_t *ans,
			    fm_verdict_t *v)
{
	const fm_dns_setup_t *s = ck->s;
	char missing[512] = "", extra[512] = "";
	size_t i, found = 0, mo = 0, eo = 0;

	if (ans->count == 1 && (ans->rr[0].text[0] == '\0'
				|| strcmp(ans->rr[0].text, ".") == 0)) {
		fm_verdict_add(v, FM_CHK_FAIL, "null MX (\"0 .\"): the domain "
			       "says it accepts no mail, so bounces are not "
			       "sent to it");
		return;
	}
	for (i = 0; i < ans->count; i++) {
		if (!fm_is_mx_host(s, ans->rr[i].text) && eo < sizeof(extra))
			eo += (size_t)snprintf(extra + eo, sizeof(extra) - eo,
					       "%s%s", eo ? ", " : "",
					       ans->rr[i].text);
		fm_chk_mx_target(ck, ans->rr[i].text, v);
	}
	for (i = 0; i < s->nmx_hosts; i++) {
		size_t j;
		int seen = 0;

		for (j = 0; j < ans->count; j++)
			seen |= strcasecmp(ans->rr[j].text, s->mx_hosts[i]) == 0;
		if (seen)
			found++;
		else if (mo < sizeof(missing))
			mo += (size_t)snprintf(missing + mo, sizeof(missing) - mo,
					       "%s%s", mo ? ", " : "",
					       s->mx_hosts[i]);
	}
	if (s->nmx_hosts == 0)
		fm_verdict_add(v, FM_CHK_WARN, "MXHost is not configured: "
			       "cannot tell whether these hosts are ours");
	else if (found == 0)
		fm_verdict_add(v, FM_CHK_FAIL, "points at %s, none of the "
			       "configured MX hosts (MXHost): bounces do not "
			       "reach feedback-milter", extra);
	else if (missing[0] != '\0')
		fm_verdict_add(v, FM_CHK_WARN, "only some of the configured MX "
			       "hosts are listed: add %s", missing);
	if (found > 0 && extra[0] != '\0')
		fm_verdict_add(v, FM_CHK_WARN, "also lists %s: mail sent there "
			       "does not reach feedback-milter", extra);
}

/*
 * fm_chk_beside - records at the feedback domain itself, asked before its
 * CNAME (a cached CNAME would be followed): a type list such as "MX, TXT"
 */
static void fm_chk_beside(fm_chk_t *ck, const char *name, char *found,
			  size_t len)
{
	static const int types[] = {FM_DNS_MX, FM_DNS_TXT, FM_DNS_A};
	fm_dns_answer_t ans;
	char tname[16];
	size_t i, o = 0;

	found[0] = '\0';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (fm_chk_query(ck, name, types[i], &ans) == FM_DNS_OK
		    && !ans.cname && o < len)
			o += (size_t)snprintf(found + o, len - o, "%s%s",
					      o ? ", " : "",
					      fm_dns_type_name(types[i], tname,
							       sizeof(tname)));
		fm_dns_answer_free(&ans);
	}
}

/* fm_chk_cname - the feedback domain is a CNAME to target */
static void fm_chk_cname(fm_chk_t *ck, const fm_dns_answer_t *cn,
			 const char *beside)
{
	const fm_dns_setup_t *s = ck->s;
	const char *target = cn->rr[0].text;
	fm_dns_answer_t mx;
	fm_verdict_t v;
	char ok[256];

	snprintf(ok, sizeof(ok), "CNAME to the configured target %s, which "
		 "provides the MX and SPF records", target);
	fm_verdict_init(&v, ok);
	if (s->cname_target == NULL)
		fm_verdict_add(&v, FM_CHK_WARN, "CNAME to %s, but no CnameTarget "
			       "is configured to compare with", target);
	else if (strcasecmp(target, s->cname_target) != 0)
		fm_verdict_add(&v, FM_CHK_WARN, "CNAME to %s, not to the "
			       "configured CnameTarget %s", target,
			       s->cname_target);
	if (beside[0] != '\0')
		fm_verdict_add(&v, FM_CHK_FAIL, "the CNAME sits beside other "
			       "records (%s) at %s: a CNAME allows no other "
			       "data (RFC 1034 3.6.2) and resolvers answer "
			       "either one or the other; remove them or the "
			       "CNAME", beside, s->feedback);
	switch (fm_chk_query(ck, s->feedback, FM_DNS_MX, &mx)) {
	case FM_DNS_OK:
		fm_chk_mx_hosts(ck, &mx, &v);
		break;
	case FM_DNS_TEMPFAIL:
	case FM_DNS_PERMFAIL:
		fm_verdict_add(&v, FM_CHK_WARN, "the MX lookup through the "
			       "CNAME failed (%s): run the check again", mx.why);
		break;
	default:
		fm_verdict_add(&v, FM_CHK_FAIL, "the CNAME target %s has no MX "
			       "record: bounces do not reach us", target);
		break;
	}
	fm_dns_answer_free(&mx);
	fm_chk_row(ck, "CNAME", s->feedback, &v, target, (long)cn->ttl);
}

/* fm_chk_mx - the feedback domain's MX records, or its CNAME */
static void fm_chk_mx(fm_chk_t *ck)
{
	const fm_dns_setup_t *s = ck->s;
	char value[1024], beside[64];
	fm_dns_answer_t ans;
	fm_verdict_t v;

	fm_chk_beside(ck, s->feedback, beside, sizeof(beside));
	fm_chk_query(ck, s->feedback, FM_DNS_CNAME, &ans);
	if (ans.status == FM_DNS_OK && ans.count > 0) {
		fm_chk_cname(ck, &ans, beside);
		goto out;
	}
	if (ans.status == FM_DNS_TEMPFAIL || ans.status == FM_DNS_PERMFAIL) {
		fm_chk_failed_lookup(ck, "MX", s->feedback, &ans);
		goto out;
	}
	fm_dns_answer_free(&ans);
	fm_verdict_init(&v, "MX points at the configured MX hosts");
	switch (fm_chk_query(ck, s->feedback, FM_DNS_MX, &ans)) {
	case FM_DNS_OK:
		fm_chk_mx_hosts(ck, &ans, &v);
		break;
	case FM_DNS_TEMPFAIL:
	case FM_DNS_PERMFAIL:
		fm_chk_failed_lookup(ck, "MX", s->feedback, &ans);
		goto out;
	default:
		fm_verdict_add(&v, FM_CHK_FAIL, "no MX record (and no CNAME): "
			       "bounces to <code@%s> cannot reach us; create "
			       "the MX records that \"feedbackctl dns advise "
			       "%s\" prints", s->feedback, s->domain);
		break;
	}
	fm_chk_answer_text(&ans, ", ", value, sizeof(value));
	fm_chk_row(ck, "MX", s->feedback, &v, value, (long)ans.ttl);
out:
	fm_dns_answer_free(&ans);
}

/* fm_chk_spf_compile - does the record compile (libspf2) */
static void fm_chk_spf_compile(fm_chk_t *ck, const char *rec, fm_verdict_t *v)
{
	SPF_response_t *resp;
	SPF_record_t *compiled = NULL;
	SPF_errcode_t e;
	const char *msg;

	if (ck->compiler == NULL
	    && (ck->compiler = SPF_server_new(SPF_DNS_ZONE, 0)) == NULL) {
		fm_verdict_add(v, FM_CHK_WARN, "cannot start libspf2 to "
			       "compile the record");
		return;
	}
	if ((resp = SPF_response_new(NULL)) == NULL)
		return;
	e = SPF_record_compile(ck->compiler, resp, &compiled, rec);
	if (e != SPF_E_SUCCESS) {
		msg = SPF_response_messages(resp) > 0
		    ? SPF_error_message(SPF_response_message(resp, 0))
		    : SPF_strerror(e);
		fm_verdict_add(v, FM_CHK_FAIL, "does not compile (%s): "
			       "receivers return permerror", msg);
	}
	SPF_record_free(compiled);
	SPF_response_free(resp);
}

/* fm_chk_spf_all - the policy for hosts the record does not list */
static void fm_chk_spf_all(const char *rec, fm_verdict_t *v)
{
	char *copy = strdup(rec), *t, *save = NULL;
	int seen = 0, redirect = 0;

	if (copy == NULL)
		return;
	for (t = strtok_r(copy, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save)) {
		char q = strchr("+-~?", *t) != NULL ? *t : '+';
		const char *term = strchr("+-~?", *t) != NULL ? t + 1 : t;

		redirect |= strncasecmp(term, "redirect=", 9) == 0;
		if (strcasecmp(term, "all") != 0)
			continue;
		seen = 1;
		if (q == '+')
			fm_verdict_add(v, FM_CHK_FAIL, "+all: every host on the "
				       "Internet passes; end with -all or ~all");
		else if (q == '?')
			fm_verdict_add(v, FM_CHK_WARN, "?all: other hosts get "
				       "neutral; end with -all or ~all");
	}
	if (!seen && !redirect)
		fm_verdict_add(v, FM_CHK_WARN, "no all term: other hosts get "
			       "neutral; end with -all or ~all");
	free(copy);
}

/* fm_chk_spf_cost - DNS-querying terms and void lookups */
static void fm_chk_spf_cost(fm_chk_t *ck, const char *name, fm_verdict_t *v)
{
	fm_spf_count_t c;

	fm_spf_count_terms(ck->res, name, &c);
	if (c.error[0] != '\0')
		fm_verdict_add(v, FM_CHK_FAIL, "%s", c.error);
	if (c.lookups > FM_SPF_MAX_LOOKUPS)
		fm_verdict_add(v, FM_CHK_FAIL, "%u DNS-querying terms (include, "
			       "a, mx, ptr, exists, redirect) with its includes, "
			       "more than %d: receivers return permerror; "
			       "replace includes by ip4:/ip6: terms",
			       c.lookups, FM_SPF_MAX_LOOKUPS);
	if (c.voids > FM_SPF_MAX_VOIDS)
		fm_verdict_add(v, FM_CHK_FAIL, "%u void lookups (%s), more than "
			       "%d: receivers return permerror; remove those "
			       "terms", c.voids, c.voidnames, FM_SPF_MAX_VOIDS);
	else if (c.voids > 0)
		fm_verdict_add(v, FM_CHK_WARN, "%u void lookup%s (%s): the "
			       "term finds nothing; remove it", c.voids,
			       c.voids == 1 ? "" : "s", c.voidnames);
	if (c.tempfail)
		fm_verdict_add(v, FM_CHK_WARN, "some lookups of its terms "
			       "failed: the counts may be low");
}

/* fm_net_first - the first address of a network, printable */
static void fm_net_first(const fm_net_t *n, char *out, size_t outlen)
{
	unsigned char a[16];
	unsigned len = n->family == AF_INET ? 4 : 16, i;

	memcpy(a, n->addr, sizeof(a));
	for (i = 0; i < len; i++) {
		unsigned bit = i * 8;

		if (bit >= n->prefix)
			a[i] = 0;
		else if (bit + 8 > n->prefix)
			a[i] &= (unsigned char)(0xff << (8 - (n->prefix - bit)));
	}
	if (inet_ntop(n->family, a, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "?");
}

/* fm_chk_spf_eval - libspf2 over the live records, per outbound address */
static void fm_chk_spf_eval(fm_chk_t *ck, const char *name, fm_verdict_t *v)
{
	const fm_dns_setup_t *s = ck->s;
	char ip[INET6_ADDRSTRLEN], from[320];
	fm_spf_outcome_t out;
	size_t i;

	if (s->noutbound == 0) {
		fm_verdict_add(v, FM_CHK_WARN, "OutboundAddresses is not "
			       "configured: cannot evaluate the record for our "
			       "outbound hosts");
		return;
	}
	if (ck->spf == NULL)
		return;
	snprintf(from, sizeof(from), "postmaster@%s", name);
	for (i = 0; i < s->noutbound; i++) {
		fm_net_first(&s->outbound[i], ip, sizeof(ip));
		fm_spf_check(ck->spf, ip, NULL, from, &out);
		if (out.result == FM_SPF_PASS)
			continue;
		fm_verdict_add(v, out.result == FM_SPF_TEMPERROR ? FM_CHK_WARN
			       : FM_CHK_FAIL, "outbound address %s gets %s%s%s%s",
			       ip, fm_spf_result_name(out.result),
			       out.reason[0] ? " (" : "", out.reason,
			       out.reason[0] ? ")" : "");
	}
}

/* fm_chk_spf - the SPF record of name */
static void fm_chk_spf(fm_chk_t *ck, const char *name, const char *what)
{
	const char *rec = NULL;
	fm_dns_answer_t ans;
	fm_verdict_t v;
	char ok[256];
	size_t i, n = 0;

	snprintf(ok, sizeof(ok), "one SPF record (%s); it passes for every "
		 "outbound address within the lookup limits", what);
	fm_verdict_init(&v, ok);
	fm_chk_query(ck, name, FM_DNS_TXT, &ans);
	if (ans.status == FM_DNS_TEMPFAIL || ans.status == FM_DNS_PERMFAIL) {
		fm_chk_failed_lookup(ck, "SPF", name, &ans);
		goto out;
	}
	for (i = 0; i < ans.count; i++)
		if (fm_spf_is_record(ans.rr[i].text) && n++ == 0)
			rec = ans.rr[i].text;
	if (n == 0)
		fm_verdict_add(&v, FM_CHK_FAIL, "no SPF record: receivers cannot "
			       "tell our outbound hosts from forgers; create "
			       "the one \"feedbackctl dns advise %s\" prints",
			       ck->s->domain);
	else if (n > 1)
		fm_verdict_add(&v, FM_CHK_FAIL, "%zu SPF records: there must be "
			       "exactly one, or receivers return permerror; "
			       "merge them", n);
	if (n == 1) {
		fm_chk_spf_compile(ck, rec, &v);
		fm_chk_spf_all(rec, &v);
		fm_chk_spf_cost(ck, name, &v);
		fm_chk_spf_eval(ck, name, &v);
	}
	fm_chk_row(ck, "SPF", name, &v, n == 1 ? rec : "", (long)ans.ttl);
out:
	fm_dns_answer_free(&ans);
}

/* fm_chk_dkim_key - the parsed key record against our signing key */
static void fm_chk_dkim_key(fm_chk_t *ck, const fm_dkim_rec_t *r,
			    fm_verdict_t *v)
{
	const fm_dns_setup_t *s = ck->s;
	unsigned bits = 0;
	char why[200];
	int same;

	if (strcasecmp(r->k, "rsa") != 0) {
		fm_verdict_add(v, FM_CHK_FAIL, "k=%s: the key we sign with is "
			       "RSA", r->k);
		return;
	}
	if (r->p[0] == '\0') {
		fm_verdict_add(v, FM_CHK_FAIL, "empty p=: the key is revoked");
		return;
	}
	same = fm_dkim_key_compare(r->p, s->dkim_key, &bits, why, sizeof(why));
	if (same < 0) {
		fm_verdict_add(v, FM_CHK_FAIL, "%s", why);
		return;
	}
	if (s->dkim_key == NULL)
		fm_verdict_add(v, FM_CHK_WARN, "cannot compare with the signing "
			       "key: %s", s->dkim_why ? s->dkim_why : "none");
	else if (!same)
		fm_verdict_add(v, FM_CHK_FAIL, "not the public key of the key "
			       "we sign with (DkimKeyFile): signatures fail; "
			       "publish the record \"feedbackctl dns advise %s\" "
			       "prints", s->domain);
	if (bits < 1024)
		fm_verdict_add(v, FM_CHK_FAIL, "%u-bit key: verifiers reject "
			       "keys under 1024 bits; make a 2048-bit key", bits);
	else if (bits < 2048)
		fm_verdict_add(v, FM_CHK_WARN, "%u-bit key: use 2048 bits",
			       bits);
}

/* fm_chk_dkim_rec - judge the text of the key record */
static void fm_chk_dkim_rec(fm_chk_t *ck, const char *text, fm_verdict_t *v)
{
	fm_dkim_rec_t *r;
	char why[200];

	if ((r = malloc(sizeof(*r))) == NULL) {
		fm_verdict_add(v, FM_CHK_WARN, "out of memory");
		return;
	}
	if (fm_dkim_rec_parse(text, r, why, sizeof(why)) < 0) {
		fm_verdict_add(v, FM_CHK_FAIL, "does not parse: %s", why);
		goto out;
	}
	if (r->h[0] != '\0' && strstr(r->h, "sha256") == NULL)
		fm_verdict_add(v, FM_CHK_FAIL, "h=%s excludes sha256, which we "
			       "sign with", r->h);
	if (strchr(r->t, 'y') != NULL)
		fm_verdict_add(v, FM_CHK_WARN, "t=y: testing mode, verifiers "
			       "may ignore failed signatures; remove it");
	fm_chk_dkim_key(ck, r, v);
out:
	free(r);
}

/* fm_chk_dkim - the key record of the selector */
static void fm_chk_dkim(fm_chk_t *ck)
{
	const fm_dns_setup_t *s = ck->s;
	char name[300], ok[600];
	fm_dns_answer_t ans;
	fm_verdict_t v;

	snprintf(name, sizeof(name), "%s._domainkey.%s", s->selector,
		 s->domain);
	fm_chk_query(ck, name, FM_DNS_TXT, &ans);
	if (ans.status == FM_DNS_TEMPFAIL || ans.status == FM_DNS_PERMFAIL) {
		fm_chk_failed_lookup(ck, "DKIM", name, &ans);
		goto out;
	}
	snprintf(ok, sizeof(ok), "the public key of the key we sign with%s%s",
		 ans.cname ? ", delegated by CNAME to " : "",
		 ans.cname ? ans.canon : "");
	fm_verdict_init(&v, ok);
	if (ans.status != FM_DNS_OK)
		fm_verdict_add(&v, FM_CHK_FAIL, "no DKIM key record: signatures "
			       "of selector %s cannot be verified; publish the "
			       "one \"feedbackctl dns advise %s\" prints",
			       s->selector, s->domain);
	else if (ans.count > 1)
		fm_verdict_add(&v, FM_CHK_FAIL, "%zu TXT records: a key record "
			       "must be alone at its name", ans.count);
	else
		fm_chk_dkim_rec(ck, ans.rr[0].text, &v);
	fm_chk_row(ck, "DKIM", name, &v, ans.count == 1 ? ans.rr[0].text : "",
		   (long)ans.ttl);
out:
	fm_dns_answer_free(&ans);
}

/* fm_chk_dmarc - the DMARC policy of the sender domain */
static void fm_chk_dmarc(fm_chk_t *ck)
{
	const fm_dns_setup_t *s = ck->s;
	const char *rec = NULL;
	char name[300], why[200];
	fm_dns_answer_t ans;
	fm_verdict_t v;
	fm_dmarc_t d;
	size_t i, n = 0;

	snprintf(name, sizeof(name), "_dmarc.%s", s->domain);
	fm_chk_query(ck, name, FM_DNS_TXT, &ans);
	if (ans.status == FM_DNS_TEMPFAIL || ans.status == FM_DNS_PERMFAIL) {
		fm_chk_failed_lookup(ck, "DMARC", name, &ans);
		goto out;
	}
	fm_verdict_init(&v, "DMARC policy with alignment that works for the "
			"feedback domain");
	for (i = 0; i < ans.count; i++)
		if (strncmp(ans.rr[i].text, "v=DMARC1", 8) == 0 && n++ == 0)
			rec = ans.rr[i].text;
	if (n == 0)
		fm_verdict_add(&v, FM_CHK_WARN, "no DMARC record: receivers "
			       "apply no policy and send no reports; publish "
			       "the one \"feedbackctl dns advise %s\" prints",
			       s->domain);
	else if (n > 1)
		fm_verdict_add(&v, FM_CHK_FAIL, "%zu DMARC records: receivers "
			       "ignore them all; keep one", n);
	else if (fm_dmarc_parse(rec, &d, why, sizeof(why)) < 0)
		fm_verdict_add(&v, FM_CHK_FAIL, "does not parse: %s", why);
	else
		fm_dmarc_align(&d, s->domain, s->feedback, s->domain, &v);
	fm_chk_row(ck, "DMARC", name, &v, n == 1 ? rec : "", (long)ans.ttl);
out:
	fm_dns_answer_free(&ans);
}

/* fm_chk_reachable - can the resolver answer at all */
static int fm_chk_reachable(fm_resolver_t *res, const char *domain, char *err,
			    size_t errlen)
{
	fm_dns_answer_t ans;
	fm_dns_status_t st;

	st = fm_resolver_query(res, domain, FM_DNS_NS, 0, &ans);
	if (st == FM_DNS_TEMPFAIL)
		snprintf(err, errlen, "cannot query DNS for %s: %s", domain,
			 ans.why[0] ? ans.why : "no answer");
	fm_dns_answer_free(&ans);
	return st == FM_DNS_TEMPFAIL ? -1 : 0;
}

/* fm_dns_check - see dnscheck.h */
int fm_dns_check(const fm_dns_setup_t *s, fm_resolver_t *res, fm_spf_t *spf,
		 const fm_chk_auth_t *auth, fm_chk_report_t *rep, char *err,
		 size_t errlen)
{
	fm_chk_t ck;

	if (fm_chk_reachable(res, s->domain, err, errlen) < 0)
		return -1;
	memset(&ck, 0, sizeof(ck));
	ck.s = s;
	ck.res = res;
	ck.spf = spf;
	ck.rep = rep;
	fm_chk_mx(&ck);
	fm_chk_spf(&ck, s->feedback, "the envelope sender domain");
	fm_chk_spf(&ck, s->domain, "the From domain");
	fm_chk_dkim(&ck);
	fm_chk_dmarc(&ck);
	if (auth != NULL && auth->new_resolver != NULL)
		fm_chk_cache(res, &ck.seen, auth, s->domain, rep);
	fm_chk_seen_free(&ck.seen);
	if (ck.compiler != NULL)
		SPF_server_free(ck.compiler);
	return 0;
}
