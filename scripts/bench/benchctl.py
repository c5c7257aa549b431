#!/usr/bin/python3
"""The measurements of scripts/bench/run.sh (which builds everything and reserves hugepages first).

Every packet-rate figure is taken the same way, whatever the program: its input is a pcap replayed
by net_pcap (infinite_rx=1), its output one or more net_null ports, its data path on lcore 1, and
the rate is the growth of the output ports' `opackets` (DPDK telemetry, /ethdev/stats) over a timed
window after a warm-up: packets the program delivered, never packets it dropped. Each case runs
--reps times (a fresh process each time) and results.csv keeps every run; report.py makes the
median/min/max tables and plots.

Groups (--only takes a comma-separated subset):
  imb        IPsec-MB alone on the same ESP buffers (tests/bench/imb_pcap_bench.c): the ceiling
  floor      dpdk-testpmd io forwarding of each input file: the I/O floor
  secgw      DPDK's ipsec-secgw inbound (decrypt) and outbound (encrypt), -l (librte_ipsec)
  router     dvipsec-router: classify, replay pre-check, peek, connection table, GRE to net_null
  target     dvipsec-target inbound (GRE from the router -> full ESP -> TAP = net_null) and
             outbound (TAP = the plaintext pcap -> SA by selectors -> ESP -> link = net_null)
  conns      router pps with 1k/100k/1M live connections (one packet per connection per pass),
             with memory at each size
  sas        router pps and memory with 1/16/256 SAs
Everything it starts is stopped (SIGINT, then SIGKILL) and its DPDK run directory and coupling
facility segment removed, also on SIGINT/SIGTERM.
"""
import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
AEADS = ["aes128gcm16", "aes256gcm16", "chacha20poly1305"]
CONTROL_KEY = "00" * 32
# ipsec-secgw crypto set-ups: (cryptodev vdev, SA type); the fastest that works is reported.
# AES-GCM: the aesni_gcm PMD with cpu-crypto (PEERS.md: the fastest here). ChaCha20-Poly1305:
# every PMD of this DPDK that has it, both ways.
SECGW_VARIANTS = {
    "aes128gcm16": [("crypto_aesni_gcm", "cpu-crypto")],
    "aes256gcm16": [("crypto_aesni_gcm", "cpu-crypto")],
    "chacha20poly1305": [("crypto_chacha20_poly1305", "cpu-crypto"),
                         ("crypto_chacha20_poly1305", "no-offload"),
                         ("crypto_aesni_mb", "cpu-crypto"), ("crypto_aesni_mb", "no-offload")],
}
FIELDS = ["group", "app", "dir", "aead", "encap", "size", "flows", "sas", "conns", "variant", "rep",
          "pps", "pps_in", "tsc_hz", "status"]
MEM_FIELDS = ["group", "conns", "sas", "capacity", "entries", "heap_alloc", "pool_bytes",
              "mbuf_bytes", "replay_bytes", "vm_rss", "hugetlb", "pps"]

running = []


class Failed(Exception):
    pass


def log(msg):
    print(msg, flush=True)


# -- processes --------------------------------------------------------------------------------


class App:
    """A program under test; prefix = its EAL --file-prefix, cf = its CF segment if any."""

    def __init__(self, ctx, name, argv, prefix, env=None, cf=None, ready_line=False):
        self.name, self.prefix, self.cf, self.ready_line = name, prefix, cf, ready_line
        self.rundir = ctx.rundir
        self.logpath = os.path.join(ctx.logs, f"{name}.log")
        logf = open(self.logpath, "w")
        logf.write(" ".join(argv) + "\n")
        logf.flush()
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=e, start_new_session=True)
        logf.close()
        running.append(self)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=8):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        if self in running:
            running.remove(self)
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"], check=False)
        if self.cf:
            subprocess.run(["rm", "-f", f"/dev/shm{self.cf}"], check=False)
        for f in os.listdir(self.rundir):  # control sockets
            if f.startswith(self.prefix + "-"):
                os.unlink(os.path.join(self.rundir, f))


