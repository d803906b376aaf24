// SPDX-License-Identifier: GPL-2.0
/*
 * libnl-3 client of the roster generic netlink family for the selftest.
 * See roster_nl.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>

#include "roster_nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

#define RNL_DEFAULT_TIMEOUT_MS	60000

struct nl_sock *rnl_sock_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk)
		return NULL;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return NULL;
	}
	/* extended ACK: error strings and missing-attribute info */
	if (setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one))) {
		nl_socket_free(sk);
		return NULL;
	}
	/* size the receive buffer from the queued message (MSG_PEEK) */
	nl_socket_enable_msg_peek(sk);
	return sk;
}

int rnl_set_rcvbuf(struct nl_sock *sk, int bytes)
{
	int fd = nl_socket_get_fd(sk);

	/* FORCE: as root, beyond net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes,
				  sizeof(bytes));
	return 0;
}

int rnl_subscribe(struct nl_sock *sk, int grp)
{
	/* not nl_socket_add_membership(): we want the raw errno */
	if (setsockopt(nl_socket_get_fd(sk), SOL_NETLINK,
		       NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)))
		return -errno;
	return 0;
}

int rnl_resolve(struct nl_sock *sk, int *fam, int *grp, int *version)
{
	struct nl_cache *cache = NULL;
	struct genl_family *f;

	*fam = genl_ctrl_resolve(sk, ROSTER_FAMILY_NAME);
	if (*fam < 0)
		return *fam;
	if (grp) {
		*grp = genl_ctrl_resolve_grp(sk, ROSTER_FAMILY_NAME,
					     ROSTER_MCGRP_NOTIFY);
		if (*grp < 0)
			return *grp;
	}
	if (version) {
		*version = -1;
		if (genl_ctrl_alloc_cache(sk, &cache) == 0) {
			f = genl_ctrl_search_by_name(cache,
						     ROSTER_FAMILY_NAME);
			if (f) {
				*version = genl_family_get_version(f);
				genl_family_put(f);
			}
			nl_cache_free(cache);
		}
	}
	return 0;
}

int rnl_ctx_open(struct rnl_ctx *c, int with_mon)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->sk = rnl_sock_open();
	if (!c->sk)
		return -ENOMEM;
	ret = rnl_resolve(c->sk, &c->fam, &c->grp, &c->version);
	if (ret < 0)
		return ret;
	if (with_mon) {
		c->mon = rnl_sock_open();
		if (!c->mon)
			return -ENOMEM;
		nl_socket_disable_seq_check(c->mon);
		rnl_set_rcvbuf(c->mon, 4 << 20);
		ret = rnl_subscribe(c->mon, c->grp);
		if (ret)
			return ret;
	}
	return 0;
}

void rnl_ctx_close(struct rnl_ctx *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	if (c->mon)
		nl_socket_free(c->mon);
	c->sk = c->mon = NULL;
}

void rnl_res_init(struct rnl_res *r)
{
	memset(r, 0, sizeof(*r));
	r->miss_type = -1;
}

void rnl_res_free(struct rnl_res *r)
{
	free(r->msgs);
	free(r->mems);
	rnl_res_init(r);
}

/* ---- building requests ---------------------------------------------- */

