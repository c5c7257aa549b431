#!/usr/bin/python3
"""ESP vectors from an independent implementation (scapy), and a checker for our engine's output.

Why: the C ESP engine must interoperate with implementations it shares no code with. scapy's
scapy.layers.ipsec.SecurityAssociation (python3-scapy 2.5.0, on python3-cryptography) is one.
`gen` makes scapy encrypt a fixed set of packets; the C tests decrypt them (inbound) and encrypt
the same cleartext under the same SA, which must give scapy's ESP bytes exactly (outbound);
`check` then lets scapy judge the packets our engine produced.

Subcommands
  gen OUT.json                 write the vectors (deterministic: same bytes on every run)
  check VECTORS.json OURS.json judge our engine's encrypted packets; prints one line per
                               failure and 'N passed, M failed'; exit 1 if M > 0 or N == 0
  selftest                     gen in memory, feed scapy's own packets back into check (all
                               must pass), then feed known-bad packets (each must fail)

Coverage of `gen`: every aead {aes128gcm16, aes256gcm16, chacha20poly1305} x mode {tunnel,
transport} x encap {raw, udp} x outer family {4, 6} x inner family {4, 6} (tunnel; in transport
the inner family is the outer one), each as a TCP SYN and as a TCP data segment (payload lengths
0..1400 cycling through DATA_LENS, so every pad length 0..3 occurs); plus, per aead, sequence
numbers 0xfffffffe and 0xffffffff without ESN, and ESN SAs with seq 42 (high half 0: the AAD is
still 12 bytes), 2^32 (low half 0 on the wire), 2^32+5 and 0x7_ffffffff.

Conventions (the C side must follow them to match byte for byte)
  * Direction: every vector is a packet the remote peer sends to us: outer src = "remote",
    outer dst = "local"; for ESP-in-UDP, udp_sport is the peer's (possibly NAT-mapped) port and
    udp_dport is 4500. In tunnel mode the inner packet goes inner_src -> inner_dst.
  * IV = the full 64-bit sequence number, 8 bytes big-endian (ESN: high half included).
  * ESN vectors with seq >= 2^32: the receiver infers the high half from its replay window
    (RFC 4303 A2.2), so an inbound test must first set the SA's window top near seq.
  * Padding: the minimum to make the ESP payload a multiple of 4 bytes (GCM and ChaCha20 have
    1-byte blocks), contents 1, 2, 3, ... (RFC 4303 2.4); no TFC padding.
  * ESP-in-UDP (RFC 3948): UDP length = 8 + len(ESP). UDP checksum: 0 over IPv4 (RFC 3948
    3.1.1); computed over IPv6, since RFC 8200 8.1 forbids a zero UDP checksum there (Linux's
    esp6_output_encap_csum() computes it too, and Linux drops zero-checksum UDP/IPv6). scapy
    writes checksum 0 in both families and, over IPv4, freezes the UDP length at 8 (over IPv6
    its length comes out right); gen rewrites both fields itself.
  * Transport mode, receiver side: the delivered packet ("inner") is the received IP header
    with exactly these fields rewritten, followed by the ESP payload data (payload minus
    padding, pad length and next header):
      IPv4: protocol := next header; total length := IHL*4 + len(data); header checksum :=
            recomputed over the rewritten header. Kept as received: version/IHL, DSCP/ECN,
            identification, flags (DF), fragment offset, TTL (not decremented), addresses.
      IPv6: next header := ESP next header; payload length := len(data). Kept: traffic class,
            flow label, hop limit, addresses. (No extension headers in these vectors.)
    The UDP header (NAT-T) is dropped. The TCP segment is delivered untouched: no NAT sits
    between the peers here, so its checksum is already valid (RFC 3948 3.1.2 fix-up: none).
    The sender does the inverse: protocol/next header := 50 (or 17 with a UDP header
    inserted), length += ESP overhead (+ 8), IPv4 checksum recomputed; nothing else changes.
    check_rfc_vectors.transport_header() implements this rule and check_rfc_vectors.py
    verifies every transport vector against it without scapy.

What `check` accepts in OURS.json ({"results": [{"name", "packet"}]}, packet = the full IP
packet our engine encrypted from the vector's cleartext, outer header included)
  * The ESP part (SPI through ICV) must equal the vector's "esp" byte for byte.
  * scapy must decrypt it with the vector's SA to exactly the vector's cleartext: tunnel: the
    inner packet; transport: the original packet ("inner"), or that packet with source and
    destination swapped (our outbound view of the same flow; swapping changes neither the
    IPv4 nor the TCP checksum); a transport vector without "outer" (draft-mcgrew) has no
    "inner", so only its ESP part and ICV are checked.
  * The outer header must be well formed: lengths, IPv4 header checksum, protocol 50 or UDP
    with the rules above, addresses {local, remote} in either direction, UDP ports likewise.
    TTL, identification, DF and flow label are free (not compared).
  * A vector with no result fails ("no result"), unless --allow-missing.
scapy 2.5.0 quirks worked around here
  * NAT-T over IPv4: the UDP length stays 8 (re-parsing the packet then fails); checksum 0.
  * Transport-mode decrypt of IPv6 ESP-in-UDP returns a mangled IPv6/UDP/UDP packet, so check
    strips the UDP header itself first, as a RFC 3948 receiver does.
  * encrypt(seq_num=0) is ignored in favour of the SA counter (`seq_num or self.seq_num`), so
    the SA is built with the packet's sequence number (matters for ESN seq 2^32: low half 0).
  * Decrypting an empty transport payload rebuilds it as a default 8-byte ICMP header, so the
    cleartext is cut at the length scapy wrote into the IP header.
  * Anything on UDP port 4500 is parsed as ESP, IKE included (SPI 0), so check parses the outer
    headers itself and rejects the zero non-ESP marker.
"""

