// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: the manager's durable store in SQLite (store.h).
 *
 * STATE_DIR/roster.db, in WAL mode with synchronous=FULL: a commit is on
 * disk when rd_store_commit() returns, and readers (`rosterd backup`)
 * never block the manager's writer. Every change is one BEGIN IMMEDIATE
 * transaction, so the write lock is taken before the compare-and-set
 * reads the generation: two processes cannot both pass the check.
 *
 * Schema 3 (1 had no prefixes in gateways and invites, 2 no last_seen and
 * no revoked keys; migrated at open):
 *   meta      key -> value: schema (integer), identity (16-byte blob),
 *             session (integer, the last session id handed out)
 *   vpns      id, generation, flags
 *   members   (vpn, id) -> key, endpoint, port, prefixes, join_time,
 *             join_generation; addresses are 4- or 16-byte blobs, prefixes
 *             one blob of 18-byte records (4|6, length, 16 address bytes)
 *   gateways  id -> key, vpns ("7,9"), prefixes (what it may announce:
 *             the members' 18-byte records; NULL: no list, schema 1's)
 *   invites   (id, key) -> vpns, expiry (0: never), prefixes (the same)
 *   gateways.last_seen: unix seconds the manager last heard from it (0)
 *   revoked   key -> id, time: keys never accepted again (revocations and
 *             rotated-away keys)
 * Generations and times are stored as SQLite's signed 64-bit integers and
 * read back bit for bit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "util.h"
#include "netif.h"
#include "store.h"
#include "store-sqlite.h"

/* `rosterd invite` and `rosterd backup` hold the lock for milliseconds;
 * a writer that waits longer than this has found something stuck. */
#define BUSY_TIMEOUT_MS 5000
#define PREFIX_REC 18

enum {
	ST_BEGIN, ST_BEGIN_READ, ST_COMMIT, ST_ROLLBACK,
	ST_META_GET, ST_META_SET, ST_DATA_VERSION,
	ST_VPN_GET, ST_VPN_INS, ST_VPN_GEN, ST_VPN_DEL, ST_VPNS_ALL,
	ST_MEMBER_PUT, ST_MEMBER_INS, ST_MEMBER_DEL, ST_MEMBERS_DEL, ST_MEMBERS_ALL,
	ST_MEMBERS_OF,
	ST_GWS_ALL, ST_GW_GET, ST_GW_PUT,
	ST_INVS_ALL, ST_INV_OF, ST_INV_DEL_ID, ST_INV_INS, ST_INV_GET, ST_INV_DEL,
	ST_INV_EXPIRED, ST_REVOKED_GET, ST_REVOKED_INS, ST_GW_DEL, ST_GW_REKEY, ST_GW_SEEN,
	ST_MAX
};

#define MEMBER_COLS "id, key, endpoint, port, prefixes, join_time, join_generation"

static const char *const sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
	[ST_DATA_VERSION] = "PRAGMA data_version",
	[ST_VPN_GET] = "SELECT generation, flags FROM vpns WHERE id = ?1",
	[ST_VPN_INS] = "INSERT INTO vpns (id, generation, flags) VALUES (?1, ?2, ?3)",
	[ST_VPN_GEN] = "UPDATE vpns SET generation = ?2 WHERE id = ?1",
	[ST_VPN_DEL] = "DELETE FROM vpns WHERE id = ?1",
	[ST_VPNS_ALL] = "SELECT id, generation, flags FROM vpns ORDER BY id",
	[ST_MEMBER_PUT] = "INSERT OR REPLACE INTO members (vpn, " MEMBER_COLS ") "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_MEMBER_INS] = "INSERT INTO members (vpn, " MEMBER_COLS ") "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_MEMBER_DEL] = "DELETE FROM members WHERE vpn = ?1 AND id = ?2",
	[ST_MEMBERS_DEL] = "DELETE FROM members WHERE vpn = ?1",
	[ST_MEMBERS_ALL] = "SELECT vpn, " MEMBER_COLS " FROM members ORDER BY vpn, id",
	[ST_MEMBERS_OF] = "SELECT vpn, " MEMBER_COLS " FROM members WHERE vpn = ?1 ORDER BY id",
	[ST_GWS_ALL] = "SELECT id, key, vpns, 0, prefixes, last_seen FROM gateways ORDER BY id",
	[ST_GW_GET] = "SELECT key FROM gateways WHERE id = ?1",
	[ST_GW_PUT] = "INSERT OR REPLACE INTO gateways (id, key, vpns, prefixes) "
		      "VALUES (?1, ?2, ?3, ?5)",
	[ST_INVS_ALL] = "SELECT id, key, vpns, expiry, prefixes, 0 FROM invites ORDER BY id, key",
	[ST_INV_OF] = "SELECT key FROM invites WHERE id = ?1 ORDER BY key",
	[ST_INV_DEL_ID] = "DELETE FROM invites WHERE id = ?1",
	[ST_INV_INS] = "INSERT INTO invites (id, key, vpns, expiry, prefixes) "
		       "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_INV_GET] = "SELECT vpns, prefixes FROM invites WHERE id = ?1 AND key = ?2",
	[ST_INV_DEL] = "DELETE FROM invites WHERE id = ?1 AND key = ?2",
	[ST_INV_EXPIRED] = "SELECT id, key FROM invites WHERE expiry != 0 AND expiry <= ?1 "
			   "ORDER BY expiry, id, key LIMIT ?2",
	[ST_REVOKED_GET] = "SELECT 1 FROM revoked WHERE key = ?1",
	[ST_REVOKED_INS] = "INSERT OR IGNORE INTO revoked (key, id, time) VALUES (?1, ?2, ?3)",
	[ST_GW_DEL] = "DELETE FROM gateways WHERE id = ?1",
	[ST_GW_REKEY] = "UPDATE gateways SET key = ?2 WHERE id = ?1",
	[ST_GW_SEEN] = "UPDATE gateways SET last_seen = ?2 WHERE id = ?1 AND last_seen < ?2",
};

static const char schema_sql[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value);"
	"CREATE TABLE vpns (id INTEGER PRIMARY KEY, generation INTEGER NOT NULL,"
	" flags INTEGER NOT NULL);"
	"CREATE TABLE members (vpn INTEGER NOT NULL, id BLOB NOT NULL, key BLOB,"
	" endpoint BLOB, port INTEGER NOT NULL, prefixes BLOB NOT NULL,"
	" join_time INTEGER NOT NULL, join_generation INTEGER NOT NULL,"
	" PRIMARY KEY (vpn, id)) WITHOUT ROWID;"
	"CREATE TABLE gateways (id BLOB PRIMARY KEY NOT NULL, key BLOB NOT NULL,"
	" vpns TEXT NOT NULL, prefixes BLOB, last_seen INTEGER NOT NULL DEFAULT 0)"
	" WITHOUT ROWID;"
	"CREATE TABLE invites (id BLOB NOT NULL, key BLOB NOT NULL, vpns TEXT NOT NULL,"
	" expiry INTEGER NOT NULL, prefixes BLOB, PRIMARY KEY (id, key)) WITHOUT ROWID;"
	"CREATE TABLE revoked (key BLOB PRIMARY KEY NOT NULL, id BLOB NOT NULL,"
	" time INTEGER NOT NULL) WITHOUT ROWID;";

/* Schema 1 -> 2: the prefix lists. Columns are added, nothing rewritten:
 * the records of schema 1 keep NULL, no list (mgr-policy.h). */
static const char schema2_sql[] =
	"ALTER TABLE gateways ADD COLUMN prefixes BLOB;"
	"ALTER TABLE invites ADD COLUMN prefixes BLOB;";

/* Schema 2 -> 3: liveness and revocations, both new and empty. */
static const char schema3_sql[] =
	"ALTER TABLE gateways ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE revoked (key BLOB PRIMARY KEY NOT NULL, id BLOB NOT NULL,"
	" time INTEGER NOT NULL) WITHOUT ROWID;";