def stop_all(*_):
    for a in list(running):
        a.stop()


class Telemetry:
    """DPDK telemetry v2 of one process, connected once it is up."""

    def __init__(self, app, timeout=60):
        path = f"/var/run/dpdk/{app.prefix}/dpdk_telemetry.v2"
        deadline = time.monotonic() + timeout
        while True:
            if not app.alive():
                raise Failed(f"{app.name} exited:\n{app.tail()}")
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                self.s.connect(path)
                self.s.recv(4096)
                return
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise Failed(f"{app.name}: no telemetry socket within {timeout} s")
                time.sleep(0.1)

    def q(self, cmd):
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(1 << 20))[cmd.split(",")[0]]

    def close(self):
        self.s.close()


def port_sets(tel):
    """(input ports: net_pcap, output ports: net_null)."""
    ins, outs = [], []
    for p in tel.q("/ethdev/list"):
        name = tel.q(f"/ethdev/info,{p}")["name"]
        if name.startswith("net_pcap"):
            ins.append(p)
        elif name.startswith("net_null"):
            outs.append(p)
    return ins, outs


def sample(tel, ports, field):
    """Sum of a counter over ports, timed at the middle of the queries (a busy machine can delay
    the program's telemetry thread: reading input and output at separate instants keeps that
    delay out of the rates)."""
    t0 = time.monotonic()
    v = sum(tel.q(f"/ethdev/stats,{p}")[field] for p in ports)
    return v, (t0 + time.monotonic()) / 2


