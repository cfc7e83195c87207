/*
 * mlfi - the libmilter callbacks
 *
 * Negotiation asks only for what the milter uses: MAIL, RCPT, headers and
 * end-of-message, with no replies for connect and headers (each skipped
 * step or reply saves a round trip per message). At end-of-message an
 * outbound message from a trusted client in a sender domain gets a code,
 * its send record is committed to the store, and only then is the envelope
 * sender replaced. If the record cannot be committed the message is
 * tempfailed: a message never leaves with a code that cannot be resolved.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "codec.h"
#include "context.h"
#include "eventlog.h"
#include "inbound.h"
#include "mlfi.h"
#include "outbound.h"
#include "pipeline.h"
#include "ratelimit.h"
#include "rewrite.h"

static fm_store_t *mlfi_store;
static fm_pipeline_t *mlfi_pipeline;
static fm_config_t *(*mlfi_config)(void);

/* fm_mlfi_init - set the environment before smfi_main */
void
fm_mlfi_init(fm_store_t *store, fm_pipeline_t *pipeline,
	     fm_config_t *(*get_config)(void))
{
	mlfi_store = store;
	mlfi_pipeline = pipeline;
	mlfi_config = get_config;
}

/* drop_inmsg - forget an inbound message's state */
static void
drop_inmsg(fm_conn_t *conn)
{
	fm_inmsg_free(conn->inmsg);
	conn->inmsg = NULL;
}

/* conn_of - the connection state, or NULL */
static fm_conn_t *
conn_of(SMFICTX *ctx)
{
	return (fm_conn_t *)smfi_getpriv(ctx);
}

/*
 * The protocol flags of the latest negotiation. An MTA may reuse a milter
 * connection for a new SMTP session (SMFIC_QUIT_NC, which Sendmail can
 * send): libmilter then calls xxfi_close, which frees our state, and goes
 * on to the next connect, or HELO or MAIL without the connect step,
 * without negotiating again. conn_renew() makes the new state from these.
 * They follow from what the MTA offered, which does not change from one
 * connection of an MTA to the next (libmilter itself offers every
 * no-reply step).
 */
static unsigned long negotiated_pf1;

/* conn_set_flags - the connection state's copy of the protocol flags */
static void
conn_set_flags(fm_conn_t *conn, unsigned long pf1)
{
	conn->no_connect = (pf1 & SMFIP_NOCONNECT) != 0;
	conn->noreply_conn = (pf1 & SMFIP_NR_CONN) != 0;
	conn->noreply_helo = (pf1 & SMFIP_NR_HELO) != 0;
	conn->noreply_mail = (pf1 & SMFIP_NR_MAIL) != 0;
	conn->noreply_hdr = (pf1 & SMFIP_NR_HDR) != 0;
	conn->noreply_body = (pf1 & SMFIP_NR_BODY) != 0;
	conn->leadspc = (pf1 & SMFIP_HDR_LEADSPC) != 0;
}

/*
 * conn_renew - the connection state, made anew after SMFIC_QUIT_NC (see
 * negotiated_pf1); NULL when out of memory or never negotiated
 */
static fm_conn_t *
conn_renew(SMFICTX *ctx)
{
	unsigned long pf1 = __atomic_load_n(&negotiated_pf1, __ATOMIC_ACQUIRE);
	fm_conn_t *conn = conn_of(ctx);

	if (conn != NULL || pf1 == 0)
		return conn;
	if ((conn = fm_conn_new()) == NULL) {
		fm_log(LOG_ERR, NULL, "connection reused: out of memory");
		return NULL;
	}
	conn_set_flags(conn, pf1);
	smfi_setpriv(ctx, conn);
	return conn;
}

/* tempfail - a 451 with a reason */
static sfsistat
tempfail(SMFICTX *ctx, const char *text)
{
	smfi_setreply(ctx, "451", "4.3.0", (char *)text);
	return SMFIS_TEMPFAIL;
}

