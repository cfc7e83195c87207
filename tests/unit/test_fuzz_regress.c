/*
 * test_fuzz_regress - replay the kept fuzz inputs through the fuzz targets
 *
 * Every file in tests/fuzz/regress/TARGET/ (an input that once crashed
 * fuzz_TARGET, or one worth keeping) goes through the same entry point
 * the fuzzer calls: the tests/fuzz/fuzz_*.c files are compiled in here,
 * each LLVMFuzzerTestOneInput renamed. Each input runs in a child process
 * so that one crash names its file and the others still run. The folder
 * is FUZZ_REGRESS_DIR from the environment, or the one compiled in.
 * Built with the sanitizers (configure's ASan option), the replay catches
 * what the fuzzers caught; without, only the targets' own checks.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_codec_one
#include "../fuzz/fuzz_codec.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_config_one
#include "../fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_dsnfield_one
#include "../fuzz/fuzz_dsnfield.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_milter_one
#include "../fuzz/fuzz_milter.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_parse_one
#include "../fuzz/fuzz_parse.c"
#undef LLVMFuzzerTestOneInput

#ifndef FUZZ_REGRESS_DIR
#define FUZZ_REGRESS_DIR "fuzz/regress"
#endif

typedef int regress_entry_t(const uint8_t *data, size_t size);

/* regress_read - a whole file into a buffer of exactly its size */
static uint8_t *regress_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat sb;

	if (fp == NULL || fstat(fileno(fp), &sb) < 0)
		goto out;
	*len = (size_t)sb.st_size;
	if ((buf = malloc(*len ? *len : 1)) != NULL &&
	    fread(buf, 1, *len, fp) != *len) {
		free(buf);
		buf = NULL;
	}
out:
	if (fp != NULL)
		fclose(fp);
	return buf;
}

/* regress_one - run one input in a child; 0 when it came through */
static int regress_one(regress_entry_t *entry, const char *path)
{
	size_t len = 0;
	uint8_t *buf;
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((buf = regress_read(path, &len)) == NULL)
			_exit(2);
		entry(buf, len);
		free(buf);
		exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * regress_target - every file of regress/TARGET through entry. The names
 * are read first and the directory closed before any child is forked, so
 * a child's leak check sees nothing of the parent's.
 */
static void regress_target(const char *target, regress_entry_t *entry)
{
	const char *base = getenv("FUZZ_REGRESS_DIR");
	char dir[1024], path[2048], names[64][256];
	struct dirent *de;
	int failed = 0, ran = 0, n = 0, i;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", base ? base : FUZZ_REGRESS_DIR,
		 target);
	if ((d = opendir(dir)) == NULL) {
		print_message("%s: no inputs (%s)\n", target, dir);
		return;
	}
	while ((de = readdir(d)) != NULL && n < 64)
		if (de->d_name[0] != '.')
			snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	closedir(d);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%.1023s/%.255s", dir, names[i]);
		ran++;
		if (regress_one(entry, path) < 0) {
			print_error("%s: %s fails\n", target, names[i]);
			failed++;
		}
	}
	print_message("%s: %d inputs, %d failed\n", target, ran, failed);
	if (failed)
		fail_msg("%s: %d of %d inputs fail", target, failed, ran);
}

/* test_codec_regress - the code decoder's inputs */
static void test_codec_regress(void **state)
{
	(void)state;
	regress_target("codec", fuzz_codec_one);
}

/* test_config_regress - the configuration parser's inputs */
static void test_config_regress(void **state)
{
	(void)state;
	regress_target("config", fuzz_config_one);
}

/* test_dsnfield_regress - the delivery status field parser's inputs */
static void test_dsnfield_regress(void **state)
{
	(void)state;
	regress_target("dsnfield", fuzz_dsnfield_one);
}

/* test_milter_regress - the milter callbacks' inputs */
static void test_milter_regress(void **state)
{
	(void)state;
	regress_target("milter", fuzz_milter_one);
}

/* test_parse_regress - the report parser's inputs */
static void test_parse_regress(void **state)
{
	(void)state;
	regress_target("parse", fuzz_parse_one);
}

/* regress_rmdir - remove the scratch folder and what the children left */
static void regress_rmdir(const char *dir)
{
	char path[2048];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

int main(void)
{
	char scratch[] = "/tmp/test_fuzz_regress.XXXXXX";
	int rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_regress),
		cmocka_unit_test(test_config_regress),
		cmocka_unit_test(test_dsnfield_regress),
		cmocka_unit_test(test_milter_regress),
		cmocka_unit_test(test_parse_regress),
	};

	/* fuzz_milter's store goes here, also when a child crashes */
	if (mkdtemp(scratch) == NULL || setenv("FUZZ_MILTER_DIR", scratch, 1) < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	regress_rmdir(scratch);
	return rc;
}
