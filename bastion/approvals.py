"""Inline approvals: a REVIEW holds the event in the data path until approvers decide.

``ApprovalBroker.hold`` runs in the held session's greenlet: it records the request in
the shared state store, notifies the webhook, then polls the store until the request is
approved (enough approvals), denied, or its hold time ends — only that session waits.
Approvers act from the web app, possibly in another process or node: everything goes
through the state store. Nobody approves their own request. An approval may open a
*window* (opt-in per rule: ``review.window_seconds``) in which the very same statement —
same code, same values, same quoting modes (:func:`statement_key`) — passes again for the
same user and target, for a client that gave up waiting and retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bastion.core.masks import Masks
from bastion.core.types import Decision, Event, Identity, Query
from bastion.state.store import approvals

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.approvals")


class ApprovalError(Exception):
    """An approver's action is not allowed (own request, not an approver, not pending)."""


@dataclass(frozen=True)
class Approval:
    id: str
    session_id: str
    requester: str
    target: str
    kind: str
    statement: str
    fingerprint: str
    details: dict[str, Any]
    rule: str
    approvers: frozenset[str]
    approvals_needed: int
    status: str
    """``pending``, ``approved``, ``denied``, ``expired``."""
    created_at: float
    expires_at: float
    decided_at: float | None
    decisions: list[dict[str, Any]]
    window_until: float | None


def statement_key(event: Query) -> str:
    """What an approval of a statement binds to: its exact code (comments dropped, spacing
    normalised, every literal kept) under the session's quoting modes. A statement that
    differs in any value, or runs under another sql_mode (``"c"`` a string or a column),
    is another statement and needs its own approval."""
    from policies.sql.lexer import lex

    nbe, ansi = event.no_backslash_escapes, event.ansi_quotes
    lexed = lex(event.sql, no_backslash_escapes=nbe, ansi_quotes=ansi)
    code = event.sql if lexed.error else "\x00;".join(s.text() for s in lexed.statements)
    material = f"{'B' if nbe else '-'}{'A' if ansi else '-'}\x00{code}"
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def event_fingerprint(event: Event) -> tuple[str, str, str]:
    """(kind, text shown to approvers, the key an approval binds to) of a held event."""
    if isinstance(event, Query):
        return "query", event.sql, statement_key(event)
    text = str(getattr(event, "line", "") or f"{getattr(event, 'op', '')} {getattr(event, 'path', '')}".strip()
               or f"{getattr(event, 'host', '')}:{getattr(event, 'port', '')}")
    return event.kind, text, hashlib.sha256(f"{event.kind}\0{text}".encode()).hexdigest()[:40]


def _row_to_approval(row: Any) -> Approval:
    return Approval(
        id=row["id"], session_id=row["session_id"], requester=row["requester"], target=row["target"],
        kind=row["kind"], statement=row["statement"], fingerprint=row["fingerprint"],
        details=json.loads(row["details"] or "{}"), rule=row["rule"],
        approvers=frozenset(json.loads(row["approvers"])), approvals_needed=row["approvals_needed"],
        status=row["status"], created_at=row["created_at"], expires_at=row["expires_at"],
        decided_at=row["decided_at"], decisions=json.loads(row["decisions"] or "[]"),
        window_until=row["window_until"])


