// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: the WireGuard and route reconciler. The gateway's
 * roster.ko table says what each interface must hold; notifications say
 * when to look. A pass reads the marked VPNs' members (a dump of the
 * table, not a copy kept here) and the interface's peers, and sets only
 * the difference, in one call per VPN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "util.h"
#include "gw-wg.h"
#include "gw-rotate.h"
#include "wireguard.h"

void gw_wg_managers(struct gw_wg *w, const struct rd_manager *set, unsigned int n)
{
	w->nmanagers = 0;
	for (unsigned int i = 0; i < n && i < RD_MANAGERS_MAX; i++)
		if (set[i].endpoint.family == AF_INET || set[i].endpoint.family == AF_INET6)
			w->managers[w->nmanagers++] = set[i].endpoint;
	for (unsigned int i = 0; i < w->nv; i++)
		w->v[i].dirty = true;
}

int gw_wg_init(struct gw_wg *w, struct roster_handle *rh, const struct rd_config *c,
	       const struct roster_addr *self_id, const uint8_t self_key[32])
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->rh = rh;
	w->self_id = *self_id;
	memcpy(w->self_key, self_key, 32);
	w->v = calloc(c->n_vpns ? c->n_vpns : 1, sizeof(*w->v));
	if (!w->v)
		return -ENOMEM;
	w->nv = c->n_vpns;
	for (unsigned int i = 0; i < w->nv; i++) {
		w->v[i].conf = &c->vpns[i];
		w->v[i].dirty = true;
	}
	/* Subscribed before the first dump: a change made between the two
	 * is then seen again, never missed. */
	ret = roster_monitor_open(rh, &w->mon);
	if (ret) {
		w->mon = NULL;
		return ret;
	}
	/* Routes left by a previous run are ours to reconcile. */
	for (unsigned int i = 0; i < w->nv; i++)
		rd_route_list(w->v[i].conf->ifname, &w->v[i].routes, &w->v[i].nroutes);
	return 0;
}

void gw_wg_free(struct gw_wg *w)
{
	if (w->mon)
		roster_monitor_close(w->mon);
	for (unsigned int i = 0; w->v && i < w->nv; i++) {
		free(w->v[i].routes);
		free(w->v[i].held);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

int gw_wg_fd(const struct gw_wg *w)
{
	return w->mon ? roster_monitor_fd(w->mon) : -1;
}

static struct gw_wg_vpn *vpn_of(struct gw_wg *w, uint32_t id)
{
	for (unsigned int i = 0; i < w->nv; i++)
		if (w->v[i].conf->id == id)
			return &w->v[i];
	return NULL;
}

static int on_event(const struct roster_event *ev, void *arg)
{
	struct gw_wg *w = arg;
	struct gw_wg_vpn *v;

	switch (ev->type) {
	case ROSTER_EVENT_OVERRUN:
		rd_warn("table notifications overran; reconciling every VPN from a dump");
		for (unsigned int i = 0; i < w->nv; i++)
			w->v[i].dirty = true;
		break;
	case ROSTER_EVENT_VPN_CHANGED:
		/* a generation or the follower mark: no member changed */
		break;
	default:
		v = vpn_of(w, ev->vpn_id);
		if (v)
			v->dirty = true;
	}
	return 0;
}

int gw_wg_read(struct gw_wg *w)
{
	int ret;

	if (!w->mon)
		return 0;
	ret = roster_monitor_read(w->mon, on_event, w);
	return ret < 0 && ret != -EAGAIN ? ret : 0;
}

void gw_wg_check(struct gw_wg *w, uint32_t vpn)
{
	struct gw_wg_vpn *v = vpn_of(w, vpn);

	if (v)
		v->dirty = v->check = true;
}

/* ---- the difference ------------------------------------------------------- */

static bool same_allowed(const struct rd_wg_peer *a, const struct rd_wg_peer *b)
{
	return rd_prefixes_same(a->allowed, a->n_allowed, b->allowed, b->n_allowed);
}

/* An endpoint the table does not give is the one WireGuard learnt from
 * the peer's packets: not a difference. */
static bool same_peer(const struct rd_wg_peer *have, const struct rd_wg_peer *want)
{
	if (want->keepalive != have->keepalive || !same_allowed(have, want))
		return false;
	if (want->has_endpoint && (!have->has_endpoint || have->port != want->port ||
				   !rd_addr_eq(&have->endpoint, &want->endpoint)))
		return false;
	return true;
}

static const struct rd_wg_peer *by_key(const struct rd_wg_peer *p, unsigned int n,
				       const uint8_t *key)
{
	for (unsigned int i = 0; i < n; i++)
		if (!memcmp(p[i].key, key, 32))
			return &p[i];
	return NULL;
}

unsigned int gw_wg_diff(const struct rd_wg_peer *have, unsigned int nhave,
			const struct rd_wg_peer *want, unsigned int nwant,
			struct rd_wg_peer *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nwant; i++) {
		const struct rd_wg_peer *h = by_key(have, nhave, want[i].key);

		if (!h || !same_peer(h, &want[i]))
			out[n++] = want[i];
	}
	for (unsigned int i = 0; i < nhave; i++) {
		if (by_key(want, nwant, have[i].key))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].key, have[i].key, 32);
		out[n++].remove = true;
	}
	return n;
}

