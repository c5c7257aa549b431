#!/usr/bin/env bash
# IKE_SA + CHILD_SA set-ups per second on one responder core (issue 5): the same initiator load
# against strongSwan's charon (5.9.8, kernel-libipsec) and against dvipsec-ike (our engine on UDP
# sockets), each responder pinned to one CPU with taskset (charon's worker threads included: the
# whole process), the initiator on another CPU:
#
#   ns dvibi<N>: dvipsec-ike-load 198.18.0.2 --veth-- ns dvibr<N>: charon | dvipsec-ike 198.18.0.1
#                                                                  (10.200.0.1/32 on lo)
#
# The load (tests/bench/ike_load.c): a window of IKE SAs in flight, each IKE_SA_INIT (AES-GCM-16-128,
# PRF HMAC-SHA2-256, X25519) + IKE_AUTH (PSK, FQDN IDs, no INITIAL_CONTACT, one tunnel-mode ESP
# AES-GCM-16-128 CHILD SA 10.100.0.0/16 <-> 10.200.0.0/16) + an INFORMATIONAL Delete of the IKE SA.
# It claims to be behind a NAT, so both responders do what kernel-libipsec forces on charon anyway:
# IKE_AUTH on port 4500, a UDP-encapsulated CHILD SA.
#
# Fair settings (each responder configured for this load, neither doing work the other skips):
# - one IKE proposal and one ESP proposal, the same on both; PSK; no rekeying (charon rekey_time = 0
#   on the IKE SA and CHILD SA, life_time = 0; dvipsec-ike has no rekey by default), no DPD, no
#   MOBIKE, no NAT keepalives (charon keep_alive = 0), no CERTREQ;
# - charon: unique = never (no INITIAL_CONTACT is sent either), dos_protection = no (its default
#   blocks more than 5 half-open SAs per peer address; dvipsec-ike has no cookie threshold by
#   default), ikesa_table_size 4096 (its default hash table has ONE bucket), 16 threads (its
#   default; BENCH_IKE_THREADS; with 4 or fewer, none is left for work and vici never answers),
#   kernel-libipsec (the kernel here has no XFRM: CHILD SAs are
#   installed into charon's userspace SAD/SPD; it also installs one route via ipsec0 per selector
#   pair, which needs a local address inside the local selector: 10.200.0.1 on lo);
# - logging: charon's file log at level 0 (4 lines per set-up: initiating, established, deleting,
#   deleted), -q sets it to -1 (silent); dvipsec-ike logs as it always does (child_up/child_down
#   lines on stdout, established/deleted/child down on stderr), both to files in the work
#   directory.
#
# Each responder runs RUNS times (fresh process each time; default 3) for SECONDS (default 10,
# after a 1 s warm-up); the table gives medians with min-max of set-ups/s, the responder's CPU
# (user + system of all its threads over the same interval, % of one CPU), set-ups per CPU-second
# of the responder (rate / CPU share: the figure least disturbed by other load on a shared
# machine), failures, retransmits, median set-up latency and other_cpu; once over all runs, once
# over the quiet ones (other_cpu under 10%). Load averages are printed before and after. Needs root
# (namespaces, ports 500/4500, a bind mount over /run for charon's pid file).
#
# Usage: scripts/bench-ike.sh [-d SECONDS] [-n RUNS] [-w WINDOW] [-R CPU] [-I CPU] [-q]
#                             [-i IDLE_WAIT] [-o charon|dvipsec|both]
# Before each run it waits up to IDLE_WAIT seconds (default 60, 0: not at all) for the CPUs to be
# 90% idle; each run's other_cpu (what the rest of the machine did meanwhile) is in the table.
# DVIPSEC_BUILD=dir uses another build (default build/); BENCH_IKE_KEEP=1 keeps the work directory.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

secs=10
runs=3
window=64
rcpu=1
icpu=0
only=both
charon_level=0
idle_wait=60
while getopts "d:n:w:R:I:o:qi:h" opt; do
	case $opt in
	d) secs=$OPTARG ;;
	n) runs=$OPTARG ;;
	w) window=$OPTARG ;;
	R) rcpu=$OPTARG ;;
	I) icpu=$OPTARG ;;
	o) only=$OPTARG ;;
	q) charon_level=-1 ;;
	i) idle_wait=$OPTARG ;;
	*)
		sed -n '/^# Usage/,/^# DVIPSEC/p' "$0" | sed 's/^# //'
		exit 2
		;;
	esac
done
case $only in charon | dvipsec | both) ;; *)
	echo "-o: charon, dvipsec or both" >&2
	exit 2
	;;
esac

[ "$(id -u)" -eq 0 ] || {
	echo "bench-ike: needs root (network namespaces, ports 500/4500, a bind mount)" >&2
	exit 2
}
build=${DVIPSEC_BUILD:-build}
IKE_BIN=$build/controlplane/ike/dvipsec-ike
LOAD_BIN=$build/controlplane/ike/dvipsec-ike-load
CHARON=/usr/lib/ipsec/charon
LIBIPSEC=/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so
if [ ! -x "$CHARON" ] || [ ! -f "$LIBIPSEC" ] || ! command -v swanctl >/dev/null ||
	! command -v ip >/dev/null || ! command -v taskset >/dev/null; then
	bash scripts/install-deps.sh || exit 1
