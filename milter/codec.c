/*
 * codec - coded local parts for feedback addresses
 *
 * This module makes and checks the 18-character codes that go in the local
 * part of the envelope sender (code@feedback.example.nl), and loads the key
 * file that signs them. It is pure: no globals, no logging, no libmilter.
 * Callers pass buffers; errors come back as text in a caller's buffer.
 *
 * Usage:
 *
 *	kr = fm_keyring_load("/etc/feedback-milter/keys", err, sizeof(err));
 *	fm_code_encode(kr, "feedback.example.nl", time(NULL),
 *		       fm_code_random_id(), code);
 *	st = fm_code_verify(kr, "feedback.example.nl", code, FM_CODE_LEN,
 *			    time(NULL), 30, &info);
 *	fm_keyring_free(kr);
 *
 * Code layout, 90 bits most significant first, 5 bits per character in the
 * alphabet "0123456789abcdefghjkmnpqrstvwxyz":
 *
 *	5-bit key id | 10-bit day | 35-bit record id | 40-bit MAC
 *
 * The first 10 characters carry key id, day and record id; the last 8 carry
 * the MAC. Decoding accepts upper case but no Crockford aliases (i l o u are
 * rejected, not read as 1 1 0 v), so every single-character change to a code
 * is either a shape error or a different 90-bit value.
 *
 * MAC input (the message of HMAC-SHA256, keyed with the 32-octet secret):
 *
 *	feedback domain, ASCII lowercased (1..255 octets)
 *	0x00
 *	key id			1 octet
 *	day			2 octets, big-endian (0..1023)
 *	record id		5 octets, big-endian (0..2^35-1)
 *
 * The MAC is the first 5 octets (40 bits) of the HMAC output. The domain
 * cannot contain a 0 octet and the tail has a fixed size, so the encoding
 * is unambiguous.
 *
 * A day is floor(time / 86400) mod 1024; the age of a code is (today - day)
 * mod 1024, so a code dated in the future has a large age and is expired.
 *
 * Speed: at load time each key's HMAC inner and outer SHA-256 states (after
 * the ipad and opad blocks) are computed once; a MAC then costs copying the
 * two states and two SHA-256 compressions. The low-level SHA256_* interface
 * does this with no allocation; it is about 1.3 times faster than
 * EVP_MD_CTX_copy_ex and 4 times faster than EVP_MAC_CTX_dup. A loaded
 * keyring is never modified, so any number of threads may use it at once.
 */
#define OPENSSL_API_COMPAT 0x10100000L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "codec.h"

#define FM_CODE_DOMAIN_MAX 255	/* longest feedback domain in the MAC */
#define FM_CODE_MAC_OCTETS 5	/* 40-bit truncated MAC */
#define FM_CODE_DAYS 1024	/* day numbers wrap at 1024 */
#define FM_KEYFILE_MAX (1024 * 1024)	/* refuse larger key files */

struct fm_keyring_key {
	SHA256_CTX inner;	/* after (secret ^ ipad) */
	SHA256_CTX outer;	/* after (secret ^ opad) */
	int present;
};

struct fm_keyring {
	int count;
	int signing_id;		/* id on the last key line */
	struct fm_keyring_key keys[FM_KEY_IDS];
};

