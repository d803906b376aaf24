/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: reliable delivery, duplicate suppression and sessions (rel.c). */
#ifndef RD_REL_H
#define RD_REL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"
#include "proto.h"

#define RD_WINDOW 256
#define RD_MAX_INFLIGHT 128
#define RD_RETRY_CAP_MS 4000
/* Retransmissions to one peer per pass: a gateway that is slow to be
 * scheduled has not lost the datagrams, and sending it the whole queue
 * again only costs both sides decryptions (performance.rst, "ACKs behind
 * netlink calls"). */
#define RD_RETX_BURST 4
/* What may wait for one destination, in bytes of pending records: past
 * it rd_send refuses (-ENOBUFS). A manager's queue to a gateway holds at
 * most one list per VPN (rd_drop_unsent) plus the changes it has not
 * ACKed yet; only a gateway that never ACKs reaches this. */
#define RD_QUEUE_BYTES_DEFAULT (1024 * 1024)

/* Duplicate suppression: sliding window over a sender's seq numbers,
 * reset when the sender's session grows. Sessions only grow (see
 * rd_session_next), so a message from an earlier session is stale. */
struct rd_window {
	bool valid;
	uint32_t session;
	uint32_t top;
	uint64_t bits[RD_WINDOW / 64];
};

enum rd_window_verdict { RD_WIN_NEW, RD_WIN_DUP, RD_WIN_NEW_SESSION, RD_WIN_STALE };
/* RD_WIN_NEW_SESSION: accepted, and the sender restarted (its session
 * grew since the last message); the first contact is RD_WIN_NEW.
 * RD_WIN_STALE: from a session older than the current one: drop it. */
int rd_window_check(struct rd_window *w, uint32_t session, uint32_t seq);

struct rd_pending {
	struct rd_pending *next;
	uint32_t seq;
	uint8_t type;
	uint32_t vpn;
	bool sent;
	int tries;
	int timeout_ms;
	int64_t due;
	int64_t sent_at;		/* first transmission, for the RTT */
	bool stalled;			/* rd_link.stall was called for it */
	size_t len;
	uint8_t buf[];
};

/* One remote endpoint (address + port). */
struct rd_peer {
	struct rd_peer *next;
	struct rd_peer *hnext;		/* in rd_link.hash */
	uint32_t hash;
	struct sockaddr_storage sa;
	socklen_t salen;
	uint32_t next_seq;
	struct rd_window win;
	/* The queue: the in-flight messages first (sent in order, so they
	 * are a prefix of it), then those waiting for a slot from unsent
	 * on. Its tail and counts make a send O(1). */
	struct rd_pending *q, **qtail, *unsent;
	unsigned int nq, ninflight;
	size_t qbytes;
	int64_t last_active;		/* last message from or to it, ms */
	/* Round-trip estimate (RFC 6298, ms; 0: no sample yet): a slow or
	 * busy receiver gets a longer first timeout instead of a storm of
	 * retransmissions it would have ACKed anyway. */
	int srtt, rttvar;
	void *priv;			/* the owner's; free()d with the peer */
};

struct rd_link;
/* Called when a reliable message is acked (acked = true) or given up. */
typedef void (*rd_done_cb)(struct rd_link *l, struct rd_peer *p,
			   const struct rd_pending *pm, bool acked);

/* Called from rd_tick for a message still unacknowledged when its
 * stall_retx-th retransmission timed out too, once per message; sending
 * goes on as before. The owner may move to another destination (a gateway
 * to another manager, gw-failover.h) well before max_tries gives up. It is
 * called while rd_tick walks the queues: it notes, and acts (sends,
 * flushes) only once rd_tick returned. */
typedef void (*rd_stall_cb)(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm);

/* A manager talks to every gateway: looking a sender up must not cost a
 * walk over all of them. */
#define RD_PEER_BUCKETS 4096

struct rd_link {
	int fd;
	uint32_t session;
	int retry_ms;
	int max_tries;		/* 0: retry forever */
	struct rd_peer *peers;
	struct rd_peer **hash;	/* RD_PEER_BUCKETS chains */
	int64_t next_due;	/* no retransmission is due before this */
	size_t max_queue;	/* per peer, bytes (RD_QUEUE_BYTES_DEFAULT) */
	unsigned int npeers;
	unsigned int max_peers;	/* 0: no bound; past it rd_peer_get fails */
	/* A peer record made again after expiry starts its seq numbers
	 * here: past anything the one before sent, so its receiver's
	 * window takes them as new. */
	uint32_t seq_floor;
	rd_done_cb done;
	/* 0 / NULL (rd_link_init's): never called */
	int stall_retx;
	rd_stall_cb stall;
	void *priv;
};

void rd_link_init(struct rd_link *l, int fd, int retry_ms, int max_tries, rd_done_cb done);
void rd_link_free(struct rd_link *l);
struct rd_peer *rd_peer_get(struct rd_link *l, const struct sockaddr *sa, socklen_t len,
			    bool create);
/* Encode and send m (seq assigned unless ACK), queueing it for
 * retransmit; -ENOBUFS if p's queue is at l->max_queue. */
int rd_send(struct rd_link *l, struct rd_peer *p, struct rd_msg *m);
/* Drop the messages to p for vpn of the types (bit 1 << type) that are
 * queued and not sent yet (no callbacks); returns how many. */
unsigned int rd_drop_unsent(struct rd_peer *p, uint32_t vpn, uint32_t types);
/* Free the peers that have nothing queued, were silent for idle_ms and
 * that keep (may be NULL) does not want kept; returns how many. */
unsigned int rd_link_expire(struct rd_link *l, int64_t now, int64_t idle_ms,
			    bool (*keep)(struct rd_link *l, const struct rd_peer *p));
int rd_send_ack(struct rd_link *l, struct rd_peer *p, uint32_t seq);
/* An ACK arrived. */
void rd_acked(struct rd_link *l, struct rd_peer *p, uint32_t seq);
/* Retransmit what is due; returns ms until the next deadline, -1 if none. */
int rd_tick(struct rd_link *l, int64_t now);
/* Something of one of the types (bit 1 << type) for vpn is still queued
 * or unacknowledged to p. */
bool rd_pending_of(const struct rd_peer *p, uint32_t vpn, uint32_t types);
bool rd_idle(const struct rd_link *l);
/* Drop everything queued for p (without callbacks). */
void rd_peer_flush(struct rd_peer *p);

#endif /* RD_REL_H */
