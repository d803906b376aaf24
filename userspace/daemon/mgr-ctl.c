// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: who may talk to us. The store's enrolled gateways and
 * pending invitations decide, and rctl0's peers follow them: one place
 * decides, and this is the one path that writes rctl0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mgr.h"
#include "mgr-lead.h"
#include "mgr-admin.h"
#include "mgr-policy.h"
#include "netif.h"
#include "util.h"

static int entry_cmp(const void *a, const void *b)
{
	return rd_addr_cmp(&((const struct rd_entry *)a)->id, &((const struct rd_entry *)b)->id);
}

/* Every packet and every fan-out target is looked up here: O(log n). */
struct rd_entry *mgr_gw_find(struct mgr *m, const struct roster_addr *id)
{
	struct rd_entry key = { .id = *id };

	if (!m->ngws)
		return NULL;
	return bsearch(&key, m->gws, m->ngws, sizeof(*m->gws), entry_cmp);
}

struct rd_entry *mgr_inv_find(struct mgr *m, const struct roster_addr *id)
{
	for (unsigned int i = 0; i < m->ninv; i++)
		if (rd_addr_eq(&m->inv[i].id, id))
			return &m->inv[i];
	return NULL;
}

void mgr_host_prefix(const struct roster_addr *a, struct roster_prefix *p)
{
	p->addr = *a;
	p->len = (uint8_t)(roster_addr_len(a) * 8);
}

/* rctl0 peers = enrolled gateways + pending invitations. An invitation
 * for an enrolled id wins (a re-enrolment with a fresh key): the old
 * key's tunnel must not keep the address. rd_wg_apply(replace) removes
 * only the peers not wanted, so an unchanged gateway's session stays. */
static int ctl_apply(struct mgr *m)
{
	unsigned int n = 0, cap = m->ngws + m->ninv + 1;
	struct rd_wg_peer *p = calloc(cap, sizeof(*p));
	struct roster_prefix *hp = calloc(cap, sizeof(*hp));
	int ret;

	if (!p || !hp) {
		free(p);
		free(hp);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < m->ninv; i++) {
		mgr_host_prefix(&m->inv[i].id, &hp[n]);
		memcpy(p[n].key, m->inv[i].key, 32);
		p[n].allowed = &hp[n];
		p[n].n_allowed = 1;
		n++;
	}
	for (unsigned int i = 0; i < m->ngws; i++) {
		if (mgr_inv_find(m, &m->gws[i].id))
			continue;
		mgr_host_prefix(&m->gws[i].id, &hp[n]);
		memcpy(p[n].key, m->gws[i].key, 32);
		p[n].allowed = &hp[n];
		p[n].n_allowed = 1;
		n++;
	}
	ret = rd_wg_apply(m->c->ifname, p, n, true);
	free(p);
	free(hp);
	if (ret)
		rd_err("%s: cannot program peers: %s", m->c->ifname, strerror(-ret));
	return ret;
}

int mgr_ctl_reload(struct mgr *m)
{
	struct rd_entry *gws = NULL, *inv = NULL, *was;
	unsigned int ngws = 0, ninv = 0, nexp = 0, nwas;
	uint8_t expired[16][32];
	int ret;

	ret = rd_store_invites_expire(m->st, (uint64_t)time(NULL), expired, 16, &nexp);
	if (ret)
		rd_warn("store: cannot expire invitations: %s", rd_store_errmsg(m->st));
	else if (nexp)
		rd_info("%u invitation(s) expired", nexp);
	ret = rd_store_gateways(m->st, &gws, &ngws);
	if (!ret)
		ret = rd_store_invites(m->st, &inv, &ninv);
	if (ret) {
		rd_err("store: cannot read the gateways: %s", rd_store_errmsg(m->st));
		free(gws);
		free(inv);
		return ret;
	}
	mgr_policy_warn_unlisted(gws, ngws, "gateway");
	mgr_policy_warn_unlisted(inv, ninv, "invitation");
	if (ngws > 1)
		qsort(gws, ngws, sizeof(*gws), entry_cmp);
	was = m->gws;
	nwas = m->ngws;
	free(m->inv);
	m->gws = gws;
	m->ngws = ngws;
	m->inv = inv;
	m->ninv = ninv;
	ret = ctl_apply(m);
	if (!ret)
		rd_info("%s: %u gateway(s), %u pending invitation(s)", m->c->ifname, ngws, ninv);
	/* An enrolment that went (rosterd revoke, here or on another manager
	 * of the store): its memberships go too, after its key left rctl0. */
	mgr_evict_sweep(m, was, nwas);
	free(was);
	return ret;
}

void mgr_ctl_poll(struct mgr *m)
{
	uint64_t now = (uint64_t)time(NULL);
	bool expiry = false, changed;

	for (unsigned int i = 0; i < m->ninv && !expiry; i++)
		expiry = m->inv[i].expiry && m->inv[i].expiry <= now;
	changed = rd_store_changed(m->st);
	if (expiry || changed)
		mgr_ctl_reload(m);
	mgr_lead_poll(m, changed);
}
