// SPDX-License-Identifier: GPL-2.0-or-later
/* roster-bench: JOIN/LEAVE throughput through libroster next to the cost of
 * a no-op generic netlink round trip (CTRL_CMD_GETFAMILY), and kernel memory
 * per member. Run as root with roster.ko loaded, ideally in a fresh netns:
 *
 *   roster-bench [-n NETNS] [-s SIZES] [-m MEMBERS] [-b SECONDS]
 *
 *   -s  VPN sizes, comma-separated (default 10,1000,100000)
 *   -m  members joined for the memory measurement (default 100000)
 *   -b  time budget in seconds for populating one VPN (default 60): a JOIN
 *       reply lists every other member, so filling a VPN of N members costs
 *       N^2/2 member records; a size not reached within the budget is
 *       measured at the size reached and flagged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "roster.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_member(struct roster_member *m, uint32_t i)
{
	memset(m, 0, sizeof(*m));
	m->dev.family = AF_INET;
	m->dev.addr[0] = 10;
	m->dev.addr[1] = (uint8_t)(i >> 16);
	m->dev.addr[2] = (uint8_t)(i >> 8);
	m->dev.addr[3] = (uint8_t)i;
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
	m->prefixes[0].addr.addr[0] = 172;
	m->prefixes[0].addr.addr[1] = (uint8_t)(16 + (i >> 16));
	m->prefixes[0].addr.addr[2] = (uint8_t)(i >> 8);
	m->prefixes[0].len = 24;
	/* keep 172.x.y.0/24 free of host bits */
	(void)i;
}

static void die(struct roster_handle *h, const char *what, int err)
{
	fprintf(stderr, "roster-bench: %s: %s\n", what, roster_strerror_ext(h, err));
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

static void row(const char *op, const char *size, double ops, double floor_ops)
{
	printf("%-22s %10s %12.0f %10.1f %9.2f\n", op, size, ops, 1e6 / ops,
	       floor_ops / ops);
}

int main(int argc, char **argv)
{
	const char *netns = NULL, *sizes = "10,1000,100000";
	long mem_members = 100000;
	double budget = 60, floor_ops, t0, t;
	struct roster_handle *h;
	struct roster_member m;
	char *list, *tok, *save = NULL;
	int opt, err, i, n;

	while ((opt = getopt(argc, argv, "n:s:m:b:")) != -1) {
		switch (opt) {
		case 'n': netns = optarg; break;
		case 's': sizes = optarg; break;
		case 'm': mem_members = atol(optarg); break;
		case 'b': budget = atof(optarg); break;
		default:
			fprintf(stderr, "usage: roster-bench [-n NETNS] [-s SIZES] [-m MEMBERS] [-b SECONDS]\n");
			return 2;
		}
	}
	err = netns ? roster_open_netns(netns, &h) : roster_open(&h);
	if (err) {
		fprintf(stderr, "roster-bench: open: %s\n", strerror(-err));
		return 1;
	}

	/* The floor: a no-op genetlink round trip. */
	n = 2000;
	t0 = now();
	for (i = 0; i < n; i++) {
		err = roster_ping(h);
		if (err)
			die(h, "getfamily", err);
	}
	floor_ops = n / (now() - t0);

	printf("%-22s %10s %12s %10s %9s\n", "operation", "vpn size", "ops/s", "us/op", "x floor");
	row("genl no-op (floor)", "-", floor_ops, floor_ops);
	fflush(stdout);

	list = strdup(sizes);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t size = (uint32_t)atol(tok), vpn = 1000000 + size, have = 0, extra;
		double tj = 0, tl = 0, tp = 0, pop;
		char label[32];
		int iters;

		t0 = now();
		while (have < size) {
			make_member(&m, have);
			/* populating is not what is measured: skip the N-member replies */
			err = roster_member_join_cb(h, vpn, &m, ROSTER_JOIN_NO_MEMBERS,
						    NULL, NULL, NULL, NULL);
			if (err)
				die(h, "populate join", err);
			have++;
			if ((have & 63) == 0 && now() - t0 > budget)
				break;
		}
		pop = now() - t0;
		iters = size <= 10 ? 2000 : size <= 1000 ? 300 : 20;
		if (have > 20000)
			iters = 10;
		extra = 0xfffff0;
		/*
		 * The floor is measured again here, interleaved with the
		 * operations, so that a change in the machine's load hits both
		 * sides of each ratio alike.
		 */
		for (i = 0; i < iters; i++) {
			t = now();
			err = roster_ping(h);
			tp += now() - t;
			if (err)
				die(h, "getfamily", err);
			make_member(&m, extra);
			t = now();
			err = roster_member_join_cb(h, vpn, &m, 0, NULL, NULL, NULL, NULL);
			tj += now() - t;
			if (err)
				die(h, "join", err);
			t = now();
			err = roster_member_leave_cb(h, vpn, &m.dev, ROSTER_REASON_REQUESTED, 0,
						     NULL, NULL, NULL, NULL);
			tl += now() - t;
			if (err)
				die(h, "leave", err);
		}
		if (have < size)
			snprintf(label, sizeof(label), "%u*", have);
		else
			snprintf(label, sizeof(label), "%u", have);
		row("genl no-op (floor)", label, iters / tp, iters / tp);
		row("JOIN", label, iters / tj, iters / tp);
		row("LEAVE", label, iters / tl, iters / tp);
		printf("# populating %u members took %.1f s (%.0f joins/s)%s\n", have, pop,
		       have / pop, have < size ? "; * = budget exhausted before the target size" : "");
		fflush(stdout);
		err = roster_vpn_del(h, vpn);
		if (err)
			die(h, "vpn del", err);
	}
	free(list);

	if (mem_members > 0) {
		long before, after, joined = 0;
		uint32_t vpn;

		/* One VPN holds them all; replies without the member set. */
		sleep(1);
		before = slab_kb();
		t0 = now();
		vpn = 2;
		for (; joined < mem_members; joined++) {
			make_member(&m, (uint32_t)joined);
			err = roster_member_join_cb(h, vpn, &m, ROSTER_JOIN_NO_MEMBERS,
						    NULL, NULL, NULL, NULL);
			if (err)
				die(h, "memory join", err);
		}
		t = now() - t0;
		sleep(1);
		after = slab_kb();
		printf("# %ld joins into one VPN: %.1f s (%.0f joins/s)\n", joined, t, joined / t);
		printf("kernel memory per member: %.0f bytes, 1 prefix each (Slab %ld kB -> %ld kB over %ld members)\n",
		       (double)(after - before) * 1024.0 / (double)joined, before, after, joined);
		roster_vpn_del(h, vpn);
	}
	roster_close(h);
	return 0;
}
