/*
 * inbound - policy for mail to the feedback domains
 *
 * A recipient at a configured feedback domain carries a code. The code is
 * checked at RCPT time, before DATA: a forged, unknown-key or expired code
 * is refused with 550 5.1.1 (or, with BadCodeAction accept, taken and
 * marked unverified). Pure: configuration and time come from the caller.
 */
#ifndef FM_INBOUND_H
#define FM_INBOUND_H

#include <stddef.h>
#include <time.h>

#include "codec.h"
#include "config.h"
#include "rewrite.h"

typedef enum {
	FM_RCPT_OUTSIDE = 0,	/* not a feedback domain: not ours */
	FM_RCPT_VALID,		/* a good code */
	FM_RCPT_REJECT,		/* a bad code, to be refused */
	FM_RCPT_UNVERIFIED,	/* a bad code, accepted (BadCodeAction accept) */
} fm_rcpt_verdict_t;

typedef struct {
	fm_rcpt_verdict_t verdict;
	fm_code_status_t status;	/* why a code is bad */
	fm_code_info_t info;
	char code[FM_CODE_LEN + 1];	/* normalised, or "" when malformed */
	char local[FM_ADDR_MAX];	/* local part as given */
	const fm_domain_t *domain;	/* the feedback domain's entry */
} fm_rcpt_check_t;

/* fm_inbound_check_rcpt - classify an envelope recipient at time now */
fm_rcpt_verdict_t fm_inbound_check_rcpt(const fm_config_t *cfg,
					const char *rcpt, time_t now,
					fm_rcpt_check_t *out);

/* fm_inbound_reply - the SMTP reply text for a refused code */
const char *fm_inbound_reply(fm_code_status_t status);

#endif
