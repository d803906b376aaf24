// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: reliable delivery over UDP.
 *
 * Every message except ACK carries a per-destination sequence number and
 * the sender's session id (it grows with every start of the sender,
 * rd_session_next). The receiver ACKs every such message (duplicates too)
 * and suppresses duplicates with a sliding window of RD_WINDOW seq numbers
 * per sender, reset when the session grows (the sender restarted); a
 * message from an older session is dropped, so a previous process's
 * messages cannot be delivered again. The sender retransmits until acked with
 * exponential backoff (retry_ms doubling, capped at RD_RETRY_CAP_MS) for
 * max_tries transmissions, and keeps at most RD_MAX_INFLIGHT messages
 * unacked per destination, so nothing it retransmits can fall out of the
 * receiver's window. At most RD_RETX_BURST of them are retransmitted to one
 * destination at a time; the others due wait, their timeouts doubled as
 * for a try (without counting one).
 *
 * A destination's queue is bounded (max_queue bytes): past it a send is
 * refused, and the caller's protocol recovers (a gateway that misses a
 * change sees a gap and asks for a list). A send costs O(1): the queue
 * keeps its tail, its first unsent message and its counts. Peer records
 * that are idle and empty can be expired (rd_link_expire).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "metrics.h"
#include "util.h"
#include "proto.h"
#include "rel.h"
#include "state.h"

static bool win_test(const struct rd_window *w, uint32_t seq)
{
	return w->bits[(seq / 64) % (RD_WINDOW / 64)] & (1ull << (seq % 64));
}

static void win_set(struct rd_window *w, uint32_t seq, bool on)
{
	uint64_t *b = &w->bits[(seq / 64) % (RD_WINDOW / 64)];

	if (on)
		*b |= 1ull << (seq % 64);
	else
		*b &= ~(1ull << (seq % 64));
}

int rd_window_check(struct rd_window *w, uint32_t session, uint32_t seq)
{
	int verdict = RD_WIN_NEW;

	if (!seq)
		return RD_WIN_DUP;
	if (w->valid && session < w->session)
		return RD_WIN_STALE;
	if (!w->valid || w->session != session) {
		if (w->valid)
			verdict = RD_WIN_NEW_SESSION;
		memset(w, 0, sizeof(*w));
		w->valid = true;
		w->session = session;
		w->top = seq;
		win_set(w, seq, true);
		return verdict;
	}
	if (seq > w->top) {
		/* Clear the bits of the seq numbers we slide over. */
		uint32_t diff = seq - w->top;

		if (diff >= RD_WINDOW) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			for (uint32_t s = w->top + 1; s != seq; s++)
				win_set(w, s, false);
		}
		w->top = seq;
		win_set(w, seq, true);
		return RD_WIN_NEW;
	}
	if (w->top - seq >= RD_WINDOW)
		return RD_WIN_DUP;	/* too old: treated as already seen */
	if (win_test(w, seq))
		return RD_WIN_DUP;
	win_set(w, seq, true);
	return RD_WIN_NEW;
}

void rd_link_init(struct rd_link *l, int fd, int retry_ms, int max_tries, rd_done_cb done)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->retry_ms = retry_ms;
	l->max_tries = max_tries;
	l->done = done;
	l->hash = calloc(RD_PEER_BUCKETS, sizeof(*l->hash));
	l->next_due = INT64_MAX;
	l->max_queue = RD_QUEUE_BYTES_DEFAULT;
	l->seq_floor = 1;
	/* Callers with a state directory replace this (rd_session_next). */
	rd_random(&l->session, sizeof(l->session));
}

void rd_peer_flush(struct rd_peer *p)
{
	while (p->q) {
		struct rd_pending *pm = p->q;

		p->q = pm->next;
		free(pm);
	}
	p->qtail = &p->q;
	p->unsent = NULL;
	p->nq = 0;
	p->ninflight = 0;
	p->qbytes = 0;
}

static size_t pm_size(const struct rd_pending *pm)
{
	return sizeof(*pm) + pm->len;
}

