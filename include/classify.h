/*
 * classify - class, reason and status of one reported recipient
 *
 * The report parser hands over what a bounce, delay notice, auto-reply or
 * complaint says about one recipient (action, status, SMTP reply code,
 * diagnostic text, the kind of report); fm_classify() decides:
 *
 *	class	hard, soft, delayed, autoreply, complaint, delivered, unknown
 *	reason	a Sisimai reason name (userunknown, mailboxfull, ...)
 *	status	an RFC 3463 status code, refined from the text where the
 *		report gives none or only a generic one (x.0.0)
 *
 * Text patterns are data (patterns.c), one row per pattern; they are
 * compiled once by fm_classify_init() into an index that finds every
 * matching row in one pass over the text, so a diagnostic costs about the
 * same whatever the number of rows. After fm_classify_init() everything
 * here is read-only and may run in many threads.
 */
#ifndef FM_CLASSIFY_H
#define FM_CLASSIFY_H

#include <stddef.h>

#define FM_STATUS_MAX 16	/* "5.7.650" and a NUL fit easily */

typedef enum {
	FM_CLASS_UNKNOWN = 0,
	FM_CLASS_HARD,		/* the address itself is bad */
	FM_CLASS_SOFT,		/* failed for another reason */
	FM_CLASS_DELAYED,	/* Action: delayed; not a bounce (yet) */
	FM_CLASS_AUTOREPLY,	/* RFC 3834 auto-reply, vacation notice */
	FM_CLASS_COMPLAINT,	/* feedback report (ARF or provider format) */
	FM_CLASS_DELIVERED,	/* success DSN (delivered, relayed, expanded) */
} fm_class_t;

/* Reason names follow Sisimai's. Keep fm_reason_names in classify.c in
 * the same order. */
typedef enum {
	FM_REASON_UNDEFINED = 0,
	FM_REASON_ONHOLD,
	FM_REASON_DELIVERED,
	FM_REASON_FEEDBACK,
	FM_REASON_VACATION,
	FM_REASON_USERUNKNOWN,
	FM_REASON_HOSTUNKNOWN,
	FM_REASON_HASMOVED,
	FM_REASON_NOTACCEPT,
	FM_REASON_MAILBOXFULL,
	FM_REASON_FILTERED,
	FM_REASON_REJECTED,
	FM_REASON_BLOCKED,
	FM_REASON_EXPIRED,
	FM_REASON_SPAMDETECTED,
	FM_REASON_VIRUSDETECTED,
	FM_REASON_POLICYVIOLATION,
	FM_REASON_AUTHFAILURE,
	FM_REASON_SECURITYERROR,
	FM_REASON_TOOMANYCONN,
	FM_REASON_SPEEDING,
	FM_REASON_SUSPEND,
	FM_REASON_EXCEEDLIMIT,
	FM_REASON_MESGTOOBIG,
	FM_REASON_NORELAYING,
	FM_REASON_NETWORKERROR,
	FM_REASON_SYSTEMERROR,
	FM_REASON_SYSTEMFULL,
	FM_REASON_CONTENTERROR,
	FM_REASON_SYNTAXERROR,
	FM_REASON_MAILERERROR,
	FM_REASON_REQUIREPTR,
	FM_REASON_NOTCOMPLIANTRFC,
	FM_REASON_BADREPUTATION,
	FM_REASON_FAILEDSTARTTLS,
	FM_REASON_COUNT
} fm_reason_t;

/* What kind of message the recipient came from (fm_report_t.kind). */
typedef enum {
	FM_KIND_NONE = 0,	/* nothing to report */
	FM_KIND_DSN,		/* RFC 3464 / RFC 6533 delivery status */
	FM_KIND_ARF,		/* RFC 5965 or provider complaint */
	FM_KIND_AUTOREPLY,	/* RFC 3834 auto-reply */
	FM_KIND_NONSTANDARD,	/* bounce text of an MTA without a DSN part */
} fm_kind_t;

/* One row of the text pattern table (patterns.c). */
typedef struct {
	const char *pattern;	/* lowercase; '*' matches any text between */
	fm_reason_t reason;
	const char *status;	/* status implied by the text, or NULL */
	const char *note;	/* corpus file or unit test covering the row */
} fm_pattern_t;

extern const fm_pattern_t fm_patterns[];
extern const size_t fm_patterns_n;

/* One row of the table of texts that decide alone (patterns.c). */
typedef struct {
	const char *pattern;	/* as in fm_pattern_t */
	fm_reason_t reason;
	const char *host;	/* provider domain the rule is for, or NULL:
				 * see fm_rules in patterns.c */
	const char *status;	/* status code the rule needs, or NULL */
	const char *note;
} fm_rule_t;

extern const fm_rule_t fm_rules[];
extern const size_t fm_rules_n;

/*
 * A row of the other tables of patterns.c: a pattern, a value whose
 * meaning the table gives, and a note naming the corpus file or test that
 * covers it.
 */
