/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-target --config FILE [--cf SHM_NAME] [--idle-sleep-us N] [--link-queues N]
 * Loads and validates the config, starts the EAL, opens the trusted link (memif client or any
 * port) and the TAP toward the host stack, maps the coupling facility, installs the static SAs
 * (slot = position in static_sas, as on the router), and polls both directions on one lcore (the
 * first worker lcore if the config names one, else the main lcore) until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "tgt.h"

#define POOL_SIZE 8191

static struct tgt *sig_tgt;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	if (sig_tgt != NULL)
		atomic_store(&sig_tgt->stop, true);
}

static int
install_sas(struct tgt *t)
{
	const struct cfg_target *c = t->cfg;

	t->qsbr = rte_zmalloc("tgt_qsbr", rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE),
			      RTE_CACHE_LINE_SIZE);
	if (t->qsbr == NULL || rte_rcu_qsbr_init(t->qsbr, RTE_MAX_LCORE) < 0)
		return -ENOMEM;
	t->shc = shc_create(TGT_MAX_SLOTS, t->qsbr, esp_sa_free);
	if (t->shc == NULL)
		return -ENOMEM;

	for (uint32_t i = 0; i < c->n_static_sas; i++) {
		struct esp_sa *sa;
		int rc = esp_sa_create(&c->static_sas[i], &t->esp, &sa);

		if (rc < 0) {
			fprintf(stderr, "static_sas[%u]: cannot create the SA: %s\n", i,
				strerror(-rc));
			return rc;
		}
		sa->slot = i;
		rc = shc_install(t->shc, i, 1, sa); /* static SAs: generation 1 */
		if (rc < 0) {
			esp_sa_free(sa);
			return rc;
		}
		t->n_slots = i + 1;

		const struct esp_sa_params *p = &c->static_sas[i];

		t->slot[i].tag = cf_sa_tag(p->spi, p->keymat, p->keymat_len);
		t->slot[i].gen = 1;
		t->slot[i].out_target = DIST_OUT_ANY; /* static: every target sends on its own */
		t->slot[i].last_report_tsc = rte_rdtsc();
		/* a restarted target continues the numbers of the same keys */
		if (p->dir == ESP_DIR_OUTBOUND)
			cf_seq_bind(t->cf, i, t->slot[i].tag);
	}
	return 0;
}