import argparse
import hashlib
import json
import logging
import struct
import sys
from dataclasses import dataclass
from typing import Optional

import check_rfc_vectors as vc  # the cryptography-only checker in this directory

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
# pylint: disable=wrong-import-position
from scapy import VERSION as SCAPY_VERSION  # noqa: E402
from scapy.compat import raw  # noqa: E402
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation  # noqa: E402
from scapy.packet import Raw  # noqa: E402

SEED = b"dvipsec scapy esp vectors v1"
SOURCE = "scapy %s SecurityAssociation (scripts/esp_vectors.py gen)" % SCAPY_VERSION
SCAPY_ALGOS = {
    "aes128gcm16": "AES-GCM",
    "aes256gcm16": "AES-GCM",
    "chacha20poly1305": "CHACHA20-POLY1305",
}
# outer family -> (remote peer, our local address): documentation prefixes (RFC 5737, 3849)
OUTER_ADDRS = {4: ("198.51.100.7", "203.0.113.10"), 6: ("2001:db8:100::7", "2001:db8:113::10")}
# inner family -> (host on the peer's side, host on our side), for tunnel mode
INNER_ADDRS = {4: ("10.1.0.5", "10.2.0.10"), 6: ("fd00:1::5", "fd00:2::10")}
NATT_PORT = 4500
NATED_PEER_PORT = 40123  # a NAT-mapped source port of the peer
TCP_DPORT = 443
DATA_LENS = (0, 1, 3, 64, 1400, 2, 5, 16, 17, 255, 1024, 1399)
# (seq, esn) of the extra vectors, per aead
EXTRA_SEQS = (
    (0xFFFFFFFE, False),
    (0xFFFFFFFF, False),
    (42, True),
    (1 << 32, True),
    ((1 << 32) + 5, True),
    (0x7FFFFFFFF, True),
)
# (mode, encap, outer family, inner family)
COMBOS = tuple(
    (mode, encap, outer, inner)
    for mode in ("tunnel", "transport")
    for encap in ("raw", "udp")
    for outer in (4, 6)
    for inner in ((4, 6) if mode == "tunnel" else (outer,))
)


@dataclass(frozen=True)
class Spec:
    """Everything that distinguishes one generated vector."""

    name: str
    aead: str
    mode: str
    encap: str
    outer_family: int
    inner_family: int
    data_len: Optional[int]  # TCP payload bytes; None for a SYN
    seq: int
    esn: bool
    udp_sport: int


