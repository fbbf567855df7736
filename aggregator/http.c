/*
 * http.c — see http.h; the files of the server: http_int.h.  Endpoints
 * and their documents: docs/API.md.
 *
 * libmicrohttpd runs one thread per connection (at most HTTP_MAX_CONN, of
 * them HTTP_MAX_PER_IP from one address), so a handler may block.
 *
 * Connections: one that has not sent a whole request (new, or between
 * keep-alive requests) is closed after HTTP_IDLE_S without a byte, so idle
 * sockets cannot hold the slots for long; while a request is answered the
 * limit is HTTP_TIMEOUT_S without progress, counted from when the handler
 * returns (a slow query is not cut off).  libmicrohttpd's messages (one
 * per refused connection, among others) are logged at most once per
 * HTTP_LOG_EVERY_US per kind, the rest counted.
 *
 * Request checks before any endpoint runs: a NUL byte anywhere in the
 * request target (raw or %00) is 400; a target over HTTP_URI_MAX is 414
 * and header fields over HTTP_HEADERS_MAX are 431, all with the JSON body
 * (the request head must fit HTTP_POOL, else libmicrohttpd answers by
 * itself); a method other than GET or HEAD is 405.
 */
#include "http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fingerprint.h"
#include "json.h"
#include "key.h"
#include "log.h"
#include "pubview.h"
#include "version.h"
#include "ztime.h"

#define HTTP_MAX_CONN	128		/* connections (threads) at once */
#define HTTP_MAX_PER_IP	64		/* of them from one address */
#define HTTP_IDLE_S	10u		/* waiting for a request */
#define HTTP_TIMEOUT_S	60u		/* answering: no progress */
#define HTTP_POOL	(256u << 10)	/* libmicrohttpd memory per connection */
#define HTTP_URI_MAX	8192		/* request target, raw */
#define HTTP_HEADERS_MAX (32u << 10)	/* names and values of header fields */
#define HTTP_LOG_EVERY_US (10 * 1000000LL)	/* per kind of message */
#define MAP_CACHE_SLOTS	32		/* map documents kept ([http] map_cache) */
#define MAP_CACHE_BYTES	(64u << 20)	/* in all */
#define MAP_REFRESH_MS	250		/* the refresher looks this often */

#ifndef ZOND_SOURCE_DIR
#define ZOND_SOURCE_DIR ""
#endif

/* One request as the URI log callback saw it, before libmicrohttpd
 * decodes the target in place (its client context; freed when the
 * request completes). */
struct req {
	const char *uri;		/* the raw target */
	size_t len;			/* its length up to a first NUL */
	bool nul;			/* %00 in the path */
};

/* ------------------------------------------------------------ responses */

/* The headers every response carries. */
void
http_headers(struct MHD_Response *r, const char *ctype)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