/* Unlink *pp (pm) from p's queue; the caller frees it. */
static void q_unlink(struct rd_peer *p, struct rd_pending **pp, struct rd_pending *pm)
{
	*pp = pm->next;
	if (p->qtail == &pm->next)
		p->qtail = pp;
	if (p->unsent == pm)
		p->unsent = pm->next;
	if (pm->sent)
		p->ninflight--;
	p->nq--;
	p->qbytes -= pm_size(pm);
}

unsigned int rd_drop_unsent(struct rd_peer *p, uint32_t vpn, uint32_t types)
{
	unsigned int n = 0;
	struct rd_pending **pp = &p->q;

	/* The unsent messages are the queue's tail: skip the sent ones. */
	while (*pp && *pp != p->unsent)
		pp = &(*pp)->next;
	while (*pp) {
		struct rd_pending *pm = *pp;

		if (pm->vpn == vpn && pm->type < 32 && (types & (1u << pm->type))) {
			q_unlink(p, pp, pm);
			free(pm);
			n++;
			continue;
		}
		pp = &pm->next;
	}
	return n;
}

static void peer_free(struct rd_peer *p)
{
	rd_peer_flush(p);
	free(p->priv);
	free(p);
}

void rd_link_free(struct rd_link *l)
{
	while (l->peers) {
		struct rd_peer *p = l->peers;

		l->peers = p->next;
		peer_free(p);
	}
	l->npeers = 0;
	free(l->hash);
	l->hash = NULL;
}

unsigned int rd_link_expire(struct rd_link *l, int64_t now, int64_t idle_ms,
			    bool (*keep)(struct rd_link *l, const struct rd_peer *p))
{
	unsigned int n = 0;

	for (struct rd_peer **pp = &l->peers; *pp;) {
		struct rd_peer *p = *pp;

		if (p->q || now - p->last_active < idle_ms || (keep && keep(l, p))) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		for (struct rd_peer **hp = &l->hash[p->hash % RD_PEER_BUCKETS]; *hp;
		     hp = &(*hp)->hnext) {
			if (*hp == p) {
				*hp = p->hnext;
				break;
			}
		}
		/* Seq numbers only grow per destination, also across records;
		 * the gap keeps clear of the receiver's window. */
		if (p->next_seq + RD_WINDOW > l->seq_floor)
			l->seq_floor = p->next_seq + RD_WINDOW;
		rd_dbg("expiring idle peer %s", rd_sa_ntop((struct sockaddr *)&p->sa));
		peer_free(p);
		l->npeers--;
		n++;
	}
	return n;
}

/* Address and port (FNV-1a); 0 for what rd_from_sockaddr rejects. */
static uint32_t sa_key(const struct sockaddr *sa, struct roster_addr *a, uint16_t *port)
{
	uint32_t h = 2166136261u;
	const uint8_t *b = (const uint8_t *)&a->addr;

	if (rd_from_sockaddr(sa, a, port))
		return 0;
	for (size_t i = 0; i < roster_addr_len(a); i++)
		h = (h ^ b[i]) * 16777619u;
	h = (h ^ (*port & 0xff)) * 16777619u;
	h = (h ^ (*port >> 8)) * 16777619u;
	return h | 1;
}

struct rd_peer *rd_peer_get(struct rd_link *l, const struct sockaddr *sa, socklen_t len, bool create)
{
	struct roster_addr a, pa;
	uint16_t port, pport;
	uint32_t h = sa_key(sa, &a, &port);
	struct rd_peer *p;

	if (!h || !l->hash)
		return NULL;
	for (p = l->hash[h % RD_PEER_BUCKETS]; p; p = p->hnext)
		if (p->hash == h && !rd_from_sockaddr((const struct sockaddr *)&p->sa, &pa, &pport) &&
		    pport == port && rd_addr_eq(&pa, &a))
			break;
	if (p || !create || len > sizeof(p->sa)) {
		if (p)
			p->last_active = rd_now_ms();
		return p;
	}
	if (l->max_peers && l->npeers >= l->max_peers)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	memcpy(&p->sa, sa, len);
	p->salen = len;
	p->next_seq = l->seq_floor;
	p->qtail = &p->q;
	p->last_active = rd_now_ms();
	l->npeers++;
	p->hash = h;
	p->next = l->peers;
	l->peers = p;
	p->hnext = l->hash[h % RD_PEER_BUCKETS];
	l->hash[h % RD_PEER_BUCKETS] = p;
	return p;
}

