from __future__ import annotations

import time

import pytest

from bastion.core.pipeline import Pipeline
from bastion.core.types import Connect, Decision, Event, Query, Verdict
from tests.conftest import make_session


class Fixed:
    def __init__(self, name: str, decision: Decision | None) -> None:
        self.name = name
        self.decision = decision
        self.calls = 0

    def decide(self, event: Event) -> Decision | None:
        self.calls += 1
        return self.decision


class Boom:
    name = "boom"

    def decide(self, event: Event) -> Decision | None:
        raise RuntimeError("bug in stage")


class Slow:
    name = "slow"

    def decide(self, event: Event) -> Decision | None:
        time.sleep(0.05)
        return Decision.allow()


class Busy:
    """Burns CPU (not wall time) for 50 ms."""

    name = "busy"

    def decide(self, event: Event) -> Decision | None:
        end = time.thread_time() + 0.05
        while time.thread_time() < end:
            pass
        return Decision.allow()


class Weird:
    name = "weird"

    def decide(self, event: Event) -> object:
        return "yes"


A = Decision.allow(rule="a")
R1 = Decision.review(rule="r1", approvers=frozenset({"x"}), approvals_needed=1, hold_seconds=60)
R2 = Decision.review(rule="r2", approvers=frozenset({"y"}), approvals_needed=2, hold_seconds=30)
D = Decision.deny(rule="d")


def query() -> Query:
    return Query(session=make_session(), sql="SELECT 1")


def connect() -> Connect:
    return Connect(session=make_session())


@pytest.mark.parametrize(
    ("decisions", "event", "verdict", "rule"),
    [
        ([A], query, Verdict.ALLOW, "a"),
        ([A, R1], query, Verdict.REVIEW, "r1"),
        ([R1, A], query, Verdict.REVIEW, "r1"),
        ([A, R1, D], query, Verdict.DENY, "d"),
        ([D, A], query, Verdict.DENY, "d"),
        ([None, None], query, Verdict.ALLOW, "pipeline:default"),
        ([None, None], connect, Verdict.DENY, "pipeline:no-access"),
        ([], connect, Verdict.DENY, "pipeline:no-access"),
        ([None, A], connect, Verdict.ALLOW, "a"),
        ([R1, R2], query, Verdict.REVIEW, "r2"),
    ],
    ids=["allow", "review-beats-allow", "order-irrelevant", "deny-beats-all", "deny-first", "abstain-query",
         "abstain-connect-fails-closed", "no-stages-connect", "one-grant", "stricter-review"],
)
def test_strictest_wins(decisions, event, verdict, rule):
    stages = [Fixed(f"s{i}", d) for i, d in enumerate(decisions)]
    outcome = Pipeline(stages).decide(event())
    assert outcome.verdict is verdict
    assert outcome.decision.rule == rule


def test_reviews_merge_approvers():
    outcome = Pipeline([Fixed("a", R1), Fixed("b", R2)]).decide(query())
    assert outcome.decision.approvers == {"x", "y"}
    assert outcome.decision.approvals_needed == 2


def test_deny_stops_the_walk():
    later = Fixed("later", A)
    Pipeline([Fixed("d", D), later]).decide(query())
    assert later.calls == 0


@pytest.mark.parametrize("bad", [Boom(), Weird()], ids=["raises", "wrong-type"])
@pytest.mark.parametrize("event", [query, connect], ids=["query", "connect"])
def test_stage_failure_denies(bad, event, caplog):
    outcome = Pipeline([Fixed("ok", A), bad]).decide(event())
    assert outcome.verdict is Verdict.DENY
    assert outcome.decision.rule.endswith(":error")
    assert any(bad.name in r.getMessage() for r in caplog.records)


def test_stage_timeout_denies(caplog):
    outcome = Pipeline([Busy()], stage_budget=0.01).decide(query())
    assert outcome.verdict is Verdict.DENY
    assert outcome.decision.rule == "busy:timeout"


def test_budget_is_cpu_time_not_wall_time():
    # A stage descheduled (or waiting) longer than the budget uses no CPU: load must not flip verdicts.
    outcome = Pipeline([Slow()], stage_budget=0.01).decide(query())
    assert outcome.verdict is Verdict.ALLOW


def test_audit_only_is_recorded_not_enforced():
    would = Decision.deny(rule="would", audit_only=True)
    outcome = Pipeline([Fixed("audit", would), Fixed("ok", A)]).decide(query())
    assert outcome.verdict is Verdict.ALLOW
    assert outcome.audit == (would,)


def test_verdict_order():
    assert Verdict.ALLOW < Verdict.REVIEW < Verdict.DENY
