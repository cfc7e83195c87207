/*
 * classify_int - what classify.c and classify_find.c share
 */
#ifndef FM_CLASSIFY_INT_H
#define FM_CLASSIFY_INT_H

#include <stddef.h>

#define FM_CLASSIFY_TEXT_MAX 8192	/* octets of a text the patterns see */

/* classify_find_init - build the matcher of fm_command_texts; 0 or -1 */
int classify_find_init(void);

/* classify_find_valid - whether len octets at s are "c.s.d" with c 2, 4
 * or 5 */
int classify_find_valid(const char *s, size_t len);

#endif
