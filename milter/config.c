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
 *
 * This file holds the parser and loader, reference counting, the lookups
 * and the writers of the manual section and the sample file, and the
 * fm_cfg_ value parsers (boolean, duration, host name, network) that the
 * setters share. The table itself is in config_table.c, the setters are in
 * config_set.c, and config_int.h declares what the three share.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config_int.h"

#define MAX_CONFIG_SIZE (1024 * 1024)

/* fm_cfg_fail - format a validator message */
int
fm_cfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* fm_cfg_parse_bool - yes/no/true/false/on/off/1/0 */
int
fm_cfg_parse_bool(const char *v, int *out, char *err, size_t errlen)
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
	return fm_cfg_fail(err, errlen,
			   "\"%s\" is not a boolean (use yes or no)", v);
}

/* fm_cfg_parse_duration - "30d", "12h", "90m", "45s", "2w" to seconds */
int
fm_cfg_parse_duration(const char *v, unsigned long long *secs, char *err,
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
	return fm_cfg_fail(
		err, errlen,
		"\"%s\" is not a duration (a number with s, m, h, d or w)", v);
}

/* fm_cfg_domain_valid - a host name: LDH labels of 1..63, 253 in all */
int
fm_cfg_domain_valid(const char *d)
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

/* fm_cfg_parse_net - ADDR or ADDR/PREFIX, IPv4 or IPv6 */
int
fm_cfg_parse_net(const char *tok, fm_net_t *net, char *err, size_t errlen)
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
	return fm_cfg_fail(err, errlen,
			   "\"%s\" is not an address or network (192.0.2.0/24, "
			   "2001:db8::/32)",
			   tok);
}

/* find_option - table row by case-insensitive name */
static const fm_option_t *
find_option(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < fm_noptions; i++)
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
		fm_cfg_fail(err, errlen, "out of memory");
		return NULL;
	}
	cfg->refs = 1;
	for (i = 0; i < fm_noptions; i++) {
		if (fm_options[i].def == NULL)
			continue;
		if (fm_options[i].set(cfg, fm_options[i].def, 1, why,
				      sizeof(why)) < 0) {
			fm_cfg_fail(err, errlen, "default of %s: %s",
				    fm_options[i].name, why);
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
		return fm_cfg_fail(
			err, errlen,
			"%s: SenderDomain: none configured; at least one is "
			"required",
			name);
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
		return fm_cfg_fail(err, errlen, "%s:%d: %.*s: unknown option",
				   name, lineno, (int)(nlen > 64 ? 64 : nlen),
				   p);
	idx = (size_t)(opt - fm_options);
	p[nlen] = '\0';
	if (*value == '\0')
		return fm_cfg_fail(err, errlen,
				   "%s:%d: %s: a value is required", name,
				   lineno, opt->name);
	if (seen[idx] && !(opt->flags & FM_OPT_REPEAT))
		return fm_cfg_fail(err, errlen,
				   "%s:%d: %s: given twice (first on line %d)",
				   name, lineno, opt->name, seen[idx]);
	if (opt->set(cfg, value, seen[idx] == 0, why, sizeof(why)) < 0)
		return fm_cfg_fail(err, errlen, "%s:%d: %s: %s", name, lineno,
				   opt->name, why);
	if (seen[idx] == 0)
		seen[idx] = lineno;
	return 0;
}

/* fm_config_parse - parse configuration text */
fm_config_t *
fm_config_parse(const char *text, const char *name, char *err, size_t errlen)
{
	int seen[FM_CFG_MAX_OPTIONS] = {0}, lineno = 0;
	fm_config_t *cfg;
	char *copy = NULL, *line, *next;

	if ((cfg = config_new(err, errlen)) == NULL)
		return NULL;
	if ((copy = strdup(text)) == NULL) {
		fm_cfg_fail(err, errlen, "out of memory");
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
		fm_cfg_fail(err, errlen, "out of memory");
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
		fm_cfg_fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(MAX_CONFIG_SIZE + 1)) == NULL) {
		fm_cfg_fail(err, errlen, "out of memory");
		goto out;
	}
	while ((n = fread(text + len, 1, MAX_CONFIG_SIZE + 1 - len, fp)) > 0)
		len += n;
	if (ferror(fp)) {
		fm_cfg_fail(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > MAX_CONFIG_SIZE) {
		fm_cfg_fail(err, errlen, "%s: larger than %d octets", path,
			    MAX_CONFIG_SIZE);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		fm_cfg_fail(err, errlen, "%s: contains a NUL octet", path);
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
	free(cfg->reject_text);
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

/* fm_config_advise - see config.h */
int
fm_config_advise(const fm_config_t *cfg,
		 void (*say)(void *arg, const char *text), void *arg)
{
	char keep[24], other[24], text[512];
	unsigned life = cfg->code_lifetime_days * 86400u;
	int n = 0, k;

	if (cfg->retention == 0)
		return 0;
	fm_rules_duration(cfg->retention, keep, sizeof(keep));
	if (cfg->retention < life) {
		fm_rules_duration(life, other, sizeof(other));
		snprintf(text, sizeof(text), "Retention %s is shorter than "
			 "CodeLifetime %s: a report about a message sent more "
			 "than %s ago passes the code check but finds no send "
			 "record, so it is recorded without its send and "
			 "suppresses nobody", keep, other, keep);
		say(arg, text);
		n++;
	}
	for (k = 0; k < FM_NCLASSES; k++) {
		const fm_followup_t *r = &cfg->rules.rule[k];

		if (r->kind != FM_RULE_THRESHOLD || r->window <= cfg->retention)
			continue;
		fm_rules_duration(r->window, other, sizeof(other));
		snprintf(text, sizeof(text), "Retention %s is shorter than "
			 "the %s window of SuppressionRule %s: its events are "
			 "deleted before the window ends, so fewer of them "
			 "count", keep, other, fm_config_class_names[k]);
		say(arg, text);
		n++;
	}
	return n;
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
	for (i = 0; i < fm_noptions; i++) {
		const fm_option_t *o = &fm_options[i];

		fprintf(fp, ".It Cm %s Ar %s\n", o->name, o->arg);
		write_doc(fp, o->doc);
		if (o->def != NULL)
			fprintf(fp, ".Pp\nDefault:\n.Ql %s .\n", o->def);
		else
			fputs(".Pp\nNo default.\n", fp);
		if (o->flags & FM_OPT_REPEAT)
			fputs("May be repeated.\n", fp);
		if (o->flags & FM_OPT_RESTART)
			fputs("Takes effect at the next start, not on reload.\n",
			      fp);
	}
	fputs(".El\n", fp);
}

/* fm_config_write_sample - a sample file listing every option */
void
fm_config_write_sample(FILE *fp)
{
	size_t i;

	fputs("# feedback-milter.conf - see feedback-milter.conf(5)\n"
	      "# Lines are \"Name value\"; lines starting with '#' are comments.\n\n"
	      "SenderDomain example.nl\n", fp);
	for (i = 0; i < fm_noptions; i++) {
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
