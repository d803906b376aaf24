/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The manager target's simulated kernel (sim-roster.c: libroster's
 * netlink calls on an in-memory table with roster.ko's rules) and
 * network (sim-netif.c: interfaces, routes and WireGuard). The harness
 * reads the table for its oracles.
 */
#ifndef RD_FUZZ_SIM_H
#define RD_FUZZ_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "netif.h"

#define SIM_VPNS 16
#define SIM_MEMBERS 64		/* per VPN (net.roster.max_members) */
#define SIM_EVENTS 1024		/* the monitor socket's buffer */
#define SIM_WG_PEERS 64

struct sim_vpn {
	uint32_t id;
	uint64_t gen;
	uint32_t flags;
	unsigned int n;
	struct roster_member m[SIM_MEMBERS];
};

struct sim {
	unsigned int nvpns;
	struct sim_vpn v[SIM_VPNS];	/* ascending id */
	unsigned int nev;
	struct roster_event ev[SIM_EVENTS];
	bool overrun;
	bool monitor;			/* a subscriber: events are kept */
	/* rctl0's peers (sim-netif.c) */
	unsigned int nwg;
	struct {
		uint8_t key[32];
		struct roster_prefix allowed;
	} wg[SIM_WG_PEERS];
	/* The underlay address WireGuard saw a peer at (the harness's
	 * world): false if none. */
	bool (*observed)(const uint8_t key[32], struct roster_addr *ep);
};

extern struct sim sim;

/* Everything but sim.observed. */
void sim_reset(void);
/* The module was reloaded: the table is empty (no notifications). */
void sim_lose_table(void);
/* The notification socket overflows: what is queued is lost. */
void sim_overrun(void);
bool sim_prefix_overlap(const struct roster_prefix *a, const struct roster_prefix *b);

#endif /* RD_FUZZ_SIM_H */
