/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A structured form of a control message (fuzz-proto.c), so that the
 * fuzzer can change an attribute's length without having to mend its
 * header, its padding and every enclosing nest by hand: after the 12-byte
 * header, records [u8 t][u8 l][l bytes]. t & 0x1f is the attribute type;
 * t & 0x20: a nest, whose l bytes are records again; t & 0x40 and
 * t & 0x80 set NLA_F_NESTED and NLA_F_NET_BYTEORDER on the attribute as
 * sent. fuzz_build() writes the datagram: netlink attribute headers with
 * their lengths, padded with zeros.
 */
#ifndef RD_FUZZ_BUILD_H
#define RD_FUZZ_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netlink.h>

#define FB_NEST 0x20
#define FB_F_NESTED 0x40
#define FB_F_BYTEORDER 0x80

/* Records in in[0..len) into out at *off; false if out is full. */
static inline int fuzz_build_attrs(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
				   size_t *off, int depth)
{
	size_t i = 0;

	while (i + 2 <= len) {
		uint8_t t = in[i], l = in[i + 1];
		size_t start = *off, plen = l;
		uint16_t type, nla_len;

		i += 2;
		if (plen > len - i)
			plen = len - i;
		if (start + 4 > cap)
			return 0;
		*off += 4;
		if ((t & FB_NEST) && depth < 4) {
			if (!fuzz_build_attrs(in + i, plen, out, cap, off, depth + 1))
				return 0;
		} else {
			if (*off + plen > cap)
				return 0;
			memcpy(out + *off, in + i, plen);
			*off += plen;
		}
		i += plen;
		if (*off - start > 0xffff)
			return 0;
		nla_len = (uint16_t)(*off - start);
		type = (uint16_t)((t & 0x1f) | (t & FB_F_NESTED ? NLA_F_NESTED : 0) |
				  (t & FB_F_BYTEORDER ? NLA_F_NET_BYTEORDER : 0));
		memcpy(out + start, &nla_len, 2);
		memcpy(out + start + 2, &type, 2);
		while (*off % 4) {
			if (*off >= cap)
				return 0;
			out[(*off)++] = 0;
		}
	}
	return 1;
}

/* The datagram of a structured message; its length, or 0. */
static inline size_t fuzz_build(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t off = 12;

	if (len < 12 || cap < 12)
		return 0;
	memcpy(out, in, 12);
	if (!fuzz_build_attrs(in + 12, len - 12, out, cap, &off, 0))
		return 0;
	return off;
}

/* The reverse, for the seeds: a datagram's attributes as records (nests
 * are those with NLA_F_NESTED). Returns the length written, 0 if it does
 * not fit (an attribute longer than 255 bytes). */
static inline size_t fuzz_unbuild_attrs(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i + 4 <= len) {
		uint16_t nla_len, type;
		size_t plen, n;

		memcpy(&nla_len, in + i, 2);
		memcpy(&type, in + i + 2, 2);
		if (nla_len < 4 || nla_len > len - i || o + 2 > cap)
			return 0;
		plen = nla_len - 4u;
		out[o] = (uint8_t)((type & 0x1f) | (type & NLA_F_NESTED ? FB_NEST | FB_F_NESTED : 0));
		if (type & NLA_F_NESTED) {
			n = fuzz_unbuild_attrs(in + i + 4, plen, out + o + 2, cap - o - 2);
			if (!n && plen)
				return 0;
		} else {
			if (o + 2 + plen > cap)
				return 0;
			memcpy(out + o + 2, in + i + 4, plen);
			n = plen;
		}
		if (n > 255)
			return 0;
		out[o + 1] = (uint8_t)n;
		o += 2 + n;
		i += (nla_len + 3u) & ~3u;
	}
	return o;
}

#endif /* RD_FUZZ_BUILD_H */
