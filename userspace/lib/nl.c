// SPDX-License-Identifier: GPL-2.0-or-later
/* libroster: handles, family resolution, request/response engine, ops. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/roster.h>

#include "internal.h"

/* ---- errors ---------------------------------------------------------- */

static void clear_err(struct roster_handle *h)
{
	h->last_err = 0;
	h->err_generation = 0;
	memset(&h->err_holder, 0, sizeof(h->err_holder));
	h->err_offs = -1;
	h->err_prefix = -1;
	h->errmsg[0] = 0;
}

static int set_errno(struct roster_handle *h, int err)
{
	clear_err(h);
	h->last_err = err < 0 ? -err : err;
	return err;
}

static int set_nlerr(struct roster_handle *h, const struct roster_nlerr *e)
{
	clear_err(h);
	h->last_err = -e->error;
	if (e->has_offs && e->offs <= INT_MAX)
		h->err_offs = (int)e->offs;
	if (e->cookie_len == 8) {
		memcpy(&h->err_generation, e->cookie, 8);
	} else if (e->cookie_len == 4 || e->cookie_len == 16) {
		h->err_holder.family = e->cookie_len == 4 ? AF_INET : AF_INET6;
		memcpy(h->err_holder.addr, e->cookie, e->cookie_len);
	}
	if (e->msg[0])
		snprintf(h->errmsg, sizeof(h->errmsg), "%s", e->msg);
	else if (e->miss_type >= 0)
		snprintf(h->errmsg, sizeof(h->errmsg),
			 "Missing required attribute (type %d)", e->miss_type);
	else
		h->errmsg[0] = 0;
	return e->error;
}

const char *roster_errmsg(const struct roster_handle *h)
{
	return h && h->errmsg[0] ? h->errmsg : NULL;
}

int roster_last_error(const struct roster_handle *h)
{
	return h ? h->last_err : 0;
}

uint64_t roster_err_generation(const struct roster_handle *h)
{
	return h ? h->err_generation : 0;
}

int roster_err_prefix(const struct roster_handle *h)
{
	return h ? h->err_prefix : -1;
}

int roster_err_holder(const struct roster_handle *h, struct roster_addr *id)
{
	if (!h || !h->err_holder.family)
		return -ENOENT;
	*id = h->err_holder;
	return 0;
}

const char *roster_strerror_ext(const struct roster_handle *h, int err)
{
	struct roster_handle *hh = (struct roster_handle *)h;

	if (h && h->errmsg[0])
		return h->errmsg;
	if (!hh)
		return strerror(err < 0 ? -err : err);
	snprintf(hh->strerr, sizeof(hh->strerr), "%s", strerror(err < 0 ? -err : err));
	return hh->strerr;
}

uint16_t roster_family_id(const struct roster_handle *h)
{
	return h->family_id;
}

int roster_fd(const struct roster_handle *h)
{
	return mnl_socket_get_fd(h->nl);
}

/* ---- engine ------------------------------------------------------------ */

static ssize_t recv_one(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct sockaddr_nl sa;
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;

	do
		n = recvmsg(fd, &msg, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (sa.nl_pid != 0)
		return 0; /* not from the kernel: ignore */
	return n;
}

static int send_req(struct roster_handle *h, struct nlmsghdr *nlh)
{
	ssize_t n;

	do
		n = mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return set_errno(h, -errno);
	return 0;
}

/* Send req and process replies until the ACK, NLMSG_DONE or an error.
 * cb sees every data message of this request. */
static int run(struct roster_handle *h, struct nlmsghdr *req, roster_msg_cb cb,
	       void *arg, bool *intr)
{
	struct roster_reply r = { .seq = req->nlmsg_seq, .cb = cb, .arg = arg };
	int err;

	clear_err(h);
	if (intr)
		*intr = false;
	err = send_req(h, req);
	if (err)
		return err;
	for (;;) {
		ssize_t n = recv_one(mnl_socket_get_fd(h->nl), h->rx, ROSTER_RXBUF_LEN, 0);

		if (n < 0)
			return set_errno(h, (int)n);
		err = roster_reply_feed(&r, h->rx, (size_t)n);
		if (intr)
			*intr = r.intr;
		if (err < 0)
			return r.err.error ? set_nlerr(h, &r.err) : set_errno(h, err);
		if (err)
			return 0;
	}
}

/* ---- family ------------------------------------------------------------ */

struct family_info {
	uint16_t id;
	uint32_t grp;
};

static int family_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct family_info *fi = arg;
	const struct nlattr *a, *g, *ga;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			fi->id = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(g, a) {
				const char *name = NULL;
				uint32_t id = 0;

				mnl_attr_for_each_nested(ga, g) {
					if (mnl_attr_get_type(ga) == CTRL_ATTR_MCAST_GRP_NAME)
						name = mnl_attr_get_str(ga);
					else if (mnl_attr_get_type(ga) == CTRL_ATTR_MCAST_GRP_ID)
						id = mnl_attr_get_u32(ga);
				}
				if (name && !strcmp(name, ROSTER_MCGRP_NOTIFY))
					fi->grp = id;
			}
			break;
		}
	}
	return 0;
}