static int put_member(struct nl_msg *msg, const struct rnl_member *m)
{
	struct nlattr *nest, *p;
	int i;

	nest = nla_nest_start(msg, ROSTER_A_MEMBER | NLA_F_NESTED);
	if (!nest)
		return -1;
	if (m->dev_len && nla_put(msg, ROSTER_A_MEMBER_DEV, m->dev_len, m->dev))
		return -1;
	if (m->key_len &&
	    nla_put(msg, ROSTER_A_MEMBER_PUBLIC_KEY, m->key_len, m->key))
		return -1;
	if (m->ep_len &&
	    nla_put(msg, ROSTER_A_MEMBER_ENDPOINT_ADDR, m->ep_len, m->ep))
		return -1;
	if (m->has_port &&
	    nla_put_u16(msg, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port))
		return -1;
	for (i = 0; i < m->npfx; i++) {
		p = nla_nest_start(msg, ROSTER_A_MEMBER_PREFIX | NLA_F_NESTED);
		if (!p)
			return -1;
		if (m->pfx[i].alen &&
		    nla_put(msg, ROSTER_A_PREFIX_ADDR, m->pfx[i].alen,
			    m->pfx[i].addr))
			return -1;
		if (m->pfx[i].has_len &&
		    nla_put_u8(msg, ROSTER_A_PREFIX_LEN, m->pfx[i].len))
			return -1;
		nla_nest_end(msg, p);
	}
	if (m->has_jt && nla_put_u64(msg, ROSTER_A_MEMBER_JOIN_TIME, m->jt))
		return -1;
	if (m->has_jg &&
	    nla_put_u64(msg, ROSTER_A_MEMBER_JOIN_GENERATION, m->jg))
		return -1;
	if (m->xtype && nla_put(msg, m->xtype, m->xlen, m->x))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

static struct nl_msg *build(int fam, const struct rnl_req *q)
{
	struct nl_msg *msg = nlmsg_alloc_size(8192);
	struct nlattr *nest;

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, q->flags,
			 q->cmd, ROSTER_FAMILY_VERSION))
		goto fail;
	if (q->has_vpn && nla_put_u32(msg, ROSTER_A_VPN_ID, q->vpn))
		goto fail;
	if (q->has_flags && nla_put_u32(msg, ROSTER_A_FLAGS, q->rflags))
		goto fail;
	if (q->has_reason && nla_put_u32(msg, ROSTER_A_REASON, q->reason))
		goto fail;
	if (q->xtype && nla_put(msg, q->xtype, q->xlen, q->x))
		goto fail;
	if (q->m && put_member(msg, q->m))
		goto fail;
	if (q->empty_member) {
		nest = nla_nest_start(msg, ROSTER_A_MEMBER | NLA_F_NESTED);
		if (!nest)
			goto fail;
		nla_nest_end(msg, nest);
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

/* ---- parsing ---------------------------------------------------------- */

static int want_len(const struct nlattr *a, int len)
{
	return nla_len(a) == len;
}

static void parse_member(const struct nlattr *nest, struct rnl_member *m)
{
	struct nlattr *a, *b;
	int rem, rem2, n;

	memset(m, 0, sizeof(*m));
	nla_for_each_nested(a, nest, rem) {
		n = nla_len(a);
		switch (nla_type(a)) {
		case ROSTER_A_MEMBER_DEV:
			if (n != 4 && n != 16) {
				m->bad = 1;
				break;
			}
			m->dev_len = n;
			memcpy(m->dev, nla_data(a), n);
			break;
		case ROSTER_A_MEMBER_PUBLIC_KEY:
			if (n != ROSTER_KEY_LEN) {
				m->bad = 1;
				break;
			}
			m->key_len = n;
			memcpy(m->key, nla_data(a), n);
			break;
		case ROSTER_A_MEMBER_ENDPOINT_ADDR:
			if (n != 4 && n != 16) {
				m->bad = 1;
				break;
			}
			m->ep_len = n;
			memcpy(m->ep, nla_data(a), n);
			break;
		case ROSTER_A_MEMBER_ENDPOINT_PORT:
			if (!want_len(a, 2)) {
				m->bad = 1;
				break;
			}
			m->has_port = 1;
			m->port = nla_get_u16(a);
			break;
		case ROSTER_A_MEMBER_PREFIX:
			if (m->npfx >= RNL_MAX_PFX) {
				m->bad = 1;
				break;
			}
			nla_for_each_nested(b, a, rem2) {
				struct rnl_pfx *p = &m->pfx[m->npfx];

				switch (nla_type(b)) {
				case ROSTER_A_PREFIX_ADDR:
					if (nla_len(b) != 4 &&
					    nla_len(b) != 16) {
						m->bad = 1;
						break;
					}
					p->alen = nla_len(b);
					memcpy(p->addr, nla_data(b), p->alen);
					break;
				case ROSTER_A_PREFIX_LEN:
					if (!want_len(b, 1)) {
						m->bad = 1;
						break;
					}
					p->has_len = 1;
					p->len = nla_get_u8(b);
					break;
				default:
					m->bad = 1;
				}
			}
			m->npfx++;
			break;
		case ROSTER_A_MEMBER_JOIN_TIME:
			if (!want_len(a, 8)) {
				m->bad = 1;
				break;
			}
			m->has_jt = 1;
			m->jt = nla_get_u64(a);
			break;
		case ROSTER_A_MEMBER_JOIN_GENERATION:
			if (!want_len(a, 8)) {
				m->bad = 1;
				break;
			}
			m->has_jg = 1;
			m->jg = nla_get_u64(a);
			break;
		case ROSTER_A_MEMBER_PAD:
			break;
		default:
			m->bad = 1;
		}
	}
	if (rem)
		m->bad = 1;
}

static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * sz);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static void parse_msg(struct rnl_res *r, struct nlmsghdr *nlh)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct rnl_member mem;
	struct rnl_msg m;
	struct nlattr *a;
	int rem;

	memset(&m, 0, sizeof(m));
	m.type = nlh->nlmsg_type;
	m.flags = nlh->nlmsg_flags;
	m.seq = nlh->nlmsg_seq;
	if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
		m.bad = 1;
		r->bad++;
		goto store;
	}
	m.cmd = gh->cmd;
	m.version = gh->version;
	m.first_mem = r->nmems;

	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem) {
		switch (nla_type(a)) {
		case ROSTER_A_VPN_ID:
			if (!want_len(a, 4)) {
				m.bad = 1;
				break;
			}
			m.has_vpn = 1;
			m.vpn = nla_get_u32(a);
			break;
		case ROSTER_A_GENERATION:
			if (!want_len(a, 8)) {
				m.bad = 1;
				break;
			}
			m.has_gen = 1;
			m.gen = nla_get_u64(a);
			break;
		case ROSTER_A_MEMBER_COUNT:
			if (!want_len(a, 4)) {
				m.bad = 1;
				break;
			}
			m.has_count = 1;
			m.count = nla_get_u32(a);
			break;
		case ROSTER_A_CREATE_TIME:
			if (!want_len(a, 8)) {
				m.bad = 1;
				break;
			}
			m.has_ctime = 1;
			m.ctime = nla_get_u64(a);
			break;
		case ROSTER_A_REASON:
			if (!want_len(a, 4)) {
				m.bad = 1;
				break;
			}
			m.has_reason = 1;
			m.reason = nla_get_u32(a);
			break;
		case ROSTER_A_MEMBER:
		case ROSTER_A_PAD:
			break;
		default:
			m.bad = 1;
		}
	}
	if (rem)
		m.bad = 1;

	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem) {
		if (nla_type(a) != ROSTER_A_MEMBER)
			continue;
		parse_member(a, &mem);
		if (mem.bad)
			m.bad = 1;
		m.nmem++;
		r->total_mems++;
		if (r->on_mem)
			r->on_mem(r, &m, &mem);
		if (r->nostore_mems)
			continue;
		if (grow((void **)&r->mems, &r->capmems, r->nmems + 1,
			 sizeof(*r->mems))) {
			r->nlerr = -NLE_NOMEM;
			continue;
		}
		r->mems[r->nmems++] = mem;
	}
	if (m.bad)
		r->bad++;
