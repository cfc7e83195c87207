/*
 * config - the configuration file, parsed from one declarative option table
 *
 * Every option is one row of fm_options[]: its name, the argument shown in
 * the manual, its default (as text, fed through the same setter as the
 * file's value), whether it may be repeated, its setter (which validates
 * and stores) and its manual text. fm_config_parse() applies the defaults,
 * then the file's lines, then the checks that span options. Messages have
 * the form "FILE:LINE: Option: what is wrong".
 *
 * The module is pure: it reads files only in fm_config_load() and
 * fm_config_load_keys(), and keeps no state outside the fm_config_t.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>

#include "config.h"

#ifndef FM_LOCALSTATEDIR
#define FM_LOCALSTATEDIR "/var"
#endif

#define MAX_CONFIG_SIZE (1024 * 1024)

typedef int (*fm_setter_t)(fm_config_t *cfg, const char *value, int first,
			   char *err, size_t errlen);

typedef struct {
	const char *name;
	const char *arg;	/* argument in the manual */
	const char *def;	/* default as text, or NULL */
	int repeatable;
	fm_setter_t set;
	const char *doc;	/* mdoc text of the manual entry */
	const char *example;	/* value for the sample file, if no default */
} fm_option_t;

/* fail - format a validator message */
static int
fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* xstrdup_into - replace *dst with a copy of src; -1 when out of memory */
static int
xstrdup_into(char **dst, const char *src, char *err, size_t errlen)
{
	char *copy = strdup(src);

	if (copy == NULL)
		return fail(err, errlen, "out of memory");
	free(*dst);
	*dst = copy;
	return 0;
}

/* set_string - any non-empty string */
#define STRING_SETTER(fn, field)                                            \
	static int fn(fm_config_t *cfg, const char *v, int first, char *err, \
		      size_t errlen)                                        \
	{                                                                   \
		(void)first;                                                \
		return xstrdup_into(&cfg->field, v, err, errlen);           \
	}

/* set_path - an absolute path */
static int
set_path(char **dst, const char *v, char *err, size_t errlen)
{
	if (v[0] != '/')
		return fail(err, errlen, "\"%s\" is not an absolute path", v);
	return xstrdup_into(dst, v, err, errlen);
}

#define PATH_SETTER(fn, field)                                              \
	static int fn(fm_config_t *cfg, const char *v, int first, char *err, \
		      size_t errlen)                                        \
	{                                                                   \
		(void)first;                                                \
		return set_path(&cfg->field, v, err, errlen);               \
	}

PATH_SETTER(set_pid_file, pid_file)
PATH_SETTER(set_key_file, key_file)
PATH_SETTER(set_database, database)
STRING_SETTER(set_user_id_raw, user_id)

/* parse_bool - yes/no/true/false/on/off/1/0 */
static int
parse_bool(const char *v, int *out, char *err, size_t errlen)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return fail(err, errlen, "\"%s\" is not a boolean (use yes or no)", v);
}

/* fm_config_parse_duration - "30d", "12h", "90m", "45s", "2w" to seconds */
static int
parse_duration(const char *v, unsigned long long *secs, char *err,
	       size_t errlen)
{
	unsigned long long n, mult = 1;
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		goto bad;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		goto bad;
	switch (*end) {
	case 'w': mult = 7ULL * 86400; end++; break;
	case 'd': mult = 86400; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'm': mult = 60; end++; break;
	case 's': end++; break;
	case '\0': break;
	default: goto bad;
	}
	if (*end != '\0' || n > 100ULL * 365 * 86400)
		goto bad;
	*secs = n * mult;
	return 0;
bad:
	return fail(err, errlen,
		    "\"%s\" is not a duration (a number with s, m, h, d or w)", v);
}

/* set_syslog - Syslog */
static int
set_syslog(fm_config_t *cfg, const char *v, int first, char *err,
	   size_t errlen)
{
	(void)first;
	return parse_bool(v, &cfg->syslog, err, errlen);
}

/* set_strip - StripIdentityHeaders */
static int
set_strip(fm_config_t *cfg, const char *v, int first, char *err,
	  size_t errlen)
{
	(void)first;
	return parse_bool(v, &cfg->strip_ident_headers, err, errlen);
}

/* set_bad_code - BadCodeAction reject|accept */
static int
set_bad_code(fm_config_t *cfg, const char *v, int first, char *err,
	     size_t errlen)
{
	(void)first;
	if (strcasecmp(v, "reject") == 0)
		cfg->bad_code_accept = 0;
	else if (strcasecmp(v, "accept") == 0)
		cfg->bad_code_accept = 1;
	else
		return fail(err, errlen, "\"%s\" is not reject or accept", v);
	return 0;
}

static int domain_valid(const char *d);
static char *lowercase_dup(const char *s);
static int parse_net(const char *tok, fm_net_t *net, char *err,
		     size_t errlen);

/* the same order as fm_class_t in classify.h */
const char *const fm_config_class_names[FM_NCLASSES] = {
	"unknown", "hard", "soft", "delayed", "autoreply", "complaint",
	"delivered",
};

