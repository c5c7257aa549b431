/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration loader: reads one JSON file per process role (router, target), validates all of it,
 * and hands back a freshly allocated struct or one error message that starts with the JSON path of
 * the bad value ("targets[1].weight: expected integer 1..1000, got 0"). Nothing is returned for a
 * file that fails anywhere, so a caller can parse a new file and swap it in, or keep the old one.
 *
 * Keys (control channel key, static SA keymat, IKE PSKs and our Ed25519 seed) live in one
 * sodium_malloc'd block owned by the config (guard pages, mlock'd, read-only once loaded);
 * cfg_router_free() and cfg_target_free() wipe and release it. Nothing here prints a key.
 */
#ifndef DVIPSEC_CFG_H
#define DVIPSEC_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_types.h"
#include "ike.h"

#define CFG_MAX_EAL_ARGS    64
#define CFG_MAX_DVIPA	    8
#define CFG_MAX_PORTS	    16
#define CFG_MAX_WORKERS	    64
#define CFG_MAX_LCORE	    128 /* RTE_MAX_LCORE of the Debian DPDK build */
#define CFG_MAX_TARGETS	    64
#define CFG_MAX_STATIC_SAS  1024
#define CFG_NAME_MAX	    32	/* port and target names, with the NUL */
#define CFG_DEVARGS_MAX	    512 /* with the NUL */
#define CFG_UNIX_PATH_MAX   108 /* sizeof(sockaddr_un.sun_path), with the NUL */
#define CFG_HOST_MAX	    256 /* with the NUL */
#define CFG_CONTROL_KEY_LEN 32

/* EAL arguments as listed in the file, without a program name. argv[argc] is NULL. */
struct cfg_eal {
	int argc;
	char **argv;
};

/* A DPDK port given by devargs ("net_memif0,role=server,socket=...", "net_tap0,iface=dvt1"). */
struct cfg_link {
	char devargs[CFG_DEVARGS_MAX];
};

struct cfg_port {
	char name[CFG_NAME_MAX];
	struct cfg_link link;
};

enum cfg_control_kind {
	CFG_CONTROL_UNIX = 1, /* "unix:PATH" */
	CFG_CONTROL_TCP,      /* "tcp:HOST:PORT", HOST may be "[v6 address]" */
};

/* Where the sealed control channel between router and target listens or connects. */
struct cfg_control {
	enum cfg_control_kind kind;
	char path[CFG_UNIX_PATH_MAX]; /* unix */
	char host[CFG_HOST_MAX];      /* tcp: name or address, IPv6 without brackets */
	uint16_t port;		      /* tcp, host order */
};

/* Who filters inbound IPsec traffic to the DVIPA: the target after decryption, or the router. */
enum cfg_filter_policy {
	CFG_FILTER_BYPASS = 0,
	CFG_FILTER_ROUTER,
};

/* What the connection table does with a non-SYN packet that misses. */
enum cfg_non_syn_miss {
	CFG_NON_SYN_DROP = 0,
	CFG_NON_SYN_ASSIGN,
};

struct cfg_conn_table {
	uint32_t capacity;
	uint32_t idle_timeout_s;
	enum cfg_non_syn_miss non_syn_miss;
};

/* One target as the router sees it. */
struct cfg_router_target {
	uint16_t id;
	uint16_t weight;
	char name[CFG_NAME_MAX];
	struct cfg_link link;	    /* the router's end of the trusted link */
	struct cfg_control control; /* where the router listens for this target */
};

