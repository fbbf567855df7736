/*
 * queue.c — NFQUEUE loop (queue.h) over libnetfilter_queue.
 *
 * The queue is opened fail-open (a full queue lets packets through rather
 * than dropping them) and copies whole packets.  Forged packets go out
 * before the verdict, so an injected DNS answer is on the wire before the
 * real query leaves the router.  Every queued packet gets exactly one
 * verdict.
 */
#include "queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include "censor.h"
#include "log.h"

#define QUEUE_MAXLEN	4096
#define RECV_BUF	(0xffff + 4096)

struct cq {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	int fd;
	int raw;
	const struct ruleset *rs;
	uint64_t *hits;
	struct censor_decision dec;
	uint8_t buf[RECV_BUF];
};

static void
send_injected(cq_t *q, const struct censor_decision *d)
{
	struct sockaddr_in sin;
	size_t i;

	for (i = 0; i < d->ninject; i++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr = d->inject[i].dst;
		if (sendto(q->raw, d->inject[i].buf, d->inject[i].len, 0,
		    (struct sockaddr *)&sin, sizeof(sin)) == -1)
			log_warn("action=inject_failed len=%zu",
			    d->inject[i].len);
	}
}

static void
log_action(const cq_t *q, const struct censor_decision *d)
{
	const struct rule *r = &q->rs->r[d->rule];
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &d->pkt.src, src, sizeof(src));
	inet_ntop(AF_INET, &d->pkt.dst, dst, sizeof(dst));
	log_info("action=%s rule=%d line=%d proto=%s src=%s:%u dst=%s:%u "
	    "name=%s verdict=%s mark=0x%08x injected=%zu",
	    rules_type_name(r->type), d->rule, r->line,
	    d->pkt.proto == IPPROTO_TCP ? "tcp" : "udp", src, d->pkt.sport,
	    dst, d->pkt.dport, d->name[0] ? d->name : "-",
	    d->verdict == CV_DROP ? "drop" : "accept", d->mark, d->ninject);
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
    void *arg)
{
	cq_t *q = arg;
	struct nfqnl_msg_packet_hdr *ph;
	struct censor_decision *d = &q->dec;
	unsigned char *data = NULL;
	uint32_t id;
	int len;

	if ((ph = nfq_get_msg_packet_hdr(nfa)) == NULL)
		return 0;
	id = ntohl(ph->packet_id);
	len = nfq_get_payload(nfa, &data);
	if (len <= 0 || data == NULL) {
		nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
		return 0;
	}
	censor_decide(q->rs, data, (size_t)len, d);
	if (d->rule < 0) {
		log_debug("action=pass len=%d proto=%u dport=%u name=%s", len,
		    d->pkt.proto, d->pkt.dport, d->name[0] ? d->name : "-");
		nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
		return 0;
	}
	q->hits[d->rule]++;
	send_injected(q, d);
	log_action(q, d);
	if (d->verdict == CV_DROP)
		nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	else if (d->mark != 0)
		nfq_set_verdict2(qh, id, NF_ACCEPT, d->mark, 0, NULL);
	else
		nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	return 0;
}

zerr_t
cq_open(unsigned num, const struct ruleset *rs, uint64_t *hits, cq_t **out,
    zdiag_t *d)
{
	cq_t *q;
	int one = 1, rcv = 4 * 1024 * 1024;
	zerr_t e;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	q->fd = q->raw = -1;
	q->rs = rs;
	q->hits = hits;
	if ((q->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) ==
	    -1) {
		e = zdiag_set(d, ZE_IO, "raw socket: %s", strerror(errno));
		goto fail;
	}
	(void)setsockopt(q->raw, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	if ((q->h = nfq_open()) == NULL) {
		e = zdiag_set(d, ZE_IO, "nfq_open: %s", strerror(errno));
		goto fail;
	}
	/* Needed on old kernels only; harmless elsewhere. */
	(void)nfq_bind_pf(q->h, AF_INET);
	if ((q->qh = nfq_create_queue(q->h, (uint16_t)num, on_packet, q)) ==
	    NULL) {
		e = zdiag_set(d, ZE_IO, "NFQUEUE %u: cannot bind (%s); is "
		    "another process on it?", num, strerror(errno));
		goto fail;
	}
	if (nfq_set_mode(q->qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		e = zdiag_set(d, ZE_IO, "nfq_set_mode: %s", strerror(errno));
		goto fail;
	}
	(void)nfq_set_queue_maxlen(q->qh, QUEUE_MAXLEN);
	if (nfq_set_queue_flags(q->qh, NFQA_CFG_F_FAIL_OPEN,
	    NFQA_CFG_F_FAIL_OPEN) < 0)
		log_warnx("NFQUEUE %u: fail-open not supported", num);
	q->fd = nfq_fd(q->h);
	(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	if (fcntl(q->fd, F_SETFL, fcntl(q->fd, F_GETFL) | O_NONBLOCK) == -1) {
		e = zdiag_set(d, ZE_IO, "fcntl: %s", strerror(errno));
		goto fail;
	}
	*out = q;
	return ZE_OK;
fail:
	cq_free(&q);
	return e;
}

int
cq_fd(const cq_t *q)
{
	return q->fd;
}

void
cq_service(cq_t *q)
{
	ssize_t n;
	int i;

	for (i = 0; i < 256; i++) {
		n = recv(q->fd, q->buf, sizeof(q->buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				log_warnx("NFQUEUE: socket overrun, packets "
				    "lost to the queue");
				continue;
			}
			return;	/* EAGAIN or a real error: poll again */
		}
		if (n == 0)
			return;
		(void)nfq_handle_packet(q->h, (char *)q->buf, (int)n);
	}
}

void
cq_free(cq_t **qp)
{
	cq_t *q;

	if (qp == NULL || (q = *qp) == NULL)
		return;
	if (q->qh != NULL)
		nfq_destroy_queue(q->qh);
	if (q->h != NULL)
		nfq_close(q->h);
	if (q->raw != -1)
		close(q->raw);
	free(q);
	*qp = NULL;
}
