// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: setup, the packet path and the one event loop. The
 * jobs live in their own modules (mgr.h): requests, fan-out, restore,
 * rctl0 and enrolment.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "ctl-sock.h"
#include "log.h"
#include "metrics.h"
#include "mgr.h"
#include "mgr-admin.h"
#include "mgr-metrics.h"
#include "mgr-limit.h"
#include "mgr-live.h"
#include "mgr-expire.h"
#include "mgr-roam.h"
#include "mgr-rotate.h"
#include "mgr-status.h"
#include "netif.h"
#include "util.h"

/* A peer record that is silent this long, with nothing queued, is freed
 * unless it is an enrolled gateway's control endpoint (one per gateway:
 * it keeps the rate limit and the seq numbers). */
#define PEER_IDLE_MS (120 * 1000)
/* At most one report per gateway this often of refused requests or sends. */
#define REPORT_MS (10 * 1000)
/* Peer records in all: a bound, not a size (one per gateway is usual). */
#define MAX_PEERS 65536

/* What the manager keeps per peer (rd_peer.priv, freed with it). */
struct mgr_peer {
	struct mgr_bucket req;		/* requests (on the control endpoint's) */
	struct mgr_bucket full;		/* sends refused: queue full (reports) */
};

static struct mgr_peer *peer_state(struct rd_peer *p)
{
	if (!p->priv)
		p->priv = calloc(1, sizeof(struct mgr_peer));
	return p->priv;
}

/* ---- sending ---------------------------------------------------------- */

struct rd_peer *mgr_gw_peer(struct mgr *m, const struct roster_addr *id)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(id, m->c->control_port, &ss);

	return rd_peer_get(&m->link, (struct sockaddr *)&ss, len, true);
}

/* A full queue refuses the send (rel.c). Nothing is lost for good: a
 * gateway that misses a NOTIFY or REMOVE sees the gap at the next change
 * or at its periodic SYNC_REQ and asks for a list, and a list is sent
 * again when asked. Reported once per REPORT_MS, not per message. */
static void queue_full(struct mgr *m, struct rd_peer *p, const struct rd_msg *msg)
{
	struct mgr_peer *ps = peer_state(p);
	uint32_t n;

	m->refused_sends++;
	if (!ps)
		return;
	ps->full.refused++;
	n = mgr_bucket_report(&ps->full, rd_now_ms(), REPORT_MS);
	if (n)
		rd_warn("queue to %s full (%u message(s), %zu bytes): %u send(s) refused, the "
			"last a %s for vpn %u; it will ask again", rd_sa_ntop((struct sockaddr *)&p->sa),
			p->nq, p->qbytes, n, rd_type_name(msg->type), msg->vpn);
}

/* Every membership message names the store it comes from: a gateway
 * never obeys a removal from a store it does not know. */
int mgr_send(struct mgr *m, struct rd_peer *p, struct rd_msg *msg)
{
	int ret;

	if (!p)
		return -ENOMEM;
	switch (msg->type) {
	case RD_JOIN:
	case RD_LIST:
	case RD_NOTIFY:
	case RD_REMOVE:
	case RD_ENROLLED:
	case RD_MANAGERS:
		msg->has_store_id = true;
		memcpy(msg->store_id, m->store_id, RD_STORE_ID_LEN);
		break;
	}
	/* One list per (peer, VPN): a new one replaces the parts of older
	 * ones still waiting for a slot (those in flight are not recalled;
	 * the gateway drops an older list when a newer one starts). A JOIN
	 * replaces JOINs and LISTs, a LIST only LISTs: the JOIN answers the
	 * gateway's JOIN_REQ. */
	if ((msg->type == RD_JOIN || msg->type == RD_LIST) && (!msg->has_parts || msg->part <= 1))
		m->replaced += rd_drop_unsent(p, msg->vpn, 1u << RD_LIST |
					      (msg->type == RD_JOIN ? 1u << RD_JOIN : 0));
	ret = rd_send(&m->link, p, msg);
	if (ret == -ENOBUFS)
		queue_full(m, p, msg);
	else if (ret)
		rd_err("%s to %s: %s", rd_type_name(msg->type), rd_sa_ntop((struct sockaddr *)&p->sa),
		       strerror(-ret));
	else if (msg->type < __RD_TYPE_MAX)
		m->sent[msg->type]++;
	return ret;
}