store:
	if (r->nostore_msgs) {
		r->nmsgs++;
		return;
	}
	if (grow((void **)&r->msgs, &r->capmsgs, r->nmsgs + 1,
		 sizeof(*r->msgs))) {
		r->nlerr = -NLE_NOMEM;
		return;
	}
	r->msgs[r->nmsgs++] = m;
}

/* ---- receiving -------------------------------------------------------- */

static void parse_extack(struct rnl_res *r, struct nlattr *attrs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int n;

	memset(tb, 0, sizeof(tb));
	nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, NULL);
	if (tb[NLMSGERR_ATTR_MSG]) {
		n = strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]),
			    nla_len(tb[NLMSGERR_ATTR_MSG]));
		if (n >= (int)sizeof(r->ext))
			n = sizeof(r->ext) - 1;
		memcpy(r->ext, nla_data(tb[NLMSGERR_ATTR_MSG]), n);
		r->ext[n] = 0;
		r->ext_present = 1;
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		r->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
}

static int cb_valid(struct nl_msg *msg, void *arg)
{
	parse_msg(arg, nlmsg_hdr(msg));
	return NL_OK;
}

static int cb_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct rnl_res *r = arg;

	r->done = 1;
	r->done_seen = 1;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->intr = 1;
	/*
	 * A dump that failed (in its first or a later part) reports the error
	 * in NLMSG_DONE, followed by the extack TLVs if NLM_F_ACK_TLVS.
	 */
	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
	    *(int *)nlmsg_data(nlh) < 0) {
		r->err = *(int *)nlmsg_data(nlh);
		r->err_in_done = 1;
	}
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    nlh->nlmsg_len > NLMSG_LENGTH(sizeof(int)))
		parse_extack(r, (struct nlattr *)((char *)nlmsg_data(nlh) +
						  NLMSG_ALIGN(sizeof(int))),
			     nlh->nlmsg_len - NLMSG_LENGTH(sizeof(int)));
	return NL_STOP;
}

