/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-cfg-check: validates a router or target configuration file the way the processes will,
 * and prints what it understood (never a key). Exit 0 if valid, 1 with the error (JSON path and
 * reason) if not, 2 on usage errors. The role comes from --router/--target, else from the file: a
 * top-level "targets" key means a router.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "cfg.h"

static const char *
addr_str(const struct esp_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6,
		      a->family == 4 ? (const void *)&a->v4 : (const void *)a->v6, buf,
		      (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static void
print_sas(const struct esp_sa_params *sas, uint32_t n)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	for (uint32_t i = 0; i < n; i++) {
		const struct esp_sa_params *p = &sas[i];

		printf("  sa spi 0x%08x %-8s %-16s %-9s %s%s  %s <-> %s\n", p->spi,
		       p->dir == ESP_DIR_INBOUND ? "inbound" : "outbound", cfg_aead_name(p->aead),
		       p->mode == ESP_MODE_TUNNEL ? "tunnel" : "transport",
		       p->udp_encap ? "udp-encap" : "raw", p->esn ? " esn" : "",
		       addr_str(&p->local, l, sizeof(l)), addr_str(&p->remote, r, sizeof(r)));
	}
}

/* One line, no keys: our identity, then each peer with its identity, auth and proposals. */
static void
print_ike(const struct ike_config *ike)
{
	char id[2 * IKE_ID_MAX], prop[64];

	printf("  ike id %s%s, %u peer%s:", cfg_ike_id_name(&ike->local_id, id, sizeof(id)),
	       ike->has_ed25519 ? " with an ed25519 key" : "", ike->n_peers,
	       ike->n_peers == 1 ? "" : "s");
	for (int i = 0; i < ike->n_peers; i++) {
		const struct ike_peer_cfg *p = &ike->peers[i];

		printf("%s %s (%s, %s, ike", i > 0 ? ";" : "", p->name,
		       cfg_ike_id_name(&p->id, id, sizeof(id)), p->psk != NULL ? "psk" : "ed25519");
		for (int j = 0; j < p->n_ike; j++)
			printf("%c%s", j > 0 ? ',' : ' ',
			       cfg_ike_proposal_name(&p->ike[j], false, prop, sizeof(prop)));
		printf(", esp");
		for (int j = 0; j < p->n_esp; j++)
			printf("%c%s", j > 0 ? ',' : ' ',
			       cfg_ike_proposal_name(&p->esp[j], true, prop, sizeof(prop)));
		printf(")");
	}
	printf("\n");
}

static int
check_router(const char *path)
{
	struct cfg_router *c;
	char err[512], a[INET6_ADDRSTRLEN];

	if (cfg_router_load(path, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}
	printf("%s: router configuration valid\n", path);
	for (int i = 0; i < c->n_dvipa; i++)
		printf("  dvipa %s\n", addr_str(&c->dvipa[i], a, sizeof(a)));
	for (int i = 0; i < c->n_ports; i++)
		printf("  port %s: %s\n", c->ports[i].name, c->ports[i].link.devargs);
	for (int i = 0; i < c->n_targets; i++)
		printf("  target %u %s weight %u link %s\n", c->targets[i].id, c->targets[i].name,
		       c->targets[i].weight, c->targets[i].link.devargs);
	printf("  filter policy %s, replay window %u, connection table %u entries\n",
	       c->filter_policy == CFG_FILTER_ROUTER ? "router" : "bypass", c->replay_window,
	       c->conn_table.capacity);
	print_sas(c->static_sas, c->n_static_sas);
	if (c->ike != NULL)
		print_ike(c->ike);
	cfg_router_free(c);
	return 0;
}

static int
check_target(const char *path)
{
	struct cfg_target *c;
	char err[512], a[INET6_ADDRSTRLEN];

	if (cfg_target_load(path, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}
	printf("%s: target %u configuration valid\n", path, c->id);
	for (int i = 0; i < c->n_dvipa; i++)
		printf("  dvipa %s\n", addr_str(&c->dvipa[i], a, sizeof(a)));
	printf("  link %s\n  tap %s\n", c->link.devargs, c->tap.devargs);
	print_sas(c->static_sas, c->n_static_sas);
	cfg_target_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	int role = 0; /* 1 router, 2 target */
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--router") == 0)
			role = 1;
		else if (strcmp(argv[i], "--target") == 0)
			role = 2;
		else if (path == NULL && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (path == NULL) {
		fprintf(stderr, "usage: dvipsec-cfg-check [--router|--target] FILE\n");
		return 2;
	}
	if (role == 0) {
		json_t *j = json_load_file(path, 0, NULL);

		role = json_object_get(j, "targets") != NULL ? 1 : 2;
		json_decref(j);
	}
	return role == 1 ? check_router(path) : check_target(path);
}
