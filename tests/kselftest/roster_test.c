// SPDX-License-Identifier: GPL-2.0
/*
 * uAPI selftest of the roster generic netlink family (kmod/roster.ko),
 * checked against build/CONTRACT.md with an independent libnl-3 client.
 *
 * Run as root after loading the module. Every test runs in its own network
 * namespace (the harness forks per test; FIXTURE_SETUP unshares), so the
 * table starts empty and tests cannot see each other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <linux/roster.h>

#include "roster_nl.h"
#include "kselftest_harness.h"

#define MD	struct __test_metadata *_metadata

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- assertion helpers (take _metadata, so ASSERT_*() work) ----------- */

static void log_res(MD, const char *what, const struct rnl_res *r)
{
	TH_LOG("%s: err=%d (%s) extack='%s' miss_type=%d nlerr=%d (%s) seq_bad=%d stray=%d bad=%d msgs=%zu",
	       what, r->err, strerror(-r->err), r->ext, r->miss_type,
	       r->nlerr, r->nlerr ? nl_geterror(r->nlerr) : "-",
	       r->seq_bad, r->stray, r->bad, r->nmsgs);
}

static void expect_ok(MD, const struct rnl_res *r, const char *what)
{
	if (r->err || r->nlerr || r->seq_bad || r->stray || r->bad)
		log_res(_metadata, what, r);
	ASSERT_EQ(0, r->err);
	ASSERT_EQ(0, r->nlerr);
	ASSERT_EQ(0, r->seq_bad);
	ASSERT_EQ(0, r->stray);
	ASSERT_EQ(0, r->bad);
}

/* A rejection: the errno, a non-empty extack message, nothing else. */
static void expect_err(MD, const struct rnl_res *r, int err, const char *what)
{
	if (r->err != -err || !r->ext_present || !r->ext[0] || r->seq_bad ||
	    r->stray || r->nmsgs)
		log_res(_metadata, what, r);
	else
		TH_LOG("%s: %s, extack '%s'", what, strerror(err), r->ext);
	ASSERT_EQ(-err, r->err);
	ASSERT_TRUE(r->ext_present);
	ASSERT_NE(0, r->ext[0]);
	ASSERT_EQ(0, r->seq_bad);
	ASSERT_EQ(0, r->stray);
	ASSERT_EQ(0, r->nmsgs);	/* no reply message on failure */
}

/* A successful do with a single reply message, then the ACK. */
static void expect_do_reply(MD, const struct rnl_res *r, const char *what)
{
	expect_ok(_metadata, r, what);
	ASSERT_EQ(1, r->nmsgs);
	ASSERT_TRUE(r->acked);
	ASSERT_FALSE(r->msgs[0].flags & NLM_F_MULTI);
}

static void check_vpn_msg(MD, const struct rnl_msg *m, uint32_t vpn,
			  uint64_t gen, uint32_t count)
{
	ASSERT_TRUE(m->has_vpn);
	ASSERT_EQ(vpn, m->vpn);
	ASSERT_TRUE(m->has_gen);
	ASSERT_EQ(gen, m->gen);
	ASSERT_TRUE(m->has_count);
	ASSERT_EQ(count, m->count);
	ASSERT_TRUE(m->has_ctime);
}

/* Full member record as it comes back from the kernel. */
static void check_member(MD, const struct rnl_member *got,
			 const struct rnl_member *exp)
{
	char b1[64], b2[64];

	if (!rnl_member_eq(got, exp))
		TH_LOG("member %s differs from expected %s",
		       rnl_dev_str(got, b1, sizeof(b1)),
		       rnl_dev_str(exp, b2, sizeof(b2)));
	ASSERT_TRUE(rnl_member_eq(got, exp));
	ASSERT_TRUE(got->has_jt);
	ASSERT_TRUE(got->has_jg);
	ASSERT_FALSE(got->bad);
}

/*
 * A JOIN/LEAVE reply: NLM_F_MULTI messages with the request's cmd, each
 * with vpn-id and generation, the first with member-count, then
 * NLMSG_DONE, no ACK; exactly the member set exp[0..nexp) (any order).
 */
static void check_set_reply(MD, const struct rnl_res *r, uint8_t cmd,
			    uint32_t vpn, uint64_t gen,
			    const struct rnl_member *exp, size_t nexp)
{
	size_t i, j, found;

	expect_ok(_metadata, r, "set reply");
	ASSERT_TRUE(r->done_seen);
	ASSERT_FALSE(r->acked);
	ASSERT_GE(r->nmsgs, 1);
	for (i = 0; i < r->nmsgs; i++) {
		const struct rnl_msg *m = &r->msgs[i];

		ASSERT_TRUE(m->flags & NLM_F_MULTI);
		ASSERT_EQ(cmd, m->cmd);
		ASSERT_TRUE(m->has_vpn);
		ASSERT_EQ(vpn, m->vpn);
		ASSERT_TRUE(m->has_gen);
		ASSERT_EQ(gen, m->gen);
	}
	ASSERT_TRUE(r->msgs[0].has_count);
	ASSERT_EQ(nexp, r->msgs[0].count);
	ASSERT_EQ(nexp, r->total_mems);
	if (r->nostore_mems || !exp)
		return;
	ASSERT_EQ(nexp, r->nmems);
	for (i = 0; i < nexp; i++) {
		found = 0;
		for (j = 0; j < r->nmems; j++) {
			if (!rnl_dev_eq(&exp[i], &r->mems[j]))
				continue;
			found++;
			check_member(_metadata, &r->mems[j], &exp[i]);
		}
		ASSERT_EQ(1, found);
	}
}

/* ---- snapshots: the whole table, to prove a rejection changed nothing - */

struct snap {
	struct rnl_res vpns;
	struct rnl_res mems;
};

static void snap_take(MD, struct rnl_ctx *c, struct snap *s)
{
	rnl_res_init(&s->vpns);
	rnl_res_init(&s->mems);
	rnl_vpn_dump(c, &s->vpns);
	expect_ok(_metadata, &s->vpns, "vpn dump");
	ASSERT_TRUE(s->vpns.done_seen);
	rnl_member_dump(c, 0, &s->mems);
	expect_ok(_metadata, &s->mems, "member dump");
	ASSERT_TRUE(s->mems.done_seen);
}

static void snap_same(MD, const struct snap *a, const struct snap *b)
{
	size_t i;

	ASSERT_EQ(a->vpns.nmsgs, b->vpns.nmsgs);
	for (i = 0; i < a->vpns.nmsgs; i++) {
		ASSERT_EQ(a->vpns.msgs[i].vpn, b->vpns.msgs[i].vpn);
		ASSERT_EQ(a->vpns.msgs[i].gen, b->vpns.msgs[i].gen);
		ASSERT_EQ(a->vpns.msgs[i].count, b->vpns.msgs[i].count);
		ASSERT_EQ(a->vpns.msgs[i].ctime, b->vpns.msgs[i].ctime);
	}
	ASSERT_EQ(a->mems.nmsgs, b->mems.nmsgs);
	ASSERT_EQ(a->mems.nmems, b->mems.nmems);
	for (i = 0; i < a->mems.nmsgs; i++) {
		ASSERT_EQ(a->mems.msgs[i].vpn, b->mems.msgs[i].vpn);
		ASSERT_EQ(a->mems.msgs[i].gen, b->mems.msgs[i].gen);
	}
	for (i = 0; i < a->mems.nmems; i++) {
		ASSERT_TRUE(rnl_member_eq(&a->mems.mems[i], &b->mems.mems[i]));
		ASSERT_EQ(a->mems.mems[i].jg, b->mems.mems[i].jg);
		ASSERT_EQ(a->mems.mems[i].jt, b->mems.mems[i].jt);
	}
}

static void snap_free(struct snap *s)
{
	rnl_res_free(&s->vpns);
	rnl_res_free(&s->mems);
}

/* ---- notifications ---------------------------------------------------- */

struct ntf {
	uint8_t cmd;
	uint32_t vpn;
	uint64_t gen;
};

static const char *cmd_name(uint8_t cmd)
{
	static const char * const names[] = {
		[ROSTER_CMD_VPN_NEW] = "vpn-new",
		[ROSTER_CMD_VPN_DEL] = "vpn-del",
		[ROSTER_CMD_VPN_GET] = "vpn-get",
		[ROSTER_CMD_MEMBER_JOIN] = "member-join",
		[ROSTER_CMD_MEMBER_LEAVE] = "member-leave",
		[ROSTER_CMD_MEMBER_GET] = "member-get",
		[ROSTER_CMD_VPN_NEW_NTF] = "vpn-new-ntf",
		[ROSTER_CMD_VPN_DEL_NTF] = "vpn-del-ntf",
		[ROSTER_CMD_MEMBER_JOINED_NTF] = "member-joined-ntf",
		[ROSTER_CMD_MEMBER_UPDATED_NTF] = "member-updated-ntf",
		[ROSTER_CMD_MEMBER_LEFT_NTF] = "member-left-ntf",
	};

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "?";
}

