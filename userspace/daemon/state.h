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

struct rd_identity {
	uint8_t private_key[32];
	struct roster_addr id;
	uint8_t prefixlen;
	uint8_t manager_key[32];
	struct roster_addr manager_endpoint;
	uint16_t manager_port;
	struct roster_addr control_addr;
	uint16_t control_port;
	/* The identity of the manager's store (rd_msg.store_id), once known:
	 * optional, identities written by earlier versions have none. */
	bool has_store_id;
	uint8_t store_id[16];
};

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

#endif /* RD_STATE_H */
