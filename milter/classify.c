/*
 * classify - class, reason and status of one reported recipient
 *
 * fm_classify() turns what a report says about one recipient into a class
 * (hard, soft, delayed, ...), a reason (Sisimai's names) and a status code.
 * The kind of report decides first: complaints are "feedback", auto-replies
 * "vacation" unless their text says the mailbox is gone, success DSNs
 * "delivered". For failures the decision follows the one Sisimai makes,
 * with the same reason names, so that results compare with its tables:
 *
 *	0. a row of fm_rules (provider and MTA wording, patterns.c) whose
 *	   text matches and whose host and status conditions hold decides
 *	   alone;
 *	1. pass1: the first reason of fm_pass1 whose probe holds. A plain
 *	   probe holds when the status code implies the reason or a pattern
 *	   row of the reason matches the text; the probes of userunknown,
 *	   filtered, rejected and hostunknown also weigh the SMTP command (a
 *	   "user unknown" after DATA is a content filter, not a bad address)
 *	   and the other reasons the text gives.
 *	2. pass2: the reason the status implies, unless it is a vague one
 *	   (status_vague), in which case the first reason of fm_pass2 whose
 *	   rows match the text; then the x.6 and x.7 classes, a mailer
 *	   diagnostic type, syntax errors, Action: delayed ("expired"), errors
 *	   at HELO ("blocked"), any text at all ("onhold"), "undefined".
 *
 * The class follows from the reason: hard when the address itself is bad
 * (userunknown, hostunknown, hasmoved, and notaccept with a permanent
 * status), delayed for Action: delayed, soft for the other failures.
 *
 * The status is the report's, but a code in the diagnostic (the last one
 * after a reply code: "554 4.4.7 expired <421 4.4.2 timed out>") is
 * preferred when it is specific and of the same class; a pattern row's
 * status fills in only where there is no code at all. The text patterns
 * read is the diagnostic, or the context the report parser gives (the
 * bounce text's lines about the recipient).
 *
 * Texts are matched against the tables through the matchers of match.c;
 * the status codes, reply codes and commands in a text are found by
 * classify_find.c.
 *
 * fm_classify_init() builds the indexes of fm_patterns, fm_rules and
 * fm_command_texts once (pthread_once); they are never modified
 * afterwards, so any number of threads may classify.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "classify_int.h"

static const char *const fm_reason_names[FM_REASON_COUNT] = {
	"undefined", "onhold", "delivered", "feedback", "vacation",
	"userunknown", "hostunknown", "hasmoved", "notaccept", "mailboxfull",
	"filtered", "rejected", "blocked", "expired", "spamdetected",
	"virusdetected", "policyviolation", "authfailure", "securityerror",
	"toomanyconn", "speeding", "suspend", "exceedlimit", "mesgtoobig",
	"norelaying", "networkerror", "systemerror", "systemfull",
	"contenterror", "syntaxerror", "mailererror", "requireptr",
	"notcompliantrfc", "badreputation", "failedstarttls",
};

typedef enum { PROBE_PLAIN, PROBE_USER, PROBE_FILTER, PROBE_REJECT,
	PROBE_HOST, PROBE_CONTENT } probe_t;

/* The first pass, in order; see the comment at the top. */
static const struct {
	fm_reason_t reason;
	probe_t probe;
} fm_pass1[] = {
	{FM_REASON_MAILBOXFULL, PROBE_PLAIN},
	{FM_REASON_MESGTOOBIG, PROBE_PLAIN},
	{FM_REASON_EXCEEDLIMIT, PROBE_PLAIN},
	{FM_REASON_SUSPEND, PROBE_PLAIN},
	{FM_REASON_HASMOVED, PROBE_PLAIN},
	{FM_REASON_NORELAYING, PROBE_PLAIN},
	{FM_REASON_AUTHFAILURE, PROBE_PLAIN},
	{FM_REASON_USERUNKNOWN, PROBE_USER},
	{FM_REASON_FILTERED, PROBE_FILTER},
	{FM_REASON_REQUIREPTR, PROBE_PLAIN},
	{FM_REASON_NOTCOMPLIANTRFC, PROBE_PLAIN},
	{FM_REASON_BADREPUTATION, PROBE_PLAIN},
	{FM_REASON_CONTENTERROR, PROBE_CONTENT},
	{FM_REASON_REJECTED, PROBE_REJECT},
	{FM_REASON_HOSTUNKNOWN, PROBE_HOST},
	{FM_REASON_SPAMDETECTED, PROBE_PLAIN},
	{FM_REASON_SPEEDING, PROBE_PLAIN},
	{FM_REASON_TOOMANYCONN, PROBE_PLAIN},
	{FM_REASON_BLOCKED, PROBE_PLAIN},
};

