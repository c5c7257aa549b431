/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for scripts/bench/run.sh: enlarges one packet pool of an unmodified DPDK
 * program. net_pcap with infinite_rx=1 keeps every packet of its file in an mbuf of the port's
 * pool, so replaying a file of a million distinct flows into dvipsec-router (whose pool holds
 * 16383 mbufs) needs a pool a million mbufs larger; nothing else about the program changes.
 *
 *   DVB_POOL_NAME=rtr_pool     the pool to change (rte_pktmbuf_pool_create's name), required
 *   DVB_POOL_EXTRA=N           mbufs added to the size the program asks for
 *   DVB_POOL_DATAROOM=BYTES    data room (headroom included) instead of the program's, so that a
 *                              million small frames fit in less memory; frames must fit in one
 *
 * Prints one line to stderr when it changes a pool. Build: cc -shared -fPIC pool_preload.c -ldl
 * with the cflags of libdpdk (run.sh does it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

typedef struct rte_mempool *(*pool_create_fn)(const char *, unsigned int, unsigned int, uint16_t,
					      uint16_t, int);

static unsigned long
env_ulong(const char *name, unsigned long max)
{
	const char *v = getenv(name);
	char *end;
	unsigned long x;

	if (v == NULL || *v == '\0')
		return 0;
	x = strtoul(v, &end, 10);
	if (*end != '\0' || x > max) {
		fprintf(stderr, "pool_preload: %s=%s: expected an integer 0..%lu\n", name, v, max);
		abort();
	}
	return x;
}

struct rte_mempool *
rte_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
			uint16_t priv_size, uint16_t data_room_size, int socket_id)
{
	static pool_create_fn next;
	const char *want = getenv("DVB_POOL_NAME");

	if (next == NULL)
		next = (pool_create_fn)dlsym(RTLD_NEXT, "rte_pktmbuf_pool_create");
	if (next == NULL)
		abort();
	if (want != NULL && name != NULL && strcmp(name, want) == 0) {
		unsigned long extra = env_ulong("DVB_POOL_EXTRA", 1ul << 26);
		unsigned long room = env_ulong("DVB_POOL_DATAROOM", UINT16_MAX);

		if (room == 0)
			room = data_room_size;
		fprintf(stderr, "pool_preload: %s: %u -> %lu mbufs, data room %u -> %lu B\n", name,
			n, n + extra, data_room_size, room);
		n += (unsigned int)extra;
		data_room_size = (uint16_t)room;
	}
	return next(name, n, cache_size, priv_size, data_room_size, socket_id);
}
