/*
 * test_report - unit tests for the report pipeline (fm_report_parse)
 *
 * Links the parser (PARSER_SOURCES in tests/Makefile.am), GMime and
 * cmocka. Each case is a small message written out below and the result
 * it must give: {label, message, want kind, want recipients as "addr
 * class reason status" lines}. Line ends are LF in the text; cases run
 * again with CR LF and with CR alone and must give the same result.
 * Hostile input (NUL octets, invalid UTF-8, too many recipients or parts,
 * deep nesting, long lines) must give a defined result within the limits
 * of report.h, and inputs the fuzzer once crashed on stay here as
 * regression cases.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mime.h"
#include "report.h"

typedef struct {
	const char *label;
	const char *msg;
	const char *kind;
	const char *want;	/* "addr class reason status\n" per recipient */
} report_case_t;

#define DSN_HEAD \
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n" \
	"To: b0k7q2m9x4ha3c8rtw@feedback.example.nl\n" \
	"Subject: Undelivered Mail Returned to Sender\n" \
	"MIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=delivery-status;\n" \
	"\tboundary=\"BB\"\n\n"

#define ORIGINAL \
	"--BB\nContent-Type: message/rfc822\n\n" \
	"Return-Path: <b0k7q2m9x4ha3c8rtw@feedback.example.nl>\n" \
	"From: Info <info@example.nl>\nTo: bob@remote.example\n" \
	"Message-ID: <send-1@example.nl>\nSubject: Hello\n\nHello.\n" \
	"--BB--\n"

