/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening ports from devargs, and the idle back-off of polling loops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "dp_port.h"

#define DP_IDLE_POLLS 256 /* empty polls before the loop starts sleeping */

static int
find_port(const char *devargs, uint16_t *id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");

	if (n == 0 || n >= sizeof(name))
		return -EINVAL;
	memcpy(name, devargs, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;
	if (strchr(devargs, ',') == NULL && strncmp(name, "net_", 4) != 0)
		return -ENODEV; /* a PCI device that the EAL did not probe */
	int rc = rte_dev_probe(devargs);

	if (rc < 0)
		return rc;
	return rte_eth_dev_get_port_by_name(name, id) == 0 ? 0 : -ENODEV;
}

int
dp_port_open(const char *devargs, uint16_t nb_rxq, uint16_t nb_txq, struct rte_mempool *pool,
	     struct dp_port *out)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = find_port(devargs, &out->id);
	if (rc < 0) {
		RTE_LOG(ERR, USER1, "port %s: cannot probe: %s\n", devargs, strerror(-rc));
		return rc;
	}
	rte_eth_dev_get_name_by_port(out->id, out->name);
	rc = rte_eth_dev_info_get(out->id, &info);
	if (rc < 0)
		return rc;
	if (nb_rxq > info.max_rx_queues || nb_txq > info.max_tx_queues) {
		RTE_LOG(ERR, USER1, "port %s: needs %u rx / %u tx queues, has %u / %u\n", out->name,
			nb_rxq, nb_txq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(out->id, nb_rxq, nb_txq, &conf);
	if (rc < 0)
		goto fail;
	uint16_t nrx = DP_RX_DESC, ntx = DP_TX_DESC;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(out->id, &nrx, &ntx);
	if (rc < 0)
		goto fail;
	for (uint16_t q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(out->id, q, nrx, rte_eth_dev_socket_id(out->id), NULL,
					    pool);
		if (rc < 0)
			goto fail;
	}
	for (uint16_t q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(out->id, q, ntx, rte_eth_dev_socket_id(out->id), NULL);
		if (rc < 0)
			goto fail;
	}
	rc = rte_eth_dev_start(out->id);
	if (rc < 0)
		goto fail;
	rte_eth_promiscuous_enable(out->id); /* not every vdev supports it; harmless then */
	rte_eth_macaddr_get(out->id, &out->mac);
	out->nb_rxq = nb_rxq;
	out->nb_txq = nb_txq;
	return 0;
fail:
	RTE_LOG(ERR, USER1, "port %s: set-up failed: %s\n", out->name, strerror(-rc));
	return rc;
}

void
dp_port_close(struct dp_port *p)
{
	rte_eth_dev_stop(p->id);
	rte_eth_dev_close(p->id);
}

int
dp_port_link_up(const struct dp_port *p)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(p->id, &link) < 0)
		return 0;
	return link.link_status == RTE_ETH_LINK_UP;
}

void
dp_idle_account(struct dp_idle *idle, uint32_t work)
{
	if (work != 0) {
		idle->empty = 0;
		return;
	}
	if (idle->sleep_us == 0 || ++idle->empty < DP_IDLE_POLLS)
		return;
	usleep(idle->sleep_us);
}

int
dp_parse_uint(const char *option, const char *text, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: expected %u..%u, got %s\n", option, lo, hi, text);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}
