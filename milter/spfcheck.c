/*
 * spfcheck - SPF verification (libspf2) over the shared resolver
 *
 * One long-lived SPF_server_t serves all threads; building a server per
 * message (as some milters do) costs a compile of the default explanation
 * and local policy each time. libspf2's DNS layers are pluggable: ours is
 * an SPF_dns_server_t whose lookup() asks fm_resolver_query() and returns
 * the records the way libspf2's own resolv layer does (TXT strings joined,
 * MX as host names, herrno TRY_AGAIN for temporary failures, which libspf2
 * turns into temperror). Queries for the obsolete SPF RR type (99), which
 * libspf2 1.2.10 asks before TXT, are answered "no data" without a lookup.
 *
 * Time: libspf2 may make a dozen lookups for one check (include, a, mx,
 * ptr, exists, exp=). Every lookup is bounded by the resolver's timeout
 * and, in addition, all lookups of one check share a budget (total_ms):
 * once it is spent the remaining lookups fail at once as temporary errors.
 * The budget is kept in thread-local variables that live only for the
 * duration of one fm_spf_check() call on that thread (libspf2 gives the
 * DNS layer no per-request pointer); nothing is kept between calls.
 *
 * Inputs are sanitised before libspf2 sees them: SPF_request_set_env_from
 * aborts the process on NULL, so NULL is never passed; domains must be
 * multi-label LDH names of at most 253 octets (else the result is "none",
 * RFC 7208 section 4.3); local parts longer than 64 octets or with
 * control characters are replaced by "postmaster"; the client address must
 * parse. For the null sender the HELO name is the identity: it is set
 * first, then env_from "", which libspf2 turns into postmaster@helo.
 *
 * Loopback clients always pass inside libspf2 (SPF_request_is_loopback);
 * out->reason says "loopback client" when that happened.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "resolver.h"
#include "spfcheck.h"

#define FM_SPF_LOCAL_MAX 64	/* RFC 5321 local-part limit */

struct fm_spf {
	SPF_server_t *server;	/* does not free dns (destroy is NULL) */
	SPF_dns_server_t *dns;
	fm_resolver_t *res;
	unsigned total_ms;
	char receiver[256];
};

/* The DNS budget of the check running on this thread (see above). */
static __thread struct timespec fm_spf_deadline;
static __thread int fm_spf_active;
static __thread char fm_spf_dns_why[160];

/* Sanitised inputs of one check. */
typedef struct fm_spf_input {
	int family;
	struct in_addr ip4;
	struct in6_addr ip6;
	char ip[INET6_ADDRSTRLEN];
	char helo[256];		/* "" unless a valid domain */
	char local[FM_SPF_LOCAL_MAX + 1];
	char domain[256];
	int null_sender;
} fm_spf_input_t;

/* fm_spf_result_name - RFC 7208 result names */
const char *fm_spf_result_name(fm_spf_result_t result)
{
	static const char *const names[] = {
		"none", "neutral", "pass", "fail", "softfail", "temperror",
		"permerror",
	};

	if ((unsigned)result < sizeof(names) / sizeof(names[0]))
		return names[result];
	return "permerror";
}

/* fm_spf_fmt - snprintf that may truncate (the buffers bound our output) */
static void __attribute__((format(printf, 3, 4)))
fm_spf_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* fm_spf_copy - bounded copy keeping printable ASCII only */
static void fm_spf_copy(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < len; src++)
		dst[o++] = (*src >= ' ' && *src < 0x7f) ? *src : '?';
	dst[o] = '\0';
}

/* ------------------------------------------------------------ DNS layer */