/* ---- one VPN ------------------------------------------------------------- */

/* The interface's peers; allowed-ips in *pool. -ENODEV if it is gone. */
static int read_peers(const char *ifname, struct rd_wg_peer **out, unsigned int *n,
		      struct roster_prefix **pool)
{
	unsigned int np = 0, nips = 0, k = 0, ip = 0;
	wg_device *dev;
	wg_peer *peer;
	wg_allowedip *a;
	int ret;

	*out = NULL;
	*pool = NULL;
	*n = 0;
	ret = wg_get_device(&dev, ifname);
	if (ret)
		return ret;
	wg_for_each_peer(dev, peer) {
		np++;
		wg_for_each_allowedip(peer, a)
			nips++;
	}
	*out = calloc(np ? np : 1, sizeof(**out));
	*pool = calloc(nips ? nips : 1, sizeof(**pool));
	if (!*out || !*pool) {
		free(*out);
		free(*pool);
		*out = NULL;
		*pool = NULL;
		wg_free_device(dev);
		return -ENOMEM;
	}
	wg_for_each_peer(dev, peer) {
		struct rd_wg_peer *p = &(*out)[k++];

		memcpy(p->key, peer->public_key, 32);
		p->keepalive = peer->persistent_keepalive_interval;
		p->has_endpoint = !rd_from_sockaddr(&peer->endpoint.addr, &p->endpoint, &p->port);
		p->allowed = *pool + ip;
		wg_for_each_allowedip(peer, a) {
			struct roster_prefix *pp = &(*pool)[ip++];

			pp->addr.family = (uint8_t)a->family;
			memcpy(pp->addr.addr, a->family == AF_INET ? (void *)&a->ip4 : (void *)&a->ip6,
			       a->family == AF_INET ? 4 : 16);
			pp->len = a->cidr;
			p->n_allowed++;
		}
	}
	*n = np;
	wg_free_device(dev);
	return 0;
}

static bool own_prefix(const struct rd_vpn_conf *conf, const struct roster_prefix *p)
{
	for (unsigned int i = 0; i < conf->n_prefixes; i++)
		if (rd_prefix_eq(&conf->prefixes[i], p))
			return true;
	return false;
}

static bool has_prefix(const struct roster_prefix *set, unsigned int n,
		       const struct roster_prefix *p)
{
	for (unsigned int i = 0; i < n; i++)
		if (rd_prefix_eq(&set[i], p))
			return true;
	return false;
}

const struct roster_addr *gw_wg_covers_underlay(const struct roster_addr *mgrs, unsigned int nmgrs,
						 const struct rd_wg_peer *want, unsigned int nwant,
						 const struct roster_prefix *p)
{
	for (unsigned int i = 0; i < nmgrs; i++)
		if (rd_prefix_contains(p, &mgrs[i]))
			return &mgrs[i];
	for (unsigned int i = 0; i < nwant; i++)
		if (want[i].has_endpoint && rd_prefix_contains(p, &want[i].endpoint))
			return &want[i].endpoint;
	return NULL;
}

