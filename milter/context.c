/*
 * context - per-connection and per-message state of the milter
 *
 * Everything a message needs at end-of-message is collected here as the
 * callbacks arrive: the envelope, the Message-ID, the identity headers and
 * the queue id. Copies are bounded; nothing here talks to libmilter.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "context.h"
#include "rewrite.h"

/* fm_conn_new - empty connection state */
fm_conn_t *
fm_conn_new(void)
{
	fm_conn_t *conn = calloc(1, sizeof(*conn));

	if (conn != NULL)
		strcpy(conn->client, "unknown");
	return conn;
}

/* fm_conn_set_client - remember the client's address */
void
fm_conn_set_client(fm_conn_t *conn, const struct sockaddr *sa)
{
	conn->have_addr = 0;
	strcpy(conn->client, "unknown");
	if (sa != NULL && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		size_t len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						      : sizeof(struct sockaddr_in6);
		const void *a = sa->sa_family == AF_INET
			? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
			: (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		memcpy(&conn->addr, sa, len);
		conn->have_addr = 1;
		if (inet_ntop(sa->sa_family, a, conn->client,
			      sizeof(conn->client)) == NULL)
			strcpy(conn->client, "unknown");
	}
}

/*
 * fm_conn_set_client_str - the client's address from the MTA's
 * {client_addr} macro: dotted quad, or IPv6 with or without Postfix's
 * "IPv6:" prefix. Anything else (NULL, "", a name) leaves "unknown".
 */
void
fm_conn_set_client_str(fm_conn_t *conn, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;

	int v6tag = addr != NULL && strncasecmp(addr, "IPv6:", 5) == 0;

	memset(&ss, 0, sizeof(ss));
	if (v6tag)
		addr += 5;
	if (addr != NULL && !v6tag &&
	    inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (addr != NULL && inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	fm_conn_set_client(conn, ss.ss_family != 0 ?
			   (const struct sockaddr *)(const void *)&ss : NULL);
}

/* msg_clear - free a message's state */
static void
msg_clear(fm_msg_t *msg, size_t nident)
{
	size_t i;

	free(msg->sender);
	free(msg->sasl_user);
	for (i = 0; i < msg->nrcpts; i++)
		free(msg->rcpts[i]);
	free(msg->rcpts);
	free(msg->msgid);
	if (msg->ident_values != NULL)
		for (i = 0; i < nident; i++)
			free(msg->ident_values[i]);
	free(msg->ident_values);
	free(msg->ident_counts);
	memset(msg, 0, sizeof(*msg));
}

/* fm_conn_end_msg - forget the message and its snapshot */
void
fm_conn_end_msg(fm_conn_t *conn)
{
	msg_clear(&conn->msg, conn->cfg ? conn->cfg->nident_headers : 0);
}

/* fm_conn_free - release everything */
void
fm_conn_free(fm_conn_t *conn)
{
	if (conn == NULL)
		return;
	fm_conn_end_msg(conn);
	fm_config_unref(conn->cfg);
	free(conn);
}

/* fm_local_submission - the sendmail command, not an SMTP client */
int
fm_local_submission(const char *sender, const char *daemon_port)
{
	const char *s;

	if (sender == NULL || daemon_port == NULL ||
	    strcmp(daemon_port, "0") != 0)
		return 0;
	for (s = sender; isspace((unsigned char)*s); s++)
		;
	return *s != '<';
}

/* fm_conn_begin_msg - start a message with the newest snapshot */
int
fm_conn_begin_msg(fm_conn_t *conn, fm_config_t *cfg, const char *sender,
		  const char *sasl_user, const char *daemon_port)
{
	fm_conn_end_msg(conn);
	fm_config_unref(conn->cfg);
	conn->cfg = cfg;
	if (sender != NULL) {
		conn->msg.local_submission = fm_local_submission(sender,
								 daemon_port);
		if ((conn->msg.sender = strdup(sender)) == NULL)
			return -1;
	}
	if (sasl_user != NULL && *sasl_user != '\0' &&
	    (conn->msg.sasl_user = strndup(sasl_user, FM_ADDR_MAX)) == NULL)
		return -1;
	if (cfg->nident_headers > 0 &&
	    ((conn->msg.ident_values = calloc(cfg->nident_headers,
					      sizeof(char *))) == NULL ||
	     (conn->msg.ident_counts = calloc(cfg->nident_headers,
					      sizeof(unsigned))) == NULL))
		return -1;
	return 0;
}

/* fm_msg_add_rcpt - add an envelope recipient */
int
fm_msg_add_rcpt(fm_msg_t *msg, const char *rcpt)
{
	char addr[FM_ADDR_MAX];
	int bracketed;

	if (rcpt == NULL || fm_addr_strip(rcpt, addr, sizeof(addr), &bracketed) < 0)
		return -1;
	if (msg->nrcpts == msg->rcpt_cap) {
		size_t cap = msg->rcpt_cap ? msg->rcpt_cap * 2 : 4;
		char **grown = realloc(msg->rcpts, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		msg->rcpts = grown;
		msg->rcpt_cap = cap;
	}
	if ((msg->rcpts[msg->nrcpts] = strdup(addr)) == NULL)
		return -1;
	msg->nrcpts++;
	return 0;
}

/* header_copy - trimmed, unfolded, bounded copy of a header value */
static char *
header_copy(const char *value, int *cut)
{
	char *out = malloc(FM_HEADER_VALUE_MAX + 1);
	size_t len = 0;
	const char *p;

	if (out == NULL)
		return NULL;
	/* leading white space (and folding) does not count towards the bound */
	for (p = value; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
		;
	for (; *p && len < FM_HEADER_VALUE_MAX; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (*p == '\t')
			out[len++] = ' ';
		else
			out[len++] = *p;
	}
	/* cut: more than white space was left over */
	for (; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
		;
	*cut = *p != '\0';
	while (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
	for (p = out; *p == ' '; p++)
		;
	memmove(out, p, strlen(p) + 1);
	return out;
}

/* fm_conn_header - keep Message-ID and identity header values */
int
fm_conn_header(fm_conn_t *conn, const char *name, const char *value)
{
	fm_msg_t *msg = &conn->msg;
	size_t i;
	int cut = 0;

	if (name == NULL || value == NULL || conn->cfg == NULL)
		return 0;
	if (msg->msgid == NULL && strcasecmp(name, "Message-ID") == 0)
		return (msg->msgid = header_copy(value, &cut)) ? cut : -1;
	if (msg->ident_values == NULL)
		return 0;
	for (i = 0; i < conn->cfg->nident_headers; i++) {
		if (strcasecmp(name, conn->cfg->ident_headers[i]) != 0)
			continue;
		msg->ident_counts[i]++;
		if (msg->ident_values[i] == NULL)
			return (msg->ident_values[i] = header_copy(value, &cut)) ?
				cut : -1;
	}
	return 0;
}

/* fm_msg_note_ar - see context.h */
int
fm_msg_note_ar(fm_msg_t *msg, const char *value, const char *authserv)
{
	size_t n;

	msg->nar++;
	if (value == NULL || authserv == NULL || *authserv == '\0')
		return 0;
	value += strspn(value, " \t\r\n");
	n = strcspn(value, " \t\r\n;(");
	if (n != strlen(authserv) || strncasecmp(value, authserv, n) != 0)
		return 0;
	if (msg->nar_ours < FM_AR_OURS_MAX && msg->nar <= 0xffff)
		msg->ar_ours[msg->nar_ours++] = (unsigned short)msg->nar;
	else
		msg->nar_lost++;
	return 1;
}

/* fm_msg_set_qid - remember the queue id */
void
fm_msg_set_qid(fm_msg_t *msg, const char *qid)
{
	size_t len;

	if (qid == NULL || *qid == '\0')
		return;
	len = strlen(qid);
	if (len >= sizeof(msg->qid))
		len = sizeof(msg->qid) - 1;
	memcpy(msg->qid, qid, len);
	msg->qid[len] = '\0';
}

/* fm_conn_set_helo - remember the HELO argument */
void
fm_conn_set_helo(fm_conn_t *conn, const char *helo)
{
	size_t n = 0;

	for (; helo != NULL && *helo && n + 1 < sizeof(conn->helo); helo++)
		if ((unsigned char)*helo > 0x20 && (unsigned char)*helo < 0x7f)
			conn->helo[n++] = *helo;
	conn->helo[n] = '\0';
}
