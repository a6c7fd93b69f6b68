"""Client-leg authentication: token, TLS-first, refusals that send nothing upstream."""

from __future__ import annotations

import socket
import ssl

import pymysql
import pytest

from tests.integration.conftest import BastionProc


def connect(b: BastionProc, user: str, password: str, **kw):  # type: ignore[no-untyped-def]
    return pymysql.connect(host="127.0.0.1", port=b.ports["mysql"], user=user, password=password,
                           ssl={"check_hostname": False, "verify_mode": ssl.CERT_NONE}, connect_timeout=10, **kw)


def upstream_logins(mariadb) -> int:  # type: ignore[no-untyped-def]
    out = mariadb.sql("SHOW GLOBAL STATUS LIKE 'Connections'")
    return int(out.split()[1])


def test_token_login_reaches_target(bastion):
    token = bastion.token("alice", "dba", reason="INC-42")
    with connect(bastion, "shop-db", token, database="shop") as conn, conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER(), DATABASE(), COUNT(*) FROM customers")
        user, db, count = cur.fetchone()
    assert user.startswith("bastion_admin@") and db == "shop" and count == 5


def test_role_selects_account(bastion):
    token = bastion.token("bob", "developers")
    with connect(bastion, "shop-db", token) as conn, conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone()[0].startswith("bastion_ro@")
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(bastion, "shop-db/admin", token)
    assert info.value.args[0] == 1045


@pytest.mark.parametrize(
    ("user", "password", "expected"),
    [
        ("shop-db", "", "invalid, expired or revoked"),
        ("shop-db", "bst_0000_wrong", "invalid, expired or revoked"),
        ("shop-db", "not-a-token", "invalid, expired or revoked"),
        ("no-such-db", "TOKEN", "no MySQL target"),
        ("bad name!", "TOKEN", "must name a target"),
        ("mallory#shop-db", "TOKEN", "another user"),
    ],
    ids=["empty", "wrong-token", "garbage", "unknown-target", "bad-username", "user-mismatch"],
)
def test_refused_logins_send_nothing_upstream(bastion, mariadb, user, password, expected):
    token = bastion.token("alice", "dba")
    before = upstream_logins(mariadb)
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(bastion, user, token if password == "TOKEN" else password)
    assert info.value.args[0] == 1045
    assert expected in info.value.args[1]
    assert upstream_logins(mariadb) == before + 1  # only our own SHOW STATUS connection


def test_no_access_rule(bastion):
    token = bastion.token("eve", "guests")
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(bastion, "shop-db", token)
    assert "access to shop-db denied" in info.value.args[1]


def test_expired_and_revoked(bastion):
    import json
    import time

    res = bastion.cli("tokens", "issue", "--user", "alice", "--groups", "dba", "--ttl", "1", "--json")
    expiring = json.loads(res.stdout)["token"]
    revoked = bastion.token("alice", "dba")
    token_id = revoked.split("_")[1]
    assert bastion.cli("tokens", "revoke", token_id).returncode == 0
    time.sleep(1.5)
    for token in (expiring, revoked):
        with pytest.raises(pymysql.err.OperationalError) as info:
            connect(bastion, "shop-db", token)
        assert info.value.args[0] == 1045


def test_plain_tcp_is_refused_before_any_secret(bastion):
    """A client that does not start TLS gets ERR 3159 right after the greeting."""
    token = bastion.token("alice", "dba")
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(host="127.0.0.1", port=bastion.ports["mysql"], user="shop-db", password=token,
                        ssl_disabled=True, connect_timeout=10)
    assert info.value.args[0] == 3159
    # and at the raw level: greeting, then a non-SSL handshake response -> ERR, no auth request
    with socket.create_connection(("127.0.0.1", bastion.ports["mysql"]), timeout=5) as s:
        greeting = s.recv(4096)
        assert greeting[4] == 10  # protocol v10
        response = (0x000FA685 & ~0x800).to_bytes(4, "little") + b"\0\0\0\1" + b"\x21" + b"\0" * 23 + b"shop-db\0\0"
        s.sendall(len(response).to_bytes(3, "little") + b"\x01" + response)
        reply = s.recv(4096)
        assert reply[4] == 0xFF and int.from_bytes(reply[5:7], "little") == 3159
