// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: links, addresses and routes over rtnetlink (libmnl), WireGuard
 * devices and peers over WireGuard's embeddable library (generic netlink).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "util.h"
#include "netif.h"
#include "wireguard.h"

int rd_if_index(const char *name)
{
	unsigned int idx = if_nametoindex(name);

	return idx ? (int)idx : -ENODEV;
}

struct rtnl_req {
	mnl_cb_t cb;
	void *data;
};

/* Send one request and read until ACK/DONE; returns 0 or -errno. */
static int rtnl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int portid, seq;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

int rd_link_set_up(const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	int idx = rd_if_index(name);

	if (idx < 0)
		return idx;
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return rtnl_talk(nlh, NULL, NULL);
}

int rd_addr_add(const char *ifname, const struct roster_addr *a, uint8_t plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int idx = rd_if_index(ifname), ret;

	if (idx < 0)
		return idx;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = (unsigned int)idx;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, roster_addr_len(a), a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, roster_addr_len(a), a->addr);
	if (a->family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	ret = rtnl_talk(nlh, NULL, NULL);
	return ret == -EEXIST ? 0 : ret;
}

static int route_msg(const char *ifname, const struct roster_prefix *p, uint16_t type,
		     uint16_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int idx = rd_if_index(ifname);

	if (idx < 0)
		return idx;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->addr.family;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* A delete with a protocol matches only routes of that protocol
	 * (IPv4 and IPv6 alike): never someone else's. */
	rtm->rtm_protocol = RD_RTPROT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, roster_addr_len(&p->addr), p->addr.addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	return rtnl_talk(nlh, NULL, NULL);
}

