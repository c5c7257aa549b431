#!/usr/bin/python3
"""IKEv2 key-derivation, AUTH and SK payload vectors, computed independently of dvipsec's C code.

Why this exists: the compositions the IKE crypto suite builds out of its primitives (prf+,
SKEYSEED, the seven keys, IKE SA rekeying, CHILD_SA KEYMAT, the PSK and Ed25519 AUTH payloads, the
SK payload's AAD and nonce) are exactly where an implementation can be self-consistent and still
not interoperate. This script computes them a second way, from the RFC text alone, with Python's
hmac/hashlib and python3-cryptography (AESGCM, ChaCha20Poly1305, X25519, Ed25519), and writes
tests/vectors/ike_crypto_vectors.json; the C test (tests/unit/test_ike_crypto.c) must match it
byte for byte. The inputs are fixed (derived from labels with SHA-256), so the file is
reproducible; --check regenerates it and compares with the committed file.

Conventions (RFC 7296 2.13-2.18, RFC 5282 3/5, RFC 7634 2-4, RFC 8420):
  prf+(K, S)      = T1 | T2 | ...,  Ti = prf(K, T(i-1) | S | i)
  SKEYSEED        = prf(Ni | Nr, g^ir);  rekey: prf_old(SK_d old, g^ir new | Ni | Nr)
  keys            = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) = SK_d | SK_ei | SK_er | SK_pi | SK_pr
                    (no SK_a with an AEAD; SK_e = key | 4-byte salt; the new SA's PRF for prf+)
  KEYMAT          = prf+(SK_d, [g^ir |] Ni | Nr) = i->r key|salt, then r->i key|salt
  AUTH (PSK)      = prf(prf(PSK, "Key Pad for IKEv2"), RealMessage | peer Nonce | prf(SK_p, IDbody))
  AUTH (Ed25519)  = 7 | 300506032b6570 | Ed25519(same SignedOctets)   (auth method 14)
  SK payload      = AAD (IKE header .. SK generic header) | IV(8) | AEAD(salt|IV, plaintext) | ICV(16)
  sealed IVs      = a big-endian counter per sender from 0 ("counter_iv"), or fixed random bytes

Also reproduces RFC 7634 Appendix B (the IKEv2 ChaCha20-Poly1305 example) from its inputs and
refuses to write anything if that fails.

Usage: ike_crypto_vectors.py [--out FILE] | --check FILE
"""

import argparse
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests/vectors/ike_crypto_vectors.json"

ENCR_AES_GCM_16 = 20
ENCR_CHACHA20_POLY1305 = 28
PRF_HASH = {5: hashlib.sha256, 6: hashlib.sha384, 7: hashlib.sha512}
DH_CURVE25519 = 31
KEY_PAD = b"Key Pad for IKEv2"
ED25519_ALG_ID = bytes.fromhex("300506032b6570")

# payload types and other numbers of RFC 7296 / 7383
PT_NONE, PT_SA, PT_KE, PT_IDI, PT_IDR, PT_AUTH, PT_NONCE, PT_NOTIFY = 0, 33, 34, 35, 36, 39, 40, 41
PT_DELETE, PT_VENDOR, PT_SK, PT_SKF = 42, 43, 46, 53
EXCH_IKE_SA_INIT, EXCH_IKE_AUTH, EXCH_INFORMATIONAL = 34, 35, 37
FLAG_INITIATOR, FLAG_RESPONSE = 0x08, 0x20
ID_FQDN = 2
AUTH_PSK, AUTH_DSIG = 2, 14
N_INITIAL_CONTACT = 16384

