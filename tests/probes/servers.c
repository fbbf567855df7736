/*
 * servers.c — the misbehaving loopback servers of servers.h.
 *
 * Invariants: every socket is bound to 127.0.0.1 (or, srv_*_at, to the
 * address the test names, inside its own namespace); every wait is bounded
 * (a stuck client cannot hang a test for more than SRV_HOLD_MS); DNS
 * packets are built with ldns, certificates with the OpenSSL API at run
 * time (nothing secret is checked in).
 */
#include "servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define SRV_HOLD_MS 10000	/* longest a server waits on one client */

enum srv_kind { K_DNS, K_HTTP, K_TLS };

struct srv {
	enum srv_kind kind;
	int fd;
	int port;
	atomic_bool stop;
	atomic_int count;
	pthread_t th;
	/* TLS */
	SSL_CTX *ctx;
	X509 *other_cert;
	EVP_PKEY *other_key;
	char dir[64];
	char ca_file[128];
};

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A socket bound to ip (NULL: the loopback of the family) and port (0:
 * the kernel picks); "::" is bound dual-stack. */
static int
listen_at(int type, int backlog, int *port, bool v6, const char *ip,
    int want)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t al;
	int fd, one = 1, zero = 0;

	if (ip != NULL)
		v6 = strchr(ip, ':') != NULL;
	al = v6 ? sizeof(*a6) : sizeof(*a4);
	if ((fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0)) <
	    0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		a6->sin6_port = htons((uint16_t)want);
		if (ip != NULL && inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1)
			goto fail;
	} else {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a4->sin_port = htons((uint16_t)want);
		if (ip != NULL && inet_pton(AF_INET, ip, &a4->sin_addr) != 1)
			goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, al) != 0 ||
	    (type == SOCK_STREAM && listen(fd, backlog) != 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &al) != 0)
		goto fail;
	*port = ntohs(v6 ? a6->sin6_port : a4->sin_port);
	return fd;
fail:
	close(fd);
	return -1;
}

static int
listen_on6(int type, int backlog, int *port, bool v6)
{
	return listen_at(type, backlog, port, v6, NULL, 0);
}

static int
listen_on(int type, int backlog, int *port)
{
	return listen_on6(type, backlog, port, false);
}

/* Wait for fd readable; false on timeout or stop. */
static bool
wait_in(struct srv *s, int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (ms > 0 && !atomic_load(&s->stop)) {
		int r = poll(&p, 1, ms < 100 ? ms : 100);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
		ms -= 100;
	}
	return false;
}

/* Hold a connection until the peer closes it (or SRV_HOLD_MS). */
static void
hold(struct srv *s, int fd)
{
	char buf[512];

	while (wait_in(s, fd, SRV_HOLD_MS))
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
}

static void
reset_close(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void
eof_close(struct srv *s, int fd)
{
	shutdown(fd, SHUT_WR);	/* FIN, then wait for the client's */
	hold(s, fd);
	close(fd);
}

/* ------------------------------------------------------------------ DNS */

/* A response to query q with rcode and, when ip is set, one A/AAAA
 * answer; the id is the query's XOR id_xor.  Wire bytes in *out
 * (malloc'd); returns their count, 0 on failure. */
static size_t
dns_answer(const uint8_t *q, size_t qn, const char *ip, int rcode,
    uint16_t id_xor, uint8_t **out)
{
	ldns_pkt *in = NULL, *r = NULL;
	ldns_rr *qr, *ans;
	char *owner = NULL, rrtext[512];
	size_t n = 0;

	*out = NULL;
	if (ldns_wire2pkt(&in, q, qn) != LDNS_STATUS_OK)
		return 0;
	if (ldns_rr_list_rr_count(ldns_pkt_question(in)) != 1)
		goto out;
	qr = ldns_rr_list_rr(ldns_pkt_question(in), 0);
	if ((r = ldns_pkt_new()) == NULL)
		goto out;
	ldns_pkt_set_id(r, ldns_pkt_id(in) ^ id_xor);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_rd(r, ldns_pkt_rd(in));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	if (ip != NULL) {
		owner = ldns_rdf2str(ldns_rr_owner(qr));
		snprintf(rrtext, sizeof(rrtext), "%s 300 IN %s %s", owner,
		    strchr(ip, ':') ? "AAAA" : "A", ip);
		if (ldns_rr_new_frm_str(&ans, rrtext, 0, NULL, NULL) ==
		    LDNS_STATUS_OK)
			ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, ans);
	}
	if (ldns_pkt2wire(out, r, &n) != LDNS_STATUS_OK)
		n = 0;
out:
	free(owner);
	ldns_pkt_free(r);
	ldns_pkt_free(in);
	return n;
}

