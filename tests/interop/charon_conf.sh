# shellcheck shell=bash
# Sourced by the strongSwan interop tests: the one charon set-up that works on this machine type
# (see ../shared/PEERS.md): kernel-libipsec loaded before kernel-netlink, routes in table 220,
# fwmarks so charon's own UDP never enters the TUN, the peer's address allowed as a selector, its
# own vici socket, a line-flushed file log.
#
# charon_conf OUT VICI_URI LOG [CHARON_LINES [LOG_LINES]]: writes strongswan.conf to OUT.
charon_conf() {
	cat >"$1" <<EOF
charon {
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey sha1 sha2 hmac gcm chapoly curve25519 kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	routing_table = 220
	retransmit_tries = 2
	${4:-}
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
			socket = $2
		}
	}
	filelog {
		log {
			path = $3
			default = 1
			ike = 2
			${5:-}
			flush_line = yes
			time_format = %T
		}
	}
}
EOF
}
