/*
 * test_probe_tls — probe_tls, probe_doh and HTTPS probe_http against a
 * real OpenSSL server on 127.0.0.1 with a CA made at test time.  The
 * server picks its behaviour from the SNI: normal handshake, TCP reset
 * right after the ClientHello, clean close, silence, or a certificate
 * for another name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytes.h"
#include "probe.h"
#include "servers.h"
#include "tlshello.h"

static struct srv *tls;
static int port;

static Zond__V1__Outcome *
run_tls_shape(const char *shape, const char *sni, const char *control,
    int64_t tmo, bool ca)
{
	probe_env_t env = {.timeout_ms = tmo,
	    .ca_file = ca ? srv_ca_file(tls) : NULL};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .target = "ok.test", .ip = "127.0.0.1", .port = port, .sni = sni,
	    .control_sni = control, .variant = shape};
	Zond__V1__Outcome *o = NULL;
	char want[64];
	zdiag_t d = {""};

	if (probe_tls(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_tls %s: %s", sni, d.text);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_TLS);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	assert_string_equal(o->tls->addr, want);
	assert_string_equal(o->tls->sni, sni);
	assert_string_equal(o->tls->shape, shape != NULL ? shape :
	    "openssl");
	return o;
}

static Zond__V1__Outcome *
run_tls(const char *sni, const char *control, int64_t tmo, bool ca)
{
	return run_tls_shape(NULL, sni, control, tmo, ca);
}

static void
t_ok(void **state)
{
	Zond__V1__Outcome *o = run_tls("ok.test", "control.test", 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_handshake_us);
	assert_true(o->tls->handshake_us > 0);
	assert_true(o->tls->has_cert_valid);
	assert_true(o->tls->cert_valid);
	assert_non_null(o->tls->tls_version);
	assert_string_equal(o->tls->tls_version, "TLSv1.3");
	assert_null(o->tls->error_stage);
	assert_string_equal(o->tls->control_sni, "control.test");
	assert_true(o->tls->has_control_failure);
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_control_handshake_us);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* The real and the control SNI go first at random: over 64 runs both
 * orders occur, and each run records its own. */
static void
t_order_drawn(void **state)
{
	int first = 0, runs = 64;

	(void)state;
	for (int i = 0; i < runs; i++) {
		Zond__V1__Outcome *o = run_tls("ok.test", "control.test", 2000,
		    true);

		assert_true(o->tls->has_control_first);
		first += o->tls->control_first;
		assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
		zond__v1__outcome__free_unpacked(o, NULL);
	}
	assert_true(first > 0 && first < runs);
}

