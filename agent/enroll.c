/*
 * enroll.c — see enroll.h.
 *
 * Order of the steps: nothing is written before the volunteer said yes;
 * the key is created before the config is written (a config that names
 * an aggregator always has its key beside it); the config is replaced
 * atomically (temporary file, fsync, rename).  The token's secret stays
 * in this process: only the proof (token.h) goes on the wire.
 */
#include "enroll.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bytes.h"
#include "config.h"
#include "daemon.h"
#include "key.h"
#include "log.h"
#include "notice.h"
#include "relay.h"
#include "token.h"
#include "uplink.h"
#include "version.h"
#include "wire.h"
#include "ztime.h"

#define PROG "zond-agent"
#define USAGE "usage: " PROG " --enroll TOKEN [--accept-risk] [-c CONFIG]\n"
#define CONF_OUT_MAX (CONF_MAX_FILE + 4096)

bool
agent_enroll_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--enroll") == 0 ||
		    strncmp(argv[i], "--enroll=", 9) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ config */

/* The line p[0..n) without leading and trailing blanks. */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
	    (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* A "[name]" line: true, and whether name is "uplink". */
static bool
is_section(const char *p, size_t n, bool *uplink)
{
	trim(&p, &n);
	if (n < 2 || p[0] != '[' || p[n - 1] != ']')
		return false;
	p++;
	n -= 2;
	trim(&p, &n);
	*uplink = n == 6 && memcmp(p, "uplink", 6) == 0;
	return true;
}

/* A "key = ..." line. */
static bool
is_key(const char *p, size_t n, const char *key)
{
	size_t k = strlen(key);

	trim(&p, &n);
	if (n <= k || memcmp(p, key, k) != 0)
		return false;
	p += k;
	n -= k;
	trim(&p, &n);
	return n > 0 && *p == '=';
}

static zerr_t
put_kv(zbuf_t *out, const char *k, const char *v)
{
	/* values are checked: no quote, backslash or control byte */
	return zbuf_printf(out, "%s = \"%s\"\n", k, v);
}

zerr_t
enroll_conf_merge(const char *old, size_t n, const struct enroll_conf_vals *v,
    zbuf_t *out, zdiag_t *d)
{
	const char *keys[4] = {"endpoint", "server_key", "operator_key",
	    "relays"};
	const char *vals[4] = {v->endpoint, v->server_key, v->operator_key,
	    v->relays};
	bool done[4] = {false, false, v->operator_key == NULL,
	    v->relays == NULL};
	bool in_uplink = false, seen = false, up;
	size_t i = 0;
	zerr_t e = ZE_OK;

	zbuf_reset(out);
	if (old == NULL) {
		if ((e = zbuf_printf(out, "# Written by zond-agent --enroll; "
		    "every option: zond-agent --config-reference\n"
		    "[agent]\n")) != ZE_OK ||
		    (e = put_kv(out, "key", v->key)) != ZE_OK ||
		    (e = put_kv(out, "state_dir", v->state_dir)) != ZE_OK ||
		    (e = zbuf_puts(out, "\n[uplink]\n")) != ZE_OK)
			goto out;
		for (int k = 0; k < 4 && e == ZE_OK; k++)
			if (vals[k] != NULL)
				e = put_kv(out, keys[k], vals[k]);
		goto out;
	}
	while (i < n && e == ZE_OK) {
		const char *l = old + i, *nl = memchr(l, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - l) : n - i;
		bool skip = false;

		i += len + (nl != NULL);
		if (is_section(l, len, &up)) {
			/* the end of [uplink]: what it lacked goes here */
			for (int k = 0; k < 4 && in_uplink && e == ZE_OK; k++)
				if (!done[k]) {
					e = put_kv(out, keys[k], vals[k]);
					done[k] = true;
				}
			in_uplink = up;
			seen = seen || up;
		} else if (in_uplink) {
			for (int k = 0; k < 4; k++)
				if (vals[k] != NULL && is_key(l, len, keys[k])) {
					skip = true;
					if (!done[k])
						e = put_kv(out, keys[k],
						    vals[k]);
					done[k] = true;
				}
		}
		if (!skip && e == ZE_OK && (e = zbuf_append(out, l, len)) ==
		    ZE_OK)
			e = zbuf_putc(out, '\n');
	}
	if (e == ZE_OK && !seen)
		e = zbuf_puts(out, "\n[uplink]\n");
	for (int k = 0; k < 4 && e == ZE_OK; k++)
		if (!done[k])
			e = put_kv(out, keys[k], vals[k]);
out:
	if (e != ZE_OK)
		return zdiag_set(d, e, "config: %s", zerr_str(e));
	return ZE_OK;
}

/* Replace path by text: a new temporary file beside it, fsync, rename,
 * fsync of the folder (created 0755 when absent). */
static zerr_t
write_config(const char *path, const zbuf_t *text, zdiag_t *d)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (slash != NULL && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return zdiag_set(d, ZE_IO, "%s: cannot create: %s",
			    dir, strerror(errno));
	}
	return bytes_write_file(path, text->data, text->len, 0644, d);
}

