/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The manager target's world (fuzz-manager.c), shared with the seed
 * generator (gen-corpus.c): who the gateways are, and what a record of
 * the input (fuzz.h) does. A record's op byte: bits 0-2 the kind, bits
 * 3-5 the source (MF_SRC), bit 6 a source port other than the control
 * port (a local user on the gateway, finding 3).
 */
#ifndef RD_FUZZ_MANAGER_H
#define RD_FUZZ_MANAGER_H

#include <stdint.h>

enum mf_kind {
	MF_PACKET,		/* data: a datagram from the source */
	MF_ACK,			/* the source ACKs all the manager sent it */
	MF_TIME,		/* time passes: retransmissions, give-ups */
	MF_OVERRUN,		/* the notification socket overflowed; data[0]
				 * odd: after the table was lost (rmmod) */
	MF_RELOAD,		/* SIGHUP: gateways and invitations re-read; with
				 * data: the allocation data[0] + 1 from now
				 * fails (finding 7) */
	MF_ADMIN_LEAVE,		/* an admin removes the source (roster member-del)
				 * from VPN data[0]; data[0] & 0x80: adds it */
	MF_ADMIN_VPN_DEL,	/* an admin deletes a VPN (data[0]: which) */
	MF_PACKET_ACK,		/* MF_PACKET, then MF_ACK */
};
#define MF_OP(kind, src, alt) ((uint8_t)((kind) | (src) << 3 | ((alt) ? 0x40 : 0)))
#define MF_KIND(op) ((op) & 7)
#define MF_SRC(op) (((op) >> 3) & 7)
#define MF_ALT(op) ((op) & 0x40)

#define MF_CONTROL_PORT 5100
#define MF_ALT_PORT 40000
#define MF_CONTROL_ADDR "10.255.0.1"
#define MF_NSRC 8
/* 0-3: enrolled gateways (key: bytes of i + 1; VPNs 7 and 8, the fourth
 * only 8), 4: invited to VPN 7, not enrolled yet (invitation key: bytes
 * of 0x99), 5: a stranger, 6: the manager's own address, 7: IPv6. */
static const char *const mf_src[MF_NSRC] = {
	"10.255.0.2", "10.255.0.3", "10.255.0.4", "10.255.0.5",
	"10.255.0.9", "10.255.0.50", MF_CONTROL_ADDR, "fd00::2",
};
#define MF_NGW 4
#define MF_INVITEE 4
#define MF_INVITE_KEY 0x99

#endif /* RD_FUZZ_MANAGER_H */