/* Say once, not at every pass, why a route is not installed. */
static void held_note(struct gw_wg_vpn *v, struct roster_prefix *held, unsigned int *nheld,
		      const struct roster_prefix *p, const char *why)
{
	char b[ROSTER_ADDR_STRLEN];

	held[(*nheld)++] = *p;
	if (has_prefix(v->held, v->nheld, p))
		return;
	roster_prefix_format(p, b, sizeof(b));
	rd_warn("route %s dev %s not installed: %s", b, v->conf->ifname, why);
}

/* Routes follow the peers: one per prefix of another member, through the
 * VPN's interface, with rosterd's own protocol (netif.h): never one that
 * covers an underlay path, and never in place of a route that is not
 * rosterd's. */
static void sync_routes(struct gw_wg *w, struct gw_wg_vpn *v, const struct rd_wg_peer *want,
			unsigned int nwant)
{
	const char *ifname = v->conf->ifname;
	struct roster_prefix *rt = NULL, *held = NULL, *others = NULL;
	unsigned int nrt = 0, cap = 0, nheld = 0, nothers = 0;
	bool others_read = false;
	char b[ROSTER_ADDR_STRLEN];
	int ret;

	for (unsigned int i = 0; i < nwant; i++)
		cap += want[i].n_allowed;
	rt = calloc(cap ? cap : 1, sizeof(*rt));
	held = calloc(cap ? cap : 1, sizeof(*held));
	if (!rt || !held) {
		free(rt);
		free(held);
		return;
	}
	for (unsigned int i = 0; i < nwant; i++) {
		for (unsigned int k = 0; k < want[i].n_allowed; k++) {
			const struct roster_prefix *p = &want[i].allowed[k];
			const struct roster_addr *u;

			if (own_prefix(v->conf, p) || has_prefix(rt, nrt, p) ||
			    has_prefix(held, nheld, p))
				continue;
			u = gw_wg_covers_underlay(w->managers, w->nmanagers, want, nwant, p);
			if (u) {
				char why[96];

				snprintf(why, sizeof(why), "it covers the underlay address %s",
					 rd_ntop(u));
				held_note(v, held, &nheld, p, why);
				continue;
			}
			rt[nrt++] = *p;
		}
	}
	for (unsigned int i = 0; i < v->nroutes; i++) {
		if (has_prefix(rt, nrt, &v->routes[i]))
			continue;
		roster_prefix_format(&v->routes[i], b, sizeof(b));
		ret = rd_route_del(ifname, &v->routes[i]);
		rd_metrics_reconcile(v->conf->id, ret);
		if (ret)
			rd_warn("route del %s dev %s: %s", b, ifname, strerror(-ret));
		else
			rd_dbg("route del %s dev %s", b, ifname);
	}
	for (unsigned int i = 0; i < nrt; i++) {
		if (has_prefix(v->routes, v->nroutes, &rt[i]))
			continue;
		/* NLM_F_EXCL refuses a route of the same metric only; one of
		 * another metric (a DHCP default route's 100) would be shadowed
		 * by ours, so any other route to the destination counts. Read
		 * once per pass that adds. */
		if (!others_read) {
			others_read = true;
			if (rd_route_list_others(&others, &nothers))
				nothers = 0;
		}
		roster_prefix_format(&rt[i], b, sizeof(b));
		ret = has_prefix(others, nothers, &rt[i]) ? -EEXIST : rd_route_add(ifname, &rt[i]);
		rd_metrics_reconcile(v->conf->id, ret == -EEXIST ? 0 : ret);
		if (ret == -EEXIST) {
			/* Not ours (ours are listed): left as it is. */
			held_note(v, held, &nheld, &rt[i],
				  "a route to it that rosterd did not create exists; left alone");
			rt[i--] = rt[--nrt];
			continue;
		}
		if (ret)
			rd_warn("route add %s dev %s: %s", b, ifname, strerror(-ret));
		else
			rd_dbg("route add %s dev %s", b, ifname);
	}
	free(others);
	free(v->routes);
	v->routes = rt;
	v->nroutes = nrt;
	free(v->held);
	v->held = held;
	v->nheld = nheld;
}

static void log_diff(const struct gw_wg_vpn *v, uint64_t gen, const struct roster_member *mb,
		     uint32_t nmb, const struct rd_wg_peer *d, unsigned int nd)
{
	for (unsigned int i = 0; i < nd; i++) {
		char key[45];
		const char *who = NULL;

		for (uint32_t k = 0; k < nmb && !who; k++)
			if (!memcmp(mb[k].key, d[i].key, 32))
				who = rd_ntop(&mb[k].id);
		rd_key_b64(d[i].key, key);
		rd_info("vpn %u gen %llu: peer %s %s (%s)", v->conf->id, (unsigned long long)gen,
			who ? who : "-", d[i].remove ? "removed" : "set", key);
	}
}

