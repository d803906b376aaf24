// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: configuration file parser.
 *
 * INI-like: '#' starts a comment (whole line or after whitespace),
 * "[manager]", "[gateway]" and "[vpn ID]" sections, "key = value" lines.
 * Unknown sections and keys, duplicates and malformed values are errors
 * reported with their line number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "ctlnet.h"
#include "util.h"
#include "rel.h"

enum section { SEC_NONE, SEC_MANAGER, SEC_GATEWAY, SEC_VPN };

struct parser {
	struct rd_config *c;
	char *err;
	size_t errlen;
	unsigned int line;
	enum section sec;
	struct rd_vpn_conf *vpn;
	enum rd_role role;
	/* keys seen in the current section (bit per key index) */
	uint64_t seen;
	bool vpn_has_port;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "line %u: ", p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (*end || errno || *v < min || *v > max)
		return -ERANGE;
	return 0;
}

/* N with an optional unit (s, m, h, d) into seconds within [min, max]. */
static int parse_duration(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	static const struct { char u; unsigned long mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	unsigned long mul = 1;
	char num[32];
	size_t len = strlen(s);
	int ret;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (num[len - 1] == units[i].u) {
			mul = units[i].mul;
			num[--len] = 0;
			break;
		}
	ret = parse_ulong(num, 0, max / mul, v);
	if (ret)
		return ret;
	*v *= mul;
	return *v < min ? -ERANGE : 0;
}

static int parse_port(struct parser *p, const char *key, const char *v, uint16_t *port)
{
	unsigned long n;

	if (parse_ulong(v, 1, 65535, &n))
		return fail(p, "%s: invalid port '%s' (1..65535)", key, v);
	*port = (uint16_t)n;
	return 0;
}

static int parse_ifname(struct parser *p, const char *key, const char *v, char *out)
{
	size_t len = strlen(v);

	if (!len || len >= IFNAMSIZ || strpbrk(v, "/ \t:"))
		return fail(p, "%s: invalid interface name '%s'", key, v);
	memcpy(out, v, len + 1);
	return 0;
}

static int parse_host(struct parser *p, const char *key, const char *v, struct roster_addr *a)
{
	if (roster_addr_parse(v, a))
		return fail(p, "%s: invalid address '%s'", key, v);
	return 0;
}

static int parse_pfx(struct parser *p, const char *key, const char *v, struct roster_prefix *pf)
{
	const char *why = NULL;

	if (!strchr(v, '/'))
		return fail(p, "%s: '%s' is not a prefix (ADDR/LEN)", key, v);
	if (roster_prefix_parse(v, pf, &why))
		return fail(p, "%s: invalid prefix '%s': %s", key, v, why ? why : "invalid");
	return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *v, bool *b)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*b = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*b = false;
	else
		return fail(p, "%s: expected yes or no, got '%s'", key, v);
	return 0;
}

static const char *const manager_keys[] = {
	"listen-port", "endpoint", "control-address", "control-prefix", "control-port",
	"interface", "state-dir", "log-level", "retry-ms", "request-rate", "request-burst",
	"peer-queue-kib", "endpoint-check",
	"store", "etcd-endpoints", "etcd-prefix", "etcd-cacert", "etcd-cert", "etcd-key",
	"etcd-user", "etcd-password-file", "metrics-file", "metrics-interval", "name",
	"lease-ttl", "etcd-move-leader", NULL,
};
static const char *const gateway_keys[] = {
	"state-dir", "interface", "endpoint", "retry-ms", "log-level", "leave-on-exit",
	"sync-interval", "key-lifetime", "metrics-file", "metrics-interval", NULL,
};
/* expire-after is the manager's, the others the gateway's: each role
 * ignores the other's keys, as in [manager] and [gateway]. */
static const char *const vpn_keys[] = { "listen-port", "interface", "prefix", "keepalive",
					"expire-after", NULL };

/* Bounds of expire-after: below a few sync-intervals a live gateway
 * would be expired between two of its SYNC_REQs. */
#define EXPIRE_MIN 10
#define EXPIRE_MAX (365u * 86400)

