/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-ike: the IKE engine alone on UDP sockets (ike_udp.c), configured from the command line,
 * for interop tests and for trying the engine without the router. One peer. Prints a line per
 * event on stdout (flushed), never a key:
 *
 *   ready local=ADDR
 *   child_up id=N rekey_of=M peer=NAME spi_in=0x.. spi_out=0x.. aead=NAME mode=tunnel|transport
 *            encap=udp|none local=ADDR remote=ADDR udp=LPORT->RPORT local_ts=.. remote_ts=..
 *            (rekey_of: the pair this one replaces, 0: none)
 *   child_down id=N
 *   stats rx=.. tx=.. ...                                  (on exit)
 *
 * The engine's log goes to stderr. SIGINT / SIGTERM end it (exit 0). With --initiate it starts an
 * IKE SA and exits 1 if that fails (the peer refused, or never answered); --exit-after N ends it
 * (exit 0) once N CHILD SAs came up. Test aids: SIGUSR1 rekeys every CHILD SA now, SIGUSR2 the IKE
 * SA (ike_rekey_child, ike_rekey_ike); --send-delay-ms N holds every datagram N ms before it
 * leaves (in order), so that a request of the peer's crosses ours (rekey collisions, RFC 7296
 * 2.8.1) without a delaying qdisc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h" /* selector and address formatting, before ike.h */
#include "ike_udp.h"

#define MAX_LIVE  64
#define MAX_DELAY 64

/* a datagram held back by --send-delay-ms */
struct held {
	uint64_t due_ms;
	struct ike_dgram d;
	uint8_t buf[IKE_MAX_DGRAM];
};

struct tool {
	struct ike_udp *udp;
	unsigned children_up;
	int verbose;
	uint32_t n_live;
	uint32_t live[MAX_LIVE]; /* child ids up */
	unsigned long delay_ms;
	uint32_t held_head, n_held;
	struct held held[MAX_DELAY];
};

static volatile sig_atomic_t stop, rekey_children, rekey_ike;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		rekey_children = 1;
	else if (sig == SIGUSR2)
		rekey_ike = 1;
	else
		stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: dvipsec-ike --local ADDR --id ID --peer-id ID (--psk-hex HEX |\n"
		   "         --ed25519-seed-hex HEX --peer-pubkey-hex HEX) [--initiate REMOTE]\n"
		   "         [--esp aes128gcm16|aes256gcm16|chacha20poly1305]... [--ike "
		   "PROPOSAL]...\n"
		   "         [--local-ts CIDR]... [--remote-ts CIDR]... [--transport] [--dpd S]\n"
		   "         [--replay-window N] [--cookie-threshold N] [--retransmit-ms MS]\n"
		   "         [--retransmit-tries N] [--child-rekey S] [--ike-rekey S]\n"
		   "         [--send-delay-ms MS] [--exit-after N] [--timeout S] [--verbose]\n"
		   "       dvipsec-ike --print-pubkey --ed25519-seed-hex HEX\n"
		   "ID: an IPv4/IPv6 address, user@domain (RFC 822) or an FQDN. PROPOSAL: e.g.\n"
		   "aes128gcm16-prfsha256-x25519 (x25519 is the only group); --esp takes\n"
		   "aes128gcm16-x25519 for PFS in rekeys. --child-rekey / --ike-rekey: rekey\n"
		   "CHILD SAs / the IKE SA after about S seconds (less up to a tenth; 0: never).\n"
		   "SIGUSR1 / SIGUSR2: rekey every CHILD SA / the IKE SA now. --send-delay-ms:\n"
		   "every datagram leaves MS late (a test aid: rekeys of both sides cross).\n");
}

static int
fail(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "dvipsec-ike: %s \"%s\": expected %s\n", opt, val, want);
	return -EINVAL;
}

static int
parse_addr(const char *s, struct esp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, s, a->v6) == 1)
		a->family = 6;
	else
		return -EINVAL;
	return 0;
}

