/*
 * config_int - what config.c, config_set.c and config_table.c share
 *
 * Not for other modules: they use config.h. An option is one fm_option_t
 * row of fm_options[] (config_table.c); its setter (config_set.c) checks a
 * value and stores it in the fm_config_t, or returns -1 with a message in
 * err. first is 1 for the option's first value (the default, or the first
 * line that gives it), so that a repeatable option can replace its
 * default instead of adding to it. The fm_cfg_ helpers (config.c) parse
 * the value types that several setters share; they too return 0, or -1
 * with a message.
 */
#ifndef FM_CONFIG_INT_H
#define FM_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

#ifndef FM_LOCALSTATEDIR
#define FM_LOCALSTATEDIR "/var"
#endif

/* The most rows fm_options[] may have: the parser counts lines per row. */
#define FM_CFG_MAX_OPTIONS 64

typedef int (*fm_setter_t)(fm_config_t *cfg, const char *value, int first,
			   char *err, size_t errlen);

/* fm_option_t flags */
#define FM_OPT_REPEAT	0x1	/* may be given on several lines */
#define FM_OPT_RESTART	0x2	/* a reload (SIGHUP) does not change it */

typedef struct {
	const char *name;
	const char *arg;	/* argument in the manual */
	const char *def;	/* default as text, or NULL */
	unsigned flags;		/* FM_OPT_* */
	fm_setter_t set;
	const char *doc;	/* mdoc text of the manual entry */
	const char *example;	/* value for the sample file, if no default */
} fm_option_t;

/* The option table, in manual order, and its number of rows. */
extern const fm_option_t fm_options[];
extern const size_t fm_noptions;

/* fm_cfg_fail - format a message into err; returns -1 */
int fm_cfg_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* fm_cfg_parse_bool - yes/no/true/false/on/off/1/0 into *out */
int fm_cfg_parse_bool(const char *v, int *out, char *err, size_t errlen);
/* fm_cfg_parse_duration - "30d", "12h", "90m", "45s", "2w" to seconds */
int fm_cfg_parse_duration(const char *v, unsigned long long *secs, char *err,
			  size_t errlen);
/* fm_cfg_domain_valid - a host name: LDH labels of 1..63, 253 in all */
int fm_cfg_domain_valid(const char *d);
/* fm_cfg_parse_net - ADDR or ADDR/PREFIX, IPv4 or IPv6 */
int fm_cfg_parse_net(const char *tok, fm_net_t *net, char *err,
		     size_t errlen);

/* The setters the table names, one per option, in table order. */
int fm_cfgset_socket(fm_config_t *cfg, const char *v, int first, char *err,
		     size_t errlen);
int fm_cfgset_socket_mode(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_user_id(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen);
int fm_cfgset_pid_file(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_syslog(fm_config_t *cfg, const char *v, int first, char *err,
		     size_t errlen);
int fm_cfgset_facility(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_log_level(fm_config_t *cfg, const char *v, int first, char *err,
			size_t errlen);
int fm_cfgset_key_file(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_lifetime(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_sender_domain(fm_config_t *cfg, const char *v, int first,
			    char *err, size_t errlen);
int fm_cfgset_trusted(fm_config_t *cfg, const char *v, int first, char *err,
		      size_t errlen);
int fm_cfgset_ident_headers(fm_config_t *cfg, const char *v, int first,
			    char *err, size_t errlen);
int fm_cfgset_strip(fm_config_t *cfg, const char *v, int first, char *err,
		    size_t errlen);
int fm_cfgset_bad_code(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_inbound_action(fm_config_t *cfg, const char *v, int first,
			     char *err, size_t errlen);
int fm_cfgset_require_auth(fm_config_t *cfg, const char *v, int first,
			   char *err, size_t errlen);
int fm_cfgset_nameservers(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_dns_timeout(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_authserv_id(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_max_inbound(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_mx_hosts(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_cname_target(fm_config_t *cfg, const char *v, int first,
			   char *err, size_t errlen);
int fm_cfgset_spf_include(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_outbound(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_dkim_selector(fm_config_t *cfg, const char *v, int first,
			    char *err, size_t errlen);
int fm_cfgset_dkim_key_file(fm_config_t *cfg, const char *v, int first,
			    char *err, size_t errlen);
int fm_cfgset_dmarc_rua(fm_config_t *cfg, const char *v, int first, char *err,
			size_t errlen);
int fm_cfgset_rules(fm_config_t *cfg, const char *v, int first, char *err,
		    size_t errlen);
int fm_cfgset_expiry(fm_config_t *cfg, const char *v, int first, char *err,
		     size_t errlen);
int fm_cfgset_reject_suppressed(fm_config_t *cfg, const char *v, int first,
				char *err, size_t errlen);
int fm_cfgset_reject_text(fm_config_t *cfg, const char *v, int first, char *err,
			  size_t errlen);
int fm_cfgset_retention(fm_config_t *cfg, const char *v, int first, char *err,
			size_t errlen);
int fm_cfgset_database(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);
int fm_cfgset_busy_timeout(fm_config_t *cfg, const char *v, int first,
			   char *err, size_t errlen);
int fm_cfgset_db_cache(fm_config_t *cfg, const char *v, int first, char *err,
		       size_t errlen);

#endif
