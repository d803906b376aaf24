/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libroster - userspace access to the roster VPN membership table
 * (generic netlink family "roster", see Documentation/netlink/specs/roster.yaml).
 *
 * Conventions
 *  - Functions returning int return 0 (or a non-negative count) on success
 *    and a negative errno on failure. After a failure caused by the kernel,
 *    roster_errmsg() returns the kernel's extended-ack message, if any.
 *  - Handles are opaque. Whoever opens a handle closes it. Objects that the
 *    library allocates for the caller are documented with the function that
 *    frees them; everything else (strings, arrays passed in) stays owned by
 *    the caller and is never retained after the call returns.
 *  - A handle is not thread-safe; use one per thread.
 */
#ifndef ROSTER_LIB_H
#define ROSTER_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROSTER_LIB_VERSION "2.0"

#define ROSTER_KEY_BYTES 32
/* Must match ROSTER_MAX_PREFIXES of <linux/roster.h>. */
#define ROSTER_PREFIX_MAX 32
/* WireGuard base64 key: 44 characters plus NUL. */
#define ROSTER_KEY_B64_LEN 45
/* "[ffff:...:ffff]:65535" plus NUL, generously. */
#define ROSTER_ADDR_STRLEN 64

/* Leave reasons (enum roster_leave_reason). */
enum roster_reason {
	ROSTER_REASON_REQUESTED = 0,
	ROSTER_REASON_ADMIN = 1,
	ROSTER_REASON_EXPIRED = 2,
};

/* Change flags (the kernel's ROSTER_FLAGS_*, same values). A flag on the
 * wrong command, or RESYNC without a stamp, is refused by the kernel with
 * -EINVAL and an extack message. */
#define ROSTER_F_CREATE_ONLY (1u << 0) /* join: -EEXIST if id is a member */
#define ROSTER_F_DELETE_EMPTY (1u << 1) /* leave: delete the VPN when it empties */
#define ROSTER_F_RESYNC (1u << 2) /* stamped: part of a catch-up to the stamp */
/* v1 names. */
#define ROSTER_JOIN_EXCL ROSTER_F_CREATE_ONLY
#define ROSTER_LEAVE_DELETE_EMPTY ROSTER_F_DELETE_EMPTY

/* VPN properties (struct roster_vpn.flags, roster_vpn_create()), fixed when
 * the VPN is created. */
#define ROSTER_VPN_F_FOLLOWER (1u << 0) /* only stamped changes apply */
#define ROSTER_VPN_F_NESTED_PREFIXES (1u << 1) /* members' prefixes may nest */

/* How a notified change was made (struct roster_event.change_flags). */
#define ROSTER_CHANGE_F_STAMPED (1u << 0)
#define ROSTER_CHANGE_F_RESYNC (1u << 1)

/* An IPv4 or IPv6 address. family is AF_INET or AF_INET6 (0 = unset);
 * addr holds 4 or 16 bytes in network byte order. */
struct roster_addr {
	uint8_t family;
	uint8_t addr[16];
};

struct roster_prefix {
	struct roster_addr addr;
	uint8_t len;
};

struct roster_member {
	struct roster_addr id;		/* key of the member inside its VPN */
	uint8_t key[ROSTER_KEY_BYTES];	/* WireGuard public key */
	bool has_key;
	bool has_endpoint;
	struct roster_addr endpoint;
	uint16_t port;			/* host byte order */
	unsigned int n_prefixes;
	struct roster_prefix prefixes[ROSTER_PREFIX_MAX];
	/* Set by the kernel (replies, notifications). Sent only by a stamped
	 * roster_member_add(), and only when non-zero (a restore). */
	uint64_t join_time;		/* seconds since the epoch */
	uint64_t join_generation;
};

struct roster_vpn {
	uint32_t id;
	uint64_t generation;
	uint32_t member_count;
	uint64_t create_time;		/* seconds since the epoch */
	uint32_t flags;			/* ROSTER_VPN_F_* */
};

/* The result of a member change: the VPN's generation after it and the
 * number of members in the VPN after it. */
struct roster_change {
	uint32_t vpn_id;
	uint64_t generation;
	uint32_t member_count;
};

