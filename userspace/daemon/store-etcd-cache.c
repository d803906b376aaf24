// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: the etcd store's copies of VPNs (store-etcd-cache.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store-etcd-cache.h"

static int find(const struct rd_vcache *vc, uint32_t id, unsigned int *pos)
{
	unsigned int lo = 0, hi = vc->n;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (vc->e[mid].v.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return lo < vc->n && vc->e[lo].v.id == id;
}

struct rd_vcache_entry *rd_vcache_get(struct rd_vcache *vc, uint32_t id)
{
	unsigned int i;

	return find(vc, id, &i) ? &vc->e[i] : NULL;
}

void rd_vcache_drop(struct rd_vcache *vc, uint32_t id)
{
	unsigned int i;

	if (!find(vc, id, &i))
		return;
	vc->members -= vc->e[i].v.n;
	rd_store_vpn_release(&vc->e[i].v);
	memmove(&vc->e[i], &vc->e[i + 1], (vc->n - i - 1) * sizeof(*vc->e));
	vc->n--;
}

void rd_vcache_clear(struct rd_vcache *vc)
{
	for (unsigned int i = 0; i < vc->n; i++)
		rd_store_vpn_release(&vc->e[i].v);
	free(vc->e);
	vc->e = NULL;
	vc->n = vc->cap = 0;
	vc->members = 0;
}

/* The entry for id, emptied (members freed), created if absent. */
static struct rd_vcache_entry *slot(struct rd_vcache *vc, uint32_t id)
{
	unsigned int i;

	if (find(vc, id, &i)) {
		vc->members -= vc->e[i].v.n;
		rd_store_vpn_release(&vc->e[i].v);
		return &vc->e[i];
	}
	if (vc->n == vc->cap) {
		unsigned int nc = vc->cap ? vc->cap * 2 : 16;
		struct rd_vcache_entry *n = realloc(vc->e, nc * sizeof(*n));

		if (!n)
			return NULL;
		vc->e = n;
		vc->cap = nc;
	}
	memmove(&vc->e[i + 1], &vc->e[i], (vc->n - i) * sizeof(*vc->e));
	vc->n++;
	memset(&vc->e[i], 0, sizeof(vc->e[i]));
	vc->e[i].v.id = id;
	return &vc->e[i];
}

/* etcd's order of the member keys: the id's bytes, a shorter id first. */
static int mid_cmp(const struct roster_addr *a, const struct roster_addr *b)
{
	size_t la = roster_addr_len(a), lb = roster_addr_len(b);
	int c = memcmp(a->addr, b->addr, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

static int member_cmp(const void *a, const void *b)
{
	return mid_cmp(&((const struct roster_member *)a)->id, &((const struct roster_member *)b)->id);
}

void rd_vcache_store(struct rd_vcache *vc, const struct rd_store_vpn *v, int64_t mod)
{
	struct rd_vcache_entry *e;

	if (vc->members + v->n > VCACHE_MAX_MEMBERS)
		rd_vcache_clear(vc);
	if (v->n > VCACHE_MAX_MEMBERS)
		return;
	e = slot(vc, v->id);
	if (!e)
		return;
	e->v = *v;
	e->v.members = NULL;
	if (v->n) {
		e->v.members = malloc(v->n * sizeof(*v->members));
		if (!e->v.members) {
			rd_vcache_drop(vc, v->id);
			return;
		}
		memcpy(e->v.members, v->members, v->n * sizeof(*v->members));
	}
	e->mod = mod;
	vc->members += v->n;
}

/* Member m put into e's sorted members (replacing the one of its id). */
static bool put_member(struct rd_vcache *vc, struct rd_vcache_entry *e,
		       const struct roster_member *m)
{
	unsigned int lo = 0, hi = e->v.n;
	struct roster_member *nm;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (mid_cmp(&e->v.members[mid].id, &m->id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->v.n && !mid_cmp(&e->v.members[lo].id, &m->id)) {
		e->v.members[lo] = *m;
		return true;
	}
	nm = realloc(e->v.members, (e->v.n + 1) * sizeof(*nm));
	if (!nm)
		return false;
	e->v.members = nm;
	memmove(&nm[lo + 1], &nm[lo], (e->v.n - lo) * sizeof(*nm));
	nm[lo] = *m;
	e->v.n++;
	vc->members++;
	return true;
}

static void del_member(struct rd_vcache *vc, struct rd_vcache_entry *e,
		       const struct roster_addr *id)
{
	for (unsigned int i = 0; i < e->v.n; i++)
		if (!mid_cmp(&e->v.members[i].id, id)) {
			memmove(&e->v.members[i], &e->v.members[i + 1],
				(e->v.n - i - 1) * sizeof(*e->v.members));
			e->v.n--;
			vc->members--;
			if (!e->v.n) {
				free(e->v.members);
				e->v.members = NULL;
			}
			return;
		}
}

void rd_vcache_commit(struct rd_vcache *vc, const struct rd_store_change *c, int64_t prev,
		      int64_t rev)
{
	struct rd_vcache_entry *e;
	unsigned int i;

	if (c->op == RD_STORE_VPN_DEL) {
		rd_vcache_drop(vc, c->vpn);
		return;
	}
	if (!prev) {
		/* A new VPN: exactly what this change wrote. */
		struct rd_store_vpn v = { .id = c->vpn, .generation = c->gen, .flags = c->vpn_flags };

		rd_vcache_store(vc, &v, 0);
	} else if (!find(vc, c->vpn, &i) || vc->e[i].mod != prev) {
		rd_vcache_drop(vc, c->vpn);
		return;
	}
	if (!find(vc, c->vpn, &i))
		return;
	e = &vc->e[i];
	e->mod = rev;
	e->v.generation = c->gen;
	switch (c->op) {
	case RD_STORE_MEMBER_PUT:
		if (!put_member(vc, e, c->member))
			rd_vcache_drop(vc, c->vpn);
		break;
	case RD_STORE_MEMBER_DEL:
		del_member(vc, e, &c->id);
		break;
	case RD_STORE_VPN_REPLACE: {
		struct rd_store_vpn v = { .id = c->vpn, .generation = c->gen, .flags = e->v.flags,
					  .n = c->n };

		if (c->n) {
			v.members = malloc(c->n * sizeof(*v.members));
			if (!v.members) {
				rd_vcache_drop(vc, c->vpn);
				break;
			}
			memcpy(v.members, c->members, c->n * sizeof(*v.members));
			qsort(v.members, c->n, sizeof(*v.members), member_cmp);
		}
		rd_vcache_store(vc, &v, rev);
		free(v.members);
		break;
	}
	default:
		break;
	}
}