static int
parse_id(const char *opt, const char *s, struct ike_id *id)
{
	struct esp_addr a;
	size_t len = strlen(s);

	memset(id, 0, sizeof(*id));
	if (parse_addr(s, &a) == 0) {
		id->type = a.family == 4 ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
		id->len = a.family == 4 ? 4 : 16;
		memcpy(id->data, a.family == 4 ? (uint8_t *)&a.v4 : a.v6, id->len);
		return 0;
	}
	if (len == 0 || len > IKE_ID_MAX)
		return fail(opt, s, "an address, an FQDN or user@domain of 1..255 characters");
	id->type = strchr(s, '@') != NULL ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	id->len = (uint8_t)len;
	memcpy(id->data, s, len);
	return 0;
}

static int
parse_hex(const char *opt, const char *s, uint8_t *out, size_t min, size_t max, size_t *len)
{
	size_t n = 0;

	if (sodium_hex2bin(out, max, s, strlen(s), NULL, &n, NULL) != 0 || n * 2 != strlen(s) ||
	    n < min)
		return fail(opt, s, "hex bytes of the right length");
	*len = n;
	return 0;
}

static const struct {
	const char *name;
	uint16_t encr, bits;
} aeads[] = {
	{ "aes128gcm16", IKE_ENCR_AES_GCM_16, 128 },
	{ "aes256gcm16", IKE_ENCR_AES_GCM_16, 256 },
	{ "chacha20poly1305", IKE_ENCR_CHACHA20_POLY1305, 256 },
};

static const struct {
	const char *name;
	uint16_t prf;
} prfs[] = {
	{ "prfsha256", IKE_PRF_HMAC_SHA2_256 },
	{ "prfsha384", IKE_PRF_HMAC_SHA2_384 },
	{ "prfsha512", IKE_PRF_HMAC_SHA2_512 },
};

/* "aes128gcm16[-x25519]" (ESP; the group: PFS in CREATE_CHILD_SA) or
 * "aes128gcm16-prfsha256-x25519" (IKE) */
static int
parse_proposal(const char *opt, const char *s, bool ike, struct ike_proposal *p)
{
	char buf[64], *prf, *dh;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", s);
	prf = strchr(buf, '-');
	if (prf != NULL)
		*prf++ = '\0';
	dh = prf != NULL ? strchr(prf, '-') : NULL;
	if (dh != NULL)
		*dh++ = '\0';
	for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++)
		if (strcmp(buf, aeads[i].name) == 0)
			p->encr = aeads[i].encr, p->key_bits = aeads[i].bits;
	if (p->encr == 0 || (ike ? prf == NULL || dh == NULL
				 : dh != NULL || (prf != NULL && strcmp(prf, "x25519") != 0)))
		return fail(opt, s,
			    ike ? "AEAD-PRF-x25519, e.g. aes128gcm16-prfsha256-x25519"
				: "aes128gcm16, aes256gcm16 or chacha20poly1305, -x25519 for PFS");
	if (!ike) {
		p->dh = prf != NULL ? IKE_DH_CURVE25519 : 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(prfs) / sizeof(prfs[0]); i++)
		if (strcmp(prf, prfs[i].name) == 0)
			p->prf = prfs[i].prf;
	if (p->prf == 0 || strcmp(dh, "x25519") != 0)
		return fail(opt, s, "prfsha256|prfsha384|prfsha512 and x25519");
	p->dh = IKE_DH_CURVE25519;
	return 0;
}