enum MHD_Result
http_respond(struct MHD_Connection *c, unsigned status, const char *ctype,
    const void *p, size_t n)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(n, (void *)(uintptr_t)p,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	http_headers(r, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_respond_json(struct MHD_Connection *c, unsigned status, const zbuf_t *b)
{
	return http_respond(c, status, "application/json", b->data, b->len);
}

/* {"error": msg} with the given status. */
enum MHD_Result
http_respond_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	zbuf_t b;
	enum MHD_Result r;

	zbuf_init(&b, 4096);
	if (zbuf_puts(&b, "{\"error\": ") != ZE_OK || json_cstr(&b, msg) !=
	    ZE_OK || zbuf_puts(&b, "}\n") != ZE_OK) {
		zbuf_free(&b);
		return http_respond(c, status, "application/json",
		    "{\"error\": \"error\"}\n", 19);
	}
	r = http_respond_json(c, status, &b);
	zbuf_free(&b);
	return r;
}

/* A failure of ours (store, memory): 500 (413 for ZE_TOOBIG), logged. */
enum MHD_Result
http_respond_internal(struct MHD_Connection *c, const char *what, zerr_t e,
    const zdiag_t *d)
{
	char msg[700];

	snprintf(msg, sizeof(msg), "%s: %s", what, d != NULL && d->text[0] ?
	    d->text : zerr_str(e));
	log_warnx("http: %s", msg);
	return http_respond_error(c, e == ZE_TOOBIG ?
	    MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}

enum MHD_Result
http_respond_doc(struct MHD_Connection *c, const char *what, zerr_t e,
    const char *tail, zbuf_t *b, const zdiag_t *d)
{
	enum MHD_Result r;

	if (e == ZE_OK && tail != NULL)
		e = zbuf_puts(b, tail);
	r = e == ZE_OK ? http_respond_json(c, MHD_HTTP_OK, b) :
	    http_respond_internal(c, what, e, d);
	zbuf_free(b);
	return r;
}

/* ------------------------------------------------------------- logging */

/*
 * libmicrohttpd's messages, one line per kind (format) per
 * HTTP_LOG_EVERY_US; the others of that kind are counted and the count
 * logged with the kind's next line, or by log_flush once the time is up
 * (called on each request and from http_publish, each main loop tick).
 */
__attribute__((format(printf, 2, 0)))
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	http_t *h = cls;
	struct logkind *k = NULL;
	char buf[512], prev[sizeof(k->text)];
	int64_t now = ztime_mono_us();
	uint64_t n = 0;
	size_t len;
	bool quiet;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	pthread_mutex_lock(&h->logmu);
	for (size_t i = 0; i < HTTP_LOG_KINDS && k == NULL; i++)
		if (h->logk[i].fmt == fmt || h->logk[i].fmt == NULL)
			k = &h->logk[i];
	if (k == NULL)
		k = &h->logk[HTTP_LOG_KINDS - 1];	/* the rest share one */
	quiet = k->fmt != NULL && now - k->last_us < HTTP_LOG_EVERY_US;
	if (quiet)
		k->dropped++;
	else if ((n = k->dropped) > 0)
		memcpy(prev, k->text, sizeof(prev));
	if (!quiet) {
		k->fmt = fmt;
		k->last_us = now;
		k->dropped = 0;
	}
	snprintf(k->text, sizeof(k->text), "%.*s", (int)sizeof(k->text) - 1,
	    buf);
	pthread_mutex_unlock(&h->logmu);
	if (quiet)
		return;
	if (n > 0)
		log_warnx("http: %" PRIu64 " more like '%s' not logged", n,
		    prev);
	log_warnx("http: %s", buf);
}

/* Log the counts of suppressed messages whose time is up. */
static void
log_flush(http_t *h)
{
	int64_t now = ztime_mono_us();

	pthread_mutex_lock(&h->logmu);
	for (size_t i = 0; i < HTTP_LOG_KINDS; i++) {
		struct logkind *k = &h->logk[i];
		if (k->dropped > 0 && now - k->last_us >= HTTP_LOG_EVERY_US) {
			log_warnx("http: %" PRIu64 " more like '%s' not logged",
			    k->dropped, k->text);
			k->dropped = 0;
			k->last_us = now;
		}
	}
	pthread_mutex_unlock(&h->logmu);
}

/* ------------------------------------------------------------ dispatch */

/* Inactivity timeout of c: s seconds from now (libmicrohttpd restarts the
 * count only when the timeout it replaces is 0). */
static void
conn_timeout(struct MHD_Connection *c, unsigned s)
{
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, s);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the raw request target, before it is split
 * at '?' and decoded in place.  Returns the request's context. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *rq;
	size_t path;

	(void)cls;
	(void)c;
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return NULL;
	rq->uri = uri;
	rq->len = strlen(uri);
	path = strcspn(uri, "?");
	for (size_t i = 0; i + 2 < path; i++)
		if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
			rq->nul = true;
	return rq;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is answered (or abandoned);
 * back to the short timeout while the connection waits for the next. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	free(*con_cls);
	*con_cls = NULL;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_timeout(c, HTTP_IDLE_S);
}