/* parse_action - "discard" or "accept" */
static int
parse_action(const char *v, size_t len, unsigned char *out)
{
	if (len == 7 && strncasecmp(v, "discard", 7) == 0)
		return *out = 0, 0;
	if (len == 6 && strncasecmp(v, "accept", 6) == 0)
		return *out = 1, 0;
	return -1;
}

/* set_inbound_action - InboundAction [ACTION] [CLASS=ACTION ...] */
static int
set_inbound_action(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	char *copy, *tok, *save = NULL, *eq;
	unsigned char act;
	size_t i;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((eq = strchr(tok, '=')) == NULL) {
			if (parse_action(tok, strlen(tok), &act) < 0)
				rc = fail(err, errlen, "\"%s\" is not discard or "
					  "accept", tok);
			else
				memset(cfg->inbound_accept, act,
				       sizeof(cfg->inbound_accept));
			continue;
		}
		for (i = 0; i < FM_NCLASSES; i++)
			if ((size_t)(eq - tok) == strlen(fm_config_class_names[i]) &&
			    strncasecmp(tok, fm_config_class_names[i],
					(size_t)(eq - tok)) == 0)
				break;
		if (i == FM_NCLASSES)
			rc = fail(err, errlen, "\"%.*s\" is not a class (hard, "
				  "soft, delayed, autoreply, complaint, "
				  "delivered, unknown)", (int)(eq - tok), tok);
		else if (parse_action(eq + 1, strlen(eq + 1),
				      &cfg->inbound_accept[i]) < 0)
			rc = fail(err, errlen, "\"%s\" is not discard or accept",
				  eq + 1);
	}
	free(copy);
	return rc;
}

/* set_require_auth - RequireAuthentication none|spf|dkim|any */
static int
set_require_auth(fm_config_t *cfg, const char *v, int first, char *err,
		 size_t errlen)
{
	static const char *const names[] = {"none", "spf", "dkim", "any"};
	size_t i;

	(void)first;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(v, names[i]) == 0)
			return cfg->require_auth = (int)i, 0;
	return fail(err, errlen, "\"%s\" is not none, spf, dkim or any", v);
}

/* set_nameservers - addresses with an optional @port */
static int
set_nameservers(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	char *copy, *tok, *save = NULL, *at;
	unsigned char buf[16];
	int rc = 0;
	long port;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((at = strchr(tok, '@')) != NULL) {
			*at++ = '\0';
			port = strtol(at, &at, 10);
			if (*at != '\0' || port < 1 || port > 65535)
				rc = -1;
		}
		if (rc == 0 && inet_pton(AF_INET, tok, buf) != 1 &&
		    inet_pton(AF_INET6, tok, buf) != 1)
			rc = -1;
		if (rc < 0)
			fail(err, errlen, "\"%s\" is not a list of addresses "
			     "with an optional @port", v);
	}
	free(copy);
	return rc < 0 ? -1 : xstrdup_into(&cfg->nameservers, v, err, errlen);
}

/* set_dns_timeout - DnsTimeout: 100 ms to 60 s */
static int
set_dns_timeout(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs < 1 || secs > 60)
		return fail(err, errlen, "\"%s\" is out of range (1s to 60s)", v);
	cfg->dns_timeout_ms = (unsigned)(secs * 1000);
	return 0;
}

/* set_max_inbound - MaxInboundSize: octets with k or M */
static int
set_max_inbound(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	unsigned long long n;
	char *end;

	(void)first;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (end == v || errno != 0)
		goto bad;
	if (*end == 'k' || *end == 'K')
		n *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		n *= 1024 * 1024, end++;
	if (*end != '\0' || n < 64 * 1024 || n > 256ULL * 1024 * 1024)
		goto bad;
	cfg->max_inbound_size = (size_t)n;
	return 0;
bad:
	return fail(err, errlen, "\"%s\" is not a size from 64k to 256M", v);
}

STRING_SETTER(set_authserv_id_raw, authserv_id)

/* set_authserv_id - AuthservID: a host name */
static int
set_authserv_id(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	if (!domain_valid(v) && strcmp(v, "localhost") != 0)
		return fail(err, errlen, "\"%s\" is not a host name", v);
	return set_authserv_id_raw(cfg, v, first, err, errlen);
}

/* set_mx_hosts - MXHost: host names, in order of preference */
static int
set_mx_hosts(fm_config_t *cfg, const char *v, int first, char *err,
	     size_t errlen)
{
	char *copy, *tok, *save = NULL, **grown;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (!domain_valid(tok)) {
			rc = fail(err, errlen, "\"%s\" is not a host name", tok);
			break;
		}
		grown = realloc(cfg->mx_hosts, (cfg->nmx_hosts + 1) * sizeof(*grown));
		if (grown == NULL)
			rc = fail(err, errlen, "out of memory");
		else if ((grown[cfg->nmx_hosts] = lowercase_dup(tok)) == NULL) {
			cfg->mx_hosts = grown;
			rc = fail(err, errlen, "out of memory");
		} else {
			cfg->mx_hosts = grown;
			cfg->nmx_hosts++;
		}
	}
	free(copy);
	return rc;
}

