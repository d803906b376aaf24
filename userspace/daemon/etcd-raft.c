// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: etcd's raft leader kept off the leading manager's host
 * (etcd-raft.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "etcd-raft.h"

bool rd_etcd_url_is(const char *url, const struct roster_addr *a)
{
	const char *h = strstr(url, "://"), *end;
	struct roster_addr u;
	char host[64];
	size_t n;

	if (!h || !a->family)
		return false;
	h += 3;
	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = h + strcspn(h, ":/");
	}
	if (!end)
		return false;
	n = (size_t)(end - h);
	if (!n || n >= sizeof(host))
		return false;
	memcpy(host, h, n);
	host[n] = 0;
	return !roster_addr_parse(host, &u) && u.family == a->family &&
	       !memcmp(u.addr, a->addr, roster_addr_len(a));
}

int rd_etcd_raft_pick(const struct rd_etcd_member *ms, unsigned int n, const char *leader)
{
	int here = -1, to = -1;

	for (unsigned int i = 0; i < n; i++) {
		if (ms[i].here && !strcmp(ms[i].id, leader))
			here = (int)i;
		/* The first by name: every manager that looks picks the same. */
		else if (!ms[i].here && !ms[i].down && ms[i].url[0] &&
			 (to < 0 || strcmp(ms[i].name, ms[to].name) < 0))
			to = (int)i;
	}
	return here < 0 ? -1 : to;
}

static int members(struct rd_etcd *e, const struct roster_addr *host, struct rd_etcd_member *ms,
		   unsigned int *n, char *err, size_t errlen)
{
	json_t *r, *m, *u;
	size_t i, k;
	int ret;

	*n = 0;
	ret = rd_etcd_call(e, "cluster/member/list", json_object(), &r, err, errlen);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(r, "members"), i, m) {
		struct rd_etcd_member *x = &ms[*n];
		const char *id = json_string_value(json_object_get(m, "ID"));
		const char *name = json_string_value(json_object_get(m, "name"));

		if (*n == RD_ETCD_RAFT_MAX_MEMBERS)
			break;
		if (!id || strlen(id) >= sizeof(x->id))
			continue;
		memset(x, 0, sizeof(*x));
		snprintf(x->id, sizeof(x->id), "%s", id);
		snprintf(x->name, sizeof(x->name), "%s", name ? name : id);
		json_array_foreach(json_object_get(m, "clientURLs"), k, u) {
			const char *s = json_string_value(u);

			if (!s)
				continue;
			if (!x->url[0])
				snprintf(x->url, sizeof(x->url), "%s", s);
			x->here |= rd_etcd_url_is(s, host);
		}
		(*n)++;
	}
	json_decref(r);
	return 0;
}

int rd_etcd_raft_away(struct rd_etcd *e, const struct roster_addr *host, char *to, size_t tolen,
		      char *err, size_t errlen)
{
	struct rd_etcd_member ms[RD_ETCD_RAFT_MAX_MEMBERS];
	const char *leader = NULL;
	char lid[24];
	unsigned int n;
	json_t *r = NULL;
	int ret, pick, here = -1;

	ret = members(e, host, ms, &n, err, errlen);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++)
		if (ms[i].here && ms[i].url[0])
			here = (int)i;
	if (here < 0)
		return 0;
	/* This host's member says who leads; only the leader moves it. */
	ret = rd_etcd_call_at(e, ms[here].url, "maintenance/status", json_object(), &r, err,
			      errlen);
	if (ret)
		return ret;
	leader = json_string_value(json_object_get(r, "leader"));
	snprintf(lid, sizeof(lid), "%s", leader ? leader : "");
	json_decref(r);
	/* A target that is down (the host that just died, still a member)
	 * would stall etcd's writes for the transfer: only one that answers,
	 * with this leader. */
	rd_etcd_set_timeout(e, 500);
	while ((pick = rd_etcd_raft_pick(ms, n, lid)) >= 0) {
		const char *its;

		r = NULL;
		ret = rd_etcd_call_at(e, ms[pick].url, "maintenance/status", json_object(), &r, err,
				      errlen);
		its = ret ? NULL : json_string_value(json_object_get(r, "leader"));
		if (its && !strcmp(its, lid)) {
			json_decref(r);
			break;
		}
		json_decref(r);
		ms[pick].down = true;
	}
	rd_etcd_set_timeout(e, 0);
	if (pick < 0)
		return 0;
	ret = rd_etcd_call_at(e, ms[here].url, "maintenance/transfer-leadership",
			      json_pack("{s:s}", "targetID", ms[pick].id), &r, err, errlen);
	if (ret)
		return ret;
	json_decref(r);
	snprintf(to, tolen, "%s", ms[pick].name);
	return 1;
}
