/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plain UDP sockets for the IKE engine (the standalone tool and tests; the router feeds the engine
 * from its punt path instead): non-blocking sockets on ports 500 and 4500 of one local address.
 * What arrives on 4500 with the zero non-ESP marker is IKE (marker stripped); ESP-in-UDP and NAT-T
 * keepalives are counted and dropped (no data path here). What the engine sends goes out of the
 * 4500 socket behind a marker when either port is 4500, else out of the 500 socket.
 */
#ifndef DVIPSEC_IKE_UDP_H
#define DVIPSEC_IKE_UDP_H

#include <stdint.h>

#include "ike.h"

struct ike_udp;

struct ike_udp_stats {
	uint64_t rx;	      /* IKE datagrams given to the engine */
	uint64_t tx;	      /* datagrams sent */
	uint64_t esp;	      /* ESP-in-UDP on 4500, dropped */
	uint64_t keepalive;   /* NAT-T keepalives */
	uint64_t runt;	      /* too short for anything on 4500 */
	uint64_t send_errors; /* sendmsg failed (the engine retransmits requests) */
};

/* Binds local:500 and local:4500. 0, or -errno of socket()/bind() (-EACCES without the right to
 * bind below 1024, -EADDRINUSE when a daemon has them). */
int ike_udp_open(const struct esp_addr *local, struct ike_udp **out);
void ike_udp_close(struct ike_udp *u);

/* struct ike_io.send for an engine on these sockets (ctx: the struct ike_udp). */
void ike_udp_send(void *u, const struct ike_dgram *d);

/* Waits for datagrams until the engine's next deadline (at most max_wait_ms), feeds each to
 * ike_input and runs ike_tick. 0, or -errno of poll() (EINTR is 0: a signal ends the wait). */
int ike_udp_poll(struct ike_udp *u, struct ike_engine *e, int max_wait_ms);

/* CLOCK_MONOTONIC in milliseconds: the clock ike_udp_poll gives the engine. */
uint64_t ike_udp_now_ms(void);

const struct ike_udp_stats *ike_udp_stats(const struct ike_udp *u);

#endif /* DVIPSEC_IKE_UDP_H */
