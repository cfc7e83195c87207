/*
 * test_corpus - score the report parser against the bounce corpus
 *
 * Usage: test_corpus [-v] [-c]
 *
 * Runs fm_report_parse() over every file TRUTH.tsv names (sisimai/bsd of
 * the corpus) and compares, row by row:
 *
 *	recipient	a reported recipient equals the row's (ignoring case)
 *	class		that recipient's class equals the row's
 *	reason		its reason equals the row's
 *	status		its status equals the row's, for rows whose status is
 *			not empty and not one Sisimai invents (status_is_pseudo)
 *
 * A row without a matching recipient counts against all four. Two
 * calibrations, because TRUTH.tsv is Sisimai's output: it has no delayed
 * class (a delay notice is a soft bounce with reason expired there), so
 * delayed agrees with soft; and it writes Sisimai's placeholder
 * undisclosed-recipient-in-headers@libsisimai.org.invalid where a
 * complaint names no recipient, where we report an empty recipient.
 *
 * The test fails when a figure drops below tests/corpus/baseline.tsv (the
 * figures the suite last reached), when a message of not-bounces reports a
 * bounce, or when a crlf message does not give the same result as its bsd
 * twin (same content but for line ends), or reports nothing. -v prints the
 * rows that disagree; -c lists rows of fm_patterns that no diagnostic of
 * the corpus matches (each of those needs a case in test_classify).
 *
 * The corpus is $CORPUS_DIR, else ../shared/corpus beside the source tree;
 * without it the test prints SKIP and exits 77 (automake's skip code).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "classify.h"
#include "mime.h"
#include "report.h"

#ifndef FM_TOP_SRCDIR
#define FM_TOP_SRCDIR "."
#endif

#define PLACEHOLDER "undisclosed-recipient-in-headers@libsisimai.org.invalid"
#define MAX_ROWS 4096

enum { M_RCPT, M_CLASS, M_REASON, M_STATUS, M_COUNT };
static const char *const metric_names[M_COUNT] = {
	"recipient", "class", "reason", "status",
};
/* What the product asks for (the baseline is what the test enforces). */
static const double metric_targets[M_COUNT] = { 99.5, 98.5, 96.0, 97.0 };

typedef struct {
	char *file, *rcpt, *cls, *reason, *status;
	int pseudo;
} truth_t;

typedef struct {
	long agree[M_COUNT];
	long total[M_COUNT];
} score_t;

/* join - a followed by b into buf; -1 when it does not fit */
static int join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s%s", a, b);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* slurp - whole file into a malloc'd buffer */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, fp);
		buf[*len] = '\0';
	}
	fclose(fp);
	return buf;
}

/* The messages of one file (an mbox file holds several) and their
 * recipients in order. */
#define MAX_MSGS 8
typedef struct {
	fm_report_t msg[MAX_MSGS];
	size_t nmsg;
	const fm_rcpt_report_t *rcpt[MAX_MSGS * FM_REPORT_MAX_RCPTS];
	size_t nrcpts;
	fm_kind_t kind;		/* of the first message that reports */
} parsed_t;

/* parsed_free - release what parse_file made */
static void parsed_free(parsed_t *p)
{
	size_t i;

	for (i = 0; i < p->nmsg; i++)
		fm_report_free(&p->msg[i]);
	p->nmsg = p->nrcpts = 0;
}

/* parse_file - run the pipeline over every message of a corpus file;
 * -1 if it cannot be read or parsed */
