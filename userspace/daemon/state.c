// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: state directory.
 *
 * Manager (state-dir, mode 0700):
 *   private.key  the manager's WireGuard private key (base64)
 *   gateways     "ID PUBKEY VPN[,VPN...]" per enrolled gateway
 *   invites      "ID PUBKEY VPN[,VPN...] EXPIRY" per pending invitation
 *   lock         flock()ed around every read-modify-write
 *   session      the last session id handed out (rd_session_next)
 * Gateway:
 *   identity     "key value" lines: private-key, id, prefixlen,
 *                manager-key, manager-endpoint, control-address, control-port,
 *                and store-id (32 hex digits: the manager's store, once
 *                known; identities written by earlier versions lack it)
 *   session      as for the manager (the daemon and `rosterd leave` share it)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int parse_vpns(char *s, struct rd_entry *e)
{
	char *save = NULL;

	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint32_t v;

		if (e->n_vpns >= RD_ENTRY_MAX_VPNS || roster_vpn_id_parse(t, &v))
			return -EINVAL;
		e->vpns[e->n_vpns++] = v;
	}
	return e->n_vpns ? 0 : -EINVAL;
}

int rd_state_load(const char *dir, const char *name, struct rd_entry **out, unsigned int *n)
{
	char path[512], *text, *save = NULL;
	struct rd_entry *arr = NULL;
	unsigned int cnt = 0, cap = 0, lineno = 0;
	int ret;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = rd_read_file(path, &text);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *s2 = NULL;
		unsigned int nf = 0;
		struct rd_entry e = { 0 };

		lineno++;
		if (line[0] == '#' || !line[0])
			continue;
		for (char *t = strtok_r(line, " \t", &s2); t && nf < 4; t = strtok_r(NULL, " \t", &s2))
			f[nf++] = t;
		if (nf < 3 || roster_addr_parse(f[0], &e.id) || rd_key_from_b64(f[1], e.key) ||
		    parse_vpns(f[2], &e)) {
			rd_warn("%s:%u: malformed line ignored", path, lineno);
			continue;
		}
		if (nf == 4)
			e.expiry = strtoull(f[3], NULL, 10);
		if (cnt == cap) {
			struct rd_entry *na;

			cap = cap ? cap * 2 : 16;
			na = realloc(arr, cap * sizeof(*arr));
			if (!na) {
				free(arr);
				free(text);
				return -ENOMEM;
			}
			arr = na;
		}
		arr[cnt++] = e;
	}
	free(text);
	*out = arr;
	*n = cnt;
	return 0;
}

int rd_state_save(const char *dir, const char *name, const struct rd_entry *e, unsigned int n)
{
	char path[512], *buf;
	size_t cap = 256 + (size_t)n * (64 + 45 + RD_ENTRY_MAX_VPNS * 11 + 24), len = 0;
	int ret;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	len += (size_t)snprintf(buf, cap, "# rosterd %s: written by rosterd, do not edit while it runs\n", name);
	for (unsigned int i = 0; i < n; i++) {
		char key[45];

		rd_key_b64(e[i].key, key);
		len += (size_t)snprintf(buf + len, cap - len, "%s %s ", rd_ntop(&e[i].id), key);
		for (unsigned int v = 0; v < e[i].n_vpns; v++)
			len += (size_t)snprintf(buf + len, cap - len, "%s%u", v ? "," : "", e[i].vpns[v]);
		if (e[i].expiry)
			len += (size_t)snprintf(buf + len, cap - len, " %llu",
						(unsigned long long)e[i].expiry);
		len += (size_t)snprintf(buf + len, cap - len, "\n");
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = rd_write_file(path, buf, 0600);
	free(buf);
	return ret;
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

int rd_identity_load(const char *dir, struct rd_identity *id)
{
	char path[512], *text, *save = NULL;
	unsigned int seen = 0;
	int ret;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/identity", dir);
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
			if (n < 8 || n > 30)
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
	return 0;
bad:
	free(text);
	rd_err("%s: malformed identity", path);
	return -EINVAL;
}

int rd_identity_save(const char *dir, const struct rd_identity *id)
{
	char path[512], buf[1024], pk[45], mk[45], ep[ROSTER_ADDR_STRLEN];
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
	snprintf(path, sizeof(path), "%s/identity", dir);
	return rd_write_file(path, buf, 0600);
}
