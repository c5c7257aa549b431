/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's classify stage, burst level. The frames come from scapy (tests/unit/rtr_frames.py
 * classify-gen), each with the exit it must take and its drop reason or reply kind; for the IP
 * exits also the esp_pkt_info scapy's own layer lengths imply. Every frame moves exactly one exit
 * counter and at most one drop or reply counter; every drop reason is exercised. The answers (ARP,
 * echo, neighbor advertisement) go to a pcap that scapy re-parses, comparing each checksum with
 * the one it computes itself. Every strict prefix of every valid frame is dropped as truncated.
 *
 * Arguments: rtr_frames.py, a scratch directory.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "rtr_classify.h"
#include "test_common.h"
#include "test_pcap.h"

#define MAX_CASES 160
#define MAX_FRAME 1600

struct tcase {
	char name[48];
	uint8_t frame[MAX_FRAME];
	uint16_t len;
	uint16_t need; /* a valid frame's shorter prefixes are truncated */
	enum rtr_cls_exit exit;
	int why; /* enum rtr_cls_drop on the drop exit, enum rtr_cls_reply on the reply exit */
	struct esp_pkt_info pi;
};

static const char *script, *workdir;
static struct tcase cases[MAX_CASES];
static unsigned int n_cases;
static struct esp_addr dvipas[4];
static struct rtr_classify_ctx ctx;
static struct rtr_classify_stats st;
static struct rtr_classify_out out;
static bool seen_drop[RTR_CLS_DROP_COUNT], seen_exit[RTR_CLS_EXIT_COUNT],
	seen_reply[RTR_CLS_REPLY_COUNT];
static const char *const reply_names[RTR_CLS_REPLY_COUNT] = { "arp", "echo4", "echo6", "na" };

static int
lookup_name(const char *s, const char *(*name_of)(int), int count)
{
	for (int i = 0; i < count; i++)
		if (strcmp(name_of(i), s) == 0)
			return i;
	fail_msg("unknown name \"%s\"", s);
	return -1;
}

static const char *
exit_name(int i)
{
	return rtr_cls_exit_name((enum rtr_cls_exit)i);
}

static const char *
drop_name(int i)
{
	return rtr_cls_drop_name((enum rtr_cls_drop)i);
}

static const char *
reply_name(int i)
{
	return reply_names[i];
}

