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
 * The pattern matcher is also used by the report parser for its own
 * tables. A matcher indexes every row by the first two octets of its
 * pattern (hashed into FM_MATCH_BUCKETS lists); a scan looks each text
 * position up once and compares only the few rows in that list. Texts are
 * normalised first (fm_match_norm) so that patterns need no case or white
 * space variants.
 *
 * fm_classify_init() builds the indexes of fm_patterns, fm_rules and
 * fm_command_texts once (pthread_once); they are never modified
 * afterwards, so any number of threads may classify.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem, strcasestr */
#endif

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"

#define FM_MATCH_BUCKETS 4096
#define FM_CLASSIFY_TEXT_MAX 8192	/* octets of a text the patterns see */
#define FM_MATCH_GAP 160	/* most octets a '*' in a pattern stands for */

struct fm_matcher {
	const char **pat;	/* pattern of each row */
	size_t *plen;		/* octets before the first '*' */
	size_t nrows;
	uint32_t start[FM_MATCH_BUCKETS + 1];	/* bucket b: rows[start[b]..] */
	uint32_t *rows;		/* row numbers grouped by bucket */
};

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
static fm_matcher_t *commands_index;	/* likewise */

/* match_hash - bucket of a two-octet prefix */
static inline unsigned match_hash(unsigned char a, unsigned char b)
{
	return ((unsigned)a * 31u + (unsigned)b) & (FM_MATCH_BUCKETS - 1);
}

/* fm_matcher_new - index a table of rows whose first member is a pattern */
fm_matcher_t *fm_matcher_new(const void *rows, size_t nrows, size_t stride)
{
	fm_matcher_t *m;
	uint32_t *fill = NULL;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->nrows = nrows;
	m->pat = calloc(nrows + 1, sizeof(*m->pat));
	m->plen = calloc(nrows + 1, sizeof(*m->plen));
	m->rows = calloc(nrows + 1, sizeof(*m->rows));
	fill = calloc(FM_MATCH_BUCKETS, sizeof(*fill));
	if (m->pat == NULL || m->plen == NULL || m->rows == NULL ||
	    fill == NULL)
		goto fail;
	for (i = 0; i < nrows; i++) {
		const char *p = *(const char *const *)
		    ((const char *)rows + i * stride);
		const char *star = p ? strchr(p, '*') : NULL;

		if (p == NULL)
			goto fail;
		m->pat[i] = p;
		m->plen[i] = star ? (size_t)(star - p) : strlen(p);
		if (m->plen[i] < 2)
			goto fail;
		m->start[match_hash((unsigned char)p[0],
				    (unsigned char)p[1]) + 1]++;
	}
	for (i = 1; i <= FM_MATCH_BUCKETS; i++)
		m->start[i] += m->start[i - 1];
	for (i = 0; i < nrows; i++) {
		unsigned b = match_hash((unsigned char)m->pat[i][0],
					(unsigned char)m->pat[i][1]);

		m->rows[m->start[b] + fill[b]++] = (uint32_t)i;
	}
	free(fill);
	return m;
fail:
	free(fill);
	fm_matcher_free(m);
	return NULL;
}

/* fm_matcher_free - release a matcher */
void fm_matcher_free(fm_matcher_t *m)
{
	if (m == NULL)
		return;
	free(m->pat);
	free(m->plen);
	free(m->rows);
	free(m);
}

/* match_rest - whether the fragments after the first '*' follow at pos */
static int match_rest(const char *pat, const char *norm, size_t len,
		      size_t pos)
{
	const char *frag = strchr(pat, '*');

	while (frag != NULL) {
		const char *next, *hit;
		size_t flen;

		frag++;
		next = strchr(frag, '*');
		flen = next ? (size_t)(next - frag) : strlen(frag);
		if (flen > 0) {
			size_t span = len - pos;

			if (span > FM_MATCH_GAP + flen)
				span = FM_MATCH_GAP + flen;
			if (pos >= len ||
			    (hit = memmem(norm + pos, span, frag, flen))
			    == NULL)
				return 0;
			pos = (size_t)(hit - norm) + flen;
		}
		frag = next;
	}
	return 1;
}

