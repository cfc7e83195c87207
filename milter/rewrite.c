/*
 * rewrite - the outbound policy: rewrite an envelope sender or not, and to
 * what
 *
 * The checks run in a fixed order, and the first that applies is the
 * verdict: a null sender is never rewritten (it is a bounce itself); a
 * sender we cannot parse is left alone; a sender already at one of our
 * feedback domains is left alone (no double coding, whoever sends it); a
 * domain that is not configured is not ours; and only trusted clients
 * (TrustedClients, SASL, local submission) send outbound mail.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rewrite.h"

/* fm_addr_strip - the bare address from an envelope argument */
int
fm_addr_strip(const char *raw, char *out, size_t size, int *bracketed)
{
	const char *start = raw, *end, *colon;
	size_t len;

	*bracketed = 0;
	while (isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (end > start && *start == '<') {
		if (end[-1] != '>')
			return -1;
		*bracketed = 1;
		start++;
		end--;
	}
	/* a source route "@a,@b:user@dom" keeps only "user@dom" */
	if (end > start && *start == '@') {
		colon = memchr(start, ':', (size_t)(end - start));
		if (colon == NULL)
			return -1;
		start = colon + 1;
		if (start == end)
			return -1;
	}
	len = (size_t)(end - start);
	if (len >= size || memchr(start, '\0', len) != NULL)
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	for (; len > 0; len--)
		if (out[len - 1] == '<' || out[len - 1] == '>' ||
		    out[len - 1] == '\r' || out[len - 1] == '\n')
			return -1;
	/* "user@domain." is routed as "user@domain" */
	len = strlen(out);
	if (len > 1 && out[len - 1] == '.' && strchr(out, '@') != NULL &&
	    out[len - 2] != '@')
		out[len - 1] = '\0';
	return 0;
}

/* fm_addr_domain - the domain after the last '@' */
const char *
fm_addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || at == addr || at[1] == '\0')
		return NULL;
	return at + 1;
}

/* fm_addr_local - the local part before the last '@' */
int
fm_addr_local(const char *addr, char *out, size_t size)
{
	const char *at = strrchr(addr, '@');
	size_t len = at ? (size_t)(at - addr) : strlen(addr);

	if (len >= size)
		return -1;
	memcpy(out, addr, len);
	out[len] = '\0';
	return 0;
}

/* fm_rewrite_decide - rewrite this sender or not */
fm_rewrite_t
fm_rewrite_decide(const fm_config_t *cfg, const char *envfrom,
		  const fm_trust_t *trust, const fm_domain_t **dom)
{
	char addr[FM_ADDR_MAX];
	const char *domain;
	int bracketed;

	*dom = NULL;
	if (envfrom == NULL)
		return FM_REWRITE_MALFORMED;
	if (fm_addr_strip(envfrom, addr, sizeof(addr), &bracketed) < 0)
		return FM_REWRITE_MALFORMED;
	if (addr[0] == '\0')
		return FM_REWRITE_NULL_SENDER;
	if ((domain = fm_addr_domain(addr)) == NULL)
		return FM_REWRITE_FOREIGN_DOMAIN;
	if (fm_config_feedback_domain(cfg, domain) != NULL)
		return FM_REWRITE_FEEDBACK_SENDER;
	if ((*dom = fm_config_sender_domain(cfg, domain)) == NULL)
		return FM_REWRITE_FOREIGN_DOMAIN;
	if (!trust->addr_trusted && !trust->authenticated &&
	    !trust->local_submission) {
		*dom = NULL;
		return FM_REWRITE_UNTRUSTED;
	}
	return FM_REWRITE_YES;
}

/* fm_rewrite_str - reason word */
const char *
fm_rewrite_str(fm_rewrite_t verdict)
{
	switch (verdict) {
	case FM_REWRITE_YES: return "rewrite";
	case FM_REWRITE_NULL_SENDER: return "null-sender";
	case FM_REWRITE_FEEDBACK_SENDER: return "feedback-sender";
	case FM_REWRITE_FOREIGN_DOMAIN: return "foreign-domain";
	case FM_REWRITE_UNTRUSTED: return "untrusted-client";
	case FM_REWRITE_MALFORMED: return "malformed-sender";
	}
	return "unknown";
}

/* fm_rewrite_address - the new envelope sender */
int
fm_rewrite_address(const char *code, const fm_domain_t *dom, char *out,
		   size_t size)
{
	int n = snprintf(out, size, "<%s@%s>", code, dom->feedback);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}
