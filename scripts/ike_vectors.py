#!/usr/bin/python3
"""IKEv2 message vectors from an independent implementation (scapy), and a checker for the
messages our codec (controlplane/ike/ike_msg.h) writes.

Why: the C codec must read what other implementations write and write what they read. scapy's
scapy.contrib.ikev2 (python3-scapy 2.5.0) shares no code with it. `gen` makes scapy build a set of
messages (strongSwan-like IKE_SA_INIT, a COOKIE response, IKE_AUTH, CREATE_CHILD_SA and
INFORMATIONAL with SK payloads, traffic selectors, unknown payloads, bad versions) and writes,
next to each message, the text form (ike_payloads_dump() in controlplane/ike/ike_dump.c) of the
fields it was built from; the C test must decode every field the same. `check` goes the other way:
scapy decodes the messages our writer made and prints the same text form, which must equal ours.

Subcommands
  gen OUT.json                    write the vectors (deterministic: same bytes on every run)
  verify VECTORS.json             regenerate in memory: must equal the file; and scapy's own
                                  decode of each vector must print the expected text
  check VECTORS.json OURS.json    scapy decodes our messages; prints failures, 'N passed, M failed'
  interop TEST_BIN VECTORS.json WORKDIR
                                  verify, run `TEST_BIN --emit WORKDIR/ours.json VECTORS.json`,
                                  then check (the meson test `ike_scapy`)

Conventions
  * SK payloads use a null cipher: 8 bytes of IV, the inner payloads in clear, padding, the pad
    length byte, then a 16-byte ICV (the sizes of AES-GCM and ChaCha20-Poly1305). Neither side
    encrypts; the point is the framing and the offsets the crypto layer will use.
  * Text form: see ike_dump.c. Lines: hdr, then per payload in wire order: sa / prop / xf, ke, idi,
    idr, cert, certreq, auth, nonce, notify, delete, vendor, tsi / tsr / ts, cp, sk, payload
    (unknown type). Byte strings in lowercase hex. Reserved fields, the minor version, the
    critical bit of known payloads and padding are not printed (receivers ignore them).

scapy 2.5.0 quirks worked around here (all in scapy/contrib/ikev2.py)
  * next_payload is filled in only for the first payload (from the IKEv2 header); between
    payloads it stays 0, so every payload's next_payload is set explicitly.
  * IKEv2_payload_Delete is a copy of the Vendor ID layer (one opaque field): the Delete body
    (protocol, SPI size, number of SPIs, SPIs) is packed here with struct.
  * IKEv2_payload_Notify's length ignores the SPI (len(data) + 8) and its decode reads len - 8
    data bytes after the SPI, overrunning into the next payload: the length is set explicitly,
    and the checker decodes each payload from its own bytes (chain framing walked here).
  * IKEv2_payload_IDi and IKEv2_payload_CP compute their length from a field that does not exist
    (build raises): the length is set explicitly. CP is also overloaded with next_payload 46.
  * IKEv2_payload_Proposal's trans_nb defaults to 0, IKEv2_payload_Transform's key_length is only
    built if length is set to 12, IPv6TrafficSelector's length defaults to 20 (it is 40).
  * The generic IKEv2_payload's flag named "critical" is bit 0 (0x01); the RFC 7296 critical bit
    is the top bit (0x80): the flags byte is written as a number.
  * TrafficSelector dispatch falls back to IPv4 for fewer than 16 bytes and RawTrafficSelector
    swallows the rest of the payload: the checker cuts selectors by their length field and
    decodes types 7 and 8 with the matching scapy class, others by hand.
  * IKEv2_payload_CERT dispatches encoding 4 to an X.509 parser: CERT is decoded with
    IKEv2_payload_CERT_STR (raw data).
"""
import hashlib
import json
import socket
import struct
import subprocess
import sys

from scapy.compat import raw
from scapy.contrib.ikev2 import (
    IKEv2, IKEv2_payload, IKEv2_payload_AUTH, IKEv2_payload_CERT_STR, IKEv2_payload_CERTREQ,
    IKEv2_payload_CP, IKEv2_payload_Delete, IKEv2_payload_Encrypted, IKEv2_payload_IDi,
    IKEv2_payload_IDr, IKEv2_payload_KE, IKEv2_payload_Nonce, IKEv2_payload_Notify,
    IKEv2_payload_Proposal, IKEv2_payload_SA, IKEv2_payload_Transform, IKEv2_payload_TSi,
    IKEv2_payload_TSr, IKEv2_payload_VendorID, ConfigurationAttribute, IPv4TrafficSelector,
    IPv6TrafficSelector)
