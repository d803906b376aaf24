/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: the control tunnel to the manager (gw-ctl.c), shared by
 * the daemon (gateway.c) and the one-shot commands (gw-oneshot.c).
 */
#ifndef RD_GW_CTL_H
#define RD_GW_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rel.h"
#include "state.h"

#define GW_CTL_KEEPALIVE 5

/* ifname (rctl0) with key priv and the manager as its one peer. */
int gw_ctl_setup(const char *ifname, const uint8_t *priv, const struct rd_identity *id);
struct rd_peer *gw_ctl_manager(struct rd_link *l, const struct rd_identity *id);
bool gw_ctl_from_manager(const struct rd_identity *id, const struct sockaddr *sa);

#endif /* RD_GW_CTL_H */
