/*
 * test_config - unit tests for the config module (the option table, its
 * validators, the cross-option checks and the lookups)
 *
 * Links only milter/config.c, milter/codec.c, cmocka and libcrypto. Most
 * tests parse text with fm_config_parse() under the file name "t.conf";
 * the fm_config_load() tests write files under a private temporary
 * directory that is removed afterwards.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define NAME "t.conf"
#define SD "SenderDomain example.nl\n"

/* Every option of the table, in table order. */
static const char *const option_names[] = {
	"Socket", "SocketMode", "UserID", "PidFile", "Syslog",
	"SyslogFacility", "LogLevel", "KeyFile", "CodeLifetime",
	"SenderDomain", "TrustedClients", "IdentityHeaders",
	"StripIdentityHeaders", "BadCodeAction", "InboundAction",
	"RequireAuthentication", "Nameservers", "DnsTimeout", "AuthservID",
	"MaxInboundSize", "MXHost", "CnameTarget", "SpfInclude",
	"OutboundAddresses", "DkimSelector", "DkimKeyFile", "DmarcReport",
	"SuppressionRule", "SuppressionExpiry", "RejectSuppressed",
	"RejectSuppressedText", "Retention", "Database", "DatabaseBusyTimeout",
	"DatabaseCache",
};
#define NOPTION_NAMES (sizeof(option_names) / sizeof(option_names[0]))

/* parse_ok - parse text that must be accepted */
static fm_config_t *parse_ok(const char *label, const char *text)
{
	char err[512] = "";
	fm_config_t *cfg = fm_config_parse(text, NAME, err, sizeof(err));

	if (cfg == NULL)
		fail_msg("%s: rejected: %s", label, err);
	return cfg;
}

/* ends_with - does s end with suffix */
static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* make_sa - a sockaddr for a printable IPv4 or IPv6 address */
static const struct sockaddr *make_sa(const char *text,
				      struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
	} else {
		fail_msg("bad test address %s", text);
	}
	return (const struct sockaddr *)ss;
}

/* test_defaults - a file with only SenderDomain gets every default */
static void test_defaults(void **state)
{
	static const unsigned char loopback6[16] = {[15] = 1};
	fm_config_t *cfg = parse_ok("defaults", "SenderDomain example.nl\n");

	(void)state;
	assert_string_equal(cfg->socket,
		"unix:/var/spool/postfix/feedback-milter/feedback-milter.sock");
	assert_int_equal(cfg->socket_mode, 0660);
	assert_null(cfg->user_id);
	assert_null(cfg->pid_file);
	assert_int_equal(cfg->syslog, 1);
	assert_int_equal(cfg->syslog_facility, LOG_MAIL);
	assert_int_equal(cfg->log_level, LOG_INFO);
	assert_non_null(cfg->key_file);
	assert_true(cfg->key_file[0] == '/');
	assert_true(ends_with(cfg->key_file, "/feedback-milter.keys"));
	assert_int_equal(cfg->code_lifetime_days, 30);
	assert_int_equal(cfg->ndomains, 1);
	assert_string_equal(cfg->domains[0].domain, "example.nl");
	assert_string_equal(cfg->domains[0].feedback, "feedback.example.nl");
	assert_int_equal(cfg->ntrusted, 2);
	assert_int_equal(cfg->trusted[0].family, AF_INET);
	assert_int_equal(cfg->trusted[0].prefix, 8);
	assert_memory_equal(cfg->trusted[0].addr, "\x7f\0\0\0", 4);
	assert_int_equal(cfg->trusted[1].family, AF_INET6);
	assert_int_equal(cfg->trusted[1].prefix, 128);
	assert_memory_equal(cfg->trusted[1].addr, loopback6, 16);
	assert_int_equal(cfg->nident_headers, 0);
	assert_null(cfg->ident_headers);
	assert_int_equal(cfg->strip_ident_headers, 0);
	assert_int_equal(cfg->bad_code_accept, 0);
	assert_non_null(cfg->database);
	assert_true(cfg->database[0] == '/');
	assert_true(ends_with(cfg->database, "/lib/feedback-milter/feedback.db"));
	assert_int_equal(cfg->busy_timeout_ms, 5000);
	assert_int_equal(cfg->db_cache_kib, 65536);
	assert_string_equal(cfg->path, NAME);
	assert_null(cfg->keys);
	assert_int_equal(cfg->refs, 1);
	fm_config_unref(cfg);
}

/* test_every_option - each option set explicitly lands in its field */
static void test_every_option(void **state)
{
	fm_config_t *cfg = parse_ok("every option",
		"Socket inet:8891@localhost\n"
		"SocketMode 0600\n"
		"UserID fbmilter:postfix\n"
		"PidFile /run/feedback-milter.pid\n"
		"Syslog no\n"
		"SyslogFacility local3\n"
		"LogLevel debug\n"
		"KeyFile /etc/fm/keys\n"
		"CodeLifetime 2w\n"
		"SenderDomain Example.NL Bounce.Example.NET\n"
		"SenderDomain example.org\n"
		"TrustedClients 192.0.2.0/24, 2001:db8::/32\n"
		"IdentityHeaders X-Campaign, X-Profile-ID\n"
		"StripIdentityHeaders yes\n"
		"BadCodeAction accept\n"
		"Database /srv/fm/feedback.db\n"
		"DatabaseBusyTimeout 2m\n");

	(void)state;
	assert_string_equal(cfg->socket, "inet:8891@localhost");
	assert_int_equal(cfg->socket_mode, 0600);
	assert_string_equal(cfg->user_id, "fbmilter:postfix");
	assert_string_equal(cfg->pid_file, "/run/feedback-milter.pid");
	assert_int_equal(cfg->syslog, 0);
	assert_int_equal(cfg->syslog_facility, LOG_LOCAL3);
	assert_int_equal(cfg->log_level, LOG_DEBUG);
	assert_string_equal(cfg->key_file, "/etc/fm/keys");
	assert_int_equal(cfg->code_lifetime_days, 14);
	assert_int_equal(cfg->ndomains, 2);
	assert_string_equal(cfg->domains[0].domain, "example.nl");
	assert_string_equal(cfg->domains[0].feedback, "bounce.example.net");
	assert_string_equal(cfg->domains[1].domain, "example.org");
	assert_string_equal(cfg->domains[1].feedback, "feedback.example.org");
	assert_int_equal(cfg->ntrusted, 2);
	assert_int_equal(cfg->trusted[0].family, AF_INET);
	assert_int_equal(cfg->trusted[0].prefix, 24);
	assert_int_equal(cfg->trusted[1].family, AF_INET6);
	assert_int_equal(cfg->trusted[1].prefix, 32);
	assert_int_equal(cfg->nident_headers, 2);
	assert_string_equal(cfg->ident_headers[0], "X-Campaign");
	assert_string_equal(cfg->ident_headers[1], "X-Profile-ID");
	assert_int_equal(cfg->strip_ident_headers, 1);
	assert_int_equal(cfg->bad_code_accept, 1);
	assert_string_equal(cfg->database, "/srv/fm/feedback.db");
	assert_int_equal(cfg->busy_timeout_ms, 120000);
	fm_config_unref(cfg);
}

