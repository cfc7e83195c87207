/*
 * mime - message structure through GMime 3
 *
 * This module is the only user of GMime. It parses a message held in
 * memory and flattens the MIME tree into a list of parts that the report
 * parser reads without knowing GMime:
 *
 *	fm_mime_init();				once, at program start
 *	m = fm_mime_parse(buf, len);
 *	for (i = 0; i < fm_mime_nparts(m); i++) {
 *		p = fm_mime_part(m, i);		p->type, p->text, p->len ...
 *	}
 *	subject = fm_mime_header(m, "Subject");
 *	fm_mime_free(m);
 *
 * Every part's content is decoded from its transfer encoding, converted
 * from its charset to UTF-8 when GMime knows the charset, and cleaned: CR
 * LF and lone CR become LF, NUL becomes a space, and the text is
 * NUL-terminated, so callers can use string functions and split lines on
 * LF whatever line ends the message had.
 *
 * Initialisation also opens (and keeps open) iconv converters for the
 * charsets bounces often carry: glibc otherwise loads and unloads the
 * gconv module for ISO-2022-JP and friends around every conversion, which
 * costs more than the rest of the parse.
 *
 * GMime is used so that it copies as little as it can: it reads the
 * caller's buffer in place (a memory stream over it, not a copy), the
 * parser persists that stream so that parts refer to their content in it,
 * a part's content is read from there (decoded in one step when it is
 * base64 or quoted-printable), and an embedded message's header block is
 * taken as the message holds it. GMime builds an embedded message only
 * when its body can hold something of use (mime_embedded). The text of a
 * returned message's parts is never decoded. Each thread keeps one parser
 * for all its messages. Hence the caller's buffer must stay until
 * fm_mime_free().
 *
 * Work is bounded by the FM_MIME_MAX_* limits in mime.h. Nothing here is
 * static and mutable after fm_mime_init() but each thread's own parser,
 * so threads may parse at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif

#include <ctype.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

/* LeakSanitizer's interface, in builds with -fsanitize=address */
#if defined(__SANITIZE_ADDRESS__)
#define MIME_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MIME_LSAN 1
#endif
#endif
#ifdef MIME_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "mime.h"

struct fm_mime {
	GMimeMessage *msg;	/* NULL when GMime found no message */
	GByteArray *bytes;	/* the message GMime reads, not copied */
	const char *buf;	/* the same octets */
	size_t len;
	char *lf;		/* a copy with LF line ends, or NULL */
	fm_part_t *parts;
	size_t nparts;
	unsigned flags;
	char ctype[80];
	char report_type[48];
};

/* Charsets whose converters stay loaded; see the comment at the top. */
static const char *const mime_pinned_charsets[] = {
	"ISO-8859-1", "ISO-8859-15", "WINDOWS-1252", "ISO-2022-JP",
	"SHIFT_JIS", "EUC-JP", "EUC-KR", "GB2312", "BIG5", "KOI8-R",
	"WINDOWS-1251", "ISO-8859-2",
};

#define MIME_NPINNED (sizeof(mime_pinned_charsets) / sizeof(char *))

/* Embedded message types, which GMime is told to leave as plain parts. */
static const char *const mime_message_types[] = {
	"rfc822", "global", "rfc2822", "news",
};

#define MIME_NMESSAGE (sizeof(mime_message_types) / sizeof(char *))

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;
static int mime_init_status = -1;	/* written only under mime_once */
static iconv_t volatile mime_pinned[MIME_NPINNED];	/* likewise; never closed */
static pthread_key_t mime_parser_key;	/* each thread's parser */

/* mime_parser_drop - release a thread's parser when the thread ends */
static void mime_parser_drop(void *parser)
{
	g_object_unref(parser);
}

