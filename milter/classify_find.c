/*
 * classify_find - status codes, reply codes and SMTP commands in a text
 *
 * What a diagnostic text says beside its words:
 *
 *	fm_classify_find_status		the RFC 3463 status code it gives:
 *					the last one after a reply code, else
 *					the first anywhere
 *	fm_classify_find_reply		the first SMTP reply code (4xx and
 *					5xx before 2xx)
 *	fm_classify_find_command	the SMTP command the error came
 *					after, from a phrase of
 *					fm_command_texts or a word of
 *					fm_command_words
 *	fm_classify_status_reason	the reason a status code implies
 *					(fm_status_reasons)
 *
 * classify_find_init() builds the matcher of fm_command_texts; it runs
 * under fm_classify_init()'s pthread_once, and the matcher is only read
 * afterwards.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "classify_int.h"

static fm_matcher_t *classify_commands;	/* built by classify_find_init */

/* classify_find_init - build the matcher of fm_command_texts; 0 or -1 */
int classify_find_init(void)
{
	classify_commands = fm_matcher_new(fm_command_texts,
					   fm_command_texts_n,
					   sizeof(fm_command_texts[0]));
	return classify_commands != NULL ? 0 : -1;
}

/* classify_find_valid - whether s is "c.s.d" with c 2, 4 or 5 (len octets) */
int classify_find_valid(const char *s, size_t len)
{
	size_t i = 2, n;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	for (n = 0; i < len && isdigit((unsigned char)s[i]); i++)
		n++;
	if (n < 1 || n > 3 || i >= len || s[i] != '.')
		return 0;
	for (i++, n = 0; i < len && isdigit((unsigned char)s[i]); i++)
		n++;
	return n >= 1 && n <= 3 && i == len;
}

/* status_at - length of a status code starting at p, or 0 */
static size_t status_at(const char *text, const char *p)
{
	size_t n = 0;

	if (p > text && (isdigit((unsigned char)p[-1]) || p[-1] == '.' ||
			 isalpha((unsigned char)p[-1])))
		return 0;
	while (n < FM_STATUS_MAX - 1 &&
	       (isdigit((unsigned char)p[n]) || p[n] == '.'))
		n++;
	if (n > 0 && p[n - 1] == '.')	/* end of a sentence */
		n--;
	if (isalpha((unsigned char)p[n]) || !classify_find_valid(p, n))
		return 0;
	return n;
}

/* after_reply - whether the code at p follows a reply code or '#':
 * "550 5.1.1", "550-5.1.1", "550-'5.7.1", "(#5.0.0)" */
static int after_reply(const char *text, const char *p)
{
	if (p > text && p[-1] == '#')
		return 1;
	if (p > text && p[-1] == '\'')
		p--;
	return p - text >= 4 && isdigit((unsigned char)p[-2]) &&
	    isdigit((unsigned char)p[-3]) && (p[-1] == ' ' || p[-1] == '-') &&
	    (p[-4] == '4' || p[-4] == '5');
}

/*
 * fm_classify_find_status - the status code a text gives: the last one
 * after a reply code ("554 4.4.7 Message expired <421 4.4.2 Connection
 * timed out>" ends with the cause), else the first anywhere
 */
int fm_classify_find_status(const char *text, char out[FM_STATUS_MAX])
{
	const char *p, *first = NULL, *last = NULL;
	size_t n, firstn = 0, lastn = 0;

	out[0] = '\0';
	if (text == NULL)
		return -1;
	for (p = text; *p; p++) {
		if ((*p != '4' && *p != '5' && *p != '2') ||
		    (n = status_at(text, p)) == 0)
			continue;
		if (first == NULL) {
			first = p;
			firstn = n;
		}
		if (*p != '2' && after_reply(text, p)) {
			last = p;
			lastn = n;
		}
		p += n - 1;
	}
	if (last != NULL) {
		first = last;
		firstn = lastn;
	}
	if (first == NULL)
		return -1;
	memcpy(out, first, firstn);
	out[firstn] = '\0';
	return 0;
}

/* fm_classify_find_reply - first SMTP reply code (4xx/5xx, else 2xx) */
int fm_classify_find_reply(const char *text)
{
	const unsigned char *p, *t = (const unsigned char *)text;
	int ok = 0;

	if (text == NULL)
		return 0;
	for (p = t; *p; p++) {
		if (!isdigit(p[0]) || !isdigit(p[1]) || !isdigit(p[2]) ||
		    (p > t && (isalnum(p[-1]) || p[-1] == '.' ||
			       p[-1] == '-' || p[-1] == '+' || p[-1] == '/')) ||
		    (p[3] != ' ' && p[3] != '-' && p[3] != '\0' &&
		     p[3] != '\n' && p[3] != ',' && p[3] != ')'))
			continue;
		if ((p[0] == '4' || p[0] == '5') && p[1] <= '5' && p[2] >= '0')
			return (p[0] - '0') * 100 + (p[1] - '0') * 10 +
			    (p[2] - '0');
		if (p[0] == '2' && p[1] == '5' && ok == 0)
			ok = 200 + 50 + (p[2] - '0');
	}
	return ok;
}

/* status_reason - the reason a status code implies, or UNDEFINED */
static fm_reason_t status_reason(const char *status)
{
	size_t i;

	if (status == NULL || strlen(status) < 5)
		return FM_REASON_UNDEFINED;
	if (status[0] == '2')
		return FM_REASON_DELIVERED;
	for (i = 0; i < fm_status_reasons_n; i++) {
		if (strcmp(fm_status_reasons[i].code, status) == 0)
			return fm_status_reasons[i].reason;
	}
	return FM_REASON_UNDEFINED;
}

/* fm_classify_status_reason - the reason a status code implies */
fm_reason_t fm_classify_status_reason(const char *status)
{
	return status_reason(status);
}

/* fm_classify_find_command - the SMTP command a text names, or "" */
const char *fm_classify_find_command(const char *text)
{
	char buf[FM_CLASSIFY_TEXT_MAX];
	const char *found = "", *p;
	size_t i, n;
	long row;

	if (text == NULL || *text == '\0')
		return "";
	n = fm_match_norm(text, strlen(text), buf, sizeof(buf), NULL);
	if (classify_commands != NULL &&
	    (row = fm_matcher_best(classify_commands, buf, n)) >= 0)
		return fm_command_texts[row].value;
	for (i = 0; i < fm_command_words_n; i++) {
		const char *w = fm_command_words[i].pattern;
		int single = strchr(w, ' ') == NULL;

		n = strlen(w);
		for (p = text; (p = strstr(p, w)) != NULL; p += n) {
			/* a word, not in DATABASE@EXAMPLE.JP and such */
			if (single &&
			    ((p > text && (isalnum((unsigned char)p[-1]) ||
					   p[-1] == '@' || p[-1] == '.')) ||
			     isalnum((unsigned char)p[n]) || p[n] == '@' ||
			     (p[n] == '.' && isalnum((unsigned char)p[n + 1]))))
				continue;
			found = fm_command_words[i].value;
			break;
		}
	}
	return found;
}