/* test_feedback_domain - explicit feedback domains are kept, lowercased */
static void test_feedback_domain(void **state)
{
	static const struct {
		const char *label;
		const char *line;
		const char *want_domain;
		const char *want_feedback;
	} rows[] = {
		{"default", "SenderDomain example.nl", "example.nl",
		 "feedback.example.nl"},
		{"default lowercased", "SenderDomain EXAMPLE.NL", "example.nl",
		 "feedback.example.nl"},
		{"explicit", "SenderDomain example.nl fb.example.nl", "example.nl",
		 "fb.example.nl"},
		{"explicit elsewhere", "SenderDomain shop.example.nl bounces.example.com",
		 "shop.example.nl", "bounces.example.com"},
		{"explicit mixed case", "SenderDomain Example.NL FB.Example.COM",
		 "example.nl", "fb.example.com"},
		{"tab separated", "SenderDomain\texample.nl\tfb.example.nl",
		 "example.nl", "fb.example.nl"},
		{"63-octet label",
		 "SenderDomain "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.nl",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.nl",
		 "feedback."
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.nl"},
		{"hyphen and digits", "SenderDomain mail-1.example.nl",
		 "mail-1.example.nl", "feedback.mail-1.example.nl"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg = parse_ok(rows[i].label, rows[i].line);

		if (cfg->ndomains != 1 ||
		    strcmp(cfg->domains[0].domain, rows[i].want_domain) != 0 ||
		    strcmp(cfg->domains[0].feedback, rows[i].want_feedback) != 0)
			fail_msg("%s: got %s %s", rows[i].label,
				 cfg->domains[0].domain, cfg->domains[0].feedback);
		fm_config_unref(cfg);
	}
}

/* test_names_case - option names and keyword values are case-insensitive */
static void test_names_case(void **state)
{
	fm_config_t *cfg = parse_ok("case",
		"sOcKeT inet:8891@localhost\n"
		"SENDERDOMAIN example.nl\n"
		"syslog NO\n"
		"loglevel DEBUG\n"
		"SYSLOGFACILITY Local7\n"
		"stripidentityheaders On\n"
		"badcodeaction ACCEPT\n"
		"codelifetime 7d\n");

	(void)state;
	assert_string_equal(cfg->socket, "inet:8891@localhost");
	assert_int_equal(cfg->ndomains, 1);
	assert_int_equal(cfg->syslog, 0);
	assert_int_equal(cfg->log_level, LOG_DEBUG);
	assert_int_equal(cfg->syslog_facility, LOG_LOCAL7);
	assert_int_equal(cfg->strip_ident_headers, 1);
	assert_int_equal(cfg->code_lifetime_days, 7);
	assert_int_equal(cfg->bad_code_accept, 1);
	fm_config_unref(cfg);
}

/* test_layout - comments, blank lines, indentation, tabs and CRLF */
static void test_layout(void **state)
{
	static const struct {
		const char *label;
		const char *text;
	} rows[] = {
		{"LF", "# comment\n\nSocket inet:25@localhost\n" SD},
		{"CRLF", "# comment\r\n\r\nSocket inet:25@localhost\r\n"
			 "SenderDomain example.nl\r\n"},
		{"no final newline", "Socket inet:25@localhost\nSenderDomain example.nl"},
		{"indented", "   # comment\n\t\n  Socket   inet:25@localhost  \n"
			     "\tSenderDomain\t example.nl \t\n"},
		{"tabs", "Socket\tinet:25@localhost\nSenderDomain\texample.nl\n"},
		{"blank with CR", "\r\n \r\n\t\r\nSocket inet:25@localhost\r\n" SD},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg = parse_ok(rows[i].label, rows[i].text);

		if (strcmp(cfg->socket, "inet:25@localhost") != 0 ||
		    cfg->ndomains != 1 ||
		    strcmp(cfg->domains[0].domain, "example.nl") != 0 ||
		    strcmp(cfg->domains[0].feedback, "feedback.example.nl") != 0)
			fail_msg("%s: got socket \"%s\" domain \"%s\"",
				 rows[i].label, cfg->socket, cfg->domains[0].domain);
		fm_config_unref(cfg);
	}
}

/* test_crlf_values - a CR never ends up in a stored value */
static void test_crlf_values(void **state)
{
	fm_config_t *cfg = parse_ok("crlf values",
		"SenderDomain example.nl fb.example.nl\r\n"
		"TrustedClients 10.0.0.0/8\r\n"
		"IdentityHeaders X-Campaign\r\n"
		"KeyFile /etc/fm/keys\r\n"
		"UserID fbmilter\r\n"
		"CodeLifetime 10d\r\n");

	(void)state;
	assert_string_equal(cfg->domains[0].feedback, "fb.example.nl");
	assert_int_equal(cfg->ntrusted, 1);
	assert_int_equal(cfg->trusted[0].prefix, 8);
	assert_string_equal(cfg->ident_headers[0], "X-Campaign");
	assert_string_equal(cfg->key_file, "/etc/fm/keys");
	assert_string_equal(cfg->user_id, "fbmilter");
	assert_int_equal(cfg->code_lifetime_days, 10);
	fm_config_unref(cfg);
}

/* test_accepted_values - edge values every validator must accept */
static void test_accepted_values(void **state)
{
	static const struct {
		const char *label;
		const char *line;
		size_t field;		/* offsetof the unsigned field, or 0 */
		unsigned want;
		const char *want_socket;
	} rows[] = {
		{"unix socket", "Socket unix:/run/fm.sock", 0, 0, "unix:/run/fm.sock"},
		{"local socket", "Socket local:/run/fm.sock", 0, 0, "local:/run/fm.sock"},
		{"inet port only", "Socket inet:8891", 0, 0, "inet:8891"},
		{"inet port 1", "Socket inet:1@localhost", 0, 0, "inet:1@localhost"},
		{"inet port 65535", "Socket inet:65535@127.0.0.1", 0, 0,
		 "inet:65535@127.0.0.1"},
		{"inet6", "Socket inet6:8891@::1", 0, 0, "inet6:8891@::1"},
		{"mode 0600", "SocketMode 0600",
		 offsetof(fm_config_t, socket_mode), 0600, NULL},
		{"mode 777", "SocketMode 777",
		 offsetof(fm_config_t, socket_mode), 0777, NULL},
		{"mode 0", "SocketMode 0",
		 offsetof(fm_config_t, socket_mode), 0, NULL},
		{"lifetime 1d", "CodeLifetime 1d",
		 offsetof(fm_config_t, code_lifetime_days), 1, NULL},
		{"lifetime 1000d", "CodeLifetime 1000d",
		 offsetof(fm_config_t, code_lifetime_days), 1000, NULL},
		{"lifetime 24h", "CodeLifetime 24h",
		 offsetof(fm_config_t, code_lifetime_days), 1, NULL},
		{"lifetime 1440m", "CodeLifetime 1440m",
		 offsetof(fm_config_t, code_lifetime_days), 1, NULL},
		{"lifetime seconds", "CodeLifetime 172800",
		 offsetof(fm_config_t, code_lifetime_days), 2, NULL},
		{"lifetime 4w", "CodeLifetime 4w",
		 offsetof(fm_config_t, code_lifetime_days), 28, NULL},
		{"busy 0", "DatabaseBusyTimeout 0",
		 offsetof(fm_config_t, busy_timeout_ms), 0, NULL},
		{"busy 10m", "DatabaseBusyTimeout 10m",
		 offsetof(fm_config_t, busy_timeout_ms), 600000, NULL},
		{"busy 600s", "DatabaseBusyTimeout 600s",
		 offsetof(fm_config_t, busy_timeout_ms), 600000, NULL},
		{"busy 250", "DatabaseBusyTimeout 250",
		 offsetof(fm_config_t, busy_timeout_ms), 250000, NULL},
		{"cache 1M", "DatabaseCache 1M",
		 offsetof(fm_config_t, db_cache_kib), 1024, NULL},
		{"cache 1024M", "DatabaseCache 1024M",
		 offsetof(fm_config_t, db_cache_kib), 1048576, NULL},
		{"cache 4096k", "DatabaseCache 4096k",
		 offsetof(fm_config_t, db_cache_kib), 4096, NULL},
		{"cache octets", "DatabaseCache 2097152",
		 offsetof(fm_config_t, db_cache_kib), 2048, NULL},
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg;

		snprintf(text, sizeof(text), SD "%s\n", rows[i].line);
		cfg = parse_ok(rows[i].label, text);
		if (rows[i].want_socket != NULL &&
		    strcmp(cfg->socket, rows[i].want_socket) != 0)
			fail_msg("%s: socket %s", rows[i].label, cfg->socket);
		if (rows[i].field != 0) {
			unsigned got;

			memcpy(&got, (const char *)cfg + rows[i].field, sizeof(got));
			if (got != rows[i].want)
				fail_msg("%s: got %u, want %u", rows[i].label, got,
					 rows[i].want);
		}
		fm_config_unref(cfg);
	}
}

/* test_bools - every spelling of a boolean */
static void test_bools(void **state)
{
	static const struct {
		const char *value;
		int want;
	} rows[] = {
		{"yes", 1}, {"true", 1}, {"on", 1}, {"1", 1}, {"YES", 1},
		{"True", 1}, {"no", 0}, {"false", 0}, {"off", 0}, {"0", 0},
		{"NO", 0}, {"Off", 0},
	};
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg;

		/* the opposite default proves the value was applied */
		snprintf(text, sizeof(text), SD "Syslog %s\nStripIdentityHeaders %s\n",
			 rows[i].value, rows[i].value);
		cfg = parse_ok(rows[i].value, text);
		if (cfg->syslog != rows[i].want ||
		    cfg->strip_ident_headers != rows[i].want)
			fail_msg("%s: got %d %d", rows[i].value, cfg->syslog,
				 cfg->strip_ident_headers);
		fm_config_unref(cfg);
	}
}

/* test_facilities_levels - every facility and level name */
static void test_facilities_levels(void **state)
{
	static const struct {
		const char *line;
		int facility;
		int level;
	} rows[] = {
		{"SyslogFacility mail", LOG_MAIL, -1},
		{"SyslogFacility daemon", LOG_DAEMON, -1},
		{"SyslogFacility user", LOG_USER, -1},
		{"SyslogFacility local0", LOG_LOCAL0, -1},
		{"SyslogFacility local1", LOG_LOCAL1, -1},
		{"SyslogFacility local2", LOG_LOCAL2, -1},
		{"SyslogFacility local3", LOG_LOCAL3, -1},
		{"SyslogFacility local4", LOG_LOCAL4, -1},
		{"SyslogFacility local5", LOG_LOCAL5, -1},
		{"SyslogFacility local6", LOG_LOCAL6, -1},
		{"SyslogFacility local7", LOG_LOCAL7, -1},
		{"LogLevel error", -1, LOG_ERR},
		{"LogLevel warning", -1, LOG_WARNING},
		{"LogLevel notice", -1, LOG_NOTICE},
		{"LogLevel info", -1, LOG_INFO},
		{"LogLevel debug", -1, LOG_DEBUG},
	};
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg;

		snprintf(text, sizeof(text), SD "%s\n", rows[i].line);
		cfg = parse_ok(rows[i].line, text);
		if (rows[i].facility >= 0 && cfg->syslog_facility != rows[i].facility)
			fail_msg("%s: facility %d", rows[i].line, cfg->syslog_facility);
		if (rows[i].level >= 0 && cfg->log_level != rows[i].level)
			fail_msg("%s: level %d", rows[i].line, cfg->log_level);
		fm_config_unref(cfg);
	}
}

