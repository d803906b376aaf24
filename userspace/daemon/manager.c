// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: enrolment, JOIN_REQ/LEAVE_REQ/SYNC_REQ handling and the
 * fan-out of roster.ko's notifications to the gateways.
 *
 * The membership table lives in the manager's own roster.ko (its netns).
 * Requests are turned into roster_member_join()/leave() calls; everything
 * sent to the other members is driven by the module's notifications, read
 * on a dedicated monitor socket, so a change made with the `roster` CLI on
 * the manager is signalled exactly like one requested by a gateway.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

struct vcache {
	uint32_t id;
	uint64_t gen;
	unsigned int n, cap;
	struct roster_member *m;
};

struct enrol {
	struct enrol *next;
	struct roster_addr id;
	uint8_t key[32];		/* the gateway's own new key */
	uint8_t invite_key[32];
	struct rd_peer *peer;
	uint32_t seq;			/* of our ENROLLED */
};

struct mgr {
	struct rd_config *c;
	uint8_t priv[32], pub[32];
	struct roster_handle *rh;
	struct roster_monitor *mon;
	struct rd_link link;
	int fd;
	struct rd_entry *gws;
	unsigned int ngws;
	struct rd_entry *inv;
	unsigned int ninv;
	struct timespec inv_mtime;
	struct vcache *vc;
	unsigned int nvc;
	struct enrol *enrols;
};

/* ---- state ---------------------------------------------------------- */

static int addr_cmp(const struct roster_addr *a, const struct roster_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, rd_addr_len(a));
}

static int entry_cmp(const void *a, const void *b)
{
	return addr_cmp(&((const struct rd_entry *)a)->id, &((const struct rd_entry *)b)->id);
}

/* Every packet and every fan-out target is looked up here: keep the
 * gateways sorted (gws_sort after each change) and search in O(log n). */
static void gws_sort(struct mgr *m)
{
	if (m->ngws > 1)
		qsort(m->gws, m->ngws, sizeof(*m->gws), entry_cmp);
}

static struct rd_entry *gw_find(struct mgr *m, const struct roster_addr *id)
{
	struct rd_entry key = { .id = *id };

	if (!m->ngws)
		return NULL;
	return bsearch(&key, m->gws, m->ngws, sizeof(*m->gws), entry_cmp);
}

static struct rd_entry *inv_find(struct mgr *m, const struct roster_addr *id)
{
	for (unsigned int i = 0; i < m->ninv; i++)
		if (rd_addr_eq(&m->inv[i].id, id))
			return &m->inv[i];
	return NULL;
}

static void host_prefix(const struct roster_addr *a, struct roster_prefix *p)
{
	p->addr = *a;
	p->len = (uint8_t)(rd_addr_len(a) * 8);
}

static struct timespec file_mtime(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	struct timespec zero = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? zero : st.st_mtim;
}

/* Drop expired invitations from the state and rctl0. Called locked. */
static int purge_expired(struct mgr *m, struct rd_entry *inv, unsigned int *ninv)
{
	uint64_t now = (uint64_t)time(NULL);
	unsigned int j = 0, dropped = 0;

	for (unsigned int i = 0; i < *ninv; i++) {
		if (inv[i].expiry && inv[i].expiry <= now) {
			struct rd_wg_peer p = { .remove = true };

			memcpy(p.key, inv[i].key, 32);
			rd_wg_apply(m->c->ifname, &p, 1, false);
			rd_info("invitation for %s expired", rd_ntop(&inv[i].id));
			dropped++;
			continue;
		}
		inv[j++] = inv[i];
	}
	*ninv = j;
	return dropped ? rd_state_save(m->c->state_dir, "invites", inv, j) : 0;
}

/* (Re)load invitations; add their peers to rctl0. */
static void reload_invites(struct mgr *m, bool force)
{
	struct timespec mt = file_mtime(m->c->state_dir, "invites");
	struct rd_entry *inv;
	unsigned int n;
	int lock;

	if (!force && mt.tv_sec == m->inv_mtime.tv_sec && mt.tv_nsec == m->inv_mtime.tv_nsec) {
		/* Unchanged file: only expiry matters. */
		uint64_t now = (uint64_t)time(NULL);
		bool any = false;

		for (unsigned int i = 0; i < m->ninv; i++)
			any |= m->inv[i].expiry && m->inv[i].expiry <= now;
		if (!any)
			return;
	}
	lock = rd_lock_dir(m->c->state_dir);
	if (lock < 0)
		return;
	if (rd_state_load(m->c->state_dir, "invites", &inv, &n)) {
		rd_unlock_dir(lock);
		return;
	}
	purge_expired(m, inv, &n);
	m->inv_mtime = file_mtime(m->c->state_dir, "invites");
	rd_unlock_dir(lock);
	free(m->inv);
	m->inv = inv;
	m->ninv = n;
	for (unsigned int i = 0; i < n; i++) {
		struct roster_prefix hp;
		struct rd_wg_peer p = { .n_allowed = 1, .allowed = &hp };

		host_prefix(&inv[i].id, &hp);
		memcpy(p.key, inv[i].key, 32);
		rd_wg_apply(m->c->ifname, &p, 1, false);
	}
}

