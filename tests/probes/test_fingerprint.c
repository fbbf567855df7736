/*
 * test_fingerprint — the OONI-format fingerprint CSV parser and matcher:
 * a good file loads and matches what it should (and nothing else), each
 * kind of bad row fails the whole file with "file:line: what", and the
 * files shipped in ops/fingerprints load.  argv[1] is the source root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"

static const char *srcdir;

#define HDR "name,scope,location_found,pattern_type,pattern," \
    "confidence_no_fp,expected_countries\n"
#define PHDR "name,scope,other_names,location_found,pattern_type,pattern," \
    "confidence_no_fp,expected_countries,source,exp_url,notes\n"

static const char good[] =
    "\xef\xbb\xbf" HDR
    "ru_law,nat,body,contains,Доступ к сайту ограничен,70,RU\r\n"
    "ru_rt,isp,header.location,prefix,http://warning.rt.ru,90,RU\n"
    "\n"
    "\"quoted, name\",isp,body,full,\"exact \"\"body\"\"\",,\"RU,BY\"\n"
    "re_srv,vbw,header.Server,regexp,^Block(er|ed)/[0-9]+$,5,\n"
    "multi,isp,body,contains,\"two\nlines\",10,RU\n"
    "dns1,nat,dns,full,10.10.34.34,90,IR\n"
    "dnsre,nat,dns,regexp,^198\\.18\\.,90,\n"
    "body_re,isp,body,regexp,blo+cked by [a-z]+$,5,RU\n";

static void
t_good(void **state)
{
	struct fpdb *db = NULL;
	zdiag_t d = {""};
	const char *h1[] = {"Server: nginx", "location: http://warning.rt.ru/"
	    "?id=1"};
	const char *h2[] = {"Server: Blocker/12"};
	const char *h3[] = {"Server: Blocker/12x", "Location: https://"
	    "warning.rt.ru/"};
	const char *page = "<p>Доступ к сайту ограничен в соответствии</p>";

	(void)state;
	assert_int_equal(fpdb_parse("good.csv", good, sizeof(good) - 1, &db,
	    &d), ZE_OK);
	assert_non_null(db);
	assert_int_equal(fpdb_count(db), 8);
	assert_string_equal(fpdb_match_http(db, page, strlen(page), NULL,
	    0).name,
	    "ru_law");
	assert_null(fpdb_match_http(db, "hello", 5, NULL, 0).name);
	/* header names match case-insensitively, values by pattern */
	assert_string_equal(fpdb_match_http(db, "x", 1, h1, 2).name, "ru_rt");
	assert_string_equal(fpdb_match_http(db, "x", 1, h2, 1).name, "re_srv");
	assert_null(fpdb_match_http(db, "x", 1, h3, 2).name);
	assert_string_equal(fpdb_match_header(db, "Location",
	    "http://warning.rt.ru/x").name, "ru_rt");
	assert_null(fpdb_match_header(db, "Location",
	    "http://example.org/").name);
	/* quoting: "" is one quote, commas and newlines inside quotes */
	assert_string_equal(fpdb_match_http(db, "exact \"body\"", 12, NULL,
	    0).name, "quoted, name");
	assert_null(fpdb_match_http(db, "exact \"body\"!", 13, NULL, 0).name);
	assert_string_equal(fpdb_match_http(db, "a two\nlines b", 13, NULL,
	    0).name,
	    "multi");
	/* a body with a NUL before the pattern still matches (contains) */
	assert_string_equal(fpdb_match_http(db, "\0two\nlines", 10, NULL,
	    0).name,
	    "multi");
	assert_string_equal(fpdb_match_dns(db, "10.10.34.34").name, "dns1");
	assert_null(fpdb_match_dns(db, "10.10.34.3").name);
	assert_string_equal(fpdb_match_dns(db, "198.18.0.1").name, "dnsre");
	/* dns rows never match HTTP bodies and vice versa */
	assert_null(fpdb_match_http(db, "10.10.34.34", 11, NULL, 0).name);
	assert_null(fpdb_match_dns(db, "warning.rt.ru").name);
	assert_null(fpdb_match_http(NULL, "x", 1, NULL, 0).name);
	/* a body regexp over a buffer with no terminator (ASan watches the
	 * byte after it) and with a NUL inside */
	{
		static const char txt[] = "a\0 blooocked by rkn";
		char *b = malloc(sizeof(txt) - 1);
		assert_non_null(b);
		memcpy(b, txt, sizeof(txt) - 1);
		assert_string_equal(fpdb_match_http(db, b, sizeof(txt) - 1,
		    NULL, 0).name, "body_re");
		assert_null(fpdb_match_http(db, b, sizeof(txt) - 5, NULL,
		    0).name);
		free(b);
	}
	fpdb_free(&db);
	assert_null(db);
	fpdb_free(&db);
}