/*
 * The raw target's length.  libmicrohttpd hands it over as a C string,
 * so a raw NUL byte cuts it; the request line is "METHOD SP target SP
 * version" in one buffer, so the version string starts right after the
 * whole target: a version further on (within the connection's memory,
 * HTTP_POOL) means a NUL inside.  (A version elsewhere, as another
 * libmicrohttpd might keep it, is not taken as one.)
 */
static size_t
raw_len(const struct req *rq, const char *version, bool *nul)
{
	uintptr_t v = (uintptr_t)version, end = (uintptr_t)(rq->uri +
	    rq->len + 1);

	*nul = false;
	if (version[0] == '\0' || v <= end || v - end >= HTTP_POOL)
		return rq->len;
	*nul = true;
	return (size_t)(v - (uintptr_t)rq->uri - 1);
}

static enum MHD_Result
header_size(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	(void)key;
	(void)value;
	*(size_t *)cls += key_size + value_size + 4;	/* ": ", CRLF */
	return MHD_YES;
}

/* ---------------------------------------------------------------- views */

bool
http_is_public(const http_t *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
	for (size_t i = 0; i < h->nlst; i++)
		if (ci != NULL && ci->daemon == h->lst[i].mhd)
			return h->lst[i].pub;
	return true;	/* unknown: the view that shows less */
}

/* Does c carry `Authorization: Bearer TOKEN` with h's token?  Both sides
 * hashed to 32 bytes first, so the comparison takes the same time for
 * any token length; the scheme name is case-insensitive (RFC 7235). */
static bool
authorized(const http_t *h, struct MHD_Connection *c)
{
	const char *v;
	uint8_t got[32];
	bool ok;

	if (!h->has_token)
		return true;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return false;
	v += 7;
	while (*v == ' ')
		v++;
	crypto_generichash(got, sizeof(got), (const unsigned char *)v,
	    strlen(v), NULL, 0);
	ok = sodium_memcmp(got, h->token_hash, sizeof(got)) == 0;
	sodium_memzero(got, sizeof(got));
	return ok;
}

