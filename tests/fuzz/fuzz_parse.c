/*
 * fuzz_parse - libFuzzer target for the inbound report pipeline
 *
 * Feeds arbitrary octets to fm_report_parse() (GMime, report fields,
 * classification) and checks what every result promises: the strings are
 * there, NUL-terminated, valid UTF-8 without control octets, within their
 * size limits, and the recipients within FM_REPORT_MAX_RCPTS. Build it
 * with clang (make -C tests fuzz-parse: the parser's files are
 * PARSER_SOURCES in tests/Makefile.am) and run it with the corpus as
 * seeds copied to a scratch folder:
 *
 *	make -C tests fuzz-parse
 *	cp -r ../shared/corpus/sisimai/bsd /tmp/seeds
 *	./fuzz_parse -max_len=65536 -max_total_time=600 /tmp/seeds
 *
 * A crash input becomes a regression case in tests/unit/test_report.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_str - abort unless s is clean UTF-8 of at most max octets */
static void check_str(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (s == NULL)
		abort();
	for (; *p; p++, n++) {
		if (*p < 0x20 || *p == 0x7f)
			abort();
		if (*p >= 0x80) {
			size_t k, len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;

			if (*p < 0xc2 || *p > 0xf4)
				abort();
			for (k = 1; k < len; k++)
				if ((p[k] & 0xc0) != 0x80)
					abort();
			p += len - 1;
			n += len - 1;
		}
	}
	if (n > max)
		abort();
}

/* LLVMFuzzerTestOneInput - parse one input and check the result */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fm_report_t r;
	size_t i;

	if (fm_report_init() < 0)
		abort();
	if (fm_report_parse((const char *)data, size, &r) != FM_REPORT_OK) {
		fm_report_free(&r);
		return 0;
	}
	if (r.nrcpts > FM_REPORT_MAX_RCPTS)
		abort();
	check_str(r.reporting_mta, FM_REPORT_MAX_FIELD);
	check_str(r.orig_message_id, FM_REPORT_MAX_FIELD);
	check_str(r.orig_sender, FM_REPORT_MAX_FIELD);
	check_str(r.subject, FM_REPORT_MAX_FIELD);
	for (i = 0; i < r.nrcpts; i++) {
		const fm_rcpt_report_t *o = &r.rcpts[i];

		check_str(o->recipient, FM_REPORT_MAX_FIELD);
		check_str(o->orig_recipient, FM_REPORT_MAX_FIELD);
		check_str(o->action, FM_REPORT_MAX_FIELD);
		check_str(o->diagnostic, FM_REPORT_MAX_FIELD);
		check_str(o->remote_mta, FM_REPORT_MAX_FIELD);
		check_str(o->feedback_type, FM_REPORT_MAX_FIELD);
		check_str(o->command, FM_REPORT_MAX_FIELD);
		check_str(o->status, FM_STATUS_MAX - 1);
		if ((unsigned)o->cls > FM_CLASS_DELIVERED ||
		    (unsigned)o->reason >= FM_REASON_COUNT)
			abort();
	}
	fm_report_free(&r);
	return 0;
}