static const char fm_code_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* Decoding table: character -> 5-bit value, 0xff if not in the alphabet. */
#define X 0xff
static const unsigned char fm_code_values[256] = {
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, X, X, X, X, X, X,
	/* @ A   B   C   D   E   F   G   H   I  J   K   L  M   N   O */
	X, 10, 11, 12, 13, 14, 15, 16, 17, X, 18, 19, X, 20, 21, X,
	/* P Q   R   S   T   U  V   W   X   Y   Z */
	22, 23, 24, 25, 26, X, 27, 28, 29, 30, 31, X, X, X, X, X,
	X, 10, 11, 12, 13, 14, 15, 16, 17, X, 18, 19, X, 20, 21, X,
	22, 23, 24, 25, 26, X, 27, 28, 29, 30, 31, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

/* fm_codec_err - format an error message into a caller's buffer */
__attribute__((format(printf, 3, 4)))
static void fm_codec_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* fm_codec_hexval - value of one hex digit, -1 if not one */
static int fm_codec_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* fm_codec_day - day number (days since epoch mod 1024) of a time */
static unsigned fm_codec_day(time_t t)
{
	long long days = (long long)t / 86400;

	if ((long long)t % 86400 < 0)
		days -= 1;		/* floor, for times before 1970 */
	days %= FM_CODE_DAYS;
	if (days < 0)
		days += FM_CODE_DAYS;
	return (unsigned)days;
}

/* fm_keyring_setkey - precompute the HMAC states of one key */
static void fm_keyring_setkey(struct fm_keyring_key *k,
			      const unsigned char secret[FM_KEY_OCTETS])
{
	unsigned char pad[SHA256_CBLOCK];
	size_t i;

	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < FM_KEY_OCTETS; i++)
		pad[i] ^= secret[i];
	SHA256_Init(&k->inner);
	SHA256_Update(&k->inner, pad, sizeof(pad));

	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < FM_KEY_OCTETS; i++)
		pad[i] ^= secret[i];
	SHA256_Init(&k->outer);
	SHA256_Update(&k->outer, pad, sizeof(pad));

	OPENSSL_cleanse(pad, sizeof(pad));
	k->present = 1;
}

