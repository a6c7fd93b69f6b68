"""The state store on MariaDB (several bastion nodes sharing state), not only SQLite."""

from __future__ import annotations

import base64
import os
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bastion.approvals import ApprovalBroker
from bastion.core.types import Decision, Identity, Query
from bastion.state.directory import LoginLinks, SSHKeys, UserDirectory
from bastion.state.store import StateStore, saml_assertions
from bastion.state.tokens import TokenStore
from bastion.state.vault import Vault, VaultError
from tests.conftest import make_identity, make_session


@pytest.fixture(scope="module")
def store(mariadb):
    mariadb.sql("DROP DATABASE IF EXISTS bastion_state; CREATE DATABASE bastion_state CHARACTER SET utf8mb4;")
    s = StateStore(f"mysql+pymysql://bastion_admin:admin-secret-pw@127.0.0.1:{mariadb.port}/bastion_state")
    assert s.migrate() == s.migrate()  # idempotent
    yield s
    s.dispose()


def test_tables_created(store, mariadb):
    tables = set(mariadb.sql("SHOW TABLES", database="bastion_state").split())
    assert {"tokens", "credentials", "approvals", "sessions", "saml_assertions", "login_links", "ssh_keys",
            "users", "meta"} <= tables


def test_tokens_and_vault(store):
    tokens = TokenStore(store)
    token, info = tokens.issue("alice", {"dba"}, 60, reason="INC-1")
    assert tokens.verify(token).user == "alice"
    assert tokens.revoke(info.id) and tokens.verify(token) is None
    vault = Vault(store, os.urandom(32))
    vault.set("db", "admin", "password", b"pw" * 40)
    assert vault.get("db", "admin").value == b"pw" * 40
    assert vault.rotate(os.urandom(32)) == 1
    with pytest.raises(VaultError):
        Vault(store, base64.b64decode(base64.b64encode(os.urandom(32)))).get("db", "admin")


def test_replay_cache_and_links_and_directory(store):
    assert store.remember_once(saml_assertions, "id-1", 2e9)
    assert not store.remember_once(saml_assertions, "id-1", 2e9)
    links = LoginLinks(store)
    code = links.open("ssh", "web01", "127.0.0.1:5000")
    assert links.approve(code, make_identity("bob", ("developers",)))
    assert links.consume(code).subject == "bob" and links.consume(code) is None
    UserDirectory(store).remember(make_identity("carol", ("approvers",)), frozenset({"approver"}))
    assert UserDirectory(store).get("carol").groups == {"approvers"}
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test"
    added = SSHKeys(store).add("bob", key)
    assert SSHKeys(store).list("bob")[0].fingerprint == added.fingerprint


def test_approvals_across_processes_share_mariadb(store):
    broker = ApprovalBroker(SimpleNamespace(store=store, maskers=[]), poll=0.02)
    other_node = ApprovalBroker(SimpleNamespace(store=StateStore(store.url), maskers=[]))
    import threading

    event = Query(session=make_session(make_identity("alice", ("dba",))), sql="DELETE FROM t WHERE id = 1")
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("d", broker.hold(event, Decision.review(
        rule="r", approvers=frozenset({"approvers"}), hold_seconds=10))))
    t.start()
    import time

    deadline = time.monotonic() + 10
    while not other_node.list("pending") and time.monotonic() < deadline:
        time.sleep(0.05)
    other_node.decide(other_node.list("pending")[0].id, Identity("carol", groups=frozenset({"approvers"})), True)
    t.join(10)
    assert out["d"].rule == "r" and out["d"].verdict.name == "ALLOW"


def test_failed_logins_on_several_nodes_at_once_are_all_counted(store):
    """Each node counts with a locked read-modify-write: racing failures (the first ones
    racing to insert the key too) lose no count."""
    import threading

    from bastion.config.model import ThrottleConfig
    from bastion.state.store import login_failures
    from bastion.state.throttle import LoginThrottle

    cfg = ThrottleConfig(free_attempts=1000, window=600)
    nodes = [LoginThrottle(StateStore(store.url), cfg) for _ in range(4)]
    errors: list[BaseException] = []

    def fail(node: LoginThrottle) -> None:
        try:
            for _ in range(15):
                node.failed(["addr:198.51.100.7", "user:racer"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fail, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with store.engine.begin() as conn:
        counts = dict(conn.execute(sa.select(login_failures.c.key, login_failures.c.failures)
                                   .where(login_failures.c.key.in_(["addr:198.51.100.7", "user:racer"]))).all())
    assert counts == {"addr:198.51.100.7": 60, "user:racer": 60}
    for n in nodes:
        n.store.dispose()


def test_approvers_deciding_at_once_on_two_nodes_lose_no_decision(store):
    import threading

    event = Query(session=make_session(make_identity("alice", ("dba",))), sql="DELETE FROM t WHERE id = 2")
    creator = ApprovalBroker(SimpleNamespace(store=store, maskers=[]))
    nodes = [ApprovalBroker(SimpleNamespace(store=StateStore(store.url), maskers=[])) for _ in range(2)]
    for round_ in range(5):
        approval = creator._create(event, Decision.review(rule="r", approvers=frozenset({"approvers"}),
                                                          approvals_needed=2, hold_seconds=60),
                                   "query", event.sql, f"fp-{round_}", None)
        barrier = threading.Barrier(2)

        def decide(node: ApprovalBroker, who: str, approval_id: str = approval.id,
                   barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            node.decide(approval_id, Identity(who, groups=frozenset({"approvers"})), True)

        threads = [threading.Thread(target=decide, args=(n, w)) for n, w in zip(nodes, ("carol", "dave"), strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        final = creator.get(approval.id)
        assert final is not None and final.status == "approved"
        assert sorted(d["by"] for d in final.decisions) == ["carol", "dave"]
    for n in nodes:
        n.ctx.store.dispose()


def test_a_login_link_opened_on_one_node_is_approved_on_another_and_used_once(store):
    import threading

    node_a, node_b = LoginLinks(store), LoginLinks(StateStore(store.url))
    code = node_a.open("ssh", "web01", "192.0.2.4:50000")
    out: dict[str, object] = {}
    waiter = threading.Thread(target=lambda: out.setdefault("who", node_a.wait(code, 10, interval=0.05)))
    waiter.start()
    assert node_b.approve(code, make_identity("bob", ("developers",)))
    assert not node_b.approve(code, make_identity("mallory", ("developers",)))  # decided once
    waiter.join(15)
    assert getattr(out["who"], "subject", None) == "bob"
    assert node_b.consume(code) is None  # the waiting node used it
    node_b.store.dispose()
