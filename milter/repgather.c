/*
 * repgather - the parts of a report the readers work on
 *
 * repgather() finds, in the parts mime.c lists:
 *
 *	the bounce text	the text parts before the returned message, joined
 *			(or an HTML part made plain when there is no text);
 *	the returned	a message/rfc822 or text/rfc822-headers part, or the
 *	  headers	text after a line of fm_original_markers (which then
 *			ends the bounce text);
 *	identifiers	the returned message's Message-ID and Return-Path (or
 *			the envelope-from of its first Received field);
 *	addresses	that are never recipients (rep_t.skip): the sender,
 *			the returned message's From, the report's From and To.
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

/* html_text - the text of an HTML part: tags dropped, breaks kept */
static char *html_text(rep_t *r, const char *s, size_t n, size_t *outlen)
{
	static const struct { const char *ent; char c; } ents[] = {
		{"&nbsp;", ' '}, {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'},
		{"&quot;", '"'}, {"&#39;", '\''},
	};
	char *d = repmem_alloc(r, n + 1);
	size_t i = 0, o = 0, k;

	if (d == NULL)
		return NULL;
	while (i < n) {
		if (s[i] == '<') {
			const char *gt = memchr(s + i, '>', n - i);
			size_t tl = gt ? (size_t)(gt - (s + i)) + 1 : n - i;

			if (tl >= 3 && (strncasecmp(s + i, "<br", 3) == 0 ||
					strncasecmp(s + i, "</p", 3) == 0 ||
					strncasecmp(s + i, "</d", 3) == 0 ||
					strncasecmp(s + i, "</t", 3) == 0 ||
					strncasecmp(s + i, "<li", 3) == 0))
				d[o++] = '\n';
			i += tl;
			continue;
		}
		for (k = 0; s[i] == '&' && k < sizeof(ents) / sizeof(ents[0]);
		     k++) {
			size_t el = strlen(ents[k].ent);

			if (n - i >= el && strncasecmp(s + i, ents[k].ent, el)
			    == 0)
				break;
		}
		if (s[i] == '&' && k < sizeof(ents) / sizeof(ents[0])) {
			d[o++] = ents[k].c;
			i += strlen(ents[k].ent);
			continue;
		}
		d[o++] = s[i++];
	}
	d[o] = '\0';
	*outlen = o;
	return d;
}

/* cut_original - find a copy of the returned message inside the text */
static void cut_original(rep_t *r)
{
	const char *p = r->errtext, *end, *eol;
	char norm[REP_LINE_MAX];
	unsigned lines = 0;
	size_t n;

	if (p == NULL)
		return;
	end = p + r->errlen;
	for (; p < end && lines < FM_REPORT_MAX_LINES; p = eol + 1, lines++) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol - p < 12 || (size_t)(eol - p) > 200)
			continue;
		n = reptable_norm(p, eol, norm, sizeof(norm), NULL);
		if (reptable_hit(TB_ORIGINAL, norm, n, NULL) == NULL)
			continue;
		if (r->orig_hdrs == NULL) {
			const char *h = eol < end ? eol + 1 : end;

			while (h < end && (*h == '\n' || *h == ' '))
				h++;
			r->orig_hdrs = h;
			r->orig_len = (size_t)(end - h);
		}
		r->errlen = (size_t)(p - r->errtext);
		return;
	}
}

/* join_text - the bounce text: text parts before the returned message */
static void join_text(rep_t *r)
{
	size_t i, total = 0, np = fm_mime_nparts(r->m);
	const fm_part_t *html = NULL;
	char *d;

	for (i = 0; i < np; i++) {
		const fm_part_t *p = fm_mime_part(r->m, i);

		if (p->msg_level > 0 || p->type == FM_PART_MESSAGE ||
		    p->type == FM_PART_HEADERS)
			break;
		if (p->type == FM_PART_TEXT)
			total += p->len + 2;
		else if (p->type == FM_PART_HTML && html == NULL)
			html = p;
	}
	if (total == 0 && html != NULL) {
		r->errtext = html_text(r, html->text, html->len, &r->errlen);
		return;
	}
	if (total == 0 || (d = repmem_alloc(r, total + 1)) == NULL)
		return;
	r->errtext = d;
	for (i = 0; i < np; i++) {
		const fm_part_t *p = fm_mime_part(r->m, i);

		if (p->msg_level > 0 || p->type == FM_PART_MESSAGE ||
		    p->type == FM_PART_HEADERS)
			break;
		if (p->type != FM_PART_TEXT)
			continue;
		memcpy(d + r->errlen, p->text, p->len);
		r->errlen += p->len;
		memcpy(d + r->errlen, "\n\n", 2);
		r->errlen += 2;
	}
	d[r->errlen] = '\0';
}

/* envelope_from - "envelope-from <a@b>" of the first Received field */
static const char *envelope_from(rep_t *r)
{
	const char *p = r->orig_hdrs, *end = p + r->orig_len;
	dsnfield_t f;
	int k;

	while ((k = dsnfield_next(&p, end, &f)) == 1) {
		const char *ef;

		if (!dsnfield_is(&f, "Received"))
			continue;
		if ((ef = memmem(f.val, f.vlen, "envelope-from", 13)) == NULL)
			return NULL;
		return repaddr_copy(r, ef, f.val + f.vlen);
	}
	return NULL;
}

/* repgather - bounce text, returned headers and addresses to leave out */
void repgather(rep_t *r)
{
	size_t i, np = fm_mime_nparts(r->m);
	const char *v;

	for (i = 0; i < np; i++) {
		const fm_part_t *p = fm_mime_part(r->m, i);

		if (p->msg_level == 0 && (p->type == FM_PART_MESSAGE ||
					  p->type == FM_PART_HEADERS)) {
			r->orig_hdrs = p->text;
			r->orig_len = p->len;
			break;
		}
	}
	join_text(r);
	cut_original(r);
	if (r->orig_hdrs != NULL) {
		r->out->orig_message_id = str0(dsnfield_find(r, r->orig_hdrs,
							     r->orig_len,
							     "Message-ID"));
		if ((v = dsnfield_find(r, r->orig_hdrs, r->orig_len,
				       "Return-Path")) != NULL)
			r->orig_sender = repaddr_copy(r, v, v + strlen(v));
		if (r->orig_sender == NULL)
			r->orig_sender = envelope_from(r);
		if ((v = dsnfield_find(r, r->orig_hdrs, r->orig_len, "From")))
			r->skip[1] = repaddr_copy(r, v, v + strlen(v));
	}
	r->skip[0] = r->orig_sender;
	if ((v = fm_mime_header(r->m, "From")) != NULL)
		r->skip[2] = repaddr_copy(r, v, v + strlen(v));
	if ((v = fm_mime_header(r->m, "To")) != NULL)
		r->skip[3] = repaddr_copy(r, v, v + strlen(v));
	v = str0(fm_mime_header(r->m, "Subject"));
	r->out->subject = repmem_copy(r, v, strlen(v));
}
