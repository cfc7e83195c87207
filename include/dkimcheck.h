/*
 * dkimcheck - DKIM verification (libopendkim) over the shared resolver
 *
 * One fm_dkim_lib_t per process (one DKIM_LIB); per message one fm_dkim_t
 * fed in the order of the milter phases:
 *
 *	lib = fm_dkim_lib_new(resolver, 0, err, sizeof(err));	(once)
 *	h = fm_dkim_new(lib, queue_id, 1);			(per message)
 *	fm_dkim_header(h, name, value);				(xxfi_header)
 *	fm_dkim_eoh(h);						(xxfi_eoh)
 *	fm_dkim_body(h, chunk, len);				(xxfi_body)
 *	fm_dkim_eom(h, &report);				(xxfi_eom)
 *	fm_dkim_free(h);					(xxfi_close)
 *
 * Header values are given as libmilter passes them; with SMFIP_HDR_LEADSPC
 * negotiated (leadspc = 1) the value keeps its original leading white space
 * and the header is rebuilt exactly as "Name:" + value; without it
 * (leadspc = 0) one space is put after the colon, which is exact for the
 * usual "Name: value" form and always right for relaxed canonicalization.
 * Folded lines may end in LF or CRLF. The body comes in chunks in SMTP
 * form (CRLF line ends), as the MTA sends it.
 *
 * Public keys are looked up through the resolver (TXT at
 * selector._domainkey.domain, the strings of a record joined), never with
 * libopendkim's own resolver.
 */
#ifndef FM_DKIMCHECK_H
#define FM_DKIMCHECK_H

#include <stddef.h>

#include "resolver.h"

typedef enum {
	FM_DKIM_NONE = 0,	/* no signature */
	FM_DKIM_PASS,
	FM_DKIM_FAIL,		/* signature or body hash does not verify */
	FM_DKIM_NEUTRAL,	/* signature not evaluated (e.g. over limit) */
	FM_DKIM_POLICY,		/* verifies, but not acceptable (key too small) */
	FM_DKIM_TEMPERROR,	/* key lookup failed temporarily */
	FM_DKIM_PERMERROR,	/* no key, bad key, bad signature syntax */
} fm_dkim_result_t;

#define FM_DKIM_MAX_SIGS 8	/* signatures evaluated per message */

typedef struct fm_dkim_sig {
	fm_dkim_result_t result;
	char domain[254];	/* d= */
	char selector[254];	/* s= */
	char identity[256];	/* i=, or "@" d= */
	unsigned keybits;	/* key size when the key was loaded, else 0 */
	char error[128];	/* why, when not pass */
} fm_dkim_sig_t;

typedef struct fm_dkim_report {
	fm_dkim_result_t summary;	/* pass if any passed, else the worst */
	size_t count;		/* signatures in sigs[] */
	size_t total;		/* DKIM-Signature fields seen */
	fm_dkim_sig_t sigs[FM_DKIM_MAX_SIGS];
	char error[128];	/* a message-level problem, or "" */
} fm_dkim_report_t;

typedef struct fm_dkim_lib fm_dkim_lib_t;
typedef struct fm_dkim fm_dkim_t;

/*
 * fm_dkim_lib_new - the DKIM library handle, built once. total_ms bounds the
 * DNS time of one message over all its key lookups (0: twice the resolver's
 * timeout). The resolver must outlive it.
 */
fm_dkim_lib_t *fm_dkim_lib_new(fm_resolver_t *resolver, unsigned total_ms,
			       char *err, size_t errlen);
void fm_dkim_lib_free(fm_dkim_lib_t *lib);

/* fm_dkim_new - a verification handle for one message; NULL on failure */
fm_dkim_t *fm_dkim_new(fm_dkim_lib_t *lib, const char *id, int leadspc);

/*
 * fm_dkim_header, fm_dkim_eoh, fm_dkim_body - feed the message. They return
 * 0, or -1 when the message cannot be verified any more (the reason goes to
 * the report); feeding may go on regardless, and fm_dkim_eom always gives a
 * report. Key lookups happen in fm_dkim_eoh.
 */
int fm_dkim_header(fm_dkim_t *h, const char *name, const char *value);
int fm_dkim_eoh(fm_dkim_t *h);
int fm_dkim_body(fm_dkim_t *h, const void *buf, size_t len);

/* fm_dkim_eom - finish and report every signature (up to the limit) */
void fm_dkim_eom(fm_dkim_t *h, fm_dkim_report_t *report);

void fm_dkim_free(fm_dkim_t *h);

/* fm_dkim_result_name - "pass", "fail", "neutral", "policy", ... */
const char *fm_dkim_result_name(fm_dkim_result_t result);

#endif