/* The second pass: text only, for what the first left open. */
static const fm_reason_t fm_pass2[] = {
	FM_REASON_MAILBOXFULL, FM_REASON_AUTHFAILURE, FM_REASON_BADREPUTATION,
	FM_REASON_SPEEDING, FM_REASON_SPAMDETECTED, FM_REASON_VIRUSDETECTED,
	FM_REASON_POLICYVIOLATION, FM_REASON_NORELAYING,
	FM_REASON_SYSTEMERROR, FM_REASON_NETWORKERROR, FM_REASON_SUSPEND,
	FM_REASON_CONTENTERROR, FM_REASON_SYSTEMFULL, FM_REASON_NOTACCEPT,
	FM_REASON_EXPIRED, FM_REASON_FAILEDSTARTTLS, FM_REASON_SECURITYERROR,
	FM_REASON_MAILERERROR,
};

/* Order in which fm_classify_text() reads the text alone. */
static const fm_reason_t fm_text_order[] = {
	FM_REASON_MAILBOXFULL, FM_REASON_MESGTOOBIG, FM_REASON_EXCEEDLIMIT,
	FM_REASON_SUSPEND, FM_REASON_USERUNKNOWN, FM_REASON_FILTERED,
	FM_REASON_REJECTED, FM_REASON_HOSTUNKNOWN, FM_REASON_SPAMDETECTED,
	FM_REASON_SPEEDING, FM_REASON_TOOMANYCONN, FM_REASON_BLOCKED,
	FM_REASON_AUTHFAILURE, FM_REASON_REQUIREPTR,
	FM_REASON_NOTCOMPLIANTRFC, FM_REASON_BADREPUTATION,
	FM_REASON_VIRUSDETECTED, FM_REASON_POLICYVIOLATION,
	FM_REASON_FAILEDSTARTTLS, FM_REASON_SECURITYERROR,
	FM_REASON_SYSTEMERROR, FM_REASON_NETWORKERROR, FM_REASON_EXPIRED,
	FM_REASON_CONTENTERROR, FM_REASON_HASMOVED, FM_REASON_SYSTEMFULL,
	FM_REASON_NOTACCEPT, FM_REASON_MAILERERROR, FM_REASON_NORELAYING,
	FM_REASON_SYNTAXERROR,
};

/* Text of these reasons keeps a 5.1.1 from meaning userunknown. */
static const fm_reason_t fm_user_rivals[] = {
	FM_REASON_NORELAYING, FM_REASON_BLOCKED, FM_REASON_MAILBOXFULL,
	FM_REASON_HASMOVED, FM_REASON_REJECTED, FM_REASON_NOTACCEPT,
};

static pthread_once_t classify_once = PTHREAD_ONCE_INIT;
static fm_matcher_t *classify_index;	/* written only under classify_once */
static fm_matcher_t *rules_index;	/* likewise */
static int classify_status = -1;	/* likewise */

/* classify_init_once - build the indexes of the pattern tables */
static void classify_init_once(void)
{
	classify_index = fm_matcher_new(fm_patterns, fm_patterns_n,
					sizeof(fm_patterns[0]));
	rules_index = fm_matcher_new(fm_rules, fm_rules_n, sizeof(fm_rules[0]));
	if (classify_find_init() == 0 && classify_index != NULL &&
	    rules_index != NULL)
		classify_status = 0;
}

