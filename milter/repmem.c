/*
 * repmem - memory and strings of one report parse
 *
 * Everything fm_report_parse() hands back lives in one arena that hangs
 * off fm_report_t.priv: blocks of ARENA_BLOCK octets (or one of its own
 * for a larger request), released all at once by repmem_free(). Strings
 * enter it through repmem_clean() and its two sizes, repmem_copy() (a
 * reported value, FM_REPORT_MAX_FIELD) and repmem_diag() (a text kept
 * for classification, DIAG_MAX): valid UTF-8, no control octets, white
 * space runs as one space, trimmed.
 *
 * The recipients being read are an array of FM_REPORT_MAX_RCPTS working
 * entries in the same arena; repmem_rcpt_new() sets FM_REPORT_TRUNCATED
 * when it is full.
 *
 * An allocation that fails sets rep_t.nomem; the string functions then
 * return "", so callers go on and the parse reports FM_REPORT_ERR_NOMEM.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mime.h"
#include "report.h"
#include "report_int.h"
#include "utf8.h"

#define ARENA_BLOCK 16384
#define DIAG_MAX 4096		/* octets of a diagnostic kept to classify */

struct repmem_block {
	struct repmem_block *next;
	size_t used, size;
	char data[];
};

/* repmem_alloc - n octets that live until fm_report_free */
void *repmem_alloc(rep_t *r, size_t n)
{
	repmem_block_t *b = *r->arena;

	n = (n + 7) & ~(size_t)7;
	if (b == NULL || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + size)) == NULL) {
			r->nomem = 1;
			return NULL;
		}
		b->next = *r->arena;
		b->used = 0;
		b->size = size;
		*r->arena = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/*
 * repmem_clean - arena copy of n octets: white space and control octets
 * become single spaces, invalid UTF-8 becomes '?', trimmed, at most cap
 * octets (cut at a character boundary).
 */
const char *repmem_clean(rep_t *r, const char *src, size_t n, size_t cap)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;
	char *d;
	int space = 1;

	if (cap > n)
		cap = n;
	if ((d = repmem_alloc(r, cap + 1)) == NULL)
		return "";
	while (i < n && o < cap) {
		size_t k;

		if (s[i] > ' ' && s[i] < 0x7f) {	/* the common case */
			space = 0;
			d[o++] = (char)s[i++];
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			if (!space)
				d[o++] = ' ';
			space = 1;
			i++;
			continue;
		}
		space = 0;
		if ((k = fm_utf8_len(s + i, n - i)) == 0) {
			d[o++] = '?';
			i++;
			continue;
		}
		if (o + k > cap)
			break;
		memcpy(d + o, s + i, k);
		o += k;
		i += k;
	}
	while (o > 0 && d[o - 1] == ' ')
		o--;
	d[o] = '\0';
	return d;
}

/* repmem_copy - repmem_clean to the size of a reported value */
const char *repmem_copy(rep_t *r, const char *src, size_t n)
{
	return repmem_clean(r, src, n, FM_REPORT_MAX_FIELD);
}

/* repmem_diag - repmem_clean to the size kept for classification */
const char *repmem_diag(rep_t *r, const char *src, size_t n)
{
	return repmem_clean(r, src, n, DIAG_MAX);
}

/* repmem_join - "a b" in the arena (a on failure) */
const char *repmem_join(rep_t *r, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *d = repmem_alloc(r, la + lb + 2);

	if (d == NULL)
		return a;
	memcpy(d, a, la);
	d[la] = ' ';
	memcpy(d + la + 1, b, lb + 1);
	return d;
}

/* repmem_rcpt_new - the next working recipient, or NULL past the limit */
wrcpt_t *repmem_rcpt_new(rep_t *r)
{
	if (r->nrc >= FM_REPORT_MAX_RCPTS) {
		r->out->flags |= FM_REPORT_TRUNCATED | FM_REPORT_LIM_RCPTS;
		return NULL;
	}
	if (r->rc == NULL &&
	    (r->rc = repmem_alloc(r, FM_REPORT_MAX_RCPTS * sizeof(*r->rc)))
	    == NULL)
		return NULL;
	memset(&r->rc[r->nrc], 0, sizeof(r->rc[0]));
	return &r->rc[r->nrc++];
}

/* repmem_rcpt_find - the working recipient with address addr, or NULL */
wrcpt_t *repmem_rcpt_find(rep_t *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->nrc; i++)
		if (r->rc[i].addr && strcasecmp(r->rc[i].addr, addr) == 0)
			return &r->rc[i];
	return NULL;
}

/* repmem_free - release a list of arena blocks */
void repmem_free(repmem_block_t *b)
{
	repmem_block_t *next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}
