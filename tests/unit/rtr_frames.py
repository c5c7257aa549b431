#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Frames for the router classifier and GRE tests, made and checked with scapy (not our C code).

  rtr_frames.py classify-gen OUT.json       the classifier's table: frame, expected exit, reason or
                                            reply kind, expected esp_pkt_info for the IP exits
  rtr_frames.py classify-check PCAP COUNT   PCAP holds (request, answer) pairs from the classifier:
                                            every answer checked field by field, and its checksums
                                            against the ones scapy computes itself
  rtr_frames.py seeds CLASSIFY_DIR GRE_DIR  fuzz seeds (a flags byte 0, then the frame)
"""
import json
import os
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, ICMPv6DestUnreach, IPOption_RR, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, rdpcap,
                       raw)
from scapy.layers.l2 import GRE

PORT_MAC = "02:00:00:00:00:01"
PEER_MAC = "02:00:00:00:00:0a"
OTHER_MAC = "02:00:00:00:00:99"
DVIPA4 = "192.0.2.1"
DVIPA4_B = "192.0.2.2"
DVIPA6 = "2001:db8::1"
PEER4 = "198.51.100.10"
PEER6 = "2001:db8:1::10"
SOLICITED6 = "ff02::1:ff00:1"  # solicited-node group of DVIPA6
ESP_BYTES = bytes.fromhex("00001001" "00000001") + bytes(range(40))  # SPI 0x1001, seq 1


def eth(dst=PORT_MAC, src=PEER_MAC):
    return Ether(dst=dst, src=src)


def ip4(dst=DVIPA4, src=PEER4, **kw):
    return eth() / IP(src=src, dst=dst, **kw)


def ip6(dst=DVIPA6, src=PEER6, **kw):
    return eth() / IPv6(src=src, dst=dst, **kw)


def ns(target=DVIPA6, src=PEER6, dst=SOLICITED6, hlim=255, slla=True, **kw):
    p = eth(dst="33:33:ff:00:00:01") / IPv6(src=src, dst=dst, hlim=hlim) / \
        ICMPv6ND_NS(tgt=target, **kw)
    return p / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC) if slla else p


def ip_info(pkt):
    """esp_pkt_info as esp_parse_outer() must fill it, computed from scapy's layers."""
    pkt = Ether(raw(pkt))
    l3 = pkt[IP] if IP in pkt else pkt[IPv6]
    ip_bytes = raw(l3)
    if IP in pkt:
        ip_len, l3_len, proto_off = pkt[IP].len, pkt[IP].ihl * 4, 9
    else:
        ip_len, l3_len, proto_off = 40 + pkt[IPv6].plen, 40, 6
        layer = pkt[IPv6].payload
        while isinstance(layer, (IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop)):
            proto_off = l3_len
            l3_len += len(raw(layer)) - len(raw(layer.payload))
            layer = layer.payload
    udp = 1 if UDP in pkt and pkt[UDP].dport == 4500 and \
        ip_bytes[l3_len + 8:l3_len + 12] != b"\0\0\0\0" else 0
    proto = ip_bytes[proto_off]
    esp_off = l3_len + 8 if udp else (l3_len if proto == 50 else 0)
    return {"ip_len": ip_len, "l3_len": l3_len, "esp_off": esp_off, "proto_off": proto_off,
            "family": 4 if IP in pkt else 6, "udp": udp}


