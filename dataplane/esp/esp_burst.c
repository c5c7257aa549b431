/* SPDX-License-Identifier: BSD-3-Clause */
/* Burst bookkeeping shared by the stages: passed packets to the front, failed ones behind, order
 * kept. */
#include "esp_priv.h"

uint16_t
esp_compact(struct rte_mbuf **pkts, void **aux, const uint8_t *drop, uint16_t n)
{
	struct rte_mbuf *failed[ESP_BURST_MAX];
	uint16_t ok = 0, nfail = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (drop[i] == ESP_DROP_NONE) {
			pkts[ok] = pkts[i];
			if (aux != NULL)
				aux[ok] = aux[i];
			ok++;
		} else {
			failed[nfail++] = pkts[i];
		}
	}
	memcpy(&pkts[ok], failed, nfail * sizeof(failed[0]));
	return ok;
}

void
esp_merge_chunk(struct rte_mbuf **pkts, void **aux, uint16_t ok, uint16_t done, uint16_t passed)
{
	struct rte_mbuf *tmp[ESP_BURST_MAX];
	uint16_t gap = done - ok;

	if (gap == 0)
		return;
	/* [ok, done) holds earlier failures: the chunk's passed packets move in front of them */
	memcpy(tmp, pkts + done, passed * sizeof(tmp[0]));
	memmove(pkts + ok + passed, pkts + ok, gap * sizeof(pkts[0]));
	memcpy(pkts + ok, tmp, passed * sizeof(tmp[0]));
	if (aux != NULL)
		memmove(aux + ok, aux + done, passed * sizeof(aux[0]));
}

void
esp_compact_u64(uint64_t *v, const uint8_t *drop, uint16_t n)
{
	uint16_t ok = 0;

	for (uint16_t i = 0; i < n; i++)
		if (drop[i] == ESP_DROP_NONE)
			v[ok++] = v[i];
}