/* 401 with WWW-Authenticate: Bearer. */
static enum MHD_Result
respond_401(struct MHD_Connection *c)
{
	static const char body[] = "{\"error\": \"this path needs the operator "
	    "token: send Authorization: Bearer TOKEN ([http] token)\"}\n";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	http_headers(r, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Bearer realm=\"zond\"");
	ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

struct reg {
	pub_agents_t *p;
	bool nomem;
};

static int
reg_one(const struct store_agent *a, void *arg)
{
	struct reg *r = arg;

	if (!a->enabled || a->role != STORE_ROLE_PROBE)
		return 0;
	r->nomem = pub_agents_add(r->p, a->region, a->asn) != ZE_OK;
	return r->nomem;
}

zerr_t
http_pub_agents(http_t *h, struct pub_agents **out, zdiag_t *d)
{
	struct reg r = {.p = NULL, .nomem = false};
	zerr_t e;

	*out = NULL;
	if (pub_agents_new(&r.p) != ZE_OK)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	e = store_agent_iter(h->store, reg_one, &r, d);
	if (e == ZE_OK && r.nomem)
		e = zdiag_set(d, ZE_NOMEM, "out of memory");
	if (e != ZE_OK) {
		pub_agents_free(&r.p);
		return e;
	}
	*out = r.p;
	return ZE_OK;
}

bool
pub_filter_ok(http_t *h, struct MHD_Connection *c, const char *region,
    int64_t asn, enum MHD_Result *r)
{
	pub_agents_t *p = NULL;
	zdiag_t d = {.text = ""};
	uint32_t n;
	char msg[200], where[80];
	zerr_t e;

	if (!http_is_public(h, c))
		return true;
	if ((e = http_pub_agents(h, &p, &d)) != ZE_OK) {
		*r = http_respond_internal(c, "public view", e, &d);
		return false;
	}
	n = pub_agents_count(p, region, asn);
	pub_agents_free(&p);
	if (n >= h->k)
		return true;
	if (region != NULL && asn > 0)
		snprintf(where, sizeof(where), "region %s, AS%" PRId64, region,
		    asn);
	else if (region != NULL)
		snprintf(where, sizeof(where), "region %s", region);
	else if (asn > 0)
		snprintf(where, sizeof(where), "AS%" PRId64, asn);
	else
		snprintf(where, sizeof(where), "the network");
	snprintf(msg, sizeof(msg), "fewer than %" PRIu32 " agents in %s: not "
	    "shown in the public view", h->k, where);
	*r = http_respond_error(c, MHD_HTTP_FORBIDDEN, msg);
	return false;
}

/* GET /api/v1/info: the view and whether its API needs a token. */
static enum MHD_Result
ep_info(http_t *h, struct MHD_Connection *c, bool pub)
{
	static const char *const none[] = {NULL};
	struct query q;
	zbuf_t b;
	zerr_t e;
	bool auth = !pub && h->has_token;

	http_query_read(c, none, &q);
	if (q.err[0])
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	zbuf_init(&b, 4096);
	e = zbuf_printf(&b, "{\"mode\": \"%s\", \"auth\": %s, "
	    "\"authorized\": %s, \"min_agents\": ", pub ? "public" :
	    "operator", auth ? "true" : "false", !auth || authorized(h, c) ?
	    "true" : "false");
	if (e == ZE_OK)
		e = pub ? zbuf_printf(&b, "%" PRIu32, h->k) :
		    zbuf_puts(&b, "null");
	if (e == ZE_OK)
		e = zbuf_puts(&b, ", \"version\": ");
	if (e == ZE_OK)
		e = json_cstr(&b, ZOND_VERSION);
	return http_respond_doc(c, "info", e, "}\n", &b, NULL);
}

/* The per-agent endpoints: never in the public view. */
static bool
agent_path(const char *url)
{
	return strcmp(url, "/api/v1/agents") == 0 ||
	    strcmp(url, "/api/v1/measurements") == 0 ||
	    strcmp(url, "/api/v1/export") == 0 || strcmp(url, "/metrics") == 0;
}

static enum MHD_Result
dispatch(const struct listener *l, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const struct req *rq)
{
	http_t *h = l->h;
	size_t hsize = 0;
	bool head, nul;

	if (rq == NULL)
		return http_respond_internal(c, "request", ZE_NOMEM, NULL);
	if (raw_len(rq, version, &nul) > HTTP_URI_MAX)
		return http_respond_error(c, MHD_HTTP_URI_TOO_LONG, "the "
		    "request target is longer than 8192 bytes");
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, header_size, &hsize);
	if (hsize > HTTP_HEADERS_MAX)
		return http_respond_error(c,
		    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "the header "
		    "fields are larger than 32768 bytes");
	if (nul || rq->nul)
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, "the path "
		    "holds a NUL byte (%00)");
	head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!head && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return http_respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed: use GET or HEAD");
	if (strcmp(url, "/api/v1/info") == 0)
		return ep_info(h, c, l->pub);
	if (l->pub && agent_path(url))
		return http_respond_error(c, MHD_HTTP_FORBIDDEN,
		    "not in the public view");
	if (!l->pub && (strncmp(url, "/api/", 5) == 0 ||
	    strcmp(url, "/metrics") == 0) && !authorized(h, c))
		return respond_401(c);
	if (strcmp(url, "/api/v1/map") == 0)
		return http_ep_map(h, c);
	if (strcmp(url, "/api/v1/timeseries") == 0)
		return http_ep_timeseries(h, c);
	if (strcmp(url, "/api/v1/measurements") == 0)
		return http_ep_measurements(h, c);
	if (strcmp(url, "/api/v1/agents") == 0)
		return http_ep_agents(h, c);
	if (strcmp(url, "/api/v1/events") == 0)
		return http_ep_events(h, c);
	if (strcmp(url, "/api/v1/silences") == 0)
		return http_ep_silences(h, c);
	if (strcmp(url, "/api/v1/history") == 0)
		return http_ep_history(h, c);
	if (strcmp(url, "/api/v1/export") == 0)
		return http_ep_export(h, c, head);
	if (strcmp(url, "/metrics") == 0)
		return http_ep_metrics(h, c);
	if (strncmp(url, "/api/", 5) == 0 || strchr(url + 1, '/') != NULL ||
	    url[0] != '/')
		return http_respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	return http_ep_file(h, c, url);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	const struct listener *l = cls;
	enum MHD_Result r;

	(void)upload;
	(void)upload_size;
	atomic_fetch_add(&l->h->requests, 1);
	log_flush(l->h);
	r = dispatch(l, c, url, method, version, *con_cls);
	/* the answer has its own clock, from now */
	conn_timeout(c, HTTP_TIMEOUT_S);
	return r;
}

