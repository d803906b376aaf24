// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager unit tests, with no kernel: the restart rule (which of
 * roster.ko and the store wins), and the fan-out of notifications through
 * a real store in a scratch directory to gateways that are UDP sockets on
 * loopback. KTAP on stdout; exit status non-zero if any test failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mgr.h"
#include "proto.h"
#include "rel.h"
#include "store.h"
#include "util.h"

#include "unit.h"

static struct roster_member member(unsigned int n)
{
	struct roster_member m = { .has_key = true, .n_prefixes = 1 };

	roster_addr_parse("127.0.0.1", &m.id);
	m.id.addr[3] = (uint8_t)n;
	memset(m.key, (int)n, 32);
	roster_prefix_parse("10.0.0.0/24", &m.prefixes[0], NULL);
	m.prefixes[0].addr.addr[1] = (uint8_t)n;
	m.join_generation = n;
	return m;
}

static void t_verdict(void)
{
	EXPECT(mgr_verdict(5, 5, true) == MGR_SAME);
	EXPECT(mgr_verdict(5, 5, false) == MGR_STORE_WINS);
	EXPECT(mgr_verdict(6, 5, true) == MGR_KERNEL_WINS);
	EXPECT(mgr_verdict(6, 5, false) == MGR_KERNEL_WINS);
	EXPECT(mgr_verdict(4, 5, true) == MGR_STORE_WINS);
	/* lost table (reboot, rmmod): restored */
	EXPECT(mgr_verdict(0, 5, false) == MGR_STORE_WINS);
	/* made by hand while the daemon was down: committed */
	EXPECT(mgr_verdict(3, 0, false) == MGR_KERNEL_WINS);
	EXPECT(mgr_verdict(0, 0, true) == MGR_SAME);
}

static void t_same_members(void)
{
	struct roster_member a[3] = { member(2), member(3), member(4) };
	struct roster_member b[3] = { member(4), member(2), member(3) };

	EXPECT(mgr_same_members(a, 3, b, 3));
	EXPECT(mgr_same_members(a, 0, b, 0));
	EXPECT(!mgr_same_members(a, 3, b, 2));
	b[1].port = 1;
	b[1].has_endpoint = true;
	EXPECT(!mgr_same_members(a, 3, b, 3));
	b[1] = member(2);
	b[1].key[0] ^= 1;
	EXPECT(!mgr_same_members(a, 3, b, 3));
	b[1] = member(2);
	b[1].join_generation++;
	EXPECT(!mgr_same_members(a, 3, b, 3));
	b[1] = member(2);
	roster_prefix_parse("10.9.0.0/24", &b[1].prefixes[0], NULL);
	EXPECT(!mgr_same_members(a, 3, b, 3));
}

/* ---- fan-out through a store ---------------------------------------- */

#define NGW 3
static char dir[64];
static struct rd_config conf;
static struct mgr m;
static int gw_fd[NGW + 2];	/* gateway n listens on 127.0.0.n */

static int udp_on(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return fd;
}

static int setup(void)
{
	char err[256];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	snprintf(dir, sizeof(dir), "/tmp/mgr-test.XXXXXX");
	if (!mkdtemp(dir) || rd_store_open(dir, &m.st, err, sizeof(err)))
		return -1;
	memcpy(m.store_id, rd_store_identity(m.st), RD_STORE_ID_LEN);
	m.c = &conf;
	m.fd = udp_on("127.0.0.1", 0);
	if (m.fd < 0 || getsockname(m.fd, (struct sockaddr *)&sa, &sl))
		return -1;
	/* The gateways' control port: any free one, the same for all. */
	gw_fd[2] = udp_on("127.0.0.2", 0);
	if (gw_fd[2] < 0 || getsockname(gw_fd[2], (struct sockaddr *)&sa, &sl))
		return -1;
	conf.control_port = ntohs(sa.sin_port);
	for (unsigned int n = 3; n < NGW + 2; n++) {
		char a[16];

		snprintf(a, sizeof(a), "127.0.0.%u", n);
		gw_fd[n] = udp_on(a, conf.control_port);
		if (gw_fd[n] < 0)
			return -1;
	}
	rd_link_init(&m.link, m.fd, 1000, 8, NULL);
	m.link.priv = &m;
	/* Enrol gateways 2..NGW+1 through the store's own path. */
	for (unsigned int n = 2; n < NGW + 2; n++) {
		struct rd_entry inv = { .n_vpns = 1, .vpns = { 7 }, .expiry = 4000000000u };
		struct roster_member mb = member(n);
		uint8_t old[32];
		bool had;

		inv.id = mb.id;
		memset(inv.key, 0x40 + (int)n, 32);
		if (rd_store_invite_put(m.st, &inv, NULL, 0, NULL))
			return -1;
		inv.expiry = 0;
		memcpy(inv.key, mb.key, 32);
		{
			uint8_t ik[32];

			memset(ik, 0x40 + (int)n, 32);
			if (rd_store_enrol(m.st, &inv, ik, old, &had))
				return -1;
		}
	}
	if (rd_store_gateways(m.st, &m.gws, &m.ngws) || m.ngws != NGW)
		return -1;
	return 0;
}

