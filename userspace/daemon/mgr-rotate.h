/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: a gateway's key rotation (mgr-rotate.c). An RD_ROTATE
 * comes through the gateway's tunnel under its current key, which vouches
 * for it, and names the next key. The store takes it (rd_store_gateway_
 * rekey, the old key revoked) before the ACK is sent, because the gateway
 * switches on that ACK: a refused key gets an ERROR and no ACK. After the
 * ACK, rctl0 follows the store and the member record is replaced in every
 * VPN through roster.ko, so that the members get a NOTIFY with the key.
 */
#ifndef RD_MGR_ROTATE_H
#define RD_MGR_ROTATE_H

#include <stdbool.h>

#include "mgr.h"

/* Before the ACK (also for a duplicate): true if the store holds msg's
 * key for src now (a retried rotation included), false if refused (an
 * ERROR is sent for a new message; nothing changed). */
bool mgr_rotate_check(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		      const struct rd_entry *gw, const struct rd_msg *msg, bool dup);
/* After the ACK of a new ROTATE: rctl0 and the VPN records follow. */
void mgr_handle_rotate(struct mgr *m, const struct roster_addr *src, const struct rd_msg *msg);

#endif /* RD_MGR_ROTATE_H */