/* rctl0 peers = enrolled gateways + pending invitations (an invitation
 * wins over an enrolled gateway with the same ID). */
static int reconcile_peers(struct mgr *m)
{
	unsigned int n = 0;
	struct rd_wg_peer *p = calloc(m->ngws + m->ninv + 1, sizeof(*p));
	struct roster_prefix *hp = calloc(m->ngws + m->ninv + 1, sizeof(*hp));
	int ret;

	if (!p || !hp) {
		free(p);
		free(hp);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < m->ninv; i++) {
		host_prefix(&m->inv[i].id, &hp[n]);
		memcpy(p[n].key, m->inv[i].key, 32);
		p[n].allowed = &hp[n];
		p[n].n_allowed = 1;
		n++;
	}
	for (unsigned int i = 0; i < m->ngws; i++) {
		if (inv_find(m, &m->gws[i].id))
			continue;
		host_prefix(&m->gws[i].id, &hp[n]);
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
	else
		rd_info("%s: %u gateway(s), %u pending invitation(s)", m->c->ifname, m->ngws, m->ninv);
	return ret;
}

/* ---- membership cache -------------------------------------------------- */

static struct vcache *vc_get(struct mgr *m, uint32_t id, bool create)
{
	struct vcache *nv;

	for (unsigned int i = 0; i < m->nvc; i++)
		if (m->vc[i].id == id)
			return &m->vc[i];
	if (!create)
		return NULL;
	nv = realloc(m->vc, (m->nvc + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	m->vc = nv;
	memset(&nv[m->nvc], 0, sizeof(*nv));
	nv[m->nvc].id = id;
	return &nv[m->nvc++];
}

static void vc_drop(struct mgr *m, uint32_t id)
{
	for (unsigned int i = 0; i < m->nvc; i++) {
		if (m->vc[i].id != id)
			continue;
		free(m->vc[i].m);
		m->vc[i] = m->vc[--m->nvc];
		return;
	}
}

static int vc_find(const struct vcache *v, const struct roster_addr *dev)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (rd_addr_eq(&v->m[i].id, dev))
			return (int)i;
	return -1;
}

static int vc_put(struct vcache *v, const struct roster_member *mb)
{
	int i = vc_find(v, &mb->id);

	if (i >= 0) {
		v->m[i] = *mb;
		return 0;
	}
	if (v->n == v->cap) {
		unsigned int cap = v->cap ? v->cap * 2 : 8;
		struct roster_member *nm = realloc(v->m, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		v->m = nm;
		v->cap = cap;
	}
	v->m[v->n++] = *mb;
	return 0;
}

static void vc_del(struct vcache *v, const struct roster_addr *dev)
{
	int i = vc_find(v, dev);

	if (i < 0)
		return;
	memmove(&v->m[i], &v->m[i + 1], (v->n - (unsigned int)i - 1) * sizeof(*v->m));
	v->n--;
}

static void vc_free_all(struct mgr *m)
{
	for (unsigned int i = 0; i < m->nvc; i++)
		free(m->vc[i].m);
	free(m->vc);
	m->vc = NULL;
	m->nvc = 0;
}

static int vc_load(struct mgr *m)
{
	struct roster_member_set *sets;
	struct roster_vpn *vpns;
	size_t n, nv;
	int ret;

	ret = roster_vpn_list(m->rh, &vpns, &nv);
	if (ret)
		return ret;
	ret = roster_member_list(m->rh, 0, &sets, &n);
	if (ret) {
		free(vpns);
		return ret;
	}
	vc_free_all(m);
	for (size_t i = 0; i < nv; i++) {
		struct vcache *v = vc_get(m, vpns[i].id, true);

		if (v)
			v->gen = vpns[i].generation;
	}
	for (size_t i = 0; i < n; i++) {
		struct vcache *v = vc_get(m, sets[i].vpn_id, true);

		if (!v)
			continue;
		v->gen = sets[i].generation;
		for (uint32_t k = 0; k < sets[i].count; k++)
			vc_put(v, &sets[i].members[k]);
	}
	free(vpns);
	roster_member_sets_free(sets, n);
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

static struct rd_peer *gw_peer(struct mgr *m, const struct roster_addr *id)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(id, m->c->control_port, &ss);

	return rd_peer_get(&m->link, (struct sockaddr *)&ss, len, true);
}

static void send_error(struct mgr *m, struct rd_peer *p, uint32_t ref, int err, const char *text)
{
	struct rd_msg e = { .type = RD_ERROR, .has_err = true, .err = (uint32_t)err,
			    .has_ref = true, .ref_seq = ref };

	snprintf(e.text, sizeof(e.text), "%s", text);
	rd_send(&m->link, p, &e);
}

/* JOIN or LIST with every member but exclude, split in parts. */
static void send_list(struct mgr *m, struct rd_peer *p, uint8_t type, uint16_t flags, uint32_t vpn,
		      uint64_t gen, const struct roster_member *mb, unsigned int n,
		      const struct roster_addr *exclude)
{
	struct roster_member *sel = calloc(n ? n : 1, sizeof(*sel));
	unsigned int *starts = calloc(n + 2, sizeof(*starts));
	unsigned int k = 0, parts;

	if (!sel || !starts) {
		free(sel);
		free(starts);
		rd_err("out of memory");
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		if (!exclude || !rd_addr_eq(&mb[i].id, exclude))
			sel[k++] = mb[i];
	parts = rd_split_members(sel, k, starts);
	for (unsigned int i = 0; i < parts; i++) {
		struct rd_msg msg = {
			.type = type, .flags = flags, .has_vpn = true, .vpn = vpn,
			.has_gen = true, .gen = gen, .has_parts = true,
			.part = (uint16_t)(i + 1), .nparts = (uint16_t)parts, .total = k,
			.members = sel + starts[i], .n_members = starts[i + 1] - starts[i],
		};
		int ret = rd_send(&m->link, p, &msg);

		if (ret)
			rd_err("%s to %s: %s", rd_type_name(type),
			       rd_sa_ntop((struct sockaddr *)&p->sa), strerror(-ret));
	}
	rd_info("%s vpn %u gen %llu to %s: %u member(s)%s", rd_type_name(type), vpn,
		(unsigned long long)gen, rd_sa_ntop((struct sockaddr *)&p->sa), k,
		flags & RD_F_NOT_MEMBER ? " (not a member)" : "");
	free(sel);
	free(starts);
}

/* ---- notifications ------------------------------------------------------ */

static void fan_out_notify(struct mgr *m, struct vcache *v, const struct roster_member *mb)
{
	for (unsigned int i = 0; i < v->n; i++) {
		struct rd_msg msg = { .type = RD_NOTIFY, .has_vpn = true, .vpn = v->id,
				      .has_gen = true, .gen = v->gen,
				      .members = (struct roster_member *)mb, .n_members = 1 };

		if (rd_addr_eq(&v->m[i].id, &mb->id) || !gw_find(m, &v->m[i].id))
			continue;
		rd_dbg("NOTIFY vpn %u gen %llu member %s to %s", v->id,
		       (unsigned long long)v->gen, rd_ntop(&mb->id), rd_ntop(&v->m[i].id));
		rd_send(&m->link, gw_peer(m, &v->m[i].id), &msg);
	}
}

static void fan_out_remove(struct mgr *m, struct vcache *v, const struct roster_addr *dev)
{
	for (unsigned int i = 0; i < v->n; i++) {
		struct rd_msg msg = { .type = RD_REMOVE, .has_vpn = true, .vpn = v->id,
				      .has_gen = true, .gen = v->gen, .has_dev = true, .dev = *dev };

		if (!gw_find(m, &v->m[i].id))
			continue;
		rd_dbg("REMOVE vpn %u gen %llu member %s to %s", v->id,
		       (unsigned long long)v->gen, rd_ntop(dev), rd_ntop(&v->m[i].id));
		rd_send(&m->link, gw_peer(m, &v->m[i].id), &msg);
	}
}

static void resync(struct mgr *m)
{
	struct vcache *old = m->vc;
	unsigned int nold = m->nvc;

	rd_warn("notification overrun: resynchronising from a dump");
	m->vc = NULL;
	m->nvc = 0;
	if (vc_load(m)) {
		rd_err("dump failed; keeping the old cache");
		vc_free_all(m);
		m->vc = old;
		m->nvc = nold;
		return;
	}
	for (unsigned int i = 0; i < nold; i++) {
		struct vcache *o = &old[i], *n = vc_get(m, o->id, false);

		for (unsigned int k = 0; k < o->n; k++) {
			if (n && vc_find(n, &o->m[k].id) >= 0)
				continue;
			if (gw_find(m, &o->m[k].id))
				send_list(m, gw_peer(m, &o->m[k].id), RD_LIST, RD_F_NOT_MEMBER,
					  o->id, n ? n->gen : o->gen + 1, n ? n->m : NULL,
					  n ? n->n : 0, NULL);
		}
	}
	for (unsigned int i = 0; i < m->nvc; i++) {
		struct vcache *n = &m->vc[i];
		bool same = false;

		for (unsigned int k = 0; k < nold; k++)
			if (old[k].id == n->id)
				same = old[k].gen == n->gen;
		if (same)
			continue;
		for (unsigned int k = 0; k < n->n; k++)
			if (gw_find(m, &n->m[k].id))
				send_list(m, gw_peer(m, &n->m[k].id), RD_LIST, 0, n->id, n->gen,
					  n->m, n->n, &n->m[k].id);
	}
	for (unsigned int i = 0; i < nold; i++)
		free(old[i].m);
	free(old);
}

static int on_event(const struct roster_event *ev, void *arg)
{
	struct mgr *m = arg;
	struct vcache *v;
	char dev[ROSTER_ADDR_STRLEN] = "-";

	if (ev->has_member)
		roster_addr_format(&ev->member.id, dev, sizeof(dev));
	rd_dbg("event %s vpn %u gen %llu %s", roster_event_name(ev->type), ev->vpn_id,
	       (unsigned long long)ev->generation, dev);
	switch (ev->type) {
	case ROSTER_EVENT_VPN_NEW:
		v = vc_get(m, ev->vpn_id, true);
		if (v)
			v->gen = ev->generation;
		break;
	case ROSTER_EVENT_MEMBER_JOINED:
	case ROSTER_EVENT_MEMBER_UPDATED:
		v = vc_get(m, ev->vpn_id, true);
		if (!v || !ev->has_member)
			break;
		v->gen = ev->generation;
		vc_put(v, &ev->member);
		rd_info("vpn %u gen %llu: %s %s", ev->vpn_id, (unsigned long long)ev->generation,
			dev, ev->type == ROSTER_EVENT_MEMBER_JOINED ? "joined" : "updated");
		fan_out_notify(m, v, &ev->member);
		break;
	case ROSTER_EVENT_MEMBER_LEFT:
		v = vc_get(m, ev->vpn_id, true);
		if (!v || !ev->has_member)
			break;
		v->gen = ev->generation;
		vc_del(v, &ev->member.id);
		rd_info("vpn %u gen %llu: %s left (%s)", ev->vpn_id,
			(unsigned long long)ev->generation, dev,
			ev->has_reason ? roster_reason_name(ev->reason) : "requested");
		fan_out_remove(m, v, &ev->member.id);
		if (gw_find(m, &ev->member.id))
			send_list(m, gw_peer(m, &ev->member.id), RD_LIST, RD_F_NOT_MEMBER,
				  v->id, v->gen, v->m, v->n, NULL);
		break;
	case ROSTER_EVENT_VPN_DEL:
		v = vc_get(m, ev->vpn_id, false);
		rd_info("vpn %u deleted", ev->vpn_id);
		if (v) {
			for (unsigned int i = 0; i < v->n; i++)
				if (gw_find(m, &v->m[i].id))
					send_list(m, gw_peer(m, &v->m[i].id), RD_LIST, RD_F_NOT_MEMBER,
						  v->id, ev->generation, NULL, 0, NULL);
			vc_drop(m, ev->vpn_id);
		}
		break;
	case ROSTER_EVENT_VPN_CHANGED:
		/* vpn-set: the generation moved with no member changed (a
		 * catch-up that had nothing left to change), or only the
		 * follower mark changed (no new generation). The members learn
		 * the new generation from a list, or they would take the next
		 * change for a gap. */
		v = vc_get(m, ev->vpn_id, true);
		if (!v || v->gen == ev->generation)
			break;
		rd_info("vpn %u: generation moved to %llu", ev->vpn_id,
			(unsigned long long)ev->generation);
		v->gen = ev->generation;
		for (unsigned int i = 0; i < v->n; i++)
			if (gw_find(m, &v->m[i].id))
				send_list(m, gw_peer(m, &v->m[i].id), RD_LIST, 0, v->id, v->gen,
					  v->m, v->n, &v->m[i].id);
		break;
	case ROSTER_EVENT_OVERRUN:
		resync(m);
		break;
	}
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static void handle_join_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			    struct rd_entry *gw, const struct rd_msg *msg)
{
	struct roster_member mb = { 0 };
	struct roster_member_set *set = NULL;
	char text[128];
	int ret;

	if (!rd_entry_allows(gw, msg->vpn)) {
		rd_warn("JOIN_REQ from %s for vpn %u refused: not invited to that VPN",
			rd_ntop(src), msg->vpn);
		send_error(m, p, msg->seq, EPERM, "not allowed in this VPN");
		return;
	}
	mb.id = *src;
	memcpy(mb.key, gw->key, 32);
	mb.has_key = true;
	mb.has_endpoint = msg->has_endpoint;
	mb.endpoint = msg->endpoint;
	mb.port = msg->port;
	mb.n_prefixes = msg->n_prefixes;
	memcpy(mb.prefixes, msg->prefixes, sizeof(mb.prefixes));
	/* A prefix is routed to exactly one member: a newcomer announcing (part
	 * of) another member's site would take its traffic, since WireGuard
	 * moves an allowed-ip to the last peer that claims it. roster.ko
	 * refuses such a join (EADDRINUSE, naming the holder) under its writer
	 * lock, so of two claims the first wins even when both requests are
	 * handled before either's notification is read. */
	ret = roster_member_join(m->rh, msg->vpn, &mb, 0, &set);
	if (ret) {
		struct roster_addr holder;

		rd_join_error_text(-ret, roster_errmsg(m->rh),
				   roster_err_holder(m->rh, &holder) ? NULL : &holder, text,
				   sizeof(text));
		rd_warn("JOIN_REQ from %s for vpn %u %s: %s", rd_ntop(src), msg->vpn,
			ret == -EADDRINUSE ? "refused" : "failed", text);
		send_error(m, p, msg->seq, -ret, text);
		return;
	}
	rd_info("%s joined vpn %u (gen %llu, %u other member(s))", rd_ntop(src), msg->vpn,
		(unsigned long long)set->generation, set->count);
	send_list(m, p, RD_JOIN, 0, msg->vpn, set->generation, set->members, set->count, src);
	roster_member_set_free(set);
}

static void handle_leave_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			     const struct rd_msg *msg)
{
	int ret = roster_member_leave(m->rh, msg->vpn, src, ROSTER_REASON_REQUESTED, 0, NULL);

	if (ret) {
		char text[128];

		snprintf(text, sizeof(text), "%s", roster_strerror_ext(m->rh, ret));
		rd_warn("LEAVE_REQ from %s for vpn %u failed: %s", rd_ntop(src), msg->vpn, text);
		send_error(m, p, msg->seq, -ret, text);
		return;
	}
	rd_info("%s asked to leave vpn %u", rd_ntop(src), msg->vpn);
}

static void handle_sync_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			    struct rd_entry *gw, const struct rd_msg *msg)
{
	struct roster_member_set *sets = NULL;
	struct roster_vpn vpn;
	size_t n = 0;
	bool member = false;
	int ret;

	if (!rd_entry_allows(gw, msg->vpn)) {
		send_error(m, p, msg->seq, EPERM, "not allowed in this VPN");
		return;
	}
	/* Gateways ask periodically; a view at the current generation with
	 * the right member count needs nothing but the ACK already sent. */
	if (msg->has_gen && msg->has_total) {
		struct vcache *v = vc_get(m, msg->vpn, false);

		if (v && v->gen == msg->gen && v->n == msg->total && vc_find(v, src) >= 0) {
			rd_dbg("SYNC_REQ vpn %u from %s: up to date (gen %llu)", msg->vpn,
			       rd_ntop(src), (unsigned long long)msg->gen);
			return;
		}
		/* Behind, with changes for it still on their way (under churn a
		 * gateway nearly always is): they bring it up to date, and a
		 * change lost among them shows as a gap, which makes it ask
		 * again without a generation. A full list here cost 487 LIST
		 * parts in 75 s of churn among 128 gateways. */
		if (v && msg->gen < v->gen && vc_find(v, src) >= 0 &&
		    rd_pending_of(p, msg->vpn, 1u << RD_NOTIFY | 1u << RD_REMOVE |
				  1u << RD_JOIN | 1u << RD_LIST)) {
			rd_dbg("SYNC_REQ vpn %u from %s: gen %llu, changes on their way", msg->vpn,
			       rd_ntop(src), (unsigned long long)msg->gen);
			return;
		}
	}
	ret = roster_vpn_get(m->rh, msg->vpn, &vpn);
	if (ret == -ENOENT) {
		send_list(m, p, RD_LIST, RD_F_NOT_MEMBER, msg->vpn, 0, NULL, 0, NULL);
		return;
	}
	if (!ret && vpn.member_count)
		ret = roster_member_list(m->rh, msg->vpn, &sets, &n);
	if (ret) {
		send_error(m, p, msg->seq, -ret, roster_strerror_ext(m->rh, ret));
		return;
	}
	if (n) {
		for (uint32_t i = 0; i < sets[0].count; i++)
			member |= rd_addr_eq(&sets[0].members[i].id, src);
		send_list(m, p, RD_LIST, member ? 0 : RD_F_NOT_MEMBER, msg->vpn, sets[0].generation,
			  sets[0].members, sets[0].count, src);
	} else {
		send_list(m, p, RD_LIST, RD_F_NOT_MEMBER, msg->vpn, vpn.generation, NULL, 0, NULL);
	}
	roster_member_sets_free(sets, n);
}

static void handle_enroll(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			  const struct rd_msg *msg)
{
	struct rd_msg ok = { .type = RD_ENROLLED };
	struct rd_entry *inv;
	struct enrol *e;

	reload_invites(m, false);
	inv = inv_find(m, src);
	if (!inv) {
		send_error(m, p, msg->seq, EACCES, "no pending invitation for this address");
		return;
	}
	for (e = m->enrols; e; e = e->next)
		if (rd_addr_eq(&e->id, src))
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->next = m->enrols;
		m->enrols = e;
	}
	e->id = *src;
	memcpy(e->key, msg->key, 32);
	memcpy(e->invite_key, inv->key, 32);
	e->peer = p;
	e->seq = p->next_seq;
	rd_info("ENROLL from %s: answering", rd_ntop(src));
	rd_send(&m->link, p, &ok);
}

/* ENROLLED was acknowledged: make the gateway's key the
 * only key for its ID. The invitation key dies here. */
static void enrol_finish(struct mgr *m, struct enrol *e)
{
	struct rd_entry *inv, *gws, ne = { 0 };
	unsigned int ninv, ngws, j = 0;
	struct roster_prefix hp;
	struct rd_wg_peer peers[3];
	unsigned int np = 0;
	char key[45];
	int lock, ret;

	lock = rd_lock_dir(m->c->state_dir);
	if (lock < 0) {
		rd_err("%s: cannot lock: %s", m->c->state_dir, strerror(-lock));
		return;
	}
	if (rd_state_load(m->c->state_dir, "invites", &inv, &ninv) ||
	    rd_state_load(m->c->state_dir, "gateways", &gws, &ngws)) {
		rd_unlock_dir(lock);
		return;
	}
	ne.id = e->id;
	memcpy(ne.key, e->key, 32);
	for (unsigned int i = 0; i < ninv; i++) {
		if (rd_addr_eq(&inv[i].id, &e->id) && !memcmp(inv[i].key, e->invite_key, 32)) {
			ne.n_vpns = inv[i].n_vpns;
			memcpy(ne.vpns, inv[i].vpns, sizeof(ne.vpns));
			continue;
		}
		inv[j++] = inv[i];
	}
	ninv = j;
	memset(peers, 0, sizeof(peers));
	if (!ne.n_vpns) {
		rd_warn("enrolment of %s: invitation vanished", rd_ntop(&e->id));
		goto out;
	}
	for (j = 0; j < ngws; j++) {
		if (rd_addr_eq(&gws[j].id, &e->id)) {
			if (memcmp(gws[j].key, e->key, 32)) {
				memcpy(peers[np].key, gws[j].key, 32);
				peers[np++].remove = true;
			}
			break;
		}
	}
	if (j == ngws) {
		struct rd_entry *ng = realloc(gws, (ngws + 1) * sizeof(*ng));

		if (!ng)
			goto out;
		gws = ng;
		ngws++;
	}
	gws[j] = ne;
	ret = rd_state_save(m->c->state_dir, "gateways", gws, ngws);
	if (!ret)
		ret = rd_state_save(m->c->state_dir, "invites", inv, ninv);
	if (ret) {
		rd_err("%s: cannot save state: %s", m->c->state_dir, strerror(-ret));
		goto out;
	}
	memcpy(peers[np].key, e->invite_key, 32);
	peers[np++].remove = true;
	host_prefix(&e->id, &hp);
	memcpy(peers[np].key, e->key, 32);
	peers[np].allowed = &hp;
	peers[np++].n_allowed = 1;
	ret = rd_wg_apply(m->c->ifname, peers, np, false);
	if (ret)
		rd_err("%s: cannot program peer for %s: %s", m->c->ifname, rd_ntop(&e->id),
		       strerror(-ret));
	rd_key_b64(e->key, key);
	rd_info("enrolled gateway %s (key %s)", rd_ntop(&e->id), key);
	free(m->gws);
	m->gws = gws;
	m->ngws = ngws;
	gws_sort(m);
	gws = NULL;
	free(m->inv);
	m->inv = inv;
	m->ninv = ninv;
	inv = NULL;
	m->inv_mtime = file_mtime(m->c->state_dir, "invites");
out:
	rd_unlock_dir(lock);
	free(inv);
	free(gws);
}

static void on_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	struct mgr *m = l->priv;

	(void)acked;
	if (pm->type != RD_ENROLLED)
		return;
	for (struct enrol **pe = &m->enrols; *pe; pe = &(*pe)->next) {
		struct enrol *e = *pe;

		if (e->peer != p || e->seq != pm->seq)
			continue;
		*pe = e->next;
		if (acked)
			enrol_finish(m, e);
		else
			rd_warn("ENROLLED to %s not acknowledged; the invitation stays pending",
				rd_ntop(&e->id));
		free(e);
		return;
	}
}