/* Everything gateway n received, decoded; returns the count. */
static unsigned int drain(unsigned int n, struct rd_msg *out, unsigned int max)
{
	unsigned int k = 0;

	for (;;) {
		_Alignas(8) uint8_t buf[RD_MSG_MAX];
		struct pollfd pfd = { .fd = gw_fd[n], .events = POLLIN };
		ssize_t len;
		struct rd_msg msg;
		const char *why;

		if (poll(&pfd, 1, 50) <= 0)
			break;
		len = recv(gw_fd[n], buf, sizeof(buf), 0);
		if (len <= 0 || rd_msg_decode(buf, (size_t)len, &msg, &why))
			break;
		if (k < max)
			out[k++] = msg;
		else
			rd_msg_release(&msg);
	}
	return k;
}

static void drain_all(void)
{
	struct rd_msg msg[8];

	for (unsigned int n = 2; n < NGW + 2; n++)
		for (unsigned int k = drain(n, msg, 8); k; k--)
			rd_msg_release(&msg[k - 1]);
}

static void t_fanout(void)
{
	struct roster_event ev = { .type = ROSTER_EVENT_VPN_NEW, .vpn_id = 7, .generation = 1 };
	struct rd_msg msg[8];
	struct rd_store_vpn v;
	unsigned int k;
	uint64_t gen;

	EXPECT(!mgr_on_event(&ev, &m));
	EXPECT(!rd_store_vpn_generation(m.st, 7, &gen) && gen == 1);
	/* gateways 2, 3, 4 join at generations 2, 3, 4 */
	for (unsigned int n = 2; n < NGW + 2; n++) {
		ev.type = ROSTER_EVENT_MEMBER_JOINED;
		ev.generation = n;
		ev.has_member = true;
		ev.member = member(n);
		EXPECT(!mgr_on_event(&ev, &m));
		EXPECT(!rd_store_vpn_generation(m.st, 7, &gen) && gen == n);
	}
	/* gateway 2 heard of 3 and 4; 4 of nobody (it joins last) */
	k = drain(2, msg, 8);
	EXPECT(k == 2);
	for (unsigned int i = 0; i < k; i++) {
		EXPECT(msg[i].type == RD_NOTIFY && msg[i].vpn == 7 && msg[i].gen == 3 + i);
		EXPECT(msg[i].has_store_id && !memcmp(msg[i].store_id, m.store_id, 16));
		EXPECT(msg[i].n_members == 1 && msg[i].members[0].id.addr[3] == 3 + i);
		rd_msg_release(&msg[i]);
	}
	k = drain(4, msg, 8);
	EXPECT(k == 0);
	drain_all();

	/* an echo (a restore at the store's generation) is neither
	 * committed again nor fanned out */
	ev.generation = 4;
	ev.change_flags = ROSTER_CHANGE_F_STAMPED | ROSTER_CHANGE_F_RESYNC;
	EXPECT(!mgr_on_event(&ev, &m));
	EXPECT(!rd_store_vpn_generation(m.st, 7, &gen) && gen == 4);
	for (unsigned int n = 2; n < NGW + 2; n++)
		EXPECT(drain(n, msg, 8) == 0);

	/* 3 leaves at 5: 2 and 4 get REMOVE, 3 waits for its list */
	ev.change_flags = 0;
	ev.type = ROSTER_EVENT_MEMBER_LEFT;
	ev.generation = 5;
	ev.member = member(3);
	EXPECT(!mgr_on_event(&ev, &m));
	EXPECT(!rd_store_vpn_get(m.st, 7, &v));
	EXPECT(v.generation == 5 && v.n == 2);
	rd_store_vpn_release(&v);
	for (unsigned int n = 2; n < NGW + 2; n += 2) {
		k = drain(n, msg, 8);
		EXPECT(k == 1 && msg[0].type == RD_REMOVE && msg[0].gen == 5 &&
		       msg[0].dev.addr[3] == 3);
		while (k)
			rd_msg_release(&msg[--k]);
	}
	EXPECT(drain(3, msg, 8) == 0);
	EXPECT(m.nlists == 1);
	mgr_lists_free(&m);
}

