/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/roster.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_ROSTER_H
#define _UAPI_LINUX_ROSTER_H

#define ROSTER_FAMILY_NAME	"roster"
#define ROSTER_FAMILY_VERSION	2

#define ROSTER_KEY_LEN		32
#define ROSTER_MAX_PREFIXES	32

/**
 * enum roster_leave_reason - Why a member left a VPN.
 * @ROSTER_LEAVE_REASON_REQUESTED: The member asked to leave.
 * @ROSTER_LEAVE_REASON_ADMIN: An operator removed the member.
 * @ROSTER_LEAVE_REASON_EXPIRED: The controller expired the member.
 */
enum roster_leave_reason {
	ROSTER_LEAVE_REASON_REQUESTED,
	ROSTER_LEAVE_REASON_ADMIN,
	ROSTER_LEAVE_REASON_EXPIRED,
};

/**
 * enum roster_flags - Request flags.
 * @ROSTER_FLAGS_CREATE_ONLY: MEMBER_JOIN: fail with EEXIST if the member
 *   exists, instead of replacing it.
 * @ROSTER_FLAGS_DELETE_EMPTY: MEMBER_LEAVE: delete the VPN too when the
 *   leaving member was its last.
 * @ROSTER_FLAGS_RESYNC: With a stamped change (generation given): the change
 *   is part of a catch-up to that generation. It applies when the generation
 *   is the VPN's current one or later, and does not need to be the next.
 */
enum roster_flags {
	ROSTER_FLAGS_CREATE_ONLY = 1,
	ROSTER_FLAGS_DELETE_EMPTY = 2,
	ROSTER_FLAGS_RESYNC = 4,
};

/**
 * enum roster_vpn_flags - Properties of a VPN, given when it is created;
 *   vpn-set changes the follower mark.
 * @ROSTER_VPN_FLAGS_FOLLOWER: The VPN follows another table: only stamped
 *   changes apply to it (and vpn-set of this mark).
 * @ROSTER_VPN_FLAGS_NESTED_PREFIXES: Members' prefixes may nest (a hub
 *   announcing a summary route); they still may not be equal. Without it, no
 *   two members' prefixes may overlap at all.
 */
enum roster_vpn_flags {
	ROSTER_VPN_FLAGS_FOLLOWER = 1,
	ROSTER_VPN_FLAGS_NESTED_PREFIXES = 2,
};

/**
 * enum roster_change_flags - How a notified change was made.
 * @ROSTER_CHANGE_FLAGS_STAMPED: The change carried the generation it produced.
 * @ROSTER_CHANGE_FLAGS_RESYNC: The change was part of a resync (flags resync).
 */
enum roster_change_flags {
	ROSTER_CHANGE_FLAGS_STAMPED = 1,
	ROSTER_CHANGE_FLAGS_RESYNC = 2,
};

enum {
	ROSTER_A_VPN_ID = 1,
	ROSTER_A_GENERATION,
	ROSTER_A_PAD,
	ROSTER_A_FLAGS,
	ROSTER_A_MEMBER,
	ROSTER_A_MEMBER_COUNT,
	ROSTER_A_CREATE_TIME,
	ROSTER_A_REASON,
	ROSTER_A_VPN_FLAGS,
	ROSTER_A_CHANGE_FLAGS,

	__ROSTER_A_MAX,
	ROSTER_A_MAX = (__ROSTER_A_MAX - 1)
};

enum {
	ROSTER_A_MEMBER_ID_IPV4 = 1,
	ROSTER_A_MEMBER_ID_IPV6,
	ROSTER_A_MEMBER_PUBLIC_KEY,
	ROSTER_A_MEMBER_ENDPOINT_IPV4,
	ROSTER_A_MEMBER_ENDPOINT_IPV6,
	ROSTER_A_MEMBER_ENDPOINT_PORT,
	ROSTER_A_MEMBER_PREFIX,
	ROSTER_A_MEMBER_JOIN_TIME,
	ROSTER_A_MEMBER_JOIN_GENERATION,
	ROSTER_A_MEMBER_PAD,

	__ROSTER_A_MEMBER_MAX,
	ROSTER_A_MEMBER_MAX = (__ROSTER_A_MEMBER_MAX - 1)
};

enum {
	ROSTER_A_PREFIX_IPV4 = 1,
	ROSTER_A_PREFIX_IPV6,
	ROSTER_A_PREFIX_LEN,

	__ROSTER_A_PREFIX_MAX,
	ROSTER_A_PREFIX_MAX = (__ROSTER_A_PREFIX_MAX - 1)
};

enum {
	ROSTER_CMD_VPN_NEW = 1,
	ROSTER_CMD_VPN_DEL,
	ROSTER_CMD_VPN_GET,
	ROSTER_CMD_MEMBER_JOIN,
	ROSTER_CMD_MEMBER_LEAVE,
	ROSTER_CMD_MEMBER_GET,
	ROSTER_CMD_VPN_NEW_NTF,
	ROSTER_CMD_VPN_DEL_NTF,
	ROSTER_CMD_MEMBER_JOINED_NTF,
	ROSTER_CMD_MEMBER_UPDATED_NTF,
	ROSTER_CMD_MEMBER_LEFT_NTF,
	ROSTER_CMD_VPN_SET,
	ROSTER_CMD_VPN_CHANGED_NTF,

	__ROSTER_CMD_MAX,
	ROSTER_CMD_MAX = (__ROSTER_CMD_MAX - 1)
};

#define ROSTER_MCGRP_NOTIFY	"notify"

#endif /* _UAPI_LINUX_ROSTER_H */