static const report_case_t cases[] = {
	{"RFC 3464, two recipients, failed and delayed",
	 DSN_HEAD
	 "--BB\nContent-Type: text/plain\n\nDelivery failed.\n\n"
	 "--BB\nContent-Type: message/delivery-status\n\n"
	 "Reporting-MTA: dns; mx.example.org\n\n"
	 "Final-Recipient: rfc822; bob@remote.example\n"
	 "Action: failed\nStatus: 5.1.1\n"
	 "Remote-MTA: dns; mx.remote.example\n"
	 "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: Recipient\n"
	 "    address rejected: User unknown in local recipient table\n\n"
	 "Original-Recipient: rfc822; alice@remote.example\n"
	 "Final-Recipient: rfc822; alice@remote.example\n"
	 "Action: delayed\nStatus: 4.4.1\n"
	 "Diagnostic-Code: smtp; connect to mx.remote.example: Connection "
	 "timed out\n\n"
	 ORIGINAL,
	 "dsn",
	 "bob@remote.example hard userunknown 5.1.1\n"
	 "alice@remote.example delayed expired 4.4.1\n"},
	{"generic status refined by the diagnostic",
	 DSN_HEAD
	 "--BB\nContent-Type: message/delivery-status\n\n"
	 "Reporting-MTA: dns; mx.example.org\n\n"
	 "Final-Recipient: rfc822; bob@remote.example\nAction: failed\n"
	 "Status: 5.0.0\nDiagnostic-Code: smtp; 550 5.2.2 Mailbox full\n\n"
	 ORIGINAL,
	 "dsn", "bob@remote.example soft mailboxfull 5.2.2\n"},
	{"DSN part in base64",
	 DSN_HEAD
	 "--BB\nContent-Type: message/delivery-status\n"
	 "Content-Transfer-Encoding: base64\n\n"
	 "UmVwb3J0aW5nLU1UQTogZG5zOyBteC5leGFtcGxlLm9yZwoKRmluYWwtUmVjaXBp\n"
	 "ZW50OiByZmM4MjI7IGJvYkByZW1vdGUuZXhhbXBsZQpBY3Rpb246IGZhaWxlZApT\n"
	 "dGF0dXM6IDUuMS4yCg==\n\n"
	 ORIGINAL,
	 "dsn", "bob@remote.example hard hostunknown 5.1.2\n"},
	{"RFC 6533 global DSN in UTF-8",
	 DSN_HEAD
	 "--BB\nContent-Type: message/global-delivery-status\n\n"
	 "Reporting-MTA: dns; mx.example.org\n\n"
	 "Final-Recipient: utf-8; j\xc3\xb6rg@b\xc3\xbc" "cher.example\n"
	 "Action: failed\nStatus: 5.1.1\n\n"
	 ORIGINAL,
	 "dsn", "j\xc3\xb6rg@b\xc3\xbc" "cher.example hard userunknown 5.1.1\n"},
	{"success DSN",
	 DSN_HEAD
	 "--BB\nContent-Type: message/delivery-status\n\n"
	 "Reporting-MTA: dns; mx.example.org\n\n"
	 "Final-Recipient: rfc822; bob@remote.example\nAction: delivered\n"
	 "Status: 2.0.0\n\n" ORIGINAL,
	 "dsn", "bob@remote.example delivered delivered 2.0.0\n"},
	{"Exim, quoted-printable, Auto-Submitted (still a bounce)",
	 "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
	 "To: b0k7q2m9x4ha3c8rtw@feedback.example.nl\n"
	 "Subject: Mail delivery failed: returning message to sender\n"
	 "Auto-Submitted: auto-replied\nX-Failed-Recipients: bob@remote.example\n"
	 "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
	 "Content-Transfer-Encoding: quoted-printable\n\n"
	 "This message was created automatically by mail delivery software.\n\n"
	 "A message that you sent could not be delivered to one or more of =\n"
	 "its recipients. This is a permanent error. The following address(es)=\n"
	 " failed:\n\n"
	 "  bob@remote.example\n"
	 "    SMTP error from remote mail server after RCPT TO:<bob@remote.exa=\n"
	 "mple>:\n    host mx.remote.example [192.0.2.1]: 550 5.1.1 No such us=\n"
	 "er\n\n"
	 "------ This is a copy of the message, including all the headers. -=\n"
	 "-----\n\n"
	 "Return-path: <b0k7q2m9x4ha3c8rtw@feedback.example.nl>\n"
	 "Message-Id: <send-2@example.nl>\nFrom: info@example.nl\n\nHello\n",
	 "nonstandard", "bob@remote.example hard userunknown 5.1.1\n"},
	{"qmail with the original inline",
	 "From: MAILER-DAEMON@mx.example.org\n"
	 "To: b0k7q2m9x4ha3c8rtw@feedback.example.nl\n"
	 "Subject: failure notice\n\n"
	 "Hi. This is the qmail-send program at mx.example.org.\n"
	 "I'm afraid I wasn't able to deliver your message to the following "
	 "addresses.\nThis is a permanent error; I've given up. Sorry it "
	 "didn't work out.\n\n"
	 "<bob@remote.example>:\n"
	 "192.0.2.1 does not like recipient.\n"
	 "Remote host said: 552 5.2.2 Mailbox quota exceeded\n"
	 "Giving up on 192.0.2.1.\n\n"
	 "--- Below this line is a copy of the message.\n\n"
	 "Return-Path: <b0k7q2m9x4ha3c8rtw@feedback.example.nl>\n"
	 "Message-ID: <send-3@example.nl>\nFrom: info@example.nl\n\nHi\n",
	 "nonstandard", "bob@remote.example soft mailboxfull 5.2.2\n"},
	{"ARF complaint",
	 "From: feedback@arf.example.com\nTo: abuse@example.nl\n"
	 "Subject: FW: Hello\nMIME-Version: 1.0\n"
	 "Content-Type: multipart/report; report-type=feedback-report;\n"
	 "\tboundary=\"BB\"\n\n"
	 "--BB\nContent-Type: text/plain\n\nA complaint.\n\n"
	 "--BB\nContent-Type: message/feedback-report\n\n"
	 "Feedback-Type: opt-out\nUser-Agent: Example-FBL/1.0\nVersion: 1\n"
	 "Original-Mail-From: <b0k7q2m9x4ha3c8rtw@feedback.example.nl>\n"
	 "Original-Rcpt-To: <bob@remote.example>\n\n"
	 ORIGINAL,
	 "arf", "bob@remote.example complaint feedback \n"},
	{"ARF without Original-Rcpt-To: the original's To",
	 "From: feedback@arf.example.com\nTo: abuse@example.nl\n"
	 "Subject: complaint\nMIME-Version: 1.0\n"
	 "Content-Type: multipart/report; report-type=feedback-report;\n"
	 "\tboundary=\"BB\"\n\n"
	 "--BB\nContent-Type: message/feedback-report\n\n"
	 "Feedback-Type: abuse\nVersion: 1\n\n" ORIGINAL,
	 "arf", "bob@remote.example complaint feedback \n"},
	{"RFC 3834 auto-reply",
	 "From: Bob <bob@remote.example>\nTo: info@example.nl\n"
	 "Subject: Out of Office: Hello\nAuto-Submitted: auto-replied\n\n"
	 "I am on holiday until Monday.\n",
	 "autoreply", "bob@remote.example autoreply vacation \n"},
	{"German vacation notice by its subject",
	 "From: bob@remote.example\nTo: info@example.nl\n"
	 "Subject: Abwesenheitsnotiz: Hello\n\nIch bin im Urlaub.\n",
	 "autoreply", "bob@remote.example autoreply vacation \n"},
	{"auto-reply of someone who left",
	 "From: bob@remote.example\nTo: info@example.nl\n"
	 "Subject: Automatic reply: Hello\nX-Auto-Response-Suppress: All\n"
	 "Precedence: auto_reply\n\n"
	 "Bob is no longer with the company. Please write to sales.\n",
	 "autoreply", "bob@remote.example hard hasmoved 5.1.6\n"},
	{"Amazon SES notification",
	 "From: no-reply@sns.amazonaws.com\nTo: info@example.nl\n"
	 "Subject: AWS Notification Message\n\n"
	 "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
	 "\"Permanent\",\"bouncedRecipients\":[{\"emailAddress\":"
	 "\"bob@remote.example\",\"action\":\"failed\",\"status\":\"5.1.1\","
	 "\"diagnosticCode\":\"smtp; 550 5.1.1 user unknown\"}],"
	 "\"reportingMTA\":\"dsn; a1.smtp-out.amazonses.com\"}}\n",
	 "dsn", "bob@remote.example hard userunknown 5.1.1\n"},
	{"Exchange auto-reply: only X-Auto-Response-Suppress says so",
	 "From: bob@remote.example\nTo: info@example.nl\nSubject: Re: Hello\n"
	 "X-Auto-Response-Suppress: All\n\nThanks, we will answer soon.\n",
	 "autoreply", "bob@remote.example autoreply vacation \n"},
	{"not a report",
	 "From: Alice <alice@example.org>\nTo: bob@example.nl\n"
	 "Subject: lunch?\n\nShall we have lunch?\n",
	 "none", ""},
	{"empty input (a fuzzer crash)", "", "none", ""},
	{"headers only", "Subject: x\n", "none", ""},
};

