// SPDX-License-Identifier: GPL-2.0
/*
 * uAPI selftest of the roster generic netlink family (kmod/roster.ko),
 * version 2, checked against the v2 contract (plain-do JOIN/LEAVE, stamped
 * generations, follower and nested-prefix VPNs, prefix exclusivity,
 * per-netns limits) with an independent libnl-3 client.
 *
 * Run as root after loading the module. Every test runs in its own network
 * namespace (the harness forks per test; FIXTURE_SETUP unshares), so the
 * table starts empty, the limits are at their defaults and tests cannot
 * see each other.
 *
 * Rejections are checked for their errno, their extack text (formatted on
 * 6.2+, a fixed text on 6.1: substrings common to both, and a formatted
 * part only where the kernel can format), the extack cookie where the
 * contract gives one, an unchanged table and no notification.
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
#include <sys/utsname.h>
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
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#define CF_S	ROSTER_CHANGE_FLAGS_STAMPED
#define CF_SR	(ROSTER_CHANGE_FLAGS_STAMPED | ROSTER_CHANGE_FLAGS_RESYNC)
#define F_CO	ROSTER_FLAGS_CREATE_ONLY
#define F_DE	ROSTER_FLAGS_DELETE_EMPTY
#define F_RS	ROSTER_FLAGS_RESYNC
#define VF_FOL	ROSTER_VPN_FLAGS_FOLLOWER
#define VF_NEST	ROSTER_VPN_FLAGS_NESTED_PREFIXES

/* an unstamped change to a follower: change it at its table, or stamp it */
#define FOLLOWER_TEXT	"follows another table"
/* the genetlink core's text for NLM_F_EXCL & co (6.1 and 6.12) */
#define CORE_FLAGS_TEXT	"ambiguous or reserved bits set in nlmsg_flags"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* NL_SET_ERR_MSG_FMT came in 6.2: before, extack texts are fixed. */
static int kernel_formats_extack(void)
{
	static int cached = -1;
	struct utsname u;
	int maj = 0, min = 0;

	if (cached < 0) {
		uname(&u);
		sscanf(u.release, "%d.%d", &maj, &min);
		cached = maj > 6 || (maj == 6 && min >= 2);
	}
	return cached;
}

/* ---- assertion helpers (take _metadata, so ASSERT_*() work) ----------- */

static void log_res(MD, const char *what, const struct rnl_res *r)
{
	TH_LOG("%s: err=%d (%s) extack='%s' miss_type=%d offs=%s%u cookie=%lld nlerr=%d (%s) seq_bad=%d stray=%d bad=%d msgs=%zu acked=%d",
	       what, r->err, strerror(-r->err), r->ext, r->miss_type,
	       r->has_offs ? "" : "-", r->offs,
	       (long long)rnl_cookie_u64(r), r->nlerr,
	       r->nlerr ? nl_geterror(r->nlerr) : "-", r->seq_bad, r->stray,
	       r->bad, r->nmsgs, r->acked);
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

/* The decimal n appears in s as a number of its own. */
static int has_number(const char *s, unsigned long long n)
{
	char want[32];
	const char *p = s;
	size_t l;

	snprintf(want, sizeof(want), "%llu", n);
	l = strlen(want);
	while ((p = strstr(p, want))) {
		if ((p == s || p[-1] < '0' || p[-1] > '9') &&
		    (p[l] < '0' || p[l] > '9'))
			return 1;
		p++;
	}
	return 0;
}

/*
 * The extack text: `all` must be in it on every kernel, `fmt` only where
 * the kernel formats extack texts (6.2+).
 */
static void expect_text(MD, const struct rnl_res *r, const char *all,
			const char *fmt)
{
	if (all && !strstr(r->ext, all))
		TH_LOG("extack '%s' lacks '%s'", r->ext, all);
	if (all)
		ASSERT_NE(NULL, strstr(r->ext, all));
	if (fmt && kernel_formats_extack()) {
		if (!strstr(r->ext, fmt))
			TH_LOG("extack '%s' lacks '%s' (formatted, 6.2+)",
			       r->ext, fmt);
		ASSERT_NE(NULL, strstr(r->ext, fmt));
	}
}

/* A refused stamped change: the extack states the VPN's generation. */
static void expect_gen_refusal(MD, const struct rnl_res *r, int err,
			       uint64_t cur, const char *what)
{
	expect_err(_metadata, r, err, what);
	/* 6.12: "... change 12 is old" / "... skips ahead"; 6.1's fixed texts
	 * say "old" / "skips generations" */
	expect_text(_metadata, r, err == EALREADY ? "old" : "skips", NULL);
	if (kernel_formats_extack()) {
		if (!strstr(r->ext, "generation") || !has_number(r->ext, cur))
			TH_LOG("extack '%s' does not state generation %llu",
			       r->ext, (unsigned long long)cur);
		ASSERT_NE(NULL, strstr(r->ext, "generation"));
		ASSERT_TRUE(has_number(r->ext, cur));
	}
	if (rnl_cookie_u64(r) != (int64_t)cur)
		TH_LOG("cookie: %d bytes, %lld; want 8 bytes, %llu",
		       r->cookie_len, (long long)rnl_cookie_u64(r),
		       (unsigned long long)cur);
	ASSERT_EQ(8, r->cookie_len);
	ASSERT_EQ((int64_t)cur, rnl_cookie_u64(r));
}

/* A do's single reply message, then the ACK, nothing else. */
static void expect_do_reply(MD, const struct rnl_res *r, const char *what)
{
	expect_ok(_metadata, r, what);
	ASSERT_EQ(1, r->nmsgs);
	ASSERT_TRUE(r->acked);
	ASSERT_EQ(1, r->ack_after);
	ASSERT_FALSE(r->done_seen);
	ASSERT_FALSE(r->msgs[0].flags & NLM_F_MULTI);
}

/* a VPN reply (vpn-new, vpn-get, vpn-set): the VPN's attributes only */
#define VPN_REPLY_ATTRS	(RNL_A(VPN_ID) | RNL_A(GENERATION) | \
			 RNL_A(MEMBER_COUNT) | RNL_A(CREATE_TIME) | \
			 RNL_A(VPN_FLAGS))

static void check_vflags(MD, const struct rnl_msg *m, uint32_t vflags)
{
	if (vflags) {
		ASSERT_TRUE(m->has_vflags);
	}
	if (m->has_vflags)
		ASSERT_EQ(vflags, m->vflags);
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
	ASSERT_EQ(0, m->nmem);
}

/*
 * The reply of a JOIN or LEAVE (plain do): one message with the request's
 * cmd and exactly vpn-id, generation and member-count; then the ACK.
 */
static void check_change_reply(MD, const struct rnl_res *r, uint8_t cmd,
			       uint32_t vpn, uint64_t gen, uint32_t count)
{
	const struct rnl_msg *m;

	expect_do_reply(_metadata, r, "change reply");
	m = &r->msgs[0];
	if (m->gen != gen || m->count != count)
		TH_LOG("reply: vpn %u generation %llu member-count %u; want vpn %u generation %llu member-count %u",
		       m->vpn, (unsigned long long)m->gen, m->count, vpn,
		       (unsigned long long)gen, count);
	ASSERT_EQ(cmd, m->cmd);
	ASSERT_EQ(RNL_A(VPN_ID) | RNL_A(GENERATION) | RNL_A(MEMBER_COUNT),
		  m->attrs & ~RNL_A(PAD));
	ASSERT_EQ(vpn, m->vpn);
	ASSERT_EQ(gen, m->gen);
	ASSERT_EQ(count, m->count);
	ASSERT_EQ(0, r->total_mems);
}

/* Full member record as it comes back from the kernel. */
static void check_member(MD, const struct rnl_member *got,
			 const struct rnl_member *exp)
{
	char b1[64], b2[64];

	if (!rnl_member_eq(got, exp))
		TH_LOG("member %s differs from expected %s",
		       rnl_id_str(got, b1, sizeof(b1)),
		       rnl_id_str(exp, b2, sizeof(b2)));
	ASSERT_TRUE(rnl_member_eq(got, exp));
	ASSERT_TRUE(got->has_jt);
	ASSERT_TRUE(got->has_jg);
	ASSERT_FALSE(got->bad);
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
		ASSERT_EQ(a->vpns.msgs[i].vflags, b->vpns.msgs[i].vflags);
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
	uint32_t cf;	/* change-flags; 0: the attribute must be absent */
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
		[ROSTER_CMD_VPN_SET] = "vpn-set",
		[ROSTER_CMD_VPN_CHANGED_NTF] = "vpn-changed-ntf",
	};

	if (cmd < ARRAY_LEN(names) && names[cmd])
		return names[cmd];
	return "?";
}

/*
 * Notifications drained early (expect_refused() must see that a refusal
 * adds none) are held here, in order, for the next expect_ntfs() on the
 * same listener.
 */
static struct rnl_res held;
static struct nl_sock *held_mon;

static int hold_ntfs(struct rnl_ctx *c)
{
	if (held_mon != c->mon) {
		rnl_res_free(&held);
		held_mon = c->mon;
	}
	return rnl_drain(c->mon, &held);
}

/*
 * Drain the listener into r (caller inits/frees; held ones first) and
 * compare with the expected (cmd, vpn, generation, change-flags) list,
 * exactly.
 */
static void expect_ntfs(MD, struct rnl_ctx *c, struct rnl_res *r,
			const struct ntf *exp, size_t n)
{
	size_t i;
	int diff = 0;

	ASSERT_EQ(0, hold_ntfs(c));
	rnl_res_free(r);
	*r = held;
	rnl_res_init(&held);
	for (i = 0; i < r->nmsgs && i < n; i++)
		if (r->msgs[i].cmd != exp[i].cmd ||
		    r->msgs[i].vpn != exp[i].vpn ||
		    r->msgs[i].gen != exp[i].gen ||
		    r->msgs[i].cflags != exp[i].cf ||
		    r->msgs[i].has_cflags != !!exp[i].cf)
			diff = 1;
	if (r->nmsgs != n || diff) {
		for (i = 0; i < r->nmsgs; i++)
			TH_LOG("got ntf %zu: %s vpn %u gen %llu change-flags %s%u",
			       i, cmd_name(r->msgs[i].cmd), r->msgs[i].vpn,
			       (unsigned long long)r->msgs[i].gen,
			       r->msgs[i].has_cflags ? "" : "(none) ",
			       r->msgs[i].cflags);
		for (i = 0; i < n; i++)
			TH_LOG("want ntf %zu: %s vpn %u gen %llu change-flags %s%u",
			       i, cmd_name(exp[i].cmd), exp[i].vpn,
			       (unsigned long long)exp[i].gen,
			       exp[i].cf ? "" : "(none) ", exp[i].cf);
	}
	ASSERT_EQ(n, r->nmsgs);
	ASSERT_EQ(0, r->bad);
	for (i = 0; i < n; i++) {
		const struct rnl_msg *m = &r->msgs[i];

		ASSERT_EQ(exp[i].cmd, m->cmd);
		ASSERT_EQ(c->fam, m->type);
		ASSERT_TRUE(m->has_vpn);
		ASSERT_EQ(exp[i].vpn, m->vpn);
		ASSERT_TRUE(m->has_gen);
		ASSERT_EQ(exp[i].gen, m->gen);
		ASSERT_EQ(!!exp[i].cf, m->has_cflags);
		ASSERT_EQ(exp[i].cf, m->cflags);
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

/* Nothing arrived since the last hold_ntfs() (the held ones stay). */
static void expect_no_new_ntf(MD, struct rnl_ctx *c)
{
	struct rnl_res r;
	size_t i;

	rnl_res_init(&r);
	ASSERT_EQ(0, rnl_drain(c->mon, &r));
	for (i = 0; i < r.nmsgs; i++)
		TH_LOG("unexpected ntf: %s vpn %u gen %llu",
		       cmd_name(r.msgs[i].cmd), r.msgs[i].vpn,
		       (unsigned long long)r.msgs[i].gen);
	ASSERT_EQ(0, r.nmsgs);
	rnl_res_free(&r);
}

static void drop_ntfs(MD, struct rnl_ctx *c)
{
	struct rnl_res r;

	if (!c->mon)
		return;
	rnl_res_free(&held);
	rnl_res_init(&r);
	r.nostore_mems = 1;
	r.nostore_msgs = 1;
	ASSERT_EQ(0, rnl_drain(c->mon, &r));
	rnl_res_free(&r);
}

/* ---- requests --------------------------------------------------------- */

static struct rnl_req req_join(uint32_t vpn, const struct rnl_member *m,
			       uint32_t flags, uint64_t gen)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_JOIN, .has_vpn = 1,
			     .vpn = vpn, .m = m, .has_flags = !!flags,
			     .rflags = flags, .has_gen = !!gen, .gen = gen };
	return q;
}

/* idm: the member's id only (rnl_member_id_only) */
static struct rnl_req req_leave(uint32_t vpn, const struct rnl_member *idm,
				uint32_t flags, uint64_t gen)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_LEAVE, .has_vpn = 1,
			     .vpn = vpn, .m = idm, .has_flags = !!flags,
			     .rflags = flags, .has_gen = !!gen, .gen = gen };
	return q;
}

static struct rnl_req req_vpn_new(uint32_t vpn, uint32_t vflags,
				  uint64_t gen)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_NEW, .has_vpn = 1,
			     .vpn = vpn, .has_vflags = !!vflags,
			     .vflags = vflags, .has_gen = !!gen, .gen = gen };
	return q;
}

static struct rnl_req req_vpn_del(uint32_t vpn, uint64_t gen)
{
	struct rnl_req q = { .cmd = ROSTER_CMD_VPN_DEL, .has_vpn = 1,
			     .vpn = vpn, .has_gen = !!gen, .gen = gen };
	return q;
}

/*
 * A request that must be refused with err, leave the table as it was and
 * notify nothing (pending notifications are held for expect_ntfs()). all/fmt: see
 * expect_text(); cookie >= 0: the generation the extack must state (text
 * and cookie). The response goes to *out if given (caller frees).
 */
static void expect_refused(MD, struct rnl_ctx *c, const struct rnl_req *q,
			   int err, const char *all, const char *fmt,
			   int64_t cookie, const char *what,
			   struct rnl_res *out)
{
	struct snap a, b;
	struct rnl_res r;

	if (c->mon)
		ASSERT_EQ(0, hold_ntfs(c));
	snap_take(_metadata, c, &a);
	rnl_res_init(&r);
	rnl_request(c->sk, c->fam, q, &r);
	if (cookie >= 0)
		expect_gen_refusal(_metadata, &r, err, cookie, what);
	else
		expect_err(_metadata, &r, err, what);
	expect_text(_metadata, &r, all, fmt);
	snap_take(_metadata, c, &b);
	snap_same(_metadata, &a, &b);
	if (c->mon)
		expect_no_new_ntf(_metadata, c);
	snap_free(&a);
	snap_free(&b);
	if (out)
		*out = r;
	else
		rnl_res_free(&r);
}

/* ---- small operations that must succeed ------------------------------- */

static void ok_vpn_new_ex(MD, struct rnl_ctx *c, uint32_t vpn,
			  uint32_t vflags, uint64_t gen)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_vpn_new_ex(c, vpn, vflags, gen, &r);
	expect_do_reply(_metadata, &r, "vpn-new");
	ASSERT_EQ(ROSTER_CMD_VPN_NEW, r.msgs[0].cmd);
	ASSERT_EQ(0, r.msgs[0].attrs & ~(VPN_REPLY_ATTRS | RNL_A(PAD)));
	check_vpn_msg(_metadata, &r.msgs[0], vpn, gen ? gen : 1, 0);
	check_vflags(_metadata, &r.msgs[0], vflags);
	rnl_res_free(&r);
}

static void ok_vpn_new(MD, struct rnl_ctx *c, uint32_t vpn)
{
	ok_vpn_new_ex(_metadata, c, vpn, 0, 0);
}

