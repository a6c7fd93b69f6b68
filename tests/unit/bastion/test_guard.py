"""The guard admits a request only once its start record is written; anything else refuses
it, with the refusal on record — the same for every kind of request of every protocol."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bastion.context import AuditGate, PluginContext
from bastion.core import records
from bastion.core.pipeline import Pipeline
from bastion.core.types import (
    Channel,
    Command,
    Decision,
    Event,
    FileOp,
    Forward,
    Identity,
    Kill,
    Query,
    Session,
    Target,
)
from bastion.guard import Admission, Refusal
from bastion.session import BaseSession
from tests.unit.plugins.mysql.fakes import ListSink

SESSION = Session(id="s1", identity=Identity(subject="bob", groups=frozenset({"dev"})),
                  target=Target(name="t", protocol="ssh", host="h", port=22), account="a", client_addr="c:1",
                  started_at=time.time())

REQUESTS: list[tuple[Event, str]] = [
    (Query(session=SESSION, sql="SELECT 1"), records.QUERY),
    (Kill(session=SESSION, connection_id=5), records.QUERY),
    (Command(session=SESSION, line="uptime"), records.COMMAND),
    (FileOp(session=SESSION, op="open-write", path="/tmp/x"), records.FILEOP),
    (Forward(session=SESSION, host="db", port=3306), records.FORWARD),
    (Channel(session=SESSION, request="shell"), records.CHANNEL_END),
]
IDS = [type(e).__name__ for e, _ in REQUESTS]


class Stage:
    name = "test"

    def __init__(self, decision: Decision | None) -> None:
        self.decision = decision

    def decide(self, event: Event) -> Decision | None:
        return self.decision


class Broker:
    def __init__(self, answer: Decision) -> None:
        self.answer = answer
        self.held: list[Event] = []

    def hold(self, event: Event, decision: Decision, cancelled: Any = None, shown: str | None = None) -> Decision:
        self.held.append(event)
        return self.answer


def sess(sink: ListSink, decision: Decision | None = None) -> BaseSession:
    ctx = PluginContext(settings=None, store=None, tokens=None, vault=None, sinks=[sink])  # type: ignore[arg-type]
    ctx.pipeline = Pipeline([AuditGate(ctx), Stage(decision)])
    return BaseSession(ctx=ctx, session=SESSION)


@pytest.mark.parametrize(("event", "record"), REQUESTS, ids=IDS)
def test_an_allowed_request_is_admitted_after_its_start_record(event: Event, record: str) -> None:
    sink = ListSink()
    ruling = sess(sink).guard.admit(event, record, {"k": "v"}, text="the text")
    assert isinstance(ruling, Admission)
    assert [(e.type, e.data["event_id"]) for e in sink.events] == [(records.OUTCOMES[record], event.id)]
    assert sink.events[0].data["k"] == "v"


@pytest.mark.parametrize(("event", "record"), REQUESTS, ids=IDS)
def test_a_request_whose_start_cannot_be_written_is_refused(event: Event, record: str) -> None:
    sink = ListSink()
    sink.broken = True
    s = sess(sink)
    ruling = s.guard.admit(event, record)
    assert isinstance(ruling, Refusal) and ruling.decision.rule == "audit-unavailable"
    assert s.denied == 1


@pytest.mark.parametrize(("event", "record"), REQUESTS, ids=IDS)
def test_a_denied_request_is_refused_and_recorded_without_a_start(event: Event, record: str) -> None:
    sink = ListSink()
    ruling = sess(sink, Decision.deny(rule="r:1", message="no")).guard.admit(event, record, refused={"x": 1})
    assert isinstance(ruling, Refusal) and "r:1" in ruling.message() and event.id in ruling.message()
    assert [e.type for e in sink.events] == [record]
    assert sink.events[0].data["verdict"] == "deny" and sink.events[0].data["x"] == 1


@pytest.mark.parametrize(("answer", "admitted"), [(Decision.allow(rule="r"), True), (Decision.deny(rule="r"), False)])
def test_a_review_waits_for_the_approvers(answer: Decision, admitted: bool) -> None:
    sink = ListSink()
    s = sess(sink, Decision.review(rule="r"))
    s.ctx.approvals = Broker(answer)  # type: ignore[assignment]
    ruling = s.guard.admit(Query(session=SESSION, sql="DELETE FROM t"), records.QUERY)
    assert isinstance(ruling, Admission) is admitted
    assert len(s.ctx.approvals.held) == 1  # type: ignore[union-attr]


def test_a_review_that_cannot_wait_is_refused_without_asking_approvers() -> None:
    s = sess(ListSink(), Decision.review(rule="r"))
    s.ctx.approvals = Broker(Decision.allow())  # type: ignore[assignment]
    ruling = s.guard.admit(Forward(session=SESSION, host="h", port=1), records.FORWARD, can_hold=False)
    assert isinstance(ruling, Refusal) and s.ctx.approvals.held == []  # type: ignore[union-attr]


def test_several_events_are_one_request_the_first_refusal_decides() -> None:
    class DenyFileOps(Stage):
        def decide(self, event: Event) -> Decision | None:
            return Decision.deny(rule="files") if isinstance(event, FileOp) else None

    sink = ListSink()
    s = sess(sink)
    s.ctx.pipeline = Pipeline([DenyFileOps(None)])
    events = [FileOp(session=SESSION, op="open-write", path="/etc/x"), Command(session=SESSION, line="scp -t /etc/x")]
    ruling = s.guard.admit(events, records.COMMAND)
    assert isinstance(ruling, Refusal) and ruling.event is events[0]


def test_finish_records_the_outcome_with_the_start_data() -> None:
    sink = ListSink()
    s = sess(sink)
    ruling = s.guard.admit(Command(session=SESSION, line="uptime"), records.COMMAND, {"mode": "exec"}, text="uptime")
    assert isinstance(ruling, Admission)
    s.guard.finish(ruling, {"exit_status": 0})
    start, outcome = sink.events
    assert outcome.type == records.COMMAND and outcome.data["exit_status"] == 0
    assert outcome.data["statement"] == start.data["statement"] == "uptime" and "duration_ms" in outcome.data