struct rd_store {
	sqlite3 *db;
	char dir[256];
	char path[512];
	char desc[560];
	uint8_t identity[16];
	int64_t data_version;
	sqlite3_stmt *st[ST_MAX];
	char err[768];
};

/* The text files of rosterd before the store, read in full before
 * anything is created so that a malformed one leaves no trace. */
struct legacy {
	struct rd_entry *gws, *invs;
	unsigned int n_gws, n_invs;
	bool has_gws, has_invs, has_session;
	uint32_t session;
};

/* ---- errors ---------------------------------------------------------- */

static int fail(struct rd_store *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct rd_store *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return err;
}

static int rc_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		return sys > 0 ? -sys : -EIO;
	default:
		return -EIO;
	}
}

/* "PATH: WHAT: SQLite's message" */
static int db_fail(struct rd_store *s, int rc, const char *what)
{
	return fail(s, rc_errno(s->db, rc), "%s: %s: %s", s->path, what,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* ---- statements ------------------------------------------------------ */

/* Prepared once (SQLITE_PREPARE_PERSISTENT) and kept: the manager commits
 * one change per kernel notification, so parsing SQL each time would be a
 * fixed cost on every change. Returned reset and unbound. */
static sqlite3_stmt *stmt(struct rd_store *s, int i)
{
	int rc;

	if (s->st[i]) {
		sqlite3_reset(s->st[i]);
		sqlite3_clear_bindings(s->st[i]);
		return s->st[i];
	}
	rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
	if (rc != SQLITE_OK) {
		db_fail(s, rc, "cannot prepare a statement");
		s->st[i] = NULL;
	}
	return s->st[i];
}

/* Step st: SQLITE_ROW, SQLITE_DONE or -errno (message set). */
static int step(struct rd_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	db_fail(s, rc, what);
	sqlite3_reset(st);
	return rc_errno(s->db, rc);
}

/* Run st to completion and release it; 0 or -errno. */
static int run(struct rd_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = step(s, st, what);

	sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int simple(struct rd_store *s, int i, const char *what)
{
	sqlite3_stmt *st = stmt(s, i);

	return st ? run(s, st, what) : -EIO;
}

static int tx_begin(struct rd_store *s)
{
	return simple(s, ST_BEGIN, "cannot begin a transaction");
}

static int tx_begin_read(struct rd_store *s)
{
	return simple(s, ST_BEGIN_READ, "cannot begin a read transaction");
}

static int tx_commit(struct rd_store *s)
{
	int ret = simple(s, ST_COMMIT, "cannot commit");

	/* A COMMIT that failed may leave the transaction open (SQLITE_BUSY),
	 * or SQLite rolled it back itself; either way nothing was written. */
	if (ret && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* Keeps the message of the failure that made us abort. */
static void tx_abort(struct rd_store *s)
{
	char keep[sizeof(s->err)];

	if (sqlite3_get_autocommit(s->db))
		return;
	memcpy(keep, s->err, sizeof(keep));
	simple(s, ST_ROLLBACK, "cannot roll back");
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	memcpy(s->err, keep, sizeof(keep));
}

/* ---- encodings ------------------------------------------------------- */

static bool addr_ok(const struct roster_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

static int bind_addr(sqlite3_stmt *st, int col, const struct roster_addr *a)
{
	return sqlite3_bind_blob(st, col, a->addr, (int)roster_addr_len(a), SQLITE_TRANSIENT);
}

static bool col_addr(sqlite3_stmt *st, int col, struct roster_addr *a)
{
	const void *p = sqlite3_column_blob(st, col);
	int len = sqlite3_column_bytes(st, col);

	memset(a, 0, sizeof(*a));
	if (!p || (len != 4 && len != 16))
		return false;
	a->family = len == 4 ? AF_INET : AF_INET6;
	memcpy(a->addr, p, (size_t)len);
	return true;
}

static bool col_key(sqlite3_stmt *st, int col, uint8_t key[32])
{
	const void *p = sqlite3_column_blob(st, col);

	if (!p || sqlite3_column_bytes(st, col) != 32)
		return false;
	memcpy(key, p, 32);
	return true;
}

/* An entry's prefix list: NULL if it has none, else the records (a list
 * of none is a zero-length blob: nothing may be announced). */
static void bind_entry_prefixes(sqlite3_stmt *st, int col, const struct rd_entry *e)
{
	uint8_t pfx[ROSTER_PREFIX_MAX * PREFIX_REC] = { 0 };

	if (!e->has_prefixes) {
		sqlite3_bind_null(st, col);
		return;
	}
	for (unsigned int i = 0; i < e->n_prefixes; i++) {
		uint8_t *r = pfx + i * PREFIX_REC;

		r[0] = e->prefixes[i].addr.family == AF_INET ? 4 : 6;
		r[1] = e->prefixes[i].len;
		memcpy(r + 2, e->prefixes[i].addr.addr, roster_addr_len(&e->prefixes[i].addr));
	}
	sqlite3_bind_blob(st, col, e->n_prefixes ? (const void *)pfx : (const void *)"",
			  (int)(e->n_prefixes * PREFIX_REC), SQLITE_TRANSIENT);
}

static bool col_entry_prefixes(sqlite3_stmt *st, int col, struct rd_entry *e)
{
	const uint8_t *pfx;
	int bytes;

	e->has_prefixes = false;
	e->n_prefixes = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return true;
	pfx = sqlite3_column_blob(st, col);
	bytes = sqlite3_column_bytes(st, col);
	if (bytes % PREFIX_REC || bytes / PREFIX_REC > ROSTER_PREFIX_MAX)
		return false;
	e->has_prefixes = true;
	e->n_prefixes = (unsigned int)(bytes / PREFIX_REC);
	for (unsigned int i = 0; i < e->n_prefixes; i++) {
		const uint8_t *r = pfx + i * PREFIX_REC;
		struct roster_prefix *p = &e->prefixes[i];

		if (r[0] != 4 && r[0] != 6)
			return false;
		memset(p, 0, sizeof(*p));
		p->addr.family = r[0] == 4 ? AF_INET : AF_INET6;
		p->len = r[1];
		memcpy(p->addr.addr, r + 2, roster_addr_len(&p->addr));
		if (p->len > roster_addr_len(&p->addr) * 8)
			return false;
	}
	return true;
}

static void vpns_text(const struct rd_entry *e, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < e->n_vpns && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u", i ? "," : "", e->vpns[i]);
}

/* Strict, unlike the old loader: the store never holds an entry it
 * could not write back. */
static int parse_vpns(const char *s, struct rd_entry *e)
{
	char buf[RD_ENTRY_MAX_VPNS * 11 + 1], *save = NULL;

	e->n_vpns = 0;
	if (!*s || strlen(s) >= sizeof(buf) || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return -EINVAL;
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (e->n_vpns >= RD_ENTRY_MAX_VPNS || roster_vpn_id_parse(t, &e->vpns[e->n_vpns]))
			return -EINVAL;
		for (unsigned int i = 0; i < e->n_vpns; i++)
			if (e->vpns[i] == e->vpns[e->n_vpns])
				return -EINVAL;
		e->n_vpns++;
	}
	return e->n_vpns ? 0 : -EINVAL;
}

static int member_check(struct rd_store *s, uint32_t vpn, const struct roster_member *m)
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

static int bind_member(struct rd_store *s, sqlite3_stmt *st, uint32_t vpn,
		       const struct roster_member *m)
{
	uint8_t pfx[ROSTER_PREFIX_MAX * PREFIX_REC];
	int rc;

	for (unsigned int i = 0; i < m->n_prefixes; i++) {
		uint8_t *r = pfx + i * PREFIX_REC;

		memset(r, 0, PREFIX_REC);
		r[0] = m->prefixes[i].addr.family == AF_INET ? 4 : 6;
		r[1] = m->prefixes[i].len;
		memcpy(r + 2, m->prefixes[i].addr.addr, roster_addr_len(&m->prefixes[i].addr));
	}
	rc = sqlite3_bind_int64(st, 1, vpn);
	if (!rc)
		rc = bind_addr(st, 2, &m->id);
	if (!rc)
		rc = m->has_key ? sqlite3_bind_blob(st, 3, m->key, 32, SQLITE_TRANSIENT) :
				  sqlite3_bind_null(st, 3);
	if (!rc)
		rc = m->has_endpoint ? bind_addr(st, 4, &m->endpoint) : sqlite3_bind_null(st, 4);
	if (!rc)
		rc = sqlite3_bind_int(st, 5, m->port);
	/* No prefixes: a zero-length blob, since the column is NOT NULL. */
	if (!rc)
		rc = sqlite3_bind_blob(st, 6, m->n_prefixes ? (const void *)pfx : (const void *)"",
				       (int)(m->n_prefixes * PREFIX_REC), SQLITE_TRANSIENT);
	if (!rc)
		rc = sqlite3_bind_int64(st, 7, (sqlite3_int64)m->join_time);
	if (!rc)
		rc = sqlite3_bind_int64(st, 8, (sqlite3_int64)m->join_generation);
	return rc ? db_fail(s, rc, "cannot bind a member") : 0;
}

/* A row of MEMBERS_ALL / MEMBERS_OF into m; false if it is malformed. */
static bool col_member(sqlite3_stmt *st, struct roster_member *m)
{
	const uint8_t *pfx;
	int bytes, port;

	memset(m, 0, sizeof(*m));
	if (!col_addr(st, 1, &m->id))
		return false;
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		if (!col_key(st, 2, m->key))
			return false;
		m->has_key = true;
	}
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		if (!col_addr(st, 3, &m->endpoint))
			return false;
		m->has_endpoint = true;
	}
	port = sqlite3_column_int(st, 4);
	if (port < 0 || port > 65535)
		return false;
	m->port = (uint16_t)port;
	pfx = sqlite3_column_blob(st, 5);
	bytes = sqlite3_column_bytes(st, 5);
	if (bytes % PREFIX_REC || bytes / PREFIX_REC > ROSTER_PREFIX_MAX)
		return false;
	m->n_prefixes = (unsigned int)(bytes / PREFIX_REC);
	for (unsigned int i = 0; i < m->n_prefixes; i++) {
		const uint8_t *r = pfx + i * PREFIX_REC;
		struct roster_prefix *p = &m->prefixes[i];

		if (r[0] != 4 && r[0] != 6)
			return false;
		p->addr.family = r[0] == 4 ? AF_INET : AF_INET6;
		p->len = r[1];
		memcpy(p->addr.addr, r + 2, roster_addr_len(&p->addr));
		if (p->len > roster_addr_len(&p->addr) * 8)
			return false;
	}
	m->join_time = (uint64_t)sqlite3_column_int64(st, 6);
	m->join_generation = (uint64_t)sqlite3_column_int64(st, 7);
	return true;
}

/* ---- meta ------------------------------------------------------------ */

/* 0 and the row's statement positioned on the value, -ENOENT, -errno. */
static int meta_get(struct rd_store *s, const char *key, sqlite3_stmt **out)
{
	sqlite3_stmt *st = stmt(s, ST_META_GET);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = step(s, st, "cannot read the meta table");
	if (rc < 0)
		return rc;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	*out = st;
	return 0;
}

static int meta_set_int(struct rd_store *s, const char *key, int64_t v)
{
	sqlite3_stmt *st = stmt(s, ST_META_SET);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return run(s, st, "cannot write the meta table");
}

/* ---- the old text files ---------------------------------------------- */

static int legacy_fail(char *err, size_t errlen, const char *path, unsigned int line,
		       const char *why)
{
	snprintf(err, errlen, "%s: line %u: %s; fix or remove the file and start again",
		 path, line, why);
	return -EINVAL;
}

static int legacy_entries(const char *dir, const char *name, bool invites, struct rd_entry **out,
			  unsigned int *n, bool *present, char *err, size_t errlen)
{
	char path[512], *text, *save = NULL, *line;
	unsigned int cap = 0, lineno = 0;
	int ret;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = rd_read_file(path, &text);
	*present = ret != -ENOENT;
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	/* strsep, not strtok: empty lines must count for the line numbers. */
	save = text;
	while ((line = strsep(&save, "\n"))) {
		char *f[5], *s2 = NULL, *end;
		unsigned int nf = 0;
		struct rd_entry e = { 0 };

		lineno++;
		if (!save && !*line)
			break;
		for (char *t = strtok_r(line, " \t", &s2); t && nf < 5;
		     t = strtok_r(NULL, " \t", &s2))
			f[nf++] = t;
		if (!nf || f[0][0] == '#')
			continue;
		ret = -EINVAL;
		if (nf < 3 || nf > (invites ? 4u : 3u)) {
			legacy_fail(err, errlen, path, lineno, invites ?
				    "expected 'ID PUBKEY VPN[,VPN...] [EXPIRY]'" :
				    "expected 'ID PUBKEY VPN[,VPN...]'");
			goto out;
		}
		if (roster_addr_parse(f[0], &e.id)) {
			legacy_fail(err, errlen, path, lineno, "invalid ID (an IP address)");
			goto out;
		}
		if (rd_key_from_b64(f[1], e.key)) {
			legacy_fail(err, errlen, path, lineno,
				    "invalid key (44 characters of base64)");
			goto out;
		}
		if (parse_vpns(f[2], &e)) {
			legacy_fail(err, errlen, path, lineno,
				    "invalid VPN list (distinct IDs 1..4294967295, "
				    "comma-separated)");
			goto out;
		}
		if (nf == 4) {
			errno = 0;
			e.expiry = strtoull(f[3], &end, 10);
			if (*end || errno || f[3][0] < '0' || f[3][0] > '9' ||
			    e.expiry > INT64_MAX) {
				legacy_fail(err, errlen, path, lineno, "invalid expiry (seconds)");
				goto out;
			}
		}
		for (unsigned int i = 0; i < *n; i++) {
			if (rd_addr_eq(&(*out)[i].id, &e.id) &&
			    (!invites || !memcmp((*out)[i].key, e.key, 32))) {
				legacy_fail(err, errlen, path, lineno, invites ?
					    "duplicate invitation" : "duplicate gateway ID");
				goto out;
			}
		}
		if (*n == cap) {
			struct rd_entry *na;

			cap = cap ? cap * 2 : 16;
			na = realloc(*out, cap * sizeof(*na));
			if (!na) {
				ret = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			*out = na;
		}
		(*out)[(*n)++] = e;
	}
	ret = 0;
out:
	free(text);
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

static int legacy_session(const char *dir, struct legacy *l, char *err, size_t errlen)
{
	char path[512], *text, *save, *line, *end;
	unsigned int lineno = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/session", dir);
	ret = rd_read_file(path, &text);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	save = text;
	ret = 0;
	while ((line = strsep(&save, "\n"))) {
		unsigned long long v;

		lineno++;
		if (!*line && !save)
			break;
		if (l->has_session || line[0] < '0' || line[0] > '9') {
			ret = legacy_fail(err, errlen, path, lineno, "expected one session id");
			break;
		}
		errno = 0;
		v = strtoull(line, &end, 10);
		if (*end || errno || v > UINT32_MAX) {
			ret = legacy_fail(err, errlen, path, lineno, "invalid session id");
			break;
		}
		l->session = (uint32_t)v;
		l->has_session = true;
	}
	if (!ret && !l->has_session)
		ret = legacy_fail(err, errlen, path, lineno ? lineno : 1,
				  "expected one session id");
	free(text);
	return ret;
}

static void legacy_free(struct legacy *l)
{
	free(l->gws);
	free(l->invs);
	memset(l, 0, sizeof(*l));
}

static int legacy_read(const char *dir, struct legacy *l, char *err, size_t errlen)
{
	int ret;

	memset(l, 0, sizeof(*l));
	ret = legacy_entries(dir, "gateways", false, &l->gws, &l->n_gws, &l->has_gws, err, errlen);
	if (!ret)
		ret = legacy_entries(dir, "invites", true, &l->invs, &l->n_invs, &l->has_invs,
				     err, errlen);
	if (!ret)
		ret = legacy_session(dir, l, err, errlen);
	if (ret)
		legacy_free(l);
	return ret;
}

static int put_entry(struct rd_store *s, int i, const struct rd_entry *e, bool expiry)
{
	sqlite3_stmt *st = stmt(s, i);
	char vpns[RD_ENTRY_MAX_VPNS * 11 + 1];

	if (!st)
		return -EIO;
	vpns_text(e, vpns, sizeof(vpns));
	bind_addr(st, 1, &e->id);
	sqlite3_bind_blob(st, 2, e->key, 32, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, vpns, -1, SQLITE_TRANSIENT);
	if (expiry)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)e->expiry);
	bind_entry_prefixes(st, 5, e);
	return run(s, st, expiry ? "cannot write an invitation" : "cannot write a gateway");
}

static int legacy_import(struct rd_store *s, const struct legacy *l)
{
	int ret = 0;

	for (unsigned int i = 0; !ret && i < l->n_gws; i++)
		ret = put_entry(s, ST_GW_PUT, &l->gws[i], false);
	for (unsigned int i = 0; !ret && i < l->n_invs; i++)
		ret = put_entry(s, ST_INV_INS, &l->invs[i], true);
	if (!ret && l->has_session)
		ret = meta_set_int(s, "session", l->session);
	return ret;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* After the store committed them: a crash before this only leaves files
 * that the next start ignores (the store exists then). */
static void legacy_retire(struct rd_store *s, const struct legacy *l)
{
	static const char *const names[] = { "gateways", "invites", "session" };
	const bool had[] = { l->has_gws, l->has_invs, l->has_session };

	for (unsigned int i = 0; i < 3; i++) {
		char from[512], to[530];

		if (!had[i])
			continue;
		snprintf(from, sizeof(from), "%s/%s", s->dir, names[i]);
		snprintf(to, sizeof(to), "%s.imported", from);
		if (rename(from, to))
			rd_warn("%s: imported, but cannot rename it: %s", from, strerror(errno));
	}
	sync_dir(s->dir);
	if (l->has_gws || l->has_invs || l->has_session)
		rd_info("%s: imported %u gateway(s), %u invitation(s)%s from the text files",
			s->path, l->n_gws, l->n_invs, l->has_session ? " and the session id" : "");
}

/* ---- open / close ---------------------------------------------------- */

static int pragma(struct rd_store *s, const char *q, const char *want)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);

	if (rc)
		return db_fail(s, rc, q);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(s, rc, q);
		sqlite3_finalize(st);
		return rc_errno(s->db, rc);
	}
	if (want && (rc != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
		     strcmp((const char *)sqlite3_column_text(st, 0), want))) {
		sqlite3_finalize(st);
		return fail(s, -EIO, "%s: %s: SQLite refused (%s expected)", s->path, q, want);
	}
	sqlite3_finalize(st);
	return 0;
}

static int schema_create(struct rd_store *s, const struct legacy *l)
{
	sqlite3_stmt *st;
	int rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL);

	if (rc)
		return db_fail(s, rc, "cannot create the schema");
	rd_random(s->identity, sizeof(s->identity));
	rc = meta_set_int(s, "schema", RD_STORE_SCHEMA);
	if (rc)
		return rc;
	st = stmt(s, ST_META_SET);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, "identity", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->identity, sizeof(s->identity), SQLITE_STATIC);
	rc = run(s, st, "cannot write the identity");
	return rc ? rc : legacy_import(s, l);
}

