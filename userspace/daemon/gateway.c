// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: control tunnel to the manager, one WireGuard interface
 * per configured VPN with a peer (and routes) per other member, and a
 * mirror of the membership in the gateway's own roster.ko. Also the
 * one-shot commands `rosterd redeem` and `rosterd leave`.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "util.h"
#include "token.h"
#include "proto.h"
#include "rel.h"
#include "netif.h"
#include "state.h"

#define KEEPALIVE 5
/* The manager repeats ENROLLED up to 8 times, backing off to RD_RETRY_CAP_MS. */
#define ENROLL_WAIT_MS (8 * RD_RETRY_CAP_MS + 5000)
#define REJOIN_DELAY_MS 4000
/* Changes that arrive ahead of a missing generation wait this long for
 * it (the manager is retransmitting it) before the gateway resyncs. */
#define GAP_WAIT_MS 3000
#define OOO_MAX 32

/* A NOTIFY or REMOVE held back until the generations before it arrive. */
struct ooo {
	uint8_t type;
	uint64_t gen;
	struct roster_member member;	/* NOTIFY */
	struct roster_addr dev;		/* REMOVE */
};

struct gvpn {
	struct rd_vpn_conf *conf;
	bool synced;			/* view valid at gen */
	bool removed;			/* not a member (left / removed) */
	bool leaving;
	uint64_t gen, max_seen;
	struct ooo ooo[OOO_MAX];	/* out of order, waiting for gen + 1 */
	unsigned int n_ooo;
	int64_t gap_deadline;		/* resync if still waiting then; 0: none */
	bool skipping;			/* applying past a gap (ooo_give_up) */
	uint32_t join_seq;
	int64_t rejoin_at;
	int64_t sync_at;		/* next periodic SYNC_REQ */
	struct roster_member *view;	/* other members */
	unsigned int n, cap;
	/* multi-part JOIN/LIST being assembled */
	uint8_t asm_type;
	uint16_t asm_flags, asm_nparts, asm_have;
	uint64_t asm_gen;
	uint32_t asm_total;
	bool *asm_got;
	struct roster_member *asm_m;
	unsigned int asm_n;
	/* routes we installed (protocol static, via conf->ifname) */
	struct roster_prefix *routes;
	unsigned int nroutes;
};

struct gw {
	struct rd_config *c;
	struct rd_identity id;
	uint8_t pub[32];
	struct rd_link link;
	struct rd_peer *mp;		/* the manager */
	int fd;
	struct gvpn *v;
	unsigned int nv;
	struct roster_handle *rh;	/* mirror; NULL if roster.ko is absent */
};

/* ---- control tunnel ------------------------------------------------------ */

static int setup_rctl(const char *ifname, const uint8_t *priv, const struct rd_identity *id)
{
	struct roster_prefix cp = { .addr = id->control_addr, .len = id->prefixlen };
	struct rd_wg_peer mp = {
		.has_endpoint = true, .endpoint = id->manager_endpoint, .port = id->manager_port,
		.n_allowed = 1, .allowed = &cp, .keepalive = KEEPALIVE,
	};
	int ret;

	rd_prefix_mask(&cp);
	memcpy(mp.key, id->manager_key, 32);
	ret = rd_wg_setup(ifname, priv, 0);
	if (!ret)
		ret = rd_wg_apply(ifname, &mp, 1, true);
	if (!ret)
		ret = rd_addr_add(ifname, &id->id, id->prefixlen);
	if (ret)
		rd_err("%s: cannot set up the control tunnel: %s", ifname, strerror(-ret));
	return ret;
}

static struct rd_peer *manager_peer(struct rd_link *l, const struct rd_identity *id)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(&id->control_addr, id->control_port, &ss);

	return rd_peer_get(l, (struct sockaddr *)&ss, len, true);
}

static bool from_manager(const struct rd_identity *id, const struct sockaddr *sa)
{
	struct roster_addr a;
	uint16_t port;

	return !rd_from_sockaddr(sa, &a, &port) && rd_addr_eq(&a, &id->control_addr) &&
	       port == id->control_port;
}

/* ---- view programming ---------------------------------------------------- */

static void self_member(struct gw *g, struct gvpn *v, struct roster_member *m)
{
	memset(m, 0, sizeof(*m));
	m->id = g->id.id;
	memcpy(m->key, g->pub, 32);
	m->has_key = true;
	if (g->c->has_endpoint) {
		m->has_endpoint = true;
		m->endpoint = g->c->endpoint;
		m->port = v->conf->listen_port;
	}
	m->n_prefixes = v->conf->n_prefixes;
	memcpy(m->prefixes, v->conf->prefixes, sizeof(m->prefixes));
}

static bool own_prefix(struct gvpn *v, const struct roster_prefix *p)
{
	for (unsigned int i = 0; i < v->conf->n_prefixes; i++)
		if (rd_prefix_eq(&v->conf->prefixes[i], p))
			return true;
	return false;
}

