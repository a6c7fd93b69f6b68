"""Policy files: YAML documents holding access, guardrail and masking rules.

A policy file may hold any of the three top-level lists; several files are merged in
the order the configuration lists them. See ``policies/examples/*.yaml`` for commented
examples and docs/policies.md for the reference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml

from bastion.config.schema import Issues, build

if TYPE_CHECKING:
    from bastion.config.model import BastionConfig


@dataclass(frozen=True)
class Scope:
    """Where a rule applies. Empty lists mean "any"; ``targets`` and ``tags`` are OR-ed."""

    groups: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    unless_groups: list[str] = field(default_factory=list)
    """Members of any of these groups are exempt."""


@dataclass(frozen=True)
class AccessRule:
    """Which IdP groups may reach which targets, and with which upstream account."""

    id: str
    groups: list[str]
    account: str
    targets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    """Optional role names a user may pick (``target/role`` in the MySQL user name);
    empty means the rule applies when no role is requested."""
    description: str = ""

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError(f"access rule {self.id!r} needs at least one group")
        if not self.targets and not self.tags:
            raise ValueError(f"access rule {self.id!r} needs targets or tags")


@dataclass(frozen=True)
class ReviewSpec:
    approvers: list[str] = field(default_factory=lambda: ["approvers"])
    approvals: int = 1
    hold_seconds: float = 300.0
    window_seconds: float = 0.0
    """After approval, the same statement fingerprint passes again for this long."""


@dataclass(frozen=True)
class GuardMatch:
    """What a guardrail matches; all given criteria must hold (AND), lists are OR-ed."""

    kinds: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    regex: str | None = None
    programs: list[str] = field(default_factory=list)
    """Deny-list: some simple command of the line runs one of these programs (basename
    globs), directly or through a wrapper. Unknown lines and inline interpreter code match."""
    programs_only: list[str] = field(default_factory=list)
    """Allow-list: matches (violates) when any simple command of the line, wrappers
    included, runs a program not in this list, or when the line is unknown."""
    options: list[str] = field(default_factory=list)
    """With ``programs``: the command has one of these options, by canonical name
    (``recursive``) or spelling (``-r``, ``--recursive``); arguments not known statically
    count as any option."""
    args_regex: str | None = None
    """With ``programs``: one argument of the command matches (searched, case-insensitive)."""
    command_regex: str | None = None
    """The whole line matches (searched); kept for compatibility, not a security boundary."""
    file_ops: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    forward_to: list[str] = field(default_factory=list)
    wrapped_columns: list[str] = field(default_factory=list)
    """SQL: column names (globs) used inside a function or expression in a SELECT list
    (``HEX(card_number)``) — defeats masking, so hold or deny it."""
    events: list[str] = field(default_factory=list)
    """Event kinds (query, command, fileop, forward); empty means inferred from the criteria."""

    def __post_init__(self) -> None:
        for name in ("regex", "command_regex", "args_regex"):
            pattern = getattr(self, name)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{name}: invalid regular expression: {exc}") from None


@dataclass(frozen=True)
class GuardRule:
    id: str
    action: Literal["allow", "deny", "review", "audit"]
    match: GuardMatch = field(default_factory=GuardMatch)
    scope: Scope = field(default_factory=Scope)
    message: str = ""
    review: ReviewSpec = field(default_factory=ReviewSpec)
    audit_only: bool = False
    """Record what the rule would have done without enforcing it."""
    description: str = ""


@dataclass(frozen=True)
class MaskRule:
    id: str
    scope: Scope = field(default_factory=Scope)
    columns: list[str] = field(default_factory=list)
    """``schema.table.column`` globs matched against the result's org names and aliases."""
    recognizers: list[str] = field(default_factory=list)
    style: str = "partial"
    keep_last: int = 4
    description: str = ""


@dataclass(frozen=True)
class Recognizer:
    """A user-defined recognizer (regex plus optional validator)."""

    name: str
    pattern: str
    validator: str | None = None


@dataclass(frozen=True)
class PolicyDocument:
    access: list[AccessRule] = field(default_factory=list)
    guardrails: list[GuardRule] = field(default_factory=list)
    masking: list[MaskRule] = field(default_factory=list)
    recognizers: list[Recognizer] = field(default_factory=list)


@dataclass(frozen=True)
class PolicySet:
    """All rules from all policy files, in file order."""

    access: tuple[AccessRule, ...] = ()
    guardrails: tuple[GuardRule, ...] = ()
    masking: tuple[MaskRule, ...] = ()
    recognizers: tuple[Recognizer, ...] = ()

    def merge(self, doc: PolicyDocument) -> PolicySet:
        return PolicySet(self.access + tuple(doc.access), self.guardrails + tuple(doc.guardrails),
                         self.masking + tuple(doc.masking), self.recognizers + tuple(doc.recognizers))


def load_policy_file(path: Path, issues: Issues, config: BastionConfig | None = None) -> PolicyDocument | None:
    """Parse and validate one policy file; cross-check target names against ``config``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        issues.add("", f"cannot read policy file: {exc.strerror or exc}")
        return None
    except yaml.YAMLError as exc:
        issues.add("", f"invalid YAML: {exc}")
        return None
    doc = build(PolicyDocument, data if data is not None else {}, issues)
    if doc is None or config is None:
        return doc
    _cross_check(doc, issues, config)
    return None if issues.errors else doc


def _cross_check(doc: PolicyDocument, issues: Issues, config: BastionConfig) -> None:
    targets = {t.name: t for t in config.targets}
    ids: set[str] = set()
    sections: tuple[tuple[str, Sequence[AccessRule | GuardRule | MaskRule]], ...] = (
        ("access", doc.access), ("guardrails", doc.guardrails), ("masking", doc.masking))
    for section, rules in sections:
        for i, rule in enumerate(rules):
            if rule.id in ids:
                issues.add(f"{section}[{i}].id", f"duplicate rule id {rule.id!r}")
            ids.add(rule.id)
            names = rule.targets if isinstance(rule, AccessRule) else rule.scope.targets
            for j, name in enumerate(names):
                if name not in targets:
                    where = "targets" if isinstance(rule, AccessRule) else "scope.targets"
                    issues.add(f"{section}[{i}].{where}[{j}]", f"unknown target {name!r}")
    for i, rule in enumerate(doc.access):
        for name in rule.targets:
            target = targets.get(name)
            if target is not None and rule.account not in target.accounts:
                issues.add(f"access[{i}].account",
                           f"target {name!r} has no account {rule.account!r} (has: {', '.join(target.accounts)})")