/* Join; the reply is the VPN's new generation and member count. */
static void ok_join_ex(MD, struct rnl_ctx *c, uint32_t vpn,
		       const struct rnl_member *m, uint32_t flags,
		       uint64_t stamp, uint64_t gen, uint32_t count)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_join_ex(c, vpn, m, flags, stamp, &r);
	check_change_reply(_metadata, &r, ROSTER_CMD_MEMBER_JOIN, vpn, gen,
			   count);
	rnl_res_free(&r);
}

static void ok_join(MD, struct rnl_ctx *c, uint32_t vpn,
		    const struct rnl_member *m, uint64_t gen, uint32_t count)
{
	ok_join_ex(_metadata, c, vpn, m, 0, 0, gen, count);
}

static void ok_leave_ex(MD, struct rnl_ctx *c, uint32_t vpn,
			const struct rnl_member *m, uint32_t flags,
			uint64_t stamp, uint64_t gen, uint32_t count)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_leave_ex(c, vpn, m, 0, 0, flags, stamp, &r);
	check_change_reply(_metadata, &r, ROSTER_CMD_MEMBER_LEAVE, vpn, gen,
			   count);
	rnl_res_free(&r);
}

static void ok_vpn_del_ex(MD, struct rnl_ctx *c, uint32_t vpn,
			  uint64_t stamp)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_vpn_del_ex(c, vpn, stamp, &r);
	expect_ok(_metadata, &r, "vpn-del");
	ASSERT_TRUE(r.acked);
	ASSERT_EQ(0, r.nmsgs);
	rnl_res_free(&r);
}

static void get_vpn(MD, struct rnl_ctx *c, uint32_t vpn, struct rnl_msg *out)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_vpn_get(c, vpn, &r);
	expect_do_reply(_metadata, &r, "vpn-get");
	ASSERT_EQ(ROSTER_CMD_VPN_GET, r.msgs[0].cmd);
	ASSERT_EQ(0, r.msgs[0].attrs & ~(VPN_REPLY_ATTRS | RNL_A(PAD)));
	*out = r.msgs[0];
	rnl_res_free(&r);
}

/*
 * The member set of one VPN, as a controller reads it for a JOIN message:
 * a MEMBER_GET dump filtered by vpn-id. Every message carries vpn-id, the
 * generation and one member. exp[0..n) in dump (join) order if ordered,
 * else as a set.
 */
static void check_dump_set(MD, struct rnl_ctx *c, uint32_t vpn, uint64_t gen,
			   const struct rnl_member *exp, size_t n, int ordered)
{
	struct rnl_res r;
	size_t i, j, found;

	rnl_res_init(&r);
	rnl_member_dump(c, vpn, &r);
	expect_ok(_metadata, &r, "member dump");
	ASSERT_TRUE(r.done_seen);
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(n, r.nmsgs);
	ASSERT_EQ(n, r.nmems);
	for (i = 0; i < r.nmsgs; i++) {
		const struct rnl_msg *m = &r.msgs[i];

		ASSERT_EQ(ROSTER_CMD_MEMBER_GET, m->cmd);
		ASSERT_TRUE(m->flags & NLM_F_MULTI);
		ASSERT_EQ(RNL_A(VPN_ID) | RNL_A(GENERATION) | RNL_A(MEMBER),
			  m->attrs & ~RNL_A(PAD));
		ASSERT_EQ(vpn, m->vpn);
		ASSERT_EQ(gen, m->gen);
		ASSERT_EQ(1, m->nmem);
	}
	for (i = 0; i < n; i++) {
		if (ordered) {
			check_member(_metadata, &r.mems[i], &exp[i]);
			continue;
		}
		found = 0;
		for (j = 0; j < r.nmems; j++) {
			if (!rnl_id_eq(&exp[i], &r.mems[j]))
				continue;
			found++;
			check_member(_metadata, &r.mems[j], &exp[i]);
		}
		ASSERT_EQ(1, found);
	}
	rnl_res_free(&r);
}

/* ---- per-netns limits (sysctls) --------------------------------------- */

static long read_sysctl(const char *name)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/roster/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

static int write_sysctl(const char *name, const char *val)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/roster/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
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
	struct snap s;

	ASSERT_GT(self->c.fam, GENL_ID_CTRL);
	ASSERT_GT(self->c.grp, 0);
	ASSERT_EQ(ROSTER_FAMILY_VERSION, self->c.version);
	ASSERT_EQ(2, self->c.version);
	/* the table of a fresh netns is empty */
	snap_take(_metadata, &self->c, &s);
	ASSERT_EQ(0, s.vpns.nmsgs);
	ASSERT_EQ(0, s.mems.nmsgs);
	snap_free(&s);
}

/* ---- VPN_NEW / VPN_GET / VPN_DEL -------------------------------------- */

TEST_F(roster, vpn_new_reply_and_ntf)
{
	uint64_t t0 = time(NULL), t1;
	struct rnl_res r, n;
	struct ntf exp[] = { { ROSTER_CMD_VPN_NEW_NTF, 5, 1, 0 } };

	rnl_res_init(&r);
	rnl_vpn_new(&self->c, 5, &r);
	t1 = time(NULL);
	expect_do_reply(_metadata, &r, "vpn-new");
	check_vpn_msg(_metadata, &r.msgs[0], 5, 1, 0);
	check_vflags(_metadata, &r.msgs[0], 0);
	ASSERT_GE(r.msgs[0].ctime + 2, t0);
	ASSERT_LE(r.msgs[0].ctime, t1 + 2);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, 1);
	check_vpn_msg(_metadata, &n.msgs[0], 5, 1, 0);
	check_vflags(_metadata, &n.msgs[0], 0);
	ASSERT_EQ(r.msgs[0].ctime, n.msgs[0].ctime);
	ASSERT_EQ(0, n.total_mems);
	rnl_res_free(&n);
	rnl_res_free(&r);
}

TEST_F(roster, vpn_new_twice_eexist)
{
	struct rnl_req q = req_vpn_new(5, 0, 0);

	ok_vpn_new(_metadata, &self->c, 5);
	expect_refused(_metadata, &self->c, &q, EEXIST, NULL, NULL, -1,
		       "vpn-new twice", NULL);
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
	ok_join(_metadata, &self->c, 7, &m, 2, 1);

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
		check_vflags(_metadata, &r.msgs[i], 0);
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
	struct ntf exp[] = { { ROSTER_CMD_VPN_DEL_NTF, 3, 4, 0 } };
	struct rnl_member m;
	struct rnl_res r, n;
	struct snap s;

	ok_vpn_new(_metadata, &self->c, 2);
	ok_vpn_new(_metadata, &self->c, 3);
	rnl_member_make(&m, 1, 0, 0);
	ok_join(_metadata, &self->c, 3, &m, 2, 1);
	rnl_member_make(&m, 2, 1, 0);
	ok_join(_metadata, &self->c, 3, &m, 3, 2);
	drop_ntfs(_metadata, &self->c);

	ok_vpn_del_ex(_metadata, &self->c, 3, 0);

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
	ASSERT_TRUE(r.err_in_done);
	rnl_res_free(&r);

	rnl_res_init(&r);
	rnl_vpn_del(&self->c, 3, &r);
	expect_err(_metadata, &r, ENOENT, "vpn-del again");
	rnl_res_free(&r);
	expect_no_ntf(_metadata, &self->c);
}

TEST_F(roster, vpn_del_unknown_enoent)
{
	struct rnl_req q = req_vpn_del(2, 0);

	ok_vpn_new(_metadata, &self->c, 1);
	expect_refused(_metadata, &self->c, &q, ENOENT, NULL, NULL, -1,
		       "vpn-del unknown", NULL);
}

/* ---- MEMBER_JOIN ------------------------------------------------------ */

TEST_F(roster, join_creates_vpn)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 1, 0 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 2, 0 },
	};
	uint64_t t0 = time(NULL);
	struct rnl_member m;
	struct rnl_res n;
	struct rnl_msg v;

	rnl_member_make(&m, 4, 0, 0);	/* endpoint-less, with prefixes */
	ok_join(_metadata, &self->c, 7, &m, 2, 1);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, 2);
	ASSERT_EQ(0, n.msgs[0].nmem);
	ASSERT_TRUE(n.msgs[0].has_count);
	ASSERT_EQ(0, n.msgs[0].count);
	check_vflags(_metadata, &n.msgs[0], 0);
	ASSERT_EQ(1, n.msgs[1].nmem);
	ASSERT_EQ(1, n.nmems);
	check_member(_metadata, &n.mems[0], &m);
	ASSERT_EQ(2, n.mems[0].jg);
	ASSERT_GE(n.mems[0].jt + 2, t0);
	rnl_res_free(&n);

	get_vpn(_metadata, &self->c, 7, &v);
	check_vpn_msg(_metadata, &v, 7, 2, 1);
	check_dump_set(_metadata, &self->c, 7, 2, &m, 1, 1);
}

/*
 * Join N members one by one: the k-th JOIN reply is the generation and the
 * member count after it (no members), the notification is exactly the
 * joined member, generations are consecutive, and the JOIN message's set
 * (the filtered dump) is exactly the members so far, in join order.
 */
TEST_F(roster, join_reply_is_plain_do)
{
	enum { N = 12 };
	struct rnl_member model[N];
	struct rnl_res n;
	struct ntf exp;
	int k;

	ok_vpn_new(_metadata, &self->c, 9);
	drop_ntfs(_metadata, &self->c);
	for (k = 0; k < N; k++) {
		/* alternate v4 / v6 ids; endpoints and prefixes vary */
		rnl_member_make(&model[k], 100 + k, k & 1, 0);
		ok_join(_metadata, &self->c, 9, &model[k], 2 + k, k + 1);

		exp.cmd = ROSTER_CMD_MEMBER_JOINED_NTF;
		exp.vpn = 9;
		exp.gen = 2 + k;
		exp.cf = 0;
		rnl_res_init(&n);
		expect_ntfs(_metadata, &self->c, &n, &exp, 1);
		ASSERT_EQ(1, n.nmems);
		check_member(_metadata, &n.mems[0], &model[k]);
		ASSERT_EQ(2 + k, n.mems[0].jg);
		rnl_res_free(&n);

		check_dump_set(_metadata, &self->c, 9, 2 + k, model, k + 1, 1);
	}
}

TEST_F(roster, rejoin_updates_member)
{
	struct ntf exp[] = { { ROSTER_CMD_MEMBER_UPDATED_NTF, 1, 5, 0 } };
	struct rnl_member a, b, c2, a2;
	struct rnl_res r, n;
	struct rnl_msg v;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 1, 0);
	rnl_member_make(&c2, 3, 0, 0);
	ok_join(_metadata, &self->c, 1, &a, 2, 1);
	ok_join(_metadata, &self->c, 1, &b, 3, 2);
	ok_join(_metadata, &self->c, 1, &c2, 4, 3);
	drop_ntfs(_metadata, &self->c);

	/* same id, new key, endpoint and prefixes */
	rnl_member_make(&a2, 1, 0, 7);
	a2.ep_len = 4;
	memcpy(a2.ep, "\xc6\x33\x64\x07", 4);
	a2.has_port = 1;
	a2.port = 4242;
	a2.npfx = 1;
	rnl_set_pfx(&a2.pfx[0], "10.99.0.0/16");
	ASSERT_FALSE(rnl_member_eq(&a, &a2));

	/* a replace: the count stays */
	ok_join(_metadata, &self->c, 1, &a2, 5, 3);

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
	ASSERT_EQ(RNL_A(VPN_ID) | RNL_A(GENERATION) | RNL_A(MEMBER),
		  r.msgs[0].attrs & ~RNL_A(PAD));
	ASSERT_EQ(1, r.nmems);
	check_member(_metadata, &r.mems[0], &a2);
	ASSERT_EQ(5, r.msgs[0].gen);
	rnl_res_free(&r);

	/* still 3 members, and the updated one keeps its dump position */
	get_vpn(_metadata, &self->c, 1, &v);
	check_vpn_msg(_metadata, &v, 1, 5, 3);
	{
		struct rnl_member all[3] = { a2, b, c2 };

		check_dump_set(_metadata, &self->c, 1, 5, all, 3, 1);
	}
}

TEST_F(roster, rejoin_create_only_eexist)
{
	struct rnl_member a, a2;
	struct rnl_req q;
	struct snap s;

	rnl_member_make(&a, 1, 0, 0);
	ok_join(_metadata, &self->c, 1, &a, 2, 1);

	rnl_member_make(&a2, 1, 0, 9);
	q = req_join(1, &a2, F_CO, 0);
	expect_refused(_metadata, &self->c, &q, EEXIST, NULL, NULL, -1,
		       "join create-only existing", NULL);
	snap_take(_metadata, &self->c, &s);
	ASSERT_EQ(1, s.mems.nmems);
	check_member(_metadata, &s.mems.mems[0], &a);
	snap_free(&s);

	/* create-only with a new member is a plain join */
	rnl_member_make(&a2, 2, 0, 0);
	ok_join_ex(_metadata, &self->c, 1, &a2, F_CO, 0, 3, 2);
}

/* ---- MEMBER_LEAVE ----------------------------------------------------- */

TEST_F(roster, leave_reply_and_reasons)
{
	static const struct {
		int idx, has_reason;
		uint32_t reason;
	} steps[] = {
		{ 1, 0, 0 },				/* default: requested */
		{ 3, 1, ROSTER_LEAVE_REASON_ADMIN },
		{ 0, 1, ROSTER_LEAVE_REASON_EXPIRED },
		{ 2, 1, ROSTER_LEAVE_REASON_REQUESTED },	/* the last */
	};
	struct rnl_member m[4];
	int gone[4] = { 0 };
	struct rnl_res r, n;
	struct rnl_msg v;
	struct ntf exp;
	int i;

	for (i = 0; i < 4; i++) {
		rnl_member_make(&m[i], 10 + i, i == 2, 0);
		ok_join(_metadata, &self->c, 1, &m[i], 2 + i, i + 1);
	}
	drop_ntfs(_metadata, &self->c);	/* gen is 5 now */

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
		check_change_reply(_metadata, &r, ROSTER_CMD_MEMBER_LEAVE, 1,
				   6 + i, nrest);
		rnl_res_free(&r);

		exp.cmd = ROSTER_CMD_MEMBER_LEFT_NTF;
		exp.vpn = 1;
		exp.gen = 6 + i;
		exp.cf = 0;
		rnl_res_init(&n);
		expect_ntfs(_metadata, &self->c, &n, &exp, 1);
		ASSERT_TRUE(n.msgs[0].has_reason);
		ASSERT_EQ(steps[i].reason, n.msgs[0].reason);
		ASSERT_EQ(1, n.nmems);
		ASSERT_TRUE(rnl_id_eq(&n.mems[0], &m[steps[i].idx]));
		rnl_res_free(&n);

		check_dump_set(_metadata, &self->c, 1, 6 + i, rest, nrest, 0);
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
	struct ntf exp1[] = { { ROSTER_CMD_MEMBER_LEFT_NTF, 4, 4, 0 } };
	struct ntf exp2[] = {
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 4, 5, 0 },
		{ ROSTER_CMD_VPN_DEL_NTF, 4, 6, 0 },
	};
	struct rnl_member a, b;
	struct rnl_res r, n;
	struct snap s;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	ok_join(_metadata, &self->c, 4, &a, 2, 1);
	ok_join(_metadata, &self->c, 4, &b, 3, 2);
	ok_vpn_new(_metadata, &self->c, 5);
	drop_ntfs(_metadata, &self->c);

	/* not the last member: flag has no effect */
	ok_leave_ex(_metadata, &self->c, 4, &a, F_DE, 0, 4, 1);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp1, 1);
	rnl_res_free(&n);

	/* the last one: the VPN goes too */
	rnl_res_init(&r);
	rnl_leave(&self->c, 4, &b, 1, ROSTER_LEAVE_REASON_ADMIN, F_DE, &r);
	check_change_reply(_metadata, &r, ROSTER_CMD_MEMBER_LEAVE, 4, 5, 0);
	rnl_res_free(&r);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp2, 2);
	ASSERT_EQ(ROSTER_LEAVE_REASON_ADMIN, n.msgs[0].reason);
	ASSERT_TRUE(rnl_id_eq(&n.mems[0], &b));
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
	rnl_leave(&self->c, 5, &a, 0, 0, F_DE, &r);
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
		ok_join(_metadata, &self->c, 2, &m1[i], 2 + i, i + 1);
	}
	for (i = 0; i < 2; i++) {
		/* same ids and prefixes as in VPN 2: tables are per VPN */
		rnl_member_make(&m2[i], 20 + i, 0, 3);
		ok_join(_metadata, &self->c, 1, &m2[i], 2 + i, i + 1);
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
	check_dump_set(_metadata, &self->c, 2, 4, m1, 3, 1);

	/* unfiltered: VPNs ascending, members in join order */
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 0, &r);
	expect_ok(_metadata, &r, "member dump all");
	ASSERT_EQ(5, r.nmsgs);
	ASSERT_EQ(5, r.nmems);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, r.msgs[i].vpn);
		ASSERT_EQ(3, r.msgs[i].gen);
		check_member(_metadata, &r.mems[i], &m2[i]);
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(2, r.msgs[2 + i].vpn);
		ASSERT_EQ(4, r.msgs[2 + i].gen);
		check_member(_metadata, &r.mems[2 + i], &m1[i]);
	}
	rnl_res_free(&r);

	/* unknown member, unknown VPN, unknown filter */
	rnl_member_make(&x, 99, 0, 0);
	rnl_res_init(&r);
	rnl_member_get(&self->c, 2, &x, &r);
	expect_err(_metadata, &r, ENOENT, "member-get unknown id");
	rnl_res_free(&r);
	rnl_res_init(&r);
	rnl_member_get(&self->c, 3, &m1[0], &r);
	expect_err(_metadata, &r, ENOENT, "member-get unknown vpn");
	rnl_res_free(&r);
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 3, &r);
	expect_err(_metadata, &r, ENOENT, "member dump unknown vpn");
	ASSERT_TRUE(r.err_in_done);
	rnl_res_free(&r);
}