/*
 * Drain the listener into r (caller inits/frees) and compare with the
 * expected (cmd, vpn, generation) list, exactly.
 */
static void expect_ntfs(MD, struct rnl_ctx *c, struct rnl_res *r,
			const struct ntf *exp, size_t n)
{
	size_t i;

	ASSERT_EQ(0, rnl_drain(c->mon, r));
	if (r->nmsgs != n) {
		for (i = 0; i < r->nmsgs; i++)
			TH_LOG("got ntf %zu: %s vpn %u gen %llu", i,
			       cmd_name(r->msgs[i].cmd), r->msgs[i].vpn,
			       (unsigned long long)r->msgs[i].gen);
		for (i = 0; i < n; i++)
			TH_LOG("want ntf %zu: %s vpn %u gen %llu", i,
			       cmd_name(exp[i].cmd), exp[i].vpn,
			       (unsigned long long)exp[i].gen);
	}
	ASSERT_EQ(n, r->nmsgs);
	ASSERT_EQ(0, r->bad);
	for (i = 0; i < n; i++) {
		const struct rnl_msg *m = &r->msgs[i];

		if (m->cmd != exp[i].cmd || m->vpn != exp[i].vpn ||
		    m->gen != exp[i].gen)
			TH_LOG("ntf %zu: got %s vpn %u gen %llu, want %s vpn %u gen %llu",
			       i, cmd_name(m->cmd), m->vpn,
			       (unsigned long long)m->gen,
			       cmd_name(exp[i].cmd), exp[i].vpn,
			       (unsigned long long)exp[i].gen);
		ASSERT_EQ(exp[i].cmd, m->cmd);
		ASSERT_EQ(c->fam, m->type);
		ASSERT_TRUE(m->has_vpn);
		ASSERT_EQ(exp[i].vpn, m->vpn);
		ASSERT_TRUE(m->has_gen);
		ASSERT_EQ(exp[i].gen, m->gen);
		ASSERT_EQ(0, m->seq);
	}
}

static void expect_no_ntf(MD, struct rnl_ctx *c)
{
	struct rnl_res r;

	rnl_res_init(&r);
	expect_ntfs(_metadata, c, &r, NULL, 0);
	rnl_res_free(&r);
}

static void drop_ntfs(MD, struct rnl_ctx *c)
{
	struct rnl_res r;

	rnl_res_init(&r);
	r.nostore_mems = 1;
	r.nostore_msgs = 1;
	ASSERT_EQ(0, rnl_drain(c->mon, &r));
	rnl_res_free(&r);
}

/* ---- small operations that must succeed ------------------------------- */

static void ok_vpn_new(MD, struct rnl_ctx *c, uint32_t vpn)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_vpn_new(c, vpn, &r);
	expect_do_reply(_metadata, &r, "vpn-new");
	rnl_res_free(&r);
}

/* Join and check only the reply's framing and size (not its content). */
static void ok_join(MD, struct rnl_ctx *c, uint32_t vpn,
		    const struct rnl_member *m, uint64_t gen, size_t others)
{
	struct rnl_res r;

	rnl_res_init(&r);
	r.nostore_mems = 1;
	rnl_join(c, vpn, m, 0, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, vpn, gen, NULL,
			others);
	rnl_res_free(&r);
}

static void get_vpn(MD, struct rnl_ctx *c, uint32_t vpn, struct rnl_msg *out)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_vpn_get(c, vpn, &r);
	expect_do_reply(_metadata, &r, "vpn-get");
	*out = r.msgs[0];
	rnl_res_free(&r);
}

static long read_param(const char *name)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/roster/parameters/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

/* ---- fixture: fresh netns, request socket and a "notify" listener ----- */

FIXTURE(roster) {
	struct rnl_ctx c;
};

FIXTURE_SETUP(roster)
{
	int ret;

	ASSERT_EQ(0, unshare(CLONE_NEWNET)) {
		TH_LOG("unshare(CLONE_NEWNET): %s (run as root)",
		       strerror(errno));
	}
	ret = rnl_ctx_open(&self->c, 1);
	ASSERT_EQ(0, ret) {
		TH_LOG("roster family/socket setup failed: %d (%s); is roster.ko loaded?",
		       ret, ret < 0 && ret > -1000 ? strerror(-ret) : "?");
	}
}

FIXTURE_TEARDOWN(roster)
{
	rnl_ctx_close(&self->c);
}

/* ---- family ----------------------------------------------------------- */

TEST_F(roster, family_resolves)
{
	ASSERT_GT(self->c.fam, GENL_ID_CTRL);
	ASSERT_GT(self->c.grp, 0);
	ASSERT_EQ(ROSTER_FAMILY_VERSION, self->c.version);
	ASSERT_EQ(1, self->c.version);
	/* the table of a fresh netns is empty */
	{
		struct snap s;

		snap_take(_metadata, &self->c, &s);
		ASSERT_EQ(0, s.vpns.nmsgs);
		ASSERT_EQ(0, s.mems.nmsgs);
		snap_free(&s);
	}
}

/* ---- VPN_NEW / VPN_GET / VPN_DEL -------------------------------------- */

TEST_F(roster, vpn_new_reply_and_ntf)
{
	uint64_t t0 = time(NULL), t1;
	struct rnl_res r, n;
	struct ntf exp[] = { { ROSTER_CMD_VPN_NEW_NTF, 5, 1 } };

	rnl_res_init(&r);
	rnl_vpn_new(&self->c, 5, &r);
	t1 = time(NULL);
	expect_do_reply(_metadata, &r, "vpn-new");
	check_vpn_msg(_metadata, &r.msgs[0], 5, 1, 0);
	ASSERT_GE(r.msgs[0].ctime + 2, t0);
	ASSERT_LE(r.msgs[0].ctime, t1 + 2);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, 1);
	check_vpn_msg(_metadata, &n.msgs[0], 5, 1, 0);
	ASSERT_EQ(r.msgs[0].ctime, n.msgs[0].ctime);
	ASSERT_EQ(0, n.total_mems);
	rnl_res_free(&n);
	rnl_res_free(&r);
}

TEST_F(roster, vpn_new_twice_eexist)
{
	struct snap a, b;
	struct rnl_res r;

	ok_vpn_new(_metadata, &self->c, 5);
	drop_ntfs(_metadata, &self->c);
	snap_take(_metadata, &self->c, &a);
	ASSERT_EQ(1, a.vpns.nmsgs);

	rnl_res_init(&r);
	rnl_vpn_new(&self->c, 5, &r);
	expect_err(_metadata, &r, EEXIST, "vpn-new twice");
	rnl_res_free(&r);

	snap_take(_metadata, &self->c, &b);
	snap_same(_metadata, &a, &b);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&a);
	snap_free(&b);
}

TEST_F(roster, vpn_get_do_and_dump)
{
	static const uint32_t ids[] = { 30, 1, 7, 4000000000u, 2 };
	static const uint32_t sorted[] = { 1, 2, 7, 30, 4000000000u };
	struct rnl_member m;
	struct rnl_res r;
	struct rnl_msg v;
	size_t i;

	for (i = 0; i < 5; i++)
		ok_vpn_new(_metadata, &self->c, ids[i]);
	rnl_member_make(&m, 1, 0, 0);
	ok_join(_metadata, &self->c, 7, &m, 2, 0);

	rnl_res_init(&r);
	rnl_vpn_dump(&self->c, &r);
	expect_ok(_metadata, &r, "vpn dump");
	ASSERT_TRUE(r.done_seen);
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(5, r.nmsgs);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(ROSTER_CMD_VPN_GET, r.msgs[i].cmd);
		check_vpn_msg(_metadata, &r.msgs[i], sorted[i],
			      sorted[i] == 7 ? 2 : 1, sorted[i] == 7);
	}
	rnl_res_free(&r);

	get_vpn(_metadata, &self->c, 7, &v);
	check_vpn_msg(_metadata, &v, 7, 2, 1);
	get_vpn(_metadata, &self->c, 4000000000u, &v);
	check_vpn_msg(_metadata, &v, 4000000000u, 1, 0);

	rnl_res_init(&r);
	rnl_vpn_get(&self->c, 8, &r);
	expect_err(_metadata, &r, ENOENT, "vpn-get unknown");
	rnl_res_free(&r);
}