static int cb_ack(struct nl_msg *msg, void *arg)
{
	struct rnl_res *r = arg;

	(void)msg;
	r->done = 1;
	r->acked = 1;
	return NL_STOP;
}

static int cb_intr(struct nl_msg *msg, void *arg)
{
	struct rnl_res *r = arg;

	(void)msg;
	r->intr = 1;
	return NL_OK;	/* and go on to NL_CB_VALID / NL_CB_FINISH */
}

static int cb_seq(struct nl_msg *msg, void *arg)
{
	struct rnl_res *r = arg;

	if (nlmsg_hdr(msg)->nlmsg_seq != r->seq)
		r->seq_bad++;
	return NL_OK;
}

static int cb_seq_any(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* Modelled on ovpn-cli's ovpn_nl_cb_error(): pull the extack TLVs. */
static int cb_err(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)err - 1;
	int len = nlh->nlmsg_len;
	struct rnl_res *r = arg;
	struct nlattr *attrs;
	int ack_len = sizeof(*nlh) + sizeof(int) + sizeof(*nlh);

	(void)nla;
	r->done = 1;
	r->err = err->error;
	if (nlh->nlmsg_seq != r->seq)
		r->seq_bad++;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += err->msg.nlmsg_len - sizeof(*nlh);
	if (len <= ack_len)
		return NL_STOP;
	attrs = (struct nlattr *)((uint8_t *)nlh + ack_len);
	parse_extack(r, attrs, len - ack_len);
	return NL_STOP;
}

static struct nl_cb *make_cb(struct rnl_res *r, int check_seq)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);

	if (!cb)
		return NULL;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cb_valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cb_finish, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cb_ack, r);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, cb_intr, r);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM,
		  check_seq ? cb_seq : cb_seq_any, r);
	nl_cb_err(cb, NL_CB_CUSTOM, cb_err, r);
	return cb;
}

/* Read and count anything left on the socket without blocking. */
static int drain_raw(struct nl_sock *sk)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	static char buf[65536];
	int n = 0;

	while (poll(&pfd, 1, 0) > 0) {
		if (recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
		n++;
	}
	return n;
}

