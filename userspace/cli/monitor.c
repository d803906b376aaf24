// SPDX-License-Identifier: GPL-2.0-or-later
/* roster monitor [ -t | -ts ] [ vpn ID ]: stream notifications, like
 * `ip monitor`. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/time.h>

#include "roster-cli.h"

static uint32_t filter_vpn;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roster monitor [ -t[imestamp] | -ts[hort] ] [ vpn ID ]\n"
		"       roster monitor help\n"
		"Prints one line (one JSON object with -j) per event: vpn_new, vpn_del,\n"
		"vpn_changed, member_joined, member_updated, member_left; stamped\n"
		"changes are marked \"stamped\" (and \"resync\"). -t prints a \"Timestamp:\"\n"
		"line before each event, -ts a short timestamp at its start (as ip\n"
		"monitor). After a receive-buffer overrun it prints \"overrun\", re-reads\n"
		"the table (vpn_sync and member_sync events, then sync_done) and\n"
		"continues.\n");
}

static const char *text_tag(enum roster_event_type t)
{
	switch (t) {
	case ROSTER_EVENT_VPN_NEW: return "new";
	case ROSTER_EVENT_VPN_DEL: return "del";
	case ROSTER_EVENT_MEMBER_JOINED: return "join";
	case ROSTER_EVENT_MEMBER_UPDATED: return "update";
	case ROSTER_EVENT_MEMBER_LEFT: return "leave";
	case ROSTER_EVENT_OVERRUN: return "overrun";
	case ROSTER_EVENT_VPN_CHANGED: return "set";
	}
	return "?";
}

/* As iproute2's print_timestamp(): local time in text, and in JSON an
 * RFC 3339 UTC time with microseconds. */
static void print_timestamp(void)
{
	char buf[64], out[96];
	struct timeval tv;
	struct tm tm;

	if (opt_timestamp == TS_NONE)
		return;
	gettimeofday(&tv, NULL);
	if (is_json_context()) {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out, sizeof(out), "%s.%06ldZ", buf, (long)tv.tv_usec);
		print_string(PRINT_JSON, "timestamp", NULL, out);
		return;
	}
	localtime_r(&tv.tv_sec, &tm);
	if (opt_timestamp == TS_SHORT) {
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("[%s.%06ld] ", buf, (long)tv.tv_usec);
	} else {
		/* asctime's format, without its newline */
		strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
		printf("Timestamp: %s %ld usec\n", buf, (long)tv.tv_usec);
	}
}

/* Every printed record: one JSON object, one text line. */
static void print_tag(const char *json_name, const char *text)
{
	open_json_object(NULL);
	print_timestamp();
	print_string(PRINT_JSON, "event", NULL, json_name);
	print_string(PRINT_FP, NULL, "%s ", text);
}

static void print_change_flags(uint32_t f)
{
	print_bool(PRINT_JSON, "stamped", NULL, f & ROSTER_CHANGE_F_STAMPED);
	print_bool(PRINT_JSON, "resync", NULL, f & ROSTER_CHANGE_F_RESYNC);
	if (f & ROSTER_CHANGE_F_STAMPED)
		print_string(PRINT_FP, NULL, " %s", "stamped");
	if (f & ROSTER_CHANGE_F_RESYNC)
		print_string(PRINT_FP, NULL, " %s", "resync");
}

static int resync(void)
{
	struct roster_handle *h = get_handle();
	struct roster_member_set *sets = NULL;
	struct roster_vpn *vpns = NULL;
	size_t nv = 0, ns = 0, i;
	uint32_t j;
	int err;

	if (!h)
		return -1;
	err = roster_vpn_list(h, &vpns, &nv);
	if (!err)
		err = roster_member_list(h, filter_vpn, &sets, &ns);
	if (err) {
		free(vpns);
		return kernel_error(h, err, "monitor resync");
	}
	for (i = 0; i < nv; i++) {
		if (filter_vpn && vpns[i].id != filter_vpn)
			continue;
		print_tag("vpn_sync", "sync");
		print_uint(PRINT_ANY, "vpn_id", "vpn %u ", vpns[i].id);
		print_u64(PRINT_ANY, "generation", "generation %llu", vpns[i].generation);
		print_uint(PRINT_ANY, "member_count", " members %u", vpns[i].member_count);
		print_time("create_time", "created", vpns[i].create_time);
		print_vpn_flags(vpns[i].flags);
		close_json_object();
		print_nl();
	}
	for (i = 0; i < ns; i++) {
		for (j = 0; j < sets[i].count; j++) {
			print_tag("member_sync", "sync");
			print_uint(PRINT_ANY, "vpn_id", "vpn %u ", sets[i].vpn_id);
			print_u64(PRINT_ANY, "generation", "generation %llu ", sets[i].generation);
			open_json_object("member");
			print_member_fields(&sets[i].members[j], false);
			close_json_object();
			close_json_object();
			print_nl();
		}
	}
	open_json_object(NULL);
	print_timestamp();
	print_string(PRINT_JSON, "event", NULL, "sync_done");
	print_string(PRINT_FP, NULL, "%s", "sync done");
	close_json_object();
	print_nl();
	free(vpns);
	roster_member_sets_free(sets, ns);
	fflush(stdout);
	return 0;
}

