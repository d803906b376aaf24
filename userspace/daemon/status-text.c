// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd status: JSON to text (status-text.h). Pure: the document in,
 * lines out; "time" in the document is "now", so a rendering is
 * reproducible.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "status-text.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "(none)";
}

static uint64_t num(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

void status_text_ago(char *buf, size_t len, uint64_t then, uint64_t now)
{
	static const struct { uint64_t s; const char *name; } unit[] = {
		{ 365 * 86400, "year" }, { 86400, "day" }, { 3600, "hour" },
		{ 60, "minute" }, { 1, "second" },
	};
	uint64_t left;
	size_t off = 0;

	if (!then) {
		snprintf(buf, len, "never");
		return;
	}
	if (then >= now) {
		snprintf(buf, len, "now");
		return;
	}
	left = now - then;
	buf[0] = 0;
	for (unsigned int i = 0; i < sizeof(unit) / sizeof(unit[0]) && off < len; i++) {
		uint64_t n = left / unit[i].s;

		if (!n)
			continue;
		left %= unit[i].s;
		off += (size_t)snprintf(buf + off, len - off, "%s%llu %s%s", off ? ", " : "",
					(unsigned long long)n, unit[i].name, n == 1 ? "" : "s");
	}
	if (off < len)
		snprintf(buf + off, len - off, " ago");
}

void status_text_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	unsigned int i;

	if (b < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)b);
		return;
	}
	for (i = 0, v /= 1024; v >= 1024 && i < 3; i++)
		v /= 1024;
	snprintf(buf, len, "%.2f %s", v, unit[i]);
}

/* "7, 9" or "(none)". */
static void id_list(char *buf, size_t len, json_t *a)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = 0;
	json_array_foreach(a, i, v)
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%lld", i ? ", " : "",
						(long long)json_integer_value(v));
	if (!off)
		snprintf(buf, len, "(none)");
}

static void str_list(char *buf, size_t len, json_t *a)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = 0;
	json_array_foreach(a, i, v)
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
						json_string_value(v) ? json_string_value(v) : "?");
	if (!off)
		snprintf(buf, len, "(none)");
}

static void daemon_line(FILE *f, json_t *d)
{
	if (json_is_true(json_object_get(d, "running")))
		fprintf(f, "  daemon: running, pid %llu\n", (unsigned long long)num(d, "pid"));
	else
		fprintf(f, "  daemon: not running (read from the state)\n");
}

static void transfer(FILE *f, const char *indent, json_t *o, uint64_t now, bool handshake)
{
	char a[128], b[32];

	if (handshake) {
		status_text_ago(a, sizeof(a), num(o, "latest_handshake"), now);
		fprintf(f, "%slatest handshake: %s\n", indent, a);
	}
	if (num(o, "transfer_rx") || num(o, "transfer_tx")) {
		status_text_bytes(a, sizeof(a), num(o, "transfer_rx"));
		status_text_bytes(b, sizeof(b), num(o, "transfer_tx"));
		fprintf(f, "%stransfer: %s received, %s sent\n", indent, a, b);
	}
}

