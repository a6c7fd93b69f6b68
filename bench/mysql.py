"""The MySQL relay against a direct connection, in one run, with ratios.

Run: ``.venv/bin/python bench/mysql.py [--threads 4[,16,...]] [--seconds 15] [--json FILE]``.

It starts its own MariaDB (seeded like the demo) and a ``bastion serve`` in front of it
with an allow-all policy (only the access stage; ``--policy demo`` adds the demo's
guardrails and masking rules: every statement classified, every string value scanned by
the masking recognizers), both on 127.0.0.1, and measures the
same workloads directly and through the bastion. TLS is on for every connection: the
direct one, and through the bastion both legs (client -> bastion, bastion -> MariaDB).

* ``sysbench oltp_point_select`` (server-side prepared statements): qps and latency
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

``--audit-fsync off`` runs the bastion with ``audit.fsync: false`` (see
docs/configuration.md): the journal's per-event fsync is the largest single cost of a
statement (COM_QUERY, and since issue 14 each prepared execution too: docs/performance.md).
``--compare REV`` also runs the bastion of git revision ``REV`` (extracted with ``git
archive``, run with the same interpreter and configuration, its own state) as a fourth path,
``before``, alternating with the others in the same run: the cost of a change as a ratio
measured under the same load (bastion/before in the report).
``--profile DIR`` afterwards runs one extra point-select pass with py-spy
attached to the bastion and writes ``DIR/bastion.txt`` (raw stacks) and the hottest
frames. Target (issue 3): >= 0.6x direct point-select qps.
"""

from __future__ import annotations

import argparse
import datetime
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
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bastion.demo.services import MariaDB  # noqa: E402
from bastion.demo.setup import write_config  # noqa: E402
from bastion.demo.stack import (  # noqa: E402
    BastionProcess,
    Stack,
    mysql_config,
    start_bastion,
    start_stack,
    store_credentials,
)
from bench.reference import TCPProxy  # noqa: E402
from bench.sessions import session_rate  # noqa: E402
from bench.sysbench import TABLE_SIZE, TABLES, Endpoint, SysbenchResult, summarise, sysbench  # noqa: E402
from bench.topology import Topology, busy_share, cpu_ticks, cpu_times, pin, topologies  # noqa: E402

WIDE_ROWS, WIDE_BYTES = 100_000, 1024
NARROW_ROWS = 1_000_000
SESSION_CLIENTS = 4
TARGET = 0.6
NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


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


def start_revision(work: Path, rev: str, db: MariaDB, args: argparse.Namespace) -> BastionProcess:
    """A second bastion in front of ``db``, running the code of git revision ``rev``."""
    src = work / "before-src"
    src.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    home = work / "before"
    config = mysql_config(home, db, allow_all=args.policy == "allow-all")
    config["audit"] = {**config["audit"], "fsync": args.audit_fsync == "on"}
    config["listeners"]["mysql"]["options"] = {**config["listeners"]["mysql"].get("options", {}),
                                               "busy_poll_us": args.busy_poll_us}
    home.mkdir(parents=True, exist_ok=True)
    store_credentials(write_config(home / "bastion.yaml", config))
    # -P: the current directory (this checkout) must not shadow the revision's tree
    env = {**os.environ, "PYTHONPATH": str(src)}
    return start_bastion(home, config, env=env, cli=[sys.executable, "-P", "-m", "bastion.cli"])


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
    """sysbench reads client-cert.pem, client-key.pem and cacert.pem from its cwd. Its
    client certificate is self-signed (it is its own CA for MariaDB's ``--ssl-ca``): the
    bastion's ``ensure_certificate`` makes a CA-signed server-only leaf, which MariaDB
    refuses as a client certificate ("unknown ca")."""
    tls = workdir / "sysbench"
    tls.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-client")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (tls / "client-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tls / "client-key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                                           serialization.NoEncryption()))
    return tls


