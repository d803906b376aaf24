// SPDX-License-Identifier: GPL-2.0-or-later
/* libroster: address, prefix, key and endpoint parsing and formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "roster.h"
#include "internal.h"

size_t roster_addr_len(const struct roster_addr *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

int roster_addr_parse(const char *s, struct roster_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return -EINVAL;
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, a->addr) != 1)
			return -EINVAL;
		a->family = AF_INET6;
	} else {
		/* inet_pton(AF_INET) takes dotted quads only: no "10.1" shortcuts. */
		if (inet_pton(AF_INET, s, a->addr) != 1)
			return -EINVAL;
		a->family = AF_INET;
	}
	return 0;
}

const char *roster_addr_format(const struct roster_addr *a, char *buf, size_t len)
{
	if (!a->family || !inet_ntop(a->family, a->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || x > max)
		return -ERANGE;
	*v = x;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	uint64_t x;
	int err = parse_u64(s, max, &x);

	if (!err)
		*v = (unsigned long)x;
	return err;
}

int roster_prefix_parse(const char *s, struct roster_prefix *p, const char **why)
{
	char buf[ROSTER_ADDR_STRLEN];
	const char *slash;
	unsigned long len;
	size_t alen, i;
	int err;

	if (why)
		*why = "invalid prefix";
	memset(p, 0, sizeof(*p));
	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash) {
		if ((size_t)(slash - s) >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, slash - s);
		buf[slash - s] = 0;
	} else {
		if (strlen(s) >= sizeof(buf))
			return -EINVAL;
		strcpy(buf, s);
	}
	err = roster_addr_parse(buf, &p->addr);
	if (err)
		return err;
	alen = roster_addr_len(&p->addr);
	if (slash) {
		if (parse_uint(slash + 1, alen * 8, &len)) {
			if (why)
				*why = "invalid prefix length";
			return -EINVAL;
		}
	} else {
		len = alen * 8;
	}
	p->len = (uint8_t)len;
	for (i = 0; i < alen; i++) {
		unsigned int bits = i * 8 >= len ? 0 :
				    len - i * 8 >= 8 ? 8 : len - i * 8;
		uint8_t mask = (uint8_t)(0xff00u >> bits);

		if (p->addr.addr[i] & ~mask) {
			if (why)
				*why = "Invalid prefix for given prefix length.";
			return -EINVAL;
		}
	}
	if (why)
		*why = NULL;
	return 0;
}

const char *roster_prefix_format(const struct roster_prefix *p, char *buf, size_t len)
{
	char a[ROSTER_ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", roster_addr_format(&p->addr, a, sizeof(a)),
		 p->len);
	return buf;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c)
{
	const char *p;

	if (!c)
		return -1;
	p = strchr(b64chars, c);
	return p ? (int)(p - b64chars) : -1;
}

int roster_key_parse(const char *s, uint8_t key[ROSTER_KEY_BYTES])
{
	uint8_t out[ROSTER_KEY_BYTES];
	unsigned int i, o = 0;

	/* 32 bytes = 10 groups of 3 plus 2 bytes: 43 symbols and one '='. */
	if (!s || strlen(s) != 44 || s[43] != '=')
		return -EINVAL;
	for (i = 0; i < 40; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]);
		int c = b64val(s[i + 2]), d = b64val(s[i + 3]);

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
		out[o++] = (uint8_t)(c << 6 | d);
	}
	{
		int a = b64val(s[40]), b = b64val(s[41]), c = b64val(s[42]);

		if (a < 0 || b < 0 || c < 0 || (c & 3))
			return -EINVAL; /* non-canonical trailing bits */
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	memcpy(key, out, sizeof(out));
	return 0;
}

void roster_key_format(const uint8_t key[ROSTER_KEY_BYTES], char buf[ROSTER_KEY_B64_LEN])
{
	unsigned int i, o = 0;

	for (i = 0; i < 30; i += 3) {
		buf[o++] = b64chars[key[i] >> 2];
		buf[o++] = b64chars[(key[i] & 3) << 4 | key[i + 1] >> 4];
		buf[o++] = b64chars[(key[i + 1] & 15) << 2 | key[i + 2] >> 6];
		buf[o++] = b64chars[key[i + 2] & 63];
	}
	buf[o++] = b64chars[key[30] >> 2];
	buf[o++] = b64chars[(key[30] & 3) << 4 | key[31] >> 4];
	buf[o++] = b64chars[(key[31] & 15) << 2];
	buf[o++] = '=';
	buf[o] = 0;
}

int roster_endpoint_parse(const char *s, struct roster_addr *a, uint16_t *port)
{
	char buf[ROSTER_ADDR_STRLEN];
	const char *colon, *host;
	size_t hlen;
	unsigned long p;

	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = close - host;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL; /* IPv6 needs brackets */
		host = s;
		hlen = colon - s;
	}
	if (hlen == 0 || hlen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, host, hlen);
	buf[hlen] = 0;
	if (roster_addr_parse(buf, a))
		return -EINVAL;
	if (s[0] == '[' && a->family != AF_INET6)
		return -EINVAL;
	if (parse_uint(colon + 1, 65535, &p) || p == 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

const char *roster_endpoint_format(const struct roster_addr *a, uint16_t port,
				   char *buf, size_t len)
{
	char s[ROSTER_ADDR_STRLEN];

	roster_addr_format(a, s, sizeof(s));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
	return buf;
}

int roster_vpn_id_parse(const char *s, uint32_t *id)
{
	unsigned long v;
	int err = parse_uint(s, UINT32_MAX, &v);

	if (err)
		return err;
	if (v == 0)
		return -ERANGE;
	*id = (uint32_t)v;
	return 0;
}

int roster_generation_parse(const char *s, uint64_t *g)
{
	uint64_t v;
	int err = parse_u64(s, UINT64_MAX, &v);

	if (err)
		return err;
	if (v == 0)
		return -ERANGE;
	*g = v;
	return 0;
}

static const char *const reasons[] = { "requested", "admin", "expired" };

const char *roster_reason_name(uint32_t reason)
{
	return reason < 3 ? reasons[reason] : "unknown";
}

int roster_reason_parse(const char *s, enum roster_reason *r)
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (s && !strcmp(s, reasons[i])) {
			*r = (enum roster_reason)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *roster_event_name(enum roster_event_type t)
{
	switch (t) {
	case ROSTER_EVENT_VPN_NEW: return "vpn_new";
	case ROSTER_EVENT_VPN_DEL: return "vpn_del";
	case ROSTER_EVENT_MEMBER_JOINED: return "member_joined";
	case ROSTER_EVENT_MEMBER_UPDATED: return "member_updated";
	case ROSTER_EVENT_MEMBER_LEFT: return "member_left";
	case ROSTER_EVENT_OVERRUN: return "overrun";
	case ROSTER_EVENT_VPN_CHANGED: return "vpn_changed";
	}
	return "unknown";
}