def derive(label: str, length: int) -> bytes:
    """Deterministic bytes for a label: SHA-256 in counter mode over SEED (version independent,
    unlike random.Random streams)."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(SEED + b"/" + label.encode() + struct.pack("!I", counter)).digest()
        counter += 1
    return out[:length]


def derive_int(label: str, lo: int, hi: int) -> int:
    """A deterministic integer in [lo, hi]."""
    return lo + int.from_bytes(derive(label, 8), "big") % (hi - lo + 1)


def spec_name(aead, mode, encap, outer, inner, data_len, extra=""):
    """Vector names: 'scapy <aead> <mode> <encap> <families> <syn|dataN>[ <extra>]'."""
    families = "v%d-in-v%d" % (inner, outer) if mode == "tunnel" else "v%d" % outer
    kind = "syn" if data_len is None else "data%d" % data_len
    return " ".join(filter(None, ("scapy", aead, mode, encap, families, kind, extra)))


def make_specs() -> list:
    """The fixed list of vectors gen produces, in output order."""
    specs = []
    for aead_index, aead in enumerate(SCAPY_ALGOS):
        for combo_index, (mode, encap, outer, inner) in enumerate(COMBOS):
            # shift the lengths per aead so each length meets several modes and families
            data_len = DATA_LENS[(combo_index + 5 * aead_index) % len(DATA_LENS)]
            for payload_len in (None, data_len):
                index = len(specs)
                specs.append(Spec(spec_name(aead, mode, encap, outer, inner, payload_len), aead,
                                  mode, encap, outer, inner, payload_len, index + 1, False,
                                  NATT_PORT if index % 4 < 2 else NATED_PEER_PORT))
    for aead_index, aead in enumerate(SCAPY_ALGOS):
        for seq_index, (seq, esn) in enumerate(EXTRA_SEQS):
            index = aead_index * len(EXTRA_SEQS) + seq_index
            mode, encap, outer, inner = COMBOS[(index * 5) % len(COMBOS)]
            data_len = DATA_LENS[index % len(DATA_LENS)]
            extra = "seq=0x%x%s" % (seq, " esn" if esn else "")
            specs.append(Spec(spec_name(aead, mode, encap, outer, inner, data_len, extra), aead,
                              mode, encap, outer, inner, data_len, seq, esn,
                              NATT_PORT if index % 2 else NATED_PEER_PORT))
    return specs


def flow_addresses(spec: Spec) -> tuple:
    """(src, dst) of the cleartext packet: inner hosts in tunnel mode, the peers in transport."""
    if spec.mode == "tunnel":
        return INNER_ADDRS[spec.inner_family]
    return OUTER_ADDRS[spec.outer_family]


def build_cleartext(spec: Spec) -> bytes:
    """The TCP/IP packet the peer's host sends, fully serialised (checksums computed)."""
    sport = derive_int("sport/" + spec.name, 32768, 60999)
    isn = derive_int("isn/" + spec.name, 0, 0xFFFFFFFF)
    tsval = derive_int("tsval/" + spec.name, 1, 0xFFFFFFFF)
    if spec.data_len is None:
        mss = 1360 if spec.inner_family == 4 else 1340
        segment = TCP(sport=sport, dport=TCP_DPORT, seq=isn, ack=0, flags="S", window=64240,
                      options=[("MSS", mss), ("SAckOK", b""), ("Timestamp", (tsval, 0)),
                               ("NOP", None), ("WScale", 7)])
    else:
        ack = derive_int("ack/" + spec.name, 0, 0xFFFFFFFF)
        segment = TCP(sport=sport, dport=TCP_DPORT, seq=isn, ack=ack,
                      flags="PA" if spec.data_len else "A", window=502,
                      options=[("NOP", None), ("NOP", None),
                               ("Timestamp", (tsval, tsval ^ 0x5A5A))])
        segment = segment / Raw(derive("data/" + spec.name, spec.data_len))
    src, dst = flow_addresses(spec)
    if spec.inner_family == 4:
        header = IP(src=src, dst=dst, ttl=64, flags="DF",
                    id=derive_int("id/" + spec.name, 0, 0xFFFF))
    else:
        header = IPv6(src=src, dst=dst, hlim=64, fl=derive_int("fl/" + spec.name, 0, 0xFFFFF))
    return raw(header / segment)