/* mlfi_negotiate - the actions and protocol steps we use */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	fm_conn_t *conn;
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH |
			     SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
			     SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC;

	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_CHGFROM) == 0) {
		fm_log(LOG_ERR, NULL, "the MTA cannot change the envelope "
		       "sender (milter protocol without CHGFROM): refusing");
		return SMFIS_REJECT;
	}
	/*
	 * Every step the MTA need not send is one packet less to read per
	 * message. The client's address comes with MAIL as {client_addr}
	 * (Postfix's smtpd and cleanup both define it), so the connect step
	 * is not needed when the MTA can leave it out. {daemon_port} "0"
	 * tells Postfix's cleanup (local submission) from its smtpd
	 * (fm_local_submission). Stages whose macros we never read get one
	 * constant macro instead of the MTA's default list (Postfix resolves
	 * {rcpt_addr} {rcpt_host} {rcpt_mailer} for every recipient
	 * otherwise).
	 */
	if (f1 & SMFIP_NOCONNECT)
		want |= SMFIP_NOCONNECT;
	*pf0 = SMFIF_CHGFROM | (f0 & (SMFIF_CHGHDRS | SMFIF_ADDHDRS));
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setsymlist(ctx, SMFIM_CONNECT, "j");
	smfi_setsymlist(ctx, SMFIM_ENVFROM, (*pf1 & SMFIP_NOCONNECT) ?
			"i {auth_authen} {daemon_port} {client_addr}" :
			"i {auth_authen} {daemon_port}");
	smfi_setsymlist(ctx, SMFIM_ENVRCPT, "j");
	smfi_setsymlist(ctx, SMFIM_EOM, "i");
	if ((conn = fm_conn_new()) == NULL) {
		fm_log(LOG_ERR, NULL, "negotiate: out of memory");
		return SMFIS_TEMPFAIL;
	}
	conn_set_flags(conn, *pf1);
	__atomic_store_n(&negotiated_pf1, *pf1, __ATOMIC_RELEASE);
	smfi_setpriv(ctx, conn);
	return SMFIS_CONTINUE;
}

/* mlfi_connect - connection state for the client */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	fm_conn_t *conn = conn_renew(ctx);

	(void)hostname;
	if (conn == NULL)
		return SMFIS_TEMPFAIL;
	fm_conn_set_client(conn, hostaddr);
	return conn->noreply_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* mlfi_helo - the HELO identity, for SPF on null senders */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	fm_conn_t *conn = conn_renew(ctx);

	if (conn == NULL)
		return SMFIS_CONTINUE;
	fm_conn_set_helo(conn, helo);
	return conn->noreply_helo ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * mlfi_envfrom - a new message: pin the newest configuration. Without a
 * reply to MAIL (SMFIP_NR_MAIL) a failure here is kept and the first
 * recipient is tempfailed instead.
 */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	fm_conn_t *conn = conn_renew(ctx);

	if (conn == NULL)
		return tempfail(ctx, "Internal error: no connection state");
	drop_inmsg(conn);
	conn->mail_failed = NULL;
	if (conn->no_connect)
		fm_conn_set_client_str(conn, smfi_getsymval(ctx, "{client_addr}"));
	if (fm_conn_begin_msg(conn, mlfi_config(), argv[0],
			      smfi_getsymval(ctx, "{auth_authen}"),
			      smfi_getsymval(ctx, "{daemon_port}")) < 0) {
		fm_log(LOG_ERR, NULL, "mail: out of memory");
		if (conn->noreply_mail) {
			conn->mail_failed = "Out of memory";
			return SMFIS_NOREPLY;
		}
		return tempfail(ctx, "Out of memory");
	}
	fm_msg_set_qid(&conn->msg, smfi_getsymval(ctx, "i"));
	return conn->noreply_mail ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * Refused codes are logged one line each up to REJECT_LOG_BURST per
 * REJECT_LOG_INTERVAL seconds; beyond that they are only counted, and one
 * "reject summary" line per interval says how many were refused and why
 * (a flood of forged bounces must not flood the log).
 */
#define REJECT_LOG_BURST 10
#define REJECT_LOG_INTERVAL 10
static fm_ratelimit_t reject_rl =
	FM_RATELIMIT_INITIALIZER(REJECT_LOG_BURST, REJECT_LOG_INTERVAL);

