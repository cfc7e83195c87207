/*
 * mime - message structure through GMime 3
 *
 * fm_mime_parse() hands a message to GMime and flattens what the report
 * parser needs into a list of parts, in document order: each part's kind,
 * its nesting, and its content decoded (base64, quoted-printable), converted
 * to UTF-8 where the charset is known, with CR LF and lone CR turned into
 * LF and NUL octets into spaces, and NUL-terminated. An embedded message
 * (message/rfc822, message/global, also base64 or quoted-printable) is one
 * FM_PART_MESSAGE entry holding its header block (up to its first empty
 * line), followed by its own parts one message level deeper; an empty one
 * has no parts.
 *
 * Call fm_mime_init() once at program start, before any thread parses.
 * After that every function here may run in many threads at once: a parsed
 * fm_mime_t belongs to its caller and nothing is shared.
 *
 * Limits (hostile input costs bounded work, never a crash):
 *	FM_MIME_MAX_INPUT	octets handed to GMime; the rest of a longer
 *				message is ignored (FM_MIME_TRUNCATED)
 *	FM_MIME_MAX_PARTS	parts listed; later parts are skipped
 *				(FM_MIME_TOO_MANY_PARTS)
 *	FM_MIME_MAX_DEPTH	multipart and embedded message nesting walked;
 *				deeper parts are skipped (FM_MIME_TOO_DEEP)
 *	FM_MIME_MAX_TEXT	decoded octets kept per part; the rest is cut
 *				(FM_MIME_TEXT_CUT)
 */
#ifndef FM_MIME_H
#define FM_MIME_H

#include <stddef.h>

#define FM_MIME_MAX_INPUT (4u << 20)
#define FM_MIME_MAX_PARTS 64
#define FM_MIME_MAX_DEPTH 8
#define FM_MIME_MAX_TEXT (256u << 10)

/* fm_mime_flags() bits */
#define FM_MIME_TRUNCATED	0x01
#define FM_MIME_TOO_MANY_PARTS	0x02
#define FM_MIME_TOO_DEEP	0x04
#define FM_MIME_TEXT_CUT	0x08

typedef enum {
	FM_PART_OTHER = 0,	/* anything else (images, applications) */
	FM_PART_TEXT,		/* text/plain and other text, also no type */
	FM_PART_HTML,		/* text/html */
	FM_PART_DSN,		/* message/delivery-status */
	FM_PART_GLOBAL_DSN,	/* message/global-delivery-status (UTF-8) */
	FM_PART_FEEDBACK,	/* message/feedback-report */
	FM_PART_HEADERS,	/* text/rfc822-headers, .../global-headers */
	FM_PART_MESSAGE,	/* message/rfc822, message/global: headers */
} fm_part_type_t;

typedef struct {
	fm_part_type_t type;
	unsigned depth;		/* MIME nesting, 0 for the message body */
	unsigned msg_level;	/* embedded messages around this part */
	int attachment;		/* Content-Disposition: attachment */
	const char *ctype;	/* lowercase "type/subtype" */
	char *text;		/* decoded content, see above (never NULL) */
	size_t len;		/* octets in text */
} fm_part_t;

typedef struct fm_mime fm_mime_t;

/* fm_mime_init - initialise GMime once; 0, or -1 on failure */
int fm_mime_init(void);

/*
 * fm_mime_parse - parse len octets of a message (need not be terminated).
 * The octets are read in place: they must stay unchanged until
 * fm_mime_free(). Returns NULL only when memory runs out; input GMime
 * cannot make sense of gives a message with no headers and whatever parts
 * it found.
 */
fm_mime_t *fm_mime_parse(const char *buf, size_t len);

/* fm_mime_free - release a parsed message (NULL is fine) */
void fm_mime_free(fm_mime_t *m);

/*
 * fm_mime_header - the first top-level header field called name, unfolded
 * and RFC 2047 decoded to UTF-8, or NULL. Valid until fm_mime_free().
 */
const char *fm_mime_header(const fm_mime_t *m, const char *name);

/* fm_mime_header_count - number of top-level header fields called name */
int fm_mime_header_count(const fm_mime_t *m, const char *name);

/* fm_mime_content_type - lowercase "type/subtype" of the message */
const char *fm_mime_content_type(const fm_mime_t *m);

/* fm_mime_report_type - lowercase report-type parameter, or "" */
const char *fm_mime_report_type(const fm_mime_t *m);

/*
 * fm_mime_mbox_next - the next message of a file that may hold several in
 * mbox style ("From sender Www Mmm dd hh:mm:ss yyyy" lines, each followed
 * by a header line). Starting at *off, sets *start to the message (after
 * its "From " line, if any), advances *off past it and returns its
 * length; returns 0 (with *start = *off) when nothing is left. A plain
 * message is returned whole. (A file with several is an mbox, not a
 * message the milter gets.)
 */
size_t fm_mime_mbox_next(const char *buf, size_t len, size_t *off,
			 size_t *start);

size_t fm_mime_nparts(const fm_mime_t *m);
const fm_part_t *fm_mime_part(const fm_mime_t *m, size_t i);
unsigned fm_mime_flags(const fm_mime_t *m);

#endif