/* set_host - a host name option */
static int
set_host(char **dst, const char *v, char *err, size_t errlen)
{
	char *copy;

	if (!domain_valid(v))
		return fail(err, errlen, "\"%s\" is not a host name", v);
	if ((copy = lowercase_dup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	free(*dst);
	*dst = copy;
	return 0;
}

/* set_cname_target - CnameTarget */
static int
set_cname_target(fm_config_t *cfg, const char *v, int first, char *err,
		 size_t errlen)
{
	(void)first;
	return set_host(&cfg->cname_target, v, err, errlen);
}

/* set_spf_include - SpfInclude: a domain name, '_' allowed (_spf...) */
static int
set_spf_include(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	char name[256], *p;

	(void)first;
	snprintf(name, sizeof(name), "%s", v);
	for (p = name; *p; p++)
		if (*p == '_')
			*p = 'u';
	if (strlen(v) >= sizeof(name) || !domain_valid(name))
		return fail(err, errlen, "\"%s\" is not a domain name", v);
	return xstrdup_into(&cfg->spf_include, v, err, errlen);
}

/* set_outbound - OutboundAddresses: networks, added to on repetition */
static int
set_outbound(fm_config_t *cfg, const char *v, int first, char *err,
	     size_t errlen)
{
	char *copy, *tok, *save = NULL;
	fm_net_t net, *grown;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((rc = parse_net(tok, &net, err, errlen)) < 0)
			break;
		grown = realloc(cfg->outbound, (cfg->noutbound + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = fail(err, errlen, "out of memory");
			break;
		}
		cfg->outbound = grown;
		cfg->outbound[cfg->noutbound++] = net;
	}
	free(copy);
	return rc;
}

/* set_dkim_selector - DkimSelector: one DNS label */
static int
set_dkim_selector(fm_config_t *cfg, const char *v, int first, char *err,
		  size_t errlen)
{
	const char *p;

	(void)first;
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return fail(err, errlen, "\"%s\" is not a selector (letters, "
				    "digits, '-' and '_')", v);
	if (p - v > 63)
		return fail(err, errlen, "\"%s\" is longer than 63 octets", v);
	return xstrdup_into(&cfg->dkim_selector, v, err, errlen);
}

PATH_SETTER(set_dkim_key_file, dkim_key_file)

/* set_dmarc_rua - DmarcReport: an address for aggregate reports */
static int
set_dmarc_rua(fm_config_t *cfg, const char *v, int first, char *err,
	      size_t errlen)
{
	const char *addr = strncasecmp(v, "mailto:", 7) == 0 ? v + 7 : v;
	const char *at = strchr(addr, '@');

	(void)first;
	if (at == NULL || at == addr || !domain_valid(at + 1) ||
	    strpbrk(addr, " \t;,!") != NULL)
		return fail(err, errlen, "\"%s\" is not a mail address", v);
	return xstrdup_into(&cfg->dmarc_rua, addr, err, errlen);
}

/* set_socket - unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST */
static int
set_socket(fm_config_t *cfg, const char *v, int first, char *err,
	   size_t errlen)
{
	const char *p;
	char *end;
	long port;

	(void)first;
	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		p = strchr(v, ':') + 1;
		if (p[0] != '/')
			return fail(err, errlen,
				    "\"%s\": the socket path must be absolute", v);
		if (strlen(p) >= 108)
			return fail(err, errlen, "\"%s\": path too long", v);
	} else if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		p = strchr(v, ':') + 1;
		errno = 0;
		port = strtol(p, &end, 10);
		if (end == p || errno != 0 || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '@') ||
		    (*end == '@' && end[1] == '\0'))
			return fail(err, errlen,
				    "\"%s\" is not inet:PORT@HOST with a port "
				    "from 1 to 65535", v);
	} else {
		return fail(err, errlen,
			    "\"%s\" is not unix:/path or inet:PORT@HOST", v);
	}
	return xstrdup_into(&cfg->socket, v, err, errlen);
}

/* set_socket_mode - an octal mode no wider than 0777 */
static int
set_socket_mode(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	char *end;
	unsigned long mode;

	(void)first;
	errno = 0;
	mode = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || mode > 0777)
		return fail(err, errlen, "\"%s\" is not an octal mode such as 0660",
			    v);
	cfg->socket_mode = (unsigned)mode;
	return 0;
}

