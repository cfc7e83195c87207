/*
 * dnscheck - the DNS records a sender domain needs: advice and live check
 *
 * "feedbackctl dns advise DOMAIN" prints the records to create, as zone-file
 * lines with a comment each; "feedbackctl dns check DOMAIN" reads them back
 * and judges each one ok, warn or fail. The records are:
 *
 *	feedback.DOMAIN			MX to MXHost (or a CNAME to CnameTarget)
 *	feedback.DOMAIN			TXT "v=spf1 ..." (the envelope sender's SPF)
 *	DOMAIN				TXT "v=spf1 ..." (the From domain's SPF)
 *	SELECTOR._domainkey.DOMAIN	TXT "v=DKIM1; k=rsa; p=..."
 *	_dmarc.DOMAIN			TXT "v=DMARC1; p=none; ..."
 *
 * Pure parts (record builders, tag-list parsers, the DMARC alignment rule,
 * status aggregation, output formatting) are separate from the parts that
 * ask DNS; those take an fm_resolver_t, so a static zone
 * (fm_resolver_new_static) drives them in unit tests. Every rule produces
 * rows of {record, name, status, value, ttl, advice}:
 *
 *	fm_chk_report_init(&rep);
 *	fm_dns_check(&setup, resolver, spf, &auth, &rep, err, sizeof(err));
 *	fm_chk_print_text(stdout, &rep, isatty(1));
 *	exit(fm_chk_exit_code(&rep));
 *	fm_chk_report_free(&rep);
 */
#ifndef FM_DNSCHECK_H
#define FM_DNSCHECK_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "resolver.h"
#include "spfcheck.h"
#include "utf8.h"

/* ------------------------------------------------------------ the setup */

/* What the advice and the check are about; borrowed pointers. */
typedef struct fm_dns_setup {
	const char *domain;		/* sender domain, lowercase */
	const char *feedback;		/* its feedback domain */
	char *const *mx_hosts;		/* MXHost, in order of preference */
	size_t nmx_hosts;
	const char *cname_target;	/* CnameTarget or NULL */
	const char *spf_include;	/* SpfInclude or NULL */
	const fm_net_t *outbound;	/* OutboundAddresses */
	size_t noutbound;
	const char *selector;		/* DkimSelector */
	const char *dkim_key;	/* base64 DER SubjectPublicKeyInfo, or NULL */
	unsigned dkim_bits;		/* its size */
	const char *dkim_why;	/* why dkim_key is NULL, for the reader */
	const char *rua;		/* DmarcReport address, or NULL */
	unsigned ttl;			/* TTL of the advised records */
} fm_dns_setup_t;

#define FM_DNS_ADVICE_TTL 3600
#define FM_TXT_STRING_MAX 255	/* octets in one TXT character-string */
#define FM_SPF_MAX_LOOKUPS 10	/* RFC 7208 section 4.6.4 */
#define FM_SPF_MAX_VOIDS 2

/* ------------------------------------------------------ rows and status */

typedef enum {
	FM_CHK_OK = 0,
	FM_CHK_WARN = 1,
	FM_CHK_FAIL = 2,
} fm_chk_status_t;

/* Exit status of "dns check". */
#define FM_CHK_EXIT_OK 0
#define FM_CHK_EXIT_WARN 1
#define FM_CHK_EXIT_FAIL 2
#define FM_CHK_EXIT_ERROR 3	/* the check itself could not run */

#define FM_CHK_NO_TTL (-1L)

typedef struct fm_chk_row {
	char *record;		/* "MX", "CNAME", "SPF", "DKIM", "DMARC", "cache" */
	char *name;		/* the owner name looked at */
	fm_chk_status_t status;
	char *value;		/* what was found, "" for nothing */
	long ttl;		/* of what was found, or FM_CHK_NO_TTL */
	char *advice;		/* what it means and what to do */
} fm_chk_row_t;

typedef struct fm_chk_report {
	fm_chk_row_t *rows;
	size_t count;
	int oom;		/* a row could not be added */
} fm_chk_report_t;

void fm_chk_report_init(fm_chk_report_t *rep);
void fm_chk_report_free(fm_chk_report_t *rep);
/* fm_chk_add - append a row (copies the strings); -1 when out of memory */
int fm_chk_add(fm_chk_report_t *rep, const char *record, const char *name,
	       fm_chk_status_t status, const char *value, long ttl,
	       const char *advice);
/* fm_chk_worst - the worst status of the rows (ok for none) */
fm_chk_status_t fm_chk_worst(const fm_chk_report_t *rep);
/* fm_chk_exit_code - 0 all ok, 1 warnings only, 2 a failure, 3 no rows */
int fm_chk_exit_code(const fm_chk_report_t *rep);
/* fm_chk_status_name - "ok", "warn", "fail" */
const char *fm_chk_status_name(fm_chk_status_t st);

