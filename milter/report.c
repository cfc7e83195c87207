/*
 * report - what a returned message says: bounces, delay notices,
 * auto-replies and complaints
 *
 * fm_report_parse() runs the whole inbound pipeline over one message:
 *
 *	1. mime.c lists the parts (GMime does all MIME work);
 *	2. gather() finds the bounce text (the text parts before the
 *	   returned message, or an HTML part made plain) and the returned
 *	   message's header block (a message/rfc822 or text/rfc822-headers
 *	   part, or the text after a line of fm_original_markers);
 *	3. the report is read by the first reader that applies:
 *	   read_complaint (message/feedback-report, or a provider header of
 *	   fm_complaint_texts), read_dsn (message/delivery-status and
 *	   message/global-delivery-status parts, or DSN fields in the text),
 *	   read_ses (Amazon SES JSON), read_bounce (the text of an MTA that
 *	   sends no DSN part), read_autoreply (RFC 3834 and vacation notices);
 *	4. finish() classifies each recipient (classify.c).
 *
 * DSN and feedback report bodies are header-like blocks: hb_next() reads
 * them one field at a time (continuation lines joined); a blank line or a
 * new Final-Recipient starts the next recipient.
 *
 * Bounce texts are read line by line (bounce_scan). A line is a recipient
 * line when it holds an address alone ("  bob@example.org", "<bob@...>:"),
 * starts with one ("<bob@...>: host said ...", "554 <bob@...>... "),
 * follows a label of fm_rcpt_labels ("Unknown user: bob@..."), or follows a
 * line ending in a "next" label. Its diagnostic is the rest of the line and
 * the lines below up to a blank line; when those say nothing, the text up
 * to the next recipient, or the paragraphs above the line. Addresses of
 * postmasters, and (unless alone on their line) of the sender and of the
 * report's own From and To, are never recipients. For DSN recipients the
 * text only adds context: the lines that name them go to the classifier
 * beside the Diagnostic-Code. X-Failed-Recipients and the To of the
 * returned message are the last resort.
 *
 * The returned message's Message-ID and Return-Path (or the envelope-from
 * of its first Received field) identify the send.
 *
 * Results live in an arena released by fm_report_free(); every string is
 * cleaned on the way in (clean_cap: UTF-8, no control octets, bounded).
 * No static mutable state: the table matchers are built once by
 * fm_report_init() (pthread_once) and only read afterwards.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem, strcasestr */
#endif

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"

#define ARENA_BLOCK 16384
#define ADDR_MAX 320		/* longest address taken from a text */
#define SCAN_WINDOW 4096	/* octets of a text matched against tables */
#define DIAG_MAX 4096		/* octets of a diagnostic kept to classify */

typedef struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
} arena_block_t;

/* One recipient while the report is read; strings are cleaned copies. */
typedef struct {
	const char *addr, *orig, *action, *status, *remote, *diag,
	    *diag_type, *command, *feedback;
	const char *after, *until;	/* text after its line (late diag) */
	const char *block;	/* its lines of a bounce text, beside a DSN */
	const char *line;	/* the text line that named it first */
	const char *line2;	/* the line that named it last */
	const char *category;	/* a bounce category field (PowerMTA) */
	const char *before;	/* the paragraph above its line */
	int from_header;	/* named by a header: the whole text tells */
	int reply;
} wrcpt_t;

typedef struct {
	arena_block_t **arena;
	fm_mime_t *m;
	fm_report_t *out;
	wrcpt_t *rc;
	size_t nrc;
	const char *reporting_mta;
	const char *orig_hdrs;	/* header block of the returned message */
	size_t orig_len;
	const char *errtext;	/* bounce text before the returned message */
	size_t errlen;
	const char *skip[4];	/* addresses that are never recipients */
	const char *orig_sender;
	int delayed;		/* the text says it is only a warning */
	int dsn_in_text;	/* the DSN fields came from a text part */
	int nomem;
} rep_t;

enum { TB_BOUNCE_SUBJ, TB_BOUNCE_TEXT, TB_AUTO_SUBJ, TB_ORIGINAL, TB_DELAY,
	TB_LABEL, TB_COUNT };

static pthread_once_t report_once = PTHREAD_ONCE_INIT;
static fm_matcher_t *report_tables[TB_COUNT];	/* built under report_once */
static int report_init_status = -1;

