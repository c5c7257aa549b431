/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the config loader tests: the base configs that test_cfg.c checks field by field and
 * test_cfg_bad.c breaks one edit at a time (the router's has an "ike" object with five peers). JSON
 * in them is written with ' for " to stay readable (dq() swaps them back); ' never occurs in the
 * configs themselves.
 */
#ifndef DVIPSEC_TEST_CFG_H
#define DVIPSEC_TEST_CFG_H

#define ERR_LEN 512

#define KEY_AES128  "c0ffee00c0ffee01c0ffee02c0ffee035a17c0de"
#define KEY_CHACHA  "feedface1eedface2eedface3eedface4eedface5eedface6eedface7eedface5a175a17"
#define KEY_AES256  "0badcafe0badcafe1badcafe0badcafe2badcafe0badcafe3badcafe0badcafe0badf00d"
#define KEY_CONTROL "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0"
/* IKE: two PSKs (16 and 9 bytes), and RFC 8032's test 1 seed and test 2 public key. */
#define KEY_PSK	    "5eedf00d5eedf00d5eedf00d5eedf00d"
#define KEY_PSK2    "c0c0a0b0c0c0a0b0c0"
#define KEY_ED_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define KEY_ED_PEER "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"

extern const char base_router[];
extern const char base_target[];

/* A malloc'd copy of s with ' turned into ". */
char *dq(const char *s);

void test_bad_configs(void **state);

#endif /* DVIPSEC_TEST_CFG_H */
