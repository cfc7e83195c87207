/*
 * reptable - the text tables of the report parser
 *
 * The tables of patterns.c that tell what a report is (fm_bounce_subjects,
 * fm_bounce_texts, fm_autoreply_subjects, fm_delay_texts), where a copy of
 * the returned message starts (fm_original_markers) and which words lead
 * up to a recipient (fm_rcpt_labels), each with a matcher (classify.h)
 * that reptable_init() builds once. They are known here by number (TB_*,
 * report_int.h):
 *
 *	reptable_hit(t, norm, len, &off)	first row of table t in a
 *						normalised text (reptable_norm)
 *	reptable_text(t, text, len)		the same on the first
 *						SCAN_WINDOW octets of raw text
 *
 * The matchers are written only by reptable_init(), under the report
 * parser's pthread_once, and only read afterwards.
 */
#include <string.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"

#define SCAN_WINDOW 4096	/* octets of a text matched against tables */

/* The tables, in the order of the TB_* numbers. */
static const struct {
	const fm_text_row_t *rows;
	const size_t *n;
} reptable_tables[TB_COUNT] = {
	{fm_bounce_subjects, &fm_bounce_subjects_n},
	{fm_bounce_texts, &fm_bounce_texts_n},
	{fm_autoreply_subjects, &fm_autoreply_subjects_n},
	{fm_original_markers, &fm_original_markers_n},
	{fm_delay_texts, &fm_delay_texts_n},
	{fm_rcpt_labels, &fm_rcpt_labels_n},
};

static fm_matcher_t *reptable_index[TB_COUNT];	/* built by reptable_init */

typedef struct {
	long row;
	size_t off;
} first_hit_t;

/* reptable_init - build the matchers; 0, or -1 on failure */
int reptable_init(void)
{
	int i;

	for (i = 0; i < TB_COUNT; i++) {
		const fm_text_row_t *rows = reptable_tables[i].rows;

		reptable_index[i] = fm_matcher_new(rows, *reptable_tables[i].n,
						   sizeof(rows[0]));
		if (reptable_index[i] == NULL)
			return -1;
	}
	return 0;
}

/* first_cb - keep the first match in text order */
static int first_cb(size_t row, size_t off, void *arg)
{
	first_hit_t *h = arg;

	h->row = (long)row;
	h->off = off;
	return 1;
}

/* reptable_hit - the first row of table t in norm, or NULL */
const fm_text_row_t *reptable_hit(int t, const char *norm, size_t len,
				  size_t *off)
{
	first_hit_t h = { -1, 0 };

	fm_matcher_scan(reptable_index[t], norm, len, first_cb, &h);
	if (h.row < 0)
		return NULL;
	if (off != NULL)
		*off = h.off;
	return &reptable_tables[t].rows[h.row];
}

/* reptable_text - the first row of table t in the first SCAN_WINDOW of
 * text */
const fm_text_row_t *reptable_text(int t, const char *text, size_t len)
{
	char norm[SCAN_WINDOW];
	size_t n;

	if (text == NULL)
		return NULL;
	n = fm_match_norm(text, len, norm, sizeof(norm), NULL);
	return reptable_hit(t, norm, n, NULL);
}
