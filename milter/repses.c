/*
 * repses - Amazon SES notifications
 *
 * SES reports bounces, complaints and deliveries as JSON, often inside an
 * SNS envelope that escapes it once more. repses_read() undoes that
 * escaping and reads the few keys it needs by search rather than with a
 * JSON parser: notificationType, reportingMTA, and per recipient object
 * emailAddress, action, status and diagnosticCode (bounces), the
 * complaintFeedbackType (complaints), or the recipients array and
 * smtpResponse (deliveries).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif

#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"

/* json_value - cleaned string value of "key" in [p, end), or NULL */
static const char *json_value(rep_t *r, const char *p, const char *end,
			      const char *key)
{
	size_t kl = strlen(key);
	const char *k, *v;

	while (p < end && (k = memmem(p, (size_t)(end - p), key, kl))) {
		p = k + kl;
		if (k == r->errtext || k[-1] != '"' || p >= end || *p != '"')
			continue;
		for (p++; p < end && (*p == ' ' || *p == ':'); p++)
			;
		if (p >= end || *p != '"')
			continue;
		for (v = ++p; p < end && *p != '"'; p++)
			;
		return repmem_copy(r, v, (size_t)(p - v));
	}
	return NULL;
}

/* json_unescape - arena copy of text with \" \\ and \/ undone */
static char *json_unescape(rep_t *r, const char *s, size_t n, size_t *len)
{
	char *d = repmem_alloc(r, n + 1);
	size_t i, o = 0;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && in_set(s[i + 1], "\"\\/"))
			i++;
		d[o++] = s[i];
	}
	d[o] = '\0';
	*len = o;
	return d;
}

/* ses_rcpts - one recipient per object of the array after key */
static void ses_rcpts(rep_t *r, const char *js, const char *end,
		      const char *key, const char *feedback)
{
	const char *p = memmem(js, (size_t)(end - js), key, strlen(key));
	const char *close, *obj;
	wrcpt_t *w;

	if (p == NULL || (close = memchr(p, ']', (size_t)(end - p))) == NULL)
		return;
	for (p = memchr(p, '{', (size_t)(close - p)); p != NULL && p < close;
	     p = memchr(obj, '{', (size_t)(close - obj))) {
		if ((obj = memchr(p, '}', (size_t)(close - p))) == NULL ||
		    (w = repmem_rcpt_new(r)) == NULL)
			return;
		w->addr = json_value(r, p, obj, "emailAddress");
		w->action = json_value(r, p, obj, "action");
		w->status = json_value(r, p, obj, "status");
		if ((w->diag = json_value(r, p, obj, "diagnosticCode")) &&
		    strncasecmp(w->diag, "smtp;", 5) == 0)
			w->diag = repmem_copy(r, w->diag + 5,
					      strlen(w->diag + 5));
		w->feedback = feedback;
	}
}

/* repses_read - an Amazon SES bounce, complaint or delivery notification */
int repses_read(rep_t *r)
{
	const char *type, *end, *p, *s, *e;
	char *js;
	size_t n;
	wrcpt_t *w;

	if (r->errtext == NULL ||
	    memmem(r->errtext, r->errlen, "notificationType", 16) == NULL ||
	    (js = json_unescape(r, r->errtext, r->errlen, &n)) == NULL)
		return 0;
	end = js + n;
	if ((type = json_value(r, js, end, "notificationType")) == NULL)
		return 0;
	r->reporting_mta = json_value(r, js, end, "reportingMTA");
	if (r->reporting_mta && strncasecmp(r->reporting_mta, "dsn;", 4) == 0)
		r->reporting_mta = repmem_copy(r, r->reporting_mta + 4,
					       strlen(r->reporting_mta + 4));
	if (strcasecmp(type, "Bounce") == 0) {
		r->out->kind = FM_KIND_DSN;
		ses_rcpts(r, js, end, "\"bouncedRecipients\"", NULL);
	} else if (strcasecmp(type, "Complaint") == 0) {
		r->out->kind = FM_KIND_ARF;
		ses_rcpts(r, js, end, "\"complainedRecipients\"",
			  str0(json_value(r, js, end,
					  "complaintFeedbackType")));
	} else if (strcasecmp(type, "Delivery") == 0 &&
		   (p = memmem(js, n, "\"recipients\"", 12)) != NULL) {
		const char *close = memchr(p, ']', (size_t)(end - p));

		r->out->kind = FM_KIND_DSN;
		for (; close && repaddr_next(p, close, &s, &e); p = e) {
			if ((w = repmem_rcpt_new(r)) == NULL)
				break;
			w->addr = repmem_copy(r, s, (size_t)(e - s));
			w->action = "delivered";
			w->diag = json_value(r, js, end, "smtpResponse");
		}
	}
	return r->out->kind != FM_KIND_NONE;
}