def classify_cases():
    """(name, frame bytes, exit, reason-or-reply-kind, scapy packet or None)"""
    c = []

    def add(name, pkt, exit_, why="", frame=None):
        frame = frame if frame is not None else raw(pkt)
        c.append((name, frame, exit_, why, pkt))

    esp = Raw(ESP_BYTES)
    # -- esp
    add("esp4", ip4(proto=50) / esp, "esp")
    add("esp4_second_dvipa", ip4(dst=DVIPA4_B, proto=50) / esp, "esp")
    add("esp4_udp", ip4() / UDP(sport=4500, dport=4500) / esp, "esp")
    add("esp4_udp_nat_port", ip4() / UDP(sport=34567, dport=4500) / esp, "esp")
    add("esp4_bcast_mac", Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) /
        IP(src=PEER4, dst=DVIPA4, proto=50) / esp, "esp")
    add("esp4_ip_options", ip4(proto=50, options=[IPOption_RR(routers=["0.0.0.0"])]) / esp, "esp")
    short = ip4(proto=50) / Raw(ESP_BYTES[:8])
    add("esp4_eth_padding", short, "esp", frame=raw(short) + bytes(60 - len(raw(short))))
    add("esp6", ip6(nh=50) / esp, "esp")
    add("esp6_udp", ip6() / UDP(sport=4500, dport=4500) / esp, "esp")
    add("esp6_dstopts", ip6() / IPv6ExtHdrDestOpt(nh=50) / esp, "esp")
    # -- ike
    ike = Raw(bytes(8) + bytes.fromhex("21202208") + bytes(16))  # SPIs, next payload, version...
    add("ike4_500", ip4() / UDP(sport=500, dport=500) / ike, "ike")
    add("ike4_4500_marker", ip4() / UDP(sport=4500, dport=4500) / Raw(bytes(4)) / ike, "ike")
    add("ike6_500", ip6() / UDP(sport=500, dport=500) / ike, "ike")
    add("ike6_4500_marker", ip6() / UDP(sport=4500, dport=4500) / Raw(bytes(4)) / ike, "ike")
    # -- tcp
    add("tcp4_syn", ip4() / TCP(sport=40000, dport=443, flags="S"), "tcp")
    add("tcp6_data", ip6() / TCP(sport=40000, dport=443, flags="PA") / Raw(b"hello"), "tcp")
    # -- reply
    add("arp_request", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=PEER_MAC, psrc=PEER4, pdst=DVIPA4), "reply", "arp")
    add("arp_request_second_dvipa", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=PEER_MAC, psrc=PEER4, pdst=DVIPA4_B), "reply", "arp")
    add("arp_probe", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=PEER_MAC, psrc="0.0.0.0", pdst=DVIPA4), "reply", "arp")
    for n in (0, 1, 7, 56, 1001):
        add("echo4_%d" % n, ip4() / ICMP(type=8, id=0x1234, seq=n) / Raw(bytes((i * 7 + n) & 0xff
            for i in range(n))), "reply", "echo4")
    # all zero after the type: the RFC 1624 update would give 0x0000, scapy wants 0xffff
    add("echo4_all_zero", ip4() / ICMP(type=8, id=0, seq=0), "reply", "echo4")
    add("echo4_bad_checksum", ip4() / ICMP(type=8, id=1, seq=1, chksum=0x1234), "drop",
        "bad_icmp_checksum")
    add("echo6_bad_checksum", ip6() / ICMPv6EchoRequest(id=1, seq=1, cksum=0x1234), "drop",
        "bad_icmp_checksum")
    add("echo4_ip_options", ip4(options=[IPOption_RR(routers=["0.0.0.0"] * 2)]) /
        ICMP(type=8, id=7, seq=1) / Raw(b"abc"), "reply", "echo4")
    for n in (0, 1, 33, 56, 999):
        add("echo6_%d" % n, ip6() / ICMPv6EchoRequest(id=0x4321, seq=n, data=bytes(
            (i * 13 + n) & 0xff for i in range(n))), "reply", "echo6")
    add("ns_multicast_slla", ns(), "reply", "na")
    add("ns_unicast", ns(dst=DVIPA6), "reply", "na")
    add("ns_no_option", ns(slla=False), "reply", "na")
    add("ns_dad", ns(src="::", slla=False), "reply", "na")

    # -- drops, one or more per reason (multi_segment and no_room_for_reply are built in C)
    add("trunc_ether", None, "drop", "truncated", frame=raw(eth())[:10])
    add("trunc_ipv4_total_length", None, "drop", "truncated",
        frame=raw(ip4(proto=50) / esp)[:-1])
    add("trunc_esp_header", ip4(proto=50) / Raw(b"\0\0\x10\x01\0\0"), "drop", "truncated")
    add("trunc_udp_header", ip4(proto=17) / Raw(b"\x01\xf4\x01\xf4"), "drop", "truncated")
    add("trunc_tcp_header", ip4(proto=6) / Raw(bytes(19)), "drop", "truncated")
    add("trunc_icmp_header", ip4(proto=1) / Raw(b"\x08\0\0\0"), "drop", "truncated")
    add("trunc_icmpv6_header", ip6(nh=58) / Raw(b"\x80\0\0\0"), "drop", "truncated")
    add("trunc_arp", None, "drop", "truncated", frame=raw(eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=PEER_MAC, psrc=PEER4, pdst=DVIPA4))[:41])
    add("trunc_ipv6_header", None, "drop", "truncated", frame=raw(ip6(nh=50) / esp)[:14 + 39])
    add("trunc_udp4500_esp", ip4() / UDP(sport=4500, dport=4500) / Raw(b"\x01\x02\x03"), "drop",
        "truncated")
    add("not_our_mac", Ether(dst=OTHER_MAC, src=PEER_MAC) / IP(src=PEER4, dst=DVIPA4, proto=50) /
        esp, "drop", "not_our_mac")
    add("vlan_tagged", eth() / Dot1Q(vlan=5) / IP(src=PEER4, dst=DVIPA4, proto=50) / esp, "drop",
        "unsupported_ethertype")
    add("lldp", Ether(dst="01:80:c2:00:00:0e", src=PEER_MAC, type=0x88cc) / Raw(bytes(30)), "drop",
        "unsupported_ethertype")
    add("ipv4_type_v6_packet", None, "drop", "bad_ip_header",
        frame=raw(Ether(dst=PORT_MAC, src=PEER_MAC, type=0x0800) /
                  IPv6(src=PEER6, dst=DVIPA6) / esp))
    add("ipv6_type_v4_packet", None, "drop", "bad_ip_header",
        frame=raw(Ether(dst=PORT_MAC, src=PEER_MAC, type=0x86dd) / IP(src=PEER4, dst=DVIPA4,
                                                                       proto=50) / esp))
    add("ipv4_ihl_4", ip4(proto=50, ihl=4) / esp, "drop", "bad_ip_header")
    add("ipv4_len_below_ihl", ip4(proto=50, len=19) / esp, "drop", "bad_ip_header")
    add("ipv4_bad_checksum", ip4(proto=50, chksum=0x1234) / esp, "drop", "bad_ip_checksum")
    add("src_multicast4", ip4(proto=50, src="224.0.0.5") / esp, "drop", "bad_src_addr")
    add("src_broadcast4", ip4(proto=50, src="255.255.255.255") / esp, "drop", "bad_src_addr")
    add("src_zero4", ip4(proto=50, src="0.0.0.0") / esp, "drop", "bad_src_addr")
    add("src_multicast6", ip6(nh=50, src="ff02::1") / esp, "drop", "bad_src_addr")
    add("src_unspecified6_tcp", ip6(src="::") / TCP(dport=443), "drop", "bad_src_addr")
    add("src_unspecified6_esp", ip6(src="::", nh=50) / esp, "drop", "bad_src_addr")
    add("src_mac_multicast", Ether(dst=PORT_MAC, src="01:00:5e:00:00:01") /
        IP(src=PEER4, dst=DVIPA4, proto=50) / esp, "drop", "bad_src_addr")
    add("arp_sender_mac_multicast", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc="01:00:5e:00:00:01", psrc=PEER4, pdst=DVIPA4), "drop", "bad_src_addr")
    add("not_dvipa4", ip4(dst="192.0.2.99", proto=50) / esp, "drop", "not_for_dvipa")
    add("not_dvipa6", ip6(dst="2001:db8::99", nh=50) / esp, "drop", "not_for_dvipa")
    add("solicited_group_udp", ip6(dst=SOLICITED6) / UDP(dport=500) / ike, "drop", "not_for_dvipa")
    add("solicited_group_esp", ip6(dst=SOLICITED6, nh=50) / esp, "drop", "not_for_dvipa")
    add("solicited_group_echo", ip6(dst=SOLICITED6) / ICMPv6EchoRequest(), "drop", "not_for_dvipa")
    add("ns_other_target", ns(target="2001:db8::99"), "drop", "not_for_dvipa")
    add("fragment4_mf", ip4(proto=50, flags="MF") / esp, "drop", "fragment")
    add("fragment4_offset", ip4(proto=50, frag=100) / esp, "drop", "fragment")
    add("fragment6", ip6() / IPv6ExtHdrFragment(nh=50) / esp, "drop", "fragment")
    deep = IPv6ExtHdrDestOpt(nh=60) / IPv6ExtHdrDestOpt(nh=60) / IPv6ExtHdrDestOpt(nh=60) / \
        IPv6ExtHdrDestOpt(nh=60) / IPv6ExtHdrDestOpt(nh=50)
    add("ext6_too_many", ip6() / deep / esp, "drop", "unsupported_ext_header")
    add("echo6_with_hbh", ip6() / IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(), "drop",
        "unsupported_ext_header")
    add("udp500_bad_length", ip4() / UDP(sport=500, dport=500, len=9) / ike, "drop",
        "bad_udp_length")
    add("udp4500_bad_length", ip4() / UDP(sport=4500, dport=4500, len=100) / esp, "drop",
        "bad_udp_length")
    add("natt_keepalive4", ip4() / UDP(sport=4500, dport=4500) / Raw(b"\xff"), "drop",
        "natt_keepalive")
    add("natt_keepalive6", ip6() / UDP(sport=4500, dport=4500) / Raw(b"\xff"), "drop",
        "natt_keepalive")
    add("udp_dns", ip4() / UDP(sport=5353, dport=53) / Raw(bytes(12)), "drop", "udp_other_port")
    add("icmp_unreachable", ip4() / ICMP(type=3, code=1) / Raw(bytes(28)), "drop", "icmp_not_echo")
    add("icmp_echo_reply", ip4() / ICMP(type=0), "drop", "icmp_not_echo")
    add("icmp_echo_code_1", ip4() / ICMP(type=8, code=1), "drop", "icmp_not_echo")
    add("icmpv6_unreachable", ip6() / ICMPv6DestUnreach() / Raw(bytes(48)), "drop",
        "icmp_not_echo")
    add("icmpv6_echo_reply", ip6() / ICMPv6EchoReply(), "drop", "icmp_not_echo")
    add("icmpv6_rs", ip6() / ICMPv6ND_RS(), "drop", "icmp_not_echo")
    add("ns_hop_limit_64", ns(hlim=64), "drop", "bad_nd")
    add("ns_code_1", ns(code=1), "drop", "bad_nd")
    add("ns_bad_checksum", ns(cksum=0x1234), "drop", "bad_nd")
    add("ns_short", ip6(dst=SOLICITED6, hlim=255, nh=58) / Raw(bytes([135]) + bytes(19)), "drop",
        "bad_nd")
    add("ns_zero_length_option", ns(slla=False) / Raw(b"\x01\x00" + bytes(6)), "drop", "bad_nd")
    add("ns_option_overrun", ns(slla=False) / Raw(b"\x01\x02" + bytes(6)), "drop", "bad_nd")
    add("ns_dad_with_slla", ns(src="::"), "drop", "bad_nd")
    add("ns_dad_unicast", ns(src="::", dst=DVIPA6, slla=False), "drop", "bad_nd")
    add("arp_reply", eth() / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER4, pdst=DVIPA4, hwdst=PORT_MAC),
        "drop", "arp_not_request_for_dvipa")
    add("arp_request_other", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=PEER_MAC, psrc=PEER4, pdst="192.0.2.99"), "drop",
        "arp_not_request_for_dvipa")
    add("arp_gratuitous_dvipa", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=PEER_MAC, psrc=DVIPA4, pdst=DVIPA4), "drop", "arp_not_request_for_dvipa")
    add("arp_ptype_other", eth(dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, ptype=0x86dd, hwsrc=PEER_MAC, psrc=PEER4, pdst=DVIPA4), "drop",
        "arp_not_request_for_dvipa")
    add("ip4_proto_gre", ip4(proto=47) / Raw(bytes(24)), "drop", "ip_proto_other")
    add("ip4_proto_icmpv6", ip4(proto=58) / Raw(bytes(24)), "drop", "ip_proto_other")
    add("ip6_proto_icmp", ip6(nh=1) / Raw(b"\x08\0\0\0\0\0\0\0"), "drop", "ip_proto_other")
    return c


