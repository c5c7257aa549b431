/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * router.json: the DVIPA owner. Its own keys are the uplink ports, the targets it distributes
 * connections to (trusted link, control endpoint, weight), the filter policy and the connection
 * table, and the IKE peers (cfg_ike.c); the rest (eal, dvipa, workers, replay window, lifetime,
 * control key, static SAs) are shared with the target and parsed in cfg_common.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

#define CFG_DEFAULT_WEIGHT	      100
#define CFG_DEFAULT_CT_CAPACITY	      (1u << 20)
#define CFG_DEFAULT_CT_IDLE_S	      300
#define CFG_MIN_CT_CAPACITY	      1024
#define CFG_MAX_CT_CAPACITY	      (1u << 26)
#define CFG_MAX_CT_IDLE_S	      86400
#define CFG_DEFAULT_TARGET_TIMEOUT_MS 1000
#define CFG_MIN_TARGET_TIMEOUT_MS     500 /* heartbeats come every 200 ms */
#define CFG_MAX_TARGET_TIMEOUT_MS     60000

struct router_box {
	struct cfg_shared shared; /* first: the cfg_field_* parsers take the box as a cfg_shared */
	struct cfg_router cfg;
};

/* One element of "ports" or "targets", and the elements before it (for uniqueness). */
struct item_state {
	struct cfg_router *r;
	size_t index;
	const char *list_path;
};

static const struct cfg_name filter_names[] = {
	{ "bypass", CFG_FILTER_BYPASS },
	{ "router", CFG_FILTER_ROUTER },
	{ NULL, 0 },
};

static const struct cfg_name non_syn_names[] = {
	{ "drop", CFG_NON_SYN_DROP },
	{ "assign", CFG_NON_SYN_ASSIGN },
	{ NULL, 0 },
};

static int
fail_duplicate(struct cfg_ctx *ctx, const char *path, const json_t *v, const char *what,
	       const struct item_state *st, size_t other, const char *key)
{
	char got[64];

	return cfg_fail(ctx, path, "expected a %s not used before, got %s (also %s[%zu].%s)", what,
			cfg_describe(v, got, sizeof(got)), st->list_path, other, key);
}

static int
parse_port_name(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;
	struct cfg_port *port = &st->r->ports[st->index];
	size_t i;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_name(ctx, path, v, port->name, sizeof(port->name));
	for (i = 0; rc == 0 && i < st->index; i++)
		if (strcmp(st->r->ports[i].name, port->name) == 0)
			return fail_duplicate(ctx, path, v, "port name", st, i, "name");
	return rc;
}

static int
parse_port_devargs(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;
	struct cfg_link *link = &st->r->ports[st->index].link;

	if (v == NULL)
		return cfg_missing(ctx, path);
	return cfg_parse_string(ctx, path, v, link->devargs, sizeof(link->devargs));
}

static int
parse_ports(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	static const struct cfg_field fields[] = {
		{ "name", parse_port_name },
		{ "devargs", parse_port_devargs },
		{ NULL, NULL },
	};
	struct router_box *box = obj;
	struct item_state st = { .r = &box->cfg, .list_path = path };
	char sub[CFG_PATH_MAX];
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_expect_array(ctx, path, v, 1, CFG_MAX_PORTS, "ports");
	for (st.index = 0; rc == 0 && st.index < json_array_size(v); st.index++)
		rc = cfg_parse_fields(ctx, cfg_path_index(sub, path, st.index),
				      json_array_get(v, st.index), fields, &st);
	box->cfg.n_ports = (uint8_t)st.index;
	return rc;
}

static int
parse_target_id(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;
	int64_t id;
	size_t i;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_int(ctx, path, v, 1, UINT16_MAX - 1, &id); /* UINT16_MAX: "any target" */
	if (rc < 0)
		return rc;
	st->r->targets[st->index].id = (uint16_t)id;
	for (i = 0; i < st->index; i++)
		if (st->r->targets[i].id == id)
			return fail_duplicate(ctx, path, v, "target id", st, i, "id");
	return 0;
}

static int
parse_target_name(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;
	struct cfg_router_target *t = &st->r->targets[st->index];
	size_t i;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_name(ctx, path, v, t->name, sizeof(t->name));
	for (i = 0; rc == 0 && i < st->index; i++)
		if (strcmp(st->r->targets[i].name, t->name) == 0)
			return fail_duplicate(ctx, path, v, "target name", st, i, "name");
	return rc;
}

static int
parse_target_weight(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;
	int64_t weight = CFG_DEFAULT_WEIGHT;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 1, 1000, &weight);
	st->r->targets[st->index].weight = (uint16_t)weight;
	return rc;
}

static int
parse_target_link(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;

	return cfg_parse_link(ctx, path, v, &st->r->targets[st->index].link);
}

static bool
same_control(const struct cfg_control *a, const struct cfg_control *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == CFG_CONTROL_UNIX)
		return strcmp(a->path, b->path) == 0;
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* The router listens on each target's endpoint, so two targets cannot share one. */
static int
parse_target_control(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct item_state *st = obj;
	struct cfg_control *control = &st->r->targets[st->index].control;
	size_t i;
	int rc;

	rc = cfg_parse_control(ctx, path, v, control);
	for (i = 0; rc == 0 && i < st->index; i++)
		if (same_control(&st->r->targets[i].control, control))
			return fail_duplicate(ctx, path, v, "control endpoint", st, i, "control");
	return rc;
}