/* with_line_ends - msg with its LF line ends replaced by eol */
static char *with_line_ends(const char *msg, const char *eol)
{
	size_t n = strlen(msg), el = strlen(eol), o = 0, i;
	char *d = malloc(n * el + 1);

	assert_non_null(d);
	for (i = 0; i < n; i++) {
		if (msg[i] == '\n') {
			memcpy(d + o, eol, el);
			o += el;
		} else {
			d[o++] = msg[i];
		}
	}
	d[o] = '\0';
	return d;
}

/* result_of - the recipients of a result as "addr class reason status"
 * lines, into buf */
static void result_of(const fm_report_t *r, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nrcpts && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s %s %s %s\n",
				      r->rcpts[i].recipient,
				      fm_class_name(r->rcpts[i].cls),
				      fm_reason_name(r->rcpts[i].reason),
				      r->rcpts[i].status);
}

/* run_case - parse one case with the given line ends and compare */
static void run_case(const report_case_t *c, const char *eol)
{
	char got[4096];
	char *msg = with_line_ends(c->msg, eol);
	fm_report_t r;

	assert_int_equal(fm_report_parse(msg, strlen(msg), &r), FM_REPORT_OK);
	result_of(&r, got, sizeof(got));
	if (strcmp(fm_kind_name(r.kind), c->kind) != 0 ||
	    strcmp(got, c->want) != 0)
		fail_msg("%s (line end %s): got kind %s:\n%swant kind %s:\n%s",
			 c->label, eol[0] == '\r' ? (eol[1] ? "CRLF" : "CR") :
			 "LF", fm_kind_name(r.kind), got, c->kind, c->want);
	fm_report_free(&r);
	free(msg);
}

/* test_cases - every case with LF, CR LF and CR line ends */
static void test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], "\n");
		run_case(&cases[i], "\r\n");
		run_case(&cases[i], "\r");
	}
}

