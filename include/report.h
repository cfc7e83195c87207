/*
 * report - what a returned message says: bounces, delay notices,
 * auto-replies and complaints
 *
 * fm_report_parse() is the one pipeline the milter, feedbackctl parse, the
 * corpus test, the benchmark and the fuzz target share: MIME through GMime
 * (mime.h), then the report fields, then classification (classify.h):
 *
 *	fm_report_init();			once, at program start
 *	fm_report_t r;
 *	if (fm_report_parse(msg, len, &r) == FM_REPORT_OK) {
 *		for (i = 0; i < r.nrcpts; i++)
 *			use r.rcpts[i].recipient, .cls, .reason, .status ...
 *	}
 *	fm_report_free(&r);			(harmless after an error)
 *
 * It reads RFC 3464 and RFC 6533 delivery status notifications (every
 * per-recipient block), RFC 5965 feedback reports and the provider
 * complaint formats, RFC 3834 auto-replies, and the bounce texts of MTAs
 * that send no DSN part (qmail, Exim, Exchange, Gmail, Notes ...). A
 * message that reports nothing gives kind FM_KIND_NONE and no recipients.
 *
 * Every string in the result is valid UTF-8 without control characters
 * (line breaks become spaces), never NULL ("" when absent), and lives
 * until fm_report_free(). The result is the caller's; the functions keep
 * no state, so threads may parse at once after fm_report_init().
 *
 * Limits, beyond those of mime.h (FM_REPORT_TRUNCATED is set when one is
 * reached; what was found before it is still reported):
 *	FM_REPORT_MAX_RCPTS	recipients reported; later ones are dropped
 *	FM_REPORT_MAX_FIELD	octets kept of one value (a long diagnostic
 *				is cut at a character boundary)
 *	FM_REPORT_MAX_LINES	lines of bounce text read per part
 */
#ifndef FM_REPORT_H
#define FM_REPORT_H

#include <stddef.h>

#include "classify.h"

#define FM_REPORT_MAX_RCPTS 100
#define FM_REPORT_MAX_FIELD 1000
#define FM_REPORT_MAX_LINES 2000

/* fm_report_t.flags: FM_REPORT_TRUNCATED and which limits were reached */
#define FM_REPORT_TRUNCATED	0x01	/* a limit was reached */
#define FM_REPORT_LIM_INPUT	0x02	/* FM_MIME_MAX_INPUT: the rest ignored */
#define FM_REPORT_LIM_PARTS	0x04	/* FM_MIME_MAX_PARTS: parts skipped */
#define FM_REPORT_LIM_DEPTH	0x08	/* FM_MIME_MAX_DEPTH: deeper parts skipped */
#define FM_REPORT_LIM_TEXT	0x10	/* FM_MIME_MAX_TEXT: a part's text cut */
#define FM_REPORT_LIM_RCPTS	0x20	/* FM_REPORT_MAX_RCPTS: recipients dropped */
#define FM_REPORT_LIM_LINES	0x40	/* FM_REPORT_MAX_LINES: text not read */

typedef enum {
	FM_REPORT_OK = 0,
	FM_REPORT_ERR_NOMEM,	/* out of memory; out holds nothing */
	FM_REPORT_ERR_INIT,	/* fm_report_init() failed or was not called */
} fm_report_status_t;

typedef struct {
	const char *recipient;	/* failed/complaining/replying address */
	const char *orig_recipient;	/* Original-Recipient, or "" */
	fm_class_t cls;
	fm_reason_t reason;
	char status[FM_STATUS_MAX];	/* RFC 3463 code, or "" */
	const char *action;	/* failed, delayed, delivered, relayed ... */
	const char *diagnostic;	/* Diagnostic-Code or the bounce text */
	const char *remote_mta;	/* Remote-MTA host, or "" */
	const char *feedback_type;	/* ARF Feedback-Type, or "" */
	const char *command;	/* SMTP command that failed, or "" */
	int reply_code;		/* SMTP reply code, or 0 */
} fm_rcpt_report_t;

typedef struct {
	fm_kind_t kind;
	const char *reporting_mta;	/* Reporting-MTA, or "" */
	const char *orig_message_id;	/* Message-ID of the returned message */
	const char *orig_sender;	/* its Return-Path / envelope sender */
	const char *subject;		/* Subject of the report itself */
	size_t nrcpts;
	fm_rcpt_report_t *rcpts;
	unsigned flags;
	void *priv;		/* memory of the result; fm_report_free() */
} fm_report_t;

/*
 * fm_report_limits - the limits in flags, in words, separated by ", "
 * ("MIME nesting deeper than 8 levels skipped, ..."); "" when none. Returns
 * buf.
 */
char *fm_report_limits(unsigned flags, char *buf, size_t len);

/* fm_report_init - initialise GMime and the pattern index once; 0 or -1 */
int fm_report_init(void);

/*
 * fm_report_parse - parse and classify len octets of a message (need not
 * be NUL-terminated; may contain NUL and any octets). On FM_REPORT_OK the
 * caller releases out with fm_report_free(); on an error out holds nothing
 * (and fm_report_free() on it is harmless).
 */
fm_report_status_t fm_report_parse(const char *msg, size_t len,
				   fm_report_t *out);

/* fm_report_free - release what fm_report_parse() put in r */
void fm_report_free(fm_report_t *r);

/* fm_report_status_str - short text for a status */
const char *fm_report_status_str(fm_report_status_t st);

/*
 * Tables of patterns.c that the report parser reads (fm_text_row_t rows,
 * classify.h; patterns in fm_matcher syntax).
 */
#define FM_TABLE(name) \
	extern const fm_text_row_t name[]; extern const size_t name##_n

FM_TABLE(fm_bounce_subjects);	/* Subject of a bounce or delay notice */
FM_TABLE(fm_bounce_texts);	/* body text that only bounces have */
FM_TABLE(fm_autoreply_subjects);	/* Subject of an auto-reply */
FM_TABLE(fm_original_markers);	/* line before a copy of the original */
FM_TABLE(fm_delay_texts);	/* text of a delay warning, not a failure */
FM_TABLE(fm_rcpt_labels);	/* value: "same" the address follows on the
				 * line, "says" so and the line tells the
				 * error, "next" it starts the next line */
FM_TABLE(fm_complaint_texts);	/* pattern: a header field (of the report
				 * or the returned message) that marks a
				 * provider complaint; value: its type */

#endif
