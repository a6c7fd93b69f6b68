"""The MySQL relay against a direct connection, in one run, with ratios.

Run: ``.venv/bin/python bench/mysql.py [--protocol text|binary|both] [--threads 4[,16,...]]
[--workers 1[,2,...]] [--seconds 15]
[--json FILE]``.

It starts its own MariaDB (seeded like the demo) and a ``bastion serve`` in front of it
with an allow-all policy (only the access stage; ``--policy demo`` adds the demo's
guardrails and masking rules: every statement classified, every string value scanned by
the masking recognizers), both on 127.0.0.1, and measures the
same workloads directly and through the bastion. TLS is on for every connection: the
direct one, and through the bastion both legs (client -> bastion, bastion -> MariaDB).

* ``sysbench oltp_point_select`` in the text protocol (``--protocol text``: each
  point-select a plain COM_QUERY, as the mariadb CLI, PyMySQL, JDBC and ORMs send them by
  default; sysbench ``--db-ps-mode=disable``) and/or with server-side prepared statements
  (``--protocol binary``, COM_STMT_EXECUTE; ``both``, the default, runs text first): qps and latency
  percentiles (from sysbench's histogram), same threads and duration on both paths, in
  two topologies (``--topology``): *shared* (every process on every CPU) and *dedicated*
  (the bastion on a CPU of its own, MariaDB and sysbench on the others, for the direct
  path too), plus the bastion's CPU time per statement (docs/performance.md). With
  ``haproxy`` installed, a third path puts a C TCP proxy in the bastion's place (TLS end
  to end): what it loses is the topology's price, paid by any proxy (bench/reference.py).
* Session set-up rate (bench/sessions.py): client processes open TLS sessions back to
  back (connect, ``SELECT 1``, quit); sessions per second on both paths.
* Large results with PyMySQL ``SSCursor`` (streamed): 100k rows of 1 KiB, and 1M small
  rows; MB/s of row values and rows/s. The same SELECTs with the ``mariadb`` CLI
  (``--quick``, output discarded), a C client that is not itself the bottleneck.

``--baseline REV`` adds a fourth path: a bastion run from git revision ``REV`` of this
tree (bench/baseline.py), same configuration, alternating with the others in every round,
so a change is measured before and after in one run on a machine whose load varies.

``--audit-fsync off`` runs the bastion with ``audit.fsync: false`` (see
docs/configuration.md): the journal's per-event fsync is the largest single cost of a
statement (COM_QUERY, and since issue 14 each prepared execution too: docs/performance.md).
``--profile DIR`` afterwards runs one extra point-select pass with py-spy
attached to the bastion and writes ``DIR/bastion.txt`` (raw stacks) and the hottest
frames. Target (issue 3): >= 0.6x direct point-select qps.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bastion.demo.services import MariaDB  # noqa: E402
from bastion.demo.stack import Stack, add_bastion, start_stack  # noqa: E402
from bench.baseline import start_baseline  # noqa: E402
from bench.reference import TCPProxy  # noqa: E402
from bench.sessions import session_rate  # noqa: E402
from bench.sysbench import TABLE_SIZE, TABLES, Endpoint, SysbenchResult, summarise, sysbench  # noqa: E402
from bench.topology import Topology, busy_share, cpu_ticks, cpu_times, pin, topologies  # noqa: E402

WIDE_ROWS, WIDE_BYTES = 100_000, 1024
NARROW_ROWS = 1_000_000
SESSION_CLIENTS = 4
TARGET = 0.6
NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}
"""Columns of the report, in order (baseline: ``--baseline``; haproxy: the reference proxy)."""
Case = tuple[Topology, int, str]
"""A point-select case: topology, sysbench threads, protocol (text or binary)."""


class BenchMariaDB(MariaDB):
    """The demo's MariaDB, also trusting the benchmark's client certificate: sysbench 1.0
    with ``--mysql-ssl=on`` always presents ``client-cert.pem``, and MariaDB refuses a
    client certificate it cannot verify."""

    def __init__(self, workdir: Path, client_ca: Path) -> None:
        super().__init__(workdir)
        self.client_ca = client_ca

    def spawn(self, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
        if argv and argv[0].endswith("mariadbd"):
            argv = [*argv, f"--ssl-ca={self.client_ca}", "--max-connections=500"]
        super().spawn(argv, extra_env)


def pymysql_stream(ep: Endpoint, sql: str) -> tuple[float, int, int]:
    """(seconds, rows, value bytes) of one streamed SELECT with PyMySQL SSCursor."""
    conn = pymysql.connect(host="127.0.0.1", port=ep.port, user=ep.user, password=ep.password, database="bench",
                           ssl=NO_VERIFY, cursorclass=pymysql.cursors.SSCursor)
    try:
        with conn.cursor() as cur:
            started = time.perf_counter()
            cur.execute(sql)
            rows = size = 0
            for row in cur:
                rows += 1
                size += len(row[1])
            return time.perf_counter() - started, rows, size
    finally:
        conn.close()


def cli_stream(ep: Endpoint, sql: str) -> tuple[float, int]:
    """(seconds, rows) of one SELECT with the mariadb CLI (mysql_use_result, output discarded)."""
    started = time.perf_counter()
    res = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(ep.port), "--ssl", "-u", ep.user,
                          f"-p{ep.password}", "--quick", "-B", "-N", "bench", "-e", sql],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"mariadb CLI via {ep.name} failed: {res.stderr.decode(errors='replace')}")
    return time.perf_counter() - started, WIDE_ROWS


def prepare_data(stack: Stack, tls_dir: Path) -> None:
    db = stack.db
    db.sql("DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest; DROP DATABASE IF EXISTS bench; "
           "CREATE DATABASE bench;")
    subprocess.run(["sysbench", "oltp_point_select", f"--mysql-socket={db.socket}", "--mysql-user=root",
                    "--mysql-db=sbtest", f"--tables={TABLES}", f"--table-size={TABLE_SIZE}", "--threads=2", "prepare"],
                   check=True, capture_output=True, cwd=tls_dir)
    db.sql(f"CREATE TABLE bench.wide (id INT PRIMARY KEY, pad VARCHAR({WIDE_BYTES})) ENGINE=InnoDB; "
           f"INSERT INTO bench.wide SELECT seq, REPEAT(CHAR(65 + seq % 26), {WIDE_BYTES}) "
           f"FROM bench.seq_1_to_{WIDE_ROWS};")


def client_tls_dir(workdir: Path) -> Path:
    """sysbench reads client-cert.pem, client-key.pem and cacert.pem from its cwd. The
    client certificate is self-signed (MariaDB trusts it as its own CA): the bastion's
    certificates are server-only (extendedKeyUsage serverAuth), which MariaDB refuses
    from a client."""
    tls = workdir / "sysbench"
    tls.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=bench-client", "-keyout", str(tls / "client-key.pem"), "-out", str(tls / "client-cert.pem")],
                   check=True, capture_output=True)
    return tls


def profile(stack: Stack, tls_dir: Path, ep: Endpoint, threads: int, seconds: int, out_dir: Path,
            protocol: str) -> None:
    assert stack.bastion is not None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found (pip install py-spy)")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "bastion.txt"
    recorder = subprocess.Popen([spy, "record", "-p", str(stack.bastion.proc.pid), "-d", str(seconds), "-r", "200",
                                 "--subprocesses", "-f", "raw", "-o", str(raw)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sysbench(tls_dir, ep, threads, seconds, protocol=protocol)
    recorder.wait(timeout=seconds + 60)
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        total += int(count)
        own[stack_text.split(";")[-1]] += int(count)
    print(f"\nprofile of the bastion during {protocol} point-select ({total} samples, {raw}); "
          "hottest frames (self time):")
    for frame, samples in own.most_common(15):
        print(f"  {100 * samples / max(total, 1):5.1f}%  {frame}")


def point_selects(tls_dir: Path, eps: list[Endpoint], proxies: dict[str, int], db_pid: int, case: Case,
                  args: argparse.Namespace) -> dict[str, list[SysbenchResult]]:
    """Alternate the paths (so load from elsewhere on the machine hits all alike).
    ``proxies`` maps an endpoint's name to the pid in front of MariaDB on that path."""
    topo, threads, protocol = case
    for pid in proxies.values():
        pin(pid, topo.bastion)
    pin(db_pid, topo.rest)
    runs: dict[str, list[SysbenchResult]] = {ep.name: [] for ep in eps}
    try:
        for ep in eps:
            sysbench(tls_dir, ep, threads, 3, topo.rest, protocol, args.workload)  # warm-up: buffer pool, caches
        for round_ in range(args.rounds):
            for ep in eps:
                proxy_pid = proxies.get(ep.name)
                before, cpus_before = cpu_ticks(proxy_pid) if proxy_pid else (0, 0), cpu_times()
                run = sysbench(tls_dir, ep, threads, args.seconds, topo.rest, protocol, args.workload)
                after, cpus_after = cpu_ticks(proxy_pid) if proxy_pid else (0, 0), cpu_times()
                if proxy_pid and run.queries:
                    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
                    run.cpu_us = ((after[0] - before[0]) * tick_us / run.queries,
                                  (after[1] - before[1]) * tick_us / run.queries)
                run.busy = (busy_share(cpus_before, cpus_after, topo.rest),
                            busy_share(cpus_before, cpus_after, topo.bastion))
                runs[ep.name].append(run)
                print(f"  {case_key(case)}, round {round_ + 1}: {ep.name} {run.qps:.0f} qps",
                      flush=True)
    finally:
        for pid in (*proxies.values(), db_pid):
            pin(pid, None)
    return runs


