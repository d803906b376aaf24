/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: state directory files (state.c). */
#ifndef RD_STATE_H
#define RD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"
#include "proto.h"

#define RD_ENTRY_MAX_VPNS 64

/* An enrolled gateway or a pending invitation, as the store holds them. */
struct rd_entry {
	struct roster_addr id;
	uint8_t key[32];		/* gateway / invitation public key */
	unsigned int n_vpns;
	uint32_t vpns[RD_ENTRY_MAX_VPNS];
	uint64_t expiry;		/* invitations only */
	uint64_t last_seen;		/* gateways: unix s the manager last heard from it, 0 never */
	/* What the gateway may announce (`rosterd invite --prefix`): each
	 * prefix of a JOIN_REQ inside one of these. has_prefixes false: a
	 * record from before the lists, unrestricted by a list (mgr-policy.h). */
	bool has_prefixes;
	unsigned int n_prefixes;
	struct roster_prefix prefixes[ROSTER_PREFIX_MAX];
};

bool rd_entry_allows(const struct rd_entry *e, uint32_t vpn);
/* The next session id for a process using DIR: larger than every id
 * handed out before from DIR (DIR/session) and than the wall clock in
 * seconds, so a restarted sender's session always grows even if DIR was
 * lost. */
uint32_t rd_session_next(const char *dir);
/* Load DIR/private.key, creating it (and DIR) if create. */
int rd_state_key(const char *dir, uint8_t priv[32], bool create);

/* One manager of the gateway's cluster: what rctl0 needs to reach it.
 * All managers of a cluster share the control-port and the control prefix
 * (rd_identity's); each has its own control address, key and endpoint. */
struct rd_manager {
	struct roster_addr control_addr;
	uint8_t key[32];
	/* family 0: none known (the manager's handshake teaches rctl0) */
	struct roster_addr endpoint;
	uint16_t port;
};

struct rd_identity {
	uint8_t private_key[32];
	struct roster_addr id;
	uint8_t prefixlen;
	/* The manager enrolled with (the token's). Every version's identity
	 * file has it, so an earlier rosterd still loads a newer file. */
	uint8_t manager_key[32];
	struct roster_addr manager_endpoint;
	uint16_t manager_port;
	struct roster_addr control_addr;
	uint16_t control_port;
	/* The identity of the manager's store (rd_msg.store_id), once known:
	 * optional, identities written by earlier versions have none. */
	bool has_store_id;
	uint8_t store_id[16];
	/* Every manager of the cluster, as ENROLLED or the latest MANAGERS
	 * named them, in ascending control address order (so that a set
	 * sent in another order is the same set). Never empty once loaded: a
	 * file without the set (an earlier version's, or a cluster of the
	 * one manager enrolled with) is the set of that one. */
	unsigned int n_managers;
	struct rd_manager managers[RD_MANAGERS_MAX];
};

/* The set of the one manager enrolled with (id->manager_key, ...). */
void rd_identity_single(struct rd_identity *id);
/* The index of the manager with control address a in id's set, or -1. */
int rd_identity_manager(const struct rd_identity *id, const struct roster_addr *a);
bool rd_manager_eq(const struct rd_manager *a, const struct rd_manager *b);
/*
 * A set of managers as MANAGERS or ENROLLED name them (members, n) into
 * out[] (room for RD_MANAGERS_MAX), sorted, for the gateway id: 0, or
 * -EINVAL with *why if it is empty or too big, or a manager has no key,
 * or a control address is not a host of id's control prefix
 * (rctl0 routes only that) or is id's own, or two managers share a
 * control address or a key (WireGuard peers are told apart by both).
 */
int rd_managers_from_members(const struct rd_identity *id, const struct roster_member *mb,
			     unsigned int n, struct rd_manager *out, unsigned int *nout,
			     const char **why);

/* DIR/identity. A save is atomic and durable: the file is complete, mode
 * 0600, and on disk with its directory entry, or unchanged. */
int rd_identity_load(const char *dir, struct rd_identity *id);
int rd_identity_save(const char *dir, const struct rd_identity *id);
/*
 * Enrolment in two durable steps, so that a crash at any point leaves a
 * state that `rosterd redeem` can resume or `rosterd gateway` can run:
 * before ENROLL, the new identity goes to DIR/identity.pending (a crash
 * now: redeem is retried with the same key, which the manager answers);
 * once ENROLLED arrives, commit writes the complete identity there and
 * renames it to DIR/identity (the one step that enrols the host).
 */
int rd_identity_pending_load(const char *dir, struct rd_identity *id);
int rd_identity_pending_save(const char *dir, const struct rd_identity *id);
int rd_identity_pending_commit(const char *dir, const struct rd_identity *id);

/* DIR/NAME becomes text (mode 0600), atomically and durably, as an
 * identity is saved (gw-rotate.c's pending key). */
int rd_state_write(const char *dir, const char *name, const char *text);

#endif /* RD_STATE_H */