def classify_gen(out):
    cases = []
    for name, frame, exit_, why, pkt in classify_cases():
        case = {"name": name, "frame": frame.hex(), "exit": exit_, "why": why}
        if exit_ in ("esp", "ike", "tcp"):
            case.update(ip_info(pkt))
        # bytes a valid frame needs: any shorter prefix must count as truncated
        p = Ether(frame) if len(frame) >= 14 else Raw(frame)
        case["need"] = 42 if ARP in p else 14 + p[IP].len if IP in p else \
            54 + p[IPv6].plen if IPv6 in p else 14
        cases.append(case)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"port_mac": PORT_MAC, "dvipas": [DVIPA4, DVIPA4_B, DVIPA6], "cases": cases}, f,
                  indent=1)


def rebuilt(pkt, layer, field):
    """The checksum scapy computes for layer.field of pkt, every other byte as it is."""
    c = pkt.copy()
    setattr(c[layer], field, None)
    return getattr(Ether(raw(c))[layer], field)


def check(cond, what, errors):
    if not cond:
        errors.append(what)


def check_pair(req, ans, errors):
    tag = "%s -> %s" % (req.summary(), ans.summary())
    e = []
    check(ans[Ether].src == PORT_MAC, "ether src", e)
    if ARP in req:
        a, r = ans[ARP], req[ARP]
        check(a.op == 2 and a.hwsrc == PORT_MAC and a.psrc == r.pdst, "arp sender", e)
        check(a.hwdst == r.hwsrc and a.pdst == r.psrc, "arp target", e)
        check(ans[Ether].dst == req[Ether].src, "ether dst", e)
    elif ICMP in req:
        a, r = ans[IP], req[IP]
        check(a.src == r.dst and a.dst == r.src and a.ttl == 64 and a.ihl == 5, "ip header", e)
        check(a.chksum == rebuilt(ans, IP, "chksum"), "ip checksum %#x" % a.chksum, e)
        check(ans[ICMP].type == 0 and ans[ICMP].code == 0, "icmp type", e)
        check(ans[ICMP].id == req[ICMP].id and ans[ICMP].seq == req[ICMP].seq, "icmp id/seq", e)
        check(raw(ans[ICMP].payload) == raw(req[ICMP].payload), "icmp payload", e)
        want = rebuilt(ans, ICMP, "chksum")
        check(ans[ICMP].chksum == want,
              "icmp checksum %#x, scapy %#x" % (ans[ICMP].chksum, want), e)
        check(len(raw(ans)) == 14 + a.len, "frame length", e)
        check(ans[Ether].dst == req[Ether].src, "ether dst", e)
    elif ICMPv6EchoRequest in req:
        a, r = ans[IPv6], req[IPv6]
        check(a.src == r.dst and a.dst == r.src and a.hlim == 64, "ipv6 header", e)
        x, y = ans[ICMPv6EchoReply], req[ICMPv6EchoRequest]
        check(x.id == y.id and x.seq == y.seq and x.data == y.data, "echo id/seq/data", e)
        want = rebuilt(ans, ICMPv6EchoReply, "cksum")
        check(x.cksum == want, "icmpv6 checksum %#x, scapy %#x" % (x.cksum, want), e)
        check(ans[Ether].dst == req[Ether].src, "ether dst", e)
    elif ICMPv6ND_NS in req:
        a, r = ans[IPv6], req[IPv6]
        dad = r.src == "::"
        na = ans[ICMPv6ND_NA]
        check(a.src == req[ICMPv6ND_NS].tgt and a.hlim == 255 and a.plen == 32, "ipv6 header", e)
        check(a.dst == ("ff02::1" if dad else r.src), "ipv6 dst %s" % a.dst, e)
        check(ans[Ether].dst == ("33:33:00:00:00:01" if dad else req[Ether].src), "ether dst", e)
        check(na.R == 0 and na.S == (0 if dad else 1) and na.O == 1, "na flags", e)
        check(na.tgt == req[ICMPv6ND_NS].tgt, "na target", e)
        check(ICMPv6NDOptDstLLAddr in ans and ans[ICMPv6NDOptDstLLAddr].lladdr == PORT_MAC,
              "target link-layer address option", e)
        want = rebuilt(ans, ICMPv6ND_NA, "cksum")
        check(na.cksum == want, "icmpv6 checksum %#x, scapy %#x" % (na.cksum, want), e)
        check(len(raw(ans)) == 86, "frame length %d" % len(raw(ans)), e)
    else:
        e.append("unexpected request")
    if e:
        errors.append("%s: %s" % (tag, ", ".join(e)))