/*
 * A verdict collects the findings about one record: the status only gets
 * worse, and each warning or failure adds its reason. Its advice is the
 * reasons, or the ok text when there are none.
 */
typedef struct fm_verdict {
	fm_chk_status_t status;
	char why[1024];		/* "; "-separated reasons */
	char ok[256];		/* said when nothing is wrong */
} fm_verdict_t;

void fm_verdict_init(fm_verdict_t *v, const char *ok_text);
void fm_verdict_add(fm_verdict_t *v, fm_chk_status_t st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *fm_verdict_advice(const fm_verdict_t *v);

/* ------------------------------------------------------------- output */

/* fm_chk_print_json - one JSON object per row, one a line */
void fm_chk_print_json(FILE *fp, const fm_chk_report_t *rep);
/*
 * fm_chk_print_text - one line per row: status, record, name, TTL, value
 * and advice; color adds ANSI colours and the marks ✔ ⚠ ✘. A summary line
 * closes the list.
 */
void fm_chk_print_text(FILE *fp, const fm_chk_report_t *rep, int color);

/* ------------------------------------------------------------ advice */

/*
 * fm_txt_zone_strings - text as zone-file character-strings of at most
 * FM_TXT_STRING_MAX octets each, quoted and escaped, separated by sep
 * (" " or a line break and indentation). -1 if out does not hold it.
 */
int fm_txt_zone_strings(const char *text, const char *sep, char *out,
			size_t outlen);
/* fm_spf_advice_terms - "ip4:... ip6:... include:..." of the setup, "" none */
void fm_spf_advice_terms(const fm_dns_setup_t *s, char *out, size_t outlen);
/* fm_dkim_advice_value - "v=DKIM1; k=rsa; p=KEY" */
void fm_dkim_advice_value(const char *key, char *out, size_t outlen);
/* fm_dmarc_advice_value - "v=DMARC1; p=none; adkim=r; aspf=r[; rua=...]" */
void fm_dmarc_advice_value(const char *rua, char *out, size_t outlen);
/*
 * fm_dns_advise - write the advice for the setup to fp: zone-file lines
 * (absolute names), each after a comment line that says what it is for.
 * Returns the number of records that could not be advised for want of
 * configuration (each explained in a comment), or -1 on an output error.
 */
int fm_dns_advise(const fm_dns_setup_t *s, FILE *fp);
/* fm_dns_advise_dkim - only the DKIM key record, as fm_dns_advise writes it */
int fm_dns_advise_dkim(const fm_dns_setup_t *s, FILE *fp);

/* ------------------------------------------------------------ parsers */

#define FM_TAGS_MAX 32

/* A parsed tag-list (RFC 6376 section 3.2), values trimmed. */
typedef struct fm_taglist {
	size_t count;
	char *names[FM_TAGS_MAX];
	char *values[FM_TAGS_MAX];
	char *buf;		/* owns the strings */
} fm_taglist_t;

/* fm_taglist_parse - 0, or -1 with the reason (free the list either way) */
int fm_taglist_parse(const char *text, fm_taglist_t *tl, char *err,
		     size_t errlen);
/* fm_taglist_get - the value of a tag, or NULL */
const char *fm_taglist_get(const fm_taglist_t *tl, const char *name);
void fm_taglist_free(fm_taglist_t *tl);

typedef struct fm_dmarc {
	char p[16];		/* none, quarantine, reject */
	char sp[16];		/* "" when absent */
	char adkim;		/* 'r' or 's' */
	char aspf;		/* 'r' or 's' */
	int pct;		/* 0..100 */
	char rua[512];		/* "" when absent */
} fm_dmarc_t;

/* fm_dmarc_parse - a _dmarc TXT record; 0, or -1 with the reason */
int fm_dmarc_parse(const char *text, fm_dmarc_t *d, char *err, size_t errlen);

/*
 * fm_dmarc_align - judge a DMARC policy for mail whose From domain is
 * from, SPF-authenticated for spf_domain (the MAIL FROM domain) and signed
 * with DKIM d=dkim_domain. Relaxed alignment takes two names as aligned
 * when one is the other or a subdomain of it (an approximation of "same
 * organizational domain" that is exact for a feedback subdomain).
 */
void fm_dmarc_align(const fm_dmarc_t *d, const char *from,
		    const char *spf_domain, const char *dkim_domain,
		    fm_verdict_t *v);

/* fm_domain_aligned - relaxed (strict = 0) or strict alignment of a and b */
int fm_domain_aligned(const char *a, const char *b, int strict);

typedef struct fm_dkim_rec {
	char v[16];		/* "" when absent */
	char k[16];		/* "rsa" when absent */
	char h[64];		/* "" when absent */
	char t[32];		/* "" when absent */
	int has_p;
	char p[4096];		/* base64, white space removed; "" revoked */
} fm_dkim_rec_t;

/* fm_dkim_rec_parse - a DKIM key record; 0, or -1 with the reason */
int fm_dkim_rec_parse(const char *text, fm_dkim_rec_t *r, char *err,
		      size_t errlen);

/* fm_spf_is_record - does this TXT text start an SPF record ("v=spf1") */
int fm_spf_is_record(const char *text);

/* The DNS cost of an SPF record, counted by walking include/redirect. */
typedef struct fm_spf_count {
	unsigned lookups;	/* include a mx ptr exists redirect terms */
	unsigned voids;		/* of their lookups, those without an answer */
	unsigned records;	/* SPF records read */
	int tempfail;		/* a lookup failed: counts may be low */
	char error[256];	/* a structural problem (permerror), or "" */
	char voidnames[256];	/* the names that had no answer */
} fm_spf_count_t;

/*
 * fm_spf_count_terms - count the DNS-querying terms and void lookups of
 * the SPF policy of domain, following include: and redirect= through the
 * resolver. Terms with macros count but are not followed.
 */
void fm_spf_count_terms(fm_resolver_t *r, const char *domain,
			fm_spf_count_t *c);

/* ---------------------------------------------------------- DKIM keys */

/*
 * fm_dkim_key_load - read a PEM private key and give its public key as
 * base64 DER SubjectPublicKeyInfo (malloc'd) and its size in bits.
 */
int fm_dkim_key_load(const char *path, char **pub_b64, unsigned *bits,
		     char *err, size_t errlen);
/*
 * fm_dkim_key_generate - a new 2048-bit RSA key in path, mode 0600;
 * refuses (returns 1) when path exists. 0 done, -1 error.
 */
int fm_dkim_key_generate(const char *path, unsigned bits, char *err,
			 size_t errlen);
/*
 * fm_dkim_key_compare - decode the p= value of a key record: its size into
 * *bits; returns 1 when it is the same public key as ours (base64 SPKI),
 * 0 when it differs, -1 when p= does not decode (reason in err).
 */
int fm_dkim_key_compare(const char *p_b64, const char *ours, unsigned *bits,
			char *err, size_t errlen);

/* ------------------------------------------------------- the live check */

/*
 * The authoritative side of the cache comparison: for the address of an
 * authoritative name server, a resolver that asks only that server. NULL
 * new_resolver: no comparison. fm_chk_auth_resolver is the real one (a
 * libunbound forwarder to addr@port, which an authoritative server answers
 * for its zones). Resolvers made are freed with fm_resolver_free.
 */
typedef struct fm_chk_auth {
	fm_resolver_t *(*new_resolver)(void *arg, const char *addr,
				       char *err, size_t errlen);
	void *arg;
	unsigned port;		/* for fm_chk_auth_resolver: 0 is 53 */
	unsigned timeout_ms;
} fm_chk_auth_t;

fm_resolver_t *fm_chk_auth_resolver(void *auth, const char *addr,
				    char *err, size_t errlen);

/* One answer the check relied on, kept to compare with the authorities. */
typedef struct fm_chk_seen {
	char name[FM_DNS_NAME_MAX + 1];
	int type;
	fm_dns_status_t status;
	unsigned ttl;
	int cname;			/* the answer followed a CNAME ... */
	char canon[FM_DNS_NAME_MAX + 1];	/* ... to this name */
	char *data;			/* fm_chk_answer_text, "\n" separated */
} fm_chk_seen_t;

typedef struct fm_chk_seen_list {
	fm_chk_seen_t *items;
	size_t count;
} fm_chk_seen_list_t;

/* fm_chk_seen_add - remember an answer (once per name and type) */
int fm_chk_seen_add(fm_chk_seen_list_t *l, const char *name, int type,
		    const fm_dns_answer_t *ans);
void fm_chk_seen_free(fm_chk_seen_list_t *l);

/*
 * fm_chk_answer_text - the records of an answer as sorted text joined by
 * sep ("10 mx.example" for MX, the joined strings for TXT); "" for none.
 */
void fm_chk_answer_text(const fm_dns_answer_t *ans, const char *sep,
			char *out, size_t outlen);

/*
 * fm_chk_cache - ask the authoritative servers of each name in seen (found
 * through NS lookups on res) for the same records, and add a "cache" row
 * per answer that differs (warn: not visible everywhere yet, for up to
 * its TTL), per server that cannot be asked, or one ok row.
 */
void fm_chk_cache(fm_resolver_t *res, const fm_chk_seen_list_t *seen,
		  const fm_chk_auth_t *auth, const char *domain,
		  fm_chk_report_t *rep);

/*
 * fm_dns_check - check every record of the setup through res (and spf,
 * a checker over res), then compare the answers with the authoritative
 * servers. Adds rows to rep. Returns 0, or -1 when the check could not
 * run (DNS unreachable), with the reason in err.
 */
int fm_dns_check(const fm_dns_setup_t *s, fm_resolver_t *res, fm_spf_t *spf,
		 const fm_chk_auth_t *auth, fm_chk_report_t *rep, char *err,
		 size_t errlen);

#endif