/* ---- the packet path: ports, rate, peer bound ------------------------ */

static struct sockaddr_storage addr_of(unsigned int n, uint16_t port, socklen_t *len)
{
	struct sockaddr_storage ss;
	struct roster_addr a = member(n).id;

	*len = rd_sockaddr(&a, port, &ss);
	return ss;
}

/* A SYNC_REQ (no generation: it always earns a list) from 127.0.0.n:port. */
static void sync_req(unsigned int n, uint16_t port, uint32_t seq)
{
	struct rd_msg msg = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = 7, .seq = seq,
			      .has_session = true, .session = 77 };
	uint8_t buf[RD_MSG_MAX];
	socklen_t sl;
	struct sockaddr_storage from = addr_of(n, port, &sl);
	int len = rd_msg_encode(&msg, buf, sizeof(buf));

	EXPECT(len > 0);
	if (len > 0)
		mgr_handle_packet(&m, buf, (size_t)len, (struct sockaddr *)&from, sl);
}

static unsigned int count_type(const struct rd_msg *msg, unsigned int k, uint8_t type)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < k; i++)
		c += msg[i].type == type;
	return c;
}

static void release_all(struct rd_msg *msg, unsigned int k)
{
	while (k)
		rd_msg_release(&msg[--k]);
}

/* A local user on a gateway host sends from an unprivileged port: its
 * request is dropped unanswered; the daemon's, from the control port, is
 * taken. */
static void t_ports(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int user = udp_on("127.0.0.2", 0);
	struct rd_msg msg[8];
	unsigned int k;

	drain_all();
	mgr_lists_free(&m);
	EXPECT(user >= 0 && !getsockname(user, (struct sockaddr *)&sa, &sl));
	EXPECT(ntohs(sa.sin_port) >= 1024 && ntohs(sa.sin_port) != conf.control_port);
	sync_req(2, ntohs(sa.sin_port), 1);
	EXPECT(m.nlists == 0);
	{
		_Alignas(8) uint8_t buf[RD_MSG_MAX];
		struct pollfd pfd = { .fd = user, .events = POLLIN };

		EXPECT(poll(&pfd, 1, 50) == 0);	/* not even an ACK */
		(void)buf;
	}
	close(user);
	sync_req(2, conf.control_port, 1);
	EXPECT(m.nlists == 1);
	k = drain(2, msg, 8);
	EXPECT(k == 1 && msg[0].type == RD_ACK && msg[0].ack == 1);
	release_all(msg, k);
	mgr_lists_free(&m);
}

/* 20 requests against a bucket of 5 refilling at 1/s: 5 are ACKed and
 * handled, 15 dropped without an ACK (the gateway retransmits them),
 * reported once in an ERROR; a duplicate costs no token. */
static void t_rate(void)
{
	struct rd_msg msg[32];
	unsigned int k;

	drain_all();
	m.limit = (struct mgr_limit){ .rate = 1, .burst = 5 };
	m.refused_requests = 0;
	for (uint32_t seq = 1; seq <= 20; seq++)
		sync_req(3, conf.control_port, seq);
	EXPECT(m.refused_requests == 15);
	k = drain(3, msg, 32);
	EXPECT(count_type(msg, k, RD_ACK) == 5);
	EXPECT(count_type(msg, k, RD_ERROR) == 1);
	for (unsigned int i = 0; i < k; i++)
		if (msg[i].type == RD_ERROR)
			EXPECT(strstr(msg[i].text, "request rate over 1/s (burst 5): 1 request(s) dropped") &&
			       !msg[i].has_ref);
	release_all(msg, k);
	sync_req(3, conf.control_port, 1);
	EXPECT(m.refused_requests == 15);
	k = drain(3, msg, 32);
	EXPECT(k == 1 && msg[0].type == RD_ACK && msg[0].ack == 1);
	release_all(msg, k);
	/* gateway 4 has a bucket of its own */
	sync_req(4, conf.control_port, 1);
	EXPECT(m.refused_requests == 15);
	m.limit = (struct mgr_limit){ 0 };
	mgr_lists_free(&m);
	drain_all();
}

/* rd_peer_get fails (the peer bound stands in for malloc): nothing on the
 * packet path may use the NULL. */
