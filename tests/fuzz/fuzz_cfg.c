/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the configuration loader: arbitrary text as a router file and as a target
 * file. A refusal must come with a message; an acceptance must free cleanly.
 */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[256];

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct cfg_router *r;
	struct cfg_target *t;

	err[0] = '\0';
	if (cfg_router_load_from_string(text, &r, err, sizeof(err)) == 0)
		cfg_router_free(r);
	else if (err[0] == '\0')
		abort();
	err[0] = '\0';
	if (cfg_target_load_from_string(text, &t, err, sizeof(err)) == 0)
		cfg_target_free(t);
	else if (err[0] == '\0')
		abort();
	free(text);
	return 0;
}