class ApprovalBroker:
    def __init__(self, ctx: PluginContext, sleep: Callable[[float], None] = time.sleep,
                 notify: Callable[[str, Approval], None] | None = None, poll: float = 0.25) -> None:
        self.ctx = ctx
        self.sleep = sleep
        self.notify = notify or (lambda _kind, _approval: None)
        self.poll = poll

    # --------------------------------------------------------------- data path side
    def hold(self, event: Event, decision: Decision, cancelled: Callable[[], bool] | None = None,
             shown: str | None = None) -> Decision:
        """Block this greenlet until the request is decided; returns ALLOW or DENY.
        ``cancelled`` is polled too: the user may give up (Ctrl-C) while waiting.
        ``shown`` is the request as approvers see it (the session's redaction of its values
        only); without it the whole text gets the storage masking."""
        kind, text, fp = event_fingerprint(event)
        session = event.session
        window = self._open_window(session.identity.subject, session.target.name, fp)
        if window is not None:
            return Decision.allow(rule=decision.rule, reason=f"approved earlier ({window.id}), window open")
        approval = self._create(event, decision, kind, text, fp, shown)
        self.notify("new", approval)
        log.info("held for approval", extra={"session_id": session.id, "approval": approval.id, "rule": decision.rule})
        while True:
            current = self.get(approval.id)
            if current is None:
                return self._deny(decision, approval.id, "the request disappeared")
            if current.status == "approved":
                return Decision.allow(rule=decision.rule, reason=f"approved in request {approval.id}")
            if current.status == "denied":
                comment = next((d.get("comment", "") for d in reversed(current.decisions) if not d["approve"]), "")
                return self._deny(decision, approval.id, f"denied by an approver{': ' + comment if comment else ''}")
            if cancelled is not None and cancelled():
                self._expire(approval.id, "cancelled")
                return self._deny(decision, approval.id, "cancelled by the requester")
            if time.time() >= current.expires_at:
                self._expire(approval.id)
                expired = self.get(approval.id)
                if expired is not None:
                    self.notify("expired", expired)
                return self._deny(decision, approval.id, "no approval before the hold time ended")
            self.sleep(self.poll)

    def _deny(self, decision: Decision, approval_id: str, why: str) -> Decision:
        return Decision.deny(rule=decision.rule, reason=why, message=f"request {approval_id}: {why}")

    def _create(self, event: Event, decision: Decision, kind: str, text: str, fp: str,
                shown: str | None) -> Approval:
        session = event.session
        now = time.time()
        if shown is None:
            shown = Masks(self.ctx.maskers, session).redact(text)[0]
        row = {
            "id": "REQ-" + secrets.token_hex(4).upper(), "session_id": session.id,
            "requester": session.identity.subject, "target": session.target.name, "kind": kind,
            "statement": shown, "fingerprint": fp,
            "details": json.dumps({"client": session.client_addr, "account": session.account, "reason": session.reason,
                                   "event_id": event.id, "message": decision.message, "why": decision.reason,
                                   "window_seconds": decision.window_seconds, "protocol": session.target.protocol}),
            "rule": decision.rule, "approvers": json.dumps(sorted(decision.approvers)),
            "approvals_needed": max(1, decision.approvals_needed), "status": "pending", "created_at": now,
            "expires_at": now + (decision.hold_seconds or 300.0), "decided_at": None, "decisions": "[]",
            "window_until": None,
        }
        with self.ctx.store.engine.begin() as conn:
            conn.execute(approvals.insert().values(**row))
        approval = self.get(str(row["id"]))
        assert approval is not None
        return approval

    def _open_window(self, requester: str, target: str, fp: str) -> Approval | None:
        with self.ctx.store.engine.begin() as conn:
            row = conn.execute(sa.select(approvals).where(
                approvals.c.requester == requester, approvals.c.target == target, approvals.c.fingerprint == fp,
                approvals.c.status == "approved", approvals.c.window_until > time.time())).mappings().first()
        return _row_to_approval(row) if row else None

    def _expire(self, approval_id: str, status: str = "expired") -> None:
        with self.ctx.store.engine.begin() as conn:
            conn.execute(approvals.update().where(approvals.c.id == approval_id, approvals.c.status == "pending")
                         .values(status=status, decided_at=time.time()))

    # --------------------------------------------------------------- approver side
    def get(self, approval_id: str) -> Approval | None:
        with self.ctx.store.engine.begin() as conn:
            row = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).mappings().first()
        return _row_to_approval(row) if row else None

    def list(self, status: str | None = None, limit: int = 200) -> list[Approval]:
        query = sa.select(approvals).order_by(approvals.c.created_at.desc()).limit(limit)
        if status:
            query = query.where(approvals.c.status == status)
        with self.ctx.store.engine.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [_row_to_approval(r) for r in rows]

    @staticmethod
    def may_decide(approval: Approval, approver: Identity) -> str:
        """Empty string if ``approver`` may act on ``approval``, else why not."""
        if approval.requester == approver.subject:
            return "nobody approves their own request"
        if approval.approvers and not approval.approvers & approver.groups:
            return f"only members of {', '.join(sorted(approval.approvers))} may decide"
        if any(d["by"] == approver.subject for d in approval.decisions):
            return "you already decided on this request"
        return ""

    def decide(self, approval_id: str, approver: Identity, approve: bool, comment: str = "") -> Approval:
        """Record one approver's decision; the request is approved once enough approve."""
        with self.ctx.store.engine.begin() as conn:
            # locked: approvers deciding at once on different nodes must not lose a decision
            row = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)
                               .with_for_update()).mappings().first()
            if row is None:
                raise ApprovalError(f"no request {approval_id}")
            approval = _row_to_approval(row)
            if approval.status != "pending" or time.time() >= approval.expires_at:
                state = approval.status if approval.status != "pending" else "expired"
                raise ApprovalError(f"request {approval_id} is {state}")
            why = self.may_decide(approval, approver)
            if why:
                raise ApprovalError(why)
            decisions = approval.decisions + [{"by": approver.subject, "approve": approve, "comment": comment[:1000],
                                               "at": time.time()}]
            yes = sum(1 for d in decisions if d["approve"])
            status = "denied" if not approve else ("approved" if yes >= approval.approvals_needed else "pending")
            values: dict[str, Any] = {"decisions": json.dumps(decisions), "status": status}
            if status != "pending":
                values["decided_at"] = time.time()
            window = float(approval.details.get("window_seconds") or 0)
            if status == "approved" and window > 0:
                values["window_until"] = time.time() + window
            result = conn.execute(approvals.update().where(approvals.c.id == approval_id,
                                                           approvals.c.status == "pending").values(**values))
            if not result.rowcount:
                raise ApprovalError(f"request {approval_id} changed meanwhile; reload")
        updated = self.get(approval_id)
        assert updated is not None
        if updated.status != "pending":
            self.notify(updated.status, updated)
        return updated

