/*
 * fuzz_milter - libFuzzer target for the milter callbacks (mlfi.c)
 *
 * mlfi.c is linked without libmilter: this file defines the smfi_*
 * functions it calls, over a fake SMFICTX that holds the private pointer
 * and the macros. The environment is real: an fm_store_t on a scratch
 * file (in FUZZ_MILTER_DIR, else /dev/shm; a crash leaves it behind), an fm_pipeline_t, and two configurations with a fixed keyring.
 * DNS goes to a static zone: link with -Wl,--wrap=fm_resolver_new and
 * __wrap_fm_resolver_new below answers for the pipeline's resolver (without
 * the wrap, Nameservers 127.0.0.1@1 keeps the queries on the host).
 *
 * The input is a header and a list of operations:
 *
 *	octet 0		negotiation: bit 0 clear = the MTA offers CHGFROM,
 *			bits 1-7 and octet 1 the protocol steps offered
 *	octet 2		client: bits 0-1 IPv4 127.0.0.1 / IPv4 from the
 *			next 4 octets / ::1 / none; bit 2 the second config;
 *			bit 3, in the header of a new connection (op 10):
 *			the MTA reuses the connection (SMFIC_QUIT_NC), no
 *			new negotiation
 *	then		OP LEN ARG...: OP picks a callback (see milter_op),
 *			LEN is one octet (two, big-endian, for a body chunk)
 *
 * FUZZ_SKIP_KNOWN in the environment steps around bugs already found
 * (kept in regress/milter/) so that a run can get past them.
 *
 * Callbacks are called only in an order libmilter can produce (MAIL
 * after connect, RCPT after MAIL, headers, body and EOM after RCPT); close
 * and the once-a-second timer end every input. Keep the operation codes
 * stable: the inputs in regress/milter/ are written in them. Build and run with tests/fuzz/run.sh; a crash input
 * goes into tests/fuzz/regress/milter/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "codec.h"
#include "config.h"
#include "eventlog.h"
#include "mlfi.h"
#include "pipeline.h"
#include "resolver.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
fm_resolver_t *__wrap_fm_resolver_new(const char *nameservers,
				      unsigned timeout_ms, char *err,
				      size_t errlen);

#define MILTER_KEYS \
	"1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n" \
	"2 f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100\n"

#define MILTER_CONF_COMMON \
	"SenderDomain example.nl\n" \
	"SenderDomain shop.example bounces.shop.example\n" \
	"TrustedClients 127.0.0.0/8 ::1/128\n" \
	"IdentityHeaders X-Campaign-ID X-Profile-ID\n" \
	"Nameservers 127.0.0.1@1\n" \
	"DnsTimeout 1s\n" \
	"AuthservID mx.example.nl\n" \
	"MaxInboundSize 64K\n"

static const char *const milter_conf[2] = {
	MILTER_CONF_COMMON,
	MILTER_CONF_COMMON
	"StripIdentityHeaders yes\n"
	"BadCodeAction accept\n"
	"InboundAction accept\n"
	"RequireAuthentication any\n"
	"RejectSuppressed yes\n"
	"CodeLifetime 2d\n",
};

/* The zone the pipeline's resolver answers from. */
static const char milter_zone[] =
	"example.nl TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
	"mx.example.org A 192.0.2.25\n"
	"example.org TXT \"v=spf1 a:mx.example.org ~all\"\n"
	"example.org MX 10 mx.example.org\n"
	"temp.example TEMPFAIL\n"
	"perm.example PERMFAIL\n"
	"_dmarc.example.org TXT \"v=DMARC1; p=none\"\n";

static int milter_skip_known;	/* FUZZ_SKIP_KNOWN: step around findings */

/* The fake libmilter context. */
struct smfi_str {
	void *priv;
	char qid[64];
	char auth[64];
	char client_addr[64];	/* {client_addr}, when connect is skipped */
	const char *daemon_port;	/* {daemon_port}: "0" is cleanup */
	int have_qid, have_auth, have_client_addr;
	int negotiated;		/* milter_open negotiated on this connection */
	unsigned long pf1;	/* the protocol steps it negotiated */
};