def wait_ready(app, timeout=120):
    """dvipsec prints a 'ready' line once every port is open (the telemetry socket comes first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not app.alive():
            raise Failed(f"{app.name} exited:\n{app.tail()}")
        with open(app.logpath, errors="replace") as f:
            if any(" ready" in line for line in f):
                return
        time.sleep(0.05)
    raise Failed(f"{app.name}: not ready within {timeout} s")


def measure(ctx, app, first_output_timeout=60):
    """Output and input packets/s of a running app over ctx.seconds after ctx.warmup."""
    if app.ready_line:
        wait_ready(app)
    tel = Telemetry(app)
    try:
        ins, outs = port_sets(tel)
        if not ins or not outs:
            raise Failed(f"{app.name}: expected net_pcap input and net_null output ports")
        # the file loads into memory before the first packet (seconds for a million); once
        # packets are read, output must follow at once
        deadline = time.monotonic() + first_output_timeout
        reading_since = None
        while True:
            rx, now = sample(tel, ins, "ipackets")
            if sample(tel, outs, "opackets")[0]:
                break
            if not app.alive():
                raise Failed(f"{app.name} exited:\n{app.tail()}")
            if rx and reading_since is None:
                reading_since = now
            if now > deadline or (reading_since and now - reading_since > 3):
                raise Failed(f"{app.name}: reads packets but delivers none ({rx} read)" if rx
                             else f"{app.name}: no packet read within {first_output_timeout} s")
            time.sleep(0.05)
        time.sleep(ctx.warmup)
        rx0, trx0 = sample(tel, ins, "ipackets")
        tx0, ttx0 = sample(tel, outs, "opackets")
        time.sleep(ctx.seconds)
        rx1, trx1 = sample(tel, ins, "ipackets")
        tx1, ttx1 = sample(tel, outs, "opackets")
        if not app.alive():
            raise Failed(f"{app.name} exited during the measurement:\n{app.tail()}")
        return (tx1 - tx0) / (ttx1 - ttx0), (rx1 - rx0) / (trx1 - trx0), tel
    except BaseException:
        tel.close()
        raise


# -- configurations ----------------------------------------------------------------------------


class Ctx:
    def __init__(self, a):
        self.__dict__.update(vars(a))
        self.pcaps = os.path.join(self.out, "pcaps")
        self.logs = os.path.join(self.out, "logs")
        self.conf = os.path.join(self.out, "conf")
        self.rundir = os.path.join(self.out, "run")
        for d in (self.pcaps, self.logs, self.conf, self.rundir):
            os.makedirs(d, exist_ok=True)
        self.tag = f"dvb{os.getpid()}"
        self.n = 0
        self.tsc_hz = 0.0
        self.results = open(os.path.join(self.out, "results.csv"), "a", newline="")
        self.rw = csv.DictWriter(self.results, FIELDS)
        if self.results.tell() == 0:
            self.rw.writeheader()
        self.memf = open(os.path.join(self.out, "memory.csv"), "a", newline="")
        self.mw = csv.DictWriter(self.memf, MEM_FIELDS)
        if self.memf.tell() == 0:
            self.mw.writeheader()

    def prefix(self):
        self.n += 1
        return f"{self.tag}_{self.n}"

    def mem_args(self, big=False):
        if self.no_huge:
            return ["--no-huge", "-m", "3072" if big else "1024"]
        return ["--huge-unlink"]

    def record(self, row):
        full = {k: row.get(k, "") for k in FIELDS}
        self.rw.writerow(full)
        self.results.flush()


def pcap(ctx, kind, aead="aes128gcm16", encap="none", size=64, flows=None, per_flow=None,
         sas=1, gre=False, interleave=False):
    flows = flows or ctx.flows
    per_flow = per_flow or ctx.per_flow
    name = (f"{kind}-{aead}-{encap}-{size}-f{flows}x{per_flow}-s{sas}"
            f"{'-gre' if gre else ''}{'-i' if interleave else ''}.pcap")
    path = os.path.join(ctx.pcaps, name)
    if not os.path.exists(path):
        argv = [PY, os.path.join(HERE, "pcapgen.py"), kind, "--aead", aead, "--encap", encap,
                "--size", str(size), "--flows", str(flows), "--per-flow", str(per_flow),
                "--sas", str(sas), "--out", path + ".tmp"]
        if gre:
            argv.append("--gre")
        if interleave:
            argv.append("--interleave")
        if ctx.dst_mac:
            argv += ["--dst-mac", ctx.dst_mac]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        os.replace(path + ".tmp", path)
    return path, flows * per_flow


def dv_sa(sa, encap):
    """An SA of the traffic as a dvipsec static SA (local: always the DVIPA)."""
    d = {"spi": "0x%08x" % sa["spi"], "direction": sa["direction"], "aead": sa["aead"],
         "key": sa["key"], "mode": "tunnel", "local": pcapgen.DVIPA, "remote": pcapgen.PEER}
    if encap == "udp":
        d["encap"] = "udp"
    return d


def write_json(ctx, name, obj):
    path = os.path.join(ctx.conf, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
    return path


def router_conf(ctx, prefix, pcap_path, aead, encap, sas, capacity, big=False):
    inbound = pcapgen.sa_list(aead, sas, ("inbound",))
    c = {"eal": ["-l", "0-1", "--no-pci", "--file-prefix", prefix, "--log-level", "*:error"] +
         ctx.mem_args(big),
         "dvipa": [pcapgen.DVIPA],
         "ports": [{"name": "uplink", "devargs": f"net_pcap0,rx_pcap={pcap_path},infinite_rx=1"}],
         "workers": [1],
         "targets": [{"id": t, "name": f"t{t}", "weight": 100,
                      "link": {"devargs": f"net_null{t},no-rx=1"},
                      "control": f"unix:{ctx.rundir}/{prefix}-t{t}.ctl"} for t in (1, 2)],
         "connection_table": {"capacity": capacity},
         "control_key": CONTROL_KEY,
         "static_sas": [dv_sa(s, encap) for s in inbound]}
    return write_json(ctx, f"{prefix}-router.json", c)


def target_conf(ctx, prefix, link, tap, aead, encap, sas):
    c = {"eal": ["-l", "0-1", "--no-pci", "--file-prefix", prefix, "--log-level", "*:error"] +
         ctx.mem_args(),
         "id": 1, "dvipa": [pcapgen.DVIPA], "workers": [1],
         "link": {"devargs": link}, "tap": {"devargs": tap},
         "router_control": f"unix:{ctx.rundir}/{prefix}-t1.ctl", "control_key": CONTROL_KEY,
         "replay_window": 0,  # the file repeats its sequence numbers
         # slots: the inbound SAs first (the GRE key of the files), then the outbound ones
         "static_sas": [dv_sa(s, encap) for s in pcapgen.sa_list(aead, sas, ("inbound",))] +
         [dv_sa(s, encap) for s in pcapgen.sa_list(aead, sas, ("outbound",))]}
    return write_json(ctx, f"{prefix}-target.json", c)


def secgw_conf(ctx, prefix, aead, sa_type):
    """A gateway with both SAs: secgw refuses an unprotected port without an inbound SA, so the
    outbound runs use the very same file (PEERS.md)."""
    alg = pcapgen.AEADS[aead][3]
    colon = lambda h: ":".join(h[i:i + 2] for i in range(0, len(h), 2))  # noqa: E731
    sin, sout = pcapgen.sa_list(aead, 1)
    lines = [
        f"sp ipv4 in esp protect {sin['spi']} pri 1 dst {pcapgen.DVIPA}/32 sport 0:65535 "
        "dport 0:65535",
        f"sp ipv4 out esp protect {sout['spi']} pri 1 dst 198.18.0.0/15 sport 0:65535 "
        "dport 0:65535",
        f"sa in {sin['spi']} aead_algo {alg} aead_key {colon(sin['key'])} mode ipv4-tunnel "
        f"src {pcapgen.PEER} dst {pcapgen.DVIPA} type {sa_type}",
        f"sa out {sout['spi']} aead_algo {alg} aead_key {colon(sout['key'])} mode ipv4-tunnel "
        f"src {pcapgen.DVIPA} dst {pcapgen.PEER} type {sa_type}",
        f"rt ipv4 dst {pcapgen.DVIPA}/32 port 1",  # inbound: cleartext to the protected port
        f"rt ipv4 dst {pcapgen.PEER}/32 port 0",  # outbound: ESP to the unprotected port
    ]
    path = os.path.join(ctx.conf, f"{prefix}-secgw.cfg")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# -- one run of each kind -----------------------------------------------------------------------


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "HugetlbPages"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def run_one(ctx, row, app_fn, memory=None):
    """Starts the app, measures, records; memory: a dict to fill with the process' memory."""
    app = None
    try:
        app = app_fn()
        pps, pps_in, tel = measure(ctx, app)
        if row["app"].startswith("dvipsec") and not ctx.tsc_hz:
            cmd = "/dvipsec/router/stats" if row["app"] == "dvipsec-router" else \
                "/dvipsec/target/stats"
            ctx.tsc_hz = float(tel.q(cmd)["tsc_hz"])
        if row["app"] == "dvipsec-target":
            check_target_work(row, tel)
        if memory is not None:
            memory.update(memory_of(app, tel))
        tel.close()
        row.update(pps=f"{pps:.0f}", pps_in=f"{pps_in:.0f}", status="ok")
        loss = 1 - pps / pps_in if pps_in else 1
        if loss > 0.02:
            row["status"] = f"ok, {loss:.1%} of the input not delivered"
        log(f"  {row['app']} {row['dir']} {row['aead']} {row['encap']} {row['size']} B "
            f"{row.get('variant') or ''} rep {row['rep']}: {pps / 1e6:.2f} Mpps out, "
            f"{pps_in / 1e6:.2f} Mpps in")
    except Failed as e:
        row.update(pps=0, pps_in=0, status="failed: " + str(e).splitlines()[0])
        log(f"  {row['app']} {row['dir']} {row['aead']} {row['size']} B "
            f"{row.get('variant') or ''}: FAILED: {e}")
    finally:
        if app is not None:
            app.stop()
    row["tsc_hz"] = f"{ctx.tsc_hz:.0f}" if ctx.tsc_hz else ""
    ctx.record(row)
    return row


