/*
 * test_context - unit tests for the context module (per-connection and
 * per-message state)
 *
 * Links milter/context.c with what it uses (rewrite.c for address
 * stripping, config.c and codec.c for the pinned configuration), cmocka
 * and libcrypto. Configurations are parsed from text; reference counts are
 * checked directly, and the sanitizer build reports anything released
 * twice or never.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "config.h"
#include "context.h"
#include "rewrite.h"

#define IDENT_CONFIG "SenderDomain example.nl\n" \
	"IdentityHeaders X-Campaign, X-Profile-ID\n"

/* config_of - a configuration that must parse */
static fm_config_t *config_of(const char *text)
{
	char err[256];
	fm_config_t *cfg = fm_config_parse(text, "t.conf", err, sizeof(err));

	if (cfg == NULL)
		fail_msg("config: %s", err);
	return cfg;
}

/* conn_setup - a connection with a message begun under IDENT_CONFIG */
static int conn_setup(void **state)
{
	fm_conn_t *conn = fm_conn_new();

	if (conn == NULL)
		return -1;
	if (fm_conn_begin_msg(conn, config_of(IDENT_CONFIG), "<a@example.nl>",
			      NULL, NULL) < 0)
		return -1;
	*state = conn;
	return 0;
}

/* conn_teardown - free it (and its configuration) */
static int conn_teardown(void **state)
{
	fm_conn_free(*state);
	return 0;
}

/* test_new - an empty connection */
static void test_new(void **state)
{
	fm_conn_t *conn = fm_conn_new();

	(void)state;
	assert_non_null(conn);
	assert_null(conn->cfg);
	assert_int_equal(conn->have_addr, 0);
	assert_string_equal(conn->client, "unknown");
	assert_null(conn->msg.sender);
	assert_int_equal(conn->msg.nrcpts, 0);
	assert_string_equal(conn->msg.qid, "");
	/* a header before any message is ignored */
	assert_int_equal(fm_conn_header(conn, "Message-ID", "<x@y>"), 0);
	assert_null(conn->msg.msgid);
	fm_conn_free(conn);
	fm_conn_free(NULL);
}

/* test_client - printable client addresses */
static void test_client(void **state)
{
	static const struct {
		const char *label;
		int family;
		const char *addr;
		const char *want;
	} rows[] = {
		{"IPv4", AF_INET, "192.0.2.1", "192.0.2.1"},
		{"IPv4 loopback", AF_INET, "127.0.0.1", "127.0.0.1"},
		{"IPv4 broadcast", AF_INET, "255.255.255.255", "255.255.255.255"},
		{"IPv6", AF_INET6, "2001:db8::1", "2001:db8::1"},
		{"IPv6 loopback", AF_INET6, "::1", "::1"},
		{"IPv6 long", AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678",
		 "2001:db8:1234:5678:9abc:def0:1234:5678"},
		{"IPv6 v4-mapped", AF_INET6, "::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"IPv6 uppercase in", AF_INET6, "2001:DB8::A", "2001:db8::a"},
	};
	fm_conn_t *conn = fm_conn_new();
	size_t i;

	(void)state;
	assert_non_null(conn);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_storage ss;
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
		size_t len;

		memset(&ss, 0, sizeof(ss));
		if (rows[i].family == AF_INET) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(2525);
			assert_int_equal(inet_pton(AF_INET, rows[i].addr,
						   &sin->sin_addr), 1);
			len = sizeof(*sin);
		} else {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(2525);
			assert_int_equal(inet_pton(AF_INET6, rows[i].addr,
						   &sin6->sin6_addr), 1);
			len = sizeof(*sin6);
		}
		/* the previous row's state is replaced */
		fm_conn_set_client(conn, (const struct sockaddr *)&ss);
		if (strcmp(conn->client, rows[i].want) != 0)
			fail_msg("%s: got %s", rows[i].label, conn->client);
		assert_int_equal(conn->have_addr, 1);
		assert_memory_equal(&conn->addr, &ss, len);
	}

	/* a unix socket client and no address at all */
	{
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, "/run/x");
		fm_conn_set_client(conn, (const struct sockaddr *)(void *)&sun);
		assert_string_equal(conn->client, "unknown");
		assert_int_equal(conn->have_addr, 0);
		fm_conn_set_client(conn, NULL);
		assert_string_equal(conn->client, "unknown");
		assert_int_equal(conn->have_addr, 0);
	}
	fm_conn_free(conn);
}

