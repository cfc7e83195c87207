/*
 * dkimcheck - DKIM verification (libopendkim) over the shared resolver
 *
 * One DKIM_LIB (dkim_init) per process, shared by all threads; per message
 * one verify handle fed header by header, then the body in chunks, mapped
 * one to one onto the milter phases (see dkimcheck.h).
 *
 * Key lookups: Debian's libopendkim is built without libunbound and shares
 * one res_state per DKIM_LIB between threads without a lock, so its own DNS
 * code is never used. dkim_set_key_lookup() installs fm_dkim_key_lookup,
 * which asks our resolver for the TXT record at selector._domainkey.domain
 * (strings joined) and hands libopendkim the text. libopendkim looks keys up
 * in dkim_eoh() (no DELAYSIGPROC), once per signature. The handle is found
 * again through dkim_get_user_context().
 *
 * libopendkim takes the key record in a 1 KB buffer: records longer than
 * that (8192-bit RSA keys) are reported as a permanent error.
 *
 * Outcomes libopendkim cannot express are kept here: for each signature
 * whose key lookup failed temporarily we remember that, answer libopendkim
 * "not found" (so that it goes on with the other signatures instead of
 * aborting the message) and report temperror for that signature.
 *
 * Limits: at most FM_DKIM_MAX_SIGS signatures per message are evaluated
 * (the prescreen callback marks the rest ignored; they report neutral), and
 * all key lookups of one message share a DNS time budget (total_ms), after
 * which further lookups fail at once as temporary errors.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "dkimcheck.h"
#include "resolver.h"

#define FM_DKIM_HEADER_MAX (1024 * 1024)	/* longer header fields: skipped */

struct fm_dkim_lib {
	DKIM_LIB *lib;
	fm_resolver_t *res;
	unsigned total_ms;
};

/* What we know about one signature's key lookup. */
typedef struct fm_dkim_key {
	const DKIM_SIGINFO *sig;
	int tempfail;
	char why[128];
} fm_dkim_key_t;

/* d= and s= of a DKIM-Signature field, for signatures libopendkim drops. */
typedef struct fm_dkim_seen {
	char domain[254];
	char selector[254];
} fm_dkim_seen_t;

enum { FM_DKIM_HEADERS, FM_DKIM_BODY, FM_DKIM_DONE };

struct fm_dkim {
	fm_dkim_lib_t *lib;
	DKIM *dkim;
	int leadspc;
	int state;
	int nosig;		/* dkim_eoh found no usable signature */
	DKIM_STAT eoh;		/* what dkim_eoh returned */
	struct timespec deadline;	/* of this message's key lookups */
	fm_dkim_key_t keys[FM_DKIM_MAX_SIGS];
	size_t nkeys;
	fm_dkim_seen_t seen[FM_DKIM_MAX_SIGS];
	size_t nseen;		/* DKIM-Signature fields fed */
	char *buf;		/* header field assembly */
	size_t cap;
	char error[128];
};

/* fm_dkim_result_name - RFC 8601 names */
const char *fm_dkim_result_name(fm_dkim_result_t result)
{
	static const char *const names[] = {
		"none", "pass", "fail", "neutral", "policy", "temperror",
		"permerror",
	};

	if ((unsigned)result < sizeof(names) / sizeof(names[0]))
		return names[result];
	return "permerror";
}

/* fm_dkim_copy - bounded copy keeping printable ASCII only */
static void fm_dkim_copy(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < len; src++)
		dst[o++] = (*src > ' ' && *src < 0x7f) ? *src : '?';
	dst[o] = '\0';
}

/* fm_dkim_text - bounded copy of a message text (spaces kept) */
static void fm_dkim_text(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < len; src++)
		dst[o++] = (*src >= ' ' && *src < 0x7f) ? *src : '?';
	dst[o] = '\0';
}

/* fm_dkim_error - note a message-level problem (the first one wins) */
static void fm_dkim_error(fm_dkim_t *h, const char *what, const char *detail)
{
	size_t n;

	if (h->error[0] != '\0')
		return;
	fm_dkim_text(h->error, sizeof(h->error), what);
	if (detail == NULL || *detail == '\0')
		return;
	n = strlen(h->error);
	if (n + 3 < sizeof(h->error)) {
		memcpy(h->error + n, ": ", 3);
		fm_dkim_text(h->error + n + 2, sizeof(h->error) - n - 2,
			     detail);
	}
}

/* ---------------------------------------------------------- callbacks */

