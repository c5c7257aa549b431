#!/usr/bin/python3
"""Verify ESP test vectors with python3-cryptography alone (no scapy).

Why this exists: the vectors the ESP engine is tested against must themselves be right, and a
vector file that was merely transcribed (tests/vectors/rfc_esp_vectors.json, from RFC 7634
Appendix A and draft-mcgrew-gcm-test-01) or merely produced by one implementation (scapy, see
scripts/esp_vectors.py) proves nothing until a second, independent path agrees with it. This
script is that path: it rebuilds the AAD and nonce from the vector's SA fields itself and opens
every ESP packet with cryptography's AESGCM / ChaCha20Poly1305.

Conventions checked (RFC 4106 sections 4-5, RFC 7634 section 2.1, RFC 4303):
  keymat = cipher key || 4-byte salt;  nonce = salt || IV (the 8-byte IV on the wire)
  AAD    = SPI || seq_low            (8 bytes, ESN off)
         = SPI || seq_high || seq_low (12 bytes, ESN on; seq_high is not on the wire)
  esp    = SPI || seq_low || IV || ciphertext || 16-byte ICV
  payload (decrypted) = data || padding 1,2,3.. || pad length || next header
  inner  = what a receiver delivers: tunnel: the data (the inner packet); transport: the
           received IP header rewritten (see transport_header()) || data; absent for a
           transport vector that gives no outer header

Per vector it also checks the trailer (default padding, next header versus "mode"), that "inner"
is what a receiver delivers, and, when "outer" is given, the outer header: lengths, IPv4
header checksum, protocol 50 or UDP (RFC 3948: length 8 + ESP, checksum 0 or valid on IPv4,
valid on IPv6), and for transport mode the header rewrite rule (see transport_header()).
The schema is the one both vector files share, so this runs on scapy-generated files too.

Usage: check_rfc_vectors.py [VECTORS.json]   (default: tests/vectors/rfc_esp_vectors.json)
Prints one line per failing vector, then 'N passed, M failed'; exits 1 if M > 0 or N == 0.
"""

import argparse
import ipaddress
import json
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

# aead name -> (cryptography class, cipher key length); the salt is always 4 bytes.
AEADS = {
    "aes128gcm16": (AESGCM, 16),
    "aes256gcm16": (AESGCM, 32),
    "chacha20poly1305": (ChaCha20Poly1305, 32),
}
SALT_LEN = 4
IV_LEN = 8
ICV_LEN = 16
ESP_HDR_LEN = 8
UDP_HDR_LEN = 8
IPV6_HDR_LEN = 40
PROTO_IPIP = 4
PROTO_IPV6 = 41
PROTO_UDP = 17
PROTO_ESP = 50
TUNNEL_NEXT_HEADERS = (PROTO_IPIP, PROTO_IPV6)
DEFAULT_VECTORS = Path(__file__).resolve().parent.parent / "tests/vectors/rfc_esp_vectors.json"


class VectorError(Exception):
    """A vector (or a packet checked against it) is malformed beyond further checking."""


@dataclass
class Outer:
    """What parse_outer() found in front of the ESP header."""

    family: int  # 4 or 6
    ip_hdr_len: int  # IPv4 IHL*4, or 40 (no IPv6 extension headers are supported)
    proto: int  # protocol / next header of the IP header: 50 or 17
    src: str
    dst: str
    udp: Optional[tuple]  # (sport, dport, length, checksum) for ESP-in-UDP, else None
    esp_offset: int  # where the SPI starts



def load_vectors(f):
    """Reads a vector file. A sequence number of 2^63 or more is written as a "0x..." string,
    because JSON parsers with signed 64-bit integers (Jansson, on the C side) cannot read it."""
    vectors = json.load(f)["vectors"]
    for v in vectors:
        if isinstance(v["seq"], str):
            v["seq"] = int(v["seq"], 0)
    return vectors

