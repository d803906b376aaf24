/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: which manager of the cluster to talk to (gw-failover.c).
 *
 * A gateway knows every manager of its cluster (rd_identity.managers) and
 * talks to one, the leader as far as it can tell. This is the choice
 * alone, a state machine without I/O: gateway.c feeds it what happened
 * and, when an input returns true (the current manager changed), moves
 * the control channel to the new one. The inputs:
 *
 *  - a message from manager i (any but a standby's EROFS): i is current,
 *    for only the leader sends gateways anything unasked;
 *  - an EROFS from i, a standby, naming the leader's index (-1: none it
 *    knows, or none in the set): the leader is current, or, if i was the
 *    current manager and names no other, the next one of the set;
 *  - a request to i still unacknowledged after GW_FAILOVER_RETRANSMITS
 *    retransmissions: if i is current, the next one of the set.
 *
 * "Next" is round robin in the set's order, so that with every manager
 * down the gateway keeps trying them all in turn. A set of one never
 * changes: a gateway of one manager behaves as before there were several.
 */
#ifndef RD_GW_FAILOVER_H
#define RD_GW_FAILOVER_H

#include <stdbool.h>

/* K: a request unacknowledged after this many retransmissions moves the
 * gateway on. Two: one lost datagram and its retransmission do not. */
#define GW_FAILOVER_RETRANSMITS 2

struct gw_failover {
	unsigned int n;		/* managers in the set, >= 1 */
	unsigned int cur;	/* index of the one talked to */
	/* cur has sent something other than EROFS since it became current:
	 * it leads, as far as the gateway can tell. */
	bool heard;
};

/* A set of n managers, cur the one to start with (0 if out of range). */
void gw_failover_init(struct gw_failover *f, unsigned int n, unsigned int cur);
/* A message from manager i, other than an EROFS error. */
bool gw_failover_heard(struct gw_failover *f, unsigned int i);
/* An EROFS error from manager i naming leader (index in the set, or -1). */
bool gw_failover_standby(struct gw_failover *f, unsigned int i, int leader);
/* A request to manager i unacknowledged after GW_FAILOVER_RETRANSMITS
 * retransmissions. */
bool gw_failover_silent(struct gw_failover *f, unsigned int i);
/* The set changed to n managers; cur is where the current manager is in
 * it, or -1 if it is not: then the first one is current (a change). */
bool gw_failover_reset(struct gw_failover *f, unsigned int n, int cur);
/* The current manager may be taken for the leader: it has been heard, or
 * it is the only one. */
bool gw_failover_leads(const struct gw_failover *f);

#endif /* RD_GW_FAILOVER_H */
