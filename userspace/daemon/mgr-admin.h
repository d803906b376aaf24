/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: eviction and invitations (mgr-admin.c).
 *
 * `rosterd revoke --id ADDR` ends a gateway for good, stolen or retired:
 * in one store transaction its enrolment and every pending invitation for
 * its id go, and their keys are recorded as revoked, which the store then
 * refuses for ever (a new invitation, an enrolment, a key rotation). The
 * keys leave rctl0 at once, and the id leaves every VPN of roster.ko with
 * reason admin, so the one-way flow (mgr-fanout.c) sends the members
 * their REMOVE. The manager applies the same rule itself, at start
 * (mgr_evict_all) and whenever an enrolment disappears from the store
 * (mgr_evict_sweep), so that neither a stopped manager, nor a kernel that
 * had no table at the time, nor another manager of the same store keeps
 * a revoked member.
 *
 * `rosterd invites [-j]` lists the pending invitations.
 */
#ifndef RD_MGR_ADMIN_H
#define RD_MGR_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "mgr.h"
#include "state.h"

/* rosterd revoke: 0, or -errno (-ENOENT: id has neither an enrolment nor
 * a pending invitation; nothing changed). What was revoked and the VPNs
 * the id left go to standard output. */
int rd_cmd_revoke(struct rd_config *c, const struct roster_addr *id);
/* rosterd invites: the pending invitations on standard output. */
int rd_cmd_invites(struct rd_config *c, bool json);

/* The invitations of inv[0..n) still pending at now (unix seconds), in
 * text (one block per invitation, `wg show` style) or JSON (an array of
 * objects: id, key, vpns, prefixes, expiry, expires_in). */
void mgr_invites_print(FILE *f, const struct rd_entry *inv, unsigned int n, uint64_t now,
		       bool json);

/* The rule: a member whose id is no enrolled gateway of m and whose key
 * the store holds as revoked is evicted. A member some operator added by
 * hand (`roster member add`, no enrolment, a key never revoked) is not. */
bool mgr_evict_due(struct mgr *m, const struct roster_member *mb);
/* Remove id from every VPN of roster.ko where it is a member, reason
 * admin. Its VPNs go to vpns[0..min(*n, max)); *n counts them all. A VPN
 * that lost it meanwhile (to the manager, or to another revoke) is not
 * an error. */
int mgr_evict_id(struct roster_handle *rh, const struct roster_addr *id, uint32_t *vpns,
		 unsigned int max, unsigned int *n);
/* Apply the rule to every member of roster.ko: at start, once the table
 * equals the store. */
void mgr_evict_all(struct mgr *m);
/* The same for the ids of was[0..nwas) (the gateways before a reload)
 * that are no longer enrolled. */
void mgr_evict_sweep(struct mgr *m, const struct rd_entry *was, unsigned int nwas);

#endif /* RD_MGR_ADMIN_H */
