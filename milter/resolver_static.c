/*
 * resolver_static - a resolver over an in-memory zone, for unit tests
 *
 * The static backend (fm_resolver_new_static) answers from a parsed,
 * immutable zone text and is thread-safe for the same reason. It exists for
 * unit tests: they inject records, NXDOMAIN, NODATA and failures without a
 * server.
 *
 * fm_resolver_query() in resolver.c sends the queries of a resolver without
 * a libunbound context here, to fm_zone_query(); the zone format is
 * described with fm_resolver_new_static() in resolver.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolver_int.h"

#define FM_DNS_CNAME_MAX 8	/* static zone: longest CNAME chain */
#define FM_DNS_STATIC_TTL 300

/* fm_type_by_name - record type number for a zone-file type name */
static int fm_type_by_name(const char *name)
{
	char buf[16];
	int t;

	for (t = 1; t < 64; t++) {
		const char *n = fm_dns_type_name(t, buf, sizeof(buf));

		if (n != buf && strcasecmp(n, name) == 0)
			return t;
	}
	if (strcasecmp(name, "TEMPFAIL") == 0)
		return FM_ZONE_TEMPFAIL;
	if (strcasecmp(name, "PERMFAIL") == 0)
		return FM_ZONE_PERMFAIL;
	return 0;
}

/* -------------------------------------------------------- static zone */

/* fm_zone_txt - parse TXT data: "a" "b" joined, or the bare rest */
static int fm_zone_txt(const char *p, char *out, size_t outlen)
{
	size_t o = 0;

	if (*p != '"') {
		size_t n = strlen(p);

		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n >= outlen)
			return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	while (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
	}
	out[o] = '\0';
	return *p == '\0' ? 0 : -1;
}

/* fm_zone_data - parse the data of one zone line into rr (text in buf) */
static int fm_zone_data(int type, const char *data, fm_dns_rr_t *rr,
			char *buf, size_t buflen)
{
	char *end;

	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	rr->text = buf;
	buf[0] = '\0';
	switch (type) {
	case FM_ZONE_TEMPFAIL:
	case FM_ZONE_PERMFAIL:
		return *data == '\0' ? 0 : -1;
	case FM_DNS_A:
	case FM_DNS_AAAA:
		if (inet_pton(type == FM_DNS_A ? AF_INET : AF_INET6, data,
			      rr->addr) != 1)
			return -1;
		snprintf(buf, buflen, "%s", data);
		break;
	case FM_DNS_TXT:
		if (fm_zone_txt(data, buf, buflen) < 0)
			return -1;
		break;
	case FM_DNS_MX:
		rr->pref = (unsigned)strtoul(data, &end, 10);
		if (end == data || !isspace((unsigned char)*end))
			return -1;
		data = end + strspn(end, " \t");
		/* FALLTHROUGH */
	default:
		if (!fm_dns_name_valid(data) && strcmp(data, ".") != 0)
			return -1;
		fm_copy_name(buf, buflen, data);
		if (buf[0] == '\0')
			snprintf(buf, buflen, ".");
		break;
	}
	rr->len = strlen(buf);
	return 0;
}

/* fm_zone_line - parse one "NAME TYPE DATA" line into the zone */
static int fm_zone_line(fm_resolver_t *r, char *line, char *buf,
			size_t buflen)
{
	char *name, *tname, *data, *end;
	fm_zone_rr_t *z;
	int type;

	name = line + strspn(line, " \t");
	end = name + strcspn(name, " \t");
	tname = end + strspn(end, " \t");
	if (*end != '\0')
		*end = '\0';
	end = tname + strcspn(tname, " \t");
	data = end + strspn(end, " \t");
	if (*end != '\0')
		*end = '\0';
	if (!fm_dns_name_valid(name) || (type = fm_type_by_name(tname)) == 0)
		return -1;
	z = realloc(r->zone, (r->nzone + 1) * sizeof(*z));
	if (z == NULL)
		return -1;
	r->zone = z;
	z = &r->zone[r->nzone];
	if (fm_zone_data(type, data, &z->rr, buf, buflen) < 0)
		return -1;
	z->name = malloc(strlen(name) + 1);
	z->rr.text = malloc(z->rr.len + 1);
	if (z->name == NULL || z->rr.text == NULL) {
		free(z->name);
		free(z->rr.text);
		return -1;
	}
	fm_copy_name(z->name, strlen(name) + 1, name);
	memcpy(z->rr.text, buf, z->rr.len + 1);
	r->nzone++;
	return 0;
}