static void reconcile_one(struct gw_wg *w, struct gw_wg_vpn *v)
{
	struct roster_member_set *sets = NULL;
	const struct roster_member *mb = NULL;
	struct rd_wg_peer *want = NULL, *have = NULL, *d = NULL;
	struct roster_prefix *pool = NULL;
	unsigned int nwant = 0, nhave = 0, nd, found = 0;
	uint32_t nmb = 0;
	uint64_t gen = 0;
	size_t nsets = 0;
	int ret;

	ret = roster_member_list(w->rh, v->conf->id, &sets, &nsets);
	if (ret && ret != -ENOENT) {
		rd_err("vpn %u: cannot read the table: %s", v->conf->id,
		       roster_strerror_ext(w->rh, ret));
		rd_metrics_reconcile(v->conf->id, ret);
		return;
	}
	if (nsets) {
		mb = sets[0].members;
		nmb = sets[0].count;
		gen = sets[0].generation;
	}
	ret = read_peers(v->conf->ifname, &have, &nhave, &pool);
	if (ret) {
		rd_err("%s: cannot read peers: %s", v->conf->ifname, strerror(-ret));
		rd_metrics_reconcile(v->conf->id, ret);
		goto out;
	}
	want = calloc(nmb + 1, sizeof(*want));
	d = calloc(nmb + nhave + 1, sizeof(*d));
	if (!want || !d)
		goto out;
	for (uint32_t i = 0; i < nmb; i++) {
		struct rd_wg_peer *p = &want[nwant];

		if (rd_addr_eq(&mb[i].id, &w->self_id) || !memcmp(mb[i].key, w->self_key, 32))
			continue;
		/*
		 * [vpn] keepalive (off by default) keeps NAT mappings open. It
		 * is off by default because setting it makes every peer start
		 * a handshake at once: a whole mesh formed at the same moment
		 * then performs N^2 handshakes together, which starves the
		 * control channel (performance.rst, "The first ping"), and
		 * keeps every pair re-keying every 2 minutes.
		 */
		p->keepalive = v->conf->keepalive;
		memcpy(p->key, mb[i].key, 32);
		p->has_endpoint = mb[i].has_endpoint;
		p->endpoint = mb[i].endpoint;
		p->port = mb[i].port;
		p->n_allowed = mb[i].n_prefixes;
		p->allowed = mb[i].prefixes;
		nwant++;
	}
	nd = gw_wg_diff(have, nhave, want, nwant, d);
	if (nd) {
		for (unsigned int i = 0; i < nhave; i++)
			found += by_key(want, nwant, have[i].key) != NULL;
		/* Between changes of the table, a difference is someone else's
		 * doing (`wg set ... remove`, an interface re-created). */
		if (v->check)
			rd_warn("vpn %u: %s has %u peer(s), %u of the view's %u; re-programming",
				v->conf->id, v->conf->ifname, nhave, found, nwant);
		ret = gw_rotate_apply(v->conf->ifname, have, nhave, d, nd, v->conf->keepalive);
		w->applies++;
		rd_metrics_reconcile(v->conf->id, ret);
		if (ret)
			rd_err("%s: cannot program peers: %s", v->conf->ifname, strerror(-ret));
		else
			log_diff(v, gen, mb, nmb, d, nd);
	}
	if (v->check) {
		/* Routes deleted or added by hand are drift too. */
		free(v->routes);
		rd_route_list(v->conf->ifname, &v->routes, &v->nroutes);
	}
	sync_routes(w, v, want, nwant);
out:
	free(want);
	free(have);
	free(pool);
	free(d);
	roster_member_sets_free(sets, nsets);
}

void gw_wg_reconcile(struct gw_wg *w)
{
	for (unsigned int i = 0; i < w->nv; i++) {
		struct gw_wg_vpn *v = &w->v[i];

		if (!v->dirty)
			continue;
		reconcile_one(w, v);
		v->dirty = v->check = false;
	}
}