/* Match m names row want of scope sc (want NULL: no match). */
#define HIT(m, want, sc) do {						\
	struct fp_match m_ = (m);					\
	if ((want) == NULL) {						\
		if (m_.name != NULL)					\
			fail_msg("line %d: matched %s", __LINE__, m_.name); \
	} else {							\
		if (m_.name == NULL)					\
			fail_msg("line %d: no match, want %s", __LINE__, \
			    (const char *)(want));			\
		assert_string_equal(m_.name, (want));			\
		assert_int_equal(m_.scope, (sc));			\
	}								\
} while (0)

/*
 * The published format (OONI's eleven columns), from a fixture written
 * by hand like OONI's rows: quoted other_names lists, notes with commas,
 * doubled quotes and a newline, empty fields, every scope, regexps, and
 * body, dns, header.location, header.server and header.via rows.
 */
static void
t_published(void **state)
{
	struct fpdb *db = NULL;
	char path[1024];
	zdiag_t d = {""};
	const char *nat = "<h1>Доступ ограничен по решению суда</h1>";
	const char *both = "Access restricted. Доступ ограничен по решению";
	const char *vbw = "<title>Access restricted</title>";
	const char *injb = "<a href=/main/fwUpInfoBlock.htm>update</a>";
	const char *akamai = "<H1>Access Denied</H1> You don't have "
	    "permission to access \"x\" on this server.<P>";
	const char *via[] = {"Via: 1.1 proxy.school.example (Filter/2.0)"};
	const char *srv[] = {"Server: BlockServer/1.2"};
	const char *srv2[] = {"Server: BlockServer/1.2 (x)"};
	const char *vk[] = {"Location: https://vk.com/blank.php?rkn=123"};
	const char *mvk[] = {"Location: https://m.vk.com/blank.php?rkn=123"};

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/probes/"
	    "fingerprints_published.csv", srcdir);
	if (fpdb_load(path, &db, &d) != ZE_OK)
		fail_msg("%s", d.text);
	assert_int_equal(fpdb_count(db), 12);
	/* one row per scope, each named with its scope */
	HIT(fpdb_match_http(db, nat, strlen(nat), NULL, 0), "fx.nat_body",
	    FP_SCOPE_NAT);
	HIT(fpdb_match_header(db, "location", "http://block.isp.example/?u=1"),
	    "fx.isp_loc", FP_SCOPE_ISP);
	HIT(fpdb_match_dns(db, "198.51.100.7"), "fx.prod_dns", FP_SCOPE_PROD);
	HIT(fpdb_match_http(db, "x", 1, via, 1), "fx.inst_via", FP_SCOPE_INST);
	HIT(fpdb_match_http(db, "x", 1, mvk, 1), "fx.prov_loc", FP_SCOPE_PROV);
	HIT(fpdb_match_http(db, vbw, strlen(vbw), NULL, 0), "fx.vbw_word",
	    FP_SCOPE_VBW);
	HIT(fpdb_match_http(db, injb, strlen(injb), NULL, 0),
	    "fx.injb_router", FP_SCOPE_INJB);
	HIT(fpdb_match_http(db, "x", 1, srv, 1), "fx.isp_server",
	    FP_SCOPE_ISP);
	HIT(fpdb_match_http(db, "x", 1, srv2, 1), NULL, 0);
	HIT(fpdb_match_dns(db, "203.0.113.2"), "fx.nat_dns_re", FP_SCOPE_NAT);
	HIT(fpdb_match_dns(db, "203.0.113.3"), NULL, 0);
	/* Python's literal "{" in a regexp (OONI's files have one) */
	HIT(fpdb_match_http(db, "{\"msg\": \"blocked\"}", 18, NULL, 0),
	    "fx.vbw_json", FP_SCOPE_VBW);
	HIT(fpdb_match_http(db, "\"msg\": \"blocked\"}", 17, NULL, 0),
	    NULL, 0);
	/* an fp row never matches: the Akamai page is no blockpage */
	HIT(fpdb_match_http(db, akamai, strlen(akamai), NULL, 0), NULL, 0);
	/* several rows match: the strongest scope wins, whatever the
	 * order (the vague word comes first in the page, the nat row
	 * first in the file; VK's redirect is both prov and nat) */
	HIT(fpdb_match_http(db, both, strlen(both), NULL, 0), "fx.nat_body",
	    FP_SCOPE_NAT);
	HIT(fpdb_match_http(db, "x", 1, vk, 1), "fx.nat_vk", FP_SCOPE_NAT);
	HIT(fpdb_match_header(db, "Location", vk[0] + 10), "fx.nat_vk",
	    FP_SCOPE_NAT);
	/* a recorded name looked up, of any scope */
	HIT(fpdb_find(db, "fx.prov_loc"), "fx.prov_loc", FP_SCOPE_PROV);
	HIT(fpdb_find(db, "fx.fp_page"), "fx.fp_page", FP_SCOPE_FP);
	HIT(fpdb_find(db, "fx.nope"), NULL, 0);
	HIT(fpdb_find(NULL, "fx.prov_loc"), NULL, 0);
	assert_string_equal(fpdb_scope_name(FP_SCOPE_PROV), "prov");
	assert_string_equal(fpdb_scope_name(FP_SCOPE_INJB), "injb");
	fpdb_free(&db);
}