/* test_fields - the per-message and per-recipient fields of a DSN */
static void test_fields(void **state)
{
	fm_report_t r;

	(void)state;
	assert_int_equal(fm_report_parse(cases[0].msg, strlen(cases[0].msg),
					 &r), FM_REPORT_OK);
	assert_int_equal(r.nrcpts, 2);
	assert_string_equal(r.reporting_mta, "mx.example.org");
	assert_string_equal(r.orig_message_id, "<send-1@example.nl>");
	assert_string_equal(r.orig_sender,
			    "b0k7q2m9x4ha3c8rtw@feedback.example.nl");
	assert_string_equal(r.rcpts[0].remote_mta, "mx.remote.example");
	assert_string_equal(r.rcpts[0].action, "failed");
	assert_int_equal(r.rcpts[0].reply_code, 550);
	assert_string_equal(r.rcpts[0].diagnostic,
			    "550 5.1.1 <bob@remote.example>: Recipient address "
			    "rejected: User unknown in local recipient table");
	assert_string_equal(r.rcpts[1].orig_recipient, "alice@remote.example");
	assert_string_equal(r.rcpts[1].action, "delayed");
	fm_report_free(&r);
	/* the ARF case: feedback type and the original's sender */
	assert_int_equal(fm_report_parse(cases[7].msg, strlen(cases[7].msg),
					 &r), FM_REPORT_OK);
	assert_string_equal(r.rcpts[0].feedback_type, "opt-out");
	assert_string_equal(r.orig_message_id, "<send-1@example.nl>");
	fm_report_free(&r);
	/* the qmail case: Message-ID of the inline copy */
	assert_int_equal(fm_report_parse(cases[6].msg, strlen(cases[6].msg),
					 &r), FM_REPORT_OK);
	assert_string_equal(r.orig_message_id, "<send-3@example.nl>");
	assert_string_equal(r.rcpts[0].command, "RCPT");
	fm_report_free(&r);
}

/*
 * test_mime_content - a quoted-printable ISO-8859-1 part decoded and
 * converted, the returned message's header block as the message holds it
 * (folded, its Content-Type among the others), and the caller's octets,
 * which GMime reads in place, left as they were
 */
static void test_mime_content(void **state)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.org\n"
	    "To: b0k7q2m9x4ha3c8rtw@feedback.example.nl\n"
	    "Subject: Mail delivery failed\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"BB\"\n\n"
	    "--BB\nContent-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "This message was created automatically by mail delivery "
	    "software.\n\n  bob@remote.example\n"
	    "    Empf=E4nger unbekannt: user unknown\n\n"
	    "--BB\nContent-Type: message/rfc822\n\n"
	    "Return-Path: <b0k7q2m9x4ha3c8rtw@feedback.example.nl>\n"
	    "Content-Type: text/plain\nMessage-ID:\n <send-9@example.nl>\n"
	    "Subject: Hello\n\nHello.\n--BB--\n";
	char *copy = strdup(msg);
	const fm_part_t *p;
	fm_report_t r;
	fm_mime_t *m;

	(void)state;
	assert_non_null(copy);
	assert_int_equal(fm_report_parse(copy, strlen(copy), &r),
			 FM_REPORT_OK);
	assert_int_equal(r.nrcpts, 1);
	assert_string_equal(r.rcpts[0].recipient, "bob@remote.example");
	assert_string_equal(r.rcpts[0].diagnostic,
			    "Empf\xc3\xa4nger unbekannt: user unknown");
	assert_string_equal(r.orig_message_id, "<send-9@example.nl>");
	fm_report_free(&r);
	assert_non_null(m = fm_mime_parse(copy, strlen(copy)));
	assert_int_equal(fm_mime_nparts(m), 3);
	p = fm_mime_part(m, 1);
	assert_int_equal(p->type, FM_PART_MESSAGE);
	assert_string_equal(p->text,
			    "Return-Path: <b0k7q2m9x4ha3c8rtw@feedback.example"
			    ".nl>\nContent-Type: text/plain\nMessage-ID:\n "
			    "<send-9@example.nl>\nSubject: Hello\n");
	fm_mime_free(m);
	assert_string_equal(copy, msg);
	free(copy);
}

/* embedded_parse - parse head and tail joined in buf; nparts parts */
static fm_mime_t *embedded_parse(char *buf, size_t size, const char *head,
				 const char *tail, size_t nparts)
{
	fm_mime_t *m;

	assert_true((size_t)snprintf(buf, size, "%s%s", head, tail) < size);
	assert_non_null(m = fm_mime_parse(buf, strlen(buf)));
	assert_int_equal(fm_mime_nparts(m), nparts);
	return m;
}

/* check_part - part i's kind, nesting and (unless NULL) text */
static void check_part(const fm_mime_t *m, size_t i, fm_part_type_t type,
		       unsigned depth, unsigned level, const char *text)
{
	const fm_part_t *p = fm_mime_part(m, i);

	assert_non_null(p);
	assert_int_equal(p->type, type);
	assert_int_equal(p->depth, depth);
	assert_int_equal(p->msg_level, level);
	if (text != NULL)
		assert_string_equal(p->text, text);
}

