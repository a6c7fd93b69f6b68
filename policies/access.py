"""Access stage: which IdP groups may open a session on which target, as which account.

Only ``Connect`` events are judged here; every other event is left to the guardrails.
The first matching rule (in policy-file order) grants access and names the upstream
account. A requested role (``orders-db/readonly``) must match one of the rule's roles
or the rule's account name; no matching rule means abstain, which the pipeline turns
into DENY for a Connect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.core.types import Connect, Decision, Event, Target
from policies.files import AccessRule

if TYPE_CHECKING:
    from bastion.context import PluginContext


def rule_matches_target(rule: AccessRule, target: Target) -> bool:
    if rule.protocols and target.protocol not in rule.protocols:
        return False
    return target.name in rule.targets or bool(target.tags & set(rule.tags))


def grants(rules: tuple[AccessRule, ...], groups: frozenset[str], target: Target, role: str = "") -> AccessRule | None:
    """The first rule that lets ``groups`` reach ``target`` (with ``role`` if given)."""
    for rule in rules:
        if not groups & set(rule.groups) or not rule_matches_target(rule, target):
            continue
        if role and role not in rule.roles and role != rule.account:
            continue
        if rule.account not in target.accounts:
            continue
        return rule
    return None


class AccessPolicy:
    """The ``access`` entry point of ``bastion.policies``."""

    name = "access"

    def __init__(self, ctx: PluginContext) -> None:
        self.rules = ctx.settings.policies.access

    def decide(self, event: Event) -> Decision | None:
        if not isinstance(event, Connect):
            return None
        session = event.session
        role = session.protocol_info.get("role", "")
        rule = grants(self.rules, session.identity.groups, session.target, role)
        if rule is None:
            return None
        return Decision.allow(rule=f"access:{rule.id}", reason="granted by access rule", account=rule.account)

    def reachable(self, groups: frozenset[str], targets: list[Target]) -> list[tuple[Target, AccessRule]]:
        """Targets a user with ``groups`` may reach (for the portal), with the granting rule."""
        out = []
        for target in targets:
            rule = grants(self.rules, groups, target)
            if rule is not None:
                out.append((target, rule))
        return out