static void sync_routes(struct gvpn *v)
{
	const char *ifname = v->conf->ifname;
	struct roster_prefix *want = NULL;
	unsigned int nw = 0, cap = 0;

	for (unsigned int i = 0; i < v->n; i++) {
		for (unsigned int k = 0; k < v->view[i].n_prefixes; k++) {
			const struct roster_prefix *p = &v->view[i].prefixes[k];
			bool dup = false;

			if (own_prefix(v, p)) {
				rd_warn("vpn %u: %s announces our own prefix; no route",
					v->conf->id, rd_ntop(&v->view[i].id));
				continue;
			}
			for (unsigned int j = 0; j < nw && !dup; j++)
				dup = rd_prefix_eq(&want[j], p);
			if (dup)
				continue;
			if (nw == cap) {
				struct roster_prefix *nwp;

				cap = cap ? cap * 2 : 16;
				nwp = realloc(want, cap * sizeof(*nwp));
				if (!nwp) {
					free(want);
					return;
				}
				want = nwp;
			}
			want[nw++] = *p;
		}
	}
	for (unsigned int i = 0; i < v->nroutes; i++) {
		bool keep = false;

		for (unsigned int j = 0; j < nw && !keep; j++)
			keep = rd_prefix_eq(&want[j], &v->routes[i]);
		if (!keep) {
			char b[ROSTER_ADDR_STRLEN];
			int ret = rd_route_del(ifname, &v->routes[i]);

			roster_prefix_format(&v->routes[i], b, sizeof(b));
			if (ret)
				rd_warn("route del %s dev %s: %s", b, ifname, strerror(-ret));
			else
				rd_dbg("route del %s dev %s", b, ifname);
		}
	}
	for (unsigned int j = 0; j < nw; j++) {
		bool have = false;

		for (unsigned int i = 0; i < v->nroutes && !have; i++)
			have = rd_prefix_eq(&want[j], &v->routes[i]);
		if (!have) {
			char b[ROSTER_ADDR_STRLEN];
			int ret = rd_route_replace(ifname, &want[j]);

			roster_prefix_format(&want[j], b, sizeof(b));
			if (ret)
				rd_warn("route add %s dev %s: %s", b, ifname, strerror(-ret));
			else
				rd_dbg("route add %s dev %s", b, ifname);
		}
	}
	free(v->routes);
	v->routes = want;
	v->nroutes = nw;
}

/*
 * [vpn] keepalive (off by default) keeps NAT mappings open. It is off by
 * default because setting it makes every peer start a handshake at once:
 * a whole mesh formed at the same moment then performs N^2 handshakes
 * together, which starved the control channel for ~10 s at N=32 in the
 * emulator (bench-mesh), and keeps every pair re-keying every 2 minutes.
 */
static void wg_peer_of(const struct gvpn *v, const struct roster_member *m, struct rd_wg_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->keepalive = v->conf->keepalive;
	memcpy(p->key, m->key, 32);
	p->has_endpoint = m->has_endpoint;
	p->endpoint = m->endpoint;
	p->port = m->port;
	p->n_allowed = m->n_prefixes;
	p->allowed = m->prefixes;
}

static void mirror_warn(struct gw *g, const char *what, int ret)
{
	rd_warn("mirror into roster.ko: %s: %s", what, roster_strerror_ext(g->rh, ret));
}

static bool same_prefixes(const struct roster_member *a, const struct roster_member *b)
{
	if (a->n_prefixes != b->n_prefixes)
		return false;
	for (unsigned int i = 0; i < a->n_prefixes; i++) {
		bool found = false;

		for (unsigned int k = 0; k < b->n_prefixes && !found; k++)
			found = rd_prefix_eq(&a->prefixes[i], &b->prefixes[k]);
		if (!found)
			return false;
	}
	return true;
}

/* What the mirror should hold for id: self, a view member, or NULL. */
static const struct roster_member *mirror_target(const struct gvpn *v,
						 const struct roster_member *self,
						 const struct roster_addr *id)
{
	if (rd_addr_eq(id, &self->id))
		return self;
	for (unsigned int k = 0; k < v->n; k++)
		if (rd_addr_eq(&v->view[k].id, id))
			return &v->view[k];
	return NULL;
}

/*
 * Make the mirror hold self + the view. roster.ko refuses a join whose
 * prefix overlaps another member's (EADDRINUSE), so the removals come
 * first: every member that is gone, and every member whose prefixes
 * changed (a prefix that moved from X to Y between the old view and this
 * one would refuse Y's join while X still held it, and two members can
 * swap prefixes). The joins that follow then only meet records of the
 * target set, which the manager's table held at one generation and is
 * free of overlaps.
 */
static void mirror_full(struct gw *g, struct gvpn *v)
{
	struct roster_member_set *sets = NULL;
	struct roster_member self;
	size_t n = 0;
	int ret;

	if (!g->rh)
		return;
	if (v->removed) {
		ret = roster_vpn_delete(g->rh, v->conf->id, 0);
		if (ret && ret != -ENOENT)
			mirror_warn(g, "vpn del", ret);
		return;
	}
	self_member(g, v, &self);
	ret = roster_member_list(g->rh, v->conf->id, &sets, &n);
	if (ret && ret != -ENOENT) {
		mirror_warn(g, "list", ret);
		return;
	}
	for (size_t s = 0; s < n; s++) {
		for (uint32_t i = 0; i < sets[s].count; i++) {
			const struct roster_member *old = &sets[s].members[i];
			const struct roster_member *t = mirror_target(v, &self, &old->id);

			if (t && same_prefixes(t, old))
				continue;
			ret = roster_member_del(g->rh, v->conf->id, &old->id,
						ROSTER_REASON_REQUESTED, 0, 0, NULL);
			if (ret && ret != -ENOENT)
				mirror_warn(g, "leave", ret);
		}
	}
	roster_member_sets_free(sets, n);
	ret = roster_member_add(g->rh, v->conf->id, &self, 0, 0, NULL);
	if (ret)
		mirror_warn(g, "join self", ret);
	for (unsigned int k = 0; k < v->n; k++) {
		ret = roster_member_add(g->rh, v->conf->id, &v->view[k], 0, 0, NULL);
		if (ret)
			mirror_warn(g, "join", ret);
	}
}

static void view_clear(struct gvpn *v)
{
	v->n = 0;
}

