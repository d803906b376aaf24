// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: setup and the one event loop. Data flows one way: the
 * manager's changes go into the gateway's own roster.ko (gw-table.c, in
 * the order gw-view.c keeps from the kernel's verdicts), and WireGuard
 * follows that table (gw-wg.c). rosterd keeps no copy of the membership.
 * The loop sleeps until the nearest of the modules' deadlines.
 *
 * The gateway knows every manager of its cluster (the identity's set,
 * which MANAGERS updates) and talks to one, the leader as far as it can
 * tell (gw-failover.h): a move drops what was queued to the old one and
 * states the gateway's view to the new one. No VPN interface changes for
 * it: the tunnels follow the table, and the table the managers' one store.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "util.h"
#include "proto.h"
#include "rel.h"
#include "netif.h"
#include "state.h"
#include "gw-ctl.h"
#include "gw-failover.h"
#include "gw-rotate.h"
#include "gw-view.h"
#include "gw-table.h"
#include "gw-wg.h"
#include "gw-status.h"
#include "ctl-sock.h"
#include "gw-metrics.h"
#include "metrics.h"

#define REJOIN_DELAY_MS 4000
#define LEAVE_WAIT_MS 5000
/* A standby that names no leader of the set moves the gateway to the
 * next manager, which is asked this much later, not at once: standbys
 * refusing in turn (no leader elected yet, etcd without quorum, or one
 * the gateway does not know) must not become a loop at the speed of a
 * round trip. A new leader's MANAGERS moves the gateway sooner. */
#define STANDBY_RETRY_MS 2000

struct gvpn {
	struct rd_vpn_conf *conf;
	struct gw_view view;		/* assembly and held changes only */
	bool removed;			/* told "not a member", and obeyed */
	bool leaving;
	/* A JOIN_REQ went and no list for this VPN has come since: a join
	 * the leader took and then lost (its commit fenced, the table handed
	 * to a new term) is asked again, not left out for good. */
	bool awaiting;
	uint32_t join_seq;
	int64_t rejoin_at;		/* 0: no JOIN_REQ due */
	int64_t sync_at;		/* next periodic SYNC_REQ */
};

struct gw {
	struct rd_config *c;
	struct rd_identity id;
	struct gw_store store;
	uint8_t pub[32];
	struct rd_link link;
	struct rd_peer *mp;		/* the current manager's, peers[fo.cur] */
	struct rd_peer *peers[RD_MANAGERS_MAX];	/* one per manager of id's set */
	struct gw_failover fo;
	/* The current manager's request the stall hook saw unacknowledged
	 * (NULL: none), handled once rd_tick returned. */
	struct rd_peer *stalled;
	uint8_t stalled_type;
	uint32_t stalled_seq;
	bool probed;			/* rotate_probe asked the current manager */
	int64_t restate_at;		/* state_all due (STANDBY_RETRY_MS), 0: none */
	int fd;
	struct gvpn *v;
	unsigned int nv;
	struct roster_handle *rh;	/* the gateway's own table */
	struct gw_wg wg;
	struct gw_rotate rot;
	struct gw_status_src status;	/* what `rosterd status` reads */
	struct ctl_sock ctl;
};

static struct gvpn *vpn_find(struct gw *g, uint32_t id)
{
	for (unsigned int i = 0; i < g->nv; i++)
		if (g->v[i].conf->id == id)
			return &g->v[i];
	return NULL;
}

/* The gateway's own record, as its JOIN_REQ states it: the manager lists
 * every member but the recipient. With endpoint = auto it has no
 * endpoint: only the manager sees the address. */
static void self_member(struct gw *g, struct gvpn *v, struct roster_member *m)
{
	memset(m, 0, sizeof(*m));
	m->id = g->id.id;
	memcpy(m->key, g->pub, 32);
	m->has_key = true;
	if (g->c->has_endpoint && !g->c->endpoint_auto) {
		m->has_endpoint = true;
		m->endpoint = g->c->endpoint;
		m->port = v->conf->listen_port;
	}
	m->n_prefixes = v->conf->n_prefixes;
	memcpy(m->prefixes, v->conf->prefixes, sizeof(m->prefixes));
}

/* ---- requests to the manager ------------------------------------------------ */

static void send_join_req(struct gw *g, struct gvpn *v)
{
	struct rd_msg m = { .type = RD_JOIN_REQ, .has_vpn = true, .vpn = v->conf->id };

	if (g->c->endpoint_auto) {
		m.endpoint_auto = true;
		m.port = v->conf->listen_port;
	} else if (g->c->has_endpoint) {
		m.has_endpoint = true;
		m.endpoint = g->c->endpoint;
		m.port = v->conf->listen_port;
	}
	m.n_prefixes = v->conf->n_prefixes;
	memcpy(m.prefixes, v->conf->prefixes, sizeof(m.prefixes));
	v->join_seq = g->mp->next_seq;
	v->rejoin_at = 0;
	v->awaiting = true;
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

/* Ask for the whole list; one request at a time is enough. */
static void request_list(struct gw *g, struct gvpn *v)
{
	if (!rd_pending_of(g->mp, v->conf->id, 1u << RD_SYNC_REQ))
		send_simple(g, RD_SYNC_REQ, v->conf->id);
}

/* State the local table's view (generation and member count): the
 * manager answers with a LIST only if it is behind, and moves the VPN past
 * it if the manager's store is the one behind (a restored backup). */
static void state_view(struct gw *g, struct gvpn *v)
{
	struct gw_local t;
	uint32_t count;

	if (rd_pending_of(g->mp, v->conf->id, 1u << RD_SYNC_REQ))
		return;
	if (gw_table_get(g->rh, v->conf->id, &t, &count)) {
		request_list(g, v);
		return;
	}
	/* endpoint = auto says so in every SYNC_REQ too: a manager that
	 * restarted learns again whom to follow. */
	struct rd_msg m = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = v->conf->id,
			    .has_gen = true, .gen = t.gen, .has_total = true, .total = count,
			    .endpoint_auto = g->c->endpoint_auto, .port = v->conf->listen_port };

	rd_dbg("vpn %u: SYNC_REQ (gen %llu, %u member(s))", v->conf->id,
	       (unsigned long long)t.gen, count);
	rd_send(&g->link, g->mp, &m);
}

/* A change the manager could not deliver (it died right after it, or gave
 * up retrying) would otherwise stay missing until the next change. So
 * every sync-interval (+-20 %, so gateways do not ask in lockstep) the
 * gateway states its table's generation and member count; the manager
 * answers with a LIST only if they are behind. The same tick compares
 * WireGuard with the table (drift). */
static void periodic_sync(struct gw *g, struct gvpn *v, int64_t now)
{
	int64_t ival = (int64_t)g->c->sync_interval * 1000;
	uint32_t r;

	if (v->sync_at && now >= v->sync_at) {
		state_view(g, v);
		gw_wg_check(&g->wg, v->conf->id);
	}
	if (!v->sync_at || now >= v->sync_at) {
		rd_random(&r, sizeof(r));
		v->sync_at = now + ival * 8 / 10 + (int64_t)(r % (uint32_t)(ival * 4 / 10 + 1));
	}
}

/* ---- changes ----------------------------------------------------------------- */

/* Retry what was held, in generation order, while it applies. */
static void drain(struct gw *g, struct gvpn *v)
{
	struct gw_change c;

	while (gw_view_held(&v->view, &c)) {
		enum gw_act act = gw_view_held_verdict(&v->view,
						       gw_table_change(g->rh, v->conf->id, &c));

		if (act == GW_ACT_SYNC)
			request_list(g, v);
		if (act != GW_ACT_DRAIN)
			break;
	}
}

static void handle_change(struct gw *g, struct gvpn *v, const struct rd_msg *m)
{
	struct gw_change c = { .type = m->type, .gen = m->gen };
	int ret;

	if (v->removed) {
		rd_dbg("vpn %u: %s gen %llu after our removal; ignored", v->conf->id,
		       rd_type_name(m->type), (unsigned long long)m->gen);
		return;
	}
	if (m->type == RD_NOTIFY)
		c.member = m->members[0];
	else
		c.dev = m->dev;
	ret = gw_table_change(g->rh, v->conf->id, &c);
	switch (gw_view_verdict(&v->view, &c, ret, rd_now_ms())) {
	case GW_ACT_DRAIN:
		rd_dbg("vpn %u gen %llu: %s %s applied", v->conf->id, (unsigned long long)c.gen,
		       rd_type_name(c.type), rd_ntop(c.type == RD_NOTIFY ? &c.member.id : &c.dev));
		drain(g, v);
		break;
	case GW_ACT_SYNC:
		rd_warn("vpn %u: %s gen %llu: %s; asking for the list", v->conf->id,
			rd_type_name(c.type), (unsigned long long)c.gen,
			ret ? roster_strerror_ext(g->rh, ret) : "too many held");
		request_list(g, v);
		break;
	case GW_ACT_NONE:
		rd_dbg("vpn %u: %s gen %llu: %s", v->conf->id, rd_type_name(c.type),
		       (unsigned long long)c.gen, ret == -EALREADY ? "old" : "held");
		break;
	}
}

static void learn_store(struct gw *g, const struct gw_asm *a, bool adopt)
{
	char hex[2 * RD_STORE_ID_LEN + 1];
	int ret;

	for (unsigned int i = 0; i < RD_STORE_ID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", a->store_id[i]);
	if (adopt)
		rd_warn("the manager's membership now comes from store %s, not the one known; "
			"following it", hex);
	else
		rd_info("the manager's store is %s", hex);
	g->store.known = true;
	memcpy(g->store.id, a->store_id, sizeof(g->store.id));
	g->id.has_store_id = true;
	memcpy(g->id.store_id, a->store_id, sizeof(g->id.store_id));
	ret = rd_identity_save(g->c->state_dir, &g->id);
	if (ret)
		rd_err("%s/identity: cannot save the store identity: %s", g->c->state_dir,
		       strerror(-ret));
}

static void apply_list(struct gw *g, struct gvpn *v, const struct gw_asm *a, bool rebase)
{
	struct roster_member self;
	unsigned int changed = 0;
	int ret;

	self_member(g, v, &self);
	ret = gw_table_sync(g->rh, v->conf->id, a->gen, a->m, a->n, &self, rebase, &changed);
	if (ret == -EALREADY) {
		rd_dbg("vpn %u: %s gen %llu is old", v->conf->id, rd_type_name(a->type),
		       (unsigned long long)a->gen);
		return;
	}
	v->removed = false;
	if (ret)
		rd_warn("vpn %u: %s gen %llu: the table is not the manager's: %s", v->conf->id,
			rd_type_name(a->type), (unsigned long long)a->gen,
			roster_strerror_ext(g->rh, ret));
	rd_info("vpn %u gen %llu: %u other member(s), %u change(s) to the table", v->conf->id,
		(unsigned long long)a->gen, a->n, changed);
}

static void handle_list(struct gw *g, struct gvpn *v, const struct rd_msg *m)
{
	const struct gw_asm *a = &v->view.as;
	struct gw_local t;
	bool learn;
	int ret;

	switch (gw_view_assemble(&v->view, m)) {
	case GW_ASM_DONE:
		break;
	case GW_ASM_BOGUS:
		rd_warn("vpn %u: inconsistent %s parts; dropped", v->conf->id, rd_type_name(m->type));
		return;
	default:
		return;
	}
	ret = gw_table_get(g->rh, v->conf->id, &t, NULL);
	if (ret && ret != -ENOENT) {
		rd_err("vpn %u: cannot read the table: %s", v->conf->id,
		       roster_strerror_ext(g->rh, ret));
		gw_view_asm_reset(&v->view);
		return;
	}
	t.awaiting = v->awaiting;
	switch (gw_view_list_rule(a, &g->store, &t, &learn)) {
	case GW_LIST_OLD:
		rd_dbg("vpn %u: %s gen %llu older than the table (%llu)", v->conf->id,
		       rd_type_name(a->type), (unsigned long long)a->gen, (unsigned long long)t.gen);
		break;
	case GW_LIST_REJOIN:
		if (!t.have) {
			rd_warn("vpn %u: the manager says we are not a member (gen %llu), but no "
				"JOIN came for our JOIN_REQ (a join lost when the leadership "
				"changed); joining again", v->conf->id, (unsigned long long)a->gen);
			if (!v->leaving && !rd_pending_of(g->mp, v->conf->id, 1u << RD_JOIN_REQ))
				send_join_req(g, v);
			break;
		}
		rd_warn("vpn %u: the manager says we are not a member (gen %llu%s), but %s; "
			"re-joining, removing nothing", v->conf->id, (unsigned long long)a->gen,
			a->has_store_id ? "" : ", no store identity",
			(g->store.known && a->has_store_id &&
			 !memcmp(g->store.id, a->store_id, RD_STORE_ID_LEN)) ||
			(!g->store.known && !a->has_store_id) ?
			"our table is as new" : "from a store we do not know");
		if (!v->leaving && !rd_pending_of(g->mp, v->conf->id, 1u << RD_JOIN_REQ))
			send_join_req(g, v);
		break;
	case GW_LIST_REMOVE:
		v->awaiting = false;
		if (v->leaving)
			rd_info("vpn %u: left (gen %llu)", v->conf->id, (unsigned long long)a->gen);
		else if (t.have)
			rd_warn("vpn %u: not a member any more (gen %llu); removing all peers",
				v->conf->id, (unsigned long long)a->gen);
		ret = gw_table_remove(g->rh, v->conf->id, a->gen);
		if (ret)
			rd_err("vpn %u: cannot delete the table: %s", v->conf->id,
			       roster_strerror_ext(g->rh, ret));
		v->removed = true;
		gw_view_drop_held(&v->view);
		/* Expired for its silence, not removed by an administrator. */
		if ((a->flags & RD_F_REJOIN) && !v->leaving) {
			rd_warn("vpn %u: the manager expired us (silent for too long); joining again",
				v->conf->id);
			send_join_req(g, v);
		}
		break;
	case GW_LIST_ADOPT:
		v->awaiting = false;
		learn_store(g, a, true);
		apply_list(g, v, a, true);
		break;
	case GW_LIST_APPLY:
		v->awaiting = false;
		if (learn)
			learn_store(g, a, false);
		apply_list(g, v, a, false);
		break;
	}
	gw_view_asm_reset(&v->view);
	if (!v->removed)
		drain(g, v);
}

/* ---- the managers ------------------------------------------------------------ */

static const char *mgr_name(const struct gw *g, unsigned int i)
{
	return rd_ntop(&g->id.managers[i].control_addr);
}

/* The gateway's view, to a manager it has just moved to: what was queued
 * to the one before is gone, so every VPN says again where it stands,
 * through the paths that said it first. Nothing else changes: the tables
 * and the tunnels stay as they are, and the new manager's answers are
 * applied by generation as any manager's. */
static void state_all(struct gw *g)
{
	for (unsigned int i = 0; i < g->nv; i++) {
		struct gvpn *v = &g->v[i];
		struct gw_local t;

		/* Parts of a list from the one before do not mix with the
		 * new one's. */
		gw_view_asm_reset(&v->view);
		if (v->removed)
			continue;
		if (v->leaving)
			send_simple(g, RD_LEAVE_REQ, v->conf->id);
		else if (!gw_table_get(g->rh, v->conf->id, &t, NULL) && t.have)
			state_view(g, v);
		else
			send_join_req(g, v);
	}
}

/*
 * A ROTATE waits for the current manager to show that it leads
 * (gw-rotate.h). A leader the gateway is up to date with has nothing to
 * say, so it is asked for one joined VPN's list, which a leader answers
 * and a standby refuses (EROFS): either moves the rotation on. Once per
 * manager talked to.
 */
static void rotate_probe(struct gw *g)
{
	if (g->probed || g->restate_at || !g->rot.active || g->rot.announced ||
	    gw_failover_leads(&g->fo))
		return;
	/* A VPN that joins later gets a JOIN, which says as much. */
	g->probed = true;
	for (unsigned int i = 0; i < g->nv; i++) {
		struct gvpn *v = &g->v[i];
		struct gw_local t;

		if (v->removed || v->leaving || gw_table_get(g->rh, v->conf->id, &t, NULL) || !t.have)
			continue;
		rd_info("vpn %u: asking manager %s for the list: the next key waits for the leader",
			v->conf->id, mgr_name(g, g->fo.cur));
		request_list(g, v);
		return;
	}
}

static void restate(struct gw *g)
{
	g->restate_at = 0;
	/* Before the views: its list request stands for that VPN's. */
	rotate_probe(g);
	state_all(g);
}

/* fo.cur changed: talk to it from now on, stating the views now or after
 * delay_ms. unanswered: the one before was silent. */
static void switch_manager(struct gw *g, const char *why, bool unanswered, int delay_ms)
{
	struct rd_peer *old = g->mp;

	g->mp = g->peers[g->fo.cur];
	if (old && old != g->mp)
		rd_peer_flush(old);
	if (delay_ms)
		rd_info("manager: now talking to %s (%s); asking it in %d s", mgr_name(g, g->fo.cur),
			why, delay_ms / 1000);
	else
		rd_info("manager: now talking to %s (%s)", mgr_name(g, g->fo.cur), why);
	gw_rotate_peer(&g->rot, g->mp, gw_failover_leads(&g->fo), unanswered);
	g->probed = false;
	if (delay_ms)
		g->restate_at = rd_now_ms() + delay_ms;
	else
		restate(g);
}

/* The stall hook (rel.h): noted only, rd_tick is walking the queues. */
static void on_stall(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm)
{
	struct gw *g = l->priv;

	if (p != g->mp || g->stalled)
		return;
	g->stalled = p;
	g->stalled_type = pm->type;
	g->stalled_seq = pm->seq;
}

static void handle_stall(struct gw *g)
{
	unsigned int was = g->fo.cur;
	char why[160];

	if (g->stalled == g->mp && gw_failover_silent(&g->fo, was)) {
		snprintf(why, sizeof(why), "%s did not acknowledge %s seq %u after %d retransmissions",
			 mgr_name(g, was), rd_type_name(g->stalled_type), g->stalled_seq,
			 GW_FAILOVER_RETRANSMITS);
		switch_manager(g, why, true, 0);
	}
	g->stalled = NULL;
}

/* A message other than EROFS from manager i: it leads, as far as the
 * gateway can tell. */
static void heard_from(struct gw *g, unsigned int i, const struct rd_msg *m)
{
	char why[96];

	if (gw_failover_heard(&g->fo, i)) {
		snprintf(why, sizeof(why), "%s from it", rd_type_name(m->type));
		switch_manager(g, why, false, 0);
	} else {
		/* A ROTATE held for a manager that may be a standby goes now. */
		gw_rotate_peer(&g->rot, g->mp, gw_failover_leads(&g->fo), false);
	}
}

/* EROFS from manager i: a standby, which did not serve the request
 * (m->ref_seq) and names the leader it knows (m->dev), if any. */
static void handle_standby(struct gw *g, unsigned int i, const struct rd_msg *m)
{
	int leader = m->has_dev ? rd_identity_manager(&g->id, &m->dev) : -1;
	char why[192];

	rd_warn("manager %s is a standby: %s", mgr_name(g, i), m->text[0] ? m->text : "-");
	if (m->has_dev && leader < 0)
		rd_warn("the leader it names, %s, is not a manager this gateway knows",
			rd_ntop(&m->dev));
	if (gw_failover_standby(&g->fo, i, leader)) {
		bool named = (int)g->fo.cur == leader;

		if (named)
			snprintf(why, sizeof(why), "%s is a standby and names it the leader",
				 mgr_name(g, i));
		else
			snprintf(why, sizeof(why), "%s is a standby and knows no leader of the set; "
				 "the next one", mgr_name(g, i));
		switch_manager(g, why, false, named ? 0 : STANDBY_RETRY_MS);
		return;
	}
	if (i != g->fo.cur)
		return;
	/* No other manager to ask (a set of one): the refused JOIN_REQ is
	 * asked again later, as after no answer; a SYNC_REQ is repeated by
	 * the periodic sync. */
	for (unsigned int k = 0; k < g->nv; k++) {
		struct gvpn *v = &g->v[k];

		if (m->has_ref && v->join_seq == m->ref_seq && !v->leaving && !v->removed) {
			rd_warn("vpn %u: no other manager to ask; re-joining in %d s", v->conf->id,
				REJOIN_DELAY_MS / 1000);
			v->rejoin_at = rd_now_ms() + REJOIN_DELAY_MS;
		}
	}
}

/* The reliable layer's destination of each manager of id's set: 0, or
 * -ENOMEM. */
static int peers_for(struct gw *g, const struct rd_identity *id, struct rd_peer **p)
{
	for (unsigned int i = 0; i < id->n_managers; i++) {
		p[i] = gw_ctl_peer(&g->link, id, i);
		if (!p[i])
			return -ENOMEM;
	}
	return 0;
}

/* The cluster's managers are set[n] (sorted, checked): on disk first, so
 * that a restart finds them, then on rctl0 (the peers of the others go),
 * then the choice of manager. */
static void adopt_set(struct gw *g, const struct rd_manager *set, unsigned int n,
		      const char *from)
{
	struct rd_identity next = g->id;
	struct roster_addr cur = g->id.managers[g->fo.cur].control_addr;
	struct rd_peer *peers[RD_MANAGERS_MAX];
	char list[RD_MANAGERS_MAX * (ROSTER_ADDR_STRLEN + 1)] = "";
	int ret;

	memset(next.managers, 0, sizeof(next.managers));
	memcpy(next.managers, set, n * sizeof(*set));
	next.n_managers = n;
	ret = peers_for(g, &next, peers);
	if (!ret)
		ret = rd_identity_save(g->c->state_dir, &next);
	if (ret) {
		rd_err("%s/identity: cannot save the managers %s named: %s; keeping the %u known",
		       g->c->state_dir, from, strerror(-ret), g->id.n_managers);
		memset(&next, 0, sizeof(next));
		return;
	}
	memset(g->id.managers, 0, sizeof(g->id.managers));
	memcpy(g->id.managers, set, n * sizeof(*set));
	g->id.n_managers = n;
	memcpy(g->peers, peers, n * sizeof(peers[0]));
	memset(&next, 0, sizeof(next));
	for (unsigned int i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "",
			 mgr_name(g, i));
	rd_info("managers (from %s): %s", from, list);
	gw_wg_managers(&g->wg, g->id.managers, n);
	ret = gw_ctl_apply(g->c->ifname, &g->id);
	if (ret)
		rd_err("%s: cannot set the managers' peers: %s", g->c->ifname, strerror(-ret));
	if (gw_failover_reset(&g->fo, n, rd_identity_manager(&g->id, &cur))) {
		char why[96];

		snprintf(why, sizeof(why), "%s is no manager of the cluster any more", rd_ntop(&cur));
		switch_manager(g, why, false, 0);
	}
}

static void rejoin_unanswered(struct gw *g)
{
	for (unsigned int k = 0; k < g->nv; k++) {
		struct gvpn *v = &g->v[k];

		if (!v->awaiting || v->leaving || v->removed ||
		    rd_pending_of(g->mp, v->conf->id, 1u << RD_JOIN_REQ))
			continue;
		rd_info("vpn %u: a leader's term began and no JOIN came for our JOIN_REQ; asking "
			"again", v->conf->id);
		send_join_req(g, v);
	}
}

/* MANAGERS from manager i: the cluster's managers, as its leader knows
 * them. */
static void handle_managers(struct gw *g, unsigned int i, const struct rd_msg *m)
{
	struct rd_manager set[RD_MANAGERS_MAX];
	unsigned int n = 0;
	const char *why;
	bool same;

	if (g->store.known && m->has_store_id &&
	    memcmp(g->store.id, m->store_id, RD_STORE_ID_LEN)) {
		rd_warn("ignoring MANAGERS from %s: its store is not the one known", mgr_name(g, i));
		return;
	}
	if (!m->n_members) {
		rd_warn("ignoring MANAGERS from %s: no manager in it", mgr_name(g, i));
		return;
	}
	if (rd_managers_from_members(&g->id, m->members, m->n_members, set, &n, &why)) {
		rd_warn("ignoring MANAGERS from %s: %s", mgr_name(g, i), why);
		return;
	}
	same = n == g->id.n_managers;
	for (unsigned int k = 0; same && k < n; k++)
		same = rd_manager_eq(&set[k], &g->id.managers[k]);
	if (same) {
		rd_dbg("MANAGERS from %s: the set known", mgr_name(g, i));
		/* A leader sends it when its term begins: a join its last
		 * term took and lost is asked again now. */
		if (i == g->fo.cur)
			rejoin_unanswered(g);
		return;
	}
	{
		char from[64];

		snprintf(from, sizeof(from), "MANAGERS from %s", mgr_name(g, i));
		adopt_set(g, set, n, from);
	}
}

/* ---- the control channel --------------------------------------------------- */

/* Checks a datagram and ACKs it; true if m is new and must be handled.
 * *from: the manager it came from. */
static bool accept_packet(struct gw *g, const uint8_t *buf, size_t len, const struct sockaddr *sa,
			  struct rd_msg *m, int *verdict, struct roster_addr *from)
{
	int i = gw_ctl_from(&g->id, sa);
	struct rd_peer *p;
	const char *why;

	if (i < 0) {
		rd_warn("ignoring packet from %s: not a manager of the cluster", rd_sa_ntop(sa));
		return false;
	}
	p = g->peers[i];
	*from = g->id.managers[i].control_addr;
	if (rd_msg_decode(buf, len, m, &why)) {
		rd_warn("ignoring malformed message from manager %s: %s", mgr_name(g, (unsigned int)i),
			why);
		return false;
	}
	rd_metrics_msg(RD_M_RECEIVED, m->type);
	if (m->type == RD_ACK) {
		rd_acked(&g->link, p, m->ack);
		rd_msg_release(m);
		return false;
	}
	*verdict = rd_window_check(&p->win, m->session, m->seq);
	if (*verdict == RD_WIN_STALE) {
		rd_warn("ignoring %s from manager %s's earlier session %u (now %u)",
			rd_type_name(m->type), mgr_name(g, (unsigned int)i), m->session, p->win.session);
		rd_msg_release(m);
		return false;
	}
	rd_send_ack(&g->link, p, m->seq);
	if (*verdict == RD_WIN_DUP) {
		rd_msg_release(m);
		return false;
	}
	return true;
}

static void handle_msg(struct gw *g, struct rd_msg *m, int verdict, const struct roster_addr *from)
{
	int i = rd_identity_manager(&g->id, from);
	unsigned int was = g->fo.cur;
	struct gvpn *v;

	rd_dbg("<- manager %s %s seq %u vpn %u gen %llu", rd_ntop(from), rd_type_name(m->type),
	       m->seq, m->vpn, (unsigned long long)m->gen);
	/* A MANAGERS earlier in the burst left it out. */
	if (i < 0) {
		rd_dbg("ignoring %s from %s: no manager of the cluster any more",
		       rd_type_name(m->type), rd_ntop(from));
		goto out;
	}
	if (m->type == RD_ERROR && m->has_err && m->err == EROFS) {
		handle_standby(g, (unsigned int)i, m);
		goto out;
	}
	heard_from(g, (unsigned int)i, m);
	/* Its table is restored at the generations we know: stating our
	 * views costs it no list unless one of us is behind. A move stated
	 * them already. */
	if (verdict == RD_WIN_NEW_SESSION && g->fo.cur == was) {
		rd_info("the manager restarted; stating every VPN's view");
		for (unsigned int k = 0; k < g->nv; k++)
			if (!g->v[k].removed && !(m->has_vpn && m->vpn == g->v[k].conf->id))
				state_view(g, &g->v[k]);
	}
	if (m->type == RD_MANAGERS) {
		handle_managers(g, (unsigned int)i, m);
		goto out;
	}
	if (m->type == RD_ERROR) {
		if (gw_rotate_error(&g->rot, m))
			goto out;
		for (unsigned int k = 0; k < g->nv; k++)
			if (m->has_ref && g->v[k].join_seq == m->ref_seq) {
				rd_err("vpn %u: the manager refused to join us: %s (%s)",
				       g->v[k].conf->id, m->text[0] ? m->text : "-", strerror((int)m->err));
				g->v[k].awaiting = false;
			}
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
	gw_rotate_done(&g->rot, pm, acked);
	if (acked || !pm->vpn)
		return;
	v = vpn_find(g, pm->vpn);
	if (!v || v->leaving)
		return;
	/* The manager is unreachable (with several, the stall hook moved on
	 * long before this): start over with a JOIN_REQ later. */
	if (pm->type == RD_JOIN_REQ || pm->type == RD_SYNC_REQ) {
		rd_warn("vpn %u: no answer from the manager; re-joining in %d s", v->conf->id,
			REJOIN_DELAY_MS / 1000);
		v->rejoin_at = rd_now_ms() + REJOIN_DELAY_MS;
	}
}

/* A burst from the manager (a formation sends a gateway a NOTIFY per
 * joiner) is ACKed as it is read, before any of it is applied: applying
 * one takes netlink calls of milliseconds each, and ACKs waiting behind
 * them make the manager retransmit what had arrived (performance.rst,
 * "ACKs behind netlink calls"). The whole burst then reaches WireGuard
 * in one call per VPN (gw_wg_reconcile). */
#define RECV_BATCH 64

static void recv_all(struct gw *g)
{
	static struct rd_msg batch[RECV_BATCH];
	static int verdict[RECV_BATCH];
	/* By address, not index: a MANAGERS in the burst changes the set. */
	static struct roster_addr sender[RECV_BATCH];
	unsigned int k = 0;

	for (int i = 0; i < RECV_BATCH; i++) {
		_Alignas(8) uint8_t buf[65536];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (accept_packet(g, buf, (size_t)n, (struct sockaddr *)&from, &batch[k], &verdict[k],
				  &sender[k]))
			k++;
	}
	for (unsigned int i = 0; i < k; i++)
		handle_msg(g, &batch[i], verdict[i], &sender[i]);
}

/* ---- the loop ------------------------------------------------------------------ */

static void next_deadline(int *timeout, int64_t at, int64_t now)
{
	if (!at)
		return;
	if (at <= now)
		*timeout = 0;
	else if (*timeout < 0 || at - now < *timeout)
		*timeout = (int)(at - now);
}

/* Each VPN's timers: gaps, periodic sync, re-joins. */
static void vpn_timers(struct gw *g, bool leaving, int64_t now, int *timeout)
{
	for (unsigned int i = 0; i < g->nv; i++) {
		struct gvpn *v = &g->v[i];

		if (gw_view_tick(&v->view, now) == GW_ACT_SYNC) {
			rd_info("vpn %u: generation gap (%u change(s) held); resyncing", v->conf->id,
				v->view.n_hold);
			request_list(g, v);
		}
		next_deadline(timeout, gw_view_deadline(&v->view), now);
		if (leaving)
			continue;
		if (g->c->sync_interval && !v->removed && !v->rejoin_at) {
			periodic_sync(g, v, now);
			next_deadline(timeout, v->sync_at, now);
		}
		if (v->rejoin_at && v->rejoin_at <= now)
			send_join_req(g, v);
		next_deadline(timeout, v->rejoin_at, now);
	}
}

static int setup(struct gw *g, struct rd_config *c)
{
	char pub[45], errbuf[256], of[24] = "";
	int ret;

	g->c = c;
	g->fd = -1;
	g->ctl.ep = g->ctl.lfd = -1;
	ret = rd_identity_load(c->state_dir, &g->id);
	if (ret) {
		rd_err("%s/identity: %s; enrol first with 'rosterd redeem'", c->state_dir,
		       ret == -ENOENT ? "not enrolled" : strerror(-ret));
		return ret;
	}
	g->store.known = g->id.has_store_id;
	memcpy(g->store.id, g->id.store_id, sizeof(g->store.id));
	rd_wg_pubkey(g->pub, g->id.private_key);
	rd_key_b64(g->pub, pub);
	/* The table is the gateway's one view of the membership: without
	 * roster.ko there is nothing to program WireGuard from. */
	ret = roster_open(&g->rh);
	if (ret) {
		rd_err("roster.ko is not available here: %s", strerror(-ret));
		g->rh = NULL;
		return ret;
	}
	ret = gw_ctl_setup(c->ifname, g->id.private_key, &g->id);
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
	g->link.stall = on_stall;
	g->link.stall_retx = GW_FAILOVER_RETRANSMITS;
	if (peers_for(g, &g->id, g->peers))
		return -ENOMEM;
	gw_failover_init(&g->fo, g->id.n_managers, gw_ctl_first(&g->id));
	g->mp = g->peers[g->fo.cur];
	g->v = calloc(c->n_vpns ? c->n_vpns : 1, sizeof(*g->v));
	if (!g->v)
		return -ENOMEM;
	g->nv = c->n_vpns;
	for (unsigned int i = 0; i < g->nv; i++) {
		struct gvpn *v = &g->v[i];

		v->conf = &c->vpns[i];
		gw_view_init(&v->view, v->conf->id);
		ret = rd_wg_setup(v->conf->ifname, g->id.private_key, v->conf->listen_port);
		if (ret) {
			rd_err("%s: cannot set up WireGuard interface: %s", v->conf->ifname,
			       strerror(-ret));
			return ret;
		}
	}
	ret = gw_wg_init(&g->wg, g->rh, c, &g->id.id, g->pub);
	if (ret) {
		rd_err("cannot follow the table's notifications: %s", strerror(-ret));
		return ret;
	}
	gw_wg_managers(&g->wg, g->id.managers, g->id.n_managers);
	gw_rotate_init(&g->rot, c, &g->id, g->pub, &g->wg, &g->link, g->mp);
	gw_rotate_peer(&g->rot, g->mp, gw_failover_leads(&g->fo), false);
	g->status = (struct gw_status_src){ .c = c, .id = &g->id, .rh = g->rh, .fo = &g->fo };
	/* Without it `rosterd status` reads the state: a warning only. */
	if (ctl_sock_open(&g->ctl, c->state_dir, gw_status_request, &g->status, errbuf,
			  sizeof(errbuf)))
		rd_warn("no control socket (rosterd status reads the state): %s", errbuf);
	/* One manager: the line as before there were several. */
	if (g->id.n_managers > 1)
		snprintf(of, sizeof(of), " (of %u)", g->id.n_managers);
	rd_info("gateway %s up: %s, manager %s:%u%s, key %s, %u VPN(s)", rd_ntop(&g->id.id),
		c->ifname, mgr_name(g, g->fo.cur), g->id.control_port, of, pub, g->nv);
	return 0;
}

static void teardown(struct gw *g)
{
	ctl_sock_close(&g->ctl);
	if (g->fd >= 0)
		close(g->fd);
	rd_link_free(&g->link);
	gw_wg_free(&g->wg);
	for (unsigned int i = 0; i < g->nv; i++)
		gw_view_free(&g->v[i].view);
	free(g->v);
	if (g->rh)
		roster_close(g->rh);
	memset(&g->id, 0, sizeof(g->id));
}

int rd_gateway_run(struct rd_config *c)
{
	static struct gw gw;
	struct gw *g = &gw;
	int sfd = -1, ret;
	bool stop = false, leaving = false;
	int64_t leave_deadline = 0;

	memset(g, 0, sizeof(*g));
	ret = setup(g, c);
	if (ret)
		goto out;
	sfd = rd_signalfd();
	if (sfd < 0) {
		ret = sfd;
		goto out;
	}
	/* WireGuard from the table as it is (a restart keeps every session
	 * of an unchanged peer), before the manager says anything new. */
	gw_wg_reconcile(&g->wg);
	for (unsigned int i = 0; i < g->nv; i++)
		send_join_req(g, &g->v[i]);

	while (!stop) {
		struct pollfd pfd[4] = {
			{ .fd = g->fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = gw_wg_fd(&g->wg), .events = POLLIN },
			{ .fd = ctl_sock_fd(&g->ctl), .events = POLLIN },
		};
		int64_t now = rd_now_ms();
		int timeout = rd_tick(&g->link, now);

		/* A move sends to the new manager: its deadlines count too. */
		if (g->stalled || (g->restate_at && now >= g->restate_at)) {
			if (g->stalled)
				handle_stall(g);
			if (g->restate_at && now >= g->restate_at)
				restate(g);
			timeout = rd_tick(&g->link, now);
		}
		next_deadline(&timeout, g->restate_at, now);

		vpn_timers(g, leaving, now, &timeout);
		if (!leaving) {
			next_deadline(&timeout, now + gw_rotate_tick(&g->rot, now), now);
			rotate_probe(g);
		}
		next_deadline(&timeout, gw_metrics_tick(c, g->rh, now), now);
		if (leaving) {
			/* A LEAVE_REQ still to be stated to another manager
			 * keeps it waiting too. */
			if ((rd_idle(&g->link) && !g->restate_at) || now >= leave_deadline)
				break;
			next_deadline(&timeout, leave_deadline, now);
		}
		/* A periodic check marks VPNs without a notification. */
		gw_wg_reconcile(&g->wg);
		if (poll(pfd, 4, timeout) < 0) {
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
					leave_deadline = rd_now_ms() + LEAVE_WAIT_MS;
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
		if (pfd[3].revents & POLLIN)
			ctl_sock_serve(&g->ctl);
		/* The table's notifications of what was just applied are
		 * there already: read them all and program WireGuard once. */
		ret = gw_wg_read(&g->wg);
		if (ret)
			rd_warn("table notifications: %s", strerror(-ret));
		gw_wg_reconcile(&g->wg);
	}
	/* What the last messages changed reaches WireGuard before exit (a
	 * leave removes the peers). */
	gw_wg_read(&g->wg);
	gw_wg_reconcile(&g->wg);
	ret = 0;
out:
	gw_metrics_stop(c);
	if (sfd >= 0)
		close(sfd);
	teardown(g);
	return ret;
}