int rd_duration_parse(const char *s, uint32_t *secs)
{
	static const struct { char unit; uint32_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	unsigned long long n = 0;
	const char *p = s;

	if (!strcmp(s, "off")) {
		*secs = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (unsigned long long)(*p - '0');
		if (n > UINT32_MAX)
			return -EINVAL;
	}
	if (*p) {
		bool found = false;

		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !found; i++) {
			if (*p == units[i].unit && !p[1]) {
				n *= units[i].mul;
				found = true;
			}
		}
		if (!found || n > UINT32_MAX)
			return -EINVAL;
	}
	*secs = (uint32_t)n;
	return 0;
}

static int key_index(const char *const *keys, const char *k)
{
	for (int i = 0; keys[i]; i++)
		if (!strcmp(keys[i], k))
			return i;
	return -1;
}

/* node_exporter's textfile collector reads only *.prom files. */
static int metrics_key(struct parser *p, const char *k, const char *v)
{
	struct rd_config *c = p->c;
	size_t len = strlen(v);
	unsigned long n;

	if (!strcmp(k, "metrics-interval")) {
		if (parse_ulong(v, 1, 3600, &n))
			return fail(p, "metrics-interval: expected 1..3600 seconds, got '%s'", v);
		c->metrics_interval = (unsigned int)n;
		return 0;
	}
	/* Its temporary file is a hidden one beside it: a hidden name of
	 * its own would be taken for one. */
	if (v[0] != '/' || len >= sizeof(c->metrics_file) || len < 7 ||
	    strcmp(v + len - 5, ".prom") || strrchr(v, '/')[1] == '.')
		return fail(p, "metrics-file: must be an absolute path ending in .prom, got '%s'", v);
	memcpy(c->metrics_file, v, len + 1);
	return 0;
}

static int common_key(struct parser *p, const char *k, const char *v)
{
	struct rd_config *c = p->c;
	unsigned long n;

	if (!strcmp(k, "state-dir")) {
		if (v[0] != '/' || strlen(v) >= sizeof(c->state_dir) - 32)
			return fail(p, "state-dir: must be an absolute path, got '%s'", v);
		strcpy(c->state_dir, v);
	} else if (!strcmp(k, "interface")) {
		return parse_ifname(p, k, v, c->ifname);
	} else if (!strcmp(k, "log-level")) {
		int l = rd_log_level_parse(v);

		if (l < 0)
			return fail(p, "log-level: expected error, warn, info or debug, got '%s'", v);
		c->log_level = l;
	} else if (!strcmp(k, "retry-ms")) {
		if (parse_ulong(v, 10, RD_RETRY_CAP_MS, &n))
			return fail(p, "retry-ms: expected 10..%d, got '%s'", RD_RETRY_CAP_MS, v);
		c->retry_ms = (unsigned int)n;
	} else if (!strcmp(k, "metrics-file") || !strcmp(k, "metrics-interval")) {
		return metrics_key(p, k, v);
	} else if (!strcmp(k, "endpoint")) {
		/* The address stays as it is: in a file with both sections
		 * it may be the manager's. */
		if (!strcmp(v, "auto")) {
			if (p->sec != SEC_GATEWAY)
				return fail(p, "endpoint: 'auto' is for a gateway; the manager's "
					    "endpoint is an address");
			c->endpoint_auto = true;
			return 0;
		}
		if (parse_host(p, k, v, &c->endpoint))
			return -EINVAL;
		c->has_endpoint = true;
	} else {
		return 1;
	}
	return 0;
}

