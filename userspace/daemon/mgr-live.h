/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: when each enrolled gateway was last heard from
 * (mgr-live.c).
 *
 * Heard means an authenticated control message (WireGuard on rctl0 has
 * authenticated its source address) or rctl0's latest handshake with the
 * gateway's key. Times are kept in memory, per message, and written to
 * the store at most every MGR_LIVE_FLUSH_S seconds (a write per message
 * would put a durable commit on every request's path); what a crash
 * loses is at most that much of the recent past, never a gateway.
 */
#ifndef RD_MGR_LIVE_H
#define RD_MGR_LIVE_H

#include <stdint.h>

#include "roster.h"

#define MGR_LIVE_FLUSH_S 10

struct mgr;

/* id (an enrolled gateway) sent an authenticated message at now_s. */
void mgr_live_heard(struct mgr *m, const struct roster_addr *id, uint64_t now_s);
/* Unix seconds id was last heard from: the later of what this process
 * heard, rctl0's handshakes read at the last flush, and the store's
 * record; 0 never. */
uint64_t mgr_live_last_seen(struct mgr *m, const struct roster_addr *id);
/* Fold rctl0's handshake times in and write changed times to the store,
 * at most every MGR_LIVE_FLUSH_S seconds (the manager loop calls it each
 * second). */
void mgr_live_flush(struct mgr *m, uint64_t now_s);
/* Write everything still unwritten, then free the table (at exit). */
void mgr_live_free(struct mgr *m);

#endif /* RD_MGR_LIVE_H */