/* Query name (lowercase, no final dot) and whether it asks AAAA. */
static bool
dns_qname(const uint8_t *q, size_t qn, char *name, size_t len, bool *aaaa)
{
	ldns_pkt *in = NULL;
	ldns_rr *qr;
	char *s;
	size_t l;

	if (ldns_wire2pkt(&in, q, qn) != LDNS_STATUS_OK)
		return false;
	if (ldns_rr_list_rr_count(ldns_pkt_question(in)) != 1) {
		ldns_pkt_free(in);
		return false;
	}
	qr = ldns_rr_list_rr(ldns_pkt_question(in), 0);
	*aaaa = ldns_rr_get_type(qr) == LDNS_RR_TYPE_AAAA;
	s = ldns_rdf2str(ldns_rr_owner(qr));
	snprintf(name, len, "%s", s != NULL ? s : "");
	free(s);
	ldns_pkt_free(in);
	l = strlen(name);
	if (l > 0 && name[l - 1] == '.')
		name[l - 1] = '\0';
	return true;
}

/* Build the (first) answer for a name the way the DNS server would. */
static size_t
dns_reply_for(const uint8_t *q, size_t qn, uint8_t **out)
{
	char name[256];
	bool aaaa;

	*out = NULL;
	if (!dns_qname(q, qn, name, sizeof(name), &aaaa))
		return 0;
	if (strcmp(name, "nx.test") == 0)
		return dns_answer(q, qn, NULL, LDNS_RCODE_NXDOMAIN, 0, out);
	if (strcmp(name, "servfail.test") == 0)
		return dns_answer(q, qn, NULL, LDNS_RCODE_SERVFAIL, 0, out);
	if (strcmp(name, "refused.test") == 0)
		return dns_answer(q, qn, NULL, LDNS_RCODE_REFUSED, 0, out);
	if (strcmp(name, "bogon.test") == 0)
		return dns_answer(q, qn, "10.1.2.3", 0, 0, out);
	if (strcmp(name, "silent.test") == 0)
		return 0;
	if (strcmp(name, "dead.test") == 0)
		return dns_answer(q, qn, aaaa ? NULL : "192.0.2.99", 0, 0, out);
	/* the honest answer (DoH) of the names the UDP server forges */
	if (strcmp(name, "forged.test") == 0 || strcmp(name, "nxsys.test") ==
	    0 || strcmp(name, "v4.test") == 0)
		return dns_answer(q, qn, aaaa ? NULL : "192.0.2.10", 0, 0, out);
	return dns_answer(q, qn, aaaa ? "2001:db8::10" : "192.0.2.10", 0, 0,
	    out);
}

