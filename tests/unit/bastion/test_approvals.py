from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from bastion.approvals import ApprovalBroker, ApprovalError
from bastion.core.types import Decision, Query, Verdict
from bastion.state.store import StateStore
from tests.conftest import make_identity, make_session

REVIEW = Decision.review(rule="guardrails:delete", approvers=frozenset({"approvers"}), hold_seconds=5)


@pytest.fixture
def broker(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    store.migrate()
    notes: list[tuple[str, str]] = []
    b = ApprovalBroker(SimpleNamespace(store=store, maskers=[]), poll=0.02,
                       notify=lambda kind, a: notes.append((kind, a.status)))
    b.notes = notes  # type: ignore[attr-defined]
    yield b
    store.dispose()


ALICE = make_identity("alice", ("dba",))
CAROL = make_identity("carol", ("approvers",))
DAVE = make_identity("dave", ("approvers",))
BOB = make_identity("bob", ("developers",))


def held(broker, decision=REVIEW, sql="DELETE FROM orders WHERE id = 1"):  # type: ignore[no-untyped-def]
    event = Query(session=make_session(ALICE), sql=sql)
    out: dict[str, Decision] = {}
    t = threading.Thread(target=lambda: out.setdefault("d", broker.hold(event, decision)))
    t.start()
    for _ in range(1000):
        pending = broker.list("pending")
        # the holder notifies right after it stored the request: wait for both, so a test's
        # decision cannot overtake the "new" notice on a loaded machine
        if pending and len(broker.notes) >= 1:  # type: ignore[attr-defined]
            return t, out, pending[0]
        time.sleep(0.01)
    raise AssertionError("request never appeared")


def test_approve_releases(broker):
    t, out, req = held(broker)
    assert req.requester == "alice" and req.statement.startswith("DELETE") and req.approvers == {"approvers"}
    broker.decide(req.id, CAROL, True, "ok, ticket 12")
    t.join(5)
    assert out["d"].verdict is Verdict.ALLOW
    assert broker.notes == [("new", "pending"), ("approved", "approved")]


def test_deny_with_comment(broker):
    t, out, req = held(broker)
    broker.decide(req.id, CAROL, False, "not during business hours")
    t.join(5)
    assert out["d"].verdict is Verdict.DENY and req.id in out["d"].message
    assert "not during business hours" in out["d"].message


def test_timeout_denies(broker):
    t, out, req = held(broker, Decision.review(rule="r", hold_seconds=0.3))
    t.join(5)
    assert out["d"].verdict is Verdict.DENY and "hold time" in out["d"].reason
    assert broker.get(req.id).status == "expired"
    with pytest.raises(ApprovalError):
        broker.decide(req.id, CAROL, True)


@pytest.mark.parametrize(("who", "why"), [(ALICE, "own request"), (BOB, "only members")])
def test_who_may_not_approve(broker, who, why):
    t, out, req = held(broker)
    with pytest.raises(ApprovalError, match=why):
        broker.decide(req.id, who, True)
    broker.decide(req.id, CAROL, False)
    t.join(5)


def test_two_approvals_needed(broker):
    t, out, req = held(broker, Decision.review(rule="r", approvers=frozenset({"approvers"}), approvals_needed=2,
                                               hold_seconds=5))
    assert broker.decide(req.id, CAROL, True).status == "pending"
    with pytest.raises(ApprovalError, match="already decided"):
        broker.decide(req.id, CAROL, True)
    assert broker.decide(req.id, DAVE, True).status == "approved"
    t.join(5)
    assert out["d"].verdict is Verdict.ALLOW


def test_window_lets_the_very_same_statement_pass_again(broker):
    decision = Decision.review(rule="r", approvers=frozenset({"approvers"}), hold_seconds=5, window_seconds=60)
    t, out, req = held(broker, decision, "DELETE FROM orders WHERE c LIKE 'zzz'")
    broker.decide(req.id, CAROL, True)
    t.join(5)
    again = broker.hold(Query(session=make_session(ALICE), sql="DELETE  FROM orders /* retry */ WHERE c LIKE 'zzz'"),
                        decision)
    assert again.verdict is Verdict.ALLOW and "window" in again.reason


@pytest.mark.parametrize(("sql", "ansi"), [
    ("DELETE FROM orders WHERE c LIKE '%'", False),  # another value: another statement
    ('DELETE FROM orders WHERE c LIKE "zzz"', True),  # under ANSI_QUOTES "zzz" is a column
])
def test_window_never_covers_another_statement(broker, sql, ansi):
    decision = Decision.review(rule="r", approvers=frozenset({"approvers"}), hold_seconds=5, window_seconds=60)
    t, out, req = held(broker, decision, 'DELETE FROM orders WHERE c LIKE "zzz"')
    broker.decide(req.id, CAROL, True)
    t.join(5)
    event = Query(session=make_session(ALICE), sql=sql, ansi_quotes=ansi)
    other = threading.Thread(target=broker.hold, args=(event, decision))
    other.start()
    time.sleep(0.2)
    assert len(broker.list("pending")) == 1  # a different statement is held again
    broker.decide(broker.list("pending")[0].id, CAROL, False)
    other.join(5)
