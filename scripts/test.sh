#!/usr/bin/env bash
# Runs every dvipsec test on a fresh Debian 12 machine: installs the packages, builds the release and
# the sanitizer (ASan + UBSan) builds, runs the whole meson test suite in both, checks formatting, and
# runs the libFuzzer targets briefly.
# Exits non-zero if anything fails. Ends with a line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for kind in release sanitize; do
	echo "=== build ($kind)"
	bash scripts/build.sh "$kind" || { status=1; continue; }
	dir=build
	[ "$kind" = sanitize ] && dir=build-san
	echo "=== tests ($kind)"
	meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
done

echo "=== formatting (.clang-format)"
fmt=0
bash scripts/check-format.sh || { status=1; fmt=1; }

echo "=== fuzzing (libFuzzer, short run; scripts/fuzz.sh SECONDS for a long one)"
fuzz=0
bash scripts/fuzz.sh 20 || { status=1; fuzz=1; }
export DVIPSEC_EXTRA_FAILED=$((fmt + fuzz)) DVIPSEC_EXTRA_PASSED=$((2 - fmt - fuzz))

# One closing line over both builds (from meson's own logs), the format check and the fuzz run.
/usr/bin/python3 - <<'PY'
import json, os
passed = int(os.environ["DVIPSEC_EXTRA_PASSED"])
failed = int(os.environ["DVIPSEC_EXTRA_FAILED"])
skipped = 0
for d in ("build", "build-san"):
    try:
        with open(f"{d}/meson-logs/testlog.json") as f:
            for line in f:
                r = json.loads(line)["result"]
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
