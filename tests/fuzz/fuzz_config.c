/*
 * fuzz_config - libFuzzer target for the configuration parser
 *
 * The input is the text of a configuration file (cut at its first NUL,
 * as a file read into a string would be). fm_config_parse() must either
 * fail with a message or give a configuration whose lookups work; the
 * configuration is then released. Build and run with tests/fuzz/run.sh;
 * a crash input goes into tests/fuzz/regress/config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* advice_check - fm_config_advise: every text is a whole line of text */
static void advice_check(void *arg, const char *text)
{
	(void)arg;
	if (text == NULL || text[0] == '\0' || strchr(text, '\n') != NULL)
		abort();
}

/* config_lookups - exercise what the milter asks of a configuration */
static void config_lookups(const fm_config_t *cfg)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	size_t i;

	for (i = 0; i < cfg->ndomains; i++) {
		if (cfg->domains[i].domain == NULL ||
		    cfg->domains[i].feedback == NULL)
			abort();
		if (fm_config_sender_domain(cfg, cfg->domains[i].domain) == NULL ||
		    fm_config_feedback_domain(cfg, cfg->domains[i].feedback) ==
		    NULL)
			abort();
	}
	(void)fm_config_sender_domain(cfg, "example.nl");
	(void)fm_config_feedback_domain(cfg, "feedback.example.nl");
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_addr.s_addr = htonl(0x7f000001);
	(void)fm_config_trusted_addr(cfg, (struct sockaddr *)&a4);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	a6.sin6_addr.s6_addr[15] = 1;
	(void)fm_config_trusted_addr(cfg, (struct sockaddr *)&a6);
	for (i = 0; i < cfg->ntrusted; i++)
		if (cfg->trusted[i].prefix > 128)
			abort();
	for (i = 0; i < cfg->nident_headers; i++)
		if (cfg->ident_headers[i] == NULL)
			abort();
	if (fm_config_advise(cfg, advice_check, NULL) > 1 + FM_NCLASSES)
		abort();
}

/* LLVMFuzzerTestOneInput - parse one configuration text */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	fm_config_t *cfg;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 0x5a, sizeof(err));
	if ((cfg = fm_config_parse(text, "fuzz.conf", err, sizeof(err))) == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();	/* no message */
	} else {
		config_lookups(cfg);
		fm_config_unref(cfg);
	}
	free(text);
	return 0;
}