def streams(eps: list[Endpoint]) -> dict[str, dict[str, float]]:
    got: dict[str, dict[str, list[tuple[float, int, int]]]] = {ep.name: {} for ep in eps}
    for _ in range(3):
        for ep in eps:
            mine = got[ep.name]
            mine.setdefault("wide", []).append(pymysql_stream(ep, "SELECT id, pad FROM wide"))
            mine.setdefault("narrow", []).append(
                pymysql_stream(ep, f"SELECT seq, CONCAT('v', seq) FROM seq_1_to_{NARROW_ROWS}"))
            secs, rows = cli_stream(ep, "SELECT id, pad FROM wide")
            mine.setdefault("cli", []).append((secs, rows, rows * WIDE_BYTES))
    out: dict[str, dict[str, float]] = {}
    for ep in eps:
        best = {k: min(v) for k, v in got[ep.name].items()}
        out[ep.name] = {
            "wide_pymysql_mb_s": best["wide"][2] / best["wide"][0] / 1e6,
            "wide_pymysql_rows_s": best["wide"][1] / best["wide"][0],
            "narrow_pymysql_rows_s": best["narrow"][1] / best["narrow"][0],
            "wide_cli_mb_s": best["cli"][2] / best["cli"][0] / 1e6,
        }
    return out


