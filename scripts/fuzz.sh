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
	tests/fuzz/fuzz_classify >/dev/null

mkdir -p build-fuzz/corpus/esp build-fuzz/corpus/cfg build-fuzz/corpus/gre build-fuzz/corpus/classify
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
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for t in esp_inbound cfg gre_decap classify; do
	corpus=build-fuzz/corpus/esp max_len=1500
	[ "$t" = cfg ] && corpus=build-fuzz/corpus/cfg max_len=16384
	[ "$t" = gre_decap ] && corpus=build-fuzz/corpus/gre max_len=1600
	[ "$t" = classify ] && corpus=build-fuzz/corpus/classify max_len=1600
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