void mgr_send_error(struct mgr *m, struct rd_peer *p, uint32_t ref, int err, const char *text)
{
	struct rd_msg e = { .type = RD_ERROR, .has_err = true, .err = (uint32_t)err,
			    .has_ref = true, .ref_seq = ref };

	snprintf(e.text, sizeof(e.text), "%s", text);
	mgr_send(m, p, &e);
}

/* ---- the packet path ---------------------------------------------------- */

/* The record of an enrolled gateway's control endpoint stays: it holds
 * the gateway's rate limit, and one per gateway is a bound already. So
 * does one an enrolment still refers to. */
static bool keep_peer(struct rd_link *l, const struct rd_peer *p)
{
	struct mgr *m = l->priv;
	struct roster_addr a;
	uint16_t port;

	if (mgr_enrol_uses(m, p))
		return true;
	return !rd_from_sockaddr((const struct sockaddr *)&p->sa, &a, &port) &&
	       port == m->c->control_port && mgr_gw_find(m, &a);
}

static void on_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	mgr_enrol_done(l->priv, p, pm, acked);
}

/* Only a privileged process can send from a port below 1024 on a
 * gateway host (ip_unprivileged_port_start at its default): the gateway
 * daemon on the control port, `rosterd leave` on another privileged one
 * (gw-oneshot.c). Any other port is an unprivileged local user, whose
 * datagram rctl0 encrypts with the gateway's key all the same. */
static bool privileged_port(const struct mgr *m, uint16_t port)
{
	return port == m->c->control_port || port < 1024;
}

/* Requests per gateway: a token bucket on its control endpoint's record,
 * whatever port the request came from. Over the limit, a request is
 * dropped without an ACK (the gateway retransmits it, backing off) and
 * reported in the log and, in one ERROR, to the gateway. */
static bool request_allowed(struct mgr *m, const struct roster_addr *src, struct rd_peer *from)
{
	struct rd_peer *cp = mgr_gw_peer(m, src);
	struct mgr_peer *ps = cp ? peer_state(cp) : NULL;
	int64_t now = rd_now_ms();
	uint32_t n;

	if (!ps)
		return false;	/* out of memory: as if over the limit */
	if (mgr_bucket_take(&ps->req, &m->limit, now))
		return true;
	m->refused_requests++;
	n = mgr_bucket_report(&ps->req, now, REPORT_MS);
	if (n) {
		char text[128];

		snprintf(text, sizeof(text), "request rate over %u/s (burst %u): %u request(s) "
			 "dropped", m->limit.rate, m->limit.burst, n);
		rd_warn("%s: %s", rd_ntop(src), text);
		/* No ref: the gateway reports it whatever it was. */
		struct rd_msg e = { .type = RD_ERROR, .has_err = true, .err = EBUSY };

		snprintf(e.text, sizeof(e.text), "%s", text);
		mgr_send(m, from, &e);
	}
	return false;
}

