/* SPDX-License-Identifier: BSD-3-Clause */
/* The embedded coupling facility: one shared-memory segment, a header and a counter per SA slot. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cf.h"

struct cf_slot {
	_Atomic uint64_t seq;	 /* last number handed out */
	_Atomic uint64_t tag;	 /* the SA the numbers belong to (cf_sa_tag), 0 = none */
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

struct cf {
	struct cf_shared *shm;
	size_t len;
	uint32_t n_slots;
};

struct cf *
cf_open(const char *shm_name, uint32_t n_slots)
{
	size_t len = sizeof(struct cf_shared) + (size_t)n_slots * sizeof(struct cf_slot);
	struct cf *cf = calloc(1, sizeof(*cf));
	struct stat st;
	int fd;

	if (cf == NULL)
		return NULL;
	if (sodium_init() < 0) /* cf_sa_tag hashes */
		goto free_cf;
	fd = shm_open(shm_name, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		goto free_cf;
	/* growing is safe under concurrent openers: new bytes read as zero; never shrink */
	if (fstat(fd, &st) < 0 || ((size_t)st.st_size < len && ftruncate(fd, (off_t)len) < 0))
		goto close_fd;
	if ((size_t)st.st_size > len)
		len = (size_t)st.st_size;
	cf->shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cf->shm == MAP_FAILED)
		goto close_fd;
	close(fd);
	cf->len = len;

	uint32_t expect = 0;

	/* the first opener stamps the layout; everyone checks it */
	if (atomic_compare_exchange_strong((_Atomic uint32_t *)&cf->shm->magic, &expect,
					   CF_MAGIC)) {
		cf->shm->version = CF_VERSION;
	} else if (expect != CF_MAGIC || cf->shm->version != CF_VERSION) {
		munmap(cf->shm, cf->len);
		free(cf);
		errno = EINVAL;
		return NULL;
	}
	cf->n_slots = (uint32_t)((len - sizeof(struct cf_shared)) / sizeof(struct cf_slot));
	return cf;
close_fd:
	close(fd);
free_cf:
	free(cf);
	return NULL;
}

void
cf_close(struct cf *cf)
{
	if (cf == NULL)
		return;
	munmap(cf->shm, cf->len);
	free(cf);
}

uint64_t
cf_seq_take(struct cf *cf, uint32_t slot, uint32_t n, int esn)
{
	uint64_t limit = esn ? UINT64_MAX : UINT32_MAX;

	if (slot >= cf->n_slots || n == 0)
		return 0;
	uint64_t last =
		atomic_fetch_add_explicit(&cf->shm->slot[slot].seq, n, memory_order_relaxed);

	if (last > limit - n)
		return 0; /* the numbers are burnt: nobody may use them again under this key */
	return last + 1;
}

int
cf_seq_init(struct cf *cf, uint32_t slot, uint64_t last)
{
	if (slot >= cf->n_slots)
		return -EINVAL;
	atomic_store_explicit(&cf->shm->slot[slot].seq, last, memory_order_relaxed);
	return 0;
}

uint64_t
cf_sa_tag(uint32_t spi, const uint8_t *keymat, size_t keymat_len)
{
	uint8_t in[4] = { (uint8_t)(spi >> 24), (uint8_t)(spi >> 16), (uint8_t)(spi >> 8),
			  (uint8_t)spi };
	crypto_generichash_state st;
	uint8_t out[8];
	uint64_t tag = 0;

	/* BLAKE2b of the SPI and the key: tells SAs apart, reveals nothing of the key */
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, in, sizeof(in));
	crypto_generichash_update(&st, keymat, keymat_len);
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_memzero(&st, sizeof(st));
	for (int i = 0; i < 8; i++)
		tag = tag << 8 | out[i];
	return tag ? tag : 1;
}

int
cf_seq_bind(struct cf *cf, uint32_t slot, uint64_t tag)
{
	if (slot >= cf->n_slots || tag == 0)
		return -EINVAL;

	struct cf_slot *s = &cf->shm->slot[slot];

	if (atomic_load_explicit(&s->tag, memory_order_acquire) == tag)
		return 0; /* the same keys: their numbers continue */
	atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
	atomic_store_explicit(&s->in_top, 0, memory_order_relaxed);
	atomic_store_explicit(&s->tag, tag, memory_order_release);
	return 1;
}

int
cf_replay_store(struct cf *cf, uint32_t slot, uint64_t top)
{
	if (slot >= cf->n_slots)
		return -EINVAL;

	_Atomic uint64_t *p = &cf->shm->slot[slot].in_top;
	uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);

	/* only forward: a late store never lowers what a restart will start from */
	while (top > cur && !atomic_compare_exchange_weak_explicit(
				    p, &cur, top, memory_order_relaxed, memory_order_relaxed))
		;
	return 0;
}

uint64_t
cf_replay_load(const struct cf *cf, uint32_t slot, uint64_t tag)
{
	if (slot >= cf->n_slots || tag == 0 ||
	    atomic_load_explicit(&cf->shm->slot[slot].tag, memory_order_acquire) != tag)
		return 0;
	return atomic_load_explicit(&cf->shm->slot[slot].in_top, memory_order_relaxed);
}

int
cf_seq_find(const struct cf *cf, uint64_t tag)
{
	int found = -ENOENT;
	uint64_t most = 0;

	for (uint32_t s = 0; s < cf->n_slots && tag != 0; s++) {
		const struct cf_slot *slot = &cf->shm->slot[s];
		uint64_t seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);

		if (atomic_load_explicit(&slot->tag, memory_order_acquire) == tag &&
		    (found < 0 || seq > most)) {
			found = (int)s;
			most = seq;
		}
	}
	return found;
}

uint64_t
cf_seq_peek(const struct cf *cf, uint32_t slot)
{
	if (slot >= cf->n_slots)
		return 0;
	return atomic_load_explicit(&cf->shm->slot[slot].seq, memory_order_relaxed);
}
