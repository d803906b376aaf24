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
 *                manager-key, manager-endpoint, control-address, control-port,
 *                and store-id (32 hex digits: the manager's store, once
 *                known; identities written by earlier versions lack it)
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
	unsigned int seen = 0;
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
	return 0;
bad:
	free(text);
	rd_err("%s: malformed identity", path);
	return -EINVAL;
}

static int identity_write(const char *dir, const char *name, const struct rd_identity *id)
{
	char buf[1024], pk[45], mk[45], ep[ROSTER_ADDR_STRLEN];
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
	if (id->has_store_id) {
		size_t l = strlen(buf);

		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "store-id ");
		for (size_t i = 0; i < sizeof(id->store_id) && l + 3 < sizeof(buf); i++)
			l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%02x", id->store_id[i]);
		snprintf(buf + l, sizeof(buf) - l, "\n");
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
