// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: making roster.ko and the store agree, at start and
 * after a notification overrun.
 *
 * The kernel applies a change first and the store commits it after, so
 * after a crash between the two the kernel is one generation (or a few)
 * ahead: it wins, the store catches up and the members are sent the list.
 * After a reboot or an rmmod the kernel has lost the table: the store
 * wins, and the table is restored at the store's generations, each
 * member with its join generation and time, so that no gateway sees a
 * change at all.
 *
 * A standby (mgr-lead.h) never writes the store: the store wins every
 * time, and a VPN the kernel holds ahead of it (a deposed leader's
 * uncommitted change) or that the store lacks is dropped and rebuilt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw-table.h"
#include "log.h"
#include "mgr.h"
#include "mgr-lead.h"
#include "util.h"

enum mgr_verdict mgr_verdict(uint64_t k_gen, uint64_t s_gen, bool same_members)
{
	if (k_gen > s_gen)
		return MGR_KERNEL_WINS;
	if (k_gen < s_gen)
		return MGR_STORE_WINS;
	return same_members ? MGR_SAME : MGR_STORE_WINS;
}

static int member_cmp(const void *a, const void *b)
{
	return rd_addr_cmp(&((const struct roster_member *)a)->id,
			&((const struct roster_member *)b)->id);
}

/* Every field roster.ko keeps; prefixes as a set. */
static bool member_eq(const struct roster_member *a, const struct roster_member *b)
{
	if (!rd_addr_eq(&a->id, &b->id) || memcmp(a->key, b->key, 32) ||
	    a->has_endpoint != b->has_endpoint ||
	    a->join_generation != b->join_generation || a->join_time != b->join_time)
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || a->port != b->port))
		return false;
	return rd_prefixes_same(a->prefixes, a->n_prefixes, b->prefixes, b->n_prefixes);
}

static struct roster_member *sorted_copy(const struct roster_member *m, unsigned int n)
{
	struct roster_member *c = malloc((n ? n : 1) * sizeof(*c));

	if (!c)
		return NULL;
	if (n)
		memcpy(c, m, n * sizeof(*c));
	qsort(c, n, sizeof(*c), member_cmp);
	return c;
}

static const struct roster_member *find_sorted(const struct roster_member *m, unsigned int n,
					       const struct roster_addr *id)
{
	struct roster_member key = { .id = *id };

	return n ? bsearch(&key, m, n, sizeof(*m), member_cmp) : NULL;
}

bool mgr_same_members(const struct roster_member *a, unsigned int na,
		      const struct roster_member *b, unsigned int nb)
{
	struct roster_member *sb;
	bool same = true;

	if (na != nb)
		return false;
	sb = sorted_copy(b, nb);
	if (!sb)
		return false;
	for (unsigned int i = 0; i < na && same; i++) {
		const struct roster_member *o = find_sorted(sb, nb, &a[i].id);

		same = o && member_eq(&a[i], o);
	}
	free(sb);
	return same;
}

/* One VPN as both sides hold it (gen 0: absent). */
struct side {
	uint64_t gen;
	uint32_t flags;
	const struct roster_member *m;
	unsigned int n;
};

static void kernel_wins(struct mgr *m, uint32_t vpn, const struct side *k, const struct side *s)
{
	struct rd_store_change c = {
		.op = RD_STORE_VPN_REPLACE, .vpn = vpn, .prev_gen = RD_STORE_ANY_GEN,
		.gen = k->gen, .vpn_flags = k->flags, .members = k->m, .n = k->n,
	};
	int ret = rd_store_commit(m->st, &c);

	if (ret) {
		rd_err("vpn %u: store: cannot commit the kernel's generation %llu: %s", vpn,
		       (unsigned long long)k->gen, rd_store_errmsg(m->st));
		return;
	}
	rd_warn("vpn %u: the kernel is ahead of the store (generation %llu, stored %llu): "
		"committed, the members get the list", vpn, (unsigned long long)k->gen,
		(unsigned long long)s->gen);
	for (unsigned int i = 0; i < k->n; i++)
		mgr_list_queue(m, &k->m[i].id, RD_LIST, vpn, k->gen);
	for (unsigned int i = 0; i < s->n; i++)
		mgr_list_queue(m, &s->m[i].id, RD_LIST, vpn, k->gen);
}

/* Stamped with the store's generation and RESYNC: the kernel accepts them
 * at that generation (>= its own), and their notifications are echoes
 * the fan-out ignores. Removals first: a prefix may have moved. */
