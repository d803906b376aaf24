// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: the store on etcd 3.4 (store-etcd.h), through its HTTP/JSON
 * gateway (etcd-http.c). Documentation/etcd.rst describes the keys; in
 * short, under the cluster's prefix P:
 *
 *   P/schema P/identity P/session P/writer       the store's own
 *   P/enrolment                                  the enrolment guard
 *   P/vpn/HHHHHHHH          generation (decimal), the compare-and-set target
 *   P/flags/HHHHHHHH        the VPN's creation flags
 *   P/member/HHHHHHHH/ID    one member (JSON)
 *   P/gateway/ID P/seen/ID  an enrolled gateway (JSON), its last-seen time
 *   P/invite/ID/KEY         a pending invitation (JSON)
 *   P/key/KEY               who holds a key: {"gateway": id} or {"invitation": id}
 *   P/revoked/KEY           a key refused for ever
 *
 * H: the VPN id in 8 hex digits, ID: the id's address bytes in hex, KEY:
 * the public key in hex, so that etcd's byte order of the keys is the
 * ascending order store.h promises.
 *
 * A membership change is one transaction comparing P/vpn/H's value (or
 * its absence) with the generation the change follows: a second manager
 * can never commit over the first. Every enrolment write compares and
 * moves P/enrolment, read in the same snapshot as the records it looks
 * at: its checks (key in use, revoked, invitation present) and its
 * writes are one step for every handle. Every write also puts P/writer,
 * asking for its previous version: that is how a handle tells another's
 * commits from its own (rd_store_changed).
 *
 * A handle also watches its prefix (rd_store_etcd_watch_*), from the
 * revision it opened at: another handle's commit (P/writer holds the
 * writer's nonce, in the same revision as the commit's keys) arrives as
 * it happens, and P/leader's end as soon as etcd revokes the lease.
 * While the watch runs, rd_store_changed costs no request.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "log.h"
#include "store-etcd.h"
#include "etcd-raft.h"
#include "etcd-watch.h"
#include "store-etcd-cache.h"
#include "util.h"

#define KEYLEN 320
/* A read-modify-write that lost the race to another writer. */
#define RETRIES 16
/* Gateways per last-seen transaction: etcd bounds its compares and its
 * operations each by --max-txn-ops (128 by default), and a gateway takes
 * two compares and a put (with P/writer, 61 operations). */
#define SEEN_BATCH 60

struct rd_etcd_store {
	struct rd_etcd *e;
	char prefix[128];
	uint8_t identity[16];
	char nonce[33];
	/* P/writer's revision this handle has accounted for, and whether
	 * another handle wrote since the last rd_store_changed(). */
	int64_t seen;
	bool other;
	/* The VPNs read or written through this handle, each valid while
	 * P/vpn/H's revision is the one it was read at (see vcache_*). */
	struct rd_vcache vc;
	/* Leadership (rd_store_etcd_campaign): the lease this handle holds,
	 * and the fence, P/leader's create revision while this handle is the
	 * leader (0: not). */
	int64_t lease;
	int64_t fence;
	/* Campaigning (until resigned): without the fence, no membership
	 * change commits at all, or a deposed leader's next one would go
	 * through unfenced. */
	bool campaigned;
	/* The watch of the prefix: the revision to start again from, when
	 * to (ms), whether etcd confirmed it, and what it saw for the next
	 * rd_store_etcd_watch_run. */
	struct rd_etcd_watch *w;
	int64_t wfrom;
	int64_t wretry;
	bool wlive;
	bool wcancel;
	char wwhy[256];
	int64_t wcompact;
	unsigned int wflags;
	char desc[1400];
	char err[1400];
};

static int fail(struct rd_etcd_store *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct rd_etcd_store *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- keys and encodings ---------------------------------------------- */

static void hex(const void *p, size_t n, char *out)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

static bool addr_ok(const struct roster_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

static const char *id_hex(const struct roster_addr *a, char *buf)
{
	hex(a->addr, roster_addr_len(a), buf);
	return buf;
}

static const char *key_hex(const uint8_t key[32], char *buf)
{
	hex(key, 32, buf);
	return buf;
}

static const char *k(struct rd_etcd_store *s, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *k(struct rd_etcd_store *s, char *buf, const char *fmt, ...)
{
	size_t n = strlen(s->prefix);
	va_list ap;

	memcpy(buf, s->prefix, n);
	va_start(ap, fmt);
	vsnprintf(buf + n, KEYLEN - n, fmt, ap);
	va_end(ap);
	return buf;
}

static json_t *b64(const char *p, size_t n)
{
	char *e = rd_etcd_b64(p, n);
	json_t *j = e ? json_string(e) : NULL;

	free(e);
	return j;
}

static json_t *bkey(const char *key)
{
	return b64(key, strlen(key));
}

/* The end of the range of every key starting with key. */
static json_t *bprefix_end(const char *key)
{
	char end[KEYLEN];
	size_t n = strlen(key);

	memcpy(end, key, n + 1);
	end[n - 1]++;		/* the prefixes here end in '/': no carry */
	return bkey(end);
}

static json_t *op_range(const char *key, bool prefix, bool keys_only)
{
	json_t *r = json_object();

	json_object_set_new(r, "key", bkey(key));
	if (prefix)
		json_object_set_new(r, "range_end", bprefix_end(key));
	if (keys_only)
		json_object_set_new(r, "keys_only", json_true());
	return json_pack("{s:o}", "request_range", r);
}

static json_t *op_put(const char *key, const char *val)
{
	return json_pack("{s:{s:o, s:o}}", "request_put", "key", bkey(key), "value",
			 b64(val, strlen(val)));
}

static json_t *op_put_json(const char *key, json_t *val)
{
	char *t = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *op = op_put(key, t ? t : "");

	free(t);
	json_decref(val);
	return op;
}

static json_t *op_del(const char *key, bool prefix)
{
	json_t *r = json_pack("{s:o}", "key", bkey(key));

	if (prefix)
		json_object_set_new(r, "range_end", bprefix_end(key));
	return json_pack("{s:o}", "request_delete_range", r);
}

/* key was created at rev (the leader's fence; 0: absent). */
static json_t *cmp_create(const char *key, int64_t rev)
{
	char v[24];

	snprintf(v, sizeof(v), "%" PRId64, rev);
	return json_pack("{s:o, s:s, s:s, s:s}", "key", bkey(key), "target", "CREATE",
			 "result", "EQUAL", "create_revision", v);
}

/* key's last modification is mod (0: the key is absent). */
static json_t *cmp_mod(const char *key, int64_t mod)
{
	char v[24];

	if (!mod)
		return cmp_create(key, 0);
	snprintf(v, sizeof(v), "%" PRId64, mod);
	return json_pack("{s:o, s:s, s:s, s:s}", "key", bkey(key), "target", "MOD", "result",
			 "EQUAL", "mod_revision", v);
}

static json_t *cmp_value(const char *key, const char *val)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", bkey(key), "target", "VALUE", "result",
			 "EQUAL", "value", b64(val, strlen(val)));
}

static void add_u64(json_t *o, const char *f, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	json_object_set_new(o, f, json_string(b));
}

static bool get_u64(const json_t *o, const char *f, uint64_t *v)
{
	const char *t = json_string_value(json_object_get(o, f));
	char *end;

	*v = 0;
	if (!t)
		return !json_object_get(o, f);
	errno = 0;
	*v = strtoull(t, &end, 10);
	return *t && !*end && !errno && *t != '-';
}

static bool parse_u64(const char *t, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(t, &end, 10);
	return *t && !*end && !errno && *t != '-';
}

static bool addr_parse(const char *t, struct roster_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!t)
		return false;
	if (strchr(t, ':')) {
		a->family = AF_INET6;
		return inet_pton(AF_INET6, t, a->addr) == 1;
	}
	a->family = AF_INET;
	return inet_pton(AF_INET, t, a->addr) == 1;
}

static json_t *prefixes_json(const struct roster_prefix *p, unsigned int n)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < n; i++) {
		char b[64];

		snprintf(b, sizeof(b), "%s/%u", rd_ntop(&p[i].addr), p[i].len);
		json_array_append_new(a, json_string(b));
	}
	return a;
}

static bool prefixes_parse(const json_t *a, struct roster_prefix *p, unsigned int *n)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (!json_is_array(a) || json_array_size(a) > ROSTER_PREFIX_MAX)
		return false;
	json_array_foreach(a, i, v) {
		const char *t = json_string_value(v);
		char b[64], *slash;
		unsigned long len;

		if (!t || strlen(t) >= sizeof(b))
			return false;
		strcpy(b, t);
		slash = strchr(b, '/');
		if (!slash)
			return false;
		*slash = 0;
		len = strtoul(slash + 1, NULL, 10);
		memset(&p[i], 0, sizeof(p[i]));
		if (!addr_parse(b, &p[i].addr) || len > roster_addr_len(&p[i].addr) * 8)
			return false;
		p[i].len = (uint8_t)len;
	}
	*n = (unsigned int)json_array_size(a);
	return true;
}

static bool key_parse(const json_t *o, const char *f, uint8_t key[32])
{
	const char *t = json_string_value(json_object_get(o, f));
	size_t n;
	char *d;

	if (!t || rd_etcd_unb64(t, &d, &n))
		return false;
	if (n == 32)
		memcpy(key, d, 32);
	free(d);
	return n == 32;
}

static json_t *key_json(const uint8_t key[32])
{
	return b64((const char *)key, 32);
}

static json_t *member_json(const struct roster_member *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(rd_ntop(&m->id)));
	if (m->has_key)
		json_object_set_new(o, "key", key_json(m->key));
	if (m->has_endpoint) {
		json_object_set_new(o, "endpoint", json_string(rd_ntop(&m->endpoint)));
		json_object_set_new(o, "port", json_integer(m->port));
	}
	json_object_set_new(o, "prefixes", prefixes_json(m->prefixes, m->n_prefixes));
	add_u64(o, "join_time", m->join_time);
	add_u64(o, "join_generation", m->join_generation);
	return o;
}

