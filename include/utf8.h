/*
 * utf8 - UTF-8 sequences and JSON string literals
 *
 * One check of UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF) for every place that keeps or escapes text: log lines,
 * report fields, JSON output.
 */
#ifndef FM_UTF8_H
#define FM_UTF8_H

#include <stddef.h>
#include <stdio.h>

/*
 * fm_utf8_len - octets of the character at p, of the n octets there: 1
 * for an ASCII octet, 2 to 4 for a valid UTF-8 sequence, 0 when p holds
 * no valid character (or n is 0). A NUL-terminated string may pass a
 * larger n: NUL ends any sequence.
 */
size_t fm_utf8_len(const unsigned char *p, size_t n);

/*
 * fm_json_string - s as a JSON string literal (NULL: null). Quote,
 * backslash and control octets are escaped, invalid UTF-8 becomes U+FFFD
 * one octet at a time.
 */
void fm_json_string(FILE *fp, const char *s);

#endif
