// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Key rotation unit tests: RD_ROTATE's codec, key-lifetime, the pending
 * key file, the members' re-keyed peer rule, the gateway's rotation
 * (announce, switch on the ACK, the other key on a give-up, a refusal,
 * a crash after the switch) against a fake manager on loopback, and the
 * manager's packet path through a real store (a refused key is never
 * acknowledged). Runs in a network namespace of its own when it can, so
 * that the interfaces the gateway's code sets up are never the host's.
 * KTAP on stdout; exit status non-zero if any test failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "config.h"
#include "gw-ctl.h"
#include "gw-rotate.h"
#include "mgr.h"
#include "mgr-rotate.h"
#include "netif.h"
#include "proto.h"
#include "rel.h"
#include "state.h"
#include "store.h"
#include "util.h"

#include "unit.h"

static char dir[64];

static int udp_on(const char *addr, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	if (bound)
		*bound = ntohs(sa.sin_port);
	return fd;
}

/* The next message on fd, decoded (type 0: none within 100 ms). */
static struct rd_msg next_msg(int fd)
{
	_Alignas(8) uint8_t buf[RD_MSG_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct rd_msg m = { 0 };
	const char *why;
	ssize_t len;

	if (poll(&pfd, 1, 100) <= 0)
		return m;
	len = recv(fd, buf, sizeof(buf), 0);
	if (len <= 0 || rd_msg_decode(buf, (size_t)len, &m, &why))
		memset(&m, 0, sizeof(m));
	return m;
}

/* ---- codec and configuration ----------------------------------------- */

static void t_proto(void)
{
	struct rd_msg m = { .type = RD_ROTATE, .seq = 3, .has_session = true, .session = 9,
			    .has_key = true }, d;
	uint8_t buf[RD_MSG_MAX];
	const char *why;
	int len;

	EXPECT(RD_ROTATE == 12);
	EXPECT(!strcmp(rd_type_name(RD_ROTATE), "ROTATE"));
	memset(m.key, 0x5a, 32);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0);
	EXPECT(len > 0 && !rd_msg_decode(buf, (size_t)len, &d, &why));
	EXPECT(d.type == RD_ROTATE && d.has_key && d.key[31] == 0x5a && d.session == 9);
	rd_msg_release(&d);
	/* without the key: refused */
	m.has_key = false;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == -EINVAL);
	/* nothing else belongs in it */
	m.has_key = m.has_vpn = true;
	m.vpn = 7;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == -EINVAL);
}