static int recv_reply(struct nl_sock *sk, struct rnl_res *r)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	int tmo = r->timeout_ms ? r->timeout_ms : RNL_DEFAULT_TIMEOUT_MS;
	struct nl_cb *cb = make_cb(r, 1);
	int ret;

	if (!cb) {
		r->nlerr = -NLE_NOMEM;
		return -ENOMEM;
	}
	while (!r->done) {
		ret = poll(&pfd, 1, tmo);
		if (ret <= 0) {
			r->nlerr = -NLE_AGAIN;
			r->err = -ETIMEDOUT;
			break;
		}
		ret = nl_recvmsgs(sk, cb);
		if (ret < 0 && !r->done) {
			r->nlerr = ret;
			r->err = -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	r->stray = drain_raw(sk);
	return r->err;
}

int rnl_send(struct nl_sock *sk, int fam, const struct rnl_req *q)
{
	struct nl_msg *msg = build(fam, q);
	int ret;

	if (!msg)
		return -NLE_NOMEM;
	if (q->no_ack)
		nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
	nl_complete_msg(sk, msg);
	if (q->no_ack)
		nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
	ret = nl_send(sk, msg);
	if (ret >= 0)
		ret = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	return ret;
}

int rnl_request(struct nl_sock *sk, int fam, const struct rnl_req *q,
		struct rnl_res *r)
{
	int ret = rnl_send(sk, fam, q);

	if (ret < 0) {
		r->nlerr = ret;
		r->err = -EIO;
		return r->err;
	}
	r->seq = ret;
	return recv_reply(sk, r);
}

int rnl_drain(struct nl_sock *mon, struct rnl_res *r)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(mon), .events = POLLIN };
	struct nl_cb *cb = make_cb(r, 0);
	int ret = 0;

	if (!cb)
		return -NLE_NOMEM;
	while (poll(&pfd, 1, 0) > 0) {
		ret = nl_recvmsgs(mon, cb);
		if (ret < 0) {
			r->nlerr = ret;
			break;
		}
	}
	nl_cb_put(cb);
	return ret < 0 ? ret : 0;
}

/* ---- convenience ------------------------------------------------------ */

int rnl_vpn_new(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_NEW, .has_vpn = 1,
			     .vpn = vpn };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_vpn_del(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_DEL, .has_vpn = 1,
			     .vpn = vpn };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_vpn_get(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_GET, .has_vpn = 1,
			     .vpn = vpn };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_vpn_dump(struct rnl_ctx *c, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_GET, .flags = NLM_F_DUMP };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_join(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	     int excl, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_JOIN, .has_vpn = 1,
			     .vpn = vpn, .m = m,
			     .flags = excl ? NLM_F_EXCL : 0 };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_leave(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	      int has_reason, uint32_t reason, uint32_t flags,
	      struct rnl_res *r)
{
	struct rnl_member dev_only;
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_LEAVE, .has_vpn = 1,
			     .vpn = vpn, .m = &dev_only,
			     .has_reason = has_reason, .reason = reason,
			     .has_flags = !!flags, .rflags = flags };

	memset(&dev_only, 0, sizeof(dev_only));
	dev_only.dev_len = m->dev_len;
	memcpy(dev_only.dev, m->dev, m->dev_len);
	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_member_get(struct rnl_ctx *c, uint32_t vpn,
		   const struct rnl_member *m, struct rnl_res *r)
{
	struct rnl_member dev_only;
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_GET, .has_vpn = 1,
			     .vpn = vpn, .m = &dev_only };

	memset(&dev_only, 0, sizeof(dev_only));
	dev_only.dev_len = m->dev_len;
	memcpy(dev_only.dev, m->dev, m->dev_len);
	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_member_dump(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_GET, .flags = NLM_F_DUMP,
			     .has_vpn = !!vpn, .vpn = vpn };

	return rnl_request(c->sk, c->fam, &q, r);
}

/* ---- members ---------------------------------------------------------- */

/*
 * Member idx: dev 10.a.b.c (v4, idx < 2^24) or fd00::idx (v6); a key that
 * depends on idx and salt; every third member has an endpoint, every
 * second one prefixes (v4 or v6, up to 3).
 */
