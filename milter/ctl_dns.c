/*
 * ctl_dns - the "dns" and "dkim" commands of feedbackctl
 *
 * Maps the configuration onto an fm_dns_setup_t and runs the advice
 * (fm_dns_advise), the live check (fm_dns_check) or the key generator
 * (fm_dkim_key_generate) of dnscheck. Output: the advice and the key record
 * as zone-file lines on standard output; the check as one line per record
 * (colour and marks on a terminal, plain text when piped, JSON lines with
 * --json). Errors go to standard error with the reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "ctl_dns.h"
#include "dnscheck.h"
#include "resolver.h"
#include "spfcheck.h"

#define FM_DKIM_KEYGEN_BITS 2048

typedef struct fm_ctl_setup {
	fm_dns_setup_t s;
	char domain[256];
	char *key;		/* public key, base64 */
	char why[512];		/* why there is none */
} fm_ctl_setup_t;

/* fm_ctl_usage - the synopsis of the dns and dkim commands */
static int fm_ctl_usage(void)
{
	fputs("usage: feedbackctl [-c config-file] dns advise DOMAIN\n"
	      "       feedbackctl [-c config-file] dns check [--json] "
	      "[--auth-port PORT] [--no-auth] DOMAIN\n"
	      "       feedbackctl [-c config-file] dkim keygen DOMAIN\n",
	      stderr);
	return EX_USAGE;
}

/* fm_ctl_setup - the setup of a SenderDomain; -1 if it is not one */
static int fm_ctl_setup(const fm_config_t *cfg, const char *arg,
			fm_ctl_setup_t *cs, int load_key)
{
	const fm_domain_t *d;
	size_t i, n = strlen(arg);

	memset(cs, 0, sizeof(*cs));
	if (n > 0 && arg[n - 1] == '.')
		n--;
	for (i = 0; i < n && i + 1 < sizeof(cs->domain); i++)
		cs->domain[i] = (char)tolower((unsigned char)arg[i]);
	cs->domain[i] = '\0';
	if ((d = fm_config_sender_domain(cfg, cs->domain)) == NULL) {
		fprintf(stderr, "feedbackctl: %s is not a SenderDomain in %s\n",
			cs->domain, cfg->path ? cfg->path : "the configuration");
		return -1;
	}
	cs->s.domain = d->domain;
	cs->s.feedback = d->feedback;
	cs->s.mx_hosts = cfg->mx_hosts;
	cs->s.nmx_hosts = cfg->nmx_hosts;
	cs->s.cname_target = cfg->cname_target;
	cs->s.spf_include = cfg->spf_include;
	cs->s.outbound = cfg->outbound;
	cs->s.noutbound = cfg->noutbound;
	cs->s.selector = cfg->dkim_selector ? cfg->dkim_selector : "fm";
	cs->s.rua = cfg->dmarc_rua;
	cs->s.ttl = FM_DNS_ADVICE_TTL;
	if (cfg->dkim_key_file == NULL)
		snprintf(cs->why, sizeof(cs->why), "DkimKeyFile is not set");
	else if (load_key && fm_dkim_key_load(cfg->dkim_key_file, &cs->key,
					      &cs->s.dkim_bits, cs->why,
					      sizeof(cs->why)) == 0)
		cs->s.dkim_key = cs->key;
	cs->s.dkim_why = cs->why;
	return 0;
}

/* fm_ctl_advise - dns advise DOMAIN */
static int fm_ctl_advise(const fm_config_t *cfg, int argc, char **argv)
{
	fm_ctl_setup_t cs;
	int missing;

	if (argc != 1)
		return fm_ctl_usage();
	if (fm_ctl_setup(cfg, argv[0], &cs, 1) < 0)
		return EX_CONFIG;
	missing = fm_dns_advise(&cs.s, stdout);
	free(cs.key);
	if (fflush(stdout) != 0 || missing < 0) {
		fprintf(stderr, "feedbackctl: cannot write the advice\n");
		return EX_IOERR;
	}
	if (missing > 0)
		fprintf(stderr, "feedbackctl: %d record%s not advised for want "
			"of configuration: see the comments\n", missing,
			missing == 1 ? "" : "s");
	return missing > 0 ? 1 : 0;
}

/* fm_ctl_color - colour and marks: a terminal that is not dumb */
static int fm_ctl_color(void)
{
	const char *term = getenv("TERM");

	if (!isatty(STDOUT_FILENO) || getenv("NO_COLOR") != NULL)
		return 0;
	return term != NULL && strcmp(term, "dumb") != 0;
}

typedef struct fm_ctl_check_opts {
	int json;
	int no_auth;
	unsigned auth_port;
	const char *domain;
} fm_ctl_check_opts_t;