def check_target_work(row, tel):
    """A target's delivered packets count only if it did the work: every packet it sent out was
    decrypted (in) or encrypted (out), and none left in the clear."""
    st = tel.q("/dvipsec/target/stats")
    if row["dir"] == "in":
        done, sent, what = st["decrypted"], st["to_tap"], "decrypted"
    else:
        done, sent, what = st["encrypted"], st["to_link"], "encrypted"
        if st["out_plain"]:
            raise Failed(f"{st['out_plain']} packets sent in the clear (out_plain)")
    if sent == 0 or done < 0.98 * sent:
        raise Failed(f"{what} {done} of {sent} packets sent")


def memory_of(app, tel):
    m = {"heap_alloc": 0, "pool_bytes": 0, "mbuf_bytes": 0}
    for h in tel.q("/eal/heap_list"):
        m["heap_alloc"] += tel.q(f"/eal/heap_info,{h}")["Alloc_size"]
    for name in tel.q("/mempool/list"):
        mp = tel.q(f"/mempool/info,{name}")
        if name == "rtr_pool":
            m["mbuf_bytes"] = mp["elt_size"] + mp["header_size"] + mp["trailer_size"]
            m["pool_bytes"] = mp["size"] * m["mbuf_bytes"]
    st = proc_status(app.p.pid)
    m["vm_rss"] = st.get("VmRSS", 0)
    m["hugetlb"] = st.get("HugetlbPages", 0)
    try:
        d = tel.q("/dvipsec/dct")
        m["entries"], m["capacity"] = d["entries"], d["capacity"]
    except (KeyError, TypeError, ValueError):
        pass
    return m


