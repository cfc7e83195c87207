/*
 * outbound - the outbound side of a message, between the callbacks and
 * the pure policy: who the client is, whether the message is rewritten,
 * its code and send record, the suppression check at RCPT, and the one
 * log line of a rewrite. No libmilter here: mlfi.c maps the results to
 * replies.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "eventlog.h"
#include "outbound.h"

#define DUP_RETRIES 8

/* fm_outbound_trust - what is known of the client */
void
fm_outbound_trust(const fm_conn_t *conn, fm_trust_t *trust)
{
	trust->addr_trusted = conn->have_addr &&
		fm_config_trusted_addr(conn->cfg,
				       (const struct sockaddr *)&conn->addr);
	trust->authenticated = conn->msg.sasl_user != NULL;
	trust->local_submission = conn->msg.local_submission;
}

/* fm_outbound_decide - the rewrite verdict for the current message */
fm_rewrite_t
fm_outbound_decide(const fm_conn_t *conn, const fm_domain_t **dom)
{
	fm_trust_t trust;

	fm_outbound_trust(conn, &trust);
	return fm_rewrite_decide(conn->cfg, conn->msg.sender, &trust, dom);
}

/* fm_outbound_suppressed - is this recipient suppressed (logs a refusal) */
fm_supp_verdict_t
fm_outbound_suppressed(fm_store_t *store, const fm_conn_t *conn,
		       const char *rcpt)
{
	const char *qid = conn->msg.qid[0] ? conn->msg.qid : NULL;
	char addr[FM_ADDR_MAX], err[512], line[1024], msg[1024];
	fm_suppression_t sup;
	void *mem = NULL;
	int bracketed;
	fm_kv_t kv;

	if (fm_addr_strip(rcpt, addr, sizeof(addr), &bracketed) < 0 ||
	    addr[0] == '\0')
		return FM_SUPP_NO;
	switch (fm_store_is_suppressed(store, addr, time(NULL), &sup, &mem, err,
				       sizeof(err))) {
	case FM_STORE_NOTFOUND:
		return FM_SUPP_NO;
	case FM_STORE_OK:
		fm_kv_init(&kv, line, sizeof(line));
		fm_kv_word(&kv, "suppressed");
		fm_kv_addr(&kv, "rcpt", addr);
		fm_kv_addr(&kv, "sender", conn->msg.sender ? conn->msg.sender : "");
		fm_kv_str(&kv, "reason", sup.reason ? sup.reason : "");
		fm_kv_str(&kv, "client", conn->client);
		fm_log(LOG_NOTICE, qid, "%s", line);
		fm_suppression_free(mem);
		return FM_SUPP_YES;
	default:
		snprintf(line, sizeof(line), "suppression lookup: %s", err);
		fm_kv_init(&kv, msg, sizeof(msg));
		fm_kv_word(&kv, "tempfail");
		fm_kv_str(&kv, "reason", "store");
		fm_kv_addr(&kv, "rcpt", addr);
		fm_kv_str(&kv, "error", line);
		fm_log(LOG_ERR, qid, "%s", msg);
		return FM_SUPP_ERROR;
	}
}

/* fm_outbound_log - the one event line of a rewrite */
void
fm_outbound_log(const fm_conn_t *conn, const char *code, const char *sender,
	    const char *newaddr)
{
	const fm_config_t *cfg = conn->cfg;
	const fm_msg_t *msg = &conn->msg;
	char line[2048], key[96];
	fm_kv_t kv;
	size_t i;

	fm_kv_init(&kv, line, sizeof(line));
	fm_kv_word(&kv, "rewrite");
	fm_kv_str(&kv, "code", code);
	fm_kv_addr(&kv, "sender", sender);
	fm_kv_str(&kv, "feedback", newaddr);
	fm_kv_num(&kv, "nrcpt", (long long)msg->nrcpts);
	if (msg->msgid != NULL)
		fm_kv_str(&kv, "msgid", msg->msgid);
	fm_kv_str(&kv, "client", conn->client);
	if (msg->sasl_user != NULL)
		fm_kv_str(&kv, "sasl", msg->sasl_user);
	if (msg->local_submission)
		fm_kv_str(&kv, "submission", "local");
	for (i = 0; i < cfg->nident_headers; i++)
		if (msg->ident_values[i] != NULL) {
			snprintf(key, sizeof(key), "ident.%s",
				 cfg->ident_headers[i]);
			fm_kv_str(&kv, key, msg->ident_values[i]);
		}
	fm_log(LOG_INFO, msg->qid, "%s", line);
}

/* fm_outbound_record - make a code and commit its send record; 0 or -1 */
int
fm_outbound_record(fm_store_t *store, const fm_conn_t *conn, const fm_domain_t *dom,
	    const char *sender, char code[FM_CODE_LEN + 1])
{
	const fm_config_t *cfg = conn->cfg;
	const fm_msg_t *msg = &conn->msg;
	fm_store_status_t st = FM_STORE_ERR;
	char err[512] = "", line[1024];
	fm_send_t send;
	fm_kv_t kv;
	int tries;

	memset(&send, 0, sizeof(send));
	send.feedback_domain = dom->feedback;
	send.created = time(NULL);
	send.sender = sender;
	send.msgid = msg->msgid;
	send.queue_id = msg->qid[0] ? msg->qid : NULL;
	send.client_addr = conn->have_addr ? conn->client : NULL;
	send.sasl_user = msg->sasl_user;
	send.rcpts = (const char *const *)msg->rcpts;
	send.nrcpts = msg->nrcpts;
	send.ident_names = (const char *const *)cfg->ident_headers;
	send.ident_values = (const char *const *)msg->ident_values;
	send.nidents = msg->ident_values ? cfg->nident_headers : 0;
	for (tries = 0; tries < DUP_RETRIES; tries++) {
		if (fm_code_encode(cfg->keys, dom->feedback, send.created,
				   fm_code_random_id(), code) < 0) {
			snprintf(err, sizeof(err), "cannot make a code");
			break;
		}
		send.code = code;
		if ((st = fm_store_add_send(store, &send, err,
					    sizeof(err))) != FM_STORE_DUP)
			break;
	}
	if (st == FM_STORE_OK)
		return 0;
	fm_kv_init(&kv, line, sizeof(line));
	fm_kv_word(&kv, "tempfail");
	fm_kv_str(&kv, "reason", "store");
	fm_kv_addr(&kv, "sender", sender);
	fm_kv_str(&kv, "error", st == FM_STORE_DUP ? "no free code" : err);
	fm_log(LOG_ERR, msg->qid[0] ? msg->qid : NULL, "%s", line);
	return -1;
}
