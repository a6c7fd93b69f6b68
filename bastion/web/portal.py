"""Portal pages for signed-in users: reachable targets with connection commands, tokens
(issued here, shown once), SSH public keys, and the bastion's own fingerprints.

A new token is rendered in the answer to the POST that issued it — never put in the
session cookie or a flash message (the cookie is signed, not encrypted), never logged.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from bastion.web import actions, connect
from bastion.web.auth import ctx, current, login_required, session_principal

bp = Blueprint("portal", __name__)

View = WerkzeugResponse | str | tuple[str, int]


@bp.get("/")
def home() -> View:
    principal = session_principal()
    if principal is None:
        return render_template("welcome.html", saml=ctx().settings.config.saml is not None)
    c = ctx()
    cfg = c.settings.config
    return render_template("home.html", targets=connect.reachable(c, principal.identity.groups),
                           host_keys=connect.host_key_fingerprints(Path(cfg.state_dir)),
                           tls_fingerprint=connect.tls_fingerprint(cfg), host=connect.public_host(cfg))


@bp.get("/tls/ca.crt")
@login_required
def certificate() -> View:
    """The certificate clients verify the bastion's TLS with: the private CA that signs the
    listeners' certificate (``state_dir/tls/ca.crt``), or the configured ``tls.cert_file``."""
    path = connect.tls_certificate(ctx().settings.config)
    if not path.exists():
        abort(404)
    name = "ca.crt" if path.name == "ca.crt" else "bastion.crt"
    return send_file(path, mimetype="application/x-pem-file", as_attachment=True, download_name=name)


def _tokens_page(new_token: str | None = None, new_info: object = None, error: str = "",
                 status: int = 200, form: dict[str, str] | None = None) -> tuple[str, int]:
    c = ctx()
    return render_template("tokens.html", tokens=c.tokens.list(user=current().subject),
                           ttl_choices=actions.ttl_choices(c), default_ttl=c.settings.config.tokens.default_ttl,
                           require_reason=c.settings.config.tokens.require_reason, new_token=new_token,
                           new_info=new_info, error=error, form=form or {}), status


@bp.get("/tokens")
@login_required
def tokens() -> View:
    return _tokens_page()


@bp.post("/tokens")
@login_required
def issue_token() -> View:
    form = {"ttl": request.form.get("ttl", ""), "reason": request.form.get("reason", "")}
    try:
        token, info = actions.issue_token(ctx(), current(), form["ttl"], form["reason"], request.remote_addr)
    except actions.ActionError as exc:
        return _tokens_page(error=exc.message, status=exc.status, form=form)
    return _tokens_page(new_token=token, new_info=info)


@bp.post("/tokens/<token_id>/revoke")
@login_required
def revoke_token(token_id: str) -> View:
    try:
        actions.revoke_token(ctx(), current(), token_id, request.remote_addr)
    except actions.ActionError as exc:
        return _tokens_page(error=exc.message, status=exc.status)
    return redirect(url_for("portal.tokens"), code=303)


def _keys_page(error: str = "", status: int = 200, added: object = None, line: str = "") -> tuple[str, int]:
    return render_template("keys.html", keys=ctx().ssh_keys.list(current().subject), error=error, added=added,
                           line=line), status


@bp.get("/keys")
@login_required
def keys() -> View:
    return _keys_page()


@bp.post("/keys")
@login_required
def add_key() -> View:
    line = request.form.get("public_key", "")
    try:
        key = actions.add_ssh_key(ctx(), current(), line, request.remote_addr)
    except actions.ActionError as exc:
        return _keys_page(error=exc.message, status=exc.status, line=line)
    return _keys_page(added=key)


@bp.post("/keys/remove")
@login_required
def remove_key() -> View:
    try:
        actions.remove_ssh_key(ctx(), current(), request.form.get("fingerprint", ""), request.remote_addr)
    except actions.ActionError as exc:
        return _keys_page(error=exc.message, status=exc.status)
    return redirect(url_for("portal.keys"), code=303)
