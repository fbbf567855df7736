/*
 * test_ipasn — the IP-to-ASN table (aggregator/analysis/ipasn.c) in the
 * iptoasn.com TSV format: a good combined file with IPv4 and IPv6 rows,
 * lookups at the edges of ranges and in gaps, "Not routed" rows, a real
 * file read from a temporary folder, and every kind of bad line refused
 * with the file and line named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipasn.h"

/* A combined file the way iptoasn.com writes one (made-up rows). */
static const char GOOD[] =
    "0.0.0.0\t0.255.255.255\t0\tNone\tNot routed\n"
    "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"
    "1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n"
    "5.3.0.0\t5.3.255.255\t12389\tRU\tROSTELECOM-AS\n"
    "93.184.216.0\t93.184.216.255\t15133\tUS\tEDGECAST\n"
    "255.255.255.0\t255.255.255.255\t64500\tZZ\t\n"
    "::\t1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\t0\tNone\tNot routed\n"
    "2001:db8::\t2001:db8:0:ffff:ffff:ffff:ffff:ffff\t64496\tRU\t"
    "Example, with commas\n"
    "2a02:6b8::\t2a02:6b8:ffff:ffff:ffff:ffff:ffff:ffff\t13238\tRU\t"
    "YANDEX\r\n";

static uint32_t
at(const struct ipasn *t, const char *a)
{
	return ipasn_lookup_str(t, a);
}

