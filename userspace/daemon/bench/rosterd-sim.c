// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd-sim: a crowd of simulated gateways for the manager fan-out
 * benchmark (scripts/bench-fanout). Not a test and not installed.
 *
 * One process stands in for thousands of gateways: simulated gateway i
 * has the control-tunnel address BASE + i and one UDP socket bound to
 * BASE+i:control-port (the bench routes BASE/17 locally in the
 * simulator's netns, and one WireGuard peer on the manager's rctl0 carries
 * the whole range), so the manager sees N distinct, enrolled gateways.
 * Each socket has its own rd_link from the daemon's rel.c and messages go
 * through the daemon's proto.c: ACKs, duplicate windows, retransmission
 * and the wire format are the manager's own, and follow its changes.
 *
 * Subcommands:
 *   gateways BASE COUNT VPN          the manager's "gateways" state file
 *   populate NETNS BASE COUNT VPN    join BASE..BASE+COUNT-1 straight into
 *                                    roster.ko (plain joins, no member set),
 *                                    before the manager starts: it then loads
 *                                    them with a dump and sends nothing
 *   echo ADDR PORT IFNAME            echo every datagram back (the floor)
 *   run [options]                    the measurement, see usage()
 *
 * Identities are derived from the index (key, endpoint, site prefix), so
 * the subcommands agree without sharing files. The keys are never used
 * for cryptography: only the simulator's one WireGuard peer is real.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "util.h"
#include "proto.h"
#include "rel.h"
#include "netif.h"
#include "store.h"

/* ---- identities ----------------------------------------------------- */

static uint32_t base_host;	/* BASE in host order */

static struct roster_addr id_addr(uint32_t i)
{
	struct roster_addr a = { .family = AF_INET };
	uint32_t be = htonl(base_host + i);

	memcpy(a.addr, &be, 4);
	return a;
}

/* Index of a simulated id, or -1. */
static long id_index(const struct roster_addr *a, uint32_t count)
{
	uint32_t be, h;

	if (a->family != AF_INET)
		return -1;
	memcpy(&be, a->addr, 4);
	h = ntohl(be);
	if (h < base_host || h - base_host >= count)
		return -1;
	return (long)(h - base_host);
}

static void id_key(uint32_t i, uint8_t key[32])
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);

	/* Distinct, non-zero and deterministic; splitmix64 per 8 bytes. */
	for (int k = 0; k < 4; k++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(key + 8 * k, &z, 8);
	}
}

/* The member a simulated gateway becomes: endpoint 198.18.x.y:51820 and one
 * /24 site prefix in 100.64.0.0/10 (room for 16384 gateways). */
static void id_member(uint32_t i, struct roster_member *m)
{
	uint32_t ep = htonl(0xc6120000u + i), pfx = htonl(0x64400000u + (i << 8));

	memset(m, 0, sizeof(*m));
	m->id = id_addr(i);
	id_key(i, m->key);
	m->has_key = true;
	m->has_endpoint = true;
	m->endpoint.family = AF_INET;
	memcpy(m->endpoint.addr, &ep, 4);
	m->port = 51820;
	m->n_prefixes = 1;
	m->prefixes[0].addr.family = AF_INET;
	memcpy(m->prefixes[0].addr.addr, &pfx, 4);
	m->prefixes[0].len = 24;
}

