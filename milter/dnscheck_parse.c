/*
 * dnscheck_parse - readers of the records the DNS check judges
 *
 * Tag-lists (RFC 6376 section 3.2) for DKIM key records and DMARC
 * policies, the DMARC alignment rule for mail sent with a feedback
 * subdomain as MAIL FROM, and the SPF cost counter: it walks a policy's
 * include: and redirect= chain through the resolver and counts the terms
 * that make DNS lookups (RFC 7208 section 4.6.4: at most 10) and the
 * lookups that came back empty ("void lookups": at most 2). libspf2 does
 * not report either count, so it is done here.
 *
 * Only the SPF counter asks DNS, through the fm_resolver_t it is given.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnscheck.h"

#define FM_SPF_MAX_DEPTH 10	/* include/redirect nesting we follow */
#define FM_SPF_WALK_MAX 40	/* stop counting far beyond the limit */

/* fm_perr - format a reason into a caller's buffer; returns -1 */
static int __attribute__((format(printf, 3, 4)))
fm_perr(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ------------------------------------------------------------ tag-list */

/* fm_trim - strip white space at both ends, in place */
static char *fm_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* fm_tag_name_valid - ALPHA *(ALPHA / DIGIT / "_") */
static int fm_tag_name_valid(const char *n)
{
	if (!isalpha((unsigned char)*n))
		return 0;
	for (n++; *n != '\0'; n++)
		if (!isalnum((unsigned char)*n) && *n != '_')
			return 0;
	return 1;
}

/* fm_taglist_parse - see dnscheck.h */
int fm_taglist_parse(const char *text, fm_taglist_t *tl, char *err,
		     size_t errlen)
{
	char *spec, *next, *eq, *name;

	memset(tl, 0, sizeof(*tl));
	if ((tl->buf = strdup(text)) == NULL)
		return fm_perr(err, errlen, "out of memory");
	for (spec = tl->buf; spec != NULL; spec = next) {
		if ((next = strchr(spec, ';')) != NULL)
			*next++ = '\0';
		if (*fm_trim(spec) == '\0')
			continue;	/* empty tag-spec: "a=1;;" or "a=1;" */
		if ((eq = strchr(spec, '=')) == NULL)
			return fm_perr(err, errlen, "\"%.40s\" is not tag=value",
				       fm_trim(spec));
		*eq = '\0';
		name = fm_trim(spec);
		if (!fm_tag_name_valid(name))
			return fm_perr(err, errlen, "bad tag name \"%.40s\"",
				       name);
		if (fm_taglist_get(tl, name) != NULL)
			return fm_perr(err, errlen, "tag %.40s appears twice",
				       name);
		if (tl->count == FM_TAGS_MAX)
			return fm_perr(err, errlen, "more than %d tags",
				       FM_TAGS_MAX);
		tl->names[tl->count] = name;
		tl->values[tl->count] = fm_trim(eq + 1);
		tl->count++;
	}
	return 0;
}

/* fm_taglist_get - see dnscheck.h */
const char *fm_taglist_get(const fm_taglist_t *tl, const char *name)
{
	size_t i;

	for (i = 0; i < tl->count; i++)
		if (strcmp(tl->names[i], name) == 0)
			return tl->values[i];
	return NULL;
}

/* fm_taglist_free - release the strings */
void fm_taglist_free(fm_taglist_t *tl)
{
	free(tl->buf);
	memset(tl, 0, sizeof(*tl));
}

/* ---------------------------------------------------------------- DMARC */

/* fm_dmarc_policy - copy a p=/sp= value if it is a policy name */
static int fm_dmarc_policy(const char *v, char *out, size_t outlen)
{
	static const char *const names[] = {"none", "quarantine", "reject"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(v, names[i]) == 0) {
			snprintf(out, outlen, "%s", names[i]);
			return 0;
		}
	return -1;
}

/* fm_dmarc_mode - 'r' or 's' from an adkim=/aspf= value, 0 if bad */
static char fm_dmarc_mode(const char *v)
{
	if (v == NULL)
		return 'r';
	if (strcasecmp(v, "r") == 0)
		return 'r';
	if (strcasecmp(v, "s") == 0)
		return 's';
	return 0;
}

/* fm_dmarc_fields - the tags after v=DMARC1 */
static int fm_dmarc_fields(const fm_taglist_t *tl, fm_dmarc_t *d, char *err,
			   size_t errlen)
{
	const char *v;
	char *end;
	long pct;

	if ((v = fm_taglist_get(tl, "p")) == NULL)
		return fm_perr(err, errlen, "no p= tag (the policy is required)");
	if (fm_dmarc_policy(v, d->p, sizeof(d->p)) < 0)
		return fm_perr(err, errlen, "p=%.40s is not none, quarantine "
			       "or reject", v);
	if ((v = fm_taglist_get(tl, "sp")) != NULL
	    && fm_dmarc_policy(v, d->sp, sizeof(d->sp)) < 0)
		return fm_perr(err, errlen, "sp=%.40s is not none, quarantine "
			       "or reject", v);
	if ((d->adkim = fm_dmarc_mode(fm_taglist_get(tl, "adkim"))) == 0)
		return fm_perr(err, errlen, "adkim= must be r or s");
	if ((d->aspf = fm_dmarc_mode(fm_taglist_get(tl, "aspf"))) == 0)
		return fm_perr(err, errlen, "aspf= must be r or s");
	if ((v = fm_taglist_get(tl, "pct")) != NULL) {
		pct = strtol(v, &end, 10);
		if (end == v || *end != '\0' || pct < 0 || pct > 100)
			return fm_perr(err, errlen, "pct=%.20s is not 0 to 100",
				       v);
		d->pct = (int)pct;
	}
	if ((v = fm_taglist_get(tl, "rua")) != NULL)
		snprintf(d->rua, sizeof(d->rua), "%s", v);
	return 0;
}

/* fm_dmarc_parse - see dnscheck.h */
int fm_dmarc_parse(const char *text, fm_dmarc_t *d, char *err, size_t errlen)
{
	fm_taglist_t tl;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	d->pct = 100;
	if (fm_taglist_parse(text, &tl, err, errlen) < 0)
		goto out;
	if (tl.count == 0 || strcmp(tl.names[0], "v") != 0
	    || strcmp(tl.values[0], "DMARC1") != 0) {
		fm_perr(err, errlen, "does not start with v=DMARC1");
		goto out;
	}
	rc = fm_dmarc_fields(&tl, d, err, errlen);
out:
	fm_taglist_free(&tl);
	return rc;
}

/* fm_domain_aligned - see dnscheck.h */
int fm_domain_aligned(const char *a, const char *b, int strict)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	if (la == lb)
		return strncasecmp(a, b, la) == 0;
	if (strict)
		return 0;
	if (la > lb)
		return a[la - lb - 1] == '.' && strncasecmp(a + la - lb, b,
							    lb) == 0;
	return b[lb - la - 1] == '.' && strncasecmp(b + lb - la, a, la) == 0;
}