/* set_user_id - user or user:group */
static int
set_user_id(fm_config_t *cfg, const char *v, int first, char *err,
	    size_t errlen)
{
	const char *p;

	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-:", *p) == NULL)
			return fail(err, errlen,
				    "\"%s\" is not a user name (user or user:group)",
				    v);
	return set_user_id_raw(cfg, v, first, err, errlen);
}

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
}, levels[] = {
	{"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
	{"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

/* set_facility - SyslogFacility */
static int
set_facility(fm_config_t *cfg, const char *v, int first, char *err,
	     size_t errlen)
{
	size_t i;

	(void)first;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(v, facilities[i].name) == 0)
			return cfg->syslog_facility = facilities[i].value, 0;
	return fail(err, errlen,
		    "\"%s\" is not a facility (mail, daemon, user, local0..local7)",
		    v);
}

/* set_log_level - LogLevel */
static int
set_log_level(fm_config_t *cfg, const char *v, int first, char *err,
	      size_t errlen)
{
	size_t i;

	(void)first;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(v, levels[i].name) == 0)
			return cfg->log_level = levels[i].value, 0;
	return fail(err, errlen,
		    "\"%s\" is not a level (error, warning, notice, info, debug)",
		    v);
}

/* set_lifetime - CodeLifetime: whole days from 1 to 1000 */
static int
set_lifetime(fm_config_t *cfg, const char *v, int first, char *err,
	     size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs < 86400 || secs > 1000ULL * 86400)
		return fail(err, errlen,
			    "\"%s\" is out of range: codes carry a day number, "
			    "so the lifetime must be from 1d to 1000d", v);
	cfg->code_lifetime_days = (unsigned)(secs / 86400);
	return 0;
}

/* set_busy_timeout - DatabaseBusyTimeout: up to 10 minutes */
static int
set_busy_timeout(fm_config_t *cfg, const char *v, int first, char *err,
		 size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs > 600)
		return fail(err, errlen, "\"%s\" is longer than 10m", v);
	cfg->busy_timeout_ms = (unsigned)(secs * 1000);
	return 0;
}

/* fm_domain_valid - a host name: LDH labels of 1..63, 253 in all */
static int
domain_valid(const char *d)
{
	size_t label = 0, total = 0;
	const char *p;

	for (p = d; *p; p++, total++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
		if (label == 0 && *p == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return total > 0 && total <= 253 && label > 0 && p[-1] != '-' &&
	       strchr(d, '.') != NULL;
}

/* lowercase_dup - lowercase copy */
static char *
lowercase_dup(const char *s)
{
	char *copy = strdup(s), *p;

	if (copy != NULL)
		for (p = copy; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return copy;
}

/* domain_taken - is name already a sender or feedback domain */
static const char *
domain_taken(const fm_config_t *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ndomains; i++) {
		if (strcasecmp(cfg->domains[i].domain, name) == 0)
			return "a sender domain";
		if (strcasecmp(cfg->domains[i].feedback, name) == 0)
			return "a feedback domain";
	}
	return NULL;
}

/* set_sender_domain - SenderDomain DOMAIN [FEEDBACK-DOMAIN] */
static int
set_sender_domain(fm_config_t *cfg, const char *v, int first, char *err,
		  size_t errlen)
{
	char dom[256], fb[300], extra[2];
	fm_domain_t *grown, *d;
	const char *taken;
	int n;

	(void)first;
	fb[0] = '\0';
	n = sscanf(v, "%255s %255s %1s", dom, fb, extra);
	if (n < 1 || n > 2)
		return fail(err, errlen, "\"%s\" is not DOMAIN [FEEDBACK-DOMAIN]",
			    v);
	if (!domain_valid(dom))
		return fail(err, errlen, "\"%s\" is not a domain name", dom);
	if (n == 1)
		snprintf(fb, sizeof(fb), "feedback.%s", dom);
	if (!domain_valid(fb))
		return fail(err, errlen, n == 1 ? "\"%s\" is too long for a "
			    "feedback domain: name one" : "\"%s\" is not a "
			    "domain name", n == 1 ? dom : fb);
	if (strcasecmp(dom, fb) == 0)
		return fail(err, errlen,
			    "the feedback domain must differ from %s", dom);
	if ((taken = domain_taken(cfg, dom)) != NULL)
		return fail(err, errlen, "%s is already %s", dom, taken);
	if ((taken = domain_taken(cfg, fb)) != NULL)
		return fail(err, errlen, "%s is already %s", fb, taken);
	grown = realloc(cfg->domains, (cfg->ndomains + 1) * sizeof(*grown));
	if (grown == NULL)
		return fail(err, errlen, "out of memory");
	cfg->domains = grown;
	d = &cfg->domains[cfg->ndomains];
	d->domain = lowercase_dup(dom);
	d->feedback = lowercase_dup(fb);
	if (d->domain == NULL || d->feedback == NULL) {
		free(d->domain);
		free(d->feedback);
		return fail(err, errlen, "out of memory");
	}
	cfg->ndomains++;
	return 0;
}

/* parse_net - ADDR or ADDR/PREFIX, IPv4 or IPv6 */
static int
parse_net(const char *tok, fm_net_t *net, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(tok, '/');
	size_t alen = slash ? (size_t)(slash - tok) : strlen(tok);
	unsigned max;
	char *end;
	long prefix;

	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, tok, alen);
	addr[alen] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, addr, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	net->prefix = max;
	if (slash != NULL) {
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || errno != 0 || prefix < 0 ||
		    (unsigned long)prefix > max)
			goto bad;
		net->prefix = (unsigned)prefix;
	}
	return 0;
bad:
	return fail(err, errlen,
		    "\"%s\" is not an address or network (192.0.2.0/24, "
		    "2001:db8::/32)", tok);
}

