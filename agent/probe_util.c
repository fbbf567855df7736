/* probe_util.c — see probe_util.h. */
#include "probe_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "clock.h"

#include "conf.h"
#include "ztime.h"

Zond__V1__Outcome *
pu_outcome_new(void)
{
	Zond__V1__Outcome *o = malloc(sizeof(*o));

	if (o == NULL)
		return NULL;
	zond__v1__outcome__init(o);
	o->has_failure = 1;
	o->failure = ZOND__V1__FAILURE__FAIL_NONE;
	o->has_attempts = 1;
	o->attempts = 1;
	return o;
}

char *
pu_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *
pu_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

void
pu_fail(Zond__V1__Outcome *o, Zond__V1__Failure f, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	o->has_failure = 1;
	o->failure = f;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (o->detail != NULL && o->detail != protobuf_c_empty_string)
		free(o->detail);
	o->detail = s;
}

zerr_t
pu_parse_addr(const char *text, int defport, struct sockaddr_storage *ss,
    socklen_t *len, zdiag_t *d)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *portp = NULL;
	int64_t port = defport;
	size_t hl;

	if (text == NULL || *text == '\0')
		return zdiag_set(d, ZE_INVAL, "empty address");
	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL)
			return zdiag_set(d, ZE_INVAL, "address '%s': missing "
			    "']'", text);
		hl = (size_t)(close - text - 1);
		if (hl >= sizeof(host))
			return zdiag_set(d, ZE_INVAL, "address '%s' too long",
			    text);
		memcpy(host, text + 1, hl);
		host[hl] = '\0';
		if (close[1] == ':')
			portp = close + 2;
		else if (close[1] != '\0')
			return zdiag_set(d, ZE_INVAL, "address '%s': text "
			    "after ']'", text);
	} else {
		const char *colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hl = (size_t)(colon - text);
			portp = colon + 1;
		} else {
			hl = strlen(text);	/* bare v4 or bare v6 */
		}
		if (hl >= sizeof(host))
			return zdiag_set(d, ZE_INVAL, "address '%s' too long",
			    text);
		memcpy(host, text, hl);
		host[hl] = '\0';
	}
	if (portp != NULL && (conf_parse_int(portp, &port) != ZE_OK ||
	    port < 1 || port > 65535))
		return zdiag_set(d, ZE_INVAL, "address '%s': port must be "
		    "1-65535", text);
	if (port < 1 || port > 65535)
		return zdiag_set(d, ZE_INVAL, "address '%s' has no port",
		    text);
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			*len = sizeof(*s4);
			return ZE_OK;
		}
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*s6);
			return ZE_OK;
		}
	}
	return zdiag_set(d, ZE_INVAL, "'%s' is not a numeric IPv4 or IPv6 "
	    "address", host);
}

const char *
pu_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

/* errnos that say "no way there": which side said it decides the kind */
static bool
unreach_errno(int err)
{
	return err == ENETUNREACH || err == EHOSTUNREACH || err == EACCES ||
	    err == EHOSTDOWN || err == ENONET;
}

Zond__V1__Failure
pu_errno_failure(int err, enum pu_side side)
{
	switch (err) {
	case ECONNREFUSED:
		return ZOND__V1__FAILURE__FAIL_REFUSED;
	case ETIMEDOUT:
	case EAGAIN:
		return ZOND__V1__FAILURE__FAIL_TIMEOUT;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return ZOND__V1__FAILURE__FAIL_RESET;
	case EPERM:		/* the agent's own firewall (netfilter) */
	case ENETDOWN:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:	/* no IPv6 on this host */
		return ZOND__V1__FAILURE__FAIL_LOCAL;
	default:
		break;
	}
	if (unreach_errno(err))
		return side == PU_SIDE_LOCAL ? ZOND__V1__FAILURE__FAIL_LOCAL :
		    ZOND__V1__FAILURE__FAIL_UNREACHABLE;
	return ZOND__V1__FAILURE__FAIL_LOCAL;
}

/* a[0..n) equals b, or (with bits) lies in b/bits? */
static bool
prefix_eq(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((a[i] ^ b[i]) & (mask != NULL ? mask[i] : 0xff)) != 0)
			return false;
	return true;
}

/* The address bytes of sa and their length; NULL for other families. */
static const uint8_t *
addr_bytes(const struct sockaddr *sa, size_t *n)
{
	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET) {
		*n = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		*n = 16;
		return (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
	}
	return NULL;
}