/* ---- pipelined joins (set-up of the larger tests) ---------------------- */

struct pjoin {
	uint32_t vpn;
	unsigned int base;	/* member index of request 0 */
	uint32_t flags;
	uint64_t stamp;		/* 0: unstamped */
	uint64_t gen0;		/* generation of request 0's reply */
	int gen_fixed;		/* every reply at gen0 (a resync) */
	uint32_t count0;	/* member count after request 0 */
	int restore;		/* join-time / join-generation per member */
	int no_ack;
	size_t bad_at;		/* first failed request, or SIZE_MAX */
	char why[512];
	size_t n;		/* > 0: log the rate every n / 10 requests */
	double t0, tb;
};

static uint64_t restore_jg(size_t idx)
{
	return 1 + idx;
}

static uint64_t restore_jt(size_t idx)
{
	return 1600000000ull + idx * 3;
}

static void pjoin_fill(size_t i, struct rnl_req *q, struct rnl_member *m,
		       void *priv)
{
	struct pjoin *p = priv;

	rnl_member_make(m, p->base + i, 0, 0);
	if (p->restore) {
		m->has_jg = 1;
		m->jg = restore_jg(p->base + i);
		m->has_jt = 1;
		m->jt = restore_jt(p->base + i);
	}
	*q = req_join(p->vpn, m, p->flags, p->stamp);
	q->no_ack = p->no_ack;
}

static int pjoin_done(size_t i, const struct rnl_res *r, void *priv)
{
	struct pjoin *p = priv;
	uint64_t gen = p->gen_fixed ? p->gen0 : p->gen0 + i;
	const struct rnl_msg *m = r->nmsgs == 1 ? &r->msgs[0] : NULL;

	if (r->err || r->bad || !m || m->cmd != ROSTER_CMD_MEMBER_JOIN ||
	    m->gen != gen || m->count != p->count0 + i || m->nmem ||
	    (!p->no_ack && (!r->acked || r->ack_after != 1))) {
		snprintf(p->why, sizeof(p->why),
			 "join %zu: err %d (%s) extack '%s' msgs %zu gen %llu (want %llu) count %u (want %zu) acked %d",
			 i, r->err, strerror(-r->err), r->ext, r->nmsgs,
			 m ? (unsigned long long)m->gen : 0ull,
			 (unsigned long long)gen, m ? m->count : 0,
			 p->count0 + i, r->acked);
		p->bad_at = i;
		return 1;
	}
	if (p->n >= 10 && (i + 1) % (p->n / 10) == 0) {
		double t = now_s();

		fprintf(stderr, "# %zu joins in %.2f s (last %zu: %.0f joins/s)\n",
			i + 1, t - p->t0, p->n / 10, (p->n / 10) / (t - p->tb));
		p->tb = t;
	}
	return 0;
}

/* n unstamped joins of members base.. into vpn, pipelined */
static void pipe_joins(MD, struct rnl_ctx *c, uint32_t vpn, unsigned int base,
		       size_t n, uint64_t gen0, uint32_t count0)
{
	struct pjoin p = { .vpn = vpn, .base = base, .gen0 = gen0,
			   .count0 = count0, .bad_at = SIZE_MAX };
	int ret;

	ret = rnl_pipeline(c->sk, c->fam, n, 256, 32, pjoin_fill, pjoin_done,
			   &p);
	if (ret)
		TH_LOG("pipeline: %d (%s) %s", ret,
		       ret < 0 ? strerror(-ret) : "", p.why);
	ASSERT_EQ(0, ret);
}

/* A member dump far larger than one message buffer: every member once. */
TEST_F_TIMEOUT(roster, member_dump_many_parts, 120)
{
	enum { N = 400 };
	char seen[N] = { 0 };
	struct rnl_res r;
	size_t i;

	nl_socket_free(self->c.mon);
	self->c.mon = NULL;
	rnl_set_rcvbuf(self->c.sk, 8 << 20);
	ok_vpn_new(_metadata, &self->c, 3);
	pipe_joins(_metadata, &self->c, 3, 0, N, 2, 1);

	rnl_res_init(&r);
	rnl_member_dump(&self->c, 3, &r);
	expect_ok(_metadata, &r, "member dump");
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(N, r.nmsgs);
	ASSERT_EQ(N, r.nmems);
	for (i = 0; i < r.nmems; i++) {
		long idx = rnl_id_idx(&r.mems[i]);
		struct rnl_member want;

		ASSERT_EQ(1 + N, r.msgs[i].gen);
		ASSERT_TRUE(idx >= 0 && idx < N && r.mems[i].id_len == 4);
		ASSERT_EQ(0, seen[idx]);
		seen[idx] = 1;
		rnl_member_make(&want, idx, 0, 0);
		check_member(_metadata, &r.mems[i], &want);
		ASSERT_EQ(2 + idx, r.mems[i].jg);
	}
	rnl_res_free(&r);
}

/* ---- notifications: one per change, nothing for failures ------------- */

TEST_F(roster, notifications_exact_sequence)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 1, 1, 0 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 1, 2, 0 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 1, 3, 0 },
		{ ROSTER_CMD_MEMBER_UPDATED_NTF, 1, 4, 0 },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 1, 5, 0 },
		{ ROSTER_CMD_VPN_NEW_NTF, 2, 1, 0 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 2, 2, 0 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 2, 3, 0 },
		{ ROSTER_CMD_VPN_DEL_NTF, 1, 6, 0 },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 2, 4, 0 },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 2, 5, 0 },
		{ ROSTER_CMD_VPN_DEL_NTF, 2, 6, 0 },
		{ ROSTER_CMD_VPN_NEW_NTF, 3, 1, 0 },
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
	STEP(rnl_leave(&self->c, 2, &c3, 1, 1, F_DE, &r), 0);
	STEP(rnl_leave(&self->c, 2, &a, 1, 2, F_DE, &r), 0);
	STEP(rnl_leave(&self->c, 2, &a, 0, 0, 0, &r), ENOENT);
	STEP(rnl_vpn_get(&self->c, 2, &r), ENOENT);
	STEP(rnl_vpn_new(&self->c, 3, &r), 0);
	STEP(rnl_vpn_dump(&self->c, &r), 0);			/* reads: none */
	STEP(rnl_member_dump(&self->c, 0, &r), 0);
	STEP(rnl_vpn_get(&self->c, 3, &r), 0);
#undef STEP

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	/* reasons on the left notifications */
	ASSERT_EQ(ROSTER_LEAVE_REASON_REQUESTED, n.msgs[4].reason);
	ASSERT_EQ(ROSTER_LEAVE_REASON_ADMIN, n.msgs[9].reason);
	ASSERT_EQ(ROSTER_LEAVE_REASON_EXPIRED, n.msgs[10].reason);
	rnl_res_free(&n);
}

/* ---- plain-do ACK semantics ------------------------------------------- */

/* A do: with NLM_F_ACK one reply then one ACK; without, the reply only. */
static void do_both_ways(MD, struct rnl_ctx *c, struct rnl_req *q,
			 uint8_t reply_cmd, const char *what)
{
	struct rnl_res r;

	q->no_ack = 0;
	rnl_res_init(&r);
	rnl_request(c->sk, c->fam, q, &r);
	expect_do_reply(_metadata, &r, what);
	ASSERT_EQ(reply_cmd, r.msgs[0].cmd);
	ASSERT_EQ(0, r.err);
	rnl_res_free(&r);
	TH_LOG("%s with NLM_F_ACK: one reply, then the ACK", what);
}

static void do_no_ack(MD, struct rnl_ctx *c, struct rnl_req *q,
		      uint8_t reply_cmd, const char *what)
{
	struct rnl_res r;

	q->no_ack = 1;
	rnl_res_init(&r);
	rnl_request(c->sk, c->fam, q, &r);
	expect_ok(_metadata, &r, what);
	ASSERT_EQ(1, r.nmsgs);
	ASSERT_EQ(reply_cmd, r.msgs[0].cmd);
	ASSERT_FALSE(r.acked);
	ASSERT_FALSE(r.done_seen);
	ASSERT_FALSE(r.msgs[0].flags & NLM_F_MULTI);
	ASSERT_EQ(0, r.stray);	/* no ACK, no NLMSG_DONE behind it */
	rnl_res_free(&r);
	TH_LOG("%s without NLM_F_ACK: the reply only", what);
}

TEST_F(roster, do_ack_semantics)
{
	struct rnl_member a, b, aid;
	struct rnl_req q;
	struct rnl_res r;
	int seq;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	rnl_member_id_only(&aid, &a);

	q = req_vpn_new(1, 0, 0);
	do_both_ways(_metadata, &self->c, &q, ROSTER_CMD_VPN_NEW, "vpn-new");
	q = req_vpn_new(2, 0, 0);
	do_no_ack(_metadata, &self->c, &q, ROSTER_CMD_VPN_NEW, "vpn-new");
	q = req_join(1, &a, 0, 0);
	do_both_ways(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_JOIN, "join");
	q = req_join(1, &b, 0, 0);
	do_no_ack(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_JOIN, "join");
	q = req_join(1, &b, 0, 0);	/* replace */
	do_no_ack(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_JOIN,
		  "join (replace)");
	q = (struct rnl_req){ .cmd = ROSTER_CMD_VPN_GET, .has_vpn = 1,
			      .vpn = 1 };
	do_both_ways(_metadata, &self->c, &q, ROSTER_CMD_VPN_GET, "vpn-get");
	do_no_ack(_metadata, &self->c, &q, ROSTER_CMD_VPN_GET, "vpn-get");
	q = (struct rnl_req){ .cmd = ROSTER_CMD_MEMBER_GET, .has_vpn = 1,
			      .vpn = 1, .m = &aid };
	do_both_ways(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_GET,
		     "member-get");
	do_no_ack(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_GET,
		  "member-get");
	q = req_leave(1, &aid, 0, 0);
	do_no_ack(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_LEAVE, "leave");
	rnl_member_id_only(&aid, &b);
	q = req_leave(1, &aid, 0, 0);
	do_both_ways(_metadata, &self->c, &q, ROSTER_CMD_MEMBER_LEAVE,
		     "leave");

	/* an error comes without NLM_F_ACK too (and only the error) */
	q = req_leave(1, &aid, 0, 0);
	q.no_ack = 1;
	rnl_res_init(&r);
	rnl_request(self->c.sk, self->c.fam, &q, &r);
	expect_err(_metadata, &r, ENOENT, "leave unknown, no NLM_F_ACK");
	rnl_res_free(&r);

	/* VPN_DEL has no reply: the ACK alone, or nothing at all */
	ok_vpn_del_ex(_metadata, &self->c, 1, 0);
	q = req_vpn_del(2, 0);
	q.no_ack = 1;
	seq = rnl_send(self->c.sk, self->c.fam, &q);
	ASSERT_GT(seq, 0);
	usleep(200 * 1000);
	ASSERT_EQ(0, rnl_discard(self->c.sk));
	rnl_res_init(&r);
	rnl_vpn_get(&self->c, 2, &r);
	expect_err(_metadata, &r, ENOENT, "vpn 2 deleted without NLM_F_ACK");
	rnl_res_free(&r);
}

/* NLM_F_EXCL (and the other "new request" flags) are the core's to refuse */
TEST_F(roster, nlm_flags_rejected_by_core)
{
	static const struct {
		int flags;
		const char *name;
	} fl[] = {
		{ NLM_F_EXCL, "NLM_F_EXCL" },
		{ NLM_F_REPLACE, "NLM_F_REPLACE" },
		{ NLM_F_CREATE, "NLM_F_CREATE" },
		{ NLM_F_APPEND, "NLM_F_APPEND" },
	};
	struct rnl_member a, b, aid;
	struct rnl_req q;
	size_t i;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	rnl_member_id_only(&aid, &a);
	ok_join(_metadata, &self->c, 1, &a, 2, 1);
	for (i = 0; i < ARRAY_LEN(fl); i++) {
		TH_LOG("%s", fl[i].name);
		q = req_join(1, &b, 0, 0);	/* a new member */
		q.flags = fl[i].flags;
		expect_refused(_metadata, &self->c, &q, EINVAL,
			       CORE_FLAGS_TEXT, NULL, -1, "join", NULL);
		q = req_join(1, &a, 0, 0);	/* an existing one */
		q.flags = fl[i].flags;
		expect_refused(_metadata, &self->c, &q, EINVAL,
			       CORE_FLAGS_TEXT, NULL, -1, "rejoin", NULL);
		q = req_vpn_new(2, 0, 0);
		q.flags = fl[i].flags;
		expect_refused(_metadata, &self->c, &q, EINVAL,
			       CORE_FLAGS_TEXT, NULL, -1, "vpn-new", NULL);
		q = req_leave(1, &aid, 0, 0);
		q.flags = fl[i].flags;
		expect_refused(_metadata, &self->c, &q, EINVAL,
			       CORE_FLAGS_TEXT, NULL, -1, "leave", NULL);
	}
}

/* ---- stamped changes -------------------------------------------------- */

