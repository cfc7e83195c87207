/*
 * resolver - the one DNS client of feedback-milter (libunbound)
 *
 * SPF, DKIM and the DNS record check all ask their questions through one
 * fm_resolver_t, created once per process and shared by every milter
 * thread. Each query is bounded by a deadline, also when the name servers
 * are down or silent, and comes back as a status, a TTL and the records in
 * text form (TXT strings joined per record, as RFC 7208 and RFC 6376 read
 * them).
 *
 *	r = fm_resolver_new("127.0.0.1@5353 ::1", 5000, err, sizeof(err));
 *	st = fm_resolver_query(r, "example.nl", FM_DNS_TXT, 0, &ans);
 *	... ans.count records in ans.rr[] ...
 *	fm_dns_answer_free(&ans);
 *	fm_resolver_free(r);
 *
 * fm_resolver_new_static() makes a resolver over an in-memory zone instead,
 * so that unit tests of SPF and DKIM can inject DNS data and failures
 * without a server.
 */
#ifndef FM_RESOLVER_H
#define FM_RESOLVER_H

#include <stddef.h>

/* Record types, as their DNS numbers. */
enum {
	FM_DNS_A = 1,
	FM_DNS_NS = 2,
	FM_DNS_CNAME = 5,
	FM_DNS_PTR = 12,
	FM_DNS_MX = 15,
	FM_DNS_TXT = 16,
	FM_DNS_AAAA = 28,
};

typedef enum {
	FM_DNS_OK = 0,		/* one or more records */
	FM_DNS_NXDOMAIN,	/* the name does not exist */
	FM_DNS_NODATA,		/* the name exists, no records of this type */
	FM_DNS_TEMPFAIL,	/* timeout, SERVFAIL, REFUSED, network error */
	FM_DNS_PERMFAIL,	/* malformed name or answer: asking again won't help */
} fm_dns_status_t;

#define FM_DNS_NAME_MAX 253	/* longest name, text form, no final dot */
#define FM_DNS_DEFAULT_TIMEOUT_MS 5000

typedef struct fm_dns_rr {
	int type;		/* FM_DNS_* */
	unsigned pref;		/* MX preference */
	unsigned char addr[16];	/* A: 4 octets, AAAA: 16 */
	size_t len;		/* strlen-like length of text */
	char *text;		/* TXT: the strings of one record joined; */
	/* MX, CNAME, PTR, NS: the host name, no final dot; A, AAAA: printable */
} fm_dns_rr_t;

typedef struct fm_dns_answer {
	fm_dns_status_t status;
	int rcode;		/* DNS RCODE when the server gave one, else -1 */
	unsigned ttl;		/* of the records, or of the negative answer */
	int cname;		/* a CNAME chain was followed */
	char canon[FM_DNS_NAME_MAX + 1];	/* owner of the final records */
	size_t count;
	fm_dns_rr_t *rr;
	char why[128];		/* for TEMPFAIL and PERMFAIL: what happened */
} fm_dns_answer_t;

typedef struct fm_resolver fm_resolver_t;

/*
 * fm_resolver_new - a libunbound resolver. nameservers is NULL or "" for the
 * system's /etc/resolv.conf, else a list of addresses separated by spaces or
 * commas, each with an optional port: "127.0.0.1@5353 ::1". timeout_ms
 * bounds every query (0: FM_DNS_DEFAULT_TIMEOUT_MS). Returns NULL with a
 * message in err on failure. Safe to call before fork(): threads start with
 * the first query.
 */
fm_resolver_t *fm_resolver_new(const char *nameservers, unsigned timeout_ms,
			       char *err, size_t errlen);

/*
 * fm_resolver_new_static - a resolver over an in-memory zone, one record per
 * line: "NAME TYPE DATA", TYPE one of A AAAA MX CNAME PTR NS TXT. TXT data
 * is one or more "quoted strings" (joined) or the rest of the line; MX data
 * is "PREF HOST". Two pseudo types make failures: "NAME TEMPFAIL" and
 * "NAME PERMFAIL" answer every query for NAME so. Names that are not in the
 * zone are NXDOMAIN; names that are, or that own names below them, are
 * NODATA for other types. Blank lines and '#' comments are ignored.
 */
fm_resolver_t *fm_resolver_new_static(const char *zone, char *err,
				      size_t errlen);

void fm_resolver_free(fm_resolver_t *r);

/* fm_resolver_timeout - the configured per-query timeout in milliseconds */
unsigned fm_resolver_timeout(const fm_resolver_t *r);

/*
 * fm_resolver_query - look up name/type; timeout_ms 0 uses the resolver's
 * timeout, a smaller value shortens this one query. Fills ans (free it with
 * fm_dns_answer_free whatever the status) and returns ans->status. Safe to
 * call from any number of threads at once.
 */
fm_dns_status_t fm_resolver_query(fm_resolver_t *r, const char *name,
				  int type, unsigned timeout_ms,
				  fm_dns_answer_t *ans);

void fm_dns_answer_free(fm_dns_answer_t *ans);

/* fm_dns_status_name - "ok", "nxdomain", "nodata", "tempfail", "permfail" */
const char *fm_dns_status_name(fm_dns_status_t st);
/* fm_dns_type_name - "A", "TXT", ... or "TYPE<n>" written into buf */
const char *fm_dns_type_name(int type, char *buf, size_t len);

/*
 * fm_dns_name_valid - is this a name we may ask about: 1..253 octets of
 * printable ASCII without spaces, labels of 1..63 octets (one final dot
 * allowed).
 */
int fm_dns_name_valid(const char *name);

#endif
