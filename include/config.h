/*
 * config - the configuration file, parsed from one declarative option table
 *
 * The file has "Name value" lines and '#' comments, in the style of
 * opendkim.conf. Option names are case-insensitive. Every option is defined
 * once in the table in config_table.c (name, type, default, validator and manual
 * text); the parser, the validators' messages, `feedback-milter -n` and the
 * OPTIONS section of feedback-milter.conf(5) all follow from it.
 *
 * A loaded fm_config_t is immutable and reference counted: the milter pins a
 * snapshot per connection, and SIGHUP swaps in a new one.
 */
#ifndef FM_CONFIG_H
#define FM_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <netinet/in.h>

#include "codec.h"
#include "rules.h"

typedef struct {
	char *domain;		/* sender domain, lowercase */
	char *feedback;		/* its feedback domain, lowercase */
} fm_domain_t;

typedef struct {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
} fm_net_t;

/* RequireAuthentication */
enum { FM_AUTH_NONE = 0, FM_AUTH_SPF, FM_AUTH_DKIM, FM_AUTH_ANY };

/* Classes as InboundAction names them, in fm_class_t order. */
extern const char *const fm_config_class_names[FM_NCLASSES];

typedef struct fm_config {
	/* daemon */
	char *socket;
	unsigned socket_mode;
	char *user_id;
	char *pid_file;
	int syslog;
	int syslog_facility;
	int log_level;		/* syslog priority: LOG_ERR .. LOG_DEBUG */
	/* codes */
	char *key_file;
	unsigned code_lifetime_days;
	/* outbound */
	fm_domain_t *domains;
	size_t ndomains;
	fm_net_t *trusted;
	size_t ntrusted;
	char **ident_headers;
	size_t nident_headers;
	int strip_ident_headers;
	/* inbound */
	int bad_code_accept;	/* BadCodeAction accept */
	char *nameservers;	/* NULL: the system's resolver */
	unsigned dns_timeout_ms;
	int require_auth;	/* FM_AUTH_* */
	unsigned char inbound_accept[FM_NCLASSES];	/* per class: 1 accept */
	char *authserv_id;	/* NULL: the host name */
	size_t max_inbound_size;
	/* DNS advice and checks (feedbackctl dns) */
	char **mx_hosts;	/* MXHost */
	size_t nmx_hosts;
	char *cname_target;	/* CnameTarget */
	char *spf_include;	/* SpfInclude */
	fm_net_t *outbound;	/* OutboundAddresses */
	size_t noutbound;
	char *dkim_selector;
	char *dkim_key_file;
	char *dmarc_rua;	/* DmarcReport: mailto: address */
	/* follow-up rules and suppression */
	fm_rules_t rules;	/* SuppressionRule, SuppressionExpiry */
	int reject_suppressed;	/* RejectSuppressed */
	char *reject_text;	/* RejectSuppressedText */
	unsigned retention;	/* Retention: seconds, 0 = keep all */
	/* store */
	char *database;
	unsigned busy_timeout_ms;
	unsigned db_cache_kib;	/* DatabaseCache */

	/* derived */
	char *path;		/* file it was read from */
	fm_keyring_t *keys;	/* loaded by fm_config_load_keys */
	int refs;
} fm_config_t;

/*
 * fm_config_parse - parse text (name is the file name used in messages).
 * On error returns NULL and writes "FILE:LINE: Option: what is wrong".
 */
fm_config_t *fm_config_parse(const char *text, const char *name, char *err,
			     size_t errlen);
/* fm_config_load - read and parse the file at path */
fm_config_t *fm_config_load(const char *path, char *err, size_t errlen);
/* fm_config_load_keys - load KeyFile into cfg->keys; -1 with message */
int fm_config_load_keys(fm_config_t *cfg, char *err, size_t errlen);

fm_config_t *fm_config_ref(fm_config_t *cfg);
void fm_config_unref(fm_config_t *cfg);

/* fm_config_feedback_domain - the feedback domain for a sender domain */
const fm_domain_t *fm_config_sender_domain(const fm_config_t *cfg,
					   const char *domain);
/* fm_config_is_feedback_domain - the entry whose feedback domain this is */
const fm_domain_t *fm_config_feedback_domain(const fm_config_t *cfg,
					     const char *domain);
/* fm_config_trusted_addr - is this client address in TrustedClients */
int fm_config_trusted_addr(const fm_config_t *cfg, const struct sockaddr *sa);

/*
 * fm_config_advise - settings that load but lose something the operator
 * probably wants (Retention shorter than CodeLifetime or than a threshold
 * window): calls say(arg, text) once for each; returns how many
 */
int fm_config_advise(const fm_config_t *cfg,
		     void (*say)(void *arg, const char *text), void *arg);

/* fm_config_write_man - the OPTIONS section of feedback-milter.conf(5) */
void fm_config_write_man(FILE *fp);
/* fm_config_write_sample - a commented sample configuration file */
void fm_config_write_sample(FILE *fp);

/* Defaults that other modules and the manual refer to. */
#ifndef FM_SYSCONFDIR
#define FM_SYSCONFDIR "/etc"
#endif
#define FM_DEFAULT_CONFIG FM_SYSCONFDIR "/feedback-milter.conf"

#endif