/* arena_alloc - n octets that live until fm_report_free */
static void *arena_alloc(rep_t *r, size_t n)
{
	arena_block_t *b = *r->arena;

	n = (n + 7) & ~(size_t)7;
	if (b == NULL || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + size)) == NULL) {
			r->nomem = 1;
			return NULL;
		}
		b->next = *r->arena;
		b->used = 0;
		b->size = size;
		*r->arena = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/* utf8_len - length of the valid UTF-8 sequence at p, or 0 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return len;
}

/*
 * clean_cap - arena copy of n octets: white space and control octets
 * become single spaces, invalid UTF-8 becomes '?', trimmed, at most cap
 * octets (cut at a character boundary).
 */
static const char *clean_cap(rep_t *r, const char *src, size_t n, size_t cap)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;
	char *d;
	int space = 1;

	if (cap > n)
		cap = n;
	if ((d = arena_alloc(r, cap + 1)) == NULL)
		return "";
	while (i < n && o < cap) {
		size_t k;

		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			if (!space)
				d[o++] = ' ';
			space = 1;
			i++;
			continue;
		}
		space = 0;
		if ((k = utf8_len(s + i, n - i)) == 0) {
			d[o++] = '?';
			i++;
			continue;
		}
		if (o + k > cap)
			break;
		memcpy(d + o, s + i, k);
		o += k;
		i += k;
	}
	while (o > 0 && d[o - 1] == ' ')
		o--;
	d[o] = '\0';
	return d;
}

/* clean_copy - clean_cap to the size of a reported value */
static const char *clean_copy(rep_t *r, const char *src, size_t n)
{
	return clean_cap(r, src, n, FM_REPORT_MAX_FIELD);
}

/* clean_diag - clean_cap to the size kept for classification */
static const char *clean_diag(rep_t *r, const char *src, size_t n)
{
	return clean_cap(r, src, n, DIAG_MAX);
}

/* str0 - "" for NULL */
static const char *str0(const char *s)
{
	return s ? s : "";
}

/* new_rcpt - the next working recipient, or NULL past the limit */
static wrcpt_t *new_rcpt(rep_t *r)
{
	if (r->nrc >= FM_REPORT_MAX_RCPTS) {
		r->out->flags |= FM_REPORT_TRUNCATED;
		return NULL;
	}
	if (r->rc == NULL &&
	    (r->rc = arena_alloc(r, FM_REPORT_MAX_RCPTS * sizeof(*r->rc)))
	    == NULL)
		return NULL;
	memset(&r->rc[r->nrc], 0, sizeof(r->rc[0]));
	return &r->rc[r->nrc++];
}

/* find_rcpt - the working recipient with address addr, or NULL */
static wrcpt_t *find_rcpt(rep_t *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->nrc; i++)
		if (r->rc[i].addr && strcasecmp(r->rc[i].addr, addr) == 0)
			return &r->rc[i];
	return NULL;
}

/* ---- addresses ---- */

/* in_set - whether octet c (not NUL) is one of set */
static int in_set(unsigned char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* is_local_char - octet allowed in a local part we extract */
static int is_local_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || in_set(c, "!#$%&'*+-/=?^_`{|}~.");
}

/* is_domain_char - octet allowed in a domain we extract; UTF-8 only in
 * fields (in running text an address may run into the next word of a
 * script that has no spaces) */
static int is_domain_char(unsigned char c, int utf8)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' ||
	    (utf8 && c >= 0x80);
}

/*
 * addr_span - the address around the '@' at at, within [p, end): *as and
 * *ae delimit it. A quoted local part ("a..b"@c) keeps its quotes. With
 * strict set (running text) the domain needs a dot and a letter and is
 * ASCII; otherwise (a field) it may be a bare host name or UTF-8.
 */
static int addr_span(const char *p, const char *end, const char *at,
		     int strict, const char **as, const char **ae)
{
	const char *s, *e;
	int dot = 0, alpha = 0;

	if (at > p + 1 && at[-1] == '"') {
		for (s = at - 2; s > p && *s != '"' && *s != '<' && *s != ' ';)
			s--;
		if (*s != '"')
			s = at;
	} else {
		for (s = at; s > p && is_local_char((unsigned char)s[-1]); s--)
			;
		while (s < at && *s == '.')
			s++;
	}
	for (e = at + 1; e < end && is_domain_char((unsigned char)*e, !strict);
	     e++) {
		dot |= *e == '.';
		alpha |= isalpha((unsigned char)*e);
	}
	while (e > at + 1 && (e[-1] == '.' || e[-1] == '-')) {
		e--;
		dot = memchr(at + 1, '.', (size_t)(e - at - 1)) != NULL;
	}
	if (s >= at || e <= at + 1 || e - s >= ADDR_MAX ||
	    (strict && (!dot || !alpha)))
		return 0;
	*as = s;
	*ae = e;
	return 1;
}