/* set_trusted - TrustedClients: networks separated by spaces or commas */
static int
set_trusted(fm_config_t *cfg, const char *v, int first, char *err,
	    size_t errlen)
{
	char *copy, *tok, *save = NULL;
	fm_net_t net, *grown;
	int rc = 0;

	if (first) {
		free(cfg->trusted);
		cfg->trusted = NULL;
		cfg->ntrusted = 0;
	}
	if ((copy = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((rc = parse_net(tok, &net, err, errlen)) < 0)
			break;
		grown = realloc(cfg->trusted,
				(cfg->ntrusted + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = fail(err, errlen, "out of memory");
			break;
		}
		cfg->trusted = grown;
		cfg->trusted[cfg->ntrusted++] = net;
	}
	free(copy);
	return rc;
}

/* header_name_valid - RFC 5322 field name: printable ASCII except ':' */
static int
header_name_valid(const char *s)
{
	if (*s == '\0' || strlen(s) > 76)
		return 0;
	for (; *s; s++)
		if (*s < 33 || *s > 126 || *s == ':')
			return 0;
	return 1;
}

/* set_ident_headers - IdentityHeaders: header names */
static int
set_ident_headers(fm_config_t *cfg, const char *v, int first, char *err,
		  size_t errlen)
{
	char *copy, *tok, *save = NULL, **grown;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (!header_name_valid(tok)) {
			rc = fail(err, errlen, "\"%s\" is not a header name", tok);
			break;
		}
		grown = realloc(cfg->ident_headers,
				(cfg->nident_headers + 1) * sizeof(*grown));
		if (grown == NULL || (grown[cfg->nident_headers] = strdup(tok)) == NULL) {
			if (grown != NULL)
				cfg->ident_headers = grown;
			rc = fail(err, errlen, "out of memory");
			break;
		}
		cfg->ident_headers = grown;
		cfg->nident_headers++;
	}
	free(copy);
	return rc;
}



/*
 * The option table. Defaults are text and go through the setters, so a
 * default can never be a value the file itself could not hold.
 */
static const fm_option_t fm_options[] = {
	{"Socket", "socket",
	 "unix:/var/spool/postfix/feedback-milter/feedback-milter.sock", 0,
	 set_socket,
	 "Where the milter listens:\n.Li unix: Ns Ar path\n(also\n.Li local: ) "
	 "or\n.Li inet: Ns Ar port Ns Li @ Ns Ar host .\nA unix socket is "
	 "recommended: over loopback TCP each message pays a round-trip stall.\n"
	 "The default suits Postfix's chrooted smtpd, which names it\n"
	 ".Li unix:feedback-milter/feedback-milter.sock\nrelative to its queue "
	 "directory.", NULL},
	{"SocketMode", "mode", "0660", 0, set_socket_mode,
	 "Permissions of a unix socket, in octal. The socket is owned by\n"
	 ".Cm UserID .", NULL},
	{"UserID", "user[:group]", NULL, 0, set_user_id,
	 "After opening the socket, run as this user (and group, or the "
	 "user's primary group). Without it the milter refuses to run as root.",
	 "feedback-milter"},
	{"PidFile", "path", NULL, 0, set_pid_file,
	 "Write the process id to this file, and remove it at exit.",
	 "/run/feedback-milter/feedback-milter.pid"},
	{"Syslog", "bool", "yes", 0, set_syslog,
	 "Log to syslog. In the foreground\n.Pq Fl f\nthe milter also logs to "
	 "standard error.", NULL},
	{"SyslogFacility", "facility", "mail", 0, set_facility,
	 "The syslog facility: mail, daemon, user or local0 to local7.", NULL},
	{"LogLevel", "level", "info", 0, set_log_level,
	 "The least important messages logged: error, warning, notice, info "
	 "(one line per rewrite) or debug (also every message not rewritten, "
	 "and why).", NULL},
	{"KeyFile", "path", FM_SYSCONFDIR "/feedback-milter.keys", 0, set_key_file,
	 "The keys that sign and verify codes, one\n.Dq Ar id Ar hex-secret\n"
	 "per line; the last line signs, every line verifies. It must not be "
	 "readable by others (mode 0600 or 0640). See\n.Xr feedbackctl 8\n"
	 ".Cm key new .", NULL},
	{"CodeLifetime", "duration", "30d", 0, set_lifetime,
	 "How long a code stays valid: bounces and auto-replies older than "
	 "this are refused. Whole days, from 1d to 1000d.", NULL},
	{"SenderDomain", "domain [feedback-domain]", NULL, 1, set_sender_domain,
	 "A domain whose outbound mail gets coded envelope senders, and the "
	 "feedback domain the codes are issued on (default\n.Li feedback. Ns "
	 "Ar domain ) .\nRepeat the option for each domain; at least one is "
	 "required.", NULL},
	{"TrustedClients", "networks", "127.0.0.0/8 ::1/128", 1, set_trusted,
	 "Client networks whose mail is outbound, separated by spaces or commas. "
	 "SASL-authenticated clients and local submission through\n.Xr sendmail 1\n"
	 "(Postfix's\n.Va non_smtpd_milters )\nare trusted as well. Repeated "
	 "lines add to the list; the first one replaces the default.", NULL},
	{"IdentityHeaders", "names", NULL, 1, set_ident_headers,
	 "Header fields whose values are stored with each send, such as a "
	 "campaign or profile id, so that a bounce can be traced back to them.",
	 "X-Campaign-ID X-Profile-ID"},
	{"StripIdentityHeaders", "bool", "no", 0, set_strip,
	 "Remove the\n.Cm IdentityHeaders\nfrom the message before it is sent.", NULL},
	{"BadCodeAction", "reject | accept", "reject", 0, set_bad_code,
	 "What to do with mail to a feedback domain whose code is malformed, "
	 "signed with an unknown key, forged or older than\n.Cm CodeLifetime :\n"
	 ".Cm reject\nrefuses the recipient with\n.Ql 550 5.1.1\nbefore DATA;\n"
	 ".Cm accept\ntakes the message and marks it unverified.", NULL},
	{"InboundAction", "[action] [class=action ...]", "discard", 1,
	 set_inbound_action,
	 "What happens to a message to a feedback domain once its events are "
	 "recorded:\n.Cm discard\n(the MTA answers 250 and drops it) or\n"
	 ".Cm accept\n(it is delivered on, with an\n.Li Authentication-Results\n"
	 "header, e.g. to keep a copy in a mailbox).\nA bare action sets every "
	 "class;\n.Ar class Ns = Ns Ar action\nsets one of hard, soft, delayed, "
	 "autoreply, complaint, delivered and unknown, for example\n"
	 ".Ql InboundAction discard complaint=accept .", NULL},
	{"RequireAuthentication", "none | spf | dkim | any", "none", 0,
	 set_require_auth,
	 "Record only events whose reporter is authenticated: an SPF pass, a "
	 "DKIM pass, or either.\nMessages from\n.Cm TrustedClients\n"
	 "(such as the bounces the MTA makes itself) count as authenticated.\n"
	 "SPF and DKIM results are stored with every "
	 "event in any case; with\n.Cm none\nthey are attribution, not a gate.", NULL},
	{"Nameservers", "addresses", NULL, 0, set_nameservers,
	 "The DNS servers that SPF and DKIM lookups use, as addresses with an "
	 "optional\n.Li @ Ns Ar port ,\nseparated by spaces.\nWithout it the "
	 "system's resolver configuration is used.",
	 "127.0.0.1 ::1"},
	{"DnsTimeout", "duration", "5s", 0, set_dns_timeout,
	 "How long one SPF or DKIM lookup may take before it counts as a "
	 "temporary error (1s to 60s).", NULL},
	{"AuthservID", "host", NULL, 0, set_authserv_id,
	 "The authentication service identifier in the\n"
	 ".Li Authentication-Results\nheader.\nDefault: the host name.",
	 "mx.example.nl"},
	{"MaxInboundSize", "size", "10M", 0, set_max_inbound,
	 "How much of an inbound message is kept for parsing (64k to 256M).\n"
	 "Reports sit at the start of a bounce; a longer message is parsed from "
	 "its first part and its DKIM signatures are still verified over all "
	 "of it.", NULL},
	{"MXHost", "hosts", NULL, 1, set_mx_hosts,
	 "The host names that receive mail for the feedback domains, in order "
	 "of preference: what\n.Xr feedbackctl 8\n.Cm dns advise\nputs in the "
	 "feedback domain's MX records and\n.Cm dns check\nexpects there.",
	 "mx1.example.net mx2.example.net"},
	{"CnameTarget", "host", NULL, 0, set_cname_target,
	 "For DNS providers that cannot publish MX records: a host that has "
	 "the MX and SPF records a feedback domain needs, so that the feedback "
	 "domain can be a CNAME to it.",
	 "feedback.example.net"},
	{"SpfInclude", "domain", NULL, 0, set_spf_include,
	 "A domain whose SPF record lists the hosts that send the mail; the "
	 "advised SPF records include it.",
	 "_spf.example.net"},
	{"OutboundAddresses", "networks", NULL, 1, set_outbound,
	 "The addresses that send the mail, for the advised SPF records and for "
	 "checking that SPF passes for each of them.",
	 "192.0.2.25 2001:db8::25"},
	{"DkimSelector", "selector", "fm", 0, set_dkim_selector,
	 "The DKIM selector of the key the mail is signed with.", NULL},
	{"DkimKeyFile", "path", NULL, 0, set_dkim_key_file,
	 "The private key (PEM) the mail is signed with, to advise and check "
	 "its public DNS record;\n.Cm feedbackctl dkim keygen\nmakes one.",
	 "/etc/feedback-milter/dkim.pem"},
	{"DmarcReport", "address", NULL, 0, set_dmarc_rua,
	 "The address that the advised DMARC record asks for aggregate reports "
	 "to\n.Pq Li rua .",
	 "dmarc@example.net"},
	{"Database", "path", FM_LOCALSTATEDIR "/lib/feedback-milter/feedback.db", 0,
	 set_database,
	 "The SQLite database of sends. Its directory must be writable by\n"
	 ".Cm UserID .", NULL},
	{"DatabaseBusyTimeout", "duration", "5s", 0, set_busy_timeout,
	 "How long a write waits for a database locked by another process "
	 "before the message is deferred (at most 10m).", NULL},
};

#define NOPTIONS (sizeof(fm_options) / sizeof(fm_options[0]))

/* find_option - table row by case-insensitive name */
static const fm_option_t *
find_option(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strlen(fm_options[i].name) == len &&
		    strncasecmp(fm_options[i].name, name, len) == 0)
			return &fm_options[i];
	return NULL;
}