/* ------------------------------------------------------------ lifecycle */

zerr_t
http_parse_listen(const char *what, const char *v, long min_port,
    struct sockaddr_storage *ss, bool *v6, zdiag_t *d)
{
	char host[128];
	const char *colon = strrchr(v, ':');
	size_t hl;
	char *end;
	long port;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || (hl = (size_t)(colon - v)) == 0 ||
	    hl >= sizeof(host))
		return zdiag_set(d, ZE_PARSE, "%s '%s': expected host:port",
		    what, v);
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || errno || port < min_port ||
	    port > 65535)
		return zdiag_set(d, ZE_PARSE, "%s '%s': port must be %ld-65535",
		    what, v, min_port);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*v6 = false;
		return ZE_OK;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return ZE_OK;
	}
	return zdiag_set(d, ZE_PARSE, "%s '%s': '%s' is not an IPv4 or IPv6 "
	    "address", what, v, host);
}

static int
try_dir(http_t *h, const char *dir)
{
	int fd;

	if (dir == NULL || *dir == '\0')
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (faccessat(fd, "index.html", R_OK, 0) != 0) {
		close(fd);
		return -1;
	}
	snprintf(h->dashdir, sizeof(h->dashdir), "%s", dir);
	return fd;
}

/* [http] dashboard_dir, else the installed copy next to the binary, else
 * the build tree layout, else the source tree. */
static void
find_dashboard(http_t *h, const char *conf_dir)
{
	char exe[1024], p[1100], *slash;
	ssize_t n;

	h->dashfd = -1;
	if (conf_dir != NULL && *conf_dir != '\0') {
		if ((h->dashfd = try_dir(h, conf_dir)) < 0)
			log_warnx("http: dashboard_dir %s has no readable "
			    "index.html; no dashboard", conf_dir);
		return;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		snprintf(p, sizeof(p), "%s/../share/zond/dashboards", exe);
		if ((h->dashfd = try_dir(h, p)) >= 0)
			return;
		snprintf(p, sizeof(p), "%s/../../dashboards", exe);
		if ((h->dashfd = try_dir(h, p)) >= 0)
			return;
	}
	if (ZOND_SOURCE_DIR[0] != '\0') {
		snprintf(p, sizeof(p), "%s/dashboards", ZOND_SOURCE_DIR);
		if ((h->dashfd = try_dir(h, p)) >= 0)
			return;
	}
	log_warnx("http: no dashboard directory found; set [http] "
	    "dashboard_dir");
}

/* Is ss a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)? */
static bool
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	    s6->sin6_addr.s6_addr[12] == 127);
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family && memcmp(a, b, sizeof(*a)) == 0;
}