static int resolve(struct roster_handle *h, struct family_info *fi)
{
	char buf[ROSTER_TXBUF_LEN];
	struct nlmsghdr *nlh = roster_build_getfamily(buf, ++h->seq, ROSTER_FAMILY_NAME);

	memset(fi, 0, sizeof(*fi));
	return run(h, nlh, family_cb, fi, NULL);
}

int roster_ping(struct roster_handle *h)
{
	struct family_info fi;

	return resolve(h, &fi);
}

/* ---- open/close ---------------------------------------------------------- */

static int sock_setup(struct mnl_socket *nl, bool request)
{
	int one = 1;

	/* Best effort: old kernels lack some of these. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (request)
		mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	return 0;
}

/* Run fn in the namespace nsfd (-1: current). */
static int in_netns(int nsfd, struct mnl_socket **out)
{
	int cur = -1, err = 0;

	if (nsfd >= 0) {
		cur = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (cur < 0)
			return -errno;
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			err = -errno;
			close(cur);
			return err;
		}
	}
	*out = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!*out)
		err = -errno;
	if (cur >= 0) {
		if (setns(cur, CLONE_NEWNET) < 0 && !err)
			err = -errno;
		close(cur);
	}
	if (err && *out) {
		mnl_socket_close(*out);
		*out = NULL;
	}
	return err;
}

static int open_common(int nsfd, struct roster_handle **hp)
{
	struct roster_handle *h;
	struct family_info fi;
	int err;

	*hp = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->netns_fd = nsfd;
	h->err_offs = -1;
	h->err_prefix = -1;
	h->rx = malloc(ROSTER_RXBUF_LEN);
	if (!h->rx) {
		err = -ENOMEM;
		goto fail;
	}
	err = in_netns(nsfd, &h->nl);
	if (err)
		goto fail;
	err = sock_setup(h->nl, true);
	if (err)
		goto fail;
	h->portid = mnl_socket_get_portid(h->nl);
	h->seq = (uint32_t)getpid() << 8;
	err = resolve(h, &fi);
	if (err)
		goto fail;
	if (!fi.id || !fi.grp) {
		err = -EPROTO;
		goto fail;
	}
	h->family_id = fi.id;
	h->mcgrp_id = fi.grp;
	*hp = h;
	return 0;
fail:
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h->rx);
	free(h);
	return err;
}

int roster_open(struct roster_handle **hp)
{
	return open_common(-1, hp);
}

int roster_open_netns(const char *name, struct roster_handle **hp)
{
	char path[PATH_MAX];
	int fd, err;

	*hp = NULL;
	if (!name || !*name)
		return -EINVAL;
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = open_common(fd, hp);
	if (err)
		close(fd);
	return err;
}

void roster_close(struct roster_handle *h)
{
	if (!h)
		return;
	mnl_socket_close(h->nl);
	if (h->netns_fd >= 0)
		close(h->netns_fd);
	free(h->rx);
	free(h);
}

/* ---- VPN ops ----------------------------------------------------------- */

static struct nlmsghdr *start(struct roster_handle *h, void *buf, uint8_t cmd, uint16_t flags)
{
	return roster_msg_start(buf, h->family_id, cmd, flags, ++h->seq);
}

struct one_vpn {
	struct roster_vpn *v;
	unsigned int n;
};

static int vpn_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct one_vpn *o = arg;

	if (o->n++)
		return -EPROTO; /* a do replies with one message */
	return roster_parse_vpn(nlh, o->v) ? -EPROTO : 0;
}

static int run_vpn(struct roster_handle *h, struct nlmsghdr *nlh, struct roster_vpn *out)
{
	struct roster_vpn tmp;
	struct one_vpn o = { .v = out ? out : &tmp };
	int err;

	memset(o.v, 0, sizeof(*o.v));
	err = run(h, nlh, vpn_cb, &o, NULL);
	if (!err && !o.n)
		err = set_errno(h, -EPROTO);
	return err;
}

