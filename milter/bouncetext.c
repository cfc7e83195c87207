/*
 * bouncetext - recipients and diagnostics in the text of a bounce
 *
 * Bounce texts are read line by line (bouncetext_scan). A line is a
 * recipient line when it holds an address alone ("  bob@example.org",
 * "<bob@...>:"), starts with one ("<bob@...>: host said ...", "554
 * <bob@...>... "), follows a label of fm_rcpt_labels ("Unknown user:
 * bob@..."), or follows a line ending in a "next" label. Its diagnostic
 * is the rest of the line and the lines below up to a blank line; when
 * those say nothing, the text up to the next recipient, or the
 * paragraphs above the line (bouncetext_late). Addresses that
 * repaddr_skipped() names are never recipients.
 *
 * With add unset the scan adds no recipient: it only gives the ones
 * already read (from DSN fields) the lines of the text that name them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"

/* from_context - whether the address at s follows "from:" or "from <" */
static int from_context(const char *line, const char *s)
{
	const char *b = s - (s - line > 16 ? 16 : s - line);
	char buf[20];
	size_t n = fm_match_norm(b, (size_t)(s - b), buf, sizeof(buf), NULL);

	while (n > 0 && (buf[n - 1] == '<' || buf[n - 1] == ' '))
		n--;
	return (n >= 5 && memcmp(buf + n - 5, "from:", 5) == 0) ||
	    (n >= 4 && memcmp(buf + n - 4, "from", 4) == 0);
}

/* addr_alone - whether only brackets and punctuation surround [s, e) */
static int addr_alone(const char *lead, const char *s, const char *e,
		      const char *eol)
{
	const char *q = lead;

	while (q < s && in_set(*q, "<\"'(["))
		q++;
	if (q != s)
		return 0;
	while (e < eol && in_set(*e, ">\"')]:;,. \t"))
		e++;
	return e == eol;
}

/* rcpt_line - the recipient a bounce text line names, or 0 */
static int rcpt_line(const rep_t *r, const char *p, const char *eol,
		     int after_label, const char **as, const char **ae,
		     const char **diag)
{
	char norm[REP_LINE_MAX];
	size_t map[REP_LINE_MAX], n, off;
	const fm_text_row_t *lab;
	const char *lead = p, *s = NULL, *e = NULL, *q = p;
	int found = 0;

	while (lead < eol && in_set(*lead, " \t>*-"))
		lead++;
	if (eol - lead > 4 && in_set(lead[0], "245") &&
	    isdigit((unsigned char)lead[1]) &&
	    isdigit((unsigned char)lead[2]) && lead[3] == ' ')
		lead += 4;
	while (!found && repaddr_next(q, eol, &s, &e)) {
		found = !from_context(p, s) &&
		    !repaddr_skipped(r, s, (size_t)(e - s),
				     addr_alone(lead, s, e, eol));
		q = e;
	}
	if (!found)
		return 0;
	*as = s;
	*ae = e;
	*diag = e;
	/* address first on the line: "<a@b>:", "a@b ... text", "  a@b" */
	q = lead;
	while (q < s && in_set(*q, "<\"'(["))
		q++;
	if (q == s || after_label) {
		/* "a@b <c@d>: malformed address" names c@d */
		const char *q2, *e2;

		if ((s == p || s[-1] != '<') &&
		    repaddr_next(e, eol, &q2, &e2) && q2[-1] == '<' &&
		    e2 + 1 < eol && e2[0] == '>' && e2[1] == ':' &&
		    (e2 - q2 != e - s ||
		     strncasecmp(q2, s, (size_t)(e - s)))) {
			*as = q2;
			*ae = *diag = e2;
		}
		return 1;
	}
	n = reptable_norm(p, eol, norm, sizeof(norm), map);
	if ((lab = reptable_hit(TB_LABEL, norm, n, &off)) != NULL &&
	    strcmp(lab->value, "next") != 0 && p + map[off] < s) {
		if (strcmp(lab->value, "says") == 0)
			*diag = p;
		return 1;
	}
	return 0;
}

/* ends_with_next_label - whether a line ends with a "next" label */
static int ends_with_next_label(const char *p, const char *eol)
{
	char norm[REP_LINE_MAX];
	const fm_text_row_t *lab;
	const char *e = eol;
	size_t n, off;

	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == p || e[-1] != ':')	/* every "next" label ends so */
		return 0;
	n = reptable_norm(p, eol, norm, sizeof(norm), NULL);
	lab = reptable_hit(TB_LABEL, norm, n, &off);
	return lab != NULL && strcmp(lab->value, "next") == 0 &&
	    off + strlen(lab->pattern) >= n;
}

/* close_block - give a recipient the diagnostic block just read (less a
 * leading copy of its own address) */