/* fm_classify_init - build the pattern index once */
int fm_classify_init(void)
{
	if (pthread_once(&classify_once, classify_init_once) != 0)
		return -1;
	return classify_status;
}

typedef struct {
	unsigned long long mask;	/* bit per reason that matched */
	size_t first[FM_REASON_COUNT];	/* lowest row per reason, +1 */
} text_hits_t;

/* hits_cb - collect the reasons of the rows that match */
static int hits_cb(size_t row, size_t off, void *arg)
{
	text_hits_t *h = arg;
	fm_reason_t r = fm_patterns[row].reason;

	(void)off;
	h->mask |= 1ULL << r;
	if (h->first[r] == 0 || row + 1 < h->first[r])
		h->first[r] = row + 1;
	return 0;
}

/* norm_hits - every reason the pattern rows find in a normalised text */
static void norm_hits(const char *norm, size_t n, text_hits_t *h)
{
	memset(h, 0, sizeof(*h));
	if (classify_index != NULL)
		fm_matcher_scan(classify_index, norm, n, hits_cb, h);
}

/* text_hits - every reason the pattern rows find in text */
static void text_hits(const char *text, size_t len, text_hits_t *h)
{
	char buf[FM_CLASSIFY_TEXT_MAX];

	memset(h, 0, sizeof(*h));
	if (text != NULL)
		norm_hits(buf, fm_match_norm(text, len, buf, sizeof(buf),
					     NULL), h);
}

/* first_ranked - the first reason of fm_text_order the hits hold */
static fm_reason_t first_ranked(const text_hits_t *h)
{
	size_t i;

	for (i = 0; i < sizeof(fm_text_order) / sizeof(fm_text_order[0]); i++)
		if (h->mask & (1ULL << fm_text_order[i]))
			return fm_text_order[i];
	return FM_REASON_UNDEFINED;
}

/* fm_classify_text - the reason the pattern table gives for text */
fm_reason_t fm_classify_text(const char *text, size_t len,
			     const fm_pattern_t **row)
{
	text_hits_t h;
	fm_reason_t r;

	text_hits(text, len, &h);
	r = first_ranked(&h);
	if (row != NULL)
		*row = r == FM_REASON_UNDEFINED ? NULL :
		    &fm_patterns[h.first[r] - 1];
	return r;
}

/* is_generic - whether a status says only its class (x.0.0) */
static int is_generic(const char *s)
{
	return s[0] == '\0' || strcmp(s + 1, ".0.0") == 0;
}

/* pick_status - the report's status; a code in the text is preferred
 * when it says more (a specific code over a generic one) and is of the
 * same class (a 4.x.x does not refine a 5.0.0) */
static void pick_status(const fm_classify_in_t *in, fm_classify_out_t *out)
{
	char found[FM_STATUS_MAX];

	if (in->status != NULL &&
	    classify_find_valid(in->status, strlen(in->status)))
		snprintf(out->status, sizeof(out->status), "%s", in->status);
	if (fm_classify_find_status(in->diagnostic, found) < 0 &&
	    fm_classify_find_status(in->context, found) < 0)
		return;
	if (!is_generic(out->status) && is_generic(found))
		return;
	/* A generic 5.0.0 is refined by a 5.x.x, not by a 4.x.x. */
	if (out->status[0] == '\0' || out->status[0] == found[0])
		snprintf(out->status, sizeof(out->status), "%s", found);
}

/* lower_eq - case-insensitive equality that accepts NULL as "" */
static int lower_eq(const char *a, const char *b)
{
	return strcasecmp(a ? a : "", b) == 0;
}

/* pattern_text - what the patterns read: the context, else the diagnostic */
static const char *pattern_text(const fm_classify_in_t *in)
{
	if (in->context != NULL && *in->context != '\0')
		return in->context;
	return in->diagnostic ? in->diagnostic : "";
}

/* Everything one decision looks at. */
typedef struct {
	const fm_classify_in_t *in;
	fm_classify_out_t *out;
	fm_reason_t sreason;	/* what the status implies */
	text_hits_t h;		/* what the text patterns say */
	const char *cmd;	/* SMTP command, "" if unknown */
} decide_t;

