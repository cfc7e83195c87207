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
#include "dkimcheck.h"
#include "report.h"
#include "rewrite.h"
#include "spfcheck.h"
#include "store.h"

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

/* Everything known about one inbound message at end-of-message. */
typedef struct {
	const fm_report_t *report;	/* what the parser found */
	const fm_send_t *send;		/* its send record, or NULL */
	const char *code;		/* the code it came to, or NULL */
	int verified;
	time_t now;
	const char *qid;
	const char *client;		/* client address */
	const char *helo;
	const char *envfrom;		/* envelope sender, bare */
	const fm_spf_outcome_t *spf;
	const fm_dkim_report_t *dkim;
} fm_inbound_in_t;

#define FM_INBOUND_MAX_EVENTS FM_REPORT_MAX_RCPTS

/*
 * fm_inbound_events - one event per reported recipient (one of class
 * unknown when the message reports nothing), at most max, each pointing
 * into in and into sigs (room for FM_DKIM_MAX_SIGS). Returns the count.
 */
size_t fm_inbound_events(const fm_inbound_in_t *in, fm_event_t *ev,
			 size_t max, fm_event_sig_t *sigs);

/*
 * fm_inbound_recipient - the recipient an event is about: the send's
 * recipient the report names (Final-Recipient, else Original-Recipient;
 * the send's only recipient when one is reported), else the reported
 * address. *of_send (if not NULL) says whether it is the send's.
 */
const char *fm_inbound_recipient(const fm_send_t *send, size_t nreported,
				 const char *reported, const char *orig,
				 int *of_send);

/*
 * fm_inbound_auth_undecided - could a message that fails
 * RequireAuthentication pass when retried: a temperror (SPF, or any DKIM
 * signature) on a check that counts for it
 */
int fm_inbound_auth_undecided(int require, const fm_spf_outcome_t *spf,
			      const fm_dkim_report_t *dkim);

/* fm_inbound_authenticated - does the message pass RequireAuthentication */
int fm_inbound_authenticated(int require, const fm_spf_outcome_t *spf,
			     const fm_dkim_report_t *dkim);

/* fm_inbound_accept - accept (1) or discard (0) after recording */
int fm_inbound_accept(const fm_config_t *cfg, const fm_event_t *ev,
		      size_t n);

/* fm_inbound_ar_value - Authentication-Results header value; 0 or -1 */
int fm_inbound_ar_value(const char *authserv, const fm_spf_outcome_t *spf,
			const fm_dkim_report_t *dkim, char *out, size_t size);

/* fm_inbound_event_line - the syslog line of one event (no queue id) */
void fm_inbound_event_line(const fm_event_t *ev, const fm_send_t *send,
			   char *out, size_t size);

#endif