/* Inside the open's write transaction: check (or create) the schema. */
static int schema_check(struct rd_store *s, const struct legacy *l, bool *created)
{
	sqlite3_stmt *st;
	int64_t version;
	int rc, tables;

	*created = false;
	rc = sqlite3_prepare_v2(s->db, "SELECT count(*), sum(name = 'meta') FROM sqlite_schema",
				-1, &st, NULL);
	if (rc)
		return db_fail(s, rc, "cannot read the schema");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(s, rc, "cannot read the schema");
		sqlite3_finalize(st);
		return rc_errno(s->db, rc);
	}
	tables = sqlite3_column_int(st, 0);
	rc = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	if (!tables) {
		*created = true;
		return schema_create(s, l);
	}
	if (!rc)
		return fail(s, -EINVAL, "%s: not a rosterd store (no meta table)", s->path);
	rc = meta_get(s, "schema", &st);
	if (rc == -ENOENT)
		return fail(s, -EINVAL, "%s: not a rosterd store (no schema version)", s->path);
	if (rc)
		return rc;
	version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (version > RD_STORE_SCHEMA)
		return fail(s, -EPROTO,
			    "%s: schema version %lld is newer than this rosterd's (%d): "
			    "run the rosterd that wrote it, or restore a backup",
			    s->path, (long long)version, RD_STORE_SCHEMA);
	if (version < 1)
		return fail(s, -EINVAL, "%s: invalid schema version %lld", s->path,
			    (long long)version);
	if (version == 1) {
		rc = sqlite3_exec(s->db, schema2_sql, NULL, NULL, NULL);
		if (rc)
			return db_fail(s, rc, "cannot migrate the schema from version 1");
		rc = meta_set_int(s, "schema", 2);
		if (rc)
			return rc;
		rd_info("%s: schema migrated from version 1 to 2 (prefix lists)", s->path);
		version = 2;
	}
	if (version == 2) {
		rc = sqlite3_exec(s->db, schema3_sql, NULL, NULL, NULL);
		if (rc)
			return db_fail(s, rc, "cannot migrate the schema from version 2");
		rc = meta_set_int(s, "schema", 3);
		if (rc)
			return rc;
		rd_info("%s: schema migrated from version 2 to 3 (last seen, revoked keys)",
			s->path);
	}
	rc = meta_get(s, "identity", &st);
	if (rc == -ENOENT)
		return fail(s, -EINVAL, "%s: the store has no identity", s->path);
	if (rc)
		return rc;
	if (sqlite3_column_type(st, 0) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 0) != (int)sizeof(s->identity)) {
		sqlite3_reset(st);
		return fail(s, -EBADMSG, "%s: the store's identity is malformed", s->path);
	}
	memcpy(s->identity, sqlite3_column_blob(st, 0), sizeof(s->identity));
	sqlite3_reset(st);
	return 0;
}

