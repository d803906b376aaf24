// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: invitation tokens.
 *
 * token = base64url("v1|<manager pubkey>|<manager endpoint:port>|
 *         <manager control addr>|<control port>|<ID>|<prefixlen>|
 *         <invite private key>|<expiry unix>")
 *
 * The token carries no MAC of its own (no home-made crypto): its integrity
 * and secrecy are the transport's business, and a token whose keys or ID
 * were altered cannot complete the WireGuard handshake or pass the
 * manager's cryptokey routing. Decoding is strict: every field must be
 * well formed and the token must be the canonical encoding of what it
 * decodes to, so any edit that keeps the structure plausible is still
 * caught unless it yields another valid token.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlnet.h"
#include "util.h"
#include "token.h"

#define TOKEN_FIELDS 9
#define RD_TOKEN_MIN_EXPIRY 1577836800ull	/* 2020-01-01 */

static int format_plain(const struct rd_token *t, char *out, size_t outlen)
{
	char mk[ROSTER_KEY_B64_LEN], ik[ROSTER_KEY_B64_LEN], ep[ROSTER_ADDR_STRLEN];
	char ca[ROSTER_ADDR_STRLEN], id[ROSTER_ADDR_STRLEN];
	int n;

	roster_key_format(t->manager_key, mk);
	roster_key_format(t->invite_key, ik);
	roster_endpoint_format(&t->manager_endpoint, t->manager_port, ep, sizeof(ep));
	roster_addr_format(&t->control_addr, ca, sizeof(ca));
	roster_addr_format(&t->id, id, sizeof(id));
	n = snprintf(out, outlen, "v1|%s|%s|%s|%u|%s|%u|%s|%llu", mk, ep, ca,
		     t->control_port, id, t->prefixlen, ik, (unsigned long long)t->expiry);
	return n < 0 || (size_t)n >= outlen ? -EMSGSIZE : n;
}

int rd_token_encode(const struct rd_token *t, char *out, size_t outlen)
{
	char plain[RD_TOKEN_MAX];
	int n = format_plain(t, plain, sizeof(plain));

	if (n < 0)
		return n;
	if (!rd_b64url_encode(plain, (size_t)n, out, outlen))
		return -EMSGSIZE;
	return 0;
}

static int num(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*end || errno || *v > max)
		return -EINVAL;
	return 0;
}

int rd_token_decode(const char *s, struct rd_token *t, const char **why)
{
	char plain[RD_TOKEN_MAX], again[RD_TOKEN_MAX];
	char *f[TOKEN_FIELDS], *p;
	unsigned long long v;
	struct roster_prefix pf;
	ssize_t n;
	int i;

	memset(t, 0, sizeof(*t));
	*why = "not a rosterd token (bad encoding)";
	if (strlen(s) >= sizeof(plain) * 4 / 3)
		return -EINVAL;
	n = rd_b64url_decode(s, plain, sizeof(plain) - 1);
	if (n <= 0)
		return -EINVAL;
	plain[n] = 0;
	if (memchr(plain, 0, (size_t)n))
		return -EINVAL;
	if (strncmp(plain, "v1|", 3)) {
		*why = "unsupported token version";
		return -EINVAL;
	}
	*why = "malformed token";
	/* Split on '|' into exactly TOKEN_FIELDS fields. */
	memcpy(again, plain, (size_t)n + 1);
	p = again;
	for (i = 0; i < TOKEN_FIELDS; i++) {
		f[i] = p;
		p = strchr(p, '|');
		if (!p)
			break;
		*p++ = 0;
	}
	if (i != TOKEN_FIELDS - 1 || p)
		return -EINVAL;
	if (roster_key_parse(f[1], t->manager_key)) {
		*why = "bad manager key in token";
		return -EINVAL;
	}
	if (roster_endpoint_parse(f[2], &t->manager_endpoint, &t->manager_port)) {
		*why = "bad manager endpoint in token";
		return -EINVAL;
	}
	if (roster_addr_parse(f[3], &t->control_addr)) {
		*why = "bad control address in token";
		return -EINVAL;
	}
	if (num(f[4], 65535, &v) || !v) {
		*why = "bad control port in token";
		return -EINVAL;
	}
	t->control_port = (uint16_t)v;
	if (roster_addr_parse(f[5], &t->id) || t->id.family != t->control_addr.family) {
		*why = "bad gateway id in token";
		return -EINVAL;
	}
	if (num(f[6], rd_ctlnet_prefix_max(&t->control_addr), &v) || v < 8) {
		*why = "bad prefix length in token";
		return -EINVAL;
	}
	t->prefixlen = (uint8_t)v;
	if (roster_key_parse(f[7], t->invite_key)) {
		*why = "bad invitation key in token";
		return -EINVAL;
	}
	/* Expiries before 2020 are implausible (a cut or edited field). */
	if (num(f[8], UINT64_MAX, &v) || v < RD_TOKEN_MIN_EXPIRY) {
		*why = "bad expiry in token";
		return -EINVAL;
	}
	t->expiry = v;
	pf.addr = t->control_addr;
	pf.len = t->prefixlen;
	rd_prefix_mask(&pf);
	if (!rd_ctlnet_id_ok(&pf, &t->control_addr, &t->id, NULL)) {
		*why = "gateway id outside the control prefix in token";
		return -EINVAL;
	}
	/* Canonical form only: re-encode and compare. */
	if (format_plain(t, again, sizeof(again)) != n || memcmp(again, plain, (size_t)n)) {
		*why = "token is not in canonical form (altered?)";
		return -EINVAL;
	}
	*why = NULL;
	return 0;
}
