// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: members that follow their gateway's underlay address
 * (mgr-roam.h). rctl0 is where the address is learnt: WireGuard moves a
 * peer's endpoint to wherever its latest authenticated packet came from,
 * and a gateway's control tunnel sends at least a keepalive every
 * GW_CTL_KEEPALIVE seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mgr.h"
#include "mgr-policy.h"
#include "mgr-roam.h"
#include "netif.h"
#include "util.h"

/* rctl0's endpoints are read at most this often: one dump of every peer
 * per JOIN_REQ would make a mass re-join quadratic. */
#define READ_MS 1000

struct mgr_roam_ent *mgr_roam_find(struct mgr_roam *r, const struct roster_addr *id,
				   uint32_t vpn)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->e[i].vpn == vpn && rd_addr_eq(&r->e[i].id, id))
			return &r->e[i];
	return NULL;
}

int mgr_roam_set(struct mgr_roam *r, const struct roster_addr *id, uint32_t vpn, bool on)
{
	struct mgr_roam_ent *e = mgr_roam_find(r, id, vpn);

	if (!on) {
		if (e)
			*e = r->e[--r->n];
		return 0;
	}
	if (e) {
		e->has_last = false;
		return 0;
	}
	if (r->n == r->cap) {
		unsigned int cap = r->cap ? r->cap * 2 : 16;
		struct mgr_roam_ent *ne = realloc(r->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		r->e = ne;
		r->cap = cap;
	}
	e = &r->e[r->n++];
	memset(e, 0, sizeof(*e));
	e->id = *id;
	e->vpn = vpn;
	return 0;
}

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(((const struct rd_wg_endpoint *)a)->key,
		      ((const struct rd_wg_endpoint *)b)->key, 32);
}

void mgr_roam_take(struct mgr_roam *r, struct rd_wg_endpoint *ep, unsigned int n, int64_t now_ms)
{
	free(r->ep);
	r->ep = ep;
	r->nep = n;
	r->read_ms = now_ms;
	if (n > 1)
		qsort(r->ep, n, sizeof(*r->ep), ep_cmp);
}

const struct roster_addr *mgr_roam_observed(const struct mgr_roam *r, const uint8_t key[32])
{
	struct rd_wg_endpoint k;
	const struct rd_wg_endpoint *e;

	if (!r->nep)
		return NULL;
	memcpy(k.key, key, 32);
	e = bsearch(&k, r->ep, r->nep, sizeof(k), ep_cmp);
	return e && e->has_endpoint ? &e->endpoint : NULL;
}

bool mgr_roam_due(const struct mgr_roam_ent *e, const struct roster_addr *observed)
{
	return observed && !(e->has_last && rd_addr_eq(&e->last, observed));
}

void mgr_roam_clear(struct mgr_roam *r)
{
	free(r->e);
	free(r->ep);
	memset(r, 0, sizeof(*r));
}

/* ---- the manager's side ------------------------------------------------- */

static struct mgr_roam *roam_of(struct mgr *m)
{
	if (!m->roam)
		m->roam = calloc(1, sizeof(*m->roam));
	return m->roam;
}

void mgr_roam_free(struct mgr *m)
{
	if (m->roam)
		mgr_roam_clear(m->roam);
	free(m->roam);
	m->roam = NULL;
}

static void read_ctl(struct mgr *m, int64_t now)
{
	struct rd_wg_endpoint *ep = NULL;
	unsigned int n = 0;
	int ret = rd_wg_peer_endpoints(m->c->ifname, &ep, &n);

	if (ret) {
		rd_warn("%s: cannot read the peers' endpoints: %s", m->c->ifname, strerror(-ret));
		ep = NULL;
		n = 0;
	}
	mgr_roam_take(m->roam, ep, n, now);
}

void mgr_roam_note(struct mgr *m, const struct roster_addr *id, const struct rd_msg *msg)
{
	struct mgr_roam *r = m->roam;
	bool was = r && mgr_roam_find(r, id, msg->vpn);

	/* A SYNC_REQ of a gateway already known changes nothing: only a
	 * JOIN_REQ makes its record be looked at again. */
	if ((was && msg->endpoint_auto && msg->type != RD_JOIN_REQ) ||
	    (!was && !msg->endpoint_auto))
		return;
	r = roam_of(m);
	if (!r || mgr_roam_set(r, id, msg->vpn, msg->endpoint_auto))
		rd_err("out of memory: %s's endpoint in vpn %u will not be followed", rd_ntop(id),
		       msg->vpn);
	else if (was != msg->endpoint_auto)
		rd_info("vpn %u: %s's endpoint %s", msg->vpn, rd_ntop(id),
			msg->endpoint_auto ? "is followed (endpoint = auto)" : "is fixed");
}

