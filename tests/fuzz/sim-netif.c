// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netif.c's interfaces, addresses, routes and WireGuard, simulated for the
 * manager target: every call succeeds, and rctl0's peers are kept in
 * sim.wg for the oracles. Keys are not curve25519 (the harness never does
 * a handshake): a public key is its private key with every byte xor 0x5c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

int rd_if_index(const char *name)
{
	(void)name;
	return 7;
}

int rd_link_set_up(const char *name)
{
	(void)name;
	return 0;
}

int rd_addr_add(const char *ifname, const struct roster_addr *a, uint8_t plen)
{
	(void)ifname;
	(void)a;
	(void)plen;
	return 0;
}

int rd_route_replace(const char *ifname, const struct roster_prefix *p)
{
	(void)ifname;
	(void)p;
	return 0;
}

int rd_route_del(const char *ifname, const struct roster_prefix *p)
{
	(void)ifname;
	(void)p;
	return 0;
}

int rd_route_list(const char *ifname, struct roster_prefix **out, unsigned int *n)
{
	(void)ifname;
	*out = NULL;
	*n = 0;
	return 0;
}

int rd_wg_setup(const char *ifname, const uint8_t *privkey, uint16_t port)
{
	(void)ifname;
	(void)privkey;
	(void)port;
	return 0;
}

int rd_wg_del(const char *ifname)
{
	(void)ifname;
	return 0;
}

static int wg_find(const uint8_t key[32])
{
	for (unsigned int i = 0; i < sim.nwg; i++)
		if (!memcmp(sim.wg[i].key, key, 32))
			return (int)i;
	return -1;
}

int rd_wg_apply(const char *ifname, const struct rd_wg_peer *peers, unsigned int n, bool replace)
{
	(void)ifname;
	if (replace)
		sim.nwg = 0;
	for (unsigned int i = 0; i < n; i++) {
		int k = wg_find(peers[i].key);

		if (peers[i].remove) {
			if (k >= 0)
				sim.wg[k] = sim.wg[--sim.nwg];
			continue;
		}
		if (k < 0) {
			if (sim.nwg == SIM_WG_PEERS)
				return -ENOSPC;
			k = (int)sim.nwg++;
		}
		memcpy(sim.wg[k].key, peers[i].key, 32);
		memset(&sim.wg[k].allowed, 0, sizeof(sim.wg[k].allowed));
		if (peers[i].n_allowed)
			sim.wg[k].allowed = peers[i].allowed[0];
		/* WireGuard moves an allowed-ip to the last peer that claims it. */
		for (unsigned int j = 0; j < sim.nwg; j++)
			if ((int)j != k && peers[i].n_allowed &&
			    rd_prefix_eq(&sim.wg[j].allowed, &sim.wg[k].allowed))
				memset(&sim.wg[j].allowed, 0, sizeof(sim.wg[j].allowed));
	}
	return 0;
}

int rd_wg_peer_keys(const char *ifname, uint8_t (**keys)[32], unsigned int *n)
{
	(void)ifname;
	*keys = calloc(sim.nwg ? sim.nwg : 1, 32);
	if (!*keys)
		return -ENOMEM;
	for (unsigned int i = 0; i < sim.nwg; i++)
		memcpy((*keys)[i], sim.wg[i].key, 32);
	*n = sim.nwg;
	return 0;
}

int rd_wg_peer_endpoints(const char *ifname, struct rd_wg_endpoint **out, unsigned int *n)
{
	(void)ifname;
	*out = calloc(sim.nwg ? sim.nwg : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (unsigned int i = 0; i < sim.nwg; i++) {
		memcpy((*out)[i].key, sim.wg[i].key, 32);
		(*out)[i].has_endpoint = sim.observed &&
					 sim.observed(sim.wg[i].key, &(*out)[i].endpoint);
	}
	*n = sim.nwg;
	return 0;
}

int rd_route_add(const char *ifname, const struct roster_prefix *p)
{
	(void)ifname;
	(void)p;
	return 0;
}

void rd_wg_genkey(uint8_t priv[32])
{
	rd_random(priv, 32);
}

void rd_wg_pubkey(uint8_t pub[32], const uint8_t priv[32])
{
	for (int i = 0; i < 32; i++)
		pub[i] = priv[i] ^ 0x5c;
}

void rd_key_b64(const uint8_t key[32], char out[45])
{
	roster_key_format(key, out);
}

int rd_key_from_b64(const char *s, uint8_t key[32])
{
	return roster_key_parse(s, key) ? -EINVAL : 0;
}