static void
t_good(void **state)
{
	struct ipasn *t = NULL;
	size_t n4, n6;
	uint8_t b[4];
	zdiag_t d;

	(void)state;
	assert_int_equal(ipasn_parse("c.tsv", GOOD, sizeof(GOOD) - 1, &t, &d),
	    ZE_OK);
	ipasn_count(t, &n4, &n6);
	assert_int_equal(n4, 4);	/* routed rows only */
	assert_int_equal(n6, 2);
	/* edges of a range, both ends included */
	assert_int_equal(at(t, "1.0.0.0"), 13335);
	assert_int_equal(at(t, "1.0.0.255"), 13335);
	assert_int_equal(at(t, "1.0.1.0"), 0);		/* Not routed */
	assert_int_equal(at(t, "0.255.255.255"), 0);	/* Not routed */
	assert_int_equal(at(t, "5.2.255.255"), 0);	/* gap */
	assert_int_equal(at(t, "5.3.0.0"), 12389);
	assert_int_equal(at(t, "5.3.128.7"), 12389);
	assert_int_equal(at(t, "5.3.255.255"), 12389);
	assert_int_equal(at(t, "5.4.0.0"), 0);
	assert_int_equal(at(t, "93.184.216.34"), 15133);
	assert_int_equal(at(t, "255.255.255.255"), 64500);	/* last row */
	assert_int_equal(at(t, "255.255.254.255"), 0);
	/* IPv6 */
	assert_int_equal(at(t, "2001:db8::"), 64496);
	assert_int_equal(at(t, "2001:db8:0:ffff:ffff:ffff:ffff:ffff"),
	    64496);
	assert_int_equal(at(t, "2001:db8:1::"), 0);
	assert_int_equal(at(t, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(at(t, "2a02:6b8:0:1::feed"), 13238);
	assert_int_equal(at(t, "::1"), 0);
	assert_int_equal(at(t, "ffff::"), 0);
	/* the same through the byte form; nonsense finds nothing */
	assert_int_equal(inet_pton(AF_INET, "1.0.0.7", b), 1);
	assert_int_equal(ipasn_lookup(t, 4, b), 13335);
	assert_int_equal(ipasn_lookup(t, 5, b), 0);
	assert_int_equal(at(t, "not-an-address"), 0);
	assert_int_equal(at(NULL, "1.0.0.7"), 0);
	ipasn_free(&t);
	assert_null(t);
	ipasn_free(&t);
	ipasn_free(NULL);
}

/* Many rows: every row's both ends and the address between rows (the
 * binary search against the linear truth). */
static void
t_many(void **state)
{
	enum { N = 5000 };
	char *buf = malloc((size_t)N * 64);
	struct ipasn *t = NULL;
	size_t len = 0, i;
	char a[32];
	zdiag_t d;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < N; i++)
		len += (size_t)snprintf(buf + len, 64, "10.%zu.%zu.0\t"
		    "10.%zu.%zu.127\t%zu\tRU\tAS%zu\n", i / 256, i % 256,
		    i / 256, i % 256, i % 7 == 0 ? 0 : i + 1, i);
	assert_int_equal(ipasn_parse("m.tsv", buf, len, &t, &d), ZE_OK);
	for (i = 0; i < N; i++) {
		uint32_t want = i % 7 == 0 ? 0 : (uint32_t)(i + 1);
		snprintf(a, sizeof(a), "10.%zu.%zu.0", i / 256, i % 256);
		assert_int_equal(at(t, a), want);
		snprintf(a, sizeof(a), "10.%zu.%zu.127", i / 256, i % 256);
		assert_int_equal(at(t, a), want);
		snprintf(a, sizeof(a), "10.%zu.%zu.128", i / 256, i % 256);
		assert_int_equal(at(t, a), 0);
	}
	ipasn_free(&t);
	free(buf);
}

/* Each bad line: refused, nothing loaded, the message names file:line
 * and says what. */
static void
bad(const char *text, const char *want)
{
	struct ipasn *t = (struct ipasn *)&t;	/* must be cleared */
	zdiag_t d;

	assert_int_not_equal(ipasn_parse("ip2asn.tsv", text, strlen(text),
	    &t, &d), ZE_OK);
	assert_null(t);
	if (strstr(d.text, want) == NULL)
		fail_msg("'%s' does not say '%s'", d.text, want);
}

#define ROW1 "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"

static void
t_bad_lines(void **state)
{
	char big[IPASN_MAX_LINE + 128];

	(void)state;
	bad(ROW1 "1.0.1.0\t1.0.1.255\t13335\tUS\n",
	    "ip2asn.tsv:2: 4 tab-separated fields, want 5");
	bad(ROW1 "1.0.1.0\t1.0.1.255\t13335\tUS\tX\textra\n",
	    "ip2asn.tsv:2: more than 5 tab-separated fields");
	bad("1.0.0.300\t1.0.1.255\t1\tUS\tX\n",
	    "ip2asn.tsv:1: range_start '1.0.0.300' is not an IPv4 or IPv6");
	bad(ROW1 "1.0.1.0\tnope\t1\tUS\tX\n",
	    "ip2asn.tsv:2: range_end 'nope' is not an IPv4 or IPv6");
	bad(ROW1 "1.0.1.0\t2001:db8::\t1\tUS\tX\n",
	    "ip2asn.tsv:2: range mixes IPv4 and IPv6");
	bad("1.0.1.0\t1.0.0.255\t1\tUS\tX\n",
	    "ip2asn.tsv:1: range_end 1.0.0.255 before range_start 1.0.1.0");
	bad("2001:db8::1\t2001:db8::\t1\tUS\tX\n",
	    "ip2asn.tsv:1: range_end 2001:db8:: before range_start");
	/* sorted and disjoint, per family */
	bad(ROW1 "1.0.0.128\t1.0.1.255\t7\tUS\tX\n",
	    "ip2asn.tsv:2: range overlaps line 1's");
	bad(ROW1 "0.9.0.0\t0.9.0.255\t7\tUS\tX\n",
	    "ip2asn.tsv:2: range starts before line 1's");
	bad("2001:db8::\t2001:db8::ffff\t1\tUS\tX\n" ROW1
	    "2001:db8::8000\t2001:db8::9000\t2\tUS\tX\n",
	    "ip2asn.tsv:3: range overlaps line 1's");
	/* numbers */
	bad(ROW1 "1.0.1.0\t1.0.1.255\t-5\tUS\tX\n",
	    "ip2asn.tsv:2: AS_number '-5' is not a number");
	bad(ROW1 "1.0.1.0\t1.0.1.255\t4294967296\tUS\tX\n",
	    "ip2asn.tsv:2: AS_number '4294967296' is not a number");
	bad(ROW1 "1.0.1.0\t1.0.1.255\t\tUS\tX\n",
	    "ip2asn.tsv:2: AS_number '' is not a number");
	bad(ROW1 "1.0.1.0\t1.0.1.255\t12 \tUS\tX\n",
	    "ip2asn.tsv:2: AS_number '12 ' is not a number");
	/* other fields */
	bad(ROW1 "1.0.1.0\t1.0.1.255\t1\t\tX\n",
	    "ip2asn.tsv:2: country_code '' is not 1 to 8 letters");
	bad(ROW1 "1.0.1.0\t1.0.1.255\t1\tR1\tX\n",
	    "ip2asn.tsv:2: country_code 'R1' is not");
	bad(ROW1 "\n", "ip2asn.tsv:2: empty line");
	bad(ROW1 "1.0.1.0\t1.0.1.255\t1\tUS\tX\001Y\n",
	    "ip2asn.tsv:2: control character 0x01");
	bad("", "ip2asn.tsv: no rows");
	bad(ROW1 "1.0.1.0\t1.0.1.2555555555555555555555555555555555555555555"
	    "5555555\t1\tUS\tX\n",
	    "ip2asn.tsv:2: range_end longer than an address");
	memset(big, 0, sizeof(big));
	snprintf(big, sizeof(big), "%s1.0.1.0\t1.0.1.255\t1\tUS\t", ROW1);
	memset(big + strlen(big), 'A', IPASN_MAX_DESC + 1);
	bad(big, "ip2asn.tsv:2: AS_description longer than 512 bytes");
	memset(big, 0, sizeof(big));
	snprintf(big, sizeof(big), "%s1.0.1.0\t1.0.1.255\t1\tUS\t", ROW1);
	memset(big + strlen(big), 'A', IPASN_MAX_LINE);
	bad(big, "ip2asn.tsv:2: line longer than 1024 bytes");
}

/* A real file: loaded; missing and oversized ones refused by name. */
static void
t_files(void **state)
{
	char dir[] = "/tmp/zond-ipasn-XXXXXX", path[128];
	struct ipasn *t = NULL;
	zdiag_t d;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ip2asn-combined.tsv", dir);
	assert_int_equal(ipasn_load(path, &t, &d), ZE_NOTFOUND);
	assert_non_null(strstr(d.text, path));
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(GOOD, 1, sizeof(GOOD) - 1, f),
	    sizeof(GOOD) - 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ipasn_load(path, &t, &d), ZE_OK);
	assert_int_equal(at(t, "5.3.1.1"), 12389);
	ipasn_free(&t);
	/* one byte over the cap (sparse: nothing is written or read) */
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	assert_int_equal(ftruncate(fd, (off_t)IPASN_MAX_FILE + 1), 0);
	close(fd);
	assert_int_equal(ipasn_load(path, &t, &d), ZE_TOOBIG);
	assert_null(t);
	assert_non_null(strstr(d.text, path));
	assert_non_null(strstr(d.text, "more than"));
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good),
		cmocka_unit_test(t_many),
		cmocka_unit_test(t_bad_lines),
		cmocka_unit_test(t_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