/* ------------------------------------------------------------ steps */

/* The volunteer's explicit yes (or --accept-risk).  0: given. */
static int
consent(bool accept_risk)
{
	char line[64];
	size_t n;

	if (accept_risk) {
		printf("Accepted with --accept-risk.\n");
		return 0;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: not enrolled: taking part needs your "
		    "explicit yes and there is no terminal to answer on; read "
		    "the notice above and run the command again in a terminal, "
		    "or add --accept-risk to accept it in a script\n", PROG);
		return -1;
	}
	printf("Type yes to take part (anything else stops here): ");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		line[0] = '\0';
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (strcasecmp(line, "yes") != 0 && strcmp(line, "да") != 0 &&
	    strcmp(line, "Да") != 0) {
		fprintf(stderr, "%s: not enrolled: you did not answer yes; "
		    "nothing was written\n", PROG);
		return -1;
	}
	return 0;
}

/* What the volunteer reads for each refusal. */
static const char *
refusal_words(Zond__V1__EnrollStatus s)
{
	switch (s) {
	case ZOND__V1__ENROLL_STATUS__ENROLL_UNKNOWN:
		return "the aggregator does not know this token (it was made "
		    "for another aggregator, or changed on the way). Ask the "
		    "operator for a new one.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_FORGED:
		return "the aggregator says this token is forged: its secret "
		    "does not match. Copy it again from the operator's "
		    "message, or ask for a new one.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_USED:
		return "this token has already enrolled another device; each "
		    "token enrolls one. Ask the operator for a new one.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_EXPIRED:
		return "this token has expired. Ask the operator for a new "
		    "one.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_REVOKED:
		return "the operator has revoked this token.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_RATE_LIMITED:
		return "too many attempts from your address. Wait a minute "
		    "and run the same command again.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_DISABLED:
		return "the aggregator does not accept enrollments now. Ask "
		    "the operator.";
	case ZOND__V1__ENROLL_STATUS__ENROLL_STORAGE:
		return "the aggregator could not store the enrollment. Run "
		    "the same command again later.";
	default:
		return "the aggregator gave an answer this agent does not "
		    "know. Ask the operator.";
	}
}

/* A handshake the aggregator refused (its ZAP handler: enrollment off,
 * or this key disabled), from the socket monitor mon.  True when one
 * came; any other event is read and ignored. */
static bool
refused_event(void *mon)
{
	bool refused = false;
	zmq_msg_t m;
	uint16_t ev;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return refused;
		}
		/* [u16 event, u32 value][endpoint] */
		if (zmq_msg_size(&m) == 6) {
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
			refused = refused || ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
		}
		zmq_msg_close(&m);
	}
}

/* Send the Enroll until an EnrollResult comes or ENROLL_WAIT_MS pass.
 * 0 admitted, 1 refused, 3 no answer. */
