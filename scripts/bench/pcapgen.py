#!/usr/bin/python3
"""Traffic files for scripts/bench/run.sh (and for a hardware generator, docs/benchmarks.md).

Every packet is built from bytes and sealed with python3-cryptography (AES-GCM, RFC 4106;
ChaCha20-Poly1305, RFC 7634), so a million flows take seconds; `selftest` decrypts samples of
every kind with scapy's own ESP to show the two agree.

kinds (the peer is 192.0.2.10, the DVIPA 192.0.2.1; inner peer addresses 198.18.0.0/15):
  esp    Ethernet / IPv4 / [UDP 4500] / ESP tunnel (inner IPv4 / TCP to the DVIPA port 5001), as a
         router's uplink, or ipsec-secgw's unprotected port, receives it. The inner TCP payload is
         --size bytes (the inner IP packet 40 more). --flows distinct connections, --per-flow
         packets each (the first a SYN), in trains or --interleave'd, spread round robin over
         --sas SAs (SPI 0x10000 + i). --gre wraps each packet as the router sends it to target 1
         over the trusted link (GRE key = the SA's slot = i).
  plain  the cleartext the same connections answer with (DVIPA:5001 -> peer): what a target
         reads from its TAP, or ipsec-secgw's protected port, before outbound encryption.
  conf   prints the SAs (JSON: spi, key, aead, direction per slot) that the files use.
The destination MAC is net_pcap's (02:70:63:61:70:00) unless --dst-mac names a NIC's.

Keys are derived from (aead, direction, slot), so the configs written by run.sh and the files
agree without passing keys around. Sequence numbers start at 1 per SA and go up across the file;
replaying the file repeats them (anti-replay must be off on the receiver, as run.sh sets it).
"""
import argparse
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

AEADS = {  # name: (key bytes without the 4-byte salt, class, scapy name, secgw name)
    "aes128gcm16": (16, AESGCM, "AES-GCM", "aes-128-gcm"),
    "aes256gcm16": (32, AESGCM, "AES-GCM", "aes-256-gcm"),
    "chacha20poly1305": (32, ChaCha20Poly1305, "CHACHA20-POLY1305", "chacha20-poly1305"),
}
PEER, DVIPA = "192.0.2.10", "192.0.2.1"
PEER_MAC, PCAP_MAC = "02:00:00:00:00:0a", "02:70:63:61:70:00"  # net_pcap's first port's MAC
TAP_KERNEL_MAC = "02:00:00:00:00:0b"
SPI_IN, SPI_OUT = 0x10000, 0x20000
DPORT = 5001
LINK_ROUTER, LINK_TARGET = "169.254.1.1", "169.254.1.2"


def sa_key(aead, direction, slot):
    """key || salt of one SA, hex."""
    n = AEADS[aead][0] + 4
    return hashlib.shake_256(f"dvipsec-bench {aead} {direction} {slot}".encode()).hexdigest(n)


def sa_list(aead, n_sas, directions=("inbound", "outbound")):
    """The SAs the traffic uses, in slot order: per slot, inbound then outbound if both given."""
    out = []
    for i in range(n_sas):
        for d in directions:
            out.append({"slot": i, "direction": d, "aead": aead,
                        "spi": (SPI_IN if d == "inbound" else SPI_OUT) + i,
                        "key": sa_key(aead, d, i)})
    return out


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def csum_add(data, acc=0):
    if len(data) % 2:
        data += b"\0"
    acc += sum(struct.unpack(f"!{len(data) // 2}H", data))
    return acc


def csum_fold(acc):
    while acc >> 16:
        acc = (acc & 0xffff) + (acc >> 16)
    return ~acc & 0xffff


def ipv4_hdr(src, dst, proto, payload_len, ident=0, flags_df=True):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident & 0xffff,
                    0x4000 if flags_df else 0, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum_fold(csum_add(h))) + h[12:]