/* test_errors - every validator's message, with file, line and option */
static void test_errors(void **state)
{
	static const struct {
		const char *label;
		const char *text;
		const char *want;
	} rows[] = {
		/* parse_line */
		{"unknown option", SD "# c\nBogus yes\n",
		 NAME ":3: Bogus: unknown option"},
		{"unknown option without value", SD "Bogus\n",
		 NAME ":2: Bogus: unknown option"},
		{"option name glued to value", SD "Socket=inet:25\n",
		 NAME ":2: Socket=inet:25: unknown option"},
		{"unknown option name cut at 64",
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 "yyyy value\n",
		 NAME ":1: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 ": unknown option"},
		{"missing value", SD "Socket\n", NAME ":2: Socket: a value is required"},
		{"missing value, spaces", SD "Socket \t \n",
		 NAME ":2: Socket: a value is required"},
		{"missing value, CRLF", "Socket\r\n" SD,
		 NAME ":1: Socket: a value is required"},
		{"missing value names the table's spelling", SD "socketmode\n",
		 NAME ":2: SocketMode: a value is required"},
		{"missing SenderDomain value", "SenderDomain\n",
		 NAME ":1: SenderDomain: a value is required"},
		{"given twice", SD "Socket unix:/a\n# c\nSocket unix:/b\n",
		 NAME ":4: Socket: given twice (first on line 2)"},
		{"given twice, other case", "LogLevel info\n" SD "loglevel debug\n",
		 NAME ":3: LogLevel: given twice (first on line 1)"},
		{"given twice, same value", SD "Syslog yes\nSyslog yes\n",
		 NAME ":3: Syslog: given twice (first on line 2)"},
		/* Socket */
		{"socket scheme", SD "Socket tcp:25\n",
		 NAME ":2: Socket: \"tcp:25\" is not unix:/path or inet:PORT@HOST"},
		{"socket bare path", SD "Socket /run/fm.sock\n",
		 NAME ":2: Socket: \"/run/fm.sock\" is not unix:/path or inet:PORT@HOST"},
		{"socket relative unix", SD "Socket unix:fm/fm.sock\n",
		 NAME ":2: Socket: \"unix:fm/fm.sock\": the socket path must be "
		 "absolute"},
		{"socket relative local", SD "Socket local:fm.sock\n",
		 NAME ":2: Socket: \"local:fm.sock\": the socket path must be absolute"},
		{"socket empty unix", SD "Socket unix:\n",
		 NAME ":2: Socket: \"unix:\": the socket path must be absolute"},
		{"socket path too long", SD "Socket unix:/"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaa\n",
		 NAME ":2: Socket: \"unix:/"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaa\": path too long"},
		{"port 0", SD "Socket inet:0@localhost\n",
		 NAME ":2: Socket: \"inet:0@localhost\" is not inet:PORT@HOST with a "
		 "port from 1 to 65535"},
		{"port 65536", SD "Socket inet:65536@localhost\n",
		 NAME ":2: Socket: \"inet:65536@localhost\" is not inet:PORT@HOST "
		 "with a port from 1 to 65535"},
		{"port negative", SD "Socket inet6:-1@::1\n",
		 NAME ":2: Socket: \"inet6:-1@::1\" is not inet:PORT@HOST with a "
		 "port from 1 to 65535"},
		{"port missing", SD "Socket inet:@localhost\n",
		 NAME ":2: Socket: \"inet:@localhost\" is not inet:PORT@HOST with a "
		 "port from 1 to 65535"},
		{"port junk", SD "Socket inet:25x@localhost\n",
		 NAME ":2: Socket: \"inet:25x@localhost\" is not inet:PORT@HOST with "
		 "a port from 1 to 65535"},
		{"host missing", SD "Socket inet:25@\n",
		 NAME ":2: Socket: \"inet:25@\" is not inet:PORT@HOST with a port "
		 "from 1 to 65535"},
		{"port huge", SD "Socket inet:99999999999999999999@h\n",
		 NAME ":2: Socket: \"inet:99999999999999999999@h\" is not "
		 "inet:PORT@HOST with a port from 1 to 65535"},
		/* SocketMode */
		{"mode 0888", SD "SocketMode 0888\n",
		 NAME ":2: SocketMode: \"0888\" is not an octal mode such as 0660"},
		{"mode 01777", SD "SocketMode 01777\n",
		 NAME ":2: SocketMode: \"01777\" is not an octal mode such as 0660"},
		{"mode 1000", SD "SocketMode 1000\n",
		 NAME ":2: SocketMode: \"1000\" is not an octal mode such as 0660"},
		{"mode letters", SD "SocketMode rw-rw----\n",
		 NAME ":2: SocketMode: \"rw-rw----\" is not an octal mode such as "
		 "0660"},
		{"mode negative", SD "SocketMode -1\n",
		 NAME ":2: SocketMode: \"-1\" is not an octal mode such as 0660"},
		{"mode hex", SD "SocketMode 0x1b0\n",
		 NAME ":2: SocketMode: \"0x1b0\" is not an octal mode such as 0660"},
		/* UserID */
		{"user with space", SD "UserID fb milter\n",
		 NAME ":2: UserID: \"fb milter\" is not a user name (user or "
		 "user:group)"},
		{"user with semicolon", SD "UserID root;id\n",
		 NAME ":2: UserID: \"root;id\" is not a user name (user or "
		 "user:group)"},
		/* paths */
		{"relative pid file", SD "PidFile run/fm.pid\n",
		 NAME ":2: PidFile: \"run/fm.pid\" is not an absolute path"},
		{"relative key file", SD "KeyFile feedback-milter.keys\n",
		 NAME ":2: KeyFile: \"feedback-milter.keys\" is not an absolute path"},
		{"relative database", SD "Database ./feedback.db\n",
		 NAME ":2: Database: \"./feedback.db\" is not an absolute path"},
		/* booleans */
		{"bad bool", SD "Syslog maybe\n",
		 NAME ":2: Syslog: \"maybe\" is not a boolean (use yes or no)"},
		{"bool 2", SD "StripIdentityHeaders 2\n",
		 NAME ":2: StripIdentityHeaders: \"2\" is not a boolean (use yes or "
		 "no)"},
		{"bool prefix", SD "Syslog y\n",
		 NAME ":2: Syslog: \"y\" is not a boolean (use yes or no)"},
		/* BadCodeAction */
		{"bad code action", SD "BadCodeAction drop\n",
		 NAME ":2: BadCodeAction: \"drop\" is not reject or accept"},
		{"bad code action as bool", SD "BadCodeAction yes\n",
		 NAME ":2: BadCodeAction: \"yes\" is not reject or accept"},
		/* inbound options */
		{"inbound action word", SD "InboundAction keep\n",
		 NAME ":2: InboundAction: \"keep\" is not discard or accept"},
		{"inbound action class", SD "InboundAction bounce=accept\n",
		 NAME ":2: InboundAction: \"bounce\" is not a class (hard, soft, "
		 "delayed, autoreply, complaint, delivered, unknown)"},
		{"inbound action class value", SD "InboundAction hard=keep\n",
		 NAME ":2: InboundAction: \"keep\" is not discard or accept"},
		{"require auth", SD "RequireAuthentication both\n",
		 NAME ":2: RequireAuthentication: \"both\" is not none, spf, dkim "
		 "or any"},
		{"nameserver name", SD "Nameservers ns1.example.nl\n",
		 NAME ":2: Nameservers: \"ns1.example.nl\" is not a list of "
		 "addresses with an optional @port"},
		{"nameserver port", SD "Nameservers 127.0.0.1@0\n",
		 NAME ":2: Nameservers: \"127.0.0.1@0\" is not a list of addresses "
		 "with an optional @port"},
		{"dns timeout zero", SD "DnsTimeout 0s\n",
		 NAME ":2: DnsTimeout: \"0s\" is out of range (1s to 60s)"},
		{"dns timeout long", SD "DnsTimeout 2m\n",
		 NAME ":2: DnsTimeout: \"2m\" is out of range (1s to 60s)"},
		{"authserv id", SD "AuthservID mx_1\n",
		 NAME ":2: AuthservID: \"mx_1\" is not a host name"},
		{"max inbound small", SD "MaxInboundSize 1k\n",
		 NAME ":2: MaxInboundSize: \"1k\" is not a size from 64k to 256M"},
		{"mx host", SD "MXHost mx_1.example.net\n",
		 NAME ":2: MXHost: \"mx_1.example.net\" is not a host name"},
		{"cname target", SD "CnameTarget -x.example.net\n",
		 NAME ":2: CnameTarget: \"-x.example.net\" is not a host name"},
		{"spf include", SD "SpfInclude spf\n",
		 NAME ":2: SpfInclude: \"spf\" is not a domain name"},
		{"outbound address", SD "OutboundAddresses 192.0.2.300\n",
		 NAME ":2: OutboundAddresses: \"192.0.2.300\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"dkim selector", SD "DkimSelector a.b\n",
		 NAME ":2: DkimSelector: \"a.b\" is not a selector (letters, digits, "
		 "'-' and '_')"},
		{"dkim key file", SD "DkimKeyFile dkim.pem\n",
		 NAME ":2: DkimKeyFile: \"dkim.pem\" is not an absolute path"},
		{"dmarc report", SD "DmarcReport mailto:dmarc\n",
		 NAME ":2: DmarcReport: \"mailto:dmarc\" is not a mail address"},
		{"rule word", SD "SuppressionRule hard=soon\n",
		 NAME ":2: SuppressionRule: \"soon\" is not never, now or "
		 "COUNT/WINDOW (such as 3/7d)"},
		{"rule class", SD "SuppressionRule bounce=now\n",
		 NAME ":2: SuppressionRule: \"bounce\" is not a class (hard, soft, "
		 "delayed, autoreply, complaint, delivered, unknown)"},
		{"rule pair", SD "SuppressionRule now\n",
		 NAME ":2: SuppressionRule: \"now\" is not CLASS=VALUE"},
		{"rule window", SD "SuppressionRule soft=3/10s\n",
		 NAME ":2: SuppressionRule: \"3/10s\": the window must be from 1m "
		 "to 366d"},
		{"expiry value", SD "SuppressionExpiry soft=forever\n",
		 NAME ":2: SuppressionExpiry: \"forever\" is not a duration (a "
		 "number with s, m, h, d or w)"},
		{"reject text", SD "RejectSuppressedText 100%\n",
		 NAME ":2: RejectSuppressedText: the text must be printable ASCII "
		 "without %"},
		{"retention", SD "Retention 1h\n",
		 NAME ":2: Retention: \"1h\" is out of range (1d to 3660d, or none)"},
		{"max inbound unit", SD "MaxInboundSize 10G\n",
		 NAME ":2: MaxInboundSize: \"10G\" is not a size from 64k to 256M"},
		/* facility and level */
		{"facility kern", SD "SyslogFacility kern\n",
		 NAME ":2: SyslogFacility: \"kern\" is not a facility (mail, daemon, "
		 "user, local0..local7)"},
		{"facility local8", SD "SyslogFacility local8\n",
		 NAME ":2: SyslogFacility: \"local8\" is not a facility (mail, "
		 "daemon, user, local0..local7)"},
		{"level crit", SD "LogLevel crit\n",
		 NAME ":2: LogLevel: \"crit\" is not a level (error, warning, notice, "
		 "info, debug)"},
		{"level number", SD "LogLevel 6\n",
		 NAME ":2: LogLevel: \"6\" is not a level (error, warning, notice, "
		 "info, debug)"},
		/* durations */
		{"duration unit", SD "CodeLifetime 30x\n",
		 NAME ":2: CodeLifetime: \"30x\" is not a duration (a number with s, "
		 "m, h, d or w)"},
		{"duration no number", SD "CodeLifetime d\n",
		 NAME ":2: CodeLifetime: \"d\" is not a duration (a number with s, m, "
		 "h, d or w)"},
		{"duration negative", SD "CodeLifetime -1d\n",
		 NAME ":2: CodeLifetime: \"-1d\" is not a duration (a number with s, "
		 "m, h, d or w)"},
		{"duration two units", SD "CodeLifetime 1dd\n",
		 NAME ":2: CodeLifetime: \"1dd\" is not a duration (a number with s, "
		 "m, h, d or w)"},
		{"duration uppercase unit", SD "DatabaseBusyTimeout 5S\n",
		 NAME ":2: DatabaseBusyTimeout: \"5S\" is not a duration (a number "
		 "with s, m, h, d or w)"},
		{"duration over a century", SD "CodeLifetime 3153600001\n",
		 NAME ":2: CodeLifetime: \"3153600001\" is not a duration (a number "
		 "with s, m, h, d or w)"},
		{"lifetime 0d", SD "CodeLifetime 0d\n",
		 NAME ":2: CodeLifetime: \"0d\" is out of range: codes carry a day "
		 "number, so the lifetime must be from 1d to 1000d"},
		{"lifetime 12h", SD "CodeLifetime 12h\n",
		 NAME ":2: CodeLifetime: \"12h\" is out of range: codes carry a day "
		 "number, so the lifetime must be from 1d to 1000d"},
		{"lifetime 36h", SD "CodeLifetime 36h\n",
		 NAME ":2: CodeLifetime: \"36h\" is not a whole number of days: "
		 "codes carry a day number"},
		{"lifetime 1001d", SD "CodeLifetime 1001d\n",
		 NAME ":2: CodeLifetime: \"1001d\" is out of range: codes carry a day "
		 "number, so the lifetime must be from 1d to 1000d"},
		{"lifetime 143w", SD "CodeLifetime 143w\n",
		 NAME ":2: CodeLifetime: \"143w\" is out of range: codes carry a day "
		 "number, so the lifetime must be from 1d to 1000d"},
		{"cache small", SD "DatabaseCache 512k\n",
		 NAME ":2: DatabaseCache: \"512k\" is not a size from 1M to 1024M"},
		{"cache large", SD "DatabaseCache 1025M\n",
		 NAME ":2: DatabaseCache: \"1025M\" is not a size from 1M to 1024M"},
		{"cache negative", SD "DatabaseCache -1M\n",
		 NAME ":2: DatabaseCache: \"-1M\" is not a size from 1M to 1024M"},
		{"cache unit", SD "DatabaseCache 1G\n",
		 NAME ":2: DatabaseCache: \"1G\" is not a size from 1M to 1024M"},
		{"busy 11m", SD "DatabaseBusyTimeout 11m\n",
		 NAME ":2: DatabaseBusyTimeout: \"11m\" is longer than 10m"},
		{"busy 601", SD "DatabaseBusyTimeout 601\n",
		 NAME ":2: DatabaseBusyTimeout: \"601\" is longer than 10m"},
		{"busy 1d", SD "DatabaseBusyTimeout 1d\n",
		 NAME ":2: DatabaseBusyTimeout: \"1d\" is longer than 10m"},
		/* SenderDomain */
		{"leading dash", "SenderDomain -example.nl\n",
		 NAME ":1: SenderDomain: \"-example.nl\" is not a domain name"},
		{"label ends in dash", "SenderDomain example-.nl\n",
		 NAME ":1: SenderDomain: \"example-.nl\" is not a domain name"},
		{"inner label starts with dash", "SenderDomain mail.-x.nl\n",
		 NAME ":1: SenderDomain: \"mail.-x.nl\" is not a domain name"},
		{"empty label", "SenderDomain example..nl\n",
		 NAME ":1: SenderDomain: \"example..nl\" is not a domain name"},
		{"leading dot", "SenderDomain .example.nl\n",
		 NAME ":1: SenderDomain: \".example.nl\" is not a domain name"},
		{"trailing dot", "SenderDomain example.nl.\n",
		 NAME ":1: SenderDomain: \"example.nl.\" is not a domain name"},
		{"64-octet label", "SenderDomain "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.nl\n",
		 NAME ":1: SenderDomain: "
		 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.nl\""
		 " is not a domain name"},
		{"no dot", "SenderDomain localhost\n",
		 NAME ":1: SenderDomain: \"localhost\" is not a domain name"},
		{"underscore", "SenderDomain mail_1.example.nl\n",
		 NAME ":1: SenderDomain: \"mail_1.example.nl\" is not a domain name"},
		{"address, not domain", "SenderDomain user@example.nl\n",
		 NAME ":1: SenderDomain: \"user@example.nl\" is not a domain name"},
		{"bad feedback domain", "SenderDomain example.nl fb_x.example.nl\n",
		 NAME ":1: SenderDomain: \"fb_x.example.nl\" is not a domain name"},
		{"feedback domain without dot", "SenderDomain example.nl feedback\n",
		 NAME ":1: SenderDomain: \"feedback\" is not a domain name"},
		{"feedback equals domain", "SenderDomain example.nl example.nl\n",
		 NAME ":1: SenderDomain: the feedback domain must differ from "
		 "example.nl"},
		{"feedback equals domain, case", "SenderDomain Example.NL example.nl\n",
		 NAME ":1: SenderDomain: the feedback domain must differ from "
		 "Example.NL"},
		{"three words", "SenderDomain example.nl fb.example.nl more\n",
		 NAME ":1: SenderDomain: \"example.nl fb.example.nl more\" is not "
		 "DOMAIN [FEEDBACK-DOMAIN]"},
		/* TrustedClients */
		{"prefix 33", SD "TrustedClients 10.0.0.0/33\n",
		 NAME ":2: TrustedClients: \"10.0.0.0/33\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"prefix 129", SD "TrustedClients 2001:db8::/129\n",
		 NAME ":2: TrustedClients: \"2001:db8::/129\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"prefix negative", SD "TrustedClients 10.0.0.0/-1\n",
		 NAME ":2: TrustedClients: \"10.0.0.0/-1\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"prefix empty", SD "TrustedClients 10.0.0.0/\n",
		 NAME ":2: TrustedClients: \"10.0.0.0/\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"prefix junk", SD "TrustedClients 10.0.0.0/8x\n",
		 NAME ":2: TrustedClients: \"10.0.0.0/8x\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"prefix alone", SD "TrustedClients /8\n",
		 NAME ":2: TrustedClients: \"/8\" is not an address or network "
		 "(192.0.2.0/24, 2001:db8::/32)"},
		{"host name", SD "TrustedClients localhost\n",
		 NAME ":2: TrustedClients: \"localhost\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"short address", SD "TrustedClients 10.0.0/8\n",
		 NAME ":2: TrustedClients: \"10.0.0/8\" is not an address or network "
		 "(192.0.2.0/24, 2001:db8::/32)"},
		{"bad second network", SD "TrustedClients 10.0.0.0/8, 300.0.0.1\n",
		 NAME ":2: TrustedClients: \"300.0.0.1\" is not an address or "
		 "network (192.0.2.0/24, 2001:db8::/32)"},
		{"bad network on a later line", SD "TrustedClients 10.0.0.0/8\n"
		 "TrustedClients ::1/200\n",
		 NAME ":3: TrustedClients: \"::1/200\" is not an address or network "
		 "(192.0.2.0/24, 2001:db8::/32)"},
		/* IdentityHeaders */
		{"header with colon", SD "IdentityHeaders X-Campaign:\n",
		 NAME ":2: IdentityHeaders: \"X-Campaign:\" is not a header name"},
		{"second header bad", SD "IdentityHeaders X-Ok, X:Bad\n",
		 NAME ":2: IdentityHeaders: \"X:Bad\" is not a header name"},
		{"header too long", SD "IdentityHeaders "
		 "Xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "\n",
		 NAME ":2: IdentityHeaders: "
		 "\"Xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "\" is not a header name"},
		{"header with 8-bit octet", SD "IdentityHeaders X-Caf\xc3\xa9\n",
		 NAME ":2: IdentityHeaders: \"X-Caf\xc3\xa9\" is not a header name"},
		/* checks across lines (they name no line) */
		{"no SenderDomain", "Socket inet:25@localhost\n",
		 NAME ": SenderDomain: none configured; at least one is required"},
		{"empty file", "",
		 NAME ": SenderDomain: none configured; at least one is required"},
		{"only comments", "# nothing\n\n   # here\n",
		 NAME ": SenderDomain: none configured; at least one is required"},
		{"same domain twice", SD "SenderDomain EXAMPLE.nl other.example.nl\n",
		 NAME ":2: SenderDomain: EXAMPLE.nl is already a sender domain"},
		{"sender is another's default feedback", SD
		 "SenderDomain feedback.example.nl\n",
		 NAME ":2: SenderDomain: feedback.example.nl is already a feedback "
		 "domain"},
		{"sender is another's explicit feedback",
		 "SenderDomain example.nl bounces.example.com\n"
		 "SenderDomain bounces.example.com\n",
		 NAME ":2: SenderDomain: bounces.example.com is already a feedback "
		 "domain"},
		{"feedback listed before its sender", "SenderDomain example.com\n"
		 "SenderDomain example.nl example.com\n",
		 NAME ":2: SenderDomain: example.com is already a sender domain"},
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg;

		memset(err, 'Z', sizeof(err));
		cfg = fm_config_parse(rows[i].text, NAME, err, sizeof(err));
		if (cfg != NULL) {
			fm_config_unref(cfg);
			fail_msg("%s: accepted", rows[i].label);
		}
		if (memchr(err, '\0', sizeof(err)) == NULL)
			fail_msg("%s: message not terminated", rows[i].label);
		if (strcmp(err, rows[i].want) != 0)
			fail_msg("%s:\n got \"%s\"\nwant \"%s\"", rows[i].label, err,
				 rows[i].want);
	}
}

/* test_error_small_buffer - a short message buffer is cut, terminated */
static void test_error_small_buffer(void **state)
{
	char err[24];
	size_t size;

	(void)state;
	for (size = 1; size <= sizeof(err); size++) {
		memset(err, 'Z', sizeof(err));
		assert_null(fm_config_parse(SD "Bogus x\n", NAME, err, size));
		assert_true(strlen(err) == size - 1 ||
			    strlen(err) == strlen(NAME ":2: Bogus: unknown option"));
		assert_true(strlen(err) < size);
		assert_memory_equal(err, NAME ":2: Bogus: unknown option",
				    strlen(err));
		if (size < sizeof(err))
			assert_int_equal(err[size], 'Z');
	}
}

/* test_trusted_lines - the first line replaces the default, later ones add */
static void test_trusted_lines(void **state)
{
	static const struct {
		const char *label;
		const char *text;
		size_t want_n;
		const char *yes[3];
		const char *no[3];
	} rows[] = {
		{"default", SD, 2, {"127.0.0.1", "::1"}, {"10.0.0.1", "::2"}},
		{"one line replaces", SD "TrustedClients 10.0.0.0/8\n", 1,
		 {"10.1.2.3"}, {"127.0.0.1", "::1", "192.168.0.1"}},
		{"second line adds", SD "TrustedClients 10.0.0.0/8\n"
		 "TrustedClients 192.168.0.0/16\n", 2,
		 {"10.1.2.3", "192.168.7.7"}, {"127.0.0.1", "::1", "172.16.0.1"}},
		{"lists and lines", SD "TrustedClients 10.0.0.0/8,192.168.0.0/16\n"
		 "TrustedClients 127.0.0.1 ::1\n", 4,
		 {"192.168.0.1", "127.0.0.1", "::1"}, {"127.0.0.2", "172.16.0.1"}},
		{"not adjacent", "TrustedClients 10.0.0.0/8\n" SD
		 "TrustedClients 2001:db8::/32\n", 2,
		 {"10.0.0.1", "2001:db8::25"}, {"127.0.0.1", "::1"}},
		{"commas and tabs", SD "TrustedClients ,10.0.0.1,\t,10.0.0.2 ,\n", 2,
		 {"10.0.0.1", "10.0.0.2"}, {"10.0.0.3"}},
	};
	struct sockaddr_storage ss;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg = parse_ok(rows[i].label, rows[i].text);

		if (cfg->ntrusted != rows[i].want_n)
			fail_msg("%s: %zu networks, want %zu", rows[i].label,
				 cfg->ntrusted, rows[i].want_n);
		for (j = 0; j < 3 && rows[i].yes[j] != NULL; j++)
			if (!fm_config_trusted_addr(cfg, make_sa(rows[i].yes[j], &ss)))
				fail_msg("%s: %s not trusted", rows[i].label,
					 rows[i].yes[j]);
		for (j = 0; j < 3 && rows[i].no[j] != NULL; j++)
			if (fm_config_trusted_addr(cfg, make_sa(rows[i].no[j], &ss)))
				fail_msg("%s: %s trusted", rows[i].label, rows[i].no[j]);
		fm_config_unref(cfg);
	}
}