/* A VPN's members at one generation: one VPN of a member dump, or the set
 * roster_member_join()/leave() read after the change. Allocated by the
 * library, freed by roster_member_set_free(). */
struct roster_member_set {
	uint32_t vpn_id;
	uint64_t generation;
	uint32_t count;
	struct roster_member *members;
};

void roster_member_set_free(struct roster_member_set *set);
void roster_member_sets_free(struct roster_member_set *sets, size_t n);

/* ---- handle -------------------------------------------------------- */

struct roster_handle;

/* Open a request socket in the caller's network namespace and resolve the
 * "roster" family. -ENOENT: the family is not registered (module not
 * loaded). Close with roster_close(). */
int roster_open(struct roster_handle **hp);
/* Same, in the named network namespace (/run/netns/NAME, as `ip -n`).
 * The calling thread's namespace is restored before returning. */
int roster_open_netns(const char *name, struct roster_handle **hp);
void roster_close(struct roster_handle *h);

/* Kernel extended-ack message of the last failed request, or NULL.
 * Valid until the next call on h. */
const char *roster_errmsg(const struct roster_handle *h);
/* errno of the last failure (positive), 0 if the last call succeeded. */
int roster_last_error(const struct roster_handle *h);
/* "extack message" if there is one, else strerror(-err). */
const char *roster_strerror_ext(const struct roster_handle *h, int err);
/* The VPN's current generation as the kernel reported it with the last
 * failure (the extack cookie of a refused change: -EALREADY, -ESTALE, a
 * follower's -EPERM), 0 if it reported none. */
uint64_t roster_err_generation(const struct roster_handle *h);
/* The id of the member holding the prefix the last failure's change
 * overlapped (-EADDRINUSE; the extack cookie): 0, or -ENOENT if none. */
int roster_err_holder(const struct roster_handle *h, struct roster_addr *id);
/* After a failed roster_member_add(): the index in m->prefixes of the
 * prefix the kernel refused (it pointed its extack at it), else -1. */
int roster_err_prefix(const struct roster_handle *h);

uint16_t roster_family_id(const struct roster_handle *h);
int roster_fd(const struct roster_handle *h);

/* No-op round trip: CTRL_CMD_GETFAMILY for "roster" (benchmark floor). */
int roster_ping(struct roster_handle *h);

/* ---- stamped changes ----------------------------------------------- */
/*
 * Every change below takes a stamp: 0 = unstamped (the kernel picks the
 * next generation), else the generation the change produces. A stamped
 * change applies only if stamp == current + 1 (-EALREADY if stamp <=
 * current: old or duplicate; -ESTALE if stamp > current + 1: a gap), or,
 * with ROSTER_F_RESYNC, if stamp >= current. On refusal nothing changed
 * and roster_err_generation() returns the VPN's current generation. A
 * follower VPN (ROSTER_VPN_F_FOLLOWER) refuses unstamped changes (-EPERM).
 */

/* ---- VPNs ---------------------------------------------------------- */

/* Create an empty VPN with vpn_flags (ROSTER_VPN_F_*), at generation
 * stamp (or 1 if stamp is 0). -EEXIST if it exists. out may be NULL. */
int roster_vpn_create(struct roster_handle *h, uint32_t id, uint32_t vpn_flags,
		      uint64_t stamp, struct roster_vpn *out);
/* Delete a VPN and all its members. */
int roster_vpn_delete(struct roster_handle *h, uint32_t id, uint64_t stamp);
/* Unstamped, no flags: roster_vpn_create(h, id, 0, 0, out) and
 * roster_vpn_delete(h, id, 0). */
/* Change a VPN but not its members: stamped, move its generation to stamp
 * (with ROSTER_F_RESYNC: a catch-up that had no member left to change);
 * with vpn_flags (NULL: unchanged), set or clear ROSTER_VPN_F_FOLLOWER
 * (promoting a follower needs no stamp and makes no new generation;
 * ROSTER_VPN_F_NESTED_PREFIXES cannot change: -EINVAL). One of the two
 * must be given. out (may be NULL) receives the VPN after the change. */
int roster_vpn_set(struct roster_handle *h, uint32_t id, uint64_t stamp,
		   unsigned int flags, const uint32_t *vpn_flags, struct roster_vpn *out);
