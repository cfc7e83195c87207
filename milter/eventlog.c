/*
 * eventlog - the log module and one-line key=value events
 *
 * Usage: fm_log_open() once at start (ident, facility, where to, the
 * highest priority that is still logged); then fm_log(prio, qid, fmt, ...)
 * anywhere, from any thread. The level check lives here, not at call sites.
 *
 * Event lines are built with fm_kv_*() into a caller's buffer: a value that
 * holds spaces is double-quoted; a double quote or backslash is escaped with
 * a backslash; CR, LF, other control octets and DEL become \xNN. Octets of
 * 0x80 and above are kept where they form valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates), so UTF-8 addresses and subjects stay
 * readable; any other such octet becomes \xNN too.
 * Nothing taken from a message can therefore start a new log line or forge
 * a field.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "eventlog.h"
#include "utf8.h"

/*
 * The settings are written once before any thread starts and read-only
 * afterwards; fm_log_set_level() stores a single int.
 */
static int log_where = FM_LOG_STDERR;
static volatile int log_max_prio = LOG_INFO;
static const char *log_ident = "feedback-milter";

/* fm_log_open - choose destinations and the level */
void
fm_log_open(const char *ident, int facility, int where, int max_prio)
{
	log_ident = ident;
	log_where = where;
	log_max_prio = max_prio;
	if (where & FM_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/* fm_log_set_level - change the level (after a reload) */
void
fm_log_set_level(int max_prio)
{
	log_max_prio = max_prio;
}

/* fm_log_close - close syslog */
void
fm_log_close(void)
{
	if (log_where & FM_LOG_SYSLOG)
		closelog();
}

/* fm_vlog - the one place that writes a line */
static void __attribute__((format(printf, 4, 0)))
fm_vlog(int prio, const char *qid, const char *suffix, const char *fmt,
	va_list ap)
{
	char msg[2048];
	int n;

	if (prio > log_max_prio)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (log_where & FM_LOG_SYSLOG)
		syslog(prio, "%s%s%s%s", qid ? qid : "", qid ? ": " : "", msg,
		       suffix ? suffix : "");
	if (log_where & FM_LOG_STDERR)
		fprintf(stderr, "%s: %s%s%s%s\n", log_ident, qid ? qid : "",
			qid ? ": " : "", msg, suffix ? suffix : "");
}

/* fm_log - log at prio with an optional queue id prefix */
void
fm_log(int prio, const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fm_vlog(prio, qid, NULL, fmt, ap);
	va_end(ap);
}

/* fm_log_errno - as fm_log, with the current errno text appended */
void
fm_log_errno(int prio, const char *qid, const char *fmt, ...)
{
	char suffix[256];
	int saved = errno;
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	va_start(ap, fmt);
	fm_vlog(prio, qid, suffix, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* needs_escape - octet that may not appear raw on its own in a log value */
static int
needs_escape(unsigned char c)
{
	return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* fm_escape - escape value into out, always terminated; returns length */
size_t
fm_escape(const char *value, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t len = 0;

	if (size == 0)
		return 0;
	for (p = (const unsigned char *)value; *p; p++) {
		char tmp[4];
		size_t n;

		if (*p >= 0x80 && (n = fm_utf8_len(p, 4)) > 0) {
			if (len + n >= size)
				break;
			memcpy(out + len, p, n);
			len += n;
			p += n - 1;
			continue;
		}
		if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			n = 2;
		} else if (needs_escape(*p)) {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[*p >> 4];
			tmp[3] = hex[*p & 15];
			n = 4;
		} else {
			tmp[0] = (char)*p;
			n = 1;
		}
		if (len + n >= size)
			break;
		memcpy(out + len, tmp, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}

/* fm_kv_init - start an empty line in buf */
void
fm_kv_init(fm_kv_t *kv, char *buf, size_t size)
{
	kv->buf = buf;
	kv->size = size;
	kv->len = 0;
	kv->truncated = 0;
	if (size > 0)
		buf[0] = '\0';
}

/*
 * escape_start - a cut at pos that would split an escape (\\c or \\xNN)
 * moves back to where the escape starts
 */
static size_t
escape_start(const char *buf, size_t pos)
{
	size_t i, back;

	for (back = 1; back <= 3 && back <= pos; back++) {
		i = pos - back;
		if (buf[i] != '\\')
			continue;
		/* an escaped backslash ends here: the cut is between escapes */
		if (i > 0 && buf[i - 1] == '\\')
			continue;
		if (i + (buf[i + 1] == 'x' ? 4 : 2) > pos)
			return i;
	}
	return pos;
}

/*
 * kv_raw - append n octets. What does not fit ends the line: it is cut
 * with "..." at its end, and every later append is ignored.
 */
static void
kv_raw(fm_kv_t *kv, const char *s, size_t n)
{
	size_t pos;

	if (kv->truncated)
		return;
	if (kv->len + n < kv->size) {
		memcpy(kv->buf + kv->len, s, n);
		kv->len += n;
		kv->buf[kv->len] = '\0';
		return;
	}
	kv->truncated = 1;
	if (kv->size < 4) {
		if (kv->size > 0)
			kv->buf[kv->len < kv->size ? kv->len : kv->size - 1] = '\0';
		return;
	}
	pos = kv->size - 4;		/* room for "..." and the NUL */
	/* never half an escape, nor half a UTF-8 sequence */
	if (pos > kv->len && s[0] != '\\' && (n == 1 || !(s[0] & 0x80)))
		memcpy(kv->buf + kv->len, s, pos - kv->len);
	else if (pos > kv->len)
		pos = kv->len;
	pos = escape_start(kv->buf, pos);
	memcpy(kv->buf + pos, "...", 4);
	kv->len = pos + 3;
}

/* fm_kv_word - append a bare word, separated by a space */
void
fm_kv_word(fm_kv_t *kv, const char *word)
{
	if (kv->truncated)
		return;
	if (kv->len > 0)
		kv_raw(kv, " ", 1);
	kv_raw(kv, word, strlen(word));
}

/*
 * kv_value - append a value escaped as fm_escape does; inside angle
 * brackets also space, '<' and '>', so an address cannot close its field
 */
static void
kv_value(fm_kv_t *kv, const char *value, int brackets)
{
	char unit[8];
	const char *p;

	for (p = value; *p && !kv->truncated; p++) {
		char one[2] = {*p, '\0'};
		size_t n;

		if ((unsigned char)*p >= 0x80 &&
		    (n = fm_utf8_len((const unsigned char *)p, 4)) > 0) {
			kv_raw(kv, p, n);	/* a whole UTF-8 character */
			p += n - 1;
			continue;
		}
		if (brackets && strchr(" <>", *p) != NULL)
			n = (size_t)snprintf(unit, sizeof(unit), "\\x%02x",
					     (unsigned char)*p);
		else
			n = fm_escape(one, unit, sizeof(unit));
		kv_raw(kv, unit, n);
	}
}

/* kv_put - append key=value with optional quoting and brackets */
static void
kv_put(fm_kv_t *kv, const char *key, const char *value, int brackets)
{
	int quote;

	if (kv->truncated)
		return;
	if (value == NULL)
		value = "";
	quote = !brackets && (*value == '\0' || strpbrk(value, " =") != NULL);
	if (kv->len > 0)
		kv_raw(kv, " ", 1);
	kv_raw(kv, key, strlen(key));
	kv_raw(kv, quote ? "=\"" : brackets ? "=<" : "=", quote || brackets ? 2 : 1);
	kv_value(kv, value, brackets);
	if (quote || brackets)
		kv_raw(kv, quote ? "\"" : ">", 1);
}

/* fm_kv_str - append key=value, quoted when it holds spaces or is empty */
void
fm_kv_str(fm_kv_t *kv, const char *key, const char *value)
{
	kv_put(kv, key, value, 0);
}

/* fm_kv_addr - append key=<address> */
void
fm_kv_addr(fm_kv_t *kv, const char *key, const char *addr)
{
	kv_put(kv, key, addr, 1);
}

/* fm_kv_num - append key=number */
void
fm_kv_num(fm_kv_t *kv, const char *key, long long value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", value);
	kv_put(kv, key, num, 0);
}