static void legacy_warn_leftovers(const struct rd_store *s)
{
	static const char *const names[] = { "gateways", "invites", "session" };

	for (unsigned int i = 0; i < 3; i++) {
		char p[512];

		snprintf(p, sizeof(p), "%s/%s", s->dir, names[i]);
		if (!access(p, F_OK))
			rd_warn("%s: ignored: the store %s holds the manager's state", p, s->path);
	}
}

/* ROSTERD_STORE_SYNC=off trades durability for speed: only for measuring
 * what durability costs (scripts/bench-fanout), never for a deployment. */
static const char *sync_pragma(void)
{
	const char *v = getenv("ROSTERD_STORE_SYNC");

	return v && !strcmp(v, "off") ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL";
}

int rd_store_open(const char *dir, struct rd_store **out, char *err, size_t errlen)
{
	struct legacy l = { 0 };
	struct rd_store *s;
	bool legacy_read_done = false, created;
	struct stat sb;
	int ret, rc;

	*out = NULL;
	if (strlen(dir) >= sizeof(s->dir)) {
		snprintf(err, errlen, "%s: state directory path too long", dir);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	strcpy(s->dir, dir);
	snprintf(s->path, sizeof(s->path), "%s/%s", dir, RD_STORE_FILE);
	snprintf(s->desc, sizeof(s->desc), "SQLite database %s", s->path);
	ret = rd_mkdir_p(dir, 0700);
	if (ret) {
		fail(s, ret, "%s: cannot create the state directory: %s", dir, strerror(-ret));
		goto out;
	}
	if (stat(s->path, &sb)) {
		int fd;

		if (errno != ENOENT) {
			ret = fail(s, -errno, "%s: %s", s->path, strerror(errno));
			goto out;
		}
		/* A new store: the old files must parse before anything exists. */
		ret = legacy_read(dir, &l, s->err, sizeof(s->err));
		if (ret)
			goto out;
		legacy_read_done = true;
		/* SQLite would create it with 0644 & ~umask; the WAL and shm
		 * files inherit this file's mode. */
		fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			ret = fail(s, -errno, "%s: cannot create: %s", s->path, strerror(errno));
			goto out;
		}
		if (fd >= 0) {
			close(fd);
			sync_dir(dir);
		}
	}
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc) {
		ret = db_fail(s, rc, "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	ret = pragma(s, "PRAGMA journal_mode=WAL", "wal");
	if (!ret)
		ret = pragma(s, sync_pragma(), NULL);
	if (ret)
		goto out;
	ret = tx_begin(s);
	if (ret)
		goto out;
	ret = schema_check(s, &l, &created);
	if (!ret && created && !legacy_read_done) {
		/* An empty file, left by a start that died before its first
		 * commit: still a new store, so the old files count. */
		tx_abort(s);
		ret = legacy_read(dir, &l, s->err, sizeof(s->err));
		if (!ret)
			ret = tx_begin(s);
		if (!ret)
			ret = schema_check(s, &l, &created);
	}
	if (ret) {
		tx_abort(s);
		goto out;
	}
	ret = tx_commit(s);
	if (ret)
		goto out;
	if (created)
		legacy_retire(s, &l);
	else
		legacy_warn_leftovers(s);
	{
		sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);

		if (st && step(s, st, "cannot read data_version") == SQLITE_ROW)
			s->data_version = sqlite3_column_int64(st, 0);
		if (st)
			sqlite3_reset(st);
	}
	legacy_free(&l);
	*out = s;
	return 0;
out:
	snprintf(err, errlen, "%s", s->err);
	legacy_free(&l);
	rd_store_close(s);
	return ret;
}

