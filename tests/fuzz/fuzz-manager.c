// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the manager's packet path, end to end through the
 * real modules: manager.c's mgr_handle_packet (this file includes manager.c
 * for it), mgr-request.c, enrol.c, mgr-fanout.c, mgr-restore.c,
 * mgr-ctl.c, rel.c and a real store (store-sqlite.c, in a scratch
 * directory, reset for every input). roster.ko and WireGuard are
 * simulated at the libroster/netif boundary (sim-roster.c, sim-netif.c);
 * what the manager sends is caught at rd_send() and at sendto() (ld
 * --wrap).
 *
 * The input is a sequence of records (fuzz.h, fuzz-manager.h): datagrams
 * from enrolled gateways, an invitee, strangers and foreign ports; ACKs;
 * time passing; notification overruns; reloads; an admin's changes.
 *
 * Oracles, after every record: the table (the simulated kernel's) holds
 * no two overlapping prefixes in a VPN; every member was invited to that
 * VPN, is enrolled, and has its own gateway's key; the store holds what
 * the kernel holds once its notifications are read; at most one list is
 * queued per (gateway, VPN); no peer's queue
 * in rel.c grows past FUZZ_QUEUE_MAX. For every datagram sent: it
 * decodes; membership goes only to enrolled gateways at their control
 * port, never ahead of the store, and a JOIN/LIST shows exactly members
 * of the table, recipient included.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "manager.c"
#include "gw-view.h"

#include "sim.h"
#include "fuzz.h"
#include "fuzz-manager.h"

/* Messages queued to one peer, at most: a bound on what this harness can
 * queue without one in rel.c. With rel.c's bound (bytes per peer,
 * RD_QUEUE_BYTES_DEFAULT and mgr-limit.h's request limit), the oracles
 * check that bound and rel.c's bookkeeping instead. */
#define FUZZ_QUEUE_MAX 4096
/* Allocations that fail on the packet path (finding 7): handled, without
 * a crash. */
#ifndef FUZZ_FAILALLOC
#define FUZZ_FAILALLOC 1
#endif

#define FAKE_FD 1000

static struct rd_config conf;
static struct mgr mg;
static struct roster_handle *admin;
static char dir[128], tmpl[160], run_dir[160];
static struct roster_addr src[MF_NSRC];
static uint8_t gw_key[MF_NGW][32];
static int64_t clock_off;
static bool in_check;

static const uint32_t *invited(unsigned int i, unsigned int *n)
{
	static const uint32_t both[] = { 7, 8 }, eight[] = { 8 }, seven[] = { 7 };

	if (i < MF_NGW - 1) {
		*n = 2;
		return both;
	}
	*n = 1;
	return i == MF_NGW - 1 ? eight : seven;
}

static int src_index(const struct roster_addr *a)
{
	for (unsigned int i = 0; i < MF_NSRC; i++)
		if (rd_addr_eq(&src[i], a))
			return (int)i;
	return -1;
}

/* Gateway i's underlay address (the seeds announce it as the endpoint). */
static struct roster_addr underlay(unsigned int i)
{
	struct roster_addr a = { .family = AF_INET, .addr = { 192, 0, 2, (uint8_t)(10 + i) } };

	return a;
}

static bool observed(const uint8_t key[32], struct roster_addr *ep)
{
	for (unsigned int i = 0; i < MF_NGW; i++)
		if (!memcmp(key, gw_key[i], 32)) {
			*ep = underlay(i);
			return true;
		}
	return false;
}

static bool was_invited(int i, uint32_t vpn)
{
	const uint32_t *v;
	unsigned int n;

	if (i < 0 || (i >= MF_NGW && i != MF_INVITEE))
		return false;
	v = invited((unsigned int)i, &n);
	for (unsigned int k = 0; k < n; k++)
		if (v[k] == vpn)
			return true;
	return false;
}

static const struct sim_vpn *sim_find(uint32_t id)
{
	for (unsigned int i = 0; i < sim.nvpns; i++)
		if (sim.v[i].id == id)
			return &sim.v[i];
	return NULL;
}

static const struct roster_member *sim_member(const struct sim_vpn *v, const struct roster_addr *id)
{
	for (unsigned int i = 0; v && i < v->n; i++)
		if (rd_addr_eq(&v->m[i].id, id))
			return &v->m[i];
	return NULL;
}

/* ---- failing allocations (ld --wrap: the daemon's and the simulation's
 * objects, not SQLite's or libc's own) ---- */

static long fail_countdown = -1;	/* allocations until one fails; -1: none */
static bool alloc_live;			/* inside the manager's code */
static bool alloc_failed;		/* one failed in this input */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static bool alloc_fails(void)
{
	if (!alloc_live || fail_countdown < 0 || fail_countdown--)
		return false;
	alloc_failed = true;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

/* Run the manager's code with allocations failing as armed. */
#define LIVE(stmt) do { alloc_live = true; stmt; alloc_live = false; } while (0)

/* ---- what the manager sends ---- */

/* A message as the manager hands it to rel.c (mgr_send -> rd_send), to p. */
static void on_send(const struct rd_peer *p, const struct rd_msg *m)
{
	struct roster_addr a;
	uint16_t port;
	uint64_t sgen = 0;

	FUZZ_ASSERT(!rd_from_sockaddr((const struct sockaddr *)&p->sa, &a, &port));
	switch (m->type) {
	case RD_JOIN:
	case RD_LIST:
	case RD_NOTIFY:
	case RD_REMOVE:
		/* Membership only to an enrolled gateway's control port. */
		FUZZ_ASSERT(port == conf.control_port && mgr_gw_find(&mg, &a));
		FUZZ_ASSERT(m->has_store_id && !memcmp(m->store_id, mg.store_id, RD_STORE_ID_LEN));
		if (m->flags & RD_F_NOT_MEMBER)
			break;
		/* Never a generation the store does not hold. */
		FUZZ_ASSERT(!rd_store_vpn_generation(mg.st, m->vpn, &sgen) && m->gen <= sgen);
		if (m->type == RD_JOIN || m->type == RD_LIST) {
			const struct sim_vpn *v = sim_find(m->vpn);

			/* The table as it is, to one of its members, without it. */
			FUZZ_ASSERT(v && v->gen == m->gen && sim_member(v, &a));
			for (unsigned int i = 0; i < m->n_members; i++) {
				const struct roster_member *k = sim_member(v, &m->members[i].id);

				FUZZ_ASSERT(k && !memcmp(k->key, m->members[i].key, 32));
				FUZZ_ASSERT(!rd_addr_eq(&m->members[i].id, &a));
			}
		}
		break;
	}
}

int __real_rd_send(struct rd_link *l, struct rd_peer *p, struct rd_msg *m);
int __wrap_rd_send(struct rd_link *l, struct rd_peer *p, struct rd_msg *m);

int __wrap_rd_send(struct rd_link *l, struct rd_peer *p, struct rd_msg *m)
{
	bool live = alloc_live;

	alloc_live = false;
	if (l == &mg.link && m->type != RD_ACK)
		on_send(p, m);
	alloc_live = live;
	return __real_rd_send(l, p, m);
}

/* A datagram as it leaves (first transmission or not): well formed. */
static void on_sent(const uint8_t *buf, size_t len, const struct sockaddr *to)
{
	struct roster_addr a;
	struct rd_msg m;
	const char *why;
	uint16_t port;

	FUZZ_ASSERT(len <= RD_MSG_MAX);
	FUZZ_ASSERT(!rd_from_sockaddr(to, &a, &port));
	if (rd_msg_decode(buf, len, &m, &why))
		fprintf(stderr, "fuzz: the manager sent a malformed message: %s\n", why);
	FUZZ_ASSERT(!why);
	rd_msg_release(&m);
}

ssize_t __real_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen);
ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen);

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen)
{
	bool live = alloc_live;

	if (fd != FAKE_FD)
		return __real_sendto(fd, buf, len, flags, to, tolen);
	alloc_live = false;
	on_sent(buf, len, to);
	alloc_live = live;
	return (ssize_t)len;
}