bool mgr_roam_resolve(struct mgr *m, struct rd_peer *p, const struct rd_entry *gw,
		      const struct rd_msg *msg, struct rd_msg *out)
{
	struct mgr_roam *r = roam_of(m);
	const struct roster_addr *seen = NULL;
	int64_t now = rd_now_ms();

	if (r && (!r->read_ms || now - r->read_ms >= READ_MS || !mgr_roam_observed(r, gw->key)))
		read_ctl(m, now);
	if (r)
		seen = mgr_roam_observed(r, gw->key);
	if (!seen) {
		rd_warn("JOIN_REQ from %s for vpn %u refused: endpoint = auto, but %s has no "
			"address for its control tunnel", rd_ntop(&gw->id), msg->vpn, m->c->ifname);
		mgr_send_error(m, p, msg->seq, EADDRNOTAVAIL,
			       "endpoint = auto: no address seen for the control tunnel");
		return false;
	}
	*out = *msg;
	out->endpoint_auto = false;
	out->has_endpoint = true;
	out->endpoint = *seen;
	return true;
}

/* The member at its new address, if the rules of a JOIN_REQ allow it
 * there (mgr-policy.h): a gateway now reached inside a member's prefix
 * would draw every member's handshakes into the VPN. */
static int move_allowed(struct mgr *m, const struct rd_entry *gw, const struct roster_member *mb,
			uint32_t vpn, char *why, size_t len)
{
	struct mgr_policy_in in = {
		.control_prefix = &m->c->control_prefix,
		.mgr_endpoint = m->c->has_endpoint ? &m->c->endpoint : NULL,
		.gw = gw,
		.id = &mb->id,
	};
	struct roster_member_set *sets = NULL;
	size_t nsets = 0;
	int ret = roster_member_list(m->rh, vpn, &sets, &nsets);

	if (ret) {
		snprintf(why, len, "cannot read the VPN's members: %s", roster_strerror_ext(m->rh, ret));
		return ret;
	}
	if (nsets) {
		in.members = sets[0].members;
		in.n_members = sets[0].count;
	}
	ret = mgr_policy_check(&in, mb->prefixes, mb->n_prefixes, &mb->endpoint, why, len);
	roster_member_sets_free(sets, nsets);
	return ret;
}

static void follow(struct mgr *m, struct mgr_roam_ent *e, const struct rd_entry *gw,
		   const struct roster_addr *seen)
{
	struct roster_member mb;
	struct roster_change ch;
	char was[ROSTER_ADDR_STRLEN], why[128];
	uint64_t gen;
	int ret;

	e->has_last = true;
	e->last = *seen;
	/* Not a member (yet, or any more): its JOIN_REQ takes the address. */
	if (roster_member_get(m->rh, e->vpn, &e->id, &mb, &gen) || !mb.has_endpoint ||
	    rd_addr_eq(&mb.endpoint, seen))
		return;
	roster_addr_format(&mb.endpoint, was, sizeof(was));
	mb.endpoint = *seen;
	ret = move_allowed(m, gw, &mb, e->vpn, why, sizeof(why));
	if (!ret) {
		ret = roster_member_add(m->rh, e->vpn, &mb, 0, 0, &ch);
		if (ret)
			snprintf(why, sizeof(why), "%s", roster_strerror_ext(m->rh, ret));
	}
	if (ret) {
		rd_warn("vpn %u: %s moved from %s to %s, which is refused: %s; it stays at %s",
			e->vpn, rd_ntop(&e->id), was, rd_ntop(seen), why, was);
		return;
	}
	m->roam->moves++;
	rd_info("vpn %u: %s moved from %s to %s: announced again (gen %llu)", e->vpn,
		rd_ntop(&e->id), was, rd_ntop(seen), (unsigned long long)ch.generation);
}

void mgr_roam_tick(struct mgr *m)
{
	struct mgr_roam *r = m->roam;

	if (!r || !r->n)
		return;
	read_ctl(m, rd_now_ms());
	for (unsigned int i = 0; i < r->n;) {
		struct mgr_roam_ent *e = &r->e[i];
		const struct rd_entry *gw = mgr_gw_find(m, &e->id);
		const struct roster_addr *seen;

		if (!gw) {	/* revoked or re-enrolled: forget it */
			*e = r->e[--r->n];
			continue;
		}
		seen = mgr_roam_observed(r, gw->key);
		if (mgr_roam_due(e, seen))
			follow(m, e, gw, seen);
		i++;
	}
}