/* fm_dkim_budget_ms - DNS time left for this message; 0 when spent */
static unsigned fm_dkim_budget_ms(const fm_dkim_t *h)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(h->deadline.tv_sec - now.tv_sec) * 1000
	    + (h->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (unsigned)ms : 0;
}

/* fm_dkim_slot - the key lookup record of sig, made on first use */
static fm_dkim_key_t *fm_dkim_slot(fm_dkim_t *h, const DKIM_SIGINFO *sig)
{
	size_t i;

	for (i = 0; i < h->nkeys; i++)
		if (h->keys[i].sig == sig)
			return &h->keys[i];
	if (h->nkeys == FM_DKIM_MAX_SIGS)
		return NULL;
	memset(&h->keys[h->nkeys], 0, sizeof(h->keys[0]));
	h->keys[h->nkeys].sig = sig;
	return &h->keys[h->nkeys++];
}

/* fm_dkim_choose - prefer a record that carries a p= tag */
static const fm_dns_rr_t *fm_dkim_choose(const fm_dns_answer_t *ans)
{
	size_t i;

	for (i = 0; i < ans->count; i++)
		if (strncmp(ans->rr[i].text, "p=", 2) == 0
		    || strstr(ans->rr[i].text, ";p=") != NULL
		    || strstr(ans->rr[i].text, " p=") != NULL)
			return &ans->rr[i];
	return ans->count > 0 ? &ans->rr[0] : NULL;
}

/* fm_dkim_key_lookup - libopendkim asks for the key of one signature */
static DKIM_CBSTAT fm_dkim_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig,
				      u_char *buf, size_t buflen)
{
	fm_dkim_t *h = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char qname[FM_DNS_NAME_MAX + 2];
	fm_dkim_key_t *k;
	fm_dns_answer_t ans;
	const fm_dns_rr_t *rr;
	DKIM_CBSTAT ret = DKIM_CBSTAT_NOTFOUND;
	unsigned ms;

	if (h == NULL || (k = fm_dkim_slot(h, sig)) == NULL)
		return DKIM_CBSTAT_ERROR;
	if (sel == NULL || dom == NULL
	    || (size_t)snprintf(qname, sizeof(qname), "%s._domainkey.%s", sel,
				dom) >= sizeof(qname)
	    || !fm_dns_name_valid(qname)) {
		snprintf(k->why, sizeof(k->why), "bad key name");
		return DKIM_CBSTAT_NOTFOUND;
	}
	if ((ms = fm_dkim_budget_ms(h)) == 0) {
		k->tempfail = 1;
		snprintf(k->why, sizeof(k->why), "DNS time for this message "
			 "(%u ms) used up", h->lib->total_ms);
		return DKIM_CBSTAT_NOTFOUND;
	}
	switch (fm_resolver_query(h->lib->res, qname, FM_DNS_TXT, ms, &ans)) {
	case FM_DNS_OK:
		rr = fm_dkim_choose(&ans);
		if (rr->len >= buflen) {
			snprintf(k->why, sizeof(k->why), "key record too long "
				 "(%zu octets)", rr->len);
			break;
		}
		memcpy(buf, rr->text, rr->len + 1);
		ret = DKIM_CBSTAT_CONTINUE;
		break;
	case FM_DNS_TEMPFAIL:
		k->tempfail = 1;
		snprintf(k->why, sizeof(k->why), "key lookup: %.100s", ans.why);
		break;
	default:
		snprintf(k->why, sizeof(k->why), "no key record (%s)",
			 fm_dns_status_name(ans.status));
		break;
	}
	fm_dns_answer_free(&ans);
	return ret;
}