/* next_addr - the next address in [p, end), see addr_span */
static int next_addr_how(const char *p, const char *end, int strict,
			 const char **as, const char **ae)
{
	const char *at;

	for (; p < end && (at = memchr(p, '@', (size_t)(end - p))) != NULL;
	     p = at + 1)
		if (addr_span(p, end, at, strict, as, ae))
			return 1;
	return 0;
}

/* next_addr - the next address in a text (dotted domains only) */
static int next_addr(const char *p, const char *end, const char **as,
		     const char **ae)
{
	return next_addr_how(p, end, 1, as, ae);
}

/* addr_copy - cleaned copy of the first address in a field value (any
 * domain, "user@mailhub" too), or NULL */
static const char *addr_copy(rep_t *r, const char *p, const char *end)
{
	const char *s, *e;

	if (!next_addr_how(p, end, 0, &s, &e))
		return NULL;
	return clean_copy(r, s, (size_t)(e - s));
}

/* addr_skipped - whether an address is not a recipient: a postmaster,
 * or (unless alone on its line) the sender or the report's own From/To */
static int addr_skipped(const rep_t *r, const char *s, size_t n, int alone)
{
	static const char *const locals[] = {
		"mailer-daemon@", "postmaster@", "mail-daemon@",
	};
	size_t i;

	for (i = 0; i < sizeof(locals) / sizeof(locals[0]); i++)
		if (n > strlen(locals[i]) &&
		    strncasecmp(s, locals[i], strlen(locals[i])) == 0)
			return 1;
	for (i = 0; !alone && i < sizeof(r->skip) / sizeof(r->skip[0]); i++)
		if (r->skip[i] && strlen(r->skip[i]) == n &&
		    strncasecmp(r->skip[i], s, n) == 0)
			return 1;
	return 0;
}

/* ---- header-like blocks ---- */

typedef struct {
	const char *name, *val;
	size_t nlen, vlen;
} hfield_t;

/* blank_line - whether [p, e) holds only spaces and tabs */
static int blank_line(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p == e;
}

/*
 * hb_next - the next field of a header-like block: 1 with f filled, 2 for
 * a blank line, 0 at the end. Lines that are no field are skipped.
 */
static int hb_next(const char **pp, const char *end, hfield_t *f)
{
	const char *p = *pp, *eol, *c, *q;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (blank_line(p, eol)) {
			*pp = eol < end ? eol + 1 : end;
			return 2;
		}
		for (c = p; c < eol && (isalnum((unsigned char)*c) ||
					*c == '-' || *c == '_'); c++)
			;
		f->nlen = (size_t)(c - p);
		while (c < eol && (*c == ' ' || *c == '\t'))
			c++;
		if (f->nlen == 0 || c == eol || *c != ':')
			continue;
		f->name = p;
		f->val = c + 1;
		for (q = eol; q + 1 < end && (q[1] == ' ' || q[1] == '\t');) {
			const char *n = memchr(q + 1, '\n',
					       (size_t)(end - q - 1));

			if (n == NULL)
				n = end;
			if (blank_line(q + 1, n))
				break;
			q = n;
		}
		f->vlen = (size_t)(q - f->val);
		*pp = q < end ? q + 1 : end;
		return 1;
	}
	*pp = end;
	return 0;
}

/* hf_is - whether field f is called name */
static int hf_is(const hfield_t *f, const char *name)
{
	return strlen(name) == f->nlen && strncasecmp(f->name, name, f->nlen)
	    == 0;
}

/* hf_typed - split "type; value": the value part, type into *type */
static const char *hf_typed(rep_t *r, const hfield_t *f, const char **type)
{
	const char *semi = memchr(f->val, ';', f->vlen);
	const char *v = f->val, *e = f->val + f->vlen;

	if (type != NULL)
		*type = "";
	if (semi != NULL) {
		if (type != NULL)
			*type = clean_copy(r, v, (size_t)(semi - v));
		v = semi + 1;
	}
	return clean_copy(r, v, (size_t)(e - v));
}

/* hb_find - value of the first field called name in a block, cleaned */
static const char *hb_find(rep_t *r, const char *text, size_t len,
			   const char *name)
{
	const char *p = text, *end = text + len;
	hfield_t f;
	int k;

	while ((k = hb_next(&p, end, &f)) != 0) {
		if (k == 2)
			return NULL;	/* end of the header block */
		if (hf_is(&f, name))
			return clean_copy(r, f.val, f.vlen);
	}
	return NULL;
}


