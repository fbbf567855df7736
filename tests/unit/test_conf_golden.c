/*
 * test_conf_golden — the config parser against golden files.
 *
 * For every tests/conf/NAME.in, parse it with the test table below and
 * compare what comes out (the conf_dump of the values, or the one-line
 * error) with NAME.ok.  `--update` rewrites the .ok files instead; review
 * the diff before committing them.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "zbuf.h"

struct tconf {
	char *name;
	char *endpoint;
	int64_t count;
	bool enabled;
	int64_t timeout_ms;
	int64_t budget;
	char *required;
	char *level;
};

#define O(f) offsetof(struct tconf, f)
static const struct conf_opt tab[] = {
	{"main", "name", CONF_STRING, "default-name", O(name), 0, 0, false,
	    NULL, "a string"},
	{"main", "endpoint", CONF_STRING, "tcp://127.0.0.1:1", O(endpoint), 0,
	    0, false, conf_check_endpoint, "an endpoint"},
	{"main", "count", CONF_INT, "5", O(count), 1, 100, false, NULL,
	    "an integer 1..100"},
	{"main", "enabled", CONF_BOOL, "false", O(enabled), 0, 0, false,
	    NULL, "a boolean"},
	{"limits", "timeout", CONF_DURATION, "10s", O(timeout_ms), 100,
	    3600000, false, NULL, "a duration"},
	{"limits", "budget", CONF_SIZE, "1M", O(budget), 0, 0, false, NULL,
	    "a size"},
	{"limits", "required", CONF_STRING, NULL, O(required), 0, 0, true,
	    NULL, "must be set"},
	{"limits", "level", CONF_STRING, "info", O(level), 0, 0, false,
	    conf_check_loglevel, "a log level"},
	{NULL, NULL, 0, NULL, 0, 0, 0, false, NULL, NULL},
};

static int
slurp(const char *path, zbuf_t *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (zbuf_append(b, chunk, n) != ZE_OK) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

/* Parse one .in file; the result text goes to out. */
static void
run_one(const char *dir, const char *name, zbuf_t *out)
{
	char path[4096];
	zbuf_t in;
	struct tconf c;
	zdiag_t d;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	zbuf_init(&in, 1 << 21);
	if (slurp(path, &in) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	mem = open_memstream(&text, &len);
	if (conf_init(tab, &c, &d) != ZE_OK) {
		fprintf(stderr, "defaults do not parse: %s\n", d.text);
		exit(1);
	}
	/* the file name in messages is the bare NAME.in, so goldens do not
	 * depend on where the tree is checked out */
	if (conf_parse(tab, &c, name, in.data ? (const char *)in.data : "",
	    in.len, &d) != ZE_OK)
		fprintf(mem, "error: %s\n", d.text);
	else
		conf_dump(tab, &c, mem);
	fclose(mem);
	if (zbuf_append(out, text, len) != ZE_OK)
		exit(1);
	free(text);
	conf_free(tab, &c);
	zbuf_free(&in);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	const char *dir;
	int update = 0, pass = 0, fail = 0;
	DIR *dh;
	struct dirent *de;
	char *names[512];
	size_t n = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: test_conf_golden DIR [--update]\n");
		return 2;
	}
	dir = argv[1];
	update = argc > 2 && strcmp(argv[2], "--update") == 0;
	if ((dh = opendir(dir)) == NULL) {
		perror(dir);
		return 2;
	}
	while ((de = readdir(dh)) != NULL && n < ZARRAY_LEN(names)) {
		size_t l = strlen(de->d_name);
		if (l > 3 && strcmp(de->d_name + l - 3, ".in") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(dh);
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (size_t i = 0; i < n; i++) {
		char okpath[4096];
		zbuf_t got, want;

		zbuf_init(&got, 1 << 20);
		zbuf_init(&want, 1 << 20);
		run_one(dir, names[i], &got);
		snprintf(okpath, sizeof(okpath), "%s/%.*s.ok", dir,
		    (int)(strlen(names[i]) - 3), names[i]);
		if (update) {
			FILE *f = fopen(okpath, "wb");
			if (f == NULL || fwrite(got.data, 1, got.len, f) !=
			    got.len) {
				perror(okpath);
				return 1;
			}
			fclose(f);
			pass++;
		} else if (slurp(okpath, &want) != 0) {
			printf("FAIL %s: no %s\n", names[i], okpath);
			fail++;
		} else if (got.len != want.len ||
		    memcmp(got.data, want.data, got.len) != 0) {
			printf("FAIL %s\n--- expected\n%s--- got\n%s", names[i],
			    want.data ? (char *)want.data : "",
			    got.data ? (char *)got.data : "");
			fail++;
		} else {
			printf("ok   %s\n", names[i]);
			pass++;
		}
		zbuf_free(&got);
		zbuf_free(&want);
		free(names[i]);
	}
	if (n == 0) {
		printf("no .in files in %s\n", dir);
		return 1;
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