/* test_client_str - the address from the MTA's {client_addr} macro */
static void test_client_str(void **state)
{
	static const struct {
		const char *in;
		const char *want;
		int family;
	} rows[] = {
		{ "192.0.2.7", "192.0.2.7", AF_INET },
		{ "2001:db8::1", "2001:db8::1", AF_INET6 },
		{ "IPv6:2001:DB8::1", "2001:db8::1", AF_INET6 },
		{ "ipv6:::1", "::1", AF_INET6 },
		{ "IPv6:192.0.2.7", "unknown", 0 },	/* v4 behind the v6 tag */
		{ "client.example.org", "unknown", 0 },
		{ "192.0.2.7 ", "unknown", 0 },
		{ "", "unknown", 0 },
		{ NULL, "unknown", 0 },
	};
	fm_conn_t *conn = fm_conn_new();
	size_t i;

	(void)state;
	assert_non_null(conn);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* each row replaces what the previous one left */
		fm_conn_set_client_str(conn, "198.51.100.1");
		fm_conn_set_client_str(conn, rows[i].in);
		if (strcmp(conn->client, rows[i].want) != 0)
			fail_msg("%s: got %s", rows[i].in ? rows[i].in : "NULL",
				 conn->client);
		assert_int_equal(conn->have_addr, rows[i].family != 0);
		if (rows[i].family != 0)
			assert_int_equal(conn->addr.ss_family, rows[i].family);
	}
	fm_conn_free(conn);
}

/* test_begin - sender, local submission and SASL user */
static void test_begin(void **state)
{
	static const struct {
		const char *label;
		const char *sender;
		const char *sasl;
		const char *daemon_port;	/* {daemon_port} */
		int want_local;
		const char *want_sasl;
	} rows[] = {
		{"smtpd sender", "<user@example.nl>", NULL, "25", 0, NULL},
		{"null sender", "<>", NULL, "0", 0, NULL},
		{"sendmail command", "user@example.nl", NULL, "0", 1, NULL},
		{"sendmail, spaces", "  user@example.nl", NULL, "0", 1, NULL},
		{"brackets after spaces", " \t<user@example.nl>", NULL, "0", 0,
		 NULL},
		{"empty sender", "", NULL, "0", 1, NULL},
		{"no sender", NULL, NULL, "0", 0, NULL},
		/* an SMTP client may leave out the brackets: not local */
		{"smtpd, no brackets", "user@example.nl", NULL, "25", 0, NULL},
		{"smtpd, no brackets, port 587", "user@example.nl", NULL, "587",
		 0, NULL},
		{"no daemon port", "user@example.nl", NULL, NULL, 0, NULL},
		{"empty daemon port", "user@example.nl", NULL, "", 0, NULL},
		{"port 00", "user@example.nl", NULL, "00", 0, NULL},
		{"SASL user", "<user@example.nl>", "alice", "587", 0, "alice"},
		{"SASL address", "<user@example.nl>", "alice@example.nl", "587",
		 0, "alice@example.nl"},
		{"empty SASL user", "<user@example.nl>", "", "25", 0, NULL},
	};
	fm_conn_t *conn = fm_conn_new();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_msg_t *msg = &conn->msg;

		assert_int_equal(fm_conn_begin_msg(conn, config_of(IDENT_CONFIG),
						   rows[i].sender, rows[i].sasl, rows[i].daemon_port), 0);
		if (msg->local_submission != rows[i].want_local)
			fail_msg("%s: local_submission %d", rows[i].label,
				 msg->local_submission);
		if (rows[i].sender == NULL ? msg->sender != NULL
		    : msg->sender == NULL || strcmp(msg->sender, rows[i].sender))
			fail_msg("%s: sender \"%s\"", rows[i].label,
				 msg->sender ? msg->sender : "NULL");
		if (rows[i].want_sasl == NULL ? msg->sasl_user != NULL
		    : msg->sasl_user == NULL ||
		      strcmp(msg->sasl_user, rows[i].want_sasl))
			fail_msg("%s: sasl \"%s\"", rows[i].label,
				 msg->sasl_user ? msg->sasl_user : "NULL");
		/* the sender is a copy */
		if (rows[i].sender != NULL)
			assert_ptr_not_equal(msg->sender, rows[i].sender);
		assert_int_equal(msg->nrcpts, 0);
		assert_null(msg->msgid);
		assert_non_null(msg->ident_values);
		assert_non_null(msg->ident_counts);
	}
	fm_conn_free(conn);
}

