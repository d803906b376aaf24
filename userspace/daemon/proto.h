/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: control protocol codec (proto.c). */
#ifndef RD_PROTO_H
#define RD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"

#define RD_PROTO_VERSION 1
#define RD_HDR_LEN 12
#define RD_STORE_ID_LEN 16
#define RD_MSG_MAX 1280		/* fits rctl0's MTU unfragmented */

enum rd_type {
	RD_ACK = 1,
	RD_JOIN_REQ,
	RD_LEAVE_REQ,
	RD_JOIN,
	RD_NOTIFY,
	RD_REMOVE,
	RD_LIST,
	RD_SYNC_REQ,
	RD_ENROLL,
	RD_ENROLLED,
	RD_ERROR,
	RD_ROTATE,		/* gateway -> manager: its next key (gw-rotate.h) */
	RD_MANAGERS,
	__RD_TYPE_MAX
};

/* Header flags. */
#define RD_F_NOT_MEMBER 0x0001	/* LIST: the recipient is not (any more) a member */
/* LIST with NOT_MEMBER: removed for its silence (expire-after), so it
 * joins again: an administrator's removal stays. */
#define RD_F_REJOIN 0x0002
#define RD_F_ALL (RD_F_NOT_MEMBER | RD_F_REJOIN)

enum rd_attr {
	RD_A_UNSPEC,
	RD_A_SESSION,		/* u32: sender's instance id */
	RD_A_VPN,		/* u32 */
	RD_A_GENERATION,	/* u64 */
	RD_A_ENDPOINT_ADDR,	/* binary 4|16 */
	RD_A_ENDPOINT_PORT,	/* u16 */
	RD_A_PREFIX,		/* nest rd_prefix_attr, multi */
	RD_A_MEMBER,		/* nest rd_member_attr, multi */
	RD_A_DEV,		/* binary 4|16 */
	RD_A_PUBKEY,		/* binary 32 */
	RD_A_PART,		/* u16, 1-based */
	RD_A_NPARTS,		/* u16 */
	RD_A_TOTAL,		/* u32: members over all parts */
	RD_A_ERR_CODE,		/* u32 errno */
	RD_A_ERR_TEXT,		/* NUL-terminated string */
	RD_A_REF_SEQ,		/* u32: seq of the request an ERROR answers */
	RD_A_STORE_ID,		/* binary 16: the identity of the manager's store */
	__RD_A_MAX
};

enum rd_prefix_attr { RD_A_PREFIX_UNSPEC, RD_A_PREFIX_ADDR, RD_A_PREFIX_LEN, __RD_A_PREFIX_MAX };
enum rd_member_attr {
	RD_A_MEMBER_UNSPEC,
	RD_A_MEMBER_DEV,
	RD_A_MEMBER_KEY,
	RD_A_MEMBER_EP_ADDR,
	RD_A_MEMBER_EP_PORT,
	RD_A_MEMBER_PREFIX,
	__RD_A_MEMBER_MAX
};

struct rd_msg {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t seq, ack;
	bool has_session; uint32_t session;
	bool has_vpn; uint32_t vpn;
	bool has_gen; uint64_t gen;
	bool has_endpoint; struct roster_addr endpoint; uint16_t port;
	/* JOIN_REQ, SYNC_REQ: a port without an address (endpoint = auto):
	 * the manager takes the address its control tunnel comes from. */
	bool endpoint_auto;
	unsigned int n_prefixes;
	struct roster_prefix prefixes[ROSTER_PREFIX_MAX];
	bool has_parts; uint16_t part, nparts; uint32_t total;
	bool has_total;			/* total without parts (SYNC_REQ) */
	/* members: on encode owned by the caller; on decode malloc'ed
	 * (rd_msg_release). */
	unsigned int n_members;
	struct roster_member *members;
	bool has_dev; struct roster_addr dev;
	bool has_key; uint8_t key[32];
	bool has_err; uint32_t err; char text[128];
	bool has_ref; uint32_t ref_seq;
	/* JOIN, LIST, NOTIFY, REMOVE, ENROLLED: the store the manager's
	 * membership comes from (rd_store_identity). */
	bool has_store_id; uint8_t store_id[RD_STORE_ID_LEN];
};

const char *rd_type_name(unsigned int type);
/* Returns the encoded length or -EMSGSIZE / -EINVAL. */
int rd_msg_encode(const struct rd_msg *m, void *buf, size_t len);
/* 0 or -EINVAL/-EPROTO (*why set). m->members malloc'ed on success. */
int rd_msg_decode(const void *buf, size_t len, struct rd_msg *m, const char **why);
void rd_msg_release(struct rd_msg *m);
/* Encoded size of one member nest. */
size_t rd_member_size(const struct roster_member *mb);
/* Split n members into parts that fit RD_MSG_MAX: fills starts[] (index of
 * the first member of each part, size n+1 is enough); returns the count of
 * parts (>= 1, an empty list is one part). */
unsigned int rd_split_members(const struct roster_member *mb, unsigned int n,
			      unsigned int *starts);

#endif /* RD_PROTO_H */
