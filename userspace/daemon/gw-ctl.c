// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd gateway: the control tunnel to the manager. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "netif.h"
#include "gw-ctl.h"

int gw_ctl_setup(const char *ifname, const uint8_t *priv, const struct rd_identity *id)
{
	struct roster_prefix cp = { .addr = id->control_addr, .len = id->prefixlen };
	struct rd_wg_peer mp = {
		.has_endpoint = true, .endpoint = id->manager_endpoint, .port = id->manager_port,
		.n_allowed = 1, .allowed = &cp, .keepalive = GW_CTL_KEEPALIVE,
	};
	int ret;

	rd_prefix_mask(&cp);
	memcpy(mp.key, id->manager_key, 32);
	ret = rd_wg_setup(ifname, priv, 0);
	if (!ret)
		ret = rd_wg_apply(ifname, &mp, 1, true);
	if (!ret)
		ret = rd_addr_add(ifname, &id->id, id->prefixlen);
	if (ret)
		rd_err("%s: cannot set up the control tunnel: %s", ifname, strerror(-ret));
	return ret;
}

struct rd_peer *gw_ctl_manager(struct rd_link *l, const struct rd_identity *id)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(&id->control_addr, id->control_port, &ss);

	return rd_peer_get(l, (struct sockaddr *)&ss, len, true);
}

bool gw_ctl_from_manager(const struct rd_identity *id, const struct sockaddr *sa)
{
	struct roster_addr a;
	uint16_t port;

	return !rd_from_sockaddr(sa, &a, &port) && rd_addr_eq(&a, &id->control_addr) &&
	       port == id->control_port;
}
