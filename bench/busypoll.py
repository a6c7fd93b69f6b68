"""How much CPU the MySQL listener's busy polling spends, busy and idle.

Starts a throwaway MariaDB and a bastion with ``busy_poll_us: 5000`` (as the integration
tests do), sends statements 2 ms apart for a while, then leaves the session idle, and
prints the bastion's CPU seconds per wall second in each phase. Expected: close to one
core while statements arrive inside the window, close to zero once idle.

    .venv/bin/python bench/busypoll.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bastion.demo.services import MariaDB  # noqa: E402
from bastion.demo.setup import seed_mariadb  # noqa: E402
from tests.integration.conftest import mysql_bastion_config, start_bastion, stop_bastion  # noqa: E402
from tests.integration.mysql.clients import pymysql_conn  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def share(pid: int, seconds: float, work: object) -> float:
    before, started = cpu_seconds(pid), time.monotonic()
    while time.monotonic() - started < seconds:
        work()  # type: ignore[operator]
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = MariaDB(work / "mariadb").start()
        seed_mariadb(db)
        (work / "bastion").mkdir()
        config = mysql_bastion_config(work / "bastion", db)
        config["listeners"]["mysql"]["options"] = {"busy_poll_us": 5000}
        b = start_bastion(work / "bastion", config)
        try:
            with pymysql_conn(b, b.token("alice", "dba"), autocommit=True) as conn, conn.cursor() as cur:
                def busy() -> None:
                    cur.execute("SELECT 1")
                    time.sleep(0.002)
                print(f"statements 2 ms apart: {share(b.proc.pid, 3.0, busy):.2f} CPU s per s")
                cur.execute("SELECT SLEEP(0.5)")
                print(f"idle:                  {share(b.proc.pid, 3.0, lambda: time.sleep(0.1)):.2f} CPU s per s")
        finally:
            stop_bastion(b)
            db.stop()


if __name__ == "__main__":
    main()