static void close_block(rep_t *r, wrcpt_t *w, const char *ds, const char *de,
			const char *above)
{
	const char *s, *e;

	if (w == NULL || ds == NULL)
		return;
	for (;;) {
		while (ds < de && in_set(*ds, " \t\n>:;,.)]\"'"))
			ds++;
		if (ds < de && *ds == '<' && repaddr_next(ds, de, &s, &e) &&
		    s == ds + 1 && w->addr != NULL &&
		    strlen(w->addr) == (size_t)(e - s) &&
		    strncasecmp(w->addr, s, (size_t)(e - s)) == 0) {
			ds = e;
			continue;
		}
		break;
	}
	if (de <= ds)
		return;
	if (w->diag == NULL) {
		w->diag = repmem_diag(r, ds, (size_t)(de - ds));
		if (above != NULL)
			w->before = above;	/* what led up to this block */
	} else if (w->block == NULL)
		w->block = repmem_diag(r, ds, (size_t)(de - ds));
}

/*
 * bouncetext_scan - find recipient lines in a bounce text; add new recipients
 * when add is set, otherwise only fill in missing diagnostics
 */
void bouncetext_scan(rep_t *r, const char *text, size_t len, int add)
{
	const char *p = text, *end = text + len, *eol, *ds = NULL, *de = NULL;
	const char *as, *ae, *diag, *para = text, *lps = NULL, *above = NULL;
	wrcpt_t *cur = NULL, *last = NULL;
	unsigned lines = 0;
	int label = 0, expanded = 0;

	for (; p < end && !r->nomem; p = eol + 1) {
		expanded = p > text + 14 && p[-1] == '\n' &&
		    strncasecmp(p - 14, "(expanded from", 14) == 0;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (++lines > FM_REPORT_MAX_LINES) {
			r->out->flags |= FM_REPORT_TRUNCATED | FM_REPORT_LIM_LINES;
			break;
		}
		if (dsnfield_blank(p, eol)) {
			close_block(r, cur, ds, de, above);
			if (p > para + 1 && cur == NULL)
				lps = para;	/* the last paragraph of text */
			cur = NULL;
			para = eol;
			continue;
		}
		if (!expanded && rcpt_line(r, p, eol, label, &as, &ae, &diag) &&
		    (cur == NULL || cur->addr == NULL ||
		     strlen(cur->addr) != (size_t)(ae - as) ||
		     strncasecmp(cur->addr, as, (size_t)(ae - as)) != 0)) {
			char addr[ADDR_MAX];
			wrcpt_t *w;

			memcpy(addr, as, (size_t)(ae - as));
			addr[ae - as] = '\0';
			if ((w = repmem_rcpt_find(r, addr)) == NULL && !add) {
				de = eol;	/* not one of ours: go on */
				continue;
			}
			close_block(r, cur, ds, de, above);
			if (last != NULL && last->until == NULL)
				last->until = p;
			if ((cur = w) == NULL &&
			    (cur = repmem_rcpt_new(r)) != NULL)
				cur->addr = repmem_copy(r, as,
							(size_t)(ae - as));
			/* this paragraph and the one above */
			above = NULL;
			if (lps != NULL || p > para + 1)
				above = repmem_diag(r, lps ? lps : para,
						    (size_t)(p - (lps ? lps :
								  para)));
			if (cur != NULL && cur->after == NULL) {
				cur->after = eol;
				cur->line = repmem_copy(r, p,
							(size_t)(eol - p));
				cur->before = above;
				last = cur;
			} else if (cur != NULL) {
				cur->line2 = repmem_copy(r, p,
							 (size_t)(eol - p));
			}
			ds = diag;
			de = eol;
			label = 0;
			continue;
		}
		label = ends_with_next_label(p, eol);
		de = eol;
	}
	close_block(r, cur, ds, de, above);
	if (last != NULL && last->until == NULL)
		last->until = end;
}

/* bouncetext_late - text after a recipient for those whose block was empty */
void bouncetext_late(rep_t *r)
{
	size_t i;

	for (i = 0; i < r->nrc; i++) {
		wrcpt_t *w = &r->rc[i];

		if (w->diag == NULL && w->after != NULL && w->until > w->after)
			close_block(r, w, w->after, w->until, NULL);
		if (w->diag == NULL && w->before != NULL)
			w->diag = w->before;
		/* named by a header or in passing: the whole text tells why */
		if (w->diag == NULL && r->errlen > 0 && (w->from_header ||
		    (!r->dsn_in_text && w->addr != NULL && w->addr[0] &&
		     strcasestr(r->errtext, w->addr) != NULL)))
			w->diag = repmem_diag(r, r->errtext, r->errlen);
	}
}