int
pu_addr_where(const struct sockaddr *a)
{
	struct ifaddrs *ifs = NULL, *i;
	const uint8_t *ab;
	size_t n;
	int where = PU_WHERE_AWAY;

	if ((ab = addr_bytes(a, &n)) == NULL)
		return PU_WHERE_AWAY;
	if ((n == 4 && ab[0] == 127) || (n == 16 &&
	    IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)ab)))
		return PU_WHERE_SELF;
	if (getifaddrs(&ifs) != 0)
		return PU_WHERE_AWAY;
	for (i = ifs; i != NULL && where != PU_WHERE_SELF; i = i->ifa_next) {
		const uint8_t *ib, *mb;
		size_t in, mn;
		if ((ib = addr_bytes(i->ifa_addr, &in)) == NULL || in != n)
			continue;
		if (prefix_eq(ab, ib, NULL, n))
			where = PU_WHERE_SELF;
		else if ((mb = addr_bytes(i->ifa_netmask, &mn)) != NULL &&
		    mn == n && prefix_eq(ab, ib, mb, n))
			where = PU_WHERE_LINK;
	}
	freeifaddrs(ifs);
	return where;
}

enum pu_side
pu_icmp_side(int origin, int type, int code, int where)
{
	bool noroute;

	if (origin == SO_EE_ORIGIN_LOCAL || where == PU_WHERE_SELF)
		return PU_SIDE_LOCAL;
	if (origin == SO_EE_ORIGIN_ICMP)
		/* net/host unreachable, unknown net/host */
		noroute = type == 3 && (code == 0 || code == 1 || code == 6 ||
		    code == 7);
	else if (origin == SO_EE_ORIGIN_ICMP6)
		/* no route, address unreachable */
		noroute = type == 1 && (code == 0 || code == 3);
	else
		return PU_SIDE_UNKNOWN;
	/* the agent's own gateway has no way on: a local fault; a filter
	 * (administratively prohibited) or any router further away is
	 * the path's doing */
	if (noroute && where == PU_WHERE_LINK)
		return PU_SIDE_LOCAL;
	return PU_SIDE_REMOTE;
}

int
pu_errqueue_read(int fd, struct pu_icmp *e)
{
	uint8_t cbuf[512], data[64];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr mh;
	struct cmsghdr *c;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		struct sock_extended_err ee;
		size_t ol;

		if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
		    (c->cmsg_level == SOL_IPV6 &&
		    c->cmsg_type == IPV6_RECVERR)) ||
		    c->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		e->origin = ee.ee_origin;
		e->type = ee.ee_type;
		e->code = ee.ee_code;
		memset(&e->off, 0, sizeof(e->off));
		ol = c->cmsg_len - CMSG_LEN(sizeof(ee));
		if (ol > sizeof(e->off))
			ol = sizeof(e->off);
		if (ol >= sizeof(sa_family_t))
			memcpy(&e->off, CMSG_DATA(c) + sizeof(ee), ol);
		return 1;
	}
	return 0;
}

enum pu_side
pu_errqueue_side(int fd)
{
	struct pu_icmp e;

	if (pu_errqueue_read(fd, &e) != 1)
		return PU_SIDE_UNKNOWN;
	return pu_icmp_side(e.origin, e.type, e.code,
	    pu_addr_where((struct sockaddr *)&e.off));
}

enum pu_side
pu_unreach_side(const struct sockaddr *sa, socklen_t len, int64_t timeout_ms)
{
	static const uint8_t probe[1] = {0};
	int fd, one = 1, err;
	enum pu_side side = PU_SIDE_UNKNOWN;

	if (timeout_ms > PU_SIDE_WAIT_MS)
		timeout_ms = PU_SIDE_WAIT_MS;
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return PU_SIDE_LOCAL;	/* no socket of that family here */
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one,
		    sizeof(one));
	else
		(void)setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	/* a route lookup and a send that fail at once never left the host:
	 * no route, an unreachable/prohibit route, the local firewall */
	if (connect(fd, sa, len) != 0 || send(fd, probe, sizeof(probe),
	    MSG_NOSIGNAL) < 0) {
		err = errno;
		side = err == EAGAIN || err == EINTR ? PU_SIDE_UNKNOWN :
		    PU_SIDE_LOCAL;
		goto out;
	}
	/* POLLERR is reported even when not asked for */
	if (pu_wait(fd, 0, timeout_ms) > 0)
		side = pu_errqueue_side(fd);
out:
	close(fd);
	return side;
}

int
pu_wait(int fd, short events, int64_t timeout_ms)
{
	int64_t deadline = ztime_mono_us() + timeout_ms * 1000;
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int64_t left = (deadline - ztime_mono_us()) / 1000;
		int r;
		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		return r > 0 ? 1 : 0;
	}
}

