/*
 * feedbackctl - the administration command
 *
 * It reads the daemon's configuration file and works on the same keys and
 * store. Commands:
 *
 *   decode [--json] CODE|ADDRESS   verify a code and print its send record
 *   key new                        append a fresh key to KeyFile
 *   parse [--json] FILE...         run the inbound parser on message files
 *                                  (needs no configuration file)
 *   dns advise DOMAIN              the DNS records a sender domain needs
 *   dns check [--json] DOMAIN      check them live: ok, warn or fail each
 *   dkim keygen DOMAIN             make the DKIM key pair (DkimKeyFile)
 *   suppression list|add|remove|export   suppressed recipients
 *   stats, events [--follow], prune      statistics, events, clean-up
 *
 * Exit status of decode: 0 valid with a send record, 1 invalid code, 2
 * valid but no send record; 64 usage, 78 configuration or store error.
 */
#include <ctype.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "autoconfig.h"
#include "codec.h"
#include "config.h"
#include "ctl_dns.h"
#include "ctl_ops.h"
#include "ctl_parse.h"
#include "rewrite.h"
#include "store.h"

#define EXIT_INVALID 1
#define EXIT_UNKNOWN 2

/* usage - the synopsis, then exit */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: feedbackctl [-c config-file] command [arguments]\n"
		"       feedbackctl -V | -h\n"
		"commands:\n"
		"  decode [--json] CODE|ADDRESS  verify a code, print its send\n"
		"  key new                       append a fresh key to KeyFile\n"
		"  parse [--json] FILE...        classify bounce messages in files\n"
		"  dns advise DOMAIN             print the DNS records to create\n"
		"  dns check [--json] [--auth-port PORT] [--no-auth] DOMAIN\n"
		"                                check them live: ok, warn, fail\n"
		"  dkim keygen DOMAIN            make the DKIM key (DkimKeyFile)\n"
		"  suppression list|add|remove|export ...  suppressed recipients\n"
		"  stats [--domain D] [--since 7d] [--by day|domain|class|reason]\n"
		"        [--json|--csv]\n"
		"  events [--since 7d] [--class C] [--domain D] [--recipient ADDR]\n"
		"         [--code CODE] [--limit N] [--json|--csv] [--follow]\n"
		"  prune --older-than 90d [--dry-run]  delete old sends, events\n"
		"default configuration file: %s\n", FM_DEFAULT_CONFIG);
	exit(status);
}

/* json_str - print a JSON string (or null), always valid UTF-8 */
static void
json_str(FILE *fp, const char *s)
{
	fm_json_string(fp, s);
}

/*
 * tty - a value for the plain output: control characters '?' ("-" for
 * NULL); one of TTY_SLOTS rotating buffers, so a printf may take several
 */
#define TTY_SLOTS 4
static const char *
tty(const char *s)
{
	static char buf[TTY_SLOTS][2048];
	static unsigned slot;
	char *b = buf[slot++ % TTY_SLOTS];

	snprintf(b, sizeof(buf[0]), "%s", s ? s : "-");
	fm_ops_tty_clean(b);
	return b;
}

/* print_time - UTC time stamp into buf */
static const char *
fmt_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

typedef struct {
	char code[FM_CODE_LEN + 1];
	char domain[256];
	fm_code_status_t status;
	fm_code_info_t info;
	int have_record;
	fm_send_t send;
} decoded_t;

/* verify_any - verify against the given domain, or every feedback domain */
static void
verify_any(const fm_config_t *cfg, const char *local, const char *domain,
	   decoded_t *d, time_t now)
{
	static const int rank[] = {
		[FM_CODE_OK] = 5, [FM_CODE_EXPIRED] = 4,
		[FM_CODE_BAD_MAC] = 2, [FM_CODE_UNKNOWN_KEY] = 3,
		[FM_CODE_SHAPE] = 1,
	};
	fm_code_status_t st;
	fm_code_info_t info;
	size_t i;

	d->status = FM_CODE_SHAPE;
	for (i = 0; i < (domain ? 1 : cfg->ndomains); i++) {
		const char *dom = domain ? domain : cfg->domains[i].feedback;

		st = fm_code_verify(cfg->keys, dom, local, strlen(local), now,
				    cfg->code_lifetime_days, &info);
		if (i == 0 || rank[st] > rank[d->status]) {
			d->status = st;
			d->info = info;
			snprintf(d->domain, sizeof(d->domain), "%s", dom);
		}
		if (st == FM_CODE_OK)
			break;
	}
}