int roster_vpn_create(struct roster_handle *h, uint32_t id, uint32_t vpn_flags,
		      uint64_t stamp, struct roster_vpn *out)
{
	char buf[ROSTER_TXBUF_LEN];

	return run_vpn(h, roster_build_vpn_new(buf, h->family_id, ++h->seq, id,
					       vpn_flags, stamp), out);
}

int roster_vpn_delete(struct roster_handle *h, uint32_t id, uint64_t stamp)
{
	char buf[ROSTER_TXBUF_LEN];

	return run(h, roster_build_vpn_del(buf, h->family_id, ++h->seq, id, stamp),
		   NULL, NULL, NULL);
}

int roster_vpn_set(struct roster_handle *h, uint32_t id, uint64_t stamp,
		   unsigned int flags, const uint32_t *vpn_flags, struct roster_vpn *out)
{
	char buf[ROSTER_TXBUF_LEN];

	return run_vpn(h, roster_build_vpn_set(buf, h->family_id, ++h->seq, id, stamp,
					       flags, vpn_flags), out);
}

int roster_vpn_add(struct roster_handle *h, uint32_t id, struct roster_vpn *out)
{
	return roster_vpn_create(h, id, 0, 0, out);
}

int roster_vpn_del(struct roster_handle *h, uint32_t id)
{
	return roster_vpn_delete(h, id, 0);
}

int roster_vpn_get(struct roster_handle *h, uint32_t id, struct roster_vpn *out)
{
	char buf[ROSTER_TXBUF_LEN];
	struct nlmsghdr *nlh = start(h, buf, ROSTER_CMD_VPN_GET, NLM_F_ACK);

	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, id);
	return run_vpn(h, nlh, out);
}

struct vpn_list {
	struct roster_vpn *v;
	size_t n, cap;
};

static int vpn_list_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct vpn_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct roster_vpn *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (roster_parse_vpn(nlh, &l->v[l->n]))
		return -EPROTO;
	l->n++;
	return 0;
}

int roster_vpn_list(struct roster_handle *h, struct roster_vpn **vpns, size_t *n)
{
	char buf[ROSTER_TXBUF_LEN];
	struct vpn_list l = { 0 };
	int tries, err = 0;
	bool intr = true;

	*vpns = NULL;
	*n = 0;
	for (tries = 0; tries < ROSTER_DUMP_TRIES && intr; tries++) {
		struct nlmsghdr *nlh = start(h, buf, ROSTER_CMD_VPN_GET, NLM_F_DUMP);

		l.n = 0;
		err = run(h, nlh, vpn_list_cb, &l, &intr);
		if (err)
			break;
	}
	if (!err && intr)
		err = set_errno(h, -EINTR);
	if (err) {
		free(l.v);
		return err;
	}
	*vpns = l.v;
	*n = l.n;
	return 0;
}

/* ---- member changes ------------------------------------------------------ */

static int run_change(struct roster_handle *h, struct nlmsghdr *nlh, uint8_t cmd,
		      struct roster_change *out)
{
	struct roster_change tmp;
	struct roster_change_reply x = { .cmd = cmd, .c = out ? out : &tmp };
	int err;

	memset(x.c, 0, sizeof(*x.c));
	err = run(h, nlh, roster_change_msg_cb, &x, NULL);
	if (!err && !x.n)
		err = set_errno(h, -EPROTO);
	return err;
}

int roster_member_add(struct roster_handle *h, uint32_t vpn_id,
		      const struct roster_member *m, unsigned int flags,
		      uint64_t stamp, struct roster_change *out)
{
	char buf[ROSTER_TXBUF_LEN];

	if (!m || !roster_addr_len(&m->id) || m->n_prefixes > ROSTER_PREFIX_MAX ||
	    (m->has_endpoint && !roster_addr_len(&m->endpoint)))
		return set_errno(h, -EINVAL);
	struct nlmsghdr *nlh;
	int err;

	for (unsigned int i = 0; i < m->n_prefixes; i++)
		if (!roster_addr_len(&m->prefixes[i].addr))
			return set_errno(h, -EINVAL);
	nlh = roster_build_join(buf, h->family_id, ++h->seq, vpn_id, m, flags, stamp);
	err = run_change(h, nlh, ROSTER_CMD_MEMBER_JOIN, out);
	if (err && h->err_offs >= 0)
		h->err_prefix = roster_prefix_at(nlh, (uint32_t)h->err_offs);
	return err;
}