TEST_F(roster, stamped_in_order_applies)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 5, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 6, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 7, CF_S },
		{ ROSTER_CMD_MEMBER_UPDATED_NTF, 7, 8, CF_S },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 7, 9, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 10, 0 },
		{ ROSTER_CMD_VPN_DEL_NTF, 7, 11, CF_S },
	};
	struct rnl_member a, b, a2, c3;
	struct rnl_res n;
	struct rnl_msg v;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 1, 0);
	rnl_member_make(&a2, 1, 0, 3);
	rnl_member_make(&c3, 3, 0, 0);

	/* created at the stamped generation, not 1 */
	ok_vpn_new_ex(_metadata, &self->c, 7, 0, 5);
	get_vpn(_metadata, &self->c, 7, &v);
	check_vpn_msg(_metadata, &v, 7, 5, 0);
	ok_join_ex(_metadata, &self->c, 7, &a, 0, 6, 6, 1);
	ok_join_ex(_metadata, &self->c, 7, &b, 0, 7, 7, 2);
	ok_join_ex(_metadata, &self->c, 7, &a2, 0, 8, 8, 2);
	ok_leave_ex(_metadata, &self->c, 7, &b, 0, 9, 9, 1);
	/* a VPN that is not a follower takes unstamped changes too */
	ok_join(_metadata, &self->c, 7, &c3, 10, 2);
	{
		struct rnl_member all[2] = { a2, c3 };

		check_dump_set(_metadata, &self->c, 7, 10, all, 2, 1);
	}
	ok_vpn_del_ex(_metadata, &self->c, 7, 11);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	check_vpn_msg(_metadata, &n.msgs[0], 7, 5, 0);
	ASSERT_EQ(6, n.mems[0].jg);	/* a */
	ASSERT_EQ(8, n.mems[2].jg);	/* a2 */
	rnl_res_free(&n);
}

TEST_F(roster, stamped_old_duplicate_gap_refused)
{
	struct rnl_member a, b, c3, aid;
	struct rnl_req q;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	rnl_member_make(&c3, 3, 0, 0);
	rnl_member_id_only(&aid, &a);
	ok_vpn_new_ex(_metadata, &self->c, 7, 0, 5);
	ok_join_ex(_metadata, &self->c, 7, &a, 0, 6, 6, 1);
	ok_join_ex(_metadata, &self->c, 7, &b, 0, 7, 7, 2);
	ok_join(_metadata, &self->c, 7, &b, 8, 2);	/* now at 8 */

	/* join: duplicate (8 == 8), old (3 < 8), gap (10 > 9) */
	q = req_join(7, &c3, 0, 8);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "stamped join, duplicate", NULL);
	q = req_join(7, &c3, 0, 3);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "stamped join, old", NULL);
	q = req_join(7, &c3, 0, 10);
	expect_refused(_metadata, &self->c, &q, ESTALE, NULL, NULL, 8,
		       "stamped join, gap", NULL);
	q = req_join(7, &c3, 0, UINT64_MAX);
	expect_refused(_metadata, &self->c, &q, ESTALE, NULL, NULL, 8,
		       "stamped join, far gap", NULL);
	/* a replace is a change like any other */
	q = req_join(7, &a, 0, 8);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "stamped rejoin, duplicate", NULL);
	/* leave */
	q = req_leave(7, &aid, 0, 8);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "stamped leave, duplicate", NULL);
	q = req_leave(7, &aid, 0, 11);
	expect_refused(_metadata, &self->c, &q, ESTALE, NULL, NULL, 8,
		       "stamped leave, gap", NULL);
	/* vpn-del */
	q = req_vpn_del(7, 7);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "stamped vpn-del, old", NULL);
	q = req_vpn_del(7, 12);
	expect_refused(_metadata, &self->c, &q, ESTALE, NULL, NULL, 8,
		       "stamped vpn-del, gap", NULL);
	/* resync: anything at or after the current generation, not before */
	q = req_join(7, &c3, F_RS, 7);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "resync join, old", NULL);
	q = req_leave(7, &aid, F_RS, 1);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "resync leave, old", NULL);
	/* the generation check comes first: a stamped leave of nobody */
	rnl_member_id_only(&aid, &c3);
	q = req_leave(7, &aid, 0, 8);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 8,
		       "stamped leave of an unknown member, old", NULL);

	/* and the next one applies */
	ok_join_ex(_metadata, &self->c, 7, &c3, 0, 9, 9, 3);
}

TEST_F(roster, stamped_needs_existing_vpn)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 8, 40, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 8, 41, CF_S },
	};
	struct rnl_member a, aid;
	struct rnl_req q;
	struct rnl_res n;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_id_only(&aid, &a);
	q = req_join(8, &a, 0, 2);
	expect_refused(_metadata, &self->c, &q, ENOENT, NULL, NULL, -1,
		       "stamped join, no VPN", NULL);
	q = req_join(8, &a, F_RS, 2);
	expect_refused(_metadata, &self->c, &q, ENOENT, NULL, NULL, -1,
		       "resync join, no VPN", NULL);
	q = req_leave(8, &aid, 0, 2);
	expect_refused(_metadata, &self->c, &q, ENOENT, NULL, NULL, -1,
		       "stamped leave, no VPN", NULL);
	q = req_vpn_del(8, 2);
	expect_refused(_metadata, &self->c, &q, ENOENT, NULL, NULL, -1,
		       "stamped vpn-del, no VPN", NULL);

	ok_vpn_new_ex(_metadata, &self->c, 8, 0, 40);
	/* a VPN that exists is EEXIST, stamped or not */
	q = req_vpn_new(8, 0, 41);
	expect_refused(_metadata, &self->c, &q, EEXIST, NULL, NULL, -1,
		       "stamped vpn-new, exists", NULL);
	ok_join_ex(_metadata, &self->c, 8, &a, 0, 41, 41, 1);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	rnl_res_free(&n);
}

/*
 * A follower at generation 15 catches up to the leader's 20 by difference:
 * every change stamped 20 with RESYNC. Exactly one notification per
 * changed member, each stamped 20 and flagged resync; none for unchanged
 * members; the VPN is never deleted nor re-created.
 */
TEST_F(roster, resync_by_difference)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_MEMBER_UPDATED_NTF, 5, 20, CF_SR },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 5, 20, CF_SR },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 5, 20, CF_SR },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 5, 20, CF_SR },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 5, 20, CF_SR },
		{ ROSTER_CMD_MEMBER_UPDATED_NTF, 5, 21, CF_S },
	};
	struct rnl_member m[8], m2new, want[6];
	struct rnl_msg v, v0;
	struct rnl_res n;
	struct rnl_req q;
	int i;

	for (i = 1; i <= 7; i++)
		rnl_member_make(&m[i], i, i == 4, 0);
	ok_vpn_new_ex(_metadata, &self->c, 5, VF_FOL, 10);
	get_vpn(_metadata, &self->c, 5, &v0);
	/* in order: 11..15 */
	for (i = 1; i <= 5; i++)
		ok_join_ex(_metadata, &self->c, 5, &m[i], 0, 10 + i, 10 + i,
			   i);
	drop_ntfs(_metadata, &self->c);

	/*
	 * The leader at 20 holds m1 (unchanged), m2' (replaced at 17), m4
	 * (unchanged), m6 (joined 18), m7 (joined 19); m3 and m5 left.
	 */
	rnl_member_make(&m2new, 2, 0, 9);
	ok_join_ex(_metadata, &self->c, 5, &m2new, F_RS, 20, 20, 5);
	ok_leave_ex(_metadata, &self->c, 5, &m[3], F_RS, 20, 20, 4);
	ok_join_ex(_metadata, &self->c, 5, &m[6], F_RS, 20, 20, 5);
	ok_leave_ex(_metadata, &self->c, 5, &m[5], F_RS, 20, 20, 4);
	ok_join_ex(_metadata, &self->c, 5, &m[7], F_RS, 20, 20, 5);
	/* caught up: the next change in order is 21 */
	q = req_join(5, &m[7], 0, 20);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 20,
		       "in-order change 20 after the resync", NULL);
	q = req_join(5, &m[7], F_RS, 19);
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 20,
		       "resync to 19 after the resync to 20", NULL);
	ok_join_ex(_metadata, &self->c, 5, &m[7], 0, 21, 21, 5);	/* replace */

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	ASSERT_EQ(6, n.nmems);
	check_member(_metadata, &n.mems[0], &m2new);
	ASSERT_EQ(20, n.mems[0].jg);
	ASSERT_TRUE(rnl_id_eq(&n.mems[1], &m[3]));
	check_member(_metadata, &n.mems[2], &m[6]);
	ASSERT_EQ(20, n.mems[2].jg);
	ASSERT_TRUE(rnl_id_eq(&n.mems[3], &m[5]));
	check_member(_metadata, &n.mems[4], &m[7]);
	ASSERT_EQ(20, n.mems[4].jg);
	check_member(_metadata, &n.mems[5], &m[7]);
	ASSERT_EQ(21, n.mems[5].jg);
	rnl_res_free(&n);

	/* the same VPN throughout: its creation time and flags */
	get_vpn(_metadata, &self->c, 5, &v);
	check_vpn_msg(_metadata, &v, 5, 21, 5);
	check_vflags(_metadata, &v, VF_FOL);
	ASSERT_EQ(v0.ctime, v.ctime);

	want[0] = m[1];
	want[1] = m2new;
	want[2] = m[4];
	want[3] = m[6];
	want[4] = m[7];
	check_dump_set(_metadata, &self->c, 5, 21, want, 5, 0);
	{
		struct rnl_res r;
		size_t k;

		rnl_res_init(&r);
		rnl_member_dump(&self->c, 5, &r);
		expect_ok(_metadata, &r, "member dump");
		for (k = 0; k < r.nmems; k++) {
			long idx = rnl_id_idx(&r.mems[k]);
			/* unchanged members keep their join-generation */
			uint64_t jg = idx == 1 ? 11 : idx == 4 ? 14 :
				      idx == 7 ? 21 : 20;

			ASSERT_EQ(jg, r.mems[k].jg);
		}
		rnl_res_free(&r);
	}
}

/*
 * Restore: vpn-new stamped G, then every member joined stamped G with
 * RESYNC carrying its stored join-generation and join-time.
 */
TEST_F(roster, restore_small)
{
	enum { N = 5 };
	static const uint64_t jg[N] = { 3, 50, 999, 1000, 1 };
	struct ntf exp[1 + N];
	struct rnl_member m[N], extra;
	struct rnl_res n, r;
	struct rnl_req q;
	struct rnl_msg v;
	int i;

	exp[0] = (struct ntf){ ROSTER_CMD_VPN_NEW_NTF, 3, 1000, CF_S };
	ok_vpn_new_ex(_metadata, &self->c, 3, VF_FOL, 1000);
	for (i = 0; i < N; i++) {
		rnl_member_make(&m[i], 30 + i, i == 2, 0);
		m[i].has_jg = 1;
		m[i].jg = jg[i];
		m[i].has_jt = 1;
		m[i].jt = 1500000000ull + i * 1000;
		ok_join_ex(_metadata, &self->c, 3, &m[i], F_RS, 1000, 1000,
			   i + 1);
		exp[1 + i] = (struct ntf){ ROSTER_CMD_MEMBER_JOINED_NTF, 3,
					   1000, CF_SR };
	}
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	check_vflags(_metadata, &n.msgs[0], VF_FOL);
	ASSERT_EQ(N, n.nmems);
	for (i = 0; i < N; i++) {
		check_member(_metadata, &n.mems[i], &m[i]);
		ASSERT_EQ(jg[i], n.mems[i].jg);
		ASSERT_EQ(m[i].jt, n.mems[i].jt);
	}
	rnl_res_free(&n);

	get_vpn(_metadata, &self->c, 3, &v);
	check_vpn_msg(_metadata, &v, 3, 1000, N);
	check_vflags(_metadata, &v, VF_FOL);
	check_dump_set(_metadata, &self->c, 3, 1000, m, N, 1);
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 3, &r);
	for (i = 0; i < N && i < (int)r.nmems; i++) {
		ASSERT_EQ(jg[i], r.mems[i].jg);
		ASSERT_EQ(m[i].jt, r.mems[i].jt);
	}
	rnl_res_free(&r);

	/* a join-generation above the change's generation */
	rnl_member_make(&extra, 40, 0, 0);
	extra.has_jg = 1;
	extra.jg = 1001;
	q = req_join(3, &extra, F_RS, 1000);
	expect_refused(_metadata, &self->c, &q, EINVAL, NULL, NULL, -1,
		       "join-generation above the stamp", NULL);
	/* in order, the stored join-generation may be the change's own */
	extra.jg = 1001;
	ok_join_ex(_metadata, &self->c, 3, &extra, 0, 1001, 1001, N + 1);
	rnl_res_init(&r);
	rnl_member_get(&self->c, 3, &extra, &r);
	expect_do_reply(_metadata, &r, "member-get");
	ASSERT_EQ(1001, r.mems[0].jg);
	rnl_res_free(&r);
}

struct bigcheck {
	unsigned char *seen;
	size_t max;
	long dups, bad, bad_gen, bad_jg;
	uint64_t gen;
	int restored;
};

static void big_mem_cb(struct rnl_res *r, const struct rnl_msg *m,
		       const struct rnl_member *mem)
{
	struct bigcheck *b = r->priv;
	long idx = rnl_id_idx(mem);

	if (idx < 0 || (size_t)idx >= b->max || mem->bad ||
	    mem->key_len != ROSTER_KEY_LEN) {
		b->bad++;
		return;
	}
	if (m->gen != b->gen || !m->has_vpn)
		b->bad_gen++;
	if (b->restored && (!mem->has_jg || mem->jg != restore_jg(idx) ||
			    !mem->has_jt || mem->jt != restore_jt(idx)))
		b->bad_jg++;
	if (b->seen[idx])
		b->dups++;
	b->seen[idx] = 1;
}

/*
 * Restore of 100 000 members (ROSTER_LARGE_N overrides) at generation G:
 * the joins are pipelined (many in flight, many per sendmsg), so the whole
 * restore is O(N) round trips' worth of kernel work. Prints the rate.
 */
TEST_F_TIMEOUT(roster, restore_100k_members, 1800)
{
	const char *env = getenv("ROSTER_LARGE_N");
	const size_t N = env ? strtoul(env, NULL, 0) : 100000;
	const uint64_t G = 5000000;
	struct pjoin p = { .vpn = 1, .flags = F_RS, .stamp = G, .gen0 = G,
			   .gen_fixed = 1, .count0 = 1, .restore = 1,
			   .no_ack = 1, .bad_at = SIZE_MAX };
	struct bigcheck b = { 0 };
	struct rnl_res r;
	struct rnl_msg v;
	double t0, t1, t2;
	size_t i;
	int ret;

	ASSERT_GT(N, 0);
	ASSERT_LT(N, 1u << 18);	/* rnl_member_make's distinct prefixes */
	/* no listener: N notifications would only overflow it */
	nl_socket_free(self->c.mon);
	self->c.mon = NULL;
	rnl_set_rcvbuf(self->c.sk, 64 << 20);

	ok_vpn_new_ex(_metadata, &self->c, 1, VF_FOL, G);
	t0 = now_s();
	p.n = N;
	p.t0 = p.tb = t0;
	ret = rnl_pipeline(self->c.sk, self->c.fam, N, 1024, 64, pjoin_fill,
			   pjoin_done, &p);
	t1 = now_s();
	if (ret)
		TH_LOG("pipeline: %d (%s) %s", ret,
		       ret < 0 ? strerror(-ret) : "", p.why);
	ASSERT_EQ(0, ret);
	TH_LOG("restore: %zu stamped resync joins in %.2f s (%.0f joins/s)",
	       N, t1 - t0, N / (t1 - t0));

	get_vpn(_metadata, &self->c, 1, &v);
	check_vpn_msg(_metadata, &v, 1, G, N);
	check_vflags(_metadata, &v, VF_FOL);

	/* dump: exactly N distinct ids, each with its restored history */
	b.max = N;
	b.seen = calloc(1, b.max);
	b.gen = G;
	b.restored = 1;
	ASSERT_NE(NULL, b.seen);
	rnl_res_init(&r);
	r.nostore_mems = 1;
	r.nostore_msgs = 1;
	r.on_mem = big_mem_cb;
	r.priv = &b;
	rnl_member_dump(&self->c, 1, &r);
	t2 = now_s();
	expect_ok(_metadata, &r, "member dump");
	ASSERT_TRUE(r.done_seen);
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(N, r.nmsgs);
	ASSERT_EQ(N, r.total_mems);
	ASSERT_EQ(0, b.dups);
	ASSERT_EQ(0, b.bad);
	ASSERT_EQ(0, b.bad_gen);
	ASSERT_EQ(0, b.bad_jg);
	for (i = 0; i < N; i++)
		ASSERT_TRUE(b.seen[i]);
	rnl_res_free(&r);
	TH_LOG("member dump of %zu: %.2f s", N, t2 - t1);

	/* a sample through MEMBER_GET */
	for (i = 0; i < N; i += N / 7 + 1) {
		struct rnl_member m;

		rnl_member_make(&m, i, 0, 0);
		rnl_res_init(&r);
		rnl_member_get(&self->c, 1, &m, &r);
		expect_do_reply(_metadata, &r, "member-get");
		ASSERT_EQ(G, r.msgs[0].gen);
		check_member(_metadata, &r.mems[0], &m);
		ASSERT_EQ(restore_jg(i), r.mems[0].jg);
		ASSERT_EQ(restore_jt(i), r.mems[0].jt);
		rnl_res_free(&r);
	}
	free(b.seen);
	TH_LOG("restore test total %.1f s", now_s() - t0);
}

