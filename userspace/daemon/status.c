// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd status: ask the daemon, or read the state (status.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ctl-sock.h"
#include "gw-status.h"
#include "mgr-status.h"
#include "status.h"
#include "status-text.h"

static json_t *ask_daemon(const struct rd_config *c, int *ret)
{
	json_error_t jerr;
	char *reply;
	json_t *doc;

	*ret = ctl_sock_request(c->state_dir, "status", CTL_SOCK_TIMEOUT_MS, &reply);
	if (*ret)
		return NULL;
	doc = json_loads(reply, 0, &jerr);
	free(reply);
	if (!doc) {
		rd_err("%s/%s: the daemon's answer is not JSON: %s", c->state_dir, CTL_SOCK_NAME,
		       jerr.text);
		*ret = -EPROTO;
	}
	return doc;
}

int rd_cmd_status(const struct rd_config *c, enum rd_role role, bool json)
{
	char err[768];
	const char *e;
	json_t *doc;
	int ret;

	doc = ask_daemon(c, &ret);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		/* No daemon: what it would say, from what it left. */
		doc = role == RD_ROLE_MANAGER ? mgr_status_offline(c, err, sizeof(err)) :
						gw_status_offline(c, err, sizeof(err));
		if (!doc) {
			rd_err("%s", err);
			return -ENOENT;
		}
	} else if (ret == -EACCES || ret == -EPERM) {
		rd_err("%s/%s: %s (status is for root only)", c->state_dir, CTL_SOCK_NAME,
		       strerror(-ret));
		return ret;
	} else if (ret == -ETIMEDOUT) {
		rd_err("%s/%s: the daemon did not answer within %d s", c->state_dir, CTL_SOCK_NAME,
		       CTL_SOCK_TIMEOUT_MS / 1000);
		return ret;
	} else if (ret == -EPROTO && !doc) {
		rd_err("%s/%s: the daemon closed the connection without an answer", c->state_dir,
		       CTL_SOCK_NAME);
		return ret;
	} else if (ret) {
		rd_err("%s/%s: %s", c->state_dir, CTL_SOCK_NAME, strerror(-ret));
		return ret;
	}
	e = json_string_value(json_object_get(doc, "error"));
	if (e) {
		rd_err("the daemon reports: %s", e);
		json_decref(doc);
		return -EIO;
	}
	if (json) {
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		status_text_print(stdout, doc);
	}
	json_decref(doc);
	return fflush(stdout) ? -errno : 0;
}
