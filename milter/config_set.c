/*
 * config_set - the setters of the configuration options
 *
 * One setter per row of fm_options[] (config_table.c): it checks a value
 * from the file (or the row's default) and stores it in the fm_config_t,
 * or returns -1 with a message that names what is wrong; the parser in
 * config.c adds the file, line and option name. Setters of repeatable
 * options add to what is there, except where first says to replace a
 * default. Value types that several setters share are parsed by the
 * fm_cfg_ helpers in config.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>

#include "config_int.h"

/* xstrdup_into - replace *dst with a copy of src; -1 when out of memory */
static int
xstrdup_into(char **dst, const char *src, char *err, size_t errlen)
{
	char *copy = strdup(src);

	if (copy == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
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
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not an absolute path", v);
	return xstrdup_into(dst, v, err, errlen);
}

#define PATH_SETTER(fn, field)                                              \
	int fn(fm_config_t *cfg, const char *v, int first, char *err,       \
	       size_t errlen)                                               \
	{                                                                   \
		(void)first;                                                \
		return set_path(&cfg->field, v, err, errlen);               \
	}

PATH_SETTER(fm_cfgset_pid_file, pid_file)
PATH_SETTER(fm_cfgset_key_file, key_file)
PATH_SETTER(fm_cfgset_database, database)
STRING_SETTER(set_user_id_raw, user_id)

/* fm_cfgset_syslog - Syslog */
int
fm_cfgset_syslog(fm_config_t *cfg, const char *v, int first, char *err,
		 size_t errlen)
{
	(void)first;
	return fm_cfg_parse_bool(v, &cfg->syslog, err, errlen);
}

/* fm_cfgset_strip - StripIdentityHeaders */
int
fm_cfgset_strip(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	(void)first;
	return fm_cfg_parse_bool(v, &cfg->strip_ident_headers, err, errlen);
}

/* fm_cfgset_bad_code - BadCodeAction reject|accept */
int
fm_cfgset_bad_code(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	(void)first;
	if (strcasecmp(v, "reject") == 0)
		cfg->bad_code_accept = 0;
	else if (strcasecmp(v, "accept") == 0)
		cfg->bad_code_accept = 1;
	else
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not reject or accept", v);
	return 0;
}

static char *lowercase_dup(const char *s);

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

/* fm_cfgset_inbound_action - InboundAction [ACTION] [CLASS=ACTION ...] */
int
fm_cfgset_inbound_action(fm_config_t *cfg, const char *v, int first, char *err,
			 size_t errlen)
{
	char *copy, *tok, *save = NULL, *eq;
	unsigned char act;
	size_t i;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((eq = strchr(tok, '=')) == NULL) {
			if (parse_action(tok, strlen(tok), &act) < 0)
				rc = fm_cfg_fail(err, errlen,
						 "\"%s\" is not discard or "
						 "accept",
						 tok);
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
			rc = fm_cfg_fail(err, errlen,
					 "\"%.*s\" is not a class (hard, "
					 "soft, delayed, autoreply, complaint, "
					 "delivered, unknown)",
					 (int)(eq - tok), tok);
		else if (parse_action(eq + 1, strlen(eq + 1),
				      &cfg->inbound_accept[i]) < 0)
			rc = fm_cfg_fail(err, errlen,
					 "\"%s\" is not discard or accept",
					 eq + 1);
	}
	free(copy);
	return rc;
}

/* fm_cfgset_require_auth - RequireAuthentication none|spf|dkim|any */
int
fm_cfgset_require_auth(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen)
{
	static const char *const names[] = {"none", "spf", "dkim", "any"};
	size_t i;

	(void)first;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(v, names[i]) == 0)
			return cfg->require_auth = (int)i, 0;
	return fm_cfg_fail(err, errlen, "\"%s\" is not none, spf, dkim or any",
			   v);
}

/* fm_cfgset_nameservers - addresses with an optional @port */
int
fm_cfgset_nameservers(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	char *copy, *tok, *save = NULL, *at;
	unsigned char buf[16];
	int rc = 0;
	long port;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
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
			fm_cfg_fail(err, errlen,
				    "\"%s\" is not a list of addresses "
				    "with an optional @port",
				    v);
	}
	free(copy);
	return rc < 0 ? -1 : xstrdup_into(&cfg->nameservers, v, err, errlen);
}

