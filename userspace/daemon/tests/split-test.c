// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rd_split_members (proto.c): every part of a JOIN or LIST encodes, with
 * every attribute mgr_send and send_list add (the store id included),
 * whatever the mix of member sizes. KTAP; no kernel.
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "util.h"

#include "unit.h"

/* Members of 84 bytes (one prefix) and, every step-th, 104 (two). */
static void fill(struct roster_member *mb, unsigned int n, unsigned int step)
{
	memset(mb, 0, n * sizeof(*mb));
	for (unsigned int i = 0; i < n; i++) {
		mb[i].id.family = AF_INET;
		mb[i].id.addr[0] = 10;
		mb[i].id.addr[1] = 255;
		mb[i].id.addr[2] = (uint8_t)(i >> 8);
		mb[i].id.addr[3] = (uint8_t)i;
		mb[i].has_key = true;
		memset(mb[i].key, (int)i, 32);
		mb[i].has_endpoint = true;
		mb[i].endpoint.family = AF_INET;
		mb[i].endpoint.addr[0] = 192;
		mb[i].endpoint.addr[3] = (uint8_t)i;
		mb[i].port = 51820;
		mb[i].n_prefixes = i % step == 0 ? 2 : 1;
		for (unsigned int k = 0; k < mb[i].n_prefixes; k++) {
			mb[i].prefixes[k].addr.family = AF_INET;
			mb[i].prefixes[k].addr.addr[0] = 10;
			mb[i].prefixes[k].addr.addr[1] = (uint8_t)i;
			mb[i].prefixes[k].addr.addr[2] = (uint8_t)k;
			mb[i].prefixes[k].len = 24;
		}
	}
}

#define N 200

/* 12 members of 84 bytes and 2 of 104 fill 1216 bytes: the most the
 * splitter used to allow, 20 bytes more than a part with a store id
 * holds (the parts of such a list were never sent). */
static void t_parts_encode(void)
{
	static struct roster_member mb[N];
	unsigned int starts[N + 1], bad = 0;

	for (unsigned int step = 1; step <= 9; step++) {
		fill(mb, N, step);
		for (unsigned int n = 0; n <= N; n++) {
			unsigned int parts = rd_split_members(mb, n, starts);

			EXPECT(parts >= 1 && starts[0] == 0 && starts[parts] == n);
			for (unsigned int i = 0; i < parts; i++) {
				struct rd_msg m = {
					.type = RD_LIST, .seq = UINT32_MAX, .has_session = true,
					.session = UINT32_MAX, .has_vpn = true, .vpn = UINT32_MAX,
					.has_gen = true, .gen = UINT64_MAX, .has_parts = true,
					.part = (uint16_t)(i + 1), .nparts = (uint16_t)parts, .total = n,
					.members = mb + starts[i], .n_members = starts[i + 1] - starts[i],
					.has_store_id = true,
				};
				uint8_t buf[RD_MSG_MAX];
				int len = rd_msg_encode(&m, buf, sizeof(buf));

				if (len < 0 && !bad++)
					printf("# step %u, %u members: part %u/%u (%u members) does not "
					       "encode (%d)\n", step, n, i + 1, parts, m.n_members, len);
				if (!m.n_members && n)
					bad++;
			}
		}
	}
	EXPECT(!bad);
}

int main(void)
{
	printf("TAP version 13\n1..1\n");
	run("split: every part encodes, store id included", t_parts_encode);
	return failed;
}