TEST_F(roster, vpn_del_and_ntf)
{
	struct ntf exp[] = { { ROSTER_CMD_VPN_DEL_NTF, 3, 4 } };
	struct rnl_member m;
	struct rnl_res r, n;
	struct snap s;

	ok_vpn_new(_metadata, &self->c, 2);
	ok_vpn_new(_metadata, &self->c, 3);
	rnl_member_make(&m, 1, 0, 0);
	ok_join(_metadata, &self->c, 3, &m, 2, 0);
	rnl_member_make(&m, 2, 1, 0);
	ok_join(_metadata, &self->c, 3, &m, 3, 1);
	drop_ntfs(_metadata, &self->c);

	rnl_res_init(&r);
	rnl_vpn_del(&self->c, 3, &r);
	expect_ok(_metadata, &r, "vpn-del");
	ASSERT_TRUE(r.acked);
	ASSERT_EQ(0, r.nmsgs);
	rnl_res_free(&r);

	/* one notification only, even with members present */
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, 1);
	ASSERT_EQ(0, n.total_mems);
	rnl_res_free(&n);

	snap_take(_metadata, &self->c, &s);
	ASSERT_EQ(1, s.vpns.nmsgs);
	ASSERT_EQ(2, s.vpns.msgs[0].vpn);
	ASSERT_EQ(0, s.mems.nmsgs);
	snap_free(&s);

	rnl_res_init(&r);
	rnl_member_dump(&self->c, 3, &r);
	expect_err(_metadata, &r, ENOENT, "member dump of deleted vpn");
	rnl_res_free(&r);

	rnl_res_init(&r);
	rnl_vpn_del(&self->c, 3, &r);
	expect_err(_metadata, &r, ENOENT, "vpn-del again");
	rnl_res_free(&r);
	expect_no_ntf(_metadata, &self->c);
}

TEST_F(roster, vpn_del_unknown_enoent)
{
	struct snap a, b;
	struct rnl_res r;

	ok_vpn_new(_metadata, &self->c, 1);
	drop_ntfs(_metadata, &self->c);
	snap_take(_metadata, &self->c, &a);
	rnl_res_init(&r);
	rnl_vpn_del(&self->c, 2, &r);
	expect_err(_metadata, &r, ENOENT, "vpn-del unknown");
	rnl_res_free(&r);
	snap_take(_metadata, &self->c, &b);
	snap_same(_metadata, &a, &b);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&a);
	snap_free(&b);
}

/* ---- MEMBER_JOIN ------------------------------------------------------ */

TEST_F(roster, join_creates_vpn)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 1 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 2 },
	};
	uint64_t t0 = time(NULL);
	struct rnl_member m;
	struct rnl_res r, n;
	struct rnl_msg v;

	rnl_member_make(&m, 4, 0, 0);	/* endpoint-less, with prefixes */
	rnl_res_init(&r);
	rnl_join(&self->c, 7, &m, 0, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, 7, 2, NULL, 0);
	ASSERT_EQ(1, r.nmsgs);
	rnl_res_free(&r);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, 2);
	ASSERT_EQ(0, n.msgs[0].nmem);
	ASSERT_EQ(1, n.msgs[1].nmem);
	ASSERT_EQ(1, n.nmems);
	check_member(_metadata, &n.mems[0], &m);
	ASSERT_EQ(2, n.mems[0].jg);
	ASSERT_GE(n.mems[0].jt + 2, t0);
	rnl_res_free(&n);

	get_vpn(_metadata, &self->c, 7, &v);
	check_vpn_msg(_metadata, &v, 7, 2, 1);
}

/*
 * Join N members one by one; the k-th JOIN reply is exactly the k-1
 * members before it, the notification is exactly the joined member, and
 * generations are consecutive.
 */
TEST_F(roster, join_reply_is_previous_set)
{
	enum { N = 12 };
	struct rnl_member model[N];
	struct rnl_res r, n;
	struct ntf exp;
	int k;

	ok_vpn_new(_metadata, &self->c, 9);
	drop_ntfs(_metadata, &self->c);
	for (k = 0; k < N; k++) {
		/* alternate v4 / v6 devs; endpoints and prefixes vary */
		rnl_member_make(&model[k], 100 + k, k & 1, 0);
		rnl_res_init(&r);
		rnl_join(&self->c, 9, &model[k], 0, &r);
		check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, 9,
				2 + k, model, k);
		/* no join-time / join-generation of the joiner in its reply */
		rnl_res_free(&r);

		exp.cmd = ROSTER_CMD_MEMBER_JOINED_NTF;
		exp.vpn = 9;
		exp.gen = 2 + k;
		rnl_res_init(&n);
		expect_ntfs(_metadata, &self->c, &n, &exp, 1);
		ASSERT_EQ(1, n.nmems);
		check_member(_metadata, &n.mems[0], &model[k]);
		ASSERT_EQ(2 + k, n.mems[0].jg);
		rnl_res_free(&n);
	}
}

TEST_F(roster, rejoin_updates_member)
{
	struct ntf exp[] = { { ROSTER_CMD_MEMBER_UPDATED_NTF, 1, 5 } };
	struct rnl_member a, b, c2, a2;
	struct rnl_res r, n;
	struct rnl_msg v;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 1, 0);
	rnl_member_make(&c2, 3, 0, 0);
	ok_join(_metadata, &self->c, 1, &a, 2, 0);
	ok_join(_metadata, &self->c, 1, &b, 3, 1);
	ok_join(_metadata, &self->c, 1, &c2, 4, 2);
	drop_ntfs(_metadata, &self->c);

	/* same dev, new key, endpoint and prefixes */
	rnl_member_make(&a2, 1, 0, 7);
	a2.ep_len = 4;
	memcpy(a2.ep, "\xc6\x33\x64\x07", 4);
	a2.has_port = 1;
	a2.port = 4242;
	a2.npfx = 1;
	a2.pfx[0].alen = 4;
	memcpy(a2.pfx[0].addr, "\x0a\x63\x00\x00", 4);
	a2.pfx[0].len = 16;
	a2.pfx[0].has_len = 1;
	ASSERT_FALSE(rnl_member_eq(&a, &a2));

	rnl_res_init(&r);
	rnl_join(&self->c, 1, &a2, 0, &r);
	{
		struct rnl_member others[2] = { b, c2 };

		check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, 1, 5,
				others, 2);
	}
	rnl_res_free(&r);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, 1);
	ASSERT_EQ(1, n.nmems);
	check_member(_metadata, &n.mems[0], &a2);
	ASSERT_EQ(5, n.mems[0].jg);
	rnl_res_free(&n);

	/* member_get shows the new record */
	rnl_res_init(&r);
	rnl_member_get(&self->c, 1, &a, &r);
	expect_do_reply(_metadata, &r, "member-get");
	ASSERT_EQ(1, r.nmems);
	check_member(_metadata, &r.mems[0], &a2);
	ASSERT_EQ(5, r.msgs[0].gen);
	rnl_res_free(&r);

	/* still 3 members, and the updated one keeps its dump position */
	get_vpn(_metadata, &self->c, 1, &v);
	check_vpn_msg(_metadata, &v, 1, 5, 3);
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 1, &r);
	expect_ok(_metadata, &r, "member dump");
	ASSERT_EQ(3, r.nmems);
	check_member(_metadata, &r.mems[0], &a2);
	check_member(_metadata, &r.mems[1], &b);
	check_member(_metadata, &r.mems[2], &c2);
	rnl_res_free(&r);
}

TEST_F(roster, rejoin_excl_eexist)
{
	struct rnl_member a, a2;
	struct snap s1, s2;
	struct rnl_res r;

	rnl_member_make(&a, 1, 0, 0);
	ok_join(_metadata, &self->c, 1, &a, 2, 0);
	drop_ntfs(_metadata, &self->c);
	snap_take(_metadata, &self->c, &s1);

	rnl_member_make(&a2, 1, 0, 9);
	rnl_res_init(&r);
	rnl_join(&self->c, 1, &a2, 1, &r);
	expect_err(_metadata, &r, EEXIST, "join excl existing");
	rnl_res_free(&r);

	snap_take(_metadata, &self->c, &s2);
	snap_same(_metadata, &s1, &s2);
	ASSERT_EQ(1, s2.mems.nmems);
	check_member(_metadata, &s2.mems.mems[0], &a);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&s1);
	snap_free(&s2);

	/* EXCL with a new member is a plain join */
	rnl_member_make(&a2, 2, 0, 0);
	rnl_res_init(&r);
	rnl_join(&self->c, 1, &a2, 1, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, 1, 3, &a, 1);
	rnl_res_free(&r);
}

/* ---- MEMBER_LEAVE ----------------------------------------------------- */

