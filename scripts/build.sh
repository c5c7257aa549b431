#!/usr/bin/env bash
# Configures and builds dvipsec. Usage: scripts/build.sh [release|sanitize] (default release).
#   release  -> build/      (-O3, what the demo and benchmarks run)
#   sanitize -> build-san/  (ASan + UBSan, debug; what the tests run as well)
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
release)
	dir=build
	opts=(--buildtype=release)
	;;
sanitize)
	dir=build-san
	# b_lundef=false: the sanitizer runtimes resolve some symbols at load time
	opts=(--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false)
	;;
*)
	echo "usage: $0 [release|sanitize]" >&2
	exit 2
	;;
esac

if [ -f "$dir/build.ninja" ]; then
	meson configure "$dir" "${opts[@]}" >/dev/null
else
	meson setup "$dir" "${opts[@]}" >/dev/null
fi
ninja -C "$dir"
