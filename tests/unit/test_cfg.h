/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the config loader tests: the base configs that test_cfg.c checks field by field and
 * test_cfg_bad.c breaks one edit at a time. JSON in them is written with ' for " to stay readable
 * (dq() swaps them back); ' never occurs in the configs themselves.
 */
#ifndef DVIPSEC_TEST_CFG_H
#define DVIPSEC_TEST_CFG_H

#define ERR_LEN 512

#define KEY_AES128  "c0ffee00c0ffee01c0ffee02c0ffee035a17c0de"
#define KEY_CHACHA  "feedface1eedface2eedface3eedface4eedface5eedface6eedface7eedface5a175a17"
#define KEY_AES256  "0badcafe0badcafe1badcafe0badcafe2badcafe0badcafe3badcafe0badcafe0badf00d"
#define KEY_CONTROL "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0"

extern const char base_router[];
extern const char base_target[];

/* A malloc'd copy of s with ' turned into ". */
char *dq(const char *s);

void test_bad_configs(void **state);

#endif /* DVIPSEC_TEST_CFG_H */
