// SPDX-License-Identifier: GPL-2.0
/*
 * roster: the per-namespace VPN membership table.
 */

#include <linux/atomic.h>
#include <linux/netlink.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "table.h"

static struct kmem_cache *roster_member_cache;

/* Every object created must be destroyed; module exit reports the balance. */
static atomic64_t vpns_created, vpns_destroyed;
static atomic64_t members_created, members_destroyed;

static const struct rhashtable_params roster_member_params = {
	.key_len = sizeof(struct roster_key),
	.key_offset = offsetof(struct roster_member, key),
	.head_offset = offsetof(struct roster_member, node),
	.automatic_shrinking = true,
};

int roster_table_init(void)
{
	BUILD_BUG_ON(sizeof(struct roster_key) != 24);
	/* charged to the caller's memory cgroup, like the rest of its netns */
	roster_member_cache = KMEM_CACHE(roster_member, SLAB_ACCOUNT);
	return roster_member_cache ? 0 : -ENOMEM;
}

void roster_table_exit(void)
{
	/* Members are freed from RCU callbacks: let them all run first. */
	rcu_barrier();
	kmem_cache_destroy(roster_member_cache);
	pr_info("unloaded: vpns created %lld destroyed %lld, members created %lld destroyed %lld\n",
		(s64)atomic64_read(&vpns_created),
		(s64)atomic64_read(&vpns_destroyed),
		(s64)atomic64_read(&members_created),
		(s64)atomic64_read(&members_destroyed));
}

/* cb->seq 0 means "no check" to genl_dump_check_consistent() */
static u32 roster_seq_next(u32 seq)
{
	return seq + 1 ?: 1;
}

/* Every change of @vpn: its generation becomes @gen (always the newest). */
void roster_changed(struct roster_net *rn, struct roster_vpn *vpn, u64 gen)
{
	lockdep_assert_held(&rn->lock);
	WRITE_ONCE(vpn->generation, gen);
	WRITE_ONCE(vpn->seq, roster_seq_next(vpn->seq));
	WRITE_ONCE(rn->change_seq, roster_seq_next(rn->change_seq));
}

/*
 * The prefix index: all prefixes of a VPN's members in one tree, ordered by
 * family, then address, then length. Prefixes are aligned ranges, so two of
 * them overlap exactly when one contains the other.
 */
static bool roster_bits_equal(const u8 *a, const u8 *b, unsigned int bits)
{
	unsigned int n = bits / 8, rem = bits % 8;

	if (memcmp(a, b, n))
		return false;
	return !rem || !((a[n] ^ b[n]) & (u8)(0xff << (8 - rem)));
}

/* Compare the first addresses only: family, then address. */
static int roster_start_cmp(const struct roster_prefix *a,
			    const struct roster_prefix *b)
{
	if (a->addr.len != b->addr.len)
		return a->addr.len < b->addr.len ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, a->addr.len);
}

static int roster_prefix_cmp(const struct roster_prefix *a,
			     const struct roster_prefix *b)
{
	int r = roster_start_cmp(a, b);

	if (r)
		return r;
	return a->plen == b->plen ? 0 : a->plen < b->plen ? -1 : 1;
}

bool roster_prefix_overlap(const struct roster_prefix *a,
			   const struct roster_prefix *b)
{
	return a->addr.len == b->addr.len &&
	       roster_bits_equal(a->addr.bytes, b->addr.bytes,
				 min(a->plen, b->plen));
}

#define roster_prefix_of(n) rb_entry(n, struct roster_prefix, node)

/*
 * A prefix of another member than @self that @p may not coexist with, or
 * NULL. O(log N) in the VPN's prefixes, plus at most @self's own prefixes.
 *
 * Nested VPNs only refuse an equal prefix: one exact lookup. Otherwise the
 * tree holds disjoint prefixes, so the only one that can contain @p's first
 * address is the last one that starts before it, and those that @p contains
 * follow it in order.
 */
