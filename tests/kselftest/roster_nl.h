/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal libnl-3 / libnl-genl-3 client of the roster generic netlink
 * family (uAPI version 2), for the uAPI selftest. Independent of libroster
 * (libmnl) on purpose: it is the second implementation the uAPI is checked
 * against.
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

/* One raw attribute a request carries on top of the modelled ones. */
struct rnl_raw {
	uint16_t type;		/* 0: none */
	uint8_t len;
	uint8_t data[16];
};

/*
 * An address is modelled by its length: 4 is sent as the *-ipv4 attribute
 * (u32, network byte order), 16 as the *-ipv6 one, 0 omits it.
 */
struct rnl_pfx {
	uint8_t addr[16];
	uint8_t alen;		/* 4: ipv4, 16: ipv6, 0: omitted */
	uint8_t len;
	uint8_t has_len;
	struct rnl_raw x;	/* request only: extra attribute in the nest */
};

struct rnl_member {
	uint8_t id[16];
	uint8_t id_len;		/* 4: id-ipv4, 16: id-ipv6, 0: omitted */
	uint8_t key[40];
	uint8_t key_len;	/* 0: attribute omitted */
	uint8_t ep[16];
	uint8_t ep_len;		/* 4: endpoint-ipv4, 16: endpoint-ipv6, 0: none */
	uint8_t has_port;
	uint16_t port;
	uint8_t npfx;
	struct rnl_pfx pfx[RNL_MAX_PFX];
	uint8_t has_jt, has_jg;
	uint64_t jt, jg;	/* join-time, join-generation */
	struct rnl_raw x;	/* request only: extra attribute in the nest */
	/* reply only: attributes the client does not know, bad lengths, or
	 * both attributes of an IPv4/IPv6 pair */
	uint8_t bad;
};

/* One parsed roster message (reply, dump part or notification). */
struct rnl_msg {
	uint16_t type;		/* nlmsg_type */
	uint16_t flags;		/* nlmsg_flags */
	uint32_t seq;
	uint8_t cmd;		/* genl cmd */
	uint8_t version;
	uint32_t attrs;		/* 1 << type of every top-level attribute */
	uint8_t has_vpn, has_gen, has_count, has_ctime, has_reason;
	uint8_t has_vflags, has_cflags;
	uint8_t bad;		/* unknown attribute or bad length */
	uint32_t vpn, count, reason, vflags, cflags;
	uint64_t gen, ctime;
	uint32_t nmem;		/* member nests in this message */
	uint32_t first_mem;	/* index into rnl_res.mems (if stored) */
};

#define RNL_A(x)	(1u << ROSTER_A_##x)

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
	int has_offs;		/* NLMSGERR_ATTR_OFFS */
	uint32_t offs;
	int cookie_len;		/* NLMSGERR_ATTR_COOKIE, 0: absent */
	uint8_t cookie[20];
	int nlerr;		/* libnl/transport error (not from the kernel) */
	uint32_t seq;		/* request sequence number */
	int seq_bad;		/* messages with another sequence number */
	int acked;		/* an ACK (error 0) was received */
	size_t ack_after;	/* messages received before the ACK */
	int done_seen;		/* NLMSG_DONE was received */
	int err_in_done;	/* err came in NLMSG_DONE (failed dump) */
	int intr;		/* NLM_F_DUMP_INTR seen on any message */
	int stray;		/* messages still queued after completion */
	int bad;		/* messages with unknown/bad attributes */
	int timeout_ms;		/* 0: default */
	int done_on_msg;	/* a do without NLM_F_ACK: done at the reply */
	/* offsets in the request (from its nlmsghdr), for NLMSGERR_ATTR_OFFS */
	uint32_t req_member_off;
	uint32_t req_pfx_off[RNL_MAX_PFX];
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

/* The u64 in the extack cookie (host byte order), or -1 if absent. */
int64_t rnl_cookie_u64(const struct rnl_res *r);

struct rnl_req {
	uint8_t cmd;
	int flags;		/* extra nlmsg flags: NLM_F_DUMP, NLM_F_EXCL */
	int no_ack;		/* don't set NLM_F_ACK */
	uint8_t has_vpn, has_flags, has_reason, has_gen, has_vflags;
	uint32_t vpn, rflags, reason, vflags;
	uint64_t gen;
	const struct rnl_member *m;	/* NULL: no member nest */
	int empty_member;		/* member nest present but empty */
	struct rnl_raw x;		/* one raw extra top-level attribute */
};

