/*
 * refmilter.c - the reference milter of tests/bench/milter-throughput.sh:
 * the least a milter that rewrites the envelope sender can do. It calls
 * smfi_chgfrom at end-of-message and negotiates every other step away
 * (SMFIP_NO* for the steps it does not need, SMFIP_NR_* where a step must
 * stay but needs no reply), so each message costs the MTA only MAIL, EOM
 * and their replies.
 *
 *   refmilter SOCKET [NEW-SENDER]      e.g. unix:/run/ref.sock, inet:9999@127.0.0.1
 *
 *   refmilter -s SOCKET [NEW-SENDER]   the same, with feedback-milter's steps
 *
 * With -s it negotiates the protocol steps feedback-milter negotiates
 * (HELO, MAIL, each header and the body without a reply, RCPT with one,
 * leading spaces of header values; connect when the MTA insists) and the
 * same macro lists, and does nothing in them: what the protocol alone costs
 * a milter that needs those steps, apart from anything the milter does.
 *
 * Built against the shared libmilter; linked with milter/sockopt.c it gets
 * the same TCP_NODELAY and TCP_QUICKACK on inet: sockets as feedback-milter
 * (FM_NO_NODELAY=1 and FM_NO_QUICKACK=1 turn them off). Runs in the foreground until SIGTERM.
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *new_sender = "<bounce@example.nl>";
static int steps;		/* -s: feedback-milter's protocol steps */

static sfsistat
ref_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	      unsigned long f2, unsigned long f3, unsigned long *pf0,
	      unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
			     SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS |
			     SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_CHGFROM) == 0)
		return SMFIS_REJECT;
	if (steps) {
		want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH |
		       SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
		       SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC;
		if (f1 & SMFIP_NOCONNECT)
			want |= SMFIP_NOCONNECT;
		smfi_setsymlist(ctx, SMFIM_CONNECT, "j");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, (f1 & SMFIP_NOCONNECT) ?
				"i {auth_authen} {daemon_port} {client_addr}" :
				"i {auth_authen} {daemon_port}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "j");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	*pf0 = SMFIF_CHGFROM;
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

/* the steps of -s: nothing done, no reply where none is wanted */
static sfsistat
ref_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return SMFIS_NOREPLY;
}

static sfsistat
ref_helo(SMFICTX *ctx, char *name)
{
	(void)ctx;
	(void)name;
	return SMFIS_NOREPLY;
}

static sfsistat
ref_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_NOREPLY;
}

static sfsistat
ref_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
ref_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat
ref_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return SMFIS_NOREPLY;
}

static sfsistat
ref_eom(SMFICTX *ctx)
{
	return smfi_chgfrom(ctx, new_sender, NULL) == MI_SUCCESS ?
	       SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static struct smfiDesc desc = {
	.xxfi_name = "refmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_CHGFROM,
	.xxfi_eom = ref_eom,
	.xxfi_negotiate = ref_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		steps = 1;
		desc.xxfi_connect = ref_connect;
		desc.xxfi_helo = ref_helo;
		desc.xxfi_envfrom = ref_envfrom;
		desc.xxfi_envrcpt = ref_envrcpt;
		desc.xxfi_header = ref_header;
		desc.xxfi_body = ref_body;
		argc--;
		argv++;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: refmilter [-s] SOCKET [NEW-SENDER]\n");
		return 2;
	}
	if (argc == 3)
		new_sender = argv[2];
	if (strncmp(argv[1], "unix:", 5) == 0 || strncmp(argv[1], "local:", 6) == 0)
		unlink(strchr(argv[1], ':') + 1);
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "refmilter: cannot use %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