/* ---- follower VPNs ---------------------------------------------------- */

TEST_F(roster, follower_protection)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 9, 4, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 9, 5, CF_S },
		{ ROSTER_CMD_MEMBER_LEFT_NTF, 9, 6, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 9, 6, CF_SR },
		{ ROSTER_CMD_VPN_DEL_NTF, 9, 7, CF_S },
	};
	struct rnl_member a, b, c3, aid;
	struct rnl_res r, n;
	struct rnl_req q;
	struct rnl_msg v;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	rnl_member_make(&c3, 3, 0, 0);
	rnl_member_id_only(&aid, &a);

	ok_vpn_new_ex(_metadata, &self->c, 9, VF_FOL, 3);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n,
		    &(struct ntf){ ROSTER_CMD_VPN_NEW_NTF, 9, 3, CF_S }, 1);
	check_vflags(_metadata, &n.msgs[0], VF_FOL);
	rnl_res_free(&n);

	/* vpn get and dump show the flag */
	get_vpn(_metadata, &self->c, 9, &v);
	check_vpn_msg(_metadata, &v, 9, 3, 0);
	check_vflags(_metadata, &v, VF_FOL);
	ok_vpn_new(_metadata, &self->c, 10);	/* not a follower */
	rnl_res_init(&r);
	rnl_vpn_dump(&self->c, &r);
	expect_ok(_metadata, &r, "vpn dump");
	ASSERT_EQ(2, r.nmsgs);
	check_vflags(_metadata, &r.msgs[0], VF_FOL);
	check_vflags(_metadata, &r.msgs[1], 0);
	rnl_res_free(&r);
	drop_ntfs(_metadata, &self->c);

	/* unstamped changes are the followed table's to make */
	q = req_join(9, &a, 0, 0);
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, "VPN 9",
		       -1, "unstamped join on a follower", NULL);
	q = req_join(9, &a, F_CO, 0);
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, NULL, -1,
		       "unstamped create-only join on a follower", NULL);
	ok_join_ex(_metadata, &self->c, 9, &a, 0, 4, 4, 1);
	ok_join_ex(_metadata, &self->c, 9, &b, 0, 5, 5, 2);
	q = req_join(9, &a, 0, 0);	/* a replace */
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, NULL,
		       -1, "unstamped rejoin on a follower", NULL);
	q = req_leave(9, &aid, 0, 0);
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, NULL,
		       -1, "unstamped leave on a follower", NULL);
	q = req_leave(9, &aid, F_DE, 0);
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, NULL,
		       -1, "unstamped leave delete-empty on a follower", NULL);
	q = req_vpn_del(9, 0);
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, NULL,
		       -1, "unstamped vpn-del on a follower", NULL);

	/* stamped ones apply, in order or as a resync */
	ok_leave_ex(_metadata, &self->c, 9, &a, 0, 6, 6, 1);
	ok_join_ex(_metadata, &self->c, 9, &c3, F_RS, 6, 6, 2);
	ok_vpn_del_ex(_metadata, &self->c, 9, 7);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	rnl_res_free(&n);

	/* the non-follower beside it takes unstamped changes */
	ok_join(_metadata, &self->c, 10, &a, 2, 1);
}

/* ---- vpn-set ---------------------------------------------------------- */

static void ok_vpn_set(MD, struct rnl_ctx *c, uint32_t vpn, uint64_t stamp,
		       uint32_t flags, int64_t vflags, uint64_t gen,
		       uint32_t count, uint32_t want_vflags)
{
	struct rnl_res r;

	rnl_res_init(&r);
	rnl_vpn_set(c, vpn, stamp, flags, vflags, &r);
	expect_do_reply(_metadata, &r, "vpn-set");
	ASSERT_EQ(ROSTER_CMD_VPN_SET, r.msgs[0].cmd);
	ASSERT_EQ(0, r.msgs[0].attrs & ~(VPN_REPLY_ATTRS | RNL_A(PAD)));
	check_vpn_msg(_metadata, &r.msgs[0], vpn, gen, count);
	check_vflags(_metadata, &r.msgs[0], want_vflags);
	rnl_res_free(&r);
}

/* The follower mark: set and cleared unstamped, with no new generation. */
TEST_F(roster, vpn_set_follower_mark)
{
	struct ntf exp1[] = { { ROSTER_CMD_VPN_CHANGED_NTF, 5, 7, 0 } };
	struct ntf exp2[] = {
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 5, 8, 0 },
		{ ROSTER_CMD_VPN_CHANGED_NTF, 5, 8, 0 },
	};
	struct rnl_member a, b;
	struct rnl_res n;
	struct rnl_req q;
	struct rnl_msg v;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	ok_vpn_new_ex(_metadata, &self->c, 5, VF_FOL, 7);
	drop_ntfs(_metadata, &self->c);

	/* promotion: the follower mark goes, the generation stays */
	ok_vpn_set(_metadata, &self->c, 5, 0, 0, 0, 7, 0, 0);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp1, 1);
	check_vpn_msg(_metadata, &n.msgs[0], 5, 7, 0);
	check_vflags(_metadata, &n.msgs[0], 0);
	rnl_res_free(&n);
	get_vpn(_metadata, &self->c, 5, &v);
	check_vflags(_metadata, &v, 0);
	ASSERT_EQ(7, v.gen);
	/* it takes unstamped changes now */
	ok_join(_metadata, &self->c, 5, &a, 8, 1);
	/* and follows again */
	ok_vpn_set(_metadata, &self->c, 5, 0, 0, VF_FOL, 8, 1, VF_FOL);
	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp2, 2);
	check_vpn_msg(_metadata, &n.msgs[1], 5, 8, 1);
	check_vflags(_metadata, &n.msgs[1], VF_FOL);
	rnl_res_free(&n);
	q = req_join(5, &b, 0, 0);
	expect_refused(_metadata, &self->c, &q, EPERM, FOLLOWER_TEXT, NULL, -1,
		       "unstamped join after the mark came back", NULL);
	/* setting what is already set changes nothing: no notification */
	ok_vpn_set(_metadata, &self->c, 5, 0, 0, VF_FOL, 8, 1, VF_FOL);
	expect_no_ntf(_metadata, &self->c);
	/* the nested-prefixes mark is the VPN's for good */
	q = (struct rnl_req){ .cmd = ROSTER_CMD_VPN_SET, .has_vpn = 1,
			      .vpn = 5, .has_vflags = 1,
			      .vflags = VF_FOL | VF_NEST };
	expect_refused(_metadata, &self->c, &q, EINVAL, NULL, NULL, -1,
		       "vpn-set nested-prefixes", NULL);
	ok_vpn_new_ex(_metadata, &self->c, 6, VF_NEST, 0);
	ok_vpn_set(_metadata, &self->c, 6, 0, 0, VF_NEST | VF_FOL, 1, 0,
		   VF_NEST | VF_FOL);
	get_vpn(_metadata, &self->c, 6, &v);
	check_vflags(_metadata, &v, VF_NEST | VF_FOL);
}

/*
 * A stamped vpn-set moves the generation (a resync that had no member to
 * change), in order or as a resync, and nothing else.
 */
TEST_F(roster, vpn_set_moves_generation)
{
	struct ntf exp[] = {
		{ ROSTER_CMD_VPN_CHANGED_NTF, 6, 15, CF_SR },
		{ ROSTER_CMD_VPN_CHANGED_NTF, 6, 16, CF_S },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 6, 17, CF_S },
	};
	struct rnl_member a, b;
	struct rnl_res n, r;
	struct rnl_req q;

	rnl_member_make(&a, 1, 0, 0);
	rnl_member_make(&b, 2, 0, 0);
	ok_vpn_new_ex(_metadata, &self->c, 6, VF_FOL, 10);
	ok_join_ex(_metadata, &self->c, 6, &a, 0, 11, 11, 1);
	drop_ntfs(_metadata, &self->c);

	ok_vpn_set(_metadata, &self->c, 6, 15, F_RS, -1, 15, 1, VF_FOL);
	/* a resync to where it is already: nothing changes, no notification */
	ok_vpn_set(_metadata, &self->c, 6, 15, F_RS, -1, 15, 1, VF_FOL);
	ok_vpn_set(_metadata, &self->c, 6, 16, 0, -1, 16, 1, VF_FOL);
	q = (struct rnl_req){ .cmd = ROSTER_CMD_VPN_SET, .has_vpn = 1,
			      .vpn = 6, .has_gen = 1, .gen = 16 };
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 16,
		       "vpn-set duplicate", NULL);
	q.gen = 18;
	expect_refused(_metadata, &self->c, &q, ESTALE, NULL, NULL, 16,
		       "vpn-set gap", NULL);
	q.gen = 14;
	q.has_flags = 1;
	q.rflags = F_RS;
	expect_refused(_metadata, &self->c, &q, EALREADY, NULL, NULL, 16,
		       "vpn-set resync, old", NULL);
	ok_join_ex(_metadata, &self->c, 6, &b, 0, 17, 17, 2);

	rnl_res_init(&n);
	expect_ntfs(_metadata, &self->c, &n, exp, ARRAY_LEN(exp));
	check_vpn_msg(_metadata, &n.msgs[0], 6, 15, 1);
	check_vflags(_metadata, &n.msgs[0], VF_FOL);
	rnl_res_free(&n);

	/* the members kept their history */
	rnl_res_init(&r);
	rnl_member_get(&self->c, 6, &a, &r);
	expect_do_reply(_metadata, &r, "member-get");
	ASSERT_EQ(17, r.msgs[0].gen);
	ASSERT_EQ(11, r.mems[0].jg);
	rnl_res_free(&r);
}

/* ---- prefix invariants ------------------------------------------------ */

static void member_with(struct rnl_member *m, const char *id,
			const char *const *pfx)
{
	int i;

	memset(m, 0, sizeof(*m));
	rnl_set_id(m, id);
	m->key_len = ROSTER_KEY_LEN;
	memset(m->key, id[strlen(id) - 1], ROSTER_KEY_LEN);
	for (i = 0; pfx && pfx[i]; i++)
		rnl_set_pfx(&m->pfx[m->npfx++], pfx[i]);
}

#define PFX(...)	((const char *const[]){ __VA_ARGS__, NULL })

/*
 * The extack of an EADDRINUSE names the holder: in the text where the
 * kernel formats extack texts, else (6.1) the cookie holds its id.
 */
static void expect_holder(MD, const struct rnl_res *r, const char *holder)
{
	struct rnl_member h;

	if (kernel_formats_extack()) {
		if (!strstr(r->ext, holder))
			TH_LOG("extack '%s' does not name the holder %s",
			       r->ext, holder);
		ASSERT_NE(NULL, strstr(r->ext, holder));
		return;
	}
	memset(&h, 0, sizeof(h));
	rnl_set_id(&h, holder);
	if (r->cookie_len != h.id_len || memcmp(r->cookie, h.id, h.id_len))
		TH_LOG("cookie of %d bytes is not the holder %s", r->cookie_len,
		       holder);
	ASSERT_EQ(h.id_len, r->cookie_len);
	ASSERT_EQ(0, memcmp(r->cookie, h.id, h.id_len));
}

/*
 * A join refused for a prefix held by another member: EADDRINUSE, the
 * extack names the holder and points at the offending prefix nest.
 */
static void expect_pfx_taken(MD, struct rnl_ctx *c, uint32_t vpn,
			     const struct rnl_member *m, int bad_pfx,
			     const char *holder, const char *held)
{
	struct rnl_req q = req_join(vpn, m, 0, 0);
	char fmt[128];
	struct rnl_res r;

	snprintf(fmt, sizeof(fmt), "%s", held);
	expect_refused(_metadata, c, &q, EADDRINUSE, NULL, fmt, -1,
		       "overlapping prefix", &r);
	expect_holder(_metadata, &r, holder);
	if (!r.has_offs || r.offs != r.req_pfx_off[bad_pfx])
		TH_LOG("NLMSGERR_ATTR_OFFS %s%u, want prefix %d at %u",
		       r.has_offs ? "" : "(absent) ", r.offs, bad_pfx,
		       r.req_pfx_off[bad_pfx]);
	ASSERT_TRUE(r.has_offs);
	ASSERT_EQ(r.req_pfx_off[bad_pfx], r.offs);
	rnl_res_free(&r);
}

