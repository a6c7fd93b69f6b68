"""Readiness and metrics endpoints (no authentication: they reveal no secrets).

``/healthz`` is readiness (:mod:`bastion.runtime.readiness`): 200 while this node takes new
connections, 503 otherwise, with a JSON body naming each check and which failed, for a
load balancer's health check. Under ``bastion serve`` it reports the periodic check's
last result; a web process of its own (``wsgi.py``) checks on each request.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bastion.runtime.readiness import Readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    ctx = current_app.config["BASTION_CTX"]
    readiness = ctx.readiness
    if readiness is None:
        readiness = Readiness(ctx)
        readiness.check_now()
    return jsonify(readiness.report()), 200 if readiness.ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
