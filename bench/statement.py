"""CPU per statement of the MySQL command phase in-process: no sockets, no TLS, no MariaDB.

``bench/mysql.py`` measures the whole path (TLS, the kernel, the indexer process) against
a direct connection; this one isolates the Python the relay runs per statement — reading
the request, the guard (classification, policy stages, the durable start record), the
relay of the response (masking), the outcome record — so a change to any of them shows
up without the machine's noise. The session is a real :class:`MySQLSession` built from
the demo's configuration (``--policy demo``: its guardrails and masking rules) with the
real journal (in ``--workdir``, fsync as ``--audit-fsync``); the client and MariaDB are
scripted connections (the unit tests' ``MemoryConn``) answering a sysbench point-select
(``SELECT c FROM sbtest1 WHERE id=N``, one CHAR(120) row) in the text protocol or
COM_STMT_EXECUTE. ``--profile FILE`` writes a cProfile of the loop.

    .venv/bin/python bench/statement.py --protocol both --policy demo
"""

from __future__ import annotations

import argparse
import cProfile
import random
import struct
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bastion.demo.setup import demo_config, write_config  # noqa: E402
from bastion.runtime.bootstrap import build_context, load_checked  # noqa: E402
from plugins.mysql import commands  # noqa: E402
from plugins.mysql.codec import (  # noqa: E402
    COM_QUERY,
    COM_STMT_EXECUTE,
    COM_STMT_PREPARE,
    MYSQL_TYPE_LONG,
    MYSQL_TYPE_STRING,
    ColumnDef,
    OkPacket,
    Param,
    build_stmt_execute,
)
from plugins.mysql.session import MySQLSession  # noqa: E402
from tests.unit.plugins.mysql.fakes import CAPS, MemoryConn, session_in  # noqa: E402

C_VALUE = "-".join(f"{random.Random(i).randrange(10**10, 10**11)}" for i in range(10))[:119]
"""What sysbench puts in ``c``: ten 11-digit groups joined by dashes."""


def context(work: Path, policy: str, fsync: bool) -> Any:
    config = demo_config(work, db=SimpleNamespace(port=3306), sshd=None, idp_metadata_url=None,  # type: ignore[arg-type]
                         ports={"web": 1, "mysql": 2}, protocols={"mysql"}, sp_base_url="http://127.0.0.1:1")
    if policy == "allow-all":
        files = [f for f in config["policies"]["files"] if Path(f).name == "access.yaml"]
        config["policies"] = {**config["policies"], "files": files, "stages": ["access"]}
    config["audit"] = {**config["audit"], "fsync": fsync, "journal_dir": str(work / "journal")}
    settings, _ = load_checked(str(write_config(work / "bastion.yaml", config)))
    return build_context(settings)


def make_session(ctx: Any) -> tuple[MySQLSession, MemoryConn, MemoryConn]:
    return session_in(ctx, "alice", "shop-db")  # the demo's masking rules are scoped to shop-db


def result_set(binary: bool) -> list[bytes]:
    """The packets of a one-row, one-column (``c``) result set."""
    col = ColumnDef("def", "sbtest", "sbtest1", "sbtest1", "c", "c", 45, 480, MYSQL_TYPE_STRING, 0, 0).build()
    value = C_VALUE.encode()
    row = (b"\x00\x00" if binary else b"") + bytes([len(value)]) + value
    eof = OkPacket(0, 0, 2, 0).build(CAPS)
    return [b"\x01", col, row, b"\xfe" + eof[1:]]


def answer(up: MemoryConn, packets: list[bytes]) -> None:
    def on_send(_data: bytes) -> None:
        for seq, p in enumerate(packets, start=1):
            up.feed(p, seq)
    up.on_send = on_send


def prepare(s: MySQLSession, up: MemoryConn) -> int:
    stmt_ok = b"\x00" + struct.pack("<IHHBH", 1, 1, 1, 0, 0)
    param = ColumnDef("def", "", "", "", "?", "", 63, 0, MYSQL_TYPE_LONG, 0, 0).build()
    col = ColumnDef("def", "sbtest", "sbtest1", "sbtest1", "c", "c", 45, 480, MYSQL_TYPE_STRING, 0, 0).build()
    answer(up, [stmt_ok, param, col])
    commands.HANDLERS[COM_STMT_PREPARE](s, 0, bytes([COM_STMT_PREPARE]) + b"SELECT c FROM sbtest1 WHERE id=?")
    return 1


def run(ctx: Any, protocol: str, n: int, prof: cProfile.Profile | None) -> float:
    s, client, up = make_session(ctx)
    s.begin()
    answer(up, result_set(protocol == "binary"))
    rng = random.Random(1)
    if protocol == "binary":
        stmt = prepare(s, up)
        answer(up, result_set(True))
        ids = [struct.pack("<i", rng.randrange(1, 40000)) for _ in range(n)]
        payloads = [build_stmt_execute(stmt, [Param(MYSQL_TYPE_LONG, False, v)]) for v in ids]
        handler = commands.HANDLERS[COM_STMT_EXECUTE]
    else:
        payloads = [bytes([COM_QUERY]) + f"SELECT c FROM sbtest1 WHERE id={rng.randrange(1, 40000)}".encode()
                    for _ in range(n)]
        handler = commands.HANDLERS[COM_QUERY]
    for p in payloads[:200]:  # warm the caches
        handler(s, 0, p)
    client.sent.clear()
    if prof:
        prof.enable()
    t0 = time.process_time()
    for p in payloads:
        handler(s, 0, p)
        client.sent.clear()
    cpu = time.process_time() - t0
    if prof:
        prof.disable()
    s.end("bench", s.end_data())
    return cpu / n * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", choices=["text", "binary", "both"], default="both")
    ap.add_argument("--policy", choices=["allow-all", "demo"], default="demo")
    ap.add_argument("--audit-fsync", choices=["on", "off"], default="off")
    ap.add_argument("-n", type=int, default=5000, help="statements per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", type=Path, help="write a cProfile of the loop here (pstats format)")
    ap.add_argument("--workdir", type=Path, help="the journal goes here (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bastion-stmt-") as tmp:
        work = args.workdir or Path(tmp)
        ctx = context(work, args.policy, args.audit_fsync == "on")
        prof = cProfile.Profile() if args.profile else None
        for protocol in ["text", "binary"] if args.protocol == "both" else [args.protocol]:
            best = min(run(ctx, protocol, args.n, prof if r == 0 else None) for r in range(args.rounds))
            print(f"{protocol}: {best:.1f} us CPU per statement (best of {args.rounds} x {args.n}, "
                  f"policy {args.policy}, audit.fsync {args.audit_fsync})", flush=True)
        if prof and args.profile:
            prof.dump_stats(str(args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
