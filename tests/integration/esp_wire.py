#!/usr/bin/python3
"""ESP on the client's wire for the namespace test: scapy SAs, a tiny TCP, and the reply checker.

scapy (scapy.layers.ipsec.SecurityAssociation) builds and opens every ESP packet, so the client
shares no code with our C engine. A Pair holds the two SAs of one table entry (inbound: the client
seals with it; outbound: the client opens replies with it). open_reply() judges one IPv4 packet
from the wire: encapsulation and UDP header (RFC 3948), SPI, ICV, outer and inner addresses,
checksums, and that the reply's TCP source port lies in the outbound SA's selector. A Flow is one
TCP connection the client drives itself inside ESP; Client owns the sockets and the receive pump.

Wire: outgoing IP packets go through a raw IPPROTO_RAW socket (the kernel resolves the DVIPA's
MAC: the router answers ARP); replies are read from an AF_PACKET socket on the client's veth. A
raw protocol-50 socket and UDP sockets on the client's NAT-T ports stay open and unread so the
client kernel does not answer the replies with ICMP unreachables.
"""

import logging
import os
import random
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import check_rfc_vectors as vc  # noqa: E402  cryptography-only ESP helpers and checksums

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
# pylint: disable=wrong-import-position
from scapy.compat import raw  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation  # noqa: E402
from scapy.packet import Raw  # noqa: E402

SCAPY_ALGOS = {"aes128gcm16": "AES-GCM", "aes256gcm16": "AES-GCM",
               "chacha20poly1305": "CHACHA20-POLY1305"}
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ESP = 1, 6, 17, 50
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
REPLY_TIMEOUT = 3.0  # seconds per expected reply (2 cores, three busy-polling processes)


def now() -> float:
    """Monotonic seconds."""
    return time.monotonic()


def ip_str(data: bytes) -> str:
    """Dotted quad of 4 bytes."""
    return socket.inet_ntoa(data)


def tcp_checksum_ok(src: bytes, dst: bytes, segment: bytes) -> bool:
    """The TCP checksum over the IPv4 pseudo-header verifies."""
    pseudo = src + dst + struct.pack("!BBH", 0, PROTO_TCP, len(segment))
    return vc.inet_checksum(pseudo + segment) == 0


def flags_str(flags: int) -> str:
    """'SA', 'PA', ... for log lines."""
    return "".join(c for bit, c in ((TCP_FIN, "F"), (TCP_SYN, "S"), (TCP_RST, "R"),
                                    (TCP_PSH, "P"), (TCP_ACK, "A")) if flags & bit) or "."


class Pair:
    """One SA pair of the table: scapy SAs for sending (inbound SA) and opening replies
    (outbound SA), and what the client saw on the outbound SA."""

    def __init__(self, d: dict, dvipa: str, client: str):
        self.__dict__.update(d)
        self.dvipa = dvipa
        self.client = client
        algo = SCAPY_ALGOS[self.aead]
        tunnel = IP(src=client, dst=dvipa) if self.mode == "tunnel" else None
        nat_t = None
        if self.encap == "udp":
            nat_t = UDP(sport=self.udp_remote_port, dport=self.udp_local_port)
        self.tx = SecurityAssociation(ESP, spi=self.in_spi, crypt_algo=algo,
                                      crypt_key=bytes.fromhex(self.in_key),
                                      tunnel_header=tunnel, nat_t_header=nat_t)
        self.rx = SecurityAssociation(ESP, spi=self.out_spi, crypt_algo=algo,
                                      crypt_key=bytes.fromhex(self.out_key),
                                      tunnel_header=IP() if self.mode == "tunnel" else None)
        self.rx_seqs = []  # ESP sequence numbers received on the outbound SA, arrival order

    def label(self) -> str:
        """'aes128gcm16/tunnel/raw:5001'."""
        return "%s:%d" % (self.name, self.port)

    def seal(self, inner: bytes) -> tuple:
        """(ESP packet ready for the raw socket, its sequence number). scapy leaves the NAT-T
        UDP length at 8; fix it (checksum 0, RFC 3948 3.1.1)."""
        seq = self.tx.seq_num
        packet = bytearray(raw(self.tx.encrypt(IP(inner))))
        if self.encap == "udp":
            ihl = (packet[0] & 0x0F) * 4
            struct.pack_into("!HH", packet, ihl + 4, len(packet) - ihl, 0)
        return bytes(packet), seq