/*
 * test_mime_embedded - returned messages: a plain one is its header block
 * and one empty body entry; a multipart one (its Content-Type folded, with
 * CR LF line ends) is walked part by part one level deeper; a base64
 * message/global is decoded first, so the report it forwards is read; an
 * empty one at the end of the message is its (empty) header block alone
 */
static void test_mime_embedded(void **state)
{
	static const char top[] =
	    "From: postmaster@relay.example\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"BB\"\n\n"
	    "--BB\nContent-Type: text/plain\n\nForwarded.\n";
	static const char plain[] =
	    "--BB\nContent-Type: message/rfc822\n\n"
	    "From: a@example.nl\nContent-Type: text/plain\n\nHello.\n--BB--\n";
	static const char multi[] =
	    "--BB\r\nContent-Type: message/rfc822\r\n\r\n"
	    "From: a@example.nl\r\nContent-Type:\r\n multipart/mixed;\r\n"
	    " boundary=CC\r\n\r\n--CC\r\nContent-Type: text/plain\r\n\r\n"
	    "Hello.\r\n--CC\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	    "To: c@remote.example\r\n--CC--\r\n--BB--\r\n";
	/* base64 of a multipart/report for bob@remote.example */
	static const char b64[] =
	    "--BB\nContent-Type: message/global\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "RnJvbTogcG9zdG1hc3RlckByZW1vdGUuZXhhbXBsZQpDb250ZW50LVR5cGU6\n"
	    "IG11bHRpcGFydC9yZXBvcnQ7CiByZXBvcnQtdHlwZT1kZWxpdmVyeS1zdGF0\n"
	    "dXM7IGJvdW5kYXJ5PURECgotLURECkNvbnRlbnQtVHlwZTogbWVzc2FnZS9k\n"
	    "ZWxpdmVyeS1zdGF0dXMKClJlcG9ydGluZy1NVEE6IGRuczsgbXgucmVtb3Rl\n"
	    "LmV4YW1wbGUKCkZpbmFsLVJlY2lwaWVudDogcmZjODIyOyBib2JAcmVtb3Rl\n"
	    "LmV4YW1wbGUKQWN0aW9uOiBmYWlsZWQKU3RhdHVzOiA1LjEuMQoKLS1ERC0t\n"
	    "Cg==\n"
	    "--BB--\n";
	static const char empty[] = "--BB\nContent-Type: message/rfc822\n\n";
	char buf[2048];
	fm_report_t r;
	fm_mime_t *m;

	(void)state;
	m = embedded_parse(buf, sizeof(buf), top, plain, 3);
	check_part(m, 1, FM_PART_MESSAGE, 1, 0,
		   "From: a@example.nl\nContent-Type: text/plain\n");
	check_part(m, 2, FM_PART_TEXT, 2, 1, "");
	fm_mime_free(m);

	m = embedded_parse(buf, sizeof(buf), top, multi, 4);
	check_part(m, 1, FM_PART_MESSAGE, 1, 0,
		   "From: a@example.nl\nContent-Type:\n multipart/mixed;\n"
		   " boundary=CC\n");
	check_part(m, 3, FM_PART_HEADERS, 3, 1, "To: c@remote.example\n");
	fm_mime_free(m);

	m = embedded_parse(buf, sizeof(buf), top, b64, 3);
	check_part(m, 1, FM_PART_MESSAGE, 1, 0,
		   "From: postmaster@remote.example\nContent-Type: "
		   "multipart/report;\n report-type=delivery-status;"
		   " boundary=DD\n");
	check_part(m, 2, FM_PART_DSN, 3, 1, NULL);
	fm_mime_free(m);
	assert_int_equal(fm_report_parse(buf, strlen(buf), &r), FM_REPORT_OK);
	assert_int_equal(r.nrcpts, 1);
	assert_string_equal(r.rcpts[0].recipient, "bob@remote.example");
	assert_string_equal(r.rcpts[0].status, "5.1.1");
	fm_report_free(&r);

	m = embedded_parse(buf, sizeof(buf), top, empty, 2);
	check_part(m, 1, FM_PART_MESSAGE, 1, 0, "");
	fm_mime_free(m);
}

/* utf8_clean - whether s is valid UTF-8 without control octets */
static int utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		size_t k, len;

		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80)
			continue;
		if (*p < 0xc2 || *p > 0xf4)
			return 0;
		len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		for (k = 1; k < len; k++)
			if ((p[k] & 0xc0) != 0x80)
				return 0;
		p += len - 1;
	}
	return 1;
}

