/*
 * codec - coded local parts for feedback addresses
 *
 * A code is 18 characters of lowercase Crockford base32 (0-9 a-z without
 * i l o u) carrying 90 bits, most significant first:
 *
 *   5-bit key id | 10-bit day (days since epoch mod 1024) |
 *   35-bit random record id | 40-bit truncated HMAC-SHA256
 *
 * The MAC covers (feedback domain in lowercase, key id, day, record id), so a
 * code is bound to the feedback domain it was issued for. Verification needs
 * no store, is constant-time in the MAC comparison and is case-insensitive.
 *
 * Keys come from a key file, one key per line: "ID SECRET" where ID is 0..31
 * and SECRET is 64 hex digits (32 octets); '#' starts a comment. The last
 * line signs; every listed key verifies, so rotation never breaks bounces
 * in flight.
 */
#ifndef FM_CODEC_H
#define FM_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FM_CODE_LEN 18		/* characters in a code */
#define FM_KEY_OCTETS 32	/* secret size */
#define FM_KEY_IDS 32		/* key ids 0..31 */
#define FM_RECORD_ID_MASK ((UINT64_C(1) << 35) - 1)

typedef struct fm_keyring fm_keyring_t;

typedef enum {
	FM_CODE_OK = 0,
	FM_CODE_SHAPE,		/* wrong length or alphabet */
	FM_CODE_UNKNOWN_KEY,	/* key id not in the key file */
	FM_CODE_BAD_MAC,	/* forged or damaged */
	FM_CODE_EXPIRED,	/* older than the lifetime, or dated in the future */
} fm_code_status_t;

typedef struct {
	unsigned key_id;
	unsigned day;		/* days since epoch mod 1024 */
	uint64_t record_id;	/* 35 bits */
	unsigned age_days;	/* (today - day) mod 1024 */
} fm_code_info_t;

/* fm_keyring_parse - parse key file text; NULL with a message naming line */
fm_keyring_t *fm_keyring_parse(const char *text, const char *name,
			       char *err, size_t errlen);

/*
 * fm_keyring_load - read and parse a key file. Refuses a file that is not a
 * regular file, is empty of keys, or is readable or writable by others
 * (group read is allowed: 0600 or 0640).
 */
fm_keyring_t *fm_keyring_load(const char *path, char *err, size_t errlen);

void fm_keyring_free(fm_keyring_t *kr);
int fm_keyring_count(const fm_keyring_t *kr);
/* fm_keyring_signing_id - id of the key that signs (the last line) */
int fm_keyring_signing_id(const fm_keyring_t *kr);

/*
 * fm_keyring_append_new - append a fresh random key with the next id
 * ((last id + 1) mod 32; an older line with that id is dropped) to PATH,
 * creating it with mode 0600 if missing. Writes a temporary file and renames
 * it over PATH. Returns 0 and the new id, or -1 with a message.
 */
int fm_keyring_append_new(const char *path, int *new_id, char *err,
			  size_t errlen);

/* fm_code_random_id - 35 random bits from the system CSPRNG */
uint64_t fm_code_random_id(void);

/*
 * fm_code_encode - write the NUL-terminated code for record_id, issued at
 * time now for feedback_domain, signed with the signing key. 0 or -1.
 */
int fm_code_encode(const fm_keyring_t *kr, const char *feedback_domain,
		   time_t now, uint64_t record_id, char out[FM_CODE_LEN + 1]);

/*
 * fm_code_verify - check code (len octets, not necessarily terminated) for
 * feedback_domain at time now with a lifetime in days. Fills info (when not
 * NULL) as far as the code could be decoded.
 */
fm_code_status_t fm_code_verify(const fm_keyring_t *kr,
				const char *feedback_domain, const char *code,
				size_t len, time_t now, unsigned lifetime_days,
				fm_code_info_t *info);

/* fm_code_status_str - short reason text for a status ("bad MAC", ...) */
const char *fm_code_status_str(fm_code_status_t st);

/* fm_code_normalize - lowercase copy of a code into out; 0 or -1 on shape */
int fm_code_normalize(const char *code, size_t len,
		      char out[FM_CODE_LEN + 1]);

#endif
