/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the control channel. The input is
 *   1. decoded as one message: what decodes must re-encode to the same bytes, and, sealed by a
 *      router and opened by a target (a fresh handshake each time), arrive as the same message;
 *   2. fed, in pieces of at most dist_chan_room() bytes, to a fresh router channel and a fresh
 *      target channel that have sent their hellos (the peer's hello and framing paths);
 *   3. if the first byte is even, fed to a target that has completed a handshake (framing, the
 *      stream header and the open path).
 * Failures: crashes, sanitizer reports, leaks, a message that does not round-trip, a message
 * produced from bytes nobody sealed, or an error that does not poison the channel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dist_chan.h"
#include "dist_msg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t psk[DIST_CHAN_KEY_LEN] = "fuzz-control-key-fuzz-control-ke";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* Move every byte one side has for the other. */
static void
pipe_hello(struct dist_chan *from, struct dist_chan *to)
{
	uint8_t buf[DIST_HELLO_FRAME_LEN];
	size_t len;

	check(dist_chan_hello(from, buf, sizeof(buf), &len) == 0);
	check(dist_chan_feed(to, buf, len) == 0);
}

static void
keyed_pair(struct dist_chan **rtr, struct dist_chan **tgt)
{
	struct dist_msg m;

	*rtr = dist_chan_new(DIST_ROLE_ROUTER, psk);
	*tgt = dist_chan_new(DIST_ROLE_TARGET, psk);
	check(*rtr != NULL && *tgt != NULL);
	pipe_hello(*rtr, *tgt);
	pipe_hello(*tgt, *rtr);
	check(dist_chan_next(*rtr, &m) == -EAGAIN && dist_chan_next(*tgt, &m) == -EAGAIN);
	check(dist_chan_ready(*rtr) && dist_chan_ready(*tgt));
}

static void
roundtrip(const uint8_t *data, size_t size, const struct dist_msg *m)
{
	uint8_t buf[DIST_SEAL_MAX], again[DIST_MSG_MAX_LEN];
	struct dist_chan *rtr, *tgt;
	struct dist_msg got;
	size_t len;

	check(dist_msg_encode(m, again, sizeof(again), &len) == 0);
	check(len == size && memcmp(again, data, size) == 0);

	keyed_pair(&rtr, &tgt);
	check(dist_chan_seal(rtr, m, buf, sizeof(buf), &len) == 0);
	check(dist_chan_feed(tgt, buf, len) == 0);
	check(dist_chan_next(tgt, &got) == 0);
	check(dist_msg_encode(&got, again, sizeof(again), &len) == 0);
	check(len == size && memcmp(again, data, size) == 0);
	dist_msg_clear(&got);
	check(dist_chan_next(tgt, &got) == -EAGAIN);
	dist_chan_free(rtr);
	dist_chan_free(tgt);
}

/* Feed everything (as much as fits at a time), draining messages in between. */
static void
feed_all(struct dist_chan *c, const uint8_t *data, size_t size, bool may_decode)
{
	struct dist_msg m;
	size_t off = 0;
	int rc = -EAGAIN;

	while (off < size) {
		size_t n = dist_chan_room(c);

		if (n > size - off)
			n = size - off;
		if (dist_chan_feed(c, data + off, n) < 0) {
			check(dist_chan_poisoned(c));
			return;
		}
		off += n;
		while ((rc = dist_chan_next(c, &m)) == 0) {
			check(may_decode); /* nobody holding the keys sealed these bytes */
			dist_msg_clear(&m);
		}
		if (rc != -EAGAIN) {
			check(dist_chan_poisoned(c) && dist_chan_room(c) == 0);
			check(dist_chan_next(c, &m) == -EBADMSG);
			return;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dist_msg m;

	if (dist_msg_decode(data, size, &m) == 0) {
		roundtrip(data, size, &m);
		dist_msg_clear(&m);
	} else {
		check(m.owned_keymat == NULL && m.type == 0);
	}

	for (int role = DIST_ROLE_ROUTER; role <= DIST_ROLE_TARGET; role++) {
		struct dist_chan *c = dist_chan_new((enum dist_role)role, psk);
		uint8_t hello[DIST_HELLO_FRAME_LEN];
		size_t len;

		check(c != NULL);
		check(dist_chan_hello(c, hello, sizeof(hello), &len) == 0);
		/* A fuzzer could only get past the hello MAC by replaying this very hello, which
		 * the role check refuses; no message can come out. */
		feed_all(c, data, size, false);
		dist_chan_free(c);
	}

	if (size > 0 && (data[0] & 1) == 0) {
		struct dist_chan *rtr, *tgt;

		keyed_pair(&rtr, &tgt);
		feed_all(tgt, data, size, false);
		dist_chan_free(rtr);
		dist_chan_free(tgt);
	}
	return 0;
}
