// SPDX-License-Identifier: GPL-2.0
/*
 * libnl-3 client of the roster generic netlink family (uAPI v2) for the
 * selftest. See roster_nl.h.
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

int rnl_resolve(struct nl_sock *sk, int *fam, int *grp, int *version,
		int *maxattr)
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
	if (version || maxattr) {
		if (version)
			*version = -1;
		if (maxattr)
			*maxattr = -1;
		if (genl_ctrl_alloc_cache(sk, &cache) == 0) {
			f = genl_ctrl_search_by_name(cache,
						     ROSTER_FAMILY_NAME);
			if (f) {
				if (version)
					*version = genl_family_get_version(f);
				if (maxattr)
					*maxattr = genl_family_get_maxattr(f);
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
	ret = rnl_resolve(c->sk, &c->fam, &c->grp, &c->version, &c->maxattr);
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

int64_t rnl_cookie_u64(const struct rnl_res *r)
{
	uint64_t v;

	if (r->cookie_len != sizeof(v))
		return -1;
	memcpy(&v, r->cookie, sizeof(v));
	return (int64_t)v;
}

/* ---- building requests ---------------------------------------------- */

/* where the request's attributes are, for NLMSGERR_ATTR_OFFS */
struct rnl_offs {
	uint32_t member;
	uint32_t pfx[RNL_MAX_PFX];
};

static uint32_t off_of(struct nl_msg *msg, const void *p)
{
	return (uint32_t)((const char *)p - (const char *)nlmsg_hdr(msg));
}

static int put_raw(struct nl_msg *msg, const struct rnl_raw *x)
{
	if (!x->type)
		return 0;
	return nla_put(msg, x->type, x->len, x->data);
}

/* a 4-byte address is a u32 in network byte order: its bytes as they are */
static int put_addr(struct nl_msg *msg, int t4, int t6, const uint8_t *a,
		    int len)
{
	if (len == 4)
		return nla_put(msg, t4, 4, a);
	if (len == 16)
		return nla_put(msg, t6, 16, a);
	return 0;
}

static int put_member(struct nl_msg *msg, const struct rnl_member *m,
		      struct rnl_offs *o)
{
	struct nlattr *nest, *p;
	int i;

