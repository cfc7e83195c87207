/*
 * dnscheck - check rows, their output, and the advised records (pure)
 *
 * The live check (dnscheck_live.c) and the parsers (dnscheck_parse.c)
 * produce rows of {record, name, status, value, ttl, advice}; this file
 * collects them, folds them into an exit status and prints them as text
 * (with colour and marks on a terminal) or as JSON lines. It also writes
 * the advice: the zone-file lines "feedbackctl dns advise" prints. Nothing
 * here asks DNS or reads files.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnscheck.h"
#include "utf8.h"

/* fm_chk_status_name - see dnscheck.h */
const char *fm_chk_status_name(fm_chk_status_t st)
{
	switch (st) {
	case FM_CHK_OK:
		return "ok";
	case FM_CHK_WARN:
		return "warn";
	case FM_CHK_FAIL:
		return "fail";
	}
	return "fail";
}

/* fm_chk_report_init - an empty report */
void fm_chk_report_init(fm_chk_report_t *rep)
{
	memset(rep, 0, sizeof(*rep));
}

/* fm_chk_report_free - release the rows */
void fm_chk_report_free(fm_chk_report_t *rep)
{
	size_t i;

	for (i = 0; i < rep->count; i++) {
		free(rep->rows[i].record);
		free(rep->rows[i].name);
		free(rep->rows[i].value);
		free(rep->rows[i].advice);
	}
	free(rep->rows);
	fm_chk_report_init(rep);
}

/* fm_chk_add - see dnscheck.h */
int fm_chk_add(fm_chk_report_t *rep, const char *record, const char *name,
	       fm_chk_status_t status, const char *value, long ttl,
	       const char *advice)
{
	fm_chk_row_t *rows, *row;

	rows = realloc(rep->rows, (rep->count + 1) * sizeof(*rows));
	if (rows == NULL)
		goto oom;
	rep->rows = rows;
	row = &rows[rep->count];
	row->record = strdup(record ? record : "");
	row->name = strdup(name ? name : "");
	row->value = strdup(value ? value : "");
	row->advice = strdup(advice ? advice : "");
	row->status = status;
	row->ttl = ttl;
	if (row->record == NULL || row->name == NULL || row->value == NULL
	    || row->advice == NULL) {
		free(row->record);
		free(row->name);
		free(row->value);
		free(row->advice);
		goto oom;
	}
	rep->count++;
	return 0;
oom:
	rep->oom = 1;
	return -1;
}

/* fm_chk_worst - see dnscheck.h */
fm_chk_status_t fm_chk_worst(const fm_chk_report_t *rep)
{
	fm_chk_status_t worst = FM_CHK_OK;
	size_t i;

	for (i = 0; i < rep->count; i++)
		if (rep->rows[i].status > worst)
			worst = rep->rows[i].status;
	return worst;
}

/* fm_chk_exit_code - see dnscheck.h */
int fm_chk_exit_code(const fm_chk_report_t *rep)
{
	if (rep->count == 0 || rep->oom)
		return FM_CHK_EXIT_ERROR;
	switch (fm_chk_worst(rep)) {
	case FM_CHK_OK:
		return FM_CHK_EXIT_OK;
	case FM_CHK_WARN:
		return FM_CHK_EXIT_WARN;
	case FM_CHK_FAIL:
		break;
	}
	return FM_CHK_EXIT_FAIL;
}

/* ------------------------------------------------------------ verdicts */

/* fm_verdict_init - nothing wrong yet */
void fm_verdict_init(fm_verdict_t *v, const char *ok_text)
{
	v->status = FM_CHK_OK;
	v->why[0] = '\0';
	snprintf(v->ok, sizeof(v->ok), "%s", ok_text ? ok_text : "");
}