from scapy.packet import Raw

IV_LEN = 8
ICV_LEN = 16

PT_SA, PT_KE, PT_IDI, PT_IDR, PT_CERT, PT_CERTREQ, PT_AUTH, PT_NONCE = range(33, 41)
PT_NOTIFY, PT_DELETE, PT_VENDOR, PT_TSI, PT_TSR, PT_SK, PT_CP = range(41, 48)
ENCR, PRF, INTEG, DH, ESN = 1, 2, 3, 4, 5


def rnd(label, n):
    """Deterministic 'random' bytes."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


def addr_bytes(a):
    return socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)


# ---- payload specs: each knows its type, how scapy builds it and its expected text form ----

class SA:
    type = PT_SA

    def __init__(self, proposals):
        # proposals: [(num, proto, spi, [(type, id, keylen or None), ...]), ...]
        self.proposals = proposals

    def scapy(self):
        props = None
        for i, (num, proto, spi, xfs) in enumerate(self.proposals):
            chain = None
            for j, (t, tid, kl) in enumerate(xfs):
                kw = dict(next_payload=0 if j == len(xfs) - 1 else 3, transform_type=t,
                          transform_id=tid, length=12 if kl is not None else 8)
                if kl is not None:
                    kw["key_length"] = kl
                x = IKEv2_payload_Transform(**kw)
                chain = x if chain is None else chain / x
            p = IKEv2_payload_Proposal(next_payload=0 if i == len(self.proposals) - 1 else 2,
                                       proposal=num, proto=proto, SPIsize=len(spi), SPI=spi,
                                       trans_nb=len(xfs), trans=chain)
            props = p if props is None else props / p
        return IKEv2_payload_SA(prop=props)

    def dump(self):
        lines = ["sa"]
        for num, proto, spi, xfs in self.proposals:
            lines.append(" prop num=%d proto=%d spi=%s xforms=%d" % (num, proto, spi.hex(),
                                                                    len(xfs)))
            for t, tid, kl in xfs:
                lines.append("  xf type=%d id=%d%s" % (t, tid, "" if kl is None
                                                        else " keylen=%d" % kl))
        return lines


class KE:
    type = PT_KE

    def __init__(self, group, data):
        self.group, self.data = group, data

    def scapy(self):
        return IKEv2_payload_KE(group=self.group, load=self.data)

    def dump(self):
        return ["ke group=%d data=%s" % (self.group, self.data.hex())]


class ID:
    def __init__(self, pt, idtype, value):
        """value: an address string for types 1 and 5, bytes otherwise."""
        self.type, self.idtype, self.value = pt, idtype, value
        self.data = addr_bytes(value) if idtype in (1, 5) else value

    def scapy(self):
        cls = IKEv2_payload_IDi if self.type == PT_IDI else IKEv2_payload_IDr
        return cls(IDtype=self.idtype, ID=self.value, length=8 + len(self.data))

    def dump(self):
        return ["%s type=%d data=%s" % ("idi" if self.type == PT_IDI else "idr", self.idtype,
                                        self.data.hex())]


class Cert:
    def __init__(self, pt, enc, data):
        self.type, self.enc, self.data = pt, enc, data

    def scapy(self):
        cls = IKEv2_payload_CERT_STR if self.type == PT_CERT else IKEv2_payload_CERTREQ
        return cls(cert_type=self.enc, cert_data=self.data)

    def dump(self):
        return ["%s enc=%d data=%s" % ("cert" if self.type == PT_CERT else "certreq", self.enc,
                                       self.data.hex())]


class Auth:
    type = PT_AUTH

    def __init__(self, method, data):
        self.method, self.data = method, data

    def scapy(self):
        return IKEv2_payload_AUTH(auth_type=self.method, load=self.data)

    def dump(self):
        return ["auth method=%d data=%s" % (self.method, self.data.hex())]


class Nonce:
    type = PT_NONCE

    def __init__(self, data):
        self.data = data

    def scapy(self):
        return IKEv2_payload_Nonce(load=self.data)

    def dump(self):
        return ["nonce data=%s" % self.data.hex()]


class Notify:
    type = PT_NOTIFY

    def __init__(self, ntype, data=b"", proto=0, spi=b""):
        self.ntype, self.data, self.proto, self.spi = ntype, data, proto, spi

    def scapy(self):
        return IKEv2_payload_Notify(proto=self.proto, SPIsize=len(self.spi), SPI=self.spi,
                                    type=self.ntype, load=self.data,
                                    length=8 + len(self.spi) + len(self.data))

    def dump(self):
        return ["notify proto=%d spi=%s type=%d data=%s" % (self.proto, self.spi.hex(),
                                                             self.ntype, self.data.hex())]


class Delete:
    type = PT_DELETE

    def __init__(self, proto, spis):
        self.proto, self.spis = proto, spis
        self.spi_size = 0 if proto == 1 else 4

    def scapy(self):
        body = struct.pack("!BBH", self.proto, self.spi_size, len(self.spis))
        body += b"".join(struct.pack("!I", s) for s in self.spis)
        return IKEv2_payload_Delete(vendorID=body)

    def dump(self):
        spis = b"".join(struct.pack("!I", s) for s in self.spis)
        return ["delete proto=%d spi_size=%d n=%d spis=%s" % (self.proto, self.spi_size,
                                                               len(self.spis), spis.hex())]


class Vendor:
    type = PT_VENDOR

    def __init__(self, data):
        self.data = data

    def scapy(self):
        return IKEv2_payload_VendorID(vendorID=self.data)

    def dump(self):
        return ["vendor data=%s" % self.data.hex()]


class TS:
    def __init__(self, pt, sels):
        """sels: [(ts_type, ip_proto, start_port, end_port, start_addr, end_addr)]"""
        self.type, self.sels = pt, sels

    def scapy(self):
        out = []
        for t, proto, sp, ep, a, b in self.sels:
            if t == 7:
                out.append(IPv4TrafficSelector(IP_protocol_ID=proto, start_port=sp, end_port=ep,
                                               starting_address_v4=a, ending_address_v4=b))
            else:
                out.append(IPv6TrafficSelector(IP_protocol_ID=proto, start_port=sp, end_port=ep,
                                               starting_address_v6=a, ending_address_v6=b,
                                               length=40))
        cls = IKEv2_payload_TSi if self.type == PT_TSI else IKEv2_payload_TSr
        return cls(number_of_TSs=len(out), traffic_selector=out)

    def dump(self):
        lines = ["%s n=%d" % ("tsi" if self.type == PT_TSI else "tsr", len(self.sels))]
        for t, proto, sp, ep, a, b in self.sels:
            lines.append(" ts type=%d proto=%d ports=%d-%d start=%s end=%s"
                         % (t, proto, sp, ep, addr_bytes(a).hex(), addr_bytes(b).hex()))
        return lines


class CP:
    type = PT_CP

    def __init__(self, cfg_type, attrs):
        """attrs: [(attribute type, value bytes)]"""
        self.cfg_type = cfg_type
        self.attrs = [ConfigurationAttribute(type=t, length=len(v), value=v) for t, v in attrs]
        self.attr_bytes = b"".join(raw(a) for a in self.attrs)

    def scapy(self):
        return IKEv2_payload_CP(CFGType=self.cfg_type, attributes=self.attrs,
                                length=8 + len(self.attr_bytes))

    def dump(self):
        return ["cp type=%d attrs=%s" % (self.cfg_type, self.attr_bytes.hex())]


class Unknown:
    def __init__(self, pt, critical, data):
        self.type, self.critical, self.data = pt, critical, data

    def scapy(self):
        return IKEv2_payload(flags=0x80 if self.critical else 0, load=self.data)

    def dump(self):
        return ["payload type=%d critical=%d data=%s" % (self.type, int(self.critical),
                                                         self.data.hex())]


def chain(payloads, last_np=0):
    """Stack payload layers with each next_payload set (scapy leaves them 0)."""
    out = None
    for i, p in enumerate(payloads):
        layer = p.scapy()
        if not isinstance(p, SK):  # SK's next payload is its first inner payload's type
            layer.next_payload = payloads[i + 1].type if i + 1 < len(payloads) else last_np
        out = layer if out is None else out / layer
    return out


class SK:
    type = PT_SK

    def __init__(self, inner, pad=b"", label="sk"):
        self.inner, self.pad = inner, pad
        self.iv = rnd(label + "/iv", IV_LEN)
        self.icv = rnd(label + "/icv", ICV_LEN)

    def plain(self):
        return raw(chain(self.inner)) + self.pad + bytes([len(self.pad)])

    def scapy(self):
        return IKEv2_payload_Encrypted(next_payload=self.inner[0].type,
                                       load=self.iv + self.plain() + self.icv)

    def dump(self):
        return ["sk np=%d" % self.inner[0].type]

    def inner_dump(self):
        return [line for p in self.inner for line in p.dump()]


def message(name, desc, exch, flags, msg_id, payloads, spi_i=None, spi_r=b"\0" * 8,
            version=0x20, error=None, err_type=0, canonical=True):
    spi_i = spi_i if spi_i is not None else rnd(name + "/spi_i", 8)
    hdr = IKEv2(init_SPI=spi_i, resp_SPI=spi_r, version=version, exch_type=exch, flags=flags,
                id=msg_id, next_payload=payloads[0].type if payloads else 0)
    b = raw(hdr / chain(payloads) if payloads else hdr)
    hdr_line = ("hdr spi_i=%s spi_r=%s np=%d ver=%d exch=%d flags=%02x id=%d len=%d"
                % (spi_i.hex(), spi_r.hex(), payloads[0].type if payloads else 0, version >> 4,
                   exch, flags, msg_id, len(b)))
    v = {"name": name, "description": desc, "hex": b.hex(), "error": error, "err_type": err_type,
         "canonical": canonical}
    if error is not None:
        v["dump"] = hdr_line + "\n"  # the header decodes, the payloads do not
    else:
        v["dump"] = "\n".join([hdr_line] + [ln for p in payloads for ln in p.dump()]) + "\n"
    sk = [p for p in payloads if isinstance(p, SK)]
    if sk and error is None:
        s = sk[0]
        aad_len = 28 + sum(len(raw(q.scapy())) for q in payloads[:payloads.index(s)]) + 4
        v["sk"] = {"iv_len": IV_LEN, "icv_len": ICV_LEN, "aad_len": aad_len, "iv": s.iv.hex(),
                   "icv": s.icv.hex(), "pad_len": len(s.pad),
                   "inner_dump": "\n".join(s.inner_dump()) + "\n"}
    else:
        v["sk"] = None
    return v


I, R = 0x08, 0x20
NAT_SRC, NAT_DST, COOKIE, FRAG, SIGHASH, REDIRECT_SUP = 16388, 16389, 16390, 16430, 16431, 16406


def sa_init_proposals():
    # strongSwan `aes128gcm16-aes256gcm16-prfsha256-prfsha384-x25519` plus a ChaCha20 proposal
    return [(1, 1, b"", [(ENCR, 20, 128), (ENCR, 20, 256), (PRF, 5, None), (PRF, 6, None),
                         (DH, 31, None)]),
            (2, 1, b"", [(ENCR, 28, None), (PRF, 5, None), (DH, 31, None)])]


def ts_pair():
    tsi = TS(PT_TSI, [(7, 0, 0, 65535, "10.1.0.2", "10.1.0.2"),
                      (8, 0, 0, 65535, "2001:db8:1::2", "2001:db8:1::2")])
    tsr = TS(PT_TSR, [(7, 6, 443, 443, "192.0.2.10", "192.0.2.10"),
                      (7, 17, 4000, 4999, "192.0.2.0", "192.0.2.255"),
                      (8, 58, 0, 65535, "2001:db8:2::", "2001:db8:2::ffff")])
    return tsi, tsr


def vectors():
    vs = []
    nat = [Notify(NAT_SRC, rnd("natd/src", 20)), Notify(NAT_DST, rnd("natd/dst", 20))]
    # strongSwan's own vendor ID is MD5("strongSwan")
    vid = hashlib.md5(b"strongSwan").digest()
    vs.append(message(
        "ike_sa_init_request", "strongSwan-like IKE_SA_INIT request", 34, I, 0,
        [SA(sa_init_proposals()), KE(31, rnd("ke/i", 32)), Nonce(rnd("ni", 32))] + nat +
        [Notify(FRAG), Notify(SIGHASH, bytes.fromhex("0002000300040005")),
         Notify(REDIRECT_SUP), Vendor(vid)]))
    vs.append(message(
        "ike_sa_init_cookie_response", "responder under load asks for a cookie", 34, R, 0,
        [Notify(COOKIE, rnd("cookie", 32))]))
    vs.append(message(
        "ike_sa_init_request_with_cookie", "the request repeated with the cookie first", 34, I,
        0, [Notify(COOKIE, rnd("cookie", 32)), SA(sa_init_proposals()), KE(31, rnd("ke/i", 32)),
            Nonce(rnd("ni", 32))] + nat))
    vs.append(message(
        "ike_sa_init_invalid_ke", "INVALID_KE_PAYLOAD naming group 31", 34, R, 0,
        [Notify(17, struct.pack("!H", 31))]))
    vs.append(message(
        "ike_sa_init_response", "responder's choice, its KE, nonce, NAT-D and CERTREQ", 34, R, 0,
        [SA([(1, 1, b"", [(ENCR, 20, 256), (PRF, 6, None), (DH, 31, None)])]),
         KE(31, rnd("ke/r", 32)), Nonce(rnd("nr", 48))] + nat +
        [Cert(PT_CERTREQ, 4, rnd("ca-hashes", 40)), Notify(FRAG), Notify(16404)],
        spi_r=rnd("spi_r", 8)))
    tsi, tsr = ts_pair()
    vs.append(message(
        "ike_auth_request_psk", "IKE_AUTH request in a null-cipher SK payload", 35, I, 1,
        [SK([ID(PT_IDI, 2, b"client.example.org"), Notify(16384),
             ID(PT_IDR, 2, b"dvipa.example.org"), Auth(2, rnd("auth/i", 32)),
             CP(1, [(1, b""), (3, b"")]),
             SA([(1, 3, bytes.fromhex("c0ffee01"), [(ENCR, 20, 128), (ESN, 0, None)])]),
             tsi, tsr, Notify(16404), Notify(16417), Notify(16420)], label="auth_req")],
        spi_r=rnd("spi_r", 8)))
    vs.append(message(
        "ike_auth_response_sig", "IKE_AUTH response, IPv4 ID, digital signature, CERT", 35, R,
        1, [SK([ID(PT_IDR, 1, "192.0.2.1"), Cert(PT_CERT, 4, rnd("cert", 300)),
                Auth(14, rnd("sig", 80)), Notify(16391),
                SA([(1, 3, bytes.fromhex("5eed0002"), [(ENCR, 28, None), (ESN, 0, None)])]),
                tsi, tsr], pad=b"\0\0\0", label="auth_resp")],
        spi_r=rnd("spi_r", 8), canonical=False))
    vs.append(message(
        "create_child_sa_rekey", "CHILD_SA rekey: REKEY_SA with the old ESP SPI, PFS KE", 36, I,
        2, [SK([Notify(16393, proto=3, spi=bytes.fromhex("c0ffee01")),
                SA([(1, 3, bytes.fromhex("c0ffee02"), [(ENCR, 20, 256), (DH, 31, None),
                                                        (ESN, 0, None)])]),
                Nonce(rnd("rekey/n", 32)), KE(31, rnd("rekey/ke", 32)), tsi, tsr],
               label="rekey")], spi_r=rnd("spi_r", 8)))
    vs.append(message(
        "create_child_sa_rekey_ike", "IKE SA rekey: 8-byte SPI in the proposal", 36, R, 3,
        [SK([SA([(2, 1, rnd("new-ike-spi", 8), [(ENCR, 20, 256), (PRF, 6, None),
                                                (DH, 31, None)])]),
             Nonce(rnd("rekey/nr", 32)), KE(31, rnd("rekey/ker", 32))], label="rekey_ike")],
        spi_r=rnd("spi_r", 8)))
    vs.append(message(
        "informational_delete", "INFORMATIONAL deleting two ESP SAs, then the IKE SA", 37, I, 4,
        [SK([Delete(3, [0xc0ffee01, 0xc0ffee02]), Delete(1, [])], label="delete")],
        spi_r=rnd("spi_r", 8)))
    vs.append(message(
        "informational_dpd", "empty INFORMATIONAL (liveness check)", 37, R | I, 5,
        [SK([Vendor(b"")], label="dpd")], spi_r=rnd("spi_r", 8)))
    vs.append(message(
        "ts_and_unknown", "clear TS payloads, an unknown non-critical payload (EAP) skipped", 37,
        0, 6, [TS(PT_TSI, [(7, 6, 1, 2, "10.0.0.1", "10.0.0.9"),
                           (8, 0, 0, 65535, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]),
               Unknown(48, False, rnd("eap", 9)),
               TS(PT_TSR, [(7, 1, 0, 65535, "0.0.0.0", "255.255.255.255")]),
               ID(PT_IDI, 5, "2001:db8::1"), ID(PT_IDR, 11, b"key-id-\x00\xff"),
               Vendor(b"x")]))
    vs.append(message(
        "ike_auth_request_rfc822", "IKE_AUTH request with an e-mail identity", 35, I, 1,
        [SK([ID(PT_IDI, 3, b"user@example.org"), Auth(2, rnd("auth/mail", 48))],
            label="auth_mail")], spi_r=rnd("spi_r", 8)))
    vs.append(message(
        "critical_unknown", "unknown payload 48 with the critical bit: refuse it", 34, I, 0,
        [Nonce(rnd("ni", 32)), Unknown(48, True, b"eap")], error="unsupported_critical",
        err_type=48))
    vs.append(message(
        "version_3", "major version 3: answer INVALID_MAJOR_VERSION", 34, I, 0,
        [Nonce(rnd("ni", 32))], version=0x30, error="major_version"))
    vs.append(message(
        "version_1", "IKEv1 version byte", 34, I, 0, [Nonce(rnd("ni", 32))], version=0x10,
        error="old_version"))
    return vs


# ---- decoding with scapy: the text form of any message, for `verify` and `check` ----

def hexs(b):
    return bytes(b).hex()


def dump_sa(layer):
    lines = ["sa"]
    p = layer.prop
    while isinstance(p, IKEv2_payload_Proposal):
        n = 0
        xlines = []
        t = p.trans
        while isinstance(t, IKEv2_payload_Transform):
            if t.length not in (8, 12):
                raise ValueError("transform with attributes scapy does not model")
            kl = "" if t.length == 8 else " keylen=%d" % t.key_length
            xlines.append("  xf type=%d id=%d%s" % (t.transform_type, t.transform_id, kl))
            n += 1
            t = t.payload
        if n != p.trans_nb:
            raise ValueError("proposal says %d transforms, has %d" % (p.trans_nb, n))
        lines.append(" prop num=%d proto=%d spi=%s xforms=%d" % (p.proposal, p.proto,
                                                                hexs(p.SPI), p.trans_nb))
        lines += xlines
        p = p.payload
    return lines


def dump_ts(name, layer, body):
    lines = ["%s n=%d" % (name, layer.number_of_TSs)]
    off = 4
    while off < len(body):
        t, proto, slen = struct.unpack("!BBH", body[off:off + 4])
        sel = body[off:off + slen]
        if t == 7:
            s = IPv4TrafficSelector(sel)
            a, b = addr_bytes(s.starting_address_v4), addr_bytes(s.ending_address_v4)
        elif t == 8:
            s = IPv6TrafficSelector(sel)
            a, b = addr_bytes(s.starting_address_v6), addr_bytes(s.ending_address_v6)
        else:
            lines.append(" ts type=%d proto=%d raw=%s" % (t, proto, sel[4:].hex()))
            off += slen
            continue
        lines.append(" ts type=%d proto=%d ports=%d-%d start=%s end=%s"
                     % (s.TS_type, s.IP_protocol_ID, s.start_port, s.end_port, a.hex(), b.hex()))
        off += slen
    return lines


def dump_payload(pt, pbytes):
    """Text lines for one payload (generic header included in pbytes), decoded by scapy."""
    body = pbytes[4:]
    if pt == PT_SA:
        return dump_sa(IKEv2_payload_SA(pbytes))
    if pt == PT_KE:
        p = IKEv2_payload_KE(pbytes)
        return ["ke group=%d data=%s" % (p.group, hexs(p.load))]
    if pt in (PT_IDI, PT_IDR):
        p = (IKEv2_payload_IDi if pt == PT_IDI else IKEv2_payload_IDr)(pbytes)
        data = addr_bytes(p.ID) if p.IDtype in (1, 5) else bytes(p.ID)
        return ["%s type=%d data=%s" % ("idi" if pt == PT_IDI else "idr", p.IDtype, data.hex())]
    if pt in (PT_CERT, PT_CERTREQ):
        p = (IKEv2_payload_CERT_STR if pt == PT_CERT else IKEv2_payload_CERTREQ)(pbytes)
        return ["%s enc=%d data=%s" % ("cert" if pt == PT_CERT else "certreq", p.cert_type,
                                       hexs(p.cert_data))]
    if pt == PT_AUTH:
        p = IKEv2_payload_AUTH(pbytes)
        return ["auth method=%d data=%s" % (p.auth_type, hexs(p.load))]
    if pt == PT_NONCE:
        return ["nonce data=%s" % hexs(IKEv2_payload_Nonce(pbytes).load)]
    if pt == PT_NOTIFY:
        p = IKEv2_payload_Notify(pbytes)
        return ["notify proto=%d spi=%s type=%d data=%s" % (p.proto, hexs(p.SPI), p.type,
                                                             hexs(p.load))]
    if pt == PT_DELETE:
        d = bytes(IKEv2_payload_Delete(pbytes).vendorID)
        proto, size, n = struct.unpack("!BBH", d[:4])
        return ["delete proto=%d spi_size=%d n=%d spis=%s" % (proto, size, n, d[4:].hex())]
    if pt == PT_VENDOR:
        return ["vendor data=%s" % hexs(IKEv2_payload_VendorID(pbytes).vendorID)]
    if pt in (PT_TSI, PT_TSR):
        p = (IKEv2_payload_TSi if pt == PT_TSI else IKEv2_payload_TSr)(pbytes)
        return dump_ts("tsi" if pt == PT_TSI else "tsr", p, body)
    if pt == PT_CP:
        p = IKEv2_payload_CP(pbytes)
        return ["cp type=%d attrs=%s" % (p.CFGType, b"".join(raw(a) for a in p.attributes).hex())]
    if pt == PT_SK:
        return ["sk np=%d" % IKEv2_payload_Encrypted(pbytes).next_payload]
    p = IKEv2_payload(pbytes)
    return ["payload type=%d critical=%d data=%s" % (pt, (int(p.flags) >> 7) & 1, hexs(p.load))]


def walk(first, b):
    """(type, payload bytes, next type) along a chain; raises on framing errors."""
    out = []
    pt, off = first, 0
    while pt != 0:
        if len(b) - off < 4:
            raise ValueError("chain truncated at %d" % off)
        nxt, _, plen = struct.unpack("!BBH", b[off:off + 4])
        if plen < 4 or off + plen > len(b):
            raise ValueError("bad payload length %d at %d" % (plen, off))
        out.append((pt, b[off:off + plen], nxt))
        off += plen
        if pt == PT_SK:
            break
        pt = nxt
    if off != len(b):
        raise ValueError("%d trailing bytes" % (len(b) - off))
    return out


def decode(b):
    """(outer text, inner text or None) of a message, decoded by scapy."""
    h = IKEv2(b[:28])
    if not isinstance(h, IKEv2):
        raise ValueError("scapy does not take this for IKEv2: %r" % type(h))
    lines = ["hdr spi_i=%s spi_r=%s np=%d ver=%d exch=%d flags=%02x id=%d len=%d"
             % (hexs(h.init_SPI), hexs(h.resp_SPI), h.next_payload, h.version >> 4, h.exch_type,
                int(h.flags), h.id, h.length)]
    if h.length != len(b):
        raise ValueError("header length %d, message %d" % (h.length, len(b)))
    inner = None
    for pt, pb, nxt in walk(h.next_payload, b[28:]):
        lines += dump_payload(pt, pb)
        if pt == PT_SK:
            load = bytes(IKEv2_payload_Encrypted(pb).load)
            plain = load[IV_LEN:len(load) - ICV_LEN]
            plain = plain[:len(plain) - 1 - plain[-1]]
            inner = [ln for ipt, ipb, _ in walk(nxt, plain) for ln in dump_payload(ipt, ipb)]
            inner = "\n".join(inner) + "\n"
    return "\n".join(lines) + "\n", inner


def scapy_layers(b):
    """Payload layer names of scapy's own full-message decode (it follows next_payload)."""
    names = []
    p = IKEv2(b).payload
    while p is not None and not isinstance(p, Raw) and p.__class__.__name__ != "NoPayload":
        names.append(p.__class__.__name__)
        if isinstance(p, IKEv2_payload_Encrypted):
            break
        p = p.payload
    return names


