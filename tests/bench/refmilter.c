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
 * Built against the shared libmilter; linked with milter/sockopt.c it gets
 * the same TCP_NODELAY on inet: sockets as feedback-milter (FM_NO_NODELAY=1
 * turns that off). Runs in the foreground until SIGTERM.
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *new_sender = "<bounce@example.nl>";

static sfsistat
ref_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	      unsigned long f2, unsigned long f3, unsigned long *pf0,
	      unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
			     SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS |
			     SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)ctx;
	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_CHGFROM) == 0)
		return SMFIS_REJECT;
	*pf0 = SMFIF_CHGFROM;
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
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
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: refmilter SOCKET [NEW-SENDER]\n");
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