class Reply:
    """A decrypted TCP segment from the DVIPA (fields of the inner packet)."""

    def __init__(self, pair, esp_seq, inner: bytes):
        self.pair = pair
        self.esp_seq = esp_seq
        ihl = (inner[0] & 0x0F) * 4
        tcp = inner[ihl:]
        self.src, self.dst = ip_str(inner[12:16]), ip_str(inner[16:20])
        self.sport, self.dport, self.seq, self.ack = struct.unpack("!HHII", tcp[:12])
        self.flags = tcp[13]
        self.payload = tcp[(tcp[12] >> 4) * 4:]


def inner_problems(pair, inner: bytes) -> list:
    """What is wrong with a decrypted reply packet (addresses, checksums, selector)."""
    if len(inner) < 40 or inner[0] >> 4 != 4:
        return ["inner packet is not IPv4+TCP (%d bytes, first byte %02x)" %
                (len(inner), inner[0] if inner else 0)]
    ihl = (inner[0] & 0x0F) * 4
    problems = []
    if vc.inet_checksum(inner[:ihl]) != 0:
        problems.append("inner IPv4 header checksum wrong")
    if struct.unpack("!H", inner[2:4])[0] != len(inner):
        problems.append("inner IPv4 total length %d, packet %d bytes" %
                        (struct.unpack("!H", inner[2:4])[0], len(inner)))
    if inner[9] != PROTO_TCP:
        return problems + ["inner protocol %d, want TCP" % inner[9]]
    if (ip_str(inner[12:16]), ip_str(inner[16:20])) != (pair.dvipa, pair.client_addr):
        problems.append("inner %s -> %s, want %s -> %s" % (ip_str(inner[12:16]),
                        ip_str(inner[16:20]), pair.dvipa, pair.client_addr))
    if not tcp_checksum_ok(inner[12:16], inner[16:20], inner[ihl:]):
        problems.append("inner TCP checksum wrong")
    sport = struct.unpack("!H", inner[ihl:ihl + 2])[0]
    if sport != pair.port:
        problems.append("TCP source port %d under the outbound SA for port %d (selector)" %
                        (sport, pair.port))
    return problems


