/*
 * dsnfield - fields of delivery status and feedback report blocks
 *
 * DSN bodies (RFC 3464, RFC 6533), feedback reports (RFC 5965) and
 * header blocks of returned messages are header-like: dsnfield_next()
 * reads them one field at a time, continuation lines joined, and tells a
 * blank line apart (it separates the per-recipient blocks of a DSN).
 * Lines that are no field are skipped, so a DSN pasted into a text part
 * reads as well as a message/delivery-status part.
 *
 * dsnfield_dsn() adds a working recipient per block: a new
 * Final-Recipient (or Original-Recipient) or a blank line after one
 * starts the next; the fields before the first block are the message's
 * (Reporting-MTA, X-Postfix-Sender). dsnfield_finish() drops blocks that
 * name no address. dsnfield_arf() reads a feedback report: its
 * Original-Rcpt-To recipients (or one without an address) and its
 * Feedback-Type.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"

/* dsnfield_blank - whether [p, e) holds only spaces and tabs */
int dsnfield_blank(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p == e;
}

/*
 * dsnfield_next - the next field of a header-like block: 1 with f filled, 2 for
 * a blank line, 0 at the end. Lines that are no field are skipped.
 */
int dsnfield_next(const char **pp, const char *end, dsnfield_t *f)
{
	const char *p = *pp, *eol, *c, *q;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (dsnfield_blank(p, eol)) {
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
			if (dsnfield_blank(q + 1, n))
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

/* dsnfield_is - whether field f is called name */
int dsnfield_is(const dsnfield_t *f, const char *name)
{
	return strlen(name) == f->nlen && strncasecmp(f->name, name, f->nlen)
	    == 0;
}

/* dsnfield_typed - split "type; value": the value part, type into *type */
const char *dsnfield_typed(rep_t *r, const dsnfield_t *f, const char **type)
{
	const char *semi = memchr(f->val, ';', f->vlen);
	const char *v = f->val, *e = f->val + f->vlen;

	if (type != NULL)
		*type = "";
	if (semi != NULL) {
		if (type != NULL)
			*type = repmem_copy(r, v, (size_t)(semi - v));
		v = semi + 1;
	}
	return repmem_copy(r, v, (size_t)(e - v));
}

/* dsnfield_find - value of the first field called name in a block, cleaned */
const char *dsnfield_find(rep_t *r, const char *text, size_t len,
			  const char *name)
{
	const char *p = text, *end = text + len;
	dsnfield_t f;
	int k;

	while ((k = dsnfield_next(&p, end, &f)) != 0) {
		if (k == 2)
			return NULL;	/* end of the header block */
		if (dsnfield_is(&f, name))
			return repmem_copy(r, f.val, f.vlen);
	}
	return NULL;
}

/* dsn_status - the status code in a Status field ("5.1.1 (...)") */
static const char *dsn_status(rep_t *r, const dsnfield_t *f)
{
	char buf[FM_STATUS_MAX];
	const char *v = repmem_copy(r, f->val, f->vlen);

	if (fm_classify_find_status(v, buf) == 0) {
		char *d = repmem_alloc(r, strlen(buf) + 1);

		if (d != NULL)
			return strcpy(d, buf);
	}
	return NULL;
}

/* dsn_rcpt_field - apply a per-recipient field to w */
static void dsn_rcpt_field(rep_t *r, wrcpt_t *w, const dsnfield_t *f)
{
	const char *v;

	if (dsnfield_is(f, "Action")) {
		v = repmem_copy(r, f->val, f->vlen);
		w->action = repmem_copy(r, v, strcspn(v, " (;"));
	} else if (dsnfield_is(f, "Status")) {
		w->status = dsn_status(r, f);
	} else if (dsnfield_is(f, "Remote-MTA")) {
		v = dsnfield_typed(r, f, NULL);
		if (*v == '[')	/* an address literal */
			v++;
		w->remote = repmem_copy(r, v, strcspn(v, " ([]"));
	} else if (dsnfield_is(f, "Diagnostic-Code")) {
		const char *b = f->val, *e = f->val + f->vlen, *semi;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		semi = memchr(b, ';', (size_t)(e - b));
		w->diag_type = "";
		if (semi != NULL && semi > b &&
		    memchr(b, ' ', (size_t)(semi - b)) == NULL) {
			w->diag_type = repmem_copy(r, b, (size_t)(semi - b));
			w->diag = repmem_diag(r, semi + 1,
					      (size_t)(e - semi - 1));
		} else {
			w->diag = repmem_diag(r, b, (size_t)(e - b));
		}
	} else if (dsnfield_is(f, "X-PowerMTA-BounceCategory")) {
		w->category = repmem_copy(r, f->val, f->vlen);
	}
}

/* dsn_is_rcpt_field - whether a field belongs to a recipient block */
static int dsn_is_rcpt_field(const dsnfield_t *f)
{
	return dsnfield_is(f, "Action") || dsnfield_is(f, "Status") ||
	    dsnfield_is(f, "Remote-MTA") || dsnfield_is(f, "Diagnostic-Code") ||
	    dsnfield_is(f, "X-PowerMTA-BounceCategory");
}

/* dsn_message_field - apply a per-message field */
static void dsn_message_field(rep_t *r, const dsnfield_t *f)
{
	if (dsnfield_is(f, "Reporting-MTA") && r->reporting_mta == NULL)
		r->reporting_mta = dsnfield_typed(r, f, NULL);
	else if (dsnfield_is(f, "X-Postfix-Sender") && r->skip[0] == NULL)
		r->skip[0] = repaddr_copy(r, f->val, f->val + f->vlen);
}

/* dsnfield_dsn - read every recipient block of a delivery status text */
void dsnfield_dsn(rep_t *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *v;
	wrcpt_t *cur = NULL;
	dsnfield_t f;
	int k;

	while ((k = dsnfield_next(&p, end, &f)) != 0 && !r->nomem) {
		if (k == 2) {
			if (cur != NULL && cur->addr != NULL)
				cur = NULL;
		} else if (dsnfield_is(&f, "Final-Recipient")) {
			if ((cur == NULL || cur->addr != NULL) &&
			    (cur = repmem_rcpt_new(r)) == NULL)
				break;
			v = dsnfield_typed(r, &f, NULL);
			/* "@relay:user@host" is a source route:
			 * Original-Recipient names the address better */
			cur->addr = v[0] == '@' ? NULL :
			    repaddr_copy(r, v, v + strlen(v));
			if (cur->addr == NULL)
				cur->addr = "";	/* no address: from the text */
		} else if (dsnfield_is(&f, "Original-Recipient")) {
			/* before or after Final-Recipient in one block */
			if ((cur == NULL || cur->orig) &&
			    (cur = repmem_rcpt_new(r)) == NULL)
				break;
			cur->orig = repaddr_copy(r, f.val, f.val + f.vlen);
		} else if (dsn_is_rcpt_field(&f)) {
			if (cur == NULL && r->nrc > 0 &&
			    r->rc[r->nrc - 1].addr != NULL)
				cur = &r->rc[r->nrc - 1];
			if (cur == NULL && (cur = repmem_rcpt_new(r)) == NULL)
				break;
			dsn_rcpt_field(r, cur, &f);
		} else if (cur == NULL) {
			dsn_message_field(r, &f);
		}
	}
}

/* dsnfield_finish - drop blocks without any address, fill from the original */
void dsnfield_finish(rep_t *r)
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

/* dsnfield_arf - recipients and feedback type of a feedback report */
void dsnfield_arf(rep_t *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *type = NULL;
	dsnfield_t f;
	wrcpt_t *w;
	size_t i, first = r->nrc;
	int k;

	while ((k = dsnfield_next(&p, end, &f)) != 0 && !r->nomem) {
		if (k == 2)
			continue;
		if (dsnfield_is(&f, "Feedback-Type") && type == NULL)
			type = repmem_copy(r, f.val, f.vlen);
		else if (dsnfield_is(&f, "Original-Rcpt-To") &&
			 (w = repmem_rcpt_new(r)) != NULL)
			w->addr = repaddr_copy(r, f.val, f.val + f.vlen);
		else if (dsnfield_is(&f, "Reporting-MTA") &&
			 r->reporting_mta == NULL)
			r->reporting_mta = dsnfield_typed(r, &f, NULL);
		else if (dsnfield_is(&f, "Original-Mail-From") &&
			 r->skip[0] == NULL)
			r->skip[0] = repaddr_copy(r, f.val, f.val + f.vlen);
	}
	for (i = first; i < r->nrc; i++)
		r->rc[i].feedback = type;
	if (r->nrc == first && (w = repmem_rcpt_new(r)) != NULL)
		w->feedback = type;
}