fi
if [ ! -x "$IKE_BIN" ] || [ ! -x "$LOAD_BIN" ]; then
	if [ "$build" = build ]; then
		bash scripts/build.sh release >/dev/null || exit 1
	else
		ninja -C "$build" controlplane/ike/dvipsec-ike controlplane/ike/dvipsec-ike-load \
			>/dev/null || exit 1
	fi
fi
[ -c /dev/net/tun ] || {
	echo "bench-ike: no /dev/net/tun (charon's kernel-libipsec needs a TUN device)" >&2
	exit 2
}
IKE_BIN=$(readlink -f "$IKE_BIN")
LOAD_BIN=$(readlink -f "$LOAD_BIN")

N=$(($$ % 100000))
NS_I=dvibi$N
NS_R=dvibr$N
RESP=198.18.0.1 # RFC 2544 benchmarking addresses
INIT=198.18.0.2
PSK=5ca1ab1e0ddba11c0ffee0112233445566778899aabbccddeeff00112233
WORK=$(mktemp -d /tmp/dvipsec-bench-ike.XXXXXX)
URI=unix://$WORK/charon.vici
RPID=
LPID=

stop_responder() {
	[ -n "$RPID" ] || return 0
	kill "$RPID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
}

cleanup() {
	local rc=$?

	trap - EXIT INT TERM
	[ -z "$LPID" ] || kill "$LPID" 2>/dev/null
	stop_responder
	ip netns del "$NS_I" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	if [ -n "${BENCH_IKE_KEEP:-}" ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() {
	echo "bench-ike: $*" >&2
	exit 1
}

# ---- topology ----
ip netns add "$NS_I" || die "ip netns add"
ip netns add "$NS_R" || die "ip netns add"
ip link add "vbi$N" netns "$NS_I" type veth peer name "vbr$N" netns "$NS_R" || die "veth"
ip -n "$NS_I" addr add $INIT/24 dev "vbi$N"
ip -n "$NS_R" addr add $RESP/24 dev "vbr$N"
ip -n "$NS_R" addr add 10.200.0.1/32 dev lo
for ns in "$NS_I" "$NS_R"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_I" link set "vbi$N" up
ip -n "$NS_R" link set "vbr$N" up

# ---- charon: one self-contained strongswan.conf (no /etc/strongswan.d), cf. tests/interop ----
cat >"$WORK/strongswan.conf" <<EOF
charon {
	load = random nonce openssl sha2 hmac gcm curve25519 kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = no
	ikesa_table_size = 4096
	ikesa_table_segments = 16
	dos_protection = no
	keep_alive = 0
	threads = ${BENCH_IKE_THREADS:-16}
	plugins {
		vici {
			socket = $URI
		}
	}
	filelog {
		log {
			path = $WORK/charon.log
			default = $charon_level
			flush_line = yes
			time_format = %T
		}
		stderr {
			default = -1
		}
	}
}
EOF
cat >"$WORK/swanctl.conf" <<EOF
connections {
	load {
		version = 2
		local_addrs = $RESP
		remote_addrs = %any
		proposals = aes128gcm16-prfsha256-x25519
		unique = never
		mobike = no
		rekey_time = 0
		send_certreq = no
		local {
			auth = psk
			id = responder.example
		}
		remote {
			auth = psk
			id = initiator.example
		}
		children {
			net {
				local_ts = 10.200.0.0/16
				remote_ts = 10.100.0.0/16
				esp_proposals = aes128gcm16
				mode = tunnel
				rekey_time = 0
				life_time = 0
			}
		}
	}
}
secrets {
	ike-load {
		id-1 = initiator.example
		id-2 = responder.example
		secret = 0x$PSK
	}
}
EOF
mkdir -p "$WORK/run"

start_charon() {
	: >"$WORK/charon.log"
	rm -f "$WORK/charon.vici"
	ip netns exec "$NS_R" sh -c "mount --bind '$WORK/run' /run && STRONGSWAN_CONF='$WORK/strongswan.conf' exec taskset -c $rcpu $CHARON" \
		>"$WORK/charon.stdout" 2>&1 &
	RPID=$!
	for _ in $(seq 300); do
		[ -S "$WORK/charon.vici" ] && break
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$WORK/charon.vici" ] || die "charon did not start: $(tail -3 "$WORK/charon.stdout")"
	# charon with too few threads (under ~8 here) never answers vici: time out instead of hanging
	timeout 20 ip netns exec "$NS_R" swanctl --load-all --file "$WORK/swanctl.conf" --uri "$URI" \
		>"$WORK/swanctl.log" 2>&1 || die "swanctl --load-all: $(tail -3 "$WORK/swanctl.log")"
}

start_dvipsec() {
	ip netns exec "$NS_R" taskset -c "$rcpu" "$IKE_BIN" --local $RESP --id responder.example \
		--peer-id initiator.example --psk-hex $PSK --ike aes128gcm16-prfsha256-x25519 \
		--esp aes128gcm16 --local-ts 10.200.0.0/16 --remote-ts 10.100.0.0/16 \
		>"$WORK/ike.out" 2>"$WORK/ike.err" &
	RPID=$!
	for _ in $(seq 300); do # ip netns exec can wait seconds while other tests tear down netns
		grep -q '^ready' "$WORK/ike.out" 2>/dev/null && break
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^ready' "$WORK/ike.out" || die "dvipsec-ike did not start: $(tail -3 "$WORK/ike.err")"
}

# idle_pct: % of all CPUs idle over the next second
idle_pct() {
	local a b c d i1 t1

	read -r _ a b c d _ </proc/stat
	t1=$((a + b + c + d))
	i1=$d
	sleep 1
	read -r _ a b c d _ </proc/stat
	echo $((100 * (d - i1) / (a + b + c + d - t1 + 1)))
}

# wait_idle: other engineers' tests share the machine; start a run when the CPUs are idle (90% over
# a second), giving up after idle_wait seconds (the run's other_cpu column shows what it met)
wait_idle() {
	local t=0 idle

	[ "$idle_wait" -gt 0 ] || return 0
	while idle=$(idle_pct) && [ "$idle" -lt 90 ] && [ $t -lt "$idle_wait" ]; do
		t=$((t + 1))
	done
	[ "$idle" -ge 90 ] || echo "  (machine still busy after ${idle_wait}s: ${idle}% idle)"
}

# run_one NAME: one measurement against a fresh responder; appends the result line to NAME.res
run_one() {
	wait_idle
	"start_$1"
	ip netns exec "$NS_I" taskset -c "$icpu" "$LOAD_BIN" --local $INIT --remote $RESP \
		--id initiator.example --peer-id responder.example --psk-hex $PSK \
		--window "$window" --duration "$secs" --warmup 1 --watch-pid "$RPID" \
		>"$WORK/load.out" 2>"$WORK/load.err" &
	LPID=$!
	wait "$LPID" # in the background: a signal runs the trap at once
	local rc=$?
	LPID=
	stop_responder
	[ $rc -eq 0 ] || die "$1: dvipsec-ike-load failed: $(cat "$WORK/load.out" "$WORK/load.err")"
	grep '^result' "$WORK/load.out" >>"$WORK/$1.res"
	echo "  $1 run $2: $(sed -n 's/^result //p' "$WORK/load.out")"
	grep '^notifies .' "$WORK/load.out" | sed 's/^/    /'
	return 0
}

# field FILE KEY: the values of KEY= over the result lines in FILE (work directory), one per line
field() {
	sed -n "s/.* $2=\([-0-9.]*\).*/\1/p" "$WORK/$1"
}

# stat: "median (min-max)" of numbers on stdin
stat() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f (%.0f-%.0f)", m, v[1], v[NR] }'
}

per_cpu() {
	paste <(field "$1" rate) <(field "$1" responder_cpu) |
		awk '$2 > 0 { printf "%.0f\n", $1 * 100 / $2 }'
}

echo "IKE set-up rate: responder on CPU $rcpu, initiator on CPU $icpu, window $window," \
	"$runs x ${secs}s; $(nproc) CPUs"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
names=()
[ "$only" = dvipsec ] || names+=(charon)
[ "$only" = charon ] || names+=(dvipsec)
for r in $(seq "$runs"); do
	for name in "${names[@]}"; do
		run_one "$name" "$r"
	done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

# table SUFFIX TITLE: one row per responder from the runs in NAME.SUFFIX
table() {
	echo
	echo "$2"
	printf '%-22s %-20s %-16s %-20s %-12s %-12s %-16s %s\n' responder "set-ups/s" \
		"responder CPU %" "set-ups per CPU-s" failures retransmits "p50 latency ms" \
		"other CPU %"
	for name in "${names[@]}"; do
		local label="dvipsec-ike" f="$name.$1"

		[ "$name" = charon ] && label="charon 5.9.8 (${BENCH_IKE_THREADS:-16} thr)"
		[ -s "$WORK/$f" ] || {
			printf '%-22s no run\n' "$label"
			continue
		}
		printf '%-22s %-20s %-16s %-20s %-12s %-12s %-16s %s\n' "$label" \
			"$(field "$f" rate | stat)" "$(field "$f" responder_cpu | stat)" \
			"$(per_cpu "$f" | stat)" "$(field "$f" failures | stat)" \
			"$(field "$f" retransmits | stat)" \
			"$(field "$f" latency_ms_p50 | sort -g | awk '{ v[NR] = $1 } END {
				printf "%.1f (%.1f-%.1f)", v[int((NR + 1) / 2)], v[1], v[NR] }')" \
			"$(field "$f" other_cpu | stat)"
	done
}

for name in "${names[@]}"; do
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^other_cpu=/) { split($i, kv, "=");
		if (kv[2] < 10) print } }' "$WORK/$name.res" >"$WORK/$name.quiet"
done
table res "All runs: median (min-max)"
table quiet "Quiet runs only (the rest of the machine used under 10% of a CPU meanwhile)"