def start_testpmd(ctx, pcap_path, n_pkts, mbuf_size=2176):
    prefix = ctx.prefix()
    argv = ["dpdk-testpmd", "-l", "0-1", "--no-pci", "--file-prefix", prefix,
            "--log-level", "*:error", *ctx.mem_args(n_pkts > 100000),
            "--vdev", f"net_pcap0,rx_pcap={pcap_path},infinite_rx=1", "--vdev", "net_null0,no-rx=1",
            "--", "--forward-mode=io", "--auto-start", "--nb-cores=1",
            f"--total-num-mbufs={n_pkts + 16384}", f"--mbuf-size={mbuf_size}",
            "--txd=1024", "--rxd=1024", "--stats-period", "1"]
    return App(ctx, f"{prefix}-testpmd", argv, prefix)


def start_secgw(ctx, direction, pcap_path, n_pkts, aead, variant):
    prefix = ctx.prefix()
    dev, sa_type = variant
    cfg = secgw_conf(ctx, prefix, aead, sa_type)
    pcapdev = f"net_pcap0,rx_pcap={pcap_path},infinite_rx=1"
    # port 0 is the unprotected side (ESP), port 1 the protected one (cleartext)
    ports = [pcapdev, "net_null0,no-rx=1"] if direction == "in" else ["net_null0,no-rx=1", pcapdev]
    # one lcore only: secgw opens a TX queue per lcore and net_pcap has one
    argv = [ctx.secgw, "-l", "1", "--no-pci", "--file-prefix", prefix, *ctx.mem_args(),
            "--vdev", ports[0], "--vdev", ports[1], "--vdev", dev,
            "--", "-p", "0x3", "-u", "0x1", "-l", "-f", cfg, "--config", "(0,0,1),(1,0,1)",
            "-s", str(n_pkts + 16384)]
    return App(ctx, f"{prefix}-secgw-{direction}", argv, prefix)