/* fm_verdict_add - a finding: the status gets no better, the reason adds */
void fm_verdict_add(fm_verdict_t *v, fm_chk_status_t st, const char *fmt, ...)
{
	size_t len = strlen(v->why);
	va_list ap;

	if (st > v->status)
		v->status = st;
	if (len > 0 && len + 2 < sizeof(v->why)) {
		memcpy(v->why + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= sizeof(v->why))
		return;
	va_start(ap, fmt);
	vsnprintf(v->why + len, sizeof(v->why) - len, fmt, ap);
	va_end(ap);
}

/* fm_verdict_advice - the reasons, or the ok text */
const char *fm_verdict_advice(const fm_verdict_t *v)
{
	return v->why[0] != '\0' ? v->why : v->ok;
}

/* -------------------------------------------------------------- output */

/* fm_chk_print_json - see dnscheck.h */
void fm_chk_print_json(FILE *fp, const fm_chk_report_t *rep)
{
	const fm_chk_row_t *r;
	size_t i;

	for (i = 0; i < rep->count; i++) {
		r = &rep->rows[i];
		fputs("{\"record\":", fp);
		fm_json_string(fp, r->record);
		fputs(",\"name\":", fp);
		fm_json_string(fp, r->name);
		fprintf(fp, ",\"status\":\"%s\",\"value\":",
			fm_chk_status_name(r->status));
		fm_json_string(fp, r->value);
		if (r->ttl == FM_CHK_NO_TTL)
			fputs(",\"ttl\":null", fp);
		else
			fprintf(fp, ",\"ttl\":%ld", r->ttl);
		fputs(",\"advice\":", fp);
		fm_json_string(fp, r->advice);
		fputs("}\n", fp);
	}
}

#define FM_TEXT_VALUE_MAX 200	/* longer values (keys) are shortened */
#define FM_TEXT_VALUE_HEAD 60

/* fm_text_value - printable copy of a value for a terminal */
static void fm_text_value(const char *v, char *out, size_t outlen)
{
	size_t o = 0, n = strlen(v), max = n > FM_TEXT_VALUE_MAX
	    ? FM_TEXT_VALUE_HEAD : n;

	if (n == 0) {
		snprintf(out, outlen, "-");
		return;
	}
	for (; *v != '\0' && o + 1 < outlen && o < max; v++)
		out[o++] = ((unsigned char)*v < 0x20 || *v == 0x7f) ? '?' : *v;
	out[o] = '\0';
	if (o < n)
		snprintf(out + o, outlen - o, "... (%zu octets)", n);
}

/* fm_text_clean - a copy without control characters */
static void fm_text_clean(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < outlen; s++)
		out[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	out[o] = '\0';
}

/* fm_chk_print_text - see dnscheck.h */
void fm_chk_print_text(FILE *fp, const fm_chk_report_t *rep, int color)
{
	static const char *const marks[] = {"\xe2\x9c\x94", "\xe2\x9a\xa0",
					    "\xe2\x9c\x98"};	/* ✔ ⚠ ✘ */
	static const char *const colors[] = {"\033[32m", "\033[33m",
					     "\033[31m"};
	unsigned counts[3] = {0, 0, 0};
	char value[FM_TEXT_VALUE_MAX + 32], advice[1200], name[300], ttl[24];
	const fm_chk_row_t *r;
	size_t i;

	for (i = 0; i < rep->count; i++) {
		r = &rep->rows[i];
		counts[r->status]++;
		fm_text_value(r->value, value, sizeof(value));
		fm_text_clean(r->advice, advice, sizeof(advice));
		fm_text_clean(r->name, name, sizeof(name));
		if (r->ttl == FM_CHK_NO_TTL)
			snprintf(ttl, sizeof(ttl), "ttl=-");
		else
			snprintf(ttl, sizeof(ttl), "ttl=%ld", r->ttl);
		if (color)
			fprintf(fp, "%s%s %-4s\033[0m ", colors[r->status],
				marks[r->status], fm_chk_status_name(r->status));
		else
			fprintf(fp, "%-4s  ", fm_chk_status_name(r->status));
		fprintf(fp, "%-5s %s %s \"%s\" -- %s\n", r->record, name, ttl,
			value, advice);
	}
	fprintf(fp, "%u ok, %u warn, %u fail\n", counts[FM_CHK_OK],
		counts[FM_CHK_WARN], counts[FM_CHK_FAIL]);
}

/* -------------------------------------------------------------- advice */

/* fm_txt_zone_strings - see dnscheck.h */
int fm_txt_zone_strings(const char *text, const char *sep, char *out,
			size_t outlen)
{
	size_t o = 0, in_string = 0, slen = strlen(sep);
	const char *p;

	if (outlen == 0)
		return -1;
	for (p = text; *p != '\0' || o == 0; p++) {
		if (in_string == 0) {
			if (o > 0) {
				if (o + 1 + slen >= outlen)
					return -1;
				out[o++] = '"';
				memcpy(out + o, sep, slen);
				o += slen;
			}
			if (o + 1 >= outlen)
				return -1;
			out[o++] = '"';
		}
		if (*p == '\0')
			break;
		if (o + 3 >= outlen)
			return -1;
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
		if (++in_string == FM_TXT_STRING_MAX)
			in_string = 0;
	}
	if (o + 2 > outlen)
		return -1;
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

/* fm_net_text - "ip4:ADDR[/N]" or "ip6:ADDR[/N]" of a network */
static void fm_net_text(const fm_net_t *n, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned full = n->family == AF_INET ? 32 : 128;

	if (inet_ntop(n->family, n->addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	if (n->prefix == full)
		snprintf(out, outlen, "%s:%s",
			 n->family == AF_INET ? "ip4" : "ip6", addr);
	else
		snprintf(out, outlen, "%s:%s/%u",
			 n->family == AF_INET ? "ip4" : "ip6", addr, n->prefix);
}

/* fm_spf_advice_terms - see dnscheck.h */
void fm_spf_advice_terms(const fm_dns_setup_t *s, char *out, size_t outlen)
{
	char term[INET6_ADDRSTRLEN + 16];
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < s->noutbound; i++) {
		fm_net_text(&s->outbound[i], term, sizeof(term));
		o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0,
				      "%s%s", o ? " " : "", term);
	}
	if (s->spf_include != NULL && *s->spf_include != '\0')
		o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0,
				      "%sinclude:%s", o ? " " : "",
				      s->spf_include);
	if (o >= outlen)
		out[0] = '\0';	/* too long to be right */
}

/* fm_dkim_advice_value - see dnscheck.h */
void fm_dkim_advice_value(const char *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "v=DKIM1; k=rsa; p=%s", key);
}