/* A batch: at most this many requests, or this many bytes, per sendmsg
 * (the socket's default send buffer takes a few times as much). */
#define ADD_BATCH 64
#define ADD_BATCH_BYTES (32 * 1024)

/* Send the len bytes of n queued requests (seq first..first+n-1) and read
 * their n acknowledgements. The first refusal (lowest seq) goes to *err;
 * returns a negative errno only if the exchange itself failed. */
static int add_flush(struct roster_handle *h, const void *tx, size_t len, uint32_t first,
		     unsigned int n, struct roster_nlerr *err, uint32_t *err_seq)
{
	int fd = mnl_socket_get_fd(h->nl);
	unsigned int got = 0;
	ssize_t s;

	do
		s = send(fd, tx, len, 0);
	while (s < 0 && errno == EINTR);
	if (s < 0)
		return -errno;
	while (got < n) {
		ssize_t r = recv_one(fd, h->rx, ROSTER_RXBUF_LEN, 0);
		const struct nlmsghdr *nlh = (const void *)h->rx;
		int left = (int)r;

		if (r < 0)
			return (int)r;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct roster_nlerr e;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq - first >= n)
				continue;
			got++;
			roster_parse_nlerr(nlh, &e);
			if (e.error && (!err->error || nlh->nlmsg_seq - first < *err_seq - first)) {
				*err = e;
				*err_seq = nlh->nlmsg_seq;
			}
		}
	}
	return 0;
}

int roster_member_add_many(struct roster_handle *h, uint32_t vpn_id,
			   const struct roster_member *m, size_t n, unsigned int flags,
			   uint64_t stamp, size_t *failed)
{
	struct roster_nlerr err = { 0 };
	uint32_t seq0 = h->seq + 1, first = seq0, err_seq = 0;
	size_t len = 0;
	unsigned int queued = 0;
	char *tx, buf[ROSTER_TXBUF_LEN];
	int ret = 0;

	clear_err(h);
	if (failed)
		*failed = n;
	/* Nothing is sent unless every member is well formed. */
	for (size_t i = 0; i < n; i++) {
		bool bad = !roster_addr_len(&m[i].id) || m[i].n_prefixes > ROSTER_PREFIX_MAX ||
			   (m[i].has_endpoint && !roster_addr_len(&m[i].endpoint));

		for (unsigned int k = 0; k < m[i].n_prefixes && !bad; k++)
			bad = !roster_addr_len(&m[i].prefixes[k].addr);
		if (bad) {
			if (failed)
				*failed = i;
			return set_errno(h, -EINVAL);
		}
	}
	tx = malloc(ADD_BATCH_BYTES);
	if (!tx)
		return set_errno(h, -ENOMEM);
	for (size_t i = 0; i < n && !ret && !err.error; i++) {
		struct nlmsghdr *nlh;

		nlh = roster_build_join(buf, h->family_id, ++h->seq, vpn_id, &m[i], flags, stamp);
		nlh->nlmsg_flags |= NLM_F_ACK;
		if (len + NLMSG_ALIGN(nlh->nlmsg_len) > ADD_BATCH_BYTES) {
			ret = add_flush(h, tx, len, first, queued, &err, &err_seq);
			first += queued;
			len = 0;
			queued = 0;
			if (ret || err.error)
				break;
		}
		memcpy(tx + len, nlh, nlh->nlmsg_len);
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		if (++queued == ADD_BATCH || i + 1 == n) {
			ret = add_flush(h, tx, len, first, queued, &err, &err_seq);
			first += queued;
			len = 0;
			queued = 0;
		}
	}
	free(tx);
	if (ret)
		return set_errno(h, ret);
	if (err.error) {
		if (failed)
			*failed = err_seq - seq0;
		return set_nlerr(h, &err);
	}
	return 0;
}

int roster_member_del(struct roster_handle *h, uint32_t vpn_id,
		      const struct roster_addr *id, enum roster_reason reason,
		      unsigned int flags, uint64_t stamp, struct roster_change *out)
{
	char buf[ROSTER_TXBUF_LEN];

	if (!id || !roster_addr_len(id))
		return set_errno(h, -EINVAL);
	return run_change(h, roster_build_leave(buf, h->family_id, ++h->seq, vpn_id, id,
						reason, flags, stamp),
			  ROSTER_CMD_MEMBER_LEAVE, out);
}