def flow_addr(f):
    """Inner peer address and port of flow f: 50000 ports per address of 198.18.0.0/15."""
    a = (198 << 24 | 18 << 16) + f // 50000 + 1
    return struct.pack("!I", a), 10000 + f % 50000


def tcp_segment(src, dst, sport, dport, flags, seq, payload):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    c = csum_fold(csum_add(pseudo + hdr + payload))
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


class Flows:
    """Yields (flow, index within the flow) in file order."""

    def __init__(self, flows, per_flow, interleave):
        self.flows, self.per_flow, self.interleave = flows, per_flow, interleave

    def __iter__(self):
        if self.interleave:
            return ((f, k) for k in range(self.per_flow) for f in range(self.flows))
        return ((f, k) for f in range(self.flows) for k in range(self.per_flow))


def inner_packet(f, k, size, outbound=False):
    peer_ip, peer_port = flow_addr(f)
    payload = bytes((f + i) & 0xff for i in range(size))
    flags = 0x02 if k == 0 else 0x10  # SYN, then ACK
    if outbound:  # the DVIPA's answer: ACK from port 5001
        src, dst, sport, dport, flags = ip4(DVIPA), peer_ip, DPORT, peer_port, 0x10
    else:
        src, dst, sport, dport = peer_ip, ip4(DVIPA), peer_port, DPORT
    tcp = tcp_segment(src, dst, sport, dport, flags, 1000 + k * size, payload)
    return ipv4_hdr(src, dst, 6, len(tcp) + size, ident=k) + tcp + payload


class Sealer:
    """One SA's ESP (tunnel mode) encapsulation; IV = the 64-bit sequence number."""

    def __init__(self, aead, spi, key_hex):
        klen, cls, _, _ = AEADS[aead]
        key = bytes.fromhex(key_hex)
        self.aead, self.spi, self.salt, self.cipher = aead, spi, key[klen:], cls(key[:klen])
        self.seq = 0

    def seal(self, inner):
        self.seq += 1
        pad = (-(len(inner) + 2)) % 4
        pt = inner + bytes(range(1, pad + 1)) + bytes([pad, 4])  # next header 4: IPv4
        hdr = struct.pack("!II", self.spi, self.seq)
        iv = struct.pack("!Q", self.seq)
        return hdr + iv + self.cipher.encrypt(self.salt + iv, pt, hdr)


def esp_frame(esp, udp, dst_mac=PCAP_MAC):
    if udp:
        esp = struct.pack("!HHHH", 4500, 4500, 8 + len(esp), 0) + esp
    ip = ipv4_hdr(ip4(PEER), ip4(DVIPA), 17 if udp else 50, len(esp))
    return mac(dst_mac) + mac(PEER_MAC) + b"\x08\x00" + ip + esp


def gre_frame(esp_ip_packet, slot):
    gre = struct.pack("!HHI", 0x2000, 0x0800, slot)  # K bit, IPv4
    ip = ipv4_hdr(ip4(LINK_ROUTER), ip4(LINK_TARGET), 47, len(gre) + len(esp_ip_packet))
    return b"\xff" * 6 + mac("02:00:00:00:00:01") + b"\x08\x00" + ip + gre + esp_ip_packet