void mgr_handle_packet(struct mgr *m, const uint8_t *buf, size_t len,
		       const struct sockaddr *from, socklen_t fromlen)
{
	struct roster_addr src;
	struct rd_entry *gw, *inv;
	struct rd_window win;
	struct rd_peer *p;
	struct rd_msg msg;
	const char *why;
	uint16_t sport;
	int verdict;

	if (rd_from_sockaddr(from, &src, &sport))
		return;
	gw = mgr_gw_find(m, &src);
	inv = mgr_inv_find(m, &src);
	if (!gw && !inv) {
		rd_warn("ignoring packet from %s: not an enrolled gateway", rd_sa_ntop(from));
		return;
	}
	if (rd_msg_decode(buf, len, &msg, &why)) {
		rd_warn("ignoring malformed message from %s: %s", rd_sa_ntop(from), why);
		return;
	}
	rd_metrics_msg(RD_M_RECEIVED, msg.type);
	if (!gw && msg.type != RD_ENROLL && msg.type != RD_ACK) {
		rd_warn("ignoring %s from %s: not enrolled yet", rd_type_name(msg.type),
			rd_sa_ntop(from));
		goto out;
	}
	/* An invitee enrols from any port (rosterd redeem binds an
	 * ephemeral one); an enrolled gateway speaks from a privileged one. */
	if (gw && !privileged_port(m, sport) &&
	    !(inv && (msg.type == RD_ENROLL || msg.type == RD_ACK))) {
		uint32_t n;

		m->port_refused.refused++;
		n = mgr_bucket_report(&m->port_refused, rd_now_ms(), REPORT_MS);
		if (n)
			rd_warn("ignoring %s from %s: not from a privileged port (the control port "
				"is %u), %u such message(s) dropped", rd_type_name(msg.type),
				rd_sa_ntop(from), m->c->control_port, n);
		goto out;
	}
	if (gw)
		mgr_live_heard(m, &src, (uint64_t)time(NULL));
	p = rd_peer_get(&m->link, from, fromlen, true);
	if (!p) {
		rd_dbg("dropping %s from %s: no peer record (out of memory or %u peers)",
		       rd_type_name(msg.type), rd_sa_ntop(from), m->link.npeers);
		goto out;
	}
	if (msg.type == RD_ACK) {
		rd_acked(&m->link, p, msg.ack);
		goto out;
	}
	/* The window on a copy: a request over the rate limit must stay
	 * new, so that its retransmission is handled once tokens are back;
	 * duplicates cost no token (an ACK is all they get). */
	win = p->win;
	verdict = rd_window_check(&win, msg.session, msg.seq);
	if ((verdict == RD_WIN_NEW || verdict == RD_WIN_NEW_SESSION) &&
	    !request_allowed(m, &src, p))
		goto out;
	p->win = win;
	if (verdict == RD_WIN_STALE) {
		rd_warn("ignoring %s from %s: from an earlier session (%u, now %u)",
			rd_type_name(msg.type), rd_sa_ntop(from), msg.session, p->win.session);
		goto out;
	}
	/* A standby takes no request but an enrolment (a shared record, not
	 * the membership): it names the leader, and the gateway goes there.
	 * A key it refuses gets no ACK, as below. */
	if (!mgr_leads(m) && msg.type != RD_ENROLL) {
		if (msg.type != RD_ROTATE)
			rd_send_ack(&m->link, p, msg.seq);
		mgr_lead_refuse(m, p, msg.seq);
		goto out;
	}
	/* The gateway switches keys on this ACK: a refused key gets none. */
	if (msg.type == RD_ROTATE && !mgr_rotate_check(m, p, &src, gw, &msg, verdict == RD_WIN_DUP))
		goto out;
	rd_send_ack(&m->link, p, msg.seq);
	if (verdict == RD_WIN_DUP) {
		rd_dbg("duplicate %s seq %u from %s", rd_type_name(msg.type), msg.seq,
		       rd_sa_ntop(from));
		goto out;
	}
	rd_dbg("<- %s %s seq %u vpn %u", rd_sa_ntop(from), rd_type_name(msg.type), msg.seq, msg.vpn);
	switch (msg.type) {
	case RD_JOIN_REQ:
		mgr_handle_join_req(m, p, &src, gw, &msg);
		break;
	case RD_LEAVE_REQ:
		mgr_handle_leave_req(m, p, &src, &msg);
		break;
	case RD_SYNC_REQ:
		mgr_handle_sync_req(m, p, &src, gw, &msg);
		break;
	case RD_ENROLL:
		mgr_handle_enroll(m, p, &src, &msg);
		break;
	case RD_ROTATE:
		mgr_handle_rotate(m, &src, &msg);
		break;
	default:
		rd_warn("ignoring unexpected %s from %s", rd_type_name(msg.type), rd_sa_ntop(from));
		break;
	}
out:
	rd_msg_release(&msg);
}

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
		mgr_handle_packet(m, buf, (size_t)n, (struct sockaddr *)&from, fl);
	}
}

/* ---- setup ----------------------------------------------------------------- */

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

static int open_store(struct mgr *m)
{
	char err[1024], hex[33];
	uint32_t session;
	int ret;

	ret = rd_store_open_config(m->c, &m->st, err, sizeof(err));
	if (ret) {
		rd_err("%s", err);
		return ret;
	}
	memcpy(m->store_id, rd_store_identity(m->st), RD_STORE_ID_LEN);
	ret = rd_store_session_next(m->st, &session);
	if (ret) {
		rd_err("store: cannot take a session id: %s", rd_store_errmsg(m->st));
		return ret;
	}
	m->link.session = session;
	rd_info("store: %s, identity %s", rd_store_describe(m->st),
		rd_store_identity_hex(m->st, hex));
	return 0;
}