TEST_F(roster, prefix_overlap_refused)
{
	struct rnl_member a, b;

	member_with(&a, "192.0.2.1", PFX("10.1.0.0/16", "fd00:1::/32"));
	ok_join(_metadata, &self->c, 1, &a, 2, 1);

	/* equal, inside, covering, everything; the second prefix is the bad one */
	member_with(&b, "192.0.2.2", PFX("10.3.0.0/16", "10.1.0.0/16"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 1, "192.0.2.1",
			 "10.1.0.0/16");
	member_with(&b, "192.0.2.2", PFX("10.3.0.0/16", "10.1.5.0/24"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 1, "192.0.2.1",
			 "10.1.0.0/16");
	member_with(&b, "192.0.2.2", PFX("10.1.255.255/32"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 0, "192.0.2.1",
			 "10.1.0.0/16");
	member_with(&b, "192.0.2.2", PFX("fd00:2::/32", "10.0.0.0/8"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 1, "192.0.2.1",
			 "10.1.0.0/16");
	member_with(&b, "192.0.2.2", PFX("0.0.0.0/0"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 0, "192.0.2.1",
			 "10.1.0.0/16");
	/* IPv6 */
	member_with(&b, "192.0.2.2", PFX("fd00:1:2::/48"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 0, "192.0.2.1",
			 "fd00:1::/32");
	member_with(&b, "2001:db8::2", PFX("10.2.0.0/16", "fd00::/16"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 1, "192.0.2.1",
			 "fd00:1::/32");

	/* neighbours, and the families apart, are fine */
	member_with(&b, "192.0.2.2", PFX("10.0.0.0/16", "10.2.0.0/15",
					 "fd00:2::/32", "fd00::/32"));
	ok_join(_metadata, &self->c, 1, &b, 3, 2);

	/* the same prefix in another VPN is another table */
	member_with(&b, "192.0.2.2", PFX("10.1.0.0/16"));
	ok_join(_metadata, &self->c, 2, &b, 2, 1);
}

TEST_F(roster, prefix_replace_checked_against_others)
{
	struct rnl_member a, a2, b, x;
	struct rnl_res r;

	member_with(&a, "192.0.2.1", PFX("10.1.0.0/16"));
	member_with(&b, "192.0.2.2", PFX("10.2.0.0/16"));
	ok_join(_metadata, &self->c, 1, &a, 2, 1);
	ok_join(_metadata, &self->c, 1, &b, 3, 2);

	/* its own old prefixes do not count against a replace */
	member_with(&a2, "192.0.2.1", PFX("10.1.0.0/24", "10.1.128.0/17"));
	ok_join(_metadata, &self->c, 1, &a2, 4, 2);
	member_with(&a2, "192.0.2.1", PFX("10.1.0.0/16"));
	ok_join(_metadata, &self->c, 1, &a2, 5, 2);
	/* the others' do: inside one of them ... */
	member_with(&a2, "192.0.2.1", PFX("10.1.0.0/16", "10.2.5.0/24"));
	expect_pfx_taken(_metadata, &self->c, 1, &a2, 1, "192.0.2.2",
			 "10.2.0.0/16");
	/* ... or covering its own old prefix and, behind it, another's */
	member_with(&x, "192.0.2.1", PFX("10.0.0.0/8"));
	expect_pfx_taken(_metadata, &self->c, 1, &x, 0, "192.0.2.2",
			 "10.2.0.0/16");
	member_with(&x, "192.0.2.1", PFX("10.0.0.0/14"));
	expect_pfx_taken(_metadata, &self->c, 1, &x, 0, "192.0.2.2",
			 "10.2.0.0/16");
	rnl_res_init(&r);
	rnl_member_get(&self->c, 1, &a, &r);
	expect_do_reply(_metadata, &r, "member-get");
	check_member(_metadata, &r.mems[0], &a);	/* unchanged */
	rnl_res_free(&r);

	/* a prefix is free again once its holder left */
	ok_leave_ex(_metadata, &self->c, 1, &b, 0, 0, 6, 1);
	ok_join(_metadata, &self->c, 1, &a2, 7, 1);
	member_with(&b, "192.0.2.2", PFX("10.2.0.0/16"));
	expect_pfx_taken(_metadata, &self->c, 1, &b, 0, "192.0.2.1",
			 "10.2.5.0/24");
	/* and once the holder let it go in a replace */
	ok_join(_metadata, &self->c, 1, &a, 8, 1);
	ok_join(_metadata, &self->c, 1, &b, 9, 2);
}

TEST_F(roster, prefix_overlap_within_member)
{
	struct rnl_member c3;
	struct rnl_req q;

	ok_vpn_new(_metadata, &self->c, 1);
	ok_vpn_new_ex(_metadata, &self->c, 2, VF_NEST, 0);

	/* a default VPN: not even one member's own prefixes may nest */
	member_with(&c3, "192.0.2.3", PFX("10.5.0.0/16", "10.5.1.0/24"));
	q = req_join(1, &c3, 0, 0);
	expect_refused(_metadata, &self->c, &q, EINVAL, NULL, NULL, -1,
		       "nested prefixes of one member", NULL);
	member_with(&c3, "192.0.2.3", PFX("fd00::/16", "fd00:5::/32"));
	expect_refused(_metadata, &self->c, &q, EINVAL, NULL, NULL, -1,
		       "nested IPv6 prefixes of one member", NULL);
	/* equal is a duplicate, in any VPN */
	member_with(&c3, "192.0.2.3", PFX("10.6.0.0/16", "10.6.0.0/16"));
	expect_refused(_metadata, &self->c, &q, EINVAL, NULL, NULL, -1,
		       "duplicate prefix", NULL);
	q = req_join(2, &c3, 0, 0);
	expect_refused(_metadata, &self->c, &q, EINVAL, NULL, NULL, -1,
		       "duplicate prefix, nested-prefixes VPN", NULL);

	/* a nested-prefixes VPN lets one member's prefixes nest */
	member_with(&c3, "192.0.2.3", PFX("10.5.0.0/16", "10.5.1.0/24"));
	ok_join(_metadata, &self->c, 2, &c3, 2, 1);
	check_dump_set(_metadata, &self->c, 2, 2, &c3, 1, 1);
}

TEST_F(roster, prefix_nested_vpn)
{
	struct rnl_member hub, s1, s2, x;
	struct rnl_msg v;

	ok_vpn_new_ex(_metadata, &self->c, 4, VF_NEST, 0);
	get_vpn(_metadata, &self->c, 4, &v);
	check_vpn_msg(_metadata, &v, 4, 1, 0);
	check_vflags(_metadata, &v, VF_NEST);

	/* a hub announcing the summary, sites inside it, nested further */
	member_with(&hub, "192.0.2.1", PFX("10.0.0.0/8", "fd00::/16"));
	member_with(&s1, "192.0.2.2", PFX("10.1.0.0/16", "fd00:1::/32"));
	member_with(&s2, "192.0.2.3", PFX("10.1.2.0/24"));
	ok_join(_metadata, &self->c, 4, &hub, 2, 1);
	ok_join(_metadata, &self->c, 4, &s1, 3, 2);
	ok_join(_metadata, &self->c, 4, &s2, 4, 3);
	/* a default route over them all */
	member_with(&x, "192.0.2.4", PFX("0.0.0.0/0"));
	ok_join(_metadata, &self->c, 4, &x, 5, 4);

	/* but never an equal prefix */
	member_with(&x, "192.0.2.5", PFX("10.9.0.0/16", "10.1.0.0/16"));
	expect_pfx_taken(_metadata, &self->c, 4, &x, 1, "192.0.2.2",
			 "10.1.0.0/16");
	member_with(&x, "192.0.2.5", PFX("10.0.0.0/8"));
	expect_pfx_taken(_metadata, &self->c, 4, &x, 0, "192.0.2.1",
			 "10.0.0.0/8");
	member_with(&x, "192.0.2.5", PFX("fd00:1::/32"));
	expect_pfx_taken(_metadata, &self->c, 4, &x, 0, "192.0.2.2",
			 "fd00:1::/32");
	member_with(&x, "192.0.2.5", PFX("0.0.0.0/0"));
	expect_pfx_taken(_metadata, &self->c, 4, &x, 0, "192.0.2.4",
			 "0.0.0.0/0");
	/* a replace of s2 with s1's prefix is refused; with its own, fine */
	member_with(&x, "192.0.2.3", PFX("10.1.0.0/16"));
	expect_pfx_taken(_metadata, &self->c, 4, &x, 0, "192.0.2.2",
			 "10.1.0.0/16");
	member_with(&x, "192.0.2.3", PFX("10.1.2.0/24", "10.1.2.128/25"));
	ok_join(_metadata, &self->c, 4, &x, 6, 4);
}

/* Two joiners race for overlapping prefixes: exactly one wins each round. */
struct racer {
	struct rnl_ctx c;
	pthread_barrier_t *bar;
	int t, rounds;
	int *res;	/* per round: 0 or -errno */
	char err[512];
};

static void racer_member(struct rnl_member *m, int t, int round)
{
	char id[32], p[32];

	snprintf(id, sizeof(id), "10.%d.%d.%d", 100 + t, round / 256,
		 round % 256);
	/* round's /24 for racer 0, one of its /25 halves for racer 1; on
	 * odd rounds both the same /24 */
	if (t == 0 || round % 2)
		snprintf(p, sizeof(p), "172.%d.%d.0/24", 16 + round / 256,
			 round % 256);
	else
		snprintf(p, sizeof(p), "172.%d.%d.128/25", 16 + round / 256,
			 round % 256);
	member_with(m, id, PFX(p));
}

static void *racer_fn(void *arg)
{
	struct racer *x = arg;
	struct rnl_member m;
	struct rnl_res r;
	int i;

	for (i = 0; i < x->rounds; i++) {
		racer_member(&m, x->t, i);
		pthread_barrier_wait(x->bar);
		rnl_res_init(&r);
		rnl_join(&x->c, 1, &m, 0, &r);
		x->res[i] = r.err ? r.err : r.nlerr ? -EIO : 0;
		if (r.err && r.err != -EADDRINUSE && !x->err[0])
			snprintf(x->err, sizeof(x->err),
				 "round %d: %s '%s'", i, strerror(-r.err),
				 r.ext);
		rnl_res_free(&r);
	}
	return NULL;
}

TEST_F_TIMEOUT(roster, prefix_race_one_wins, 300)
{
	enum { ROUNDS = 300 };
	pthread_barrier_t bar;
	struct racer x[2];
	pthread_t th[2];
	struct rnl_res r;
	unsigned char *won;
	int i, t, wins[2] = { 0 };

	nl_socket_free(self->c.mon);
	self->c.mon = NULL;
	ok_vpn_new(_metadata, &self->c, 1);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 2));
	for (t = 0; t < 2; t++) {
		memset(&x[t], 0, sizeof(x[t]));
		ASSERT_EQ(0, rnl_ctx_open(&x[t].c, 0));
		x[t].bar = &bar;
		x[t].t = t;
		x[t].rounds = ROUNDS;
		x[t].res = calloc(ROUNDS, sizeof(int));
		ASSERT_NE(NULL, x[t].res);
	}
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, pthread_create(&th[t], NULL, racer_fn, &x[t]));
	for (t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, x[t].err[0]) {
			TH_LOG("racer %d: %s", t, x[t].err);
		}

	won = calloc(ROUNDS, 2);
	ASSERT_NE(NULL, won);
	for (i = 0; i < ROUNDS; i++) {
		int ok0 = x[0].res[i] == 0, ok1 = x[1].res[i] == 0;

		if (ok0 + ok1 != 1)
			TH_LOG("round %d: racer 0 %d, racer 1 %d", i,
			       x[0].res[i], x[1].res[i]);
		ASSERT_EQ(1, ok0 + ok1);
		ASSERT_EQ(-EADDRINUSE, ok0 ? x[1].res[i] : x[0].res[i]);
		wins[ok1]++;
		won[2 * i + ok1] = 1;
	}
	TH_LOG("%d rounds: racer 0 won %d, racer 1 won %d", ROUNDS, wins[0],
	       wins[1]);

	/* the table holds exactly the winners */
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 1, &r);
	expect_ok(_metadata, &r, "member dump");
	ASSERT_EQ(ROUNDS, r.nmems);
	for (i = 0; i < (int)r.nmems; i++) {
		const uint8_t *id = r.mems[i].id;
		int round = id[2] * 256 + id[3];

		ASSERT_EQ(4, r.mems[i].id_len);
		t = id[1] - 100;
		ASSERT_TRUE(t == 0 || t == 1);
		ASSERT_TRUE(round < ROUNDS);
		ASSERT_TRUE(won[2 * round + t]);
		won[2 * round + t] = 0;
	}
	rnl_res_free(&r);
	free(won);
	for (t = 0; t < 2; t++) {
		rnl_ctx_close(&x[t].c);
		free(x[t].res);
	}
	pthread_barrier_destroy(&bar);
}

/* ---- dumps while the generation moves --------------------------------- */

/*
 * Read a member dump part by part and make a change to the VPN after the
 * first part: the dump is flagged NLM_F_DUMP_INTR, every message carries a
 * generation; a retry (no change) is the consistent set.
 */
TEST_F_TIMEOUT(roster, dump_intr_flagged_then_retry, 300)
{
	enum { N = 1500 };
	struct rnl_req q = { .cmd = ROSTER_CMD_MEMBER_GET, .flags = NLM_F_DUMP,
			     .has_vpn = 1, .vpn = 1 };
	struct rnl_member m;
	struct rnl_ctx c2;
	struct rnl_res r;
	unsigned char *seen;
	size_t i, parts = 0, first;
	int ret, seq;
	long idx;

	nl_socket_free(self->c.mon);
	self->c.mon = NULL;
	rnl_set_rcvbuf(self->c.sk, 8 << 20);
	ok_vpn_new(_metadata, &self->c, 1);
	ok_vpn_new(_metadata, &self->c, 2);
	pipe_joins(_metadata, &self->c, 1, 0, N, 2, 1);	/* at 1 + N */
	ASSERT_EQ(0, rnl_ctx_open(&c2, 0));

	/* 1: a change to another VPN mid-dump (reported, not asserted) */
	seq = rnl_send(self->c.sk, self->c.fam, &q);
	ASSERT_GT(seq, 0);
	rnl_res_init(&r);
	r.seq = seq;
	ASSERT_GT(rnl_recv_one(self->c.sk, &r, 10000), 0);
	ASSERT_FALSE(r.done);
	rnl_member_make(&m, 0, 0, 0);
	ok_join(_metadata, &c2, 2, &m, 2, 1);
	while (!r.done) {
		ret = rnl_recv_one(self->c.sk, &r, 10000);
		ASSERT_GT(ret, 0);
	}
	expect_ok(_metadata, &r, "dump, other VPN changed");
	ASSERT_EQ(N, r.nmsgs);
	TH_LOG("a change to another VPN mid-dump: %s",
	       r.intr ? "NLM_F_DUMP_INTR (spurious)" : "no NLM_F_DUMP_INTR");
	rnl_res_free(&r);

	/* 2: this VPN changes after the first part */
	seq = rnl_send(self->c.sk, self->c.fam, &q);
	ASSERT_GT(seq, 0);
	rnl_res_init(&r);
	r.seq = seq;
	ASSERT_GT(rnl_recv_one(self->c.sk, &r, 10000), 0);
	parts = 1;
	first = r.nmsgs;
	ASSERT_FALSE(r.done);
	ASSERT_FALSE(r.intr);
	ASSERT_GT(first, 0);
	ASSERT_LT(first, N);
	for (i = 0; i < first; i++) {
		ASSERT_TRUE(r.msgs[i].has_gen);
		ASSERT_EQ(1 + N, r.msgs[i].gen);
	}
	/* a new member and a leave: both move the generation */
	rnl_member_make(&m, N, 0, 0);
	ok_join(_metadata, &c2, 1, &m, 2 + N, N + 1);
	rnl_member_make(&m, N - 1, 0, 0);
	ok_leave_ex(_metadata, &c2, 1, &m, 0, 0, 3 + N, N);
	while (!r.done) {
		ret = rnl_recv_one(self->c.sk, &r, 10000);
		ASSERT_GT(ret, 0);
		parts++;
	}
	expect_ok(_metadata, &r, "dump, this VPN changed");
	TH_LOG("dump in %zu parts (%zu members in the first), %zu messages, NLM_F_DUMP_INTR %s",
	       parts, first, r.nmsgs, r.intr ? "set" : "NOT set");
	ASSERT_TRUE(r.intr);
	ASSERT_GT(parts, 1);
	for (i = 0; i < r.nmsgs; i++) {
		ASSERT_TRUE(r.msgs[i].has_vpn);
		ASSERT_EQ(1, r.msgs[i].vpn);
		ASSERT_TRUE(r.msgs[i].has_gen);
		ASSERT_TRUE(r.msgs[i].gen >= 1 + N && r.msgs[i].gen <= 3 + N);
		ASSERT_EQ(1, r.msgs[i].nmem);
	}
	rnl_res_free(&r);

	/* 3: the retry, undisturbed, is the set at the new generation */
	seen = calloc(N + 1, 1);
	ASSERT_NE(NULL, seen);
	rnl_res_init(&r);
	rnl_member_dump(&self->c, 1, &r);
	expect_ok(_metadata, &r, "retry");
	ASSERT_FALSE(r.intr);
	ASSERT_EQ(N, r.nmsgs);
	for (i = 0; i < r.nmsgs; i++) {
		ASSERT_EQ(3 + N, r.msgs[i].gen);
		idx = rnl_id_idx(&r.mems[i]);
		ASSERT_TRUE(idx >= 0 && idx <= N && idx != N - 1);
		ASSERT_EQ(0, seen[idx]);
		seen[idx] = 1;
	}
	free(seen);
	rnl_res_free(&r);
	rnl_ctx_close(&c2);
}

/* ---- bad input: errno, extack, and the table unchanged --------------- */

struct bad_case;
typedef void (*bad_fill)(struct rnl_req *q, struct rnl_member *m);

FIXTURE(bad) {
	struct rnl_ctx c;
	struct rnl_member a, b, f, n;
};

/*
 * One row of the errors table: the errno; `all`, a substring of the extack
 * text on every kernel; `fmt`, one only where extack texts are formatted;
 * `gen`, the VPN generation the extack states (text on 6.2+, cookie on
 * all), 0 for none; `offs_pfx`, 1 + the index of the prefix nest
 * NLMSGERR_ATTR_OFFS must point at, 0 for no check; `miss`, the
 * NLMSGERR_ATTR_MISS_TYPE, 0 for no check.
 */
FIXTURE_VARIANT(bad) {
	const char *name;
	int err;
	bad_fill fill;
	const char *all, *fmt;
	uint64_t gen;
	int offs_pfx;
	int miss;
};

/*
 * VPN 1 (gen 3): A (10.0.0.4, endpoint, 100.0.4.0/24 and 104.0.4.0/24)
 * and B (fd00::5); VPN 2 (gen 1) empty; VPN 3 a follower (gen 11) with F
 * (10.0.0.7); VPN 4 nested-prefixes (gen 2) with N (10.0.0.8, 10.128.0.0/9).
 */
FIXTURE_SETUP(bad)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, rnl_ctx_open(&self->c, 1));
	rnl_member_make(&self->a, 4, 0, 0);
	self->a.ep_len = 4;
	memcpy(self->a.ep, "\xc0\x00\x02\x04", 4);
	self->a.has_port = 1;
	self->a.port = 51820;
	rnl_member_make(&self->b, 5, 1, 0);
	rnl_member_make(&self->f, 7, 0, 0);
	rnl_member_make(&self->n, 8, 0, 0);
	self->n.npfx = 1;
	rnl_set_pfx(&self->n.pfx[0], "10.128.0.0/9");
	ok_join(_metadata, &self->c, 1, &self->a, 2, 1);
	ok_join(_metadata, &self->c, 1, &self->b, 3, 2);
	ok_vpn_new(_metadata, &self->c, 2);
	ok_vpn_new_ex(_metadata, &self->c, 3, VF_FOL, 10);
	ok_join_ex(_metadata, &self->c, 3, &self->f, 0, 11, 11, 1);
	ok_vpn_new_ex(_metadata, &self->c, 4, VF_NEST, 0);
	ok_join(_metadata, &self->c, 4, &self->n, 2, 1);
	drop_ntfs(_metadata, &self->c);
}

FIXTURE_TEARDOWN(bad)
{
	rnl_ctx_close(&self->c);
}

/* 16 bytes: fd00::1 and 2001:db8::6 */
#define V6_A	"\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
#define V6_B	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x06"

static void raw(struct rnl_raw *x, uint16_t type, const void *data,
		uint8_t len)
{
	x->type = type;
	x->len = len;
	memset(x->data, 0, sizeof(x->data));
	if (data)
		memcpy(x->data, data, len);
}

/* A valid new member C (10.0.0.6, no prefixes), joining VPN 1. */
static void join_c(struct rnl_req *q, struct rnl_member *m)
{
	rnl_member_make(m, 6, 0, 0);
	m->npfx = 0;
	*q = req_join(1, m, 0, 0);
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

static void f_missing_id(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->id_len = 0;
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

static void f_id_ipv4_len_5(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->id_len = 0;
	raw(&m->x, ROSTER_A_MEMBER_ID_IPV4, "\x0a\x00\x00\x06\x00", 5);
}

/* v1's one address attribute, 16 bytes, is no IPv4 id */
static void f_id_ipv4_len_16(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->id_len = 0;
	raw(&m->x, ROSTER_A_MEMBER_ID_IPV4, V6_A, 16);
}

static void f_id_ipv6_len_4(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->id_len = 0;
	raw(&m->x, ROSTER_A_MEMBER_ID_IPV6, "\x0a\x00\x00\x06", 4);
}

static void f_id_both(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	raw(&m->x, ROSTER_A_MEMBER_ID_IPV6, V6_A, 16);
}

static void f_endpoint_both(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 4;
	memcpy(m->ep, "\xc0\x00\x02\x06", 4);
	m->has_port = 1;
	m->port = 51820;
	raw(&m->x, ROSTER_A_MEMBER_ENDPOINT_IPV6, V6_B, 16);
}

static void f_endpoint_ipv6_len_4(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 0;
	m->has_port = 1;
	m->port = 51820;
	raw(&m->x, ROSTER_A_MEMBER_ENDPOINT_IPV6, "\xc0\x00\x02\x06", 4);
}

static void f_endpoint_ipv4_len_16(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->ep_len = 0;
	m->has_port = 1;
	m->port = 51820;
	raw(&m->x, ROSTER_A_MEMBER_ENDPOINT_IPV4, V6_B, 16);
}

static void f_prefix_ipv4_len_3(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/16");
	m->pfx[0].alen = 0;
	raw(&m->pfx[0].x, ROSTER_A_PREFIX_IPV4, "\xac\x10\x00", 3);
}

static void f_prefix_ipv6_len_4(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/16");
	m->pfx[0].alen = 0;
	raw(&m->pfx[0].x, ROSTER_A_PREFIX_IPV6, "\xac\x10\x00\x00", 4);
}

static void f_prefix_both(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/16");
	raw(&m->pfx[0].x, ROSTER_A_PREFIX_IPV6, V6_A, 16);
}

static void f_prefix_missing_addr(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/16");
	m->pfx[0].alen = 0;
}

static void f_prefix_missing_len(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/16");
	m->pfx[0].has_len = 0;
}

static void f_v4_prefix_len_33(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/33");
}

static void f_v6_prefix_len_129(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "fd00::/129");
}

static void f_v4_host_bits(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "10.0.0.1/24");
}

static void f_v6_host_bits(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "fd00:0:0:1::/48");
}