/* fm_resolver_new_static - see resolver.h */
fm_resolver_t *fm_resolver_new_static(const char *zone, char *err,
				      size_t errlen)
{
	fm_resolver_t *r;
	char *copy = NULL, *line, *next, buf[4096];
	int lineno = 0;

	if ((r = fm_resolver_alloc(0)) == NULL
	    || (copy = strdup(zone != NULL ? zone : "")) == NULL) {
		fm_errf(err, errlen, "out of memory");
		goto fail;
	}
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (line[strspn(line, " \t")] == '\0'
		    || line[strspn(line, " \t")] == '#')
			continue;
		if (fm_zone_line(r, line, buf, sizeof(buf)) < 0) {
			fm_errf(err, errlen, "static zone line %d: bad record",
				lineno);
			goto fail;
		}
	}
	free(copy);
	return r;
fail:
	free(copy);
	fm_resolver_free(r);
	return NULL;
}

/* fm_zone_exists - does name own records, or names below it (ENT) */
static int fm_zone_exists(const fm_resolver_t *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->nzone; i++) {
		const char *z = r->zone[i].name;
		size_t zl = strlen(z);

		if (strcmp(z, name) == 0)
			return 1;
		if (zl > n && z[zl - n - 1] == '.' && strcmp(z + zl - n,
							     name) == 0)
			return 1;
	}
	return 0;
}

/* fm_zone_find - first record of name with type, or NULL */
static const fm_zone_rr_t *fm_zone_find(const fm_resolver_t *r,
					const char *name, int type)
{
	size_t i;

	for (i = 0; i < r->nzone; i++)
		if (r->zone[i].rr.type == type
		    && strcmp(r->zone[i].name, name) == 0)
			return &r->zone[i];
	return NULL;
}

/* fm_zone_query - answer from the static zone */
fm_dns_status_t fm_zone_query(const fm_resolver_t *r, const char *qname,
			      int type, fm_dns_answer_t *ans)
{
	const fm_zone_rr_t *z;
	int hops;
	size_t i;

	fm_copy_name(ans->canon, sizeof(ans->canon), qname);
	for (hops = 0;; hops++) {
		if (fm_zone_find(r, ans->canon, FM_ZONE_TEMPFAIL) != NULL)
			return fm_answer_fail(ans, FM_DNS_TEMPFAIL,
					      "server failure (static zone)");
		if (fm_zone_find(r, ans->canon, FM_ZONE_PERMFAIL) != NULL)
			return fm_answer_fail(ans, FM_DNS_PERMFAIL,
					      "permanent failure (static zone)");
		z = fm_zone_find(r, ans->canon, FM_DNS_CNAME);
		if (type == FM_DNS_CNAME || z == NULL)
			break;
		if (hops == FM_DNS_CNAME_MAX)
			return fm_answer_fail(ans, FM_DNS_TEMPFAIL,
					      "CNAME chain too long");
		ans->cname = 1;
		fm_copy_name(ans->canon, sizeof(ans->canon), z->rr.text);
	}
	ans->ttl = FM_DNS_STATIC_TTL;
	ans->rcode = 0;
	for (i = 0; i < r->nzone; i++)
		if (r->zone[i].rr.type == type
		    && strcmp(r->zone[i].name, ans->canon) == 0
		    && fm_answer_add(ans, &r->zone[i].rr) < 0)
			return fm_answer_fail(ans, FM_DNS_TEMPFAIL,
					      "out of memory");
	if (ans->count > 0)
		return ans->status = FM_DNS_OK;
	if (fm_zone_exists(r, ans->canon))
		return ans->status = FM_DNS_NODATA;
	ans->rcode = 3;
	return ans->status = FM_DNS_NXDOMAIN;
}