	nest = nla_nest_start(msg, ROSTER_A_MEMBER | NLA_F_NESTED);
	if (!nest)
		return -1;
	if (o)
		o->member = off_of(msg, nest);
	if (put_addr(msg, ROSTER_A_MEMBER_ID_IPV4, ROSTER_A_MEMBER_ID_IPV6,
		     m->id, m->id_len))
		return -1;
	if (m->key_len &&
	    nla_put(msg, ROSTER_A_MEMBER_PUBLIC_KEY, m->key_len, m->key))
		return -1;
	if (put_addr(msg, ROSTER_A_MEMBER_ENDPOINT_IPV4,
		     ROSTER_A_MEMBER_ENDPOINT_IPV6, m->ep, m->ep_len))
		return -1;
	if (m->has_port &&
	    nla_put_u16(msg, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port))
		return -1;
	for (i = 0; i < m->npfx; i++) {
		p = nla_nest_start(msg, ROSTER_A_MEMBER_PREFIX | NLA_F_NESTED);
		if (!p)
			return -1;
		if (o)
			o->pfx[i] = off_of(msg, p);
		if (put_addr(msg, ROSTER_A_PREFIX_IPV4, ROSTER_A_PREFIX_IPV6,
			     m->pfx[i].addr, m->pfx[i].alen))
			return -1;
		if (m->pfx[i].has_len &&
		    nla_put_u8(msg, ROSTER_A_PREFIX_LEN, m->pfx[i].len))
			return -1;
		if (put_raw(msg, &m->pfx[i].x))
			return -1;
		nla_nest_end(msg, p);
	}
	if (m->has_jt && nla_put_u64(msg, ROSTER_A_MEMBER_JOIN_TIME, m->jt))
		return -1;
	if (m->has_jg &&
	    nla_put_u64(msg, ROSTER_A_MEMBER_JOIN_GENERATION, m->jg))
		return -1;
	if (put_raw(msg, &m->x))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

static struct nl_msg *build(int fam, const struct rnl_req *q,
			    struct rnl_offs *o)
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
	if (q->has_gen && nla_put_u64(msg, ROSTER_A_GENERATION, q->gen))
		goto fail;
	if (q->has_flags && nla_put_u32(msg, ROSTER_A_FLAGS, q->rflags))
		goto fail;
	if (q->has_reason && nla_put_u32(msg, ROSTER_A_REASON, q->reason))
		goto fail;
	if (q->has_vflags && nla_put_u32(msg, ROSTER_A_VPN_FLAGS, q->vflags))
		goto fail;
	if (put_raw(msg, &q->x))
		goto fail;
	if (q->m && put_member(msg, q->m, o))
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

/* one attribute of an IPv4/IPv6 pair into addr/alen */
static void get_addr(const struct nlattr *a, int want, uint8_t *addr,
		     uint8_t *alen, uint8_t *bad)
{
	if (nla_len(a) != want || *alen) {	/* bad length, or both */
		*bad = 1;
		return;
	}
	*alen = want;
	memcpy(addr, nla_data(a), want);
}

static void parse_member(const struct nlattr *nest, struct rnl_member *m)
{
	struct nlattr *a, *b;
	int rem, rem2;

	memset(m, 0, sizeof(*m));
	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case ROSTER_A_MEMBER_ID_IPV4:
			get_addr(a, 4, m->id, &m->id_len, &m->bad);
			break;
		case ROSTER_A_MEMBER_ID_IPV6:
			get_addr(a, 16, m->id, &m->id_len, &m->bad);
			break;
		case ROSTER_A_MEMBER_PUBLIC_KEY:
			if (nla_len(a) != ROSTER_KEY_LEN) {
				m->bad = 1;
				break;
			}
			m->key_len = nla_len(a);
			memcpy(m->key, nla_data(a), m->key_len);
			break;
		case ROSTER_A_MEMBER_ENDPOINT_IPV4:
			get_addr(a, 4, m->ep, &m->ep_len, &m->bad);
			break;
		case ROSTER_A_MEMBER_ENDPOINT_IPV6:
			get_addr(a, 16, m->ep, &m->ep_len, &m->bad);
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
				case ROSTER_A_PREFIX_IPV4:
					get_addr(b, 4, p->addr, &p->alen,
						 &m->bad);
					break;
				case ROSTER_A_PREFIX_IPV6:
					get_addr(b, 16, p->addr, &p->alen,
						 &m->bad);
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
			if (!m->pfx[m->npfx].alen || !m->pfx[m->npfx].has_len)
				m->bad = 1;
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
	if (!m->id_len)
		m->bad = 1;
	if (m->ep_len && !m->has_port)
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

static int get_u32(const struct nlattr *a, uint8_t *has, uint32_t *v)
{
	if (!want_len(a, 4))
		return -1;
	*has = 1;
	*v = nla_get_u32(a);
	return 0;
}

static int get_u64(const struct nlattr *a, uint8_t *has, uint64_t *v)
{
	if (!want_len(a, 8))
		return -1;
	*has = 1;
	*v = nla_get_u64(a);
	return 0;
}

static void parse_msg(struct rnl_res *r, struct nlmsghdr *nlh)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct rnl_member mem;
	struct rnl_msg m;
	struct nlattr *a;
	int rem, t, bad;

	memset(&m, 0, sizeof(m));
	m.type = nlh->nlmsg_type;
	m.flags = nlh->nlmsg_flags;
	m.seq = nlh->nlmsg_seq;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->intr = 1;
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
		t = nla_type(a);
		bad = 0;
		if (t < 32) {
			if (m.attrs & (1u << t) && t != ROSTER_A_MEMBER &&
			    t != ROSTER_A_PAD)
				bad = 1;	/* a scalar twice */
			m.attrs |= 1u << t;
		}
		switch (t) {
		case ROSTER_A_VPN_ID:
			bad |= get_u32(a, &m.has_vpn, &m.vpn);
			break;
		case ROSTER_A_GENERATION:
			bad |= get_u64(a, &m.has_gen, &m.gen);
			break;
		case ROSTER_A_MEMBER_COUNT:
			bad |= get_u32(a, &m.has_count, &m.count);
			break;
		case ROSTER_A_CREATE_TIME:
			bad |= get_u64(a, &m.has_ctime, &m.ctime);
			break;
		case ROSTER_A_REASON:
			bad |= get_u32(a, &m.has_reason, &m.reason);
			break;
		case ROSTER_A_VPN_FLAGS:
			bad |= get_u32(a, &m.has_vflags, &m.vflags);
			break;
		case ROSTER_A_CHANGE_FLAGS:
			bad |= get_u32(a, &m.has_cflags, &m.cflags);
			break;
		case ROSTER_A_MEMBER:
		case ROSTER_A_PAD:
			break;
		default:
			bad = 1;
		}
		if (bad)
			m.bad = 1;
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
	if (tb[NLMSGERR_ATTR_OFFS]) {
		r->has_offs = 1;
		r->offs = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
	if (tb[NLMSGERR_ATTR_COOKIE]) {
		n = nla_len(tb[NLMSGERR_ATTR_COOKIE]);
		if (n > (int)sizeof(r->cookie))
			n = sizeof(r->cookie);
		memcpy(r->cookie, nla_data(tb[NLMSGERR_ATTR_COOKIE]), n);
		r->cookie_len = n;
	}
}

/* NLMSG_DONE: the end of a dump, with its error and extack */
static void handle_done(struct rnl_res *r, struct nlmsghdr *nlh)
{
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
}

/* NLMSG_ERROR: an ACK (error 0) or an error, with its extack TLVs */
static void handle_error(struct rnl_res *r, struct nlmsghdr *nlh)
{
	struct nlmsgerr *err = nlmsg_data(nlh);
	int len = nlh->nlmsg_len;
	int ack_len = sizeof(*nlh) + sizeof(int) + sizeof(*nlh);

	r->done = 1;
	if (len < (int)NLMSG_LENGTH(sizeof(*err))) {
		r->err = -EBADMSG;
		return;
	}
	r->err = err->error;
	if (!err->error) {
		r->acked = 1;
		r->ack_after = r->nmsgs;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += err->msg.nlmsg_len - sizeof(*nlh);
	if (len <= ack_len)
		return;
	parse_extack(r, (struct nlattr *)((uint8_t *)nlh + ack_len),
		     len - ack_len);
}

static int cb_valid(struct nl_msg *msg, void *arg)
{
	struct rnl_res *r = arg;

	parse_msg(r, nlmsg_hdr(msg));
	if (r->done_on_msg) {
		r->done = 1;
		return NL_STOP;
	}
	return NL_OK;
}

static int cb_finish(struct nl_msg *msg, void *arg)
{
	handle_done(arg, nlmsg_hdr(msg));
	return NL_STOP;
}

static int cb_ack(struct nl_msg *msg, void *arg)
{
	handle_error(arg, nlmsg_hdr(msg));
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
	struct rnl_res *r = arg;

	(void)nla;
	if (nlh->nlmsg_seq != r->seq)
		r->seq_bad++;
	handle_error(r, nlh);
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
int rnl_discard(struct nl_sock *sk)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	static __thread char buf[65536];
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
	r->stray = rnl_discard(sk);
	return r->err;
}

static int send_built(struct nl_sock *sk, struct nl_msg *msg, int no_ack)
{
	int ret;

	nl_complete_msg(sk, msg);
	if (no_ack)
		nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
	ret = nl_send(sk, msg);
	if (ret >= 0)
		ret = nlmsg_hdr(msg)->nlmsg_seq;
	return ret;
}

int rnl_send(struct nl_sock *sk, int fam, const struct rnl_req *q)
{
	struct nl_msg *msg = build(fam, q, NULL);
	int ret;

	if (!msg)
		return -NLE_NOMEM;
	ret = send_built(sk, msg, q->no_ack);
	nlmsg_free(msg);
	return ret;
}

int rnl_request(struct nl_sock *sk, int fam, const struct rnl_req *q,
		struct rnl_res *r)
{
	struct rnl_offs o;
	struct nl_msg *msg;
	int ret;

	memset(&o, 0, sizeof(o));
	msg = build(fam, q, &o);
	if (!msg) {
		r->nlerr = -NLE_NOMEM;
		r->err = -EIO;
		return r->err;
	}
	ret = send_built(sk, msg, q->no_ack);
	nlmsg_free(msg);
	if (ret < 0) {
		r->nlerr = ret;
		r->err = -EIO;
		return r->err;
	}
	r->seq = ret;
	r->req_member_off = o.member;
	memcpy(r->req_pfx_off, o.pfx, sizeof(o.pfx));
	/* a do without NLM_F_ACK ends at its reply (or error) */
	if (q->no_ack && !(q->flags & NLM_F_DUMP))
		r->done_on_msg = 1;
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

/* Hand every netlink message of one datagram to r. */
static int take_datagram(struct rnl_res *r, void *buf, int len)
{
	struct nlmsghdr *nlh;
	int n = 0;

	for (nlh = buf; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		n++;
		if (r->seq && nlh->nlmsg_seq != r->seq)
			r->seq_bad++;
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			handle_done(r, nlh);
			break;
		case NLMSG_ERROR:
			handle_error(r, nlh);
			break;
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			r->bad++;
			break;
		default:
			parse_msg(r, nlh);
		}
	}
	return n;
}

static __thread char *rx_buf;
#define RX_BUF_SIZE	(1 << 20)

static char *rx_buffer(void)
{
	if (!rx_buf)
		rx_buf = malloc(RX_BUF_SIZE);
	return rx_buf;
}

int rnl_recv_one(struct nl_sock *sk, struct rnl_res *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	char *buf = rx_buffer();
	ssize_t len;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	len = recv(pfd.fd, buf, RX_BUF_SIZE, MSG_TRUNC);
	if (len < 0)
		return -errno;
	if (len > RX_BUF_SIZE)
		return -EMSGSIZE;
	return take_datagram(r, buf, len);
}

/* ---- pipelining ------------------------------------------------------- */

int rnl_pipeline(struct nl_sock *sk, int fam, size_t n, size_t window,
		 size_t batch, rnl_fill_fn fill, rnl_done_fn done, void *priv)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	size_t sent = 0, completed = 0, i, cap = 256 << 10, used, nb;
	struct rnl_res *slot = calloc(window, sizeof(*slot));
	char *sbuf = malloc(cap), *rbuf = rx_buffer();
	uint32_t base = 0x10000000, portid = nl_socket_get_local_port(sk);
	int *noack = calloc(window, sizeof(int));
	int ret = 0;

	if (!slot || !sbuf || !rbuf || !noack || !window || !batch) {
		ret = -ENOMEM;
		goto out;
	}
	while (completed < n) {
		/* send: up to `batch` requests in one datagram */
		used = 0;
		for (nb = 0; nb < batch && sent < n &&
		     sent - completed < window; nb++) {
			struct rnl_member m;
			struct rnl_req q;
			struct nl_msg *msg;
			struct nlmsghdr *h;

			memset(&q, 0, sizeof(q));
			memset(&m, 0, sizeof(m));
			fill(sent, &q, &m, priv);
			msg = build(fam, &q, NULL);
			if (!msg) {
				ret = -ENOMEM;
				goto out;
			}
			h = nlmsg_hdr(msg);
			h->nlmsg_flags |= NLM_F_REQUEST;
			if (!q.no_ack)
				h->nlmsg_flags |= NLM_F_ACK;
			h->nlmsg_seq = base + (uint32_t)sent;
			h->nlmsg_pid = portid;
			if (used + NLMSG_ALIGN(h->nlmsg_len) > cap) {
				nlmsg_free(msg);
				break;	/* next datagram; fill() again */
			}
			memcpy(sbuf + used, h, h->nlmsg_len);
			used += NLMSG_ALIGN(h->nlmsg_len);
			nlmsg_free(msg);
			rnl_res_init(&slot[sent % window]);
			slot[sent % window].nostore_mems = 1;
			slot[sent % window].seq = base + (uint32_t)sent;
			noack[sent % window] = q.no_ack;
			sent++;
		}
		if (used && send(pfd.fd, sbuf, used, 0) != (ssize_t)used) {
			ret = -errno;
			goto out;
		}
		/* receive whatever is there; block only when the window is full
		 * or everything is sent */
		for (;;) {
			int block = sent == n || sent - completed >= window;
			struct nlmsghdr *nlh;
			ssize_t len;
			int l;

			if (poll(&pfd, 1, block ? RNL_DEFAULT_TIMEOUT_MS : 0) <= 0) {
				if (block) {
					ret = -ETIMEDOUT;
					goto out;
				}
				break;
			}
			len = recv(pfd.fd, rbuf, RX_BUF_SIZE, MSG_TRUNC);
			if (len < 0) {
				ret = -errno;	/* ENOBUFS: replies dropped */
				goto out;
			}
			l = len;
			for (nlh = (void *)rbuf; nlmsg_ok(nlh, l);
			     nlh = nlmsg_next(nlh, &l)) {
				uint32_t k = nlh->nlmsg_seq - base;
				struct rnl_res *r;

				if (k < completed || k >= sent) {
					ret = -EPROTO;	/* unexpected seq */
					goto out;
				}
				r = &slot[k % window];
				if (nlh->nlmsg_type == NLMSG_ERROR)
					handle_error(r, nlh);
				else if (nlh->nlmsg_type == NLMSG_DONE)
					handle_done(r, nlh);
				else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
					parse_msg(r, nlh);
					if (noack[k % window])
						r->done = 1;
				}
			}
			/* completions in order: a do is answered in order */
			while (completed < sent && slot[completed % window].done) {
				i = completed++;
				ret = done(i, &slot[i % window], priv);
				rnl_res_free(&slot[i % window]);
				if (ret)
					goto out;
			}
			if (!block)
				continue;
			if (sent - completed < window && sent < n)
				break;
			if (completed == n)
				break;
		}
	}
out:
	if (slot)
		for (i = 0; i < window; i++)
			rnl_res_free(&slot[i]);
	free(slot);
	free(sbuf);
	free(noack);
	return ret;
}

/* ---- convenience ------------------------------------------------------ */

int rnl_vpn_new_ex(struct rnl_ctx *c, uint32_t vpn, uint32_t vflags,
		   uint64_t gen, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_NEW, .has_vpn = 1,
			     .vpn = vpn, .has_gen = !!gen, .gen = gen,
			     .has_vflags = !!vflags, .vflags = vflags };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_vpn_new(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r)
{
	return rnl_vpn_new_ex(c, vpn, 0, 0, r);
}

int rnl_vpn_del_ex(struct rnl_ctx *c, uint32_t vpn, uint64_t gen,
		   struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_DEL, .has_vpn = 1,
			     .vpn = vpn, .has_gen = !!gen, .gen = gen };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_vpn_del(struct rnl_ctx *c, uint32_t vpn, struct rnl_res *r)
{
	return rnl_vpn_del_ex(c, vpn, 0, r);
}

int rnl_vpn_set(struct rnl_ctx *c, uint32_t vpn, uint64_t gen, uint32_t flags,
		int64_t vflags, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_SET, .has_vpn = 1,
			     .vpn = vpn, .has_gen = !!gen, .gen = gen,
			     .has_flags = !!flags, .rflags = flags,
			     .has_vflags = vflags >= 0,
			     .vflags = vflags >= 0 ? (uint32_t)vflags : 0 };

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

int rnl_join_ex(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
		uint32_t flags, uint64_t gen, struct rnl_res *r)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_JOIN, .has_vpn = 1,
			     .vpn = vpn, .m = m,
			     .has_flags = !!flags, .rflags = flags,
			     .has_gen = !!gen, .gen = gen };

	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_join(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	     uint32_t flags, struct rnl_res *r)
{
	return rnl_join_ex(c, vpn, m, flags, 0, r);
}

