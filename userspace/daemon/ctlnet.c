// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd: the control network's address rules (ctlnet.h). */
#include <string.h>
#include <sys/socket.h>

#include "ctlnet.h"
#include "util.h"

unsigned int rd_ctlnet_prefix_max(const struct roster_addr *a)
{
	return a->family == AF_INET6 ? 126 : 30;
}

bool rd_ctlnet_id_ok(const struct roster_prefix *ctl, const struct roster_addr *ctl_addr,
		     const struct roster_addr *id, const char **why)
{
	const char *w = NULL;

	if (id->family != ctl->addr.family)
		w = id->family == AF_INET6 ? "an IPv6 id in an IPv4 control network" :
		    "an IPv4 id in an IPv6 control network";
	else if (!rd_prefix_contains(ctl, id))
		w = "outside the control prefix";
	else if (rd_addr_eq(id, ctl_addr))
		w = "the manager's control address";
	else if (id->family == AF_INET6 && rd_addr_eq(id, &ctl->addr))
		w = "the control prefix's subnet-router anycast address";
	if (why)
		*why = w;
	return !w;
}