static int view_add(struct gvpn *v, const struct roster_member *m)
{
	for (unsigned int i = 0; i < v->n; i++) {
		if (rd_addr_eq(&v->view[i].id, &m->id)) {
			v->view[i] = *m;
			return 0;
		}
	}
	if (v->n == v->cap) {
		unsigned int cap = v->cap ? v->cap * 2 : 8;
		struct roster_member *nv = realloc(v->view, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		v->view = nv;
		v->cap = cap;
	}
	v->view[v->n++] = *m;
	return 0;
}

/* The VPN's interface gets exactly the view's peers, and routes follow. */
static void program_view(struct gvpn *v)
{
	struct rd_wg_peer *peers = calloc(v->n ? v->n : 1, sizeof(*peers));
	int ret;

	if (!peers)
		return;
	for (unsigned int i = 0; i < v->n; i++)
		wg_peer_of(v, &v->view[i], &peers[i]);
	ret = rd_wg_apply(v->conf->ifname, peers, v->n, true);
	free(peers);
	if (ret)
		rd_err("%s: cannot program peers: %s", v->conf->ifname, strerror(-ret));
	sync_routes(v);
}

/* Someone may have changed the interface behind our back (`wg set ...
 * remove`, an interface re-created): put the view's peer set back. */
static void repair_drift(struct gvpn *v)
{
	uint8_t (*keys)[32] = NULL;
	unsigned int n = 0, found = 0;

	if (rd_wg_peer_keys(v->conf->ifname, &keys, &n))
		return;
	for (unsigned int i = 0; i < v->n; i++)
		for (unsigned int k = 0; k < n; k++)
			if (!memcmp(keys[k], v->view[i].key, 32)) {
				found++;
				break;
			}
	free(keys);
	if (found == v->n && n == v->n)
		return;
	rd_warn("vpn %u: %s has %u peer(s), %u of the view's %u; re-programming", v->conf->id,
		v->conf->ifname, n, found, v->n);
	program_view(v);
}

static bool view_has(const struct roster_member *view, unsigned int n, const struct roster_addr *dev)
{
	for (unsigned int i = 0; i < n; i++)
		if (rd_addr_eq(&view[i].id, dev))
			return true;
	return false;
}

/* A list that replaces a view (a resync) names what it changed, as the
 * NOTIFY and REMOVE it stands in for would have. */
static void log_list_changes(const struct gvpn *v, const struct roster_member *old, unsigned int nold)
{
	for (unsigned int i = 0; i < nold; i++)
		if (!view_has(v->view, v->n, &old[i].id))
			rd_info("vpn %u gen %llu: peer %s removed", v->conf->id,
				(unsigned long long)v->gen, rd_ntop(&old[i].id));
	for (unsigned int i = 0; i < v->n; i++)
		if (!view_has(old, nold, &v->view[i].id))
			rd_info("vpn %u gen %llu: peer %s added", v->conf->id,
				(unsigned long long)v->gen, rd_ntop(&v->view[i].id));
}

static void apply_full(struct gw *g, struct gvpn *v, uint16_t flags, uint64_t gen,
		       const struct roster_member *mb, unsigned int n)
{
	struct roster_member *old = NULL;
	unsigned int nold = 0;

	if (v->synced && !v->removed && v->n) {
		old = malloc(v->n * sizeof(*old));
		if (old) {
			memcpy(old, v->view, v->n * sizeof(*old));
			nold = v->n;
		}
	}
	view_clear(v);
	v->synced = true;
	v->gen = gen;
	if (flags & RD_F_NOT_MEMBER) {
		v->removed = true;
		if (v->leaving)
			rd_info("vpn %u: left (gen %llu)", v->conf->id, (unsigned long long)gen);
		else
			rd_warn("vpn %u: not a member any more (gen %llu); removing all peers",
				v->conf->id, (unsigned long long)gen);
	} else {
		v->removed = false;
		for (unsigned int i = 0; i < n; i++)
			if (!rd_addr_eq(&mb[i].id, &g->id.id))
				view_add(v, &mb[i]);
	}
	program_view(v);
	mirror_full(g, v);
	if (old && !v->removed)
		log_list_changes(v, old, nold);
	free(old);
	if (!v->removed)
		rd_info("vpn %u gen %llu: %u peer(s) on %s", v->conf->id, (unsigned long long)gen,
			v->n, v->conf->ifname);
}

static void apply_notify(struct gw *g, struct gvpn *v, const struct roster_member *m)
{
	struct rd_wg_peer peers[2];
	unsigned int np = 0;
	int ret;

	if (rd_addr_eq(&m->id, &g->id.id))
		return;
	for (unsigned int i = 0; i < v->n; i++) {
		if (rd_addr_eq(&v->view[i].id, &m->id) && memcmp(v->view[i].key, m->key, 32)) {
			memset(&peers[np], 0, sizeof(peers[np]));
			memcpy(peers[np].key, v->view[i].key, 32);
			peers[np++].remove = true;
		}
	}
	view_add(v, m);
	wg_peer_of(v, m, &peers[np++]);
	ret = rd_wg_apply(v->conf->ifname, peers, np, false);
	if (ret)
		rd_err("%s: cannot program peer %s: %s", v->conf->ifname, rd_ntop(&m->id),
		       strerror(-ret));
	sync_routes(v);
	if (g->rh) {
		/* In generation order the manager's table had m's prefixes free
		 * (a REMOVE of their old holder comes first); only when a gap is
		 * skipped can the mirror still hold them, until the resync. */
		ret = roster_member_add(g->rh, v->conf->id, m, 0, 0, NULL);
		if (ret == -EADDRINUSE && v->skipping)
			rd_info("vpn %u: mirror into roster.ko: %s waits for the resync: %s",
				v->conf->id, rd_ntop(&m->id), roster_strerror_ext(g->rh, ret));
		else if (ret)
			mirror_warn(g, "join", ret);
	}
	rd_info("vpn %u gen %llu: peer %s added", v->conf->id, (unsigned long long)v->gen,
		rd_ntop(&m->id));
}

static void apply_remove(struct gw *g, struct gvpn *v, const struct roster_addr *dev)
{
	for (unsigned int i = 0; i < v->n; i++) {
		struct rd_wg_peer p = { .remove = true };
		int ret;

		if (!rd_addr_eq(&v->view[i].id, dev))
			continue;
		memcpy(p.key, v->view[i].key, 32);
		ret = rd_wg_apply(v->conf->ifname, &p, 1, false);
		if (ret)
			rd_err("%s: cannot remove peer %s: %s", v->conf->ifname, rd_ntop(dev),
			       strerror(-ret));
		memmove(&v->view[i], &v->view[i + 1], (v->n - i - 1) * sizeof(*v->view));
		v->n--;
		break;
	}
	sync_routes(v);
	if (g->rh) {
		int ret = roster_member_del(g->rh, v->conf->id, dev, ROSTER_REASON_REQUESTED, 0, 0,
					   NULL);

		if (ret && ret != -ENOENT)
			mirror_warn(g, "leave", ret);
	}
	rd_info("vpn %u gen %llu: peer %s removed", v->conf->id, (unsigned long long)v->gen,
		rd_ntop(dev));
}

/* ---- protocol ------------------------------------------------------------ */

static struct gvpn *vpn_find(struct gw *g, uint32_t id)
{
	for (unsigned int i = 0; i < g->nv; i++)
		if (g->v[i].conf->id == id)
			return &g->v[i];
	return NULL;
}

static void send_join_req(struct gw *g, struct gvpn *v)
{
	struct rd_msg m = { .type = RD_JOIN_REQ, .has_vpn = true, .vpn = v->conf->id };

	if (g->c->has_endpoint) {
		m.has_endpoint = true;
		m.endpoint = g->c->endpoint;
		m.port = v->conf->listen_port;
	}
	m.n_prefixes = v->conf->n_prefixes;
	memcpy(m.prefixes, v->conf->prefixes, sizeof(m.prefixes));
	v->join_seq = g->mp->next_seq;
	v->rejoin_at = 0;
	rd_info("vpn %u: JOIN_REQ (%u prefix(es), %s listen-port %u)", v->conf->id, m.n_prefixes,
		v->conf->ifname, v->conf->listen_port);
	rd_send(&g->link, g->mp, &m);
}

static void send_simple(struct gw *g, uint8_t type, uint32_t vpn)
{
	struct rd_msg m = { .type = type, .has_vpn = true, .vpn = vpn };

	rd_info("vpn %u: %s", vpn, rd_type_name(type));
	rd_send(&g->link, g->mp, &m);
}

/* A change the manager could not deliver (it died right after it, or gave
 * up retrying) would otherwise stay missing until the next change. So
 * every sync-interval (+-20 %, so gateways do not ask in lockstep) the
 * gateway states its view; the manager answers with a LIST only if the
 * view is behind. */
static void periodic_sync(struct gw *g, struct gvpn *v, int64_t now)
{
	int64_t ival = (int64_t)g->c->sync_interval * 1000;
	uint32_t r;

	if (v->sync_at && now >= v->sync_at && !rd_pending_of(g->mp, v->conf->id, 1u << RD_SYNC_REQ)) {
		struct rd_msg m = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = v->conf->id,
				    .has_gen = true, .gen = v->gen,
				    .has_total = true, .total = v->n + 1 };

		rd_dbg("vpn %u: periodic SYNC_REQ (gen %llu, %u member(s))", v->conf->id,
		       (unsigned long long)v->gen, v->n + 1);
		rd_send(&g->link, g->mp, &m);
		repair_drift(v);
	}
	if (!v->sync_at || now >= v->sync_at) {
		rd_random(&r, sizeof(r));
		v->sync_at = now + ival * 8 / 10 + (int64_t)(r % (uint32_t)(ival * 4 / 10 + 1));
	}
}