static void f_duplicate_prefix(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 3;
	rnl_set_pfx(&m->pfx[0], "172.16.0.0/16");
	rnl_set_pfx(&m->pfx[1], "172.17.0.0/16");
	rnl_set_pfx(&m->pfx[2], "172.16.0.0/16");
}

static void f_33_prefixes(struct rnl_req *q, struct rnl_member *m)
{
	char p[32];
	int i;

	join_c(q, m);
	m->npfx = ROSTER_MAX_PREFIXES + 1;
	for (i = 0; i < m->npfx; i++) {
		snprintf(p, sizeof(p), "10.100.%d.0/24", i);
		rnl_set_pfx(&m->pfx[i], p);
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

/* LEAVE of A from VPN 1, by its id */
static void leave_a(struct rnl_req *q, struct rnl_member *m)
{
	struct rnl_member a;

	rnl_member_make(&a, 4, 0, 0);
	rnl_member_id_only(m, &a);
	*q = req_leave(1, m, 0, 0);
}

static void f_unknown_flag_bit(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_flags = 1;
	q->rflags = 8;	/* beyond create-only, delete-empty and resync */
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
	m->id[3] = 77;
}

static void f_leave_unknown_vpn(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->vpn = 99;
}

static void f_leave_missing_member(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->m = NULL;
}

static void f_leave_with_key(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	m->key_len = ROSTER_KEY_LEN;
}

static void f_leave_with_prefix(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "100.0.4.0/24");
}

/* an attribute id the family does not have at all */
static void f_unknown_attr(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	raw(&q->x, ROSTER_A_MAX + 10, NULL, 4);
}

/* a known attribute that is not in JOIN's request list */
static void f_join_with_member_count(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	raw(&q->x, ROSTER_A_MEMBER_COUNT, NULL, 4);
}

static void f_vpn_new_with_member_count(struct rnl_req *q,
					struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(5, 0, 0);
	raw(&q->x, ROSTER_A_MEMBER_COUNT, NULL, 4);
}

static void f_vpn_new_with_flags(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(5, 0, 0);
	q->has_flags = 1;
	q->rflags = F_CO;
}

static void f_vpn_new_unknown_vpn_flag(struct rnl_req *q,
				       struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(5, 4, 0);
}

static void f_unknown_member_attr(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	raw(&m->x, ROSTER_A_MEMBER_MAX + 10, NULL, 4);
}

static void f_join_time_unstamped(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->has_jt = 1;
	m->jt = 1;
}

static void f_join_gen_unstamped(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->has_jg = 1;
	m->jg = 1;
}

static void f_join_gen_zero(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 4;
	m->has_jg = 1;
	m->jg = 0;
}

static void f_join_gen_above_stamp(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 4;
	m->has_jg = 1;
	m->jg = 5;
}

static void f_generation_zero(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 0;
}

static void f_member_dump_with_member(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->cmd = ROSTER_CMD_MEMBER_GET;
	q->flags = NLM_F_DUMP;
}

static void f_member_dump_unknown_vpn(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	q->cmd = ROSTER_CMD_MEMBER_GET;
	q->flags = NLM_F_DUMP;
	q->has_vpn = 1;
	q->vpn = 99;
}

static void f_member_get_missing_member(struct rnl_req *q,
					struct rnl_member *m)
{
	leave_a(q, m);
	q->cmd = ROSTER_CMD_MEMBER_GET;
	q->m = NULL;
}

static void f_member_get_with_key(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->cmd = ROSTER_CMD_MEMBER_GET;
	m->key_len = ROSTER_KEY_LEN;
}

static void f_vpn_id_zero_new(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(0, 0, 0);
}

static void f_vpn_id_zero_join(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 0;
}

static void f_vpn_new_existing(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(2, 0, 0);
}

static void f_vpn_del_unknown(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_del(99, 0);
}

static void f_rejoin_create_only(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	rnl_member_make(m, 5, 1, 1);	/* B's id, other key */
	q->has_flags = 1;
	q->rflags = F_CO;
}

static void f_join_nlm_excl(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->flags = NLM_F_EXCL;
}

static void f_join_nlm_replace(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->flags = NLM_F_REPLACE;
}

static void f_vpn_new_nlm_excl(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(5, 0, 0);
	q->flags = NLM_F_EXCL;
}

static void f_join_delete_empty(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_flags = 1;
	q->rflags = F_DE;
}

static void f_leave_create_only(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_flags = 1;
	q->rflags = F_CO;
}

static void f_join_resync_unstamped(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_flags = 1;
	q->rflags = F_RS;
}

static void f_leave_resync_unstamped(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_flags = 1;
	q->rflags = F_RS;
}

static void f_stamped_duplicate(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 3;
}

static void f_stamped_old(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 1;
}

static void f_stamped_gap(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 5;
}

static void f_stamped_leave_duplicate(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_gen = 1;
	q->gen = 3;
}

static void f_stamped_leave_gap(struct rnl_req *q, struct rnl_member *m)
{
	leave_a(q, m);
	q->has_gen = 1;
	q->gen = 9;
}

static void f_stamped_vpn_del_old(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_del(1, 2);
}

static void f_stamped_vpn_del_gap(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_del(1, 5);
}

static void f_resync_old(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->has_gen = 1;
	q->gen = 2;
	q->has_flags = 1;
	q->rflags = F_RS;
}

static void f_stamped_vpn_new_existing(struct rnl_req *q,
				       struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_new(2, 0, 2);
}

static void f_stamped_join_missing_vpn(struct rnl_req *q,
				       struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 99;
	q->has_gen = 1;
	q->gen = 2;
}

static void f_stamped_leave_missing_vpn(struct rnl_req *q,
					struct rnl_member *m)
{
	leave_a(q, m);
	q->vpn = 99;
	q->has_gen = 1;
	q->gen = 2;
}

static void f_stamped_vpn_del_missing(struct rnl_req *q,
				      struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_del(99, 2);
}

static void f_follower_unstamped_join(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 3;
}

static void f_follower_unstamped_leave(struct rnl_req *q,
				       struct rnl_member *m)
{
	struct rnl_member f;

	rnl_member_make(&f, 7, 0, 0);
	rnl_member_id_only(m, &f);
	*q = req_leave(3, m, 0, 0);
}

static void f_follower_unstamped_vpn_del(struct rnl_req *q,
					 struct rnl_member *m)
{
	(void)m;
	*q = req_vpn_del(3, 0);
}

static void f_follower_stamped_old(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 3;
	q->has_gen = 1;
	q->gen = 11;
}

static void f_follower_stamped_gap(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 3;
	q->has_gen = 1;
	q->gen = 13;
}

static void f_prefix_equal(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "100.0.4.0/24");
}

static void f_prefix_inside(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 2;
	rnl_set_pfx(&m->pfx[0], "10.77.0.0/16");
	rnl_set_pfx(&m->pfx[1], "104.0.4.128/25");
}

static void f_prefix_covering(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 2;
	rnl_set_pfx(&m->pfx[0], "10.77.0.0/16");
	rnl_set_pfx(&m->pfx[1], "100.0.0.0/16");
}

static void f_prefix_default_route(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "0.0.0.0/0");
}

static void f_prefix_intra_overlap(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	m->npfx = 2;
	rnl_set_pfx(&m->pfx[0], "10.5.0.0/16");
	rnl_set_pfx(&m->pfx[1], "10.5.1.0/24");
}

static void f_nested_equal(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	q->vpn = 4;
	m->npfx = 2;
	rnl_set_pfx(&m->pfx[0], "10.129.0.0/16");	/* nested: fine */
	rnl_set_pfx(&m->pfx[1], "10.128.0.0/9");	/* equal: not */
}

static void f_replace_overlap(struct rnl_req *q, struct rnl_member *m)
{
	join_c(q, m);
	rnl_member_make(m, 5, 1, 0);	/* B */
	m->npfx = 1;
	rnl_set_pfx(&m->pfx[0], "104.0.0.0/8");
}

static void f_stamped_leave_delete_empty(struct rnl_req *q,
					struct rnl_member *m)
{
	leave_a(q, m);
	q->has_gen = 1;
	q->gen = 4;
	q->has_flags = 1;
	q->rflags = F_DE;
}

static void f_vpn_set_nothing(struct rnl_req *q, struct rnl_member *m)
{
	(void)m;
	*q = (struct rnl_req){ .cmd = ROSTER_CMD_VPN_SET, .has_vpn = 1,
			       .vpn = 1 };
}

static void f_vpn_set_missing_vpn_id(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_vpn = 0;
	q->has_gen = 1;
	q->gen = 4;
}

static void f_vpn_set_unknown_vpn(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->vpn = 99;
	q->has_gen = 1;
	q->gen = 4;
}

static void f_vpn_set_create_only(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_gen = 1;
	q->gen = 4;
	q->has_flags = 1;
	q->rflags = F_CO;
}

static void f_vpn_set_resync_unstamped(struct rnl_req *q,
				       struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_flags = 1;
	q->rflags = F_RS;
	q->has_vflags = 1;
	q->vflags = VF_FOL;
}

static void f_vpn_set_nested_on(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_vflags = 1;
	q->vflags = VF_NEST;
}

static void f_vpn_set_nested_off(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->vpn = 4;
	q->has_vflags = 1;
	q->vflags = 0;
}

static void f_vpn_set_unknown_vpn_flag(struct rnl_req *q,
				       struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_vflags = 1;
	q->vflags = 4;
}

static void f_vpn_set_old(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_gen = 1;
	q->gen = 3;
}

static void f_vpn_set_gap(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->has_gen = 1;
	q->gen = 5;
}

static void f_vpn_set_resync_old(struct rnl_req *q, struct rnl_member *m)
{
	f_vpn_set_nothing(q, m);
	q->vpn = 3;
	q->has_gen = 1;
	q->gen = 10;
	q->has_flags = 1;
	q->rflags = F_RS;
}