/* reject_cat_name - the reason for a code status, in summaries */
static const char *
reject_cat_name(unsigned cat)
{
	return fm_code_status_str((fm_code_status_t)cat);
}

/* reject_summary - log the summary of an interval with unlogged codes */
static void
reject_summary(const fm_ratelimit_summary_t *sum)
{
	char line[1024];

	fm_ratelimit_format(sum, "codes refused", reject_cat_name, line,
			    sizeof(line));
	fm_log(LOG_NOTICE, NULL, "%s", line);
}

/* fm_mlfi_tick - once a second: the summary of a flood that has stopped */
void
fm_mlfi_tick(time_t now)
{
	fm_ratelimit_summary_t sum;

	if (fm_ratelimit_flush(&reject_rl, now, &sum))
		reject_summary(&sum);
}

/* separate_rcpt - a recipient for a transaction of its own: 452 4.5.3 */
static sfsistat
separate_rcpt(SMFICTX *ctx)
{
	smfi_setreply(ctx, "452", "4.5.3", "Feedback addresses take no other "
		      "recipients; send this one separately");
	return SMFIS_TEMPFAIL;
}

/* reject_rcpt - refuse a bad code before DATA, with a (limited) log line */
static sfsistat
reject_rcpt(SMFICTX *ctx, const fm_conn_t *conn, const char *rcpt,
	    const fm_rcpt_check_t *chk)
{
	char line[1024], addr[FM_ADDR_MAX];
	fm_ratelimit_summary_t sum;
	int bracketed, have_sum, log_it;
	fm_kv_t kv;

	log_it = fm_ratelimit_hit(&reject_rl, time(NULL), (unsigned)chk->status,
				  conn->client, &sum, &have_sum);
	if (have_sum)
		reject_summary(&sum);
	if (log_it) {
		if (fm_addr_strip(rcpt, addr, sizeof(addr), &bracketed) < 0)
			snprintf(addr, sizeof(addr), "%s", "(malformed)");
		fm_kv_init(&kv, line, sizeof(line));
		fm_kv_word(&kv, "reject");
		fm_kv_str(&kv, "code", chk->local);
		fm_kv_addr(&kv, "rcpt", addr);
		fm_kv_str(&kv, "client", conn->client);
		fm_kv_str(&kv, "why", fm_code_status_str(chk->status));
		fm_log(LOG_NOTICE, conn->msg.qid[0] ? conn->msg.qid : NULL, "%s",
		       line);
	}
	smfi_setreply(ctx, "550", "5.1.1", (char *)fm_inbound_reply(chk->status));
	return SMFIS_REJECT;
}

/* mlfi_envrcpt - check feedback codes, collect the recipients */
static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	fm_conn_t *conn = conn_of(ctx);
	fm_rcpt_check_t chk;
	const fm_domain_t *dom;

	if (conn == NULL || conn->cfg == NULL)
		return tempfail(ctx, "Internal error: no message state");
	if (conn->mail_failed != NULL)
		return tempfail(ctx, conn->mail_failed);
	if (conn->cfg->reject_suppressed && fm_outbound_decide(conn, &dom) ==
	    FM_REWRITE_YES) {
		switch (fm_outbound_suppressed(mlfi_store, conn, argv[0])) {
		case FM_SUPP_YES:
			smfi_setreply(ctx, "550", "5.1.1", conn->cfg->reject_text);
			return SMFIS_REJECT;
		case FM_SUPP_ERROR:
			return tempfail(ctx, "Cannot check the recipient now; try "
					"again later");
		case FM_SUPP_NO:
			break;
		}
	}
	/*
	 * A message to a feedback address is consumed whole (recorded, then
	 * discarded or delivered with our header), so it must have no other
	 * recipient and no second code: such a recipient is deferred (452),
	 * and the client sends it in a transaction of its own.
	 */
	switch (fm_inbound_check_rcpt(conn->cfg, argv[0], time(NULL), &chk)) {
	case FM_RCPT_REJECT:
		return reject_rcpt(ctx, conn, argv[0], &chk);
	case FM_RCPT_VALID:
	case FM_RCPT_UNVERIFIED:
		if (conn->msg.noutside > 0 || (conn->msg.inbound &&
		    strcmp(conn->msg.code, chk.code) != 0))
			return separate_rcpt(ctx);
		if (!conn->msg.inbound) {
			conn->msg.inbound = 1;
			conn->msg.code_verified = chk.verdict == FM_RCPT_VALID;
			memcpy(conn->msg.code, chk.code, sizeof(chk.code));
		}
		break;
	case FM_RCPT_OUTSIDE:
		if (conn->msg.inbound)
			return separate_rcpt(ctx);
		conn->msg.noutside++;
		break;
	}
	if (fm_msg_add_rcpt(&conn->msg, argv[0]) < 0)
		fm_log(LOG_WARNING, conn->msg.qid[0] ? conn->msg.qid : NULL,
		       "recipient not recorded: malformed or out of memory");
	return SMFIS_CONTINUE;
}