/* fm_dmarc_align - see dnscheck.h */
void fm_dmarc_align(const fm_dmarc_t *d, const char *from,
		    const char *spf_domain, const char *dkim_domain,
		    fm_verdict_t *v)
{
	int spf_ok = fm_domain_aligned(spf_domain, from, d->aspf == 's');
	int dkim_ok = fm_domain_aligned(dkim_domain, from, d->adkim == 's');

	if (!spf_ok && d->aspf == 's')
		fm_verdict_add(v, FM_CHK_FAIL, "aspf=s (strict SPF alignment) "
			       "fails for every message: MAIL FROM is at %s, "
			       "not %s; remove aspf=s (relaxed is the default)",
			       spf_domain, from);
	else if (!spf_ok)
		fm_verdict_add(v, FM_CHK_WARN, "SPF cannot align: MAIL FROM "
			       "domain %s is not within %s; only DKIM can pass "
			       "DMARC", spf_domain, from);
	if (!dkim_ok && d->adkim == 's')
		fm_verdict_add(v, FM_CHK_FAIL, "adkim=s (strict DKIM alignment) "
			       "fails: mail is signed with d=%s, not %s; remove "
			       "adkim=s (relaxed is the default)", dkim_domain,
			       from);
	else if (!dkim_ok)
		fm_verdict_add(v, FM_CHK_WARN, "DKIM cannot align: d=%s is not "
			       "within %s", dkim_domain, from);
	/*
	 * p=none is the advised start: with a report address it is the
	 * monitoring it is meant to be (advice only); without one it is a
	 * policy nobody reads.
	 */
	if (strcmp(d->p, "none") == 0)
		fm_verdict_add(v, d->rua[0] ? FM_CHK_OK : FM_CHK_WARN,
			       "p=none only monitors and "
			       "protects nothing: once the aggregate reports "
			       "show all your mail passes, move to "
			       "p=quarantine, then p=reject");
	if (d->rua[0] == '\0')
		fm_verdict_add(v, FM_CHK_WARN, "no rua= address: nobody "
			       "receives the aggregate reports");
}

