"""JSON API ``/api/v1`` (see docs/api.md): the portal's actions for scripts and tools.

Authenticated by ``Authorization: Bearer <bastion token>`` (then only by it) or by the
portal session cookie plus the ``X-CSRF-Token`` header on unsafe methods. Uploading an
SSH key needs a portal session: a key outlives any token, so a (possibly leaked)
short-lived token must not be able to mint a permanent credential.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from bastion.web import actions, connect
from bastion.web.auth import api_auth, ctx, current
from bastion.web.security import csrf_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")

JSONView = Response | tuple[Response, int]


def _error(exc: actions.ActionError) -> tuple[Response, int]:
    return jsonify(error=exc.message), exc.status


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else None
    if data is None:
        data = request.form.to_dict()
    if not isinstance(data, dict):
        raise actions.ActionError("the request body must be a JSON object")
    return data


@bp.get("/me")
@api_auth()
def me() -> JSONView:
    p = current()
    body: dict[str, Any] = {
        "subject": p.subject, "email": p.identity.email, "display_name": p.identity.display_name,
        "groups": sorted(p.identity.groups), "roles": sorted(p.roles), "auth": p.via, "expires_at": p.expires_at}
    if p.via == "token":
        body["token_id"] = p.token_id
    else:
        body["csrf_token"] = csrf_token()
    return jsonify(body)


@bp.get("/targets")
@api_auth()
def targets() -> JSONView:
    return jsonify(targets=[r.as_json() for r in connect.reachable(ctx(), current().identity.groups)])


@bp.get("/tokens")
@api_auth()
def list_tokens() -> JSONView:
    p = current()
    everyone = request.args.get("all") == "1"
    if everyone and not p.has("admin"):
        return jsonify(error="listing everyone's tokens needs the admin role"), 403
    infos = ctx().tokens.list(user=None if everyone else p.subject,
                              include_inactive=request.args.get("inactive") == "1")
    return jsonify(tokens=[actions.token_json(i) for i in infos])


@bp.post("/tokens")
@api_auth()
def issue_token() -> JSONView:
    try:
        body = _body()
        token, info = actions.issue_token(ctx(), current(), body.get("ttl"), body.get("reason"), request.remote_addr)
    except actions.ActionError as exc:
        return _error(exc)
    return jsonify(token=token, **actions.token_json(info)), 201


@bp.delete("/tokens/<token_id>")
@api_auth()
def revoke_token(token_id: str) -> JSONView:
    try:
        actions.revoke_token(ctx(), current(), token_id, request.remote_addr, any_user=True)
    except actions.ActionError as exc:
        return _error(exc)
    return jsonify(revoked=token_id)


@bp.get("/ssh-keys")
@api_auth()
def list_keys() -> JSONView:
    return jsonify(ssh_keys=[actions.key_json(k) for k in ctx().ssh_keys.list(current().subject)])


@bp.post("/ssh-keys")
@api_auth()
def add_key() -> JSONView:
    p = current()
    if p.via != "session":
        return jsonify(error="uploading an SSH key needs a portal session (a key outlives any token)"), 403
    try:
        key = actions.add_ssh_key(ctx(), p, _body().get("public_key"), request.remote_addr)
    except actions.ActionError as exc:
        return _error(exc)
    return jsonify(actions.key_json(key)), 201


@bp.delete("/ssh-keys/<path:fingerprint>")
@api_auth()
def remove_key(fingerprint: str) -> JSONView:
    try:
        actions.remove_ssh_key(ctx(), current(), fingerprint, request.remote_addr, any_user=True)
    except actions.ActionError as exc:
        return _error(exc)
    return jsonify(removed=fingerprint)


@bp.get("/users")
@api_auth("admin")
def users() -> JSONView:
    return jsonify(users=[{"subject": i.subject, "email": i.email, "display_name": i.display_name,
                           "groups": sorted(i.groups), "roles": sorted(roles), "last_login": i.authenticated_at}
                          for i, roles in ctx().users.all()])