TEST_F(roster, leave_reply_and_reasons)
{
	struct rnl_member m[4];
	struct rnl_res r, n;
	struct rnl_msg v;
	struct ntf exp;
	int i;

	for (i = 0; i < 4; i++) {
		rnl_member_make(&m[i], 10 + i, i == 2, 0);
		ok_join(_metadata, &self->c, 1, &m[i], 2 + i, i);
	}
	drop_ntfs(_metadata, &self->c);	/* gen is 5 now */

	static const struct {
		int idx, has_reason;
		uint32_t reason;
	} steps[] = {
		{ 1, 0, 0 },				/* default: requested */
		{ 3, 1, ROSTER_LEAVE_REASON_ADMIN },
		{ 0, 1, ROSTER_LEAVE_REASON_EXPIRED },
		{ 2, 1, ROSTER_LEAVE_REASON_REQUESTED },	/* the last */
	};
	int gone[4] = { 0 };

	for (i = 0; i < 4; i++) {
		struct rnl_member rest[4];
		int j, nrest = 0;

		gone[steps[i].idx] = 1;
		for (j = 0; j < 4; j++)
			if (!gone[j])
				rest[nrest++] = m[j];
		rnl_res_init(&r);
		rnl_leave(&self->c, 1, &m[steps[i].idx], steps[i].has_reason,
			  steps[i].reason, 0, &r);
		check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_LEAVE, 1,
				6 + i, rest, nrest);
		rnl_res_free(&r);

		exp.cmd = ROSTER_CMD_MEMBER_LEFT_NTF;
		exp.vpn = 1;
		exp.gen = 6 + i;
		rnl_res_init(&n);
		expect_ntfs(_metadata, &self->c, &n, &exp, 1);
		ASSERT_TRUE(n.msgs[0].has_reason);
		ASSERT_EQ(steps[i].reason, n.msgs[0].reason);
		ASSERT_EQ(1, n.nmems);
		ASSERT_TRUE(rnl_dev_eq(&n.mems[0], &m[steps[i].idx]));
		rnl_res_free(&n);
	}

	/* without DELETE_EMPTY, the empty VPN stays */
	get_vpn(_metadata, &self->c, 1, &v);
	check_vpn_msg(_metadata, &v, 1, 9, 0);

	/* leaving again: unknown member */
	rnl_res_init(&r);
	rnl_leave(&self->c, 1, &m[0], 0, 0, 0, &r);
	expect_err(_metadata, &r, ENOENT, "leave unknown member");
	rnl_res_free(&r);
	expect_no_ntf(_metadata, &self->c);
}

TEST_F(roster, leave_delete_empty)
{
	struct ntf exp1[] = { { ROSTER_CMD_MEMBER_LEFT_NTF, 4, 4 } };
	struct ntf exp2[] = {
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 4, 5 },
		{ ROSTER_CMD_VPN_DEL_NTF, 4, 6 },
	};
	struct rnl_member a, b;
	struct rnl_res r, n;
	struct snap s;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	ok_join(_metadata, &self->c, 4, &a, 2, 0);
	ok_join(_metadata, &self->c, 4, &b, 3, 1);
	ok_vpn_new(_metadata, &self->c, 5);
	drop_ntfs(_metadata, &self->c);

	/* not the last member: flag has no effect */
	rnl_res_init(&r);
	rnl_leave(&self->c, 4, &a, 0, 0, ROSTER_FLAGS_DELETE_EMPTY, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_LEAVE, 4, 4, &b, 1);
	rnl_res_free(&r);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp1, 1);
	rnl_res_free(&n);

	/* the last one: the VPN goes too */
	rnl_res_init(&r);
	rnl_leave(&self->c, 4, &b, 1, ROSTER_LEAVE_REASON_ADMIN,
		  ROSTER_FLAGS_DELETE_EMPTY, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_LEAVE, 4, 5, NULL, 0);
	rnl_res_free(&r);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp2, 2);
	ASSERT_EQ(ROSTER_LEAVE_REASON_ADMIN, n.msgs[0].reason);
	ASSERT_TRUE(rnl_dev_eq(&n.mems[0], &b));
	rnl_res_free(&n);

	snap_take(_metadata, &self->c, &s);
	ASSERT_EQ(1, s.vpns.nmsgs);
	ASSERT_EQ(5, s.vpns.msgs[0].vpn);
	snap_free(&s);

	rnl_res_init(&r);
	rnl_vpn_get(&self->c, 4, &r);
	expect_err(_metadata, &r, ENOENT, "vpn-get after delete-empty");
	rnl_res_free(&r);

	/* DELETE_EMPTY on an empty VPN that stays empty is still a leave */
	rnl_res_init(&r);
	rnl_leave(&self->c, 5, &a, 0, 0, ROSTER_FLAGS_DELETE_EMPTY, &r);
	expect_err(_metadata, &r, ENOENT, "leave from empty vpn");
	rnl_res_free(&r);
}

/* ---- MEMBER_GET ------------------------------------------------------- */

TEST_F(roster, member_get_do_and_dump)
{
	struct rnl_member m1[3], m2[2], x;
	struct rnl_res r;
	int i;

	for (i = 0; i < 3; i++) {
		rnl_member_make(&m1[i], 20 + i, i == 1, 0);
		ok_join(_metadata, &self->c, 2, &m1[i], 2 + i, i);
	}
	for (i = 0; i < 2; i++) {
		/* same devs as in VPN 2: tables are per VPN */
		rnl_member_make(&m2[i], 20 + i, 0, 3);
		ok_join(_metadata, &self->c, 1, &m2[i], 2 + i, i);
	}

	rnl_res_init(&r);
	rnl_member_get(&self->c, 2, &m1[1], &r);
	expect_do_reply(_metadata, &r, "member-get");
	ASSERT_EQ(ROSTER_CMD_MEMBER_GET, r.msgs[0].cmd);
	ASSERT_EQ(2, r.msgs[0].vpn);
	ASSERT_EQ(4, r.msgs[0].gen);
	ASSERT_EQ(1, r.nmems);
	check_member(_metadata, &r.mems[0], &m1[1]);
	ASSERT_EQ(3, r.mems[0].jg);
	rnl_res_free(&r);

	rnl_res_init(&r);
	rnl_member_get(&self->c, 1, &m2[0], &r);
	expect_do_reply(_metadata, &r, "member-get");
	check_member(_metadata, &r.mems[0], &m2[0]);
	rnl_res_free(&r);

	/* filtered dump: join order */
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 2, &r);
	expect_ok(_metadata, &r, "member dump vpn 2");
	ASSERT_TRUE(r.done_seen);
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(3, r.nmsgs);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(ROSTER_CMD_MEMBER_GET, r.msgs[i].cmd);
		ASSERT_EQ(2, r.msgs[i].vpn);
		ASSERT_EQ(4, r.msgs[i].gen);
		ASSERT_EQ(1, r.msgs[i].nmem);
		check_member(_metadata, &r.mems[i], &m1[i]);
	}
	rnl_res_free(&r);

	/* unfiltered: VPNs ascending, members in join order */
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 0, &r);
	expect_ok(_metadata, &r, "member dump all");
	ASSERT_EQ(5, r.nmsgs);
	ASSERT_EQ(5, r.nmems);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, r.msgs[i].vpn);
		check_member(_metadata, &r.mems[i], &m2[i]);
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(2, r.msgs[2 + i].vpn);
		check_member(_metadata, &r.mems[2 + i], &m1[i]);
	}
	rnl_res_free(&r);

	/* unknown member, unknown VPN, unknown filter */
	rnl_member_make(&x, 99, 0, 0);
	rnl_res_init(&r);
	rnl_member_get(&self->c, 2, &x, &r);
	expect_err(_metadata, &r, ENOENT, "member-get unknown dev");
	rnl_res_free(&r);
	rnl_res_init(&r);
	rnl_member_get(&self->c, 3, &m1[0], &r);
	expect_err(_metadata, &r, ENOENT, "member-get unknown vpn");
	rnl_res_free(&r);
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 3, &r);
	expect_err(_metadata, &r, ENOENT, "member dump unknown vpn");
	rnl_res_free(&r);
}

/* A JOIN reply too large for one message is split, counted once. */
TEST_F_TIMEOUT(roster, join_reply_multipart, 120)
{
	enum { N = 400 };
	struct rnl_member m;
	struct rnl_res r;
	size_t i;

	for (i = 0; i < N; i++) {
		rnl_member_make(&m, i, 0, 0);
		ok_join(_metadata, &self->c, 3, &m, 2 + i, i);
	}
	drop_ntfs(_metadata, &self->c);
	rnl_member_make(&m, N, 1, 0);
	rnl_res_init(&r);
	rnl_join(&self->c, 3, &m, 0, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, 3, 2 + N, NULL,
			N);
	TH_LOG("join reply with %d members: %zu messages", N, r.nmsgs);
	ASSERT_GT(r.nmsgs, 1);
	/* all distinct, all members 0..N-1 */
	{
		char seen[N] = { 0 };

		for (i = 0; i < r.nmems; i++) {
			long idx = rnl_dev_idx(&r.mems[i]);

			ASSERT_TRUE(idx >= 0 && idx < N && r.mems[i].dev_len == 4);
			ASSERT_EQ(0, seen[idx]);
			seen[idx] = 1;
		}
	}
	rnl_res_free(&r);
}

/* ---- notifications: one per change, nothing for failures ------------- */