/* ---- delivery status (RFC 3464, RFC 6533) ---- */

/* dsn_status - the status code in a Status field ("5.1.1 (...)") */
static const char *dsn_status(rep_t *r, const hfield_t *f)
{
	char buf[FM_STATUS_MAX];
	const char *v = clean_copy(r, f->val, f->vlen);

	if (fm_classify_find_status(v, buf) == 0) {
		char *d = arena_alloc(r, strlen(buf) + 1);

		if (d != NULL)
			return strcpy(d, buf);
	}
	return NULL;
}

/* dsn_rcpt_field - apply a per-recipient field to w */
static void dsn_rcpt_field(rep_t *r, wrcpt_t *w, const hfield_t *f)
{
	const char *v;

	if (hf_is(f, "Action")) {
		v = clean_copy(r, f->val, f->vlen);
		w->action = clean_copy(r, v, strcspn(v, " (;"));
	} else if (hf_is(f, "Status")) {
		w->status = dsn_status(r, f);
	} else if (hf_is(f, "Remote-MTA")) {
		v = hf_typed(r, f, NULL);
		if (*v == '[')	/* an address literal */
			v++;
		w->remote = clean_copy(r, v, strcspn(v, " ([]"));
	} else if (hf_is(f, "Diagnostic-Code")) {
		const char *b = f->val, *e = f->val + f->vlen, *semi;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		semi = memchr(b, ';', (size_t)(e - b));
		w->diag_type = "";
		if (semi != NULL && semi > b &&
		    memchr(b, ' ', (size_t)(semi - b)) == NULL) {
			w->diag_type = clean_copy(r, b, (size_t)(semi - b));
			w->diag = clean_diag(r, semi + 1,
					     (size_t)(e - semi - 1));
		} else {
			w->diag = clean_diag(r, b, (size_t)(e - b));
		}
	} else if (hf_is(f, "X-PowerMTA-BounceCategory")) {
		w->category = clean_copy(r, f->val, f->vlen);
	}
}

/* dsn_is_rcpt_field - whether a field belongs to a recipient block */
static int dsn_is_rcpt_field(const hfield_t *f)
{
	return hf_is(f, "Action") || hf_is(f, "Status") ||
	    hf_is(f, "Remote-MTA") || hf_is(f, "Diagnostic-Code") ||
	    hf_is(f, "X-PowerMTA-BounceCategory");
}

/* dsn_message_field - apply a per-message field */
static void dsn_message_field(rep_t *r, const hfield_t *f)
{
	if (hf_is(f, "Reporting-MTA") && r->reporting_mta == NULL)
		r->reporting_mta = hf_typed(r, f, NULL);
	else if (hf_is(f, "X-Postfix-Sender") && r->skip[0] == NULL)
		r->skip[0] = addr_copy(r, f->val, f->val + f->vlen);
}

/* dsn_parse - read every recipient block of a delivery status text */
static void dsn_parse(rep_t *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *v;
	wrcpt_t *cur = NULL;
	hfield_t f;
	int k;

	while ((k = hb_next(&p, end, &f)) != 0 && !r->nomem) {
		if (k == 2) {
			if (cur != NULL && cur->addr != NULL)
				cur = NULL;
		} else if (hf_is(&f, "Final-Recipient")) {
			if ((cur == NULL || cur->addr != NULL) &&
			    (cur = new_rcpt(r)) == NULL)
				break;
			v = hf_typed(r, &f, NULL);
			/* "@relay:user@host" is a source route:
			 * Original-Recipient names the address better */
			cur->addr = v[0] == '@' ? NULL :
			    addr_copy(r, v, v + strlen(v));
			if (cur->addr == NULL)
				cur->addr = "";	/* no address: from the text */
		} else if (hf_is(&f, "Original-Recipient")) {
			/* before or after Final-Recipient in one block */
			if ((cur == NULL || cur->orig) &&
			    (cur = new_rcpt(r)) == NULL)
				break;
			cur->orig = addr_copy(r, f.val, f.val + f.vlen);
		} else if (dsn_is_rcpt_field(&f)) {
			if (cur == NULL && r->nrc > 0 &&
			    r->rc[r->nrc - 1].addr != NULL)
				cur = &r->rc[r->nrc - 1];
			if (cur == NULL && (cur = new_rcpt(r)) == NULL)
				break;
			dsn_rcpt_field(r, cur, &f);
		} else if (cur == NULL) {
			dsn_message_field(r, &f);
		}
	}
}

