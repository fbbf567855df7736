/*
 * censor.c — per-packet decisions (censor.h).
 *
 * What each userspace rule does to the packet that matches it:
 *   sni_rst         RST to the client (seq = the client's ack, so it is
 *                   exactly in window) and to the server; the ClientHello
 *                   and the rest of the flow are dropped (mark DROP).
 *   sni_drop        ClientHello and the rest of the flow dropped.
 *   throttle        ClientHello passes; the flow gets mark THROTTLE.
 *   http_blockpage  a 200 blockpage with FIN to the client, RST to the
 *                   server, the request and the rest of the flow dropped.
 *   dns_hijack      forged answer A = answer; the query is dropped.
 *   dns_nxdomain    forged NXDOMAIN; the query is dropped.
 *   dns_inject      forged answer sent first; the query passes, so the
 *                   real answer follows.
 *   quic_v1_drop    the datagram is dropped.
 *   quic_sni        a version-1 Initial (UDP to 443, >= 1200 bytes) whose
 *                   ClientHello, decrypted with the initial secrets
 *                   (lib/quic.c), names the SNI: the datagram and the
 *                   rest of the flow are dropped (mark DROP).
 *   tls_fingerprint a ClientHello with the SNI and of the rule's shape
 *                   (lib/tlshello.c): it and the rest of the flow are
 *                   dropped (mark DROP); other shapes pass.
 *   proto_drop      the datagram is dropped; a TCP-framed OpenVPN reset
 *                   drops its flow.
 * Names match exactly or as a subdomain (rules_name_match).
 */
#include "censor.h"

#include <string.h>

#include "kernel.h"
#include "quic.h"
#include "tlshello.h"

static void
inject_tcp(struct censor_decision *d, struct in_addr src, struct in_addr dst,
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *data, size_t dlen)
{
	size_t n;

	if (d->ninject == CENSOR_MAX_INJECT)
		return;
	n = forge_tcp(d->inject[d->ninject].buf, FORGE_MAX, src, dst, sport,
	    dport, seq, ack, flags, data, dlen);
	if (n == 0)
		return;
	d->inject[d->ninject].dst = dst;
	d->inject[d->ninject].len = n;
	d->ninject++;
}

static void
inject_dns(struct censor_decision *d, const struct pkt *k,
    const struct dns_q *q, unsigned rcode, const struct in_addr *a)
{
	uint8_t msg[FORGE_MAX];
	size_t n;

	if (d->ninject == CENSOR_MAX_INJECT)
		return;
	n = forge_dns_answer(msg, sizeof(msg) - 28, k->payload, q, rcode, a);
	if (n == 0)
		return;
	n = forge_udp(d->inject[d->ninject].buf, FORGE_MAX, k->dst, k->src,
	    k->dport, k->sport, msg, n);
	if (n == 0)
		return;
	d->inject[d->ninject].dst = k->src;
	d->inject[d->ninject].len = n;
	d->ninject++;
}

/* RST to the client, as if from the server, and RST to the server, as if
 * from the client.  Without an ACK the client's next sequence number is
 * unknown, so the client gets none. */
static void
reset_both(struct censor_decision *d, const struct pkt *k)
{
	if (k->tcp_flags & TCPF_ACK)
		inject_tcp(d, k->dst, k->src, k->dport, k->sport, k->ack,
		    k->seq + (uint32_t)k->plen, TCPF_RST | TCPF_ACK, NULL, 0);
	inject_tcp(d, k->src, k->dst, k->sport, k->dport, k->seq, 0, TCPF_RST,
	    NULL, 0);
}

static bool
tls_rules(const struct ruleset *rs, const struct pkt *k,
    struct censor_decision *d)
{
	size_t i;
	int shape = -1;		/* the hello's, once a rule needs it;
				 * -2: it does not parse */

	if (!pkt_tls_sni(k->payload, k->plen, d->name, sizeof(d->name)))
		return false;
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->r[i];

		if ((r->type != RT_SNI_RST && r->type != RT_SNI_DROP &&
		    r->type != RT_THROTTLE && r->type != RT_TLS_FINGERPRINT) ||
		    !rules_name_match(r->name, d->name))
			continue;
		if (r->type == RT_TLS_FINGERPRINT) {
			if (shape == -1) {
				tls_hello_t h;
				zdiag_t ignore;

				shape = tls_hello_parse_record(k->payload,
				    k->plen, &h, &ignore) == ZE_OK ?
				    (int)tls_hello_shape(&h) : -2;
			}
			if (shape != r->shape)
				continue;
		}
		d->rule = (int)i;
		if (r->type == RT_THROTTLE) {
			d->mark = KMARK(KMARK_THROTTLE, i);
			return true;
		}
		if (r->type == RT_SNI_RST)
			reset_both(d, k);
		d->mark = KMARK(KMARK_DROP, i);
		return true;
	}
	return false;
}