struct rnl_ctx {
	struct nl_sock *sk;	/* requests */
	struct nl_sock *mon;	/* "notify" listener (may be NULL) */
	int fam;
	int grp;
	int version;
	int maxattr;
};

/* sockets */
struct nl_sock *rnl_sock_open(void);
int rnl_resolve(struct nl_sock *sk, int *fam, int *grp, int *version,
		int *maxattr);
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
/*
 * Read exactly one datagram (waiting up to timeout_ms) and add what it
 * holds to r; returns the number of netlink messages in it, 0 on timeout,
 * or a negative errno. For reading a dump part by part.
 */
int rnl_recv_one(struct nl_sock *sk, struct rnl_res *r, int timeout_ms);
/* Number of datagrams queued on sk now (read and dropped). */
int rnl_discard(struct nl_sock *sk);

/*
 * Pipelined requests: request i (0 <= i < n) is built by fill(); up to
 * `batch` requests go in one sendmsg() and at most `window` are in flight
 * (sent, not yet completed). A request completes at its ACK or error (or at
 * its reply when fill() sets no_ack); then done() gets its rnl_res (with
 * nostore_mems set) and returns 0 to go on. Replies and acks are matched by
 * sequence number. Returns 0, the first non-zero done() value, or a
 * negative errno.
 */
typedef void (*rnl_fill_fn)(size_t i, struct rnl_req *q, struct rnl_member *m,
			    void *priv);
typedef int (*rnl_done_fn)(size_t i, const struct rnl_res *r, void *priv);
int rnl_pipeline(struct nl_sock *sk, int fam, size_t n, size_t window,
		 size_t batch, rnl_fill_fn fill, rnl_done_fn done, void *priv);

/* convenience (gen 0: unstamped) */
int rnl_vpn_new(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);
int rnl_vpn_new_ex(struct rnl_ctx *c, uint32_t vpn, uint32_t vflags,
		   uint64_t gen, struct rnl_res *r);
int rnl_vpn_del(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);
int rnl_vpn_del_ex(struct rnl_ctx *c, uint32_t vpn, uint64_t gen,
		   struct rnl_res *r);
/* vflags < 0: no vpn-flags attribute; flags: ROSTER_FLAGS_* (0: none) */
int rnl_vpn_set(struct rnl_ctx *c, uint32_t vpn, uint64_t gen, uint32_t flags,
		int64_t vflags, struct rnl_res *r);
int rnl_vpn_get(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);
int rnl_vpn_dump(struct rnl_ctx *c, struct rnl_res *r);
/* flags: ROSTER_FLAGS_* (0: no flags attribute) */
int rnl_join(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	     uint32_t flags, struct rnl_res *r);
int rnl_join_ex(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
		uint32_t flags, uint64_t gen, struct rnl_res *r);
int rnl_leave(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	      int has_reason, uint32_t reason, uint32_t flags,
	      struct rnl_res *r);
int rnl_leave_ex(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
		 int has_reason, uint32_t reason, uint32_t flags,
		 uint64_t gen, struct rnl_res *r);
int rnl_member_get(struct rnl_ctx *c, uint32_t vpn,
		   const struct rnl_member *m, struct rnl_res *r);
/* vpn == 0: all VPNs */
int rnl_member_dump(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r);

/* members */
void rnl_member_make(struct rnl_member *m, unsigned int idx, int v6,
		     unsigned int salt);
/* only the id of m (for LEAVE, MEMBER_GET) */
void rnl_member_id_only(struct rnl_member *out, const struct rnl_member *m);
void rnl_set_pfx(struct rnl_pfx *p, const char *text);	/* "a.b.c.d/n" */
void rnl_set_id(struct rnl_member *m, const char *addr);
int rnl_member_eq(const struct rnl_member *a, const struct rnl_member *b);
int rnl_id_eq(const struct rnl_member *a, const struct rnl_member *b);
const char *rnl_id_str(const struct rnl_member *m, char *buf, size_t len);
const char *rnl_pfx_str(const struct rnl_pfx *p, char *buf, size_t len);
/* index of a 10.x.y.z / fd00::idx id made by rnl_member_make */
long rnl_id_idx(const struct rnl_member *m);

#endif /* ROSTER_NL_H */
