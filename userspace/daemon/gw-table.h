/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: the gateway's own roster.ko table (gw-table.c), the one
 * copy of the membership on a gateway. Each configured VPN is a follower
 * (ROSTER_VPN_F_FOLLOWER) of the manager's: every change is stamped with
 * the manager's generation, and the kernel's verdict orders them.
 */
#ifndef RD_GW_TABLE_H
#define RD_GW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "gw-view.h"

/* The VPN as it is in the table: -ENOENT if it is not there. */
int gw_table_get(struct roster_handle *rh, uint32_t vpn, struct gw_local *out,
		 uint32_t *member_count);
/* Apply a NOTIFY or REMOVE stamped c->gen: 0 applied, -EALREADY old,
 * -ESTALE a gap, -ENOENT no such VPN here (yet), else an error (the table
 * and the manager disagree). */
int gw_table_change(struct roster_handle *rh, uint32_t vpn, const struct gw_change *c);
/* Make the VPN equal mb[n] plus self at generation gen: only the
 * difference, each change stamped gen with ROSTER_F_RESYNC; the VPN is
 * created as a follower at gen if missing, and re-created if rebase (its
 * generations are another store's, or it is not a follower). 0, -EALREADY
 * (the table is newer), or an error. *changed: members changed. */
int gw_table_sync(struct roster_handle *rh, uint32_t vpn, uint64_t gen,
		  const struct roster_member *mb, unsigned int n,
		  const struct roster_member *self, bool rebase, unsigned int *changed);
/* Delete the VPN whatever its generation or follower mark (0 if absent). */
int gw_table_drop(struct roster_handle *rh, uint32_t vpn);
/* Delete the VPN: obeying "not a member" at gen. */
int gw_table_remove(struct roster_handle *rh, uint32_t vpn, uint64_t gen);
/* Do a and b hold the same record (key, endpoint, prefixes as a set)? */
bool gw_member_same(const struct roster_member *a, const struct roster_member *b);

#endif /* RD_GW_TABLE_H */
