/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: key rotation (gw-rotate.c). `rosterd rotate-key` or
 * key-lifetime writes the next private key to STATE_DIR/identity.next
 * before anything is announced; the daemon announces its public half in
 * an RD_ROTATE over the control channel, under the old key, and switches
 * rctl0 and every VPN interface to it when the manager acknowledges. A
 * crash at any point resumes from that file: before the ACK the
 * announcement is repeated, after it the identity already holds the new
 * key. An ACK lost on the way back is recovered by trying the new key on
 * rctl0 (the manager's rctl0 switched when it sent it) and the old one in
 * turn, one give-up of the reliable layer each.
 *
 * The members' side is here too: a peer whose key replaces a removed
 * peer's (same allowed-ips) is made to start its handshake at once, so a
 * rotation costs one round trip after the member learns the new key
 * instead of WireGuard's 5 s REKEY_TIMEOUT (performance.rst, "Rotating a
 * key").
 */
#ifndef RD_GW_ROTATE_H
#define RD_GW_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "gw-wg.h"
#include "netif.h"
#include "proto.h"
#include "rel.h"
#include "state.h"

#define GW_ROTATE_NEXT "identity.next"	/* the pending key */
#define GW_ROTATE_BORN "key-created"	/* unix seconds the key came into use */

/* STATE_DIR/identity.next. refused: the manager refused it (why); a
 * refused key is never announced again. */
struct gw_next {
	uint8_t priv[32];
	bool refused;
	char why[128];
};

/* 0, -ENOENT, or -EINVAL (malformed). */
int gw_next_load(const char *dir, struct gw_next *n);
int gw_next_save(const char *dir, const struct gw_next *n);
int gw_next_remove(const char *dir);

/* The daemon's rotation: pointers into the gateway's state, which
 * gw_rotate_done changes on success (id->private_key, pub, wg->self_key). */
struct gw_rotate {
	const struct rd_config *c;
	struct rd_identity *id;
	uint8_t *pub;
	struct gw_wg *wg;
	struct rd_link *link;
	struct rd_peer *mp;
	bool active;			/* a ROTATE is under way */
	bool under_new;			/* rctl0 tries the next key (ACK lost?) */
	/* Several managers (gw-failover.h): the key switches on the ROTATE's
	 * ACK and only the leader commits it, so the ROTATE goes only to a
	 * manager known to lead (leads): a standby would refuse it, and one
	 * that ACKed it anyway (demoted in between) would switch the gateway
	 * to a key no manager holds. Again to every manager the gateway
	 * moves to (announced: to mp already). */
	bool leads;
	bool announced;
	bool sent;			/* this rotation's ROTATE went out */
	uint8_t next[32], next_pub[32];
	uint32_t seq;			/* of the ROTATE under way */
	uint64_t born;			/* the current key's, unix seconds */
	int64_t check_at;		/* next look at identity.next, ms */
	unsigned long rotations;
};

void gw_rotate_init(struct gw_rotate *r, const struct rd_config *c, struct rd_identity *id,
		    uint8_t pub[32], struct gw_wg *wg, struct rd_link *l, struct rd_peer *mp);
/* The gateway talks to another manager, mp (gw-failover.h), or found
 * that it leads. The ROTATE under way is announced to it once it leads;
 * unanswered (the one before was silent): as if the reliable layer had
 * given up, rctl0 tries the other key first, for a lost ACK leaves every
 * manager of the cluster on the new one. */
void gw_rotate_peer(struct gw_rotate *r, struct rd_peer *mp, bool leads, bool unanswered);
/* A pending key (the command's, or one a crash left) or an expired
 * key-lifetime starts a rotation. Returns ms until the next look. */
int gw_rotate_tick(struct gw_rotate *r, int64_t now);
/* The reliable layer's verdict on a message: the ROTATE's ACK switches. */
void gw_rotate_done(struct gw_rotate *r, const struct rd_pending *pm, bool acked);
/* An ERROR from the manager: true if it refused our ROTATE. */
bool gw_rotate_error(struct gw_rotate *r, const struct rd_msg *m);

/* The pure part of the members' side: the entries of d[0..nd) (a
 * gw_wg_diff of have[0..nhave)) that add a peer whose allowed-ips are
 * exactly those of a peer d removes: a member's new key. Their indices go
 * to idx; returns the count. */
unsigned int gw_rotate_replaced(const struct rd_wg_peer *have, unsigned int nhave,
				const struct rd_wg_peer *d, unsigned int nd, unsigned int *idx);
/* rd_wg_apply(ifname, d, nd) and then a handshake started at once with
 * every replaced peer (keepalive: the VPN's, restored after). */
int gw_rotate_apply(const char *ifname, const struct rd_wg_peer *have, unsigned int nhave,
		    const struct rd_wg_peer *d, unsigned int nd, uint16_t keepalive);

#endif /* RD_GW_ROTATE_H */