/* config_new - an empty config with every default applied */
static fm_config_t *
config_new(char *err, size_t errlen)
{
	fm_config_t *cfg = calloc(1, sizeof(*cfg));
	char why[256];
	size_t i;

	if (cfg == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	cfg->refs = 1;
	for (i = 0; i < NOPTIONS; i++) {
		if (fm_options[i].def == NULL)
			continue;
		if (fm_options[i].set(cfg, fm_options[i].def, 1, why,
				      sizeof(why)) < 0) {
			fail(err, errlen, "default of %s: %s", fm_options[i].name,
			     why);
			fm_config_unref(cfg);
			return NULL;
		}
	}
	return cfg;
}

/* trim - strip leading and trailing white space in place */
static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* check_domains - the checks that span lines */
static int
check_domains(const fm_config_t *cfg, const char *name, char *err,
	      size_t errlen)
{
	if (cfg->ndomains == 0)
		return fail(err, errlen,
			    "%s: SenderDomain: none configured; at least one is "
			    "required", name);
	return 0;
}

/* parse_line - one "Name value" line; 0, or -1 with the message */
static int
parse_line(fm_config_t *cfg, char *line, const char *name, int lineno,
	   int *seen, char *err, size_t errlen)
{
	const fm_option_t *opt;
	char why[512], *p = trim(line), *value;
	size_t idx, nlen;

	if (*p == '\0' || *p == '#')
		return 0;
	for (nlen = 0; p[nlen] && !isspace((unsigned char)p[nlen]); nlen++)
		;
	value = trim(p + nlen);
	if ((opt = find_option(p, nlen)) == NULL)
		return fail(err, errlen, "%s:%d: %.*s: unknown option", name,
			    lineno, (int)(nlen > 64 ? 64 : nlen), p);
	idx = (size_t)(opt - fm_options);
	p[nlen] = '\0';
	if (*value == '\0')
		return fail(err, errlen, "%s:%d: %s: a value is required", name,
			    lineno, opt->name);
	if (seen[idx] && !opt->repeatable)
		return fail(err, errlen, "%s:%d: %s: given twice (first on line %d)",
			    name, lineno, opt->name, seen[idx]);
	if (opt->set(cfg, value, seen[idx] == 0, why, sizeof(why)) < 0)
		return fail(err, errlen, "%s:%d: %s: %s", name, lineno, opt->name,
			    why);
	if (seen[idx] == 0)
		seen[idx] = lineno;
	return 0;
}

/* fm_config_parse - parse configuration text */
fm_config_t *
fm_config_parse(const char *text, const char *name, char *err, size_t errlen)
{
	int seen[NOPTIONS] = {0}, lineno = 0;
	fm_config_t *cfg;
	char *copy = NULL, *line, *next;

	if ((cfg = config_new(err, errlen)) == NULL)
		return NULL;
	if ((copy = strdup(text)) == NULL) {
		fail(err, errlen, "out of memory");
		goto bad;
	}
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		if (parse_line(cfg, line, name, lineno, seen, err, errlen) < 0)
			goto bad;
	}
	if (check_domains(cfg, name, err, errlen) < 0)
		goto bad;
	if ((cfg->path = strdup(name)) == NULL) {
		fail(err, errlen, "out of memory");
		goto bad;
	}
	free(copy);
	return cfg;
bad:
	free(copy);
	fm_config_unref(cfg);
	return NULL;
}