static void
dns_serve(struct srv *s)
{
	uint8_t q[1500], *a;
	struct sockaddr_storage from;
	socklen_t fl;
	char name[256];
	bool aaaa;
	ssize_t n;
	size_t an;

	while (!atomic_load(&s->stop)) {
		if (!wait_in(s, s->fd, 200))
			continue;
		fl = sizeof(from);
		n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from,
		    &fl);
		if (n <= 0)
			continue;
		atomic_fetch_add(&s->count, 1);
		if (!dns_qname(q, (size_t)n, name, sizeof(name), &aaaa))
			continue;
#define SEND(p, l) sendto(s->fd, (p), (l), 0, (struct sockaddr *)&from, fl)
		if (strcmp(name, "inject.test") == 0) {
			an = dns_answer(q, (size_t)n, "10.10.34.34", 0, 0, &a);
			SEND(a, an);
			free(a);
			sleep_ms(50);
			an = dns_answer(q, (size_t)n, "192.0.2.11", 0, 0, &a);
			SEND(a, an);
			free(a);
		} else if (strcmp(name, "forged.test") == 0) {
			an = dns_answer(q, (size_t)n, aaaa ? NULL :
			    "192.0.2.66", 0, 0, &a);
			SEND(a, an);
			free(a);
		} else if (strcmp(name, "nxsys.test") == 0) {
			an = dns_answer(q, (size_t)n, NULL, LDNS_RCODE_NXDOMAIN,
			    0, &a);
			SEND(a, an);
			free(a);
		} else if (strcmp(name, "same2.test") == 0) {
			an = dns_answer(q, (size_t)n, "192.0.2.12", 0, 0, &a);
			SEND(a, an);
			sleep_ms(20);
			SEND(a, an);
			free(a);
		} else if (strcmp(name, "garbage.test") == 0) {
			static const uint8_t junk[] = "\x13\x37garbage, not DNS";
			SEND(junk, sizeof(junk) - 1);
			an = dns_answer(q, (size_t)n, "10.9.9.9", 0, 0x5555,
			    &a);
			SEND(a, an);
			free(a);
			sleep_ms(20);
			an = dns_answer(q, (size_t)n, "192.0.2.13", 0, 0, &a);
			SEND(a, an);
			free(a);
		} else if ((an = dns_reply_for(q, (size_t)n, &a)) > 0) {
			SEND(a, an);
			free(a);
		}
#undef SEND
	}
}

/* ----------------------------------------------------------------- HTTP */

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read a request head into buf (NUL-terminated); false on EOF/timeout. */
static bool
read_head(struct srv *s, int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		ssize_t r;
		if (!wait_in(s, fd, 5000))
			return false;
		if ((r = read(fd, buf + got, len - 1 - got)) <= 0)
			return false;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return true;
	}
	return false;
}

static void
http_reply(int fd, const char *status, const char *extra, const char *body,
    size_t bl)
{
	char head[1024];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nServer: zond-test\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n%sContent-Length: %zu"
	    "\r\nConnection: close\r\n\r\n", status, extra, bl);
	if (write_all(fd, head, (size_t)n))
		write_all(fd, body, bl);
}

static const char page_ok[] = "<html><head><title>Zond test page</title>"
    "</head><body>hello</body></html>";
static const char page_block[] = "<html><head><title>Доступ ограничен"
    "</title></head><body><p>Доступ к сайту ограничен в соответствии с "
    "Федеральными законами</p></body></html>";
static const char page_lab[] = "<html><head><title>Blocked</title></head>"
    "<body>Zond lab: access restricted</body></html>";