def sessions(pid: int, direct: Endpoint, through: Endpoint, seconds: int) -> dict[str, float]:
    """Sessions per second on both paths, and the bastion's CPU time per session."""
    rates = {"direct": session_rate(direct.port, direct.user, direct.password, SESSION_CLIENTS, seconds)[0]}
    before = cpu_ticks(pid)
    rate, _ = session_rate(through.port, through.user, through.password, SESSION_CLIENTS, seconds)
    after = cpu_ticks(pid)
    rates["bastion"] = rate
    ticks = after[0] + after[1] - before[0] - before[1]
    rates["bastion_cpu_ms"] = ticks * 1000 / os.sysconf("SC_CLK_TCK") / max(rate * seconds, 1)
    return rates


def _thread_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("thread counts must be positive integers")
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=_thread_counts, default=[4],
                    help="sysbench threads; a comma-separated list runs each (e.g. 1,4,16)")
    ap.add_argument("--workers", type=_thread_counts, default=[1],
                    help="bastion worker processes (server.workers); a list runs a bastion for each (e.g. 1,2)")
    ap.add_argument("--protocol", choices=["text", "binary", "both"], default="both",
                    help="text: COM_QUERY point-selects (sysbench --db-ps-mode=disable); binary: server-side "
                         "prepared (COM_STMT_EXECUTE); both: text, then binary")
    ap.add_argument("--workload", choices=["point_select", "update_index"], default="point_select",
                    help="sysbench oltp_<workload>: point_select (reads), update_index (an UPDATE by key per "
                         "event: the write path, with its trigger lookup)")
    ap.add_argument("--seconds", type=int, default=15, help="per sysbench run")
    ap.add_argument("--rounds", type=int, default=2, help="sysbench runs per path, alternating")
    ap.add_argument("--topology", choices=["shared", "dedicated", "both"], default="both",
                    help="shared: all processes on all CPUs; dedicated: the bastion on a CPU of its own")
    ap.add_argument("--audit-fsync", choices=["on", "off"], default="on")
    ap.add_argument("--busy-poll-us", type=int, default=0,
                    help="listeners.mysql.options.busy_poll_us of the bastion (0: off, the default)")
    ap.add_argument("--policy", choices=["allow-all", "demo"], default="allow-all",
                    help="allow-all: access stage only; demo: the demo's guardrails and masking rules too")
    ap.add_argument("--no-streams", action="store_true", help="no large results")
    ap.add_argument("--no-sessions", action="store_true", help="no session set-up rate")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the reference C TCP proxy (haproxy) on the point-select path")
    ap.add_argument("--baseline", metavar="REV",
                    help="also run a bastion from this git revision (before/after in one run)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--profile", type=Path, help="py-spy the bastion during an extra run; write stacks here")
    ap.add_argument("--workdir", type=Path, help="keep services' files here (default: a temporary directory)")
    args = ap.parse_args()
    for tool in ("sysbench", "mariadb", "taskset"):
        if not shutil.which(tool):
            print(f"{tool} not found: bash scripts/install.sh", file=sys.stderr)
            return 2

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    tls_dir = client_tls_dir(work)
    db = BenchMariaDB(work / "mariadb", tls_dir / "client-cert.pem")
    started = time.monotonic()
    options: dict[str, Any] = {"allow_all": args.policy == "allow-all", "audit": {"fsync": args.audit_fsync == "on"},
                               "mysql_options": {"busy_poll_us": args.busy_poll_us}}
    stack = start_stack(work, db=db, server={"workers": args.workers[0]}, **options)
    proxy = None if args.no_reference or not TCPProxy.available() else TCPProxy(work / "haproxy", db.port)
    try:
        assert stack.bastion is not None and db.proc is not None
        prepare_data(stack, tls_dir)
        token = stack.bastion.token("alice", "dba")
        direct = Endpoint("direct", db.port, "bastion_admin", "admin-secret-pw")
        through = Endpoint("bastion", stack.bastion.ports["mysql"], "shop-db", token)
        pymysql_stream(through, "SELECT 1, 'x'")  # the bastion makes its certificate on first use
        (tls_dir / "cacert.pem").write_text((stack.bastion.config.parent / "var" / "tls" / "ca.crt").read_text()
                      + (db.workdir / "tls" / "ca.crt").read_text())
        eps, proxies = [direct, through], {"bastion": stack.bastion.proc.pid}
        if args.baseline:
            base = start_baseline(stack, work, args.baseline, allow_all=args.policy == "allow-all",
                                  audit={"fsync": args.audit_fsync == "on"},
                                  mysql_options={"busy_poll_us": args.busy_poll_us})
            before = Endpoint("baseline", base.ports["mysql"], "shop-db", base.token("alice", "dba"))
            pymysql_stream(before, "SELECT 1, 'x'")
            tls = base.config.parent / "var" / "tls"  # older revisions had no CA, only a self-signed bastion.crt
            trusted = tls / "ca.crt" if (tls / "ca.crt").exists() else tls / "bastion.crt"
            (tls_dir / "cacert.pem").write_text((tls_dir / "cacert.pem").read_text() + trusted.read_text())
            eps.insert(1, before)
            proxies["baseline"] = base.proc.pid
        for workers in args.workers[1:]:  # more bastions, each with its own worker count
            more = add_bastion(work / f"bastion-{workers}w", db, server={"workers": workers}, **options)
            stack.extra.append(more)
            ep = Endpoint(f"bastion-{workers}w", more.ports["mysql"], "shop-db", more.token("alice", "dba"))
            pymysql_stream(ep, "SELECT 1, 'x'")
            (tls_dir / "cacert.pem").write_text((tls_dir / "cacert.pem").read_text() + (
                more.config.parent / "var" / "tls" / "ca.crt").read_text())
            eps.append(ep)
            proxies[ep.name] = more.proc.pid
        if proxy is not None:
            proxy.start()
            assert proxy.proc is not None
            eps.append(Endpoint("haproxy", proxy.port, direct.user, direct.password))
            proxies["haproxy"] = proxy.proc.pid
        elif not args.no_reference:
            print("haproxy not found (apt-get install haproxy): no reference proxy column", flush=True)
        print(f"services ready in {time.monotonic() - started:.1f}s; workdir {work}", flush=True)

        topos = topologies(args.topology)
        protocols = ["text", "binary"] if args.protocol == "both" else [args.protocol]
        cases = [(topo, threads, protocol) for protocol in protocols for topo in topos for threads in args.threads]
        point: dict[str, dict[str, dict[str, Any]]] = {}
        for case in cases:
            runs = point_selects(tls_dir, eps, proxies, db.proc.pid, case, args)
            point[case_key(case)] = {name: summarise(r) for name, r in runs.items()}
        flows = {} if args.no_streams else streams([direct, through])
        rates = {} if args.no_sessions else sessions(stack.bastion.proc.pid, direct, through, args.seconds)
        report(point, flows, cases, args)
        if rates:
            print(f"session set-up (TLS, connect, SELECT 1, quit; {SESSION_CLIENTS} client processes, shared CPUs): "
                  f"direct {rates['direct']:.0f}/s, bastion {rates['bastion']:.0f}/s, "
                  f"ratio {rates['bastion'] / rates['direct']:.2f}; "
                  f"bastion CPU per session {rates['bastion_cpu_ms']:.2f} ms")
        if args.json:
            args.json.write_text(json.dumps({
                "threads": args.threads, "workers": args.workers, "seconds": args.seconds, "rounds": args.rounds,
                "protocols": protocols, "audit_fsync": args.audit_fsync, "policy": args.policy,
                "busy_poll_us": args.busy_poll_us,
                "topologies": {t.name: t.describe() for t in topos}, "point_select": point, "streams": flows,
                "sessions_per_s": rates},
                indent=2))
        if args.profile:
            profile(stack, tls_dir, through, args.threads[0], min(args.seconds, 10), args.profile, protocols[0])
    finally:
        if proxy is not None:
            proxy.stop()
        stack.stop()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def case_key(case: Case) -> str:
    topo, threads, protocol = case
    return f"{protocol}, {topo.name}, {threads} threads"