static void t_config(void)
{
	static struct rd_config c;
	char err[256];

	EXPECT(!rd_config_parse("[gateway]\n", RD_ROLE_GATEWAY, &c, err, sizeof(err)) &&
	       c.key_lifetime == 0);
	EXPECT(!rd_config_parse("[gateway]\nkey-lifetime = 30d\n", RD_ROLE_GATEWAY, &c, err,
				sizeof(err)) && c.key_lifetime == 30ul * 86400);
	EXPECT(!rd_config_parse("[gateway]\nkey-lifetime = 90\n", RD_ROLE_GATEWAY, &c, err,
				sizeof(err)) && c.key_lifetime == 90);
	EXPECT(!rd_config_parse("[gateway]\nkey-lifetime = 2h\n", RD_ROLE_GATEWAY, &c, err,
				sizeof(err)) && c.key_lifetime == 7200);
	EXPECT(!rd_config_parse("[gateway]\nkey-lifetime = off\n", RD_ROLE_GATEWAY, &c, err,
				sizeof(err)) && c.key_lifetime == 0);
	EXPECT(rd_config_parse("[gateway]\nkey-lifetime = 9s\n", RD_ROLE_GATEWAY, &c, err,
			       sizeof(err)) == -EINVAL && strstr(err, "key-lifetime"));
	EXPECT(rd_config_parse("[gateway]\nkey-lifetime = 3651d\n", RD_ROLE_GATEWAY, &c, err,
			       sizeof(err)) == -EINVAL);
	EXPECT(rd_config_parse("[gateway]\nkey-lifetime = 1w\n", RD_ROLE_GATEWAY, &c, err,
			       sizeof(err)) == -EINVAL);
	EXPECT(rd_config_parse("[gateway]\nkey-lifetime = d\n", RD_ROLE_GATEWAY, &c, err,
			       sizeof(err)) == -EINVAL);
	EXPECT(rd_config_parse("[manager]\nkey-lifetime = 1d\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == -EINVAL);
}

/* ---- the pending key ----------------------------------------------------- */

static void t_next_file(void)
{
	struct gw_next n = { 0 }, r;
	char path[128];
	struct stat st;
	FILE *f;

	EXPECT(gw_next_load(dir, &r) == -ENOENT);
	memset(n.priv, 7, 32);
	EXPECT(!gw_next_save(dir, &n));
	snprintf(path, sizeof(path), "%s/%s", dir, GW_ROTATE_NEXT);
	EXPECT(!stat(path, &st) && (st.st_mode & 0777) == 0600);
	EXPECT(!gw_next_load(dir, &r) && !memcmp(r.priv, n.priv, 32) && !r.refused);
	n.refused = true;
	snprintf(n.why, sizeof(n.why), "the key was revoked");
	EXPECT(!gw_next_save(dir, &n));
	EXPECT(!gw_next_load(dir, &r) && r.refused && !strcmp(r.why, "the key was revoked"));
	f = fopen(path, "w");
	if (f) {
		fputs("private-key nonsense\n", f);
		fclose(f);
	}
	EXPECT(gw_next_load(dir, &r) == -EINVAL);
	EXPECT(!gw_next_remove(dir) && gw_next_load(dir, &r) == -ENOENT);
	EXPECT(!gw_next_remove(dir));
}

/* ---- the members' side ---------------------------------------------------- */

static void t_replaced(void)
{
	struct roster_prefix a, b;
	struct rd_wg_peer have[2] = { 0 }, d[4] = { 0 };
	unsigned int idx[4];

	roster_prefix_parse("10.1.0.0/24", &a, NULL);
	roster_prefix_parse("10.2.0.0/24", &b, NULL);
	memset(have[0].key, 1, 32);
	have[0].allowed = &a;
	have[0].n_allowed = 1;
	memset(have[1].key, 2, 32);
	have[1].allowed = &b;
	have[1].n_allowed = 1;
	/* site 1's key 1 -> 3: replaced */
	memset(d[0].key, 3, 32);
	d[0].allowed = &a;
	d[0].n_allowed = 1;
	memset(d[1].key, 1, 32);
	d[1].remove = true;
	EXPECT(gw_rotate_replaced(have, 2, d, 2, idx) == 1 && idx[0] == 0);
	/* a newcomer with other allowed-ips is not (a formation starts no
	 * handshakes) */
	d[0].allowed = &b;
	EXPECT(gw_rotate_replaced(have, 2, d, 2, idx) == 0);
	/* nor a new peer when nothing is removed */
	d[0].allowed = &a;
	EXPECT(gw_rotate_replaced(have, 2, d, 1, idx) == 0);
	/* nor a change of an existing peer (its endpoint, say) */
	memset(d[0].key, 1, 32);
	d[1].remove = true;
	memset(d[1].key, 2, 32);
	EXPECT(gw_rotate_replaced(have, 2, d, 2, idx) == 0);
}

/* ---- the gateway's rotation ----------------------------------------------- */

static struct rd_config gc;
static struct rd_identity gid;
static uint8_t gpub[32];
static struct gw_wg gwg;
static struct rd_link glink;
static struct gw_rotate rot;
static int mgr_fd;

static void g_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	(void)l;
	(void)p;
	gw_rotate_done(&rot, pm, acked);
}

static const struct rd_pending *pending_rotate(void)
{
	for (const struct rd_pending *pm = rot.mp->q; pm; pm = pm->next)
		if (pm->type == RD_ROTATE && pm->seq == rot.seq)
			return pm;
	return NULL;
}

static int g_setup(void)
{
	uint16_t mport;
	int fd;

	snprintf(gc.state_dir, sizeof(gc.state_dir), "%s", dir);
	snprintf(gc.ifname, sizeof(gc.ifname), "rt-ctl0");
	mgr_fd = udp_on("127.0.0.1", 0, &mport);
	fd = udp_on("127.0.0.2", 0, NULL);
	if (mgr_fd < 0 || fd < 0)
		return -1;
	rd_wg_genkey(gid.private_key);
	roster_addr_parse("127.0.0.2", &gid.id);
	gid.prefixlen = 8;
	roster_addr_parse("127.0.0.1", &gid.control_addr);
	gid.control_port = mport;
	roster_addr_parse("192.0.2.1", &gid.manager_endpoint);
	gid.manager_port = 51800;
	if (rd_identity_save(dir, &gid))
		return -1;
	rd_wg_pubkey(gpub, gid.private_key);
	memcpy(gwg.self_key, gpub, 32);
	rd_link_init(&glink, fd, 100, 2, g_done);
	glink.session = 1;
	return 0;
}

static void t_gateway(void)
{
	struct rd_peer *mp = gw_ctl_manager(&glink, &gid);
	uint8_t next[32], next_pub[32], old_pub[32];
	struct rd_identity saved;
	struct rd_msg m;
	struct gw_next n = { 0 };
	const struct rd_pending *pm;
	int64_t now = rd_now_ms();

	EXPECT(mp != NULL);
	if (!mp)
		return;
	gw_rotate_init(&rot, &gc, &gid, gpub, &gwg, &glink, mp);
	EXPECT(rot.born >= (uint64_t)time(NULL) - 5);	/* a key of unknown age: from now */
	/* nothing pending: nothing said */
	gw_rotate_tick(&rot, now);
	EXPECT(!rot.active);
	m = next_msg(mgr_fd);
	EXPECT(m.type == 0);

	/* the command's pending key: announced under the current key */
	rd_wg_genkey(next);
	rd_wg_pubkey(next_pub, next);
	memcpy(old_pub, gpub, 32);
	memcpy(n.priv, next, 32);
	EXPECT(!gw_next_save(dir, &n));
	EXPECT(gw_rotate_tick(&rot, now) > 0 && !rot.active);	/* not yet due */
	now += 1000;
	gw_rotate_tick(&rot, now);
	EXPECT(rot.active && !rot.under_new);
	m = next_msg(mgr_fd);
	EXPECT(m.type == RD_ROTATE && !memcmp(m.key, next_pub, 32) && m.seq == rot.seq);
	rd_msg_release(&m);

	/* given up: the other key on rctl0, and again */
	pm = pending_rotate();
	EXPECT(pm != NULL);
	if (pm) {
		struct rd_pending copy = *pm;

		gw_rotate_done(&rot, &copy, false);
	}
	EXPECT(rot.active && rot.under_new);
	m = next_msg(mgr_fd);
	EXPECT(m.type == RD_ROTATE && !memcmp(m.key, next_pub, 32) && m.seq == rot.seq);
	rd_msg_release(&m);
	EXPECT(!memcmp(gpub, old_pub, 32));	/* nothing switched for good */

	/* acknowledged: the identity holds the new key, the file is gone */
	rd_acked(&glink, mp, rot.seq);
	EXPECT(!rot.active && rot.rotations == 1);
	EXPECT(!memcmp(gpub, next_pub, 32) && !memcmp(gwg.self_key, next_pub, 32));
	EXPECT(!memcmp(gid.private_key, next, 32));
	EXPECT(!rd_identity_load(dir, &saved) && !memcmp(saved.private_key, next, 32));
	EXPECT(gw_next_load(dir, &n) == -ENOENT);

	/* a refusal: kept in the file, never announced again */
	rd_wg_genkey(n.priv);
	n.refused = false;
	EXPECT(!gw_next_save(dir, &n));
	now += 1000;
	gw_rotate_tick(&rot, now);
	m = next_msg(mgr_fd);
	EXPECT(m.type == RD_ROTATE && rot.active);
	rd_msg_release(&m);
	{
		struct rd_msg e = { .type = RD_ERROR, .has_err = true, .err = EKEYREVOKED,
				    .has_ref = true, .ref_seq = rot.seq + 1 };

		snprintf(e.text, sizeof(e.text), "the key was revoked");
		EXPECT(!gw_rotate_error(&rot, &e));	/* not ours */
		e.ref_seq = rot.seq;
		EXPECT(gw_rotate_error(&rot, &e));
	}
	EXPECT(!rot.active);
	EXPECT(!gw_next_load(dir, &n) && n.refused && strstr(n.why, "revoked"));
	EXPECT(!memcmp(gpub, next_pub, 32));
	/* its ACK can no longer switch anything */
	rd_acked(&glink, mp, rot.seq);
	EXPECT(!memcmp(gpub, next_pub, 32) && rot.rotations == 1);
	now += 1000;
	gw_rotate_tick(&rot, now);
	EXPECT(!rot.active);
	for (m = next_msg(mgr_fd); m.type; m = next_msg(mgr_fd)) {
		EXPECT(m.type != RD_ROTATE || m.seq <= rot.seq);	/* retransmissions only */
		rd_msg_release(&m);
	}

	/* a crash after the identity took the key, before the file went */
	memcpy(n.priv, next, 32);
	n.refused = false;
	EXPECT(!gw_next_save(dir, &n));
	now += 1000;
	gw_rotate_tick(&rot, now);
	EXPECT(!rot.active && gw_next_load(dir, &n) == -ENOENT);

	/* key-lifetime: due, a fresh key is written and announced */
	gc.key_lifetime = 60;
	rot.born = (uint64_t)time(NULL) - 61;
	now += 1000;
	gw_rotate_tick(&rot, now);
	EXPECT(rot.active && !gw_next_load(dir, &n) && !n.refused);
	EXPECT(!memcmp(rot.next, n.priv, 32));
	m = next_msg(mgr_fd);
	EXPECT(m.type == RD_ROTATE);
	rd_msg_release(&m);
	gc.key_lifetime = 0;
	rd_link_free(&glink);
	close(glink.fd);
	close(mgr_fd);
	gw_next_remove(dir);
}

/* Several managers (gw-failover.h): the ROTATE goes only to one that
 * leads, again to each manager moved to, and a move away from a silent
 * one tries the other key on rctl0, as a give-up does. */
static void t_gateway_managers(void)
{
	uint8_t next[32], next_pub[32];
	struct rd_peer *a, *b;
	struct gw_next n = { 0 };
	struct rd_msg m;
	uint16_t port;
	int fd, afd, bfd;
	int64_t now = rd_now_ms();

	afd = udp_on("127.0.0.1", 0, &port);
	bfd = udp_on("127.0.0.4", port, NULL);
	fd = udp_on("127.0.0.2", 0, NULL);
	EXPECT(afd >= 0 && bfd >= 0 && fd >= 0);
	if (afd < 0 || bfd < 0 || fd < 0)
		return;
	gid.control_port = port;
	gid.n_managers = 2;
	memset(gid.managers, 0, sizeof(gid.managers));
	roster_addr_parse("127.0.0.1", &gid.managers[0].control_addr);
	roster_addr_parse("127.0.0.4", &gid.managers[1].control_addr);
	rd_link_init(&glink, fd, 100, 8, g_done);
	glink.session = 2;
	a = gw_ctl_peer(&glink, &gid, 0);
	b = gw_ctl_peer(&glink, &gid, 1);
	EXPECT(a && b && a != b);
	if (!a || !b)
		return;
	gw_rotate_init(&rot, &gc, &gid, gpub, &gwg, &glink, a);
	/* not known to lead: the key waits */
	gw_rotate_peer(&rot, a, false, false);
	rd_wg_genkey(next);
	rd_wg_pubkey(next_pub, next);
	memcpy(n.priv, next, 32);
	EXPECT(!gw_next_save(dir, &n));
	now += 1000;
	gw_rotate_tick(&rot, now);
	EXPECT(rot.active && !rot.announced);
	m = next_msg(afd);
	EXPECT(m.type == 0);
	/* a move away from a silent manager before anything was announced:
	 * no manager can hold the key, rctl0 keeps the current one */
	gw_rotate_peer(&rot, b, false, true);
	EXPECT(rot.mp == b && !rot.under_new && !rot.announced);
	gw_rotate_peer(&rot, a, false, true);
	EXPECT(rot.mp == a && !rot.under_new);
	/* it leads: announced, once */
	gw_rotate_peer(&rot, a, true, false);
	EXPECT(rot.announced && !rot.under_new);
	m = next_msg(afd);
	EXPECT(m.type == RD_ROTATE && !memcmp(m.key, next_pub, 32) && m.seq == rot.seq);
	rd_msg_release(&m);
	gw_rotate_peer(&rot, a, true, false);
	m = next_msg(afd);
	EXPECT(m.type == 0);
	/* silent: moved to b, the other key on rctl0, held until b leads */
	rd_peer_flush(a);
	gw_rotate_peer(&rot, b, false, true);
	EXPECT(rot.mp == b && rot.under_new && !rot.announced);
	m = next_msg(bfd);
	EXPECT(m.type == 0);
	gw_rotate_peer(&rot, b, true, false);
	m = next_msg(bfd);
	EXPECT(m.type == RD_ROTATE && !memcmp(m.key, next_pub, 32) && m.seq == rot.seq);
	rd_msg_release(&m);
	EXPECT(memcmp(gpub, next_pub, 32));
	/* b's ACK switches, under the key rctl0 already has */
	rd_acked(&glink, b, rot.seq);
	EXPECT(!rot.active && !memcmp(gpub, next_pub, 32) && !memcmp(gid.private_key, next, 32));
	EXPECT(gw_next_load(dir, &n) == -ENOENT);
	/* a move while nothing is under way changes nothing */
	gw_rotate_peer(&rot, a, false, true);
	EXPECT(!rot.active && !rot.under_new);
	m = next_msg(afd);
	EXPECT(m.type == 0);
	rd_link_free(&glink);
	close(fd);
	close(afd);
	close(bfd);
}

/* ---- the manager ---------------------------------------------------------- */

static struct rd_config mc;
static struct mgr mm;

static void t_manager(void)
{
	char err[256], mdir[80];
	struct rd_entry inv = { .n_vpns = 1, .vpns = { 7 }, .expiry = 4000000000u };
	uint8_t k1[32], k2[32], ik[32], old[32], buf[RD_MSG_MAX];
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct rd_entry *gws = NULL;
	unsigned int ngws = 0;
	uint16_t port;
	int gfd, len;
	bool had;
	struct rd_msg m;

	snprintf(mdir, sizeof(mdir), "%s/mgr", dir);
	EXPECT(!rd_mkdir_p(mdir, 0700));
	if (rd_store_open(mdir, &mm.st, err, sizeof(err))) {
		EXPECT(!"store");
		return;
	}
	memcpy(mm.store_id, rd_store_identity(mm.st), RD_STORE_ID_LEN);
	mm.c = &mc;
	snprintf(mc.ifname, sizeof(mc.ifname), "rt-mctl0");
	mm.fd = udp_on("127.0.0.1", 0, NULL);
	gfd = udp_on("127.0.0.3", 0, &port);
	mc.control_port = port;
	rd_link_init(&mm.link, mm.fd, 1000, 8, NULL);
	mm.link.priv = &mm;
	rd_wg_genkey(mm.priv);
	rd_wg_pubkey(mm.pub, mm.priv);
	/* gateway 127.0.0.3 enrolled with k1 */
	roster_addr_parse("127.0.0.3", &inv.id);
	memset(ik, 0x33, 32);
	memset(k1, 0x11, 32);
	memset(k2, 0x22, 32);
	memcpy(inv.key, ik, 32);
	EXPECT(!rd_store_invite_put(mm.st, &inv, NULL, 0, NULL));
	inv.expiry = 0;
	memcpy(inv.key, k1, 32);
	EXPECT(!rd_store_enrol(mm.st, &inv, ik, old, &had));
	EXPECT(!rd_store_gateways(mm.st, &mm.gws, &mm.ngws) && mm.ngws == 1);
	from.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.3", &from.sin_addr);

	/* ROTATE to k2: the store first, then the ACK */
	m = (struct rd_msg){ .type = RD_ROTATE, .seq = 1, .has_session = true, .session = 5,
			     .has_key = true };
	memcpy(m.key, k2, 32);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	mgr_handle_packet(&mm, buf, (size_t)len, (struct sockaddr *)&from, sizeof(from));
	m = next_msg(gfd);
	EXPECT(m.type == RD_ACK && m.ack == 1);
	EXPECT(!rd_store_gateways(mm.st, &gws, &ngws) && ngws == 1 && !memcmp(gws[0].key, k2, 32));
	free(gws);
	gws = NULL;
	EXPECT(rd_store_key_revoked(mm.st, k1) == 1);
	EXPECT(mm.ngws == 1 && !memcmp(mm.gws[0].key, k2, 32));	/* rctl0 follows */
	/* retried under the new key (the ACK was lost): acknowledged again */
	m = (struct rd_msg){ .type = RD_ROTATE, .seq = 2, .has_session = true, .session = 5,
			     .has_key = true };
	memcpy(m.key, k2, 32);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	mgr_handle_packet(&mm, buf, (size_t)len, (struct sockaddr *)&from, sizeof(from));
	m = next_msg(gfd);
	EXPECT(m.type == RD_ACK && m.ack == 2);

	/* back to the revoked k1: an ERROR, and no ACK, even for the copy */
	for (int copy = 0; copy < 2; copy++) {
		bool acked = false, error = false;

		m = (struct rd_msg){ .type = RD_ROTATE, .seq = 3, .has_session = true, .session = 5,
				     .has_key = true };
		memcpy(m.key, k1, 32);
		len = rd_msg_encode(&m, buf, sizeof(buf));
		mgr_handle_packet(&mm, buf, (size_t)len, (struct sockaddr *)&from, sizeof(from));
		for (m = next_msg(gfd); m.type; m = next_msg(gfd)) {
			acked |= m.type == RD_ACK;
			if (m.type == RD_ERROR && m.has_ref && m.ref_seq == 3 && !copy)
				error = m.err == EKEYREVOKED && strstr(m.text, "revoked");
			rd_msg_release(&m);
		}
		EXPECT(!acked);
		EXPECT(copy || error);
	}
	/* the manager's own key: refused */
	m = (struct rd_msg){ .type = RD_ROTATE, .seq = 4, .has_session = true, .session = 5,
			     .has_key = true };
	memcpy(m.key, mm.pub, 32);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	mgr_handle_packet(&mm, buf, (size_t)len, (struct sockaddr *)&from, sizeof(from));
	{
		bool acked = false;

		for (m = next_msg(gfd); m.type; m = next_msg(gfd)) {
			acked |= m.type == RD_ACK;
			rd_msg_release(&m);
		}
		EXPECT(!acked);
	}
	EXPECT(!rd_store_gateways(mm.st, &gws, &ngws) && ngws == 1 && !memcmp(gws[0].key, k2, 32));
	free(gws);
	rd_link_free(&mm.link);
	close(mm.fd);
	close(gfd);
	free(mm.gws);
	free(mm.inv);
	rd_store_close(mm.st);
}

int main(void)
{
	char cmd[128];

	/* The interfaces are absent here: their errors are expected. */
	rd_log_level = RD_LOG_ERROR - 1;
	/* Interfaces the code under test creates stay in this namespace. */
	if (!unshare(CLONE_NEWNET))
		rd_link_set_up("lo");
	printf("KTAP version 1\n1..7\n");
	snprintf(dir, sizeof(dir), "/tmp/rotate-test.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	run("RD_ROTATE: the key and nothing else", t_proto);
	run("key-lifetime: durations, off, bounds", t_config);
	run("identity.next: saved 0600, refused marker, malformed refused", t_next_file);
	run("members: a new key for the same allowed-ips starts a handshake", t_replaced);
	if (g_setup()) {
		printf("not ok 5 - gateway setup: %s\n", strerror(errno));
		printf("not ok 6 - gateway setup: %s\n", strerror(errno));
		test_no += 2;
		failed += 2;
	} else {
		run("gateway: announce, other key on give-up, switch on ACK, refusal, crash, lifetime",
		    t_gateway);
		run("gateway, several managers: to a leader only, other key after a silent one",
		    t_gateway_managers);
	}
	run("manager: store before the ACK; a refused key is never acknowledged", t_manager);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