static void
http_conn(struct srv *s, int fd)
{
	char req[4096], path[256] = "";
	char *big;

	if (!read_head(s, fd, req, sizeof(req))) {
		close(fd);
		return;
	}
	sscanf(req, "GET %255s", path);
	if (strcmp(path, "/ok") == 0 || strcmp(path, "/") == 0)
		http_reply(fd, "200 OK", "", page_ok, sizeof(page_ok) - 1);
	else if (strcmp(path, "/block") == 0)
		http_reply(fd, "200 OK", "", page_block,
		    sizeof(page_block) - 1);
	else if (strcmp(path, "/lab") == 0)
		http_reply(fd, "200 OK", "", page_lab, sizeof(page_lab) - 1);
	else if (strcmp(path, "/redirect") == 0)
		http_reply(fd, "302 Found", "Location: http://warning.rt.ru/"
		    "?id=1\r\n", "", 0);
	else if (strcmp(path, "/geo") == 0)
		/* the site's own refusal, VK-style (fingerprint scope prov) */
		http_reply(fd, "302 Found", "Location: /blank.php?rkn=7\r\n",
		    "", 0);
	else if (strcmp(path, "/blank.php?rkn=7") == 0)
		http_reply(fd, "200 OK", "", page_ok, sizeof(page_ok) - 1);
	else if (strcmp(path, "/hop") == 0)
		http_reply(fd, "302 Found", "Location: /hop2\r\n", "", 0);
	else if (strcmp(path, "/hop2") == 0)
		http_reply(fd, "301 Moved Permanently", "Location: /ok\r\n", "",
		    0);
	else if (strcmp(path, "/loop") == 0)
		http_reply(fd, "302 Found", "Location: /loop\r\n", "", 0);
	else if (strcmp(path, "/big") == 0) {
		if ((big = malloc(100000)) != NULL) {
			memset(big, 'z', 100000);
			http_reply(fd, "200 OK", "", big, 100000);
			free(big);
		}
	} else if (strcmp(path, "/blockreset") == 0) {
		/* the blockpage, then a reset before the promised length */
		char head[256];
		int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 100000\r\n\r\n");
		if (write_all(fd, head, (size_t)n))
			write_all(fd, page_block, sizeof(page_block) - 1);
		sleep_ms(200);
		reset_close(fd);
		return;
	} else if (strcmp(path, "/reset") == 0) {
		reset_close(fd);
		return;
	} else if (strcmp(path, "/eof") == 0) {
		eof_close(s, fd);
		return;
	} else if (strcmp(path, "/silent") == 0) {
		hold(s, fd);
	} else {
		http_reply(fd, "404 Not Found", "", "no", 2);
	}
	/* let the client read everything before the FIN */
	shutdown(fd, SHUT_WR);
	hold(s, fd);
	close(fd);
}

/* ------------------------------------------------------------------ TLS */

enum tls_action { TA_NORMAL, TA_RESET, TA_EOF, TA_HANG };

struct tls_conn {
	struct srv *s;
	enum tls_action act;
};

static int
sni_of(SSL *ssl, char *name, size_t len)
{
	const unsigned char *p;
	size_t n, l;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n) ||
	    n < 5 || p[2] != 0)
		return 0;
	l = ((size_t)p[3] << 8) | p[4];
	if (l + 5 > n || l >= len)
		return 0;
	memcpy(name, p + 5, l);
	name[l] = '\0';
	return 1;
}

static int
on_client_hello(SSL *ssl, int *al, void *arg)
{
	struct tls_conn *c = SSL_get_app_data(ssl);
	char name[256];

	(void)arg;
	if (!sni_of(ssl, name, sizeof(name)))
		return SSL_CLIENT_HELLO_SUCCESS;
	if (strcasecmp(name, "refuse.test") == 0) {
		/* the server's own refusal: a fatal handshake_failure alert
		 * (a site that geoblocks by TLS) */
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (strcasecmp(name, "blocked.test") == 0)
		c->act = TA_RESET;
	else if (strcasecmp(name, "eof.test") == 0)
		c->act = TA_EOF;
	else if (strcasecmp(name, "slow.test") == 0)
		c->act = TA_HANG;
	if (c->act != TA_NORMAL)
		return SSL_CLIENT_HELLO_RETRY;	/* pause: nothing is sent */
	if (strcasecmp(name, "wrong.test") == 0 &&
	    (SSL_use_certificate(ssl, c->s->other_cert) != 1 ||
	    SSL_use_PrivateKey(ssl, c->s->other_key) != 1))
		return SSL_CLIENT_HELLO_ERROR;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Read an HTTP request over TLS and answer it (DoH or a small page). */
static void
tls_http(SSL *ssl)
{
	char buf[8192], *end, *cl;
	size_t got = 0, need, want;
	uint8_t *a = NULL;
	size_t an;
	int r;

	for (;;) {
		if (got + 1 >= sizeof(buf))
			return;
		if ((r = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 -
		    got))) <= 0)
			return;
		got += (size_t)r;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	need = (size_t)(end + 4 - buf);
	want = 0;
	if ((cl = strcasestr(buf, "Content-Length:")) != NULL && cl < end)
		want = strtoul(cl + 15, NULL, 10);
	if (want > 4096)
		return;
	while (got < need + want) {
		if ((r = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 -
		    got))) <= 0)
			return;
		got += (size_t)r;
	}
	if (strncmp(buf, "POST /dns-query ", 16) == 0) {
		char head[256];
		int n;
		an = dns_reply_for((uint8_t *)buf + need, want, &a);
		n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/dns-message\r\nContent-Length: "
		    "%zu\r\nConnection: close\r\n\r\n", an);
		SSL_write(ssl, head, n);
		if (an > 0)
			SSL_write(ssl, a, (int)an);
		free(a);
	} else {
		char head[256];
		int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/html\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", sizeof(page_ok) - 1);
		SSL_write(ssl, head, n);
		SSL_write(ssl, page_ok, sizeof(page_ok) - 1);
	}
}

