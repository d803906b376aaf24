/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: etcd's raft leader kept off the leading manager's host
 * (etcd-raft.c).
 *
 * One crash of a host that runs both the leading manager and etcd's raft
 * leader costs far more than the lease: etcd first elects a raft leader,
 * and the new one renews every lease for its TTL plus an election timeout
 * (etcd's lessor Promote), so the dead manager's lease outlives it by an
 * election, a TTL and an election timeout (9.5 s against 3.0 s at
 * lease-ttl 3, Documentation/performance.rst). So the leading manager
 * moves the raft leadership to another member (etcd's MoveLeader,
 * /v3/maintenance/transfer-leadership) when it finds it on the member of
 * its own host: the member one of whose client URLs has this manager's
 * endpoint address as its host.
 */
#ifndef RD_ETCD_RAFT_H
#define RD_ETCD_RAFT_H

#include <stdbool.h>
#include <stddef.h>

#include "etcd-http.h"
#include "roster.h"

#define RD_ETCD_RAFT_MAX_MEMBERS 16

struct rd_etcd_member {
	char id[24];		/* etcd's 64-bit member id, decimal as etcd writes it */
	char name[64];
	char url[256];		/* its first client URL */
	bool here;		/* a client URL's host is this host's address */
	bool down;		/* did not answer: never the target */
};

/* Which member to move the leadership to: its index, or -1 (the leader is
 * not this host's member, or no other member is up). Without I/O. */
int rd_etcd_raft_pick(const struct rd_etcd_member *ms, unsigned int n, const char *leader);
/* Whether url's host ("https://10.0.0.1:2379", "http://[fd00::1]:2379")
 * is the address a. */
bool rd_etcd_url_is(const char *url, const struct roster_addr *a);

/*
 * If the raft leader is this host's member (host: this manager's endpoint
 * address), move it to another member. 0: nothing to do; 1: moved, the
 * new leader's name in to; -EACCES: etcd refuses (its MoveLeader wants the
 * root role when authentication is on); other -errno; err says why.
 */
int rd_etcd_raft_away(struct rd_etcd *e, const struct roster_addr *host, char *to, size_t tolen,
		      char *err, size_t errlen);

#endif /* RD_ETCD_RAFT_H */