SUITES = [
    # name, encr, key bits (0: no Key Length attribute), prf, nonce lengths, rekey suite index
    ("aes128gcm16-prfsha256-x25519", ENCR_AES_GCM_16, 128, 5, (32, 32), 1),
    ("aes256gcm16-prfsha384-x25519", ENCR_AES_GCM_16, 256, 6, (48, 40), 1),
    ("chacha20poly1305-prfsha256-x25519", ENCR_CHACHA20_POLY1305, 0, 5, (32, 17), 2),
    ("aes256gcm16-prfsha512-x25519", ENCR_AES_GCM_16, 256, 7, (64, 32), 0),
]
ESP_AEADS = {
    "aes128gcm16": (ENCR_AES_GCM_16, 128),
    "aes256gcm16": (ENCR_AES_GCM_16, 256),
    "chacha20poly1305": (ENCR_CHACHA20_POLY1305, 0),
}


def det(label, n):
    """n fixed pseudo-random bytes for a label (SHA-256 in counter mode): reproducible inputs."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"dvipsec ike crypto vector|%s|%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


# ---- the RFC 7296 compositions ----------------------------------------------------------------


def prf(alg, key, data):
    return hmac.new(key, data, PRF_HASH[alg]).digest()


def prf_len(alg):
    return PRF_HASH[alg]().digest_size


def prf_plus(alg, key, seed, n):
    assert n <= 255 * prf_len(alg)
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(alg, key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:n]


def aead_keymat_len(encr, bits):
    return {ENCR_AES_GCM_16: bits // 8, ENCR_CHACHA20_POLY1305: 32}[encr] + 4


def aead(encr, keymat):
    key = keymat[:-4]
    return AESGCM(key) if encr == ENCR_AES_GCM_16 else ChaCha20Poly1305(key)


def sk_seal(encr, keymat, iv, aad, plaintext):
    """ciphertext | ICV with nonce = salt | IV (RFC 5282 4, RFC 7634 2)."""
    return aead(encr, keymat).encrypt(keymat[-4:] + iv, plaintext, aad)


def split_keys(alg, encr, bits, keymat):
    h, e = prf_len(alg), aead_keymat_len(encr, bits)
    names = ["sk_d", "sk_ei", "sk_er", "sk_pi", "sk_pr"]
    sizes = [h, e, e, h, h]
    assert len(keymat) == sum(sizes)
    out, off = {}, 0
    for name, size in zip(names, sizes):
        out[name] = keymat[off : off + size]
        off += size
    return out


def derive(alg, encr, bits, ni, nr, gir, spi_i, spi_r, skeyseed=None):
    if skeyseed is None:
        skeyseed = prf(alg, ni + nr, gir)
    total = 3 * prf_len(alg) + 2 * aead_keymat_len(encr, bits)
    keys = split_keys(alg, encr, bits, prf_plus(alg, skeyseed, ni + nr + spi_i + spi_r, total))
    return skeyseed, keys


def signed_octets(alg, sk_p, message, nonce, id_body):
    return message + nonce + prf(alg, sk_p, id_body)


def psk_auth(alg, psk, sk_p, message, nonce, id_body):
    return prf(alg, prf(alg, psk, KEY_PAD), signed_octets(alg, sk_p, message, nonce, id_body))


def x25519_pair(label):
    priv = X25519PrivateKey.from_private_bytes(det(label, 32))
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return priv, pub


def x25519_shared(priv_a, pub_b, priv_b, pub_a):
    s1 = priv_a.exchange(X25519PublicKey.from_public_bytes(pub_b))
    s2 = priv_b.exchange(X25519PublicKey.from_public_bytes(pub_a))
    assert s1 == s2
    return s1


# ---- message bytes ----------------------------------------------------------------------------


def payload(next_type, body):
    return struct.pack("!BBH", next_type, 0, 4 + len(body)) + body


def chain(payloads):
    """[(type, body)] -> (first type, bytes) with each next-payload field set."""
    out = b""
    for i, (_, body) in enumerate(payloads):
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else PT_NONE
        out += payload(nxt, body)
    return (payloads[0][0] if payloads else PT_NONE), out


def ike_header(spi_i, spi_r, next_type, exchange, flags, msg_id, length):
    return spi_i + spi_r + struct.pack("!BBBBII", next_type, 0x20, exchange, flags, msg_id, length)


def sa_body(encr, bits, alg):
    def transform(last, ttype, tid, attrs=b""):
        return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs

    key_attr = struct.pack("!HH", 0x800E, bits) if bits else b""
    transforms = (transform(False, 1, encr, key_attr) + transform(False, 2, alg)
                  + transform(True, 4, DH_CURVE25519))
    return struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 3) + transforms


def ike_sa_init(spi_i, spi_r, response, encr, bits, alg, ke, nonce):
    first, body = chain([(PT_SA, sa_body(encr, bits, alg)),
                         (PT_KE, struct.pack("!HH", DH_CURVE25519, 0) + ke),
                         (PT_NONCE, nonce)])
    flags = FLAG_RESPONSE if response else FLAG_INITIATOR
    return ike_header(spi_i, spi_r, first, EXCH_IKE_SA_INIT, flags, 0, 28 + len(body)) + body


def id_body(fqdn):
    return bytes([ID_FQDN, 0, 0, 0]) + fqdn


def sk_message(spi_i, spi_r, exchange, flags, msg_id, inner, pad_len, iv, keymat, encr,
               before=(), fragment=None):
    """An encrypted message: optional unencrypted payloads, then SK (or SKF with fragment =
    (number, total)) ending the message. Returns (message, aad_len, plaintext)."""
    first_inner, inner_bytes = chain(inner) if isinstance(inner, list) else inner
    plaintext = inner_bytes + det("pad %d" % len(inner_bytes), pad_len) + bytes([pad_len])
    sk_type = PT_SKF if fragment else PT_SK
    sk_extra = struct.pack("!HH", *fragment) if fragment else b""
    sk_len = 4 + len(sk_extra) + 8 + len(plaintext) + 16
    before_bytes = b""
    for i, (_, body) in enumerate(before):
        nxt = before[i + 1][0] if i + 1 < len(before) else sk_type
        before_bytes += payload(nxt, body)
    total = 28 + len(before_bytes) + sk_len
    hdr = ike_header(spi_i, spi_r, before[0][0] if before else sk_type, exchange, flags, msg_id,
                     total)
    aad = hdr + before_bytes + struct.pack("!BBH", first_inner, 0, sk_len) + sk_extra
    sealed = sk_seal(encr, keymat, iv, aad, plaintext)
    return aad + iv + sealed, len(aad), plaintext


# ---- the vector file --------------------------------------------------------------------------


def hx(b):
    return b.hex()


def rfc7634_appendix_b():
    """RFC 7634 Appendix B: an INFORMATIONAL request (SET_WINDOW_SIZE 10) sealed with
    ChaCha20-Poly1305, keymat 80..a3, IV 10..17. Recomputed here; must equal the RFC's bytes."""
    keymat = bytes(range(0x80, 0xA4))
    iv = bytes(range(0x10, 0x18))
    spi_i, spi_r = bytes(range(0xC0, 0xC8)), bytes(range(0xD0, 0xD8))
    # protocol 0, SPI size 0, SET_WINDOW_SIZE (16385), window 10; the example's flags byte is 0
    notify = struct.pack("!BBH", 0, 0, 0x4001) + struct.pack("!I", 10)
    msg, aad_len, plaintext = sk_message(spi_i, spi_r, EXCH_INFORMATIONAL, 0, 9,
                                         [(PT_NOTIFY, notify)], 0, iv, keymat,
                                         ENCR_CHACHA20_POLY1305)
    rfc = bytes.fromhex("c0c1c2c3c4c5c6c7" "d0d1d2d3d4d5d6d7" "2e202500" "00000009" "00000045"
                        "29000029" "1011121314151617" "610394701f8d017f7c12924889"
                        "6b71bfe25236efd7cdc67066906315b2")
    if msg != rfc:
        sys.exit("RFC 7634 Appendix B not reproduced: got %s" % msg.hex())
    return {"name": "rfc7634 appendix B", "source": "RFC 7634 Appendix B",
            "encr": ENCR_CHACHA20_POLY1305, "encr_key_bits": 0, "keymat": hx(keymat),
            "msg": hx(msg), "aad_len": aad_len, "plaintext": hx(plaintext),
            "inner_len": len(plaintext) - 1}