/* mlfi_header - Message-ID and identity headers */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	fm_conn_t *conn = conn_of(ctx);

	if (conn == NULL)
		return SMFIS_CONTINUE;
	switch (fm_conn_header(conn, name, value)) {
	case -1:
		fm_log(LOG_WARNING, NULL, "a header was not kept: out of memory");
		break;
	case 1:		/* logged at end-of-message, with the queue id */
		if (conn->msg.cut_header[0] == '\0')
			snprintf(conn->msg.cut_header, sizeof(conn->msg.cut_header),
				 "%s", name);
		break;
	}
	if (conn->msg.inbound) {
		if (strcasecmp(name, "Authentication-Results") == 0)
			(void)fm_msg_note_ar(&conn->msg, value,
					     fm_pipeline_authserv(mlfi_pipeline,
								  conn->cfg));
		fm_msg_set_qid(&conn->msg, smfi_getsymval(ctx, "i"));
		if (conn->inmsg == NULL)
			conn->inmsg = fm_inmsg_new(mlfi_pipeline, conn->cfg,
						   conn->msg.qid, conn->leadspc);
		if (conn->inmsg == NULL ||
		    fm_inmsg_header(conn->inmsg, name, value) < 0)
			conn->msg.inbound_failed = 1;
	}
	return conn->noreply_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* mlfi_body - inbound messages keep their body; outbound ones skip it */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	fm_conn_t *conn = conn_of(ctx);

	if (conn == NULL)
		return SMFIS_CONTINUE;
	if (conn->msg.inbound && conn->inmsg != NULL &&
	    fm_inmsg_body(conn->inmsg, chunk, len) < 0)
		conn->msg.inbound_failed = 1;
	return conn->noreply_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* strip_ident_headers - remove every occurrence of the identity headers */
static int
strip_ident_headers(SMFICTX *ctx, const fm_conn_t *conn)
{
	const fm_config_t *cfg = conn->cfg;
	unsigned n;
	size_t i;

	if (!cfg->strip_ident_headers || conn->msg.ident_counts == NULL)
		return 0;
	for (i = 0; i < cfg->nident_headers; i++)
		for (n = conn->msg.ident_counts[i]; n > 0; n--)
			if (smfi_chgheader(ctx, cfg->ident_headers[i], (int)n,
					   NULL) != MI_SUCCESS)
				return -1;
	return 0;
}