void rd_store_close(struct rd_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		rd_err("%s: cannot close: %s", s->path, sqlite3_errmsg(s->db));
	free(s);
}

struct sqlite3 *rd_store_sqlite(struct rd_store *s)
{
	return s->db;
}

const uint8_t *rd_store_identity(const struct rd_store *s)
{
	return s->identity;
}

const char *rd_store_identity_hex(const struct rd_store *s, char *buf)
{
	for (unsigned int i = 0; i < sizeof(s->identity); i++)
		sprintf(buf + 2 * i, "%02x", s->identity[i]);
	return buf;
}

const char *rd_store_describe(const struct rd_store *s)
{
	return s->desc;
}

const char *rd_store_errmsg(const struct rd_store *s)
{
	return s->err[0] ? s->err : "no error";
}

/* ---- membership ------------------------------------------------------ */

void rd_store_vpn_release(struct rd_store_vpn *v)
{
	free(v->members);
	v->members = NULL;
	v->n = 0;
}

void rd_store_vpns_free(struct rd_store_vpn *v, unsigned int n)
{
	for (unsigned int i = 0; v && i < n; i++)
		rd_store_vpn_release(&v[i]);
	free(v);
}

static int vpn_push(struct rd_store *s, struct rd_store_vpn *v, unsigned int *cap,
		    sqlite3_stmt *st)
{
	if (v->n == *cap) {
		unsigned int nc = *cap ? *cap * 2 : 16;
		struct roster_member *nm = realloc(v->members, nc * sizeof(*nm));

		if (!nm)
			return fail(s, -ENOMEM, "%s: out of memory loading VPN %u", s->path, v->id);
		v->members = nm;
		*cap = nc;
	}
	if (!col_member(st, &v->members[v->n]))
		return fail(s, -EBADMSG, "%s: VPN %u: malformed member row", s->path, v->id);
	v->n++;
	return 0;
}

static void vpn_row(sqlite3_stmt *st, int col, struct rd_store_vpn *v)
{
	v->generation = (uint64_t)sqlite3_column_int64(st, col);
	v->flags = (uint32_t)sqlite3_column_int64(st, col + 1);
}

static int load(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n, bool members);

int rd_store_load(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n)
{
	return load(s, out, n, true);
}

int rd_store_vpn_list(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n)
{
	return load(s, out, n, false);
}

static int load(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n, bool members)
{
	struct rd_store_vpn *v = NULL;
	unsigned int cnt = 0, cap = 0, mcap = 0, cur = 0;
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	*n = 0;
	/* One read transaction: the VPNs and the members of one snapshot. */
	ret = tx_begin_read(s);
	if (ret)
		return ret;
	st = stmt(s, ST_VPNS_ALL);
	if (!st) {
		ret = -EIO;
		goto out;
	}
	while ((rc = step(s, st, "cannot read the VPNs")) == SQLITE_ROW) {
		if (cnt == cap) {
			struct rd_store_vpn *nv;

			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				ret = fail(s, -ENOMEM, "%s: out of memory", s->path);
				goto out;
			}
			v = nv;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].id = (uint32_t)sqlite3_column_int64(st, 0);
		vpn_row(st, 1, &v[cnt]);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc < 0) {
		ret = rc;
		goto out;
	}
	if (!members)
		goto out;
	st = stmt(s, ST_MEMBERS_ALL);
	if (!st) {
		ret = -EIO;
		goto out;
	}
	while ((rc = step(s, st, "cannot read the members")) == SQLITE_ROW) {
		uint32_t vpn = (uint32_t)sqlite3_column_int64(st, 0);

		/* Both in ascending VPN id: walk the VPNs along. */
		while (cur < cnt && v[cur].id < vpn) {
			cur++;
			mcap = 0;
		}
		if (cur == cnt || v[cur].id != vpn) {
			ret = fail(s, -EBADMSG, "%s: member of VPN %u, which is not in the store",
				   s->path, vpn);
			goto out;
		}
		ret = vpn_push(s, &v[cur], &mcap, st);
		if (ret)
			goto out;
	}
	sqlite3_reset(st);
	ret = rc < 0 ? rc : 0;
out:
	if (st)
		sqlite3_reset(st);
	tx_abort(s);
	if (ret) {
		rd_store_vpns_free(v, cnt);
		return ret;
	}
	*out = cnt ? v : NULL;
	if (!cnt)
		free(v);
	*n = cnt;
	return 0;
}

int rd_store_vpn_get(struct rd_store *s, uint32_t id, struct rd_store_vpn *out)
{
	unsigned int mcap = 0;
	sqlite3_stmt *st;
	int ret, rc;

	memset(out, 0, sizeof(*out));
	out->id = id;
	ret = tx_begin_read(s);
	if (ret)
		return ret;
	st = stmt(s, ST_VPN_GET);
	if (!st) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = step(s, st, "cannot read a VPN");
	if (rc == SQLITE_DONE)
		ret = fail(s, -ENOENT, "VPN %u is not in the store", id);
	else if (rc < 0)
		ret = rc;
	else
		vpn_row(st, 0, out);
	sqlite3_reset(st);
	if (ret)
		goto out;
	st = stmt(s, ST_MEMBERS_OF);
	if (!st) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = step(s, st, "cannot read the members")) == SQLITE_ROW) {
		ret = vpn_push(s, out, &mcap, st);
		if (ret)
			break;
	}
	sqlite3_reset(st);
	if (!ret && rc < 0)
		ret = rc;
