/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: its view of the manager (gw-view.c). Pure state
 * machines, no I/O: the assembly of multi-part JOIN/LIST messages, the
 * changes held while the generations before them are missing, and the
 * rule that decides whom a list is from and whether to obey it. The
 * membership itself lives in the gateway's roster.ko (gw-table.c); the
 * kernel's verdict on a change is an input here, and what to do next is
 * the output.
 */
#ifndef RD_GW_VIEW_H
#define RD_GW_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "proto.h"

/* Changes that arrive ahead of a missing generation wait this long for it
 * (the manager is retransmitting it) before the gateway asks for a list. */
#define GW_GAP_WAIT_MS 3000
/* Changes held at most; one more asks for a list at once. */
#define GW_HOLD_MAX 32
/* A list of more members than this is bogus (a VPN holds far fewer). */
#define GW_LIST_MAX (1u << 20)
/* The smallest member a part can carry: its nest, an IPv4 id and the key
 * (4 + 8 + 36 bytes). A part brings at most RD_MSG_MAX / this many, so a
 * TOTAL above nparts times that is a lie, whatever GW_LIST_MAX allows. */
#define GW_MEMBER_MIN_SIZE 48u
#define GW_PART_MEMBERS_MAX (RD_MSG_MAX / GW_MEMBER_MIN_SIZE)

/* A NOTIFY or a REMOVE, as the manager stamped it. */
struct gw_change {
	uint8_t type;			/* RD_NOTIFY or RD_REMOVE */
	uint64_t gen;
	struct roster_member member;	/* RD_NOTIFY */
	struct roster_addr dev;		/* RD_REMOVE */
};

/* A JOIN or LIST being assembled from its parts. */
struct gw_asm {
	uint8_t type;			/* 0: nothing under way */
	uint16_t flags, nparts, have;
	uint64_t gen;
	uint32_t total;
	bool has_store_id;
	uint8_t store_id[RD_STORE_ID_LEN];
	bool *got;			/* [nparts] */
	struct roster_member *m;	/* [n], grown as parts arrive */
	unsigned int n, cap;
};

struct gw_view {
	uint32_t vpn;
	struct gw_asm as;
	struct gw_change hold[GW_HOLD_MAX];	/* ascending gen */
	unsigned int n_hold;
	int64_t gap_deadline;		/* 0: nothing held */
};

/* What the caller does next. */
enum gw_act {
	GW_ACT_NONE,			/* nothing */
	GW_ACT_DRAIN,			/* applied: retry the held changes */
	GW_ACT_SYNC,			/* ask for the whole list (SYNC_REQ) */
};

void gw_view_init(struct gw_view *v, uint32_t vpn);
void gw_view_free(struct gw_view *v);

/* ---- assembly ---- */
enum gw_asm_res {
	GW_ASM_MORE,			/* part taken; more to come */
	GW_ASM_DONE,			/* v->as holds the whole list */
	GW_ASM_OLD,			/* older than the list under way: dropped */
	GW_ASM_DUP,			/* a part already taken */
	GW_ASM_BOGUS,			/* inconsistent: dropped, assembly reset */
};
/* Take a part of a JOIN or LIST. After GW_ASM_DONE, read v->as, then
 * gw_view_asm_reset(). */
enum gw_asm_res gw_view_assemble(struct gw_view *v, const struct rd_msg *m);
void gw_view_asm_reset(struct gw_view *v);

/* ---- ordering ---- */
/* The kernel's verdict on change c (gw_table_change(): 0, -EALREADY,
 * -ESTALE, -ENOENT for a VPN not (yet) in the table, other errors). */
enum gw_act gw_view_verdict(struct gw_view *v, const struct gw_change *c, int verdict,
			    int64_t now);
/* The held change to retry first (lowest generation): false if none. */
bool gw_view_held(const struct gw_view *v, struct gw_change *out);
/* The verdict on the change gw_view_held() returned: GW_ACT_DRAIN to go
 * on with the next one, GW_ACT_NONE to stop, GW_ACT_SYNC to stop and ask. */
enum gw_act gw_view_held_verdict(struct gw_view *v, int verdict);
/* Forget what is held (the VPN is gone here). */
void gw_view_drop_held(struct gw_view *v);
/* ms (absolute) when gw_view_tick() has something to do; 0: never. */
int64_t gw_view_deadline(const struct gw_view *v);
/* The gap deadline passed: GW_ACT_SYNC (and it is armed again). */
enum gw_act gw_view_tick(struct gw_view *v, int64_t now);

/* ---- whom a list is from ---- */
/* The store identity the gateway knows (identity file). */
struct gw_store {
	bool known;
	uint8_t id[RD_STORE_ID_LEN];
};

enum gw_list_rule {
	GW_LIST_APPLY,			/* make the table equal to the list */
	GW_LIST_ADOPT,			/* from another store: adopt it, rebase the table */
	GW_LIST_OLD,			/* older than the table: ignore */
	GW_LIST_REMOVE,			/* obey "not a member": delete the table */
	GW_LIST_REJOIN,			/* do not obey: warn, JOIN_REQ, remove nothing */
};
/* The VPN in the gateway's roster.ko. */
struct gw_local {
	bool have;			/* it exists */
	bool follower;			/* ROSTER_VPN_F_FOLLOWER (else: an earlier version's mirror) */
	uint64_t gen;
	/* Not the table: a JOIN_REQ went, and no list has come since. */
	bool awaiting;
};
/* Decide on the assembled list a, given the known store s and the table.
 * *learn: the list teaches the gateway its manager's store identity (save
 * it). See gw-view.c for the rule. */
enum gw_list_rule gw_view_list_rule(const struct gw_asm *a, const struct gw_store *s,
				    const struct gw_local *t, bool *learn);

#endif /* RD_GW_VIEW_H */
