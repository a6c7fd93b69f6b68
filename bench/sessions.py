"""Session set-up rate: connect (TLS), one statement, disconnect, as fast as possible.

Every session through the bastion costs a TLS handshake with the client, the token's
check, an upstream connection (TCP, TLS, authentication with the vaulted credential) and
two journaled events (``session.start``, ``session.end``); a direct session only the
first and the third. Several client threads (PyMySQL, in processes of their own so the
client's GIL is not what is measured) open sessions back to back for a fixed time.
"""

from __future__ import annotations

import multiprocessing
import ssl
import time
from typing import Any

import pymysql

NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


def _worker(endpoint: tuple[int, str, str], seconds: float, out: Any) -> None:
    port, user, password = endpoint
    done = errors = 0
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        try:
            conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database="sbtest",
                                   ssl=NO_VERIFY, connect_timeout=10)
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.close()
            done += 1
        except pymysql.err.MySQLError:
            errors += 1
    out.put((done, errors, time.monotonic() - started))


def session_rate(port: int, user: str, password: str, clients: int, seconds: float) -> tuple[float, int]:
    """(sessions per second, errors) with ``clients`` processes opening sessions back to back."""
    ctx = multiprocessing.get_context("spawn")
    queue: Any = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=((port, user, password), seconds, queue)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    return sum(done / elapsed for done, _, elapsed in results), sum(err for _, err, _ in results)
