"""The enforcement pipeline shared by every protocol plugin.

Rules (the security contract, tested table-style in tests/unit/bastion/core):

1. Stages run in configured order; each returns a :class:`Decision` or abstains (``None``).
2. The strictest verdict wins (DENY > REVIEW > ALLOW); the first DENY stops the walk.
   Among REVIEW decisions the one needing the most approvals and the longest hold wins.
3. A stage that raises, returns something that is not a Decision, or overruns the
   per-stage budget produces DENY (fail closed) and the error is logged. The budget is
   CPU time of the deciding thread (``time.thread_time``), not wall time: a busy machine
   must not turn an allowed statement into a timeout, only the stage's own work counts.
4. An event on which every stage abstains is DENY for ``Connect`` (nobody granted
   access) and ALLOW for everything else (guardrails only speak when a rule matches).
5. Audit-only decisions never change the outcome; they are returned in ``audit``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bastion.core.contracts import PolicyStage
from bastion.core.types import Connect, Decision, Event, Verdict

log = logging.getLogger("bastion.pipeline")


@dataclass(frozen=True, slots=True)
class Outcome:
    """The pipeline's final decision plus every audit-only decision seen on the way."""

    decision: Decision
    audit: tuple[Decision, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict


class Pipeline:
    """Ordered policy stages; ``decide`` never raises."""

    def __init__(self, stages: Sequence[PolicyStage], stage_budget: float = 0.5) -> None:
        self.stages = tuple(stages)
        self.stage_budget = stage_budget
        """CPU seconds a single stage may use before its answer is treated as a timeout."""

    def decide(self, event: Event) -> Outcome:
        best: Decision | None = None
        audit: list[Decision] = []
        clock = [time.thread_time()]  # one reading between two stages ends one and starts the next
        for stage in self.stages:
            decision = self._run_stage(stage, event, clock)
            if decision is None:
                continue
            if decision.audit_only:
                audit.append(decision)
                continue
            best = decision if best is None else _stricter(best, decision)
            if best.verdict is Verdict.DENY:
                break
        if best is None:
            best = _default(event)
        return Outcome(best, tuple(audit))

    def _run_stage(self, stage: PolicyStage, event: Event, clock: list[float]) -> Decision | None:
        """``clock[0]``: the thread's CPU time when the stage starts; set to when it ended."""
        try:
            decision = stage.decide(event)
        except Exception as exc:  # noqa: BLE001 - any stage failure must become a DENY
            clock[0] = time.thread_time()
            name = getattr(stage, "name", type(stage).__name__)
            log.error("policy stage %s failed on %s %s: %r", name, event.kind, event.id, exc,
                      extra={"session_id": event.session.id})
            return Decision.deny(rule=f"{name}:error", reason=f"policy error in {name}",
                                 message="policy evaluation failed")
        ended = time.thread_time()
        elapsed, clock[0] = ended - clock[0], ended
        if elapsed > self.stage_budget:
            name = getattr(stage, "name", type(stage).__name__)
            log.error("policy stage %s used %.3fs CPU on %s %s (budget %.3fs)", name, elapsed,
                      event.kind, event.id, self.stage_budget)
            return Decision.deny(rule=f"{name}:timeout", reason=f"policy timeout in {name}",
                                 message="policy evaluation timed out")
        if decision is not None and not isinstance(decision, Decision):
            name = getattr(stage, "name", type(stage).__name__)
            log.error("policy stage %s returned %r", name, type(decision).__name__)
            return Decision.deny(rule=f"{name}:error", reason=f"invalid answer from {name}")
        return decision


def _stricter(a: Decision, b: Decision) -> Decision:
    if a.verdict != b.verdict:
        return a if a.verdict > b.verdict else b
    if a.verdict is Verdict.REVIEW:
        # Two reviews: keep the more demanding one, but let either set of approvers act.
        base = a if (a.approvals_needed, a.hold_seconds) >= (b.approvals_needed, b.hold_seconds) else b
        return replace(base, approvers=a.approvers | b.approvers)
    return a


def _default(event: Event) -> Decision:
    if isinstance(event, Connect):
        return Decision.deny(rule="pipeline:no-access", reason="no access rule grants this target",
                             message="access denied: no rule grants you this target")
    return Decision.allow(rule="pipeline:default", reason="no rule matched")