static int store_wins(struct mgr *m, uint32_t vpn, const struct side *k, const struct side *s,
		      unsigned long *restored)
{
	struct roster_member *ks = sorted_copy(k->m, k->n), *ss = sorted_copy(s->m, s->n);
	unsigned int changed = 0;
	int ret = 0;

	if (!ks || !ss) {
		ret = -ENOMEM;
		goto out;
	}
	if (!k->gen) {
		uint32_t flags = s->flags & ~ROSTER_VPN_F_FOLLOWER;

		if (!mgr_leads(m))
			flags |= ROSTER_VPN_F_FOLLOWER;
		ret = roster_vpn_create(m->rh, vpn, flags, s->gen, NULL);
		if (ret) {
			rd_err("vpn %u: cannot restore it at generation %llu: %s", vpn,
			       (unsigned long long)s->gen, roster_strerror_ext(m->rh, ret));
			goto out;
		}
	}
	for (unsigned int i = 0; i < k->n; i++) {
		const struct roster_member *want = find_sorted(ss, s->n, &ks[i].id);

		if (want && member_eq(want, &ks[i]))
			continue;
		ret = roster_member_del(m->rh, vpn, &ks[i].id, ROSTER_REASON_ADMIN, ROSTER_F_RESYNC,
					s->gen, NULL);
		if (ret) {
			rd_err("vpn %u: restore: cannot remove %s: %s", vpn, rd_ntop(&ks[i].id),
			       roster_strerror_ext(m->rh, ret));
			goto out;
		}
		changed++;
	}
	/* The adds are the bulk of a restore (every member after a reboot):
	 * pipelined, 64 to a system call. ss is reused for what is missing. */
	unsigned int nadd = 0;

	for (unsigned int i = 0; i < s->n; i++) {
		const struct roster_member *have = find_sorted(ks, k->n, &ss[i].id);

		if (!have || !member_eq(have, &ss[i]))
			ss[nadd++] = ss[i];
	}
	if (nadd) {
		size_t bad;

		ret = roster_member_add_many(m->rh, vpn, ss, nadd, ROSTER_F_RESYNC, s->gen, &bad);
		if (ret) {
			rd_err("vpn %u: restore: cannot add %s: %s", vpn,
			       bad < nadd ? rd_ntop(&ss[bad].id) : "?",
			       roster_strerror_ext(m->rh, ret));
			goto out;
		}
		changed += nadd;
		if (restored)
			*restored += nadd;
	}
	if (k->gen && k->gen < s->gen && !changed) {
		ret = roster_vpn_set(m->rh, vpn, s->gen, ROSTER_F_RESYNC, NULL, NULL);
		if (ret)
			rd_err("vpn %u: restore: cannot move to generation %llu: %s", vpn,
			       (unsigned long long)s->gen, roster_strerror_ext(m->rh, ret));
	}
	rd_info("vpn %u: restored from the store at generation %llu (%u change(s), kernel had %llu)",
		vpn, (unsigned long long)s->gen, changed, (unsigned long long)k->gen);
out:
	free(ks);
	free(ss);
	return ret;
}

/* A standby's kernel is ahead of the store, or holds a VPN it lacks:
 * the VPN goes, and is rebuilt from the store if it holds one. */
static int follow_rebase(struct mgr *m, uint32_t vpn, const struct side *k, const struct side *s,
			 unsigned long *restored)
{
	static const struct side none;
	int ret = gw_table_drop(m->rh, vpn);

	if (ret) {
		rd_err("vpn %u: cannot drop it to follow the store: %s", vpn,
		       roster_strerror_ext(m->rh, ret));
		return ret;
	}
	rd_warn("vpn %u: standby: the kernel had generation %llu, the store %llu: %s", vpn,
		(unsigned long long)k->gen, (unsigned long long)s->gen,
		s->gen ? "rebuilt from the store" : "deleted");
	return s->gen ? store_wins(m, vpn, &none, s, restored) : 0;
}

static int reconcile_one(struct mgr *m, uint32_t vpn, const struct side *k, const struct side *s,
			 unsigned long *restored)
{
	bool same = k->gen == s->gen && mgr_same_members(k->m, k->n, s->m, s->n);

	if (!mgr_leads(m) && !same && (k->gen > s->gen || !s->gen))
		return follow_rebase(m, vpn, k, s, restored);
	switch (mgr_verdict(k->gen, s->gen, same)) {
	case MGR_SAME:
		return 0;
	case MGR_KERNEL_WINS:
		kernel_wins(m, vpn, k, s);
		return 0;
	case MGR_STORE_WINS:
		return store_wins(m, vpn, k, s, restored);
	}
	return 0;
}