int
pu_connect(const struct sockaddr *sa, socklen_t len, int type,
    int64_t timeout_ms, Zond__V1__Failure *fail, int *err,
    int64_t *elapsed_us)
{
	int64_t t0 = ztime_mono_us();
	int fd, r, soerr = 0;
	socklen_t sl = sizeof(soerr);
	enum pu_side side = PU_SIDE_UNKNOWN;

	*fail = ZOND__V1__FAILURE__FAIL_NONE;
	*err = 0;
	fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		*fail = ZOND__V1__FAILURE__FAIL_LOCAL;
		return -1;
	}
	r = connect(fd, sa, len);
	if (r != 0 && errno != EINPROGRESS) {
		/* refused at once by the kernel: nothing left the host */
		*err = errno;
		side = PU_SIDE_LOCAL;
		goto fail;
	}
	if (r != 0) {
		r = pu_wait(fd, POLLOUT, timeout_ms);
		if (r == 0) {
			*err = ETIMEDOUT;
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) != 0) {
			*err = errno;
			goto fail;
		}
		if (soerr != 0) {
			*err = soerr;
			goto fail;
		}
	}
	*elapsed_us = ztime_mono_us() - t0;
	return fd;
fail:
	*elapsed_us = ztime_mono_us() - t0;
	close(fd);
	/* TCP keeps no error queue: ask who says "unreachable" with a
	 * datagram to the same address (pu_unreach_side) */
	if (side == PU_SIDE_UNKNOWN && unreach_errno(*err))
		side = pu_unreach_side(sa, len, timeout_ms);
	*fail = pu_errno_failure(*err, side);
	return -1;
}

Zond__V1__Failure
pu_curl_failure(int curlcode, long os_errno, const char *errbuf,
    enum pu_side side)
{
	const char *eb = errbuf != NULL ? errbuf : "";

	switch ((CURLcode)curlcode) {
	case CURLE_OK:
		return ZOND__V1__FAILURE__FAIL_NONE;
	case CURLE_OPERATION_TIMEDOUT:
		return ZOND__V1__FAILURE__FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		if (os_errno != 0)
			return pu_errno_failure((int)os_errno, side);
		if (strcasestr(eb, "refused") != NULL)
			return ZOND__V1__FAILURE__FAIL_REFUSED;
		if (strcasestr(eb, "timed out") != NULL)
			return ZOND__V1__FAILURE__FAIL_TIMEOUT;
		return ZOND__V1__FAILURE__FAIL_LOCAL;
	case CURLE_COULDNT_RESOLVE_HOST:
		/* the system resolver had no answer for the name */
		return ZOND__V1__FAILURE__FAIL_NXDOMAIN;
	case CURLE_PEER_FAILED_VERIFICATION:
		return ZOND__V1__FAILURE__FAIL_CERT_INVALID;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return ZOND__V1__FAILURE__FAIL_EOF;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
		if (os_errno == ECONNRESET || os_errno == EPIPE ||
		    strcasestr(eb, "reset by peer") != NULL ||
		    strcasestr(eb, "broken pipe") != NULL)
			return ZOND__V1__FAILURE__FAIL_RESET;
		if (os_errno == ETIMEDOUT || strcasestr(eb, "timed out") != NULL)
			return ZOND__V1__FAILURE__FAIL_TIMEOUT;
		if (strcasestr(eb, "unexpected eof") != NULL ||
		    strcasestr(eb, "SSL_ERROR_SYSCALL") != NULL ||
		    strcasestr(eb, "connection closed") != NULL)
			return ZOND__V1__FAILURE__FAIL_EOF;
		if (curlcode == CURLE_SSL_CONNECT_ERROR)
			return ZOND__V1__FAILURE__FAIL_TLS_ERROR;
		if (os_errno != 0)
			return pu_errno_failure((int)os_errno, side);
		return ZOND__V1__FAILURE__FAIL_LOCAL;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
		return ZOND__V1__FAILURE__FAIL_HTTP_ERROR;
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return ZOND__V1__FAILURE__FAIL_TLS_ERROR;
	default:
		return ZOND__V1__FAILURE__FAIL_LOCAL;
	}
}

/* CURLOPT_OPENSOCKETFUNCTION: note the address, open as curl would */
static curl_socket_t
curl_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct pu_curl_addr *k = arg;

	(void)purpose;
	if (a->addrlen <= sizeof(k->ss)) {
		memcpy(&k->ss, &a->addr, a->addrlen);
		k->len = a->addrlen;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* Certificates are checked at the agent's best time (clock.h), not at a
 * wall clock a Pi without a real-time clock may have wrong by years. */
static CURLcode
curl_ssl_time(CURL *curl, void *ssl_ctx, void *arg)
{
	(void)curl;
	(void)arg;
	X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param((SSL_CTX *)ssl_ctx),
	    (time_t)(aclock_cert_time_us() / 1000000));
	return CURLE_OK;
}