TEST_F(roster, notifications_exact_sequence)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 1, 1 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 1, 2 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 1, 3 },
		{ ROSTER_CMD_MEMBER_UPDATED_NTF, 1, 4 },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 1, 5 },
		{ ROSTER_CMD_VPN_NEW_NTF, 2, 1 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 2, 2 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 2, 3 },
		{ ROSTER_CMD_VPN_DEL_NTF, 1, 6 },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 2, 4 },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 2, 5 },
		{ ROSTER_CMD_VPN_DEL_NTF, 2, 6 },
		{ ROSTER_CMD_VPN_NEW_NTF, 3, 1 },
	};
	struct rnl_member a, b, a2, c3;
	struct rnl_res r, n;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 1, 0);
	rnl_member_make(&a2, 1, 0, 5);
	rnl_member_make(&c3, 3, 0, 0);

#define STEP(call, want) do {						\
		rnl_res_init(&r);					\
		call;							\
		if (want)						\
			expect_err(_metadata, &r, want, #call);		\
		else							\
			expect_ok(_metadata, &r, #call);		\
		rnl_res_free(&r);					\
	} while (0)

	STEP(rnl_vpn_new(&self->c, 1, &r), 0);
	STEP(rnl_join(&self->c, 1, &a, 0, &r), 0);
	STEP(rnl_join(&self->c, 1, &b, 0, &r), 0);
	STEP(rnl_join(&self->c, 1, &a2, 0, &r), 0);		/* update */
	STEP(rnl_leave(&self->c, 1, &b, 0, 0, 0, &r), 0);
	STEP(rnl_leave(&self->c, 1, &b, 0, 0, 0, &r), ENOENT);
	STEP(rnl_vpn_new(&self->c, 1, &r), EEXIST);
	STEP(rnl_join(&self->c, 2, &c3, 0, &r), 0);		/* creates 2 */
	STEP(rnl_join(&self->c, 2, &a, 0, &r), 0);
	STEP(rnl_vpn_del(&self->c, 1, &r), 0);
	STEP(rnl_vpn_del(&self->c, 1, &r), ENOENT);
	STEP(rnl_leave(&self->c, 2, &c3, 1, 1, ROSTER_FLAGS_DELETE_EMPTY, &r),
	     0);
	STEP(rnl_leave(&self->c, 2, &a, 1, 2, ROSTER_FLAGS_DELETE_EMPTY, &r),
	     0);
	STEP(rnl_leave(&self->c, 2, &a, 0, 0, 0, &r), ENOENT);
	STEP(rnl_vpn_get(&self->c, 2, &r), ENOENT);
	STEP(rnl_vpn_new(&self->c, 3, &r), 0);
	STEP(rnl_vpn_dump(&self->c, &r), 0);			/* reads: none */
	STEP(rnl_member_dump(&self->c, 0, &r), 0);
	STEP(rnl_vpn_get(&self->c, 3, &r), 0);
#undef STEP

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, sizeof(exp) / sizeof(exp[0]));
	/* reasons on the left notifications */
	ASSERT_EQ(ROSTER_LEAVE_REASON_REQUESTED, n.msgs[4].reason);
	ASSERT_EQ(ROSTER_LEAVE_REASON_ADMIN, n.msgs[9].reason);
	ASSERT_EQ(ROSTER_LEAVE_REASON_EXPIRED, n.msgs[10].reason);
	rnl_res_free(&n);
}

/* ---- bad input: errno, extack, and the table unchanged --------------- */

struct bad_case {
	int err;
	void (*fill)(struct rnl_req *q, struct rnl_member *m);
};

FIXTURE(bad) {
	struct rnl_ctx c;
	struct rnl_member a, b;
};

FIXTURE_VARIANT(bad) {
	int err;
	void (*fill)(struct rnl_req *q, struct rnl_member *m);
};

FIXTURE_SETUP(bad)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, rnl_ctx_open(&self->c, 1));
	/* VPN 1 with A (v4, endpoint, prefixes) and B (v6); empty VPN 2 */
	rnl_member_make(&self->a, 4, 0, 0);
	self->a.ep_len = 4;
	memcpy(self->a.ep, "\xc0\x00\x02\x04", 4);
	self->a.has_port = 1;
	self->a.port = 51820;
	rnl_member_make(&self->b, 5, 1, 0);
	ok_join(_metadata, &self->c, 1, &self->a, 2, 0);
	ok_join(_metadata, &self->c, 1, &self->b, 3, 1);
	ok_vpn_new(_metadata, &self->c, 2);
	drop_ntfs(_metadata, &self->c);
}

FIXTURE_TEARDOWN(bad)
{
	rnl_ctx_close(&self->c);
}

/* A valid new member C, joining VPN 1: each case breaks one thing. */
static void join_c(struct rnl_req *q, struct rnl_member *m)
{
	rnl_member_make(m, 6, 0, 0);
	m->npfx = 0;
	q->cmd = ROSTER_CMD_MEMBER_JOIN;
	q->has_vpn = 1;
	q->vpn = 1;
	q->m = m;
}

static void set_pfx(struct rnl_pfx *p, const char *addr, int alen, int len)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->addr, addr, alen);
	p->alen = alen;
	p->len = len;
	p->has_len = 1;
}

static void f_missing_vpn_id(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_vpn = 0;
}

static void f_vpn_new_missing_vpn_id(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_VPN_NEW;
}

static void f_missing_member(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->m = NULL;
}

static void f_empty_member(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->m = NULL;
	q->empty_member = 1;
}

static void f_missing_dev(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->dev_len = 0;
}

static void f_missing_key(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->key_len = 0;
}

static void f_key_len_31(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->key_len = 31;
}

static void f_key_len_33(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->key_len = 33;
}

static void f_dev_len_5(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->dev_len = 5;
}

static void f_dev_len_0(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->dev_len = 0;
	m->xtype = ROSTER_A_MEMBER_DEV;
	m->xlen = 0;
}

static void f_prefix_addr_len_3(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	set_pfx(&m->pfx[0], "\xac\x10\x00", 3, 16);
}

static void f_prefix_missing_len(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	set_pfx(&m->pfx[0], "\xac\x10\x00\x00", 4, 16);
	m->pfx[0].has_len = 0;
}

static void f_v4_prefix_len_33(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	set_pfx(&m->pfx[0], "\xac\x10\x00\x00", 4, 33);
}

static void f_v6_prefix_len_129(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	set_pfx(&m->pfx[0], "\xfd\x00\x00\x00\x00\x00\x00\x00"
			    "\x00\x00\x00\x00\x00\x00\x00\x00", 16, 129);
}

static void f_v4_host_bits(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	set_pfx(&m->pfx[0], "\x0a\x00\x00\x01", 4, 24);	/* 10.0.0.1/24 */
}

static void f_v6_host_bits(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	set_pfx(&m->pfx[0], "\xfd\x00\x00\x00\x00\x00\x00\x01"
			    "\x00\x00\x00\x00\x00\x00\x00\x00", 16, 48);
}

static void f_duplicate_prefix(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 3;
	set_pfx(&m->pfx[0], "\xac\x10\x00\x00", 4, 16);
	set_pfx(&m->pfx[1], "\xac\x11\x00\x00", 4, 16);
	set_pfx(&m->pfx[2], "\xac\x10\x00\x00", 4, 16);
}

static void f_33_prefixes(struct rnl_req *q, struct rnl_member *m)
{
	char a[4] = { 10, 100, 0, 0 };
	int i;

	join_c(q, m);
	m->npfx = ROSTER_MAX_PREFIXES + 1;
	for (i = 0; i < m->npfx; i++) {
		a[2] = i;
		set_pfx(&m->pfx[i], a, 4, 24);
	}
}

static void f_endpoint_without_port(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 4;
	memcpy(m->ep, "\xc0\x00\x02\x06", 4);
	m->has_port = 0;
}

static void f_port_without_endpoint(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 0;
	m->has_port = 1;
	m->port = 51820;
}

static void f_port_zero(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 4;
	memcpy(m->ep, "\xc0\x00\x02\x06", 4);
	m->has_port = 1;
	m->port = 0;
}

static void f_endpoint_len_5(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 5;
	m->has_port = 1;
	m->port = 1;
}

static void leave_a(struct rnl_req *q, struct rnl_member *m)
{
	rnl_member_make(m, 4, 0, 0);	/* dev of A */
	m->key_len = 0;
	m->ep_len = 0;
	m->has_port = 0;
	m->npfx = 0;
	q->cmd = ROSTER_CMD_MEMBER_LEAVE;
	q->has_vpn = 1;
	q->vpn = 1;
	q->m = m;
}

static void f_unknown_flag_bit(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_flags = 1;
	q->rflags = 4;	/* beyond delete-empty and no-members */
}

static void f_unknown_reason(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_reason = 1;
	q->reason = 3;
}