/* dsn_finish - drop blocks without any address, fill from the original */
static void dsn_finish(rep_t *r)
{
	size_t i, o = 0;

	for (i = 0; i < r->nrc; i++) {
		wrcpt_t *w = &r->rc[i];

		if ((w->addr == NULL || w->addr[0] == '\0') && w->orig != NULL)
			w->addr = w->orig;
		if (w->addr == NULL || w->addr[0] == '\0')
			continue;
		r->rc[o++] = *w;
	}
	r->nrc = o;
}

/* ---- feedback reports (RFC 5965) and provider complaints ---- */

/* arf_parse - recipients and feedback type of a feedback report */
static void arf_parse(rep_t *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *type = NULL;
	hfield_t f;
	wrcpt_t *w;
	size_t i, first = r->nrc;
	int k;

	while ((k = hb_next(&p, end, &f)) != 0 && !r->nomem) {
		if (k == 2)
			continue;
		if (hf_is(&f, "Feedback-Type") && type == NULL)
			type = clean_copy(r, f.val, f.vlen);
		else if (hf_is(&f, "Original-Rcpt-To") &&
			 (w = new_rcpt(r)) != NULL)
			w->addr = addr_copy(r, f.val, f.val + f.vlen);
		else if (hf_is(&f, "Reporting-MTA") && r->reporting_mta == NULL)
			r->reporting_mta = hf_typed(r, &f, NULL);
		else if (hf_is(&f, "Original-Mail-From") && r->skip[0] == NULL)
			r->skip[0] = addr_copy(r, f.val, f.val + f.vlen);
	}
	for (i = first; i < r->nrc; i++)
		r->rc[i].feedback = type;
	if (r->nrc == first && (w = new_rcpt(r)) != NULL)
		w->feedback = type;
}

/* ---- tables ---- */

/* line_norm - normalised copy of a line for the table matchers */
static size_t line_norm(const char *p, const char *e, char *buf, size_t size,
			size_t *map)
{
	return fm_match_norm(p, (size_t)(e - p), buf, size, map);
}

typedef struct {
	const fm_text_row_t *table;
	long row;
	size_t off;
} first_hit_t;

/* first_cb - keep the first match in text order */
static int first_cb(size_t row, size_t off, void *arg)
{
	first_hit_t *h = arg;

	h->row = (long)row;
	h->off = off;
	return 1;
}

/* table_hit - the first row of table t in norm, or NULL */
static const fm_text_row_t *table_hit(int t, const char *norm, size_t len,
				      size_t *off)
{
	static const fm_text_row_t *const tables[TB_COUNT] = {
		fm_bounce_subjects, fm_bounce_texts, fm_autoreply_subjects,
		fm_original_markers, fm_delay_texts, fm_rcpt_labels,
	};
	first_hit_t h = { NULL, -1, 0 };

	fm_matcher_scan(report_tables[t], norm, len, first_cb, &h);
	if (h.row < 0)
		return NULL;
	if (off != NULL)
		*off = h.off;
	return &tables[t][h.row];
}

/* text_hit - the first row of table t in the first SCAN_WINDOW of text */
static const fm_text_row_t *text_hit(int t, const char *text, size_t len)
{
	char norm[SCAN_WINDOW];
	size_t n;

	if (text == NULL)
		return NULL;
	n = fm_match_norm(text, len, norm, sizeof(norm), NULL);
	return table_hit(t, norm, n, NULL);
}

/* ---- bounce texts ---- */