int roster_vpn_add(struct roster_handle *h, uint32_t id, struct roster_vpn *out);
int roster_vpn_del(struct roster_handle *h, uint32_t id);
int roster_vpn_get(struct roster_handle *h, uint32_t id, struct roster_vpn *out);
/* All VPNs in ascending id. *vpns is malloc()ed, free() it (NULL if n = 0).
 * The dump is retried when the kernel flags it inconsistent
 * (NLM_F_DUMP_INTR), at most 5 times, then -EINTR. */
int roster_vpn_list(struct roster_handle *h, struct roster_vpn **vpns, size_t *n);

/* ---- members ------------------------------------------------------- */

/* Store member m (id and key required) in VPN vpn_id: a new member, or a
 * replacement of the member with the same id unless flags has
 * ROSTER_F_CREATE_ONLY (then -EEXIST). An unstamped change creates a
 * missing VPN; a stamped one gets -ENOENT. flags: ROSTER_F_CREATE_ONLY,
 * ROSTER_F_RESYNC. A prefix equal to (or, without
 * ROSTER_VPN_F_NESTED_PREFIXES, overlapping) another member's is refused
 * with -EADDRINUSE; the extack names the holder. out may be NULL. */
int roster_member_add(struct roster_handle *h, uint32_t vpn_id,
		      const struct roster_member *m, unsigned int flags,
		      uint64_t stamp, struct roster_change *out);
/* roster_member_add() of m[0..n), pipelined: up to 64 requests per
 * sendmsg and their acknowledgements read together, for a restore (every
 * member stamped with the same generation and ROSTER_F_RESYNC). On a
 * refusal returns its error (roster_errmsg() and the other accessors
 * describe it) and *failed (may be NULL) = the index of the first
 * refused member; requests sent in the same batch after it may have
 * applied. 0: all stored. */
int roster_member_add_many(struct roster_handle *h, uint32_t vpn_id,
			   const struct roster_member *m, size_t n, unsigned int flags,
			   uint64_t stamp, size_t *failed);
/* Remove the member id. flags: ROSTER_F_DELETE_EMPTY (unstamped only: the
 * deletion would be a second change), ROSTER_F_RESYNC. out may be NULL. */
int roster_member_del(struct roster_handle *h, uint32_t vpn_id,
		      const struct roster_addr *id, enum roster_reason reason,
		      unsigned int flags, uint64_t stamp, struct roster_change *out);

/* Unstamped roster_member_add(); then, if set != NULL, the VPN's member
 * set read with a member dump filtered by the VPN, without m itself (the
 * mission's JOIN message): set->generation is the dump's generation,
 * which is the change's or later. Free *set with roster_member_set_free().
 * flags: ROSTER_F_CREATE_ONLY (ROSTER_JOIN_EXCL). */
int roster_member_join(struct roster_handle *h, uint32_t vpn_id,
		       const struct roster_member *m, unsigned int flags,
		       struct roster_member_set **set);
/* Unstamped roster_member_del(); *set (if set != NULL) receives the
 * remaining members as above (empty if the VPN was deleted). flags:
 * ROSTER_F_DELETE_EMPTY (ROSTER_LEAVE_DELETE_EMPTY). */
int roster_member_leave(struct roster_handle *h, uint32_t vpn_id,
			const struct roster_addr *id, enum roster_reason reason,
			unsigned int flags, struct roster_member_set **set);

int roster_member_get(struct roster_handle *h, uint32_t vpn_id,
		      const struct roster_addr *id, struct roster_member *out,
		      uint64_t *generation);
/* Dump the members of one VPN (vpn_id != 0; -ENOENT if unknown) or of all
 * VPNs (vpn_id == 0): one set per VPN that has members, ascending id,
 * members in join order. Consistent (retried on NLM_F_DUMP_INTR, at most
 * 5 times, then -EINTR). Free with roster_member_sets_free(*sets, *n). */
int roster_member_list(struct roster_handle *h, uint32_t vpn_id,
		       struct roster_member_set **sets, size_t *n);

/* ---- events -------------------------------------------------------- */

