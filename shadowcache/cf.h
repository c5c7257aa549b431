/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Coupling facility, embedded form: a POSIX shared-memory segment of per-SA-slot records that
 * every target on the host maps, so the outbound sequence numbers of one SA (and with them the
 * AES-GCM and ChaCha20 IVs, which are those numbers) are unique across targets. Each burst takes a
 * block of numbers with one atomic fetch-add, so a target's packets stay in order and the targets'
 * blocks interleave closely enough for the peer's replay window.
 *
 * The segment persists across restarts on purpose: a restarted target continues above the numbers
 * already used under the same keys; each slot carries the tag of the SA its numbers belong to, so
 * a new SA in a reused slot starts over and the same SA installed again does not (cf_seq_bind).
 * Clusters spanning hosts need a replicated store instead (ARCHITECTURE.md section 9): the
 * backend is pluggable (cf_backend.h), the embedded one is cf_shm.c.
 */
#ifndef DVIPSEC_CF_H
#define DVIPSEC_CF_H

#include <stddef.h>
#include <stdint.h>

#define CF_MAGIC   0x64766366u	 /* "dvcf" */
#define CF_VERSION 3		 /* 2: a tag per slot; 3: 32-byte records with the replay mark */
#define CF_DEFAULT "/dvipsec-cf" /* the segment router and targets map unless told otherwise */

struct cf;

/* Opens the facility name with room for n_slots records. The scheme picks the backend
 * (cf_backend.h): "/NAME" or "shm:/NAME" maps (creating if needed) the host's shared-memory
 * segment NAME; other schemes (a store replicated across hosts) are EPROTONOSUPPORT for now. NULL
 * and errno on failure; an existing segment of another layout is refused (EINVAL). */
struct cf *cf_open(const char *name, uint32_t n_slots);
void cf_close(struct cf *cf);

/* Reserves n consecutive sequence numbers of slot and returns the first (numbers start at 1), or 0
 * when slot is out of range or the 32-bit space (esn = 0) / 64-bit space would be exceeded: the SA
 * must be rekeyed then. */
uint64_t cf_seq_take(struct cf *cf, uint32_t slot, uint32_t n, int esn);
/* Starts slot over for a new SA: the next number handed out is last + 1. Only the SA's installer
 * calls it, before any target uses the slot. 0 or -EINVAL. */
int cf_seq_init(struct cf *cf, uint32_t slot, uint64_t last);
/* Ties slot's numbers to one SA, named by its tag: if the slot already belongs to tag nothing
 * changes (0: a restarted router or target re-installing the same keys continues above the numbers
 * used, so no IV repeats under a key); else the slot starts over at 1 for the new SA (1). The SA's
 * installer calls it before any target uses the slot. -EINVAL for a bad slot or tag 0. */
int cf_seq_bind(struct cf *cf, uint32_t slot, uint64_t tag);
/* The slot holding numbers for tag (the one with the most, should several), or -ENOENT: where an
 * SA installed again (a restarted router with an edited file, an SA removed and brought back)
 * must go to continue above its numbers. */
int cf_seq_find(const struct cf *cf, uint64_t tag);
/* Inbound SAs: the highest sequence number the router knows authenticated (it stores it every
 * millisecond; it only grows). A router or target that installs the same SA again (restart)
 * starts its replay window there: everything up to it counts as seen, so nothing captured before
 * the restart can be replayed after it. load returns 0 unless slot belongs to tag. */
int cf_replay_store(struct cf *cf, uint32_t slot, uint64_t top);
uint64_t cf_replay_load(const struct cf *cf, uint32_t slot, uint64_t tag);
/* An SA's tag: 64 bits of BLAKE2b over its SPI and keying material (never 0). */
uint64_t cf_sa_tag(uint32_t spi, const uint8_t *keymat, size_t keymat_len);
/* The last number handed out for slot (0 = none), for telemetry. */
uint64_t cf_seq_peek(const struct cf *cf, uint32_t slot);

#endif /* DVIPSEC_CF_H */
