/*
 * kernel.c — nftables table and iptables-nft queue chain (kernel.h).
 *
 * Layout of the table (docs/CENSOR.md explains why):
 *   chain pre  (forward, priority -10): flow marks (drop, rate limit),
 *              ip_drop, tcp_rst, udp_drop, tcp_freeze, loss — each rule
 *              with a counter and comment "zond:rN" (N = rule index).
 *   chain post (forward, priority +10, after iptables' FORWARD at 0 where
 *              NFQUEUE runs): copies a mark userspace set in its verdict
 *              into the conntrack mark, and drops the packet when the
 *              mark says so.
 * Child processes get argv arrays; only validated interface names and
 * our own numbers go into them.
 */
#include "kernel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define CMD_OUT_MAX (4 * 1024 * 1024)

bool
kernel_set_tag(struct kernel_opts *o, const char *isp)
{
	size_t i, n = strlen(isp);

	if (n == 0)
		return false;
	if (n > KERNEL_TAG_MAX)
		n = KERNEL_TAG_MAX;
	for (i = 0; i < n; i++) {
		char c = isp[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '_';
		o->tag[i] = c;
	}
	o->tag[n] = '\0';
	return true;
}

bool
kernel_ifname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= KERNEL_IF_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-' || c == '@'))
			return false;
	}
	return true;
}

static void
chain_name(const struct kernel_opts *o, char *buf, size_t len)
{
	snprintf(buf, len, "ZC_%s", o->tag);
}

static zerr_t
nft_rule(zbuf_t *b, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One rule line in chain pre: "\t\tBODY counter ... comment". */
static zerr_t
nft_rule(zbuf_t *b, size_t i, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(body))
		return ZE_TOOBIG;
	return zbuf_printf(b, "\t\t%s comment \"zond:r%zu\"\n", body, i);
}

/* "53, 100-200" */
static bool
port_list(const struct rule *r, char *ports, size_t len)
{
	size_t j, pl = 0;
	int n;

	ports[0] = '\0';
	for (j = 0; j < r->nports; j++) {
		if (r->ports[j].lo == r->ports[j].hi)
			n = snprintf(ports + pl, len - pl, "%s%u",
			    j ? ", " : "", r->ports[j].lo);
		else
			n = snprintf(ports + pl, len - pl, "%s%u-%u",
			    j ? ", " : "", r->ports[j].lo, r->ports[j].hi);
		if (n < 0 || (size_t)n >= len - pl)
			return false;
		pl += (size_t)n;
	}
	return true;
}

/* "ip daddr 203.0.113.0/24 " or "" for a rule without ip. */
static void
daddr_match(const struct rule *r, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	buf[0] = '\0';
	if (!r->has_ip)
		return;
	inet_ntop(AF_INET, &r->ip, ip, sizeof(ip));
	if (r->prefix < 32)
		snprintf(buf, len, "ip daddr %s/%u ", ip, r->prefix);
	else
		snprintf(buf, len, "ip daddr %s ", ip);
}

