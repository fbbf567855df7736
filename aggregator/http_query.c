/*
 * http_query.c — query parameters (http_int.h).
 *
 * Every query parameter is known to its endpoint, given at most once and
 * validated; anything else sets the query's error, which the endpoint
 * answers with 400 and a JSON body naming the parameter and its value.
 */
#include "http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "ztime.h"

/* One query parameter, decoded; key_size and value_size are the decoded
 * lengths, so a %00 shows as a C string shorter than its size. */
static enum MHD_Result
query_one(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct query *q = cls;
	bool known = false;

	(void)kind;
	if (q->err[0])
		return MHD_YES;
	if (strlen(key) != key_size || (value != NULL && strlen(value) !=
	    value_size)) {
		snprintf(q->err, sizeof(q->err), "%.64s: a NUL byte (%%00) in "
		    "the %s", key, strlen(key) != key_size ? "name" : "value");
		return MHD_YES;
	}
	for (size_t i = 0; q->allowed[i] != NULL; i++)
		if (strcmp(q->allowed[i], key) == 0)
			known = true;
	if (!known) {
		snprintf(q->err, sizeof(q->err), "unknown parameter '%.64s'",
		    key);
		return MHD_YES;
	}
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->name[i], key) == 0) {
			snprintf(q->err, sizeof(q->err), "%.64s: given more "
			    "than once", key);
			return MHD_YES;
		}
	if (value == NULL || *value == '\0') {
		snprintf(q->err, sizeof(q->err), "%.64s: no value given", key);
		return MHD_YES;
	}
	if (q->n == HTTP_MAX_PARAMS) {
		snprintf(q->err, sizeof(q->err), "too many parameters");
		return MHD_YES;
	}
	q->name[q->n] = key;
	q->val[q->n++] = value;
	return MHD_YES;
}

void
http_query_read(struct MHD_Connection *c, const char *const *allowed,
    struct query *q)
{
	memset(q, 0, sizeof(*q));
	q->allowed = allowed;
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, query_one, q);
}

const char *
http_query_get(const struct query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->name[i], name) == 0)
			return q->val[i];
	return NULL;
}

static bool
q_time(struct query *q, const char *name, int64_t *us)
{
	const char *v = http_query_get(q, name);
	zdiag_t d = {.text = ""};

	if (v == NULL || q->err[0])
		return !q->err[0];
	if (ztime_parse_iso(v, us, &d) != ZE_OK) {
		snprintf(q->err, sizeof(q->err), "%s: '%.64s' is not an ISO "
		    "8601 UTC time (%.200s)", name, v, d.text);
		return false;
	}
	return true;
}

bool
http_query_int(struct query *q, const char *name, int64_t lo, int64_t hi,
    const char *what, int64_t *out)
{
	const char *v = http_query_get(q, name);
	char *end;
	long long x;

	if (v == NULL || q->err[0])
		return !q->err[0];
	errno = 0;
	x = strtoll(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || x < lo ||
	    x > hi) {
		snprintf(q->err, sizeof(q->err), "%s: '%.64s' is not %s", name,
		    v, what);
		return false;
	}
	*out = x;
	return true;
}

/* A token of [A-Za-z0-9._-] (service) or [A-Z0-9-] (region). */
static bool
q_token(struct query *q, const char *name, bool region, char *out,
    size_t outlen)
{
	const char *v = http_query_get(q, name);
	size_t n;

	if (v == NULL || q->err[0])
		return !q->err[0];
	n = strlen(v);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || (!region && ((ch >= 'a' && ch <= 'z') ||
		    ch == '.' || ch == '_' || ch == '/'));
		if (!ok) {
			n = outlen;	/* refused below */
			break;		/* v ends at its old n */
		}
	}
	if (n >= outlen) {
		snprintf(q->err, sizeof(q->err), region ? "%s: '%.64s' is not "
		    "an ISO 3166-2 region (e.g. RU-MOW)" : "%s: '%.64s' is not "
		    "a service name ([A-Za-z0-9._-], at most 63, optionally "
		    "ending in /calls or /messaging)", name, v);
		return false;
	}
	memcpy(out, v, n + 1);
	return true;
}

/* since/until (defaults: now - back_us .. now; back_us < 0: everything),
 * region, asn, service, role, network; false with q->err set on the first bad
 * one. */
bool
http_query_filters(struct query *q, struct filt *f, int64_t back_us)
{
	int64_t now = ztime_now_us();
	const char *role, *net;

	memset(f, 0, sizeof(*f));
	f->until = back_us < 0 ? INT64_MAX : now + 1;
	f->since = back_us < 0 ? 0 : now - back_us;
	f->role = -1;
	f->network = -1;
	if ((net = http_query_get(q, "network")) != NULL &&
	    (f->network = store_network_parse(net)) < 0) {
		snprintf(q->err, sizeof(q->err), "network: '%.64s' is not "
		    "fixed, mobile or unknown", net);
		return false;
	}
	if (!q_time(q, "since", &f->since) || !q_time(q, "until", &f->until))
		return false;
	if (!http_query_int(q, "asn", 1, 4294967295LL, "an AS number "
	    "(1-4294967295)", &f->asn))
		return false;
	if (http_query_get(q, "region") != NULL) {
		if (!q_token(q, "region", true, f->region, sizeof(f->region)))
			return false;
		f->has_region = true;
	}
	if (http_query_get(q, "service") != NULL) {
		if (!q_token(q, "service", false, f->service,
		    sizeof(f->service)))
			return false;
		if (cell_facet_parse(f->service, f->base, sizeof(f->base),
		    &f->facet) != ZE_OK) {
			snprintf(q->err, sizeof(q->err), "service: '%.64s' is "
			    "not a service name ([A-Za-z0-9._-], at most 63, "
			    "optionally ending in /calls or /messaging)",
			    f->service);
			return false;
		}
		f->has_service = true;
	}
	if ((role = http_query_get(q, "role")) != NULL) {
		if (strcmp(role, "probe") == 0)
			f->role = STORE_ROLE_PROBE;
		else if (strcmp(role, "control") == 0)
			f->role = STORE_ROLE_CONTROL;
		else if (strcmp(role, "control-domestic") == 0)
			f->role = STORE_ROLE_DOMESTIC;
		else {
			snprintf(q->err, sizeof(q->err), "role: '%.64s' is not "
			    "probe, control or control-domestic", role);
			return false;
		}
	}
	if (f->since >= f->until) {
		char a[40], b[40];
		snprintf(q->err, sizeof(q->err), "until: %s is not after "
		    "since %s", ztime_fmt_iso(f->until, b, sizeof(b), 3),
		    ztime_fmt_iso(f->since, a, sizeof(a), 3));
		return false;
	}
	return true;
}


/* Does a stored measurement pass f?  The body is decoded only for a
 * service filter. */
bool
http_filt_match(const struct filt *f, const struct store_meas *sm)
{
	wire_meas_t *m = NULL;
	bool ok;

	if (sm->start_us < f->since || sm->start_us >= f->until)
		return false;
	if (f->has_region && strcmp(f->region, sm->region) != 0)
		return false;
	if (f->asn > 0 && (int64_t)sm->asn != f->asn)
		return false;
	if (f->role >= 0 && (int)sm->role != f->role)
		return false;
	if (!f->has_service)
		return true;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return false;
	ok = m->service != NULL && strcmp(m->service, f->base) == 0 &&
	    (f->facet == CELL_FACET_ALL || cell_facet_of(m->test) == f->facet);
	wire_meas_free(m);
	return ok;
}