def inet_checksum(data: bytes) -> int:
    """RFC 1071 one's complement checksum of data (odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_header_checksum(hdr: bytes) -> int:
    """Checksum of an IPv4 header, computed with its checksum field taken as zero."""
    return inet_checksum(hdr[:10] + b"\0\0" + hdr[12:])


def udp_checksum(family: int, src: bytes, dst: bytes, udp: bytes) -> int:
    """UDP checksum over the pseudo header and the datagram (checksum field taken as zero).

    A computed value of 0 is sent as 0xffff (RFC 768), since 0 means 'no checksum'."""
    if family == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, PROTO_UDP, len(udp))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(udp), PROTO_UDP)
    csum = inet_checksum(pseudo + udp[:6] + b"\0\0" + udp[8:])
    return csum or 0xFFFF


def parse_outer(packet: bytes) -> Outer:
    """Locate the ESP header in an IPv4/IPv6 packet, raw or ESP-in-UDP (RFC 3948).

    Only the header structure is read here; outer_problems() judges the field values."""
    if not packet:
        raise VectorError("empty packet")
    version = packet[0] >> 4
    if version == 4:
        ihl = (packet[0] & 0xF) * 4
        if ihl < 20 or len(packet) < ihl:
            raise VectorError("IPv4 header truncated or IHL %d invalid" % ihl)
        family, hdr_len, proto = 4, ihl, packet[9]
        src, dst = packet[12:16], packet[16:20]
    elif version == 6:
        if len(packet) < IPV6_HDR_LEN:
            raise VectorError("IPv6 header truncated")
        family, hdr_len, proto = 6, IPV6_HDR_LEN, packet[6]
        src, dst = packet[8:24], packet[24:40]
    else:
        raise VectorError("IP version %d" % version)
    offset, udp = hdr_len, None
    if proto == PROTO_UDP:
        if len(packet) < offset + UDP_HDR_LEN + 4:
            raise VectorError("UDP header or non-ESP marker truncated")
        udp = struct.unpack("!HHHH", packet[offset:offset + UDP_HDR_LEN])
        offset += UDP_HDR_LEN
        if packet[offset:offset + 4] == b"\0\0\0\0":
            raise VectorError("UDP payload starts with the non-ESP marker (IKE), not ESP")
    elif proto != PROTO_ESP:
        raise VectorError("outer protocol %d is neither ESP (50) nor UDP (17)" % proto)
    return Outer(family, hdr_len, proto, str(ipaddress.ip_address(src)),
                 str(ipaddress.ip_address(dst)), udp, offset)


def outer_problems(packet: bytes, outer: Outer) -> list:
    """Field-value errors of the outer IP (+UDP) header of a complete packet."""
    problems = []
    if outer.family == 4:
        hdr = packet[:outer.ip_hdr_len]
        total_len = struct.unpack("!H", hdr[2:4])[0]
        if total_len != len(packet):
            problems.append("IPv4 total length %d, packet is %d bytes" % (total_len, len(packet)))
        if struct.unpack("!H", hdr[10:12])[0] != ipv4_header_checksum(hdr):
            problems.append("IPv4 header checksum wrong")
        if struct.unpack("!H", hdr[6:8])[0] & 0x3FFF:
            problems.append("outer IPv4 packet is a fragment")
    else:
        plen = struct.unpack("!H", packet[4:6])[0]
        if plen != len(packet) - IPV6_HDR_LEN:
            problems.append("IPv6 payload length %d, payload is %d bytes" %
                            (plen, len(packet) - IPV6_HDR_LEN))
    if outer.udp is not None:
        _, _, length, csum = outer.udp
        udp = packet[outer.ip_hdr_len:]
        if length != len(udp):
            problems.append("UDP length %d, datagram is %d bytes" % (length, len(udp)))
        if outer.family == 4:
            src, dst = packet[12:16], packet[16:20]
        else:
            src, dst = packet[8:24], packet[24:40]
        want = udp_checksum(outer.family, src, dst, udp)
        if outer.family == 6 and csum != want:
            problems.append("IPv6 UDP checksum 0x%04x, want 0x%04x (zero is not allowed)" %
                            (csum, want))
        if outer.family == 4 and csum not in (0, want):
            problems.append("IPv4 UDP checksum 0x%04x is neither 0 nor 0x%04x" % (csum, want))
    return problems


def esp_aad(spi: int, seq: int, esn: bool) -> bytes:
    """RFC 4106 section 5 / RFC 7634 section 2.1 AAD for a full (64-bit) sequence number."""
    if esn:
        return struct.pack("!III", spi, seq >> 32, seq & 0xFFFFFFFF)
    if seq > 0xFFFFFFFF:
        raise VectorError("seq 0x%x does not fit 32 bits and ESN is off" % seq)
    return struct.pack("!II", spi, seq)


def esp_open(aead: str, keymat: bytes, esp: bytes, seq: int, esn: bool) -> bytes:
    """Authenticate and decrypt an ESP packet (SPI through ICV); returns the payload.

    Raises cryptography's InvalidTag if the ICV does not verify."""
    cls, key_len = AEADS[aead]
    if len(keymat) != key_len + SALT_LEN:
        raise VectorError("keymat is %d bytes, %s wants %d" %
                          (len(keymat), aead, key_len + SALT_LEN))
    if len(esp) < ESP_HDR_LEN + IV_LEN + ICV_LEN:
        raise VectorError("ESP packet of %d bytes is too short" % len(esp))
    spi = struct.unpack("!I", esp[:4])[0]
    nonce = keymat[key_len:] + esp[ESP_HDR_LEN:ESP_HDR_LEN + IV_LEN]
    return cls(keymat[:key_len]).decrypt(nonce, esp[ESP_HDR_LEN + IV_LEN:], esp_aad(spi, seq, esn))


