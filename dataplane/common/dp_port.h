/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports and polling shared by the router and target processes: a DPDK port opened from devargs
 * ("net_memif0,role=server,...", "net_af_packet0,iface=...", a PCI address), and the idle back-off
 * of a polling loop.
 */
#ifndef DVIPSEC_DP_PORT_H
#define DVIPSEC_DP_PORT_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024
#define DP_BURST   32

struct dp_port {
	uint16_t id;
	uint16_t nb_rxq;
	uint16_t nb_txq;
	struct rte_ether_addr mac;
	char name[64];
};

#define DP_LINK_RXQ_MAX                                                           \
	8 /* rx queues a target opens on its link: one per router worker, at most \
	   */

/* Probes the device named by devargs (a vdev, or an already probed device such as a PCI address),
 * configures nb_rxq/nb_txq queues with mbufs from pool, and starts it. 0 or -errno, with the
 * reason logged. */
int dp_port_open(const char *devargs, uint16_t nb_rxq, uint16_t nb_txq, struct rte_mempool *pool,
		 struct dp_port *out);
void dp_port_close(struct dp_port *p);
/* Link state now (vdevs report up once their peer is there, e.g. memif connected). */
int dp_port_link_up(const struct dp_port *p);

/* A polling loop that found nothing for a while sleeps sleep_us between polls; 0 = busy poll
 * forever (NIC-bound cores). Tests and the demo share two cores between several processes. */
struct dp_idle {
	uint32_t sleep_us;
	uint32_t empty;
};

void dp_idle_account(struct dp_idle *idle, uint32_t work);

/* A command-line number in lo..hi; prints "OPTION: expected lo..hi, got TEXT" and returns -EINVAL
 * otherwise. */
int dp_parse_uint(const char *option, const char *text, uint32_t lo, uint32_t hi, uint32_t *out);

/* Frees every mbuf of pkts[0..n). */
static inline void
dp_free(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

#endif /* DVIPSEC_DP_PORT_H */