struct cfg_router {
	struct cfg_eal eal;
	uint8_t n_dvipa;
	struct esp_addr dvipa[CFG_MAX_DVIPA];
	uint8_t n_ports;
	struct cfg_port ports[CFG_MAX_PORTS];
	uint8_t n_workers;
	uint16_t workers[CFG_MAX_WORKERS]; /* lcore ids */
	uint8_t n_targets;
	struct cfg_router_target targets[CFG_MAX_TARGETS];
	enum cfg_filter_policy filter_policy;
	uint32_t target_timeout_ms; /* a joined target silent this long is unhealthy */
	uint32_t replay_window;	    /* default for static SAs; 0 = anti-replay off */
	struct cfg_conn_table conn_table;
	struct esp_lifetime lifetime; /* default for static SAs */
	const uint8_t *control_key;   /* CFG_CONTROL_KEY_LEN bytes, sodium_malloc'd */
	uint32_t n_static_sas;
	struct esp_sa_params *static_sas; /* keymat points into sodium_malloc'd memory */
	struct ike_config *ike;		  /* NULL: no "ike" object; PSKs and seed sodium_malloc'd */
};

struct cfg_target {
	struct cfg_eal eal;
	uint16_t id;
	uint8_t n_dvipa;
	struct esp_addr dvipa[CFG_MAX_DVIPA];
	uint8_t n_workers; /* 0 = main lcore only */
	uint16_t workers[CFG_MAX_WORKERS];
	struct cfg_link link; /* the target's end of the trusted link */
	struct cfg_link tap;
	bool has_uplink; /* false: replies go back over the link */
	struct cfg_link uplink;
	struct cfg_control router_control; /* where the router listens for this target */
	const uint8_t *control_key;	   /* CFG_CONTROL_KEY_LEN bytes, sodium_malloc'd */
	uint32_t replay_window;
	struct esp_lifetime lifetime;
	uint32_t n_static_sas;
	struct esp_sa_params *static_sas;
};

/*
 * Load and validate a whole file. Return 0 and a new config in *out, or, with *out = NULL and one
 * message in err (truncated to errlen; err may be NULL): -EINVAL for bad JSON or a bad value,
 * -ENOMEM, -EIO if libsodium fails, or the -errno of opening or reading the file (-ENOENT, ...).
 * The message names the JSON path first ("targets[1].weight: expected integer 1..1000, got 0"),
 * "line L, column C: ..." for a syntax error, or the file name for a file error. It never
 * contains key material.
 */
int cfg_router_load(const char *path, struct cfg_router **out, char *err, size_t errlen);
int cfg_router_load_from_string(const char *json, struct cfg_router **out, char *err,
				size_t errlen);
/* Wipe the keys and free everything; NULL is fine. */
void cfg_router_free(struct cfg_router *cfg);

int cfg_target_load(const char *path, struct cfg_target **out, char *err, size_t errlen);
int cfg_target_load_from_string(const char *json, struct cfg_target **out, char *err,
				size_t errlen);
void cfg_target_free(struct cfg_target *cfg);

/*
 * Build an argv for rte_eal_init(): prog, then the EAL arguments. rte_eal_init() reorders argv, so
 * it gets this copy; the strings stay owned by the config, which must outlive the EAL. Free *argv
 * with free(). Return 0 or -ENOMEM.
 */
int cfg_eal_argv(const struct cfg_eal *eal, const char *prog, int *argc, char ***argv);

/* "aes128gcm16" for ESP_AEAD_AES128_GCM16 and so on; NULL for an unknown value. */
const char *cfg_aead_name(enum esp_aead aead);

/*
 * A proposal as the "ike" object spells it, strongSwan's way: "aes128gcm16-prfsha256-x25519" for
 * an IKE proposal, "aes256gcm16-x25519-esn" for an ESP one (esp true). A transform this loader
 * does not know is written as its number ("encr99"). Returns buf.
 */
const char *cfg_ike_proposal_name(const struct ike_proposal *p, bool esp, char *buf, size_t len);
/* An identity as the "ike" object spells it: "192.0.2.1", "vpn.example.org", "user@example.org".
 * Returns buf. */
const char *cfg_ike_id_name(const struct ike_id *id, char *buf, size_t len);

#endif /* DVIPSEC_CFG_H */
