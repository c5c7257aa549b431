#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for SECONDS
# (default 20; the test command uses the default, a long run is e.g. `scripts/fuzz.sh 3600`).
# Seeds: tests/vectors (packets) and conf/ (configurations). New corpus entries go to build-fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}

if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=disabled --buildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz tests/fuzz/fuzz_esp_inbound tests/fuzz/fuzz_cfg tests/fuzz/fuzz_gre_decap \
	tests/fuzz/fuzz_classify tests/fuzz/fuzz_dist tests/fuzz/fuzz_ike_msg \
	tests/fuzz/fuzz_ike_engine >/dev/null

mkdir -p build-fuzz/corpus/esp build-fuzz/corpus/cfg build-fuzz/corpus/gre build-fuzz/corpus/classify \
	build-fuzz/corpus/dist build-fuzz/corpus/ike build-fuzz/corpus/ike_engine
cp conf/*.json build-fuzz/corpus/cfg/
# ESP seeds: scapy-made packets (outer + ESP) of every AEAD x mode x encapsulation x family, each with
# a leading 0 byte (= "as on the wire"), and their payloads with a leading odd byte (= "seal this")
/usr/bin/python3 scripts/esp_vectors.py gen build-fuzz/scapy_vectors.json >/dev/null
/usr/bin/python3 - <<'PY'
import json, os
d = "build-fuzz/corpus/esp"
with open("build-fuzz/scapy_vectors.json", encoding="utf-8") as f:
    for i, v in enumerate(json.load(f)["vectors"]):
        with open(os.path.join(d, "wire%03d" % i), "wb") as out:
            out.write(b"\x00" + bytes.fromhex(v["outer"] + v["esp"]))
        with open(os.path.join(d, "seal%03d" % i), "wb") as out:
            out.write(bytes([1 + 2 * (i % 6)]) + bytes.fromhex(v["payload"]))
PY
# GRE and classify seeds: scapy-made trusted-link frames and the classifier's test frames
/usr/bin/python3 tests/unit/rtr_frames.py seeds build-fuzz/corpus/classify build-fuzz/corpus/gre
# Control-channel seeds: one message of every type, encoded here with struct.pack from the wire
# format in controlplane/dist/dist_msg.c (a second encoder, not the C one)
/usr/bin/python3 - <<'PY'
import os, struct
d = "build-fuzz/corpus/dist"
def msg(t, body):
    return struct.pack(">BBHI", 1, t, 0, len(body)) + body
def addr(fam, b):
    return struct.pack(">B", fam) + b.ljust(16, b"\0")
def sa(aead, keylen, v6, n_ts):
    a = (lambda i: addr(6, b"\x20\x01\x0d\xb8" + bytes(11) + bytes([i]))) if v6 else \
        (lambda i: addr(4, bytes([10, 0, 0, i])))
    body = struct.pack(">IQIBBBBI", 3, 9, 0xc0ffee01, v6, aead, v6, v6, 1024) + a(1) + a(2)
    body += struct.pack(">BHHBB", v6, 4500, 4500, n_ts, n_ts)
    body += b"".join(a(i) + a(i + 100) + struct.pack(">BHH", 6, 1, 65535) for i in range(2 * n_ts))
    body += struct.pack(">QQQQII", 1 << 30, 1 << 31, 0, 0, 3000, 3600)
    return msg(4, body + struct.pack(">H", keylen) + bytes(range(keylen)))
seeds = {
    "hello": msg(1, struct.pack(">HI", 7, 1)),
    "snapshot_begin": msg(2, struct.pack(">IQ", 2, 9)),
    "snapshot_end": msg(3, struct.pack(">Q", 9)),
    "sa_add_v4_aes128": sa(0, 20, 0, 0),
    "sa_add_v6_aes256_ts4": sa(1, 36, 1, 4),
    "sa_add_v4_chacha_ts1": sa(2, 36, 0, 1),
    "sa_del": msg(5, struct.pack(">IQ", 3, 10)),
    "rekey": msg(6, struct.pack(">IIQ", 3, 4, 11)),
    "lifesize": msg(7, struct.pack(">IQQQ", 4, 1 << 40, 1 << 20, 60000)),
    "conn_end_v4": msg(8, struct.pack(">IBBHH", 4, 4, 6, 40000, 443)
                       + bytes([10, 0, 0, 1] + [0] * 12) + bytes([10, 0, 0, 2] + [0] * 12)),
    "conn_end_v6": msg(8, struct.pack(">IBBHH", 4, 6, 6, 40000, 443)
                       + bytes(range(16)) + bytes(range(16, 32))),
    "heartbeat": msg(9, struct.pack(">QQ", 1, 123456)),
    "target_state": msg(10, struct.pack(">HHB", 7, 100, 1)),
    "sa_sync": msg(11, struct.pack(">Q", 1 << 32 | 5)),
    "lifesize_limit": msg(12, struct.pack(">IQQ", 3, 1 << 32 | 5, 1 << 20)),
}
for name, b in seeds.items():
    with open(os.path.join(d, name), "wb") as out:
        out.write(b)
PY
# IKE seeds: the scapy-made messages of tests/vectors/ike_scapy_vectors.json (scripts/ike_vectors.py)
# as datagrams, and each SK payload's inner chain as "first payload type, chain" (fuzz_ike_msg.c)
/usr/bin/python3 - <<'PY'
import json, os
d = "build-fuzz/corpus/ike"
with open("tests/vectors/ike_scapy_vectors.json", encoding="utf-8") as f:
    for v in json.load(f)["vectors"]:
        b = bytes.fromhex(v["hex"])
        with open(os.path.join(d, v["name"]), "wb") as out:
            out.write(b)
        sk = v["sk"]
        if sk:
            ct = b[sk["aad_len"] + sk["iv_len"]:len(b) - sk["icv_len"]]
            with open(os.path.join(d, v["name"] + "_inner"), "wb") as out:
                out.write(b[sk["aad_len"] - 4:sk["aad_len"] - 3] + ct[:len(ct) - 1 - sk["pad_len"]])
        # fuzz_ike_engine.c: byte 0 picks the engine state the input goes to (see its header)
        e = "build-fuzz/corpus/ike_engine"
        for mode, head in ((0, b"\x00\x00"), (0, b"\x00\x01"), (1, b"\x01")):
            with open(os.path.join(e, "%d_%s_%s" % (mode, head.hex(), v["name"])), "wb") as out:
                out.write(head + b)
        if sk:
            inner = b[sk["aad_len"] - 4:sk["aad_len"] - 3] + ct[:len(ct) - 1 - sk["pad_len"]]
            # mode 2 with byte 1 = 3 seals it as INFORMATIONAL, = 2 as CREATE_CHILD_SA
            for mode, head in ((2, b"\x02\x03"), (2, b"\x02\x02"), (3, b"\x03"), (4, b"\x04"),
                               (5, b"\x05")):
                with open(os.path.join(e, "%s_%s" % (head.hex(), v["name"])), "wb") as out:
                    out.write(head + inner)
# modes 6 and 7: the engine's own CREATE_CHILD_SA request / answer, unchanged (an empty XOR mask),
# for each of CHILD or IKE SA rekey, with or without PFS, with or without a collision
for mode in (6, 7):
    for flags in range(8):
        with open(os.path.join(e, "%d_create_child_%d" % (mode, flags)), "wb") as out:
            out.write(bytes([mode, flags]))
# and the tail of an IKE_AUTH after AUTH for modes 4 and 5, written here with struct: [N(USE_
# TRANSPORT_MODE)], SA (ESP, AES-GCM-128, no ESN), TSi, TSr
import struct
def pl(nxt, body):
    return struct.pack(">BBH", nxt, 0, 4 + len(body)) + body
def ts(a):
    return bytes([1, 0, 0, 0]) + struct.pack(">BBHHH", 7, 0, 16, 0, 65535) + bytes(a) + bytes(a)
xf = struct.pack(">BBHBBHHH", 3, 0, 12, 1, 0, 20, 0x800E, 128) + struct.pack(">BBHBBH", 0, 0, 8, 5, 0, 0)
sa = struct.pack(">BBHBBBB", 0, 0, 8 + 4 + len(xf), 1, 3, 4, 2) + bytes([0xc0, 1, 2, 3]) + xf
tail = pl(44, sa) + pl(45, ts([10, 0, 0, 2])) + pl(0, ts([10, 0, 0, 1]))
transport = pl(33, struct.pack(">BBH", 0, 0, 16391))
for mode in (4, 5):
    for name, t in (("tunnel", bytes([33]) + tail), ("transport", bytes([41]) + transport + tail)):
        with open(os.path.join(e, "%d_auth_tail_%s" % (mode, name)), "wb") as out:
            out.write(bytes([mode]) + t)
PY
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for t in esp_inbound cfg gre_decap classify dist ike_msg ike_engine; do
	corpus=build-fuzz/corpus/esp max_len=1500
	[ "$t" = cfg ] && corpus=build-fuzz/corpus/cfg max_len=16384
	[ "$t" = gre_decap ] && corpus=build-fuzz/corpus/gre max_len=1600
	[ "$t" = classify ] && corpus=build-fuzz/corpus/classify max_len=1600
	[ "$t" = dist ] && corpus=build-fuzz/corpus/dist max_len=4096
	[ "$t" = ike_msg ] && corpus=build-fuzz/corpus/ike max_len=4096
	[ "$t" = ike_engine ] && corpus=build-fuzz/corpus/ike_engine max_len=4096
	echo "=== fuzz_$t for ${secs}s"
	if build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -max_len=$max_len \
		-print_final_stats=1 "$corpus" >build-fuzz/fuzz_$t.log 2>&1; then
		grep -E 'stat::number_of_executed_units|DONE' build-fuzz/fuzz_$t.log | tail -2
	else
		tail -40 build-fuzz/fuzz_$t.log
		status=1
	fi
done
exit $status
