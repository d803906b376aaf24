// SPDX-License-Identifier: GPL-2.0-or-later
/* roster-bench: roster.ko through libroster, every figure next to a no-op
 * generic netlink request (CTRL_CMD_GETFAMILY for "roster", the floor)
 * measured in the same run, interleaved with the operation so that a change
 * in the machine's load hits both sides of each ratio alike. Run as root
 * with roster.ko loaded, ideally in a fresh netns (scripts/bench-kmod):
 *
 *   roster-bench [-n NETNS] [-s SIZES] [-i ITERS] [-a STAMPED] [-r RESTORE]
 *                [-w BATCH] [-j FILE]
 *
 *   -s  VPN sizes for JOIN and LEAVE, comma-separated (default 10,1000,100000)
 *   -i  JOIN+LEAVE pairs per size (default 2000)
 *   -a  stamped joins applied in order to a follower VPN (default 10000)
 *   -r  members restored into one VPN, also the memory figure (default 100000)
 *   -w  requests per sendmsg() when pipelining (default 64)
 *   -j  append one JSON object per figure to FILE (scripts/bench-all)
 *
 * Figures:
 *   JOIN, LEAVE   one member in and out of a VPN of each size, one request
 *                 and its reply at a time (roster_member_add/del); floor:
 *                 roster_ping() before each pair. Target 1.5x at every size:
 *                 a reply carries no member list, and the table's work is
 *                 O(log N).
 *   stamped       roster_member_add() stamped current + 1, in order, into a
 *                 follower VPN (how one table follows another); same floor.
 *   restore       VPN_NEW stamped G, then MEMBER_JOIN stamped G with resync,
 *                 join-generation and join-time for every member, BATCH
 *                 requests per sendmsg() and their replies read after each
 *                 batch; floor: the same batches of CTRL_CMD_GETFAMILY,
 *                 alternating with them.
 *   memory        Slab in /proc/meminfo before and after the restore.
 *
 * Times are medians of the per-operation (per-batch) samples. Populating
 * the VPNs of -s is pipelined like the restore and not measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/roster.h>

#include "roster.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

#define BENCH_MSG_MAX 512	/* bytes per pipelined request, at most */
#define BENCH_RCVBUF (64 * 1024 * 1024)

static FILE *json;
static const char *json_path;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), dcmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Member i < 2^20: id 10.a.b.c (i's three bytes), endpoint 192.0.2.x:51820
 * and one /24 of its own, (100 + a).b.c.0/24, so that no two overlap. */
static void make_member(struct roster_member *m, uint32_t i)
{
	memset(m, 0, sizeof(*m));
	m->id.family = AF_INET;
	m->id.addr[0] = 10;
	m->id.addr[1] = (uint8_t)(i >> 16);
	m->id.addr[2] = (uint8_t)(i >> 8);
	m->id.addr[3] = (uint8_t)i;
	memset(m->key, 0x42, sizeof(m->key));
	memcpy(m->key, &i, sizeof(i));
	m->has_key = true;
	m->has_endpoint = true;
	m->endpoint.family = AF_INET;
	m->endpoint.addr[0] = 192;
	m->endpoint.addr[2] = 2;
	m->endpoint.addr[3] = (uint8_t)i;
	m->port = 51820;
	m->n_prefixes = 1;
	m->prefixes[0].addr.family = AF_INET;
	m->prefixes[0].addr.addr[0] = (uint8_t)(100 + (i >> 16));
	m->prefixes[0].addr.addr[1] = (uint8_t)(i >> 8);
	m->prefixes[0].addr.addr[2] = (uint8_t)i;
	m->prefixes[0].len = 24;
}

static void die(struct roster_handle *h, const char *what, int err)
{
	fprintf(stderr, "roster-bench: %s: %s\n", what,
		h ? roster_strerror_ext(h, err) : strerror(-err));
	exit(1);
}

static long slab_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long slab = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %ld kB", &slab) == 1)
			break;
	}
	fclose(f);
	return slab;
}