static int parse_base(const char *s)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1) {
		fprintf(stderr, "rosterd-sim: bad IPv4 base address %s\n", s);
		return -1;
	}
	base_host = ntohl(in.s_addr);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long meminfo_kb(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t len = strlen(field);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* ---- gateways, populate, echo ----------------------------------------- */

static int cmd_gateways(uint32_t count, uint32_t vpn)
{
	/* state.c's format: "ID PUBKEY VPN[,VPN...]". */
	printf("# rosterd gateways: %u simulated by rosterd-sim\n", count);
	for (uint32_t i = 0; i < count; i++) {
		struct roster_addr a = id_addr(i);
		uint8_t key[32];
		char b64[45];

		id_key(i, key);
		rd_key_b64(key, b64);
		printf("%s %s %u\n", rd_ntop(&a), b64, vpn);
	}
	return fflush(stdout) ? 1 : 0;
}

static int cmd_populate(const char *netns, uint32_t count, uint32_t vpn)
{
	struct roster_handle *h;
	struct roster_member m;
	long before, after;
	double t0, t;
	int err;

	err = roster_open_netns(netns, &h);
	if (err) {
		fprintf(stderr, "rosterd-sim: roster_open_netns %s: %s\n", netns, strerror(-err));
		return 1;
	}
	err = roster_vpn_add(h, vpn, NULL);
	if (err && err != -EEXIST) {
		fprintf(stderr, "rosterd-sim: vpn add: %s\n", roster_strerror_ext(h, err));
		return 1;
	}
	/* Let the deferred frees of earlier phases settle (as bench.c does). */
	sleep(1);
	before = meminfo_kb("Slab");
	t0 = now_s();
	for (uint32_t i = 0; i < count; i++) {
		id_member(i, &m);
		err = roster_member_add(h, vpn, &m, 0, 0, NULL);
		if (err) {
			fprintf(stderr, "rosterd-sim: join %u: %s\n", i, roster_strerror_ext(h, err));
			return 1;
		}
	}
	t = now_s() - t0;
	sleep(1);
	after = meminfo_kb("Slab");
	printf("populate_members %u\npopulate_s %.3f\nslab_kb_before %ld\nslab_kb_after %ld\n",
	       count, t, before, after);
	roster_close(h);
	return 0;
}

/* The manager's store gets exactly the kernel's VPN, so that a manager
 * starting on both has nothing to reconcile and sends nothing. */
static int cmd_store_from_kernel(const char *netns, const char *dir, uint32_t vpn)
{
	struct roster_member_set *set = NULL;
	struct roster_handle *h;
	struct roster_vpn v;
	struct rd_store *st;
	char err[256];
	size_t n = 0;
	int ret;

	ret = roster_open_netns(netns, &h);
	if (!ret)
		ret = roster_vpn_get(h, vpn, &v);
	if (!ret)
		ret = roster_member_list(h, vpn, &set, &n);
	if (ret || n != 1) {
		fprintf(stderr, "rosterd-sim: dump vpn %u: %s\n", vpn, strerror(ret ? -ret : ENOENT));
		return 1;
	}
	ret = rd_store_open(dir, &st, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "rosterd-sim: %s\n", err);
		return 1;
	}
	struct rd_store_change c = {
		.op = RD_STORE_VPN_REPLACE, .vpn = vpn, .prev_gen = RD_STORE_ANY_GEN,
		.gen = set[0].generation, .vpn_flags = v.flags, .members = set[0].members,
		.n = set[0].count,
	};
	ret = rd_store_commit(st, &c);
	if (ret)
		fprintf(stderr, "rosterd-sim: store: %s\n", rd_store_errmsg(st));
	printf("store_members %u\nstore_generation %llu\n", set[0].count,
	       (unsigned long long)set[0].generation);
	rd_store_close(st);
	roster_member_sets_free(set, n);
	roster_close(h);
	return ret ? 1 : 0;
}

static int cmd_echo(const char *addr, uint16_t port, const char *ifname)
{
	struct roster_addr a;
	int fd;

	if (roster_addr_parse(addr, &a)) {
		fprintf(stderr, "rosterd-sim: bad address %s\n", addr);
		return 2;
	}
	fd = rd_udp_socket(&a, port, ifname);
	if (fd < 0) {
		fprintf(stderr, "rosterd-sim: echo socket: %s\n", strerror(-fd));
		return 1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t buf[2048];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return 1;
		while ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) >= 0) {
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
			fl = sizeof(from);
		}
	}
}

/* ---- run ------------------------------------------------------------ */

struct sim_gw {
	int fd;
	struct rd_link link;
	struct rd_peer *mgr;
	/* as a joiner */
	double t_req, t_join_last, t_notify_last;
	uint32_t notifies;		/* distinct NOTIFYs announcing this gateway */
	uint16_t nparts;
	uint32_t parts, join_total, join_members;
	bool joined_err;
};