/* [manager] store = and the etcd-* options (store-etcd.h). */
static int store_key(struct parser *p, const char *k, const char *v)
{
	struct rd_etcd_conf *e = &p->c->etcd;
	char *dst = NULL;
	size_t room = 0;

	if (!strcmp(k, "store")) {
		if (strcmp(v, "sqlite") && strcmp(v, "etcd"))
			return fail(p, "store: expected sqlite or etcd, got '%s'", v);
		p->c->store_etcd = !strcmp(v, "etcd");
		return 0;
	}
	p->c->has_etcd_opts = true;
	if (!strcmp(k, "etcd-move-leader"))
		return parse_bool(p, k, v, &p->c->etcd_move_leader);
	if (!strcmp(k, "etcd-endpoints")) {
		char buf[sizeof(e->endpoints)], *save = NULL;

		if (strlen(v) >= sizeof(buf))
			return fail(p, "etcd-endpoints: too long");
		strcpy(buf, v);
		for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
			if ((strncmp(t, "http://", 7) || !t[7]) && (strncmp(t, "https://", 8) || !t[8]))
				return fail(p, "etcd-endpoints: '%s' is not an http:// or https:// URL",
					    t);
		dst = e->endpoints;
		room = sizeof(e->endpoints);
	} else if (!strcmp(k, "etcd-prefix")) {
		if (v[0] != '/' || v[strlen(v) - 1] != '/' || strlen(v) > 60)
			return fail(p, "etcd-prefix: must begin and end with '/' (at most 60 bytes), "
				    "got '%s'", v);
		dst = e->prefix;
		room = sizeof(e->prefix);
	} else if (!strcmp(k, "etcd-user")) {
		dst = e->user;
		room = sizeof(e->user);
	} else {
		if (!strcmp(k, "etcd-cacert"))
			dst = e->cacert, room = sizeof(e->cacert);
		else if (!strcmp(k, "etcd-cert"))
			dst = e->cert, room = sizeof(e->cert);
		else if (!strcmp(k, "etcd-key"))
			dst = e->key, room = sizeof(e->key);
		else if (!strcmp(k, "etcd-password-file"))
			dst = e->password_file, room = sizeof(e->password_file);
		else
			return fail(p, "unknown key '%s' in [manager]", k);
		if (v[0] != '/')
			return fail(p, "%s: must be an absolute path, got '%s'", k, v);
	}
	if (strlen(v) >= room)
		return fail(p, "%s: too long (at most %zu bytes)", k, room - 1);
	strcpy(dst, v);
	return 0;
}