def open_reply(pairs_by_spi: dict, ip: bytes, client: str, dvipa: str):
    """Judge and open one IPv4 packet seen on the client's wire.

    Returns (None, None) if it is not an ESP reply from the DVIPA to the client (plain TCP for
    the kernel client, ARP, ...), else (Reply or None, [problems])."""
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return None, None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if (ip_str(ip[12:16]), ip_str(ip[16:20])) != (dvipa, client):
        return None, None
    if ip[9] not in (PROTO_ESP, PROTO_UDP):
        return None, None
    problems = []
    if total > len(ip) or total < ihl:
        return None, ["outer IPv4 total length %d but %d bytes arrived" % (total, len(ip))]
    ip = ip[:total]  # Ethernet padding
    if vc.inet_checksum(ip[:ihl]) != 0:
        problems.append("outer IPv4 header checksum wrong")
    udp = None
    if ip[9] == PROTO_UDP:
        if len(ip) < ihl + 8:
            return None, ["truncated UDP"]
        udp = struct.unpack("!HHHH", ip[ihl:ihl + 8])
        esp = ip[ihl + 8:]
        if len(esp) >= 4 and esp[:4] == bytes(4):
            return None, None  # IKE (non-ESP marker): not ours to judge
    else:
        esp = ip[ihl:]
    if len(esp) < 8 + 8 + 16:
        return None, problems + ["ESP of %d bytes is too short" % len(esp)]
    spi, seq = struct.unpack("!II", esp[:8])
    pair = pairs_by_spi.get(spi)
    if pair is None:
        return None, problems + ["reply with SPI 0x%08x, which is none of our outbound SAs" % spi]
    where = "%s (SPI 0x%08x seq %d)" % (pair.label(), spi, seq)
    if (udp is not None) != (pair.encap == "udp"):
        problems.append("%s: sent as %s, the SA says encap %s" %
                        (where, "ESP-in-UDP" if udp else "raw ESP", pair.encap))
    if udp is not None:
        if udp[2] != len(ip) - ihl:
            problems.append("%s: UDP length %d, datagram is %d bytes" %
                            (where, udp[2], len(ip) - ihl))
        if udp[3] != 0 and vc.udp_checksum(4, ip[12:16], ip[16:20], ip[ihl:]) != 0:
            problems.append("%s: UDP checksum 0x%04x wrong (must be 0 or valid)" %
                            (where, udp[3]))
        if pair.encap == "udp" and (udp[0], udp[1]) != (pair.udp_local_port,
                                                         pair.udp_remote_port):
            problems.append("%s: UDP ports %d -> %d, want %d -> %d" % (
                where, udp[0], udp[1], pair.udp_local_port, pair.udp_remote_port))
    pair.rx_seqs.append(seq)
    header = bytearray(ip[:ihl])
    header[9] = PROTO_ESP
    struct.pack_into("!H", header, 2, ihl + len(esp))
    struct.pack_into("!H", header, 10, 0)
    struct.pack_into("!H", header, 10, vc.inet_checksum(bytes(header)))
    try:
        clear = pair.rx.decrypt(IP(bytes(header) + esp))
    except IPSecIntegrityError:
        return None, problems + ["%s: ICV does not verify under the outbound SA" % where]
    except (TypeError, ValueError, IndexError) as err:
        return None, problems + ["%s: scapy cannot decrypt: %s" % (where, err)]
    if pair.mode == "tunnel":
        inner = getattr(clear, "original", None) or raw(clear)
    else:
        inner = raw(clear)
        inner = inner[:struct.unpack("!H", inner[2:4])[0]]
    bad = inner_problems(pair, inner)
    if bad:
        return None, problems + ["%s: %s" % (where, p) for p in bad]
    return Reply(pair, seq, inner), problems