static struct sim {
	uint32_t members, joins, burst, total;	/* total = members + joins + burst */
	uint32_t vpn;
	struct sockaddr_storage mgr_sa;
	socklen_t mgr_salen;
	uint16_t mgr_port, floor_port;
	struct sim_gw *gw;
	int ep;
	/* counters */
	uint64_t rx[__RD_TYPE_MAX], dup[__RD_TYPE_MAX];
	uint64_t stray, bad, stale, floor_rx;
	double floor_last, last_rx;
	/* joiners whose JOIN_REQ may still need retransmission */
	uint32_t *active;
	unsigned int nactive;
} S;

static void on_rx(struct sim_gw *g, const uint8_t *buf, size_t len, const struct sockaddr *from)
{
	struct roster_addr src;
	uint16_t port;
	struct rd_msg msg;
	const char *why;
	double now = now_s();
	int verdict;

	if (rd_from_sockaddr(from, &src, &port)) {
		S.stray++;
		return;
	}
	if (port == S.floor_port) {
		S.floor_rx++;
		S.floor_last = now;
		return;
	}
	if (port != S.mgr_port) {
		S.stray++;
		return;
	}
	S.last_rx = now;
	if (rd_msg_decode(buf, len, &msg, &why)) {
		S.bad++;
		fprintf(stderr, "rosterd-sim: malformed message: %s\n", why);
		return;
	}
	if (msg.type == RD_ACK) {
		rd_acked(&g->link, g->mgr, msg.ack);
		goto out;
	}
	/* As a gateway does: drop what an earlier manager session sent,
	 * ACK everything else, duplicates too. */
	verdict = rd_window_check(&g->mgr->win, msg.session, msg.seq);
	if (verdict == RD_WIN_STALE) {
		S.stale++;
		goto out;
	}
	rd_send_ack(&g->link, g->mgr, msg.seq);
	if (verdict == RD_WIN_DUP) {
		S.dup[msg.type]++;
		goto out;
	}
	S.rx[msg.type]++;
	switch (msg.type) {
	case RD_NOTIFY: {
		long j = msg.n_members ? id_index(&msg.members[0].id, S.total) : -1;

		if (j >= 0) {
			S.gw[j].notifies++;
			S.gw[j].t_notify_last = now;
		}
		break;
	}
	case RD_JOIN:
		g->nparts = msg.nparts;
		g->join_total = msg.total;
		g->parts++;
		g->join_members += msg.n_members;
		g->t_join_last = now;
		break;
	case RD_ERROR:
		g->joined_err = true;
		fprintf(stderr, "rosterd-sim: ERROR %u from the manager: %s\n", msg.err, msg.text);
		break;
	default:
		break;
	}
out:
	rd_msg_release(&msg);
}

/* Everything queued on the sockets epoll reported ready. */
static void rx_ready(const struct epoll_event *ev, int n)
{
	for (int k = 0; k < n; k++) {
		struct sim_gw *g = &S.gw[ev[k].data.u32];
		_Alignas(8) uint8_t buf[2048];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t len;

		while ((len = recvfrom(g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
				       &fl)) >= 0) {
			on_rx(g, buf, (size_t)len, (struct sockaddr *)&from);
			fl = sizeof(from);
		}
	}
}

/* Receive and answer for up to timeout seconds or until done() says so.
 * Returns true if done() became true. quiet > 0: done() must also have
 * held while nothing arrived for quiet seconds (retransmissions settle). */
static bool pump(double timeout, bool (*done)(void), double quiet)
{
	double end = now_s() + timeout;
	struct epoll_event ev[256];

	for (;;) {
		double now = now_s();
		int64_t nowms = rd_now_ms();
		int wait_ms = 50, n;

		if (done() && (quiet <= 0 || now - S.last_rx >= quiet))
			return true;
		if (now >= end)
			return false;
		for (unsigned int i = 0; i < S.nactive; i++) {
			int t = rd_tick(&S.gw[S.active[i]].link, nowms);

			if (t >= 0 && t < wait_ms)
				wait_ms = t;
		}
		n = epoll_wait(S.ep, ev, 256, wait_ms);
		rx_ready(ev, n);
	}
}

static uint32_t cur;		/* the single joiner being measured */
static uint32_t cur_expect;
static uint32_t burst_first;
static uint64_t burst_expect;

static bool join_complete(const struct sim_gw *g)
{
	return g->joined_err || (g->nparts && g->parts >= g->nparts);
}

