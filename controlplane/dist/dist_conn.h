/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One control connection over a real socket: the non-blocking socket, its sealed channel
 * (dist_chan.h) and an output buffer; plus opening the sockets the config names (Unix or TCP).
 * Shared by the router (one listener and connection per target) and the targets (one connection).
 * Nothing here blocks: callers poll from their control loop.
 */
#ifndef DVIPSEC_DIST_CONN_H
#define DVIPSEC_DIST_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "dist_chan.h"

#define DIST_CONN_OUT_MAX (8 * DIST_SEAL_MAX)

struct dist_conn {
	int fd; /* -1: not connected */
	struct dist_chan *chan;
	size_t out_len;
	uint8_t out[DIST_CONN_OUT_MAX];
};

/* Listening socket for ctl (a Unix path is replaced if it exists). fd or -errno. */
int dist_listen(const struct cfg_control *ctl);
/* Starts a non-blocking connect to ctl. fd (connected or in progress) or -errno. */
int dist_connect(const struct cfg_control *ctl);

void dist_conn_init(struct dist_conn *c);
/* Takes fd, starts a channel in role with the control key and queues our hello. 0 or -errno. */
int dist_conn_start(struct dist_conn *c, int fd, enum dist_role role, const uint8_t *psk);
void dist_conn_close(struct dist_conn *c);
/* Seals m into the output buffer. 0, -ENOTCONN (handshake not through), -ENOBUFS, or -EBADMSG. */
int dist_conn_send(struct dist_conn *c, const struct dist_msg *m);
/* Writes what the socket takes. 0 or -errno (the connection is dead). */
int dist_conn_flush(struct dist_conn *c);
/* Reads what is there and hands each complete message to fn (which must not keep it). Returns the
 * messages handled, or -errno: -EACCES (the peer has another control key), -EPIPE (closed), or a
 * channel error; the caller closes the connection then. */
int dist_conn_recv(struct dist_conn *c, void (*fn)(void *arg, const struct dist_msg *m), void *arg);

#endif /* DVIPSEC_DIST_CONN_H */
