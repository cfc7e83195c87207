/*
 * report - what a returned message says: bounces, delay notices,
 * auto-replies and complaints
 *
 * fm_report_parse() runs the whole inbound pipeline over one message:
 *
 *	1. mime.c lists the parts (GMime does all MIME work);
 *	2. repgather() finds the bounce text (the text parts before the
 *	   returned message, or an HTML part made plain) and the returned
 *	   message's header block (a message/rfc822 or text/rfc822-headers
 *	   part, or the text after a line of fm_original_markers);
 *	3. the report is read by the first reader that applies:
 *	   read_complaint (message/feedback-report, or a provider header of
 *	   fm_complaint_texts), read_dsn (message/delivery-status and
 *	   message/global-delivery-status parts, or DSN fields in the text),
 *	   repses_read (Amazon SES JSON), read_bounce (the text of an MTA
 *	   that sends no DSN part), read_autoreply (RFC 3834 and vacation
 *	   notices);
 *	4. finish() classifies each recipient (classify.c).
 *
 * The modules it uses are listed in report_int.h: DSN and feedback
 * report fields (dsnfield.c), recipient lines of bounce texts
 * (bouncetext.c), addresses (repaddr.c), the text tables (reptable.c).
 * For DSN recipients the bounce text only adds context: the lines that
 * name them go to the classifier beside the Diagnostic-Code.
 * X-Failed-Recipients and the To of the returned message are the last
 * resort.
 *
 * Results live in an arena released by fm_report_free() (repmem.c);
 * every string is cleaned on the way in (UTF-8, no control octets,
 * bounded). No static mutable state: the table matchers are built once by
 * fm_report_init() (pthread_once) and only read afterwards.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"

static pthread_once_t report_once = PTHREAD_ONCE_INIT;
static int report_init_status = -1;	/* written only under report_once */

/* header_addrs - one recipient per address of a field of the original */
static void header_addrs(rep_t *r, const char *name, const char *feedback)
{
	const char *v, *p, *s, *e;
	wrcpt_t *w;

	if (r->orig_hdrs == NULL ||
	    (v = dsnfield_find(r, r->orig_hdrs, r->orig_len, name)) == NULL)
		return;
	for (p = v; repaddr_next(p, v + strlen(v), &s, &e); p = e) {
		if ((w = repmem_rcpt_new(r)) == NULL)
			return;
		w->addr = repmem_copy(r, s, (size_t)(e - s));
		w->feedback = feedback;
		w->from_header = 1;
	}
}

/* read_complaint - an ARF report or a provider's complaint format */
static int read_complaint(rep_t *r)
{
	size_t i, k, np = fm_mime_nparts(r->m);
	const char *type = NULL, *v;
	wrcpt_t *w;

	for (i = 0; i < np; i++) {
		const fm_part_t *p = fm_mime_part(r->m, i);

		if (p->type == FM_PART_FEEDBACK && p->msg_level == 0) {
			dsnfield_arf(r, p->text, p->len);
			break;
		}
	}
	if (i == np) {
		for (k = 0; k < fm_complaint_texts_n; k++) {
			const char *name = fm_complaint_texts[k].pattern;

			if ((v = fm_mime_header(r->m, name)) == NULL &&
			    (r->orig_hdrs == NULL ||
			     (v = dsnfield_find(r, r->orig_hdrs, r->orig_len,
						name)) == NULL))
				continue;
			if ((w = repmem_rcpt_new(r)) == NULL)
				return 1;
			w->addr = repaddr_copy(r, v, v + strlen(v));
			if (w->addr == NULL)
				w->addr = r->skip[2];
			w->feedback = fm_complaint_texts[k].value;
			break;
		}
		if (k == fm_complaint_texts_n)
			return 0;
	}
	r->out->kind = FM_KIND_ARF;
	if (r->nrc == 1 && r->rc[0].addr == NULL) {
		type = r->rc[0].feedback;
		r->nrc = 0;
		header_addrs(r, "To", type);
		if (r->nrc == 0 && (w = repmem_rcpt_new(r)) != NULL)
			w->feedback = type;
	}
	return 1;
}

