/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: the manager's durable store (store-sqlite.c).
 *
 * Everything the manager must not lose: the VPNs with their generations
 * and members, the enrolled gateways, the pending invitations and the
 * session counter. The interface is small on purpose, so that another
 * engine (etcd, for several managers) can stand behind it: open, load,
 * commit one change with its generation, and the enrolment records.
 *
 * A change is committed in one transaction, and only if the VPN's stored
 * generation is the one the change expects (compare and set). Nothing is
 * ever half written: a failed commit changes nothing.
 *
 * A handle is used by one thread at a time and never across fork(); every
 * process (the manager, `rosterd invite`, `rosterd backup`) opens its own.
 * Writers of several processes are serialised by the engine; a commit
 * waits a few seconds for another's and then fails with -EBUSY. Every
 * failure returns -errno and leaves its text in rd_store_errmsg().
 */
#ifndef RD_STORE_H
#define RD_STORE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "proto.h"
#include "state.h"

struct rd_store;

/* The store's file inside the state directory. */
#define RD_STORE_FILE "roster.db"

/* One VPN as committed. members is malloc'ed (rd_store_vpn_release). */
struct rd_store_vpn {
	uint32_t id;
	uint64_t generation;
	uint32_t flags;			/* ROSTER_VPN_F_* the VPN was created with */
	unsigned int n;
	struct roster_member *members;
};

enum rd_store_op {
	RD_STORE_MEMBER_PUT,	/* insert or replace member (by id); an absent
				 * VPN is created (vpn_flags) */
	RD_STORE_MEMBER_DEL,	/* delete member id (absent: no error; absent
				 * VPN: -ENOENT) */
	RD_STORE_VPN_PUT,	/* create the VPN (absent) or move its generation */
	RD_STORE_VPN_DEL,	/* delete the VPN and its members (absent: no
				 * error; gen is not used) */
	RD_STORE_VPN_REPLACE,	/* the VPN becomes exactly members[0..n) at gen */
};

struct rd_store_change {
	enum rd_store_op op;
	uint32_t vpn;
	/* The VPN's stored generation this change follows; 0: the VPN must
	 * be absent. RD_STORE_ANY_GEN: no check (a restore of the kernel's
	 * newer state, which wins by generation). */
	uint64_t prev_gen;
	/* The VPN's generation after the change: not 0, not ANY_GEN, and not
	 * below prev_gen (-EINVAL). */
	uint64_t gen;
	uint32_t vpn_flags;		/* a change creating the VPN; else unused */
	const struct roster_member *member;	/* MEMBER_PUT */
	struct roster_addr id;			/* MEMBER_DEL */
	const struct roster_member *members;	/* VPN_REPLACE */
	unsigned int n;
};

#define RD_STORE_ANY_GEN UINT64_MAX

/*
 * Open (creating it if missing) the store in dir (DIR/roster.db, mode
 * 0600). A new store gets a random identity. Plain-text state files of
 * an earlier rosterd (DIR/gateways, DIR/invites, DIR/session) are
 * imported into a new store once and renamed *.imported. On error
 * returns -errno and writes why to err.
 */
int rd_store_open(const char *dir, struct rd_store **out, char *err, size_t errlen);
/* The manager's store as configured ([manager] store = sqlite in the
 * state directory, or etcd: store-etcd.h), the same errors. */
struct rd_config;
int rd_store_open_config(const struct rd_config *c, struct rd_store **out, char *err,
			 size_t errlen);
void rd_store_close(struct rd_store *s);
/* The identity, created with the store and never changed. */
const uint8_t *rd_store_identity(const struct rd_store *s);
/* As 32 lowercase hex digits into buf (at least 33 bytes); returns buf. */
const char *rd_store_identity_hex(const struct rd_store *s, char *buf);
/* "SQLite database /var/lib/rosterd/roster.db": for logs. */
const char *rd_store_describe(const struct rd_store *s);
/* The text of the last failure (never NULL). */
const char *rd_store_errmsg(const struct rd_store *s);

/* ---- membership ---------------------------------------------------- */

/* Every VPN with its members, ascending id. *out malloc'ed
 * (rd_store_vpns_free); NULL if n = 0. */
