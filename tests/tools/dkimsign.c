/*
 * dkimsign - DKIM-sign a message for test fixtures (libopendkim)
 *
 * Usage:
 *	dkimsign -d DOMAIN -s SELECTOR -k KEY.pem [-l] [-o OUT] [MESSAGE]
 *	dkimsign -p -k KEY.pem
 *
 * The first form reads MESSAGE (or standard input), makes its line ends
 * CRLF, signs it with rsa-sha256 and relaxed/relaxed canonicalization over
 * libopendkim's default header list, and writes the DKIM-Signature field
 * followed by the message to OUT (or standard output), with CRLF line ends
 * or, with -l, LF (for the sendmail command). The second form prints the
 * TXT record text that publishes the key ("v=DKIM1; k=rsa; p=...") for
 * SELECTOR._domainkey.DOMAIN.
 *
 * Keys are made at test time, e.g. "openssl genrsa -out key.pem 2048";
 * none is kept in the source tree. Exit status: 0 done, 1 error, 2 usage.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MESSAGE_MAX (64 * 1024 * 1024)

/* die - print an error and exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("dkimsign: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* usage - print how to call us and exit 2 */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: dkimsign -d DOMAIN -s SELECTOR -k KEY.pem "
		"[-l] [-o OUT] [MESSAGE]\n"
		"       dkimsign -p -k KEY.pem\n");
	exit(2);
}

/* read_all - the whole of fp, NUL-terminated; *len gets its length */
static char *read_all(FILE *fp, const char *what, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	char *buf = malloc(cap + 1);

	if (buf == NULL)
		die("out of memory");
	while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			if (cap >= MESSAGE_MAX)
				die("%s: larger than %d octets", what,
				    MESSAGE_MAX);
			cap *= 2;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				die("out of memory");
		}
	}
	if (ferror(fp))
		die("%s: read error", what);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* read_file - read a named file ("-": standard input) */
static char *read_file(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;

	if (fp == NULL)
		die("%s: cannot open", path);
	buf = read_all(fp, path, len);
	if (fp != stdin)
		fclose(fp);
	return buf;
}

/* to_crlf - a copy of text with every line ending in CRLF */
static char *to_crlf(const char *text, size_t len, size_t *outlen)
{
	char *out = malloc(2 * len + 3);
	size_t i, o = 0;

	if (out == NULL)
		die("out of memory");
	for (i = 0; i < len; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = text[i];
	}
	if (o < 2 || out[o - 1] != '\n') {	/* end with a line end */
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* print_txt - the DNS TXT text for the public half of a PEM key */
static void print_txt(const char *keyfile)
{
	FILE *fp = fopen(keyfile, "r");
	EVP_PKEY *pk;
	unsigned char *der = NULL;
	char *b64;
	int n;

	if (fp == NULL)
		die("%s: cannot open", keyfile);
	pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pk == NULL)
		die("%s: not a PEM private key", keyfile);
	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		die("%s: cannot encode the public key", keyfile);
	if ((b64 = malloc(4 * ((size_t)n / 3 + 1) + 1)) == NULL)
		die("out of memory");
	EVP_EncodeBlock((unsigned char *)b64, der, n);
	printf("v=DKIM1; k=rsa; p=%s\n", b64);
	free(b64);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
}

/* feed_headers - give each header field to the signer; returns the body */
static const char *feed_headers(DKIM *d, const char *msg)
{
	const char *p = msg, *eol;

	while (strncmp(p, "\r\n", 2) != 0) {
		for (eol = strstr(p, "\r\n");
		     eol != NULL && (eol[2] == ' ' || eol[2] == '\t');
		     eol = strstr(eol + 2, "\r\n"))
			;
		if (eol == NULL)
			die("message has no end of header");
		if (dkim_header(d, (u_char *)(uintptr_t)p, (size_t)(eol - p))
		    != DKIM_STAT_OK)
			die("bad header field: %.40s", p);
		p = eol + 2;
	}
	return p + 2;
}

/* sign - the DKIM-Signature field value for msg (CRLF form) */
static void sign(const char *msg, const char *domain, const char *selector,
		 const char *key, unsigned char *hdr, size_t hdrlen)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	const char *body;
	DKIM_STAT st;
	DKIM *d;

	if (lib == NULL)
		die("dkim_init failed");
	d = dkim_sign(lib, (const unsigned char *)"dkimsign", NULL,
		      (dkim_sigkey_t)(uintptr_t)key,
		      (const unsigned char *)selector,
		      (const unsigned char *)domain, DKIM_CANON_RELAXED,
		      DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL)
		die("dkim_sign: %s", dkim_getresultstr(st));
	body = feed_headers(d, msg);
	if ((st = dkim_eoh(d)) != DKIM_STAT_OK
	    || (st = dkim_body(d, (u_char *)(uintptr_t)body, strlen(body)))
	    != DKIM_STAT_OK || (st = dkim_eom(d, NULL)) != DKIM_STAT_OK
	    || (st = dkim_getsighdr(d, hdr, hdrlen,
				    strlen("DKIM-Signature: ")))
	    != DKIM_STAT_OK)
		die("signing failed: %s (%s)", dkim_getresultstr(st),
		    dkim_geterror(d) ? dkim_geterror(d) : "");
	dkim_free(d);
	dkim_close(lib);
}

/* write_out - the signature field and the message, CRLF or LF */
static void write_out(FILE *fp, const unsigned char *hdr, const char *msg,
		      int lf)
{
	const char *p;

	fputs("DKIM-Signature: ", fp);
	for (p = (const char *)hdr; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n' && !lf)
			fputc('\r', fp);
		fputc(*p, fp);
	}
	fputs(lf ? "\n" : "\r\n", fp);
	for (p = msg; *p != '\0'; p++)
		if (!(lf && *p == '\r' && p[1] == '\n'))
			fputc(*p, fp);
}

int main(int argc, char **argv)
{
	const char *domain = NULL, *selector = NULL, *keyfile = NULL;
	const char *outfile = NULL;
	unsigned char hdr[8192];
	int c, lf = 0, txt = 0;
	size_t len, keylen;
	char *raw, *msg, *key;
	FILE *out = stdout;

	while ((c = getopt(argc, argv, "d:s:k:lo:p")) != -1) {
		switch (c) {
		case 'd': domain = optarg; break;
		case 's': selector = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'l': lf = 1; break;
		case 'o': outfile = optarg; break;
		case 'p': txt = 1; break;
		default: usage();
		}
	}
	if (keyfile == NULL || argc - optind > 1)
		usage();
	if (txt) {
		print_txt(keyfile);
		return 0;
	}
	if (domain == NULL || selector == NULL)
		usage();
	key = read_file(keyfile, &keylen);
	raw = read_file(optind < argc ? argv[optind] : "-", &len);
	msg = to_crlf(raw, len, &len);
	sign(msg, domain, selector, key, hdr, sizeof(hdr));
	if (outfile != NULL && (out = fopen(outfile, "wb")) == NULL)
		die("%s: cannot create", outfile);
	write_out(out, hdr, msg, lf);
	if (fflush(out) != 0 || (out != stdout && fclose(out) != 0))
		die("%s: write error", outfile ? outfile : "standard output");
	free(key);
	free(raw);
	free(msg);
	return 0;
}