static void
tls_conn(struct srv *s, int fd)
{
	struct tls_conn c = {.s = s, .act = TA_NORMAL};
	struct timeval tv = {.tv_sec = 5};
	SSL *ssl;
	int r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((ssl = SSL_new(s->ctx)) == NULL) {
		close(fd);
		return;
	}
	SSL_set_app_data(ssl, &c);
	SSL_set_fd(ssl, fd);
	r = SSL_accept(ssl);
	switch (c.act) {
	case TA_RESET:
		SSL_free(ssl);
		reset_close(fd);
		return;
	case TA_EOF:
		SSL_free(ssl);
		eof_close(s, fd);
		return;
	case TA_HANG:
		SSL_free(ssl);
		hold(s, fd);
		close(fd);
		return;
	case TA_NORMAL:
		break;
	}
	if (r == 1) {
		tls_http(ssl);
		SSL_shutdown(ssl);
	}
	ERR_clear_error();
	SSL_free(ssl);
	shutdown(fd, SHUT_WR);
	hold(s, fd);
	close(fd);
}

static EVP_PKEY *
gen_key(void)
{
	return EVP_EC_gen("P-256");
}

static X509 *
gen_cert(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer,
    EVP_PKEY *ikey, long serial)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_NAME *nm;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 1, 0, NULL);
	X509_set_pubkey(x, key);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : nm);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (san == NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
		    "critical,CA:TRUE");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_subject_key_identifier, "hash");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	} else {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage,
		    "serverAuth");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static bool
