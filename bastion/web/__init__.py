"""The Flask web app: health, metrics, SAML sign-in, portal, login links, JSON API, audit dashboard.

``/healthz`` and ``/metrics`` stay unauthenticated (they reveal no secrets); everything
else needs a portal session (SAML) or, for ``/api/v1``, a bastion token. Session,
CSRF and header policy: :mod:`bastion.web.security`; SAML: :mod:`bastion.web.saml_sp` (the service
provider) and :mod:`bastion.web.saml_views` (its endpoints).
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from bastion.audit.segments import SIDE_PREFIX
from bastion.context import PluginContext
from bastion.runtime.worker import side_settings

SESSION_COOKIE = "bastion_session"
AUDITED_READS = frozenset({"audit.recording", "audit.export"})
"""GET endpoints whose use is itself recorded (refused while the audit trail is down)."""


def create_app(ctx: PluginContext | None = None, config_path: str | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """App factory. ``ctx`` is shared with the protocol listeners when run by ``bastion
    serve``; ``wsgi.py`` builds its own from ``config_path`` (``BASTION_CONFIG``)."""
    if ctx is None:
        from bastion.runtime.bootstrap import build_context, load_checked

        if config_path is None:
            raise RuntimeError("create_app needs a context or a config path (set BASTION_CONFIG)")
        settings, _ = load_checked(config_path)
        # A web process of its own (wsgi.py) must not append to the listeners' journal: two
        # writers would break its hash chain. It keeps a journal of its own beside it (which
        # `bastion serve` indexes and `bastion audit verify` checks); searches still read
        # the one index, so a relative sqlite path stays relative to the main journal.
        settings = side_settings(settings, f"{SIDE_PREFIX}{os.getpid()}")
        ctx = build_context(settings)
    else:
        _ensure_tls_certificate(ctx)
    from bastion.web import admin, api, approvals, audit, health, links, portal, saml_views, security
    from bastion.web.auth import session_principal
    from bastion.web.saml_sp import SAMLService

    cfg = ctx.settings.config
    secure = bool(cfg.saml and cfg.saml.base_url.startswith("https://"))
    lifetime = cfg.saml.session_lifetime if cfg.saml else 8 * 3600
    app = Flask(__name__)
    app.config.update(
        BASTION_CTX=ctx,
        SECRET_KEY=security.load_secret_key(cfg.secret_key_file),
        # SP and IdP may share a host (and so a cookie jar): our cookie has its own name;
        # on https the __Host- prefix also pins it to this host, path / and Secure.
        SESSION_COOKIE_NAME=f"__Host-{SESSION_COOKIE}" if secure else SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(seconds=lifetime),
        MAX_CONTENT_LENGTH=1024 * 1024,
        PREFERRED_URL_SCHEME="https" if secure else "http",
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["bastion.saml"] = SAMLService(cfg.saml, ctx.store) if cfg.saml else None
    security.init_app(app)

    @app.before_request
    def _audit_gate() -> None:
        # Fail closed like the listeners (bastion.context.AuditGate): a change the audit
        # trail cannot record (a token, a key, an approval, a sign-in) is refused.
        if ctx.audit_failure is not None and (request.method in security.UNSAFE_METHODS
                                              or request.endpoint in AUDITED_READS):
            abort(503, description="The audit trail cannot be written, so changes are refused until it is "
                                   "repaired. Reading still works, except what is itself recorded (replays, exports).")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"principal": session_principal(), "now": time.time()}

    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["duration"] = _duration
    app.register_error_handler(HTTPException, _http_error)
    for blueprint in (health.bp, saml_views.bp, portal.bp, admin.bp, links.bp, api.bp, approvals.bp, audit.bp):
        app.register_blueprint(blueprint)
    return app


def _ensure_tls_certificate(ctx: PluginContext) -> None:
    """The portal shows the fingerprint of the CA that signs the MySQL listener's certificate:
    create both now (the MySQL plugin would on its first connection). Only with the
    listeners' own context — same process, before they start — so nothing races on it."""
    from bastion.runtime.tls import listener_certificate

    cfg = ctx.settings.config
    mysql = cfg.listeners.get("mysql")
    if mysql is not None and mysql.enabled and not cfg.tls.cert_file:
        listener_certificate(cfg, ctx.settings.state_dir)


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def _http_error(exc: HTTPException) -> Response | tuple[Response | str, int]:
    code = exc.code or 500
    if request.path.startswith("/api/"):
        return jsonify(error=exc.description or exc.name), code
    if code == 401:
        message = "Please sign in first."
    else:
        message = exc.description or exc.name
    return render_template("error.html", code=code, title=exc.name, message=message), code
