/*
 * context - per-connection and per-message state of the milter
 *
 * A connection pins a configuration snapshot; each new message (MAIL FROM)
 * pins the newest one, so a reload applies from the next message on while
 * a message in flight keeps the snapshot it started with. Pure: no
 * libmilter here; mlfi.c feeds it.
 */
#ifndef FM_CONTEXT_H
#define FM_CONTEXT_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

#define FM_HEADER_VALUE_MAX 998	/* longest header value kept */
#define FM_QID_MAX 64
#define FM_AR_OURS_MAX 32	/* forged Authentication-Results remembered */

typedef struct {
	char *sender;		/* envelope sender as passed (may be NULL) */
	int local_submission;	/* no angle brackets: the sendmail command */
	char *sasl_user;
	char **rcpts;
	size_t nrcpts;
	size_t rcpt_cap;
	char *msgid;
	char **ident_values;	/* parallel to cfg->ident_headers */
	unsigned *ident_counts;	/* occurrences of each identity header */
	char qid[FM_QID_MAX];
	int inbound;		/* a recipient at a feedback domain */
	int code_verified;	/* its code was good (else BadCodeAction accept) */
	char code[FM_CODE_LEN + 1];	/* the first feedback recipient's code */
	unsigned noutside;	/* recipients not at a feedback domain */
	int inbound_failed;	/* its copy could not be kept */
	char cut_header[64];	/* a kept header cut at FM_HEADER_VALUE_MAX */
	unsigned nar;		/* Authentication-Results fields seen */
	unsigned nar_ours;	/* ... of them claiming our authserv-id */
	unsigned short ar_ours[FM_AR_OURS_MAX];	/* their 1-based positions */
	unsigned nar_lost;	/* ... claiming it, beyond FM_AR_OURS_MAX */
} fm_msg_t;

typedef struct {
	fm_config_t *cfg;	/* pinned snapshot (a reference) */
	struct sockaddr_storage addr;
	int have_addr;
	char client[64];	/* printable client address */
	char helo[256];		/* HELO/EHLO argument, "" before it */
	int no_connect;		/* connect negotiated away: {client_addr} */
	int noreply_conn;	/* the MTA wants no reply to connect */
	int noreply_helo;	/* ... nor to HELO */
	int noreply_mail;	/* ... nor to MAIL */
	const char *mail_failed;	/* why MAIL was not taken: RCPT
					 * tempfails with it (NULL: taken) */
	int msg_counted;	/* counted by the shutdown gate (mlfi.c) */
	int noreply_hdr;	/* ... nor to each header */
	int noreply_body;	/* ... nor to each body chunk */
	int leadspc;		/* header values keep their leading space */
	struct fm_inmsg *inmsg;	/* inbound message state (mlfi owns it) */
	fm_msg_t msg;
} fm_conn_t;

/* fm_conn_new - empty connection state */
fm_conn_t *fm_conn_new(void);
/* fm_conn_set_client - the client's address (sa may be NULL) */
void fm_conn_set_client(fm_conn_t *conn, const struct sockaddr *sa);
/*
 * fm_conn_set_client_str - the client's address from a printable form
 * ("192.0.2.1", "2001:db8::1", "IPv6:2001:db8::1"); else "unknown"
 */
void fm_conn_set_client_str(fm_conn_t *conn, const char *addr);
void fm_conn_free(fm_conn_t *conn);

/*
 * fm_conn_begin_msg - start a message: pin cfg (takes the reference),
 * forget the previous message. daemon_port is the MTA's {daemon_port}
 * macro (or NULL): with the sender it tells a local submission (see
 * fm_local_submission). 0 or -1 when out of memory.
 */
int fm_conn_begin_msg(fm_conn_t *conn, fm_config_t *cfg, const char *sender,
		      const char *sasl_user, const char *daemon_port);

/*
 * fm_local_submission - was the message submitted on this host, through
 * Postfix's sendmail command (non_smtpd_milters)? Postfix's cleanup gives
 * such a sender without angle brackets and {daemon_port} "0". Its smtpd
 * gives the sender as the client wrote it, brackets or not, and the port
 * the client connected to: a remote client can leave the brackets out but
 * cannot make the port 0, so both must hold.
 */
int fm_local_submission(const char *sender, const char *daemon_port);
/* fm_conn_end_msg - forget the message (after EOM or abort) */
void fm_conn_end_msg(fm_conn_t *conn);

/* fm_msg_add_rcpt - add an envelope recipient (brackets stripped); 0/-1 */
int fm_msg_add_rcpt(fm_msg_t *msg, const char *rcpt);

/*
 * fm_conn_header - note a header: the first Message-ID and the first value
 * of each identity header are kept (values trimmed, unfolded and cut at
 * FM_HEADER_VALUE_MAX). 0, 1 when a kept value was cut, or -1 when out of
 * memory.
 */
int fm_conn_header(fm_conn_t *conn, const char *name, const char *value);

/* fm_conn_set_helo - remember the HELO argument (bounded, printable) */
void fm_conn_set_helo(fm_conn_t *conn, const char *helo);

/*
 * fm_msg_note_ar - an Authentication-Results field of the message: count
 * it, and remember its position when its authserv-id (the value's first
 * token) is authserv, case-insensitively (RFC 8601 section 5: such a
 * field is forged, and is removed before ours is added). Past
 * FM_AR_OURS_MAX such fields, or position 65535, it is counted in
 * nar_lost. Returns 1 for a field claiming authserv, else 0.
 */
int fm_msg_note_ar(fm_msg_t *msg, const char *value, const char *authserv);

/* fm_msg_set_qid - remember the queue id (ignores NULL and empty) */
void fm_msg_set_qid(fm_msg_t *msg, const char *qid);

#endif