/*
 * The member set of one VPN after a change at generation gen, without the
 * member skip: a member dump filtered by the VPN. An empty dump carries no
 * generation; the VPN's own then says which (if it is still empty).
 */
static int read_set(struct roster_handle *h, uint32_t vpn_id,
		    const struct roster_addr *skip, uint64_t gen,
		    struct roster_member_set **setp)
{
	struct roster_member_set *sets = NULL, *set;
	struct roster_vpn v;
	size_t n = 0;
	int tries, err;

	*setp = NULL;
	for (tries = 0; tries < ROSTER_DUMP_TRIES; tries++) {
		err = roster_member_list(h, vpn_id, &sets, &n);
		if (err && err != -ENOENT)
			return err;
		if (!err && n)
			break;
		if (!err) {
			err = roster_vpn_get(h, vpn_id, &v);
			if (err && err != -ENOENT)
				return err;
			if (!err && v.member_count)
				continue; /* joined meanwhile: read again */
			if (!err)
				gen = v.generation;
		}
		/* deleted (delete-empty, or by someone else), or empty */
		set = calloc(1, sizeof(*set));
		if (!set)
			return set_errno(h, -ENOMEM);
		set->vpn_id = vpn_id;
		set->generation = gen;
		clear_err(h);
		*setp = set;
		return 0;
	}
	if (tries == ROSTER_DUMP_TRIES)
		return set_errno(h, -EINTR);
	/* n == 1: the dump was filtered by vpn_id */
	set = malloc(sizeof(*set));
	if (!set) {
		roster_member_sets_free(sets, n);
		return set_errno(h, -ENOMEM);
	}
	*set = sets[0];
	free(sets);
	if (skip)
		roster_set_remove(set, skip);
	*setp = set;
	return 0;
}

int roster_member_join(struct roster_handle *h, uint32_t vpn_id,
		       const struct roster_member *m, unsigned int flags,
		       struct roster_member_set **set)
{
	struct roster_change c;
	int err;

	if (set)
		*set = NULL;
	err = roster_member_add(h, vpn_id, m, flags, 0, &c);
	if (err || !set)
		return err;
	return read_set(h, vpn_id, &m->id, c.generation, set);
}

int roster_member_leave(struct roster_handle *h, uint32_t vpn_id,
			const struct roster_addr *id, enum roster_reason reason,
			unsigned int flags, struct roster_member_set **set)
{
	struct roster_change c;
	int err;

	if (set)
		*set = NULL;
	err = roster_member_del(h, vpn_id, id, reason, flags, 0, &c);
	if (err || !set)
		return err;
	return read_set(h, vpn_id, id, c.generation, set);
}

/* ---- member reads ---------------------------------------------------------- */

struct get_ctx {
	struct roster_member *m;
	uint64_t gen;
	unsigned int found;
};

static int get_member_cb(uint32_t vpn_id, uint64_t generation,
			 const struct roster_member *m, void *arg)
{
	struct get_ctx *c = arg;

	(void)vpn_id;
	if (c->found++)
		return -EPROTO;
	*c->m = *m;
	c->gen = generation;
	return 0;
}

static int get_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct roster_top t;

	return roster_parse_msg(nlh, &t, get_member_cb, arg);
}

int roster_member_get(struct roster_handle *h, uint32_t vpn_id,
		      const struct roster_addr *id, struct roster_member *out,
		      uint64_t *generation)
{
	char buf[ROSTER_TXBUF_LEN];
	struct nlmsghdr *nlh;
	struct roster_member m;
	struct get_ctx c = { .m = out };
	int err;

	if (!id || !roster_addr_len(id))
		return set_errno(h, -EINVAL);
	memset(&m, 0, sizeof(m));
	m.id = *id;
	nlh = start(h, buf, ROSTER_CMD_MEMBER_GET, NLM_F_ACK);
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn_id);
	roster_put_member(nlh, &m, true, false);
	err = run(h, nlh, get_msg_cb, &c, NULL);
	if (err)
		return err;
	if (c.found != 1)
		return set_errno(h, -EPROTO);
	if (generation)
		*generation = c.gen;
	return 0;
}

struct sets_ctx {
	struct roster_member_set *sets;
	size_t n, cap;
	struct roster_set_builder cur; /* builds sets[n - 1] */
	bool mixed;	/* one VPN's messages at different generations */
};