static void f_leave_unknown_member(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	m->dev[3] = 77;
}

static void f_leave_unknown_vpn(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->vpn = 3;
}

static void f_leave_missing_member(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->m = NULL;
}

/* an attribute id the family does not have at all */
static void f_unknown_attr(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->xtype = ROSTER_A_MAX + 10;
	q->xlen = 4;
}

/* a known attribute that is not in JOIN's request list */
static void f_attr_not_in_request(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->xtype = ROSTER_A_GENERATION;
	q->xlen = 8;
}

static void f_vpn_new_with_member_count(struct rnl_req *q,
					struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_VPN_NEW;
	q->has_vpn = 1;
	q->vpn = 3;
	q->xtype = ROSTER_A_MEMBER_COUNT;
	q->xlen = 4;
}

static void f_unknown_member_attr(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->xtype = ROSTER_A_MEMBER_MAX + 10;
	m->xlen = 4;
}

static void f_join_time_in_request(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->has_jt = 1;
	m->jt = 1;
}

static void f_join_gen_in_request(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->has_jg = 1;
	m->jg = 1;
}

static void f_member_dump_with_member(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->cmd = ROSTER_CMD_MEMBER_GET;
	q->flags = NLM_F_DUMP;
}

static void f_member_get_missing_member(struct rnl_req *q,
					struct rnl_member *m)
{
	leave_a(q, m);
	q->cmd = ROSTER_CMD_MEMBER_GET;
	q->m = NULL;
}

static void f_vpn_id_zero_new(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_VPN_NEW;
	q->has_vpn = 1;
	q->vpn = 0;
}

static void f_vpn_id_zero_join(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 0;
}

static void f_vpn_new_existing(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_VPN_NEW;
	q->has_vpn = 1;
	q->vpn = 2;
}

static void f_vpn_del_unknown(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_VPN_DEL;
	q->has_vpn = 1;
	q->vpn = 3;
}

static void f_rejoin_excl(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	rnl_member_make(m, 5, 1, 1);	/* B's dev, other key */
	q->flags = NLM_F_EXCL;
}

/* NLM_F_REPLACE means nothing to roster: rejected, not ignored */
static void f_join_nlm_replace(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->flags = NLM_F_REPLACE;
}

static void f_vpn_new_nlm_excl(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_VPN_NEW;
	q->has_vpn = 1;
	q->vpn = 2;
	q->flags = NLM_F_EXCL;
}

static void f_join_delete_empty(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_flags = 1;
	q->rflags = ROSTER_FLAGS_DELETE_EMPTY;
}

#define BAD(name, e) \
	FIXTURE_VARIANT_ADD(bad, name) { .err = e, .fill = f_##name, }

BAD(missing_vpn_id, EINVAL);
BAD(vpn_new_missing_vpn_id, EINVAL);
BAD(missing_member, EINVAL);
BAD(empty_member, EINVAL);
BAD(missing_dev, EINVAL);
BAD(missing_key, EINVAL);
BAD(key_len_31, ERANGE);
BAD(key_len_33, ERANGE);
BAD(dev_len_5, EINVAL);
BAD(dev_len_0, EINVAL);
BAD(prefix_addr_len_3, EINVAL);
BAD(prefix_missing_len, EINVAL);
BAD(v4_prefix_len_33, EINVAL);
BAD(v6_prefix_len_129, ERANGE);
BAD(v4_host_bits, EINVAL);
BAD(v6_host_bits, EINVAL);
BAD(duplicate_prefix, EINVAL);
BAD(33_prefixes, E2BIG);
BAD(endpoint_without_port, EINVAL);
BAD(port_without_endpoint, EINVAL);
BAD(port_zero, ERANGE);
BAD(endpoint_len_5, EINVAL);
BAD(unknown_flag_bit, EINVAL);
BAD(unknown_reason, ERANGE);
BAD(unknown_attr, EINVAL);
BAD(attr_not_in_request, EINVAL);
BAD(vpn_new_with_member_count, EINVAL);
BAD(unknown_member_attr, EINVAL);
BAD(join_time_in_request, EINVAL);
BAD(join_gen_in_request, EINVAL);
BAD(leave_unknown_member, ENOENT);
BAD(leave_unknown_vpn, ENOENT);
BAD(leave_missing_member, EINVAL);
BAD(member_dump_with_member, EINVAL);
BAD(member_get_missing_member, EINVAL);
BAD(vpn_id_zero_new, ERANGE);
BAD(vpn_id_zero_join, ERANGE);
BAD(vpn_new_existing, EEXIST);
BAD(vpn_del_unknown, ENOENT);
BAD(rejoin_excl, EEXIST);
BAD(join_nlm_replace, EINVAL);
BAD(vpn_new_nlm_excl, EINVAL);
BAD(join_delete_empty, EINVAL);

TEST_F(bad, rejected)
{
	struct rnl_req q;
	struct rnl_member m;
	struct rnl_res r;
	struct snap s1, s2;

	memset(&q, 0, sizeof(q));
	variant->fill(&q, &m);

	snap_take(_metadata, &self->c, &s1);
	ASSERT_EQ(2, s1.vpns.nmsgs);
	ASSERT_EQ(2, s1.mems.nmsgs);

	rnl_res_init(&r);
	rnl_request(self->c.sk, self->c.fam, &q, &r);
	expect_err(_metadata, &r, variant->err, "bad request");
	/* only a dump may report its error in NLMSG_DONE */
	if (!(q.flags & NLM_F_DUMP))
		ASSERT_FALSE(r.done_seen);
	rnl_res_free(&r);

	snap_take(_metadata, &self->c, &s2);
	snap_same(_metadata, &s1, &s2);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&s1);
	snap_free(&s2);
}

/* Missing required attributes also name the attribute (extack). */
TEST_F(roster, missing_attr_reported)
{
	struct rnl_req q;
	struct rnl_member m;
	struct rnl_res r;

	memset(&q, 0, sizeof(q));
	f_missing_vpn_id(&q, &m);
	rnl_res_init(&r);
	rnl_request(self->c.sk, self->c.fam, &q, &r);
	expect_err(_metadata, &r, EINVAL, "join without vpn-id");
	TH_LOG("miss_type=%d", r.miss_type);
	ASSERT_EQ(ROSTER_A_VPN_ID, r.miss_type);
	rnl_res_free(&r);
}

/* ---- limits (only with a small max_vpns / max_members) --------------- */

TEST_F_TIMEOUT(roster, limit_max_vpns, 120)
{
	long max = read_param("max_vpns");
	struct rnl_member m;
	struct snap s1, s2;
	struct rnl_res r;
	long i;

	if (max < 0)
		SKIP(return, "no /sys/module/roster/parameters/max_vpns");
	if (max > 64)
		SKIP(return, "max_vpns=%ld > 64: load roster.ko max_vpns=<=64 to run", max);
	for (i = 1; i <= max; i++)
		ok_vpn_new(_metadata, &self->c, i);
	drop_ntfs(_metadata, &self->c);
	snap_take(_metadata, &self->c, &s1);
	ASSERT_EQ(max, s1.vpns.nmsgs);

	rnl_res_init(&r);
	rnl_vpn_new(&self->c, max + 1, &r);
	expect_err(_metadata, &r, ENOSPC, "vpn-new over max_vpns");
	rnl_res_free(&r);

	/* a join that would create a VPN hits the same limit */
	rnl_member_make(&m, 1, 0, 0);
	rnl_res_init(&r);
	rnl_join(&self->c, max + 2, &m, 0, &r);
	expect_err(_metadata, &r, ENOSPC, "join creating vpn over max_vpns");
	rnl_res_free(&r);

	snap_take(_metadata, &self->c, &s2);
	snap_same(_metadata, &s1, &s2);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&s1);
	snap_free(&s2);

	/* other netns have their own budget */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	{
		struct rnl_ctx c2;

		ASSERT_EQ(0, rnl_ctx_open(&c2, 0));
		ok_vpn_new(_metadata, &c2, 1);
		rnl_ctx_close(&c2);
	}
}

TEST_F_TIMEOUT(roster, limit_max_members, 120)
{
	long max = read_param("max_members");
	struct rnl_member m;
	struct snap s1, s2;
	struct rnl_res r;
	long i;

	if (max < 0)
		SKIP(return, "no /sys/module/roster/parameters/max_members");
	if (max > 64)
		SKIP(return, "max_members=%ld > 64: load roster.ko max_members=<=64 to run", max);
	for (i = 0; i < max; i++) {
		rnl_member_make(&m, i, 0, 0);
		ok_join(_metadata, &self->c, 1, &m, 2 + i, i);
	}
	drop_ntfs(_metadata, &self->c);
	snap_take(_metadata, &self->c, &s1);

	rnl_member_make(&m, max, 0, 0);
	rnl_res_init(&r);
	rnl_join(&self->c, 1, &m, 0, &r);
	expect_err(_metadata, &r, ENOSPC, "join over max_members");
	rnl_res_free(&r);

	snap_take(_metadata, &self->c, &s2);
	snap_same(_metadata, &s1, &s2);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&s1);
	snap_free(&s2);

	/* replacing an existing member does not grow the VPN */
	rnl_member_make(&m, 0, 0, 3);
	ok_join(_metadata, &self->c, 1, &m, 2 + max, max - 1);
}

