/*
 * zond-agent — the measurement daemon volunteers run.
 *
 * main parses the command line, loads the config, the identity, the test
 * lists and the fingerprints, then either runs the list once (--once:
 * every measurement signed and printed as one JSON line, nothing stored
 * or sent) or runs the daemon loop (agent.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "enroll.h"
#include "fingerprint.h"
#include "json.h"
#include "log.h"
#include "measure.h"
#include "notice.h"
#include "probe.h"
#include "scheduler.h"
#include "targets.h"

#define PROG "zond-agent"


static void
env_from_conf(const struct agent_conf *c, const struct fpdb *fp,
    probe_env_t *env)
{
	memset(env, 0, sizeof(*env));
	env->timeout_ms = c->timeout_ms;
	env->resolver = *c->resolver ? c->resolver : NULL;
	env->doh_url = *c->doh_url ? c->doh_url : NULL;
	env->ca_file = *c->ca_file ? c->ca_file : NULL;
	env->fp = fp;
	env->dns_window_ms = c->dns_window_ms;
	env->body_cap = c->body_cap;
	env->answer_check = c->answer_check;
	env->helper = *c->helper ? c->helper : NULL;
	env->call_ms = c->call_ms;
	env->call_user = c->call_user;
	env->call_password = c->call_password;
	env->call_max_ttl = (int)c->call_max_ttl;
}

/* --once: run every target once, print each signed measurement. */
static int
run_once(const struct agent_conf *c, const zkey_t *k, const targets_t *t,
    const probe_env_t *env, const struct sched_opts *so)
{
	struct measure_ctx mc = {.key = k, .resolver = env->resolver};
	zidgen_t ids;
	sched_t *s = NULL;
	zbuf_t body, line;
	uint64_t seq = 0;
	size_t done = 0;
	int rc = 0;

	(void)c;
	zidgen_init(&ids);
	mc.ids = &ids;
	if (sched_new(so, t, env, &s) != ZE_OK) {
		log_warnx("cannot start the scheduler's threads");
		return 1;
	}
	zbuf_init(&body, WIRE_MAX_MEASUREMENT);
	zbuf_init(&line, 4 * WIRE_MAX_MEASUREMENT);
	sched_run_all(s);
	while (done < t->n) {
		struct pollfd p = {.fd = sched_fd(s), .events = POLLIN};
		sched_result_t *r;
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		while ((r = sched_pop(s)) != NULL) {
			uint8_t sig[KEY_SIG_LEN];
			wire_meas_t *m = NULL;
			struct json_meas_extra x = {0};
			zdiag_t d;

			done++;
			zbuf_reset(&body);
			zbuf_reset(&line);
			if (measure_seal(&mc, &t->v[r->target], r, ++seq, &body,
			    sig) != ZE_OK ||
			    wire_meas_decode(body.data, body.len, &m, &d) !=
			    ZE_OK) {
				log_warnx("target=%s: cannot encode the "
				    "measurement", t->v[r->target].req.target);
				rc = 1;
				sched_result_free(r);
				continue;
			}
			x.body = body.data;
			x.body_len = body.len;
			x.sig = sig;
			if (json_measurement(&line, m, &x) == ZE_OK) {
				fwrite(line.data, 1, line.len, stdout);
				fputc('\n', stdout);
				fflush(stdout);
			}
			wire_meas_free(m);
			sched_result_free(r);
		}
		if (sched_busy(s) == 0 && done < t->n) {
			/* a result was lost (logged by the worker) */
			struct pollfd q = {.fd = sched_fd(s), .events = POLLIN};
			if (poll(&q, 1, 100) == 0) {
				rc = 1;
				break;
			}
		}
	}
	sched_free(&s);
	zbuf_free(&body);
	zbuf_free(&line);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct agent_conf conf;
	struct sched_opts so;
	struct fpdb *fp = NULL;
	probe_env_t env;
	targets_t t;
	zkey_t *k = NULL;
	zdiag_t d;
	int rc;

	/* --notice needs nothing: volunteers read it before enrolling */
	if (argc == 2 && strcmp(argv[1], "--notice") == 0) {
		fputs(volunteer_notice(), stdout);
		return 0;
	}
	cli_crypto_init(PROG);
	/* before any probe thread exists: curl_global_init is not
	 * thread-safe */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "%s: libcurl failed to initialise\n", PROG);
		return 1;
	}
	if (agent_enroll_wanted(argc, argv)) {
		/* zond-agent --enroll TOKEN [--accept-risk] [-c CONFIG] */
		rc = agent_enroll_main(argc, argv);
		curl_global_cleanup();
		return rc;
	}
	rc = cli_parse(argc, argv, PROG,
	    "Runs Zond's reachability tests on a schedule, signs each result\n"
	    "and sends it to the aggregator.  `zond-agent --notice` prints\n"
	    "what a volunteer takes on (docs/VOLUNTEERS.md).\n"
	    "Enrolling with an operator's token (writes the config, creates the\n"
	    "key): zond-agent --enroll TOKEN [--accept-risk] [-c FILE]",
	    "/etc/zond/agent.conf",
	    agent_conf_tab, true, &a);
	if (rc >= 0)
		return rc;
	log_init(PROG, a.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!cli_load_config(agent_conf_tab, &conf, a.config, a.check))
		return 1;
	if (!a.verbose)
		log_setlevel(strcmp(conf.log_level, "debug") == 0 ?
		    LOG_LVL_DEBUG : strcmp(conf.log_level, "warn") == 0 ?
		    LOG_LVL_WARN : LOG_LVL_INFO);
	targets_init(&t);
	rc = 1;
	if (targets_load(&t, conf.endpoints, conf.urls, &d) != ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		goto out;
	}
	if (*conf.fingerprints != '\0' &&
	    fpdb_load(conf.fingerprints, &fp, &d) != ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		goto out;
	}
	if (a.check) {
		printf("test lists: %zu tests\n", t.n);
		rc = 0;
		goto out;
	}
	if (!a.once) {
		/* first start: create the identity, owned by [agent] user
		 * when root switches to it (docs/PROTOCOL.md "Keys") */
		long uid = -1, gid = -1;
		int created = 0;

		agent_user_ids(conf.user, &uid, &gid);
		if (key_load_or_create(conf.key, uid, gid, &k, &created, &d)
		    != ZE_OK) {
			fprintf(stderr, "%s\n", d.text);
			goto out;
		}
		if (created) {
			char hex[KEY_HEX_LEN + 1];

			key_public_hex(k, hex);
			log_info("created a new identity key=%s agent=%s",
			    conf.key, hex);
		}
	} else if (key_load(conf.key, &k, &d) != ZE_OK) {
		/* a dry run may sign with a throwaway key */
		log_warnx("%s; --once signs with a throwaway key", d.text);
		if (key_generate(&k) != ZE_OK)
			goto out;
	}
	env_from_conf(&conf, fp, &env);
	memset(&so, 0, sizeof(so));
	so.interval_ms = conf.interval_ms;
	so.jitter_ms = conf.jitter_ms;
	so.retry_delay_ms = conf.retry_delay_ms;
	so.concurrency = (int)conf.concurrency;
	so.retries = (int)conf.retries;
	so.helper = *conf.helper ? conf.helper : NULL;
	so.locate = conf.locate;
	so.locate_max_ttl = (unsigned)conf.locate_max_ttl;
	so.locate_interval_ms = conf.locate_interval_ms;
	so.locate_per_hour = (int)conf.locate_per_hour;
	if (a.once)
		rc = run_once(&conf, k, &t, &env, &so);
	else
		rc = agent_daemon(&conf, k, &t, &env, &so);
out:
	key_free(&k);
	fpdb_free(&fp);
	targets_free(&t);
	conf_free(agent_conf_tab, &conf);
	curl_global_cleanup();
	return rc;
}