/* fm_spf_budget_ms - DNS time left for this check; 0 when spent */
static unsigned fm_spf_budget_ms(const fm_spf_t *spf)
{
	struct timespec now;
	long long ms;

	if (!fm_spf_active)
		return fm_resolver_timeout(spf->res);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(fm_spf_deadline.tv_sec - now.tv_sec) * 1000
	    + (fm_spf_deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (unsigned)ms : 0;
}

/* fm_spf_rr_fill - copy the answer's records into a libspf2 RR set */
static int fm_spf_rr_fill(SPF_dns_rr_t *rr, const fm_dns_answer_t *ans,
			  int type)
{
	size_t i;
	int n = 0;

	for (i = 0; i < ans->count; i++) {
		const fm_dns_rr_t *a = &ans->rr[i];
		size_t size;

		if (a->type != type)
			continue;
		size = type == FM_DNS_A ? sizeof(struct in_addr)
		    : type == FM_DNS_AAAA ? sizeof(struct in6_addr)
		    : a->len + 1;
		if (SPF_dns_rr_buf_realloc(rr, n, size) != SPF_E_SUCCESS)
			return -1;
		if (type == FM_DNS_A || type == FM_DNS_AAAA)
			memcpy(rr->rr[n], a->addr, size);
		else
			memcpy(rr->rr[n], a->text, size);
		n++;
	}
	rr->num_rr = n;
	return n;
}

/* fm_spf_dns_lookup - libspf2's lookup() method over our resolver */
static SPF_dns_rr_t *fm_spf_dns_lookup(SPF_dns_server_t *dns,
				       const char *domain, ns_type type,
				       int should_cache)
{
	fm_spf_t *spf = dns->hook;
	fm_dns_answer_t ans;
	SPF_dns_rr_t *rr;
	unsigned ms;
	int herrno;

	(void)should_cache;	/* libunbound caches */
	if (type == ns_t_spf)
		return SPF_dns_rr_new_init(dns, domain, type, 0, NO_DATA);
	if ((ms = fm_spf_budget_ms(spf)) == 0) {
		snprintf(fm_spf_dns_why, sizeof(fm_spf_dns_why),
			 "DNS time for this check (%u ms) used up",
			 spf->total_ms);
		return SPF_dns_rr_new_init(dns, domain, type, 0, TRY_AGAIN);
	}
	switch (fm_resolver_query(spf->res, domain, (int)type, ms, &ans)) {
	case FM_DNS_OK:
		herrno = NETDB_SUCCESS;
		break;
	case FM_DNS_NODATA:
		herrno = NO_DATA;
		break;
	case FM_DNS_TEMPFAIL:
		herrno = TRY_AGAIN;
		fm_spf_fmt(fm_spf_dns_why, sizeof(fm_spf_dns_why), "%s: %s",
			   domain, ans.why);
		break;
	default:		/* NXDOMAIN, and malformed names (RFC 7208 4.3) */
		herrno = HOST_NOT_FOUND;
		break;
	}
	rr = SPF_dns_rr_new_init(dns, domain, type, (int)ans.ttl, herrno);
	if (rr != NULL && herrno == NETDB_SUCCESS
	    && fm_spf_rr_fill(rr, &ans, (int)type) <= 0) {
		rr->num_rr = 0;
		rr->herrno = NO_DATA;
	}
	fm_dns_answer_free(&ans);
	return rr;
}

/* ------------------------------------------------------------- server */

/* fm_spf_new - see spfcheck.h */
fm_spf_t *fm_spf_new(fm_resolver_t *resolver, const char *receiver,
		     unsigned total_ms, char *err, size_t errlen)
{
	SPF_response_t *resp = NULL;
	SPF_dns_server_t *dns = NULL;
	fm_spf_t *spf;

	if ((spf = calloc(1, sizeof(*spf))) == NULL
	    || (dns = calloc(1, sizeof(*dns))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* libspf2 writes to stdout and stderr by default: keep it quiet. */
	SPF_error_handler = SPF_error_syslog;
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
	spf->res = resolver;
	spf->total_ms = total_ms ? total_ms : 4 * fm_resolver_timeout(resolver);
	dns->destroy = NULL;	/* ours: libspf2 versions differ here */
	dns->lookup = fm_spf_dns_lookup;
	dns->name = "feedback-milter";
	dns->hook = spf;
	spf->dns = dns;
	dns = NULL;
	if ((spf->server = SPF_server_new_dns(spf->dns, 0)) == NULL) {
		snprintf(err, errlen, "cannot create the libspf2 server");
		goto fail;
	}
	SPF_server_set_sanitize(spf->server, 1);
	if (receiver != NULL && *receiver != '\0'
	    && SPF_server_set_rec_dom(spf->server, receiver) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	fm_spf_copy(spf->receiver, sizeof(spf->receiver),
		    spf->server->rec_dom);
	/* No canned "see openspf.org" text: only a domain's own exp=. */
	(void)SPF_server_set_explanation(spf->server, "", &resp);
	if (resp != NULL)
		SPF_response_free(resp);
	return spf;
fail:
	free(dns);
	fm_spf_free(spf);
	return NULL;
}

/* fm_spf_free - the server, then our DNS layer */
void fm_spf_free(fm_spf_t *spf)
{
	if (spf == NULL)
		return;
	if (spf->server != NULL)
		SPF_server_free(spf->server);
	free(spf->dns);
	free(spf);
}

/* ------------------------------------------------------------- inputs */

/* fm_spf_domain_ok - a multi-label LDH(_) domain of at most 253 octets */
static int fm_spf_domain_ok(const char *d)
{
	const char *p;

	if (!fm_dns_name_valid(d) || strchr(d, '.') == NULL
	    || d[strlen(d) - 1] == '.')
		return 0;
	for (p = d; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_'
		    && *p != '.')
			return 0;
	return 1;
}

/* fm_spf_trim - copy src without surrounding white space; -1 if too long */
static int fm_spf_trim(char *dst, size_t len, const char *src)
{
	size_t n;

	while (isspace((unsigned char)*src))
		src++;
	n = strlen(src);
	while (n > 0 && isspace((unsigned char)src[n - 1]))
		n--;
	if (n >= len)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* fm_spf_parse_ip - the client address; -1 if it is not one */
static int fm_spf_parse_ip(fm_spf_input_t *in, const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8], *p = buf;
	size_t n;

	if (s == NULL || fm_spf_trim(buf, sizeof(buf), s) < 0)
		return -1;
	n = strlen(p);
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p[n - 1] = '\0';
		p++;
	}
	if (strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	if (inet_pton(AF_INET, p, &in->ip4) == 1) {
		in->family = AF_INET;
	} else if (inet_pton(AF_INET6, p, &in->ip6) == 1) {
		in->family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED(&in->ip6)) {
			memcpy(&in->ip4, &in->ip6.s6_addr[12], 4);
			in->family = AF_INET;
		}
	} else {
		return -1;
	}
	inet_ntop(in->family, in->family == AF_INET ? (void *)&in->ip4
		  : (void *)&in->ip6, in->ip, sizeof(in->ip));
	return 0;
}

/* fm_spf_parse_helo - keep the HELO name if it is a usable domain */
static void fm_spf_parse_helo(fm_spf_input_t *in, const char *helo)
{
	size_t n;

	in->helo[0] = '\0';
	if (helo == NULL || fm_spf_trim(in->helo, sizeof(in->helo), helo) < 0) {
		in->helo[0] = '\0';
		return;
	}
	n = strlen(in->helo);
	if (n > 0 && in->helo[n - 1] == '.')
		in->helo[n - 1] = '\0';
	if (!fm_spf_domain_ok(in->helo))
		in->helo[0] = '\0';
}

/* fm_spf_local_ok - a local part libspf2 may expand into macros */
static int fm_spf_local_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > FM_SPF_LOCAL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < ' ' || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

/* fm_spf_parse_from - MAIL FROM into local/domain; -1 if malformed */
static int fm_spf_parse_from(fm_spf_input_t *in, const char *from)
{
	char buf[1024], *p = buf, *at;
	size_t n;

	in->null_sender = 0;
	if (from == NULL || fm_spf_trim(buf, sizeof(buf), from) < 0)
		return from == NULL ? (in->null_sender = 1, 0) : -1;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '>')
		p[--n] = '\0';
	if (*p == '<')
		p++;
	if (*p == '@' && strchr(p, ':') != NULL)	/* source route */
		p = strchr(p, ':') + 1;
	if (*p == '\0') {
		in->null_sender = 1;
		return 0;
	}
	if ((at = strrchr(p, '@')) == NULL)
		return -1;
	*at = '\0';
	if (fm_spf_local_ok(p, strlen(p)))
		memcpy(in->local, p, strlen(p) + 1);
	else
		snprintf(in->local, sizeof(in->local), "postmaster");
	if (fm_spf_trim(in->domain, sizeof(in->domain), at + 1) < 0)
		return -1;
	n = strlen(in->domain);
	if (n > 0 && in->domain[n - 1] == '.')
		in->domain[n - 1] = '\0';
	return fm_spf_domain_ok(in->domain) ? 0 : -1;
}

/* ------------------------------------------------------------- checks */

/* fm_spf_map - our result from libspf2's response and error code */
static fm_spf_result_t fm_spf_map(SPF_response_t *resp, SPF_errcode_t err)
{
	int i;

	switch (resp != NULL ? SPF_response_result(resp) : SPF_RESULT_INVALID) {
	case SPF_RESULT_PASS:
		return FM_SPF_PASS;
	case SPF_RESULT_FAIL:
		return FM_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return FM_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return FM_SPF_NEUTRAL;
	case SPF_RESULT_NONE:
		return FM_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		return FM_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return FM_SPF_PERMERROR;
	default:
		break;
	}
	/* No result set: the record could not be fetched or compiled. */
	if (resp == NULL || err == SPF_E_DNS_ERROR || err == SPF_E_NO_MEMORY)
		return FM_SPF_TEMPERROR;
	for (i = 0; i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_code(e) != SPF_E_NOT_SPF)
			return FM_SPF_PERMERROR;	/* syntax error */
	}
	return FM_SPF_NONE;
}

/* fm_spf_reason - say why, for the log */
static void fm_spf_reason(fm_spf_outcome_t *out, SPF_response_t *resp,
			  SPF_errcode_t err)
{
	const char *why = NULL;
	int i;

	if (resp != NULL && SPF_response_reason(resp) == SPF_REASON_LOCALHOST)
		why = "loopback client: libspf2 always passes it";
	else if (out->result == FM_SPF_TEMPERROR && fm_spf_dns_why[0])
		why = fm_spf_dns_why;
	for (i = 0; why == NULL && resp != NULL
	     && i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_message(e) != NULL)
			why = SPF_error_message(e);
	}
	if (why == NULL && err != SPF_E_SUCCESS)
		why = SPF_strerror(err);
	if (why == NULL && resp != NULL)
		why = SPF_strreason(SPF_response_reason(resp));
	fm_spf_copy(out->reason, sizeof(out->reason), why ? why : "");
}