/* print_text - the human-readable report */
static void
print_text(const decoded_t *d, time_t now)
{
	const fm_send_t *s = &d->send;
	char tbuf[64];
	size_t i, n;

	printf("code:            %s\n", d->code[0] ? d->code : "-");
	if (d->status != FM_CODE_OK) {
		printf("status:          invalid (%s)\n",
		       fm_code_status_str(d->status));
		return;
	}
	printf("status:          valid (key %u, issued %s, %u days ago)\n",
	       d->info.key_id, fmt_time(now - (time_t)d->info.age_days * 86400,
					tbuf, sizeof(tbuf)), d->info.age_days);
	printf("feedback domain: %s\n", d->domain);
	if (!d->have_record) {
		printf("send record:     none in the store\n");
		return;
	}
	printf("sender:          %s\n", tty(s->sender));
	for (i = 0; i < s->nrcpts; i++)
		printf("%s%s\n", i ? "                 " : "recipients:      ",
		       tty(s->rcpts[i]));
	printf("sent:            %s\n", fmt_time(s->created, tbuf, sizeof(tbuf)));
	printf("message-id:      %s\n", tty(s->msgid));
	printf("queue id:        %s\n", tty(s->queue_id));
	printf("client:          %s\n", tty(s->client_addr));
	printf("sasl user:       %s\n", tty(s->sasl_user));
	for (i = 0, n = 0; i < s->nidents; i++)
		if (s->ident_values[i] != NULL)
			printf("%s%s: %s\n", n++ ? "                 " :
			       "identity:        ", tty(s->ident_names[i]),
			       tty(s->ident_values[i]));
}

/* print_json - one JSON object */
static void
print_json(const decoded_t *d)
{
	const fm_send_t *s = &d->send;
	size_t i;

	printf("{\"code\":");
	json_str(stdout, d->code[0] ? d->code : NULL);
	printf(",\"status\":\"%s\"", d->status != FM_CODE_OK ? "invalid" :
	       d->have_record ? "valid" : "unknown");
	if (d->status != FM_CODE_OK) {
		printf(",\"reason\":");
		json_str(stdout, fm_code_status_str(d->status));
		printf("}\n");
		return;
	}
	printf(",\"key_id\":%u,\"day\":%u,\"age_days\":%u,\"feedback_domain\":",
	       d->info.key_id, d->info.day, d->info.age_days);
	json_str(stdout, d->domain);
	if (d->have_record) {
		printf(",\"sender\":");
		json_str(stdout, s->sender);
		printf(",\"recipients\":[");
		for (i = 0; i < s->nrcpts; i++) {
			printf("%s", i ? "," : "");
			json_str(stdout, s->rcpts[i]);
		}
		printf("],\"created\":%lld,\"msgid\":", (long long)s->created);
		json_str(stdout, s->msgid);
		printf(",\"queue_id\":");
		json_str(stdout, s->queue_id);
		printf(",\"client\":");
		json_str(stdout, s->client_addr);
		printf(",\"sasl_user\":");
		json_str(stdout, s->sasl_user);
		printf(",\"identity\":{");
		for (i = 0; i < s->nidents; i++) {
			printf("%s", i ? "," : "");
			json_str(stdout, s->ident_names[i]);
			putchar(':');
			json_str(stdout, s->ident_values[i]);
		}
		printf("}");
	}
	printf("}\n");
}

/* split_arg - CODE, CODE@DOMAIN or <CODE@DOMAIN> into local and domain */
static int
split_arg(const char *arg, char *local, size_t lsize, char *domain,
	  size_t dsize)
{
	char addr[FM_ADDR_MAX];
	const char *dom;
	int bracketed;

	if (fm_addr_strip(arg, addr, sizeof(addr), &bracketed) < 0)
		return -1;
	domain[0] = '\0';
	if (strchr(addr, '@') != NULL) {
		if ((dom = fm_addr_domain(addr)) == NULL ||
		    snprintf(domain, dsize, "%s", dom) >= (int)dsize)
			return -1;
	}
	return fm_addr_local(addr, local, lsize);
}

/*
 * become_db_owner - started by root, act as the owner of the database, so
 * that the files SQLite creates beside it (-wal, -shm) stay the milter's.
 */
static int
become_db_owner(const char *database)
{
	struct stat st;
	char dir[4096], *slash;

	if (geteuid() != 0)
		return 0;
	if (stat(database, &st) < 0) {
		/*
		 * Not made yet: a write command would create it as root, and
		 * the milter (UserID) could not open it. Act as the owner of
		 * its directory, which the milter must be able to write.
		 */
		snprintf(dir, sizeof(dir), "%s", database);
		if ((slash = strrchr(dir, '/')) == NULL)
			return 0;
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &st) < 0)
			return 0;
	}
	if (st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 ||
	    setuid(st.st_uid) < 0) {
		fprintf(stderr, "feedbackctl: cannot act as the owner of %s\n",
			database);
		return -1;
	}
	return 0;
}

