/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: invitation token (token.c). */
#ifndef RD_TOKEN_H
#define RD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"

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

#endif /* RD_TOKEN_H */