/* fm_spf_comment - the comment of Received-SPF for a result */
static void fm_spf_comment(char *buf, size_t len, fm_spf_result_t result,
			   const char *sender, const char *ip)
{
	switch (result) {
	case FM_SPF_PASS:
		fm_spf_fmt(buf, len, "domain of %s designates %s as permitted "
			   "sender", sender, ip);
		break;
	case FM_SPF_FAIL:
		fm_spf_fmt(buf, len, "domain of %s does not designate %s as "
			   "permitted sender", sender, ip);
		break;
	case FM_SPF_SOFTFAIL:
		fm_spf_fmt(buf, len, "domain of transitioning %s does not "
			   "designate %s as permitted sender", sender, ip);
		break;
	case FM_SPF_NEUTRAL:
		fm_spf_fmt(buf, len, "%s is neither permitted nor denied by "
			   "domain of %s", ip, sender);
		break;
	case FM_SPF_TEMPERROR:
		fm_spf_fmt(buf, len, "temporary error checking %s for %s",
			   sender, ip);
		break;
	case FM_SPF_PERMERROR:
		fm_spf_fmt(buf, len, "permanent error in the SPF policy of %s",
			   sender);
		break;
	default:
		fm_spf_fmt(buf, len, "domain of %s does not designate "
			   "permitted sender hosts", sender);
		break;
	}
}