out:
	tx_abort(s);
	if (ret)
		rd_store_vpn_release(out);
	return ret;
}

static int change_check(struct rd_store *s, const struct rd_store_change *c)
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
	case RD_STORE_VPN_REPLACE:
		if (c->n && !c->members)
			return fail(s, -EINVAL, "VPN %u: VPN_REPLACE without members", c->vpn);
		for (unsigned int i = 0; i < c->n; i++) {
			int ret = member_check(s, c->vpn, &c->members[i]);

			if (ret)
				return ret;
		}
		return 0;
	}
	return fail(s, -EINVAL, "VPN %u: unknown change %d", c->vpn, (int)c->op);
}

/* The VPN row: -ENOENT if absent. */
static int vpn_read(struct rd_store *s, uint32_t id, uint64_t *gen)
{
	sqlite3_stmt *st = stmt(s, ST_VPN_GET);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = step(s, st, "cannot read a VPN");
	if (rc == SQLITE_ROW)
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc < 0 ? rc : rc == SQLITE_ROW ? 0 : -ENOENT;
}

static int vpn_write(struct rd_store *s, const struct rd_store_change *c, bool present)
{
	sqlite3_stmt *st = stmt(s, present ? ST_VPN_GEN : ST_VPN_INS);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, c->vpn);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->gen);
	if (!present)
		sqlite3_bind_int64(st, 3, c->vpn_flags);
	return run(s, st, "cannot write a VPN");
}

static int by_vpn(struct rd_store *s, int i, uint32_t vpn, const char *what)
{
	sqlite3_stmt *st = stmt(s, i);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vpn);
	return run(s, st, what);
}

static int member_write(struct rd_store *s, int i, uint32_t vpn, const struct roster_member *m)
{
	sqlite3_stmt *st = stmt(s, i);
	int ret;

	if (!st)
		return -EIO;
	ret = bind_member(s, st, vpn, m);
	if (!ret)
		ret = run(s, st, "cannot write a member");
	if (ret == -EEXIST)
		ret = fail(s, -EINVAL, "VPN %u: member %s appears twice", vpn, rd_ntop(&m->id));
	return ret;
}

static int apply(struct rd_store *s, const struct rd_store_change *c, bool present)
{
	sqlite3_stmt *st;
	int ret;

	switch (c->op) {
	case RD_STORE_MEMBER_PUT:
		ret = vpn_write(s, c, present);
		return ret ? ret : member_write(s, ST_MEMBER_PUT, c->vpn, c->member);
	case RD_STORE_MEMBER_DEL:
		if (!present)
			return fail(s, -ENOENT, "VPN %u is not in the store", c->vpn);
		st = stmt(s, ST_MEMBER_DEL);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, c->vpn);
		bind_addr(st, 2, &c->id);
		ret = run(s, st, "cannot delete a member");
		return ret ? ret : vpn_write(s, c, present);
	case RD_STORE_VPN_PUT:
		return vpn_write(s, c, present);
	case RD_STORE_VPN_DEL:
		ret = by_vpn(s, ST_MEMBERS_DEL, c->vpn, "cannot delete members");
		return ret ? ret : by_vpn(s, ST_VPN_DEL, c->vpn, "cannot delete a VPN");
	case RD_STORE_VPN_REPLACE:
		ret = vpn_write(s, c, present);
		if (!ret && present)
			ret = by_vpn(s, ST_MEMBERS_DEL, c->vpn, "cannot delete members");
		for (unsigned int i = 0; !ret && i < c->n; i++)
			ret = member_write(s, ST_MEMBER_INS, c->vpn, &c->members[i]);
		return ret;
	}
	return -EINVAL;
}

int rd_store_commit(struct rd_store *s, const struct rd_store_change *c)
{
	uint64_t cur = 0;
	bool present;
	int ret;

	ret = change_check(s, c);
	if (ret)
		return ret;
	/* IMMEDIATE: the write lock is ours before the generation is read,
	 * so the compare and the set are one step for every process. */
	ret = tx_begin(s);
	if (ret)
		return ret;
	ret = vpn_read(s, c->vpn, &cur);
	if (ret && ret != -ENOENT)
		goto abort;
	present = !ret;
	if (c->prev_gen != RD_STORE_ANY_GEN &&
	    (c->prev_gen ? !present || cur != c->prev_gen : present)) {
		char held[48];

		if (present)
			snprintf(held, sizeof(held), "generation %llu", (unsigned long long)cur);
		else
			snprintf(held, sizeof(held), "no such VPN");
		ret = fail(s, -ESTALE, "VPN %u: the change follows %s %llu, the store holds %s",
			   c->vpn, c->prev_gen ? "generation" : "an absent VPN, not",
			   (unsigned long long)c->prev_gen, held);
		goto abort;
	}
	ret = apply(s, c, present);
	if (ret)
		goto abort;
	return tx_commit(s);
abort:
	tx_abort(s);
	return ret;
}

/* ---- enrolment ------------------------------------------------------- */

static int entries(struct rd_store *s, int i, struct rd_entry **out, unsigned int *n)
{
	struct rd_entry *arr = NULL;
	unsigned int cnt = 0, cap = 0;
	sqlite3_stmt *st = stmt(s, i);
	int rc, ret = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return -EIO;
	while ((rc = step(s, st, "cannot read the enrolment records")) == SQLITE_ROW) {
		struct rd_entry e = { 0 };
		const unsigned char *vpns = sqlite3_column_text(st, 2);

		if (!col_addr(st, 0, &e.id) || !col_key(st, 1, e.key) || !vpns ||
		    parse_vpns((const char *)vpns, &e) || !col_entry_prefixes(st, 4, &e)) {
			ret = fail(s, -EBADMSG, "%s: malformed %s row", s->path,
				   i == ST_GWS_ALL ? "gateway" : "invitation");
			break;
		}
		e.expiry = (uint64_t)sqlite3_column_int64(st, 3);
		e.last_seen = (uint64_t)sqlite3_column_int64(st, 5);
		if (cnt == cap) {
			struct rd_entry *na;

			cap = cap ? cap * 2 : 16;
			na = realloc(arr, cap * sizeof(*na));
			if (!na) {
				ret = fail(s, -ENOMEM, "%s: out of memory", s->path);
				break;
			}
			arr = na;
		}
		arr[cnt++] = e;
	}
	sqlite3_reset(st);
	if (!ret && rc < 0)
		ret = rc;
	if (ret) {
		free(arr);
		return ret;
	}
	if (!cnt)
		free(arr);
	*out = cnt ? arr : NULL;
	*n = cnt;
	return 0;
}

int rd_store_gateways(struct rd_store *s, struct rd_entry **out, unsigned int *n)
{
	return entries(s, ST_GWS_ALL, out, n);
}

int rd_store_invites(struct rd_store *s, struct rd_entry **out, unsigned int *n)
{
	return entries(s, ST_INVS_ALL, out, n);
}

static int entry_check(struct rd_store *s, const struct rd_entry *e, const char *what)
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

/* A revoked key (rd_store_revoke, or rotated away) is never accepted
 * again: its private half may be in a thief's hands. */
static int key_revoked(struct rd_store *s, const uint8_t key[32], const char *what)
{
	sqlite3_stmt *st = stmt(s, ST_REVOKED_GET);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
	rc = step(s, st, "cannot read the revoked keys");
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return fail(s, -EKEYREVOKED, "%s: the key was revoked: make a new one", what);
	return rc < 0 ? rc : 0;
}

static int revoke_key(struct rd_store *s, const uint8_t key[32], const struct roster_addr *id)
{
	sqlite3_stmt *st = stmt(s, ST_REVOKED_INS);

	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_TRANSIENT);
	bind_addr(st, 2, id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	return run(s, st, "cannot record a revoked key");
}

