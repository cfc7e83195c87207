/*
 * outbound - the outbound side of a message: trust, verdict, code and send
 * record, suppression check, and the rewrite log line
 *
 * Between the libmilter callbacks (mlfi.c) and the pure policy (rewrite.c):
 * it talks to the store and the log, never to libmilter.
 */
#ifndef FM_OUTBOUND_H
#define FM_OUTBOUND_H

#include "codec.h"
#include "context.h"
#include "rewrite.h"
#include "store.h"

typedef enum {
	FM_SUPP_NO = 0,		/* not suppressed: go on */
	FM_SUPP_YES,		/* suppressed: refuse (logged) */
	FM_SUPP_ERROR,		/* the store could not say: tempfail (logged) */
} fm_supp_verdict_t;

/* fm_outbound_trust - what is known of the client */
void fm_outbound_trust(const fm_conn_t *conn, fm_trust_t *trust);

/* fm_outbound_decide - the rewrite verdict for the current message */
fm_rewrite_t fm_outbound_decide(const fm_conn_t *conn,
				const fm_domain_t **dom);

/* fm_outbound_suppressed - RejectSuppressed's check of one recipient */
fm_supp_verdict_t fm_outbound_suppressed(fm_store_t *store,
					 const fm_conn_t *conn,
					 const char *rcpt);

/*
 * fm_outbound_record - make a code and commit its send record (a taken
 * code is replaced by a new one); 0, or -1 after logging why
 */
int fm_outbound_record(fm_store_t *store, const fm_conn_t *conn,
		       const fm_domain_t *dom, const char *sender,
		       char code[FM_CODE_LEN + 1]);

/* fm_outbound_log - the one log line of a rewrite */
void fm_outbound_log(const fm_conn_t *conn, const char *code,
		     const char *sender, const char *newaddr);

#endif