static bool member_parse(const json_t *o, struct roster_member *m)
{
	json_t *port;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(o) || !addr_parse(json_string_value(json_object_get(o, "id")), &m->id))
		return false;
	if (json_object_get(o, "key")) {
		if (!key_parse(o, "key", m->key))
			return false;
		m->has_key = true;
	}
	if (json_object_get(o, "endpoint")) {
		port = json_object_get(o, "port");
		if (!addr_parse(json_string_value(json_object_get(o, "endpoint")), &m->endpoint) ||
		    !json_is_integer(port) || json_integer_value(port) < 0 ||
		    json_integer_value(port) > 65535)
			return false;
		m->has_endpoint = true;
		m->port = (uint16_t)json_integer_value(port);
	}
	return prefixes_parse(json_object_get(o, "prefixes"), m->prefixes, &m->n_prefixes) &&
	       get_u64(o, "join_time", &m->join_time) &&
	       get_u64(o, "join_generation", &m->join_generation);
}

static json_t *entry_json(const struct rd_entry *e, bool invite)
{
	json_t *o = json_object(), *v = json_array();

	json_object_set_new(o, "id", json_string(rd_ntop(&e->id)));
	json_object_set_new(o, "key", key_json(e->key));
	for (unsigned int i = 0; i < e->n_vpns; i++)
		json_array_append_new(v, json_integer(e->vpns[i]));
	json_object_set_new(o, "vpns", v);
	if (e->has_prefixes)
		json_object_set_new(o, "prefixes", prefixes_json(e->prefixes, e->n_prefixes));
	if (invite)
		add_u64(o, "expiry", e->expiry);
	return o;
}

static bool entry_parse(const json_t *o, struct rd_entry *e)
{
	const json_t *v = json_object_get(o, "vpns"), *x;
	size_t i;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o) || !addr_parse(json_string_value(json_object_get(o, "id")), &e->id) ||
	    !key_parse(o, "key", e->key) || !json_is_array(v) || !json_array_size(v) ||
	    json_array_size(v) > RD_ENTRY_MAX_VPNS || !get_u64(o, "expiry", &e->expiry))
		return false;
	json_array_foreach(v, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) <= 0 ||
		    json_integer_value(x) > UINT32_MAX)
			return false;
		e->vpns[i] = (uint32_t)json_integer_value(x);
	}
	e->n_vpns = (unsigned int)json_array_size(v);
	if (json_object_get(o, "prefixes")) {
		e->has_prefixes = true;
		return prefixes_parse(json_object_get(o, "prefixes"), e->prefixes, &e->n_prefixes);
	}
	return true;
}

/* ---- requests ---------------------------------------------------------- */

static int call(struct rd_etcd_store *s, const char *path, json_t *req, json_t **resp)
{
	s->err[0] = 0;
	return rd_etcd_call(s->e, path, req, resp, s->err, sizeof(s->err));
}

/* The kvs of the i-th range of a transaction's answer (an empty array if
 * none matched: the gateway leaves empty lists out). */
static json_t *kvs(json_t *resp, size_t i)
{
	static json_t *none;
	json_t *r = json_object_get(json_array_get(json_object_get(resp, "responses"), i),
				    "response_range");
	json_t *a = json_object_get(r, "kvs");

	if (!none)
		none = json_array();
	return json_is_array(a) ? a : none;
}

static json_t *kv1(json_t *resp, size_t i)
{
	return json_array_get(kvs(resp, i), 0);
}

/* A kv's value, decoded, malloc'ed; NULL if malformed. */
static char *kv_value(const json_t *kv)
{
	const char *v = json_string_value(json_object_get(kv, "value"));
	char *d;
	size_t n;

	if (!v)
		return strdup("");
	if (rd_etcd_unb64(v, &d, &n) || strlen(d) != n) {
		free(d);
		return NULL;
	}
	return d;
}

/* A kv's key after the store's prefix and skip, decoded, into buf. */
static bool kv_key(struct rd_etcd_store *s, const json_t *kv, const char *skip, char *buf)
{
	const char *v = json_string_value(json_object_get(kv, "key"));
	size_t n, pl = strlen(s->prefix) + strlen(skip);
	char *d;

	if (!v || rd_etcd_unb64(v, &d, &n))
		return false;
	if (n < pl || n - pl >= KEYLEN) {
		free(d);
		return false;
	}
	strcpy(buf, d + pl);
	free(d);
	return true;
}

static json_t *kv_json(const json_t *kv)
{
	char *v = kv_value(kv);
	json_t *j = v ? json_loads(v, 0, NULL) : NULL;

	free(v);
	return j;
}

static int bad(struct rd_etcd_store *s, const char *what)
{
	return fail(s, -EBADMSG, "etcd %s under %s: malformed %s", rd_etcd_endpoint(s->e),
		    s->prefix, what);
}

/* P/leader's value into name ("" if absent) and its create revision
 * (0 if absent). */
static int leader_read(struct rd_etcd_store *s, char *name, size_t len, int64_t *created)
{
	char lk[KEYLEN];
	json_t *r, *x;
	int ret;

	if (len)
		name[0] = '\0';
	*created = 0;
	ret = call(s, "kv/range", json_pack("{s:o}", "key", bkey(k(s, lk, "leader"))), &r);
	if (ret)
		return ret;
	x = json_array_get(json_object_get(r, "kvs"), 0);
	if (x) {
		char *v = kv_value(x);

		*created = rd_etcd_int(x, "create_revision");
		if (len)
			snprintf(name, len, "%s", v ? v : "?");
		free(v);
	}
	json_decref(r);
	return 0;
}

/*
 * A fenced transaction failed: was it the fence? Then another manager
 * leads (or none does), and this handle stops being the leader before
 * it tells anyone anything: -EPERM.
 */
static int fenced(struct rd_etcd_store *s)
{
	char name[64];
	int64_t created;
	int ret;

	ret = leader_read(s, name, sizeof(name), &created);
	if (ret)
		return ret;
	if (created == s->fence)
		return 0;
	s->fence = 0;
	return fail(s, -EPERM, "this manager is no longer the leader (%s)",
		    name[0] ? name : "no manager leads now");
}

/* Ranges ops[] read in one snapshot (a transaction without compares). */
static int snapshot(struct rd_etcd_store *s, json_t *ops, json_t **resp)
{
	return call(s, "kv/txn", json_pack("{s:o}", "success", ops), resp);
}

/*
 * A write: if every compare holds, the ops (and P/writer) are applied.
 * *ok says whether they were; with failure ops, their answers are in
 * *resp (else *resp may be NULL).
 */
static int txn(struct rd_etcd_store *s, json_t *cmp, json_t *ops, json_t *fail_ops, bool *ok,
	       json_t **resp)
{
	char wk[KEYLEN];
	json_t *req, *r = NULL, *w;
	int ret;

	*ok = false;
	if (s->fence)
		json_array_append_new(cmp, cmp_create(k(s, wk, "leader"), s->fence));
	json_array_append_new(ops, json_pack("{s:{s:o, s:o, s:b}}", "request_put", "key",
					     bkey(k(s, wk, "writer")), "value",
					     b64(s->nonce, strlen(s->nonce)), "prev_kv", 1));
	req = json_pack("{s:o, s:o}", "compare", cmp, "success", ops);
	if (fail_ops)
		json_object_set_new(req, "failure", fail_ops);
	ret = call(s, "kv/txn", req, &r);
	if (ret == -E2BIG) {
		size_t l = strlen(s->err);

		snprintf(s->err + l, sizeof(s->err) - l, " (one change is one transaction: raise "
			 "etcd's --max-txn-ops or --max-request-bytes, Documentation/etcd.rst)");
	}
	if (ret)
		return ret;
	*ok = json_is_true(json_object_get(r, "succeeded"));
	if (!*ok && s->fence) {
		ret = fenced(s);
		if (ret) {
			json_decref(r);
			return ret;
		}
	}
	if (*ok) {
		json_t *rs = json_object_get(r, "responses");

		w = json_object_get(json_array_get(rs, json_array_size(rs) - 1), "response_put");
		if (rd_etcd_int(json_object_get(w, "prev_kv"), "mod_revision") > s->seen)
			s->other = true;
		s->seen = rd_etcd_int(json_object_get(r, "header"), "revision");
	}
	if (resp)
		*resp = r;
	else
		json_decref(r);
	return 0;
}

/* ---- open -------------------------------------------------------------- */

int rd_store_etcd_open(const struct rd_etcd_conf *c, struct rd_etcd_store **out, char *err,
		       size_t errlen)
{
	struct rd_etcd_store *s;
	char ki[KEYLEN], ks[KEYLEN], kw[KEYLEN];
	int ret;

	*out = NULL;
	if (!c->prefix[0] || strlen(c->prefix) >= sizeof(s->prefix) - 64 ||
	    c->prefix[strlen(c->prefix) - 1] != '/') {
		snprintf(err, errlen, "etcd-prefix: must end with '/' (at most 60 bytes), got '%s'",
			 c->prefix);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	strcpy(s->prefix, c->prefix);
	{
		uint8_t n[16];

		rd_random(n, sizeof(n));
		hex(n, sizeof(n), s->nonce);
	}
	ret = rd_etcd_open(c, &s->e, err, errlen);
	if (ret) {
		free(s);
		return ret;
	}
	snprintf(s->desc, sizeof(s->desc), "etcd cluster %s, prefix %s", c->endpoints, s->prefix);
	k(s, ki, "identity");
	k(s, ks, "schema");
	k(s, kw, "writer");
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *r, *id, *sc;
		char *v;
		bool ok;

		ret = snapshot(s, json_pack("[o, o, o]", op_range(ki, false, false),
					    op_range(ks, false, false), op_range(kw, false, false)),
			       &r);
		if (ret)
			break;
		id = kv1(r, 0);
		sc = kv1(r, 1);
		if (!id) {
			/* A new store: its identity, once, whoever comes first. */
			uint8_t n[16];
			char h[33], lv[12];

			json_decref(r);
			rd_random(n, sizeof(n));
			hex(n, sizeof(n), h);
			snprintf(lv, sizeof(lv), "%d", RD_STORE_ETCD_LAYOUT);
			ret = txn(s, json_pack("[o]", cmp_mod(ki, 0)),
				  json_pack("[o, o]", op_put(ki, h), op_put(ks, lv)), NULL, &ok, NULL);
			if (ret)
				break;
			if (ok)
				rd_info("store: new etcd store under %s", s->prefix);
			continue;
		}
		v = kv_value(sc);
		{
			uint64_t layout = 0;

			if (!v || !parse_u64(v, &layout) || layout > RD_STORE_ETCD_LAYOUT) {
				fail(s, -EPROTO, "etcd store under %s: layout '%s' is not one this "
				     "rosterd knows (%d); upgrade rosterd", s->prefix, v ? v : "?",
				     RD_STORE_ETCD_LAYOUT);
				ret = -EPROTO;
			}
		}
		free(v);
		v = ret ? NULL : kv_value(id);
		if (!ret && (!v || strlen(v) != 32 || strspn(v, "0123456789abcdef") != 32))
			ret = bad(s, "identity");
		for (unsigned int i = 0; !ret && i < 16; i++) {
			unsigned int b;

			sscanf(v + 2 * i, "%2x", &b);
			s->identity[i] = (uint8_t)b;
		}
		free(v);
		/* Other handles' writes before the open are no change. */
		s->seen = rd_etcd_int(kv1(r, 2), "mod_revision");
		/* The caller reads what it needs after the open: the watch
		 * starts where this snapshot ends. */
		s->wfrom = rd_etcd_int(json_object_get(r, "header"), "revision") + 1;
		json_decref(r);
		if (!ret)
			*out = s;
		break;
	}
	if (!ret && !*out)
		ret = fail(s, -EBUSY, "etcd store under %s: cannot create it", s->prefix);
	if (ret) {
		snprintf(err, errlen, "%s", s->err);
		rd_store_etcd_close(s);
	}
	return ret;
}

