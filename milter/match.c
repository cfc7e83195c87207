/*
 * match - find every row of a pattern table in a text in one pass
 *
 * The classifier (classify.c) and the report parser (reptable.c) match
 * texts against the tables of patterns.c through a matcher:
 *
 *	m = fm_matcher_new(rows, nrows, sizeof(rows[0]));	once
 *	n = fm_match_norm(text, len, norm, sizeof(norm), NULL);
 *	fm_matcher_scan(m, norm, n, callback, arg);
 *
 * A matcher indexes every row by the first two octets of its pattern
 * (hashed into FM_MATCH_BUCKETS lists, and a bit per such pair); a scan
 * tests the pair at each text position once and compares only the few
 * rows in the list of a pair some row starts with, so a text costs about
 * the same whatever the number of rows. Texts are normalised first
 * (fm_match_norm: ASCII lowercase, one space per white space run) so that
 * patterns need no case or white space variants. A '*' in a pattern
 * stands for at most FM_MATCH_GAP octets of text.
 *
 * A matcher is read-only once built: any number of threads may scan it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

#define FM_MATCH_BUCKETS 4096
#define FM_MATCH_GAP 160	/* most octets a '*' in a pattern stands for */

struct fm_matcher {
	const char **pat;	/* pattern of each row */
	size_t *plen;		/* octets before the first '*' */
	size_t nrows;
	uint32_t start[FM_MATCH_BUCKETS + 1];	/* bucket b: rows[start[b]..] */
	uint32_t *rows;		/* row numbers grouped by bucket */
	uint64_t pairs[65536 / 64];	/* bit per two-octet row prefix */
};

/* match_hash - bucket of a two-octet prefix */
static inline unsigned match_hash(unsigned char a, unsigned char b)
{
	return ((unsigned)a * 31u + (unsigned)b) & (FM_MATCH_BUCKETS - 1);
}

/* match_pair - the first two octets at p as one number */
static inline unsigned match_pair(const char *p)
{
	return (unsigned)(unsigned char)p[0] << 8 | (unsigned char)p[1];
}

/* fm_matcher_new - index a table of rows whose first member is a pattern */
fm_matcher_t *fm_matcher_new(const void *rows, size_t nrows, size_t stride)
{
	fm_matcher_t *m;
	uint32_t *fill = NULL;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->nrows = nrows;
	m->pat = calloc(nrows + 1, sizeof(*m->pat));
	m->plen = calloc(nrows + 1, sizeof(*m->plen));
	m->rows = calloc(nrows + 1, sizeof(*m->rows));
	fill = calloc(FM_MATCH_BUCKETS, sizeof(*fill));
	if (m->pat == NULL || m->plen == NULL || m->rows == NULL ||
	    fill == NULL)
		goto fail;
	for (i = 0; i < nrows; i++) {
		const char *p = *(const char *const *)
		    ((const char *)rows + i * stride);
		const char *star = p ? strchr(p, '*') : NULL;

		if (p == NULL)
			goto fail;
		m->pat[i] = p;
		m->plen[i] = star ? (size_t)(star - p) : strlen(p);
		if (m->plen[i] < 2)
			goto fail;
		m->start[match_hash((unsigned char)p[0],
				    (unsigned char)p[1]) + 1]++;
		m->pairs[match_pair(p) / 64] |= 1ULL << (match_pair(p) % 64);
	}
	for (i = 1; i <= FM_MATCH_BUCKETS; i++)
		m->start[i] += m->start[i - 1];
	for (i = 0; i < nrows; i++) {
		unsigned b = match_hash((unsigned char)m->pat[i][0],
					(unsigned char)m->pat[i][1]);

		m->rows[m->start[b] + fill[b]++] = (uint32_t)i;
	}
	free(fill);
	return m;
fail:
	free(fill);
	fm_matcher_free(m);
	return NULL;
}

/* fm_matcher_free - release a matcher */
void fm_matcher_free(fm_matcher_t *m)
{
	if (m == NULL)
		return;
	free(m->pat);
	free(m->plen);
	free(m->rows);
	free(m);
}

/* match_rest - whether the fragments after the first '*' follow at pos */
static int match_rest(const char *pat, const char *norm, size_t len,
		      size_t pos)
{
	const char *frag = strchr(pat, '*');

	while (frag != NULL) {
		const char *next, *hit;
		size_t flen;

		frag++;
		next = strchr(frag, '*');
		flen = next ? (size_t)(next - frag) : strlen(frag);
		if (flen > 0) {
			size_t span = len - pos;

			if (span > FM_MATCH_GAP + flen)
				span = FM_MATCH_GAP + flen;
			if (pos >= len ||
			    (hit = memmem(norm + pos, span, frag, flen))
			    == NULL)
				return 0;
			pos = (size_t)(hit - norm) + flen;
		}
		frag = next;
	}
	return 1;
}

/* fm_matcher_scan - report every match of every row in norm */
size_t fm_matcher_scan(const fm_matcher_t *m, const char *norm, size_t len,
		       int (*cb)(size_t row, size_t off, void *arg),
		       void *arg)
{
	size_t i, k, found = 0;

	if (m == NULL || len < 2)
		return 0;
	for (i = 0; i + 1 < len; i++) {
		unsigned pair = match_pair(norm + i), b;

		if ((m->pairs[pair / 64] & (1ULL << (pair % 64))) == 0)
			continue;	/* no row starts so: the usual case */
		b = match_hash((unsigned char)norm[i],
			       (unsigned char)norm[i + 1]);
		for (k = m->start[b]; k < m->start[b + 1]; k++) {
			uint32_t r = m->rows[k];
			size_t pl = m->plen[r];

			if (pl > len - i ||
			    memcmp(norm + i, m->pat[r], pl) != 0)
				continue;
			if (!match_rest(m->pat[r], norm, len, i + pl))
				continue;
			found++;
			if (cb(r, i, arg))
				return found;
		}
	}
	return found;
}

/* best_cb - keep the lowest row number */
static int best_cb(size_t row, size_t off, void *arg)
{
	long *best = arg;

	(void)off;
	if (*best < 0 || (long)row < *best)
		*best = (long)row;
	return 0;
}

/* fm_matcher_best - lowest matching row, or -1 */
long fm_matcher_best(const fm_matcher_t *m, const char *norm, size_t len)
{
	long best = -1;

	fm_matcher_scan(m, norm, len, best_cb, &best);
	return best;
}

/* fm_match_norm - lowercase, one space for each white space run */
size_t fm_match_norm(const char *text, size_t n, char *out, size_t size,
		     size_t *map)
{
	size_t i, o = 0;
	int space = 1;		/* drop leading white space */

	if (size == 0)
		return 0;
	for (i = 0; i < n && o + 1 < size; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			if (space)
				continue;
			space = 1;
			c = ' ';
		} else {
			space = 0;
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
		}
		if (map != NULL)
			map[o] = i;
		out[o++] = (char)c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}
