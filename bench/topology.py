"""Where the benchmark's processes run, and what CPU they used.

``shared``: the bastion, MariaDB and sysbench on every CPU. ``dedicated``: the bastion
(or the reference proxy) on a CPU of its own, MariaDB and sysbench on the others, for
the direct path too (docs/performance.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Topology:
    """Where the processes run. ``shared``: everything on every CPU. ``dedicated``: the
    bastion on a CPU of its own (as a gateway is deployed: not on the database host, not
    on the client's), MariaDB and sysbench on the others, for the direct path too."""

    name: str
    bastion: set[int] | None = None
    rest: set[int] | None = None

    def describe(self) -> str:
        if self.bastion is None:
            return f"shared: bastion, MariaDB and sysbench on all {len(os.sched_getaffinity(0))} CPUs"
        return (f"dedicated: bastion on CPU {_cpus(self.bastion)}, MariaDB and sysbench on CPU {_cpus(self.rest)}")


def _cpus(cpus: set[int] | None) -> str:
    return ",".join(map(str, sorted(cpus or ())))


def topologies(choice: str) -> list[Topology]:
    cpus = sorted(os.sched_getaffinity(0))
    shared = Topology("shared")
    if len(cpus) < 2:
        return [shared]
    # One CPU for the bastion: a bastion process uses one core (more would sit idle).
    dedicated = Topology("dedicated", {cpus[-1]}, set(cpus[:-1]))
    return {"shared": [shared], "dedicated": [dedicated], "both": [shared, dedicated]}[choice]


def family(pid: int) -> list[int]:
    """``pid`` and its descendants: with ``server.workers`` above 1 the bastion's work is
    done by the supervisor's workers (and the indexer is everyone's child)."""
    found, i = [pid], 0
    while i < len(found):
        try:
            for task in Path(f"/proc/{found[i]}/task").iterdir():
                found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass  # a process that just ended
        i += 1
    return found


def pin(pid: int, cpus: set[int] | None) -> None:
    """Pin every thread of ``pid`` and of its descendants (None: all CPUs again)."""
    target = cpus or set(os.sched_getaffinity(0))
    for proc in family(pid):
        try:
            tasks = list(Path(f"/proc/{proc}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                os.sched_setaffinity(int(task.name), target)
            except OSError:
                pass  # a thread that just ended


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(utime, stime) of ``pid`` and its live descendants."""
    user = system = 0
    for proc in family(pid):
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])  # fields 14 and 15 of stat
    return user, system


def cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, idle) jiffies since boot, from /proc/stat."""
    out: dict[int, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            v = [int(x) for x in values]
            idle = v[3] + v[4]  # idle + iowait
            out[int(name[3:])] = (sum(v[:8]) - idle, idle)
    return out


def busy_share(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]],
               cpus: set[int] | None) -> float:
    """Share of the time ``cpus`` (None: all) were busy between two ``cpu_times``."""
    chosen = cpus if cpus is not None else set(os.sched_getaffinity(0))
    busy = sum(after[c][0] - before[c][0] for c in chosen)
    idle = sum(after[c][1] - before[c][1] for c in chosen)
    return busy / (busy + idle) if busy + idle else 0.0