int rd_store_invite_put(struct rd_store *s, const struct rd_entry *inv,
			uint8_t (*old_keys)[32], unsigned int max_old, unsigned int *replaced)
{
	unsigned int cnt = 0;
	sqlite3_stmt *st;
	int ret, rc;

	if (replaced)
		*replaced = 0;
	ret = entry_check(s, inv, "invitation");
	if (ret)
		return ret;
	ret = tx_begin(s);
	if (ret)
		return ret;
	ret = key_revoked(s, inv->key, "invitation");
	if (ret)
		goto abort;
	st = stmt(s, ST_INV_OF);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, &inv->id);
	while ((rc = step(s, st, "cannot read the invitations")) == SQLITE_ROW) {
		if (old_keys && cnt < max_old && !col_key(st, 0, old_keys[cnt])) {
			sqlite3_reset(st);
			ret = fail(s, -EBADMSG, "%s: malformed invitation row", s->path);
			goto abort;
		}
		cnt++;
	}
	sqlite3_reset(st);
	if (rc < 0) {
		ret = rc;
		goto abort;
	}
	st = stmt(s, ST_INV_DEL_ID);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, &inv->id);
	ret = run(s, st, "cannot delete invitations");
	if (!ret)
		ret = put_entry(s, ST_INV_INS, inv, true);
	if (ret)
		goto abort;
	ret = tx_commit(s);
	if (!ret && replaced)
		*replaced = cnt;
	return ret;
abort:
	tx_abort(s);
	return ret;
}

int rd_store_invites_expire(struct rd_store *s, uint64_t now, uint8_t (*keys)[32],
			    unsigned int max, unsigned int *n)
{
	struct roster_addr ids[64];
	uint8_t k[64][32];
	unsigned int cnt = 0, lim = max < 64 ? max : 64;
	sqlite3_stmt *st;
	int ret = 0, rc;

	*n = 0;
	if (!lim)
		return 0;
	ret = tx_begin(s);
	if (ret)
		return ret;
	st = stmt(s, ST_INV_EXPIRED);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	sqlite3_bind_int64(st, 1, now > INT64_MAX ? INT64_MAX : (sqlite3_int64)now);
	sqlite3_bind_int(st, 2, (int)lim);
	while ((rc = step(s, st, "cannot read the invitations")) == SQLITE_ROW) {
		if (!col_addr(st, 0, &ids[cnt]) || !col_key(st, 1, k[cnt])) {
			sqlite3_reset(st);
			ret = fail(s, -EBADMSG, "%s: malformed invitation row", s->path);
			goto abort;
		}
		cnt++;
	}
	sqlite3_reset(st);
	if (rc < 0) {
		ret = rc;
		goto abort;
	}
	for (unsigned int i = 0; !ret && i < cnt; i++) {
		st = stmt(s, ST_INV_DEL);
		if (!st) {
			ret = -EIO;
			break;
		}
		bind_addr(st, 1, &ids[i]);
		sqlite3_bind_blob(st, 2, k[i], 32, SQLITE_STATIC);
		ret = run(s, st, "cannot delete an invitation");
	}
	if (ret)
		goto abort;
	if (!cnt) {
		tx_abort(s);
		return 0;
	}
	ret = tx_commit(s);
	if (!ret) {
		memcpy(keys, k, cnt * sizeof(k[0]));
		*n = cnt;
	}
	return ret;
abort:
	tx_abort(s);
	return ret;
}

/* Is key another gateway's, or any invitation's (the one being consumed
 * included: its private half is in the token)? Two rctl0 peers cannot
 * share a key: WireGuard would move the victim's allowed-ips to the
 * newcomer. Prepared here, not in sql[]: enrolments are rare. */
static int key_in_use(struct rd_store *s, const uint8_t key[32], const struct roster_addr *id)
{
	static const char q[] =
		"SELECT 'an enrolled gateway' FROM gateways WHERE key = ?1 AND id != ?2 "
		"UNION ALL SELECT 'a pending invitation' FROM invites WHERE key = ?1 LIMIT 1";
	sqlite3_stmt *st;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "cannot look the key up");
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
	bind_addr(st, 2, id);
	rc = step(s, st, "cannot look the key up");
	if (rc == SQLITE_ROW)
		ret = fail(s, -EEXIST, "enrolment of %s: the key is already used by %s",
			   rd_ntop(id), (const char *)sqlite3_column_text(st, 0));
	else if (rc < 0)
		ret = rc;
	sqlite3_finalize(st);
	return ret;
}

int rd_store_enrol(struct rd_store *s, struct rd_entry *gw, const uint8_t invite_key[32],
		   uint8_t old_key[32], bool *had_old)
{
	struct rd_entry ne = *gw;
	uint8_t prev[32];
	bool had = false;
	sqlite3_stmt *st;
	const unsigned char *vpns;
	int ret, rc;

	*had_old = false;
	if (!addr_ok(&gw->id))
		return fail(s, -EINVAL, "enrolment with no IPv4 or IPv6 id");
	ret = tx_begin(s);
	if (ret)
		return ret;
	st = stmt(s, ST_INV_GET);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, &gw->id);
	sqlite3_bind_blob(st, 2, invite_key, 32, SQLITE_STATIC);
	rc = step(s, st, "cannot read the invitations");
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		ret = fail(s, -ENOENT, "no invitation for %s with that key (consumed or expired)",
			   rd_ntop(&gw->id));
		goto abort;
	}
	if (rc < 0) {
		ret = rc;
		goto abort;
	}
	vpns = sqlite3_column_text(st, 0);
	ret = vpns ? parse_vpns((const char *)vpns, &ne) : -EINVAL;
	ret = ret ? ret : col_entry_prefixes(st, 1, &ne) ? 0 : -EINVAL;
	sqlite3_reset(st);
	if (ret) {
		ret = fail(s, -EBADMSG, "%s: malformed invitation row for %s", s->path,
			   rd_ntop(&gw->id));
		goto abort;
	}
	ne.expiry = 0;
	/* Checked under the write lock: another process's invitation or
	 * enrolment cannot slip in between. */
	ret = key_in_use(s, gw->key, &gw->id);
	if (!ret)
		ret = key_revoked(s, gw->key, "enrolment");
	if (ret)
		goto abort;
	st = stmt(s, ST_INV_DEL);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, &gw->id);
	sqlite3_bind_blob(st, 2, invite_key, 32, SQLITE_STATIC);
	ret = run(s, st, "cannot delete the invitation");
	if (ret)
		goto abort;
	st = stmt(s, ST_GW_GET);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, &gw->id);
	rc = step(s, st, "cannot read the gateways");
	if (rc == SQLITE_ROW) {
		had = col_key(st, 0, prev);
		if (!had) {
			sqlite3_reset(st);
			ret = fail(s, -EBADMSG, "%s: malformed gateway row for %s", s->path,
				   rd_ntop(&gw->id));
			goto abort;
		}
	}
	sqlite3_reset(st);
	if (rc < 0) {
		ret = rc;
		goto abort;
	}
	ret = put_entry(s, ST_GW_PUT, &ne, false);
	if (ret)
		goto abort;
	ret = tx_commit(s);
	if (ret)
		return ret;
	*gw = ne;
	if (had) {
		memcpy(old_key, prev, 32);
		*had_old = true;
	}
	return 0;
abort:
	tx_abort(s);
	return ret;
}

/* The key of gateway id (-ENOENT if not enrolled), inside a transaction. */
static int gw_key(struct rd_store *s, const struct roster_addr *id, uint8_t key[32])
{
	sqlite3_stmt *st = stmt(s, ST_GW_GET);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	bind_addr(st, 1, id);
	rc = step(s, st, "cannot read the gateways");
	if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else if (rc < 0)
		ret = rc;
	else if (!col_key(st, 0, key))
		ret = fail(s, -EBADMSG, "%s: malformed gateway row for %s", s->path, rd_ntop(id));
	sqlite3_reset(st);
	return ret;
}