#define LINE_MAX 1024

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
	char norm[LINE_MAX];
	size_t map[LINE_MAX], n, off;
	const fm_text_row_t *lab;
	const char *lead = p, *s = NULL, *e = NULL, *q = p;
	int found = 0;

	while (lead < eol && in_set(*lead, " \t>*-"))
		lead++;
	if (eol - lead > 4 && in_set(lead[0], "245") &&
	    isdigit((unsigned char)lead[1]) &&
	    isdigit((unsigned char)lead[2]) && lead[3] == ' ')
		lead += 4;
	while (!found && next_addr(q, eol, &s, &e)) {
		found = !from_context(p, s) &&
		    !addr_skipped(r, s, (size_t)(e - s),
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

		if ((s == p || s[-1] != '<') && next_addr(e, eol, &q2, &e2) &&
		    q2[-1] == '<' && e2 + 1 < eol && e2[0] == '>' &&
		    e2[1] == ':' && (e2 - q2 != e - s ||
				     strncasecmp(q2, s, (size_t)(e - s)))) {
			*as = q2;
			*ae = *diag = e2;
		}
		return 1;
	}
	n = line_norm(p, eol, norm, sizeof(norm), map);
	if ((lab = table_hit(TB_LABEL, norm, n, &off)) != NULL &&
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
	char norm[LINE_MAX];
	const fm_text_row_t *lab;
	const char *e = eol;
	size_t n, off;

	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == p || e[-1] != ':')	/* every "next" label ends so */
		return 0;
	n = line_norm(p, eol, norm, sizeof(norm), NULL);
	lab = table_hit(TB_LABEL, norm, n, &off);
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
		if (ds < de && *ds == '<' && next_addr(ds, de, &s, &e) &&
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
		w->diag = clean_diag(r, ds, (size_t)(de - ds));
		if (above != NULL)
			w->before = above;	/* what led up to this block */
	} else if (w->block == NULL)
		w->block = clean_diag(r, ds, (size_t)(de - ds));
}

/*
 * bounce_scan - find recipient lines in a bounce text; add new recipients
 * when add is set, otherwise only fill in missing diagnostics
 */