/* ADDR or ADDR/LEN */
static int
parse_ts(const char *opt, const char *s, struct esp_ts *t)
{
	char buf[64], *slash;
	unsigned long plen;
	struct esp_addr a;
	uint8_t *start, *end;
	size_t bytes;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (parse_addr(buf, &a) < 0)
		return fail(opt, s, "ADDR or ADDR/PREFIXLEN");
	bytes = a.family == 4 ? 4 : 16;
	plen = bytes * 8;
	if (slash != NULL) {
		char *endp;

		plen = strtoul(slash, &endp, 10);
		if (*slash == '\0' || *endp != '\0' || plen > bytes * 8)
			return fail(opt, s, "a prefix length that fits the address");
	}
	memset(t, 0, sizeof(*t));
	t->start = t->end = a;
	t->port_hi = 65535;
	start = a.family == 4 ? (uint8_t *)&t->start.v4 : t->start.v6;
	end = a.family == 4 ? (uint8_t *)&t->end.v4 : t->end.v6;
	for (size_t bit = plen; bit < bytes * 8; bit++) {
		start[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
		end[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
	return 0;
}

static int
parse_uint(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *out > max)
		return fail(opt, s, "a number in range");
	return 0;
}

/* ---- events ---- */

static void
print_ts(const char *name, const struct esp_ts *ts, uint8_t n)
{
	printf(" %s=", name);
	for (uint8_t i = 0; i < n; i++) {
		char buf[128];

		ike_ts_format(&ts[i], buf, sizeof(buf));
		for (char *c = buf; *c != '\0'; c++)
			if (*c == ' ')
				*c = ':';
		printf("%s%s", i ? "," : "", buf);
	}
}

static int
on_child_up(void *ctx, const struct ike_child_event *ev)
{
	struct tool *t = ctx;
	char l[64], r[64];

	ike_addr_format(&ev->in.local, l, sizeof(l));
	ike_addr_format(&ev->in.remote, r, sizeof(r));
	printf("child_up id=%u rekey_of=%u peer=%s spi_in=0x%08x spi_out=0x%08x aead=%s mode=%s "
	       "encap=%s local=%s remote=%s udp=%u->%u",
	       ev->id, ev->rekey_of, ev->peer, ev->in.spi, ev->out.spi,
	       ev->in.aead == ESP_AEAD_AES128_GCM16   ? "aes128gcm16"
	       : ev->in.aead == ESP_AEAD_AES256_GCM16 ? "aes256gcm16"
						      : "chacha20poly1305",
	       ev->in.mode == ESP_MODE_TRANSPORT ? "transport" : "tunnel",
	       ev->in.udp_encap ? "udp" : "none", l, r, ev->out.udp_local_port,
	       ev->out.udp_remote_port);
	print_ts("local_ts", ev->in.local_ts, ev->in.n_local_ts);
	print_ts("remote_ts", ev->in.remote_ts, ev->in.n_remote_ts);
	printf("\n");
	fflush(stdout);
	t->children_up++;
	if (t->n_live < MAX_LIVE)
		t->live[t->n_live++] = ev->id;
	return 0;
}

static void
on_child_down(void *ctx, uint32_t id)
{
	struct tool *t = ctx;

	for (uint32_t i = 0; i < t->n_live; i++)
		if (t->live[i] == id)
			t->live[i] = t->live[--t->n_live];
	printf("child_down id=%u\n", id);
	fflush(stdout);
}

static void
on_log(void *ctx, int level, const char *line)
{
	struct tool *t = ctx;

	if (level <= 1 || t->verbose)
		fprintf(stderr, "ike: %s\n", line);
}

static void
on_send(void *ctx, const struct ike_dgram *d)
{
	struct tool *t = ctx;
	struct held *h;

	if (t->delay_ms == 0) {
		ike_udp_send(t->udp, d);
		return;
	}
	if (t->n_held == MAX_DELAY || d->len > sizeof(h->buf))
		return; /* lost, as on a full link: the engine retransmits */
	h = &t->held[(t->held_head + t->n_held++) % MAX_DELAY];
	h->due_ms = ike_udp_now_ms() + t->delay_ms;
	h->d = *d;
	memcpy(h->buf, d->data, d->len);
	h->d.data = h->buf;
}

/* Send what --send-delay-ms held and is due; the wait until the next one (at most max). */
static int
flush_held(struct tool *t, int max)
{
	uint64_t now = ike_udp_now_ms();

	while (t->n_held > 0) {
		struct held *h = &t->held[t->held_head];

		if (h->due_ms > now)
			return h->due_ms - now < (uint64_t)max ? (int)(h->due_ms - now) : max;
		ike_udp_send(t->udp, &h->d);
		t->held_head = (t->held_head + 1) % MAX_DELAY;
		t->n_held--;
	}
	return max;
}

static void
print_stats(const struct ike_engine *e, const struct ike_udp *u)
{
	const struct ike_stats *s = ike_engine_stats(e);
	const struct ike_udp_stats *us = ike_udp_stats(u);

	printf("stats");
#define PRINT_STAT(name, desc) printf(" %s=%llu", #name, (unsigned long long)s->name);
	IKE_STATS(PRINT_STAT)
#undef PRINT_STAT
	printf(" udp_esp=%llu udp_keepalive=%llu udp_send_errors=%llu\n",
	       (unsigned long long)us->esp, (unsigned long long)us->keepalive,
	       (unsigned long long)us->send_errors);
	fflush(stdout);
}

/* ---- main ---- */

struct opts {
	struct esp_addr local, remote;
	bool initiate, print_pubkey;
	unsigned long exit_after, timeout_s;
	uint8_t psk[IKE_PSK_MAX], seed[32], pk[32];
	size_t psk_len, seed_len, pk_len;
};

static int
parse(int argc, char **argv, struct ike_config *cfg, struct opts *o, struct tool *t)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "id", required_argument, NULL, 'i' },
		{ "peer-id", required_argument, NULL, 'p' },
		{ "psk-hex", required_argument, NULL, 'k' },
		{ "ed25519-seed-hex", required_argument, NULL, 's' },
		{ "peer-pubkey-hex", required_argument, NULL, 'P' },
		{ "print-pubkey", no_argument, NULL, 'K' },
		{ "initiate", required_argument, NULL, 'I' },
		{ "esp", required_argument, NULL, 'e' },
		{ "ike", required_argument, NULL, 'E' },
		{ "local-ts", required_argument, NULL, 'L' },
		{ "remote-ts", required_argument, NULL, 'R' },
		{ "transport", no_argument, NULL, 't' },
		{ "dpd", required_argument, NULL, 'd' },
		{ "replay-window", required_argument, NULL, 'w' },
		{ "cookie-threshold", required_argument, NULL, 'c' },
		{ "retransmit-ms", required_argument, NULL, 'r' },
		{ "retransmit-tries", required_argument, NULL, 'T' },
		{ "child-rekey", required_argument, NULL, 'C' },
		{ "ike-rekey", required_argument, NULL, 'S' },
		{ "send-delay-ms", required_argument, NULL, 'D' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ike_peer_cfg *peer = &cfg->peers[0];
	bool has_local = false, has_id = false, has_peer_id = false;
	unsigned long v;
	int c, rc = 0;

	cfg->n_peers = 1;
	snprintf(peer->name, sizeof(peer->name), "peer");
	peer->replay_window = 1024;
	while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			rc = parse_addr(optarg, &o->local) < 0
				     ? fail("--local", optarg, "an address")
				     : 0;
			has_local = true;
			break;
		case 'i':
			rc = parse_id("--id", optarg, &cfg->local_id);
			has_id = true;
			break;
		case 'p':
			rc = parse_id("--peer-id", optarg, &peer->id);
			has_peer_id = true;
			break;
		case 'k':
			rc = parse_hex("--psk-hex", optarg, o->psk, 1, sizeof(o->psk), &o->psk_len);
			break;
		case 's':
			rc = parse_hex("--ed25519-seed-hex", optarg, o->seed, 32, 32, &o->seed_len);
			break;
		case 'P':
			rc = parse_hex("--peer-pubkey-hex", optarg, o->pk, 32, 32, &o->pk_len);
			break;
		case 'K':
			o->print_pubkey = true;
			break;
		case 'I':
			rc = parse_addr(optarg, &o->remote) < 0
				     ? fail("--initiate", optarg, "an address")
				     : 0;
			o->initiate = true;
			break;
		case 'e':
			if (peer->n_esp == IKE_MAX_PROPOSALS)
				return fail("--esp", optarg, "at most 8 proposals");
			rc = parse_proposal("--esp", optarg, false, &peer->esp[peer->n_esp++]);
			break;
		case 'E':
			if (peer->n_ike == IKE_MAX_PROPOSALS)
				return fail("--ike", optarg, "at most 8 proposals");
			rc = parse_proposal("--ike", optarg, true, &peer->ike[peer->n_ike++]);
			break;
		case 'L':
			if (peer->n_local_ts == ESP_MAX_TS)
				return fail("--local-ts", optarg, "at most 4 selectors");
			rc = parse_ts("--local-ts", optarg, &peer->local_ts[peer->n_local_ts++]);
			break;
		case 'R':
			if (peer->n_remote_ts == ESP_MAX_TS)
				return fail("--remote-ts", optarg, "at most 4 selectors");
			rc = parse_ts("--remote-ts", optarg, &peer->remote_ts[peer->n_remote_ts++]);
			break;
		case 't':
			peer->allow_transport = true;
			break;
		case 'd':
			rc = parse_uint("--dpd", optarg, 86400, &v);
			peer->dpd_s = (uint32_t)v;
			break;
		case 'w':
			rc = parse_uint("--replay-window", optarg, ESP_REPLAY_MAX, &v);
			peer->replay_window = (uint32_t)v;
			break;
		case 'c':
			rc = parse_uint("--cookie-threshold", optarg, UINT32_MAX, &v);
			cfg->cookie_threshold = (uint32_t)v;
			break;
		case 'r':
			rc = parse_uint("--retransmit-ms", optarg, 60000, &v);
			cfg->retransmit_base_ms = (uint32_t)v;
			break;
		case 'T':
			rc = parse_uint("--retransmit-tries", optarg, 20, &v);
			cfg->retransmit_tries = (uint8_t)v;
			break;
		case 'C':
			rc = parse_uint("--child-rekey", optarg, 31536000, &v);
			peer->child_rekey_s = (uint32_t)v;
			break;
		case 'S':
			rc = parse_uint("--ike-rekey", optarg, 31536000, &v);
			peer->ike_rekey_s = (uint32_t)v;
			break;
		case 'D':
			rc = parse_uint("--send-delay-ms", optarg, 10000, &t->delay_ms);
			break;
		case 'x':
			rc = parse_uint("--exit-after", optarg, 1000000, &o->exit_after);
			break;
		case 'o':
			rc = parse_uint("--timeout", optarg, 86400, &o->timeout_s);
			break;
		case 'v':
			t->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc < 0)
		return rc;
	if (o->print_pubkey)
		return o->seed_len == 32 ? 0 : fail("--print-pubkey", "", "--ed25519-seed-hex");
	if (optind != argc || !has_local || !has_id || !has_peer_id ||
	    (o->psk_len == 0) == (o->seed_len == 0) || (o->seed_len != 0 && o->pk_len == 0)) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->initiate && o->remote.family != o->local.family)
		return fail("--initiate", "", "an address of the --local family");
	return 0;
}

