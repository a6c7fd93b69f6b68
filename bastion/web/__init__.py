"""The Flask web app: health, metrics, SAML login, portal, approvals, audit search."""

from __future__ import annotations

from typing import Any

from flask import Flask

from bastion.context import PluginContext


def create_app(ctx: PluginContext | None = None, config_path: str | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """App factory. ``ctx`` is shared with the protocol listeners when run by ``bastion
    serve``; ``wsgi.py`` builds its own from ``config_path`` (``BASTION_CONFIG``)."""
    if ctx is None:
        from bastion.runtime.bootstrap import build_context, load_checked

        if config_path is None:
            raise RuntimeError("create_app needs a context or a config path (set BASTION_CONFIG)")
        settings, _ = load_checked(config_path)
        ctx = build_context(settings)
    app = Flask(__name__)
    app.config.update(BASTION_CTX=ctx)
    if test_config:
        app.config.update(test_config)
    from bastion.web import health

    app.register_blueprint(health.bp)
    return app