/* dsn_from_text - addresses for DSN recipients whose field had none */
static void dsn_from_text(rep_t *r)
{
	size_t i, n = r->nrc, next;

	for (i = 0; i < n && (r->rc[i].addr == NULL || r->rc[i].addr[0]); i++)
		;
	if (i == n || r->errtext == NULL)
		return;
	bouncetext_scan(r, r->errtext, r->errlen, 1);
	for (i = 0, next = n; i < n && next < r->nrc; i++) {
		wrcpt_t *w = &r->rc[i];

		if (w->addr != NULL && w->addr[0] != '\0')
			continue;
		w->addr = r->rc[next].addr;
		if (w->diag == NULL)
			w->diag = r->rc[next].diag;
		next++;
	}
	r->nrc = n;
}

/* read_dsn - delivery status parts, or DSN fields in a text part */
static int read_dsn(rep_t *r)
{
	size_t i, np = fm_mime_nparts(r->m);
	unsigned best = ~0u;

	for (i = 0; i < np; i++) {
		const fm_part_t *p = fm_mime_part(r->m, i);

		if ((p->type == FM_PART_DSN || p->type == FM_PART_GLOBAL_DSN) &&
		    p->msg_level < best)
			best = p->msg_level;
	}
	for (i = 0; i < np; i++) {
		const fm_part_t *p = fm_mime_part(r->m, i);

		if ((p->type == FM_PART_DSN || p->type == FM_PART_GLOBAL_DSN) &&
		    p->msg_level == best)
			dsnfield_dsn(r, p->text, p->len);
	}
	if (best == ~0u && r->errtext != NULL &&
	    strcasestr(r->errtext, "Final-Recipient:") != NULL) {
		dsnfield_dsn(r, r->errtext, r->errlen);
		r->dsn_in_text = 1;
	}
	dsn_from_text(r);
	dsnfield_finish(r);
	if (r->nrc == 0)
		return 0;
	r->out->kind = FM_KIND_DSN;
	if (r->errtext != NULL)
		bouncetext_scan(r, r->errtext, r->errlen, 0);
	return 1;
}

/* is_bounce - whether a message without a DSN part is a bounce */
static int is_bounce(rep_t *r)
{
	const char *subj = fm_mime_header(r->m, "Subject");
	const char *from = r->skip[2];

	if (fm_mime_header(r->m, "X-Failed-Recipients") != NULL)
		return 1;
	if (from != NULL && (strncasecmp(from, "mailer-daemon@", 14) == 0 ||
			     strncasecmp(from, "postmaster@", 11) == 0))
		return 1;
	if (subj != NULL && reptable_text(TB_BOUNCE_SUBJ, subj, strlen(subj)))
		return 1;
	return r->errtext != NULL &&
	    reptable_text(TB_BOUNCE_TEXT, r->errtext, r->errlen) != NULL;
}

/* read_bounce - the bounce text of an MTA that sends no DSN part */
static int read_bounce(rep_t *r)
{
	const char *xf, *p, *s, *e;
	wrcpt_t *w;

	if (!is_bounce(r))
		return 0;
	r->out->kind = FM_KIND_NONSTANDARD;
	if (r->errtext != NULL)
		bouncetext_scan(r, r->errtext, r->errlen, 1);
	if (r->nrc == 0 &&
	    (xf = fm_mime_header(r->m, "X-Failed-Recipients")) != NULL) {
		for (p = xf; repaddr_next(p, xf + strlen(xf), &s, &e); p = e)
			if ((w = repmem_rcpt_new(r)) != NULL) {
				w->addr = repmem_copy(r, s, (size_t)(e - s));
				w->from_header = 1;
			}
	}
	if (r->nrc == 0)
		header_addrs(r, "To", NULL);
	if (r->errtext != NULL &&
	    reptable_text(TB_DELAY, r->errtext, r->errlen) != NULL)
		r->delayed = 1;
	return 1;
}

