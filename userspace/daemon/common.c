// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd: helpers shared by the manager and gateway roles. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <netinet/in.h>

#include "rosterd.h"
#include "util.h"

int rd_signalfd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int rd_udp_socket(const struct roster_addr *a, uint16_t port, const char *ifname)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(a, port, &ss);
	int fd, one = 1;

	fd = socket(a->family == AF_INET6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The address may still be tentative right after we added it. */
	setsockopt(fd, a->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		   a->family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof(one));
	/*
	 * The address alone is not enough: with ip_forward or a weak host
	 * model, a datagram from the underlay addressed to the tunnel address
	 * would be delivered too, with a forged inner source. Only rctl0's
	 * cryptokey routing proves who sent it.
	 */
	if (ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
				 (socklen_t)strlen(ifname) + 1)) {
		int err = -errno;

		close(fd);
		return err;
	}
	/*
	 * A manager's fan-out sends one NOTIFY per member before it reads
	 * again, and the members' ACKs pile up meanwhile: with the default
	 * buffer they overflow at a few thousand members and every lost
	 * ACK comes back as a retransmission (a decrypted ACK's skb is
	 * kilobytes of truesize; performance.rst, "Dropped ACKs"). It is a
	 * limit, not an allocation. The
	 * FORCE variants need
	 * CAP_NET_ADMIN, which rosterd has; otherwise take what rmem_max
	 * allows.
	 */
	int buf = RD_SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}