/* fm_dkim_prescreen - evaluate no more than FM_DKIM_MAX_SIGS signatures */
static DKIM_CBSTAT fm_dkim_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs,
				     int nsigs)
{
	int i;

	(void)dkim;
	for (i = FM_DKIM_MAX_SIGS; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* ------------------------------------------------------------ library */

/* fm_dkim_lib_new - see dkimcheck.h */
fm_dkim_lib_t *fm_dkim_lib_new(fm_resolver_t *resolver, unsigned total_ms,
			       char *err, size_t errlen)
{
	fm_dkim_lib_t *lib;
	unsigned int flags;

	if ((lib = calloc(1, sizeof(*lib))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lib->res = resolver;
	lib->total_ms = total_ms ? total_ms : 2 * fm_resolver_timeout(resolver);
	if ((lib->lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errlen, "dkim_init failed");
		goto fail;
	}
	/* Keep handles of bad signatures so that they can be reported. */
	flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF;
	if (dkim_options(lib->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
			 sizeof(flags)) != DKIM_STAT_OK
	    || dkim_set_key_lookup(lib->lib, fm_dkim_key_lookup) != DKIM_STAT_OK
	    || dkim_set_prescreen(lib->lib, fm_dkim_prescreen)
	    != DKIM_STAT_OK) {
		snprintf(err, errlen, "cannot configure libopendkim");
		goto fail;
	}
	return lib;
fail:
	fm_dkim_lib_free(lib);
	return NULL;
}

/* fm_dkim_lib_free - close the library */
void fm_dkim_lib_free(fm_dkim_lib_t *lib)
{
	if (lib == NULL)
		return;
	if (lib->lib != NULL)
		dkim_close(lib->lib);
	free(lib);
}

/* ------------------------------------------------------------ message */

/* fm_dkim_new - see dkimcheck.h */
fm_dkim_t *fm_dkim_new(fm_dkim_lib_t *lib, const char *id, int leadspc)
{
	fm_dkim_t *h;
	DKIM_STAT st;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->lib = lib;
	h->leadspc = leadspc;
	h->dkim = dkim_verify(lib->lib, (const unsigned char *)
			      (id != NULL && *id ? id : "message"), NULL, &st);
	if (h->dkim == NULL
	    || dkim_set_user_context(h->dkim, h) != DKIM_STAT_OK) {
		fm_dkim_free(h);
		return NULL;
	}
	return h;
}

/* fm_dkim_tag - copy the value of tag (e.g. "d") of a tag-list */
static void fm_dkim_tag(const char *list, const char *tag, char *out,
			size_t len)
{
	size_t tl = strlen(tag);
	const char *p = list;

	out[0] = '\0';
	while (*p != '\0') {
		p += strspn(p, " \t\r\n;");
		if (strncmp(p, tag, tl) == 0
		    && p[tl + strspn(p + tl, " \t\r\n")] == '=') {
			p += tl + strspn(p + tl, " \t\r\n") + 1;
			p += strspn(p, " \t\r\n");
			snprintf(out, len, "%.*s", (int)strcspn(p, "; \t\r\n"),
				 p);
			return;
		}
		p += strcspn(p, ";");
	}
}

/* fm_dkim_build - "Name:" value into h->buf, bare LF made CRLF */
static ssize_t fm_dkim_build(fm_dkim_t *h, const char *name,
			     const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), need, o, i;

	if (nl + vl > FM_DKIM_HEADER_MAX)
		return -1;
	need = nl + 2 + 2 * vl + 1;	/* worst case: every octet a LF */
	if (need > h->cap) {
		char *b = realloc(h->buf, need);

		if (b == NULL)
			return -1;
		h->buf = b;
		h->cap = need;
	}
	memcpy(h->buf, name, nl);
	o = nl;
	h->buf[o++] = ':';
	if (!h->leadspc)
		h->buf[o++] = ' ';
	for (i = 0; i < vl; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			h->buf[o++] = '\r';
		h->buf[o++] = value[i];
	}
	while (o > nl + 1 && (h->buf[o - 1] == '\n' || h->buf[o - 1] == '\r'))
		o--;
	h->buf[o] = '\0';
	return (ssize_t)o;
}

/* fm_dkim_header - see dkimcheck.h */
int fm_dkim_header(fm_dkim_t *h, const char *name, const char *value)
{
	ssize_t len;
	DKIM_STAT st;

	if (h->state != FM_DKIM_HEADERS || name == NULL || *name == '\0'
	    || value == NULL)
		return -1;
	if (strcasecmp(name, "DKIM-Signature") == 0) {
		if (h->nseen < FM_DKIM_MAX_SIGS) {
			fm_dkim_seen_t *s = &h->seen[h->nseen];

			fm_dkim_tag(value, "d", s->domain, sizeof(s->domain));
			fm_dkim_tag(value, "s", s->selector,
				    sizeof(s->selector));
		}
		h->nseen++;
	}
	if ((len = fm_dkim_build(h, name, value)) < 0) {
		fm_dkim_error(h, "header field too long, skipped", name);
		return -1;
	}
	st = dkim_header(h->dkim, (u_char *)h->buf, (size_t)len);
	if (st != DKIM_STAT_OK) {
		fm_dkim_error(h, "header field rejected", dkim_geterror(h->dkim));
		return -1;
	}
	return 0;
}

/* fm_dkim_eoh - see dkimcheck.h; the key lookups happen here */
int fm_dkim_eoh(fm_dkim_t *h)
{
	if (h->state != FM_DKIM_HEADERS)
		return -1;
	h->state = FM_DKIM_BODY;
	clock_gettime(CLOCK_MONOTONIC, &h->deadline);
	h->deadline.tv_sec += h->lib->total_ms / 1000;
	h->deadline.tv_nsec += (long)(h->lib->total_ms % 1000) * 1000000L;
	if (h->deadline.tv_nsec >= 1000000000L) {
		h->deadline.tv_sec++;
		h->deadline.tv_nsec -= 1000000000L;
	}
	h->eoh = dkim_eoh(h->dkim);
	if (h->eoh == DKIM_STAT_NOSIG) {
		h->nosig = 1;
		return 0;
	}
	if (h->eoh != DKIM_STAT_OK) {
		fm_dkim_error(h, "cannot verify", dkim_geterror(h->dkim));
		return -1;
	}
	return 0;
}

/* fm_dkim_body - see dkimcheck.h */
int fm_dkim_body(fm_dkim_t *h, const void *buf, size_t len)
{
	DKIM_STAT st;

	if (h->state == FM_DKIM_HEADERS)
		(void)fm_dkim_eoh(h);
	if (h->state != FM_DKIM_BODY || h->eoh != DKIM_STAT_OK)
		return h->nosig ? 0 : -1;
	if (len == 0)
		return 0;
	st = dkim_body(h->dkim, (u_char *)(uintptr_t)buf, len);
	if (st != DKIM_STAT_OK) {
		fm_dkim_error(h, "body rejected", dkim_geterror(h->dkim));
		return -1;
	}
	return 0;
}

/* fm_dkim_find - the key lookup record of sig, if any */
static const fm_dkim_key_t *fm_dkim_find(const fm_dkim_t *h,
					 const DKIM_SIGINFO *sig)
{
	size_t i;

	for (i = 0; i < h->nkeys; i++)
		if (h->keys[i].sig == sig)
			return &h->keys[i];
	return NULL;
}

/* fm_dkim_classify - the result of one evaluated signature, and why */
static fm_dkim_result_t fm_dkim_classify(const fm_dkim_t *h,
					 DKIM_SIGINFO *sig, const char **why)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int bh = dkim_sig_getbh(sig), e = dkim_sig_geterror(sig);
	const fm_dkim_key_t *k = fm_dkim_find(h, sig);

	*why = (k != NULL && k->why[0]) ? k->why : NULL;
	if (flags & DKIM_SIGFLAG_IGNORE) {
		*why = "not evaluated: too many signatures";
		return FM_DKIM_NEUTRAL;
	}
	if (k != NULL && k->tempfail)
		return FM_DKIM_TEMPERROR;
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH) {
		/*
		 * RFC 6376 section 3.6.1: a signature whose key says t=y
		 * must not be treated differently from no signature, so it
		 * authenticates nobody.
		 */
		if (flags & DKIM_SIGFLAG_TESTKEY) {
			*why = "key in testing mode (t=y)";
			return FM_DKIM_POLICY;
		}
		*why = NULL;
		return FM_DKIM_PASS;
	}
	if (bh == DKIM_SIGBH_MISMATCH && e != DKIM_SIGERROR_KEYFAIL) {
		*why = "body hash did not verify";
		return FM_DKIM_FAIL;
	}
	if (*why == NULL && e != DKIM_SIGERROR_OK && e != DKIM_SIGERROR_UNKNOWN)
		*why = dkim_sig_geterrorstr(e);
	switch (e) {
	case DKIM_SIGERROR_KEYFAIL:
		return FM_DKIM_TEMPERROR;
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_MBSFAILED:
		return FM_DKIM_POLICY;
	case DKIM_SIGERROR_BADSIG:
		return FM_DKIM_FAIL;
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
		break;
	default:
		return FM_DKIM_PERMERROR;
	}
	if (flags & DKIM_SIGFLAG_PROCESSED) {
		if (*why == NULL)
			*why = "signature did not verify";
		return FM_DKIM_FAIL;
	}
	if (*why == NULL)
		*why = "not evaluated";
	return FM_DKIM_NEUTRAL;
}

/* fm_dkim_sig_report - fill the report entry of one signature */
static void fm_dkim_sig_report(fm_dkim_t *h, DKIM_SIGINFO *sig,
			       fm_dkim_sig_t *out)
{
	unsigned char ident[256];
	unsigned int bits = 0;
	const char *why;

	memset(out, 0, sizeof(*out));
	fm_dkim_copy(out->domain, sizeof(out->domain),
		     (const char *)dkim_sig_getdomain(sig));
	fm_dkim_copy(out->selector, sizeof(out->selector),
		     (const char *)dkim_sig_getselector(sig));
	if (dkim_sig_getidentity(h->dkim, sig, ident, sizeof(ident))
	    == DKIM_STAT_OK)
		fm_dkim_copy(out->identity, sizeof(out->identity),
			     (const char *)ident);
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		out->keybits = bits;
	out->result = fm_dkim_classify(h, sig, &why);
	snprintf(out->error, sizeof(out->error), "%s", why ? why : "");
}

/* fm_dkim_reported - is a seen signature among the reported ones */
static int fm_dkim_reported(const fm_dkim_report_t *rep, size_t upto,
			    const fm_dkim_seen_t *s, int *used)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (!used[i] && strcasecmp(rep->sigs[i].domain, s->domain) == 0
		    && strcasecmp(rep->sigs[i].selector, s->selector) == 0) {
			used[i] = 1;
			return 1;
		}
	return 0;
}