static void
load_cases(void)
{
	char path[512], cmd[1200];

	snprintf(path, sizeof(path), "%s/classify_frames.json", workdir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' classify-gen '%s'", script, path);
	assert_int_equal(system(cmd), 0);

	json_t *doc = t_load_json(path);
	json_t *a, *v;
	size_t i;

	assert_int_equal(rte_ether_unformat_addr(t_json_str(doc, "port_mac"), &ctx.port_mac), 0);
	json_array_foreach(json_object_get(doc, "dvipas"), i, v)
	{
		const char *s = json_string_value(v);

		assert_true(i < RTE_DIM(dvipas));
		dvipas[i].family = strchr(s, ':') ? 6 : 4;
		assert_int_equal(inet_pton(dvipas[i].family == 4 ? AF_INET : AF_INET6, s,
					   dvipas[i].family == 4 ? (void *)&dvipas[i].v4
								 : (void *)dvipas[i].v6),
				 1);
		ctx.n_dvipas = (uint16_t)(i + 1);
	}
	ctx.dvipas = dvipas;

	a = json_object_get(doc, "cases");
	json_array_foreach(a, i, v)
	{
		struct tcase *c = &cases[n_cases++];
		int len;

		assert_true(n_cases <= MAX_CASES);
		snprintf(c->name, sizeof(c->name), "%s", t_json_str(v, "name"));
		len = t_hex(t_json_str(v, "frame"), c->frame, sizeof(c->frame));
		assert_true(len >= 0);
		c->len = (uint16_t)len;
		c->need = (uint16_t)t_json_u64(v, "need");
		c->exit = (enum rtr_cls_exit)lookup_name(t_json_str(v, "exit"), exit_name,
							 RTR_CLS_EXIT_COUNT);
		c->why = -1;
		if (c->exit == RTR_CLS_EXIT_DROP)
			c->why = lookup_name(t_json_str(v, "why"), drop_name, RTR_CLS_DROP_COUNT);
		else if (c->exit == RTR_CLS_EXIT_REPLY)
			c->why = lookup_name(t_json_str(v, "why"), reply_name, RTR_CLS_REPLY_COUNT);
		if (c->exit <= RTR_CLS_EXIT_TCP) {
			c->pi.ip_len = (uint16_t)t_json_u64(v, "ip_len");
			c->pi.l3_len = (uint16_t)t_json_u64(v, "l3_len");
			c->pi.esp_off = (uint16_t)t_json_u64(v, "esp_off");
			c->pi.proto_off = (uint16_t)t_json_u64(v, "proto_off");
			c->pi.family = (uint8_t)t_json_u64(v, "family");
			c->pi.udp = (uint8_t)t_json_u64(v, "udp");
		}
	}
	json_decref(doc);
	assert_true(n_cases > 0);
}

static int
setup(void **state)
{
	(void)state;
	mkdir(workdir, 0755);
	load_cases();
	return 0;
}

static struct rtr_cls_ip_exit *
ip_exit(enum rtr_cls_exit e)
{
	return e == RTR_CLS_EXIT_ESP ? &out.esp : e == RTR_CLS_EXIT_IKE ? &out.ike : &out.tcp;
}

/* Classifies one mbuf; checks that exactly one exit and at most one reason counter moved, and that
 * the mbuf sits on that exit. Returns the exit; *why gets the drop reason or reply kind. */
static enum rtr_cls_exit
run_one(struct rte_mbuf *m, int *why)
{
	struct rtr_classify_stats before = st;
	uint16_t ok = rtr_classify_burst(&ctx, &m, 1, &out, &st);
	int exit = -1;
	uint64_t moved = 0;

	assert_int_equal(st.rx_packets, before.rx_packets + 1);
	for (int e = 0; e < RTR_CLS_EXIT_COUNT; e++) {
		uint64_t d = st.exits[e] - before.exits[e];

		moved += d;
		if (d == 1)
			exit = e;
	}
	assert_int_equal(moved, 1);
	assert_int_equal(out.esp.n + out.ike.n + out.tcp.n + out.n_reply + out.n_drop, 1);
	assert_int_equal(ok, exit == RTR_CLS_EXIT_DROP ? 0 : 1);

	*why = -1;
	moved = 0;
	for (int r = 0; r < RTR_CLS_DROP_COUNT; r++) {
		uint64_t d = st.drops[r] - before.drops[r];

		moved += d;
		if (d == 1)
			*why = r;
	}
	assert_int_equal(moved, exit == RTR_CLS_EXIT_DROP ? 1 : 0);
	if (exit == RTR_CLS_EXIT_DROP) {
		assert_ptr_equal(out.drop[0], m);
		assert_int_equal(out.drop_why[0], *why);
		seen_drop[*why] = true;
	}

	moved = 0;
	for (int r = 0; r < RTR_CLS_REPLY_COUNT; r++) {
		uint64_t d = st.replies[r] - before.replies[r];

		moved += d;
		if (d == 1)
			*why = r;
	}
	assert_int_equal(moved, exit == RTR_CLS_EXIT_REPLY ? 1 : 0);
	if (exit == RTR_CLS_EXIT_REPLY) {
		assert_ptr_equal(out.reply[0], m);
		seen_reply[*why] = true;
	}
	if (exit <= RTR_CLS_EXIT_TCP) {
		assert_int_equal(ip_exit((enum rtr_cls_exit)exit)->n, 1);
		assert_ptr_equal(ip_exit((enum rtr_cls_exit)exit)->pkts[0], m);
	}
	seen_exit[exit] = true;
	return (enum rtr_cls_exit)exit;
}

static void
check_ip_exit(const struct tcase *c, const struct rte_mbuf *m)
{
	const struct rtr_cls_ip_exit *x = ip_exit(c->exit);
	const struct esp_pkt_info *pi = &x->info[0];
	const struct rtr_pkt_src *src = &out.src[0];

	/* Ethernet gone, padding trimmed, the IP packet itself untouched */
	assert_int_equal(m->data_len, c->pi.ip_len);
	assert_int_equal(m->pkt_len, c->pi.ip_len);
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), c->frame + 14, c->pi.ip_len);
	assert_int_equal(pi->ip_len, c->pi.ip_len);
	assert_int_equal(pi->l3_len, c->pi.l3_len);
	assert_int_equal(pi->esp_off, c->pi.esp_off);
	assert_int_equal(pi->proto_off, c->pi.proto_off);
	assert_int_equal(pi->family, c->pi.family);
	assert_int_equal(pi->udp, c->pi.udp);
	assert_int_equal(out.n_src, 1);
	assert_memory_equal(&src->mac, c->frame + 6, 6);
	assert_int_equal(src->ip.family, c->pi.family);
	if (c->pi.family == 4)
		assert_memory_equal(&src->ip.v4, c->frame + 14 + 12, 4);
	else
		assert_memory_equal(src->ip.v6, c->frame + 14 + 8, 16);
}