def split_trailer(payload: bytes) -> tuple:
    """Split a decrypted ESP payload into (data, padding, next header)."""
    if len(payload) < 2 or payload[-2] + 2 > len(payload):
        raise VectorError("pad length does not fit the payload")
    pad_len, next_header = payload[-2], payload[-1]
    data_end = len(payload) - 2 - pad_len
    return payload[:data_end], payload[data_end:-2], next_header


def transport_header(outer_ip_hdr: bytes, next_header: int, data_len: int) -> bytes:
    """The IP header a transport-mode receiver delivers, from the header the packet arrived with.

    Exactly these fields change (RFC 4303 section 3.1.1, RFC 3948 section 3.1.2):
      IPv4: protocol := ESP next header; total length := header length + len(data);
            header checksum := recomputed.  TOS/ECN, ID, flags, fragment offset, TTL,
            addresses and options are kept as received (no TTL decrement).
      IPv6: next header := ESP next header; payload length := len(data).  Traffic class,
            flow label, hop limit and addresses are kept.  (No extension headers here.)
    A UDP (NAT-T) header between IP and ESP is dropped. The transport segment itself is not
    touched: no NAT sits between the peers in these vectors, so its checksum is already right.
    """
    hdr = bytearray(outer_ip_hdr)
    if hdr[0] >> 4 == 4:
        hdr[9] = next_header
        hdr[2:4] = struct.pack("!H", len(hdr) + data_len)
        hdr[10:12] = struct.pack("!H", ipv4_header_checksum(bytes(hdr)))
    else:
        hdr[6] = next_header
        hdr[4:6] = struct.pack("!H", data_len)
    return bytes(hdr)


def hexfield(vector: dict, key: str) -> bytes:
    """A hex string field of a vector as bytes, naming the field if it is not hex."""
    try:
        return bytes.fromhex(vector[key])
    except (KeyError, TypeError, ValueError) as err:
        raise VectorError("field %r: expected a hex string (%s)" % (key, err)) from err


def check_sa_fields(vector: dict) -> list:
    """Consistency of the SA fields with each other and with the ESP header."""
    problems = []
    if vector.get("aead") not in AEADS:
        raise VectorError("aead %r is not one of %s" % (vector.get("aead"), ", ".join(AEADS)))
    spi, seq, esn = vector["spi"], vector["seq"], vector["esn"]
    if not 0 <= spi <= 0xFFFFFFFF or not 0 <= seq <= 0xFFFFFFFFFFFFFFFF:
        raise VectorError("spi or seq out of range")
    if not esn and seq > 0xFFFFFFFF:
        problems.append("seq 0x%x needs ESN but esn is false" % seq)
    if "seq_hex" in vector and int(vector["seq_hex"], 16) != seq:
        problems.append("seq_hex %s != seq 0x%x" % (vector["seq_hex"], seq))
    esp, iv = hexfield(vector, "esp"), hexfield(vector, "iv")
    if len(iv) != IV_LEN:
        problems.append("iv is %d bytes" % len(iv))
    if esp[:4] != struct.pack("!I", spi):
        problems.append("esp SPI %s != spi 0x%08x" % (esp[:4].hex(), spi))
    if esp[4:8] != struct.pack("!I", seq & 0xFFFFFFFF):
        problems.append("esp sequence %s != low 32 bits of seq 0x%x" % (esp[4:8].hex(), seq))
    if esp[ESP_HDR_LEN:ESP_HDR_LEN + IV_LEN] != iv:
        problems.append("esp IV %s != iv" % esp[8:16].hex())
    return problems


def check_payload(vector: dict) -> list:
    """Decrypt, then check payload, trailer, next header versus mode, and inner."""
    esp = hexfield(vector, "esp")
    try:
        payload = esp_open(vector["aead"], hexfield(vector, "keymat"), esp, vector["seq"],
                           vector["esn"])
    except InvalidTag:
        return ["ICV does not verify"]
    problems = []
    tampered = esp[:-1] + bytes([esp[-1] ^ 1])
    try:
        esp_open(vector["aead"], hexfield(vector, "keymat"), tampered, vector["seq"], vector["esn"])
        problems.append("a corrupted ICV verifies: the check is broken")
    except InvalidTag:
        pass
    if payload != hexfield(vector, "payload"):
        problems.append("decrypted payload differs from 'payload'")
    data, padding, next_header = split_trailer(payload)
    if padding != bytes(range(1, len(padding) + 1)):
        problems.append("padding is not the RFC 4303 default 1, 2, 3, ...")
    if len(esp) % 4:
        problems.append("ESP length %d is not a multiple of 4" % len(esp))
    if "next_header" in vector and vector["next_header"] != next_header:
        problems.append("next_header %d, trailer says %d" % (vector["next_header"], next_header))
    want_mode = "tunnel" if next_header in TUNNEL_NEXT_HEADERS else "transport"
    if vector.get("mode") != want_mode:
        problems.append("mode %r but next header %d means %s" %
                        (vector.get("mode"), next_header, want_mode))
    problems += check_inner(vector, data, next_header)
    return problems