/* The first timeout of a message to p: retry_ms, or more if p's ACKs take
 * longer (srtt + 4 rttvar), capped at RD_RETRY_CAP_MS. */
static int first_timeout(const struct rd_link *l, const struct rd_peer *p)
{
	int rto = p->srtt ? p->srtt + 4 * p->rttvar : 0;

	if (rto < l->retry_ms)
		rto = l->retry_ms;
	return rto > RD_RETRY_CAP_MS ? RD_RETRY_CAP_MS : rto;
}

static void rtt_sample(struct rd_peer *p, int rtt)
{
	if (rtt < 1)
		rtt = 1;
	if (!p->srtt) {
		p->srtt = rtt;
		p->rttvar = rtt / 2;
	} else {
		int d = p->srtt > rtt ? p->srtt - rtt : rtt - p->srtt;

		p->rttvar = (3 * p->rttvar + d) / 4;
		p->srtt = (7 * p->srtt + rtt) / 8;
	}
}

static void xmit(struct rd_link *l, struct rd_peer *p, const void *buf, size_t len)
{
	if (sendto(l->fd, buf, len, 0, (const struct sockaddr *)&p->sa, p->salen) < 0)
		rd_dbg("send to %s: %s", rd_sa_ntop((const struct sockaddr *)&p->sa), strerror(errno));
}

/* A queued message takes an in-flight slot: its first transmission. */
static void first_send(struct rd_link *l, struct rd_peer *p, struct rd_pending *pm, int64_t now)
{
	pm->sent = true;
	p->ninflight++;
	if (p->unsent == pm)
		p->unsent = pm->next;
	pm->tries = 1;
	pm->timeout_ms = first_timeout(l, p);
	pm->sent_at = now;
	pm->due = now + pm->timeout_ms;
	if (pm->due < l->next_due)
		l->next_due = pm->due;
	xmit(l, p, pm->buf, pm->len);
	rd_metrics_msg(RD_M_SENT, pm->type);
}

int rd_send(struct rd_link *l, struct rd_peer *p, struct rd_msg *m)
{
	uint8_t buf[RD_MSG_MAX];
	struct rd_pending *pm;
	int len;

	m->has_session = true;
	m->session = l->session;
	if (m->type != RD_ACK)
		m->seq = p->next_seq;
	len = rd_msg_encode(m, buf, sizeof(buf));
	if (len < 0)
		return len;
	rd_dbg("-> %s %s seq %u vpn %u gen %llu", rd_sa_ntop((struct sockaddr *)&p->sa),
	       rd_type_name(m->type), m->seq, m->vpn, (unsigned long long)m->gen);
	p->last_active = rd_now_ms();
	if (m->type == RD_ACK) {
		xmit(l, p, buf, (size_t)len);
		rd_metrics_msg(RD_M_SENT, RD_ACK);
		return 0;
	}
	if (l->max_queue && p->qbytes + sizeof(*pm) + (size_t)len > l->max_queue)
		return -ENOBUFS;
	pm = malloc(sizeof(*pm) + (size_t)len);
	if (!pm)
		return -ENOMEM;
	p->next_seq++;
	if (!p->next_seq)
		p->next_seq = 1;
	memset(pm, 0, sizeof(*pm));
	pm->seq = m->seq;
	pm->type = m->type;
	pm->vpn = m->vpn;
	pm->len = (size_t)len;
	memcpy(pm->buf, buf, (size_t)len);
	pm->timeout_ms = first_timeout(l, p);
	pm->due = rd_now_ms();
	*p->qtail = pm;
	p->qtail = &pm->next;
	p->nq++;
	p->qbytes += pm_size(pm);
	if (!p->unsent)
		p->unsent = pm;
	if (p->ninflight < RD_MAX_INFLIGHT)
		first_send(l, p, pm, rd_now_ms());
	return 0;
}

int rd_send_ack(struct rd_link *l, struct rd_peer *p, uint32_t seq)
{
	struct rd_msg m = { .type = RD_ACK, .ack = seq };

	return rd_send(l, p, &m);
}

