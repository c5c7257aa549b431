/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a coupling facility backend implements (cf.h is the contract each function keeps). The
 * embedded backend (cf_shm.c) is a shared-memory segment for the processes of one host; a store
 * replicated across hosts (ARCHITECTURE.md section 9) is another table of these functions, chosen
 * by the scheme of the name cf_open() is given. Range checks (slot < n_slots, tag != 0, n != 0)
 * are done by cf.c before a backend is called.
 */
#ifndef DVIPSEC_CF_BACKEND_H
#define DVIPSEC_CF_BACKEND_H

#include "cf.h"

struct cf_backend {
	const char *scheme; /* "shm": cf_open("shm:/name") or cf_open("/name") */
	/* Opens where (the name after "scheme:") with room for at least n_slots; sets *impl and
	 * *n_slots (what the store really holds). 0 or -errno. */
	int (*open)(const char *where, uint32_t n_slots, void **impl, uint32_t *n_slots_out);
	void (*close)(void *impl);
	uint64_t (*seq_take)(void *impl, uint32_t slot, uint32_t n, uint64_t limit);
	void (*seq_init)(void *impl, uint32_t slot, uint64_t last);
	int (*seq_bind)(void *impl, uint32_t slot, uint64_t tag);
	int (*seq_find)(const void *impl, uint32_t n_slots, uint64_t tag);
	uint64_t (*seq_peek)(const void *impl, uint32_t slot);
	void (*replay_store)(void *impl, uint32_t slot, uint64_t top);
	uint64_t (*replay_load)(const void *impl, uint32_t slot, uint64_t tag);
};

extern const struct cf_backend cf_backend_shm;

#endif /* DVIPSEC_CF_BACKEND_H */