int rd_store_load(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n);
/* The same without the members (n = 0): the VPNs and their generations. */
int rd_store_vpn_list(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n);
/* One VPN; -ENOENT if absent. */
int rd_store_vpn_get(struct rd_store *s, uint32_t id, struct rd_store_vpn *out);
/* The VPN's stored generation, without its members; -ENOENT if absent. */
int rd_store_vpn_generation(struct rd_store *s, uint32_t id, uint64_t *gen);
void rd_store_vpn_release(struct rd_store_vpn *v);
void rd_store_vpns_free(struct rd_store_vpn *v, unsigned int n);
/* Commit c in one durable transaction (WAL, synchronous=FULL). -ESTALE
 * if the stored generation is not c->prev_gen (nothing changed): the
 * store and the caller's view of the VPN differ, so the caller must
 * re-read it (rd_store_vpn_get) rather than retry. -EINVAL: a malformed
 * change (bad generation or member; nothing changed). */
int rd_store_commit(struct rd_store *s, const struct rd_store_change *c);

/* ---- enrolment ----------------------------------------------------- */

/* Enrolled gateways (ascending id) and pending invitations (ascending
 * id, then key; expiry 0: never expires). *out malloc'ed, free(); NULL if
 * n = 0. */
int rd_store_gateways(struct rd_store *s, struct rd_entry **out, unsigned int *n);
int rd_store_invites(struct rd_store *s, struct rd_entry **out, unsigned int *n);
/* Add an invitation (with its prefix list, if has_prefixes; records of
 * schema 1 have none); it replaces every earlier invitation for its id.
 * *replaced (may be NULL) receives how many it replaced, and the keys of
 * the first min(*replaced, max_old) go to old_keys if old_keys. */
int rd_store_invite_put(struct rd_store *s, const struct rd_entry *inv,
			uint8_t (*old_keys)[32], unsigned int max_old, unsigned int *replaced);
/* Drop the invitations whose expiry is not 0 and <= now; their keys go
 * to keys[0..*n) (room for max). At most max (and 64) are dropped per
 * call: call again while *n is that many. */
int rd_store_invites_expire(struct rd_store *s, uint64_t now, uint8_t (*keys)[32],
			    unsigned int max, unsigned int *n);
/* In one transaction: the invitation (id, invite_key) is consumed and gw
 * (its id, key and the invitation's VPNs) is enrolled, replacing an
 * earlier enrolment of the same id, whose key goes to old_key (and
 * *had_old = true, even if it is gw's key). -ENOENT if that invitation is
 * gone (expiry is not checked here). -EEXIST if gw's key is another
 * gateway's or any invitation's, this one's included (checked in the
 * transaction; nothing changed). gw->vpns and the prefix list are
 * taken from the invitation and written back to *gw (expiry 0). */
int rd_store_enrol(struct rd_store *s, struct rd_entry *gw, const uint8_t invite_key[32],
		   uint8_t old_key[32], bool *had_old);

/* ---- revocation, key rotation, liveness ---------------------------- */

/* Revoke id, in one transaction: its enrolment and every pending
 * invitation for it are deleted and their keys recorded as revoked; the
 * removed keys go to keys[0..*n) (room for max; the enrolled key first).
 * -ENOENT if id had neither. Its VPN memberships are roster.ko's: the
 * caller removes them there (reason admin). */
int rd_store_revoke(struct rd_store *s, const struct roster_addr *id, uint8_t (*keys)[32],
		    unsigned int max, unsigned int *n);
/* A revoked key is refused for ever: rd_store_invite_put, rd_store_enrol
 * and rd_store_gateway_rekey return -EKEYREVOKED for it. 1, 0 or -errno. */
int rd_store_key_revoked(struct rd_store *s, const uint8_t key[32]);
/* In one transaction, gateway id's key becomes new_key and old_key is
 * recorded as revoked. 0 also if id has new_key already (a retried
 * rotation). -ENOENT: id is not enrolled, or its key is neither; -EEXIST:
 * new_key is another gateway's or an invitation's; -EKEYREVOKED; -EINVAL:
 * new_key is old_key. */
int rd_store_gateway_rekey(struct rd_store *s, const struct roster_addr *id,
			   const uint8_t old_key[32], const uint8_t new_key[32]);
/* When the manager last heard from gateways ids[0..n) (unix seconds), in
 * one transaction; a time only moves forward, unknown ids are skipped.
 * rd_store_gateways returns them in rd_entry.last_seen. */