static void handle_packet(struct mgr *m, const uint8_t *buf, size_t len,
			  const struct sockaddr *from, socklen_t fromlen)
{
	struct roster_addr src;
	struct rd_entry *gw;
	struct rd_peer *p;
	struct rd_msg msg;
	const char *why;
	int verdict;

	if (rd_from_sockaddr(from, &src, NULL))
		return;
	gw = gw_find(m, &src);
	if (!gw) {
		reload_invites(m, false);
		if (!inv_find(m, &src)) {
			rd_warn("ignoring packet from %s: not an enrolled gateway", rd_sa_ntop(from));
			return;
		}
	}
	if (rd_msg_decode(buf, len, &msg, &why)) {
		rd_warn("ignoring malformed message from %s: %s", rd_sa_ntop(from), why);
		return;
	}
	if (!gw && msg.type != RD_ENROLL && msg.type != RD_ACK) {
		rd_warn("ignoring %s from %s: not enrolled yet", rd_type_name(msg.type),
			rd_sa_ntop(from));
		goto out;
	}
	p = rd_peer_get(&m->link, from, fromlen, true);
	if (!p)
		goto out;
	if (msg.type == RD_ACK) {
		rd_acked(&m->link, p, msg.ack);
		goto out;
	}
	verdict = rd_window_check(&p->win, msg.session, msg.seq);
	if (verdict == RD_WIN_STALE) {
		rd_warn("ignoring %s from %s: from an earlier session (%u, now %u)",
			rd_type_name(msg.type), rd_sa_ntop(from), msg.session, p->win.session);
		goto out;
	}
	rd_send_ack(&m->link, p, msg.seq);
	if (verdict == RD_WIN_DUP) {
		rd_dbg("duplicate %s seq %u from %s", rd_type_name(msg.type), msg.seq,
		       rd_sa_ntop(from));
		goto out;
	}
	rd_dbg("<- %s %s seq %u vpn %u", rd_sa_ntop(from), rd_type_name(msg.type), msg.seq, msg.vpn);
	switch (msg.type) {
	case RD_JOIN_REQ:
		handle_join_req(m, p, &src, gw, &msg);
		break;
	case RD_LEAVE_REQ:
		handle_leave_req(m, p, &src, &msg);
		break;
	case RD_SYNC_REQ:
		handle_sync_req(m, p, &src, gw, &msg);
		break;
	case RD_ENROLL:
		handle_enroll(m, p, &src, &msg);
		break;
	default:
		rd_warn("ignoring unexpected %s from %s", rd_type_name(msg.type), rd_sa_ntop(from));
		break;
	}
out:
	rd_msg_release(&msg);
}

