/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: [vpn ID] expire-after (mgr-expire.c). A member that
 * the manager has not heard from for longer (mgr_live_last_seen: its
 * latest authenticated message or control-tunnel handshake) is removed
 * through roster.ko with reason expired, so every member gets a REMOVE.
 * The gateway is told in a LIST with NOT_MEMBER and REJOIN, and joins
 * again by itself once it hears it, whenever it comes back: an
 * administrator's removal has no REJOIN and stays.
 *
 * Silence is counted from the latest of: last seen, the member's join,
 * and this manager's start (a manager that was down heard nobody, and
 * must not expire everyone when it comes back). Only enrolled gateways
 * expire: a member entered with `roster member join` has nobody to be
 * heard from.
 *
 * Who was expired is kept in memory: after a restart of the manager, an
 * expired gateway that comes back by a SYNC_REQ is told "not a member"
 * without REJOIN (it joins again at its next start, or when a request
 * of it goes unanswered).
 */
#ifndef RD_MGR_EXPIRE_H
#define RD_MGR_EXPIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"

struct mgr;

/* How often the members are looked at, s. */
#define MGR_EXPIRE_PASS_S 1

struct mgr_expire_ent {
	struct roster_addr id;
	uint32_t vpn;
};

struct mgr_expire {
	struct mgr_expire_ent *e;	/* expired and not back yet */
	unsigned int n, cap;
	uint64_t started;		/* first pass, unix s */
	uint64_t next;			/* next pass, unix s */
	unsigned long expired;		/* members removed */
};

/* ---- pure (tests/roam-test.c) ---- */
/* Is a member silent for longer than after (s, 0: never) at now? */
bool mgr_expire_due(uint64_t now, uint32_t after, uint64_t last_seen, uint64_t join_time,
		    uint64_t started);
int mgr_expire_mark(struct mgr_expire *x, const struct roster_addr *id, uint32_t vpn);
bool mgr_expire_marked(const struct mgr_expire *x, const struct roster_addr *id, uint32_t vpn);
void mgr_expire_unmark(struct mgr_expire *x, const struct roster_addr *id, uint32_t vpn);
void mgr_expire_clear(struct mgr_expire *x);

/* ---- the manager's side (m->expire, allocated at first use) ---- */
/* Each second: remove the silent members of every VPN with expire-after. */
void mgr_expire_tick(struct mgr *m, uint64_t now_s);
/* A "not a member" LIST to id for vpn says REJOIN. */
bool mgr_expire_rejoin(struct mgr *m, const struct roster_addr *id, uint32_t vpn);
/* id asked to join vpn: it is back. */
void mgr_expire_back(struct mgr *m, const struct roster_addr *id, uint32_t vpn);
void mgr_expire_free(struct mgr *m);

#endif /* RD_MGR_EXPIRE_H */
