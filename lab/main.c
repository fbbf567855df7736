/*
 * zond-censor — the lab's emulated ISP censor.  Runs inside an ISP's
 * router namespace: reads the ISP's rules file, installs what the kernel
 * can do (nftables table, iptables-nft NFQUEUE chain) and does the rest in
 * userspace over NFQUEUE.  docs/CENSOR.md is the reference.
 *
 * Lifecycle: parse rules -> remove leftovers of the same ISP tag -> open
 * the queue -> install -> log "event=ready" -> serve until SIGTERM/SIGINT
 * -> print counts -> remove everything installed.  SIGUSR1 prints the
 * counts at any time.  Counts go to stdout as one "count ..." line per
 * rule; actions and events go to stderr (log.h), key=value.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kernel.h"
#include "log.h"
#include "queue.h"
#include "rules.h"

#define PROG "zond-censor"

static volatile sig_atomic_t want_stop, want_dump;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_dump = 1;
	else
		want_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s -r RULES --isp NAME [--lan IF] [--wan IF] [-q NUM] [-v]\n"
	    "       %s -r RULES -n [--print]\n"
	    "       %s --cleanup --isp NAME\n"
	    "\n"
	    "Emulate an ISP's censorship in this router's network namespace.\n"
	    "\n"
	    "  -r, --rules FILE  the ISP's rules, one per line (docs/CENSOR.md)\n"
	    "      --isp NAME    ISP name; names the nft table zond_censor_NAME\n"
	    "      --lan IF      interface facing the clients (queue only its "
	    "packets)\n"
	    "      --wan IF      interface facing the world\n"
	    "  -q, --queue NUM   NFQUEUE number, unique per router (default 0)\n"
	    "  -n                check the rules file and exit\n"
	    "      --print       with -n: print the nft script and queue rules\n"
	    "      --cleanup     remove what a previous run of --isp NAME left\n"
	    "  -v                more logging (debug)\n"
	    "  -h, --help, -V, --version\n", PROG, PROG, PROG);
}

static void
print_counts(const struct ruleset *rs, const uint64_t *user,
    const struct kernel_opts *ko)
{
	uint64_t *k;
	char spec[512];
	zdiag_t d;
	size_t i;

	if ((k = calloc(rs->n + 1, sizeof(*k))) == NULL)
		return;
	if (kernel_read_counters(ko, k, rs->n, &d) != ZE_OK)
		log_warnx("counts: %s", d.text);
	for (i = 0; i < rs->n; i++) {
		rules_format(&rs->r[i], spec, sizeof(spec));
		printf("count rule=%zu line=%d type=%s matches=%" PRIu64
		    " userspace=%" PRIu64 " kernel=%" PRIu64 " spec=\"%s\"\n",
		    i, rs->r[i].line, rules_type_name(rs->r[i].type),
		    user[i] + k[i], user[i], k[i], spec);
	}
	fflush(stdout);
	free(k);
}

static bool
needs_queue(const struct ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rules_type_userspace(rs->r[i].type))
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"rules", required_argument, NULL, 'r'},
		{"isp", required_argument, NULL, 'I'},
		{"name", required_argument, NULL, 'I'},	/* aliases */
		{"lan", required_argument, NULL, 'L'},
		{"in", required_argument, NULL, 'L'},
		{"wan", required_argument, NULL, 'W'},
		{"out", required_argument, NULL, 'W'},
		{"queue", required_argument, NULL, 'q'},
		{"print", no_argument, NULL, 'P'},
		{"cleanup", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct kernel_opts ko;
	struct ruleset *rs = NULL;
	struct sigaction sa;
	const char *rules = NULL, *isp = NULL;
	bool check = false, print = false, cleanup = false, installed = false;
	uint64_t *hits = NULL;
	int64_t qnum = 0;
	int ch, verbose = 0, rc = 1;
	cq_t *q = NULL;
	zdiag_t d;
	zbuf_t b;

	memset(&ko, 0, sizeof(ko));
	while ((ch = getopt_long(argc, argv, "r:q:nvhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			rules = optarg;
			break;
		case 'I':
			isp = optarg;
			break;
		case 'L':
		case 'W':
			if (!kernel_ifname_ok(optarg)) {
				fprintf(stderr, "%s: bad interface name '%s'\n",
				    PROG, optarg);
				return 2;
			}
			snprintf(ch == 'L' ? ko.lan : ko.wan, KERNEL_IF_MAX,
			    "%s", optarg);
			break;
		case 'q':
			if (conf_parse_int(optarg, &qnum) != ZE_OK ||
			    qnum < 0 || qnum > 65535) {
				fprintf(stderr, "%s: queue '%s' is not in "
				    "0..65535\n", PROG, optarg);
				return 2;
			}
			break;
		case 'n':
			check = true;
			break;
		case 'P':
			print = true;
			break;
		case 'C':
			cleanup = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_version(PROG);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(PROG, verbose > 0 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	ko.queue = (unsigned)qnum;
	if (isp != NULL && !kernel_set_tag(&ko, isp)) {
		fprintf(stderr, "%s: empty --isp name\n", PROG);
		return 2;
	}
	if (cleanup) {
		if (isp == NULL) {
			fprintf(stderr, "%s: --cleanup needs --isp NAME\n",
			    PROG);
			return 2;
		}
		kernel_remove(&ko);
		log_info("action=cleanup table=inet/zond_censor_%s", ko.tag);
		return 0;
	}
	if (rules == NULL) {
		usage(stderr);
		return 2;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		fatalx("out of memory");
	if (rules_load(rules, rs, &d) != ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		goto out;
	}
	if (check) {
		printf("%s: %zu rules OK\n", rules, rs->n);
		if (print) {
			if (isp == NULL)
				(void)kernel_set_tag(&ko, "isp");
			zbuf_init(&b, 1024 * 1024);
			if (kernel_nft_script(rs, &ko, &b) == ZE_OK)
				printf("# nft -f -\n%s",
				    b.len ? (char *)b.data : "");
			zbuf_reset(&b);
			if (kernel_queue_rules(rs, &ko, &b) == ZE_OK)
				printf("# iptables -A ZC_%s ...\n%s", ko.tag,
				    b.len ? (char *)b.data : "");
			zbuf_free(&b);
		}
		rc = 0;
		goto out;
	}
	if (isp == NULL) {
		fprintf(stderr, "%s: --isp NAME is required\n", PROG);
		rc = 2;
		goto out;
	}
	if ((hits = calloc(rs->n + 1, sizeof(*hits))) == NULL)
		fatalx("out of memory");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (needs_queue(rs) && cq_open(ko.queue, rs, hits, &q, &d) != ZE_OK) {
		log_warnx("%s", d.text);
		goto out;
	}
	if (kernel_install(rs, &ko, &d) != ZE_OK) {
		log_warnx("%s", d.text);
		goto out;
	}
	installed = true;
	log_info("event=ready isp=%s rules=%zu queue=%s lan=%s wan=%s",
	    ko.tag, rs->n, q != NULL ? "on" : "off",
	    ko.lan[0] ? ko.lan : "any", ko.wan[0] ? ko.wan : "any");

	while (!want_stop) {
		struct pollfd pfd = {.fd = q != NULL ? cq_fd(q) : -1,
		    .events = POLLIN};

		if (want_dump) {
			want_dump = 0;
			print_counts(rs, hits, &ko);
		}
		if (poll(&pfd, 1, 500) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		if (q != NULL && (pfd.revents & POLLIN))
			cq_service(q);
	}
	rc = 0;
out:
	if (installed) {
		print_counts(rs, hits, &ko);
		kernel_remove(&ko);
		log_info("event=stopped isp=%s removed=inet/zond_censor_%s",
		    ko.tag, ko.tag);
	}
	cq_free(&q);
	free(hits);
	free(rs);
	return rc;
}
