// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the control-message decoder (proto.c, rd_msg_decode)
 * and its encoder. Oracles: every input either decodes or is refused with
 * a reason; a message that decodes encodes again (it never exceeds
 * RD_MSG_MAX, since it came in one), and that encoding decodes to the
 * same message and re-encodes to the same bytes (decode, encode, decode
 * is a fixed point). And the decoder is strict: what it accepts is the
 * canonical encoding up to the order of attributes and the padding, so
 * every attribute of the input has exactly the length and bytes the
 * encoder gives it (an attribute shorter or longer than its type, read
 * anyway, fails this).
 *
 * The input's first byte chooses its form: even, the rest is the datagram
 * as it is; odd, the rest is the structured form of fuzz-build.h, which
 * lets the fuzzer grow an attribute (and so find a length check that is
 * missing) without mending headers, padding and nests.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"
#include "util.h"
#include "fuzz.h"
#include "fuzz-build.h"

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
	      F(has_ref) && F(has_store_id) && F(endpoint_auto)))
		return false;
	if ((a->has_session && !F(session)) || (a->has_vpn && !F(vpn)) || (a->has_gen && !F(gen)))
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || !F(port)))
		return false;
	if (a->endpoint_auto && !F(port))
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

/* ---- canonical form: attributes sorted, nests recursively ---- */

struct cattr {
	uint16_t type;			/* with its flags */
	size_t len;
	uint8_t *data;			/* payload, nests canonical */
};

static int cattr_cmp(const void *a, const void *b)
{
	const struct cattr *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	c = memcmp(x->data, y->data, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Attributes in[0..len) in canonical form into a malloc'ed *out. The
 * input decoded, so it is well formed. An empty ERR_TEXT is dropped: the
 * encoder writes none. */
static size_t canon(const uint8_t *in, size_t len, uint8_t **out, int top)
{
	struct cattr a[512];
	size_t n = 0, off = 0, total = 0;
	uint8_t *o;

	while (off + 4 <= len && n < 512) {
		uint16_t nla_len, type;

		memcpy(&nla_len, in + off, 2);
		memcpy(&type, in + off + 2, 2);
		FUZZ_ASSERT(nla_len >= 4 && nla_len <= len - off);
		a[n].type = type;
		if (type & NLA_F_NESTED) {
			a[n].len = canon(in + off + 4, nla_len - 4u, &a[n].data, 0);
		} else {
			a[n].len = nla_len - 4u;
			a[n].data = malloc(a[n].len ? a[n].len : 1);
			FUZZ_ASSERT(a[n].data);
			memcpy(a[n].data, in + off + 4, a[n].len);
		}
		off += (nla_len + 3u) & ~3u;
		if (top && type == RD_A_ERR_TEXT && a[n].len == 1) {
			free(a[n].data);
			continue;
		}
		total += 4 + ((a[n].len + 3) & ~(size_t)3);
		n++;
	}
	FUZZ_ASSERT(n < 512);
	qsort(a, n, sizeof(a[0]), cattr_cmp);
	o = calloc(1, total ? total : 1);
	FUZZ_ASSERT(o);
	off = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t l = (uint16_t)(4 + a[i].len);

		memcpy(o + off, &l, 2);
		memcpy(o + off + 2, &a[i].type, 2);
		memcpy(o + off + 4, a[i].data, a[i].len);
		off += 4 + ((a[i].len + 3) & ~(size_t)3);
		free(a[i].data);
	}
	*out = o;
	return total;
}

static void check_canonical(const uint8_t *in, size_t in_len, const uint8_t *enc, size_t enc_len)
{
	uint8_t *a, *b;
	size_t na = canon(in + RD_HDR_LEN, in_len - RD_HDR_LEN, &a, 1);
	size_t nb = canon(enc + RD_HDR_LEN, enc_len - RD_HDR_LEN, &b, 1);

	if (na != nb || memcmp(a, b, na))
		fprintf(stderr, "fuzz: the decoder accepted a non-canonical attribute\n");
	FUZZ_ASSERT(na == nb && !memcmp(a, b, na));
	/* the header: version, type, flags, seq, ack as they came */
	FUZZ_ASSERT(!memcmp(in, enc, RD_HDR_LEN));
	free(a);
	free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* rd_split_members: parts in order, none empty, each one encodable as
 * mgr-fanout.c's send_list and mgr_send make it. */
static void check_split(const struct rd_msg *m)
{
	unsigned int starts[RD_MSG_MAX / 8 + 2], parts;

	parts = rd_split_members(m->members, m->n_members, starts);
	FUZZ_ASSERT(parts >= 1 && parts <= m->n_members + 1 && starts[0] == 0 &&
		    starts[parts] == m->n_members);
	for (unsigned int i = 0; i < parts; i++) {
		struct rd_msg l = {
			.type = RD_LIST, .seq = UINT32_MAX, .has_session = true, .session = UINT32_MAX,
			.has_vpn = true, .vpn = UINT32_MAX, .has_gen = true, .gen = UINT64_MAX,
			.has_parts = true, .part = (uint16_t)(i + 1), .nparts = (uint16_t)parts,
			.total = m->n_members, .members = m->members ? m->members + starts[i] : NULL,
			.n_members = starts[i + 1] - starts[i], .has_store_id = true,
		};
		uint8_t buf[RD_MSG_MAX];
		int len;

		FUZZ_ASSERT(starts[i + 1] > starts[i] || (!m->n_members && parts == 1));
		len = rd_msg_encode(&l, buf, sizeof(buf));
		if (len < 0)
			fprintf(stderr, "fuzz: part %u/%u of %u members does not encode: %d\n", i + 1,
				parts, m->n_members, len);
		FUZZ_ASSERT(len > 0);
	}
}

static void one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t built[2 * RD_MSG_MAX];

	if (!size)
		return 0;
	if (data[0] & 1) {
		size = fuzz_build(data + 1, size - 1, built, sizeof(built));
		if (size)
			one(built, size);
	} else {
		one(data + 1, size - 1);
	}
	return 0;
}

static void one(const uint8_t *data, size_t size)
{
	_Alignas(8) uint8_t buf[RD_MSG_MAX], buf2[RD_MSG_MAX];
	struct rd_msg m, m2, m3;
	const char *why = NULL;
	int len, len2, ret;

	ret = rd_msg_decode(data, size, &m, &why);
	if (ret) {
		FUZZ_ASSERT(why && *why);
		FUZZ_ASSERT(!m.members && !m.n_members);
		return;
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
	check_canonical(data, size, buf, (size_t)len);
	check_split(&m);
	len2 = rd_msg_encode(&m2, buf2, sizeof(buf2));
	FUZZ_ASSERT(len2 == len && !memcmp(buf, buf2, (size_t)len));
	ret = rd_msg_decode(buf2, (size_t)len2, &m3, &why);
	FUZZ_ASSERT(!ret && msg_eq(&m2, &m3));
	/* Too small a buffer is refused, never overrun. */
	FUZZ_ASSERT(rd_msg_encode(&m, buf2, (size_t)len - 1) == -EMSGSIZE);
	rd_msg_release(&m);
	rd_msg_release(&m2);
	rd_msg_release(&m3);
}