void rd_store_etcd_close(struct rd_etcd_store *s)
{
	if (!s)
		return;
	rd_vcache_clear(&s->vc);
	rd_etcd_watch_free(s->w);
	rd_etcd_close(s->e);
	free(s);
}

const uint8_t *rd_store_etcd_identity(const struct rd_etcd_store *s)
{
	return s->identity;
}

const char *rd_store_etcd_describe(const struct rd_etcd_store *s)
{
	return s->desc;
}

const char *rd_store_etcd_errmsg(const struct rd_etcd_store *s)
{
	return s->err[0] ? s->err : "no error";
}

/* ---- membership -------------------------------------------------------- */

static int vpns_push(struct rd_store_vpn **v, unsigned int *n, unsigned int *cap)
{
	if (*n == *cap) {
		unsigned int nc = *cap ? *cap * 2 : 16;
		struct rd_store_vpn *nv = realloc(*v, nc * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	(*n)++;
	return 0;
}

/* The VPNs of a snapshot: generations (range gi), flags (fi), members (mi
 * or none). */
static int vpns_of(struct rd_etcd_store *s, json_t *r, size_t gi, size_t fi, ssize_t mi,
		   struct rd_store_vpn **out, unsigned int *n)
{
	struct rd_store_vpn *v = NULL;
	unsigned int cnt = 0, cap = 0;
	json_t *kv, *fl = kvs(r, fi);
	size_t i, f = 0, m = 0;
	int ret = 0;

	json_array_foreach(kvs(r, gi), i, kv) {
		char key[KEYLEN], fkey[KEYLEN] = "", *val;
		struct rd_store_vpn *x;
		unsigned long id;
		uint64_t flags;

		if (!kv_key(s, kv, "vpn/", key) || strlen(key) != 8 ||
		    (id = strtoul(key, NULL, 16)) == 0 || (ret = vpns_push(&v, &cnt, &cap))) {
			ret = ret ? ret : bad(s, "VPN key");
			break;
		}
		x = &v[cnt - 1];
		x->id = (uint32_t)id;
		val = kv_value(kv);
		if (!val || !parse_u64(val, &x->generation)) {
			free(val);
			ret = bad(s, "VPN generation");
			break;
		}
		free(val);
		/* Both lists are in key order: walk them together. */
		while (f < json_array_size(fl) && kv_key(s, json_array_get(fl, f), "flags/", fkey) &&
		       strcmp(fkey, key) < 0)
			f++;
		val = f < json_array_size(fl) && !strcmp(fkey, key) ?
			      kv_value(json_array_get(fl, f)) : NULL;
		if (!val || !parse_u64(val, &flags) || flags > UINT32_MAX) {
			free(val);
			ret = bad(s, "VPN flags");
			break;
		}
		free(val);
		x->flags = (uint32_t)flags;
		if (mi < 0)
			continue;
		for (json_t *ma = kvs(r, (size_t)mi); m < json_array_size(ma); m++) {
			char mk[KEYLEN];
			json_t *j;

			if (!kv_key(s, json_array_get(ma, m), "member/", mk) || strlen(mk) < 9) {
				ret = bad(s, "member key");
				break;
			}
			if (strncmp(mk, key, 8) < 0)
				continue;	/* an orphan, of no VPN: ignored */
			if (strncmp(mk, key, 8) > 0)
				break;
			if (!(x->n & (x->n - 1)) || !x->n) {
				unsigned int nc = x->n ? x->n * 2 : 4;
				struct roster_member *nm = realloc(x->members, nc * sizeof(*nm));

				if (!nm) {
					ret = -ENOMEM;
					break;
				}
				x->members = nm;
			}
			j = kv_json(json_array_get(ma, m));
			if (!member_parse(j, &x->members[x->n])) {
				json_decref(j);
				ret = bad(s, "member record");
				break;
			}
			json_decref(j);
			x->n++;
		}
		if (ret)
			break;
	}
	if (ret) {
		rd_store_vpns_free(v, cnt);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int load(struct rd_etcd_store *s, struct rd_store_vpn **out, unsigned int *n,
		bool members)
{
	char kv[KEYLEN], kf[KEYLEN], km[KEYLEN];
	json_t *ops, *r;
	int ret;

	*out = NULL;
	*n = 0;
	ops = json_pack("[o, o]", op_range(k(s, kv, "vpn/"), true, false),
			op_range(k(s, kf, "flags/"), true, false));
	if (members)
		json_array_append_new(ops, op_range(k(s, km, "member/"), true, false));
	ret = snapshot(s, ops, &r);
	if (ret)
		return ret;
	ret = vpns_of(s, r, 0, 1, members ? 2 : -1, out, n);
	json_decref(r);
	if (!ret && !*n) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

int rd_store_etcd_load(struct rd_etcd_store *s, struct rd_store_vpn **out, unsigned int *n)
{
	return load(s, out, n, true);
}

int rd_store_etcd_vpn_list(struct rd_etcd_store *s, struct rd_store_vpn **out, unsigned int *n)
{
	return load(s, out, n, false);
}

int rd_store_etcd_vpn_get(struct rd_etcd_store *s, uint32_t id, struct rd_store_vpn *out)
{
	char kv[KEYLEN], kf[KEYLEN], km[KEYLEN];
	struct rd_vcache_entry *ce;
	struct rd_store_vpn *v;
	unsigned int n;
	json_t *r, *x;
	int ret;

	memset(out, 0, sizeof(*out));
	k(s, kv, "vpn/%08x", id);
	if ((ce = rd_vcache_get(&s->vc, id))) {
		ret = call(s, "kv/range", json_pack("{s:o}", "key", bkey(kv)), &r);
		if (ret)
			return ret;
		x = json_array_get(json_object_get(r, "kvs"), 0);
		if (x && rd_etcd_int(x, "mod_revision") == ce->mod) {
			json_decref(r);
			*out = ce->v;
			if (!out->n)
				return 0;
			out->members = malloc(out->n * sizeof(*out->members));
			if (!out->members)
				return -ENOMEM;
			memcpy(out->members, ce->v.members, out->n * sizeof(*out->members));
			return 0;
		}
		json_decref(r);
		rd_vcache_drop(&s->vc, id);
	}
	ret = snapshot(s, json_pack("[o, o, o]", op_range(kv, false, false),
				    op_range(k(s, kf, "flags/%08x", id), false, false),
				    op_range(k(s, km, "member/%08x/", id), true, false)),
		       &r);
	if (ret)
		return ret;
	ret = vpns_of(s, r, 0, 1, 2, &v, &n);
	if (!ret && n)
		rd_vcache_store(&s->vc, &v[0], rd_etcd_int(kv1(r, 0), "mod_revision"));
	json_decref(r);
	if (ret)
		return ret;
	if (!n) {
		free(v);
		return fail(s, -ENOENT, "VPN %u is not in the store", id);
	}
	*out = v[0];
	free(v);
	return 0;
}

int rd_store_etcd_vpn_generation(struct rd_etcd_store *s, uint32_t id, uint64_t *gen)
{
	char kv[KEYLEN], *v;
	json_t *r, *x;
	int ret;

	ret = call(s, "kv/range", json_pack("{s:o}", "key", bkey(k(s, kv, "vpn/%08x", id))), &r);
	if (ret)
		return ret;
	x = json_array_get(json_object_get(r, "kvs"), 0);
	v = x ? kv_value(x) : NULL;
	if (!x)
		ret = fail(s, -ENOENT, "VPN %u is not in the store", id);
	else if (!v || !parse_u64(v, gen))
		ret = bad(s, "VPN generation");
	free(v);
	json_decref(r);
	return ret;
}

static int member_check(struct rd_etcd_store *s, uint32_t vpn, const struct roster_member *m)
{
	if (!addr_ok(&m->id))
		return fail(s, -EINVAL, "VPN %u: member with no IPv4 or IPv6 id", vpn);
	if (m->has_endpoint && !addr_ok(&m->endpoint))
		return fail(s, -EINVAL, "VPN %u: member %s: endpoint is neither IPv4 nor IPv6",
			    vpn, rd_ntop(&m->id));
	if (m->n_prefixes > ROSTER_PREFIX_MAX)
		return fail(s, -EINVAL, "VPN %u: member %s: %u prefixes (at most %u)", vpn,
			    rd_ntop(&m->id), m->n_prefixes, ROSTER_PREFIX_MAX);
	for (unsigned int i = 0; i < m->n_prefixes; i++) {
		const struct roster_prefix *p = &m->prefixes[i];

		if (!addr_ok(&p->addr) || p->len > roster_addr_len(&p->addr) * 8)
			return fail(s, -EINVAL, "VPN %u: member %s: prefix %u is invalid", vpn,
				    rd_ntop(&m->id), i);
	}
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	const struct roster_addr *x = *(const struct roster_addr *const *)a;
	const struct roster_addr *y = *(const struct roster_addr *const *)b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, roster_addr_len(x));
}

static int change_check(struct rd_etcd_store *s, const struct rd_store_change *c)
{
	if (!c->vpn)
		return fail(s, -EINVAL, "change for VPN 0");
	if (c->op != RD_STORE_VPN_DEL && (!c->gen || c->gen == RD_STORE_ANY_GEN))
		return fail(s, -EINVAL, "VPN %u: invalid generation %llu", c->vpn,
			    (unsigned long long)c->gen);
	if (c->op != RD_STORE_VPN_DEL && c->prev_gen != RD_STORE_ANY_GEN && c->gen < c->prev_gen)
		return fail(s, -EINVAL, "VPN %u: generation %llu would go back from %llu", c->vpn,
			    (unsigned long long)c->gen, (unsigned long long)c->prev_gen);
	switch (c->op) {
	case RD_STORE_MEMBER_PUT:
		if (!c->member)
			return fail(s, -EINVAL, "VPN %u: MEMBER_PUT without a member", c->vpn);
		return member_check(s, c->vpn, c->member);
	case RD_STORE_MEMBER_DEL:
		if (!addr_ok(&c->id))
			return fail(s, -EINVAL, "VPN %u: MEMBER_DEL without an id", c->vpn);
		return 0;
	case RD_STORE_VPN_PUT:
	case RD_STORE_VPN_DEL:
		return 0;
	case RD_STORE_VPN_REPLACE: {
		const struct roster_addr **ids;
		int ret = 0;

		if (c->n && !c->members)
			return fail(s, -EINVAL, "VPN %u: VPN_REPLACE without members", c->vpn);
		for (unsigned int i = 0; i < c->n; i++) {
			ret = member_check(s, c->vpn, &c->members[i]);
			if (ret)
				return ret;
		}
		/* etcd refuses two puts of one key in a transaction, and the
		 * SQLite store refuses a duplicate: the same error here. */
		ids = malloc((c->n + 1) * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		for (unsigned int i = 0; i < c->n; i++)
			ids[i] = &c->members[i].id;
		qsort(ids, c->n, sizeof(*ids), id_cmp);
		for (unsigned int i = 1; !ret && i < c->n; i++)
			if (!id_cmp(&ids[i - 1], &ids[i]))
				ret = fail(s, -EINVAL, "VPN %u: member %s appears twice", c->vpn,
					   rd_ntop(ids[i]));
		free(ids);
		return ret;
	}
	}
	return fail(s, -EINVAL, "VPN %u: unknown change %d", c->vpn, (int)c->op);
}

static int stale(struct rd_etcd_store *s, const struct rd_store_change *c, bool present,
		 uint64_t cur)
{
	char held[48];

	if (present)
		snprintf(held, sizeof(held), "generation %llu", (unsigned long long)cur);
	else
		snprintf(held, sizeof(held), "no such VPN");
	return fail(s, -ESTALE, "VPN %u: the change follows %s %llu, the store holds %s", c->vpn,
		    c->prev_gen ? "generation" : "an absent VPN, not",
		    (unsigned long long)c->prev_gen, held);
}

/* The writes of c on a VPN present or not; mkeys: the members it holds
 * now (VPN_REPLACE only), their kvs. */
static json_t *change_ops(struct rd_etcd_store *s, const struct rd_store_change *c, bool present,
			  json_t *mkeys)
{
	char kv[KEYLEN], kf[KEYLEN], km[KEYLEN], ih[33], g[24], f[12];
	json_t *ops = json_array();

	k(s, kv, "vpn/%08x", c->vpn);
	k(s, kf, "flags/%08x", c->vpn);
	snprintf(g, sizeof(g), "%" PRIu64, c->gen);
	snprintf(f, sizeof(f), "%u", c->vpn_flags);
	if (c->op == RD_STORE_VPN_DEL) {
		json_array_append_new(ops, op_del(kv, false));
		json_array_append_new(ops, op_del(kf, false));
		json_array_append_new(ops, op_del(k(s, km, "member/%08x/", c->vpn), true));
		return ops;
	}
	/* its previous revision tells the cache whether anyone wrote between */
	json_array_append_new(ops, json_pack("{s:{s:o, s:o, s:b}}", "request_put", "key", bkey(kv),
					     "value", b64(g, strlen(g)), "prev_kv", 1));
	if (!present)
		json_array_append_new(ops, op_put(kf, f));
	switch (c->op) {
	case RD_STORE_MEMBER_PUT:
		k(s, km, "member/%08x/%s", c->vpn, id_hex(&c->member->id, ih));
		json_array_append_new(ops, op_put_json(km, member_json(c->member)));
		break;
	case RD_STORE_MEMBER_DEL:
		k(s, km, "member/%08x/%s", c->vpn, id_hex(&c->id, ih));
		json_array_append_new(ops, op_del(km, false));
		break;
	case RD_STORE_VPN_REPLACE: {
		size_t i;
		json_t *x;

		/* The members not in the new set go; the others are put over. */
		json_array_foreach(mkeys, i, x) {
			char mk[KEYLEN];
			bool keep = false;

			if (!kv_key(s, x, "", mk))
				continue;
			for (unsigned int m = 0; !keep && m < c->n; m++) {
				char want[KEYLEN];

				k(s, want, "member/%08x/%s", c->vpn, id_hex(&c->members[m].id, ih));
				keep = !strcmp(want + strlen(s->prefix), mk);
			}
			if (!keep) {
				char full[KEYLEN];

				json_array_append_new(ops, op_del(k(s, full, "%s", mk), false));
			}
		}
		for (unsigned int m = 0; m < c->n; m++) {
			k(s, km, "member/%08x/%s", c->vpn, id_hex(&c->members[m].id, ih));
			json_array_append_new(ops, op_put_json(km, member_json(&c->members[m])));
		}
		break;
	}
	default:
		break;
	}
	return ops;
}

/* The cache after c committed: the answer has P/vpn/H's previous
 * revision in its first put (change_ops). */
static void committed(struct rd_etcd_store *s, const struct rd_store_change *c, json_t *r)
{
	json_t *p = json_object_get(json_array_get(json_object_get(r, "responses"), 0),
				    "response_put");

	rd_vcache_commit(&s->vc, c, rd_etcd_int(json_object_get(p, "prev_kv"), "mod_revision"),
		  rd_etcd_int(json_object_get(r, "header"), "revision"));
}

int rd_store_etcd_commit(struct rd_etcd_store *s, const struct rd_store_change *c)
{
	char kv[KEYLEN], km[KEYLEN], pg[24];
	int ret;

	if (s->campaigned && !s->fence)
		return fail(s, -EPERM, "this manager does not lead: a standby commits no change");
	ret = change_check(s, c);
	if (ret)
		return ret;
	k(s, kv, "vpn/%08x", c->vpn);
	snprintf(pg, sizeof(pg), "%" PRIu64, c->prev_gen);
	/* The common case, one round trip: the compare is on the generation
	 * the caller expects, and the failure branch reads what is there. */
	if (c->prev_gen != RD_STORE_ANY_GEN && c->op != RD_STORE_VPN_REPLACE &&
	    !(c->op == RD_STORE_MEMBER_DEL && !c->prev_gen)) {
		bool present = c->prev_gen != 0, ok;
		json_t *r, *x;
		char *v;

		ret = txn(s, json_pack("[o]", present ? cmp_value(kv, pg) : cmp_mod(kv, 0)),
			  change_ops(s, c, present, NULL),
			  json_pack("[o]", op_range(kv, false, false)), &ok, &r);
		if (ret)
			return ret;
		if (ok) {
			committed(s, c, r);
			json_decref(r);
			return 0;
		}
		x = kv1(r, 0);
		v = x ? kv_value(x) : NULL;
		{
			uint64_t cur = 0;

			if (x && (!v || !parse_u64(v, &cur)))
				ret = bad(s, "VPN generation");
			else
				ret = stale(s, c, x != NULL, cur);
		}
		free(v);
		json_decref(r);
		return ret;
	}
	/* Otherwise read first (the members a replacement removes, or the
	 * generation a change of any generation follows), then write if
	 * nothing moved in between. */
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *r, *x;
		uint64_t cur = 0;
		int64_t mod;
		bool present, ok;
		char *v;

		ret = snapshot(s, json_pack("[o, o]", op_range(kv, false, false),
					    op_range(k(s, km, "member/%08x/", c->vpn), true, true)),
			       &r);
		if (ret)
			return ret;
		x = kv1(r, 0);
		present = x != NULL;
		mod = present ? rd_etcd_int(x, "mod_revision") : 0;
		v = x ? kv_value(x) : NULL;
		if (x && (!v || !parse_u64(v, &cur)))
			ret = bad(s, "VPN generation");
		free(v);
		if (!ret && c->prev_gen != RD_STORE_ANY_GEN &&
		    (c->prev_gen ? !present || cur != c->prev_gen : present))
			ret = stale(s, c, present, cur);
		if (!ret && c->op == RD_STORE_MEMBER_DEL && !present)
			ret = fail(s, -ENOENT, "VPN %u is not in the store", c->vpn);
		if (!ret && c->op == RD_STORE_VPN_DEL && !present) {
			json_decref(r);
			return 0;
		}
		if (ret) {
			json_decref(r);
			return ret;
		}
		{
			json_t *w = NULL;

			ret = txn(s, json_pack("[o]", cmp_mod(kv, mod)),
				  change_ops(s, c, present, kvs(r, 1)), NULL, &ok, &w);
			if (!ret && ok)
				committed(s, c, w);
			json_decref(w);
		}
		json_decref(r);
		if (ret || ok)
			return ret;
	}
	return fail(s, -EBUSY, "VPN %u: other writers kept changing it; try again", c->vpn);
}

/* ---- enrolment --------------------------------------------------------- */

static int entries(struct rd_etcd_store *s, json_t *a, json_t *seen, struct rd_entry **out,
		   unsigned int *n)
{
	struct rd_entry *v = NULL;
	size_t i, f = 0;
	json_t *kv;

	*out = NULL;
	*n = 0;
	if (!json_array_size(a))
		return 0;
	v = calloc(json_array_size(a), sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(a, i, kv) {
		json_t *j = kv_json(kv);
		bool ok = entry_parse(j, &v[i]);

		json_decref(j);
		if (!ok) {
			free(v);
			return bad(s, "gateway or invitation record");
		}
		if (seen) {
			char key[KEYLEN], sk[KEYLEN] = "", ih[33];

			if (!kv_key(s, kv, "gateway/", key) || strcmp(key, id_hex(&v[i].id, ih))) {
				free(v);
				return bad(s, "gateway key");
			}
			while (f < json_array_size(seen) &&
			       kv_key(s, json_array_get(seen, f), "seen/", sk) && strcmp(sk, key) < 0)
				f++;
			if (f < json_array_size(seen) && !strcmp(sk, key)) {
				char *t = kv_value(json_array_get(seen, f));

				if (!t || !parse_u64(t, &v[i].last_seen)) {
					free(t);
					free(v);
					return bad(s, "last-seen time");
				}
				free(t);
			}
		}
	}
	*out = v;
	*n = (unsigned int)json_array_size(a);
	return 0;
}

int rd_store_etcd_gateways(struct rd_etcd_store *s, struct rd_entry **out, unsigned int *n)
{
	char kg[KEYLEN], ks[KEYLEN];
	json_t *r;
	int ret;

	*out = NULL;
	*n = 0;
	ret = snapshot(s, json_pack("[o, o]", op_range(k(s, kg, "gateway/"), true, false),
				    op_range(k(s, ks, "seen/"), true, false)),
		       &r);
	if (ret)
		return ret;
	ret = entries(s, kvs(r, 0), kvs(r, 1), out, n);
	json_decref(r);
	return ret;
}

int rd_store_etcd_invites(struct rd_etcd_store *s, struct rd_entry **out, unsigned int *n)
{
	char ki[KEYLEN];
	json_t *r;
	int ret;

	*out = NULL;
	*n = 0;
	ret = snapshot(s, json_pack("[o]", op_range(k(s, ki, "invite/"), true, false)), &r);
	if (ret)
		return ret;
	ret = entries(s, kvs(r, 0), NULL, out, n);
	json_decref(r);
	return ret;
}

static int entry_check(struct rd_etcd_store *s, const struct rd_entry *e, const char *what)
{
	if (!addr_ok(&e->id))
		return fail(s, -EINVAL, "%s with no IPv4 or IPv6 id", what);
	if (!e->n_vpns || e->n_vpns > RD_ENTRY_MAX_VPNS)
		return fail(s, -EINVAL, "%s %s: %u VPNs (1..%u)", what, rd_ntop(&e->id),
			    e->n_vpns, RD_ENTRY_MAX_VPNS);
	for (unsigned int i = 0; i < e->n_vpns; i++)
		if (!e->vpns[i])
			return fail(s, -EINVAL, "%s %s: VPN 0", what, rd_ntop(&e->id));
	if (e->expiry > INT64_MAX)
		return fail(s, -EINVAL, "%s %s: expiry out of range", what, rd_ntop(&e->id));
	if (e->has_prefixes && e->n_prefixes > ROSTER_PREFIX_MAX)
		return fail(s, -EINVAL, "%s %s: %u prefixes (at most %u)", what, rd_ntop(&e->id),
			    e->n_prefixes, ROSTER_PREFIX_MAX);
	for (unsigned int i = 0; e->has_prefixes && i < e->n_prefixes; i++)
		if (!addr_ok(&e->prefixes[i].addr) ||
		    e->prefixes[i].len > roster_addr_len(&e->prefixes[i].addr) * 8)
			return fail(s, -EINVAL, "%s %s: prefix %u is invalid", what,
				    rd_ntop(&e->id), i);
	return 0;
}

static int revoked_fail(struct rd_etcd_store *s, const char *what)
{
	return fail(s, -EKEYREVOKED, "%s: the key was revoked: make a new one", what);
}

/* Who holds a key, from its P/key/ record: "an enrolled gateway" or "a
 * pending invitation", and the id. */
static const char *holder(const json_t *kv, struct roster_addr *id)
{
	json_t *j = kv_json(kv);
	const char *what = NULL;

	memset(id, 0, sizeof(*id));
	if (addr_parse(json_string_value(json_object_get(j, "gateway")), id))
		what = "an enrolled gateway";
	else if (addr_parse(json_string_value(json_object_get(j, "invitation")), id))
		what = "a pending invitation";
	json_decref(j);
	return what ? what : "a malformed record";
}

static json_t *holder_json(const char *what, const struct roster_addr *id)
{
	return json_pack("{s:s}", what, rd_ntop(id));
}

/* The enrolment guard: read first in every enrolment snapshot, compared
 * and moved by every enrolment write. */
static json_t *guard_cmp(struct rd_etcd_store *s, json_t *r)
{
	char kg[KEYLEN];

	return cmp_mod(k(s, kg, "enrolment"), rd_etcd_int(kv1(r, 0), "mod_revision"));
}

static json_t *guard_put(struct rd_etcd_store *s)
{
	char kg[KEYLEN];

	return op_put(k(s, kg, "enrolment"), s->nonce);
}

static json_t *guard_range(struct rd_etcd_store *s)
{
	char kg[KEYLEN];

	return op_range(k(s, kg, "enrolment"), false, false);
}

static int busy(struct rd_etcd_store *s, const char *what)
{
	return fail(s, -EBUSY, "%s: other writers kept changing the enrolment records; try again",
		    what);
}

int rd_store_etcd_invite_put(struct rd_etcd_store *s, const struct rd_entry *inv,
			     uint8_t (*old_keys)[32], unsigned int max_old,
			     unsigned int *replaced)
{
	char ih[33], kh[65], kr[KEYLEN], ki[KEYLEN], kk[KEYLEN];
	int ret;

	if (replaced)
		*replaced = 0;
	ret = entry_check(s, inv, "invitation");
	if (ret)
		return ret;
	id_hex(&inv->id, ih);
	key_hex(inv->key, kh);
	k(s, kr, "revoked/%s", kh);
	k(s, ki, "invite/%s/", ih);
	k(s, kk, "key/%s", kh);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *r, *ops, *x;
		unsigned int cnt = 0;
		size_t i;
		bool ok;

		ret = snapshot(s, json_pack("[o, o, o, o]", guard_range(s), op_range(kr, false, true),
					    op_range(ki, true, false), op_range(kk, false, false)),
			       &r);
		if (ret)
			return ret;
		if (kv1(r, 1)) {
			json_decref(r);
			return revoked_fail(s, "invitation");
		}
		x = kv1(r, 3);
		if (x) {
			struct roster_addr hid;
			const char *what = holder(x, &hid);

			if (strcmp(what, "a pending invitation") || !rd_addr_eq(&hid, &inv->id)) {
				json_decref(r);
				return fail(s, -EEXIST, "invitation of %s: the key is already used "
					    "by %s", rd_ntop(&inv->id), what);
			}
		}
		ops = json_array();
		json_array_foreach(kvs(r, 2), i, x) {
			json_t *j = kv_json(x);
			struct rd_entry old;
			char okh[65], full[KEYLEN];
			bool good = entry_parse(j, &old);

			json_decref(j);
			if (!good) {
				json_decref(ops);
				json_decref(r);
				return bad(s, "invitation record");
			}
			if (old_keys && cnt < max_old)
				memcpy(old_keys[cnt], old.key, 32);
			cnt++;
			if (!memcmp(old.key, inv->key, 32))
				continue;	/* put over below */
			json_array_append_new(ops, op_del(k(s, full, "invite/%s/%s", ih,
							    key_hex(old.key, okh)), false));
			json_array_append_new(ops, op_del(k(s, full, "key/%s", okh), false));
		}
		{
			char full[KEYLEN];

			json_array_append_new(ops, op_put_json(k(s, full, "invite/%s/%s", ih, kh),
							       entry_json(inv, true)));
		}
		json_array_append_new(ops, op_put_json(kk, holder_json("invitation", &inv->id)));
		json_array_append_new(ops, guard_put(s));
		ret = txn(s, json_pack("[o]", guard_cmp(s, r)), ops, NULL, &ok, NULL);
		json_decref(r);
		if (ret)
			return ret;
		if (ok) {
			if (replaced)
				*replaced = cnt;
			return 0;
		}
	}
	return busy(s, "invitation");
}

static int expiring_cmp(const void *a, const void *b)
{
	const struct rd_entry *x = a, *y = b;
	int c;

	if (x->expiry != y->expiry)
		return x->expiry < y->expiry ? -1 : 1;
	c = id_cmp(&(const struct roster_addr *){ &x->id }, &(const struct roster_addr *){ &y->id });
	return c ? c : memcmp(x->key, y->key, 32);
}

int rd_store_etcd_invites_expire(struct rd_etcd_store *s, uint64_t now, uint8_t (*keys)[32],
				 unsigned int max, unsigned int *n)
{
	unsigned int lim = max < 64 ? max : 64;
	char ki[KEYLEN];
	int ret;

	*n = 0;
	if (!lim)
		return 0;
	k(s, ki, "invite/");
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		struct rd_entry *all, *due;
		unsigned int cnt, nd = 0;
		json_t *r, *ops;
		bool ok;

		ret = snapshot(s, json_pack("[o, o]", guard_range(s), op_range(ki, true, false)), &r);
		if (ret)
			return ret;
		ret = entries(s, kvs(r, 1), NULL, &all, &cnt);
		if (ret) {
			json_decref(r);
			return ret;
		}
		due = all;
		for (unsigned int i = 0; i < cnt; i++)
			if (all[i].expiry && all[i].expiry <= now)
				due[nd++] = all[i];
		if (!nd) {
			free(all);
			json_decref(r);
			return 0;
		}
		qsort(due, nd, sizeof(*due), expiring_cmp);
		if (nd > lim)
			nd = lim;
		ops = json_array();
		for (unsigned int i = 0; i < nd; i++) {
			char full[KEYLEN], ih[33], kh[65];

			json_array_append_new(ops, op_del(k(s, full, "invite/%s/%s",
							    id_hex(&due[i].id, ih),
							    key_hex(due[i].key, kh)), false));
			json_array_append_new(ops, op_del(k(s, full, "key/%s", kh), false));
		}
		json_array_append_new(ops, guard_put(s));
		ret = txn(s, json_pack("[o]", guard_cmp(s, r)), ops, NULL, &ok, NULL);
		json_decref(r);
		if (!ret && ok) {
			for (unsigned int i = 0; i < nd; i++)
				memcpy(keys[i], due[i].key, 32);
			*n = nd;
		}
		free(all);
		if (ret || ok)
			return ret;
	}
	return busy(s, "invitation expiry");
}

int rd_store_etcd_enrol(struct rd_etcd_store *s, struct rd_entry *gw,
			const uint8_t invite_key[32], uint8_t old_key[32], bool *had_old)
{
	char ih[33], ikh[65], gkh[65], kinv[KEYLEN], kgk[KEYLEN], krv[KEYLEN], kgw[KEYLEN];
	char kik[KEYLEN], kseen[KEYLEN];
	int ret;

	*had_old = false;
	if (!addr_ok(&gw->id))
		return fail(s, -EINVAL, "enrolment with no IPv4 or IPv6 id");
	id_hex(&gw->id, ih);
	key_hex(invite_key, ikh);
	key_hex(gw->key, gkh);
	k(s, kinv, "invite/%s/%s", ih, ikh);
	k(s, kik, "key/%s", ikh);
	k(s, kgk, "key/%s", gkh);
	k(s, krv, "revoked/%s", gkh);
	k(s, kgw, "gateway/%s", ih);
	k(s, kseen, "seen/%s", ih);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		struct rd_entry ne, old;
		bool had = false, ok;
		json_t *r, *x, *j, *ops;

		ret = snapshot(s, json_pack("[o, o, o, o, o]", guard_range(s),
					    op_range(kinv, false, false), op_range(kgk, false, false),
					    op_range(krv, false, true), op_range(kgw, false, false)),
			       &r);
		if (ret)
			return ret;
		if (!kv1(r, 1)) {
			json_decref(r);
			return fail(s, -ENOENT, "no invitation for %s with that key (consumed or "
				    "expired)", rd_ntop(&gw->id));
		}
		j = kv_json(kv1(r, 1));
		ok = entry_parse(j, &ne);
		json_decref(j);
		if (!ok) {
			json_decref(r);
			return bad(s, "invitation record");
		}
		ne.id = gw->id;
		memcpy(ne.key, gw->key, 32);
		ne.expiry = 0;
		ne.last_seen = 0;
		x = kv1(r, 2);
		if (x) {
			struct roster_addr hid;
			const char *what = holder(x, &hid);

			if (strcmp(what, "an enrolled gateway") || !rd_addr_eq(&hid, &gw->id)) {
				json_decref(r);
				return fail(s, -EEXIST, "enrolment of %s: the key is already used by %s",
					    rd_ntop(&gw->id), what);
			}
		}
		if (kv1(r, 3)) {
			json_decref(r);
			return revoked_fail(s, "enrolment");
		}
		if (kv1(r, 4)) {
			j = kv_json(kv1(r, 4));
			had = entry_parse(j, &old);
			json_decref(j);
			if (!had) {
				json_decref(r);
				return bad(s, "gateway record");
			}
		}
		ops = json_array();
		json_array_append_new(ops, op_del(kinv, false));
		json_array_append_new(ops, op_del(kik, false));
		if (had && memcmp(old.key, gw->key, 32)) {
			char full[KEYLEN], okh[65];

			json_array_append_new(ops, op_del(k(s, full, "key/%s",
							    key_hex(old.key, okh)), false));
		}
		/* A new enrolment has not been heard from yet. */
		json_array_append_new(ops, op_del(kseen, false));
		json_array_append_new(ops, op_put_json(kgk, holder_json("gateway", &gw->id)));
		json_array_append_new(ops, op_put_json(kgw, entry_json(&ne, false)));
		json_array_append_new(ops, guard_put(s));
		ret = txn(s, json_pack("[o]", guard_cmp(s, r)), ops, NULL, &ok, NULL);
		json_decref(r);
		if (ret)
			return ret;
		if (ok) {
			*gw = ne;
			if (had) {
				memcpy(old_key, old.key, 32);
				*had_old = true;
			}
			return 0;
		}
	}
	return busy(s, "enrolment");
}

static json_t *revoked_json(const struct roster_addr *id)
{
	json_t *o = json_pack("{s:s}", "id", rd_ntop(id));

	add_u64(o, "time", (uint64_t)time(NULL));
	return o;
}

int rd_store_etcd_revoke(struct rd_etcd_store *s, const struct roster_addr *id,
			 uint8_t (*keys)[32], unsigned int max, unsigned int *n)
{
	char ih[33], kgw[KEYLEN], kinv[KEYLEN], kseen[KEYLEN];
	int ret;

	*n = 0;
	if (!addr_ok(id))
		return fail(s, -EINVAL, "revocation with no IPv4 or IPv6 id");
	id_hex(id, ih);
	k(s, kgw, "gateway/%s", ih);
	k(s, kinv, "invite/%s/", ih);
	k(s, kseen, "seen/%s", ih);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		uint8_t kk[1 + 64][32];
		unsigned int cnt = 0;
		json_t *r, *x, *ops;
		size_t i;
		bool ok;

		ret = snapshot(s, json_pack("[o, o, o]", guard_range(s), op_range(kgw, false, false),
					    op_range(kinv, true, false)),
			       &r);
		if (ret)
			return ret;
		if (kv1(r, 1)) {
			json_t *j = kv_json(kv1(r, 1));
			struct rd_entry e;
			bool good = entry_parse(j, &e);

			json_decref(j);
			if (!good) {
				json_decref(r);
				return bad(s, "gateway record");
			}
			memcpy(kk[cnt++], e.key, 32);
		}
		json_array_foreach(kvs(r, 2), i, x) {
			json_t *j = kv_json(x);
			struct rd_entry e;
			bool good = entry_parse(j, &e);

			json_decref(j);
			if (!good) {
				json_decref(r);
				return bad(s, "invitation record");
			}
			if (cnt < 65)
				memcpy(kk[cnt++], e.key, 32);
		}
		if (!cnt) {
			json_decref(r);
			return fail(s, -ENOENT, "%s is neither enrolled nor invited", rd_ntop(id));
		}
		ops = json_array();
		for (unsigned int m = 0; m < cnt; m++) {
			char full[KEYLEN], kh[65];

			key_hex(kk[m], kh);
			json_array_append_new(ops, op_put_json(k(s, full, "revoked/%s", kh),
							       revoked_json(id)));
			json_array_append_new(ops, op_del(k(s, full, "key/%s", kh), false));
		}
		json_array_append_new(ops, op_del(kgw, false));
		json_array_append_new(ops, op_del(kseen, false));
		json_array_append_new(ops, op_del(kinv, true));
		json_array_append_new(ops, guard_put(s));
		ret = txn(s, json_pack("[o]", guard_cmp(s, r)), ops, NULL, &ok, NULL);
		json_decref(r);
		if (ret)
			return ret;
		if (ok) {
			for (unsigned int m = 0; m < cnt && m < max; m++)
				memcpy(keys[m], kk[m], 32);
			*n = cnt < max ? cnt : max;
			return 0;
		}
	}
	return busy(s, "revocation");
}

int rd_store_etcd_key_revoked(struct rd_etcd_store *s, const uint8_t key[32])
{
	char kr[KEYLEN], kh[65];
	json_t *r;
	int ret;

	ret = call(s, "kv/range", json_pack("{s:o, s:b}", "key",
					     bkey(k(s, kr, "revoked/%s", key_hex(key, kh))),
					     "count_only", 1), &r);
	if (ret)
		return ret;
	ret = rd_etcd_int(r, "count") > 0;
	json_decref(r);
	return ret;
}

int rd_store_etcd_gateway_rekey(struct rd_etcd_store *s, const struct roster_addr *id,
				const uint8_t old_key[32], const uint8_t new_key[32])
{
	char ih[33], okh[65], nkh[65], kgw[KEYLEN], knk[KEYLEN], kok[KEYLEN], krv[KEYLEN];
	char kro[KEYLEN];
	int ret;

	if (!addr_ok(id))
		return fail(s, -EINVAL, "key rotation with no IPv4 or IPv6 id");
	if (!memcmp(old_key, new_key, 32))
		return fail(s, -EINVAL, "key rotation of %s: the new key is the old one",
			    rd_ntop(id));
	id_hex(id, ih);
	key_hex(old_key, okh);
	key_hex(new_key, nkh);
	k(s, kgw, "gateway/%s", ih);
	k(s, knk, "key/%s", nkh);
	k(s, kok, "key/%s", okh);
	k(s, krv, "revoked/%s", nkh);
	k(s, kro, "revoked/%s", okh);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		struct rd_entry e;
		json_t *r, *j, *x, *ops;
		bool ok;

		ret = snapshot(s, json_pack("[o, o, o, o]", guard_range(s), op_range(kgw, false, false),
					    op_range(knk, false, false), op_range(krv, false, true)),
			       &r);
		if (ret)
			return ret;
		if (!kv1(r, 1)) {
			json_decref(r);
			return fail(s, -ENOENT, "key rotation: %s is not enrolled", rd_ntop(id));
		}
		j = kv_json(kv1(r, 1));
		ok = entry_parse(j, &e);
		json_decref(j);
		if (!ok) {
			json_decref(r);
			return bad(s, "gateway record");
		}
		if (!memcmp(e.key, new_key, 32)) {
			json_decref(r);
			return 0;
		}
		if (memcmp(e.key, old_key, 32)) {
			json_decref(r);
			return fail(s, -ENOENT, "key rotation of %s: its key is neither the old nor "
				    "the new one", rd_ntop(id));
		}
		x = kv1(r, 2);
		if (x) {
			struct roster_addr hid;
			const char *what = holder(x, &hid);

			json_decref(r);
			return fail(s, -EEXIST, "key rotation of %s: the key is already used by %s",
				    rd_ntop(id), what);
		}
		if (kv1(r, 3)) {
			json_decref(r);
			return revoked_fail(s, "key rotation");
		}
		memcpy(e.key, new_key, 32);
		ops = json_pack("[o, o, o, o, o]", op_put_json(kro, revoked_json(id)),
				op_del(kok, false), op_put_json(knk, holder_json("gateway", id)),
				op_put_json(kgw, entry_json(&e, false)), guard_put(s));
		ret = txn(s, json_pack("[o]", guard_cmp(s, r)), ops, NULL, &ok, NULL);
		json_decref(r);
		if (ret || ok)
			return ret;
	}
	return busy(s, "key rotation");
}