void rd_acked(struct rd_link *l, struct rd_peer *p, uint32_t seq)
{
	/* Only the in-flight prefix can be acknowledged. */
	for (struct rd_pending **pp = &p->q; *pp && *pp != p->unsent; pp = &(*pp)->next) {
		struct rd_pending *pm = *pp;

		if (pm->seq != seq)
			continue;
		q_unlink(p, pp, pm);
		rd_dbg("<- %s ACK %u (%s)", rd_sa_ntop((struct sockaddr *)&p->sa), seq,
		       rd_type_name(pm->type));
		/* Karn: a retransmitted message's ACK says nothing of the RTT. */
		if (pm->tries == 1)
			rtt_sample(p, (int)(rd_now_ms() - pm->sent_at));
		if (l->done)
			l->done(l, p, pm, true);
		free(pm);
		/* The freed slot goes to the next message waiting for one. */
		if (p->unsent && p->ninflight < RD_MAX_INFLIGHT)
			first_send(l, p, p->unsent, rd_now_ms());
		return;
	}
}

int rd_tick(struct rd_link *l, int64_t now)
{
	int64_t next = -1;

	/* A manager calls this once per loop with thousands of peers: walk
	 * them only when something can be due. */
	if (now < l->next_due)
		return l->next_due == INT64_MAX ? -1 : (int)(l->next_due - now);

	for (struct rd_peer *p = l->peers; p; p = p->next) {
		unsigned int retx = 0;

		/* The in-flight prefix, then unsent ones while slots are free:
		 * never the whole of a long queue. */
		for (struct rd_pending **pp = &p->q; *pp;) {
			struct rd_pending *pm = *pp;

			if (!pm->sent && p->ninflight >= RD_MAX_INFLIGHT)
				break;
			if (!pm->sent) {
				first_send(l, p, pm, now);
			} else if (pm->due <= now) {
				/* tries counts the first transmission too. */
				if (l->stall && l->stall_retx && !pm->stalled &&
				    pm->tries > l->stall_retx) {
					pm->stalled = true;
					l->stall(l, p, pm);
				}
				if (l->max_tries && pm->tries >= l->max_tries) {
					q_unlink(p, pp, pm);
					rd_warn("%s seq %u to %s not acknowledged after %d tries, giving up",
						rd_type_name(pm->type), pm->seq, rd_sa_ntop((struct sockaddr *)&p->sa), pm->tries);
					rd_metrics_msg(RD_M_GAVE_UP, pm->type);
					if (l->done)
						l->done(l, p, pm, false);
					free(pm);
					continue;
				}
				pm->timeout_ms *= 2;
				if (pm->timeout_ms > RD_RETRY_CAP_MS)
					pm->timeout_ms = RD_RETRY_CAP_MS;
				pm->due = now + pm->timeout_ms;
				/* Past the burst the peer has ACKed none of the
				 * messages before this one either: it is slow more
				 * likely than losing them all. The rest wait, backed
				 * off as for a try, rather than bury it in copies. */
				if (retx < RD_RETX_BURST) {
					retx++;
					pm->tries++;
					rd_dbg("retransmit %s seq %u to %s (try %d)", rd_type_name(pm->type),
					       pm->seq, rd_sa_ntop((struct sockaddr *)&p->sa), pm->tries);
					xmit(l, p, pm->buf, pm->len);
					rd_metrics_msg(RD_M_RETRANSMITTED, pm->type);
				}
			}
			if (pm->sent && (next < 0 || pm->due < next))
				next = pm->due;
			pp = &pm->next;
		}
	}
	l->next_due = next < 0 ? INT64_MAX : next;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

bool rd_pending_of(const struct rd_peer *p, uint32_t vpn, uint32_t types)
{
	for (const struct rd_pending *pm = p->q; pm; pm = pm->next)
		if (pm->vpn == vpn && pm->type < 32 && (types & (1u << pm->type)))
			return true;
	return false;
}

bool rd_idle(const struct rd_link *l)
{
	for (const struct rd_peer *p = l->peers; p; p = p->next)
		if (p->q)
			return false;
	return true;
}
