/*
 * config_table - the configuration options, one row each
 *
 * Each row of fm_options[] gives an option's name, the argument shown in
 * the manual, its default (as text, fed through the same setter as the
 * file's value), its flags (whether it may be repeated, whether it takes
 * effect only at the next start), its setter (config_set.c),
 * its manual text and, for options without a default, a value for the
 * sample file. config.c parses the file and writes
 * feedback-milter.conf(5) and the sample file from it.
 */
#include "config_int.h"

/* the same order as fm_class_t in classify.h */
const char *const fm_config_class_names[FM_NCLASSES] = {
	"unknown", "hard", "soft", "delayed", "autoreply", "complaint",
	"delivered",
};

/*
 * The option table. Defaults are text and go through the setters, so a
 * default can never be a value the file itself could not hold.
 */
const fm_option_t fm_options[] = {
	{"Socket", "socket",
	 "unix:/var/spool/postfix/feedback-milter/feedback-milter.sock",
	 FM_OPT_RESTART,
	 fm_cfgset_socket,
	 "Where the milter listens:\n.Li unix: Ns Ar path\n(also\n.Li local: ) ,\n"
	 ".Li inet: Ns Ar port Ns Li @ Ns Ar host\nor\n"
	 ".Li inet6: Ns Ar port Ns Li @ Ns Ar host .\nA unix socket is "
	 "recommended when the MTA runs on the same host.\n"
	 "The default suits Postfix's chrooted smtpd, which names it\n"
	 ".Li unix:feedback-milter/feedback-milter.sock\nrelative to its queue "
	 "directory.", NULL},
	{"SocketMode", "mode", "0660", FM_OPT_RESTART, fm_cfgset_socket_mode,
	 "Permissions of a unix socket, in octal. The socket is owned by\n"
	 ".Cm UserID .", NULL},
	{"UserID", "user[:group]", NULL, FM_OPT_RESTART, fm_cfgset_user_id,
	 "After opening the socket, run as this user (and group, or the "
	 "user's primary group). Without it the milter refuses to run as root.",
	 "feedback-milter"},
	{"PidFile", "path", NULL, FM_OPT_RESTART, fm_cfgset_pid_file,
	 "Write the process id to this file, and remove it at exit.",
	 "/run/feedback-milter/feedback-milter.pid"},
	{"Syslog", "bool", "yes", FM_OPT_RESTART, fm_cfgset_syslog,
	 "Log to syslog. In the foreground\n.Pq Fl f\nthe milter also logs to "
	 "standard error.", NULL},
	{"SyslogFacility", "facility", "mail", FM_OPT_RESTART, fm_cfgset_facility,
	 "The syslog facility: mail, daemon, user or local0 to local7.", NULL},
	{"LogLevel", "level", "info", 0, fm_cfgset_log_level,
	 "The least important messages logged: error, warning, notice, info "
	 "(one line per rewrite) or debug (also every message not rewritten, "
	 "and why).", NULL},
	{"KeyFile", "path", FM_SYSCONFDIR "/feedback-milter.keys", 0,
	 fm_cfgset_key_file,
	 "The keys that sign and verify codes, one\n.Dq Ar id Ar hex-secret\n"
	 "per line; the last line signs, every line verifies. It must not be "
	 "readable by others (mode 0600 or 0640). See\n.Xr feedbackctl 8\n"
	 ".Cm key new .", NULL},
	{"CodeLifetime", "duration", "30d", 0, fm_cfgset_lifetime,
	 "How long a code stays valid: bounces and auto-replies older than "
	 "this are refused. Whole days, from 1d to 1000d.", NULL},
	{"SenderDomain", "domain [feedback-domain]", NULL, FM_OPT_REPEAT,
	 fm_cfgset_sender_domain,
	 "A domain whose outbound mail gets coded envelope senders, and the "
	 "feedback domain the codes are issued on (default\n.Li feedback. Ns "
	 "Ar domain ) .\nRepeat the option for each domain; at least one is "
	 "required.", NULL},
	{"TrustedClients", "networks", "127.0.0.0/8 ::1/128", FM_OPT_REPEAT,
	 fm_cfgset_trusted,
	 "Client networks whose mail is outbound, separated by spaces or commas. "
	 "SASL-authenticated clients and local submission through\n.Xr sendmail 1\n"
	 "(Postfix's\n.Va non_smtpd_milters )\nare trusted as well. Repeated "
	 "lines add to the list; the first one replaces the default.", NULL},
	{"IdentityHeaders", "names", NULL, FM_OPT_REPEAT, fm_cfgset_ident_headers,
	 "Header fields whose values are stored with each send, such as a "
	 "campaign or profile id, so that a bounce can be traced back to them.",
	 "X-Campaign-ID X-Profile-ID"},
	{"StripIdentityHeaders", "bool", "no", 0, fm_cfgset_strip,
	 "Remove the\n.Cm IdentityHeaders\nfrom the message before it is sent.", NULL},
	{"BadCodeAction", "reject | accept", "reject", 0, fm_cfgset_bad_code,
	 "What to do with mail to a feedback domain whose code is malformed, "
	 "signed with an unknown key, forged or older than\n.Cm CodeLifetime :\n"
	 ".Cm reject\nrefuses the recipient with\n.Ql 550 5.1.1\nbefore DATA;\n"
	 ".Cm accept\ntakes the message and marks it unverified.", NULL},
	{"InboundAction", "[action] [class=action ...]", "discard", FM_OPT_REPEAT,
	 fm_cfgset_inbound_action,
	 "What happens to a message to a feedback domain once its events are "
	 "recorded:\n.Cm discard\n(the MTA answers 250 and drops it) or\n"
	 ".Cm accept\n(it is delivered on, with an\n.Li Authentication-Results\n"
	 "header, e.g. to keep a copy in a mailbox).\nA bare action sets every "
	 "class;\n.Ar class Ns = Ns Ar action\nsets one of hard, soft, delayed, "
	 "autoreply, complaint, delivered and unknown, for example\n"
	 ".Ql InboundAction discard complaint=accept .", NULL},
	{"RequireAuthentication", "none | spf | dkim | any", "none", 0,
	 fm_cfgset_require_auth,
	 "Record only events whose reporter is authenticated: an SPF pass, a "
	 "DKIM pass, or either.\nMessages from\n.Cm TrustedClients\n"
	 "(such as the bounces the MTA makes itself) count as authenticated.\n"
	 "A DKIM signature whose key is in testing mode\n.Pq Li t=y\n"
	 "does not: it is recorded as\n.Cm policy .\n"
	 "SPF and DKIM results are stored with every "
	 "event in any case; with\n.Cm none\nthey are attribution, not a gate.\n"
	 "A message that fails only for a temporary error (a DNS timeout) on a "
	 "check that counts is deferred with a 4xx reply, so that its sender "
	 "retries.", NULL},
	{"Nameservers", "addresses", NULL, FM_OPT_RESTART, fm_cfgset_nameservers,
	 "The DNS servers that SPF and DKIM lookups use, as addresses with an "
	 "optional\n.Li @ Ns Ar port ,\nseparated by spaces or commas.\n"
	 "Without it the system's resolver configuration is used.",
	 "127.0.0.1 ::1"},
	{"DnsTimeout", "duration", "5s", FM_OPT_RESTART, fm_cfgset_dns_timeout,
	 "How long one SPF or DKIM lookup may take before it counts as a "
	 "temporary error (1s to 60s).", NULL},
	{"AuthservID", "host", NULL, 0, fm_cfgset_authserv_id,
	 "The authentication service identifier in the\n"
	 ".Li Authentication-Results\nheader.\nDefault: the host name.",
	 "mx.example.nl"},
	{"MaxInboundSize", "size", "10M", 0, fm_cfgset_max_inbound,
	 "How much of an inbound message is kept (64k to 256M); the parser "
	 "reads at most the first 4M of it.\n"
	 "Reports sit at the start of a bounce; a longer message is parsed from "
	 "its first part and its DKIM signatures are still verified over all "
	 "of it.", NULL},
	{"MXHost", "hosts", NULL, FM_OPT_REPEAT, fm_cfgset_mx_hosts,
	 "The host names that receive mail for the feedback domains, in order "
	 "of preference: what\n.Xr feedbackctl 8\n.Cm dns advise\nputs in the "
	 "feedback domain's MX records and\n.Cm dns check\nexpects there.",
	 "mx1.example.net mx2.example.net"},
	{"CnameTarget", "host", NULL, 0, fm_cfgset_cname_target,
	 "For DNS providers that cannot publish MX records: a host that has "
	 "the MX and SPF records a feedback domain needs, so that the feedback "
	 "domain can be a CNAME to it.",
	 "feedback.example.net"},
	{"SpfInclude", "domain", NULL, 0, fm_cfgset_spf_include,
	 "A domain whose SPF record lists the hosts that send the mail; the "
	 "advised SPF records include it.",
	 "_spf.example.net"},
	{"OutboundAddresses", "networks", NULL, FM_OPT_REPEAT, fm_cfgset_outbound,
	 "The addresses that send the mail, for the advised SPF records and for "
	 "checking that SPF passes for each of them.",
	 "192.0.2.25 2001:db8::25"},
	{"DkimSelector", "selector", "fm", 0, fm_cfgset_dkim_selector,
	 "The DKIM selector of the key the mail is signed with (at most 63 "
	 "octets).", NULL},
	{"DkimKeyFile", "path", NULL, 0, fm_cfgset_dkim_key_file,
	 "The private key (PEM) the mail is signed with, to advise and check "
	 "its public DNS record;\n.Cm feedbackctl dkim keygen\nmakes one.",
	 "/etc/feedback-milter/dkim.pem"},
	{"DmarcReport", "address", NULL, 0, fm_cfgset_dmarc_rua,
	 "The address that the advised DMARC record asks for aggregate reports "
	 "to\n.Pq Li rua .",
	 "dmarc@example.net"},
	{"SuppressionRule", "class=rule ...",
	 "hard=now soft=3/7d complaint=now delayed=never autoreply=never "
	 "delivered=never unknown=never", FM_OPT_REPEAT, fm_cfgset_rules,
	 "Which events suppress their recipient: per class\n.Cm never ,\n"
	 ".Cm now ,\nor\n.Ar count Ns / Ns Ar window :\nonce the recipient has "
	 "had events of the class for\n.Ar count\ndistinct messages within\n"
	 ".Ar window\n(count 1 to 1000, window 1m to 366d).\nClasses not named "
	 "keep their rule.\nOnly an event of a verified code about one of its "
	 "send record's recipients counts: a report naming other addresses "
	 "is recorded but suppresses nobody.", NULL},
	{"SuppressionExpiry", "class=duration ...", "hard=none soft=30d "
	 "complaint=none", FM_OPT_REPEAT, fm_cfgset_expiry,
	 "How long a suppression made by a class's rule lasts (1m to 3660d), "
	 "or\n.Cm none\nfor good.\nA later delivery does not lift a suppression;\n"
	 ".Cm feedbackctl suppression remove\ndoes.", NULL},
	{"RejectSuppressed", "bool", "no", 0, fm_cfgset_reject_suppressed,
	 "Refuse a suppressed recipient of outbound mail at RCPT with\n"
	 ".Ql 550 5.1.1\nand\n.Cm RejectSuppressedText .\nOff by default: sites "
	 "may prefer the Postfix table that\n.Cm feedbackctl suppression export "
	 "--postfix\nwrites.", NULL},
	{"RejectSuppressedText", "text", "Recipient address suppressed after "
	 "earlier bounces or complaints", 0, fm_cfgset_reject_text,
	 "The text of that refusal: printable ASCII without\n.Ql % ,\n"
	 "at most 200 characters.", NULL},
	{"Retention", "duration | none", "none", 0, fm_cfgset_retention,
	 "Delete sends and events older than this (1d to 3660d) once a day, "
	 "the first time a minute after the start or after a reload that "
	 "changes it (suppressions stay), as\n.Cm feedbackctl prune\ndoes.\nKeep it at "
	 "least\n.Cm CodeLifetime\nand the longest threshold window of\n"
	 ".Cm SuppressionRule :\na report about a send already deleted is "
	 "recorded without it and suppresses nobody, and deleted events no "
	 "longer count towards a threshold.\nThe milter warns at start and "
	 "reload when it is shorter.", NULL},
	{"Database", "path", FM_LOCALSTATEDIR "/lib/feedback-milter/feedback.db",
	 FM_OPT_RESTART,
	 fm_cfgset_database,
	 "The SQLite database of sends. Its directory must be writable by\n"
	 ".Cm UserID .", NULL},
	{"DatabaseBusyTimeout", "duration", "5s", FM_OPT_RESTART,
	 fm_cfgset_busy_timeout,
	 "How long a write waits for a database locked by another process "
	 "before the message is deferred (at most 10m).", NULL},
	{"DatabaseCache", "size", "64M", 0, fm_cfgset_db_cache,
	 "The most memory SQLite's page cache of the milter's database "
	 "connection takes (1M to 1024M). It fills as the database grows and "
	 "then stays at this size; it should hold the index of the codes "
	 "(about 40 bytes per send record kept), or each new send costs a "
	 "disk read.", NULL},
};

const size_t fm_noptions = sizeof(fm_options) / sizeof(fm_options[0]);

_Static_assert(sizeof(fm_options) / sizeof(fm_options[0]) <=
		       FM_CFG_MAX_OPTIONS,
	       "raise FM_CFG_MAX_OPTIONS in config_int.h");