/* One batch of last-seen times: each written only if the gateway is the
 * one read (not revoked or re-enrolled since) and its time unmoved. */
static int seen_batch(struct rd_etcd_store *s, const struct roster_addr *ids,
		      const uint64_t *when, unsigned int n)
{
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *rd = json_array(), *r, *cmp = json_array(), *ops = json_array();
		bool ok;
		int ret;

		for (unsigned int i = 0; i < n; i++) {
			char kg[KEYLEN], ks[KEYLEN], ih[33];

			if (!addr_ok(&ids[i])) {
				json_array_append_new(rd, op_range(k(s, kg, "-"), false, true));
				json_array_append_new(rd, op_range(k(s, kg, "-"), false, true));
				continue;
			}
			id_hex(&ids[i], ih);
			json_array_append_new(rd, op_range(k(s, kg, "gateway/%s", ih), false, true));
			json_array_append_new(rd, op_range(k(s, ks, "seen/%s", ih), false, false));
		}
		ret = snapshot(s, rd, &r);
		if (ret) {
			json_decref(cmp);
			json_decref(ops);
			return ret;
		}
		for (unsigned int i = 0; i < n; i++) {
			json_t *g = kv1(r, 2 * i), *t = kv1(r, 2 * i + 1);
			char kg[KEYLEN], ks[KEYLEN], ih[33], v[24], *cur;
			uint64_t old = 0;

			if (!g || !addr_ok(&ids[i]) || when[i] > INT64_MAX)
				continue;	/* unknown ids are skipped */
			cur = t ? kv_value(t) : NULL;
			if (t && (!cur || !parse_u64(cur, &old)))
				old = 0;	/* a malformed time is overwritten */
			free(cur);
			if (when[i] <= old)
				continue;	/* a time only moves forward */
			id_hex(&ids[i], ih);
			k(s, kg, "gateway/%s", ih);
			k(s, ks, "seen/%s", ih);
			snprintf(v, sizeof(v), "%" PRIu64, when[i]);
			json_array_append_new(cmp, cmp_mod(kg, rd_etcd_int(g, "mod_revision")));
			json_array_append_new(cmp, cmp_mod(ks, t ? rd_etcd_int(t, "mod_revision") : 0));
			json_array_append_new(ops, op_put(ks, v));
		}
		json_decref(r);
		if (!json_array_size(ops)) {
			json_decref(cmp);
			json_decref(ops);
			return 0;
		}
		ret = txn(s, cmp, ops, NULL, &ok, NULL);
		if (ret || ok)
			return ret;
	}
	return fail(s, -EBUSY, "last-seen times: other writers kept changing them; try again");
}