/* fm_ctl_check_args - parse the options of dns check; -1 on misuse */
static int fm_ctl_check_args(int argc, char **argv, fm_ctl_check_opts_t *o)
{
	char *end;
	long port;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o->json = 1;
		} else if (strcmp(argv[i], "--no-auth") == 0) {
			o->no_auth = 1;
		} else if (strcmp(argv[i], "--auth-port") == 0 && i + 1 < argc) {
			port = strtol(argv[++i], &end, 10);
			if (*end != '\0' || port < 1 || port > 65535)
				return -1;
			o->auth_port = (unsigned)port;
		} else if (argv[i][0] == '-' || o->domain != NULL) {
			return -1;
		} else {
			o->domain = argv[i];
		}
	}
	return o->domain != NULL ? 0 : -1;
}

/* fm_ctl_run_check - resolver, SPF checker, the check; exit status */
static int fm_ctl_run_check(const fm_config_t *cfg, const fm_ctl_setup_t *cs,
			    const fm_ctl_check_opts_t *o)
{
	fm_chk_auth_t auth = {fm_chk_auth_resolver, NULL, 0, 0};
	fm_resolver_t *res;
	fm_chk_report_t rep;
	fm_spf_t *spf = NULL;
	char err[512];
	int status = FM_CHK_EXIT_ERROR;

	fm_chk_report_init(&rep);
	if ((res = fm_resolver_new(cfg->nameservers, cfg->dns_timeout_ms, err,
				   sizeof(err))) == NULL
	    || (spf = fm_spf_new(res, NULL, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "feedbackctl: dns check: %s\n", err);
		goto out;
	}
	auth.arg = &auth;
	auth.port = o->auth_port;
	auth.timeout_ms = cfg->dns_timeout_ms;
	if (fm_dns_check(&cs->s, res, spf, o->no_auth ? NULL : &auth, &rep, err,
			 sizeof(err)) < 0) {
		fprintf(stderr, "feedbackctl: dns check: %s (Nameservers: %s)\n",
			err, cfg->nameservers ? cfg->nameservers
			: "/etc/resolv.conf");
		goto out;
	}
	if (o->json)
		fm_chk_print_json(stdout, &rep);
	else
		fm_chk_print_text(stdout, &rep, fm_ctl_color());
	status = fm_chk_exit_code(&rep);
	if (rep.oom)
		fprintf(stderr, "feedbackctl: dns check: out of memory\n");
out:
	fm_chk_report_free(&rep);
	fm_spf_free(spf);
	fm_resolver_free(res);
	return status;
}

/* fm_ctl_check - dns check [--json] [--auth-port PORT] [--no-auth] DOMAIN */
static int fm_ctl_check(const fm_config_t *cfg, int argc, char **argv)
{
	fm_ctl_check_opts_t o;
	fm_ctl_setup_t cs;
	int status;

	if (fm_ctl_check_args(argc, argv, &o) < 0)
		return fm_ctl_usage();
	if (fm_ctl_setup(cfg, o.domain, &cs, 1) < 0)
		return FM_CHK_EXIT_ERROR;
	status = fm_ctl_run_check(cfg, &cs, &o);
	free(cs.key);
	return status;
}

/* fm_ctl_dns - see ctl_dns.h */
int fm_ctl_dns(const fm_config_t *cfg, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "advise") == 0)
		return fm_ctl_advise(cfg, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "check") == 0)
		return fm_ctl_check(cfg, argc - 1, argv + 1);
	return fm_ctl_usage();
}

/* fm_ctl_dkim - see ctl_dns.h */
int fm_ctl_dkim(const fm_config_t *cfg, int argc, char **argv)
{
	fm_ctl_setup_t cs;
	char err[512];
	int rc;

	if (argc != 2 || strcmp(argv[0], "keygen") != 0)
		return fm_ctl_usage();
	if (fm_ctl_setup(cfg, argv[1], &cs, 0) < 0)
		return EX_CONFIG;
	if (cfg->dkim_key_file == NULL) {
		fprintf(stderr, "feedbackctl: DkimKeyFile is not set in %s\n",
			cfg->path ? cfg->path : "the configuration");
		return EX_CONFIG;
	}
	rc = fm_dkim_key_generate(cfg->dkim_key_file, FM_DKIM_KEYGEN_BITS, err,
				  sizeof(err));
	if (rc == 1) {
		fprintf(stderr, "feedbackctl: %s exists: refusing to overwrite "
			"a key (\"feedbackctl dns advise %s\" prints its "
			"record)\n", cfg->dkim_key_file, cs.domain);
		return EX_CANTCREAT;
	}
	if (rc < 0 || fm_dkim_key_load(cfg->dkim_key_file, &cs.key,
				       &cs.s.dkim_bits, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedbackctl: %s\n", err);
		return EX_CANTCREAT;
	}
	cs.s.dkim_key = cs.key;
	fprintf(stderr, "feedbackctl: %s: new %u-bit RSA key (mode 0600); "
		"publish this record:\n", cfg->dkim_key_file, cs.s.dkim_bits);
	rc = fm_dns_advise_dkim(&cs.s, stdout);
	free(cs.key);
	return rc < 0 || fflush(stdout) != 0 ? EX_IOERR : EX_OK;
}