void rnl_member_make(struct rnl_member *m, unsigned int idx, int v6,
		     unsigned int salt)
{
	int i;

	memset(m, 0, sizeof(*m));
	if (v6) {
		m->dev_len = 16;
		m->dev[0] = 0xfd;
		m->dev[12] = idx >> 24;
		m->dev[13] = idx >> 16;
		m->dev[14] = idx >> 8;
		m->dev[15] = idx;
	} else {
		m->dev_len = 4;
		m->dev[0] = 10;
		m->dev[1] = idx >> 16;
		m->dev[2] = idx >> 8;
		m->dev[3] = idx;
	}
	m->key_len = ROSTER_KEY_LEN;
	for (i = 0; i < ROSTER_KEY_LEN; i++)
		m->key[i] = (uint8_t)(idx * 131 + i * 7 + salt * 29 + 1);
	if (idx % 3 == 1) {
		if (v6) {
			m->ep_len = 16;
			m->ep[0] = 0x20;
			m->ep[1] = 0x01;
			m->ep[2] = 0x0d;
			m->ep[3] = 0xb8;
			m->ep[14] = idx >> 8;
			m->ep[15] = idx;
		} else {
			m->ep_len = 4;
			m->ep[0] = 192;
			m->ep[1] = 0;
			m->ep[2] = 2;
			m->ep[3] = idx;
		}
		m->has_port = 1;
		m->port = 51820 + (idx & 0xff) + salt;
	}
	if (idx % 2 == 0) {
		m->npfx = 1 + idx % 3;
		for (i = 0; i < m->npfx; i++) {
			struct rnl_pfx *p = &m->pfx[i];

			p->has_len = 1;
			if (i == 2) {	/* one v6 prefix */
				p->alen = 16;
				p->addr[0] = 0xfd;
				p->addr[1] = 0x10;
				p->addr[4] = idx >> 8;
				p->addr[5] = idx;
				p->len = 48;
			} else {
				p->alen = 4;
				p->addr[0] = 172;
				p->addr[1] = 16 + i;
				p->addr[2] = idx;
				p->len = 24;
			}
		}
	}
}

int rnl_dev_eq(const struct rnl_member *a, const struct rnl_member *b)
{
	return a->dev_len == b->dev_len && !memcmp(a->dev, b->dev, a->dev_len);
}

static int pfx_eq(const struct rnl_pfx *a, const struct rnl_pfx *b)
{
	return a->alen == b->alen && a->len == b->len &&
	       a->has_len == b->has_len && !memcmp(a->addr, b->addr, a->alen);
}

/* Request-visible content: dev, key, endpoint, prefixes (as a set). */
int rnl_member_eq(const struct rnl_member *a, const struct rnl_member *b)
{
	int i, j;

	if (!rnl_dev_eq(a, b))
		return 0;
	if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len))
		return 0;
	if (a->ep_len != b->ep_len || memcmp(a->ep, b->ep, a->ep_len))
		return 0;
	if (a->has_port != b->has_port || (a->has_port && a->port != b->port))
		return 0;
	if (a->npfx != b->npfx)
		return 0;
	for (i = 0; i < a->npfx; i++) {
		for (j = 0; j < b->npfx; j++)
			if (pfx_eq(&a->pfx[i], &b->pfx[j]))
				break;
		if (j == b->npfx)
			return 0;
	}
	return 1;
}

const char *rnl_dev_str(const struct rnl_member *m, char *buf, size_t len)
{
	if (m->dev_len == 4)
		return inet_ntop(AF_INET, m->dev, buf, len);
	if (m->dev_len == 16)
		return inet_ntop(AF_INET6, m->dev, buf, len);
	snprintf(buf, len, "<dev len %u>", m->dev_len);
	return buf;
}

long rnl_dev_idx(const struct rnl_member *m)
{
	if (m->dev_len == 4 && m->dev[0] == 10)
		return (long)m->dev[1] << 16 | m->dev[2] << 8 | m->dev[3];
	if (m->dev_len == 16 && m->dev[0] == 0xfd)
		return (long)m->dev[12] << 24 | m->dev[13] << 16 |
		       m->dev[14] << 8 | m->dev[15];
	return -1;
}
