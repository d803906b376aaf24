// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: state directory.
 *
 * Manager (state-dir, mode 0700):
 *   private.key  the manager's WireGuard private key (base64); everything
 *                else is in its store (store.h)
 *   gateways, invites, session
 *                the plain-text files of earlier versions, imported once
 *                by the store (store-sqlite.c)
 * Gateway:
 *   identity     "key value" lines: private-key, id, prefixlen,
 *                manager-key, manager-endpoint, control-address (the
 *                manager enrolled with), control-port, store-id (32 hex
 *                digits: the manager's store, once known; identities
 *                written by earlier versions lack it), and one line per
 *                manager of the cluster, "manager KEY ENDPOINT:PORT
 *                CONTROL-ADDRESS" (ENDPOINT:PORT "-": none known, rctl0
 *                waits for its handshake), unless the set is just the manager
 *                enrolled with (so that a one-manager identity is as
 *                earlier versions wrote it, and they read every one)
 *   identity.pending
 *                the same, written by `rosterd redeem` before it sends
 *                ENROLL and renamed to identity once ENROLLED arrives: a
 *                redeem that crashes in between is retried with the same
 *                key (state.h)
 *   session      the last session id handed out (rd_session_next); the
 *                daemon and `rosterd leave` share it
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlnet.h"
#include "log.h"
#include "util.h"
#include "rel.h"
#include "netif.h"
#include "state.h"

bool rd_entry_allows(const struct rd_entry *e, uint32_t vpn)
{
	for (unsigned int i = 0; i < e->n_vpns; i++)
		if (e->vpns[i] == vpn)
			return true;
	return false;
}

uint32_t rd_session_next(const char *dir)
{
	uint32_t now = (uint32_t)time(NULL), last = 0, next;
	char path[512], *text, buf[16];
	int lock;

	if (rd_mkdir_p(dir, 0700))
		return now;
	lock = rd_lock_dir(dir);
	snprintf(path, sizeof(path), "%s/session", dir);
	if (!rd_read_file(path, &text)) {
		last = (uint32_t)strtoul(text, NULL, 10);
		free(text);
	}
	next = last + 1 > now ? last + 1 : now;
	snprintf(buf, sizeof(buf), "%u\n", next);
	if (rd_write_file(path, buf, 0600))
		rd_warn("%s: cannot save the session id", path);
	if (lock >= 0)
		rd_unlock_dir(lock);
	return next;
}

int rd_state_key(const char *dir, uint8_t priv[32], bool create)
{
	char path[512], *text, b64[48];
	int ret;

	snprintf(path, sizeof(path), "%s/private.key", dir);
	ret = rd_read_file(path, &text);
	if (!ret) {
		char *nl = strchr(text, '\n');

		if (nl)
			*nl = 0;
		ret = rd_key_from_b64(text, priv);
		free(text);
		if (ret)
			rd_err("%s: malformed key", path);
		return ret;
	}
	if (ret != -ENOENT || !create)
		return ret;
	ret = rd_mkdir_p(dir, 0700);
	if (ret)
		return ret;
	rd_wg_genkey(priv);
	rd_key_b64(priv, b64);
	strcat(b64, "\n");
	ret = rd_write_file(path, b64, 0600);
	if (!ret)
		rd_info("generated manager key %s", path);
	return ret;
}

/* Exactly 2 * len hex digits. */
static int hex_decode(const char *s, uint8_t *out, size_t len)
{
	if (strlen(s) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return 0;
}

/* ---- the manager set ----------------------------------------------- */

void rd_identity_single(struct rd_identity *id)
{
	struct rd_manager *m = &id->managers[0];

	memset(id->managers, 0, sizeof(id->managers));
	m->control_addr = id->control_addr;
	memcpy(m->key, id->manager_key, 32);
	m->endpoint = id->manager_endpoint;
	m->port = id->manager_port;
	id->n_managers = 1;
}

int rd_identity_manager(const struct rd_identity *id, const struct roster_addr *a)
{
	for (unsigned int i = 0; i < id->n_managers; i++)
		if (rd_addr_eq(&id->managers[i].control_addr, a))
			return (int)i;
	return -1;
}

bool rd_manager_eq(const struct rd_manager *a, const struct rd_manager *b)
{
	return rd_addr_eq(&a->control_addr, &b->control_addr) && !memcmp(a->key, b->key, 32) &&
	       rd_addr_eq(&a->endpoint, &b->endpoint) && a->port == b->port;
}

static int addr_cmp(const struct roster_addr *a, const struct roster_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, roster_addr_len(a));
}

/* Sorted (insertion: at most RD_MANAGERS_MAX) and checked, as
 * rd_managers_from_members says. */
