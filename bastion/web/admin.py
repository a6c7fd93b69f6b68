"""Admin pages (role ``admin``): every user as of their last sign-in, every active token
(revocable), every open MySQL and SSH session (endable), every registered SSH key
(removable)."""

from __future__ import annotations

import time

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from bastion.state.live import LiveSessions
from bastion.web import actions
from bastion.web.auth import ctx, current, role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

View = WerkzeugResponse | str | tuple[str, int]


@bp.get("/users")
@role_required("admin")
def users() -> View:
    return render_template("admin_users.html", users=ctx().users.all())


def _tokens_page(error: str = "", status: int = 200) -> tuple[str, int]:
    show_all = request.args.get("all") == "1"
    return render_template("admin_tokens.html", tokens=ctx().tokens.list(include_inactive=show_all),
                           show_all=show_all, error=error), status


@bp.get("/tokens")
@role_required("admin")
def tokens() -> View:
    return _tokens_page()


@bp.post("/tokens/<token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: str) -> View:
    try:
        actions.revoke_token(ctx(), current(), token_id, request.remote_addr, any_user=True)
    except actions.ActionError as exc:
        return _tokens_page(error=exc.message, status=exc.status)
    return redirect(url_for("admin.tokens"), code=303)


def _sessions_page(error: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("admin_sessions.html", sessions=LiveSessions(ctx().store).list(), error=error), status


@bp.get("/sessions")
@role_required("admin")
def sessions() -> View:
    return _sessions_page()


@bp.post("/sessions/<session_id>/end")
@role_required("admin")
def end_session(session_id: str) -> View:
    try:
        actions.end_session(ctx(), current(), session_id, request.form.get("reason"), request.remote_addr)
    except actions.ActionError as exc:
        return _sessions_page(error=exc.message, status=exc.status)
    return redirect(url_for("admin.sessions"), code=303)


@bp.get("/credentials")
@role_required("admin")
def credentials() -> View:
    """Every vaulted credential (never its value) and its age: rotation is due for old ones."""
    now = time.time()
    rows = [{"target": t, "account": a, "kind": k, "key_id": key, "updated_at": at, "age_days": (now - at) / 86400}
            for t, a, k, key, at in ctx().vault.entries()]
    return render_template("admin_credentials.html", credentials=rows)


@bp.get("/keys")
@role_required("admin")
def keys() -> View:
    return render_template("admin_keys.html", keys=ctx().ssh_keys.list(), error="")


@bp.post("/keys/remove")
@role_required("admin")
def remove_key() -> View:
    try:
        actions.remove_ssh_key(ctx(), current(), request.form.get("fingerprint", ""), request.remote_addr,
                               any_user=True)
    except actions.ActionError as exc:
        return render_template("admin_keys.html", keys=ctx().ssh_keys.list(), error=exc.message), exc.status
    return redirect(url_for("admin.keys"), code=303)
