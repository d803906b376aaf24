/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal libnl-3 / libnl-genl-3 client of the roster generic netlink
 * family, for the uAPI selftest. Independent of libroster (libmnl) on
 * purpose: it is the second implementation the uAPI is checked against.
 *
 * Nothing in here asserts: every helper reports what the kernel sent and
 * the tests decide. This keeps the helpers usable from forked children and
 * threads, where the harness' ASSERT_*() (longjmp) must not be used.
 */
#ifndef ROSTER_NL_H
#define ROSTER_NL_H

#include <stdint.h>
#include <stddef.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>

#include <linux/roster.h>

#define RNL_MAX_PFX	40	/* more than ROSTER_MAX_PREFIXES: bad input */

struct rnl_pfx {
	uint8_t addr[16];
	uint8_t alen;		/* 0: attribute omitted */
	uint8_t len;
	uint8_t has_len;
};

struct rnl_member {
	uint8_t dev[16];
	uint8_t dev_len;	/* 0: attribute omitted */
	uint8_t key[40];
	uint8_t key_len;	/* 0: attribute omitted */
	uint8_t ep[16];
	uint8_t ep_len;		/* 0: attribute omitted */
	uint8_t has_port;
	uint16_t port;
	uint8_t npfx;
	struct rnl_pfx pfx[RNL_MAX_PFX];
	uint8_t has_jt, has_jg;
	uint64_t jt, jg;	/* join-time, join-generation */
	/* request only: one raw extra attribute inside the member nest */
	uint16_t xtype;
	uint8_t xlen;
	uint8_t x[16];
	/* reply only: attributes the client does not know or bad lengths */
	uint8_t bad;
};

/* One parsed roster message (reply, dump part or notification). */
struct rnl_msg {
	uint16_t type;		/* nlmsg_type */
	uint16_t flags;		/* nlmsg_flags */
	uint32_t seq;
	uint8_t cmd;		/* genl cmd */
	uint8_t version;
	uint8_t has_vpn, has_gen, has_count, has_ctime, has_reason;
	uint8_t bad;		/* unknown attribute or bad length */
	uint32_t vpn, count, reason;
	uint64_t gen, ctime;
	uint32_t nmem;		/* member nests in this message */
	uint32_t first_mem;	/* index into rnl_res.mems (if stored) */
};

struct rnl_res;
typedef void (*rnl_mem_cb)(struct rnl_res *r, const struct rnl_msg *m,
			   const struct rnl_member *mem);

/* Everything received for one request (or one notification drain). */
struct rnl_res {
	int done;
	int err;		/* 0 or -errno from NLMSG_ERROR / NLMSG_DONE */
	int ext_present;	/* NLMSGERR_ATTR_MSG present */
	char ext[256];
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE or -1 */
	int nlerr;		/* libnl/transport error (not from the kernel) */
	uint32_t seq;		/* request sequence number */
	int seq_bad;		/* messages with another sequence number */
	int acked;		/* an ACK (error 0) was received */
	int done_seen;		/* NLMSG_DONE was received */
	int err_in_done;	/* err came in NLMSG_DONE (failed dump) */
	int intr;		/* NLM_F_DUMP_INTR seen on any message */
	int stray;		/* messages still queued after completion */
	int bad;		/* messages with unknown/bad attributes */
	int timeout_ms;		/* 0: default */
	struct rnl_msg *msgs;
	size_t nmsgs, capmsgs;
	struct rnl_member *mems;
	size_t nmems, capmems;
	size_t total_mems;	/* member nests seen, stored or not */
	int nostore_mems;	/* don't keep members (large sets) */
	int nostore_msgs;	/* don't keep messages either */
	rnl_mem_cb on_mem;
	void *priv;
};

struct rnl_req {
	uint8_t cmd;
	int flags;		/* extra nlmsg flags: NLM_F_DUMP, NLM_F_EXCL */
	int no_ack;		/* don't set NLM_F_ACK */
	uint8_t has_vpn, has_flags, has_reason;
	uint32_t vpn, rflags, reason;
	const struct rnl_member *m;	/* NULL: no member nest */
	int empty_member;		/* member nest present but empty */
	/* one raw extra top-level attribute */
	uint16_t xtype;
	uint8_t xlen;
	uint8_t x[16];
};

struct rnl_ctx {
	struct nl_sock *sk;	/* requests */
	struct nl_sock *mon;	/* "notify" listener (may be NULL) */
	int fam;
	int grp;
	int version;
};

/* sockets */
struct nl_sock *rnl_sock_open(void);
int rnl_resolve(struct nl_sock *sk, int *fam, int *grp, int *version);
int rnl_ctx_open(struct rnl_ctx *c, int with_mon);
void rnl_ctx_close(struct rnl_ctx *c);
int rnl_set_rcvbuf(struct nl_sock *sk, int bytes);
int rnl_subscribe(struct nl_sock *sk, int grp);

/* requests */
void rnl_res_init(struct rnl_res *r);
void rnl_res_free(struct rnl_res *r);
int rnl_request(struct nl_sock *sk, int fam, const struct rnl_req *q,
		struct rnl_res *r);
/* Send only; returns the sequence number or a negative libnl error. */
int rnl_send(struct nl_sock *sk, int fam, const struct rnl_req *q);
/* Collect whatever the listener has queued (non-blocking). */
int rnl_drain(struct nl_sock *mon, struct rnl_res *r);

/* convenience */
int rnl_vpn_new(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);
int rnl_vpn_del(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);
int rnl_vpn_get(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);
int rnl_vpn_dump(struct rnl_ctx *c, struct rnl_res *r);
int rnl_join(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	     int excl, struct rnl_res *r);
int rnl_leave(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	      int has_reason, uint32_t reason, uint32_t flags,
	      struct rnl_res *r);
int rnl_member_get(struct rnl_ctx *c, uint32_t vpn,
		   const struct rnl_member *m, struct rnl_res *r);
/* vpn == 0: all VPNs */
int rnl_member_dump(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);

/* members */
void rnl_member_make(struct rnl_member *m, unsigned int idx, int v6,
		     unsigned int salt);
int rnl_member_eq(const struct rnl_member *a, const struct rnl_member *b);
int rnl_dev_eq(const struct rnl_member *a, const struct rnl_member *b);
const char *rnl_dev_str(const struct rnl_member *m, char *buf, size_t len);
/* index of a 10.x.y.z / fd00::idx device made by rnl_member_make */
long rnl_dev_idx(const struct rnl_member *m);

#endif /* ROSTER_NL_H */