/* test_hostile_octets - NUL, invalid UTF-8 and control octets */
static void test_hostile_octets(void **state)
{
	static const char msg[] =
	    DSN_HEAD
	    "--BB\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx\x01.exa\0mple.org\n\n"
	    "Final-Recipient: rfc822; b\xffob@remote.example\n"
	    "Action: failed\nStatus: 5.1.1\n"
	    "Diagnostic-Code: smtp; 550 \xc3\x28 bad \x1b[31m\0 user unknown\n\n"
	    "--BB--\n";
	fm_report_t r;
	size_t i;

	(void)state;
	assert_int_equal(fm_report_parse(msg, sizeof(msg) - 1, &r),
			 FM_REPORT_OK);
	assert_int_equal(r.kind, FM_KIND_DSN);
	assert_int_equal(r.nrcpts, 1);
	assert_true(utf8_clean(r.reporting_mta));
	for (i = 0; i < r.nrcpts; i++) {
		assert_true(utf8_clean(r.rcpts[i].recipient));
		assert_true(utf8_clean(r.rcpts[i].diagnostic));
	}
	assert_int_equal(r.rcpts[0].cls, FM_CLASS_HARD);
	fm_report_free(&r);
}

/* grow - append text to a growing buffer */
static void grow(char **buf, size_t *len, size_t *size, const char *text)
{
	size_t n = strlen(text);

	if (*len + n + 1 > *size) {
		*size = (*len + n + 1) * 2;
		*buf = realloc(*buf, *size);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, text, n + 1);
	*len += n;
}

/* test_too_many_recipients - the limit holds and is flagged */
static void test_too_many_recipients(void **state)
{
	char *buf = NULL, line[128];
	size_t len = 0, size = 0;
	fm_report_t r;
	int i;

	(void)state;
	grow(&buf, &len, &size, DSN_HEAD "--BB\nContent-Type: "
	     "message/delivery-status\n\nReporting-MTA: dns; x.example\n\n");
	for (i = 0; i < FM_REPORT_MAX_RCPTS + 50; i++) {
		snprintf(line, sizeof(line), "Final-Recipient: rfc822; "
			 "u%d@remote.example\nAction: failed\nStatus: 5.1.1\n\n",
			 i);
		grow(&buf, &len, &size, line);
	}
	grow(&buf, &len, &size, "--BB--\n");
	assert_int_equal(fm_report_parse(buf, len, &r), FM_REPORT_OK);
	assert_int_equal(r.nrcpts, FM_REPORT_MAX_RCPTS);
	assert_true(r.flags & FM_REPORT_TRUNCATED);
	assert_string_equal(r.rcpts[FM_REPORT_MAX_RCPTS - 1].recipient,
			    "u99@remote.example");
	fm_report_free(&r);
	free(buf);
}

/* test_deep_nesting - multiparts inside multiparts, far past the limit */
static void test_deep_nesting(void **state)
{
	char *buf = NULL, line[160];
	size_t len = 0, size = 0;
	fm_report_t r;
	int i, depth = 2000;

	(void)state;
	grow(&buf, &len, &size, "From: MAILER-DAEMON@x.example\n"
	     "Subject: Undelivered\nMIME-Version: 1.0\n");
	for (i = 0; i < depth; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed; "
			 "boundary=\"b%d\"\n\n--b%d\n", i, i);
		grow(&buf, &len, &size, line);
	}
	grow(&buf, &len, &size, "Content-Type: message/delivery-status\n\n"
	     "Final-Recipient: rfc822; bob@remote.example\nStatus: 5.1.1\n\n");
	assert_int_equal(fm_report_parse(buf, len, &r), FM_REPORT_OK);
	assert_true(r.flags & FM_REPORT_TRUNCATED);
	assert_int_equal(r.nrcpts, 0);	/* the DSN lies too deep to be read */
	fm_report_free(&r);
	free(buf);
}