int rd_store_etcd_gateways_seen(struct rd_etcd_store *s, const struct roster_addr *ids,
				const uint64_t *when, unsigned int n)
{
	struct roster_addr bi[SEEN_BATCH];
	uint64_t bw[SEEN_BATCH];
	unsigned int nb = 0;

	/* Batches, not one transaction: etcd bounds the operations of one
	 * (--max-txn-ops). Each time is independent of the others. An id
	 * given twice is written once, at its later time (etcd refuses two
	 * puts of one key in a transaction). */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j;
		int ret;

		for (j = 0; j < nb && !rd_addr_eq(&bi[j], &ids[i]); j++)
			;
		if (j < nb) {
			if (when[i] > bw[j])
				bw[j] = when[i];
			continue;
		}
		bi[nb] = ids[i];
		bw[nb++] = when[i];
		if (nb < SEEN_BATCH && i + 1 < n)
			continue;
		ret = seen_batch(s, bi, bw, nb);
		if (ret)
			return ret;
		nb = 0;
	}
	return nb ? seen_batch(s, bi, bw, nb) : 0;
}

/* ---- sessions and other processes -------------------------------------- */

int rd_store_etcd_session_next(struct rd_etcd_store *s, uint32_t *session)
{
	char ks[KEYLEN];
	int ret;

	k(s, ks, "session");
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		uint32_t now = (uint32_t)time(NULL), next;
		uint64_t last = 0;
		char v[16], *cur;
		json_t *r, *x;
		bool ok;

		ret = snapshot(s, json_pack("[o]", op_range(ks, false, false)), &r);
		if (ret)
			return ret;
		x = kv1(r, 0);
		cur = x ? kv_value(x) : NULL;
		if (x && (!cur || !parse_u64(cur, &last) || last > UINT32_MAX)) {
			free(cur);
			json_decref(r);
			return bad(s, "session counter");
		}
		free(cur);
		next = (uint32_t)last + 1 > now ? (uint32_t)last + 1 : now;
		snprintf(v, sizeof(v), "%u", next);
		ret = txn(s, json_pack("[o]", cmp_mod(ks, x ? rd_etcd_int(x, "mod_revision") : 0)),
			  json_pack("[o]", op_put(ks, v)), NULL, &ok, NULL);
		json_decref(r);
		if (ret)
			return ret;
		if (ok) {
			*session = next;
			return 0;
		}
	}
	return fail(s, -EBUSY, "session: other writers kept taking ids; try again");
}