def parse_ip(packet: bytes):
    """scapy IP or IPv6 packet from bytes, by version nibble."""
    return IP(packet) if packet[0] >> 4 == 4 else IPv6(packet)


def make_sa(aead, spi, keymat, seq, esn, tunnel_header=None, nat_t_header=None):
    """A scapy SA. seq_num is set to the packet's low 32 bits because scapy's encrypt() treats
    seq_num=0 as 'use the SA counter' (`seq_num or self.seq_num`)."""
    return SecurityAssociation(ESP, spi=spi, seq_num=seq & 0xFFFFFFFF,
                               crypt_algo=SCAPY_ALGOS[aead], crypt_key=keymat,
                               tunnel_header=tunnel_header, nat_t_header=nat_t_header,
                               esn_en=esn, esn=seq >> 32)


def fix_nat_t(packet: bytes) -> bytes:
    """Give an ESP-in-UDP packet its real UDP length and the checksum our convention wants
    (0 over IPv4, computed over IPv6); scapy writes checksum 0, and length 8 over IPv4."""
    info = vc.parse_outer(packet)
    if info.udp is None:
        return packet
    out = bytearray(packet)
    start = info.ip_hdr_len
    out[start + 4:start + 8] = struct.pack("!HH", len(packet) - start, 0)
    if info.family == 6:
        csum = vc.udp_checksum(6, packet[8:24], packet[24:40], bytes(out[start:]))
        out[start + 6:start + 8] = struct.pack("!H", csum)
    return bytes(out)


def scapy_encrypt(spec: Spec, spi: int, keymat: bytes, cleartext: bytes) -> bytes:
    """The packet as scapy sends it, with the NAT-T header fixed."""
    remote, local = OUTER_ADDRS[spec.outer_family]
    tunnel_header = None
    if spec.mode == "tunnel":
        if spec.outer_family == 4:
            tunnel_header = IP(src=remote, dst=local, ttl=64,
                               id=derive_int("outer-id/" + spec.name, 0, 0xFFFF))
        else:
            tunnel_header = IPv6(src=remote, dst=local, hlim=64)
    nat_t = UDP(sport=spec.udp_sport, dport=NATT_PORT) if spec.encap == "udp" else None
    sa = make_sa(spec.aead, spi, keymat, spec.seq, spec.esn, tunnel_header, nat_t)
    packet = sa.encrypt(parse_ip(cleartext), seq_num=spec.seq & 0xFFFFFFFF,
                        iv=struct.pack("!Q", spec.seq))
    return fix_nat_t(raw(packet))


def make_vector(spec: Spec) -> dict:
    """One vector in the shared schema (see check_rfc_vectors.py), self-checked twice: by
    cryptography alone, and by scapy's decrypt through the same path `check` uses."""
    key_len = vc.AEADS[spec.aead][1]
    keymat = derive("key/" + spec.name, key_len + vc.SALT_LEN)
    spi = derive_int("spi/" + spec.name, 0x100, 0xFFFFFFFF)
    cleartext = build_cleartext(spec)
    packet = scapy_encrypt(spec, spi, keymat, cleartext)
    info = vc.parse_outer(packet)
    esp = packet[info.esp_offset:]
    payload = vc.esp_open(spec.aead, keymat, esp, spec.seq, spec.esn)
    remote, local = OUTER_ADDRS[spec.outer_family]
    inner_src, inner_dst = flow_addresses(spec)
    vector = {
        "name": spec.name, "source": SOURCE, "aead": spec.aead, "keymat": keymat.hex(),
        "spi": spi, "seq": spec.seq, "seq_hex": "%016x" % spec.seq, "esn": spec.esn,
        "iv": "%016x" % spec.seq, "next_header": payload[-1], "mode": spec.mode,
        "encap": spec.encap, "outer_family": spec.outer_family,
        "inner_family": spec.inner_family, "local": local, "remote": remote,
        "inner_src": inner_src, "inner_dst": inner_dst,
    }
    if spec.encap == "udp":
        vector.update(udp_sport=spec.udp_sport, udp_dport=NATT_PORT)
    vector.update({
        "tcp_payload_len": spec.data_len, "outer": packet[:info.esp_offset].hex(),
        "esp": esp.hex(), "payload": payload.hex(), "inner": cleartext.hex(),
    })
    problems = vc.check_vector(vector) + check_packet(vector, packet)
    if problems:
        raise RuntimeError("generated vector %r is inconsistent: %s" %
                           (spec.name, "; ".join(problems)))
    return vector


