/*
 * resolver - the one DNS client of feedback-milter (libunbound)
 *
 * One fm_resolver_t per process serves SPF, DKIM and the DNS record check
 * from any number of threads. It wraps one libunbound context in its
 * threaded asynchronous mode:
 *
 *	caller thread			dispatcher thread	unbound worker
 *	ub_resolve_async(q) ------------------------------------> query
 *	cond_timedwait(q, deadline)	poll(ub_fd)		<------- answer
 *					ub_process -> callback(q): done, signal
 *	wake up, convert the answer
 *
 * The per-query deadline is ours, not libunbound's: a silent or unreachable
 * name server makes libunbound retry for up to two minutes, so a caller that
 * times out marks its query abandoned and cancels it. Who frees the query
 * record is decided under r->lock: if ub_cancel() succeeds the callback will
 * never run and the caller frees it; otherwise the callback is running or
 * about to run (libunbound took the answer before the cancel) and it frees
 * the record when it finds it abandoned. The dispatcher thread starts with
 * the first query, so a resolver made before the daemon forks is fine.
 *
 * libunbound itself follows CNAME chains, falls back to TCP for truncated
 * answers and caches. Name servers come from the Nameservers option
 * (forwarders, "addr[@port]") or from /etc/resolv.conf. localhost addresses
 * are allowed as forwarders (do-not-query-localhost: no), which a local
 * caching resolver and the tests need. No DNSSEC validation is done.
 *
 * The static backend (fm_resolver_new_static) is in resolver_static.c;
 * resolver_int.h holds the resolver structure and the helpers both
 * backends use.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "resolver_int.h"

/* One outstanding libunbound query; see the top of the file. */
typedef struct fm_ub_query {
	fm_resolver_t *r;
	pthread_cond_t cond;
	int done;
	int abandoned;
	int err;
	struct ub_result *res;
} fm_ub_query_t;

/* fm_errf - format a message into a caller's buffer */
void __attribute__((format(printf, 3, 4)))
fm_errf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* fm_dns_status_name - printable status */
const char *fm_dns_status_name(fm_dns_status_t st)
{
	switch (st) {
	case FM_DNS_OK:
		return "ok";
	case FM_DNS_NXDOMAIN:
		return "nxdomain";
	case FM_DNS_NODATA:
		return "nodata";
	case FM_DNS_TEMPFAIL:
		return "tempfail";
	case FM_DNS_PERMFAIL:
		return "permfail";
	}
	return "unknown";
}