zerr_t
kernel_nft_script(const struct ruleset *rs, const struct kernel_opts *o,
    zbuf_t *b)
{
	char ip[INET_ADDRSTRLEN], ports[RULES_MAX_PORTS * 12 + 4], dst[40];
	const struct rule *r;
	size_t i;
	uint64_t rate, burst;
	zerr_t e = ZE_OK;

	/* Create-then-delete makes the script replace any leftover. */
	if ((e = zbuf_printf(b, "table inet zond_censor_%s {}\n"
	    "delete table inet zond_censor_%s\n"
	    "table inet zond_censor_%s {\n", o->tag, o->tag, o->tag)) != ZE_OK)
		return e;
	/* udp_cutoff after_s: each flow's 4-tuple goes into the rule's set
	 * on its first packet, with the set's timeout; the flow passes
	 * while it is there and is dropped once it expired. */
	for (i = 0; i < rs->n && e == ZE_OK; i++)
		if (rs->r[i].type == RT_UDP_CUTOFF && rs->r[i].after_s > 0)
			e = zbuf_printf(b, "\tset cut_r%zu {\n"
			    "\t\ttype ipv4_addr . inet_service . ipv4_addr . "
			    "inet_service\n"
			    "\t\tflags dynamic,timeout\n"
			    "\t\ttimeout %us\n"
			    "\t\tsize 65535\n"
			    "\t}\n", i, rs->r[i].after_s);
	if (e != ZE_OK || (e = zbuf_printf(b, "\tchain pre {\n"
	    "\t\ttype filter hook forward priority -10; policy accept;\n")) !=
	    ZE_OK)
		return e;
	if (o->lan[0] != '\0' && o->wan[0] != '\0' &&
	    (e = zbuf_printf(b, "\t\tiifname != { \"%s\", \"%s\" } accept\n",
	    o->lan, o->wan)) != ZE_OK)
		return e;
	/* Flow marks first: a marked flow's later packets end here. */
	for (i = 0; i < rs->n && e == ZE_OK; i++) {
		r = &rs->r[i];
		switch (r->type) {
		case RT_SNI_RST:
		case RT_SNI_DROP:
		case RT_HTTP_BLOCKPAGE:
		case RT_PROTO_DROP:
		case RT_QUIC_SNI:
		case RT_TLS_FINGERPRINT:
			e = nft_rule(b, i, "ct mark 0x%08x counter drop",
			    KMARK(KMARK_DROP, i));
			break;
		case RT_THROTTLE:
			rate = (uint64_t)r->kbps * 125;	/* bytes/s */
			burst = rate / 4 < 8000 ? 8000 : rate / 4;
			e = nft_rule(b, i, "ct mark 0x%08x limit rate over "
			    "%" PRIu64 " bytes/second burst %" PRIu64 " bytes "
			    "counter drop", KMARK(KMARK_THROTTLE, i), rate,
			    burst);
			break;
		default:
			break;
		}
	}
	for (i = 0; i < rs->n && e == ZE_OK; i++) {
		r = &rs->r[i];
		inet_ntop(AF_INET, &r->ip, ip, sizeof(ip));
		switch (r->type) {
		case RT_IP_DROP:
			if ((e = nft_rule(b, i, "ip saddr %s counter drop",
			    ip)) == ZE_OK)
				e = nft_rule(b, i, "ip daddr %s counter drop",
				    ip);
			break;
		case RT_TCP_RST:
			e = nft_rule(b, i, "ip daddr %s tcp dport %u counter "
			    "reject with tcp reset", ip, r->port);
			break;
		case RT_UDP_DROP:
		case RT_TCP_DROP:
			if (!port_list(r, ports, sizeof(ports)))
				return ZE_TOOBIG;
			daddr_match(r, dst, sizeof(dst));
			e = nft_rule(b, i, "%s%s dport { %s } counter drop",
			    dst, r->type == RT_TCP_DROP ? "tcp" : "udp", ports);
			break;
		case RT_UDP_CUTOFF:
			if (!port_list(r, ports, sizeof(ports)))
				return ZE_TOOBIG;
			daddr_match(r, dst, sizeof(dst));
			if (r->after_packets > 0) {
				/* the client's packets of the flow, this one
				 * included (conntrack accounting, which nft's
				 * ct packets turns on) */
				e = nft_rule(b, i, "%sudp dport { %s } ct "
				    "original packets > %u counter drop", dst,
				    ports, r->after_packets);
				break;
			}
			/* the flow's first packet (the count includes it)
			 * starts its clock */
			if ((e = nft_rule(b, i, "%sudp dport { %s } ct "
			    "original packets 1 add @cut_r%zu { ip saddr . "
			    "udp sport . ip daddr . udp dport }", dst, ports,
			    i)) == ZE_OK)
				e = nft_rule(b, i, "%sudp dport { %s } ip saddr "
				    ". udp sport . ip daddr . udp dport != "
				    "@cut_r%zu counter drop", dst, ports, i);
			break;
		case RT_TCP_FREEZE:
			if ((e = nft_rule(b, i, "ip saddr %s meta l4proto tcp "
			    "ct bytes > %" PRIu64 " counter drop", ip,
			    r->after_bytes)) == ZE_OK)
				e = nft_rule(b, i, "ip daddr %s meta l4proto "
				    "tcp ct bytes > %" PRIu64 " counter drop",
				    ip, r->after_bytes);
			break;
		default:
			break;
		}
	}
	/* Loss last, so its counter holds only what it alone dropped. */
	for (i = 0; i < rs->n && e == ZE_OK; i++)
		if (rs->r[i].type == RT_LOSS_PCT && rs->r[i].pct > 0)
			e = nft_rule(b, i, "numgen random mod 100 < %u counter "
			    "drop", rs->r[i].pct);
	if (e != ZE_OK)
		return e;
	return zbuf_printf(b, "\t}\n"
	    "\tchain post {\n"
	    "\t\ttype filter hook forward priority 10; policy accept;\n"
	    "\t\tmeta mark & 0x%08x == 0x%08x ct mark set meta mark\n"
	    "\t\tmeta mark & 0x%08x == 0x%08x drop\n"
	    "\t}\n"
	    "}\n", 0xff000000u, KMARK_BASE, KMARK_MASK, KMARK_DROP);
}