/* test_sasl_bound - a SASL user is kept up to FM_ADDR_MAX octets */
static void test_sasl_bound(void **state)
{
	fm_conn_t *conn = *state;
	char user[FM_ADDR_MAX * 2];

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	assert_int_equal(fm_conn_begin_msg(conn, config_of(IDENT_CONFIG),
					   "<a@example.nl>", user, NULL), 0);
	assert_int_equal(strlen(conn->msg.sasl_user), FM_ADDR_MAX);
	assert_memory_equal(conn->msg.sasl_user, user, FM_ADDR_MAX);
}

/* test_end - ending a message forgets it and keeps the snapshot */
static void test_end(void **state)
{
	fm_conn_t *conn = *state;
	fm_config_t *cfg = conn->cfg;
	fm_msg_t *msg = &conn->msg;

	assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(cfg),
					   "<a@example.nl>", "alice", NULL), 0);
	assert_int_equal(cfg->refs, 1);	/* the old reference was released */
	assert_int_equal(fm_msg_add_rcpt(msg, "<r@example.com>"), 0);
	assert_int_equal(fm_conn_header(conn, "Message-ID", "<m@x>"), 0);
	assert_int_equal(fm_conn_header(conn, "X-Campaign", "c1"), 0);
	fm_msg_set_qid(msg, "4Xyz12");
	fm_conn_end_msg(conn);
	assert_null(msg->sender);
	assert_null(msg->sasl_user);
	assert_null(msg->rcpts);
	assert_int_equal(msg->nrcpts, 0);
	assert_int_equal(msg->rcpt_cap, 0);
	assert_null(msg->msgid);
	assert_null(msg->ident_values);
	assert_null(msg->ident_counts);
	assert_int_equal(msg->local_submission, 0);
	assert_string_equal(msg->qid, "");
	assert_ptr_equal(conn->cfg, cfg);
	assert_int_equal(cfg->refs, 1);
	/* ending twice is harmless; headers now go nowhere */
	fm_conn_end_msg(conn);
	assert_int_equal(fm_conn_header(conn, "X-Campaign", "c2"), 0);
	assert_null(msg->ident_values);
}

/* test_rcpts - recipients stripped, malformed ones refused */
static void test_rcpts(void **state)
{
	static const struct {
		const char *label;
		const char *rcpt;
		int want_rc;
		const char *want;
	} rows[] = {
		{"brackets", "<r1@example.com>", 0, "r1@example.com"},
		{"no brackets", "r2@example.com", 0, "r2@example.com"},
		{"spaces", "  <r3@example.com>  ", 0, "r3@example.com"},
		{"source route", "<@relay:r4@example.com>", 0, "r4@example.com"},
		{"unbalanced", "<r5@example.com", -1, NULL},
		{"CRLF inside", "<r6@example.com\r\nX: y>", -1, NULL},
		{"NULL", NULL, -1, NULL},
		{"after a refusal", "<r7@example.com>", 0, "r7@example.com"},
	};
	fm_conn_t *conn = *state;
	fm_msg_t *msg = &conn->msg;
	size_t i, n = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = fm_msg_add_rcpt(msg, rows[i].rcpt);

		if (rc != rows[i].want_rc)
			fail_msg("%s: rc %d", rows[i].label, rc);
		if (rc == 0)
			n++;
		if (msg->nrcpts != n)
			fail_msg("%s: %zu recipients, want %zu", rows[i].label,
				 msg->nrcpts, n);
		if (rc == 0 && strcmp(msg->rcpts[n - 1], rows[i].want) != 0)
			fail_msg("%s: got %s", rows[i].label, msg->rcpts[n - 1]);
	}
	/* a too long address is refused too */
	{
		char big[FM_ADDR_MAX + 16];

		memset(big, 'r', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[10] = '@';
		assert_int_equal(fm_msg_add_rcpt(msg, big), -1);
		assert_int_equal(msg->nrcpts, n);
	}
}

