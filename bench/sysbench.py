"""One ``sysbench oltp_point_select`` run against a MySQL endpoint, and its numbers (text or
binary protocol)."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TABLES, TABLE_SIZE = 4, 10_000


@dataclass
class Endpoint:
    name: str
    port: int
    user: str
    password: str


@dataclass
class SysbenchResult:
    qps: float = 0.0
    queries: int = 0
    errors: int = 0
    latency: dict[str, float] = field(default_factory=dict)
    cpu_us: tuple[float, float] = (0.0, 0.0)
    """The proxy's CPU per statement (user, system), measured around a run through it."""
    busy: tuple[float, float] = (0.0, 0.0)
    """Share of time busy during the run: MariaDB and sysbench's CPUs, the proxy's CPUs."""


PS_MODES = {"text": "disable", "binary": "auto"}
"""``--protocol`` -> sysbench's ``--db-ps-mode``: ``disable`` sends each point-select as a
plain COM_QUERY (what most clients and ORMs send), ``auto`` prepares it on the server once
and runs COM_STMT_EXECUTE."""


def sysbench(cwd: Path, ep: Endpoint, threads: int, seconds: int, cpus: set[int] | None = None,
             protocol: str = "binary", workload: str = "point_select") -> SysbenchResult:
    """``workload``: sysbench's ``oltp_<workload>`` (``point_select``; ``update_index``, one
    UPDATE by key per event, for the write path)."""
    pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    res = subprocess.run(
        [*pin, "sysbench", f"oltp_{workload}", "--mysql-host=127.0.0.1", f"--mysql-port={ep.port}",
         f"--mysql-user={ep.user}", f"--mysql-password={ep.password}", "--mysql-db=sbtest", "--mysql-ssl=on",
         f"--tables={TABLES}", f"--table-size={TABLE_SIZE}", f"--threads={threads}", f"--time={seconds}",
         f"--db-ps-mode={PS_MODES[protocol]}", "--mysql-ignore-errors=none", "--histogram=on", "run"],
        cwd=cwd, capture_output=True, text=True, timeout=seconds + 120)
    if res.returncode != 0:
        raise RuntimeError(f"sysbench via {ep.name} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    out = SysbenchResult()
    found = re.search(r"queries:\s+(\d+)\s+\(([\d.]+) per sec", res.stdout)
    out.queries, out.qps = (int(found.group(1)), float(found.group(2))) if found else (0, 0.0)
    found = re.search(r"ignored errors:\s+(\d+)", res.stdout)
    out.errors = int(found.group(1)) if found else 0
    found = re.search(r"avg:\s+([\d.]+)", res.stdout)
    out.latency["avg"] = float(found.group(1)) if found else 0.0
    buckets = [(float(v), int(n)) for v, n in re.findall(r"^\s*([\d.]+)\s+\|\**\s+(\d+)\s*$", res.stdout, re.M)]
    total = sum(n for _, n in buckets)
    for label, p in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        seen = 0
        for value, n in buckets:
            seen += n
            if seen >= p * total:
                out.latency[label] = value
                break
    return out


def summarise(runs: list[SysbenchResult]) -> dict[str, Any]:
    return {
        "qps": statistics.median(r.qps for r in runs),
        "qps_runs": [r.qps for r in runs],
        "errors": sum(r.errors for r in runs),
        **{f"latency_{k}_ms": statistics.median(r.latency.get(k, 0.0) for r in runs)
           for k in ("avg", "p50", "p95", "p99")},
        "proxy_cpu_us_user": statistics.median(r.cpu_us[0] for r in runs),
        "proxy_cpu_us_system": statistics.median(r.cpu_us[1] for r in runs),
        "busy_db_cpus": statistics.median(r.busy[0] for r in runs),
        "busy_proxy_cpus": statistics.median(r.busy[1] for r in runs),
    }