static int
parse_targets(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	static const struct cfg_field fields[] = {
		{ "id", parse_target_id },	     { "name", parse_target_name },
		{ "weight", parse_target_weight },   { "link", parse_target_link },
		{ "control", parse_target_control }, { NULL, NULL },
	};
	struct router_box *box = obj;
	struct item_state st = { .r = &box->cfg, .list_path = path };
	char sub[CFG_PATH_MAX];
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_expect_array(ctx, path, v, 1, CFG_MAX_TARGETS, "targets");
	for (st.index = 0; rc == 0 && st.index < json_array_size(v); st.index++)
		rc = cfg_parse_fields(ctx, cfg_path_index(sub, path, st.index),
				      json_array_get(v, st.index), fields, &st);
	box->cfg.n_targets = (uint8_t)st.index;
	return rc;
}

static int
parse_filter_policy(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct router_box *box = obj;
	int policy = CFG_FILTER_BYPASS, rc = 0;

	if (v != NULL)
		rc = cfg_parse_enum(ctx, path, v, filter_names, &policy);
	box->cfg.filter_policy = (enum cfg_filter_policy)policy;
	return rc;
}

static int
parse_target_timeout(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct router_box *box = obj;
	int64_t ms = CFG_DEFAULT_TARGET_TIMEOUT_MS;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, CFG_MIN_TARGET_TIMEOUT_MS,
				   CFG_MAX_TARGET_TIMEOUT_MS, &ms);
	box->cfg.target_timeout_ms = (uint32_t)ms;
	return rc;
}

static int
parse_ct_capacity(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_conn_table *ct = obj;
	int64_t capacity = CFG_DEFAULT_CT_CAPACITY;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, CFG_MIN_CT_CAPACITY, CFG_MAX_CT_CAPACITY,
				   &capacity);
	ct->capacity = (uint32_t)capacity;
	return rc;
}

static int
parse_ct_idle_timeout(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_conn_table *ct = obj;
	int64_t idle = CFG_DEFAULT_CT_IDLE_S;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 1, CFG_MAX_CT_IDLE_S, &idle);
	ct->idle_timeout_s = (uint32_t)idle;
	return rc;
}

static int
parse_ct_non_syn_miss(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_conn_table *ct = obj;
	int miss = CFG_NON_SYN_DROP, rc = 0;

	if (v != NULL)
		rc = cfg_parse_enum(ctx, path, v, non_syn_names, &miss);
	ct->non_syn_miss = (enum cfg_non_syn_miss)miss;
	return rc;
}

static int
parse_connection_table(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	static const struct cfg_field fields[] = {
		{ "capacity", parse_ct_capacity },
		{ "idle_timeout_s", parse_ct_idle_timeout },
		{ "non_syn_miss", parse_ct_non_syn_miss },
		{ NULL, NULL },
	};
	struct router_box *box = obj;
	const struct cfg_field *f;
	int rc = 0;

	if (v != NULL)
		return cfg_parse_fields(ctx, path, v, fields, &box->cfg.conn_table);
	for (f = fields; rc == 0 && f->key != NULL; f++) /* all defaults */
		rc = f->parse(ctx, path, NULL, &box->cfg.conn_table);
	return rc;
}

/* After dvipa, replay_window and lifetime, which give the peers' CHILD SAs their defaults. */
static int
parse_ike(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct router_box *box = obj;
	struct cfg_sa_defaults defs = {
		.replay_window = box->cfg.replay_window,
		.lifetime = box->cfg.lifetime,
		.dvipa = box->cfg.dvipa,
		.n_dvipa = box->cfg.n_dvipa,
	};

	return cfg_parse_ike(ctx, path, v, &defs, &box->shared.secrets, &box->cfg.ike);
}

/* Order matters: static_sas and ike take their defaults from dvipa, replay_window and lifetime. */
static const struct cfg_field router_fields[] = {
	{ "eal", cfg_field_eal },
	{ "dvipa", cfg_field_dvipa },
	{ "ports", parse_ports },
	{ "workers", cfg_field_workers },
	{ "targets", parse_targets },
	{ "filter_policy", parse_filter_policy },
	{ "target_timeout_ms", parse_target_timeout },
	{ "replay_window", cfg_field_replay_window },
	{ "connection_table", parse_connection_table },
	{ "lifetime", cfg_field_lifetime },
	{ "control_key", cfg_field_control_key },
	{ "static_sas", cfg_field_static_sas },
	{ "ike", parse_ike },
	{ NULL, NULL },
};

static int
load_router(const char *path, const char *text, struct cfg_router **out, char *err, size_t errlen)
{
	struct router_box *box;
	struct cfg_ctx ctx;
	int rc;

	*out = NULL;
	cfg_ctx_init(&ctx, err, errlen);
	box = calloc(1, sizeof(*box));
	if (box == NULL)
		return cfg_fail_nomem(&ctx, "");
	box->shared = CFG_SHARED_OF(&box->cfg, 1);
	rc = cfg_load_fields(&ctx, path, text, router_fields, &box->shared);
	if (rc < 0) {
		cfg_router_free(&box->cfg);
		return rc;
	}
	*out = &box->cfg;
	return 0;
}

int
cfg_router_load(const char *path, struct cfg_router **out, char *err, size_t errlen)
{
	return load_router(path, NULL, out, err, errlen);
}

int
cfg_router_load_from_string(const char *json, struct cfg_router **out, char *err, size_t errlen)
{
	return load_router(NULL, json, out, err, errlen);
}

void
cfg_router_free(struct cfg_router *cfg)
{
	struct router_box *box;

	if (cfg == NULL)
		return;
	box = cfg_container_of(cfg, struct router_box, cfg);
	free(box->cfg.ike); /* no key bytes of its own: its PSKs point into the key block */
	cfg_shared_release(&box->shared);
	free(box);
}
