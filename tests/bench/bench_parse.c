/*
 * bench_parse - single-thread throughput of fm_report_parse over a corpus
 *
 * Usage: bench_parse [-n rounds] [-m] DIR...
 *
 * Loads every regular file of the given folders into memory first, then
 * runs fm_report_parse() (MIME through GMime, report fields,
 * classification: the whole inbound pipeline) over all of them, rounds
 * times, in one thread. Prints messages parsed and classified per second
 * of CPU time (CLOCK_PROCESS_CPUTIME_ID, so other load on the machine
 * matters little) and per second of wall time, and the recipients found,
 * as "key=value" fields that tests/bench/parse-vs-sisimai.sh reads.
 * With -m it measures the MIME step alone (fm_mime_parse), for
 * comparison. Build with optimisation, for example:
 *
 *	make -C tests bench_parse
 *
 * (PARSER_SOURCES in tests/Makefile.am lists the parser's files).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "report.h"

typedef struct {
	char *buf;
	size_t len;
} msg_t;

typedef struct {
	msg_t *v;
	size_t n, size;
} msgs_t;

/* bench_clock - seconds on the given clock */
static double bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* load_file - append one file; -1 on failure */
static int load_file(msgs_t *m, const char *path)
{
	FILE *fp;
	struct stat st;
	msg_t *nv;
	char *buf;
	int ret = -1;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;		/* not a message file: skip it */
	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	if (m->n == m->size) {
		m->size = m->size ? m->size * 2 : 1024;
		if ((nv = realloc(m->v, m->size * sizeof(*nv))) == NULL)
			goto out;
		m->v = nv;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	m->v[m->n].len = fread(buf, 1, (size_t)st.st_size, fp);
	m->v[m->n++].buf = buf;
	ret = 0;
out:
	fclose(fp);
	return ret;
}

/* load_dir - every file of a folder */
static int load_dir(msgs_t *m, const char *dir)
{
	struct dirent *de;
	char path[4096];
	DIR *d;
	int ret = 0;

	if ((d = opendir(dir)) == NULL)
		return load_file(m, dir);
	while ((de = readdir(d)) != NULL && ret == 0) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		ret = load_file(m, path);
	}
	closedir(d);
	return ret;
}

/* run - one round over all messages; returns recipients found */
static long run(const msgs_t *m, int mime_only)
{
	long rcpts = 0;
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (mime_only) {
			fm_mime_free(fm_mime_parse(m->v[i].buf, m->v[i].len));
		} else {
			fm_report_t r;

			if (fm_report_parse(m->v[i].buf, m->v[i].len, &r) ==
			    FM_REPORT_OK)
				rcpts += (long)r.nrcpts;
			fm_report_free(&r);
		}
	}
	return rcpts;
}

int main(int argc, char **argv)
{
	msgs_t m = { NULL, 0, 0 };
	double c0, c1, w0, w1;
	long rounds = 20, rcpts = 0, k;
	int ch, mime_only = 0;
	size_t i;

	while ((ch = getopt(argc, argv, "n:m")) != -1) {
		if (ch == 'n')
			rounds = atol(optarg);
		else if (ch == 'm')
			mime_only = 1;
		else
			goto usage;
	}
	if (optind >= argc || rounds <= 0)
		goto usage;
	if (fm_report_init() < 0) {
		fprintf(stderr, "bench_parse: cannot initialise the parser\n");
		return 1;
	}
	for (; optind < argc; optind++)
		if (load_dir(&m, argv[optind]) < 0) {
			perror(argv[optind]);
			return 1;
		}
	if (m.n == 0) {
		fprintf(stderr, "bench_parse: no messages\n");
		return 1;
	}
	run(&m, mime_only);		/* warm up caches and converters */
	c0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID);
	w0 = bench_clock(CLOCK_MONOTONIC);
	for (k = 0; k < rounds; k++)
		rcpts += run(&m, mime_only);
	c1 = bench_clock(CLOCK_PROCESS_CPUTIME_ID);
	w1 = bench_clock(CLOCK_MONOTONIC);
	printf("messages=%zu rounds=%ld recipients=%ld%s\n", m.n, rounds,
	       rcpts / rounds, mime_only ? " (MIME only)" : "");
	printf("cpu_rate=%.0f wall_rate=%.0f usec_per_msg=%.1f\n",
	       (double)m.n * rounds / (c1 - c0),
	       (double)m.n * rounds / (w1 - w0),
	       (c1 - c0) * 1e6 / ((double)m.n * rounds));
	for (i = 0; i < m.n; i++)
		free(m.v[i].buf);
	free(m.v);
	return 0;
usage:
	fprintf(stderr, "usage: bench_parse [-n rounds] [-m] DIR...\n");
	return 2;
}