/*
 * One figure: a row of the table and, with -j, one JSON object in the form
 * scripts/bench-all collects. value and floor in µs; target 0 = none.
 */
static void figure(const char *name, double value, double floor, const char *floor_name,
		   double target, long n)
{
	double ratio = value / floor;
	char t[16] = "-";

	if (target > 0)
		snprintf(t, sizeof(t), "<= %.1fx", target);
	printf("%-44s %10.1f us %10.1f us %7.2fx  %s\n", name, value, floor, ratio, t);
	fflush(stdout);
	if (!json)
		return;
	fprintf(json, "{\"bench\": \"kmod\", \"figure\": \"%s\", \"value\": %.1f, \"unit\": \"us\", "
		"\"bound\": %.1f, \"bound_name\": \"%s\", \"ratio\": %.2f, \"target\": ",
		name, value, floor, floor_name, ratio);
	if (target > 0)
		fprintf(json, "%.1f", target);
	else
		fprintf(json, "null");
	fprintf(json, ", \"n\": %ld}\n", n);
	fflush(json);
}

/* ---- pipelined requests on a socket of our own ------------------------ */

struct pipe {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t family;
	uint32_t seq;
	char *tx;
	size_t txlen, txcap;
	unsigned int queued;
	char rx[64 * 1024];
};