/* fm_config_load - read and parse a file */
fm_config_t *
fm_config_load(const char *path, char *err, size_t errlen)
{
	fm_config_t *cfg = NULL;
	char *text = NULL;
	size_t len = 0, n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(MAX_CONFIG_SIZE + 1)) == NULL) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	while ((n = fread(text + len, 1, MAX_CONFIG_SIZE + 1 - len, fp)) > 0)
		len += n;
	if (ferror(fp)) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > MAX_CONFIG_SIZE) {
		fail(err, errlen, "%s: larger than %d octets", path,
		     MAX_CONFIG_SIZE);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		fail(err, errlen, "%s: contains a NUL octet", path);
		goto out;
	}
	text[len] = '\0';
	cfg = fm_config_parse(text, path, err, errlen);
out:
	free(text);
	fclose(fp);
	return cfg;
}

/* fm_config_load_keys - load KeyFile */
int
fm_config_load_keys(fm_config_t *cfg, char *err, size_t errlen)
{
	fm_keyring_t *kr = fm_keyring_load(cfg->key_file, err, errlen);

	if (kr == NULL)
		return -1;
	fm_keyring_free(cfg->keys);
	cfg->keys = kr;
	return 0;
}

/* fm_config_ref - take a reference (the caller serialises with unref) */
fm_config_t *
fm_config_ref(fm_config_t *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_SEQ_CST);
	return cfg;
}

