/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: endpoint = auto (mgr-roam.c). A gateway that says so
 * (a port without an address in its JOIN_REQ and SYNC_REQs) is a member
 * at the address WireGuard last saw its control tunnel come from on
 * rctl0. When that address changes, the member is replaced with the new
 * one through roster.ko (an unstamped change, so a NOTIFY to every
 * member), within a second of WireGuard seeing it.
 *
 * Which gateways follow their endpoint is kept in memory only: after a
 * restart of the manager each says so again in its next SYNC_REQ.
 */
#ifndef RD_MGR_ROAM_H
#define RD_MGR_ROAM_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "netif.h"
#include "state.h"

struct mgr;
struct rd_peer;
struct rd_msg;

/* One (gateway, VPN) that follows its endpoint. */
struct mgr_roam_ent {
	struct roster_addr id;
	uint32_t vpn;
	bool has_last;			/* last: the address its record was checked at */
	struct roster_addr last;
};

struct mgr_roam {
	struct mgr_roam_ent *e;
	unsigned int n, cap;
	/* rctl0's peers with the address each was last seen at, by key */
	struct rd_wg_endpoint *ep;
	unsigned int nep;
	int64_t read_ms;		/* when ep was read; 0: never */
	unsigned long moves;		/* members announced again */
};

/* ---- pure (tests/roam-test.c) ---- */
/* Record whether id follows its endpoint in vpn (auto) or not. A note
 * of auto makes the next check look at the member again. */
int mgr_roam_set(struct mgr_roam *r, const struct roster_addr *id, uint32_t vpn, bool on);
struct mgr_roam_ent *mgr_roam_find(struct mgr_roam *r, const struct roster_addr *id,
				   uint32_t vpn);
/* Take ep (malloc'ed, any order) as rctl0's endpoints read at now_ms. */
void mgr_roam_take(struct mgr_roam *r, struct rd_wg_endpoint *ep, unsigned int n,
		   int64_t now_ms);
/* The address rctl0 last saw key at, or NULL. */
const struct roster_addr *mgr_roam_observed(const struct mgr_roam *r, const uint8_t key[32]);
/* Is entry e's member due for a look (observed differs from what it was
 * checked at)? */
bool mgr_roam_due(const struct mgr_roam_ent *e, const struct roster_addr *observed);
void mgr_roam_clear(struct mgr_roam *r);

/* ---- the manager's side (m->roam, allocated at first use) ---- */
/* A JOIN_REQ or SYNC_REQ from gw (id) for msg->vpn: note msg->endpoint_auto. */
void mgr_roam_note(struct mgr *m, const struct roster_addr *id, const struct rd_msg *msg);
/* A JOIN_REQ with endpoint = auto: *out is msg with the address rctl0
 * sees gw at. false if there is none (refused: logged, ERROR to p). */
bool mgr_roam_resolve(struct mgr *m, struct rd_peer *p, const struct rd_entry *gw,
		      const struct rd_msg *msg, struct rd_msg *out);
/* Once a second: announce again every auto member whose address moved. */
void mgr_roam_tick(struct mgr *m);
void mgr_roam_free(struct mgr *m);

#endif /* RD_MGR_ROAM_H */
