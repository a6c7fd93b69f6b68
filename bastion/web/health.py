"""Liveness and metrics endpoints (no authentication: they reveal no secrets)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    ctx = current_app.config["BASTION_CTX"]
    try:
        with ctx.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
        return jsonify(status="error", state_store=str(exc.__class__.__name__)), 503
    return jsonify(status="ok", state_store="ok"), 200


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