def generate() -> dict:
    """The whole vector file."""
    notes = [
        "Generated by scripts/esp_vectors.py gen; see its docstring for the conventions "
        "(inbound direction, IV = 64-bit seq, minimal padding, NAT-T UDP rules, transport "
        "rewrite).",
        "Fields beyond the base schema: seq_hex, next_header, outer_family, inner_family, "
        "tcp_payload_len (null for a SYN).",
        "ESN: a receiver infers seq_high from its replay window (RFC 4303 Appendix A2.2); a "
        "fresh SA infers 0, so for a vector with seq >= 2^32 first set the receiving SA's "
        "window top near seq (e.g. seq - 1).",
    ]
    return {"skipped": [], "notes": notes, "vectors": [make_vector(s) for s in make_specs()]}


class PacketMismatch(Exception):
    """Our packet cannot be compared any further with the vector."""


def swap_addresses(packet: bytes) -> bytes:
    """The same IP packet with source and destination exchanged (checksums stay valid)."""
    if packet[0] >> 4 == 4:
        return packet[:12] + packet[16:20] + packet[12:16] + packet[20:]
    return packet[:8] + packet[24:40] + packet[8:24] + packet[40:]


def scapy_decrypt(vector: dict, packet: bytes, info) -> bytes:
    """Decapsulate our packet with scapy under the vector's SA; returns the cleartext packet.

    The UDP header is removed first (protocol := 50, lengths and checksum fixed), as a RFC 3948
    receiver does, because scapy's transport-mode decrypt mangles IPv6 ESP-in-UDP."""
    esp = packet[info.esp_offset:]
    ip_header = vc.transport_header(packet[:info.ip_hdr_len], vc.PROTO_ESP, len(esp))
    parsed = parse_ip(ip_header + esp)
    if not parsed.haslayer(ESP):
        raise PacketMismatch("scapy does not see ESP in the normalised packet")
    tunnel_header = None
    if vector["mode"] == "tunnel":
        tunnel_header = IP() if info.family == 4 else IPv6()
    sa = make_sa(vector["aead"], vector["spi"], bytes.fromhex(vector["keymat"]), vector["seq"],
                 vector["esn"], tunnel_header)
    try:
        clear = sa.decrypt(parsed)
    except IPSecIntegrityError as err:
        raise PacketMismatch("scapy: ICV does not verify") from err
    except TypeError as err:  # scapy's check_spi()
        raise PacketMismatch("scapy: %s" % err) from err
    except (ValueError, IndexError) as err:  # e.g. a truncated ESP packet
        raise PacketMismatch("scapy cannot decrypt: %s: %s" % (type(err).__name__, err)) from err
    # Not raw(clear) alone: scapy rebuilds the payload from its fields, and an empty transport
    # payload (protocol ICMP, no data) comes back as a default 8-byte ICMP header. In tunnel
    # mode decrypt() returns the dissected inner packet itself, whose .original is exact; in
    # transport mode the length scapy wrote into the header bounds the real data.
    if vector["mode"] == "tunnel":
        return clear.original
    rebuilt = raw(clear)
    if info.family == 4:
        return rebuilt[:struct.unpack("!H", rebuilt[2:4])[0]]
    return rebuilt[:vc.IPV6_HDR_LEN + struct.unpack("!H", rebuilt[4:6])[0]]


