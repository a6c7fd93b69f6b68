"""Audit search pages (roles ``auditor`` and ``admin``): search, session timeline, live
sessions, CSV/JSON export. Read-only: every view is a GET.

Self-contained blueprint over :class:`bastion.audit.search.AuditSearch`; register it with
``app.register_blueprint(bastion.web.audit.bp)``. Until the app applies its own role checks,
:func:`_guard` lets only signed-in auditors and admins in (anyone else: 401/403).
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from bastion.audit.query import Search
from bastion.audit.search import AuditSearch, iso
from bastion.web.auth import ctx, session_principal

bp = Blueprint("audit", __name__, url_prefix="/audit")
ROLES = ("auditor", "admin")
FILTERS = ("user", "target", "protocol", "verdict", "rule", "type", "session")
PAGE_SIZE = 50


@bp.app_template_global("audit_time")
def audit_time(seconds: float) -> str:
    return iso(seconds).replace("T", " ")


@bp.before_request
def _guard() -> None:
    principal = session_principal()
    if principal is None:
        abort(401)
    if not any(principal.has(role) for role in ROLES):
        abort(403, description="The audit pages need the auditor or admin role.")


def searcher() -> AuditSearch:
    """The process's AuditSearch (built on first use; 503 when ``audit.index.backend: none``)."""
    services = ctx().services
    found = services.get("audit_search")
    if found is None:
        found = AuditSearch.from_config(ctx().settings.config.audit)
        if found is None:
            abort(503, description="No audit index is configured (audit.index.backend: none).")
        services["audit_search"] = found
    return found


def _when(value: str) -> float | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (UTC) -> epoch seconds."""
    value = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(value, fmt)))
        except ValueError:
            continue
    return None


def search_from_args(args: Any, size: int = PAGE_SIZE) -> Search:
    """A :class:`Search` from query-string arguments (``q``, filters, ``since``, ``until``, ``after``)."""
    values: dict[str, Any] = {f: tuple(v for v in args.getlist(f) if v) for f in FILTERS}
    values["order"] = "oldest" if args.get("order") == "oldest" else "newest"
    try:
        return Search(text=args.get("q", "")[:500], since=_when(args.get("since", "")),
                      until=_when(args.get("until", "")), size=size, after=args.get("after") or None, **values)
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/")
def index() -> str:
    q = search_from_args(request.args)
    try:
        page = searcher().search(q)
    except ValueError as exc:  # a bad cursor
        abort(400, description=str(exc))
    return render_template("audit/search.html", page=page, q=q, args=request.args, filters=FILTERS)


@bp.get("/sessions/<session_id>")
def session_page(session_id: str) -> str:
    timeline = searcher().session_timeline(session_id, include_output=request.args.get("output") == "1")
    if not timeline:
        abort(404, description="No events of this session are indexed (yet).")
    return render_template("audit/session.html", session_id=session_id, timeline=timeline)


@bp.get("/live")
def live() -> str:
    return render_template("audit/live.html", sessions=searcher().live_sessions())


@bp.get("/export.<fmt>")
def export(fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        abort(404)
    q = search_from_args(request.args, size=1000)
    gen = searcher().export_csv(q) if fmt == "csv" else searcher().export_json(q)
    mime = "text/csv" if fmt == "csv" else "application/x-ndjson"
    name = f"bastion-audit-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.{'csv' if fmt == 'csv' else 'jsonl'}"
    return Response(stream_with_context(gen), mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