static int
exchange(void *sock, void *mon, const zbuf_t *frame, const char *conf_path)
{
	int64_t start = ztime_mono_us(), next = start;
	int64_t deadline = start + ENROLL_WAIT_MS * 1000LL;
	bool sent = false;

	while (ztime_mono_us() < deadline) {
		zmq_pollitem_t pi[2] = {{.socket = sock, .events = ZMQ_POLLIN},
		    {.socket = mon, .events = ZMQ_POLLIN}};
		wire_downlink_t *dl = NULL;
		zmq_msg_t m;
		zdiag_t d;
		int rc;

		if (ztime_mono_us() >= next) {
			/* ZMQ_IMMEDIATE: EAGAIN until a connection is up */
			if (zmq_send(sock, frame->data, frame->len,
			    ZMQ_DONTWAIT) >= 0) {
				sent = true;
				next = ztime_mono_us() + ENROLL_RESEND_MS *
				    1000LL;
			} else
				next = ztime_mono_us() + 200000;
		}
		if (zmq_poll(pi, 2, 200) <= 0)
			continue;
		if ((pi[1].revents & ZMQ_POLLIN) && refused_event(mon)) {
			fprintf(stderr, "%s: not enrolled: the aggregator "
			    "refused the connection: it does not accept "
			    "enrollments now, or the operator disabled this "
			    "device's key. Ask the operator.\n", PROG);
			return 1;
		}
		if (!(pi[0].revents & ZMQ_POLLIN))
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		rc = wire_downlink_decode(zmq_msg_data(&m), zmq_msg_size(&m),
		    &dl, &d) == ZE_OK;
		zmq_msg_close(&m);
		if (!rc)
			continue;
		if (dl->msg_case == ZOND__V1__DOWNLINK__MSG_REJECT) {
			log_debug("aggregator: reject: %s",
			    dl->reject->detail != NULL ? dl->reject->detail :
			    "-");
		} else if (dl->msg_case ==
		    ZOND__V1__DOWNLINK__MSG_ENROLL_RESULT) {
			const Zond__V1__EnrollResult *r = dl->enroll_result;
			Zond__V1__EnrollStatus st = r->has_status ? r->status :
			    ZOND__V1__ENROLL_STATUS__ENROLL_UNSPECIFIED;

			if (st == ZOND__V1__ENROLL_STATUS__ENROLL_ADMITTED) {
				printf("Enrolled: region %s, ASN %" PRIu32
				    ", %s network.\nStart the agent: "
				    "systemctl enable --now zond-agent (or: "
				    "zond-agent -c %s)\n",
				    r->region != NULL ? r->region : "?",
				    r->has_asn ? r->asn : 0,
				    r->network != NULL ? r->network :
				    "unknown", conf_path);
				wire_downlink_free(dl);
				return 0;
			}
			fprintf(stderr, "%s: not enrolled: %s (aggregator: "
			    "%s)\n", PROG, refusal_words(st), r->detail !=
			    NULL ? r->detail : "-");
			wire_downlink_free(dl);
			return 1;
		}
		wire_downlink_free(dl);
	}
	fprintf(stderr, "%s: not enrolled: no answer from the aggregator in "
	    "%d s (%s). Check this device's Internet connection and run "
	    "the same command again; if it keeps failing, tell the "
	    "operator.\n", PROG, ENROLL_WAIT_MS / 1000, sent ? "the request "
	    "was sent" : "no connection could be made");
	return 3;
}