#define BAD(n, e, ...)							\
	FIXTURE_VARIANT_ADD(bad, n) { .name = #n, .err = e,		\
				      .fill = f_##n, __VA_ARGS__ }

BAD(missing_vpn_id, EINVAL, .miss = ROSTER_A_VPN_ID);
BAD(vpn_new_missing_vpn_id, EINVAL, .miss = ROSTER_A_VPN_ID);
BAD(missing_member, EINVAL, .miss = ROSTER_A_MEMBER);
BAD(empty_member, EINVAL);
BAD(missing_id, EINVAL);
BAD(missing_key, EINVAL, .miss = ROSTER_A_MEMBER_PUBLIC_KEY);
BAD(key_len_31, ERANGE);
BAD(key_len_33, ERANGE);
BAD(id_ipv4_len_5, EINVAL);
BAD(id_ipv4_len_16, EINVAL);
BAD(id_ipv6_len_4, ERANGE);
BAD(id_both, EINVAL);
BAD(endpoint_both, EINVAL);
BAD(endpoint_ipv6_len_4, ERANGE);
BAD(endpoint_ipv4_len_16, EINVAL);
BAD(prefix_ipv4_len_3, EINVAL);
BAD(prefix_ipv6_len_4, ERANGE);
BAD(prefix_both, EINVAL);
BAD(prefix_missing_addr, EINVAL);
BAD(prefix_missing_len, EINVAL, .miss = ROSTER_A_PREFIX_LEN);
BAD(v4_prefix_len_33, EINVAL);
BAD(v6_prefix_len_129, ERANGE);
BAD(v4_host_bits, EINVAL);
BAD(v6_host_bits, EINVAL);
BAD(duplicate_prefix, EINVAL);
BAD(33_prefixes, E2BIG);
BAD(endpoint_without_port, EINVAL);
BAD(port_without_endpoint, EINVAL);
BAD(port_zero, ERANGE);
BAD(unknown_flag_bit, EINVAL);
BAD(unknown_reason, ERANGE);
BAD(unknown_attr, EINVAL);
BAD(join_with_member_count, EINVAL);
BAD(vpn_new_with_member_count, EINVAL);
BAD(vpn_new_with_flags, EINVAL);
BAD(vpn_new_unknown_vpn_flag, EINVAL);
BAD(unknown_member_attr, EINVAL);
BAD(join_time_unstamped, EINVAL);
BAD(join_gen_unstamped, EINVAL);
BAD(join_gen_zero, ERANGE);
BAD(join_gen_above_stamp, EINVAL);
BAD(generation_zero, ERANGE);
BAD(leave_unknown_member, ENOENT);
BAD(leave_unknown_vpn, ENOENT);
BAD(leave_missing_member, EINVAL, .miss = ROSTER_A_MEMBER);
BAD(leave_with_key, EINVAL);
BAD(leave_with_prefix, EINVAL);
BAD(member_dump_with_member, EINVAL);
BAD(member_dump_unknown_vpn, ENOENT);
BAD(member_get_missing_member, EINVAL, .miss = ROSTER_A_MEMBER);
BAD(member_get_with_key, EINVAL);
BAD(vpn_id_zero_new, ERANGE);
BAD(vpn_id_zero_join, ERANGE);
BAD(vpn_new_existing, EEXIST);
BAD(vpn_del_unknown, ENOENT);
BAD(rejoin_create_only, EEXIST);
BAD(join_nlm_excl, EINVAL, .all = CORE_FLAGS_TEXT);
BAD(join_nlm_replace, EINVAL, .all = CORE_FLAGS_TEXT);
BAD(vpn_new_nlm_excl, EINVAL, .all = CORE_FLAGS_TEXT);
BAD(join_delete_empty, EINVAL);
BAD(leave_create_only, EINVAL);
BAD(join_resync_unstamped, EINVAL);
BAD(leave_resync_unstamped, EINVAL);
BAD(stamped_duplicate, EALREADY, .gen = 3);
BAD(stamped_old, EALREADY, .gen = 3);
BAD(stamped_gap, ESTALE, .gen = 3);
BAD(stamped_leave_duplicate, EALREADY, .gen = 3);
BAD(stamped_leave_gap, ESTALE, .gen = 3);
BAD(stamped_vpn_del_old, EALREADY, .gen = 3);
BAD(stamped_vpn_del_gap, ESTALE, .gen = 3);
BAD(resync_old, EALREADY, .gen = 3);
BAD(stamped_vpn_new_existing, EEXIST);
BAD(stamped_join_missing_vpn, ENOENT);
BAD(stamped_leave_missing_vpn, ENOENT);
BAD(stamped_vpn_del_missing, ENOENT);
BAD(follower_unstamped_join, EPERM, .all = FOLLOWER_TEXT, .fmt = "VPN 3");
BAD(follower_unstamped_leave, EPERM, .all = FOLLOWER_TEXT);
BAD(follower_unstamped_vpn_del, EPERM, .all = FOLLOWER_TEXT);
BAD(follower_stamped_old, EALREADY, .gen = 11);
BAD(follower_stamped_gap, ESTALE, .gen = 11);
BAD(prefix_equal, EADDRINUSE, .fmt = "10.0.0.4", .offs_pfx = 1);
BAD(prefix_inside, EADDRINUSE, .fmt = "10.0.0.4", .offs_pfx = 2);
BAD(prefix_covering, EADDRINUSE, .fmt = "10.0.0.4", .offs_pfx = 2);
BAD(prefix_default_route, EADDRINUSE, .fmt = "10.0.0.4", .offs_pfx = 1);
BAD(prefix_intra_overlap, EINVAL);
BAD(nested_equal, EADDRINUSE, .fmt = "10.0.0.8", .offs_pfx = 2);
BAD(replace_overlap, EADDRINUSE, .fmt = "10.0.0.4", .offs_pfx = 1);
BAD(stamped_leave_delete_empty, EINVAL);
BAD(vpn_set_nothing, EINVAL);
BAD(vpn_set_missing_vpn_id, EINVAL, .miss = ROSTER_A_VPN_ID);
BAD(vpn_set_unknown_vpn, ENOENT);
BAD(vpn_set_create_only, EINVAL);
BAD(vpn_set_resync_unstamped, EINVAL);
BAD(vpn_set_nested_on, EINVAL);
BAD(vpn_set_nested_off, EINVAL);
BAD(vpn_set_unknown_vpn_flag, EINVAL);
BAD(vpn_set_old, EALREADY, .gen = 3);
BAD(vpn_set_gap, ESTALE, .gen = 3);
BAD(vpn_set_resync_old, EALREADY, .gen = 11);

TEST_F(bad, rejected)
{
	struct rnl_req q;
	struct rnl_member m;
	struct rnl_res r;
	struct snap s1, s2;

	memset(&q, 0, sizeof(q));
	memset(&m, 0, sizeof(m));
	variant->fill(&q, &m);

	snap_take(_metadata, &self->c, &s1);
	ASSERT_EQ(4, s1.vpns.nmsgs);
	ASSERT_EQ(4, s1.mems.nmsgs);

	rnl_res_init(&r);
	rnl_request(self->c.sk, self->c.fam, &q, &r);
	/* the row of the errors table, for checking uapi.rst */
	fprintf(stderr, "# errno-table: %-28s %-10s %3d  extack '%s'%s\n",
		variant->name, strerrorname_np(-r.err) ?: "?", -r.err, r.ext,
		r.cookie_len == 8 ? " (cookie)" : "");
	if (variant->gen)
		expect_gen_refusal(_metadata, &r, variant->err, variant->gen,
				   variant->name);
	else
		expect_err(_metadata, &r, variant->err, variant->name);
	expect_text(_metadata, &r, variant->all,
		    variant->err == EADDRINUSE ? NULL : variant->fmt);
	if (variant->offs_pfx) {
		if (!r.has_offs ||
		    r.offs != r.req_pfx_off[variant->offs_pfx - 1])
			TH_LOG("NLMSGERR_ATTR_OFFS %s%u, want %u",
			       r.has_offs ? "" : "(absent) ", r.offs,
			       r.req_pfx_off[variant->offs_pfx - 1]);
		ASSERT_TRUE(r.has_offs);
		ASSERT_EQ(r.req_pfx_off[variant->offs_pfx - 1], r.offs);
	}
	if (variant->miss)
		ASSERT_EQ(variant->miss, r.miss_type);
	if (variant->err == EADDRINUSE)
		expect_holder(_metadata, &r, variant->fmt);
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

/* ---- limits: per-netns sysctls ---------------------------------------- */

TEST_F_TIMEOUT(roster, limit_max_vpns, 120)
{
	struct rnl_member m;
	struct rnl_req q;
	long i;

	ASSERT_EQ(1024, read_sysctl("max_vpns"));
	ASSERT_EQ(0, write_sysctl("max_vpns", "4"));
	ASSERT_EQ(4, read_sysctl("max_vpns"));
	for (i = 1; i <= 4; i++)
		ok_vpn_new(_metadata, &self->c, i);

	q = req_vpn_new(5, 0, 0);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_vpns", NULL, -1,
		       "vpn-new over max_vpns", NULL);
	q = req_vpn_new(5, VF_FOL, 100);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_vpns", NULL, -1,
		       "stamped vpn-new over max_vpns", NULL);
	/* a join that would create a VPN hits the same limit */
	rnl_member_make(&m, 1, 0, 0);
	q = req_join(6, &m, 0, 0);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_vpns", NULL, -1,
		       "join creating a vpn over max_vpns", NULL);
	/* joins into existing VPNs are not VPNs */
	ok_join(_metadata, &self->c, 1, &m, 2, 1);

	/* lowered below the count: the VPNs stay, no new one */
	ASSERT_EQ(0, write_sysctl("max_vpns", "2"));
	q = req_vpn_new(5, 0, 0);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_vpns", NULL, -1,
		       "vpn-new over a lowered max_vpns", NULL);
	ok_vpn_del_ex(_metadata, &self->c, 4, 0);
	ok_vpn_del_ex(_metadata, &self->c, 3, 0);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_vpns", NULL, -1,
		       "vpn-new at a lowered max_vpns", NULL);
	ok_vpn_del_ex(_metadata, &self->c, 2, 0);
	ok_vpn_new(_metadata, &self->c, 5);
	/* raised: room again */
	ASSERT_EQ(0, write_sysctl("max_vpns", "3"));
	ok_vpn_new(_metadata, &self->c, 6);

	/* other netns have their own limit */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(1024, read_sysctl("max_vpns"));
	{
		struct rnl_ctx c2;

		ASSERT_EQ(0, rnl_ctx_open(&c2, 0));
		for (i = 1; i <= 5; i++)
			ok_vpn_new(_metadata, &c2, i);
		rnl_ctx_close(&c2);
	}
}

TEST_F_TIMEOUT(roster, limit_max_members, 120)
{
	struct rnl_member m, x;
	struct rnl_req q;
	long i;

	ASSERT_EQ(131072, read_sysctl("max_members"));
	ASSERT_EQ(0, write_sysctl("max_members", "3"));
	ASSERT_EQ(3, read_sysctl("max_members"));
	for (i = 0; i < 3; i++) {
		rnl_member_make(&m, i, 0, 0);
		ok_join(_metadata, &self->c, 1, &m, 2 + i, i + 1);
	}
	rnl_member_make(&x, 3, 0, 0);
	q = req_join(1, &x, 0, 0);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_members", NULL,
		       -1, "join over max_members", NULL);
	q = req_join(1, &x, F_CO, 0);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_members", NULL,
		       -1, "create-only join over max_members", NULL);
	q = req_join(1, &x, F_RS, 9);
	expect_refused(_metadata, &self->c, &q, ENOSPC, "max_members", NULL,
		       -1, "resync join over max_members", NULL);

	/* replacing an existing member does not grow the VPN */
	rnl_member_make(&m, 0, 0, 3);
	ok_join(_metadata, &self->c, 1, &m, 5, 3);
	/* the limit is per VPN */
	ok_join(_metadata, &self->c, 2, &x, 2, 1);
	/* and a leave makes room */
	ok_leave_ex(_metadata, &self->c, 1, &m, 0, 0, 6, 2);
	ok_join(_metadata, &self->c, 1, &x, 7, 3);
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
	ok_join(_metadata, &self->c, 1, &a, 2, 1);
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
		if (!sk || rnl_resolve(sk, &fam, &grp, NULL, NULL)) {
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
		UNPRIV("vpn-new stamped", .cmd = ROSTER_CMD_VPN_NEW,
		       .has_vpn = 1, .vpn = 2, .has_gen = 1, .gen = 5);
		UNPRIV("vpn-del", .cmd = ROSTER_CMD_VPN_DEL, .has_vpn = 1,
		       .vpn = 1);
		UNPRIV("vpn-get do", .cmd = ROSTER_CMD_VPN_GET, .has_vpn = 1,
		       .vpn = 1);
		UNPRIV("vpn-get dump", .cmd = ROSTER_CMD_VPN_GET,
		       .flags = NLM_F_DUMP);
		UNPRIV("member-join", .cmd = ROSTER_CMD_MEMBER_JOIN,
		       .has_vpn = 1, .vpn = 1, .m = &b);
		UNPRIV("member-join stamped", .cmd = ROSTER_CMD_MEMBER_JOIN,
		       .has_vpn = 1, .vpn = 1, .m = &b, .has_gen = 1,
		       .gen = 3);
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
		/* the limits are the netns root's to set */
		ret = write_sysctl("max_vpns", "5");
		fprintf(stderr, "# unprivileged write of net.roster.max_vpns: %s%s\n",
			strerror(-ret), ret ? "" : " <-- want an error");
		if (!ret)
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
	ASSERT_EQ(1024, read_sysctl("max_vpns"));
}

/* ---- network namespaces ----------------------------------------------- */

TEST_F(roster, netns_isolated)
{
	struct ntf exp1[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 1, 0 },
		{ ROSTER_CMD_MEMBER_JOINED_NTF, 7, 2, 0 },
	};
	struct ntf exp2[] = {
		{ ROSTER_CMD_VPN_NEW_NTF, 7, 1, 0 },
		{ ROSTER_CMD_VPN_NEW_NTF, 8, 1, 0 },
	};
	struct rnl_member a;
	struct rnl_ctx c2;
	struct rnl_res r;
	struct snap s;
	int ns1, ns2;

	ns1 = open("/proc/self/ns/net", O_RDONLY);
	ASSERT_GE(ns1, 0);
	rnl_member_make(&a, 1, 0, 0);
	ok_join(_metadata, &self->c, 7, &a, 2, 1);

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
	ok_vpn_del_ex(_metadata, &c2, 7, 0);
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
		rnl_join(&j->c, j->vpn, &m, 0, &r);
		if (r.err || r.nlerr || !r.acked || r.nmsgs != 1) {
			j->err = r.err ? r.err : -EIO;
			snprintf(j->errmsg, sizeof(j->errmsg),
				 "join %u: err %d nlerr %d extack '%s' msgs %zu",
				 i, r.err, r.nlerr, r.ext, r.nmsgs);
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
	int dups, out_of_range, no_gen;
};

static void dump_mem_cb(struct rnl_res *r, const struct rnl_msg *m,
			const struct rnl_member *mem)
{
	struct dumpcheck *d = r->priv;
	long idx = rnl_id_idx(mem);

	if (!m->has_gen)
		d->no_gen++;
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
	unsigned int i;

	/* the listener is not read during the test: close it */
	nl_socket_free(self->c.mon);
	self->c.mon = NULL;
	/* the members that exist before any dump */
	ok_vpn_new(_metadata, &self->c, 1);
	pipe_joins(_metadata, &self->c, 1, 0, PRE, 2, 1);

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
		d.dups = d.out_of_range = d.no_gen = 0;
		rnl_res_init(&r);
		r.nostore_mems = 1;
		r.nostore_msgs = 1;
		r.on_mem = dump_mem_cb;
		r.priv = &d;
		rnl_member_dump(&self->c, 1, &r);
		if (r.err || r.nlerr || r.seq_bad || r.bad || !r.done_seen ||
		    d.no_gen) {
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
	(void)i;
}

TEST_HARNESS_MAIN
