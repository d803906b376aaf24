// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: leadership (mgr-lead.h). Promotion and demotion are
 * the only places where a manager's kernel table changes hands: on
 * promotion the store is the truth (nobody else may write it any more),
 * and on demotion too (what this manager did not commit never happened).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mgr.h"
#include "mgr-admin.h"
#include "mgr-lead.h"
#include "util.h"

enum mgr_lead_step mgr_lead_decide(enum mgr_role r, int ret, bool leader, bool lost, bool stale)
{
	if (r == MGR_LEADER) {
		if (lost || (!ret && !leader))
			return MGR_LEAD_DEMOTE;
		/* One renewal unanswered: the lease still runs, and the fence
		 * refuses any commit if it does not. Once it may have run
		 * out, this manager cannot tell whether it leads: it stops. */
		return ret && stale ? MGR_LEAD_DEMOTE : MGR_LEAD_STAY;
	}
	return !ret && leader && !lost ? MGR_LEAD_PROMOTE : MGR_LEAD_STAY;
}

bool mgr_leads(const struct mgr *m)
{
	return m->lead.role == MGR_LEADER;
}

void mgr_lead_lost(struct mgr *m)
{
	m->lead.lost = true;
	snprintf(m->lead.lost_why, sizeof(m->lead.lost_why), "a commit was fenced");
}

static void self_record(const struct mgr *m, struct rd_store_manager *mg)
{
	memset(mg, 0, sizeof(*mg));
	snprintf(mg->name, sizeof(mg->name), "%s", m->c->name);
	memcpy(mg->key, m->pub, 32);
	if (m->c->has_endpoint)
		mg->endpoint = m->c->endpoint;
	mg->port = m->c->listen_port;
	mg->control_addr = m->c->control_addr;
}

unsigned int mgr_lead_members(const struct mgr *m, struct roster_member *out)
{
	struct rd_store_manager self;
	const struct rd_store_manager *set = m->lead.set;
	unsigned int n = m->lead.nset, k = 0;

	if (!n) {
		self_record(m, &self);
		set = &self;
		n = 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct roster_member *o = &out[k];

		if (!set[i].control_addr.family)
			continue;
		memset(o, 0, sizeof(*o));
		o->id = set[i].control_addr;
		o->has_key = true;
		memcpy(o->key, set[i].key, 32);
		/* Without one the gateway waits to hear from that manager. */
		o->has_endpoint = set[i].endpoint.family && set[i].port;
		o->endpoint = set[i].endpoint;
		o->port = set[i].port;
		k++;
	}
	return k;
}

static const struct rd_store_manager *find_name(const struct mgr *m, const char *name)
{
	for (unsigned int i = 0; i < m->lead.nset; i++)
		if (!strcmp(m->lead.set[i].name, name))
			return &m->lead.set[i];
	return NULL;
}

void mgr_lead_refuse(struct mgr *m, struct rd_peer *p, uint32_t ref)
{
	const struct rd_store_manager *l = m->lead.leader[0] ? find_name(m, m->lead.leader) : NULL;
	struct rd_msg e = { .type = RD_ERROR, .has_err = true, .err = EROFS,
			    .has_ref = true, .ref_seq = ref };

	if (m->lead.leader[0])
		snprintf(e.text, sizeof(e.text), "standby: the leader is %s", m->lead.leader);
	else
		snprintf(e.text, sizeof(e.text), "standby: no manager leads now; try again");
	if (l) {
		e.has_dev = true;
		e.dev = l->control_addr;
	}
	mgr_send(m, p, &e);
}

/* The VPNs' follower marks: set on a standby, cleared on the leader (who
 * makes unstamped changes). A mark makes no new generation. */