static void asm_reset(struct gvpn *v)
{
	free(v->asm_got);
	free(v->asm_m);
	v->asm_got = NULL;
	v->asm_m = NULL;
	v->asm_n = 0;
	v->asm_have = 0;
	v->asm_type = 0;
}

/* Collect the parts of a JOIN/LIST; true when complete. */
static bool assemble(struct gvpn *v, const struct rd_msg *m)
{
	if (v->asm_type && (v->asm_type != m->type || v->asm_gen != m->gen ||
			    v->asm_nparts != m->nparts || v->asm_flags != m->flags)) {
		if (m->gen < v->asm_gen)
			return false;	/* older than what we are assembling */
		asm_reset(v);
	}
	if (!v->asm_type) {
		v->asm_type = m->type;
		v->asm_gen = m->gen;
		v->asm_flags = m->flags;
		v->asm_nparts = m->nparts;
		v->asm_total = m->total;
		v->asm_got = calloc(m->nparts, sizeof(bool));
		v->asm_m = calloc(m->total ? m->total : 1, sizeof(*v->asm_m));
		if (!v->asm_got || !v->asm_m) {
			asm_reset(v);
			return false;
		}
	}
	if (v->asm_got[m->part - 1])
		return false;
	if (v->asm_n + m->n_members > v->asm_total) {
		rd_warn("vpn %u: inconsistent %s parts; dropped", v->conf->id, rd_type_name(m->type));
		asm_reset(v);
		return false;
	}
	v->asm_got[m->part - 1] = true;
	v->asm_have++;
	memcpy(v->asm_m + v->asm_n, m->members, m->n_members * sizeof(*m->members));
	v->asm_n += m->n_members;
	return v->asm_have == v->asm_nparts;
}

static void ooo_drain(struct gw *g, struct gvpn *v);