static void print_manager(FILE *f, json_t *d, uint64_t now)
{
	json_t *v, *g;
	size_t i;
	char buf[1024];

	fprintf(f, "manager: %s\n", str(d, "control_address"));
	fprintf(f, "  name: %s\n", str(d, "name"));
	fprintf(f, "  role: %s\n", str(d, "role"));
	if (json_is_string(json_object_get(d, "leader")))
		fprintf(f, "  leader: %s\n", str(d, "leader"));
	daemon_line(f, d);
	fprintf(f, "  public key: %s\n", str(d, "public_key"));
	fprintf(f, "  interface: %s\n", str(d, "interface"));
	fprintf(f, "  listening port: %llu\n", (unsigned long long)num(d, "listen_port"));
	fprintf(f, "  control port: %llu\n", (unsigned long long)num(d, "control_port"));
	if (json_string_value(json_object_get(d, "endpoint")))
		fprintf(f, "  endpoint: %s\n", str(d, "endpoint"));
	fprintf(f, "  store: %s\n", str(d, "store"));
	fprintf(f, "  store identity: %s\n", str(d, "store_identity"));
	v = json_object_get(d, "store_watch");
	if (json_is_object(v) && json_is_true(json_object_get(v, "live")))
		fprintf(f, "  store watch: %s, revision %llu\n", str(v, "endpoint"),
			(unsigned long long)num(v, "revision"));
	else if (json_is_object(v))
		fprintf(f, "  store watch: down (reading the store every second)\n");
	fprintf(f, "  pending invitations: %llu\n", (unsigned long long)num(d, "pending_invitations"));
	json_array_foreach(json_object_get(d, "vpns"), i, v) {
		fprintf(f, "\nvpn: %llu\n", (unsigned long long)num(v, "id"));
		fprintf(f, "  generation: %llu\n", (unsigned long long)num(v, "generation"));
		fprintf(f, "  members: %llu\n", (unsigned long long)num(v, "members"));
	}
	json_array_foreach(json_object_get(d, "gateways"), i, g) {
		const char *mgr = json_string_value(json_object_get(g, "manager"));

		fprintf(f, "\ngateway: %s\n", str(g, "id"));
		fprintf(f, "  public key: %s\n", str(g, "public_key"));
		id_list(buf, sizeof(buf), json_object_get(g, "vpns"));
		fprintf(f, "  vpns: %s\n", buf);
		id_list(buf, sizeof(buf), json_object_get(g, "joined"));
		fprintf(f, "  joined: %s\n", buf);
		fprintf(f, "  endpoint: %s\n", str(g, "endpoint"));
		if (mgr)
			fprintf(f, "  manager: %s%s\n", mgr,
				!strcmp(mgr, str(d, "control_address")) ? " (this one)" : "");
		else
			fprintf(f, "  manager: (none)\n");
		status_text_ago(buf, sizeof(buf), num(g, "last_seen"), now);
		fprintf(f, "  last seen: %s\n", buf);
	}
}

static void print_gateway(FILE *f, json_t *d, uint64_t now)
{
	json_t *m, *v, *p;
	size_t i, k;
	char buf[1024];

	fprintf(f, "gateway: %s\n", str(d, "id"));
	daemon_line(f, d);
	fprintf(f, "  public key: %s\n", str(d, "public_key"));
	fprintf(f, "  interface: %s\n", str(d, "interface"));
	fprintf(f, "  endpoint: %s\n", str(d, "endpoint"));
	fprintf(f, "  store identity: %s\n", str(d, "store_identity"));
	json_array_foreach(json_object_get(d, "managers"), i, m) {
		fprintf(f, "\nmanager: %s%s\n", str(m, "control_address"),
			json_is_true(json_object_get(m, "in_use")) ? " (in use)" : "");
		fprintf(f, "  endpoint: %s\n", str(m, "endpoint"));
		fprintf(f, "  public key: %s\n", str(m, "public_key"));
		fprintf(f, "  control port: %llu\n", (unsigned long long)num(m, "control_port"));
		transfer(f, "  ", m, now, true);
	}
	json_array_foreach(json_object_get(d, "vpns"), i, v) {
		bool joined = json_is_true(json_object_get(v, "joined"));

		fprintf(f, "\nvpn: %llu\n", (unsigned long long)num(v, "id"));
		fprintf(f, "  interface: %s\n", str(v, "interface"));
		fprintf(f, "  listening port: %llu\n", (unsigned long long)num(v, "listen_port"));
		fprintf(f, "  joined: %s\n", joined ? "yes" : "no");
		if (joined) {
			fprintf(f, "  generation: %llu\n", (unsigned long long)num(v, "generation"));
			fprintf(f, "  members: %llu\n", (unsigned long long)num(v, "members"));
		}
		json_array_foreach(json_object_get(v, "peers"), k, p) {
			fprintf(f, "\n  peer: %s\n", str(p, "public_key"));
			if (json_string_value(json_object_get(p, "id")))
				fprintf(f, "    member: %s\n", str(p, "id"));
			fprintf(f, "    endpoint: %s\n", str(p, "endpoint"));
			str_list(buf, sizeof(buf), json_object_get(p, "allowed_ips"));
			fprintf(f, "    allowed ips: %s\n", buf);
			transfer(f, "    ", p, now, true);
		}
	}
}

void status_text_print(FILE *f, json_t *d)
{
	uint64_t now = num(d, "time");
	const char *err = json_string_value(json_object_get(d, "error"));

	if (err)
		fprintf(f, "error: %s\n", err);
	else if (!strcmp(str(d, "daemon"), "manager"))
		print_manager(f, d, now);
	else
		print_gateway(f, d, now);
}
