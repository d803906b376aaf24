// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the control-message decoder (proto.c, rd_msg_decode)
 * and its encoder. Oracles: every input either decodes or is refused with
 * a reason; a message that decodes encodes again (it never exceeds
 * RD_MSG_MAX, since it came in one), and that encoding decodes to the
 * same message and re-encodes to the same bytes (decode, encode, decode
 * is a fixed point).
 */
#include <errno.h>
#include <string.h>

#include "proto.h"
#include "util.h"
#include "fuzz.h"

static bool member_eq(const struct roster_member *a, const struct roster_member *b)
{
	if (!rd_addr_eq(&a->id, &b->id) || memcmp(a->key, b->key, 32) || a->has_key != b->has_key ||
	    a->has_endpoint != b->has_endpoint || a->n_prefixes != b->n_prefixes)
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || a->port != b->port))
		return false;
	for (unsigned int i = 0; i < a->n_prefixes; i++)
		if (!rd_prefix_eq(&a->prefixes[i], &b->prefixes[i]))
			return false;
	return true;
}

/* Field by field: what a handler can read from a decoded message. */
static bool msg_eq(const struct rd_msg *a, const struct rd_msg *b)
{
#define F(x) (a->x == b->x)
	if (!(F(version) && F(type) && F(flags) && F(seq) && F(ack) && F(has_session) &&
	      F(has_vpn) && F(has_gen) && F(has_endpoint) && F(n_prefixes) && F(has_parts) &&
	      F(has_total) && F(n_members) && F(has_dev) && F(has_key) && F(has_err) &&
	      F(has_ref) && F(has_store_id)))
		return false;
	if ((a->has_session && !F(session)) || (a->has_vpn && !F(vpn)) || (a->has_gen && !F(gen)))
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || !F(port)))
		return false;
	for (unsigned int i = 0; i < a->n_prefixes; i++)
		if (!rd_prefix_eq(&a->prefixes[i], &b->prefixes[i]))
			return false;
	if (a->has_parts && !(F(part) && F(nparts)))
		return false;
	if ((a->has_parts || a->has_total) && !F(total))
		return false;
	for (unsigned int i = 0; i < a->n_members; i++)
		if (!member_eq(&a->members[i], &b->members[i]))
			return false;
	if (a->has_dev && !rd_addr_eq(&a->dev, &b->dev))
		return false;
	if (a->has_key && memcmp(a->key, b->key, 32))
		return false;
	if (a->has_err && (!F(err) || strcmp(a->text, b->text)))
		return false;
	if (a->has_ref && !F(ref_seq))
		return false;
	if (a->has_store_id && memcmp(a->store_id, b->store_id, RD_STORE_ID_LEN))
		return false;
#undef F
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_Alignas(8) uint8_t buf[RD_MSG_MAX], buf2[RD_MSG_MAX];
	struct rd_msg m, m2, m3;
	const char *why = NULL;
	int len, len2, ret;

	ret = rd_msg_decode(data, size, &m, &why);
	if (ret) {
		FUZZ_ASSERT(why && *why);
		FUZZ_ASSERT(!m.members && !m.n_members);
		return 0;
	}
	FUZZ_ASSERT(!why);
	FUZZ_ASSERT(m.type && m.type < __RD_TYPE_MAX && m.version == RD_PROTO_VERSION);
	FUZZ_ASSERT(m.n_prefixes <= ROSTER_PREFIX_MAX);
	for (unsigned int i = 0; i < m.n_members; i++)
		FUZZ_ASSERT(m.members[i].n_prefixes <= ROSTER_PREFIX_MAX && m.members[i].has_key);
	FUZZ_ASSERT(!m.has_parts || (m.part >= 1 && m.part <= m.nparts && m.n_members <= m.total));

	/* rd_msg_encode stamps the version; the rest is the caller's. */
	len = rd_msg_encode(&m, buf, sizeof(buf));
	FUZZ_ASSERT(len >= RD_HDR_LEN && (size_t)len <= size);
	ret = rd_msg_decode(buf, (size_t)len, &m2, &why);
	if (ret)
		fprintf(stderr, "fuzz: re-encoded message refused: %s\n", why);
	FUZZ_ASSERT(!ret);
	FUZZ_ASSERT(msg_eq(&m, &m2));
	len2 = rd_msg_encode(&m2, buf2, sizeof(buf2));
	FUZZ_ASSERT(len2 == len && !memcmp(buf, buf2, (size_t)len));
	ret = rd_msg_decode(buf2, (size_t)len2, &m3, &why);
	FUZZ_ASSERT(!ret && msg_eq(&m2, &m3));
	/* Too small a buffer is refused, never overrun. */
	FUZZ_ASSERT(rd_msg_encode(&m, buf2, (size_t)len - 1) == -EMSGSIZE);
	rd_msg_release(&m);
	rd_msg_release(&m2);
	rd_msg_release(&m3);
	return 0;
}
