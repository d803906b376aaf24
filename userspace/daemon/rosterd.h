/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd - the roster controller (manager and gateway roles).
 * See Documentation/rosterd.rst and build/ROSTERD.md.
 */
#ifndef ROSTERD_H
#define ROSTERD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"

#define ROSTERD_VERSION "0.1.0"

/* ---- logging (log.c) --------------------------------------------- */

enum rd_log_level { RD_LOG_ERROR, RD_LOG_WARN, RD_LOG_INFO, RD_LOG_DEBUG };

extern int rd_log_level;
void rd_log_init(const char *role);
int rd_log_level_parse(const char *s);
void rd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rd_err(...)   rd_log(RD_LOG_ERROR, __VA_ARGS__)
#define rd_warn(...)  rd_log(RD_LOG_WARN, __VA_ARGS__)
#define rd_info(...)  rd_log(RD_LOG_INFO, __VA_ARGS__)
#define rd_dbg(...)   rd_log(RD_LOG_DEBUG, __VA_ARGS__)

/* ---- configuration (config.c) ------------------------------------ */

#define RD_MAX_VPNS 256

struct rd_vpn_conf {
	uint32_t id;
	uint16_t listen_port;
	uint16_t keepalive;		/* persistent keepalive of the peers, s */
	char ifname[IFNAMSIZ];
	unsigned int n_prefixes;
	struct roster_prefix prefixes[ROSTER_PREFIX_MAX];
};

struct rd_config {
	bool has_manager, has_gateway;
	int log_level;			/* -1: not set */
	unsigned int retry_ms;
	/* [manager] */
	uint16_t listen_port;
	bool has_endpoint;
	struct roster_addr endpoint;	/* manager: reachable at; gateway: own */
	struct roster_addr control_addr;
	struct roster_prefix control_prefix;
	uint16_t control_port;
	char ifname[IFNAMSIZ];
	char state_dir[256];
	/* [gateway] */
	bool leave_on_exit;
	unsigned int sync_interval;	/* s between SYNC_REQs; 0: never */
	unsigned int n_vpns;
	struct rd_vpn_conf vpns[RD_MAX_VPNS];
};

enum rd_role { RD_ROLE_MANAGER, RD_ROLE_GATEWAY };

/* Parse text (NUL-terminated) for role. On error returns -EINVAL and
 * writes "line N: what" to err. */
int rd_config_parse(const char *text, enum rd_role role, struct rd_config *c,
		    char *err, size_t errlen);
int rd_config_load(const char *path, enum rd_role role, struct rd_config *c,
		   char *err, size_t errlen);

/* ---- utilities (util.c) ------------------------------------------ */

size_t rd_addr_len(const struct roster_addr *a);
bool rd_addr_eq(const struct roster_addr *a, const struct roster_addr *b);
bool rd_prefix_eq(const struct roster_prefix *a, const struct roster_prefix *b);
/* Does prefix p contain address a? */
bool rd_prefix_contains(const struct roster_prefix *p, const struct roster_addr *a);
void rd_prefix_mask(struct roster_prefix *p);
socklen_t rd_sockaddr(const struct roster_addr *a, uint16_t port,
		      struct sockaddr_storage *ss);
int rd_from_sockaddr(const struct sockaddr *sa, struct roster_addr *a, uint16_t *port);
const char *rd_ntop(const struct roster_addr *a);	/* static rotating buffers */
const char *rd_sa_ntop(const struct sockaddr *sa);

/* The text of the ERROR that answers a JOIN_REQ roster.ko refused with
 * err (positive errno), extack (NULL if none) and, for EADDRINUSE, holder
 * (NULL if unknown): the member whose prefix one of the join's overlaps,
 * which the kernel refused under its writer lock and names in the extack
 * cookie (roster_err_holder()) on every kernel. 6.12 also formats it:
 * "roster: A/L overlaps B/M of ID" (IPv6: "roster: overlaps B/M of ID",
 * cut at 80 characters) becomes "prefix A/L overlaps B/M of member ID";
 * 6.1's fixed text "prefix overlaps a prefix of member ID". Any other
 * extack is passed on as it is, without one strerror(err). Returns text. */
const char *rd_join_error_text(int err, const char *extack, const struct roster_addr *holder,
			       char *text, size_t len);

int64_t rd_now_ms(void);
void rd_random(void *buf, size_t len);

/* base64url without padding (padding accepted on decode). */
size_t rd_b64url_encode(const void *in, size_t len, char *out, size_t outlen);
ssize_t rd_b64url_decode(const char *in, void *out, size_t outlen);