zerr_t
http_check_conf(const struct aggr_conf *conf, zdiag_t *d)
{
	struct sockaddr_storage ss, ps, rs;
	bool v6 = false, relay;
	zerr_t e;

	if ((e = http_parse_listen("[http] listen", conf->http_listen, 1, &ss,
	    &v6, d)) != ZE_OK)
		return e;
	if (!conf->http_public && *conf->http_token == '\0' &&
	    !is_loopback(&ss))
		return zdiag_set(d, ZE_PERM, "[http] listen %s: the operator "
		    "view (agent keys, every measurement) would be open to "
		    "anyone who reaches this address; set [http] token, "
		    "listen on loopback (127.0.0.1:PORT), or set [http] public "
		    "= yes (docs/API.md \"Public view and operator token\")",
		    conf->http_listen);
	/* the relay ingest's address: a clash would leave one of them
	 * unbound at start, found only in the log */
	relay = conf->relay_listen != NULL && *conf->relay_listen != '\0' &&
	    http_parse_listen("[relay] listen", conf->relay_listen, 0, &rs,
	    &v6, d) == ZE_OK;
	if (relay && same_addr(&ss, &rs))
		return zdiag_set(d, ZE_INVAL, "[http] listen %s: the same "
		    "address as [relay] listen", conf->http_listen);
	if (*conf->http_public_listen == '\0')
		return ZE_OK;
	if ((e = http_parse_listen("[http] public_listen",
	    conf->http_public_listen, 1, &ps, &v6, d)) != ZE_OK)
		return e;
	if (same_addr(&ss, &ps))
		return zdiag_set(d, ZE_INVAL, "[http] public_listen %s: the "
		    "same address as [http] listen", conf->http_public_listen);
	if (relay && same_addr(&ps, &rs))
		return zdiag_set(d, ZE_INVAL, "[http] public_listen %s: the "
		    "same address as [relay] listen", conf->http_public_listen);
	return ZE_OK;
}

zerr_t
http_check_token_file(const struct aggr_conf *conf, const char *path,
    zdiag_t *d)
{
	int fd;
	zerr_t e;

	if (*conf->http_token == '\0' || path == NULL)
		return ZE_OK;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return zdiag_set(d, ZE_IO, "%s: %s", path, strerror(errno));
	e = key_check_secret(fd, path, "configuration file holding [http] "
	    "token", d);
	close(fd);
	return e;
}

/* Start l on its address (l->h, l->addr, l->pub set). */
static zerr_t
listener_start(struct listener *l, const char *what, zdiag_t *d)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	bool v6 = false;
	zerr_t e;

	if ((e = http_parse_listen(what, l->addr, 1, &ss, &v6, d)) != ZE_OK)
		return e;
	if (v6)
		flags |= MHD_USE_IPv6;
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l->h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONN,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
	    MHD_OPTION_END);
	if (l->mhd == NULL)
		return zdiag_set(d, ZE_IO, "http: cannot listen on %s",
		    l->addr);
	return ZE_OK;
}

/* The map cache's refresher: kept documents that are being read are made
 * again before they are too old (http_cache.h), so a reader does not wait
 * for a national map while the analyzer keeps changing the store. */
static bool
refresh_stopping(http_t *h)
{
	bool stop;

	pthread_mutex_lock(&h->mu);
	stop = h->refresh_stop;
	pthread_mutex_unlock(&h->mu);
	return stop;
}

