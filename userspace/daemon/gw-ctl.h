/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: the control tunnel to the managers (gw-ctl.c), shared
 * by the daemon (gateway.c) and the one-shot commands (gw-oneshot.c).
 */
#ifndef RD_GW_CTL_H
#define RD_GW_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rel.h"
#include "state.h"

#define GW_CTL_KEEPALIVE 5

/* ifname (rctl0) with key priv and one peer per manager of id's set
 * (gw_ctl_apply). An identity without a set (n_managers 0) has the
 * manager enrolled with. */
int gw_ctl_setup(const char *ifname, const uint8_t *priv, const struct rd_identity *id);
/*
 * rctl0's peers become id's set: each manager's key at its endpoint,
 * keepalive GW_CTL_KEEPALIVE, allowed-ips its control address (/32 or
 * /128: WireGuard routes an address to one peer only), or the whole
 * control prefix for a set of one, as before there were several. A peer
 * of no manager goes; the others keep their sessions.
 */
int gw_ctl_apply(const char *ifname, const struct rd_identity *id);
/* The reliable layer's destination for manager i of id's set. */
struct rd_peer *gw_ctl_peer(struct rd_link *l, const struct rd_identity *id, unsigned int i);
/* ... and for the manager enrolled with. */
struct rd_peer *gw_ctl_manager(struct rd_link *l, const struct rd_identity *id);
/* The manager to try first (the daemon at its start, `rosterd status`
 * without one, the one-shot commands): the one enrolled with while it is
 * in the set, else the set's first. Nothing says which one leads before
 * one answers; the one enrolled with did once. */
unsigned int gw_ctl_first(const struct rd_identity *id);
/* Which manager of the set sa is (its control address and the control
 * port): its index, or -1. */
int gw_ctl_from(const struct rd_identity *id, const struct sockaddr *sa);

#endif /* RD_GW_CTL_H */