/* ---- setup and main loop ------------------------------------------------ */

/* Up to a fan-out's worth of datagrams, then back to the other events. */
static void recv_all(struct mgr *m)
{
	for (int i = 0; i < 4096; i++) {
		_Alignas(8) uint8_t buf[RD_MSG_MAX + 64];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(m->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if ((size_t)n > sizeof(buf)) {
			rd_warn("ignoring oversized datagram (%zd bytes) from %s", n,
				rd_sa_ntop((struct sockaddr *)&from));
			continue;
		}
		handle_packet(m, buf, (size_t)n, (struct sockaddr *)&from, fl);
	}
}

static int setup_control(struct mgr *m)
{
	struct rd_config *c = m->c;
	int ret;

	ret = rd_wg_setup(c->ifname, m->priv, c->listen_port);
	if (ret) {
		rd_err("%s: cannot set up WireGuard interface: %s", c->ifname, strerror(-ret));
		return ret;
	}
	ret = rd_addr_add(c->ifname, &c->control_addr, c->control_prefix.len);
	if (ret) {
		rd_err("%s: cannot add address %s/%u: %s", c->ifname, rd_ntop(&c->control_addr),
		       c->control_prefix.len, strerror(-ret));
		return ret;
	}
	return 0;
}

int rd_manager_run(struct rd_config *c)
{
	static struct mgr mgr;
	struct mgr *m = &mgr;
	int sfd = -1, ret, lock;
	char pub[45];
	bool stop = false;

	memset(m, 0, sizeof(*m));
	m->c = c;
	m->fd = -1;
	ret = rd_mkdir_p(c->state_dir, 0700);
	if (ret) {
		rd_err("%s: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	lock = rd_lock_dir(c->state_dir);
	if (lock < 0) {
		rd_err("%s: cannot lock: %s", c->state_dir, strerror(-lock));
		return lock;
	}
	ret = rd_state_key(c->state_dir, m->priv, true);
	if (!ret)
		ret = rd_state_load(c->state_dir, "gateways", &m->gws, &m->ngws);
	if (!ret)
		gws_sort(m);
	if (!ret)
		ret = rd_state_load(c->state_dir, "invites", &m->inv, &m->ninv);
	rd_unlock_dir(lock);
	if (ret) {
		rd_err("%s: cannot read state: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	rd_wg_pubkey(m->pub, m->priv);
	rd_key_b64(m->pub, pub);

	ret = setup_control(m);
	if (ret)
		goto out;
	reload_invites(m, true);
	ret = reconcile_peers(m);
	if (ret)
		goto out;

	ret = roster_open(&m->rh);
	if (ret) {
		rd_err("cannot open the roster family: %s%s", strerror(-ret),
		       ret == -ENOENT ? " (is roster.ko loaded?)" : "");
		goto out;
	}
	/* Subscribe before the dump so no change falls in between. */
	ret = roster_monitor_open(m->rh, &m->mon);
	if (ret) {
		rd_err("cannot subscribe to roster notifications: %s", strerror(-ret));
		goto out;
	}
	ret = vc_load(m);
	if (ret) {
		rd_err("cannot dump the roster table: %s", roster_strerror_ext(m->rh, ret));
		goto out;
	}

	m->fd = rd_udp_socket(&c->control_addr, c->control_port, c->ifname);
	if (m->fd < 0) {
		ret = m->fd;
		rd_err("cannot bind %s:%u: %s", rd_ntop(&c->control_addr), c->control_port,
		       strerror(-ret));
		goto out;
	}
	rd_link_init(&m->link, m->fd, (int)c->retry_ms, 8, on_done);
	m->link.session = rd_session_next(c->state_dir);
	m->link.priv = m;
	sfd = rd_signalfd();
	if (sfd < 0) {
		ret = sfd;
		goto out;
	}
	rd_info("manager up: %s %s/%u listen-port %u, control %s:%u, key %s, %u VPN(s) in the table",
		c->ifname, rd_ntop(&c->control_addr), c->control_prefix.len, c->listen_port,
		rd_ntop(&c->control_addr), c->control_port, pub, m->nvc);

	int64_t next_inv = rd_now_ms() + 1000;

	while (!stop) {
		struct pollfd pfd[3] = {
			{ .fd = m->fd, .events = POLLIN },
			{ .fd = roster_monitor_fd(m->mon), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int64_t now;
		int timeout, inv_to;

		/* ACKs that queued up while a fan-out was being sent must be
		 * read before anything is declared due for retransmission. */
		recv_all(m);
		now = rd_now_ms();
		timeout = rd_tick(&m->link, now);
		inv_to = next_inv > now ? (int)(next_inv - now) : 0;

		if (timeout < 0 || timeout > inv_to)
			timeout = inv_to;
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			rd_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					rd_info("SIGHUP: reloading invitations");
					reload_invites(m, true);
				} else {
					rd_info("signal %u: shutting down (tunnels stay up)", si.ssi_signo);
					stop = true;
				}
			}
		}
		if (pfd[1].revents & POLLIN) {
			ret = roster_monitor_read(m->mon, on_event, m);
			if (ret < 0 && ret != -EAGAIN)
				rd_warn("reading notifications: %s", strerror(-ret));
		}
		if (pfd[0].revents & POLLIN)
			recv_all(m);
		if (rd_now_ms() >= next_inv) {
			reload_invites(m, false);
			next_inv = rd_now_ms() + 1000;
		}
	}
	ret = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (m->fd >= 0)
		close(m->fd);
	rd_link_free(&m->link);
	while (m->enrols) {
		struct enrol *e = m->enrols;

		m->enrols = e->next;
		free(e);
	}
	if (m->mon)
		roster_monitor_close(m->mon);
	if (m->rh)
		roster_close(m->rh);
	vc_free_all(m);
	free(m->gws);
	free(m->inv);
	return ret;
}

/* ---- rosterd invite ----------------------------------------------------- */

int rd_cmd_invite(struct rd_config *c, const struct roster_addr *id, const uint32_t *vpns,
		  unsigned int nvpns, uint64_t ttl)
{
	uint8_t mpriv[32], ipriv[32];
	struct rd_entry *inv = NULL, ne = { 0 };
	struct rd_wg_peer peers[RD_ENTRY_MAX_VPNS + 1];
	unsigned int ninv, j = 0, np = 0;
	struct roster_prefix hp;
	struct rd_token t = { 0 };
	char token[RD_TOKEN_MAX];
	int lock, ret;

	if (!c->has_endpoint) {
		rd_err("[manager] endpoint is required to issue invitations");
		return -EINVAL;
	}
	if (!rd_prefix_contains(&c->control_prefix, id) || rd_addr_eq(id, &c->control_addr)) {
		rd_err("--id %s is not a free address inside control-prefix %s/%u", rd_ntop(id),
		       rd_ntop(&c->control_prefix.addr), c->control_prefix.len);
		return -EINVAL;
	}
	ret = rd_mkdir_p(c->state_dir, 0700);
	if (ret) {
		rd_err("%s: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	lock = rd_lock_dir(c->state_dir);
	if (lock < 0) {
		rd_err("%s: cannot lock: %s", c->state_dir, strerror(-lock));
		return lock;
	}
	ret = rd_state_key(c->state_dir, mpriv, true);
	if (!ret)
		ret = rd_state_load(c->state_dir, "invites", &inv, &ninv);
	if (ret) {
		rd_unlock_dir(lock);
		rd_err("%s: cannot read state: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	memset(peers, 0, sizeof(peers));
	/* A new invitation for an ID replaces older ones. */
	for (unsigned int i = 0; i < ninv; i++) {
		if (rd_addr_eq(&inv[i].id, id)) {
			if (np < RD_ENTRY_MAX_VPNS) {
				memcpy(peers[np].key, inv[i].key, 32);
				peers[np++].remove = true;
			}
			continue;
		}
		inv[j++] = inv[i];
	}
	ninv = j;
	rd_wg_genkey(ipriv);
	ne.id = *id;
	rd_wg_pubkey(ne.key, ipriv);
	ne.n_vpns = nvpns;
	memcpy(ne.vpns, vpns, nvpns * sizeof(*vpns));
	ne.expiry = (uint64_t)time(NULL) + ttl;
	{
		struct rd_entry *ni = realloc(inv, (ninv + 1) * sizeof(*ni));

		if (!ni) {
			free(inv);
			rd_unlock_dir(lock);
			return -ENOMEM;
		}
		inv = ni;
	}
	inv[ninv++] = ne;
	ret = rd_state_save(c->state_dir, "invites", inv, ninv);
	free(inv);
	rd_unlock_dir(lock);
	if (ret) {
		rd_err("%s: cannot save invitation: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	/* A running manager's rctl0 learns the invitation key now; otherwise
	 * the manager adds it when it starts. */
	if (rd_if_index(c->ifname) > 0) {
		host_prefix(id, &hp);
		memcpy(peers[np].key, ne.key, 32);
		peers[np].allowed = &hp;
		peers[np++].n_allowed = 1;
		ret = rd_wg_apply(c->ifname, peers, np, false);
		if (ret)
			rd_warn("%s: cannot add the invitation peer (%s); the manager adds it at start",
				c->ifname, strerror(-ret));
	}
	rd_wg_pubkey(t.manager_key, mpriv);
	t.manager_endpoint = c->endpoint;
	t.manager_port = c->listen_port;
	t.control_addr = c->control_addr;
	t.control_port = c->control_port;
	t.id = *id;
	t.prefixlen = c->control_prefix.len;
	memcpy(t.invite_key, ipriv, 32);
	t.expiry = ne.expiry;
	ret = rd_token_encode(&t, token, sizeof(token));
	memset(ipriv, 0, sizeof(ipriv));
	memset(&t, 0, sizeof(t));
	if (ret) {
		rd_err("cannot encode token: %s", strerror(-ret));
		return ret;
	}
	printf("%s\n", token);
	fflush(stdout);
	rd_info("invitation for %s (%u VPN(s)) valid until %llu", rd_ntop(id), nvpns,
		(unsigned long long)ne.expiry);
	return 0;
}
