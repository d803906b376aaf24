// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: members removed for their silence (mgr-expire.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mgr.h"
#include "mgr-expire.h"
#include "mgr-live.h"
#include "util.h"

bool mgr_expire_due(uint64_t now, uint32_t after, uint64_t last_seen, uint64_t join_time,
		    uint64_t started)
{
	uint64_t since = last_seen;

	if (!after)
		return false;
	if (join_time > since)
		since = join_time;
	if (started > since)
		since = started;
	return now > since && now - since > after;
}

static struct mgr_expire_ent *find(const struct mgr_expire *x, const struct roster_addr *id,
				   uint32_t vpn)
{
	for (unsigned int i = 0; i < x->n; i++)
		if (x->e[i].vpn == vpn && rd_addr_eq(&x->e[i].id, id))
			return &x->e[i];
	return NULL;
}

int mgr_expire_mark(struct mgr_expire *x, const struct roster_addr *id, uint32_t vpn)
{
	if (find(x, id, vpn))
		return 0;
	if (x->n == x->cap) {
		unsigned int cap = x->cap ? x->cap * 2 : 16;
		struct mgr_expire_ent *ne = realloc(x->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		x->e = ne;
		x->cap = cap;
	}
	x->e[x->n].id = *id;
	x->e[x->n].vpn = vpn;
	x->n++;
	return 0;
}

bool mgr_expire_marked(const struct mgr_expire *x, const struct roster_addr *id, uint32_t vpn)
{
	return find(x, id, vpn) != NULL;
}

void mgr_expire_unmark(struct mgr_expire *x, const struct roster_addr *id, uint32_t vpn)
{
	struct mgr_expire_ent *e = find(x, id, vpn);

	if (e)
		*e = x->e[--x->n];
}

void mgr_expire_clear(struct mgr_expire *x)
{
	free(x->e);
	memset(x, 0, sizeof(*x));
}

/* ---- the manager's side ------------------------------------------------- */

void mgr_expire_free(struct mgr *m)
{
	if (m->expire)
		mgr_expire_clear(m->expire);
	free(m->expire);
	m->expire = NULL;
}

bool mgr_expire_rejoin(struct mgr *m, const struct roster_addr *id, uint32_t vpn)
{
	return m->expire && mgr_expire_marked(m->expire, id, vpn);
}

void mgr_expire_back(struct mgr *m, const struct roster_addr *id, uint32_t vpn)
{
	if (m->expire && mgr_expire_marked(m->expire, id, vpn)) {
		mgr_expire_unmark(m->expire, id, vpn);
		rd_info("vpn %u: %s, expired, is back", vpn, rd_ntop(id));
	}
}

static void expire_vpn(struct mgr *m, const struct rd_vpn_conf *vc, uint64_t now)
{
	struct mgr_expire *x = m->expire;
	struct roster_member_set *sets = NULL;
	size_t nsets = 0;
	int ret = roster_member_list(m->rh, vc->id, &sets, &nsets);

	if (ret) {
		if (ret != -ENOENT)
			rd_warn("vpn %u: expire-after: cannot read the members: %s", vc->id,
				roster_strerror_ext(m->rh, ret));
		return;
	}
	for (uint32_t i = 0; nsets && i < sets[0].count; i++) {
		const struct roster_member *mb = &sets[0].members[i];
		uint64_t seen;

		if (!mgr_gw_find(m, &mb->id))
			continue;
		seen = mgr_live_last_seen(m, &mb->id);
		if (!mgr_expire_due(now, vc->expire_after, seen, mb->join_time, x->started))
			continue;
		/* Marked first: the removal's notification queues the LIST
		 * that must say REJOIN. */
		if (mgr_expire_mark(x, &mb->id, vc->id)) {
			rd_err("out of memory: %s not expired", rd_ntop(&mb->id));
			continue;
		}
		ret = roster_member_del(m->rh, vc->id, &mb->id, ROSTER_REASON_EXPIRED, 0, 0, NULL);
		if (ret) {
			mgr_expire_unmark(x, &mb->id, vc->id);
			rd_warn("vpn %u: cannot expire %s: %s", vc->id, rd_ntop(&mb->id),
				roster_strerror_ext(m->rh, ret));
			continue;
		}
		x->expired++;
		if (seen)
			rd_info("vpn %u: %s expired: last heard from %llu s ago (expire-after %u s)",
				vc->id, rd_ntop(&mb->id), (unsigned long long)(now - seen),
				vc->expire_after);
		else
			rd_info("vpn %u: %s expired: never heard from (expire-after %u s)", vc->id,
				rd_ntop(&mb->id), vc->expire_after);
	}
	roster_member_sets_free(sets, nsets);
}

void mgr_expire_tick(struct mgr *m, uint64_t now_s)
{
	bool any = false;

	for (unsigned int i = 0; i < m->c->n_vpns && !any; i++)
		any = m->c->vpns[i].expire_after != 0;
	if (!any)
		return;
	if (!m->expire) {
		m->expire = calloc(1, sizeof(*m->expire));
		if (!m->expire)
			return;
		m->expire->started = now_s;
	}
	if (now_s < m->expire->next)
		return;
	m->expire->next = now_s + MGR_EXPIRE_PASS_S;
	for (unsigned int i = 0; i < m->c->n_vpns; i++)
		if (m->c->vpns[i].expire_after)
			expire_vpn(m, &m->c->vpns[i], now_s);
}