static void pipe_open(struct pipe *p, uint16_t family, unsigned int batch)
{
	int one = 1, rcvbuf = BENCH_RCVBUF;

	memset(p, 0, sizeof(*p));
	p->family = family;
	p->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!p->nl || mnl_socket_bind(p->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die(NULL, "netlink socket", -errno);
	p->portid = mnl_socket_get_portid(p->nl);
	mnl_socket_setsockopt(p->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* a batch's replies must fit, or the kernel drops them */
	if (setsockopt(mnl_socket_get_fd(p->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(p->nl), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	p->txcap = (size_t)batch * BENCH_MSG_MAX;
	p->tx = malloc(p->txcap);
	if (!p->tx)
		die(NULL, "malloc", -ENOMEM);
}

static void pipe_close(struct pipe *p)
{
	mnl_socket_close(p->nl);
	free(p->tx);
}

/* A request without NLM_F_ACK: it gets exactly one message back, its reply
 * or an NLMSG_ERROR. */
static struct nlmsghdr *pipe_put(struct pipe *p, uint16_t type, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	if (p->txcap - p->txlen < BENCH_MSG_MAX)
		die(NULL, "pipelined batch too large", -E2BIG);
	memset(p->tx + p->txlen, 0, BENCH_MSG_MAX);
	nlh = mnl_nlmsg_put_header(p->tx + p->txlen);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++p->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static void pipe_end(struct pipe *p, struct nlmsghdr *nlh)
{
	p->txlen += NLMSG_ALIGN(nlh->nlmsg_len);
	p->queued++;
}

static void pipe_ping(struct pipe *p)
{
	struct nlmsghdr *nlh = pipe_put(p, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ROSTER_FAMILY_NAME);
	pipe_end(p, nlh);
}

static void put_ipv4(struct nlmsghdr *nlh, uint16_t type, const struct roster_addr *a)
{
	uint32_t v;

	memcpy(&v, a->addr, 4);	/* network byte order already */
	mnl_attr_put_u32(nlh, type, v);
}

/* MEMBER_JOIN of an IPv4 member from make_member(); stamp 0: unstamped. */
static void pipe_join(struct pipe *p, uint32_t vpn, const struct roster_member *m,
		      uint64_t stamp, uint32_t flags)
{
	struct nlmsghdr *nlh = pipe_put(p, p->family, ROSTER_CMD_MEMBER_JOIN,
					ROSTER_FAMILY_VERSION);
	struct nlattr *mb, *pf;

	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn);
	if (stamp)
		mnl_attr_put_u64(nlh, ROSTER_A_GENERATION, stamp);
	if (flags)
		mnl_attr_put_u32(nlh, ROSTER_A_FLAGS, flags);
	mb = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	put_ipv4(nlh, ROSTER_A_MEMBER_ID_IPV4, &m->id);
	mnl_attr_put(nlh, ROSTER_A_MEMBER_PUBLIC_KEY, ROSTER_KEY_LEN, m->key);
	put_ipv4(nlh, ROSTER_A_MEMBER_ENDPOINT_IPV4, &m->endpoint);
	mnl_attr_put_u16(nlh, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port);
	pf = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER_PREFIX);
	put_ipv4(nlh, ROSTER_A_PREFIX_IPV4, &m->prefixes[0].addr);
	mnl_attr_put_u8(nlh, ROSTER_A_PREFIX_LEN, m->prefixes[0].len);
	mnl_attr_nest_end(nlh, pf);
	if (m->join_time)
		mnl_attr_put_u64(nlh, ROSTER_A_MEMBER_JOIN_TIME, m->join_time);
	if (m->join_generation)
		mnl_attr_put_u64(nlh, ROSTER_A_MEMBER_JOIN_GENERATION, m->join_generation);
	mnl_attr_nest_end(nlh, mb);
	pipe_end(p, nlh);
}

static const char *nlerr_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

/* Send the queued requests in one sendmsg() and read one message back for
 * each; any error ends the benchmark. */
static void pipe_flush(struct pipe *p)
{
	unsigned int want = p->queued, got = 0;
	int fd = mnl_socket_get_fd(p->nl);

	if (send(fd, p->tx, p->txlen, 0) < 0)
		die(NULL, "send", -errno);
	while (got < want) {
		ssize_t n = recv(fd, p->rx, sizeof(p->rx), 0);
		const struct nlmsghdr *nlh = (const void *)p->rx;
		int left = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(NULL, "recv (pipelined replies)", -errno);
		}
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				const char *msg = nlerr_msg(nlh);

				if (e->error) {
					fprintf(stderr, "roster-bench: pipelined request %u: %s%s%s\n",
						nlh->nlmsg_seq, strerror(-e->error),
						msg ? ": " : "", msg ? msg : "");
					exit(1);
				}
			}
			got++;
		}
	}
	p->txlen = 0;
	p->queued = 0;
}

/* Fill VPN vpn with members 0..n-1, unstamped, not measured. */
static void populate(struct pipe *p, uint32_t vpn, uint32_t n, unsigned int batch)
{
	struct roster_member m;
	uint32_t i;

	for (i = 0; i < n; i++) {
		make_member(&m, i);
		pipe_join(p, vpn, &m, 0, 0);
		if (p->queued == batch || i + 1 == n)
			pipe_flush(p);
	}
}

static void enter_netns(const char *name)
{
	char path[4096];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "roster-bench: netns %s: %s\n", name, strerror(errno));
		exit(1);
	}
	close(fd);
}

static void ping(struct roster_handle *h, double *t)
{
	double t0 = now();
	int err = roster_ping(h);

	*t = now() - t0;
	if (err)
		die(h, "getfamily", err);
}

