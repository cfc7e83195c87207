/*
 * mkdoc - build-time generator of the documents that follow from the
 * option table: "mkdoc man TEMPLATE" copies the manual page template,
 * putting the OPTIONS section where a line "@OPTIONS@" stands; "mkdoc
 * sample" writes the sample configuration file.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

int
main(int argc, char **argv)
{
	char line[4096];
	FILE *fp;

	if (argc == 2 && strcmp(argv[1], "sample") == 0) {
		fm_config_write_sample(stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "man") != 0) {
		fprintf(stderr, "usage: mkdoc man TEMPLATE | mkdoc sample\n");
		return 64;
	}
	if ((fp = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 66;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strcmp(line, "@OPTIONS@\n") == 0)
			fm_config_write_man(stdout);
		else
			fputs(line, stdout);
	}
	fclose(fp);
	return ferror(stdout) ? 74 : 0;
}