/* test_trusted_addr - address matching per family and prefix */
static void test_trusted_addr(void **state)
{
	static const struct {
		const char *label;
		const char *nets;
		const char *addr;
		int want;
	} rows[] = {
		{"v4 in /8", "127.0.0.0/8", "127.0.0.1", 1},
		{"v4 top of /8", "127.0.0.0/8", "127.255.255.255", 1},
		{"v4 outside /8", "127.0.0.0/8", "128.0.0.1", 0},
		{"v4 below /8", "127.0.0.0/8", "126.255.255.255", 0},
		{"v4 host, no prefix", "192.0.2.1", "192.0.2.1", 1},
		{"v4 host, neighbour", "192.0.2.1", "192.0.2.2", 0},
		{"v4 /32", "192.0.2.1/32", "192.0.2.1", 1},
		{"v4 /32 neighbour", "192.0.2.1/32", "192.0.2.0", 0},
		{"v4 /0 anything", "0.0.0.0/0", "203.0.113.9", 1},
		{"v4 /0 not v6", "0.0.0.0/0", "2001:db8::1", 0},
		{"v4 /7 low", "2.0.0.0/7", "2.0.0.0", 1},
		{"v4 /7 high", "2.0.0.0/7", "3.255.255.255", 1},
		{"v4 /7 above", "2.0.0.0/7", "4.0.0.0", 0},
		{"v4 /7 below", "2.0.0.0/7", "1.255.255.255", 0},
		{"v4 /25 upper half", "192.0.2.128/25", "192.0.2.200", 1},
		{"v4 /25 upper edge", "192.0.2.128/25", "192.0.2.128", 1},
		{"v4 /25 lower half", "192.0.2.128/25", "192.0.2.127", 0},
		{"v4 /25 lower net", "192.0.2.0/25", "192.0.2.127", 1},
		{"v4 /25 lower net, upper addr", "192.0.2.0/25", "192.0.2.128", 0},
		{"v4 /31", "192.0.2.4/31", "192.0.2.5", 1},
		{"v4 /31 out", "192.0.2.4/31", "192.0.2.6", 0},
		{"v4 host bits in network", "192.0.2.77/24", "192.0.2.1", 1},
		{"v4 host bits, other net", "192.0.2.77/24", "192.0.3.77", 0},
		{"v4-mapped v6 client", "127.0.0.0/8", "::ffff:127.0.0.1", 1},
		{"v4-mapped v6 outside", "127.0.0.0/8", "::ffff:10.0.0.1", 0},
		{"v4-mapped v6, /0", "0.0.0.0/0", "::ffff:198.51.100.1", 1},
		{"v4-mapped not a v6 network", "::/0", "::ffff:127.0.0.1", 0},
		{"v4-compatible is v6", "127.0.0.0/8", "::127.0.0.1", 0},
		{"v6 loopback", "::1/128", "::1", 1},
		{"v6 loopback neighbour", "::1/128", "::2", 0},
		{"v6 host, no prefix", "2001:db8::25", "2001:db8::25", 1},
		{"v6 /0", "::/0", "2001:db8::1", 1},
		{"v6 /0 not v4", "::/0", "192.0.2.1", 0},
		{"v6 /32", "2001:db8::/32", "2001:db8:ffff:ffff::1", 1},
		{"v6 /32 out", "2001:db8::/32", "2001:db9::1", 0},
		{"v6 /33 in", "2001:db8:8000::/33", "2001:db8:8000::1", 1},
		{"v6 /33 out", "2001:db8:8000::/33", "2001:db8:7fff::1", 0},
		{"v6 /7", "fc00::/7", "fdff::1", 1},
		{"v6 /7 out", "fc00::/7", "fe00::1", 0},
		{"v6 /127", "2001:db8::/127", "2001:db8::1", 1},
		{"v6 /127 out", "2001:db8::/127", "2001:db8::2", 0},
		{"v6 /128 first octet differs", "2001:db8::1/128", "3001:db8::1", 0},
		{"v4 net, v6 client", "10.0.0.0/8", "::a00:1", 0},
		{"second of several", "10.0.0.0/8 192.0.2.0/24 ::1", "192.0.2.9", 1},
		{"none of several", "10.0.0.0/8 192.0.2.0/24 ::1", "198.51.100.1", 0},
	};
	struct sockaddr_storage ss;
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg;
		int got;

		snprintf(text, sizeof(text), SD "TrustedClients %s\n", rows[i].nets);
		cfg = parse_ok(rows[i].label, text);
		got = fm_config_trusted_addr(cfg, make_sa(rows[i].addr, &ss));
		if (got != rows[i].want)
			fail_msg("%s: %s in %s: got %d, want %d", rows[i].label,
				 rows[i].addr, rows[i].nets, got, rows[i].want);
		fm_config_unref(cfg);
	}
}

