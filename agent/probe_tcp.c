/*
 * probe_tcp.c — TCP connect test: one connect to ip:port, recording the
 * address and the connect time.  Failure kinds stay apart: REFUSED (RST
 * to the SYN), TIMEOUT (no answer), UNREACHABLE (ICMP), RESET.
 *
 * The address is req->ip with req->port (or the port of the target), or
 * the target itself as "ip:port".  No name is ever resolved here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "probe.h"
#include "probe_util.h"

/* Port of a "host:port" / "[v6]:port" target, 0 when it has none. */
static int
target_port(const char *t)
{
	const char *p;
	int64_t v;

	if (t == NULL)
		return 0;
	if (t[0] == '[') {
		if ((p = strchr(t, ']')) == NULL || p[1] != ':')
			return 0;
		p += 2;
	} else {
		if ((p = strrchr(t, ':')) == NULL || strchr(t, ':') != p)
			return 0;
		p++;
	}
	if (conf_parse_int(p, &v) != ZE_OK || v < 1 || v > 65535)
		return 0;
	return (int)v;
}

zerr_t
probe_tcp(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	Zond__V1__Outcome *o = NULL;
	Zond__V1__TcpOutcome *t;
	Zond__V1__Failure fail;
	char abuf[80];
	int64_t us = 0;
	int fd, err, port;
	zerr_t e;

	*out = NULL;
	if (req->ip != NULL) {
		port = req->port > 0 ? req->port : target_port(req->target);
		e = pu_parse_addr(req->ip, port, &ss, &sl, d);
	} else {
		e = pu_parse_addr(req->target, req->port, &ss, &sl, d);
	}
	if (e != ZE_OK)
		return e;
	if ((o = pu_outcome_for(ZOND__V1__TEST_KIND__TEST_TCP)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "tcp: out of memory");
	t = o->tcp;
	pu_addr_str((struct sockaddr *)&ss, abuf, sizeof(abuf));
	if ((t->addr = pu_strdup(abuf)) == NULL)
		goto nomem;
	fd = pu_connect((struct sockaddr *)&ss, sl, SOCK_STREAM,
	    env->timeout_ms, &fail, &err, &us);
	if (fd >= 0) {
		close(fd);
		t->has_connect_us = 1;
		t->connect_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	} else {
		pu_fail(o, fail, "connect %s: %s after %lld us", abuf,
		    strerror(err), (long long)us);
		if (o->detail == NULL)
			goto nomem;
	}
	*out = o;
	return ZE_OK;
nomem:
	zond__v1__outcome__free_unpacked(o, NULL);
	return zdiag_set(d, ZE_NOMEM, "tcp: out of memory");
}