int rd_read_file(const char *path, char **text);	/* NUL-terminated, malloc'ed */
int rd_write_file(const char *path, const char *text, mode_t mode); /* tmp + rename */
int rd_mkdir_p(const char *path, mode_t mode);
int rd_lock_dir(const char *dir);	/* flock on DIR/lock; returns fd */
void rd_unlock_dir(int fd);

/* ---- invitation token (token.c) ---------------------------------- */

struct rd_token {
	uint8_t manager_key[32];
	struct roster_addr manager_endpoint;
	uint16_t manager_port;
	struct roster_addr control_addr;
	uint16_t control_port;
	struct roster_addr id;
	uint8_t prefixlen;
	uint8_t invite_key[32];		/* private */
	uint64_t expiry;
};

/* out must hold at least RD_TOKEN_MAX bytes. */
#define RD_TOKEN_MAX 512
int rd_token_encode(const struct rd_token *t, char *out, size_t outlen);
/* -EINVAL on any malformed/tampered field; *why says which. */
int rd_token_decode(const char *s, struct rd_token *t, const char **why);

/* ---- control protocol (proto.c) ---------------------------------- */

#define RD_PROTO_VERSION 1
#define RD_HDR_LEN 12
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
	__RD_TYPE_MAX
};

/* Header flags. */
#define RD_F_NOT_MEMBER 0x0001	/* LIST: the recipient is not (any more) a member */
#define RD_F_ALL RD_F_NOT_MEMBER

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

/* ---- reliability (rel.c) ----------------------------------------- */

#define RD_WINDOW 256
#define RD_MAX_INFLIGHT 128
#define RD_RETRY_CAP_MS 4000
/* Retransmissions to one peer per pass: forming a mesh of 128, the
 * manager retransmitted 45 509 times for 9 529 messages to gateways that
 * were slow to be scheduled, not losing datagrams. */
#define RD_RETX_BURST 4

/* Duplicate suppression: sliding window over a sender's seq numbers,
 * reset when the sender's session grows. Sessions only grow (see
 * rd_session_next), so a message from an earlier session is stale. */
struct rd_window {
	bool valid;
	uint32_t session;
	uint32_t top;
	uint64_t bits[RD_WINDOW / 64];
};

enum rd_window_verdict { RD_WIN_NEW, RD_WIN_DUP, RD_WIN_NEW_SESSION, RD_WIN_STALE };
/* RD_WIN_NEW_SESSION: accepted, and the sender restarted (its session
 * grew since the last message); the first contact is RD_WIN_NEW.
 * RD_WIN_STALE: from a session older than the current one: drop it. */
int rd_window_check(struct rd_window *w, uint32_t session, uint32_t seq);

struct rd_pending {
	struct rd_pending *next;
	uint32_t seq;
	uint8_t type;
	uint32_t vpn;
	bool sent;
	int tries;
	int timeout_ms;
	int64_t due;
	int64_t sent_at;		/* first transmission, for the RTT */
	size_t len;
	uint8_t buf[];
};

/* One remote endpoint (address + port). */
struct rd_peer {
	struct rd_peer *next;
	struct rd_peer *hnext;		/* in rd_link.hash */
	uint32_t hash;
	struct sockaddr_storage sa;
	socklen_t salen;
	uint32_t next_seq;
	struct rd_window win;
	struct rd_pending *q;
	/* Round-trip estimate (RFC 6298, ms; 0: no sample yet): a slow or
	 * busy receiver gets a longer first timeout instead of a storm of
	 * retransmissions it would have ACKed anyway. */
	int srtt, rttvar;
	void *priv;
};

struct rd_link;
/* Called when a reliable message is acked (acked = true) or given up. */
typedef void (*rd_done_cb)(struct rd_link *l, struct rd_peer *p,
			   const struct rd_pending *pm, bool acked);

/* A manager talks to every gateway: looking a sender up must not cost a
 * walk over all of them. */
#define RD_PEER_BUCKETS 4096

struct rd_link {
	int fd;
	uint32_t session;
	int retry_ms;
	int max_tries;		/* 0: retry forever */
	struct rd_peer *peers;
	struct rd_peer **hash;	/* RD_PEER_BUCKETS chains */
	int64_t next_due;	/* no retransmission is due before this */
	rd_done_cb done;
	void *priv;
};

void rd_link_init(struct rd_link *l, int fd, int retry_ms, int max_tries, rd_done_cb done);
void rd_link_free(struct rd_link *l);
struct rd_peer *rd_peer_get(struct rd_link *l, const struct sockaddr *sa, socklen_t len,
			    bool create);