const struct roster_prefix *
roster_prefix_conflict(const struct roster_vpn *vpn,
		       const struct roster_prefix *p,
		       const struct roster_member *self)
{
	struct rb_node *n = vpn->prefixes.rb_node, *below = NULL;
	const struct roster_prefix *q;
	int r;

	if (vpn->flags & ROSTER_VPN_FLAGS_NESTED_PREFIXES) {
		while (n) {
			q = roster_prefix_of(n);
			r = roster_prefix_cmp(p, q);
			if (!r)
				return q->owner == self ? NULL : q;
			n = r < 0 ? n->rb_left : n->rb_right;
		}
		return NULL;
	}
	while (n) {
		q = roster_prefix_of(n);
		if (roster_start_cmp(q, p) < 0) {
			below = n;
			n = n->rb_right;
		} else {
			n = n->rb_left;
		}
	}
	if (below) {
		q = roster_prefix_of(below);
		if (q->owner != self && roster_prefix_overlap(q, p))
			return q;
	}
	for (n = below ? rb_next(below) : rb_first(&vpn->prefixes); n;
	     n = rb_next(n)) {
		q = roster_prefix_of(n);
		if (!roster_prefix_overlap(q, p))
			break;
		if (q->owner != self)
			return q;
	}
	return NULL;
}

static void roster_prefixes_link(struct roster_vpn *vpn,
				 struct roster_member *m)
{
	struct rb_node **link, *parent;
	struct roster_prefix *p;
	unsigned int i;

	for (i = 0; i < m->nprefixes; i++) {
		p = &m->prefixes[i];
		p->owner = m;
		link = &vpn->prefixes.rb_node;
		parent = NULL;
		while (*link) {
			parent = *link;
			/* equal keys cannot meet here: the caller checked */
			if (roster_prefix_cmp(p, roster_prefix_of(parent)) < 0)
				link = &parent->rb_left;
			else
				link = &parent->rb_right;
		}
		rb_link_node(&p->node, parent, link);
		rb_insert_color(&p->node, &vpn->prefixes);
	}
}

static void roster_prefixes_unlink(struct roster_vpn *vpn,
				   struct roster_member *m)
{
	unsigned int i;

	for (i = 0; i < m->nprefixes; i++)
		rb_erase(&m->prefixes[i].node, &vpn->prefixes);
}

struct roster_member *roster_member_alloc(unsigned int nprefixes)
{
	struct roster_member *m;

	m = kmem_cache_zalloc(roster_member_cache, GFP_KERNEL);
	if (!m)
		return NULL;
	if (nprefixes) {
		m->prefixes = kcalloc(nprefixes, sizeof(*m->prefixes),
				      GFP_KERNEL_ACCOUNT);
		if (!m->prefixes) {
			kmem_cache_free(roster_member_cache, m);
			return NULL;
		}
	}
	refcount_set(&m->ref, 1);
	atomic64_inc(&members_created);
	pr_debug("member %p created\n", m);
	return m;
}

static void roster_member_free_rcu(struct rcu_head *rcu)
{
	struct roster_member *m = container_of(rcu, struct roster_member, rcu);

	pr_debug("member %p destroyed\n", m);
	atomic64_inc(&members_destroyed);
	kfree(m->prefixes);
	kmem_cache_free(roster_member_cache, m);
}

void roster_member_put(struct roster_member *m)
{
	if (refcount_dec_and_test(&m->ref))
		call_rcu(&m->rcu, roster_member_free_rcu);
}

struct roster_member *roster_member_lookup(struct roster_net *rn,
					   const struct roster_key *key)
{
	return rhashtable_lookup_fast(&rn->members, key, roster_member_params);
}

int roster_member_insert(struct roster_net *rn, struct roster_vpn *vpn,
			 struct roster_member *m)
{
	int err;

	lockdep_assert_held(&rn->lock);
	err = rhashtable_insert_fast(&rn->members, &m->node,
				     roster_member_params);
	if (err)
		return err;
	err = xa_alloc_cyclic(&vpn->members, &m->slot, m, xa_limit_32b,
			      &vpn->next_slot, GFP_KERNEL);
	if (err < 0) {
		rhashtable_remove_fast(&rn->members, &m->node,
				       roster_member_params);
		return err;
	}
	roster_prefixes_link(vpn, m);
	WRITE_ONCE(vpn->nmembers, vpn->nmembers + 1);
	return 0;
}

void roster_member_replace(struct roster_net *rn, struct roster_vpn *vpn,
			   struct roster_member *old, struct roster_member *m)
{
	lockdep_assert_held(&rn->lock);
	m->slot = old->slot;
	/* The slot exists already, so this store allocates nothing. */
	xa_store(&vpn->members, m->slot, m, GFP_KERNEL);
	WARN_ON(rhashtable_replace_fast(&rn->members, &old->node, &m->node,
					roster_member_params));
	roster_prefixes_unlink(vpn, old);
	roster_prefixes_link(vpn, m);
	roster_member_put(old);
}