static void handle_list(struct gw *g, struct gvpn *v, const struct rd_msg *m)
{
	if (v->synced && m->gen < v->gen) {
		rd_dbg("vpn %u: stale %s gen %llu (have %llu)", v->conf->id, rd_type_name(m->type),
		       (unsigned long long)m->gen, (unsigned long long)v->gen);
		return;
	}
	if (!assemble(v, m))
		return;
	apply_full(g, v, v->asm_flags, v->asm_gen, v->asm_m, v->asm_n);
	asm_reset(v);
	ooo_drain(g, v);
	if (v->max_seen > v->gen && !v->removed) {
		rd_info("vpn %u: saw gen %llu before the list (gen %llu); resyncing", v->conf->id,
			(unsigned long long)v->max_seen, (unsigned long long)v->gen);
		send_simple(g, RD_SYNC_REQ, v->conf->id);
	}
}

static void ooo_apply(struct gw *g, struct gvpn *v, const struct ooo *o)
{
	v->gen = o->gen;
	if (o->type == RD_NOTIFY)
		apply_notify(g, v, &o->member);
	else
		apply_remove(g, v, &o->dev);
}

/* Apply what has become next in line; forget what a list made stale. */
static void ooo_drain(struct gw *g, struct gvpn *v)
{
	bool progress = !v->removed;

	if (v->removed)
		v->n_ooo = 0;
	while (progress) {
		progress = false;
		for (unsigned int i = 0; i < v->n_ooo; i++) {
			if (v->ooo[i].gen > v->gen + 1)
				continue;
			if (v->ooo[i].gen == v->gen + 1) {
				struct ooo o = v->ooo[i];

				v->ooo[i] = v->ooo[--v->n_ooo];
				ooo_apply(g, v, &o);
				progress = true;
				break;
			}
			v->ooo[i--] = v->ooo[--v->n_ooo];
		}
	}
	if (!v->n_ooo)
		v->gap_deadline = 0;
}

static int ooo_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct ooo *)a)->gen, y = ((const struct ooo *)b)->gen;

	return x < y ? -1 : x > y;
}

/* The missing generations did not come: apply what we hold, in order, and
 * ask for the whole list. */
static void ooo_give_up(struct gw *g, struct gvpn *v)
{
	qsort(v->ooo, v->n_ooo, sizeof(v->ooo[0]), ooo_cmp);
	rd_info("vpn %u: generation gap (have %llu, next held %llu); resyncing", v->conf->id,
		(unsigned long long)v->gen, (unsigned long long)v->ooo[0].gen);
	v->skipping = true;
	for (unsigned int i = 0; i < v->n_ooo; i++)
		ooo_apply(g, v, &v->ooo[i]);
	v->skipping = false;
	v->n_ooo = 0;
	v->gap_deadline = 0;
	send_simple(g, RD_SYNC_REQ, v->conf->id);
}

static void handle_change(struct gw *g, struct gvpn *v, const struct rd_msg *m)
{
	if (m->gen > v->max_seen)
		v->max_seen = m->gen;
	if (!v->synced || v->removed) {
		rd_dbg("vpn %u: %s gen %llu before our view; noted", v->conf->id,
		       rd_type_name(m->type), (unsigned long long)m->gen);
		return;
	}
	if (m->gen <= v->gen) {
		rd_dbg("vpn %u: stale %s gen %llu (have %llu)", v->conf->id, rd_type_name(m->type),
		       (unsigned long long)m->gen, (unsigned long long)v->gen);
		return;
	}
	struct ooo o = { .type = m->type, .gen = m->gen };

	if (m->type == RD_NOTIFY)
		o.member = m->members[0];
	else
		o.dev = m->dev;
	if (m->gen == v->gen + 1) {
		ooo_apply(g, v, &o);
		ooo_drain(g, v);
		return;
	}
	/* Ahead of a generation still on its way (retransmissions reorder):
	 * hold it rather than resync the whole list at once. */
	for (unsigned int i = 0; i < v->n_ooo; i++)
		if (v->ooo[i].gen == m->gen)
			return;
	if (v->n_ooo == OOO_MAX) {
		ooo_give_up(g, v);
		handle_change(g, v, m);
		return;
	}
	rd_dbg("vpn %u: gen %llu ahead of %llu; held", v->conf->id, (unsigned long long)m->gen,
	       (unsigned long long)v->gen);
	v->ooo[v->n_ooo++] = o;
	if (!v->gap_deadline)
		v->gap_deadline = rd_now_ms() + GAP_WAIT_MS;
}

/* Checks a datagram and ACKs it; true if m is new and must be handled. */
static bool accept_packet(struct gw *g, const uint8_t *buf, size_t len, const struct sockaddr *from,
			  struct rd_msg *m, int *verdict)
{
	const char *why;

	if (!from_manager(&g->id, from)) {
		rd_warn("ignoring packet from %s: not the manager", rd_sa_ntop(from));
		return false;
	}
	if (rd_msg_decode(buf, len, m, &why)) {
		rd_warn("ignoring malformed message from the manager: %s", why);
		return false;
	}
	if (m->type == RD_ACK) {
		rd_acked(&g->link, g->mp, m->ack);
		rd_msg_release(m);
		return false;
	}
	*verdict = rd_window_check(&g->mp->win, m->session, m->seq);
	if (*verdict == RD_WIN_STALE) {
		rd_warn("ignoring %s from the manager's earlier session %u (now %u)",
			rd_type_name(m->type), m->session, g->mp->win.session);
		rd_msg_release(m);
		return false;
	}
	rd_send_ack(&g->link, g->mp, m->seq);
	if (*verdict == RD_WIN_DUP) {
		rd_msg_release(m);
		return false;
	}
	return true;
}

