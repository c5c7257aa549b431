/* SPDX-License-Identifier: BSD-3-Clause */
/* Replay window set-up; the per-packet check and update are inline in esp_replay.h. */
#include <errno.h>
#include <string.h>

#include "esp_replay.h"
#include "esp_types.h"

int
esp_replay_init(struct esp_replay *rw, uint32_t window, bool esn)
{
	memset(rw, 0, sizeof(*rw));
	rw->esn = esn;
	if (window == 0)
		return 0;
	if (window < ESP_REPLAY_MIN || window > ESP_REPLAY_MAX || (window & (window - 1)) != 0)
		return -EINVAL;

	uint32_t blocks = window / ESP_REPLAY_BLOCK_BITS + 1;
	uint32_t pow2 = 1;

	while (pow2 < blocks)
		pow2 <<= 1;
	rw->window = window;
	rw->blk_mask = pow2 - 1;
	return 0;
}