int mgr_reconcile_changed(struct mgr *m, unsigned long *restored)
{
	struct roster_vpn *kv = NULL;
	struct rd_store_vpn *sv = NULL;
	size_t nkv = 0, ki = 0;
	unsigned int nsv = 0, si = 0;
	int ret, err = 0;

	ret = roster_vpn_list(m->rh, &kv, &nkv);
	if (ret) {
		rd_err("cannot list the roster table's VPNs: %s", roster_strerror_ext(m->rh, ret));
		return ret;
	}
	ret = rd_store_vpn_list(m->st, &sv, &nsv);
	if (ret) {
		rd_err("store: cannot list the VPNs: %s", rd_store_errmsg(m->st));
		free(kv);
		return ret;
	}
	while (ki < nkv || si < nsv) {
		bool k = si >= nsv || (ki < nkv && kv[ki].id <= sv[si].id);
		bool s = ki >= nkv || (si < nsv && sv[si].id <= kv[ki].id);
		uint32_t id = k ? kv[ki].id : sv[si].id;

		if (!(k && s && kv[ki].generation == sv[si].generation) &&
		    mgr_reconcile(m, id, restored))
			err = -EIO;
		ki += k;
		si += s;
	}
	free(kv);
	rd_store_vpns_free(sv, nsv);
	return err;
}

int mgr_reconcile(struct mgr *m, uint32_t vpn, unsigned long *restored)
{
	struct roster_member_set *sets = NULL;
	struct roster_vpn *kv = NULL, one;
	struct rd_store_vpn *sv = NULL, sone = { 0 };
	size_t nsets = 0, nkv = 0;
	unsigned int nsv = 0, ki = 0, si = 0;
	int ret, err = 0;

	if (vpn) {
		ret = roster_vpn_get(m->rh, vpn, &one);
		if (!ret) {
			kv = &one;
			nkv = 1;
			if (one.member_count)
				ret = roster_member_list(m->rh, vpn, &sets, &nsets);
		} else if (ret == -ENOENT) {
			ret = 0;
		}
	} else {
		ret = roster_vpn_list(m->rh, &kv, &nkv);
		if (!ret)
			ret = roster_member_list(m->rh, 0, &sets, &nsets);
	}
	if (ret) {
		rd_err("cannot dump the roster table: %s", roster_strerror_ext(m->rh, ret));
		goto out;
	}
	if (vpn) {
		ret = rd_store_vpn_get(m->st, vpn, &sone);
		if (!ret) {
			sv = &sone;
			nsv = 1;
		} else if (ret == -ENOENT) {
			ret = 0;
		}
	} else {
		ret = rd_store_load(m->st, &sv, &nsv);
	}
	if (ret) {
		rd_err("store: cannot load: %s", rd_store_errmsg(m->st));
		goto out;
	}
	/* Both in ascending id: walk them side by side. */
	while (ki < nkv || si < nsv) {
		struct side k = { 0 }, s = { 0 };
		uint32_t id;

		if (si >= nsv || (ki < nkv && kv[ki].id < sv[si].id))
			id = kv[ki].id;
		else
			id = sv[si].id;
		if (ki < nkv && kv[ki].id == id) {
			k.gen = kv[ki].generation;
			k.flags = kv[ki].flags;
			for (size_t i = 0; i < nsets; i++) {
				if (sets[i].vpn_id != id)
					continue;
				/* The member dump may be newer than the VPN dump. */
				k.gen = sets[i].generation;
				k.m = sets[i].members;
				k.n = sets[i].count;
			}
			ki++;
		}
		if (si < nsv && sv[si].id == id) {
			s.gen = sv[si].generation;
			s.flags = sv[si].flags;
			s.m = sv[si].members;
			s.n = sv[si].n;
			si++;
		}
		if (reconcile_one(m, id, &k, &s, restored))
			err = -EIO;
	}
	ret = err;
out:
	if (kv != &one)
		free(kv);
	roster_member_sets_free(sets, nsets);
	if (sv == &sone)
		rd_store_vpn_release(&sone);
	else
		rd_store_vpns_free(sv, nsv);
	return ret;
}