static fm_store_t *milter_store;
static fm_pipeline_t *milter_pipeline;
static fm_config_t *milter_cfg[2];
static fm_config_t *milter_current;
static char milter_db[256];

/* __wrap_fm_resolver_new - the pipeline's resolver: the static zone */
fm_resolver_t *__wrap_fm_resolver_new(const char *nameservers,
				      unsigned timeout_ms, char *err,
				      size_t errlen)
{
	(void)nameservers;
	(void)timeout_ms;
	return fm_resolver_new_static(milter_zone, err, errlen);
}

/*
 * milter_text_ok - no CR, and LF only as folding (libmilter: "the line
 * feed should not be preceded by a carriage return"); FUZZ_SKIP_KNOWN
 * lets CRLF folding pass (finding 2)
 */
static int milter_text_ok(const char *s)
{
	for (; *s; s++) {
		if (*s == '\r' && milter_skip_known && s[1] == '\n')
			continue;
		if (*s == '\r' || (*s == '\n' && s[1] != ' ' && s[1] != '\t'))
			return 0;
	}
	return 1;
}

/* smfi_getpriv - fake: the private pointer */
void *smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

/* smfi_setpriv - fake: set the private pointer */
int smfi_setpriv(SMFICTX *ctx, void *priv)
{
	ctx->priv = priv;
	return MI_SUCCESS;
}

/*
 * smfi_getsymval - fake: "i", "{auth_authen}", "{daemon_port}" and
 * "{client_addr}"
 */
char *smfi_getsymval(SMFICTX *ctx, char *name)
{
	if (strcmp(name, "i") == 0)
		return ctx->have_qid ? ctx->qid : NULL;
	if (strcmp(name, "{auth_authen}") == 0)
		return ctx->have_auth ? ctx->auth : NULL;
	if (strcmp(name, "{client_addr}") == 0)
		return ctx->have_client_addr ? ctx->client_addr : NULL;
	if (strcmp(name, "{daemon_port}") == 0)
		return (char *)ctx->daemon_port;
	abort();	/* a macro the negotiation did not ask for */
}

/* smfi_setreply - fake: check what libmilter would refuse */
int smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
	(void)ctx;
	if (rcode == NULL || strlen(rcode) != 3 ||
	    (rcode[0] != '4' && rcode[0] != '5') ||
	    (xcode != NULL && xcode[0] != rcode[0]) ||
	    (message != NULL && !milter_text_ok(message)))
		abort();
	return MI_SUCCESS;
}

/* smfi_chgfrom - fake: the new sender must be one clean address */
int smfi_chgfrom(SMFICTX *ctx, char *mail, char *args)
{
	(void)ctx;
	(void)args;
	if (mail == NULL || mail[0] == '\0' || strpbrk(mail, "\r\n ") != NULL)
		abort();
	return MI_SUCCESS;
}

/* smfi_chgheader - fake: a name and an index from 1 */
int smfi_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	(void)ctx;
	if (name == NULL || name[0] == '\0' || idx < 1 ||
	    (value != NULL && !milter_text_ok(value)))
		abort();
	return MI_SUCCESS;
}

/* smfi_insheader - fake: the value must not break the header block */
int smfi_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
	(void)ctx;
	if (idx < 0 || name == NULL || name[0] == '\0' || value == NULL ||
	    !milter_text_ok(value)) {
		fprintf(stderr, "smfi_insheader: bad header %s: \"%s\"\n",
			name ? name : "(null)", value ? value : "(null)");
		abort();
	}
	return MI_SUCCESS;
}

/* smfi_setsymlist - fake: accepted */
int smfi_setsymlist(SMFICTX *ctx, int where, char *macros)
{
	(void)ctx;
	(void)where;
	(void)macros;
	return MI_SUCCESS;
}

