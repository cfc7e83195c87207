/*
 * dnscheck_cache - are the resolver's answers what the authorities publish
 *
 * A record that was just created or changed is visible at the domain's
 * authoritative name servers at once, but a resolver that asked before
 * keeps the old answer (or the old "no such record") until its TTL runs
 * out. The check remembers every answer its rules used (fm_chk_seen_add);
 * afterwards each one is asked again from the authoritative servers of its
 * zone and compared.
 *
 * The authoritative servers of a name are found with the configured
 * resolver: NS records at the name or the nearest name above it that has
 * them (a CNAME is not a zone cut), then an address for each server
 * (IPv4 first), at most FM_AUTH_MAX of them. Each server is then asked
 * directly through a resolver of its own: a libunbound forwarder to that
 * one address (fm_chk_auth_resolver). libunbound sets RD, which an
 * authoritative server ignores while it answers its own zones. An answer
 * that came through a CNAME is compared in two parts, the CNAME at the
 * name and the records at its target, each at the servers of its own zone.
 * TTLs are not compared: caches count them down.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnscheck.h"

#define FM_AUTH_MAX 3		/* servers asked per zone */
#define FM_CACHE_TEXT 2048	/* answer text compared */

typedef struct fm_auth_zone {
	char name[FM_DNS_NAME_MAX + 1];
	size_t naddrs;
	char addrs[FM_AUTH_MAX][INET6_ADDRSTRLEN];
	char hosts[FM_AUTH_MAX][FM_DNS_NAME_MAX + 1];
} fm_auth_zone_t;

typedef struct fm_auth_server {
	char addr[INET6_ADDRSTRLEN];
	fm_resolver_t *r;	/* NULL: could not be made */
	unsigned failed;	/* queries that got no answer */
	char why[256];		/* the first failure */
} fm_auth_server_t;

typedef struct fm_cache {
	fm_resolver_t *res;
	const fm_chk_auth_t *auth;
	fm_chk_report_t *rep;
	fm_auth_zone_t *zones;
	size_t nzones;
	fm_auth_server_t *servers;
	size_t nservers;
	char **done;		/* "TYPE name" already compared */
	size_t ndone;
	unsigned compared, differ, nozone;
	char nozone_name[FM_DNS_NAME_MAX + 1];
} fm_cache_t;

/* fm_cmp_str - qsort comparison of strings */
static int fm_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fm_chk_answer_text - see dnscheck.h */
void fm_chk_answer_text(const fm_dns_answer_t *ans, const char *sep,
			char *out, size_t outlen)
{
	char **items, buf[FM_DNS_NAME_MAX + 16];
	size_t i, o = 0;

	out[0] = '\0';
	if (ans->count == 0 || (items = calloc(ans->count, sizeof(*items)))
	    == NULL)
		return;
	for (i = 0; i < ans->count; i++) {
		if (ans->rr[i].type == FM_DNS_MX) {
			snprintf(buf, sizeof(buf), "%u %s", ans->rr[i].pref,
				 ans->rr[i].text);
			items[i] = strdup(buf);
		} else {
			items[i] = strdup(ans->rr[i].text);
		}
	}
	qsort(items, ans->count, sizeof(*items), fm_cmp_str);
	for (i = 0; i < ans->count; i++) {
		if (items[i] != NULL && o < outlen)
			o += (size_t)snprintf(out + o, outlen - o, "%s%s",
					      i ? sep : "", items[i]);
		free(items[i]);
	}
	free(items);
}

