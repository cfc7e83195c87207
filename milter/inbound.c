/*
 * inbound - policy for mail to the feedback domains
 *
 * fm_inbound_check_rcpt() decides, for one envelope recipient, whether it
 * is ours (a feedback domain) and whether its code is good. The local part
 * must be exactly one code: no recipient delimiter or other decoration is
 * accepted, so every address we did not issue is refused before DATA.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "eventlog.h"
#include "inbound.h"

/*
 * raw_feedback_domain - the feedback domain after the last '@' of an
 * address that cannot be parsed (too long, unbalanced brackets), or NULL
 */
static const fm_domain_t *
raw_feedback_domain(const fm_config_t *cfg, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	char dom[256];
	size_t n;

	if (at == NULL)
		return NULL;
	at++;
	n = strcspn(at, ">");
	while (n > 0 && at[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(dom))
		return NULL;
	memcpy(dom, at, n);
	dom[n] = '\0';
	return fm_config_feedback_domain(cfg, dom);
}

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
	if (rcpt == NULL)
		return out->verdict;
	if (fm_addr_strip(rcpt, addr, sizeof(addr), &bracketed) < 0) {
		/* unparseable, but at a feedback domain: not a code of ours */
		if ((out->domain = raw_feedback_domain(cfg, rcpt)) != NULL) {
			out->status = FM_CODE_SHAPE;
			out->verdict = FM_RCPT_REJECT;
		}
		return out->verdict;
	}
	if ((domain = fm_addr_domain(addr)) == NULL)
		return out->verdict;
	if (fm_addr_local(addr, out->local, sizeof(out->local)) < 0)
		out->local[0] = '\0';
	if ((out->domain = fm_config_feedback_domain(cfg, domain)) == NULL) {
		/* "code%feedback.domain@here": the MTA's percent hack */
		char *pct = strrchr(out->local, '%');
		size_t n;

		if (pct != NULL)	/* a trailing dot, as in "x%d.@here" */
			for (n = strlen(pct); n > 1 && pct[n - 1] == '.'; n--)
				pct[n - 1] = '\0';
		if (pct == NULL ||
		    (out->domain = fm_config_feedback_domain(cfg, pct + 1)) == NULL) {
			out->local[0] = '\0';
			return out->verdict;
		}
		*pct = '\0';
	}
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

/* send_rcpt - the send's recipient equal to addr (any case), or NULL */
static const char *
send_rcpt(const fm_send_t *send, const char *addr)
{
	size_t i;

	if (send == NULL || addr == NULL || *addr == '\0')
		return NULL;
	for (i = 0; i < send->nrcpts; i++)
		if (strcasecmp(send->rcpts[i], addr) == 0)
			return send->rcpts[i];
	return NULL;
}

/* fm_inbound_recipient - the send's recipient this report is about */
const char *
fm_inbound_recipient(const fm_send_t *send, size_t nreported,
		     const char *reported, const char *orig, int *of_send)
{
	const char *r;
	int dummy;

	if (of_send == NULL)
		of_send = &dummy;
	*of_send = 1;
	if (send != NULL && send->nrcpts == 1 && nreported <= 1)
		return send->rcpts[0];
	if ((r = send_rcpt(send, reported)) != NULL ||
	    (r = send_rcpt(send, orig)) != NULL)
		return r;
	if (send != NULL && send->nrcpts == 1 &&
	    (reported == NULL || *reported == '\0'))
		return send->rcpts[0];
	*of_send = 0;
	return reported != NULL ? reported : "";
}

/* or_null - NULL for an empty string */
static const char *
or_null(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* fill_common - the fields every event of a message shares */
static void
fill_common(const fm_inbound_in_t *in, fm_event_t *e,
	    const fm_event_sig_t *sigs, size_t nsigs)
{
	memset(e, 0, sizeof(*e));
	e->code = in->code;
	e->verified = in->verified;
	e->created = in->now;
	e->queue_id = or_null(in->qid);
	e->kind = fm_kind_name(in->report ? in->report->kind : FM_KIND_NONE);
	e->reporting_mta = in->report ? or_null(in->report->reporting_mta) : NULL;
	e->client_addr = or_null(in->client);
	e->helo = or_null(in->helo);
	e->envfrom = in->envfrom;
	if (in->spf != NULL) {
		e->spf_result = fm_spf_result_name(in->spf->result);
		e->spf_domain = or_null(in->spf->domain);
	}
	e->sigs = sigs;
	e->nsigs = nsigs;
}

/* fm_inbound_events - the events of one inbound message */
size_t
fm_inbound_events(const fm_inbound_in_t *in, fm_event_t *ev, size_t max,
		  fm_event_sig_t *sigs)
{
	const fm_report_t *r = in->report;
	size_t i, n = 0, nsigs = 0;

	if (in->dkim != NULL)
		for (; nsigs < in->dkim->count && nsigs < FM_DKIM_MAX_SIGS; nsigs++) {
			sigs[nsigs].domain = in->dkim->sigs[nsigs].domain;
			sigs[nsigs].selector = in->dkim->sigs[nsigs].selector;
			sigs[nsigs].result =
				fm_dkim_result_name(in->dkim->sigs[nsigs].result);
		}
	if (max == 0)
		return 0;
	for (i = 0; r != NULL && i < r->nrcpts && n < max; i++, n++) {
		const fm_rcpt_report_t *rr = &r->rcpts[i];

		fill_common(in, &ev[n], sigs, nsigs);
		ev[n].cls = fm_class_name(rr->cls);
		ev[n].reason = fm_reason_name(rr->reason);
		ev[n].status = or_null(rr->status);
		ev[n].action = or_null(rr->action);
		ev[n].recipient = or_null(fm_inbound_recipient(
			in->send, r->nrcpts, rr->recipient, rr->orig_recipient,
			&ev[n].rcpt_of_send));
		ev[n].orig_recipient = or_null(rr->orig_recipient);
		ev[n].diagnostic = or_null(rr->diagnostic);
		ev[n].remote_mta = or_null(rr->remote_mta);
		ev[n].feedback_type = or_null(rr->feedback_type);
		ev[n].replycode = rr->reply_code;
	}
	if (n == 0) {
		fill_common(in, &ev[0], sigs, nsigs);
		ev[0].cls = fm_class_name(FM_CLASS_UNKNOWN);
		ev[0].reason = fm_reason_name(FM_REASON_UNDEFINED);
		ev[0].recipient = or_null(fm_inbound_recipient(
			in->send, 0, NULL, NULL, &ev[0].rcpt_of_send));
		n = 1;
	}
	return n;
}

/* fm_inbound_authenticated - RequireAuthentication */
int
fm_inbound_authenticated(int require, const fm_spf_outcome_t *spf,
			 const fm_dkim_report_t *dkim)
{
	int spf_ok = spf != NULL && spf->result == FM_SPF_PASS;
	int dkim_ok = dkim != NULL && dkim->summary == FM_DKIM_PASS;

	switch (require) {
	case FM_AUTH_SPF: return spf_ok;
	case FM_AUTH_DKIM: return dkim_ok;
	case FM_AUTH_ANY: return spf_ok || dkim_ok;
	default: return 1;
	}
}

/* fm_inbound_auth_undecided - a temperror a retry might turn into a pass */
int
fm_inbound_auth_undecided(int require, const fm_spf_outcome_t *spf,
			  const fm_dkim_report_t *dkim)
{
	int spf_tmp = spf != NULL && spf->result == FM_SPF_TEMPERROR;
	int dkim_tmp = 0;
	size_t i;

	for (i = 0; dkim != NULL && i < dkim->count && i < FM_DKIM_MAX_SIGS; i++)
		if (dkim->sigs[i].result == FM_DKIM_TEMPERROR)
			dkim_tmp = 1;
	if (dkim != NULL && dkim->summary == FM_DKIM_TEMPERROR)
		dkim_tmp = 1;
	switch (require) {
	case FM_AUTH_SPF: return spf_tmp;
	case FM_AUTH_DKIM: return dkim_tmp;
	case FM_AUTH_ANY: return spf_tmp || dkim_tmp;
	default: return 0;
	}
}

/* class_index - position of a class name in fm_config_class_names */
static int
class_index(const char *cls)
{
	int i;

	for (i = 0; cls != NULL && i < FM_NCLASSES; i++)
		if (strcmp(cls, fm_config_class_names[i]) == 0)
			return i;
	return 0;
}

/* fm_inbound_accept - accept when any event's class is to be accepted */
int
fm_inbound_accept(const fm_config_t *cfg, const fm_event_t *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cfg->inbound_accept[class_index(ev[i].cls)])
			return 1;
	return n == 0 && cfg->inbound_accept[0];
}

/*
 * ar_clean - a token safe inside Authentication-Results, or NULL when it
 * does not fit (a cut identity could name another domain)
 */
static const char *
ar_clean(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; s != NULL && *s; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("();\"\\", *s) != NULL)
			continue;
		if (n + 1 >= size)
			return NULL;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return n ? buf : "unknown";
}

