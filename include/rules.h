/*
 * rules - follow-up rules: which events suppress their recipient
 *
 * Per class one rule: never suppress, suppress at once, or suppress once
 * the recipient has had COUNT events of the class within WINDOW, counting
 * distinct messages (send records). A suppression may expire. Defaults:
 * hard and complaint at once, soft after 3 within 7 days; delayed,
 * autoreply, delivered and unknown never. Expiry: none for hard and
 * complaint, 30 days for soft. Pure: the store counts, this decides.
 */
#ifndef FM_RULES_H
#define FM_RULES_H

#include <stddef.h>
#include <time.h>

/* Classes, in the order of fm_config_class_names and fm_class_t. */
#define FM_NCLASSES 7

typedef enum {
	FM_RULE_NEVER = 0,
	FM_RULE_NOW,
	FM_RULE_THRESHOLD,
} fm_rule_kind_t;

typedef struct {
	fm_rule_kind_t kind;
	unsigned count;		/* THRESHOLD: events of distinct messages */
	unsigned window;	/* THRESHOLD: seconds */
	unsigned expiry;	/* seconds a suppression lasts; 0 = for good */
} fm_followup_t;

/* Indexed like fm_config_class_names (unknown, hard, soft, ...). */
typedef struct {
	fm_followup_t rule[FM_NCLASSES];
} fm_rules_t;

/* fm_rules_defaults - the rules without configuration */
void fm_rules_defaults(fm_rules_t *rules);

/* fm_rules_class - index of a class name, or -1 */
int fm_rules_class(const char *cls);

/*
 * fm_rules_decide - should an event of class cls suppress its recipient,
 * given how many distinct messages to it had events of that class within
 * the rule's window (this one included)? On yes, *expires is the expiry
 * time (0 for none).
 */
int fm_rules_decide(const fm_rules_t *rules, const char *cls,
		    unsigned distinct_recent, time_t now, time_t *expires);

/* fm_rules_duration - "30d", "12h", "90m", "45s": the largest unit */
void fm_rules_duration(unsigned secs, char *out, size_t size);

/* fm_rules_describe - "soft after 3 in 7d, expires after 30d" for logs */
void fm_rules_describe(const fm_followup_t *rule, char *out, size_t size);

#endif
