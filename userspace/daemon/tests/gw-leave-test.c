// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `rosterd leave` against fake managers on loopback (gw-oneshot.c): with
 * several managers it asks them in turn, a standby's EROFS passing it to
 * the leader it names and silence to the next one; with one it asks as
 * long as it always did. Runs in a network namespace of its own (the
 * command binds privileged ports); skipped where it cannot make one.
 * KTAP; exit status non-zero if any test failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "netif.h"
#include "proto.h"
#include "state.h"
#include "util.h"

#include "unit.h"

#define CTL_PORT 5851
#define VPN 7

static char dir[64];

/* What a fake manager does with each LEAVE_REQ. */
enum act { SILENT, LEADER, STANDBY };

struct fake {
	const char *addr;
	enum act act;
	const char *names;		/* STANDBY: the leader's address, or NULL */
	int fd;
	unsigned int got;		/* LEAVE_REQs for VPN, retransmissions too */
};

static int udp_on(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void reply(struct fake *f, const struct sockaddr *to, socklen_t tl, struct rd_msg *m)
{
	uint8_t buf[RD_MSG_MAX];
	int len;

	m->has_session = true;
	m->session = 77;
	len = rd_msg_encode(m, buf, sizeof(buf));
	if (len > 0)
		sendto(f->fd, buf, (size_t)len, 0, to, tl);
}

static void serve(struct fake *f, uint32_t *err_seq)
{
	_Alignas(8) uint8_t buf[RD_MSG_MAX];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	struct rd_msg m, r;
	const char *why;

	if (n <= 0 || rd_msg_decode(buf, (size_t)n, &m, &why))
		return;
	if (m.type != RD_LEAVE_REQ || m.vpn != VPN) {
		rd_msg_release(&m);
		return;
	}
	f->got++;
	if (f->act != SILENT) {
		r = (struct rd_msg){ .type = RD_ACK, .ack = m.seq };
		reply(f, (struct sockaddr *)&from, fl, &r);
	}
	if (f->act == STANDBY) {
		r = (struct rd_msg){ .type = RD_ERROR, .seq = ++*err_seq, .has_err = true,
				     .err = EROFS, .has_ref = true, .ref_seq = m.seq };
		snprintf(r.text, sizeof(r.text), "standby: the leader is %s",
			 f->names ? f->names : "unknown");
		if (f->names) {
			r.has_dev = true;
			roster_addr_parse(f->names, &r.dev);
		}
		reply(f, (struct sockaddr *)&from, fl, &r);
	}
	rd_msg_release(&m);
}

/* The identity of gateway 127.0.0.2, enrolled with fakes[0], knowing
 * fakes[0..n) as its managers (n 1: an identity of an earlier version). */
static int write_identity(const struct fake *fakes, unsigned int n)
{
	struct rd_identity id = { 0 };

	rd_wg_genkey(id.private_key);
	roster_addr_parse("127.0.0.2", &id.id);
	id.prefixlen = 8;
	id.control_port = CTL_PORT;
	roster_addr_parse(fakes[0].addr, &id.control_addr);
	roster_addr_parse("192.0.2.1", &id.manager_endpoint);
	id.manager_port = 51800;
	memset(id.manager_key, 0x10, 32);
	rd_identity_single(&id);
	for (unsigned int i = 1; i < n; i++) {
		struct rd_manager *m = &id.managers[i];

		roster_addr_parse(fakes[i].addr, &m->control_addr);
		memset(m->key, 0x10 + (int)i, 32);
		roster_addr_parse("192.0.2.1", &m->endpoint);
		m->endpoint.addr[3] = (uint8_t)(1 + i);
		m->port = 51800;
	}
	id.n_managers = n;
	return rd_identity_save(dir, &id);
}

/* rosterd leave --vpn VPN in a child, the fakes serving meanwhile: its
 * return value (0, -EPERM, -ETIMEDOUT, ...). */
static int run_leave(struct fake *fakes, unsigned int n)
{
	static struct rd_config c;
	uint32_t err_seq = 0;
	int status = 0, ret = -EIO;
	pid_t pid;

	for (unsigned int i = 0; i < n; i++) {
		fakes[i].got = 0;
		fakes[i].fd = udp_on(fakes[i].addr, CTL_PORT);
		if (fakes[i].fd < 0)
			return -EIO;
	}
	if (write_identity(fakes, n))
		return -EIO;
	memset(&c, 0, sizeof(c));
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", dir);
	snprintf(c.ifname, sizeof(c.ifname), "lo");
	c.retry_ms = 20;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(-rd_cmd_leave(&c, VPN) & 0xff);
	while (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
		struct pollfd pfd[4];

		for (unsigned int i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fakes[i].fd, .events = POLLIN };
		if (poll(pfd, n, 20) > 0)
			for (unsigned int i = 0; i < n; i++)
				if (pfd[i].revents & POLLIN)
					serve(&fakes[i], &err_seq);
	}
	if (pid > 0 && WIFEXITED(status))
		ret = -WEXITSTATUS(status);
	for (unsigned int i = 0; i < n; i++)
		close(fakes[i].fd);
	return ret;
}

static void t_standby_names_leader(void)
{
	struct fake f[3] = {
		{ .addr = "127.0.0.1", .act = STANDBY, .names = "127.0.0.4" },
		{ .addr = "127.0.0.3", .act = LEADER },
		{ .addr = "127.0.0.4", .act = LEADER },
	};

	/* the enrolled one first, then straight to the one it names */
	EXPECT(run_leave(f, 3) == 0);
	EXPECT(f[0].got == 1 && f[1].got == 0 && f[2].got == 1);
}

static void t_silent_then_next(void)
{
	struct fake f[3] = {
		{ .addr = "127.0.0.4", .act = SILENT },
		{ .addr = "127.0.0.1", .act = STANDBY },
		{ .addr = "127.0.0.3", .act = LEADER },
	};

	/* K + 1 transmissions to the silent one (the set's last), the next
	 * in the set's order (wrapping to the first), a standby naming
	 * nobody, and the next */
	EXPECT(run_leave(f, 3) == 0);
	EXPECT(f[0].got == 3 && f[1].got == 1 && f[2].got == 1);
}

static void t_none_leads(void)
{
	struct fake f[2] = {
		{ .addr = "127.0.0.1", .act = STANDBY },
		{ .addr = "127.0.0.4", .act = STANDBY, .names = "127.0.0.1" },
	};

	/* each asked once: refused, the standby's text said why */
	EXPECT(run_leave(f, 2) == -EPERM);
	EXPECT(f[0].got == 1 && f[1].got == 1);
}

static void t_one_manager(void)
{
	struct fake f[1] = { { .addr = "127.0.0.1", .act = SILENT } };

	/* as before there were several: six transmissions, then no answer */
	EXPECT(run_leave(f, 1) == -ETIMEDOUT);
	EXPECT(f[0].got == 6);
	f[0].act = LEADER;
	EXPECT(run_leave(f, 1) == 0 && f[0].got == 1);
}

int main(void)
{
	char cmd[96];

	rd_log_level = RD_LOG_ERROR - 1;
	printf("KTAP version 1\n1..4\n");
	if (unshare(CLONE_NEWNET) || rd_link_set_up("lo")) {
		for (int i = 1; i <= 4; i++)
			printf("ok %d # SKIP no network namespace of our own\n", i);
		return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/gw-leave-test.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	run("leave: a standby's EROFS passes it to the leader it names", t_standby_names_leader);
	run("leave: a silent manager after K + 1 tries, then the next", t_silent_then_next);
	run("leave: every manager a standby: refused", t_none_leads);
	run("leave: one manager, asked as long as ever", t_one_manager);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return failed ? 1 : 0;
}