static void
t_reset_after_client_hello(void **state)
{
	Zond__V1__Outcome *o = run_tls("blocked.test", "control.test", 2000,
	    true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_false(o->tls->has_handshake_us);
	assert_false(o->tls->has_cert_valid);
	/* the control SNI to the same address works: SNI filtering */
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_control_handshake_us);
	assert_non_null(strstr(o->detail, "blocked.test"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_eof_after_client_hello(void **state)
{
	Zond__V1__Outcome *o = run_tls("eof.test", NULL, 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_EOF);
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_null(o->tls->control_sni);
	assert_false(o->tls->has_control_failure);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_timeout_after_client_hello(void **state)
{
	Zond__V1__Outcome *o = run_tls("slow.test", "control.test", 1000,
	    true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* The server answers the ClientHello with an alert: stage "alert",
 * which the aggregator reads as the site's own refusal (geoblocked),
 * unlike the censor's reset or silence at "client_hello". */
static void
t_server_alert(void **state)
{
	Zond__V1__Outcome *o = run_tls("refuse.test", "control.test", 2000,
	    true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TLS_ERROR);
	assert_string_equal(o->tls->error_stage, "alert");
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_non_null(strstr(o->detail, "alert"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* ------------------------------------------------ the browser shape */

/* A ServerHello from the real OpenSSL server ends the exchange: no
 * certificate is checked (the handshake is not completed). */
static void
t_browser_ok(void **state)
{
	Zond__V1__Outcome *o = run_tls_shape("browser", "ok.test",
	    "control.test", 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_handshake_us);
	assert_false(o->tls->has_cert_valid);
	assert_string_equal(o->tls->tls_version, "TLSv1.3");
	assert_null(o->tls->error_stage);
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* a certificate for another name does not matter here */
	o = run_tls_shape("browser", "wrong.test", NULL, 2000, true);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* Reset, EOF, silence and an alert map as for the default shape. */
static void
t_browser_failures(void **state)
{
	static const struct {
		const char *sni;
		Zond__V1__Failure f;
		const char *stage;
	} c[] = {
		{"blocked.test", ZOND__V1__FAILURE__FAIL_RESET, "client_hello"},
		{"eof.test", ZOND__V1__FAILURE__FAIL_EOF, "client_hello"},
		{"slow.test", ZOND__V1__FAILURE__FAIL_TIMEOUT, "client_hello"},
		{"refuse.test", ZOND__V1__FAILURE__FAIL_TLS_ERROR, "alert"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ZARRAY_LEN(c); i++) {
		Zond__V1__Outcome *o = run_tls_shape("browser", c[i].sni,
		    "control.test", 1000, true);
		if (o->failure != c[i].f)
			fail_msg("%s: failure %d, want %d (%s)", c[i].sni,
			    o->failure, c[i].f, o->detail);
		assert_string_equal(o->tls->error_stage, c[i].stage);
		assert_int_equal(o->tls->control_failure,
		    ZOND__V1__FAILURE__FAIL_NONE);
		assert_non_null(strstr(o->detail, c[i].sni));
		zond__v1__outcome__free_unpacked(o, NULL);
	}
}

static void
t_browser_bad_variant(void **state)
{
	probe_env_t env = {.timeout_ms = 500};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .target = "ok.test", .ip = "127.0.0.1", .port = port,
	    .variant = "chrome"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "'chrome'"));
	req.variant = "quic";
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
}

/* ------------------------------------------- what goes on the wire */

/* A TCP listener that keeps the first bytes of one connection (up to a
 * whole TLS record) and closes: the ClientHello as a censor sees it. */
struct capture {
	int lfd, port;
	pthread_t th;
	uint8_t buf[8192];
	size_t n;
};

static void *
capture_main(void *arg)
{
	struct capture *c = arg;
	struct pollfd p = {.events = POLLIN};
	int fd;

	p.fd = c->lfd;
	if (poll(&p, 1, 5000) != 1 || (fd = accept(c->lfd, NULL, NULL)) < 0)
		return NULL;
	p.fd = fd;
	while (c->n < sizeof(c->buf) && poll(&p, 1, 2000) == 1) {
		ssize_t r = recv(fd, c->buf + c->n, sizeof(c->buf) - c->n, 0);
		if (r <= 0)
			break;
		c->n += (size_t)r;
		if (c->n >= 5 && c->n >= 5 + (size_t)be16_get(c->buf + 3))
			break;
	}
	close(fd);
	return NULL;
}

static size_t
capture(const char *shape, tls_hello_t *h)
{
	struct capture c;
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .target = "ok.test", .ip = "127.0.0.1", .sni = "www.youtube.com",
	    .variant = shape};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(c.lfd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(listen(c.lfd, 1), 0);
	assert_int_equal(getsockname(c.lfd, (struct sockaddr *)&s, &sl), 0);
	req.port = ntohs(s.sin_port);
	assert_int_equal(pthread_create(&c.th, NULL, capture_main, &c), 0);
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	pthread_join(c.th, NULL);
	close(c.lfd);
	/* the listener closed after the hello: no handshake */
	assert_int_not_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	if (tls_hello_parse_record(c.buf, c.n, h, &d) != ZE_OK)
		fail_msg("%s hello: %s", shape, d.text);
	assert_false(h->truncated);
	assert_string_equal(h->sni, "www.youtube.com");
	return c.n;
}

/* The openssl shape is what libcurl with Debian 12's OpenSSL 3.0 sends:
 * the probe's own ClientHello must classify as "openssl" and carry the
 * same cipher list, extension order, groups, ALPN and length as
 * lib/tlshello.c's figures (built here and parsed back).  When a library upgrade
 * changes what goes on the wire, this fails and the figures (and
 * docs/PROBES-TCP.md) must be captured again. */
static void
t_wire_openssl(void **state)
{
	uint8_t b[TLS_HELLO_CAP];
	tls_hello_opts_t ho = {.shape = TLS_SHAPE_OPENSSL,
	    .sni = "www.youtube.com"};
	tls_hello_t got, want;
	size_t n, i, got_len;
	zdiag_t d;

	(void)state;
	got_len = capture("openssl", &got);
	assert_int_equal(tls_hello_build(&ho, true, b, sizeof(b), &n, &d),
	    ZE_OK);
	assert_int_equal(tls_hello_parse_record(b, n, &want, &d), ZE_OK);
	assert_int_equal(got.n_ciphers, want.n_ciphers);
	assert_memory_equal(got.ciphers, want.ciphers,
	    got.n_ciphers * sizeof(got.ciphers[0]));
	assert_int_equal(got.n_exts, want.n_exts);
	for (i = 0; i < got.n_exts; i++)
		if (got.exts[i] != want.exts[i])
			fail_msg("extension %zu: sent %u, figures say %u", i,
			    got.exts[i], want.exts[i]);
	assert_int_equal(got.n_alpn, want.n_alpn);
	for (i = 0; i < got.n_alpn; i++)
		assert_string_equal(got.alpn[i], want.alpn[i]);
	/* both padded to the same 512-byte handshake message */
	assert_int_equal(n, got_len);
	assert_int_equal(got.n_groups, want.n_groups);
	assert_memory_equal(got.groups, want.groups,
	    got.n_groups * sizeof(got.groups[0]));
	assert_int_equal(got.n_versions, want.n_versions);
	assert_int_equal(tls_hello_shape(&got), TLS_SHAPE_OPENSSL);
}

static void
t_wire_browser(void **state)
{
	tls_hello_t got;

	(void)state;
	capture("browser", &got);
	assert_int_equal(tls_hello_shape(&got), TLS_SHAPE_BROWSER);
	assert_int_equal(got.n_alpn, 2);
	assert_string_equal(got.alpn[0], "h2");
}

static void
t_cert_other_name(void **state)
{
	Zond__V1__Outcome *o = run_tls("wrong.test", NULL, 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_CERT_INVALID);
	assert_true(o->tls->has_cert_valid);
	assert_false(o->tls->cert_valid);
	assert_string_equal(o->tls->error_stage, "handshake");
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_cert_unknown_ca(void **state)
{
	/* without the test CA the system store cannot vouch for it */
	Zond__V1__Outcome *o = run_tls("ok.test", NULL, 2000, false);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_CERT_INVALID);
	assert_false(o->tls->cert_valid);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_refused_and_defaults(void **state)
{
	probe_env_t env = {.timeout_ms = 2000, .ca_file = srv_ca_file(tls)};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	char target[64];
	zdiag_t d;
	int closed = srv_closed_port();

	(void)state;
	/* SNI defaults to the host of the target, port comes from it */
	snprintf(target, sizeof(target), "ok.test:%d", port);
	req.target = target;
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->tls->sni, "ok.test");
	zond__v1__outcome__free_unpacked(o, NULL);

	/* nothing listening: refused at the connect stage */
	snprintf(target, sizeof(target), "ok.test:%d", closed);
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_REFUSED);
	assert_string_equal(o->tls->error_stage, "connect");
	zond__v1__outcome__free_unpacked(o, NULL);

	req.target = NULL;
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
}

static Zond__V1__Outcome *
run_doh(const char *host, const char *name)
{
	char url[128];
	probe_env_t env = {.timeout_ms = 2000, .ca_file = srv_ca_file(tls),
	    .doh_url = url};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_DOH,
	    .target = name, .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d = {""};

	snprintf(url, sizeof(url), "https://%s:%d/dns-query", host, port);
	if (probe_doh(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_doh %s: %s", name, d.text);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_DNS);
	assert_string_equal(o->dns->query, name);
	assert_string_equal(o->dns->qtype, "A");
	return o;
}

static void
t_doh(void **state)
{
	Zond__V1__Outcome *o;
	char from[64];

	(void)state;
	snprintf(from, sizeof(from), "127.0.0.1:%d", port);
	o = run_doh("doh.test", "normal.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->dns->n_responses, 1);
	assert_int_equal(o->dns->responses[0]->rcode, 0);
	assert_int_equal(o->dns->responses[0]->n_answers, 1);
	assert_string_equal(o->dns->responses[0]->answers[0]->type, "A");
	assert_string_equal(o->dns->responses[0]->answers[0]->data,
	    "192.0.2.10");
	assert_string_equal(o->dns->responses[0]->from, from);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run_doh("doh.test", "nx.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NXDOMAIN);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run_doh("doh.test", "bogon.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BOGON);
	zond__v1__outcome__free_unpacked(o, NULL);

	/* DoH reset after ClientHello, as reported from Russia since 2023 */
	o = run_doh("blocked.test", "normal.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_int_equal(o->dns->n_responses, 0);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run_doh("wrong.test", "normal.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_CERT_INVALID);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_https_get(void **state)
{
	probe_env_t env = {.timeout_ms = 2000, .ca_file = srv_ca_file(tls)};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_HTTP,
	    .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	char url[128], addr[64];
	zdiag_t d;

	(void)state;
	snprintf(url, sizeof(url), "https://ok.test:%d/", port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	req.target = url;
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_string_equal(o->http->title, "Zond test page");
	assert_string_equal(o->http->addr, addr);
	zond__v1__outcome__free_unpacked(o, NULL);

	snprintf(url, sizeof(url), "https://blocked.test:%d/", port);
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_false(o->http->has_status);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static int
setup(void **state)
{
	(void)state;
	if ((tls = srv_tls()) == NULL)
		return -1;
	port = srv_port(tls);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	srv_stop(&tls);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ok),
		cmocka_unit_test(t_order_drawn),
		cmocka_unit_test(t_reset_after_client_hello),
		cmocka_unit_test(t_eof_after_client_hello),
		cmocka_unit_test(t_timeout_after_client_hello),
		cmocka_unit_test(t_server_alert),
		cmocka_unit_test(t_browser_ok),
		cmocka_unit_test(t_browser_failures),
		cmocka_unit_test(t_browser_bad_variant),
		cmocka_unit_test(t_wire_openssl),
		cmocka_unit_test(t_wire_browser),
		cmocka_unit_test(t_cert_other_name),
		cmocka_unit_test(t_cert_unknown_ca),
		cmocka_unit_test(t_refused_and_defaults),
		cmocka_unit_test(t_doh),
		cmocka_unit_test(t_https_get),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}