static int event_cb(const struct roster_event *ev, void *arg)
{
	bool *need_resync = arg;

	if (ev->type == ROSTER_EVENT_OVERRUN) {
		print_tag("overrun", "overrun: events were lost, resynchronising");
		close_json_object();
		print_nl();
		fflush(stdout);
		*need_resync = true;
		return 0;
	}
	if (filter_vpn && ev->vpn_id != filter_vpn)
		return 0;
	print_tag(roster_event_name(ev->type), text_tag(ev->type));
	print_uint(PRINT_ANY, "vpn_id", "vpn %u ", ev->vpn_id);
	print_u64(PRINT_ANY, "generation", "generation %llu", ev->generation);
	if (ev->type == ROSTER_EVENT_VPN_NEW || ev->type == ROSTER_EVENT_VPN_CHANGED) {
		print_uint(PRINT_ANY, "member_count", " members %u", ev->member_count);
		print_time("create_time", "created", ev->create_time);
		print_vpn_flags(ev->vpn_flags);
	}
	if (ev->has_member) {
		print_string(PRINT_FP, NULL, " ", NULL);
		open_json_object("member");
		print_member_fields(&ev->member, ev->type == ROSTER_EVENT_MEMBER_LEFT);
		close_json_object();
	}
	if (ev->has_reason)
		print_string(PRINT_ANY, "reason", " reason %s", roster_reason_name(ev->reason));
	print_change_flags(ev->change_flags);
	close_json_object();
	print_nl();
	fflush(stdout);
	return 0;
}

int do_monitor(int argc, char **argv)
{
	struct roster_monitor *mon = NULL;
	struct roster_handle *h;
	struct pollfd pfd[2];
	sigset_t mask;
	int sfd, err, ret = 0;

	filter_vpn = 0;
	while (argc > 0) {
		if (matches_help(argv[0])) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[0], "-t") || !strcmp(argv[0], "-timestamp")) {
			opt_timestamp = TS_LONG;
		} else if (!strcmp(argv[0], "-ts") || !strcmp(argv[0], "-tshort")) {
			opt_timestamp = TS_SHORT;
		} else if (!strcmp(argv[0], "vpn")) {
			NEXT_ARG();
			if (roster_vpn_id_parse(argv[0], &filter_vpn))
				return usage_error(argv[0], "invalid VPN id (1..4294967295)");
		} else {
			return usage_error(argv[0], "unknown keyword");
		}
		argc--;
		argv++;
	}
	h = get_handle();
	if (!h)
		return -1;
	err = roster_monitor_open(h, &mon);
	if (err)
		return kernel_error(h, err, "monitor");

	if (opt_rcvbuf) {
		err = roster_monitor_set_rcvbuf(mon, opt_rcvbuf);
		if (err) {
			roster_monitor_close(mon);
			return kernel_error(h, err, "monitor rcvbuf");
		}
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "Error: signalfd: %s.\n", strerror(errno));
		roster_monitor_close(mon);
		return -1;
	}
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = roster_monitor_fd(mon);
	pfd[1].events = POLLIN;
	for (;;) {
		bool need_resync = false;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "Error: poll: %s.\n", strerror(errno));
			ret = -1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			/* Consume it, or unblocking below would deliver it. */
			if (read(sfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
				ret = -1;
			break; /* SIGINT/SIGTERM: clean exit */
		}
		if (pfd[1].revents & (POLLIN | POLLERR)) {
			err = roster_monitor_read(mon, event_cb, &need_resync);
			if (err < 0) {
				fprintf(stderr, "Error: monitor: %s.\n", strerror(-err));
				ret = -1;
				break;
			}
			if (need_resync && resync()) {
				ret = -1;
				break;
			}
		}
	}
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	roster_monitor_close(mon);
	return ret;
}
