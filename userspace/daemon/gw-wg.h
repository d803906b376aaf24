/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: the WireGuard and route reconciler (gw-wg.c). It
 * follows the gateway's own roster.ko table through its notifications and
 * makes each VPN's interface hold one peer per other member, and routes
 * to their prefixes. Everything read at once is applied in one WireGuard
 * call per VPN, computed as the difference between the table and the
 * interface: a peer that did not change is never touched, so its session
 * survives restarts and resyncs.
 */
#ifndef RD_GW_WG_H
#define RD_GW_WG_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "config.h"
#include "netif.h"
#include "state.h"

struct gw_wg_vpn {
	const struct rd_vpn_conf *conf;
	bool dirty;			/* the table changed since the last pass */
	bool check;			/* a periodic check: log drift */
	/* Routes (protocol RD_RTPROT, via conf->ifname) this daemon
	 * installed, or found at start (a previous run's): the only ones it
	 * removes. */
	struct roster_prefix *routes;
	unsigned int nroutes;
	/* Members' prefixes not routed (they cover an underlay address, or
	 * a route rosterd did not create holds them): warned about once. */
	struct roster_prefix *held;
	unsigned int nheld;
};

struct gw_wg {
	struct roster_handle *rh;
	struct roster_monitor *mon;
	struct roster_addr self_id;
	uint8_t self_key[32];
	/* The managers' underlay endpoints (the control tunnel's paths). */
	struct roster_addr managers[RD_MANAGERS_MAX];
	unsigned int nmanagers;
	struct gw_wg_vpn *v;
	unsigned int nv;
	unsigned long applies;		/* WireGuard set calls made */
};

/* Follow rh's table for c's VPNs; every VPN starts dirty (a dump). */
int gw_wg_init(struct gw_wg *w, struct roster_handle *rh, const struct rd_config *c,
	       const struct roster_addr *self_id, const uint8_t self_key[32]);
/* The managers whose underlay addresses are never routed (those without
 * an endpoint have none to protect); every VPN's routes are checked
 * again at the next pass. */
void gw_wg_managers(struct gw_wg *w, const struct rd_manager *set, unsigned int n);
void gw_wg_free(struct gw_wg *w);
int gw_wg_fd(const struct gw_wg *w);
/* Read every notification there is; marks the VPNs they touch. */
int gw_wg_read(struct gw_wg *w);
/* Compare vpn's interface with its table at the next pass (drift). */
void gw_wg_check(struct gw_wg *w, uint32_t vpn);
/* One pass: each marked VPN's interface and routes made equal to its
 * table (a VPN not in the table has no peers). */
void gw_wg_reconcile(struct gw_wg *w);

/* The pure part: the peers to set on an interface that has have[nhave]
 * so that it has want[nwant] (out[] holds at most nhave + nwant): a peer
 * of want that is missing or differs (allowed-ips as a set, keepalive,
 * endpoint if want has one), then a removal for every peer of have not
 * in want. Returns the count written to out. */
unsigned int gw_wg_diff(const struct rd_wg_peer *have, unsigned int nhave,
			const struct rd_wg_peer *want, unsigned int nwant,
			struct rd_wg_peer *out);

/* Would a route to p take away the underlay path of a control tunnel
 * (to one of mgrs[nmgrs]) or of a peer's tunnel (want's endpoints)?
 * Their packets would then be routed into the VPN interface itself, and
 * every tunnel through that address would go down. The manager refuses
 * such prefixes (mgr-policy.h); this holds on a gateway whatever a manager
 * sends. Returns the address p covers, or NULL. */
const struct roster_addr *gw_wg_covers_underlay(const struct roster_addr *mgrs, unsigned int nmgrs,
						 const struct rd_wg_peer *want, unsigned int nwant,
						 const struct roster_prefix *p);

#endif /* RD_GW_WG_H */
