#!/usr/bin/env bash
# The dvipsec demo on a fresh Debian 12 machine: installs what is missing, builds, and runs what exists
# so far: the configuration examples are checked, then the router and two targets run in network
# namespaces (af_packet uplink, memif trusted links, TAPs to real kernel TCP listeners) while a scapy
# IPsec client opens TCP connections over 12 SAs (3 AEADs x tunnel/transport x raw/UDP), replays and
# forges packets; the summary and the router's telemetry are printed. Then the ESP engine benchmark.
# strongSwan as the client replaces scapy once IKEv2 lands (issues 5 and 6).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release >/dev/null
echo "== configuration examples"
for f in conf/router.json conf/target1.json conf/target2.json; do
	build/controlplane/cfg/dvipsec-cfg-check "$f"
done
echo
echo "== router + 2 targets + IPsec client with real TCP, in network namespaces"
if [ "$(id -u)" -eq 0 ]; then
	DVNS_SUFFIX=d bash tests/integration/fastpath_netns.sh build
else
	echo "(needs root: namespaces, veth, TAP)"
fi
echo
echo "== ESP engine benchmark (one core)"
bash scripts/bench-esp.sh "$@"