def prf_plus_vectors():
    out = []
    cases = [(5, 32, 24, 100), (6, 200, 61, 97), (7, 64, 300, 129), (6, 48, 8, 48 * 3)]
    for alg, key_len, seed_len, n in cases:
        key = det("prf+ key %d %d" % (alg, key_len), key_len)
        seed = det("prf+ seed %d %d" % (alg, seed_len), seed_len)
        out.append({"prf": alg, "key": hx(key), "seed": hx(seed), "out": hx(prf_plus(alg, key, seed, n))})
    return out


def child_vector(alg, sk_d, esp, ni, nr, gir=None):
    encr, bits = ESP_AEADS[esp]
    e = aead_keymat_len(encr, bits)
    km = prf_plus(alg, sk_d, (gir or b"") + ni + nr, 2 * e)
    return {"esp": esp, "encr": encr, "encr_key_bits": bits, "ni": hx(ni), "nr": hx(nr),
            "gir": hx(gir or b""), "i2r": hx(km[:e]), "r2i": hx(km[e:])}


def suite_vector(index):
    name, encr, bits, alg, (ni_len, nr_len), rekey_to = SUITES[index]
    lbl = lambda s: "%s %s" % (name, s)  # noqa: E731
    priv_i, ke_i = x25519_pair(lbl("x25519 i"))
    priv_r, ke_r = x25519_pair(lbl("x25519 r"))
    gir = x25519_shared(priv_i, ke_r, priv_r, ke_i)
    ni, nr = det(lbl("Ni"), ni_len), det(lbl("Nr"), nr_len)
    spi_i, spi_r = det(lbl("SPIi"), 8), det(lbl("SPIr"), 8)
    skeyseed, keys = derive(alg, encr, bits, ni, nr, gir, spi_i, spi_r)

    init_i = ike_sa_init(spi_i, bytes(8), False, encr, bits, alg, ke_i, ni)
    init_r = ike_sa_init(spi_i, spi_r, True, encr, bits, alg, ke_r, nr)
    psk = b"dvipsec " + name.encode() + b" shared key"
    idi, idr = id_body(b"client.example.org"), id_body(b"vpn.example.net")
    auth_i = psk_auth(alg, psk, keys["sk_pi"], init_i, nr, idi)
    auth_r = psk_auth(alg, psk, keys["sk_pr"], init_r, ni, idr)
    ed_i = Ed25519PrivateKey.from_private_bytes(det(lbl("ed25519 i"), 32))
    ed_r = Ed25519PrivateKey.from_private_bytes(det(lbl("ed25519 r"), 32))
    raw = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    so_i = signed_octets(alg, keys["sk_pi"], init_i, nr, idi)
    so_r = signed_octets(alg, keys["sk_pr"], init_r, ni, idr)
    dsig_i = bytes([len(ED25519_ALG_ID)]) + ED25519_ALG_ID + ed_i.sign(so_i)
    dsig_r = bytes([len(ED25519_ALG_ID)]) + ED25519_ALG_ID + ed_r.sign(so_r)

    def ctr(n):
        return struct.pack("!Q", n)

    auth_payload = lambda method, data: struct.pack("!B3x", method) + data  # noqa: E731
    messages = []

    def add(name_, sender, counter_iv, msg_aad_pt, inner_len):
        msg, aad_len, pt = msg_aad_pt
        messages.append({"name": name_, "sender": sender, "counter_iv": counter_iv,
                         "msg": hx(msg), "aad_len": aad_len, "plaintext": hx(pt),
                         "inner_len": inner_len})

    sk_ei, sk_er = keys["sk_ei"], keys["sk_er"]
    inner = [(PT_IDI, idi), (PT_AUTH, auth_payload(AUTH_PSK, auth_i)),
             (PT_NOTIFY, struct.pack("!BBH", 0, 0, N_INITIAL_CONTACT))]
    m = sk_message(spi_i, spi_r, EXCH_IKE_AUTH, FLAG_INITIATOR, 1, inner, 0, ctr(0),
                   sk_ei, encr)
    add("IKE_AUTH request", "i", True, m, len(m[2]) - 1)
    inner = [(PT_IDR, idr), (PT_AUTH, auth_payload(AUTH_DSIG, dsig_r))]
    m = sk_message(spi_i, spi_r, EXCH_IKE_AUTH, FLAG_RESPONSE, 1, inner, 0, ctr(0),
                   sk_er, encr)
    add("IKE_AUTH response (Ed25519 AUTH)", "r", True, m, len(m[2]) - 1)
    delete = struct.pack("!BBH", 1, 0, 0)  # protocol IKE, SPI size 0, no SPIs
    m = sk_message(spi_i, spi_r, EXCH_INFORMATIONAL, FLAG_INITIATOR, 2, [(PT_DELETE, delete)], 7,
                   ctr(1), sk_ei, encr)
    add("INFORMATIONAL request, 7 bytes of padding", "i", True, m, len(m[2]) - 8)
    vendor = det(lbl("vendor id"), 5)
    m = sk_message(spi_i, spi_r, EXCH_INFORMATIONAL, FLAG_RESPONSE, 2, [], 0,
                   det(lbl("iv r"), 8), sk_er, encr, before=[(PT_VENDOR, vendor)])
    add("INFORMATIONAL response behind a Vendor ID (41-byte AAD), random IV", "r", False, m, 0)
    fragment = det(lbl("fragment data"), 100)
    m = sk_message(spi_i, spi_r, EXCH_IKE_AUTH, FLAG_INITIATOR, 1, (PT_IDI, fragment), 0,
                   det(lbl("iv i"), 8), sk_ei, encr, fragment=(1, 2))
    add("Encrypted Fragment 1/2 (36-byte AAD), random IV", "i", False, m, 100)

    esp_same = {ENCR_AES_GCM_16: "aes%dgcm16" % bits, ENCR_CHACHA20_POLY1305: "chacha20poly1305"}
    other = "chacha20poly1305" if encr == ENCR_AES_GCM_16 else "aes128gcm16"
    ni2, nr2 = det(lbl("Ni child"), 32), det(lbl("Nr child"), 32)
    pc_i, pk_i = x25519_pair(lbl("x25519 child i"))
    pc_r, pk_r = x25519_pair(lbl("x25519 child r"))
    gir_child = x25519_shared(pc_i, pk_r, pc_r, pk_i)
    children = [child_vector(alg, keys["sk_d"], esp_same[encr], ni, nr),
                child_vector(alg, keys["sk_d"], other, ni2, nr2, gir_child),
                child_vector(alg, keys["sk_d"], "aes256gcm16", nr2, ni2)]

    # rekeyed by the original responder, which becomes the new SA's initiator
    rname, rencr, rbits, ralg, _, _ = SUITES[rekey_to]
    rpi, rki = x25519_pair(lbl("x25519 rekey i"))
    rpr, rkr = x25519_pair(lbl("x25519 rekey r"))
    rgir = x25519_shared(rpi, rkr, rpr, rki)
    rni, rnr = det(lbl("Ni rekey"), 32), det(lbl("Nr rekey"), 32)
    rspi_i, rspi_r = det(lbl("SPIi rekey"), 8), det(lbl("SPIr rekey"), 8)
    rskeyseed = prf(alg, keys["sk_d"], rgir + rni + rnr)  # the OLD SA's PRF
    _, rkeys = derive(ralg, rencr, rbits, rni, rnr, rgir, rspi_i, rspi_r, skeyseed=rskeyseed)
    rmsg = sk_message(rspi_i, rspi_r, EXCH_INFORMATIONAL, FLAG_INITIATOR, 0,
                      [(PT_NOTIFY, struct.pack("!BBH", 0, 0, N_INITIAL_CONTACT))], 0, ctr(0),
                      rkeys["sk_ei"], rencr)
    rekey = {"suite": rname, "encr": rencr, "encr_key_bits": rbits, "prf": ralg,
             "initiator": "r", "ni": hx(rni), "nr": hx(rnr), "gir": hx(rgir),
             "spi_i": hx(rspi_i), "spi_r": hx(rspi_r), "skeyseed": hx(rskeyseed),
             **{k: hx(v) for k, v in rkeys.items()},
             "message": {"name": "first request of the new SA", "sender": "i",
                         "counter_iv": True, "msg": hx(rmsg[0]), "aad_len": rmsg[1],
                         "plaintext": hx(rmsg[2]), "inner_len": len(rmsg[2]) - 1}}

    return {
        "name": name, "encr": encr, "encr_key_bits": bits, "prf": alg, "dh": DH_CURVE25519,
        "x25519_priv_i": hx(det(lbl("x25519 i"), 32)), "x25519_priv_r": hx(det(lbl("x25519 r"), 32)),
        "ke_i": hx(ke_i), "ke_r": hx(ke_r), "gir": hx(gir),
        "ni": hx(ni), "nr": hx(nr), "spi_i": hx(spi_i), "spi_r": hx(spi_r),
        "skeyseed": hx(skeyseed), **{k: hx(v) for k, v in keys.items()},
        "auth": {
            "init_i": hx(init_i), "init_r": hx(init_r), "id_i": hx(idi), "id_r": hx(idr),
            "psk": hx(psk), "psk_auth_i": hx(auth_i), "psk_auth_r": hx(auth_r),
            "signed_octets_i": hx(so_i), "signed_octets_r": hx(so_r),
            "ed25519_seed_i": hx(det(lbl("ed25519 i"), 32)),
            "ed25519_seed_r": hx(det(lbl("ed25519 r"), 32)),
            "ed25519_pk_i": hx(ed_i.public_key().public_bytes(*raw)),
            "ed25519_pk_r": hx(ed_r.public_key().public_bytes(*raw)),
            "dsig_auth_i": hx(dsig_i), "dsig_auth_r": hx(dsig_r),
        },
        "messages": messages,
        "children": children,
        "rekey": rekey,
    }