# ---- subcommands ----

def gen_doc():
    return {"generator": "scripts/ike_vectors.py gen (scapy %s)" % scapy_version(),
            "conventions": "SK: null cipher, %d-byte IV, %d-byte ICV; text form: "
                           "controlplane/ike/ike_dump.c" % (IV_LEN, ICV_LEN),
            "vectors": vectors()}


def scapy_version():
    import scapy
    return scapy.VERSION


def self_check(vs):
    """scapy's decode of each vector must print what the vector expects."""
    bad = 0
    for v in vs:
        if v["error"] is not None:
            continue
        b = bytes.fromhex(v["hex"])
        try:
            outer, inner = decode(b)
        except Exception as e:  # noqa: BLE001 - report and count
            print("FAIL %s: scapy decode: %s" % (v["name"], e))
            bad += 1
            continue
        want_inner = v["sk"]["inner_dump"] if v["sk"] else None
        if outer != v["dump"] or inner != want_inner:
            print("FAIL %s: scapy decode differs from the spec\n%s%s---\n%s%s"
                  % (v["name"], outer, inner or "", v["dump"], want_inner or ""))
            bad += 1
        # scapy's own decode follows the outer chain to the same number of payloads (none of
        # the vectors has a Notify with an SPI outside SK, where it would overrun)
        names = scapy_layers(b)
        if len(names) != len(walk(b[16], b[28:])):
            print("FAIL %s: scapy's chained decode found %s" % (v["name"], names))
            bad += 1
    return bad


