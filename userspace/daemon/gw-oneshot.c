// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: the one-shot commands `rosterd redeem` (enrolment with
 * an invitation token) and `rosterd leave`, each a short exchange with a
 * manager on a link of its own. leave asks the managers of the set in
 * turn until one that leads answers: a silent one or a standby (EROFS)
 * passes it on, to the leader it names if it names one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
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
#include "gw-ctl.h"
#include "gw-failover.h"

/* The manager repeats ENROLLED up to 8 times, backing off to RD_RETRY_CAP_MS. */
#define ENROLL_WAIT_MS (8 * RD_RETRY_CAP_MS + 5000)

struct oneshot {
	struct rd_link link;
	struct rd_peer *mp;		/* the manager asked, at ... */
	struct roster_addr to;		/* ... this control address */
	const struct rd_identity *id;
	uint32_t req_seq;
	bool acked, answered, failed, gave_up;
	struct rd_msg reply;
};

static void oneshot_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	struct oneshot *o = l->priv;

	if (p != o->mp || pm->seq != o->req_seq)
		return;
	if (acked)
		o->acked = true;
	else
		o->gave_up = true;
}

static void oneshot_recv(struct oneshot *o, uint8_t want)
{
	for (;;) {
		_Alignas(8) uint8_t buf[65536];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(o->link.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct roster_addr a;
		struct rd_msg m;
		const char *why;

		if (n < 0)
			return;
		if (rd_from_sockaddr((struct sockaddr *)&from, &a, NULL) || !rd_addr_eq(&a, &o->to))
			continue;
		if (rd_msg_decode(buf, (size_t)n, &m, &why)) {
			rd_warn("ignoring malformed message from the manager: %s", why);
			continue;
		}
		if (m.type == RD_ACK) {
			rd_acked(&o->link, o->mp, m.ack);
		} else {
			int verdict = rd_window_check(&o->mp->win, m.session, m.seq);

			if (verdict != RD_WIN_STALE)
				rd_send_ack(&o->link, o->mp, m.seq);
			if (verdict == RD_WIN_NEW || verdict == RD_WIN_NEW_SESSION) {
				if (m.type == RD_ERROR && (!m.has_ref || m.ref_seq == o->req_seq)) {
					o->failed = true;
					rd_msg_release(&o->reply);
					o->reply = m;
					continue;
				}
				if (m.type == want) {
					o->answered = true;
					rd_msg_release(&o->reply);
					o->reply = m;
					continue;
				}
			}
		}
		rd_msg_release(&m);
	}
}

/* Run the link until pred holds or deadline (ms, absolute). */
static void oneshot_run(struct oneshot *o, uint8_t want, int64_t deadline,
			bool (*pred)(const struct oneshot *))
{
	while (!pred(o)) {
		int64_t now = rd_now_ms();
		int timeout = rd_tick(&o->link, now);
		struct pollfd pfd = { .fd = o->link.fd, .events = POLLIN };

		if (pred(o) || (deadline && now >= deadline) || (!deadline && timeout < 0))
			return;
		if (deadline && (timeout < 0 || deadline - now < timeout))
			timeout = (int)(deadline - now);
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			return;
		if (pfd.revents & POLLIN)
			oneshot_recv(o, want);
	}
}

static bool pred_answer(const struct oneshot *o)
{
	return o->answered || o->failed || o->gave_up;
}

static bool pred_acked(const struct oneshot *o)
{
	return o->acked || o->failed || o->gave_up;
}

static bool pred_failed(const struct oneshot *o)
{
	return o->failed;
}

static bool pred_never(const struct oneshot *o)
{
	(void)o;
	return false;
}

static int oneshot_open(struct oneshot *o, const struct rd_config *c, const struct rd_identity *id,
			int tries, bool privileged)
{
	int fd;

	memset(o, 0, sizeof(*o));
	o->id = id;
	/* leave: a privileged port other than control-port (a running
	 * `rosterd gateway` owns that), since the manager takes a gateway's
	 * requests only from privileged ports (manager.c). redeem: an
	 * ephemeral port, as ENROLL is taken from any port. A fixed one
	 * would be shared by two redeems of one token on two hosts (the
	 * same id), and the ENROLLED meant for one would reach the other. */
	fd = -EADDRINUSE;
	for (uint16_t port = 1023; privileged && port >= 600 && fd == -EADDRINUSE; port--)
		if (port != id->control_port)
			fd = rd_udp_socket(&id->id, port, c->ifname);
	if (fd < 0)
		fd = rd_udp_socket(&id->id, 0, c->ifname);
	if (fd < 0) {
		rd_err("cannot bind %s: %s", rd_ntop(&id->id), strerror(-fd));
		return fd;
	}
	rd_link_init(&o->link, fd, (int)c->retry_ms, tries, oneshot_done);
	/* A privileged port is the same on every run, so the manager may
	 * still hold the window of an earlier redeem or leave from it: only a
	 * session that grows across runs is taken as new, never as stale. */
	o->link.session = rd_session_next(c->state_dir);
	o->link.priv = o;
	o->mp = gw_ctl_manager(&o->link, id);
	o->to = id->control_addr;
	return o->mp ? 0 : -ENOMEM;
}

/* Ask manager i of the set from now on, afresh. */
static int oneshot_target(struct oneshot *o, unsigned int i)
{
	/* What the one before still retransmits would only confuse. */
	if (o->mp)
		rd_peer_flush(o->mp);
	o->mp = gw_ctl_peer(&o->link, o->id, i);
	o->to = o->id->managers[i].control_addr;
	o->acked = o->answered = o->failed = o->gave_up = false;
	rd_msg_release(&o->reply);
	memset(&o->reply, 0, sizeof(o->reply));
	return o->mp ? 0 : -ENOMEM;
}

static void oneshot_close(struct oneshot *o)
{
	close(o->link.fd);
	rd_link_free(&o->link);
	rd_msg_release(&o->reply);
}

/* ---- the token ----------------------------------------------------------- */

/* One line from fd into buf, without its line end and surrounding blanks;
 * anything after it but blanks is refused (a file of several tokens is a
 * mistake). */
static int token_from_fd(int fd, const char *what, char *buf, size_t len)
{
	size_t n = 0, b = 0, e;
	ssize_t r;

	while (n < len && (r = read(fd, buf + n, len - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rd_err("%s: cannot read the invitation token: %s", what, strerror(errno));
			return -errno;
		}
		n += (size_t)r;
		/* A terminal gives a line at a time: stop at its end. */
		if (isatty(fd) && memchr(buf, '\n', n))
			break;
	}
	if (n == len) {
		rd_err("%s: longer than an invitation token (%zu bytes at most)", what, len - 1);
		return -E2BIG;
	}
	buf[n] = 0;
	while (b < n && strchr(" \t\r\n", buf[b]))
		b++;
	for (e = b; e < n && !strchr(" \t\r\n", buf[e]); e++)
		;
	if (memchr(buf, 0, n)) {
		rd_err("%s: a NUL byte in the invitation token", what);
		return -EINVAL;
	}
	for (size_t i = e; i < n; i++)
		if (!strchr(" \t\r\n", buf[i])) {
			rd_err("%s: more than one invitation token", what);
			return -EINVAL;
		}
	if (b == e) {
		rd_err("%s: no invitation token", what);
		return -ENODATA;
	}
	memmove(buf, buf + b, e - b);
	buf[e - b] = 0;
	return 0;
}

int rd_redeem_token_read(const char *path, char *buf, size_t len)
{
	struct termios old, quiet;
	struct stat st;
	bool tty;
	int fd, ret;

	if (!path) {
		/* Typed on a terminal, the secret is not echoed either. */
		tty = isatty(0) && !tcgetattr(0, &old);
		if (tty) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(0, TCSAFLUSH, &quiet);
			fprintf(stderr, "invitation token: ");
			fflush(stderr);
		}
		ret = token_from_fd(0, "standard input", buf, len);
		if (tty) {
			tcsetattr(0, TCSAFLUSH, &old);
			fprintf(stderr, "\n");
		}
		return ret;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		rd_err("%s: cannot read the invitation token: %s", path, strerror(errno));
		return ret;
	}
	/* Checked on the open file, not the name: nothing can swap it in
	 * between. A token others can read may have been copied already. */
	if (fstat(fd, &st)) {
		ret = -errno;
		rd_err("%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rd_err("%s: not a regular file", path);
		ret = -EINVAL;
	} else if (st.st_mode & 077) {
		rd_err("%s: readable or writable by group or others (mode %04o): the token is a "
		       "secret, keep it in a mode 0600 file (chmod 600 %s) and invite again if "
		       "others could have read it", path, (unsigned int)(st.st_mode & 07777), path);
		ret = -EPERM;
	} else {
		ret = token_from_fd(fd, path, buf, len);
	}
	close(fd);
	return ret;
}

static void redeem_undo(const struct rd_config *c, bool had_if)
{
	if (!had_if)
		rd_wg_del(c->ifname);
}

/* One ENROLL{gateway key} over rctl0 set up with priv: ENROLLED's
 * reply in o->reply, 0 if answered; -EPERM refused, -ETIMEDOUT no
 * answer. Through the gateway's own key (privileged) the manager takes
 * it as an enrolled gateway's request: from a privileged port only. */
static int enroll_once(struct oneshot *o, const struct rd_config *c, const uint8_t *priv,
		       const struct rd_identity *id, bool privileged)
{
	struct rd_msg req = { .type = RD_ENROLL, .has_key = true };
	int ret;

	ret = gw_ctl_setup(c->ifname, priv, id);
	if (!ret)
		ret = oneshot_open(o, c, id, 8, privileged);
	if (ret)
		return ret;
	rd_wg_pubkey(req.key, id->private_key);
	o->req_seq = o->mp->next_seq;
	ret = rd_send(&o->link, o->mp, &req);
	/* The manager ACKs ENROLL and then sends ENROLLED in a datagram of its
	 * own, so "nothing left to retransmit" is no reason to stop: wait for
	 * the answer as long as the manager would keep repeating it. */
	if (!ret)
		oneshot_run(o, RD_ENROLLED, rd_now_ms() + ENROLL_WAIT_MS, pred_answer);
	if (o->answered)
		return 0;
	if (o->failed) {
		rd_err("the manager refused the enrolment: %s",
		       o->reply.text[0] ? o->reply.text : strerror((int)o->reply.err));
		ret = -EPERM;
	} else {
		ret = -ETIMEDOUT;
	}
	oneshot_close(o);
	return ret;
}

int rd_cmd_redeem(struct rd_config *c, const char *token)
{
	struct rd_token t;
	struct rd_identity id = { 0 }, old;
	struct oneshot o;
	const char *why;
	char ep[ROSTER_ADDR_STRLEN];
	bool had_old, had_if, resumed = false;
	int ret;

	if (rd_token_decode(token, &t, &why)) {
		rd_err("invalid invitation token: %s", why);
		return -EINVAL;
	}
	if (t.expiry <= (uint64_t)time(NULL)) {
		rd_err("invitation token expired (at %llu, now %llu)", (unsigned long long)t.expiry,
		       (unsigned long long)time(NULL));
		return -ETIME;
	}
	/* Enrolling again would take the running gateway's control tunnel
	 * over; the operator has to retire the old identity first. */
	had_old = !rd_identity_load(c->state_dir, &old);
	if (had_old) {
		rd_err("%s/identity: already enrolled as %s; to enrol again, stop 'rosterd "
		       "gateway' and remove that file first", c->state_dir, rd_ntop(&old.id));
		memset(&old, 0, sizeof(old));
		return -EEXIST;
	}
	/* A redeem for this id and manager that stopped before ENROLLED was
	 * saved: its key may be the one the manager holds (or is answering),
	 * so it is asked for again, not replaced. */
	if (!rd_identity_pending_load(c->state_dir, &old) && rd_addr_eq(&old.id, &t.id) &&
	    !memcmp(old.manager_key, t.manager_key, 32)) {
		memcpy(id.private_key, old.private_key, 32);
		resumed = true;
	} else {
		rd_wg_genkey(id.private_key);
	}
	memset(&old, 0, sizeof(old));
	id.id = t.id;
	id.prefixlen = t.prefixlen;
	memcpy(id.manager_key, t.manager_key, 32);
	id.manager_endpoint = t.manager_endpoint;
	id.manager_port = t.manager_port;
	id.control_addr = t.control_addr;
	id.control_port = t.control_port;
	rd_identity_single(&id);
	roster_endpoint_format(&t.manager_endpoint, t.manager_port, ep, sizeof(ep));
	/* On disk before the key leaves the host. */
	ret = rd_identity_pending_save(c->state_dir, &id);
	if (ret) {
		rd_err("%s/identity.pending: cannot save: %s", c->state_dir, strerror(-ret));
		return ret;
	}

	/* A failed redeem changes nothing: a control interface it created
	 * goes again. */
	had_if = rd_if_index(c->ifname) > 0;
	rd_info("enrolling as %s with the manager at %s%s", rd_ntop(&id.id), ep,
		resumed ? " (resuming an earlier redeem, same key)" : "");
	/* The control tunnel with the one-time invitation key. */
	ret = enroll_once(&o, c, t.invite_key, &id, false);
	/* No answer under the invitation key, after a redeem that stopped
	 * half way: the manager may have enrolled our key already (and
	 * dropped the invitation's), so ask through our own. */
	if (ret == -ETIMEDOUT && resumed) {
		rd_info("no answer with the invitation key; asking with the gateway key");
		ret = enroll_once(&o, c, id.private_key, &id, true);
	}
	if (ret) {
		if (ret == -ETIMEDOUT)
			rd_err("no answer from the manager at %s: the invitation is already used, "
			       "expired or revoked, or the manager is down", ep);
		redeem_undo(c, had_if);
		memset(&t, 0, sizeof(t));
		memset(&id, 0, sizeof(id));
		return ret;
	}
	/* The store the manager's membership comes from: the gateway obeys
	 * "not a member" only from it (gw-view.c). A manager of an earlier
	 * version sends none; the first JOIN or LIST then teaches it. */
	if (o.reply.has_store_id) {
		id.has_store_id = true;
		memcpy(id.store_id, o.reply.store_id, sizeof(id.store_id));
	}
	/* Every manager of the cluster, so that the gateway can follow its
	 * leader; a manager of an earlier version names none. */
	if (o.reply.n_members) {
		struct rd_manager set[RD_MANAGERS_MAX];
		unsigned int n = 0;

		if (rd_managers_from_members(&id, o.reply.members, o.reply.n_members, set, &n, &why)) {
			rd_warn("the cluster's managers in ENROLLED: %s; knowing only the one at %s",
				why, ep);
		} else {
			memcpy(id.managers, set, sizeof(set));
			id.n_managers = n;
		}
	}
	/* Saved at once: the manager may commit the enrolment on our ACK. */
	ret = rd_identity_pending_commit(c->state_dir, &id);
	if (ret) {
		rd_err("%s: cannot save identity: %s", c->state_dir, strerror(-ret));
		oneshot_close(&o);
		return ret;
	}
	/* Linger so a lost ACK of ENROLLED can be repeated. */
	oneshot_run(&o, 0, rd_now_ms() + 2 * (int64_t)c->retry_ms + 500, pred_never);
	oneshot_close(&o);
	ret = gw_ctl_setup(c->ifname, id.private_key, &id);
	if (!ret)
		rd_info("enrolled as %s; start 'rosterd gateway'", rd_ntop(&id.id));
	memset(&t, 0, sizeof(t));
	memset(&id, 0, sizeof(id));
	return ret;
}

/* The manager to ask after i of the set: the leader a standby named, if
 * not asked yet, else the next not asked yet in the set's order; -1 if
 * every one was. */
static int next_manager(const struct rd_identity *id, unsigned int i, int leader,
			const bool *asked)
{
	if (leader >= 0 && !asked[leader])
		return leader;
	for (unsigned int k = 1; k < id->n_managers; k++) {
		unsigned int j = (i + k) % id->n_managers;

		if (!asked[j])
			return (int)j;
	}
	return -1;
}

int rd_cmd_leave(struct rd_config *c, uint32_t vpn)
{
	struct rd_identity id;
	struct oneshot o;
	bool asked[RD_MANAGERS_MAX] = { false };
	unsigned int i;
	int ret, next;

	ret = rd_identity_load(c->state_dir, &id);
	if (ret) {
		rd_err("%s/identity: %s", c->state_dir, ret == -ENOENT ? "not enrolled" : strerror(-ret));
		return ret;
	}
	/* One manager: it is asked as long as ever. Several: each as long as
	 * the daemon waits for one before it moves on (gw-failover.h). */
	ret = oneshot_open(&o, c, &id, id.n_managers > 1 ? GW_FAILOVER_RETRANSMITS + 1 : 6, true);
	if (ret)
		return ret;
	for (i = gw_ctl_first(&id);; i = (unsigned int)next) {
		struct rd_msg req = { .type = RD_LEAVE_REQ, .has_vpn = true, .vpn = vpn };
		int leader = -1;

		asked[i] = true;
		ret = oneshot_target(&o, i);
		if (ret)
			break;
		/* The daemon may be running: one counter orders both. */
		o.req_seq = o.mp->next_seq;
		ret = rd_send(&o.link, o.mp, &req);
		if (ret)
			break;
		oneshot_run(&o, 0, 0, pred_acked);
		/* The manager ACKs first, then sends ERROR if the leave failed. */
		if (o.acked && !o.failed)
			oneshot_run(&o, 0, rd_now_ms() + 300 + (int64_t)c->retry_ms, pred_failed);
		if (o.failed && o.reply.err == EROFS) {
			leader = o.reply.has_dev ? rd_identity_manager(&id, &o.reply.dev) : -1;
			rd_warn("vpn %u: manager %s is a standby: %s", vpn, rd_ntop(&o.to),
				o.reply.text[0] ? o.reply.text : "-");
		} else if (!o.acked && !o.failed && id.n_managers > 1) {
			rd_warn("vpn %u: no answer from manager %s", vpn, rd_ntop(&o.to));
		} else {
			break;
		}
		next = next_manager(&id, i, leader, asked);
		if (next < 0)
			break;
	}
	if (ret) {
		rd_err("vpn %u: %s", vpn, strerror(-ret));
	} else if (o.failed) {
		rd_err("vpn %u: the manager refused: %s", vpn,
		       o.reply.text[0] ? o.reply.text : strerror((int)o.reply.err));
		ret = -EPERM;
	} else if (!o.acked) {
		rd_err("vpn %u: no answer from the manager", vpn);
		ret = -ETIMEDOUT;
	} else {
		rd_info("vpn %u: left", vpn);
		ret = 0;
	}
	oneshot_close(&o);
	memset(&id, 0, sizeof(id));
	return ret;
}