/* test_rcpts_many - 1000 recipients, past every capacity step */
static void test_rcpts_many(void **state)
{
	fm_conn_t *conn = *state;
	fm_msg_t *msg = &conn->msg;
	char rcpt[64], want[64];
	size_t i;

	for (i = 0; i < 1000; i++) {
		snprintf(rcpt, sizeof(rcpt), "<user%zu@example.com>", i);
		assert_int_equal(fm_msg_add_rcpt(msg, rcpt), 0);
		assert_int_equal(msg->nrcpts, i + 1);
		assert_true(msg->rcpt_cap >= msg->nrcpts);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "user%zu@example.com", i);
		if (strcmp(msg->rcpts[i], want) != 0)
			fail_msg("recipient %zu: %s", i, msg->rcpts[i]);
	}
	/* the next message starts empty again */
	assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(conn->cfg),
					   "<a@example.nl>", NULL, NULL), 0);
	assert_int_equal(msg->nrcpts, 0);
	assert_int_equal(fm_msg_add_rcpt(msg, "<x@example.com>"), 0);
	assert_string_equal(msg->rcpts[0], "x@example.com");
}

/* test_headers - first values kept, occurrences counted, names caseless */
static void test_headers(void **state)
{
	static const struct {
		const char *name;
		const char *value;
	} headers[] = {
		{"Received", "from x by y"},
		{"message-id", " <first@example.nl>"},
		{"X-Campaign", "spring-sale"},
		{"MESSAGE-ID", "<second@example.nl>"},
		{"x-campaign", "other"},
		{"X-Profile-Id", "p42"},
		{"X-CAMPAIGN", "third"},
		{"X-Campaign-Extra", "not this"},
		{"X-Campaig", "nor this"},
		{"Subject", "hello"},
	};
	fm_conn_t *conn = *state;
	fm_msg_t *msg = &conn->msg;
	size_t i;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		assert_int_equal(fm_conn_header(conn, headers[i].name,
						headers[i].value), 0);
	assert_string_equal(msg->msgid, "<first@example.nl>");
	assert_string_equal(msg->ident_values[0], "spring-sale");
	assert_int_equal(msg->ident_counts[0], 3);
	assert_string_equal(msg->ident_values[1], "p42");
	assert_int_equal(msg->ident_counts[1], 1);

	/* NULL name or value: ignored */
	assert_int_equal(fm_conn_header(conn, NULL, "x"), 0);
	assert_int_equal(fm_conn_header(conn, "X-Profile-ID", NULL), 0);
	assert_int_equal(msg->ident_counts[1], 1);
}

/* test_header_values - unfolded, trimmed and bounded copies */
static void test_header_values(void **state)
{
	static const struct {
		const char *label;
		const char *value;
		const char *want;
	} rows[] = {
		{"plain", "abc", "abc"},
		{"leading space", "   abc", "abc"},
		{"trailing space", "abc  \t ", "abc"},
		{"folded CRLF tab", "abc\r\n\tdef", "abc def"},
		{"folded CRLF space", "abc\r\n def", "abc def"},
		{"folded LF only", "abc\n def", "abc def"},
		{"tabs become spaces", "a\tb", "a b"},
		{"inner spaces kept", "a  b", "a  b"},
		{"only folding", "\r\n\t\r\n ", ""},
		{"empty", "", ""},
		{"bare CR dropped", "a\rb", "ab"},
		{"UTF-8 kept", "caf\xc3\xa9", "caf\xc3\xa9"},
	};
	fm_conn_t *conn = *state;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(conn->cfg),
						   "<a@example.nl>", NULL, NULL), 0);
		assert_int_equal(fm_conn_header(conn, "Message-ID",
						rows[i].value), 0);
		assert_int_equal(fm_conn_header(conn, "X-Profile-ID",
						rows[i].value), 0);
		if (strcmp(conn->msg.msgid, rows[i].want) != 0)
			fail_msg("%s: Message-ID \"%s\"", rows[i].label,
				 conn->msg.msgid);
		if (strcmp(conn->msg.ident_values[1], rows[i].want) != 0)
			fail_msg("%s: X-Profile-ID \"%s\"", rows[i].label,
				 conn->msg.ident_values[1]);
	}
}

