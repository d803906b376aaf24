/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: the SQLite engine under its own names, so that store.c can
 * put a choice of engine in front of store.h (the manager's `store =`).
 *
 * store-sqlite.c is written against store.h as it stands; the Makefile
 * compiles it with RD_STORE_SQLITE_RENAME and this header forced in
 * (-include), which turns its rd_store_X into rd_store_sqlite_X and its
 * struct rd_store into struct rd_sqlite_store. The prototypes below are
 * seen by both files, so the compiler checks that the renamed store.h
 * and what store.c calls agree. The Makefile also checks that the object
 * defines no rd_store_ handle function left unrenamed (a function added to
 * store.h and not here would otherwise be called with the front's handle).
 */
#ifndef RD_STORE_SQLITE_NAMES_H
#define RD_STORE_SQLITE_NAMES_H

#ifdef RD_STORE_SQLITE_RENAME
#define rd_store		rd_sqlite_store
#define rd_store_open		rd_store_sqlite_open
#define rd_store_close		rd_store_sqlite_close
#define rd_store_identity	rd_store_sqlite_identity
#define rd_store_identity_hex	rd_store_sqlite_identity_hex
#define rd_store_describe	rd_store_sqlite_describe
#define rd_store_errmsg		rd_store_sqlite_errmsg
#define rd_store_load		rd_store_sqlite_load
#define rd_store_vpn_list	rd_store_sqlite_vpn_list
#define rd_store_vpn_get	rd_store_sqlite_vpn_get
#define rd_store_vpn_generation	rd_store_sqlite_vpn_generation
#define rd_store_commit		rd_store_sqlite_commit
#define rd_store_gateways	rd_store_sqlite_gateways
#define rd_store_invites	rd_store_sqlite_invites
#define rd_store_invite_put	rd_store_sqlite_invite_put
#define rd_store_invites_expire	rd_store_sqlite_invites_expire
#define rd_store_enrol		rd_store_sqlite_enrol
#define rd_store_revoke		rd_store_sqlite_revoke
#define rd_store_key_revoked	rd_store_sqlite_key_revoked
#define rd_store_gateway_rekey	rd_store_sqlite_gateway_rekey
#define rd_store_gateways_seen	rd_store_sqlite_gateways_seen
#define rd_store_session_next	rd_store_sqlite_session_next
#define rd_store_changed	rd_store_sqlite_changed
#define rd_store_backup		rd_store_sqlite_backup
#define rd_store_sqlite		rd_store_sqlite_db
#endif

#include "store.h"

struct rd_sqlite_store;
struct sqlite3;

int rd_store_sqlite_open(const char *dir, struct rd_sqlite_store **out, char *err, size_t errlen);
void rd_store_sqlite_close(struct rd_sqlite_store *s);
const uint8_t *rd_store_sqlite_identity(const struct rd_sqlite_store *s);
const char *rd_store_sqlite_identity_hex(const struct rd_sqlite_store *s, char *buf);
const char *rd_store_sqlite_describe(const struct rd_sqlite_store *s);
const char *rd_store_sqlite_errmsg(const struct rd_sqlite_store *s);
int rd_store_sqlite_load(struct rd_sqlite_store *s, struct rd_store_vpn **out, unsigned int *n);
int rd_store_sqlite_vpn_list(struct rd_sqlite_store *s, struct rd_store_vpn **out,
			     unsigned int *n);
int rd_store_sqlite_vpn_get(struct rd_sqlite_store *s, uint32_t id, struct rd_store_vpn *out);
int rd_store_sqlite_vpn_generation(struct rd_sqlite_store *s, uint32_t id, uint64_t *gen);
int rd_store_sqlite_commit(struct rd_sqlite_store *s, const struct rd_store_change *c);
int rd_store_sqlite_gateways(struct rd_sqlite_store *s, struct rd_entry **out, unsigned int *n);
int rd_store_sqlite_invites(struct rd_sqlite_store *s, struct rd_entry **out, unsigned int *n);
int rd_store_sqlite_invite_put(struct rd_sqlite_store *s, const struct rd_entry *inv,
			       uint8_t (*old_keys)[32], unsigned int max_old,
			       unsigned int *replaced);
int rd_store_sqlite_invites_expire(struct rd_sqlite_store *s, uint64_t now, uint8_t (*keys)[32],
				   unsigned int max, unsigned int *n);
int rd_store_sqlite_enrol(struct rd_sqlite_store *s, struct rd_entry *gw,
			  const uint8_t invite_key[32], uint8_t old_key[32], bool *had_old);
int rd_store_sqlite_revoke(struct rd_sqlite_store *s, const struct roster_addr *id,
			   uint8_t (*keys)[32], unsigned int max, unsigned int *n);
int rd_store_sqlite_key_revoked(struct rd_sqlite_store *s, const uint8_t key[32]);
int rd_store_sqlite_gateway_rekey(struct rd_sqlite_store *s, const struct roster_addr *id,
				  const uint8_t old_key[32], const uint8_t new_key[32]);
int rd_store_sqlite_gateways_seen(struct rd_sqlite_store *s, const struct roster_addr *ids,
				  const uint64_t *when, unsigned int n);
int rd_store_sqlite_session_next(struct rd_sqlite_store *s, uint32_t *session);
bool rd_store_sqlite_changed(struct rd_sqlite_store *s);
int rd_store_sqlite_backup(struct rd_sqlite_store *s, const char *path);
struct sqlite3 *rd_store_sqlite_db(struct rd_sqlite_store *s);

#endif /* RD_STORE_SQLITE_NAMES_H */