/* The kernel table equals the store, then the notifications take over:
 * a restore before subscribing (its echoes would only overrun the
 * socket), and a second pass after, for what changed in between. */
static int setup_table(struct mgr *m)
{
	unsigned long restored = 0;
	int64_t t0 = rd_now_ms();
	int ret;

	ret = roster_open(&m->rh);
	if (ret) {
		rd_err("cannot open the roster family: %s%s", strerror(-ret),
		       ret == -ENOENT ? " (is roster.ko loaded?)" : "");
		return ret;
	}
	ret = mgr_reconcile(m, 0, &restored);
	if (ret)
		return ret;
	ret = roster_monitor_open(m->rh, &m->mon);
	if (ret) {
		rd_err("cannot subscribe to roster notifications: %s", strerror(-ret));
		return ret;
	}
	ret = mgr_reconcile_changed(m, &restored);
	if (ret)
		return ret;
	if (restored)
		rd_info("restored %lu member(s) into roster.ko in %lld ms", restored,
			(long long)(rd_now_ms() - t0));
	return 0;
}

/* The manager's queues and bounds (on SIGHUP and at exit). */
static void log_queues(const struct mgr *m)
{
	unsigned long nq = 0, bytes = 0;
	unsigned int most = 0;

	for (const struct rd_peer *p = m->link.peers; p; p = p->next) {
		nq += p->nq;
		bytes += p->qbytes;
		if (p->nq > most)
			most = p->nq;
	}
	rd_info("queues: %u peer(s), %lu message(s) queued (%lu bytes, at most %u to one "
		"peer); %lu list part(s) replaced, %lu send(s) refused (queue full), %lu "
		"request(s) over the rate limit, %lu peer(s) expired", m->link.npeers, nq, bytes,
		most, m->replaced, m->refused_sends, m->refused_requests, m->expired);
}

static void log_sent(const struct mgr *m)
{
	char buf[256];
	size_t off = 0;

	for (unsigned int t = 1; t < __RD_TYPE_MAX && off < sizeof(buf); t++)
		if (m->sent[t])
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s %lu",
						rd_type_name(t), m->sent[t]);
	rd_info("messages sent:%s", off ? buf : " none");
}

