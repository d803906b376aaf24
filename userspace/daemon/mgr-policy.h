/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: what a gateway may announce in a JOIN_REQ (mgr-policy.c).
 *
 * Every other member routes a member's prefixes into its VPN interface
 * and sends handshakes to its endpoint, so a JOIN_REQ is address space
 * claimed on every site. roster.ko only keeps members' prefixes apart;
 * these checks keep them off what must never go into a tunnel:
 *
 *   - the invitation's list: each prefix inside one that `rosterd invite
 *     --prefix` named (an enrolment from before the lists has none, and is
 *     limited by the rules below only: mgr_policy_warn_unlisted);
 *   - whatever the invitation says: no prefix of length 0, none that
 *     overlaps the control prefix, none that contains the manager's
 *     underlay endpoint or a member's (the newcomer's own included), and
 *     no newcomer whose endpoint lies in a member's prefix;
 *   - endpoint-check = pinned (the default): the endpoint announced is
 *     the address WireGuard sees the gateway's control tunnel come from.
 *
 * The checks are pure (tested in tests/mgr-policy-test.c); mgr_policy_join
 * gathers their input and answers a refusal.
 */
#ifndef RD_MGR_POLICY_H
#define RD_MGR_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "roster.h"
#include "state.h"

struct mgr;
struct rd_peer;
struct rd_msg;

/* The manager's side of a JOIN_REQ. */
struct mgr_policy_in {
	const struct roster_prefix *control_prefix;
	const struct roster_addr *mgr_endpoint;	/* NULL: none configured */
	const struct rd_entry *gw;		/* the invitation's list */
	const struct roster_addr *id;		/* the newcomer */
	/* The VPN's members as roster.ko holds them; the newcomer's own
	 * earlier record among them is skipped (by id). */
	const struct roster_member *members;
	unsigned int n_members;
};

/* Does a contain b (every address of b is in a)? */
bool mgr_prefix_covers(const struct roster_prefix *a, const struct roster_prefix *b);
bool mgr_prefix_overlaps(const struct roster_prefix *a, const struct roster_prefix *b);

/* The JOIN_REQ's prefixes and endpoint (NULL: none announced) against
 * the rules above but the pinning. 0, or -EPERM with the reason, naming
 * the prefix, in why. */
int mgr_policy_check(const struct mgr_policy_in *in, const struct roster_prefix *pfx,
		     unsigned int n, const struct roster_addr *endpoint, char *why, size_t len);
/* endpoint-check = pinned: announced (NULL: none, nothing to pin) against
 * observed (NULL: WireGuard has no endpoint for the control peer). */
int mgr_policy_pin(const struct roster_addr *announced, const struct roster_addr *observed,
		   char *why, size_t len);

/* The one call of mgr_handle_join_req: true if msg may go on to roster.ko;
 * false if refused (logged, and an ERROR sent to p). */
bool mgr_policy_join(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		     const struct rd_entry *gw, const struct rd_msg *msg);
/* At start: name the enrolled gateways and invitations with no list. */
void mgr_policy_warn_unlisted(const struct rd_entry *e, unsigned int n, const char *what);

#endif /* RD_MGR_POLICY_H */