/* fm_chk_seen_add - see dnscheck.h */
int fm_chk_seen_add(fm_chk_seen_list_t *l, const char *name, int type,
		    const fm_dns_answer_t *ans)
{
	char text[FM_CACHE_TEXT];
	fm_chk_seen_t *grown, *e;
	size_t i;

	for (i = 0; i < l->count; i++)
		if (l->items[i].type == type
		    && strcasecmp(l->items[i].name, name) == 0)
			return 0;
	grown = realloc(l->items, (l->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	l->items = grown;
	e = &l->items[l->count];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->canon, sizeof(e->canon), "%s", ans->canon);
	e->type = type;
	e->status = ans->status;
	e->ttl = ans->ttl;
	e->cname = ans->cname;
	fm_chk_answer_text(ans, "\n", text, sizeof(text));
	if ((e->data = strdup(text)) == NULL)
		return -1;
	l->count++;
	return 0;
}

/* fm_chk_seen_free - release the list */
void fm_chk_seen_free(fm_chk_seen_list_t *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		free(l->items[i].data);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* fm_chk_auth_resolver - see dnscheck.h */
fm_resolver_t *fm_chk_auth_resolver(void *auth, const char *addr, char *err,
				    size_t errlen)
{
	const fm_chk_auth_t *a = auth;
	char ns[INET6_ADDRSTRLEN + 8];

	snprintf(ns, sizeof(ns), "%s@%u", addr, a->port ? a->port : 53);
	return fm_resolver_new(ns, a->timeout_ms, err, errlen);
}

/* fm_cache_ns_addr - an address of name server host, "" if none */
static void fm_cache_ns_addr(fm_cache_t *c, const char *host, char *out,
			     size_t outlen)
{
	static const int types[] = {FM_DNS_A, FM_DNS_AAAA};
	fm_dns_answer_t ans;
	size_t i;

	out[0] = '\0';
	for (i = 0; i < 2 && out[0] == '\0'; i++) {
		if (fm_resolver_query(c->res, host, types[i], 0, &ans)
		    == FM_DNS_OK && ans.count > 0)
			snprintf(out, outlen, "%s", ans.rr[0].text);
		fm_dns_answer_free(&ans);
	}
}

/* fm_cache_new_zone - a zone whose NS records are in ans */
static fm_auth_zone_t *fm_cache_new_zone(fm_cache_t *c, const char *name,
					 const fm_dns_answer_t *ans)
{
	fm_auth_zone_t *grown, *z;
	size_t i;

	grown = realloc(c->zones, (c->nzones + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	c->zones = grown;
	z = &c->zones[c->nzones++];
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", name);
	for (i = 0; i < ans->count && z->naddrs < FM_AUTH_MAX; i++) {
		fm_cache_ns_addr(c, ans->rr[i].text, z->addrs[z->naddrs],
				 sizeof(z->addrs[0]));
		if (z->addrs[z->naddrs][0] == '\0')
			continue;
		snprintf(z->hosts[z->naddrs], sizeof(z->hosts[0]), "%s",
			 ans->rr[i].text);
		z->naddrs++;
	}
	return z;
}

/* fm_cache_zone - the zone that holds name, with its servers; or NULL */
static fm_auth_zone_t *fm_cache_zone(fm_cache_t *c, const char *name)
{
	fm_auth_zone_t *z = NULL;
	fm_dns_answer_t ans;
	fm_dns_status_t st;
	const char *n;
	size_t i;

	for (n = name; strchr(n, '.') != NULL; n = strchr(n, '.') + 1) {
		for (i = 0; i < c->nzones; i++)
			if (strcasecmp(c->zones[i].name, n) == 0)
				return &c->zones[i];
		st = fm_resolver_query(c->res, n, FM_DNS_NS, 0, &ans);
		if (st == FM_DNS_OK && !ans.cname && ans.count > 0)
			z = fm_cache_new_zone(c, n, &ans);
		fm_dns_answer_free(&ans);
		if (z != NULL || st == FM_DNS_TEMPFAIL || st == FM_DNS_PERMFAIL)
			return z;
	}
	return NULL;
}

/* fm_cache_server - the resolver for one authoritative address */
static fm_auth_server_t *fm_cache_server(fm_cache_t *c, const char *addr)
{
	fm_auth_server_t *grown, *s;
	size_t i;

	for (i = 0; i < c->nservers; i++)
		if (strcmp(c->servers[i].addr, addr) == 0)
			return &c->servers[i];
	grown = realloc(c->servers, (c->nservers + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	c->servers = grown;
	s = &c->servers[c->nservers++];
	memset(s, 0, sizeof(*s));
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->r = c->auth->new_resolver(c->auth->arg, addr, s->why,
				     sizeof(s->why));
	if (s->r == NULL)
		s->failed = 1;
	return s;
}

/* fm_cache_show - printable answer: records joined with " | ", or status */
static void fm_cache_show(fm_dns_status_t st, const char *data, char *out,
			  size_t outlen)
{
	size_t o = 0;

	if (st == FM_DNS_NXDOMAIN || (st != FM_DNS_OK && data[0] == '\0')) {
		snprintf(out, outlen, "%s", st == FM_DNS_NXDOMAIN
			 ? "no such name" : "no such record");
		return;
	}
	for (; *data != '\0' && o + 4 < outlen; data++) {
		if (*data == '\n') {
			memcpy(out + o, " | ", 3);
			o += 3;
		} else {
			out[o++] = *data;
		}
	}
	out[o] = '\0';
}

/* fm_cache_differs - add the row for an answer that differs */
static void fm_cache_differs(fm_cache_t *c, const char *name, int type,
			     const fm_chk_seen_t *rec,
			     const fm_dns_answer_t *auth, const char *adata,
			     const fm_auth_zone_t *z, size_t k)
{
	char tbuf[16], was[1024], now[1024], value[2600], advice[700];
	unsigned ttl = rec->ttl > auth->ttl ? rec->ttl : auth->ttl;
	const char *tname = fm_dns_type_name(type, tbuf, sizeof(tbuf));

	fm_cache_show(rec->status, rec->data, was, sizeof(was));
	fm_cache_show(auth->status, adata, now, sizeof(now));
	snprintf(value, sizeof(value), "%s: resolver: %s; %s (%s): %s", tname,
		 was, z->hosts[k], z->addrs[k], now);
	snprintf(advice, sizeof(advice), "the authoritative server %s "
		 "publishes a different %s answer than the resolver gives: "
		 "the change is not visible everywhere yet; resolvers may "
		 "keep the old answer for up to %u s (about %u min) after "
		 "they last fetched it", z->hosts[k], tname, ttl,
		 (ttl + 59) / 60);
	(void)fm_chk_add(c->rep, "cache", name, FM_CHK_WARN, value,
			 (long)rec->ttl, advice);
	c->differ++;
}

/* fm_cache_done - has this name and type been compared; mark it */
static int fm_cache_done(fm_cache_t *c, const char *name, int type)
{
	char key[FM_DNS_NAME_MAX + 16], **grown;
	size_t i;

	snprintf(key, sizeof(key), "%d %s", type, name);
	for (i = 0; i < c->ndone; i++)
		if (strcasecmp(c->done[i], key) == 0)
			return 1;
	grown = realloc(c->done, (c->ndone + 1) * sizeof(*grown));
	if (grown == NULL)
		return 1;
	c->done = grown;
	if ((c->done[c->ndone] = strdup(key)) != NULL)
		c->ndone++;
	return 0;
}

/* fm_cache_item - compare one resolver answer with the authorities */
static void fm_cache_item(fm_cache_t *c, const char *name, int type,
			  const fm_chk_seen_t *rec)
{
	char data[FM_CACHE_TEXT];
	fm_auth_server_t *srv;
	fm_auth_zone_t *z;
	fm_dns_answer_t ans;
	fm_dns_status_t st;
	size_t k;

	if (fm_cache_done(c, name, type))
		return;
	if ((z = fm_cache_zone(c, name)) == NULL || z->naddrs == 0) {
		if (c->nozone++ == 0)
			snprintf(c->nozone_name, sizeof(c->nozone_name), "%s",
				 name);
		return;
	}
	for (k = 0; k < z->naddrs; k++) {
		if ((srv = fm_cache_server(c, z->addrs[k])) == NULL
		    || srv->r == NULL)
			continue;
		st = fm_resolver_query(srv->r, name, type, 0, &ans);
		if (st == FM_DNS_TEMPFAIL || st == FM_DNS_PERMFAIL) {
			if (srv->failed++ == 0)
				snprintf(srv->why, sizeof(srv->why), "%s: %s",
					 name, ans.why);
			fm_dns_answer_free(&ans);
			continue;
		}
		c->compared++;
		fm_chk_answer_text(&ans, "\n", data, sizeof(data));
		if (st != rec->status || strcmp(data, rec->data) != 0) {
			fm_cache_differs(c, name, type, rec, &ans, data, z, k);
			fm_dns_answer_free(&ans);
			return;
		}
		fm_dns_answer_free(&ans);
	}
}

/* fm_cache_seen - compare one remembered answer (two parts via a CNAME) */
static void fm_cache_seen(fm_cache_t *c, const fm_chk_seen_t *e)
{
	fm_chk_seen_t part;
	fm_dns_answer_t ans;
	char text[FM_CACHE_TEXT];

	if (e->status == FM_DNS_TEMPFAIL || e->status == FM_DNS_PERMFAIL)
		return;
	if (!e->cname || e->type == FM_DNS_CNAME) {
		fm_cache_item(c, e->name, e->type, e);
		return;
	}
	memset(&part, 0, sizeof(part));
	snprintf(part.name, sizeof(part.name), "%s", e->name);
	part.type = FM_DNS_CNAME;
	part.status = fm_resolver_query(c->res, e->name, FM_DNS_CNAME, 0, &ans);
	part.ttl = ans.ttl;
	fm_chk_answer_text(&ans, "\n", text, sizeof(text));
	part.data = text;
	if (part.status != FM_DNS_TEMPFAIL && part.status != FM_DNS_PERMFAIL)
		fm_cache_item(c, e->name, FM_DNS_CNAME, &part);
	fm_dns_answer_free(&ans);
	fm_cache_item(c, e->canon, e->type, e);
}

/* fm_cache_summary - rows for servers that failed, or the ok row */
static void fm_cache_summary(fm_cache_t *c, const char *domain)
{
	char value[300], advice[600];
	size_t i;

	for (i = 0; i < c->nservers; i++) {
		fm_auth_server_t *s = &c->servers[i];

		if (s->failed == 0)
			continue;
		snprintf(advice, sizeof(advice), "%u quer%s to this "
			 "authoritative server got no answer (first: %s): "
			 "it may be down or not serve the zone", s->failed,
			 s->failed == 1 ? "y" : "ies", s->why);
		(void)fm_chk_add(c->rep, "cache", s->addr, FM_CHK_WARN, "",
				 FM_CHK_NO_TTL, advice);
	}
	if (c->nozone > 0) {
		snprintf(advice, sizeof(advice), "no authoritative server found "
			 "for %u name%s (first: %s): not compared", c->nozone,
			 c->nozone == 1 ? "" : "s", c->nozone_name);
		(void)fm_chk_add(c->rep, "cache", c->nozone_name, FM_CHK_WARN,
				 "", FM_CHK_NO_TTL, advice);
	}
	if (c->differ > 0 || c->compared == 0)
		return;
	snprintf(value, sizeof(value), "%u answers compared with %zu "
		 "authoritative server%s", c->compared, c->nservers,
		 c->nservers == 1 ? "" : "s");
	(void)fm_chk_add(c->rep, "cache", domain, FM_CHK_OK, value,
			 FM_CHK_NO_TTL, "the resolver gives the answers the "
			 "authoritative servers publish");
}

/* fm_chk_cache - see dnscheck.h */
void fm_chk_cache(fm_resolver_t *res, const fm_chk_seen_list_t *seen,
		  const fm_chk_auth_t *auth, const char *domain,
		  fm_chk_report_t *rep)
{
	fm_cache_t c;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.res = res;
	c.auth = auth;
	c.rep = rep;
	for (i = 0; i < seen->count; i++)
		fm_cache_seen(&c, &seen->items[i]);
	fm_cache_summary(&c, domain);
	for (i = 0; i < c.nservers; i++)
		fm_resolver_free(c.servers[i].r);
	for (i = 0; i < c.ndone; i++)
		free(c.done[i]);
	free(c.done);
	free(c.servers);
	free(c.zones);
}