class Flow:
    """One TCP connection the client drives through ESP (its own tiny TCP)."""

    def __init__(self, client, pair, sport: int, tag: str):
        self.client = client
        self.pair = pair
        self.sport = sport
        self.tag = tag
        self.isn = random.getrandbits(32)
        self.snd_nxt = self.isn
        self.rcv_nxt = None
        self.synack_ack = None
        self.rst = False
        self.data = b""
        self.replies = 0
        self.trace = []  # what arrived, for failure messages: "SA", "PA:11", ...
        self.sent = {}  # label -> (ESP packet bytes, ESP seq), to replay or corrupt

    def segment(self, flags: int, payload: bytes = b"") -> bytes:
        """The inner IPv4/TCP packet of our next segment (checksums by scapy)."""
        options = [("MSS", 1260)] if flags & TCP_SYN else []
        tcp = TCP(sport=self.sport, dport=self.pair.port, seq=self.snd_nxt,
                  ack=self.rcv_nxt or 0, flags=flags, window=64240, options=options)
        ip = IP(src=self.pair.client_addr, dst=self.pair.dvipa, id=random.getrandbits(16),
                flags="DF", ttl=64)
        return raw(ip / tcp / Raw(payload)) if payload else raw(ip / tcp)

    def build(self, flags: int, payload: bytes = b"") -> tuple:
        """(ESP packet, seq) of our next segment; advances snd_nxt."""
        packet = self.pair.seal(self.segment(flags, payload))
        self.snd_nxt = (self.snd_nxt + len(payload) + (1 if flags & TCP_SYN else 0)) & 0xFFFFFFFF
        return packet

    def send(self, label: str, flags: int, payload: bytes = b""):
        """Build, remember under label, send."""
        self.sent[label] = self.build(flags, payload)
        self.client.send(self.sent[label][0])

    def syn(self):
        """(Re)send the SYN."""
        self.snd_nxt = self.isn
        self.send("syn", TCP_SYN)

    def lines(self) -> list:
        """Complete lines received so far."""
        return [line.decode(errors="replace") for line in self.data.split(b"\n")[:-1]]

    def answered(self, line: str):
        """The target name if '<name> <line>' arrived, else None."""
        for got in self.lines():
            name, _, rest = got.partition(" ")
            if rest == line:
                return name
        return None

    def on_reply(self, r: Reply):
        """Our TCP: take the SYN-ACK, take in-order data and ACK it, note RSTs."""
        self.replies += 1
        self.trace.append(flags_str(r.flags) + (":%d" % len(r.payload) if r.payload else ""))
        if r.flags & TCP_RST:
            self.rst = True
            return
        if r.flags & TCP_SYN and r.flags & TCP_ACK:
            if self.rcv_nxt is None:
                self.synack_ack = r.ack
                self.rcv_nxt = (r.seq + 1) & 0xFFFFFFFF
            elif self.client.auto_ack:  # retransmitted SYN-ACK: our ACK got lost
                self.client.send(self.build(TCP_ACK)[0])
            return
        if self.rcv_nxt is None:
            return
        advance = 0
        if r.payload and r.seq == self.rcv_nxt:
            self.data += r.payload
            advance = len(r.payload)
        if r.flags & TCP_FIN and (r.seq + len(r.payload)) & 0xFFFFFFFF == \
                (self.rcv_nxt + advance) & 0xFFFFFFFF:
            advance += 1
        self.rcv_nxt = (self.rcv_nxt + advance) & 0xFFFFFFFF
        if (r.payload or r.flags & TCP_FIN) and self.client.auto_ack:
            self.client.send(self.build(TCP_ACK)[0])


