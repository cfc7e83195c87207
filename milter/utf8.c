/*
 * utf8 - UTF-8 sequences and JSON string literals (see utf8.h)
 */
#include "utf8.h"

/* fm_utf8_len - see utf8.h */
size_t fm_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* fm_json_string - see utf8.h */
void fm_json_string(FILE *fp, const char *s)
{
	const unsigned char *p;
	size_t n;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = 1;
		switch (*p) {
		case '"': fputs("\\\"", fp); continue;
		case '\\': fputs("\\\\", fp); continue;
		case '\n': fputs("\\n", fp); continue;
		case '\r': fputs("\\r", fp); continue;
		case '\t': fputs("\\t", fp); continue;
		case '\b': fputs("\\b", fp); continue;
		case '\f': fputs("\\f", fp); continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p);
		} else if ((n = fm_utf8_len(p, 4)) == 0) {
			fputs("\\ufffd", fp);
			n = 1;
		} else {
			fwrite(p, 1, n, fp);
		}
	}
	fputc('"', fp);
}