static int manager_key(struct parser *p, const char *k, const char *v)
{
	struct rd_config *c = p->c;
	int r = common_key(p, k, v);
	unsigned long n;

	if (r <= 0)
		return r;
	if (!strcmp(k, "listen-port"))
		return parse_port(p, k, v, &c->listen_port);
	if (!strcmp(k, "control-port"))
		return parse_port(p, k, v, &c->control_port);
	if (!strcmp(k, "request-rate") || !strcmp(k, "request-burst") ||
	    !strcmp(k, "peer-queue-kib")) {
		/* Ranges that keep mgr-limit.c's arithmetic in 64 bits. */
		unsigned long lo = strcmp(k, "request-rate") ? 1 : 0, hi = 100000;

		if (parse_ulong(v, lo, hi, &n))
			return fail(p, "%s: expected %lu..%lu, got '%s'", k, lo, hi, v);
		if (!strcmp(k, "request-rate"))
			c->request_rate = (unsigned int)n;
		else if (!strcmp(k, "request-burst"))
			c->request_burst = (unsigned int)n;
		else
			c->peer_queue_kib = (unsigned int)n;
		return 0;
	}
	if (!strcmp(k, "control-address")) {
		if (parse_host(p, k, v, &c->control_addr))
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "control-prefix")) {
		if (parse_pfx(p, k, v, &c->control_prefix))
			return -EINVAL;
		if (c->control_prefix.len > rd_ctlnet_prefix_max(&c->control_prefix.addr))
			return fail(p, "control-prefix: the length must be at most %u (%s), got %u",
				    rd_ctlnet_prefix_max(&c->control_prefix.addr),
				    c->control_prefix.addr.family == AF_INET ? "IPv4" : "IPv6",
				    c->control_prefix.len);
		return 0;
	}
	if (!strcmp(k, "endpoint-check")) {
		if (!strcmp(v, "pinned"))
			c->endpoint_check = RD_ENDPOINT_PINNED;
		else if (!strcmp(v, "any"))
			c->endpoint_check = RD_ENDPOINT_ANY;
		else
			return fail(p, "endpoint-check: expected pinned or any, got '%s'", v);
		return 0;
	}
	if (!strcmp(k, "name")) {
		size_t n = strlen(v);

		/* It is a key in the store and a word in the logs. */
		if (!n || n >= sizeof(c->name) || strspn(v, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") != n)
			return fail(p, "name: expected 1..%zu letters, digits or . - _ :, got '%s'",
				    sizeof(c->name) - 1, v);
		strcpy(c->name, v);
		return 0;
	}
	if (!strcmp(k, "lease-ttl")) {
		unsigned long n;

		/* Below 2 s one slow etcd round trip would cost the lease;
		 * above a minute nobody would wait for the failover. */
		if (parse_duration(v, RD_LEASE_TTL_MIN, RD_LEASE_TTL_MAX, &n))
			return fail(p, "lease-ttl: expected %u..%u seconds, got '%s'",
				    RD_LEASE_TTL_MIN, RD_LEASE_TTL_MAX, v);
		c->lease_ttl = (unsigned int)n;
		return 0;
	}
	if (!strncmp(k, "etcd-", 5) || !strcmp(k, "store"))
		return store_key(p, k, v);
	return fail(p, "unknown key '%s' in [manager]", k);
}

static int gateway_key(struct parser *p, const char *k, const char *v)
{
	int r = common_key(p, k, v);

	if (r <= 0)
		return r;
	if (!strcmp(k, "leave-on-exit"))
		return parse_bool(p, k, v, &p->c->leave_on_exit);
	if (!strcmp(k, "sync-interval")) {
		unsigned long n;

		if (parse_ulong(v, 0, 86400, &n))
			return fail(p, "sync-interval: expected 0..86400 seconds, got '%s'", v);
		p->c->sync_interval = (unsigned int)n;
		return 0;
	}
	if (!strcmp(k, "key-lifetime")) {
		unsigned long n;

		/* Below 10 s the rotations would follow each other faster than
		 * a lossy control channel confirms them. */
		if (strcmp(v, "off") && strcmp(v, "0") &&
		    parse_duration(v, RD_KEY_LIFETIME_MIN, RD_KEY_LIFETIME_MAX, &n))
			return fail(p, "key-lifetime: expected off or a duration of 10s..3650d "
				    "(N, Ns, Nm, Nh or Nd), got '%s'", v);
		p->c->key_lifetime = strcmp(v, "off") && strcmp(v, "0") ? n : 0;
		return 0;
	}
	return fail(p, "unknown key '%s' in [gateway]", k);
}

static int vpn_key(struct parser *p, const char *k, const char *v)
{
	struct rd_vpn_conf *vc = p->vpn;

	if (!strcmp(k, "expire-after")) {
		uint32_t secs;

		if (rd_duration_parse(v, &secs) ||
		    (secs && (secs < EXPIRE_MIN || secs > EXPIRE_MAX)))
			return fail(p, "expire-after: expected off or %us..%ud (a number with "
				    "s, m, h or d; seconds without), got '%s'", EXPIRE_MIN,
				    EXPIRE_MAX / 86400, v);
		vc->expire_after = secs;
		return 0;
	}
	if (!strcmp(k, "listen-port")) {
		p->vpn_has_port = true;
		return parse_port(p, k, v, &vc->listen_port);
	}
	if (!strcmp(k, "interface"))
		return parse_ifname(p, k, v, vc->ifname);
	if (!strcmp(k, "keepalive")) {
		unsigned long n;

		if (parse_ulong(v, 0, 65535, &n))
			return fail(p, "keepalive: expected 0..65535 seconds, got '%s'", v);
		vc->keepalive = (uint16_t)n;
		return 0;
	}
	if (!strcmp(k, "prefix")) {
		struct roster_prefix pf;

		if (vc->n_prefixes >= ROSTER_PREFIX_MAX)
			return fail(p, "prefix: at most %d prefixes per VPN", ROSTER_PREFIX_MAX);
		if (parse_pfx(p, k, v, &pf))
			return -EINVAL;
		for (unsigned int i = 0; i < vc->n_prefixes; i++)
			if (rd_prefix_eq(&vc->prefixes[i], &pf))
				return fail(p, "prefix: duplicate prefix '%s'", v);
		vc->prefixes[vc->n_prefixes++] = pf;
		return 0;
	}
	return fail(p, "unknown key '%s' in [vpn %u]", k, vc->id);
}

/* The etcd options make sense together, and only with store = etcd. */
static int store_check(struct rd_config *c, char *err, size_t errlen)
{
	const struct rd_etcd_conf *e = &c->etcd;

	if (!c->store_etcd) {
		if (c->has_etcd_opts)
			snprintf(err, errlen, "[manager]: etcd-* options need store = etcd");
		return c->has_etcd_opts ? -1 : 0;
	}
	if (!e->endpoints[0])
		snprintf(err, errlen, "[manager]: store = etcd needs etcd-endpoints");
	else if (!e->cert[0] != !e->key[0])
		snprintf(err, errlen, "[manager]: etcd-cert and etcd-key go together");
	else if (!e->user[0] != !e->password_file[0])
		snprintf(err, errlen, "[manager]: etcd-user and etcd-password-file go together");
	else {
		if (!e->prefix[0])
			strcpy(c->etcd.prefix, RD_ETCD_PREFIX_DEFAULT);
		return 0;
	}
	return -1;
}

static int end_section(struct parser *p)
{
	if (p->sec == SEC_VPN && p->role == RD_ROLE_GATEWAY && !p->vpn_has_port)
		return fail(p, "[vpn %u]: listen-port is required", p->vpn->id);
	return 0;
}

static int section(struct parser *p, char *s)
{
	struct rd_config *c = p->c;
	char *end = strchr(s, ']');
	unsigned long id;

	if (!end || trim(end + 1)[0])
		return fail(p, "malformed section header");
	*end = 0;
	s = trim(s + 1);
	if (end_section(p))
		return -EINVAL;
	p->seen = 0;
	if (!strcmp(s, "manager")) {
		if (c->has_manager)
			return fail(p, "duplicate section [manager]");
		c->has_manager = true;
		p->sec = SEC_MANAGER;
		return 0;
	}
	if (!strcmp(s, "gateway")) {
		if (c->has_gateway)
			return fail(p, "duplicate section [gateway]");
		c->has_gateway = true;
		p->sec = SEC_GATEWAY;
		return 0;
	}
	if (!strncmp(s, "vpn", 3) && isspace((unsigned char)s[3])) {
		char *ids = trim(s + 3);

		if (parse_ulong(ids, 1, UINT32_MAX, &id))
			return fail(p, "invalid VPN id '%s' (1..4294967295)", ids);
		for (unsigned int i = 0; i < c->n_vpns; i++)
			if (c->vpns[i].id == id)
				return fail(p, "duplicate section [vpn %lu]", id);
		if (c->n_vpns >= RD_MAX_VPNS)
			return fail(p, "too many [vpn] sections (max %d)", RD_MAX_VPNS);
		p->vpn = &c->vpns[c->n_vpns++];
		memset(p->vpn, 0, sizeof(*p->vpn));
		p->vpn->id = (uint32_t)id;
		snprintf(p->vpn->ifname, sizeof(p->vpn->ifname), "rvpn%lu", id);
		p->vpn_has_port = false;
		p->sec = SEC_VPN;
		return 0;
	}
	return fail(p, "unknown section [%s]", s);
}

static void defaults(struct rd_config *c, enum rd_role role)
{
	memset(c, 0, sizeof(*c));
	c->log_level = -1;
	c->retry_ms = 500;
	c->sync_interval = 30;
	c->listen_port = 51800;
	/* Privileged, so that only root on a gateway host speaks for it
	 * (manager.c, privileged_port); in no /etc/services. */
	c->control_port = 851;
	c->request_rate = 20;
	c->request_burst = 100;
	c->peer_queue_kib = 1024;
	c->metrics_interval = 15;
	c->lease_ttl = RD_LEASE_TTL_DEFAULT;
	c->etcd_move_leader = true;
	strcpy(c->ifname, "rctl0");
	roster_addr_parse("10.255.0.1", &c->control_addr);
	c->control_prefix.len = 0;
	strcpy(c->state_dir, role == RD_ROLE_MANAGER ? "/var/lib/rosterd" : "/var/lib/rosterd-gw");
}

int rd_config_parse(const char *text, enum rd_role role, struct rd_config *c,
		    char *err, size_t errlen)
{
	struct parser p = { .c = c, .err = err, .errlen = errlen, .role = role };
	char *copy = strdup(text), *line, *next;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	if (errlen)
		err[0] = 0;
	defaults(c, role);
	for (line = copy; line; line = next) {
		char *eq, *k, *v, *hash;
		const char *const *keys;
		int idx;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		p.line++;
		/* A '#' at the start or after whitespace starts a comment. */
		for (hash = line; (hash = strchr(hash, '#')); hash++) {
			if (hash == line || isspace((unsigned char)hash[-1])) {
				*hash = 0;
				break;
			}
		}
		line = trim(line);
		if (!*line)
			continue;
		if (*line == '[') {
			ret = section(&p, line);
			if (ret)
				break;
			continue;
		}
		eq = strchr(line, '=');
		if (!eq) {
			ret = fail(&p, "expected 'key = value'");
			break;
		}
		*eq = 0;
		k = trim(line);
		v = trim(eq + 1);
		if (!*k || !*v) {
			ret = fail(&p, "expected 'key = value'");
			break;
		}
		if (p.sec == SEC_NONE) {
			ret = fail(&p, "key '%s' outside of a section", k);
			break;
		}
		keys = p.sec == SEC_MANAGER ? manager_keys : p.sec == SEC_GATEWAY ? gateway_keys : vpn_keys;
		idx = key_index(keys, k);
		if (idx >= 0 && strcmp(k, "prefix")) {
			if (p.seen & (1ull << idx)) {
				ret = fail(&p, "duplicate key '%s'", k);
				break;
			}
			p.seen |= 1ull << idx;
		}
		if (p.sec == SEC_MANAGER)
			ret = manager_key(&p, k, v);
		else if (p.sec == SEC_GATEWAY)
			ret = gateway_key(&p, k, v);
		else
			ret = vpn_key(&p, k, v);
		if (ret)
			break;
	}
	if (!ret)
		ret = end_section(&p);
	free(copy);
	if (ret)
		return ret;

	p.line = 0;
	if (role == RD_ROLE_MANAGER) {
		if (!c->has_manager) {
			snprintf(err, errlen, "no [manager] section");
			return -EINVAL;
		}
		if (!c->control_prefix.len) {
			c->control_prefix.addr = c->control_addr;
			c->control_prefix.len = c->control_addr.family == AF_INET6 ? 64 : 16;
			rd_prefix_mask(&c->control_prefix);
		}
		if (!rd_prefix_contains(&c->control_prefix, &c->control_addr)) {
			snprintf(err, errlen, "control-address %s is not inside control-prefix",
				 rd_ntop(&c->control_addr));
			return -EINVAL;
		}
		if (store_check(c, err, errlen))
			return -EINVAL;
		if (!c->name[0])
			snprintf(c->name, sizeof(c->name), "%s", rd_ntop(&c->control_addr));
	} else {
		if (!c->has_gateway) {
			snprintf(err, errlen, "no [gateway] section");
			return -EINVAL;
		}
		if (c->n_vpns && !c->has_endpoint && !c->endpoint_auto) {
			snprintf(err, errlen, "[gateway]: endpoint is required (an address, or auto)");
			return -EINVAL;
		}
		for (unsigned int i = 0; i < c->n_vpns; i++)
			for (unsigned int j = 0; j < i; j++)
				if (!strcmp(c->vpns[i].ifname, c->vpns[j].ifname) ||
				    c->vpns[i].listen_port == c->vpns[j].listen_port) {
					snprintf(err, errlen,
						 "[vpn %u] and [vpn %u] share an interface or listen-port",
						 c->vpns[j].id, c->vpns[i].id);
					return -EINVAL;
				}
	}
	return 0;
}

int rd_config_load(const char *path, enum rd_role role, struct rd_config *c,
		   char *err, size_t errlen)
{
	char *text;
	int ret = rd_read_file(path, &text);

	if (ret) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = rd_config_parse(text, role, c, err, errlen);
	free(text);
	return ret;
}
