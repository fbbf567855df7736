/*
 * zond-aggregator — ingest, storage, on-demand analysis and the HTTP API
 * (http.c, its own threads; the main loop publishes the ingest counters
 * to it after each tick).
 *
 * Start-up: config, identity key (its CURVE secret serves the ROUTER),
 * LMDB store, the ZAP handler (bound before the ROUTER so that no client
 * is ever admitted without it), the ROUTER, the writer (the one LMDB
 * writer, its commit thread), the verify workers, the analyzer.
 *
 * One poll loop (zmq_poll) over the ROUTER and the workers' wake-up pipe,
 * with a timeout from the next timer.  The periodic tick:
 *   - commits the pending group when commit_delay has run out (and then
 *     sends its ACKs), or status-only updates after at most a second;
 *   - logs the counters as one key=value "stats" line every
 *     stats_interval.
 * SIGTERM/SIGINT: stop reading, wait for the workers, commit and ACK
 * what is pending, log the final stats, exit 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zmq.h>

#include "analyzer.h"
#include "cli.h"
#include "config.h"
#include "http.h"
#include "ingest.h"
#include "ipasn.h"
#include "key.h"
#include "log.h"
#include "relay.h"
#include "store.h"
#include "wire.h"
#include "zap.h"
#include "ztime.h"

#define PROG "zond-aggregator"

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
loglevel(const char *s, int verbose)
{
	if (verbose)
		return LOG_LVL_DEBUG;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	if (strcmp(s, "debug") == 0)
		return LOG_LVL_DEBUG;
	return LOG_LVL_INFO;
}

static void
log_stats(const char *what, ingest_t *ig, zap_t *zap, store_t *store)
{
	struct ingest_stats st;
	struct zap_stats zs;
	struct store_counts c;
	char rej[1024];
	size_t off = 0;
	int r;

	ingest_get_stats(ig, &st);
	zap_get_stats(zap, &zs);
	if (store_counts(store, &c, NULL) != ZE_OK)
		memset(&c, 0, sizeof(c));
	rej[0] = '\0';
	for (int i = 1; i < INGEST_NREASONS; i++) {
		r = snprintf(rej + off, sizeof(rej) - off, " rejected_%s=%"
		    PRIu64, wire_reject_name((Zond__V1__RejectReason)i),
		    st.rejected[i]);
		if (r < 0 || (size_t)r >= sizeof(rej) - off)
			break;
		off += (size_t)r;
	}
	for (int i = 1; i < ENROLL_NSTATUS; i++) {
		r = snprintf(rej + off, sizeof(rej) - off, " enroll_%s=%"
		    PRIu64, enroll_status_name((Zond__V1__EnrollStatus)i),
		    st.enroll[i]);
		if (r < 0 || (size_t)r >= sizeof(rej) - off)
			break;
		off += (size_t)r;
	}
	log_info("%s frames=%" PRIu64 " received=%" PRIu64 " stored=%"
	    PRIu64 " dup=%" PRIu64 "%s frame_rejects=%" PRIu64
	    " zap_admitted=%" PRIu64 " zap_unknown=%" PRIu64
	    " zap_disabled=%" PRIu64 " zap_bad=%" PRIu64 " zap_enroll=%"
	    PRIu64 " zap_enroll_limited=%" PRIu64 " hellos=%" PRIu64
	    " heartbeats=%" PRIu64 " commits=%" PRIu64 " commit_fail=%"
	    PRIu64 " commit_ms_avg=%.2f commit_ms_max=%.2f pending=%" PRIu64
	    " storage_ok=%d clock_by_boot=%" PRIu64 " clock_unplaced=%"
	    PRIu64 " db_measurements=%" PRIu64 " map_used=%" PRIu64
	    " map_size=%" PRIu64, what, st.frames, st.received, st.stored,
	    st.dup, rej, st.frame_rejects, zs.admitted, zs.unknown,
	    zs.disabled, zs.bad, zs.enroll, zs.enroll_limited, st.hellos,
	    st.heartbeats, st.commits,
	    st.commit_fail, st.commits ? (double)st.commit_us_sum /
	    (double)st.commits / 1000.0 : 0.0,
	    (double)st.commit_us_max / 1000.0, st.pending, st.storage_ok,
	    st.clock_by_boot, st.clock_unplaced, c.meas, c.map_used,
	    c.map_size);
}

static void
log_relay(relay_t *r)
{
	struct relay_stats st;

	if (r == NULL)
		return;
	relay_get_stats(r, &st);
	log_info("relay requests=%" PRIu64 " ok=%" PRIu64 " bad=%" PRIu64
	    " forbidden=%" PRIu64 " not_found=%" PRIu64 " replay=%" PRIu64
	    " too_large=%" PRIu64 " limited=%" PRIu64 " unavailable=%" PRIu64,
	    st.requests, st.ok, st.bad, st.forbidden, st.not_found, st.replay,
	    st.too_large, st.limited, st.unavailable);
}

static void
log_analysis(analyzer_t *an)
{
	struct analyzer_stats st;

	analyzer_get_stats(an, &st);
	log_info("analysis rounds=%" PRIu64 " judged=%" PRIu64 " settled=%"
	    PRIu64 " changed=%" PRIu64 " expired=%" PRIu64 " controls=%"
	    PRIu64 " events=%" PRIu64 " hook_queued=%" PRIu64 " hook_sent=%"
	    PRIu64 " hook_failed=%" PRIu64, st.r.rounds, st.r.judged,
	    st.r.settled, st.r.changed, st.r.expired, st.r.controls,
	    st.r.events, st.hook_queued, st.hook_sent, st.hook_failed);
}

static void *
open_router(void *ctx, const struct aggr_conf *conf, const zkey_t *key)
{
	uint8_t cpk[32], csk[32];
	int one = 1, linger = 2000;
	int64_t maxmsg = WIRE_TRANSPORT_MAX(conf->max_frame);
	char ep[256];
	size_t eplen = sizeof(ep);
	void *r;

	if ((r = zmq_socket(ctx, ZMQ_ROUTER)) == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(zmq_errno()));
	if (key_curve(key, cpk, csk) != ZE_OK)
		fatalx("cannot derive the CURVE key");
	if (zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, csk, 32) != 0 ||
	    zmq_setsockopt(r, ZMQ_ZAP_DOMAIN, "zond", 4) != 0 ||
	    zmq_setsockopt(r, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof(linger)) != 0)
		fatalx("ROUTER options: %s", zmq_strerror(zmq_errno()));
	sodium_memzero(csk, sizeof(csk));
	if (zmq_bind(r, conf->listen) != 0)
		fatalx("cannot listen on %s: %s", conf->listen,
		    zmq_strerror(zmq_errno()));
	if (zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &eplen) != 0)
		ep[0] = '\0';
	ep[sizeof(ep) - 1] = '\0';
	log_info("listening endpoint=%s max_frame=%" PRId64, ep,
	    conf->max_frame);
	return r;
}

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct aggr_conf conf;
	struct store_opts so;
	struct ingest_opts io;
	struct sigaction sa;
	sigset_t stop;
	zmq_pollitem_t pi[3];
	relay_t *relay = NULL;
	void *rsock = NULL;
	store_t *store = NULL;
	http_t *http = NULL;
	analyzer_t *an = NULL;
	writer_t *w = NULL;
	ingest_t *ig = NULL;
	zap_t *zap = NULL;
	struct zap_opts zo = {0};
	zkey_t *key = NULL;
	struct ipasn *asn = NULL;
	void *ctx, *router;
	int64_t next_stats;
	long tmo, ncpu;
	zdiag_t d;
	bool recount;
	uint64_t fixed;
	int rc;

	cli_crypto_init(PROG);
	rc = cli_parse(argc, argv, PROG,
	    "Receives signed measurements from agents over CurveZMQ, stores\n"
	    "them in LMDB, judges them against control and serves maps.",
	    "/etc/zond/aggregator.conf", aggr_conf_tab, false, &a);
	if (rc >= 0)
		return rc;
	log_init(PROG, a.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!cli_load_config(aggr_conf_tab, &conf, a.config, a.check)) {
		conf_free(aggr_conf_tab, &conf);
		return 1;
	}
	/* the ASN table is part of the configuration: -n checks it too */
	if (aggr_conf_ipasn(&conf, &asn, &d) != ZE_OK) {
		fprintf(stderr, "%s: [analysis] ip_asn: %s\n", PROG, d.text);
		conf_free(aggr_conf_tab, &conf);
		return 1;
	}
	/* the relay's TLS files too (a key others may read is refused) */
	if (*conf.relay_listen != '\0' && relay_check_tls(conf.relay_tls_cert,
	    conf.relay_tls_key, &d) != ZE_OK) {
		fprintf(stderr, "%s: %s\n", PROG, d.text);
		ipasn_free(&asn);
		conf_free(aggr_conf_tab, &conf);
		return 1;
	}
	/* the operator view is never open on a public address by default;
	 * a config file holding the token is a secret file (docs/SECURITY.md) */
	if (http_check_conf(&conf, &d) != ZE_OK ||
	    http_check_token_file(&conf, a.config, &d) != ZE_OK) {
		fprintf(stderr, "%s: %s\n", PROG, d.text);
		ipasn_free(&asn);
		conf_free(aggr_conf_tab, &conf);
		return 1;
	}
	if (a.check) {
		ipasn_free(&asn);
		conf_free(aggr_conf_tab, &conf);
		return 0;
	}
	log_setlevel(loglevel(conf.log_level, a.verbose));
	if (asn != NULL) {
		size_t n4, n6;

		ipasn_count(asn, &n4, &n6);
		log_info("ip_asn file=%s rows_v4=%zu rows_v6=%zu", conf.ip_asn,
		    n4, n6);
	}

	{
		/* first start: create the identity (docs/PROTOCOL.md "Keys") */
		int created = 0;

		if (key_load_or_create(conf.key, -1, -1, &key, &created, &d)
		    != ZE_OK)
			fatalx("%s", d.text);
		if (created) {
			char hex[KEY_HEX_LEN + 1];

			key_public_hex(key, hex);
			log_info("created a new identity key=%s "
			    "aggregator=%s", conf.key, hex);
		}
	}
	memset(&so, 0, sizeof(so));
	so.map_size = conf.map_size;
	so.map_max = conf.map_max;
	so.prefill = conf.prefill;
	if (store_open(conf.data_dir, &so, &store, &d) != ZE_OK)
		fatalx("%s", d.text);
	if (store_agents_recount(store, &recount, &fixed, &d) != ZE_OK)
		fatalx("%s", d.text);
	if (recount)
		log_info("registry: counts checked after an unclean stop; "
		    "agents corrected=%" PRIu64, fixed);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* threads started from here on (libzmq's, ZAP, verify workers)
	 * inherit a mask without SIGTERM/SIGINT, so the signal interrupts
	 * the main thread's zmq_poll */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((ctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new failed");
	/* enrollment off: unknown keys are refused at the handshake */
	zo.enroll_rate = conf.enroll ? (uint32_t)conf.enroll_rate : 0;
	if (zap_start(ctx, store, &zo, &zap, &d) != ZE_OK)
		fatalx("%s", d.text);
	router = open_router(ctx, &conf, key);

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	memset(&io, 0, sizeof(io));
	io.commit_delay_ms = conf.commit_delay_ms;
	io.enroll = conf.enroll;
	io.commit_max = conf.commit_max;
	io.clock_skew_ms = conf.clock_skew_ms;
	io.late_window_ms = conf.late_window_ms;
	io.max_frame = conf.max_frame;
	io.verify_threads = conf.verify_threads > 0 ?
	    (int)conf.verify_threads : (ncpu > 0 ? (int)ncpu : 1);
	/* the one LMDB writer: the ingest's groups and the analyzer's
	 * rounds both go through it */
	if (writer_new(store, &w, &d) != ZE_OK)
		fatalx("%s", d.text);
	if (ingest_new(&io, store, w, router, &ig, &d) != ZE_OK)
		fatalx("%s", d.text);
	if (*conf.relay_listen != '\0') {
		/* the HTTPS relay ingest (relay.h): its requests come to the
		 * main loop on an inproc ROUTER; it keeps the key to sign
		 * its replies */
		struct relay_opts ro;
		int linger = 0;

		if ((rsock = zmq_socket(ctx, ZMQ_ROUTER)) == NULL ||
		    zmq_setsockopt(rsock, ZMQ_LINGER, &linger,
		    sizeof(linger)) != 0 || zmq_bind(rsock, RELAY_INPROC) != 0)
			fatalx("relay socket: %s", zmq_strerror(zmq_errno()));
		ingest_set_relay(ig, rsock);
		memset(&ro, 0, sizeof(ro));
		ro.listen = conf.relay_listen;
		ro.tls_cert = conf.relay_tls_cert;
		ro.tls_key = conf.relay_tls_key;
		ro.max_body = conf.relay_max_body;
		ro.rate = conf.relay_rate;
		ro.timeout_s = (conf.relay_timeout_ms + 999) / 1000;
		ro.reply_ms = conf.relay_reply_ms;
		if (relay_start(ctx, store, key, &ro, &relay, &d) != ZE_OK)
			fatalx("%s", d.text);
	} else
		key_free(&key);
	/* the HTTP API is optional: a busy port must not stop ingest */
	if (http_start(store, &conf, asn, &http, &d) != ZE_OK)
		log_warnx("%s; HTTP API disabled", d.text);
	/* the HTTP server keeps the token's digest only */
	sodium_memzero(conf.http_token, strlen(conf.http_token));
	http_publish(http, ig);
	if (analyzer_start(store, &conf, asn, w, &an, &d) != ZE_OK)
		fatalx("%s", d.text);
	pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
	log_info("started data_dir=%s verify_threads=%d commit_delay_ms=%"
	    PRId64 " commit_max=%" PRId64, conf.data_dir, io.verify_threads,
	    io.commit_delay_ms, io.commit_max);

	next_stats = ztime_mono_us() + conf.stats_interval_ms * 1000;
	while (!quit) {
		int64_t now = ztime_mono_us();
		long until_stats = (long)((next_stats - now + 999) / 1000);

		tmo = ingest_timeout_ms(ig);
		if (tmo < 0 || tmo > until_stats)
			tmo = until_stats < 0 ? 0 : until_stats;
		memset(pi, 0, sizeof(pi));
		pi[0].fd = ingest_wake_fd(ig);
		pi[0].events = ZMQ_POLLIN;
		pi[1].socket = router;
		pi[1].events = ingest_want_input(ig) ? ZMQ_POLLIN : 0;
		pi[2].socket = rsock;
		pi[2].events = rsock != NULL && ingest_want_input(ig) ?
		    ZMQ_POLLIN : 0;
		rc = zmq_poll(pi, rsock != NULL ? 3 : 2, tmo);
		if (rc < 0 && zmq_errno() != EINTR)
			fatalx("zmq_poll: %s", zmq_strerror(zmq_errno()));
		if (rc > 0 && (pi[0].revents & ZMQ_POLLIN))
			ingest_on_results(ig);
		if (rc > 0 && (pi[1].revents & ZMQ_POLLIN))
			ingest_on_router(ig);
		if (rc > 0 && (pi[2].revents & ZMQ_POLLIN))
			ingest_on_relay(ig);
		ingest_tick(ig);
		http_publish(http, ig);
		if (relay != NULL) {
			struct relay_stats rs;

			relay_get_stats(relay, &rs);
			http_publish_relay(http, &rs);
		}
		if (ztime_mono_us() >= next_stats) {
			log_stats("stats", ig, zap, store);
			log_relay(relay);
			log_analysis(an);
			next_stats = ztime_mono_us() +
			    conf.stats_interval_ms * 1000;
		}
	}
	log_info("shutting down: committing what is pending");
	http_stop(&http);
	analyzer_stop(&an);
	log_relay(relay);	/* its final counters (NULL: off) */
	/* requests in flight get 503 (or their answer, if drained first) */
	relay_stop(&relay);
	key_free(&key);
	ingest_drain(ig);
	log_stats("stats final", ig, zap, store);
	zmq_close(router);
	if (rsock != NULL)
		zmq_close(rsock);
	ingest_free(&ig);
	writer_free(&w);
	zap_stop(&zap);
	zmq_ctx_term(ctx);
	curl_global_cleanup();
	store_close(&store);
	ipasn_free(&asn);
	conf_free(aggr_conf_tab, &conf);
	log_info("stopped");
	return 0;
}