void rnl_member_id_only(struct rnl_member *out, const struct rnl_member *m)
{
	memset(out, 0, sizeof(*out));
	out->id_len = m->id_len;
	memcpy(out->id, m->id, m->id_len);
}

int rnl_leave_ex(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
		 int has_reason, uint32_t reason, uint32_t flags,
		 uint64_t gen, struct rnl_res *r)
{
	struct rnl_member id_only;
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_LEAVE, .has_vpn = 1,
			     .vpn = vpn, .m = &id_only,
			     .has_reason = has_reason, .reason = reason,
			     .has_flags = !!flags, .rflags = flags,
			     .has_gen = !!gen, .gen = gen };

	rnl_member_id_only(&id_only, m);
	return rnl_request(c->sk, c->fam, &q, r);
}

int rnl_leave(struct rnl_ctx *c, uint32_t vpn, const struct rnl_member *m,
	      int has_reason, uint32_t reason, uint32_t flags,
	      struct rnl_res *r)
{
	return rnl_leave_ex(c, vpn, m, has_reason, reason, flags, 0, r);
}

int rnl_member_get(struct rnl_ctx *c, uint32_t vpn,
		   const struct rnl_member *m, struct rnl_res *r)
{
	struct rnl_member id_only;
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_GET, .has_vpn = 1,
			     .vpn = vpn, .m = &id_only };

	rnl_member_id_only(&id_only, m);
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
 * Member idx: id 10.a.b.c (v4, idx < 2^24) or fd00::idx (v6); a key that
 * depends on idx and salt; every third member has an endpoint, every
 * second one prefixes (v4 or v6, up to 3). The prefixes of different idx
 * never overlap (idx < 2^18): 100+4i+(idx>>16).(idx>>8).idx.0/24 for the
 * IPv4 ones, fd10:(idx>>16):idx::/48 for the IPv6 one.
 */