static int
setup(struct tgt *t, const char *cf_name)
{
	const struct cfg_target *c = t->cfg;
	int rc;

	t->pool = rte_pktmbuf_pool_create("tgt_pool", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (t->pool == NULL)
		return -rte_errno;
	/* one rx queue per router worker: each worker sends on its own (memif needs equal counts)
	 */
	rc = dp_port_open(c->link.devargs, t->link_queues, 1, t->pool, &t->link);
	if (rc < 0)
		return rc;
	rc = dp_port_open(c->tap.devargs, 1, 1, t->pool, &t->tap);
	if (rc < 0)
		return rc;
	if (c->has_uplink) {
		rc = dp_port_open(c->uplink.devargs, 1, 1, t->pool, &t->uplink);
		if (rc < 0)
			return rc;
	}
	t->tap_peer_mac = t->tap.mac; /* until the kernel sends its first frame */
	dist_conn_init(&t->ctl.conn);
	t->ctl.sent_health = -1;
	rc = esp_lcore_init(&t->esp);
	if (rc < 0)
		return rc;
	t->cf = cf_open(cf_name, TGT_MAX_SLOTS);
	if (t->cf == NULL) {
		fprintf(stderr, "coupling facility %s: %s\n", cf_name,
			errno == EINVAL ? "exists with another layout (an older dvipsec?): remove "
					  "it (/dev/shm) while no dvipsec process runs"
			: errno == EPROTONOSUPPORT ? "no such backend (use /NAME or shm:/NAME)"
						   : strerror(errno));
		return -errno;
	}
	rc = install_sas(t);
	if (rc < 0)
		return rc;
	tgt_out_order(t);

	/* 169.254.<id>.2 (us) and .1 (the router) */
	uint32_t router_ip = rte_cpu_to_be_32(0xa9fe0000u | (uint32_t)c->id << 8 | 1);
	struct rte_ether_addr bcast;

	memset(&bcast, 0xff, sizeof(bcast));
	t->link_ip = rte_cpu_to_be_32(0xa9fe0000u | (uint32_t)c->id << 8 | 2);
	gre_link_init(&t->to_router, &t->link.mac, &bcast, t->link_ip, router_ip, false);
	return tgt_telemetry_register(t);
}

static int
poll_loop(void *arg)
{
	struct tgt *t = arg;
	unsigned int id = rte_lcore_id();

	rte_rcu_qsbr_thread_register(t->qsbr, id);
	rte_rcu_qsbr_thread_online(t->qsbr, id);
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
		uint64_t now = rte_rdtsc();
		uint32_t work = tgt_inbound_poll(t);

		work += tgt_outbound_poll(t, now);
		if (t->cfg->has_uplink)
			work += tgt_uplink_poll(t);
		tgt_feedback_flush(t, now);
		if (now - t->ctl.last_poll_tsc >=
		    rte_get_tsc_hz() / 1000) { /* sockets: once a ms */
			t->ctl.last_poll_tsc = now;
			tgt_ctl_poll(t, now);
		}
		rte_rcu_qsbr_quiescent(t->qsbr, id);
		if (work == 0) { /* a sleeping lcore must not hold up grace periods */
			rte_rcu_qsbr_thread_offline(t->qsbr, id);
			dp_idle_account(&t->idle, 0);
			rte_rcu_qsbr_thread_online(t->qsbr, id);
		} else {
			dp_idle_account(&t->idle, work);
		}
	}
	rte_rcu_qsbr_thread_offline(t->qsbr, id);
	rte_rcu_qsbr_thread_unregister(t->qsbr, id);
	return 0;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --config FILE [--cf SHM_NAME] [--idle-sleep-us N] [--link-queues N]\n"
		"  --link-queues: the router's worker count (one link queue each; default 1)\n",
		prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cf", required_argument, NULL, 'f' },
		{ "idle-sleep-us", required_argument, NULL, 'i' },
		{ "link-queues", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *cf_name = CF_DEFAULT;
	static struct tgt t;
	char err[512];
	int opt;

	uint32_t queues;

	t.link_queues = 1;
	while ((opt = getopt_long(argc, argv, "c:f:i:q:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			cf_name = optarg;
			break;
		case 'i':
			if (dp_parse_uint("--idle-sleep-us", optarg, 0, 100000, &t.idle.sleep_us) <
			    0)
				return 2;
			break;
		case 'q':
			if (dp_parse_uint("--link-queues", optarg, 1, CFG_MAX_WORKERS, &queues) < 0)
				return 2;
			t.link_queues = (uint16_t)queues;
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (path == NULL || cf_name[0] == '\0') {
		usage(argv[0]);
		return 2;
	}
	if (cfg_target_load(path, &t.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}

	int eal_argc;
	char **eal_argv;

	if (cfg_eal_argv(&t.cfg->eal, argv[0], &eal_argc, &eal_argv) < 0 ||
	    rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "%s: eal: cannot initialise: %s\n", path, rte_strerror(rte_errno));
		return 1;
	}

	int rc = setup(&t, cf_name);

	if (rc < 0) {
		fprintf(stderr, "dvipsec-target: set-up failed: %s\n", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}
	sig_tgt = &t;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t.lcore = t.cfg->n_workers > 0 ? t.cfg->workers[0] : (uint16_t)rte_get_main_lcore();
	printf("dvipsec-target %u: ready: %u SA(s), link %s, tap %s, lcore %u\n", t.cfg->id,
	       t.n_slots, t.link.name, t.tap.name, t.lcore);
	fflush(stdout);
	if (t.lcore != rte_get_main_lcore()) {
		if (!rte_lcore_is_enabled(t.lcore)) {
			fprintf(stderr, "workers[0]: lcore %u is not enabled in eal\n", t.lcore);
			rte_eal_cleanup();
			return 1;
		}
		rte_eal_remote_launch(poll_loop, &t, t.lcore);
		rte_eal_mp_wait_lcore();
	} else {
		poll_loop(&t);
	}
	tgt_ctl_close(&t);
	dp_port_close(&t.link);
	dp_port_close(&t.tap);
	if (t.cfg->has_uplink)
		dp_port_close(&t.uplink);
	shc_free(t.shc); /* the polling lcore is offline: nothing waits */
	esp_lcore_fini(&t.esp);
	cf_close(t.cf);
	rte_eal_cleanup();
	cfg_target_free(t.cfg);
	free(eal_argv);
	return 0;
}
