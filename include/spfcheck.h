/*
 * spfcheck - SPF verification (libspf2) over the shared resolver
 *
 * One fm_spf_t per process: it holds one libspf2 server whose DNS layer asks
 * our resolver, and serves any number of threads at once.
 *
 *	spf = fm_spf_new(resolver, "mx.feedback-host.example", 0, err, len);
 *	fm_spf_check(spf, "192.0.2.10", "mx.remote.example", "<>", &out);
 *	... out.result, out.domain, out.received_spf ...
 *	fm_spf_free(spf);
 *
 * The identity checked is MAIL FROM, or the HELO name for the null sender
 * (RFC 7208 section 2.4). Inputs are sanitised before libspf2 sees them.
 *
 * Loopback clients (127.0.0.0/8, ::1) always get "pass": libspf2 gives
 * them a free ride and we keep that behaviour (out.reason says so). Tests
 * and end-to-end runs must present other addresses (192.0.2.x,
 * 2001:db8::x; XCLIENT with Postfix).
 */
#ifndef FM_SPFCHECK_H
#define FM_SPFCHECK_H

#include <stddef.h>

#include "resolver.h"

typedef enum {
	FM_SPF_NONE = 0,
	FM_SPF_NEUTRAL,
	FM_SPF_PASS,
	FM_SPF_FAIL,
	FM_SPF_SOFTFAIL,
	FM_SPF_TEMPERROR,
	FM_SPF_PERMERROR,
} fm_spf_result_t;

typedef enum {
	FM_SPF_MAILFROM = 0,
	FM_SPF_HELO,
} fm_spf_identity_t;

typedef struct fm_spf_outcome {
	fm_spf_result_t result;
	fm_spf_identity_t identity;
	char domain[256];	/* the domain whose policy was checked */
	char sender[320];	/* the identity as checked: local@domain */
	char explanation[256];	/* the domain's exp= text (fail), or "" */
	char reason[256];	/* why, in words: errors, "loopback client" */
	char received_spf[768];	/* value for a Received-SPF: header field */
} fm_spf_outcome_t;

typedef struct fm_spf fm_spf_t;

/*
 * fm_spf_new - the SPF checker. receiver names this host in Received-SPF
 * (NULL: the host name). total_ms bounds the DNS time of one check, over all
 * its lookups (0: four times the resolver's timeout). The resolver must
 * outlive the checker. NULL with a message in err on failure.
 */
fm_spf_t *fm_spf_new(fm_resolver_t *resolver, const char *receiver,
		     unsigned total_ms, char *err, size_t errlen);
void fm_spf_free(fm_spf_t *spf);

/*
 * fm_spf_check - check_host() for a client. client_ip is a printable IPv4 or
 * IPv6 address (an "IPv6:" prefix and IPv4-mapped IPv6 are accepted); helo
 * is the HELO/EHLO argument (may be NULL or ""); envfrom is the MAIL FROM
 * address, with or without angle brackets; "<>", "" or NULL is the null
 * sender. Fills out and returns out->result. Never blocks longer than the
 * checker's total DNS time plus processing.
 */
fm_spf_result_t fm_spf_check(fm_spf_t *spf, const char *client_ip,
			     const char *helo, const char *envfrom,
			     fm_spf_outcome_t *out);

/* fm_spf_result_name - "pass", "fail", "softfail", ... (RFC 7208 names) */
const char *fm_spf_result_name(fm_spf_result_t result);

#endif
