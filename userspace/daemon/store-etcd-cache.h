/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: the etcd store's copies of VPNs (store-etcd-cache.c).
 *
 * The manager reads a whole VPN for every change it fans out and for
 * every SYNC_REQ: from etcd that is every member record again (0.3-0.6 s
 * at 10 000). Every write of a VPN's members also writes P/vpn/H, so a
 * copy read at P/vpn/H's revision M is the VPN for as long as P/vpn/H is
 * at M: a read then costs one small range (store-etcd.c checks it). A
 * handle's own commits update the copy when the put's previous revision
 * is the copy's (nobody wrote in between), else drop it. Pure memory: no
 * etcd here.
 */
#ifndef RD_STORE_ETCD_CACHE_H
#define RD_STORE_ETCD_CACHE_H

#include <stdint.h>

#include "store.h"

/* Bounds the copies' memory (a member is about 700 bytes): past it the
 * cache starts again empty. */
#define VCACHE_MAX_MEMBERS (1u << 18)

struct rd_vcache_entry {
	int64_t mod;			/* P/vpn/H's revision it is valid at */
	struct rd_store_vpn v;		/* members in etcd's key order */
};

/* Sorted by VPN id. Zeroed: empty. */
struct rd_vcache {
	struct rd_vcache_entry *e;
	unsigned int n, cap;
	unsigned long members;
};

/* The copy of VPN id, or NULL. */
struct rd_vcache_entry *rd_vcache_get(struct rd_vcache *vc, uint32_t id);
void rd_vcache_drop(struct rd_vcache *vc, uint32_t id);
void rd_vcache_clear(struct rd_vcache *vc);
/* Keep a copy of v, read at revision mod. */
void rd_vcache_store(struct rd_vcache *vc, const struct rd_store_vpn *v, int64_t mod);
/* c committed at revision rev; P/vpn/H was at prev before it (0: absent). */
void rd_vcache_commit(struct rd_vcache *vc, const struct rd_store_change *c, int64_t prev,
		      int64_t rev);

#endif /* RD_STORE_ETCD_CACHE_H */