/* fm_dmarc_advice_value - see dnscheck.h */
void fm_dmarc_advice_value(const char *rua, char *out, size_t outlen)
{
	if (rua != NULL && *rua != '\0')
		snprintf(out, outlen, "v=DMARC1; p=none; adkim=r; aspf=r; "
			 "rua=mailto:%s", rua);
	else
		snprintf(out, outlen, "v=DMARC1; p=none; adkim=r; aspf=r");
}

/* fm_advise_txt - one TXT record line, split into strings */
static int fm_advise_txt(FILE *fp, const fm_dns_setup_t *s, const char *name,
			 const char *text)
{
	char buf[8192];

	if (strlen(text) > FM_TXT_STRING_MAX) {
		if (fm_txt_zone_strings(text, "\n\t\t\t\t", buf,
					sizeof(buf)) < 0)
			return -1;
		return fprintf(fp, "%s.\t%u\tIN\tTXT\t( %s )\n", name, s->ttl,
			       buf) < 0 ? -1 : 0;
	}
	if (fm_txt_zone_strings(text, " ", buf, sizeof(buf)) < 0)
		return -1;
	return fprintf(fp, "%s.\t%u\tIN\tTXT\t%s\n", name, s->ttl, buf) < 0
	    ? -1 : 0;
}

/* fm_advise_mx - the feedback domain's MX records, or its CNAME */
static int fm_advise_mx(const fm_dns_setup_t *s, FILE *fp)
{
	size_t i;

	if (s->nmx_hosts == 0 && s->cname_target == NULL) {
		fprintf(fp, "; MX of %s: not advised, set MXHost (or "
			"CnameTarget) in the configuration\n", s->feedback);
		return 1;
	}
	for (i = 0; i < s->nmx_hosts; i++) {
		fprintf(fp, "; MX %zu of %zu: bounces and replies to "
			"<code@%s> go to %s\n", i + 1, s->nmx_hosts,
			s->feedback, s->mx_hosts[i]);
		fprintf(fp, "%s.\t%u\tIN\tMX\t%zu %s.\n", s->feedback, s->ttl,
			(i + 1) * 10, s->mx_hosts[i]);
	}
	if (s->cname_target == NULL)
		return 0;
	if (s->nmx_hosts == 0) {
		fprintf(fp, "; CNAME: %s takes its MX and SPF records from %s\n",
			s->feedback, s->cname_target);
		fprintf(fp, "%s.\t%u\tIN\tCNAME\t%s.\n", s->feedback, s->ttl,
			s->cname_target);
		return 0;
	}
	fprintf(fp, "; CNAME alternative, where the DNS provider cannot "
		"publish MX records: instead of the MX and SPF records of %s "
		"(a CNAME allows no other records beside it), it takes both "
		"from %s\n", s->feedback, s->cname_target);
	fprintf(fp, ";%s.\t%u\tIN\tCNAME\t%s.\n", s->feedback, s->ttl,
		s->cname_target);
	return 0;
}