def describe_esp_difference(vector: dict, esp: bytes) -> str:
    """Say where our ESP part differs from the vector's, in ESP terms."""
    want = bytes.fromhex(vector["esp"])
    fields = ((0, 4, "SPI"), (4, 8, "sequence number"), (8, 16, "IV"))
    for start, end, what in fields:
        if esp[start:end] != want[start:end]:
            return "ESP %s is %s, want %s" % (what, esp[start:end].hex(), want[start:end].hex())
    if len(esp) != len(want):
        detail = "ESP is %d bytes, want %d" % (len(esp), len(want))
    else:
        detail = "ESP ciphertext/ICV differs"
    try:
        ours = vc.esp_open(vector["aead"], bytes.fromhex(vector["keymat"]), esp, vector["seq"],
                           vector["esn"])
    except vc.InvalidTag:
        return detail + " (and it does not authenticate under the vector's SA)"
    except vc.VectorError as err:
        return "%s: %s" % (detail, err)
    wanted = bytes.fromhex(vector["payload"])
    try:
        our_data, our_pad, our_nh = vc.split_trailer(ours)
    except vc.VectorError as err:
        return "%s: %s" % (detail, err)
    want_data, want_pad, want_nh = vc.split_trailer(wanted)
    if our_nh != want_nh:
        return "%s: next header %d, want %d" % (detail, our_nh, want_nh)
    if our_pad != want_pad:
        return "%s: padding %s (pad length %d), want %s (pad length %d)" % (
            detail, our_pad.hex() or "none", len(our_pad), want_pad.hex() or "none", len(want_pad))
    if our_data != want_data:
        return "%s: payload data differs (%d bytes, want %d)" % (detail, len(our_data),
                                                                  len(want_data))
    return detail


def outer_direction_problems(vector: dict, info) -> list:
    """Outer addresses and UDP ports must be the vector's pair, in either direction."""
    problems = []
    if "local" in vector:
        pair = (vector["remote"], vector["local"])
        if (info.src, info.dst) not in (pair, pair[::-1]):
            problems.append("outer %s -> %s is not between %s and %s" %
                            (info.src, info.dst, vector["remote"], vector["local"]))
    if info.udp is not None and "udp_sport" in vector:
        ports = (vector["udp_sport"], vector["udp_dport"])
        if info.udp[:2] not in (ports, ports[::-1]):
            problems.append("UDP ports %d -> %d are not %d/%d" % (info.udp[0], info.udp[1], *ports))
    return problems


def check_packet(vector: dict, packet: bytes) -> list:
    """Everything wrong with one of our packets against its vector (empty list: it passes)."""
    try:
        info = vc.parse_outer(packet)
    except vc.VectorError as err:
        return ["outer header: %s" % err]
    problems = vc.outer_problems(packet, info) + outer_direction_problems(vector, info)
    want_family = vector.get("outer_family")
    if want_family and info.family != want_family:
        problems.append("outer is IPv%d, want IPv%d" % (info.family, want_family))
    want_encap = "udp" if info.udp is not None else "raw"
    if vector.get("outer") and want_encap != vector["encap"]:
        problems.append("encap is %s, want %s" % (want_encap, vector["encap"]))
    esp = packet[info.esp_offset:]
    if esp != bytes.fromhex(vector["esp"]):
        problems.append(describe_esp_difference(vector, esp))
    try:
        cleartext = scapy_decrypt(vector, packet, info)
    except PacketMismatch as err:
        return problems + [str(err)]
    if "inner" not in vector:  # transport without a known IP header: the ESP part is all
        return problems
    inner = bytes.fromhex(vector["inner"])
    if vector["mode"] == "tunnel":
        accepted = (inner,)
    else:
        accepted = (inner, swap_addresses(inner))
    if cleartext not in accepted:
        problems.append("decrypted packet differs from the vector's cleartext (%d bytes, want %d%s)"
                        % (len(cleartext), len(inner), first_difference(cleartext, inner)))
    return problems


def first_difference(got: bytes, want: bytes) -> str:
    """', first difference at byte N' or ''."""
    for index, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return ", first difference at byte %d" % index
    return ""