bool rd_store_etcd_changed(struct rd_etcd_store *s)
{
	char kw[KEYLEN];
	json_t *r;
	int64_t mod;
	int ret;

	/* The watch delivers every other handle's commit. */
	if (s->wlive)
		goto report;
	/* Asked every second from the loop: never for long. On failure
	 * the reload is owed, once etcd answers again (a reload now would
	 * only wait for it too, and a missed invitation is not cheap). */
	rd_etcd_set_timeout(s->e, 1000);
	ret = call(s, "kv/range", json_pack("{s:o}", "key", bkey(k(s, kw, "writer"))), &r);
	rd_etcd_set_timeout(s->e, 0);
	if (ret) {
		s->other = true;
		return false;
	}
	mod = rd_etcd_int(json_array_get(json_object_get(r, "kvs"), 0), "mod_revision");
	json_decref(r);
	if (mod > s->seen) {
		s->other = true;
		s->seen = mod;
	}
report:
	if (!s->other)
		return false;
	s->other = false;
	return true;
}

/* ---- the watch ------------------------------------------------------------ */

/* Until etcd answers again after the stream ended. */
#define WATCH_RETRY_MS 500

/* What key (raw, under the prefix) means for the caller. */
static unsigned int watch_class(struct rd_etcd_store *s, const char *key, size_t n,
				bool *writer)
{
	size_t pl = strlen(s->prefix);
	const char *r = key + pl;

	*writer = false;
	if (n < pl || memcmp(key, s->prefix, pl))
		return 0;
	n -= pl;
#define IS(lit) (n >= sizeof(lit) - 1 && !memcmp(r, lit, sizeof(lit) - 1))
	if (IS("vpn/") || IS("member/") || IS("flags/"))
		return RD_STORE_W_VPN;
	if (n == 6 && IS("leader"))
		return RD_STORE_W_LEADER;
	if (n == 6 && IS("writer")) {
		*writer = true;
		return 0;
	}
#undef IS
	return RD_STORE_W_OTHER;
}