def cmd_gen(out):
    with open(out, "w", encoding="utf-8") as f:
        json.dump(gen_doc(), f, indent=1)
        f.write("\n")


def cmd_verify(path):
    with open(path, encoding="utf-8") as f:
        have = json.load(f)
    want = gen_doc()
    if have["vectors"] != want["vectors"]:
        print("FAIL %s is not what `gen` makes now; regenerate it" % path)
        return 1
    bad = self_check(want["vectors"])
    print("verify: %d vectors, %d failed" % (len(want["vectors"]), bad))
    return 1 if bad else 0


def cmd_check(ours_path):
    with open(ours_path, encoding="utf-8") as f:
        ours = json.load(f)["messages"]
    passed = failed = 0
    for m in ours:
        try:
            outer, inner = decode(bytes.fromhex(m["hex"]))
        except Exception as e:  # noqa: BLE001 - report and count
            print("FAIL %s: scapy decode: %s" % (m["name"], e))
            failed += 1
            continue
        if outer != m["dump"] or inner != m.get("inner_dump"):
            print("FAIL %s: scapy reads\n%s%s--- we meant\n%s%s"
                  % (m["name"], outer, inner or "", m["dump"], m.get("inner_dump") or ""))
            failed += 1
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


def cmd_interop(test_bin, vectors_path, work):
    import os
    os.makedirs(work, exist_ok=True)
    if cmd_verify(vectors_path):
        return 1
    ours = os.path.join(work, "ours.json")
    subprocess.run([test_bin, "--emit", ours, vectors_path], check=True)
    return cmd_check(ours)


def main(argv):
    if len(argv) == 3 and argv[1] == "gen":
        cmd_gen(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "verify":
        return cmd_verify(argv[2])
    if len(argv) == 4 and argv[1] == "check":
        return cmd_check(argv[3])
    if len(argv) == 5 and argv[1] == "interop":
        return cmd_interop(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