/* mime_init_once - g_mime_init and pin the converters */
static void mime_init_once(void)
{
	size_t i;

	/*
	 * GMime would build every returned message as a message of its
	 * own; mime_embedded() asks for that only where it is of use. Each
	 * registration here replaces one of g_mime_init(), and GMime's
	 * registry drops the entry it replaces (16 octets, once per
	 * process): LeakSanitizer is told to ignore what GMime allocates
	 * here, and tests/valgrind.supp tells valgrind.
	 */
#ifdef MIME_LSAN
	__lsan_disable();
#endif
	g_mime_init();
	for (i = 0; i < MIME_NMESSAGE; i++)
		g_mime_object_register_type("message", mime_message_types[i],
					    GMIME_TYPE_PART);
#ifdef MIME_LSAN
	__lsan_enable();
#endif
	for (i = 0; i < MIME_NPINNED; i++)
		mime_pinned[i] = iconv_open("UTF-8", mime_pinned_charsets[i]);
	if (pthread_key_create(&mime_parser_key, mime_parser_drop) != 0)
		return;
	mime_init_status = 0;
}

/* fm_mime_init - initialise GMime once */
int fm_mime_init(void)
{
	if (pthread_once(&mime_once, mime_init_once) != 0)
		return -1;
	return mime_init_status;
}

/* mime_clean - copy n octets to dst with LF line ends and no NUL (most
 * text has neither CR nor NUL: it is copied as it is) */
static size_t mime_clean(char *dst, const unsigned char *src, size_t n)
{
	const unsigned char *cr = memchr(src, '\r', n), *nul;
	size_t i, o;

	nul = memchr(src, '\0', cr ? (size_t)(cr - src) : n);

	i = nul ? (size_t)(nul - src) : cr ? (size_t)(cr - src) : n;
	memcpy(dst, src, i);
	for (o = i; i < n; i++) {
		unsigned char c = src[i];

		if (c == '\r') {
			dst[o++] = '\n';
			if (i + 1 < n && src[i + 1] == '\n')
				i++;
		} else {
			dst[o++] = c == '\0' ? ' ' : (char)c;
		}
	}
	dst[o] = '\0';
	return o;
}

/* mime_add - append a part taking n octets of src; -1 when out of memory */
static int mime_add(fm_mime_t *m, fm_part_type_t type, const char *ctype,
		    unsigned depth, unsigned level, int attachment,
		    const unsigned char *src, size_t n)
{
	fm_part_t *p;

	if (m->nparts >= FM_MIME_MAX_PARTS) {
		m->flags |= FM_MIME_TOO_MANY_PARTS;
		return 0;
	}
	if (m->parts == NULL &&
	    (m->parts = calloc(FM_MIME_MAX_PARTS, sizeof(*p))) == NULL)
		return -1;
	if (n > FM_MIME_MAX_TEXT) {
		n = FM_MIME_MAX_TEXT;
		m->flags |= FM_MIME_TEXT_CUT;
	}
	p = &m->parts[m->nparts];
	if ((p->text = malloc(n + 1)) == NULL)
		return -1;
	p->len = mime_clean(p->text, src, n);
	p->type = type;
	p->ctype = ctype;
	p->depth = depth;
	p->msg_level = level;
	p->attachment = attachment;
	m->nparts++;
	return 0;
}

/* mime_part_type - our kind of a leaf part, from its content type */
static fm_part_type_t mime_part_type(GMimeContentType *ct, const char **name)
{
	static const struct {
		const char *type, *subtype;
		fm_part_type_t kind;
		const char *name;
	} map[] = {
		{"text", "plain", FM_PART_TEXT, "text/plain"},
		{"text", "html", FM_PART_HTML, "text/html"},
		{"text", "rfc822-headers", FM_PART_HEADERS,
		 "text/rfc822-headers"},
		{"message", "delivery-status", FM_PART_DSN,
		 "message/delivery-status"},
		{"message", "global-delivery-status", FM_PART_GLOBAL_DSN,
		 "message/global-delivery-status"},
		{"message", "feedback-report", FM_PART_FEEDBACK,
		 "message/feedback-report"},
		{"message", "global-headers", FM_PART_HEADERS,
		 "message/global-headers"},
		{"text", "*", FM_PART_TEXT, "text/other"},
	};
	const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *s = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	size_t i;

	*name = "other";
	if (t == NULL || s == NULL) {
		*name = "text/plain";
		return FM_PART_TEXT;
	}
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (g_ascii_strcasecmp(t, map[i].type) == 0 &&
		    (map[i].subtype[0] == '*' ||
		     g_ascii_strcasecmp(s, map[i].subtype) == 0)) {
			*name = map[i].name;
			return map[i].kind;
		}
	}
	return FM_PART_OTHER;
}

