"""How many sessions one node holds, what each costs in memory, and whether memory grows.

Run (as root: the SSH part starts a private sshd with a throwaway OS account):
``.venv/bin/python bench/capacity.py [--mysql 1000] [--ssh 200] [--workers 1] [--soak 600]``.

* ``--mysql N`` idle MySQL sessions (TLS, token login, one ``SELECT 1`` each, then left
  open) through one bastion in front of its own MariaDB: resident memory of the bastion's
  processes (the serving process or the supervisor and its workers; the indexer apart)
  before and after, per session.
* ``--ssh N`` concurrent interactive shells (OpenSSH client with a PTY, one bastion
  session and one upstream connection each) through a bastion in front of a private
  sshd: memory per shell the same way.
* ``--soak SECONDS`` mixed traffic afterwards (MySQL statements and SSH execs from a few
  client threads, all sessions opened and closed over and over) and the resident memory
  of every bastion process at its start and end: growth beyond 10 % is reported as such.

``--workers N`` runs the bastion with ``server.workers: N``. Figures go to
docs/performance.md; they are the sizing input of docs/deployment.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bastion.demo.services import SSHD, MariaDB  # noqa: E402
from bastion.demo.stack import Stack, start_stack  # noqa: E402
from bench.ssh import ssh_argv  # noqa: E402
from bench.ssh import start_bastion as start_ssh_bastion  # noqa: E402

NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


class RoomyMariaDB(MariaDB):
    """The demo's MariaDB with room for every bastion session's upstream connection."""

    def spawn(self, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
        if argv and argv[0].endswith("mariadbd"):
            argv = [*argv, "--max-connections=2000"]
        super().spawn(argv, extra_env)


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            queue.extend(int(c) for c in children)
    return found


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def serving(pid: int) -> dict[int, int]:
    """RSS (KiB) of each bastion process that serves sessions (the indexer left out)."""
    out = {}
    for p in tree(pid):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
            if b"indexer" not in cmd:
                out[p] = rss_kib(p)
        except OSError:
            continue
    return out


def _settle() -> None:
    time.sleep(3)  # let greenlets finish their start-up work and the allocator settle


def mysql_capacity(work: Path, n: int, workers: int) -> tuple[Stack, list[pymysql.Connection], float]:
    """Open ``n`` idle sessions; returns the stack, the open connections and KiB per session."""
    server = {"workers": workers} if workers > 1 else None
    stack = start_stack(work, db=RoomyMariaDB(work / "mariadb"), server=server,
                        listener={"max_connections": n + 100})
    assert stack.bastion is not None
    token = stack.bastion.token("alice", "dba")
    port = stack.bastion.ports["mysql"]

    def connect() -> pymysql.Connection:
        conn = pymysql.connect(host="127.0.0.1", port=port, user="shop-db", password=token, database="shop",
                               ssl=NO_VERIFY, connect_timeout=30)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        return conn

    conns = [connect() for _ in range(10)]  # warm-up: caches, pools, first-use allocations
    _settle()
    before = sum(serving(stack.bastion.proc.pid).values())
    conns += [connect() for _ in range(n)]
    _settle()
    after = sum(serving(stack.bastion.proc.pid).values())
    return stack, conns, (after - before) / n


def ssh_capacity(work: Path, n: int, workers: int) -> tuple[SSHD, subprocess.Popen[bytes], list[str], float]:
    """Open ``n`` interactive shells; returns sshd, the bastion, the client argv and KiB per shell."""
    work.mkdir(parents=True, exist_ok=True)
    for directory in (work, work.parent):  # sshd reads authorized_keys as the test user, who must traverse them
        directory.chmod(0o711)
    sshd = SSHD(work / "sshd", "bastioncap", "cap-pw-not-used")
    sshd.start()
    proc, port, key = start_ssh_bastion(work, sshd, server={"workers": workers} if workers > 1 else None)
    try:
        argv = ssh_argv(port, key, "bench-host")

        def shell() -> subprocess.Popen[bytes]:
            return subprocess.Popen([*argv[:-1], "-tt", argv[-1]], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)

        warm = _open_shells(shell, 5)
        _settle()
        before = sum(serving(proc.pid).values())
        shells = _open_shells(shell, n)
        _settle()
        after = sum(serving(proc.pid).values())
        alive = sum(s.poll() is None for s in shells)
        for s in [*warm, *shells]:
            s.terminate()
        if alive < n:
            raise RuntimeError(f"only {alive} of {n} shells stayed open; see {work / 'bastion.log'}")
    except BaseException:  # nothing of the bench outlives it
        proc.terminate()
        proc.wait(timeout=30)
        sshd.stop()
        raise
    return sshd, proc, argv, (after - before) / n


def _open_shells(shell: Callable[[], subprocess.Popen[bytes]], n: int) -> list[subprocess.Popen[bytes]]:
    """``n`` shells, ten at a time: each bastion session opens an upstream connection, and
    sshd drops unauthenticated connections beyond ``MaxStartups`` (10 by default)."""
    shells: list[subprocess.Popen[bytes]] = []
    while len(shells) < n:
        shells += [shell() for _ in range(min(10, n - len(shells)))]
        time.sleep(1.5)
    return shells


def soak(seconds: float, mysql_port: int, token: str, ssh: list[str], pids: list[int]) -> None:
    """Mixed traffic for ``seconds``; prints RSS of each bastion process at start and end."""
    start = {pid: rss for root in pids for pid, rss in serving(root).items()}
    stop = time.monotonic() + seconds
    counts = {"mysql": 0, "ssh": 0, "errors": 0}

    def mysql_loop() -> None:
        while time.monotonic() < stop:
            try:
                conn = pymysql.connect(host="127.0.0.1", port=mysql_port, user="shop-db", password=token,
                                       database="shop", ssl=NO_VERIFY, connect_timeout=30)
                with conn.cursor() as cur:
                    for _ in range(50):
                        cur.execute("SELECT id, email FROM customers ORDER BY id LIMIT 20")
                        cur.fetchall()
                conn.close()
                counts["mysql"] += 1
            except pymysql.MySQLError:
                counts["errors"] += 1

    def ssh_loop() -> None:
        while time.monotonic() < stop:
            done = subprocess.run([*ssh, "echo soak; ls /"], capture_output=True, timeout=60)
            counts["ssh" if done.returncode == 0 else "errors"] += 1

    threads = [threading.Thread(target=f) for f in (mysql_loop, mysql_loop, ssh_loop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = {pid: rss for root in pids for pid, rss in serving(root).items()}
    print(f"\nsoak {seconds:.0f} s: {counts['mysql']} MySQL sessions (50 statements each), {counts['ssh']} SSH execs, "
          f"{counts['errors']} errors")
    for pid in sorted(start):
        if pid in end:
            growth = (end[pid] - start[pid]) / start[pid] * 100
            flag = "  GROWTH > 10 %" if growth > 10 else ""
            print(f"  pid {pid}: RSS {start[pid] / 1024:.1f} MiB -> {end[pid] / 1024:.1f} MiB ({growth:+.1f} %){flag}")
        else:
            print(f"  pid {pid}: gone during the soak (restarted worker?)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mysql", type=int, default=1000)
    parser.add_argument("--ssh", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--soak", type=float, default=0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    work = Path(tempfile.mkdtemp(prefix="bastion-bench-capacity-"))
    stack = sshd = ssh_proc = None
    conns: list[pymysql.Connection] = []
    try:
        if args.mysql:
            stack, conns, per_session = mysql_capacity(work / "mysql", args.mysql, args.workers)
            print(f"{args.mysql} idle MySQL sessions, {args.workers} worker(s): {per_session:.0f} KiB per session")
        sshd, ssh_proc, ssh, per_shell = ssh_capacity(work / "ssh", args.ssh, args.workers)
        print(f"{args.ssh} interactive SSH shells, {args.workers} worker(s): {per_shell:.0f} KiB per shell")
        for conn in conns:
            conn.close()
        if args.soak and stack is not None:
            assert stack.bastion is not None
            soak(args.soak, stack.bastion.ports["mysql"], stack.bastion.token("alice", "dba"), ssh,
                 [stack.bastion.proc.pid, ssh_proc.pid])
    finally:
        if ssh_proc is not None:
            ssh_proc.terminate()
            ssh_proc.wait(timeout=30)
        if sshd is not None:
            sshd.stop()
        if stack is not None:
            stack.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