def start_router(ctx, pcap_path, n_pkts, aead, encap, sas, capacity, dataroom=0, shim=False):
    """shim: add the file's packets to the router's pool (tests/bench/pool_preload.c); needed
    for files of more than ~12000 packets, since net_pcap keeps the whole file in the router's
    pool (16383 mbufs)."""
    prefix = ctx.prefix()
    big = n_pkts > 10000
    conf = router_conf(ctx, prefix, pcap_path, aead, encap, sas, capacity, big)
    cf = f"/{prefix}-cf"
    env = {}
    if big or shim:
        env = {"LD_PRELOAD": ctx.preload, "DVB_POOL_NAME": "rtr_pool",
               "DVB_POOL_EXTRA": str(n_pkts), "DVB_POOL_DATAROOM": str(dataroom)}
    argv = [ctx.router, "--config", conf, "--cf", cf, "--idle-sleep-us", "100"]
    return App(ctx, f"{prefix}-router", argv, prefix, env=env, cf=cf, ready_line=True)


def start_target(ctx, direction, pcap_path, aead, encap):
    prefix = ctx.prefix()
    pcapdev = f"net_pcap0,rx_pcap={pcap_path},infinite_rx=1"
    if direction == "in":
        link, tap = pcapdev, "net_null0,no-rx=1"
    else:
        link, tap = "net_null0,no-rx=1", pcapdev
    conf = target_conf(ctx, prefix, link, tap, aead, encap, 1)
    cf = f"/{prefix}-cf"
    argv = [ctx.target, "--config", conf, "--cf", cf, "--idle-sleep-us", "100"]
    return App(ctx, f"{prefix}-target-{direction}", argv, prefix, cf=cf, ready_line=True)


# -- groups -------------------------------------------------------------------------------------


def base_row(group, app, direction, aead, encap, size, **kw):
    r = {"group": group, "app": app, "dir": direction, "aead": aead, "encap": encap,
         "size": size, "flows": kw.pop("flows", ""), "sas": kw.pop("sas", 1)}
    r.update(kw)
    return r


def group_imb(ctx):
    log("IPsec-MB on the benchmark buffers (crypto ceiling)")
    for aead in ctx.aeads:
        for size in ctx.sizes:
            path, _ = pcap(ctx, "esp", aead, "none", size)
            key = pcapgen.sa_list(aead, 1, ("inbound",))[0]["key"]
            argv = ["taskset", "-c", "1", ctx.imb, "--pcap", path, "--aead", aead, "--key", key,
                    "--runs", str(max(3, ctx.reps * 3)),
                    "--packets", str(50000 if ctx.quick else 400000)]
            p = subprocess.run(argv, capture_output=True, text=True)
            if p.returncode != 0:
                log(f"  imb {aead} {size}: FAILED: {p.stderr.strip()}")
                continue
            kv = dict(x.split("=", 1) for x in p.stdout.split()[1:])
            hz = float(kv["tsc_hz"])
            ctx.tsc_hz = ctx.tsc_hz or hz
            for d, k in (("in", "dec_cyc"), ("out", "enc_cyc")):
                for stat, rep in (("", "median"), ("_min", "min"), ("_max", "max")):
                    cyc = float(kv[k + stat])
                    ctx.record(base_row("imb", "ipsec-mb", d, aead, "none", size, rep=rep,
                                        variant=kv["arch"], pps=f"{hz / cyc:.0f}",
                                        tsc_hz=f"{hz:.0f}", status="ok"))
            log(f"  {aead} {size} B: decrypt {kv['dec_cyc']} cyc/pkt, encrypt {kv['enc_cyc']}"
                f" ({kv['arch']})")


def group_floor(ctx):
    log("dpdk-testpmd io forwarding (I/O floor)")
    shapes = [("esp", e, False) for e in ctx.encaps] + [("esp", e, True) for e in ctx.encaps] + \
        [("plain", "none", False)]
    for kind, encap, gre in shapes:
        for size in ctx.sizes:
            path, n = pcap(ctx, kind, "aes128gcm16", encap, size, gre=gre)
            label = "gre" if gre else kind
            for rep in range(ctx.reps):
                run_one(ctx, base_row("floor", "testpmd", label, "", encap, size,
                                      flows=ctx.flows, rep=rep),
                        lambda: start_testpmd(ctx, path, n))