zerr_t
kernel_queue_rules(const struct ruleset *rs, const struct kernel_opts *o,
    zbuf_t *b)
{
	bool tls = false, http = false, dns = false, quic = false, wg = false,
	    ovpn = false, quic_sni = false, any = false;
	char q[64];
	size_t i;
	zerr_t e = ZE_OK;

	for (i = 0; i < rs->n; i++) {
		switch (rs->r[i].type) {
		case RT_SNI_RST:
		case RT_SNI_DROP:
		case RT_THROTTLE:
		case RT_TLS_FINGERPRINT:
			tls = true;
			break;
		case RT_QUIC_SNI:
			quic_sni = true;
			break;
		case RT_HTTP_BLOCKPAGE:
			http = true;
			break;
		case RT_DNS_HIJACK:
		case RT_DNS_NXDOMAIN:
		case RT_DNS_INJECT:
			dns = true;
			break;
		case RT_QUIC_V1_DROP:
			quic = true;
			break;
		case RT_PROTO_DROP:
			if (rs->r[i].proto == RP_WIREGUARD)
				wg = true;
			else
				ovpn = true;
			break;
		default:
			break;
		}
	}
	any = tls || http || dns || quic || wg || ovpn || quic_sni;
	if (!any)
		return ZE_OK;
	snprintf(q, sizeof(q), "-j NFQUEUE --queue-num %u --queue-bypass",
	    o->queue);
	/* Only client-to-world packets are read. */
	if (o->lan[0] != '\0')
		e = zbuf_printf(b, "! -i %s -j RETURN\n", o->lan);
	if (e == ZE_OK && o->wan[0] != '\0')
		e = zbuf_printf(b, "! -o %s -j RETURN\n", o->wan);
	/* The first packets with a payload of each flow: a ClientHello or
	 * an HTTP request is there (pure ACKs are at most 80 bytes). */
	/* TLS on any port (SNI filters key on the name, not the port):
	 * the u32 match reads the first payload byte, 0x16 = handshake */
	if (e == ZE_OK && tls)
		e = zbuf_printf(b, "-p tcp -m connbytes "
		    "--connbytes 0:8 --connbytes-dir original --connbytes-mode "
		    "packets -m length --length 81:65535 -m u32 --u32 "
		    "0>>22&0x3C@12>>26&0x3C@0>>24=0x16 %s\n", q);
	if (e == ZE_OK && http)
		e = zbuf_printf(b, "-p tcp --dport 80 -m connbytes "
		    "--connbytes 0:8 --connbytes-dir original --connbytes-mode "
		    "packets -m length --length 81:65535 %s\n", q);
	if (e == ZE_OK && dns)
		e = zbuf_printf(b, "-p udp --dport 53 %s\n", q);
	if (e == ZE_OK && quic)	/* 20 + 8 + 1001 */
		e = zbuf_printf(b, "-p udp --dport 443 -m length --length "
		    "1029:65535 %s\n", q);
	if (e == ZE_OK && quic_sni)	/* 20 + 8 + 1200, clients pad to it */
		e = zbuf_printf(b, "-p udp --dport 443 -m length --length "
		    "1228:65535 %s\n", q);
	if (e == ZE_OK && wg)	/* 20 + 8 + 148 */
		e = zbuf_printf(b, "-p udp -m length --length 176 %s\n", q);
	if (e == ZE_OK && ovpn)
		e = zbuf_printf(b, "-p udp -m connbytes --connbytes 0:2 "
		    "--connbytes-dir original --connbytes-mode packets "
		    "-m length --length 42:1428 %s\n"
		    "-p tcp -m connbytes --connbytes 0:6 --connbytes-dir "
		    "original --connbytes-mode packets -m length --length "
		    "56:1500 %s\n", q, q);
	return e;
}

