#!/bin/sh
# ESP interop with scapy, an independent implementation: scapy encrypts a vector set (every AEAD x mode x
# encapsulation x address family), our engine decrypts it byte-exact and encrypts the same cleartexts,
# and scapy decrypts what we made. Usage: esp_scapy_interop.sh TEST_BINARY SOURCE_ROOT WORK_DIR
set -eu
bin=$1
src=$2
work=$3
mkdir -p "$work"
/usr/bin/python3 "$src/scripts/esp_vectors.py" gen "$work/scapy_vectors.json"
"$bin" "$work/scapy_vectors.json" "$work/ours.json"
/usr/bin/python3 "$src/scripts/esp_vectors.py" check "$work/scapy_vectors.json" "$work/ours.json"
