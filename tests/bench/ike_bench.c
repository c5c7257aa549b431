/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_SA + CHILD_SA set-ups per second: our initiator against our responder in one process, one
 * thread, datagrams handed over through a queue (no sockets), X25519 on both sides, PSK. Reports
 * the rate of whole set-ups (both engines on one core) and the time the responder alone spent in
 * ike_input per set-up, i.e. what one core running only the responder could sustain.
 *
 *   dvipsec-ike-bench [-n SETUPS] [-s aes128gcm16|aes256gcm16|chacha20poly1305]
 *
 * Engines are rebuilt every 1000 set-ups (outside the clock) so the tables stay at a steady size.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_priv.h"

#define BATCH 1000
#define QLEN  16

struct pkt {
	int to;
	struct ike_dgram d;
	uint8_t buf[IKE_MAX_DGRAM];
};

static struct pkt queue[QLEN];
static int q_head, q_len;
static unsigned children;
static struct ike_config cfg[2];
static struct esp_addr addr[2];

static void
on_send(void *ctx, const struct ike_dgram *d)
{
	struct pkt *p;

	if (q_len == QLEN)
		abort();
	p = &queue[(q_head + q_len++) % QLEN];
	p->to = ctx == &cfg[0] ? 1 : 0;
	p->d = (struct ike_dgram){ .local = d->remote,
				   .remote = d->local,
				   .local_port = d->remote_port,
				   .remote_port = d->local_port,
				   .data = p->buf,
				   .len = d->len };
	memcpy(p->buf, d->data, d->len);
}

static int
on_child_up(void *ctx, const struct ike_child_event *ev)
{
	(void)ctx;
	(void)ev;
	children++;
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
config(struct ike_config *c, const char *me, const char *peer, const struct ike_proposal *ike,
       const struct ike_proposal *esp)
{
	static const uint8_t psk[32] = "benchmark pre-shared key 32 byte";
	struct ike_peer_cfg *p = &c->peers[0];

	memset(c, 0, sizeof(*c));
	c->local_id = (struct ike_id){ .type = IKE_ID_FQDN, .len = (uint8_t)strlen(me) };
	memcpy(c->local_id.data, me, strlen(me));
	c->n_peers = 1;
	snprintf(p->name, sizeof(p->name), "%s", peer);
	p->id = (struct ike_id){ .type = IKE_ID_FQDN, .len = (uint8_t)strlen(peer) };
	memcpy(p->id.data, peer, strlen(peer));
	p->auth = IKE_AUTH_METHOD_PSK;
	p->psk = psk;
	p->psk_len = sizeof(psk);
	p->n_ike = p->n_esp = 1;
	p->ike[0] = *ike;
	p->esp[0] = *esp;
	p->replay_window = 1024;
}

int
main(int argc, char **argv)
{
	struct ike_proposal ike = { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256,
				    IKE_DH_CURVE25519, false };
	struct ike_proposal esp = { IKE_ENCR_AES_GCM_16, 128, 0, 0, false };
	unsigned n = 5000, done = 0;
	double total = 0, resp = 0;
	const char *suite = "aes128gcm16";
	int c;

	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 'n') {
			n = (unsigned)strtoul(optarg, NULL, 10);
		} else if (c == 's' && strcmp(optarg, "aes256gcm16") == 0) {
			suite = optarg;
			ike.key_bits = esp.key_bits = 256;
			ike.prf = IKE_PRF_HMAC_SHA2_384;
		} else if (c == 's' && strcmp(optarg, "chacha20poly1305") == 0) {
			suite = optarg;
			ike.encr = esp.encr = IKE_ENCR_CHACHA20_POLY1305;
			ike.key_bits = esp.key_bits = 256;
		} else if (c != 's' || strcmp(optarg, "aes128gcm16") != 0) {
			fprintf(stderr,
				"usage: %s [-n SETUPS] [-s aes128gcm16|aes256gcm16|"
				"chacha20poly1305]\n",
				argv[0]);
			return 2;
		}
	}
	addr[0] = (struct esp_addr){ .family = 4, .v4 = htonl(0x0a000002) };
	addr[1] = (struct esp_addr){ .family = 4, .v4 = htonl(0x0a000001) };
	config(&cfg[0], "initiator.example", "responder.example", &ike, &esp);
	config(&cfg[1], "responder.example", "initiator.example", &ike, &esp);

	while (done < n) {
		struct ike_engine *e[2];
		unsigned batch = n - done < BATCH ? n - done : BATCH;
		double t0;

		for (int i = 0; i < 2; i++) {
			struct ike_io io = { .ctx = &cfg[i],
					     .send = on_send,
					     .child_up = on_child_up };

			if (ike_engine_create(&cfg[i], &io, &e[i]) < 0)
				return 1;
		}
		children = 0;
		t0 = now_s();
		for (unsigned k = 0; k < batch; k++) {
			if (ike_initiate(e[0], 0, &addr[0], &addr[1], 0) < 0)
				return 1;
			while (q_len > 0) {
				struct pkt *p = &queue[q_head];
				double t1 = p->to == 1 ? now_s() : 0;

				q_head = (q_head + 1) % QLEN;
				q_len--;
				ike_input(e[p->to], &p->d, 0);
				if (p->to == 1)
					resp += now_s() - t1;
			}
		}
		total += now_s() - t0;
		if (children != 2 * batch) {
			fprintf(stderr, "only %u of %u child_up events\n", children, 2 * batch);
			return 1;
		}
		done += batch;
		ike_engine_free(e[0]);
		ike_engine_free(e[1]);
	}
	printf("suite %s, %u IKE_SA+CHILD_SA set-ups (PSK, X25519 both sides)\n", suite, n);
	printf("  both engines on one core: %.0f set-ups/s (%.1f us each)\n", n / total,
	       1e6 * total / n);
	printf("  responder alone (time in its ike_input): %.1f us each -> %.0f set-ups/s per "
	       "core\n",
	       1e6 * resp / n, n / resp);
	return 0;
}
