/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: the state its modules share, and their entry points.
 *
 * Data flows one way. A request goes to roster.ko (mgr-request.c), where
 * the kernel applies policy under its lock. Its notification comes back
 * (mgr-fanout.c), is committed to the store, and only then is fanned out
 * to the gateways. JOIN and LIST messages are built from a member dump at
 * a generation the store holds (the list queue in mgr-fanout.c). At start
 * and after a notification overrun, mgr-restore.c makes the kernel table
 * and the store agree. rctl0's peers follow the store (mgr-ctl.c), and
 * enrol.c turns invitations into enrolled gateways.
 */
#ifndef RD_MGR_H
#define RD_MGR_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "mgr-lead.h"
#include "mgr-limit.h"
#include "proto.h"
#include "rel.h"
#include "state.h"
#include "store.h"

struct mgr_list;
struct mgr_enrol;
struct mgr_live;
struct mgr_roam;
struct mgr_expire;

struct mgr {
	struct rd_config *c;
	uint8_t priv[32], pub[32];
	struct roster_handle *rh;
	struct roster_monitor *mon;
	struct rd_store *st;
	uint8_t store_id[RD_STORE_ID_LEN];
	struct rd_link link;
	int fd;
	/* Who may talk to us: the store's enrolled gateways (sorted by id)
	 * and pending invitations, re-read whenever the store changes. */
	struct rd_entry *gws;
	unsigned int ngws;
	struct rd_entry *inv;
	unsigned int ninv;
	struct mgr_enrol *enrols;
	/* When each gateway was last heard from (mgr-live.c). */
	struct mgr_live *live;
	/* endpoint = auto members (mgr-roam.c) and expire-after (mgr-expire.c) */
	struct mgr_roam *roam;
	struct mgr_expire *expire;
	/* JOINs and LISTs waiting for the store to hold their generation. */
	struct mgr_list *lists;
	unsigned int nlists;
	int64_t mismatch_since;		/* a list waits for a generation the store lacks */
	/* Messages sent since start, per type (rosterd's restart storm test
	 * reads them from the log at exit). */
	unsigned long sent[__RD_TYPE_MAX];
	/* Bounds (manager.c, Documentation/security.rst "Flooding the
	 * manager"): the request rate per gateway, and what they refused. */
	struct mgr_limit limit;
	/* Leadership among several managers (mgr-lead.h). */
	struct mgr_lead lead;
	struct mgr_bucket port_refused;	/* reports only */
	unsigned long replaced, refused_sends, refused_requests, expired;
};

/* mgr-ctl.c: the gateway index and rctl0. */
struct rd_entry *mgr_gw_find(struct mgr *m, const struct roster_addr *id);
struct rd_entry *mgr_inv_find(struct mgr *m, const struct roster_addr *id);
/* Re-read gateways and invitations from the store, drop expired
 * invitations, and make rctl0's peers exactly the gateways' and the
 * invitations' keys. */
int mgr_ctl_reload(struct mgr *m);
/* The store changed under us (another process): reload if so. */
void mgr_ctl_poll(struct mgr *m);
void mgr_host_prefix(const struct roster_addr *a, struct roster_prefix *p);

/* manager.c: sending. */
struct rd_peer *mgr_gw_peer(struct mgr *m, const struct roster_addr *id);
int mgr_send(struct mgr *m, struct rd_peer *p, struct rd_msg *msg);
void mgr_send_error(struct mgr *m, struct rd_peer *p, uint32_t ref, int err, const char *text);
/* One datagram from the control socket (exposed for the unit tests). */
void mgr_handle_packet(struct mgr *m, const uint8_t *buf, size_t len, const struct sockaddr *from,
		       socklen_t fromlen);

/* mgr-fanout.c: the kernel's notifications, committed then fanned out. */
int mgr_on_event(const struct roster_event *ev, void *arg);
/* Queue a JOIN or LIST of vpn for gateway id, to be sent from a dump once
 * the store holds generation min_gen or later. One per (gateway, VPN):
 * a newer request replaces an older one (a JOIN stays a JOIN). */
void mgr_list_queue(struct mgr *m, const struct roster_addr *id, uint8_t type, uint32_t vpn,
		    uint64_t min_gen);
/* Send what the store now holds; returns ms until a retry, -1 if none. */
int mgr_lists_flush(struct mgr *m);
void mgr_lists_free(struct mgr *m);

/* mgr-restore.c */
enum mgr_verdict {
	MGR_SAME,		/* kernel and store agree */
	MGR_KERNEL_WINS,	/* the kernel is ahead: the store catches up */
	MGR_STORE_WINS,		/* the kernel lost (part of) the table */
};
/* The rule (Documentation/design.rst, "Restart"): the higher generation
 * wins; at equal generations the store wins if the members differ, since
 * the kernel cannot have applied a change without a new generation. A
 * VPN missing from the kernel is restored: the kernel cannot tell a
 * deleted VPN from a lost one, and the store holds what was committed.
 * k_gen 0: absent from the kernel; s_gen 0: absent from the store. */
enum mgr_verdict mgr_verdict(uint64_t k_gen, uint64_t s_gen, bool same_members);
/* Members equal as sets (by id, with every field roster.ko keeps). */
bool mgr_same_members(const struct roster_member *a, unsigned int na,
		      const struct roster_member *b, unsigned int nb);
/* Make the kernel table and the store agree, VPN by VPN (all if vpn is 0).
 * *restored (may be NULL) counts the members written into the kernel. */
int mgr_reconcile(struct mgr *m, uint32_t vpn, unsigned long *restored);
/* The same, but only for the VPNs whose generations differ (or that one
 * side lacks): a change always makes a new generation, so equal ones are
 * the same table. Cheap at any size: after an overrun, and at start once
 * the full pass is done. */
int mgr_reconcile_changed(struct mgr *m, unsigned long *restored);

/* mgr-request.c: requests from gateways. */
void mgr_handle_join_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			 const struct rd_entry *gw, const struct rd_msg *msg);
void mgr_handle_leave_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			  const struct rd_msg *msg);
void mgr_handle_sync_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			 const struct rd_entry *gw, const struct rd_msg *msg);

/* enrol.c: ENROLL from an invitee; its ENROLLED acknowledged or not. */
void mgr_handle_enroll(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		       const struct rd_msg *msg);
void mgr_enrol_done(struct mgr *m, struct rd_peer *p, const struct rd_pending *pm, bool acked);
void mgr_enrols_free(struct mgr *m);
/* An enrolment under way refers to p. */
bool mgr_enrol_uses(const struct mgr *m, const struct rd_peer *p);

#endif /* RD_MGR_H */