/* ----------------------------------------------------------------- DKIM */

/* fm_dkim_rec_copy - copy a tag value into a fixed field */
static int fm_dkim_rec_copy(const fm_taglist_t *tl, const char *tag,
			    char *out, size_t outlen, char *err, size_t errlen)
{
	const char *v = fm_taglist_get(tl, tag);

	if (v == NULL)
		return 0;
	if (strlen(v) >= outlen)
		return fm_perr(err, errlen, "%s= is too long", tag);
	snprintf(out, outlen, "%s", v);
	return 0;
}

/* fm_dkim_rec_key - p= without white space, checked for base64 */
static int fm_dkim_rec_key(const char *v, fm_dkim_rec_t *r, char *err,
			   size_t errlen)
{
	size_t o = 0;

	for (; *v != '\0'; v++) {
		if (isspace((unsigned char)*v))
			continue;
		if (!isalnum((unsigned char)*v) && *v != '+' && *v != '/'
		    && *v != '=')
			return fm_perr(err, errlen, "p= has a character that is "
				       "not base64");
		if (o + 1 >= sizeof(r->p))
			return fm_perr(err, errlen, "p= is too long");
		r->p[o++] = *v;
	}
	r->p[o] = '\0';
	r->has_p = 1;
	return 0;
}

/* fm_dkim_rec_parse - see dnscheck.h */
int fm_dkim_rec_parse(const char *text, fm_dkim_rec_t *r, char *err,
		      size_t errlen)
{
	fm_taglist_t tl;
	const char *p;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	snprintf(r->k, sizeof(r->k), "rsa");
	if (fm_taglist_parse(text, &tl, err, errlen) < 0)
		goto out;
	if ((p = fm_taglist_get(&tl, "v")) != NULL
	    && (strcmp(tl.names[0], "v") != 0 || strcmp(p, "DKIM1") != 0)) {
		fm_perr(err, errlen, "v= must come first and be DKIM1");
		goto out;
	}
	if (fm_dkim_rec_copy(&tl, "v", r->v, sizeof(r->v), err, errlen) < 0
	    || fm_dkim_rec_copy(&tl, "k", r->k, sizeof(r->k), err, errlen) < 0
	    || fm_dkim_rec_copy(&tl, "h", r->h, sizeof(r->h), err, errlen) < 0
	    || fm_dkim_rec_copy(&tl, "t", r->t, sizeof(r->t), err, errlen) < 0)
		goto out;
	if ((p = fm_taglist_get(&tl, "p")) == NULL) {
		fm_perr(err, errlen, "no p= tag (the public key)");
		goto out;
	}
	rc = fm_dkim_rec_key(p, r, err, errlen);
out:
	fm_taglist_free(&tl);
	return rc;
}

