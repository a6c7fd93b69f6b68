"""Guardrails through a real client and the real MariaDB: bypass corpus blocked, benign corpus
passes, DROP denied, DELETE held until an approver decides (and the requester cannot)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pymysql
import pytest

from bastion.approvals import ApprovalBroker, ApprovalError
from bastion.core.types import Identity
from bastion.demo.services import free_port
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, write_config
from bastion.state.store import StateStore
from tests.integration.conftest import start_bastion, stop_bastion
from tests.integration.mysql.clients import pymysql_conn
from tests.unit.policies.sql.corpus import BENIGN, BYPASS

BLOCKED_KINDS = {"ddl", "dcl", "admin", "file", "exec", "unknown"}
BLOCKED_FLAGS = {"unbounded_write", "outfile", "load_data", "load_file", "dynamic_sql", "set_global", "set_log_bin",
                 "multi_statement", "cte_write", "sleep", "procedure_call", "lock", "grant", "unparseable"}
STRICT = [
    {"id": "strict-kinds", "action": "deny", "match": {"kinds": sorted(BLOCKED_KINDS)}},
    {"id": "strict-flags", "action": "deny", "match": {"flags": sorted(BLOCKED_FLAGS)}},
    {"id": "short-hold", "action": "review", "match": {"keywords": ["DELETE"], "tables": ["held"]},
     "review": {"approvers": ["approvers"], "hold_seconds": 2}},
    {"id": "long-hold", "action": "review", "match": {"keywords": ["DELETE"], "tables": ["held_long"]},
     "review": {"approvers": ["approvers"], "hold_seconds": 60}},
]


class Receiver:
    """A local HTTP endpoint standing in for a Slack incoming webhook."""

    def __init__(self) -> None:
        import http.server
        import json

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def webhook():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def strict_token(strict):
    return strict.token("alice", "dba")


@pytest.fixture(scope="module")
def strict(tmp_path_factory, mariadb, webhook):
    import subprocess
    import sys

    import yaml

    workdir = tmp_path_factory.mktemp("strict")
    ports = {"web": free_port(), "mysql": free_port()}
    config = demo_config(workdir, db=mariadb, sshd=None, idp_metadata_url=None, ports=ports, protocols={"mysql"},
                         sp_base_url="http://127.0.0.1")
    (workdir / "policies" / "guardrails.yaml").write_text(yaml.safe_dump({"guardrails": STRICT}))
    config["approvals"] = {"webhook_url": webhook.url}
    path = write_config(workdir / "bastion.yaml", config)
    for account, (_u, password, _g) in UPSTREAM_ACCOUNTS.items():
        subprocess.run([sys.executable, "-m", "bastion.cli", "credentials", "set", f"shop-db/{account}", "--config",
                        str(path)], input=password.encode(), check=True, capture_output=True)
    mariadb.sql("CREATE DATABASE IF NOT EXISTS guard; CREATE TABLE IF NOT EXISTS guard.t (id INT PRIMARY KEY);"
                "INSERT IGNORE INTO guard.t VALUES (1), (2);"
                "CREATE TABLE IF NOT EXISTS guard.held (id INT PRIMARY KEY); INSERT IGNORE INTO guard.held VALUES (1);")
    b = start_bastion(workdir, config)
    yield b
    assert stop_bastion(b) == 0


def should_block(case) -> bool:  # type: ignore[no-untyped-def]
    return case.kind.value in BLOCKED_KINDS or bool(case.flags & BLOCKED_FLAGS)


BYPASS_CASES = [c for c in BYPASS if not c.ansi and should_block(c) and len(c.sql) < 60000]


@pytest.mark.parametrize("case", BYPASS_CASES, ids=[c.id for c in BYPASS_CASES])
def test_bypass_corpus_is_blocked(strict, strict_token, mariadb, case):
    with pymysql_conn(strict, strict_token, database="guard") as conn, conn.cursor() as cur:
        if case.nbe:
            cur.execute("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute(case.sql)
        if "kill" in case.flags:
            # KILL is mapped by the bastion to the user's own connections only, never passed through
            assert info.value.args[0] == 1094 and "bastion" in info.value.args[1]
        else:
            assert info.value.args[0] == 1142, info.value.args
            assert "blocked by policy" in info.value.args[1]
    assert mariadb.sql("SELECT COUNT(*) FROM guard.t").strip() == "2"


@pytest.mark.parametrize(("case_id", "sql", "kind"), BENIGN, ids=[b[0] for b in BENIGN])
def test_benign_corpus_passes(strict, strict_token, case_id, sql, kind):
    with pymysql_conn(strict, strict_token, database="guard") as conn, conn.cursor() as cur:
        try:
            cur.execute(sql)
        except pymysql.err.MySQLError as exc:  # missing tables etc. come from MariaDB, never from the bastion
            assert exc.args[0] != 1142, exc.args
            assert "bastion" not in str(exc.args[1])


def test_denied_prepare_cannot_be_executed(strict, strict_token, mariadb):
    """COM_STMT_PREPARE of a denied statement never reaches MariaDB, and EXECUTE of any id
    the bastion did not see prepared (including MariaDB's "last prepared" -1) is refused."""
    import struct

    with pymysql_conn(strict, strict_token, database="guard") as conn:
        conn._execute_command(0x16, "DROP TABLE t")  # COM_STMT_PREPARE
        with pytest.raises(pymysql.err.MySQLError) as info:
            conn._read_packet()
        assert info.value.args[0] == 1142
        for stmt_id in (1, 0xFFFFFFFF):
            conn._execute_command(0x17, struct.pack("<IBI", stmt_id, 0, 1))  # COM_STMT_EXECUTE
            with pytest.raises(pymysql.err.MySQLError) as info:
                conn._read_packet()
            assert info.value.args[0] == 1243
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM t")
            assert cur.fetchone() == (2,)
    assert mariadb.sql("SELECT COUNT(*) FROM guard.t").strip() == "2"


# ------------------------------------------------------------------ demo rules: deny and hold


def approver_side(bastion):  # type: ignore[no-untyped-def]
    store = StateStore(f"sqlite:///{bastion.workdir}/var/state.db")
    return ApprovalBroker(SimpleNamespace(store=store, maskers=[])), store


def run_in_thread(fn):  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except Exception as exc:  # noqa: BLE001
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    return t, out


def wait_pending(broker, requester: str, timeout: float = 10):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [a for a in broker.list("pending") if a.requester == requester]
        if mine:
            return mine[0]
        time.sleep(0.05)
    raise AssertionError("no pending request appeared")


CAROL = Identity(subject="carol", groups=frozenset({"approvers", "auditors"}))


def test_drop_is_denied_with_rule_and_reference(bastion, mariadb):
    token = bastion.token("alice", "dba")
    with pymysql_conn(bastion, token) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute("DROP TABLE orders")
        assert info.value.args[0] == 1142
        assert "no-drop" in info.value.args[1] and "ref " in info.value.args[1]
        cur.execute("SELECT COUNT(*) FROM orders")  # still usable, table still there
        assert cur.fetchone()[0] >= 1


def test_held_delete_runs_after_approval(bastion, mariadb):
    mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (5, 1.00, 'to-delete-1')")
    broker, store = approver_side(bastion)
    token = bastion.token("alice", "dba")
    with pymysql_conn(bastion, token) as conn:
        t, out = run_in_thread(lambda: conn.cursor().execute("DELETE FROM orders WHERE status = 'to-delete-1'"))
        req = wait_pending(broker, "alice")
        assert "DELETE FROM orders" in req.statement and req.rule == "guardrails:delete-needs-approval"
        alice = Identity(subject="alice", groups=frozenset({"dba", "approvers"}))
        with pytest.raises(ApprovalError, match="own request"):
            broker.decide(req.id, alice, True)
        assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'to-delete-1'").strip() == "1"
        broker.decide(req.id, CAROL, True, "INC-7")
        t.join(15)
        assert out.get("value") == 1, out
        conn.commit()
    assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'to-delete-1'").strip() == "0"
    store.dispose()


def test_held_delete_denied(bastion, mariadb):
    mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (5, 1.00, 'keep-me')")
    broker, store = approver_side(bastion)
    token = bastion.token("bob", "developers")
    with pymysql_conn(bastion, token) as conn:
        t, out = run_in_thread(lambda: conn.cursor().execute("DELETE FROM orders WHERE status = 'keep-me'"))
        req = wait_pending(broker, "bob")
        broker.decide(req.id, CAROL, False, "not now")
        t.join(15)
        err = out.get("error")
        assert isinstance(err, pymysql.err.MySQLError) and req.id in err.args[1] and "not now" in err.args[1]
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'keep-me'").strip() == "1"
    store.dispose()


def test_hold_times_out_and_webhook_is_told(strict, strict_token, mariadb, webhook):
    with pymysql_conn(strict, strict_token, database="guard") as conn, conn.cursor() as cur:
        started = time.monotonic()
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute("DELETE FROM held WHERE id = 1")
        assert 1.5 < time.monotonic() - started < 10
        assert "REQ-" in info.value.args[1] and "hold time" in info.value.args[1]
        cur.execute("SELECT COUNT(*) FROM held")
        assert cur.fetchone() == (1,)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(webhook.received) < 2:
        time.sleep(0.1)
    events = [m["bastion"]["event"] for m in webhook.received]
    assert events[:2] == ["new", "expired"], webhook.received
    assert "DELETE FROM held" in webhook.received[0]["text"] and webhook.received[0]["bastion"]["requester"] == "alice"


def test_kill_query_cancels_a_hold(strict, strict_token, mariadb):
    """The CLI's Ctrl-C sends KILL QUERY <id> on a second connection: a held statement is dropped."""
    with pymysql_conn(strict, strict_token, database="guard") as conn:
        t, out = run_in_thread(lambda: conn.cursor().execute("DELETE FROM held_long WHERE id = 1"))
        time.sleep(0.8)
        with pymysql_conn(strict, strict_token, database="guard") as other, other.cursor() as cur:
            cur.execute(f"KILL QUERY {conn.server_thread_id[0]}")
        t.join(10)
        err = out.get("error")
        assert isinstance(err, pymysql.err.MySQLError) and "cancelled by the requester" in err.args[1], out
