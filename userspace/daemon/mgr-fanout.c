// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: roster.ko's notifications, committed to the store and
 * only then fanned out. No gateway is ever told about a change the store
 * does not hold.
 *
 * A notification at generation G for a VPN the store holds at S:
 *   G == S + 1  the next change: commit it, then NOTIFY/REMOVE the members;
 *   G <= S      an echo of a restore (stamped RESYNC at the store's
 *               generation) or of a change already committed: nothing;
 *   G >  S + 1  changes were missed: reconcile the VPN from a dump.
 *
 * JOIN and LIST wait in the list queue until the store holds a generation
 * at least as new as the one they must show, and are then built from a
 * member dump taken at exactly the stored generation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "mgr.h"
#include "mgr-expire.h"
#include "util.h"

struct mgr_list {
	struct mgr_list *next;
	struct roster_addr to;
	uint8_t type;			/* RD_JOIN or RD_LIST */
	uint32_t vpn;
	uint64_t min_gen;
};

/* A list that cannot be sent yet is retried this often: the notification
 * that commits its generation is normally read long before. */
#define LIST_RETRY_MS 200
/* How long the kernel may stay ahead of the store before a reconcile. */
#define MISMATCH_MS 3000

void mgr_list_queue(struct mgr *m, const struct roster_addr *id, uint8_t type, uint32_t vpn,
		    uint64_t min_gen)
{
	struct mgr_list *l;

	if (!mgr_gw_find(m, id))
		return;
	for (l = m->lists; l; l = l->next) {
		if (l->vpn == vpn && rd_addr_eq(&l->to, id)) {
			if (min_gen > l->min_gen)
				l->min_gen = min_gen;
			if (type == RD_JOIN)
				l->type = RD_JOIN;
			return;
		}
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		rd_err("out of memory: %s to %s lost", rd_type_name(type), rd_ntop(id));
		return;
	}
	l->to = *id;
	l->type = type;
	l->vpn = vpn;
	l->min_gen = min_gen;
	l->next = m->lists;
	m->lists = l;
	m->nlists++;
}

void mgr_lists_free(struct mgr *m)
{
	while (m->lists) {
		struct mgr_list *l = m->lists;

		m->lists = l->next;
		free(l);
	}
	m->nlists = 0;
}

/* JOIN or LIST of set (NULL: the VPN is gone) to l->to, split in parts;
 * NOT_MEMBER if l->to is not in it. */
static void send_list(struct mgr *m, const struct mgr_list *l, uint64_t gen,
		      const struct roster_member_set *set)
{
	unsigned int n = set ? set->count : 0, k = 0, parts;
	struct roster_member *sel = calloc(n ? n : 1, sizeof(*sel));
	unsigned int *starts = calloc(n + 2, sizeof(*starts));
	struct rd_peer *p = mgr_gw_peer(m, &l->to);
	bool member = false;

	if (!sel || !starts || !p) {
		free(sel);
		free(starts);
		rd_err("out of memory: %s to %s lost", rd_type_name(l->type), rd_ntop(&l->to));
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (rd_addr_eq(&set->members[i].id, &l->to))
			member = true;
		else
			sel[k++] = set->members[i];
	}
	parts = rd_split_members(sel, k, starts);
	for (unsigned int i = 0; i < parts; i++) {
		struct rd_msg msg = {
			.type = member ? l->type : RD_LIST,
			.flags = member ? 0 : RD_F_NOT_MEMBER |
				 (mgr_expire_rejoin(m, &l->to, l->vpn) ? RD_F_REJOIN : 0),
			.has_vpn = true, .vpn = l->vpn, .has_gen = true, .gen = gen,
			.has_parts = true, .part = (uint16_t)(i + 1), .nparts = (uint16_t)parts,
			.total = k, .members = sel + starts[i], .n_members = starts[i + 1] - starts[i],
		};

		mgr_send(m, p, &msg);
	}
	if (member && l->type == RD_LIST)
		rd_metrics_resync();
	rd_info("%s vpn %u gen %llu to %s: %u member(s)%s", rd_type_name(member ? l->type : RD_LIST),
		l->vpn, (unsigned long long)gen, rd_ntop(&l->to), k, member ? "" : " (not a member)");
	free(sel);
	free(starts);
}