static int parse_file(const char *path, parsed_t *p)
{
	size_t len, off = 0, start, n, k;
	char *buf = slurp(path, &len);
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (buf == NULL) {
		fprintf(stderr, "test_corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		fm_report_t *r = &p->msg[p->nmsg];

		n = fm_mime_mbox_next(buf, len, &off, &start);
		if (fm_report_parse(buf + start, n, r) != FM_REPORT_OK) {
			ret = -1;
			break;
		}
		p->nmsg++;
		if (p->kind == FM_KIND_NONE)
			p->kind = r->kind;
		for (k = 0; k < r->nrcpts; k++)
			p->rcpt[p->nrcpts++] = &r->rcpts[k];
	} while (off < len && p->nmsg < MAX_MSGS);
	free(buf);
	if (ret < 0)
		parsed_free(p);
	return ret;
}

/* load_truth - the rows of TRUTH.tsv */
static size_t load_truth(const char *path, truth_t *rows)
{
	size_t len, n = 0;
	char *buf = slurp(path, &len), *line, *save = NULL;

	if (buf == NULL)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line && n < MAX_ROWS;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[10] = { 0 }, *p = line;
		int i;

		for (i = 0; i < 10 && p; i++) {
			f[i] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (i < 8 || strcmp(f[0], "file") == 0)
			continue;
		rows[n].file = strdup(f[0]);
		rows[n].rcpt = strdup(f[2]);
		rows[n].cls = strdup(f[3]);
		rows[n].reason = strdup(f[4]);
		rows[n].status = strdup(f[6]);
		rows[n].pseudo = atoi(f[7]);
		n++;
	}
	free(buf);
	return n;
}

/* rcpt_agrees - whether a reported recipient is the row's */
static int rcpt_agrees(const truth_t *t, const fm_rcpt_report_t *o)
{
	if (strcasecmp(t->rcpt, o->recipient) == 0)
		return 1;
	return o->recipient[0] == '\0' && strcmp(t->rcpt, PLACEHOLDER) == 0;
}

/* class_agrees - delayed is soft in TRUTH.tsv */
static int class_agrees(const truth_t *t, const fm_rcpt_report_t *o)
{
	const char *c = fm_class_name(o->cls);

	if (o->cls == FM_CLASS_DELAYED)
		c = "soft";
	return strcmp(t->cls, c) == 0;
}

/* score_file - score the rows [first, last) of one file */
static void score_file(const truth_t *rows, size_t first, size_t last,
		       const parsed_t *r, score_t *s, int verbose)
{
	char used[MAX_MSGS * FM_REPORT_MAX_RCPTS] = { 0 };
	size_t i, k;

	for (i = first; i < last; i++) {
		const truth_t *t = &rows[i];
		const fm_rcpt_report_t *o = NULL;
		int scored = t->status[0] && !t->pseudo;
		int ok[M_COUNT] = { 0 };

		for (k = 0; k < r->nrcpts && o == NULL; k++)
			if (!used[k] && rcpt_agrees(t, r->rcpt[k])) {
				used[k] = 1;
				o = r->rcpt[k];
			}
		s->total[M_RCPT]++;
		s->total[M_CLASS]++;
		s->total[M_REASON]++;
		s->total[M_STATUS] += scored;
		if (o != NULL) {
			ok[M_RCPT] = 1;
			ok[M_CLASS] = class_agrees(t, o);
			ok[M_REASON] = strcmp(t->reason,
					      fm_reason_name(o->reason)) == 0;
			ok[M_STATUS] = scored && strcmp(t->status, o->status)
			    == 0;
		}
		for (k = 0; k < M_COUNT; k++)
			s->agree[k] += ok[k];
		if (verbose && (!ok[M_RCPT] || !ok[M_CLASS] || !ok[M_REASON] ||
				(scored && !ok[M_STATUS])))
			printf("MISMATCH %s | want %s %s %s %s | got %s %s %s %s"
			       " | %s | %.200s\n", t->file, t->rcpt, t->cls,
			       t->reason, t->status[0] ? t->status : "-",
			       o ? o->recipient : "-",
			       o ? fm_class_name(o->cls) : "-",
			       o ? fm_reason_name(o->reason) : "-",
			       o && o->status[0] ? o->status : "-",
			       fm_kind_name(r->kind),
			       o ? o->diagnostic : "");
	}
}

/* same_result - whether two results agree recipient by recipient */
static int same_result(const parsed_t *a, const parsed_t *b)
{
	size_t i;

	if (a->nrcpts != b->nrcpts || a->kind != b->kind)
		return 0;
	for (i = 0; i < a->nrcpts; i++) {
		const fm_rcpt_report_t *x = a->rcpt[i], *y = b->rcpt[i];

		if (strcmp(x->recipient, y->recipient) != 0 ||
		    x->cls != y->cls || x->reason != y->reason ||
		    strcmp(x->status, y->status) != 0 ||
		    strcmp(x->action, y->action) != 0 ||
		    strcmp(x->diagnostic, y->diagnostic) != 0)
			return 0;
	}
	return 1;
}

/* same_but_cr - whether a equals b once CR octets are removed from a */
static int same_but_cr(const char *pa, const char *pb)
{
	size_t la, lb, i, o = 0;
	char *a = slurp(pa, &la), *b = slurp(pb, &lb);
	int same = 0;

	if (a != NULL && b != NULL) {
		for (i = 0; i < la; i++)
			if (a[i] != '\r')
				a[o++] = a[i];
		same = o == lb && memcmp(a, b, lb) == 0;
	}
	free(a);
	free(b);
	return same;
}

/* check_dir - run fn(dir, name) over the .eml files of a folder */
static int check_dir(const char *dir, int (*fn)(const char *, const char *,
						 int), int verbose)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int bad = 0, n = 0;

	if (d == NULL) {
		printf("FAIL: cannot open %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		bad += fn(dir, de->d_name, verbose);
		n++;
	}
	closedir(d);
	printf("%s: %d files, %d failing\n", dir, n, bad);
	return bad;
}

/* not_bounce - a message of not-bounces must report no bounce */
static int not_bounce(const char *dir, const char *name, int verbose)
{
	char path[4096];
	parsed_t r;
	size_t i;
	int bad = 0;

	if (join(path, sizeof(path), dir, "/") < 0 ||
	    join(path + strlen(path), sizeof(path) - strlen(path), name, "") < 0
	    || parse_file(path, &r) < 0)
		return 1;
	for (i = 0; i < r.nrcpts; i++)
		if (r.rcpt[i]->cls != FM_CLASS_UNKNOWN)
			bad = 1;
	if (bad || verbose)
		printf("%s %s: kind %s, %zu recipients%s\n", bad ? "FAIL" :
		       "ok", name, fm_kind_name(r.kind), r.nrcpts,
		       bad ? " (a bounce?)" : "");
	parsed_free(&r);
	return bad;
}

/* crlf_twin - a crlf message parses and, where its bsd twin has the same
 * content, gives the same result */
static int crlf_twin(const char *dir, const char *name, int verbose)
{
	char path[4096], twin[4096];
	parsed_t r, t;
	int bad = 0, same;

	if (join(path, sizeof(path), dir, "/") < 0 ||
	    join(path + strlen(path), sizeof(path) - strlen(path), name, "") < 0
	    || join(twin, sizeof(twin), dir, "/../bsd/") < 0 ||
	    join(twin + strlen(twin), sizeof(twin) - strlen(twin), name, "") < 0
	    || parse_file(path, &r) < 0)
		return 1;
	if (r.nrcpts == 0) {
		printf("FAIL %s: reports nothing\n", name);
		bad = 1;
	}
	if (access(twin, R_OK) == 0 && same_but_cr(path, twin)) {
		if (parse_file(twin, &t) < 0)
			bad = 1;
		else {
			same = same_result(&r, &t);
			if (!same)
				printf("FAIL %s: differs from bsd/%s\n", name,
				       name);
			bad |= !same;
			parsed_free(&t);
		}
	} else if (verbose) {
		printf("note %s: no bsd twin with the same content\n", name);
	}
	parsed_free(&r);
	return bad;
}

/* read_baseline - figures of baseline.tsv; -1 when unreadable */
static int read_baseline(const char *path, score_t *b)
{
	char line[256], name[64];
	long agree, total;
	FILE *fp = fopen(path, "r");
	int k, n = 0;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' ||
		    sscanf(line, "%63s %ld %ld", name, &agree, &total) != 3)
			continue;
		for (k = 0; k < M_COUNT; k++)
			if (strcmp(name, metric_names[k]) == 0) {
				b->agree[k] = agree;
				b->total[k] = total;
				n++;
			}
	}
	fclose(fp);
	return n == M_COUNT ? 0 : -1;
}