/* test_trusted_other - no address, or not an IP address: never trusted */
static void test_trusted_other(void **state)
{
	fm_config_t *cfg = parse_ok("any", SD "TrustedClients 0.0.0.0/0 ::/0\n");
	struct sockaddr_un sun;

	(void)state;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/tmp/x");
	assert_int_equal(fm_config_trusted_addr(cfg, NULL), 0);
	assert_int_equal(fm_config_trusted_addr(cfg,
		(const struct sockaddr *)(const void *)&sun), 0);
	fm_config_unref(cfg);
}

/* test_domain_lookup - sender and feedback lookups, case-insensitive */
static void test_domain_lookup(void **state)
{
	static const struct {
		const char *label;
		const char *query;
		int want_sender;	/* index or -1 */
		int want_feedback;
	} rows[] = {
		{"sender", "example.nl", 0, -1},
		{"sender upper", "EXAMPLE.NL", 0, -1},
		{"sender mixed", "Example.Org", 1, -1},
		{"default feedback", "feedback.example.nl", -1, 0},
		{"default feedback upper", "FEEDBACK.Example.NL", -1, 0},
		{"explicit feedback", "bounces.example.com", -1, 1},
		{"explicit feedback upper", "Bounces.EXAMPLE.com", -1, 1},
		{"subdomain", "mail.example.nl", -1, -1},
		{"parent", "nl", -1, -1},
		{"suffix only", "xexample.nl", -1, -1},
		{"trailing dot", "example.nl.", -1, -1},
		{"empty", "", -1, -1},
		{"unused default of explicit", "feedback.example.org", -1, -1},
	};
	fm_config_t *cfg = parse_ok("lookup", "SenderDomain example.nl\n"
				    "SenderDomain Example.ORG bounces.example.com\n");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const fm_domain_t *s = fm_config_sender_domain(cfg, rows[i].query);
		const fm_domain_t *f = fm_config_feedback_domain(cfg, rows[i].query);
		const fm_domain_t *ws = rows[i].want_sender < 0 ? NULL
			: &cfg->domains[rows[i].want_sender];
		const fm_domain_t *wf = rows[i].want_feedback < 0 ? NULL
			: &cfg->domains[rows[i].want_feedback];

		if (s != ws)
			fail_msg("%s: sender lookup of %s", rows[i].label,
				 rows[i].query);
		if (f != wf)
			fail_msg("%s: feedback lookup of %s", rows[i].label,
				 rows[i].query);
	}
	fm_config_unref(cfg);
}