/* fm_spf_received - the Received-SPF field value (RFC 7208 9.1) */
static void fm_spf_received(fm_spf_outcome_t *out, const fm_spf_t *spf,
			    const fm_spf_input_t *in)
{
	char comment[400], from[400];
	const char *ip = in->ip[0] ? in->ip : "unknown";
	size_t i, o = 0;

	fm_spf_comment(comment, sizeof(comment), out->result,
		       out->sender[0] ? out->sender : "an unusable sender", ip);
	for (i = 0; out->sender[i] != '\0' && o + 2 < sizeof(from); i++) {
		if (out->sender[i] == '"' || out->sender[i] == '\\')
			from[o++] = '\\';
		from[o++] = out->sender[i];
	}
	from[o] = '\0';
	fm_spf_fmt(out->received_spf, sizeof(out->received_spf),
		   "%s (%s: %s) client-ip=%s; envelope-from=\"%s\";%s%s%s "
		   "receiver=%s; identity=%s;", fm_spf_result_name(out->result),
		   spf->receiver, comment, ip, from,
		   in->helo[0] ? " helo=" : "", in->helo,
		   in->helo[0] ? ";" : "", spf->receiver,
		   out->identity == FM_SPF_HELO ? "helo" : "mailfrom");
}

/*
 * fm_spf_explanation - keep the exp= text. libspf2 1.2.10 compiles it as a
 * domain-spec, where a space ends the string: each space comes out as '%'
 * (and a macro right after a space is not expanded). Turn them back.
 */