static void bounce_scan(rep_t *r, const char *text, size_t len, int add)
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
			r->out->flags |= FM_REPORT_TRUNCATED;
			break;
		}
		if (blank_line(p, eol)) {
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
			if ((w = find_rcpt(r, addr)) == NULL && !add) {
				de = eol;	/* not one of ours: go on */
				continue;
			}
			close_block(r, cur, ds, de, above);
			if (last != NULL && last->until == NULL)
				last->until = p;
			if ((cur = w) == NULL && (cur = new_rcpt(r)) != NULL)
				cur->addr = clean_copy(r, as,
						       (size_t)(ae - as));
			/* this paragraph and the one above */
			above = lps != NULL || p > para + 1 ?
			    clean_diag(r, lps ? lps : para,
				       (size_t)(p - (lps ? lps : para))) : NULL;
			if (cur != NULL && cur->after == NULL) {
				cur->after = eol;
				cur->line = clean_copy(r, p, (size_t)(eol - p));
				cur->before = above;
				last = cur;
			} else if (cur != NULL) {
				cur->line2 = clean_copy(r, p,
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

/* late_diags - text after a recipient for those whose block was empty */
static void late_diags(rep_t *r)
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
			w->diag = clean_diag(r, r->errtext, r->errlen);
	}
}

/* html_text - the text of an HTML part: tags dropped, breaks kept */
static char *html_text(rep_t *r, const char *s, size_t n, size_t *outlen)
{
	static const struct { const char *ent; char c; } ents[] = {
		{"&nbsp;", ' '}, {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'},
		{"&quot;", '"'}, {"&#39;", '\''},
	};
	char *d = arena_alloc(r, n + 1);
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

/* ---- the parts of the message ---- */

/* cut_original - find a copy of the returned message inside the text */
static void cut_original(rep_t *r)
{
	const char *p = r->errtext, *end, *eol;
	char norm[LINE_MAX];
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
		n = line_norm(p, eol, norm, sizeof(norm), NULL);
		if (table_hit(TB_ORIGINAL, norm, n, NULL) == NULL)
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
	if (total == 0 || (d = arena_alloc(r, total + 1)) == NULL)
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
	hfield_t f;
	int k;

	while ((k = hb_next(&p, end, &f)) == 1) {
		const char *ef;

		if (!hf_is(&f, "Received"))
			continue;
		if ((ef = memmem(f.val, f.vlen, "envelope-from", 13)) == NULL)
			return NULL;
		return addr_copy(r, ef, f.val + f.vlen);
	}
	return NULL;
}

/* gather - bounce text, returned headers and addresses to leave out */
static void gather(rep_t *r)
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
		r->out->orig_message_id = str0(hb_find(r, r->orig_hdrs,
						       r->orig_len,
						       "Message-ID"));
		if ((v = hb_find(r, r->orig_hdrs, r->orig_len, "Return-Path")))
			r->orig_sender = addr_copy(r, v, v + strlen(v));
		if (r->orig_sender == NULL)
			r->orig_sender = envelope_from(r);
		if ((v = hb_find(r, r->orig_hdrs, r->orig_len, "From")))
			r->skip[1] = addr_copy(r, v, v + strlen(v));
	}
	r->skip[0] = r->orig_sender;
	if ((v = fm_mime_header(r->m, "From")) != NULL)
		r->skip[2] = addr_copy(r, v, v + strlen(v));
	if ((v = fm_mime_header(r->m, "To")) != NULL)
		r->skip[3] = addr_copy(r, v, v + strlen(v));
	r->out->subject = clean_copy(r, str0(fm_mime_header(r->m, "Subject")),
				     strlen(str0(fm_mime_header(r->m,
								"Subject"))));
}

/* ---- the kinds of report ---- */

/* header_addrs - one recipient per address of a field of the original */
static void header_addrs(rep_t *r, const char *name, const char *feedback)
{
	const char *v, *p, *s, *e;
	wrcpt_t *w;

	if (r->orig_hdrs == NULL ||
	    (v = hb_find(r, r->orig_hdrs, r->orig_len, name)) == NULL)
		return;
	for (p = v; next_addr(p, v + strlen(v), &s, &e); p = e) {
		if ((w = new_rcpt(r)) == NULL)
			return;
		w->addr = clean_copy(r, s, (size_t)(e - s));
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
			arf_parse(r, p->text, p->len);
			break;
		}
	}
	if (i == np) {
		for (k = 0; k < fm_complaint_texts_n; k++) {
			const char *name = fm_complaint_texts[k].pattern;

			if ((v = fm_mime_header(r->m, name)) == NULL &&
			    (r->orig_hdrs == NULL ||
			     (v = hb_find(r, r->orig_hdrs, r->orig_len, name))
			     == NULL))
				continue;
			if ((w = new_rcpt(r)) == NULL)
				return 1;
			w->addr = addr_copy(r, v, v + strlen(v));
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
		if (r->nrc == 0 && (w = new_rcpt(r)) != NULL)
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
	bounce_scan(r, r->errtext, r->errlen, 1);
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
			dsn_parse(r, p->text, p->len);
	}
	if (best == ~0u && r->errtext != NULL &&
	    strcasestr(r->errtext, "Final-Recipient:") != NULL) {
		dsn_parse(r, r->errtext, r->errlen);
		r->dsn_in_text = 1;
	}
	dsn_from_text(r);
	dsn_finish(r);
	if (r->nrc == 0)
		return 0;
	r->out->kind = FM_KIND_DSN;
	if (r->errtext != NULL)
		bounce_scan(r, r->errtext, r->errlen, 0);
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
	if (subj != NULL && text_hit(TB_BOUNCE_SUBJ, subj, strlen(subj)))
		return 1;
	return r->errtext != NULL &&
	    text_hit(TB_BOUNCE_TEXT, r->errtext, r->errlen) != NULL;
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
		bounce_scan(r, r->errtext, r->errlen, 1);
	if (r->nrc == 0 &&
	    (xf = fm_mime_header(r->m, "X-Failed-Recipients")) != NULL) {
		for (p = xf; next_addr(p, xf + strlen(xf), &s, &e); p = e)
			if ((w = new_rcpt(r)) != NULL) {
				w->addr = clean_copy(r, s, (size_t)(e - s));
				w->from_header = 1;
			}
	}
	if (r->nrc == 0)
		header_addrs(r, "To", NULL);
	if (r->errtext != NULL &&
	    text_hit(TB_DELAY, r->errtext, r->errlen) != NULL)
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
	if (subj != NULL && text_hit(TB_AUTO_SUBJ, subj, strlen(subj)))
		yes = 1;
	if (!yes || r->skip[2] == NULL || (w = new_rcpt(r)) == NULL)
		return 0;
	r->out->kind = FM_KIND_AUTOREPLY;
	w->addr = r->skip[2];
	if (r->errtext != NULL)
		w->diag = clean_diag(r, r->errtext, r->errlen);
	return 1;
}

/* ---- Amazon SES notifications (JSON, possibly inside an SNS envelope) */

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
		return clean_copy(r, v, (size_t)(p - v));
	}
	return NULL;
}

/* json_unescape - arena copy of text with \" \\ and \/ undone */
static char *json_unescape(rep_t *r, const char *s, size_t n, size_t *len)
{
	char *d = arena_alloc(r, n + 1);
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
		    (w = new_rcpt(r)) == NULL)
			return;
		w->addr = json_value(r, p, obj, "emailAddress");
		w->action = json_value(r, p, obj, "action");
		w->status = json_value(r, p, obj, "status");
		if ((w->diag = json_value(r, p, obj, "diagnosticCode")) &&
		    strncasecmp(w->diag, "smtp;", 5) == 0)
			w->diag = clean_copy(r, w->diag + 5,
					     strlen(w->diag + 5));
		w->feedback = feedback;
	}
}

