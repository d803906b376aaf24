// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * WireGuard's embeddable library, compiled from the installed
 * wireguard-tools package (never copied into this tree), with one function
 * replaced.
 *
 * The packaged wg_get_device (wireguard-tools 1.0.20210914, Debian 12)
 * retries a dump the kernel marked inconsistent (NLM_F_DUMP_INTR: the
 * device's peers changed while it was being read), but keeps the -EINTR of
 * that attempt through the retry: after one interrupted dump it loops for
 * ever, even though every later dump is clean. Any dump of more than one
 * message (about 20 peers) can be interrupted by a concurrent `wg set`; the
 * formation benchmark hung in it while gateways added peers, and rosterd's
 * drift check would hang the same way. The replacement starts every attempt
 * afresh and gives up after WG_DUMP_TRIES interrupted dumps in a row.
 */
#define wg_get_device wg_get_device_packaged
#include "wireguard.c"
#undef wg_get_device

/* A device changed that often while being read is reported, not waited on. */
#define WG_DUMP_TRIES 64

int wg_get_device(wg_device **device, const char *device_name);

/* Interrupted dumps retried so far (tests and benchmarks report it). */
unsigned long wg_dump_interrupted;

static int get_device_once(wg_device **device, const char *device_name)
{
	struct mnlg_socket *nlg;
	struct nlmsghdr *nlh;
	int ret = 0;

	*device = calloc(1, sizeof(wg_device));
	if (!*device)
		return -errno;
	nlg = mnlg_socket_open(WG_GENL_NAME, WG_GENL_VERSION);
	if (!nlg) {
		ret = -errno;
		wg_free_device(*device);
		*device = NULL;
		return ret;
	}
	nlh = mnlg_msg_prepare(nlg, WG_CMD_GET_DEVICE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, device_name);
	if (mnlg_socket_send(nlg, nlh) < 0) {
		ret = -errno;
	} else {
		errno = 0;
		if (mnlg_socket_recv_run(nlg, read_device_cb, *device) < 0)
			ret = errno ? -errno : -EINVAL;
		else
			coalesce_peers(*device);
	}
	mnlg_socket_close(nlg);
	if (ret) {
		wg_free_device(*device);
		*device = NULL;
	}
	return ret;
}

int wg_get_device(wg_device **device, const char *device_name)
{
	int ret, tries = 0;

	while ((ret = get_device_once(device, device_name)) == -EINTR) {
		wg_dump_interrupted++;
		if (++tries == WG_DUMP_TRIES)
			break;
	}
	errno = -ret;
	return ret;
}