static void t_no_peer(void)
{
	struct rd_msg msg[8];
	struct rd_msg n = { .type = RD_NOTIFY, .has_vpn = true, .vpn = 7 };
	struct roster_addr id3 = member(3).id;

	rd_link_free(&m.link);
	rd_link_init(&m.link, m.fd, 1000, 8, NULL);
	m.link.priv = &m;
	m.link.max_peers = 1;
	m.limit = (struct mgr_limit){ .rate = 10, .burst = 10 };
	/* its own record is made, its gateway's control endpoint's is not */
	sync_req(4, 700, 1);
	EXPECT(m.link.npeers == 1 && m.nlists == 0);
	/* no record at all */
	sync_req(3, conf.control_port, 1);
	EXPECT(m.link.npeers == 1 && m.nlists == 0);
	EXPECT(mgr_gw_peer(&m, &id3) == NULL);
	EXPECT(mgr_send(&m, mgr_gw_peer(&m, &id3), &n) == -ENOMEM);
	mgr_send_error(&m, NULL, 1, EPERM, "x");
	EXPECT(drain(3, msg, 8) == 0);
	m.link.max_peers = 0;
	m.limit = (struct mgr_limit){ 0 };
}

/* Every role and outcome: a leader keeps its role only on a renewed
 * lease with no commit fenced since; a standby leads only when it holds
 * the lease. */
static void t_lead_decide(void)
{
	for (int stale = 0; stale < 2; stale++) {
		EXPECT(mgr_lead_decide(MGR_LEADER, 0, true, false, stale) == MGR_LEAD_STAY);
		EXPECT(mgr_lead_decide(MGR_LEADER, 0, false, false, stale) == MGR_LEAD_DEMOTE);
		EXPECT(mgr_lead_decide(MGR_LEADER, 0, true, true, stale) == MGR_LEAD_DEMOTE);
		EXPECT(mgr_lead_decide(MGR_LEADER, -ETIMEDOUT, false, true, stale) ==
		       MGR_LEAD_DEMOTE);
		EXPECT(mgr_lead_decide(MGR_STANDBY, 0, true, false, stale) == MGR_LEAD_PROMOTE);
		EXPECT(mgr_lead_decide(MGR_STANDBY, 0, false, false, stale) == MGR_LEAD_STAY);
		EXPECT(mgr_lead_decide(MGR_STANDBY, -EIO, true, false, stale) == MGR_LEAD_STAY);
		EXPECT(mgr_lead_decide(MGR_STANDBY, 0, true, true, stale) == MGR_LEAD_STAY);
	}
	/* etcd unanswered: the leader leads on while its lease surely runs */
	EXPECT(mgr_lead_decide(MGR_LEADER, -ETIMEDOUT, false, false, false) == MGR_LEAD_STAY);
	EXPECT(mgr_lead_decide(MGR_LEADER, -ETIMEDOUT, false, false, true) == MGR_LEAD_DEMOTE);
}

/* A standby ACKs a request and answers EROFS naming the leader and its
 * control address; it queues nothing. A key rotation gets no ACK (the
 * gateway would switch keys on it). Its kernel's own changes commit
 * nothing; only those by hand (not a copy) call for a new copy. */