/* fm_advise_spf - SPF of the feedback domain and of the sender domain */
static int fm_advise_spf(const fm_dns_setup_t *s, FILE *fp)
{
	char terms[2048], rec[2200];

	fm_spf_advice_terms(s, terms, sizeof(terms));
	if (terms[0] == '\0') {
		fprintf(fp, "; SPF of %s and %s: not advised, set "
			"OutboundAddresses or SpfInclude in the "
			"configuration\n", s->feedback, s->domain);
		return 2;
	}
	if (s->nmx_hosts == 0 && s->cname_target != NULL) {
		fprintf(fp, "; SPF of %s: comes with the CNAME from %s, which "
			"must allow %s\n", s->feedback, s->cname_target, terms);
	} else {
		fprintf(fp, "; SPF of %s, the envelope sender domain of every "
			"message: only our outbound hosts may use it\n",
			s->feedback);
		snprintf(rec, sizeof(rec), "v=spf1 %s -all", terms);
		if (fm_advise_txt(fp, s, s->feedback, rec) < 0)
			return -1;
	}
	fprintf(fp, "; SPF of %s (the From domain): if it has an SPF record "
		"already, add \"%s\" to it before its \"all\" instead, as a "
		"domain may have only one; tighten ~all to -all once all its "
		"senders are listed\n", s->domain, terms);
	snprintf(rec, sizeof(rec), "v=spf1 %s ~all", terms);
	return fm_advise_txt(fp, s, s->domain, rec);
}

/* fm_dns_advise_dkim - see dnscheck.h; 1 when there is no key */
int fm_dns_advise_dkim(const fm_dns_setup_t *s, FILE *fp)
{
	char name[320], *rec;
	size_t len;
	int rc;

	snprintf(name, sizeof(name), "%s._domainkey.%s", s->selector,
		 s->domain);
	if (s->dkim_key == NULL) {
		fprintf(fp, "; DKIM key %s: not advised: %s; then run "
			"\"feedbackctl dkim keygen %s\"\n", name,
			s->dkim_why ? s->dkim_why : "no key", s->domain);
		return 1;
	}
	len = strlen(s->dkim_key) + 32;
	if ((rec = malloc(len)) == NULL)
		return -1;
	fm_dkim_advice_value(s->dkim_key, rec, len);
	fprintf(fp, "; DKIM public key of the signing key (selector %s, %u "
		"bits), in strings of at most 255 octets\n", s->selector,
		s->dkim_bits);
	rc = fm_advise_txt(fp, s, name, rec);
	free(rec);
	return rc;
}

/* fm_advise_dmarc - the starting DMARC policy */
static int fm_advise_dmarc(const fm_dns_setup_t *s, FILE *fp)
{
	char name[300], rec[700];
	const char *at;

	snprintf(name, sizeof(name), "_dmarc.%s", s->domain);
	fm_dmarc_advice_value(s->rua, rec, sizeof(rec));
	fprintf(fp, "; DMARC policy to start with: p=none only monitors; "
		"relaxed alignment (adkim=r, aspf=r) lets SPF of %s count "
		"for %s; move to p=quarantine, then p=reject, once the "
		"reports show all your mail passes\n", s->feedback, s->domain);
	if (fm_advise_txt(fp, s, name, rec) < 0)
		return -1;
	at = s->rua != NULL ? strrchr(s->rua, '@') : NULL;
	if (at != NULL && !fm_domain_aligned(at + 1, s->domain, 0)) {
		fprintf(fp, "; the report address is outside %s: %s must "
			"agree to receive its reports with this record (in "
			"its own zone)\n", s->domain, at + 1);
		fprintf(fp, ";%s._report._dmarc.%s.\t%u\tIN\tTXT\t"
			"\"v=DMARC1\"\n", s->domain, at + 1, s->ttl);
	}
	return 0;
}

/* fm_dns_advise - see dnscheck.h */
int fm_dns_advise(const fm_dns_setup_t *s, FILE *fp)
{
	int missing = 0, rc;

	fprintf(fp, "; DNS records for %s and its feedback domain %s\n",
		s->domain, s->feedback);
	if ((rc = fm_advise_mx(s, fp)) < 0)
		return -1;
	missing += rc;
	if ((rc = fm_advise_spf(s, fp)) < 0)
		return -1;
	missing += rc;
	if ((rc = fm_dns_advise_dkim(s, fp)) < 0)
		return -1;
	missing += rc;
	if (fm_advise_dmarc(s, fp) < 0)
		return -1;
	return ferror(fp) ? -1 : missing;
}