static void sets_reset(struct sets_ctx *c)
{
	roster_member_sets_free(c->sets, c->n);
	memset(c, 0, sizeof(*c));
}

static int sets_member_cb(uint32_t vpn_id, uint64_t generation,
			  const struct roster_member *m, void *arg)
{
	struct sets_ctx *c = arg;
	struct roster_member_set *s;

	if (!c->n || c->sets[c->n - 1].vpn_id != vpn_id) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 8;

			s = realloc(c->sets, cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			c->sets = s;
			c->cap = cap;
		}
		s = &c->sets[c->n++];
		memset(s, 0, sizeof(*s));
		s->vpn_id = vpn_id;
		s->generation = generation;
		c->cur.cap = 0;
	}
	c->cur.set = &c->sets[c->n - 1];
	if (c->cur.set->generation != generation)
		c->mixed = true;
	return roster_set_builder_add(&c->cur, m);
}

static int sets_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct roster_top t;
	int err = roster_parse_msg(nlh, &t, sets_member_cb, arg);

	if (!err && (!t.has_vpn_id || !t.has_generation))
		return -EPROTO;
	return err;
}

int roster_member_list(struct roster_handle *h, uint32_t vpn_id,
		       struct roster_member_set **sets, size_t *n)
{
	char buf[ROSTER_TXBUF_LEN];
	struct sets_ctx c;
	int tries, err = 0;
	bool intr = true;

	*sets = NULL;
	*n = 0;
	memset(&c, 0, sizeof(c));
	for (tries = 0; tries < ROSTER_DUMP_TRIES && intr; tries++) {
		struct nlmsghdr *nlh = start(h, buf, ROSTER_CMD_MEMBER_GET, NLM_F_DUMP);

		if (vpn_id)
			mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn_id);
		sets_reset(&c);
		err = run(h, nlh, sets_msg_cb, &c, &intr);
		if (err)
			break;
		/* a VPN read at two generations was not read at one */
		intr = intr || c.mixed;
	}
	if (!err && intr)
		err = set_errno(h, -EINTR);
	if (err) {
		sets_reset(&c);
		return err;
	}
	*sets = c.sets;
	*n = c.n;
	return 0;
}

/* ---- monitor ---------------------------------------------------------- */

struct roster_monitor {
	struct mnl_socket *nl;
	uint16_t family_id;
	char *rx;
};

int roster_monitor_open(struct roster_handle *h, struct roster_monitor **mp)
{
	struct roster_monitor *m;
	int size = ROSTER_MONITOR_RCVBUF, grp = (int)h->mcgrp_id, fd, err;

	*mp = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->rx = malloc(ROSTER_RXBUF_LEN);
	if (!m->rx) {
		err = -ENOMEM;
		goto fail;
	}
	m->family_id = h->family_id;
	err = in_netns(h->netns_fd, &m->nl);
	if (err)
		goto fail;
	fd = mnl_socket_get_fd(m->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	err = sock_setup(m->nl, false);
	if (err)
		goto fail;
	if (mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		err = -errno;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	*mp = m;
	return 0;
fail:
	set_errno(h, err);
	roster_monitor_close(m);
	return err;
}

void roster_monitor_close(struct roster_monitor *m)
{
	if (!m)
		return;
	if (m->nl)
		mnl_socket_close(m->nl);
	free(m->rx);
	free(m);
}

int roster_monitor_set_rcvbuf(struct roster_monitor *m, int bytes)
{
	int fd = mnl_socket_get_fd(m->nl);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

int roster_monitor_fd(const struct roster_monitor *m)
{
	return mnl_socket_get_fd(m->nl);
}

int roster_monitor_read(struct roster_monitor *m, roster_event_cb cb, void *arg)
{
	int fd = mnl_socket_get_fd(m->nl), count = 0, rounds;
	struct roster_event ev;

	for (rounds = 0; rounds < 256; rounds++) {
		ssize_t n = recv_one(fd, m->rx, ROSTER_RXBUF_LEN, MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)m->rx;
		int left = (int)n, ret;

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == -ENOBUFS) {
			memset(&ev, 0, sizeof(ev));
			ev.type = ROSTER_EVENT_OVERRUN;
			count++;
			ret = cb(&ev, arg);
			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return (int)n;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type != m->family_id)
				continue;
			if (roster_parse_event(nlh, &ev))
				continue;
			count++;
			ret = cb(&ev, arg);
			if (ret)
				return ret;
		}
	}
	return count;
}