void rnl_member_make(struct rnl_member *m, unsigned int idx, int v6,
		     unsigned int salt)
{
	int i;

	memset(m, 0, sizeof(*m));
	if (v6) {
		m->id_len = 16;
		m->id[0] = 0xfd;
		m->id[12] = idx >> 24;
		m->id[13] = idx >> 16;
		m->id[14] = idx >> 8;
		m->id[15] = idx;
	} else {
		m->id_len = 4;
		m->id[0] = 10;
		m->id[1] = idx >> 16;
		m->id[2] = idx >> 8;
		m->id[3] = idx;
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
				p->addr[2] = idx >> 24;
				p->addr[3] = idx >> 16;
				p->addr[4] = idx >> 8;
				p->addr[5] = idx;
				p->len = 48;
			} else {
				p->alen = 4;
				p->addr[0] = 100 + 4 * i + ((idx >> 16) & 3);
				p->addr[1] = idx >> 8;
				p->addr[2] = idx;
				p->len = 24;
			}
		}
	}
}

static int parse_addr(const char *s, uint8_t *a)
{
	if (inet_pton(AF_INET, s, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, a) == 1)
		return 16;
	return 0;
}

void rnl_set_pfx(struct rnl_pfx *p, const char *text)
{
	char buf[64], *slash;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	p->alen = parse_addr(buf, p->addr);
	p->has_len = 1;
	p->len = slash ? atoi(slash) : (p->alen == 4 ? 32 : 128);
}

