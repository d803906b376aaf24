// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the invitation token decoder (token.c,
 * rd_token_decode). Oracles: a refusal says why; a token that decodes has
 * valid fields (an id of the control address's family inside the control
 * prefix, not the manager's own address nor, for IPv6, the prefix's
 * anycast address, a prefix length of 8..30 for IPv4 and 8..126 for IPv6,
 * a plausible expiry, ports) and is
 * canonical: encoded again it is the same string, and decodes to the same
 * token.
 */
#include <string.h>

#include "token.h"
#include "util.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[2048], out[RD_TOKEN_MAX];
	struct rd_token t, t2;
	struct roster_prefix pf;
	const char *why = NULL;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (rd_token_decode(s, &t, &why)) {
		FUZZ_ASSERT(why && *why);
		return 0;
	}
	FUZZ_ASSERT(!why);
	FUZZ_ASSERT(t.id.family == t.control_addr.family);
	FUZZ_ASSERT(t.id.family == AF_INET || t.id.family == AF_INET6);
	FUZZ_ASSERT(t.prefixlen >= 8 && t.prefixlen <= (t.id.family == AF_INET ? 30 : 126));
	FUZZ_ASSERT(t.control_port && t.manager_port && t.expiry >= 1577836800ull);
	FUZZ_ASSERT(t.manager_endpoint.family == AF_INET || t.manager_endpoint.family == AF_INET6);
	pf.addr = t.control_addr;
	pf.len = t.prefixlen;
	rd_prefix_mask(&pf);
	FUZZ_ASSERT(rd_prefix_contains(&pf, &t.id) && !rd_addr_eq(&t.id, &t.control_addr));
	FUZZ_ASSERT(t.id.family == AF_INET || !rd_addr_eq(&t.id, &pf.addr));
	FUZZ_ASSERT(!rd_token_encode(&t, out, sizeof(out)));
	/* The input may carry base64 padding, which the encoder omits. */
	FUZZ_ASSERT(!strncmp(out, s, strlen(out)));
	for (const char *p = s + strlen(out); *p; p++)
		FUZZ_ASSERT(*p == '=');
	FUZZ_ASSERT(!rd_token_decode(out, &t2, &why));
	FUZZ_ASSERT(!memcmp(&t, &t2, sizeof(t)));
	return 0;
}