/* test_long_lines - a megabyte header field and diagnostic */
static void test_long_lines(void **state)
{
	size_t n = 1 << 20, len = 0, size = 0;
	char *big = malloc(n + 1), *buf = NULL;
	fm_report_t r;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	grow(&buf, &len, &size, "From: MAILER-DAEMON@x.example\nSubject: ");
	grow(&buf, &len, &size, big);
	grow(&buf, &len, &size, "\nMIME-Version: 1.0\nContent-Type: "
	     "multipart/report; report-type=delivery-status; boundary=BB\n\n"
	     "--BB\nContent-Type: message/delivery-status\n\n"
	     "Final-Recipient: rfc822; bob@remote.example\nAction: failed\n"
	     "Status: 5.2.2\nDiagnostic-Code: smtp; 552 mailbox full ");
	grow(&buf, &len, &size, big);
	grow(&buf, &len, &size, "\n\n--BB--\n");
	assert_int_equal(fm_report_parse(buf, len, &r), FM_REPORT_OK);
	assert_int_equal(r.nrcpts, 1);
	assert_int_equal(r.rcpts[0].reason, FM_REASON_MAILBOXFULL);
	assert_true(strlen(r.rcpts[0].diagnostic) <= FM_REPORT_MAX_FIELD);
	assert_true(strlen(r.subject) <= FM_REPORT_MAX_FIELD);
	fm_report_free(&r);
	free(buf);
	free(big);
}

/* test_envelope_from - the sender from Received when there is no
 * Return-Path */
static void test_envelope_from(void **state)
{
	static const char msg[] =
	    DSN_HEAD
	    "--BB\nContent-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; bob@remote.example\nAction: failed\n"
	    "Status: 5.1.1\n\n"
	    "--BB\nContent-Type: text/rfc822-headers\n\n"
	    "Received: from a.example by b.example with esmtp\n"
	    "\t(envelope-from <b0k7q2m9x4ha3c8rtw@feedback.example.nl>)\n"
	    "\tid 1abc; Thu, 29 Apr 2021 23:34:45 +0900\n"
	    "Message-ID: <send-9@example.nl>\n\n--BB--\n";
	fm_report_t r;

	(void)state;
	assert_int_equal(fm_report_parse(msg, sizeof(msg) - 1, &r),
			 FM_REPORT_OK);
	assert_string_equal(r.orig_sender,
			    "b0k7q2m9x4ha3c8rtw@feedback.example.nl");
	assert_string_equal(r.orig_message_id, "<send-9@example.nl>");
	fm_report_free(&r);
}

/* test_mbox_next - several messages in one file */
static void test_mbox_next(void **state)
{
	static const char two[] =
	    "Subject: one\n\nbody one\n"
	    "From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\n"
	    "Subject: two\n\nbody two\n";
	size_t off = 0, start, n;

	(void)state;
	n = fm_mime_mbox_next(two, sizeof(two) - 1, &off, &start);
	assert_int_equal(start, 0);
	assert_int_equal(n, strlen("Subject: one\n\nbody one\n"));
	n = fm_mime_mbox_next(two, sizeof(two) - 1, &off, &start);
	assert_memory_equal(two + start, "Subject: two", 12);
	assert_int_equal(off, sizeof(two) - 1);
	assert_int_equal(fm_mime_mbox_next(two, sizeof(two) - 1, &off, &start),
			 0);
	(void)n;
}

typedef struct {
	const char *msg;
	char want[4096];
	int bad;
} thread_arg_t;

/* parse_many - parse one message many times; note any difference */
static void *parse_many(void *arg)
{
	thread_arg_t *t = arg;
	char got[4096];
	fm_report_t r;
	int i;

	for (i = 0; i < 200; i++) {
		if (fm_report_parse(t->msg, strlen(t->msg), &r) != FM_REPORT_OK)
			t->bad = 1;
		result_of(&r, got, sizeof(got));
		if (strcmp(got, t->want) != 0)
			t->bad = 1;
		fm_report_free(&r);
	}
	return NULL;
}

/* test_threads - several threads parse at once with the same results */
static void test_threads(void **state)
{
	thread_arg_t args[8];
	pthread_t tid[8];
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++) {
		fm_report_t r;

		args[i].msg = cases[i % 8].msg;
		args[i].bad = 0;
		assert_int_equal(fm_report_parse(args[i].msg,
						 strlen(args[i].msg), &r),
				 FM_REPORT_OK);
		result_of(&r, args[i].want, sizeof(args[i].want));
		fm_report_free(&r);
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, parse_many,
						&args[i]), 0);
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
}

/* test_free_twice - fm_report_free on an emptied result is harmless */
static void test_free_twice(void **state)
{
	fm_report_t r;

	(void)state;
	assert_int_equal(fm_report_parse("x", 1, &r), FM_REPORT_OK);
	fm_report_free(&r);
	fm_report_free(&r);
	fm_report_free(NULL);
	assert_string_equal(fm_report_status_str(FM_REPORT_ERR_NOMEM),
			    "out of memory");
}

/* parse_text - parse msg into r (the caller frees it) */
static void parse_text(const char *msg, fm_report_t *r)
{
	assert_int_equal(fm_report_parse(msg, strlen(msg), r), FM_REPORT_OK);
}