/* has - whether a pattern row of reason r matched */
static int has(const decide_t *d, fm_reason_t r)
{
	return (d->h.mask & (1ULL << r)) != 0;
}

/* cmd_is - whether the SMTP command is one of a space-separated list */
static int cmd_is(const decide_t *d, const char *list)
{
	size_t n = strlen(d->cmd);
	const char *p;

	if (n == 0)
		return 0;
	for (p = list; (p = strstr(p, d->cmd)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

/* status_vague - a reason from a status that the text may overrule */
static int status_vague(fm_reason_t r)
{
	return r == FM_REASON_UNDEFINED || r == FM_REASON_ONHOLD ||
	    r == FM_REASON_SYSTEMERROR || r == FM_REASON_SECURITYERROR ||
	    r == FM_REASON_EXPIRED || r == FM_REASON_NETWORKERROR ||
	    r == FM_REASON_HOSTUNKNOWN || r == FM_REASON_USERUNKNOWN;
}

/* probe - whether the first pass settles on reason r */
static int probe(const decide_t *d, fm_reason_t r, probe_t how)
{
	size_t i;

	switch (how) {
	case PROBE_USER:
		if (d->sreason == FM_REASON_SUSPEND)
			return 0;
		if (d->sreason != FM_REASON_USERUNKNOWN)
			return cmd_is(d, "RCPT") && has(d, r);
		for (i = 0; i < sizeof(fm_user_rivals) /
		     sizeof(fm_user_rivals[0]); i++)
			if (has(d, fm_user_rivals[i]))
				return 0;
		return 1;
	case PROBE_FILTER:
		if (d->sreason == FM_REASON_SUSPEND)
			return 0;
		if (d->sreason != FM_REASON_FILTERED &&
		    cmd_is(d, "CONN EHLO HELO MAIL RCPT"))
			return 0;
		return has(d, r) || has(d, FM_REASON_USERUNKNOWN);
	case PROBE_REJECT:
		if (d->sreason == r)
			return 1;
		if (cmd_is(d, "MAIL"))
			return has(d, r);
		if (cmd_is(d, "DATA"))
			return d->sreason != FM_REASON_USERUNKNOWN && has(d, r);
		return (d->sreason == FM_REASON_UNDEFINED ||
			d->sreason == FM_REASON_ONHOLD ||
			d->sreason == FM_REASON_SECURITYERROR ||
			d->sreason == FM_REASON_SYSTEMERROR) && has(d, r);
	case PROBE_HOST:
		if (d->sreason == r)
			return !has(d, FM_REASON_NETWORKERROR);
		return has(d, r);
	case PROBE_CONTENT:
		if (has(d, FM_REASON_SPAMDETECTED))
			return 0;
		break;
	case PROBE_PLAIN:
		break;
	}
	return d->sreason == r || has(d, r);
}

/* second_pass - the status, or the text when the status is vague or the
 * diagnostic is not an SMTP reply */
static fm_reason_t second_pass(const decide_t *d, int smtp)
{
	const fm_classify_in_t *in = d->in;
	const char *st = d->out->status;
	size_t i;

	if (!status_vague(d->sreason) && smtp)
		return d->sreason;
	for (i = 0; i < sizeof(fm_pass2) / sizeof(fm_pass2[0]); i++)
		if (has(d, fm_pass2[i]))
			return fm_pass2[i];
	if (d->sreason != FM_REASON_UNDEFINED)
		return d->sreason;
	if (st[0] != '\0' && st[2] == '6')
		return FM_REASON_CONTENTERROR;
	if (st[0] != '\0' && st[2] == '7')
		return FM_REASON_SECURITYERROR;
	if (in->diag_type != NULL && strncasecmp(in->diag_type, "x-unix", 6)
	    == 0)
		return FM_REASON_MAILERERROR;
	if (has(d, FM_REASON_SYNTAXERROR))
		return FM_REASON_SYNTAXERROR;
	if (lower_eq(in->action, "delayed"))
		return FM_REASON_EXPIRED;
	if (cmd_is(d, "EHLO HELO"))
		return FM_REASON_BLOCKED;
	if (in->diagnostic != NULL && in->diagnostic[0] != '\0')
		return FM_REASON_ONHOLD;
	return FM_REASON_UNDEFINED;
}

/* decide_reason - the reason of a failure (see the top of the file) */
static fm_reason_t decide_reason(const fm_classify_in_t *in,
				 fm_classify_out_t *out, const text_hits_t *h)
{
	decide_t d;
	size_t i;
	int smtp;

	d.in = in;
	d.out = out;
	d.sreason = fm_classify_status_reason(out->status);
	d.cmd = in->command ? in->command : "";
	d.h = *h;
	smtp = in->diag_type == NULL || in->diag_type[0] == '\0' ||
	    strcasecmp(in->diag_type, "smtp") == 0;
	for (i = 0; smtp && i < sizeof(fm_pass1) / sizeof(fm_pass1[0]); i++)
		if (probe(&d, fm_pass1[i].reason, fm_pass1[i].probe))
			return fm_pass1[i].reason;
	return second_pass(&d, smtp);
}

/* pattern_status - the status of the first matching row of a reason */
static void pattern_status(const text_hits_t *h, fm_reason_t r,
			   fm_classify_out_t *out)
{
	if (out->status[0] != '\0' || h->first[r] == 0)
		return;
	if (fm_patterns[h->first[r] - 1].status != NULL)
		snprintf(out->status, sizeof(out->status), "%s",
			 fm_patterns[h->first[r] - 1].status);
}

/* class_of - the class a reason and status give a failure */
static fm_class_t class_of(fm_reason_t r, const fm_classify_in_t *in,
			   const fm_classify_out_t *out)
{
	switch (r) {
	case FM_REASON_USERUNKNOWN:
	case FM_REASON_HOSTUNKNOWN:
	case FM_REASON_HASMOVED:
		return FM_CLASS_HARD;
	case FM_REASON_NOTACCEPT:
		if (out->status[0] == '5' ||
		    (out->status[0] == '\0' && out->reply_code >= 500))
			return FM_CLASS_HARD;
		return FM_CLASS_SOFT;
	case FM_REASON_DELIVERED:
		return FM_CLASS_DELIVERED;
	default:
		return lower_eq(in->action, "delayed") ? FM_CLASS_DELAYED :
		    FM_CLASS_SOFT;
	}
}

/* autoreply_reason - what an auto-reply's own text says, if it matters */
static fm_reason_t autoreply_reason(const text_hits_t *h)
{
	fm_reason_t r = first_ranked(h);

	if (r == FM_REASON_USERUNKNOWN || r == FM_REASON_HASMOVED ||
	    r == FM_REASON_SUSPEND)
		return r;
	return FM_REASON_VACATION;
}

/* host_has - whether host (or the domain of an address) holds name at a
 * label boundary: "hotmail." is in "mx1.hotmail.com" and
 * "hotmail.example.com", "docomo.ne.jp" in "mfsmax.docomo.ne.jp" */
static int host_has(const char *host, const char *name)
{
	const char *at, *p;
	size_t nl = strlen(name);

	if (host == NULL || *host == '\0')
		return 0;
	if ((at = strrchr(host, '@')) != NULL)
		host = at + 1;
	for (p = host; (p = strcasestr(p, name)) != NULL; p++)
		if ((p == host || p[-1] == '.') &&
		    (name[nl - 1] == '.' || p[nl] == '\0' || p[nl] == '.'))
			return 1;
	return 0;
}

/* is_empty - whether a string is NULL or "" */
static int is_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

typedef struct {
	const fm_classify_in_t *in;
	const char *status;
	long best;
} rule_hit_t;

/* rule_cb - keep the first rule (in table order) whose host fits */
static int rule_cb(size_t row, size_t off, void *arg)
{
	rule_hit_t *h = arg;
	const char *host = fm_rules[row].host;

	(void)off;
	/* the remote or reporting MTA names the provider; without a remote
	 * MTA, the recipient's domain does */
	if (host != NULL && !host_has(h->in->remote_mta, host) &&
	    !host_has(h->in->reporting_mta, host) &&
	    (!is_empty(h->in->remote_mta) || !host_has(h->in->recipient, host)))
		return 0;
	if (fm_rules[row].status != NULL &&
	    strcmp(fm_rules[row].status, h->status) != 0)
		return 0;
	if (h->best < 0 || (long)row < h->best)
		h->best = (long)row;
	return 0;
}

/* rule_reason - the reason a deciding rule gives, or UNDEFINED; the
 * extra text first, then the normalised pattern text */
static fm_reason_t rule_reason(const fm_classify_in_t *in,
			       const fm_classify_out_t *out, const char *norm,
			       size_t n)
{
	char buf[FM_CLASSIFY_TEXT_MAX];
	rule_hit_t h = { in, out->status, -1 };

	if (rules_index == NULL)
		return FM_REASON_UNDEFINED;
	if (in->extra != NULL)
		fm_matcher_scan(rules_index, buf,
				fm_match_norm(in->extra, strlen(in->extra), buf,
					      sizeof(buf), NULL), rule_cb, &h);
	if (h.best < 0)
		fm_matcher_scan(rules_index, norm, n, rule_cb, &h);
	return h.best < 0 ? FM_REASON_UNDEFINED : fm_rules[h.best].reason;
}

/* fm_classify - decide class, reason and status of one recipient */
void fm_classify(const fm_classify_in_t *in, fm_classify_out_t *out)
{
	char norm[FM_CLASSIFY_TEXT_MAX];
	const char *t = pattern_text(in);
	text_hits_t h;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->reply_code = in->reply_code ? in->reply_code :
	    fm_classify_find_reply(in->diagnostic);
	if (in->kind == FM_KIND_ARF) {
		out->cls = FM_CLASS_COMPLAINT;
		out->reason = FM_REASON_FEEDBACK;
		return;
	}
	pick_status(in, out);
	n = fm_match_norm(t, strlen(t), norm, sizeof(norm), NULL);
	norm_hits(norm, n, &h);
	if (in->kind == FM_KIND_AUTOREPLY) {
		out->reason = autoreply_reason(&h);
		if (out->reason == FM_REASON_VACATION) {
			out->cls = FM_CLASS_AUTOREPLY;
			return;
		}
		pattern_status(&h, out->reason, out);
		out->cls = class_of(out->reason, in, out);
		return;
	}
	if (lower_eq(in->action, "delivered") ||
	    lower_eq(in->action, "relayed") ||
	    lower_eq(in->action, "expanded") || out->status[0] == '2') {
		out->cls = FM_CLASS_DELIVERED;
		out->reason = FM_REASON_DELIVERED;
		return;
	}
	if ((out->reason = rule_reason(in, out, norm, n)) ==
	    FM_REASON_UNDEFINED)
		out->reason = decide_reason(in, out, &h);
	pattern_status(&h, out->reason, out);
	out->cls = class_of(out->reason, in, out);
}

/* fm_class_name - name of a class */
const char *fm_class_name(fm_class_t cls)
{
	static const char *const names[] = {
		"unknown", "hard", "soft", "delayed", "autoreply",
		"complaint", "delivered",
	};

	if ((unsigned)cls >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[cls];
}

/* fm_reason_name - name of a reason */
const char *fm_reason_name(fm_reason_t reason)
{
	if ((unsigned)reason >= FM_REASON_COUNT)
		return "undefined";
	return fm_reason_names[reason];
}

/* fm_reason_by_name - reason for a name, or -1 */
int fm_reason_by_name(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < FM_REASON_COUNT; i++)
		if (strcmp(fm_reason_names[i], name) == 0)
			return i;
	return -1;
}

/* fm_kind_name - name of a report kind */
const char *fm_kind_name(fm_kind_t kind)
{
	static const char *const names[] = {
		"none", "dsn", "arf", "autoreply", "nonstandard",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "none";
	return names[kind];
}