/* fm_dkim_add_dropped - signatures libopendkim could not even parse */
static void fm_dkim_add_dropped(fm_dkim_t *h, fm_dkim_report_t *rep)
{
	int used[FM_DKIM_MAX_SIGS] = {0};
	size_t i, n = rep->count;

	for (i = 0; i < h->nseen && i < FM_DKIM_MAX_SIGS; i++) {
		fm_dkim_sig_t *out;

		if (fm_dkim_reported(rep, n, &h->seen[i], used)
		    || rep->count == FM_DKIM_MAX_SIGS)
			continue;
		out = &rep->sigs[rep->count++];
		memset(out, 0, sizeof(*out));
		out->result = FM_DKIM_PERMERROR;
		fm_dkim_copy(out->domain, sizeof(out->domain),
			     h->seen[i].domain);
		fm_dkim_copy(out->selector, sizeof(out->selector),
			     h->seen[i].selector);
		snprintf(out->error, sizeof(out->error), "%s",
			 h->error[0] ? h->error : "malformed signature");
	}
}

/* fm_dkim_summary - pass if any passed, else the most telling result */
static fm_dkim_result_t fm_dkim_summary(const fm_dkim_report_t *rep)
{
	static const fm_dkim_result_t order[] = {
		FM_DKIM_PASS, FM_DKIM_FAIL, FM_DKIM_TEMPERROR,
		FM_DKIM_PERMERROR, FM_DKIM_POLICY, FM_DKIM_NEUTRAL,
	};
	size_t i, j;

	for (j = 0; j < sizeof(order) / sizeof(order[0]); j++)
		for (i = 0; i < rep->count; i++)
			if (rep->sigs[i].result == order[j])
				return order[j];
	return rep->total > 0 ? FM_DKIM_PERMERROR : FM_DKIM_NONE;
}

