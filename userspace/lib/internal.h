/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libroster internals: message building/parsing (pure, unit-tested on
 * buffers) and the handle layout. Not installed. */
#ifndef ROSTER_INTERNAL_H
#define ROSTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "roster.h"

#define ROSTER_ERRMSG_LEN 256
#define ROSTER_RXBUF_LEN (256 * 1024)
#define ROSTER_TXBUF_LEN 8192
#define ROSTER_DUMP_TRIES 5
#define ROSTER_MONITOR_RCVBUF (8 * 1024 * 1024)

#ifndef NLM_F_DUMP_INTR
#define NLM_F_DUMP_INTR 0x10
#endif

struct roster_handle {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint16_t family_id;
	uint32_t mcgrp_id;
	int netns_fd;		/* -1: the namespace we were opened in */
	int last_err;		/* positive errno, 0 = success */
	uint64_t err_generation; /* from the last failure's extack cookie */
	struct roster_addr err_holder; /* likewise; family 0 = none */
	int err_offs;		/* NLMSGERR_ATTR_OFFS of the last failure, -1 */
	int err_prefix;		/* the prefix it points at (member add), -1 */
	char errmsg[ROSTER_ERRMSG_LEN];
	char strerr[ROSTER_ERRMSG_LEN + 64];
	char *rx;		/* ROSTER_RXBUF_LEN */
};

/* Result of NLMSG_ERROR/NLMSG_DONE parsing. */
struct roster_nlerr {
	int error;		/* 0 or negative errno */
	char msg[ROSTER_ERRMSG_LEN];
	int miss_type;		/* -1 if absent */
	bool has_offs;
	uint32_t offs;
	/* NLMSGERR_ATTR_COOKIE: 8 bytes, the VPN's generation (refused
	 * stamped change, follower); 4 or 16, the id of the member holding a
	 * prefix (EADDRINUSE). */
	size_t cookie_len;	/* 0: none */
	uint8_t cookie[20];
};


/* Building. buf must hold ROSTER_TXBUF_LEN bytes. Attribute order in
 * every request: vpn-id, generation, flags, vpn-flags, reason, member. */
struct nlmsghdr *roster_msg_start(void *buf, uint16_t family_id, uint8_t cmd,
				  uint16_t flags, uint32_t seq);
/* An address as the attribute pair type4 (u32, network byte order) or
 * type6 (16 bytes), by family. */
void roster_put_addr(struct nlmsghdr *nlh, uint16_t type4, uint16_t type6,
		     const struct roster_addr *a);
/* The member nest. id_only: only id-ipv4/id-ipv6 (LEAVE, GET).
 * restore: also join-time/join-generation when non-zero. */
void roster_put_member(struct nlmsghdr *nlh, const struct roster_member *m,
		       bool id_only, bool restore);
struct nlmsghdr *roster_build_vpn_new(void *buf, uint16_t family_id, uint32_t seq,
				      uint32_t vpn_id, uint32_t vpn_flags,
				      uint64_t stamp);
struct nlmsghdr *roster_build_vpn_del(void *buf, uint16_t family_id, uint32_t seq,
				      uint32_t vpn_id, uint64_t stamp);
/* vpn_flags NULL: no vpn-flags attribute. */
struct nlmsghdr *roster_build_vpn_set(void *buf, uint16_t family_id, uint32_t seq,
				      uint32_t vpn_id, uint64_t stamp, unsigned int flags,
				      const uint32_t *vpn_flags);
/* flags: ROSTER_F_* (the kernel's values). */
struct nlmsghdr *roster_build_join(void *buf, uint16_t family_id, uint32_t seq,
				   uint32_t vpn_id, const struct roster_member *m,
				   unsigned int flags, uint64_t stamp);
struct nlmsghdr *roster_build_leave(void *buf, uint16_t family_id, uint32_t seq,
				    uint32_t vpn_id, const struct roster_addr *id,
				    enum roster_reason reason, unsigned int flags,
				    uint64_t stamp);
struct nlmsghdr *roster_build_getfamily(void *buf, uint32_t seq, const char *name);
/* The index of the prefix nest of req's member that starts offs bytes
 * into req (an extack's NLMSGERR_ATTR_OFFS), or -1. */
int roster_prefix_at(const struct nlmsghdr *req, uint32_t offs);

/* Parsing. Return 0 or -EPROTO (malformed). */
struct roster_top {
	bool has_vpn_id, has_generation, has_member_count, has_create_time, has_reason;
	uint32_t vpn_id;
	uint64_t generation;
	uint32_t member_count;
	uint64_t create_time;
	uint32_t reason;
	uint32_t vpn_flags;
	uint32_t change_flags;
	unsigned int n_members;
};
int roster_parse_member(const struct nlattr *nest, struct roster_member *m);
/* Called once per member nest, in order; the member is only valid during
 * the call. A non-zero return stops the parsing. */
typedef int (*roster_member_cb)(uint32_t vpn_id, uint64_t generation,
				const struct roster_member *m, void *arg);
/* Parses the top-level attributes of a roster genl message; cb (may be
 * NULL) is called for every member nest in order. A non-zero cb return
 * stops parsing and is returned. */
int roster_parse_msg(const struct nlmsghdr *nlh, struct roster_top *t,
		     roster_member_cb cb, void *arg);
int roster_parse_vpn(const struct nlmsghdr *nlh, struct roster_vpn *v);
/* The reply to a MEMBER_JOIN/LEAVE (cmd): vpn-id, generation and
 * member-count, no member. */
int roster_parse_change(const struct nlmsghdr *nlh, uint8_t cmd,
			struct roster_change *c);
/* Parse an NLMSG_ERROR or NLMSG_DONE message (with extack TLVs). */
void roster_parse_nlerr(const struct nlmsghdr *nlh, struct roster_nlerr *e);
int roster_parse_event(const struct nlmsghdr *nlh, struct roster_event *ev);

/* Processing the replies to one request, buffer by buffer (pure, so that
 * the unit tests can feed it bytes). */
typedef int (*roster_msg_cb)(const struct nlmsghdr *nlh, void *arg);
struct roster_reply {
	uint32_t seq;		/* messages with another seq are skipped */
	roster_msg_cb cb;	/* every data message; may be NULL */
	void *arg;
	bool intr;		/* a message was flagged NLM_F_DUMP_INTR */
	int cb_ret;		/* the first non-zero cb return */
	struct roster_nlerr err;
};
/* Returns 0 if more is needed, 1 at the ACK or NLMSG_DONE, or a negative
 * errno: the kernel's (r->err holds its extack) or cb's. */
int roster_reply_feed(struct roster_reply *r, const void *buf, size_t len);

/* roster_msg_cb for the reply to a change (MEMBER_JOIN/LEAVE): exactly one
 * message of cmd, parsed into *c; n counts the messages seen. */
struct roster_change_reply {
	uint8_t cmd;
	unsigned int n;
	struct roster_change *c;
};
int roster_change_msg_cb(const struct nlmsghdr *nlh, void *arg);

/* Growing a struct roster_member_set. */
struct roster_set_builder {
	struct roster_member_set *set;
	uint32_t cap;
};
int roster_set_builder_add(struct roster_set_builder *b, const struct roster_member *m);
/* Remove the member id from set, keeping the order. Returns whether it
 * was there. */
bool roster_set_remove(struct roster_member_set *set, const struct roster_addr *id);

#endif