/* mime_needs_charset - whether text in charset must go through iconv */
static int mime_needs_charset(const char *cs)
{
	return cs != NULL && *cs != '\0' &&
	    g_ascii_strcasecmp(cs, "us-ascii") != 0 &&
	    g_ascii_strcasecmp(cs, "utf-8") != 0 &&
	    g_ascii_strcasecmp(cs, "utf8") != 0 &&
	    g_ascii_strcasecmp(cs, "ascii") != 0;
}

/* mime_raw - the octets of a stream held in memory (a part's content:
 * with the source stream persisted it is a slice of the message), or
 * NULL when the stream is of another kind */
static const char *mime_raw(GMimeStream *s, size_t *n)
{
	GByteArray *a;
	gint64 end;

	if (s == NULL || !GMIME_IS_STREAM_MEM(s) ||
	    (a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s))) == NULL)
		return NULL;
	end = s->bound_end < 0 ? (gint64)a->len : s->bound_end;
	if (s->bound_start < 0 || end < s->bound_start || end > (gint64)a->len)
		return NULL;
	*n = (size_t)(end - s->bound_start);
	return (const char *)a->data + s->bound_start;
}

/* mime_add_text - append a text part, converted from charset cs to UTF-8
 * when it needs that and GMime knows the charset */
static int mime_add_text(fm_mime_t *m, fm_part_type_t type, const char *name,
			 unsigned depth, unsigned level, int attachment,
			 const char *cs, const char *src, size_t n)
{
	GMimeFilter *filter = NULL;
	size_t outlen = n, pre;
	char *out = (char *)src;
	int ret;

	if ((type == FM_PART_TEXT || type == FM_PART_HTML ||
	     type == FM_PART_HEADERS) && mime_needs_charset(cs) &&
	    (filter = g_mime_filter_charset_new(cs, "UTF-8")) != NULL)
		g_mime_filter_complete(filter, out, n, 0, &out, &outlen, &pre);
	ret = mime_add(m, type, name, depth, level, attachment,
		       (const unsigned char *)out, outlen);
	if (filter != NULL)
		g_object_unref(filter);
	return ret;
}

/* A part's content, decoded from its transfer encoding: octets in the
 * message itself, or in a buffer of ours, or in a stream of GMime's. */
typedef struct {
	const char *p;
	size_t n;
	char *dec;		/* the decoded copy, or NULL */
	GMimeStream *mem;	/* the stream GMime decoded into, or NULL */
} mime_octets_t;

/*
 * mime_octets - the content of a part. It is read where the parser left
 * it, in the message: no transfer encoding needs no copy, base64 and
 * quoted-printable are decoded in one step; the rest (content not in
 * memory, uuencode) goes through GMime's streams and filters. 0, or -1
 * when memory runs out; release with mime_octets_free().
 */
static int mime_octets(GMimeDataWrapper *w, mime_octets_t *o)
{
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
	GMimeEncoding state;
	GByteArray *bytes;

	memset(o, 0, sizeof(*o));
	o->p = mime_raw(g_mime_data_wrapper_get_stream(w), &o->n);
	if (o->p == NULL || enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		o->mem = g_mime_stream_mem_new();
		g_mime_data_wrapper_write_to_stream(w, o->mem);
		bytes = g_mime_stream_mem_get_byte_array(
		    GMIME_STREAM_MEM(o->mem));
		o->p = (const char *)bytes->data;
		o->n = bytes->len;
	} else if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
		   enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
		g_mime_encoding_init_decode(&state, enc);
		if ((o->dec = malloc(g_mime_encoding_outlen(&state, o->n) + 1))
		    == NULL)
			return -1;
		o->n = g_mime_encoding_step(&state, o->p, o->n, o->dec);
		o->p = o->dec;
	}
	if (o->p == NULL) {		/* an empty byte array */
		o->p = "";
		o->n = 0;
	}
	return 0;
}

