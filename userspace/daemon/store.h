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
 */
#ifndef RD_STORE_H
#define RD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "proto.h"
#include "state.h"

struct rd_store;

/* One VPN as committed. members is malloc'ed (rd_store_vpn_release). */
struct rd_store_vpn {
	uint32_t id;
	uint64_t generation;
	uint32_t flags;			/* ROSTER_VPN_F_* the VPN was created with */
	unsigned int n;
	struct roster_member *members;
};

enum rd_store_op {
	RD_STORE_MEMBER_PUT,	/* insert or replace member (by id) */
	RD_STORE_MEMBER_DEL,	/* delete member id (absent: no error) */
	RD_STORE_VPN_PUT,	/* create the VPN (absent) or move its generation */
	RD_STORE_VPN_DEL,	/* delete the VPN and its members */
	RD_STORE_VPN_REPLACE,	/* the VPN becomes exactly members[0..n) at gen */
};

struct rd_store_change {
	enum rd_store_op op;
	uint32_t vpn;
	/* The VPN's stored generation this change follows; 0: the VPN must
	 * be absent. RD_STORE_ANY_GEN: no check (a restore of the kernel's
	 * newer state, which wins by generation). */
	uint64_t prev_gen;
	uint64_t gen;			/* the VPN's generation after the change */
	uint32_t vpn_flags;		/* VPN_PUT / VPN_REPLACE creating the VPN */
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
/* One VPN; -ENOENT if absent. */
int rd_store_vpn_get(struct rd_store *s, uint32_t id, struct rd_store_vpn *out);
void rd_store_vpn_release(struct rd_store_vpn *v);
void rd_store_vpns_free(struct rd_store_vpn *v, unsigned int n);
/* Commit c in one durable transaction (WAL, synchronous=FULL). -ESTALE
 * if the stored generation is not c->prev_gen (nothing changed). */
int rd_store_commit(struct rd_store *s, const struct rd_store_change *c);

/* ---- enrolment ----------------------------------------------------- */

/* Enrolled gateways (ascending id) and pending invitations. *out
 * malloc'ed, free(); NULL if n = 0. */
int rd_store_gateways(struct rd_store *s, struct rd_entry **out, unsigned int *n);
int rd_store_invites(struct rd_store *s, struct rd_entry **out, unsigned int *n);
/* Add an invitation; it replaces every earlier invitation for its id.
 * *replaced (may be NULL) receives how many it replaced, and their keys
 * go to old_keys[0..*replaced) if old_keys (room for max_old). */
int rd_store_invite_put(struct rd_store *s, const struct rd_entry *inv,
			uint8_t (*old_keys)[32], unsigned int max_old, unsigned int *replaced);
/* Drop the invitations whose expiry is <= now; their keys go to
 * keys[0..*n) (room for max). */
int rd_store_invites_expire(struct rd_store *s, uint64_t now, uint8_t (*keys)[32],
			    unsigned int max, unsigned int *n);
/* In one transaction: the invitation (id, invite_key) is consumed and gw
 * (its id, key and the invitation's VPNs) is enrolled, replacing an
 * earlier enrolment of the same id, whose key goes to old_key (and
 * *had_old = true). -ENOENT if that invitation is gone. gw->vpns are
 * taken from the invitation and written back to *gw. */
int rd_store_enrol(struct rd_store *s, struct rd_entry *gw, const uint8_t invite_key[32],
		   uint8_t old_key[32], bool *had_old);

/* ---- sessions and other processes ---------------------------------- */

/* The next session id: larger than every one handed out before from this
 * store and than the wall clock in seconds. */
int rd_store_session_next(struct rd_store *s, uint32_t *session);
/* Another process (`rosterd invite`) committed since the last call. */
bool rd_store_changed(struct rd_store *s);
/* An online copy of the store into path (which must not exist). */
int rd_store_backup(struct rd_store *s, const char *path);

#endif /* RD_STORE_H */
