/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * target.json: one cluster member. Its own keys are its id, its end of the trusted link, the TAP
 * port to the host stack, an optional uplink for direct return, and the router's control endpoint;
 * the rest (eal, dvipa, workers, replay window, lifetime, control key, static SAs) are shared with
 * the router and parsed in cfg_common.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "cfg_priv.h"

struct target_box {
	struct cfg_shared shared; /* first: the cfg_field_* parsers take the box as a cfg_shared */
	struct cfg_target cfg;
};

static int
parse_id(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct target_box *box = obj;
	int64_t id;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_int(ctx, path, v, 1, UINT16_MAX - 1, &id); /* UINT16_MAX: "any target" */
	box->cfg.id = (uint16_t)id;
	return rc;
}

static int
parse_link(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct target_box *box = obj;

	return cfg_parse_link(ctx, path, v, &box->cfg.link);
}

static int
parse_tap(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct target_box *box = obj;

	return cfg_parse_link(ctx, path, v, &box->cfg.tap);
}

/* Optional: without it, replies go back over the trusted link and out through the router. */
static int
parse_uplink(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct target_box *box = obj;

	box->cfg.has_uplink = v != NULL;
	return v != NULL ? cfg_parse_link(ctx, path, v, &box->cfg.uplink) : 0;
}

static int
parse_router_control(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct target_box *box = obj;

	return cfg_parse_control(ctx, path, v, &box->cfg.router_control);
}

/* Order matters: static_sas takes its defaults from dvipa, replay_window and lifetime. */
static const struct cfg_field target_fields[] = {
	{ "eal", cfg_field_eal },
	{ "id", parse_id },
	{ "dvipa", cfg_field_dvipa },
	{ "workers", cfg_field_workers },
	{ "link", parse_link },
	{ "tap", parse_tap },
	{ "uplink", parse_uplink },
	{ "router_control", parse_router_control },
	{ "control_key", cfg_field_control_key },
	{ "replay_window", cfg_field_replay_window },
	{ "lifetime", cfg_field_lifetime },
	{ "static_sas", cfg_field_static_sas },
	{ NULL, NULL },
};

static int
load_target(const char *path, const char *text, struct cfg_target **out, char *err, size_t errlen)
{
	struct target_box *box;
	struct cfg_ctx ctx;
	int rc;

	*out = NULL;
	cfg_ctx_init(&ctx, err, errlen);
	box = calloc(1, sizeof(*box));
	if (box == NULL)
		return cfg_fail_nomem(&ctx, "");
	box->shared = CFG_SHARED_OF(&box->cfg, 0);
	rc = cfg_load_fields(&ctx, path, text, target_fields, &box->shared);
	if (rc < 0) {
		cfg_target_free(&box->cfg);
		return rc;
	}
	*out = &box->cfg;
	return 0;
}

int
cfg_target_load(const char *path, struct cfg_target **out, char *err, size_t errlen)
{
	return load_target(path, NULL, out, err, errlen);
}

int
cfg_target_load_from_string(const char *json, struct cfg_target **out, char *err, size_t errlen)
{
	return load_target(NULL, json, out, err, errlen);
}

void
cfg_target_free(struct cfg_target *cfg)
{
	struct target_box *box;

	if (cfg == NULL)
		return;
	box = cfg_container_of(cfg, struct target_box, cfg);
	cfg_shared_release(&box->shared);
	free(box);
}