void
kernel_parse_counters(const char *text, size_t len, uint64_t *counts,
    size_t n)
{
	const char *p = text, *end = text + len, *nl, *c, *k;
	char line[1024], *q;
	unsigned long long v, idx;
	size_t ll;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll >= sizeof(line))
			continue;
		memcpy(line, p, ll);
		line[ll] = '\0';
		if ((c = strstr(line, "comment \"zond:r")) == NULL ||
		    (k = strstr(line, "counter packets ")) == NULL)
			continue;
		errno = 0;
		idx = strtoull(c + 15, &q, 10);
		if (errno != 0 || q == c + 15 || *q != '"' || idx >= n)
			continue;
		errno = 0;
		v = strtoull(k + 16, &q, 10);
		if (errno != 0 || q == k + 16)
			continue;
		counts[idx] += v;
	}
}

/*
 * Run argv.  stdin_text (may be NULL) is written to the child's stdin;
 * its stdout goes to out when out is not NULL, else to /dev/null (stderr
 * too when quiet).  Returns the exit status, or -1.
 */
static int
run(char *const argv[], const char *stdin_text, size_t stdin_len,
    zbuf_t *out, bool quiet)
{
	int in[2] = {-1, -1}, op[2] = {-1, -1}, status, devnull;
	pid_t pid;
	char buf[4096];
	ssize_t r;
	size_t off = 0;

	if (stdin_text != NULL && pipe2(in, O_CLOEXEC) == -1)
		return -1;
	if (out != NULL && pipe2(op, O_CLOEXEC) == -1)
		goto fail;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (stdin_text != NULL)
			dup2(in[0], STDIN_FILENO);
		else if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		if (out != NULL)
			dup2(op[1], STDOUT_FILENO);
		else if (devnull != -1)
			dup2(devnull, STDOUT_FILENO);
		if (quiet && devnull != -1)
			dup2(devnull, STDERR_FILENO);
		execvp(argv[0], argv);
		if (strchr(argv[0], '/') == NULL) {	/* PATH without sbin */
			char alt[64];

			snprintf(alt, sizeof(alt), "/usr/sbin/%s", argv[0]);
			execv(alt, argv);
		}
		_exit(127);
	}
	if (stdin_text != NULL) {
		close(in[0]);
		in[0] = -1;
		while (off < stdin_len) {
			r = write(in[1], stdin_text + off, stdin_len - off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			off += (size_t)r;
		}
		close(in[1]);
		in[1] = -1;
	}
	if (out != NULL) {
		close(op[1]);
		op[1] = -1;
		for (;;) {
			r = read(op[0], buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			if (out->len + (size_t)r <= CMD_OUT_MAX &&
			    zbuf_append(out, buf, (size_t)r) != ZE_OK)
				break;
		}
		close(op[0]);
		op[0] = -1;
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
fail:
	if (in[0] != -1)
		close(in[0]);
	if (in[1] != -1)
		close(in[1]);
	if (op[0] != -1)
		close(op[0]);
	if (op[1] != -1)
		close(op[1]);
	return -1;
}

#define IPT_MAX_ARGS 40

/* iptables -w PREFIX... WORDS-OF-line; line is split on blanks. */
static int
ipt(const char *a1, const char *a2, const char *line, bool quiet)
{
	char copy[512], *argv[IPT_MAX_ARGS], *p;
	size_t n = 0;

	argv[n++] = (char *)"iptables";
	argv[n++] = (char *)"-w";
	argv[n++] = (char *)a1;
	if (a2 != NULL)
		argv[n++] = (char *)a2;
	if (line != NULL) {
		if (strlen(line) >= sizeof(copy))
			return -1;
		memcpy(copy, line, strlen(line) + 1);
		for (p = copy; *p != '\0';) {
			while (*p == ' ')
				*p++ = '\0';
			if (*p == '\0')
				break;
			if (n == IPT_MAX_ARGS - 1)
				return -1;
			argv[n++] = p;
			while (*p != '\0' && *p != ' ')
				p++;
		}
	}
	argv[n] = NULL;
	return run(argv, NULL, 0, NULL, quiet);
}

zerr_t
kernel_install(const struct ruleset *rs, const struct kernel_opts *o,
    zdiag_t *d)
{
	char chain[40], *nft[] = {"nft", "-f", "/dev/stdin", NULL};
	char line[512];
	const char *p, *nl;
	zbuf_t s, q;
	zerr_t e = ZE_OK;
	size_t ll;

	zbuf_init(&s, 1024 * 1024);
	zbuf_init(&q, 64 * 1024);
	chain_name(o, chain, sizeof(chain));
	if ((e = kernel_nft_script(rs, o, &s)) != ZE_OK ||
	    (e = kernel_queue_rules(rs, o, &q)) != ZE_OK) {
		zdiag_set(d, e, "ruleset too large");
		goto out;
	}
	kernel_remove(o);
	if (run(nft, (const char *)s.data, s.len, NULL, false) != 0) {
		e = zdiag_set(d, ZE_IO, "nft -f failed on the generated "
		    "table inet zond_censor_%s (see the message above)",
		    o->tag);
		goto out;
	}
	log_info("action=install what=nft table=inet/zond_censor_%s",
	    o->tag);
	if (q.len == 0)
		goto out;
	if (ipt("-N", chain, NULL, false) != 0) {
		e = zdiag_set(d, ZE_IO, "iptables -N %s failed", chain);
		goto out;
	}
	for (p = (const char *)q.data; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		ll = (size_t)(nl - p);
		if (ll >= sizeof(line)) {
			e = zdiag_set(d, ZE_TOOBIG, "iptables rule too long");
			goto out;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (ipt("-A", chain, line, false) != 0) {
			e = zdiag_set(d, ZE_IO, "iptables -A %s %s failed",
			    chain, line);
			goto out;
		}
	}
	/* Jump last, so no packet sees a half-built chain. */
	snprintf(line, sizeof(line), "1 -j %s", chain);
	if (ipt("-I", "FORWARD", line, false) != 0) {
		e = zdiag_set(d, ZE_IO, "iptables -I FORWARD -j %s failed",
		    chain);
		goto out;
	}
	log_info("action=install what=iptables chain=%s queue=%u", chain,
	    o->queue);
out:
	zbuf_free(&s);
	zbuf_free(&q);
	if (e != ZE_OK)
		kernel_remove(o);
	return e;
}

void
kernel_remove(const struct kernel_opts *o)
{
	char chain[40], table[64], jump[64];
	char *nft[] = {"nft", "delete", "table", "inet", table, NULL};
	int i;

	chain_name(o, chain, sizeof(chain));
	snprintf(table, sizeof(table), "zond_censor_%s", o->tag);
	snprintf(jump, sizeof(jump), "-j %s", chain);
	for (i = 0; i < 16; i++)
		if (ipt("-D", "FORWARD", jump, true) != 0)
			break;
	(void)ipt("-F", chain, NULL, true);
	(void)ipt("-X", chain, NULL, true);
	(void)run(nft, NULL, 0, NULL, true);
}

zerr_t
kernel_read_counters(const struct kernel_opts *o, uint64_t *counts, size_t n,
    zdiag_t *d)
{
	char table[64];
	char *nft[] = {"nft", "list", "table", "inet", table, NULL};
	zbuf_t out;
	zerr_t e = ZE_OK;

	snprintf(table, sizeof(table), "zond_censor_%s", o->tag);
	zbuf_init(&out, CMD_OUT_MAX);
	if (run(nft, NULL, 0, &out, false) != 0)
		e = zdiag_set(d, ZE_IO, "nft list table inet %s failed", table);
	else
		kernel_parse_counters((const char *)out.data, out.len, counts,
		    n);
	zbuf_free(&out);
	return e;
}