/* pct - a percentage, 0 for an empty total */
static double pct(long a, long t)
{
	return t ? 100.0 * (double)a / (double)t : 0.0;
}

/* compare_baseline - print the figures; 1 when one fell below baseline */
static int compare_baseline(const score_t *s, const char *path)
{
	score_t b;
	int k, bad = 0;

	if (read_baseline(path, &b) < 0) {
		printf("FAIL: cannot read the baseline %s\n", path);
		return 1;
	}
	for (k = 0; k < M_COUNT; k++) {
		int below = pct(s->agree[k], s->total[k]) + 1e-9 <
		    pct(b.agree[k], b.total[k]);

		printf("%-9s %4ld/%-4ld %6.2f%%  (baseline %ld/%ld %.2f%%, "
		       "target %.1f%%)%s\n", metric_names[k], s->agree[k],
		       s->total[k], pct(s->agree[k], s->total[k]), b.agree[k],
		       b.total[k], pct(b.agree[k], b.total[k]),
		       metric_targets[k], below ? "  BELOW BASELINE" : "");
		bad |= below;
	}
	return bad;
}

/* Which table rows the corpus covers: a row is covered by a file when its
 * pattern is in the file's text or in a diagnostic reported for it. */
typedef struct {
	char *seen, *here;	/* fm_patterns rows: anywhere, this file */
	char *rseen, *rhere;	/* fm_rules rows */
	fm_matcher_t *m, *rm;
	int suggest;		/* -c: print a covering file per row */
} coverage_t;