def group_secgw(ctx):
    log("DPDK ipsec-secgw (-l, librte_ipsec), inbound and outbound")
    for direction in ("in", "out"):
        for aead in ctx.aeads:
            for size in ctx.sizes:
                kind = "esp" if direction == "in" else "plain"
                path, n = pcap(ctx, kind, aead, "none", size)
                for variant in SECGW_VARIANTS[aead]:
                    name = f"{variant[0]}/{variant[1]}"
                    for rep in range(ctx.reps):
                        row = run_one(ctx, base_row("secgw", "ipsec-secgw", direction, aead,
                                                    "none", size, flows=ctx.flows, rep=rep,
                                                    variant=name),
                                      lambda: start_secgw(ctx, direction, path, n, aead,
                                                          variant))
                        if not row["status"].startswith("ok"):
                            break  # this set-up does not work here: no repeats
    for aead in ctx.aeads:  # secgw has ESP-in-UDP only with inline/lookaside-protocol offload
        for direction in ("in", "out"):
            for size in ctx.sizes:
                ctx.record(base_row("secgw", "ipsec-secgw", direction, aead, "udp", size,
                                    rep=0, pps=0, status="n/a: no udp-encap for cpu-crypto/"
                                    "no-offload SAs in DPDK 22.11 ipsec-secgw"))


def group_router(ctx):
    log("dvipsec-router (classify, pre-check, peek, connection table, GRE)")
    for aead in ctx.aeads:
        for encap in ctx.encaps:
            for size in ctx.sizes:
                path, n = pcap(ctx, "esp", aead, encap, size)
                for rep in range(ctx.reps):
                    run_one(ctx, base_row("router", "dvipsec-router", "in", aead, encap, size,
                                          flows=ctx.flows, rep=rep),
                            lambda: start_router(ctx, path, n, aead, encap, 1, 1 << 16))


def group_target(ctx):
    log("dvipsec-target inbound (GRE -> ESP -> TAP) and outbound (TAP -> ESP -> link)")
    for direction in ("in", "out"):
        for aead in ctx.aeads:
            for encap in ctx.encaps:
                for size in ctx.sizes:
                    if direction == "in":
                        path, _ = pcap(ctx, "esp", aead, encap, size, gre=True)
                    else:
                        path, _ = pcap(ctx, "plain", aead, "none", size)
                    for rep in range(ctx.reps):
                        run_one(ctx, base_row("target", "dvipsec-target", direction, aead,
                                              encap, size, flows=ctx.flows, rep=rep),
                                lambda: start_target(ctx, direction, path, aead, encap))


def record_memory(ctx, group, conns, sas, mem, pps, replay_pkts):
    """replay_pkts: mbufs the preload shim added for the file; they and net_pcap's ring of the
    file (8 B per power-of-two-rounded entry) are the benchmark's, not the router's."""
    if replay_pkts:
        mem["replay_bytes"] = replay_pkts * mem["mbuf_bytes"] + 8 * (1 << replay_pkts.bit_length())
    else:
        mem["replay_bytes"] = 0
    row = {k: mem.get(k, "") for k in MEM_FIELDS}
    row.update(group=group, conns=conns, sas=sas, pps=pps)
    ctx.mw.writerow(row)
    ctx.memf.flush()