static int
run(struct ike_engine *e, struct tool *t, const struct opts *o)
{
	uint64_t start = ike_udp_now_ms();
	struct ike_sa_info info;
	int rc;

	if (o->initiate) {
		rc = ike_initiate(e, 0, &o->local, &o->remote, start);
		if (rc < 0) {
			fprintf(stderr, "dvipsec-ike: cannot initiate: %s\n", strerror(-rc));
			return 1;
		}
	}
	while (!stop) {
		rc = ike_udp_poll(t->udp, e, flush_held(t, 200));
		if (rc < 0) {
			fprintf(stderr, "dvipsec-ike: poll: %s\n", strerror(-rc));
			return 1;
		}
		flush_held(t, 0);
		if (rekey_children) {
			uint32_t ids[MAX_LIVE], n = t->n_live;

			rekey_children = 0;
			memcpy(ids, t->live, sizeof(ids)); /* the callbacks change t->live */
			for (uint32_t i = 0; i < n; i++)
				fprintf(stderr, "dvipsec-ike: rekey child %u: %d\n", ids[i],
					ike_rekey_child(e, ids[i], ike_udp_now_ms()));
		}
		if (rekey_ike) {
			rekey_ike = 0;
			fprintf(stderr, "dvipsec-ike: rekey IKE SA: %d\n",
				ike_rekey_ike(e, 0, ike_udp_now_ms()));
		}
		if (o->exit_after != 0 && t->children_up >= o->exit_after)
			return 0;
		if (o->initiate && ike_engine_list(e, &info, 1) == 0) {
			fprintf(stderr, "dvipsec-ike: the IKE SA failed\n");
			return 1;
		}
		if (o->timeout_s != 0 && ike_udp_now_ms() - start > o->timeout_s * 1000) {
			fprintf(stderr, "dvipsec-ike: timeout\n");
			return 1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct ike_config cfg; /* 64 peers: too big for the stack */
	struct tool t = { 0 };
	struct opts o = { 0 };
	struct ike_io io = { .ctx = &t,
			     .send = on_send,
			     .child_up = on_child_up,
			     .child_down = on_child_down,
			     .log = on_log };
	struct ike_engine *e = NULL;
	uint8_t *psk = NULL, *seed = NULL;
	char local[64];
	int rc, status = 1;

	if (sodium_init() < 0 || parse(argc, argv, &cfg, &o, &t) < 0)
		return 2;
	if (o.print_pubkey) {
		uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
		char hex[2 * sizeof(pk) + 1];

		crypto_sign_seed_keypair(pk, sk, o.seed);
		sodium_memzero(sk, sizeof(sk));
		printf("%s\n", sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk)));
		return 0;
	}
	/* secrets into guarded memory, as the configuration loader keeps them */
	if (o.psk_len > 0) {
		psk = sodium_malloc(o.psk_len);
		if (psk == NULL)
			return 1;
		memcpy(psk, o.psk, o.psk_len);
		cfg.peers[0].auth = IKE_AUTH_METHOD_PSK;
		cfg.peers[0].psk = psk;
		cfg.peers[0].psk_len = o.psk_len;
	} else {
		seed = sodium_malloc(32);
		if (seed == NULL)
			return 1;
		memcpy(seed, o.seed, 32);
		cfg.ed25519_seed = seed;
		cfg.has_ed25519 = true;
		cfg.peers[0].auth = IKE_AUTH_METHOD_DSIG;
		memcpy(cfg.peers[0].ed25519_pk, o.pk, 32);
	}
	sodium_memzero(&o.psk, sizeof(o.psk));
	sodium_memzero(&o.seed, sizeof(o.seed));

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	rc = ike_udp_open(&o.local, &t.udp);
	if (rc < 0) {
		fprintf(stderr, "dvipsec-ike: sockets on ports 500/4500: %s\n", strerror(-rc));
		goto out;
	}
	rc = ike_engine_create(&cfg, &io, &e);
	if (rc < 0) {
		fprintf(stderr, "dvipsec-ike: engine: %s\n", strerror(-rc));
		goto out;
	}
	ike_addr_format(&o.local, local, sizeof(local));
	printf("ready local=%s\n", local);
	fflush(stdout);
	status = run(e, &t, &o);
	print_stats(e, t.udp);

out:
	ike_engine_free(e);
	ike_udp_close(t.udp);
	sodium_free(psk);
	sodium_free(seed);
	return status;
}
