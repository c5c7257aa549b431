#!/usr/bin/python3
"""Tables and plots of a scripts/bench/run.sh results directory.

Reads DIR/results.csv (every run) and DIR/memory.csv and writes DIR/summary.md (markdown tables:
median with min-max per case), DIR/summary.csv (one line per case) and DIR/*.png (gnuplot).
Packet rates are what the program delivered to its net_null output; Gbps are of the cleartext
(the inner IP packet: TCP payload + 40 B) at that rate; cycles per packet are TSC cycles of the one
busy-polling core per delivered packet.

Usage: report.py DIR [--title TEXT]
"""
import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
from collections import defaultdict

AEADS = ["aes128gcm16", "aes256gcm16", "chacha20poly1305"]


def load(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Case:
    """The runs of one case: median/min/max of the delivered packet rate."""

    def __init__(self, rows):
        self.rows = rows
        ok = [r for r in rows if r["status"].startswith("ok")]
        self.ok = bool(ok)
        # a failed run's message, without the run's process name
        self.note = "" if ok else (re.sub(r"dvb\d+_\d+-[\w-]+: ", "", rows[0]["status"])
                                   if rows else "not run")
        if rows and rows[0]["group"] == "imb":  # the harness gives median/min/max itself
            by = {r["rep"]: float(r["pps"]) for r in ok}
            self.med, self.min, self.max = by.get("median", 0), by.get("max", 0), by.get("min", 0)
            self.min, self.max = min(self.min, self.max), max(self.min, self.max)
        else:
            v = [float(r["pps"]) for r in ok]
            self.med = statistics.median(v) if v else 0
            self.min, self.max = (min(v), max(v)) if v else (0, 0)
        self.n = len(ok)
        self.warn = [r["status"] for r in ok if r["status"] != "ok"]
        hz = [float(r["tsc_hz"]) for r in ok if r.get("tsc_hz")]
        self.hz = hz[0] if hz else 0
        self.variant = ok[0]["variant"] if ok else (rows[0]["variant"] if rows else "")

    def cycles(self, hz=0):
        hz = hz or self.hz
        return hz / self.med if self.med and hz else 0


def key(r):
    return (r["group"], r["app"], r["dir"], r["aead"], r["encap"], r["size"], r["conns"],
            r["sas"], r["variant"])


def cases(rows):
    by = defaultdict(list)
    for r in rows:
        by[key(r)].append(r)
    return {k: Case(v) for k, v in by.items()}


def find(cs, **want):
    """The best (highest median) case matching the fields given."""
    names = ["group", "app", "dir", "aead", "encap", "size", "conns", "sas", "variant"]
    best = None
    for k, c in cs.items():
        d = dict(zip(names, k))
        if all(str(d[f]) == str(v) for f, v in want.items()):
            if best is None or c.med > best.med or (not best.ok and c.ok):
                best = c
    return best


def mpps(c, size=None, hz=0, with_cyc=True):
    if c is None:
        return "not run"
    if not c.ok:
        return "n/a" if c.note.startswith("n/a") else "failed"
    s = f"**{c.med / 1e6:.2f}** ({c.min / 1e6:.2f}–{c.max / 1e6:.2f})"
    extra = []
    if size is not None:
        extra.append(f"{c.med * (int(size) + 40) * 8 / 1e9:.2f} Gb/s")
    cyc = c.cycles(hz)
    if with_cyc and cyc:
        extra.append(f"{cyc:.0f} cyc")
    if c.warn:
        extra.append("⚠ " + c.warn[0].split(", ", 1)[-1])
    return s + (" · " + " · ".join(extra) if extra else "")


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def fmt_bytes(b):
    b = float(b)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(b) < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return str(b)


def dat_row(cs, size, specs, hz):
    cells = [size]
    for spec in specs:
        c = find(cs, size=size, **spec)
        if c is None or not c.ok:
            cells += ["?", "?", "?"]
        else:
            cells += [f"{c.med / 1e6:.3f}", f"{c.min / 1e6:.3f}", f"{c.max / 1e6:.3f}"]
    return " ".join(str(x) for x in cells)


def plots(d, cs, sizes, hz, conns, sas):
    if not shutil.which("gnuplot"):
        return ["(gnuplot not found: no plots; apt-get install gnuplot-nox)"]
    made = []
    for direction, specs, titles in (
        ("in", [dict(group="floor", dir="esp", encap="none"),
                dict(group="secgw", dir="in"), dict(group="router", encap="none"),
                dict(group="target", dir="in", encap="none"), dict(group="imb", dir="in")],
         ["testpmd io (I/O floor)", "ipsec-secgw inbound", "dvipsec router",
          "dvipsec target inbound", "IPsec-MB decrypt (ceiling)"]),
        ("out", [dict(group="floor", dir="plain"), dict(group="secgw", dir="out"),
                 dict(group="target", dir="out", encap="none"), dict(group="imb", dir="out")],
         ["testpmd io (I/O floor)", "ipsec-secgw outbound", "dvipsec target outbound",
          "IPsec-MB encrypt (ceiling)"])):
        gp = ['set terminal pngcairo size 1500,520 font ",10"',
              f'set output "{d}/{"inbound" if direction == "in" else "outbound"}.png"',
              'set datafile missing "?"', "set style data histograms",
              "set style histogram errorbars gap 1 lw 1", "set style fill solid 0.8 border -1",
              "set logscale y", "set yrange [0.5:*]", "set grid ytics",
              'set ylabel "Mpps, one core (median, min-max)"',
              'set xlabel "inner TCP payload, bytes (raw ESP, tunnel mode)"',
              "set key top right font \",8\"", "set multiplot layout 1,3"]
        for aead in AEADS:
            dat = os.path.join(d, f"plot-{direction}-{aead}.dat")
            with open(dat, "w") as f:
                for size in sizes:
                    f.write(dat_row(cs, size, [dict(s, **({} if s["group"] == "floor" else
                                                          {"aead": aead})) for s in specs],
                                    hz) + "\n")
            gp.append(f'set title "{aead} {"inbound" if direction == "in" else "outbound"}"')
            parts = []
            for i, t in enumerate(titles):
                c = 2 + 3 * i
                xt = ":xtic(1)" if i == 0 else ""
                parts.append(f'"{dat}" using {c}:{c + 1}:{c + 2}{xt} title "{t}"')
            gp.append("plot " + ", ".join(parts))
        gp.append("unset multiplot")
        made.append(gp)
    if conns:
        dat = os.path.join(d, "plot-conns.dat")
        with open(dat, "w") as f:
            for n in conns:
                vals = [n]
                for app in ("dvipsec-router", "testpmd"):
                    c = find(cs, group="conns", app=app, conns=n)
                    vals += ([f"{c.med / 1e6:.3f}", f"{c.min / 1e6:.3f}", f"{c.max / 1e6:.3f}"]
                             if c and c.ok else ["?"] * 3)
                f.write(" ".join(vals) + "\n")
        made.append(['set terminal pngcairo size 800,500 font ",10"',
                     f'set output "{d}/conns.png"', 'set datafile missing "?"', "set logscale x",
                     "set grid", 'set xlabel "live connections"',
                     'set ylabel "Mpps, one core"', "set yrange [0:*]",
                     'set title "router, 64 B, one packet per connection per pass"',
                     f'plot "{dat}" using 1:2:3:4 with yerrorlines title "dvipsec router", '
                     f'"{dat}" using 1:5:6:7 with yerrorlines title "testpmd io, same file"'])
    if sas:
        dat = os.path.join(d, "plot-sas.dat")
        with open(dat, "w") as f:
            for n in sas:
                c = find(cs, group="sas", app="dvipsec-router", sas=n)
                if c and c.ok:
                    f.write(f"{n} {c.med / 1e6:.3f} {c.min / 1e6:.3f} {c.max / 1e6:.3f}\n")
        made.append(['set terminal pngcairo size 800,500 font ",10"',
                     f'set output "{d}/sas.png"', "set logscale x 2", "set grid",
                     'set xlabel "SAs (flows spread over them)"', "set yrange [0:*]",
                     'set ylabel "Mpps, one core"', 'set title "router, 64 B, aes128gcm16"',
                     f'plot "{dat}" using 1:2:3:4 with yerrorlines title "dvipsec router"'])
    notes = []
    for i, gp in enumerate(made):
        path = os.path.join(d, f"plot{i}.gp")
        with open(path, "w") as f:
            f.write("\n".join(gp) + "\n")
        p = subprocess.run(["gnuplot", path], capture_output=True, text=True)
        if p.returncode != 0:
            notes.append(f"gnuplot {path}: {p.stderr.strip()[:300]}")
    return notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    d = a.dir
    rows = load(os.path.join(d, "results.csv"))
    mem = load(os.path.join(d, "memory.csv"))
    cs = cases(rows)
    hzs = [float(r["tsc_hz"]) for r in rows if r.get("tsc_hz")]
    hz = statistics.median(hzs) if hzs else 0
    sizes = sorted({r["size"] for r in rows if r["group"] in ("router", "target", "secgw",
                                                             "imb", "floor")}, key=int)
    encaps = [e for e in ("none", "udp") if any(r["encap"] == e for r in rows)]
    out = []
    if a.title:
        out.append(a.title)
    out.append(f"Cells: delivered packets/s in millions, **median** (min–max) of the runs, the "
               f"cleartext rate (inner IP packet = TCP payload + 40 B) and TSC cycles per packet "
               f"at {hz / 1e9:.2f} GHz. One core (lcore 1) each; input net_pcap infinite_rx=1, "
               f"output net_null.\n")

    # inbound
    head = ["AEAD", "encap", "TCP payload", "I/O floor: testpmd io", "ipsec-secgw inbound",
            "dvipsec router", "dvipsec target inbound", "IPsec-MB decrypt (ceiling)"]
    body = []
    for aead in AEADS:
        for encap in encaps:
            for size in sizes:
                sg = find(cs, group="secgw", dir="in", aead=aead, encap=encap, size=size)
                body.append([aead, "raw" if encap == "none" else "UDP", size,
                             mpps(find(cs, group="floor", dir="esp", encap=encap, size=size),
                                  size, hz),
                             mpps(sg, size, hz) + (f" ({sg.variant})" if sg and sg.ok and
                                                   "chacha" in aead else ""),
                             mpps(find(cs, group="router", aead=aead, encap=encap, size=size),
                                  size, hz),
                             mpps(find(cs, group="target", dir="in", aead=aead, encap=encap,
                                       size=size), size, hz),
                             mpps(find(cs, group="imb", dir="in", aead=aead, size=size), size,
                                  hz) if encap == "none" else "same as raw"])
    out += ["## Inbound (decrypt) per core", "", table(head, body), ""]

    head = ["AEAD", "encap", "TCP payload", "I/O floor: testpmd io (cleartext file)",
            "ipsec-secgw outbound", "dvipsec target outbound", "IPsec-MB encrypt (ceiling)"]
    body = []
    for aead in AEADS:
        for encap in encaps:
            for size in sizes:
                sg = find(cs, group="secgw", dir="out", aead=aead, encap=encap, size=size)
                body.append([aead, "raw" if encap == "none" else "UDP", size,
                             mpps(find(cs, group="floor", dir="plain", size=size), size, hz),
                             mpps(sg, size, hz) + (f" ({sg.variant})" if sg and sg.ok and
                                                   "chacha" in aead else ""),
                             mpps(find(cs, group="target", dir="out", aead=aead, encap=encap,
                                       size=size), size, hz),
                             mpps(find(cs, group="imb", dir="out", aead=aead, size=size), size,
                                  hz) if encap == "none" else "same as raw"])
    out += ["## Outbound (encrypt) per core", "", table(head, body), ""]

    # secgw set-ups
    body = []
    for k, c in sorted(cs.items(), key=lambda kc: (kc[0][2], kc[0][3], int(kc[0][5]),
                                                   kc[0][8])):
        if k[0] == "secgw" and k[4] == "none":
            body.append([k[3], k[2], k[5], k[8], mpps(c, k[5], hz) if c.ok else c.note])
    if body:
        out += ["## ipsec-secgw crypto set-ups tried", "",
                "The tables above show the fastest that worked.", "",
                table(["AEAD", "dir", "TCP payload", "cryptodev / SA type", "result"], body), ""]

    # connections
    mem_conns = sorted([m for m in mem if m["group"] == "conns"], key=lambda m: int(m["conns"]))
    mem_sas = sorted([m for m in mem if m["group"] == "sas"], key=lambda m: int(m["sas"]))
    conns = sorted({r["conns"] for r in rows if r["group"] == "conns"}, key=int)
    if conns:
        body = []
        for n in conns:
            m = next((x for x in mem_conns if x["conns"] == n), {})
            rc = find(cs, group="conns", app="dvipsec-router", conns=n)
            tc = find(cs, group="conns", app="testpmd", conns=n)
            own = (f"{rc.cycles(hz) - tc.cycles(hz):.0f}" if rc and tc and rc.ok and tc.ok
                   else "")
            body.append([f"{int(n):,}", mpps(rc, None, hz), mpps(tc, None, hz), own,
                         m.get("entries", ""), m.get("capacity", ""),
                         fmt_bytes(int(m["heap_alloc"]) - int(m["replay_bytes"])) if m else "",
                         fmt_bytes(m["vm_rss"]) if m else "",
                         fmt_bytes(m["hugetlb"]) if m else ""])
        out += ["## Router cost growth with live connections", "",
                "64 B payload, aes128gcm16, raw ESP; the file holds one packet per connection, so "
                "every packet is a lookup of its own spread over the whole table (the worst case "
                "for the caches). The file's packets live in the router's pool (enlarged by "
                "tests/bench/pool_preload.c, data room 512 B), so the I/O floor is measured on "
                "the same file; the router's own work is roughly the difference of the two.", "",
                table(["live connections", "dvipsec router", "testpmd io, same file",
                       "router less floor, cyc/pkt", "table entries", "capacity",
                       "EAL heap less the replay pool", "VmRSS", "hugepages mapped"], body), ""]
    sas = sorted({r["sas"] for r in rows if r["group"] == "sas"}, key=int)
    if sas:
        body = [[n, mpps(find(cs, group="sas", sas=n), None, hz)] for n in sas]
        out += ["## Router with more SAs", "",
                "64 B payload, aes128gcm16, raw ESP, 1024 flows in trains of 4, round robin over "
                "the SAs.", "", table(["SAs", "dvipsec router"], body), ""]

    # memory
    lines = []
    if len(mem_conns) >= 2:
        a0, a1 = mem_conns[0], mem_conns[-1]

        def table_bytes(m):
            return int(m["heap_alloc"]) - int(m["replay_bytes"])
        dcap = int(a1["capacity"]) - int(a0["capacity"])
        if dcap > 0:
            per = (table_bytes(a1) - table_bytes(a0)) / dcap
            lines.append(["connection-table entry (EAL heap per unit of capacity, "
                          f"{int(a0['capacity']):,} vs {int(a1['capacity']):,})",
                          f"{per:.0f} B"])
        lines.append([f"router at {int(a1['conns']):,} connections: VmRSS (ordinary pages)",
                      fmt_bytes(a1["vm_rss"])])
        lines.append([f"router at {int(a1['conns']):,} connections: hugepages mapped",
                      fmt_bytes(a1["hugetlb"])])
        lines.append(["... of which the benchmark's copy of its pcap (mbufs the shim added, "
                      "net_pcap's ring)", fmt_bytes(a1["replay_bytes"])])
        lines.append([f"router at {int(a1['conns']):,} connections: resident total less the "
                      "benchmark's copy of its pcap", fmt_bytes(int(a1["vm_rss"]) +
                                                               int(a1["hugetlb"]) -
                                                               int(a1["replay_bytes"]))])
    if len(mem_sas) >= 2:
        s0, s1 = mem_sas[0], mem_sas[-1]
        dn = int(s1["sas"]) - int(s0["sas"])
        if dn > 0:
            lines.append([f"per SA: EAL heap ({s0['sas']} vs {s1['sas']} SAs)",
                          f"{(int(s1['heap_alloc']) - int(s0['heap_alloc'])) / dn:.0f} B"])
            lines.append(["per SA: VmRSS (keys in sodium_malloc pages, config, telemetry)",
                          f"{(int(s1['vm_rss']) - int(s0['vm_rss'])) / dn:.0f} B"])
    if lines:
        out += ["## Memory", "", table(["what", "bytes"], lines), ""]

    # problems
    def other_setup_worked(r):  # a secgw set-up that fails where another one works
        c = find(cs, group=r["group"], dir=r["dir"], aead=r["aead"], encap=r["encap"],
                 size=r["size"])
        return r["group"] == "secgw" and c is not None and c.ok

    bad = [r for r in rows if not r["status"].startswith("ok") and
           not r["status"].startswith("n/a") and not other_setup_worked(r)]
    warn = [r for r in rows if r["status"].startswith("ok,")]
    if bad or warn:
        out += ["## Runs that failed or lost packets", ""]
        for r in bad + warn:
            out.append(f"- {r['app']} {r['dir']} {r['aead']} {r['encap']} {r['size']} B "
                       f"{r['variant']} rep {r['rep']}: {r['status']}")
        out.append("")

    notes = plots(d, cs, sizes, hz, conns, sas)
    pngs = sorted(f for f in os.listdir(d) if f.endswith(".png"))
    out += ["## Plots", ""] + [f"![{p}]({p})" for p in pngs] + [f"- {n}" for n in notes] + [""]
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(out))

    with open(os.path.join(d, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "app", "dir", "aead", "encap", "size", "conns", "sas", "variant",
                    "runs", "pps_median", "pps_min", "pps_max", "cleartext_gbps",
                    "cycles_per_packet", "note"])
        for k, c in sorted(cs.items()):
            gb = c.med * (int(k[5]) + 40) * 8 / 1e9 if k[5] and c.ok else ""
            w.writerow(list(k) + [c.n, f"{c.med:.0f}", f"{c.min:.0f}", f"{c.max:.0f}",
                                  f"{gb:.3f}" if gb != "" else "",
                                  f"{c.cycles(hz):.0f}" if c.ok else "", c.note])
    print(f"{d}/summary.md, summary.csv, {len(pngs)} plot(s)")


if __name__ == "__main__":
    main()