/* read_autoreply - an RFC 3834 auto-reply or a vacation notice */
static int read_autoreply(rep_t *r)
{
	const char *as = fm_mime_header(r->m, "Auto-Submitted");
	const char *subj = fm_mime_header(r->m, "Subject");
	const char *prec = fm_mime_header(r->m, "Precedence");
	wrcpt_t *w;
	int yes = 0;

	if (as != NULL && strncasecmp(as, "auto-replied", 12) == 0)
		yes = 1;
	if (fm_mime_header(r->m, "X-Autoreply") != NULL ||
	    fm_mime_header(r->m, "X-Autorespond") != NULL ||
	    fm_mime_header(r->m, "X-Auto-Response-Suppress") != NULL ||
	    (prec != NULL && strncasecmp(prec, "auto_reply", 10) == 0))
		yes = 1;
	if (subj != NULL && reptable_text(TB_AUTO_SUBJ, subj, strlen(subj)))
		yes = 1;
	if (!yes || r->skip[2] == NULL || (w = repmem_rcpt_new(r)) == NULL)
		return 0;
	r->out->kind = FM_KIND_AUTOREPLY;
	w->addr = r->skip[2];
	if (r->errtext != NULL)
		w->diag = repmem_diag(r, r->errtext, r->errlen);
	return 1;
}

/* finish - classify every recipient into the caller's result */
static void finish(rep_t *r)
{
	fm_report_t *out = r->out;
	size_t i;

	if (r->nrc == 0)
		return;
	out->rcpts = repmem_alloc(r, r->nrc * sizeof(*out->rcpts));
	if (out->rcpts == NULL)
		return;
	for (i = 0; i < r->nrc; i++) {
		wrcpt_t *w = &r->rc[i];
		fm_rcpt_report_t *o = &out->rcpts[i];
		fm_classify_in_t in;
		fm_classify_out_t res;

		memset(&in, 0, sizeof(in));
		in.kind = out->kind;
		in.action = w->action ? w->action :
		    out->kind == FM_KIND_NONSTANDARD ?
		    (r->delayed ? "delayed" : "failed") : "";
		in.status = w->status;
		/* the bounce text's lines may say more than the DSN field */
		in.diagnostic = str0(w->diag);
		if (w->block != NULL && w->diag != NULL)
			in.context = strstr(w->block, w->diag) != NULL ?
			    w->block : repmem_join(r, w->diag, w->block);
		in.diag_type = w->diag_type;
		in.command = w->command ? w->command :
		    fm_classify_find_command(w->diag);
		if (in.command[0] == '\0')
			in.command = fm_classify_find_command(w->block);
		if (in.command[0] == '\0')
			in.command = fm_classify_find_command(w->line);
		if (in.command[0] == '\0')
			in.command = fm_classify_find_command(w->line2);
		in.remote_mta = w->remote;
		in.reporting_mta = r->reporting_mta;
		in.recipient = w->addr;
		in.extra = w->category;
		in.reply_code = w->reply;
		fm_classify(&in, &res);
		if ((res.reason == FM_REASON_ONHOLD ||
		     res.reason == FM_REASON_UNDEFINED) && w->before != NULL &&
		    w->before != w->diag) {
			/* the lines above the recipient may tell why */
			in.context = repmem_join(r, w->before, in.context ?
						 in.context : in.diagnostic);
			fm_classify(&in, &res);
		}
		o->recipient = str0(w->addr);
		o->orig_recipient = str0(w->orig);
		o->cls = res.cls;
		o->reason = res.reason;
		memcpy(o->status, res.status, sizeof(o->status));
		o->action = in.action;
		o->diagnostic = repmem_copy(r, str0(w->diag),
					    strlen(str0(w->diag)));
		o->remote_mta = str0(w->remote);
		o->feedback_type = str0(w->feedback);
		o->command = in.command;
		o->reply_code = res.reply_code;
	}
	out->nrcpts = r->nrc;
}