/* fm_dkim_eom - see dkimcheck.h */
void fm_dkim_eom(fm_dkim_t *h, fm_dkim_report_t *rep)
{
	DKIM_SIGINFO **sigs = NULL;
	_Bool testkey = 0;
	int n = 0, i;

	memset(rep, 0, sizeof(*rep));
	rep->total = h->nseen;
	if (h->state == FM_DKIM_HEADERS)
		(void)fm_dkim_eoh(h);
	if (h->state == FM_DKIM_BODY && h->eoh == DKIM_STAT_OK) {
		(void)dkim_eom(h->dkim, &testkey);
		if (dkim_getsiglist(h->dkim, &sigs, &n) != DKIM_STAT_OK)
			n = 0;
	}
	h->state = FM_DKIM_DONE;
	for (i = 0; i < n && rep->count < FM_DKIM_MAX_SIGS; i++)
		fm_dkim_sig_report(h, sigs[i], &rep->sigs[rep->count++]);
	fm_dkim_add_dropped(h, rep);
	rep->summary = fm_dkim_summary(rep);
	snprintf(rep->error, sizeof(rep->error), "%s", h->error);
}

/* fm_dkim_free - release the handle */
void fm_dkim_free(fm_dkim_t *h)
{
	if (h == NULL)
		return;
	if (h->dkim != NULL)
		dkim_free(h->dkim);
	free(h->buf);
	free(h);
}