def build():
    doc = {
        "generator": "scripts/ike_crypto_vectors.py (python hmac/hashlib + python3-cryptography)",
        "notes": [
            "All inputs are fixed bytes derived from labels; regenerate with the script.",
            "keys: sk_d | sk_ei | sk_er | sk_pi | sk_pr as prf+ produced them (no SK_a with an "
            "AEAD); sk_e* = key || 4-byte salt.",
            "messages: msg is the whole sealed message; plaintext is the encrypted range (inner "
            "payloads, padding, pad length); inner_len excludes padding and pad length. "
            "counter_iv: the IV is the sender's message counter (0, 1, ...), as "
            "ike_keys_seal() writes it; otherwise a fixed random IV.",
            "children: KEYMAT split i2r | r2i, each key || salt; gir empty = no PFS.",
            "rekey: initiator 'r' = the original responder initiated the rekeying exchange and is "
            "the new SA's initiator (its message's sender 'i' is that new initiator); skeyseed "
            "uses the old SA's PRF, the keys the new suite's.",
        ],
        "rfc_examples": [rfc7634_appendix_b()],
        "prf_plus": prf_plus_vectors(),
        "suites": [suite_vector(i) for i in range(len(SUITES))],
    }
    return json.dumps(doc, indent=1) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--out", type=Path, default=DEFAULT_OUT, help="file to write")
    g.add_argument("--check", type=Path, help="regenerate and compare with this file")
    args = ap.parse_args()
    text = build()
    if args.check:
        if args.check.read_text() != text:
            print("%s differs from what the script generates" % args.check)
            return 1
        print("%s: reproduced" % args.check)
        return 0
    args.out.write_text(text)
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