static void *
refresh_run(void *arg)
{
	http_t *h = arg;
	struct timespec ts;

	while (!refresh_stopping(h)) {
		if (http_map_refresh(h))
			continue;	/* another may be due */
		clock_gettime(CLOCK_MONOTONIC, &ts);	/* refresh_cv's */
		ts.tv_nsec += MAP_REFRESH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&h->mu);
		if (!h->refresh_stop)
			(void)pthread_cond_timedwait(&h->refresh_cv, &h->mu,
			    &ts);
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

zerr_t
http_start(store_t *s, const struct aggr_conf *conf,
    const struct ipasn *asn, http_t **out, zdiag_t *d)
{
	http_t *h;
	zerr_t e;

	*out = NULL;
	if ((e = http_check_conf(conf, d)) != ZE_OK)
		return e;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	h->store = s;
	if (conf->fingerprints != NULL && *conf->fingerprints != '\0' &&
	    (e = fpdb_load(conf->fingerprints, &h->fp, d)) != ZE_OK) {
		free(h);
		return e;
	}
	atomic_init(&h->requests, 0);
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->logmu, NULL);
	{
		/* waits on the monotonic clock: a step of the wall clock
		 * neither stalls nor hurries the refresher */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->refresh_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	analyze_opts_default(&h->ao);
	h->ao.v.fp = h->fp;
	h->ao.window_us = conf->window_ms * 1000;
	h->ao.v.asn = asn;
	h->ao.c.min_measurements = (uint32_t)conf->min_measurements;
	h->ao.c.min_agents = (uint32_t)conf->min_agents;
	h->ao.c.regime_min_agents = (uint32_t)conf->regime_min_agents;
	h->k = (uint32_t)conf->http_public_min_agents;
	if ((h->has_token = *conf->http_token != '\0'))
		crypto_generichash(h->token_hash, sizeof(h->token_hash),
		    (const unsigned char *)conf->http_token,
		    strlen(conf->http_token), NULL, 0);
	find_dashboard(h, conf->dashboard_dir);
	if (conf->http_map_cache_ms > 0 && (e = hcache_new(MAP_CACHE_SLOTS,
	    conf->http_map_cache_ms * 1000, MAP_CACHE_BYTES, &h->mapc)) !=
	    ZE_OK) {
		http_stop(&h);
		return zdiag_set(d, e, "out of memory");
	}
	if (h->mapc != NULL) {
		if (pthread_create(&h->refresh_th, NULL, refresh_run, h) != 0) {
			http_stop(&h);
			return zdiag_set(d, ZE_NOMEM, "http: cannot start the "
			    "map cache's refresher");
		}
		h->refresh_on = true;
	}
	h->lst[0] = (struct listener){.h = h, .addr = conf->http_listen,
	    .pub = conf->http_public};
	h->nlst = 1;
	if (*conf->http_public_listen != '\0')
		h->lst[h->nlst++] = (struct listener){.h = h,
		    .addr = conf->http_public_listen, .pub = true};
	for (size_t i = 0; i < h->nlst; i++)
		if ((e = listener_start(&h->lst[i], i ? "[http] public_listen"
		    : "[http] listen", d)) != ZE_OK) {
			http_stop(&h);
			return e;
		}
	for (size_t i = 0; i < h->nlst; i++)
		log_info("http listening=%s dashboard=%s view=%s%s",
		    h->lst[i].addr, h->dashfd >= 0 ? h->dashdir : "(none)",
		    h->lst[i].pub ? "public" : "operator", h->lst[i].pub ? "" :
		    h->has_token ? " token=yes" : " token=no");
	if (h->lst[0].pub && h->has_token)
		log_warnx("http: [http] token is set but [http] public = yes: "
		    "no listener serves the operator view");
	*out = h;
	return ZE_OK;
}

void
http_publish(http_t *h, const ingest_t *ig)
{
	struct ingest_stats st;

	if (h == NULL)
		return;
	ingest_get_stats(ig, &st);
	pthread_mutex_lock(&h->mu);
	h->ist = st;
	h->have_ist = true;
	h->rej = ingest_rejects(ig);
	pthread_mutex_unlock(&h->mu);
	log_flush(h);
}

void
http_publish_relay(http_t *h, const struct relay_stats *rs)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->rst = *rs;
	h->have_rst = true;
	pthread_mutex_unlock(&h->mu);
}

void
http_stop(http_t **hp)
{
	http_t *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	if (h->refresh_on) {
		pthread_mutex_lock(&h->mu);
		h->refresh_stop = true;
		pthread_cond_signal(&h->refresh_cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->refresh_th, NULL);
	}
	for (size_t i = 0; i < h->nlst; i++)
		if (h->lst[i].mhd != NULL)
			MHD_stop_daemon(h->lst[i].mhd);
	if (h->dashfd >= 0)
		close(h->dashfd);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->logmu);
	pthread_cond_destroy(&h->refresh_cv);
	fpdb_free(&h->fp);
	hcache_free(&h->mapc);
	free(h);
	*hp = NULL;
}