/* A decoded event key (or value) of at most max bytes, into buf. */
static bool event_bytes(const json_t *kv, const char *field, char *buf, size_t max, size_t *n)
{
	const char *v = json_string_value(json_object_get(kv, field));
	char *d;

	*n = 0;
	buf[0] = 0;
	if (!v)
		return !strcmp(field, "value");	/* an empty value is left out */
	if (rd_etcd_unb64(v, &d, n))
		return false;
	if (*n >= max) {
		free(d);
		return false;
	}
	memcpy(buf, d, *n + 1);
	free(d);
	return true;
}

/* The revisions of ev[] whose P/writer put carries this handle's nonce:
 * its own commits. At most 64 in one answer; beyond, taken for others'
 * (a needless reload). */
static unsigned int own_revisions(struct rd_etcd_store *s, json_t *ev, int64_t *own)
{
	unsigned int n = 0;
	json_t *e;
	size_t i;

	json_array_foreach(ev, i, e) {
		json_t *kv = json_object_get(e, "kv");
		char key[KEYLEN], val[64];
		size_t kn, vn;
		bool writer;

		if (!event_bytes(kv, "key", key, sizeof(key), &kn))
			continue;
		watch_class(s, key, kn, &writer);
		if (!writer || json_object_get(e, "type") || n == 64)
			continue;
		if (event_bytes(kv, "value", val, sizeof(val), &vn) && !strcmp(val, s->nonce))
			own[n++] = rd_etcd_int(kv, "mod_revision");
	}
	return n;
}

static void on_watch(void *arg, json_t *res)
{
	struct rd_etcd_store *s = arg;
	json_t *ev = json_object_get(res, "events"), *e;
	const char *why;
	int64_t own[64];
	unsigned int nown;
	size_t i;

	if (json_is_true(json_object_get(res, "created")))
		s->wlive = true;
	if (json_is_true(json_object_get(res, "canceled"))) {
		/* Compacted past wfrom: what was lost is read again by the
		 * caller (by difference), the rest comes from the oldest
		 * revision etcd still has. */
		s->wcompact = rd_etcd_int(res, "compact_revision");
		s->wcancel = true;
		s->wlive = false;
		why = json_string_value(json_object_get(res, "cancel_reason"));
		snprintf(s->wwhy, sizeof(s->wwhy), "%s", why ? why : "canceled by etcd");
		return;
	}
	nown = own_revisions(s, ev, own);
	json_array_foreach(ev, i, e) {
		json_t *kv = json_object_get(e, "kv");
		int64_t rev = rd_etcd_int(kv, "mod_revision");
		bool writer, mine = false, del = json_object_get(e, "type") != NULL;
		unsigned int c;
		char key[KEYLEN];
		size_t kn;

		if (rev >= s->wfrom)
			s->wfrom = rev + 1;
		if (!event_bytes(kv, "key", key, sizeof(key), &kn))
			continue;
		c = watch_class(s, key, kn, &writer);
		for (unsigned int j = 0; j < nown; j++)
			mine |= own[j] == rev;
		if (writer) {
			if (rev > s->seen) {
				s->seen = rev;
				s->other |= !mine;
			}
			continue;
		}
		/* The campaign's own put of P/leader is no news. */
		if (c == RD_STORE_W_LEADER && !del && s->lease &&
		    rd_etcd_int(kv, "lease") == s->lease)
			continue;
		if (mine)
			continue;
		if (c == RD_STORE_W_OTHER)
			s->other = true;
		else
			s->wflags |= c;
	}
}

static void watch_start(struct rd_etcd_store *s, bool retry)
{
	int ret;

	if (!s->w) {
		char key[KEYLEN], end[KEYLEN];
		size_t n = strlen(s->prefix);

		memcpy(key, s->prefix, n + 1);
		memcpy(end, s->prefix, n + 1);
		end[n - 1]++;	/* the prefix ends in '/': its successor bounds it */
		s->w = rd_etcd_watch_new(s->e, key, n, end, n);
		if (!s->w)
			return;
	}
	ret = rd_etcd_watch_start(s->w, s->wfrom, retry);
	if (ret) {
		rd_warn("store: cannot watch %s: %s", s->prefix, strerror(-ret));
		s->wretry = rd_now_ms() + WATCH_RETRY_MS;
	}
}

int rd_store_etcd_watch_poll(struct rd_etcd_store *s, struct pollfd *pfd)
{
	int64_t now = rd_now_ms();
	int t;

	if (!s->w || (!rd_etcd_watch_open(s->w) && now >= s->wretry))
		watch_start(s, s->w != NULL);
	if (!s->w || !rd_etcd_watch_open(s->w)) {
		pfd->fd = -1;
		pfd->events = pfd->revents = 0;
		return s->wretry > now ? (int)(s->wretry - now) : WATCH_RETRY_MS;
	}
	t = rd_etcd_watch_poll(s->w, pfd);
	/* Not yet confirmed: look again soon (curl's timers drive it). */
	return t;
}