/* fm_cfgset_dns_timeout - DnsTimeout: 1 s to 60 s */
int
fm_cfgset_dns_timeout(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (fm_cfg_parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs < 1 || secs > 60)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is out of range (1s to 60s)", v);
	cfg->dns_timeout_ms = (unsigned)(secs * 1000);
	return 0;
}

/* parse_size - octets with an optional k or M; 0 or -1 (not a size) */
static int
parse_size(const char *v, unsigned long long *out)
{
	unsigned long long n;
	char *end;

	errno = 0;
	if (*v < '0' || *v > '9')
		return -1;
	n = strtoull(v, &end, 10);
	if (end == v || errno != 0 || n > (1ULL << 40))
		return -1;
	if (*end == 'k' || *end == 'K')
		n *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		n *= 1024 * 1024, end++;
	if (*end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* fm_cfgset_max_inbound - MaxInboundSize: octets with k or M */
int
fm_cfgset_max_inbound(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	unsigned long long n;

	(void)first;
	if (parse_size(v, &n) < 0 || n < 64 * 1024 || n > 256ULL * 1024 * 1024)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not a size from 64k to 256M", v);
	cfg->max_inbound_size = (size_t)n;
	return 0;
}

/* fm_cfgset_db_cache - DatabaseCache: 1M to 1024M, kept in KiB */
int
fm_cfgset_db_cache(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	unsigned long long n;

	(void)first;
	if (parse_size(v, &n) < 0 || n < 1024 * 1024 ||
	    n > 1024ULL * 1024 * 1024)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not a size from 1M to 1024M", v);
	cfg->db_cache_kib = (unsigned)(n / 1024);
	return 0;
}

STRING_SETTER(set_authserv_id_raw, authserv_id)

/* fm_cfgset_authserv_id - AuthservID: a host name */
int
fm_cfgset_authserv_id(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	if (!fm_cfg_domain_valid(v) && strcmp(v, "localhost") != 0)
		return fm_cfg_fail(err, errlen, "\"%s\" is not a host name", v);
	return set_authserv_id_raw(cfg, v, first, err, errlen);
}

/* fm_cfgset_mx_hosts - MXHost: host names, in order of preference */
int
fm_cfgset_mx_hosts(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	char *copy, *tok, *save = NULL, **grown;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (!fm_cfg_domain_valid(tok)) {
			rc = fm_cfg_fail(err, errlen,
					 "\"%s\" is not a host name", tok);
			break;
		}
		grown = realloc(cfg->mx_hosts, (cfg->nmx_hosts + 1) * sizeof(*grown));
		if (grown == NULL)
			rc = fm_cfg_fail(err, errlen, "out of memory");
		else if ((grown[cfg->nmx_hosts] = lowercase_dup(tok)) == NULL) {
			cfg->mx_hosts = grown;
			rc = fm_cfg_fail(err, errlen, "out of memory");
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

	if (!fm_cfg_domain_valid(v))
		return fm_cfg_fail(err, errlen, "\"%s\" is not a host name", v);
	if ((copy = lowercase_dup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	free(*dst);
	*dst = copy;
	return 0;
}

/* fm_cfgset_cname_target - CnameTarget */
int
fm_cfgset_cname_target(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen)
{
	(void)first;
	return set_host(&cfg->cname_target, v, err, errlen);
}

/* fm_cfgset_spf_include - SpfInclude: a domain name, '_' allowed (_spf...) */
int
fm_cfgset_spf_include(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	char name[256], *p;

	(void)first;
	snprintf(name, sizeof(name), "%s", v);
	for (p = name; *p; p++)
		if (*p == '_')
			*p = 'u';
	if (strlen(v) >= sizeof(name) || !fm_cfg_domain_valid(name))
		return fm_cfg_fail(err, errlen, "\"%s\" is not a domain name",
				   v);
	return xstrdup_into(&cfg->spf_include, v, err, errlen);
}

/* fm_cfgset_outbound - OutboundAddresses: networks, added to on repetition */
int
fm_cfgset_outbound(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	char *copy, *tok, *save = NULL;
	fm_net_t net, *grown;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((rc = fm_cfg_parse_net(tok, &net, err, errlen)) < 0)
			break;
		grown = realloc(cfg->outbound, (cfg->noutbound + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = fm_cfg_fail(err, errlen, "out of memory");
			break;
		}
		cfg->outbound = grown;
		cfg->outbound[cfg->noutbound++] = net;
	}
	free(copy);
	return rc;
}

/* fm_cfgset_dkim_selector - DkimSelector: one DNS label */
int
fm_cfgset_dkim_selector(fm_config_t *cfg, const char *v, int first, char *err,
			size_t errlen)
{
	const char *p;

	(void)first;
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return fm_cfg_fail(err, errlen,
					   "\"%s\" is not a selector (letters, "
					   "digits, '-' and '_')",
					   v);
	if (p - v > 63)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is longer than 63 octets", v);
	return xstrdup_into(&cfg->dkim_selector, v, err, errlen);
}

PATH_SETTER(fm_cfgset_dkim_key_file, dkim_key_file)

/* fm_cfgset_dmarc_rua - DmarcReport: an address for aggregate reports */
int
fm_cfgset_dmarc_rua(fm_config_t *cfg, const char *v, int first, char *err,
		    size_t errlen)
{
	const char *addr = strncasecmp(v, "mailto:", 7) == 0 ? v + 7 : v;
	const char *at = strchr(addr, '@');

	(void)first;
	if (at == NULL || at == addr || !fm_cfg_domain_valid(at + 1) ||
	    strpbrk(addr, " \t;,!") != NULL)
		return fm_cfg_fail(err, errlen, "\"%s\" is not a mail address",
				   v);
	return xstrdup_into(&cfg->dmarc_rua, addr, err, errlen);
}

/* class_named - index of a class name of length len, or -1 */
static int
class_named(const char *name, size_t len)
{
	int i;

	for (i = 0; i < FM_NCLASSES; i++)
		if (strlen(fm_config_class_names[i]) == len &&
		    strncasecmp(name, fm_config_class_names[i], len) == 0)
			return i;
	return -1;
}

/* each_class_pair - split "CLASS=VALUE ..." and call fn for each */
static int
each_class_pair(fm_config_t *cfg, const char *v, char *err, size_t errlen,
		int (*fn)(fm_config_t *, int, const char *, char *, size_t))
{
	char *copy, *tok, *save = NULL, *eq;
	int rc = 0, cls;

	if ((copy = strdup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			rc = fm_cfg_fail(err, errlen,
					 "\"%s\" is not CLASS=VALUE", tok);
		else if ((cls = class_named(tok, (size_t)(eq - tok))) < 0)
			rc = fm_cfg_fail(err, errlen,
					 "\"%.*s\" is not a class (hard, "
					 "soft, delayed, autoreply, complaint, "
					 "delivered, unknown)",
					 (int)(eq - tok), tok);
		else
			rc = fn(cfg, cls, eq + 1, err, errlen);
	}
	free(copy);
	return rc;
}

/* one_rule - never, now, or COUNT/WINDOW */
static int
one_rule(fm_config_t *cfg, int cls, const char *v, char *err, size_t errlen)
{
	fm_followup_t *r = &cfg->rules.rule[cls];
	unsigned long long secs;
	unsigned long count;
	char *end;

	if (strcasecmp(v, "never") == 0)
		return r->kind = FM_RULE_NEVER, 0;
	if (strcasecmp(v, "now") == 0)
		return r->kind = FM_RULE_NOW, 0;
	count = strtoul(v, &end, 10);
	if (end == v || *end != '/' || count < 1 || count > 1000)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not never, now or COUNT/WINDOW "
				   "(such as 3/7d)",
				   v);
	if (fm_cfg_parse_duration(end + 1, &secs, err, errlen) < 0)
		return -1;
	if (secs < 60 || secs > 366ULL * 86400)
		return fm_cfg_fail(err, errlen,
				   "\"%s\": the window must be from 1m to "
				   "366d",
				   v);
	r->kind = FM_RULE_THRESHOLD;
	r->count = (unsigned)count;
	r->window = (unsigned)secs;
	return 0;
}

/* one_expiry - none or a duration */
static int
one_expiry(fm_config_t *cfg, int cls, const char *v, char *err, size_t errlen)
{
	unsigned long long secs;

	if (strcasecmp(v, "none") == 0)
		return cfg->rules.rule[cls].expiry = 0, 0;
	if (fm_cfg_parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs < 60 || secs > 10ULL * 366 * 86400)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is out of range (1m to 3660d, or "
				   "none)",
				   v);
	cfg->rules.rule[cls].expiry = (unsigned)secs;
	return 0;
}

/* fm_cfgset_rules - SuppressionRule CLASS=RULE ... */
int
fm_cfgset_rules(fm_config_t *cfg, const char *v, int first, char *err,
		size_t errlen)
{
	(void)first;
	return each_class_pair(cfg, v, err, errlen, one_rule);
}

/* fm_cfgset_expiry - SuppressionExpiry CLASS=DURATION|none ... */
int
fm_cfgset_expiry(fm_config_t *cfg, const char *v, int first, char *err,
		 size_t errlen)
{
	(void)first;
	return each_class_pair(cfg, v, err, errlen, one_expiry);
}

/* fm_cfgset_reject_suppressed - RejectSuppressed */
int
fm_cfgset_reject_suppressed(fm_config_t *cfg, const char *v, int first,
			    char *err, size_t errlen)
{
	(void)first;
	return fm_cfg_parse_bool(v, &cfg->reject_suppressed, err, errlen);
}

/* fm_cfgset_reject_text - RejectSuppressedText: printable ASCII, no '%' */
int
fm_cfgset_reject_text(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	const char *p;

	(void)first;
	for (p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '%')
			return fm_cfg_fail(err, errlen,
					   "the text must be printable ASCII "
					   "without %%");
	if (p - v > 200)
		return fm_cfg_fail(err, errlen,
				   "the text is longer than 200 characters");
	return xstrdup_into(&cfg->reject_text, v, err, errlen);
}

/* fm_cfgset_retention - Retention: none or a duration of at least a day */
int
fm_cfgset_retention(fm_config_t *cfg, const char *v, int first, char *err,
		    size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (strcasecmp(v, "none") == 0)
		return cfg->retention = 0, 0;
	if (fm_cfg_parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs < 86400 || secs > 10ULL * 366 * 86400)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is out of range (1d to 3660d, or "
				   "none)",
				   v);
	cfg->retention = (unsigned)secs;
	return 0;
}

/* fm_cfgset_socket - unix:/path, local:/path, inet[6]:PORT@HOST */
int
fm_cfgset_socket(fm_config_t *cfg, const char *v, int first, char *err,
		 size_t errlen)
{
	const char *p;
	char *end;
	long port;

	(void)first;
	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		p = strchr(v, ':') + 1;
		if (p[0] != '/')
			return fm_cfg_fail(
				err, errlen,
				"\"%s\": the socket path must be absolute", v);
		if (strlen(p) >= 108)
			return fm_cfg_fail(err, errlen, "\"%s\": path too long",
					   v);
	} else if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		p = strchr(v, ':') + 1;
		errno = 0;
		port = strtol(p, &end, 10);
		if (end == p || errno != 0 || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '@') ||
		    (*end == '@' && end[1] == '\0'))
			return fm_cfg_fail(
				err, errlen,
				"\"%s\" is not inet:PORT@HOST with a port "
				"from 1 to 65535",
				v);
	} else {
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not unix:/path or inet:PORT@HOST",
				   v);
	}
	return xstrdup_into(&cfg->socket, v, err, errlen);
}

/* fm_cfgset_socket_mode - an octal mode no wider than 0777 */
int
fm_cfgset_socket_mode(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen)
{
	char *end;
	unsigned long mode;

	(void)first;
	errno = 0;
	mode = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || mode > 0777)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not an octal mode such as 0660",
				   v);
	cfg->socket_mode = (unsigned)mode;
	return 0;
}