typedef struct {
	char *seen, *here;
} cover_arg_t;

/* cover_cb - mark a row as matched */
static int cover_cb(size_t row, size_t off, void *arg)
{
	cover_arg_t *c = arg;

	(void)off;
	c->seen[row] = c->here[row] = 1;
	return 0;
}

/* cover_text - mark the rows of both tables a text matches */
static void cover_text(coverage_t *c, const char *text, size_t len)
{
	static char norm[1 << 20];
	cover_arg_t pa = { c->seen, c->here }, ra = { c->rseen, c->rhere };
	size_t n = fm_match_norm(text, len, norm, sizeof(norm), NULL);

	fm_matcher_scan(c->m, norm, n, cover_cb, &pa);
	fm_matcher_scan(c->rm, norm, n, cover_cb, &ra);
}

/* check_notes - rows whose note names file must be covered by it */
static int check_notes(const coverage_t *c, const char *file)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < fm_patterns_n; i++) {
		if (strcmp(fm_patterns[i].note, file) == 0 && !c->here[i]) {
			printf("FAIL: pattern \"%s\" names %s, which does not "
			       "hold it\n", fm_patterns[i].pattern, file);
			bad++;
		}
	}
	for (i = 0; i < fm_rules_n; i++)
		if (strcmp(fm_rules[i].note, file) == 0 && !c->rhere[i]) {
			printf("FAIL: rule \"%s\" names %s, which does not "
			       "hold it\n", fm_rules[i].pattern, file);
			bad++;
		}
	return bad;
}

/* cover_file - mark the rows a file covers, and check the notes that
 * name it */
static int cover_file(coverage_t *c, const char *file, const char *path,
		      const parsed_t *r)
{
	size_t i, len;
	char *raw = slurp(path, &len);

	memset(c->here, 0, fm_patterns_n);
	memset(c->rhere, 0, fm_rules_n);
	if (raw != NULL)
		cover_text(c, raw, len);
	free(raw);
	for (i = 0; i < r->nrcpts; i++)
		cover_text(c, r->rcpt[i]->diagnostic,
			   strlen(r->rcpt[i]->diagnostic));
	if (c->suggest) {
		for (i = 0; i < fm_patterns_n; i++)
			if (c->here[i])
				printf("covers pattern %zu %s\n", i, file);
		for (i = 0; i < fm_rules_n; i++)
			if (c->rhere[i])
				printf("covers rule %zu %s\n", i, file);
	}
	return check_notes(c, file);
}