static void fm_spf_explanation(fm_spf_outcome_t *out, const char *exp)
{
	char *p;

	fm_spf_copy(out->explanation, sizeof(out->explanation), exp);
	for (p = out->explanation; *p != '\0'; p++)
		if (*p == '%')
			*p = ' ';
}

/* fm_spf_query - run libspf2 on sanitised inputs */
static void fm_spf_query(fm_spf_t *spf, const fm_spf_input_t *in,
			 fm_spf_outcome_t *out)
{
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_errcode_t err;

	if ((req = SPF_request_new(spf->server)) == NULL) {
		out->result = FM_SPF_TEMPERROR;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	if (in->family == AF_INET)
		SPF_request_set_ipv4(req, in->ip4);
	else
		SPF_request_set_ipv6(req, in->ip6);
	/* HELO first: for the null sender env_from "" then means HELO. */
	SPF_request_set_helo_dom(req, in->helo[0] ? in->helo : "unknown");
	SPF_request_set_env_from(req, in->null_sender ? "" : out->sender);

	fm_spf_dns_why[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &fm_spf_deadline);
	fm_spf_deadline.tv_sec += spf->total_ms / 1000;
	fm_spf_deadline.tv_nsec += (long)(spf->total_ms % 1000) * 1000000L;
	if (fm_spf_deadline.tv_nsec >= 1000000000L) {
		fm_spf_deadline.tv_sec++;
		fm_spf_deadline.tv_nsec -= 1000000000L;
	}
	fm_spf_active = 1;
	err = SPF_request_query_mailfrom(req, &resp);
	fm_spf_active = 0;

	out->result = fm_spf_map(resp, err);
	fm_spf_reason(out, resp, err);
	if (resp != NULL && out->result == FM_SPF_FAIL
	    && SPF_response_get_explanation(resp) != NULL)
		fm_spf_explanation(out, SPF_response_get_explanation(resp));
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
}

/* fm_spf_check - see spfcheck.h */
fm_spf_result_t fm_spf_check(fm_spf_t *spf, const char *client_ip,
			     const char *helo, const char *envfrom,
			     fm_spf_outcome_t *out)
{
	fm_spf_input_t in;
	int from_ok;

	memset(out, 0, sizeof(*out));
	memset(&in, 0, sizeof(in));
	out->result = FM_SPF_NONE;
	fm_spf_parse_helo(&in, helo);
	from_ok = fm_spf_parse_from(&in, envfrom) == 0;
	if (in.null_sender) {
		out->identity = FM_SPF_HELO;
		snprintf(out->domain, sizeof(out->domain), "%s", in.helo);
		snprintf(out->sender, sizeof(out->sender), "postmaster@%s",
			 in.helo);
	} else {
		out->identity = FM_SPF_MAILFROM;
		snprintf(out->domain, sizeof(out->domain), "%s", in.domain);
		fm_spf_fmt(out->sender, sizeof(out->sender), "%s@%s", in.local,
			   in.domain);
	}
	if (fm_spf_parse_ip(&in, client_ip) < 0)
		snprintf(out->reason, sizeof(out->reason),
			 "no usable client IP address");
	else if (in.null_sender && in.helo[0] == '\0')
		snprintf(out->reason, sizeof(out->reason),
			 "null sender and no usable HELO name");
	else if (!from_ok)
		snprintf(out->reason, sizeof(out->reason),
			 "malformed MAIL FROM domain");
	else
		fm_spf_query(spf, &in, out);
	if (out->domain[0] == '\0' || (!from_ok && !in.null_sender)) {
		fm_spf_copy(out->domain, sizeof(out->domain), in.domain);
		fm_spf_copy(out->sender, sizeof(out->sender), out->domain);
	}
	fm_spf_received(out, spf, &in);
	return out->result;
}
