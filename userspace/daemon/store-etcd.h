/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: the store on an etcd 3.4 cluster (store-etcd.c), for several
 * managers sharing one table. The manager reaches it through store.h like
 * the SQLite store (store.c chooses); the key layout is in
 * Documentation/etcd.rst.
 *
 * The same contract as store.h's: a change is one etcd transaction that
 * compares the VPN's generation, and the enrolment records change in one
 * transaction guarded by one key, so two managers (or `rosterd invite`)
 * never interleave. A read-modify-write that loses the race is re-read and
 * tried again, a few times, then -EBUSY.
 */
#ifndef RD_STORE_ETCD_H
#define RD_STORE_ETCD_H

#include "etcd-http.h"
#include "store.h"

/* The layout this rosterd writes under the prefix; a newer one is refused. */
#define RD_STORE_ETCD_LAYOUT 1

/* The front (store.c) over an etcd store. */
int rd_store_open_etcd(const struct rd_etcd_conf *c, struct rd_store **out, char *err,
		       size_t errlen);

/* The engine behind it, for store.c only. */
struct rd_etcd_store;

int rd_store_etcd_open(const struct rd_etcd_conf *c, struct rd_etcd_store **out, char *err,
		       size_t errlen);
void rd_store_etcd_close(struct rd_etcd_store *s);
const uint8_t *rd_store_etcd_identity(const struct rd_etcd_store *s);
const char *rd_store_etcd_describe(const struct rd_etcd_store *s);
const char *rd_store_etcd_errmsg(const struct rd_etcd_store *s);
int rd_store_etcd_load(struct rd_etcd_store *s, struct rd_store_vpn **out, unsigned int *n);
int rd_store_etcd_vpn_list(struct rd_etcd_store *s, struct rd_store_vpn **out, unsigned int *n);
int rd_store_etcd_vpn_get(struct rd_etcd_store *s, uint32_t id, struct rd_store_vpn *out);
int rd_store_etcd_vpn_generation(struct rd_etcd_store *s, uint32_t id, uint64_t *gen);
int rd_store_etcd_commit(struct rd_etcd_store *s, const struct rd_store_change *c);
int rd_store_etcd_gateways(struct rd_etcd_store *s, struct rd_entry **out, unsigned int *n);
int rd_store_etcd_invites(struct rd_etcd_store *s, struct rd_entry **out, unsigned int *n);
int rd_store_etcd_invite_put(struct rd_etcd_store *s, const struct rd_entry *inv,
			     uint8_t (*old_keys)[32], unsigned int max_old,
			     unsigned int *replaced);
int rd_store_etcd_invites_expire(struct rd_etcd_store *s, uint64_t now, uint8_t (*keys)[32],
				 unsigned int max, unsigned int *n);
int rd_store_etcd_enrol(struct rd_etcd_store *s, struct rd_entry *gw,
			const uint8_t invite_key[32], uint8_t old_key[32], bool *had_old);
int rd_store_etcd_revoke(struct rd_etcd_store *s, const struct roster_addr *id,
			 uint8_t (*keys)[32], unsigned int max, unsigned int *n);
int rd_store_etcd_key_revoked(struct rd_etcd_store *s, const uint8_t key[32]);
int rd_store_etcd_gateway_rekey(struct rd_etcd_store *s, const struct roster_addr *id,
				const uint8_t old_key[32], const uint8_t new_key[32]);
int rd_store_etcd_gateways_seen(struct rd_etcd_store *s, const struct roster_addr *ids,
				const uint64_t *when, unsigned int n);
int rd_store_etcd_session_next(struct rd_etcd_store *s, uint32_t *session);
bool rd_store_etcd_changed(struct rd_etcd_store *s);
int rd_store_etcd_watch_poll(struct rd_etcd_store *s, struct pollfd *pfd);
unsigned int rd_store_etcd_watch_run(struct rd_etcd_store *s, short revents);
void rd_store_etcd_watch_state(const struct rd_etcd_store *s, bool *live, int64_t *rev,
			       const char **endpoint);
int rd_store_etcd_backup(struct rd_etcd_store *s, const char *path);
int rd_store_etcd_campaign(struct rd_etcd_store *s, const char *name, unsigned int ttl,
			   bool *leader);
int rd_store_etcd_resign(struct rd_etcd_store *s);
int rd_store_etcd_raft_away(struct rd_etcd_store *s, const struct roster_addr *host, char *to,
			    size_t len);
int rd_store_etcd_leader(struct rd_etcd_store *s, char *name, size_t len);
int rd_store_etcd_manager_put(struct rd_etcd_store *s, const struct rd_store_manager *mg);
int rd_store_etcd_managers(struct rd_etcd_store *s, struct rd_store_manager *out,
			   unsigned int max, unsigned int *n);

#endif /* RD_STORE_ETCD_H */