void roster_member_remove(struct roster_net *rn, struct roster_vpn *vpn,
			  struct roster_member *m)
{
	lockdep_assert_held(&rn->lock);
	xa_erase(&vpn->members, m->slot);
	rhashtable_remove_fast(&rn->members, &m->node, roster_member_params);
	roster_prefixes_unlink(vpn, m);
	WRITE_ONCE(vpn->nmembers, vpn->nmembers - 1);
	roster_member_put(m);
}

struct roster_vpn *roster_vpn_lookup(struct roster_net *rn, u32 id)
{
	return xa_load(&rn->vpns, id);
}

/* A new VPN at @generation: 1, or a stamped one's (follower, restore). */
struct roster_vpn *roster_vpn_create(struct roster_net *rn, u32 id, u32 flags,
				     u64 generation,
				     struct netlink_ext_ack *extack)
{
	struct roster_vpn *vpn;
	int err;

	lockdep_assert_held(&rn->lock);
	if (xa_load(&rn->vpns, id)) {
		NL_SET_ERR_MSG_MOD(extack, "VPN exists");
		return ERR_PTR(-EEXIST);
	}
	if (rn->nvpns >= roster_max_vpns(rn)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "too many VPNs in this namespace (sysctl net.roster.max_vpns)");
		return ERR_PTR(-ENOSPC);
	}
	vpn = kzalloc(sizeof(*vpn), GFP_KERNEL_ACCOUNT);
	if (!vpn)
		return ERR_PTR(-ENOMEM);
	vpn->id = id;
	vpn->flags = flags;
	vpn->generation = generation;
	vpn->seq = 1;
	vpn->prefixes = RB_ROOT;
	vpn->create_time = ktime_get_real_seconds();
	xa_init_flags(&vpn->members, XA_FLAGS_ALLOC);
	err = xa_insert(&rn->vpns, id, vpn, GFP_KERNEL);
	if (err) {
		kfree(vpn);
		return ERR_PTR(err);
	}
	WRITE_ONCE(rn->nvpns, rn->nvpns + 1);
	WRITE_ONCE(rn->change_seq, roster_seq_next(rn->change_seq));
	atomic64_inc(&vpns_created);
	pr_debug("vpn %u created (netns %u)\n", id, rn->inum);
	return vpn;
}

/* Unlink a VPN and drop its members; no notification is sent here. */
void roster_vpn_delete(struct roster_net *rn, struct roster_vpn *vpn)
{
	struct roster_member *m;
	unsigned long slot;

	lockdep_assert_held(&rn->lock);
	xa_erase(&rn->vpns, vpn->id);
	WRITE_ONCE(rn->nvpns, rn->nvpns - 1);
	xa_for_each(&vpn->members, slot, m) {
		rhashtable_remove_fast(&rn->members, &m->node,
				       roster_member_params);
		roster_member_put(m);
	}
	/* xarray nodes are freed after a grace period, safe for readers */
	xa_destroy(&vpn->members);
	WRITE_ONCE(rn->change_seq, roster_seq_next(rn->change_seq));
	atomic64_inc(&vpns_destroyed);
	pr_debug("vpn %u destroyed (netns %u)\n", vpn->id, rn->inum);
	kfree_rcu(vpn, rcu);
}

int roster_net_init(struct roster_net *rn, unsigned int inum)
{
	mutex_init(&rn->lock);
	xa_init(&rn->vpns);
	rn->change_seq = 1;
	rn->inum = inum;
	rn->max_vpns = ROSTER_DEFAULT_MAX_VPNS;
	rn->max_members = ROSTER_DEFAULT_MAX_MEMBERS;
	return rhashtable_init(&rn->members, &roster_member_params);
}

void roster_net_exit(struct roster_net *rn)
{
	struct roster_vpn *vpn;
	unsigned long id;

	mutex_lock(&rn->lock);
	xa_for_each(&rn->vpns, id, vpn)
		roster_vpn_delete(rn, vpn);
	mutex_unlock(&rn->lock);
	xa_destroy(&rn->vpns);
	/* Empty by now: no netlink socket of this namespace is left to read it. */
	rhashtable_destroy(&rn->members);
}
