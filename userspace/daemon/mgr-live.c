// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: last-heard times of the gateways (mgr-live.h).
 *
 * An open-addressing table keyed by gateway id: the packet path looks a
 * gateway up on every message, and a manager serves up to 65 536 peers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mgr.h"
#include "mgr-live.h"
#include "netif.h"
#include "util.h"

struct live_slot {
	bool used;
	struct roster_addr id;
	uint64_t heard;		/* latest time known here */
	uint64_t written;	/* latest time written to the store */
};

struct mgr_live {
	struct live_slot *slot;
	unsigned int cap, n;	/* cap: a power of two, or 0 */
	uint64_t last_flush;
};

static uint32_t id_hash(const struct roster_addr *a)
{
	const uint8_t *p = (const uint8_t *)a->addr;
	size_t len = roster_addr_len(a);
	uint32_t h = 2166136261u ^ a->family;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct live_slot *lookup(struct mgr_live *t, const struct roster_addr *id)
{
	unsigned int i;

	if (!t || !t->cap)
		return NULL;
	for (i = id_hash(id) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct live_slot *s = &t->slot[i];

		if (!s->used || !rd_addr_cmp(&s->id, id))
			return s;
	}
}

static int grow(struct mgr_live *t)
{
	unsigned int ncap = t->cap ? t->cap * 2 : 64;
	struct live_slot *old = t->slot, *ns = calloc(ncap, sizeof(*ns));
	unsigned int ocap = t->cap;

	if (!ns)
		return -ENOMEM;
	t->slot = ns;
	t->cap = ncap;
	for (unsigned int i = 0; i < ocap; i++)
		if (old[i].used)
			*lookup(t, &old[i].id) = old[i];
	free(old);
	return 0;
}

static struct live_slot *slot_for(struct mgr *m, const struct roster_addr *id)
{
	struct mgr_live *t = m->live;
	struct live_slot *s;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		m->live = t;
	}
	s = lookup(t, id);
	if (s && s->used)
		return s;
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t))
			return NULL;
		s = lookup(t, id);
	}
	s->used = true;
	s->id = *id;
	t->n++;
	return s;
}

void mgr_live_heard(struct mgr *m, const struct roster_addr *id, uint64_t now_s)
{
	struct live_slot *s = slot_for(m, id);

	if (s && now_s > s->heard)
		s->heard = now_s;
}

uint64_t mgr_live_last_seen(struct mgr *m, const struct roster_addr *id)
{
	const struct rd_entry *gw = mgr_gw_find(m, id);
	const struct live_slot *s = lookup(m->live, id);
	uint64_t t = gw ? gw->last_seen : 0;

	if (s && s->used && s->heard > t)
		t = s->heard;
	return t;
}

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(((const struct rd_wg_endpoint *)a)->key,
		      ((const struct rd_wg_endpoint *)b)->key, 32);
}

/* rctl0's latest handshake with each enrolled gateway's key. */
static void fold_handshakes(struct mgr *m)
{
	struct rd_wg_endpoint *ep, k;
	unsigned int n;

	if (!m->ngws || rd_wg_peer_endpoints(m->c->ifname, &ep, &n))
		return;
	if (n > 1)
		qsort(ep, n, sizeof(*ep), ep_cmp);
	for (unsigned int i = 0; i < m->ngws && n; i++) {
		const struct rd_wg_endpoint *e;

		memcpy(k.key, m->gws[i].key, 32);
		e = bsearch(&k, ep, n, sizeof(k), ep_cmp);
		if (e && e->last_handshake)
			mgr_live_heard(m, &m->gws[i].id, e->last_handshake);
	}
	free(ep);
}

static void write_out(struct mgr *m)
{
	struct mgr_live *t = m->live;
	struct roster_addr *ids;
	uint64_t *when;
	unsigned int n = 0;
	int ret;

	if (!t || !t->n)
		return;
	ids = calloc(t->n, sizeof(*ids));
	when = calloc(t->n, sizeof(*when));
	if (!ids || !when)
		goto out;
	for (unsigned int i = 0; i < t->cap; i++)
		if (t->slot[i].used && t->slot[i].heard > t->slot[i].written) {
			ids[n] = t->slot[i].id;
			when[n++] = t->slot[i].heard;
		}
	ret = rd_store_gateways_seen(m->st, ids, when, n);
	if (ret) {
		rd_warn("store: cannot record when gateways were last heard from: %s",
			rd_store_errmsg(m->st));
		goto out;
	}
	for (unsigned int i = 0; i < n; i++)
		lookup(t, &ids[i])->written = when[i];
out:
	free(ids);
	free(when);
}

void mgr_live_flush(struct mgr *m, uint64_t now_s)
{
	if (m->live && now_s < m->live->last_flush + MGR_LIVE_FLUSH_S)
		return;
	fold_handshakes(m);
	if (!m->live)
		return;
	m->live->last_flush = now_s;
	write_out(m);
}

void mgr_live_free(struct mgr *m)
{
	if (!m->live)
		return;
	if (m->st)
		write_out(m);
	free(m->live->slot);
	free(m->live);
	m->live = NULL;
}