void rnl_set_id(struct rnl_member *m, const char *addr)
{
	memset(m->id, 0, sizeof(m->id));
	m->id_len = parse_addr(addr, m->id);
}

int rnl_id_eq(const struct rnl_member *a, const struct rnl_member *b)
{
	return a->id_len == b->id_len && !memcmp(a->id, b->id, a->id_len);
}

static int pfx_eq(const struct rnl_pfx *a, const struct rnl_pfx *b)
{
	return a->alen == b->alen && a->len == b->len &&
	       a->has_len == b->has_len && !memcmp(a->addr, b->addr, a->alen);
}

/* Request-visible content: id, key, endpoint, prefixes (as a set). */
int rnl_member_eq(const struct rnl_member *a, const struct rnl_member *b)
{
	int i, j;

	if (!rnl_id_eq(a, b))
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

static const char *addr_str(const uint8_t *a, int len, char *buf,
			    size_t blen)
{
	if (len == 4)
		return inet_ntop(AF_INET, a, buf, blen);
	if (len == 16)
		return inet_ntop(AF_INET6, a, buf, blen);
	snprintf(buf, blen, "<addr len %d>", len);
	return buf;
}

const char *rnl_id_str(const struct rnl_member *m, char *buf, size_t len)
{
	return addr_str(m->id, m->id_len, buf, len);
}

const char *rnl_pfx_str(const struct rnl_pfx *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 16];

	addr_str(p->addr, p->alen, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

long rnl_id_idx(const struct rnl_member *m)
{
	if (m->id_len == 4 && m->id[0] == 10)
		return (long)m->id[1] << 16 | m->id[2] << 8 | m->id[3];
	if (m->id_len == 16 && m->id[0] == 0xfd)
		return (long)m->id[12] << 24 | m->id[13] << 16 |
		       m->id[14] << 8 | m->id[15];
	return -1;
}