static bool single_done(void)
{
	const struct sim_gw *g = &S.gw[cur];

	return join_complete(g) && (g->joined_err || g->notifies >= cur_expect);
}

static bool burst_done(void)
{
	uint64_t got = 0;

	for (uint32_t i = burst_first; i < burst_first + S.burst; i++) {
		if (!join_complete(&S.gw[i]))
			return false;
		got += S.gw[i].notifies;
	}
	return got >= burst_expect;
}

static bool always(void)
{
	return true;
}

static void send_join_req(uint32_t i)
{
	struct sim_gw *g = &S.gw[i];
	struct roster_member m;
	struct rd_msg req = { .type = RD_JOIN_REQ, .has_vpn = true, .vpn = S.vpn };

	id_member(i, &m);
	req.has_endpoint = true;
	req.endpoint = m.endpoint;
	req.port = m.port;
	req.n_prefixes = m.n_prefixes;
	memcpy(req.prefixes, m.prefixes, sizeof(req.prefixes));
	g->t_req = now_s();
	if (rd_send(&g->link, g->mgr, &req))
		fprintf(stderr, "rosterd-sim: JOIN_REQ encode failed\n");
	S.active[S.nactive++] = i;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n]. */
static double pct(const double *v, unsigned int n, double p)
{
	unsigned int r = (unsigned int)(p / 100.0 * n + 0.999999);

	if (!n)
		return 0;
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

/* Floor: every member socket sends one NOTIFY-sized datagram to the echo
 * server next to the manager (same rctl0, same tunnel) and receives it
 * back: N datagrams each way, as one fan-out (N NOTIFYs out, N ACKs
 * back), with at most window of them in flight so the tunnel's queues
 * (1024 packets) do not drop. */
static double floor_run(uint32_t n, unsigned int window, uint64_t *lost)
{
	struct sockaddr_storage sa = S.mgr_sa;
	uint8_t payload[160];
	uint32_t sent = 0;
	uint64_t base = S.floor_rx, written_off = 0;
	double t0 = now_s(), last_progress = t0;
	struct epoll_event ev[256];

	memset(payload, 0x5a, sizeof(payload));
	((struct sockaddr_in *)&sa)->sin_port = htons(S.floor_port);
	for (;;) {
		uint64_t got = S.floor_rx - base;
		int k;

		if (got >= n)
			break;
		while (sent < n && sent - got - written_off < window) {
			if (sendto(S.gw[sent % S.members].fd, payload, sizeof(payload), 0,
				   (struct sockaddr *)&sa, S.mgr_salen) < 0)
				break;
			sent++;
		}
		k = epoll_wait(S.ep, ev, 256, 100);
		rx_ready(ev, k);
		if (S.floor_rx - base != got) {
			last_progress = now_s();
		} else if (now_s() - last_progress > 2.0) {
			/* Nothing for 2 s: what is in flight is lost. */
			if (sent == n)
				break;
			written_off = sent - got;
			last_progress = now_s();
		}
	}
	*lost = n - (S.floor_rx - base);
	return (S.floor_last > t0 ? S.floor_last : now_s()) - t0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rosterd-sim gateways BASE COUNT VPN\n"
		"       rosterd-sim populate NETNS BASE COUNT VPN\n"
		"       rosterd-sim store-from-kernel NETNS STATE_DIR VPN\n"
		"       rosterd-sim echo ADDR PORT IFNAME\n"
		"       rosterd-sim run --base ADDR --members N [--joins J] [--burst B]\n"
		"                       [--manager ADDR] [--port P] [--vpn V] [--floor-port P]\n"
		"                       [--join-timeout S] [--quiet S] [--retry-ms MS]\n"
		"  run: gateways BASE..BASE+N-1 are already members (populate); each of\n"
		"  J more sends JOIN_REQ alone (fan-out time each), then B at once\n"
		"  (joins/s). Prints \"key value\" lines.\n");
	exit(2);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "members", required_argument, NULL, 'n' },
		{ "joins", required_argument, NULL, 'j' },
		{ "burst", required_argument, NULL, 'B' },
		{ "manager", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "vpn", required_argument, NULL, 'v' },
		{ "floor-port", required_argument, NULL, 'f' },
		{ "join-timeout", required_argument, NULL, 't' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "retry-ms", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ 0 },
	};
	const char *mgr = "10.255.0.1";
	double join_timeout = 120, quiet = 1.0;
	int retry_ms = 500, c;
	unsigned int window = 128;
	struct roster_addr ma;
	struct rlimit rl;
	double *fan, *tj, t0, tb;
	uint64_t msgs = 0, msgs_min = 0, dup_before, floor_lost;
	uint32_t ok = 0;

	S.joins = 20;
	S.burst = 20;
	S.vpn = 7;
	S.mgr_port = 851;
	S.floor_port = 5101;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': if (parse_base(optarg)) return 2; break;
		case 'n': S.members = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'j': S.joins = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'B': S.burst = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': mgr = optarg; break;
		case 'p': S.mgr_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'v': S.vpn = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'f': S.floor_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 't': join_timeout = strtod(optarg, NULL); break;
		case 'q': quiet = strtod(optarg, NULL); break;
		case 'r': retry_ms = (int)strtol(optarg, NULL, 10); break;
		case 'w': window = (unsigned int)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!base_host || !S.members || roster_addr_parse(mgr, &ma) || ma.family != AF_INET)
		usage();
	S.total = S.members + S.joins + S.burst;
	S.mgr_salen = rd_sockaddr(&ma, S.mgr_port, &S.mgr_sa);
	/* One socket per simulated gateway. */
	rl.rlim_cur = rl.rlim_max = S.total + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fprintf(stderr, "rosterd-sim: RLIMIT_NOFILE %u: %s\n", S.total + 64, strerror(errno));
	S.gw = calloc(S.total, sizeof(*S.gw));
	S.active = calloc(S.joins + S.burst + 1, sizeof(*S.active));
	fan = calloc(S.joins + 1, sizeof(*fan));
	tj = calloc(S.joins + 1, sizeof(*tj));
	S.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!S.gw || !S.active || !fan || !tj || S.ep < 0) {
		fprintf(stderr, "rosterd-sim: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < S.total; i++) {
		struct sim_gw *g = &S.gw[i];
		struct roster_addr a = id_addr(i);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		/* rd_udp_socket sets IP_FREEBIND; the addresses are local
		 * through the bench's "local BASE/17 dev lo" route. */
		g->fd = rd_udp_socket(&a, S.mgr_port, NULL);
		if (g->fd < 0) {
			fprintf(stderr, "rosterd-sim: socket for %s: %s\n", rd_ntop(&a),
				strerror(-g->fd));
			return 1;
		}
		if (i >= S.members) {
			/* A joiner receives the whole member list (up to 128
			 * parts in flight): room for them. */
			int sz = 8 << 20;

			setsockopt(g->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
		}
		rd_link_init(&g->link, g->fd, retry_ms, 8, NULL);
		g->mgr = rd_peer_get(&g->link, (struct sockaddr *)&S.mgr_sa, S.mgr_salen, true);
		if (!g->mgr || epoll_ctl(S.ep, EPOLL_CTL_ADD, g->fd, &ev)) {
			fprintf(stderr, "rosterd-sim: setup: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("sockets %u\n", S.total);
	fflush(stdout);

	/* The floor first, while the manager is idle. */
	{
		double t = floor_run(S.members, window, &floor_lost);

		printf("floor_n %u\nfloor_s %.6f\nfloor_lost %llu\nfloor_window %u\n", S.members, t,
		       (unsigned long long)floor_lost, window);
		fflush(stdout);
	}

	/* Single joins, one at a time. */
	for (uint32_t j = 0; j < S.joins; j++) {
		struct sim_gw *g;
		bool done;

		cur = S.members + j;
		cur_expect = S.members + j;	/* every member so far, all enrolled */
		g = &S.gw[cur];
		dup_before = 0;
		for (int t = 0; t < __RD_TYPE_MAX; t++)
			dup_before += S.dup[t];
		send_join_req(cur);
		done = pump(join_timeout, single_done, 0);
		fan[ok] = g->t_notify_last - g->t_req;
		tj[ok] = g->t_join_last - g->t_req;
		printf("join %u members %u done %d join_s %.6f fanout_s %.6f notifies %u expect %u "
		       "parts %u/%u total %u\n", j, cur_expect, done, tj[ok], fan[ok], g->notifies,
		       cur_expect, g->parts, g->nparts, g->join_total);
		fflush(stdout);
		if (done && !g->joined_err) {
			msgs += g->notifies + g->parts;
			/* the least a manager can send: one NOTIFY per
			 * member and the list, in as few parts as fit */
			msgs_min += cur_expect + g->nparts;
			ok++;
		}
		/* Let retransmissions (lost ACKs) die down before the next. */
		pump(join_timeout, always, quiet);
		{
			uint64_t d = 0;

			for (int t = 0; t < __RD_TYPE_MAX; t++)
				d += S.dup[t];
			printf("join %u dups %llu\n", j, (unsigned long long)(d - dup_before));
		}
	}
	S.nactive = 0;

	/* A burst of B joins at once. */
	if (S.burst) {
		uint64_t m0 = S.members + S.joins, got = 0, parts = 0;
		double end = 0;
		bool done;

		burst_first = S.members + S.joins;
		burst_expect = S.burst * m0 + (uint64_t)S.burst * (S.burst - 1) / 2;
		t0 = now_s();
		for (uint32_t i = 0; i < S.burst; i++)
			send_join_req(burst_first + i);
		done = pump(join_timeout * S.burst, burst_done, 0);
		for (uint32_t i = burst_first; i < burst_first + S.burst; i++) {
			struct sim_gw *g = &S.gw[i];

			got += g->notifies;
			parts += g->parts;
			if (g->t_notify_last > end)
				end = g->t_notify_last;
			if (g->t_join_last > end)
				end = g->t_join_last;
		}
		tb = (end > t0 ? end : now_s()) - t0;
		printf("burst_n %u\nburst_done %d\nburst_s %.6f\nburst_notifies %llu\n"
		       "burst_expect %llu\nburst_parts %llu\n", S.burst, done, tb,
		       (unsigned long long)got, (unsigned long long)burst_expect,
		       (unsigned long long)parts);
		pump(join_timeout, always, quiet);
	}

	qsort(fan, ok, sizeof(*fan), cmp_double);
	qsort(tj, ok, sizeof(*tj), cmp_double);
	printf("joins_ok %u\nfanout_median_s %.6f\nfanout_p99_s %.6f\nfanout_max_s %.6f\n"
	       "join_median_s %.6f\nmsgs_per_join %.1f\nmsgs_min_per_join %.1f\n", ok, pct(fan, ok, 50),
	       pct(fan, ok, 99), ok ? fan[ok - 1] : 0, pct(tj, ok, 50), ok ? (double)msgs / ok : 0,
	       ok ? (double)msgs_min / ok : 0);
	for (int t = 1; t < __RD_TYPE_MAX; t++)
		if (S.rx[t] || S.dup[t])
			printf("rx_%s %llu\ndup_%s %llu\n", rd_type_name((unsigned int)t),
			       (unsigned long long)S.rx[t], rd_type_name((unsigned int)t),
			       (unsigned long long)S.dup[t]);
	printf("stray %llu\nmalformed %llu\nstale %llu\n", (unsigned long long)S.stray,
	       (unsigned long long)S.bad, (unsigned long long)S.stale);
	return 0;
}

int main(int argc, char **argv)
{
	rd_log_init("sim");
	/* rel.c warns on every give-up: keep those, drop debug. */
	rd_log_level = RD_LOG_WARN;
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "gateways") && argc == 5) {
		if (parse_base(argv[2]))
			return 2;
		return cmd_gateways((uint32_t)strtoul(argv[3], NULL, 10),
				    (uint32_t)strtoul(argv[4], NULL, 10));
	}
	if (!strcmp(argv[1], "populate") && argc == 6) {
		if (parse_base(argv[3]))
			return 2;
		return cmd_populate(argv[2], (uint32_t)strtoul(argv[4], NULL, 10),
				    (uint32_t)strtoul(argv[5], NULL, 10));
	}
	if (!strcmp(argv[1], "store-from-kernel") && argc == 5)
		return cmd_store_from_kernel(argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 10));
	if (!strcmp(argv[1], "echo") && argc == 5)
		return cmd_echo(argv[2], (uint16_t)strtoul(argv[3], NULL, 10), argv[4]);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	usage();
	return 2;
}