/* test_header_cut - values are cut at FM_HEADER_VALUE_MAX octets */
static void test_header_cut(void **state)
{
	static const size_t lens[] = {
		FM_HEADER_VALUE_MAX - 1, FM_HEADER_VALUE_MAX,
		FM_HEADER_VALUE_MAX + 1, 4 * FM_HEADER_VALUE_MAX,
	};
	fm_conn_t *conn = *state;
	char value[4 * FM_HEADER_VALUE_MAX + 1];
	size_t i, want;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(value, 'v', lens[i]);
		value[lens[i]] = '\0';
		assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(conn->cfg),
						   "<a@example.nl>", NULL, NULL), 0);
		/* 1: the value was cut */
		assert_int_equal(fm_conn_header(conn, "Message-ID", value),
				 lens[i] > FM_HEADER_VALUE_MAX);
		assert_int_equal(fm_conn_header(conn, "X-Campaign", value),
				 lens[i] > FM_HEADER_VALUE_MAX);
		want = lens[i] < FM_HEADER_VALUE_MAX ? lens[i] : FM_HEADER_VALUE_MAX;
		assert_int_equal(strlen(conn->msg.msgid), want);
		assert_int_equal(strlen(conn->msg.ident_values[0]), want);
		assert_memory_equal(conn->msg.msgid, value, want);
	}
	/* folding does not count towards the bound */
	{
		size_t n = 0;

		while (n + 3 + 10 < sizeof(value)) {
			memcpy(value + n, "aaaaaaaaa\r\n ", 12);
			n += 12;
		}
		value[n] = '\0';
		assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(conn->cfg),
						   "<a@example.nl>", NULL, NULL), 0);
		assert_int_equal(fm_conn_header(conn, "Message-ID", value), 1);
		assert_int_equal(strlen(conn->msg.msgid), FM_HEADER_VALUE_MAX);
		assert_null(strpbrk(conn->msg.msgid, "\r\n"));
	}
}

/* test_no_ident - without IdentityHeaders only Message-ID is kept */
static void test_no_ident(void **state)
{
	fm_conn_t *conn = fm_conn_new();

	(void)state;
	assert_int_equal(fm_conn_begin_msg(conn,
		config_of("SenderDomain example.nl\n"), "<a@example.nl>", NULL, NULL), 0);
	assert_null(conn->msg.ident_values);
	assert_null(conn->msg.ident_counts);
	assert_int_equal(fm_conn_header(conn, "X-Campaign", "x"), 0);
	assert_int_equal(fm_conn_header(conn, "Message-Id", "<m@x>"), 0);
	assert_string_equal(conn->msg.msgid, "<m@x>");
	fm_conn_free(conn);
}

/* test_qid - queue ids, NULL and empty ignored, long ones cut */
static void test_qid(void **state)
{
	static const struct {
		const char *label;
		const char *qid;
		const char *want;
	} rows[] = {
		{"first", "4Xyz12", "4Xyz12"},
		{"NULL ignored", NULL, "4Xyz12"},
		{"empty ignored", "", "4Xyz12"},
		{"replaced, shorter", "AB", "AB"},
		{"long postfix id", "4Wn5Hs3Z8kz1vRt", "4Wn5Hs3Z8kz1vRt"},
		{"63 octets",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"64 octets cut",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbX",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		{"far too long cut",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},
	};
	fm_msg_t msg;
	size_t i;

	(void)state;
	memset(&msg, 0, sizeof(msg));
	memset(msg.qid, 0, sizeof(msg.qid));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fm_msg_set_qid(&msg, rows[i].qid);
		if (strcmp(msg.qid, rows[i].want) != 0)
			fail_msg("%s: got %s", rows[i].label, msg.qid);
		assert_true(strlen(msg.qid) < FM_QID_MAX);
	}
}

/*
 * test_note_ar - Authentication-Results fields claiming our authserv-id
 * are remembered by position; others are only counted; past the limit
 * they are counted as lost
 */
