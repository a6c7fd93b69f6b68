"""Session set-up rate: connect (TLS), one statement, disconnect, as fast as possible.

Run: ``.venv/bin/python bench/sessions.py [--clients 4] [--seconds 10]``: starts its own
MariaDB and bastion (allow-all policy) and prints the rate of sessions with the vaulted
account (``shop-db``) and with a per-session account (``shop-eph``, ``options.ephemeral``:
each session also creates, grants and drops a MariaDB user through the provisioning
account). ``bench/mysql.py`` uses :func:`session_rate` for its direct/bastion comparison.

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
import yaml

NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


def _worker(endpoint: tuple[int, str, str, str], seconds: float, out: Any) -> None:
    port, user, password, database = endpoint
    done = errors = 0
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        try:
            conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=database,
                                   ssl=NO_VERIFY, connect_timeout=10)
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.close()
            done += 1
        except pymysql.err.MySQLError:
            errors += 1
    out.put((done, errors, time.monotonic() - started))


def session_rate(port: int, user: str, password: str, clients: int, seconds: float,
                 database: str = "sbtest") -> tuple[float, int]:
    """(sessions per second, errors) with ``clients`` processes opening sessions back to back."""
    ctx = multiprocessing.get_context("spawn")
    queue: Any = ctx.Queue()
    endpoint = (port, user, password, database)
    procs = [ctx.Process(target=_worker, args=(endpoint, seconds, queue)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    return sum(done / elapsed for done, _, elapsed in results), sum(err for _, err, _ in results)


def main() -> int:
    import argparse
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bastion.demo.ephemeral import PROVISION_PASSWORD, access_file, ephemeral_target, provision
    from bastion.demo.setup import write_config
    from bastion.demo.stack import _cli, start_bastion, start_stack

    ap = argparse.ArgumentParser(description="session set-up rate, vaulted vs per-session accounts")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bastion-bench-sessions-"))
    stack = start_stack(work)
    try:
        assert stack.bastion is not None
        provision(stack.db)
        config = yaml.safe_load(stack.bastion.config.read_text())
        config["targets"].append(ephemeral_target("shop-eph", stack.db))
        config["policies"]["files"].append(str(access_file(work / "eph.yaml", "shop-eph", {"developer": ["dba"]})))
        stack.bastion.stop()
        path = write_config(stack.bastion.config, config)
        _cli(path, "credentials", "set", "shop-eph/provisioner", stdin=PROVISION_PASSWORD.encode())
        stack.bastion = start_bastion(path.parent, config)
        token = stack.bastion.token("alice", "dba")
        port = stack.bastion.ports["mysql"]
        rates = {name: session_rate(port, name, token, args.clients, args.seconds, database="shop")
                 for name in ("shop-db", "shop-eph")}
    finally:
        stack.stop()
    for name, (rate, errors) in rates.items():
        kind = "per-session account" if name == "shop-eph" else "vaulted account"
        print(f"{name:9} ({kind}): {rate:7.1f} sessions/s, {errors} errors ({args.clients} clients)")
    print(f"ratio per-session/vaulted: {rates['shop-eph'][0] / max(rates['shop-db'][0], 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