/* cmd_decode - decode [--json] CODE|ADDRESS */
static int
cmd_decode(const fm_config_t *cfg, int argc, char **argv)
{
	int json = 0, status = EX_OK;
	char local[FM_ADDR_MAX], domain[256], err[512];
	fm_store_t *store = NULL;
	time_t now = time(NULL);
	decoded_t d;

	if (argc >= 1 && strcmp(argv[0], "--json") == 0)
		json = 1, argc--, argv++;
	if (argc != 1)
		usage(EX_USAGE);
	memset(&d, 0, sizeof(d));
	if (split_arg(argv[0], local, sizeof(local), domain, sizeof(domain)) < 0) {
		fprintf(stderr, "feedbackctl: \"%s\" is not a code or address\n",
			argv[0]);
		return EXIT_INVALID;
	}
	if (fm_code_normalize(local, strlen(local), d.code) < 0)
		d.code[0] = '\0';
	verify_any(cfg, local, domain[0] ? domain : NULL, &d, now);
	if (d.status != FM_CODE_OK) {
		status = EXIT_INVALID;
		goto print;
	}
	if (become_db_owner(cfg->database) < 0)
		return EX_NOPERM;
	if ((store = fm_store_open(cfg->database, FM_STORE_RDONLY,
				   cfg->busy_timeout_ms, err, sizeof(err))) == NULL) {
		fprintf(stderr, "feedbackctl: %s: Database: %s\n", cfg->path, err);
		return EX_CONFIG;
	}
	switch (fm_store_find_send(store, d.code, &d.send, err, sizeof(err))) {
	case FM_STORE_OK:
		d.have_record = 1;
		break;
	case FM_STORE_NOTFOUND:
		status = EXIT_UNKNOWN;
		break;
	default:
		fprintf(stderr, "feedbackctl: store: %s\n", err);
		fm_store_close(store);
		return EX_CONFIG;
	}
print:
	if (json)
		print_json(&d);
	else
		print_text(&d, now);
	if (status == EXIT_INVALID)
		fprintf(stderr, "feedbackctl: %s: invalid code: %s\n", argv[0],
			fm_code_status_str(d.status));
	else if (status == EXIT_UNKNOWN)
		fprintf(stderr, "feedbackctl: %s: valid code, but no send record "
			"in %s\n", argv[0], cfg->database);
	fm_send_free(&d.send);
	fm_store_close(store);
	return status;
}

/* cmd_key - key new */
static int
cmd_key(const fm_config_t *cfg, int argc, char **argv)
{
	char err[512];
	int id;

	if (argc != 1 || strcmp(argv[0], "new") != 0)
		usage(EX_USAGE);
	if (fm_keyring_append_new(cfg->key_file, &id, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedbackctl: %s\n", err);
		return EX_CANTCREAT;
	}
	printf("%s: added key %d; it signs once the milter reloads "
	       "(kill -HUP the milter)\n", cfg->key_file, id);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	const char *path = FM_DEFAULT_CONFIG;
	fm_config_t *cfg;
	char err[1024];
	int ch, status;

	while ((ch = getopt(argc, argv, "+c:hV")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'V': printf("feedbackctl (%s)\n", PACKAGE_STRING); return 0;
		case 'h': usage(EX_OK); break;
		default: usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(EX_USAGE);
	if (strcmp(argv[0], "parse") == 0)
		return fm_ctl_parse(argc - 1, argv + 1);
	if ((cfg = fm_config_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "feedbackctl: %s\n", err);
		return EX_CONFIG;
	}
	if (strcmp(argv[0], "key") == 0) {
		status = cmd_key(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "suppression") == 0) {
		status = become_db_owner(cfg->database) < 0 ? EX_NOPERM :
			fm_ctl_suppression(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "stats") == 0) {
		status = become_db_owner(cfg->database) < 0 ? EX_NOPERM :
			fm_ctl_stats(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "events") == 0) {
		status = become_db_owner(cfg->database) < 0 ? EX_NOPERM :
			fm_ctl_events(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "prune") == 0) {
		status = become_db_owner(cfg->database) < 0 ? EX_NOPERM :
			fm_ctl_prune(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "dns") == 0) {
		status = fm_ctl_dns(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "dkim") == 0) {
		status = fm_ctl_dkim(cfg, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "decode") == 0) {
		if (fm_config_load_keys(cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "feedbackctl: %s: KeyFile: %s\n", path, err);
			fm_config_unref(cfg);
			return EX_CONFIG;
		}
		status = cmd_decode(cfg, argc - 1, argv + 1);
	} else {
		fprintf(stderr, "feedbackctl: unknown command \"%s\"\n", argv[0]);
		status = EX_USAGE;
	}
	fm_config_unref(cfg);
	return status;
}
