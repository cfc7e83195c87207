/*
 * eventlog - the log module and one-line key=value events
 *
 * fm_log() is the only way the programs log: it checks the level, prefixes
 * the queue id when there is one, and writes to syslog and/or stderr.
 * fm_kv_* build event lines: values are escaped so that nothing from a
 * message (CR, LF, control octets, quotes) can forge or split a log line.
 */
#ifndef FM_EVENTLOG_H
#define FM_EVENTLOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#define FM_LOG_STDERR 0x1
#define FM_LOG_SYSLOG 0x2

void fm_log_open(const char *ident, int facility, int where, int max_prio);
void fm_log_set_level(int max_prio);
void fm_log_close(void);

/* fm_log - log at prio, with "QID: " prefixed when qid is not NULL */
void fm_log(int prio, const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* fm_log_errno - as fm_log, with ": strerror(errno)" appended */
void fm_log_errno(int prio, const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A line under construction; truncation is marked, never overflows. */
typedef struct {
	char *buf;
	size_t size;
	size_t len;
	int truncated;
} fm_kv_t;

void fm_kv_init(fm_kv_t *kv, char *buf, size_t size);
/* fm_kv_word - append a bare word (event name) */
void fm_kv_word(fm_kv_t *kv, const char *word);
/* fm_kv_str - append key=value, quoted when needed, escaped always */
void fm_kv_str(fm_kv_t *kv, const char *key, const char *value);
/* fm_kv_addr - append key=<value> (angle brackets, escaped) */
void fm_kv_addr(fm_kv_t *kv, const char *key, const char *addr);
void fm_kv_num(fm_kv_t *kv, const char *key, long long value);

/* fm_escape - escape value into out (always terminated); returns length */
size_t fm_escape(const char *value, char *out, size_t size);

#endif