enum roster_event_type {
	ROSTER_EVENT_VPN_NEW = 1,
	ROSTER_EVENT_VPN_DEL,
	ROSTER_EVENT_MEMBER_JOINED,
	ROSTER_EVENT_MEMBER_UPDATED,
	ROSTER_EVENT_MEMBER_LEFT,
	/* The socket overflowed (ENOBUFS): events were lost. The consumer
	 * must resynchronise (e.g. roster_vpn_list + roster_member_list). */
	ROSTER_EVENT_OVERRUN,
	/* A VPN's generation or follower mark changed (roster_vpn_set). */
	ROSTER_EVENT_VPN_CHANGED,
};

struct roster_event {
	enum roster_event_type type;
	uint32_t vpn_id;
	uint64_t generation;
	uint32_t member_count;	/* VPN_NEW, VPN_CHANGED */
	uint64_t create_time;	/* VPN_NEW, VPN_CHANGED */
	uint32_t vpn_flags;	/* VPN_NEW, VPN_CHANGED: ROSTER_VPN_F_* */
	uint32_t change_flags;	/* ROSTER_CHANGE_F_*; 0 = unstamped */
	bool has_reason;
	enum roster_reason reason; /* MEMBER_LEFT */
	bool has_member;
	struct roster_member member; /* MEMBER_*; LEFT carries only id */
};

struct roster_monitor;

/* Subscribe to the "notify" group on a dedicated socket in h's network
 * namespace, with an enlarged (8 MiB) receive buffer. h is only used
 * during the call. Close with roster_monitor_close(). */
int roster_monitor_open(struct roster_handle *h, struct roster_monitor **mp);
void roster_monitor_close(struct roster_monitor *m);
/* Change the receive buffer size (bytes; SO_RCVBUFFORCE, else SO_RCVBUF). */
int roster_monitor_set_rcvbuf(struct roster_monitor *m, int bytes);
/* Non-blocking socket fd to poll() for POLLIN. */
int roster_monitor_fd(const struct roster_monitor *m);

typedef int (*roster_event_cb)(const struct roster_event *ev, void *arg);
/* Read and deliver every event available now (does not block). Returns
 * the number of events delivered (0 if none), a negative errno, or the
 * callback's non-zero return. A receive-buffer overrun is delivered as a
 * ROSTER_EVENT_OVERRUN event, never silently dropped. */
int roster_monitor_read(struct roster_monitor *m, roster_event_cb cb, void *arg);

const char *roster_event_name(enum roster_event_type t);

/* ---- parsing and formatting helpers ------------------------------- */
/* Parsers return 0 or -EINVAL (-ERANGE for numbers out of range). */

int roster_addr_parse(const char *s, struct roster_addr *a);
/* The address's length in bytes: 4, 16, or 0 if the family is unset. */
size_t roster_addr_len(const struct roster_addr *a);
/* Into buf (at least ROSTER_ADDR_STRLEN). Returns buf. */
const char *roster_addr_format(const struct roster_addr *a, char *buf, size_t len);

/* "ADDR/LEN" (or "ADDR" = host prefix). Host bits set -> -EINVAL with
 * *why = "Invalid prefix for given prefix length." */
int roster_prefix_parse(const char *s, struct roster_prefix *p, const char **why);
const char *roster_prefix_format(const struct roster_prefix *p, char *buf, size_t len);

/* WireGuard base64 keys: 44 characters, 32 bytes. */
int roster_key_parse(const char *s, uint8_t key[ROSTER_KEY_BYTES]);
void roster_key_format(const uint8_t key[ROSTER_KEY_BYTES], char buf[ROSTER_KEY_B64_LEN]);

/* "A.B.C.D:PORT" or "[V6]:PORT", port 1..65535. */
int roster_endpoint_parse(const char *s, struct roster_addr *a, uint16_t *port);
const char *roster_endpoint_format(const struct roster_addr *a, uint16_t port,
				   char *buf, size_t len);

/* Decimal u32 >= 1 (VPN ids). */
int roster_vpn_id_parse(const char *s, uint32_t *id);
/* Decimal u64 >= 1 (generations, stamps). */
int roster_generation_parse(const char *s, uint64_t *g);

const char *roster_reason_name(uint32_t reason);
int roster_reason_parse(const char *s, enum roster_reason *r);

#ifdef __cplusplus
}
#endif
#endif /* ROSTER_LIB_H */
