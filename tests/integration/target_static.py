#!/usr/bin/python3
"""A target with static SAs (the lab set-up, and the benchmark's), both directions, checked by scapy.

The target reads its two ports from pcap files and writes what it sends into pcap files
(net_pcap rx_pcap/tx_pcap, no infinite replay), so every packet it emits can be looked at:

  link in:  GRE-wrapped ESP (scripts/bench/pcapgen.py esp --gre, sealed by python3-cryptography)
            -> GRE decap, full ESP inbound, replay window on -> TAP out: the inner packets, intact
  TAP in:   the cleartext answers (pcapgen.py plain) -> outbound static SA -> link out: GRE (key =
            the outbound SA's slot) around ESP that scapy's own ESP decrypts to the same answers,
            sequence numbers 1..N

and its telemetry must say so: every packet decrypted and encrypted, nothing sent in the clear
(out_plain), nothing dropped. For each AEAD, raw ESP and ESP-in-UDP.

Usage: target_static.py BUILD_DIR   (root: DPDK runtime directory; no hugepages needed)
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "bench"))
import benchctl  # noqa: E402  (dv_sa: the benchmark's static SA config)
import pcapgen  # noqa: E402
import telemetry  # noqa: E402  (this directory's client)

from scapy.all import GRE, IP, UDP, rdpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

FLOWS, PER_FLOW, SIZE = 6, 3, 100
N = FLOWS * PER_FLOW


def run_case(build, work, aead, encap):
    name = f"{aead}/{encap}"
    gen = [sys.executable, os.path.join(HERE, "..", "..", "scripts", "bench", "pcapgen.py")]
    common = ["--aead", aead, "--encap", encap, "--size", str(SIZE), "--flows", str(FLOWS),
              "--per-flow", str(PER_FLOW)]
    files = {k: os.path.join(work, f"{k}.pcap") for k in ("esp", "plain", "link", "tap")}
    subprocess.run(gen + ["esp", "--gre", "--out", files["esp"]] + common, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(gen + ["plain", "--out", files["plain"]] + common, check=True,
                   stdout=subprocess.DEVNULL)
    prefix = f"dvts{os.getpid()}"
    sas = pcapgen.sa_list(aead, 1, ("inbound",)) + pcapgen.sa_list(aead, 1, ("outbound",))
    conf = {"eal": ["-l", "0", "--no-pci", "--no-huge", "-m", "256", "--file-prefix", prefix,
                    "--log-level", "*:error"],
            "id": 1, "dvipa": [pcapgen.DVIPA], "workers": [0],
            "link": {"devargs": f"net_pcap0,rx_pcap={files['esp']},tx_pcap={files['link']}"},
            "tap": {"devargs": f"net_pcap1,rx_pcap={files['plain']},tx_pcap={files['tap']}"},
            "router_control": f"unix:{work}/t1.ctl", "control_key": "00" * 32,
            "replay_window": 64,
            # slot 0 inbound (the GRE key of the file), slot 1 outbound
            "static_sas": [benchctl.dv_sa(s, encap) for s in sas]}
    cpath = os.path.join(work, "target.json")
    with open(cpath, "w") as f:
        json.dump(conf, f)
    log = open(os.path.join(work, "target.log"), "w")
    proc = subprocess.Popen([os.path.join(build, "dataplane", "target", "dvipsec-target"),
                             "--config", cpath, "--cf", f"/{prefix}-cf"], stdout=log,
                            stderr=subprocess.STDOUT)
    st = {}
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                st = telemetry.query(prefix, telemetry.TARGET_STATS)
                if st.get("from_tap", 0) >= N and st.get("decrypted", 0) >= N:
                    break
            except (OSError, ValueError, KeyError, telemetry.TelemetryError):
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        drops = telemetry.query(prefix, telemetry.TARGET_DROPS) if proc.poll() is None else {}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        log.close()
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}", f"/dev/shm/{prefix}-cf"])
    errors = []
    if proc.returncode != 0:
        errors.append(f"target exited with {proc.returncode}: "
                      f"{open(os.path.join(work, 'target.log')).read()[-2000:]}")
    for k, want in (("decrypted", N), ("to_tap", N), ("from_tap", N), ("encrypted", N),
                    ("to_link", N), ("out_plain", 0)):
        if st.get(k) != want:
            errors.append(f"telemetry {k} = {st.get(k)}, want {want}")
    bad = {k: v for k, v in (drops or {}).items() if isinstance(v, int) and v}
    if bad:
        errors.append(f"drops: {bad}")
    if errors:
        return [f"{name}: {e}" for e in errors]

    # inbound: the TAP got the inner packets of the ESP file, in order and intact
    sa_in, sa_out = sas
    klen, _, scapy_name, _ = pcapgen.AEADS[aead]
    want_in = []
    for fr in rdpcap(files["esp"]):
        esp_pkt = fr[GRE].payload
        if encap == "udp":
            esp_pkt = IP(src=esp_pkt.src, dst=esp_pkt.dst, proto=50) / esp_pkt[ESP]
        sa = SecurityAssociation(ESP, spi=sa_in["spi"], crypt_algo=scapy_name,
                                 crypt_key=bytes.fromhex(sa_in["key"]),
                                 tunnel_header=IP(src=pcapgen.PEER, dst=pcapgen.DVIPA))
        want_in.append(bytes(sa.decrypt(esp_pkt)))
    got_in = [bytes(fr[IP]) for fr in rdpcap(files["tap"])]
    if got_in != want_in:
        errors.append(f"TAP out: {len(got_in)} packets, not the {len(want_in)} inner packets")

    # outbound: scapy decrypts what left on the link to the cleartext the TAP gave
    want_out = [bytes(fr[IP]) for fr in rdpcap(files["plain"])]
    sa = SecurityAssociation(ESP, spi=sa_out["spi"], crypt_algo=scapy_name,
                             crypt_key=bytes.fromhex(sa_out["key"]),
                             tunnel_header=IP(src=pcapgen.DVIPA, dst=pcapgen.PEER))
    seqs = []
    # the router's share of the link: replay feedback (GRE protocol 0x88b5) is not traffic
    link = [fr for fr in rdpcap(files["link"]) if GRE not in fr or fr[GRE].proto != 0x88B5]
    for i, fr in enumerate(link):
        if GRE not in fr or fr[GRE].key != 1:
            errors.append(f"link frame {i}: not GRE with key 1 (the outbound slot): {fr!r}")
            break
        outer = fr[GRE].payload
        redo = IP(bytes(outer))
        del redo.chksum
        if IP(bytes(redo)).chksum != outer.chksum:
            errors.append(f"link frame {i}: outer IPv4 checksum {outer.chksum:#06x} is wrong")
            break
        if encap == "udp":
            if UDP not in outer or outer[UDP].dport != 4500:
                errors.append(f"link frame {i}: not ESP-in-UDP 4500")
                break
            outer = IP(src=outer.src, dst=outer.dst, proto=50) / ESP(bytes(outer[UDP].payload))
        elif outer.proto != 50:
            errors.append(f"link frame {i}: IP protocol {outer.proto}, not ESP")
            break
        if outer[ESP].spi != sa_out["spi"]:
            errors.append(f"link frame {i}: SPI {outer[ESP].spi:#x}")
            break
        seqs.append(outer[ESP].seq)
        try:
            inner = bytes(sa.decrypt(outer))
        except Exception as e:  # scapy raises on a bad ICV
            errors.append(f"link frame {i}: scapy cannot decrypt it: {e}")
            break
        if i >= len(want_out) or inner != want_out[i]:
            errors.append(f"link frame {i}: decrypts to other bytes than TAP frame {i}")
            break
    if not errors and (len(seqs) != N or seqs != list(range(1, N + 1))):
        errors.append(f"outbound sequence numbers {seqs}, want 1..{N}")
    if errors:
        return [f"{name}: {e}" for e in errors]
    print(f"ok {name}: {N} in (decrypted, intact on the TAP), {N} out (scapy decrypts them, "
          "seq 1..N), none in the clear")
    return []


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if os.geteuid() != 0:
        print("skipped: needs root (DPDK runtime directory)")
        sys.exit(77)
    build = os.path.abspath(sys.argv[1])
    failed = []
    for aead in pcapgen.AEADS:
        for encap in ("none", "udp"):
            with tempfile.TemporaryDirectory(prefix="dvts.") as work:
                failed += run_case(build, work, aead, encap)
    for f in failed:
        print("FAIL " + f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
