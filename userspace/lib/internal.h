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
};

size_t roster_addr_len(const struct roster_addr *a);

/* Building. buf must hold ROSTER_TXBUF_LEN bytes. */
struct nlmsghdr *roster_msg_start(void *buf, uint16_t family_id, uint8_t cmd,
				  uint16_t flags, uint32_t seq);
void roster_put_addr(struct nlmsghdr *nlh, uint16_t type, const struct roster_addr *a);
void roster_put_member(struct nlmsghdr *nlh, const struct roster_member *m, bool dev_only);
struct nlmsghdr *roster_build_join(void *buf, uint16_t family_id, uint32_t seq,
				   uint32_t vpn_id, const struct roster_member *m,
				   unsigned int flags);
struct nlmsghdr *roster_build_leave(void *buf, uint16_t family_id, uint32_t seq,
				    uint32_t vpn_id, const struct roster_addr *dev,
				    enum roster_reason reason, unsigned int flags);
struct nlmsghdr *roster_build_getfamily(void *buf, uint32_t seq, const char *name);

/* Parsing. Return 0 or -EPROTO (malformed). */
struct roster_top {
	bool has_vpn_id, has_generation, has_member_count, has_create_time, has_reason;
	uint32_t vpn_id;
	uint64_t generation;
	uint32_t member_count;
	uint64_t create_time;
	uint32_t reason;
	unsigned int n_members;
};
int roster_parse_member(const struct nlattr *nest, struct roster_member *m);
/* Parses the top-level attributes of a roster genl message; cb (may be
 * NULL) is called for every member nest in order. A non-zero cb return
 * stops parsing and is returned. */
int roster_parse_msg(const struct nlmsghdr *nlh, struct roster_top *t,
		     roster_member_cb cb, void *arg);
int roster_parse_vpn(const struct nlmsghdr *nlh, struct roster_vpn *v);
/* Parse an NLMSG_ERROR or NLMSG_DONE message (with extack TLVs). */
void roster_parse_nlerr(const struct nlmsghdr *nlh, struct roster_nlerr *e);
int roster_parse_event(const struct nlmsghdr *nlh, struct roster_event *ev);

/* Assembly of a multi-part JOIN/LEAVE reply. */
struct roster_set_state {
	uint32_t seq;
	uint8_t cmd;
	bool no_members;	/* member-count without the members (NO_MEMBERS) */
	roster_member_cb cb;
	void *arg;
	unsigned int n_msgs;
	uint32_t vpn_id;
	uint64_t generation;
	uint32_t expected;
	uint32_t seen;
	int cb_ret;
	struct roster_nlerr err;
};
/* Feed one receive buffer. Returns 0 if more is needed, 1 when the reply
 * is complete, or a negative errno (st->err holds the extack). Messages
 * with another sequence number are ignored. */
int roster_set_feed(struct roster_set_state *st, const void *buf, size_t len);

/* Collecting callback for struct roster_member_set. */
int roster_set_collect_cb(uint32_t vpn_id, uint64_t generation,
			  const struct roster_member *m, void *arg);
struct roster_set_builder {
	struct roster_member_set *set;
	uint32_t cap;
};
int roster_set_builder_add(struct roster_set_builder *b, const struct roster_member *m);

#endif