tls_setup(struct srv *s)
{
	EVP_PKEY *cak = gen_key(), *k = gen_key();
	X509 *ca = NULL, *crt = NULL;
	FILE *f;
	bool ok = false;

	s->other_key = gen_key();
	if (cak == NULL || k == NULL || s->other_key == NULL)
		goto out;
	ca = gen_cert(cak, "Zond test CA", NULL, NULL, NULL, 1);
	crt = gen_cert(k, "ok.test", "DNS:ok.test,DNS:control.test,"
	    "DNS:blocked.test,DNS:eof.test,DNS:slow.test,DNS:doh.test,"
	    "DNS:forged.test,DNS:nxsys.test,DNS:v4.test",
	    ca, cak, 2);
	s->other_cert = gen_cert(s->other_key, "other.example",
	    "DNS:other.example", ca, cak, 3);
	if (ca == NULL || crt == NULL || s->other_cert == NULL)
		goto out;
	snprintf(s->dir, sizeof(s->dir), "/tmp/zond-probes-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		goto out;
	snprintf(s->ca_file, sizeof(s->ca_file), "%s/ca.pem", s->dir);
	if ((f = fopen(s->ca_file, "w")) == NULL)
		goto out;
	PEM_write_X509(f, ca);
	fclose(f);
	if ((s->ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(s->ctx, crt) != 1 ||
	    SSL_CTX_use_PrivateKey(s->ctx, k) != 1)
		goto out;
	SSL_CTX_set_client_hello_cb(s->ctx, on_client_hello, NULL);
	ok = true;
out:
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	X509_free(ca);
	X509_free(crt);
	return ok;
}

/* --------------------------------------------------------------- common */

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	int fd;

	if (s->kind == K_DNS) {
		dns_serve(s);
		return NULL;
	}
	while (!atomic_load(&s->stop)) {
		if (!wait_in(s, s->fd, 200))
			continue;
		if ((fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		atomic_fetch_add(&s->count, 1);
		if (s->kind == K_HTTP)
			http_conn(s, fd);
		else
			tls_conn(s, fd);
	}
	return NULL;
}

static struct srv *
srv_start_at(enum srv_kind kind, bool v6, const char *ip, int port)
{
	struct srv *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	/* a client that goes away mid-write must not kill the test */
	signal(SIGPIPE, SIG_IGN);
	s->kind = kind;
	atomic_init(&s->stop, false);
	atomic_init(&s->count, 0);
	if (kind == K_TLS && !tls_setup(s))
		goto fail;
	s->fd = listen_at(kind == K_DNS ? SOCK_DGRAM : SOCK_STREAM, 16,
	    &s->port, v6, ip, port);
	if (s->fd < 0)
		goto fail;
	if (pthread_create(&s->th, NULL, srv_main, s) != 0) {
		close(s->fd);
		goto fail;
	}
	return s;
fail:
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	X509_free(s->other_cert);
	EVP_PKEY_free(s->other_key);
	if (s->ca_file[0] != '\0')
		unlink(s->ca_file);
	if (s->dir[0] != '\0')
		rmdir(s->dir);
	free(s);
	return NULL;
}

static struct srv *
srv_start(enum srv_kind kind, bool v6)
{
	return srv_start_at(kind, v6, NULL, 0);
}

struct srv *
srv_dns_at(const char *ip, int port)
{
	return srv_start_at(K_DNS, false, ip, port);
}

struct srv *
srv_tls_at(const char *ip, int port)
{
	return srv_start_at(K_TLS, false, ip, port);
}

struct srv *
srv_dns(void)
{
	return srv_start(K_DNS, false);
}

struct srv *
srv_http(void)
{
	return srv_start(K_HTTP, false);
}

struct srv *
srv_tls(void)
{
	return srv_start(K_TLS, false);
}

struct srv *
srv_dns6(void)
{
	return srv_start(K_DNS, true);
}

struct srv *
srv_http6(void)
{
	return srv_start(K_HTTP, true);
}

struct srv *
srv_tls6(void)
{
	return srv_start(K_TLS, true);
}

int
srv_port(const struct srv *s)
{
	return s->port;
}

const char *
srv_ca_file(const struct srv *s)
{
	return s->ca_file;
}

int
srv_count(const struct srv *s)
{
	return atomic_load(&((struct srv *)s)->count);
}

void
srv_stop(struct srv **sp)
{
	struct srv *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	close(s->fd);
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	X509_free(s->other_cert);
	EVP_PKEY_free(s->other_key);
	if (s->ca_file[0] != '\0')
		unlink(s->ca_file);
	if (s->dir[0] != '\0')
		rmdir(s->dir);
	free(s);
	*sp = NULL;
}

int
srv_closed_port(void)
{
	int port, fd = listen_on(SOCK_STREAM, 1, &port);

	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

int
srv_full_backlog(int fds[3])
{
	struct sockaddr_in a;
	int port, i;

	fds[0] = fds[1] = fds[2] = -1;
	if ((fds[0] = listen_on(SOCK_STREAM, 0, &port)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	/* backlog 0 queues one connection; a second may be held in
	 * SYN-RECV.  Fill both without blocking. */
	for (i = 1; i < 3; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fds[i] < 0)
			return -1;
		if (connect(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0 &&
		    errno != EINPROGRESS)
			return -1;
	}
	sleep_ms(100);
	return port;
}
