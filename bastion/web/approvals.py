"""Approvals in the portal: approvers see held statements and commands and decide.

A request is visible to its requester, to members of its approver groups, and to admins
and auditors; only members of the approver groups may decide (never the requester).
Decisions go to the shared state store, where the held session picks them up — the web
app and the listeners may run in different processes.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bastion.approvals import Approval, ApprovalBroker, ApprovalError
from bastion.web import actions
from bastion.web.auth import Principal, ctx, current, login_required

bp = Blueprint("approvals", __name__)
log = logging.getLogger("bastion.web")

View = WerkzeugResponse | str | tuple[str, int]


def broker() -> ApprovalBroker:
    found = ctx().approvals
    if not isinstance(found, ApprovalBroker):
        abort(503, description="The approval service is not running.")
    return found


def may_view(approval: Approval, principal: Principal) -> bool:
    return (approval.requester == principal.subject or bool(approval.approvers & principal.identity.groups)
            or principal.has("admin") or principal.has("auditor"))


def classification(approval: Approval) -> dict[str, object]:
    if approval.kind != "query":
        return {}
    from policies.sql import classify

    c = classify(approval.statement)
    return {"kind": c.kind.value, "flags": sorted(c.flags), "tables": sorted(c.tables)}


@bp.get("/approvals")
@login_required
def index() -> View:
    principal = current()
    visible = [a for a in broker().list() if may_view(a, principal)]
    pending = [a for a in visible if a.status == "pending"]
    decidable = {a.id for a in pending if not ApprovalBroker.may_decide(a, principal.identity)}
    decided = [a for a in visible if a.status != "pending"][:50]
    return render_template("approvals.html", pending=pending, decided=decided, decidable=decidable)


@bp.get("/approvals/<approval_id>")
@login_required
def show(approval_id: str) -> View:
    approval = _visible(approval_id)
    why_not = ApprovalBroker.may_decide(approval, current().identity)
    return render_template("approval.html", a=approval, why_not=why_not, info=classification(approval), error=None)


@bp.post("/approvals/<approval_id>")
@login_required
def decide(approval_id: str) -> View:
    approval = _visible(approval_id)
    action = request.form.get("action", "")
    if action not in ("approve", "deny"):
        abort(400, description="Choose approve or deny.")
    comment = request.form.get("comment", "").strip()[:1000]
    principal = current()
    try:
        approval = broker().decide(approval_id, principal.identity, action == "approve", comment)
    except ApprovalError as exc:
        fresh = _visible(approval_id)
        return render_template("approval.html", a=fresh, why_not=str(exc), info=classification(fresh),
                               error=str(exc)), 409
    log.info("approval decision", extra={"approval": approval_id, "user": principal.subject, "action": action})
    actions.audit(ctx(), "approval.decision", principal, request.remote_addr, approval=approval_id,
                  action=action, comment=comment, status=approval.status, requester=approval.requester,
                  target=approval.target, rule=approval.rule)
    return render_template("approval.html", a=approval, why_not="you decided", info=classification(approval),
                           error=None)


def _visible(approval_id: str) -> Approval:
    approval = broker().get(approval_id) if len(approval_id) <= 32 else None
    if approval is None or not may_view(approval, current()):
        abort(404, description="There is no such request.")
    return approval