/* fm_cfgset_user_id - user or user:group */
int
fm_cfgset_user_id(fm_config_t *cfg, const char *v, int first, char *err,
		  size_t errlen)
{
	const char *p;

	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-:", *p) == NULL)
			return fm_cfg_fail(err, errlen,
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

/* fm_cfgset_facility - SyslogFacility */
int
fm_cfgset_facility(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	size_t i;

	(void)first;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(v, facilities[i].name) == 0)
			return cfg->syslog_facility = facilities[i].value, 0;
	return fm_cfg_fail(
		err, errlen,
		"\"%s\" is not a facility (mail, daemon, user, local0..local7)",
		v);
}

/* fm_cfgset_log_level - LogLevel */
int
fm_cfgset_log_level(fm_config_t *cfg, const char *v, int first, char *err,
		    size_t errlen)
{
	size_t i;

	(void)first;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(v, levels[i].name) == 0)
			return cfg->log_level = levels[i].value, 0;
	return fm_cfg_fail(
		err, errlen,
		"\"%s\" is not a level (error, warning, notice, info, debug)",
		v);
}

/* fm_cfgset_lifetime - CodeLifetime: whole days from 1 to 1000 */
int
fm_cfgset_lifetime(fm_config_t *cfg, const char *v, int first, char *err,
		   size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (fm_cfg_parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs < 86400 || secs > 1000ULL * 86400)
		return fm_cfg_fail(
			err, errlen,
			"\"%s\" is out of range: codes carry a day number, "
			"so the lifetime must be from 1d to 1000d",
			v);
	if (secs % 86400 != 0)
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not a whole number of days: codes "
				   "carry a day number",
				   v);
	cfg->code_lifetime_days = (unsigned)(secs / 86400);
	return 0;
}