/* Encode and send m (seq assigned unless ACK), queueing it for retransmit. */
int rd_send(struct rd_link *l, struct rd_peer *p, struct rd_msg *m);
int rd_send_ack(struct rd_link *l, struct rd_peer *p, uint32_t seq);
/* An ACK arrived. */
void rd_acked(struct rd_link *l, struct rd_peer *p, uint32_t seq);
/* Retransmit what is due; returns ms until the next deadline, -1 if none. */
int rd_tick(struct rd_link *l, int64_t now);
/* Something of one of the types (bit 1 << type) for vpn is still queued
 * or unacknowledged to p. */
bool rd_pending_of(const struct rd_peer *p, uint32_t vpn, uint32_t types);
bool rd_idle(const struct rd_link *l);
/* Drop everything queued for p (without callbacks). */
void rd_peer_flush(struct rd_peer *p);

/* ---- kernel interfaces (netif.c, wg) ------------------------------ */

int rd_if_index(const char *name);
int rd_link_set_up(const char *name);
int rd_addr_add(const char *ifname, const struct roster_addr *a, uint8_t plen);
int rd_route_replace(const char *ifname, const struct roster_prefix *p);
int rd_route_del(const char *ifname, const struct roster_prefix *p);
/* Routes with protocol RTPROT_STATIC through ifname. *out malloc'ed. */
int rd_route_list(const char *ifname, struct roster_prefix **out, unsigned int *n);

/* WireGuard helpers (wgdev.c): */
struct rd_wg_peer {
	uint8_t key[32];
	bool has_endpoint;
	struct roster_addr endpoint;
	uint16_t port;
	unsigned int n_allowed;
	const struct roster_prefix *allowed;
	uint16_t keepalive;
	bool remove;
};
/* Create (if needed) ifname, set private key (if key) and listen port (if port). */
int rd_wg_setup(const char *ifname, const uint8_t *privkey, uint16_t port);
int rd_wg_del(const char *ifname);
/* Apply peers in one call (the library splits big sets). replace: remove
 * every existing peer not in peers[]. */
int rd_wg_apply(const char *ifname, const struct rd_wg_peer *peers, unsigned int n,
		bool replace);
/* Current peer keys of ifname. *keys malloc'ed (n*32 bytes). */
int rd_wg_peer_keys(const char *ifname, uint8_t (**keys)[32], unsigned int *n);
void rd_wg_genkey(uint8_t priv[32]);
void rd_wg_pubkey(uint8_t pub[32], const uint8_t priv[32]);
void rd_key_b64(const uint8_t key[32], char out[45]);
int rd_key_from_b64(const char *s, uint8_t key[32]);

/* ---- state directory (state.c) ---------------------------------- */

#define RD_ENTRY_MAX_VPNS 64

/* An enrolled gateway ("gateways") or a pending invitation ("invites"). */
struct rd_entry {
	struct roster_addr id;
	uint8_t key[32];		/* gateway / invitation public key */
	unsigned int n_vpns;
	uint32_t vpns[RD_ENTRY_MAX_VPNS];
	uint64_t expiry;		/* invitations only */
};

int rd_state_load(const char *dir, const char *name, struct rd_entry **out, unsigned int *n);
int rd_state_save(const char *dir, const char *name, const struct rd_entry *e, unsigned int n);
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
};

int rd_identity_load(const char *dir, struct rd_identity *id);
int rd_identity_save(const char *dir, const struct rd_identity *id);

/* ---- roles ------------------------------------------------------- */

int rd_manager_run(struct rd_config *c);
int rd_cmd_invite(struct rd_config *c, const struct roster_addr *id,
		  const uint32_t *vpns, unsigned int nvpns, uint64_t ttl);
int rd_gateway_run(struct rd_config *c);
int rd_cmd_redeem(struct rd_config *c, const char *token);
int rd_cmd_leave(struct rd_config *c, uint32_t vpn);

/* Signal handling shared by the roles: returns a signalfd for
 * SIGINT/SIGTERM/SIGHUP (blocked). */
int rd_signalfd(void);
/* UDP socket bound to a:port. */
/* A UDP socket bound to a:port and, if ifname, to that interface only: the
 * control channel must take nothing that did not come through the tunnel.
 * Its buffers hold RD_SOCKET_BUFFER bytes (a fan-out's worth of ACKs). */
#define RD_SOCKET_BUFFER (64 << 20)
int rd_udp_socket(const struct roster_addr *a, uint16_t port, const char *ifname);

#endif /* ROSTERD_H */