class Client:
    """Sockets, the receive pump, the flows, and everything judged about replies."""

    def __init__(self, test: dict, iface: str):
        self.test = test
        self.iface = iface
        self.dvipa = test["dvipa"]
        self.client = test["client"]
        self.pairs = [Pair(p, self.dvipa, self.client) for p in test["pairs"]]
        self.by_spi = {p.out_spi: p for p in self.pairs}
        self.in_spis = {p.in_spi for p in self.pairs}
        self.flows = {}
        self.problems = {}  # reply problem -> count
        self.replies = 0
        self.esp_sent = 0
        self.auto_ack = True
        self.arp_replies = []
        self.icmp_seen = []
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        # not bound: every interface of the client's namespace (a target with an uplink answers
        # on its own)
        self.rx.setblocking(False)
        # Unread sinks: without them the client kernel answers replies with ICMP unreachables.
        self.sinks = [socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO_ESP)]
        for port in sorted({p.udp_remote_port for p in self.pairs if p.encap == "udp"}):
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.bind((self.client, port))
            self.sinks.append(sink)
        self.mac = bytes.fromhex(open("/sys/class/net/%s/address" % iface).read().strip()
                                 .replace(":", ""))

    def send(self, packet: bytes):
        """One IP packet out through the kernel (which resolves the next hop)."""
        self.tx.sendto(packet, (self.dvipa, 0))
        self.esp_sent += 1

    def flow(self, pair, sport, tag) -> Flow:
        """A new flow, registered for the pump."""
        f = Flow(self, pair, sport, tag)
        self.flows[(pair.port, sport)] = f
        return f

    def problem(self, text: str):
        """Count one reply problem (printed once with its count at the end)."""
        self.problems[text] = self.problems.get(text, 0) + 1

    def handle_frame(self, frame: bytes):
        """One received Ethernet frame."""
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype == ETH_P_ARP:
            if len(frame) >= 42 and frame[20:22] == b"\x00\x02":
                self.arp_replies.append((ip_str(frame[28:32]), frame[22:28].hex(":")))
            return
        if ethertype != ETH_P_IP:
            return
        ip = frame[14:]
        if len(ip) >= 20 and ip[9] == PROTO_ICMP and ip_str(ip[16:20]) == self.client:
            self.icmp_seen.append(ip)
        reply, problems = open_reply(self.by_spi, ip, self.client, self.dvipa)
        for p in problems or ():
            self.problem(p)
        if reply is None:
            return
        self.replies += 1
        f = self.flows.get((reply.sport, reply.dport))
        if f is None:
            self.problem("reply for a flow we never opened: %s:%d -> %s:%d" %
                         (reply.src, reply.sport, reply.dst, reply.dport))
            return
        f.on_reply(reply)

    def pump(self, timeout: float, until=None) -> bool:
        """Receive and handle until until() holds or timeout passes; returns until()'s value."""
        deadline = now() + timeout
        while True:
            if until is not None and until():
                return True
            remaining = deadline - now()
            if remaining <= 0:
                return until() if until is not None else True
            ready, _, _ = select.select([self.rx], [], [], remaining)
            if not ready:
                continue
            while True:
                try:
                    frame, addr = self.rx.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:
                    self.handle_frame(frame)

    def ping(self, timeout: float) -> bool:
        """Whether an ICMP echo to the DVIPA is answered."""
        ident = random.getrandbits(16)
        self.tx.sendto(raw(IP(src=self.client, dst=self.dvipa) / ICMP(id=ident, seq=1)),
                       (self.dvipa, 0))

        def answered():
            return any(ip[9] == PROTO_ICMP and ip[(ip[0] & 0x0F) * 4] == 0 and
                       struct.unpack("!H", ip[(ip[0] & 0x0F) * 4 + 4:(ip[0] & 0x0F) * 4 + 6])[0]
                       == ident for ip in self.icmp_seen)
        return self.pump(timeout, answered)

    def arp(self, timeout: float):
        """Ask for the DVIPA's MAC on the wire; the answering MAC or None."""
        request = (b"\xff" * 6 + self.mac + struct.pack("!H", ETH_P_ARP) +
                   struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 1) + self.mac +
                   socket.inet_aton(self.client) + bytes(6) + socket.inet_aton(self.dvipa))
        deadline = now() + timeout
        while now() < deadline:
            self.rx.sendto(request, (self.iface, 0))
            self.pump(0.5, lambda: any(ip == self.dvipa for ip, _ in self.arp_replies))
            for ip, mac in self.arp_replies:
                if ip == self.dvipa:
                    return mac
        return None


def keystream_open(aead: str, keymat: bytes, esp: bytes, length: int) -> bytes:
    """The first `length` plaintext bytes of an ESP packet WITHOUT checking the ICV (what a router
    peeks): AES-GCM's first payload block is AES-CTR with counter block salt||IV||2 (RFC 4106),
    ChaCha20-Poly1305's is the ChaCha20 block with counter 1 (RFC 7634)."""
    cls_key_len = vc.AEADS[aead][1]
    key, salt, iv = keymat[:cls_key_len], keymat[cls_key_len:], esp[8:16]
    ciphertext = esp[16:16 + max(0, min(length, len(esp) - 32))]
    if aead == "chacha20poly1305":
        cipher = Cipher(algorithms.ChaCha20(key, struct.pack("<I", 1) + salt + iv), None)
    else:
        cipher = Cipher(algorithms.AES(key), modes.CTR(salt + iv + struct.pack("!I", 2)))
    return cipher.decryptor().update(ciphertext)


def strip_udp(packet: bytes) -> bytes:
    """An ESP-in-UDP IPv4 packet as raw ESP (what a RFC 3948 receiver decrypts)."""
    ihl = (packet[0] & 0x0F) * 4
    if packet[9] != PROTO_UDP:
        return packet
    esp = packet[ihl + 8:]
    header = bytearray(packet[:ihl])
    header[9] = PROTO_ESP
    struct.pack_into("!H", header, 2, ihl + len(esp))
    struct.pack_into("!H", header, 10, 0)
    struct.pack_into("!H", header, 10, vc.inet_checksum(bytes(header)))
    return bytes(header) + esp