/* sample_of - a table pattern as text: each '*' becomes " x " */
static void sample_of(const char *p, char *out, size_t size)
{
	size_t o = 0;

	for (; *p && o + 4 < size; p++) {
		if (*p == '*') {
			memcpy(out + o, " x ", 3);
			o += 3;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/*
 * test_table_rows - rows of the report tables that no corpus message
 * covers (note "test_report") do what their table says, each in a small
 * message of its own
 */
static void test_table_rows(void **state)
{
	char pat[256], msg[2048];
	fm_report_t r;
	size_t i;

	(void)state;
	for (i = 0; i < fm_bounce_subjects_n; i++) {
		if (strcmp(fm_bounce_subjects[i].note, "test_report") != 0)
			continue;
		sample_of(fm_bounce_subjects[i].pattern, pat, sizeof(pat));
		snprintf(msg, sizeof(msg), "From: someone@x.example\n"
			 "Subject: %s\n\n  bob@remote.example\n    550 no\n",
			 pat);
		parse_text(msg, &r);
		if (r.kind != FM_KIND_NONSTANDARD || r.nrcpts != 1)
			fail_msg("bounce subject \"%s\" not a bounce", pat);
		fm_report_free(&r);
	}
	for (i = 0; i < fm_autoreply_subjects_n; i++) {
		if (strcmp(fm_autoreply_subjects[i].note, "test_report") != 0)
			continue;
		sample_of(fm_autoreply_subjects[i].pattern, pat, sizeof(pat));
		snprintf(msg, sizeof(msg), "From: bob@remote.example\n"
			 "Subject: %s: hello\n\nBack soon.\n", pat);
		parse_text(msg, &r);
		if (r.kind != FM_KIND_AUTOREPLY)
			fail_msg("auto-reply subject \"%s\" not seen", pat);
		fm_report_free(&r);
	}
	for (i = 0; i < fm_original_markers_n; i++) {
		if (strcmp(fm_original_markers[i].note, "test_report") != 0)
			continue;
		sample_of(fm_original_markers[i].pattern, pat, sizeof(pat));
		snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@x.example\n"
			 "Subject: failure notice\n\n<bob@remote.example>:\n"
			 "550 user unknown\n\n%s\n\nMessage-ID: <m@x>\n\nhi\n",
			 pat);
		parse_text(msg, &r);
		if (strcmp(r.orig_message_id, "<m@x>") != 0)
			fail_msg("marker \"%s\" not seen", pat);
		fm_report_free(&r);
	}
	for (i = 0; i < fm_rcpt_labels_n; i++) {
		const char *v = fm_rcpt_labels[i].value;

		if (strcmp(fm_rcpt_labels[i].note, "test_report") != 0)
			continue;
		sample_of(fm_rcpt_labels[i].pattern, pat, sizeof(pat));
		snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@x.example\n"
			 "Subject: failure notice\n\nThe mail failed.\n%s%s"
			 "bob@remote.example\n", pat,
			 strcmp(v, "next") == 0 ? "\n" : " ");
		parse_text(msg, &r);
		if (r.nrcpts != 1 ||
		    strcmp(r.rcpts[0].recipient, "bob@remote.example") != 0)
			fail_msg("label \"%s\" not seen", pat);
		fm_report_free(&r);
	}
}

/* test_command_rows - command words and phrases no corpus message has */
static void test_command_rows(void **state)
{
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < fm_command_words_n; i++) {
		if (strcmp(fm_command_words[i].note, "test_report") != 0)
			continue;
		snprintf(text, sizeof(text), "error after %s: 550 no",
			 fm_command_words[i].pattern);
		assert_string_equal(fm_classify_find_command(text),
				    fm_command_words[i].value);
	}
	for (i = 0; i < fm_command_texts_n; i++) {
		if (strcmp(fm_command_texts[i].note, "test_report") != 0)
			continue;
		snprintf(text, sizeof(text), "192.0.2.1 %s. 550 no",
			 fm_command_texts[i].pattern);
		assert_string_equal(fm_classify_find_command(text),
				    fm_command_texts[i].value);
	}
}

/* setup - initialise once, as a program does at start */
static int setup(void **state)
{
	(void)state;
	return fm_report_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_mime_content),
		cmocka_unit_test(test_mime_embedded),
		cmocka_unit_test(test_hostile_octets),
		cmocka_unit_test(test_too_many_recipients),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_envelope_from),
		cmocka_unit_test(test_mbox_next),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_free_twice),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_command_rows),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
