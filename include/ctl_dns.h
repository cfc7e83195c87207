/*
 * ctl_dns - "feedbackctl dns advise|check DOMAIN" and "feedbackctl dkim
 * keygen DOMAIN": the DNS records of a sender domain and its DKIM key
 *
 *	dns advise DOMAIN	the records to create, as zone-file lines
 *	dns check [--json] [--auth-port PORT] [--no-auth] DOMAIN
 *				read them live and judge each: ok, warn, fail
 *	dkim keygen DOMAIN	a 2048-bit RSA key in DkimKeyFile, and its
 *				DNS record
 *
 * DOMAIN is a SenderDomain of the configuration. The check asks the
 * configured resolver (Nameservers, DnsTimeout) and then each domain's
 * authoritative servers, on port 53 or --auth-port.
 */
#ifndef FM_CTL_DNS_H
#define FM_CTL_DNS_H

#include "config.h"

/*
 * fm_ctl_dns - argv holds the arguments after "dns". advise: 0, or 1 when
 * a record could not be advised for want of configuration. check: 0 all
 * ok, 1 warnings only, 2 a failure, 3 the check could not run. 64 on a
 * usage error.
 */
int fm_ctl_dns(const fm_config_t *cfg, int argc, char **argv);

/*
 * fm_ctl_dkim - argv holds the arguments after "dkim". keygen: 0 made,
 * 73 the key exists (it is never overwritten) or cannot be written,
 * 78 DkimKeyFile is not set, 64 on a usage error.
 */
int fm_ctl_dkim(const fm_config_t *cfg, int argc, char **argv);

#endif