def report(point: dict[str, dict[str, dict[str, Any]]], flows: dict[str, dict[str, float]],
           cases: list[Case], args: argparse.Namespace) -> None:
    threads = ",".join(map(str, args.threads))
    print(f"\nMySQL: bastion vs direct — sysbench oltp_{args.workload} (text: COM_QUERY; binary: prepared), "
          f"{threads} threads, "
          f"{args.rounds} x {args.seconds} s per path (medians), TLS everywhere, {args.policy} policy, "
          f"audit.fsync {args.audit_fsync}, busy_poll_us {args.busy_poll_us}; "
          "haproxy: a C TCP proxy in the bastion's place (TLS end to end)")
    paths = ["direct", "baseline", "bastion", *(f"bastion-{w}w" for w in args.workers[1:]), "haproxy"]
    names = [name for name in paths if any(name in point[case_key(c)] for c in cases)]
    print(f"workers: bastion {args.workers[0]}" + "".join(f", bastion-{w}w {w}" for w in args.workers[1:]))
    print(f"{'':44} {'direct':>9}" + "".join(f" {name:>9} {'ratio':>6}" for name in names[1:]))
    for this in cases:
        topo, n, protocol = this
        case = point[case_key(this)]
        print(f"{protocol} protocol, {topo.describe()}; {n} threads")
        for label, key, fmt in (("  point-select qps (higher is better)", "qps", "{:.0f}"),
                                ("    latency avg ms", "latency_avg_ms", "{:.3f}"),
                                ("    latency p50 ms", "latency_p50_ms", "{:.3f}"),
                                ("    latency p95 ms", "latency_p95_ms", "{:.3f}"),
                                ("    latency p99 ms", "latency_p99_ms", "{:.3f}")):
            print(f"{label:44}" + "".join(_cell(case, name, key, fmt) for name in names))
        for name, r in case.items():
            cpu = "" if name == "direct" else (f"CPU per statement {r['proxy_cpu_us_user']:.1f} us user + "
                                               f"{r['proxy_cpu_us_system']:.1f} us system; ")
            print(f"  {name}: {cpu}{_busy(topo, r)}")
        if any(r["errors"] for r in case.values()):
            print("  errors: " + ", ".join(f"{name} {r['errors']}" for name, r in case.items()))
    if flows:
        d, b = flows["direct"], flows["bastion"]
        print("large results (shared CPUs)")
        for label, key, fmt in (
                (f"  {WIDE_ROWS // 1000}k x {WIDE_BYTES} B rows, PyMySQL MB/s", "wide_pymysql_mb_s", "{:.1f}"),
                (f"  {NARROW_ROWS // 1000}k small rows, PyMySQL rows/s", "narrow_pymysql_rows_s", "{:.0f}"),
                (f"  {WIDE_ROWS // 1000}k x {WIDE_BYTES} B rows, mariadb CLI MB/s", "wide_cli_mb_s", "{:.1f}")):
            print(f"{label:44} {fmt.format(d[key]):>9} {fmt.format(b[key]):>9} {b[key] / d[key]:>6.2f}")
    print()
    for this in cases:
        case = point[case_key(this)]
        d, b = case["direct"]["qps"], case["bastion"]["qps"]
        ratio = b / d if d else 0.0
        line = (f"point-select, {case_key(this)}: bastion {b:.0f} qps, direct {d:.0f}, "
                f"ratio {ratio:.2f} (target >= {TARGET}): "
                f"{'met' if ratio >= TARGET else 'NOT met'}")
        if "baseline" in case and case["baseline"]["qps"]:
            base = case["baseline"]
            line += (f"; baseline ({args.baseline}) {base['qps']:.0f} qps, ratio {base['qps'] / d:.2f}, "
                     f"bastion/baseline {b / base['qps']:.2f}, CPU per statement "
                     f"{base['proxy_cpu_us_user'] + base['proxy_cpu_us_system']:.0f} -> "
                     f"{case['bastion']['proxy_cpu_us_user'] + case['bastion']['proxy_cpu_us_system']:.0f} us")
        if "haproxy" in case and d:
            h = case["haproxy"]["qps"]
            line += f"; haproxy {h:.0f} qps, ratio {h / d:.2f}, bastion/haproxy {b / h if h else 0.0:.2f}"
        for workers in args.workers[1:]:
            w = case[f"bastion-{workers}w"]["qps"]
            line += f"; {workers} workers {w:.0f} qps, ratio {w / d if d else 0.0:.2f}"
        print(line)


def _cpu(r: dict[str, Any]) -> float:
    return float(r["proxy_cpu_us_user"] + r["proxy_cpu_us_system"])


def _cell(case: dict[str, dict[str, Any]], name: str, key: str, fmt: str) -> str:
    if name not in case:
        return ""
    value = case[name][key]
    text = f" {fmt.format(value):>9}"
    if name != "direct":
        base = case["direct"][key]
        text += f" {value / base if base else float('nan'):>6.2f}"
    return text


def _busy(topo: Topology, r: dict[str, Any]) -> str:
    if topo.bastion is None:
        return f"CPUs busy {100 * r['busy_db_cpus']:.0f}%"
    return (f"busy: MariaDB+sysbench's CPU {100 * r['busy_db_cpus']:.0f}%, "
            f"proxy's CPU {100 * r['busy_proxy_cpus']:.0f}%")


if __name__ == "__main__":
    sys.exit(main())