/* ----------------------------------------------------------------- SPF */

/* fm_spf_is_record - see dnscheck.h */
int fm_spf_is_record(const char *text)
{
	return strncasecmp(text, "v=spf1", 6) == 0
	    && (text[6] == '\0' || text[6] == ' ');
}

typedef struct fm_spf_walk {
	fm_resolver_t *r;
	fm_spf_count_t *c;
	const char *chain[FM_SPF_MAX_DEPTH + 1];	/* domains being read */
	int depth;
} fm_spf_walk_t;

/* fm_spf_error - note the first structural problem */
static void __attribute__((format(printf, 2, 3)))
fm_spf_error(fm_spf_count_t *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

/* fm_spf_void - one more lookup without an answer, for name */
static void fm_spf_void(fm_spf_count_t *c, const char *name)
{
	size_t len = strlen(c->voidnames);

	c->voids++;
	snprintf(c->voidnames + len, sizeof(c->voidnames) - len, "%s%s",
		 len ? ", " : "", name);
}

/* fm_spf_ask - look up name/type: 1 answered, 0 void, -1 failed */
static int fm_spf_ask(fm_spf_walk_t *w, const char *name, int type)
{
	fm_dns_answer_t ans;
	fm_dns_status_t st;

	st = fm_resolver_query(w->r, name, type, 0, &ans);
	fm_dns_answer_free(&ans);
	if (st == FM_DNS_OK)
		return 1;
	if (st == FM_DNS_NXDOMAIN || st == FM_DNS_NODATA)
		return 0;
	w->c->tempfail = 1;
	return -1;
}

static void fm_spf_walk(fm_spf_walk_t *w, const char *domain,
			const char *via);

/* fm_spf_target - the domain of a:, mx:, without a /cidr suffix */
static void fm_spf_target(const char *arg, const char *current, char *out,
			  size_t outlen)
{
	size_t n;

	if (arg == NULL || *arg == '\0' || *arg == '/') {
		snprintf(out, outlen, "%s", current);
		return;
	}
	n = strcspn(arg, "/");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, arg, n);
	out[n] = '\0';
}

/* fm_spf_mechanism - count one DNS-querying mechanism (not include) */
static void fm_spf_mechanism(fm_spf_walk_t *w, const char *mech,
			     const char *arg, const char *current)
{
	char target[256];
	int a, aaaa;

	w->c->lookups++;
	if (strcasecmp(mech, "ptr") == 0)
		return;		/* its lookups depend on the client */
	fm_spf_target(arg, current, target, sizeof(target));
	if (strchr(target, '%') != NULL || !fm_dns_name_valid(target))
		return;		/* macros: known only at check time */
	if (strcasecmp(mech, "mx") == 0) {
		if (fm_spf_ask(w, target, FM_DNS_MX) == 0)
			fm_spf_void(w->c, target);
		return;
	}
	a = fm_spf_ask(w, target, FM_DNS_A);
	aaaa = strcasecmp(mech, "a") == 0 ? fm_spf_ask(w, target,
						       FM_DNS_AAAA) : 0;
	if (a == 0 && aaaa == 0)
		fm_spf_void(w->c, target);
}

