#!/usr/bin/env bash
# strongSwan 5.9 (charon + kernel-libipsec, Debian 12) against dvipsec-ike, the IKE engine alone on
# UDP sockets, in two network namespaces joined by a veth:
#
#   ns dvisc<N>: charon 203.0.113.10 --veth-- ns dviss<N>: dvipsec-ike 203.0.113.1 (responder)
#                                                          dvipsec-ike 203.0.113.2 (initiator)
#
# Rows (each checks `swanctl --list-sas --raw`: IKE SA ESTABLISHED, CHILD SA INSTALLED, the AEAD,
# encap=yes; and that dvipsec-ike printed exactly one child_up with the same SPIs crossed):
#   aes128 / aes256 / chacha  charon initiates with each proposal set of PEERS.md; the aes128 row
#                             also checks that charon's liveness checks (dpd_delay) are answered and
#                             that a CHILD rekey is refused with TEMPORARY_FAILURE without losing
#                             the CHILD SA; every row ends with a Delete (child_down printed).
#   invalid_ke                charon's proposal puts ecp256 first: INVALID_KE_PAYLOAD, retry with
#                             x25519.
#   wrong_psk                 charon with another PSK: AUTHENTICATION_FAILED (swanctl exits 1,
#                             charon logs the notify), no child_up.
#   reverse                   dvipsec-ike --initiate to charon as the responder.
#   ed25519                   Ed25519 raw public keys both ways (AUTH method 14, RFC 8420), with a
#                             second dvipsec-ike on 203.0.113.3 (skipped without openssl).
# Finally dvipsec-ike is stopped and its counters checked (nothing malformed, nothing undecryptable).
# No data flows here: the engine installs no SA anywhere (the router integration does that).
#
# strongSwan quirks met while writing this (5.9.8, Debian 12):
# - kernel-libipsec has no raw ESP: charon "fakes NAT" (nat-fake=yes in --list-sas) both as initiator
#   and as responder. Its NAT_DETECTION_SOURCE_IP never matches, so dvipsec-ike sees the peer behind
#   a NAT: IKE moves to 4500 after IKE_SA_INIT and the CHILD SAs are ESP-in-UDP 4500<->4500
#   (child_up encap=udp), though no NAT is there.
# - The package ships libipsec disabled and the first kernel-ipsec backend loaded wins: an explicit
#   `load` list with kernel-libipsec ahead of kernel-netlink (self-contained strongswan.conf).
# - allow_peer_ts = yes, or a CHILD SA whose selector is the IKE peer itself (the DVIPA) fails
#   ("conflicts with IKE traffic"); fwmark on socket-default and !fwmark on kernel-netlink, or
#   IKE on 4500 is routed into the TUN device.
# - charon writes /var/run/charon.pid (compiled in): `ip netns exec` gives a private mount
#   namespace, a directory is bind-mounted over /run there; swanctl needs --uri to the instance's
#   own vici socket.
# - filelog is stdio-buffered unless flush_line = yes: a running charon's log stops mid-line.
# - swanctl --initiate exits 1 on AUTHENTICATION_FAILED; the reason is only in charon's log
#   ("received AUTHENTICATION_FAILED notify error").
# - A CHILD rekey answered TEMPORARY_FAILURE: "will retry later", retried every few seconds, the
#   CHILD SA stays INSTALLED (the engine has no CREATE_CHILD_SA yet).
# - IKE_SA_INIT carries N(FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS),
#   N(REDIRECT_SUPPORTED); IKE_AUTH puts N(INITIAL_CONTACT) between IDi and IDr and
#   N(EAP_ONLY_AUTHENTICATION), N(IKEV2_MESSAGE_ID_SYNC_SUPPORTED) after TSr: unknown status
#   notifies, ignored, order irrelevant.
# - With "aes128gcm16-prfsha256-ecp256-x25519" charon sends its KE for ecp256 and retries with
#   x25519 (same SPIi) after INVALID_KE_PAYLOAD.
# - Ed25519 (auth = pubkey, pubkeys = PEM SubjectPublicKeyInfo files): the private key must lie in
#   pkcs8/ next to the file given to swanctl --load-all --file (a secrets { pkcs8 { file = } }
#   entry with an absolute path loaded nothing, silently); the pkcs8 plugin must be in the load
#   list. charon signs with method 14 only after our N(SIGNATURE_HASH_ALGORITHMS) lists Identity.
#
# Usage: ike_strongswan.sh PATH/TO/dvipsec-ike
# Exit: 0 pass, 77 skipped (not root, no strongSwan, no TUN), 1 fail. IKE_SS_KEEP=1 keeps the work
# directory (logs, configurations).
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/dvipsec-ike" >&2
	exit 2