static void handle_msg(struct gw *g, struct rd_msg *m, int verdict)
{
	struct gvpn *v;

	rd_dbg("<- manager %s seq %u vpn %u gen %llu", rd_type_name(m->type), m->seq, m->vpn,
	       (unsigned long long)m->gen);
	if (verdict == RD_WIN_NEW_SESSION) {
		rd_info("the manager restarted; resyncing every VPN");
		for (unsigned int i = 0; i < g->nv; i++)
			if (g->v[i].synced && !g->v[i].removed && !(m->has_vpn && m->vpn == g->v[i].conf->id))
				send_simple(g, RD_SYNC_REQ, g->v[i].conf->id);
	}
	if (m->type == RD_ERROR) {
		for (unsigned int i = 0; i < g->nv; i++)
			if (m->has_ref && g->v[i].join_seq == m->ref_seq)
				rd_err("vpn %u: the manager refused to join us: %s (%s)",
				       g->v[i].conf->id, m->text[0] ? m->text : "-", strerror((int)m->err));
		if (!m->has_ref)
			rd_err("the manager reports: %s", m->text);
		goto out;
	}
	if (!m->has_vpn) {
		rd_dbg("ignoring %s", rd_type_name(m->type));
		goto out;
	}
	v = vpn_find(g, m->vpn);
	if (!v) {
		rd_warn("ignoring %s for vpn %u: not configured here", rd_type_name(m->type), m->vpn);
		goto out;
	}
	switch (m->type) {
	case RD_JOIN:
	case RD_LIST:
		handle_list(g, v, m);
		break;
	case RD_NOTIFY:
	case RD_REMOVE:
		handle_change(g, v, m);
		break;
	default:
		rd_warn("ignoring unexpected %s", rd_type_name(m->type));
	}
out:
	rd_msg_release(m);
}

static void on_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	struct gw *g = l->priv;
	struct gvpn *v;

	(void)p;
	if (acked || !pm->vpn)
		return;
	v = vpn_find(g, pm->vpn);
	if (!v || v->leaving)
		return;
	/* The manager is unreachable: start over with a JOIN_REQ later. */
	if (pm->type == RD_JOIN_REQ || pm->type == RD_SYNC_REQ) {
		rd_warn("vpn %u: no answer from the manager; re-joining in %d s", v->conf->id,
			REJOIN_DELAY_MS / 1000);
		v->rejoin_at = rd_now_ms() + REJOIN_DELAY_MS;
	}
}

/* A burst from the manager (a formation sends a gateway a NOTIFY per
 * joiner) is ACKed as it is read, before any of it is applied: applying
 * one takes netlink calls of milliseconds each, and ACKs waiting behind
 * them made the manager retransmit what had arrived (52 356
 * retransmissions for 8 989 messages forming a mesh of 128). */
#define RECV_BATCH 64

static void recv_all(struct gw *g)
{
	static struct rd_msg batch[RECV_BATCH];
	static int verdict[RECV_BATCH];
	unsigned int k = 0;

	for (int i = 0; i < RECV_BATCH; i++) {
		_Alignas(8) uint8_t buf[65536];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (accept_packet(g, buf, (size_t)n, (struct sockaddr *)&from, &batch[k], &verdict[k]))
			k++;
	}
	for (unsigned int i = 0; i < k; i++)
		handle_msg(g, &batch[i], verdict[i]);
}

int rd_gateway_run(struct rd_config *c)
{
	static struct gw gw;
	struct gw *g = &gw;
	int sfd = -1, ret;
	bool stop = false, leaving = false;
	int64_t leave_deadline = 0;
	char pub[45];

	memset(g, 0, sizeof(*g));
	g->c = c;
	g->fd = -1;
	ret = rd_identity_load(c->state_dir, &g->id);
	if (ret) {
		rd_err("%s/identity: %s; enrol first with 'rosterd redeem'", c->state_dir,
		       ret == -ENOENT ? "not enrolled" : strerror(-ret));
		return ret;
	}
	rd_wg_pubkey(g->pub, g->id.private_key);
	rd_key_b64(g->pub, pub);
	ret = setup_rctl(c->ifname, g->id.private_key, &g->id);
	if (ret)
		return ret;
	g->fd = rd_udp_socket(&g->id.id, g->id.control_port, c->ifname);
	if (g->fd < 0) {
		ret = g->fd;
		rd_err("cannot bind %s:%u: %s", rd_ntop(&g->id.id), g->id.control_port, strerror(-ret));
		return ret;
	}
	rd_link_init(&g->link, g->fd, (int)c->retry_ms, 8, on_done);
	g->link.session = rd_session_next(c->state_dir);
	g->link.priv = g;
	g->mp = manager_peer(&g->link, &g->id);
	ret = roster_open(&g->rh);
	if (ret) {
		rd_warn("roster.ko not available here (%s): no local mirror of the membership",
			strerror(-ret));
		g->rh = NULL;
	}
	g->v = calloc(c->n_vpns ? c->n_vpns : 1, sizeof(*g->v));
	if (!g->v) {
		ret = -ENOMEM;
		goto out;
	}
	g->nv = c->n_vpns;
	for (unsigned int i = 0; i < g->nv; i++) {
		struct gvpn *v = &g->v[i];

		v->conf = &c->vpns[i];
		ret = rd_wg_setup(v->conf->ifname, g->id.private_key, v->conf->listen_port);
		if (ret) {
			rd_err("%s: cannot set up WireGuard interface: %s", v->conf->ifname,
			       strerror(-ret));
			goto out;
		}
		/* Routes left by a previous run are ours to reconcile. */
		rd_route_list(v->conf->ifname, &v->routes, &v->nroutes);
	}
	sfd = rd_signalfd();
	if (sfd < 0) {
		ret = sfd;
		goto out;
	}
	rd_info("gateway %s up: %s, manager %s:%u, key %s, %u VPN(s)", rd_ntop(&g->id.id),
		c->ifname, rd_ntop(&g->id.control_addr), g->id.control_port, pub, g->nv);
	for (unsigned int i = 0; i < g->nv; i++)
		send_join_req(g, &g->v[i]);

	while (!stop) {
		struct pollfd pfd[2] = {
			{ .fd = g->fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int64_t now = rd_now_ms();
		int timeout = rd_tick(&g->link, now);

		for (unsigned int i = 0; i < g->nv; i++) {
			struct gvpn *v = &g->v[i];

			if (v->gap_deadline) {
				if (v->gap_deadline <= now)
					ooo_give_up(g, v);
				else if (timeout < 0 || v->gap_deadline - now < timeout)
					timeout = (int)(v->gap_deadline - now);
			}
			if (c->sync_interval && v->synced && !v->removed && !v->rejoin_at && !leaving) {
				periodic_sync(g, v, now);
				if (timeout < 0 || v->sync_at - now < timeout)
					timeout = (int)(v->sync_at - now);
			}
			if (!v->rejoin_at || leaving)
				continue;
			if (v->rejoin_at <= now) {
				send_join_req(g, v);
				timeout = 0;
			} else if (timeout < 0 || v->rejoin_at - now < timeout) {
				timeout = (int)(v->rejoin_at - now);
			}
		}
		if (leaving) {
			if (rd_idle(&g->link) || now >= leave_deadline)
				break;
			if (timeout < 0 || leave_deadline - now < timeout)
				timeout = (int)(leave_deadline - now);
		}
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
				if (leaving || !c->leave_on_exit) {
					rd_info("signal %u: shutting down (tunnels stay up)", si.ssi_signo);
					stop = true;
				} else {
					rd_info("signal %u: leaving every VPN before exiting", si.ssi_signo);
					leaving = true;
					leave_deadline = rd_now_ms() + 5000;
					for (unsigned int i = 0; i < g->nv; i++) {
						g->v[i].leaving = true;
						if (!g->v[i].removed)
							send_simple(g, RD_LEAVE_REQ, g->v[i].conf->id);
					}
				}
			}
		}
		if (pfd[0].revents & POLLIN)
			recv_all(g);
	}
	ret = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (g->fd >= 0)
		close(g->fd);
	rd_link_free(&g->link);
	for (unsigned int i = 0; i < g->nv; i++) {
		asm_reset(&g->v[i]);
		free(g->v[i].view);
		free(g->v[i].routes);
	}
	free(g->v);
	if (g->rh)
		roster_close(g->rh);
	return ret;
}