static int set_check(const struct rd_identity *id, struct rd_manager *m, unsigned int n,
		     const char **why)
{
	struct roster_prefix cp = { .addr = id->id, .len = id->prefixlen };

	rd_prefix_mask(&cp);
	if (!n || n > RD_MANAGERS_MAX) {
		*why = n ? "too many managers" : "no manager";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct rd_manager *x = &m[i];

		if (x->control_addr.family != id->id.family || !rd_prefix_contains(&cp, &x->control_addr) ||
		    rd_addr_eq(&x->control_addr, &id->id)) {
			*why = "a manager's control address outside the control prefix";
			return -EINVAL;
		}
		/* No endpoint (family 0) is one: rctl0 waits for its handshake. */
		if ((x->endpoint.family && x->endpoint.family != AF_INET &&
		     x->endpoint.family != AF_INET6) || !x->endpoint.family != !x->port) {
			*why = "a manager with half an endpoint";
			return -EINVAL;
		}
	}
	for (unsigned int i = 1; i < n; i++) {
		struct rd_manager t = m[i];
		unsigned int j = i;

		for (; j > 0 && addr_cmp(&m[j - 1].control_addr, &t.control_addr) > 0; j--)
			m[j] = m[j - 1];
		m[j] = t;
	}
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (rd_addr_eq(&m[i].control_addr, &m[j].control_addr) ||
			    !memcmp(m[i].key, m[j].key, 32)) {
				*why = "two managers with one control address or key";
				return -EINVAL;
			}
	return 0;
}

int rd_managers_from_members(const struct rd_identity *id, const struct roster_member *mb,
			     unsigned int n, struct rd_manager *out, unsigned int *nout,
			     const char **why)
{
	if (n > RD_MANAGERS_MAX) {
		*why = "too many managers";
		return -EINVAL;
	}
	memset(out, 0, RD_MANAGERS_MAX * sizeof(*out));
	for (unsigned int i = 0; i < n; i++) {
		if (!mb[i].has_key) {
			*why = "a manager without a key";
			return -EINVAL;
		}
		out[i].control_addr = mb[i].id;
		memcpy(out[i].key, mb[i].key, 32);
		if (mb[i].has_endpoint) {
			out[i].endpoint = mb[i].endpoint;
			out[i].port = mb[i].port;
		}
	}
	if (set_check(id, out, n, why))
		return -EINVAL;
	*nout = n;
	return 0;
}

/* The set is just the manager enrolled with: the file says nothing more. */
static bool set_is_single(const struct rd_identity *id)
{
	struct rd_identity one = *id;

	rd_identity_single(&one);
	return id->n_managers <= 1 &&
	       (!id->n_managers || rd_manager_eq(&id->managers[0], &one.managers[0]));
}

/* "KEY ENDPOINT:PORT CONTROL-ADDRESS", ENDPOINT:PORT "-" for none */
static int manager_parse(char *v, struct rd_manager *m)
{
	char *save = NULL, *key = strtok_r(v, " ", &save), *ep = strtok_r(NULL, " ", &save);
	char *ctl = strtok_r(NULL, " ", &save);

	memset(m, 0, sizeof(*m));
	if (!key || !ep || !ctl || strtok_r(NULL, " ", &save) || rd_key_from_b64(key, m->key) ||
	    (strcmp(ep, "-") && (roster_endpoint_parse(ep, &m->endpoint, &m->port) || !m->port)) ||
	    roster_addr_parse(ctl, &m->control_addr))
		return -EINVAL;
	return 0;
}

/* A rename is durable only once the directory is on disk too. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* DIR/NAME holds text, or (on error) is as it was: a new file, complete
 * and on disk, renamed over it. The temporary file is made afresh, so
 * that one left by a crash cannot lend the secret its wider mode. */
