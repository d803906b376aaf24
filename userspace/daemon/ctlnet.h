/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: the control network's address rules (ctlnet.c), shared by the
 * manager's configuration, `rosterd invite`, the token and the gateway's
 * identity file, so that IPv4 and IPv6 control networks obey one rule.
 */
#ifndef RD_CTLNET_H
#define RD_CTLNET_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"

/* The longest control prefix of the family that still leaves the
 * manager's address and one gateway id: 30 for IPv4 (its network and
 * broadcast addresses are no ids), 126 for IPv6 (its all-zero address is
 * the subnet-router anycast address, RFC 4291 2.6.1). */
unsigned int rd_ctlnet_prefix_max(const struct roster_addr *a);

/* Is id a gateway id of the control network ctl (masked) whose manager is
 * ctl_addr? It must be of ctl's family, inside it, not ctl_addr and, for
 * IPv6, not the all-zero address of ctl (the kernel gives that anycast
 * address to every interface of a router holding an address in ctl).
 * On false, *why (if why) says which rule it breaks. */
bool rd_ctlnet_id_ok(const struct roster_prefix *ctl, const struct roster_addr *ctl_addr,
		     const struct roster_addr *id, const char **why);

#endif /* RD_CTLNET_H */