/* ---- the world ---- */

static void rm_dir(const char *d)
{
	DIR *dh = opendir(d);
	struct dirent *e;
	char p[512];

	if (!dh)
		return;
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
		unlink(p);
	}
	closedir(dh);
	rmdir(d);
}

static void cleanup(void)
{
	rm_dir(run_dir);
	rm_dir(tmpl);
	rmdir(dir);
}

/* A run that crashed left its directory: remove those of dead processes. */
static void remove_stale(const char *base)
{
	DIR *dh = opendir(base);
	struct dirent *e;

	if (!dh)
		return;
	while ((e = readdir(dh))) {
		char d[512], sub[600];
		int pid;

		if (sscanf(e->d_name, "rosterd-fuzz.%d", &pid) != 1 || pid <= 0 ||
		    !kill(pid, 0) || errno != ESRCH)
			continue;
		snprintf(d, sizeof(d), "%s/%s", base, e->d_name);
		snprintf(sub, sizeof(sub), "%s/run", d);
		rm_dir(sub);
		snprintf(sub, sizeof(sub), "%s/template", d);
		rm_dir(sub);
		rmdir(d);
	}
	closedir(dh);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out;
	size_t n;

	if (!in)
		return;
	out = fopen(to, "wb");
	FUZZ_ASSERT(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		FUZZ_ASSERT(fwrite(buf, 1, n, out) == n);
	fclose(in);
	FUZZ_ASSERT(!fclose(out));
}

/* Four enrolled gateways and one invitation, once: every input starts
 * from a copy. */
static void make_template(void)
{
	struct rd_store *st;
	char err[256];

	FUZZ_ASSERT(!rd_store_open(tmpl, &st, err, sizeof(err)));
	for (unsigned int i = 0; i <= MF_NGW; i++) {
		struct rd_entry inv = { .id = src[i], .expiry = (uint64_t)time(NULL) + 86400 * 365 };
		const uint32_t *v = invited(i, &inv.n_vpns);

		memcpy(inv.vpns, v, inv.n_vpns * sizeof(*v));
		memset(inv.key, i == MF_INVITEE ? MF_INVITE_KEY : 0xa0 + (int)i, 32);
		/* 10.(11 + i).0.0/16 and fd00:(11 + i)::/32 each; the fourth
		 * gateway has no list (enrolled before the lists). */
		if (i != MF_NGW - 1) {
			inv.has_prefixes = true;
			inv.n_prefixes = 2;
			inv.prefixes[0] = (struct roster_prefix){ .len = 16, .addr = { .family = AF_INET,
						.addr = { 10, (uint8_t)(11 + i) } } };
			inv.prefixes[1] = (struct roster_prefix){ .len = 32, .addr = { .family = AF_INET6,
						.addr = { 0xfd, 0, 0, (uint8_t)(0x11 + i) } } };
		}
		FUZZ_ASSERT(!rd_store_invite_put(st, &inv, NULL, 0, NULL));
		if (i < MF_NGW) {
			struct rd_entry gw = { .id = src[i] };
			uint8_t old[32];
			bool had;

			memcpy(gw.key, gw_key[i], 32);
			FUZZ_ASSERT(!rd_store_enrol(st, &gw, inv.key, old, &had));
		}
	}
	rd_store_close(st);
}

static void on_done_cb(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	on_done(l, p, pm, acked);
}

static void teardown(void)
{
	if (!mg.st)
		return;
	rd_link_free(&mg.link);
	mgr_enrols_free(&mg);
	mgr_lists_free(&mg);
	mgr_live_free(&mg);
	roster_monitor_close(mg.mon);
	roster_close(mg.rh);
	rd_store_close(mg.st);
	free(mg.gws);
	free(mg.inv);
	memset(&mg, 0, sizeof(mg));
}

static void setup(void)
{
	static const char *const files[] = { RD_STORE_FILE, RD_STORE_FILE "-wal",
					     RD_STORE_FILE "-shm" };
	char a[256], b[256], err[256];

	teardown();
	for (unsigned int i = 0; i < 3; i++) {
		snprintf(a, sizeof(a), "%s/%s", tmpl, files[i]);
		snprintf(b, sizeof(b), "%s/%s", run_dir, files[i]);
		unlink(b);
		copy_file(a, b);
	}
	sim_reset();
	clock_off = 0;
	mg.c = &conf;
	mg.fd = FAKE_FD;
	if (rd_store_open(run_dir, &mg.st, err, sizeof(err))) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	memcpy(mg.store_id, rd_store_identity(mg.st), RD_STORE_ID_LEN);
	memset(mg.priv, 1, sizeof(mg.priv));
	rd_wg_pubkey(mg.pub, mg.priv);
	rd_link_init(&mg.link, FAKE_FD, (int)conf.retry_ms, 8, on_done_cb);
	mg.link.session = 1000;
	mg.link.priv = &mg;
	/* as rd_manager_run sets them */
	mg.link.max_queue = (size_t)conf.peer_queue_kib * 1024;
	mg.link.max_peers = MAX_PEERS;
	mg.limit.rate = conf.request_rate;
	mg.limit.burst = conf.request_burst;
	FUZZ_ASSERT(!mgr_ctl_reload(&mg));
	FUZZ_ASSERT(!roster_open(&mg.rh) && !roster_monitor_open(mg.rh, &mg.mon));
	FUZZ_ASSERT(!mgr_reconcile(&mg, 0, NULL));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	char err[256];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	/* A commit's fsync would cost more than all the rest. */
	setenv("ROSTERD_STORE_SYNC", "off", 1);
	if (getenv("FUZZ_DIR"))
		base = getenv("FUZZ_DIR");
	remove_stale(base);
	snprintf(dir, sizeof(dir), "%s/rosterd-fuzz.%d", base, (int)getpid());
	snprintf(tmpl, sizeof(tmpl), "%s/template", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	FUZZ_ASSERT(!mkdir(dir, 0700) && !mkdir(tmpl, 0700) && !mkdir(run_dir, 0700));
	atexit(cleanup);
	FUZZ_ASSERT(!rd_config_parse("[manager]\nendpoint = 192.0.2.1\n"
				     "control-address = " MF_CONTROL_ADDR "\n"
				     "control-prefix = 10.255.0.0/16\ncontrol-port = 5100\n",
				     RD_ROLE_MANAGER, &conf, err, sizeof(err)));
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s", run_dir);
	for (unsigned int i = 0; i < MF_NSRC; i++)
		FUZZ_ASSERT(!roster_addr_parse(mf_src[i], &src[i]));
	for (unsigned int i = 0; i < MF_NGW; i++)
		memset(gw_key[i], (int)i + 1, 32);
	make_template();
	sim.observed = observed;
	FUZZ_ASSERT(!roster_open(&admin));
	return 0;
}

/* ---- the oracles ---- */

static bool covers(const struct roster_prefix *p, const struct roster_prefix *q)
{
	return p->addr.family == q->addr.family && p->len <= q->len &&
	       rd_prefix_contains(p, &q->addr);
}

/* What a gateway may announce (Documentation/security.rst, "Address
 * space"), checked on the table whatever the manager's code says. */
static void policy_check(const struct sim_vpn *v, const struct roster_member *m,
			 const struct rd_entry *gw)
{
	for (unsigned int a = 0; a < m->n_prefixes; a++) {
		const struct roster_prefix *p = &m->prefixes[a];
		bool listed = !gw->has_prefixes;

		FUZZ_ASSERT(p->len > 0);
		FUZZ_ASSERT(!covers(p, &conf.control_prefix));
		FUZZ_ASSERT(!rd_prefix_contains(p, &conf.endpoint));
		for (unsigned int k = 0; k < v->n; k++)
			FUZZ_ASSERT(!v->m[k].has_endpoint ||
				    !rd_prefix_contains(p, &v->m[k].endpoint));
		for (unsigned int k = 0; k < gw->n_prefixes && !listed; k++)
			listed = covers(&gw->prefixes[k], p);
		FUZZ_ASSERT(listed);
	}
	/* pinned: the endpoint WireGuard sees the gateway at, if any */
	if (conf.endpoint_check == RD_ENDPOINT_PINNED && m->has_endpoint) {
		struct roster_addr ep;

		FUZZ_ASSERT(observed(m->key, &ep) && rd_addr_eq(&ep, &m->endpoint));
	}
}

static void check(void)
{
	in_check = true;
	for (unsigned int i = 0; i < sim.nvpns; i++) {
		const struct sim_vpn *v = &sim.v[i];
		uint64_t sgen;

		/* The store holds what the kernel holds: the notifications
		 * are all read. */
		/* (a failed allocation may leave the store behind for a while:
		 * the mismatch timer reconciles) */
		FUZZ_ASSERT(alloc_failed ||
			    (!rd_store_vpn_generation(mg.st, v->id, &sgen) && sgen == v->gen));
		for (unsigned int k = 0; k < v->n; k++) {
			const struct roster_member *m = &v->m[k];
			const struct rd_entry *gw = mgr_gw_find(&mg, &m->id);
			int who = src_index(&m->id);

			/* Invited to this VPN, enrolled, with its own key. */
			FUZZ_ASSERT(was_invited(who, v->id));
			FUZZ_ASSERT(gw && rd_entry_allows(gw, v->id) && !memcmp(gw->key, m->key, 32));
			if (who < MF_NGW)
				FUZZ_ASSERT(!memcmp(m->key, gw_key[who], 32));
			policy_check(v, m, gw);
			for (unsigned int j = 0; j < k; j++)
				for (unsigned int a = 0; a < m->n_prefixes; a++)
					for (unsigned int b = 0; b < v->m[j].n_prefixes; b++)
						FUZZ_ASSERT(!sim_prefix_overlap(&m->prefixes[a],
										&v->m[j].prefixes[b]));
		}
	}
	for (unsigned int i = 0; i < mg.ngws; i++) {
		FUZZ_ASSERT(memcmp(mg.gws[i].key, mg.pub, 32));
		for (unsigned int j = 0; j < i; j++)
			FUZZ_ASSERT(memcmp(mg.gws[i].key, mg.gws[j].key, 32));
		for (unsigned int j = 0; j < mg.ninv; j++)
			FUZZ_ASSERT(memcmp(mg.gws[i].key, mg.inv[j].key, 32));
	}
	/* At most one list queued per (gateway, VPN): the gateways were
	 * invited to two VPNs at most. */
	FUZZ_ASSERT(mg.nlists <= 2 * mg.ngws);
	{
		unsigned int npeers = 0;

		for (const struct rd_peer *p = mg.link.peers; p; p = p->next, npeers++) {
			unsigned int n = 0, sent = 0;
			size_t bytes = 0;
			bool unsent_seen = false;

			for (const struct rd_pending *pm = p->q; pm; pm = pm->next) {
				n++;
				sent += pm->sent;
				bytes += sizeof(*pm) + pm->len;
				/* the in-flight ones first, then the waiting ones */
				FUZZ_ASSERT(!(unsent_seen && pm->sent));
				unsent_seen |= !pm->sent;
			}
			FUZZ_ASSERT(n <= FUZZ_QUEUE_MAX && sent <= RD_MAX_INFLIGHT);
			/* rel.c's counts and tail are the queue's, and its bound holds */
			FUZZ_ASSERT(p->nq == n && p->ninflight == sent && p->qbytes == bytes);
			FUZZ_ASSERT(!mg.link.max_queue || bytes <= mg.link.max_queue);
			FUZZ_ASSERT(*p->qtail == NULL);
			FUZZ_ASSERT(!p->unsent || !p->unsent->sent);
		}
		FUZZ_ASSERT(npeers == mg.link.npeers &&
			    (!mg.link.max_peers || npeers <= mg.link.max_peers));
	}
	in_check = false;
}

/* ---- the input ---- */

static uint32_t vpn_of(const struct fuzz_rec *r)
{
	uint8_t b = r->len ? r->data[0] : 0;

	return b % 4 == 0 ? 7 : b % 4 == 1 ? 8 : b % 4 == 2 ? 9 : b;
}

static void packet(const uint8_t *data, size_t len, const struct sockaddr *sa, socklen_t salen)
{
	_Alignas(8) uint8_t buf[RD_MSG_MAX + 64];

	/* recv_all drops what does not fit its buffer */
	if (len > sizeof(buf))
		return;
	memcpy(buf, data, len);
	LIVE(mgr_handle_packet(&mg, buf, len, sa, salen));
}

/* The gateway at a (any port) ACKs everything it was sent, as ACK
 * datagrams from the port each went to. */
static void ack_all(const struct roster_addr *a)
{
	for (int round = 0; round < 64; round++) {
		bool any = false;

		for (struct rd_peer *p = mg.link.peers; p; p = p->next) {
			struct roster_addr pa;
			uint16_t port;

			if (rd_from_sockaddr((struct sockaddr *)&p->sa, &pa, &port) || !rd_addr_eq(&pa, a))
				continue;
			for (struct rd_pending *pm = p->q; pm; pm = pm->next) {
				struct rd_msg ack = { .type = RD_ACK, .ack = pm->seq };
				struct sockaddr_storage ss = p->sa;
				socklen_t sl = p->salen;
				uint8_t buf[64];
				int n;

				if (!pm->sent)
					continue;
				n = rd_msg_encode(&ack, buf, sizeof(buf));
				FUZZ_ASSERT(n > 0);
				/* p and its queue may change under the ACK */
				packet(buf, (size_t)n, (struct sockaddr *)&ss, sl);
				any = true;
				break;
			}
			if (any)
				break;
		}
		if (!any)
			return;
	}
}

/* An admin adds an invited gateway by hand (roster member-add), with
 * its own key and a prefix of its own: the manager commits what the
 * kernel did. */
static void admin_add(unsigned int who, uint32_t vpn)
{
	struct roster_member mb = { .id = src[who], .has_key = true, .n_prefixes = 1 };

	if (who >= MF_NGW || !was_invited((int)who, vpn))
		return;
	memcpy(mb.key, gw_key[who], 32);
	mb.prefixes[0] = (struct roster_prefix){ .len = 24, .addr = { .family = AF_INET,
				.addr = { 10, (uint8_t)(11 + who), 200 } } };
	roster_member_add(admin, vpn, &mb, 0, 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rec r;

	fail_countdown = -1;
	alloc_failed = false;
	setup();
	while (fuzz_next(&data, &size, &r)) {
		unsigned int who = MF_SRC(r.op);
		struct sockaddr_storage ss;
		socklen_t sl = rd_sockaddr(&src[who], MF_ALT(r.op) ? MF_ALT_PORT + who : MF_CONTROL_PORT,
					   &ss);

		switch (MF_KIND(r.op)) {
		case MF_PACKET:
		case MF_PACKET_ACK:
			packet(r.data, r.len, (struct sockaddr *)&ss, sl);
			if (MF_KIND(r.op) == MF_PACKET_ACK)
				ack_all(&src[who]);
			break;
		case MF_ACK:
			ack_all(&src[who]);
			break;
		case MF_TIME:
			clock_off += RD_RETRY_CAP_MS + 1;
			LIVE(rd_tick(&mg.link, rd_now_ms() + clock_off));
			/* idle peer records expire (the loop's timer) */
			if (r.len && r.data[0] & 1)
				rd_link_expire(&mg.link, rd_now_ms() + clock_off + PEER_IDLE_MS,
					       PEER_IDLE_MS, keep_peer);
			break;
		case MF_OVERRUN:
			if (r.len && r.data[0] & 1)
				sim_lose_table();
			sim_overrun();
			break;
		case MF_RELOAD:
			if (r.len && FUZZ_FAILALLOC)
				fail_countdown = r.data[0];
			else
				LIVE(mgr_ctl_reload(&mg));
			break;
		case MF_ADMIN_LEAVE:
			if (r.len && r.data[0] & 0x80)
				admin_add(who, vpn_of(&r));
			else
				roster_member_del(admin, vpn_of(&r), &src[who], ROSTER_REASON_ADMIN, 0, 0,
						  NULL);
			break;
		case MF_ADMIN_VPN_DEL:
			roster_vpn_delete(admin, vpn_of(&r), 0);
			break;
		}
		/* What the loop does after every batch of datagrams. */
		LIVE(read_events(&mg));
		LIVE(mgr_lists_flush(&mg));
		check();
	}
	return 0;
}