/* OONI's own files, when a copy is at hand (not in CI):
 * ZOND_OONI_FINGERPRINTS=.../fingerprints_http.csv,.../fingerprints_dns.csv */
static void
t_ooni_copy(void **state)
{
	const char *p = getenv("ZOND_OONI_FINGERPRINTS");
	struct fpdb *db = NULL;
	zdiag_t d = {""};

	(void)state;
	if (p == NULL || *p == '\0')
		skip();
	if (fpdb_load(p, &db, &d) != ZE_OK)
		fail_msg("%s", d.text);
	printf("loaded %zu fingerprints from %s\n", fpdb_count(db), p);
	HIT(fpdb_match_dns(db, "95.167.13.50"), "ooni.ru_dns_1", FP_SCOPE_ISP);
	fpdb_free(&db);
}

struct bad {
	const char *text;
	const char *msg;	/* expected diagnostic, exactly */
};

static const struct bad bads[] = {
	{"", "bad.csv:1: empty file, expected the header row"},
	{"name,scope\n", "bad.csv:1: header row must be name,scope,"
	    "other_names,location_found,pattern_type,pattern,"
	    "confidence_no_fp,expected_countries,source,exp_url,notes "
	    "(OONI's) or name,scope,location_found,pattern_type,pattern,"
	    "confidence_no_fp,expected_countries"},
	{PHDR "a,isp,,body,contains,x,1,RU,,,\nb,isp,body,contains,x,1,RU\n",
	    "bad.csv:3: expected 11 fields, found 7"},
	{PHDR "a,isp,,body,contains,x,1,RU,,,\n\"b\",isp,,dns,full,10.0.0.1,"
	    "5,RU,src,,\"notes, with \"\"quotes\"\"\nand a line\"\n"
	    "c,state,,dns,full,10.0.0.2,5,RU,,,\n",
	    "bad.csv:5: unknown scope 'state' (nat, isp, prod, inst, prov, "
	    "vbw, injb or fp)"},
	{HDR "a,isp,body,contains,x,1,RU\nb,isp,body,contains,x,1\n",
	    "bad.csv:3: expected 7 fields, found 6"},
	{HDR "a,isp,body,contains,x,y,1,RU\n",
	    "bad.csv:2: expected 7 fields, found 8 (quote fields that hold "
	    "commas)"},
	{HDR "a,world,body,contains,x,1,RU\n",
	    "bad.csv:2: unknown scope 'world' (nat, isp, prod, inst, prov, "
	    "vbw, injb or fp)"},
	{HDR "a,isp,footer,contains,x,1,RU\n",
	    "bad.csv:2: unknown location_found 'footer' (body, dns or "
	    "header.NAME)"},
	{HDR "a,isp,header.,contains,x,1,RU\n",
	    "bad.csv:2: unknown location_found 'header.' (body, dns or "
	    "header.NAME)"},
	{HDR "a,isp,body,glob,x,1,RU\n",
	    "bad.csv:2: unknown pattern_type 'glob' (full, prefix, contains "
	    "or regexp)"},
	{HDR "a,isp,body,regexp,(unclosed,1,RU\n", NULL},	/* prefix */
	{HDR "a,isp,body,contains,,1,RU\n", "bad.csv:2: empty pattern"},
	{HDR ",isp,body,contains,x,1,RU\n", "bad.csv:2: empty name"},
	{HDR "a,isp,body,contains,x,1,RU\n\"a\",isp,body,contains,y,1,RU\n",
	    "bad.csv:3: duplicate name 'a' (first on line 2)"},
	{HDR "a,isp,body,contains,x,high,RU\n",
	    "bad.csv:2: confidence_no_fp 'high' is not an integer 0-100"},
	{HDR "a,isp,body,contains,x,101,RU\n",
	    "bad.csv:2: confidence_no_fp '101' is not an integer 0-100"},
	{HDR "a,isp,body,contains,x,1,Russia\n",
	    "bad.csv:2: expected_countries 'Russia' is not a comma-separated "
	    "list of two-letter country codes"},
	{HDR "a,isp,body,contains,\"x,1,RU\n",
	    "bad.csv:2: quoted field never closed"},
	{HDR "a,isp,body,contains,\"x\"y,1,RU\n",
	    "bad.csv:2: text after the closing quote of field 5"},
	{HDR "a,isp,body,contains,x\"y,1,RU\n",
	    "bad.csv:2: quote inside unquoted field 5 (quote the field and "
	    "double the quote)"},
	{HDR "ok,isp,body,contains,x,1,RU\n\"multi\nline\",isp,body,x,y,1,"
	    "RU\n", "bad.csv:3: unknown pattern_type 'x' (full, prefix, "
	    "contains or regexp)"},
	{HDR "\"two\nlines\",isp,body,contains,x,1,RU\nb,isp,bad,contains,x,"
	    "1,RU\n", "bad.csv:4: unknown location_found 'bad' (body, dns or "
	    "header.NAME)"},
};