static bool
http_rules(const struct ruleset *rs, const struct pkt *k,
    struct censor_decision *d)
{
	char page[1024];
	size_t i, n;

	if (!pkt_http_host(k->payload, k->plen, d->name, sizeof(d->name)))
		return false;
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->r[i];

		if (r->type != RT_HTTP_BLOCKPAGE ||
		    !rules_name_match(r->name, d->name))
			continue;
		d->rule = (int)i;
		d->mark = KMARK(KMARK_DROP, i);
		if ((k->tcp_flags & TCPF_ACK) &&
		    (n = forge_blockpage(page, sizeof(page), d->name)) > 0)
			inject_tcp(d, k->dst, k->src, k->dport, k->sport,
			    k->ack, k->seq + (uint32_t)k->plen,
			    TCPF_ACK | TCPF_PSH | TCPF_FIN,
			    (const uint8_t *)page, n);
		inject_tcp(d, k->src, k->dst, k->sport, k->dport, k->seq, 0,
		    TCPF_RST, NULL, 0);
		return true;
	}
	return false;
}

static bool
dns_rules(const struct ruleset *rs, const struct pkt *k,
    struct censor_decision *d)
{
	struct dns_q q;
	size_t i;

	if (!pkt_dns_query(k->payload, k->plen, &q))
		return false;
	memcpy(d->name, q.name, sizeof(d->name));
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->r[i];

		if ((r->type != RT_DNS_HIJACK && r->type != RT_DNS_NXDOMAIN &&
		    r->type != RT_DNS_INJECT) ||
		    !rules_name_match(r->name, q.name))
			continue;
		d->rule = (int)i;
		switch (r->type) {
		case RT_DNS_HIJACK:
			inject_dns(d, k, &q, 0, &r->answer);
			d->verdict = CV_DROP;
			break;
		case RT_DNS_NXDOMAIN:
			inject_dns(d, k, &q, 3, NULL);
			d->verdict = CV_DROP;
			break;
		default:	/* dns_inject */
			inject_dns(d, k, &q, 0, &r->answer);
			break;
		}
		return true;
	}
	return false;
}

/* First proto_drop/quic_v1_drop rule that fits the payload's shape. */
static bool
shape_rules(const struct ruleset *rs, const struct pkt *k,
    struct censor_decision *d)
{
	bool tcp = k->proto == IPPROTO_TCP;
	int sni = 1;		/* quic_initial_sni's result, once needed */
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->r[i];
		bool hit = false;

		if (r->type == RT_QUIC_V1_DROP)
			hit = !tcp && k->dport == 443 &&
			    pkt_quic_v1_big(k->payload, k->plen);
		else if (r->type == RT_QUIC_SNI && !tcp && k->dport == 443 &&
		    k->plen >= QUIC_INITIAL_MIN) {
			if (sni == 1)
				sni = quic_initial_sni(k->payload, k->plen,
				    d->name, sizeof(d->name));
			hit = sni == 0 && rules_name_match(r->name, d->name);
		}
		else if (r->type == RT_PROTO_DROP && r->proto == RP_WIREGUARD)
			hit = !tcp && pkt_wireguard_init(k->payload, k->plen);
		else if (r->type == RT_PROTO_DROP && r->proto == RP_OPENVPN)
			hit = pkt_openvpn_reset(k->payload, k->plen, tcp);
		if (!hit)
			continue;
		d->rule = (int)i;
		if (tcp || r->type == RT_QUIC_SNI)	/* the flow too */
			d->mark = KMARK(KMARK_DROP, i);
		else
			d->verdict = CV_DROP;
		return true;
	}
	if (sni != 0)
		d->name[0] = '\0';
	return false;
}

void
censor_decide(const struct ruleset *rs, const uint8_t *p, size_t len,
    struct censor_decision *d)
{
	struct pkt *k = &d->pkt;

	d->verdict = CV_ACCEPT;
	d->mark = 0;
	d->rule = -1;
	d->name[0] = '\0';
	d->ninject = 0;
	if (!pkt_parse(p, len, k) || k->frag || k->plen == 0)
		return;
	if (k->proto == IPPROTO_TCP) {
		if (k->tcp_flags & (TCPF_SYN | TCPF_RST))
			return;
		if (k->payload[0] == 0x16 && tls_rules(rs, k, d))
			return;
		if (k->dport == 80 && http_rules(rs, k, d))
			return;
		d->name[0] = '\0';
		(void)shape_rules(rs, k, d);
	} else if (k->proto == IPPROTO_UDP) {
		if (k->dport == 53 && dns_rules(rs, k, d))
			return;
		d->name[0] = '\0';
		(void)shape_rules(rs, k, d);
	}
}