int rd_store_revoke(struct rd_store *s, const struct roster_addr *id, uint8_t (*keys)[32],
		    unsigned int max, unsigned int *n)
{
	uint8_t k[1 + 64][32];
	unsigned int cnt = 0;
	sqlite3_stmt *st;
	int ret, rc;

	*n = 0;
	if (!addr_ok(id))
		return fail(s, -EINVAL, "revocation with no IPv4 or IPv6 id");
	ret = tx_begin(s);
	if (ret)
		return ret;
	ret = gw_key(s, id, k[0]);
	if (!ret)
		cnt = 1;
	else if (ret != -ENOENT)
		goto abort;
	st = stmt(s, ST_INV_OF);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, id);
	/* At most one invitation per id is kept (rd_store_invite_put
	 * replaces), so 64 is room for any store this rosterd wrote. */
	while ((rc = step(s, st, "cannot read the invitations")) == SQLITE_ROW && cnt < 65)
		if (!col_key(st, 0, k[cnt++])) {
			sqlite3_reset(st);
			ret = fail(s, -EBADMSG, "%s: malformed invitation row", s->path);
			goto abort;
		}
	sqlite3_reset(st);
	if (rc < 0) {
		ret = rc;
		goto abort;
	}
	if (!cnt) {
		tx_abort(s);
		return fail(s, -ENOENT, "%s is neither enrolled nor invited", rd_ntop(id));
	}
	for (unsigned int i = 0; i < cnt; i++) {
		ret = revoke_key(s, k[i], id);
		if (ret)
			goto abort;
	}
	st = stmt(s, ST_GW_DEL);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, id);
	ret = run(s, st, "cannot delete the gateway");
	if (ret)
		goto abort;
	st = stmt(s, ST_INV_DEL_ID);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, id);
	ret = run(s, st, "cannot delete the invitations");
	if (ret)
		goto abort;
	ret = tx_commit(s);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < cnt && i < max; i++)
		memcpy(keys[i], k[i], 32);
	*n = cnt < max ? cnt : max;
	return 0;
abort:
	tx_abort(s);
	return ret;
}

int rd_store_key_revoked(struct rd_store *s, const uint8_t key[32])
{
	int ret = key_revoked(s, key, "key");

	return ret == -EKEYREVOKED ? 1 : ret;
}

int rd_store_gateway_rekey(struct rd_store *s, const struct roster_addr *id,
			   const uint8_t old_key[32], const uint8_t new_key[32])
{
	uint8_t cur[32];
	sqlite3_stmt *st;
	int ret;

	if (!addr_ok(id))
		return fail(s, -EINVAL, "key rotation with no IPv4 or IPv6 id");
	if (!memcmp(old_key, new_key, 32))
		return fail(s, -EINVAL, "key rotation of %s: the new key is the old one",
			    rd_ntop(id));
	ret = tx_begin(s);
	if (ret)
		return ret;
	ret = gw_key(s, id, cur);
	if (ret == -ENOENT) {
		ret = fail(s, -ENOENT, "key rotation: %s is not enrolled", rd_ntop(id));
		goto abort;
	}
	if (ret)
		goto abort;
	if (!memcmp(cur, new_key, 32)) {
		tx_abort(s);
		return 0;
	}
	if (memcmp(cur, old_key, 32)) {
		ret = fail(s, -ENOENT, "key rotation of %s: its key is neither the old nor the new one",
			   rd_ntop(id));
		goto abort;
	}
	ret = key_in_use(s, new_key, id);
	if (!ret)
		ret = key_revoked(s, new_key, "key rotation");
	if (!ret)
		ret = revoke_key(s, old_key, id);
	if (ret)
		goto abort;
	st = stmt(s, ST_GW_REKEY);
	if (!st) {
		ret = -EIO;
		goto abort;
	}
	bind_addr(st, 1, id);
	sqlite3_bind_blob(st, 2, new_key, 32, SQLITE_TRANSIENT);
	ret = run(s, st, "cannot write the gateway's key");
	if (ret)
		goto abort;
	return tx_commit(s);
abort:
	tx_abort(s);
	return ret;
}

int rd_store_gateways_seen(struct rd_store *s, const struct roster_addr *ids,
			   const uint64_t *when, unsigned int n)
{
	int ret;

	if (!n)
		return 0;
	ret = tx_begin(s);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++) {
		sqlite3_stmt *st = stmt(s, ST_GW_SEEN);

		if (!st) {
			ret = -EIO;
			goto abort;
		}
		if (!addr_ok(&ids[i]) || when[i] > INT64_MAX)
			continue;
		bind_addr(st, 1, &ids[i]);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)when[i]);
		ret = run(s, st, "cannot write a gateway's last-seen time");
		if (ret)
			goto abort;
	}
	return tx_commit(s);
abort:
	tx_abort(s);
	return ret;
}

/* ---- sessions and other processes ------------------------------------ */

int rd_store_session_next(struct rd_store *s, uint32_t *session)
{
	uint32_t now = (uint32_t)time(NULL), last = 0, next;
	sqlite3_stmt *st;
	int ret;

	ret = tx_begin(s);
	if (ret)
		return ret;
	ret = meta_get(s, "session", &st);
	if (!ret) {
		last = (uint32_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	} else if (ret != -ENOENT) {
		goto abort;
	}
	next = last + 1 > now ? last + 1 : now;
	ret = meta_set_int(s, "session", next);
	if (ret)
		goto abort;
	ret = tx_commit(s);
	if (!ret)
		*session = next;
	return ret;
abort:
	tx_abort(s);
	return ret;
}

bool rd_store_changed(struct rd_store *s)
{
	sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);
	int64_t v;

	/* On failure say "changed": a needless reload is cheap, a missed
	 * invitation is not. */
	if (!st || step(s, st, "cannot read data_version") != SQLITE_ROW)
		return true;
	v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (v == s->data_version)
		return false;
	s->data_version = v;
	return true;
}

int rd_store_backup(struct rd_store *s, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	char dir[512], *slash;
	int fd, rc, ret = 0;

	/* O_EXCL: an existing file (an older backup, the live store) is
	 * never overwritten. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(s, -errno, "%s: %s", path,
			    errno == EEXIST ? "already exists; refusing to overwrite it" :
			    strerror(errno));
	close(fd);
	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc) {
		ret = fail(s, rc_errno(dst, rc), "%s: cannot open: %s", path,
			   dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
	sqlite3_exec(dst, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	b = sqlite3_backup_init(dst, "main", s->db, "main");
	if (!b) {
		ret = fail(s, rc_errno(dst, sqlite3_errcode(dst)),
			   "%s: cannot start the backup: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	/* All pages in one step: one read snapshot of the store, which WAL
	 * lets the manager keep writing past. */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(10);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		ret = fail(s, rc_errno(dst, rc), "%s: backup failed: %s", path, sqlite3_errstr(rc));
		goto out;
	}
	/* The copy is one self-contained file, with no -wal beside it; the
	 * store that opens it goes back to WAL. */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc) {
		ret = fail(s, rc_errno(dst, rc), "%s: cannot finish the backup: %s", path,
			   sqlite3_errmsg(dst));
		goto out;
	}
out:
	if (dst && sqlite3_close(dst) != SQLITE_OK && !ret)
		ret = fail(s, -EIO, "%s: cannot close the backup", path);
	if (ret) {
		unlink(path);
		return ret;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	sync_dir(slash ? dir : ".");
	return 0;
}

int rd_store_vpn_generation(struct rd_store *s, uint32_t id, uint64_t *gen)
{
	int ret = vpn_read(s, id, gen);

	if (ret == -ENOENT)
		fail(s, -ENOENT, "VPN %u is not in the store", id);
	return ret;
}
