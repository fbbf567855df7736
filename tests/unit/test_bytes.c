/*
 * test_bytes — big-endian helpers, the bounded reader (first error kept,
 * zeros past the end) and the capped whole-file read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"

static void
t_be(void **state)
{
	uint8_t b[8];

	(void)state;
	be16_put(b, 0x1234);
	assert_memory_equal(b, "\x12\x34", 2);
	assert_int_equal(be16_get(b), 0x1234);
	be32_put(b, 0xdeadbeefu);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(be32_get(b), 0xdeadbeefu);
	be64_put(b, UINT64_C(0x0102030405060708));
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(be64_get(b) == UINT64_C(0x0102030405060708));
	be64_put(b, UINT64_MAX);
	assert_true(be64_get(b) == UINT64_MAX);
	assert_int_equal(be16_get((const uint8_t *)"\xff\xfe"), 0xfffe);
}

static void
t_reader(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	    0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	breader_t r;
	uint8_t tag[2];
	const uint8_t *p;

	(void)state;
	br_init(&r, in, sizeof(in));
	assert_int_equal(br_u8(&r), 0x01);
	assert_int_equal(br_be16(&r), 0x0203);
	assert_int_equal(br_be32(&r), 0x04050607);
	assert_true(br_be64(&r) == UINT64_C(0x08090a0b0c0d0e0f));
	assert_int_equal(br_left(&r), 0);
	assert_int_equal(br_error(&r), ZE_OK);

	br_init(&r, in, sizeof(in));
	br_skip(&r, 12);
	br_copy(&r, tag, 2);
	assert_memory_equal(tag, "\x0d\x0e", 2);
	p = br_ptr(&r, 1);
	assert_non_null(p);
	assert_int_equal(*p, 0x0f);
	assert_int_equal(br_error(&r), ZE_OK);
}

static void
t_reader_past_end(void **state)
{
	static const uint8_t in[] = { 0xaa, 0xbb, 0xcc };
	breader_t r;
	uint8_t tag[4] = { 1, 2, 3, 4 };

	(void)state;
	br_init(&r, in, sizeof(in));
	assert_int_equal(br_be16(&r), 0xaabb);
	assert_int_equal(br_be32(&r), 0);	/* one byte left: past the end */
	assert_int_equal(br_error(&r), ZE_TRUNC);
	assert_int_equal(br_left(&r), 0);
	/* The error stays; later reads return zeros. */
	assert_int_equal(br_u8(&r), 0);
	assert_true(br_be64(&r) == 0);
	br_copy(&r, tag, sizeof(tag));
	assert_memory_equal(tag, "\0\0\0\0", 4);
	assert_null(br_ptr(&r, 1));
	assert_int_equal(br_error(&r), ZE_TRUNC);

	/* A skip past the end is an error too; an empty span reads nothing. */
	br_init(&r, in, sizeof(in));
	br_skip(&r, 4);
	assert_int_equal(br_error(&r), ZE_TRUNC);
	br_init(&r, NULL, 0);
	assert_int_equal(br_left(&r), 0);
	assert_int_equal(br_u8(&r), 0);
	assert_int_equal(br_error(&r), ZE_TRUNC);
}

/* Write n bytes of c to a new temporary file; return its path. */
static void
tmpfile_with(char *path, size_t cap, size_t n, char c)
{
	FILE *f;
	int fd;

	snprintf(path, cap, "/tmp/zond-test-bytes-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc(c, f);
	assert_int_equal(fclose(f), 0);
}

static void
t_read_file(void **state)
{
	char path[64];
	zbuf_t b;
	zdiag_t d;

	(void)state;
	/* Exactly at the cap: read whole, NUL-terminated. */
	tmpfile_with(path, sizeof(path), 70000, 'x');
	assert_int_equal(bytes_read_file(path, 70000, &b, &d), ZE_OK);
	assert_int_equal(b.len, 70000);
	assert_int_equal(b.data[0], 'x');
	assert_int_equal(b.data[69999], 'x');
	assert_int_equal(b.data[70000], '\0');
	zbuf_free(&b);

	/* One byte over the cap: refused, naming the file and the cap. */
	assert_int_equal(bytes_read_file(path, 69999, &b, &d), ZE_TOOBIG);
	assert_non_null(strstr(d.text, path));
	assert_non_null(strstr(d.text, "larger than 69999 bytes"));
	zbuf_free(&b);
	unlink(path);

	/* An empty file gives an empty string, not NULL. */
	tmpfile_with(path, sizeof(path), 0, 'x');
	assert_int_equal(bytes_read_file(path, 10, &b, &d), ZE_OK);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data);
	assert_string_equal((const char *)b.data, "");
	zbuf_free(&b);
	unlink(path);

	/* A missing file: ZE_NOTFOUND, the message names it. */
	assert_int_equal(bytes_read_file("/nonexistent/zond-bytes", 10, &b,
	    &d), ZE_NOTFOUND);
	assert_non_null(strstr(d.text, "/nonexistent/zond-bytes: cannot "
	    "open"));
	zbuf_free(&b);

	/* A directory opens but cannot be read. */
	assert_int_equal(bytes_read_file("/", 10, &b, &d), ZE_IO);
	assert_non_null(strstr(d.text, "/: cannot read"));
	zbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_be),
		cmocka_unit_test(t_reader),
		cmocka_unit_test(t_reader_past_end),
		cmocka_unit_test(t_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