typedef struct {
	const char *pattern;
	const char *value;
	const char *note;
} fm_text_row_t;

/* A status code and the reason it implies (patterns.c). */
typedef struct {
	const char *code;
	fm_reason_t reason;
} fm_status_row_t;

extern const fm_status_row_t fm_status_reasons[];
extern const size_t fm_status_reasons_n;

/* SMTP command words: pattern is the word, value the command. */
extern const fm_text_row_t fm_command_words[];
extern const size_t fm_command_words_n;
/* Phrases that name the command an error came after (any case). */
extern const fm_text_row_t fm_command_texts[];
extern const size_t fm_command_texts_n;

/* Input of fm_classify(); any pointer may be NULL. */
typedef struct {
	fm_kind_t kind;
	const char *action;	/* DSN Action: failed, delayed, delivered ... */
	const char *status;	/* DSN Status or a code found in the text */
	const char *diagnostic;	/* Diagnostic-Code text or bounce text */
	const char *context;	/* more text around it for the patterns (the
				 * bounce text's lines beside a DSN), or NULL */
	const char *diag_type;	/* Diagnostic-Code type: smtp, x-unix ... */
	const char *command;	/* SMTP command that got the error, if known */
	const char *remote_mta;	/* Remote-MTA host, if known */
	const char *reporting_mta;	/* Reporting-MTA host, if known */
	const char *extra;	/* more text for the rules only (a bounce
				 * category field), or NULL */
	const char *recipient;	/* the recipient's address */
	int reply_code;		/* SMTP reply code, 0 if none */
} fm_classify_in_t;

typedef struct {
	fm_class_t cls;
	fm_reason_t reason;
	char status[FM_STATUS_MAX];	/* may be "" */
	int reply_code;		/* as given, or found in the text */
} fm_classify_out_t;

/*
 * A matcher finds every row of a pattern table in a text in one pass. Rows
 * are structs whose first member is the pattern (const char *): lowercase,
 * single spaces, at least two octets before any '*'; '*' stands for any
 * text. Texts are matched case-insensitively (ASCII) with every run of
 * white space read as one space.
 */
typedef struct fm_matcher fm_matcher_t;

/* fm_matcher_new - index nrows rows of stride octets; NULL on bad rows */
fm_matcher_t *fm_matcher_new(const void *rows, size_t nrows, size_t stride);
void fm_matcher_free(fm_matcher_t *m);

/*
 * fm_matcher_scan - call cb(row, offset, arg) for every match in text, in
 * text order (offset into the normalised text, which is what
 * fm_match_norm() makes); cb returns nonzero to stop. Returns the number of
 * matches reported.
 */
size_t fm_matcher_scan(const fm_matcher_t *m, const char *norm, size_t len,
		       int (*cb)(size_t row, size_t off, void *arg),
		       void *arg);

/* fm_matcher_best - lowest matching row index, or -1 */
long fm_matcher_best(const fm_matcher_t *m, const char *norm, size_t len);

/*
 * fm_match_norm - the normalised form of n octets of text in out (size
 * octets, at least 1): ASCII lowercase, white space runs as one space.
 * Returns its length. When map is not NULL, map[i] receives the offset in
 * text of out[i] (map has room for size entries).
 */
size_t fm_match_norm(const char *text, size_t n, char *out, size_t size,
		     size_t *map);

/* fm_classify_init - build the pattern index once; 0 or -1 */
int fm_classify_init(void);

/* fm_classify - decide class, reason and status of one recipient */
void fm_classify(const fm_classify_in_t *in, fm_classify_out_t *out);

/*
 * fm_classify_text - the reason the pattern table gives for len octets of
 * text (UNDEFINED when no row matches). When row is not NULL it receives
 * the winning row.
 */
fm_reason_t fm_classify_text(const char *text, size_t len,
			     const fm_pattern_t **row);

/* fm_classify_status_reason - the reason a status code implies, or
 * UNDEFINED for generic and unknown codes */
fm_reason_t fm_classify_status_reason(const char *status);

/*
 * fm_classify_find_status - the first RFC 3463 status code in text
 * ("550 5.1.1 ...", "#5.0.0"), copied to out; 0 if found, -1 if not
 */
int fm_classify_find_status(const char *text, char out[FM_STATUS_MAX]);

/* fm_classify_find_reply - the first SMTP reply code in text, or 0 */
int fm_classify_find_reply(const char *text);

/* fm_classify_find_command - the SMTP command a text names ("RCPT"), or
 * "" (see fm_command_words) */
const char *fm_classify_find_command(const char *text);

const char *fm_class_name(fm_class_t cls);
const char *fm_reason_name(fm_reason_t reason);
const char *fm_kind_name(fm_kind_t kind);

/* fm_reason_by_name - reason for a name, or -1 if there is none */
int fm_reason_by_name(const char *name);

#endif
