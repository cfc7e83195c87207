/*
 * rewrite - the outbound policy: rewrite an envelope sender or not, and to
 * what
 *
 * Pure: it looks only at the configuration snapshot, the envelope sender as
 * the MTA passed it and what is known of the client.
 */
#ifndef FM_REWRITE_H
#define FM_REWRITE_H

#include <stddef.h>

#include "config.h"

#define FM_ADDR_MAX 512		/* longest envelope address we handle */

typedef enum {
	FM_REWRITE_YES = 0,
	FM_REWRITE_NULL_SENDER,		/* <>: bounces are never rewritten */
	FM_REWRITE_FEEDBACK_SENDER,	/* already at a feedback domain */
	FM_REWRITE_FOREIGN_DOMAIN,	/* not a configured sender domain */
	FM_REWRITE_UNTRUSTED,		/* client not trusted for outbound */
	FM_REWRITE_MALFORMED,		/* sender we cannot parse */
} fm_rewrite_t;

typedef struct {
	int addr_trusted;	/* client address in TrustedClients */
	int authenticated;	/* SASL login */
	int local_submission;	/* sendmail command (non_smtpd_milters) */
} fm_trust_t;

/*
 * fm_rewrite_decide - the verdict for envfrom (as passed by the MTA, with or
 * without angle brackets); on FM_REWRITE_YES *dom is the sender domain.
 */
fm_rewrite_t fm_rewrite_decide(const fm_config_t *cfg, const char *envfrom,
			       const fm_trust_t *trust,
			       const fm_domain_t **dom);

/* fm_rewrite_str - the reason word for logs ("null-sender", ...) */
const char *fm_rewrite_str(fm_rewrite_t verdict);

/*
 * fm_addr_strip - the bare address of an envelope argument: angle brackets,
 * a source route and surrounding space removed. *bracketed tells whether
 * it came in brackets. 0, or -1 when malformed or longer than size.
 */
int fm_addr_strip(const char *raw, char *out, size_t size, int *bracketed);

/* fm_addr_domain - the domain part (after the last '@'), or NULL */
const char *fm_addr_domain(const char *addr);

/* fm_addr_local - copy the local part (before the last '@'); 0 or -1 */
int fm_addr_local(const char *addr, char *out, size_t size);

/* fm_rewrite_address - "<CODE@FEEDBACK-DOMAIN>" into out; 0 or -1 */
int fm_rewrite_address(const char *code, const fm_domain_t *dom, char *out,
		       size_t size);

#endif