/* mime_octets_free - release what mime_octets() made */
static void mime_octets_free(mime_octets_t *o)
{
	free(o->dec);
	if (o->mem != NULL)
		g_object_unref(o->mem);
}

/* mime_leaf - decode one leaf part and append it */
static int mime_leaf(fm_mime_t *m, GMimeObject *obj, unsigned depth,
		     unsigned level)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd;
	GMimeDataWrapper *w;
	mime_octets_t o;
	const char *name, *cs;
	fm_part_type_t type;
	int ret, attachment = 0;

	type = mime_part_type(ct, &name);
	/* The text of a returned message is of no use: leave it encoded. */
	if (type == FM_PART_OTHER ||
	    (level > 0 && (type == FM_PART_TEXT || type == FM_PART_HTML)))
		return mime_add(m, type, name, depth, level, 0,
				(const unsigned char *)"", 0);
	if ((cd = g_mime_object_get_content_disposition(obj)) != NULL)
		attachment = g_mime_content_disposition_is_attachment(cd);
	if ((w = g_mime_part_get_content(GMIME_PART(obj))) == NULL)
		return mime_add(m, type, name, depth, level, attachment,
				(const unsigned char *)"", 0);
	cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
	if (mime_octets(w, &o) < 0)
		return -1;
	ret = mime_add_text(m, type, name, depth, level, attachment, cs, o.p,
			    o.n);
	mime_octets_free(&o);
	return ret;
}

static int mime_walk(fm_mime_t *m, GMimeObject *obj, unsigned depth,
		     unsigned level);
static GMimeParser *mime_parser(void);
static void mime_parser_done(GMimeParser *parser);

/* mime_is_message - whether a part is an embedded message */
static int mime_is_message(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *s = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	size_t i;

	if (t == NULL || s == NULL || g_ascii_strcasecmp(t, "message") != 0)
		return 0;
	for (i = 0; i < MIME_NMESSAGE; i++)
		if (g_ascii_strcasecmp(s, mime_message_types[i]) == 0)
			return 1;
	return 0;
}

/* mime_header_end - octets of the header block at the start of an
 * embedded message: up to and with the line end before the first empty
 * line, or all of it when there is no empty line */
static size_t mime_header_end(const char *p, size_t n)
{
	const char *q = p, *end = p + n, *nl;

	while (q < end) {
		if (*q == '\n' || (*q == '\r' && q + 1 < end && q[1] == '\n'))
			return (size_t)(q - p);	/* an empty line */
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			break;
		q = nl + 1;
	}
	return n;
}

/*
 * mime_block_ctype - the Content-Type field of a header block, unfolded
 * into buf; 0 when there is none, 1 when there is one, 2 when there are
 * several or it does not fit (the caller then lets GMime decide)
 */
