// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd status: a WireGuard interface as JSON (status-wg.h).
 */
#include <errno.h>
#include <string.h>

#include "util.h"
#include "netif.h"
#include "status-wg.h"
#include "wireguard.h"

static json_t *allowed_ips(const wg_peer *p)
{
	json_t *a = json_array();
	const wg_allowedip *ip;

	wg_for_each_allowedip(p, ip) {
		struct roster_prefix px = { .addr.family = (uint8_t)ip->family, .len = ip->cidr };
		char buf[64];

		memcpy(px.addr.addr, ip->family == AF_INET ? (const void *)&ip->ip4 :
		       (const void *)&ip->ip6, ip->family == AF_INET ? 4 : 16);
		json_array_append_new(a, json_string(roster_prefix_format(&px, buf, sizeof(buf))));
	}
	return a;
}

static json_t *endpoint(const wg_peer *p)
{
	struct roster_addr a;
	uint16_t port;
	char buf[80];

	if (rd_from_sockaddr(&p->endpoint.addr, &a, &port))
		return json_null();
	return json_string(roster_endpoint_format(&a, port, buf, sizeof(buf)));
}

json_t *status_wg_peers(const char *ifname, unsigned int *listen_port, int *err)
{
	wg_device *dev;
	wg_peer *p;
	json_t *a;
	int ret = wg_get_device(&dev, ifname);

	if (ret) {
		*err = ret < 0 ? ret : -ret;
		return NULL;
	}
	if (listen_port)
		*listen_port = dev->listen_port;
	a = json_array();
	wg_for_each_peer(dev, p) {
		char key[45];

		rd_key_b64(p->public_key, key);
		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:i}",
			"public_key", key,
			"endpoint", endpoint(p),
			"allowed_ips", allowed_ips(p),
			"latest_handshake", (json_int_t)p->last_handshake_time.tv_sec,
			"transfer_rx", (json_int_t)p->rx_bytes,
			"transfer_tx", (json_int_t)p->tx_bytes,
			"persistent_keepalive", (int)p->persistent_keepalive_interval));
	}
	wg_free_device(dev);
	*err = 0;
	return a;
}

json_t *status_wg_find(json_t *peers, const char *key_b64)
{
	size_t i;
	json_t *p;

	json_array_foreach(peers, i, p) {
		const char *k = json_string_value(json_object_get(p, "public_key"));

		if (k && !strcmp(k, key_b64))
			return p;
	}
	return NULL;
}