/* report_init_once - GMime, the classifier and the report tables */
static void report_init_once(void)
{
	if (fm_mime_init() < 0 || fm_classify_init() < 0 ||
	    reptable_init() < 0)
		return;
	report_init_status = 0;
}

/* fm_report_init - initialise GMime and the pattern indexes once */
int fm_report_init(void)
{
	if (pthread_once(&report_once, report_init_once) != 0)
		return -1;
	return report_init_status;
}

/* fm_report_limits - the limits reached, in words */
char *fm_report_limits(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned flag;
		const char *text;
	} words[] = {
		{ FM_REPORT_LIM_INPUT, "only the first 4 MiB parsed" },
		{ FM_REPORT_LIM_DEPTH, "MIME nesting deeper than 8 levels skipped" },
		{ FM_REPORT_LIM_PARTS, "MIME parts after the 64th skipped" },
		{ FM_REPORT_LIM_TEXT, "part text past 256 KiB cut" },
		{ FM_REPORT_LIM_RCPTS, "recipients after the 100th dropped" },
		{ FM_REPORT_LIM_LINES, "bounce text past 2000 lines not read" },
	};
	size_t i, used = 0;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if ((flags & words[i].flag) == 0)
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			     words[i].text);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* fm_report_parse - parse and classify one message */
fm_report_status_t fm_report_parse(const char *msg, size_t len,
				   fm_report_t *out)
{
	rep_t r;
	unsigned mflags;

	memset(out, 0, sizeof(*out));
	out->reporting_mta = out->orig_message_id = out->orig_sender = "";
	out->subject = "";
	if (report_init_status != 0)
		return FM_REPORT_ERR_INIT;
	memset(&r, 0, sizeof(r));
	if ((out->priv = calloc(1, sizeof(repmem_block_t *))) == NULL)
		return FM_REPORT_ERR_NOMEM;
	r.arena = out->priv;
	r.out = out;
	if ((r.m = fm_mime_parse(msg, len)) == NULL) {
		fm_report_free(out);
		return FM_REPORT_ERR_NOMEM;
	}
	mflags = fm_mime_flags(r.m);
	if (mflags & FM_MIME_TRUNCATED)
		out->flags |= FM_REPORT_TRUNCATED | FM_REPORT_LIM_INPUT;
	if (mflags & FM_MIME_TOO_MANY_PARTS)
		out->flags |= FM_REPORT_TRUNCATED | FM_REPORT_LIM_PARTS;
	if (mflags & FM_MIME_TOO_DEEP)
		out->flags |= FM_REPORT_TRUNCATED | FM_REPORT_LIM_DEPTH;
	if (mflags & FM_MIME_TEXT_CUT)
		out->flags |= FM_REPORT_TRUNCATED | FM_REPORT_LIM_TEXT;
	repgather(&r);
	if (!read_complaint(&r) && !read_dsn(&r) && !repses_read(&r) &&
	    !read_bounce(&r))
		read_autoreply(&r);
	bouncetext_late(&r);
	finish(&r);
	out->reporting_mta = str0(r.reporting_mta);
	out->orig_sender = str0(r.orig_sender);
	fm_mime_free(r.m);
	if (r.nomem) {
		fm_report_free(out);
		return FM_REPORT_ERR_NOMEM;
	}
	return FM_REPORT_OK;
}

/* fm_report_free - release a result */
void fm_report_free(fm_report_t *r)
{
	if (r == NULL || r->priv == NULL)
		return;
	repmem_free(*(repmem_block_t **)r->priv);
	free(r->priv);
	memset(r, 0, sizeof(*r));
}

/* fm_report_status_str - short text for a status */
const char *fm_report_status_str(fm_report_status_t st)
{
	switch (st) {
	case FM_REPORT_OK:
		return "ok";
	case FM_REPORT_ERR_NOMEM:
		return "out of memory";
	case FM_REPORT_ERR_INIT:
		return "not initialised";
	}
	return "unknown status";
}
