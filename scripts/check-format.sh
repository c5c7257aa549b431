#!/usr/bin/env bash
# Fails if a tracked C file differs from what clang-format (the repo's .clang-format) makes of it.
# With --fix, rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--fix" ]; then
	clang-format -i "${files[@]}"
	exit 0
fi
bad=0
for f in "${files[@]}"; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (scripts/check-format.sh --fix)"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "formatting: ${#files[@]} files clean"
exit $bad