/* The kernel is ahead of the store for a moment when a change's
 * notification is still unread; ahead for long, a notification was lost
 * or its commit failed, and only a reconcile brings the store up (and
 * sends the lists). */
static void mismatch(struct mgr *m, uint32_t vpn, uint64_t sgen, uint64_t kgen)
{
	int64_t now = rd_now_ms();

	if (!m->mismatch_since) {
		m->mismatch_since = now;
	} else if (now - m->mismatch_since > MISMATCH_MS) {
		rd_warn("vpn %u: the store stays at generation %llu, the kernel at %llu: reconciling",
			vpn, (unsigned long long)sgen, (unsigned long long)kgen);
		m->mismatch_since = 0;
		mgr_reconcile(m, vpn, NULL);
	}
}

/* Send every queued list of vpn whose generation the store holds. */
static void flush_vpn(struct mgr *m, uint32_t vpn)
{
	struct roster_member_set *set = NULL;
	struct roster_vpn kv;
	uint64_t sgen = 0, dgen = 0;
	bool ready = false;
	size_t n = 0;
	int ret;

	ret = rd_store_vpn_generation(m->st, vpn, &sgen);
	if (ret && ret != -ENOENT) {
		rd_warn("vpn %u: store: %s", vpn, rd_store_errmsg(m->st));
		return;
	}
	/* The store first: it is cheap, and a dump is not. */
	for (struct mgr_list *l = m->lists; l && !ready; l = l->next)
		ready = l->vpn == vpn && (!sgen || sgen >= l->min_gen);
	if (!ready)
		return;
	/* The kernel's generation next, without its members: a dump of a
	 * large VPN is worth taking only when it will show what the store
	 * holds. */
	ret = roster_vpn_get(m->rh, vpn, &kv);
	if (ret && ret != -ENOENT) {
		rd_warn("vpn %u: %s", vpn, roster_strerror_ext(m->rh, ret));
		return;
	}
	if (ret)
		kv.generation = 0;	/* absent */
	if (kv.generation != sgen) {
		mismatch(m, vpn, sgen, kv.generation);
		return;
	}
	ret = roster_member_list(m->rh, vpn, &set, &n);
	if (ret && ret != -ENOENT) {
		rd_warn("vpn %u: cannot dump: %s", vpn, roster_strerror_ext(m->rh, ret));
		return;
	}
	/* An empty VPN is not in a member dump: its generation is the one
	 * just read. */
	dgen = !ret && n ? set[0].generation : kv.generation;
	/* The dump must show exactly what the store holds. */
	if (dgen != sgen) {
		mismatch(m, vpn, sgen, dgen);
		goto out;
	}
	m->mismatch_since = 0;
	for (struct mgr_list **pl = &m->lists; *pl;) {
		struct mgr_list *l = *pl;

		if (l->vpn != vpn || (sgen && sgen < l->min_gen)) {
			pl = &l->next;
			continue;
		}
		send_list(m, l, sgen ? sgen : l->min_gen, n ? &set[0] : NULL);
		*pl = l->next;
		free(l);
		m->nlists--;
	}
out:
	roster_member_sets_free(set, n);
}

int mgr_lists_flush(struct mgr *m)
{
	uint32_t done[64];
	unsigned int nd = 0;
	bool again = true;

	/* One dump per VPN; the queue is short (a list per waiting gateway). */
	while (again && m->lists) {
		uint32_t vpn = 0;

		again = false;
		for (struct mgr_list *l = m->lists; l && !vpn; l = l->next) {
			bool seen = false;

			for (unsigned int i = 0; i < nd && !seen; i++)
				seen = done[i] == l->vpn;
			if (!seen)
				vpn = l->vpn;
		}
		if (!vpn || nd == 64)
			break;
		done[nd++] = vpn;
		flush_vpn(m, vpn);
		again = true;
	}
	return m->lists ? LIST_RETRY_MS : -1;
}