/*
 * fm_inbound_ar_value - RFC 8601 header value, folded with LF and a tab
 * (the MTA adds the CR: libmilter wants no CR in header values)
 */
int
fm_inbound_ar_value(const char *authserv, const fm_spf_outcome_t *spf,
		    const fm_dkim_report_t *dkim, char *out, size_t size)
{
	char a[512], b[512];
	const char *ca, *cb;
	size_t i, len;
	int n;

	if ((ca = ar_clean(authserv, a, sizeof(a))) == NULL)
		return -1;
	n = snprintf(out, size, "%s", ca);
	if (n < 0 || (size_t)n >= size)
		return -1;
	len = (size_t)n;
	if (spf != NULL) {
		if ((cb = ar_clean(spf->identity == FM_SPF_HELO ? spf->domain :
				   spf->sender, b, sizeof(b))) == NULL)
			return -1;
		n = snprintf(out + len, size - len, ";\n\tspf=%s %s=%s",
			     fm_spf_result_name(spf->result),
			     spf->identity == FM_SPF_HELO ? "smtp.helo" :
			     "smtp.mailfrom", cb);
		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += (size_t)n;
	}
	for (i = 0; dkim != NULL && (i < dkim->count || i == 0); i++) {
		if (dkim->count == 0) {
			n = snprintf(out + len, size - len, ";\n\tdkim=none");
		} else {
			if ((ca = ar_clean(dkim->sigs[i].domain, a, sizeof(a))) == NULL ||
			    (cb = ar_clean(dkim->sigs[i].selector, b, sizeof(b))) == NULL)
				return -1;
			n = snprintf(out + len, size - len,
				     ";\n\tdkim=%s header.d=%s header.s=%s",
				     fm_dkim_result_name(dkim->sigs[i].result),
				     ca, cb);
		}
		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += (size_t)n;
	}
	return 0;
}