/* inbound_eom - the verdict on a message to a feedback domain */
static sfsistat
inbound_eom(SMFICTX *ctx, fm_conn_t *conn)
{
	const char *qid = conn->msg.qid[0] ? conn->msg.qid : NULL;
	fm_inbound_result_t res;
	unsigned kept, total;
	sfsistat rc;

	if (conn->inmsg == NULL && !conn->msg.inbound_failed)
		conn->inmsg = fm_inmsg_new(mlfi_pipeline, conn->cfg, conn->msg.qid,
					   conn->leadspc);
	if (conn->inmsg == NULL || conn->msg.inbound_failed) {
		fm_log(LOG_ERR, qid, "tempfail reason=memory: inbound message "
		       "not kept");
		drop_inmsg(conn);
		return tempfail(ctx, "Cannot process the message now; try again later");
	}
	fm_inmsg_finish(conn->inmsg, conn->cfg, conn, &res);
	drop_inmsg(conn);
	switch (res.action) {
	case FM_INBOUND_TEMPFAIL:
		return tempfail(ctx, "Cannot record the report now; try again later");
	case FM_INBOUND_ACCEPT:
		/*
		 * Forged fields with our authserv-id go, last first. One
		 * that cannot go (too many to remember, or the MTA refused)
		 * must not be delivered as ours: the message is discarded
		 * instead; its events are recorded.
		 */
		kept = conn->msg.nar_lost;
		total = conn->msg.nar_ours + conn->msg.nar_lost;
		while (conn->msg.nar_ours > 0)
			if (smfi_chgheader(ctx, "Authentication-Results",
					   conn->msg.ar_ours[--conn->msg.nar_ours],
					   NULL) != MI_SUCCESS)
				kept++;
		if (kept > 0) {
			fm_log(LOG_NOTICE, qid, "limits: %u of %u Authentication-"
			       "Results fields claiming our authserv-id cannot "
			       "be removed: discarded, not delivered", kept,
			       total);
			return SMFIS_DISCARD;
		}
		/* with leading spaces negotiated the value is taken as is */
		if (res.ar[0] != '\0' &&
		    smfi_insheader(ctx, 0, "Authentication-Results",
				   res.ar + (conn->leadspc ? 0 : 1)) != MI_SUCCESS)
			fm_log(LOG_WARNING, qid, "Authentication-Results not added");
		rc = SMFIS_CONTINUE;
		break;
	default:
		rc = SMFIS_DISCARD;
		break;
	}
	return rc;
}

/* mlfi_eom - decide, record, then rewrite */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	fm_conn_t *conn = conn_of(ctx);
	char sender[FM_ADDR_MAX], newaddr[FM_ADDR_MAX], code[FM_CODE_LEN + 1];
	const fm_domain_t *dom;
	fm_rewrite_t verdict;
	const char *qid;
	int bracketed;

	if (conn == NULL || conn->cfg == NULL)
		return tempfail(ctx, "Internal error: no message state");
	fm_msg_set_qid(&conn->msg, smfi_getsymval(ctx, "i"));
	qid = conn->msg.qid[0] ? conn->msg.qid : NULL;
	if (conn->msg.cut_header[0] != '\0')
		fm_log(LOG_NOTICE, qid, "limits: %s header longer than %d octets: "
		       "its first %d kept", conn->msg.cut_header,
		       FM_HEADER_VALUE_MAX, FM_HEADER_VALUE_MAX);
	if (conn->msg.inbound)
		return inbound_eom(ctx, conn);
	verdict = fm_outbound_decide(conn, &dom);
	if (verdict != FM_REWRITE_YES) {
		fm_log(LOG_DEBUG, qid, "skip reason=%s client=%s",
		       fm_rewrite_str(verdict), conn->client);
		return SMFIS_CONTINUE;
	}
	if (fm_addr_strip(conn->msg.sender, sender, sizeof(sender), &bracketed) < 0 ||
	    fm_outbound_record(mlfi_store, conn, dom, sender, code) < 0)
		return tempfail(ctx, "Cannot record the message now; try again later");
	if (fm_rewrite_address(code, dom, newaddr, sizeof(newaddr)) < 0 ||
	    smfi_chgfrom(ctx, newaddr, NULL) != MI_SUCCESS) {
		fm_log(LOG_ERR, qid, "tempfail reason=chgfrom code=%s: the MTA "
		       "refused the new envelope sender", code);
		return tempfail(ctx, "Cannot change the envelope sender now");
	}
	if (strip_ident_headers(ctx, conn) < 0)
		fm_log(LOG_WARNING, qid, "identity headers not removed: the MTA "
		       "refused the change");
	fm_outbound_log(conn, code, sender, newaddr);
	return SMFIS_CONTINUE;
}

/* mlfi_abort - the message ends without EOM */
static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	fm_conn_t *conn = conn_of(ctx);

	if (conn != NULL) {
		drop_inmsg(conn);
		fm_conn_end_msg(conn);
	}
	return SMFIS_CONTINUE;
}