int rd_store_gateways_seen(struct rd_store *s, const struct roster_addr *ids,
			   const uint64_t *when, unsigned int n);

/* ---- sessions and other processes ---------------------------------- */

/* The next session id, committed: max(last + 1, the wall clock in
 * seconds), so larger than every one handed out before from this store. */
int rd_store_session_next(struct rd_store *s, uint32_t *session);
/* Another handle (`rosterd invite`) committed since the last call (or
 * the open); this handle's own commits do not count. On an error SQLite
 * says true; etcd (unreachable, or without a leader) says false, and true
 * at the first call that reaches it again. */
bool rd_store_changed(struct rd_store *s);
/*
 * Other handles' commits as they happen (etcd: a watch of the prefix from
 * the revision the handle opened at; SQLite: none, rd_store_changed is
 * all). The loop polls what rd_store_watch_poll sets up (fd -1: nothing
 * now) for at most the ms it returns (-1: no limit), then calls
 * rd_store_watch_run with the revents (0 on a timeout). That returns
 * what another handle changed, as RD_STORE_W_* bits; everything else
 * (enrolments, invitations, the managers) comes out of rd_store_changed,
 * which costs no request while the watch runs.
 */
#define RD_STORE_W_VPN		1u	/* a VPN's members or generation */
#define RD_STORE_W_LEADER	2u	/* the leadership ended, or changed hands */
#define RD_STORE_W_LOST		4u	/* changes were compacted away: read again */
#define RD_STORE_W_OTHER	8u	/* (internal: reported by rd_store_changed) */
int rd_store_watch_poll(struct rd_store *s, struct pollfd *pfd);
unsigned int rd_store_watch_run(struct rd_store *s, short revents);
/* The watch as `rosterd status` shows it: running (etcd confirmed it),
 * the store revision it has followed up to, the endpoint it is on.
 * -EOPNOTSUPP: no watch (SQLite). */
int rd_store_watch_state(struct rd_store *s, bool *live, int64_t *rev, const char **endpoint);
/* An online, consistent copy of the store into path (which must not
 * exist: -EEXIST), mode 0600, one self-contained file with the same
 * identity. Restore: put it at STATE_DIR/roster.db, manager stopped. */
int rd_store_backup(struct rd_store *s, const char *path);

/* ---- leadership among managers (store = etcd; Documentation/etcd.rst) - */

/* Take or keep leadership under name with a lease of ttl seconds; call
 * it every ttl/3 or more often. 0 and *leader, or an error (etcd
 * unreachable) with *leader false. While this handle leads, every change
 * it commits is fenced: once another manager has taken over, the commit
 * fails with -EPERM, changes nothing, and the handle no longer leads.
 * SQLite: always the leader (one process holds the database). */
int rd_store_campaign(struct rd_store *s, const char *name, unsigned int ttl, bool *leader);
/* Give leadership up now (revoke the lease): a clean stop. */
int rd_store_resign(struct rd_store *s);
/* Shared by several managers (etcd): nobody's kernel table may win over
 * it, since another manager may have committed since. */
bool rd_store_shared(const struct rd_store *s);
/* etcd's raft leader moved off the member of this host (host: this
 * manager's endpoint address; etcd-raft.h) if it is there: 1 and the new
 * raft leader's name in to, 0 if it was elsewhere (SQLite: always), or an
 * error. */
int rd_store_raft_away(struct rd_store *s, const struct roster_addr *host, char *to, size_t len);
/* The current leader's name ("" if none; SQLite: always ""). */
int rd_store_leader(struct rd_store *s, char *name, size_t len);

/* One manager of the cluster, as gateways reach it: its control tunnel's
 * key and endpoint, and its address inside it (etcd: P/manager/NAME). */
struct rd_store_manager {
	char name[64];
	uint8_t key[32];
	struct roster_addr endpoint;
	uint16_t port;
	struct roster_addr control_addr;
};

#define RD_STORE_MANAGERS_MAX 8

/* Record (or update) a manager; unchanged records are not rewritten.
 * SQLite: nothing to share, 0. */
int rd_store_manager_put(struct rd_store *s, const struct rd_store_manager *mg);
/* Every recorded manager, by name, at most max (-E2BIG beyond). SQLite:
 * none (the one manager is the set). */
int rd_store_managers(struct rd_store *s, struct rd_store_manager *out, unsigned int max,
		      unsigned int *n);

#endif /* RD_STORE_H */