/* fm_config_unref - drop a reference, freeing on the last */
void
fm_config_unref(fm_config_t *cfg)
{
	size_t i;

	if (cfg == NULL || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	free(cfg->socket);
	free(cfg->user_id);
	free(cfg->pid_file);
	free(cfg->key_file);
	for (i = 0; i < cfg->ndomains; i++) {
		free(cfg->domains[i].domain);
		free(cfg->domains[i].feedback);
	}
	free(cfg->domains);
	free(cfg->trusted);
	for (i = 0; i < cfg->nident_headers; i++)
		free(cfg->ident_headers[i]);
	free(cfg->ident_headers);
	free(cfg->database);
	for (i = 0; i < cfg->nmx_hosts; i++)
		free(cfg->mx_hosts[i]);
	free(cfg->mx_hosts);
	free(cfg->cname_target);
	free(cfg->spf_include);
	free(cfg->outbound);
	free(cfg->dkim_selector);
	free(cfg->dkim_key_file);
	free(cfg->dmarc_rua);
	free(cfg->nameservers);
	free(cfg->authserv_id);
	free(cfg->path);
	fm_keyring_free(cfg->keys);
	free(cfg);
}

/* fm_config_sender_domain - the entry for a sender domain, or NULL */
const fm_domain_t *
fm_config_sender_domain(const fm_config_t *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->ndomains; i++)
		if (strcasecmp(cfg->domains[i].domain, domain) == 0)
			return &cfg->domains[i];
	return NULL;
}

/* fm_config_feedback_domain - the entry whose feedback domain this is */
const fm_domain_t *
fm_config_feedback_domain(const fm_config_t *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->ndomains; i++)
		if (strcasecmp(cfg->domains[i].feedback, domain) == 0)
			return &cfg->domains[i];
	return NULL;
}

/* net_match - does addr (family-sized octets) fall in net */
static int
net_match(const fm_net_t *net, int family, const unsigned char *addr)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (net->family != family)
		return 0;
	if (memcmp(net->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((net->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

/* fm_config_trusted_addr - is the client address in TrustedClients */
int
fm_config_trusted_addr(const fm_config_t *cfg, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						 0xff, 0xff};
	const unsigned char *addr;
	int family;
	size_t i;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const unsigned char *)&((const struct sockaddr_in *)
						(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		addr = (const unsigned char *)&((const struct sockaddr_in6 *)
						(const void *)sa)->sin6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return 0;
	}
	for (i = 0; i < cfg->ntrusted; i++)
		if (net_match(&cfg->trusted[i], family, addr))
			return 1;
	return 0;
}

/* write_doc - manual text with each sentence on a line of its own */
static void
write_doc(FILE *fp, const char *doc)
{
	const char *p;
	int macro = doc[0] == '.';

	for (p = doc; *p; p++) {
		fputc(*p, fp);
		if (*p == '\n')
			macro = p[1] == '.';
		else if (!macro && (*p == '.' || *p == '?' || *p == '!') &&
			 p[1] == ' ' && isupper((unsigned char)p[2])) {
			fputc('\n', fp);
			p++;
		}
	}
	fputc('\n', fp);
}

/* fm_config_write_man - the mdoc OPTIONS section */
void
fm_config_write_man(FILE *fp)
{
	size_t i;

	fputs(".Sh OPTIONS\n.Bl -tag -width Ds\n", fp);
	for (i = 0; i < NOPTIONS; i++) {
		const fm_option_t *o = &fm_options[i];

		fprintf(fp, ".It Cm %s Ar %s\n", o->name, o->arg);
		write_doc(fp, o->doc);
		if (o->def != NULL)
			fprintf(fp, ".Pp\nDefault:\n.Ql %s .\n", o->def);
		else if (o->repeatable)
			fputs(".Pp\nMay be repeated; no default.\n", fp);
		else
			fputs(".Pp\nNo default.\n", fp);
	}
	fputs(".El\n", fp);
}

/* fm_config_write_sample - a sample file listing every option */
void
fm_config_write_sample(FILE *fp)
{
	size_t i;

	fputs("# feedback-milter.conf - see feedback-milter.conf(5)\n"
	      "# Lines are \"Name value\"; '#' starts a comment.\n\n"
	      "SenderDomain example.nl\n", fp);
	for (i = 0; i < NOPTIONS; i++) {
		if (strcmp(fm_options[i].name, "SenderDomain") == 0)
			continue;
		if (fm_options[i].def != NULL)
			fprintf(fp, "#%s %s\n", fm_options[i].name,
				fm_options[i].def);
		else
			fprintf(fp, "#%s %s\n", fm_options[i].name,
				fm_options[i].example ? fm_options[i].example
						      : fm_options[i].arg);
	}
}