/* fm_spf_term - count one term of a record of domain; 1 for "all" */
static int fm_spf_term(fm_spf_walk_t *w, const char *term, const char *domain,
		       char *redirect, size_t rlen)
{
	const char *arg = NULL;
	char name[32];
	size_t n;

	if (*term != '\0' && strchr("+-~?", *term) != NULL)
		term++;
	n = strcspn(term, "=:/");
	if (term[n] == '=') {	/* a modifier; unknown ones are ignored */
		if (n == 8 && strncasecmp(term, "redirect", 8) == 0)
			snprintf(redirect, rlen, "%s", term + 9);
		return 0;
	}
	if (term[n] == ':')
		arg = term + n + 1;
	else if (term[n] == '/')
		arg = term + n;
	if (n == 0 || n >= sizeof(name)) {
		fm_spf_error(w->c, "%s has an unknown term \"%.40s\"", domain,
			     term);
		return 0;
	}
	memcpy(name, term, n);
	name[n] = '\0';
	if (strcasecmp(name, "all") == 0)
		return 1;
	if (strcasecmp(name, "ip4") == 0 || strcasecmp(name, "ip6") == 0)
		return 0;
	if (strcasecmp(name, "include") == 0) {
		w->c->lookups++;
		if (arg != NULL && strchr(arg, '%') == NULL)
			fm_spf_walk(w, arg, "include");
	} else if (strcasecmp(name, "a") == 0 || strcasecmp(name, "mx") == 0
		   || strcasecmp(name, "ptr") == 0
		   || strcasecmp(name, "exists") == 0) {
		fm_spf_mechanism(w, name, arg, domain);
	} else {
		fm_spf_error(w->c, "%s has an unknown term \"%.40s\"", domain,
			     term);
	}
	return 0;
}

/* fm_spf_fetch - the one SPF record of domain into *rec (malloc'd) */
static fm_dns_status_t fm_spf_fetch(fm_spf_walk_t *w, const char *domain,
				    char **rec)
{
	fm_dns_answer_t ans;
	fm_dns_status_t st;
	size_t i, n = 0;

	*rec = NULL;
	st = fm_resolver_query(w->r, domain, FM_DNS_TXT, 0, &ans);
	for (i = 0; st == FM_DNS_OK && i < ans.count; i++) {
		if (!fm_spf_is_record(ans.rr[i].text))
			continue;
		if (n++ == 0)
			*rec = strdup(ans.rr[i].text);
	}
	fm_dns_answer_free(&ans);
	if (n > 1)
		fm_spf_error(w->c, "%s has %zu SPF records (permerror)",
			     domain, n);
	if (st == FM_DNS_TEMPFAIL || st == FM_DNS_PERMFAIL)
		w->c->tempfail = 1;
	return st;
}

/* fm_spf_walk - read the record of domain and count its terms */
static void fm_spf_walk(fm_spf_walk_t *w, const char *domain, const char *via)
{
	char *rec = NULL, *term, *save = NULL, redirect[256] = "";
	fm_dns_status_t st;
	int i, all = 0;

	for (i = 0; i < w->depth; i++)
		if (strcasecmp(w->chain[i], domain) == 0) {
			fm_spf_error(w->c, "%s:%s loops back (permerror)", via,
				     domain);
			return;
		}
	if (w->depth > FM_SPF_MAX_DEPTH || w->c->lookups > FM_SPF_WALK_MAX)
		return;
	st = fm_spf_fetch(w, domain, &rec);
	if (st == FM_DNS_NXDOMAIN || st == FM_DNS_NODATA)
		fm_spf_void(w->c, domain);
	if (rec == NULL) {
		if (st != FM_DNS_TEMPFAIL && st != FM_DNS_PERMFAIL)
			fm_spf_error(w->c, "%s%s%s has no SPF record "
				     "(permerror)", via ? via : "",
				     via ? ":" : "", domain);
		return;
	}
	w->c->records++;
	w->chain[w->depth++] = domain;
	for (term = strtok_r(rec + 6, " ", &save); term != NULL;
	     term = strtok_r(NULL, " ", &save))
		all |= fm_spf_term(w, term, domain, redirect,
				   sizeof(redirect));
	if (redirect[0] != '\0' && !all) {
		w->c->lookups++;
		if (strchr(redirect, '%') == NULL)
			fm_spf_walk(w, redirect, "redirect=");
	}
	w->depth--;
	free(rec);
}

/* fm_spf_count_terms - see dnscheck.h */
void fm_spf_count_terms(fm_resolver_t *r, const char *domain,
			fm_spf_count_t *c)
{
	fm_spf_walk_t w;

	memset(c, 0, sizeof(*c));
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.c = c;
	fm_spf_walk(&w, domain, NULL);
}
