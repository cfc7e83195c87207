/*
 * rules - follow-up rules: which events suppress their recipient
 *
 * One rule per class (indexed like fm_config_class_names): never, now, or
 * a threshold of COUNT distinct messages within WINDOW seconds, and how
 * long the suppression it makes lasts. This module only decides; the store
 * (store_suppress.c) counts the distinct messages inside the transaction
 * that records the event and writes the suppression. No globals, no I/O,
 * no clock: the caller passes the time.
 *
 *	fm_rules_t rules;
 *
 *	fm_rules_defaults(&rules);		(or cfg->rules)
 *	if (fm_rules_decide(&rules, "soft", 3, ev_time, &expires))
 *		suppress until expires (0: for good);
 *	fm_rules_describe(&rules.rule[fm_rules_class("soft")], buf,
 *			  sizeof(buf));		"after 3 in 7d, expires ..."
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "rules.h"

/* class indexes in fm_config_class_names order */
enum { RULES_HARD = 1, RULES_SOFT = 2, RULES_COMPLAINT = 5 };

/* fm_rules_defaults - hard and complaint now, soft 3 in 7 days */
void fm_rules_defaults(fm_rules_t *rules)
{
	memset(rules, 0, sizeof(*rules));
	rules->rule[RULES_HARD].kind = FM_RULE_NOW;
	rules->rule[RULES_COMPLAINT].kind = FM_RULE_NOW;
	rules->rule[RULES_SOFT].kind = FM_RULE_THRESHOLD;
	rules->rule[RULES_SOFT].count = 3;
	rules->rule[RULES_SOFT].window = 7 * 86400;
	rules->rule[RULES_SOFT].expiry = 30 * 86400;
}

/* fm_rules_class - index of a class name (any case), or -1 */
int fm_rules_class(const char *cls)
{
	int i;

	if (cls == NULL)
		return -1;
	for (i = 0; i < FM_NCLASSES; i++)
		if (strcasecmp(cls, fm_config_class_names[i]) == 0)
			return i;
	return -1;
}

/*
 * fm_rules_decide - does an event of class cls at time now suppress its
 * recipient, with distinct_recent messages (this one included) having had
 * events of the class within the rule's window? *expires: 0 for good.
 */
int fm_rules_decide(const fm_rules_t *rules, const char *cls,
		    unsigned distinct_recent, time_t now, time_t *expires)
{
	const fm_followup_t *r;
	int i = fm_rules_class(cls), yes;

	if (rules == NULL || i < 0)
		return 0;
	r = &rules->rule[i];
	switch (r->kind) {
	case FM_RULE_NOW:
		yes = 1;
		break;
	case FM_RULE_THRESHOLD:
		yes = distinct_recent >= (r->count ? r->count : 1);
		break;
	default:
		yes = 0;
		break;
	}
	if (yes && expires != NULL)
		*expires = r->expiry ? now + (time_t) r->expiry : 0;
	return yes;
}

/* fm_rules_duration - seconds in the largest unit that divides them */
void fm_rules_duration(unsigned secs, char *out, size_t size)
{
	if (secs % 86400 == 0)
		snprintf(out, size, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(out, size, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(out, size, "%um", secs / 60);
	else
		snprintf(out, size, "%us", secs);
}

/*
 * fm_rules_describe - one rule in words, without its class: "never",
 * "now, no expiry", "after 3 in 7d, expires after 30d"
 */
void fm_rules_describe(const fm_followup_t *rule, char *out, size_t size)
{
	char win[24], exp[24];

	if (out == NULL || size == 0)
		return;
	if (rule == NULL || (rule->kind != FM_RULE_NOW &&
			     rule->kind != FM_RULE_THRESHOLD)) {
		snprintf(out, size, "never");
		return;
	}
	fm_rules_duration(rule->window, win, sizeof(win));
	fm_rules_duration(rule->expiry, exp, sizeof(exp));
	if (rule->kind == FM_RULE_NOW)
		snprintf(out, size, "now, %s%s",
			 rule->expiry ? "expires after " : "no expiry",
			 rule->expiry ? exp : "");
	else
		snprintf(out, size, "after %u in %s, %s%s",
			 rule->count ? rule->count : 1, win,
			 rule->expiry ? "expires after " : "no expiry",
			 rule->expiry ? exp : "");
}
