/* SPDX-License-Identifier: GPL-2.0 */
/*
 * roster: the per-namespace VPN membership table.
 *
 * Writers hold roster_net.lock; readers use RCU. Members are immutable once
 * published: a re-join publishes a new object in place of the old one, so a
 * reader (or a dump still being streamed) never sees a torn record.
 */
#ifndef _ROSTER_TABLE_H
#define _ROSTER_TABLE_H

#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/xarray.h>
#include <uapi/linux/roster.h>

struct ctl_table_header;
struct net;
struct netlink_ext_ack;

/* An IPv4 (len 4) or IPv6 (len 16) address; unused bytes are zero. */
struct roster_addr {
	u8 len;
	u8 bytes[16];
};

struct roster_member;

struct roster_prefix {
	struct roster_addr addr;
	u8 plen;
	/* In roster_vpn.prefixes while the owner is published; writers only. */
	struct rb_node node;
	struct roster_member *owner;
};

/* Hash key of a member: zero the whole struct, padding included. */
struct roster_key {
	u32 vpn_id;
	struct roster_addr id;
	u8 pad[3];
};

struct roster_member {
	struct rhash_head node;
	struct roster_key key;
	u32 slot;			/* index in roster_vpn.members */
	refcount_t ref;
	u16 port;			/* endpoint port, 0: no endpoint */
	u8 nprefixes;
	struct roster_addr endpoint;
	u8 public_key[ROSTER_KEY_LEN];
	u64 join_gen;
	time64_t join_time;
	struct roster_prefix *prefixes;
	struct rcu_head rcu;
};

struct roster_vpn {
	u32 id;
	u32 flags;			/* ROSTER_VPN_FLAGS_*; vpn-set changes FOLLOWER */
	u32 nmembers;
	u32 next_slot;
	u32 seq;			/* dump consistency of this VPN; never 0 */
	u64 generation;
	time64_t create_time;
	/* slot -> member; slots grow with every join, so dumps follow join order */
	struct xarray members;
	/* every member's prefixes, ordered by roster_prefix_cmp(); writers only */
	struct rb_root prefixes;
	struct rcu_head rcu;
};

/* Defaults of the net.roster.max_vpns and max_members sysctls. */
#define ROSTER_DEFAULT_MAX_VPNS		1024
#define ROSTER_DEFAULT_MAX_MEMBERS	131072

struct roster_net {
	struct mutex lock;		/* serialises all writers */
	struct xarray vpns;		/* vpn id -> struct roster_vpn */
	struct rhashtable members;	/* struct roster_key -> member */
	unsigned int nvpns;
	u32 change_seq;			/* dump consistency; never 0 */
	unsigned int inum;		/* netns inode number, for the log */
	/* net.roster.* sysctls of this namespace */
	unsigned int max_vpns;
	unsigned int max_members;
	struct ctl_table_header *sysctl;
	/*
	 * The initial namespace's table, when this namespace belongs to
	 * another user namespace: its root may lower the limits, not raise
	 * them above the initial namespace's.
	 */
	const struct roster_net *cap;
};

static inline unsigned int roster_max_vpns(const struct roster_net *rn)
{
	unsigned int v = READ_ONCE(rn->max_vpns);

	return rn->cap ? min(v, READ_ONCE(rn->cap->max_vpns)) : v;
}

static inline unsigned int roster_max_members(const struct roster_net *rn)
{
	unsigned int v = READ_ONCE(rn->max_members);

	return rn->cap ? min(v, READ_ONCE(rn->cap->max_members)) : v;
}

struct roster_net *roster_net(const struct net *net);

int roster_sysctl_register(struct net *net, struct roster_net *rn);
void roster_sysctl_unregister(struct roster_net *rn);

int roster_table_init(void);
void roster_table_exit(void);
int roster_net_init(struct roster_net *rn, unsigned int inum);
void roster_net_exit(struct roster_net *rn);

struct roster_vpn *roster_vpn_lookup(struct roster_net *rn, u32 id);
struct roster_vpn *roster_vpn_create(struct roster_net *rn, u32 id, u32 flags,
				     u64 generation,
				     struct netlink_ext_ack *extack);
void roster_vpn_delete(struct roster_net *rn, struct roster_vpn *vpn);

struct roster_member *roster_member_alloc(unsigned int nprefixes);
void roster_member_put(struct roster_member *m);
struct roster_member *roster_member_lookup(struct roster_net *rn,
					   const struct roster_key *key);
int roster_member_insert(struct roster_net *rn, struct roster_vpn *vpn,
			 struct roster_member *m);
void roster_member_replace(struct roster_net *rn, struct roster_vpn *vpn,
			   struct roster_member *old, struct roster_member *m);
void roster_member_remove(struct roster_net *rn, struct roster_vpn *vpn,
			  struct roster_member *m);

bool roster_prefix_overlap(const struct roster_prefix *a,
			   const struct roster_prefix *b);
const struct roster_prefix *
roster_prefix_conflict(const struct roster_vpn *vpn,
		       const struct roster_prefix *p,
		       const struct roster_member *self);

void roster_changed(struct roster_net *rn, struct roster_vpn *vpn, u64 gen);

static inline void roster_member_get(struct roster_member *m)
{
	refcount_inc(&m->ref);
}

#endif /* _ROSTER_TABLE_H */