def run_check(vectors: list, results: list, allow_missing: bool, out=sys.stdout) -> tuple:
    """Judge every result (and every vector without one); returns (passed, failed)."""
    by_name = {v["name"]: v for v in vectors}
    seen = set()
    passed = failed = 0
    for result in results:
        name = result.get("name")
        if name not in by_name:
            problems = ["no vector of that name"]
        elif name in seen:
            problems = ["duplicate result"]
        else:
            seen.add(name)
            try:
                problems = check_packet(by_name[name], bytes.fromhex(result["packet"]))
            except (KeyError, TypeError, ValueError) as err:
                problems = ["bad result entry: %s: %s" % (type(err).__name__, err)]
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)), file=out)
        else:
            passed += 1
    if not allow_missing:
        for name in by_name:
            if name not in seen:
                failed += 1
                print("FAIL %s: no result" % name, file=out)
    print("%d passed, %d failed" % (passed, failed), file=out)
    return passed, failed


def cmd_gen(args) -> int:
    """gen OUT.json"""
    data = generate()
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print("%d vectors written to %s" % (len(data["vectors"]), args.out))
    return 0


def cmd_check(args) -> int:
    """check VECTORS.json OURS.json"""
    with open(args.vectors, encoding="utf-8") as f:
        vectors = vc.load_vectors(f)
    with open(args.ours, encoding="utf-8") as f:
        results = json.load(f)["results"]
    passed, failed = run_check(vectors, results, args.allow_missing)
    return 1 if failed or not passed else 0


class Discard:
    """A write-only sink for run_check() output during the negative self-tests."""

    def write(self, _text):
        """Drop the text."""


def scapy_results(vectors: list) -> list:
    """What a perfect engine would report: scapy's own packets."""
    return [{"name": v["name"], "packet": v["outer"] + v["esp"]} for v in vectors]


def dummy_ipv4(esp: bytes) -> bytes:
    """An IPv4 header (192.0.2.1 -> 192.0.2.2, protocol 50) in front of a bare ESP packet."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(esp), 0, 0x4000, 64, vc.PROTO_ESP, 0,
                         bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    return vc.transport_header(header, vc.PROTO_ESP, len(esp)) + esp


def mutate(packet: bytes, offset: int, value: int) -> bytes:
    """packet with one byte replaced."""
    return packet[:offset] + bytes([value]) + packet[offset + 1:]


def negative_cases(vectors: list) -> list:
    """(label, vector, our packet, should pass) cases around the acceptance rules."""
    def pick(**want):
        return next(v for v in vectors if all(v.get(k) == x for k, x in want.items()))

    cases = []
    v = pick(mode="tunnel", encap="udp", outer_family=4)
    good = bytes.fromhex(v["outer"] + v["esp"])
    cases.append(("ICV bit flipped", v, good[:-1] + bytes([good[-1] ^ 1]), False))
    cases.append(("UDP length left at 8 (scapy quirk)", v, good[:24] + b"\x00\x08" + good[26:],
                  False))
    cases.append(("IPv4 total length off by 4", v, mutate(good, 3, good[3] - 4), False))
    cases.append(("IKE non-ESP marker", v, good[:28] + bytes(4) + good[32:], False))
    outer = vc.parse_outer(good)
    turned = swap_addresses(good)
    turned = turned[:20] + struct.pack("!HH", outer.udp[1], outer.udp[0]) + turned[24:]
    cases.append(("tunnel sent local -> remote (our outbound view)", v, turned, True))
    other = pick(mode="tunnel", encap="raw", outer_family=4, aead=v["aead"])
    cases.append(("ESP of another vector", v, good[:28] + bytes.fromhex(other["esp"]), False))
    v6 = pick(mode="tunnel", encap="udp", outer_family=6)
    good6 = bytes.fromhex(v6["outer"] + v6["esp"])
    cases.append(("IPv6 UDP checksum zero", v6, good6[:46] + b"\0\0" + good6[48:], False))
    vt = pick(mode="transport", encap="udp", outer_family=6)
    goodt = bytes.fromhex(vt["outer"] + vt["esp"])
    cases.append(("transport IPv6 NAT-T, addresses swapped", vt, swap_addresses(goodt), True))
    cases.append(("transport IPv6 NAT-T, hop limit changed", vt, mutate(goodt, 7, 63), False))
    cases.append(("transport IPv6 NAT-T, correct", vt, goodt, True))
    vp = pick(mode="transport", encap="udp", esn=True)
    cases.append(("ESN vector re-padded to 8 instead of 4", vp, repadded(vp, 8), False))
    return cases


def repadded(vector: dict, align: int) -> bytes:
    """The vector's packet re-encrypted with padding to `align` bytes: valid ESP, other bytes."""
    data, _, next_header = vc.split_trailer(bytes.fromhex(vector["payload"]))
    pad_len = -(len(data) + 2) % align
    if pad_len == -(len(data) + 2) % 4:
        pad_len += align
    payload = data + bytes(range(1, pad_len + 1)) + bytes([pad_len, next_header])
    keymat = bytes.fromhex(vector["keymat"])
    cls, key_len = vc.AEADS[vector["aead"]]
    header = (struct.pack("!II", vector["spi"], vector["seq"] & 0xFFFFFFFF) +
              bytes.fromhex(vector["iv"]))
    aad = vc.esp_aad(vector["spi"], vector["seq"], vector["esn"])
    esp = header + cls(keymat[:key_len]).encrypt(keymat[key_len:] + header[8:], payload, aad)
    outer = bytes.fromhex(vector["outer"])
    info = vc.parse_outer(outer + bytes.fromhex(vector["esp"]))
    rest = outer[info.ip_hdr_len:] + esp
    return fix_nat_t(vc.transport_header(outer[:info.ip_hdr_len], info.proto, len(rest)) + rest)


