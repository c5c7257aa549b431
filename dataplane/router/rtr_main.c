/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-router --config FILE [--cf SHM_NAME] [--idle-sleep-us N]
 * Loads and validates the config, starts the EAL, opens the uplink (one queue pair per worker) and
 * one trusted link per target (memif server or any port; one tx queue per worker, rx polled by the
 * main lcore), maps the coupling facility (outbound sequence numbers, shared with the targets),
 * installs the static SAs (slot = position in static_sas) and runs the workers and the control
 * loop until SIGINT/SIGTERM. SIGHUP re-reads the file's static_sas: unchanged SAs stay, changed
 * ones are replaced, removed ones deleted, and every target hears of it.
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
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "rtr.h"

#define POOL_SIZE	  16383
#define RING_SIZE	  1024
#define CLOSING_TIMEOUT_S 10 /* a FIN or RST keeps the entry this long, for the last segments */

static struct rtr *sig_r;

static void
on_signal(int sig)
{
	if (sig_r == NULL)
		return;
	if (sig == SIGHUP)
		atomic_store(&sig_r->reload, true);
	else
		atomic_store(&sig_r->stop, true);
}

void
rtr_reload(struct rtr *r)
{
	struct cfg_router *fresh;
	char err[512];

	/* only static_sas change at run time; ports, targets and the rest need a restart */
	if (cfg_router_load(r->config_path, &fresh, err, sizeof(err)) < 0) {
		fprintf(stderr, "reload: %s: %s (nothing changed)\n", r->config_path, err);
		return;
	}
	if (fresh->n_static_sas > RTR_MAX_SLOTS) {
		fprintf(stderr, "reload: static_sas: more than %u\n", RTR_MAX_SLOTS);
	} else {
		rtr_sa_reload(r, fresh);
	}
	cfg_router_free(fresh); /* the SA table keeps its own copies of the keys */
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s --config FILE [--cf SHM_NAME] [--idle-sleep-us N]\n", prog);
}

static int
install_sas(struct rtr *r)
{
	const struct cfg_router *c = r->cfg;
	int rc = rtr_sa_init(r, RTR_MAX_SLOTS, r->qsbr);

	if (rc < 0)
		return rc;
	r->dist.next_slot = c->n_static_sas % RTR_MAX_SLOTS; /* negotiated SAs after the static */
	return rtr_sa_install_static(r, c);
}

static int
open_ports(struct rtr *r)
{
	const struct cfg_router *c = r->cfg;
	int rc = dp_port_open(c->ports[0].link.devargs, r->n_workers, r->n_workers, r->pool,
			      &r->uplink);

	if (rc < 0)
		return rc;
	for (uint8_t t = 0; t < c->n_targets; t++) {
		rc = dp_port_open(c->targets[t].link.devargs, 1, r->n_workers, r->pool,
				  &r->link[t]);
		if (rc < 0)
			return rc;
		/* 169.254.<id>.1 (router) and .2 (target) */
		r->link_ip[t][0] = rte_cpu_to_be_32(RTR_LINK_PREFIX | c->targets[t].id << 8 | 1);
		r->link_ip[t][1] = rte_cpu_to_be_32(RTR_LINK_PREFIX | c->targets[t].id << 8 | 2);
	}
	r->n_targets = c->n_targets;
	return 0;
}