/* Every case alone: its exit, its counter, its bytes; the answers checked by scapy afterwards. */
static void
test_table(void **state)
{
	char pcap[512], cmd[1200];
	unsigned int answers = 0;

	(void)state;
	snprintf(pcap, sizeof(pcap), "%s/classify_answers.pcap", workdir);
	FILE *pf = t_pcap_open(pcap);

	for (unsigned int i = 0; i < n_cases; i++) {
		const struct tcase *c = &cases[i];
		struct rte_mbuf *m = t_mbuf_from(c->frame, c->len);
		int why;
		enum rtr_cls_exit exit = run_one(m, &why);

		if (exit != c->exit || why != c->why)
			fail_msg("%s: got %s/%d, expected %s/%d (%s)", c->name,
				 rtr_cls_exit_name(exit), why, rtr_cls_exit_name(c->exit), c->why,
				 c->exit == RTR_CLS_EXIT_DROP ? drop_name(c->why) : "");
		if (exit <= RTR_CLS_EXIT_TCP) {
			check_ip_exit(c, m);
		} else if (exit == RTR_CLS_EXIT_REPLY) {
			t_pcap_write(pf, c->frame, c->len);
			t_pcap_write(pf, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
			answers++;
		} else {
			/* a dropped frame is left as it came */
			assert_int_equal(m->data_len, c->len);
			assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), c->frame, c->len);
		}
		rte_pktmbuf_free(m);
	}
	t_pcap_close(pf);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' classify-check '%s' %u", script, pcap,
		 answers);
	assert_int_equal(system(cmd), 0);
}