/* ---- notifications -------------------------------------------------- */

static void notify_members(struct mgr *m, uint32_t vpn, uint64_t gen, const struct roster_member *mb,
			   const struct roster_addr *gone)
{
	struct rd_store_vpn v;

	if (rd_store_vpn_get(m->st, vpn, &v)) {
		rd_err("vpn %u: store: %s", vpn, rd_store_errmsg(m->st));
		return;
	}
	for (unsigned int i = 0; i < v.n; i++) {
		const struct roster_addr *to = &v.members[i].id;
		struct rd_msg msg = { .has_vpn = true, .vpn = vpn, .has_gen = true, .gen = gen };

		if ((mb && rd_addr_eq(to, &mb->id)) || !mgr_gw_find(m, to))
			continue;
		if (mb) {
			msg.type = RD_NOTIFY;
			msg.members = (struct roster_member *)mb;
			msg.n_members = 1;
		} else {
			msg.type = RD_REMOVE;
			msg.has_dev = true;
			msg.dev = *gone;
		}
		rd_dbg("%s vpn %u gen %llu member %s to %s", rd_type_name(msg.type), vpn,
		       (unsigned long long)gen, rd_ntop(mb ? &mb->id : gone), rd_ntop(to));
		mgr_send(m, mgr_gw_peer(m, to), &msg);
	}
	rd_store_vpn_release(&v);
}

/* The store's generation for vpn (0: absent), or -1 on error. */
static int stored_gen(struct mgr *m, uint32_t vpn, uint64_t *gen)
{
	int ret = rd_store_vpn_generation(m->st, vpn, gen);

	if (ret == -ENOENT) {
		*gen = 0;
		return 0;
	}
	if (ret)
		rd_err("vpn %u: store: %s", vpn, rd_store_errmsg(m->st));
	return ret;
}

static int commit(struct mgr *m, struct rd_store_change *c)
{
	int ret;

	/* A burst of notifications is committed here back to back, away
	 * from the loop that renews the lease: renew it between two. */
	mgr_lead_renew(m);
	ret = rd_store_commit(m->st, c);

	/* Deposed: nobody hears of it, and the table goes back to the
	 * store's (mgr-lead.c). */
	if (ret == -EPERM)
		mgr_lead_lost(m);
	if (ret)
		rd_err("vpn %u: store: cannot commit generation %llu: %s", c->vpn,
		       (unsigned long long)c->gen, rd_store_errmsg(m->st));
	return ret;
}

static void missed(struct mgr *m, const struct roster_event *ev, uint64_t s)
{
	rd_warn("vpn %u: notification at generation %llu, the store holds %llu: reconciling",
		ev->vpn_id, (unsigned long long)ev->generation, (unsigned long long)s);
	mgr_reconcile(m, ev->vpn_id, NULL);
}

