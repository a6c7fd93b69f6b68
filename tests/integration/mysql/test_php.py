"""PHP mysqli persistent links (``p:``) through the bastion.

A long-lived PHP process (``php -S``: one process serves every request, so its persistent
links outlive a request) keeps the TLS connection to the bastion between requests; mysqlnd
resets a link it takes from the cache with COM_CHANGE_USER, which the bastion treats as a
new login on the same connection (the token proved again, a new session, the upstream
connection reset and kept). The PHP program is tests/integration/mysql/phpclient/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bastion.demo.services import Service, free_port, wait_port
from tests.integration.conftest import (
    BastionProc,
    mysql_bastion_config,
    service_failed,
    start_bastion,
    stop_bastion,
    wait_for,
)
from tests.integration.mysql.clients import bastion_cert

PHP_CLIENT = Path(__file__).with_name("phpclient")
BLOCKED = "DROP TABLE customers"  # the demo guardrail no-drop


@pytest.fixture(scope="module")
def php_bastion(tmp_path_factory: pytest.TempPathFactory, mariadb: Any) -> Iterator[BastionProc]:
    workdir = tmp_path_factory.mktemp("php-bastion")
    b = start_bastion(workdir, mysql_bastion_config(workdir, mariadb))
    yield b
    assert stop_bastion(b) == 0, b.log_text()[-3000:]


class PhpServer(Service):
    """``php -S`` serving phpclient/ in ONE process (no PHP_CLI_SERVER_WORKERS), with the
    bastion's address, CA and a token in its environment."""

    def __init__(self, workdir: Path, b: BastionProc, token: str, ca: Path | None = None) -> None:
        super().__init__("php", workdir, free_port())
        self.b, self.token, self.ca = b, token, ca

    def start(self) -> PhpServer:
        php = shutil.which("php")
        probe = subprocess.run([php or "php", "-r", "echo extension_loaded('mysqli') ? 'yes' : 'no';"],
                               capture_output=True, text=True) if php else None
        if probe is None or probe.stdout != "yes":
            service_failed("PHP mysqli", RuntimeError("php with mysqli is needed: run scripts/install.sh "
                                                      "(Debian packages php-cli php-mysql)"))
        env = {k: v for k, v in os.environ.items() if k != "PHP_CLI_SERVER_WORKERS"}
        env.update(BASTION_PORT=str(self.b.ports["mysql"]), BASTION_USER="shop-db", BASTION_TOKEN=self.token,
                   BASTION_CA=str(self.ca or bastion_cert(self.b)))
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([php or "php", "-d", "mysqli.allow_persistent=1", "-S",
                                          f"127.0.0.1:{self.port}", "-t", str(PHP_CLIENT)],
                                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        wait_port(self.port, self.proc, 20, "php -S", self.log)
        return self

    def request(self, **query: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/pconnect.php?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=60) as resp:
            body = resp.read().decode()
        try:
            return dict(json.loads(body))
        except ValueError:
            raise AssertionError(f"not JSON: {body[:2000]}\n{self.log.read_text(errors='replace')[-2000:]}") from None


@pytest.fixture
def php(tmp_path: Path, php_bastion: BastionProc) -> Iterator[PhpServer]:
    server = PhpServer(tmp_path / "php", php_bastion, php_bastion.token("alice", "dba", reason="INC-19")).start()
    yield server
    server.stop()


def starts_on(b: BastionProc, connection_id: int) -> list[dict[str, Any]]:
    return [e for e in b.journal() if e["type"] == "session.start"
            and e["data"].get("connection_id") == str(connection_id)]  # type: ignore[union-attr]


def test_persistent_link_is_reused_and_reset_across_requests(php: PhpServer, php_bastion: BastionProc) -> None:
    first = php.request(sql="SET @marker = 'request 1'", sql2=BLOCKED)
    assert "connect_error" not in first, first
    assert first["sql"] == {"ok": True}
    assert first["sql2"]["errno"] == 1142, first  # judged and refused by the bastion
    later = [php.request(sql="SELECT @marker", sql2=BLOCKED) for _ in range(2)]
    for out in later:
        assert "connect_error" not in out, out
        # the same PHP process, the same bastion connection and upstream thread...
        assert (out["pid"], out["thread_id"]) == (first["pid"], first["thread_id"]), (first, out)
        assert out["state"]["rows"][0][:2] == first["state"]["rows"][0][:2]
        assert out["before"]["cached_plinks"] >= 1, out  # the link came from mysqli's cache
        # ...but the session state was reset, and the statements are still judged
        assert out["sql"] == {"rows": [[None]]}, out
        assert out["sql2"]["errno"] == 1142 and "DROP" in out["sql2"]["error"], out
    starts = starts_on(php_bastion, first["thread_id"])
    assert len(starts) == 3, starts  # the login, then one COM_CHANGE_USER per reuse
    assert len({e["data"]["client_addr"] for e in starts}) == 1  # one TCP connection
    assert {e["data"]["upstream_thread"] for e in starts} == {int(first["state"]["rows"][0][0])}
    assert all(e["data"]["user"] == "alice" and e["data"]["tls"] for e in starts)
    changed = {e["session_id"] for e in starts[:2]}
    ends = wait_for(lambda: [e for e in php_bastion.journal() if e["type"] == "session.end"
                             and e["session_id"] in changed])
    assert len(ends) == 2 and all("COM_CHANGE_USER" in e["data"]["reason"] for e in ends), ends
    denied = [e for e in php_bastion.journal() if e["type"] == "query"
              and e["session_id"] in {s["session_id"] for s in starts} and "DROP" in json.dumps(e["data"])]
    assert len({e["session_id"] for e in denied}) == 3, denied  # one refusal recorded in each session
    assert php.token not in php_bastion.log_text()


def test_a_revoked_token_is_refused_when_the_link_is_reused(php: PhpServer, php_bastion: BastionProc) -> None:
    """mysqlnd proves the cached link's token again on reuse: after a revocation the
    COM_CHANGE_USER fails, mysqli drops the link and its fresh login fails too."""
    first = php.request(sql="SELECT 1")
    assert first["sql"] == {"rows": [["1"]]}, first
    token_id = php.token.split("_")[1]
    assert php_bastion.cli("tokens", "revoke", token_id).returncode == 0
    out = php.request(sql="SELECT 1")
    assert out.get("connect_error", {}).get("errno") == 1045, out
    assert "sql" not in out
    starts = starts_on(php_bastion, first["thread_id"])
    assert len(starts) == 1, starts  # no session was started by the refused change


def test_non_persistent_links_log_in_each_time(php: PhpServer, php_bastion: BastionProc) -> None:
    """The control: without ``p:`` every request is a new bastion connection."""
    outs = [php.request(persistent="0", sql="SELECT 1") for _ in range(2)]
    assert all("connect_error" not in out for out in outs), outs
    assert outs[0]["thread_id"] != outs[1]["thread_id"]
    assert [len(starts_on(php_bastion, out["thread_id"])) for out in outs] == [1, 1]


def test_the_bastion_certificate_is_verified(tmp_path: Path, php_bastion: BastionProc) -> None:
    """The script asks mysqlnd to verify the server certificate: a CA that did not sign the
    bastion's certificate fails the TLS handshake, before any token is sent."""
    other_ca = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=not-ours",
                    "-keyout", str(tmp_path / "other-ca.key"), "-out", str(other_ca)], check=True, capture_output=True)
    server = PhpServer(tmp_path / "php", php_bastion, php_bastion.token(), ca=other_ca).start()
    try:
        out = server.request(sql="SELECT 1")
    finally:
        server.stop()
    assert out.get("connect_error", {}).get("errno") == 2002, out
    assert "sql" not in out