void
pu_curl_track(void *curl, struct pu_curl_addr *a)
{
	memset(a, 0, sizeof(*a));
	curl_easy_setopt((CURL *)curl, CURLOPT_OPENSOCKETFUNCTION, curl_open);
	curl_easy_setopt((CURL *)curl, CURLOPT_OPENSOCKETDATA, a);
	curl_easy_setopt((CURL *)curl, CURLOPT_SSL_CTX_FUNCTION,
	    curl_ssl_time);
}

Zond__V1__Failure
pu_curl_result(void *curl, const struct pu_curl_addr *a, int curlcode,
    const char *errbuf, long *os_errno, int64_t timeout_ms)
{
	enum pu_side side = PU_SIDE_UNKNOWN;

	*os_errno = 0;
	curl_easy_getinfo((CURL *)curl, CURLINFO_OS_ERRNO, os_errno);
	if (curlcode == CURLE_COULDNT_CONNECT &&
	    unreach_errno((int)*os_errno) && a->len > 0)
		side = pu_unreach_side((const struct sockaddr *)&a->ss,
		    a->len, timeout_ms);
	return pu_curl_failure(curlcode, *os_errno, errbuf, side);
}

Zond__V1__Outcome *
pu_outcome_for(Zond__V1__TestKind t)
{
	Zond__V1__Outcome *o = pu_outcome_new();

	if (o != NULL && pu_outcome_shape(o, t) != ZE_OK) {
		zond__v1__outcome__free_unpacked(o, NULL);
		o = NULL;
	}
	return o;
}

zerr_t
pu_finish(Zond__V1__Outcome *o, bool ok, Zond__V1__Failure f,
    const char *detail, const char *probe, Zond__V1__Outcome **out,
    zdiag_t *d)
{
	*out = NULL;
	if (o != NULL && ok && f != ZOND__V1__FAILURE__FAIL_NONE) {
		pu_fail(o, f, "%s", detail);
		ok = o->detail != NULL;
	}
	if (o == NULL || !ok) {
		if (o != NULL)
			zond__v1__outcome__free_unpacked(o, NULL);
		return zdiag_set(d, ZE_NOMEM, "%s: out of memory", probe);
	}
	*out = o;
	return ZE_OK;
}

zerr_t
pu_outcome_shape(Zond__V1__Outcome *o, Zond__V1__TestKind t)
{
	/* each branch allocates the test's sub-message, empty */
#define SHAPE(kind, field, type, init, CASE) \
	case ZOND__V1__TEST_KIND__TEST_##kind: { \
		type *x = malloc(sizeof(*x)); \
		if (x == NULL) \
			return ZE_NOMEM; \
		init(x); \
		o->test_case = ZOND__V1__OUTCOME__TEST_##CASE; \
		o->field = x; \
		return ZE_OK; \
	}
	if (o->test_case != ZOND__V1__OUTCOME__TEST__NOT_SET)
		return ZE_OK;
	switch (t) {
	SHAPE(DNS, dns, Zond__V1__DnsOutcome, zond__v1__dns_outcome__init, DNS)
	SHAPE(DOH, dns, Zond__V1__DnsOutcome, zond__v1__dns_outcome__init, DNS)
	SHAPE(TCP, tcp, Zond__V1__TcpOutcome, zond__v1__tcp_outcome__init, TCP)
	SHAPE(TLS, tls, Zond__V1__TlsOutcome, zond__v1__tls_outcome__init, TLS)
	SHAPE(HTTP, http, Zond__V1__HttpOutcome, zond__v1__http_outcome__init,
	    HTTP)
	SHAPE(STUN, stun, Zond__V1__StunOutcome, zond__v1__stun_outcome__init,
	    STUN)
	SHAPE(QUIC, quic, Zond__V1__QuicOutcome, zond__v1__quic_outcome__init,
	    QUIC)
	SHAPE(THROUGHPUT, throughput, Zond__V1__ThroughputOutcome,
	    zond__v1__throughput_outcome__init, THROUGHPUT)
	SHAPE(FREEZE, freeze, Zond__V1__FreezeOutcome,
	    zond__v1__freeze_outcome__init, FREEZE)
	SHAPE(VPN, vpn, Zond__V1__VpnOutcome, zond__v1__vpn_outcome__init, VPN)
	SHAPE(CALL, call, Zond__V1__CallOutcome, zond__v1__call_outcome__init,
	    CALL)
	default:
		return ZE_OK;
	}
#undef SHAPE
}