/* read_ses - an Amazon SES bounce, complaint or delivery notification */
static int read_ses(rep_t *r)
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
		r->reporting_mta = clean_copy(r, r->reporting_mta + 4,
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
		for (; close && next_addr(p, close, &s, &e); p = e) {
			if ((w = new_rcpt(r)) == NULL)
				break;
			w->addr = clean_copy(r, s, (size_t)(e - s));
			w->action = "delivered";
			w->diag = json_value(r, js, end, "smtpResponse");
		}
	}
	return r->out->kind != FM_KIND_NONE;
}

/* ---- the result ---- */

/* join2 - "a b" in the arena (a on failure) */
static const char *join2(rep_t *r, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *d = arena_alloc(r, la + lb + 2);

	if (d == NULL)
		return a;
	memcpy(d, a, la);
	d[la] = ' ';
	memcpy(d + la + 1, b, lb + 1);
	return d;
}

/* finish - classify every recipient into the caller's result */
static void finish(rep_t *r)
{
	fm_report_t *out = r->out;
	size_t i;

	if (r->nrc == 0)
		return;
	if ((out->rcpts = arena_alloc(r, r->nrc * sizeof(*out->rcpts))) == NULL)
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
			    w->block : join2(r, w->diag, w->block);
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
			in.context = join2(r, w->before, in.context ?
					   in.context : in.diagnostic);
			fm_classify(&in, &res);
		}
		o->recipient = str0(w->addr);
		o->orig_recipient = str0(w->orig);
		o->cls = res.cls;
		o->reason = res.reason;
		memcpy(o->status, res.status, sizeof(o->status));
		o->action = in.action;
		o->diagnostic = clean_copy(r, str0(w->diag),
					   strlen(str0(w->diag)));
		o->remote_mta = str0(w->remote);
		o->feedback_type = str0(w->feedback);
		o->command = in.command;
		o->reply_code = res.reply_code;
	}
	out->nrcpts = r->nrc;
}

/* report_init_once - build the matchers of the report tables */
static void report_init_once(void)
{
	static const struct { const fm_text_row_t *t; const size_t *n; }
	tabs[TB_COUNT] = {
		{fm_bounce_subjects, &fm_bounce_subjects_n},
		{fm_bounce_texts, &fm_bounce_texts_n},
		{fm_autoreply_subjects, &fm_autoreply_subjects_n},
		{fm_original_markers, &fm_original_markers_n},
		{fm_delay_texts, &fm_delay_texts_n},
		{fm_rcpt_labels, &fm_rcpt_labels_n},
	};
	int i;

	if (fm_mime_init() < 0 || fm_classify_init() < 0)
		return;
	for (i = 0; i < TB_COUNT; i++)
		if ((report_tables[i] = fm_matcher_new(tabs[i].t, *tabs[i].n,
						       sizeof(tabs[i].t[0])))
		    == NULL)
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

/* fm_report_parse - parse and classify one message */
fm_report_status_t fm_report_parse(const char *msg, size_t len,
				   fm_report_t *out)
{
	rep_t r;

	memset(out, 0, sizeof(*out));
	out->reporting_mta = out->orig_message_id = out->orig_sender = "";
	out->subject = "";
	if (report_init_status != 0)
		return FM_REPORT_ERR_INIT;
	memset(&r, 0, sizeof(r));
	if ((out->priv = calloc(1, sizeof(arena_block_t *))) == NULL)
		return FM_REPORT_ERR_NOMEM;
	r.arena = out->priv;
	r.out = out;
	if ((r.m = fm_mime_parse(msg, len)) == NULL) {
		fm_report_free(out);
		return FM_REPORT_ERR_NOMEM;
	}
	if (fm_mime_flags(r.m) & (FM_MIME_TRUNCATED | FM_MIME_TOO_MANY_PARTS |
				  FM_MIME_TOO_DEEP | FM_MIME_TEXT_CUT))
		out->flags |= FM_REPORT_TRUNCATED;
	gather(&r);
	if (!read_complaint(&r) && !read_dsn(&r) && !read_ses(&r) &&
	    !read_bounce(&r))
		read_autoreply(&r);
	late_diags(&r);
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
	arena_block_t *b, *next;

	if (r == NULL || r->priv == NULL)
		return;
	for (b = *(arena_block_t **)r->priv; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
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