int mgr_on_event(const struct roster_event *ev, void *arg)
{
	struct mgr *m = arg;
	struct rd_store_change c = { .vpn = ev->vpn_id, .gen = ev->generation };
	int64_t t0 = rd_metrics_now_us();
	char dev[ROSTER_ADDR_STRLEN] = "-";
	struct rd_store_vpn old;
	uint64_t s;

	if (ev->type == ROSTER_EVENT_OVERRUN) {
		rd_warn("notification overrun: reconciling the store with the table");
		mgr_reconcile_changed(m, NULL);
		return 0;
	}
	/* A standby commits nothing: its own copies are echoes, anything
	 * else (a change by hand) is undone by the next copy. */
	if (!mgr_leads(m)) {
		if (!(ev->change_flags & ROSTER_CHANGE_F_RESYNC))
			m->lead.follow_due = true;
		return 0;
	}
	if (ev->has_member)
		roster_addr_format(&ev->member.id, dev, sizeof(dev));
	rd_dbg("event %s vpn %u gen %llu %s", roster_event_name(ev->type), ev->vpn_id,
	       (unsigned long long)ev->generation, dev);
	if (stored_gen(m, ev->vpn_id, &s))
		return 0;
	if (ev->type == ROSTER_EVENT_VPN_DEL) {
		if (!s)
			return 0;
		if (rd_store_vpn_get(m->st, ev->vpn_id, &old))
			return 0;
		c.op = RD_STORE_VPN_DEL;
		c.prev_gen = RD_STORE_ANY_GEN;
		if (!commit(m, &c)) {
			rd_info("vpn %u deleted", ev->vpn_id);
			for (unsigned int i = 0; i < old.n; i++)
				mgr_list_queue(m, &old.members[i].id, RD_LIST, ev->vpn_id,
					       ev->generation);
		}
		rd_store_vpn_release(&old);
		return 0;
	}
	if (ev->generation <= s)
		return 0;
	if (ev->type == ROSTER_EVENT_VPN_NEW) {
		if (s) {
			missed(m, ev, s);
			return 0;
		}
		c.op = RD_STORE_VPN_PUT;
		c.vpn_flags = ev->vpn_flags;
		commit(m, &c);
		return 0;
	}
	if (ev->generation != s + 1 || !s) {
		missed(m, ev, s);
		return 0;
	}
	c.prev_gen = s;
	switch (ev->type) {
	case ROSTER_EVENT_MEMBER_JOINED:
	case ROSTER_EVENT_MEMBER_UPDATED:
		if (!ev->has_member)
			return 0;
		c.op = RD_STORE_MEMBER_PUT;
		c.member = &ev->member;
		if (commit(m, &c))
			return 0;
		rd_info("vpn %u gen %llu: %s %s", ev->vpn_id, (unsigned long long)ev->generation,
			dev, ev->type == ROSTER_EVENT_MEMBER_JOINED ? "joined" : "updated");
		/* The joiner's JOIN before the members' NOTIFYs: it is one
		 * message to one gateway, they are one each to all of them. */
		flush_vpn(m, ev->vpn_id);
		notify_members(m, ev->vpn_id, ev->generation, &ev->member, NULL);
		rd_metrics_fanned_out(ev, t0);
		break;
	case ROSTER_EVENT_MEMBER_LEFT:
		if (!ev->has_member)
			return 0;
		c.op = RD_STORE_MEMBER_DEL;
		c.id = ev->member.id;
		if (commit(m, &c))
			return 0;
		rd_info("vpn %u gen %llu: %s left (%s)", ev->vpn_id,
			(unsigned long long)ev->generation, dev,
			ev->has_reason ? roster_reason_name(ev->reason) : "requested");
		notify_members(m, ev->vpn_id, ev->generation, NULL, &ev->member.id);
		rd_metrics_fanned_out(ev, t0);
		mgr_list_queue(m, &ev->member.id, RD_LIST, ev->vpn_id, ev->generation);
		break;
	case ROSTER_EVENT_VPN_CHANGED:
		/* vpn-set moved the generation with no member changed: the
		 * members learn it from a list, or they would take the next
		 * change for a gap. */
		c.op = RD_STORE_VPN_PUT;
		if (commit(m, &c))
			return 0;
		rd_info("vpn %u: generation moved to %llu", ev->vpn_id,
			(unsigned long long)ev->generation);
		if (!rd_store_vpn_get(m->st, ev->vpn_id, &old)) {
			for (unsigned int i = 0; i < old.n; i++)
				mgr_list_queue(m, &old.members[i].id, RD_LIST, ev->vpn_id,
					       ev->generation);
			rd_store_vpn_release(&old);
		}
		break;
	default:
		break;
	}
	return 0;
}
