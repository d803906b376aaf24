// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd gateway: the control tunnel to the managers (gw-ctl.h). */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "netif.h"
#include "gw-ctl.h"

int gw_ctl_apply(const char *ifname, const struct rd_identity *id)
{
	struct roster_prefix ips[RD_MANAGERS_MAX];
	struct rd_wg_peer peers[RD_MANAGERS_MAX];
	struct rd_identity one;
	unsigned int n;

	if (!id->n_managers) {
		one = *id;
		rd_identity_single(&one);
		id = &one;
	}
	n = id->n_managers;
	memset(peers, 0, sizeof(peers));
	for (unsigned int i = 0; i < n; i++) {
		const struct rd_manager *m = &id->managers[i];

		ips[i].addr = m->control_addr;
		ips[i].len = (uint8_t)(8 * roster_addr_len(&m->control_addr));
		if (n == 1) {
			ips[i].len = id->prefixlen;
			rd_prefix_mask(&ips[i]);
		}
		memcpy(peers[i].key, m->key, 32);
		peers[i].has_endpoint = m->endpoint.family != 0;
		peers[i].endpoint = m->endpoint;
		peers[i].port = m->port;
		peers[i].n_allowed = 1;
		peers[i].allowed = &ips[i];
		peers[i].keepalive = GW_CTL_KEEPALIVE;
	}
	memset(&one, 0, sizeof(one));
	return rd_wg_apply(ifname, peers, n, true);
}

int gw_ctl_setup(const char *ifname, const uint8_t *priv, const struct rd_identity *id)
{
	int ret;

	ret = rd_wg_setup(ifname, priv, 0);
	if (!ret)
		ret = gw_ctl_apply(ifname, id);
	if (!ret)
		ret = rd_addr_add(ifname, &id->id, id->prefixlen);
	if (ret)
		rd_err("%s: cannot set up the control tunnel: %s", ifname, strerror(-ret));
	return ret;
}

static struct rd_peer *peer_at(struct rd_link *l, const struct roster_addr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(a, port, &ss);

	return rd_peer_get(l, (struct sockaddr *)&ss, len, true);
}

struct rd_peer *gw_ctl_peer(struct rd_link *l, const struct rd_identity *id, unsigned int i)
{
	if (i >= id->n_managers)
		return i ? NULL : gw_ctl_manager(l, id);
	return peer_at(l, &id->managers[i].control_addr, id->control_port);
}

struct rd_peer *gw_ctl_manager(struct rd_link *l, const struct rd_identity *id)
{
	return peer_at(l, &id->control_addr, id->control_port);
}

unsigned int gw_ctl_first(const struct rd_identity *id)
{
	int i = rd_identity_manager(id, &id->control_addr);

	return i < 0 ? 0 : (unsigned int)i;
}

int gw_ctl_from(const struct rd_identity *id, const struct sockaddr *sa)
{
	struct roster_addr a;
	uint16_t port;

	if (rd_from_sockaddr(sa, &a, &port) || port != id->control_port)
		return -1;
	if (!id->n_managers)
		return rd_addr_eq(&a, &id->control_addr) ? 0 : -1;
	return rd_identity_manager(id, &a);
}