/* All cases in bursts: every exit keeps arrival order, nothing lost or doubled. */
static void
test_bursts(void **state)
{
	(void)state;
	for (unsigned int start = 0; start < n_cases; start += RTR_CLASSIFY_BURST_MAX) {
		unsigned int n = RTE_MIN(n_cases - start, (unsigned int)RTR_CLASSIFY_BURST_MAX);
		struct rte_mbuf *pkts[RTR_CLASSIFY_BURST_MAX];
		uint16_t want[RTR_CLS_EXIT_COUNT] = { 0 };
		struct rtr_classify_stats before = st;
		struct rtr_pkt_src srcs[RTR_CLASSIFY_BURST_MAX];
		uint16_t n_src = 0;

		for (unsigned int i = 0; i < n; i++)
			pkts[i] = t_mbuf_from(cases[start + i].frame, cases[start + i].len);
		/* the senders the IP exits should list: one per run of packets from the same one */
		for (unsigned int i = 0; i < n; i++) {
			const struct tcase *c = &cases[start + i];
			struct rtr_pkt_src x;

			if (c->exit > RTR_CLS_EXIT_TCP)
				continue;
			memset(&x, 0, sizeof(x));
			x.ip.family = c->pi.family;
			memcpy(&x.mac, c->frame + 6, 6);
			memcpy(x.ip.v6, c->frame + 14 + (c->pi.family == 4 ? 12 : 8),
			       c->pi.family == 4 ? 4 : 16);
			if (n_src == 0 || memcmp(&srcs[n_src - 1], &x, sizeof(x)) != 0)
				srcs[n_src++] = x;
		}
		uint16_t ok = rtr_classify_burst(&ctx, pkts, (uint16_t)n, &out, &st);

		assert_int_equal(out.n_src, n_src);
		for (uint16_t j = 0; j < n_src; j++)
			assert_memory_equal(&out.src[j], &srcs[j], sizeof(srcs[j]));

		for (unsigned int i = 0; i < n; i++) {
			const struct tcase *c = &cases[start + i];
			uint16_t k = want[c->exit]++;

			switch (c->exit) {
			case RTR_CLS_EXIT_REPLY:
				assert_ptr_equal(out.reply[k], pkts[i]);
				break;
			case RTR_CLS_EXIT_DROP:
				assert_ptr_equal(out.drop[k], pkts[i]);
				assert_int_equal(out.drop_why[k], c->why);
				break;
			default:
				assert_ptr_equal(ip_exit(c->exit)->pkts[k], pkts[i]);
				assert_int_equal(ip_exit(c->exit)->info[k].ip_len, c->pi.ip_len);
				break;
			}
		}
		assert_int_equal(out.esp.n, want[RTR_CLS_EXIT_ESP]);
		assert_int_equal(out.ike.n, want[RTR_CLS_EXIT_IKE]);
		assert_int_equal(out.tcp.n, want[RTR_CLS_EXIT_TCP]);
		assert_int_equal(out.n_reply, want[RTR_CLS_EXIT_REPLY]);
		assert_int_equal(out.n_drop, want[RTR_CLS_EXIT_DROP]);
		assert_int_equal(ok, n - want[RTR_CLS_EXIT_DROP]);
		for (int e = 0; e < RTR_CLS_EXIT_COUNT; e++)
			assert_int_equal(st.exits[e] - before.exits[e], want[e]);
		for (unsigned int i = 0; i < n; i++)
			rte_pktmbuf_free(pkts[i]);
	}
}

/* Every prefix of every valid frame: shorter than its headers say -> truncated, never a crash (the
 * sanitizer build checks the reads); with the whole IP packet (Ethernet padding cut) -> the same
 * exit as the full frame. */
static void
test_truncation(void **state)
{
	unsigned int runs = 0;

	(void)state;
	for (unsigned int i = 0; i < n_cases; i++) {
		const struct tcase *c = &cases[i];

		if (c->exit == RTR_CLS_EXIT_DROP)
			continue;
		for (uint16_t len = 0; len < c->len; len++) {
			struct rte_mbuf *m = t_mbuf_from(c->frame, len);
			int why;
			enum rtr_cls_exit exit = run_one(m, &why);

			if (len < c->need) {
				if (exit != RTR_CLS_EXIT_DROP || why != RTR_CLS_DROP_TRUNCATED)
					fail_msg("%s cut to %u: %s/%d, expected truncated", c->name,
						 len, rtr_cls_exit_name(exit), why);
			} else {
				assert_int_equal(exit, c->exit);
			}
			rte_pktmbuf_free(m);
			runs++;
		}
	}
	printf("# %u prefixes classified\n", runs);
	assert_true(runs > 4000);
}