def classify_check(pcap, count):
    pkts = rdpcap(pcap)
    errors = []
    if len(pkts) != 2 * count:
        errors.append("%d frames in %s, expected %d pairs" % (len(pkts), pcap, count))
    for i in range(0, len(pkts) - 1, 2):
        check_pair(pkts[i], pkts[i + 1], errors)
    for err in errors:
        print("FAIL", err)
    print("%d answers checked with scapy, %d failures" % (len(pkts) // 2, len(errors)))
    return 1 if errors else 0


def gre_frames():
    link = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
        IP(src="10.255.0.1", dst="10.255.0.2", flags="DF")
    inner4 = IP(src=PEER4, dst=DVIPA4, proto=50) / Raw(ESP_BYTES)
    inner6 = IPv6(src=PEER6, dst=DVIPA6) / UDP(sport=4500, dport=4500) / Raw(ESP_BYTES)
    return [
        link / GRE(key_present=1, key=7, proto=0x0800) / inner4,
        link / GRE(key_present=1, key=0x80000009, seqnum_present=1, sequence_number=5,
                   proto=0x86dd) / inner6,
        link / GRE(chksum_present=1, key_present=1, key=0xffffff, proto=0x0800) /
        (IP(src=PEER4, dst=DVIPA4) / TCP(dport=443, flags="S")),
        link / GRE(key_present=1, key=3, seqnum_present=1, sequence_number=1, proto=0x88b5) /
        Raw(bytes.fromhex("0101000100020000") + bytes(24)),
    ]


def seeds(classify_dir, gre_dir):
    """Seeds for fuzz_classify and fuzz_gre_decap: a flags byte (0) then the frame."""
    for d in (classify_dir, gre_dir):
        os.makedirs(d, exist_ok=True)
    for i, (name, frame, _, _, _) in enumerate(classify_cases()):
        with open(os.path.join(classify_dir, "%03d-%s" % (i, name)), "wb") as f:
            f.write(b"\0" + frame)
    for i, p in enumerate(gre_frames()):
        with open(os.path.join(gre_dir, "gre%03d" % i), "wb") as f:
            f.write(b"\0" + raw(p))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "classify-gen":
        classify_gen(sys.argv[2])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "classify-check":
        return classify_check(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) == 4 and sys.argv[1] == "seeds":
        seeds(sys.argv[2], sys.argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
