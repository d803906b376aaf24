/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: address, time, base64url and file helpers (util.c). */
#ifndef RD_UTIL_H
#define RD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"

bool rd_addr_eq(const struct roster_addr *a, const struct roster_addr *b);
bool rd_prefix_eq(const struct roster_prefix *a, const struct roster_prefix *b);
/* Order by family, then address bytes (sorting and bsearch by id). */
int rd_addr_cmp(const struct roster_addr *a, const struct roster_addr *b);
/* The two prefix lists hold the same prefixes, in any order (a member's
 * lists have no duplicates: roster.ko refuses them). */
bool rd_prefixes_same(const struct roster_prefix *a, unsigned int na,
		      const struct roster_prefix *b, unsigned int nb);
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

#endif /* RD_UTIL_H */