static void test_note_ar(void **state)
{
	static const struct {
		const char *value;
		int ours;
	} rows[] = {
		{" mx.example.org; dkim=pass header.d=bank.example", 1},
		{"MX.Example.ORG;spf=pass", 1},
		{"\r\n\tmx.example.org (comment); none", 1},
		{" mx.example.org 1; none", 1},	/* with a version */
		{" mx.example.org.evil; none", 0},
		{" mx.example.or; none", 0},
		{" other.example; mx.example.org", 0},
		{"", 0},
		{" ", 0},
	};
	fm_msg_t msg;
	size_t i;
	unsigned k;

	(void)state;
	memset(&msg, 0, sizeof(msg));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (fm_msg_note_ar(&msg, rows[i].value, "mx.example.org") !=
		    rows[i].ours)
			fail_msg("row %zu: \"%s\"", i, rows[i].value);
	assert_int_equal(msg.nar, 9);
	assert_int_equal(msg.nar_ours, 4);
	assert_int_equal(msg.ar_ours[0], 1);
	assert_int_equal(msg.ar_ours[3], 4);
	assert_int_equal(msg.nar_lost, 0);
	/* no authserv-id, or no value: counted, never ours */
	assert_int_equal(fm_msg_note_ar(&msg, " mx.example.org;", ""), 0);
	assert_int_equal(fm_msg_note_ar(&msg, NULL, "mx.example.org"), 0);
	assert_int_equal(msg.nar, 11);
	/* past FM_AR_OURS_MAX: counted as lost, positions kept in order */
	for (k = msg.nar_ours; k < FM_AR_OURS_MAX + 3; k++)
		assert_int_equal(fm_msg_note_ar(&msg, "mx.example.org; x",
						"mx.example.org"), 1);
	assert_int_equal(msg.nar_ours, FM_AR_OURS_MAX);
	assert_int_equal(msg.nar_lost, 3);
	assert_int_equal(msg.ar_ours[4], 12);
	assert_int_equal(msg.ar_ours[FM_AR_OURS_MAX - 1],
			 12 + FM_AR_OURS_MAX - 5);
}

/* test_repin - each message pins the newest snapshot, the old is released */
static void test_repin(void **state)
{
	fm_config_t *old = config_of(IDENT_CONFIG);
	fm_config_t *newer = config_of("SenderDomain example.nl\n"
				       "IdentityHeaders X-Other\n");
	fm_conn_t *conn = fm_conn_new();

	(void)state;
	/* the connection takes the reference it is given */
	assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(old),
					   "<a@example.nl>", NULL, NULL), 0);
	assert_ptr_equal(conn->cfg, old);
	assert_int_equal(old->refs, 2);
	assert_int_equal(fm_conn_header(conn, "X-Campaign", "c1"), 0);
	assert_int_equal(fm_conn_header(conn, "X-Profile-ID", "p1"), 0);

	/* same snapshot again: the count does not grow */
	assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(old),
					   "<a@example.nl>", NULL, NULL), 0);
	assert_int_equal(old->refs, 2);
	assert_int_equal(fm_conn_header(conn, "X-Campaign", "c2"), 0);

	/* a reload: the next message pins the new one and drops the old */
	assert_int_equal(fm_conn_begin_msg(conn, fm_config_ref(newer),
					   "<a@example.nl>", NULL, NULL), 0);
	assert_ptr_equal(conn->cfg, newer);
	assert_int_equal(old->refs, 1);
	assert_int_equal(newer->refs, 2);
	/* the message follows the new snapshot's identity headers */
	assert_int_equal(fm_conn_header(conn, "X-Campaign", "c3"), 0);
	assert_int_equal(fm_conn_header(conn, "X-Other", "o3"), 0);
	assert_string_equal(conn->msg.ident_values[0], "o3");
	assert_int_equal(conn->msg.ident_counts[0], 1);

	fm_config_unref(old);	/* last reference: freed now */
	fm_conn_free(conn);
	assert_int_equal(newer->refs, 1);
	fm_config_unref(newer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_begin),
		cmocka_unit_test_setup_teardown(test_sasl_bound, conn_setup,
						conn_teardown),
		cmocka_unit_test_setup_teardown(test_end, conn_setup,
						conn_teardown),
		cmocka_unit_test_setup_teardown(test_rcpts, conn_setup,
						conn_teardown),
		cmocka_unit_test_setup_teardown(test_rcpts_many, conn_setup,
						conn_teardown),
		cmocka_unit_test_setup_teardown(test_headers, conn_setup,
						conn_teardown),
		cmocka_unit_test_setup_teardown(test_header_values, conn_setup,
						conn_teardown),
		cmocka_unit_test_setup_teardown(test_header_cut, conn_setup,
						conn_teardown),
		cmocka_unit_test(test_no_ident),
		cmocka_unit_test(test_qid),
		cmocka_unit_test(test_client_str),
		cmocka_unit_test(test_note_ar),
		cmocka_unit_test(test_repin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