def cmd_selftest(args) -> int:
    """selftest: scapy's own packets pass; known-bad packets fail; gen is deterministic."""
    data = generate()
    vectors = json.loads(json.dumps(data))["vectors"]
    errors = []
    if json.dumps(generate()) != json.dumps(data):
        errors.append("gen is not deterministic")
    passed, failed = run_check(vectors, scapy_results(vectors), False)
    if failed or passed != len(vectors):
        errors.append("scapy's own packets: %d passed, %d failed" % (passed, failed))
    for label, vector, packet, should_pass in negative_cases(vectors):
        problems = check_packet(vector, packet)
        verdict = "pass" if not problems else "fail: " + "; ".join(problems)
        print("  %-50s -> %s" % (label, verdict))
        if bool(problems) == should_pass:
            errors.append("%s: expected %s" % (label, "pass" if should_pass else "fail"))
    _, failed = run_check(vectors, scapy_results(vectors)[1:], False, Discard())
    if failed != 1:
        errors.append("a missing result is not reported")
    if args.rfc:
        with open(args.rfc, encoding="utf-8") as f:
            rfc = vc.load_vectors(f)
        results = [{"name": v["name"], "packet": (v["outer"] + v["esp"]) if v["outer"]
                    else dummy_ipv4(bytes.fromhex(v["esp"])).hex()} for v in rfc]
        passed, failed = run_check(rfc, results, False)
        if failed or passed != len(rfc):
            errors.append("RFC vectors through check: %d passed, %d failed" % (passed, failed))
    for error in errors:
        print("SELFTEST ERROR: %s" % error)
    print("selftest %s (%d vectors)" % ("failed" if errors else "ok", len(vectors)))
    return 1 if errors else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("gen", help="write the scapy vectors")
    gen.add_argument("out", help="output JSON file")
    gen.set_defaults(func=cmd_gen)
    check = sub.add_parser("check", help="judge our engine's encrypted packets with scapy")
    check.add_argument("vectors", help="vector JSON (from gen, or rfc_esp_vectors.json)")
    check.add_argument("ours", help='{"results": [{"name": ..., "packet": hex}]}')
    check.add_argument("--allow-missing", action="store_true",
                       help="do not fail vectors that have no result")
    check.set_defaults(func=cmd_check)
    selftest = sub.add_parser("selftest", help="check the checker against scapy's own packets")
    selftest.add_argument("--rfc", default=str(vc.DEFAULT_VECTORS),
                          help="also run this vector file through check (default: %(default)s;"
                               " '' to skip)")
    selftest.set_defaults(func=cmd_selftest)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
