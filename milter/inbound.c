/*
 * inbound - policy for mail to the feedback domains
 *
 * fm_inbound_check_rcpt() decides, for one envelope recipient, whether it
 * is ours (a feedback domain) and whether its code is good. The local part
 * must be exactly one code: no recipient delimiter or other decoration is
 * accepted, so every address we did not issue is refused before DATA.
 */
#include <string.h>

#include "inbound.h"

/* fm_inbound_check_rcpt - classify an envelope recipient */
fm_rcpt_verdict_t
fm_inbound_check_rcpt(const fm_config_t *cfg, const char *rcpt, time_t now,
		      fm_rcpt_check_t *out)
{
	char addr[FM_ADDR_MAX];
	const char *domain;
	int bracketed;

	memset(out, 0, sizeof(*out));
	out->verdict = FM_RCPT_OUTSIDE;
	if (rcpt == NULL || fm_addr_strip(rcpt, addr, sizeof(addr), &bracketed) < 0)
		return out->verdict;
	if ((domain = fm_addr_domain(addr)) == NULL ||
	    (out->domain = fm_config_feedback_domain(cfg, domain)) == NULL)
		return out->verdict;
	if (fm_addr_local(addr, out->local, sizeof(out->local)) < 0)
		out->local[0] = '\0';
	out->status = fm_code_verify(cfg->keys, out->domain->feedback, out->local,
				     strlen(out->local), now,
				     cfg->code_lifetime_days, &out->info);
	if (fm_code_normalize(out->local, strlen(out->local), out->code) < 0)
		out->code[0] = '\0';
	if (out->status == FM_CODE_OK)
		out->verdict = FM_RCPT_VALID;
	else if (cfg->bad_code_accept)
		out->verdict = FM_RCPT_UNVERIFIED;
	else
		out->verdict = FM_RCPT_REJECT;
	return out->verdict;
}

/* fm_inbound_reply - reply text for a refused code */
const char *
fm_inbound_reply(fm_code_status_t status)
{
	switch (status) {
	case FM_CODE_SHAPE:
		return "No such feedback address (malformed code)";
	case FM_CODE_UNKNOWN_KEY:
		return "No such feedback address (unknown key)";
	case FM_CODE_BAD_MAC:
		return "No such feedback address (code not issued here)";
	case FM_CODE_EXPIRED:
		return "Feedback address expired";
	case FM_CODE_OK:
		break;
	}
	return "No such feedback address";
}
