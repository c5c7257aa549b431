/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The embedded coupling facility backend: one POSIX shared-memory segment that every dvipsec
 * process of the host maps, a header and a record per SA slot, C11 atomics only (cf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf_backend.h"

struct cf_slot {
	_Atomic uint64_t seq;	 /* last number handed out */
	_Atomic uint64_t tag;	 /* the SA the record belongs to (cf_sa_tag), 0 = none */
	_Atomic uint64_t in_top; /* inbound: highest authenticated number the router saw */
	uint64_t pad;
};

struct cf_shared {
	uint32_t magic;
	uint32_t version;
	uint32_t n_slots;
	uint32_t pad;
	struct cf_slot slot[];
};

struct shm {
	struct cf_shared *seg;
	size_t len;
};

static int
shm_cf_open(const char *where, uint32_t n_slots, void **impl, uint32_t *n_slots_out)
{
	size_t len = sizeof(struct cf_shared) + (size_t)n_slots * sizeof(struct cf_slot);
	struct shm *s = calloc(1, sizeof(*s));
	struct stat st;
	int fd, rc;

	if (s == NULL)
		return -ENOMEM;
	fd = shm_open(where, O_RDWR | O_CREAT, 0600);
	if (fd < 0) {
		rc = -errno;
		free(s);
		return rc;
	}
	/* growing is safe under concurrent openers: new bytes read as zero; never shrink */
	if (fstat(fd, &st) < 0 || ((size_t)st.st_size < len && ftruncate(fd, (off_t)len) < 0)) {
		rc = -errno;
		goto fail;
	}
	if ((size_t)st.st_size > len)
		len = (size_t)st.st_size;
	s->seg = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->seg == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	close(fd);
	s->len = len;

	uint32_t expect = 0;

	/* the first opener stamps the layout; everyone checks it */
	if (atomic_compare_exchange_strong((_Atomic uint32_t *)&s->seg->magic, &expect, CF_MAGIC)) {
		s->seg->version = CF_VERSION;
	} else if (expect != CF_MAGIC || s->seg->version != CF_VERSION) {
		munmap(s->seg, s->len);
		free(s);
		return -EINVAL;
	}
	*impl = s;
	*n_slots_out = (uint32_t)((len - sizeof(struct cf_shared)) / sizeof(struct cf_slot));
	return 0;
fail:
	close(fd);
	free(s);
	return rc;
}

static void
shm_cf_close(void *impl)
{
	struct shm *s = impl;

	munmap(s->seg, s->len);
	free(s);
}

static uint64_t
shm_seq_take(void *impl, uint32_t slot, uint32_t n, uint64_t limit)
{
	struct shm *s = impl;
	uint64_t last = atomic_fetch_add_explicit(&s->seg->slot[slot].seq, n, memory_order_relaxed);

	if (last > limit - n)
		return 0; /* the numbers are burnt: nobody may use them again under this key */
	return last + 1;
}

static void
shm_seq_init(void *impl, uint32_t slot, uint64_t last)
{
	struct shm *s = impl;

	atomic_store_explicit(&s->seg->slot[slot].seq, last, memory_order_relaxed);
}

static int
shm_seq_bind(void *impl, uint32_t slot, uint64_t tag)
{
	struct cf_slot *r = &((struct shm *)impl)->seg->slot[slot];

	if (atomic_load_explicit(&r->tag, memory_order_acquire) == tag)
		return 0; /* the same keys: their numbers continue */
	atomic_store_explicit(&r->seq, 0, memory_order_relaxed);
	atomic_store_explicit(&r->in_top, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tag, tag, memory_order_release);
	return 1;
}

static int
shm_seq_find(const void *impl, uint32_t n_slots, uint64_t tag)
{
	const struct shm *s = impl;
	int found = -ENOENT;
	uint64_t most = 0;

	for (uint32_t i = 0; i < n_slots; i++) {
		const struct cf_slot *r = &s->seg->slot[i];
		uint64_t seq = atomic_load_explicit(&r->seq, memory_order_relaxed);

		if (atomic_load_explicit(&r->tag, memory_order_acquire) == tag &&
		    (found < 0 || seq > most)) {
			found = (int)i;
			most = seq;
		}
	}
	return found;
}

static uint64_t
shm_seq_peek(const void *impl, uint32_t slot)
{
	const struct shm *s = impl;

	return atomic_load_explicit(&s->seg->slot[slot].seq, memory_order_relaxed);
}

static void
shm_replay_store(void *impl, uint32_t slot, uint64_t top)
{
	_Atomic uint64_t *p = &((struct shm *)impl)->seg->slot[slot].in_top;
	uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);

	/* only forward: a late store never lowers what a restart will start from */
	while (top > cur && !atomic_compare_exchange_weak_explicit(
				    p, &cur, top, memory_order_relaxed, memory_order_relaxed))
		;
}

static uint64_t
shm_replay_load(const void *impl, uint32_t slot, uint64_t tag)
{
	const struct cf_slot *r = &((const struct shm *)impl)->seg->slot[slot];

	if (atomic_load_explicit(&r->tag, memory_order_acquire) != tag)
		return 0;
	return atomic_load_explicit(&r->in_top, memory_order_relaxed);
}

const struct cf_backend cf_backend_shm = {
	.scheme = "shm",
	.open = shm_cf_open,
	.close = shm_cf_close,
	.seq_take = shm_seq_take,
	.seq_init = shm_seq_init,
	.seq_bind = shm_seq_bind,
	.seq_find = shm_seq_find,
	.seq_peek = shm_seq_peek,
	.replay_store = shm_replay_store,
	.replay_load = shm_replay_load,
};
