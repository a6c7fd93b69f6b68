"""Login links for native clients: ``/login/<code>``.

A protocol plugin opens a pending login (``ctx.login_links.open``) and shows the user
the link; the user signs in through SAML (the link survives the round trip as ``next``),
sees which connection they are about to let in — protocol, target, client address,
expiry — and approves or denies it (a CSRF-protected POST). The plugin then consumes the
approved identity exactly once. The page warns to approve only a connection the user
just started: the link is a bearer capability until it is used or expires.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bastion.state.directory import LoginLink
from bastion.web import actions, connect
from bastion.web.auth import ctx, current, login_required

bp = Blueprint("links", __name__)
log = logging.getLogger("bastion.web")

View = WerkzeugResponse | str | tuple[str, int]
MAX_CODE = 64


def _link(code: str) -> LoginLink:
    if not code or len(code) > MAX_CODE:
        abort(404, description="There is no such login link.")
    link = ctx().login_links.get(code)
    if link is None:
        abort(404, description="There is no such login link.")
    return link


def _usable(link: LoginLink) -> bool:
    return link.status == "pending" and link.expires_at > time.time()


def _granted(link: LoginLink) -> bool:
    target = ctx().target(link.target)
    if target is None:
        return False
    return any(r.target.name == target.name for r in connect.reachable(ctx(), current().identity.groups))


@bp.get("/login/<code>")
@login_required
def show(code: str) -> View:
    link = _link(code)
    status = 200 if _usable(link) else 410
    return render_template("login_link.html", link=link, usable=_usable(link), granted=_granted(link),
                           now=time.time(), done=None), status


@bp.post("/login/<code>")
@login_required
def decide(code: str) -> View:
    link = _link(code)
    action = request.form.get("action", "")
    if action not in ("approve", "deny"):
        abort(400, description="Choose approve or deny.")
    principal = current()
    if action == "approve":
        ok = ctx().login_links.approve(code, principal.identity)
    else:
        ok = ctx().login_links.deny(code)
    if not ok:
        link = _link(code)
        return render_template("login_link.html", link=link, usable=False, granted=_granted(link),
                               now=time.time(), done=None), 410
    log.info("login link %s", "approved" if action == "approve" else "denied",
             extra={"user": principal.subject, "target": link.target, "protocol": link.protocol,
                    "client": link.client_addr})
    actions.audit(ctx(), f"login_link.{'approved' if action == 'approve' else 'denied'}", principal,
                  request.remote_addr, protocol=link.protocol, target=link.target, link_client=link.client_addr)
    return render_template("login_link.html", link=link, usable=False, granted=_granted(link), now=time.time(),
                           done=action)