/* fm_matcher_scan - report every match of every row in norm */
size_t fm_matcher_scan(const fm_matcher_t *m, const char *norm, size_t len,
		       int (*cb)(size_t row, size_t off, void *arg),
		       void *arg)
{
	size_t i, k, found = 0;

	if (m == NULL || len < 2)
		return 0;
	for (i = 0; i + 1 < len; i++) {
		unsigned b = match_hash((unsigned char)norm[i],
					(unsigned char)norm[i + 1]);

		for (k = m->start[b]; k < m->start[b + 1]; k++) {
			uint32_t r = m->rows[k];
			size_t pl = m->plen[r];

			if (pl > len - i ||
			    memcmp(norm + i, m->pat[r], pl) != 0)
				continue;
			if (!match_rest(m->pat[r], norm, len, i + pl))
				continue;
			found++;
			if (cb(r, i, arg))
				return found;
		}
	}
	return found;
}

/* best_cb - keep the lowest row number */
static int best_cb(size_t row, size_t off, void *arg)
{
	long *best = arg;

	(void)off;
	if (*best < 0 || (long)row < *best)
		*best = (long)row;
	return 0;
}

/* fm_matcher_best - lowest matching row, or -1 */
long fm_matcher_best(const fm_matcher_t *m, const char *norm, size_t len)
{
	long best = -1;

	fm_matcher_scan(m, norm, len, best_cb, &best);
	return best;
}