static const struct tcase *
find_case(const char *name)
{
	for (unsigned int i = 0; i < n_cases; i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	fail_msg("no case %s", name);
	return NULL;
}

/* What scapy cannot express: chained mbufs, an mbuf without tailroom, an oversized burst. */
static void
test_mbuf_shapes(void **state)
{
	const struct tcase *c = find_case("esp4");
	struct rte_mbuf *m = t_mbuf_from(c->frame, 30);
	struct rte_mbuf *tail = t_mbuf_from(c->frame + 30, c->len - 30u);
	int why;

	(void)state;
	assert_int_equal(rte_pktmbuf_chain(m, tail), 0);
	assert_int_equal(run_one(m, &why), RTR_CLS_EXIT_DROP);
	assert_int_equal(why, RTR_CLS_DROP_MULTI_SEGMENT);
	rte_pktmbuf_free(m);

	/* a 78-byte solicitation answered by an 86-byte advertisement: no tailroom, no answer */
	c = find_case("ns_no_option");
	m = rte_pktmbuf_alloc(t_pool);
	assert_non_null(m);
	m->data_off = (uint16_t)(m->buf_len - c->len);
	memcpy(rte_pktmbuf_append(m, c->len), c->frame, c->len);
	assert_int_equal(rte_pktmbuf_tailroom(m), 0);
	assert_int_equal(run_one(m, &why), RTR_CLS_EXIT_DROP);
	assert_int_equal(why, RTR_CLS_DROP_NO_ROOM_FOR_REPLY);
	rte_pktmbuf_free(m);

	/* with 7 bytes of room still none; with 8 it fits */
	for (uint16_t room = 7; room <= 8; room++) {
		m = rte_pktmbuf_alloc(t_pool);
		m->data_off = (uint16_t)(m->buf_len - c->len - room);
		memcpy(rte_pktmbuf_append(m, c->len), c->frame, c->len);
		assert_int_equal(run_one(m, &why),
				 room == 8 ? RTR_CLS_EXIT_REPLY : RTR_CLS_EXIT_DROP);
		if (room == 8)
			assert_int_equal(m->data_len, 86);
		rte_pktmbuf_free(m);
	}

	/* more than a burst: the first RTR_CLASSIFY_BURST_MAX are classified, the rest untouched */
	struct rte_mbuf *pkts[RTR_CLASSIFY_BURST_MAX + 1];
	struct rtr_classify_stats before = st;

	c = find_case("esp4");
	for (int i = 0; i <= RTR_CLASSIFY_BURST_MAX; i++)
		pkts[i] = t_mbuf_from(c->frame, c->len);
	assert_int_equal(rtr_classify_burst(&ctx, pkts, RTR_CLASSIFY_BURST_MAX + 1, &out, &st),
			 RTR_CLASSIFY_BURST_MAX);
	assert_int_equal(st.rx_packets - before.rx_packets, RTR_CLASSIFY_BURST_MAX);
	assert_int_equal(pkts[RTR_CLASSIFY_BURST_MAX]->data_len, c->len);
	for (int i = 0; i <= RTR_CLASSIFY_BURST_MAX; i++)
		rte_pktmbuf_free(pkts[i]);
}

/* Runs last: the table above must have exercised every reason, exit and kind of answer. */
static void
test_coverage(void **state)
{
	(void)state;
	for (int r = 1; r < RTR_CLS_DROP_COUNT; r++)
		if (!seen_drop[r])
			fail_msg("drop reason %s never exercised", rtr_cls_drop_name(r));
	for (int e = 0; e < RTR_CLS_EXIT_COUNT; e++)
		assert_true(seen_exit[e]);
	for (int r = 0; r < RTR_CLS_REPLY_COUNT; r++)
		assert_true(seen_reply[r]);

	uint64_t drops = 0, replies = 0;

	for (int r = 0; r < RTR_CLS_DROP_COUNT; r++)
		drops += st.drops[r];
	for (int r = 0; r < RTR_CLS_REPLY_COUNT; r++)
		replies += st.replies[r];
	assert_int_equal(st.exits[RTR_CLS_EXIT_DROP], drops);
	assert_int_equal(st.exits[RTR_CLS_EXIT_REPLY], replies);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s rtr_frames.py scratch-dir\n", argv[0]);
		return 2;
	}
	script = argv[1];
	workdir = argv[2];
	t_eal_init(argv[0]);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	   cmocka_unit_test(test_bursts),
		cmocka_unit_test(test_truncation), cmocka_unit_test(test_mbuf_shapes),
		cmocka_unit_test(test_coverage),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