static void t_standby(void)
{
	struct rd_msg msg[8];
	struct rd_msg rot = { .type = RD_ROTATE, .has_key = true, .seq = 40,
			      .has_session = true, .session = 77 };
	struct roster_event ev = { .type = ROSTER_EVENT_MEMBER_JOINED, .vpn_id = 7,
				   .has_member = true, .member = member(5) };
	struct roster_addr leader_ctl;
	uint64_t before = 0, after = 0;
	uint8_t buf[RD_MSG_MAX];
	struct sockaddr_storage from;
	socklen_t sl;
	unsigned int k;
	int len;

	drain_all();
	mgr_lists_free(&m);
	roster_addr_parse("10.255.0.2", &leader_ctl);
	m.lead.role = MGR_STANDBY;
	snprintf(m.lead.leader, sizeof(m.lead.leader), "m2");
	m.lead.nset = 1;
	snprintf(m.lead.set[0].name, sizeof(m.lead.set[0].name), "m2");
	m.lead.set[0].control_addr = leader_ctl;
	sync_req(4, conf.control_port, 30);
	EXPECT(m.nlists == 0);
	k = drain(4, msg, 8);
	EXPECT(k == 2 && msg[0].type == RD_ACK && msg[0].ack == 30);
	EXPECT(k == 2 && msg[1].type == RD_ERROR && msg[1].err == EROFS && msg[1].has_ref &&
	       msg[1].ref_seq == 30 && !strcmp(msg[1].text, "standby: the leader is m2") &&
	       msg[1].has_dev && rd_addr_eq(&msg[1].dev, &leader_ctl));
	release_all(msg, k);
	memset(rot.key, 0x77, 32);
	from = addr_of(4, conf.control_port, &sl);
	len = rd_msg_encode(&rot, buf, sizeof(buf));
	EXPECT(len > 0);
	if (len > 0)
		mgr_handle_packet(&m, buf, (size_t)len, (struct sockaddr *)&from, sl);
	k = drain(4, msg, 8);
	EXPECT(k == 1 && msg[0].type == RD_ERROR && msg[0].err == EROFS && msg[0].ref_seq == 40);
	release_all(msg, k);
	/* no leader known: no address, and the text says so */
	m.lead.leader[0] = '\0';
	sync_req(4, conf.control_port, 31);
	k = drain(4, msg, 8);
	EXPECT(k == 2 && msg[1].type == RD_ERROR && msg[1].err == EROFS && !msg[1].has_dev &&
	       strstr(msg[1].text, "no manager leads"));
	release_all(msg, k);
	EXPECT(rd_store_vpn_generation(m.st, 7, &before) == 0);
	ev.generation = before + 1;
	m.lead.follow_due = false;
	ev.change_flags = ROSTER_CHANGE_F_STAMPED | ROSTER_CHANGE_F_RESYNC;
	mgr_on_event(&ev, &m);
	EXPECT(!m.lead.follow_due);
	ev.change_flags = 0;
	mgr_on_event(&ev, &m);
	EXPECT(m.lead.follow_due);
	EXPECT(rd_store_vpn_generation(m.st, 7, &after) == 0 && after == before);
	EXPECT(drain(2, msg, 8) == 0 && drain(3, msg, 8) == 0);
	m.lead = (struct mgr_lead){ 0 };
	mgr_lists_free(&m);
}

/* [manager] name and lease-ttl: defaults, bounds, and the characters a
 * store key and a log word can hold. */
static void t_lead_config(void)
{
	struct rd_config c;
	char err[256];

	EXPECT(!rd_config_parse("[manager]\ncontrol-address = 10.255.0.3\n", RD_ROLE_MANAGER, &c,
				err, sizeof(err)));
	EXPECT(!strcmp(c.name, "10.255.0.3") && c.lease_ttl == RD_LEASE_TTL_DEFAULT);
	EXPECT(!rd_config_parse("[manager]\nname = m-1.a_b:c\nlease-ttl = 2\n", RD_ROLE_MANAGER,
				&c, err, sizeof(err)));
	EXPECT(!strcmp(c.name, "m-1.a_b:c") && c.lease_ttl == 2);
	EXPECT(!rd_config_parse("[manager]\nlease-ttl = 1m\n", RD_ROLE_MANAGER, &c, err,
				sizeof(err)) && c.lease_ttl == 60);
	EXPECT(rd_config_parse("[manager]\nlease-ttl = 1\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == -EINVAL && strstr(err, "lease-ttl: expected 2..60"));
	EXPECT(rd_config_parse("[manager]\nlease-ttl = 61\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == -EINVAL);
	EXPECT(rd_config_parse("[manager]\nname = a/b\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == -EINVAL && strstr(err, "name: expected"));
	EXPECT(rd_config_parse("[manager]\nname = a b\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == -EINVAL);
	EXPECT(rd_config_parse("[manager]\nname = "
			       "0123456789012345678901234567890123456789012345678901234567890123\n",
			       RD_ROLE_MANAGER, &c, err, sizeof(err)) == -EINVAL);
}

int main(void)
{
	rd_log_level = RD_LOG_ERROR;
	printf("KTAP version 1\n1..9\n");
	run("restart rule: higher generation wins, store at a tie", t_verdict);
	run("[manager] name and lease-ttl: defaults, bounds, characters", t_lead_config);
	run("member sets compare every field roster.ko keeps", t_same_members);
	if (setup()) {
		printf("# setup failed: %s\n", strerror(errno));
		printf("not ok 4 - fan-out\n");
		return 1;
	}
	run("notifications are committed, then fanned out; echoes are not", t_fanout);
	run("requests only from privileged ports: a local user's are dropped", t_ports);
	run("requests per gateway are rate-limited, reported in one ERROR", t_rate);
	run("no peer record (allocation failure): dropped, no crash", t_no_peer);
	run("leadership: every role and campaign outcome", t_lead_decide);
	run("a standby refuses requests naming the leader, and commits nothing", t_standby);
	rd_link_free(&m.link);
	close(m.fd);
	for (unsigned int n = 2; n < NGW + 2; n++)
		close(gw_fd[n]);
	free(m.gws);
	rd_store_close(m.st);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			return 1;
	}
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