static int
setup(struct rtr *r, const char *cf_name)
{
	const struct cfg_router *c = r->cfg;
	int socket = (int)rte_socket_id();
	int rc;

	r->pool = rte_pktmbuf_pool_create("rtr_pool", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  socket);
	if (r->pool == NULL)
		return -rte_errno;
	rc = open_ports(r);
	if (rc < 0)
		return rc;
	rc = esp_lcore_init(&r->main.esp);
	if (rc < 0)
		return rc;
	size_t qsz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);

	r->qsbr = rte_zmalloc("rtr_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (r->qsbr == NULL || rte_rcu_qsbr_init(r->qsbr, RTE_MAX_LCORE) < 0)
		return -ENOMEM;
	r->dist.cf = cf_open(cf_name, RTR_MAX_SLOTS);
	if (r->dist.cf == NULL) {
		fprintf(stderr, "coupling facility %s: %s\n", cf_name,
			errno == EINVAL ? "exists with another layout (an older dvipsec?): remove "
					  "it (/dev/shm) while no dvipsec process runs"
			: errno == EPROTONOSUPPORT ? "no such backend (use /NAME or shm:/NAME)"
						   : strerror(errno));
		return -errno;
	}
	rc = install_sas(r);
	if (rc < 0)
		return rc;

	struct dct_params dp = {
		.name = "rtr_dct",
		.capacity = c->conn_table.capacity,
		.idle_timeout_tsc = (uint64_t)c->conn_table.idle_timeout_s * rte_get_tsc_hz(),
		.closing_timeout_tsc = CLOSING_TIMEOUT_S * rte_get_tsc_hz(),
		.socket_id = socket,
		.qsbr = r->qsbr,
	};

	r->dct = dct_create(&dp);
	if (r->dct == NULL) {
		fprintf(stderr, "connection_table: cannot create %u entries: %s\n", dp.capacity,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	dct_targets_init(&r->targets);
	for (uint8_t t = 0; t < c->n_targets; t++) {
		dct_targets_set_weight(&r->targets, t, c->targets[t].weight);
		dct_targets_set_health(&r->targets, t, dp_port_link_up(&r->link[t]));
	}

	r->ike_ring = rte_ring_create("rtr_ike", RING_SIZE, socket, RING_F_SC_DEQ);
	r->learn_ring = rte_ring_create_elem("rtr_learn", sizeof(struct rtr_learn), RING_SIZE,
					     socket, RING_F_SC_DEQ);
	r->ret_ring = rte_ring_create("rtr_ret", RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->ike_ring == NULL || r->learn_ring == NULL || r->ret_ring == NULL)
		return -ENOMEM;

	rc = rtr_ctl_open(r);
	if (rc < 0)
		return rc;
	r->cls_ctx.dvipas = c->dvipa;
	r->cls_ctx.n_dvipas = c->n_dvipa;
	r->cls_ctx.port_mac = r->uplink.mac;

	r->workers =
		rte_zmalloc("rtr_workers", sizeof(*r->workers) * r->n_workers, RTE_CACHE_LINE_SIZE);
	if (r->workers == NULL)
		return -ENOMEM;

	struct rte_ether_addr bcast;

	memset(&bcast, 0xff, sizeof(bcast));
	for (uint8_t i = 0; i < r->n_workers; i++) {
		struct rtr_worker *w = &r->workers[i];

		w->r = r;
		w->lcore = c->workers[i];
		w->queue = i;
		w->idle.sleep_us = r->main.idle.sleep_us;
		rc = esp_lcore_init(&w->esp);
		if (rc < 0)
			return rc;
		dct_picker_init(&w->picker);
		/* memif is point to point: the target takes any destination MAC */
		for (uint8_t t = 0; t < r->n_targets; t++)
			gre_link_init(&w->link[t], &r->link[t].mac, &bcast, r->link_ip[t][0],
				      r->link_ip[t][1], false);
	}
	rc = rtr_ike_init(r);
	if (rc < 0) {
		fprintf(stderr, "ike: cannot start the engine: %s\n", strerror(-rc));
		return rc;
	}
	return rtr_telemetry_register(r);
}

static int
check_workers(const struct cfg_router *c)
{
	for (uint8_t i = 0; i < c->n_workers; i++) {
		if (!rte_lcore_is_enabled(c->workers[i]) || c->workers[i] == rte_get_main_lcore()) {
			fprintf(stderr, "workers[%u]: lcore %u is not a worker lcore of the EAL\n",
				i, c->workers[i]);
			return -EINVAL;
		}
	}
	if (c->n_workers == 0) {
		fprintf(stderr, "workers: the router needs at least one worker lcore\n");
		return -EINVAL;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cf", required_argument, NULL, 'f' },
		{ "idle-sleep-us", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *cf_name = CF_DEFAULT;
	uint32_t idle_us = 0;
	char err[512];
	int opt;

	while ((opt = getopt_long(argc, argv, "c:f:i:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			cf_name = optarg;
			break;
		case 'i':
			if (dp_parse_uint("--idle-sleep-us", optarg, 0, 100000, &idle_us) < 0)
				return 2;
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

	static struct rtr r;

	if (cfg_router_load(path, &r.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}
	r.main.idle.sleep_us = idle_us;
	r.config_path = path;

	int eal_argc;
	char **eal_argv;

	if (cfg_eal_argv(&r.cfg->eal, argv[0], &eal_argc, &eal_argv) < 0 ||
	    rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "%s: eal: cannot initialise: %s\n", path, rte_strerror(rte_errno));
		return 1;
	}
	r.n_workers = r.cfg->n_workers;

	int rc = check_workers(r.cfg);

	if (rc == 0)
		rc = setup(&r, cf_name);
	if (rc < 0) {
		fprintf(stderr, "dvipsec-router: set-up failed: %s\n", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}

	sig_r = &r;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	for (uint8_t i = 0; i < r.n_workers; i++)
		rte_eal_remote_launch(rtr_worker_main, &r.workers[i], r.workers[i].lcore);
	printf("dvipsec-router: ready: %u worker(s), %u target(s), %u SA(s), uplink %s\n",
	       r.n_workers, r.n_targets, r.n_slots, r.uplink.name);
	fflush(stdout);

	while (!atomic_load(&r.stop))
		dp_idle_account(&r.main.idle, rtr_control_poll(&r, rte_rdtsc()));

	rte_eal_mp_wait_lcore();
	rtr_ike_fini(&r);
	rtr_ctl_close(&r);
	dp_port_close(&r.uplink);
	for (uint8_t t = 0; t < r.n_targets; t++)
		dp_port_close(&r.link[t]); /* a memif server removes its socket file */
	rtr_sa_fini(&r);		   /* the workers are offline: nothing waits */
	for (uint8_t i = 0; i < r.n_workers; i++)
		esp_lcore_fini(&r.workers[i].esp);
	esp_lcore_fini(&r.main.esp);
	dct_free(r.dct);
	cf_close(r.dist.cf);
	rte_eal_cleanup();
	cfg_router_free(r.cfg);
	free(eal_argv);
	return 0;
}
