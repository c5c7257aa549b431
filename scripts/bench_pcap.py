#!/usr/bin/python3
"""Packet files for the fast-path benchmarks (scripts/bench-router.sh).

router: Ethernet frames carrying ESP (AES-128-GCM, tunnel, inner TCP) from many flows to the
        DVIPA, as the router's uplink receives them: per flow one SYN, then data segments.
target: the same ESP packets wrapped as the router sends them over a trusted link (GRE key = slot).
The ESP payload (inner IP packet) is --size bytes. By default each flow's packets come in a train
(as a TCP window does); --interleave sends them round robin over the flows (no two in a row). Keys are the bench config's, printed by --keys.
"""
import argparse
import struct

from scapy.all import GRE, IP, TCP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

KEY = bytes.fromhex("0102030405060708090a0b0c0d0e0f10cafebabe")
SPI = 0x5001
PCAP_MAC = "02:70:63:61:70:00"  # DPDK net_pcap's MAC for its first port


def esp_packets(size, flows, per_flow, interleave=False):
    sa = SecurityAssociation(ESP, spi=SPI, crypt_algo="AES-GCM", crypt_key=KEY,
                             tunnel_header=IP(src="192.0.2.10", dst="192.0.2.1"))
    seq = 1
    out = []
    order = ([(f, k) for k in range(per_flow) for f in range(flows)] if interleave
             else [(f, k) for f in range(flows) for k in range(per_flow)])
    for f, k in order:
        flags = "S" if k == 0 else "A"
        inner = IP(src="198.51.100.10", dst="192.0.2.1") / TCP(
            sport=10000 + f, dport=5001, flags=flags, seq=1000 + k)
        pad = size - len(inner)
        if pad > 0:
            inner = inner / Raw(b"x" * pad)
        out.append(sa.encrypt(inner, seq_num=seq))
        seq += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["router", "target"])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--flows", type=int, default=256)
    ap.add_argument("--per-flow", type=int, default=8)
    ap.add_argument("--slot", type=int, default=0)
    ap.add_argument("--interleave", action="store_true",
                    help="round robin over the flows instead of each flow's packets in a train")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    pkts = esp_packets(a.size, a.flows, a.per_flow, a.interleave)
    if a.kind == "router":
        frames = [Ether(dst=PCAP_MAC, src="02:00:00:00:00:0a") / p for p in pkts]
    else:
        frames = [Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01") /
                  IP(src="169.254.1.1", dst="169.254.1.2", flags="DF", ttl=64) /
                  GRE(key_present=1, key=a.slot, proto=0x0800) / p for p in pkts]
    wrpcap(a.out, frames)
    print(f"{a.out}: {len(frames)} frames, ESP payload {a.size} B, "
          f"frame {len(frames[0])} B, {a.flows} flows")


if __name__ == "__main__":
    main()
