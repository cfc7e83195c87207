/*
 * dnscheck_key - the DKIM key pair behind the advised and checked record
 *
 * The private key is a PEM file (DkimKeyFile). Its public half goes into
 * DNS as base64 DER SubjectPublicKeyInfo, the form opendkim-genkey and
 * most signers publish. A published p= value is compared with ours as a
 * key, not as text, so the bare PKCS#1 RSAPublicKey form that some tools
 * publish matches too. Keys are made with OpenSSL's EVP interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "dnscheck.h"

/* fm_kerr - format a reason, with OpenSSL's last error if any; -1 */
static int __attribute__((format(printf, 3, 4)))
fm_kerr(char *buf, size_t len, const char *fmt, ...)
{
	unsigned long e = ERR_get_error();
	char ssl[160];
	size_t n;
	va_list ap;

	if (buf == NULL || len == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (e != 0) {
		ERR_error_string_n(e, ssl, sizeof(ssl));
		n = strlen(buf);
		snprintf(buf + n, len - n, " (%s)", ssl);
	}
	ERR_clear_error();
	return -1;
}

/* fm_b64_encode - base64 of len octets, no line breaks (malloc'd) */
static char *fm_b64_encode(const unsigned char *der, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, der, (int)len);
	return out;
}

/* fm_b64_decode - decode base64 text (malloc'd); -1 if it is not */
static int fm_b64_decode(const char *text, unsigned char **der, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	int out;

	*der = NULL;
	if (n == 0 || n % 4 != 0)
		return -1;
	if (text[n - 1] == '=')
		pad++;
	if (text[n - 2] == '=')
		pad++;
	if ((*der = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	out = EVP_DecodeBlock(*der, (const unsigned char *)text, (int)n);
	if (out < 0 || (size_t)out < pad) {
		free(*der);
		*der = NULL;
		return -1;
	}
	*len = (size_t)out - pad;
	return 0;
}

/* fm_pubkey_decode - a public key from base64 SPKI or PKCS#1 RSA */
static EVP_PKEY *fm_pubkey_decode(const char *b64)
{
	const unsigned char *p;
	unsigned char *der;
	EVP_PKEY *key;
	size_t len;

	if (fm_b64_decode(b64, &der, &len) < 0)
		return NULL;
	p = der;
	key = d2i_PUBKEY(NULL, &p, (long)len);
	if (key == NULL || p != der + len) {
		EVP_PKEY_free(key);
		p = der;
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (key != NULL && p != der + len) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	free(der);
	ERR_clear_error();
	return key;
}

/* fm_dkim_key_load - see dnscheck.h */
int fm_dkim_key_load(const char *path, char **pub_b64, unsigned *bits,
		     char *err, size_t errlen)
{
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	FILE *fp;
	int len, rc = -1;

	*pub_b64 = NULL;
	if ((fp = fopen(path, "r")) == NULL)
		return fm_kerr(err, errlen, "cannot read %s: %s", path,
			       strerror(errno));
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL) {
		fm_kerr(err, errlen, "%s is not a PEM private key", path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		fm_kerr(err, errlen, "%s is not an RSA key", path);
		goto out;
	}
	if ((len = i2d_PUBKEY(key, &der)) <= 0) {
		fm_kerr(err, errlen, "cannot encode the public key of %s", path);
		goto out;
	}
	if ((*pub_b64 = fm_b64_encode(der, (size_t)len)) == NULL) {
		fm_kerr(err, errlen, "out of memory");
		goto out;
	}
	*bits = (unsigned)EVP_PKEY_get_bits(key);
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return rc;
}

/* fm_key_write - write key as PEM to a new file beside path; its name */
static int fm_key_write(EVP_PKEY *key, const char *path, char *tmp,
			size_t tmplen, char *err, size_t errlen)
{
	FILE *fp;
	int fd, ok;

	if (snprintf(tmp, tmplen, "%s.XXXXXX", path) >= (int)tmplen)
		return fm_kerr(err, errlen, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) < 0)
		return fm_kerr(err, errlen, "cannot create %s: %s", tmp,
			       strerror(errno));
	if (fchmod(fd, 0600) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		fm_kerr(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1
	    && fflush(fp) == 0 && fsync(fd) == 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (!ok) {
		unlink(tmp);
		return fm_kerr(err, errlen, "cannot write %s", tmp);
	}
	return 0;
}

/* fm_dkim_key_generate - see dnscheck.h */
int fm_dkim_key_generate(const char *path, unsigned bits, char *err,
			 size_t errlen)
{
	char tmp[4096];
	EVP_PKEY *key;
	struct stat st;
	int rc;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno != ENOENT)
		return fm_kerr(err, errlen, "%s: %s", path, strerror(errno));
	if ((key = EVP_RSA_gen(bits)) == NULL)
		return fm_kerr(err, errlen, "cannot make a %u-bit RSA key",
			       bits);
	rc = fm_key_write(key, path, tmp, sizeof(tmp), err, errlen);
	EVP_PKEY_free(key);
	if (rc < 0)
		return -1;
	/* link() fails if path appeared meanwhile: never overwrite a key */
	if (link(tmp, path) < 0) {
		rc = errno == EEXIST ? 1 : fm_kerr(err, errlen, "cannot create "
						   "%s: %s", path,
						   strerror(errno));
		unlink(tmp);
		return rc;
	}
	unlink(tmp);
	return 0;
}

/* fm_dkim_key_compare - see dnscheck.h */
int fm_dkim_key_compare(const char *p_b64, const char *ours, unsigned *bits,
			char *err, size_t errlen)
{
	EVP_PKEY *theirs, *mine = NULL;
	int rc = 0;

	*bits = 0;
	if ((theirs = fm_pubkey_decode(p_b64)) == NULL)
		return fm_kerr(err, errlen, "p= is not a public key");
	*bits = (unsigned)EVP_PKEY_get_bits(theirs);
	if (ours != NULL && (mine = fm_pubkey_decode(ours)) != NULL)
		rc = EVP_PKEY_eq(theirs, mine) == 1;
	EVP_PKEY_free(theirs);
	EVP_PKEY_free(mine);
	ERR_clear_error();
	return rc;
}