/* ---- permissions ------------------------------------------------------ */

static int unpriv_check(struct nl_sock *sk, int fam, const struct rnl_req *q,
			const char *what)
{
	struct rnl_res r;
	int bad;

	rnl_res_init(&r);
	rnl_request(sk, fam, q, &r);
	bad = r.err != -EPERM || r.nmsgs;
	fprintf(stderr, "# unprivileged %s: %s (%d)%s\n", what,
		strerror(-r.err), r.err, bad ? " <-- want EPERM" : "");
	rnl_res_free(&r);
	return bad;
}

TEST_F(roster, unprivileged_eperm)
{
	struct rnl_member a, b;
	struct snap s1, s2;
	int status, fails;
	pid_t pid;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	ok_join(_metadata, &self->c, 1, &a, 2, 0);
	drop_ntfs(_metadata, &self->c);
	snap_take(_metadata, &self->c, &s1);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct rnl_req q;
		struct nl_sock *sk;
		int fam, grp, ret;

		fails = 0;
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			fprintf(stderr, "# drop privileges: %s\n",
				strerror(errno));
			_exit(100);
		}
		sk = rnl_sock_open();
		if (!sk || rnl_resolve(sk, &fam, &grp, NULL)) {
			fprintf(stderr, "# unprivileged resolve failed\n");
			_exit(101);
		}
#define UNPRIV(what, ...) do {						\
		struct rnl_req _q = { __VA_ARGS__ };			\
		q = _q;							\
		fails += unpriv_check(sk, fam, &q, what);		\
	} while (0)
		UNPRIV("vpn-new", .cmd = ROSTER_CMD_VPN_NEW, .has_vpn = 1,
		       .vpn = 2);
		UNPRIV("vpn-del", .cmd = ROSTER_CMD_VPN_DEL, .has_vpn = 1,
		       .vpn = 1);
		UNPRIV("vpn-get do", .cmd = ROSTER_CMD_VPN_GET, .has_vpn = 1,
		       .vpn = 1);
		UNPRIV("vpn-get dump", .cmd = ROSTER_CMD_VPN_GET,
		       .flags = NLM_F_DUMP);
		UNPRIV("member-join", .cmd = ROSTER_CMD_MEMBER_JOIN,
		       .has_vpn = 1, .vpn = 1, .m = &b);
		UNPRIV("member-join new vpn", .cmd = ROSTER_CMD_MEMBER_JOIN,
		       .has_vpn = 1, .vpn = 3, .m = &b);
		UNPRIV("member-leave", .cmd = ROSTER_CMD_MEMBER_LEAVE,
		       .has_vpn = 1, .vpn = 1, .m = &a);
		UNPRIV("member-get do", .cmd = ROSTER_CMD_MEMBER_GET,
		       .has_vpn = 1, .vpn = 1, .m = &a);
		UNPRIV("member-get dump", .cmd = ROSTER_CMD_MEMBER_GET,
		       .flags = NLM_F_DUMP);
		UNPRIV("member-get dump vpn", .cmd = ROSTER_CMD_MEMBER_GET,
		       .flags = NLM_F_DUMP, .has_vpn = 1, .vpn = 1);
#undef UNPRIV
		ret = rnl_subscribe(sk, grp);
		fprintf(stderr, "# unprivileged join of \"notify\": %s%s\n",
			strerror(-ret), ret == -EPERM ? "" : " <-- want EPERM");
		if (ret != -EPERM)
			fails++;
		nl_socket_free(sk);
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	snap_take(_metadata, &self->c, &s2);
	snap_same(_metadata, &s1, &s2);
	expect_no_ntf(_metadata, &self->c);
	snap_free(&s1);
	snap_free(&s2);
}

/* ---- network namespaces ----------------------------------------------- */

TEST_F(roster, netns_isolated)
{
	struct ntf exp1[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 1 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 2 },
	};
	struct ntf exp2[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 1 },
		{ ROSTER_CMD_VPN_NEW_NTF, 8, 1 },
	};
	struct rnl_member a;
	struct rnl_ctx c2;
	struct rnl_res r;
	struct snap s;
	int ns1, ns2;

	ns1 = open("/proc/self/ns/net", O_RDONLY);
	ASSERT_GE(ns1, 0);
	rnl_member_make(&a, 1, 0, 0);
	ok_join(_metadata, &self->c, 7, &a, 2, 0);

	/* a second netns, with its own sockets (they stay bound to it) */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ns2 = open("/proc/self/ns/net", O_RDONLY);
	ASSERT_GE(ns2, 0);
	ASSERT_EQ(0, rnl_ctx_open(&c2, 1));
	ASSERT_EQ(0, setns(ns1, CLONE_NEWNET));

	snap_take(_metadata, &c2, &s);
	ASSERT_EQ(0, s.vpns.nmsgs);
	ASSERT_EQ(0, s.mems.nmsgs);
	snap_free(&s);
	rnl_res_init(&r);
	rnl_vpn_get(&c2, 7, &r);
	expect_err(_metadata, &r, ENOENT, "vpn 7 from the other netns");
	rnl_res_free(&r);
	rnl_res_init(&r);
	rnl_member_get(&c2, 7, &a, &r);
	expect_err(_metadata, &r, ENOENT, "member from the other netns");
	rnl_res_free(&r);

	/* the same id is free there */
	ok_vpn_new(_metadata, &c2, 7);
	ok_vpn_new(_metadata, &c2, 8);

	snap_take(_metadata, &self->c, &s);
	ASSERT_EQ(1, s.vpns.nmsgs);
	check_vpn_msg(_metadata, &s.vpns.msgs[0], 7, 2, 1);
	snap_free(&s);

	/* and each listener saw only its own netns */
	rnl_res_init(&r);
	expect_ntfs(_metadata, &self->c, &r, exp1, 2);
	rnl_res_free(&r);
	rnl_res_init(&r);
	expect_ntfs(_metadata, &c2, &r, exp2, 2);
	rnl_res_free(&r);

	/* deleting in one does not touch the other */
	rnl_res_init(&r);
	rnl_vpn_del(&c2, 7, &r);
	expect_ok(_metadata, &r, "vpn-del in netns 2");
	rnl_res_free(&r);
	snap_take(_metadata, &self->c, &s);
	ASSERT_EQ(1, s.vpns.nmsgs);
	ASSERT_EQ(1, s.mems.nmsgs);
	snap_free(&s);

	rnl_ctx_close(&c2);
	close(ns1);
	close(ns2);
}

/* ---- dump consistency under concurrent joins ------------------------- */

struct joiner {
	struct rnl_ctx c;
	uint32_t vpn;
	unsigned int base, count;
	atomic_uint joined;	/* members 0..joined-1 surely exist */
	atomic_int stop;
	int err;
	char errmsg[512];
};

static void *joiner_fn(void *arg)
{
	struct joiner *j = arg;
	struct rnl_member m;
	struct rnl_res r;
	unsigned int i;

	for (i = j->base; i < j->base + j->count && !atomic_load(&j->stop);
	     i++) {
		/* mostly new members; every 4th an update of an old one */
		if (i % 4 == 3)
			rnl_member_make(&m, i / 7, 0, i);
		else
			rnl_member_make(&m, i, 0, 0);
		rnl_res_init(&r);
		r.nostore_mems = 1;
		r.nostore_msgs = 1;
		rnl_join(&j->c, j->vpn, &m, 0, &r);
		if (r.err || r.nlerr || !r.done_seen) {
			j->err = r.err ? r.err : -EIO;
			snprintf(j->errmsg, sizeof(j->errmsg),
				 "join %u: err %d nlerr %d extack '%s'", i,
				 r.err, r.nlerr, r.ext);
			rnl_res_free(&r);
			break;
		}
		rnl_res_free(&r);
		if (i % 4 != 3)
			atomic_store(&j->joined, i + 1);
	}
	atomic_store(&j->stop, 1);
	return NULL;
}

struct dumpcheck {
	unsigned char *seen;
	size_t max;
	int dups, out_of_range;
};

static void dump_mem_cb(struct rnl_res *r, const struct rnl_msg *m,
			const struct rnl_member *mem)
{
	struct dumpcheck *d = r->priv;
	long idx = rnl_dev_idx(mem);

	(void)m;
	if (idx < 0 || (size_t)idx >= d->max) {
		d->out_of_range++;
		return;
	}
	if (d->seen[idx])
		d->dups++;
	d->seen[idx] = 1;
}