int main(int argc, char **argv)
{
	const char *netns = NULL, *sizes = "10,1000,100000";
	long iters = 2000, stamped = 10000, restore = 100000, batch = 64;
	double *tp, *tj, *tl, floor_alone;
	struct roster_handle *h;
	struct roster_change chg;
	struct roster_member m;
	char *list, *tok, *save = NULL, name[64];
	struct pipe p;
	int opt, err;
	long i, n;

	while ((opt = getopt(argc, argv, "n:s:i:a:r:w:j:")) != -1) {
		switch (opt) {
		case 'n': netns = optarg; break;
		case 's': sizes = optarg; break;
		case 'i': iters = atol(optarg); break;
		case 'a': stamped = atol(optarg); break;
		case 'r': restore = atol(optarg); break;
		case 'w': batch = atol(optarg); break;
		case 'j': json_path = optarg; break;
		default:
			fprintf(stderr, "usage: roster-bench [-n NETNS] [-s SIZES] [-i ITERS] [-a STAMPED] [-r RESTORE] [-w BATCH] [-j FILE]\n");
			return 2;
		}
	}
	if (iters < 1 || batch < 1 || batch > 1024 || stamped < 0 || restore < 0) {
		fprintf(stderr, "roster-bench: bad -i, -a, -r or -w\n");
		return 2;
	}
	if (json_path) {
		json = fopen(json_path, "a");
		if (!json) {
			fprintf(stderr, "roster-bench: %s: %s\n", json_path, strerror(errno));
			return 1;
		}
	}
	if (netns)
		enter_netns(netns);
	err = roster_open(&h);
	if (err)
		die(NULL, "open", err);
	pipe_open(&p, roster_family_id(h), (unsigned int)batch);

	n = iters > stamped ? iters : stamped;
	if (n < 2000)
		n = 2000;
	tp = calloc((size_t)n, sizeof(*tp));
	tj = calloc((size_t)n, sizeof(*tj));
	tl = calloc((size_t)n, sizeof(*tl));
	if (!tp || !tj || !tl)
		die(NULL, "calloc", -ENOMEM);

	/* The floor alone, for the record; the ratios use the interleaved one. */
	for (i = 0; i < 2000; i++)
		ping(h, &tp[i]);
	floor_alone = median(tp, 2000) * 1e6;
	printf("%-44s %13s %13s %8s  %s\n", "figure", "value", "floor", "ratio", "target");
	printf("%-44s %10.1f us %13s %8s  %s\n", "genetlink no-op (floor, alone)", floor_alone,
	       "-", "-", "-");
	fflush(stdout);

	/* JOIN and LEAVE of one member into VPNs of each size. */
	list = strdup(sizes);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t size = (uint32_t)atol(tok), vpn = 1000000 + size;
		double t0 = now(), t;

		populate(&p, vpn, size, (unsigned int)batch);
		printf("# populating a VPN of %u members: %.1f s, pipelined\n", size, now() - t0);
		make_member(&m, 0xffff0);	/* outside the others' ids and prefixes */
		for (i = 0; i < iters; i++) {
			ping(h, &tp[i]);
			t = now();
			err = roster_member_add(h, vpn, &m, 0, 0, &chg);
			tj[i] = now() - t;
			if (err)
				die(h, "join", err);
			if (chg.member_count != size + 1)
				die(h, "join: member count", -EPROTO);
			t = now();
			err = roster_member_del(h, vpn, &m.id, ROSTER_REASON_REQUESTED, 0, 0, &chg);
			tl[i] = now() - t;
			if (err)
				die(h, "leave", err);
		}
		t = median(tp, (size_t)iters) * 1e6;
		snprintf(name, sizeof(name), "JOIN into a %u-member VPN", size);
		figure(name, median(tj, (size_t)iters) * 1e6, t, "genetlink no-op", 1.5, size);
		snprintf(name, sizeof(name), "LEAVE from a %u-member VPN", size);
		figure(name, median(tl, (size_t)iters) * 1e6, t, "genetlink no-op", 1.5, size);
		err = roster_vpn_del(h, vpn);
		if (err)
			die(h, "vpn del", err);
	}
	free(list);

	/* Stamped joins applied in order to a follower VPN. */
	if (stamped > 0) {
		uint32_t vpn = 3;
		uint64_t g0 = 1000;
		double t0, t, total;

		err = roster_vpn_create(h, vpn, ROSTER_VPN_F_FOLLOWER, g0, NULL);
		if (err)
			die(h, "follower vpn create", err);
		t0 = now();
		for (i = 0; i < stamped; i++) {
			make_member(&m, (uint32_t)i);
			ping(h, &tp[i]);
			t = now();
			err = roster_member_add(h, vpn, &m, 0, g0 + 1 + (uint64_t)i, &chg);
			tj[i] = now() - t;
			if (err)
				die(h, "stamped join", err);
			if (chg.generation != g0 + 1 + (uint64_t)i)
				die(h, "stamped join: generation", -EPROTO);
		}
		total = now() - t0;
		figure("stamped join, in order, follower VPN", median(tj, (size_t)stamped) * 1e6,
		       median(tp, (size_t)stamped) * 1e6, "genetlink no-op", 1.5, stamped);
		printf("# %ld stamped joins in %.1f s with a no-op before each\n", stamped, total);
		err = roster_vpn_delete(h, vpn, g0 + 1 + (uint64_t)stamped);
		if (err)
			die(h, "follower vpn delete (stamped)", err);
	}

	/* Restore: VPN_NEW stamped G, then every member stamped G + resync. */
	if (restore > 0) {
		uint32_t vpn = 2;
		uint64_t g = (uint64_t)restore + 1000;
		long nb = (restore + batch - 1) / batch, b, before, after;
		double *bp = calloc((size_t)nb, sizeof(*bp)), *bj = calloc((size_t)nb, sizeof(*bj));
		double t0, t, total = 0;

		if (!bp || !bj)
			die(NULL, "calloc", -ENOMEM);
		sleep(1);
		before = slab_kb();
		err = roster_vpn_create(h, vpn, 0, g, NULL);
		if (err)
			die(h, "restore vpn create", err);
		for (b = 0, i = 0; b < nb; b++) {
			long k, end = i + batch < restore ? i + batch : restore;

			for (k = i; k < end; k++)
				pipe_ping(&p);
			t = now();
			pipe_flush(&p);
			bp[b] = (now() - t) / (double)(end - i);
			for (k = i; k < end; k++) {
				make_member(&m, (uint32_t)k);
				m.join_generation = 1 + (uint64_t)k;	/* <= g */
				m.join_time = 1700000000 + (uint64_t)k;
				pipe_join(&p, vpn, &m, g, ROSTER_FLAGS_RESYNC);
			}
			t0 = now();
			pipe_flush(&p);
			t = now() - t0;
			total += t;
			bj[b] = t / (double)(end - i);
			i = end;
		}
		sleep(1);
		after = slab_kb();
		snprintf(name, sizeof(name), "restore, %ld per sendmsg", batch);
		figure(name, median(bj, (size_t)nb) * 1e6, median(bp, (size_t)nb) * 1e6,
		       "genetlink no-op, same batches", 0, restore);
		printf("# restore of %ld members: %.2f s in the joins (%.0f joins/s)\n",
		       restore, total, (double)restore / total);
		printf("kernel memory per member (1 prefix): %.0f bytes (Slab %ld kB -> %ld kB over %ld members)\n",
		       (double)(after - before) * 1024.0 / (double)restore, before, after, restore);
		if (json)
			fprintf(json, "{\"bench\": \"kmod\", \"figure\": \"kernel memory per member (1 prefix)\", "
				"\"value\": %.0f, \"unit\": \"B\", \"bound\": 256, \"bound_name\": \"budget\", "
				"\"ratio\": %.2f, \"target\": 1.0, \"n\": %ld}\n",
				(double)(after - before) * 1024.0 / (double)restore,
				(double)(after - before) * 1024.0 / (double)restore / 256.0, restore);
		err = roster_vpn_del(h, vpn);
		if (err)
			die(h, "restore vpn del", err);
		free(bp);
		free(bj);
	}

	free(tp);
	free(tj);
	free(tl);
	pipe_close(&p);
	roster_close(h);
	if (json)
		fclose(json);
	return 0;
}