def write_pcap(path, frames):
    n = 0
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            out.write(struct.pack("<IIII", n // 1000000, n % 1000000, len(fr), len(fr)))
            out.write(fr)
            n += 1
    return n


def esp_frames(a):
    sealers = [Sealer(a.aead, s["spi"], s["key"]) for s in sa_list(a.aead, a.sas, ("inbound",))]
    for f, k in Flows(a.flows, a.per_flow, a.interleave):
        slot = f % a.sas
        esp = sealers[slot].seal(inner_packet(f, k, a.size))
        frame = esp_frame(esp, a.encap == "udp", a.dst_mac)
        yield gre_frame(frame[14:], slot) if a.gre else frame


def plain_frames(a):
    for f, k in Flows(a.flows, a.per_flow, a.interleave):
        yield mac(a.dst_mac) + mac(TAP_KERNEL_MAC) + b"\x08\x00" + inner_packet(f, k, a.size, True)


def selftest():
    """Decrypts generated packets of every AEAD x encapsulation with scapy's ESP."""
    from scapy.all import IP, TCP, Ether
    from scapy.layers.ipsec import ESP, SecurityAssociation

    checked = 0
    for aead, (klen, _, scapy_name, _) in AEADS.items():
        for encap in ("none", "udp"):
            a = argparse.Namespace(aead=aead, sas=3, flows=6, per_flow=2, interleave=False,
                                   size=100, encap=encap, gre=False, dst_mac=PCAP_MAC)
            keys = {s["spi"]: bytes.fromhex(s["key"]) for s in sa_list(aead, 3, ("inbound",))}
            for i, fr in enumerate(esp_frames(a)):
                pkt = Ether(fr)[IP]
                esp = pkt[ESP]
                key = keys[esp.spi]
                sa = SecurityAssociation(ESP, spi=esp.spi, crypt_algo=scapy_name,
                                         crypt_key=key, tunnel_header=IP(src=PEER, dst=DVIPA),
                                         nat_t_header=None)
                if encap == "udp":  # scapy decrypts from the ESP layer on
                    pkt = IP(src=pkt.src, dst=pkt.dst, proto=50) / esp
                inner = sa.decrypt(pkt)
                f = i // 2
                want_ip, want_port = flow_addr(f)
                if (inner[IP].src != ".".join(str(b) for b in want_ip) or
                        inner[TCP].sport != want_port or len(inner[TCP].payload) != 100):
                    sys.exit(f"selftest: {aead}/{encap} packet {i}: unexpected {inner!r}")
                # checksums as scapy computes them
                re = IP(bytes(inner))
                del re[IP].chksum, re[TCP].chksum
                re = IP(bytes(re))
                if re[IP].chksum != inner[IP].chksum or re[TCP].chksum != inner[TCP].chksum:
                    sys.exit(f"selftest: {aead}/{encap} packet {i}: bad inner checksum")
                checked += 1
    print(f"pcapgen selftest: {checked} packets decrypted by scapy, inner headers and checksums"
          " as expected")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=["esp", "plain", "conf", "selftest"])
    ap.add_argument("--aead", choices=sorted(AEADS), default="aes128gcm16")
    ap.add_argument("--encap", choices=["none", "udp"], default="none")
    ap.add_argument("--size", type=int, default=64, help="inner TCP payload bytes")
    ap.add_argument("--flows", type=int, default=1024)
    ap.add_argument("--per-flow", type=int, default=4)
    ap.add_argument("--sas", type=int, default=1)
    ap.add_argument("--interleave", action="store_true")
    ap.add_argument("--gre", action="store_true", help="as the router sends it to a target")
    ap.add_argument("--dst-mac", default=PCAP_MAC,
                    help="destination MAC (default: net_pcap's; on a NIC: the DUT port's)")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.kind == "selftest":
        selftest()
        return
    if a.kind == "conf":
        json.dump(sa_list(a.aead, a.sas), sys.stdout)
        print()
        return
    if not a.out or a.flows < 1 or a.per_flow < 1 or a.sas < 1 or not 0 <= a.size <= 9000:
        ap.error("--out required; --flows, --per-flow, --sas >= 1; --size 0..9000")
    n = write_pcap(a.out, esp_frames(a) if a.kind == "esp" else plain_frames(a))
    print(f"{a.out}: {n} frames, {a.kind} {a.aead} encap {a.encap}, TCP payload {a.size} B, "
          f"{a.flows} flows x {a.per_flow}, {a.sas} SA(s)")


if __name__ == "__main__":
    main()