/* ---- one-shot commands ------------------------------------------------------ */

struct oneshot {
	struct rd_link link;
	struct rd_peer *mp;
	const struct rd_identity *id;
	uint32_t req_seq;
	bool acked, answered, failed, gave_up;
	struct rd_msg reply;
};

static void oneshot_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	struct oneshot *o = l->priv;

	(void)p;
	if (pm->seq != o->req_seq)
		return;
	if (acked)
		o->acked = true;
	else
		o->gave_up = true;
}

static void oneshot_recv(struct oneshot *o, uint8_t want)
{
	for (;;) {
		_Alignas(8) uint8_t buf[65536];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(o->link.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct roster_addr a;
		struct rd_msg m;
		const char *why;

		if (n < 0)
			return;
		if (rd_from_sockaddr((struct sockaddr *)&from, &a, NULL) ||
		    !rd_addr_eq(&a, &o->id->control_addr))
			continue;
		if (rd_msg_decode(buf, (size_t)n, &m, &why)) {
			rd_warn("ignoring malformed message from the manager: %s", why);
			continue;
		}
		if (m.type == RD_ACK) {
			rd_acked(&o->link, o->mp, m.ack);
		} else {
			int verdict = rd_window_check(&o->mp->win, m.session, m.seq);

			if (verdict != RD_WIN_STALE)
				rd_send_ack(&o->link, o->mp, m.seq);
			if (verdict == RD_WIN_NEW || verdict == RD_WIN_NEW_SESSION) {
				if (m.type == RD_ERROR && (!m.has_ref || m.ref_seq == o->req_seq)) {
					o->failed = true;
					rd_msg_release(&o->reply);
					o->reply = m;
					continue;
				}
				if (m.type == want) {
					o->answered = true;
					rd_msg_release(&o->reply);
					o->reply = m;
					continue;
				}
			}
		}
		rd_msg_release(&m);
	}
}

/* Run the link until pred holds or deadline (ms, absolute). */
static void oneshot_run(struct oneshot *o, uint8_t want, int64_t deadline,
			bool (*pred)(const struct oneshot *))
{
	while (!pred(o)) {
		int64_t now = rd_now_ms();
		int timeout = rd_tick(&o->link, now);
		struct pollfd pfd = { .fd = o->link.fd, .events = POLLIN };

		if (pred(o) || (deadline && now >= deadline) || (!deadline && timeout < 0))
			return;
		if (deadline && (timeout < 0 || deadline - now < timeout))
			timeout = (int)(deadline - now);
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			return;
		if (pfd.revents & POLLIN)
			oneshot_recv(o, want);
	}
}

static bool pred_answer(const struct oneshot *o)
{
	return o->answered || o->failed || o->gave_up;
}

static bool pred_acked(const struct oneshot *o)
{
	return o->acked || o->failed || o->gave_up;
}

static bool pred_failed(const struct oneshot *o)
{
	return o->failed;
}

static bool pred_never(const struct oneshot *o)
{
	(void)o;
	return false;
}

static int oneshot_open(struct oneshot *o, const struct rd_config *c, const struct rd_identity *id,
			int tries)
{
	int fd;

	memset(o, 0, sizeof(*o));
	o->id = id;
	/* An ephemeral port: a running `rosterd gateway` owns control-port. */
	fd = rd_udp_socket(&id->id, 0, c->ifname);
	if (fd < 0) {
		rd_err("cannot bind %s: %s", rd_ntop(&id->id), strerror(-fd));
		return fd;
	}
	rd_link_init(&o->link, fd, (int)c->retry_ms, tries, oneshot_done);
	o->link.priv = o;
	o->mp = manager_peer(&o->link, id);
	return o->mp ? 0 : -ENOMEM;
}

static void oneshot_close(struct oneshot *o)
{
	close(o->link.fd);
	rd_link_free(&o->link);
	rd_msg_release(&o->reply);
}

static void redeem_undo(const struct rd_config *c, bool had_if)
{
	if (!had_if)
		rd_wg_del(c->ifname);
}

int rd_cmd_redeem(struct rd_config *c, const char *token)
{
	struct rd_token t;
	struct rd_identity id = { 0 }, old;
	struct rd_msg req = { .type = RD_ENROLL, .has_key = true };
	struct oneshot o;
	const char *why;
	char ep[ROSTER_ADDR_STRLEN];
	bool had_old, had_if;
	int ret;

	if (rd_token_decode(token, &t, &why)) {
		rd_err("invalid invitation token: %s", why);
		return -EINVAL;
	}
	if (t.expiry <= (uint64_t)time(NULL)) {
		rd_err("invitation token expired (at %llu, now %llu)", (unsigned long long)t.expiry,
		       (unsigned long long)time(NULL));
		return -ETIME;
	}
	rd_wg_genkey(id.private_key);
	id.id = t.id;
	id.prefixlen = t.prefixlen;
	memcpy(id.manager_key, t.manager_key, 32);
	id.manager_endpoint = t.manager_endpoint;
	id.manager_port = t.manager_port;
	id.control_addr = t.control_addr;
	id.control_port = t.control_port;
	roster_endpoint_format(&t.manager_endpoint, t.manager_port, ep, sizeof(ep));

	/* Enrolling again would take the running gateway's control tunnel
	 * over; the operator has to retire the old identity first. */
	had_old = !rd_identity_load(c->state_dir, &old);
	if (had_old) {
		rd_err("%s/identity: already enrolled as %s; to enrol again, stop 'rosterd "
		       "gateway' and remove that file first", c->state_dir, rd_ntop(&old.id));
		memset(&old, 0, sizeof(old));
		return -EEXIST;
	}
	/* A failed redeem changes nothing: a control interface it created
	 * goes again. */
	had_if = rd_if_index(c->ifname) > 0;
	/* The control tunnel with the one-time invitation key. */
	ret = setup_rctl(c->ifname, t.invite_key, &id);
	if (!ret)
		ret = oneshot_open(&o, c, &id, 8);
	if (ret) {
		redeem_undo(c, had_if);
		return ret;
	}
	rd_wg_pubkey(req.key, id.private_key);
	o.req_seq = o.mp->next_seq;
	rd_info("enrolling as %s with the manager at %s", rd_ntop(&id.id), ep);
	ret = rd_send(&o.link, o.mp, &req);
	/* The manager ACKs ENROLL and then sends ENROLLED in a datagram of its
	 * own, so "nothing left to retransmit" is no reason to stop: wait for
	 * the answer as long as the manager would keep repeating it. */
	if (!ret)
		oneshot_run(&o, RD_ENROLLED, rd_now_ms() + ENROLL_WAIT_MS, pred_answer);
	if (ret || !o.answered) {
		if (o.failed)
			rd_err("the manager refused the enrolment: %s", o.reply.text[0] ? o.reply.text : strerror((int)o.reply.err));
		else
			rd_err("no answer from the manager at %s: the invitation is already used, "
			       "expired or revoked, or the manager is down", ep);
		oneshot_close(&o);
		redeem_undo(c, had_if);
		return -ETIMEDOUT;
	}
	/* Linger so a lost ACK of ENROLLED can be repeated. */
	oneshot_run(&o, 0, rd_now_ms() + 2 * (int64_t)c->retry_ms + 500, pred_never);
	oneshot_close(&o);
	ret = rd_identity_save(c->state_dir, &id);
	if (ret) {
		rd_err("%s: cannot save identity: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	ret = setup_rctl(c->ifname, id.private_key, &id);
	if (ret)
		return ret;
	memset(&t, 0, sizeof(t));
	rd_info("enrolled as %s; start 'rosterd gateway'", rd_ntop(&id.id));
	return 0;
}

int rd_cmd_leave(struct rd_config *c, uint32_t vpn)
{
	struct rd_identity id;
	struct rd_msg req = { .type = RD_LEAVE_REQ, .has_vpn = true, .vpn = vpn };
	struct oneshot o;
	int ret;

	ret = rd_identity_load(c->state_dir, &id);
	if (ret) {
		rd_err("%s/identity: %s", c->state_dir, ret == -ENOENT ? "not enrolled" : strerror(-ret));
		return ret;
	}
	ret = oneshot_open(&o, c, &id, 6);
	if (ret)
		return ret;
	/* The daemon may be running: one counter orders both. */
	o.link.session = rd_session_next(c->state_dir);
	o.req_seq = o.mp->next_seq;
	ret = rd_send(&o.link, o.mp, &req);
	if (!ret)
		oneshot_run(&o, 0, 0, pred_acked);
	/* The manager ACKs first, then sends ERROR if the leave failed. */
	if (o.acked && !o.failed)
		oneshot_run(&o, 0, rd_now_ms() + 300 + (int64_t)c->retry_ms, pred_failed);
	if (o.failed) {
		rd_err("vpn %u: the manager refused: %s", vpn,
		       o.reply.text[0] ? o.reply.text : strerror((int)o.reply.err));
		ret = -EPERM;
	} else if (!o.acked) {
		rd_err("vpn %u: no answer from the manager", vpn);
		ret = -ETIMEDOUT;
	} else {
		rd_info("vpn %u: left", vpn);
		ret = 0;
	}
	oneshot_close(&o);
	return ret;
}