/* event_word - the first word of an event line */
static const char *
event_word(const char *cls)
{
	if (strcmp(cls, "hard") == 0 || strcmp(cls, "soft") == 0)
		return "bounce";
	if (strcmp(cls, "delayed") == 0)
		return "delay";
	return cls;
}

/* fm_inbound_event_line - QID-less syslog line of one event */
void
fm_inbound_event_line(const fm_event_t *ev, const fm_send_t *send,
		      char *out, size_t size)
{
	char dkim[512], one[300];
	fm_kv_t kv;
	size_t i;

	fm_kv_init(&kv, out, size);
	fm_kv_word(&kv, event_word(ev->cls));
	fm_kv_str(&kv, "code", ev->code ? ev->code : "-");
	if (!ev->verified)
		fm_kv_str(&kv, "verified", "no");
	fm_kv_str(&kv, "class", ev->cls);
	fm_kv_str(&kv, "reason", ev->reason ? ev->reason : "undefined");
	if (ev->status != NULL)
		fm_kv_str(&kv, "status", ev->status);
	if (ev->feedback_type != NULL)
		fm_kv_str(&kv, "feedback", ev->feedback_type);
	fm_kv_addr(&kv, "rcpt", ev->recipient ? ev->recipient : "");
	if (send != NULL) {
		fm_kv_addr(&kv, "sender", send->sender ? send->sender : "");
		if (send->msgid != NULL)
			fm_kv_str(&kv, "msgid", send->msgid);
	} else {
		fm_kv_str(&kv, "send", "unknown");
	}
	fm_kv_str(&kv, "spf", ev->spf_result ? ev->spf_result : "none");
	dkim[0] = '\0';
	for (i = 0; i < ev->nsigs; i++) {
		snprintf(one, sizeof(one), "%s%s:%s", i ? "," : "",
			 ev->sigs[i].result, ev->sigs[i].domain);
		if (strlen(dkim) + strlen(one) < sizeof(dkim))
			strcat(dkim, one);
	}
	fm_kv_str(&kv, "dkim", ev->nsigs ? dkim : "none");
	if (ev->diagnostic != NULL)
		fm_kv_str(&kv, "diag", ev->diagnostic);
}