/* Contact the aggregator at the token's endpoints as key k. */
static int
contact(const token_t *t, const zkey_t *k, const char *conf_path)
{
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Enroll en = ZOND__V1__ENROLL__INIT;
	uint8_t proof[TOKEN_PROOF_LEN];
	void *zctx = NULL, *sock = NULL, *mon = NULL;
	size_t connected = 0;
	int one = 1, zero = 0, rc = 1;
	zbuf_t frame;
	zdiag_t d;

	zbuf_init(&frame, WIRE_MAX_FRAME);
	token_proof(t->secret.data, t->id.data, key_public(k), proof);
	en.has_token_id = en.has_agent_key = en.has_proof = 1;
	en.token_id = t->id;
	en.agent_key.data = (uint8_t *)(uintptr_t)key_public(k);
	en.agent_key.len = KEY_PUB_LEN;
	en.proof.data = proof;
	en.proof.len = sizeof(proof);
	en.agent_version = (char *)(uintptr_t)ZOND_VERSION;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_ENROLL;
	up.enroll = &en;
	if (wire_pack(&up.base, &frame) != ZE_OK) {
		fprintf(stderr, "%s: cannot encode the request\n", PROG);
		goto out;
	}
	if ((zctx = zmq_ctx_new()) == NULL ||
	    uplink_dealer(zctx, t->server_key.data, k, &sock, &d) != ZE_OK ||
	    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, zctx == NULL ? "zmq_ctx_new "
		    "failed" : d.text);
		goto out;
	}
	/* before connecting: a refused handshake is not missed */
	if (zmq_socket_monitor(sock, "inproc://zond-enroll-mon",
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
	    (mon = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_connect(mon, "inproc://zond-enroll-mon") != 0) {
		fprintf(stderr, "%s: socket monitor: %s\n", PROG,
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	for (size_t i = 0; i < t->n_endpoints; i++) {
		if (zmq_connect(sock, t->endpoints[i]) != 0)
			fprintf(stderr, "%s: endpoint %s: %s\n", PROG,
			    t->endpoints[i], zmq_strerror(zmq_errno()));
		else
			connected++;
	}
	if (connected == 0)
		goto out;
	printf("Contacting the aggregator (%s%s)...\n", t->endpoints[0],
	    t->n_endpoints > 1 ? " and others" : "");
	fflush(stdout);
	rc = exchange(sock, mon, &frame, conf_path);
out:
	sodium_memzero(proof, sizeof(proof));
	if (mon != NULL) {
		(void)zmq_socket_monitor(sock, NULL, 0);
		zmq_close(mon);
	}
	if (sock != NULL)
		zmq_close(sock);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	zbuf_free(&frame);
	return rc;
}

/* Load an existing config and check it may be rewritten for this token:
 * 0 fine (*exists tells whether there was one), -1 refused (printed). */
static int
check_existing(const char *path, const token_t *t, struct agent_conf *conf,
    bool *exists)
{
	uint8_t pk[KEY_PUB_LEN];
	struct stat st;
	zdiag_t d;

	*exists = stat(path, &st) == 0;
	if (!*exists) {
		if (conf_init(agent_conf_tab, conf, &d) != ZE_OK) {
			fprintf(stderr, "%s: %s\n", PROG, d.text);
			return -1;
		}
		return 0;
	}
	if (conf_load(agent_conf_tab, conf, path, &d) != ZE_OK) {
		fprintf(stderr, "%s: not enrolled: the existing config does "
		    "not load: %s\n", PROG, d.text);
		return -1;
	}
	if (conf->server_key[0] != '\0' && (pubkey_from_hex(conf->server_key,
	    pk, &d) != ZE_OK || sodium_memcmp(pk, t->server_key.data,
	    KEY_PUB_LEN) != 0)) {
		fprintf(stderr, "%s: not enrolled: %s names another "
		    "aggregator ([uplink] server_key %.16s...); not "
		    "overwriting it. Move it away, or give -c with another "
		    "file.\n", PROG, path, conf->server_key);
		return -1;
	}
	return 0;
}

int
agent_enroll_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"enroll", required_argument, NULL, 'E'},
		{"accept-risk", no_argument, NULL, 'A'},
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *text = NULL, *path = "/etc/zond/agent.conf";
	char srvhex[KEY_HEX_LEN + 1], ophex[KEY_HEX_LEN + 1], pkhex[65];
	struct enroll_conf_vals v;
	struct agent_conf conf;
	bool accept = false, exists = false, conf_ok = false;
	token_t *t = NULL;
	zkey_t *k = NULL;
	zbuf_t old, out, relays;
	bool rc_ok = true;
	long uid, gid;
	int ch, rc = 2, created = 0, verbose = 0;
	zdiag_t d;

	zbuf_init(&old, CONF_MAX_FILE);
	zbuf_init(&out, CONF_OUT_MAX);
	zbuf_init(&relays, 16384);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'E': text = optarg; break;
		case 'A': accept = true; break;
		case 'c': path = optarg; break;
		case 'v': verbose++; break;
		case 'h':
			printf(USAGE);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, USAGE);
			goto out;
		}
	}
	if (text == NULL || optind != argc) {
		fprintf(stderr, USAGE);
		goto out;
	}
	log_init(PROG, verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (token_decode(text, &t, &d) != ZE_OK) {
		fprintf(stderr, "%s: not enrolled: %s\n", PROG, d.text);
		goto out;
	}
	fputs(volunteer_notice(), stdout);
	printf("\nAggregator: %s (key %.16s...)%s\n", t->endpoints[0],
	    sodium_bin2hex(srvhex, sizeof(srvhex), t->server_key.data,
	    KEY_PUB_LEN), t->n_endpoints > 1 ? " and others" : "");
	if (t->n_relays > 0)
		printf("HTTPS relays: %zu, used when CurveZMQ fails "
		    "([uplink] relays).\n", t->n_relays);
	fflush(stdout);
	if (consent(accept) != 0)
		goto out;
	rc = 1;
	if (check_existing(path, t, &conf, &exists) != 0)
		goto out;
	conf_ok = true;
	agent_user_ids(conf.user, &uid, &gid);
	if (key_load_or_create(conf.key, uid, gid, &k, &created, &d) !=
	    ZE_OK) {
		fprintf(stderr, "%s: not enrolled: %s\n", PROG, d.text);
		goto out;
	}
	key_public_hex(k, pkhex);
	printf("Identity: %s (%s), agent key %.16s...\n", conf.key, created ?
	    "new" : "existing", pkhex);
	if (exists && bytes_read_file(path, CONF_MAX_FILE, &old, &d) !=
	    ZE_OK) {
		fprintf(stderr, "%s: not enrolled: %s\n", PROG, d.text);
		goto out;
	}
	memset(&v, 0, sizeof(v));
	v.endpoint = t->endpoints[0];
	if (t->n_relays > 0) {
		/* token.c checked each: printable ASCII, no quote or comma
		 * that the config line could not hold (relay_urls_check) */
		for (size_t i = 0; i < t->n_relays && rc_ok; i++)
			rc_ok = (i == 0 || zbuf_puts(&relays, ", ") == ZE_OK) &&
			    zbuf_puts(&relays, t->relays[i]) == ZE_OK;
		if (!rc_ok || relay_urls_check((const char *)relays.data,
		    NULL, &d) != ZE_OK) {
			fprintf(stderr, "%s: not enrolled: the token's relays: "
			    "%s\n", PROG, rc_ok ? d.text : "too long");
			goto out;
		}
		v.relays = (const char *)relays.data;
	}
	v.server_key = srvhex;
	if (t->has_operator_key && t->operator_key.len == KEY_PUB_LEN)
		v.operator_key = sodium_bin2hex(ophex, sizeof(ophex),
		    t->operator_key.data, KEY_PUB_LEN);
	v.key = conf.key;
	v.state_dir = conf.state_dir;
	if (enroll_conf_merge(exists ? (const char *)old.data : NULL,
	    old.len, &v, &out, &d) != ZE_OK ||
	    write_config(path, &out, &d) != ZE_OK) {
		fprintf(stderr, "%s: not enrolled: %s\n", PROG, d.text);
		goto out;
	}
	printf("Config: %s %s\n", path, exists ? "updated" : "written");
	rc = contact(t, k, path);
out:
	if (conf_ok)
		conf_free(agent_conf_tab, &conf);
	key_free(&k);
	token_free(&t);
	zbuf_free(&old);
	zbuf_free(&out);
	zbuf_free(&relays);
	return rc;
}
