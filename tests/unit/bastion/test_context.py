"""PluginContext.emit fails closed: a required sink that cannot write makes AuditGate deny
every decision until an event is written again; optional sinks never do."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.context import AuditGate, PluginContext
from bastion.core.contracts import AuditEvent
from bastion.core.pipeline import Pipeline
from bastion.core.types import Decision, Identity, Query, Session, Target, UpstreamTLS, Verdict


class Sink:
    def __init__(self, name: str, required: bool) -> None:
        self.name, self.required = name, required
        self.broken = False
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        self.events.append(event)

    def close(self) -> None:
        pass


class AllowAll:
    name = "allow"

    def decide(self, event: Any) -> Decision:
        return Decision.allow(rule="allow")


def context(*sinks: Sink) -> PluginContext:
    # emit and the gate use nothing but the sinks: the rest of the context stays unbuilt
    return PluginContext(settings=None, store=None, tokens=None, vault=None, sinks=sinks)  # type: ignore[arg-type]


def query() -> Query:
    target = Target(name="db", protocol="mysql", host="127.0.0.1", port=3306, tags=frozenset(),
                    tls=UpstreamTLS(mode="disabled", ca_file=None, server_name=None), accounts=("ro",), options={})
    session = Session(id="s1", identity=Identity(subject="alice", email="", groups=frozenset()), target=target,
                      account="ro", client_addr="127.0.0.1:1", started_at=0.0)
    return Query(session=session, sql="SELECT 1")


def event() -> AuditEvent:
    return AuditEvent(type="query", session_id="s1", at=0.0, data={})


def test_a_failing_journal_closes_the_gate_until_it_writes_again():
    journal, log = Sink("journal", required=True), Sink("log", required=False)
    ctx = context(journal, log)
    pipeline = Pipeline([AuditGate(ctx), AllowAll()])
    assert pipeline.decide(query()).verdict is Verdict.ALLOW

    journal.broken = True
    ctx.emit(event())  # never raises into the data path
    assert ctx.audit_failure is not None and "No space left" in ctx.audit_failure
    outcome = pipeline.decide(query())
    assert outcome.verdict is Verdict.DENY and outcome.decision.rule == "audit-unavailable"
    assert len(log.events) == 1  # the other sinks still got the event

    journal.broken = False
    ctx.emit(event())
    assert ctx.audit_failure is None
    assert pipeline.decide(query()).verdict is Verdict.ALLOW


@pytest.mark.parametrize("required", [False, True])
def test_only_required_sinks_close_the_gate(required):
    sink = Sink("extra", required=required)
    sink.broken = True
    ctx = context(Sink("journal", required=True), sink)
    ctx.emit(event())
    assert (ctx.audit_failure is not None) is required


@pytest.mark.parametrize(("required", "written"), [(False, True), (True, False)])
def test_emit_says_whether_the_audit_trail_wrote_this_event(required, written):
    sink = Sink("extra", required=required)
    sink.broken = True
    ctx = context(Sink("journal", required=True), sink)
    assert ctx.emit(event()) is written
    sink.broken = False
    assert ctx.emit(event()) is True


def test_an_unrecorded_start_is_refused_even_once_the_trail_recovered():
    ctx = context(Sink("journal", required=True))
    gate = AuditGate(ctx)
    assert ctx.audit_failure is None and gate.refusal() is None
    refusal = gate.unrecorded()  # another session's write cleared the flag meanwhile
    assert refusal is not None and refusal.verdict is Verdict.DENY and refusal.rule == "audit-unavailable"
