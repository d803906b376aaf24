// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd: address, time, base64url and file helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

bool rd_addr_eq(const struct roster_addr *a, const struct roster_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, roster_addr_len(a));
}

bool rd_prefix_eq(const struct roster_prefix *a, const struct roster_prefix *b)
{
	return a->len == b->len && rd_addr_eq(&a->addr, &b->addr);
}

int rd_addr_cmp(const struct roster_addr *a, const struct roster_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, roster_addr_len(a));
}

bool rd_prefixes_same(const struct roster_prefix *a, unsigned int na,
		      const struct roster_prefix *b, unsigned int nb)
{
	if (na != nb)
		return false;
	for (unsigned int i = 0; i < na; i++) {
		bool found = false;

		for (unsigned int k = 0; k < nb && !found; k++)
			found = rd_prefix_eq(&a[i], &b[k]);
		if (!found)
			return false;
	}
	return true;
}

bool rd_prefix_contains(const struct roster_prefix *p, const struct roster_addr *a)
{
	unsigned int bits = p->len, i;

	if (p->addr.family != a->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (p->addr.addr[i] != a->addr[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((p->addr.addr[i] & mask) != (a->addr[i] & mask))
			return false;
	}
	return true;
}

void rd_prefix_mask(struct roster_prefix *p)
{
	size_t alen = roster_addr_len(&p->addr);
	unsigned int bits = p->len;

	for (size_t i = 0; i < alen; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		p->addr.addr[i] &= (uint8_t)(0xff << (8 - bits));
		bits = 0;
	}
}

socklen_t rd_sockaddr(const struct roster_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, a->addr, 4);
	return sizeof(*s4);
}

int rd_from_sockaddr(const struct sockaddr *sa, struct roster_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		memcpy(a->addr, &s4->sin_addr, 4);
		if (port)
			*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a->family = AF_INET6;
		memcpy(a->addr, &s6->sin6_addr, 16);
		if (port)
			*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static char *ntop_buf(void)
{
	static char bufs[4][ROSTER_ADDR_STRLEN];
	static unsigned int n;

	return bufs[n++ % 4];
}

const char *rd_ntop(const struct roster_addr *a)
{
	return roster_addr_format(a, ntop_buf(), ROSTER_ADDR_STRLEN);
}

const char *rd_sa_ntop(const struct sockaddr *sa)
{
	struct roster_addr a;
	uint16_t port;

	if (rd_from_sockaddr(sa, &a, &port))
		return "?";
	return roster_endpoint_format(&a, port, ntop_buf(), ROSTER_ADDR_STRLEN);
}

/* "[A/L ]overlaps B/M of ID" (6.12's extack without "roster: "): 0 and the
 * parts (*pa zeroed if A is absent), or -EINVAL. */
static int parse_overlap(const char *s, struct roster_prefix *pa, struct roster_prefix *pb,
			 struct roster_addr *id)
{
	char a[ROSTER_ADDR_STRLEN], b[ROSTER_ADDR_STRLEN], c[ROSTER_ADDR_STRLEN];
	const char *why;
	int end = -1;

	memset(pa, 0, sizeof(*pa));
	if (sscanf(s, "overlaps %63s of %63s%n", b, c, &end) == 2 && !s[end])
		return roster_prefix_parse(b, pb, &why) || roster_addr_parse(c, id) ? -EINVAL : 0;
	end = -1;
	if (sscanf(s, "%63s overlaps %63s of %63s%n", a, b, c, &end) == 3 && !s[end])
		return roster_prefix_parse(a, pa, &why) || roster_prefix_parse(b, pb, &why) ||
		       roster_addr_parse(c, id) ? -EINVAL : 0;
	return -EINVAL;
}

const char *rd_join_error_text(int err, const char *extack, const struct roster_addr *holder,
			       char *text, size_t len)
{
	char a[ROSTER_ADDR_STRLEN], b[ROSTER_ADDR_STRLEN];
	struct roster_prefix pa, pb;
	struct roster_addr id;

	if (err == EADDRINUSE && extack) {
		const char *s = !strncmp(extack, "roster: ", 8) ? extack + 8 : extack;

		if (!parse_overlap(s, &pa, &pb, &id) && (!holder || rd_addr_eq(holder, &id))) {
			roster_prefix_format(&pb, b, sizeof(b));
			if (pa.addr.family)
				snprintf(text, len, "prefix %s overlaps %s of member %s",
					 roster_prefix_format(&pa, a, sizeof(a)), b, rd_ntop(&id));
			else
				snprintf(text, len, "prefix overlaps %s of member %s", b,
					 rd_ntop(&id));
			return text;
		}
	}
	if (err == EADDRINUSE && holder && holder->family) {
		snprintf(text, len, "prefix overlaps a prefix of member %s", rd_ntop(holder));
		return text;
	}
	snprintf(text, len, "%s", extack && *extack ? extack : strerror(err));
	return text;
}

int64_t rd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rd_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = getrandom(p, len, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		p += r;
		len -= (size_t)r;
	}
}

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t rd_b64url_encode(const void *in, size_t len, char *out, size_t outlen)
{
	const uint8_t *p = in;
	size_t o = 0, i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		if (o + 4 >= outlen)
			return 0;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (o + 3 >= outlen)
			return 0;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = b64url[v >> 6 & 63];
	}
	if (o >= outlen)
		return 0;
	out[o] = 0;
	return o;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p ? (int)(p - b64url) : -1;
}

ssize_t rd_b64url_decode(const char *in, void *out, size_t outlen)
{
	size_t len = strlen(in), o = 0, i;
	uint8_t *d = out;
	uint32_t acc = 0;
	int bits = 0;

	while (len && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int v = b64_val(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -EMSGSIZE;
			d[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Non-canonical encodings (stray low bits) are rejected. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -EINVAL;
	return (ssize_t)o;
}

int rd_read_file(const char *path, char **text)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096, len = 0;
	char *buf;

	if (!f)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	for (;;) {
		size_t r = fread(buf + len, 1, cap - len - 1, f);

		len += r;
		if (len < cap - 1)
			break;
		char *nb = realloc(buf, cap * 2);

		if (!nb) {
			free(buf);
			fclose(f);
			return -ENOMEM;
		}
		buf = nb;
		cap *= 2;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[len] = 0;
	*text = buf;
	return 0;
}

int rd_write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[512];
	size_t len = strlen(text);
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int rd_mkdir_p(const char *path, mode_t mode)
{
	char buf[256];
	size_t len = strlen(path);

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int rd_lock_dir(const char *dir)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

void rd_unlock_dir(int fd)
{
	if (fd >= 0)
		close(fd);
}