fi
IKE_BIN=$(readlink -f "$1")
CHARON=/usr/lib/ipsec/charon
LIBIPSEC=/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth, a bind mount over /run)"
[ -x "$IKE_BIN" ] || {
	echo "FAIL: no executable $IKE_BIN"
	exit 1
}
if [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null || [ ! -f "$LIBIPSEC" ]; then
	skip "strongSwan is not installed (scripts/install-deps.sh: strongswan-charon" \
		"strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins" \
		"libstrongswan-extra-plugins)"
fi
[ -c /dev/net/tun ] || skip "no /dev/net/tun (kernel-libipsec needs a TUN device)"
command -v ip >/dev/null || skip "no ip (iproute2)"

N=$(($$ % 100000))
NS_C=dvisc$N
NS_S=dviss$N
VETH_C=dvic$N
VETH_S=dvis$N
CLIENT=203.0.113.10
DVIPA=203.0.113.1
DVIPA2=203.0.113.2
DVIPA3=203.0.113.3
PSK=0x5ca1ab1e0ddba11c0ffee0112233445566778899aabbccddeeff00112233
WRONG_PSK=0x0badc0de0ddba11c0ffee0112233445566778899aabbccddeeff00112233
WORK=$(mktemp -d /tmp/dvipsec-ike-strongswan.XXXXXX)
URI=unix://$WORK/charon.vici
PIDS=()

cleanup() {
	local rc=$?

	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for _ in $(seq 30); do
		local alive=0
		for p in "${PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	if [ -n "${IKE_SS_KEEP:-}" ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	echo "--- swanctl --list-sas"
	ip netns exec "$NS_C" swanctl --list-sas --uri "$URI" 2>&1 | tail -30
	echo "--- dvipsec-ike stdout"
	tail -20 "$WORK/ike.out" 2>/dev/null
	echo "--- dvipsec-ike stderr"
	tail -20 "$WORK/ike.err" 2>/dev/null
	echo "--- charon.log (tail)"
	tail -40 "$WORK/charon.log" 2>/dev/null
	exit 1
}

swanctl_c() {
	ip netns exec "$NS_C" swanctl "$@" --uri "$URI"
}

# ---- topology ----
ip netns add "$NS_C" || fail "ip netns add"
ip netns add "$NS_S" || fail "ip netns add"
ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S" || fail "veth"
ip -n "$NS_C" addr add $CLIENT/24 dev "$VETH_C"
ip -n "$NS_S" addr add $DVIPA/24 dev "$VETH_S"
ip -n "$NS_S" addr add $DVIPA2/24 dev "$VETH_S"
ip -n "$NS_S" addr add $DVIPA3/24 dev "$VETH_S"
for ns in "$NS_C" "$NS_S"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_C" link set "$VETH_C" up
ip -n "$NS_S" link set "$VETH_S" up

# ---- dvipsec-ike, the responder ----
"$IKE_BIN" --help >/dev/null || fail "dvipsec-ike --help"
ip netns exec "$NS_S" "$IKE_BIN" --local $DVIPA --id dvipa.example --peer-id client.example \
	--psk-hex "${PSK#0x}" --verbose >"$WORK/ike.out" 2>"$WORK/ike.err" &
IKE_PID=$!
PIDS+=("$IKE_PID")

# ---- charon ----
mkdir -p "$WORK/run"
cat >"$WORK/strongswan.conf" <<EOF
charon {
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey sha1 sha2 hmac gcm chapoly curve25519 kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	routing_table = 220
	retransmit_tries = 2
	plugins {
		kernel-libipsec {
			allow_peer_ts = yes
		}
		socket-default {
			fwmark = 0x4242
		}
		kernel-netlink {
			fwmark = !0x4242
		}
		vici {
			socket = $URI
		}
	}
	filelog {
		log {
			path = $WORK/charon.log
			default = 1
			ike = 2
			flush_line = yes
			time_format = %T
		}
	}
}
EOF
ip netns exec "$NS_C" sh -c "mount --bind '$WORK/run' /run && STRONGSWAN_CONF='$WORK/strongswan.conf' exec $CHARON" \
	>"$WORK/charon.stdout" 2>&1 &
PIDS+=("$!")

for _ in $(seq 100); do
	grep -q '^ready' "$WORK/ike.out" 2>/dev/null && [ -S "$WORK/charon.vici" ] && break
	kill -0 "$IKE_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q '^ready' "$WORK/ike.out" || fail "dvipsec-ike did not start"
[ -S "$WORK/charon.vici" ] || fail "charon did not start (no vici socket)"

# connection NAME IKE_PROPOSAL ESP_PROPOSAL SECRET LOCAL_ID REMOTE_ADDR REMOTE_ID [EXTRA]
write_conf() {
	cat >"$WORK/swanctl-$1.conf" <<EOF
connections {
	$1 {
		version = 2
		local_addrs = $CLIENT
		remote_addrs = $6
		proposals = $2
		mobike = no
		${8:-}
		local {
			auth = psk
			id = $5
		}
		remote {
			auth = psk
			id = $7
		}
		children {
			$1 {
				esp_proposals = $3
				mode = tunnel
			}
		}
	}
}
secrets {
	ike-$1 {
		id-1 = $5
		id-2 = $7
		secret = $4
	}
}
EOF
	swanctl_c --load-all --file "$WORK/swanctl-$1.conf" >>"$WORK/swanctl.log" 2>&1 ||
		fail "$1: swanctl --load-all"
}

# The CHILD SA of connection $1 as charon lists it: sets SA_RAW, SPI_IN, SPI_OUT.
read_child() {
	SA_RAW=$(swanctl_c --list-sas --ike "$1" --raw 2>&1)
	SPI_IN=$(sed -n 's/.* spi-in=\([0-9a-f]*\) .*/\1/p' <<<"$SA_RAW")
	SPI_OUT=$(sed -n 's/.* spi-out=\([0-9a-f]*\) .*/\1/p' <<<"$SA_RAW")
}

# check_child CONN CHILD_ALG AEAD OUTFILE: charon has it INSTALLED, dvipsec-ike printed one
# child_up with the same SPIs crossed; sets CHILD_ID
check_child() {
	local conn=$1 alg=$2 aead=$3 out=$4 line

	read_child "$conn"
	grep -q "state=ESTABLISHED" <<<"$SA_RAW" || fail "$conn: IKE SA not ESTABLISHED"
	grep -q "state=INSTALLED" <<<"$SA_RAW" || fail "$conn: CHILD SA not INSTALLED"
	grep -q "mode=TUNNEL protocol=ESP encap=yes" <<<"$SA_RAW" || fail "$conn: not ESP-in-UDP"
	grep -q "child-sas.*encr-alg=$alg" <<<"$SA_RAW" || fail "$conn: CHILD SA not $alg"
	[ -n "$SPI_IN" ] && [ -n "$SPI_OUT" ] || fail "$conn: no SPIs in --list-sas --raw"
	line=$(grep -c "^child_up .* spi_in=0x$SPI_OUT spi_out=0x$SPI_IN aead=$aead mode=tunnel encap=udp" "$out")
	[ "$line" -eq 1 ] || fail "$conn: dvipsec-ike printed $line child_up with spi_in=0x$SPI_OUT spi_out=0x$SPI_IN aead=$aead"
	CHILD_ID=$(grep "spi_in=0x$SPI_OUT" "$out" | sed -n 's/^child_up id=\([0-9]*\) .*/\1/p')
}

ROWS=0
row() {
	ROWS=$((ROWS + 1))
	printf "  %-12s ok  %s\n" "$1" "$2"
}

# ---- charon initiates, one row per proposal set ----
while read -r name ike esp alg aead; do
	conn=dv-$name
	extra=""
	[ "$name" = aes128 ] && extra="dpd_delay = 1s"
	write_conf "$conn" "$ike" "$esp" "$PSK" client.example $DVIPA dvipa.example "$extra"
	timeout 40 ip netns exec "$NS_C" swanctl --initiate --child "$conn" --timeout 30 --uri "$URI" \
		>"$WORK/initiate-$name.log" 2>&1 || fail "$conn: swanctl --initiate failed"
	check_child "$conn" "$alg" "$aead" "$WORK/ike.out"
	extra_note=""
	if [ "$name" = aes128 ]; then
		# liveness checks of charon (dpd_delay 1s) answered: empty INFORMATIONAL responses
		sleep 2.5
		grep -qE "parsed INFORMATIONAL response [0-9]+ \[ \]" "$WORK/charon.log" ||
			fail "$conn: no answered liveness check in charon.log"
		# a CHILD rekey: TEMPORARY_FAILURE, and the CHILD SA stays
		swanctl_c --rekey --child "$conn" >>"$WORK/swanctl.log" 2>&1 || fail "$conn: swanctl --rekey"
		for _ in $(seq 30); do
			grep -q "received TEMPORARY_FAILURE notify" "$WORK/charon.log" && break
			sleep 0.1
		done
		grep -q "received TEMPORARY_FAILURE notify" "$WORK/charon.log" ||
			fail "$conn: CHILD rekey not answered TEMPORARY_FAILURE"
		old_in=$SPI_IN
		read_child "$conn"
		[ "$SPI_IN" = "$old_in" ] && grep -q "state=INSTALLED" <<<"$SA_RAW" ||
			fail "$conn: CHILD SA lost after the refused rekey"
		extra_note=", liveness answered, rekey refused (TEMPORARY_FAILURE), CHILD SA kept"
	fi
	swanctl_c --terminate --ike "$conn" --timeout 10 >>"$WORK/swanctl.log" 2>&1 ||
		fail "$conn: swanctl --terminate"
	for _ in $(seq 30); do
		grep -q "^child_down id=$CHILD_ID\$" "$WORK/ike.out" && break
		sleep 0.1
	done
	grep -q "^child_down id=$CHILD_ID\$" "$WORK/ike.out" || fail "$conn: no child_down id=$CHILD_ID"
	row "$name" "$ike / $esp: SPIs in 0x$SPI_OUT out 0x$SPI_IN, Delete -> child_down$extra_note"
done <<'EOF'
aes128 aes128gcm16-prfsha256-x25519 aes128gcm16 AES_GCM_16 aes128gcm16
aes256 aes256gcm16-prfsha384-x25519 aes256gcm16 AES_GCM_16 aes256gcm16
chacha chacha20poly1305-prfsha256-x25519 chacha20poly1305 CHACHA20_POLY1305 chacha20poly1305
EOF

# ---- INVALID_KE_PAYLOAD: charon guesses ecp256 first ----
write_conf dv-ke aes128gcm16-prfsha256-ecp256-x25519 aes128gcm16 "$PSK" client.example $DVIPA \
	dvipa.example
timeout 40 ip netns exec "$NS_C" swanctl --initiate --child dv-ke --timeout 30 --uri "$URI" \
	>"$WORK/initiate-ke.log" 2>&1 || fail "dv-ke: swanctl --initiate failed"
grep -q "N(INVAL_KE)" "$WORK/initiate-ke.log" || fail "dv-ke: charon saw no INVALID_KE_PAYLOAD"
grep -q "dh-group=CURVE_25519" <<<"$(swanctl_c --list-sas --ike dv-ke --raw)" ||
	fail "dv-ke: not x25519 after the retry"
check_child dv-ke AES_GCM_16 aes128gcm16 "$WORK/ike.out"
swanctl_c --terminate --ike dv-ke --timeout 10 >>"$WORK/swanctl.log" 2>&1
row invalid_ke "ecp256 KE refused with INVALID_KE_PAYLOAD(31), x25519 retry established"

# ---- a wrong PSK ----
ups=$(grep -c '^child_up' "$WORK/ike.out")
write_conf dv-bad aes128gcm16-prfsha256-x25519 aes128gcm16 "$WRONG_PSK" client.example $DVIPA \
	dvipa.example
if timeout 40 ip netns exec "$NS_C" swanctl --initiate --child dv-bad --timeout 30 --uri "$URI" \
	>"$WORK/initiate-bad.log" 2>&1; then
	fail "dv-bad: swanctl --initiate succeeded with a wrong PSK"
fi
grep -q "received AUTHENTICATION_FAILED notify error" "$WORK/charon.log" ||
	fail "dv-bad: no AUTHENTICATION_FAILED in charon.log"
grep -q "AUTH does not verify" "$WORK/ike.err" || fail "dv-bad: dvipsec-ike did not log the refusal"
[ "$(grep -c '^child_up' "$WORK/ike.out")" -eq "$ups" ] || fail "dv-bad: a child_up after all"
row wrong_psk "AUTHENTICATION_FAILED (swanctl --initiate exits 1), no child_up"

# ---- dvipsec-ike initiates, charon responds ----
write_conf dv-rev aes256gcm16-prfsha384-x25519 aes256gcm16 "$PSK" client.example $DVIPA2 \
	dvipa2.example
timeout 40 ip netns exec "$NS_S" "$IKE_BIN" --local $DVIPA2 --id dvipa2.example \
	--peer-id client.example --psk-hex "${PSK#0x}" --esp aes256gcm16 \
	--ike aes256gcm16-prfsha384-x25519 --initiate $CLIENT --exit-after 1 --timeout 30 \
	>"$WORK/ike-rev.out" 2>"$WORK/ike-rev.err" || fail "dv-rev: dvipsec-ike --initiate failed"
check_child dv-rev AES_GCM_16 aes256gcm16 "$WORK/ike-rev.out"
row reverse "dvipsec-ike initiating, charon responding (it fakes NAT too): SPIs 0x$SPI_OUT/0x$SPI_IN"

# ---- Ed25519 raw public keys, both ways ----
if command -v openssl >/dev/null; then
	mkdir -p "$WORK/pkcs8"
	openssl genpkey -algorithm ed25519 -out "$WORK/pkcs8/client.key" 2>/dev/null ||
		fail "openssl genpkey ed25519"
	openssl pkey -in "$WORK/pkcs8/client.key" -pubout -out "$WORK/client.pub.pem"
	CLIENT_PK=$(openssl pkey -in "$WORK/pkcs8/client.key" -pubout -outform DER | tail -c 32 |
		od -An -tx1 | tr -d ' \n')
	SEED=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	DV_PK=$("$IKE_BIN" --print-pubkey --ed25519-seed-hex "$SEED") || fail "dvipsec-ike --print-pubkey"
	/usr/bin/python3 -c 'import base64, sys
print("-----BEGIN PUBLIC KEY-----")
print(base64.b64encode(bytes.fromhex("302a300506032b6570032100" + sys.argv[1])).decode())
print("-----END PUBLIC KEY-----")' "$DV_PK" >"$WORK/dvipa3.pub.pem"
	ip netns exec "$NS_S" "$IKE_BIN" --local $DVIPA3 --id dvipa3.example --peer-id client.example \
		--ed25519-seed-hex "$SEED" --peer-pubkey-hex "$CLIENT_PK" --verbose \
		>"$WORK/ike-ed.out" 2>"$WORK/ike-ed.err" &
	PIDS+=("$!")
	for _ in $(seq 50); do
		grep -q '^ready' "$WORK/ike-ed.out" 2>/dev/null && break
		sleep 0.1
	done
	cat >"$WORK/swanctl-dv-ed.conf" <<EOF
connections {
	dv-ed {
		version = 2
		local_addrs = $CLIENT
		remote_addrs = $DVIPA3
		proposals = chacha20poly1305-prfsha256-x25519
		mobike = no
		local {
			auth = pubkey
			pubkeys = $WORK/client.pub.pem
			id = client.example
		}
		remote {
			auth = pubkey
			pubkeys = $WORK/dvipa3.pub.pem
			id = dvipa3.example
		}
		children {
			dv-ed {
				esp_proposals = chacha20poly1305
			}
		}
	}
}
EOF
	swanctl_c --load-all --file "$WORK/swanctl-dv-ed.conf" >>"$WORK/swanctl.log" 2>&1 ||
		fail "dv-ed: swanctl --load-all"
	timeout 40 ip netns exec "$NS_C" swanctl --initiate --child dv-ed --timeout 30 --uri "$URI" \
		>"$WORK/initiate-ed.log" 2>&1 || fail "dv-ed: swanctl --initiate failed"
	grep -q "authentication of 'dvipa3.example' with ED25519 successful" "$WORK/charon.log" ||
		fail "dv-ed: charon did not verify our Ed25519 AUTH"
	check_child dv-ed CHACHA20_POLY1305 chacha20poly1305 "$WORK/ike-ed.out"
	row ed25519 "AUTH method 14 both ways (charon: \"with ED25519 successful\"), CHILD SA up"
else
	echo "  ed25519      skipped: no openssl to make charon's key"
fi

# ---- dvipsec-ike's counters ----
kill "$IKE_PID"
for _ in $(seq 30); do
	kill -0 "$IKE_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$IKE_PID" || fail "dvipsec-ike exited with status $? on SIGTERM"
stats=$(grep '^stats' "$WORK/ike.out")
for want in ike_sa_up=4 child_sa_up=4 invalid_ke=1 auth_failed=1 bad_message=0 bad_icv=0 \
	unknown_spi=0 dead_peers=0; do
	grep -q " $want " <<<"$stats " || fail "dvipsec-ike counters: want $want in: $stats"
done
grep -qE " create_child_refused=[1-9]" <<<"$stats" || fail "no create_child_refused in: $stats"
row counters "$(grep -oE 'rx=[0-9]+ tx=[0-9]+' <<<"$stats"), nothing malformed or undecryptable"
echo "PASS: $ROWS rows"
