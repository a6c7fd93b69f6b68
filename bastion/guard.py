"""The one place where a request is admitted to a target.

Theory of operation. Every request a protocol plugin judges — a MySQL statement,
prepare, schema change or KILL, an SSH exec command, shell, port forward or SFTP
operation — is turned into a core :class:`~bastion.core.types.Event` and handed to
:meth:`Guard.admit`, which, in this order:

1. runs the pipeline (the strictest verdict wins; a stage error denies);
2. resolves a REVIEW: the request waits for approvers (only this session waits; the
   user may cancel), or is denied where it cannot wait;
3. redacts what describes the request for the record (the session's masking);
4. writes the request's *start* record and waits until the journal holds it;
5. returns an :class:`Admission` — the only value the plugins' send paths accept.

A request that is denied, not approved, or whose start record could not be written
gets a :class:`Refusal` instead, and its outcome record is written at once; it never
reaches the target. An admitted request's outcome is recorded by :meth:`Guard.finish`
when it ends (it rides on the next synced journal write: the start is durable).

Executions of a prepared statement ride on their PREPARE's admission: the statement
text was judged once, and :meth:`Guard.rerun` records each execution's start (with what
is new in it, its parameters) durably before it runs, like any admitted request, without
judging again. Cursor fetches run nothing new (:meth:`Guard.readmit` only asks the audit
gate again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.context import AuditGate
from bastion.core.records import OUTCOMES
from bastion.core.types import Decision, Event, Verdict

if TYPE_CHECKING:
    from bastion.session import BaseSession

log = logging.getLogger("bastion.guard")


def verdict_data(decision: Decision, audit: tuple[Decision, ...]) -> dict[str, Any]:
    """The record fields that say what was decided, by which rule, and what audit-mode
    rules would have done."""
    return {"verdict": decision.verdict.name.lower(), "rule": decision.rule, "reason": decision.reason,
            "would": [a.rule for a in audit]}


@dataclass(frozen=True, slots=True)
class Ruling:
    """What the guard decided about one request, and what its records hold."""

    event: Event
    """The request (the last one judged when several were judged together)."""
    decision: Decision
    audit: tuple[Decision, ...]
    """Audit-only decisions: what rules in audit mode would have done."""
    record: str
    """Type of the outcome record (``query``, ``command``, ``fileop``…)."""
    data: Mapping[str, Any]
    """What describes the request in its records (already masked)."""
    started: float
    """When the request was admitted or refused (``time.time()``)."""

    def verdict_data(self) -> dict[str, Any]:
        return verdict_data(self.decision, self.audit)


@dataclass(frozen=True, slots=True)
class Admission(Ruling):
    """Proof that a request was allowed and its start record is durable: the ticket the
    plugins' send paths require before anything reaches the target."""


@dataclass(frozen=True, slots=True)
class Refusal(Ruling):
    """A request that must not reach the target; its outcome record is already written."""

    def message(self) -> str:
        """Why, as the user sees it (rule and event reference included)."""
        d = self.decision
        why = d.message or d.reason or "denied by policy"
        rule = f"rule {d.rule}, " if d.rule else ""
        return f"{why} ({rule}ref {self.event.id})"