static void
t_bad(void **state)
{
	struct fpdb *db = (struct fpdb *)&db;	/* must be cleared */
	zdiag_t d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		memset(&d, 0, sizeof(d));
		db = (struct fpdb *)&db;
		assert_int_not_equal(fpdb_parse("bad.csv", bads[i].text,
		    strlen(bads[i].text), &db, &d), ZE_OK);
		assert_null(db);
		if (bads[i].msg != NULL) {
			if (strcmp(d.text, bads[i].msg) != 0)
				fail_msg("case %zu: got '%s', want '%s'", i,
				    d.text, bads[i].msg);
		} else {
			const char *want = "bad.csv:2: bad regexp "
			    "'(unclosed': ";
			if (strncmp(d.text, want, strlen(want)) != 0 ||
			    strlen(d.text) <= strlen(want))
				fail_msg("regexp case: got '%s'", d.text);
		}
	}
	/* NUL inside a field */
	{
		static const char nul[] = HDR "a,isp,body,contains,x\0y,1,RU\n";
		assert_int_equal(fpdb_parse("bad.csv", nul, sizeof(nul) - 1,
		    &db, &d), ZE_PARSE);
		assert_string_equal(d.text, "bad.csv:2: NUL byte in column "
		    "pattern");
	}
	/* an over-long field */
	{
		char big[FPDB_MAX_FIELD + 200];
		size_t n = (size_t)snprintf(big, sizeof(big), "%s", HDR);
		memcpy(big + n, "a,isp,body,contains,", 20);
		n += 20;
		memset(big + n, 'x', FPDB_MAX_FIELD + 1);
		n += FPDB_MAX_FIELD + 1;
		assert_int_equal(fpdb_parse("bad.csv", big, n, &db, &d),
		    ZE_TOOBIG);
		assert_true(strstr(d.text, "bad.csv:2: field 5 longer than")
		    == d.text);
	}
}