static int commit_file(const char *dir, const char *name, const char *text)
{
	char path[512], tmp[520];
	size_t len = strlen(text);
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (unlink(tmp) && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	else if (fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	return sync_dir(dir);
}

static int identity_read(const char *dir, const char *name, struct rd_identity *id)
{
	char path[512], *text, *save = NULL;
	const char *why;
	unsigned int seen = 0, nset = 0;
	int ret;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = rd_read_file(path, &text);
	if (ret)
		return ret;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');
		unsigned long n;

		if (line[0] == '#')
			continue;
		if (!v)
			goto bad;
		*v++ = 0;
		if (!strcmp(line, "private-key")) {
			if (rd_key_from_b64(v, id->private_key))
				goto bad;
			seen |= 1;
		} else if (!strcmp(line, "id")) {
			if (roster_addr_parse(v, &id->id))
				goto bad;
			seen |= 2;
		} else if (!strcmp(line, "prefixlen")) {
			n = strtoul(v, NULL, 10);
			if (n < 8 || n > 126)
				goto bad;
			id->prefixlen = (uint8_t)n;
			seen |= 4;
		} else if (!strcmp(line, "manager-key")) {
			if (rd_key_from_b64(v, id->manager_key))
				goto bad;
			seen |= 8;
		} else if (!strcmp(line, "manager-endpoint")) {
			if (roster_endpoint_parse(v, &id->manager_endpoint, &id->manager_port))
				goto bad;
			seen |= 16;
		} else if (!strcmp(line, "control-address")) {
			if (roster_addr_parse(v, &id->control_addr))
				goto bad;
			seen |= 32;
		} else if (!strcmp(line, "control-port")) {
			n = strtoul(v, NULL, 10);
			if (!n || n > 65535)
				goto bad;
			id->control_port = (uint16_t)n;
			seen |= 64;
		} else if (!strcmp(line, "store-id")) {
			if (hex_decode(v, id->store_id, sizeof(id->store_id)))
				goto bad;
			id->has_store_id = true;
		} else if (!strcmp(line, "manager")) {
			if (nset >= RD_MANAGERS_MAX || manager_parse(v, &id->managers[nset]))
				goto bad;
			nset++;
		}
	}
	free(text);
	if (seen != 127) {
		rd_err("%s: incomplete identity", path);
		return -EINVAL;
	}
	/* The lines may come in any order: the family is known only now. */
	if (id->prefixlen > rd_ctlnet_prefix_max(&id->id) ||
	    id->control_addr.family != id->id.family) {
		rd_err("%s: malformed identity", path);
		return -EINVAL;
	}
	if (!nset) {
		rd_identity_single(id);
	} else if (set_check(id, id->managers, nset, &why)) {
		rd_err("%s: malformed identity: %s", path, why);
		return -EINVAL;
	} else {
		id->n_managers = nset;
	}
	return 0;
bad:
	free(text);
	rd_err("%s: malformed identity", path);
	return -EINVAL;
}

static int identity_write(const char *dir, const char *name, const struct rd_identity *id)
{
	/* The fixed lines and RD_MANAGERS_MAX manager lines of at most
	 * 8 + 44 + 2 * ROSTER_ADDR_STRLEN bytes. */
	char buf[4096], pk[45], mk[45], ep[ROSTER_ADDR_STRLEN];
	size_t l;
	int ret = rd_mkdir_p(dir, 0700);

	if (ret)
		return ret;
	rd_key_b64(id->private_key, pk);
	rd_key_b64(id->manager_key, mk);
	roster_endpoint_format(&id->manager_endpoint, id->manager_port, ep, sizeof(ep));
	snprintf(buf, sizeof(buf),
		 "# rosterd gateway identity (secret)\nprivate-key %s\nid %s\nprefixlen %u\n"
		 "manager-key %s\nmanager-endpoint %s\ncontrol-address %s\ncontrol-port %u\n",
		 pk, rd_ntop(&id->id), id->prefixlen, mk, ep, rd_ntop(&id->control_addr),
		 id->control_port);
	l = strlen(buf);
	if (id->has_store_id) {
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "store-id ");
		for (size_t i = 0; i < sizeof(id->store_id) && l + 3 < sizeof(buf); i++)
			l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%02x", id->store_id[i]);
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "\n");
	}
	for (unsigned int i = 0; !set_is_single(id) && i < id->n_managers && l < sizeof(buf); i++) {
		const struct rd_manager *m = &id->managers[i];

		rd_key_b64(m->key, mk);
		if (m->endpoint.family)
			roster_endpoint_format(&m->endpoint, m->port, ep, sizeof(ep));
		else
			snprintf(ep, sizeof(ep), "-");
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "manager %s %s %s\n", mk, ep,
				      rd_ntop(&m->control_addr));
	}
	/* A file cut short would load as another set: never write one. */
	if (l >= sizeof(buf)) {
		memset(buf, 0, sizeof(buf));
		memset(pk, 0, sizeof(pk));
		return -EOVERFLOW;
	}
	ret = commit_file(dir, name, buf);
	memset(buf, 0, sizeof(buf));
	memset(pk, 0, sizeof(pk));
	return ret;
}

int rd_identity_load(const char *dir, struct rd_identity *id)
{
	return identity_read(dir, "identity", id);
}

int rd_identity_save(const char *dir, const struct rd_identity *id)
{
	return identity_write(dir, "identity", id);
}

int rd_identity_pending_load(const char *dir, struct rd_identity *id)
{
	return identity_read(dir, "identity.pending", id);
}

int rd_identity_pending_save(const char *dir, const struct rd_identity *id)
{
	return identity_write(dir, "identity.pending", id);
}

int rd_identity_pending_commit(const char *dir, const struct rd_identity *id)
{
	char from[512], to[512];
	int ret;

	/* The complete identity (with what ENROLLED taught) goes into the
	 * pending file first, so that the rename is the one step that
	 * enrols this host. */
	ret = rd_identity_pending_save(dir, id);
	if (ret)
		return ret;
	snprintf(from, sizeof(from), "%s/identity.pending", dir);
	snprintf(to, sizeof(to), "%s/identity", dir);
	if (rename(from, to))
		return -errno;
	return sync_dir(dir);
}

int rd_state_write(const char *dir, const char *name, const char *text)
{
	return commit_file(dir, name, text);
}