/* test_refs - references count up and down; the last unref frees */
static void test_refs(void **state)
{
	fm_config_t *cfg = parse_ok("refs", SD);

	(void)state;
	assert_int_equal(cfg->refs, 1);
	assert_ptr_equal(fm_config_ref(cfg), cfg);
	assert_int_equal(cfg->refs, 2);
	assert_ptr_equal(fm_config_ref(cfg), cfg);
	assert_int_equal(cfg->refs, 3);
	fm_config_unref(cfg);
	assert_int_equal(cfg->refs, 2);
	fm_config_unref(cfg);
	assert_int_equal(cfg->refs, 1);
	/* still whole: the remaining reference can use it */
	assert_string_equal(cfg->domains[0].domain, "example.nl");
	fm_config_unref(cfg);	/* freed; ASan reports a leak otherwise */
	fm_config_unref(NULL);
}

/* memstream_of - capture what a writer prints */
static char *memstream_of(void (*writer)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	writer(fp);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* count_of - occurrences of needle in hay */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* test_write_man - one ".It Cm" entry per option, defaults quoted */
static void test_write_man(void **state)
{
	char *man = memstream_of(fm_config_write_man);
	char want[128];
	size_t i;

	(void)state;
	assert_true(strncmp(man, ".Sh OPTIONS\n.Bl -tag -width Ds\n", 30) == 0);
	assert_true(ends_with(man, ".El\n"));
	assert_int_equal(count_of(man, ".It Cm "), NOPTION_NAMES);
	for (i = 0; i < NOPTION_NAMES; i++) {
		snprintf(want, sizeof(want), "\n.It Cm %s Ar ", option_names[i]);
		if (count_of(man, want) != 1)
			fail_msg("%s: %zu entries", option_names[i],
				 count_of(man, want));
	}
	/* entries follow the table order */
	for (i = 1; i < NOPTION_NAMES; i++) {
		char prev[128];

		snprintf(prev, sizeof(prev), "\n.It Cm %s Ar ", option_names[i - 1]);
		snprintf(want, sizeof(want), "\n.It Cm %s Ar ", option_names[i]);
		assert_true(strstr(man, prev) < strstr(man, want));
	}
	assert_non_null(strstr(man, ".Ql 0660 .\n"));
	assert_non_null(strstr(man, ".Ql 30d .\n"));
	assert_non_null(strstr(man, ".Ql 127.0.0.0/8 ::1/128 .\n"));
	assert_non_null(strstr(man, ".Ql 5s .\n"));
	assert_non_null(strstr(man, "\n.It Cm SenderDomain Ar domain "
				    "[feedback-domain]\n"));
	/* without a default: SenderDomain, IdentityHeaders, MXHost and
	 * OutboundAddresses (which repeat), UserID, PidFile, Nameservers,
	 * AuthservID, CnameTarget, SpfInclude, DkimKeyFile and DmarcReport */
	assert_int_equal(count_of(man, ".Pp\nNo default.\nMay be repeated.\n"),
			 4);
	assert_int_equal(count_of(man, ".Pp\nNo default.\n"), 12);
	/* with a default: TrustedClients, InboundAction, SuppressionRule and
	 * SuppressionExpiry repeat */
	assert_int_equal(count_of(man, "May be repeated.\n"), 8);
	assert_non_null(strstr(man, ".Ql 127.0.0.0/8 ::1/128 .\n"
				    "May be repeated.\n"));
	assert_non_null(strstr(man, ".It Cm SuppressionRule Ar class=rule ...\n"));
	/* ten options take effect only at the next start */
	assert_int_equal(count_of(man, "Takes effect at the next start, not on "
				       "reload.\n"), 10);
	assert_non_null(strstr(man, ".Ql 5s .\nTakes effect at the next start"));
	free(man);
}

/* test_inbound_options - InboundAction per class and the other values */
static void test_inbound_options(void **state)
{
	fm_config_t *cfg;

	(void)state;
	cfg = parse_ok("defaults", SD);
	assert_int_equal(cfg->inbound_accept[1], 0);
	assert_int_equal(cfg->require_auth, FM_AUTH_NONE);
	assert_null(cfg->nameservers);
	assert_int_equal(cfg->dns_timeout_ms, 5000);
	assert_int_equal(cfg->max_inbound_size, 10 * 1024 * 1024);
	fm_config_unref(cfg);
	cfg = parse_ok("set", SD "InboundAction discard complaint=accept\n"
		       "InboundAction AutoReply=accept\n"
		       "RequireAuthentication DKIM\n"
		       "Nameservers 127.0.0.1@5353 ::1\n"
		       "DnsTimeout 2s\nAuthservID mx.example.nl\n"
		       "MaxInboundSize 512k\n");
	assert_int_equal(cfg->inbound_accept[1], 0);	/* hard */
	assert_int_equal(cfg->inbound_accept[4], 1);	/* autoreply */
	assert_int_equal(cfg->inbound_accept[5], 1);	/* complaint */
	assert_string_equal(fm_config_class_names[5], "complaint");
	assert_int_equal(cfg->require_auth, FM_AUTH_DKIM);
	assert_string_equal(cfg->nameservers, "127.0.0.1@5353 ::1");
	assert_int_equal(cfg->dns_timeout_ms, 2000);
	assert_string_equal(cfg->authserv_id, "mx.example.nl");
	assert_int_equal(cfg->max_inbound_size, 512 * 1024);
	fm_config_unref(cfg);
	cfg = parse_ok("dns", SD "MXHost mx1.example.net, MX2.example.net\n"
		       "MXHost mx3.example.net\nCnameTarget fb.example.net\n"
		       "SpfInclude _spf.example.net\n"
		       "OutboundAddresses 192.0.2.25 2001:db8::/64\n"
		       "DkimSelector sel-2026\nDkimKeyFile /etc/fm/dkim.pem\n"
		       "DmarcReport mailto:dmarc@example.net\n");
	assert_int_equal(cfg->nmx_hosts, 3);
	assert_string_equal(cfg->mx_hosts[1], "mx2.example.net");
	assert_string_equal(cfg->cname_target, "fb.example.net");
	assert_string_equal(cfg->spf_include, "_spf.example.net");
	assert_int_equal(cfg->noutbound, 2);
	assert_int_equal(cfg->outbound[1].prefix, 64);
	assert_string_equal(cfg->dkim_selector, "sel-2026");
	assert_string_equal(cfg->dkim_key_file, "/etc/fm/dkim.pem");
	assert_string_equal(cfg->dmarc_rua, "dmarc@example.net");
	fm_config_unref(cfg);
	cfg = parse_ok("rule defaults", SD);
	assert_int_equal(cfg->rules.rule[1].kind, FM_RULE_NOW);	/* hard */
	assert_int_equal(cfg->rules.rule[2].kind, FM_RULE_THRESHOLD);	/* soft */
	assert_int_equal(cfg->rules.rule[2].count, 3);
	assert_int_equal(cfg->rules.rule[2].window, 7 * 86400);
	assert_int_equal(cfg->rules.rule[2].expiry, 30 * 86400);
	assert_int_equal(cfg->rules.rule[1].expiry, 0);
	assert_int_equal(cfg->rules.rule[5].kind, FM_RULE_NOW);	/* complaint */
	assert_int_equal(cfg->rules.rule[3].kind, FM_RULE_NEVER);	/* delayed */
	assert_int_equal(cfg->reject_suppressed, 0);
	assert_int_equal(cfg->retention, 0);
	fm_config_unref(cfg);
	cfg = parse_ok("rules", SD "SuppressionRule soft=5/2d\n"
		       "SuppressionRule delayed=10/1d\nSuppressionExpiry hard=90d\n"
		       "RejectSuppressed yes\nRetention 90d\n");
	assert_int_equal(cfg->rules.rule[2].count, 5);
	assert_int_equal(cfg->rules.rule[2].window, 2 * 86400);
	assert_int_equal(cfg->rules.rule[1].kind, FM_RULE_NOW);	/* kept */
	assert_int_equal(cfg->rules.rule[3].kind, FM_RULE_THRESHOLD);
	assert_int_equal(cfg->rules.rule[1].expiry, 90 * 86400);
	assert_int_equal(cfg->rules.rule[2].expiry, 30 * 86400);	/* kept */
	assert_int_equal(cfg->reject_suppressed, 1);
	assert_int_equal(cfg->retention, 90 * 86400);
	fm_config_unref(cfg);
	cfg = parse_ok("accept all", SD "InboundAction accept hard=discard\n");
	assert_int_equal(cfg->inbound_accept[0], 1);
	assert_int_equal(cfg->inbound_accept[1], 0);
	assert_int_equal(cfg->inbound_accept[6], 1);
	fm_config_unref(cfg);
}

/* advice_collect - fm_config_advise: the texts, one per line */
static void advice_collect(void *arg, const char *text)
{
	char *buf = arg;
	size_t n = strlen(buf);

	snprintf(buf + n, 2048 - n, "%s\n", text);
}

/*
 * test_advise - a Retention shorter than CodeLifetime or than a threshold
 * window is pointed out, once per setting it cuts short; none otherwise
 */
static void test_advise(void **state)
{
	static const struct {
		const char *label, *text;
		int n;
		const char *want;	/* in the advice, or NULL */
	} rows[] = {
		{"no retention", SD, 0, NULL},
		{"retention 90d", SD "Retention 90d\n", 0, NULL},
		{"equal to lifetime", SD "Retention 30d\n", 0, NULL},
		{"shorter than lifetime", SD "Retention 10d\n", 1,
		 "Retention 10d is shorter than CodeLifetime 30d: a report "
		 "about a message sent more than 10d ago passes the code check"
		 " but finds no send record, so it is recorded without its "
		 "send and suppresses nobody\n"},
		{"lifetime shortened", SD "Retention 10d\nCodeLifetime 7d\n", 0,
		 NULL},
		{"and a window", SD "Retention 36h\nCodeLifetime 1d\n", 1,
		 "Retention 36h is shorter than the 7d window of "
		 "SuppressionRule soft: its events are deleted before the "
		 "window ends, so fewer of them count\n"},
		{"both, two windows", SD "Retention 2d\n"
		 "SuppressionRule delayed=5/3d\n", 3, "SuppressionRule delayed"},
	};
	char buf[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_config_t *cfg = parse_ok(rows[i].label, rows[i].text);

		buf[0] = '\0';
		if (fm_config_advise(cfg, advice_collect, buf) != rows[i].n)
			fail_msg("%s: advice \"%s\"", rows[i].label, buf);
		if (rows[i].n == 0 && buf[0] != '\0')
			fail_msg("%s: unexpected advice %s", rows[i].label, buf);
		if (rows[i].want != NULL && strstr(buf, rows[i].want) == NULL)
			fail_msg("%s: got \"%s\"", rows[i].label, buf);
		fm_config_unref(cfg);
	}
}

/* test_write_sample - every option listed; the sample itself parses */
static void test_write_sample(void **state)
{
	char *sample = memstream_of(fm_config_write_sample);
	fm_config_t *cfg, *def;
	char want[128];
	size_t i;

	(void)state;
	assert_non_null(strstr(sample, "\nSenderDomain example.nl\n"));
	for (i = 0; i < NOPTION_NAMES; i++) {
		if (strcmp(option_names[i], "SenderDomain") == 0)
			continue;
		snprintf(want, sizeof(want), "\n#%s ", option_names[i]);
		if (count_of(sample, want) != 1)
			fail_msg("%s: not listed once", option_names[i]);
	}
	assert_non_null(strstr(sample, "\n#SocketMode 0660\n"));
	assert_non_null(strstr(sample, "\n#UserID feedback-milter\n"));
	assert_non_null(strstr(sample, "\n#Nameservers 127.0.0.1 ::1\n"));
	cfg = parse_ok("sample", sample);
	def = parse_ok("defaults", SD);
	assert_string_equal(cfg->socket, def->socket);
	assert_int_equal(cfg->socket_mode, def->socket_mode);
	assert_string_equal(cfg->key_file, def->key_file);
	assert_string_equal(cfg->database, def->database);
	assert_int_equal(cfg->ntrusted, def->ntrusted);
	assert_int_equal(cfg->ndomains, 1);
	fm_config_unref(def);
	fm_config_unref(cfg);

	/* uncommenting each default line gives a file that still parses */
	{
		char *copy = strdup(sample), *p;

		assert_non_null(copy);
		for (p = copy; (p = strstr(p, "\n#")) != NULL; p++)
			if (p[2] >= 'A' && p[2] <= 'Z' &&
			    strncmp(p + 2, "UserID", 6) != 0 &&
			    strncmp(p + 2, "AuthservID", 10) != 0 &&
			    strncmp(p + 2, "DkimKeyFile", 11) != 0 &&
			    strncmp(p + 2, "PidFile", 7) != 0 &&
			    strncmp(p + 2, "IdentityHeaders", 15) != 0)
				p[1] = ' ';
		cfg = parse_ok("sample uncommented", copy);
		assert_int_equal(cfg->code_lifetime_days, 30);
		assert_int_equal(cfg->busy_timeout_ms, 5000);
		assert_int_equal(cfg->ntrusted, 2);
		fm_config_unref(cfg);
		free(copy);
	}
	free(sample);
}

/* tmpdir_setup - a private directory for files */
static int tmpdir_setup(void **state)
{
	char *dir = strdup("/tmp/test_config.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

/* tmpdir_teardown - remove the directory and what the tests left */
static int tmpdir_teardown(void **state)
{
	char path[512], *dir = *state;

	snprintf(path, sizeof(path), "%s/fm.conf", dir);
	unlink(path);
	rmdir(dir);
	free(dir);
	return 0;
}

/* write_file - write len octets to dir/fm.conf; returns the path */
static const char *write_file(const char *dir, const char *text, size_t len,
			      char *path, size_t size)
{
	FILE *fp;

	snprintf(path, size, "%s/fm.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* test_load - fm_config_load reads a file and names it in messages */
static void test_load(void **state)
{
	char path[512], err[512], want[600];
	fm_config_t *cfg;

	write_file(*state, SD "Socket inet:25\r\n", strlen(SD "Socket inet:25\r\n"),
		   path, sizeof(path));
	cfg = fm_config_load(path, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("load: %s", err);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->socket, "inet:25");
	fm_config_unref(cfg);

	write_file(*state, SD "LogLevel loud\n", strlen(SD "LogLevel loud\n"), path,
		   sizeof(path));
	assert_null(fm_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s:2: LogLevel: \"loud\" is not a level (error, warning, "
		 "notice, info, debug)", path);
	assert_string_equal(err, want);

	write_file(*state, SD "#\0\n", strlen(SD) + 3, path, sizeof(path));
	assert_null(fm_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: contains a NUL octet", path);
	assert_string_equal(err, want);

	unlink(path);
	assert_null(fm_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

/* test_regress_domain_trailing_dash - the last label may not end in '-' */
static void test_regress_domain_trailing_dash(void **state)
{
	static const char *const lines[] = {
		"SenderDomain example.nl-\n",
		"SenderDomain example.nl fb.example.nl-\n",
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		fm_config_t *cfg = fm_config_parse(lines[i], NAME, err, sizeof(err));

		if (cfg != NULL) {
			fm_config_unref(cfg);
			fail_msg("%s: accepted", lines[i]);
		}
		assert_non_null(strstr(err, "is not a domain name"));
	}
}

/* test_regress_shared_feedback - two sender domains, one feedback domain */
static void test_regress_shared_feedback(void **state)
{
	char err[512];
	fm_config_t *cfg;

	(void)state;
	cfg = fm_config_parse("SenderDomain a.example.nl fb.example.nl\n"
			      "SenderDomain b.example.nl fb.example.nl\n",
			      NAME, err, sizeof(err));
	if (cfg != NULL) {
		fm_config_unref(cfg);
		fail_msg("a feedback domain shared by two sender domains was "
			 "accepted");
	}
	assert_non_null(strstr(err, "fb.example.nl"));
}

/* test_regress_long_default_feedback - feedback.DOMAIN longer than 253 */
static void test_regress_long_default_feedback(void **state)
{
	char dom[256], line[300], err[512], want[300];
	fm_config_t *cfg;

	(void)state;
	/* 63.63.63.53 = 245 octets: valid; "feedback." + it is 254 */
	memset(dom, 'a', 245);
	dom[63] = dom[127] = dom[191] = '.';
	dom[245] = '\0';
	snprintf(line, sizeof(line), "SenderDomain %s\n", dom);
	snprintf(want, sizeof(want), "feedback.%s", dom);
	cfg = fm_config_parse(line, NAME, err, sizeof(err));
	if (cfg != NULL) {
		int same = strcmp(cfg->domains[0].feedback, want) == 0;

		fm_config_unref(cfg);
		if (!same)
			fail_msg("default feedback domain silently cut to 249 "
				 "octets instead of an error");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_feedback_domain),
		cmocka_unit_test(test_names_case),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_crlf_values),
		cmocka_unit_test(test_accepted_values),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_facilities_levels),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_small_buffer),
		cmocka_unit_test(test_trusted_lines),
		cmocka_unit_test(test_trusted_addr),
		cmocka_unit_test(test_trusted_other),
		cmocka_unit_test(test_domain_lookup),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_write_man),
		cmocka_unit_test(test_inbound_options),
		cmocka_unit_test(test_advise),
		cmocka_unit_test(test_write_sample),
		cmocka_unit_test_setup_teardown(test_load, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_regress_domain_trailing_dash),
		cmocka_unit_test(test_regress_shared_feedback),
		cmocka_unit_test(test_regress_long_default_feedback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
