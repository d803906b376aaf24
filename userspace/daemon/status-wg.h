/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd status: a WireGuard interface as JSON (status-wg.c), the part
 * of `rosterd status` that both roles share. The keys and their meaning
 * are `wg show dump`'s, so that an operator can compare the two.
 */
#ifndef RD_STATUS_WG_H
#define RD_STATUS_WG_H

#include <jansson.h>

/* The peers of ifname, in the interface's order: an array of
 *   {"public_key", "endpoint" (ADDR:PORT or null), "allowed_ips" [..],
 *    "latest_handshake" (unix seconds, 0: never), "transfer_rx",
 *    "transfer_tx" (bytes), "persistent_keepalive" (s, 0: off)}.
 * *listen_port (may be NULL) receives the interface's port. On error
 * returns NULL with -errno in *err (-ENODEV: no such interface). */
json_t *status_wg_peers(const char *ifname, unsigned int *listen_port, int *err);
/* The peer of peers (status_wg_peers) whose public_key is key_b64. */
json_t *status_wg_find(json_t *peers, const char *key_b64);

#endif /* RD_STATUS_WG_H */