/* fm_dns_type_name - printable record type */
const char *fm_dns_type_name(int type, char *buf, size_t len)
{
	static const struct {
		int type;
		const char *name;
	} names[] = {
		{FM_DNS_A, "A"}, {FM_DNS_NS, "NS"}, {FM_DNS_CNAME, "CNAME"},
		{FM_DNS_PTR, "PTR"}, {FM_DNS_MX, "MX"}, {FM_DNS_TXT, "TXT"},
		{FM_DNS_AAAA, "AAAA"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, len, "TYPE%d", type);
	return buf;
}

/* fm_dns_name_valid - see resolver.h */
int fm_dns_name_valid(const char *name)
{
	size_t len, label = 0, i;

	if (name == NULL)
		return 0;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > FM_DNS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (c <= ' ' || c >= 0x7f || c == '\\')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* fm_answer_init - empty answer */
static void fm_answer_init(fm_dns_answer_t *ans)
{
	memset(ans, 0, sizeof(*ans));
	ans->rcode = -1;
}

/* fm_answer_fail - set a failure status with a reason */
fm_dns_status_t __attribute__((format(printf, 3, 4)))
fm_answer_fail(fm_dns_answer_t *ans, fm_dns_status_t st, const char *fmt, ...)
{
	va_list ap;

	ans->status = st;
	va_start(ap, fmt);
	vsnprintf(ans->why, sizeof(ans->why), fmt, ap);
	va_end(ap);
	return st;
}

/* fm_dns_answer_free - release the records of an answer */
void fm_dns_answer_free(fm_dns_answer_t *ans)
{
	size_t i;

	if (ans == NULL)
		return;
	for (i = 0; i < ans->count; i++)
		free(ans->rr[i].text);
	free(ans->rr);
	ans->rr = NULL;
	ans->count = 0;
}

/* fm_answer_add - append a copy of rr; -1 when out of memory */
int fm_answer_add(fm_dns_answer_t *ans, const fm_dns_rr_t *rr)
{
	fm_dns_rr_t *n;

	n = realloc(ans->rr, (ans->count + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	ans->rr = n;
	n[ans->count] = *rr;
	n[ans->count].text = malloc(rr->len + 1);
	if (n[ans->count].text == NULL)
		return -1;
	memcpy(n[ans->count].text, rr->text, rr->len);
	n[ans->count].text[rr->len] = '\0';
	ans->count++;
	return 0;
}

/* fm_copy_name - canonical form of a name: lowercase, no final dot */
void fm_copy_name(char *dst, size_t len, const char *src)
{
	size_t i, n = strlen(src);

	if (n > 0 && src[n - 1] == '.')
		n--;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[n] = '\0';
}

/* ---------------------------------------------------------------- wire */

/*
 * fm_wire_name - decode an uncompressed wire-format name at p (avail
 * octets) into text without the final dot ("." for the root); returns the
 * octets used or 0 when malformed.
 */
static size_t fm_wire_name(const unsigned char *p, size_t avail, char *out,
			   size_t outlen)
{
	size_t pos = 0, o = 0, i;

	for (;;) {
		size_t lab;

		if (pos >= avail)
			return 0;
		lab = p[pos++];
		if (lab == 0)
			break;
		if (lab > 63 || pos + lab > avail)
			return 0;	/* compression pointers do not occur */
		if (o > 0 && o + 1 < outlen)
			out[o++] = '.';
		for (i = 0; i < lab; i++) {
			unsigned char c = p[pos + i];

			if (o + 5 >= outlen)
				return 0;
			if (c == '.' || c == '\\')
				o += (size_t)snprintf(out + o, outlen - o,
						      "\\%c", c);
			else if (c <= ' ' || c >= 0x7f)
				o += (size_t)snprintf(out + o, outlen - o,
						      "\\%03u", c);
			else
				out[o++] = (char)c;
		}
		pos += lab;
	}
	if (o == 0 && outlen > 1)
		out[o++] = '.';
	out[o] = '\0';
	return pos;
}

/* fm_rr_from_wire - one record of type from its rdata; -1 if malformed */
static int fm_rr_from_wire(int type, const unsigned char *d, size_t len,
			   fm_dns_rr_t *rr, char *buf, size_t buflen)
{
	size_t pos = 0, o = 0;

	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	rr->text = buf;
	switch (type) {
	case FM_DNS_A:
	case FM_DNS_AAAA:
		if (len != (type == FM_DNS_A ? 4u : 16u))
			return -1;
		memcpy(rr->addr, d, len);
		if (inet_ntop(type == FM_DNS_A ? AF_INET : AF_INET6, d, buf,
			      (socklen_t)buflen) == NULL)
			return -1;
		break;
	case FM_DNS_MX:
		if (len < 3)
			return -1;
		rr->pref = (unsigned)(d[0] << 8 | d[1]);
		if (fm_wire_name(d + 2, len - 2, buf, buflen) != len - 2)
			return -1;
		break;
	case FM_DNS_CNAME:
	case FM_DNS_PTR:
	case FM_DNS_NS:
		if (fm_wire_name(d, len, buf, buflen) != len)
			return -1;
		break;
	case FM_DNS_TXT:
		while (pos < len) {
			size_t n = d[pos++];

			if (pos + n > len || o + n >= buflen)
				return -1;
			memcpy(buf + o, d + pos, n);
			o += n;
			pos += n;
		}
		buf[o] = '\0';
		rr->len = o;
		return 0;
	default:
		return -1;
	}
	rr->len = strlen(buf);
	return 0;
}

/* ------------------------------------------------------------ libunbound */

/* fm_ub_callback - libunbound delivers an answer (dispatcher thread) */
static void fm_ub_callback(void *arg, int err, struct ub_result *res)
{
	fm_ub_query_t *q = arg;
	fm_resolver_t *r = q->r;

	pthread_mutex_lock(&r->lock);
	if (q->abandoned) {
		pthread_mutex_unlock(&r->lock);
		if (res != NULL)
			ub_resolve_free(res);
		pthread_cond_destroy(&q->cond);
		free(q);
		return;
	}
	q->err = err;
	q->res = res;
	q->done = 1;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&r->lock);
}

/* fm_ub_dispatch - dispatcher thread: run callbacks as answers arrive */
static void *fm_ub_dispatch(void *arg)
{
	fm_resolver_t *r = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(r->ctx);
	pfd[0].events = POLLIN;
	pfd[1].fd = r->stop_pipe[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0 && ub_process(r->ctx) != 0)
			(void)usleep(10000);	/* do not spin on a bad pipe */
	}
	return NULL;
}

/* fm_ub_start - start the dispatcher once; -1 on failure */
static int fm_ub_start(fm_resolver_t *r, fm_dns_answer_t *ans)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (!r->started) {
		if (pthread_create(&r->thread, NULL, fm_ub_dispatch, r) != 0) {
			fm_answer_fail(ans, FM_DNS_TEMPFAIL,
				       "cannot start the resolver thread");
			ret = -1;
		} else {
			r->started = 1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* fm_deadline - CLOCK_MONOTONIC time ms milliseconds from now */
static void fm_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* fm_name_differs - are two names different (case, final dot ignored) */
static int fm_name_differs(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la != lb || strncasecmp(a, b, la) != 0;
}

/* fm_ub_result - convert a libunbound result into ans */
static fm_dns_status_t fm_ub_result(const struct ub_result *res,
				    const char *name, int type,
				    fm_dns_answer_t *ans)
{
	char tbuf[16], *buf = NULL;
	size_t buflen = 65536 + FM_DNS_NAME_MAX;	/* longest rdata text */
	fm_dns_rr_t rr;
	int i;

	ans->rcode = res->rcode;
	ans->ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
	fm_copy_name(ans->canon, sizeof(ans->canon),
		     res->canonname != NULL ? res->canonname : name);
	ans->cname = fm_name_differs(ans->canon, name);
	if (res->rcode == 3)
		return ans->status = FM_DNS_NXDOMAIN;
	if (res->rcode == 2)
		return fm_answer_fail(ans, FM_DNS_TEMPFAIL, "server failure");
	if (res->rcode != 0)
		return fm_answer_fail(ans, FM_DNS_TEMPFAIL, "DNS rcode %d",
				      res->rcode);
	if (!res->havedata)
		return ans->status = FM_DNS_NODATA;
	if ((buf = malloc(buflen)) == NULL)
		return fm_answer_fail(ans, FM_DNS_TEMPFAIL, "out of memory");
	ans->status = FM_DNS_OK;
	for (i = 0; res->data[i] != NULL; i++) {
		if (fm_rr_from_wire(type, (const unsigned char *)res->data[i],
				    (size_t)res->len[i], &rr, buf,
				    buflen) < 0) {
			fm_answer_fail(ans, FM_DNS_PERMFAIL,
				       "malformed %s record",
				       fm_dns_type_name(type, tbuf,
							sizeof(tbuf)));
			break;
		}
		if (fm_answer_add(ans, &rr) < 0) {
			fm_answer_fail(ans, FM_DNS_TEMPFAIL, "out of memory");
			break;
		}
	}
	free(buf);
	return ans->status;
}

/* fm_ub_wait - wait for q until the deadline; 1 if it finished */
static int fm_ub_wait(fm_resolver_t *r, fm_ub_query_t *q, int id,
		      unsigned ms)
{
	struct timespec deadline;
	int done;

	fm_deadline(&deadline, ms);
	pthread_mutex_lock(&r->lock);
	while (!q->done)
		if (pthread_cond_timedwait(&q->cond, &r->lock,
					   &deadline) == ETIMEDOUT)
			break;
	done = q->done;
	if (!done)
		q->abandoned = 1;
	pthread_mutex_unlock(&r->lock);
	if (done)
		return 1;
	/* After this point q belongs to the callback unless the cancel wins. */
	if (ub_cancel(r->ctx, id) == 0) {
		pthread_cond_destroy(&q->cond);
		free(q);
	}
	return 0;
}

/* fm_ub_query - one lookup through libunbound, bounded by ms */
static fm_dns_status_t fm_ub_query(fm_resolver_t *r, const char *name,
				   int type, unsigned ms, fm_dns_answer_t *ans)
{
	pthread_condattr_t attr;
	fm_ub_query_t *q;
	fm_dns_status_t st;
	int id = 0, rc;

	if (fm_ub_start(r, ans) < 0)
		return ans->status;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return fm_answer_fail(ans, FM_DNS_TEMPFAIL, "out of memory");
	q->r = r;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
	rc = ub_resolve_async(r->ctx, name, type, 1, q, fm_ub_callback, &id);
	if (rc != 0) {
		pthread_cond_destroy(&q->cond);
		free(q);
		return fm_answer_fail(ans, FM_DNS_TEMPFAIL, "resolver: %s",
				      ub_strerror(rc));
	}
	if (!fm_ub_wait(r, q, id, ms))
		return fm_answer_fail(ans, FM_DNS_TEMPFAIL,
				      "no answer within %u ms", ms);
	if (q->err != 0 || q->res == NULL)
		st = fm_answer_fail(ans, FM_DNS_TEMPFAIL, "resolver: %s",
				    ub_strerror(q->err));
	else
		st = fm_ub_result(q->res, name, type, ans);
	if (q->res != NULL)
		ub_resolve_free(q->res);
	pthread_cond_destroy(&q->cond);
	free(q);
	return st;
}

/* fm_ub_forwarders - add each "addr[@port]" of list as a forwarder */
static int fm_ub_forwarders(struct ub_ctx *ctx, const char *list, char *err,
			    size_t errlen)
{
	char tok[INET6_ADDRSTRLEN + 8], addr[sizeof(tok)];
	unsigned char bin[16];
	const char *p = list;
	int n = 0, rc;

	while (*p != '\0') {
		size_t len = strcspn(p, " \t,;");
		char *at, *end;
		long port;

		if (len == 0) {
			p++;
			continue;
		}
		if (len >= sizeof(tok)) {
			fm_errf(err, errlen, "bad name server \"%.*s\"",
				(int)(len > 64 ? 64 : len), p);
			return -1;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		snprintf(addr, sizeof(addr), "%s", tok);
		if ((at = strchr(addr, '@')) != NULL) {
			*at = '\0';
			port = strtol(at + 1, &end, 10);
			if (*end != '\0' || end == at + 1 || port < 1
			    || port > 65535) {
				fm_errf(err, errlen,
					"bad port in name server \"%s\"", tok);
				return -1;
			}
		}
		if (inet_pton(AF_INET, addr, bin) != 1
		    && inet_pton(AF_INET6, addr, bin) != 1) {
			fm_errf(err, errlen, "name server \"%s\" is not an IP "
				"address (use addr or addr@port)", tok);
			return -1;
		}
		if ((rc = ub_ctx_set_fwd(ctx, tok)) != 0) {
			fm_errf(err, errlen, "name server \"%s\": %s", tok,
				ub_strerror(rc));
			return -1;
		}
		n++;
	}
	if (n == 0) {
		fm_errf(err, errlen, "no name server in \"%s\"", list);
		return -1;
	}
	return 0;
}

/*
 * libunbound options. Forwarders on localhost must be allowed. Unbound
 * answers some reverse zones and the "test" TLD itself (RFC 6761, RFC 6303);
 * we want the configured name servers to answer them: a site resolver may
 * serve its own RFC 1918 reverse zones, and test setups use the
 * documentation ranges (RFC 5737, RFC 3849) and .test names.
 */
static const char *const fm_ub_options[][2] = {
	{"do-not-query-localhost:", "no"},
	{"unblock-lan-zones:", "yes"},
	{"insecure-lan-zones:", "yes"},
	{"local-zone:", "2.0.192.in-addr.arpa. nodefault"},
	{"local-zone:", "100.51.198.in-addr.arpa. nodefault"},
	{"local-zone:", "113.0.203.in-addr.arpa. nodefault"},
	{"local-zone:", "8.b.d.0.1.0.0.2.ip6.arpa. nodefault"},
};

/* fm_ub_setup - configure a fresh libunbound context */
static int fm_ub_setup(struct ub_ctx *ctx, const char *nameservers,
		       char *err, size_t errlen)
{
	int rc;

	size_t i;

	if ((rc = ub_ctx_async(ctx, 1)) != 0) {
		fm_errf(err, errlen, "libunbound: %s", ub_strerror(rc));
		return -1;
	}
	for (i = 0; i < sizeof(fm_ub_options) / sizeof(fm_ub_options[0]); i++)
		if ((rc = ub_ctx_set_option(ctx, fm_ub_options[i][0],
					    fm_ub_options[i][1])) != 0) {
			fm_errf(err, errlen, "libunbound option %s %s: %s",
				fm_ub_options[i][0], fm_ub_options[i][1],
				ub_strerror(rc));
			return -1;
		}
	if (nameservers != NULL && nameservers[strspn(nameservers, " \t,;")])
		return fm_ub_forwarders(ctx, nameservers, err, errlen);
	if ((rc = ub_ctx_resolvconf(ctx, NULL)) != 0) {
		fm_errf(err, errlen, "cannot use /etc/resolv.conf: %s (%s)",
			ub_strerror(rc), strerror(errno));
		return -1;
	}
	return 0;
}

/* fm_resolver_alloc - common part of both constructors */
fm_resolver_t *fm_resolver_alloc(unsigned timeout_ms)
{
	fm_resolver_t *r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->timeout_ms = timeout_ms ? timeout_ms : FM_DNS_DEFAULT_TIMEOUT_MS;
	r->stop_pipe[0] = r->stop_pipe[1] = -1;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

/* fm_resolver_new - see resolver.h */
fm_resolver_t *fm_resolver_new(const char *nameservers, unsigned timeout_ms,
			       char *err, size_t errlen)
{
	fm_resolver_t *r;

	if ((r = fm_resolver_alloc(timeout_ms)) == NULL) {
		fm_errf(err, errlen, "out of memory");
		return NULL;
	}
	if (pipe(r->stop_pipe) < 0
	    || fcntl(r->stop_pipe[0], F_SETFD, FD_CLOEXEC) < 0
	    || fcntl(r->stop_pipe[1], F_SETFD, FD_CLOEXEC) < 0) {
		fm_errf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((r->ctx = ub_ctx_create()) == NULL) {
		fm_errf(err, errlen, "cannot create a libunbound context");
		goto fail;
	}
	if (fm_ub_setup(r->ctx, nameservers, err, errlen) < 0)
		goto fail;
	return r;
fail:
	fm_resolver_free(r);
	return NULL;
}

/* ------------------------------------------------------------- common */

/* fm_resolver_timeout - see resolver.h */
unsigned fm_resolver_timeout(const fm_resolver_t *r)
{
	return r->timeout_ms;
}

/* fm_resolver_query - see resolver.h */
fm_dns_status_t fm_resolver_query(fm_resolver_t *r, const char *name,
				  int type, unsigned timeout_ms,
				  fm_dns_answer_t *ans)
{
	unsigned ms;

	fm_answer_init(ans);
	if (!fm_dns_name_valid(name))
		return fm_answer_fail(ans, FM_DNS_PERMFAIL,
				      "malformed domain name");
	if (type <= 0 || type > 65535)
		return fm_answer_fail(ans, FM_DNS_PERMFAIL, "bad record type");
	ms = timeout_ms != 0 && timeout_ms < r->timeout_ms ? timeout_ms
	    : r->timeout_ms;
	if (r->ctx == NULL)
		return fm_zone_query(r, name, type, ans);
	return fm_ub_query(r, name, type, ms, ans);
}

/* fm_resolver_free - stop the dispatcher, free the context */
void fm_resolver_free(fm_resolver_t *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->started) {
		(void)!write(r->stop_pipe[1], "x", 1);
		pthread_join(r->thread, NULL);
	}
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	for (i = 0; i < 2; i++)
		if (r->stop_pipe[i] >= 0)
			close(r->stop_pipe[i]);
	for (i = 0; i < r->nzone; i++) {
		free(r->zone[i].name);
		free(r->zone[i].rr.text);
	}
	free(r->zone);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