TEST_F_TIMEOUT(roster, dump_consistent_under_joins, 300)
{
	enum { PRE = 300, MORE = 900, MIN_DUMPS = 20 };
	struct joiner *j;
	struct dumpcheck d;
	pthread_t th;
	int dumps = 0, intr = 0, clean = 0, fails = 0;
	double t0 = now_s();
	struct rnl_member m;
	unsigned int i;

	/* the members that exist before any dump */
	for (i = 0; i < PRE; i++) {
		rnl_member_make(&m, i, 0, 0);
		ok_join(_metadata, &self->c, 1, &m, 2 + i, i);
	}
	/* the listener is not read during the test: close it */
	nl_socket_free(self->c.mon);
	self->c.mon = NULL;

	j = calloc(1, sizeof(*j));
	ASSERT_NE(NULL, j);
	ASSERT_EQ(0, rnl_ctx_open(&j->c, 0));
	j->vpn = 1;
	j->base = PRE;
	j->count = MORE;
	atomic_store(&j->joined, PRE);

	/* small receive buffer: many dump parts, many chances to interleave */
	nl_socket_set_msg_buf_size(self->c.sk, 4096);
	d.max = PRE + MORE;
	d.seen = malloc(d.max);
	ASSERT_NE(NULL, d.seen);

	ASSERT_EQ(0, pthread_create(&th, NULL, joiner_fn, j));
	while (dumps < MIN_DUMPS || !atomic_load(&j->stop)) {
		unsigned int known = atomic_load(&j->joined);
		struct rnl_res r;
		unsigned int k, missing = 0;

		memset(d.seen, 0, d.max);
		d.dups = d.out_of_range = 0;
		rnl_res_init(&r);
		r.nostore_mems = 1;
		r.nostore_msgs = 1;
		r.on_mem = dump_mem_cb;
		r.priv = &d;
		rnl_member_dump(&self->c, 1, &r);
		if (r.err || r.nlerr || r.seq_bad || r.bad || !r.done_seen) {
			log_res(_metadata, "member dump", &r);
			fails++;
			atomic_store(&j->stop, 1);
			rnl_res_free(&r);
			break;
		}
		for (k = 0; k < known; k++)
			if ((k < PRE || k % 4 != 3) && !d.seen[k])
				missing++;
		dumps++;
		if (r.intr) {
			intr++;
		} else {
			clean++;
			if (d.dups || missing || d.out_of_range) {
				TH_LOG("dump %d without NLM_F_DUMP_INTR: %zu members, %d duplicates, %u of %u known missing",
				       dumps, r.total_mems, d.dups, missing,
				       known);
				fails++;
			}
		}
		rnl_res_free(&r);
		if (now_s() - t0 > 45)
			atomic_store(&j->stop, 1);
	}
	pthread_join(th, NULL);
	TH_LOG("%d dumps (%d clean, %d NLM_F_DUMP_INTR) while joining %u members in %.1fs",
	       dumps, clean, intr, atomic_load(&j->joined) - PRE, now_s() - t0);
	ASSERT_EQ(0, j->err) {
		TH_LOG("joiner: %s", j->errmsg);
	}
	ASSERT_EQ(0, fails);
	ASSERT_GE(dumps, MIN_DUMPS);
	rnl_ctx_close(&j->c);
	free(j);
	free(d.seen);
}

/* ---- large: 100 000 members ------------------------------------------- */

/*
 * Bulk load: ROSTER_FLAGS_NO_MEMBERS makes the reply carry only vpn-id,
 * generation and member-count, so loading N members costs O(N), not the
 * sum of 0..N-1 member sets. Returns the reply's generation and count and
 * asserts (through the caller) that no member nest came back.
 */
static int join_quick(struct rnl_ctx *c, uint32_t vpn,
		      const struct rnl_member *m, uint64_t *gen,
		      uint32_t *count, size_t *nmems)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_JOIN, .has_vpn = 1,
			     .vpn = vpn, .m = m, .has_flags = 1,
			     .rflags = ROSTER_FLAGS_NO_MEMBERS };
	struct rnl_res r;
	int ret;

	rnl_res_init(&r);
	r.nostore_mems = 1;
	ret = rnl_request(c->sk, c->fam, &q, &r);
	if (!ret)
		ret = r.err;
	*gen = r.nmsgs ? r.msgs[0].gen : 0;
	*count = r.nmsgs && r.msgs[0].has_count ? r.msgs[0].count : UINT32_MAX;
	*nmems = r.total_mems;
	rnl_res_free(&r);
	return ret;
}

struct bigcheck {
	unsigned char *seen;
	size_t max;
	long dups, bad;
};

static void big_mem_cb(struct rnl_res *r, const struct rnl_msg *m,
		       const struct rnl_member *mem)
{
	struct bigcheck *b = r->priv;
	long idx = rnl_dev_idx(mem);

	(void)m;
	if (idx < 0 || (size_t)idx >= b->max || mem->bad ||
	    mem->key_len != ROSTER_KEY_LEN) {
		b->bad++;
		return;
	}
	if (b->seen[idx])
		b->dups++;
	b->seen[idx] = 1;
}

/*
 * ROSTER_LARGE_N overrides the member count (default 100 000), e.g. for a
 * quick run; vm-run passes ROSTER_* variables into the guest.
 */
TEST_F_TIMEOUT(roster, large_100k_members, 7200)
{
	const char *env = getenv("ROSTER_LARGE_N");
	const size_t N = env ? strtoul(env, NULL, 0) : 100000;
	struct bigcheck b = { 0 };
	struct rnl_member m;
	struct rnl_res r;
	struct rnl_msg v;
	double t0, t1, t2, tb;
	uint64_t gen;
	uint32_t count;
	size_t i, nmems;
	int ret;

	ASSERT_GT(N, 0);
	/* no listener: 100 000 notifications would only overflow it */
	nl_socket_free(self->c.mon);
	self->c.mon = NULL;
	rnl_set_rcvbuf(self->c.sk, 64 << 20);

	t0 = tb = now_s();
	for (i = 0; i < N; i++) {
		rnl_member_make(&m, i, 0, 0);
		ret = join_quick(&self->c, 1, &m, &gen, &count, &nmems);
		if (ret || gen != 2 + i || count != i || nmems)
			TH_LOG("join %zu: ret %d (%s) gen %llu count %u", i,
			       ret, strerror(-ret), (unsigned long long)gen,
			       count);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(2 + i, gen);
		ASSERT_EQ(i, count);
		ASSERT_EQ(0, nmems);
		if (N >= 10 && (i + 1) % (N / 10) == 0) {
			TH_LOG("%zu joins in %.1fs (last %zu: %.2f ms/join)",
			       i + 1, now_s() - t0, N / 10,
			       (now_s() - tb) * 1000 / (N / 10));
			tb = now_s();
		}
	}
	t1 = now_s();
	TH_LOG("%zu joins: %.1fs (%.0f/s)", N, t1 - t0, N / (t1 - t0));

	get_vpn(_metadata, &self->c, 1, &v);
	check_vpn_msg(_metadata, &v, 1, 1 + N, N);

	/* dump: exactly N distinct devs */
	b.max = N + 1;
	b.seen = calloc(1, b.max);
	ASSERT_NE(NULL, b.seen);
	rnl_res_init(&r);
	r.nostore_mems = 1;
	r.on_mem = big_mem_cb;
	r.priv = &b;
	rnl_member_dump(&self->c, 1, &r);
	t2 = now_s();
	expect_ok(_metadata, &r, "member dump 100k");
	ASSERT_TRUE(r.done_seen);
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(N, r.nmsgs);
	ASSERT_EQ(N, r.total_mems);
	ASSERT_EQ(0, b.dups);
	ASSERT_EQ(0, b.bad);
	for (i = 0; i < N; i++)
		ASSERT_TRUE(b.seen[i]);
	rnl_res_free(&r);
	TH_LOG("member dump of %zu: %.1fs", N, t2 - t1);

	/* member N+1: the JOIN reply carries all N others */
	memset(b.seen, 0, b.max);
	rnl_member_make(&m, N, 1, 0);
	rnl_res_init(&r);
	r.nostore_mems = 1;
	r.on_mem = big_mem_cb;
	r.priv = &b;
	rnl_join(&self->c, 1, &m, 0, &r);
	check_set_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, 1, 2 + N, NULL,
			N);
	ASSERT_EQ(0, b.dups);
	ASSERT_EQ(0, b.bad);
	for (i = 0; i < N; i++)
		ASSERT_TRUE(b.seen[i]);
	TH_LOG("join reply with %zu members: %zu messages, %.1fs", N, r.nmsgs,
	       now_s() - t2);
	rnl_res_free(&r);
	free(b.seen);
	TH_LOG("large test total %.1fs", now_s() - t0);
}

TEST_HARNESS_MAIN
