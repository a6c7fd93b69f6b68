"""``bastion credentials rotate`` of a vaulted MariaDB password, carried out by the running
bastion: the new password works and the old does not; a failure mid-rotation (the server
refuses the new password) and an interrupted rotation both leave a working credential."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import yaml

from bastion.demo.services import MariaDB
from bastion.demo.setup import write_config
from bastion.runtime.bootstrap import load_checked, open_store
from bastion.state.vault import VaultError
from tests.integration.conftest import ROOT, BastionProc, mysql_bastion_config, start_bastion, stop_bastion, wait_for
from tests.integration.mysql.clients import pymysql_conn

USER, INITIAL = "bastion_rot", "rot-initial-pw"


@pytest.fixture(scope="module")
def rot(tmp_path_factory: pytest.TempPathFactory, mariadb: MariaDB) -> Iterator[BastionProc]:
    mariadb.sql(f"DROP USER IF EXISTS '{USER}'@'127.0.0.1'; CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY "
                f"'{INITIAL}'; GRANT SELECT ON shop.* TO '{USER}'@'127.0.0.1';")
    workdir = tmp_path_factory.mktemp("rotation")
    config = mysql_bastion_config(workdir, mariadb)
    config["targets"].append({"name": "rot-db", "protocol": "mysql", "host": "127.0.0.1", "port": mariadb.port,
                              "accounts": ["rotator"], "tls": {"mode": "preferred"},
                              "options": {"users": {"rotator": USER}}})
    rules = workdir / "policies" / "rotation.yaml"
    rules.write_text(yaml.safe_dump({"access": [{"id": "rot", "groups": ["rot"], "targets": ["rot-db"],
                                                 "account": "rotator"}]}))
    config["policies"]["files"].append(str(rules))
    path = write_config(workdir / "bastion.yaml", config)
    subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", "rot-db/rotator", "--config",
                    str(path)], input=INITIAL.encode(), check=True, capture_output=True, cwd=ROOT)
    b = start_bastion(workdir, config)
    yield b
    assert stop_bastion(b) == 0, b.log_text()[-3000:]


def vaulted(b: BastionProc, account: str = "rotator") -> bytes:
    return _vaulted(b.config, "rot-db", account)


def logs_in(db: MariaDB, password: bytes | str) -> bool:
    return logs_in_as(db, USER, password)


def rotate(b: BastionProc) -> subprocess.CompletedProcess[bytes]:
    return b.cli("credentials", "rotate", "rot-db/rotator", "--wait", "60")


def events(b: BastionProc) -> list[dict[str, Any]]:
    return [e for e in b.journal() if e["type"] == "credential.rotate"]  # type: ignore[misc]


def test_new_password_works_and_the_old_does_not(rot: BastionProc, mariadb: MariaDB) -> None:
    old = vaulted(rot)
    res = rotate(rot)
    assert res.returncode == 0, res.stderr
    new = vaulted(rot)
    assert new != old and logs_in(mariadb, new) and not logs_in(mariadb, old)
    with pymysql_conn(rot, rot.token("erin", "rot"), user="rot-db") as conn, conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone()[0] == f"{USER}@127.0.0.1"
    event = events(rot)[-1]
    assert event["data"]["result"] == "rotated" and event["data"]["requested_by"].startswith("cli:")
    journal = json.dumps(rot.journal())
    assert new.decode() not in journal and old.decode() not in journal
    with pytest.raises(VaultError):
        vaulted(rot, "rotator#pending")


def test_refused_new_password_keeps_the_old_one(rot: BastionProc, mariadb: MariaDB) -> None:
    before = vaulted(rot)
    mariadb.sql("INSTALL SONAME 'simple_password_check'; SET GLOBAL simple_password_check_minimal_length = 200;")
    try:
        res = rotate(rot)
    finally:
        mariadb.sql("UNINSTALL SONAME 'simple_password_check';")
    assert res.returncode == 1 and b"refused the new password" in res.stderr, res.stderr
    assert vaulted(rot) == before and logs_in(mariadb, before)
    with pytest.raises(VaultError):
        vaulted(rot, "rotator#pending")
    assert events(rot)[-1]["data"]["result"] == "failed"


def test_interrupted_rotation_is_completed_first(rot: BastionProc, mariadb: MariaDB) -> None:
    """As if a rotation died after ALTER USER, before the vault was updated."""
    settings, _ = load_checked(str(rot.config))
    store, _, vault = open_store(settings)
    vault.set("rot-db", "rotator#pending", "password", b"half-done-pw")
    store.dispose()
    mariadb.sql(f"ALTER USER '{USER}'@'127.0.0.1' IDENTIFIED BY 'half-done-pw';")
    res = rotate(rot)
    assert res.returncode == 0 and b"completed an interrupted rotation first" in res.stdout, res.stderr
    final = vaulted(rot)
    assert logs_in(mariadb, final) and not logs_in(mariadb, "half-done-pw")


def test_an_account_without_a_credential_is_refused(rot: BastionProc) -> None:
    res = rot.cli("credentials", "rotate", "rot-db/nobody", "--wait", "1")
    assert res.returncode != 0 and b"name an account" in res.stderr


def test_rotate_every_rotates_on_schedule(tmp_path: Path, mariadb: MariaDB) -> None:
    mariadb.sql("DROP USER IF EXISTS 'bastion_sched'@'127.0.0.1'; "
                "CREATE USER 'bastion_sched'@'127.0.0.1' IDENTIFIED BY 'sched-initial-pw';")
    config = mysql_bastion_config(tmp_path, mariadb)
    config["targets"].append({"name": "sched-db", "protocol": "mysql", "host": "127.0.0.1", "port": mariadb.port,
                              "accounts": ["sched"], "options": {"users": {"sched": "bastion_sched"},
                                                                 "rotate_every": 3}})
    path = write_config(tmp_path / "bastion.yaml", config)
    subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", "sched-db/sched", "--config",
                    str(path)], input=b"sched-initial-pw", check=True, capture_output=True, cwd=ROOT)
    b = start_bastion(tmp_path, config)
    try:
        done = wait_for(lambda: [e for e in b.journal() if e["type"] == "credential.rotate"
                                 and e["data"]["requested_by"] == "schedule"], timeout=30)  # type: ignore[index]
    finally:
        assert stop_bastion(b) == 0  # no further rotation while the outcome is checked
    assert done and all(e["data"]["result"] == "rotated" for e in done), done  # type: ignore[index]
    assert logs_in_as(mariadb, "bastion_sched", _vaulted(path, "sched-db", "sched"))
    assert not logs_in_as(mariadb, "bastion_sched", "sched-initial-pw")


def _vaulted(path: Path, target: str, account: str) -> bytes:
    settings, _ = load_checked(str(path))
    store, _, vault = open_store(settings)
    try:
        return vault.get(target, account).value
    finally:
        store.dispose()


def logs_in_as(db: MariaDB, user: str, password: bytes | str) -> bool:
    try:
        pymysql.connect(host="127.0.0.1", port=db.port, user=user, password=password, connect_timeout=10).close()
        return True
    except pymysql.err.OperationalError:
        return False
