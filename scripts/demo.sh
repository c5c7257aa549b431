#!/usr/bin/env bash
# The dvipsec demo on a fresh Debian 12 machine: installs what is missing, builds, and runs what exists
# so far. Today that is the ESP engine: it checks the configuration examples, then prints the engine's
# per-core benchmark (decrypt/encrypt against raw IPsec-MB, and the router's peek).
# The full appliance demo (router, targets, strongSwan client, real TCP) replaces this as it lands.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release >/dev/null
echo "== configuration examples"
for f in conf/router.json conf/target1.json conf/target2.json; do
	build/controlplane/cfg/dvipsec-cfg-check "$f"
done
echo
echo "== ESP engine benchmark (one core)"
bash scripts/bench-esp.sh "$@"
