/*
 * fuzz_dsnfield - libFuzzer target for the delivery status field parser
 *
 * dsnfield.c reads the header-like blocks of message/delivery-status
 * (RFC 3464) and feedback reports (RFC 5965). The first octet picks the
 * reader: dsnfield_dsn() + dsnfield_finish() (the per-recipient blocks)
 * or dsnfield_arf(); the rest is the block text, in a buffer of exactly
 * its size so that a read past the end shows. Before that, the raw field
 * splitter dsnfield_next() must keep every field inside the text and
 * always move on. Build and run with tests/fuzz/run.sh; a crash input
 * goes into tests/fuzz/regress/dsnfield/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

/* longest cleaned value: a diagnostic (DIAG_MAX in repmem.c) or a field */
#define DSNF_MAX (FM_REPORT_MAX_FIELD > 4096 ? FM_REPORT_MAX_FIELD : 4096)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* dsnf_str - abort unless s is NULL or a clean string of at most max */
static void dsnf_str(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	for (; *p; p++)
		if (*p == '\n' || *p == '\r')
			abort();
	if ((size_t)(p - (const unsigned char *)s) > max)
		abort();
}

/* dsnf_split - the field splitter's promises */
static void dsnf_split(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *last;
	dsnfield_t f;
	int k;

	for (;;) {
		last = p;
		k = dsnfield_next(&p, end, &f);
		if (p < text || p > end)
			abort();
		if (k == 0)
			break;
		if (p <= last && last < end)
			abort();	/* no progress */
		if (k == 1 && (f.nlen == 0 || f.name < last ||
			       f.name + f.nlen > end || f.val < f.name ||
			       f.val + f.vlen > end || f.val + f.vlen > p))
			abort();
	}
}

/* LLVMFuzzerTestOneInput - read one block of fields */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	repmem_block_t *arena = NULL;
	fm_report_t out;
	rep_t r;
	char *text;
	size_t i, n;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((text = malloc(n ? n : 1)) == NULL)
		abort();
	if (n)
		memcpy(text, data + 1, n);
	dsnf_split(text, n);
	memset(&out, 0, sizeof(out));
	memset(&r, 0, sizeof(r));
	r.arena = &arena;
	r.out = &out;
	if (data[0] & 1) {
		dsnfield_arf(&r, text, n);
	} else {
		dsnfield_dsn(&r, text, n);
		dsnfield_finish(&r);
		for (i = 0; i < r.nrc; i++)
			if (r.rc[i].addr == NULL || r.rc[i].addr[0] == '\0')
				abort();	/* finish keeps only addresses */
	}
	for (i = 0; i < r.nrc; i++) {
		const wrcpt_t *w = &r.rc[i];

		dsnf_str(w->addr, ADDR_MAX);
		dsnf_str(w->orig, ADDR_MAX);
		dsnf_str(w->action, DSNF_MAX);
		dsnf_str(w->status, FM_STATUS_MAX - 1);
		dsnf_str(w->remote, DSNF_MAX);
		dsnf_str(w->diag, DSNF_MAX);
		dsnf_str(w->diag_type, DSNF_MAX);
		dsnf_str(w->command, DSNF_MAX);
		dsnf_str(w->feedback, DSNF_MAX);
	}
	if (r.nrc > FM_REPORT_MAX_RCPTS || r.nomem)
		abort();
	dsnf_str(r.reporting_mta, DSNF_MAX);
	dsnf_str(r.skip[0], ADDR_MAX);
	repmem_free(arena);
	free(text);
	return 0;
}
