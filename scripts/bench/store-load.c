// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * store-load: scripts/bench-fanout's population of an etcd store. The
 * SQLite store takes the enrolled gateways from a "gateways" file when it
 * is created and the VPN from `rosterd-sim store-from-kernel`; an etcd
 * store has no file to import, so this copies both into it through
 * rosterd's own store code (store.h), as a manager would have written
 * them:
 *
 *   store-load ENDPOINTS PREFIX SQLITE_DIR NETNS VPN
 *
 * SQLITE_DIR: a state directory holding the "gateways" file (opening its
 * store imports it); each of its gateways is enrolled into the etcd store
 * (an invitation under a key of its own, then the enrolment, as `rosterd
 * invite` and a redeem would), then VPN's table in NETNS's roster.ko is
 * committed whole (one transaction: etcd needs --max-txn-ops above the
 * VPN's size). Prints "gateways N", "enrol_s S", "vpn_members N",
 * "vpn_s S".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roster.h"
#include "etcd-http.h"
#include "state.h"
#include "store.h"
#include "store-etcd.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_gateways(struct rd_store *from, struct rd_store *to)
{
	struct rd_entry *gws = NULL;
	unsigned int n = 0;
	double t0 = now();
	int ret;

	ret = rd_store_gateways(from, &gws, &n);
	if (ret) {
		fprintf(stderr, "store-load: gateways: %s\n", rd_store_errmsg(from));
		return ret;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct rd_entry inv = gws[i], gw = gws[i];
		uint8_t old[32];
		bool had_old = false;

		/* The invitation's key may not be the gateway's own. */
		inv.key[0] ^= 0xff;
		inv.key[31] ^= 0x5a;
		inv.expiry = 0;
		ret = rd_store_invite_put(to, &inv, NULL, 0, NULL);
		if (!ret)
			ret = rd_store_enrol(to, &gw, inv.key, old, &had_old);
		if (ret) {
			fprintf(stderr, "store-load: gateway %u of %u: %s\n", i + 1, n,
				rd_store_errmsg(to));
			free(gws);
			return ret;
		}
	}
	printf("gateways %u\nenrol_s %.3f\n", n, now() - t0);
	free(gws);
	return 0;
}

static int load_vpn(struct rd_store *to, const char *netns, uint32_t vpn)
{
	struct roster_member_set *set = NULL;
	struct roster_handle *h;
	struct roster_vpn v;
	size_t n = 0;
	double t0;
	int ret;

	ret = roster_open_netns(netns, &h);
	if (!ret)
		ret = roster_vpn_get(h, vpn, &v);
	if (!ret)
		ret = roster_member_list(h, vpn, &set, &n);
	if (ret || n != 1) {
		fprintf(stderr, "store-load: vpn %u in %s: %s\n", vpn, netns,
			strerror(ret ? -ret : ENOENT));
		return ret ? ret : -ENOENT;
	}
	struct rd_store_change c = {
		.op = RD_STORE_VPN_REPLACE, .vpn = vpn, .prev_gen = RD_STORE_ANY_GEN,
		.gen = set[0].generation, .vpn_flags = v.flags, .members = set[0].members,
		.n = set[0].count,
	};
	t0 = now();
	ret = rd_store_commit(to, &c);
	if (ret)
		fprintf(stderr, "store-load: vpn %u: %s\n", vpn, rd_store_errmsg(to));
	else
		printf("vpn_members %u\nvpn_s %.3f\n", set[0].count, now() - t0);
	roster_member_sets_free(set, n);
	roster_close(h);
	return ret;
}

int main(int argc, char **argv)
{
	struct rd_etcd_conf ec;
	struct rd_store *from, *to;
	char err[512];
	int ret;

	if (argc != 6) {
		fprintf(stderr, "usage: store-load ENDPOINTS PREFIX SQLITE_DIR NETNS VPN\n");
		return 2;
	}
	memset(&ec, 0, sizeof(ec));
	snprintf(ec.endpoints, sizeof(ec.endpoints), "%s", argv[1]);
	snprintf(ec.prefix, sizeof(ec.prefix), "%s", argv[2]);
	if (rd_store_open(argv[3], &from, err, sizeof(err))) {
		fprintf(stderr, "store-load: %s\n", err);
		return 1;
	}
	if (rd_store_open_etcd(&ec, &to, err, sizeof(err))) {
		fprintf(stderr, "store-load: %s\n", err);
		rd_store_close(from);
		return 1;
	}
	ret = load_gateways(from, to);
	if (!ret)
		ret = load_vpn(to, argv[4], (uint32_t)strtoul(argv[5], NULL, 10));
	rd_store_close(to);
	rd_store_close(from);
	return ret ? 1 : 0;
}