static int mark_all(struct mgr *m, bool follower)
{
	struct roster_vpn *kv = NULL;
	size_t n = 0;
	int ret = roster_vpn_list(m->rh, &kv, &n), err = 0;

	if (ret) {
		rd_err("cannot list the roster table's VPNs: %s", roster_strerror_ext(m->rh, ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t f = follower ? kv[i].flags | ROSTER_VPN_F_FOLLOWER :
					kv[i].flags & ~ROSTER_VPN_F_FOLLOWER;

		if (f == kv[i].flags)
			continue;
		ret = roster_vpn_set(m->rh, kv[i].id, 0, 0, &f, NULL);
		if (ret && ret != -ENOENT) {
			rd_err("vpn %u: cannot %s the follower mark: %s", kv[i].id,
			       follower ? "set" : "clear", roster_strerror_ext(m->rh, ret));
			err = ret;
		}
	}
	free(kv);
	return err;
}

int mgr_lead_marks(struct mgr *m)
{
	return mark_all(m, !mgr_leads(m));
}

/* Re-read the managers; true if the set changed. */
static bool read_set(struct mgr *m)
{
	struct rd_store_manager set[RD_STORE_MANAGERS_MAX];
	unsigned int n = 0;

	if (rd_store_managers(m->st, set, RD_STORE_MANAGERS_MAX, &n)) {
		rd_warn("store: cannot read the managers: %s", rd_store_errmsg(m->st));
		return false;
	}
	if (n == m->lead.nset && !memcmp(set, m->lead.set, n * sizeof(set[0])))
		return false;
	memcpy(m->lead.set, set, n * sizeof(set[0]));
	m->lead.nset = n;
	return true;
}

/* Every enrolled gateway learns the set: its rctl0 gets a peer per
 * manager, and it moves to the sender (gateway: gw-failover.h). */
static void push_set(struct mgr *m)
{
	struct roster_member mb[RD_STORE_MANAGERS_MAX];
	struct rd_msg msg = { .type = RD_MANAGERS, .members = mb };

	msg.n_members = mgr_lead_members(m, mb);
	for (unsigned int i = 0; i < m->ngws; i++)
		mgr_send(m, mgr_gw_peer(m, &m->gws[i].id), &msg);
	rd_info("managers: %u in the set, told %u gateway(s)", msg.n_members, m->ngws);
}

#define FOLLOW_RETRY_MS 5000

/* A standby copies the store: every VPN a follower at the store's
 * generation (mgr-restore.c decides the rest). Whole when the table
 * changes hands or was changed by hand: a deposed leader may hold
 * another table at the store's very generation (its uncommitted change
 * against the new leader's committed one), and only then can a VPN lack
 * its mark (a standby creates its VPNs marked). Else only the VPNs whose
 * generations differ. */
static int follow(struct mgr *m, bool whole)
{
	int ret;

	if (!m->rh)
		return 0;	/* before setup_table, which follows */
	if (!whole)
		return mgr_reconcile_changed(m, NULL) ? -EIO : 0;
	ret = mark_all(m, true);
	/* Not done (etcd unreachable): again, whole, at the next poll. */
	if (mgr_reconcile(m, 0, NULL)) {
		m->lead.follow_due = true;
		/* etcd without a leader holds each read for seconds: not
		 * again at every second, or the loop would answer nobody
		 * (`rosterd status` either). */
		m->lead.follow_at = rd_now_ms() + FOLLOW_RETRY_MS;
		return -EIO;
	}
	return ret;
}

static void promote(struct mgr *m)
{
	/* Still as a standby: the store wins, since what was committed
	 * is all there is. Then the marks go, and the requests come. */
	if (follow(m, true))
		rd_warn("leader: the table is not yet the store's; the next change reconciles it");
	/* The copy's own notifications are read as a standby's: a VPN it
	 * rebuilt shows a deletion that the leader would commit. */
	if (m->mon)
		roster_monitor_read(m->mon, mgr_on_event, m);
	m->lead.role = MGR_LEADER;
	mark_all(m, false);
	snprintf(m->lead.leader, sizeof(m->lead.leader), "%s", m->c->name);
	rd_info("leader: this manager (%s) now leads", m->c->name);
	mgr_evict_all(m);
	read_set(m);
	push_set(m);
}

static void demote(struct mgr *m, const char *why)
{
	m->lead.role = MGR_STANDBY;
	/* Nothing queued was committed under this manager's lease that
	 * the new leader will not tell: the lists would only repeat it. */
	mgr_lists_free(m);
	if (rd_store_leader(m->st, m->lead.leader, sizeof(m->lead.leader)))
		m->lead.leader[0] = '\0';
	rd_warn("standby: this manager (%s) no longer leads (%s); the leader is %s", m->c->name,
		why, m->lead.leader[0] ? m->lead.leader : "unknown");
	follow(m, true);
}

/* How often the leader looks where etcd's raft leader is, and the
 * least time between two moves (another cluster of managers on the same
 * etcd might want it elsewhere too: they must not ping-pong fast). */
#define RAFT_LOOK_MS 5000
#define RAFT_MOVE_GAP_MS 30000

/* The leader: etcd's raft leader off this host's member (etcd-raft.h). */
static void raft_away(struct mgr *m, int64_t now)
{
	char to[64];
	int ret;

	if (!m->c->etcd_move_leader || !m->c->has_endpoint || m->lead.raft_refused ||
	    !rd_store_shared(m->st) || now < m->lead.raft_next)
		return;
	m->lead.raft_next = now + RAFT_LOOK_MS;
	ret = rd_store_raft_away(m->st, &m->c->endpoint, to, sizeof(to));
	if (ret == 1) {
		rd_info("leader: etcd's raft leader was the member on this host (%s); moved it to "
			"%s, so that losing this host does not cost an etcd election as well",
			rd_ntop(&m->c->endpoint), to);
		m->lead.raft_next = now + RAFT_MOVE_GAP_MS;
	} else if (ret == -EACCES) {
		rd_warn("leader: etcd refuses to move its raft leader off this host (%s); not "
			"asked again (etcd-move-leader, Documentation/etcd.rst)",
			rd_store_errmsg(m->st));
		m->lead.raft_refused = true;
	} else if (ret) {
		rd_dbg("leader: cannot look at etcd's raft leader: %s", rd_store_errmsg(m->st));
	}
}

static unsigned int period_ms(const struct mgr *m)
{
	return m->c->lease_ttl * 1000 / 3;
}

int mgr_lead_init(struct mgr *m)
{
	struct rd_store_manager self;
	bool leader = false;
	int ret;

	self_record(m, &self);
	ret = rd_store_manager_put(m->st, &self);
	if (ret) {
		rd_err("store: cannot record this manager (%s): %s", self.name,
		       rd_store_errmsg(m->st));
		return ret;
	}
	read_set(m);
	ret = rd_store_campaign(m->st, m->c->name, m->c->lease_ttl, &leader);
	if (ret)
		rd_warn("store: cannot campaign: %s; standing by", rd_store_errmsg(m->st));
	m->lead.next = rd_now_ms() + period_ms(m);
	if (!ret && leader)
		m->lead.renewed = rd_now_ms();
	if (!ret && leader && !rd_store_shared(m->st)) {
		m->lead.role = MGR_LEADER;
		snprintf(m->lead.leader, sizeof(m->lead.leader), "%s", m->c->name);
		return 0;
	}
	/* On a shared store even the winner starts as a standby: its table
	 * becomes the store's, whatever it held (another manager may have
	 * committed since), and the first tick promotes it. */
	m->lead.role = MGR_STANDBY;
	if (!ret && leader) {
		snprintf(m->lead.leader, sizeof(m->lead.leader), "%s", m->c->name);
		m->lead.next = 0;
		return 0;
	}
	if (rd_store_leader(m->st, m->lead.leader, sizeof(m->lead.leader)))
		m->lead.leader[0] = '\0';
	rd_info("standby: this manager (%s) stands by; the leader is %s", m->c->name,
		m->lead.leader[0] ? m->lead.leader : "unknown");
	return 0;
}

/* One campaign, and its bookkeeping: the next one is a period away, and
 * a renewal that held is noted. *stale: the last one that held is two
 * periods old (the lease may run out before the next). */
static int campaign(struct mgr *m, bool *leader, bool *stale)
{
	int ret = rd_store_campaign(m->st, m->c->name, m->c->lease_ttl, leader);
	int64_t now = rd_now_ms();

	m->lead.next = now + period_ms(m);
	if (!ret && *leader)
		m->lead.renewed = now;
	*stale = now - m->lead.renewed >= 2 * (int64_t)period_ms(m);
	return ret;
}

int mgr_lead_tick(struct mgr *m, int64_t now)
{
	enum mgr_lead_step step;
	bool leader = false;
	const char *why;
	bool stale = false;
	int ret = 0;

	if (now < m->lead.next && !m->lead.lost)
		return (int)(m->lead.next - now);
	if (!m->lead.lost)
		ret = campaign(m, &leader, &stale);
	else
		m->lead.next = rd_now_ms() + period_ms(m);
	now = rd_now_ms();
	step = mgr_lead_decide(m->lead.role, ret, leader, m->lead.lost, stale);
	if (step == MGR_LEAD_STAY && ret && mgr_leads(m))
		rd_warn("leader: cannot renew the lease (%s); leading on until %u ms after the "
			"last renewal", rd_store_errmsg(m->st), 2 * period_ms(m));
	why = m->lead.lost ? m->lead.lost_why :
	      ret ? rd_store_errmsg(m->st) : "the lease went to another manager";
	m->lead.lost = false;
	switch (step) {
	case MGR_LEAD_PROMOTE:
		promote(m);
		raft_away(m, rd_now_ms());
		break;
	case MGR_LEAD_DEMOTE:
		demote(m, why);
		break;
	case MGR_LEAD_STAY:
		if (mgr_leads(m))
			raft_away(m, now);
		if (!mgr_leads(m) &&
		    rd_store_leader(m->st, m->lead.leader, sizeof(m->lead.leader)))
			m->lead.leader[0] = '\0';
		break;
	}
	return (int)period_ms(m);
}

void mgr_lead_renew(struct mgr *m)
{
	bool leader = false, stale;
	int ret;

	if (!mgr_leads(m) || m->lead.lost || rd_now_ms() < m->lead.next)
		return;
	ret = campaign(m, &leader, &stale);
	if (mgr_lead_decide(MGR_LEADER, ret, leader, false, stale) == MGR_LEAD_DEMOTE) {
		m->lead.lost = true;
		snprintf(m->lead.lost_why, sizeof(m->lead.lost_why), "the lease was lost during "
			 "a burst of commits: %s", ret ? rd_store_errmsg(m->st) :
			 "another manager holds it");
	}
}

/* A standby copies what changed: the whole store if a copy is owed (a
 * change by hand may leave the generation as it was). */
static void follow_changes(struct mgr *m)
{
	bool whole = m->lead.follow_due;

	m->lead.follow_due = false;
	follow(m, whole);
}

/* A copy owed is tried again every FOLLOW_RETRY_MS while the store
 * answers (its watch runs; SQLite always). Else the first answer again
 * is a change (rd_store_changed), which tries it. */
static bool follow_retry(struct mgr *m)
{
	const char *ep;
	int64_t rev;
	bool live = true;

	if (rd_now_ms() < m->lead.follow_at)
		return false;
	return rd_store_watch_state(m->st, &live, &rev, &ep) || live;
}

void mgr_lead_poll(struct mgr *m, bool store_changed)
{
	bool changed = store_changed && read_set(m);

	if (!mgr_leads(m) && (store_changed || (m->lead.follow_due && follow_retry(m))))
		follow_changes(m);
	else if (changed)
		push_set(m);
}

void mgr_lead_watch(struct mgr *m, unsigned int what)
{
	/* The lease's end is etcd's revocation: the first to campaign
	 * after it leads, with no wait for the next period. */
	if (what & RD_STORE_W_LEADER)
		m->lead.next = 0;
	if (mgr_leads(m) || !(what & (RD_STORE_W_VPN | RD_STORE_W_LOST)))
		return;
	follow_changes(m);
}

void mgr_lead_stop(struct mgr *m)
{
	if (mgr_leads(m) && rd_store_resign(m->st))
		rd_warn("store: cannot give the lease up (%s): a standby takes over when it "
			"expires", rd_store_errmsg(m->st));
}