int rd_route_add(const char *ifname, const struct roster_prefix *p)
{
	/* EXCL, not REPLACE: a route to the same destination in the main
	 * table (an administrator's, a routing daemon's, a DHCP default
	 * route) is refused with -EEXIST instead of being taken over. */
	return route_msg(ifname, p, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
}

int rd_route_del(const char *ifname, const struct roster_prefix *p)
{
	int ret = route_msg(ifname, p, RTM_DELROUTE, 0);

	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

struct route_dump {
	int ifindex;		/* rosterd's routes through it; -1: the others */
	struct roster_prefix *out;
	unsigned int n, cap;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct roster_prefix p = { 0 };
	size_t alen;

	if ((rtm->rtm_protocol == RD_RTPROT) != (d->ifindex >= 0) ||
	    rtm->rtm_table != RT_TABLE_MAIN ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
	if (d->ifindex >= 0 && (!tb[RTA_OIF] || !tb[RTA_DST] ||
				(int)mnl_attr_get_u32(tb[RTA_OIF]) != d->ifindex))
		return MNL_CB_OK;
	p.addr.family = rtm->rtm_family;
	alen = roster_addr_len(&p.addr);
	/* A default route has no RTA_DST. */
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
		return MNL_CB_OK;
	if (tb[RTA_DST])
		memcpy(p.addr.addr, mnl_attr_get_payload(tb[RTA_DST]), alen);
	else if (rtm->rtm_dst_len)
		return MNL_CB_OK;
	p.len = rtm->rtm_dst_len;
	if (d->n == d->cap) {
		unsigned int cap = d->cap ? d->cap * 2 : 16;
		struct roster_prefix *np = realloc(d->out, cap * sizeof(*np));

		if (!np)
			return MNL_CB_ERROR;
		d->out = np;
		d->cap = cap;
	}
	d->out[d->n++] = p;
	return MNL_CB_OK;
}

static int route_dump(struct route_dump *d, struct roster_prefix **out, unsigned int *n);

int rd_route_list(const char *ifname, struct roster_prefix **out, unsigned int *n)
{
	struct route_dump d = { 0 };

	*out = NULL;
	*n = 0;
	d.ifindex = rd_if_index(ifname);
	if (d.ifindex < 0)
		return d.ifindex;
	return route_dump(&d, out, n);
}

int rd_route_list_others(struct roster_prefix **out, unsigned int *n)
{
	struct route_dump d = { .ifindex = -1 };

	*out = NULL;
	*n = 0;
	return route_dump(&d, out, n);
}

static int route_dump(struct route_dump *dp, struct roster_prefix **out, unsigned int *n)
{
	struct route_dump d = *dp;
	int families[] = { AF_INET, AF_INET6 };

	for (int i = 0; i < 2; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rtm;
		int ret;

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (unsigned char)families[i];
		ret = rtnl_talk(nlh, route_cb, &d);
		if (ret && ret != -EAFNOSUPPORT) {
			free(d.out);
			return ret;
		}
	}
	*out = d.out;
	*n = d.n;
	return 0;
}

/* ---- WireGuard ---------------------------------------------------- */

void rd_wg_genkey(uint8_t priv[32])
{
	wg_generate_private_key(priv);
}

void rd_wg_pubkey(uint8_t pub[32], const uint8_t priv[32])
{
	wg_generate_public_key(pub, priv);
}

void rd_key_b64(const uint8_t key[32], char out[45])
{
	wg_key_to_base64(out, key);
}

int rd_key_from_b64(const char *s, uint8_t key[32])
{
	if (strlen(s) != 44)
		return -EINVAL;
	return wg_key_from_base64(key, s) ? -EINVAL : 0;
}

int rd_wg_setup(const char *ifname, const uint8_t *privkey, uint16_t port)
{
	wg_device dev;
	int ret;

	ret = wg_add_device(ifname);
	if (ret && ret != -EEXIST)
		return ret;
	memset(&dev, 0, sizeof(dev));
	strncpy(dev.name, ifname, sizeof(dev.name) - 1);
	if (privkey) {
		memcpy(dev.private_key, privkey, 32);
		dev.flags |= WGDEVICE_HAS_PRIVATE_KEY;
	}
	if (port) {
		dev.listen_port = port;
		dev.flags |= WGDEVICE_HAS_LISTEN_PORT;
	}
	if (dev.flags) {
		ret = wg_set_device(&dev);
		if (ret)
			return ret;
	}
	return rd_link_set_up(ifname);
}

int rd_wg_del(const char *ifname)
{
	return wg_del_device(ifname);
}

int rd_wg_peer_keys(const char *ifname, uint8_t (**keys)[32], unsigned int *n)
{
	wg_device *dev;
	wg_peer *peer;
	unsigned int cnt = 0;
	int ret;

	*keys = NULL;
	*n = 0;
	ret = wg_get_device(&dev, ifname);
	if (ret)
		return ret;
	wg_for_each_peer(dev, peer)
		cnt++;
	if (cnt) {
		*keys = calloc(cnt, 32);
		if (!*keys) {
			wg_free_device(dev);
			return -ENOMEM;
		}
		wg_for_each_peer(dev, peer)
			memcpy((*keys)[(*n)++], peer->public_key, 32);
	}
	wg_free_device(dev);
	return 0;
}

int rd_wg_peer_endpoints(const char *ifname, struct rd_wg_endpoint **out, unsigned int *n)
{
	wg_device *dev;
	wg_peer *peer;
	unsigned int cnt = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = wg_get_device(&dev, ifname);
	if (ret)
		return ret;
	wg_for_each_peer(dev, peer)
		cnt++;
	if (cnt) {
		*out = calloc(cnt, sizeof(**out));
		if (!*out) {
			wg_free_device(dev);
			return -ENOMEM;
		}
		wg_for_each_peer(dev, peer) {
			struct rd_wg_endpoint *e = &(*out)[(*n)++];
			uint16_t port;

			memcpy(e->key, peer->public_key, 32);
			e->has_endpoint = !rd_from_sockaddr(&peer->endpoint.addr, &e->endpoint,
							    &port);
			if (peer->last_handshake_time.tv_sec > 0)
				e->last_handshake = (uint64_t)peer->last_handshake_time.tv_sec;
		}
	}
	wg_free_device(dev);
	return 0;
}

int rd_wg_apply(const char *ifname, const struct rd_wg_peer *peers, unsigned int n, bool replace)
{
	uint8_t (*have)[32] = NULL;
	unsigned int nhave = 0, nextra = 0, total;
	wg_device dev;
	wg_peer *wp;
	wg_allowedip *ips;
	unsigned int nips = 0, ip = 0;
	int ret;

	if (replace) {
		ret = rd_wg_peer_keys(ifname, &have, &nhave);
		if (ret)
			return ret;
		for (unsigned int i = 0; i < nhave; i++) {
			bool keep = false;

			for (unsigned int j = 0; j < n && !keep; j++)
				keep = !peers[j].remove && !memcmp(peers[j].key, have[i], 32);
			if (!keep)
				memcpy(have[nextra++], have[i], 32);
		}
	}
	total = n + nextra;
	if (!total) {
		free(have);
		return 0;
	}
	for (unsigned int i = 0; i < n; i++)
		nips += peers[i].n_allowed;
	wp = calloc(total, sizeof(*wp));
	ips = calloc(nips ? nips : 1, sizeof(*ips));
	if (!wp || !ips) {
		free(wp);
		free(ips);
		free(have);
		return -ENOMEM;
	}
	memset(&dev, 0, sizeof(dev));
	strncpy(dev.name, ifname, sizeof(dev.name) - 1);
	for (unsigned int i = 0; i < total; i++) {
		wg_peer *w = &wp[i];

		if (i > 0)
			wp[i - 1].next_peer = w;
		w->flags = WGPEER_HAS_PUBLIC_KEY;
		if (i >= n) {
			memcpy(w->public_key, have[i - n], 32);
			w->flags |= WGPEER_REMOVE_ME;
			continue;
		}
		const struct rd_wg_peer *p = &peers[i];

		memcpy(w->public_key, p->key, 32);
		if (p->remove) {
			w->flags |= WGPEER_REMOVE_ME;
			continue;
		}
		w->flags |= WGPEER_REPLACE_ALLOWEDIPS;
		if (p->keepalive) {
			w->flags |= WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
			w->persistent_keepalive_interval = p->keepalive;
		}
		if (p->has_endpoint) {
			struct sockaddr_storage ss;
			socklen_t sl = rd_sockaddr(&p->endpoint, p->port, &ss);

			memcpy(&w->endpoint, &ss, sl);
		}
		for (unsigned int k = 0; k < p->n_allowed; k++) {
			wg_allowedip *a = &ips[ip++];

			a->family = p->allowed[k].addr.family;
			if (a->family == AF_INET)
				memcpy(&a->ip4, p->allowed[k].addr.addr, 4);
			else
				memcpy(&a->ip6, p->allowed[k].addr.addr, 16);
			a->cidr = p->allowed[k].len;
			if (!w->first_allowedip)
				w->first_allowedip = a;
			else
				w->last_allowedip->next_allowedip = a;
			w->last_allowedip = a;
		}
	}
	dev.first_peer = &wp[0];
	dev.last_peer = &wp[total - 1];
	ret = wg_set_device(&dev);
	free(wp);
	free(ips);
	free(have);
	return ret;
}
