/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: kernel interfaces: links, addresses, routes, WireGuard (netif.c). */
#ifndef RD_NETIF_H
#define RD_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"

int rd_if_index(const char *name);
int rd_link_set_up(const char *name);
int rd_addr_add(const char *ifname, const struct roster_addr *a, uint8_t plen);
/*
 * rosterd's routes carry their own protocol number, as a routing daemon's
 * do: `ip route show proto 82` lists them, and they are the only routes it
 * lists, adopts at start or deletes. 82 ('R') is registered in no
 * /etc/iproute2/rt_protos (Documentation/rosterd.rst, "Routes").
 */
#define RD_RTPROT 82
/* Create a route to p via ifname, protocol RD_RTPROT, in the main table:
 * -EEXIST if any route to p is there already (never replaced). */
int rd_route_add(const char *ifname, const struct roster_prefix *p);
/* Delete rosterd's route to p via ifname (absent: 0). */
int rd_route_del(const char *ifname, const struct roster_prefix *p);
/* Routes with protocol RD_RTPROT through ifname. *out malloc'ed. */
int rd_route_list(const char *ifname, struct roster_prefix **out, unsigned int *n);
/* The destinations of every other route in the main table (any protocol
 * but RD_RTPROT, any device, duplicates possible). *out malloc'ed. */
int rd_route_list_others(struct roster_prefix **out, unsigned int *n);

/* WireGuard (netif.c, on WireGuard's embeddable library in wglib.c): */
struct rd_wg_peer {
	uint8_t key[32];
	bool has_endpoint;
	struct roster_addr endpoint;
	uint16_t port;
	unsigned int n_allowed;
	const struct roster_prefix *allowed;
	uint16_t keepalive;
	bool remove;
};
/* Create (if needed) ifname, set private key (if key) and listen port (if port). */
int rd_wg_setup(const char *ifname, const uint8_t *privkey, uint16_t port);
int rd_wg_del(const char *ifname);
/* Apply peers in one call (the library splits big sets). replace: remove
 * every existing peer not in peers[]. */
int rd_wg_apply(const char *ifname, const struct rd_wg_peer *peers, unsigned int n,
		bool replace);
/* Every peer of ifname with the endpoint WireGuard last saw it at (the
 * address only). *out malloc'ed. */
struct rd_wg_endpoint {
	uint8_t key[32];
	bool has_endpoint;
	struct roster_addr endpoint;
	uint64_t last_handshake;	/* unix seconds, 0 never */
};
int rd_wg_peer_endpoints(const char *ifname, struct rd_wg_endpoint **out, unsigned int *n);
/* Current peer keys of ifname. *keys malloc'ed (n*32 bytes). */
int rd_wg_peer_keys(const char *ifname, uint8_t (**keys)[32], unsigned int *n);
void rd_wg_genkey(uint8_t priv[32]);
void rd_wg_pubkey(uint8_t pub[32], const uint8_t priv[32]);
void rd_key_b64(const uint8_t key[32], char out[45]);
int rd_key_from_b64(const char *s, uint8_t key[32]);

#endif /* RD_NETIF_H */