static void read_events(struct mgr *m)
{
	int ret = roster_monitor_read(m->mon, mgr_on_event, m);

	if (ret < 0 && ret != -EAGAIN)
		rd_warn("reading notifications: %s", strerror(-ret));
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int rd_manager_run(struct rd_config *c)
{
	static struct mgr mgr;
	static struct ctl_sock ctl = { .ep = -1, .lfd = -1 };
	struct mgr *m = &mgr;
	int sfd = -1, ret;
	char pub[45], errbuf[256];
	bool stop = false;

	memset(m, 0, sizeof(*m));
	m->c = c;
	m->fd = -1;
	ret = rd_mkdir_p(c->state_dir, 0700);
	if (ret) {
		rd_err("%s: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	ret = rd_state_key(c->state_dir, m->priv, true);
	if (ret) {
		rd_err("%s: cannot read the private key: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	rd_wg_pubkey(m->pub, m->priv);
	rd_key_b64(m->pub, pub);
	ret = open_store(m);
	if (ret)
		goto out;
	ret = mgr_lead_init(m);
	if (ret)
		goto out;
	ret = setup_control(m);
	if (ret)
		goto out;
	ret = mgr_ctl_reload(m);
	if (ret)
		goto out;
	m->fd = rd_udp_socket(&c->control_addr, c->control_port, c->ifname);
	if (m->fd < 0) {
		ret = m->fd;
		rd_err("cannot bind %s:%u: %s", rd_ntop(&c->control_addr), c->control_port,
		       strerror(-ret));
		goto out;
	}
	{
		uint32_t session = m->link.session;

		rd_link_init(&m->link, m->fd, (int)c->retry_ms, 8, on_done);
		m->link.session = session;
		m->link.priv = m;
		m->link.max_queue = (size_t)c->peer_queue_kib * 1024;
		m->link.max_peers = MAX_PEERS;
	}
	m->limit.rate = c->request_rate;
	m->limit.burst = c->request_burst;
	if (c->control_port >= 1024)
		rd_warn("control-port %u is not privileged: a local user on a gateway host can "
			"send as that gateway while its daemon is down (Documentation/security.rst)",
			c->control_port);
	ret = setup_table(m);
	if (ret)
		goto out;
	mgr_lead_marks(m);
	mgr_evict_all(m);
	sfd = rd_signalfd();
	if (sfd < 0) {
		ret = sfd;
		goto out;
	}
	/* Without it `rosterd status` reads the state: a warning only. */
	if (ctl_sock_open(&ctl, c->state_dir, mgr_status_request, m, errbuf, sizeof(errbuf)))
		rd_warn("no control socket (rosterd status reads the state): %s", errbuf);
	rd_info("manager up: %s %s/%u listen-port %u, control %s:%u, key %s",
		c->ifname, rd_ntop(&c->control_addr), c->control_prefix.len, c->listen_port,
		rd_ntop(&c->control_addr), c->control_port, pub);

	int64_t next_ctl = rd_now_ms() + 1000;

	while (!stop) {
		struct pollfd pfd[5] = {
			{ .fd = m->fd, .events = POLLIN },
			{ .fd = roster_monitor_fd(m->mon), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = ctl_sock_fd(&ctl), .events = POLLIN },
		};
		int64_t now;
		int timeout;

		/* ACKs that queued up while a fan-out was being sent must be
		 * read before anything is declared due for retransmission. */
		recv_all(m);
		/* The requests just handled have their notifications queued
		 * already (the kernel sends them before it replies): commit
		 * them now, or under a steady stream of requests the store
		 * would always be one step behind the dumps and the lists
		 * waiting for it would never go. */
		read_events(m);
		now = rd_now_ms();
		/* Before any request: a lease renewed late is a lease lost. */
		timeout = mgr_lead_tick(m, now);
		timeout = min_timeout(timeout, mgr_lists_flush(m));
		now = rd_now_ms();
		timeout = min_timeout(timeout, rd_tick(&m->link, now));
		timeout = min_timeout(timeout, rd_metrics_timeout(mgr_metrics_tick(m, now), now));
		timeout = min_timeout(timeout, next_ctl > now ? (int)(next_ctl - now) : 0);
		timeout = min_timeout(timeout, rd_store_watch_poll(m->st, &pfd[4]));
		if (poll(pfd, 5, timeout) < 0) {
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
					rd_info("SIGHUP: reloading gateways, invitations and managers");
					mgr_ctl_reload(m);
					mgr_lead_poll(m, true);
					log_queues(m);
				} else {
					rd_info("signal %u: shutting down (tunnels stay up)", si.ssi_signo);
					stop = true;
				}
			}
		}
		/* Notifications first: they commit what the queued lists wait for. */
		if (pfd[1].revents & POLLIN)
			read_events(m);
		if (pfd[0].revents & POLLIN)
			recv_all(m);
		if (pfd[3].revents & POLLIN)
			ctl_sock_serve(&ctl);
		mgr_lead_watch(m, rd_store_watch_run(m->st, pfd[4].revents));
		if (rd_now_ms() >= next_ctl) {
			mgr_ctl_poll(m);
			/* The table's changes are the leader's to make. */
			if (mgr_leads(m)) {
				mgr_live_flush(m, (uint64_t)time(NULL));
				mgr_roam_tick(m);
				mgr_expire_tick(m, (uint64_t)time(NULL));
			}
			m->expired += rd_link_expire(&m->link, rd_now_ms(), PEER_IDLE_MS, keep_peer);
			next_ctl = rd_now_ms() + 1000;
		}
	}
	ret = 0;
	mgr_lead_stop(m);
	log_sent(m);
	log_queues(m);
out:
	mgr_metrics_stop(m);
	ctl_sock_close(&ctl);
	if (sfd >= 0)
		close(sfd);
	if (m->fd >= 0)
		close(m->fd);
	rd_link_free(&m->link);
	mgr_enrols_free(m);
	mgr_lists_free(m);
	mgr_live_free(m);
	mgr_roam_free(m);
	mgr_expire_free(m);
	if (m->mon)
		roster_monitor_close(m->mon);
	if (m->rh)
		roster_close(m->rh);
	if (m->st)
		rd_store_close(m->st);
	free(m->gws);
	free(m->inv);
	memset(m->priv, 0, sizeof(m->priv));
	return ret;
}