unsigned int rd_store_etcd_watch_run(struct rd_etcd_store *s, short revents)
{
	unsigned int f;
	bool was = s->wlive;
	char err[700];

	if (!s->w || !rd_etcd_watch_open(s->w))
		return 0;
	err[0] = 0;
	if (!rd_etcd_watch_run(s->w, revents, on_watch, s, err, sizeof(err))) {
		s->wlive = false;
		s->wretry = rd_now_ms() + WATCH_RETRY_MS;
		if (was)
			rd_warn("store: the watch ended (%s); reading the store every second "
				"until it is back", err);
	}
	if (s->wcancel && !s->wcompact) {
		/* Not for a compaction: etcd said why; again, later. */
		s->wcancel = false;
		rd_etcd_watch_stop(s->w);
		s->wretry = rd_now_ms() + WATCH_RETRY_MS;
		rd_warn("store: the watch ended (%s); reading the store every second until it is "
			"back", s->wwhy);
	}
	if (s->wcompact) {
		s->wcancel = false;
		rd_warn("store: etcd compacted its history up to revision %" PRId64 " (the watch "
			"asked from %" PRId64 "); reading the store again by difference",
			s->wcompact, s->wfrom);
		s->wfrom = s->wcompact;
		s->wcompact = 0;
		s->other = true;
		s->wflags |= RD_STORE_W_LOST;
		watch_start(s, false);
	}
	if (s->wlive && !was)
		rd_info("store: watching %s at %s from revision %" PRId64, s->prefix,
			rd_etcd_watch_endpoint(s->w), s->wfrom);
	f = s->wflags;
	s->wflags = 0;
	return f;
}

void rd_store_etcd_watch_state(const struct rd_etcd_store *s, bool *live, int64_t *rev,
			       const char **endpoint)
{
	*live = s->wlive;
	*rev = s->wfrom - 1;
	*endpoint = s->w ? rd_etcd_watch_endpoint(s->w) : rd_etcd_endpoint(s->e);
}

int rd_store_etcd_backup(struct rd_etcd_store *s, const char *path)
{
	(void)path;
	return fail(s, -EOPNOTSUPP, "an etcd store is backed up by etcd: `etcdctl snapshot save "
		    "FILE` on one member (Documentation/etcd.rst)");
}

/* ---- leadership ---------------------------------------------------------- */

/* Renew the lease; 0 with s->lease 0 if it has expired. */
static int lease_renew(struct rd_etcd_store *s)
{
	char id[24];
	json_t *r;
	int ret;

	snprintf(id, sizeof(id), "%" PRId64, s->lease);
	ret = call(s, "lease/keepalive", json_pack("{s:s}", "ID", id), &r);
	if (ret)
		return ret;
	/* The gateway streams its answer: one object under "result". */
	if (rd_etcd_int(json_object_get(r, "result"), "TTL") <= 0) {
		s->lease = 0;
		s->fence = 0;
	}
	json_decref(r);
	return 0;
}

static int lease_grant(struct rd_etcd_store *s, unsigned int ttl)
{
	json_t *r;
	int ret;

	ret = call(s, "lease/grant", json_pack("{s:I}", "TTL", (json_int_t)ttl), &r);
	if (ret)
		return ret;
	s->lease = rd_etcd_int(r, "ID");
	json_decref(r);
	if (s->lease <= 0) {
		s->lease = 0;
		return bad(s, "lease grant");
	}
	return 0;
}

static int campaign(struct rd_etcd_store *s, const char *name, unsigned int ttl, bool *leader)
{
	char lk[KEYLEN], id[24];
	json_t *req, *r, *x;
	int ret;

	*leader = false;
	s->campaigned = true;
	if (s->lease) {
		ret = lease_renew(s);
		if (ret) {
			/* Unreachable: not the leader as far as this manager
			 * can tell; the fence decides what may commit. */
			s->fence = 0;
			return ret;
		}
	}
	if (!s->lease) {
		ret = lease_grant(s, ttl);
		if (ret)
			return ret;
	}
	snprintf(id, sizeof(id), "%" PRId64, s->lease);
	k(s, lk, "leader");
	req = json_pack("{s:[o], s:[{s:{s:o, s:o, s:s}}], s:[o]}", "compare", cmp_mod(lk, 0),
			"success", "request_put", "key", bkey(lk), "value",
			b64(name, strlen(name)), "lease", id,
			"failure", op_range(lk, false, false));
	ret = call(s, "kv/txn", req, &r);
	if (ret)
		return ret;
	if (json_is_true(json_object_get(r, "succeeded"))) {
		/* The put created P/leader in this transaction's revision. */
		s->fence = rd_etcd_int(json_object_get(r, "header"), "revision");
	} else {
		x = kv1(r, 0);
		/* Held under this handle's lease: a renewal of our own term. */
		s->fence = x && rd_etcd_int(x, "lease") == s->lease ?
			rd_etcd_int(x, "create_revision") : 0;
	}
	json_decref(r);
	*leader = s->fence != 0;
	return 0;
}

int rd_store_etcd_campaign(struct rd_etcd_store *s, const char *name, unsigned int ttl,
			   bool *leader)
{
	unsigned int ms = ttl * 1000 / 3;
	int ret;

	/* A campaign is due every ttl/3: one that waits longer (a member
	 * electing its leader holds a proposal for up to 7 s) would delay the
	 * next, the one that may win. Unanswered is harmless here: a put
	 * that went through is found under this handle's lease next time. */
	rd_etcd_set_timeout(s->e, ms < 500 ? 500 : ms > 5000 ? 5000 : ms);
	ret = campaign(s, name, ttl, leader);
	rd_etcd_set_timeout(s->e, 0);
	return ret;
}

int rd_store_etcd_raft_away(struct rd_etcd_store *s, const struct roster_addr *host, char *to,
			    size_t len)
{
	s->err[0] = 0;
	return rd_etcd_raft_away(s->e, host, to, len, s->err, sizeof(s->err));
}

int rd_store_etcd_resign(struct rd_etcd_store *s)
{
	char id[24];
	json_t *r;
	int ret;

	s->campaigned = false;
	if (!s->lease)
		return 0;
	snprintf(id, sizeof(id), "%" PRId64, s->lease);
	s->fence = 0;
	ret = call(s, "lease/revoke", json_pack("{s:s}", "ID", id), &r);
	if (!ret)
		json_decref(r);
	s->lease = 0;
	return ret;
}

int rd_store_etcd_leader(struct rd_etcd_store *s, char *name, size_t len)
{
	int64_t created;
	int ret;

	/* A name to show and to refer gateways to, read at every campaign
	 * of a standby: not worth a long wait. */
	rd_etcd_set_timeout(s->e, 1000);
	ret = leader_read(s, name, len, &created);
	rd_etcd_set_timeout(s->e, 0);
	return ret;
}

/* ---- managers ------------------------------------------------------------ */

static json_t *manager_json(const struct rd_store_manager *mg)
{
	json_t *o = json_pack("{s:o, s:i, s:s}", "key", key_json(mg->key), "port", (int)mg->port,
			      "control", rd_ntop(&mg->control_addr));

	if (mg->endpoint.family)
		json_object_set_new(o, "endpoint", json_string(rd_ntop(&mg->endpoint)));
	return o;
}

static bool manager_parse(const json_t *o, struct rd_store_manager *mg)
{
	json_t *port = json_object_get(o, "port");

	return json_is_object(o) && key_parse(o, "key", mg->key) &&
	       (!json_object_get(o, "endpoint") ||
		addr_parse(json_string_value(json_object_get(o, "endpoint")), &mg->endpoint)) &&
	       addr_parse(json_string_value(json_object_get(o, "control")), &mg->control_addr) &&
	       json_is_integer(port) && json_integer_value(port) > 0 &&
	       json_integer_value(port) <= 65535 &&
	       (mg->port = (uint16_t)json_integer_value(port));
}

int rd_store_etcd_manager_put(struct rd_etcd_store *s, const struct rd_store_manager *mg)
{
	char mk[KEYLEN], *want;
	json_t *r, *x, *v;
	bool ok, same;
	int ret;

	if (!mg->name[0] || strlen(mg->name) >= sizeof(mg->name) || strchr(mg->name, '/'))
		return fail(s, -EINVAL, "manager name '%s': not a key", mg->name);
	k(s, mk, "manager/%s", mg->name);
	ret = call(s, "kv/range", json_pack("{s:o}", "key", bkey(mk)), &r);
	if (ret)
		return ret;
	v = manager_json(mg);
	want = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	x = json_array_get(json_object_get(r, "kvs"), 0);
	same = false;
	if (x && want) {
		char *have = kv_value(x);

		same = have && !strcmp(have, want);
		free(have);
	}
	json_decref(r);
	if (!want) {
		json_decref(v);
		return fail(s, -ENOMEM, "out of memory");
	}
	ret = 0;
	if (!same)
		ret = txn(s, json_array(), json_pack("[o]", op_put(mk, want)), NULL, &ok, NULL);
	if (!ret && !same && !ok)
		ret = fail(s, -EBUSY, "manager %s: the record changed meanwhile; try again", mg->name);
	free(want);
	json_decref(v);
	return ret;
}

int rd_store_etcd_managers(struct rd_etcd_store *s, struct rd_store_manager *out,
			   unsigned int max, unsigned int *n)
{
	char mk[KEYLEN];
	json_t *r, *kv;
	size_t i;
	int ret;

	*n = 0;
	k(s, mk, "manager/");
	ret = call(s, "kv/range", json_pack("{s:o, s:o}", "key", bkey(mk), "range_end",
					    bprefix_end(mk)), &r);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(r, "kvs"), i, kv) {
		struct rd_store_manager mg = { 0 };
		char name[KEYLEN];
		json_t *v;

		if (*n == max) {
			ret = fail(s, -E2BIG, "more than %u managers recorded under %smanager/",
				   max, s->prefix);
			break;
		}
		v = kv_json(kv);
		if (!kv_key(s, kv, "manager/", name) || strlen(name) >= sizeof(mg.name) ||
		    !manager_parse(v, &mg)) {
			json_decref(v);
			ret = bad(s, "manager record");
			break;
		}
		json_decref(v);
		strcpy(mg.name, name);
		out[(*n)++] = mg;
	}
	json_decref(r);
	return ret;
}