def group_conns(ctx):
    log("router with N live connections (one packet per connection and pass), 64 B")
    for conns in ctx.conns:
        path, n = pcap(ctx, "esp", "aes128gcm16", "none", 64, flows=conns, per_flow=1)
        capacity = max(4096, conns + conns // 16)
        for rep in range(ctx.reps):
            run_one(ctx, base_row("conns", "testpmd", "in", "", "none", 64, flows=conns,
                                  conns=conns, rep=rep),
                    lambda: start_testpmd(ctx, path, n, mbuf_size=512))
        for rep in range(ctx.reps):
            mem = {} if rep == 0 else None
            row = run_one(ctx, base_row("conns", "dvipsec-router", "in", "aes128gcm16", "none",
                                        64, flows=conns, conns=conns, rep=rep),
                          lambda: start_router(ctx, path, n, "aes128gcm16", "none", 1, capacity,
                                               dataroom=512, shim=True), memory=mem)
            if mem:
                record_memory(ctx, "conns", conns, 1, mem, row["pps"], replay_pkts=n)


def group_sas(ctx):
    log("router with 1/16/256 SAs (flows spread round robin over them), 64 B")
    for sas in ctx.sa_counts:
        path, n = pcap(ctx, "esp", "aes128gcm16", "none", 64, sas=sas)
        for rep in range(ctx.reps):
            mem = {} if rep == 0 else None
            row = run_one(ctx, base_row("sas", "dvipsec-router", "in", "aes128gcm16", "none", 64,
                                        flows=ctx.flows, sas=sas, rep=rep),
                          lambda: start_router(ctx, path, n, "aes128gcm16", "none", sas,
                                               1 << 16), memory=mem)
            if mem:
                record_memory(ctx, "sas", "", sas, mem, row["pps"], replay_pkts=0)


GROUPS = {"imb": group_imb, "floor": group_floor, "secgw": group_secgw, "router": group_router,
          "target": group_target, "conns": group_conns, "sas": group_sas}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--router", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--secgw", required=True)
    ap.add_argument("--imb", required=True)
    ap.add_argument("--preload", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--sizes", default="64,512,1400")
    ap.add_argument("--aeads", default=",".join(AEADS))
    ap.add_argument("--encaps", default="none,udp")
    ap.add_argument("--flows", type=int, default=1024)
    ap.add_argument("--per-flow", type=int, default=4)
    ap.add_argument("--conns", default="1000,100000,1000000")
    ap.add_argument("--sa-counts", default="1,16,256")
    ap.add_argument("--only", default=",".join(GROUPS))
    ap.add_argument("--no-huge", action="store_true")
    ap.add_argument("--dst-mac", default="", help="destination MAC of the pcaps (--pcaps-only)")
    ap.add_argument("--pcaps-only", action="store_true",
                    help="write the main input files into OUT/pcaps and stop")
    a = ap.parse_args()
    a.sizes = [int(x) for x in a.sizes.split(",")]
    a.aeads = a.aeads.split(",")
    a.encaps = a.encaps.split(",")
    a.conns = [int(x) for x in a.conns.split(",")]
    a.sa_counts = [int(x) for x in a.sa_counts.split(",")]
    only = a.only.split(",")
    for g in only:
        if g not in GROUPS:
            ap.error(f"--only: unknown group {g} (expected {', '.join(GROUPS)})")
    ctx = Ctx(a)

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        if a.pcaps_only:
            for aead in a.aeads:
                for encap in a.encaps:
                    for size in a.sizes:
                        pcap(ctx, "esp", aead, encap, size)
                for size in a.sizes:
                    pcap(ctx, "plain", aead, "none", size)
                with open(os.path.join(ctx.pcaps, f"sas-{aead}.json"), "w") as f:
                    json.dump(pcapgen.sa_list(aead, 1), f, indent=1)
            log(f"pcaps and their SAs (sas-AEAD.json) in {ctx.pcaps}")
            ctx.results.close()
            ctx.memf.close()
            for f in ("results.csv", "memory.csv"):
                os.unlink(os.path.join(ctx.out, f))
            for d in (ctx.logs, ctx.conf, ctx.rundir):
                os.rmdir(d)
            return
        for g in GROUPS:
            if g in only:
                GROUPS[g](ctx)
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    finally:
        stop_all()
        ctx.results.close()
        ctx.memf.close()


if __name__ == "__main__":
    main()