/* score_corpus - parse every file of TRUTH.tsv and score it */
static int score_corpus(const char *corpus, truth_t *rows, size_t n,
			score_t *s, coverage_t *c, int verbose)
{
	char path[4096];
	size_t i, j;
	int bad = 0;

	for (i = 0; i < n; i = j) {
		parsed_t r;

		for (j = i; j < n && strcmp(rows[j].file, rows[i].file) == 0;)
			j++;
		if (join(path, sizeof(path), corpus, "/sisimai/") < 0 ||
		    join(path + strlen(path), sizeof(path) - strlen(path),
			 rows[i].file, "") < 0 || parse_file(path, &r) < 0) {
			bad = 1;
			continue;
		}
		score_file(rows, i, j, &r, s, verbose);
		bad |= cover_file(c, rows[i].file, path, &r) != 0;
		parsed_free(&r);
	}
	return bad;
}

int main(int argc, char **argv)
{
	static truth_t rows[MAX_ROWS];
	const char *corpus = getenv("CORPUS_DIR"), *base = getenv("BASELINE");
	char path[4096], dflt[4096], bpath[4096];
	coverage_t cov;
	score_t s;
	size_t n, i;
	int ch, verbose = 0, listcov = 0, bad = 0;

	while ((ch = getopt(argc, argv, "vc")) != -1) {
		if (ch == 'v')
			verbose = 1;
		else if (ch == 'c')
			listcov++;
		else {
			fprintf(stderr, "usage: test_corpus [-v] [-c]\n");
			return 2;
		}
	}
	snprintf(dflt, sizeof(dflt), "%s/../shared/corpus", FM_TOP_SRCDIR);
	if (corpus == NULL || *corpus == '\0')
		corpus = dflt;
	if (join(path, sizeof(path), corpus, "/sisimai/TRUTH.tsv") < 0 ||
	    access(path, R_OK) != 0) {
		printf("SKIP: corpus not found at %s\n", corpus);
		return 77;
	}
	if (fm_report_init() < 0 || (n = load_truth(path, rows)) == 0) {
		printf("FAIL: cannot initialise or read %s\n", path);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	cov.seen = calloc(fm_patterns_n, 1);
	cov.here = calloc(fm_patterns_n, 1);
	cov.rseen = calloc(fm_rules_n, 1);
	cov.rhere = calloc(fm_rules_n, 1);
	cov.suggest = listcov > 1;
	cov.m = fm_matcher_new(fm_patterns, fm_patterns_n,
			       sizeof(fm_patterns[0]));
	cov.rm = fm_matcher_new(fm_rules, fm_rules_n, sizeof(fm_rules[0]));
	if (cov.seen == NULL || cov.here == NULL || cov.rseen == NULL ||
	    cov.rhere == NULL || cov.m == NULL || cov.rm == NULL)
		return 1;
	bad |= score_corpus(corpus, rows, n, &s, &cov, verbose);
	snprintf(bpath, sizeof(bpath), "%s/tests/corpus/baseline.tsv",
		 FM_TOP_SRCDIR);
	bad |= compare_baseline(&s, base ? base : bpath);
	if (join(path, sizeof(path), corpus, "/not-bounces") == 0)
		bad |= check_dir(path, not_bounce, verbose) != 0;
	if (join(path, sizeof(path), corpus, "/sisimai/crlf") == 0)
		bad |= check_dir(path, crlf_twin, verbose) != 0;
	for (i = 0; listcov && i < fm_patterns_n; i++)
		if (!cov.seen[i])
			printf("uncovered pattern %zu: \"%s\" (%s) note %s\n",
			       i, fm_patterns[i].pattern,
			       fm_reason_name(fm_patterns[i].reason),
			       fm_patterns[i].note);
	for (i = 0; listcov && i < fm_rules_n; i++)
		if (!cov.rseen[i])
			printf("uncovered rule %zu: \"%s\" (%s) note %s\n", i,
			       fm_rules[i].pattern,
			       fm_reason_name(fm_rules[i].reason),
			       fm_rules[i].note);
	fm_matcher_free(cov.m);
	fm_matcher_free(cov.rm);
	free(cov.seen);
	free(cov.here);
	free(cov.rseen);
	free(cov.rhere);
	for (i = 0; i < n; i++) {
		free(rows[i].file);
		free(rows[i].rcpt);
		free(rows[i].cls);
		free(rows[i].reason);
		free(rows[i].status);
	}
	printf("%s\n", bad ? "FAIL" : "PASS");
	return bad;
}
