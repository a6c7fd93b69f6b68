"""Clients beyond the usual set: strict certificate verification against the bastion's
private CA, and mysql_native_password-only drivers (Node ``mysql`` 2.x) with the listener
option ``auth_plugins``."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from cryptography import x509

from tests.integration.conftest import BastionProc, mysql_bastion_config, service_failed, start_bastion, stop_bastion
from tests.integration.mysql.clients import bastion_cert, pymysql_conn

NODE_CLIENT = Path(__file__).parent / "nodeclient"
NATIVE = ["caching_sha2_password", "mysql_native_password"]


def _bastion(workdir: Path, mariadb: Any, auth_plugins: list[str] | None) -> BastionProc:
    config = mysql_bastion_config(workdir, mariadb)
    config["tls"] = {"hostnames": ["localhost", "bastion.test"]}  # 127.0.0.1 is the listeners' bind address
    if auth_plugins is not None:
        config["listeners"]["mysql"]["options"] = {"auth_plugins": auth_plugins}
    return start_bastion(workdir, config)


@pytest.fixture(scope="module")
def native_bastion(tmp_path_factory: pytest.TempPathFactory, mariadb: Any) -> Iterator[BastionProc]:
    b = _bastion(tmp_path_factory.mktemp("native"), mariadb, NATIVE)
    yield b
    assert stop_bastion(b) == 0


@pytest.fixture(scope="module")
def default_bastion(tmp_path_factory: pytest.TempPathFactory, mariadb: Any) -> Iterator[BastionProc]:
    b = _bastion(tmp_path_factory.mktemp("default-auth"), mariadb, None)
    yield b
    assert stop_bastion(b) == 0


# --- certificates -------------------------------------------------------------------------


def strict_context(ca: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_pymysql_verifies_the_chain_and_host_name(native_bastion: BastionProc, host: str) -> None:
    ca = bastion_cert(native_bastion)
    assert ca.name == "ca.crt"
    token = native_bastion.token()
    with pymysql.connect(host=host, port=native_bastion.ports["mysql"], user="shop-db", password=token,
                         database="shop", ssl=strict_context(ca), connect_timeout=10) as conn:
        der = conn._sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers")
            assert cur.fetchone() == (5,)
    leaf = x509.load_der_x509_certificate(der)
    # rustls' CaUsedAsEndEntity rule, which OpenSSL does not apply to a self-signed anchor.
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.issuer == x509.load_pem_x509_certificate(ca.read_bytes()).subject


def test_pymysql_refuses_a_name_not_in_the_certificate(native_bastion: BastionProc) -> None:
    ctx = strict_context(bastion_cert(native_bastion))
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(host="127.0.0.1", port=native_bastion.ports["mysql"], user="shop-db",
                        password=native_bastion.token(), ssl=_with_server_name(ctx, "db.example.org"),
                        connect_timeout=10)
    assert "certificate" in str(info.value).lower() or "hostname" in str(info.value).lower()


def _with_server_name(ctx: ssl.SSLContext, name: str) -> ssl.SSLContext:
    """A context whose wrap_socket checks ``name`` instead of the host PyMySQL dialled."""
    wrap = ctx.wrap_socket

    def wrap_socket(sock: Any, server_hostname: str | None = None, **kw: Any) -> ssl.SSLSocket:
        return wrap(sock, server_hostname=name, **kw)

    ctx.wrap_socket = wrap_socket  # type: ignore[method-assign]
    return ctx


def test_openssl_verifies_the_served_chain_strictly(native_bastion: BastionProc) -> None:
    ca = bastion_cert(native_bastion)
    leaf = native_bastion.workdir / "var" / "tls" / "bastion.crt"
    res = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname",
                          "bastion.test", "-CAfile", str(ca), str(leaf)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


# --- mysql_native_password ------------------------------------------------------------------


def node(b: BastionProc, token: str, sql: str, user: str = "shop-db", tls: bool = True) -> dict[str, Any]:
    if not shutil.which("node") or not (NODE_CLIENT / "node_modules" / "mysql").is_dir():
        service_failed("Node mysql", RuntimeError("run scripts/install.sh (npm ci in tests/integration/mysql/"
                                                  "nodeclient)"))
    env = {**os.environ, "MYSQL_PWD": token, "BASTION_NO_TLS": "" if tls else "1"}
    res = subprocess.run(["node", "client.js", "127.0.0.1", str(b.ports["mysql"]), user, str(bastion_cert(b)), sql],
                         cwd=NODE_CLIENT, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout, res.stderr
    return dict(json.loads(res.stdout))


def test_node_mysql_logs_in_with_native_password(native_bastion: BastionProc) -> None:
    token = native_bastion.token("alice", "dba", reason="INC-7")
    out = node(native_bastion, token, "SELECT CURRENT_USER() AS u, COUNT(*) AS n FROM shop.customers")
    assert out.get("version", "").startswith("2."), out
    assert out["rows"][0]["u"].startswith("bastion_admin@") and out["rows"][0]["n"] == 5
    starts = [e for e in native_bastion.journal() if e["type"] == "session.start"
              and e["data"]["token_id"] == token.split("_")[1]]  # type: ignore[index]
    assert starts and starts[-1]["data"]["user"] == "alice" and starts[-1]["data"]["tls"]  # type: ignore[index]
    assert token not in native_bastion.log_text()


def test_node_mysql_named_user_must_own_the_token(native_bastion: BastionProc) -> None:
    token = native_bastion.token("alice", "dba")
    assert node(native_bastion, token, "SELECT 1 AS one", user="alice#shop-db")["rows"] == [{"one": 1}]
    refused = node(native_bastion, token, "SELECT 1", user="bob#shop-db")["error"]
    assert refused["errno"] == 1045


@pytest.mark.parametrize("case", ["wrong-token", "revoked", "empty"])
def test_node_mysql_bad_tokens_are_refused(native_bastion: BastionProc, case: str) -> None:
    token = native_bastion.token()
    if case == "wrong-token":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif case == "revoked":
        assert native_bastion.cli("tokens", "revoke", token.split("_")[1]).returncode == 0
    elif case == "empty":
        token = ""
    err = node(native_bastion, token, "SELECT 1")["error"]
    assert err["errno"] == 1045 and "invalid, expired or revoked" in err["message"], err


def test_node_mysql_without_tls_is_refused_before_any_secret(native_bastion: BastionProc) -> None:
    err = node(native_bastion, native_bastion.token(), "SELECT 1", tls=False)["error"]
    assert err["errno"] == 3159, err


def test_tokens_without_native_hash_are_refused_with_a_clear_message(native_bastion: BastionProc) -> None:
    """Tokens issued before the native hash was stored (NULL) cannot use mysql_native_password,
    and the client is told why; they still log in with caching_sha2_password."""
    token = native_bastion.token()
    with sqlite3.connect(native_bastion.workdir / "var" / "state.db") as db:
        db.execute("UPDATE tokens SET native_hash = NULL WHERE id = ?", (token.split("_")[1],))
    err = node(native_bastion, token, "SELECT 1")["error"]
    assert err["errno"] == 1045 and "issue a new token" in err["message"], err
    with pymysql_conn(native_bastion, token) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_node_mysql_without_the_option_keeps_todays_refusal(default_bastion: BastionProc) -> None:
    """A listener without mysql_native_password switches the client to caching_sha2_password,
    which Node mysql 2.x cannot speak."""
    err = node(default_bastion, default_bastion.token(), "SELECT 1")["error"]
    assert err["code"] == "UNSUPPORTED_AUTH_METHOD", err


class NativeFirstConnection(pymysql.connections.Connection):  # type: ignore[misc]
    """PyMySQL answering the greeting with mysql_native_password, as older drivers do
    (PyMySQL otherwise follows the plugin the server's greeting names)."""

    def _get_server_information(self) -> None:
        super()._get_server_information()
        self._auth_plugin_name = "mysql_native_password"


@pytest.mark.parametrize("which", ["native", "default"])
def test_pymysql_forced_to_native_password(native_bastion: BastionProc, default_bastion: BastionProc,
                                           which: str) -> None:
    """With the option the native answer is verified as is; without it the bastion switches
    the client to caching_sha2_password (PyMySQL follows)."""
    b = native_bastion if which == "native" else default_bastion
    token = b.token()
    with NativeFirstConnection(host="localhost", port=b.ports["mysql"], user="shop-db", password=token,
                               database="shop", ssl=strict_context(bastion_cert(b)), connect_timeout=10) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers")
            assert cur.fetchone() == (5,)
    with pytest.raises(pymysql.err.OperationalError) as info:
        NativeFirstConnection(host="localhost", port=b.ports["mysql"], user="shop-db", password=token + "x",
                              ssl=strict_context(bastion_cert(b)), connect_timeout=10)
    assert info.value.args[0] == 1045


@pytest.mark.parametrize("which", ["native", "default"])
def test_mariadb_cli_with_default_auth_native(native_bastion: BastionProc, default_bastion: BastionProc,
                                              which: str) -> None:
    b = native_bastion if which == "native" else default_bastion
    res = subprocess.run(["mariadb", "--no-defaults", "-h", "localhost", "--protocol=tcp", "-P", str(b.ports["mysql"]),
                          f"--ssl-ca={bastion_cert(b)}", "--ssl-verify-server-cert",
                          "--default-auth=mysql_native_password", "-u", "shop-db", f"-p{b.token()}", "shop", "-B",
                          "-N", "-e", "SELECT COUNT(*) FROM customers"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "5", res.stderr
