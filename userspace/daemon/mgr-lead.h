/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: one leader among several managers (mgr-lead.c).
 *
 * Every manager campaigns for the store's lease (store.h,
 * rd_store_campaign) every lease-ttl/3. The one that holds it leads: its
 * roster.ko takes the gateways' requests, and its commits are fenced, so
 * once deposed it can tell nobody anything. The others stand by: their
 * VPNs are followers (ROSTER_VPN_F_FOLLOWER) that copy the store at its
 * generations, so each holds the whole table when its turn comes, and
 * they answer a gateway's request with EROFS naming the leader. With
 * SQLite there is one manager, and it always leads.
 */
#ifndef RD_MGR_LEAD_H
#define RD_MGR_LEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "store.h"

struct mgr;
struct rd_peer;

/* Zero leads: a manager on SQLite, and one set up by hand in a test. */
enum mgr_role { MGR_LEADER, MGR_STANDBY };

/* What a campaign's outcome means for a manager in role r: ret is the
 * campaign's (an error: etcd unreachable, or slow), leader its verdict,
 * lost a fenced commit refused since (the lease is gone whatever the
 * campaign said before), stale that the last renewal that held is two
 * campaign periods old (the lease may run out before the next one). */
enum mgr_lead_step { MGR_LEAD_STAY, MGR_LEAD_PROMOTE, MGR_LEAD_DEMOTE };
enum mgr_lead_step mgr_lead_decide(enum mgr_role r, int ret, bool leader, bool lost, bool stale);

struct mgr_lead {
	enum mgr_role role;
	bool lost;			/* demote now, for lost_why */
	char lost_why[160];
	bool follow_due;		/* standby: the kernel table changed */
	int64_t follow_at;		/* a failed copy is tried again from then, ms */
	int64_t next;			/* next campaign, ms */
	int64_t renewed;		/* the last campaign that held, ms */
	int64_t raft_next;		/* next look at etcd's raft leader, ms */
	bool raft_refused;		/* etcd refused to move it: never again */
	char leader[64];		/* the leader's name as last read; "" none */
	/* The cluster's managers as gateways reach them (this one included),
	 * as last pushed to the gateways. */
	struct rd_store_manager set[RD_STORE_MANAGERS_MAX];
	unsigned int nset;
};

/* Record this manager in the store and campaign once: the role is known
 * before the table is set up. */
int mgr_lead_init(struct mgr *m);
/* After the table is set up: the follower marks as the role wants them
 * (a table kept from an earlier run may have the other role's). */
int mgr_lead_marks(struct mgr *m);
/* Campaign when due, and act on the outcome; ms until the next one. */
int mgr_lead_tick(struct mgr *m, int64_t now);
bool mgr_leads(const struct mgr *m);
/* A fenced commit was refused (-EPERM): demote at the next tick. */
void mgr_lead_lost(struct mgr *m);
/* Between two commits of a burst: renew the lease if the campaign is
 * due, as the loop would (which the burst keeps from running); if it
 * can no longer be sure it leads, demote at the next tick. */
void mgr_lead_renew(struct mgr *m);
/* Once a second: if the store changed (or, on a standby, the kernel
 * table did), a standby copies the store into roster.ko, and the leader
 * re-reads the manager set and tells the gateways if it changed. */
void mgr_lead_poll(struct mgr *m, bool store_changed);
/* What the store's watch saw another manager commit (RD_STORE_W_*): a
 * standby copies a changed VPN at once, and anyone campaigns at once
 * when the leadership ended. */
void mgr_lead_watch(struct mgr *m, unsigned int what);
/* The manager set as RD_A_MEMBER records (proto.h): at most
 * RD_STORE_MANAGERS_MAX, into out; the count. */
unsigned int mgr_lead_members(const struct mgr *m, struct roster_member *out);
/* A standby's answer to a gateway's request (ref: its seq). */
void mgr_lead_refuse(struct mgr *m, struct rd_peer *p, uint32_t ref);
/* Give the lease up (a clean stop): a standby takes over at once. */
void mgr_lead_stop(struct mgr *m);

#endif /* RD_MGR_LEAD_H */