/* fm_match_norm - lowercase, one space for each white space run */
size_t fm_match_norm(const char *text, size_t n, char *out, size_t size,
		     size_t *map)
{
	size_t i, o = 0;
	int space = 1;		/* drop leading white space */

	if (size == 0)
		return 0;
	for (i = 0; i < n && o + 1 < size; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			if (space)
				continue;
			space = 1;
			c = ' ';
		} else {
			space = 0;
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
		}
		if (map != NULL)
			map[o] = i;
		out[o++] = (char)c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

/* classify_init_once - build the index of fm_patterns */
static void classify_init_once(void)
{
	classify_index = fm_matcher_new(fm_patterns, fm_patterns_n,
					sizeof(fm_patterns[0]));
	rules_index = fm_matcher_new(fm_rules, fm_rules_n, sizeof(fm_rules[0]));
	commands_index = fm_matcher_new(fm_command_texts, fm_command_texts_n,
					sizeof(fm_command_texts[0]));
}

/* fm_classify_init - build the pattern index once */
int fm_classify_init(void)
{
	if (pthread_once(&classify_once, classify_init_once) != 0)
		return -1;
	return classify_index != NULL && rules_index != NULL &&
	    commands_index != NULL ? 0 : -1;
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

/* status_valid - whether s is "c.s.d" with c 2, 4 or 5 (len octets) */
static int status_valid(const char *s, size_t len)
{
	size_t i = 2, n;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	for (n = 0; i < len && isdigit((unsigned char)s[i]); i++)
		n++;
	if (n < 1 || n > 3 || i >= len || s[i] != '.')
		return 0;
	for (i++, n = 0; i < len && isdigit((unsigned char)s[i]); i++)
		n++;
	return n >= 1 && n <= 3 && i == len;
}

/* status_at - length of a status code starting at p, or 0 */
static size_t status_at(const char *text, const char *p)
{
	size_t n = 0;

	if (p > text && (isdigit((unsigned char)p[-1]) || p[-1] == '.' ||
			 isalpha((unsigned char)p[-1])))
		return 0;
	while (n < FM_STATUS_MAX - 1 &&
	       (isdigit((unsigned char)p[n]) || p[n] == '.'))
		n++;
	if (n > 0 && p[n - 1] == '.')	/* end of a sentence */
		n--;
	if (isalpha((unsigned char)p[n]) || !status_valid(p, n))
		return 0;
	return n;
}

/* after_reply - whether the code at p follows a reply code or '#':
 * "550 5.1.1", "550-5.1.1", "550-'5.7.1", "(#5.0.0)" */
static int after_reply(const char *text, const char *p)
{
	if (p > text && p[-1] == '#')
		return 1;
	if (p > text && p[-1] == '\'')
		p--;
	return p - text >= 4 && isdigit((unsigned char)p[-2]) &&
	    isdigit((unsigned char)p[-3]) && (p[-1] == ' ' || p[-1] == '-') &&
	    (p[-4] == '4' || p[-4] == '5');
}

/*
 * fm_classify_find_status - the status code a text gives: the last one
 * after a reply code ("554 4.4.7 Message expired <421 4.4.2 Connection
 * timed out>" ends with the cause), else the first anywhere
 */
int fm_classify_find_status(const char *text, char out[FM_STATUS_MAX])
{
	const char *p, *first = NULL, *last = NULL;
	size_t n, firstn = 0, lastn = 0;

	out[0] = '\0';
	if (text == NULL)
		return -1;
	for (p = text; *p; p++) {
		if ((*p != '4' && *p != '5' && *p != '2') ||
		    (n = status_at(text, p)) == 0)
			continue;
		if (first == NULL) {
			first = p;
			firstn = n;
		}
		if (*p != '2' && after_reply(text, p)) {
			last = p;
			lastn = n;
		}
		p += n - 1;
	}
	if (last != NULL) {
		first = last;
		firstn = lastn;
	}
	if (first == NULL)
		return -1;
	memcpy(out, first, firstn);
	out[firstn] = '\0';
	return 0;
}

/* fm_classify_find_reply - first SMTP reply code (4xx/5xx, else 2xx) */
int fm_classify_find_reply(const char *text)
{
	const unsigned char *p, *t = (const unsigned char *)text;
	int ok = 0;

	if (text == NULL)
		return 0;
	for (p = t; *p; p++) {
		if (!isdigit(p[0]) || !isdigit(p[1]) || !isdigit(p[2]) ||
		    (p > t && (isalnum(p[-1]) || p[-1] == '.' ||
			       p[-1] == '-' || p[-1] == '+' || p[-1] == '/')) ||
		    (p[3] != ' ' && p[3] != '-' && p[3] != '\0' &&
		     p[3] != '\n' && p[3] != ',' && p[3] != ')'))
			continue;
		if ((p[0] == '4' || p[0] == '5') && p[1] <= '5' && p[2] >= '0')
			return (p[0] - '0') * 100 + (p[1] - '0') * 10 +
			    (p[2] - '0');
		if (p[0] == '2' && p[1] == '5' && ok == 0)
			ok = 200 + 50 + (p[2] - '0');
	}
	return ok;
}

/* status_reason - the reason a status code implies, or UNDEFINED */
static fm_reason_t status_reason(const char *status)
{
	size_t i;

	if (status == NULL || strlen(status) < 5)
		return FM_REASON_UNDEFINED;
	if (status[0] == '2')
		return FM_REASON_DELIVERED;
	for (i = 0; i < fm_status_reasons_n; i++) {
		if (strcmp(fm_status_reasons[i].code, status) == 0)
			return fm_status_reasons[i].reason;
	}
	return FM_REASON_UNDEFINED;
}

/* fm_classify_status_reason - the reason a status code implies */
fm_reason_t fm_classify_status_reason(const char *status)
{
	return status_reason(status);
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

	if (in->status != NULL && status_valid(in->status, strlen(in->status)))
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
	d.sreason = status_reason(out->status);
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

/* fm_classify_find_command - the SMTP command a text names, or "" */
const char *fm_classify_find_command(const char *text)
{
	char buf[FM_CLASSIFY_TEXT_MAX];
	const char *found = "", *p;
	size_t i, n;
	long row;

	if (text == NULL || *text == '\0')
		return "";
	n = fm_match_norm(text, strlen(text), buf, sizeof(buf), NULL);
	if (commands_index != NULL &&
	    (row = fm_matcher_best(commands_index, buf, n)) >= 0)
		return fm_command_texts[row].value;
	for (i = 0; i < fm_command_words_n; i++) {
		const char *w = fm_command_words[i].pattern;
		int single = strchr(w, ' ') == NULL;

		n = strlen(w);
		for (p = text; (p = strstr(p, w)) != NULL; p += n) {
			/* a word, not in DATABASE@EXAMPLE.JP and such */
			if (single &&
			    ((p > text && (isalnum((unsigned char)p[-1]) ||
					   p[-1] == '@' || p[-1] == '.')) ||
			     isalnum((unsigned char)p[n]) || p[n] == '@' ||
			     (p[n] == '.' && isalnum((unsigned char)p[n + 1]))))
				continue;
			found = fm_command_words[i].value;
			break;
		}
	}
	return found;
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
