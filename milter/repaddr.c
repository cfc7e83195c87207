/*
 * repaddr - addresses in field values and in running text
 *
 * repaddr_find() finds the next address around an '@': in a field value
 * (strict off) the domain may be a bare host name or UTF-8; in running
 * text (strict on, repaddr_next) it needs a dot and a letter and is
 * ASCII, so that "user@host" in prose and addresses that run into the
 * next word of a script without spaces are not taken. A quoted local
 * part keeps its quotes.
 *
 * repaddr_skipped() tells the addresses that are never recipients: the
 * postmaster's, and (unless alone on their line) the sender's and the
 * report's own From and To (rep_t.skip).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"

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

/* repaddr_next - the next address in [p, end), see addr_span */
int repaddr_find(const char *p, const char *end, int strict,
		 const char **as, const char **ae)
{
	const char *at;

	for (; p < end && (at = memchr(p, '@', (size_t)(end - p))) != NULL;
	     p = at + 1)
		if (addr_span(p, end, at, strict, as, ae))
			return 1;
	return 0;
}

/* repaddr_next - the next address in a text (dotted domains only) */
int repaddr_next(const char *p, const char *end, const char **as,
		 const char **ae)
{
	return repaddr_find(p, end, 1, as, ae);
}

/* repaddr_copy - cleaned copy of the first address in a field value (any
 * domain, "user@mailhub" too), or NULL */
const char *repaddr_copy(rep_t *r, const char *p, const char *end)
{
	const char *s, *e;

	if (!repaddr_find(p, end, 0, &s, &e))
		return NULL;
	return repmem_copy(r, s, (size_t)(e - s));
}

/* repaddr_skipped - whether an address is not a recipient: a postmaster,
 * or (unless alone on its line) the sender or the report's own From/To */
int repaddr_skipped(const rep_t *r, const char *s, size_t n, int alone)
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