def check_inner(vector: dict, data: bytes, next_header: int) -> list:
    """'inner' must be what a receiver delivers: in tunnel mode the data, in transport mode the
    rewritten outer IP header followed by the data. A transport vector without an outer header
    has no 'inner' (the delivered header is unknown)."""
    outer_hex = vector.get("outer", "")
    if "inner" not in vector:
        if vector["mode"] == "transport" and not outer_hex:
            return []
        return ["'inner' missing"]
    inner = hexfield(vector, "inner")
    if vector["mode"] == "tunnel":
        want = data
    elif not outer_hex:
        return ["transport vector without 'outer' must not have 'inner'"]
    else:
        outer_bytes = hexfield(vector, "outer")
        info = parse_outer(outer_bytes + hexfield(vector, "esp"))
        want = transport_header(outer_bytes[:info.ip_hdr_len], next_header, len(data)) + data
    problems = [] if inner == want else ["'inner' is not what a receiver delivers"]
    if vector["mode"] == "tunnel" and inner:
        version = inner[0] >> 4
        if {PROTO_IPIP: 4, PROTO_IPV6: 6}[next_header] != version:
            problems.append("next header %d but inner packet is IPv%d" % (next_header, version))
    for key, offset in (("inner_src", 0), ("inner_dst", 1)):
        if key in vector and inner:
            addr = inner_addresses(inner)[offset]
            if addr != vector[key]:
                problems.append("%s %s, inner packet has %s" % (key, vector[key], addr))
    return problems


def inner_addresses(packet: bytes) -> tuple:
    """(src, dst) of an IPv4/IPv6 packet as strings."""
    if packet[0] >> 4 == 4:
        return str(ipaddress.ip_address(packet[12:16])), str(ipaddress.ip_address(packet[16:20]))
    return str(ipaddress.ip_address(packet[8:24])), str(ipaddress.ip_address(packet[24:40]))


def check_outer(vector: dict) -> list:
    """The outer header of a vector that gives one: structure, lengths, checksums, encap,
    and the inbound convention (the packet's destination is our local address)."""
    outer_bytes = hexfield(vector, "outer")
    if not outer_bytes:
        return []
    packet = outer_bytes + hexfield(vector, "esp")
    info = parse_outer(packet)
    problems = outer_problems(packet, info)
    if info.esp_offset != len(outer_bytes):
        problems.append("'outer' is %d bytes but ESP starts at %d" %
                        (len(outer_bytes), info.esp_offset))
    want_encap = "udp" if info.udp is not None else "raw"
    if vector.get("encap") != want_encap:
        problems.append("encap %r but the outer header is %s" % (vector.get("encap"), want_encap))
    if "local" in vector and (info.dst, info.src) != (vector["local"], vector["remote"]):
        problems.append("outer %s -> %s, want remote %s -> local %s" %
                        (info.src, info.dst, vector["remote"], vector["local"]))
    if info.udp is not None and "udp_sport" in vector:
        if info.udp[:2] != (vector["udp_sport"], vector["udp_dport"]):
            problems.append("UDP ports %d -> %d, vector says %d -> %d" %
                            (info.udp[0], info.udp[1], vector["udp_sport"], vector["udp_dport"]))
    return problems


def check_vector(vector: dict) -> list:
    """All problems found with one vector (empty list: it is good)."""
    problems = []
    for step in (check_sa_fields, check_outer, check_payload):
        try:
            problems += step(vector)
        except (VectorError, KeyError, TypeError, ValueError) as err:
            problems.append("%s: %s" % (type(err).__name__, err))
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("vectors", nargs="?", default=str(DEFAULT_VECTORS),
                        help="vector file (default: %(default)s)")
    args = parser.parse_args(argv)
    with open(args.vectors, encoding="utf-8") as f:
        vectors = load_vectors(f)
    passed = failed = 0
    for vector in vectors:
        problems = check_vector(vector)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (vector.get("name", "?"), "; ".join(problems)))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
