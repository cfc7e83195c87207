/*
 * pipeline - the inbound pipeline: authenticate, parse, classify, record
 *
 * Order at end-of-message: SPF for the client (the HELO identity for a null
 * sender), the DKIM verdicts, the report parsed from the kept copy of the
 * message, the send record found by the code, then the events built by the
 * pure inbound module. Recording is all or nothing: when the store cannot
 * commit the events the message is tempfailed, so the remote MTA retries
 * and nothing is lost. Messages that fail RequireAuthentication are logged
 * and discarded without events.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dkimcheck.h"
#include "eventlog.h"
#include "inbound.h"
#include "pipeline.h"
#include "report.h"
#include "resolver.h"
#include "rewrite.h"
#include "spfcheck.h"

struct fm_pipeline {
	fm_resolver_t *resolver;
	fm_spf_t *spf;
	fm_dkim_lib_t *dkim;
	fm_store_t *store;
	char hostname[256];
};

struct fm_inmsg {
	fm_pipeline_t *p;
	fm_dkim_t *dkim;
	char *buf;		/* headers and body, up to max */
	size_t len, cap, max;
	int truncated;		/* more came than max */
	int in_body;		/* the blank line after the headers is in */
	int leadspc;
};

/* fm_pipeline_new - resolver, SPF, DKIM and parser, once */
fm_pipeline_t *
fm_pipeline_new(const fm_config_t *cfg, fm_store_t *store, char *err,
		size_t errlen)
{
	fm_pipeline_t *p = calloc(1, sizeof(*p));
	char why[512];

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->store = store;
	if (gethostname(p->hostname, sizeof(p->hostname) - 1) < 0)
		strcpy(p->hostname, "localhost");
	if (fm_report_init() < 0) {
		snprintf(err, errlen, "cannot initialise the message parser");
		goto bad;
	}
	if ((p->resolver = fm_resolver_new(cfg->nameservers, cfg->dns_timeout_ms,
					   why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "Nameservers: %s", why);
		goto bad;
	}
	if ((p->spf = fm_spf_new(p->resolver, cfg->authserv_id ? cfg->authserv_id :
				 p->hostname, 0, why, sizeof(why))) == NULL ||
	    (p->dkim = fm_dkim_lib_new(p->resolver, 0, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s", why);
		goto bad;
	}
	return p;
bad:
	fm_pipeline_free(p);
	return NULL;
}

/* fm_pipeline_authserv - AuthservID, else the host name */
const char *
fm_pipeline_authserv(const fm_pipeline_t *p, const fm_config_t *cfg)
{
	return cfg->authserv_id ? cfg->authserv_id : p->hostname;
}

/* fm_pipeline_free - release in reverse order */
void
fm_pipeline_free(fm_pipeline_t *p)
{
	if (p == NULL)
		return;
	fm_dkim_lib_free(p->dkim);
	fm_spf_free(p->spf);
	fm_resolver_free(p->resolver);
	free(p);
}

/* fm_inmsg_new - per-message state */
fm_inmsg_t *
fm_inmsg_new(fm_pipeline_t *p, const fm_config_t *cfg, const char *qid,
	     int leadspc)
{
	fm_inmsg_t *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->p = p;
	m->max = cfg->max_inbound_size;
	m->leadspc = leadspc;
	if ((m->dkim = fm_dkim_new(p->dkim, qid, leadspc)) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

/* keep - append to the parser's copy, up to the limit; 0 or -1 */
static int
keep(fm_inmsg_t *m, const char *data, size_t len)
{
	size_t room, cap;
	char *grown;

	if (m->truncated || len == 0)
		return 0;
	room = m->max - m->len;
	if (len > room) {
		len = room;
		m->truncated = 1;
	}
	if (m->len + len > m->cap) {
		cap = m->cap ? m->cap : 16384;
		while (cap < m->len + len)
			cap *= 2;
		if (cap > m->max)
			cap = m->max;
		if ((grown = realloc(m->buf, cap + 1)) == NULL)
			return -1;
		m->buf = grown;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	return 0;
}

/* keep_crlf - append text with bare LF turned into CRLF */
static int
keep_crlf(fm_inmsg_t *m, const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r') && keep(m, "\r", 1) < 0)
			return -1;
		if (keep(m, p, 1) < 0)
			return -1;
	}
	return 0;
}

/* fm_inmsg_header - one header, to DKIM and to the copy */
int
fm_inmsg_header(fm_inmsg_t *m, const char *name, const char *value)
{
	if (fm_dkim_header(m->dkim, name, value) < 0)
		fm_log(LOG_DEBUG, NULL, "DKIM could not take header %.64s", name);
	if (keep(m, name, strlen(name)) < 0 ||
	    keep(m, m->leadspc ? ":" : ": ", m->leadspc ? 1 : 2) < 0 ||
	    keep_crlf(m, value) < 0 || keep(m, "\r\n", 2) < 0)
		return -1;
	return 0;
}

/* end_headers - the blank line, once */
static int
end_headers(fm_inmsg_t *m)
{
	if (m->in_body)
		return 0;
	m->in_body = 1;
	fm_dkim_eoh(m->dkim);
	return keep(m, "\r\n", 2);
}

/* fm_inmsg_body - a body chunk */
int
fm_inmsg_body(fm_inmsg_t *m, const unsigned char *buf, size_t len)
{
	if (end_headers(m) < 0)
		return -1;
	fm_dkim_body(m->dkim, buf, len);
	return keep(m, (const char *)buf, len);
}

/* log_events - one line per event */
static void
log_events(const char *qid, const fm_event_t *ev, size_t n,
	   const fm_send_t *send)
{
	char line[2048];
	size_t i;

	for (i = 0; i < n; i++) {
		fm_inbound_event_line(&ev[i], send, line, sizeof(line));
		fm_log(LOG_INFO, qid, "%s", line);
	}
}

/*
 * log_store_tempfail - the line for a message deferred because the store
 * failed: "tempfail reason=store code=CODE error=..." (what, if given,
 * says which step failed)
 */
static void
log_store_tempfail(const char *qid, const char *code, const char *what,
		   const char *err)
{
	char text[600], line[1024];
	fm_kv_t kv;

	snprintf(text, sizeof(text), "%s%s%s", what ? what : "",
		 what ? ": " : "", err);
	fm_kv_init(&kv, line, sizeof(line));
	fm_kv_word(&kv, "tempfail");
	fm_kv_str(&kv, "reason", "store");
	fm_kv_str(&kv, "code", code && code[0] ? code : "-");
	fm_kv_str(&kv, "error", text);
	fm_log(LOG_ERR, qid, "%s", line);
}

/* lookup_send - the send record of a verified code; -1 on a store error */
static int
lookup_send(fm_pipeline_t *p, const fm_conn_t *conn, fm_send_t *send,
	    int *found, const char *qid)
{
	char err[512];

	*found = 0;
	if (!conn->msg.code_verified || conn->msg.code[0] == '\0')
		return 0;
	switch (fm_store_find_send(p->store, conn->msg.code, send, err,
				   sizeof(err))) {
	case FM_STORE_OK:
		*found = 1;
		return 0;
	case FM_STORE_NOTFOUND:
		fm_log(LOG_NOTICE, qid, "code=%s: valid code without a send "
		       "record (another store, or pruned)", conn->msg.code);
		return 0;
	default:
		log_store_tempfail(qid, conn->msg.code, "send lookup", err);
		return -1;
	}
}

/* record - store the events; 0, or -1 after logging why */
static int
record(fm_pipeline_t *p, const char *qid, const fm_event_t *ev, size_t n)
{
	char err[512];

	if (fm_store_add_events(p->store, ev, n, err, sizeof(err)) == FM_STORE_OK)
		return 0;
	log_store_tempfail(qid, ev[0].code, NULL, err);
	return -1;
}

/* fm_inmsg_finish - the verdict on one inbound message */
void
fm_inmsg_finish(fm_inmsg_t *m, const fm_config_t *cfg, const fm_conn_t *conn,
		fm_inbound_result_t *res)
{
	fm_pipeline_t *p = m->p;
	const char *qid = conn->msg.qid[0] ? conn->msg.qid : NULL;
	char envfrom[FM_ADDR_MAX] = "";
	fm_event_sig_t sigs[FM_DKIM_MAX_SIGS];
	fm_spf_outcome_t spf;
	fm_dkim_report_t dkim;
	fm_report_t report;
	fm_inbound_in_t in;
	fm_event_t *ev = NULL;
	fm_send_t send;
	int bracketed, have_send = 0, have_report = 0;

	memset(res, 0, sizeof(*res));
	memset(&send, 0, sizeof(send));
	res->action = FM_INBOUND_TEMPFAIL;
	if (conn->msg.sender != NULL &&
	    fm_addr_strip(conn->msg.sender, envfrom, sizeof(envfrom), &bracketed) < 0)
		envfrom[0] = '\0';
	fm_spf_check(p->spf, conn->client, conn->helo, envfrom, &spf);
	end_headers(m);
	fm_dkim_eom(m->dkim, &dkim);
	if (fm_report_parse(m->buf ? m->buf : "", m->len, &report) != FM_REPORT_OK) {
		fm_log(LOG_ERR, qid, "tempfail reason=parser: out of memory");
		goto out;
	}
	have_report = 1;
	if (lookup_send(p, conn, &send, &have_send, qid) < 0)
		goto out;
	memset(&in, 0, sizeof(in));
	in.report = &report;
	in.send = have_send ? &send : NULL;
	in.code = conn->msg.code[0] ? conn->msg.code : NULL;
	in.verified = conn->msg.code_verified;
	in.now = time(NULL);
	in.qid = qid;
	in.client = conn->client;
	in.helo = conn->helo[0] ? conn->helo : NULL;
	in.envfrom = envfrom;
	in.spf = &spf;
	in.dkim = &dkim;
	if ((ev = calloc(FM_INBOUND_MAX_EVENTS, sizeof(*ev))) == NULL) {
		fm_log(LOG_ERR, qid, "tempfail reason=memory");
		goto out;
	}
	res->nevents = fm_inbound_events(&in, ev, FM_INBOUND_MAX_EVENTS, sigs);
	/* bounces our own MTA makes (TrustedClients) need no proof */
	res->authenticated = (conn->have_addr &&
			      fm_config_trusted_addr(cfg, (const struct sockaddr *)
						     &conn->addr)) ||
		fm_inbound_authenticated(cfg->require_auth, &spf, &dkim);
	if (m->truncated)
		fm_log(LOG_NOTICE, qid, "limits: message larger than "
		       "MaxInboundSize (%zu): parsed its first part only", m->max);
	if (report.flags & FM_REPORT_TRUNCATED) {
		char words[256];

		fm_log(LOG_NOTICE, qid, "limits: %s",
		       fm_report_limits(report.flags, words, sizeof(words)));
	}
	if (!res->authenticated) {
		/* a DNS failure must not lose a report: the sender retries */
		int retry = fm_inbound_auth_undecided(cfg->require_auth, &spf,
						      &dkim);

		fm_log(LOG_NOTICE, qid, "%s code=%s spf=%s dkim=%s: %s",
		       retry ? "tempfail reason=dns" : "unauthenticated",
		       in.code ? in.code : "-", fm_spf_result_name(spf.result),
		       fm_dkim_result_name(dkim.summary), retry ?
		       "RequireAuthentication cannot be decided now" :
		       "not recorded (RequireAuthentication)");
		res->nevents = 0;
		res->action = retry ? FM_INBOUND_TEMPFAIL : FM_INBOUND_DISCARD;
		goto out;
	}
	if (record(p, qid, ev, res->nevents) < 0)
		goto out;
	log_events(qid, ev, res->nevents, in.send);
	res->action = fm_inbound_accept(cfg, ev, res->nevents) ?
		FM_INBOUND_ACCEPT : FM_INBOUND_DISCARD;
	/* res->ar starts with the space a header value has after the colon */
	res->ar[0] = ' ';
	if (res->action == FM_INBOUND_ACCEPT &&
	    fm_inbound_ar_value(fm_pipeline_authserv(p, cfg),
				&spf, &dkim, res->ar + 1, sizeof(res->ar) - 1) < 0)
		res->ar[0] = '\0';
	else if (res->action != FM_INBOUND_ACCEPT)
		res->ar[0] = '\0';
out:
	free(ev);
	if (have_report)
		fm_report_free(&report);
	fm_send_free(&send);
}

/* fm_inmsg_free - release a message's state */
void
fm_inmsg_free(fm_inmsg_t *m)
{
	if (m == NULL)
		return;
	fm_dkim_free(m->dkim);
	free(m->buf);
	free(m);
}
