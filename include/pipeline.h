/*
 * pipeline - the inbound pipeline: authenticate, parse, classify, record
 *
 * One fm_pipeline_t per process holds what is expensive to build (the
 * resolver, the SPF server, the DKIM library, the parser's tables) and the
 * store. Each inbound message gets an fm_inmsg_t that is fed the headers
 * and body as the MTA passes them (kept up to MaxInboundSize for the
 * parser, all of it for DKIM), and finished at end-of-message with a
 * verdict: discard, accept (with an Authentication-Results value) or
 * tempfail (the events could not be recorded: the sender retries).
 */
#ifndef FM_PIPELINE_H
#define FM_PIPELINE_H

#include <stddef.h>

#include "config.h"
#include "context.h"
#include "store.h"

typedef struct fm_pipeline fm_pipeline_t;
typedef struct fm_inmsg fm_inmsg_t;

typedef enum {
	FM_INBOUND_DISCARD = 0,
	FM_INBOUND_ACCEPT,
	FM_INBOUND_TEMPFAIL,
} fm_inbound_action_t;

typedef struct {
	fm_inbound_action_t action;
	size_t nevents;		/* events recorded */
	int authenticated;	/* passed RequireAuthentication */
	char ar[4096];		/* Authentication-Results value (accept) */
} fm_inbound_result_t;

/* fm_pipeline_new - build the long-lived parts from the configuration */
fm_pipeline_t *fm_pipeline_new(const fm_config_t *cfg, fm_store_t *store,
			       char *err, size_t errlen);
void fm_pipeline_free(fm_pipeline_t *p);

/* fm_pipeline_authserv - the authserv-id of our Authentication-Results */
const char *fm_pipeline_authserv(const fm_pipeline_t *p,
				 const fm_config_t *cfg);

/* fm_inmsg_new - state for one inbound message */
fm_inmsg_t *fm_inmsg_new(fm_pipeline_t *p, const fm_config_t *cfg,
			 const char *qid, int leadspc);
/* fm_inmsg_header - one header as the MTA passed it; 0 or -1 */
int fm_inmsg_header(fm_inmsg_t *m, const char *name, const char *value);
/* fm_inmsg_body - a chunk of the body (CRLF line ends); 0 or -1 */
int fm_inmsg_body(fm_inmsg_t *m, const unsigned char *buf, size_t len);
/* fm_inmsg_finish - verify, parse, record and decide */
void fm_inmsg_finish(fm_inmsg_t *m, const fm_config_t *cfg,
		     const fm_conn_t *conn, fm_inbound_result_t *res);
void fm_inmsg_free(fm_inmsg_t *m);

#endif
