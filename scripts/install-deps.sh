#!/usr/bin/env bash
# Installs every Debian package dvipsec needs to build, test, benchmark and run its demo.
# Idempotent: it runs apt-get only when a package is missing, and `apt-get update` first in that case.
set -euo pipefail

PACKAGES=(
	# build
	build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
	# libraries on the design card
	libdpdk-dev dpdk dpdk-dev libipsec-mb-dev libsodium-dev libjansson-dev libcmocka-dev
	# independent implementations and test tooling
	python3 python3-scapy python3-cryptography tshark iproute2 ethtool procps
	# the demo's first request (scripts/demo.sh)
	curl
	# benchmarks (scripts/bench/run.sh): ipsec-secgw's sources, plots
	dpdk-doc gnuplot-nox
	# real IPsec peer (kernel-libipsec, see README)
	strongswan-charon strongswan-swanctl libcharon-extra-plugins
	libstrongswan-standard-plugins libstrongswan-extra-plugins
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian ships the strongSwan charon service enabled; dvipsec runs its own charon instances in namespaces.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet strongswan-starter 2>/dev/null; then
	$SUDO systemctl stop strongswan-starter || true
fi
echo "install-deps: done"