class Guard:
    """Admits the requests of one session (see the module docstring)."""

    __slots__ = ("sess",)

    def __init__(self, sess: BaseSession) -> None:
        self.sess = sess

    def admit(self, events: Event | Sequence[Event], record: str, data: Mapping[str, Any] | None = None, *,
              text: str | None = None, cancelled: Callable[[], bool] | None = None, can_hold: bool = True,
              refine: Callable[[Decision], Decision] | None = None, veto: Decision | None = None,
              refused: Mapping[str, Any] | None = None) -> Admission | Refusal:
        """Judge ``events`` (several are judged as one request: the first that is not
        allowed decides), record the start of ``record`` and admit, or refuse.

        ``data`` describes the request in both records; ``text`` is the request's text
        (statement, command line), redacted by the session into its text field. With
        ``can_hold`` false a REVIEW is denied (the request cannot wait, e.g. inside a
        protocol callback). ``refine`` may make the final decision stricter with a check of
        the plugin's own (it sees the pipeline's); ``veto`` refuses the request before the
        pipeline is asked (a protocol-level refusal: nobody may approve it). ``refused`` is
        added to the outcome record of a refusal."""
        judged = (events,) if isinstance(events, Event) else tuple(events)
        audit: tuple[Decision, ...] = ()
        if veto is not None:
            event, decision = judged[-1], veto
        else:
            event, decision, audit = self._judge(judged, cancelled, can_hold)
        if refine is not None:
            decision = refine(decision)
        base: dict[str, Any] = {"event_id": event.id, **(data or {})}
        if text is not None:
            base.update(self.sess.redact_request(text))
        started = time.time()
        if decision.verdict is Verdict.ALLOW:
            if self.sess.emit(OUTCOMES[record], {**base, **verdict_data(decision, audit)}):
                return Admission(event, decision, audit, record, base, started)
            decision = AuditGate(self.sess.ctx).unrecorded()  # its start is not on record: it must not run
        self.sess.denied += 1
        refusal = Refusal(event, decision, audit, record, base, started)
        log.info("%s refused", event.kind, extra={"session_id": event.session.id, "event_id": event.id,
                                                  "rule": decision.rule})
        self.sess.emit(record, {**base, **refusal.verdict_data(), **(refused or {})})
        return refusal

    def _judge(self, events: tuple[Event, ...], cancelled: Callable[[], bool] | None,
               can_hold: bool) -> tuple[Event, Decision, tuple[Decision, ...]]:
        decision, event = Decision.allow(), events[-1]
        audit: tuple[Decision, ...] = ()
        for event in events:
            outcome = self.sess.ctx.pipeline.decide(event)
            decision, audit = outcome.decision, outcome.audit
            if decision.verdict is Verdict.REVIEW:
                decision = self.sess.hold(event, decision, cancelled) if can_hold else Decision.deny(
                    rule=decision.rule, reason="review required but this request cannot wait for approval",
                    message="this needs an approval, which is not possible for this kind of request")
            if decision.verdict is not Verdict.ALLOW:
                break
        return event, decision, audit

    def finish(self, admission: Admission, outcome: Mapping[str, Any] | None = None) -> None:
        """Record how an admitted request ended (``duration_ms`` is added)."""
        self.sess.emit(admission.record, {
            **admission.data, **admission.verdict_data(),
            "duration_ms": round((time.time() - admission.started) * 1000, 3), **(outcome or {})})

    def rerun(self, admission: Admission, event_id: str, data: Mapping[str, Any], *,
              veto: Decision | None = None) -> Admission | Refusal:
        """Admit one more run of an admitted request (an execution of a prepared statement)
        with records of its own: its start record (``admission``'s data updated with
        ``data``, which must be masked already, under ``event_id``) is written and durable
        before this returns an :class:`Admission`; when it cannot be written, a
        :class:`Refusal` (audit gate). The pipeline is not asked again; ``veto`` refuses
        this run (the plugin's own check), with its outcome record written at once."""
        base: dict[str, Any] = {**admission.data, **data, "event_id": event_id}
        started = time.time()
        if veto is None:
            if self.sess.emit(OUTCOMES[admission.record], {**base, **admission.verdict_data()}):
                return Admission(admission.event, admission.decision, admission.audit, admission.record, base,
                                 started)
            veto = AuditGate(self.sess.ctx).unrecorded()
        self.sess.denied += 1
        refusal = Refusal(admission.event, veto, (), admission.record, base, started)
        self.sess.emit(admission.record, {**base, **refusal.verdict_data()})
        return refusal

    def readmit(self, admission: Admission) -> Decision | None:
        """For a request that rides on an earlier admission and runs nothing new (a cursor
        fetch): the audit gate's DENY while the audit trail is down, else None."""
        if self.sess.ctx.audit_failure is None:  # the hot path: one attribute read
            return None
        return AuditGate(self.sess.ctx).refusal()