/* mlfi_close - the connection ends */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
	fm_conn_t *conn = conn_of(ctx);

	smfi_setpriv(ctx, NULL);
	if (conn != NULL)
		drop_inmsg(conn);
	fm_conn_free(conn);
	return SMFIS_CONTINUE;
}

/*
 * The shutdown gate. smfi_main returns on SIGTERM without waiting for the
 * sessions' threads, and the daemon then frees the store, the pipeline and
 * the resolver. Every callback runs inside the gate, and every message is
 * counted from MAIL to its end (end-of-message, abort or close).
 * fm_mlfi_shutdown drains: new messages are deferred while the messages
 * under way finish (a bounce in its DNS lookups, a commit), then the gate
 * closes and later callbacks touch nothing shared.
 */
enum { GATE_OPEN, GATE_DRAINING, GATE_CLOSED };
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_state = GATE_OPEN;
static unsigned gate_calls;	/* callbacks inside the gate */
static unsigned gate_msgs;	/* messages between MAIL and their end */

#define SHUTDOWN_TEXT "Service shutting down; try again later"

/*
 * gate_enter - 0 inside the gate; -1 (not inside) once it is closed, or
 * for a new message (starts) while it drains
 */
static int
gate_enter(int starts)
{
	int ok;

	pthread_mutex_lock(&gate_mu);
	ok = gate_state == GATE_OPEN ||
		(gate_state == GATE_DRAINING && !starts);
	if (ok)
		gate_calls++;
	pthread_mutex_unlock(&gate_mu);
	return ok ? 0 : -1;
}

/*
 * gate_leave - the callback is done; delta counts a message that began
 * (+1) or ended (-1) in it
 */
static void
gate_leave(int delta)
{
	pthread_mutex_lock(&gate_mu);
	gate_calls--;
	gate_msgs += (unsigned)delta;
	if (gate_state != GATE_OPEN && gate_calls == 0)
		pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* fm_mlfi_shutdown - drain the messages under way, close the gate */
int
fm_mlfi_shutdown(unsigned timeout_s)
{
	struct timespec until;
	int rc;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)timeout_s;
	pthread_mutex_lock(&gate_mu);
	gate_state = GATE_DRAINING;
	while ((gate_msgs > 0 || gate_calls > 0) &&
	       pthread_cond_timedwait(&gate_cv, &gate_mu, &until) == 0)
		;
	gate_state = GATE_CLOSED;	/* abandoned messages are deferred */
	rc = gate_calls == 0 ? 0 : -1;
	pthread_mutex_unlock(&gate_mu);
	return rc;
}

/*
 * closed_reply - the answer of a callback kept out of the gate: none
 * where the stage has no reply, else a temporary failure (the MTA retries)
 */
static sfsistat
closed_reply(SMFICTX *ctx, int noreply)
{
	if (noreply)
		return SMFIS_NOREPLY;
	smfi_setreply(ctx, "451", "4.3.2", SHUTDOWN_TEXT);
	return SMFIS_TEMPFAIL;
}

/* msg_end - a counted message of the connection ends: -1, else 0 */
static int
msg_end(SMFICTX *ctx)
{
	fm_conn_t *conn = conn_of(ctx);

	if (conn == NULL || !conn->msg_counted)
		return 0;
	conn->msg_counted = 0;
	return -1;
}

/*
 * GATED - a callback run inside the gate. STARTS: it begins a message;
 * CLOSED: the answer when kept out (conn is the connection state, or
 * NULL); BEFORE and AFTER: the change to the message count taken before
 * and after the callback runs.
 */
#define GATED(name, inner, starts, closed, before, after, params, args)	\
	static sfsistat name params					\
	{								\
		fm_conn_t *conn;					\
		sfsistat rc;						\
		int delta;						\
									\
		if (gate_enter(starts) < 0) {				\
			conn = conn_of(ctx);				\
			(void)conn;					\
			return closed;					\
		}							\
		delta = before;						\
		rc = inner args;					\
		delta += after;						\
		gate_leave(delta);					\
		return rc;						\
	}