def profile(stack: Stack, tls_dir: Path, ep: Endpoint, threads: int, seconds: int, out_dir: Path) -> None:
    assert stack.bastion is not None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found (pip install py-spy)")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "bastion.txt"
    recorder = subprocess.Popen([spy, "record", "-p", str(stack.bastion.proc.pid), "-d", str(seconds), "-r", "200",
                                 "-f", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sysbench(tls_dir, ep, threads, seconds)
    recorder.wait(timeout=seconds + 60)
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        total += int(count)
        own[stack_text.split(";")[-1]] += int(count)
    print(f"\nprofile of the bastion during point-select ({total} samples, {raw}); hottest frames (self time):")
    for frame, samples in own.most_common(15):
        print(f"  {100 * samples / max(total, 1):5.1f}%  {frame}")


def point_selects(tls_dir: Path, eps: list[Endpoint], proxies: dict[str, int], db_pid: int, topo: Topology,
                  threads: int, args: argparse.Namespace) -> dict[str, list[SysbenchResult]]:
    """Alternate the paths (so load from elsewhere on the machine hits all alike).
    ``proxies`` maps an endpoint's name to the pid in front of MariaDB on that path."""
    for pid in proxies.values():
        pin(pid, topo.bastion)
    pin(db_pid, topo.rest)
    runs: dict[str, list[SysbenchResult]] = {ep.name: [] for ep in eps}
    try:
        for ep in eps:
            sysbench(tls_dir, ep, threads, 3, topo.rest)  # warm-up: buffer pool, caches
        for round_ in range(args.rounds):
            for ep in eps:
                pid = proxies.get(ep.name)
                before, cpus_before = cpu_ticks(pid) if pid else (0, 0), cpu_times()
                run = sysbench(tls_dir, ep, threads, args.seconds, topo.rest)
                after, cpus_after = cpu_ticks(pid) if pid else (0, 0), cpu_times()
                if pid and run.queries:
                    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
                    run.cpu_us = ((after[0] - before[0]) * tick_us / run.queries,
                                  (after[1] - before[1]) * tick_us / run.queries)
                run.busy = (busy_share(cpus_before, cpus_after, topo.rest),
                            busy_share(cpus_before, cpus_after, topo.bastion))
                runs[ep.name].append(run)
                print(f"  {topo.name}, {threads} threads, round {round_ + 1}: {ep.name} {run.qps:.0f} qps",
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
    ap.add_argument("--compare", metavar="REV",
                    help="also measure the bastion of this git revision (path 'before'), in the same run")
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
    stack = start_stack(work, db=db, allow_all=args.policy == "allow-all", audit={"fsync": args.audit_fsync == "on"},
                        mysql_options={"busy_poll_us": args.busy_poll_us})
    proxy = None if args.no_reference or not TCPProxy.available() else TCPProxy(work / "haproxy", db.port)
    before: BastionProcess | None = None
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
        if proxy is not None:
            proxy.start()
            assert proxy.proc is not None
            eps.append(Endpoint("haproxy", proxy.port, direct.user, direct.password))
            proxies["haproxy"] = proxy.proc.pid
        elif not args.no_reference:
            print("haproxy not found (apt-get install haproxy): no reference proxy column", flush=True)
        if args.compare:
            before = start_revision(work, args.compare, db, args)
            eps.append(Endpoint("before", before.ports["mysql"], "shop-db", before.token("alice", "dba")))
            proxies["before"] = before.proc.pid
            pymysql_stream(eps[-1], "SELECT 1, 'x'")
            with open(tls_dir / "cacert.pem", "a") as fh:
                fh.write((before.config.parent / "var" / "tls" / "ca.crt").read_text())
        print(f"services ready in {time.monotonic() - started:.1f}s; workdir {work}", flush=True)

        topos = topologies(args.topology)
        cases = [(topo, threads) for topo in topos for threads in args.threads]
        point: dict[str, dict[str, dict[str, Any]]] = {}
        for topo, threads in cases:
            runs = point_selects(tls_dir, eps, proxies, db.proc.pid, topo, threads, args)
            point[case_key(topo, threads)] = {name: summarise(r) for name, r in runs.items()}
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
                "threads": args.threads, "seconds": args.seconds, "rounds": args.rounds,
                "audit_fsync": args.audit_fsync, "policy": args.policy, "busy_poll_us": args.busy_poll_us,
                "topologies": {t.name: t.describe() for t in topos}, "point_select": point, "streams": flows,
                "sessions_per_s": rates},
                indent=2))
        if args.profile:
            profile(stack, tls_dir, through, args.threads[0], min(args.seconds, 10), args.profile)
    finally:
        if proxy is not None:
            proxy.stop()
        if before is not None:
            before.stop()
        stack.stop()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def case_key(topo: Topology, threads: int) -> str:
    return f"{topo.name}, {threads} threads"


def report(point: dict[str, dict[str, dict[str, Any]]], flows: dict[str, dict[str, float]],
           cases: list[tuple[Topology, int]], args: argparse.Namespace) -> None:
    threads = ",".join(map(str, args.threads))
    print(f"\nMySQL: bastion vs direct — sysbench oltp_point_select, {threads} threads, "
          f"{args.rounds} x {args.seconds} s per path (medians), TLS everywhere, {args.policy} policy, "
          f"audit.fsync {args.audit_fsync}, busy_poll_us {args.busy_poll_us}; "
          "haproxy: a C TCP proxy in the bastion's place (TLS end to end)")
    present = [n for n in ("haproxy", "before") if any(n in point[case_key(t, k)] for t, k in cases)]
    print(f"{'':44} {'direct':>9} {'bastion':>9} {'ratio':>6}" + "".join(f" {n:>9} {'ratio':>6}" for n in present))
    for topo, n in cases:
        case = point[case_key(topo, n)]
        print(f"{topo.describe()}; {n} threads")
        for label, key, fmt in (("  point-select qps (higher is better)", "qps", "{:.0f}"),
                                ("    latency avg ms", "latency_avg_ms", "{:.3f}"),
                                ("    latency p50 ms", "latency_p50_ms", "{:.3f}"),
                                ("    latency p95 ms", "latency_p95_ms", "{:.3f}"),
                                ("    latency p99 ms", "latency_p99_ms", "{:.3f}")):
            print(f"{label:44}" + "".join(_cell(case, name, key, fmt)
                                          for name in ("direct", "bastion", "haproxy", "before")))
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
    for topo, n in cases:
        case = point[case_key(topo, n)]
        d, b = case["direct"]["qps"], case["bastion"]["qps"]
        ratio = b / d if d else 0.0
        line = (f"point-select ratio, {case_key(topo, n)}: {ratio:.2f} (target >= {TARGET}): "
                f"{'met' if ratio >= TARGET else 'NOT met'}")
        if "haproxy" in case and d:
            line += f"; haproxy {case['haproxy']['qps'] / d:.2f}, bastion/haproxy {b / case['haproxy']['qps']:.2f}"
        if "before" in case and d:
            old = case["before"]
            line += (f"; before {old['qps'] / d:.2f}, bastion/before {b / old['qps']:.2f} qps, CPU per statement "
                     f"{_cpu(case['bastion']):.1f} us against {_cpu(old):.1f} us")
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