/* fm_keyring_line - parse one line: 1 key, 0 blank or comment, -1 error */
static int fm_keyring_line(const char *p, const char *end, int *id,
			   unsigned char secret[FM_KEY_OCTETS],
			   char *why, size_t whylen)
{
	const char *comment = memchr(p, '#', (size_t)(end - p));
	const char *tok;
	long val = 0;
	size_t i;

	if (comment != NULL)
		end = comment;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'
			   || end[-1] == '\r'))
		end--;
	if (p == end)
		return 0;

	for (tok = p; p < end && *p >= '0' && *p <= '9'; p++)
		if (val < 1000000)
			val = val * 10 + (*p - '0');
	if (p == tok || (p < end && *p != ' ' && *p != '\t')) {
		fm_codec_err(why, whylen, "key id is not a number");
		return -1;
	}
	if (val >= FM_KEY_IDS) {
		fm_codec_err(why, whylen, "key id %.*s out of range 0..%d",
			     (int)(p - tok > 12 ? 12 : p - tok), tok,
			     FM_KEY_IDS - 1);
		return -1;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (tok = p; p < end && *p != ' ' && *p != '\t'; p++)
		 /* void */ ;
	if (p == tok) {
		fm_codec_err(why, whylen, "key %ld has no secret", val);
		return -1;
	}
	if (p != end) {
		fm_codec_err(why, whylen, "unexpected text after the secret");
		return -1;
	}
	if (p - tok != 2 * FM_KEY_OCTETS) {
		fm_codec_err(why, whylen, "secret must be %d hex digits",
			     2 * FM_KEY_OCTETS);
		return -1;
	}
	for (i = 0; i < FM_KEY_OCTETS; i++) {
		int hi = fm_codec_hexval((unsigned char)tok[2 * i]);
		int lo = fm_codec_hexval((unsigned char)tok[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fm_codec_err(why, whylen, "secret must be %d hex digits",
				     2 * FM_KEY_OCTETS);
			return -1;
		}
		secret[i] = (unsigned char)(hi << 4 | lo);
	}
	*id = (int)val;
	return 1;
}

/* fm_keyring_parse_text - parse key file text, allowing no keys or not */
static fm_keyring_t *fm_keyring_parse_text(const char *text, const char *name,
					   int allow_empty, char *err,
					   size_t errlen)
{
	fm_keyring_t *kr = NULL;
	fm_keyring_t *ret = NULL;
	unsigned char secret[FM_KEY_OCTETS];
	int seen_line[FM_KEY_IDS] = { 0 };
	char why[128];
	const char *p = text, *eol;
	int lineno = 0, id, r;

	if ((kr = OPENSSL_zalloc(sizeof(*kr))) == NULL) {
		fm_codec_err(err, errlen, "%s: out of memory", name);
		goto out;
	}
	kr->signing_id = -1;
	for (; *p != '\0'; p = (*eol == '\n') ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		lineno++;
		r = fm_keyring_line(p, eol, &id, secret, why, sizeof(why));
		if (r < 0) {
			fm_codec_err(err, errlen, "%s:%d: %s", name, lineno, why);
			goto out;
		}
		if (r == 0)
			continue;
		if (kr->keys[id].present) {
			fm_codec_err(err, errlen,
				     "%s:%d: duplicate key id %d (also on line %d)",
				     name, lineno, id, seen_line[id]);
			goto out;
		}
		fm_keyring_setkey(&kr->keys[id], secret);
		seen_line[id] = lineno;
		kr->signing_id = id;
		kr->count++;
	}
	if (kr->count == 0 && !allow_empty) {
		fm_codec_err(err, errlen, "%s: no keys", name);
		goto out;
	}
	ret = kr;
	kr = NULL;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	fm_keyring_free(kr);
	return ret;
}

/* fm_keyring_parse - parse key file text; NULL with a message naming line */
fm_keyring_t *fm_keyring_parse(const char *text, const char *name,
			       char *err, size_t errlen)
{
	if (text == NULL) {
		fm_codec_err(err, errlen, "%s: no text", name ? name : "keys");
		return NULL;
	}
	return fm_keyring_parse_text(text, name ? name : "keys", 0, err, errlen);
}

/* fm_keyring_readfd - read a whole key file into a new NUL-terminated buffer */
static char *fm_keyring_readfd(int fd, const char *path, char *err,
			       size_t errlen)
{
	char *buf = NULL;
	char *ret = NULL;
	size_t len = 0, cap = 4096;
	ssize_t n;

	if ((buf = malloc(cap)) == NULL) {
		fm_codec_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (len + 1 == cap) {
			if (cap >= FM_KEYFILE_MAX) {
				fm_codec_err(err, errlen,
					     "%s: larger than %d octets", path,
					     FM_KEYFILE_MAX);
				goto out;
			}
			char *nbuf = malloc(cap * 2);

			if (nbuf == NULL) {
				fm_codec_err(err, errlen, "%s: out of memory",
					     path);
				goto out;
			}
			memcpy(nbuf, buf, len);
			OPENSSL_cleanse(buf, cap);	/* no stray secrets */
			free(buf);
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fm_codec_err(err, errlen, "%s: read: %s", path,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (memchr(buf, '\0', len) != NULL) {
		fm_codec_err(err, errlen, "%s: contains a NUL octet", path);
		goto out;
	}
	buf[len] = '\0';
	ret = buf;
	buf = NULL;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
	return ret;
}

/* fm_keyring_freetext - wipe and free key file text */
static void fm_keyring_freetext(char *text)
{
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
}

/* fm_keyring_checkmode - refuse a key file that is not private enough */
static int fm_keyring_checkmode(const struct stat *st, const char *path,
				char *err, size_t errlen)
{
	unsigned mode = (unsigned)st->st_mode & 07777;

	if (!S_ISREG(st->st_mode)) {
		fm_codec_err(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if ((mode & 007) != 0 || (mode & 020) != 0) {
		fm_codec_err(err, errlen,
			     "%s: mode %04o lets %s; run chmod 600 %s "
			     "(or 640 for a group that must read it)",
			     path, mode,
			     (mode & 007) ? "others access the secrets"
			     : "the group change the keys", path);
		return -1;
	}
	return 0;
}

/* fm_keyring_load - read and parse a private key file */
fm_keyring_t *fm_keyring_load(const char *path, char *err, size_t errlen)
{
	fm_keyring_t *kr = NULL;
	char *text = NULL;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fm_codec_err(err, errlen, "%s: open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		fm_codec_err(err, errlen, "%s: fstat: %s", path,
			     strerror(errno));
		goto out;
	}
	if (fm_keyring_checkmode(&st, path, err, errlen) < 0)
		goto out;
	if ((text = fm_keyring_readfd(fd, path, err, errlen)) == NULL)
		goto out;
	kr = fm_keyring_parse_text(text, path, 0, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	fm_keyring_freetext(text);
	return kr;
}

/* fm_keyring_free - wipe and release a keyring */
void fm_keyring_free(fm_keyring_t *kr)
{
	if (kr == NULL)
		return;
	OPENSSL_clear_free(kr, sizeof(*kr));
}

/* fm_keyring_count - number of keys */
int fm_keyring_count(const fm_keyring_t *kr)
{
	return kr ? kr->count : 0;
}

/* fm_keyring_signing_id - id of the key that signs (the last line) */
int fm_keyring_signing_id(const fm_keyring_t *kr)
{
	return kr ? kr->signing_id : -1;
}

/* fm_keyring_newtext - key file text without lines for id, plus a new key */
static char *fm_keyring_newtext(const char *old, int id,
				const unsigned char secret[FM_KEY_OCTETS])
{
	size_t oldlen = strlen(old);
	size_t cap = oldlen + 2 * FM_KEY_OCTETS + 16;
	unsigned char junk[FM_KEY_OCTETS];
	const char *p, *eol;
	char *out, *q;
	int lid;
	size_t i;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	q = out;
	for (p = old; *p != '\0'; p = (*eol == '\n') ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		if (fm_keyring_line(p, eol, &lid, junk, NULL, 0) == 1
		    && lid == id)
			continue;
		memcpy(q, p, (size_t)(eol - p));
		q += eol - p;
		*q++ = '\n';
	}
	q += snprintf(q, cap - (size_t)(q - out), "%d ", id);
	for (i = 0; i < FM_KEY_OCTETS; i++) {
		*q++ = "0123456789abcdef"[secret[i] >> 4];
		*q++ = "0123456789abcdef"[secret[i] & 15];
	}
	*q++ = '\n';
	*q = '\0';
	OPENSSL_cleanse(junk, sizeof(junk));
	return out;
}

/* fm_keyring_readold - current key file text for appending; "" if missing */
static char *fm_keyring_readold(const char *path, struct stat *st,
				int *exists, char *err, size_t errlen)
{
	char *text = NULL;
	int fd;

	*exists = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if ((text = calloc(1, 1)) == NULL)
			fm_codec_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (fd < 0 && errno == ELOOP) {
		fm_codec_err(err, errlen, "%s: is a symbolic link; "
			     "rotate the file it points to", path);
		goto out;
	}
	if (fd < 0) {
		fm_codec_err(err, errlen, "%s: open: %s", path, strerror(errno));
		goto out;
	}
	*exists = 1;
	if (fstat(fd, st) < 0) {
		fm_codec_err(err, errlen, "%s: fstat: %s", path,
			     strerror(errno));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		fm_codec_err(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	text = fm_keyring_readfd(fd, path, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	return text;
}

/* fm_keyring_writetemp - write text to a new private file beside path */
static int fm_keyring_writetemp(const char *path, const char *text,
				const struct stat *old, int exists,
				char *tmp, size_t tmplen, char *err,
				size_t errlen)
{
	size_t len = strlen(text), done = 0;
	mode_t mode = exists ? (old->st_mode & 0640) : 0600;
	int fd = -1, ret = -1;
	ssize_t n;

	if ((size_t)snprintf(tmp, tmplen, "%s.XXXXXX", path) >= tmplen) {
		fm_codec_err(err, errlen, "%s: path too long", path);
		tmp[0] = '\0';
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		fm_codec_err(err, errlen, "%s: create: %s", tmp,
			     strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (fchmod(fd, mode) < 0) {
		fm_codec_err(err, errlen, "%s: chmod: %s", tmp, strerror(errno));
		goto out;
	}
	/* Keep the owner and group, so a group-readable file stays readable. */
	if (exists && (old->st_uid != geteuid() || old->st_gid != getegid())
	    && fchown(fd, old->st_uid, old->st_gid) < 0) {
		fm_codec_err(err, errlen, "%s: chown to %ld:%ld: %s", tmp,
			     (long)old->st_uid, (long)old->st_gid,
			     strerror(errno));
		goto out;
	}
	while (done < len) {
		n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fm_codec_err(err, errlen, "%s: write: %s", tmp,
				     strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0) {
		fm_codec_err(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		fm_codec_err(err, errlen, "%s: close: %s", tmp, strerror(errno));
		ret = -1;
	}
	return ret;
}

/* fm_keyring_syncdir - fsync the directory that holds path */
static void fm_keyring_syncdir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* fm_keyring_append_new - append a fresh random key with the next id */
int fm_keyring_append_new(const char *path, int *new_id, char *err,
			  size_t errlen)
{
	unsigned char secret[FM_KEY_OCTETS];
	fm_keyring_t *kr = NULL;
	char *old = NULL, *text = NULL;
	char tmp[PATH_MAX];
	struct stat st;
	int exists, id, ret = -1;

	tmp[0] = '\0';
	if ((old = fm_keyring_readold(path, &st, &exists, err, errlen)) == NULL)
		goto out;
	if ((kr = fm_keyring_parse_text(old, path, 1, err, errlen)) == NULL)
		goto out;
	id = (kr->signing_id + 1) % FM_KEY_IDS;	/* -1 (no keys) gives 0 */
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		fm_codec_err(err, errlen, "%s: no random octets for a key", path);
		goto out;
	}
	if ((text = fm_keyring_newtext(old, id, secret)) == NULL) {
		fm_codec_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (fm_keyring_writetemp(path, text, &st, exists, tmp, sizeof(tmp),
				 err, errlen) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		fm_codec_err(err, errlen, "rename %s to %s: %s", tmp, path,
			     strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	fm_keyring_syncdir(path);
	if (new_id != NULL)
		*new_id = id;
	ret = 0;
out:
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	OPENSSL_cleanse(secret, sizeof(secret));
	fm_keyring_freetext(old);
	fm_keyring_freetext(text);
	fm_keyring_free(kr);
	return ret;
}

/* fm_code_random_id - 35 random bits; UINT64_MAX if the CSPRNG fails */
uint64_t fm_code_random_id(void)
{
	unsigned char b[8];
	uint64_t v = 0;
	size_t i;

	/*
	 * UINT64_MAX is outside the 35-bit range, so fm_code_encode() rejects
	 * it and a caller that ignores the failure still gets no code.
	 */
	if (RAND_bytes(b, sizeof(b)) != 1)
		return UINT64_MAX;
	for (i = 0; i < sizeof(b); i++)
		v = v << 8 | b[i];
	return v & FM_RECORD_ID_MASK;
}

/* fm_code_mac - 40-bit MAC of (domain, key id, day, record id) */
static int fm_code_mac(const struct fm_keyring_key *k, const char *domain,
		       unsigned key_id, unsigned day, uint64_t record_id,
		       unsigned char mac[FM_CODE_MAC_OCTETS])
{
	unsigned char msg[FM_CODE_DOMAIN_MAX + 9];
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	size_t n;

	for (n = 0; domain[n] != '\0'; n++) {
		unsigned char c = (unsigned char)domain[n];

		if (n == FM_CODE_DOMAIN_MAX)
			return -1;
		msg[n] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
	}
	if (n == 0)
		return -1;
	msg[n++] = 0;
	msg[n++] = (unsigned char)key_id;
	msg[n++] = (unsigned char)(day >> 8);
	msg[n++] = (unsigned char)day;
	msg[n++] = (unsigned char)(record_id >> 32);
	msg[n++] = (unsigned char)(record_id >> 24);
	msg[n++] = (unsigned char)(record_id >> 16);
	msg[n++] = (unsigned char)(record_id >> 8);
	msg[n++] = (unsigned char)record_id;

	ctx = k->inner;
	SHA256_Update(&ctx, msg, n);
	SHA256_Final(md, &ctx);
	ctx = k->outer;
	SHA256_Update(&ctx, md, sizeof(md));
	SHA256_Final(md, &ctx);
	memcpy(mac, md, FM_CODE_MAC_OCTETS);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	return 0;
}

/* fm_code_put - write n 5-bit characters of v, most significant first */
static void fm_code_put(char *out, uint64_t v, int n)
{
	while (n-- > 0) {
		out[n] = fm_code_alphabet[v & 31];
		v >>= 5;
	}
}

/* fm_code_encode - write the code for record_id at time now for a domain */
int fm_code_encode(const fm_keyring_t *kr, const char *feedback_domain,
		   time_t now, uint64_t record_id, char out[FM_CODE_LEN + 1])
{
	unsigned char mac[FM_CODE_MAC_OCTETS];
	unsigned key_id, day;
	uint64_t head, tail = 0;
	size_t i;

	if (kr == NULL || kr->signing_id < 0 || feedback_domain == NULL
	    || record_id > FM_RECORD_ID_MASK)
		return -1;
	key_id = (unsigned)kr->signing_id;
	day = fm_codec_day(now);
	if (fm_code_mac(&kr->keys[key_id], feedback_domain, key_id, day,
			record_id, mac) < 0)
		return -1;
	head = (uint64_t)key_id << 45 | (uint64_t)day << 35 | record_id;
	for (i = 0; i < FM_CODE_MAC_OCTETS; i++)
		tail = tail << 8 | mac[i];
	fm_code_put(out, head, 10);
	fm_code_put(out + 10, tail, 8);
	out[FM_CODE_LEN] = '\0';
	return 0;
}

/* fm_code_decode - code characters to head (50 bits) and MAC; -1 on shape */
static int fm_code_decode(const char *code, size_t len, uint64_t *head,
			  unsigned char mac[FM_CODE_MAC_OCTETS])
{
	uint64_t h = 0, t = 0;
	unsigned bad = 0, v;
	size_t i;

	if (code == NULL || len != FM_CODE_LEN)
		return -1;
	for (i = 0; i < FM_CODE_LEN; i++) {
		v = fm_code_values[(unsigned char)code[i]];
		bad |= v & 0x80;
		if (i < 10)
			h = h << 5 | (v & 31);
		else
			t = t << 5 | (v & 31);
	}
	if (bad)
		return -1;
	*head = h;
	for (i = FM_CODE_MAC_OCTETS; i-- > 0; t >>= 8)
		mac[i] = (unsigned char)t;
	return 0;
}

/* fm_code_verify - check a code for a feedback domain at time now */
fm_code_status_t fm_code_verify(const fm_keyring_t *kr,
				const char *feedback_domain, const char *code,
				size_t len, time_t now, unsigned lifetime_days,
				fm_code_info_t *info)
{
	unsigned char got[FM_CODE_MAC_OCTETS], want[FM_CODE_MAC_OCTETS];
	fm_code_info_t in = { 0 };
	fm_code_status_t st;
	uint64_t head;

	if (fm_code_decode(code, len, &head, got) < 0) {
		st = FM_CODE_SHAPE;
		goto out;
	}
	in.key_id = (unsigned)(head >> 45) & 31;
	in.day = (unsigned)(head >> 35) & (FM_CODE_DAYS - 1);
	in.record_id = head & FM_RECORD_ID_MASK;
	in.age_days = (fm_codec_day(now) + FM_CODE_DAYS - in.day)
	    % FM_CODE_DAYS;
	if (kr == NULL || !kr->keys[in.key_id].present) {
		st = FM_CODE_UNKNOWN_KEY;
		goto out;
	}
	if (feedback_domain == NULL
	    || fm_code_mac(&kr->keys[in.key_id], feedback_domain, in.key_id,
			   in.day, in.record_id, want) < 0
	    || CRYPTO_memcmp(got, want, sizeof(got)) != 0) {
		st = FM_CODE_BAD_MAC;
		goto out;
	}
	st = in.age_days > lifetime_days ? FM_CODE_EXPIRED : FM_CODE_OK;
out:
	if (info != NULL)
		*info = in;
	return st;
}

/* fm_code_status_str - short reason text for a status */
const char *fm_code_status_str(fm_code_status_t st)
{
	switch (st) {
	case FM_CODE_OK:
		return "ok";
	case FM_CODE_SHAPE:
		return "malformed code";
	case FM_CODE_UNKNOWN_KEY:
		return "unknown key";
	case FM_CODE_BAD_MAC:
		return "bad MAC";
	case FM_CODE_EXPIRED:
		return "expired";
	}
	return "unknown status";
}

/* fm_code_normalize - lowercase copy of a code into out; 0 or -1 on shape */
int fm_code_normalize(const char *code, size_t len, char out[FM_CODE_LEN + 1])
{
	size_t i;

	if (code == NULL || len != FM_CODE_LEN)
		return -1;
	for (i = 0; i < FM_CODE_LEN; i++) {
		unsigned v = fm_code_values[(unsigned char)code[i]];

		if (v > 31)
			return -1;
		out[i] = fm_code_alphabet[v];
	}
	out[FM_CODE_LEN] = '\0';
	return 0;
}