static int mime_block_ctype(const char *p, size_t n, char *buf, size_t size)
{
	static const char name[] = "content-type";
	const char *q = p, *end = p + n, *v, *nl;
	size_t o = 0, k = sizeof(name) - 1;
	int found = 0;

	for (; q < end; q = nl ? nl + 1 : end) {
		nl = memchr(q, '\n', (size_t)(end - q));
		if ((size_t)(end - q) <= k || g_ascii_strncasecmp(q, name, k) != 0)
			continue;
		for (v = q + k; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		if (v == end || *v != ':')
			continue;
		if (found++)
			return 2;
		/* the value and its continuation lines, line ends dropped */
		for (v++; v < end; v++) {
			if (*v == '\r' || *v == '\n') {
				if (*v == '\r' && v + 1 < end && v[1] == '\n')
					v++;
				if (v + 1 >= end || (v[1] != ' ' && v[1] != '\t'))
					break;
				continue;
			}
			if (o + 1 >= size)
				return 2;
			buf[o++] = *v;
		}
		nl = v < end ? v : NULL;
	}
	buf[o] = '\0';
	return found;
}

/*
 * mime_embedded - an embedded message (message/rfc822, message/global and
 * the like, which GMime hands over as a plain part: see mime_init_once):
 * one FM_PART_MESSAGE entry with its header block as the message holds it,
 * then its body one message level deeper. Most returned messages are a
 * single text part, whose text is of no use (mime_leaf): that body is one
 * empty entry and GMime never builds the message. Any other body, and a
 * header block whose Content-Type is not clear, goes through GMime.
 */
static int mime_embedded(fm_mime_t *m, const char *src, size_t n,
			 unsigned depth, unsigned level)
{
	GMimeContentType *ct = NULL;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *inner;
	fm_part_type_t type = FM_PART_TEXT;
	const char *name = "text/plain", *t;
	char value[512];
	size_t hlen = mime_header_end(src, n);
	int ret, nct;

	if (mime_add(m, FM_PART_MESSAGE, "message/rfc822", depth, level, 0,
		     (const unsigned char *)src, hlen) < 0)
		return -1;
	if (n == 0)			/* no body at all */
		return 0;
	if (depth + 1 > FM_MIME_MAX_DEPTH) {
		m->flags |= FM_MIME_TOO_DEEP;
		return 0;
	}
	nct = mime_block_ctype(src, hlen, value, sizeof(value));
	if (nct == 1 && (ct = g_mime_content_type_parse(NULL, value)) != NULL)
		type = mime_part_type(ct, &name);
	t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	if (nct < 2 && (type == FM_PART_TEXT || type == FM_PART_HTML ||
			(type == FM_PART_OTHER && t != NULL &&
			 g_ascii_strcasecmp(t, "multipart") != 0 &&
			 g_ascii_strcasecmp(t, "message") != 0))) {
		if (ct != NULL)
			g_object_unref(ct);
		return mime_add(m, type, name, depth + 1, level + 1, 0,
				(const unsigned char *)"", 0);
	}
	if (ct != NULL)
		g_object_unref(ct);
	stream = g_mime_stream_mem_new_with_byte_array(
	    g_byte_array_new_take((guint8 *)src, n));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = mime_parser();
	g_mime_parser_init_with_stream(parser, stream);
	inner = g_mime_parser_construct_message(parser, NULL);
	mime_parser_done(parser);
	ret = inner == NULL ? 0 :
	    mime_walk(m, g_mime_message_get_mime_part(inner), depth + 1,
		      level + 1);
	if (inner != NULL)
		g_object_unref(inner);
	g_byte_array_free(g_mime_stream_mem_get_byte_array(
	    GMIME_STREAM_MEM(stream)), FALSE);
	g_object_unref(stream);
	return ret;
}

/* mime_walk - flatten obj and its children into m->parts */
static int mime_walk(fm_mime_t *m, GMimeObject *obj, unsigned depth,
		     unsigned level)
{
	int i, n;

	if (obj == NULL)
		return 0;
	if (depth > FM_MIME_MAX_DEPTH) {
		m->flags |= FM_MIME_TOO_DEEP;
		return 0;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		if (n == 0) {
			/* No boundary GMime could use: all is prologue. */
			const char *pro = g_mime_multipart_get_prologue(
			    GMIME_MULTIPART(obj));

			return pro == NULL ? 0 :
			    mime_add(m, FM_PART_TEXT, "text/plain", depth,
				     level, 0, (const unsigned char *)pro,
				     strlen(pro));
		}
		for (i = 0; i < n && m->nparts < FM_MIME_MAX_PARTS; i++) {
			if (mime_walk(m, g_mime_multipart_get_part(
					      GMIME_MULTIPART(obj), i),
				      depth + 1, level) < 0)
				return -1;
		}
		if (i < n)
			m->flags |= FM_MIME_TOO_MANY_PARTS;
		return 0;
	}
	if (GMIME_IS_PART(obj) && mime_is_message(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
		mime_octets_t o = { "", 0, NULL, NULL };
		int ret;

		if (w != NULL && mime_octets(w, &o) < 0)
			return -1;
		ret = mime_embedded(m, o.p, o.n, depth, level);
		mime_octets_free(&o);
		return ret;
	}
	if (GMIME_IS_PART(obj))
		return mime_leaf(m, obj, depth, level);
	return 0;			/* message/partial and the like */
}

/* mime_lower_copy - lowercase copy of src into a fixed buffer */
static void mime_lower_copy(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] && i + 1 < size; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* mime_top_type - record the message's own content type */
static void mime_top_type(fm_mime_t *m, GMimeObject *body)
{
	GMimeContentType *ct;
	const char *rt;
	char *s;

	if (body == NULL ||
	    (ct = g_mime_object_get_content_type(body)) == NULL) {
		snprintf(m->ctype, sizeof(m->ctype), "text/plain");
		return;
	}
	if ((s = g_mime_content_type_get_mime_type(ct)) != NULL) {
		mime_lower_copy(m->ctype, sizeof(m->ctype), s);
		g_free(s);
	}
	if ((rt = g_mime_content_type_get_parameter(ct, "report-type")))
		mime_lower_copy(m->report_type, sizeof(m->report_type), rt);
}

/* lone_cr - whether the text has a CR that no LF follows (old Mac line
 * ends, which GMime does not take for line ends) */
static int lone_cr(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end && (p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		if (p + 1 == end || p[1] != '\n')
			return 1;
		p += 2;
	}
	return 0;
}

/*
 * mime_stream - a memory stream over the message that does not copy it:
 * GMime reads the octets where they are, and the parts it makes refer to
 * them (the parser persists the stream), so they must stay until
 * fm_mime_free()
 */
static GMimeStream *mime_stream(fm_mime_t *m)
{
	static char empty[1];
	GMimeStream *stream;

	m->bytes = g_byte_array_new_take((guint8 *)(m->len ? m->buf : empty),
					 m->len);
	stream = g_mime_stream_mem_new_with_byte_array(m->bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	return stream;
}

/* mime_parser - the thread's parser (made on first use), or a new one
 * when it cannot be kept */
static GMimeParser *mime_parser(void)
{
	GMimeParser *parser;

	if (mime_init_status != 0)	/* no key: fm_mime_init() not run */
		return g_mime_parser_new();
	if ((parser = pthread_getspecific(mime_parser_key)) == NULL) {
		parser = g_mime_parser_new();
		if (pthread_setspecific(mime_parser_key, parser) != 0) {
			g_object_unref(parser);
			parser = g_mime_parser_new();
		}
	}
	return parser;
}

/* mime_parser_done - release a parser that is not the thread's (the
 * thread's keeps a reference to the last stream until its next parse,
 * and never reads it) */
static void mime_parser_done(GMimeParser *parser)
{
	if (mime_init_status != 0 ||
	    parser != pthread_getspecific(mime_parser_key))
		g_object_unref(parser);
}

/* fm_mime_parse - parse a message held in memory */
fm_mime_t *fm_mime_parse(const char *buf, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeObject *body = NULL;
	fm_mime_t *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (buf == NULL)
		len = 0;
	if (len > FM_MIME_MAX_INPUT) {
		len = FM_MIME_MAX_INPUT;
		m->flags |= FM_MIME_TRUNCATED;
	}
	if (len > 0 && lone_cr(buf, len)) {
		/* CR line ends: hand GMime a copy with LF line ends */
		if ((m->lf = malloc(len + 1)) == NULL) {
			free(m);
			return NULL;
		}
		len = mime_clean(m->lf, (const unsigned char *)buf, len);
		buf = m->lf;
	}
	m->buf = buf;
	m->len = len;
	stream = mime_stream(m);
	parser = mime_parser();
	g_mime_parser_init_with_stream(parser, stream);
	m->msg = g_mime_parser_construct_message(parser, NULL);
	if (m->msg != NULL)
		body = g_mime_message_get_mime_part(m->msg);
	mime_top_type(m, body);
	mime_parser_done(parser);
	g_object_unref(stream);
	if (mime_walk(m, body, 0, 0) < 0) {
		fm_mime_free(m);
		m = NULL;
	}
	return m;
}

/* mbox_from_line - whether a line at p is an mbox "From " line: "From
 * sender Www Mmm dd hh:mm:ss yyyy", then a header field on the next line */
static int mbox_from_line(const char *p, const char *end)
{
	static const char *const days[] = {
		" Mon ", " Tue ", " Wed ", " Thu ", " Fri ", " Sat ", " Sun ",
	};
	const char *nl, *q;
	size_t i;

	if (end - p < 6 || memcmp(p, "From ", 5) != 0 ||
	    (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return 0;
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		if (memmem(p, (size_t)(nl - p), days[i], 5) != NULL)
			break;
	for (q = p; q + 8 <= nl && !(isdigit((unsigned char)q[0]) &&
				     q[2] == ':' && q[5] == ':'); q++)
		;
	if (i == sizeof(days) / sizeof(days[0]) || q + 8 > nl)
		return 0;
	for (q = nl + 1; q < end && (isalnum((unsigned char)*q) ||
				     *q == '-' || *q == '_'); q++)
		;
	return q > nl + 1 && q < end && *q == ':';
}

/* fm_mime_mbox_next - the next message of an mbox-style file */
size_t fm_mime_mbox_next(const char *buf, size_t len, size_t *off,
			 size_t *start)
{
	const char *end = buf + len, *p = buf + *off, *s, *nl;

	*start = *off;
	if (*off >= len)
		return 0;
	if (mbox_from_line(p, end))
		p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
	s = p;
	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
		if (mbox_from_line(nl + 1, end)) {
			*start = (size_t)(s - buf);
			*off = (size_t)(nl + 1 - buf);
			return (size_t)(nl + 1 - s);
		}
	*start = (size_t)(s - buf);
	*off = len;
	return (size_t)(end - s);
}

/* fm_mime_free - release a parsed message */
void fm_mime_free(fm_mime_t *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nparts; i++)
		free(m->parts[i].text);
	free(m->parts);
	if (m->msg != NULL)
		g_object_unref(m->msg);
	if (m->bytes != NULL)	/* the octets are the caller's */
		g_byte_array_free(m->bytes, FALSE);
	free(m->lf);
	free(m);
}

/* fm_mime_header - first top-level header called name, decoded */
const char *fm_mime_header(const fm_mime_t *m, const char *name)
{
	if (m == NULL || m->msg == NULL)
		return NULL;
	return g_mime_object_get_header(GMIME_OBJECT(m->msg), name);
}

/* fm_mime_header_count - number of top-level headers called name */
int fm_mime_header_count(const fm_mime_t *m, const char *name)
{
	GMimeHeaderList *list;
	int i, n, count = 0;

	if (m == NULL || m->msg == NULL)
		return 0;
	list = g_mime_object_get_header_list(GMIME_OBJECT(m->msg));
	n = g_mime_header_list_get_count(list);
	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0)
			count++;
	}
	return count;
}

/* fm_mime_content_type - lowercase type/subtype of the message */
const char *fm_mime_content_type(const fm_mime_t *m)
{
	return m->ctype;
}

/* fm_mime_report_type - lowercase report-type parameter, or "" */
const char *fm_mime_report_type(const fm_mime_t *m)
{
	return m->report_type;
}

/* fm_mime_nparts - number of parts listed */
size_t fm_mime_nparts(const fm_mime_t *m)
{
	return m->nparts;
}

/* fm_mime_part - part i, or NULL past the end */
const fm_part_t *fm_mime_part(const fm_mime_t *m, size_t i)
{
	return i < m->nparts ? &m->parts[i] : NULL;
}

/* fm_mime_flags - which FM_MIME_* limits were reached */
unsigned fm_mime_flags(const fm_mime_t *m)
{
	return m->flags;
}