/* milter_get_config - the configuration of this input, referenced */
static fm_config_t *milter_get_config(void)
{
	return fm_config_ref(milter_current);
}

/* milter_cleanup - remove the scratch database */
static void milter_cleanup(void)
{
	char p[300];

	if (milter_db[0] == '\0')
		return;
	unlink(milter_db);
	snprintf(p, sizeof(p), "%s-wal", milter_db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", milter_db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", milter_db);
	unlink(p);
}

/* milter_setup - store, configurations and pipeline, once */
static void milter_setup(void)
{
	const char *dir = getenv("FUZZ_MILTER_DIR") ? getenv("FUZZ_MILTER_DIR") :
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char err[512];
	int i, fd;

	milter_skip_known = getenv("FUZZ_SKIP_KNOWN") != NULL;
	fm_log_set_level(getenv("FUZZ_MILTER_LOG") ? LOG_DEBUG : LOG_EMERG);
	snprintf(milter_db, sizeof(milter_db), "%s/fuzz_milter.XXXXXX", dir);
	if ((fd = mkstemp(milter_db)) < 0)
		abort();
	close(fd);
	unlink(milter_db);
	atexit(milter_cleanup);
	for (i = 0; i < 2; i++) {
		if ((milter_cfg[i] = fm_config_parse(milter_conf[i], "fuzz.conf",
						     err, sizeof(err))) == NULL ||
		    (milter_cfg[i]->keys = fm_keyring_parse(MILTER_KEYS,
				"fuzz.keys", err, sizeof(err))) == NULL) {
			fprintf(stderr, "fuzz_milter: %s\n", err);
			abort();
		}
	}
	if ((milter_store = fm_store_open(milter_db, 0, 5000, err,
					  sizeof(err))) == NULL ||
	    (milter_pipeline = fm_pipeline_new(milter_cfg[0], milter_store,
					       err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_milter: %s\n", err);
		abort();
	}
	fm_store_set_rules(milter_store, &milter_cfg[1]->rules);
	fm_mlfi_init(milter_store, milter_pipeline, milter_get_config);
}

/* The reader over the input. */
typedef struct {
	const uint8_t *p;
	size_t n;
} milter_in_t;

/* milter_octet - the next octet, 0 at the end */
static unsigned milter_octet(milter_in_t *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* milter_arg - a counted argument as a new NUL-terminated string */
static char *milter_arg(milter_in_t *in, int wide, size_t *len)
{
	size_t n = milter_octet(in);
	char *s;

	if (wide)
		n = n << 8 | milter_octet(in);
	if (n > in->n)
		n = in->n;
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, in->p, n);
	s[n] = '\0';
	in->p += n;
	in->n -= n;
	if (len != NULL)
		*len = n;
	return s;
}

/* milter_set - copy a macro value (cut at its NUL or size) */
static void milter_set(char *dst, size_t size, const char *src, int *have)
{
	snprintf(dst, size, "%s", src);
	*have = src[0] != '\0';
}

/* The connection as libmilter sees it. */
enum { ST_NONE, ST_CONN, ST_MAIL, ST_RCPT };

/* milter_open - negotiate and connect; the state it leaves */
static int milter_open(struct smfiDesc *d, SMFICTX *ctx, milter_in_t *in)
{
	unsigned a = milter_octet(in), b = milter_octet(in), c;
	unsigned long f0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM, f1;
	unsigned long p0 = 0, p1 = 0, p2 = 0, p3 = 0;
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	_SOCK_ADDR *sa = NULL;
	char host[] = "client.example.org";

	c = milter_octet(in);
	milter_current = milter_cfg[c >> 2 & 1];
	/* smtpd (port 25), cleanup (port 0: local submission) or unset */
	ctx->daemon_port = (c & 0xc0) == 0x40 ? "0" : (c & 0xc0) == 0x80 ?
		NULL : "25";
	if (a & 1)
		f0 &= ~(unsigned long)SMFIF_CHGFROM;
	f1 = (unsigned long)(a >> 1 | b << 7) * 0x101u;
	if ((c & 8) && ctx->negotiated) {
		/* SMFIC_QUIT_NC: the same connection, no new negotiation */
		p1 = ctx->pf1;
	} else {
		if (d->xxfi_negotiate(ctx, f0, f1, 0, 0, &p0, &p1, &p2,
				      &p3) != SMFIS_CONTINUE)
			return ST_NONE;
		ctx->negotiated = 1;
		ctx->pf1 = p1;
	}
	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	switch (c & 3) {
	case 0:
		a4.sin_family = AF_INET;
		a4.sin_addr.s_addr = htonl(0x7f000001);
		sa = (_SOCK_ADDR *)&a4;
		break;
	case 1:
		a4.sin_family = AF_INET;
		a4.sin_addr.s_addr = htonl((uint32_t)milter_octet(in) << 24 |
					   (uint32_t)milter_octet(in) << 16 |
					   (uint32_t)milter_octet(in) << 8 |
					   milter_octet(in));
		sa = (_SOCK_ADDR *)&a4;
		break;
	case 2:
		a6.sin6_family = AF_INET6;
		a6.sin6_addr.s6_addr[15] = 1;
		sa = (_SOCK_ADDR *)&a6;
		break;
	}
	/* connect negotiated away: the address comes as {client_addr} */
	if (p1 & SMFIP_NOCONNECT) {
		ctx->have_client_addr = sa != NULL || (c & 0x10);
		if (sa == NULL)
			snprintf(ctx->client_addr, sizeof(ctx->client_addr),
				 "%s", (c & 0x20) ? "IPv6:garbage" : "");
		else if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &a4.sin_addr, ctx->client_addr,
				  sizeof(ctx->client_addr));
		else
			snprintf(ctx->client_addr, sizeof(ctx->client_addr),
				 "IPv6:%s", "::1");
		return ST_CONN;
	}
	switch (d->xxfi_connect(ctx, host, sa)) {
	case SMFIS_CONTINUE:
	case SMFIS_NOREPLY:
		return ST_CONN;
	default:
		return ST_NONE;
	}
}

/* milter_code_rcpt - a recipient with a code that verifies (or nearly) */
static char *milter_code_rcpt(milter_in_t *in)
{
	static const char *const doms[2] = {
		"feedback.example.nl", "bounces.shop.example"
	};
	unsigned sel = milter_octet(in);
	uint64_t rid = (uint64_t)milter_octet(in) << 24 |
	    (uint64_t)milter_octet(in) << 16 | milter_octet(in) << 8 |
	    milter_octet(in);
	char code[FM_CODE_LEN + 1], *s;
	time_t t = time(NULL) - (time_t)(sel >> 2 & 0x3f) * 86400;

	if (fm_code_encode(milter_cfg[0]->keys, doms[sel & 1], t, rid,
			   code) != 0)
		abort();
	if (sel & 2)
		code[sel % FM_CODE_LEN] ^= 0x20;	/* case, or damage */
	if ((s = malloc(80)) == NULL)
		abort();
	snprintf(s, 80, sel & 0x80 ? "%s@%s" : "<%s@%s>", code,
		 doms[(sel >> 6) & 1]);
	return s;
}

/* milter_op - run one operation; the new state */
static int milter_op(struct smfiDesc *d, SMFICTX *ctx, milter_in_t *in,
		     int st)
{
	unsigned op = milter_octet(in) % 12;
	char *arg = NULL, *argv[2] = { NULL, NULL }, *colon;
	size_t len;
	sfsistat r;

	switch (op) {
	case 0:		/* HELO */
		arg = milter_arg(in, 0, NULL);
		if (st >= ST_CONN)
			d->xxfi_helo(ctx, arg);
		break;
	case 1:		/* MAIL */
		arg = milter_arg(in, 0, NULL);
		if (st < ST_CONN)
			break;
		argv[0] = arg;
		r = d->xxfi_envfrom(ctx, argv);
		st = r == SMFIS_CONTINUE || r == SMFIS_NOREPLY ? ST_MAIL : ST_CONN;
		break;
	case 2:		/* RCPT */
	case 3:		/* RCPT with a code */
		arg = op == 2 ? milter_arg(in, 0, NULL) : milter_code_rcpt(in);
		if (st < ST_MAIL)
			break;
		argv[0] = arg;
		r = d->xxfi_envrcpt(ctx, argv);
		if (r == SMFIS_CONTINUE)
			st = ST_RCPT;
		else if (r != SMFIS_REJECT && r != SMFIS_TEMPFAIL)
			st = ST_CONN;	/* the message is over */
		break;
	case 4:		/* header "name:value" */
		arg = milter_arg(in, 0, NULL);
		if (st < ST_RCPT)
			break;
		if ((colon = strchr(arg, ':')) != NULL)
			*colon++ = '\0';
		if (arg[0] == '\0' && milter_skip_known)
			break;	/* finding 1: empty header name */
		r = d->xxfi_header(ctx, arg, colon ? colon : "");
		if (r != SMFIS_CONTINUE && r != SMFIS_NOREPLY)
			st = ST_CONN;
		break;
	case 5:		/* body chunk */
		arg = milter_arg(in, 1, &len);
		if (st < ST_RCPT || len == 0)
			break;
		r = d->xxfi_body(ctx, (unsigned char *)arg, len);
		if (r != SMFIS_CONTINUE && r != SMFIS_NOREPLY &&
		    r != SMFIS_SKIP)
			st = ST_CONN;
		break;
	case 6:		/* end of message */
		if (st < ST_RCPT)
			break;
		d->xxfi_eom(ctx);
		st = ST_CONN;
		break;
	case 7:		/* abort */
		if (st < ST_CONN)
			break;
		d->xxfi_abort(ctx);
		st = ST_CONN;
		break;
	case 8:		/* macro i */
		arg = milter_arg(in, 0, NULL);
		milter_set(ctx->qid, sizeof(ctx->qid), arg, &ctx->have_qid);
		break;
	case 9:		/* macro {auth_authen} */
		arg = milter_arg(in, 0, NULL);
		milter_set(ctx->auth, sizeof(ctx->auth), arg, &ctx->have_auth);
		break;
	case 10:	/* close, and a new connection */
		d->xxfi_close(ctx);
		if (ctx->priv != NULL)
			abort();	/* close must drop the state */
		st = milter_open(d, ctx, in);
		break;
	case 11:	/* a header the parser cares for, fixed name */
		arg = milter_arg(in, 0, NULL);
		if (st < ST_RCPT)
			break;
		{
			static char *const names[4] = {
				"Content-Type", "Subject", "From", "X-Campaign-ID"
			};
			char *v = arg[0] ? arg + 1 : arg;

			r = d->xxfi_header(ctx, names[(unsigned char)arg[0] & 3], v);
			if (r != SMFIS_CONTINUE && r != SMFIS_NOREPLY)
				st = ST_CONN;
		}
		break;
	}
	free(arg);
	return st;
}

/* LLVMFuzzerTestOneInput - one connection's life */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct smfiDesc *d;
	SMFICTX ctx;
	milter_in_t in = { data, size };
	int st;

	if (!ready) {
		milter_setup();
		ready = 1;
	}
	d = fm_mlfi_desc();
	memset(&ctx, 0, sizeof(ctx));
	st = milter_open(d, &ctx, &in);
	while (in.n > 0)
		st = milter_op(d, &ctx, &in, st);
	d->xxfi_close(&ctx);
	if (ctx.priv != NULL)
		abort();
	fm_mlfi_tick(time(NULL) + 3600);	/* flush the log summaries */
	return 0;
}