/* fm_cfgset_busy_timeout - DatabaseBusyTimeout: up to 10 minutes */
int
fm_cfgset_busy_timeout(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen)
{
	unsigned long long secs;

	(void)first;
	if (fm_cfg_parse_duration(v, &secs, err, errlen) < 0)
		return -1;
	if (secs > 600)
		return fm_cfg_fail(err, errlen, "\"%s\" is longer than 10m", v);
	cfg->busy_timeout_ms = (unsigned)(secs * 1000);
	return 0;
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

/* fm_cfgset_sender_domain - SenderDomain DOMAIN [FEEDBACK-DOMAIN] */
int
fm_cfgset_sender_domain(fm_config_t *cfg, const char *v, int first, char *err,
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
		return fm_cfg_fail(err, errlen,
				   "\"%s\" is not DOMAIN [FEEDBACK-DOMAIN]", v);
	if (!fm_cfg_domain_valid(dom))
		return fm_cfg_fail(err, errlen, "\"%s\" is not a domain name",
				   dom);
	if (n == 1)
		snprintf(fb, sizeof(fb), "feedback.%s", dom);
	if (!fm_cfg_domain_valid(fb))
		return fm_cfg_fail(err, errlen,
				   n == 1 ? "\"%s\" is too long for a "
					    "feedback domain: name one"
					  : "\"%s\" is not a "
					    "domain name",
				   n == 1 ? dom : fb);
	if (strcasecmp(dom, fb) == 0)
		return fm_cfg_fail(err, errlen,
				   "the feedback domain must differ from %s",
				   dom);
	if ((taken = domain_taken(cfg, dom)) != NULL)
		return fm_cfg_fail(err, errlen, "%s is already %s", dom, taken);
	if ((taken = domain_taken(cfg, fb)) != NULL)
		return fm_cfg_fail(err, errlen, "%s is already %s", fb, taken);
	grown = realloc(cfg->domains, (cfg->ndomains + 1) * sizeof(*grown));
	if (grown == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	cfg->domains = grown;
	d = &cfg->domains[cfg->ndomains];
	d->domain = lowercase_dup(dom);
	d->feedback = lowercase_dup(fb);
	if (d->domain == NULL || d->feedback == NULL) {
		free(d->domain);
		free(d->feedback);
		return fm_cfg_fail(err, errlen, "out of memory");
	}
	cfg->ndomains++;
	return 0;
}

/* fm_cfgset_trusted - TrustedClients: networks separated by spaces or commas */
int
fm_cfgset_trusted(fm_config_t *cfg, const char *v, int first, char *err,
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
		return fm_cfg_fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if ((rc = fm_cfg_parse_net(tok, &net, err, errlen)) < 0)
			break;
		grown = realloc(cfg->trusted,
				(cfg->ntrusted + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = fm_cfg_fail(err, errlen, "out of memory");
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

/* fm_cfgset_ident_headers - IdentityHeaders: header names */
int
fm_cfgset_ident_headers(fm_config_t *cfg, const char *v, int first, char *err,
			size_t errlen)
{
	char *copy, *tok, *save = NULL, **grown;
	int rc = 0;

	(void)first;
	if ((copy = strdup(v)) == NULL)
		return fm_cfg_fail(err, errlen, "out of memory");
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (!header_name_valid(tok)) {
			rc = fm_cfg_fail(err, errlen,
					 "\"%s\" is not a header name", tok);
			break;
		}
		grown = realloc(cfg->ident_headers,
				(cfg->nident_headers + 1) * sizeof(*grown));
		if (grown == NULL || (grown[cfg->nident_headers] = strdup(tok)) == NULL) {
			if (grown != NULL)
				cfg->ident_headers = grown;
			rc = fm_cfg_fail(err, errlen, "out of memory");
			break;
		}
		cfg->ident_headers = grown;
		cfg->nident_headers++;
	}
	free(copy);
	return rc;
}
