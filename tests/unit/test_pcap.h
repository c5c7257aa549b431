/* SPDX-License-Identifier: BSD-3-Clause */
/* A classic pcap writer (Ethernet link type) for tests whose output tshark or scapy re-reads. */
#ifndef DVIPSEC_TEST_PCAP_H
#define DVIPSEC_TEST_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Creates path and writes the file header; fails the test on error. */
FILE *t_pcap_open(const char *path);
void t_pcap_write(FILE *f, const uint8_t *frame, size_t len);
void t_pcap_close(FILE *f);

#endif
