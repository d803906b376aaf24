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

unsigned int roster_max_vpns = 1024;
unsigned int roster_max_members = 131072;

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

void roster_changed(struct roster_net *rn, struct roster_vpn *vpn)
{
	lockdep_assert_held(&rn->lock);
	WRITE_ONCE(vpn->generation, vpn->generation + 1);
	/* cb->seq 0 means "no check" to genl_dump_check_consistent() */
	if (++rn->change_seq == 0)
		rn->change_seq = 1;
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
	vpn->nmembers++;
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
	roster_member_put(old);
}

void roster_member_remove(struct roster_net *rn, struct roster_vpn *vpn,
			  struct roster_member *m)
{
	lockdep_assert_held(&rn->lock);
	xa_erase(&vpn->members, m->slot);
	rhashtable_remove_fast(&rn->members, &m->node, roster_member_params);
	vpn->nmembers--;
	roster_member_put(m);
}

struct roster_vpn *roster_vpn_lookup(struct roster_net *rn, u32 id)
{
	return xa_load(&rn->vpns, id);
}

struct roster_vpn *roster_vpn_create(struct roster_net *rn, u32 id,
				     struct netlink_ext_ack *extack)
{
	struct roster_vpn *vpn;
	int err;

	lockdep_assert_held(&rn->lock);
	if (xa_load(&rn->vpns, id)) {
		NL_SET_ERR_MSG_MOD(extack, "VPN exists");
		return ERR_PTR(-EEXIST);
	}
	if (rn->nvpns >= READ_ONCE(roster_max_vpns)) {
		NL_SET_ERR_MSG_MOD(extack, "Too many VPNs in this namespace (max_vpns)");
		return ERR_PTR(-ENOSPC);
	}
	vpn = kzalloc(sizeof(*vpn), GFP_KERNEL_ACCOUNT);
	if (!vpn)
		return ERR_PTR(-ENOMEM);
	vpn->id = id;
	vpn->generation = 1;
	vpn->create_time = ktime_get_real_seconds();
	xa_init_flags(&vpn->members, XA_FLAGS_ALLOC);
	err = xa_insert(&rn->vpns, id, vpn, GFP_KERNEL);
	if (err) {
		kfree(vpn);
		return ERR_PTR(err);
	}
	rn->nvpns++;
	if (++rn->change_seq == 0)
		rn->change_seq = 1;
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
	rn->nvpns--;
	xa_for_each(&vpn->members, slot, m) {
		rhashtable_remove_fast(&rn->members, &m->node,
				       roster_member_params);
		roster_member_put(m);
	}
	/* xarray nodes are freed after a grace period, safe for readers */
	xa_destroy(&vpn->members);
	if (++rn->change_seq == 0)
		rn->change_seq = 1;
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
