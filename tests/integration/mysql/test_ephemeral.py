"""Per-session database users (``options.ephemeral``) against the real MariaDB.

Target ``eph-db`` is the test MariaDB again; its only vaulted credential is the
provisioning account ``bastion_prov``. Account ``developer`` has the role template
``eph_reader`` (SELECT on shop.*), account ``reporter`` a grants template (SELECT on
shop.orders only).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pymysql
import pytest

from bastion.demo.ephemeral import PROVISION_PASSWORD, access_file, ephemeral_target, provision
from bastion.demo.services import MariaDB
from bastion.demo.setup import write_config
from tests.integration.conftest import ROOT, BastionProc, mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn


def eph_config(workdir: Path, mariadb: MariaDB) -> dict[str, Any]:
    config = mysql_bastion_config(workdir, mariadb)
    config["targets"].append(ephemeral_target("eph-db", mariadb))
    rules = access_file(workdir / "policies" / "ephemeral.yaml", "eph-db",
                        {"developer": ["eph-devs"], "reporter": ["eph-reporters"]})
    config["policies"]["files"].append(str(rules))
    path = write_config(workdir / "bastion.yaml", config)
    subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", "eph-db/provisioner",
                    "--config", str(path)], input=PROVISION_PASSWORD.encode(), check=True, capture_output=True,
                   cwd=ROOT)
    return config


@pytest.fixture(scope="module")
def provisioned(mariadb: MariaDB) -> MariaDB:
    provision(mariadb)
    return mariadb


@pytest.fixture(scope="module")
def eph(tmp_path_factory: pytest.TempPathFactory, provisioned: MariaDB) -> Any:
    workdir = tmp_path_factory.mktemp("ephemeral")
    config = eph_config(workdir, provisioned)
    # Tests also start bastions of their own, each with its own state store, on the same
    # target: a periodic sweep of this one would take their live users for orphans and drop
    # them. It sweeps at start only; the periodic sweep has a test (and a bastion) of its own.
    config["listeners"]["mysql"]["options"] = {**config["listeners"]["mysql"].get("options", {}),
                                               "ephemeral_sweep_seconds": 86400}
    b = start_bastion(workdir, config)
    yield b
    assert stop_bastion(b) == 0, b.log_text()[-3000:]


def session_users(db: MariaDB) -> set[str]:
    return {u for u in db.sql("SELECT User FROM mysql.user WHERE User LIKE 'b\\_%'").split() if u}


def connect(b: BastionProc, groups: str, user: str = "alice") -> Any:
    return pymysql_conn(b, b.token(user, groups), user="eph-db")


def scalar(conn: Any, sql: str) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def test_session_runs_as_its_own_user_and_it_is_dropped(eph: BastionProc, provisioned: MariaDB) -> None:
    conn = connect(eph, "eph-devs", "alice@example.org")
    current = scalar(conn, "SELECT CURRENT_USER()")
    user = current.split("@")[0]
    assert user.startswith("b_alice_") and len(user) == len("b_alice_") + 8, current
    thread = scalar(conn, "SELECT CONNECTION_ID()")
    listed = provisioned.sql(f"SELECT USER FROM information_schema.PROCESSLIST WHERE ID = {int(thread)}").strip()
    assert listed == user
    assert user in session_users(provisioned)
    start = next(e for e in eph.journal() if e["type"] == "session.start"
                 and e["data"].get("upstream_user") == user)  # type: ignore[union-attr]
    assert start["data"]["account"] == "developer"  # type: ignore[index]
    conn.close()
    assert wait_for(lambda: user not in session_users(provisioned)), "session user left behind"
    assert PROVISION_PASSWORD not in eph.log_text()


def test_role_template_allows_reads_and_refuses_writes(eph: BastionProc) -> None:
    conn = connect(eph, "eph-devs")
    try:
        assert scalar(conn, "SELECT COUNT(*) FROM shop.customers") == 5
        with pytest.raises(pymysql.err.MySQLError) as exc, conn.cursor() as cur:
            cur.execute("INSERT INTO shop.orders (customer_id, total) VALUES (1, 1.00)")
        assert exc.value.args[0] == 1142  # INSERT command denied to user
    finally:
        conn.close()


def test_grants_template_is_exactly_what_it_says(eph: BastionProc) -> None:
    conn = connect(eph, "eph-reporters", "bob")
    try:
        assert scalar(conn, "SELECT COUNT(*) FROM shop.orders") == 6
        with pytest.raises(pymysql.err.MySQLError) as exc, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM shop.customers")
        assert exc.value.args[0] == 1142
        with pytest.raises(pymysql.err.MySQLError), conn.cursor() as cur:
            cur.execute("UPDATE shop.orders SET total = total WHERE id = 1")
    finally:
        conn.close()


def test_fifty_concurrent_sessions_get_fifty_users(eph: BastionProc, provisioned: MariaDB) -> None:
    token = eph.token("carol", "eph-devs")
    names: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50, timeout=120)

    def one() -> None:
        try:
            conn = pymysql_conn(eph, token, user="eph-db")
            try:
                names.append(scalar(conn, "SELECT CURRENT_USER()"))
                barrier.wait()  # all 50 are open at once
            finally:
                conn.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors[:3]
    assert len(set(names)) == 50 and all(n.startswith("b_carol_") for n in names)
    assert wait_for(lambda: not any(u.startswith("b_carol_") for u in session_users(provisioned)), timeout=30)


def test_kill_9_orphan_is_dropped_at_next_start(tmp_path: Path, provisioned: MariaDB) -> None:
    config = eph_config(tmp_path, provisioned)
    b = start_bastion(tmp_path, config)
    provisioned.sql("CREATE USER 'b_ghost_0123abcd'@'%' IDENTIFIED BY 'x'; CREATE USER 'b_keep'@'%';")
    try:
        conn = connect(b, "eph-devs", "dave")
        user = scalar(conn, "SELECT CURRENT_USER()").split("@")[0]
        b.proc.kill()
        b.proc.wait(timeout=10)
        assert user in session_users(provisioned)  # the crash left it
        again = start_bastion(tmp_path, config)
        try:
            gone = session_users(provisioned)
            assert user not in gone and "b_ghost_0123abcd" not in gone  # swept before listening
            assert "b_keep" in gone  # not the bastion's name pattern: never touched
        finally:
            assert stop_bastion(again) == 0
    finally:
        stop_bastion(b)
        provisioned.sql("DROP USER IF EXISTS 'b_ghost_0123abcd'@'%', 'b_keep'@'%';")


def test_kill_query_from_another_session_of_the_person(eph: BastionProc) -> None:
    """KILL QUERY (the CLI's Ctrl-C) logs in as the victim's own session user."""
    token = eph.token("frank", "eph-devs")
    victim = pymysql_conn(eph, token, user="eph-db")
    killer = pymysql_conn(eph, token, user="eph-db")
    outcome: list[BaseException | None] = []

    def sleep() -> None:
        try:
            with victim.cursor() as cur:
                cur.execute("SELECT SLEEP(30)")
                outcome.append(None if cur.fetchone()[0] == 1 else RuntimeError("not interrupted"))
        except BaseException as exc:  # noqa: BLE001 - examined below
            outcome.append(exc)

    runner = threading.Thread(target=sleep)
    runner.start()
    try:
        time.sleep(1)
        with killer.cursor() as cur:
            cur.execute(f"KILL QUERY {victim.server_thread_id[0]}")
        runner.join(timeout=20)
        assert not runner.is_alive() and len(outcome) == 1
        interrupted = outcome[0] is None or (isinstance(outcome[0], pymysql.err.OperationalError)
                                             and outcome[0].args[0] == 1317)  # "Query execution was interrupted"
        assert interrupted, outcome
    finally:
        runner.join(timeout=30)
        victim.close()
        killer.close()


def test_periodic_sweep_drops_orphans_and_spares_live_users(tmp_path: Path, provisioned: MariaDB) -> None:
    config = eph_config(tmp_path, provisioned)
    config["listeners"]["mysql"]["options"] = {"ephemeral_sweep_seconds": 1}
    b = start_bastion(tmp_path, config)
    try:
        conn = connect(b, "eph-devs", "gina")
        user = scalar(conn, "SELECT CURRENT_USER()").split("@")[0]
        provisioned.sql("CREATE USER 'b_ghost_89abcdef'@'%' IDENTIFIED BY 'x';")  # no row: an orphan
        assert wait_for(lambda: "b_ghost_89abcdef" not in session_users(provisioned), timeout=30)
        time.sleep(2.5)  # more sweeps while the session is open
        assert user in session_users(provisioned)
        assert scalar(conn, "SELECT CURRENT_USER()").split("@")[0] == user
        conn.close()
    finally:
        assert stop_bastion(b) == 0
        provisioned.sql("DROP USER IF EXISTS 'b_ghost_89abcdef'@'%';")
