/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd - the roster controller: the roles' entry points. Each module
 * has its own header; see Documentation/rosterd.rst for the layout.
 */
#ifndef ROSTERD_H
#define ROSTERD_H

#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "config.h"

#define ROSTERD_VERSION "0.1.0"

int rd_manager_run(struct rd_config *c);
/* An invitation for id to vpns, that may announce what lies inside
 * pfx[0..npfx) (at least one). */
int rd_cmd_invite(struct rd_config *c, const struct roster_addr *id,
		  const uint32_t *vpns, unsigned int nvpns,
		  const struct roster_prefix *pfx, unsigned int npfx, uint64_t ttl);
int rd_gateway_run(struct rd_config *c);
int rd_cmd_redeem(struct rd_config *c, const char *token);
/* The invitation token of `rosterd redeem`: from the file path (refused
 * unless a regular file that only its owner can read or write) or, if
 * path is NULL, from standard input. One line; buf holds len bytes. */
int rd_redeem_token_read(const char *path, char *buf, size_t len);
int rd_cmd_leave(struct rd_config *c, uint32_t vpn);
/* A pending next key for the gateway (gw-rotate.h); waits up to wait_s
 * for a running daemon to rotate to it (0: does not wait). */
int rd_cmd_rotate_key(struct rd_config *c, unsigned int wait_s);

/* Signal handling shared by the roles: returns a signalfd for
 * SIGINT/SIGTERM/SIGHUP (blocked). */
int rd_signalfd(void);
/* A UDP socket bound to a:port and, if ifname, to that interface only: the
 * control channel must take nothing that did not come through the tunnel.
 * Its buffers hold RD_SOCKET_BUFFER bytes (a fan-out's worth of ACKs). */
#define RD_SOCKET_BUFFER (64 << 20)
int rd_udp_socket(const struct roster_addr *a, uint16_t port, const char *ifname);

#endif /* ROSTERD_H */
