/*
 * report_int - what the modules of the report parser share
 *
 * fm_report_parse() (report.c) reads one message through several private
 * modules, all working on one rep_t:
 *
 *	repmem.c	the result arena, cleaned string copies, the list of
 *			recipients being read
 *	repaddr.c	addresses in field values and running text
 *	dsnfield.c	header-like blocks: delivery status (RFC 3464, RFC
 *			6533) and feedback report (RFC 5965) fields
 *	reptable.c	the text tables of patterns.c (bounce subjects,
 *			recipient labels ...) and their matchers
 *	bouncetext.c	recipient lines of a bounce text and their diagnostics
 *	repgather.c	the bounce text and the returned message's headers
 *	repses.c	Amazon SES notifications (JSON)
 *
 * None of them keeps state of its own beyond the matchers reptable_init()
 * builds once; everything else hangs off the rep_t of one parse.
 */
#ifndef FM_REPORT_INT_H
#define FM_REPORT_INT_H

#include <stddef.h>
#include <string.h>

#include "classify.h"
#include "mime.h"
#include "report.h"

#define ADDR_MAX 320		/* longest address taken from a text */
#define REP_LINE_MAX 1024	/* octets of a text line matched */

typedef struct repmem_block repmem_block_t;

/* One recipient while the report is read; strings are cleaned copies. */
typedef struct {
	const char *addr, *orig, *action, *status, *remote, *diag,
	    *diag_type, *command, *feedback;
	const char *after, *until;	/* text after its line (late diag) */
	const char *block;	/* its lines of a bounce text, beside a DSN */
	const char *line;	/* the text line that named it first */
	const char *line2;	/* the line that named it last */
	const char *category;	/* a bounce category field (PowerMTA) */
	const char *before;	/* the paragraph above its line */
	int from_header;	/* named by a header: the whole text tells */
	int reply;
} wrcpt_t;

/* The state of one parse. */
typedef struct {
	repmem_block_t **arena;
	fm_mime_t *m;
	fm_report_t *out;
	wrcpt_t *rc;
	size_t nrc;
	const char *reporting_mta;
	const char *orig_hdrs;	/* header block of the returned message */
	size_t orig_len;
	const char *errtext;	/* bounce text before the returned message */
	size_t errlen;
	const char *skip[4];	/* addresses that are never recipients */
	const char *orig_sender;
	int delayed;		/* the text says it is only a warning */
	int dsn_in_text;	/* the DSN fields came from a text part */
	int nomem;
} rep_t;

/* in_set - whether octet c (not NUL) is one of set */
static inline int in_set(unsigned char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* str0 - "" for NULL */
static inline const char *str0(const char *s)
{
	return s ? s : "";
}

/* repmem.c */
void *repmem_alloc(rep_t *r, size_t n);
const char *repmem_clean(rep_t *r, const char *src, size_t n, size_t cap);
const char *repmem_copy(rep_t *r, const char *src, size_t n);
const char *repmem_diag(rep_t *r, const char *src, size_t n);
const char *repmem_join(rep_t *r, const char *a, const char *b);
wrcpt_t *repmem_rcpt_new(rep_t *r);
wrcpt_t *repmem_rcpt_find(rep_t *r, const char *addr);
void repmem_free(repmem_block_t *b);

/* repaddr.c */
int repaddr_find(const char *p, const char *end, int strict,
		 const char **as, const char **ae);
int repaddr_next(const char *p, const char *end, const char **as,
		 const char **ae);
const char *repaddr_copy(rep_t *r, const char *p, const char *end);
int repaddr_skipped(const rep_t *r, const char *s, size_t n, int alone);

/* dsnfield.c: one field of a header-like block */
typedef struct {
	const char *name, *val;
	size_t nlen, vlen;
} dsnfield_t;

int dsnfield_blank(const char *p, const char *e);
int dsnfield_next(const char **pp, const char *end, dsnfield_t *f);
int dsnfield_is(const dsnfield_t *f, const char *name);
const char *dsnfield_typed(rep_t *r, const dsnfield_t *f, const char **type);
const char *dsnfield_find(rep_t *r, const char *text, size_t len,
			  const char *name);
void dsnfield_dsn(rep_t *r, const char *text, size_t len);
void dsnfield_finish(rep_t *r);
void dsnfield_arf(rep_t *r, const char *text, size_t len);

/* reptable.c: the tables, by number */
enum { TB_BOUNCE_SUBJ, TB_BOUNCE_TEXT, TB_AUTO_SUBJ, TB_ORIGINAL, TB_DELAY,
	TB_LABEL, TB_COUNT };

int reptable_init(void);
const fm_text_row_t *reptable_hit(int t, const char *norm, size_t len,
				  size_t *off);
const fm_text_row_t *reptable_text(int t, const char *text, size_t len);

/* reptable_norm - normalised copy of a line for the table matchers */
static inline size_t reptable_norm(const char *p, const char *e, char *buf,
				   size_t size, size_t *map)
{
	return fm_match_norm(p, (size_t)(e - p), buf, size, map);
}

/* bouncetext.c */
void bouncetext_scan(rep_t *r, const char *text, size_t len, int add);
void bouncetext_late(rep_t *r);

/* repgather.c */
void repgather(rep_t *r);

/* repses.c */
int repses_read(rep_t *r);

#endif
