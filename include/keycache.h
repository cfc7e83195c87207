/*
 * keycache.h - decoded DKIM public keys kept between messages
 * (milter/keycache.c defines d2i_PUBKEY_bio() for the daemon, which
 * libopendkim calls to decode the key of each signature).
 */
#ifndef FM_KEYCACHE_H
#define FM_KEYCACHE_H

/* keys kept; the oldest is replaced first */
#define FM_KEYCACHE_SLOTS 32
/* longest record kept, in octets: no DNS message is longer */
#define FM_KEYCACHE_MAX_DER 65535

/* fm_keycache_stats - keys decoded, kept keys handed out again, and
 * records that did not decode, since the start (or the last clear) */
void fm_keycache_stats(unsigned long *decoded, unsigned long *reused,
		       unsigned long *failed);

/* fm_keycache_clear - drop every key kept, and zero the counts */
void fm_keycache_clear(void);

#endif