static void
t_load_shipped(void **state)
{
	const char *files[] = {"fingerprints_http.csv",
	    "fingerprints_dns.csv"};
	struct fpdb *db = NULL;
	char path[1024];
	zdiag_t d = {""};
	size_t i;
	const char *law = "<h1>Доступ к сайту ограничен в соответствии с "
	    "Федеральными законами</h1>";
	const char *lab = "<p>Zond lab: access restricted</p>";
	const char *mts = "<iframe src=\"http://subblock.mts.ru/x\">";
	const char *loc[] = {"Location: http://warning.rt.ru/?id=1"};

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/ops/fingerprints/%s", srcdir,
		    files[i]);
		if (fpdb_load(path, &db, &d) != ZE_OK)
			fail_msg("%s", d.text);
		assert_true(fpdb_count(db) > 0);
		if (i == 0) {
			assert_non_null(fpdb_match_http(db, law, strlen(law),
			    NULL, 0).name);
			assert_string_equal(fpdb_match_http(db, lab,
			    strlen(lab), NULL, 0).name, "zond_lab_blockpage");
			assert_non_null(fpdb_match_http(db, mts, strlen(mts),
			    NULL, 0).name);
			assert_non_null(fpdb_match_http(db, "x", 1, loc,
			    1).name);
			{
				const char *vk[] = {"Location: "
				    "https://vk.com/blank.php?rkn=42"};
				const char *cf = "<p>The owner of this website "
				    "(x.example) has banned the country or "
				    "region your IP address is in (RU) from "
				    "accessing this website.</p>";
				HIT(fpdb_match_http(db, "x", 1, vk, 1),
				    "prov_ru_vk_rkn_geoblock", FP_SCOPE_PROV);
				HIT(fpdb_match_http(db, cf, strlen(cf), NULL,
				    0), "prov_cloudflare_1009", FP_SCOPE_PROV);
			}
			const char *ok = "<title>Zond test page</title>";
			assert_null(fpdb_match_http(db, ok, strlen(ok), NULL,
			    0).name);
		} else {
			assert_non_null(fpdb_match_dns(db, "10.10.34.34").name);
			assert_string_equal(fpdb_match_dns(db, "5.3.3.17").name,
			    "isp_ru_ertelecom_rkn");
			assert_string_equal(fpdb_match_dns(db,
			    "62.33.207.197").name, "nat_ru_dns_62_33_207_197");
			assert_null(fpdb_match_dns(db, "192.0.2.1").name);
			HIT(fpdb_match_dns(db, "95.167.13.50"),
			    "isp_ru_rostelecom_stub_1", FP_SCOPE_ISP);
			HIT(fpdb_match_dns(db, "95.167.13.51"),
			    "isp_ru_rostelecom_stub_2", FP_SCOPE_ISP);
			HIT(fpdb_match_dns(db, "193.58.251.11"),
			    "prod_ru_skydns_2", FP_SCOPE_PROD);
		}
		fpdb_free(&db);
	}
	/* both shipped files as one list, as the agent's config takes them */
	snprintf(path, sizeof(path), "%s/ops/fingerprints/%s, "
	    "%s/ops/fingerprints/%s", srcdir, files[0], srcdir, files[1]);
	if (fpdb_load(path, &db, &d) != ZE_OK)
		fail_msg("%s", d.text);
	assert_non_null(fpdb_match_http(db, law, strlen(law), NULL, 0).name);
	assert_string_equal(fpdb_match_dns(db, "5.3.3.17").name,
	    "isp_ru_ertelecom_rkn");
	fpdb_free(&db);
	snprintf(path, sizeof(path), "%s/ops/fingerprints/%s,/nonexistent/"
	    "x.csv", srcdir, files[0]);
	assert_int_equal(fpdb_load(path, &db, &d), ZE_NOTFOUND);
	assert_null(db);
	assert_true(strstr(d.text, "/nonexistent/x.csv: ") == d.text);
	snprintf(path, sizeof(path), "%s/ops/fingerprints/%s,,b.csv", srcdir,
	    files[0]);
	assert_int_equal(fpdb_load(path, &db, &d), ZE_INVAL);
	assert_null(db);
	assert_non_null(strstr(d.text, "empty file name"));
	assert_int_equal(fpdb_load("/nonexistent/fp.csv", &db, &d),
	    ZE_NOTFOUND);
	assert_true(strstr(d.text, "/nonexistent/fp.csv: ") == d.text);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good),
		cmocka_unit_test(t_published),
		cmocka_unit_test(t_ooni_copy),
		cmocka_unit_test(t_bad),
		cmocka_unit_test(t_load_shipped),
	};

	srcdir = argc > 1 ? argv[1] : "../..";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