/* envfrom_closed - MAIL while draining: defer the message */
static sfsistat
envfrom_closed(SMFICTX *ctx, fm_conn_t *conn)
{
	if (msg_end(ctx) < 0) {		/* the previous one had no end */
		pthread_mutex_lock(&gate_mu);
		gate_msgs--;
		pthread_cond_broadcast(&gate_cv);
		pthread_mutex_unlock(&gate_mu);
	}
	if (conn != NULL && conn->noreply_mail) {
		conn->mail_failed = SHUTDOWN_TEXT;	/* RCPT says it */
		return SMFIS_NOREPLY;
	}
	return closed_reply(ctx, 0);
}

/* envfrom_began - after MAIL: +1 if a message is now counted */
static int
envfrom_began(SMFICTX *ctx)
{
	fm_conn_t *conn = conn_of(ctx);

	if (conn == NULL || conn->msg_counted || conn->mail_failed != NULL)
		return 0;
	conn->msg_counted = 1;
	return 1;
}

GATED(gated_negotiate, mlfi_negotiate, 1, SMFIS_TEMPFAIL, 0, 0,
      (SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
       unsigned long f3, unsigned long *pf0, unsigned long *pf1,
       unsigned long *pf2, unsigned long *pf3),
      (ctx, f0, f1, f2, f3, pf0, pf1, pf2, pf3))
GATED(gated_connect, mlfi_connect, 1,
      closed_reply(ctx, conn != NULL && conn->noreply_conn), 0, 0,
      (SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr),
      (ctx, hostname, hostaddr))
GATED(gated_helo, mlfi_helo, 0,
      closed_reply(ctx, conn != NULL && conn->noreply_helo), 0, 0,
      (SMFICTX *ctx, char *helo), (ctx, helo))
/* a MAIL without an end of the previous message ends it first */
GATED(gated_envfrom, mlfi_envfrom, 1, envfrom_closed(ctx, conn),
      msg_end(ctx), envfrom_began(ctx),
      (SMFICTX *ctx, char **argv), (ctx, argv))
GATED(gated_envrcpt, mlfi_envrcpt, 0, closed_reply(ctx, 0), 0, 0,
      (SMFICTX *ctx, char **argv), (ctx, argv))
GATED(gated_header, mlfi_header, 0,
      closed_reply(ctx, conn != NULL && conn->noreply_hdr), 0, 0,
      (SMFICTX *ctx, char *name, char *value), (ctx, name, value))
GATED(gated_body, mlfi_body, 0,
      closed_reply(ctx, conn != NULL && conn->noreply_body), 0, 0,
      (SMFICTX *ctx, unsigned char *chunk, size_t len), (ctx, chunk, len))
GATED(gated_eom, mlfi_eom, 0, closed_reply(ctx, 0), msg_end(ctx), 0,
      (SMFICTX *ctx), (ctx))
/* once closed, the state is left to the exit: freeing an inbound
 * message's state needs the pipeline (its DKIM handle) */
GATED(gated_abort, mlfi_abort, 0, SMFIS_CONTINUE, msg_end(ctx), 0,
      (SMFICTX *ctx), (ctx))
GATED(gated_close, mlfi_close, 0, SMFIS_CONTINUE, msg_end(ctx), 0,
      (SMFICTX *ctx), (ctx))

static struct smfiDesc mlfi_desc = {
	.xxfi_name = "feedback-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_CHGFROM | SMFIF_CHGHDRS | SMFIF_ADDHDRS,
	.xxfi_connect = gated_connect,
	.xxfi_helo = gated_helo,
	.xxfi_envfrom = gated_envfrom,
	.xxfi_envrcpt = gated_envrcpt,
	.xxfi_header = gated_header,
	.xxfi_body = gated_body,
	.xxfi_eom = gated_eom,
	.xxfi_abort = gated_abort,
	.xxfi_close = gated_close,
	.xxfi_negotiate = gated_negotiate,
};

/* fm_mlfi_desc - the filter description */
struct smfiDesc *
fm_mlfi_desc(void)
{
	return &mlfi_desc;
}
