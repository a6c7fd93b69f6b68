"""Guardrail stage: every statement, command, file operation and forward judged by rules.

Rules come from the ``guardrails:`` sections of the policy files (policies/files.py
``GuardRule``). A rule applies when its scope matches the session (target name or tag,
protocol, IdP groups, minus ``unless_groups``) and every criterion in its ``match``
holds. Of all matching rules the strictest verdict wins (deny > review > allow);
``audit``/``audit_only`` rules are recorded, never enforced.

Built-in fail-closed rules cannot be switched off by an ``allow``: a statement the
classifier cannot understand (kind ``unknown``, anywhere among the effective statements)
and more than one statement in one packet are denied before the rules run; a query or
DML statement sqlglot could not parse (flag ``unparseable``: its tables, columns and
wrapped columns are unknown) is denied after them (a rule's own deny keeps its id). Every
criterion of a rule is matched against each effective statement (``match_sql``). SQL is
classified under both ANSI_QUOTES modes unless the session knows its mode, and the
stricter result is used (a quoting trick must not flip the verdict).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.core.types import Command, Decision, Event, FileOp, Forward, Query, Verdict
from policies.files import GuardRule
from policies.matching import match_command, match_fileop, match_forward, match_sql, scope_matches
from policies.sql import Classification, Kind, classify

if TYPE_CHECKING:
    from bastion.context import PluginContext

EVENT_KINDS = {Query: "query", Command: "command", FileOp: "fileop", Forward: "forward"}
"""Which guardrail criteria apply to which event type."""


def _builtin(classification: Classification) -> Decision | None:
    if classification.kind is Kind.UNKNOWN:
        reason = classification.error or "statement not understood"
        return Decision.deny(rule="guardrails:fail-closed-unknown", reason=reason,
                             message="the bastion could not classify this statement, so it is blocked")
    if "multi_statement" in classification.flags:
        return Decision.deny(rule="guardrails:single-statement", reason="several statements in one command",
                             message="send one statement at a time")
    return None


def _unparseable(classification: Classification) -> Decision:
    return Decision.deny(rule="guardrails:fail-closed-unparseable",
                         reason=classification.error or "statement could not be parsed",
                         message="the bastion could not parse this statement, so it is blocked")


class GuardrailPolicy:
    """The ``guardrails`` entry point of ``bastion.policies``."""

    name = "guardrails"
    classifies_sql = True
    """Every Query is classified here (plugins.mysql.sqlstate shares the result through the
    classifier's cache rather than skipping its own classification)."""

    def __init__(self, ctx: PluginContext | None = None, rules: tuple[GuardRule, ...] | None = None) -> None:
        """The rules of ``ctx``'s policy files, or ``rules``."""
        if rules is None:
            assert ctx is not None, "a context or rules"
            rules = ctx.settings.policies.guardrails
        self.rules = tuple(rules)
        self._scoped: dict[tuple[object, ...], list[GuardRule]] = {}

    def decide(self, event: Event) -> Decision | None:
        kind = EVENT_KINDS.get(type(event))
        if kind is None:
            return None
        if isinstance(event, Query):
            return self._decide_sql(event)
        decisions = [self._apply(rule) for rule in self._rules_for(event, kind) if self._matches(rule, event)]
        return _strictest(decisions)

    def _decide_sql(self, event: Query) -> Decision | None:
        # A session the bastion believes is not in ANSI_QUOTES is judged both ways (its
        # sql_mode may have changed in a way the bastion did not follow). ANSI_QUOTES only
        # changes how `"` reads, and no literal of a text without one unescapes to one (the
        # only escape producing it is `\"`), so such a text reads alike in both modes.
        modes = (event.ansi_quotes,) if event.ansi_quotes or '"' not in event.sql else (False, True)
        best: Decision | None = None
        audit: list[Decision] = []
        for ansi in modes:
            classification = classify(event.sql, no_backslash_escapes=event.no_backslash_escapes, ansi_quotes=ansi)
            found = _builtin(classification)
            if found is None:
                matched = [self._apply(rule) for rule in self._rules_for(event, "query")
                           if match_sql(rule.match, classification)]
                audit += [d for d in matched if d.audit_only]
                found = _strictest([d for d in matched if not d.audit_only])
                if "unparseable" in classification.flags and (found is None or found.verdict is not Verdict.DENY):
                    found = _unparseable(classification)
            if found is not None and (best is None or found.verdict > best.verdict):
                best = found
        if best is None and audit:
            return audit[0]
        return best

    def _rules_for(self, event: Event, kind: str) -> list[GuardRule]:
        """The rules whose scope and events cover ``event`` (a scope depends on the
        session's groups and target only: remembered by those)."""
        s = event.session
        key = (s.identity.groups, s.target.name, s.target.protocol, s.target.tags, kind)
        rules = self._scoped.get(key)
        if rules is None:
            if len(self._scoped) >= 4096:
                self._scoped.clear()
            rules = self._scoped[key] = [r for r in self.rules if scope_matches(r.scope, s)
                                         and (not r.match.events or kind in r.match.events)]
        return rules

    @staticmethod
    def _matches(rule: GuardRule, event: Event) -> bool:
        if isinstance(event, Command):
            return match_command(rule.match, event.line)
        if isinstance(event, FileOp):
            return match_fileop(rule.match, event.op, event.path, event.target_path, _home(event))
        if isinstance(event, Forward):
            return match_forward(rule.match, event.host, event.port)
        return False

    @staticmethod
    def _apply(rule: GuardRule) -> Decision:
        rule_id = f"guardrails:{rule.id}"
        audit_only = rule.audit_only or rule.action == "audit"
        message = rule.message or rule.description
        if rule.action == "allow":
            return Decision.allow(rule=rule_id, reason=rule.description or "allowed by rule", audit_only=audit_only)
        if rule.action == "review":
            spec = rule.review
            return Decision.review(rule=rule_id, reason=rule.description or "needs approval", message=message,
                                   approvers=frozenset(spec.approvers), approvals_needed=spec.approvals,
                                   hold_seconds=spec.hold_seconds, audit_only=audit_only,
                                   window_seconds=spec.window_seconds)
        return Decision.deny(rule=rule_id, reason=rule.description or "denied by rule",
                             message=message or "blocked by policy", audit_only=audit_only)


def _home(event: FileOp) -> str:
    """The home relative paths resolve against; "" (every path rule matches: fail closed)
    when the session's home is unknown and a path is relative."""
    if event.home:
        return event.home
    absolute = all(p.startswith("/") for p in (event.path, event.target_path) if p)
    return "/" if absolute else ""


def _strictest(decisions: list[Decision]) -> Decision | None:
    """Strictest verdict; an explicit allow only wins when nothing stricter matched."""
    enforced = [d for d in decisions if not d.audit_only]
    pool = enforced or decisions
    if not pool:
        return None
    top = max(d.verdict for d in pool)
    winners = [d for d in pool if d.verdict == top]
    if top is Verdict.REVIEW:
        return max(winners, key=lambda d: (d.approvals_needed, d.hold_seconds))
    return winners[0]
